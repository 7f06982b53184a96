/*
 * pg_read.c: PostgreSQL backend: the ward list's and the patient view's
 * primitive reads (bed stays, one patient's place, one chosen score row, the
 * read transaction and its audit append; src/store/wardlist.c assembles
 * them), open escalation episodes, a patient's escalation history, and the
 * Martha's Rule log walk that store.c turns into the monthly CSV.
 *
 * Does not: compute due or overdue times, choose which score rows a ward
 * list shows, or write the ward list's audit record (wardlist.c).
 * Invariants: each audited read runs in one write transaction so its audit
 * records commit with it; a read whose audit cannot be written fails. A
 * read_txn that is not durable commits without waiting for the WAL flush
 * (synced with the next synchronous commit or vigil_store_sync): a crash of
 * the server process keeps it; a PostgreSQL crash may lose the last moments
 * of read audits.
 */
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

#define PREP(sql, stp)                                                                             \
    do {                                                                                           \
        vigil_status prep_st_ = pg_prep(q, (sql), (stp), err);                                     \
        if (prep_st_ != VIGIL_OK) {                                                                \
            return prep_st_;                                                                       \
        }                                                                                          \
    } while (0)

/* Grow *rows (of elem bytes) so index n fits. */
static vigil_status grow(void **rows, size_t *cap, size_t n, size_t elem, vigil_err *err)
{
    if (n < *cap) {
        return VIGIL_OK;
    }
    size_t ncap = *cap == 0 ? 16 : *cap * 2;
    void *nr = realloc(*rows, ncap * elem);
    if (nr == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory reading a list");
    }
    *rows = nr;
    *cap = ncap;
    return VIGIL_OK;
}

/* ---- the ward list's and the patient view's primitive reads ---------------
 * (src/store/wardlist.c chooses what to read and writes the audit record) */

vigil_status vigil__pg_read_txn(void *be, bool durable, vigil__txn_fn fn, void *ctx,
                                vigil_err *err)
{
    pgc *q = be;
    /* REQ STORE-READ-AUDIT-SYNC: committed before the read returns; not
     * durable: committed with synchronous_commit off for this transaction,
     * flushed with the next durable commit or vigil_store_sync */
    q->no_sync = !durable;
    vigil_status s = pg_begin(q, err);
    if (s == VIGIL_OK) {
        s = pg_end(q, fn(ctx, err), err);
    }
    return s;
}

vigil_status vigil__pg_audit_append(void *be, const vigil__audit_ev *ev, vigil_err *err)
{
    return pg_audit(be, ev, err);
}

static const char SQL_WARD[] =
    "SELECT p.id, coalesce(p.nhs_number, ''), coalesce(p.mrn, ''), p.name, p.birth_date, a.id, "
    "b.bed, b.from_ms, "
    "(SELECT o.id FROM obs_set o WHERE o.patient_id = p.id ORDER BY o.t_ms DESC, o.id DESC "
    "LIMIT 1), "
    "(SELECT max(o.t_ms) FROM obs_set o WHERE o.patient_id = p.id) "
    "FROM bed_stay b JOIN admission a ON a.id = b.admission_id "
    "JOIN patient p ON p.id = a.patient_id "
    "WHERE b.ward = ?1 AND b.to_ms IS NULL AND a.discharged_ms IS NULL ORDER BY b.bed, p.id";

vigil_status vigil__pg_ward_beds(void *be, const char *ward, vigil_store_ward_list *out,
                                 vigil_err *err)
{
    pgc *q = be;
    vigil_store_ward_list l = {0, NULL};
    pg_stmt *st = NULL;
    PREP(SQL_WARD, &st);
    pg_bind_text(st, 1, ward);
    size_t cap = 0;
    vigil_status s = VIGIL_OK;
    for (;;) {
        bool row = false;
        s = pg_step(q, st, &row, "ward list", err);
        if (s != VIGIL_OK || !row) {
            break;
        }
        s = grow((void **)&l.rows, &cap, l.n, sizeof *l.rows, err);
        if (s != VIGIL_OK) {
            pg_done(st);
            break;
        }
        vigil_store_ward_entry *e = &l.rows[l.n++];
        memset(e, 0, sizeof *e);
        e->patient.id = pg_col_i64(st, 0);
        pg_col_text(st, 1, e->patient.nhs_number, sizeof e->patient.nhs_number);
        pg_col_text(st, 2, e->patient.mrn, sizeof e->patient.mrn);
        pg_col_text(st, 3, e->patient.name, sizeof e->patient.name);
        pg_col_text(st, 4, e->patient.birth_date, sizeof e->patient.birth_date);
        e->admission_id = pg_col_i64(st, 5);
        pg_col_text(st, 6, e->bed, sizeof e->bed);
        e->bed_since_ms = pg_col_i64(st, 7);
        e->last_obs_id = pg_col_i64(st, 8);
        e->last_obs_ms = pg_col_i64(st, 9);
    }
    if (s != VIGIL_OK) {
        vigil_store_ward_list_fini(&l);
        return s;
    }
    *out = l;
    return VIGIL_OK;
}

static const char SQL_CURRENT[] =
    "SELECT p.id, coalesce(p.nhs_number, ''), coalesce(p.mrn, ''), p.name, p.birth_date, "
    "coalesce(a.id, 0), coalesce(a.admitted_ms, 0), coalesce(b.ward, ''), coalesce(b.bed, ''), "
    "coalesce(b.from_ms, 0), "
    "(SELECT o.id FROM obs_set o WHERE o.patient_id = p.id ORDER BY o.t_ms DESC, o.id DESC "
    "LIMIT 1), "
    "(SELECT max(o.t_ms) FROM obs_set o WHERE o.patient_id = p.id) "
    "FROM patient p LEFT JOIN admission a ON a.patient_id = p.id AND a.discharged_ms IS NULL "
    "LEFT JOIN bed_stay b ON b.admission_id = a.id AND b.to_ms IS NULL WHERE p.id = ?1";

vigil_status vigil__pg_patient_place(void *be, int64_t patient_id,
                                     vigil_store_patient_current *out, vigil_err *err)
{
    pgc *q = be;
    pg_stmt *st = NULL;
    PREP(SQL_CURRENT, &st);
    pg_bind_i64(st, 1, patient_id);
    bool row = false;
    vigil_status s = pg_step(q, st, &row, "patient now", err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (!row) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "patient_id", "no patient %lld",
                             (long long)patient_id);
    }
    vigil_store_patient_current c;
    memset(&c, 0, sizeof c);
    vigil_store_ward_entry *e = &c.entry;
    e->patient.id = pg_col_i64(st, 0);
    pg_col_text(st, 1, e->patient.nhs_number, sizeof e->patient.nhs_number);
    pg_col_text(st, 2, e->patient.mrn, sizeof e->patient.mrn);
    pg_col_text(st, 3, e->patient.name, sizeof e->patient.name);
    pg_col_text(st, 4, e->patient.birth_date, sizeof e->patient.birth_date);
    e->admission_id = pg_col_i64(st, 5);
    c.admitted_ms = pg_col_i64(st, 6);
    pg_col_text(st, 7, c.ward, sizeof c.ward);
    pg_col_text(st, 8, e->bed, sizeof e->bed);
    e->bed_since_ms = pg_col_i64(st, 9);
    e->last_obs_id = pg_col_i64(st, 10);
    e->last_obs_ms = pg_col_i64(st, 11);
    pg_done(st);
    *out = c;
    return VIGIL_OK;
}

/* The latest set: a set stamped ahead of its arrival (a fast device clock,
 * within the server's allowed skew) orders as its arrival, so it never hides
 * a newer real set. Only sets measured within an hour of the latest
 * measured time can be it (the skew is minutes), which keeps the read on
 * the (patient_id, t_ms) index. */
static const char SQL_LATEST_SCORE[] =
    "SELECT o.t_ms, " PG_SCORE_COLS ", LEAST(o.t_ms, o.received_ms) "
    "FROM obs_set o JOIN score s ON s.obs_set_id = o.id "
    "WHERE o.patient_id = ?1 AND o.t_ms >= (SELECT max(x.t_ms) FROM obs_set x "
    "WHERE x.patient_id = ?1) - 3600000 "
    "ORDER BY LEAST(o.t_ms, o.received_ms) DESC, o.id DESC LIMIT 1";
static const char SQL_LATEST_COMPLETE[] =
    "SELECT o.t_ms, " PG_SCORE_COLS ", LEAST(o.t_ms, o.received_ms) "
    "FROM obs_set o JOIN score s ON s.obs_set_id = o.id "
    "WHERE o.patient_id = ?1 AND s.complete = 1 ORDER BY o.t_ms DESC, o.id DESC LIMIT 1";
static const char SQL_PARTIAL_PEAK[] =
    "SELECT o.t_ms, " PG_SCORE_COLS ", LEAST(o.t_ms, o.received_ms) "
    "FROM obs_set o JOIN score s ON s.obs_set_id = o.id "
    "WHERE o.patient_id = ?1 AND o.t_ms > ?2 AND s.complete = 0 "
    "ORDER BY s.news2_total DESC, o.t_ms DESC, o.id DESC LIMIT 1";

static const char *const SQL_PICK[VIGIL__SCORE_PICK_COUNT] = {
    [VIGIL__SCORE_LATEST] = SQL_LATEST_SCORE,
    [VIGIL__SCORE_LATEST_COMPLETE] = SQL_LATEST_COMPLETE,
    [VIGIL__SCORE_PARTIAL_PEAK] = SQL_PARTIAL_PEAK,
};

vigil_status vigil__pg_score_pick(void *be, int64_t patient_id, vigil__score_pick which,
                                  int64_t after_ms, vigil__score_row *out, bool *found,
                                  vigil_err *err)
{
    pgc *q = be;
    *found = false;
    if ((unsigned)which >= VIGIL__SCORE_PICK_COUNT) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "which", "no such score pick");
    }
    pg_stmt *st = NULL;
    PREP(SQL_PICK[which], &st);
    pg_bind_i64(st, 1, patient_id);
    if (which == VIGIL__SCORE_PARTIAL_PEAK) {
        pg_bind_i64(st, 2, after_ms);
    }
    vigil_status s = pg_step(q, st, found, "score", err);
    if (s != VIGIL_OK || !*found) {
        return s;
    }
    vigil__score_row r;
    memset(&r, 0, sizeof r);
    r.obs_ms = pg_col_i64(st, 0);
    r.score_id = pg_col_i64(st, 1);
    vigil__pg_read_news2(st, 1, &r.news2);
    r.order_ms = pg_col_i64(st, 1 + PG_SCORE_NCOLS);
    if (which == VIGIL__SCORE_LATEST) {
        r.has_ai = pg_col_type(st, 1 + 17) != PG_NULL;
        r.ai_prob = pg_col_real(st, 1 + 17);
        r.ai_low_confidence = r.has_ai && pg_col_int(st, 1 + 19) != 0;
    }
    pg_done(st);
    *out = r;
    return VIGIL_OK;
}

/* ---- open episodes ------------------------------------------------------- */

static const char SQL_EPISODES[] =
    "SELECT e.id, e.patient_id, coalesce(p.nhs_number, ''), coalesce(b.ward, ''), "
    "coalesce(b.bed, ''), e.level, e.trigger, coalesce(e.trigger_ref, 0), e.opened_ms, "
    "coalesce(e.closed_ms, 0), a.id, a.raised_ms, "
    "(SELECT count(*) FROM alert_repeat r WHERE r.alert_id = a.id), "
    "(SELECT r.t_ms FROM alert_repeat r WHERE r.alert_id = a.id ORDER BY r.t_ms DESC, r.id DESC "
    "LIMIT 1), "
    "(SELECT r.rota_step FROM alert_repeat r WHERE r.alert_id = a.id ORDER BY r.t_ms DESC, "
    "r.id DESC LIMIT 1), "
    "(SELECT count(*) FROM ack k WHERE k.alert_id = a.id), "
    "(SELECT k.t_ms FROM ack k WHERE k.alert_id = a.id ORDER BY k.t_ms DESC, k.id DESC LIMIT 1), "
    "(SELECT k.action FROM ack k WHERE k.alert_id = a.id ORDER BY k.t_ms DESC, k.id DESC "
    "LIMIT 1), "
    "(SELECT k.username FROM ack k WHERE k.alert_id = a.id ORDER BY k.t_ms DESC, k.id DESC "
    "LIMIT 1) "
    "FROM episode e JOIN alert a ON a.episode_id = e.id JOIN patient p ON p.id = e.patient_id "
    "LEFT JOIN admission ad ON ad.patient_id = e.patient_id AND ad.discharged_ms IS NULL "
    "LEFT JOIN bed_stay b ON b.admission_id = ad.id AND b.to_ms IS NULL "
    "WHERE e.closed_ms IS NULL AND (?1 IS NULL OR b.ward = ?1) ORDER BY e.opened_ms, e.id";

static void read_episode(pg_stmt *st, vigil_store_episode *e)
{
    memset(e, 0, sizeof *e);
    e->id = pg_col_i64(st, 0);
    e->patient_id = pg_col_i64(st, 1);
    pg_col_text(st, 2, e->nhs_number, sizeof e->nhs_number);
    pg_col_text(st, 3, e->ward, sizeof e->ward);
    pg_col_text(st, 4, e->bed, sizeof e->bed);
    int lv = pg_col_enum(st, 5, vigil__store_level_names, VIGIL_RESP_COUNT);
    e->level = lv > 0 ? (vigil_news2_response)lv : VIGIL_RESP_ROUTINE;
    int tr = pg_col_enum(st, 6, vigil__store_trigger_names, VIGIL_STORE_TRIGGER_COUNT);
    e->trigger = tr >= 0 ? (vigil_store_trigger)tr : VIGIL_STORE_TRIGGER_NEWS2;
    e->trigger_ref = pg_col_i64(st, 7);
    e->opened_ms = pg_col_i64(st, 8);
    e->closed_ms = pg_col_i64(st, 9);
    e->alert_id = pg_col_i64(st, 10);
    e->alert_raised_ms = pg_col_i64(st, 11);
    e->n_repeats = pg_col_int(st, 12);
    e->last_repeat_ms = pg_col_i64(st, 13);
    e->rota_step = pg_col_int(st, 14);
    e->n_acks = pg_col_int(st, 15);
    e->last_ack_ms = pg_col_i64(st, 16);
    int ac = pg_col_enum(st, 17, vigil__store_ack_names, VIGIL_STORE_ACK_COUNT);
    e->last_ack_action = ac >= 0 ? (vigil_store_ack_action)ac : VIGIL_STORE_ACK_ATTENDING;
    pg_col_text(st, 18, e->last_ack_by, sizeof e->last_ack_by);
}

static vigil_status episodes_txn(pgc *q, const vigil_actor *who, const char *ward,
                                 vigil_store_episode_list *l, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_EPISODES, &st);
    pg_bind_text_opt(st, 1, ward);
    size_t cap = 0;
    vigil_status s = VIGIL_OK;
    for (;;) {
        bool row = false;
        s = pg_step(q, st, &row, "open episodes", err);
        if (s != VIGIL_OK || !row) {
            break;
        }
        s = grow((void **)&l->rows, &cap, l->n, sizeof *l->rows, err);
        if (s != VIGIL_OK) {
            pg_done(st);
            return s;
        }
        read_episode(st, &l->rows[l->n++]);
    }
    for (size_t i = 0; s == VIGIL_OK && i < l->n; i++) {
        vigil__audit_ev ev;
        vigil__audit_ev_set(&ev, who, "episode.list", "episode", l->rows[i].id,
                            l->rows[i].patient_id, "open episodes%s%s",
                            ward != NULL ? " ward " : "", ward != NULL ? ward : "");
        s = pg_audit(q, &ev, err);
    }
    return s;
}

vigil_status vigil__pg_episodes_open(void *be, const vigil_actor *who, const char *ward,
                                     vigil_store_episode_list *out, vigil_err *err)
{
    pgc *q = be;
    vigil_store_episode_list l = {0, NULL};
    vigil_status s = pg_begin(q, err);
    if (s == VIGIL_OK) {
        s = pg_end(q, episodes_txn(q, who, ward, &l, err), err);
    }
    if (s != VIGIL_OK) {
        vigil_store_episode_list_fini(&l);
        return s;
    }
    *out = l;
    return VIGIL_OK;
}

/* ---- a patient's escalation history ----------------------------------------- */

#define EP_OF "JOIN alert a ON a.id = x.alert_id JOIN episode e ON e.id = a.episode_id "
static const char SQL_HISTORY[] =
    "SELECT t, kind, what, who, detail FROM ("
    "SELECT a.raised_ms t, 'alert' kind, e.level what, e.opened_by who, 'raised by ' || e.trigger "
    "detail FROM alert a JOIN episode e ON e.id = a.episode_id WHERE e.patient_id = ?1 "
    "UNION ALL SELECT x.t_ms, 'alert-repeat', 'step ' || x.rota_step, x.recorded_by, "
    "'sent again to ' || x.notified FROM alert_repeat x " EP_OF "WHERE e.patient_id = ?1 "
    "UNION ALL SELECT x.t_ms, 'ack', x.action, x.username, coalesce(x.reason, '') FROM ack x " EP_OF
    "WHERE e.patient_id = ?1 "
    "UNION ALL SELECT closed_ms, 'episode-close', level, closed_by, close_reason FROM episode "
    "WHERE patient_id = ?1 AND closed_ms IS NOT NULL "
    "UNION ALL SELECT t_ms, 'staff-concern', '', username, concern FROM staff_concern "
    "WHERE patient_id = ?1 "
    "UNION ALL SELECT t_ms, 'marthas-call', caller, recorded_by, concern FROM marthas_call "
    "WHERE patient_id = ?1 "
    "UNION ALL SELECT r.t_ms, 'marthas-review', r.outcome, r.responder, "
    "r.category || coalesce(': ' || r.note, '') FROM marthas_review r "
    "JOIN marthas_call c ON c.id = r.call_id WHERE c.patient_id = ?1 "
    "UNION ALL SELECT t_ms, 'daily-answer', answer, asked_by, '' FROM daily_answer "
    "WHERE patient_id = ?1 "
    "UNION ALL SELECT from_ms, 'ai-optout', '', recorded_by, coalesce(note, '') FROM ai_optout "
    "WHERE patient_id = ?1 "
    "UNION ALL SELECT withdrawn_ms, 'ai-optout-withdrawn', '', withdrawn_by, '' FROM ai_optout "
    "WHERE patient_id = ?1 AND withdrawn_ms IS NOT NULL "
    "UNION ALL SELECT from_ms, 'scale2', '', decided_by, reason FROM scale2_decision "
    "WHERE patient_id = ?1 "
    "UNION ALL SELECT ended_ms, 'scale2-end', '', ended_by, coalesce(end_reason, '') "
    "FROM scale2_decision WHERE patient_id = ?1 AND ended_ms IS NOT NULL "
    "UNION ALL SELECT made_ms, 'plan', '', made_by, reason || ': ' || plan FROM escalation_plan "
    "WHERE patient_id = ?1"
    ") ORDER BY t DESC LIMIT ?2";

static const char *text_col(pg_stmt *st, int i)
{
    const unsigned char *t = (const unsigned char *)pg_col_cstr(st, i);
    return t != NULL ? (const char *)t : "";
}

static vigil_status history_txn(pgc *q, const vigil_actor *who, int64_t patient_id, size_t limit,
                                vigil_store_history_cb cb, void *ctx, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_HISTORY, &st);
    pg_bind_i64(st, 1, patient_id);
    pg_bind_i64(st, 2, (int64_t)limit);
    vigil_status s = VIGIL_OK;
    for (;;) {
        bool row = false;
        s = pg_step(q, st, &row, "patient history", err);
        if (s != VIGIL_OK || !row) {
            break;
        }
        vigil_store_history_event e = {pg_col_i64(st, 0), text_col(st, 1), text_col(st, 2),
                                       text_col(st, 3), text_col(st, 4)};
        s = cb(ctx, &e, err);
        if (s != VIGIL_OK) {
            break;
        }
    }
    if (s != VIGIL_OK) {
        pg_done(st);
        return s;
    }
    {
        vigil__audit_ev ev;
        vigil__audit_ev_set(&ev, who, "patient.history", "patient", patient_id, patient_id,
                            "escalation history");
        s = pg_audit(q, &ev, err);
    }
    return s;
}

vigil_status vigil__pg_patient_history(void *be, const vigil_actor *who, int64_t patient_id,
                                       size_t limit, vigil_store_history_cb cb, void *ctx,
                                       vigil_err *err)
{
    pgc *q = be;
    vigil_status s = pg_begin(q, err);
    if (s == VIGIL_OK) {
        s = pg_end(q, history_txn(q, who, patient_id, limit, cb, ctx, err), err);
    }
    return s;
}

/* ---- Martha's Rule log --------------------------------------------------- */

static const char SQL_MARTHAS[] =
    "SELECT c.id, c.t_ms, c.patient_id, coalesce(p.nhs_number, ''), coalesce(c.ward, ''), "
    "c.caller, coalesce(c.caller_name, ''), c.channel, c.concern, c.recorded_by, "
    "r.id IS NOT NULL, coalesce(r.responder, ''), coalesce(r.t_ms, 0), "
    "coalesce(r.category, ''), coalesce(r.outcome, ''), coalesce(r.note, '') "
    "FROM marthas_call c JOIN patient p ON p.id = c.patient_id "
    "LEFT JOIN marthas_review r ON r.call_id = c.id "
    "WHERE c.t_ms BETWEEN ?1 AND ?2 ORDER BY c.t_ms, c.id";

typedef struct seen {
    int64_t call_id, patient_id;
} seen;

static const char *col(pg_stmt *st, int i)
{
    const unsigned char *t = (const unsigned char *)pg_col_cstr(st, i);
    return t != NULL ? (const char *)t : "";
}

static vigil_status marthas_txn(pgc *q, const vigil_actor *who, int64_t from_ms, int64_t to_ms,
                                vigil__marthas_cb cb, void *ctx, seen **calls, size_t *n,
                                vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_MARTHAS, &st);
    pg_bind_i64(st, 1, from_ms);
    pg_bind_i64(st, 2, to_ms);
    size_t cap = 0;
    vigil_status s = VIGIL_OK;
    for (;;) {
        bool row = false;
        s = pg_step(q, st, &row, "Martha's Rule log", err);
        if (s != VIGIL_OK || !row) {
            break;
        }
        vigil__marthas_row r = {
            .call_id = pg_col_i64(st, 0),
            .t_ms = pg_col_i64(st, 1),
            .patient_id = pg_col_i64(st, 2),
            .nhs_number = col(st, 3),
            .ward = col(st, 4),
            .caller = col(st, 5),
            .caller_name = col(st, 6),
            .channel = col(st, 7),
            .concern = col(st, 8),
            .recorded_by = col(st, 9),
            .reviewed = pg_col_int(st, 10) != 0,
            .responder = col(st, 11),
            .reviewed_ms = pg_col_i64(st, 12),
            .category = col(st, 13),
            .outcome = col(st, 14),
            .note = col(st, 15),
        };
        s = cb(ctx, &r, err);
        if (s == VIGIL_ERR_DENIED) {
            s = VIGIL_OK; /* outside the reader's scope: not read, not audited */
            continue;
        }
        if (s == VIGIL_OK) {
            s = grow((void **)calls, &cap, *n, sizeof **calls, err);
        }
        if (s == VIGIL_OK) {
            (*calls)[(*n)++] = (seen){r.call_id, r.patient_id};
        }
        if (s != VIGIL_OK) {
            pg_done(st);
            return s;
        }
    }
    for (size_t i = 0; s == VIGIL_OK && i < *n; i++) {
        vigil__audit_ev ev;
        vigil__audit_ev_set(&ev, who, "marthas.export", "marthas_call", (*calls)[i].call_id,
                            (*calls)[i].patient_id, "Martha's Rule log export");
        s = pg_audit(q, &ev, err);
    }
    return s;
}

vigil_status vigil__pg_marthas_walk(void *be, const vigil_actor *who, int64_t from_ms,
                                    int64_t to_ms, vigil__marthas_cb cb, void *ctx, vigil_err *err)
{
    pgc *q = be;
    seen *calls = NULL;
    size_t n = 0;
    vigil_status s = pg_begin(q, err);
    if (s == VIGIL_OK) {
        s = pg_end(q, marthas_txn(q, who, from_ms, to_ms, cb, ctx, &calls, &n, err), err);
    }
    free(calls);
    return s;
}
