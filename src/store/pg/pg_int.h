/*
 * pg_int.h: private to the PostgreSQL backend of src/store: the connection
 * state, prepared statements, error mapping, transactions, the audit append
 * and the schema migrations.
 *
 * The op files (pg_obs.c, pg_user.c, ...) are ports of the SQLite backend's
 * (sq_*.c) and use the same shape of statement API: pg_prep gives a statement
 * (prepared on the server once per connection, PQprepare, the first time it
 * runs, with the types of its first binding), pg_bind_* bind parameters
 * (numbered from 1; the SQL is written with ?N, and sent as $N), pg_step runs
 * it (PQexecPrepared) and walks its rows, pg_col_* read the current row,
 * pg_done drops the result. Parameters and results travel as text, except
 * BYTEA parameters (binary).
 *
 * Invariants: every public op runs in one transaction (BEGIN ... COMMIT with
 * synchronous_commit = on, so a returned commit is flushed to the WAL on
 * disk); an op that appends audit records first locks the chain's head row
 * (SELECT ... FROM audit_head FOR UPDATE), so appends from several
 * connections and processes are serialised by the database, each reading the
 * head the previous commit left; every libpq error becomes a vigil_status
 * with the server's message and SQLSTATE in vigil_err.
 */
#ifndef VIGIL_STORE_PG_INT_H
#define VIGIL_STORE_PG_INT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "../obs_sql.h"
#include "../store_int.h"

#define PG_CACHE_SLOTS 256 /* power of two, > number of distinct statements */
#define PG_MAX_PARAMS 48   /* most parameters of one statement */
#define PG_NUM_LEN 32      /* a number as text */
#define PG_BLOB_COLS 16    /* BYTEA columns are read among the first 16 */
/* At most this many statements between two syncs of a pipeline, so the
 * server's answers never fill the socket while the client still sends. */
#define PG_PIPELINE_MAX 256
/* At most this many deferred commands wait for the next round trip. */
#define PG_DEFER_MAX 8

/* A column's type as pg_col_type reports it (only NULL-ness matters). */
#define PG_NULL 5

typedef struct pgc pgc;


/* Audit records as PG_SQL_AUDIT_ROWS's parameters: one array text per
 * column (pg_audit_rows.c). */
#define PG_AUDIT_COLS 11
typedef struct pg_audit_rows {
    vigil__text col[PG_AUDIT_COLS];
} pg_audit_rows;

/* Where a savepoint left the transaction's audit: the chain, and how many
 * records were made and sent (pgc.pend) when it was taken. */
typedef struct pg_mark {
    vigil__audit_chain head;
    size_t n_pend, n_sent;
} pg_mark;

/* One statement: its SQL (a static string: the cache key), its server-side
 * name once prepared, the parameters bound for the next run, and the result
 * being walked. */
typedef struct pg_stmt {
    pgc *q;
    const char *sql;
    char name[16];
    bool prepared;
    int n_params; /* highest ?N in the SQL */
    const char *val[PG_MAX_PARAMS];
    int len[PG_MAX_PARAMS];
    int fmt[PG_MAX_PARAMS];
    Oid type[PG_MAX_PARAMS];
    char num[PG_MAX_PARAMS][PG_NUM_LEN];
    PGresult *res;
    int row;     /* current row of res, -1 before the first step */
    bool ran;    /* executed since the last pg_done */
    uint8_t blob[PG_BLOB_COLS][64]; /* decoded BYTEA columns of the current row */
    size_t blob_len[PG_BLOB_COLS];
} pg_stmt;

struct pgc {
    PGconn *conn;
    bool readonly;
    bool batch;      /* inside vigil_store_batch_begin .. commit: calls are savepoints */
    bool in_tx;      /* a transaction is open on the connection */
    bool tx_failed;  /* the open transaction hit an error the batch cannot go past */
    bool no_sync;    /* this transaction commits without waiting for the flush (a read's audit) */
    bool unsynced;   /* a commit since the last flushed one did not wait for its flush */
    pg_mark op_saved; /* the audit when the current call of the batch began */
    bool op_read;     /* the current call of the batch is a read: no savepoint */
    bool commit_sent; /* pg_end's COMMIT went into the pipeline (its outcome may be in doubt) */
    vigil__audit_chain head; /* audit.c drives it (vigil__audit_append) */
    /* audit records made in the open transaction, [0, n_sent) of them sent:
     * the rest go together, pipelined, before its COMMIT and before any
     * statement that reads the audit table (pg_core.c audit_send); a
     * rollback to a savepoint forgets what it undid (pg_mark) */
    vigil_audit_record *pend;
    size_t n_pend, n_sent, cap_pend;
    pg_audit_rows arows; /* their parameters when sent, kept for the next */
    int64_t last_id;  /* the first column of the last row an INSERT ... RETURNING gave */
    int64_t changes;  /* rows the last statement run to its end changed */
    /* the change feed (pg_nodes.c) */
    int listen;      /* 0: not listening; 1: LISTEN sent in the open transaction; 2: listening */
    int64_t feed;     /* notifications from other sessions counted, + 1 at each (re)connect */
    int64_t feed_esc; /* those of them that wrote an escalation table, likewise */
    int feed_wrote;   /* PG_FEED_*: what the open transaction wrote that the feed announces */
    bool lease_held; /* lease_try took the lease key below on this session */
    int64_t lease_key;
    int n_prepared;
    pg_stmt *cache[PG_CACHE_SLOTS];
    /* patients looked up ahead for the sets of one pass of a batch
     * (pg_obs.c): read there before the database, forgotten at any patient
     * write and when the pass ends */
    struct pg_pat_ahead *pat_ahead;
    size_t n_pat_ahead;
    /* an observation set's INSERT with its score's, one statement (pg_obs.c) */
    char obs_score_insert[2 * VIGIL__OBS_SQL_MAX];
    /* commands nothing waits on (BEGIN, SAVEPOINT, RELEASE SAVEPOINT),
     * kept to go ahead of the next statement in its round trip (pg_defer) */
    const char *defer[PG_DEFER_MAX];
    int n_defer;
    /* the statements sent into the open pipeline since its last sync, the
     * first pipe_hidden of them deferred commands */
    const char *pipe_sql[PG_PIPELINE_MAX + PG_DEFER_MAX];
    int n_pipe, pipe_hidden;
    vigil__obs_sql obs_sql; /* written at open from the vital-sign table, read-only after */
};

/* The schema as migrations: steps[i] brings vigil_schema_version i to i + 1
 * (pg_schema.c). */
extern const char *const vigil__pg_migrations[];
extern const int vigil__pg_n_migrations;

/* Map a failed result (or the connection's error when res is NULL) to a
 * vigil_status, with "what: server message (SQLSTATE)". */
vigil_status pg_fail(pgc *q, const PGresult *res, const char *what, vigil_err *err);

/* The cached statement for sql (a static string: its address is the cache
 * key), with no bindings and no result. */
vigil_status pg_prep(pgc *q, const char *sql, pg_stmt **out, vigil_err *err);

/* Run (the first time) and step once: *row is true while a row is current.
 * At the end the result is dropped (as by pg_done). On error too. */
vigil_status pg_step(pgc *q, pg_stmt *st, bool *row, const char *what, vigil_err *err);

/* Run a statement to its end (any rows it returns are dropped; the first
 * column of the first one is kept in q->last_id: INSERT ... RETURNING id). */
vigil_status pg_run(pgc *q, pg_stmt *st, const char *what, vigil_err *err);

/* Drop the result and the bindings. */
void pg_done(pg_stmt *st);

/* Run a one-off SQL text (no parameters, results dropped). */
vigil_status pg_exec(pgc *q, const char *sql, vigil_err *err);

/* BEGIN / BEGIN (read) / end: commit when s is VIGIL_OK (rolling back if the
 * commit fails), else roll back; returns the final status. Inside a batch
 * they are a savepoint, its release and its rollback instead. */
vigil_status pg_begin(pgc *q, vigil_err *err);
/* Outside a transaction: the connection opened again when the server dropped
 * it (as pg_begin does), for a single statement run on its own. */
vigil_status pg_ready(pgc *q, vigil_err *err);
vigil_status pg_begin_read(pgc *q, vigil_err *err);
vigil_status pg_end(pgc *q, vigil_status s, vigil_err *err);

/* Append one audit record inside the current write transaction (the head
 * row is locked by the first append of the transaction). */
vigil_status pg_audit(pgc *q, const vigil__audit_ev *ev, vigil_err *err);

/* The audit head's lock (SELECT ... FOR UPDATE, as the transaction's
 * first append takes it) sent in a pipeline the caller runs, a round trip
 * fewer: pg_head_prepare gives the statement (NULL when no write
 * transaction is open or it holds the lock already), pg_head_take reads
 * its answer into the transaction's chain. */
vigil_status pg_head_prepare(pgc *q, pg_stmt **st, vigil_err *err);
vigil_status pg_head_take(pgc *q, pg_stmt *st, PGresult *r, vigil_err *err);

/* Savepoints inside a write transaction; the caller keeps the mark to
 * restore. */
vigil_status pg_savepoint(pgc *q, pg_mark *saved, vigil_err *err);
vigil_status pg_release(pgc *q, vigil_err *err);
vigil_status pg_rollback_to(pgc *q, const pg_mark *saved, vigil_err *err);

/*
 * Pipelines (libpq pipeline mode): statements sent without waiting for
 * each answer, their answers read after one sync, so n statements cost one
 * round trip. A statement must be prepared before the pipeline begins
 * (pg_pipe_prepare, after a binding gives its parameter types). Between
 * pg_pipe_begin and pg_pipe_end nothing else runs on the connection; at
 * most PG_PIPELINE_MAX statements are sent between collects.
 * pg_pipe_collect syncs and reads every answer: out[i] is the i-th
 * statement's result (the caller clears them, pg_pipe_clear, or hands one
 * to a statement to read with pg_step, pg_stmt_take); the first failure is
 * returned with *failed its index (-1 when the connection failed). A
 * failed statement aborts the transaction, as a failed one run alone does.
 * pg_pipe_end leaves pipeline mode and returns s (or the failure to leave
 * it: the connection is then opened afresh).
 */
vigil_status pg_pipe_prepare(pgc *q, pg_stmt *st, vigil_err *err);
/*
 * Deferred commands: BEGIN, SAVEPOINT and RELEASE SAVEPOINT have no answer
 * anything waits on, so pg_defer keeps them and they go ahead of the next
 * statement, in its round trip (a pipeline begins with them; a statement
 * run alone, a command or a prepare sends them first, in one round trip).
 * A failure of one surfaces at that next statement and fails the call (the
 * transaction was broken). Every call that talks to the server directly
 * (PQexec and the like) must call pg_defer_flush first.
 */
vigil_status pg_defer(pgc *q, const char *sql, vigil_err *err);
vigil_status pg_defer_flush(pgc *q, vigil_err *err);
vigil_status pg_pipe_begin(pgc *q, vigil_err *err);
vigil_status pg_pipe_send(pgc *q, pg_stmt *st, vigil_err *err);
vigil_status pg_pipe_send_sql(pgc *q, const char *sql, vigil_err *err);
vigil_status pg_pipe_collect(pgc *q, PGresult **out, int *failed, const char *what,
                             vigil_err *err);
void pg_pipe_clear(PGresult **res, int n);
vigil_status pg_pipe_end(pgc *q, vigil_status s, vigil_err *err);
/* st's result becomes r (NULL: none): pg_step walks its rows. */
void pg_stmt_take(pg_stmt *st, PGresult *r);

/* pg_audit_rows.c: n records as the parameters of PG_SQL_AUDIT_ROWS, one
 * INSERT for all of them; written into b (kept for reuse), then bound to
 * st (which must not run after b changes). */
extern const char PG_SQL_AUDIT_ROWS[];
vigil_status pg_audit_rows_write(pg_audit_rows *b, const vigil_audit_record *r, size_t n,
                                 vigil_err *err);
void pg_audit_rows_bind(pg_stmt *st, const pg_audit_rows *b);
void pg_audit_rows_free(pg_audit_rows *b);

/* Is the connection outside a transaction (as sqlite3_get_autocommit)? */
bool pg_autocommit(const pgc *q);
/* The id the last INSERT ... RETURNING id gave; the rows the last statement
 * changed. */
int64_t pg_last_id(const pgc *q);
int64_t pg_changes(const pgc *q);

/* Binding (strings are borrowed: they must outlive the step). _opt binds
 * NULL for NULL or "", 0, NaN. */
void pg_bind_text(pg_stmt *st, int i, const char *s);
void pg_bind_text_opt(pg_stmt *st, int i, const char *s);
void pg_bind_i64(pg_stmt *st, int i, int64_t v);
void pg_bind_int(pg_stmt *st, int i, int v);
void pg_bind_i64_opt(pg_stmt *st, int i, int64_t v);
void pg_bind_real(pg_stmt *st, int i, double v);
void pg_bind_real_opt(pg_stmt *st, int i, double v);
void pg_bind_null(pg_stmt *st, int i);
/* A text whose type the statement gives (a cast: ?1::bigint[]). */
void pg_bind_untyped(pg_stmt *st, int i, const char *s);
void pg_bind_blob(pg_stmt *st, int i, const void *p, int n);

/* Column i of the current row. text copies into dst (NULL gives ""; false
 * when cut); i64/int: NULL gives 0, booleans 1/0; real: NULL gives NaN;
 * cstr: NULL for NULL; type: PG_NULL for NULL (else 1); blob: a BYTEA
 * column (i < 4) decoded, its length from pg_col_bytes. */
bool pg_col_text(pg_stmt *st, int i, char *dst, size_t cap);
int64_t pg_col_i64(pg_stmt *st, int i);
int pg_col_int(pg_stmt *st, int i);
double pg_col_real(pg_stmt *st, int i);
const char *pg_col_cstr(pg_stmt *st, int i);
int pg_col_type(pg_stmt *st, int i);
const void *pg_col_blob(pg_stmt *st, int i);
int pg_col_bytes(pg_stmt *st, int i);
int pg_col_enum(pg_stmt *st, int i, const char *const *names, int n);
/* Column i as an administrative sex ('' or unknown text: NONE). */
vigil_admin_sex pg_col_sex(pg_stmt *st, int i);
int pg_param_count(const pg_stmt *st);

/* Row `id` of a (patient_id, closed) query must exist and be open: gives its
 * patient. NOT_FOUND "no <noun> N" / CONFLICT "<noun> N <closed_words>". */
vigil_status pg_open_row(pgc *q, const char *sql, int64_t id, const char *field, const char *noun,
                         const char *closed_words, int64_t *patient_id, vigil_err *err);

/* Does row id exist? VIGIL_ERR_NOT_FOUND naming what when not. */
vigil_status pg_require_row(pgc *q, const char *sql_exists, int64_t id, const char *what,
                            vigil_err *err);

/* The change feed (pg_nodes.c): what sql (a statement the backend runs)
 * writes: nothing the feed announces (a read; the audit chain, pages,
 * summaries, rotas, users, sessions, secrets, the schema version), rows the
 * ward list reads, or an escalation table (episodes, alerts, repeats,
 * acknowledgements, Martha's Rule calls and reviews, staff concerns). */
#define PG_FEED_NONE 0
#define PG_FEED_ROWS 1
#define PG_FEED_ESCALATION 2
int pg_feed_table(const char *sql);
/* Count the notifications that have arrived from other sessions (never
 * waits). */
void pg_feed_drain(pgc *q);
/* Before COMMIT: the NOTIFY vigil_feed to send when the transaction wrote
 * such a row, or NULL; taken (asked once per transaction). */
const char *pg_feed_notify_sql(pgc *q);
/* After a (re)connect: notifications may have been missed. */
void pg_feed_reset(pgc *q);
/* Open a dropped connection again (PQreset), its statements to be prepared
 * again as they are used; VIGIL_OK at once when it is up. */
vigil_status pg_reconnect(pgc *q, vigil_err *err);

/* Connection, sync and batches (pg_core.c). */
vigil_status vigil__pg_open(const char *target, unsigned flags, void **out_be, vigil_err *err);
void vigil__pg_close(void *be);
vigil_status vigil__pg_sync(void *be, vigil_err *err);
vigil_status vigil__pg_batch_begin(void *be, vigil_err *err);
vigil_status vigil__pg_batch_commit(void *be, vigil_err *err);
void vigil__pg_batch_rollback(void *be);

/* Ops split by topic across files. */
vigil_status vigil__pg_patient_ensure(void *be, const vigil_actor *who, const vigil_patient *p,
                                      int64_t *out_id, vigil_err *err);
vigil_status vigil__pg_patient_get(void *be, const vigil_actor *who, int64_t id, vigil_patient *out,
                                   vigil_err *err);
vigil_status vigil__pg_patient_find(void *be, const vigil_actor *who, const char *nhs,
                                    const char *mrn, vigil_patient *out, vigil_err *err);
vigil_status vigil__pg_admit(void *be, const vigil_actor *who, int64_t patient_id, const char *ward,
                             const char *bed, int64_t t_ms, int64_t *out_id, vigil_err *err);
vigil_status vigil__pg_move(void *be, const vigil_actor *who, int64_t admission_id,
                            const char *ward, const char *bed, int64_t t_ms, vigil_err *err);
vigil_status vigil__pg_discharge(void *be, const vigil_actor *who, int64_t admission_id,
                                 int64_t t_ms, vigil_err *err);
vigil_status vigil__pg_put_obs_batch(void *be, const vigil_actor *who,
                                     const vigil_store_obs_item *items, size_t n,
                                     vigil_store_put *out, vigil_err *err);
vigil_status vigil__pg_batch_begin(void *be, vigil_err *err);
vigil_status vigil__pg_batch_commit(void *be, vigil_err *err);
void vigil__pg_batch_rollback(void *be);
vigil_status vigil__pg_sync(void *be, vigil_err *err);
vigil_status vigil__pg_put_score(void *be, const vigil_actor *who, int64_t obs_id,
                                 const vigil_store_score *score, int64_t *out_id, vigil_err *err);
vigil_status vigil__pg_put_ai_batch(void *be, const vigil_actor *who,
                                    const vigil_store_ai_item *items, size_t n,
                                    vigil_status *status, vigil_err *err);
vigil_status vigil__pg_obs_recent(void *be, const vigil_actor *who, int64_t patient_id,
                                  int64_t from_ms, int64_t to_ms, size_t max,
                                  vigil_store_vitals *out, size_t *n, vigil_err *err);
vigil_status vigil__pg_obs_range(void *be, const vigil_actor *who, int64_t patient_id,
                                 int64_t from_ms, int64_t to_ms, size_t max_rows,
                                 vigil_store_obs_list *out, vigil_err *err);

vigil_status vigil__pg_episode_open(void *be, const vigil_actor *who, int64_t patient_id,
                                    vigil_news2_response level, vigil_store_trigger trigger,
                                    int64_t trigger_ref, int64_t supersedes_id, int64_t t_ms,
                                    const vigil_store_page_req *pages, size_t n_pages,
                                    int64_t *out_episode_id, int64_t *out_alert_id, vigil_err *err);
vigil_status vigil__pg_episode_close(void *be, const vigil_actor *who, int64_t episode_id,
                                     int64_t t_ms, const char *reason, vigil_err *err);
vigil_status vigil__pg_alert_repeat(void *be, const vigil_actor *who, int64_t alert_id,
                                    int64_t t_ms, int64_t last_by_ms, int rota_step,
                                    const char *notified, const vigil_store_page_req *pages,
                                    size_t n_pages, vigil_err *err);

/* Rotas and pages (pg_page.c). queue: pages[0..n) of alert_id (and of
 * repeat_id, 0 for the alert itself), inside the caller's transaction, each
 * audited; acked: the alert's pages are acknowledged at t_ms, those still
 * to send to a gateway cancelled (inside the acknowledgement's). */
vigil_status vigil__pg_pages_queue(pgc *q, const vigil_actor *who, int64_t alert_id,
                                   int64_t repeat_id, int64_t patient_id, int64_t t_ms,
                                   const vigil_store_page_req *pages, size_t n, vigil_err *err);
vigil_status vigil__pg_page_failed(void *be, const vigil_actor *who, int64_t page_id,
                                   int64_t t_ms, const char *detail,
                                   const vigil_store_page_req *fallback, size_t n,
                                   vigil_err *err);
vigil_status vigil__pg_summary_last(void *be, int64_t *out_to_ms, vigil_err *err);
vigil_status vigil__pg_summaries_queue(void *be, const vigil_actor *who, const char *const *to,
                                       size_t n, int64_t from_ms, int64_t to_ms, vigil_err *err);
vigil_status vigil__pg_summaries_due(void *be, int64_t now_ms, vigil_store_summary *out,
                                     size_t max, size_t *n, vigil_err *err);
vigil_status vigil__pg_summary_attempt(void *be, const vigil_actor *who, int64_t id,
                                       int64_t t_ms, vigil_store_attempt_outcome outcome,
                                       int64_t next_ms, const char *detail, vigil_err *err);
vigil_status vigil__pg_ward_summaries(void *be, int64_t from_ms, int64_t to_ms,
                                      vigil_store_ward_summary *out, size_t max, size_t *n,
                                      vigil_err *err);
vigil_status vigil__pg_pages_acked(pgc *q, const vigil_actor *who, int64_t alert_id, int64_t t_ms,
                                   vigil_err *err);
vigil_status vigil__pg_shift_add(void *be, const vigil_actor *who, const vigil_store_shift *s,
                                 int64_t *out_id, vigil_err *err);
vigil_status vigil__pg_shift_end(void *be, const vigil_actor *who, int64_t id, int64_t t_ms,
                                 vigil_store_shift *out, vigil_err *err);
vigil_status vigil__pg_shifts_get(void *be, const char *ward, int64_t from_ms, int64_t to_ms,
                                  vigil_store_shift *out, size_t max, size_t *n, vigil_err *err);
vigil_status vigil__pg_post_holders(void *be, const char *ward, const char *level, int step,
                                    int64_t t_ms, char (*out)[VIGIL_ID_MAX], size_t max, size_t *n,
                                    vigil_err *err);
vigil_status vigil__pg_rota_state(void *be, int64_t t_ms, vigil__rota_state *out, vigil_err *err);
vigil_status vigil__pg_pages_due(void *be, vigil_store_channel channel, int64_t now_ms,
                                 vigil_store_page *out, size_t max, size_t *n, vigil_err *err);
vigil_status vigil__pg_page_attempt(void *be, const vigil_actor *who, int64_t page_id,
                                    int64_t t_ms, vigil_store_attempt_outcome outcome,
                                    int64_t next_ms, const char *detail, vigil_err *err);
vigil_status vigil__pg_pages_for(void *be, const vigil_actor *who, int64_t since_ms,
                                 int64_t now_ms, vigil_store_page *out, size_t max, size_t *n,
                                 vigil_err *err);
vigil_status vigil__pg_page_read(void *be, const vigil_actor *who, int64_t page_id, int64_t t_ms,
                                 vigil_store_page *out, vigil_err *err);
vigil_status vigil__pg_pages_of_alert(void *be, int64_t alert_id, vigil_store_page *out,
                                      size_t max, size_t *n, vigil_err *err);
vigil_status vigil__pg_alert_ack(void *be, const vigil_actor *who, int64_t alert_id, int64_t t_ms,
                                 vigil_store_ack_action action, const char *reason, int64_t *out_id,
                                 vigil_err *err);
vigil_status vigil__pg_put_shadow(void *be, const vigil_actor *who, int64_t score_id,
                                  const vigil_store_ai *ai, vigil_err *err);
vigil_status vigil__pg_outcome_record(void *be, const vigil_actor *who, int64_t patient_id,
                                      int64_t admission_id, vigil_store_outcome_kind kind,
                                      int64_t t_ms, int64_t recorded_ms, const char *source,
                                      const char *note, int64_t *out_id, vigil_err *err);
vigil_status vigil__pg_outcomes_of(void *be, const vigil_actor *who, int64_t patient_id,
                                   vigil_store_outcome *out, size_t cap, size_t *out_n,
                                   vigil_err *err);
vigil_status vigil__pg_staff_concern(void *be, const vigil_actor *who, int64_t patient_id,
                                     int64_t t_ms, const char *concern, int64_t *out_id,
                                     vigil_err *err);
vigil_status vigil__pg_marthas_call_add(void *be, const vigil_actor *who,
                                        const vigil_store_marthas_call *call, int64_t *out_id,
                                        vigil_err *err);
vigil_status vigil__pg_marthas_review_add(void *be, const vigil_actor *who,
                                          const vigil_store_marthas_review *rev, int64_t *out_id,
                                          vigil_err *err);
vigil_status vigil__pg_daily_answer(void *be, const vigil_actor *who, int64_t patient_id,
                                    int64_t t_ms, vigil_store_feeling answer, int64_t *out_id,
                                    vigil_err *err);
vigil_status vigil__pg_ai_optout(void *be, const vigil_actor *who, int64_t patient_id, int64_t t_ms,
                                 const char *note, int64_t *out_id, vigil_err *err);
vigil_status vigil__pg_ai_optout_withdraw(void *be, const vigil_actor *who, int64_t patient_id,
                                          int64_t t_ms, vigil_err *err);
vigil_status vigil__pg_scale2_set(void *be, const vigil_actor *who, int64_t patient_id,
                                  int64_t t_ms, const char *reason, int64_t *out_id,
                                  vigil_err *err);
vigil_status vigil__pg_scale2_end(void *be, const vigil_actor *who, int64_t patient_id,
                                  int64_t t_ms, const char *reason, vigil_err *err);
vigil_status vigil__pg_plan_add(void *be, const vigil_actor *who, const vigil_store_plan *plan,
                                int64_t *out_id, vigil_err *err);
vigil_status vigil__pg_plan_revoke(void *be, const vigil_actor *who, int64_t plan_id, int64_t t_ms,
                                   const char *reason, vigil_err *err);

vigil_status vigil__pg_state_read(pgc *q, int64_t patient_id, int64_t now_ms,
                                  vigil_store_patient_state *out, vigil_err *err);
vigil_status vigil__pg_patient_state_get(void *be, const vigil_actor *who, int64_t patient_id,
                                         int64_t now_ms, vigil_store_patient_state *out,
                                         vigil_err *err);
vigil_status vigil__pg_state_at(void *be, int64_t patient_id, int64_t now_ms,
                                vigil_store_patient_state *out, int64_t *out_valid_until_ms,
                                vigil_err *err);
vigil_status vigil__pg_read_txn(void *be, bool durable, vigil__txn_fn fn, void *ctx,
                                vigil_err *err);
vigil_status vigil__pg_audit_append(void *be, const vigil__audit_ev *ev, vigil_err *err);
vigil_status vigil__pg_data_version(void *be, int64_t *out, vigil_err *err);
vigil_status vigil__pg_lease_try(void *be, const char *name, bool *out_held, vigil_err *err);
vigil_status vigil__pg_changes(void *be, int64_t *out, vigil_err *err);
vigil_status vigil__pg_ward_beds(void *be, const char *ward, vigil_store_ward_list *out,
                                 vigil_err *err);
vigil_status vigil__pg_patient_place(void *be, int64_t patient_id,
                                     vigil_store_patient_current *out, vigil_err *err);
vigil_status vigil__pg_score_pick(void *be, int64_t patient_id, vigil__score_pick which,
                                  int64_t after_ms, vigil__score_row *out, bool *found,
                                  vigil_err *err);
vigil_status vigil__pg_patient_history(void *be, const vigil_actor *who, int64_t patient_id,
                                       size_t limit, vigil_store_history_cb cb, void *ctx,
                                       vigil_err *err);
vigil_status vigil__pg_episodes_open(void *be, const vigil_actor *who, const char *ward,
                                     vigil_store_episode_list *out, vigil_err *err);
vigil_status vigil__pg_marthas_walk(void *be, const vigil_actor *who, int64_t from_ms,
                                    int64_t to_ms, vigil__marthas_cb cb, void *ctx, vigil_err *err);

vigil_status vigil__pg_user_add(void *be, const vigil_actor *who, const char *username,
                                const char *display_name, vigil_store_role role, const char *hash,
                                const char *const *wards, size_t n_wards, int64_t *out_id,
                                vigil_err *err);
vigil_status vigil__pg_user_list(void *be, const vigil_actor *who, vigil_store_user_list *out,
                                 vigil_err *err);
vigil_status vigil__pg_user_get(void *be, const char *username, vigil_store_user *out,
                                char hash_out[VIGIL_PASSWORD_HASH_MAX], vigil_err *err);
vigil_status vigil__pg_user_set_hash(void *be, const vigil_actor *who, const char *username,
                                     const char *hash, vigil_err *err);
vigil_status vigil__pg_row_digest(void *be, const char *entity, int64_t id,
                                  char out[VIGIL__ROW_DIGEST_HEX + 1], vigil_err *err);
vigil_status vigil__pg_user_enable(void *be, const vigil_actor *who, const char *username,
                                   vigil_err *err);
vigil_status vigil__pg_user_disable(void *be, const vigil_actor *who, const char *username,
                                    int64_t t_ms, size_t *out_sessions_ended, vigil_err *err);
vigil_status vigil__pg_audit_event(void *be, const vigil__audit_ev *ev, vigil_err *err);
vigil_status vigil__pg_audit_walk(void *be, vigil__audit_cb cb, void *ctx, int64_t *head_seq,
                                  uint8_t head_hash[VIGIL_AUDIT_HASH_LEN], vigil_err *err);
vigil_status vigil__pg_audit_head(void *be, int64_t *out_seq,
                                  uint8_t out_hash[VIGIL_AUDIT_HASH_LEN], vigil_err *err);
vigil_status vigil__pg_audit_read(void *be, const vigil_actor *who, int64_t from_seq,
                                  vigil_audit_record *out, size_t max, size_t *out_n,
                                  vigil_err *err);

/* Reading a score row (columns from PG_SCORE_COLS at offset c) into news2
 * and AI fields. */
#define PG_SCORE_COLS VIGIL__SCORE_COLS
#define PG_SCORE_NCOLS VIGIL__SCORE_NCOLS
void vigil__pg_read_news2(pg_stmt *st, int c, vigil_news2 *out);

/*
 * pg_obs_sql.c: the statements naming obs_set's vital-sign columns are
 * q->obs_sql, written once at open from the vital-sign table
 * (src/store/obs_sql.c, in this backend's dialect); their addresses are
 * their statement-cache keys. A set's columns are always read and bound as
 * PG_OBS_NCOLS in a row: one per table row in table order, then
 * spo2_scale, age_y, pregnant.
 */
#define PG_OBS_NCOLS VIGIL__OBS_NCOLS
vigil_status pg_obs_sql_build(vigil__obs_sql *out, vigil_err *err);
/* Read the PG_OBS_NCOLS set columns starting at column c into obs. */
void pg_obs_read(pg_stmt *st, int c, vigil_obs *obs);
/* Bind obs to the PG_OBS_NCOLS parameters starting at ?i. */
void pg_obs_bind(pg_stmt *st, int i, const vigil_obs *obs);
/* The audit row digest's text of the current row of q->obs_sql.canon
 * (first 0) or of q->obs_sql.insert's RETURNING (first 1). */
vigil_status pg_obs_canon_text(pg_stmt *st, int first, char *buf, size_t cap, size_t *len,
                               vigil_err *err);

/* pg_set_rows.c: the monitoring rows (vigil_store_set_rows). */
vigil_status vigil__pg_set_rows(void *be, int64_t from_ms, int64_t to_ms,
                                vigil_store_set_row_cb cb, void *ctx, vigil_err *err);

/* pg_set_rows.c: the ward of a patient's open bed stay, unaudited
 * (vigil_store_patient_ward). */
/* pg_user.c: a secret stored once (vigil_store_secret_ensure). */
vigil_status vigil__pg_secret_ensure(void *be, const char *name, const uint8_t *candidate,
                                     size_t len, uint8_t out[VIGIL_STORE_SECRET_MAX],
                                     size_t *out_len, vigil_err *err);
/* pg_session.c: sign-in sessions (vigil_store_session_*). */
vigil_status vigil__pg_session_add(void *be, const vigil__session_add *a, vigil_err *err);
vigil_status vigil__pg_session_get(void *be, const uint8_t *hash, vigil__session_row *out,
                                   bool *found, vigil_err *err);
vigil_status vigil__pg_session_touch(void *be, const uint8_t *hash, int64_t now_ms,
                                     vigil_err *err);
vigil_status vigil__pg_session_end(void *be, const uint8_t *hash, size_t *out_n, vigil_err *err);
/* Inside the caller's write transaction: delete every session of username;
 * *out_n how many. */
vigil_status pg_sessions_end_user(pgc *q, const char *username, size_t *out_n, vigil_err *err);

/* pg_copy.c: copying a store (vigil_store_copy) */
vigil_status vigil__pg_schema_columns(void *be, vigil__column_cb cb, void *ctx, vigil_err *err);
vigil_status vigil__pg_rows_walk(void *be, const vigil__copy_table *tables, size_t n,
                                 vigil__row_cb cb, void *ctx, vigil_err *err);
vigil_status vigil__pg_rows_put(void *be, const vigil__copy_table *t, bool update,
                                const vigil__cell *cells, size_t n_rows, vigil_err *err);
vigil_status vigil__pg_ids_advance(void *be, const char *table, const char *column, vigil_err *err);
/* pg_core.c: test support (vigil_store_count_rows). */
vigil_status vigil__pg_count_rows(void *be, const char *table, const char *where, int64_t *out_n,
                                  vigil_err *err);
vigil_status vigil__pg_patient_ward(void *be, int64_t patient_id,
                                    char out_ward[VIGIL_STORE_NAME_MAX + 1], vigil_err *err);

#endif
