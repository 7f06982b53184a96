/*
 * api.c: the JSON API's routes and their handlers: the ward list, a
 * patient's observations and scores, posting observations, staff concerns,
 * Martha's Rule calls and reviews, acknowledgements, daily answers, AI
 * opt-outs, Scale 2 decisions, revised escalation plans, open alerts, the
 * Martha's Rule export, and the route table with the roles each route allows.
 *
 * Every handler here runs on the store thread. Each patient request is
 * checked against the user's ward scope first (404, exactly as for a
 * patient who does not exist, so that a user cannot learn who is on another
 * ward: issue 12 finding 12), and every
 * read or write of patient data goes through a store call that writes its
 * audit record with the session's user and the stated reason
 * (X-Vigil-Reason, default "direct care").
 *
 * Does not: authenticate (http.c) or sign in (auth.c).
 * Spec: docs/server.md (endpoints and roles); ../shared/spec/escalation.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"
#include "vigil/util.h"
#include "vigil/vitals.h"

#define N (1u << VIGIL_STORE_ROLE_NURSE)
#define D (1u << VIGIL_STORE_ROLE_DOCTOR)
#define O (1u << VIGIL_STORE_ROLE_OUTREACH)
#define S (1u << VIGIL_STORE_ROLE_SAFETY_OFFICER)
#define A (1u << VIGIL_STORE_ROLE_ADMIN)
#define CLINICAL (N | D | O)
#define ANYONE (N | D | O | S | A)

#define OBS_WINDOW_MS (72LL * 3600 * 1000)
#define OBS_ROWS_MAX 500

/* ---- shared helpers ------------------------------------------------------------ */

/* The patient of path parameter i, loaded and within the user's scope; NULL
 * with the error response set otherwise. */
static srv_patient *patient_for(vigil_server *srv, srv_req *r, size_t i)
{
    long id = 0;
    if (i >= r->n_params || vigil_parse_long(r->params[i], 1, INT64_MAX, &id) != VIGIL_OK) {
        vigil__srv_req_error(r, 404, "not-found", "no such patient");
        return NULL;
    }
    vigil_status st;
    vigil_err err = {0};
    bool denied = false;
    /* scope first: nothing is read (or audited) for a patient out of scope */
    srv_patient *p = vigil__srv_pat_get_for(srv, &r->user, &r->who, id, &denied, &st, &err);
    if (denied) {
        /* issue 12 finding 12: exactly as if there were no such patient */
        vigil__srv_req_out_of_scope(r, "no such patient");
        return NULL;
    }
    if (p == NULL) {
        if (st == VIGIL_ERR_NOT_FOUND) {
            vigil__srv_req_error(r, 404, "not-found", "no such patient");
        } else {
            vigil__srv_req_store_error(r, st, &err);
        }
        return NULL;
    }
    return p;
}

/* Optional string member: NULL when absent; *bad when present but not a string. */
static const char *opt_str(json_t *o, const char *k, bool *bad)
{
    json_t *v = json_object_get(o, k);
    if (v == NULL || json_is_null(v)) {
        return NULL;
    }
    if (!json_is_string(v)) {
        *bad = true;
        return NULL;
    }
    return json_string_value(v);
}

/* Refuse members not in allowed (NULL-terminated). */
static bool only_keys(srv_req *r, const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach(r->body, k, v)
    {
        bool ok = false;
        for (size_t i = 0; allowed[i] != NULL && !ok; i++) {
            ok = strcmp(allowed[i], k) == 0;
        }
        if (!ok) {
            vigil__srv_req_error(r, 422, "unprocessable", "unknown member \"%s\"", k);
            return false;
        }
    }
    return true;
}

/* A time member (ISO 8601 with zone); def when absent. */
static bool time_member(srv_req *r, const char *k, int64_t def, int64_t *out)
{
    bool bad = false;
    const char *s = opt_str(r->body, k, &bad);
    if (bad) {
        vigil__srv_req_error(r, 422, "unprocessable", "\"%s\" must be a date-time string", k);
        return false;
    }
    if (s == NULL) {
        *out = def;
        return true;
    }
    if (vigil__srv_time_parse(s, out) != VIGIL_OK) {
        vigil__srv_req_error(r, 422, "unprocessable",
                             "\"%s\" is not a date-time like 2025-01-14T08:30:00Z", k);
        return false;
    }
    return true;
}

static int name_index(const char *s, const char *(*name)(int), int n)
{
    for (int i = 0; s != NULL && i < n; i++) {
        if (strcmp(s, name(i)) == 0) {
            return i;
        }
    }
    return -1;
}

static const char *feeling_name(int i)
{
    return vigil_store_feeling_name((vigil_store_feeling)i);
}
static const char *caller_name(int i)
{
    return vigil_store_caller_name((vigil_store_caller)i);
}
static const char *category_name(int i)
{
    return vigil_store_marthas_category_name((vigil_store_marthas_category)i);
}
static const char *outcome_name(int i)
{
    return vigil_store_marthas_outcome_name((vigil_store_marthas_outcome)i);
}
static const char *esc_ack_name(int i)
{
    return vigil_escalation_ack_action_name((vigil_esc_ack_action)i);
}
static const char *esc_level_name(int i)
{
    return vigil_escalation_level_name((vigil_esc_level)i);
}

/* ---- JSON views ---------------------------------------------------------------- */

json_t *vigil__srv_news2_json(const vigil_news2 *n, int64_t t_ms)
{
    json_t *missing = json_array(), *sub = json_object(), *flags = json_array();
    for (int i = 0; i < VIGIL_NEWS2_PARAM_COUNT; i++) {
        const char *name = vigil_news2_param_name((vigil_news2_param)i);
        if (n->sub[i] == VIGIL_NEWS2_SUB_MISSING) {
            json_array_append_new(missing, json_string(name));
            json_object_set_new(sub, name, json_null());
        } else {
            json_object_set_new(sub, name, json_integer(n->sub[i]));
        }
    }
    for (unsigned b = 0; b < VIGIL_NEWS2_FLAG_COUNT_; b++) {
        if (n->flags & (1u << b)) {
            json_array_append_new(flags, json_string(vigil_news2_flag_name(1u << b)));
        }
    }
    return json_pack("{s:i, s:b, s:b, s:o, s:o, s:s, s:s, s:s, s:s, s:b, s:i, s:o, s:o}", "total",
                     n->total, "complete", n->complete, "lower_bound", !n->complete, "missing",
                     missing, "sub_scores", sub, "risk", vigil_news2_risk_name(n->risk),
                     "monitoring", vigil_news2_monitoring_name(n->monitoring), "response",
                     vigil_news2_response_name(n->response), "response_text",
                     vigil_news2_response_text(n->response), "single_param_3", n->single_param_3,
                     "spo2_scale", n->spo2_scale, "flags", flags, "measured_at",
                     vigil__srv_time_json(t_ms));
}

json_t *vigil__srv_esc_json(const vigil_escalation_result *res)
{
    json_t *reasons = json_array();
    for (size_t i = 0; i < res->n_reasons; i++) {
        const vigil_esc_reason *x = &res->reasons[i];
        char text[256];
        vigil_escalation_reason_describe(x, text, sizeof text);
        json_array_append_new(reasons, json_pack("{s:s, s:s, s:b, s:s}", "code",
                                                 vigil_escalation_reason_name(x->code), "level",
                                                 vigil_escalation_level_name(x->level), "drives",
                                                 x->drives, "text", text));
    }
    return json_pack("{s:s, s:s, s:s, s:o, s:b, s:b, s:o, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:I}",
                     "level", vigil_escalation_level_name(res->level), "level_text",
                     vigil_escalation_level_text(res->level), "clinical_level",
                     vigil_escalation_level_name(res->clinical_level), "reasons", reasons,
                     "news2_incomplete", res->news2_incomplete, "news2_stale", res->news2_stale,
                     "obs_due_at",
                     res->has_obs_due ? vigil__srv_time_json(res->obs_due_ms) : json_null(),
                     "obs_overdue", res->obs_overdue, "ai_used", res->ai_used, "ai_opted_out",
                     res->ai_opted_out, "ai_low_confidence", res->ai_low_confidence, "plan_applied",
                     res->plan_applied, "worse", res->ward_list_worse, "daily_question_due",
                     res->feels_due, "open_martha_calls", (json_int_t)res->n_martha_open);
}

static json_t *alert_json(const vigil_esc_alert *a)
{
    json_t *ack = json_null();
    if (a->ack.action != VIGIL_ESC_ACK_NONE) {
        ack =
            json_pack("{s:s, s:s, s:o}", "action", vigil_escalation_ack_action_name(a->ack.action),
                      "by", a->ack.by, "at", vigil__srv_time_json(a->ack.at_ms));
    }
    return json_pack(
        "{s:I, s:s, s:s, s:s, s:o, s:o, s:i, s:i, s:b, s:o}", "alert_id", (json_int_t)a->id, "kind",
        a->kind == VIGIL_ESC_ALERT_MARTHA ? "marthas-rule" : "episode", "level",
        vigil_escalation_level_name(a->level), "notify", vigil_escalation_level_text(a->level),
        "raised_at", vigil__srv_time_json(a->opened_ms), "last_sent_at",
        vigil__srv_time_json(a->last_sent_ms), "n_sent", (int)a->n_sent, "rota_step",
        (int)a->rota_step, "acknowledged", a->ack.action != VIGIL_ESC_ACK_NONE, "ack", ack);
}

static json_t *alerts_json(const srv_patient *p)
{
    json_t *a = json_array();
    if (p->esc.episode_open) {
        json_array_append_new(a, alert_json(&p->esc.episode));
    }
    for (size_t i = 0; i < p->esc.n_martha; i++) {
        json_t *j = alert_json(&p->esc.martha[i]);
        const srv_alert_link *l = vigil__srv_pat_link(p, p->esc.martha[i].id);
        json_object_set_new(j, "call_id",
                            l != NULL && l->call_id > 0 ? json_integer((json_int_t)l->call_id)
                                                        : json_null()); /* for its review */
        json_array_append_new(a, j);
    }
    return a;
}

/* The `ai` object of the JSON views. A scorer that had not enough data to
 * score (vigil/ai_scorer.h) leaves probability 0 with low_confidence set (a
 * calibrated probability is never exactly 0): that reads back, from memory
 * or the store, as "status": "not-enough-data" with probability null and a
 * reason, never as a low risk. ex (taken, may be NULL): the explanation. */
static json_t *ai_object(double prob, bool low_confidence, const char *version, json_t *ex,
                         bool with_explanation)
{
    bool not_scored = !vigil__srv_ai_scored(prob, low_confidence);
    const char *why = json_string_value(json_object_get(ex, "reason"));
    json_t *o =
        json_pack("{s:s, s:o, s:b, s:s}", "status", not_scored ? "not-enough-data" : "scored",
                  "probability", not_scored ? json_null() : json_real(prob), "low_confidence",
                  low_confidence, "model_version", version);
    if (not_scored) {
        json_object_set_new(o, "reason",
                            json_string(why != NULL ? why : VIGIL__SRV_AI_NOT_ENOUGH_DATA));
    }
    if (with_explanation) {
        json_object_set_new(o, "explanation", ex != NULL ? ex : json_null());
    } else {
        json_decref(ex);
    }
    return o;
}

/* ["rr", "hr"] for a mask of NEWS2 parameters. */
static json_t *params_json(unsigned mask)
{
    json_t *a = json_array();
    for (int i = 0; i < VIGIL_NEWS2_PARAM_COUNT; i++) {
        if (mask & (1u << i)) {
            json_array_append_new(a, json_string(vigil_news2_param_name((vigil_news2_param)i)));
        }
    }
    return a;
}

/* REQ ESC-PARTIAL-NEVER-LOWERS: the NEWS2 a nurse is shown. The latest set
 * when it is complete; else the highest of the latest (partial) set, the
 * latest complete set and the highest partial set since, so a partial set
 * never shows a lower figure than the earlier sets support. */
static json_t *shown_news2_json(const srv_patient *p)
{
    if (!p->has_news2) {
        return json_null();
    }
    const vigil_news2 *n = &p->news2;
    int64_t t = p->news2_t_ms;
    const char *basis = "latest-set";
    if (!p->news2.complete && p->has_cnews2 && p->cnews2.total >= n->total) {
        n = &p->cnews2;
        t = p->cnews2_t_ms;
        basis = "last-complete-set";
    }
    if (!p->news2.complete && p->has_pk && p->pk.total > n->total) {
        n = &p->pk;
        t = p->pk_t_ms;
        basis = "partial-set-since-last-complete";
    }
    json_t *j = vigil__srv_news2_json(n, t);
    json_object_set_new(j, "basis", json_string(basis));
    json_object_set_new(j, "latest_set",
                        json_pack("{s:o, s:b, s:i, s:o}", "measured_at",
                                  vigil__srv_time_json(p->news2_t_ms), "complete",
                                  p->news2.complete, "total", p->news2.total, "carried",
                                  params_json(p->news2_carried)));
    return j;
}

/* The ward-list view of one patient at now_ms (ward_json.c writes the same
 * bytes for the ward list: change both). */
json_t *vigil__srv_patient_view(const vigil_server *srv, const srv_patient *p,
                                const vigil_store_ward_entry *e, int64_t now_ms)
{
    vigil_escalation_result res;
    vigil__srv_esc_view(srv, p, now_ms, &res);
    json_t *ai = json_null();
    if (p->has_news2 && p->has_ai && !p->opted_out) {
        ai = ai_object(p->ai_prob, p->ai_low_confidence, p->ai_version, NULL, false);
    }
    json_t *plan = json_pack(
        "{s:b, s:b, s:o, s:o}", "active", p->plan_stored, "applies_here", p->plan.present,
        "review_at", p->plan_stored ? vigil__srv_time_json(p->plan_review_ms) : json_null(),
        "expires_at", p->plan_stored ? vigil__srv_time_json(p->plan_expires_ms) : json_null());
    json_t *daily =
        json_pack("{s:o, s:o, s:b, s:b}", "answer",
                  p->has_daily ? json_string(vigil_store_feeling_name(p->daily)) : json_null(),
                  "at", p->has_daily ? vigil__srv_time_json(p->daily_ms) : json_null(), "worse",
                  res.ward_list_worse, "due", res.feels_due);
    json_t *obs =
        json_pack("{s:o, s:o, s:b, s:b}", "last_at",
                  vigil__srv_time_json(e != NULL ? e->last_obs_ms : p->news2_t_ms), "due_at",
                  res.has_obs_due ? vigil__srv_time_json(res.obs_due_ms) : json_null(), "overdue",
                  res.obs_overdue, "stale", res.news2_stale);
    json_t *who = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)p->id, "nhs_number", p->nhs,
                            "mrn", p->mrn, "name", e != NULL ? e->patient.name : "");
    return json_pack("{s:o, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:{s:b, s:o}, s:o, s:i}",
                     "patient", who, "ward", p->ward, "bed", p->bed, "news2", shown_news2_json(p),
                     "ai", ai, "escalation", vigil__srv_esc_json(&res), "observations", obs,
                     "alerts", alerts_json(p), "daily", daily, "ai_opted_out", p->opted_out,
                     "scale2", "in_force", p->scale2, "since",
                     p->scale2 ? vigil__srv_time_json(p->scale2_since_ms) : json_null(), "plan",
                     plan, "marthas_unreviewed", e != NULL ? e->state.n_unreviewed_marthas : 0);
}

/* ---- handlers -------------------------------------------------------------------- */

void vigil__srv_h_me(vigil_server *srv, srv_req *r)
{
    (void)srv;
    json_t *w = json_array();
    for (size_t i = 0; i < r->user.n_wards; i++) {
        json_array_append_new(w, json_string(r->user.wards[i]));
    }
    vigil__srv_req_json(r, 200,
                        json_pack("{s:{s:s, s:s, s:o}}", "user", "username", r->user.username,
                                  "role", vigil_store_role_name(r->user.role), "wards", w));
}

static void h_logout(vigil_server *srv, srv_req *r)
{
    vigil__srv_log(srv, "auth.logout", "user %s signed out", r->user.username);
    vigil__srv_req_json(r, 200, json_pack("{s:b}", "signed_out", 1));
}

static void h_ward_list(vigil_server *srv, srv_req *r)
{
    const char *ward = r->params[0];
    if (!vigil__srv_scope_ok(&r->user, ward)) {
        vigil__srv_req_error(r, 403, "forbidden", "ward %s is not in your scope", ward);
        return;
    }
    int64_t now = vigil__srv_now_ms();
    vigil_store_ward_list l;
    vigil_err err = {0};
    vigil_status st = vigil_store_ward_list_get(srv->store, &r->who, ward, now, &l, &err);
    if (st != VIGIL_OK) {
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    srv_patient **ps = l.n > 0 ? malloc(l.n * sizeof *ps) : NULL;
    if (l.n > 0 && ps == NULL) {
        vigil_store_ward_list_fini(&l);
        vigil__srv_req_error(r, 500, "internal", "out of memory");
        return;
    }
    for (size_t i = 0; i < l.n; i++) {
        vigil_store_patient_current c;
        memset(&c, 0, sizeof c);
        c.entry = l.rows[i];
        snprintf(c.ward, sizeof c.ward, "%s", ward);
        ps[i] = vigil__srv_pat_from_current(srv, &c);
    }
    /* written straight into the response (ward_json.c), without a jansson
     * tree: the same bytes (issue 13 item 10) */
    vigil__srv_req_json_text(
        r, 200,
        vigil__srv_ward_list_text(srv, ward, now,
                                  srv->cfg.scorer != NULL ? "news2+ai" : "news2-only", ps,
                                  l.rows, l.n));
    free(ps);
    vigil_store_ward_list_fini(&l);
}

static void h_patient(vigil_server *srv, srv_req *r)
{
    srv_patient *p = patient_for(srv, r, 0);
    if (p == NULL) {
        return;
    }
    int64_t now = vigil__srv_now_ms();
    vigil_store_patient_current c;
    vigil_err err = {0};
    vigil_status st = vigil_store_patient_current_get(srv->store, &r->who, p->id, now, &c, &err);
    if (st != VIGIL_OK) {
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    p = vigil__srv_pat_from_current(srv, &c);
    vigil__srv_req_json(r, 200, vigil__srv_patient_view(srv, p, &c.entry, now));
}

static json_t *num_or_null(double v)
{
    return v == v ? json_real(v) : json_null();
}

/* A set's values under the vital-sign table's JSON keys, chart order (the
 * SpO2 scale after SpO2); null when not measured. */
static json_t *obs_values_json(const vigil_obs *ob)
{
    static const char *const o2[] = {NULL, "air", "oxygen"};
    json_t *values = json_object();
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        json_t *x = json_null();
        if (v->type == VIGIL_VITAL_NUMBER) {
            x = num_or_null(vigil_vital_number(ob, v));
        } else if (v->type == VIGIL_VITAL_O2 && (unsigned)ob->o2 < 3 && o2[ob->o2] != NULL) {
            x = json_string(o2[ob->o2]);
        } else if (v->type == VIGIL_VITAL_ACVPU && ob->acvpu != VIGIL_ACVPU_UNKNOWN) {
            x = json_string(vigil_acvpu_name(ob->acvpu));
        }
        json_object_set_new(values, v->key, x);
        if (v->param == VIGIL_NEWS2_SPO2) {
            json_object_set_new(values, "spo2_scale", json_integer(ob->spo2_scale));
        }
    }
    return values;
}

static json_t *obs_row_json(const vigil_store_obs_row *o)
{
    const vigil_obs *ob = &o->ev.obs;
    json_t *values = obs_values_json(ob);
    json_t *ai = json_null();
    if (o->has_ai) {
        json_t *ex = o->explanation_json != NULL ? json_loads(o->explanation_json, 0, NULL) : NULL;
        ai = ai_object(o->ai_prob, o->ai_low_confidence, o->model_version, ex, true);
    }
    static const char *const src[] = {"unknown", "hl7", "fhir", "api", "replay"};
    /* what the set carried itself, and what its score took from values
     * measured within the assembly window (scored but not in the set) */
    unsigned carried = vigil_obs_carried(ob), scored = 0;
    for (int i = 0; o->has_score && i < VIGIL_NEWS2_PARAM_COUNT; i++) {
        scored |= o->news2.sub[i] != VIGIL_NEWS2_SUB_MISSING ? 1u << i : 0u;
    }
    return json_pack("{s:I, s:o, s:o, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "obs_id",
                     (json_int_t)o->obs_id, "measured_at", vigil__srv_time_json(o->ev.t_ms),
                     "received_at", vigil__srv_time_json(o->received_ms), "source",
                     (unsigned)o->ev.source < 5 ? src[o->ev.source] : "unknown", "source_id",
                     o->ev.source_id, "recorded_by", o->ev.recorded_by, "values", values, "news2",
                     o->has_score ? vigil__srv_news2_json(&o->news2, o->ev.t_ms) : json_null(),
                     "ai", ai, "carried", params_json(carried), "assembled_from_window",
                     params_json(scored & ~carried));
}

static vigil_status history_row(void *ctx, const vigil_store_history_event *e, vigil_err *err)
{
    json_t *j = json_pack("{s:o, s:s, s:s, s:s, s:s}", "at", vigil__srv_time_json(e->t_ms), "kind",
                          e->kind, "what", e->what, "by", e->by, "detail", e->detail);
    if (j == NULL || json_array_append_new(ctx, j) != 0) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory for the history");
    }
    return VIGIL_OK;
}

/* GET /api/patients/{id}/history: alerts, acknowledgements, concerns, calls,
 * reviews, answers, opt-outs, Scale 2 and plans, newest first (500 at most). */
static void h_history(vigil_server *srv, srv_req *r)
{
    srv_patient *p = patient_for(srv, r, 0);
    if (p == NULL) {
        return;
    }
    json_t *rows = json_array();
    vigil_err err = {0};
    vigil_status st =
        vigil_store_patient_history(srv->store, &r->who, p->id, 500, history_row, rows, &err);
    if (st != VIGIL_OK) {
        json_decref(rows);
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    vigil__srv_req_json(r, 200,
                        json_pack("{s:I, s:o}", "patient_id", (json_int_t)p->id, "events", rows));
}

/* from/to query arguments (ISO 8601), defaulting to the last 72 hours. */
static bool range_of(vigil_server *srv, srv_req *r, int64_t now, int64_t *from, int64_t *to)
{
    const char *f = json_string_value(json_object_get(r->query, "from"));
    const char *t = json_string_value(json_object_get(r->query, "to"));
    *to = now + srv->cfg.future_skew_ms;
    *from = now - OBS_WINDOW_MS;
    if ((f != NULL && vigil__srv_time_parse(f, from) != VIGIL_OK) ||
        (t != NULL && vigil__srv_time_parse(t, to) != VIGIL_OK) || *from > *to) {
        vigil__srv_req_error(r, 400, "bad-request",
                             "from and to are date-times like 2025-01-14T08:30:00Z, from <= to");
        return false;
    }
    return true;
}

static void h_observations(vigil_server *srv, srv_req *r)
{
    srv_patient *p = patient_for(srv, r, 0);
    int64_t now = vigil__srv_now_ms(), from, to;
    if (p == NULL || !range_of(srv, r, now, &from, &to)) {
        return;
    }
    vigil_store_obs_list l;
    vigil_err err = {0};
    vigil_status st =
        vigil_store_obs_range(srv->store, &r->who, p->id, from, to, OBS_ROWS_MAX, &l, &err);
    if (st != VIGIL_OK) {
        vigil_store_obs_list_fini(&l);
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    json_t *rows = json_array();
    for (size_t i = 0; i < l.n; i++) {
        json_array_append_new(rows, obs_row_json(&l.rows[i]));
    }
    bool truncated = l.truncated;
    vigil_store_obs_list_fini(&l);
    vigil__srv_req_json(r, 200,
                        json_pack("{s:I, s:o, s:o, s:b, s:o}", "patient_id", (json_int_t)p->id,
                                  "from", vigil__srv_time_json(from), "to",
                                  vigil__srv_time_json(to), "truncated", truncated, "observations",
                                  rows));
}

/* One numeric vital: absent or null = not measured. */
static bool vital(srv_req *r, const char *k, double *out)
{
    json_t *v = json_object_get(r->body, k);
    if (v == NULL || json_is_null(v)) {
        return true;
    }
    if (!json_is_number(v)) {
        vigil__srv_req_error(r, 422, "unprocessable", "\"%s\" must be a number", k);
        return false;
    }
    *out = json_number_value(v);
    return true;
}

/* The observation set in a POST body. */
static bool obs_of(srv_req *r, vigil_obs *ob)
{
    /* the members: the vital-sign table's JSON keys (vigil/vitals.h) */
    const char *keys[VIGIL_NEWS2_PARAM_COUNT + 3];
    size_t nk = 0;
    keys[nk++] = "measured_at";
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        keys[nk++] = vigil_vital_get((vigil_news2_param)p)->key;
    }
    keys[nk++] = "source_id";
    keys[nk] = NULL;
    if (!only_keys(r, keys)) {
        return false;
    }
    vigil_obs_init(ob);
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        double x = NAN;
        if (v->type != VIGIL_VITAL_NUMBER) {
            continue;
        }
        if (!vital(r, v->key, &x)) {
            return false;
        }
        vigil_vital_set_number(ob, v, x);
    }
    bool bad = false;
    const char *o2 = NULL; /* the rows of the other kinds, by their keys */
    const char *acvpu = NULL;
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        if (v->type == VIGIL_VITAL_O2) {
            o2 = opt_str(r->body, v->key, &bad);
        } else if (v->type == VIGIL_VITAL_ACVPU) {
            acvpu = opt_str(r->body, v->key, &bad);
        }
    }
    if (o2 != NULL) {
        ob->o2 = strcmp(o2, "air") == 0      ? VIGIL_O2_AIR
                 : strcmp(o2, "oxygen") == 0 ? VIGIL_O2_OXYGEN
                                             : VIGIL_O2_COUNT;
        bad = bad || ob->o2 == VIGIL_O2_COUNT;
    }
    if (acvpu != NULL) {
        ob->acvpu = VIGIL_ACVPU_COUNT;
        for (int a = VIGIL_ACVPU_A; a < VIGIL_ACVPU_COUNT; a++) {
            if (strcmp(acvpu, vigil_acvpu_name((vigil_acvpu)a)) == 0) {
                ob->acvpu = (vigil_acvpu)a;
            }
        }
        bad = bad || ob->acvpu == VIGIL_ACVPU_COUNT;
    }
    if (bad) {
        vigil__srv_req_error(r, 422, "unprocessable",
                             "o2 is \"air\" or \"oxygen\"; acvpu is one of A C V P U");
        return false;
    }
    if (vigil_obs_carried(ob) == 0) {
        /* REQ OBS-EMPTY-SET-REFUSED */
        char names[128];
        size_t used = 0;
        names[0] = '\0';
        for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT && used < sizeof names; p++) {
            int n = snprintf(names + used, sizeof names - used, "%s%s",
                             p == 0                                ? ""
                             : p == VIGIL_NEWS2_PARAM_COUNT - 1 ? " or "
                                                                : ", ",
                             vigil_vital_get((vigil_news2_param)p)->key);
            used += n > 0 ? (size_t)n : 0;
        }
        vigil__srv_req_error(r, 422, "unprocessable",
                             "an observation set needs at least one vital sign: %s", names);
        return false;
    }
    vigil_err err = {0};
    if (vigil_news2_validate(ob, &err) != VIGIL_OK) {
        vigil__srv_req_error(r, 422, "unprocessable", "%s", err.msg);
        return false;
    }
    return true;
}

static json_t *ai_json(const srv_set_out *o)
{
    if (!o->has_ai) {
        return json_null();
    }
    json_t *ex =
        o->ai->explanation_json[0] != '\0' ? json_loads(o->ai->explanation_json, 0, NULL) : NULL;
    return ai_object(o->ai->prob, o->ai->low_confidence, o->ai->model_version, ex, true);
}

static void h_post_observation(vigil_server *srv, srv_req *r)
{
    srv_patient *p = patient_for(srv, r, 0);
    if (p == NULL) {
        return;
    }
    int64_t now = vigil__srv_now_ms();
    vigil_obs_event ev;
    vigil_obs_event_init(&ev);
    bool bad = false;
    const char *sid = opt_str(r->body, "source_id", &bad);
    if (!obs_of(r, &ev.obs) || !time_member(r, "measured_at", now, &ev.t_ms)) {
        return;
    }
    if (bad || (sid != NULL && strlen(sid) >= sizeof ev.source_id)) {
        vigil__srv_req_error(r, 422, "unprocessable", "source_id is a string of at most %zu bytes",
                             sizeof ev.source_id - 1);
        return;
    }
    memcpy(ev.nhs_number, p->nhs, sizeof ev.nhs_number);
    memcpy(ev.mrn, p->mrn, sizeof ev.mrn);
    ev.source = VIGIL_SRC_API;
    snprintf(ev.source_id, sizeof ev.source_id, "%s", sid != NULL ? sid : "");
    snprintf(ev.recorded_by, sizeof ev.recorded_by, "%s", r->user.username);
    srv_ingest ing;
    memset(&ing, 0, sizeof ing);
    srv_set_out out;
    memset(&out, 0, sizeof out);
    ing.ev = &ev;
    ing.n = 1;
    ing.out = &out;
    ing.source = VIGIL_SRC_API;
    ing.check_scope = true;
    ing.user = r->user;
    snprintf(ing.who_user, sizeof ing.who_user, "%s", r->who.user);
    snprintf(ing.who_reason, sizeof ing.who_reason, "%s", r->who.reason);
    srv_job job;
    memset(&job, 0, sizeof job);
    job.ing = &ing;
    srv_job *jp = &job;
    vigil__srv_ingest_commit(srv, &jp, 1);
    if (ing.status != VIGIL_OK) {
        const char *code;
        int http = ing.internal ? 503 : vigil__srv_http_status(ing.status, &code);
        vigil__srv_req_error(r, http, ing.internal ? "unavailable" : code, "%s", ing.msg);
        free(out.ai);
        return;
    }
    vigil_escalation_result res;
    vigil__srv_esc_view(srv, p, now, &res);
    vigil__srv_req_json(
        r, out.duplicate ? 200 : 201,
        json_pack("{s:I, s:I, s:b, s:o, s:o, s:o, s:o, s:o}", "obs_id", (json_int_t)out.obs_id,
                  "score_id", (json_int_t)out.score_id, "duplicate", out.duplicate, "news2",
                  vigil__srv_news2_json(&out.news2, ev.t_ms), "ai", ai_json(&out), "escalation",
                  vigil__srv_esc_json(&res), "carried", params_json(vigil_obs_carried(&ev.obs)),
                  "assembled_from_window", params_json(out.assembled)));
    free(out.ai);
}

/* A required non-blank string member; sets the error response when missing. */
static const char *need_str(srv_req *r, const char *k)
{
    bool bad = false;
    const char *s = opt_str(r->body, k, &bad);
    if (s == NULL || vigil_str_blank(s)) {
        vigil__srv_req_error(r, 422, "unprocessable", "\"%s\" is required", k);
        return NULL;
    }
    return s;
}

/* Reply with the escalation after a change to p's inputs. */
static void reply_escalation(vigil_server *srv, srv_req *r, srv_patient *p, int status,
                             const char *id_key, int64_t id)
{
    int64_t now = vigil__srv_now_ms();
    vigil__srv_esc_update(srv, p, now, NULL);
    vigil_escalation_result res;
    vigil__srv_esc_view(srv, p, now, &res);
    json_t *j =
        json_pack("{s:o, s:o}", "escalation", vigil__srv_esc_json(&res), "alerts", alerts_json(p));
    if (id_key != NULL) {
        json_object_set_new(j, id_key, json_integer(id));
    }
    vigil__srv_req_json(r, status, j);
}

static void h_concern(vigil_server *srv, srv_req *r)
{
    static const char *const keys[] = {"concern", NULL};
    srv_patient *p = patient_for(srv, r, 0);
    const char *concern = p != NULL && only_keys(r, keys) ? need_str(r, "concern") : NULL;
    if (concern == NULL) {
        return;
    }
    int64_t now = vigil__srv_now_ms(), id = 0;
    vigil_err err = {0};
    vigil_status st =
        vigil_store_staff_concern(srv->store, &r->who, p->id, now, concern, &id, &err);
    if (st != VIGIL_OK) {
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    p->concern_open = true;
    p->concern_ms = now;
    p->concern_id = id;
    vigil__srv_log(srv, "escalation.concern", "staff concern %lld recorded", (long long)id);
    reply_escalation(srv, r, p, 201, "concern_id", id);
}

static json_t *outcome_json(const vigil_store_outcome *o)
{
    return json_pack("{s:I, s:I, s:s?, s:o, s:o, s:s, s:s, s:s}", "outcome_id", (json_int_t)o->id,
                     "admission_id", (json_int_t)o->admission_id, "kind",
                     vigil_store_outcome_kind_name(o->kind), "t", vigil__srv_time_json(o->t_ms),
                     "recorded", vigil__srv_time_json(o->recorded_ms), "source", o->source,
                     "recorded_by", o->recorded_by, "note", o->note);
}

/* A deterioration outcome of the patient's admission (issue 14): kind,
 * when it happened (default now), the admission (default the latest). */
static void h_outcome_add(vigil_server *srv, srv_req *r)
{
    static const char *const keys[] = {"kind", "t", "admission_id", "note", NULL};
    srv_patient *p = patient_for(srv, r, 0);
    const char *kind_s = p != NULL && only_keys(r, keys) ? need_str(r, "kind") : NULL;
    int64_t now = vigil__srv_now_ms(), t = 0, id = 0;
    if (kind_s == NULL || !time_member(r, "t", now, &t)) {
        return;
    }
    int kind = vigil_store_outcome_kind_from_name(kind_s);
    bool bad = false;
    const char *note = opt_str(r->body, "note", &bad);
    json_t *adm_j = json_object_get(r->body, "admission_id");
    if (kind < 0 || bad ||
        (adm_j != NULL && (!json_is_integer(adm_j) || json_integer_value(adm_j) <= 0))) {
        vigil__srv_req_error(r, 422, "unprocessable",
                             "kind is icu-unplanned, cardiac-arrest-call, death or sepsis; note a "
                             "string; admission_id a positive integer");
        return;
    }
    int64_t adm = adm_j != NULL ? (int64_t)json_integer_value(adm_j) : 0;
    vigil_err err = {0};
    vigil_status st =
        vigil_store_outcome_record(srv->store, &r->who, p->id, adm, (vigil_store_outcome_kind)kind,
                                   t, now, "api", note, &id, &err);
    if (st != VIGIL_OK) {
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    vigil__srv_log(srv, "outcome.record", "outcome %lld (%s) recorded", (long long)id, kind_s);
    vigil__srv_req_json(r, 201, json_pack("{s:I}", "outcome_id", (json_int_t)id));
}

/* POST /api/patients/{id}/sex {"sex": "female"}: the patient's administrative
 * sex (REQ STORE-SEX-LATEST in the store), for the monitor's sex subgroup
 * (issue 14 item 2). Answers the stored value. */
static void h_sex_set(vigil_server *srv, srv_req *r)
{
    static const char *const keys[] = {"sex", NULL};
    srv_patient *p = patient_for(srv, r, 0);
    const char *sex_s = p != NULL && only_keys(r, keys) ? need_str(r, "sex") : NULL;
    if (sex_s == NULL) {
        return;
    }
    vigil_admin_sex sex = VIGIL_ADMIN_SEX_NONE;
    if (vigil_admin_sex_parse(sex_s, &sex, NULL) != VIGIL_OK || sex == VIGIL_ADMIN_SEX_NONE) {
        vigil__srv_req_error(r, 422, "unprocessable", "sex is female, male, other or unknown");
        return;
    }
    vigil_err err = {0};
    vigil_patient pt;
    memset(&pt, 0, sizeof pt);
    memcpy(pt.nhs_number, p->nhs, sizeof pt.nhs_number);
    memcpy(pt.mrn, p->mrn, sizeof pt.mrn);
    pt.sex = sex;
    int64_t id = 0;
    vigil_status st = vigil_store_patient_ensure(srv->store, &r->who, &pt, &id, &err);
    if (st == VIGIL_OK && id == p->id) {
        st = vigil_store_patient_get(srv->store, &r->who, id, &pt, &err);
    } else if (st == VIGIL_OK) {
        st = vigil_err_set(&err, VIGIL_ERR_CONFLICT, "patient", "the patient's identifiers moved");
    }
    if (st != VIGIL_OK) {
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    vigil__srv_req_json(r, 200, json_pack("{s:I, s:s}", "patient_id", (json_int_t)id, "sex",
                                          vigil_admin_sex_name(pt.sex)));
}

#define OUTCOMES_MAX 64

static void h_outcomes(vigil_server *srv, srv_req *r)
{
    srv_patient *p = patient_for(srv, r, 0);
    if (p == NULL) {
        return;
    }
    vigil_store_outcome *rows = calloc(OUTCOMES_MAX, sizeof *rows);
    size_t n = 0;
    vigil_err err = {0};
    vigil_status st = rows == NULL ? vigil_err_set(&err, VIGIL_ERR_NOMEM, NULL, "out of memory")
                                   : vigil_store_outcomes_of(srv->store, &r->who, p->id, rows,
                                                             OUTCOMES_MAX, &n, &err);
    if (st != VIGIL_OK) {
        free(rows);
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(a, outcome_json(&rows[i]));
    }
    free(rows);
    vigil__srv_req_json(r, 200,
                        json_pack("{s:I, s:o}", "patient_id", (json_int_t)p->id, "outcomes", a));
}

static void h_marthas_call(vigil_server *srv, srv_req *r)
{
    static const char *const keys[] = {"caller", "caller_name", "channel", "concern", NULL};
    srv_patient *p = patient_for(srv, r, 0);
    if (p == NULL || !only_keys(r, keys)) {
        return;
    }
    bool bad = false;
    int caller =
        name_index(opt_str(r->body, "caller", &bad), caller_name, VIGIL_STORE_CALLER_COUNT);
    const char *name = opt_str(r->body, "caller_name", &bad);
    const char *channel = need_str(r, "channel");
    const char *concern = channel != NULL ? need_str(r, "concern") : NULL;
    if (concern == NULL) {
        return;
    }
    if (caller < 0 || bad) {
        vigil__srv_req_error(r, 422, "unprocessable",
                             "caller is patient, family, carer or staff; caller_name a string");
        return;
    }
    int64_t now = vigil__srv_now_ms(), id = 0;
    if (p->n_new_calls >= VIGIL_ESC_MARTHA_MAX) {
        /* calls wait here only while the policy's step cannot be stored: pass them now */
        vigil__srv_esc_update(srv, p, now, NULL);
    }
    if (p->n_new_calls >= VIGIL_ESC_MARTHA_MAX) {
        /* never store a call the policy would not see (it was dropped, answered 201) */
        atomic_fetch_add(&srv->stats.store_failures, 1);
        vigil__srv_log(srv, "store.error",
                       "Martha's Rule call refused: %d earlier calls not yet passed to the "
                       "escalation step (its writes fail)",
                       VIGIL_ESC_MARTHA_MAX);
        vigil__srv_req_error(r, 503, "unavailable",
                             "earlier Martha's Rule calls for this patient could not be passed to "
                             "escalation yet: call critical-care outreach directly and try again");
        return;
    }
    vigil_store_marthas_call call = {p->id,  (vigil_store_caller)caller, name, channel, now,
                                     concern};
    vigil_err err = {0};
    vigil_status st = vigil_store_marthas_call_add(srv->store, &r->who, &call, &id, &err);
    if (st != VIGIL_OK) {
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    p->new_calls[p->n_new_calls++] =
        (vigil_esc_martha_call){id, (vigil_esc_caller)caller}; /* same order of callers */
    vigil__srv_idmap_put(&srv->pats.call_pat, id, p);
    vigil__srv_log(srv, "escalation.marthas-rule", "call %lld recorded", (long long)id);
    reply_escalation(srv, r, p, 201, "call_id", id);
}

static vigil_esc_ack_action ack_action_of(const char *s)
{
    int i = name_index(s, esc_ack_name, VIGIL_ESC_ACK_ACTION_COUNT);
    return i > 0 ? (vigil_esc_ack_action)i : VIGIL_ESC_ACK_NONE;
}

/*
 * Store a Martha's Rule review and acknowledge the call's open alert (the
 * review answers the call, so its alert stops repeating) in one batch: both
 * or neither (issue 12 finding 15: a failed acknowledgement used to leave the
 * review stored, a 201, and the alert repeating with nothing logged). An
 * alert the policy no longer has open (already acknowledged, closed) is not
 * a failure. On a store failure the patient's state is put back, the failure
 * logged and counted, and the status returned for the response.
 */
static vigil_status review_and_ack(vigil_server *srv, srv_req *r, srv_patient *p,
                                   const vigil_store_marthas_review *rev, const char *reason,
                                   int64_t now, int64_t *out_id, vigil_err *err)
{
    srv_patient before;
    if (p != NULL) {
        before = *p; /* the ack and the policy step change it in memory */
    }
    bool ack_failed = false;
    vigil_status st = vigil_store_batch_begin(srv->store, err);
    if (st == VIGIL_OK) {
        st = vigil_store_marthas_review_add(srv->store, &r->who, rev, out_id, err);
    }
    for (size_t i = 0; st == VIGIL_OK && p != NULL && i < p->n_links; i++) {
        if (p->links[i].call_id != rev->call_id) {
            continue;
        }
        vigil_err e2 = {0};
        vigil_status a = vigil__srv_esc_ack(srv, p, &r->who, p->links[i].alert_id,
                                            VIGIL_ESC_ACK_REVIEWED, reason, now, &e2);
        if (a == VIGIL_ERR_NOT_FOUND || a == VIGIL_ERR_CONFLICT) {
            vigil__srv_log(srv, "escalation.marthas-rule", "call %lld reviewed; its alert: %s",
                           (long long)rev->call_id, e2.msg);
        } else if (a != VIGIL_OK) {
            st = a;
            *err = e2;
            ack_failed = true;
        }
        break;
    }
    if (st == VIGIL_OK) {
        st = vigil_store_batch_commit(srv->store, err);
    } else {
        vigil_store_batch_rollback(srv->store);
    }
    if (st != VIGIL_OK) {
        if (p != NULL) {
            *p = before;
        }
    }
    if (ack_failed || st == VIGIL_ERR_IO || st == VIGIL_ERR_NOMEM || st == VIGIL_ERR_INTERNAL) {
        atomic_fetch_add(&srv->stats.store_failures, 1);
        vigil__srv_log(srv, "store.error",
                       "Martha's Rule review of call %lld not stored (nor its acknowledgement): %s",
                       (long long)rev->call_id, vigil_status_str(st));
    }
    return st;
}

static void h_marthas_review(vigil_server *srv, srv_req *r)
{
    static const char *const keys[] = {"responder", "category",    "outcome",
                                       "note",      "reviewed_at", NULL};
    long call_id = 0;
    if (vigil_parse_long(r->params[0], 1, INT64_MAX, &call_id) != VIGIL_OK) {
        vigil__srv_req_error(r, 404, "not-found", "no such call");
        return;
    }
    srv_patient *p = vigil__srv_idmap_get(&srv->pats.call_pat, call_id);
    if (!vigil__srv_scope_ok(&r->user, p != NULL ? p->ward : "")) {
        if (p != NULL) {
            vigil__srv_req_out_of_scope(r, "no such call");
        } else {
            vigil__srv_req_error(r, 404, "not-found", "no such call");
        }
        return;
    }
    if (!only_keys(r, keys)) {
        return;
    }
    bool bad = false;
    const char *responder = need_str(r, "responder");
    int cat = name_index(opt_str(r->body, "category", &bad), category_name,
                         VIGIL_STORE_MR_CATEGORY_COUNT);
    int out =
        name_index(opt_str(r->body, "outcome", &bad), outcome_name, VIGIL_STORE_MR_OUTCOME_COUNT);
    const char *note = opt_str(r->body, "note", &bad);
    int64_t now = vigil__srv_now_ms(), t = now;
    if (responder == NULL || !time_member(r, "reviewed_at", now, &t)) {
        return;
    }
    if (cat < 0 || out < 0 || bad) {
        vigil__srv_req_error(r, 422, "unprocessable",
                             "category is acute-deterioration or communication-coordination; "
                             "outcome is change-in-care, transfer-higher-level or no-change");
        return;
    }
    vigil_store_marthas_review rev = {
        call_id, responder, t, (vigil_store_marthas_category)cat, (vigil_store_marthas_outcome)out,
        note};
    int64_t id = 0;
    vigil_err err = {0};
    vigil_status st = review_and_ack(srv, r, p, &rev, outcome_name(out), now, &id, &err);
    if (st != VIGIL_OK) {
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    vigil__srv_req_json(
        r, 201,
        json_pack("{s:I, s:I}", "review_id", (json_int_t)id, "call_id", (json_int_t)call_id));
}

static void h_ack(vigil_server *srv, srv_req *r)
{
    static const char *const keys[] = {"action", "reason", NULL};
    long alert_id = 0;
    if (vigil_parse_long(r->params[0], 1, INT64_MAX, &alert_id) != VIGIL_OK) {
        vigil__srv_req_error(r, 404, "not-found", "no such alert");
        return;
    }
    srv_patient *p = vigil__srv_idmap_get(&srv->pats.alert_pat, alert_id);
    if (p == NULL) {
        vigil__srv_req_error(r, 404, "not-found", "no open alert %ld", alert_id);
        return;
    }
    if (!vigil__srv_scope_ok(&r->user, p->ward)) {
        vigil__srv_req_out_of_scope(r, "no open alert %ld", alert_id);
        return;
    }
    if (!only_keys(r, keys)) {
        return;
    }
    bool bad = false;
    vigil_esc_ack_action action = ack_action_of(opt_str(r->body, "action", &bad));
    const char *reason = opt_str(r->body, "reason", &bad);
    if (action == VIGIL_ESC_ACK_NONE || bad) {
        vigil__srv_req_error(r, 422, "unprocessable",
                             "action is attending, reviewed, escalated or declined");
        return;
    }
    /* REQ ESC-ACK-DECLINE-REASON: checked by the policy and the store too */
    if (action == VIGIL_ESC_ACK_DECLINED && (reason == NULL || vigil_str_blank(reason))) {
        vigil__srv_req_error(r, 422, "unprocessable", "declining to escalate needs a reason");
        return;
    }
    int64_t now = vigil__srv_now_ms();
    vigil_err err = {0};
    vigil_status st = vigil__srv_esc_ack(srv, p, &r->who, alert_id, action, reason, now, &err);
    if (st != VIGIL_OK) {
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    vigil_escalation_result res;
    vigil__srv_esc_view(srv, p, now, &res);
    vigil__srv_req_json(r, 200,
                        json_pack("{s:I, s:s, s:s, s:o, s:o}", "alert_id", (json_int_t)alert_id,
                                  "action", vigil_escalation_ack_action_name(action), "by",
                                  r->user.username, "escalation", vigil__srv_esc_json(&res),
                                  "alerts", alerts_json(p)));
}

static void append_episodes(json_t *rows, const vigil_store_episode_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        const vigil_store_episode *e = &l->rows[i];
        json_t *ack = json_null();
        if (e->n_acks > 0) {
            ack = json_pack("{s:s, s:s, s:o}", "action",
                            vigil_store_ack_action_name(e->last_ack_action), "by", e->last_ack_by,
                            "at", vigil__srv_time_json(e->last_ack_ms));
        }
        json_array_append_new(
            rows,
            json_pack("{s:I, s:I, s:{s:I, s:s}, s:s, s:s, s:s, s:s, s:o, s:i, s:o, s:i, "
                      "s:b, s:o}",
                      "alert_id", (json_int_t)e->alert_id, "episode_id", (json_int_t)e->id,
                      "patient", "id", (json_int_t)e->patient_id, "nhs_number", e->nhs_number,
                      "ward", e->ward, "bed", e->bed, "level", vigil_store_level_name(e->level),
                      "trigger", vigil_store_trigger_name(e->trigger), "raised_at",
                      vigil__srv_time_json(e->alert_raised_ms), "repeats", e->n_repeats,
                      "last_repeat_at", vigil__srv_time_json(e->last_repeat_ms), "rota_step",
                      e->rota_step, "acknowledged", e->n_acks > 0, "last_ack", ack));
    }
}

static void h_alerts(vigil_server *srv, srv_req *r)
{
    const char *ward = json_string_value(json_object_get(r->query, "ward"));
    bool all = vigil__srv_scope_ok(&r->user, NULL); /* "*" scope */
    if (ward != NULL && !vigil__srv_scope_ok(&r->user, ward)) {
        vigil__srv_req_error(r, 403, "forbidden", "ward %s is not in your scope", ward);
        return;
    }
    json_t *rows = json_array();
    size_t n_q = ward != NULL || all ? 1 : r->user.n_wards;
    for (size_t i = 0; i < n_q; i++) {
        const char *w = ward != NULL ? ward : all ? NULL : r->user.wards[i];
        vigil_store_episode_list l;
        vigil_err err = {0};
        vigil_status st = vigil_store_episodes_open(srv->store, &r->who, w, &l, &err);
        if (st != VIGIL_OK) {
            json_decref(rows);
            vigil__srv_req_store_error(r, st, &err);
            return;
        }
        append_episodes(rows, &l);
        vigil_store_episode_list_fini(&l);
    }
    vigil__srv_req_json(r, 200, json_pack("{s:o}", "alerts", rows));
}

static void h_daily(vigil_server *srv, srv_req *r)
{
    static const char *const keys[] = {"answer", NULL};
    srv_patient *p = patient_for(srv, r, 0);
    if (p == NULL || !only_keys(r, keys)) {
        return;
    }
    bool bad = false;
    int f = name_index(opt_str(r->body, "answer", &bad), feeling_name, VIGIL_STORE_FEEL_COUNT);
    if (f < 0) {
        vigil__srv_req_error(r, 422, "unprocessable", "answer is better, same or worse");
        return;
    }
    int64_t now = vigil__srv_now_ms(), id = 0;
    vigil_err err = {0};
    vigil_status st = vigil_store_daily_answer(srv->store, &r->who, p->id, now,
                                               (vigil_store_feeling)f, &id, &err);
    if (st != VIGIL_OK) {
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    p->has_daily = true;
    p->daily = (vigil_store_feeling)f;
    p->daily_ms = now;
    reply_escalation(srv, r, p, 201, "answer_id", id);
}

static void h_optout(vigil_server *srv, srv_req *r)
{
    static const char *const keys[] = {"note", NULL};
    srv_patient *p = patient_for(srv, r, 0);
    if (p == NULL || !only_keys(r, keys)) {
        return;
    }
    bool bad = false;
    const char *note = opt_str(r->body, "note", &bad);
    int64_t now = vigil__srv_now_ms(), id = 0;
    vigil_err err = {0};
    vigil_status st = bad ? vigil_err_set(&err, VIGIL_ERR_ARG, "note", "note must be a string")
                          : vigil_store_ai_optout(srv->store, &r->who, p->id, now, note, &id, &err);
    if (st != VIGIL_OK) {
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    p->opted_out = true;
    reply_escalation(srv, r, p, 201, "optout_id", id);
}

static void h_optout_withdraw(vigil_server *srv, srv_req *r)
{
    srv_patient *p = patient_for(srv, r, 0);
    if (p == NULL) {
        return;
    }
    vigil_err err = {0};
    vigil_status st =
        vigil_store_ai_optout_withdraw(srv->store, &r->who, p->id, vigil__srv_now_ms(), &err);
    if (st != VIGIL_OK) {
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    p->opted_out = false;
    reply_escalation(srv, r, p, 200, NULL, 0);
}

static void h_scale2(vigil_server *srv, srv_req *r, bool set)
{
    static const char *const keys[] = {"reason", NULL};
    srv_patient *p = patient_for(srv, r, 0);
    const char *reason = p != NULL && only_keys(r, keys) ? need_str(r, "reason") : NULL;
    if (reason == NULL) {
        return;
    }
    int64_t now = vigil__srv_now_ms(), id = 0;
    vigil_err err = {0};
    vigil_status st =
        set ? vigil_store_scale2_set(srv->store, &r->who, p->id, now, reason, &id, &err)
            : vigil_store_scale2_end(srv->store, &r->who, p->id, now, reason, &err);
    if (st != VIGIL_OK) {
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    p->scale2 = set;
    p->scale2_since_ms = set ? now : 0;
    vigil__srv_log(srv, "scale2", "decision %s by %s", set ? "recorded" : "ended",
                   r->user.username);
    vigil__srv_req_json(r, set ? 201 : 200,
                        json_pack("{s:b, s:o, s:s}", "scale2", set, "since",
                                  set ? vigil__srv_time_json(now) : json_null(), "note",
                                  "applies to observation sets scored from now on"));
}

static void h_scale2_set(vigil_server *srv, srv_req *r)
{
    h_scale2(srv, r, true);
}

static void h_scale2_end(vigil_server *srv, srv_req *r)
{
    h_scale2(srv, r, false);
}

static void h_plan(vigil_server *srv, srv_req *r)
{
    static const char *const keys[] = {"level",     "news2_usual_max", "reason", "plan",
                                       "review_at", "expires_at",      NULL};
    srv_patient *p = patient_for(srv, r, 0);
    if (p == NULL || !only_keys(r, keys)) {
        return;
    }
    bool bad = false;
    int level = name_index(opt_str(r->body, "level", &bad), esc_level_name, VIGIL_ESC_LEVEL_COUNT);
    json_t *um = json_object_get(r->body, "news2_usual_max");
    const char *reason = need_str(r, "reason");
    const char *text = reason != NULL ? need_str(r, "plan") : NULL;
    int64_t now = vigil__srv_now_ms(), review = 0, expires = 0;
    if (text == NULL || !time_member(r, "review_at", 0, &review) ||
        !time_member(r, "expires_at", 0, &expires)) {
        return;
    }
    if (level < 0 || !json_is_integer(um) || review == 0 || expires == 0) {
        vigil__srv_req_error(r, 422, "unprocessable",
                             "a plan needs level (none, ward, urgent-ward, urgent, emergency), "
                             "news2_usual_max (0-20), reason, plan, review_at and expires_at");
        return;
    }
    vigil_esc_plan ep;
    memset(&ep, 0, sizeof ep);
    ep.present = true;
    ep.level = (vigil_esc_level)level;
    json_int_t umax = json_integer_value(um);
    ep.news2_usual_max = umax >= 0 && umax <= 20 ? (int)umax : -1;
    ep.recorded_ms = now;
    ep.expires_ms = review; /* the policy lapses the plan at its review time */
    snprintf(ep.by, sizeof ep.by, "%s", r->user.username);
    vigil_err err = {0};
    if (strlen(reason) >= sizeof ep.reason) {
        vigil__srv_req_error(r, 422, "unprocessable", "reason is longer than %zu bytes",
                             sizeof ep.reason - 1);
        return;
    }
    snprintf(ep.reason, sizeof ep.reason, "%s", reason);
    if (vigil_escalation_plan_check(&ep, &err) != VIGIL_OK) {
        vigil__srv_req_error(r, 422, "unprocessable", "%s", err.msg);
        return;
    }
    vigil_store_plan sp = {p->id, now, reason, text, review, expires, ep.level, ep.news2_usual_max};
    int64_t id = 0;
    vigil_status st = vigil_store_plan_add(srv->store, &r->who, &sp, &id, &err);
    if (st != VIGIL_OK) {
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    p->plan = ep;
    p->plan_stored = true;
    p->plan_id = id;
    p->plan_review_ms = review;
    p->plan_expires_ms = expires;
    vigil__srv_log(srv, "escalation.plan", "plan %lld recorded by %s", (long long)id,
                   r->user.username);
    reply_escalation(srv, r, p, 201, "plan_id", id);
}

static void h_marthas_export(vigil_server *srv, srv_req *r)
{
    int64_t now = vigil__srv_now_ms(), from = 0, to = now;
    const char *f = json_string_value(json_object_get(r->query, "from"));
    const char *t = json_string_value(json_object_get(r->query, "to"));
    if ((f != NULL && vigil__srv_time_parse(f, &from) != VIGIL_OK) ||
        (t != NULL && vigil__srv_time_parse(t, &to) != VIGIL_OK) || from > to) {
        vigil__srv_req_error(r, 400, "bad-request", "from and to are date-times, from <= to");
        return;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (mem == NULL) {
        vigil__srv_req_error(r, 500, "internal", "out of memory");
        return;
    }
    size_t n = 0;
    vigil_err err = {0};
    /* REQ STORE-MARTHAS-EXPORT-SCOPE: a ward-scoped officer gets their wards' calls only */
    const char *wards[VIGIL_STORE_WARDS_MAX];
    for (size_t i = 0; i < r->user.n_wards && i < VIGIL_STORE_WARDS_MAX; i++) {
        wards[i] = r->user.wards[i];
    }
    vigil_status st = vigil_store_marthas_export_csv_scoped(
        srv->store, &r->who, wards, r->user.n_wards, from, to, mem, &n, &err);
    fclose(mem);
    if (st != VIGIL_OK) {
        free(buf);
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    free(r->resp);
    r->resp = buf;
    r->status = 200;
    r->content_type = "text/csv; charset=utf-8";
}

/* ---- routes ----------------------------------------------------------------------- */

static void h_health(vigil_server *srv, srv_req *r)
{
    vigil__srv_h_health(srv, r);
}

static void h_metrics(vigil_server *srv, srv_req *r)
{
    vigil__srv_h_metrics(srv, r);
}

static void h_user_disable(vigil_server *srv, srv_req *r)
{
    vigil__srv_h_user_disable(srv, r);
}

static void h_user_enable(vigil_server *srv, srv_req *r)
{
    vigil__srv_h_user_enable(srv, r);
}

static void h_user_add(vigil_server *srv, srv_req *r)
{
    vigil__srv_h_user_add(srv, r);
}

static void h_user_list(vigil_server *srv, srv_req *r)
{
    vigil__srv_h_user_list(srv, r);
}

static void h_login(vigil_server *srv, srv_req *r)
{
    (void)srv;
    (void)r; /* http.c calls vigil__srv_h_login with the client address */
}

static void h_csrf(vigil_server *srv, srv_req *r)
{
    (void)srv;
    (void)r; /* http.c answers with the session's CSRF token (csrf.c) */
}

/* method, pattern, handler, roles, body, fhir, http thread, special */
const srv_route vigil__srv_routes[] = {
    {"GET", "/health", h_health, 0, false, false, true, SRV_ROUTE_PLAIN},
    {"GET", "/metrics", h_metrics, 0, false, false, true, SRV_ROUTE_METRICS},
    {"POST", "/api/login", h_login, 0, true, false, true, SRV_ROUTE_LOGIN},
    {"POST", "/api/logout", h_logout, ANYONE, false, false, true, SRV_ROUTE_LOGOUT},
    {"GET", "/api/me", vigil__srv_h_me, ANYONE, false, false, true, SRV_ROUTE_PLAIN},
    {"GET", "/api/csrf", h_csrf, ANYONE, false, false, true, SRV_ROUTE_CSRF},
    {"GET", "/api/wards/{}/patients", h_ward_list, CLINICAL, false, false, false, 0},
    {"GET", "/api/patients/{}", h_patient, CLINICAL, false, false, false, 0},
    {"GET", "/api/patients/{}/observations", h_observations, CLINICAL, false, false, false, 0},
    {"GET", "/api/patients/{}/history", h_history, CLINICAL, false, false, false, 0},
    {"GET", "/api/patients/{}/bedside-code", vigil__srv_h_bedside_code, CLINICAL, false, false,
     false, 0},
    {"POST", "/api/family/concern", vigil__srv_h_family_concern, 0, true, false, false, 0},
    {"POST", "/api/family/daily-answer", vigil__srv_h_family_daily, 0, true, false, false, 0},
    {"POST", "/api/patients/{}/observations", h_post_observation, CLINICAL, true, false, false, 0},
    {"POST", "/api/patients/{}/concerns", h_concern, CLINICAL, true, false, false, 0},
    {"POST", "/api/patients/{}/outcomes", h_outcome_add, CLINICAL, true, false, false, 0},
    {"GET", "/api/patients/{}/outcomes", h_outcomes, CLINICAL | S, false, false, false, 0},
    {"POST", "/api/patients/{}/sex", h_sex_set, CLINICAL, true, false, false, 0},
    {"POST", "/api/patients/{}/marthas-rule", h_marthas_call, CLINICAL, true, false, false, 0},
    {"POST", "/api/marthas-rule/{}/review", h_marthas_review, D | O, true, false, false, 0},
    {"GET", "/api/marthas-rule/export", h_marthas_export, S | D | O, false, false, false, 0},
    {"POST", "/api/alerts/{}/ack", h_ack, CLINICAL, true, false, false, 0},
    {"GET", "/api/alerts", h_alerts, CLINICAL | S, false, false, false, 0},
    {"GET", "/api/alerts/{}/pages", vigil__srv_h_alert_pages, CLINICAL | S, false, false, false, 0},
    {"GET", "/api/pages", vigil__srv_h_pages, ANYONE, false, false, false, 0},
    {"POST", "/api/pages/{}/read", vigil__srv_h_page_read, ANYONE, false, false, false, 0},
    {"GET", "/api/rota", vigil__srv_h_rota, ANYONE, false, false, false, 0},
    {"POST", "/api/rota", vigil__srv_h_rota_add, N | A, true, false, false, 0},
    {"POST", "/api/rota/{}/end", vigil__srv_h_rota_end, N | A, false, false, false, 0},
    {"GET", "/api/rota/gaps", vigil__srv_h_rota_gaps, ANYONE, false, false, false, 0},
    {"GET", "/api/monitor", vigil__srv_h_monitor, S | A, false, false, true, 0},
    {"POST", "/api/patients/{}/daily-answer", h_daily, CLINICAL, true, false, false, 0},
    {"POST", "/api/patients/{}/ai-optout", h_optout, CLINICAL, true, false, false, 0},
    {"DELETE", "/api/patients/{}/ai-optout", h_optout_withdraw, CLINICAL, false, false, false, 0},
    {"POST", "/api/patients/{}/scale2", h_scale2_set, D, true, false, false, 0},
    {"POST", "/api/patients/{}/scale2/end", h_scale2_end, D, true, false, false, 0},
    {"POST", "/api/patients/{}/escalation-plan", h_plan, D, true, false, false, 0},
    {"POST", "/api/admin/users", h_user_add, A, true, false, true, 0},
    {"GET", "/api/admin/users", h_user_list, A, false, false, true, 0},
    {"POST", "/api/admin/users/{}/disable", h_user_disable, A, false, false, true, 0},
    {"POST", "/api/admin/users/{}/enable", h_user_enable, A, false, false, true, 0},
    {"POST", "/fhir/Observation", vigil__srv_h_fhir_post_obs, CLINICAL, true, true, true, 0},
    {"POST", "/fhir", vigil__srv_h_fhir_post_bundle, CLINICAL, true, true, true, 0},
    {"POST", "/fhir/Encounter", vigil__srv_h_fhir_post_outcome, CLINICAL, true, true, false, 0},
    {"POST", "/fhir/Condition", vigil__srv_h_fhir_post_outcome, CLINICAL, true, true, false, 0},
    {"POST", "/fhir/Patient", vigil__srv_h_fhir_post_patient, CLINICAL, true, true, false, 0},
    {"GET", "/fhir/Observation", vigil__srv_h_fhir_search, CLINICAL, false, true, false, 0},
};
const size_t vigil__srv_n_routes = sizeof vigil__srv_routes / sizeof vigil__srv_routes[0];

/* Match one path against a pattern; "{}" matches one non-empty segment. */
static bool match(const char *pat, const char *path, char **params, size_t *n)
{
    *n = 0;
    while (*pat != '\0' && *path != '\0') {
        if (pat[0] == '{' && pat[1] == '}') {
            size_t len = strcspn(path, "/");
            if (len == 0 || len > 127 || *n >= 8) {
                return false;
            }
            params[*n] = malloc(len + 1);
            if (params[*n] == NULL) {
                return false;
            }
            memcpy(params[*n], path, len);
            params[*n][len] = '\0';
            (*n)++;
            path += len;
            pat += 2;
            continue;
        }
        if (*pat != *path) {
            return false;
        }
        pat++;
        path++;
    }
    return *pat == '\0' && (*path == '\0' || (path[0] == '/' && path[1] == '\0'));
}

const srv_route *vigil__srv_route_match(const char *method, const char *path, srv_req *r,
                                        bool *method_ok)
{
    *method_ok = false;
    for (size_t i = 0; i < vigil__srv_n_routes; i++) {
        char *params[8];
        size_t n = 0;
        bool m = match(vigil__srv_routes[i].pattern, path, params, &n);
        if (m && strcmp(method, vigil__srv_routes[i].method) == 0) {
            for (size_t k = 0; k < n; k++) {
                r->params[k] = params[k];
            }
            r->n_params = n;
            return &vigil__srv_routes[i];
        }
        for (size_t k = 0; k < n; k++) {
            free(params[k]);
        }
        *method_ok = *method_ok || m;
    }
    return NULL;
}
