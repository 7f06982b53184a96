/*
 * sq_core.c: the SQLite backend's connection: open (WAL, synchronous=FULL,
 * foreign keys, busy timeout, defensive mode), schema migrations keyed by
 * PRAGMA user_version, the statement cache, error mapping, transactions, the
 * audit chain's storage primitives (audit.c's vigil__audit_append drives
 * them), and the backend's function table.
 *
 * Does not: know any table but audit/audit_head (the other ops live in
 * sq_obs.c, sq_care.c, sq_read.c, sq_user.c).
 * Invariants: see sqlite_int.h. Spec: SQLite "Write-Ahead Logging",
 * "PRAGMA synchronous" (FULL: the WAL is synced at every commit).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

#define BUSY_TIMEOUT_MS 5000

/* ---- errors -------------------------------------------------------------- */

vigil_status sq_fail(sq *q, int rc, const char *what, vigil_err *err)
{
    vigil_status s;
    switch (rc & 0xff) {
    case SQLITE_NOMEM:
        s = VIGIL_ERR_NOMEM;
        break;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
            s = VIGIL_ERR_CONFLICT;
        } else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
            s = VIGIL_ERR_NOT_FOUND;
        } else if (rc == SQLITE_CONSTRAINT_TRIGGER) {
            s = VIGIL_ERR_DENIED;
        } else {
            s = VIGIL_ERR_ARG;
        }
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
        s = VIGIL_ERR_IO;
        break;
    default:
        s = VIGIL_ERR_INTERNAL;
        break;
    }
    const char *msg = (q != NULL && q->db != NULL) ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc);
    return vigil_err_set(err, s, "sqlite", "%s: %s (sqlite %d)", what, msg, rc);
}

/* ---- statements ---------------------------------------------------------- */

vigil_status sq_prep(sq *q, const char *sql, sqlite3_stmt **out, vigil_err *err)
{
    size_t h = (size_t)(((uintptr_t)sql >> 3) * 2654435761u) & (SQ_CACHE_SLOTS - 1);
    for (size_t probe = 0; probe < SQ_CACHE_SLOTS; probe++) {
        sq_slot *slot = &q->cache[(h + probe) & (SQ_CACHE_SLOTS - 1)];
        if (slot->sql == sql) {
            sq_done(slot->stmt); /* cheap; guards against a statement left mid-step */
            *out = slot->stmt;
            return VIGIL_OK;
        }
        if (slot->sql == NULL) {
            sqlite3_stmt *st = NULL;
            int rc = sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
            if (rc != SQLITE_OK) {
                vigil_status s = sq_fail(q, rc, "prepare", err);
                sqlite3_finalize(st);
                return s;
            }
            slot->sql = sql;
            slot->stmt = st;
            *out = st;
            return VIGIL_OK;
        }
    }
    return vigil_err_set(err, VIGIL_ERR_INTERNAL, "sqlite", "statement cache full");
}

void sq_done(sqlite3_stmt *st)
{
    if (st != NULL) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

vigil_status sq_step(sq *q, sqlite3_stmt *st, bool *row, const char *what, vigil_err *err)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *row = true;
        return VIGIL_OK;
    }
    *row = false;
    if (rc == SQLITE_DONE) {
        sq_done(st);
        return VIGIL_OK;
    }
    /* sqlite3_step (v2 interface) returns the specific code; read the
     * message before reset so it is this statement's */
    vigil_status s = sq_fail(q, sqlite3_extended_errcode(q->db), what, err);
    sq_done(st);
    return s;
}

vigil_status sq_run(sq *q, sqlite3_stmt *st, const char *what, vigil_err *err)
{
    bool row = false;
    vigil_status s = sq_step(q, st, &row, what, err);
    if (s == VIGIL_OK && row) {
        sq_done(st);
    }
    return s;
}

vigil_status sq_exec(sq *q, const char *sql, vigil_err *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(q->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        vigil_status s = sq_fail(q, sqlite3_extended_errcode(q->db), "exec", err);
        if (msg != NULL && err != NULL) {
            snprintf(err->msg, sizeof err->msg, "exec: %s (sqlite %d)", msg, rc);
        }
        sqlite3_free(msg);
        return s;
    }
    return VIGIL_OK;
}

/* ---- transactions -------------------------------------------------------- */

static const char SQL_BEGIN[] = "BEGIN IMMEDIATE";
static const char SQL_BEGIN_READ[] = "BEGIN DEFERRED";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";
static const char SQL_SYNC_NORMAL[] = "PRAGMA synchronous = NORMAL";
static const char SQL_SYNC_FULL[] = "PRAGMA synchronous = FULL";

static void rollback(sq *q);

static vigil_status run_cached(sq *q, const char *sql, const char *what, vigil_err *err)
{
    sqlite3_stmt *st = NULL;
    vigil_status ps = sq_prep(q, sql, &st, err);
    if (ps != VIGIL_OK) {
        return ps;
    }
    return sq_run(q, st, what, err);
}

static const char SQL_OP_SAVEPOINT[] = "SAVEPOINT op";
static const char SQL_OP_RELEASE[] = "RELEASE op";
static const char SQL_OP_ROLLBACK_TO[] = "ROLLBACK TO op";

/* A call inside a batch: a savepoint, once the batch's transaction is known
 * to be still open (an I/O error can end it; the calls must then fail, not
 * run in autocommit mode one by one). */
static vigil_status op_begin(sq *q, vigil_err *err)
{
    if (sqlite3_get_autocommit(q->db)) {
        return vigil_err_set(err, VIGIL_ERR_IO, "store",
                             "the batch's transaction was rolled back by an earlier error");
    }
    q->op_saved = q->head;
    return run_cached(q, SQL_OP_SAVEPOINT, "savepoint", err);
}

/* Back to synchronous=FULL after a transaction committed without an fsync
 * (SQLite takes the setting only outside a transaction). If that fails the
 * store must not go on committing without fsyncs: the call fails (s kept if
 * it already had). */
static vigil_status sync_full(sq *q, vigil_status s, vigil_err *err)
{
    vigil_err e2 = {0};
    vigil_status fs = run_cached(q, SQL_SYNC_FULL, "synchronous", s == VIGIL_OK ? err : &e2);
    return s != VIGIL_OK ? s : fs;
}

vigil_status sq_begin(sq *q, vigil_err *err)
{
    if (q->readonly) {
        q->no_sync = false;
        return vigil_err_set(err, VIGIL_ERR_DENIED, "store", "store opened read-only");
    }
    if (q->batch) {
        q->no_sync = false; /* the batch's commit decides */
        return op_begin(q, err);
    }
    vigil__audit_chain_reset(&q->head);
    if (q->no_sync) {
        vigil_status ns = run_cached(q, SQL_SYNC_NORMAL, "synchronous", err);
        if (ns != VIGIL_OK) {
            q->no_sync = false;
            return sync_full(q, ns, err);
        }
    }
    vigil_status s = run_cached(q, SQL_BEGIN, "begin", err);
    if (s == VIGIL_OK) {
        s = sq_patcache_sync(q, err); /* the write lock is held: nobody else commits now */
        if (s != VIGIL_OK) {
            rollback(q);
        }
    }
    if (s != VIGIL_OK && q->no_sync) {
        q->no_sync = false;
        s = sync_full(q, s, err);
    }
    return s;
}

vigil_status sq_begin_read(sq *q, vigil_err *err)
{
    if (q->batch) {
        return op_begin(q, err);
    }
    return run_cached(q, SQL_BEGIN_READ, "begin", err);
}

static void rollback(sq *q)
{
    if (!sqlite3_get_autocommit(q->db)) {
        /* cannot fail in a way that leaves a transaction open that matters:
         * if it does, the next BEGIN reports it */
        vigil_err ignored;
        (void)run_cached(q, SQL_ROLLBACK, "rollback", &ignored);
        if (!sqlite3_get_autocommit(q->db)) {
            sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
        }
    }
}

static vigil_status write_head(sq *q, vigil_err *err);

/* The end of a call inside a batch: release its savepoint, or roll it back
 * (with the audit head) when it failed. */
static vigil_status op_end(sq *q, vigil_status s, vigil_err *err)
{
    if (sqlite3_get_autocommit(q->db)) {
        return s != VIGIL_OK ? s
                             : vigil_err_set(err, VIGIL_ERR_IO, "store",
                                             "the batch's transaction was rolled back");
    }
    if (s == VIGIL_OK) {
        return run_cached(q, SQL_OP_RELEASE, "release savepoint", err);
    }
    vigil_err ignored;
    sq_patcache_clear(q);
    if (run_cached(q, SQL_OP_ROLLBACK_TO, "rollback to savepoint", &ignored) == VIGIL_OK &&
        run_cached(q, SQL_OP_RELEASE, "release savepoint", &ignored) == VIGIL_OK) {
        q->head = q->op_saved;
    }
    return s;
}

vigil_status sq_end(sq *q, vigil_status s, vigil_err *err)
{
    if (q->batch) {
        return op_end(q, s, err);
    }
    if (s == VIGIL_OK) {
        s = write_head(q, err);
    }
    bool no_sync = q->no_sync;
    q->no_sync = false;
    if (s == VIGIL_OK) {
        s = run_cached(q, SQL_COMMIT, "commit", err);
        if (s == VIGIL_OK) {
            q->unsynced = no_sync; /* a synchronous commit syncs the whole WAL */
        }
    }
    if (s != VIGIL_OK) {
        rollback(q);
    }
    vigil__audit_chain_reset(&q->head);
    return no_sync ? sync_full(q, s, err) : s;
}

/* REQ STORE-READ-AUDIT-SYNC: the WAL holds every commit (SQLite writes each
 * transaction's frames before COMMIT returns), so one fsync of it makes the
 * commits made without one durable. */
vigil_status vigil__sq_sync(void *be, vigil_err *err)
{
    sq *q = be;
    if (!q->unsynced) {
        return VIGIL_OK;
    }
    sqlite3_file *wal = NULL;
    int rc = sqlite3_file_control(q->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
    if (rc == SQLITE_OK && wal != NULL && wal->pMethods != NULL) {
        rc = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
    }
    if (rc != SQLITE_OK) {
        return sq_fail(q, rc, "sync", err);
    }
    q->unsynced = false;
    return VIGIL_OK;
}

vigil_status vigil__sq_batch_begin(void *be, vigil_err *err)
{
    sq *q = be;
    if (q->batch) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "store", "a batch is already open");
    }
    vigil_status s = sq_begin(q, err);
    if (s == VIGIL_OK) {
        q->batch = true;
    }
    return s;
}

vigil_status vigil__sq_batch_commit(void *be, vigil_err *err)
{
    sq *q = be;
    if (!q->batch) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "store", "no batch is open");
    }
    q->batch = false;
    if (sqlite3_get_autocommit(q->db)) {
        vigil__audit_chain_reset(&q->head);
        return vigil_err_set(err, VIGIL_ERR_IO, "store",
                             "the batch's transaction was rolled back by an error");
    }
    /* REQ STORE-DURABLE-ACK: returns only after COMMIT (synchronous=FULL) */
    return sq_end(q, VIGIL_OK, err);
}

void vigil__sq_batch_rollback(void *be)
{
    sq *q = be;
    if (q->batch) {
        q->batch = false;
        (void)sq_end(q, VIGIL_ERR_ARG, NULL);
    }
}

static const char SQL_SAVEPOINT[] = "SAVEPOINT item";
static const char SQL_RELEASE[] = "RELEASE item";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO item";

vigil_status sq_savepoint(sq *q, vigil__audit_chain *saved, vigil_err *err)
{
    *saved = q->head;
    return run_cached(q, SQL_SAVEPOINT, "savepoint", err);
}

vigil_status sq_release(sq *q, vigil_err *err)
{
    return run_cached(q, SQL_RELEASE, "release savepoint", err);
}

vigil_status sq_rollback_to(sq *q, const vigil__audit_chain *saved, vigil_err *err)
{
    sq_patcache_clear(q);
    vigil_status s = run_cached(q, SQL_ROLLBACK_TO, "rollback to savepoint", err);
    if (s == VIGIL_OK) {
        s = run_cached(q, SQL_RELEASE, "release savepoint", err);
    }
    if (s == VIGIL_OK) {
        q->head = *saved;
    }
    return s;
}

/* ---- binding and columns ------------------------------------------------- */

void sq_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    sqlite3_bind_text(st, i, s != NULL ? s : "", -1, SQLITE_STATIC);
}

void sq_bind_text_opt(sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL || s[0] == '\0') {
        sqlite3_bind_null(st, i);
    } else {
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    }
}

void sq_bind_i64(sqlite3_stmt *st, int i, int64_t v)
{
    sqlite3_bind_int64(st, i, v);
}

void sq_bind_i64_opt(sqlite3_stmt *st, int i, int64_t v)
{
    if (v == 0) {
        sqlite3_bind_null(st, i);
    } else {
        sqlite3_bind_int64(st, i, v);
    }
}

void sq_bind_real_opt(sqlite3_stmt *st, int i, double v)
{
    if (isnan(v)) {
        sqlite3_bind_null(st, i);
    } else {
        sqlite3_bind_double(st, i, v);
    }
}

bool sq_col_text(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    if (t == NULL) {
        dst[0] = '\0';
        return true;
    }
    bool fits = n < cap;
    if (!fits) {
        n = cap - 1;
    }
    memcpy(dst, t, n);
    dst[n] = '\0';
    return fits;
}

int64_t sq_col_i64(sqlite3_stmt *st, int i)
{
    return (int64_t)sqlite3_column_int64(st, i);
}

vigil_admin_sex sq_col_sex(sqlite3_stmt *st, int i)
{
    char t[16];
    vigil_admin_sex sx = VIGIL_ADMIN_SEX_NONE;
    if (!sq_col_text(st, i, t, sizeof t) || vigil_admin_sex_parse(t, &sx, NULL) != VIGIL_OK) {
        return VIGIL_ADMIN_SEX_NONE;
    }
    return sx;
}

double sq_col_real(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL) {
        return NAN;
    }
    return sqlite3_column_double(st, i);
}

int sq_col_enum(sqlite3_stmt *st, int i, const char *const *names, int n)
{
    return vigil__store_lookup(names, n, (const char *)sqlite3_column_text(st, i));
}

/* ---- shared checks ------------------------------------------------------- */

vigil_status sq_require_row(sq *q, const char *sql_exists, int64_t id, const char *what,
                            vigil_err *err)
{
    sqlite3_stmt *st = NULL;
    vigil_status ps = sq_prep(q, sql_exists, &st, err);
    if (ps != VIGIL_OK) {
        return ps;
    }
    sq_bind_i64(st, 1, id);
    bool row = false;
    vigil_status s = sq_step(q, st, &row, what, err);
    if (s != VIGIL_OK) {
        return s;
    }
    sq_done(st);
    if (!row) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, what, "no %s with id %lld", what,
                             (long long)id);
    }
    return VIGIL_OK;
}

vigil_status sq_open_row(sq *q, const char *sql, int64_t id, const char *field, const char *noun,
                         const char *closed_words, int64_t *patient_id, vigil_err *err)
{
    sqlite3_stmt *st = NULL;
    vigil_status s = sq_prep(q, sql, &st, err);
    if (s != VIGIL_OK) {
        return s;
    }
    sq_bind_i64(st, 1, id);
    bool row = false;
    char what[64];
    snprintf(what, sizeof what, "read %s", noun);
    s = sq_step(q, st, &row, what, err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (!row) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, field, "no %s %lld", noun, (long long)id);
    }
    *patient_id = sq_col_i64(st, 0);
    bool closed = sqlite3_column_int(st, 1) != 0;
    sq_done(st);
    if (closed) {
        return vigil_err_set(err, VIGIL_ERR_CONFLICT, field, "%s %lld %s", noun, (long long)id,
                             closed_words);
    }
    return VIGIL_OK;
}

/* ---- audit: the chain's storage primitives (audit.c drives them) ---------- */

static const char SQL_HEAD[] = "SELECT seq, hash FROM audit_head WHERE id = 1";
static const char SQL_AUDIT_INSERT[] =
    "INSERT INTO audit (seq, t_ms, actor, action, entity, entity_id, patient_id, reason, "
    "detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
static const char SQL_HEAD_SET[] = "UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1";

/* The head's lock is the database's write lock: every write transaction
 * takes it when it begins (BEGIN IMMEDIATE, sq_begin), before it reads
 * anything, and holds it to its end, so no other connection or process can
 * append meanwhile. Refused outside a write transaction, where the head could
 * move under the read. */
static vigil_status head_lock(void *be, int64_t *seq, uint8_t hash[VIGIL_AUDIT_HASH_LEN],
                              vigil_err *err)
{
    sq *q = be;
    if (sqlite3_txn_state(q->db, "main") != SQLITE_TXN_WRITE) {
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, "audit",
                             "the audit head is locked only by a write transaction");
    }
    sqlite3_stmt *st = NULL;
    vigil_status ps = sq_prep(q, SQL_HEAD, &st, err);
    if (ps != VIGIL_OK) {
        return ps;
    }
    bool row = false;
    vigil_status s = sq_step(q, st, &row, "audit head", err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (!row || sqlite3_column_bytes(st, 1) != VIGIL_AUDIT_HASH_LEN) {
        sq_done(st);
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, "audit",
                             "the audit head is missing or damaged");
    }
    *seq = sq_col_i64(st, 0);
    memcpy(hash, sqlite3_column_blob(st, 1), VIGIL_AUDIT_HASH_LEN);
    sq_done(st);
    return VIGIL_OK;
}

static vigil_status record_insert(void *be, const vigil_audit_record *r, vigil_err *err)
{
    sq *q = be;
    sqlite3_stmt *st = NULL;
    vigil_status s = sq_prep(q, SQL_AUDIT_INSERT, &st, err);
    if (s != VIGIL_OK) {
        return s;
    }
    sq_bind_i64(st, 1, r->seq);
    sq_bind_i64(st, 2, r->t_ms);
    sq_bind_text(st, 3, r->actor);
    sq_bind_text(st, 4, r->action);
    sq_bind_text(st, 5, r->entity);
    sq_bind_i64(st, 6, r->entity_id);
    sq_bind_i64(st, 7, r->patient_id);
    sq_bind_text(st, 8, r->reason);
    sq_bind_text(st, 9, r->detail);
    sqlite3_bind_blob(st, 10, r->prev_hash, VIGIL_AUDIT_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(st, 11, r->hash, VIGIL_AUDIT_HASH_LEN, SQLITE_STATIC);
    return sq_run(q, st, "audit append", err);
}

static vigil_status head_set(void *be, int64_t seq, const uint8_t hash[VIGIL_AUDIT_HASH_LEN],
                             vigil_err *err)
{
    sq *q = be;
    sqlite3_stmt *st = NULL;
    vigil_status s = sq_prep(q, SQL_HEAD_SET, &st, err);
    if (s != VIGIL_OK) {
        return s;
    }
    sq_bind_i64(st, 1, seq);
    sqlite3_bind_blob(st, 2, hash, VIGIL_AUDIT_HASH_LEN, SQLITE_STATIC);
    return sq_run(q, st, "audit head", err);
}

static const vigil__audit_io sq_audit_io = {
    .head_lock = head_lock,
    .insert = record_insert,
    .head_set = head_set,
};

static vigil_status write_head(sq *q, vigil_err *err)
{
    return vigil__audit_flush(&q->head, &sq_audit_io, q, err);
}

vigil_status sq_audit(sq *q, const vigil__audit_ev *ev, vigil_err *err)
{
    return vigil__audit_append(&q->head, &sq_audit_io, q, ev, err);
}

/* ---- migrations ---------------------------------------------------------- */

static vigil_status pragma_int(sq *q, const char *sql, int64_t *out, vigil_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return sq_fail(q, rc, sql, err);
    }
    rc = sqlite3_step(st);
    vigil_status s = VIGIL_OK;
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
    } else {
        s = sq_fail(q, sqlite3_extended_errcode(q->db), sql, err);
    }
    sqlite3_finalize(st);
    return s;
}

/* A database this code may migrate: ours (application id), or empty. */
static vigil_status check_ours(sq *q, int64_t version, vigil_err *err)
{
    int64_t app = 0, n_objects = 0;
    vigil_status s = pragma_int(q, "PRAGMA application_id", &app, err);
    if (s == VIGIL_OK && app == 0 && version == 0) {
        s = pragma_int(q, "SELECT count(*) FROM sqlite_schema", &n_objects, err);
    }
    if (s != VIGIL_OK) {
        return s;
    }
    if ((app != 0 && app != SQ_APPLICATION_ID) || (app == 0 && (version != 0 || n_objects != 0))) {
        return vigil_err_set(err, VIGIL_ERR_MISMATCH, "store",
                             "this SQLite file is not a vigil store (application id %lld, "
                             "version %lld)",
                             (long long)app, (long long)version);
    }
    return VIGIL_OK;
}

/* Every foreign key still holds (PRAGMA foreign_key_check gives no row). */
static vigil_status foreign_keys_hold(sq *q, vigil_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->db, "PRAGMA foreign_key_check", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return sq_fail(q, rc, "foreign key check", err);
    }
    rc = sqlite3_step(st);
    vigil_status s = VIGIL_OK;
    if (rc == SQLITE_ROW) {
        s = vigil_err_set(
            err, VIGIL_ERR_INTERNAL, "store", "a row of table %s no longer has its %s row",
            (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 2));
    } else if (rc != SQLITE_DONE) {
        s = sq_fail(q, sqlite3_extended_errcode(q->db), "foreign key check", err);
    }
    sqlite3_finalize(st);
    return s;
}

/* One migration in one transaction. Foreign keys are off while it runs (a
 * migration may rebuild a table: SQLite's twelve-step procedure) and are
 * checked before the commit; they are on again afterwards. */
static vigil_status migrate_step(sq *q, const char *sql, int to, vigil_err *err)
{
    vigil_status s = sq_exec(q, "PRAGMA foreign_keys = OFF", err);
    if (s == VIGIL_OK) {
        s = sq_exec(q, "BEGIN IMMEDIATE", err);
    }
    if (s != VIGIL_OK) {
        sq_exec(q, "PRAGMA foreign_keys = ON", NULL);
        return s;
    }
    int64_t v = 0;
    s = pragma_int(q, "PRAGMA user_version", &v, err);
    bool done = s == VIGIL_OK && v >= to; /* another connection got here first */
    if (s == VIGIL_OK && !done) {
        s = sq_exec(q, sql, err);
    }
    if (s == VIGIL_OK && !done) {
        s = foreign_keys_hold(q, err);
    }
    if (s == VIGIL_OK && !done) {
        char set[64];
        snprintf(set, sizeof set, "PRAGMA user_version = %d", to);
        s = sq_exec(q, set, err);
    }
    if (s == VIGIL_OK) {
        s = sq_exec(q, "COMMIT", err);
    }
    if (s != VIGIL_OK && !sqlite3_get_autocommit(q->db)) {
        sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    }
    vigil_status fk = sq_exec(q, "PRAGMA foreign_keys = ON", s == VIGIL_OK ? err : NULL);
    s = s != VIGIL_OK ? s : fk;
    if (s != VIGIL_OK && err != NULL) {
        char m[VIGIL_ERR_MSG_MAX];
        snprintf(m, sizeof m, "%s", err->msg);
        snprintf(err->msg, sizeof err->msg, "schema migration to version %d failed: %.200s", to, m);
    }
    return s;
}

vigil_status vigil__sqlite_migrate(sqlite3 *db, const char *const *steps, int n_steps,
                                   vigil_err *err)
{
    sq tmp = {.db = db};
    int64_t v = 0;
    vigil_status s = pragma_int(&tmp, "PRAGMA user_version", &v, err);
    if (s == VIGIL_OK) {
        s = check_ours(&tmp, v, err);
    }
    if (s != VIGIL_OK) {
        return s;
    }
    if (v > n_steps) {
        return vigil_err_set(err, VIGIL_ERR_MISMATCH, "store",
                             "the database is at schema version %lld, newer than this vigil "
                             "(version %d): refusing to open it",
                             (long long)v, n_steps);
    }
    for (int i = (int)v; i < n_steps; i++) {
        s = migrate_step(&tmp, steps[i], i + 1, err);
        if (s != VIGIL_OK) {
            return s;
        }
    }
    return VIGIL_OK;
}

/* ---- open / close -------------------------------------------------------- */

static void sq_close_be(void *be)
{
    sq *q = be;
    if (q == NULL) {
        return;
    }
    for (size_t i = 0; i < SQ_CACHE_SLOTS; i++) {
        sqlite3_finalize(q->cache[i].stmt);
    }
    sqlite3_close(q->db);
    sq_lease_close(q);
    sq_patcache_free(q);
    free(q);
}

static vigil_status configure(sq *q, vigil_err *err)
{
    sqlite3_extended_result_codes(q->db, 1);
    sq_patcache_attach(q);
    sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);
    /* refuse schema-corrupting writes (writable_schema, etc.) and untrusted
     * functions in schema; see SQLite "Defense Against The Dark Arts" */
    sqlite3_db_config(q->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
    sqlite3_db_config(q->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
    /* statement journals (savepoints, multi-row statements inside a
     * transaction) in memory, not in a temporary file per transaction:
     * measured 2.4x less CPU per batched put (docs/store.md) */
    vigil_status s = sq_exec(q, "PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY", err);
    if (s != VIGIL_OK) {
        return s;
    }
    sqlite3_stmt *st = NULL;
    const char *jm = q->readonly ? "PRAGMA journal_mode" : "PRAGMA journal_mode = WAL";
    int rc = sqlite3_prepare_v2(q->db, jm, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
    }
    bool wal =
        rc == SQLITE_ROW && sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
    if (rc != SQLITE_ROW) {
        s = sq_fail(q, sqlite3_extended_errcode(q->db), "journal_mode", err);
    } else if (!wal) {
        s = vigil_err_set(err, VIGIL_ERR_IO, "store",
                          "could not put the database in WAL mode (journal mode '%s')",
                          (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    if (s != VIGIL_OK) {
        return s;
    }
    /* FULL: each commit syncs the WAL, so a returned commit survives power
     * loss, not only a crash of this process */
    return sq_exec(q, "PRAGMA synchronous = FULL", err);
}

static vigil_status sq_open_be(const char *target, unsigned flags, void **out_be, vigil_err *err)
{
    sq *q = calloc(1, sizeof *q);
    if (q == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory opening store");
    }
    q->readonly = (flags & VIGIL_STORE_READONLY) != 0;
    int oflags = SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX |
                 (q->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    int rc = sqlite3_open_v2(target, &q->db, oflags, NULL);
    vigil_status s = VIGIL_OK;
    if (rc != SQLITE_OK) {
        s = q->db != NULL ? sq_fail(q, sqlite3_extended_errcode(q->db), "open", err)
                          : vigil_err_set(err, VIGIL_ERR_NOMEM, "sqlite", "open: out of memory");
        if (err != NULL) {
            char m[VIGIL_ERR_MSG_MAX];
            snprintf(m, sizeof m, "%s", err->msg);
            snprintf(err->msg, sizeof err->msg, "%.80s: %.160s", target, m);
        }
    }
    if (s == VIGIL_OK) {
        s = configure(q, err);
    }
    if (s == VIGIL_OK) {
        s = sq_obs_sql_build(&q->obs_sql, err); /* once: never per set */
    }
    if (s == VIGIL_OK && !q->readonly) {
        s = vigil__sqlite_migrate(q->db, vigil__sqlite_migrations, vigil__sqlite_n_migrations, err);
    } else if (s == VIGIL_OK) {
        int64_t v = 0;
        s = pragma_int(q, "PRAGMA user_version", &v, err);
        if (s == VIGIL_OK) {
            s = check_ours(q, v, err);
        }
        if (s == VIGIL_OK && v != vigil__sqlite_n_migrations) {
            s = vigil_err_set(err, VIGIL_ERR_MISMATCH, "store",
                              "read-only open needs schema version %d; the file is at %lld",
                              vigil__sqlite_n_migrations, (long long)v);
        }
    }
    if (s != VIGIL_OK) {
        sq_close_be(q);
        return s;
    }
    *out_be = q;
    return VIGIL_OK;
}

/* ---- test support -------------------------------------------------------- */

vigil_status vigil__sq_count_rows(void *be, const char *table, const char *where, int64_t *out_n,
                                  vigil_err *err)
{
    sq *q = be;
    char sql[1024];
    int w = snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"%s%s", table,
                     where != NULL ? " WHERE " : "", where != NULL ? where : "");
    if (w < 0 || (size_t)w >= sizeof sql) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "where", "condition too long");
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        /* the condition (or table) the engine refused: the caller's SQL */
        vigil_status s = vigil_err_set(err, VIGIL_ERR_ARG, "where", "count rows: %s (sqlite %d)",
                                       sqlite3_errmsg(q->db), rc);
        sqlite3_finalize(st);
        return s;
    }
    rc = sqlite3_step(st);
    vigil_status s = VIGIL_OK;
    if (rc == SQLITE_ROW) {
        *out_n = sqlite3_column_int64(st, 0);
    } else {
        s = sq_fail(q, sqlite3_extended_errcode(q->db), "count rows", err);
    }
    sqlite3_finalize(st);
    return s;
}

sqlite3 *vigil__sqlite_db(vigil_store *st)
{
    if (st == NULL || st->ops != &vigil__sqlite_ops) {
        return NULL;
    }
    return ((sq *)st->be)->db;
}

const vigil__store_ops vigil__sqlite_ops = {
    .name = "sqlite",
    .open = sq_open_be,
    .close = sq_close_be,
    .patient_ensure = vigil__sq_patient_ensure,
    .patient_get = vigil__sq_patient_get,
    .patient_find = vigil__sq_patient_find,
    .admit = vigil__sq_admit,
    .move = vigil__sq_move,
    .discharge = vigil__sq_discharge,
    .put_obs_batch = vigil__sq_put_obs_batch,
    .batch_begin = vigil__sq_batch_begin,
    .batch_commit = vigil__sq_batch_commit,
    .batch_rollback = vigil__sq_batch_rollback,
    .sync = vigil__sq_sync,
    .put_score = vigil__sq_put_score,
    .put_ai_batch = vigil__sq_put_ai_batch,
    .obs_recent = vigil__sq_obs_recent,
    .obs_range = vigil__sq_obs_range,
    .episode_open = vigil__sq_episode_open,
    .episode_close = vigil__sq_episode_close,
    .alert_repeat = vigil__sq_alert_repeat,
    .shift_add = vigil__sq_shift_add,
    .shift_end = vigil__sq_shift_end,
    .shifts_get = vigil__sq_shifts_get,
    .post_holders = vigil__sq_post_holders,
    .rota_state = vigil__sq_rota_state,
    .pages_due = vigil__sq_pages_due,
    .page_attempt = vigil__sq_page_attempt,
    .pages_for = vigil__sq_pages_for,
    .page_read = vigil__sq_page_read,
    .pages_of_alert = vigil__sq_pages_of_alert,
    .page_failed = vigil__sq_page_failed,
    .summary_last = vigil__sq_summary_last,
    .summaries_queue = vigil__sq_summaries_queue,
    .summaries_due = vigil__sq_summaries_due,
    .summary_attempt = vigil__sq_summary_attempt,
    .ward_summaries = vigil__sq_ward_summaries,
    .alert_ack = vigil__sq_alert_ack,
    .episodes_open = vigil__sq_episodes_open,
    .patient_history = vigil__sq_patient_history,
    .put_shadow = vigil__sq_put_shadow,
    .outcome_record = vigil__sq_outcome_record,
    .outcomes_of = vigil__sq_outcomes_of,
    .staff_concern = vigil__sq_staff_concern,
    .marthas_call_add = vigil__sq_marthas_call_add,
    .marthas_review_add = vigil__sq_marthas_review_add,
    .marthas_walk = vigil__sq_marthas_walk,
    .daily_answer = vigil__sq_daily_answer,
    .ai_optout = vigil__sq_ai_optout,
    .ai_optout_withdraw = vigil__sq_ai_optout_withdraw,
    .scale2_set = vigil__sq_scale2_set,
    .scale2_end = vigil__sq_scale2_end,
    .plan_add = vigil__sq_plan_add,
    .plan_revoke = vigil__sq_plan_revoke,
    .patient_state_get = vigil__sq_patient_state_get,
    .read_txn = vigil__sq_read_txn,
    .ward_beds = vigil__sq_ward_beds,
    .patient_place = vigil__sq_patient_place,
    .score_pick = vigil__sq_score_pick,
    .state_at = vigil__sq_state_at,
    .audit_append = vigil__sq_audit_append,
    .data_version = vigil__sq_data_version,
    .user_add = vigil__sq_user_add,
    .user_get = vigil__sq_user_get,
    .user_list = vigil__sq_user_list,
    .user_set_hash = vigil__sq_user_set_hash,
    .user_disable = vigil__sq_user_disable,
    .user_enable = vigil__sq_user_enable,
    .row_digest = vigil__sq_row_digest,
    .audit_event = vigil__sq_audit_event,
    .audit_walk = vigil__sq_audit_walk,
    .audit_head = vigil__sq_audit_head,
    .audit_read = vigil__sq_audit_read,
    .set_rows = vigil__sq_set_rows,
    .patient_ward = vigil__sq_patient_ward,
    .secret_ensure = vigil__sq_secret_ensure,
    .session_add = vigil__sq_session_add,
    .session_get = vigil__sq_session_get,
    .session_touch = vigil__sq_session_touch,
    .session_end = vigil__sq_session_end,
    .schema_columns = vigil__sq_schema_columns,
    .rows_walk = vigil__sq_rows_walk,
    .rows_put = vigil__sq_rows_put,
    .ids_advance = vigil__sq_ids_advance,
    .lease_try = vigil__sq_lease_try,
    .changes = vigil__sq_changes,
    .count_rows = vigil__sq_count_rows,
};
