/*
 * pg_user.c: PostgreSQL backend: users, roles and ward scopes (storing the
 * argon2id hash store.c made, never a password), and the audit trail's
 * reads: the chain walk for verification, the head, and paged reads.
 *
 * Does not: hash or verify passwords (store.c, libsodium), authorise who
 * may add users (the server), or verify the chain (audit.c).
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

/* ---- users --------------------------------------------------------------- */

static const char SQL_USER_INSERT[] =
    "INSERT INTO app_user (username, display_name, role, password_hash, created_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id";
static const char SQL_WARD_INSERT[] =
    "INSERT INTO user_ward (user_id, ward) VALUES (?1, ?2) ON CONFLICT DO NOTHING";
static const char SQL_USER_GET[] =
    "SELECT id, username, display_name, role, disabled_ms IS NOT NULL, password_hash "
    "FROM app_user WHERE username = ?1";
static const char SQL_USER_WARDS[] = "SELECT ward FROM user_ward WHERE user_id = ?1 ORDER BY ward";
static const char SQL_USER_HASH[] = "UPDATE app_user SET password_hash = ?2 WHERE username = ?1";
static const char SQL_USER_DISABLE[] =
    "UPDATE app_user SET disabled_ms = ?2 WHERE username = ?1 AND disabled_ms IS NULL";

/* ?2 is bound (user_update_txn binds it) and only checked, so the statement uses it */
static const char SQL_USER_ENABLE[] = "UPDATE app_user SET disabled_ms = NULL WHERE username = ?1 "
                                      "AND disabled_ms IS NOT NULL AND ?2 IS NOT NULL";

static vigil_status user_add_txn(pgc *q, const vigil_actor *who, const char *username,
                                 const char *display_name, vigil_store_role role, const char *hash,
                                 const char *const *wards, size_t n_wards, int64_t *out_id,
                                 vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_USER_INSERT, &st);
    pg_bind_text(st, 1, username);
    pg_bind_text(st, 2, display_name);
    pg_bind_text(st, 3, vigil__store_role_names[role]);
    pg_bind_text(st, 4, hash);
    pg_bind_i64(st, 5, vigil__store_now_ms());
    vigil_status s = pg_run(q, st, "add user (usernames are unique)", err);
    if (s != VIGIL_OK) {
        return s;
    }
    int64_t id = pg_last_id(q);
    for (size_t i = 0; i < n_wards && s == VIGIL_OK; i++) {
        PREP(SQL_WARD_INSERT, &st);
        pg_bind_i64(st, 1, id);
        pg_bind_text(st, 2, wards[i]);
        s = pg_run(q, st, "add user ward", err);
    }
    if (s != VIGIL_OK) {
        return s;
    }
    *out_id = id;
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "user.add", "app_user", id, 0, "%s as %s, %zu ward(s)", username,
                        vigil__store_role_names[role], n_wards);
    return pg_audit(q, &ev, err);
}

vigil_status vigil__pg_user_add(void *be, const vigil_actor *who, const char *username,
                                const char *display_name, vigil_store_role role, const char *hash,
                                const char *const *wards, size_t n_wards, int64_t *out_id,
                                vigil_err *err)
{
    pgc *q = be;
    int64_t id = 0;
    vigil_status s = pg_begin(q, err);
    if (s == VIGIL_OK) {
        s = pg_end(
            q, user_add_txn(q, who, username, display_name, role, hash, wards, n_wards, &id, err),
            err);
    }
    if (s == VIGIL_OK) {
        *out_id = id;
    }
    return s;
}

static vigil_status user_get_txn(pgc *q, const char *username, vigil_store_user *u,
                                 char hash_out[VIGIL_PASSWORD_HASH_MAX], vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_USER_GET, &st);
    pg_bind_text(st, 1, username);
    bool row = false;
    vigil_status s = pg_step(q, st, &row, "read user", err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (!row) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "username", "no such user");
    }
    memset(u, 0, sizeof *u);
    u->id = pg_col_i64(st, 0);
    pg_col_text(st, 1, u->username, sizeof u->username);
    pg_col_text(st, 2, u->display_name, sizeof u->display_name);
    int role = pg_col_enum(st, 3, vigil__store_role_names, VIGIL_STORE_ROLE_COUNT);
    u->disabled = pg_col_int(st, 4) != 0;
    bool hash_ok = true;
    if (hash_out != NULL) {
        hash_ok = pg_col_text(st, 5, hash_out, VIGIL_PASSWORD_HASH_MAX);
    }
    pg_done(st);
    if (role < 0 || !hash_ok) {
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, "app_user",
                             "user '%s' has a damaged role or hash", username);
    }
    u->role = (vigil_store_role)role;
    PREP(SQL_USER_WARDS, &st);
    pg_bind_i64(st, 1, u->id);
    for (;;) {
        s = pg_step(q, st, &row, "read user wards", err);
        if (s != VIGIL_OK || !row) {
            break;
        }
        if (u->n_wards < VIGIL_STORE_WARDS_MAX) {
            pg_col_text(st, 0, u->wards[u->n_wards], sizeof u->wards[0]);
            u->n_wards++;
        }
    }
    return s;
}

vigil_status vigil__pg_user_get(void *be, const char *username, vigil_store_user *out,
                                char hash_out[VIGIL_PASSWORD_HASH_MAX], vigil_err *err)
{
    pgc *q = be;
    vigil_store_user u;
    vigil_status s = pg_begin_read(q, err);
    if (s == VIGIL_OK) {
        s = pg_end(q, user_get_txn(q, username, &u, hash_out, err), err);
    }
    if (s == VIGIL_OK) {
        *out = u;
    }
    return s;
}

/* ---- the admin's list ----------------------------------------------------- */

static const char SQL_USER_LIST[] =
    "SELECT id, username, display_name, role, created_ms, coalesce(disabled_ms, 0) "
    "FROM app_user ORDER BY username";
static const char SQL_USER_LAST_LOGIN[] =
    "SELECT actor, max(t_ms) FROM audit WHERE action = 'auth.login' GROUP BY actor";

static vigil_status user_list_rows(pgc *q, vigil_store_user_list *l, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_USER_LIST, &st);
    size_t cap = 0;
    for (;;) {
        bool row = false;
        vigil_status s = pg_step(q, st, &row, "list users", err);
        if (s != VIGIL_OK || !row) {
            return s;
        }
        if (l->n == cap) {
            size_t ncap = cap == 0 ? 16 : cap * 2;
            vigil_store_user_row *nr = realloc(l->rows, ncap * sizeof *nr);
            if (nr == NULL) {
                pg_done(st);
                return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory listing users");
            }
            l->rows = nr;
            cap = ncap;
        }
        vigil_store_user_row *r = &l->rows[l->n];
        memset(r, 0, sizeof *r);
        r->user.id = pg_col_i64(st, 0);
        pg_col_text(st, 1, r->user.username, sizeof r->user.username);
        pg_col_text(st, 2, r->user.display_name, sizeof r->user.display_name);
        int role = pg_col_enum(st, 3, vigil__store_role_names, VIGIL_STORE_ROLE_COUNT);
        if (role < 0) {
            pg_done(st);
            return vigil_err_set(err, VIGIL_ERR_INTERNAL, "app_user",
                                 "user '%s' has a damaged role", r->user.username);
        }
        r->user.role = (vigil_store_role)role;
        r->created_ms = pg_col_i64(st, 4);
        r->disabled_ms = pg_col_i64(st, 5);
        r->user.disabled = r->disabled_ms != 0;
        l->n++;
    }
}

static vigil_status user_list_wards(pgc *q, vigil_store_user_list *l, vigil_err *err)
{
    for (size_t i = 0; i < l->n; i++) {
        vigil_store_user *u = &l->rows[i].user;
        pg_stmt *st = NULL;
        PREP(SQL_USER_WARDS, &st);
        pg_bind_i64(st, 1, u->id);
        for (;;) {
            bool row = false;
            vigil_status s = pg_step(q, st, &row, "read user wards", err);
            if (s != VIGIL_OK) {
                return s;
            }
            if (!row) {
                break;
            }
            if (u->n_wards < VIGIL_STORE_WARDS_MAX) {
                pg_col_text(st, 0, u->wards[u->n_wards], sizeof u->wards[0]);
                u->n_wards++;
            }
        }
    }
    return VIGIL_OK;
}

/* Each user's last successful sign-in, from the audit chain. */
static vigil_status user_list_logins(pgc *q, vigil_store_user_list *l, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_USER_LAST_LOGIN, &st);
    for (;;) {
        bool row = false;
        vigil_status s = pg_step(q, st, &row, "last sign-in", err);
        if (s != VIGIL_OK || !row) {
            return s;
        }
        const char *actor = (const char *)pg_col_cstr(st, 0);
        for (size_t i = 0; actor != NULL && i < l->n; i++) {
            if (strcmp(l->rows[i].user.username, actor) == 0) {
                l->rows[i].last_login_ms = pg_col_i64(st, 1);
            }
        }
    }
}

static vigil_status user_list_txn(pgc *q, const vigil_actor *who, vigil_store_user_list *l,
                                  vigil_err *err)
{
    vigil_status s = user_list_rows(q, l, err);
    if (s == VIGIL_OK) {
        s = user_list_wards(q, l, err);
    }
    if (s == VIGIL_OK) {
        s = user_list_logins(q, l, err);
    }
    if (s != VIGIL_OK) {
        return s;
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "user.list", "app_user", (int64_t)l->n, 0,
                        "%zu user(s): names, roles, wards, enabled, last sign-in", l->n);
    return pg_audit(q, &ev, err);
}

vigil_status vigil__pg_user_list(void *be, const vigil_actor *who, vigil_store_user_list *out,
                                 vigil_err *err)
{
    pgc *q = be;
    vigil_store_user_list l = {0, NULL};
    vigil_status s = pg_begin(q, err);
    if (s == VIGIL_OK) {
        s = pg_end(q, user_list_txn(q, who, &l, err), err);
    }
    if (s != VIGIL_OK) {
        vigil_store_user_list_fini(&l);
        return s;
    }
    *out = l;
    return VIGIL_OK;
}

static vigil_status user_update_txn(pgc *q, const vigil_actor *who, const char *sql,
                                    const char *username, const char *text, int64_t t_ms,
                                    const char *action, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(sql, &st);
    pg_bind_text(st, 1, username);
    if (text != NULL) {
        pg_bind_text(st, 2, text);
    } else {
        pg_bind_i64(st, 2, t_ms);
    }
    vigil_status s = pg_run(q, st, action, err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (pg_changes(q) == 0) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "username", "no such (enabled) user");
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, action, "app_user", 0, 0, "%s", username);
    return pg_audit(q, &ev, err);
}

vigil_status vigil__pg_user_set_hash(void *be, const vigil_actor *who, const char *username,
                                     const char *hash, vigil_err *err)
{
    pgc *q = be;
    vigil_status s = pg_begin(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    return pg_end(
        q, user_update_txn(q, who, SQL_USER_HASH, username, hash, 0, "user.password", err), err);
}

/* The disabling and the end of every session of the user in one transaction.
 * The UPDATE locks the user's row (a sign-in's session_add reads it FOR
 * UPDATE), and the DELETE, a later statement under READ COMMITTED, sees every
 * session committed before it: no session of the user outlives the commit
 * (pg_session.c). */
vigil_status vigil__pg_user_disable(void *be, const vigil_actor *who, const char *username,
                                    int64_t t_ms, size_t *out_sessions_ended, vigil_err *err)
{
    pgc *q = be;
    size_t n = 0;
    vigil_status s = pg_begin(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    s = user_update_txn(q, who, SQL_USER_DISABLE, username, NULL, t_ms, "user.disable", err);
    if (s == VIGIL_OK) {
        s = pg_sessions_end_user(q, username, &n, err);
    }
    s = pg_end(q, s, err);
    if (s == VIGIL_OK) {
        *out_sessions_ended = n;
    }
    return s;
}

vigil_status vigil__pg_user_enable(void *be, const vigil_actor *who, const char *username,
                                   vigil_err *err)
{
    pgc *q = be;
    vigil_status s = pg_begin(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    return pg_end(
        q, user_update_txn(q, who, SQL_USER_ENABLE, username, NULL, 1, "user.enable", err), err);
}

/* ---- audit --------------------------------------------------------------- */

#define AUDIT_COLS                                                                                 \
    "seq, t_ms, actor, action, entity, entity_id, patient_id, reason, detail, prev_hash, hash"
static const char SQL_AUDIT_ALL[] = "SELECT " AUDIT_COLS " FROM audit ORDER BY seq";
static const char SQL_AUDIT_FROM[] =
    "SELECT " AUDIT_COLS " FROM audit WHERE seq >= ?1 ORDER BY seq LIMIT ?2";
static const char SQL_AUDIT_HEAD[] = "SELECT seq, hash FROM audit_head WHERE id = 1";

/* Read a record as stored. Text longer than its buffer is cut, and a hash
 * of the wrong length left zero: either way verification reports it. */
static void read_record(pg_stmt *st, vigil_audit_record *r)
{
    memset(r, 0, sizeof *r);
    r->seq = pg_col_i64(st, 0);
    r->t_ms = pg_col_i64(st, 1);
    pg_col_text(st, 2, r->actor, sizeof r->actor);
    pg_col_text(st, 3, r->action, sizeof r->action);
    pg_col_text(st, 4, r->entity, sizeof r->entity);
    r->entity_id = pg_col_i64(st, 5);
    r->patient_id = pg_col_i64(st, 6);
    pg_col_text(st, 7, r->reason, sizeof r->reason);
    pg_col_text(st, 8, r->detail, sizeof r->detail);
    if (pg_col_bytes(st, 9) == VIGIL_AUDIT_HASH_LEN) {
        memcpy(r->prev_hash, pg_col_blob(st, 9), VIGIL_AUDIT_HASH_LEN);
    }
    if (pg_col_bytes(st, 10) == VIGIL_AUDIT_HASH_LEN) {
        memcpy(r->hash, pg_col_blob(st, 10), VIGIL_AUDIT_HASH_LEN);
    }
}

static vigil_status head_read(pgc *q, int64_t *seq, uint8_t hash[VIGIL_AUDIT_HASH_LEN],
                              vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_AUDIT_HEAD, &st);
    bool row = false;
    vigil_status s = pg_step(q, st, &row, "audit head", err);
    if (s != VIGIL_OK) {
        return s;
    }
    memset(hash, 0, VIGIL_AUDIT_HASH_LEN);
    *seq = -1; /* no head row: never matches a chain */
    if (row) {
        *seq = pg_col_i64(st, 0);
        if (pg_col_bytes(st, 1) == VIGIL_AUDIT_HASH_LEN) {
            memcpy(hash, pg_col_blob(st, 1), VIGIL_AUDIT_HASH_LEN);
        }
        pg_done(st);
    }
    return VIGIL_OK;
}

static vigil_status walk_txn(pgc *q, vigil__audit_cb cb, void *ctx, int64_t *head_seq,
                             uint8_t head_hash[VIGIL_AUDIT_HASH_LEN], vigil_err *err)
{
    vigil_status s = head_read(q, head_seq, head_hash, err);
    if (s != VIGIL_OK) {
        return s;
    }
    pg_stmt *st = NULL;
    PREP(SQL_AUDIT_ALL, &st);
    for (;;) {
        bool row = false;
        s = pg_step(q, st, &row, "read audit", err);
        if (s != VIGIL_OK || !row) {
            return s;
        }
        vigil_audit_record r;
        read_record(st, &r);
        if (cb(ctx, &r) != 0) {
            pg_done(st);
            return VIGIL_OK;
        }
    }
}

vigil_status vigil__pg_audit_walk(void *be, vigil__audit_cb cb, void *ctx, int64_t *head_seq,
                                  uint8_t head_hash[VIGIL_AUDIT_HASH_LEN], vigil_err *err)
{
    pgc *q = be;
    /* one read transaction: the head and the records are one snapshot */
    vigil_status s = pg_begin_read(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    return pg_end(q, walk_txn(q, cb, ctx, head_seq, head_hash, err), err);
}

vigil_status vigil__pg_audit_head(void *be, int64_t *out_seq,
                                  uint8_t out_hash[VIGIL_AUDIT_HASH_LEN], vigil_err *err)
{
    pgc *q = be;
    int64_t seq = 0;
    uint8_t h[VIGIL_AUDIT_HASH_LEN];
    vigil_status s = pg_begin_read(q, err);
    if (s == VIGIL_OK) {
        s = pg_end(q, head_read(q, &seq, h, err), err);
    }
    if (s == VIGIL_OK) {
        *out_seq = seq;
        memcpy(out_hash, h, VIGIL_AUDIT_HASH_LEN);
    }
    return s;
}

vigil_status vigil__pg_audit_event(void *be, const vigil__audit_ev *ev, vigil_err *err)
{
    pgc *q = be;
    vigil_status s = pg_begin(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    return pg_end(q, pg_audit(q, ev, err), err);
}

static vigil_status audit_read_txn(pgc *q, const vigil_actor *who, int64_t from_seq,
                                   vigil_audit_record *out, size_t max, size_t *n, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_AUDIT_FROM, &st);
    pg_bind_i64(st, 1, from_seq);
    pg_bind_i64(st, 2, (int64_t)max);
    vigil_status s = VIGIL_OK;
    for (;;) {
        bool row = false;
        s = pg_step(q, st, &row, "read audit", err);
        if (s != VIGIL_OK || !row) {
            break;
        }
        read_record(st, &out[(*n)++]);
        if (*n == max) {
            pg_done(st);
            break;
        }
    }
    if (s != VIGIL_OK) {
        return s;
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "audit.read", "audit", from_seq, 0, "%zu record(s) from %lld", *n,
                        (long long)from_seq);
    return pg_audit(q, &ev, err);
}

vigil_status vigil__pg_audit_read(void *be, const vigil_actor *who, int64_t from_seq,
                                  vigil_audit_record *out, size_t max, size_t *out_n,
                                  vigil_err *err)
{
    pgc *q = be;
    size_t n = 0;
    vigil_status s = pg_begin(q, err);
    if (s == VIGIL_OK) {
        s = pg_end(q, audit_read_txn(q, who, from_seq, out, max, &n, err), err);
    }
    if (s == VIGIL_OK) {
        *out_n = n;
    }
    return s;
}

/* ---- secrets ------------------------------------------------------------- */

/* DO NOTHING on the name only: a value the schema refuses is still an error.
 * READ COMMITTED: a racing insert waits for the first one's commit, then
 * does nothing, and the SELECT (a new snapshot) reads the first one's value. */
static const char SQL_SECRET_INSERT[] = "INSERT INTO secret (name, value, created_ms) "
                                        "VALUES (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING";
static const char SQL_SECRET_GET[] = "SELECT value FROM secret WHERE name = ?1";

static vigil_status secret_txn(pgc *q, const char *name, const uint8_t *candidate, size_t len,
                               uint8_t out[VIGIL_STORE_SECRET_MAX], size_t *out_len, vigil_err *err)
{
    pg_stmt *st = NULL;
    PREP(SQL_SECRET_INSERT, &st);
    pg_bind_text(st, 1, name);
    pg_bind_blob(st, 2, candidate, (int)len);
    pg_bind_i64(st, 3, vigil__store_now_ms());
    vigil_status s = pg_run(q, st, "store a secret", err);
    if (s != VIGIL_OK) {
        return s;
    }
    PREP(SQL_SECRET_GET, &st);
    pg_bind_text(st, 1, name);
    bool row = false;
    s = pg_step(q, st, &row, "read a secret", err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (!row) {
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, "secret", "secret '%s' not kept", name);
    }
    int n = pg_col_bytes(st, 0);
    const void *v = pg_col_blob(st, 0);
    if (v == NULL || n <= 0 || n > VIGIL_STORE_SECRET_MAX) {
        pg_done(st);
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, "secret", "secret '%s' unreadable", name);
    }
    memcpy(out, v, (size_t)n);
    *out_len = (size_t)n;
    pg_done(st);
    return VIGIL_OK;
}

vigil_status vigil__pg_secret_ensure(void *be, const char *name, const uint8_t *candidate,
                                     size_t len, uint8_t out[VIGIL_STORE_SECRET_MAX],
                                     size_t *out_len, vigil_err *err)
{
    pgc *q = be;
    vigil_status s = pg_begin(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    return pg_end(q, secret_txn(q, name, candidate, len, out, out_len, err), err);
}
