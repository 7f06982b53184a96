/*
 * metrics.c: GET /metrics, the server's counters in the Prometheus text
 * exposition format (version 0.0.4: "# HELP", "# TYPE", then one
 * "name{label="value"} number" line per series), and the refusal counts that
 * GET /health shows.
 *
 * Who may read it (docs/server.md, "Metrics"): a peer on the loopback
 * address without signing in (a scraper or node agent on the same host);
 * from anywhere else only a signed-in admin (http.c checks that before the
 * handler runs, with vigil__srv_addr_loopback).
 *
 * Does not: name a patient, a user or a peer address (counts only), or
 * touch the store (it runs on an HTTP thread and reads atomics).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"

bool vigil__srv_addr_loopback(const struct sockaddr *sa)
{
    if (sa == NULL) {
        return false;
    }
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;
        return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)sa;
        if (IN6_IS_ADDR_LOOPBACK(&a->sin6_addr)) {
            return true;
        }
        /* ::ffff:127.x.y.z */
        return IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) && a->sin6_addr.s6_addr[12] == 127;
    }
    return false;
}

typedef struct textbuf {
    char *p;
    size_t n, cap;
    bool failed;
} textbuf;

static void put(textbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void put(textbuf *b, const char *fmt, ...)
{
    if (b->failed) {
        return;
    }
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->failed = true;
            return;
        }
        if ((size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        size_t ncap = b->cap * 2 + (size_t)k;
        char *np = realloc(b->p, ncap);
        if (np == NULL) {
            b->failed = true;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
}

/* One counter (or gauge) with its HELP and TYPE lines and no labels. */
static void metric(textbuf *b, const char *name, const char *type, const char *help, uint64_t v)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
        (unsigned long long)v);
}

/* A counter with one label: the HELP and TYPE once, then n series. */
static void labelled(textbuf *b, const char *name, const char *help, const char *label,
                     const char *const *values, const uint64_t *counts, size_t n)
{
    put(b, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (size_t k = 0; k < n; k++) {
        put(b, "%s{%s=\"%s\"} %llu\n", name, label, values[k], (unsigned long long)counts[k]);
    }
}

void vigil__srv_h_metrics(vigil_server *srv, srv_req *r)
{
    vigil_server_stats s;
    vigil_server_stats_get(srv, &s);
    textbuf b = {malloc(4096), 0, 4096, false};
    if (b.p == NULL) {
        vigil__srv_req_error(r, 500, "internal", "out of memory");
        return;
    }
    b.p[0] = '\0';
    metric(&b, "vigil_mllp_connections_total", "counter", "MLLP connections accepted.",
           s.mllp_conns);
    static const char *const refused[] = {"full", "per_address", "not_allowed"};
    uint64_t refused_n[] = {s.mllp_refused_full, s.mllp_refused_per_addr, s.mllp_refused_addr};
    labelled(&b, "vigil_mllp_refused_total",
             "MLLP connections closed at accept: every slot in use, the peer address at "
             "its limit, or not on the allowlist.",
             "reason", refused, refused_n, 3);
    static const char *const closed[] = {"idle", "ack_stalled", "framing", "tls_handshake"};
    uint64_t closed_n[] = {s.mllp_closed_idle, s.mllp_closed_stalled, s.mllp_closed_framing,
                           s.mllp_closed_tls};
    labelled(&b, "vigil_mllp_closed_total",
             "MLLP connections closed by the server: no complete message within the idle "
             "timeout, ACKs left unread, framing errors, a failed TLS handshake.",
             "reason", closed, closed_n, 4);
    metric(&b, "vigil_mllp_framing_errors_total", "counter", "MLLP framing errors.", s.mllp_errors);
    metric(&b, "vigil_mllp_backpressure_total", "counter",
           "Times a connection was no longer read at its ACK backlog.", s.mllp_backpressure);
    metric(&b, "vigil_mllp_backlog_max", "gauge",
           "Most messages one connection had read but not yet answered on the wire.",
           s.mllp_backlog_max);
    metric(&b, "vigil_mllp_unwritten_ack_bytes_max", "gauge",
           "Most ACK bytes waiting to be written to one connection.", s.mllp_out_bytes_max);
    metric(&b, "vigil_hl7_messages_total", "counter", "HL7 messages decoded from MLLP frames.",
           s.hl7_messages);
    static const char *const acks[] = {"AA", "AE", "AR"};
    uint64_t acks_n[] = {s.hl7_aa, s.hl7_ae, s.hl7_ar};
    labelled(&b, "vigil_hl7_acks_total", "HL7 acknowledgements sent, by MSA-1 code.", "code", acks,
             acks_n, 3);
    put(&b,
        "# HELP vigil_hl7_ack_latency_seconds Message read to ACK handed to the socket "
        "(upper bounds of 0.25 ms buckets).\n# TYPE vigil_hl7_ack_latency_seconds gauge\n"
        "vigil_hl7_ack_latency_seconds{quantile=\"0.5\"} %.6f\n"
        "vigil_hl7_ack_latency_seconds{quantile=\"0.99\"} %.6f\n"
        "vigil_hl7_ack_latency_seconds{quantile=\"1\"} %.6f\n",
        (double)s.ack_p50_us / 1e6, (double)s.ack_p99_us / 1e6, (double)s.ack_max_us / 1e6);
    static const char *const results[] = {"refused", "unused", "conflicting"};
    uint64_t results_n[] = {s.hl7_results_refused, s.hl7_results_unused,
                            s.hl7_results_conflicting};
    labelled(&b, "vigil_hl7_results_not_stored_total",
             "ORU^R01 results not stored, each named in its ACK: a vital sign refused (units, "
             "value, status, demo data), a code not known or not used by NEWS2, or two "
             "different values of one rank for one parameter of one set (neither stored).",
             "reason", results, results_n, 3);
    metric(&b, "vigil_hl7_oru_without_vital_signs_total", "counter",
           "ORU^R01 messages accepted with no vital sign vigil uses in them.", s.hl7_oru_no_vitals);
    metric(&b, "vigil_hl7_refused_sender_total", "counter",
           "HL7 messages refused AR: MSH-3/MSH-4 not on the sender list.", s.hl7_refused_sender);
    static const char *const signin[] = {"failed", "locked", "busy"};
    uint64_t signin_n[] = {s.signin_failed, s.signin_refused_locked, s.signin_refused_busy};
    labelled(&b, "vigil_signin_refused_total",
             "Sign-ins refused: wrong credentials (401), throttled (429), busy (503).", "reason",
             signin, signin_n, 3);
    metric(&b, "vigil_http_denied_total", "counter", "HTTP requests answered 401 or 403, or 404 for a patient out of scope.",
           s.http_denied);
    metric(&b, "vigil_commits_total", "counter", "Group commits of observation sets.", s.commits);
    metric(&b, "vigil_committed_sets_total", "counter", "Observation sets stored.",
           s.committed_sets);
    metric(&b, "vigil_http_requests_total", "counter", "HTTP requests answered.", s.http_requests);
    metric(&b, "vigil_alerts_opened_total", "counter", "Escalation alerts stored.",
           s.alerts_opened);
    metric(&b, "vigil_store_failures_total", "counter",
           "Store calls that failed for a reason not the input's.", s.store_failures);
    metric(&b, "vigil_escalation_repeats_already_sent_total", "counter",
           "Alert repeats not sent because another node had sent them within half the "
           "interval.",
           s.repeats_already_sent);
    static const char *const ai[] = {"scored", "skipped", "failed"};
    uint64_t ai_n[] = {s.ai_scored, s.ai_skipped, s.ai_failed};
    labelled(&b, "vigil_ai_sets_total", "HL7 sets and the AI after the ACK.", "outcome", ai, ai_n,
             3);
    srv_pager_stats pg;
    vigil__srv_pager_stats(srv, &pg);
    metric(&b, "vigil_pages_queued_total", "counter",
           "Pages queued to a rota holder with their alert or repeat (every channel).",
           pg.queued);
    metric(&b, "vigil_pages_unrouted_total", "counter",
           "Pages with nobody on the rota post they were for (a rota gap at alert time).",
           pg.unrouted);
    static const char *const pages[] = {"delivered", "retry", "failed"};
    uint64_t pages_n[] = {pg.delivered, pg.retried, pg.failed};
    labelled(&b, "vigil_page_attempts_total", "Page delivery attempts by a pushing channel.",
             "outcome", pages, pages_n, 3);
    metric(&b, "vigil_pages_fetched_total", "counter",
           "Pages delivered to a responder's web app when it fetched them.", pg.web_fetched);
    metric(&b, "vigil_summaries_sent_total", "counter",
           "Non-urgent e-mail summaries the SMTP relay took.", pg.summaries_sent);
    metric(&b, "vigil_summaries_failed_total", "counter",
           "E-mail summaries given up after their last attempt.", pg.summaries_failed);
    metric(&b, "vigil_rota_gaps", "gauge",
           "Rota posts nobody holds now (wards with patients or shifts; counted every 5 s).",
           pg.rota_gaps);
    put(&b,
        "# HELP vigil_lease_held 1 while this node holds the store's lease and runs the "
        "background work (escalation timers, the pager's sender, summaries); 0 on the others.\n"
        "# TYPE vigil_lease_held gauge\nvigil_lease_held{lease=\"%s\",node=\"%s\"} %d\n",
        SRV_LEASE_NAME, srv->lease.node, vigil__srv_lease_held(srv) ? 1 : 0);
    metric(&b, "vigil_lease_taken_total", "counter",
           "Times this node took the background work's lease (at start when free, or over "
           "from a node that died).",
           atomic_load(&srv->lease.taken));
    metric(&b, "vigil_nodes_resyncs_total", "counter",
           "Times the escalation state was read again from the store's open episodes (the "
           "lease taken, or another node's writes on the change feed).",
           atomic_load(&srv->lease.resyncs));
    metric(&b, "vigil_log_lines_suppressed_total", "counter",
           "Log lines left out by the per-kind rate limit (counted in the log).",
           atomic_load(&srv->log_suppressed));
    char *mon = vigil__srv_monitor_metrics(srv);
    if (mon != NULL) {
        put(&b, "%s", mon);
        free(mon);
    }
    if (b.failed) {
        free(b.p);
        vigil__srv_req_error(r, 500, "internal", "out of memory");
        return;
    }
    free(r->resp);
    r->resp = b.p;
    r->status = 200;
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

json_t *vigil__srv_refusals_json(vigil_server *srv)
{
    vigil_server_stats s;
    vigil_server_stats_get(srv, &s);
    return json_pack(
        "{s:I, s:I, s:I, s:I}", "mllp_connections_refused",
        (json_int_t)(s.mllp_refused_full + s.mllp_refused_per_addr + s.mllp_refused_addr),
        "mllp_connections_closed",
        (json_int_t)(s.mllp_closed_idle + s.mllp_closed_stalled + s.mllp_closed_framing +
                     s.mllp_closed_tls),
        "mllp_backpressure", (json_int_t)s.mllp_backpressure, "hl7_refused",
        (json_int_t)(s.hl7_ae + s.hl7_ar));
}
