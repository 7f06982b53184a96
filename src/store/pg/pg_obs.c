/*
 * pg_obs.c: PostgreSQL backend: patients, admissions and bed stays,
 * observation sets (single and batched, idempotent per source message) and
 * their scores, and the observation read for a patient's chart.
 *
 * Does not: check clinical rules (store.c has, before these run) except
 * where only stored data can tell: a resent message with changed content,
 * a score for a set read back from storage.
 * Invariants: one transaction per call (a batch: one transaction, one
 * savepoint, run again without a refused unit); audit records in the same
 * transaction.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pg_int.h"

#define PREP(sql, stp)                                                                             \
    do {                                                                                           \
        vigil_status prep_st_ = pg_prep(q, (sql), (stp), err);                                     \
        if (prep_st_ != VIGIL_OK) {                                                                \
            return prep_st_;                                                                       \
        }                                                                                          \
    } while (0)

/* ---- patients ------------------------------------------------------------ */

#define PAT_COLS "id, coalesce(nhs_number, ''), coalesce(mrn, ''), name, birth_date, sex"
static const char SQL_PAT_BY_ID[] = "SELECT " PAT_COLS " FROM patient WHERE id = ?1";
static const char SQL_PAT_BY_NHS[] = "SELECT " PAT_COLS " FROM patient WHERE nhs_number = ?1";
static const char SQL_PAT_BY_MRN[] = "SELECT " PAT_COLS " FROM patient WHERE mrn = ?1";
static const char SQL_PAT_INSERT[] = "INSERT INTO patient (nhs_number, mrn, name, birth_date, "
                                     "created_ms, sex) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id";
/* patient_match.c decides what is written: a NULL or '' parameter keeps the
 * stored value. */
static const char SQL_PAT_UPDATE[] =
    "UPDATE patient SET nhs_number = coalesce(?2, nhs_number), mrn = coalesce(?3, mrn), "
    "name = CASE WHEN ?4 = '' THEN name ELSE ?4 END, "
    "birth_date = CASE WHEN ?5 = '' THEN birth_date ELSE ?5 END, "
    "sex = CASE WHEN ?6 = '' THEN sex ELSE ?6 END WHERE id = ?1";

/* The current row of a PAT_COLS statement. */
static void patient_of_row(pg_stmt *st, vigil_patient *out)
{
    memset(out, 0, sizeof *out);
    out->id = pg_col_i64(st, 0);
    pg_col_text(st, 1, out->nhs_number, sizeof out->nhs_number);
    pg_col_text(st, 2, out->mrn, sizeof out->mrn);
    pg_col_text(st, 3, out->name, sizeof out->name);
    pg_col_text(st, 4, out->birth_date, sizeof out->birth_date);
    out->sex = pg_col_sex(st, 5);
}

/* Look a patient up by id (key NULL) or by text key; *found says whether. */
static vigil_status read_patient(pgc *q, const char *sql, const char *key, int64_t id, bool *found,
                                 vigil_patient *out, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(sql, &st);
    if (key != NULL) {
        pg_bind_text(st, 1, key);
    } else {
        pg_bind_i64(st, 1, id);
    }
    vigil_status s = pg_step(q, st, found, "read patient", err);
    if (s != VIGIL_OK || !*found) {
        return s;
    }
    patient_of_row(st, out);
    pg_done(st);
    return VIGIL_OK;
}

/* read_patient by NHS number or hospital number (the SQLite backend keeps
 * a per-connection cache here; with several nodes writing one database a
 * cache would need invalidation across them, so this backend reads). */
#define PG_PAT_BY_NHS 1
#define PG_PAT_BY_MRN 2
static vigil_status lookup_patient(pgc *q, uint8_t kind, const char *key, bool *found,
                                   vigil_patient *out, vigil_err *err)
{
    return read_patient(q, kind == PG_PAT_BY_NHS ? SQL_PAT_BY_NHS : SQL_PAT_BY_MRN, key, 0, found,
                        out, err);
}

/* A patient looked up ahead (prefetch_patients): by kind and key, found
 * or not. */
typedef struct pg_pat_ahead {
    uint8_t kind;
    char key[VIGIL_ID_MAX];
    bool found;
    vigil_patient p;
} pg_pat_ahead;

static const pg_pat_ahead *ahead_find(const pgc *q, uint8_t kind, const char *key)
{
    for (size_t i = 0; i < q->n_pat_ahead; i++) {
        const pg_pat_ahead *a = &q->pat_ahead[i];
        if (a->kind == kind && strcmp(a->key, key) == 0) {
            return a;
        }
    }
    return NULL;
}

/* The wrong-patient rule's primitives (vigil__patient_io, store_int.h):
 * patient_match.c decides, inside this backend's open write transaction. */
static vigil_status pat_by_key(void *be, vigil__patient_key by, const char *key, bool *found,
                               vigil_patient *out, vigil_err *err)
{
    pgc *q = be;
    uint8_t kind = by == VIGIL__PATIENT_BY_NHS ? PG_PAT_BY_NHS : PG_PAT_BY_MRN;
    const pg_pat_ahead *a = ahead_find(q, kind, key);
    if (a != NULL) {
        *found = a->found;
        if (a->found) {
            *out = a->p;
        }
        return VIGIL_OK;
    }
    return lookup_patient(q, kind, key, found, out, err);
}

static vigil_status pat_update(void *be, int64_t id, const vigil_patient *set, vigil_err *err)
{
    pgc *q = be;
    q->n_pat_ahead = 0; /* what was read ahead may be out of date now */
    pg_stmt *st = NULL;
    PREP(SQL_PAT_UPDATE, &st);
    pg_bind_i64(st, 1, id);
    pg_bind_text_opt(st, 2, set->nhs_number);
    pg_bind_text_opt(st, 3, set->mrn);
    pg_bind_text(st, 4, set->name);
    pg_bind_text(st, 5, set->birth_date);
    pg_bind_text(st, 6, vigil_admin_sex_name(set->sex));
    return pg_run(q, st, "update patient", err);
}

static vigil_status pat_insert(void *be, const vigil_patient *p, int64_t created_ms,
                               int64_t *out_id, vigil_err *err)
{
    pgc *q = be;
    q->n_pat_ahead = 0; /* a key read ahead as "no patient" may name this one */
    pg_stmt *st = NULL;
    PREP(SQL_PAT_INSERT, &st);
    pg_bind_text_opt(st, 1, p->nhs_number);
    pg_bind_text_opt(st, 2, p->mrn);
    pg_bind_text(st, 3, p->name);
    pg_bind_text(st, 4, p->birth_date);
    pg_bind_i64(st, 5, created_ms);
    pg_bind_text(st, 6, vigil_admin_sex_name(p->sex));
    vigil_status s = pg_run(q, st, "insert patient", err);
    if (s == VIGIL_OK) {
        *out_id = pg_last_id(q);
    }
    return s;
}

static vigil_status pat_audit(void *be, const vigil__audit_ev *ev, vigil_err *err)
{
    return pg_audit(be, ev, err);
}

static const vigil__patient_io patient_io = {
    .by_key = pat_by_key,
    .update = pat_update,
    .insert = pat_insert,
    .audit = pat_audit,
};

vigil_status vigil__pg_patient_ensure(void *be, const vigil_actor *who, const vigil_patient *p,
                                      int64_t *out_id, vigil_err *err)
{
    pgc *q = be;
    int64_t id = 0;
    vigil_status s = pg_begin(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    s = vigil__patient_match(&patient_io, q, who, p, &id, err);
    s = pg_end(q, s, err);
    if (s == VIGIL_OK) {
        *out_id = id;
    }
    return s;
}

/* Read one patient and audit the read, in one transaction. */
static vigil_status get_patient(pgc *q, const vigil_actor *who, const char *sql, const char *key,
                                int64_t id, vigil_patient *out, vigil_err *err)
{
    vigil_status s = pg_begin(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    bool found = false;
    vigil_patient p;
    s = read_patient(q, sql, key, id, &found, &p, err);
    if (s == VIGIL_OK && !found) {
        s = vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "patient", "no such patient");
    }
    if (s == VIGIL_OK) {
        vigil__audit_ev ev;
        vigil__audit_ev_set(&ev, who, "patient.read", "patient", p.id, p.id, "%s",
                            key == NULL             ? "by id"
                            : sql == SQL_PAT_BY_NHS ? "by nhs_number"
                                                    : "by mrn");
        s = pg_audit(q, &ev, err);
    }
    s = pg_end(q, s, err);
    if (s == VIGIL_OK) {
        *out = p;
    }
    return s;
}

vigil_status vigil__pg_patient_get(void *be, const vigil_actor *who, int64_t id, vigil_patient *out,
                                   vigil_err *err)
{
    return get_patient(be, who, SQL_PAT_BY_ID, NULL, id, out, err);
}

vigil_status vigil__pg_patient_find(void *be, const vigil_actor *who, const char *nhs,
                                    const char *mrn, vigil_patient *out, vigil_err *err)
{
    if (nhs != NULL) {
        return get_patient(be, who, SQL_PAT_BY_NHS, nhs, 0, out, err);
    }
    return get_patient(be, who, SQL_PAT_BY_MRN, mrn, 0, out, err);
}

/* ---- admissions ---------------------------------------------------------- */

static const char SQL_PAT_EXISTS[] = "SELECT 1 FROM patient WHERE id = ?1";
static const char SQL_ADMIT[] = "INSERT INTO admission (patient_id, admitted_ms) VALUES (?1, ?2) RETURNING id";
static const char SQL_STAY_OPEN[] =
    "INSERT INTO bed_stay (admission_id, ward, bed, from_ms) VALUES (?1, ?2, ?3, ?4) RETURNING id";
static const char SQL_STAY_CLOSE[] =
    "UPDATE bed_stay SET to_ms = ?2 WHERE admission_id = ?1 AND to_ms IS NULL";
static const char SQL_STAY_SINCE[] =
    "SELECT from_ms FROM bed_stay WHERE admission_id = ?1 AND to_ms IS NULL";
static const char SQL_ADM_GET[] =
    "SELECT patient_id, discharged_ms IS NOT NULL FROM admission WHERE id = ?1";
static const char SQL_DISCHARGE[] = "UPDATE admission SET discharged_ms = ?2 WHERE id = ?1";

static vigil_status open_stay(pgc *q, int64_t admission_id, const char *ward, const char *bed,
                              int64_t t_ms, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_STAY_OPEN, &st);
    pg_bind_i64(st, 1, admission_id);
    pg_bind_text(st, 2, ward);
    pg_bind_text(st, 3, bed);
    pg_bind_i64(st, 4, t_ms);
    return pg_run(q, st, "open bed stay", err);
}

static vigil_status close_stay(pgc *q, int64_t admission_id, int64_t t_ms, vigil_err *err)
{
    pg_stmt *st = NULL;
    /* A move or discharge dated before the current bed stay began would break
     * the stay's time order (the schema refuses it too): said in words here,
     * never as the constraint's SQL (issue 11). Nothing is changed. */
    PREP(SQL_STAY_SINCE, &st);
    pg_bind_i64(st, 1, admission_id);
    bool row = false;
    vigil_status s = pg_step(q, st, &row, "read the current bed stay", err);
    if (s != VIGIL_OK) {
        return s;
    }
    int64_t since = row ? pg_col_i64(st, 0) : t_ms;
    if (row) {
        pg_done(st);
    }
    s = vigil__stay_check_order(since, t_ms, err); /* patient_match.c */
    if (s != VIGIL_OK) {
        return s;
    }
    PREP(SQL_STAY_CLOSE, &st);
    pg_bind_i64(st, 1, admission_id);
    pg_bind_i64(st, 2, t_ms);
    return pg_run(q, st, "close bed stay", err);
}

/* The admission must exist and be open; gives its patient. */
static vigil_status open_admission(pgc *q, int64_t admission_id, int64_t *patient_id, vigil_err *err)
{
    return pg_open_row(q, SQL_ADM_GET, admission_id, "admission_id", "admission",
                       "has been discharged", patient_id, err);
}

static vigil_status admit_txn(pgc *q, const vigil_actor *who, int64_t patient_id, const char *ward,
                              const char *bed, int64_t t_ms, int64_t *out_id, vigil_err *err)
{
    vigil_status s = pg_require_row(q, SQL_PAT_EXISTS, patient_id, "patient", err);
    if (s != VIGIL_OK) {
        return s;
    }
    pg_stmt *st = NULL;
    PREP(SQL_ADMIT, &st);
    pg_bind_i64(st, 1, patient_id);
    pg_bind_i64(st, 2, t_ms);
    s = pg_run(q, st, "admit (one open admission per patient)", err);
    if (s != VIGIL_OK) {
        return s;
    }
    *out_id = pg_last_id(q);
    s = open_stay(q, *out_id, ward, bed, t_ms, err);
    if (s != VIGIL_OK) {
        return s;
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "admission.admit", "admission", *out_id, patient_id,
                        "ward %s bed %s", ward, bed);
    return pg_audit(q, &ev, err);
}

vigil_status vigil__pg_admit(void *be, const vigil_actor *who, int64_t patient_id, const char *ward,
                             const char *bed, int64_t t_ms, int64_t *out_id, vigil_err *err)
{
    pgc *q = be;
    int64_t id = 0;
    vigil_status s = pg_begin(q, err);
    if (s == VIGIL_OK) {
        s = pg_end(q, admit_txn(q, who, patient_id, ward, bed, t_ms, &id, err), err);
    }
    if (s == VIGIL_OK) {
        *out_id = id;
    }
    return s;
}

static vigil_status move_txn(pgc *q, const vigil_actor *who, int64_t admission_id, const char *ward,
                             const char *bed, int64_t t_ms, vigil_err *err)
{
    int64_t patient_id = 0;
    vigil_status s = open_admission(q, admission_id, &patient_id, err);
    if (s == VIGIL_OK) {
        s = close_stay(q, admission_id, t_ms, err);
    }
    if (s == VIGIL_OK) {
        s = open_stay(q, admission_id, ward, bed, t_ms, err);
    }
    if (s != VIGIL_OK) {
        return s;
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "admission.move", "admission", admission_id, patient_id,
                        "to ward %s bed %s", ward, bed);
    return pg_audit(q, &ev, err);
}

vigil_status vigil__pg_move(void *be, const vigil_actor *who, int64_t admission_id,
                            const char *ward, const char *bed, int64_t t_ms, vigil_err *err)
{
    pgc *q = be;
    vigil_status s = pg_begin(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    return pg_end(q, move_txn(q, who, admission_id, ward, bed, t_ms, err), err);
}

static vigil_status discharge_txn(pgc *q, const vigil_actor *who, int64_t admission_id, int64_t t_ms,
                                  vigil_err *err)
{
    int64_t patient_id = 0;
    vigil_status s = open_admission(q, admission_id, &patient_id, err);
    if (s == VIGIL_OK) {
        s = close_stay(q, admission_id, t_ms, err);
    }
    if (s == VIGIL_OK) {
        pg_stmt *st = NULL;
        PREP(SQL_DISCHARGE, &st);
        pg_bind_i64(st, 1, admission_id);
        pg_bind_i64(st, 2, t_ms);
        s = pg_run(q, st, "discharge", err);
    }
    if (s != VIGIL_OK) {
        return s;
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "admission.discharge", "admission", admission_id, patient_id,
                        "discharged");
    return pg_audit(q, &ev, err);
}

vigil_status vigil__pg_discharge(void *be, const vigil_actor *who, int64_t admission_id,
                                 int64_t t_ms, vigil_err *err)
{
    pgc *q = be;
    vigil_status s = pg_begin(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    return pg_end(q, discharge_txn(q, who, admission_id, t_ms, err), err);
}

/* ---- observation sets ---------------------------------------------------- */

/* The statements naming the vital-sign columns are q->obs_sql (pg_obs_sql.c). */
#define SCORE_COLS                                                                                 \
    "obs_set_id, scored_ms, news2_total, sub_rr, sub_spo2, sub_o2, sub_sbp, sub_hr, sub_acvpu, "    \
    "sub_temp, complete, risk, monitoring, response, flags, spo2_scale, ai_risk, ai_prob, "        \
    "explanation, model_version, ai_low_confidence"
static const char SQL_SCORE_INSERT[] =
    "INSERT INTO score (" SCORE_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, "
    "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21) RETURNING id";

void vigil__pg_read_news2(pg_stmt *st, int c, vigil_news2 *out)
{
    memset(out, 0, sizeof *out);
    out->total = pg_col_int(st, c + 2);
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        if (pg_col_type(st, c + 3 + p) == PG_NULL) {
            out->sub[p] = VIGIL_NEWS2_SUB_MISSING;
            out->missing |= 1u << p;
        } else {
            out->sub[p] = pg_col_int(st, c + 3 + p);
            out->single_param_3 = out->single_param_3 || out->sub[p] == 3;
        }
    }
    out->complete = pg_col_int(st, c + 10) != 0;
    int r = pg_col_enum(st, c + 11, vigil__store_risk_names, VIGIL_RISK_COUNT);
    int m = pg_col_enum(st, c + 12, vigil__store_monitoring_names, VIGIL_MON_COUNT);
    int resp = pg_col_enum(st, c + 13, vigil__store_response_names, VIGIL_RESP_COUNT);
    out->risk = r >= 0 ? (vigil_news2_risk)r : VIGIL_RISK_LOW;
    out->monitoring = m >= 0 ? (vigil_news2_monitoring)m : VIGIL_MON_12_HOURLY;
    out->response = resp >= 0 ? (vigil_news2_response)resp : VIGIL_RESP_ROUTINE;
    out->flags = (unsigned)pg_col_i64(st, c + 14);
    out->spo2_scale = pg_col_int(st, c + 15);
}

/* Bind a score's columns to SQL_SCORE_INSERT's ?2..?21, as parameters
 * first..first + 19. */
static void bind_score(pg_stmt *st, int first, const vigil_store_score *sc)
{
    const int d = first - 2; /* SQL_SCORE_INSERT's ?k is parameter k + d */
    const vigil_news2 *n = &sc->news2;
    pg_bind_i64(st, 2 + d, sc->t_ms);
    pg_bind_int(st, 3 + d, n->total);
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        if (n->sub[p] == VIGIL_NEWS2_SUB_MISSING) {
            pg_bind_null(st, 4 + p + d);
        } else {
            pg_bind_int(st, 4 + p + d, n->sub[p]);
        }
    }
    pg_bind_int(st, 11 + d, n->complete ? 1 : 0);
    pg_bind_text(st, 12 + d, vigil__store_risk_names[n->risk]);
    pg_bind_text(st, 13 + d, vigil__store_monitoring_names[n->monitoring]);
    pg_bind_text(st, 14 + d, vigil__store_response_names[n->response]);
    pg_bind_i64(st, 15 + d, (int64_t)n->flags);
    pg_bind_int(st, 16 + d, n->spo2_scale);
    const vigil_store_ai *ai = sc->ai;
    pg_bind_real_opt(st, 17 + d, ai != NULL ? ai->risk : NAN);
    pg_bind_real_opt(st, 18 + d, ai != NULL ? ai->prob : NAN);
    pg_bind_text_opt(st, 19 + d, ai != NULL ? ai->explanation_json : NULL);
    pg_bind_text_opt(st, 20 + d, ai != NULL ? ai->model_version : NULL);
    if (ai != NULL) {
        pg_bind_int(st, 21 + d, ai->low_confidence ? 1 : 0);
    } else {
        pg_bind_null(st, 21 + d);
    }
}

/* The score.put audit record of score score_id. */
static vigil_status score_audit(pgc *q, const vigil_actor *who, int64_t obs_id,
                                int64_t patient_id, const vigil_store_score *sc, int64_t score_id,
                                vigil_err *err)
{
    const vigil_news2 *n = &sc->news2;
    const vigil_store_ai *ai = sc->ai;
    vigil__audit_ev ev;
    if (ai != NULL) {
        vigil__audit_ev_set(&ev, who, "score.put", "score", score_id, patient_id,
                            "obs %lld news2 %d%s risk %s ai %.4f model %s", (long long)obs_id,
                            n->total, n->complete ? "" : " (incomplete)",
                            vigil__store_risk_names[n->risk], ai->prob, ai->model_version);
    } else {
        vigil__audit_ev_set(&ev, who, "score.put", "score", score_id, patient_id,
                            "obs %lld news2 %d%s risk %s no ai", (long long)obs_id, n->total,
                            n->complete ? "" : " (incomplete)", vigil__store_risk_names[n->risk]);
    }
    return pg_audit(q, &ev, err);
}

static vigil_status insert_score(pgc *q, const vigil_actor *who, int64_t obs_id, int64_t patient_id,
                                 const vigil_store_score *sc, int64_t *out_id, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_SCORE_INSERT, &st);
    pg_bind_i64(st, 1, obs_id);
    bind_score(st, 2, sc);
    vigil_status s = pg_run(q, st, "insert score", err);
    if (s != VIGIL_OK) {
        return s;
    }
    *out_id = pg_last_id(q);
    return score_audit(q, who, obs_id, patient_id, sc, *out_id, err);
}

/* A stored set with the same (source, source id): identical content makes
 * the put a duplicate; different content is a conflict. *found = false when
 * there is none. */
static vigil_status find_resent(pgc *q, const vigil_obs_event *ev, bool *found, vigil_store_put *o,
                                vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(q->obs_sql.by_source, &st);
    pg_bind_text(st, 1, vigil__store_source_names[ev->source]);
    pg_bind_text(st, 2, ev->source_id);
    pg_bind_text(st, 3, ev->sender);
    vigil_status s = pg_step(q, st, found, "find resent message", err);
    if (s != VIGIL_OK || !*found) {
        return s;
    }
    char nhs[VIGIL_NHS_NUMBER_LEN + 1], mrn[VIGIL_ID_MAX];
    vigil_obs stored;
    o->obs_id = pg_col_i64(st, 0);
    o->patient_id = pg_col_i64(st, 1);
    int64_t t_ms = pg_col_i64(st, 2);
    pg_col_text(st, 3, nhs, sizeof nhs);
    pg_col_text(st, 4, mrn, sizeof mrn);
    o->score_id = pg_col_i64(st, 5);
    pg_obs_read(st, 6, &stored);
    pg_done(st);
    bool same = vigil__resend_is_same(ev, t_ms, &stored, nhs, mrn); /* patient_match.c */
    if (!same) {
        int64_t id = o->obs_id;
        o->obs_id = o->patient_id = o->score_id = 0;
        return vigil_err_set(err, VIGIL_ERR_CONFLICT, "source_id",
                             "message %s/%s was stored before (set %lld) with different "
                             "content",
                             vigil__store_source_names[ev->source], ev->source_id, (long long)id);
    }
    o->duplicate = true;
    return VIGIL_OK;
}

/* The digest of the current row of st, its canon columns from column
 * first (vigil__pg_row_digest). */
static vigil_status row_digest_of(pg_stmt *st, int first, char out[VIGIL__ROW_DIGEST_HEX + 1],
                                  vigil_err *err)
{
    char text[1024];
    size_t len = 0;
    vigil_status s = pg_obs_canon_text(st, first, text, sizeof text, &len, err);
    if (s != VIGIL_OK) {
        return s;
    }
    unsigned char h[VIGIL__ROW_DIGEST_HEX / 2];
    crypto_generichash(h, sizeof h, (const unsigned char *)text, (unsigned long long)len, NULL, 0);
    sodium_bin2hex(out, VIGIL__ROW_DIGEST_HEX + 1, h, sizeof h);
    return VIGIL_OK;
}

/* An obs_set row's clinical content as one text (q->obs_sql.canon selects
 * its columns, written from the vital-sign table: src/store/obs_sql.c), the
 * text as SQLite's quote() writes it, in C (vigil__obs_canon_text: a REAL
 * through vigil__row_text_real, SQLite's own printf; a text in single
 * quotes with each quote doubled, no E'' escaping; NULL the word NULL), so
 * a store copied from SQLite (vigil migrate) verifies here; its
 * BLAKE2b-128 in hex. */
vigil_status vigil__pg_row_digest(void *be, const char *entity, int64_t id,
                                  char out[VIGIL__ROW_DIGEST_HEX + 1], vigil_err *err)
{
    pgc *q = be;
    if (strcmp(entity, "obs_set") != 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "entity", "no row digest for %s", entity);
    }
    pg_stmt *st = NULL;
    PREP(q->obs_sql.canon, &st);
    pg_bind_i64(st, 1, id);
    bool row = false;
    vigil_status s = pg_step(q, st, &row, "observation set content", err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (!row) {
        pg_done(st);
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "id", "no obs_set %lld", (long long)id);
    }
    s = row_digest_of(st, 0, out, err);
    pg_done(st);
    return s;
}

/* Errors that belong to one item (its data); anything else (I/O, memory,
 * a bug) fails the whole batch. */
static bool item_level(vigil_status s)
{
    return s == VIGIL_ERR_ARG || s == VIGIL_ERR_CONFLICT || s == VIGIL_ERR_MISMATCH ||
           s == VIGIL_ERR_NOT_FOUND || s == VIGIL_ERR_IMPLAUSIBLE || s == VIGIL_ERR_PARSE ||
           s == VIGIL_ERR_DENIED;
}

/* End of the unit that starts at item i: adjacent items sharing a non-zero
 * unit are stored all or none. */
static size_t unit_end(const vigil_store_obs_item *items, size_t n, size_t i)
{
    size_t j = i + 1;
    while (items[i].unit != 0 && j < n && items[j].unit == items[i].unit) {
        j++;
    }
    return j;
}

/* Mark every stored item of the unit [i, j) but bad as rolled back with it. */
static void refuse_unit(vigil_store_put *out, size_t i, size_t j, size_t bad)
{
    for (size_t k = i; k < j; k++) {
        if (k != bad) {
            memset(&out[k], 0, sizeof out[k]);
            out[k].status = out[bad].status;
            snprintf(out[k].msg, sizeof out[k].msg, "not stored: item %zu of its unit was refused",
                     bad - i + 1);
        }
    }
}

/* Item k failed with s (e): an item-level refusal refuses its unit (*bad =
 * k; the caller rolls the pass back and runs it again without the unit);
 * anything else is returned and fails the whole batch. */
static vigil_status item_failed(pgc *q, const vigil_store_obs_item *items, size_t n,
                                vigil_store_put *out, size_t k, vigil_status s, const vigil_err *e,
                                size_t *bad, vigil_err *err)
{
    if (err != NULL) {
        *err = *e;
    }
    if (pg_autocommit(q) || !item_level(s)) {
        return s; /* the transaction is gone or the failure is not this item's */
    }
    size_t i = k;
    while (items[k].unit != 0 && i > 0 && items[i - 1].unit == items[k].unit) {
        i--;
    }
    memset(&out[k], 0, sizeof out[k]);
    out[k].status = s;
    snprintf(out[k].msg, sizeof out[k].msg, "%s", e->msg);
    refuse_unit(out, i, unit_end(items, n, i), k);
    *bad = k;
    return VIGIL_OK;
}

/* Add (kind, key) to the patients to read ahead, once. */
static void ahead_add(pgc *q, uint8_t kind, const char *key)
{
    if (key[0] == '\0' || ahead_find(q, kind, key) != NULL) {
        return;
    }
    pg_pat_ahead *a = &q->pat_ahead[q->n_pat_ahead++];
    memset(a, 0, sizeof *a);
    a->kind = kind;
    snprintf(a->key, sizeof a->key, "%s", key);
}

/* Read the patients every set of the pass names, by NHS number and by
 * hospital number, in pipelines (one round trip, not two per set): the
 * wrong-patient rule (patient_match.c) then reads them from q->pat_ahead.
 * The audit head's lock, which the pass's first audit record would take
 * alone, goes in the same round trip. */
static vigil_status read_patients_ahead(pgc *q, const vigil_store_obs_item *items, size_t n,
                                        const vigil_store_put *out, vigil_err *err)
{
    for (size_t k = 0; k < n; k++) {
        if (out[k].status == VIGIL_OK) {
            ahead_add(q, PG_PAT_BY_NHS, items[k].ev->nhs_number);
            ahead_add(q, PG_PAT_BY_MRN, items[k].ev->mrn);
        }
    }
    size_t n_keys = q->n_pat_ahead;
    q->n_pat_ahead = 0; /* nothing is read ahead until it is */
    pg_stmt *by[3] = {NULL, NULL, NULL};
    PREP(SQL_PAT_BY_NHS, &by[PG_PAT_BY_NHS]);
    PREP(SQL_PAT_BY_MRN, &by[PG_PAT_BY_MRN]);
    vigil_status s = VIGIL_OK;
    for (int kind = PG_PAT_BY_NHS; s == VIGIL_OK && kind <= PG_PAT_BY_MRN; kind++) {
        pg_bind_text(by[kind], 1, ""); /* the parameter's type */
        s = pg_pipe_prepare(q, by[kind], err);
        pg_done(by[kind]);
    }
    pg_stmt *head = NULL; /* the audit head's lock, in the first pipeline */
    if (s == VIGIL_OK) {
        s = pg_head_prepare(q, &head, err);
    }
    for (size_t k0 = 0; s == VIGIL_OK && (k0 < n_keys || head != NULL);) {
        const size_t off = head != NULL ? 1 : 0;
        size_t k1 = k0 + PG_PIPELINE_MAX - 1 < n_keys ? k0 + PG_PIPELINE_MAX - 1 : n_keys;
        PGresult *res[PG_PIPELINE_MAX];
        int failed = -1;
        s = pg_pipe_begin(q, err);
        if (s == VIGIL_OK && head != NULL) {
            s = pg_pipe_send(q, head, err);
        }
        for (size_t k = k0; s == VIGIL_OK && k < k1; k++) {
            pg_stmt *st = by[q->pat_ahead[k].kind];
            pg_bind_text(st, 1, q->pat_ahead[k].key);
            s = pg_pipe_send(q, st, err);
        }
        if (s == VIGIL_OK) {
            s = pg_pipe_collect(q, res, &failed, "read patient", err);
        }
        s = pg_pipe_end(q, s, err);
        if (s == VIGIL_OK && head != NULL) {
            s = pg_head_take(q, head, res[0], err);
            res[0] = NULL;
        }
        head = NULL;
        for (size_t k = k0; s == VIGIL_OK && k < k1; k++) {
            pg_pat_ahead *a = &q->pat_ahead[k];
            pg_stmt *st = by[a->kind];
            pg_stmt_take(st, res[k - k0 + off]);
            res[k - k0 + off] = NULL;
            s = pg_step(q, st, &a->found, "read patient", err);
            if (s == VIGIL_OK && a->found) {
                patient_of_row(st, &a->p);
            }
            pg_done(st);
        }
        pg_pipe_clear(res, PG_PIPELINE_MAX);
        k0 = k1;
    }
    if (s == VIGIL_OK) {
        q->n_pat_ahead = n_keys;
    }
    return s;
}

/* The INSERT of a set with its score's, one statement: the set's row as
 * stored (id, then the digest's columns) and, last, the score's id; no
 * row when the set was a resend (ON CONFLICT DO NOTHING: nothing stored,
 * no score either). */
static const char *obs_score_sql(pgc *q)
{
    if (q->obs_score_insert[0] == '\0') {
        const int m = 2 + PG_OBS_NCOLS + 5; /* the set's INSERT's last parameter */
        char p[256];
        size_t len = 0;
        for (int k = 2; k <= 21; k++) { /* SQL_SCORE_INSERT's ?2..?21 */
            len += (size_t)snprintf(p + len, sizeof p - len, ", ?%d", m + k - 1);
        }
        snprintf(q->obs_score_insert, sizeof q->obs_score_insert,
                 "WITH o AS (%s), s AS (INSERT INTO score (" SCORE_COLS ") SELECT o.id%s FROM o "
                 "RETURNING id) SELECT o.*, (SELECT id FROM s) FROM o",
                 q->obs_sql.insert, p);
    }
    return q->obs_score_insert;
}

/* Bind item it (its patient found: o->patient_id) to the set's INSERT, and
 * its score's after them (st is obs_score_sql's) when it has one. */
static void bind_set(pg_stmt *st, const vigil_store_obs_item *it, const vigil_store_put *o)
{
    const vigil_obs_event *ev = it->ev;
    pg_bind_i64(st, 1, o->patient_id);
    pg_bind_i64(st, 2, ev->t_ms);
    pg_obs_bind(st, 3, &ev->obs);
    const int c = 3 + PG_OBS_NCOLS;
    pg_bind_text(st, c, vigil__store_source_names[ev->source]);
    pg_bind_text_opt(st, c + 1, ev->source_id);
    pg_bind_text_opt(st, c + 2, ev->recorded_by);
    pg_bind_i64(st, c + 3, vigil__store_now_ms());
    pg_bind_text(st, c + 4, ev->sender);
    if (it->score != NULL) {
        bind_score(st, c + 5, it->score);
    }
}

/* The outcome of item it's INSERT (st holds its result): stored (its
 * audit records), a resend of a stored set (a duplicate), or refused. */
static vigil_status set_stored(pgc *q, const vigil_actor *who, const vigil_store_obs_item *it,
                               pg_stmt *st, vigil_store_put *o, vigil_err *err)
{
    const vigil_obs_event *ev = it->ev;
    vigil__audit_ev aev;
    bool row = false;
    char digest[VIGIL__ROW_DIGEST_HEX + 1];
    vigil_status s = pg_step(q, st, &row, "insert observation set", err);
    if (s == VIGIL_OK && row) {
        o->obs_id = pg_col_i64(st, 0);
        s = row_digest_of(st, 1, digest, err);
        if (it->score != NULL) {
            o->score_id = pg_col_i64(st, PQnfields(st->res) - 1);
        }
        pg_done(st);
    } else if (s == VIGIL_OK) {
        /* ON CONFLICT DO NOTHING: the unique index on (source, sender,
         * source_id) held an earlier row; a failed INSERT would have aborted
         * the whole transaction in PostgreSQL */
        s = vigil_err_set(err, VIGIL_ERR_CONFLICT, "source_id",
                          "message %s from this source and sender is already stored",
                          ev->source_id);
    }
    if (s == VIGIL_ERR_CONFLICT && ev->source_id[0] != '\0') {
        /* A resent message: the unique index on (source, source_id) finds it
         * here rather than a read before every set (resends are rare). The
         * statement left nothing; the patient look-up before it wrote
         * nothing for an identical resend (same identifiers), and whatever
         * it wrote for a differing one is rolled back with the refusal. */
        bool found = false;
        vigil_err e2 = {0};
        vigil_status rs = find_resent(q, ev, &found, o, &e2);
        if (rs != VIGIL_OK || !found) {
            if (rs != VIGIL_OK && err != NULL) {
                *err = e2;
            }
            return rs != VIGIL_OK ? rs : s;
        }
        vigil__audit_ev_set(&aev, who, "obs.duplicate", "obs_set", o->obs_id, o->patient_id,
                            "resent %s/%s", vigil__store_source_names[ev->source], ev->source_id);
        return pg_audit(q, &aev, err);
    }
    if (s != VIGIL_OK) {
        return s;
    }
    /* REQ STORE-AUDIT-ROW-CONTENT: the row's content is in the chain */
    vigil__audit_ev_set(&aev, who, "obs.put", "obs_set", o->obs_id, o->patient_id,
                        "%s/%s content=%s", vigil__store_source_names[ev->source],
                        ev->source_id[0] != '\0' ? ev->source_id : "-", digest);
    s = pg_audit(q, &aev, err);
    if (s == VIGIL_OK && it->score != NULL) {
        s = score_audit(q, who, o->obs_id, o->patient_id, it->score, o->score_id, err);
    }
    return s;
}

/* Prepare the statement of sql for the pipeline, its parameter types from
 * the first item that uses it (with a score or without). */
static vigil_status prepare_sets(pgc *q, const char *sql, bool with_score,
                                 const vigil_store_obs_item *items, size_t n,
                                 const vigil_store_put *out, pg_stmt **st, vigil_err *err)
{
    *st = NULL;
    for (size_t k = 0; k < n; k++) {
        if (out[k].status == VIGIL_OK && (items[k].score != NULL) == with_score) {
            PREP(sql, st);
            bind_set(*st, &items[k], &out[k]);
            vigil_status s = pg_pipe_prepare(q, *st, err);
            pg_done(*st);
            return s;
        }
    }
    return VIGIL_OK; /* no item uses it */
}

/* The INSERTs of items [k0, n) still to store, at most PG_PIPELINE_MAX, in
 * one pipeline; idx[i] the item of the i-th; *k_end the first item after. */
static vigil_status insert_sets(pgc *q, const vigil_store_obs_item *items, size_t n, size_t k0,
                                const vigil_store_put *out, pg_stmt *plain, pg_stmt *scored,
                                PGresult **res, size_t *idx, int *n_sent, int *failed,
                                size_t *k_end, vigil_err *err)
{
    vigil_status s = pg_pipe_begin(q, err);
    size_t k = k0;
    *n_sent = 0;
    for (; s == VIGIL_OK && k < n && *n_sent < PG_PIPELINE_MAX; k++) {
        if (out[k].status != VIGIL_OK) {
            continue; /* refused, with the rest of its unit (store.c or a pass before) */
        }
        pg_stmt *st = items[k].score != NULL ? scored : plain;
        bind_set(st, &items[k], &out[k]);
        s = pg_pipe_send(q, st, err);
        idx[(*n_sent)++] = k;
    }
    *k_end = k;
    *failed = -1;
    if (s == VIGIL_OK) {
        s = pg_pipe_collect(q, res, failed, "insert observation set", err);
    }
    return pg_pipe_end(q, s, err);
}

/*
 * One pass over the batch's sets, pipelined (libpq pipeline mode; issue
 * 15): the patients of every set read ahead in one round trip; the
 * wrong-patient rule for each (patient_match.c, in order: a new patient is
 * created before the next set reads it); every set's INSERT with its
 * score's, one statement each, in one round trip; then each outcome in
 * order, with its audit records (sent with the commit: pg_core.c). An
 * item-level refusal (item_failed) stops the pass with *bad set.
 */
static vigil_status pass_sets(pgc *q, const vigil_actor *who, const vigil_store_obs_item *items,
                              size_t n, vigil_store_put *out, size_t *bad, vigil_err *err)
{
    pg_pat_ahead *ahead = calloc(2 * n + 1, sizeof *ahead);
    size_t *idx = calloc(PG_PIPELINE_MAX, sizeof *idx);
    PGresult **res = calloc(PG_PIPELINE_MAX, sizeof *res);
    if (ahead == NULL || idx == NULL || res == NULL) {
        free(ahead);
        free(idx);
        free(res);
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory storing a batch");
    }
    q->pat_ahead = ahead;
    q->n_pat_ahead = 0;
    vigil_status s = read_patients_ahead(q, items, n, out, err);
    for (size_t k = 0; s == VIGIL_OK && *bad == SIZE_MAX && k < n; k++) {
        if (out[k].status != VIGIL_OK) {
            continue;
        }
        const vigil_obs_event *ev = items[k].ev;
        vigil_patient want;
        memset(&want, 0, sizeof want);
        memcpy(want.nhs_number, ev->nhs_number, sizeof want.nhs_number);
        memcpy(want.mrn, ev->mrn, sizeof want.mrn);
        want.sex = ev->sex;
        vigil_err e = {0};
        vigil_status ms = vigil__patient_match(&patient_io, q, who, &want, &out[k].patient_id, &e);
        if (ms != VIGIL_OK) {
            s = item_failed(q, items, n, out, k, ms, &e, bad, err);
        }
    }
    q->n_pat_ahead = 0;
    q->pat_ahead = NULL;
    free(ahead);
    pg_stmt *plain = NULL, *scored = NULL;
    if (s == VIGIL_OK && *bad == SIZE_MAX) {
        s = prepare_sets(q, q->obs_sql.insert, false, items, n, out, &plain, err);
    }
    if (s == VIGIL_OK && *bad == SIZE_MAX) {
        s = prepare_sets(q, obs_score_sql(q), true, items, n, out, &scored, err);
    }
    for (size_t k0 = 0; s == VIGIL_OK && *bad == SIZE_MAX && k0 < n;) {
        int n_sent = 0, failed = -1;
        size_t k_end = k0;
        vigil_err e = {0};
        s = insert_sets(q, items, n, k0, out, plain, scored, res, idx, &n_sent, &failed, &k_end,
                        &e);
        if (s != VIGIL_OK) {
            pg_pipe_clear(res, PG_PIPELINE_MAX);
            if (failed >= 0) {
                s = item_failed(q, items, n, out, idx[failed], s, &e, bad, err);
            } else if (err != NULL) {
                *err = e;
            }
            break;
        }
        for (int i = 0; s == VIGIL_OK && *bad == SIZE_MAX && i < n_sent; i++) {
            size_t k = idx[i];
            pg_stmt *st = items[k].score != NULL ? scored : plain;
            pg_stmt_take(st, res[i]);
            res[i] = NULL;
            vigil_status ks = set_stored(q, who, &items[k], st, &out[k], &e);
            pg_done(st);
            if (ks != VIGIL_OK) {
                s = item_failed(q, items, n, out, k, ks, &e, bad, err);
            }
        }
        pg_pipe_clear(res, PG_PIPELINE_MAX);
        k0 = k_end;
    }
    free(idx);
    free(res);
    return s;
}

/*
 * The batch in ONE savepoint, not one per unit (a savepoint per message cost
 * about a tenth of the store thread's time): when a unit is refused, the
 * whole pass is rolled back and run again without it, so the other units
 * are stored and the refused one leaves nothing. Refusals are rare (the
 * store checked every item before: these are conflicts found in stored
 * data), so the usual batch takes one pass. A batch of one item needs no
 * savepoint: its refusal rolls back the transaction, which holds nothing
 * else.
 */
static vigil_status batch_txn(pgc *q, const vigil_actor *who, const vigil_store_obs_item *items,
                              size_t n, vigil_store_put *out, vigil_err *err)
{
    bool savepoint = n > 1;
    for (;;) {
        pg_mark saved;
        vigil_status s = savepoint ? pg_savepoint(q, &saved, err) : VIGIL_OK;
        size_t bad = SIZE_MAX;
        if (s == VIGIL_OK) {
            s = pass_sets(q, who, items, n, out, &bad, err);
        }
        if (s != VIGIL_OK) {
            return s;
        }
        if (bad == SIZE_MAX) {
            return savepoint ? pg_release(q, err) : VIGIL_OK;
        }
        if (!savepoint) {
            return out[bad].status; /* roll the transaction back (pg_end sees the failure) */
        }
        s = pg_rollback_to(q, &saved, err);
        if (s != VIGIL_OK) {
            return s;
        }
        /* run again without the refused unit: the others' results start afresh */
        for (size_t k = 0; k < n; k++) {
            if (out[k].status == VIGIL_OK) {
                memset(&out[k], 0, sizeof out[k]);
            }
        }
    }
}

vigil_status vigil__pg_put_obs_batch(void *be, const vigil_actor *who,
                                     const vigil_store_obs_item *items, size_t n,
                                     vigil_store_put *out, vigil_err *err)
{
    pgc *q = be;
    vigil_status s = pg_begin(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    /* REQ STORE-DURABLE-ACK: returns only after COMMIT (synchronous=FULL) */
    s = pg_end(q, batch_txn(q, who, items, n, out, err), err);
    if (s != VIGIL_OK && n == 1 && out[0].status == s && item_level(s)) {
        return VIGIL_OK; /* a lone item refused: rolled back, reported in out[0] */
    }
    return s;
}

static vigil_status put_score_txn(pgc *q, const vigil_actor *who, int64_t obs_id,
                                  const vigil_store_score *score, int64_t *out_id, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(q->obs_sql.get, &st);
    pg_bind_i64(st, 1, obs_id);
    bool row = false;
    vigil_status s = pg_step(q, st, &row, "read observation set", err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (!row) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "obs_id", "no observation set %lld",
                             (long long)obs_id);
    }
    int64_t patient_id = pg_col_i64(st, 0);
    vigil_obs obs;
    pg_obs_read(st, 1, &obs);
    pg_done(st);
    s = vigil__store_check_score(&obs, score, err);
    if (s != VIGIL_OK) {
        return s;
    }
    return insert_score(q, who, obs_id, patient_id, score, out_id, err);
}

vigil_status vigil__pg_put_score(void *be, const vigil_actor *who, int64_t obs_id,
                                 const vigil_store_score *score, int64_t *out_id, vigil_err *err)
{
    pgc *q = be;
    int64_t id = 0;
    vigil_status s = pg_begin(q, err);
    if (s == VIGIL_OK) {
        s = pg_end(q, put_score_txn(q, who, obs_id, score, &id, err), err);
    }
    if (s == VIGIL_OK) {
        *out_id = id;
    }
    return s;
}

/* ---- the AI's part of a stored score, added later -------------------------- */

static const char SQL_SCORE_AI_GET[] =
    "SELECT o.patient_id, s.ai_prob IS NOT NULL FROM score s JOIN obs_set o ON o.id = s.obs_set_id"
    " WHERE s.id = ?1";
static const char SQL_SCORE_AI_SET[] =
    "UPDATE score SET ai_risk = ?2, ai_prob = ?3, explanation = ?4, model_version = ?5,"
    " ai_low_confidence = ?6 WHERE id = ?1 AND ai_prob IS NULL";

/* Item-level refusals (not found, already scored) write nothing, so they
 * need no savepoint; any other failure fails the transaction. */
static vigil_status put_ai_one(pgc *q, const vigil_actor *who, const vigil_store_ai_item *it,
                               vigil_status *status, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_SCORE_AI_GET, &st);
    pg_bind_i64(st, 1, it->score_id);
    bool row = false;
    vigil_status s = pg_step(q, st, &row, "read score", err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (!row) {
        *status = VIGIL_ERR_NOT_FOUND;
        return VIGIL_OK;
    }
    int64_t patient_id = pg_col_i64(st, 0);
    bool has_ai = pg_col_int(st, 1) != 0;
    pg_done(st);
    if (has_ai) {
        *status = VIGIL_ERR_CONFLICT;
        return VIGIL_OK;
    }
    PREP(SQL_SCORE_AI_SET, &st);
    pg_bind_i64(st, 1, it->score_id);
    pg_bind_real(st, 2, it->ai.risk);
    pg_bind_real(st, 3, it->ai.prob);
    pg_bind_text_opt(st, 4, it->ai.explanation_json);
    pg_bind_text(st, 5, it->ai.model_version);
    pg_bind_int(st, 6, it->ai.low_confidence ? 1 : 0);
    s = pg_run(q, st, "store AI score", err);
    if (s != VIGIL_OK) {
        return s;
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "score.ai", "score", it->score_id, patient_id,
                        "ai %.4f model %s%s", it->ai.prob, it->ai.model_version,
                        it->ai.low_confidence ? " low-confidence" : "");
    return pg_audit(q, &ev, err);
}

static vigil_status ai_batch_txn(pgc *q, const vigil_actor *who, const vigil_store_ai_item *items,
                                 size_t n, vigil_status *status, vigil_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (status[i] != VIGIL_OK) {
            continue; /* refused by store.c */
        }
        vigil_status s = put_ai_one(q, who, &items[i], &status[i], err);
        if (s != VIGIL_OK) {
            return s;
        }
    }
    return VIGIL_OK;
}

vigil_status vigil__pg_put_ai_batch(void *be, const vigil_actor *who,
                                    const vigil_store_ai_item *items, size_t n,
                                    vigil_status *status, vigil_err *err)
{
    pgc *q = be;
    if (n == 0) {
        return VIGIL_OK;
    }
    vigil_status s = pg_begin(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    return pg_end(q, ai_batch_txn(q, who, items, n, status, err), err);
}

/* ---- reading a patient's observations ----------------------------------- */

/* Check the patient exists, then prepare sql with (patient_id, from_ms,
 * to_ms, limit) bound to ?1..?4: the two reads of a patient's sets. */
static vigil_status prep_patient_range(pgc *q, const char *sql, int64_t patient_id, int64_t from_ms,
                                       int64_t to_ms, size_t limit, pg_stmt **st,
                                       vigil_err *err)
{
    vigil_status s = pg_require_row(q, SQL_PAT_EXISTS, patient_id, "patient", err);
    if (s != VIGIL_OK) {
        return s;
    }
    PREP(sql, st);
    pg_bind_i64(*st, 1, patient_id);
    pg_bind_i64(*st, 2, from_ms);
    pg_bind_i64(*st, 3, to_ms);
    pg_bind_i64(*st, 4, limit >= (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit);
    return VIGIL_OK;
}

/* The "obs.read" audit record of reading n sets of patient_id in [from_ms, to_ms]. */
static vigil_status audit_obs_read(pgc *q, const vigil_actor *who, int64_t patient_id,
                                   int64_t from_ms, int64_t to_ms, size_t n, const char *what,
                                   vigil_err *err)
{
    vigil__audit_ev ev;
    char f[32], t[32];
    vigil__store_iso8601(from_ms, f);
    vigil__store_iso8601(to_ms, t);
    vigil__audit_ev_set(&ev, who, "obs.read", "patient", patient_id, patient_id,
                        "%zu sets %s..%s%s", n, f, t, what);
    return pg_audit(q, &ev, err);
}


static vigil_status recent_txn(pgc *q, const vigil_actor *who, int64_t patient_id, int64_t from_ms,
                               int64_t to_ms, size_t max, vigil_store_vitals *out, size_t *n,
                               vigil_err *err)
{
    pg_stmt *st = NULL;
    vigil_status s =
        prep_patient_range(q, q->obs_sql.recent, patient_id, from_ms, to_ms, max, &st, err);
    if (s != VIGIL_OK) {
        return s;
    }
    size_t k = 0;
    for (;;) {
        bool row = false;
        s = pg_step(q, st, &row, "read observations", err);
        if (s != VIGIL_OK || !row) {
            break;
        }
        out[k].t_ms = pg_col_i64(st, 0);
        pg_obs_read(st, 1, &out[k].obs);
        k++;
    }
    if (s != VIGIL_OK) {
        return s;
    }
    for (size_t i = 0; i < k / 2; i++) { /* oldest first */
        vigil_store_vitals t = out[i];
        out[i] = out[k - 1 - i];
        out[k - 1 - i] = t;
    }
    *n = k;
    return audit_obs_read(q, who, patient_id, from_ms, to_ms, k, " (vital signs, the latest)", err);
}

vigil_status vigil__pg_obs_recent(void *be, const vigil_actor *who, int64_t patient_id,
                                  int64_t from_ms, int64_t to_ms, size_t max,
                                  vigil_store_vitals *out, size_t *n, vigil_err *err)
{
    pgc *q = be;
    size_t got = 0;
    vigil_status s = pg_begin(q, err);
    if (s == VIGIL_OK) {
        s = pg_end(q, recent_txn(q, who, patient_id, from_ms, to_ms, max, out, &got, err), err);
    }
    *n = s == VIGIL_OK ? got : 0;
    return s;
}

/* q->obs_sql.range: 10 columns, the set's, s.explanation, then PG_SCORE_COLS */
#define RANGE_SET_COL 10
#define RANGE_EXPLANATION_COL (RANGE_SET_COL + PG_OBS_NCOLS)
#define RANGE_SCORE_COL (RANGE_EXPLANATION_COL + 1)

static vigil_status read_range_row(pg_stmt *st, vigil_store_obs_row *r, vigil_err *err)
{
    memset(r, 0, sizeof *r);
    r->obs_id = pg_col_i64(st, 0);
    r->patient_id = pg_col_i64(st, 1);
    r->admission_id = pg_col_i64(st, 2);
    r->received_ms = pg_col_i64(st, 3);
    vigil_obs_event_init(&r->ev);
    r->ev.t_ms = pg_col_i64(st, 4);
    int src = pg_col_enum(st, 5, vigil__store_source_names, VIGIL_SRC_COUNT);
    r->ev.source = src >= 0 ? (vigil_obs_source)src : VIGIL_SRC_UNKNOWN;
    pg_col_text(st, 6, r->ev.source_id, sizeof r->ev.source_id);
    pg_col_text(st, 7, r->ev.recorded_by, sizeof r->ev.recorded_by);
    pg_col_text(st, 8, r->ev.nhs_number, sizeof r->ev.nhs_number);
    pg_col_text(st, 9, r->ev.mrn, sizeof r->ev.mrn);
    pg_obs_read(st, RANGE_SET_COL, &r->ev.obs);
    const int c = RANGE_SCORE_COL;
    if (pg_col_type(st, c) == PG_NULL) {
        return VIGIL_OK;
    }
    r->has_score = true;
    r->score_id = pg_col_i64(st, c);
    r->scored_ms = pg_col_i64(st, c + 1);
    vigil__pg_read_news2(st, c, &r->news2);
    r->has_ai = pg_col_type(st, c + 17) != PG_NULL;
    r->ai_risk = pg_col_real(st, c + 16);
    r->ai_prob = pg_col_real(st, c + 17);
    pg_col_text(st, c + 18, r->model_version, sizeof r->model_version);
    r->ai_low_confidence = r->has_ai && pg_col_int(st, c + 19) != 0;
    const unsigned char *ex = (const unsigned char *)pg_col_cstr(st, RANGE_EXPLANATION_COL);
    if (ex != NULL) {
        size_t n = (size_t)pg_col_bytes(st, RANGE_EXPLANATION_COL);
        r->explanation_json = malloc(n + 1);
        if (r->explanation_json == NULL) {
            return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory reading scores");
        }
        memcpy(r->explanation_json, ex, n + 1);
    }
    return VIGIL_OK;
}

static vigil_status range_txn(pgc *q, const vigil_actor *who, int64_t patient_id, int64_t from_ms,
                              int64_t to_ms, size_t max_rows, vigil_store_obs_list *l,
                              vigil_err *err)
{
    pg_stmt *st = NULL;
    size_t limit = max_rows >= (size_t)INT64_MAX ? max_rows : max_rows + 1; /* +1: truncated? */
    vigil_status s =
        prep_patient_range(q, q->obs_sql.range, patient_id, from_ms, to_ms, limit, &st, err);
    if (s != VIGIL_OK) {
        return s;
    }
    size_t cap = 0;
    for (;;) {
        bool row = false;
        s = pg_step(q, st, &row, "read observations", err);
        if (s != VIGIL_OK || !row) {
            break;
        }
        if (l->n == max_rows) {
            l->truncated = true;
            pg_done(st);
            break;
        }
        if (l->n == cap) {
            size_t ncap = cap == 0 ? 16 : cap * 2;
            vigil_store_obs_row *nr = realloc(l->rows, ncap * sizeof *nr);
            if (nr == NULL) {
                pg_done(st);
                return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL,
                                     "out of memory reading observations");
            }
            l->rows = nr;
            cap = ncap;
        }
        s = read_range_row(st, &l->rows[l->n], err);
        l->n++; /* counted even on failure so fini frees what was read */
        if (s != VIGIL_OK) {
            pg_done(st);
            return s;
        }
    }
    if (s != VIGIL_OK) {
        return s;
    }
    return audit_obs_read(q, who, patient_id, from_ms, to_ms, l->n, "", err);
}

vigil_status vigil__pg_obs_range(void *be, const vigil_actor *who, int64_t patient_id,
                                 int64_t from_ms, int64_t to_ms, size_t max_rows,
                                 vigil_store_obs_list *out, vigil_err *err)
{
    pgc *q = be;
    vigil_store_obs_list l = {0, NULL, false};
    vigil_status s = pg_begin(q, err);
    if (s == VIGIL_OK) {
        s = pg_end(q, range_txn(q, who, patient_id, from_ms, to_ms, max_rows, &l, err), err);
    }
    if (s != VIGIL_OK) {
        vigil_store_obs_list_fini(&l);
        return s;
    }
    *out = l;
    return VIGIL_OK;
}
