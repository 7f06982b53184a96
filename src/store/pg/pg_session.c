/*
 * pg_session.c: PostgreSQL backend: sign-in sessions (the session table,
 * this backend's migration 3; session.c applies the rules). A port of
 * sq_session.c. Only a token's hash is stored. Unaudited: the sign-in is
 * audited by vigil_store_user_login.
 *
 * Serialisation across nodes (READ COMMITTED): session_add takes a
 * transaction-scoped advisory lock (one sign-in's session at a time on the
 * whole database, so the total cap holds) and reads the user's row FOR
 * UPDATE, which user_disable's UPDATE also locks: a disabling either commits
 * first (the sign-in then reads the user disabled and stores nothing) or
 * waits for the sign-in's commit and then deletes its session too.
 * session_get is one statement in autocommit: one round trip, one snapshot;
 * session_touch commits with synchronous_commit off.
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

/* "VIGS": the advisory lock of new sessions (the migrations' is "VIGL") */
static const char SQL_SESSION_LOCK[] = "SELECT pg_advisory_xact_lock(1447638867)";
static const char SQL_SESSION_USER[] =
    "SELECT id, disabled_ms IS NOT NULL FROM app_user WHERE username = ?1 FOR UPDATE";
static const char SQL_SESSION_SWEEP[] =
    "DELETE FROM session WHERE last_ms <= ?1 OR created_ms <= ?2 OR created_ms > ?3";
static const char SQL_SESSION_COUNT_USER[] = "SELECT count(*) FROM session WHERE user_id = ?1";
static const char SQL_SESSION_LRU_END[] =
    "DELETE FROM session WHERE token_hash IN (SELECT token_hash FROM session WHERE user_id = ?1 "
    "ORDER BY last_ms, created_ms LIMIT ?2)";
static const char SQL_SESSION_COUNT[] = "SELECT count(*) FROM session";
static const char SQL_SESSION_INSERT[] =
    "INSERT INTO session (token_hash, user_id, created_ms, last_ms) VALUES (?1, ?2, ?3, ?3)";
static const char SQL_SESSION_GET[] =
    "SELECT s.created_ms, s.last_ms, u.id, u.username, u.display_name, u.role, "
    "u.disabled_ms IS NOT NULL, w.ward FROM session s JOIN app_user u ON u.id = s.user_id "
    "LEFT JOIN user_ward w ON w.user_id = u.id WHERE s.token_hash = ?1 ORDER BY w.ward";
static const char SQL_SESSION_TOUCH[] =
    "UPDATE session SET last_ms = ?2 WHERE token_hash = ?1 AND last_ms < ?2";
static const char SQL_SESSION_END[] = "DELETE FROM session WHERE token_hash = ?1";
static const char SQL_SESSION_END_USER[] =
    "DELETE FROM session WHERE user_id = (SELECT id FROM app_user WHERE username = ?1)";

static vigil_status count_of(pgc *q, const char *sql, int64_t id, int64_t *out, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(sql, &st);
    if (id != 0) {
        pg_bind_i64(st, 1, id);
    }
    bool row = false;
    vigil_status s = pg_step(q, st, &row, "count sessions", err);
    if (s == VIGIL_OK && row) {
        *out = pg_col_i64(st, 0);
        pg_done(st);
    }
    return s;
}

static vigil_status add_txn(pgc *q, const vigil__session_add *a, vigil_err *err)
{
    vigil_status s = pg_exec(q, SQL_SESSION_LOCK, err);
    if (s != VIGIL_OK) {
        return s;
    }
    pg_stmt *st = NULL;
    PREP(SQL_SESSION_USER, &st);
    pg_bind_text(st, 1, a->username);
    bool row = false;
    s = pg_step(q, st, &row, "read the session's user", err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (!row) {
        return vigil_err_set(err, VIGIL_ERR_DENIED, "username", "no such user");
    }
    int64_t uid = pg_col_i64(st, 0);
    bool disabled = pg_col_i64(st, 1) != 0;
    pg_done(st);
    if (disabled) {
        return vigil_err_set(err, VIGIL_ERR_DENIED, "username", "user disabled");
    }
    PREP(SQL_SESSION_SWEEP, &st);
    pg_bind_i64(st, 1, a->idle_cut_ms);
    pg_bind_i64(st, 2, a->max_cut_ms);
    pg_bind_i64(st, 3, a->now_ms);
    s = pg_run(q, st, "end expired sessions", err);
    int64_t mine = 0, all = 0;
    if (s == VIGIL_OK) {
        s = count_of(q, SQL_SESSION_COUNT_USER, uid, &mine, err);
    }
    if (s == VIGIL_OK && mine >= (int64_t)a->per_user) {
        /* issue 12 finding 7: the user's own least recently used, nobody else's */
        PREP(SQL_SESSION_LRU_END, &st);
        pg_bind_i64(st, 1, uid);
        pg_bind_i64(st, 2, mine - (int64_t)a->per_user + 1);
        s = pg_run(q, st, "end the user's least recently used session", err);
    }
    if (s == VIGIL_OK) {
        s = count_of(q, SQL_SESSION_COUNT, 0, &all, err);
    }
    if (s == VIGIL_OK && all >= (int64_t)a->total) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, "session",
                             "%lld sessions are live: no room for another", (long long)all);
    }
    if (s != VIGIL_OK) {
        return s;
    }
    PREP(SQL_SESSION_INSERT, &st);
    pg_bind_blob(st, 1, a->hash, VIGIL_STORE_SESSION_HASH_LEN);
    pg_bind_i64(st, 2, uid);
    pg_bind_i64(st, 3, a->now_ms);
    return pg_run(q, st, "store a session", err);
}

vigil_status vigil__pg_session_add(void *be, const vigil__session_add *a, vigil_err *err)
{
    pgc *q = be;
    vigil_status s = pg_begin(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    return pg_end(q, add_txn(q, a, err), err);
}

vigil_status vigil__pg_session_get(void *be, const uint8_t *hash, vigil__session_row *out,
                                   bool *found, vigil_err *err)
{
    pgc *q = be;
    vigil_status s = pg_ready(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    pg_stmt *st = NULL;
    PREP(SQL_SESSION_GET, &st);
    pg_bind_blob(st, 1, hash, VIGIL_STORE_SESSION_HASH_LEN);
    vigil__session_row r;
    memset(&r, 0, sizeof r);
    bool any = false;
    for (;;) {
        bool row = false;
        s = pg_step(q, st, &row, "read a session", err);
        if (s != VIGIL_OK) {
            return s;
        }
        if (!row) {
            break;
        }
        if (!any) {
            r.created_ms = pg_col_i64(st, 0);
            r.last_ms = pg_col_i64(st, 1);
            r.user.id = pg_col_i64(st, 2);
            pg_col_text(st, 3, r.user.username, sizeof r.user.username);
            pg_col_text(st, 4, r.user.display_name, sizeof r.user.display_name);
            int role = pg_col_enum(st, 5, vigil__store_role_names, VIGIL_STORE_ROLE_COUNT);
            if (role < 0) {
                pg_done(st);
                return vigil_err_set(err, VIGIL_ERR_INTERNAL, "app_user",
                                     "a session's user has a damaged role");
            }
            r.user.role = (vigil_store_role)role;
            r.user.disabled = pg_col_i64(st, 6) != 0;
            any = true;
        }
        if (pg_col_type(st, 7) != PG_NULL && r.user.n_wards < VIGIL_STORE_WARDS_MAX) {
            pg_col_text(st, 7, r.user.wards[r.user.n_wards], sizeof r.user.wards[0]);
            r.user.n_wards++;
        }
    }
    *found = any;
    if (any) {
        *out = r;
    }
    return VIGIL_OK;
}

static vigil_status touch_txn(pgc *q, const uint8_t *hash, int64_t now_ms, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_SESSION_TOUCH, &st);
    pg_bind_blob(st, 1, hash, VIGIL_STORE_SESSION_HASH_LEN);
    pg_bind_i64(st, 2, now_ms);
    return pg_run(q, st, "mark a session used", err);
}

vigil_status vigil__pg_session_touch(void *be, const uint8_t *hash, int64_t now_ms, vigil_err *err)
{
    pgc *q = be;
    q->no_sync = true; /* synchronous_commit off: a lost touch only ends the session sooner */
    vigil_status s = pg_begin(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    return pg_end(q, touch_txn(q, hash, now_ms, err), err);
}

static vigil_status end_txn(pgc *q, const char *sql, const uint8_t *hash, const char *username,
                            size_t *out_n, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(sql, &st);
    if (hash != NULL) {
        pg_bind_blob(st, 1, hash, VIGIL_STORE_SESSION_HASH_LEN);
    } else {
        pg_bind_text(st, 1, username);
    }
    vigil_status s = pg_run(q, st, "end sessions", err);
    if (s == VIGIL_OK) {
        *out_n = (size_t)pg_changes(q);
    }
    return s;
}

vigil_status vigil__pg_session_end(void *be, const uint8_t *hash, size_t *out_n, vigil_err *err)
{
    pgc *q = be;
    size_t n = 0;
    vigil_status s = pg_begin(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    s = pg_end(q, end_txn(q, SQL_SESSION_END, hash, NULL, &n, err), err);
    if (s == VIGIL_OK) {
        *out_n = n;
    }
    return s;
}

vigil_status pg_sessions_end_user(pgc *q, const char *username, size_t *out_n, vigil_err *err)
{
    return end_txn(q, SQL_SESSION_END_USER, NULL, username, out_n, err);
}
