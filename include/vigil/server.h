/*
 * vigil/server.h: the ward service in one process (`vigil serve`): an MLLP
 * listener for HL7 v2 from the hospital's interface engine, an HTTP JSON API
 * for the ward (libmicrohttpd), FHIR R4 endpoints, and the AI seam.
 *
 * What it does: takes observation sets and ADT events in (HL7 ORU^R01 and
 * ADT A01/A02/A03/A08 over MLLP; JSON and FHIR over HTTP), scores NEWS2 (and
 * the AI risk when a scorer is loaded and the patient has not opted out),
 * stores them durably with their audit records, runs the escalation policy
 * (vigil/escalation.h) and stores what it decides (episodes, alerts,
 * repeats); serves the ward list, a patient's observations, alerts,
 * acknowledgements, concerns, Martha's Rule calls and reviews, daily
 * answers, AI opt-outs, Scale 2 decisions and revised escalation plans to
 * signed-in staff, with roles and ward scope enforced on every request.
 *
 * With cfg.paging it also pages the rota's holders of each alert and repeat
 * (an outbox written with the alert; a pager thread delivers through the web
 * app and a gateway's webhook: docs/server.md "Pages").
 *
 * What it does not do: train or load models (the caller passes a vigil_scorer),
 * install signal handlers (the caller's main() does: see src/cli/cmd_serve.c).
 *
 * Durability (REQ SERVER-ACK-AFTER-COMMIT): an HL7 message is acknowledged
 * AA, and an HTTP write answered 2xx, only after the store has committed it
 * (vigil/store.h: WAL, synchronous=FULL). AE/AR and 4xx mean nothing of that
 * message or request was stored. Messages that arrive while a commit is in
 * flight are committed together in the next transaction (group commit).
 *
 * Threads: one MLLP I/O thread (epoll), one store thread (the only user of
 * the store connection that writes clinical data; it also runs the
 * escalation timer), libmicrohttpd's pool of http_threads, and the caller's.
 * The functions below are called from one controlling thread.
 *
 * See docs/server.md for endpoints, roles, threading and group commit.
 */
#ifndef VIGIL_SERVER_H
#define VIGIL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h> /* ssize_t */

#include "vigil/escalation.h"
#include "vigil/hl7.h"
#include "vigil/monitor.h"
#include "vigil/status.h"
#include "vigil/ward.h"

/* ------------------------------------------------------------------------ */
/* The AI seam                                                              */

#define VIGIL_AI_EXPLANATION_MAX 8192 /* bytes of explanation JSON, NUL included */
#define VIGIL_AI_HISTORY_MAX 64       /* most recent events passed to a scorer */

/* One AI score for one observation set. Caller-owned, copyable. */
typedef struct vigil_ai_score {
    double risk;         /* the model's raw output (finite) */
    double prob;         /* calibrated probability of the outcome, 0..1 */
    bool low_confidence; /* the input is outside what the model was trained on */
    /* Why, for people: a JSON object or array (e.g. top factors up and down),
     * NUL-terminated; "" when the model gives none. */
    char explanation_json[VIGIL_AI_EXPLANATION_MAX];
    char model_version[VIGIL_ID_MAX]; /* non-empty: stored with every score */
} vigil_ai_score;

/*
 * A risk model behind function pointers. The server calls score() for each
 * new observation set of a patient who has not opted out, from its store
 * thread only (one call at a time: the scorer need not be thread-safe).
 *
 * score(): history[0..n_history) are the patient's most recent earlier
 * observation events known to the server, oldest first (at most
 * VIGIL_AI_HISTORY_MAX, possibly 0; Scale 2 already applied), ev the new
 * one; all borrowed for the call. Fill *out and return VIGIL_OK, or an
 * error (err says why): the set is then stored and escalated on NEWS2
 * alone, and the failure logged. A probability outside [0, 1], a non-finite
 * risk, an empty model version or an explanation that is not a JSON object
 * or array is treated as a failure.
 *
 * version(): the loaded model's version for /health (static or owned by
 * ctx). close(): release ctx; called by whoever made the scorer (never by
 * the server), after vigil_server_close. Either may be NULL.
 */
typedef struct vigil_scorer {
    void *ctx;
    vigil_status (*score)(void *ctx, const vigil_obs_event *history, size_t n_history,
                          const vigil_obs_event *ev, vigil_ai_score *out, vigil_err *err);
    const char *(*version)(void *ctx);
    void (*close)(void *ctx);
} vigil_scorer;

/* ------------------------------------------------------------------------ */
/* Configuration                                                            */

typedef struct vigil_server_config {
    const char *db;   /* store URI or path (vigil_store_open), required */
    const char *bind; /* IPv4 or IPv6 literal; default "127.0.0.1" */
    int http_port;    /* 0 = an ephemeral port (see vigil_server_http_port) */
    int mllp_port;    /* 0 = an ephemeral port */
    /* The AI model, borrowed for the server's lifetime; NULL = NEWS2 only
     * (said in /health). */
    const vigil_scorer *scorer;
    /* Silent mode (issue 14): a second model scoring every HL7 set the live
     * one scores, after the ACK; its scores are stored (shadow_score) and
     * never shown, alerted on or used by the escalation policy. Borrowed;
     * NULL = none; needs scorer. */
    const vigil_scorer *shadow_scorer;
    vigil_escalation_config escalation; /* vigil_escalation_config_init defaults */
    vigil_hl7_opts hl7;                 /* vigil_hl7_opts_init defaults */
    unsigned max_mllp_conns;            /* default 64: further connections are closed */
    unsigned max_http_conns;            /* default 256 */
    unsigned http_threads;              /* libmicrohttpd thread pool; default 2 */
    unsigned max_batch;                 /* most messages in one group commit; default 256 */
    int64_t session_idle_ms;            /* a session ends after this idle; default 30 min */
    int64_t session_max_ms;             /* and this long after sign-in; default 12 h */
    int64_t concern_open_ms;            /* a staff concern counts until acknowledged or
                                           this long; default 12 h */
    int64_t future_skew_ms;             /* observation times later than now + this are
                                           refused; default 5 min */
    int64_t assemble_window_ms;         /* values of one patient measured within this of
                                           each other form one set (vigil/assemble.h);
                                           0 to 15 min, default 5 min */
    int64_t tick_ms;                    /* escalation timer (repeats); default 1 s */
    /* Several nodes on one store (docs/server.md "Several nodes"): the
     * background work (escalation timers, the pager's sender, the summary
     * mailer) runs on the node holding the store's lease, tried every
     * lease_try_ms (default 2 s, 100 ms to 60 s). node_name names this node
     * (borrowed during vigil_server_open; NULL: host name and process id). */
    int64_t lease_try_ms;
    const char *node_name;

    /* MLLP limits, so that no one peer can hold the listener (docs/server.md, "Limits") */
    unsigned mllp_conns_per_addr; /* default 8: further connections from one peer address are
                                     closed at once (at least 1) */
    int64_t mllp_idle_ms;         /* default 120 s: a connection that completes no message for
                                     this long (an unfinished frame counts as none), or leaves
                                     its ACKs unread this long, is closed */
    unsigned mllp_ack_backlog;    /* default 512: messages read from one connection whose ACK is
                                     not yet written to it; at this many the connection is not
                                     read (backpressure) until half are written (1 to 65536) */

    /* HTTP connections from one client address (issue 12 finding 9: slowloris); default 16,
     * 0 = no limit (behind a reverse proxy every user has the proxy's address). */
    unsigned http_conns_per_addr;
    /* Sign-ins (argon2id, on an HTTP thread) running or waiting at once; more are answered 503
     * at once. Default 1; less than http_threads (1 when there is one thread). */
    unsigned signins_in_flight;

    /* MLLP senders (docs/server.md, "MLLP senders"); borrowed until vigil_server_open returns.
     * n = 0 allows any. A peer address outside mllp_allow is closed at accept; a message whose
     * MSH-3.1/MSH-4.1 match no hl7_senders entry is refused AR (reason unknown-sender) and
     * nothing of it is stored. */
    const char *const *mllp_allow; /* "10.1.2.3", "10.1.0.0/16", "fd00::/8", "::1" */
    size_t n_mllp_allow;
    /* "APP/FAC": MSH-3.1 and MSH-4.1; "*" for either is any. "APP/FAC|SUBJECT" also binds the
     * sender to a TLS client certificate (REQ SERVER-HL7-SENDER-CERT): the entry matches only
     * a message on an MLLP-over-TLS connection whose verified certificate subject (RFC 4514,
     * as the audit record shows it) is exactly SUBJECT ('|' cannot occur in MSH-3/MSH-4). */
    const char *const *hl7_senders;
    size_t n_hl7_senders;

    /* HTTPS: a PEM certificate (chain) and its PEM private key, both or
     * neither (NULL: plain HTTP, for a TLS-terminating proxy or loopback
     * only). With them the JSON API, FHIR and the dashboard are served over
     * TLS only and the session cookie is marked Secure. */
    const char *tls_cert_file;
    const char *tls_key_file;
    /* MLLP over TLS (docs/server.md, "MLLP over TLS"): a PEM certificate
     * (chain) and its key, both or neither (NULL: plain MLLP); TLS 1.2 or 1.3
     * only. With mllp_tls_ca_file (PEM CA certificates) every client must
     * present a certificate that chains to one of them (mutual TLS: sender
     * authentication) and its subject is written in the audit record of what
     * the connection stores, beside the peer address. Read at open (a bad
     * file, or a key not the certificate's, is refused with the reason);
     * borrowed during vigil_server_open only. */
    const char *mllp_tls_cert_file;
    const char *mllp_tls_key_file;
    const char *mllp_tls_ca_file;
    /* PEM certificate revocation lists of that CA (NULL: none): a client
     * certificate a list names as revoked fails the handshake as an
     * untrusted one does. Needs mllp_tls_ca_file. Read at open, like the
     * others: a new list takes effect when the server is started again. */
    const char *mllp_tls_crl_file;
    /* The web app's folder (a build's web/: pages, scripts, nhsuk-frontend),
     * read once at start and served from the HTTP port; NULL: the API only.
     * Borrowed during vigil_server_open only. */
    const char *web_root;
    /* Paging (docs/server.md "Pages"): when on, every alert and repeat the
     * policy stores queues pages to the holders of its rota post in the same
     * transaction (the outbox), and a pager thread delivers them. Off by
     * default. Strings borrowed during vigil_server_open only. */
    bool paging;
    const char *page_webhook_url;    /* http:// or https://; NULL: the web app channel only */
    const char *page_webhook_secret; /* HMAC-SHA-256 key; required with a webhook */
    const char *page_link_base;      /* e.g. "https://vigil.ward.example"; the page's link */
    const char *page_ca_file;        /* PEM CA bundle for an https webhook; NULL: the system's */
    int64_t page_connect_timeout_ms; /* default 2 s */
    int64_t page_timeout_ms;         /* whole request, default 5 s */
    int64_t page_retry_ms;           /* first retry after this, doubling to 60 s; default 1 s */
    unsigned page_max_attempts;      /* then the page is failed (logged, counted); default 10 */
    /* Non-urgent e-mail summaries (counts per ward, never an alert) through
     * the site's SMTP relay; NULL: none. Needs paging on. summary_to: one to
     * eight addresses, comma-separated. */
    const char *summary_smtp_url;    /* smtp://relay:25 or smtps://relay:465 */
    const char *summary_from;        /* the sender address */
    const char *summary_to;
    int64_t summary_every_ms;        /* the period; default 12 h */
    /* Live monitoring (issue 14; docs/server.md "Monitoring"): a monitor
     * thread on its own read-only store connection recomputes vigil/monitor.h's
     * checks per ward and age band every monitor_period_ms, plus feed health;
     * shown on /metrics and GET /api/monitor. NULL = off. Copied at open: the
     * inputs are store vital signs named "rr_bpm", "spo2_pct", "sbp_mmhg",
     * "hr_bpm", "temp_c" with the model's training ranges. */
    const vigil_monitor_cfg *monitor;
    /* Outcomes from the feeds (issue 14 item 3; docs/server.md "Outcomes in"):
     * an ADT A02 or FHIR Encounter destination onto one of these wards is an
     * unplanned critical-care admission; an A03 whose PV1-36 (user table 0112)
     * is one of hl7_death_dispositions is a death (n = 0: the UB-04 expired
     * codes 20, 40, 41, 42). Each at most 16, copied at open. */
    const char *const *critical_care_wards;
    size_t n_critical_care_wards;
    const char *const *hl7_death_dispositions;
    size_t n_hl7_death_dispositions;
    int64_t monitor_period_ms;      /* default 60 s */
    int64_t monitor_horizon_ms;     /* an outcome within this of a set makes it an event;
                                       default 24 h */
    int64_t monitor_label_delay_ms; /* a set with no outcome counts as a non-event this long
                                       after its horizon ends (coding delay); default 24 h */
    int64_t monitor_history_ms;     /* sets read at most this far back; default 90 days */
    /* Log sink: one line per call, no newline; NULL = stderr. Called from
     * any server thread (serialised by the server). */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
} vigil_server_config;

/* Fill cfg with the defaults above (db NULL, ports 0, no scorer). */
void vigil_server_config_init(vigil_server_config *cfg);

/*
 * The live monitor's report (GET /api/monitor's JSON for the "*" scope,
 * without the server's refusal counters) computed at now_ms from the store
 * cfg->db, read-only, with cfg's monitor settings: the same code the monitor
 * thread runs (`vigil monitor --db`). *out_json is malloc'd (caller frees).
 * No server runs. Thread-safe.
 */
vigil_status vigil_server_monitor_report(const vigil_server_config *cfg, int64_t now_ms,
                                         char **out_json, vigil_err *err);

/* ------------------------------------------------------------------------ */
/* Lifecycle                                                                */

typedef struct vigil_server vigil_server;

/*
 * Open the store (creating and migrating it if needed), bind both listening
 * sockets and load the open escalation episodes. No thread runs yet.
 * Returns VIGIL_ERR_ARG for a bad config (err names the field), VIGIL_ERR_IO
 * when a port cannot be bound or the store cannot be opened, or the store's
 * error. *out is set only on success; release with vigil_server_close.
 */
vigil_status vigil_server_open(const vigil_server_config *cfg, vigil_server **out, vigil_err *err);

/* The bound ports (useful after asking for port 0). */
int vigil_server_http_port(const vigil_server *srv);
int vigil_server_mllp_port(const vigil_server *srv);

/* Start the store, MLLP and HTTP threads. VIGIL_ERR_INTERNAL / VIGIL_ERR_IO
 * when a thread or the HTTP daemon cannot start (nothing is left running). */
vigil_status vigil_server_start(vigil_server *srv, vigil_err *err);

/*
 * Graceful stop (REQ SERVER-GRACEFUL-STOP): stop accepting connections and
 * reading new messages; let every message and request already taken in
 * finish (committed ones are acknowledged); then stop the threads. Blocks
 * until done. Idempotent; a no-op before start.
 */
void vigil_server_stop(vigil_server *srv);

/* Stop (if running), close the store and free everything. NULL is a no-op. */
void vigil_server_close(vigil_server *srv);

/* Counters for monitoring and tests (read while running: approximate). */
typedef struct vigil_server_stats {
    uint64_t mllp_conns;     /* connections accepted */
    uint64_t hl7_messages;   /* messages decoded from MLLP frames */
    uint64_t hl7_aa;         /* acknowledged AA */
    uint64_t hl7_ae;         /* AE */
    uint64_t hl7_ar;         /* AR */
    uint64_t mllp_errors;    /* framing errors */
    uint64_t commits;        /* group commits of observation sets */
    uint64_t committed_sets; /* observation sets stored by them */
    uint64_t max_group;      /* most messages in one group commit */
    uint64_t http_requests;  /* HTTP requests answered */
    uint64_t alerts_opened;  /* escalation alerts stored */
    uint64_t store_failures; /* store calls that failed for a reason not the input's */
    uint64_t repeats_already_sent; /* repeats not sent: another node sent them (REQ
                                      ESC-REPEAT-ONCE) */
    uint64_t ai_scored;      /* AI scores stored after the ACK (HL7 sets) */
    uint64_t ai_skipped;     /* HL7 sets not AI-scored: the patient's newer set came first */
    uint64_t ai_failed;      /* AI scoring failed or gave a malformed score */

    /* MLLP refusals and limits (each refusal is counted here and logged, aggregated) */
    uint64_t mllp_refused_full;     /* connections closed at accept: every slot in use */
    uint64_t mllp_refused_per_addr; /* connections closed at accept: the address has its limit */
    uint64_t mllp_closed_idle;      /* closed: no complete message within mllp_idle_ms */
    uint64_t mllp_closed_stalled;   /* closed: its ACKs were left unread for mllp_idle_ms */
    uint64_t mllp_closed_framing;   /* closed after an oversize frame or repeated framing errors */
    uint64_t mllp_closed_tls;       /* closed: the TLS handshake failed (not TLS, an old
                                       version, no or an untrusted client certificate) */
    uint64_t mllp_backpressure;     /* times a connection was paused at its ACK backlog */
    uint64_t mllp_backlog_max;      /* most messages one connection had read but not answered on
                                       the wire (the pause keeps it near mllp_ack_backlog) */
    uint64_t mllp_out_bytes_max;    /* most ACK bytes waiting to be written to one connection */
    uint64_t mllp_refused_addr;     /* connections closed at accept: address not on mllp_allow */
    uint64_t hl7_refused_sender;    /* messages refused AR: MSH-3/MSH-4 not on hl7_senders */
    uint64_t signin_failed;         /* sign-ins refused 401: wrong username or password */
    uint64_t signin_refused_locked; /* refused 429: the throttle (user|address locked) */
    uint64_t signin_refused_busy;   /* refused 503: sign-ins in flight or sessions at the limit */
    uint64_t http_denied;           /* HTTP requests answered 401 or 403 */

    /* ORU^R01 results not stored, each also named in its ACK (docs/hl7.md) */
    uint64_t hl7_results_refused; /* a vital sign refused: units, value, status, demo data */
    uint64_t hl7_results_unused;  /* a code vigil does not know or NEWS2 does not use */
    uint64_t hl7_results_conflicting; /* two different values of one rank for one parameter
                                         of one set: neither stored */
    uint64_t hl7_oru_no_vitals;   /* ORU^R01 accepted with no vital sign vigil uses in it */
    /* Time from a message's last byte read to its ACK handed to the socket, in
     * microseconds, over every ACK so far (quarter-millisecond buckets, so an upper
     * bound; over 100 ms counts as 100 ms). 0 when no ACK was sent. */
    uint64_t ack_p50_us, ack_p99_us, ack_max_us;
} vigil_server_stats;

void vigil_server_stats_get(vigil_server *srv, vigil_server_stats *out);

/*
 * MLLP over TLS, the sending side (`vigil replay --tls-ca`; mllp_tls_client.c):
 * GnuTLS, the listener's priority (TLS 1.2 and 1.3 only). A vigil_tls_client
 * holds the trusted CAs and an optional client certificate and key (for a
 * listener with mllp_tls_ca_file: mutual TLS); vigil_tls_conn is one
 * connection's session. One thread per connection; the client is read-only
 * once open and must outlive its connections.
 */
typedef struct vigil_tls_client vigil_tls_client;
typedef struct vigil_tls_conn vigil_tls_conn;

/* Read ca_file (PEM CA certificates, at least one) and, when cert_file is
 * not NULL, the client certificate and its key_file (both PEM); a missing
 * file, no certificate, or a key not the certificate's is refused with the
 * reason in err. */
vigil_status vigil_server_tls_client_open(const char *ca_file, const char *cert_file,
                                          const char *key_file, vigil_tls_client **out,
                                          vigil_err *err);
void vigil_server_tls_client_close(vigil_tls_client *c);
/* TLS on the connected socket fd, blocking for the handshake (at most
 * timeout_ms), then the socket is made non-blocking. The listener's
 * certificate must chain to the client's CAs and name host (an IP literal
 * against its IP subjectAltName); otherwise VIGIL_ERR_IO with the reason.
 * fd stays the caller's: close it after vigil_server_tls_end. */
vigil_status vigil_server_tls_connect(const vigil_tls_client *c, int fd, const char *host,
                                      int timeout_ms, vigil_tls_conn **out, vigil_err *err);
/* Like recv()/send() on a non-blocking socket: bytes, 0 at the peer's end,
 * or -1 with errno EAGAIN (call again when readable / writable) or EPROTO /
 * EPIPE. A send that returned EAGAIN must be called again with the same bytes. */
ssize_t vigil_server_tls_recv(vigil_tls_conn *t, char *buf, size_t cap);
ssize_t vigil_server_tls_send(vigil_tls_conn *t, const char *buf, size_t n);
/* Send close_notify when bye (never waits) and free the session; NULL is a no-op. */
void vigil_server_tls_end(vigil_tls_conn *t, bool bye);

#endif
