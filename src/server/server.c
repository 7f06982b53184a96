/*
 * server.c: the server's lifecycle: configuration, opening the store and
 * binding the sockets, starting the store, MLLP and HTTP threads, the
 * graceful stop, and counters.
 *
 * Stop order (REQ SERVER-GRACEFUL-STOP): HTTP stops accepting; the MLLP
 * thread stops accepting and reading and waits until every message already
 * queued has been committed (or refused) and its ACK written; the HTTP
 * daemon finishes the requests it has; then the store thread finishes the
 * queue and exits; then the store is closed.
 *
 * Does not: handle signals or daemonise (main() does).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server_int.h"

void vigil_server_config_init(vigil_server_config *cfg)
{
    if (cfg == NULL) {
        return;
    }
    memset(cfg, 0, sizeof *cfg);
    cfg->bind = "127.0.0.1";
    vigil_escalation_config_init(&cfg->escalation);
    vigil_hl7_opts_init(&cfg->hl7);
    cfg->max_mllp_conns = 64;
    cfg->mllp_conns_per_addr = 8;
    cfg->mllp_idle_ms = 120LL * 1000;
    cfg->mllp_ack_backlog = 512;
    cfg->signins_in_flight = 1;
    cfg->http_conns_per_addr = 16;
    cfg->max_http_conns = 256;
    cfg->http_threads = 2;
    cfg->max_batch = 256;
    cfg->session_idle_ms = 30LL * 60 * 1000;
    cfg->session_max_ms = 12LL * 3600 * 1000;
    cfg->concern_open_ms = 12LL * 3600 * 1000;
    cfg->future_skew_ms = 5LL * 60 * 1000;
    cfg->assemble_window_ms = VIGIL_ASSEMBLE_WINDOW_MS_DEFAULT;
    cfg->tick_ms = 1000;
    cfg->lease_try_ms = 2000;
    cfg->page_connect_timeout_ms = 2000;
    cfg->page_timeout_ms = 5000;
    cfg->page_retry_ms = 1000;
    cfg->summary_every_ms = INT64_C(12) * 3600 * 1000;
    cfg->page_max_attempts = 10;
    cfg->monitor_period_ms = 60LL * 1000;
    cfg->monitor_horizon_ms = 24LL * 3600 * 1000;
    cfg->monitor_label_delay_ms = 24LL * 3600 * 1000;
    cfg->monitor_history_ms = 90LL * 86400 * 1000;
}

static vigil_status check_config(const vigil_server_config *c, vigil_err *err)
{
    if (c->db == NULL || c->db[0] == '\0') {
        return vigil_err_set(err, VIGIL_ERR_ARG, "db", "no store given");
    }
    if (c->http_port < 0 || c->http_port > 65535 || c->mllp_port < 0 || c->mllp_port > 65535) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "port", "ports are 0 to 65535");
    }
    if (c->max_mllp_conns == 0 || c->max_mllp_conns > 4096 || c->max_http_conns == 0 ||
        c->max_http_conns > 4096) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "max_conns", "connection limits are 1 to 4096");
    }
    if (c->signins_in_flight == 0 ||
        (c->http_threads > 1 && c->signins_in_flight >= c->http_threads) ||
        (c->http_threads <= 1 && c->signins_in_flight > 1)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "signins_in_flight",
                             "sign-ins in flight: at least 1 and fewer than the HTTP threads");
    }
    if (c->mllp_conns_per_addr == 0 || c->mllp_ack_backlog == 0 || c->mllp_ack_backlog > 65536 ||
        c->mllp_idle_ms <= 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "mllp",
                             "MLLP limits: connections per address at least 1, ACK "
                             "backlog 1 to 65536, idle timeout positive");
    }
    if (c->http_threads == 0 || c->http_threads > 64 || c->max_batch == 0 || c->max_batch > 4096) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "threads",
                             "http_threads is 1 to 64 and max_batch 1 to 4096");
    }
    if (c->session_idle_ms <= 0 || c->session_max_ms <= 0 || c->concern_open_ms <= 0 ||
        c->future_skew_ms < 0 || c->tick_ms <= 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "times", "durations must be positive");
    }
    if (c->lease_try_ms < 100 || c->lease_try_ms > 60000) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "lease_try",
                             "the lease is tried every 100 ms to 60 s");
    }
    if (c->node_name != NULL && strlen(c->node_name) > 63) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "node_name", "a node's name is 63 bytes at most");
    }
    if (c->assemble_window_ms < 0 || c->assemble_window_ms > VIGIL_ASSEMBLE_WINDOW_MS_MAX) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "assemble_window",
                             "the assembly window is 0 to 15 minutes");
    }
    if (c->scorer != NULL && c->scorer->score == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "scorer", "a scorer needs a score function");
    }
    return vigil_escalation_config_check(&c->escalation, err);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n + 1);
    }
    return d;
}

/* Bind a listening TCP socket on addr:port; *out_port gets the real port. */
static vigil_status listen_on(const char *addr, int port, int *out_fd, int *out_port,
                              vigil_err *err)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    int family;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
        family = AF_INET;
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        sl = sizeof *a4;
    } else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
        family = AF_INET6;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        sl = sizeof *a6;
    } else {
        return vigil_err_set(err, VIGIL_ERR_ARG, "bind", "'%s' is not an IP address", addr);
    }
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return vigil_err_set(err, VIGIL_ERR_IO, "bind", "socket: %s", strerror(errno));
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 128) != 0) {
        int e = errno;
        close(fd);
        return vigil_err_set(err, VIGIL_ERR_IO, "bind", "cannot listen on %s port %d: %s", addr,
                             port, strerror(e));
    }
    sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *out_port = ntohs(family == AF_INET ? a4->sin_port : a6->sin6_port);
    *out_fd = fd;
    return VIGIL_OK;
}

vigil_status vigil_server_open(const vigil_server_config *cfg, vigil_server **out, vigil_err *err)
{
    if (cfg == NULL || out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "vigil_server_open: NULL argument");
    }
    vigil_status s = check_config(cfg, err);
    if (s != VIGIL_OK) {
        return s;
    }
    vigil_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
    }
    srv->cfg = *cfg;
    srv->http_fd = srv->mllp_fd = srv->done_fd = srv->stop_fd = -1;
    srv->db = dup_str(cfg->db);
    srv->bind = dup_str(cfg->bind != NULL ? cfg->bind : "127.0.0.1");
    pthread_mutex_init(&srv->q_mu, NULL);
    pthread_cond_init(&srv->q_cv, NULL);
    pthread_mutex_init(&srv->done_mu, NULL);
    pthread_mutex_init(&srv->log_mu, NULL);
    vigil__srv_denials_init(&srv->denials);
    vigil__srv_signer_init(&srv->signer);
    vigil__srv_ai_init(srv);
    vigil__srv_auth_init(&srv->auth, cfg->session_idle_ms, cfg->session_max_ms);
    srv->auth.in_flight_max = cfg->signins_in_flight;
    srv->started_ms = vigil__srv_now_ms();
    srv->last_tick_ms = srv->started_ms;
    if (srv->db == NULL || srv->bind == NULL) {
        vigil_server_close(srv);
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
    }
    srv->cfg.db = srv->db;
    srv->cfg.bind = srv->bind;
    if (cfg->scorer != NULL) {
        const char *v =
            cfg->scorer->version != NULL ? cfg->scorer->version(cfg->scorer->ctx) : NULL;
        snprintf(srv->model, sizeof srv->model, "%s", v != NULL && v[0] != '\0' ? v : "unnamed");
    }
    srv->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    srv->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (srv->done_fd < 0 || srv->stop_fd < 0) {
        vigil_server_close(srv);
        return vigil_err_set(err, VIGIL_ERR_IO, NULL, "eventfd: %s", strerror(errno));
    }
    s = vigil__srv_senders_load(srv, err);
    if (s == VIGIL_OK) {
        s = vigil__srv_outcomes_load(srv, err);
    }
    if (s == VIGIL_OK) {
        s = vigil__srv_tls_load(srv, err);
    }
    if (s == VIGIL_OK) {
        s = vigil__srv_mllp_tls_load(srv, err);
    }
    if (s == VIGIL_OK) {
        s = vigil__srv_static_load(&srv->web, cfg->web_root, err);
        srv->cfg.web_root = NULL; /* borrowed during open only */
    }
    if (s == VIGIL_OK) {
        s = vigil_store_open(srv->db, 0, &srv->store, err);
    }
    if (s == VIGIL_OK) {
        s = vigil_store_open(srv->db, 0, &srv->auth_store, err);
    }
    if (s == VIGIL_OK) {
        s = vigil__srv_sess_open(srv, err);
    }
    if (s == VIGIL_OK) {
        s = vigil__srv_lease_open(srv, err);
    }
    if (s == VIGIL_OK) {
        s = vigil__srv_family_init(srv, err);
    }
    if (s == VIGIL_OK) {
        s = listen_on(srv->bind, cfg->http_port, &srv->http_fd, &srv->http_port, err);
    }
    if (s == VIGIL_OK) {
        s = listen_on(srv->bind, cfg->mllp_port, &srv->mllp_fd, &srv->mllp_port, err);
    }
    if (s == VIGIL_OK) {
        s = vigil__srv_pats_load_open(srv, err);
    }
    if (s == VIGIL_OK) {
        s = vigil__srv_pager_open(srv, err);
    }
    if (s == VIGIL_OK) {
        s = vigil__srv_monitor_open(srv, err);
    }
    if (s != VIGIL_OK) {
        vigil_server_close(srv);
        return s;
    }
    *out = srv;
    return VIGIL_OK;
}

int vigil_server_http_port(const vigil_server *srv)
{
    return srv != NULL ? srv->http_port : -1;
}

int vigil_server_mllp_port(const vigil_server *srv)
{
    return srv != NULL ? srv->mllp_port : -1;
}

vigil_status vigil_server_start(vigil_server *srv, vigil_err *err)
{
    if (srv == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "vigil_server_start: NULL server");
    }
    if (srv->running) {
        return VIGIL_OK;
    }
    vigil_status ls = vigil__srv_lease_start(srv, err); /* before the first tick */
    if (ls != VIGIL_OK) {
        return ls;
    }
    if (pthread_create(&srv->store_thr, NULL, vigil__srv_store_main, srv) != 0) {
        vigil__srv_lease_stop(srv);
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, NULL, "cannot start the store thread");
    }
    srv->store_running = true;
    srv->running = true; /* so that a failure below stops the store thread */
    if (pthread_create(&srv->mllp_thr, NULL, vigil__srv_mllp_main, srv) != 0) {
        vigil_server_stop(srv);
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, NULL, "cannot start the MLLP thread");
    }
    srv->mllp_running = true;
    vigil_status s = vigil__srv_ai_start(srv, err);
    if (s != VIGIL_OK) {
        vigil_server_stop(srv);
        return s;
    }
    s = vigil__srv_pager_start(srv, err);
    if (s == VIGIL_OK) {
        s = vigil__srv_monitor_start(srv, err);
    }
    if (s == VIGIL_OK) {
        s = vigil__srv_http_start(srv, err);
    }
    if (s != VIGIL_OK) {
        vigil_server_stop(srv);
        return s;
    }
    vigil__srv_log(srv, "start", "http %d mllp %d, %s", srv->http_port, srv->mllp_port,
                   srv->cfg.scorer != NULL ? "AI model loaded" : "NEWS2 only (no AI model)");
    return VIGIL_OK;
}

void vigil_server_stop(vigil_server *srv)
{
    if (srv == NULL || !srv->running) {
        return;
    }
    vigil__srv_http_quiesce(srv);
    if (srv->mllp_running) {
        uint64_t one = 1;
        ssize_t w = write(srv->stop_fd, &one, sizeof one);
        (void)w;
        pthread_join(srv->mllp_thr, NULL);
        srv->mllp_running = false;
    }
    vigil__srv_http_stop(srv);
    pthread_mutex_lock(&srv->q_mu);
    srv->q_closed = true;
    srv->q_finish = true;
    pthread_cond_signal(&srv->q_cv);
    pthread_mutex_unlock(&srv->q_mu);
    if (srv->store_running) {
        pthread_join(srv->store_thr, NULL);
        srv->store_running = false;
    }
    vigil__srv_ai_stop(srv);
    vigil__srv_pager_stop(srv);
    vigil__srv_monitor_stop(srv);
    vigil__srv_lease_stop(srv);
    srv->running = false;
    vigil_server_stats st;
    vigil_server_stats_get(srv, &st);
    vigil__srv_log_flush(srv);
    vigil__srv_log(srv, "stop",
                   "%llu message(s): %llu AA, %llu AE, %llu AR; %llu set(s) in %llu commit(s), "
                   "largest group %llu; ACK p50 <= %.2f ms, p99 <= %.2f ms, max %.2f ms; "
                   "AI after the ACK: %llu scored, %llu skipped, %llu failed; "
                   "%llu HTTP request(s); HL7 results not stored: %llu refused, %llu unused, "
                   "%llu ORU without vital signs",
                   (unsigned long long)st.hl7_messages, (unsigned long long)st.hl7_aa,
                   (unsigned long long)st.hl7_ae, (unsigned long long)st.hl7_ar,
                   (unsigned long long)st.committed_sets, (unsigned long long)st.commits,
                   (unsigned long long)st.max_group, (double)st.ack_p50_us / 1000.0,
                   (double)st.ack_p99_us / 1000.0, (double)st.ack_max_us / 1000.0,
                   (unsigned long long)st.ai_scored, (unsigned long long)st.ai_skipped,
                   (unsigned long long)st.ai_failed, (unsigned long long)st.http_requests,
                   (unsigned long long)st.hl7_results_refused,
                   (unsigned long long)st.hl7_results_unused,
                   (unsigned long long)st.hl7_oru_no_vitals);
}

void vigil_server_close(vigil_server *srv)
{
    if (srv == NULL) {
        return;
    }
    vigil_server_stop(srv);
    vigil__srv_http_stop(srv);
    /* jobs handed back after the MLLP thread ended (its drain timed out) */
    srv_job *j = srv->done_head;
    while (j != NULL) {
        srv_job *n = j->next;
        vigil__srv_job_free_hl7(j);
        j = n;
    }
    vigil__srv_pats_fini(&srv->pats);
    vigil__srv_pager_close(srv);
    vigil__srv_monitor_close(srv);
    vigil__srv_lease_close(srv);
    free(srv->esc_due.v);
    vigil_store_close(srv->store);
    vigil_store_close(srv->auth_store);
    vigil__srv_sess_close(srv);
    vigil__srv_tls_free(srv);
    vigil__srv_mllp_tls_free(srv->mllp_tls);
    srv->mllp_tls = NULL;
    vigil__srv_senders_free(srv);
    vigil__srv_static_fini(&srv->web);
    vigil__srv_family_fini(srv);
    for (int *fd = &srv->http_fd; fd != NULL; fd = fd == &srv->http_fd ? &srv->mllp_fd : NULL) {
        if (*fd >= 0) {
            close(*fd);
        }
    }
    if (srv->done_fd >= 0) {
        close(srv->done_fd);
    }
    if (srv->stop_fd >= 0) {
        close(srv->stop_fd);
    }
    vigil__srv_auth_fini(&srv->auth);
    pthread_mutex_destroy(&srv->q_mu);
    pthread_cond_destroy(&srv->q_cv);
    pthread_mutex_destroy(&srv->done_mu);
    pthread_mutex_destroy(&srv->log_mu);
    vigil__srv_denials_fini(&srv->denials);
    vigil__srv_signer_fini(&srv->signer);
    vigil__srv_ai_fini(srv);
    free(srv->db);
    free(srv->bind);
    free(srv);
}

void vigil_server_stats_get(vigil_server *srv, vigil_server_stats *out)
{
    if (srv == NULL || out == NULL) {
        return;
    }
    out->mllp_conns = atomic_load(&srv->stats.mllp_conns);
    out->hl7_messages = atomic_load(&srv->stats.hl7_messages);
    out->hl7_aa = atomic_load(&srv->stats.hl7_aa);
    out->hl7_ae = atomic_load(&srv->stats.hl7_ae);
    out->hl7_ar = atomic_load(&srv->stats.hl7_ar);
    out->mllp_errors = atomic_load(&srv->stats.mllp_errors);
    out->commits = atomic_load(&srv->stats.commits);
    out->committed_sets = atomic_load(&srv->stats.committed_sets);
    out->max_group = atomic_load(&srv->stats.max_group);
    out->http_requests = atomic_load(&srv->stats.http_requests);
    out->alerts_opened = atomic_load(&srv->stats.alerts_opened);
    out->store_failures = atomic_load(&srv->stats.store_failures);
    out->repeats_already_sent = atomic_load(&srv->stats.repeats_already_sent);
    out->ai_scored = atomic_load(&srv->stats.ai_scored);
    out->ai_skipped = atomic_load(&srv->stats.ai_skipped);
    out->ai_failed = atomic_load(&srv->stats.ai_failed);
    out->mllp_refused_full = atomic_load(&srv->stats.mllp_refused_full);
    out->mllp_refused_per_addr = atomic_load(&srv->stats.mllp_refused_per_addr);
    out->mllp_closed_idle = atomic_load(&srv->stats.mllp_closed_idle);
    out->mllp_closed_stalled = atomic_load(&srv->stats.mllp_closed_stalled);
    out->mllp_closed_framing = atomic_load(&srv->stats.mllp_closed_framing);
    out->mllp_closed_tls = atomic_load(&srv->stats.mllp_closed_tls);
    out->mllp_backpressure = atomic_load(&srv->stats.mllp_backpressure);
    out->mllp_backlog_max = atomic_load(&srv->stats.mllp_backlog_max);
    out->mllp_out_bytes_max = atomic_load(&srv->stats.mllp_out_bytes_max);
    out->hl7_results_refused = atomic_load(&srv->stats.hl7_results_refused);
    out->hl7_results_unused = atomic_load(&srv->stats.hl7_results_unused);
    out->hl7_results_conflicting = atomic_load(&srv->stats.hl7_results_conflicting);
    out->hl7_oru_no_vitals = atomic_load(&srv->stats.hl7_oru_no_vitals);
    out->mllp_refused_addr = atomic_load(&srv->stats.mllp_refused_addr);
    out->hl7_refused_sender = atomic_load(&srv->stats.hl7_refused_sender);
    out->signin_failed = atomic_load(&srv->stats.signin_failed);
    out->signin_refused_locked = atomic_load(&srv->stats.signin_refused_locked);
    out->signin_refused_busy = atomic_load(&srv->stats.signin_refused_busy);
    out->http_denied = atomic_load(&srv->stats.http_denied);
    uint64_t n = 0, seen = 0;
    for (size_t b = 0; b <= SRV_ACK_BUCKETS; b++) {
        n += atomic_load(&srv->ack_hist[b]);
    }
    out->ack_p50_us = out->ack_p99_us = 0;
    for (size_t b = 0; b <= SRV_ACK_BUCKETS && n > 0; b++) {
        seen += atomic_load(&srv->ack_hist[b]);
        uint64_t upper = (uint64_t)(b + 1) * SRV_ACK_BUCKET_US; /* the bucket's upper edge */
        if (out->ack_p50_us == 0 && seen * 2 >= n) {
            out->ack_p50_us = upper;
        }
        if (out->ack_p99_us == 0 && seen * 100 >= n * 99) {
            out->ack_p99_us = upper;
        }
    }
    out->ack_max_us = atomic_load(&srv->ack_max_us);
}
