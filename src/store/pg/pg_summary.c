/*
 * pg_summary.c: PostgreSQL backend: the non-urgent e-mail summaries' outbox
 * (summary_mail, summary_attempt; migration 9) and the per-ward counts a
 * summary reports (store.h "non-urgent e-mail summaries").
 *
 * Does not: compose or send (src/server/summary_mail.c).
 * Invariants: a summary's id is never reused; a period is queued once (a
 * new one starts where the last ended); attempts are append-only.
 */
#include <stdint.h>
#include <stdio.h>
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

static const char SQL_LAST[] = "SELECT coalesce(max(to_ms), 0) FROM summary_mail";

static vigil_status last_to(pgc *q, int64_t *out, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_LAST, &st);
    bool row = false;
    vigil_status s = pg_step(q, st, &row, "last summary", err);
    *out = s == VIGIL_OK && row ? pg_col_i64(st, 0) : 0;
    pg_done(st);
    return s;
}

vigil_status vigil__pg_summary_last(void *be, int64_t *out_to_ms, vigil_err *err)
{
    pgc *q = be;
    vigil_status s = pg_begin_read(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    return pg_end(q, last_to(q, out_to_ms, err), err);
}

static const char SQL_QUEUE[] =
    "INSERT INTO summary_mail (recipient, from_ms, to_ms, state, created_ms, next_ms) "
    "VALUES (?1, ?2, ?3, 'pending', ?3, ?3) RETURNING id";

static vigil_status queue_txn(pgc *q, const vigil_actor *who, const char *const *to, size_t n,
                              int64_t from_ms, int64_t to_ms, vigil_err *err)
{
    int64_t last = 0;
    vigil_status s = last_to(q, &last, err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (last > from_ms) {
        return vigil_err_set(err, VIGIL_ERR_CONFLICT, "from_ms",
                             "a summary up to %lld is already queued", (long long)last);
    }
    for (size_t i = 0; i < n; i++) {
        pg_stmt *st = NULL;
        PREP(SQL_QUEUE, &st);
        pg_bind_text(st, 1, to[i]);
        pg_bind_i64(st, 2, from_ms);
        pg_bind_i64(st, 3, to_ms);
        s = pg_run(q, st, "queue summary", err);
        if (s != VIGIL_OK) {
            return s;
        }
        vigil__audit_ev ev;
        vigil__audit_ev_set(&ev, who, "summary.queue", "summary_mail",
                            pg_last_id(q), 0,
                            "summary of %lld..%lld to %s by e-mail", (long long)from_ms,
                            (long long)to_ms, to[i]);
        s = pg_audit(q, &ev, err);
        if (s != VIGIL_OK) {
            return s;
        }
    }
    return VIGIL_OK;
}

vigil_status vigil__pg_summaries_queue(void *be, const vigil_actor *who, const char *const *to,
                                       size_t n, int64_t from_ms, int64_t to_ms, vigil_err *err)
{
    pgc *q = be;
    vigil_status s = pg_begin(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    return pg_end(q, queue_txn(q, who, to, n, from_ms, to_ms, err), err);
}

#define SUMMARY_COLS                                                                               \
    "id, recipient, from_ms, to_ms, state, attempts, created_ms, next_ms, "                       \
    "coalesce(delivered_ms, 0), last_error"

static void read_summary(pg_stmt *st, vigil_store_summary *m)
{
    memset(m, 0, sizeof *m);
    m->id = pg_col_i64(st, 0);
    pg_col_text(st, 1, m->recipient, sizeof m->recipient);
    m->from_ms = pg_col_i64(st, 2);
    m->to_ms = pg_col_i64(st, 3);
    int k = pg_col_enum(st, 4, vigil__store_page_state_names, VIGIL_STORE_PAGE_STATE_COUNT);
    m->state = k < 0 ? VIGIL_STORE_PAGE_FAILED : (vigil_store_page_state)k;
    m->attempts = (int)pg_col_i64(st, 5);
    m->created_ms = pg_col_i64(st, 6);
    m->next_ms = pg_col_i64(st, 7);
    m->delivered_ms = pg_col_i64(st, 8);
    pg_col_text(st, 9, m->last_error, sizeof m->last_error);
}

static const char SQL_DUE[] = "SELECT " SUMMARY_COLS " FROM summary_mail WHERE state = "
                              "'pending' AND next_ms <= ?1 ORDER BY next_ms, id LIMIT ?2";
static const char SQL_GET[] = "SELECT " SUMMARY_COLS " FROM summary_mail WHERE id = ?1";

static vigil_status read_rows(pgc *q, pg_stmt *st, vigil_store_summary *out, size_t max,
                              size_t *n, vigil_err *err)
{
    *n = 0;
    for (;;) {
        bool row = false;
        vigil_status s = pg_step(q, st, &row, "read summaries", err);
        if (s != VIGIL_OK || !row) {
            pg_done(st);
            return s;
        }
        if (*n < max) {
            read_summary(st, &out[*n]);
        }
        (*n)++;
    }
}

vigil_status vigil__pg_summaries_due(void *be, int64_t now_ms, vigil_store_summary *out,
                                     size_t max, size_t *n, vigil_err *err)
{
    pgc *q = be;
    vigil_status s = pg_begin_read(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    pg_stmt *st = NULL;
    s = pg_prep(q, SQL_DUE, &st, err);
    if (s == VIGIL_OK) {
        pg_bind_i64(st, 1, now_ms);
        pg_bind_i64(st, 2, (int64_t)max);
        s = read_rows(q, st, out, max, n, err);
    }
    return pg_end(q, s, err);
}

static const char SQL_ATTEMPT[] =
    "INSERT INTO summary_attempt (summary_id, t_ms, outcome, detail) VALUES (?1, ?2, ?3, ?4) RETURNING id";
static const char SQL_AFTER[] =
    "UPDATE summary_mail SET attempts = attempts + 1, last_error = ?3, next_ms = ?4, state = ?5, "
    "delivered_ms = CASE WHEN ?5 = 'delivered' THEN ?2 ELSE delivered_ms END "
    "WHERE id = ?1 AND state = 'pending'";

static vigil_status attempt_txn(pgc *q, const vigil_actor *who, int64_t id, int64_t t_ms,
                                vigil_store_attempt_outcome outcome, int64_t next_ms,
                                const char *detail, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_GET, &st);
    pg_bind_i64(st, 1, id);
    vigil_store_summary m;
    size_t n = 0;
    vigil_status s = read_rows(q, st, &m, 1, &n, err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (n == 0) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "summary_id", "no summary %lld",
                             (long long)id);
    }
    PREP(SQL_ATTEMPT, &st);
    pg_bind_i64(st, 1, id);
    pg_bind_i64(st, 2, t_ms);
    pg_bind_text(st, 3, vigil__store_attempt_names[outcome]);
    pg_bind_text(st, 4, detail);
    s = pg_run(q, st, "record summary attempt", err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (m.state == VIGIL_STORE_PAGE_PENDING) {
        PREP(SQL_AFTER, &st);
        pg_bind_i64(st, 1, id);
        pg_bind_i64(st, 2, t_ms);
        pg_bind_text(st, 3, outcome == VIGIL_STORE_ATTEMPT_DELIVERED ? "" : detail);
        pg_bind_i64(st, 4, outcome == VIGIL_STORE_ATTEMPT_RETRY ? next_ms : m.next_ms);
        pg_bind_text(st, 5, outcome == VIGIL_STORE_ATTEMPT_DELIVERED ? "delivered"
                            : outcome == VIGIL_STORE_ATTEMPT_FAILED  ? "failed"
                                                                     : "pending");
        s = pg_run(q, st, "summary after attempt", err);
        if (s != VIGIL_OK) {
            return s;
        }
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "summary.attempt", "summary_mail", id, 0,
                        "attempt %d to %s by e-mail: %s%s%s%s", m.attempts + 1, m.recipient,
                        vigil__store_attempt_names[outcome], detail[0] != '\0' ? " (" : "",
                        detail, detail[0] != '\0' ? ")" : "");
    return pg_audit(q, &ev, err);
}

vigil_status vigil__pg_summary_attempt(void *be, const vigil_actor *who, int64_t id,
                                       int64_t t_ms, vigil_store_attempt_outcome outcome,
                                       int64_t next_ms, const char *detail, vigil_err *err)
{
    pgc *q = be;
    vigil_status s = pg_begin(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    return pg_end(q, attempt_txn(q, who, id, t_ms, outcome, next_ms, detail, err), err);
}

/* ---- per-ward counts ------------------------------------------------------- */

/* Where the patient of episode e was at time t. */
#define WARD_AT(t)                                                                                 \
    "coalesce((SELECT b.ward FROM bed_stay b JOIN admission ad ON ad.id = b.admission_id "        \
    "WHERE ad.patient_id = e.patient_id AND b.from_ms <= " t " AND (b.to_ms IS NULL OR "          \
    "b.to_ms > " t ") ORDER BY b.from_ms DESC LIMIT 1), '')"

/* Alerts raised in the period: ward, level, delay to the first
 * acknowledgement before the period's end (NULL: none), by ward then delay. */
static const char SQL_ALERTS[] =
    "SELECT " WARD_AT("a.raised_ms") ", a.level, (SELECT min(k.t_ms) FROM ack k WHERE "
    "k.alert_id = a.id AND k.t_ms < ?2) - a.raised_ms AS d FROM alert a JOIN episode e ON "
    "e.id = a.episode_id WHERE a.raised_ms >= ?1 AND a.raised_ms < ?2 ORDER BY 1, 3 NULLS LAST";
/* Alerts open and unacknowledged at the period's end, by ward. */
static const char SQL_OPEN[] =
    "SELECT " WARD_AT("a.raised_ms") ", count(*) FROM alert a JOIN episode e ON "
    "e.id = a.episode_id WHERE a.raised_ms < ?2 AND (e.closed_ms IS NULL OR e.closed_ms >= ?2) "
    "AND NOT EXISTS (SELECT 1 FROM ack k WHERE k.alert_id = a.id AND k.t_ms < ?2) GROUP BY 1";
static const char SQL_PAGES[] =
    "SELECT ward, count(*) FILTER (WHERE state = 'failed'), count(*) FILTER (WHERE state = 'unrouted') FROM page WHERE kind = 'page' "
    "AND created_ms >= ?1 AND created_ms < ?2 GROUP BY ward";
static const char SQL_CALLS[] =
    "SELECT coalesce(c.ward, ''), count(*), count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM "
    "marthas_review r WHERE r.call_id = c.id AND r.t_ms < ?2)) FROM marthas_call c WHERE c.t_ms >= ?1 AND "
    "c.t_ms < ?2 GROUP BY 1";

typedef struct {
    vigil_store_ward_summary *v;
    size_t n, cap;
} wards;

static vigil_store_ward_summary *ward_of(wards *w, pg_stmt *st, vigil_err *err)
{
    char name[VIGIL_STORE_NAME_MAX + 1];
    pg_col_text(st, 0, name, sizeof name);
    for (size_t i = 0; i < w->n; i++) {
        if (strcmp(w->v[i].ward, name) == 0) {
            return &w->v[i];
        }
    }
    if (w->n == w->cap) {
        size_t nc = w->cap > 0 ? w->cap * 2 : 16;
        vigil_store_ward_summary *nv = realloc(w->v, nc * sizeof *nv);
        if (nv == NULL) {
            vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
            return NULL;
        }
        w->v = nv;
        w->cap = nc;
    }
    vigil_store_ward_summary *r = &w->v[w->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->ward, sizeof r->ward, "%s", name);
    r->ack_median_ms = r->ack_max_ms = -1;
    return r;
}

static int level_index(const char *level)
{
    static const char *const names[VIGIL_STORE_SUMMARY_LEVELS] = {"ward", "urgent-ward", "urgent",
                                                                  "emergency"};
    for (int i = 0; i < VIGIL_STORE_SUMMARY_LEVELS; i++) {
        if (strcmp(level, names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

/* The alerts' rows come by ward, acknowledged ones by delay: the median and
 * the longest are read off each ward's run. */
static vigil_status alerts(pgc *q, wards *w, int64_t from, int64_t to, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_ALERTS, &st);
    pg_bind_i64(st, 1, from);
    pg_bind_i64(st, 2, to);
    int64_t *d = NULL;
    size_t nd = 0, cap = 0, cur = SIZE_MAX; /* cur: the ward of the run, an index (w moves) */
    vigil_status s = VIGIL_OK;
    for (;;) {
        bool row = false;
        s = pg_step(q, st, &row, "summary alerts", err);
        bool same = false;
        if (s == VIGIL_OK && row && cur != SIZE_MAX) {
            char name[VIGIL_STORE_NAME_MAX + 1];
            pg_col_text(st, 0, name, sizeof name);
            same = strcmp(w->v[cur].ward, name) == 0;
        }
        if (cur != SIZE_MAX && !same) { /* the run of one ward ends */
            if (nd > 0) {
                vigil_store_ward_summary *c = &w->v[cur];
                c->ack_median_ms = nd % 2 ? d[nd / 2] : (d[nd / 2 - 1] + d[nd / 2]) / 2;
                c->ack_max_ms = d[nd - 1];
            }
            nd = 0;
            cur = SIZE_MAX;
        }
        if (s != VIGIL_OK || !row) {
            break;
        }
        vigil_store_ward_summary *r = ward_of(w, st, err);
        if (r == NULL) {
            s = VIGIL_ERR_NOMEM;
            break;
        }
        cur = (size_t)(r - w->v);
        char level[VIGIL_STORE_LEVEL_TEXT_MAX + 1];
        pg_col_text(st, 1, level, sizeof level);
        int li = level_index(level);
        if (li >= 0) {
            r->alerts[li]++;
        }
        if (pg_col_type(st, 2) != PG_NULL) {
            r->acked++;
            if (nd == cap) {
                size_t nc = cap > 0 ? cap * 2 : 32;
                int64_t *nv = realloc(d, nc * sizeof *nv);
                if (nv == NULL) {
                    s = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
                    break;
                }
                d = nv;
                cap = nc;
            }
            d[nd++] = pg_col_i64(st, 2);
        }
    }
    pg_done(st);
    free(d);
    return s;
}

static vigil_status counts(pgc *q, wards *w, const char *sql, int what, int64_t from, int64_t to,
                           vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(sql, &st);
    pg_bind_i64(st, 1, from);
    pg_bind_i64(st, 2, to);
    vigil_status s = VIGIL_OK;
    for (;;) {
        bool row = false;
        s = pg_step(q, st, &row, "summary counts", err);
        if (s != VIGIL_OK || !row) {
            break;
        }
        vigil_store_ward_summary *r = ward_of(w, st, err);
        if (r == NULL) {
            s = VIGIL_ERR_NOMEM;
            break;
        }
        unsigned a = (unsigned)pg_col_i64(st, 1);
        unsigned b = what == 0 ? 0 : (unsigned)pg_col_i64(st, 2);
        if (what == 0) {
            r->unacked_open = a;
        } else if (what == 1) {
            r->pages_failed = a;
            r->pages_unrouted = b;
        } else {
            r->marthas_calls = a;
            r->marthas_unreviewed = b;
        }
    }
    pg_done(st);
    return s;
}

static int by_ward(const void *a, const void *b)
{
    return strcmp(((const vigil_store_ward_summary *)a)->ward,
                  ((const vigil_store_ward_summary *)b)->ward);
}

vigil_status vigil__pg_ward_summaries(void *be, int64_t from_ms, int64_t to_ms,
                                      vigil_store_ward_summary *out, size_t max, size_t *n,
                                      vigil_err *err)
{
    pgc *q = be;
    vigil_status s = pg_begin_read(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    wards w = {0};
    s = alerts(q, &w, from_ms, to_ms, err);
    if (s == VIGIL_OK) {
        s = counts(q, &w, SQL_OPEN, 0, from_ms, to_ms, err);
    }
    if (s == VIGIL_OK) {
        s = counts(q, &w, SQL_PAGES, 1, from_ms, to_ms, err);
    }
    if (s == VIGIL_OK) {
        s = counts(q, &w, SQL_CALLS, 2, from_ms, to_ms, err);
    }
    if (s == VIGIL_OK) {
        if (w.n > 1) {
            qsort(w.v, w.n, sizeof *w.v, by_ward);
        }
        *n = w.n;
        for (size_t i = 0; i < w.n && i < max; i++) {
            out[i] = w.v[i];
        }
    }
    free(w.v);
    return pg_end(q, s, err);
}
