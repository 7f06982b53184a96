/*
 * pg_care.c: PostgreSQL backend: escalation episodes, alerts, repeats and
 * acknowledgements; staff concerns and Martha's Rule calls and reviews;
 * daily answers, AI opt-outs, Scale 2 decisions and revised escalation
 * plans; and the per-patient state the scorer and the ward list read.
 *
 * Does not: decide levels or intervals (policy), merge or suppress a
 * Martha's Rule call (the log is append-only, enforced by triggers).
 * Invariants: one transaction per call; audit records inside it; decisions
 * that need a doctor are checked against app_user inside the transaction.
 * Spec: ../shared/spec/escalation.md.
 */
#include <string.h>

#include "pg_int.h"

#define PREP(sql, stp)                                                                             \
    do {                                                                                           \
        vigil_status prep_st_ = pg_prep(q, (sql), (stp), err);                                     \
        if (prep_st_ != VIGIL_OK) {                                                                \
            return prep_st_;                                                                       \
        }                                                                                          \
    } while (0)

static const char SQL_PAT_EXISTS[] = "SELECT 1 FROM patient WHERE id = ?1";

/* Run fn's body between BEGIN IMMEDIATE and COMMIT / ROLLBACK. */
#define TXN(q, body)                                                                               \
    do {                                                                                           \
        vigil_status txn_st_ = pg_begin((q), err);                                                 \
        if (txn_st_ != VIGIL_OK) {                                                                 \
            return txn_st_;                                                                        \
        }                                                                                          \
        return pg_end((q), (body), err);                                                           \
    } while (0)

/* As TXN, for a body that yields an id into id_: *out gets it only after
 * COMMIT, so on error the caller's output is unchanged. */
#define TXN_ID(q, out, body)                                                                       \
    do {                                                                                           \
        int64_t id_ = 0;                                                                           \
        vigil_status txn_st_ = pg_begin((q), err);                                                 \
        if (txn_st_ == VIGIL_OK) {                                                                 \
            txn_st_ = pg_end((q), (body), err);                                                    \
        }                                                                                          \
        if (txn_st_ == VIGIL_OK) {                                                                 \
            *(out) = id_;                                                                          \
        }                                                                                          \
        return txn_st_;                                                                            \
    } while (0)

/* Did the last UPDATE change a row? */
static vigil_status changed_one(pgc *q, const char *what, vigil_err *err)
{
    if (pg_changes(q) == 0) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, what, "no %s in force", what);
    }
    return VIGIL_OK;
}

/* ---- episodes and alerts ------------------------------------------------- */

/* the patient's row locked to the end of the transaction: a second node
 * opening an episode for the patient waits here, then sees the first one's */
static const char SQL_PAT_LOCK[] = "SELECT id FROM patient WHERE id = ?1 FOR UPDATE";
static const char SQL_EP_OPEN_OF_TRIGGER[] =
    "SELECT id FROM episode WHERE patient_id = ?1 AND trigger = ?2 AND closed_ms IS NULL "
    "AND id <> ?3 ORDER BY id LIMIT 1";
static const char SQL_EP_GET[] =
    "SELECT patient_id, closed_ms IS NOT NULL, opened_ms FROM episode WHERE id = ?1";
static const char SQL_EP_INSERT[] =
    "INSERT INTO episode (patient_id, level, trigger, trigger_ref, opened_ms, opened_by) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id";
static const char SQL_ALERT_INSERT[] =
    "INSERT INTO alert (episode_id, level, raised_ms) VALUES (?1, ?2, ?3) RETURNING id";
static const char SQL_EP_CLOSE[] =
    "UPDATE episode SET closed_ms = ?2, closed_by = ?3, close_reason = ?4, "
    "superseded_by = ?5 WHERE id = ?1 AND closed_ms IS NULL";
static const char SQL_ALERT_GET[] =
    "SELECT e.patient_id FROM alert a JOIN episode e ON e.id = a.episode_id WHERE a.id = ?1";
static const char SQL_REPEAT_INSERT[] =
    "INSERT INTO alert_repeat (alert_id, t_ms, rota_step, notified, recorded_by) "
    "VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id";
/* the alert's row locked to the end of the transaction: a second repeat of
 * it (another node) waits here, then reads the first one's repeat */
static const char SQL_ALERT_LOCK[] = "SELECT raised_ms FROM alert WHERE id = ?1 FOR UPDATE";
static const char SQL_LAST_REPEAT[] = "SELECT max(t_ms) FROM alert_repeat WHERE alert_id = ?1";
static const char SQL_ALERT_ACKED[] = "SELECT count(*) FROM ack WHERE alert_id = ?1";
static const char SQL_ACK_INSERT[] =
    "INSERT INTO ack (alert_id, username, t_ms, action, reason) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id";

/* The episode rules' primitives (vigil__episode_io, store_int.h): episode.c
 * decides, inside this backend's open write transaction. */
static vigil_status ep_patient_exists(void *be, int64_t patient_id, vigil_err *err)
{
    return pg_require_row(be, SQL_PAT_LOCK, patient_id, "patient", err);
}

static vigil_status ep_open_of_trigger(void *be, int64_t patient_id, vigil_store_trigger trigger,
                                       int64_t except, int64_t *out_id, vigil_err *err)
{
    pgc *q = be;
    pg_stmt *st = NULL;
    PREP(SQL_EP_OPEN_OF_TRIGGER, &st);
    pg_bind_i64(st, 1, patient_id);
    pg_bind_text(st, 2, vigil__store_trigger_names[trigger]);
    pg_bind_i64(st, 3, except);
    bool row = false;
    vigil_status s = pg_step(q, st, &row, "read open episodes", err);
    *out_id = 0;
    if (s == VIGIL_OK && row) {
        *out_id = pg_col_i64(st, 0);
        pg_done(st);
    }
    return s;
}

static vigil_status ep_get(void *be, int64_t id, bool *found, int64_t *patient_id, bool *closed,
                           vigil_err *err)
{
    pgc *q = be;
    pg_stmt *st = NULL;
    PREP(SQL_EP_GET, &st);
    pg_bind_i64(st, 1, id);
    vigil_status s = pg_step(q, st, found, "read episode", err);
    if (s != VIGIL_OK || !*found) {
        return s;
    }
    *patient_id = pg_col_i64(st, 0);
    *closed = pg_col_i64(st, 1) != 0;
    pg_done(st);
    return VIGIL_OK;
}

static vigil_status ep_insert(void *be, const vigil_actor *who, int64_t patient_id,
                              vigil_news2_response level, vigil_store_trigger trigger,
                              int64_t trigger_ref, int64_t t_ms, int64_t *out_ep,
                              int64_t *out_alert, vigil_err *err)
{
    pgc *q = be;
    pg_stmt *st = NULL;
    PREP(SQL_EP_INSERT, &st);
    pg_bind_i64(st, 1, patient_id);
    pg_bind_text(st, 2, vigil__store_level_names[level]);
    pg_bind_text(st, 3, vigil__store_trigger_names[trigger]);
    pg_bind_i64_opt(st, 4, trigger_ref);
    pg_bind_i64(st, 5, t_ms);
    pg_bind_text(st, 6, who->user);
    vigil_status s = pg_run(q, st, "open episode", err);
    if (s != VIGIL_OK) {
        return s;
    }
    *out_ep = pg_last_id(q);
    PREP(SQL_ALERT_INSERT, &st);
    pg_bind_i64(st, 1, *out_ep);
    pg_bind_text(st, 2, vigil__store_level_names[level]);
    pg_bind_i64(st, 3, t_ms);
    s = pg_run(q, st, "raise alert", err);
    if (s == VIGIL_OK) {
        *out_alert = pg_last_id(q);
    }
    return s;
}

static vigil_status ep_close(void *be, const vigil_actor *who, int64_t id, int64_t t_ms,
                             const char *reason, int64_t superseded_by, vigil_err *err)
{
    pgc *q = be;
    pg_stmt *st = NULL;
    PREP(SQL_EP_CLOSE, &st);
    pg_bind_i64(st, 1, id);
    pg_bind_i64(st, 2, t_ms);
    pg_bind_text(st, 3, who->user);
    pg_bind_text(st, 4, reason);
    pg_bind_i64_opt(st, 5, superseded_by);
    return pg_run(q, st, "close episode", err);
}

static vigil_status ep_queue(void *be, const vigil_actor *who, int64_t alert_id,
                             int64_t patient_id, int64_t t_ms, const vigil_store_page_req *pages,
                             size_t n, vigil_err *err)
{
    return vigil__pg_pages_queue(be, who, alert_id, 0, patient_id, t_ms, pages, n, err);
}

static vigil_status ep_audit(void *be, const vigil__audit_ev *ev, vigil_err *err)
{
    return pg_audit(be, ev, err);
}

static const vigil__episode_io episode_io = {
    .patient_exists = ep_patient_exists,
    .open_of_trigger = ep_open_of_trigger,
    .episode_get = ep_get,
    .episode_insert = ep_insert,
    .episode_close = ep_close,
    .queue = ep_queue,
    .audit = ep_audit,
};

vigil_status vigil__pg_episode_open(void *be, const vigil_actor *who, int64_t patient_id,
                                    vigil_news2_response level, vigil_store_trigger trigger,
                                    int64_t trigger_ref, int64_t supersedes_id, int64_t t_ms,
                                    const vigil_store_page_req *pages, size_t n_pages,
                                    int64_t *out_episode_id, int64_t *out_alert_id, vigil_err *err)
{
    pgc *q = be;
    int64_t ep = 0, al = 0;
    vigil_status s = pg_begin(q, err);
    if (s == VIGIL_OK) {
        s = pg_end(q,
                   vigil__episode_open(&episode_io, q, who, patient_id, level, trigger, trigger_ref,
                                       supersedes_id, t_ms, pages, n_pages, &ep, &al, err),
                   err);
    }
    if (s == VIGIL_OK) {
        *out_episode_id = ep;
        *out_alert_id = al;
    }
    return s;
}

vigil_status vigil__pg_episode_close(void *be, const vigil_actor *who, int64_t episode_id,
                                     int64_t t_ms, const char *reason, vigil_err *err)
{
    pgc *q = be;
    TXN(q, vigil__episode_close(&episode_io, q, who, episode_id, t_ms, reason, err));
}

static vigil_status alert_patient(pgc *q, int64_t alert_id, int64_t *patient_id, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_ALERT_GET, &st);
    pg_bind_i64(st, 1, alert_id);
    bool row = false;
    vigil_status s = pg_step(q, st, &row, "read alert", err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (!row) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "alert_id", "no alert %lld",
                             (long long)alert_id);
    }
    *patient_id = pg_col_i64(st, 0);
    pg_done(st);
    return VIGIL_OK;
}

/* When the alert was last sent: its latest repeat, else its raising, read
 * under the alert's row lock (held to COMMIT). */
static vigil_status last_sent(pgc *q, int64_t alert_id, int64_t *out, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_ALERT_LOCK, &st);
    pg_bind_i64(st, 1, alert_id);
    bool row = false;
    vigil_status s = pg_step(q, st, &row, "lock the alert", err);
    if (s != VIGIL_OK) {
        return s;
    }
    int64_t raised = row ? pg_col_i64(st, 0) : 0;
    pg_done(st);
    PREP(SQL_LAST_REPEAT, &st);
    pg_bind_i64(st, 1, alert_id);
    s = pg_step(q, st, &row, "read the alert's last repeat", err);
    if (s != VIGIL_OK) {
        return s;
    }
    *out = row && pg_col_cstr(st, 0) != NULL ? pg_col_i64(st, 0) : raised;
    pg_done(st);
    return VIGIL_OK;
}

static vigil_status repeat_txn(pgc *q, const vigil_actor *who, int64_t alert_id, int64_t t_ms,
                               int64_t last_by_ms, int rota_step, const char *notified,
                               const vigil_store_page_req *pages, size_t n_pages, vigil_err *err)
{
    int64_t patient_id = 0;
    vigil_status s = alert_patient(q, alert_id, &patient_id, err);
    if (s != VIGIL_OK) {
        return s;
    }
    int64_t last = 0;
    s = last_sent(q, alert_id, &last, err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (last > last_by_ms) { /* REQ ESC-REPEAT-ONCE: sent since, by another node */
        return vigil_err_set(err, VIGIL_ERR_CONFLICT, "alert_id",
                             "alert %lld was already sent at %lld, within the repeat interval",
                             (long long)alert_id, (long long)last);
    }
    /* only an unacknowledged alert repeats (spec/escalation.md): an
     * acknowledgement made on another node, which this one's memory has not
     * yet seen, stops it here (the acknowledgement takes the same row lock) */
    pg_stmt *ck = NULL;
    PREP(SQL_ALERT_ACKED, &ck);
    pg_bind_i64(ck, 1, alert_id);
    bool ck_row = false;
    s = pg_step(q, ck, &ck_row, "read the alert's acknowledgements", err);
    if (s != VIGIL_OK) {
        return s;
    }
    int64_t n_acks = ck_row ? pg_col_i64(ck, 0) : 0;
    pg_done(ck);
    if (n_acks > 0) {
        return vigil_err_set(err, VIGIL_ERR_CONFLICT, "alert_id",
                             "alert %lld was acknowledged: it is not repeated",
                             (long long)alert_id);
    }
    pg_stmt *st = NULL;
    PREP(SQL_REPEAT_INSERT, &st);
    pg_bind_i64(st, 1, alert_id);
    pg_bind_i64(st, 2, t_ms);
    pg_bind_int(st, 3, rota_step);
    pg_bind_text(st, 4, notified);
    pg_bind_text(st, 5, who->user);
    s = pg_run(q, st, "repeat alert", err);
    if (s != VIGIL_OK) {
        return s;
    }
    int64_t repeat_id = pg_last_id(q);
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "alert.repeat", "alert", alert_id, patient_id,
                        "rota step %d to %s", rota_step, notified);
    s = pg_audit(q, &ev, err);
    if (s == VIGIL_OK) {
        s = vigil__pg_pages_queue(q, who, alert_id, repeat_id, patient_id, t_ms, pages, n_pages,
                                  err);
    }
    return s;
}

vigil_status vigil__pg_alert_repeat(void *be, const vigil_actor *who, int64_t alert_id,
                                    int64_t t_ms, int64_t last_by_ms, int rota_step,
                                    const char *notified, const vigil_store_page_req *pages,
                                    size_t n_pages, vigil_err *err)
{
    pgc *q = be;
    TXN(q, repeat_txn(q, who, alert_id, t_ms, last_by_ms, rota_step, notified, pages, n_pages,
                      err));
}

static vigil_status ack_txn(pgc *q, const vigil_actor *who, int64_t alert_id, int64_t t_ms,
                            vigil_store_ack_action action, const char *reason, int64_t *out_id,
                            vigil_err *err)
{
    int64_t patient_id = 0;
    vigil_status s = alert_patient(q, alert_id, &patient_id, err);
    if (s != VIGIL_OK) {
        return s;
    }
    /* the alert's row lock, as a repeat takes it: a repeat on another node
     * waits for this acknowledgement and then sees it */
    int64_t ignored = 0;
    s = last_sent(q, alert_id, &ignored, err);
    if (s != VIGIL_OK) {
        return s;
    }
    pg_stmt *st = NULL;
    PREP(SQL_ACK_INSERT, &st);
    pg_bind_i64(st, 1, alert_id);
    pg_bind_text(st, 2, who->user);
    pg_bind_i64(st, 3, t_ms);
    pg_bind_text(st, 4, vigil__store_ack_names[action]);
    pg_bind_text_opt(st, 5, reason);
    s = pg_run(q, st, "acknowledge alert", err);
    if (s != VIGIL_OK) {
        return s;
    }
    *out_id = pg_last_id(q);
    s = vigil__pg_pages_acked(q, who, alert_id, t_ms, err); /* pages acked; unsent cancelled;
                                                            the gateway told */
    if (s != VIGIL_OK) {
        return s;
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "alert.ack", "alert", alert_id, patient_id, "%s%s%s",
                        vigil__store_ack_names[action], reason != NULL ? ": " : "",
                        reason != NULL ? reason : "");
    return pg_audit(q, &ev, err);
}

vigil_status vigil__pg_alert_ack(void *be, const vigil_actor *who, int64_t alert_id, int64_t t_ms,
                                 vigil_store_ack_action action, const char *reason, int64_t *out_id,
                                 vigil_err *err)
{
    pgc *q = be;
    TXN_ID(q, out_id, ack_txn(q, who, alert_id, t_ms, action, reason, &id_, err));
}

/* ---- concerns and Martha's Rule ----------------------------------------- */

static const char SQL_CONCERN_INSERT[] =
    "INSERT INTO staff_concern (patient_id, t_ms, username, concern) VALUES (?1, ?2, ?3, ?4) RETURNING id";
static const char SQL_CALL_INSERT[] =
    "INSERT INTO marthas_call (patient_id, caller, caller_name, channel, t_ms, concern, ward, "
    "recorded_by, recorded_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, (SELECT b.ward FROM bed_stay b "
    "JOIN admission a ON a.id = b.admission_id WHERE a.patient_id = ?1 AND a.discharged_ms IS "
    "NULL AND b.to_ms IS NULL), ?7, ?8) RETURNING id";
static const char SQL_CALL_GET[] = "SELECT patient_id, t_ms FROM marthas_call WHERE id = ?1";
static const char SQL_REVIEW_INSERT[] =
    "INSERT INTO marthas_review (call_id, responder, t_ms, category, outcome, note, "
    "recorded_by, recorded_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id";

static vigil_status concern_txn(pgc *q, const vigil_actor *who, int64_t patient_id, int64_t t_ms,
                                const char *concern, int64_t *out_id, vigil_err *err)
{
    vigil_status s = pg_require_row(q, SQL_PAT_EXISTS, patient_id, "patient", err);
    if (s != VIGIL_OK) {
        return s;
    }
    pg_stmt *st = NULL;
    PREP(SQL_CONCERN_INSERT, &st);
    pg_bind_i64(st, 1, patient_id);
    pg_bind_i64(st, 2, t_ms);
    pg_bind_text(st, 3, who->user);
    pg_bind_text(st, 4, concern);
    s = pg_run(q, st, "record staff concern", err);
    if (s != VIGIL_OK) {
        return s;
    }
    *out_id = pg_last_id(q);
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "concern.staff", "staff_concern", *out_id, patient_id,
                        "staff concern");
    return pg_audit(q, &ev, err);
}

vigil_status vigil__pg_staff_concern(void *be, const vigil_actor *who, int64_t patient_id,
                                     int64_t t_ms, const char *concern, int64_t *out_id,
                                     vigil_err *err)
{
    pgc *q = be;
    TXN_ID(q, out_id, concern_txn(q, who, patient_id, t_ms, concern, &id_, err));
}

static vigil_status call_txn(pgc *q, const vigil_actor *who, const vigil_store_marthas_call *c,
                             int64_t *out_id, vigil_err *err)
{
    vigil_status s = pg_require_row(q, SQL_PAT_EXISTS, c->patient_id, "patient", err);
    if (s != VIGIL_OK) {
        return s;
    }
    pg_stmt *st = NULL;
    PREP(SQL_CALL_INSERT, &st);
    pg_bind_i64(st, 1, c->patient_id);
    pg_bind_text(st, 2, vigil__store_caller_names[c->caller]);
    pg_bind_text_opt(st, 3, c->caller_name);
    pg_bind_text(st, 4, c->channel);
    pg_bind_i64(st, 5, c->t_ms);
    pg_bind_text(st, 6, c->concern);
    pg_bind_text(st, 7, who->user);
    pg_bind_i64(st, 8, vigil__store_now_ms());
    s = pg_run(q, st, "record Martha's Rule call", err);
    if (s != VIGIL_OK) {
        return s;
    }
    *out_id = pg_last_id(q);
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "marthas.call", "marthas_call", *out_id, c->patient_id,
                        "caller %s via %s", vigil__store_caller_names[c->caller], c->channel);
    return pg_audit(q, &ev, err);
}

vigil_status vigil__pg_marthas_call_add(void *be, const vigil_actor *who,
                                        const vigil_store_marthas_call *call, int64_t *out_id,
                                        vigil_err *err)
{
    pgc *q = be;
    TXN_ID(q, out_id, call_txn(q, who, call, &id_, err));
}

static vigil_status review_txn(pgc *q, const vigil_actor *who, const vigil_store_marthas_review *r,
                               int64_t *out_id, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_CALL_GET, &st);
    pg_bind_i64(st, 1, r->call_id);
    bool row = false;
    vigil_status s = pg_step(q, st, &row, "read Martha's Rule call", err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (!row) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "call_id", "no Martha's Rule call %lld",
                             (long long)r->call_id);
    }
    int64_t patient_id = pg_col_i64(st, 0);
    int64_t call_ms = pg_col_i64(st, 1);
    pg_done(st);
    if (r->t_ms < call_ms) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "t_ms",
                             "a review cannot come before the call it answers");
    }
    PREP(SQL_REVIEW_INSERT, &st);
    pg_bind_i64(st, 1, r->call_id);
    pg_bind_text(st, 2, r->responder);
    pg_bind_i64(st, 3, r->t_ms);
    pg_bind_text(st, 4, vigil__store_mr_category_names[r->category]);
    pg_bind_text(st, 5, vigil__store_mr_outcome_names[r->outcome]);
    pg_bind_text_opt(st, 6, r->note);
    pg_bind_text(st, 7, who->user);
    pg_bind_i64(st, 8, vigil__store_now_ms());
    s = pg_run(q, st, "record Martha's Rule review (one per call)", err);
    if (s != VIGIL_OK) {
        return s;
    }
    *out_id = pg_last_id(q);
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "marthas.review", "marthas_review", *out_id, patient_id,
                        "call %lld %s %s after %.1f min", (long long)r->call_id,
                        vigil__store_mr_category_names[r->category],
                        vigil__store_mr_outcome_names[r->outcome],
                        (double)(r->t_ms - call_ms) / 60000.0);
    return pg_audit(q, &ev, err);
}

vigil_status vigil__pg_marthas_review_add(void *be, const vigil_actor *who,
                                          const vigil_store_marthas_review *rev, int64_t *out_id,
                                          vigil_err *err)
{
    pgc *q = be;
    TXN_ID(q, out_id, review_txn(q, who, rev, &id_, err));
}

/* ---- daily answers, opt-outs, Scale 2, plans ----------------------------- */

static const char SQL_DAILY_INSERT[] =
    "INSERT INTO daily_answer (patient_id, t_ms, answer, asked_by) VALUES (?1, ?2, ?3, ?4) RETURNING id";
static const char SQL_OPTOUT_INSERT[] =
    "INSERT INTO ai_optout (patient_id, from_ms, recorded_by, note) VALUES (?1, ?2, ?3, ?4) RETURNING id";
static const char SQL_OPTOUT_END[] = "UPDATE ai_optout SET withdrawn_ms = ?2, withdrawn_by = ?3 "
                                     "WHERE patient_id = ?1 AND withdrawn_ms IS NULL";
static const char SQL_S2_INSERT[] =
    "INSERT INTO scale2_decision (patient_id, from_ms, decided_by, reason) "
    "VALUES (?1, ?2, ?3, ?4) RETURNING id";
static const char SQL_S2_END[] =
    "UPDATE scale2_decision SET ended_ms = ?2, ended_by = ?3, end_reason = ?4 "
    "WHERE patient_id = ?1 AND ended_ms IS NULL";
static const char SQL_PLAN_INSERT[] =
    "INSERT INTO escalation_plan (patient_id, made_ms, made_by, reason, plan, review_ms, "
    "expires_ms, level, news2_usual_max) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id";
static const char SQL_PLAN_GET[] =
    "SELECT patient_id, revoked_ms IS NOT NULL FROM escalation_plan WHERE id = ?1";
static const char SQL_PLAN_REVOKE[] =
    "UPDATE escalation_plan SET revoked_ms = ?2, revoked_by = ?3, revoke_reason = ?4 "
    "WHERE id = ?1";

/* Insert into a patient table with (patient_id, t_ms, text, text) binds and
 * audit it: the shape of daily answers, opt-outs and Scale 2 decisions. */
static vigil_status insert_ptt(pgc *q, const vigil_actor *who, const char *sql, int64_t patient_id,
                               int64_t t_ms, const char *a, const char *b, const char *action,
                               const char *entity, const char *detail, int64_t *out_id,
                               vigil_err *err)
{
    vigil_status s = pg_require_row(q, SQL_PAT_EXISTS, patient_id, "patient", err);
    if (s != VIGIL_OK) {
        return s;
    }
    pg_stmt *st = NULL;
    PREP(sql, &st);
    pg_bind_i64(st, 1, patient_id);
    pg_bind_i64(st, 2, t_ms);
    pg_bind_text(st, 3, a);
    pg_bind_text_opt(st, 4, b);
    s = pg_run(q, st, action, err);
    if (s != VIGIL_OK) {
        return s;
    }
    *out_id = pg_last_id(q);
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, action, entity, *out_id, patient_id, "%s", detail);
    return pg_audit(q, &ev, err);
}

/* End the one row in force with an UPDATE of (patient_id, t_ms, who[, why]). */
static vigil_status end_ptt(pgc *q, const vigil_actor *who, const char *sql, int64_t patient_id,
                            int64_t t_ms, const char *why, const char *action, const char *entity,
                            vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(sql, &st);
    pg_bind_i64(st, 1, patient_id);
    pg_bind_i64(st, 2, t_ms);
    pg_bind_text(st, 3, who->user);
    if (why != NULL) {
        pg_bind_text(st, 4, why);
    }
    vigil_status s = pg_run(q, st, action, err);
    if (s == VIGIL_OK) {
        s = changed_one(q, entity, err);
    }
    if (s != VIGIL_OK) {
        return s;
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, action, entity, 0, patient_id, "%s", why != NULL ? why : "");
    return pg_audit(q, &ev, err);
}

vigil_status vigil__pg_daily_answer(void *be, const vigil_actor *who, int64_t patient_id,
                                    int64_t t_ms, vigil_store_feeling answer, int64_t *out_id,
                                    vigil_err *err)
{
    pgc *q = be;
    const char *a = vigil__store_feeling_names[answer];
    TXN_ID(q, out_id,
           insert_ptt(q, who, SQL_DAILY_INSERT, patient_id, t_ms, a, who->user, "daily.answer",
                      "daily_answer", a, &id_, err));
}

vigil_status vigil__pg_ai_optout(void *be, const vigil_actor *who, int64_t patient_id, int64_t t_ms,
                                 const char *note, int64_t *out_id, vigil_err *err)
{
    pgc *q = be;
    TXN_ID(q, out_id,
           insert_ptt(q, who, SQL_OPTOUT_INSERT, patient_id, t_ms, who->user, note, "ai.optout",
                      "ai_optout", "opted out of AI scoring", &id_, err));
}

vigil_status vigil__pg_ai_optout_withdraw(void *be, const vigil_actor *who, int64_t patient_id,
                                          int64_t t_ms, vigil_err *err)
{
    pgc *q = be;
    TXN(q, end_ptt(q, who, SQL_OPTOUT_END, patient_id, t_ms, NULL, "ai.optin", "ai_optout", err));
}

static vigil_status scale2_set_txn(pgc *q, const vigil_actor *who, int64_t patient_id, int64_t t_ms,
                                   const char *reason, int64_t *out_id, vigil_err *err)
{
    /* the doctor-only rule is checked above the backend (store.c) */
    return insert_ptt(q, who, SQL_S2_INSERT, patient_id, t_ms, who->user, reason, "scale2.set",
                      "scale2_decision", reason, out_id, err);
}

vigil_status vigil__pg_scale2_set(void *be, const vigil_actor *who, int64_t patient_id,
                                  int64_t t_ms, const char *reason, int64_t *out_id, vigil_err *err)
{
    pgc *q = be;
    TXN_ID(q, out_id, scale2_set_txn(q, who, patient_id, t_ms, reason, &id_, err));
}

static vigil_status scale2_end_txn(pgc *q, const vigil_actor *who, int64_t patient_id, int64_t t_ms,
                                   const char *reason, vigil_err *err)
{
    return end_ptt(q, who, SQL_S2_END, patient_id, t_ms, reason, "scale2.end", "scale2_decision",
                   err);
}

vigil_status vigil__pg_scale2_end(void *be, const vigil_actor *who, int64_t patient_id,
                                  int64_t t_ms, const char *reason, vigil_err *err)
{
    pgc *q = be;
    TXN(q, scale2_end_txn(q, who, patient_id, t_ms, reason, err));
}

static vigil_status plan_add_txn(pgc *q, const vigil_actor *who, const vigil_store_plan *p,
                                 int64_t *out_id, vigil_err *err)
{
    vigil_status s = pg_require_row(q, SQL_PAT_EXISTS, p->patient_id, "patient", err);
    if (s != VIGIL_OK) {
        return s;
    }
    pg_stmt *st = NULL;
    PREP(SQL_PLAN_INSERT, &st);
    pg_bind_i64(st, 1, p->patient_id);
    pg_bind_i64(st, 2, p->t_ms);
    pg_bind_text(st, 3, who->user);
    pg_bind_text(st, 4, p->reason);
    pg_bind_text(st, 5, p->plan);
    pg_bind_i64(st, 6, p->review_ms);
    pg_bind_i64(st, 7, p->expires_ms);
    pg_bind_text(st, 8, vigil_escalation_level_name(p->level));
    pg_bind_int(st, 9, p->news2_usual_max);
    s = pg_run(q, st, "record escalation plan", err);
    if (s != VIGIL_OK) {
        return s;
    }
    *out_id = pg_last_id(q);
    char rv[32], ex[32];
    vigil__store_iso8601(p->review_ms, rv);
    vigil__store_iso8601(p->expires_ms, ex);
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "plan.add", "escalation_plan", *out_id, p->patient_id,
                        "level %s up to NEWS2 %d, review %s expires %s: %s",
                        vigil_escalation_level_name(p->level), p->news2_usual_max, rv, ex,
                        p->reason);
    return pg_audit(q, &ev, err);
}

vigil_status vigil__pg_plan_add(void *be, const vigil_actor *who, const vigil_store_plan *plan,
                                int64_t *out_id, vigil_err *err)
{
    pgc *q = be;
    TXN_ID(q, out_id, plan_add_txn(q, who, plan, &id_, err));
}

static vigil_status plan_revoke_txn(pgc *q, const vigil_actor *who, int64_t plan_id, int64_t t_ms,
                                    const char *reason, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_PLAN_GET, &st);
    pg_bind_i64(st, 1, plan_id);
    bool row = false;
    vigil_status s = pg_step(q, st, &row, "read plan", err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (!row) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "plan_id", "no plan %lld",
                             (long long)plan_id);
    }
    int64_t patient_id = pg_col_i64(st, 0);
    bool revoked = pg_col_int(st, 1) != 0;
    pg_done(st);
    if (revoked) {
        return vigil_err_set(err, VIGIL_ERR_CONFLICT, "plan_id", "plan %lld is already revoked",
                             (long long)plan_id);
    }
    PREP(SQL_PLAN_REVOKE, &st);
    pg_bind_i64(st, 1, plan_id);
    pg_bind_i64(st, 2, t_ms);
    pg_bind_text(st, 3, who->user);
    pg_bind_text(st, 4, reason);
    s = pg_run(q, st, "revoke plan", err);
    if (s != VIGIL_OK) {
        return s;
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "plan.revoke", "escalation_plan", plan_id, patient_id, "%s",
                        reason);
    return pg_audit(q, &ev, err);
}

vigil_status vigil__pg_plan_revoke(void *be, const vigil_actor *who, int64_t plan_id, int64_t t_ms,
                                   const char *reason, vigil_err *err)
{
    pgc *q = be;
    TXN(q, plan_revoke_txn(q, who, plan_id, t_ms, reason, err));
}

/* ---- patient state ------------------------------------------------------- */

static const char SQL_ST_OPTOUT[] =
    "SELECT from_ms FROM ai_optout WHERE patient_id = ?1 AND withdrawn_ms IS NULL";
static const char SQL_ST_SCALE2[] =
    "SELECT from_ms FROM scale2_decision WHERE patient_id = ?1 AND ended_ms IS NULL";
static const char SQL_ST_PLAN[] =
    "SELECT id, review_ms, expires_ms, made_ms, made_by, reason, level, news2_usual_max "
    "FROM escalation_plan WHERE patient_id = ?1 AND "
    "revoked_ms IS NULL AND made_ms <= ?2 AND expires_ms > ?2 ORDER BY made_ms DESC, id DESC "
    "LIMIT 1";
static const char SQL_ST_DAILY[] =
    "SELECT answer, t_ms FROM daily_answer WHERE patient_id = ?1 ORDER BY t_ms DESC, id DESC "
    "LIMIT 1";
static const char SQL_ST_EPISODE[] =
    "SELECT level, id FROM episode WHERE patient_id = ?1 AND closed_ms IS NULL ORDER BY "
    "CASE level WHEN 'emergency' THEN 4 WHEN 'urgent' THEN 3 WHEN 'urgent-ward' THEN 2 "
    "ELSE 1 END DESC, opened_ms DESC LIMIT 1";
static const char SQL_ST_MARTHAS[] =
    "SELECT count(*) FROM marthas_call c WHERE c.patient_id = ?1 AND NOT EXISTS "
    "(SELECT 1 FROM marthas_review r WHERE r.call_id = c.id)";

/* Run a one-row state query; *row says whether it gave one (left unreset
 * when it did: the caller reads columns then calls pg_done). */
static vigil_status state_q(pgc *q, const char *sql, int64_t patient_id, int64_t now_ms,
                            pg_stmt **st, bool *row, vigil_err *err)
{
    PREP(sql, st);
    pg_bind_i64(*st, 1, patient_id);
    if (sql == SQL_ST_PLAN) {
        pg_bind_i64(*st, 2, now_ms);
    }
    return pg_step(q, *st, row, "read patient state", err);
}

vigil_status vigil__pg_state_read(pgc *q, int64_t patient_id, int64_t now_ms,
                                  vigil_store_patient_state *out, vigil_err *err)
{
    vigil_store_patient_state x;
    memset(&x, 0, sizeof x);
    x.open_level = VIGIL_RESP_ROUTINE;
    pg_stmt *st = NULL;
    bool row = false;
    vigil_status s = state_q(q, SQL_ST_OPTOUT, patient_id, now_ms, &st, &row, err);
    if (s == VIGIL_OK && row) {
        x.ai_opted_out = true;
        x.ai_optout_since_ms = pg_col_i64(st, 0);
        pg_done(st);
    }
    if (s == VIGIL_OK) {
        s = state_q(q, SQL_ST_SCALE2, patient_id, now_ms, &st, &row, err);
    }
    if (s == VIGIL_OK && row) {
        x.scale2 = true;
        x.scale2_since_ms = pg_col_i64(st, 0);
        pg_done(st);
    }
    if (s == VIGIL_OK) {
        s = state_q(q, SQL_ST_PLAN, patient_id, now_ms, &st, &row, err);
    }
    if (s == VIGIL_OK && row) {
        x.plan_active = true;
        x.plan_id = pg_col_i64(st, 0);
        x.plan_review_ms = pg_col_i64(st, 1);
        x.plan_expires_ms = pg_col_i64(st, 2);
        x.plan_made_ms = pg_col_i64(st, 3);
        pg_col_text(st, 4, x.plan_by, sizeof x.plan_by);
        if (!pg_col_text(st, 5, x.plan_reason, sizeof x.plan_reason)) {
            vigil__store_cut_utf8(x.plan_reason);
        }
        int level = -1;
        for (int k = 0; k < VIGIL_ESC_LEVEL_COUNT && pg_col_type(st, 6) != PG_NULL;
             k++) {
            if (strcmp((const char *)pg_col_cstr(st, 6),
                       vigil_escalation_level_name((vigil_esc_level)k)) == 0) {
                level = k;
            }
        }
        x.plan_has_terms = level >= 0 && pg_col_type(st, 7) != PG_NULL;
        x.plan_level = level >= 0 ? (vigil_esc_level)level : VIGIL_ESC_NONE;
        x.plan_news2_usual_max = x.plan_has_terms ? pg_col_int(st, 7) : 0;
        pg_done(st);
    }
    if (s == VIGIL_OK) {
        s = state_q(q, SQL_ST_DAILY, patient_id, now_ms, &st, &row, err);
    }
    if (s == VIGIL_OK && row) {
        int f = pg_col_enum(st, 0, vigil__store_feeling_names, VIGIL_STORE_FEEL_COUNT);
        x.has_daily = f >= 0;
        x.daily = f >= 0 ? (vigil_store_feeling)f : VIGIL_STORE_FEEL_SAME;
        x.daily_ms = pg_col_i64(st, 1);
        pg_done(st);
    }
    if (s == VIGIL_OK) {
        s = state_q(q, SQL_ST_EPISODE, patient_id, now_ms, &st, &row, err);
    }
    if (s == VIGIL_OK && row) {
        int lv = pg_col_enum(st, 0, vigil__store_level_names, VIGIL_RESP_COUNT);
        x.open_level = lv > 0 ? (vigil_news2_response)lv : VIGIL_RESP_ROUTINE;
        x.open_episode_id = pg_col_i64(st, 1);
        pg_done(st);
    }
    if (s == VIGIL_OK) {
        s = state_q(q, SQL_ST_MARTHAS, patient_id, now_ms, &st, &row, err);
    }
    if (s == VIGIL_OK && row) {
        x.n_unreviewed_marthas = pg_col_int(st, 0);
        pg_done(st);
    }
    if (s == VIGIL_OK) {
        *out = x;
    }
    return s;
}

static const char SQL_ST_NEXT_PLAN[] =
    "SELECT min(made_ms) FROM escalation_plan WHERE patient_id = ?1 AND revoked_ms IS NULL "
    "AND made_ms > ?2";

vigil_status vigil__pg_state_at(void *be, int64_t patient_id, int64_t now_ms,
                                vigil_store_patient_state *out, int64_t *out_valid_until_ms,
                                vigil_err *err)
{
    pgc *q = be;
    vigil_store_patient_state x;
    vigil_status s = vigil__pg_state_read(q, patient_id, now_ms, &x, err);
    if (s != VIGIL_OK) {
        return s;
    }
    /* the plan answer changes when the plan in force expires or a later
     * plan's time comes; revoking or adding one is a write */
    int64_t until = x.plan_active ? x.plan_expires_ms : INT64_MAX;
    pg_stmt *st = NULL;
    PREP(SQL_ST_NEXT_PLAN, &st);
    pg_bind_i64(st, 1, patient_id);
    pg_bind_i64(st, 2, now_ms);
    bool row = false;
    s = pg_step(q, st, &row, "read patient state", err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (row) {
        if (pg_col_type(st, 0) != PG_NULL && pg_col_i64(st, 0) < until) {
            until = pg_col_i64(st, 0);
        }
        pg_done(st);
    }
    *out = x;
    *out_valid_until_ms = until;
    return VIGIL_OK;
}

static vigil_status state_txn(pgc *q, const vigil_actor *who, int64_t patient_id, int64_t now_ms,
                              vigil_store_patient_state *out, vigil_err *err)
{
    vigil_status s = pg_require_row(q, SQL_PAT_EXISTS, patient_id, "patient", err);
    if (s == VIGIL_OK) {
        s = vigil__pg_state_read(q, patient_id, now_ms, out, err);
    }
    if (s != VIGIL_OK) {
        return s;
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "state.read", "patient", patient_id, patient_id,
                        "opt-out, Scale 2, plan, daily answer, episodes");
    return pg_audit(q, &ev, err);
}

vigil_status vigil__pg_patient_state_get(void *be, const vigil_actor *who, int64_t patient_id,
                                         int64_t now_ms, vigil_store_patient_state *out,
                                         vigil_err *err)
{
    pgc *q = be;
    vigil_store_patient_state x;
    vigil_status s = pg_begin(q, err);
    if (s == VIGIL_OK) {
        s = pg_end(q, state_txn(q, who, patient_id, now_ms, &x, err), err);
    }
    if (s == VIGIL_OK) {
        *out = x;
    }
    return s;
}
