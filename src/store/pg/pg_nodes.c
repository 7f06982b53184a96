/*
 * pg_nodes.c: PostgreSQL backend: several nodes on one database. The lease
 * (a session-level advisory lock, released by the server when the session
 * ends: the node died, its connection dropped, the store was closed) and the
 * change feed (every transaction that writes a row the ward list or the
 * escalation state can see sends NOTIFY vigil_feed, delivered to the other
 * sessions only when it commits, with the payload "e" when it wrote an
 * escalation table; a session that reads the feed LISTENs and counts what
 * other sessions sent: every notification for the ward list's data_version,
 * those marked "e" for vigil_store_changes).
 *
 * Does not: decide what runs under the lease, or what a node reads again
 * after a change (src/server/nodes.c).
 * Invariants: the feed's count (q->feed) never goes back; it advances at
 * every notification from another session and at every (re)connect (what
 * was sent while the connection was down is not known). Notifications are
 * consumed without blocking (PQconsumeInput, PQnotifies) at each BEGIN and
 * each read of the feed, so they never pile up in libpq.
 */
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

#define FEED_CHANNEL "vigil_feed"
/* The lease keys' upper half ("vigl"): distinct from every transaction lock
 * the backend takes (migrations). */
#define LEASE_KEY_SPACE INT64_C(0x7669676C)

/* The escalation's tables: a write to one of them is sent with the payload
 * "e" (vigil_store_changes counts those). */
static const char *const ESCALATION_TABLES[] = {
    "episode", "alert", "alert_repeat", "ack", "marthas_call", "marthas_review", "staff_concern",
};

/* Tables whose writes nothing of the ward list or escalation state reads. */
static const char *const QUIET_TABLES[] = {
    "audit", "audit_head", "page", "page_attempt", "summary_mail", "summary_attempt",
    "rota_shift", "app_user", "user_ward", "secret", "session", "vigil_schema_version",
};

static bool in_list(const char *t, size_t len, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(list[i]) == len && strncmp(t, list[i], len) == 0) {
            return true;
        }
    }
    return false;
}

int pg_feed_table(const char *sql)
{
    while (*sql == ' ' || *sql == '\n' || *sql == '\t') {
        sql++;
    }
    if (strncmp(sql, "WITH ", 5) == 0) {
        /* a data-modifying WITH (pg_obs.c: a set's INSERT with its score's):
         * the first write inside it names the table announced */
        const char *w = strstr(sql, "AS (");
        return w != NULL ? pg_feed_table(w + 4) : PG_FEED_NONE;
    }
    static const char *const verbs[] = {"INSERT INTO ", "UPDATE ", "DELETE FROM "};
    const char *t = NULL;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0] && t == NULL; i++) {
        size_t n = strlen(verbs[i]);
        if (strncmp(sql, verbs[i], n) == 0) {
            t = sql + n;
        }
    }
    if (t == NULL) {
        return PG_FEED_NONE; /* a read */
    }
    size_t len = strcspn(t, " (\n");
    if (in_list(t, len, QUIET_TABLES, sizeof QUIET_TABLES / sizeof QUIET_TABLES[0])) {
        return PG_FEED_NONE;
    }
    if (in_list(t, len, ESCALATION_TABLES,
                sizeof ESCALATION_TABLES / sizeof ESCALATION_TABLES[0])) {
        return PG_FEED_ESCALATION;
    }
    return PG_FEED_ROWS;
}

void pg_feed_drain(pgc *q)
{
    if (q->listen == 0 || PQstatus(q->conn) != CONNECTION_OK) {
        return;
    }
    (void)PQconsumeInput(q->conn); /* reads what has arrived; never waits */
    int me = PQbackendPID(q->conn);
    PGnotify *n;
    while ((n = PQnotifies(q->conn)) != NULL) {
        if (n->be_pid != me) {
            q->feed++;
            if (strcmp(n->extra, "e") == 0) {
                q->feed_esc++;
            }
        }
        PQfreemem(n);
    }
}

const char *pg_feed_notify_sql(pgc *q)
{
    int what = q->feed_wrote;
    q->feed_wrote = PG_FEED_NONE;
    if (what == PG_FEED_NONE) {
        return NULL;
    }
    /* one notification per transaction (PostgreSQL folds equal ones) */
    return what == PG_FEED_ESCALATION ? "NOTIFY " FEED_CHANNEL ", 'e'" : "NOTIFY " FEED_CHANNEL;
}

void pg_feed_reset(pgc *q)
{
    q->listen = 0;
    q->feed++;
    q->feed_esc++;
    q->lease_held = false; /* a new session holds no lock */
}

vigil_status vigil__pg_changes(void *be, int64_t *out, vigil_err *err)
{
    pgc *q = be;
    if (q->in_tx) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "store", "the change feed is read outside a transaction");
    }
    vigil_status s = pg_reconnect(q, err);
    if (s != VIGIL_OK) {
        *out = q->feed_esc;
        return s;
    }
    if (q->listen != 2) {
        /* committed at once (no transaction open): every later commit is told */
        s = pg_exec(q, "LISTEN " FEED_CHANNEL, err);
        if (s != VIGIL_OK) {
            *out = q->feed_esc;
            return s;
        }
        q->listen = 2;
        q->feed++;
        q->feed_esc++;
    }
    pg_feed_drain(q);
    *out = q->feed_esc;
    return VIGIL_OK;
}

vigil_status vigil__pg_data_version(void *be, int64_t *out, vigil_err *err)
{
    pgc *q = be;
    if (q->listen == 0) {
        /* inside read_txn: the LISTEN takes effect when this transaction
         * commits, so a commit by another session between this transaction's
         * reads and its end could be missed: the next transaction counts as a
         * change too (listen 1 -> 2) */
        vigil_status s = pg_exec(q, "LISTEN " FEED_CHANNEL, err);
        if (s != VIGIL_OK) {
            return s;
        }
        q->listen = 1;
        *out = ++q->feed;
        return VIGIL_OK;
    }
    if (q->listen == 1) {
        q->listen = 2;
        *out = ++q->feed;
        return VIGIL_OK;
    }
    /* the transaction's BEGIN (deferred: pg_defer) is the barrier: every
     * notification of a commit made before it has arrived once its answer
     * has, so it is sent before the count is read */
    vigil_status s = pg_defer_flush(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    pg_feed_drain(q);
    *out = q->feed;
    return VIGIL_OK;
}

/* FNV-1a of the name, 31 bits: the lease key's lower half. */
static int64_t lease_key(const char *name)
{
    uint32_t h = 2166136261u;
    for (const char *c = name; *c != '\0'; c++) {
        h = (h ^ (uint8_t)*c) * 16777619u;
    }
    return (LEASE_KEY_SPACE << 32) | (int64_t)(h & 0x7fffffffu);
}

/* One row, one boolean column, of sql run with the key as $1. */
static vigil_status key_query(pgc *q, const char *sql, int64_t key, bool *out, vigil_err *err)
{
    char num[PG_NUM_LEN];
    snprintf(num, sizeof num, "%lld", (long long)key);
    const char *vals[1] = {num};
    vigil_status s = pg_defer_flush(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    PGresult *r = PQexecParams(q->conn, sql, 1, NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        s = pg_fail(q, r, "lease", err);
    } else {
        *out = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    }
    PQclear(r);
    return s;
}

vigil_status vigil__pg_lease_try(void *be, const char *name, bool *out_held, vigil_err *err)
{
    pgc *q = be;
    *out_held = false;
    if (q->in_tx) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "store", "a lease is taken outside a transaction");
    }
    int64_t key = lease_key(name);
    if (q->lease_held && q->lease_key != key) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "name", "this handle holds another lease");
    }
    vigil_status s = pg_reconnect(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    bool held = false;
    if (q->lease_held) {
        /* still ours? the session may have been ended under us (terminated,
         * or a new one after a reconnect holds nothing) */
        s = key_query(q,
                      "SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND "
                      "pid = pg_backend_pid() AND granted AND objsubid = 1 AND "
                      "((classid::int8 << 32) | objid::int8) = $1::int8",
                      key, &held, err);
    } else {
        s = key_query(q, "SELECT pg_try_advisory_lock($1::int8)", key, &held, err);
    }
    if (s != VIGIL_OK) {
        q->lease_held = false; /* a dropped connection: the server released it */
        return s;
    }
    q->lease_held = held;
    q->lease_key = key;
    *out_held = held;
    return VIGIL_OK;
}
