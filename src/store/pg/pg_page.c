/*
 * pg_page.c: PostgreSQL backend: rota shifts, the page outbox and its delivery
 * attempts (store.h "rotas and pages"; migration 8).
 *
 * Pages are inserted by vigil__pg_pages_queue inside the transaction of the
 * alert or repeat that causes them (pg_care.c); everything else here is one
 * transaction per call, audited inside it.
 *
 * Does not: decide who is paged or send anything (src/server).
 * Invariants: a page's id is never reused (AUTOINCREMENT); attempts are
 * append-only; a page leaves 'pending' once only.
 */
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

/* ---- the outbox ------------------------------------------------------------ */

#define BED_OF(col)                                                                                \
    "coalesce((SELECT b." col " FROM bed_stay b JOIN admission ad ON ad.id = b.admission_id "     \
    "WHERE ad.patient_id = e.patient_id AND ad.discharged_ms IS NULL AND b.to_ms IS NULL), '')"

static const char SQL_PAGE_INSERT[] =
    "INSERT INTO page (alert_id, repeat_id, patient_id, ward, bed, level, post, rota_step, "
    "recipient, channel, state, created_ms, next_ms) SELECT a.id, ?2, e.patient_id, " BED_OF(
        "ward") ", " BED_OF("bed") ", a.level, ?3, ?4, ?5, ?6, ?7, ?8, ?8 "
                                  "FROM alert a JOIN episode e ON e.id = a.episode_id WHERE a.id = ?1";

vigil_status vigil__pg_pages_queue(pgc *q, const vigil_actor *who, int64_t alert_id,
                                   int64_t repeat_id, int64_t patient_id, int64_t t_ms,
                                   const vigil_store_page_req *pages, size_t n, vigil_err *err)
{
    for (size_t i = 0; i < n; i++) {
        const vigil_store_page_req *p = &pages[i];
        bool routed = p->recipient != NULL && p->recipient[0] != '\0';
        pg_stmt *st = NULL;
        PREP(SQL_PAGE_INSERT, &st);
        pg_bind_i64(st, 1, alert_id);
        pg_bind_i64_opt(st, 2, repeat_id);
        pg_bind_text(st, 3, p->post);
        pg_bind_int(st, 4, p->rota_step);
        pg_bind_text_opt(st, 5, routed ? p->recipient : NULL);
        pg_bind_text(st, 6, vigil__store_channel_names[p->channel]);
        pg_bind_text(st, 7, routed ? "pending" : "unrouted");
        pg_bind_i64(st, 8, t_ms);
        vigil_status s = pg_run(q, st, "queue page", err);
        if (s != VIGIL_OK) {
            return s;
        }
        if (pg_changes(q) != 1) {
            return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "alert_id", "no alert %lld",
                                 (long long)alert_id);
        }
        int64_t id = pg_last_id(q);
        vigil__audit_ev ev;
        vigil__audit_ev_set(&ev, who, "page.queue", "page", id, patient_id,
                            "alert %lld %s to %s via %s%s", (long long)alert_id, p->post,
                            routed ? p->recipient : "nobody (rota gap)",
                            vigil__store_channel_names[p->channel], routed ? "" : ": unrouted");
        s = pg_audit(q, &ev, err);
        if (s != VIGIL_OK) {
            return s;
        }
    }
    return VIGIL_OK;
}

static const char SQL_PAGES_ACKED[] =
    "UPDATE page SET acked_ms = ?2, state = CASE WHEN state = 'pending' AND channel = 'webhook' "
    "THEN 'cancelled' ELSE state END WHERE alert_id = ?1 AND acked_ms IS NULL AND kind = 'page'";

/* The gateway took these webhook pages (of an alert, or one page) and has
 * not been told of the alert's acknowledgement: each gets one notice (the
 * unique index on notice_of). */
#define SQL_ACK_NOTICE(where)                                                                      \
    "INSERT INTO page (alert_id, repeat_id, patient_id, ward, bed, level, post, rota_step, "      \
    "recipient, channel, state, created_ms, next_ms, kind, notice_of) "                           \
    "SELECT alert_id, repeat_id, patient_id, ward, bed, level, post, rota_step, recipient, "      \
    "'webhook', 'pending', ?2, ?2, 'ack', id FROM page p WHERE " where " AND kind = 'page' AND "  \
    "channel = 'webhook' AND state = 'delivered' AND NOT EXISTS "                                 \
    "(SELECT 1 FROM page n WHERE n.notice_of = p.id) "                                            \
    "RETURNING id, notice_of, patient_id, recipient"
static const char SQL_ACK_NOTICE_ALERT[] = SQL_ACK_NOTICE("alert_id = ?1");
static const char SQL_ACK_NOTICE_PAGE[] = SQL_ACK_NOTICE("id = ?1");

/* Queue the acknowledgement notices that sql (SQL_ACK_NOTICE_*, ?1 bound to
 * ref) selects, each audited. */
static vigil_status ack_notices(pgc *q, const vigil_actor *who, const char *sql, int64_t ref,
                                int64_t t_ms, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(sql, &st);
    pg_bind_i64(st, 1, ref);
    pg_bind_i64(st, 2, t_ms);
    typedef struct {
        int64_t id, of, patient;
        char to[VIGIL_ID_MAX];
    } notice;
    notice *v = NULL;
    size_t n = 0, cap = 0;
    vigil_status s = VIGIL_OK;
    for (;;) {
        bool row = false;
        s = pg_step(q, st, &row, "queue acknowledgement notice", err);
        if (s != VIGIL_OK || !row) {
            break;
        }
        if (n == cap) {
            size_t nc = cap > 0 ? cap * 2 : 8;
            notice *nv = realloc(v, nc * sizeof *nv);
            if (nv == NULL) {
                s = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
                break;
            }
            v = nv;
            cap = nc;
        }
        v[n].id = pg_col_i64(st, 0);
        v[n].of = pg_col_i64(st, 1);
        v[n].patient = pg_col_i64(st, 2);
        pg_col_text(st, 3, v[n].to, sizeof v[n].to);
        n++;
    }
    pg_done(st);
    for (size_t i = 0; s == VIGIL_OK && i < n; i++) {
        vigil__audit_ev ev;
        vigil__audit_ev_set(&ev, who, "page.queue", "page", v[i].id, v[i].patient,
                            "acknowledgement notice of page %lld to %s via webhook",
                            (long long)v[i].of, v[i].to);
        s = pg_audit(q, &ev, err);
    }
    free(v);
    return s; /* on error the caller's transaction rolls back, notices and all */
}

vigil_status vigil__pg_pages_acked(pgc *q, const vigil_actor *who, int64_t alert_id, int64_t t_ms,
                                   vigil_err *err)
{
    vigil_status s = ack_notices(q, who, SQL_ACK_NOTICE_ALERT, alert_id, t_ms, err);
    if (s != VIGIL_OK) {
        return s;
    }
    pg_stmt *st = NULL;
    PREP(SQL_PAGES_ACKED, &st);
    pg_bind_i64(st, 1, alert_id);
    pg_bind_i64(st, 2, t_ms);
    return pg_run(q, st, "pages acknowledged", err);
}

#define PAGE_COLS                                                                                  \
    "id, alert_id, patient_id, ward, bed, level, post, coalesce(recipient, ''), channel, state, " \
    "rota_step, attempts, created_ms, next_ms, delivered_ms, read_ms, acked_ms, last_error, "     \
    "coalesce(notice_of, 0)"

static void read_page(pg_stmt *st, vigil_store_page *p)
{
    memset(p, 0, sizeof *p);
    p->id = pg_col_i64(st, 0);
    p->alert_id = pg_col_i64(st, 1);
    p->patient_id = pg_col_i64(st, 2);
    pg_col_text(st, 3, p->ward, sizeof p->ward);
    pg_col_text(st, 4, p->bed, sizeof p->bed);
    pg_col_text(st, 5, p->level, sizeof p->level);
    pg_col_text(st, 6, p->post, sizeof p->post);
    pg_col_text(st, 7, p->recipient, sizeof p->recipient);
    int c = pg_col_enum(st, 8, vigil__store_channel_names, VIGIL_STORE_CHANNEL_COUNT);
    p->channel = c < 0 ? VIGIL_STORE_CHANNEL_WEB : (vigil_store_channel)c;
    int s = pg_col_enum(st, 9, vigil__store_page_state_names, VIGIL_STORE_PAGE_STATE_COUNT);
    p->state = s < 0 ? VIGIL_STORE_PAGE_FAILED : (vigil_store_page_state)s;
    p->rota_step = (int)pg_col_i64(st, 10);
    p->attempts = (int)pg_col_i64(st, 11);
    p->created_ms = pg_col_i64(st, 12);
    p->next_ms = pg_col_i64(st, 13);
    p->delivered_ms = pg_col_i64(st, 14);
    p->read_ms = pg_col_i64(st, 15);
    p->acked_ms = pg_col_i64(st, 16);
    pg_col_text(st, 17, p->last_error, sizeof p->last_error);
    p->notice_of = pg_col_i64(st, 18);
}

/* Read rows of a bound statement into out (max); *n counts every row. */
static vigil_status read_pages(pgc *q, pg_stmt *st, vigil_store_page *out, size_t max,
                               size_t *n, vigil_err *err)
{
    *n = 0;
    for (;;) {
        bool row = false;
        vigil_status s = pg_step(q, st, &row, "read pages", err);
        if (s != VIGIL_OK || !row) {
            return s;
        }
        if (*n < max) {
            read_page(st, &out[*n]);
        }
        (*n)++;
    }
}

static const char SQL_PAGES_DUE[] = "SELECT " PAGE_COLS " FROM page WHERE state = 'pending' AND "
                                    "channel = ?1 AND next_ms <= ?2 ORDER BY next_ms, id LIMIT ?3";

vigil_status vigil__pg_pages_due(void *be, vigil_store_channel channel, int64_t now_ms,
                                 vigil_store_page *out, size_t max, size_t *n, vigil_err *err)
{
    pgc *q = be;
    vigil_status s = pg_begin_read(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    pg_stmt *st = NULL;
    s = pg_prep(q, SQL_PAGES_DUE, &st, err);
    if (s == VIGIL_OK) {
        pg_bind_text(st, 1, vigil__store_channel_names[channel]);
        pg_bind_i64(st, 2, now_ms);
        pg_bind_i64(st, 3, (int64_t)max);
        s = read_pages(q, st, out, max, n, err);
    }
    return pg_end(q, s, err);
}

static const char SQL_PAGE_GET[] = "SELECT " PAGE_COLS " FROM page WHERE id = ?1";
static const char SQL_ATTEMPT_INSERT[] =
    "INSERT INTO page_attempt (page_id, t_ms, outcome, detail) VALUES (?1, ?2, ?3, ?4) RETURNING id";
static const char SQL_PAGE_LATE_DELIVERED[] =
    "UPDATE page SET state = 'delivered', attempts = attempts + 1, delivered_ms = ?2, "
    "last_error = '' WHERE id = ?1 AND state = 'cancelled'";
static const char SQL_PAGE_AFTER[] =
    "UPDATE page SET attempts = attempts + 1, last_error = ?3, next_ms = ?4, "
    "state = ?5, delivered_ms = CASE WHEN ?5 = 'delivered' THEN ?2 ELSE delivered_ms END "
    "WHERE id = ?1 AND state = 'pending'";

static vigil_status page_get(pgc *q, int64_t id, vigil_store_page *out, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_PAGE_GET, &st);
    pg_bind_i64(st, 1, id);
    size_t n = 0;
    vigil_status s = read_pages(q, st, out, 1, &n, err);
    if (s == VIGIL_OK && n == 0) {
        s = vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "page_id", "no page %lld", (long long)id);
    }
    return s;
}

/* The delivery rule's primitives (vigil__page_io, store_int.h):
 * page_delivery.c decides, inside this backend's open write transaction. */
static vigil_status io_get(void *be, int64_t id, vigil_store_page *out, vigil_err *err)
{
    return page_get(be, id, out, err);
}

static vigil_status io_attempt_insert(void *be, int64_t id, int64_t t_ms,
                                      vigil_store_attempt_outcome outcome, const char *detail,
                                      vigil_err *err)
{
    pgc *q = be;
    pg_stmt *st = NULL;
    PREP(SQL_ATTEMPT_INSERT, &st);
    pg_bind_i64(st, 1, id);
    pg_bind_i64(st, 2, t_ms);
    pg_bind_text(st, 3, vigil__store_attempt_names[outcome]);
    pg_bind_text(st, 4, detail);
    return pg_run(q, st, "record attempt", err);
}

static vigil_status io_set_after(void *be, int64_t id, int64_t t_ms, vigil_store_page_state state,
                                 const char *last_error, int64_t next_ms, vigil_err *err)
{
    pgc *q = be;
    pg_stmt *st = NULL;
    PREP(SQL_PAGE_AFTER, &st);
    pg_bind_i64(st, 1, id);
    pg_bind_i64(st, 2, t_ms);
    pg_bind_text(st, 3, last_error);
    pg_bind_i64(st, 4, next_ms);
    pg_bind_text(st, 5, vigil__store_page_state_names[state]);
    return pg_run(q, st, "page after attempt", err);
}

static vigil_status io_set_late_delivered(void *be, int64_t id, int64_t t_ms, vigil_err *err)
{
    pgc *q = be;
    pg_stmt *st = NULL;
    PREP(SQL_PAGE_LATE_DELIVERED, &st);
    pg_bind_i64(st, 1, id);
    pg_bind_i64(st, 2, t_ms);
    return pg_run(q, st, "page delivered after its acknowledgement", err);
}

static vigil_status io_ack_notice(void *be, const vigil_actor *who, int64_t id, int64_t t_ms,
                                  vigil_err *err)
{
    return ack_notices(be, who, SQL_ACK_NOTICE_PAGE, id, t_ms, err);
}

static vigil_status io_queue(void *be, const vigil_actor *who, int64_t alert_id,
                             int64_t patient_id, int64_t t_ms, const vigil_store_page_req *pages,
                             size_t n, vigil_err *err)
{
    return vigil__pg_pages_queue(be, who, alert_id, 0, patient_id, t_ms, pages, n, err);
}

static vigil_status io_audit(void *be, const vigil__audit_ev *ev, vigil_err *err)
{
    return pg_audit(be, ev, err);
}

static const vigil__page_io page_io = {
    .get = io_get,
    .attempt_insert = io_attempt_insert,
    .set_after = io_set_after,
    .set_late_delivered = io_set_late_delivered,
    .ack_notice = io_ack_notice,
    .queue = io_queue,
    .audit = io_audit,
};

vigil_status vigil__pg_page_attempt(void *be, const vigil_actor *who, int64_t page_id,
                                    int64_t t_ms, vigil_store_attempt_outcome outcome,
                                    int64_t next_ms, const char *detail, vigil_err *err)
{
    pgc *q = be;
    vigil_status s = pg_begin(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    return pg_end(
        q, vigil__page_attempt(&page_io, q, who, page_id, t_ms, outcome, next_ms, detail, err),
        err);
}

vigil_status vigil__pg_page_failed(void *be, const vigil_actor *who, int64_t page_id,
                                   int64_t t_ms, const char *detail,
                                   const vigil_store_page_req *fallback, size_t n,
                                   vigil_err *err)
{
    pgc *q = be;
    vigil_status s = pg_begin(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    return pg_end(
        q, vigil__page_failed(&page_io, q, who, page_id, t_ms, detail, fallback, n, err), err);
}

static const char SQL_PAGES_FOR[] =
    "SELECT " PAGE_COLS " FROM page WHERE recipient = ?1 AND created_ms >= ?2 AND kind = 'page' "
    "ORDER BY created_ms DESC, id DESC LIMIT ?3";
static const char SQL_PAGE_FETCHED[] =
    "UPDATE page SET state = 'delivered', delivered_ms = ?2, attempts = attempts + 1 "
    "WHERE id = ?1 AND state = 'pending' AND channel = 'web'";

static vigil_status pages_for_txn(pgc *q, const vigil_actor *who, int64_t since_ms, int64_t now_ms,
                                  vigil_store_page *out, size_t max, size_t *n, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_PAGES_FOR, &st);
    pg_bind_text(st, 1, who->user);
    pg_bind_i64(st, 2, since_ms);
    pg_bind_i64(st, 3, (int64_t)max);
    vigil_status s = read_pages(q, st, out, max, n, err);
    for (size_t i = 0; s == VIGIL_OK && i < *n && i < max; i++) {
        vigil_store_page *p = &out[i];
        if (p->channel != VIGIL_STORE_CHANNEL_WEB || p->state != VIGIL_STORE_PAGE_PENDING) {
            continue;
        }
        PREP(SQL_PAGE_FETCHED, &st);
        pg_bind_i64(st, 1, p->id);
        pg_bind_i64(st, 2, now_ms);
        s = pg_run(q, st, "page fetched", err);
        if (s != VIGIL_OK) {
            break;
        }
        p->state = VIGIL_STORE_PAGE_DELIVERED;
        p->delivered_ms = now_ms;
        p->attempts++;
        vigil__audit_ev ev;
        vigil__audit_ev_set(&ev, who, "page.delivered", "page", p->id, p->patient_id,
                            "fetched by %s's web app", who->user);
        s = pg_audit(q, &ev, err);
    }
    if (s == VIGIL_OK) {
        vigil__audit_ev ev;
        vigil__audit_ev_set(&ev, who, "page.read-list", "page", 0, 0, "%zu page(s) listed",
                            *n < max ? *n : max);
        s = pg_audit(q, &ev, err);
    }
    return s;
}

vigil_status vigil__pg_pages_for(void *be, const vigil_actor *who, int64_t since_ms,
                                 int64_t now_ms, vigil_store_page *out, size_t max, size_t *n,
                                 vigil_err *err)
{
    pgc *q = be;
    size_t got = 0;
    vigil_status s = pg_begin(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    s = pg_end(q, pages_for_txn(q, who, since_ms, now_ms, out, max, &got, err), err);
    *n = s == VIGIL_OK ? (got < max ? got : max) : 0;
    return s;
}

static const char SQL_PAGE_READ[] =
    "UPDATE page SET read_ms = ?2 WHERE id = ?1 AND recipient = ?3 AND read_ms IS NULL";

static vigil_status read_txn(pgc *q, const vigil_actor *who, int64_t id, int64_t t_ms,
                             vigil_store_page *out, vigil_err *err)
{
    vigil_status s = page_get(q, id, out, err);
    if (s == VIGIL_OK && strcmp(out->recipient, who->user) != 0) {
        s = vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "page_id", "no page %lld to you",
                          (long long)id);
    }
    if (s != VIGIL_OK || out->read_ms != 0) {
        return s;
    }
    pg_stmt *st = NULL;
    PREP(SQL_PAGE_READ, &st);
    pg_bind_i64(st, 1, id);
    pg_bind_i64(st, 2, t_ms);
    pg_bind_text(st, 3, who->user);
    s = pg_run(q, st, "page read", err);
    if (s != VIGIL_OK) {
        return s;
    }
    out->read_ms = t_ms;
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "page.read", "page", id, out->patient_id, "read by %s",
                        who->user);
    return pg_audit(q, &ev, err);
}

vigil_status vigil__pg_page_read(void *be, const vigil_actor *who, int64_t page_id, int64_t t_ms,
                                 vigil_store_page *out, vigil_err *err)
{
    pgc *q = be;
    vigil_status s = pg_begin(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    return pg_end(q, read_txn(q, who, page_id, t_ms, out, err), err);
}

static const char SQL_PAGES_OF_ALERT[] =
    "SELECT " PAGE_COLS " FROM page WHERE alert_id = ?1 ORDER BY id LIMIT ?2";

vigil_status vigil__pg_pages_of_alert(void *be, int64_t alert_id, vigil_store_page *out,
                                      size_t max, size_t *n, vigil_err *err)
{
    pgc *q = be;
    vigil_status s = pg_begin_read(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    pg_stmt *st = NULL;
    s = pg_prep(q, SQL_PAGES_OF_ALERT, &st, err);
    if (s == VIGIL_OK) {
        pg_bind_i64(st, 1, alert_id);
        pg_bind_i64(st, 2, (int64_t)max);
        s = read_pages(q, st, out, max, n, err);
    }
    return pg_end(q, s, err);
}

/* ---- rotas ----------------------------------------------------------------- */

static const char SQL_USER_ENABLED[] =
    "SELECT 1 FROM app_user WHERE username = ?1 AND disabled_ms IS NULL";
static const char SQL_SHIFT_INSERT[] =
    "INSERT INTO rota_shift (ward, level, step, username, from_ms, to_ms, created_by, "
    "created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id";
#define SHIFT_COLS "id, ward, level, step, username, from_ms, to_ms, created_by"
static const char SQL_SHIFT_GET[] =
    "SELECT " SHIFT_COLS " FROM rota_shift WHERE id = ?1 AND ended_ms IS NULL AND to_ms > ?2";
static const char SQL_SHIFT_END[] =
    "UPDATE rota_shift SET ended_ms = ?2, ended_by = ?3, to_ms = GREATEST(from_ms + 1, LEAST(to_ms, "
    "?2)) WHERE id = ?1";
static const char SQL_SHIFTS[] =
    "SELECT " SHIFT_COLS " FROM rota_shift WHERE (?1 IS NULL OR ward = ?1 OR ward = '*') "
    "AND to_ms > ?2 AND from_ms <= ?3 AND (ended_ms IS NULL OR to_ms > from_ms + 1) "
    "ORDER BY ward, level, step, from_ms, id";
static const char SQL_HOLDERS[] =
    "SELECT username FROM rota_shift WHERE ward = ?1 AND level = ?2 AND step = ?3 "
    "AND from_ms <= ?4 AND to_ms > ?4 AND username IN (SELECT username FROM app_user WHERE "
    "disabled_ms IS NULL) ORDER BY from_ms, id";
static const char SQL_ROTA_WARDS[] =
    "SELECT ward FROM bed_stay WHERE to_ms IS NULL UNION SELECT ward FROM rota_shift WHERE "
    "ward <> '*' AND to_ms > ?1 ORDER BY 1";
static const char SQL_ROTA_HELD[] =
    "SELECT DISTINCT ward, level, step FROM rota_shift WHERE from_ms <= ?1 AND to_ms > ?1 "
    "AND username IN (SELECT username FROM app_user WHERE disabled_ms IS NULL)";

static void read_shift(pg_stmt *st, vigil_store_shift *s)
{
    memset(s, 0, sizeof *s);
    s->id = pg_col_i64(st, 0);
    pg_col_text(st, 1, s->ward, sizeof s->ward);
    pg_col_text(st, 2, s->level, sizeof s->level);
    s->step = (int)pg_col_i64(st, 3);
    pg_col_text(st, 4, s->username, sizeof s->username);
    s->from_ms = pg_col_i64(st, 5);
    s->to_ms = pg_col_i64(st, 6);
    pg_col_text(st, 7, s->created_by, sizeof s->created_by);
}

static vigil_status shift_add_txn(pgc *q, const vigil_actor *who, const vigil_store_shift *s,
                                  int64_t *out_id, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_USER_ENABLED, &st);
    pg_bind_text(st, 1, s->username);
    bool row = false;
    vigil_status r = pg_step(q, st, &row, "rota user", err);
    if (r != VIGIL_OK) {
        return r;
    }
    pg_done(st);
    if (!row) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "username", "no enabled user '%s'",
                             s->username);
    }
    PREP(SQL_SHIFT_INSERT, &st);
    pg_bind_text(st, 1, s->ward);
    pg_bind_text(st, 2, s->level);
    pg_bind_int(st, 3, s->step);
    pg_bind_text(st, 4, s->username);
    pg_bind_i64(st, 5, s->from_ms);
    pg_bind_i64(st, 6, s->to_ms);
    pg_bind_text(st, 7, who->user);
    pg_bind_i64(st, 8, vigil__store_now_ms());
    r = pg_run(q, st, "add shift", err);
    if (r != VIGIL_OK) {
        return r;
    }
    *out_id = pg_last_id(q);
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "rota.shift-add", "rota_shift", *out_id, 0,
                        "%s %s step %d: %s", s->ward, s->level, s->step, s->username);
    return pg_audit(q, &ev, err);
}

vigil_status vigil__pg_shift_add(void *be, const vigil_actor *who, const vigil_store_shift *s,
                                 int64_t *out_id, vigil_err *err)
{
    pgc *q = be;
    int64_t id = 0;
    vigil_status r = pg_begin(q, err);
    if (r == VIGIL_OK) {
        r = pg_end(q, shift_add_txn(q, who, s, &id, err), err);
    }
    if (r == VIGIL_OK) {
        *out_id = id;
    }
    return r;
}

static vigil_status shift_end_txn(pgc *q, const vigil_actor *who, int64_t id, int64_t t_ms,
                                  vigil_store_shift *out, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_SHIFT_GET, &st);
    pg_bind_i64(st, 1, id);
    pg_bind_i64(st, 2, t_ms);
    bool row = false;
    vigil_status r = pg_step(q, st, &row, "read shift", err);
    if (r != VIGIL_OK) {
        return r;
    }
    if (!row) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "id", "no shift %lld in force or to come",
                             (long long)id);
    }
    read_shift(st, out);
    pg_done(st);
    PREP(SQL_SHIFT_END, &st);
    pg_bind_i64(st, 1, id);
    pg_bind_i64(st, 2, t_ms);
    pg_bind_text(st, 3, who->user);
    r = pg_run(q, st, "end shift", err);
    if (r != VIGIL_OK) {
        return r;
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "rota.shift-end", "rota_shift", id, 0, "%s %s step %d: %s",
                        out->ward, out->level, out->step, out->username);
    return pg_audit(q, &ev, err);
}

vigil_status vigil__pg_shift_end(void *be, const vigil_actor *who, int64_t id, int64_t t_ms,
                                 vigil_store_shift *out, vigil_err *err)
{
    pgc *q = be;
    vigil_status r = pg_begin(q, err);
    if (r != VIGIL_OK) {
        return r;
    }
    return pg_end(q, shift_end_txn(q, who, id, t_ms, out, err), err);
}

vigil_status vigil__pg_shifts_get(void *be, const char *ward, int64_t from_ms, int64_t to_ms,
                                  vigil_store_shift *out, size_t max, size_t *n, vigil_err *err)
{
    pgc *q = be;
    vigil_status r = pg_begin_read(q, err);
    if (r != VIGIL_OK) {
        return r;
    }
    pg_stmt *st = NULL;
    r = pg_prep(q, SQL_SHIFTS, &st, err);
    *n = 0;
    if (r == VIGIL_OK) {
        pg_bind_text_opt(st, 1, ward);
        pg_bind_i64(st, 2, from_ms);
        pg_bind_i64(st, 3, to_ms);
        for (;;) {
            bool row = false;
            r = pg_step(q, st, &row, "read shifts", err);
            if (r != VIGIL_OK || !row) {
                break;
            }
            if (*n < max) {
                read_shift(st, &out[*n]);
            }
            (*n)++;
        }
    }
    return pg_end(q, r, err);
}

/* Holders of one exact post (no "*" fallback: page.c's rule) into out; *n counts all. */
static vigil_status holders_exact(pgc *q, const char *ward, const char *level, int step,
                                  int64_t t_ms, char (*out)[VIGIL_ID_MAX], size_t max, size_t *n,
                                  vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_HOLDERS, &st);
    pg_bind_text(st, 1, ward);
    pg_bind_text(st, 2, level);
    pg_bind_int(st, 3, step);
    pg_bind_i64(st, 4, t_ms);
    *n = 0;
    for (;;) {
        bool row = false;
        vigil_status r = pg_step(q, st, &row, "rota holders", err);
        if (r != VIGIL_OK || !row) {
            return r;
        }
        if (*n < max) {
            pg_col_text(st, 0, out[*n], VIGIL_ID_MAX);
        }
        (*n)++;
    }
}

vigil_status vigil__pg_post_holders(void *be, const char *ward, const char *level, int step,
                                    int64_t t_ms, char (*out)[VIGIL_ID_MAX], size_t max, size_t *n,
                                    vigil_err *err)
{
    pgc *q = be;
    vigil_status r = pg_begin_read(q, err);
    if (r != VIGIL_OK) {
        return r;
    }
    size_t got = 0;
    r = pg_end(q, holders_exact(q, ward, level, step, t_ms, out, max, &got, err), err);
    *n = r == VIGIL_OK ? got : 0;
    return r;
}

/* Grow a malloc'd array of n items of size sz to hold one more. */
static vigil_status grow(void **arr, size_t n, size_t *cap, size_t sz, vigil_err *err)
{
    if (n < *cap) {
        return VIGIL_OK;
    }
    size_t nc = *cap > 0 ? *cap * 2 : 16;
    void *na = realloc(*arr, nc * sz);
    if (na == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, "rota", "out of memory");
    }
    *arr = na;
    *cap = nc;
    return VIGIL_OK;
}

static vigil_status state_txn(pgc *q, int64_t t_ms, vigil__rota_state *out, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_ROTA_WARDS, &st);
    pg_bind_i64(st, 1, t_ms);
    size_t cap = 0;
    vigil_status r = VIGIL_OK;
    for (;;) {
        bool row = false;
        r = pg_step(q, st, &row, "rota wards", err);
        if (r != VIGIL_OK || !row) {
            break;
        }
        r = grow((void **)&out->wards, out->n_wards, &cap, sizeof *out->wards, err);
        if (r != VIGIL_OK) {
            pg_done(st);
            return r;
        }
        pg_col_text(st, 0, out->wards[out->n_wards++], sizeof out->wards[0]);
    }
    if (r != VIGIL_OK) {
        return r;
    }
    PREP(SQL_ROTA_HELD, &st);
    pg_bind_i64(st, 1, t_ms);
    cap = 0;
    for (;;) {
        bool row = false;
        r = pg_step(q, st, &row, "rota posts held", err);
        if (r != VIGIL_OK || !row) {
            return r;
        }
        r = grow((void **)&out->held, out->n_held, &cap, sizeof *out->held, err);
        if (r != VIGIL_OK) {
            pg_done(st);
            return r;
        }
        vigil_store_rota_gap *h = &out->held[out->n_held++];
        memset(h, 0, sizeof *h);
        pg_col_text(st, 0, h->ward, sizeof h->ward);
        pg_col_text(st, 1, h->level, sizeof h->level);
        h->step = (int)pg_col_i64(st, 2);
    }
}

vigil_status vigil__pg_rota_state(void *be, int64_t t_ms, vigil__rota_state *out, vigil_err *err)
{
    pgc *q = be;
    memset(out, 0, sizeof *out);
    vigil_status r = pg_begin_read(q, err);
    if (r != VIGIL_OK) {
        return r;
    }
    r = pg_end(q, state_txn(q, t_ms, out, err), err);
    if (r != VIGIL_OK) {
        vigil__rota_state_fini(out);
    }
    return r;
}
