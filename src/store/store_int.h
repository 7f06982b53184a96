/*
 * store_int.h: private to src/store: the backend function table behind
 * vigil_store, the name tables shared by backends, and audit helpers.
 *
 * Division of work: store.c checks every backend-independent rule (NHS
 * number check digit, plausibility, NEWS2 consistency, required reasons,
 * text limits, enum ranges) before calling a backend, so a backend receives
 * only valid arguments and does storage: SQL, transactions, constraints,
 * and the audit record of each call in the same transaction.
 */
#ifndef VIGIL_STORE_INT_H
#define VIGIL_STORE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "vigil/audit.h"
#include "vigil/store.h"

/* Name tables (index = enum value), shared so every backend stores the same
 * text. */
extern const char *const vigil__store_level_names[VIGIL_RESP_COUNT];
extern const char *const vigil__store_trigger_names[VIGIL_STORE_TRIGGER_COUNT];
extern const char *const vigil__store_ack_names[VIGIL_STORE_ACK_COUNT];
extern const char *const vigil__store_caller_names[VIGIL_STORE_CALLER_COUNT];
extern const char *const vigil__store_mr_category_names[VIGIL_STORE_MR_CATEGORY_COUNT];
extern const char *const vigil__store_mr_outcome_names[VIGIL_STORE_MR_OUTCOME_COUNT];
extern const char *const vigil__store_feeling_names[VIGIL_STORE_FEEL_COUNT];
extern const char *const vigil__store_role_names[VIGIL_STORE_ROLE_COUNT];
extern const char *const vigil__store_source_names[VIGIL_SRC_COUNT];
extern const char *const vigil__store_risk_names[VIGIL_RISK_COUNT];
extern const char *const vigil__store_monitoring_names[VIGIL_MON_COUNT];
extern const char *const vigil__store_response_names[VIGIL_RESP_COUNT];

/* Index of text in names[0..n), or -1. NULL text gives -1. */
int vigil__store_lookup(const char *const *names, int n, const char *text);

/* Wall-clock time now, Unix ms UTC. */
int64_t vigil__store_now_ms(void);

/* Format t_ms as "YYYY-MM-DDTHH:MM:SSZ" (seconds precision) into out. */
void vigil__store_iso8601(int64_t t_ms, char out[32]);

/* Copy src into dst (cap bytes) when it fits; VIGIL_ERR_ARG naming field
 * otherwise. NULL src copies "". */
vigil_status vigil__store_copy(char *dst, size_t cap, const char *src, const char *field,
                               vigil_err *err);

/* Check an actor: user and reason given, non-blank, within their limits. */
vigil_status vigil__store_check_actor(const vigil_actor *who, vigil_err *err);

/* Check a score against the observations it scores (time, NEWS2 equal to
 * vigil_news2_score's, AI fields): for backends storing a score for a set
 * read back from storage. */
vigil_status vigil__store_check_score(const vigil_obs *obs, const vigil_store_score *score,
                                      vigil_err *err);

/* One audit event as a backend call describes it; the backend adds seq,
 * time and hashes when it appends it. */
typedef struct vigil__audit_ev {
    const vigil_actor *who;
    const char *action;
    const char *entity;
    int64_t entity_id;
    int64_t patient_id;
    char detail[VIGIL_AUDIT_TEXT_MAX];
} vigil__audit_ev;

/* Fill ev (detail printf-style, truncated to fit: detail is a summary). */
void vigil__audit_ev_set(vigil__audit_ev *ev, const vigil_actor *who, const char *action,
                         const char *entity, int64_t entity_id, int64_t patient_id, const char *fmt,
                         ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 7, 8)))
#endif
    ;

/* A string cut at its buffer's end: drop a last UTF-8 sequence the cut
 * left incomplete, so the text stays valid UTF-8. */
void vigil__store_cut_utf8(char *s);

/* Build the record to append after the head (head_seq, head_hash) at t_ms:
 * copies ev, sets seq, prev_hash and hash. */
vigil_status vigil__audit_make(const vigil__audit_ev *ev, int64_t t_ms, int64_t head_seq,
                               const uint8_t head_hash[VIGIL_AUDIT_HASH_LEN],
                               vigil_audit_record *out, vigil_err *err);

/*
 * The audit chain's appends, driven by audit.c for every backend. A backend's
 * write transaction appends each audit record with vigil__audit_append, which
 * builds it after the chain's head (vigil__audit_make) and has the backend
 * store it. The first append of a transaction takes the head lock
 * (vigil__audit_io.head_lock): until that transaction ends no other one, on
 * any connection, in any process or node sharing the database, can append,
 * so the chain never forks. The head row is written once, just before the
 * commit (vigil__audit_flush).
 */
typedef struct vigil__audit_chain {
    bool valid; /* seq and hash were read under the head lock in this transaction */
    bool dirty; /* records were appended since: the head row must be written */
    int64_t seq;
    uint8_t hash[VIGIL_AUDIT_HASH_LEN];
} vigil__audit_chain;

/* A backend's storage primitives for the chain. Each is called only inside
 * the backend's open write transaction, on its own handle be. */
typedef struct vigil__audit_io {
    /* Lock the chain's head until the current transaction ends, then read it
     * (seq 0 and 32 zero bytes before the first record). SQLite: the
     * database's write lock, which its write transactions take when they begin
     * (BEGIN IMMEDIATE; VIGIL_ERR_INTERNAL outside one). PostgreSQL: a
     * transaction-scoped advisory lock, or SELECT ... FOR UPDATE on the head
     * row. */
    vigil_status (*head_lock)(void *be, int64_t *out_seq, uint8_t out_hash[VIGIL_AUDIT_HASH_LEN],
                              vigil_err *err);
    /* Store one record as made (seq, prev_hash and hash set). */
    vigil_status (*insert)(void *be, const vigil_audit_record *r, vigil_err *err);
    /* Write the head row: the last record's seq and hash (vigil__audit_flush).
     * NULL for a backend that writes it itself, with its records, before
     * its commit (PostgreSQL: pg_core.c audit_send). */
    vigil_status (*head_set)(void *be, int64_t seq, const uint8_t hash[VIGIL_AUDIT_HASH_LEN],
                             vigil_err *err);
} vigil__audit_io;

/* A text grown as needed (grow_text.c): a statement, a parameter. failed
 * is set when memory ran out, and later appends do nothing; the caller
 * checks it once, and frees s. */
typedef struct vigil__text {
    char *s;
    size_t len, cap;
    bool failed;
} vigil__text;
void vigil__text_put(vigil__text *t, const char *p, size_t n);
void vigil__text_str(vigil__text *t, const char *p);
/* name double-quoted (an SQL identifier; names come from the schema). */
void vigil__text_ident(vigil__text *t, const char *name);

/* Forget the head: at each transaction's start and end (a savepoint's
 * rollback restores the copy of *c taken when it was set instead). */
void vigil__audit_chain_reset(vigil__audit_chain *c);

/* Append ev's record in be's current write transaction: the head is locked
 * and read on the transaction's first append, then advanced in *c. On error
 * the head in *c is not advanced (the backend rolls back what it stored). */
vigil_status vigil__audit_append(vigil__audit_chain *c, const vigil__audit_io *io, void *be,
                                 const vigil__audit_ev *ev, vigil_err *err);

/* Before the commit: write the head row when records were appended. */
vigil_status vigil__audit_flush(vigil__audit_chain *c, const vigil__audit_io *io, void *be,
                                vigil_err *err);

/*
 * Which patient an incoming set (or a patient_ensure) belongs to: the
 * wrong-patient rule, decided once above the backends (patient_match.c,
 * issue 15 item 1). A backend calls vigil__patient_match inside its own
 * open write transaction (the reads it decides from and the writes it makes
 * commit or roll back together) with these primitives on its handle be.
 */
typedef enum vigil__patient_key {
    VIGIL__PATIENT_BY_NHS = 1,
    VIGIL__PATIENT_BY_MRN = 2,
} vigil__patient_key;

typedef struct vigil__patient_io {
    /* The patient stored with this NHS number or hospital number, as stored
     * (identifiers "" when none); *found false (out untouched) when none. */
    vigil_status (*by_key)(void *be, vigil__patient_key by, const char *key, bool *found,
                           vigil_patient *out, vigil_err *err);
    /* Write set's non-empty texts (nhs_number, mrn, name, birth_date) and
     * its sex unless VIGIL_ADMIN_SEX_NONE into patient id; every other field
     * is kept. The rule decides what may be written. */
    vigil_status (*update)(void *be, int64_t id, const vigil_patient *set, vigil_err *err);
    /* A new patient row: p's texts ("" for none), sex, created at
     * created_ms; *out_id gets its id. */
    vigil_status (*insert)(void *be, const vigil_patient *p, int64_t created_ms, int64_t *out_id,
                           vigil_err *err);
    /* Append one audit record in the current transaction. */
    vigil_status (*audit)(void *be, const vigil__audit_ev *ev, vigil_err *err);
} vigil__patient_io;

/*
 * Find or create the patient with want's identifiers (nhs_number, mrn;
 * name, birth_date, sex fill in; "" / NONE for unknown) inside be's open
 * write transaction, audited there (patient.create, patient.update).
 * VIGIL_ERR_CONFLICT, writing nothing, when the NHS number and the hospital
 * number name two patients, or the patient found is stored with another
 * identifier than want's (REQ STORE-WRONG-PATIENT). A found patient's empty
 * identifiers, name and birth date are filled in; its administrative sex
 * follows REQ STORE-SEX-LATEST.
 */
vigil_status vigil__patient_match(const vigil__patient_io *io, void *be, const vigil_actor *who,
                                  const vigil_patient *want, int64_t *out_id, vigil_err *err);

/*
 * A resent message (the same source, sender and source id as a stored set):
 * is it the same set? Its time and content must be equal, and its patient
 * identifiers must be those stored (stored_nhs, stored_mrn: the stored
 * patient's, "" for none): an identifier the resend gives that the patient
 * was stored without is not the same message. Same: a duplicate, stored
 * once; otherwise a conflict, refused.
 */
bool vigil__resend_is_same(const vigil_obs_event *ev, int64_t stored_t_ms,
                           const vigil_obs *stored, const char *stored_nhs,
                           const char *stored_mrn);

/*
 * A move or discharge at t_ms of an admission whose current bed stay began
 * at since_ms: VIGIL_ERR_ARG, in words (never the constraint's SQL, issue
 * 11), when t_ms is before it; nothing is changed.
 */
vigil_status vigil__stay_check_order(int64_t since_ms, int64_t t_ms, vigil_err *err);

/*
 * Escalation episodes: when one may be opened, superseded or closed,
 * decided once above the backends (episode.c, issue 15 item 1). A backend
 * opens one write transaction and calls vigil__episode_open or
 * vigil__episode_close in it with these primitives on its handle be.
 */
typedef struct vigil__episode_io {
    /* VIGIL_ERR_NOT_FOUND ("no patient with id N") when there is no such
     * patient. Also locks the patient until the transaction ends where
     * write transactions run side by side (PostgreSQL: FOR UPDATE on its
     * row; SQLite's write lock already orders them): two nodes opening an
     * episode for one patient at once are decided one after the other. */
    vigil_status (*patient_exists)(void *be, int64_t patient_id, vigil_err *err);
    /* *out_id: an open episode of patient_id with this trigger other than
     * episode except (0 for none), or 0 when there is none. */
    vigil_status (*open_of_trigger)(void *be, int64_t patient_id, vigil_store_trigger trigger,
                                    int64_t except, int64_t *out_id, vigil_err *err);
    /* Episode id's patient and whether it is closed; *found false when
     * there is none. */
    vigil_status (*episode_get)(void *be, int64_t id, bool *found, int64_t *patient_id,
                                bool *closed, vigil_err *err);
    /* A new open episode (opened by who at t_ms; trigger_ref 0 for none)
     * and its first alert at the same level and time. */
    vigil_status (*episode_insert)(void *be, const vigil_actor *who, int64_t patient_id,
                                   vigil_news2_response level, vigil_store_trigger trigger,
                                   int64_t trigger_ref, int64_t t_ms, int64_t *out_episode_id,
                                   int64_t *out_alert_id, vigil_err *err);
    /* Close open episode id at t_ms by who with reason (superseded_by 0 for
     * none). */
    vigil_status (*episode_close)(void *be, const vigil_actor *who, int64_t id, int64_t t_ms,
                                  const char *reason, int64_t superseded_by, vigil_err *err);
    /* Queue pages[0..n) of alert_id for patient_id at t_ms, each audited. */
    vigil_status (*queue)(void *be, const vigil_actor *who, int64_t alert_id, int64_t patient_id,
                          int64_t t_ms, const vigil_store_page_req *pages, size_t n,
                          vigil_err *err);
    /* Append one audit record in the current transaction. */
    vigil_status (*audit)(void *be, const vigil__audit_ev *ev, vigil_err *err);
} vigil__episode_io;

/* vigil_store_episode_open's work in be's open write transaction. */
vigil_status vigil__episode_open(const vigil__episode_io *io, void *be, const vigil_actor *who,
                                 int64_t patient_id, vigil_news2_response level,
                                 vigil_store_trigger trigger, int64_t trigger_ref,
                                 int64_t supersedes_id, int64_t t_ms,
                                 const vigil_store_page_req *pages, size_t n_pages,
                                 int64_t *out_episode_id, int64_t *out_alert_id, vigil_err *err);

/* vigil_store_episode_close's work in be's open write transaction. */
vigil_status vigil__episode_close(const vigil__episode_io *io, void *be, const vigil_actor *who,
                                  int64_t episode_id, int64_t t_ms, const char *reason,
                                  vigil_err *err);

/*
 * Which admission a deterioration outcome belongs to, and when it is
 * refused: decided once above the backends (outcome.c, issue 15 item 1). A
 * backend opens one write transaction and calls vigil__outcome_record in it
 * with these primitives on its handle be.
 */
typedef struct vigil__outcome_io {
    /* Admission adm of patient_id (adm != 0) or the patient's latest by
     * admission time (adm 0): its id and start; *found false when none. */
    vigil_status (*admission)(void *be, int64_t patient_id, int64_t adm, bool *found,
                              int64_t *out_adm, int64_t *admitted_ms, vigil_err *err);
    /* The outcome row (recorded by who); *out_id its id. */
    vigil_status (*insert)(void *be, const vigil_actor *who, int64_t patient_id, int64_t adm,
                           vigil_store_outcome_kind kind, int64_t t_ms, int64_t recorded_ms,
                           const char *source, const char *note, int64_t *out_id,
                           vigil_err *err);
    /* Append one audit record in the current transaction. */
    vigil_status (*audit)(void *be, const vigil__audit_ev *ev, vigil_err *err);
} vigil__outcome_io;

/* vigil_store_outcome_record's work in be's open write transaction. */
vigil_status vigil__outcome_record(const vigil__outcome_io *io, void *be, const vigil_actor *who,
                                   int64_t patient_id, int64_t admission_id,
                                   vigil_store_outcome_kind kind, int64_t t_ms,
                                   int64_t recorded_ms, const char *source, const char *note,
                                   int64_t *out_id, vigil_err *err);

/* Callback for walking audit records: return 0 to continue, non-zero to stop. */
typedef int (*vigil__audit_cb)(void *ctx, const vigil_audit_record *r);

/* One Martha's Rule call joined with its review, for export. Borrowed
 * strings valid during the callback only. */
typedef struct vigil__marthas_row {
    int64_t call_id;
    int64_t t_ms;
    int64_t patient_id;
    const char *nhs_number;
    const char *ward;
    const char *caller;
    const char *caller_name;
    const char *channel;
    const char *concern;
    const char *recorded_by;
    bool reviewed;
    const char *responder;
    int64_t reviewed_ms;
    const char *category;
    const char *outcome;
    const char *note;
} vigil__marthas_row;

/* VIGIL_ERR_DENIED from the callback skips the row (outside the reader's
 * scope): it is not audited as read. */
typedef vigil_status (*vigil__marthas_cb)(void *ctx, const vigil__marthas_row *r, vigil_err *err);

/* The body of a backend transaction (read_txn): VIGIL_OK commits. */
typedef vigil_status (*vigil__txn_fn)(void *ctx, vigil_err *err);

/* Which scored set score_pick reads (REQ ESC-PARTIAL-NEVER-LOWERS). */
typedef enum vigil__score_pick {
    /* the latest by min(measured, received) among the sets measured within an
     * hour of the latest measured one (a fast device clock never hides a newer
     * set), then by id */
    VIGIL__SCORE_LATEST = 0,
    VIGIL__SCORE_LATEST_COMPLETE, /* the latest complete set, by measured time then id */
    /* the highest-scoring incomplete set measured after after_ms (then latest,
     * then highest id) */
    VIGIL__SCORE_PARTIAL_PEAK,
    VIGIL__SCORE_PICK_COUNT
} vigil__score_pick;

/* A scored set as the ward list needs it. AI fields only for
 * VIGIL__SCORE_LATEST (has_ai false otherwise). */
typedef struct vigil__score_row {
    int64_t score_id;
    int64_t obs_ms;   /* when measured */
    int64_t order_ms; /* min(measured, received) */
    vigil_news2 news2;
    bool has_ai;
    double ai_prob;
    bool ai_low_confidence;
} vigil__score_row;

#define VIGIL__ROW_DIGEST_HEX 32 /* BLAKE2b-128 of a row's content, in hex */

/* The text of a finite REAL in a row digest's text: what SQLite's quote()
 * writes for it (row_text.c; the first version's digests were made by
 * SQLite), so every backend recomputes the same digest. Returns its length;
 * out is NUL-terminated. */
#define VIGIL__ROW_REAL_TEXT_MAX 40
size_t vigil__row_text_real(double v, char out[VIGIL__ROW_REAL_TEXT_MAX]);

/* Name tables of rotas and pages (page.c). Rota levels: the four alert
 * levels, then "in-charge". */
#define VIGIL__ROTA_LEVELS 5
extern const char *const vigil__store_rota_level_names[VIGIL__ROTA_LEVELS];
extern const char *const vigil__store_channel_names[VIGIL_STORE_CHANNEL_COUNT];
extern const char *const vigil__store_page_state_names[VIGIL_STORE_PAGE_STATE_COUNT];
extern const char *const vigil__store_attempt_names[VIGIL_STORE_ATTEMPT_OUTCOME_COUNT];

/*
 * Where a page stands after a delivery attempt, and the fallback pages of a
 * failed one: decided once above the backends (page_delivery.c, issue 15
 * item 1). A backend opens one write transaction and calls
 * vigil__page_attempt or vigil__page_failed in it with these primitives on
 * its handle be, so the page read and every write commit or roll back
 * together.
 */
typedef struct vigil__page_io {
    /* The page (VIGIL_ERR_NOT_FOUND "no page N" when there is none). */
    vigil_status (*get)(void *be, int64_t id, vigil_store_page *out, vigil_err *err);
    /* Keep one attempt (append-only page_attempt row). */
    vigil_status (*attempt_insert)(void *be, int64_t id, int64_t t_ms,
                                   vigil_store_attempt_outcome outcome, const char *detail,
                                   vigil_err *err);
    /* A page still pending after an attempt: one more attempt, state,
     * last_error and next_ms as given, delivered_ms t_ms when delivered. Only
     * while the stored page is still pending. */
    vigil_status (*set_after)(void *be, int64_t id, int64_t t_ms, vigil_store_page_state state,
                              const char *last_error, int64_t next_ms, vigil_err *err);
    /* A cancelled page delivered after all: state delivered at t_ms, one more
     * attempt, no error. Only while the stored page is cancelled. */
    vigil_status (*set_late_delivered)(void *be, int64_t id, int64_t t_ms, vigil_err *err);
    /* Queue the gateway's acknowledgement notice of delivered page id. */
    vigil_status (*ack_notice)(void *be, const vigil_actor *who, int64_t id, int64_t t_ms,
                               vigil_err *err);
    /* Queue pages[0..n) of alert_id for patient_id at t_ms, each audited. */
    vigil_status (*queue)(void *be, const vigil_actor *who, int64_t alert_id, int64_t patient_id,
                          int64_t t_ms, const vigil_store_page_req *pages, size_t n,
                          vigil_err *err);
    /* Append one audit record in the current transaction. */
    vigil_status (*audit)(void *be, const vigil__audit_ev *ev, vigil_err *err);
} vigil__page_io;

/* One delivery attempt of page id at t_ms (vigil_store_page_attempt), in
 * be's open write transaction. */
vigil_status vigil__page_attempt(const vigil__page_io *io, void *be, const vigil_actor *who,
                                 int64_t id, int64_t t_ms, vigil_store_attempt_outcome outcome,
                                 int64_t next_ms, const char *detail, vigil_err *err);

/* Page id failed for good at t_ms: the failed attempt, and when the page was
 * still pending the fallback pages of its alert (vigil_store_page_failed),
 * in be's open write transaction. */
vigil_status vigil__page_failed(const vigil__page_io *io, void *be, const vigil_actor *who,
                                int64_t id, int64_t t_ms, const char *detail,
                                const vigil_store_page_req *fallback, size_t n, vigil_err *err);

/* What the rota's gaps at a time are worked out from (page.c,
 * REQ ROTA-GAP), read by the backend's rota_state in one snapshot. */
typedef struct vigil__rota_state {
    /* the wards to watch: an open bed stay there, or a shift of the ward's
     * own (never "*") not over by the time; by name, each once; malloc'd */
    char (*wards)[VIGIL_STORE_NAME_MAX + 1];
    size_t n_wards;
    /* each post (ward or "*", level, step) an enabled user holds at the time,
     * once; malloc'd */
    vigil_store_rota_gap *held;
    size_t n_held;
} vigil__rota_state;

/* Release what a rota_state read holds; the struct is then empty. */
void vigil__rota_state_fini(vigil__rota_state *s);

/* Check pages[0..n) to queue with an alert or repeat (page.c). */
vigil_status vigil__store_check_pages(const vigil_store_page_req *pages, size_t n, vigil_err *err);

/* A new session as session_add stores it (session.c fills it). */
typedef struct vigil__session_add {
    const uint8_t *hash; /* VIGIL_STORE_SESSION_HASH_LEN bytes */
    const char *username;
    int64_t now_ms;
    int64_t idle_cut_ms; /* live: last used after this (now - idle) */
    int64_t max_cut_ms;  /* and begun after this (now - max) */
    size_t per_user;
    size_t total;
} vigil__session_add;

/* A stored session as session_get reads it: its times and its user (role,
 * wards, disabled as stored now). */
typedef struct vigil__session_row {
    int64_t created_ms;
    int64_t last_ms;
    vigil_store_user user;
} vigil__session_row;
/*
 * Copying a store (migrate.c, vigil migrate): a table's rows as typed cells,
 * the same for every backend, so one backend's rows are written into another
 * above the table. The types are the storage classes both engines share:
 * SQLite's STRICT INTEGER, REAL, TEXT, BLOB and PostgreSQL's BIGINT, DOUBLE
 * PRECISION, TEXT, BYTEA.
 */
typedef enum vigil__cell_type {
    VIGIL__CELL_NULL = 0,
    VIGIL__CELL_INT,
    VIGIL__CELL_REAL,
    VIGIL__CELL_TEXT, /* p, len: the UTF-8 bytes (no NUL counted) */
    VIGIL__CELL_BLOB, /* p, len: the bytes */
    VIGIL__CELL_TYPE_COUNT
} vigil__cell_type;

typedef struct vigil__cell {
    vigil__cell_type type;
    int64_t i;
    double r;
    const void *p;
    size_t len;
} vigil__cell;

/* One table as copied: its name and columns, named in this order, and the
 * columns a walk orders its rows by (its key: SQL, built by migrate.c from
 * names it checked are identifiers). */
typedef struct vigil__copy_table {
    const char *name;
    const char *const *cols;
    size_t n_cols;
    const char *order;
} vigil__copy_table;

/* Append "SELECT <its columns> FROM <it> ORDER BY <its order>" for t: the
 * walk's statement, the same on every backend (grow_text.c). */
void vigil__copy_select_sql(vigil__text *sql, const vigil__copy_table *t);

/* Called for each (table, column) of a store's schema; non-OK stops. */
typedef vigil_status (*vigil__column_cb)(void *ctx, const char *table, const char *column,
                                         vigil_err *err);
/* Called for each row a walk reads: cells[0..n_cols) of tables[table],
 * borrowed until it returns; non-OK stops the walk and is returned. */
typedef vigil_status (*vigil__row_cb)(void *ctx, size_t table, const vigil__cell *cells,
                                      vigil_err *err);

/* Role masks for backend checks. */
#define VIGIL__ROLE_BIT(r) (1u << (unsigned)(r))

/*
 * The backend table. Arguments arrive validated (see the top of this file).
 * Every function that writes or reads patient data appends its audit
 * record(s) in the same transaction and returns only after COMMIT.
 */
typedef struct vigil__store_ops {
    const char *name;
    vigil_status (*open)(const char *target, unsigned flags, void **out_be, vigil_err *err);
    void (*close)(void *be);

    vigil_status (*patient_ensure)(void *be, const vigil_actor *who, const vigil_patient *p,
                                   int64_t *out_id, vigil_err *err);
    vigil_status (*patient_get)(void *be, const vigil_actor *who, int64_t id, vigil_patient *out,
                                vigil_err *err);
    vigil_status (*patient_find)(void *be, const vigil_actor *who, const char *nhs, const char *mrn,
                                 vigil_patient *out, vigil_err *err);
    vigil_status (*admit)(void *be, const vigil_actor *who, int64_t patient_id, const char *ward,
                          const char *bed, int64_t t_ms, int64_t *out_id, vigil_err *err);
    vigil_status (*move)(void *be, const vigil_actor *who, int64_t admission_id, const char *ward,
                         const char *bed, int64_t t_ms, vigil_err *err);
    vigil_status (*discharge)(void *be, const vigil_actor *who, int64_t admission_id, int64_t t_ms,
                              vigil_err *err);

    /* out[i].status is preset to VIGIL_OK for items store.c accepted and to
     * the refusal for the others; the backend skips refused items. */
    vigil_status (*put_obs_batch)(void *be, const vigil_actor *who,
                                  const vigil_store_obs_item *items, size_t n, vigil_store_put *out,
                                  vigil_err *err);
    vigil_status (*batch_begin)(void *be, vigil_err *err);
    vigil_status (*batch_commit)(void *be, vigil_err *err);
    void (*batch_rollback)(void *be);
    vigil_status (*sync)(void *be, vigil_err *err);
    vigil_status (*put_score)(void *be, const vigil_actor *who, int64_t obs_id,
                              const vigil_store_score *score, int64_t *out_id, vigil_err *err);
    /* status[i] is preset to VIGIL_OK for items store.c accepted and to the
     * refusal for the others; the backend skips refused items. */
    vigil_status (*put_ai_batch)(void *be, const vigil_actor *who, const vigil_store_ai_item *items,
                                 size_t n, vigil_status *status, vigil_err *err);
    vigil_status (*obs_recent)(void *be, const vigil_actor *who, int64_t patient_id,
                               int64_t from_ms, int64_t to_ms, size_t max, vigil_store_vitals *out,
                               size_t *n, vigil_err *err);
    vigil_status (*obs_range)(void *be, const vigil_actor *who, int64_t patient_id, int64_t from_ms,
                              int64_t to_ms, size_t max_rows, vigil_store_obs_list *out,
                              vigil_err *err);

    vigil_status (*episode_open)(void *be, const vigil_actor *who, int64_t patient_id,
                                 vigil_news2_response level, vigil_store_trigger trigger,
                                 int64_t trigger_ref, int64_t supersedes_id, int64_t t_ms,
                                 const vigil_store_page_req *pages, size_t n_pages,
                                 int64_t *out_episode_id, int64_t *out_alert_id, vigil_err *err);
    vigil_status (*episode_close)(void *be, const vigil_actor *who, int64_t episode_id,
                                  int64_t t_ms, const char *reason, vigil_err *err);
    /* In ONE transaction, the alert locked first so that every other repeat
     * of it (any connection, process, node) waits: when the alert's last
     * sending (its latest repeat's t_ms, else its raised_ms) is after
     * last_by_ms, VIGIL_ERR_CONFLICT and nothing written; else the repeat, its
     * audit record and its pages. */
    vigil_status (*alert_repeat)(void *be, const vigil_actor *who, int64_t alert_id, int64_t t_ms,
                                 int64_t last_by_ms, int rota_step, const char *notified,
                                 const vigil_store_page_req *pages, size_t n_pages, vigil_err *err);

    /* rotas and pages (page.c checks the arguments) */
    vigil_status (*shift_add)(void *be, const vigil_actor *who, const vigil_store_shift *s,
                              int64_t *out_id, vigil_err *err);
    vigil_status (*shift_end)(void *be, const vigil_actor *who, int64_t id, int64_t t_ms,
                              vigil_store_shift *out, vigil_err *err);
    vigil_status (*shifts_get)(void *be, const char *ward, int64_t from_ms, int64_t to_ms,
                               vigil_store_shift *out, size_t max, size_t *n, vigil_err *err);
    /* The enabled users holding exactly the post (ward or "*", level, step) at
     * t_ms, earliest shift first: at most max into out, *n all of them. No
     * fallback to "*" (page.c's rule). Unaudited. */
    vigil_status (*post_holders)(void *be, const char *ward, const char *level, int step,
                                 int64_t t_ms, char (*out)[VIGIL_ID_MAX], size_t max, size_t *n,
                                 vigil_err *err);
    /* In one snapshot, what page.c works the gaps out from (vigil__rota_state).
     * *out is empty on error. Unaudited. */
    vigil_status (*rota_state)(void *be, int64_t t_ms, vigil__rota_state *out, vigil_err *err);
    vigil_status (*pages_due)(void *be, vigil_store_channel channel, int64_t now_ms,
                              vigil_store_page *out, size_t max, size_t *n, vigil_err *err);
    vigil_status (*page_attempt)(void *be, const vigil_actor *who, int64_t page_id, int64_t t_ms,
                                 vigil_store_attempt_outcome outcome, int64_t next_ms,
                                 const char *detail, vigil_err *err);
    vigil_status (*pages_for)(void *be, const vigil_actor *who, int64_t since_ms, int64_t now_ms,
                              vigil_store_page *out, size_t max, size_t *n, vigil_err *err);
    vigil_status (*page_read)(void *be, const vigil_actor *who, int64_t page_id, int64_t t_ms,
                              vigil_store_page *out, vigil_err *err);
    vigil_status (*pages_of_alert)(void *be, int64_t alert_id, vigil_store_page *out, size_t max,
                                   size_t *n, vigil_err *err);
    vigil_status (*page_failed)(void *be, const vigil_actor *who, int64_t page_id, int64_t t_ms,
                                const char *detail, const vigil_store_page_req *fallback,
                                size_t n, vigil_err *err);
    vigil_status (*summary_last)(void *be, int64_t *out_to_ms, vigil_err *err);
    vigil_status (*summaries_queue)(void *be, const vigil_actor *who, const char *const *to,
                                    size_t n, int64_t from_ms, int64_t to_ms, vigil_err *err);
    vigil_status (*summaries_due)(void *be, int64_t now_ms, vigil_store_summary *out, size_t max,
                                  size_t *n, vigil_err *err);
    vigil_status (*summary_attempt)(void *be, const vigil_actor *who, int64_t id, int64_t t_ms,
                                    vigil_store_attempt_outcome outcome, int64_t next_ms,
                                    const char *detail, vigil_err *err);
    vigil_status (*ward_summaries)(void *be, int64_t from_ms, int64_t to_ms,
                                   vigil_store_ward_summary *out, size_t max, size_t *n,
                                   vigil_err *err);
    vigil_status (*alert_ack)(void *be, const vigil_actor *who, int64_t alert_id, int64_t t_ms,
                              vigil_store_ack_action action, const char *reason, int64_t *out_id,
                              vigil_err *err);
    vigil_status (*episodes_open)(void *be, const vigil_actor *who, const char *ward,
                                  vigil_store_episode_list *out, vigil_err *err);
    vigil_status (*patient_history)(void *be, const vigil_actor *who, int64_t patient_id,
                                    size_t limit, vigil_store_history_cb cb, void *ctx,
                                    vigil_err *err);

    vigil_status (*put_shadow)(void *be, const vigil_actor *who, int64_t score_id,
                               const vigil_store_ai *ai, vigil_err *err);
    vigil_status (*outcome_record)(void *be, const vigil_actor *who, int64_t patient_id,
                                   int64_t admission_id, vigil_store_outcome_kind kind,
                                   int64_t t_ms, int64_t recorded_ms, const char *source,
                                   const char *note, int64_t *out_id, vigil_err *err);
    vigil_status (*outcomes_of)(void *be, const vigil_actor *who, int64_t patient_id,
                                vigil_store_outcome *out, size_t cap, size_t *out_n,
                                vigil_err *err);
    vigil_status (*staff_concern)(void *be, const vigil_actor *who, int64_t patient_id,
                                  int64_t t_ms, const char *concern, int64_t *out_id,
                                  vigil_err *err);
    vigil_status (*marthas_call_add)(void *be, const vigil_actor *who,
                                     const vigil_store_marthas_call *call, int64_t *out_id,
                                     vigil_err *err);
    vigil_status (*marthas_review_add)(void *be, const vigil_actor *who,
                                       const vigil_store_marthas_review *rev, int64_t *out_id,
                                       vigil_err *err);
    vigil_status (*marthas_walk)(void *be, const vigil_actor *who, int64_t from_ms, int64_t to_ms,
                                 vigil__marthas_cb cb, void *ctx, vigil_err *err);

    vigil_status (*daily_answer)(void *be, const vigil_actor *who, int64_t patient_id, int64_t t_ms,
                                 vigil_store_feeling answer, int64_t *out_id, vigil_err *err);
    vigil_status (*ai_optout)(void *be, const vigil_actor *who, int64_t patient_id, int64_t t_ms,
                              const char *note, int64_t *out_id, vigil_err *err);
    vigil_status (*ai_optout_withdraw)(void *be, const vigil_actor *who, int64_t patient_id,
                                       int64_t t_ms, vigil_err *err);
    vigil_status (*scale2_set)(void *be, const vigil_actor *who, int64_t patient_id, int64_t t_ms,
                               const char *reason, int64_t *out_id, vigil_err *err);
    vigil_status (*scale2_end)(void *be, const vigil_actor *who, int64_t patient_id, int64_t t_ms,
                               const char *reason, vigil_err *err);
    vigil_status (*plan_add)(void *be, const vigil_actor *who, const vigil_store_plan *plan,
                             int64_t *out_id, vigil_err *err);
    vigil_status (*plan_revoke)(void *be, const vigil_actor *who, int64_t plan_id, int64_t t_ms,
                                const char *reason, vigil_err *err);
    vigil_status (*patient_state_get)(void *be, const vigil_actor *who, int64_t patient_id,
                                      int64_t now_ms, vigil_store_patient_state *out,
                                      vigil_err *err);

    /* The ward list's and the patient view's primitive reads; wardlist.c
     * assembles them (which score rows, the audit record, the cache). */
    /* Run fn(ctx) inside ONE write transaction and commit it when fn returns
     * VIGIL_OK (roll back otherwise; fn's status is returned). durable:
     * false commits without waiting for the disk (made durable by the next
     * durable commit or sync; REQ STORE-READ-AUDIT-SYNC). Inside a batch it
     * is one of the batch's calls. fn calls the functions below. */
    vigil_status (*read_txn)(void *be, bool durable, vigil__txn_fn fn, void *ctx, vigil_err *err);
    /* The open bed stays on ward (open admission), by bed then patient id:
     * each row's patient, admission_id, bed, bed_since_ms, last_obs_id and
     * last_obs_ms set, the rest zero. out->rows malloc'd (out empty on error). */
    vigil_status (*ward_beds)(void *be, const char *ward, vigil_store_ward_list *out,
                              vigil_err *err);
    /* One patient's identity, open admission (admission_id and admitted_ms 0
     * when none), current ward and bed and latest set (out->entry's fields as
     * for ward_beds; the rest zero). VIGIL_ERR_NOT_FOUND: no such patient. */
    vigil_status (*patient_place)(void *be, int64_t patient_id,
                                  vigil_store_patient_current *out, vigil_err *err);
    /* One scored set of the patient chosen by which (see vigil__score_pick);
     * *found false (out untouched) when there is none. */
    vigil_status (*score_pick)(void *be, int64_t patient_id, vigil__score_pick which,
                               int64_t after_ms, vigil__score_row *out, bool *found,
                               vigil_err *err);
    /* The patient state at now_ms (vigil_store_patient_state), unaudited, and
     * *out_valid_until_ms: the earliest time after now_ms at which the same
     * stored rows give another state (a plan's start or expiry), INT64_MAX
     * when none; a backend that cannot tell returns now_ms + 1. */
    vigil_status (*state_at)(void *be, int64_t patient_id, int64_t now_ms,
                             vigil_store_patient_state *out, int64_t *out_valid_until_ms,
                             vigil_err *err);
    /* Append one audit record to the chain inside the current read_txn. */
    vigil_status (*audit_append)(void *be, const vigil__audit_ev *ev, vigil_err *err);
    /* Inside read_txn: a number that differs from the one an earlier
     * transaction of this connection saw whenever another connection or process
     * has committed to the store in between (SQLite: PRAGMA data_version;
     * PostgreSQL: the change feed's count, as changes gives it, for writes the
     * ward list can see). A backend that cannot tell gives a new number each
     * time. */
    vigil_status (*data_version)(void *be, int64_t *out, vigil_err *err);

    /* hash is the argon2id string; never a password. */
    vigil_status (*user_add)(void *be, const vigil_actor *who, const char *username,
                             const char *display_name, vigil_store_role role, const char *hash,
                             const char *const *wards, size_t n_wards, int64_t *out_id,
                             vigil_err *err);
    /* Read a user and (when hash_out is non-NULL) the stored hash. */
    vigil_status (*user_get)(void *be, const char *username, vigil_store_user *out,
                             char hash_out[VIGIL_PASSWORD_HASH_MAX], vigil_err *err);
    vigil_status (*user_set_hash)(void *be, const vigil_actor *who, const char *username,
                                  const char *hash, vigil_err *err);
    vigil_status (*user_enable)(void *be, const vigil_actor *who, const char *username,
                                vigil_err *err);
    /* Disable the user and delete every session of theirs in the same
     * transaction; *out_sessions_ended gets how many rows went. */
    vigil_status (*user_disable)(void *be, const vigil_actor *who, const char *username,
                                 int64_t t_ms, size_t *out_sessions_ended, vigil_err *err);
    vigil_status (*user_list)(void *be, const vigil_actor *who, vigil_store_user_list *out,
                              vigil_err *err);

    /* Append one audit record in its own durable transaction. */
    vigil_status (*audit_event)(void *be, const vigil__audit_ev *ev, vigil_err *err);
    /* Walk every record in seq order inside one read transaction; head_* get
     * the recorded head from the same snapshot. */
    /* The digest (VIGIL__ROW_DIGEST_HEX hex chars) of a clinical row's content as
     * stored (obs_set); VIGIL_ERR_NOT_FOUND when the row is gone. Callable inside
     * audit_walk's callback (no transaction of its own). */
    vigil_status (*row_digest)(void *be, const char *entity, int64_t id,
                               char out[VIGIL__ROW_DIGEST_HEX + 1], vigil_err *err);
    vigil_status (*audit_walk)(void *be, vigil__audit_cb cb, void *ctx, int64_t *head_seq,
                               uint8_t head_hash[VIGIL_AUDIT_HASH_LEN], vigil_err *err);
    vigil_status (*audit_head)(void *be, int64_t *out_seq, uint8_t out_hash[VIGIL_AUDIT_HASH_LEN],
                               vigil_err *err);
    vigil_status (*audit_read)(void *be, const vigil_actor *who, int64_t from_seq,
                               vigil_audit_record *out, size_t max, size_t *out_n, vigil_err *err);
    /* monitoring rows (set_rows.c checks the arguments) */
    vigil_status (*set_rows)(void *be, int64_t from_ms, int64_t to_ms, vigil_store_set_row_cb cb,
                             void *ctx, vigil_err *err);
    /* the ward of a patient's open bed stay, unaudited (set_rows.c checks) */
    vigil_status (*patient_ward)(void *be, int64_t patient_id,
                                 char out_ward[VIGIL_STORE_NAME_MAX + 1], vigil_err *err);
    /* the secret name (secret.c checks name and len): candidate stored when the
     * store has none of that name, atomically across every connection, process
     * and node; out/out_len get the stored one. Unaudited. */
    vigil_status (*secret_ensure)(void *be, const char *name, const uint8_t *candidate, size_t len,
                                  uint8_t out[VIGIL_STORE_SECRET_MAX], size_t *out_len,
                                  vigil_err *err);
    /* Sign-in sessions (session.c applies the rules; every one unaudited).
     * session_add: in ONE durable transaction that no other session_add or
     * user_disable on the store (any connection, process or node) runs beside:
     * VIGIL_ERR_DENIED when a->username is no enabled user (read under that
     * serialisation); every session not live at a->now_ms deleted (live:
     * last_ms > a->idle_cut_ms, created_ms > a->max_cut_ms, created_ms <=
     * a->now_ms); then while the user holds a->per_user or more, their
     * session with the least last_ms (then created_ms) deleted; then
     * VIGIL_ERR_NOMEM, nothing written, when a->total sessions remain; else
     * the new one stored with created_ms = last_ms = a->now_ms. */
    vigil_status (*session_add)(void *be, const vigil__session_add *a, vigil_err *err);
    /* The session of hash and its user as stored now, in one snapshot (out
     * as vigil__session_row says); *found false (out untouched) when none. */
    vigil_status (*session_get)(void *be, const uint8_t *hash, vigil__session_row *out,
                                bool *found, vigil_err *err);
    /* last_ms = now_ms where it is less, committed without waiting for the
     * disk (made durable by the next durable commit). */
    vigil_status (*session_touch)(void *be, const uint8_t *hash, int64_t now_ms, vigil_err *err);
    /* Delete the session of hash, durably; *out_n: 0 or 1 rows. */
    vigil_status (*session_end)(void *be, const uint8_t *hash, size_t *out_n, vigil_err *err);
    /* Copying a store (migrate.c). Unaudited: the copy moves the audit table
     * itself, record for record, and adds none. */
    /* Every (table, column) of the store's schema, tables by name, columns in
     * the table's order; the engine's own tables (sqlite_*, the version table)
     * left out. */
    vigil_status (*schema_columns)(void *be, vigil__column_cb cb, void *ctx, vigil_err *err);
    /* Every row of tables[0..n), each table's rows ordered by its order, in
     * ONE read snapshot of the whole store (nothing committed during the walk
     * is seen). */
    vigil_status (*rows_walk)(void *be, const vigil__copy_table *tables, size_t n, vigil__row_cb cb,
                              void *ctx, vigil_err *err);
    /* Inside a batch: write n_rows rows of t (cells row-major, t->n_cols
     * each) with the ids and values given; update: each row's first cell is
     * the key of a row already there whose other columns are set instead.
     * Constraints are checked as for any write. */
    vigil_status (*rows_put)(void *be, const vigil__copy_table *t, bool update,
                             const vigil__cell *cells, size_t n_rows, vigil_err *err);
    /* Inside a batch: the next id the store gives table's column (an identity
     * or sequence) is past every stored one. */
    vigil_status (*ids_advance)(void *be, const char *table, const char *column, vigil_err *err);
    /* Several nodes on one store (nodes.c checks the name; vigil/store.h
     * "several nodes"). Take or keep the lease called name for this handle,
     * without waiting: *out_held true while this handle holds it, false while
     * another handle (any process, any node) does. Released when the handle
     * closes, its process dies or its connection to the database drops, so
     * another handle's next try takes it. Outside any transaction.
     * PostgreSQL: a session-level advisory lock (pg_try_advisory_lock), checked
     * in pg_locks at each try while held. SQLite: an open-file-description lock
     * on a byte of the file <database>.lease (always held for a database with
     * no file). Unaudited. */
    vigil_status (*lease_try)(void *be, const char *name, bool *out_held, vigil_err *err);
    /* The change feed: a number that advances, without waiting and outside any
     * transaction, when another connection (this process's, another's, another
     * node's) has committed a write to the escalation's tables (episodes,
     * alerts, repeats, acknowledgements, Martha's Rule calls and reviews, staff
     * concerns) since the last call. PostgreSQL: the notifications (LISTEN
     * vigil_feed) with the payload "e" from other sessions, which every such
     * write sends in its transaction (NOTIFY, delivered on commit only; a write
     * of other rows the ward list reads sends one without a payload, which
     * data_version counts). SQLite: always 0 (the
     * server does not follow other processes on one file: one node by design,
     * a standby reloads its state when it takes the lease). Unaudited. */
    vigil_status (*changes)(void *be, int64_t *out, vigil_err *err);
    /* test support (vigil/store_test.h; store_test.c checks table): rows of
     * table matching the SQL condition where (NULL: all). Unaudited. */
    vigil_status (*count_rows)(void *be, const char *table, const char *where, int64_t *out_n,
                               vigil_err *err);
} vigil__store_ops;

typedef struct vigil__wl_cache vigil__wl_cache; /* wardlist.c */

struct vigil_store {
    const vigil__store_ops *ops;
    void *be;
    unsigned flags;      /* as opened (VIGIL_STORE_*) */
    bool in_batch;       /* between batch_begin and its commit or rollback */
    vigil__wl_cache *wl; /* the ward list's rows in memory; NULL until the first */
};

/* The backend a store URI opens, from the registry (backends.c) by its
 * scheme, and what that backend is given (*out_target: after the scheme, or
 * the whole URI). VIGIL_ERR_NOT_FOUND naming the scheme when no backend
 * built in takes it. */
vigil_status vigil__store_backend_find(const char *uri, const vigil__store_ops **out_ops,
                                       const char **out_target, vigil_err *err);

/* The backends, each its own CMake target (VIGIL_STORE_<NAME>), registered
 * in backends.c only. */
extern const vigil__store_ops vigil__sqlite_ops; /* sqlite/sq_core.c */
extern const vigil__store_ops vigil__pg_ops;     /* pg/pg_ops.c */
/* "faulty:URI": another store with failures injected on demand
 * (faulty.c, faulty_ops.c); always built, it only wraps the others. */
extern const vigil__store_ops vigil__faulty_ops;

#endif
