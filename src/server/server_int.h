/*
 * server_int.h: private to src/server: the server handle, the job queue
 * between the I/O threads and the store thread, the per-patient cache, the
 * sign-in throttle, and the helpers the server's files share (sessions live
 * in the store: vigil_store_session_*).
 *
 * Threading invariants (docs/server.md):
 *  - The store thread is the only user of srv->store and of everything in
 *    srv->pats (patient records, escalation state). Other threads reach them
 *    only by queueing a job and waiting for it.
 *  - srv->auth_store (argon2 work: sign-in, user creation) is used only
 *    under srv->auth.argon_mu, from HTTP threads.
 *  - Each srv->sess[i].st (session checks and sign-outs on the HTTP
 *    threads) is used only under its own srv->sess[i].mu.
 *  - The MLLP thread owns its connections; the store thread hands finished
 *    HL7 jobs back through srv->done (mutex + eventfd).
 *  - Logging is serialised by srv->log_mu and never names a patient.
 */
#ifndef VIGIL_SERVER_INT_H
#define VIGIL_SERVER_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h> /* ssize_t */

#include "vigil/assemble.h"
#include "vigil/escalation.h"
#include "vigil/fhir.h"
#include "vigil/hl7.h"
#include "vigil/server.h"
#include "vigil/store.h"

/* ---- small maps ------------------------------------------------------------ */

/* int64 key -> pointer (open addressing; keys > 0; no removal). */
typedef struct srv_idmap {
    int64_t *keys;
    void **vals;
    size_t cap, n;
} srv_idmap;

vigil_status vigil__srv_idmap_put(srv_idmap *m, int64_t key, void *val);
void *vigil__srv_idmap_get(const srv_idmap *m, int64_t key);
void vigil__srv_idmap_fini(srv_idmap *m);

/* string key -> int64 value (keys copied; no removal; a put replaces). */
typedef struct srv_strmap {
    char **keys;
    int64_t *vals;
    size_t cap, n;
} srv_strmap;

vigil_status vigil__srv_strmap_put(srv_strmap *m, const char *key, int64_t val);
int64_t vigil__srv_strmap_get(const srv_strmap *m, const char *key); /* 0 when absent */
void vigil__srv_strmap_fini(srv_strmap *m);

/* ---- users and sessions ------------------------------------------------------ */

/* A signed-in user as a request sees it: a copy. */
typedef struct srv_user {
    char username[VIGIL_ID_MAX];
    vigil_store_role role;
    size_t n_wards;
    char wards[VIGIL_STORE_WARDS_MAX][VIGIL_STORE_NAME_MAX + 1];
} srv_user;

/* True when u may see patients on ward ("" = not admitted: "*" scope only). */
bool vigil__srv_scope_ok(const srv_user *u, const char *ward);

#define SRV_TOKEN_LEN 43 /* base64url of 32 random bytes, no padding */
#define SRV_SESSIONS_MAX 1024    /* live sessions in the whole store (every node) */
#define SRV_SESSIONS_PER_USER 8 /* a user's further sign-in ends their oldest session */
#define SRV_THROTTLE_SLOTS 4096

typedef struct srv_throttle {
    char key[VIGIL_ID_MAX + 48]; /* "user|address" */
    int failures;
    int64_t first_ms;
    int64_t locked_until_ms;
} srv_throttle;

typedef struct srv_auth {
    pthread_mutex_t mu; /* throttle */
    srv_throttle throttle[SRV_THROTTLE_SLOTS];
    pthread_mutex_t argon_mu;   /* one argon2id (64 MiB) at a time */
    _Atomic unsigned in_flight; /* sign-ins running or waiting for argon_mu */
    unsigned in_flight_max;     /* cfg.signins_in_flight */
    vigil_store_session_rules rules; /* idle and absolute limits, caps */
} srv_auth;

/*
 * Sessions live in the store (vigil_store_session_*, issue 15): every node of
 * one store sees the same ones, so a sign-in works on any node and a sign-out
 * or a disabling ends it on all of them. The server keeps only the token it
 * hands out; the store gets its BLAKE2b-256 hash. st is the caller's store
 * connection (one thread at a time, as always).
 * session_new: token_out gets SRV_TOKEN_LEN chars and a NUL. VIGIL_ERR_NOMEM
 * when SRV_SESSIONS_MAX live sessions of other users fill the store (the
 * sign-in is refused 503; no one is signed out for it); VIGIL_ERR_DENIED when
 * the user was disabled meanwhile.
 * session_get: VIGIL_OK with *out for a live session of an enabled user (its
 * idle clock refreshed), VIGIL_ERR_NOT_FOUND when there is none (401), another
 * status when the store could not be read (503).
 * session_end: ends it on every node; VIGIL_OK also when there was none. */
vigil_status vigil__srv_session_new(srv_auth *a, vigil_store *st, const char *username,
                                    int64_t now_ms, char token_out[SRV_TOKEN_LEN + 1]);
vigil_status vigil__srv_session_get(srv_auth *a, vigil_store *st, const char *token,
                                    int64_t now_ms, srv_user *out);
vigil_status vigil__srv_session_end(vigil_store *st, const char *token);

/* The HTTP threads' store connections for session checks (one per thread, so
 * a check never waits for the store thread or another request): opened with
 * the server, closed with it. take gives a free one (waiting only when every
 * one is in use); give returns it. */
typedef struct srv_sess_conn {
    pthread_mutex_t mu;
    vigil_store *st;
} srv_sess_conn;
vigil_status vigil__srv_sess_open(vigil_server *srv, vigil_err *err);
void vigil__srv_sess_close(vigil_server *srv);
srv_sess_conn *vigil__srv_sess_take(vigil_server *srv);
void vigil__srv_sess_give(srv_sess_conn *c);

/* Login throttle: 5 failures in 15 minutes lock "user|address" for 15
 * minutes. allowed() is false while locked, and also when the table is full
 * of keys still counting (fail closed: a slot counting failures or locked is
 * never reused). */
bool vigil__srv_throttle_allowed(srv_auth *a, const char *key, int64_t now_ms);
void vigil__srv_throttle_record(srv_auth *a, const char *key, bool ok, int64_t now_ms);

void vigil__srv_auth_init(srv_auth *a, int64_t idle_ms, int64_t max_ms);
void vigil__srv_auth_fini(srv_auth *a);

/* ---- patients (store thread only) -------------------------------------------- */

/* One earlier set of a patient, as the AI needs it: time and vital signs
 * only (a bed keeps up to VIGIL_AI_HISTORY_MAX of them, and an AI task a
 * copy, so they are kept small). */
typedef vigil_store_vitals srv_ai_hist;

/* Links a stored alert to its episode (and, for Martha's Rule, its call). */
typedef struct srv_alert_link {
    int64_t alert_id;
    int64_t episode_id;
    int64_t call_id;
} srv_alert_link;

#define SRV_LINKS_MAX (1 + VIGIL_ESC_MARTHA_MAX + 1)

typedef struct srv_patient {
    int64_t id;
    bool loaded; /* filled from the store (else only escalation state is known) */
    char nhs[VIGIL_NHS_NUMBER_LEN + 1];
    char mrn[VIGIL_ID_MAX];
    /* where */
    int64_t admission_id;
    char ward[VIGIL_STORE_NAME_MAX + 1];
    char bed[VIGIL_STORE_NAME_MAX + 1];
    /* latest observation set (by measured time, a time ahead of its arrival
     * counting as its arrival: news2_order_ms) and its score (of the set as
     * assembled, vigil/assemble.h); the parameters it carried itself */
    bool has_news2;
    vigil_news2 news2;
    int64_t news2_t_ms;
    int64_t news2_order_ms;
    int64_t news2_score_id;
    unsigned news2_carried;
    /* REQ ESC-PARTIAL-NEVER-LOWERS: the latest complete set; the highest
     * partial set measured after it; REQ ESC-LATE-SET: a set that arrived
     * late, measured before the latest complete set (cleared by a newer
     * complete set) */
    bool has_cnews2, has_pk, has_late;
    vigil_news2 cnews2, pk, late;
    int64_t cnews2_t_ms, pk_t_ms, late_t_ms;
    /* the latest value of each NEWS2 parameter (assembly); reloaded from the
     * store when asm_loaded is false */
    bool asm_loaded;
    vigil_obs_recent asm_recent;
    bool has_ai;
    double ai_prob;
    bool ai_low_confidence;
    char ai_version[VIGIL_ID_MAX];
    /* state */
    bool opted_out;
    bool scale2;
    int64_t scale2_since_ms;
    bool plan_stored; /* the store holds an active plan */
    int64_t plan_id, plan_review_ms, plan_expires_ms;
    vigil_esc_plan plan; /* plan.present when its parameters are known here */
    bool has_daily;
    vigil_store_feeling daily;
    int64_t daily_ms;
    bool concern_open;
    int64_t concern_ms;
    int64_t concern_id;
    /* Martha's Rule calls not yet passed to the escalation step */
    vigil_esc_martha_call new_calls[VIGIL_ESC_MARTHA_MAX];
    size_t n_new_calls;
    /* escalation */
    vigil_escalation_state esc;
    srv_alert_link links[SRV_LINKS_MAX];
    size_t n_links;
    bool esc_due; /* in srv->esc_due: the policy runs after this round's ACKs */
    /* recent events for the AI (allocated only with a scorer) */
    srv_ai_hist *hist;
    size_t n_hist;
} srv_patient;

typedef struct srv_pats {
    srv_idmap by_id;     /* patient id -> srv_patient * */
    srv_strmap by_nhs;   /* NHS number -> patient id */
    srv_strmap by_mrn;   /* MRN -> patient id */
    srv_idmap alert_pat; /* stored alert id -> srv_patient * */
    srv_idmap call_pat;  /* Martha's Rule call id -> srv_patient * */
} srv_pats;

/* ---- jobs ------------------------------------------------------------------ */

/* The outcome of one stored observation set. */
typedef struct srv_set_out {
    int64_t patient_id, obs_id, score_id;
    bool duplicate;
    vigil_news2 news2;   /* of the set as assembled (vigil/assemble.h) */
    unsigned assembled;  /* parameters taken from sets measured within the window */
    vigil_obs whole;     /* the set as assembled (scored) */
    int64_t received_ms; /* when the set reached the store thread */
    bool has_ai;
    vigil_ai_score *ai; /* owned, NULL when none */
    bool ai_pending;    /* queued for the AI thread (ai_worker.c) */
} srv_set_out;

/* Observation sets to store all or none (one HL7 message, one FHIR request,
 * one API observation). */
typedef struct srv_ingest {
    vigil_obs_event *ev; /* owned */
    size_t n;
    vigil_obs_source source;
    bool check_scope; /* HTTP: the user must have the patients' wards in scope */
    bool ai_async;    /* HL7: the AI scores the sets after the ACK (ai_worker.c); else
                         before the response */
    srv_user user;
    char who_user[VIGIL_ID_MAX];
    char who_reason[256];
    /* results */
    vigil_status status; /* VIGIL_OK: every set stored (or a duplicate) */
    bool forbidden;      /* refused by ward scope */
    bool internal;       /* the store failed (retry), not the input */
    char msg[VIGIL_ERR_MSG_MAX];
    srv_set_out *out; /* n of them */
} srv_ingest;

typedef enum srv_job_kind {
    SRV_JOB_HL7 = 0, /* from the MLLP thread; completed back to it */
    SRV_JOB_CALL,    /* an HTTP request's work; its thread waits */
    SRV_JOB_AI,      /* AI scores from the AI thread (arg: srv_ai_task list); freed by the store
                        thread */
} srv_job_kind;

typedef struct srv_job srv_job;
struct srv_job {
    srv_job *next;
    srv_job_kind kind;
    /* SRV_JOB_HL7 */
    uint32_t slot, gen;
    int64_t t0_us; /* monotonic, when the message was read */
    char via[256]; /* the audit reason of its writes: "ingest from <peer> (<MSH-3>/<MSH-4>)" */
    vigil_hl7_result *hl7; /* owned */
    char *ack;             /* framed ACK, owned */
    size_t ack_len;
    vigil_hl7_ack_code ack_code;
    /* observation sets in the group commit (HL7 ORU or HTTP), owned */
    srv_ingest *ing;
    /* SRV_JOB_CALL */
    void (*run)(vigil_server *srv, srv_job *job); /* on the store thread; NULL for pure ingest */
    void *arg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
};

/* Queue a job for the store thread. false when the server is stopping
 * (the job is not queued). */
bool vigil__srv_submit(vigil_server *srv, srv_job *job);
/* Queue a job of the server's own (AI results): accepted while the store
 * thread runs, even once the queue is closed to new work. */
bool vigil__srv_submit_internal(vigil_server *srv, srv_job *job);
/* Queue a SRV_JOB_CALL and wait for it. false when not queued. */
bool vigil__srv_call(vigil_server *srv, srv_job *job);
void vigil__srv_job_init_call(srv_job *job);
void vigil__srv_job_fini_call(srv_job *job);
void vigil__srv_ingest_free(srv_ingest *ing);
void vigil__srv_job_free_hl7(srv_job *job);

/* Store thread main loop. */
void *vigil__srv_store_main(void *arg);
/* MLLP thread main loop. */
void *vigil__srv_mllp_main(void *arg);
/* Store thread: an HL7 job (ADT, refusal). */
void vigil__srv_hl7_prepare(vigil_server *srv, srv_job *job);
/* MLLP thread: a job's ACK, once the store thread handed it back
 * (committed or refused). */
void vigil__srv_hl7_finish(vigil_server *srv, srv_job *job);
/* Hand a finished HL7 job back to the MLLP thread. */
void vigil__srv_hl7_done(vigil_server *srv, srv_job *job);

/* Store thread: group commit of jobs[0..n) (each with ->ing). */
void vigil__srv_ingest_commit(vigil_server *srv, srv_job **jobs, size_t n);

/* ---- the AI, after the ACK (ai_worker.c) ------------------------------------- */

/* One set for the AI thread: the patient's history before it is copied in;
 * the result is kept compact too (the explanation on the heap). */
typedef struct srv_ai_task srv_ai_task;
struct srv_ai_task {
    srv_ai_task *next;
    int64_t patient_id, score_id;
    vigil_obs_event ev;
    bool shadow_only; /* the live score is stored already (an HTTP set): shadow only */
    bool ok;          /* scored and well formed; then: */
    double risk, prob;
    bool low_confidence;
    char model_version[VIGIL_ID_MAX];
    char *explanation; /* owned; NULL when none */
    /* silent mode: the shadow model's score, stored only (never shown) */
    bool shadow_ok;
    double shadow_risk, shadow_prob;
    bool shadow_low_confidence;
    char shadow_version[VIGIL_ID_MAX];
    size_t n_hist;
    srv_ai_hist hist[]; /* n_hist, oldest first */
};

/* HTTPS (tls.c): read cfg.tls_cert_file and cfg.tls_key_file (both or
 * neither); free wipes the key. Session cookies are Secure when srv->tls.cert
 * is set (vigil__srv_cookie_attrs). */
vigil_status vigil__srv_tls_load(vigil_server *srv, vigil_err *err);
void vigil__srv_tls_free(vigil_server *srv);
/* A PEM file's text (at most 256 KiB, holding a "-----BEGIN " line) into a
 * malloc'd string *out; what names the field in err. */
vigil_status vigil__srv_pem_read(const char *path, const char *what, char **out, vigil_err *err);

/* MLLP over TLS (mllp_tls.c), GnuTLS, non-blocking, driven by the listener's
 * epoll loop. srv_mllp_tls: the credentials (certificate, key, optional CA:
 * then client certificates are required and verified), loaded at open from
 * cfg.mllp_tls_* into srv->mllp_tls (NULL: plain MLLP). srv_tls_conn: one
 * connection's session (listener thread only). */
typedef struct srv_mllp_tls srv_mllp_tls;
/* The GnuTLS priority of both sides (mllp_tls.c, mllp_tls_client.c). */
#define VIGIL_SERVER_MLLP_TLS_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
typedef struct srv_tls_conn srv_tls_conn;
typedef enum { SRV_TLS_DONE, SRV_TLS_WANT_READ, SRV_TLS_WANT_WRITE, SRV_TLS_FAILED } srv_tls_step;
/* Refuses a bad certificate, key (or one not the certificate's) or CA with the reason. */
vigil_status vigil__srv_mllp_tls_load(vigil_server *srv, vigil_err *err);
void vigil__srv_mllp_tls_free(srv_mllp_tls *t);
bool vigil__srv_mllp_tls_requires_cert(const srv_mllp_tls *t);
/* A server session on the connected non-blocking socket fd; NULL when out of memory. */
srv_tls_conn *vigil__srv_tls_conn_new(const srv_mllp_tls *t, int fd);
/* Send close_notify if the socket takes it now (never waits). */
void vigil__srv_tls_conn_bye(srv_tls_conn *c);
void vigil__srv_tls_conn_free(srv_tls_conn *c);
/* One step of the handshake. DONE: with require_cert, subject holds the
 * verified client certificate's DN (printable ASCII, cut to cap). WANT_*: call
 * again when the socket is readable / writable. FAILED: why says why. */
srv_tls_step vigil__srv_tls_handshake(srv_tls_conn *c, bool require_cert, char *subject, size_t cap,
                                      char *why, size_t why_cap);
/* Like recv()/send() on the socket: bytes, 0 at the peer's end, or -1 with
 * errno EAGAIN (call again when readable / writable) or another error. A send
 * that returned EAGAIN must be called again with the same bytes first. */
ssize_t vigil__srv_tls_recv(srv_tls_conn *c, char *buf, size_t cap);
ssize_t vigil__srv_tls_send(srv_tls_conn *c, const char *buf, size_t n);
/* Decrypted bytes GnuTLS holds that epoll cannot see. */
size_t vigil__srv_tls_pending(const srv_tls_conn *c);
/* "HttpOnly; SameSite=Strict; Path=/" and, over HTTPS, "; Secure". */
const char *vigil__srv_cookie_attrs(const vigil_server *srv);

extern const vigil_actor vigil__srv_ai_actor;
void vigil__srv_ai_init(vigil_server *srv);
void vigil__srv_ai_fini(vigil_server *srv);
/* Start the AI thread (no-op without a scorer). */
vigil_status vigil__srv_ai_start(vigil_server *srv, vigil_err *err);
/* Stop it; call after the store thread has ended. */
void vigil__srv_ai_stop(vigil_server *srv);
/* Store thread: queue set ev of p (stored with score score_id) for the AI;
 * call before p's history records ev. shadow_only: the live model scored it
 * already (an HTTP set, scored before its response): only the shadow model
 * (silent mode) scores it here. */
void vigil__srv_ai_enqueue(vigil_server *srv, const srv_patient *p, const vigil_obs_event *ev,
                           int64_t score_id, bool shadow_only);
/* Store thread: take a SRV_JOB_AI's results (freeing the job) for the next
 * background transaction. */
void vigil__srv_ai_accept(vigil_server *srv, srv_job *job);
bool vigil__srv_ai_ready_pending(const vigil_server *srv);
/* A patient's AI view as it was before the background transaction changed it. */
typedef struct srv_ai_view {
    srv_patient *p;
    bool has_ai;
    double prob;
    bool low_confidence;
    char version[VIGIL_ID_MAX];
} srv_ai_view;

/* Store thread, inside the background transaction (vigil__srv_esc_run_due):
 * store the accepted AI scores, update the patients whose latest set they
 * score and mark their policy due. *undo (allocated; free it) gets the
 * views it changed, *n_undo of them, to put back if the transaction does
 * not commit (NULL when there was no memory for it). */
void vigil__srv_ai_store_ready(vigil_server *srv, srv_ai_view **undo, size_t *n_undo);
/* True when no AI task is queued, being scored or waiting to be stored. */
bool vigil__srv_ai_idle(vigil_server *srv);
/* Wait until vigil__srv_ai_idle (tests). */
void vigil__srv_ai_drain(vigil_server *srv);
/* The events a scorer takes, from a compact history (out holds n). */
void vigil__srv_ai_events(const srv_ai_hist *hist, size_t n, vigil_obs_event *out);
/* A scorer's output is well formed (finite, probability in 0..1, a version,
 * explanation empty or a JSON object or array). */
bool vigil__srv_ai_ok(const vigil_ai_score *a);

/* ---- patient cache and escalation (store thread) ----------------------------- */

/* The actor for the server's own bookkeeping and policy actions. */
extern const vigil_actor vigil__srv_policy_actor;
extern const vigil_actor vigil__srv_hl7_actor;

/* The record of patient id, loaded from the store when needed (audited as
 * who). NULL with *st set when the store fails or there is no such patient. */
srv_patient *vigil__srv_pat_get(vigil_server *srv, const vigil_actor *who, int64_t id,
                                vigil_status *st, vigil_err *err);
/* As vigil__srv_pat_get for a signed-in user: the patient's ward is checked
 * against u's scope FIRST (the cached record's ward, else
 * vigil_store_patient_ward, which is not audited), so a patient the user may
 * not see is never loaded and no read is audited for it (issue 12). NULL
 * with *denied true when out of scope; NULL with *st set when the store
 * fails or there is no such patient. */
srv_patient *vigil__srv_pat_get_for(vigil_server *srv, const srv_user *u, const vigil_actor *who,
                                    int64_t id, bool *denied, vigil_status *st, vigil_err *err);
/* The record for an event's identifiers, or NULL (*st VIGIL_OK) when the
 * store has no such patient yet. */
srv_patient *vigil__srv_pat_find(vigil_server *srv, const vigil_actor *who, const char *nhs,
                                 const char *mrn, vigil_status *st, vigil_err *err);
/* Refresh location and state of p from the store. */
vigil_status vigil__srv_pat_refresh(vigil_server *srv, const vigil_actor *who, srv_patient *p,
                                    vigil_err *err);
/* REQ FEAT-ENOUGH-DATA: a stored AI result is a risk, or "not enough data
 * to score", which the scorer writes as probability 0 with low confidence
 * (ai_scorer.c; a calibrated probability is never exactly 0). Every reader
 * asks this, so "not enough data" is never shown or used as a low risk. */
static inline bool vigil__srv_ai_scored(double prob, bool low_confidence)
{
    return !(low_confidence && prob == 0.0);
}

/* The record for what the store says about a patient now (created if new). */
srv_patient *vigil__srv_pat_from_current(vigil_server *srv, const vigil_store_patient_current *c);
/* Load p's recent events for the AI once (no-op without a scorer). */
void vigil__srv_pat_history(vigil_server *srv, const vigil_actor *who, srv_patient *p);
/* Record a newly stored set of p (latest score, AI, history). */
void vigil__srv_pat_note_set(vigil_server *srv, srv_patient *p, const vigil_obs_event *ev,
                             const srv_set_out *o);
/* Load p's recent values for assembling sets (vigil/assemble.h), when not
 * loaded. A failure leaves nothing to assemble with (logged): each set is
 * then scored as it arrived, incomplete where it is. */
void vigil__srv_pat_assembly(vigil_server *srv, const vigil_actor *who, srv_patient *p,
                             int64_t now_ms);
/* Load every open episode into the cache (startup). */
vigil_status vigil__srv_pats_load_open(vigil_server *srv, vigil_err *err);
void vigil__srv_pats_fini(srv_pats *pats);
/* Link an alert to its patient for look-ups by alert id. */
void vigil__srv_pat_link_alert(vigil_server *srv, srv_patient *p, int64_t alert_id,
                               int64_t episode_id, int64_t call_id);
const srv_alert_link *vigil__srv_pat_link(const srv_patient *p, int64_t alert_id);

/* The escalation inputs for p at now_ms (consumes nothing). */
void vigil__srv_esc_inputs(const vigil_server *srv, const srv_patient *p, int64_t now_ms,
                           vigil_escalation_inputs *in);
/* Run the policy for p and store its actions; *res (may be NULL) gets the
 * result. On a store failure p's state is left as it was (the timer tries
 * again). */
vigil_status vigil__srv_esc_update(vigil_server *srv, srv_patient *p, int64_t now_ms,
                                   vigil_escalation_result *res);
/* Note that p's policy must run (deduplicated). vigil__srv_esc_run_due is
 * the background transaction: the AI scores that are ready, then the policy
 * for every noted patient, all in one batch (one fsync). The store thread
 * runs it at most every SRV_BACKGROUND_MS while busy, at once when idle, and
 * before any HTTP request: an ACK never waits for it, and nobody reads a
 * patient before the policy has seen the latest data. */
void vigil__srv_esc_mark_due(vigil_server *srv, srv_patient *p);
void vigil__srv_esc_run_due(vigil_server *srv, int64_t now_ms);
bool vigil__srv_background_pending(const vigil_server *srv);
#define SRV_BACKGROUND_MS 20
/* The policy's view of p at now_ms without advancing or storing anything. */
void vigil__srv_esc_view(const vigil_server *srv, const srv_patient *p, int64_t now_ms,
                         vigil_escalation_result *res);
/* Timer: step every patient with an open alert. */
void vigil__srv_esc_tick(vigil_server *srv, int64_t now_ms);
/* Acknowledge a stored alert of p. Status as vigil_escalation_ack /
 * vigil_store_alert_ack. */
vigil_status vigil__srv_esc_ack(vigil_server *srv, srv_patient *p, const vigil_actor *who,
                                int64_t alert_id, vigil_esc_ack_action action, const char *reason,
                                int64_t now_ms, vigil_err *err);

/* Level conversions between the store's scale and the policy's. */
vigil_esc_level vigil__srv_level_from_store(vigil_news2_response r);
vigil_news2_response vigil__srv_level_to_store(vigil_esc_level l);

/* ---- the web app's files and the browser-facing defences (static.c, csrf.c) ---- */

struct MHD_Connection;
struct MHD_Response;

/* One file of the web root, read at start (static.c). */
typedef struct srv_static_file {
    char *url;  /* "/ward.html": the path it is served at */
    char *body; /* its bytes (len of them) */
    size_t len;
    const char *type; /* Content-Type, static */
    char etag[20];    /* "\"<16 hex>\"" */
    bool long_cache;  /* nhsuk-frontend's files: cached an hour; the rest revalidated */
} srv_static_file;

typedef struct srv_static {
    srv_static_file *v; /* sorted by url */
    size_t n, cap, total;
} srv_static;

/* Read the web root (NULL: no files, the API only). On error s is empty. */
vigil_status vigil__srv_static_load(srv_static *s, const char *root, vigil_err *err);
void vigil__srv_static_fini(srv_static *s);
/* The file served at url ("/" is index.html, "/ward" ward.html), or NULL. */
const srv_static_file *vigil__srv_static_find(const srv_static *s, const char *url);
/* Queue f (304 when If-None-Match names it); returns an enum MHD_Result. */
int vigil__srv_static_send(struct MHD_Connection *conn, const srv_static_file *f);
/* Content-Security-Policy, nosniff, frame-ancestors, Referrer-Policy: on every response. */
void vigil__srv_security_headers(struct MHD_Response *resp);

/* True for POST, PUT, PATCH, DELETE (anything but GET, HEAD, OPTIONS). */
bool vigil__srv_method_changes_state(const char *method);
/* The CSRF token of a session: the keyed BLAKE2b of its token, base64url. */
void vigil__srv_csrf_token(const char *session_token, char out[SRV_TOKEN_LEN + 1]);
/* NULL when a state-changing request may go on; else why not (403). session_token
 * is the request's session token ("" when none); by_cookie: it came as the cookie,
 * so X-CSRF-Token must match it. */
const char *vigil__srv_csrf_check(const vigil_server *srv, struct MHD_Connection *conn,
                                  const char *session_token, bool by_cookie);

/* Sign-ins off the HTTP threads (signer.c): a job queued by http.c with its
 * connection suspended; run resumes it. */
typedef struct srv_signin srv_signin;
struct srv_signin {
    srv_signin *next;
    void (*run)(vigil_server *srv, srv_signin *s);
};

typedef struct srv_signer {
    pthread_t thr;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    srv_signin *head, *tail;
    unsigned n; /* queued or running (at most cfg.signins_in_flight) */
    bool running, stop;
} srv_signer;

void vigil__srv_signer_init(srv_signer *q);
void vigil__srv_signer_fini(srv_signer *q);
vigil_status vigil__srv_signer_start(vigil_server *srv, vigil_err *err);
/* Refuse new sign-ins, run those queued, join the thread. */
void vigil__srv_signer_stop(vigil_server *srv);
/* Take a place in the queue: false when cfg.signins_in_flight are queued or
 * running, or the server is stopping (answer 503). Then suspend the
 * connection and push the job (always accepted after a reservation). */
bool vigil__srv_signer_reserve(vigil_server *srv);
void vigil__srv_signer_push(vigil_server *srv, srv_signin *s);
/* The job's run: its place is free again (call before resuming the
 * connection, so a client's next sign-in finds it free). */
void vigil__srv_signer_done(vigil_server *srv);

/* Denials in the audit trail (denials.c, issue 12 finding 12): one slot per
 * user, method, route pattern, status and minute, with its count. */
#define SRV_DENIALS_MAX 256

typedef struct srv_denial {
    bool used;
    int status; /* 401, 403, 404 (a patient out of scope); 0 in the "(other)" slot */
    int64_t minute; /* Unix minutes */
    uint64_t n;
    char user[VIGIL_ID_MAX];
    char method[8];
    char route[64];
    char client[64]; /* the first address seen */
} srv_denial;

typedef struct srv_denials {
    pthread_mutex_t mu;
    srv_denial v[SRV_DENIALS_MAX];
    srv_denial other;    /* this minute's denials once every slot is taken */
    uint64_t other_lost; /* "(other)" counts replaced before they were written */
} srv_denials;

void vigil__srv_denials_init(srv_denials *t);
void vigil__srv_denials_fini(srv_denials *t);
/* Count one denial (any thread). user NULL or "" is "anonymous". */
void vigil__srv_denial_note(srv_denials *t, int status, const char *user, const char *method,
                            const char *route, const char *client, int64_t now_ms);
/* Take up to cap slots whose minute is over (every slot when all) into out;
 * they are free again. Returns how many. */
size_t vigil__srv_denials_take(srv_denials *t, int64_t now_ms, bool all, srv_denial *out,
                               size_t cap);
/* Store thread: write the slots taken as audit records (access.denied). */
void vigil__srv_denials_flush(vigil_server *srv, int64_t now_ms, bool all);

/* Request framing (framing.c, issue 12 finding 11): feed each request header
 * in turn (zero the struct first), then ask for a fault: NULL when the body's
 * length is unambiguous, else why not (the request is refused 400 and its
 * connection closed). Pure: no I/O, no allocation. */
typedef struct srv_framing {
    unsigned n_length, n_coding; /* Content-Length, Transfer-Encoding headers seen */
    bool bad_name, bad_length, bad_coding;
} srv_framing;

void vigil__srv_framing_add(srv_framing *f, const char *key, const char *value);
const char *vigil__srv_framing_fault(const srv_framing *f);

/* ---- Martha's Rule from the bedside (family.c) ---------------------------------- */

#define SRV_BEDSIDE_CODE_MAX 48
#define SRV_FAMILY_SLOTS 512

typedef struct srv_family_slot {
    char key[80]; /* "a|<address>" or "c|<code>"; "" = free */
    int64_t since_ms;
    int n_bad, n_calls;
} srv_family_slot;

typedef struct srv_family {
    uint8_t key[32]; /* the bedside codes' key (the store's secret "bedside-code-key") */
    pthread_mutex_t mu;
    bool ready; /* mu initialised */
    srv_family_slot slots[SRV_FAMILY_SLOTS];
} srv_family;

/* Read (or make, mode 600) the bedside-code key beside the store. */
vigil_status vigil__srv_family_init(vigil_server *srv, vigil_err *err);
void vigil__srv_family_fini(vigil_server *srv);
/* The bedside code of an admission: "<patient>-<admission>-<tag>". */
void vigil__srv_bedside_code(const vigil_server *srv, int64_t patient_id, int64_t admission_id,
                             char out[SRV_BEDSIDE_CODE_MAX]);

/* ---- pages: the outbox's sender and its channels (pager.c, webhook.c, paging.c) ---- */

typedef struct srv_req srv_req;

/* Counters of paging (atomics: read from any thread). */
typedef struct srv_pager_stats {
    uint64_t queued, unrouted, attempts, delivered, retried, failed, web_fetched, rota_gaps;
    uint64_t summaries_sent, summaries_failed;
} srv_pager_stats;

typedef struct srv_pager srv_pager;

/* A channel that pushes pages (the const table in pager.c: one row per
 * vigil_store_channel). send delivers one page now: VIGIL_OK delivered;
 * VIGIL_ERR_IO a failure worth trying again (gateway down, slow, 5xx, 408,
 * 429); any other status a refusal no retry will change (other 4xx).
 * detail gets a short outcome for the audit record ("HTTP 200", "timeout").
 * send NULL: the recipient's app fetches its pages (GET /api/pages). */
typedef struct srv_channel {
    const char *name;
    vigil_status (*send)(srv_pager *pg, const vigil_store_page *page, char *detail, size_t cap);
} srv_channel;

extern const srv_channel vigil__srv_channels[VIGIL_STORE_CHANNEL_COUNT];

/* The webhook channel (webhook.c): POST the page as JSON (page id,
 * recipient, ward, bed, level, post, a link that needs sign-in) with an
 * HMAC-SHA-256 signature header, over TLS for https URLs, with timeouts. */
vigil_status vigil__srv_webhook_send(srv_pager *pg, const vigil_store_page *page, char *detail,
                                     size_t cap);
/* The body the webhook sends and its signature (tests): body is a new
 * string (free it); sig gets "sha256=<64 hex>" of "<ts>.<body>". */
char *vigil__srv_webhook_body(const vigil_store_page *page, const char *link_base);

/* The e-mail channel, for non-urgent summaries only (summary_mail.c): the
 * summary m as an RFC 5322 message (CRLF lines) from `from`: counts per ward
 * and the rota's gaps, no patient detail; a new string (free it), NULL when
 * out of memory. Then sent through the SMTP relay: VIGIL_OK taken,
 * VIGIL_ERR_IO not (try again); detail as for pages. */
char *vigil__srv_summary_mail(const vigil_store_summary *m, const char *from,
                              const vigil_store_ward_summary *w, size_t n_wards,
                              const vigil_store_rota_gap *gaps, size_t n_gaps,
                              const char *link_base, int64_t now_ms);
vigil_status vigil__srv_summary_send(srv_pager *pg, const vigil_store_summary *m,
                                     const char *message, char *detail, size_t cap);
void vigil__srv_webhook_sign(const char *secret, long long ts, const char *body, char sig[72]);

/* Paging's configuration as the pager keeps it (strings owned). */
#define SRV_MAIL_TO_MAX 8
struct srv_pager {
    vigil_server *srv;
    char *url, *secret, *link_base, *ca_file; /* url NULL: no webhook */
    /* e-mail summaries (summary_mail.c): smtp_url NULL: none */
    char *smtp_url, *mail_from;
    char *mail_to[SRV_MAIL_TO_MAX];
    size_t n_mail_to;
    int64_t summary_every_ms;
    int64_t connect_timeout_ms, timeout_ms, retry_ms;
    unsigned max_attempts;
    vigil_store *store; /* the pager thread's own connection */
    pthread_t thr;
    bool running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, kick;
    struct {
        _Atomic uint64_t queued, unrouted, attempts, delivered, retried, failed, web_fetched,
            rota_gaps, summaries_sent, summaries_failed;
    } n;
};

/* At open / start / stop / close (no-ops when cfg.paging is off). */
vigil_status vigil__srv_pager_open(vigil_server *srv, vigil_err *err);
vigil_status vigil__srv_pager_start(vigil_server *srv, vigil_err *err);
void vigil__srv_pager_stop(vigil_server *srv);
void vigil__srv_pager_close(vigil_server *srv);
/* Wake the pager: pages may have been committed. Any thread. */
void vigil__srv_pager_kick(vigil_server *srv);
/* A snapshot of the counters (zeros when paging is off). */
void vigil__srv_pager_stats(vigil_server *srv, srv_pager_stats *out);

/* ---- outcomes from the feeds (outcomes_in.c; issue 14 item 3) ---- */
#define SRV_OUTCOME_LIST_MAX 16
/* Copy cfg's critical-care wards and death dispositions (at open). */
vigil_status vigil__srv_outcomes_load(vigil_server *srv, vigil_err *err);
/* Store thread, after an ADT event was applied: a death (A03 with a death
 * disposition) or an unplanned critical-care admission (A02 from a ward that
 * is not critical care onto one that is) recorded against the admission
 * (admission_id 0: the patient's latest); a resent event is not recorded
 * twice. prior_ward: the patient's ward before the event. */
vigil_status vigil__srv_outcome_from_adt(vigil_server *srv, const vigil_actor *who,
                                         const vigil_adt_event *a, int64_t patient_id,
                                         int64_t admission_id, const char *prior_ward,
                                         vigil_err *err);
/* The OperationOutcome response for a FHIR parser refusal (fhir_api.c). */
void vigil__srv_fhir_issue(srv_req *r, const vigil_fhir_issue *issue);
/* POST /fhir/Encounter, /fhir/Condition (store thread). */
void vigil__srv_h_fhir_post_outcome(vigil_server *srv, srv_req *r);
/* POST /fhir/Patient: administrative sex (outcomes_in.c; issue 14 item 2). */
void vigil__srv_h_fhir_post_patient(vigil_server *srv, srv_req *r);

/* ---- several nodes on one store (nodes.c; issue 15 item 4) ---- */
/* The lease of the background work: a thread with its own store handle
 * tries it every cfg.lease_try_ms; the other threads read held. */
typedef struct srv_lease {
    vigil_store *store; /* the lease's own handle: nothing else runs on it */
    pthread_t thr;
    bool running, stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    _Atomic bool held;         /* this node runs the background work */
    _Atomic uint64_t taken;    /* times this node took it */
    _Atomic int64_t since_ms;  /* when it last took it (0 while not held) */
    _Atomic uint64_t resyncs;  /* escalation states read again (store thread) */
    int64_t lost_ms;           /* lease thread: when it last saw another node hold it */
    char node[64];             /* this node's name */
} srv_lease;
#define SRV_LEASE_NAME "background"
/* At open / start / stop / close. Start takes the lease at once when it is free. */
vigil_status vigil__srv_lease_open(vigil_server *srv, vigil_err *err);
vigil_status vigil__srv_lease_start(vigil_server *srv, vigil_err *err);
void vigil__srv_lease_stop(vigil_server *srv);
void vigil__srv_lease_close(vigil_server *srv);
/* Does this node run the background work now? Any thread. */
bool vigil__srv_lease_held(vigil_server *srv);
/* Store thread, before each round: after this node took the lease, or when
 * the change feed says another connection wrote the escalation's tables,
 * read the escalation state of every patient from the store's open episodes
 * again (vigil__srv_pats_resync). */
void vigil__srv_nodes_follow(vigil_server *srv);
/* Read every open episode into the patients' escalation state again: the
 * episodes, Martha's Rule calls and their acknowledgements as stored (by
 * any node); a patient whose alerts changed is read again from the store. */
vigil_status vigil__srv_pats_resync(vigil_server *srv, vigil_err *err);

/* ---- live monitoring (monitor_thread.c; issue 14) ---- */
typedef struct srv_monitor srv_monitor;
/* At open / start / stop / close (no-ops when cfg.monitor is NULL). */
vigil_status vigil__srv_monitor_open(vigil_server *srv, vigil_err *err);
vigil_status vigil__srv_monitor_start(vigil_server *srv, vigil_err *err);
void vigil__srv_monitor_stop(vigil_server *srv);
void vigil__srv_monitor_close(vigil_server *srv);
/* The latest run's /metrics lines (malloc'd; NULL when off or not yet run). Any thread. */
char *vigil__srv_monitor_metrics(vigil_server *srv);
/* GET /api/monitor: the latest report, ward-scoped (HTTP thread). */
void vigil__srv_h_monitor(vigil_server *srv, srv_req *r);

/* The pages an alert or repeat queues (paging.c, store thread): reqs and
 * the strings they point into. */
#define SRV_PAGES_MAX 16
typedef struct srv_page_plan {
    vigil_store_page_req req[SRV_PAGES_MAX];
    char who[SRV_PAGES_MAX][VIGIL_ID_MAX];
    char post[SRV_PAGES_MAX][48];
    size_t n;
} srv_page_plan;

/* Who to page for p's alert at level (rota_step 0) or its repeat at
 * rota_step (repeat true), or for a Martha's Rule call (martha: the
 * emergency rota, critical-care outreach, at step 0): the holders of the
 * post on each configured channel; at the top step, and for a post nobody
 * holds, the in-charge posts too; a post nobody holds is an unrouted page
 * (a visible gap). out->n 0 when paging is off. */
void vigil__srv_page_plan(vigil_server *srv, const srv_patient *p, vigil_esc_level level,
                          int rota_step, bool repeat, bool martha, int64_t now_ms,
                          srv_page_plan *out);
/* Rota and page routes (pages_api.c, store thread). */
void vigil__srv_h_pages(vigil_server *srv, srv_req *r);
void vigil__srv_h_page_read(vigil_server *srv, srv_req *r);
void vigil__srv_h_alert_pages(vigil_server *srv, srv_req *r);
void vigil__srv_h_rota(vigil_server *srv, srv_req *r);
void vigil__srv_h_rota_add(vigil_server *srv, srv_req *r);
void vigil__srv_h_rota_end(vigil_server *srv, srv_req *r);
void vigil__srv_h_rota_gaps(vigil_server *srv, srv_req *r);

/* Count a plan's pages once stored (queued, unrouted). */
void vigil__srv_page_plan_stored(vigil_server *srv, const srv_page_plan *pl);

/* ---- the server -------------------------------------------------------------- */

#define SRV_MLLP_READ_CHUNK 65536
#define SRV_LOGLIM_KINDS 32 /* kinds of rate-limited log line (vigil__srv_log_limited) */
#define SRV_LOGLIM_BURST 5  /* lines of one kind per second */
#define SRV_ACK_BUCKET_US 250
#define SRV_ACK_BUCKETS 400 /* up to 100 ms; the last bucket holds the rest */

/* One entry of the MLLP address allowlist (cfg.mllp_allow), parsed. */
typedef struct srv_cidr {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    unsigned prefix; /* bits */
} srv_cidr;

/* Parse "a.b.c.d[/n]" or "v6[/n]". VIGIL_ERR_ARG when it is not one. */
vigil_status vigil__srv_cidr_parse(const char *s, srv_cidr *out);
/* True when the peer address sa lies in c (a v4-mapped v6 peer matches v4 blocks). */
struct sockaddr;
bool vigil__srv_cidr_match(const srv_cidr *c, const struct sockaddr *sa);
/* True when MSH-3 app and MSH-4 fac (raw HDs: their first component is compared)
 * match the "APP/FAC" entry ('*' for either part matches any). */
bool vigil__srv_sender_match(const char *entry, const char *app, const char *fac, char comp);
/* Read cfg.mllp_allow and cfg.hl7_senders into srv (at open); free them (at close). */
vigil_status vigil__srv_senders_load(vigil_server *srv, vigil_err *err);
void vigil__srv_senders_free(vigil_server *srv);
/* The peer may connect (true when there is no allowlist). */
bool vigil__srv_peer_allowed(const vigil_server *srv, const struct sockaddr *sa);
/* The message's MSH-3/MSH-4 are on the sender list (true when there is none). */
bool vigil__srv_sender_allowed(const vigil_server *srv, const vigil_hl7_header *h,
                               const char *subject);

struct vigil_server {
    vigil_server_config cfg;
    srv_cidr *allow; /* cfg.mllp_allow parsed, n_allow of them (cfg's pointer cleared) */
    size_t n_allow;
    char **senders; /* cfg.hl7_senders copied, n_senders of them */
    size_t n_senders;
    /* outcomes from the feeds (outcomes_in.c): copied from cfg at open */
    char critical_care[SRV_OUTCOME_LIST_MAX][VIGIL_STORE_NAME_MAX + 1];
    size_t n_critical_care;
    char death_codes[SRV_OUTCOME_LIST_MAX][16];
    size_t n_death_codes;
    char *db;
    char *bind;
    vigil_store *store;      /* store thread */
    vigil_store *auth_store; /* argon2 work, under auth.argon_mu */
    srv_sess_conn *sess;     /* session checks on the HTTP threads (auth.c) */
    size_t n_sess;
    _Atomic unsigned sess_next; /* where take starts looking */
    int http_fd, mllp_fd;
    int http_port, mllp_port;
    int64_t started_ms;

    /* the queue to the store thread */
    pthread_mutex_t q_mu;
    pthread_cond_t q_cv;
    srv_job *q_head, *q_tail;
    bool q_closed; /* no more jobs accepted */
    bool q_finish; /* store thread: finish the queue and exit */
    bool q_exited; /* the store thread has ended: not even internal jobs */

    /* the AI thread's queue (ai_worker.c) */
    struct {
        pthread_mutex_t mu;
        pthread_cond_t cv;
        srv_ai_task *head, *tail;        /* queued for the AI thread (under mu) */
        srv_ai_task *ready, *ready_tail; /* scored, to store (store thread only) */
        bool stop, running;
        pthread_t thr;
        _Atomic uint64_t outstanding;
    } ai;

    /* HTTPS (tls.c): PEM text, NULL for plain HTTP */
    struct {
        char *cert, *key;
    } tls;
    srv_mllp_tls *mllp_tls; /* MLLP over TLS (mllp_tls.c); NULL for plain MLLP */

    /* finished HL7 jobs back to the MLLP thread */
    pthread_mutex_t done_mu;
    srv_job *done_head, *done_tail;
    int done_fd; /* eventfd */
    int stop_fd; /* eventfd: MLLP thread, stop */

    pthread_t store_thr, mllp_thr;
    bool store_running, mllp_running;
    struct MHD_Daemon *mhd;
    srv_static web;    /* the web app's files (static.c) */
    srv_family family; /* bedside codes and their rate limits (family.c) */
    srv_pager *pager;  /* pages (pager.c); NULL when cfg.paging is off */
    srv_monitor *monitor; /* live monitoring (monitor_thread.c); NULL when off */
    srv_lease lease;      /* the background work's lease (nodes.c) */
    /* store thread (nodes.c): the lease's take count and the change feed's
     * number it last acted on */
    uint64_t lease_seen;
    bool feed_have;
    int64_t feed_seen;
    /* the store refused an escalation write as already done (an episode
     * open, a repeat sent, an alert acknowledged: another node, or memory
     * behind the store): read the state again at the next round (nodes.c);
     * store thread only */
    bool esc_resync;
    bool running;

    srv_auth auth;
    srv_pats pats;
    struct {
        srv_patient **v;
        size_t n, cap;
    } esc_due;        /* store thread: patients whose policy runs next (vigil__srv_esc_run_due) */
    uint64_t ack_seq; /* MLLP thread: the last ACK control id's number */
    _Atomic uint64_t ack_hist[SRV_ACK_BUCKETS + 1]; /* ACK latency, SRV_ACK_BUCKET_US wide */
    _Atomic uint64_t ack_max_us;
    int64_t last_tick_ms;
    int64_t last_background_ms;
    /* store thread: while a background batch is open (bg_open), what it stored
     * is counted here and added to the counters only once it commits (dropped
     * when it rolls back): a counter never counts a row that is not there */
    bool bg_open;
    struct {
        uint64_t pages_queued, pages_unrouted, alerts_opened;
    } bg_count;
    char model[VIGIL_ID_MAX];

    pthread_mutex_t log_mu;
    /* vigil__srv_log_limited: per kind, lines in the current second and those
     * left out (under log_mu) */
    struct {
        const char *kind;
        int64_t window_ms;
        unsigned n;
        uint64_t suppressed;
    } loglim[SRV_LOGLIM_KINDS];
    _Atomic uint64_t log_suppressed;
    srv_denials denials; /* refused requests awaiting their audit record (denials.c) */
    srv_signer signer;   /* the sign-in thread (signer.c) */
    struct {
        _Atomic uint64_t mllp_conns, hl7_messages, hl7_aa, hl7_ae, hl7_ar, mllp_errors, commits,
            committed_sets, max_group, http_requests, alerts_opened, store_failures, ai_scored,
            ai_skipped, ai_failed, mllp_refused_full, mllp_refused_per_addr, mllp_closed_idle,
            mllp_closed_stalled, mllp_closed_framing, mllp_backpressure, mllp_backlog_max,
            mllp_out_bytes_max, hl7_results_refused, hl7_results_unused, hl7_oru_no_vitals,
            hl7_results_conflicting,
            mllp_refused_addr, hl7_refused_sender, signin_failed, signin_refused_locked,
            signin_refused_busy, http_denied, mllp_closed_tls, repeats_already_sent;
    } stats;
};

/* Log one line "vigil serve: <kind>: <text>" (never a patient identifier). */
void vigil__srv_log(vigil_server *srv, const char *kind, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/*
 * The same for what a peer can cause as often as it likes (a refused message
 * or connection, a framing error, a failed sign-in): at most
 * SRV_LOGLIM_BURST lines per kind per second; the rest are counted, and the
 * next line of that kind after the second (or vigil__srv_log_flush) says how
 * many were left out. kind must be a string literal.
 */
void vigil__srv_log_limited(vigil_server *srv, const char *kind, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Log the counts of lines left out so far (at stop). */
void vigil__srv_log_flush(vigil_server *srv);

/* Wall clock, Unix ms UTC. */
int64_t vigil__srv_now_ms(void);

/* ---- HTTP -------------------------------------------------------------------- */

vigil_status vigil__srv_http_start(vigil_server *srv, vigil_err *err);
void vigil__srv_http_quiesce(vigil_server *srv);
void vigil__srv_http_stop(vigil_server *srv);

/* An HTTP request as the store thread sees it. */
struct srv_req {
    const char *method;
    const char *path;
    char *params[8]; /* path parameters, owned */
    size_t n_params;
    json_t *query;   /* query arguments as a JSON object of strings, owned */
    json_t *body;    /* parsed JSON body or NULL, owned */
    const char *raw; /* the raw body (FHIR), borrowed */
    size_t raw_len;
    srv_user user;
    vigil_actor who; /* user.username and the stated reason */
    char reason[256];
    char client[64]; /* the peer's address */
    /* response */
    bool scope_denied; /* answered as not found because it is out of the user's ward scope */
    int status;
    char *resp;               /* owned */
    json_t *resp_json;        /* owned: written out on the HTTP thread (vigil__srv_req_json_later) */
    const char *content_type; /* static */
    char location[256];
};

/* Set an error response {"error": {"code", "message"}}. */
void vigil__srv_req_error(srv_req *r, int status, const char *code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* Set a JSON response (steals j). */
void vigil__srv_req_json(srv_req *r, int status, json_t *j);
/* A patient (or their alert, call, ...) outside the user's ward scope:
 * answered exactly as when there is none (404 not-found, the words of fmt,
 * which must be the handler's own not-found words), and audited as a denial
 * (issue 12 finding 12). */
void vigil__srv_req_out_of_scope(srv_req *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* The same, written out (json_dumps) on the HTTP thread rather than the
 * store thread, which the ward list's 50-60 kB spent most of its time on.
 * Steals j; j must share no object with anything the store thread keeps
 * (it is released on the HTTP thread). */
void vigil__srv_req_json_later(srv_req *r, int status, json_t *j);
/* Answer with JSON text already written (text malloc'd, taken; NULL: 500). */
void vigil__srv_req_json_text(srv_req *r, int status, char *text);
/* The HTTP status and error code for a store/policy status. */
int vigil__srv_http_status(vigil_status st, const char **code);
/* The error response for a store/policy failure: its status mapped as
 * above, its message (or the status name). */
void vigil__srv_req_store_error(srv_req *r, vigil_status st, const vigil_err *e);

/* Route handlers (store thread unless noted). */
typedef void (*srv_handler)(vigil_server *srv, srv_req *r);

enum {
    SRV_ROUTE_PLAIN = 0,
    SRV_ROUTE_LOGIN,
    SRV_ROUTE_LOGOUT,
    SRV_ROUTE_CSRF,
    SRV_ROUTE_METRICS /* no sign-in from loopback; else an admin's session (http.c) */
};

typedef struct srv_route {
    const char *method;
    const char *pattern; /* "/api/patients/{}/observations" */
    srv_handler fn;
    unsigned roles;   /* bit per vigil_store_role allowed; 0 = no sign-in needed */
    bool body;        /* expects a JSON body */
    bool fhir;        /* FHIR route: errors as OperationOutcome, raw body */
    bool http_thread; /* runs on the HTTP thread (sign-in, admin, FHIR parsing) */
    int special;      /* SRV_ROUTE_LOGIN / _LOGOUT: handled by http.c around fn */
} srv_route;

extern const srv_route vigil__srv_routes[];
extern const size_t vigil__srv_n_routes;

/* Match method and path against the routes: the route, or NULL with
 * *method_ok saying whether the path matched under another method. Path
 * parameters are copied into r->params. */
const srv_route *vigil__srv_route_match(const char *method, const char *path, srv_req *r,
                                        bool *method_ok);

/* An OperationOutcome error response (issue code an R4 IssueType). */
void vigil__srv_fhir_error(srv_req *r, int status, const char *code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Handlers on HTTP threads (auth.c, fhir.c). */
void vigil__srv_h_login(vigil_server *srv, srv_req *r, const char *client, char *cookie,
                        size_t cookie_cap);
void vigil__srv_h_user_add(vigil_server *srv, srv_req *r);
/* POST /api/admin/users/{username}/disable: the user can no longer sign in
 * and every open session of theirs ends at once. */
void vigil__srv_h_user_disable(vigil_server *srv, srv_req *r);
/* POST /api/admin/users/{username}/enable: a disabled user may sign in again. */
void vigil__srv_h_user_enable(vigil_server *srv, srv_req *r);
/* GET /api/admin/users: every user (username, name, role, wards, enabled,
 * last sign-in), never a password hash. */
void vigil__srv_h_user_list(vigil_server *srv, srv_req *r);
void vigil__srv_h_health(vigil_server *srv, srv_req *r);
/* GET /metrics (metrics.c): every counter in Prometheus text format. */
void vigil__srv_h_metrics(vigil_server *srv, srv_req *r);
/* The refusal counts /health shows (metrics.c): a new JSON object. */
json_t *vigil__srv_refusals_json(vigil_server *srv);
/* True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
struct sockaddr;
bool vigil__srv_addr_loopback(const struct sockaddr *sa);
void vigil__srv_h_me(vigil_server *srv, srv_req *r);
void vigil__srv_h_fhir_post_obs(vigil_server *srv, srv_req *r);
void vigil__srv_h_fhir_post_bundle(vigil_server *srv, srv_req *r);
/* Martha's Rule from the bedside (family.c, store thread): no sign-in. */
void vigil__srv_h_family_concern(vigil_server *srv, srv_req *r);
void vigil__srv_h_family_daily(vigil_server *srv, srv_req *r);
/* GET /api/patients/{id}/bedside-code: the code, its page and its QR code. */
void vigil__srv_h_bedside_code(vigil_server *srv, srv_req *r);
/* Handlers on the store thread (fhir.c). */
void vigil__srv_h_fhir_search(vigil_server *srv, srv_req *r);

/* ---- JSON and time helpers -------------------------------------------------- */

/* "2025-01-14T08:30:00.000Z" (milliseconds). */
void vigil__srv_time_format(int64_t t_ms, char out[32]);
json_t *vigil__srv_time_json(int64_t t_ms); /* null for 0 */
/* Parse "YYYY-MM-DDTHH:MM[:SS[.fff]](Z|+hh:mm|-hh:mm)". */
vigil_status vigil__srv_time_parse(const char *s, int64_t *out_ms);
/* JSON for a NEWS2 result. */
json_t *vigil__srv_news2_json(const vigil_news2 *n, int64_t t_ms);
/* JSON for an escalation result (level, reasons, schedule flags). */
json_t *vigil__srv_esc_json(const vigil_escalation_result *res);
/* The ward-list view of one patient at now_ms (api.c; e may be NULL). */
json_t *vigil__srv_patient_view(const vigil_server *srv, const srv_patient *p,
                                const vigil_store_ward_entry *e, int64_t now_ms);
/* The reason an AI view with no score gives when its scorer gave none. */
#define VIGIL__SRV_AI_NOT_ENOUGH_DATA                                                              \
    "not enough data to score: the AI needs respiration rate, SpO2, temperature, systolic BP "    \
    "and pulse within 12 h and at least 2 observation sets in 24 h"
/* The ward list's JSON (ward_json.c): {"ward", "at", "patients": the view of
 * each ps[i] that is not NULL with rows[i], as vigil__srv_patient_view gives
 * it, "scoring"}, written straight into one malloc'd string (NULL when out of
 * memory), byte for byte what json_dumps(JSON_COMPACT) of the jansson views
 * gives. Store thread (reads the patients). */
char *vigil__srv_ward_list_text(const vigil_server *srv, const char *ward, int64_t now_ms,
                                const char *scoring, srv_patient *const *ps,
                                const vigil_store_ward_entry *rows, size_t n);

/* Derive the source id of event i of n of a message with control id ctrl
 * (unique per event, deterministic, < VIGIL_ID_MAX bytes). */
void vigil__srv_event_source_id(const char *ctrl, size_t i, size_t n, char out[VIGIL_ID_MAX]);

#endif
