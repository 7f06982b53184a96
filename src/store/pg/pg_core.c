/*
 * pg_core.c: the PostgreSQL backend's connection: open (libpq, a
 * postgresql:// or postgres:// URI, synchronous_commit = on), schema
 * migrations keyed by the vigil_schema_version table, prepared statements,
 * error mapping, transactions and the audit append, and the backend's
 * function table.
 *
 * Does not: know any table but audit/audit_head and vigil_schema_version
 * (the ops live in pg_obs.c, pg_care.c, pg_user.c, ...).
 * Invariants: see pg_int.h. Spec: PostgreSQL 15 manual, "libpq - C
 * Library" (PQprepare, PQexecPrepared), "WAL Configuration"
 * (synchronous_commit = on: COMMIT returns after the commit record is
 * flushed), "Explicit Locking" (row locks: SELECT ... FOR UPDATE).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg_int.h"

/* Oids of the built-in types parameters are declared as (pg_type.dat). */
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_TEXT 25
#define OID_FLOAT8 701

/* How long a commit whose answer was lost with the connection waits for the
 * server to answer again, to learn whether it committed (commit_outcome):
 * long enough for a dropped connection or a proxy, short enough not to hold
 * the caller (the ingest thread) through a restart, which takes seconds and
 * during which every sender would wait for its ACK (CI's region test under
 * AddressSanitizer: 15 s here left replays giving up). */
#define PG_COMMIT_RESOLVE_MS 1000

/* The advisory lock that serialises migrations of one database ("VIGL"). */
#define PG_MIGRATE_LOCK "1447642956"

/* ---- errors -------------------------------------------------------------- */

static vigil_status status_of_sqlstate(const char *state)
{
    if (state == NULL) {
        return VIGIL_ERR_IO; /* no server answer: the connection failed */
    }
    if (strcmp(state, "23505") == 0) {
        return VIGIL_ERR_CONFLICT; /* unique_violation */
    }
    if (strcmp(state, "23503") == 0) {
        return VIGIL_ERR_NOT_FOUND; /* foreign_key_violation */
    }
    if (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0) {
        return VIGIL_ERR_ARG; /* check, not null, data exceptions */
    }
    if (strcmp(state, "P0001") == 0) {
        return VIGIL_ERR_DENIED; /* raised by an append-only trigger */
    }
    if (strcmp(state, "53200") == 0) {
        return VIGIL_ERR_NOMEM; /* out_of_memory */
    }
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "40", 2) == 0 ||
        strncmp(state, "53", 2) == 0 || strncmp(state, "57", 2) == 0 ||
        strncmp(state, "58", 2) == 0 || strcmp(state, "25P02") == 0) {
        return VIGIL_ERR_IO; /* connection, rollback, resources, shutdown, system */
    }
    return VIGIL_ERR_INTERNAL;
}

vigil_status pg_fail(pgc *q, const PGresult *res, const char *what, vigil_err *err)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (msg == NULL) {
        msg = q != NULL && q->conn != NULL ? PQerrorMessage(q->conn) : "no connection";
    }
    if (q != NULL && q->in_tx && q->batch) {
        q->tx_failed = true; /* until the call's savepoint is rolled back */
    }
    char m[200];
    snprintf(m, sizeof m, "%s", msg);
    size_t n = strlen(m);
    while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' ')) {
        m[--n] = '\0';
    }
    return vigil_err_set(err, status_of_sqlstate(state), "postgresql", "%s: %s (SQLSTATE %s)",
                         what, m, state != NULL ? state : "none");
}

/* ---- statements ---------------------------------------------------------- */

static vigil_status audit_send(pgc *q, bool with_head, const char *notify, bool commit,
                               vigil_err *err);
static vigil_status reset_connection(pgc *q, vigil_err *err);

/* The SQL with each ?N written $N, and the highest N. */
static vigil_status convert_sql(const char *sql, char **out, int *n_params, vigil_err *err)
{
    size_t len = strlen(sql);
    char *t = malloc(len + 1);
    if (t == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory preparing a statement");
    }
    int max = 0;
    size_t j = 0;
    bool quoted = false;
    for (size_t i = 0; i < len; i++) {
        char c = sql[i];
        if (c == '\'') {
            quoted = !quoted;
        }
        if (c == '?' && !quoted && i + 1 < len && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
            int v = 0;
            for (size_t k = i + 1; k < len && sql[k] >= '0' && sql[k] <= '9'; k++) {
                v = v * 10 + (sql[k] - '0');
            }
            max = v > max ? v : max;
            c = '$';
        }
        t[j++] = c;
    }
    t[j] = '\0';
    if (max > PG_MAX_PARAMS) {
        free(t);
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, "postgresql",
                             "a statement has %d parameters (at most %d)", max, PG_MAX_PARAMS);
    }
    *out = t;
    *n_params = max;
    return VIGIL_OK;
}

static void clear_binds(pg_stmt *st)
{
    for (int i = 0; i < PG_MAX_PARAMS; i++) {
        st->val[i] = NULL;
        st->len[i] = 0;
        st->fmt[i] = 0;
    }
}

vigil_status pg_prep(pgc *q, const char *sql, pg_stmt **out, vigil_err *err)
{
    size_t h = (size_t)(((uintptr_t)sql >> 3) * 2654435761u) & (PG_CACHE_SLOTS - 1);
    for (size_t probe = 0; probe < PG_CACHE_SLOTS; probe++) {
        pg_stmt **slot = &q->cache[(h + probe) & (PG_CACHE_SLOTS - 1)];
        if (*slot != NULL && (*slot)->sql == sql) {
            pg_done(*slot);
            *out = *slot;
            return VIGIL_OK;
        }
        if (*slot == NULL) {
            pg_stmt *st = calloc(1, sizeof *st);
            if (st == NULL) {
                return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
            }
            char *conv = NULL;
            vigil_status s = convert_sql(sql, &conv, &st->n_params, err);
            if (s != VIGIL_OK) {
                free(st);
                return s;
            }
            free(conv); /* converted again when prepared (pg_step) */
            st->q = q;
            st->sql = sql;
            st->row = -1;
            snprintf(st->name, sizeof st->name, "v%d", q->n_prepared++);
            *slot = st;
            *out = st;
            return VIGIL_OK;
        }
    }
    return vigil_err_set(err, VIGIL_ERR_INTERNAL, "postgresql", "statement cache full");
}

void pg_done(pg_stmt *st)
{
    if (st == NULL) {
        return;
    }
    PQclear(st->res);
    st->res = NULL;
    st->row = -1;
    st->ran = false;
    clear_binds(st);
}

/* Prepare st on the server with the types of its first binding (a NULL
 * first binding leaves the type to the server). */
static vigil_status prepare(pgc *q, pg_stmt *st, vigil_err *err)
{
    char *conv = NULL;
    int n = 0;
    vigil_status s = pg_defer_flush(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    s = convert_sql(st->sql, &conv, &n, err);
    if (s != VIGIL_OK) {
        return s;
    }
    PGresult *r = PQprepare(q->conn, st->name, conv, n, st->type);
    free(conv);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        s = pg_fail(q, r, "prepare", err);
        PQclear(r);
        return s;
    }
    PQclear(r);
    st->prepared = true;
    return VIGIL_OK;
}

static void decode_blobs(pg_stmt *st)
{
    int nf = PQnfields(st->res);
    for (int c = 0; c < PG_BLOB_COLS && c < nf; c++) {
        st->blob_len[c] = 0;
        if (PQftype(st->res, c) != OID_BYTEA || PQgetisnull(st->res, st->row, c)) {
            continue;
        }
        size_t n = 0;
        unsigned char *b =
            PQunescapeBytea((const unsigned char *)PQgetvalue(st->res, st->row, c), &n);
        if (b != NULL) {
            if (n > sizeof st->blob[c]) {
                n = sizeof st->blob[c];
            }
            memcpy(st->blob[c], b, n);
            st->blob_len[c] = n;
            PQfreemem(b);
        }
    }
}

/* The rows a statement changed, and what the change feed will announce. */
static void note_changes(pgc *q, const char *sql, const PGresult *r)
{
    const char *ch = PQcmdTuples((PGresult *)r);
    q->changes = ch != NULL && ch[0] != '\0' ? strtoll(ch, NULL, 10) : 0;
    if (q->changes > 0 && q->in_tx) {
        int wrote = pg_feed_table(sql);
        if (wrote > q->feed_wrote) {
            q->feed_wrote = wrote; /* announced at the commit (pg_end) */
        }
    }
}

vigil_status pg_step(pgc *q, pg_stmt *st, bool *row, const char *what, vigil_err *err)
{
    *row = false;
    if (!st->ran) {
        vigil_status s = VIGIL_OK;
        if (q->n_sent < q->n_pend && strstr(st->sql, "audit") != NULL) {
            s = audit_send(q, false, NULL, false, err); /* it reads what this transaction wrote */
        }
        if (s == VIGIL_OK && !st->prepared) {
            s = prepare(q, st, err);
        }
        if (s == VIGIL_OK) {
            s = pg_defer_flush(q, err); /* BEGIN, SAVEPOINT ... go ahead of it */
        }
        if (s != VIGIL_OK) {
            pg_done(st);
            return s;
        }
        PGresult *r = PQexecPrepared(q->conn, st->name, st->n_params, st->val, st->len, st->fmt, 0);
        ExecStatusType rs = PQresultStatus(r);
        if (rs != PGRES_TUPLES_OK && rs != PGRES_COMMAND_OK) {
            s = pg_fail(q, r, what, err);
            PQclear(r);
            pg_done(st);
            return s;
        }
        note_changes(q, st->sql, r);
        st->res = r;
        st->ran = true;
        st->row = -1;
    }
    st->row++;
    if (st->row < PQntuples(st->res)) {
        decode_blobs(st);
        *row = true;
        return VIGIL_OK;
    }
    pg_done(st);
    return VIGIL_OK;
}

vigil_status pg_run(pgc *q, pg_stmt *st, const char *what, vigil_err *err)
{
    bool row = false;
    vigil_status s = pg_step(q, st, &row, what, err);
    if (s == VIGIL_OK && row) {
        q->last_id = pg_col_i64(st, 0);
        pg_done(st);
    }
    return s;
}

vigil_status pg_exec(pgc *q, const char *sql, vigil_err *err)
{
    vigil_status fs = pg_defer_flush(q, err);
    if (fs != VIGIL_OK) {
        return fs;
    }
    PGresult *r = PQexec(q->conn, sql);
    ExecStatusType rs = PQresultStatus(r);
    vigil_status s = VIGIL_OK;
    if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
        s = pg_fail(q, r, "exec", err);
    }
    PQclear(r);
    return s;
}

/* ---- pipelines (libpq pipeline mode, PostgreSQL 14+) --------------------- */

vigil_status pg_pipe_prepare(pgc *q, pg_stmt *st, vigil_err *err)
{
    return st->prepared ? VIGIL_OK : prepare(q, st, err);
}

vigil_status pg_pipe_begin(pgc *q, vigil_err *err)
{
    q->n_pipe = q->pipe_hidden = 0;
    int n = q->n_defer;
    q->n_defer = 0;
    if (PQenterPipelineMode(q->conn) != 1) {
        return pg_fail(q, NULL, "pipeline mode", err);
    }
    for (int i = 0; i < n; i++) { /* the deferred commands go first */
        if (PQsendQueryParams(q->conn, q->defer[i], 0, NULL, NULL, NULL, NULL, 0) != 1) {
            return pg_fail(q, NULL, "pipeline send", err);
        }
        q->pipe_sql[q->n_pipe++] = q->defer[i];
        q->pipe_hidden++;
    }
    return VIGIL_OK;
}

vigil_status pg_defer(pgc *q, const char *sql, vigil_err *err)
{
    if (q->n_defer == PG_DEFER_MAX) {
        vigil_status s = pg_defer_flush(q, err);
        if (s != VIGIL_OK) {
            return s;
        }
    }
    q->defer[q->n_defer++] = sql;
    return VIGIL_OK;
}

vigil_status pg_defer_flush(pgc *q, vigil_err *err)
{
    if (q->n_defer == 0) {
        return VIGIL_OK;
    }
    PGresult *res[PG_PIPELINE_MAX];
    int failed = -1;
    vigil_status s = pg_pipe_begin(q, err);
    if (s == VIGIL_OK) {
        s = pg_pipe_collect(q, res, &failed, "begin", err);
        pg_pipe_clear(res, PG_PIPELINE_MAX);
    }
    return pg_pipe_end(q, s, err);
}

static vigil_status pipe_sent(pgc *q, int ok, const char *sql, vigil_err *err)
{
    if (ok != 1) {
        return pg_fail(q, NULL, "pipeline send", err);
    }
    q->pipe_sql[q->n_pipe++] = sql;
    return VIGIL_OK;
}

vigil_status pg_pipe_send(pgc *q, pg_stmt *st, vigil_err *err)
{
    if (q->n_pipe - q->pipe_hidden >= PG_PIPELINE_MAX || !st->prepared) {
        clear_binds(st);
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, "postgresql",
                             "a pipeline statement not prepared, or too many before a sync");
    }
    int ok =
        PQsendQueryPrepared(q->conn, st->name, st->n_params, st->val, st->len, st->fmt, 0);
    clear_binds(st);
    return pipe_sent(q, ok, st->sql, err);
}

vigil_status pg_pipe_send_sql(pgc *q, const char *sql, vigil_err *err)
{
    if (q->n_pipe - q->pipe_hidden >= PG_PIPELINE_MAX) {
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, "postgresql",
                             "too many pipeline statements before a sync");
    }
    return pipe_sent(q, PQsendQueryParams(q->conn, sql, 0, NULL, NULL, NULL, NULL, 0), sql, err);
}

vigil_status pg_pipe_collect(pgc *q, PGresult **out, int *failed, const char *what,
                             vigil_err *err)
{
    int n = q->n_pipe, hidden = q->pipe_hidden;
    q->n_pipe = q->pipe_hidden = 0;
    *failed = -1;
    for (int i = 0; i < PG_PIPELINE_MAX; i++) {
        out[i] = NULL;
    }
    if (PQpipelineSync(q->conn) != 1) {
        return pg_fail(q, NULL, what, err);
    }
    vigil_status s = VIGIL_OK;
    bool synced = false;
    int i = 0, nulls = 0;
    while (!synced && PQstatus(q->conn) == CONNECTION_OK) {
        PGresult *r = PQgetResult(q->conn);
        if (r == NULL) {
            if (++nulls > n + 1) {
                break; /* nothing more will come (libpq ends each answer with one NULL) */
            }
            continue;
        }
        ExecStatusType rs = PQresultStatus(r);
        if (rs == PGRES_PIPELINE_SYNC) {
            synced = true;
            PQclear(r);
            continue;
        }
        if ((rs == PGRES_TUPLES_OK || rs == PGRES_COMMAND_OK) && i >= hidden && i < n) {
            note_changes(q, q->pipe_sql[i], r);
            out[i - hidden] = r;
        } else {
            if (rs != PGRES_PIPELINE_ABORTED && rs != PGRES_TUPLES_OK &&
                rs != PGRES_COMMAND_OK && s == VIGIL_OK) {
                s = pg_fail(q, r, what, err);
                *failed = i - hidden; /* -1 and below: a deferred command, not a statement's */
                if (*failed < 0) {
                    *failed = -1;
                }
            }
            PQclear(r);
        }
        i++;
    }
    if (!synced && s == VIGIL_OK) {
        s = pg_fail(q, NULL, what, err); /* the connection failed */
    }
    return s;
}

void pg_pipe_clear(PGresult **res, int n)
{
    for (int i = 0; i < n; i++) {
        PQclear(res[i]);
        res[i] = NULL;
    }
}

vigil_status pg_pipe_end(pgc *q, vigil_status s, vigil_err *err)
{
    if (PQpipelineStatus(q->conn) == PQ_PIPELINE_OFF) {
        return s;
    }
    if (PQexitPipelineMode(q->conn) != 1) {
        /* answers left unread (a send that failed): the session starts
         * afresh, and the transaction is gone with it */
        vigil_err ignored;
        (void)reset_connection(q, &ignored);
        if (s == VIGIL_OK) {
            s = vigil_err_set(err, VIGIL_ERR_IO, "postgresql", "the pipeline could not be ended");
        }
    }
    return s;
}

void pg_stmt_take(pg_stmt *st, PGresult *r)
{
    pg_done(st);
    st->res = r;
    st->ran = r != NULL;
    st->row = -1;
}

bool pg_autocommit(const pgc *q)
{
    return !q->in_tx;
}

int64_t pg_last_id(const pgc *q)
{
    return q->last_id;
}

int64_t pg_changes(const pgc *q)
{
    return q->changes;
}

int pg_param_count(const pg_stmt *st)
{
    return st->n_params;
}

/* ---- binding and columns ------------------------------------------------- */

static void bind(pg_stmt *st, int i, const char *v, int len, int fmt, Oid type)
{
    if (i < 1 || i > PG_MAX_PARAMS) {
        return;
    }
    st->val[i - 1] = v;
    st->len[i - 1] = len;
    st->fmt[i - 1] = fmt;
    if (!st->prepared && type != 0) {
        st->type[i - 1] = type;
    }
}

void pg_bind_null(pg_stmt *st, int i)
{
    bind(st, i, NULL, 0, 0, 0);
}

void pg_bind_untyped(pg_stmt *st, int i, const char *s)
{
    bind(st, i, s != NULL ? s : "", 0, 0, 0);
}

void pg_bind_text(pg_stmt *st, int i, const char *s)
{
    bind(st, i, s != NULL ? s : "", 0, 0, OID_TEXT);
}

void pg_bind_text_opt(pg_stmt *st, int i, const char *s)
{
    if (s == NULL || s[0] == '\0') {
        bind(st, i, NULL, 0, 0, OID_TEXT);
    } else {
        bind(st, i, s, 0, 0, OID_TEXT);
    }
}

void pg_bind_i64(pg_stmt *st, int i, int64_t v)
{
    if (i < 1 || i > PG_MAX_PARAMS) {
        return;
    }
    snprintf(st->num[i - 1], PG_NUM_LEN, "%lld", (long long)v);
    bind(st, i, st->num[i - 1], 0, 0, OID_INT8);
}

void pg_bind_int(pg_stmt *st, int i, int v)
{
    pg_bind_i64(st, i, v);
}

void pg_bind_i64_opt(pg_stmt *st, int i, int64_t v)
{
    if (v == 0) {
        bind(st, i, NULL, 0, 0, OID_INT8);
    } else {
        pg_bind_i64(st, i, v);
    }
}

void pg_bind_real(pg_stmt *st, int i, double v)
{
    if (i < 1 || i > PG_MAX_PARAMS) {
        return;
    }
    if (isnan(v)) {
        bind(st, i, NULL, 0, 0, OID_FLOAT8);
        return;
    }
    snprintf(st->num[i - 1], PG_NUM_LEN, "%.17g", v);
    bind(st, i, st->num[i - 1], 0, 0, OID_FLOAT8);
}

void pg_bind_real_opt(pg_stmt *st, int i, double v)
{
    pg_bind_real(st, i, v);
}

void pg_bind_blob(pg_stmt *st, int i, const void *p, int n)
{
    bind(st, i, p, n, 1, OID_BYTEA);
}

static bool col_ok(const pg_stmt *st, int i)
{
    return st->res != NULL && st->row >= 0 && st->row < PQntuples(st->res) && i >= 0 &&
           i < PQnfields(st->res);
}

const char *pg_col_cstr(pg_stmt *st, int i)
{
    if (!col_ok(st, i) || PQgetisnull(st->res, st->row, i)) {
        return NULL;
    }
    return PQgetvalue(st->res, st->row, i);
}

int pg_col_type(pg_stmt *st, int i)
{
    return pg_col_cstr(st, i) == NULL ? PG_NULL : 1;
}

bool pg_col_text(pg_stmt *st, int i, char *dst, size_t cap)
{
    const char *t = pg_col_cstr(st, i);
    if (t == NULL) {
        dst[0] = '\0';
        return true;
    }
    size_t n = strlen(t);
    bool fits = n < cap;
    if (!fits) {
        n = cap - 1;
    }
    memcpy(dst, t, n);
    dst[n] = '\0';
    return fits;
}

int64_t pg_col_i64(pg_stmt *st, int i)
{
    const char *t = pg_col_cstr(st, i);
    if (t == NULL) {
        return 0;
    }
    if (t[0] == 't' && t[1] == '\0') {
        return 1; /* a boolean (SQLite gives 1/0 for comparisons) */
    }
    if (t[0] == 'f' && t[1] == '\0') {
        return 0;
    }
    return strtoll(t, NULL, 10);
}

int pg_col_int(pg_stmt *st, int i)
{
    return (int)pg_col_i64(st, i);
}

double pg_col_real(pg_stmt *st, int i)
{
    const char *t = pg_col_cstr(st, i);
    if (t == NULL) {
        return NAN;
    }
    return strtod(t, NULL);
}

const void *pg_col_blob(pg_stmt *st, int i)
{
    if (i < 0 || i >= PG_BLOB_COLS || pg_col_cstr(st, i) == NULL) {
        return NULL;
    }
    return st->blob[i];
}

int pg_col_bytes(pg_stmt *st, int i)
{
    if (i >= 0 && i < PG_BLOB_COLS && col_ok(st, i) && PQftype(st->res, i) == OID_BYTEA) {
        return (int)st->blob_len[i];
    }
    const char *t = pg_col_cstr(st, i);
    return t != NULL ? (int)strlen(t) : 0;
}

vigil_admin_sex pg_col_sex(pg_stmt *st, int i)
{
    char t[16];
    vigil_admin_sex sx = VIGIL_ADMIN_SEX_NONE;
    if (!pg_col_text(st, i, t, sizeof t) || vigil_admin_sex_parse(t, &sx, NULL) != VIGIL_OK) {
        return VIGIL_ADMIN_SEX_NONE;
    }
    return sx;
}

int pg_col_enum(pg_stmt *st, int i, const char *const *names, int n)
{
    return vigil__store_lookup(names, n, pg_col_cstr(st, i));
}

/* ---- transactions -------------------------------------------------------- */

/* A command with no result: PQexec, its status mapped. The COMMIT of a
 * transaction the server already aborted answers "ROLLBACK": a failure. */
static vigil_status command(pgc *q, const char *sql, const char *what, vigil_err *err)
{
    vigil_status fs = pg_defer_flush(q, err);
    if (fs != VIGIL_OK) {
        return fs;
    }
    PGresult *r = PQexec(q->conn, sql);
    vigil_status s = VIGIL_OK;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        s = pg_fail(q, r, what, err);
    } else if (strcmp(sql, "COMMIT") == 0 && strcmp(PQcmdStatus(r), "COMMIT") != 0) {
        s = vigil_err_set(err, VIGIL_ERR_IO, "postgresql",
                          "commit: the server rolled the transaction back (%s)", PQcmdStatus(r));
    }
    PQclear(r);
    return s;
}

static void rollback(pgc *q)
{
    q->n_defer = 0; /* never sent: nothing of them to undo */
    if (q->in_tx) {
        vigil_err ignored;
        (void)command(q, "ROLLBACK", "rollback", &ignored);
        q->in_tx = false;
    }
    q->tx_failed = false;
    q->feed_wrote = PG_FEED_NONE;
    q->n_pend = q->n_sent = 0;
}

static pg_mark mark_of(const pgc *q)
{
    pg_mark m = {q->head, q->n_pend, q->n_sent};
    return m;
}

/* After ROLLBACK TO the savepoint m was taken at: the chain as it was; the
 * records made since are forgotten, and those sent since (the server undid
 * them) are sent again. */
static void mark_restore(pgc *q, const pg_mark *m)
{
    q->head = m->head;
    q->n_pend = m->n_pend;
    if (q->n_sent > m->n_sent) {
        q->n_sent = m->n_sent;
    }
}

static vigil_status op_begin(pgc *q, vigil_err *err)
{
    if (!q->in_tx || q->tx_failed) {
        return vigil_err_set(err, VIGIL_ERR_IO, "store",
                             "the batch's transaction was rolled back by an earlier error");
    }
    q->op_saved = mark_of(q);
    return pg_defer(q, "SAVEPOINT op", err);
}

static vigil_status session_setup(pgc *q, vigil_err *err);

/* A connection the server dropped (PostgreSQL restarted, a failover) is
 * opened again before the next transaction, its statements prepared again
 * as they are next used: the call that met the broken connection failed
 * (VIGIL_ERR_IO, nothing acknowledged), the ones after it go on. */
vigil_status pg_reconnect(pgc *q, vigil_err *err)
{
    if (PQstatus(q->conn) == CONNECTION_OK) {
        return VIGIL_OK;
    }
    return reset_connection(q, err);
}

/* Open the connection again (PQreset ends pipeline mode and whatever the
 * server held for the session, its transaction too). */
static vigil_status reset_connection(pgc *q, vigil_err *err)
{
    PQreset(q->conn);
    pg_feed_reset(q); /* notifications sent meanwhile were lost; the lease too */
    if (PQstatus(q->conn) != CONNECTION_OK) {
        char m[200];
        snprintf(m, sizeof m, "%s", PQerrorMessage(q->conn));
        m[strcspn(m, "\n")] = '\0';
        return vigil_err_set(err, VIGIL_ERR_IO, "postgresql", "reconnect: %s", m);
    }
    for (size_t i = 0; i < PG_CACHE_SLOTS; i++) {
        if (q->cache[i] != NULL) {
            pg_done(q->cache[i]);
            q->cache[i]->prepared = false;
        }
    }
    q->in_tx = false;
    q->tx_failed = false;
    q->n_pend = q->n_sent = 0;
    q->n_defer = 0;
    return session_setup(q, err);
}

vigil_status pg_ready(pgc *q, vigil_err *err)
{
    return q->in_tx ? VIGIL_OK : pg_reconnect(q, err);
}

vigil_status pg_begin(pgc *q, vigil_err *err)
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
    vigil_status s = pg_reconnect(q, err);
    if (s == VIGIL_OK) {
        s = pg_defer(q, "BEGIN", err); /* sent with the transaction's first statement */
    }
    if (s != VIGIL_OK) {
        q->no_sync = false;
        return s;
    }
    q->in_tx = true;
    q->tx_failed = false;
    q->feed_wrote = PG_FEED_NONE;
    pg_feed_drain(q); /* what arrived before BEGIN: never left to pile up */
    if (q->no_sync) {
        /* a read's audit: committed without waiting for the WAL flush; the
         * next synchronous commit (or vigil_store_sync) flushes it */
        s = pg_defer(q, "SET LOCAL synchronous_commit = off", err);
        if (s != VIGIL_OK) {
            q->no_sync = false;
            rollback(q);
        }
    }
    return s;
}

vigil_status pg_begin_read(pgc *q, vigil_err *err)
{
    if (q->batch) {
        /* a read in a batch takes no savepoint (two round trips fewer): it
         * writes nothing (outside a batch it runs READ ONLY), so a refusal
         * of its own leaves nothing to undo, and a statement PostgreSQL
         * fails aborts the batch's transaction (pg_fail), as an I/O error
         * would */
        if (!q->in_tx || q->tx_failed) {
            return vigil_err_set(err, VIGIL_ERR_IO, "store",
                                 "the batch's transaction was rolled back by an earlier error");
        }
        q->op_read = true;
        return VIGIL_OK;
    }
    vigil_status s = pg_reconnect(q, err);
    if (s == VIGIL_OK) {
        s = command(q, "BEGIN READ ONLY", "begin", err);
    }
    if (s == VIGIL_OK) {
        q->in_tx = true;
        q->tx_failed = false;
    }
    return s;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether the audit record (seq, hash) is stored: *found. */
static vigil_status audit_record_stored(pgc *q, int64_t seq, const uint8_t *hash, bool *found,
                                        vigil_err *err)
{
    char seq_text[24];
    snprintf(seq_text, sizeof seq_text, "%lld", (long long)seq);
    const char *vals[2] = {seq_text, (const char *)hash};
    const int lens[2] = {0, VIGIL_AUDIT_HASH_LEN};
    const int fmts[2] = {0, 1};
    PGresult *r = PQexecParams(q->conn, "SELECT count(*) FROM audit WHERE seq = $1 AND hash = $2",
                               2, NULL, vals, lens, fmts, 0);
    vigil_status s = VIGIL_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        s = pg_fail(q, r, "look for the last commit's audit record", err);
    } else {
        *found = strcmp(PQgetvalue(r, 0, 0), "0") != 0;
    }
    PQclear(r);
    return s;
}

/*
 * The connection was lost while COMMIT was on its way (PostgreSQL crashed
 * or restarted, a failover, the network): the server may have committed
 * and its answer been lost. Saying "not stored" for a set that was stored
 * tells the sender something false (an HL7 sender answered AR need not send
 * it again), so the outcome is looked up, not guessed: a transaction that
 * appended audit records committed exactly when its last record (its seq
 * and hash: unique to this transaction's chain position and contents) is in
 * the audit table. Asked as soon as the server answers again, for up to
 * PG_COMMIT_RESOLVE_MS (the caller waits meanwhile). Without an audit
 * record to look for, or when the server stays away longer (a crash and
 * restart), the error says the outcome is unknown: the caller answers AR,
 * "send it again", and a sender that does is answered AA without a second
 * copy (the control id); a set so answered may be stored.
 */
static vigil_status commit_outcome(pgc *q, const vigil__audit_chain *last, vigil_err *err)
{
    if (!last->valid || last->seq <= 0) {
        return vigil_err_set(err, VIGIL_ERR_IO, "postgresql",
                             "commit: the connection was lost during COMMIT and the transaction "
                             "wrote no audit record to look for: whether it committed is unknown");
    }
    int64_t deadline = mono_ms() + PG_COMMIT_RESOLVE_MS;
    vigil_err e = {0};
    for (;;) {
        bool found = false;
        if (pg_reconnect(q, &e) == VIGIL_OK &&
            audit_record_stored(q, last->seq, last->hash, &found, &e) == VIGIL_OK) {
            if (found) {
                if (err != NULL) {
                    memset(err, 0, sizeof *err);
                }
                return VIGIL_OK;
            }
            return vigil_err_set(err, VIGIL_ERR_IO, "postgresql",
                                 "commit: the connection was lost during COMMIT and the "
                                 "transaction did not commit");
        }
        if (mono_ms() >= deadline) {
            break;
        }
        struct timespec pause = {0, 100 * 1000000L};
        nanosleep(&pause, NULL);
    }
    return vigil_err_set(err, VIGIL_ERR_IO, "postgresql",
                         "commit: the connection was lost during COMMIT and PostgreSQL did not "
                         "answer again within %d ms: whether it committed is unknown (%.120s)",
                         PG_COMMIT_RESOLVE_MS, e.msg);
}

static vigil_status op_end(pgc *q, vigil_status s, vigil_err *err)
{
    if (!q->in_tx) {
        return s != VIGIL_OK ? s
                             : vigil_err_set(err, VIGIL_ERR_IO, "store",
                                             "the batch's transaction was rolled back");
    }
    if (q->op_read) {
        q->op_read = false; /* no savepoint was taken (pg_begin_read) */
        if (q->tx_failed && s == VIGIL_OK) {
            s = vigil_err_set(err, VIGIL_ERR_IO, "store", "a statement of the call failed");
        }
        return s;
    }
    if (s == VIGIL_OK && !q->tx_failed) {
        return pg_defer(q, "RELEASE SAVEPOINT op", err);
    }
    vigil_err ignored;
    q->tx_failed = false;
    if (command(q, "ROLLBACK TO SAVEPOINT op", "rollback to savepoint", &ignored) == VIGIL_OK &&
        command(q, "RELEASE SAVEPOINT op", "release savepoint", &ignored) == VIGIL_OK) {
        mark_restore(q, &q->op_saved);
    } else {
        q->tx_failed = true;
    }
    return s != VIGIL_OK ? s
                         : vigil_err_set(err, VIGIL_ERR_IO, "store", "a statement of the call failed");
}

vigil_status pg_end(pgc *q, vigil_status s, vigil_err *err)
{
    if (q->batch) {
        return op_end(q, s, err);
    }
    bool no_sync = q->no_sync;
    q->no_sync = false;
    if (s == VIGIL_OK && q->in_tx) {
        /* the audit records, the head, the change feed's notification
         * (delivered to the other sessions only if this commits) and the
         * COMMIT in one pipeline. REQ STORE-DURABLE-ACK:
         * synchronous_commit = on: COMMIT returns after the commit record
         * is flushed */
        vigil__audit_chain last = q->head;
        q->commit_sent = false;
        s = audit_send(q, true, pg_feed_notify_sql(q), true, err);
        if (s == VIGIL_OK) {
            q->in_tx = false;
        } else if (q->commit_sent && PQstatus(q->conn) != CONNECTION_OK) {
            /* the connection went with the COMMIT on its way: in doubt */
            q->in_tx = false;
            s = commit_outcome(q, &last, err);
        }
        if (s == VIGIL_OK && no_sync) {
            q->unsynced = true;
        } else if (s == VIGIL_OK) {
            q->unsynced = false; /* the flush covers every earlier commit */
        }
    }
    if (s != VIGIL_OK) {
        rollback(q);
    }
    vigil__audit_chain_reset(&q->head);
    return s;
}

/* REQ STORE-READ-AUDIT-SYNC: a synchronous commit flushes the WAL up to its
 * own record, so every commit made before it without waiting is durable
 * after it; a transaction given an id writes a commit record. */
vigil_status vigil__pg_sync(void *be, vigil_err *err)
{
    pgc *q = be;
    if (!q->unsynced || q->in_tx) {
        return VIGIL_OK;
    }
    vigil_status s = command(q, "BEGIN", "begin", err);
    if (s == VIGIL_OK) {
        q->in_tx = true;
        s = pg_exec(q, "SELECT pg_current_xact_id()", err);
    }
    if (s == VIGIL_OK) {
        s = command(q, "COMMIT", "commit", err);
        q->in_tx = false;
    }
    if (s != VIGIL_OK) {
        rollback(q);
        return s;
    }
    q->unsynced = false;
    return VIGIL_OK;
}

vigil_status vigil__pg_batch_begin(void *be, vigil_err *err)
{
    pgc *q = be;
    if (q->batch) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "store", "a batch is already open");
    }
    vigil_status s = pg_begin(q, err);
    if (s == VIGIL_OK) {
        q->batch = true;
    }
    return s;
}

vigil_status vigil__pg_batch_commit(void *be, vigil_err *err)
{
    pgc *q = be;
    if (!q->batch) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "store", "no batch is open");
    }
    q->batch = false;
    if (!q->in_tx || q->tx_failed) {
        rollback(q);
        vigil__audit_chain_reset(&q->head);
        return vigil_err_set(err, VIGIL_ERR_IO, "store",
                             "the batch's transaction was rolled back by an error");
    }
    return pg_end(q, VIGIL_OK, err);
}

void vigil__pg_batch_rollback(void *be)
{
    pgc *q = be;
    if (q->batch) {
        q->batch = false;
        (void)pg_end(q, VIGIL_ERR_ARG, NULL);
    }
}

vigil_status pg_savepoint(pgc *q, pg_mark *saved, vigil_err *err)
{
    *saved = mark_of(q);
    return pg_defer(q, "SAVEPOINT item", err);
}

vigil_status pg_release(pgc *q, vigil_err *err)
{
    return pg_defer(q, "RELEASE SAVEPOINT item", err);
}

vigil_status pg_rollback_to(pgc *q, const pg_mark *saved, vigil_err *err)
{
    vigil_status s = command(q, "ROLLBACK TO SAVEPOINT item", "rollback to savepoint", err);
    if (s == VIGIL_OK) {
        s = command(q, "RELEASE SAVEPOINT item", "release savepoint", err);
    }
    if (s == VIGIL_OK) {
        mark_restore(q, saved);
        q->tx_failed = false;
    }
    return s;
}

/* ---- shared checks ------------------------------------------------------- */

vigil_status pg_require_row(pgc *q, const char *sql_exists, int64_t id, const char *what,
                            vigil_err *err)
{
    pg_stmt *st = NULL;
    vigil_status ps = pg_prep(q, sql_exists, &st, err);
    if (ps != VIGIL_OK) {
        return ps;
    }
    pg_bind_i64(st, 1, id);
    bool row = false;
    vigil_status s = pg_step(q, st, &row, what, err);
    if (s != VIGIL_OK) {
        return s;
    }
    pg_done(st);
    if (!row) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, what, "no %s with id %lld", what,
                             (long long)id);
    }
    return VIGIL_OK;
}

vigil_status pg_open_row(pgc *q, const char *sql, int64_t id, const char *field, const char *noun,
                         const char *closed_words, int64_t *patient_id, vigil_err *err)
{
    pg_stmt *st = NULL;
    vigil_status s = pg_prep(q, sql, &st, err);
    if (s != VIGIL_OK) {
        return s;
    }
    pg_bind_i64(st, 1, id);
    bool row = false;
    char what[64];
    snprintf(what, sizeof what, "read %s", noun);
    s = pg_step(q, st, &row, what, err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (!row) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, field, "no %s %lld", noun, (long long)id);
    }
    *patient_id = pg_col_i64(st, 0);
    bool closed = pg_col_int(st, 1) != 0;
    pg_done(st);
    if (closed) {
        return vigil_err_set(err, VIGIL_ERR_CONFLICT, field, "%s %lld %s", noun, (long long)id,
                             closed_words);
    }
    return VIGIL_OK;
}

/* ---- audit: the chain's storage primitives (audit.c drives them) ---------- */

/* FOR UPDATE: the head row stays locked until this transaction ends, so a
 * second connection (another process, another node) appending waits here
 * and then reads the head this one committed (READ COMMITTED reads the
 * locked row's newest version). */
static const char SQL_HEAD[] = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE";
static const char SQL_HEAD_SET[] = "UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1";

/* The head from the current row of st (SQL_HEAD). */
static vigil_status read_head(pgc *q, pg_stmt *st, int64_t *seq,
                              uint8_t hash[VIGIL_AUDIT_HASH_LEN], vigil_err *err)
{
    bool row = false;
    vigil_status s = pg_step(q, st, &row, "audit head", err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (!row || pg_col_bytes(st, 1) != VIGIL_AUDIT_HASH_LEN) {
        pg_done(st);
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, "audit",
                             "the audit head is missing or damaged");
    }
    *seq = pg_col_i64(st, 0);
    memcpy(hash, pg_col_blob(st, 1), VIGIL_AUDIT_HASH_LEN);
    pg_done(st);
    return VIGIL_OK;
}

static vigil_status head_lock(void *be, int64_t *seq, uint8_t hash[VIGIL_AUDIT_HASH_LEN],
                              vigil_err *err)
{
    pgc *q = be;
    if (!q->in_tx) {
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, "audit",
                             "the audit head is locked only inside a write transaction");
    }
    pg_stmt *st = NULL;
    vigil_status ps = pg_prep(q, SQL_HEAD, &st, err);
    if (ps != VIGIL_OK) {
        return ps;
    }
    return read_head(q, st, seq, hash, err);
}

vigil_status pg_head_prepare(pgc *q, pg_stmt **st, vigil_err *err)
{
    *st = NULL;
    if (!q->in_tx || q->head.valid) {
        return VIGIL_OK; /* no transaction, or it holds the lock already */
    }
    vigil_status s = pg_prep(q, SQL_HEAD, st, err);
    if (s == VIGIL_OK) {
        s = pg_pipe_prepare(q, *st, err);
    }
    if (s != VIGIL_OK) {
        *st = NULL;
    }
    return s;
}

vigil_status pg_head_take(pgc *q, pg_stmt *st, PGresult *r, vigil_err *err)
{
    pg_stmt_take(st, r);
    vigil_status s = read_head(q, st, &q->head.seq, q->head.hash, err);
    if (s == VIGIL_OK) {
        q->head.valid = true; /* as the first append's head_lock would have left it */
    }
    return s;
}

/* At most this many audit records in one INSERT (their arrays' text is
 * about 400 bytes a record); more go as further statements of the same
 * pipeline. */
#define PG_AUDIT_ROWS_MAX 2048

/* A record is kept, not sent: the transaction's records go together
 * (audit_send), one round trip for all of them instead of one each. */
static vigil_status record_insert(void *be, const vigil_audit_record *r, vigil_err *err)
{
    pgc *q = be;
    if (q->n_pend == q->cap_pend) {
        size_t cap = q->cap_pend > 0 ? q->cap_pend * 2 : 64;
        vigil_audit_record *p = realloc(q->pend, cap * sizeof *p);
        if (p == NULL) {
            return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory for audit records");
        }
        q->pend = p;
        q->cap_pend = cap;
    }
    q->pend[q->n_pend++] = *r;
    return VIGIL_OK;
}

static const vigil__audit_io pg_audit_io = {
    .head_lock = head_lock,
    .insert = record_insert,
    .head_set = NULL, /* audit_send writes the head with the records, in one pipeline */
};


/*
 * Send the transaction's records not sent yet, and then (with_head) the
 * audit head and the feed's notification, as one pipeline (pg_pipe_*):
 * one round trip for a group commit's records instead of one per record.
 * Each record was chained in C when made (vigil__audit_append, the head
 * locked by the transaction's first), so nothing sent here waits on an
 * answer. A failure fails the transaction (the caller rolls back).
 */
static vigil_status audit_send(pgc *q, bool with_head, const char *notify, bool commit,
                               vigil_err *err)
{
    bool head = with_head && q->head.dirty;
    if (q->n_sent == q->n_pend && !head && notify == NULL && !commit) {
        return VIGIL_OK;
    }
    pg_stmt *ins = NULL, *hs = NULL;
    vigil_status s = VIGIL_OK;
    if (q->n_sent < q->n_pend) {
        s = pg_prep(q, PG_SQL_AUDIT_ROWS, &ins, err);
        if (s == VIGIL_OK) {
            s = pg_audit_rows_write(&q->arows, q->pend + q->n_sent, 1, err);
        }
        if (s == VIGIL_OK) {
            pg_audit_rows_bind(ins, &q->arows); /* its types come from the casts */
            s = pg_pipe_prepare(q, ins, err);
        }
    }
    if (s == VIGIL_OK && head) {
        s = pg_prep(q, SQL_HEAD_SET, &hs, err);
        if (s == VIGIL_OK) {
            pg_bind_i64(hs, 1, q->head.seq);
            pg_bind_blob(hs, 2, q->head.hash, VIGIL_AUDIT_HASH_LEN);
            s = pg_pipe_prepare(q, hs, err);
        }
    }
    if (s == VIGIL_OK) {
        s = pg_pipe_begin(q, err);
    }
    /* every record in one INSERT (PG_AUDIT_ROWS_MAX a statement), then the
     * head and the notification: one round trip */
    for (size_t i = q->n_sent; s == VIGIL_OK && i < q->n_pend;) {
        size_t m = q->n_pend - i < PG_AUDIT_ROWS_MAX ? q->n_pend - i : PG_AUDIT_ROWS_MAX;
        s = pg_audit_rows_write(&q->arows, q->pend + i, m, err);
        if (s == VIGIL_OK) {
            pg_audit_rows_bind(ins, &q->arows);
            s = pg_pipe_send(q, ins, err); /* libpq copies the parameters */
        }
        i += m;
        if (s == VIGIL_OK && q->n_pipe >= PG_PIPELINE_MAX - 2) {
            PGresult *res[PG_PIPELINE_MAX];
            int failed = -1;
            s = pg_pipe_collect(q, res, &failed, "audit append", err);
            pg_pipe_clear(res, PG_PIPELINE_MAX);
        }
    }
    if (s == VIGIL_OK && head) {
        pg_bind_i64(hs, 1, q->head.seq);
        pg_bind_blob(hs, 2, q->head.hash, VIGIL_AUDIT_HASH_LEN);
        s = pg_pipe_send(q, hs, err);
    }
    if (s == VIGIL_OK && notify != NULL) {
        s = pg_pipe_send_sql(q, notify, err);
    }
    if (s == VIGIL_OK && commit) {
        s = pg_pipe_send_sql(q, "COMMIT", err);
        q->commit_sent = s == VIGIL_OK;
    }
    if (s == VIGIL_OK) {
        PGresult *res[PG_PIPELINE_MAX];
        int failed = -1, n = q->n_pipe - q->pipe_hidden;
        s = pg_pipe_collect(q, res, &failed, commit ? "commit" : "audit append", err);
        if (s == VIGIL_OK && commit &&
            (res[n - 1] == NULL || strcmp(PQcmdStatus(res[n - 1]), "COMMIT") != 0)) {
            /* the COMMIT of a transaction the server had aborted answers ROLLBACK */
            s = vigil_err_set(err, VIGIL_ERR_IO, "postgresql",
                              "commit: the server rolled the transaction back (%s)",
                              res[n - 1] != NULL ? PQcmdStatus(res[n - 1]) : "no answer");
        }
        pg_pipe_clear(res, PG_PIPELINE_MAX);
    }
    s = pg_pipe_end(q, s, err);
    if (s == VIGIL_OK) {
        q->n_sent = q->n_pend;
        if (with_head) {
            q->head.dirty = false;
        }
    }
    return s;
}

vigil_status pg_audit(pgc *q, const vigil__audit_ev *ev, vigil_err *err)
{
    return vigil__audit_append(&q->head, &pg_audit_io, q, ev, err);
}

/* ---- migrations ---------------------------------------------------------- */

/* One integer from sql (no parameters), or -1 when no row / NULL. */
static vigil_status query_int(pgc *q, const char *sql, int64_t *out, vigil_err *err)
{
    vigil_status fs = pg_defer_flush(q, err);
    if (fs != VIGIL_OK) {
        return fs;
    }
    PGresult *r = PQexec(q->conn, sql);
    vigil_status s = VIGIL_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        s = pg_fail(q, r, sql, err);
    } else if (PQntuples(r) < 1 || PQgetisnull(r, 0, 0)) {
        *out = -1;
    } else {
        *out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    }
    PQclear(r);
    return s;
}

/* The schema version, 0 for an empty database; MISMATCH for a database
 * with tables but no version table (not a vigil store). Inside a
 * transaction holding the migration lock. */
static vigil_status schema_version(pgc *q, bool create, int64_t *out, vigil_err *err)
{
    int64_t has = 0;
    vigil_status s =
        query_int(q, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND "
                     "tablename = 'vigil_schema_version'",
                  &has, err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (has == 0) {
        int64_t n_tables = 0;
        s = query_int(q, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()",
                      &n_tables, err);
        if (s != VIGIL_OK) {
            return s;
        }
        if (n_tables != 0) {
            return vigil_err_set(err, VIGIL_ERR_MISMATCH, "store",
                                 "this PostgreSQL schema is not a vigil store (%lld tables, no "
                                 "vigil_schema_version)",
                                 (long long)n_tables);
        }
        *out = 0;
        if (!create) {
            return VIGIL_OK;
        }
        return pg_exec(q,
                       "CREATE TABLE vigil_schema_version (\n"
                       "  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
                       "  version INTEGER NOT NULL\n"
                       ");\n"
                       "INSERT INTO vigil_schema_version (id, version) VALUES (1, 0);",
                       err);
    }
    return query_int(q, "SELECT version FROM vigil_schema_version WHERE id = 1", out, err);
}

/* One migration in one transaction, under the migration lock, the version
 * read again inside it (two processes opening at once do not both run it). */
static vigil_status migrate_step(pgc *q, const char *sql, int to, vigil_err *err)
{
    vigil_status s = command(q, "BEGIN", "begin", err);
    if (s != VIGIL_OK) {
        return s;
    }
    q->in_tx = true;
    s = pg_exec(q, "SELECT pg_advisory_xact_lock(" PG_MIGRATE_LOCK ")", err);
    int64_t v = 0;
    if (s == VIGIL_OK) {
        s = schema_version(q, true, &v, err);
    }
    bool done = s == VIGIL_OK && v >= to;
    if (s == VIGIL_OK && !done) {
        s = pg_exec(q, sql, err);
    }
    if (s == VIGIL_OK && !done) {
        char set[96];
        snprintf(set, sizeof set, "UPDATE vigil_schema_version SET version = %d WHERE id = 1", to);
        s = pg_exec(q, set, err);
    }
    if (s == VIGIL_OK) {
        s = command(q, "COMMIT", "commit", err);
        q->in_tx = false;
    }
    if (s != VIGIL_OK) {
        rollback(q);
        if (err != NULL) {
            char m[VIGIL_ERR_MSG_MAX];
            snprintf(m, sizeof m, "%s", err->msg);
            snprintf(err->msg, sizeof err->msg, "schema migration to version %d failed: %.200s",
                     to, m);
        }
    }
    return s;
}

static vigil_status migrate(pgc *q, vigil_err *err)
{
    int64_t v = 0;
    vigil_status s = schema_version(q, false, &v, err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (v > vigil__pg_n_migrations) {
        return vigil_err_set(err, VIGIL_ERR_MISMATCH, "store",
                             "the database is at schema version %lld, newer than this vigil "
                             "(version %d): refusing to open it",
                             (long long)v, vigil__pg_n_migrations);
    }
    for (int i = (int)v; i < vigil__pg_n_migrations; i++) {
        s = migrate_step(q, vigil__pg_migrations[i], i + 1, err);
        if (s != VIGIL_OK) {
            return s;
        }
    }
    return VIGIL_OK;
}

/* ---- open / close -------------------------------------------------------- */

void vigil__pg_close(void *be)
{
    pgc *q = be;
    if (q == NULL) {
        return;
    }
    for (size_t i = 0; i < PG_CACHE_SLOTS; i++) {
        if (q->cache[i] != NULL) {
            PQclear(q->cache[i]->res);
            free(q->cache[i]);
        }
    }
    PQfinish(q->conn);
    free(q->pend);
    pg_audit_rows_free(&q->arows);
    free(q);
}

/* Notices (CREATE ... IF NOT EXISTS and the like) are not errors: dropped
 * rather than written to stderr by libpq. */
static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* On whatever the server's default: an ACK follows a flushed commit. */
static vigil_status session_setup(pgc *q, vigil_err *err)
{
    return pg_exec(q,
                   "SET synchronous_commit = on; SET client_min_messages = warning; "
                   "SET default_transaction_isolation = 'read committed'",
                   err);
}

vigil_status vigil__pg_open(const char *target, unsigned flags, void **out_be, vigil_err *err)
{
    pgc *q = calloc(1, sizeof *q);
    if (q == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory opening store");
    }
    q->readonly = (flags & VIGIL_STORE_READONLY) != 0;
    q->conn = PQconnectdb(target);
    vigil_status s = VIGIL_OK;
    if (q->conn == NULL) {
        s = vigil_err_set(err, VIGIL_ERR_NOMEM, "postgresql", "connect: out of memory");
    } else if (PQstatus(q->conn) != CONNECTION_OK) {
        char m[200];
        snprintf(m, sizeof m, "%s", PQerrorMessage(q->conn));
        m[strcspn(m, "\n")] = '\0';
        s = vigil_err_set(err, VIGIL_ERR_IO, "postgresql", "connect: %s", m);
    }
    if (s == VIGIL_OK) {
        PQsetNoticeProcessor(q->conn, quiet_notice, NULL);
        s = session_setup(q, err);
    }
    if (s == VIGIL_OK) {
        s = pg_obs_sql_build(&q->obs_sql, err); /* once: never per set */
    }
    if (s == VIGIL_OK && !q->readonly) {
        s = migrate(q, err);
    } else if (s == VIGIL_OK) {
        int64_t v = 0;
        s = schema_version(q, false, &v, err);
        if (s == VIGIL_OK && v != vigil__pg_n_migrations) {
            s = vigil_err_set(err, VIGIL_ERR_MISMATCH, "store",
                              "read-only open needs schema version %d; the database is at %lld",
                              vigil__pg_n_migrations, (long long)v);
        }
    }
    if (s != VIGIL_OK) {
        vigil__pg_close(q);
        return s;
    }
    *out_be = q;
    return VIGIL_OK;
}

/* ---- test support -------------------------------------------------------- */

/* Rows of table matching where (store_test.c checked the table's name; the
 * condition is the test's own SQL, run as given). Inside the caller's open
 * batch when there is one. */
vigil_status vigil__pg_count_rows(void *be, const char *table, const char *where, int64_t *out_n,
                                  vigil_err *err)
{
    pgc *q = be;
    char sql[1024];
    int w = snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"%s%s", table,
                     where != NULL ? " WHERE " : "", where != NULL ? where : "");
    if (w < 0 || (size_t)w >= sizeof sql) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "where", "condition too long");
    }
    vigil_status fs = pg_defer_flush(q, err);
    if (fs != VIGIL_OK) {
        return fs;
    }
    PGresult *r = PQexec(q->conn, sql);
    vigil_status s = VIGIL_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1) {
        s = vigil_err_set(err, VIGIL_ERR_ARG, "where", "count rows: %s", PQresultErrorMessage(r));
    } else {
        *out_n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    }
    PQclear(r);
    return s;
}
