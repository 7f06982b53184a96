/*
 * sqlite_int.h: private to the SQLite backend of src/store: the connection
 * state, the statement cache, error mapping, transactions, the audit append
 * and the schema migrations.
 *
 * Invariants: every public op runs in one transaction (BEGIN IMMEDIATE, so
 * the write lock is taken before anything is read: it is the audit head's
 * lock audit.c asks for, sq_core.c's head_lock), appends its audit record(s)
 * inside it through vigil__audit_append, and returns only after
 * COMMIT with synchronous=FULL; every statement is reset after use so no
 * read stays open past its op; every SQLite error becomes a vigil_status
 * with SQLite's message in vigil_err.
 */
#ifndef VIGIL_STORE_SQLITE_INT_H
#define VIGIL_STORE_SQLITE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "../obs_sql.h"
#include "../store_int.h"

#define SQ_CACHE_SLOTS 256 /* power of two, > number of distinct statements */

typedef struct sq_slot {
    const char *sql; /* identity: statements are static strings */
    sqlite3_stmt *stmt;
} sq_slot;

typedef struct sq_patcache sq_patcache;

/*
 * The statements that name obs_set's vital-sign columns, written once per
 * connection (at open) from the vital-sign table by src/store/obs_sql.c
 * (sq_obs_sql.c gives SQLite's dialect): adding a parameter adds its column
 * here with no edit. Their addresses are their statement-cache keys (stable
 * for the connection's life). A set's columns are always read and bound as
 * SQ_OBS_NCOLS in a row: one per table row in table order, then
 * spo2_scale, age_y, pregnant (sq_obs_read, sq_obs_bind).
 */
#define SQ_OBS_NCOLS VIGIL__OBS_NCOLS
typedef vigil__obs_sql sq_obs_sql;

typedef struct sq {
    sqlite3 *db;
    bool readonly;
    bool batch;       /* inside vigil_store_batch_begin .. commit: calls are savepoints */
    bool no_sync;     /* this transaction commits without an fsync (a read's audit) */
    bool unsynced;    /* a commit since the last fsync of the WAL was made without one */
    vigil__audit_chain op_saved; /* the head when the current call of the batch began */
    vigil__audit_chain head;     /* audit.c's view of the chain in this transaction */
    sq_slot cache[SQ_CACHE_SLOTS];
    sq_patcache *patcache; /* sq_patcache.c; NULL until the first patient is read */
    int64_t data_version;  /* PRAGMA data_version when the cache was last checked */
    sq_obs_sql obs_sql;    /* written at open, read-only after */
    bool lease_open;       /* lease_fd is <database>.lease, opened by the first lease_try */
    int lease_fd;
    bool lease_held;       /* the lock on the lease's byte is this handle's */
} sq;

/* The vigil application id in the SQLite header ("VIGL"). */
#define SQ_APPLICATION_ID 0x5649474C

/* Migrations: steps[i] brings user_version i to i + 1 (sq_schema.c). */
extern const char *const vigil__sqlite_migrations[];
extern const int vigil__sqlite_n_migrations;

/*
 * Bring db to n_steps, one step per transaction (BEGIN IMMEDIATE ... SET
 * user_version ... COMMIT): a failing step leaves the database at the
 * version before it. VIGIL_ERR_MISMATCH when the database is newer than
 * n_steps or is not a vigil database. Exposed for tests.
 */
vigil_status vigil__sqlite_migrate(sqlite3 *db, const char *const *steps, int n_steps,
                                   vigil_err *err);

/* The SQLite handle under a store (NULL for another backend). For tests. */
sqlite3 *vigil__sqlite_db(vigil_store *st);

/* Map an SQLite result code to a vigil_status, with "what: sqlite message". */
vigil_status sq_fail(sq *q, int rc, const char *what, vigil_err *err);

/* The cached prepared statement for sql (a static string: its address is
 * the cache key), reset and unbound. */
vigil_status sq_prep(sq *q, const char *sql, sqlite3_stmt **out, vigil_err *err);

/* Step a statement that returns no row to SQLITE_DONE, then reset it. */
vigil_status sq_run(sq *q, sqlite3_stmt *st, const char *what, vigil_err *err);

/* Step once: *row is true on SQLITE_ROW, false on SQLITE_DONE (then the
 * statement is reset). On error the statement is reset. */
vigil_status sq_step(sq *q, sqlite3_stmt *st, bool *row, const char *what, vigil_err *err);

/* Reset and unbind a statement after reading what was wanted. */
void sq_done(sqlite3_stmt *st);

/* Run a one-off SQL text (no results). */
vigil_status sq_exec(sq *q, const char *sql, vigil_err *err);

/* BEGIN IMMEDIATE / BEGIN (read) / end: commit when s is VIGIL_OK (rolling
 * back if the commit fails), else roll back; returns the final status.
 * Inside a batch (vigil_store_batch_begin) they are a savepoint, its release
 * and its rollback instead: the batch's commit makes the call durable. */
vigil_status sq_begin(sq *q, vigil_err *err);
vigil_status sq_begin_read(sq *q, vigil_err *err);
vigil_status sq_end(sq *q, vigil_status s, vigil_err *err);

/* Append one audit record inside the current write transaction. */
vigil_status sq_audit(sq *q, const vigil__audit_ev *ev, vigil_err *err);

/* Savepoints inside a write transaction: the in-memory head must roll back
 * with the records. sq_savepoint / sq_release / sq_rollback_to take the
 * caller's copy of the head to restore. */
vigil_status sq_savepoint(sq *q, vigil__audit_chain *saved, vigil_err *err);
vigil_status sq_release(sq *q, vigil_err *err);
vigil_status sq_rollback_to(sq *q, const vigil__audit_chain *saved, vigil_err *err);

/* The patient cache (sq_patcache.c): rows read by NHS number or hospital
 * number, kept exactly as stored. attach installs the hooks that empty it
 * (any patient row written, any rollback); sync empties it when another
 * connection has committed (call inside each write transaction); clear
 * empties it (a savepoint rolled back); get copies a cached row; put caches
 * one read from the table. */
#define SQ_PAT_BY_NHS 1
#define SQ_PAT_BY_MRN 2
void sq_patcache_attach(sq *q);
void sq_patcache_free(sq *q);
void sq_patcache_clear(sq *q);
vigil_status sq_patcache_sync(sq *q, vigil_err *err);
bool sq_patcache_get(sq *q, uint8_t kind, const char *key, vigil_patient *out);
void sq_patcache_put(sq *q, uint8_t kind, const vigil_patient *p);

/* Binding helpers (strings are bound SQLITE_STATIC: they must outlive the
 * step). _opt binds NULL for NULL or "", 0, NaN. */
void sq_bind_text(sqlite3_stmt *st, int i, const char *s);
void sq_bind_text_opt(sqlite3_stmt *st, int i, const char *s);
void sq_bind_i64(sqlite3_stmt *st, int i, int64_t v);
void sq_bind_i64_opt(sqlite3_stmt *st, int i, int64_t v);
void sq_bind_real_opt(sqlite3_stmt *st, int i, double v);

/* Copy column i as text into dst (NULL gives ""); false when it was cut. */
bool sq_col_text(sqlite3_stmt *st, int i, char *dst, size_t cap);
/* Column i as int64 (NULL gives 0) / as double (NULL gives NaN). */
int64_t sq_col_i64(sqlite3_stmt *st, int i);
double sq_col_real(sqlite3_stmt *st, int i);
/* Column i as an administrative sex (vigil_admin_sex_name text); NONE for NULL or
 * any other text. */
vigil_admin_sex sq_col_sex(sqlite3_stmt *st, int i);
/* Column i as an enum through a name table; -1 for NULL or unknown. */
int sq_col_enum(sqlite3_stmt *st, int i, const char *const *names, int n);

/* Row `id` of a (patient_id, closed) query must exist and be open: gives its
 * patient. NOT_FOUND "no <noun> N" / CONFLICT "<noun> N <closed_words>". */
vigil_status sq_open_row(sq *q, const char *sql, int64_t id, const char *field, const char *noun,
                         const char *closed_words, int64_t *patient_id, vigil_err *err);

/* Does row id exist in table (a static table name)? VIGIL_ERR_NOT_FOUND
 * naming what when not. */
vigil_status sq_require_row(sq *q, const char *sql_exists, int64_t id, const char *what,
                            vigil_err *err);

/* Ops split by topic across files. */
vigil_status vigil__sq_patient_ensure(void *be, const vigil_actor *who, const vigil_patient *p,
                                      int64_t *out_id, vigil_err *err);
vigil_status vigil__sq_patient_get(void *be, const vigil_actor *who, int64_t id, vigil_patient *out,
                                   vigil_err *err);
vigil_status vigil__sq_patient_find(void *be, const vigil_actor *who, const char *nhs,
                                    const char *mrn, vigil_patient *out, vigil_err *err);
vigil_status vigil__sq_admit(void *be, const vigil_actor *who, int64_t patient_id, const char *ward,
                             const char *bed, int64_t t_ms, int64_t *out_id, vigil_err *err);
vigil_status vigil__sq_move(void *be, const vigil_actor *who, int64_t admission_id,
                            const char *ward, const char *bed, int64_t t_ms, vigil_err *err);
vigil_status vigil__sq_discharge(void *be, const vigil_actor *who, int64_t admission_id,
                                 int64_t t_ms, vigil_err *err);
vigil_status vigil__sq_put_obs_batch(void *be, const vigil_actor *who,
                                     const vigil_store_obs_item *items, size_t n,
                                     vigil_store_put *out, vigil_err *err);
vigil_status vigil__sq_batch_begin(void *be, vigil_err *err);
vigil_status vigil__sq_batch_commit(void *be, vigil_err *err);
void vigil__sq_batch_rollback(void *be);
vigil_status vigil__sq_sync(void *be, vigil_err *err);
vigil_status vigil__sq_put_score(void *be, const vigil_actor *who, int64_t obs_id,
                                 const vigil_store_score *score, int64_t *out_id, vigil_err *err);
vigil_status vigil__sq_put_ai_batch(void *be, const vigil_actor *who,
                                    const vigil_store_ai_item *items, size_t n,
                                    vigil_status *status, vigil_err *err);
vigil_status vigil__sq_obs_recent(void *be, const vigil_actor *who, int64_t patient_id,
                                  int64_t from_ms, int64_t to_ms, size_t max,
                                  vigil_store_vitals *out, size_t *n, vigil_err *err);
vigil_status vigil__sq_obs_range(void *be, const vigil_actor *who, int64_t patient_id,
                                 int64_t from_ms, int64_t to_ms, size_t max_rows,
                                 vigil_store_obs_list *out, vigil_err *err);

vigil_status vigil__sq_episode_open(void *be, const vigil_actor *who, int64_t patient_id,
                                    vigil_news2_response level, vigil_store_trigger trigger,
                                    int64_t trigger_ref, int64_t supersedes_id, int64_t t_ms,
                                    const vigil_store_page_req *pages, size_t n_pages,
                                    int64_t *out_episode_id, int64_t *out_alert_id, vigil_err *err);
vigil_status vigil__sq_episode_close(void *be, const vigil_actor *who, int64_t episode_id,
                                     int64_t t_ms, const char *reason, vigil_err *err);
vigil_status vigil__sq_alert_repeat(void *be, const vigil_actor *who, int64_t alert_id,
                                    int64_t t_ms, int64_t last_by_ms, int rota_step,
                                    const char *notified, const vigil_store_page_req *pages,
                                    size_t n_pages, vigil_err *err);

/* Rotas and pages (sq_page.c). queue: pages[0..n) of alert_id (and of
 * repeat_id, 0 for the alert itself), inside the caller's transaction, each
 * audited; acked: the alert's pages are acknowledged at t_ms, those still
 * to send to a gateway cancelled (inside the acknowledgement's). */
vigil_status vigil__sq_pages_queue(sq *q, const vigil_actor *who, int64_t alert_id,
                                   int64_t repeat_id, int64_t patient_id, int64_t t_ms,
                                   const vigil_store_page_req *pages, size_t n, vigil_err *err);
vigil_status vigil__sq_page_failed(void *be, const vigil_actor *who, int64_t page_id,
                                   int64_t t_ms, const char *detail,
                                   const vigil_store_page_req *fallback, size_t n,
                                   vigil_err *err);
vigil_status vigil__sq_summary_last(void *be, int64_t *out_to_ms, vigil_err *err);
vigil_status vigil__sq_summaries_queue(void *be, const vigil_actor *who, const char *const *to,
                                       size_t n, int64_t from_ms, int64_t to_ms, vigil_err *err);
vigil_status vigil__sq_summaries_due(void *be, int64_t now_ms, vigil_store_summary *out,
                                     size_t max, size_t *n, vigil_err *err);
vigil_status vigil__sq_summary_attempt(void *be, const vigil_actor *who, int64_t id,
                                       int64_t t_ms, vigil_store_attempt_outcome outcome,
                                       int64_t next_ms, const char *detail, vigil_err *err);
vigil_status vigil__sq_ward_summaries(void *be, int64_t from_ms, int64_t to_ms,
                                      vigil_store_ward_summary *out, size_t max, size_t *n,
                                      vigil_err *err);
vigil_status vigil__sq_pages_acked(sq *q, const vigil_actor *who, int64_t alert_id, int64_t t_ms,
                                   vigil_err *err);
vigil_status vigil__sq_shift_add(void *be, const vigil_actor *who, const vigil_store_shift *s,
                                 int64_t *out_id, vigil_err *err);
vigil_status vigil__sq_shift_end(void *be, const vigil_actor *who, int64_t id, int64_t t_ms,
                                 vigil_store_shift *out, vigil_err *err);
vigil_status vigil__sq_shifts_get(void *be, const char *ward, int64_t from_ms, int64_t to_ms,
                                  vigil_store_shift *out, size_t max, size_t *n, vigil_err *err);
vigil_status vigil__sq_post_holders(void *be, const char *ward, const char *level, int step,
                                    int64_t t_ms, char (*out)[VIGIL_ID_MAX], size_t max, size_t *n,
                                    vigil_err *err);
vigil_status vigil__sq_rota_state(void *be, int64_t t_ms, vigil__rota_state *out, vigil_err *err);
vigil_status vigil__sq_pages_due(void *be, vigil_store_channel channel, int64_t now_ms,
                                 vigil_store_page *out, size_t max, size_t *n, vigil_err *err);
vigil_status vigil__sq_page_attempt(void *be, const vigil_actor *who, int64_t page_id,
                                    int64_t t_ms, vigil_store_attempt_outcome outcome,
                                    int64_t next_ms, const char *detail, vigil_err *err);
vigil_status vigil__sq_pages_for(void *be, const vigil_actor *who, int64_t since_ms,
                                 int64_t now_ms, vigil_store_page *out, size_t max, size_t *n,
                                 vigil_err *err);
vigil_status vigil__sq_page_read(void *be, const vigil_actor *who, int64_t page_id, int64_t t_ms,
                                 vigil_store_page *out, vigil_err *err);
vigil_status vigil__sq_pages_of_alert(void *be, int64_t alert_id, vigil_store_page *out,
                                      size_t max, size_t *n, vigil_err *err);
vigil_status vigil__sq_alert_ack(void *be, const vigil_actor *who, int64_t alert_id, int64_t t_ms,
                                 vigil_store_ack_action action, const char *reason, int64_t *out_id,
                                 vigil_err *err);
vigil_status vigil__sq_put_shadow(void *be, const vigil_actor *who, int64_t score_id,
                                  const vigil_store_ai *ai, vigil_err *err);
vigil_status vigil__sq_outcome_record(void *be, const vigil_actor *who, int64_t patient_id,
                                      int64_t admission_id, vigil_store_outcome_kind kind,
                                      int64_t t_ms, int64_t recorded_ms, const char *source,
                                      const char *note, int64_t *out_id, vigil_err *err);
vigil_status vigil__sq_outcomes_of(void *be, const vigil_actor *who, int64_t patient_id,
                                   vigil_store_outcome *out, size_t cap, size_t *out_n,
                                   vigil_err *err);
vigil_status vigil__sq_staff_concern(void *be, const vigil_actor *who, int64_t patient_id,
                                     int64_t t_ms, const char *concern, int64_t *out_id,
                                     vigil_err *err);
vigil_status vigil__sq_marthas_call_add(void *be, const vigil_actor *who,
                                        const vigil_store_marthas_call *call, int64_t *out_id,
                                        vigil_err *err);
vigil_status vigil__sq_marthas_review_add(void *be, const vigil_actor *who,
                                          const vigil_store_marthas_review *rev, int64_t *out_id,
                                          vigil_err *err);
vigil_status vigil__sq_daily_answer(void *be, const vigil_actor *who, int64_t patient_id,
                                    int64_t t_ms, vigil_store_feeling answer, int64_t *out_id,
                                    vigil_err *err);
vigil_status vigil__sq_ai_optout(void *be, const vigil_actor *who, int64_t patient_id, int64_t t_ms,
                                 const char *note, int64_t *out_id, vigil_err *err);
vigil_status vigil__sq_ai_optout_withdraw(void *be, const vigil_actor *who, int64_t patient_id,
                                          int64_t t_ms, vigil_err *err);
vigil_status vigil__sq_scale2_set(void *be, const vigil_actor *who, int64_t patient_id,
                                  int64_t t_ms, const char *reason, int64_t *out_id,
                                  vigil_err *err);
vigil_status vigil__sq_scale2_end(void *be, const vigil_actor *who, int64_t patient_id,
                                  int64_t t_ms, const char *reason, vigil_err *err);
vigil_status vigil__sq_plan_add(void *be, const vigil_actor *who, const vigil_store_plan *plan,
                                int64_t *out_id, vigil_err *err);
vigil_status vigil__sq_plan_revoke(void *be, const vigil_actor *who, int64_t plan_id, int64_t t_ms,
                                   const char *reason, vigil_err *err);

vigil_status vigil__sq_state_read(sq *q, int64_t patient_id, int64_t now_ms,
                                  vigil_store_patient_state *out, vigil_err *err);
vigil_status vigil__sq_patient_state_get(void *be, const vigil_actor *who, int64_t patient_id,
                                         int64_t now_ms, vigil_store_patient_state *out,
                                         vigil_err *err);
vigil_status vigil__sq_state_at(void *be, int64_t patient_id, int64_t now_ms,
                                vigil_store_patient_state *out, int64_t *out_valid_until_ms,
                                vigil_err *err);
vigil_status vigil__sq_read_txn(void *be, bool durable, vigil__txn_fn fn, void *ctx,
                                vigil_err *err);
vigil_status vigil__sq_audit_append(void *be, const vigil__audit_ev *ev, vigil_err *err);
vigil_status vigil__sq_data_version(void *be, int64_t *out, vigil_err *err);
vigil_status vigil__sq_lease_try(void *be, const char *name, bool *out_held, vigil_err *err);
vigil_status vigil__sq_changes(void *be, int64_t *out, vigil_err *err);
/* Close what the lease holds (sq_nodes.c), at the handle's close. */
void sq_lease_close(sq *q);
vigil_status vigil__sq_ward_beds(void *be, const char *ward, vigil_store_ward_list *out,
                                 vigil_err *err);
vigil_status vigil__sq_patient_place(void *be, int64_t patient_id,
                                     vigil_store_patient_current *out, vigil_err *err);
vigil_status vigil__sq_score_pick(void *be, int64_t patient_id, vigil__score_pick which,
                                  int64_t after_ms, vigil__score_row *out, bool *found,
                                  vigil_err *err);
vigil_status vigil__sq_patient_history(void *be, const vigil_actor *who, int64_t patient_id,
                                       size_t limit, vigil_store_history_cb cb, void *ctx,
                                       vigil_err *err);
vigil_status vigil__sq_episodes_open(void *be, const vigil_actor *who, const char *ward,
                                     vigil_store_episode_list *out, vigil_err *err);
vigil_status vigil__sq_marthas_walk(void *be, const vigil_actor *who, int64_t from_ms,
                                    int64_t to_ms, vigil__marthas_cb cb, void *ctx, vigil_err *err);

vigil_status vigil__sq_user_add(void *be, const vigil_actor *who, const char *username,
                                const char *display_name, vigil_store_role role, const char *hash,
                                const char *const *wards, size_t n_wards, int64_t *out_id,
                                vigil_err *err);
vigil_status vigil__sq_user_list(void *be, const vigil_actor *who, vigil_store_user_list *out,
                                 vigil_err *err);
vigil_status vigil__sq_user_get(void *be, const char *username, vigil_store_user *out,
                                char hash_out[VIGIL_PASSWORD_HASH_MAX], vigil_err *err);
vigil_status vigil__sq_user_set_hash(void *be, const vigil_actor *who, const char *username,
                                     const char *hash, vigil_err *err);
vigil_status vigil__sq_row_digest(void *be, const char *entity, int64_t id,
                                  char out[VIGIL__ROW_DIGEST_HEX + 1], vigil_err *err);
vigil_status vigil__sq_user_enable(void *be, const vigil_actor *who, const char *username,
                                   vigil_err *err);
vigil_status vigil__sq_user_disable(void *be, const vigil_actor *who, const char *username,
                                    int64_t t_ms, size_t *out_sessions_ended, vigil_err *err);
vigil_status vigil__sq_audit_event(void *be, const vigil__audit_ev *ev, vigil_err *err);
vigil_status vigil__sq_audit_walk(void *be, vigil__audit_cb cb, void *ctx, int64_t *head_seq,
                                  uint8_t head_hash[VIGIL_AUDIT_HASH_LEN], vigil_err *err);
vigil_status vigil__sq_audit_head(void *be, int64_t *out_seq,
                                  uint8_t out_hash[VIGIL_AUDIT_HASH_LEN], vigil_err *err);
vigil_status vigil__sq_audit_read(void *be, const vigil_actor *who, int64_t from_seq,
                                  vigil_audit_record *out, size_t max, size_t *out_n,
                                  vigil_err *err);

/* Reading a score row (columns from SQ_SCORE_COLS at offset c) into news2
 * and AI fields. */
#define SQ_SCORE_COLS VIGIL__SCORE_COLS
#define SQ_SCORE_NCOLS VIGIL__SCORE_NCOLS
void vigil__sq_read_news2(sqlite3_stmt *st, int c, vigil_news2 *out);

/* sq_set_rows.c: the ward of a patient's open bed stay, unaudited
 * (vigil_store_patient_ward). */
vigil_status vigil__sq_patient_ward(void *be, int64_t patient_id,
                                    char out_ward[VIGIL_STORE_NAME_MAX + 1], vigil_err *err);

/* sq_obs_sql.c: write q's obs_sql from the vital-sign table (at open) in
 * SQLite's dialect (src/store/obs_sql.c). VIGIL_ERR_INTERNAL when a
 * statement does not fit (a table far larger than today's). */
vigil_status sq_obs_sql_build(sq_obs_sql *out, vigil_err *err);

/* Read the SQ_OBS_NCOLS set columns starting at column c into obs. */
void sq_obs_read(sqlite3_stmt *st, int c, vigil_obs *obs);

/* Bind obs to the SQ_OBS_NCOLS parameters starting at ?i. */
void sq_obs_bind(sqlite3_stmt *st, int i, const vigil_obs *obs);


/* sq_user.c: a secret stored once (vigil_store_secret_ensure). */
vigil_status vigil__sq_secret_ensure(void *be, const char *name, const uint8_t *candidate,
                                     size_t len, uint8_t out[VIGIL_STORE_SECRET_MAX],
                                     size_t *out_len, vigil_err *err);

/* sq_session.c: sign-in sessions (vigil_store_session_*). */
vigil_status vigil__sq_session_add(void *be, const vigil__session_add *a, vigil_err *err);
vigil_status vigil__sq_session_get(void *be, const uint8_t *hash, vigil__session_row *out,
                                   bool *found, vigil_err *err);
vigil_status vigil__sq_session_touch(void *be, const uint8_t *hash, int64_t now_ms,
                                     vigil_err *err);
vigil_status vigil__sq_session_end(void *be, const uint8_t *hash, size_t *out_n, vigil_err *err);
/* Inside the caller's write transaction: delete every session of username;
 * *out_n how many. */
vigil_status sq_sessions_end_user(sq *q, const char *username, size_t *out_n, vigil_err *err);

/* sq_copy.c: copying a store (vigil_store_copy) */
vigil_status vigil__sq_schema_columns(void *be, vigil__column_cb cb, void *ctx, vigil_err *err);
vigil_status vigil__sq_rows_walk(void *be, const vigil__copy_table *tables, size_t n,
                                 vigil__row_cb cb, void *ctx, vigil_err *err);
vigil_status vigil__sq_rows_put(void *be, const vigil__copy_table *t, bool update,
                                const vigil__cell *cells, size_t n_rows, vigil_err *err);
vigil_status vigil__sq_ids_advance(void *be, const char *table, const char *column, vigil_err *err);
/* sq_core.c: test support (vigil_store_count_rows). */
vigil_status vigil__sq_count_rows(void *be, const char *table, const char *where, int64_t *out_n,
                                  vigil_err *err);

/* sq_set_rows.c: the monitoring rows (vigil_store_set_rows). */
vigil_status vigil__sq_set_rows(void *be, int64_t from_ms, int64_t to_ms,
                                vigil_store_set_row_cb cb, void *ctx, vigil_err *err);

#endif
