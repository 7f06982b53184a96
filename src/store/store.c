/*
 * store.c: the vigil_store interface. Chooses a backend from the URI,
 * checks every backend-independent rule before a backend sees the call, and
 * owns the formats that must not depend on the backend (names of stored
 * enums, the Martha's Rule CSV; password hashes are password.c's).
 *
 * Does not: run SQL (backends do), decide escalation policy, authorise.
 * Invariant: a backend op is called only with arguments that passed the
 * checks here, so backends need no second copy of the clinical rules.
 * Spec: ../shared/spec/escalation.md; RCP NEWS2 (2017) for Scale 2;
 * NHS Data Dictionary for the NHS number; NHS England Martha's Rule (2024).
 */
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_int.h"
#include "wardlist_int.h"
#include "vigil/assemble.h"
#include "vigil/util.h"
#include "vigil/vitals.h"

/* ---- names --------------------------------------------------------------- */

const char *const vigil__store_level_names[VIGIL_RESP_COUNT] = {
    [VIGIL_RESP_ROUTINE] = "none",
    [VIGIL_RESP_NURSE_ASSESS] = "ward",
    [VIGIL_RESP_URGENT_WARD] = "urgent-ward",
    [VIGIL_RESP_URGENT] = "urgent",
    [VIGIL_RESP_EMERGENCY] = "emergency",
};
const char *const vigil__store_trigger_names[VIGIL_STORE_TRIGGER_COUNT] = {
    "news2", "ai", "staff-concern", "marthas-rule"};
const char *const vigil__store_ack_names[VIGIL_STORE_ACK_COUNT] = {"attending", "reviewed",
                                                                   "escalated", "declined"};
const char *const vigil__store_caller_names[VIGIL_STORE_CALLER_COUNT] = {"patient", "family",
                                                                         "carer", "staff"};
const char *const vigil__store_mr_category_names[VIGIL_STORE_MR_CATEGORY_COUNT] = {
    "acute-deterioration", "communication-coordination"};
const char *const vigil__store_mr_outcome_names[VIGIL_STORE_MR_OUTCOME_COUNT] = {
    "change-in-care", "transfer-higher-level", "no-change"};
const char *const vigil__store_feeling_names[VIGIL_STORE_FEEL_COUNT] = {"better", "same", "worse"};
const char *const vigil__store_role_names[VIGIL_STORE_ROLE_COUNT] = {"nurse", "doctor", "outreach",
                                                                     "safety-officer", "admin"};
const char *const vigil__store_source_names[VIGIL_SRC_COUNT] = {"unknown", "hl7", "fhir", "api",
                                                                "replay"};
const char *const vigil__store_risk_names[VIGIL_RISK_COUNT] = {"low", "low-medium", "medium",
                                                               "high"};
const char *const vigil__store_monitoring_names[VIGIL_MON_COUNT] = {"12-hourly", "4-6-hourly",
                                                                    "hourly", "continuous"};
const char *const vigil__store_response_names[VIGIL_RESP_COUNT] = {
    "routine", "nurse-assess", "urgent-ward", "urgent", "emergency"};

int vigil__store_lookup(const char *const *names, int n, const char *text)
{
    if (text == NULL) {
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i], text) == 0) {
            return i;
        }
    }
    return -1;
}

static const char *name_of(const char *const *names, int n, int v)
{
    return (v >= 0 && v < n) ? names[v] : "?";
}

const char *vigil_store_level_name(vigil_news2_response level)
{
    return name_of(vigil__store_level_names, VIGIL_RESP_COUNT, (int)level);
}
const char *vigil_store_trigger_name(vigil_store_trigger t)
{
    return name_of(vigil__store_trigger_names, VIGIL_STORE_TRIGGER_COUNT, (int)t);
}
const char *vigil_store_ack_action_name(vigil_store_ack_action a)
{
    return name_of(vigil__store_ack_names, VIGIL_STORE_ACK_COUNT, (int)a);
}
const char *vigil_store_caller_name(vigil_store_caller c)
{
    return name_of(vigil__store_caller_names, VIGIL_STORE_CALLER_COUNT, (int)c);
}
const char *vigil_store_marthas_category_name(vigil_store_marthas_category c)
{
    return name_of(vigil__store_mr_category_names, VIGIL_STORE_MR_CATEGORY_COUNT, (int)c);
}
const char *vigil_store_marthas_outcome_name(vigil_store_marthas_outcome o)
{
    return name_of(vigil__store_mr_outcome_names, VIGIL_STORE_MR_OUTCOME_COUNT, (int)o);
}
const char *vigil_store_feeling_name(vigil_store_feeling f)
{
    return name_of(vigil__store_feeling_names, VIGIL_STORE_FEEL_COUNT, (int)f);
}
const char *vigil_store_role_name(vigil_store_role r)
{
    return name_of(vigil__store_role_names, VIGIL_STORE_ROLE_COUNT, (int)r);
}

/* ---- small helpers ------------------------------------------------------- */

int64_t vigil__store_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void vigil__store_iso8601(int64_t t_ms, char out[32])
{
    time_t s = (time_t)(t_ms >= 0 ? t_ms / 1000 : (t_ms - 999) / 1000);
    struct tm tm;
    if (gmtime_r(&s, &tm) == NULL) {
        snprintf(out, 32, "?");
        return;
    }
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

vigil_status vigil__store_copy(char *dst, size_t cap, const char *src, const char *field,
                               vigil_err *err)
{
    if (src == NULL) {
        src = "";
    }
    size_t n = strlen(src);
    if (n >= cap) {
        return vigil_err_set(err, VIGIL_ERR_ARG, field, "%s is longer than %zu bytes", field,
                             cap - 1);
    }
    memcpy(dst, src, n + 1);
    return VIGIL_OK;
}

/* Latest plausible time: 1 Jan 3000. Earlier than 1970 is refused too. */
#define T_MAX_MS INT64_C(32503680000000)

static vigil_status check_time(int64_t t_ms, const char *field, vigil_err *err)
{
    if (t_ms <= 0 || t_ms >= T_MAX_MS) {
        return vigil_err_set(err, VIGIL_ERR_ARG, field,
                             "%s %lld ms is not a time between 1970 and 3000", field,
                             (long long)t_ms);
    }
    return VIGIL_OK;
}

static vigil_status check_id(int64_t id, const char *field, vigil_err *err)
{
    if (id <= 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, field, "%s %lld is not a stored id", field,
                             (long long)id);
    }
    return VIGIL_OK;
}

/* Text checks: required means non-blank; max is in bytes. */
static vigil_status check_text(const char *s, const char *field, size_t max, bool required,
                               vigil_err *err)
{
    if (s == NULL || vigil_str_blank(s)) {
        if (required) {
            return vigil_err_set(err, VIGIL_ERR_ARG, field, "%s is required", field);
        }
        return VIGIL_OK;
    }
    if (strlen(s) > max) {
        return vigil_err_set(err, VIGIL_ERR_ARG, field, "%s is longer than %zu bytes", field, max);
    }
    return VIGIL_OK;
}

/* A fixed buffer field from a caller struct must be NUL-terminated in it. */
static vigil_status check_buf(const char *buf, size_t cap, const char *field, vigil_err *err)
{
    if (memchr(buf, '\0', cap) == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, field, "%s is not terminated", field);
    }
    return VIGIL_OK;
}

static vigil_status check_actor(const vigil_actor *who, vigil_err *err)
{
    if (who == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "actor", "no actor given: every call says who");
    }
    vigil_status s = check_text(who->user, "actor.user", VIGIL_ID_MAX - 1, true, err);
    if (s == VIGIL_OK) {
        s = check_text(who->reason, "actor.reason", VIGIL_AUDIT_TEXT_MAX - 1, true, err);
    }
    return s;
}

vigil_status vigil__store_check_actor(const vigil_actor *who, vigil_err *err)
{
    return check_actor(who, err);
}

static vigil_status check_store(const vigil_store *st, vigil_err *err)
{
    if (st == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "store", "no store given");
    }
    return VIGIL_OK;
}

static vigil_status check_level(vigil_news2_response level, vigil_err *err)
{
    if (level <= VIGIL_RESP_ROUTINE || level >= VIGIL_RESP_COUNT) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "level",
                             "escalation level %d is not ward..emergency", (int)level);
    }
    return VIGIL_OK;
}

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        vigil_status check_st_ = (expr);                                                           \
        if (check_st_ != VIGIL_OK) {                                                               \
            return check_st_;                                                                      \
        }                                                                                          \
    } while (0)

/* ---- open / close -------------------------------------------------------- */

vigil_status vigil_store_open(const char *uri, unsigned flags, vigil_store **out, vigil_err *err)
{
    if (uri == NULL || uri[0] == '\0' || out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "uri", "no store URI given");
    }
    if ((flags & ~(unsigned)(VIGIL_STORE_READONLY | VIGIL_STORE_NO_ROW_CACHE)) != 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "flags", "unknown open flags 0x%x", flags);
    }
    const vigil__store_ops *ops = NULL;
    const char *target = uri;
    vigil_status fs = vigil__store_backend_find(uri, &ops, &target, err);
    if (fs != VIGIL_OK) {
        return fs;
    }
    if (target[0] == '\0') {
        return vigil_err_set(err, VIGIL_ERR_ARG, "uri", "store URI '%s' names no file", uri);
    }
    if (sodium_init() < 0) {
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, NULL, "libsodium failed to initialise");
    }
    vigil_store *st = calloc(1, sizeof *st);
    if (st == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory opening store");
    }
    st->ops = ops;
    st->flags = flags;
    vigil_status s = ops->open(target, flags & (unsigned)VIGIL_STORE_READONLY, &st->be, err);
    if (s != VIGIL_OK) {
        free(st);
        return s;
    }
    *out = st;
    return VIGIL_OK;
}

void vigil_store_close(vigil_store *st)
{
    if (st == NULL) {
        return;
    }
    st->ops->close(st->be);
    vigil__wl_free(st);
    free(st);
}

vigil_status vigil_store_batch_begin(vigil_store *st, vigil_err *err)
{
    CHECK(check_store(st, err));
    vigil_status s = st->ops->batch_begin(st->be, err);
    st->in_batch = s == VIGIL_OK; /* the ward list reads around its cache until the end */
    return s;
}

vigil_status vigil_store_batch_commit(vigil_store *st, vigil_err *err)
{
    CHECK(check_store(st, err));
    vigil_status s = st->ops->batch_commit(st->be, err);
    st->in_batch = false;
    return s == VIGIL_OK ? s : vigil__wl_wrote(st, 0, s); /* a failed batch wrote nothing */
}

void vigil_store_batch_rollback(vigil_store *st)
{
    if (st != NULL) {
        st->ops->batch_rollback(st->be);
        st->in_batch = false;
        (void)vigil__wl_wrote(st, 0, VIGIL_OK); /* rows read inside the batch are gone */
    }
}

vigil_status vigil_store_sync(vigil_store *st, vigil_err *err)
{
    CHECK(check_store(st, err));
    return st->ops->sync(st->be, err);
}

const char *vigil_store_backend_name(const vigil_store *st)
{
    return st != NULL ? st->ops->name : "";
}

/* ---- patients ------------------------------------------------------------ */

static vigil_status check_nhs(const char *nhs, vigil_err *err)
{
    if (nhs == NULL || nhs[0] == '\0') {
        return VIGIL_OK;
    }
    char canon[VIGIL_NHS_NUMBER_LEN + 1];
    /* REQ NHS-NUMBER-CHECK */
    CHECK(vigil_nhs_number_parse(nhs, canon, err));
    if (strcmp(canon, nhs) != 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "nhs_number",
                             "NHS number '%.16s' must be given as 10 digits", nhs);
    }
    return VIGIL_OK;
}

static vigil_status check_patient(const vigil_patient *p, vigil_err *err)
{
    if (p == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "patient", "no patient given");
    }
    CHECK(check_buf(p->nhs_number, sizeof p->nhs_number, "nhs_number", err));
    CHECK(check_buf(p->mrn, sizeof p->mrn, "mrn", err));
    CHECK(check_buf(p->name, sizeof p->name, "name", err));
    CHECK(check_buf(p->birth_date, sizeof p->birth_date, "birth_date", err));
    CHECK(check_nhs(p->nhs_number, err));
    if ((unsigned)p->sex >= VIGIL_ADMIN_SEX_COUNT) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "sex", "sex %d is not a vigil_admin_sex", (int)p->sex);
    }
    if (p->nhs_number[0] == '\0' && vigil_str_blank(p->mrn)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "patient",
                             "a patient needs an NHS number or a hospital number (MRN)");
    }
    if (p->birth_date[0] != '\0') {
        int y = 0, m = 0, d = 0;
        char extra = 0;
        if (strlen(p->birth_date) != 10 ||
            sscanf(p->birth_date, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || m < 1 || m > 12 ||
            d < 1 || d > 31 || y < 1850) {
            return vigil_err_set(err, VIGIL_ERR_ARG, "birth_date",
                                 "birth date '%s' is not YYYY-MM-DD", p->birth_date);
        }
    }
    return VIGIL_OK;
}

vigil_status vigil_store_patient_ensure(vigil_store *st, const vigil_actor *who,
                                        const vigil_patient *p, int64_t *out_id, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_patient(p, err));
    if (out_id == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out_id", "no output given");
    }
    vigil_status s = st->ops->patient_ensure(st->be, who, p, out_id, err);
    return vigil__wl_wrote(st, s == VIGIL_OK ? *out_id : 0, s);
}

vigil_status vigil_store_patient_get(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                                     vigil_patient *out, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_id(patient_id, "patient_id", err));
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "no output given");
    }
    return st->ops->patient_get(st->be, who, patient_id, out, err);
}

vigil_status vigil_store_patient_find(vigil_store *st, const vigil_actor *who, const char *nhs,
                                      const char *mrn, vigil_patient *out, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    bool has_nhs = nhs != NULL && nhs[0] != '\0';
    if (has_nhs) {
        CHECK(check_nhs(nhs, err));
    } else {
        CHECK(check_text(mrn, "mrn", VIGIL_ID_MAX - 1, true, err));
    }
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "no output given");
    }
    return st->ops->patient_find(st->be, who, has_nhs ? nhs : NULL, has_nhs ? NULL : mrn, out, err);
}

vigil_status vigil_store_admit(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                               const char *ward, const char *bed, int64_t t_ms,
                               int64_t *out_admission_id, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_id(patient_id, "patient_id", err));
    CHECK(check_text(ward, "ward", VIGIL_STORE_NAME_MAX, true, err));
    CHECK(check_text(bed, "bed", VIGIL_STORE_NAME_MAX, false, err));
    CHECK(check_time(t_ms, "t_ms", err));
    if (out_admission_id == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out_admission_id", "no output given");
    }
    return vigil__wl_wrote(st, patient_id, st->ops->admit(st->be, who, patient_id, ward, bed != NULL ? bed : "", t_ms,
                          out_admission_id, err));
}

vigil_status vigil_store_move(vigil_store *st, const vigil_actor *who, int64_t admission_id,
                              const char *ward, const char *bed, int64_t t_ms, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_id(admission_id, "admission_id", err));
    CHECK(check_text(ward, "ward", VIGIL_STORE_NAME_MAX, true, err));
    CHECK(check_text(bed, "bed", VIGIL_STORE_NAME_MAX, false, err));
    CHECK(check_time(t_ms, "t_ms", err));
    return vigil__wl_wrote(st, 0, st->ops->move(st->be, who, admission_id, ward, bed != NULL ? bed : "", t_ms, err));
}

vigil_status vigil_store_discharge(vigil_store *st, const vigil_actor *who, int64_t admission_id,
                                   int64_t t_ms, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_id(admission_id, "admission_id", err));
    CHECK(check_time(t_ms, "t_ms", err));
    return vigil__wl_wrote(st, 0, st->ops->discharge(st->be, who, admission_id, t_ms, err));
}

/* ---- observations -------------------------------------------------------- */

#define EXPLANATION_MAX (64 * 1024)

/* The stored NEWS2 must be the one the observations give: the store never
 * holds a total that disagrees with its own inputs. */
static vigil_status check_news2_matches(const vigil_obs *obs, const vigil_news2 *given,
                                        vigil_err *err)
{
    vigil_news2 want;
    CHECK(vigil_news2_score(obs, &want, err));
    bool same = want.total == given->total && want.complete == given->complete &&
                want.missing == given->missing && want.single_param_3 == given->single_param_3 &&
                want.risk == given->risk && want.monitoring == given->monitoring &&
                want.response == given->response && want.flags == given->flags &&
                want.spo2_scale == given->spo2_scale;
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT && same; p++) {
        same = want.sub[p] == given->sub[p];
    }
    if (!same) {
        return vigil_err_set(err, VIGIL_ERR_MISMATCH, "news2",
                             "NEWS2 given (total %d) is not what the observations score "
                             "(total %d)",
                             given->total, want.total);
    }
    return VIGIL_OK;
}

static vigil_status check_ai(const vigil_store_ai *ai, vigil_err *err)
{
    if (!isfinite(ai->risk)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "ai.risk", "AI risk is not a finite number");
    }
    if (!(ai->prob >= 0.0 && ai->prob <= 1.0)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "ai.prob",
                             "AI probability %g is not between 0 and 1", ai->prob);
    }
    CHECK(check_text(ai->model_version, "ai.model_version", VIGIL_ID_MAX - 1, true, err));
    if (ai->explanation_json != NULL) {
        if (strlen(ai->explanation_json) > EXPLANATION_MAX) {
            return vigil_err_set(err, VIGIL_ERR_ARG, "ai.explanation_json",
                                 "explanation is longer than %d bytes", EXPLANATION_MAX);
        }
        /* without JSON_DECODE_ANY jansson accepts only an object or array */
        json_error_t je;
        json_t *j = json_loads(ai->explanation_json, JSON_REJECT_DUPLICATES, &je);
        if (j == NULL) {
            return vigil_err_set(err, VIGIL_ERR_PARSE, "ai.explanation_json",
                                 "explanation is not a JSON object or array: %s (column %d)",
                                 je.text, je.column);
        }
        json_decref(j);
    }
    return VIGIL_OK;
}

/* REQ OBS-ASSEMBLE-WINDOW: an assembled set keeps every value the set
 * carried, as it was, and the patient's own SpO2 scale, age and pregnancy. */
static vigil_status check_assembled(const vigil_obs *obs, const vigil_obs *whole, vigil_err *err)
{
    unsigned c = vigil_obs_carried(obs);
    bool ok = (vigil_obs_carried(whole) & c) == c && whole->spo2_scale == obs->spo2_scale &&
              whole->pregnant == obs->pregnant &&
              ((isnan(whole->age_y) && isnan(obs->age_y)) || whole->age_y == obs->age_y);
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT && ok; p++) { /* the vital-sign table */
        ok = !(c & (1u << p)) || vigil_vital_equal(whole, obs, (vigil_news2_param)p);
    }
    if (!ok) {
        return vigil_err_set(err, VIGIL_ERR_MISMATCH, "score.assembled",
                             "the assembled set changes a value the set carries");
    }
    return VIGIL_OK;
}

static vigil_status check_score(const vigil_obs *obs, const vigil_store_score *score,
                                vigil_err *err)
{
    CHECK(check_time(score->t_ms, "score.t_ms", err));
    if (score->assembled != NULL) {
        CHECK(check_assembled(obs, score->assembled, err));
    }
    CHECK(
        check_news2_matches(score->assembled != NULL ? score->assembled : obs, &score->news2, err));
    if (score->ai != NULL) {
        CHECK(check_ai(score->ai, err));
    }
    return VIGIL_OK;
}

static vigil_status check_event(const vigil_obs_event *ev, const vigil_store_score *score,
                                vigil_err *err)
{
    if (ev == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "event", "no observation event given");
    }
    CHECK(check_buf(ev->nhs_number, sizeof ev->nhs_number, "nhs_number", err));
    CHECK(check_buf(ev->mrn, sizeof ev->mrn, "mrn", err));
    CHECK(check_buf(ev->source_id, sizeof ev->source_id, "source_id", err));
    CHECK(check_buf(ev->sender, sizeof ev->sender, "sender", err));
    CHECK(check_buf(ev->recorded_by, sizeof ev->recorded_by, "recorded_by", err));
    CHECK(check_nhs(ev->nhs_number, err));
    if (ev->nhs_number[0] == '\0' && vigil_str_blank(ev->mrn)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "patient",
                             "observation names no patient (no NHS number, no MRN)");
    }
    CHECK(check_time(ev->t_ms, "t_ms", err));
    if ((unsigned)ev->source >= VIGIL_SRC_COUNT) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "source", "unknown source %d", (int)ev->source);
    }
    if ((unsigned)ev->sex >= VIGIL_ADMIN_SEX_COUNT) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "sex", "sex %d is not a vigil_admin_sex", (int)ev->sex);
    }
    CHECK(vigil_news2_validate(&ev->obs, err));
    if (score != NULL) {
        CHECK(check_score(&ev->obs, score, err));
    }
    return VIGIL_OK;
}

static void put_refuse(vigil_store_put *o, vigil_status s, const vigil_err *e)
{
    memset(o, 0, sizeof *o);
    o->status = s;
    snprintf(o->msg, sizeof o->msg, "%s", e->msg);
}

/* A unit is stored all or none: an item refused here refuses the rest of
 * its unit (adjacent items with the same non-zero unit). */
static void refuse_units(const vigil_store_obs_item *items, size_t n, vigil_store_put *out)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i + 1;
        while (items[i].unit != 0 && j < n && items[j].unit == items[i].unit) {
            j++;
        }
        size_t bad = j;
        for (size_t k = i; k < j && bad == j; k++) {
            bad = out[k].status != VIGIL_OK ? k : j;
        }
        for (size_t k = i; bad < j && k < j; k++) {
            if (k != bad) {
                vigil_err e = {0};
                vigil_err_set(&e, out[bad].status, NULL,
                              "not stored: item %zu of its unit was refused", bad - i + 1);
                put_refuse(&out[k], out[bad].status, &e);
            }
        }
        i = j;
    }
}

vigil_status vigil_store_put_obs_batch(vigil_store *st, const vigil_actor *who,
                                       const vigil_store_obs_item *items, size_t n,
                                       vigil_store_put *out, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    if (n > 0 && (items == NULL || out == NULL)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "items", "no items or results given");
    }
    for (size_t i = 0; i < n; i++) {
        vigil_err e = {0};
        vigil_status s = check_event(items[i].ev, items[i].score, &e);
        if (s != VIGIL_OK) {
            put_refuse(&out[i], s, &e);
        } else {
            memset(&out[i], 0, sizeof out[i]);
        }
    }
    refuse_units(items, n, out);
    vigil_status s = st->ops->put_obs_batch(st->be, who, items, n, out, err);
    vigil__wl_wrote_obs(st, out, n, s);
    return s;
}

vigil_status vigil_store_put_obs(vigil_store *st, const vigil_actor *who, const vigil_obs_event *ev,
                                 const vigil_store_score *score, vigil_store_put *out,
                                 vigil_err *err)
{
    vigil_store_put local;
    vigil_store_put *o = out != NULL ? out : &local;
    vigil_store_obs_item item = {ev, score, 0};
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    vigil_err e = {0};
    vigil_status s = check_event(ev, score, &e);
    if (s != VIGIL_OK) {
        put_refuse(o, s, &e);
        if (err != NULL) {
            *err = e;
        }
        return s;
    }
    memset(o, 0, sizeof *o);
    s = st->ops->put_obs_batch(st->be, who, &item, 1, o, err);
    vigil__wl_wrote_obs(st, o, 1, s);
    CHECK(s);
    if (o->status != VIGIL_OK) {
        return vigil_err_set(err, o->status, NULL, "%s", o->msg);
    }
    return VIGIL_OK;
}

vigil_status vigil_store_put_score(vigil_store *st, const vigil_actor *who, int64_t obs_id,
                                   const vigil_store_score *score, int64_t *out_score_id,
                                   vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_id(obs_id, "obs_id", err));
    if (score == NULL || out_score_id == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "score", "no score or output given");
    }
    CHECK(check_time(score->t_ms, "score.t_ms", err));
    if (score->ai != NULL) {
        CHECK(check_ai(score->ai, err));
    }
    /* the NEWS2 match is checked by the backend against the stored set */
    return vigil__wl_wrote(st, 0, st->ops->put_score(st->be, who, obs_id, score, out_score_id, err));
}

vigil_status vigil_store_put_ai_batch(vigil_store *st, const vigil_actor *who,
                                      const vigil_store_ai_item *items, size_t n,
                                      vigil_status *status, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    if (n > 0 && (items == NULL || status == NULL)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "items", "no items or results given");
    }
    for (size_t i = 0; i < n; i++) {
        vigil_err e = {0};
        status[i] = check_id(items[i].score_id, "score_id", &e);
        if (status[i] == VIGIL_OK) {
            status[i] = check_ai(&items[i].ai, &e);
        }
    }
    vigil_status s = st->ops->put_ai_batch(st->be, who, items, n, status, err);
    vigil__wl_wrote_ai(st, items, n, s);
    return s;
}

vigil_status vigil_store_put_shadow(vigil_store *st, const vigil_actor *who, int64_t score_id,
                                    const vigil_store_ai *ai, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_id(score_id, "score_id", err));
    if (ai == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "ai", "no score given");
    }
    CHECK(check_ai(ai, err));
    return st->ops->put_shadow(st->be, who, score_id, ai, err);
}

vigil_status vigil__store_check_score(const vigil_obs *obs, const vigil_store_score *score,
                                      vigil_err *err)
{
    return check_score(obs, score, err);
}

vigil_status vigil_store_obs_range(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                                   int64_t from_ms, int64_t to_ms, size_t max_rows,
                                   vigil_store_obs_list *out, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_id(patient_id, "patient_id", err));
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "no output given");
    }
    memset(out, 0, sizeof *out); /* empty, so _fini is safe whatever happens */
    if (from_ms > to_ms || max_rows == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "range",
                             "empty range (from after to, or max_rows 0)");
    }
    return st->ops->obs_range(st->be, who, patient_id, from_ms, to_ms, max_rows, out, err);
}

vigil_status vigil_store_obs_recent(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                                    int64_t from_ms, int64_t to_ms, size_t max,
                                    vigil_store_vitals *out, size_t *n, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_id(patient_id, "patient_id", err));
    if (out == NULL || n == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "no output given");
    }
    *n = 0;
    if (from_ms > to_ms || max == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "range", "empty range (from after to, or max 0)");
    }
    return st->ops->obs_recent(st->be, who, patient_id, from_ms, to_ms, max, out, n, err);
}

void vigil_store_obs_list_fini(vigil_store_obs_list *l)
{
    if (l == NULL) {
        return;
    }
    for (size_t i = 0; i < l->n; i++) {
        free(l->rows[i].explanation_json);
    }
    free(l->rows);
    memset(l, 0, sizeof *l);
}

/* ---- escalation ---------------------------------------------------------- */

vigil_status vigil_store_episode_open(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                                      vigil_news2_response level, vigil_store_trigger trigger,
                                      int64_t trigger_ref, int64_t supersedes_id, int64_t t_ms,
                                      int64_t *out_episode_id, int64_t *out_alert_id,
                                      vigil_err *err)
{
    return vigil_store_episode_open_paged(st, who, patient_id, level, trigger, trigger_ref,
                                          supersedes_id, t_ms, NULL, 0, out_episode_id,
                                          out_alert_id, err);
}

vigil_status vigil_store_episode_open_paged(vigil_store *st, const vigil_actor *who,
                                            int64_t patient_id, vigil_news2_response level,
                                            vigil_store_trigger trigger, int64_t trigger_ref,
                                            int64_t supersedes_id, int64_t t_ms,
                                            const vigil_store_page_req *pages, size_t n_pages,
                                            int64_t *out_episode_id, int64_t *out_alert_id,
                                            vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_id(patient_id, "patient_id", err));
    CHECK(check_level(level, err));
    if ((unsigned)trigger >= VIGIL_STORE_TRIGGER_COUNT) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "trigger", "unknown trigger %d", (int)trigger);
    }
    if (trigger_ref < 0 || supersedes_id < 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "trigger_ref", "negative id");
    }
    CHECK(check_time(t_ms, "t_ms", err));
    CHECK(vigil__store_check_pages(pages, n_pages, err));
    if (out_episode_id == NULL || out_alert_id == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "no output given");
    }
    return vigil__wl_wrote(st, supersedes_id == 0 ? patient_id : 0, st->ops->episode_open(st->be, who, patient_id, level, trigger, trigger_ref,
                                 supersedes_id, t_ms, pages, n_pages, out_episode_id,
                                 out_alert_id, err));
}

vigil_status vigil_store_episode_close(vigil_store *st, const vigil_actor *who, int64_t episode_id,
                                       int64_t t_ms, const char *reason, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_id(episode_id, "episode_id", err));
    CHECK(check_time(t_ms, "t_ms", err));
    CHECK(check_text(reason, "reason", VIGIL_STORE_TEXT_MAX, true, err));
    return vigil__wl_wrote(st, 0, st->ops->episode_close(st->be, who, episode_id, t_ms, reason, err));
}

vigil_status vigil_store_alert_repeat(vigil_store *st, const vigil_actor *who, int64_t alert_id,
                                      int64_t t_ms, int rota_step, const char *notified,
                                      vigil_err *err)
{
    return vigil_store_alert_repeat_paged(st, who, alert_id, t_ms, rota_step, notified, NULL, 0,
                                          err);
}

vigil_status vigil_store_alert_repeat_paged(vigil_store *st, const vigil_actor *who,
                                            int64_t alert_id, int64_t t_ms, int rota_step,
                                            const char *notified,
                                            const vigil_store_page_req *pages, size_t n_pages,
                                            vigil_err *err)
{
    /* no gap: INT64_MIN makes every earlier sending old enough */
    return vigil_store_alert_repeat_once(st, who, alert_id, t_ms, -1, rota_step, notified, pages,
                                         n_pages, err);
}

vigil_status vigil_store_alert_repeat_once(vigil_store *st, const vigil_actor *who,
                                           int64_t alert_id, int64_t t_ms, int64_t min_gap_ms,
                                           int rota_step, const char *notified,
                                           const vigil_store_page_req *pages, size_t n_pages,
                                           vigil_err *err)
{
    CHECK(check_store(st, err));
    if (min_gap_ms < -1 || min_gap_ms > INT64_C(7) * 86400000) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "min_gap_ms", "a gap of 0 to 7 days");
    }
    CHECK(check_actor(who, err));
    CHECK(check_id(alert_id, "alert_id", err));
    CHECK(check_time(t_ms, "t_ms", err));
    if (rota_step < 0 || rota_step > 100) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "rota_step", "rota step %d out of 0..100",
                             rota_step);
    }
    CHECK(check_text(notified, "notified", VIGIL_STORE_NAME_MAX, true, err));
    CHECK(vigil__store_check_pages(pages, n_pages, err));
    /* -1 (no gap asked): any earlier sending; else sent at or before t_ms - gap */
    int64_t last_by = min_gap_ms < 0 ? INT64_MAX : t_ms - min_gap_ms;
    return st->ops->alert_repeat(st->be, who, alert_id, t_ms, last_by, rota_step, notified, pages,
                                 n_pages, err);
}

/* The rule "only a registered, enabled <role> may do this", once for every
 * backend: the acting user is read through the backend's user_get (no audit
 * record: it reads no patient data) before the write. A user refused here
 * writes nothing. Roles are set when a user is added and never change; a
 * user disabled between this read and the write's commit is ordered before
 * the disabling. */
static vigil_status require_role(vigil_store *st, const vigil_actor *who, unsigned mask,
                                 const char *doing, vigil_err *err)
{
    vigil_store_user u;
    vigil_status s = st->ops->user_get(st->be, who->user, &u, NULL, err);
    if (s != VIGIL_OK && s != VIGIL_ERR_NOT_FOUND) {
        return s;
    }
    if (s == VIGIL_ERR_NOT_FOUND || u.disabled || (unsigned)u.role >= VIGIL_STORE_ROLE_COUNT ||
        (mask & VIGIL__ROLE_BIT(u.role)) == 0) {
        return vigil_err_set(
            err, VIGIL_ERR_DENIED, "actor.user", "%s must be done by a registered %s; '%s' is not one",
            doing, (mask == VIGIL__ROLE_BIT(VIGIL_STORE_ROLE_DOCTOR)) ? "doctor" : "clinician",
            who->user);
    }
    return VIGIL_OK;
}

#define DOCTOR_ONLY VIGIL__ROLE_BIT(VIGIL_STORE_ROLE_DOCTOR)
#define ANY_ROLE 0xffffffffu

vigil_status vigil_store_alert_ack(vigil_store *st, const vigil_actor *who, int64_t alert_id,
                                   int64_t t_ms, vigil_store_ack_action action, const char *reason,
                                   int64_t *out_ack_id, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_id(alert_id, "alert_id", err));
    CHECK(check_time(t_ms, "t_ms", err));
    if ((unsigned)action >= VIGIL_STORE_ACK_COUNT) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "action", "unknown action %d", (int)action);
    }
    /* REQ ESC-DECLINE-REASON: declining to escalate needs a reason */
    CHECK(check_text(reason, "reason", VIGIL_STORE_TEXT_MAX, action == VIGIL_STORE_ACK_DECLINED,
                     err));
    if (out_ack_id == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out_ack_id", "no output given");
    }
    /* only a registered, enabled user acknowledges (before the backend: a
     * refused acknowledgement writes nothing, whatever the alert) */
    CHECK(require_role(st, who, ANY_ROLE, "acknowledging an alert", err));
    return vigil__wl_wrote(st, 0, st->ops->alert_ack(st->be, who, alert_id, t_ms, action, reason,
                                                     out_ack_id, err));
}

vigil_status vigil_store_episodes_open(vigil_store *st, const vigil_actor *who, const char *ward,
                                       vigil_store_episode_list *out, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_text(ward, "ward", VIGIL_STORE_NAME_MAX, false, err));
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "no output given");
    }
    memset(out, 0, sizeof *out); /* empty, so _fini is safe whatever happens */
    return st->ops->episodes_open(st->be, who, (ward != NULL && ward[0] != '\0') ? ward : NULL, out,
                                  err);
}

vigil_status vigil_store_patient_history(vigil_store *st, const vigil_actor *who,
                                         int64_t patient_id, size_t limit,
                                         vigil_store_history_cb cb, void *ctx, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    if (cb == NULL || patient_id <= 0 || limit == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "patient_id", "no callback, patient or limit");
    }
    return st->ops->patient_history(st->be, who, patient_id, limit, cb, ctx, err);
}

void vigil_store_episode_list_fini(vigil_store_episode_list *l)
{
    if (l == NULL) {
        return;
    }
    free(l->rows);
    memset(l, 0, sizeof *l);
}

/* ---- concerns, Martha's Rule -------------------------------------------- */

static const char *const outcome_kind_names[VIGIL_STORE_OUTCOME_KIND_COUNT] = {
    [VIGIL_STORE_OUTCOME_ICU_UNPLANNED] = "icu-unplanned",
    [VIGIL_STORE_OUTCOME_ARREST_CALL] = "cardiac-arrest-call",
    [VIGIL_STORE_OUTCOME_DEATH] = "death",
    [VIGIL_STORE_OUTCOME_SEPSIS] = "sepsis",
};

const char *vigil_store_outcome_kind_name(vigil_store_outcome_kind k)
{
    return (unsigned)k < VIGIL_STORE_OUTCOME_KIND_COUNT ? outcome_kind_names[k] : NULL;
}

int vigil_store_outcome_kind_from_name(const char *name)
{
    for (int k = 0; name != NULL && k < VIGIL_STORE_OUTCOME_KIND_COUNT; k++) {
        if (strcmp(name, outcome_kind_names[k]) == 0) {
            return k;
        }
    }
    return -1;
}

vigil_status vigil_store_outcome_record(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                                        int64_t admission_id, vigil_store_outcome_kind kind,
                                        int64_t t_ms, int64_t recorded_ms, const char *source,
                                        const char *note, int64_t *out_id, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_id(patient_id, "patient_id", err));
    if (admission_id != 0) {
        CHECK(check_id(admission_id, "admission_id", err));
    }
    if ((unsigned)kind >= VIGIL_STORE_OUTCOME_KIND_COUNT) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "kind", "unknown outcome kind %d", (int)kind);
    }
    CHECK(check_time(t_ms, "t_ms", err));
    CHECK(check_time(recorded_ms, "recorded_ms", err));
    CHECK(check_text(source, "source", VIGIL_STORE_OUTCOME_SOURCE_MAX, true, err));
    CHECK(check_text(note, "note", VIGIL_STORE_TEXT_MAX, false, err));
    if (out_id == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out_id", "no output given");
    }
    return vigil__wl_wrote(st, patient_id, st->ops->outcome_record(st->be, who, patient_id, admission_id, kind, t_ms, recorded_ms,
                                   source, note != NULL ? note : "", out_id, err));
}

vigil_status vigil_store_outcomes_of(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                                     vigil_store_outcome *out, size_t cap, size_t *out_n,
                                     vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_id(patient_id, "patient_id", err));
    if (out == NULL || out_n == NULL || cap == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "no output given");
    }
    return st->ops->outcomes_of(st->be, who, patient_id, out, cap, out_n, err);
}

vigil_status vigil_store_staff_concern(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                                       int64_t t_ms, const char *concern, int64_t *out_id,
                                       vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_id(patient_id, "patient_id", err));
    CHECK(check_time(t_ms, "t_ms", err));
    CHECK(check_text(concern, "concern", VIGIL_STORE_TEXT_MAX, true, err));
    if (out_id == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out_id", "no output given");
    }
    return vigil__wl_wrote(st, patient_id, st->ops->staff_concern(st->be, who, patient_id, t_ms, concern, out_id, err));
}

vigil_status vigil_store_marthas_call_add(vigil_store *st, const vigil_actor *who,
                                          const vigil_store_marthas_call *call, int64_t *out_id,
                                          vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    if (call == NULL || out_id == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "call", "no call or output given");
    }
    CHECK(check_id(call->patient_id, "patient_id", err));
    if ((unsigned)call->caller >= VIGIL_STORE_CALLER_COUNT) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "caller", "unknown caller type %d",
                             (int)call->caller);
    }
    CHECK(check_text(call->caller_name, "caller_name", VIGIL_STORE_NAME_MAX, false, err));
    CHECK(check_text(call->channel, "channel", VIGIL_STORE_NAME_MAX, true, err));
    CHECK(check_time(call->t_ms, "t_ms", err));
    CHECK(check_text(call->concern, "concern", VIGIL_STORE_TEXT_MAX, true, err));
    return vigil__wl_wrote(st, call->patient_id, st->ops->marthas_call_add(st->be, who, call, out_id, err));
}

vigil_status vigil_store_marthas_review_add(vigil_store *st, const vigil_actor *who,
                                            const vigil_store_marthas_review *rev, int64_t *out_id,
                                            vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    if (rev == NULL || out_id == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "review", "no review or output given");
    }
    CHECK(check_id(rev->call_id, "call_id", err));
    CHECK(check_text(rev->responder, "responder", VIGIL_STORE_NAME_MAX, true, err));
    CHECK(check_time(rev->t_ms, "t_ms", err));
    if ((unsigned)rev->category >= VIGIL_STORE_MR_CATEGORY_COUNT) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "category", "unknown category %d",
                             (int)rev->category);
    }
    if ((unsigned)rev->outcome >= VIGIL_STORE_MR_OUTCOME_COUNT) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "outcome", "unknown outcome %d",
                             (int)rev->outcome);
    }
    CHECK(check_text(rev->note, "note", VIGIL_STORE_TEXT_MAX, false, err));
    return vigil__wl_wrote(st, 0, st->ops->marthas_review_add(st->be, who, rev, out_id, err));
}

typedef struct csv_ctx {
    FILE *out;
    size_t n;
    const char *const *wards; /* the reader's ward scope; NULL: every ward */
    size_t n_wards;
} csv_ctx;

/* REQ STORE-MARTHAS-EXPORT-SCOPE: a ward-scoped reader sees its wards' calls only */
static bool csv_in_scope(const csv_ctx *c, const char *ward)
{
    if (c->wards == NULL) {
        return true;
    }
    for (size_t i = 0; i < c->n_wards; i++) {
        if (strcmp(c->wards[i], "*") == 0 ||
            (ward != NULL && ward[0] != '\0' && strcmp(c->wards[i], ward) == 0)) {
            return true;
        }
    }
    return false;
}

/*
 * RFC 4180 field. Free text that a spreadsheet would run as a formula
 * (leading = + - @, tab or CR) gets a leading apostrophe: the monthly return
 * is opened in spreadsheets and the concern is in a caller's own words.
 */
static void csv_field(FILE *f, const char *s, bool free_text)
{
    if (s == NULL) {
        s = "";
    }
    bool guard = free_text && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' ||
                               s[0] == '\t' || s[0] == '\r');
    bool quote = guard || strpbrk(s, ",\"\r\n") != NULL;
    if (quote) {
        fputc('"', f);
    }
    if (guard) {
        fputc('\'', f);
    }
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '"') {
            fputc('"', f);
        }
        fputc(*p, f);
    }
    if (quote) {
        fputc('"', f);
    }
}

static vigil_status csv_row(void *ctx, const vigil__marthas_row *r, vigil_err *err)
{
    csv_ctx *c = ctx;
    if (!csv_in_scope(c, r->ward)) {
        return VIGIL_ERR_DENIED; /* skipped: neither written nor audited */
    }
    char called[32], reviewed[32] = "", mins[32] = "";
    vigil__store_iso8601(r->t_ms, called);
    if (r->reviewed) {
        vigil__store_iso8601(r->reviewed_ms, reviewed);
        snprintf(mins, sizeof mins, "%.1f", (double)(r->reviewed_ms - r->t_ms) / 60000.0);
    }
    fprintf(c->out, "%lld,%s,%lld,", (long long)r->call_id, called, (long long)r->patient_id);
    csv_field(c->out, r->nhs_number, false);
    fputc(',', c->out);
    csv_field(c->out, r->ward, true);
    fprintf(c->out, ",%s,", r->caller);
    csv_field(c->out, r->caller_name, true);
    fputc(',', c->out);
    csv_field(c->out, r->channel, true);
    fputc(',', c->out);
    csv_field(c->out, r->concern, true);
    fputc(',', c->out);
    csv_field(c->out, r->recorded_by, true);
    fputc(',', c->out);
    csv_field(c->out, r->reviewed ? r->responder : "", true);
    fprintf(c->out, ",%s,%s,%s,%s,", reviewed, mins, r->reviewed ? r->category : "",
            r->reviewed ? r->outcome : "");
    csv_field(c->out, r->reviewed ? r->note : "", true);
    if (fputs("\r\n", c->out) == EOF) {
        return vigil_err_set(err, VIGIL_ERR_IO, NULL, "could not write the CSV");
    }
    c->n++;
    return VIGIL_OK;
}

vigil_status vigil_store_marthas_export_csv(vigil_store *st, const vigil_actor *who,
                                            int64_t from_ms, int64_t to_ms, FILE *out,
                                            size_t *out_n, vigil_err *err)
{
    return vigil_store_marthas_export_csv_scoped(st, who, NULL, 0, from_ms, to_ms, out, out_n, err);
}

vigil_status vigil_store_marthas_export_csv_scoped(vigil_store *st, const vigil_actor *who,
                                                   const char *const *wards, size_t n_wards,
                                                   int64_t from_ms, int64_t to_ms, FILE *out,
                                                   size_t *out_n, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    if (out == NULL || from_ms > to_ms) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "no output, or from after to");
    }
    /* Build the CSV in memory and write it out only after the read and its
     * audit records have committed: nothing leaves unaudited. */
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (mem == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory for the CSV");
    }
    fputs("call_id,called_at,patient_id,nhs_number,ward,caller,caller_name,channel,concern,"
          "recorded_by,responder,reviewed_at,minutes_to_review,category,outcome,note\r\n",
          mem);
    csv_ctx c = {mem, 0, wards, n_wards};
    vigil_status s = st->ops->marthas_walk(st->be, who, from_ms, to_ms, csv_row, &c, err);
    bool mem_ok = fclose(mem) == 0;
    if (s == VIGIL_OK && !mem_ok) {
        s = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory for the CSV");
    }
    if (s == VIGIL_OK && (fwrite(buf, 1, len, out) != len || fflush(out) != 0)) {
        s = vigil_err_set(err, VIGIL_ERR_IO, NULL, "could not write the CSV");
    }
    free(buf);
    if (s == VIGIL_OK && out_n != NULL) {
        *out_n = c.n;
    }
    return s;
}

/* ---- patient state ------------------------------------------------------- */

vigil_status vigil_store_daily_answer(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                                      int64_t t_ms, vigil_store_feeling answer, int64_t *out_id,
                                      vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_id(patient_id, "patient_id", err));
    CHECK(check_time(t_ms, "t_ms", err));
    if ((unsigned)answer >= VIGIL_STORE_FEEL_COUNT || out_id == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "answer", "answer must be better, same or worse");
    }
    return vigil__wl_wrote(st, patient_id, st->ops->daily_answer(st->be, who, patient_id, t_ms, answer, out_id, err));
}

vigil_status vigil_store_ai_optout(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                                   int64_t t_ms, const char *note, int64_t *out_id, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_id(patient_id, "patient_id", err));
    CHECK(check_time(t_ms, "t_ms", err));
    CHECK(check_text(note, "note", VIGIL_STORE_TEXT_MAX, false, err));
    if (out_id == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out_id", "no output given");
    }
    return vigil__wl_wrote(st, patient_id, st->ops->ai_optout(st->be, who, patient_id, t_ms, note, out_id, err));
}

vigil_status vigil_store_ai_optout_withdraw(vigil_store *st, const vigil_actor *who,
                                            int64_t patient_id, int64_t t_ms, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_id(patient_id, "patient_id", err));
    CHECK(check_time(t_ms, "t_ms", err));
    return vigil__wl_wrote(st, patient_id, st->ops->ai_optout_withdraw(st->be, who, patient_id, t_ms, err));
}


vigil_status vigil_store_scale2_set(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                                    int64_t t_ms, const char *reason, int64_t *out_id,
                                    vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_id(patient_id, "patient_id", err));
    CHECK(check_time(t_ms, "t_ms", err));
    /* REQ NEWS2-SCALE2-EXPLICIT: who, when and why */
    CHECK(check_text(reason, "reason", VIGIL_STORE_TEXT_MAX, true, err));
    if (out_id == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out_id", "no output given");
    }
    /* REQ NEWS2-SCALE2-EXPLICIT: a doctor's recorded decision */
    CHECK(require_role(st, who, DOCTOR_ONLY, "a Scale 2 decision", err));
    return vigil__wl_wrote(st, patient_id, st->ops->scale2_set(st->be, who, patient_id, t_ms, reason, out_id, err));
}

vigil_status vigil_store_scale2_end(vigil_store *st, const vigil_actor *who, int64_t patient_id,
                                    int64_t t_ms, const char *reason, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_id(patient_id, "patient_id", err));
    CHECK(check_time(t_ms, "t_ms", err));
    CHECK(check_text(reason, "reason", VIGIL_STORE_TEXT_MAX, true, err));
    CHECK(require_role(st, who, DOCTOR_ONLY, "ending a Scale 2 decision", err));
    return vigil__wl_wrote(st, patient_id, st->ops->scale2_end(st->be, who, patient_id, t_ms, reason, err));
}

vigil_status vigil_store_plan_add(vigil_store *st, const vigil_actor *who,
                                  const vigil_store_plan *plan, int64_t *out_id, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    if (plan == NULL || out_id == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "plan", "no plan or output given");
    }
    CHECK(check_id(plan->patient_id, "patient_id", err));
    CHECK(check_time(plan->t_ms, "t_ms", err));
    CHECK(check_text(plan->reason, "reason", VIGIL_STORE_TEXT_MAX, true, err));
    CHECK(check_text(plan->plan, "plan", VIGIL_STORE_TEXT_MAX, true, err));
    CHECK(check_time(plan->review_ms, "review_ms", err));
    CHECK(check_time(plan->expires_ms, "expires_ms", err));
    /* REQ ESC-PLAN-EXPIRES */
    if (plan->review_ms <= plan->t_ms || plan->expires_ms < plan->review_ms) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "review_ms",
                             "a plan needs made < review <= expiry");
    }
    if ((unsigned)plan->level >= VIGIL_ESC_LEVEL_COUNT) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "level", "no such escalation level (%d)",
                             (int)plan->level);
    }
    if (plan->news2_usual_max < 0 || plan->news2_usual_max > 20) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "news2_usual_max",
                             "news2_usual_max must be 0-20, not %d", plan->news2_usual_max);
    }
    CHECK(require_role(st, who, DOCTOR_ONLY, "a revised escalation plan", err));
    return vigil__wl_wrote(st, plan->patient_id, st->ops->plan_add(st->be, who, plan, out_id, err));
}

vigil_status vigil_store_plan_revoke(vigil_store *st, const vigil_actor *who, int64_t plan_id,
                                     int64_t t_ms, const char *reason, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_id(plan_id, "plan_id", err));
    CHECK(check_time(t_ms, "t_ms", err));
    CHECK(check_text(reason, "reason", VIGIL_STORE_TEXT_MAX, true, err));
    CHECK(require_role(st, who, DOCTOR_ONLY, "revoking an escalation plan", err));
    return vigil__wl_wrote(st, 0, st->ops->plan_revoke(st->be, who, plan_id, t_ms, reason, err));
}

vigil_status vigil_store_patient_state_get(vigil_store *st, const vigil_actor *who,
                                           int64_t patient_id, int64_t now_ms,
                                           vigil_store_patient_state *out, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_id(patient_id, "patient_id", err));
    CHECK(check_time(now_ms, "now_ms", err));
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "no output given");
    }
    return st->ops->patient_state_get(st->be, who, patient_id, now_ms, out, err);
}

vigil_status vigil_store_ward_list_get(vigil_store *st, const vigil_actor *who, const char *ward,
                                       int64_t now_ms, vigil_store_ward_list *out, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_text(ward, "ward", VIGIL_STORE_NAME_MAX, true, err));
    CHECK(check_time(now_ms, "now_ms", err));
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "no output given");
    }
    memset(out, 0, sizeof *out); /* empty, so _fini is safe whatever happens */
    return vigil__store_ward_list(st, who, ward, now_ms, out, err);
}

vigil_status vigil_store_patient_current_get(vigil_store *st, const vigil_actor *who,
                                             int64_t patient_id, int64_t now_ms,
                                             vigil_store_patient_current *out, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_id(patient_id, "patient_id", err));
    CHECK(check_time(now_ms, "now_ms", err));
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "no output given");
    }
    return vigil__store_patient_current(st, who, patient_id, now_ms, out, err);
}

void vigil_store_ward_list_fini(vigil_store_ward_list *l)
{
    if (l == NULL) {
        return;
    }
    free(l->rows);
    memset(l, 0, sizeof *l);
}

/* ---- users and passwords ------------------------------------------------- */

/* A valid argon2id hash of a password nobody uses, with the interactive
 * limits: verifying against it makes an unknown username cost what a known
 * one costs, so login time does not reveal which usernames exist. */
static const char dummy_hash[] = "$argon2id$v=19$m=65536,t=2,p=1$sHc8yB0Y75jwhkqdjLpjxw$"
                                 "QCj2l1Z85qHMwFw7C56S69lQtx78a3ljQ58YhI6noLI";

/* the longest password a sign-in checks (password.c refuses longer) */
#define PASSWORD_MAX_BYTES 1024

static vigil_status check_username(const char *u, vigil_err *err)
{
    CHECK(check_text(u, "username", VIGIL_ID_MAX - 1, true, err));
    for (const char *p = u; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_' || c == '@';
        if (!ok) {
            return vigil_err_set(err, VIGIL_ERR_ARG, "username",
                                 "a username may hold letters, digits and . - _ @ only");
        }
    }
    return VIGIL_OK;
}

vigil_status vigil_store_user_add(vigil_store *st, const vigil_actor *who, const char *username,
                                  const char *display_name, vigil_store_role role,
                                  const char *password, const char *const *wards, size_t n_wards,
                                  int64_t *out_id, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_username(username, err));
    CHECK(check_text(display_name, "display_name", VIGIL_STORE_NAME_MAX, true, err));
    if ((unsigned)role >= VIGIL_STORE_ROLE_COUNT) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "role", "unknown role %d", (int)role);
    }
    if (n_wards == 0 || n_wards > VIGIL_STORE_WARDS_MAX || wards == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "wards", "a user needs 1 to %d wards (or \"*\")",
                             VIGIL_STORE_WARDS_MAX);
    }
    for (size_t i = 0; i < n_wards; i++) {
        CHECK(check_text(wards[i], "wards", VIGIL_STORE_NAME_MAX, true, err));
    }
    if (out_id == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out_id", "no output given");
    }
    char hash[VIGIL_PASSWORD_HASH_MAX];
    CHECK(vigil_password_hash(password, hash, err));
    vigil_status s = st->ops->user_add(st->be, who, username, display_name, role, hash, wards,
                                       n_wards, out_id, err);
    sodium_memzero(hash, sizeof hash);
    return s;
}

vigil_status vigil_store_user_get(vigil_store *st, const char *username, vigil_store_user *out,
                                  vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_username(username, err));
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "no output given");
    }
    return st->ops->user_get(st->be, username, out, NULL, err);
}

static vigil_status audit_login(vigil_store *st, const char *username, bool ok, const char *why,
                                int64_t user_id, vigil_err *err)
{
    vigil_actor a = {username, "sign in"};
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, &a, ok ? "auth.login" : "auth.fail", "user", user_id, 0, "%s", why);
    return st->ops->audit_event(st->be, &ev, err);
}

vigil_status vigil_store_user_login(vigil_store *st, const char *username, const char *password,
                                    vigil_store_user *out, vigil_err *err)
{
    CHECK(check_store(st, err));
    if (check_username(username, NULL) != VIGIL_OK || password == NULL ||
        strlen(password) > PASSWORD_MAX_BYTES) {
        return vigil_err_set(err, VIGIL_ERR_DENIED, NULL, "username or password not recognised");
    }
    vigil_store_user u;
    char hash[VIGIL_PASSWORD_HASH_MAX];
    vigil_err e = {0};
    vigil_status s = st->ops->user_get(st->be, username, &u, hash, &e);
    if (s != VIGIL_OK && s != VIGIL_ERR_NOT_FOUND) {
        if (err != NULL) {
            *err = e;
        }
        return s;
    }
    bool known = s == VIGIL_OK;
    bool match = vigil_password_verify(known ? hash : dummy_hash, password);
    const char *why = !known       ? "unknown user"
                      : !match     ? "wrong password"
                      : u.disabled ? "user disabled"
                                   : "ok";
    bool ok = known && match && !u.disabled;
    sodium_memzero(hash, sizeof hash);
    CHECK(audit_login(st, username, ok, why, known ? u.id : 0, err));
    if (!ok) {
        return vigil_err_set(err, VIGIL_ERR_DENIED, NULL, "username or password not recognised");
    }
    if (out != NULL) {
        *out = u;
    }
    return VIGIL_OK;
}

vigil_status vigil_store_user_set_password(vigil_store *st, const vigil_actor *who,
                                           const char *username, const char *password,
                                           vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_username(username, err));
    char hash[VIGIL_PASSWORD_HASH_MAX];
    CHECK(vigil_password_hash(password, hash, err));
    vigil_status s = st->ops->user_set_hash(st->be, who, username, hash, err);
    sodium_memzero(hash, sizeof hash);
    return s;
}

vigil_status vigil_store_audit_denied(vigil_store *st, const vigil_actor *who, const char *detail,
                                      vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    if (detail == NULL || detail[0] == '\0') {
        return vigil_err_set(err, VIGIL_ERR_ARG, "detail", "no detail given");
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "access.denied", "route", 0, 0, "%s", detail);
    return st->ops->audit_event(st->be, &ev, err);
}

vigil_status vigil_store_user_list_get(vigil_store *st, const vigil_actor *who,
                                       vigil_store_user_list *out, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "no output given");
    }
    memset(out, 0, sizeof *out); /* empty, so _fini is safe whatever happens */
    return st->ops->user_list(st->be, who, out, err);
}

void vigil_store_user_list_fini(vigil_store_user_list *l)
{
    if (l != NULL) {
        free(l->rows);
        l->rows = NULL;
        l->n = 0;
    }
}

vigil_status vigil_store_user_enable(vigil_store *st, const vigil_actor *who, const char *username,
                                     vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_username(username, err));
    return st->ops->user_enable(st->be, who, username, err);
}

vigil_status vigil_store_user_disable(vigil_store *st, const vigil_actor *who, const char *username,
                                      int64_t t_ms, size_t *out_sessions_ended, vigil_err *err)
{
    CHECK(check_store(st, err));
    CHECK(check_actor(who, err));
    CHECK(check_username(username, err));
    CHECK(check_time(t_ms, "t_ms", err));
    size_t n = 0;
    vigil_status s = st->ops->user_disable(st->be, who, username, t_ms, &n, err);
    if (s == VIGIL_OK && out_sessions_ended != NULL) {
        *out_sessions_ended = n;
    }
    return s;
}
