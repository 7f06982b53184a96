/*
 * pager.c: the page outbox's sender. Pages are queued by the store in the
 * same transaction as the alert or repeat that causes them (escal.c,
 * paging.c); this thread, on its own store connection, takes the pending
 * pages of each pushing channel as they fall due, sends each through its
 * channel (vigil__srv_channels), and records every attempt and its outcome
 * (audited) with the next try after a back-off (retry_ms doubling to 60 s)
 * or, after max_attempts, the page failed (logged and counted). It also
 * counts the rota's gaps every few seconds for /metrics.
 *
 * At least once: a crash after a gateway took a page and before the attempt
 * was recorded sends it again after the restart with the same page id, which
 * the gateway de-duplicates on. Nothing is lost: a queued page stays pending
 * until an attempt is recorded.
 *
 * Does not: decide who is paged (paging.c), touch patient state (it only
 * reads and writes page rows through its own connection).
 * Spec: docs/server.md "Pages"; issue 16.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_int.h"

#define DUE_BATCH 16
#define POLL_MS 250
#define GAPS_EVERY_MS 5000
#define SUMMARY_EVERY_MS 1000 /* how often the pager looks for a summary to queue or send */
#define RETRY_MAX_MS 60000

const srv_channel vigil__srv_channels[VIGIL_STORE_CHANNEL_COUNT] = {
    [VIGIL_STORE_CHANNEL_WEB] = {.name = "web", .send = NULL},
    [VIGIL_STORE_CHANNEL_WEBHOOK] = {.name = "webhook", .send = vigil__srv_webhook_send},
};

static const vigil_actor pager_actor = {"vigil-pager", "page delivery"};

static char *dup_opt(const char *s)
{
    if (s == NULL || s[0] == '\0') {
        return NULL;
    }
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL) {
        memcpy(d, s, n);
    }
    return d;
}

/* The e-mail summaries' settings (none without an SMTP URL). */
static vigil_status mail_open(srv_pager *pg, const vigil_server_config *c, vigil_err *err)
{
    if (c->summary_smtp_url == NULL || c->summary_smtp_url[0] == '\0') {
        return VIGIL_OK;
    }
    if (strncmp(c->summary_smtp_url, "smtp://", 7) != 0 &&
        strncmp(c->summary_smtp_url, "smtps://", 8) != 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "summary_smtp_url",
                             "the SMTP relay's URL must start with smtp:// or smtps://");
    }
    if (!vigil_store_email_address_ok(c->summary_from)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "summary_from",
                             "summaries need a sender address (local@domain)");
    }
    if (c->summary_every_ms < 1000 || c->summary_every_ms > INT64_C(7) * 86400 * 1000) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "summary_every",
                             "the summary period is 1 s to 7 days");
    }
    const char *p = c->summary_to != NULL ? c->summary_to : "";
    while (*p != '\0') {
        const char *e = strchr(p, ',');
        size_t k = e != NULL ? (size_t)(e - p) : strlen(p);
        char one[VIGIL_STORE_NAME_MAX + 1];
        if (k == 0 || k > VIGIL_STORE_NAME_MAX || pg->n_mail_to == SRV_MAIL_TO_MAX) {
            return vigil_err_set(err, VIGIL_ERR_ARG, "summary_to",
                                 "one to %d addresses, comma-separated", SRV_MAIL_TO_MAX);
        }
        memcpy(one, p, k);
        one[k] = '\0';
        if (!vigil_store_email_address_ok(one)) {
            return vigil_err_set(err, VIGIL_ERR_ARG, "summary_to",
                                 "'%.64s' is not an e-mail address", one);
        }
        if ((pg->mail_to[pg->n_mail_to++] = dup_opt(one)) == NULL) {
            return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory (pager)");
        }
        p += k + (e != NULL);
    }
    if (pg->n_mail_to == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "summary_to",
                             "summaries need at least one address to send to");
    }
    pg->smtp_url = dup_opt(c->summary_smtp_url);
    pg->mail_from = dup_opt(c->summary_from);
    pg->summary_every_ms = c->summary_every_ms;
    if (pg->smtp_url == NULL || pg->mail_from == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory (pager)");
    }
    return VIGIL_OK;
}

vigil_status vigil__srv_pager_open(vigil_server *srv, vigil_err *err)
{
    const vigil_server_config *c = &srv->cfg;
    if (!c->paging) {
        return VIGIL_OK;
    }
    bool has_url = c->page_webhook_url != NULL && c->page_webhook_url[0] != '\0';
    if (has_url && strncmp(c->page_webhook_url, "http://", 7) != 0 &&
        strncmp(c->page_webhook_url, "https://", 8) != 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "page_webhook_url",
                             "the webhook URL must start with http:// or https://");
    }
    if (has_url && (c->page_webhook_secret == NULL || strlen(c->page_webhook_secret) < 16)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "page_webhook_secret",
                             "a webhook needs a signing secret of at least 16 characters");
    }
    if (c->page_connect_timeout_ms <= 0 || c->page_timeout_ms <= 0 || c->page_retry_ms <= 0 ||
        c->page_max_attempts == 0 || c->page_max_attempts > 1000) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "page_timeout",
                             "page timeouts and retry positive, attempts 1 to 1000");
    }
    srv_pager *pg = calloc(1, sizeof *pg);
    if (pg == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
    }
    pg->srv = srv;
    pg->url = dup_opt(c->page_webhook_url);
    pg->secret = dup_opt(c->page_webhook_secret);
    pg->link_base = dup_opt(c->page_link_base != NULL ? c->page_link_base : "");
    pg->ca_file = dup_opt(c->page_ca_file);
    pg->connect_timeout_ms = c->page_connect_timeout_ms;
    pg->timeout_ms = c->page_timeout_ms;
    pg->retry_ms = c->page_retry_ms;
    pg->max_attempts = c->page_max_attempts;
    pthread_mutex_init(&pg->mu, NULL);
    pthread_cond_init(&pg->cv, NULL);
    srv->pager = pg;
    vigil_status ms = mail_open(pg, c, err);
    /* the borrowed strings are not kept in srv->cfg */
    srv->cfg.page_webhook_url = srv->cfg.page_webhook_secret = NULL;
    srv->cfg.page_link_base = srv->cfg.page_ca_file = NULL;
    srv->cfg.summary_smtp_url = srv->cfg.summary_from = srv->cfg.summary_to = NULL;
    if (ms != VIGIL_OK) {
        return ms;
    }
    if ((has_url && (pg->url == NULL || pg->secret == NULL)) ||
        curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory (pager)");
    }
    return vigil_store_open(srv->db, 0, &pg->store, err);
}

void vigil__srv_pager_close(vigil_server *srv)
{
    srv_pager *pg = srv->pager;
    if (pg == NULL) {
        return;
    }
    vigil__srv_pager_stop(srv);
    vigil_store_close(pg->store);
    if (pg->secret != NULL) {
        memset(pg->secret, 0, strlen(pg->secret));
    }
    free(pg->url);
    free(pg->secret);
    free(pg->link_base);
    free(pg->ca_file);
    free(pg->smtp_url);
    free(pg->mail_from);
    for (size_t i = 0; i < pg->n_mail_to; i++) {
        free(pg->mail_to[i]);
    }
    pthread_mutex_destroy(&pg->mu);
    pthread_cond_destroy(&pg->cv);
    free(pg);
    srv->pager = NULL;
    curl_global_cleanup();
}

void vigil__srv_pager_kick(vigil_server *srv)
{
    srv_pager *pg = srv->pager;
    if (pg == NULL) {
        return;
    }
    pthread_mutex_lock(&pg->mu);
    pg->kick = true;
    pthread_cond_signal(&pg->cv);
    pthread_mutex_unlock(&pg->mu);
}

void vigil__srv_pager_stats(vigil_server *srv, srv_pager_stats *out)
{
    memset(out, 0, sizeof *out);
    srv_pager *pg = srv->pager;
    if (pg == NULL) {
        return;
    }
    out->queued = atomic_load(&pg->n.queued);
    out->unrouted = atomic_load(&pg->n.unrouted);
    out->attempts = atomic_load(&pg->n.attempts);
    out->delivered = atomic_load(&pg->n.delivered);
    out->retried = atomic_load(&pg->n.retried);
    out->failed = atomic_load(&pg->n.failed);
    out->web_fetched = atomic_load(&pg->n.web_fetched);
    out->rota_gaps = atomic_load(&pg->n.rota_gaps);
    out->summaries_sent = atomic_load(&pg->n.summaries_sent);
    out->summaries_failed = atomic_load(&pg->n.summaries_failed);
}

/* The wait before attempt n + 1 after n failures: retry_ms doubling, at most 60 s. */
static int64_t backoff_ms(const srv_pager *pg, int failures)
{
    int64_t d = pg->retry_ms;
    for (int i = 1; i < failures && d < RETRY_MAX_MS; i++) {
        d *= 2;
    }
    return d < RETRY_MAX_MS ? d : RETRY_MAX_MS;
}

/* Record page's failure and, in the same transaction, a web page to each
 * nurse in charge of its ward (their own, else "*"), or an unrouted one
 * when nobody holds that post, naming who was not reached. */
static vigil_status fail_to_in_charge(srv_pager *pg, const vigil_store_page *page, int64_t now,
                                      const char *detail, vigil_err *err)
{
    char holders[4][VIGIL_ID_MAX];
    size_t n = 0;
    if (vigil_store_rota_holders(pg->store, page->ward[0] != '\0' ? page->ward : "*",
                                 "in-charge", 0, now, holders, 4, &n, err) != VIGIL_OK) {
        n = 0; /* still recorded failed, with an unrouted notice */
    }
    char post[VIGIL_STORE_NAME_MAX + 1];
    snprintf(post, sizeof post, "failed page: %.40s to %.40s", page->post, page->recipient);
    vigil_store_page_req req[4];
    size_t k = 0;
    for (size_t i = 0; i < n && i < 4; i++) {
        req[k++] = (vigil_store_page_req){.recipient = holders[i],
                                          .channel = VIGIL_STORE_CHANNEL_WEB,
                                          .post = post,
                                          .rota_step = 0};
    }
    if (n == 0) {
        req[k++] = (vigil_store_page_req){
            .recipient = NULL, .channel = VIGIL_STORE_CHANNEL_WEB, .post = post, .rota_step = 0};
    }
    vigil_status s = vigil_store_page_failed(pg->store, &pager_actor, page->id, now, detail, req,
                                             k, err);
    if (s == VIGIL_OK) {
        vigil__srv_log(pg->srv, "page.failed-to-in-charge",
                       "page %lld to %s failed; %zu nurse(s) in charge of %s told in the web app",
                       (long long)page->id, page->recipient, n, page->ward);
    }
    return s;
}

/* Send one due page through its channel and record the attempt. */
static void send_one(srv_pager *pg, const srv_channel *ch, const vigil_store_page *page)
{
    char detail[VIGIL_STORE_NAME_MAX + 1] = "";
    vigil_status s = ch->send(pg, page, detail, sizeof detail);
    int64_t now = vigil__srv_now_ms();
    vigil_store_attempt_outcome out = VIGIL_STORE_ATTEMPT_DELIVERED;
    int64_t next = 0;
    atomic_fetch_add(&pg->n.attempts, 1);
    if (s != VIGIL_OK) {
        bool retry = s == VIGIL_ERR_IO && (unsigned)page->attempts + 1 < pg->max_attempts;
        out = retry ? VIGIL_STORE_ATTEMPT_RETRY : VIGIL_STORE_ATTEMPT_FAILED;
        next = now + backoff_ms(pg, page->attempts + 1);
    }
    vigil_err err = {0};
    vigil_status r;
    if (out == VIGIL_STORE_ATTEMPT_FAILED && page->notice_of == 0) {
        /* REQ PAGE-FAILED-IN-CHARGE: a page that reached nobody tells the nurse in charge */
        r = fail_to_in_charge(pg, page, now, detail, &err);
    } else {
        r = vigil_store_page_attempt(pg->store, &pager_actor, page->id, now, out, next, detail,
                                     &err);
    }
    if (r != VIGIL_OK) {
        /* not recorded: the page stays pending and is sent again (same id) */
        vigil__srv_log(pg->srv, "store.error", "page %lld attempt not recorded: %s",
                       (long long)page->id, err.msg);
        return;
    }
    if (out == VIGIL_STORE_ATTEMPT_DELIVERED) {
        atomic_fetch_add(&pg->n.delivered, 1);
    } else if (out == VIGIL_STORE_ATTEMPT_RETRY) {
        atomic_fetch_add(&pg->n.retried, 1);
        vigil__srv_log_limited(pg->srv, "page.retry", "page %lld via %s: %s; next try in %lld ms",
                               (long long)page->id, ch->name, detail, (long long)(next - now));
    } else {
        atomic_fetch_add(&pg->n.failed, 1);
        vigil__srv_log(pg->srv, "page.failed", "page %lld to %s via %s failed after %d attempt(s): %s",
                       (long long)page->id, page->recipient, ch->name, page->attempts + 1,
                       detail);
    }
}

/* One pass over every pushing channel; true when a batch was full (more due). */
static bool send_due(srv_pager *pg)
{
    bool more = false;
    for (int c = 0; c < VIGIL_STORE_CHANNEL_COUNT; c++) {
        const srv_channel *ch = &vigil__srv_channels[c];
        if (ch->send == NULL || (c == VIGIL_STORE_CHANNEL_WEBHOOK && pg->url == NULL)) {
            continue;
        }
        vigil_store_page due[DUE_BATCH];
        size_t n = 0;
        vigil_err err = {0};
        if (vigil_store_pages_due(pg->store, (vigil_store_channel)c, vigil__srv_now_ms(), due,
                                  DUE_BATCH, &n, &err) != VIGIL_OK) {
            vigil__srv_log_limited(pg->srv, "store.error", "reading due pages: %s", err.msg);
            continue;
        }
        for (size_t i = 0; i < n && i < DUE_BATCH; i++) {
            send_one(pg, ch, &due[i]);
        }
        more = more || n >= DUE_BATCH;
    }
    return more;
}

/* ---- e-mail summaries (summary_mail.c) ---------------------------------- */

#define SUMMARY_WARDS_MAX 256
#define SUMMARY_GAPS_MAX 64

/* When a period has ended (periods aligned to the interval), queue its
 * summary to every address: one transaction; from where the last ended. */
static void queue_summaries(srv_pager *pg, int64_t now)
{
    int64_t every = pg->summary_every_ms;
    int64_t end = now - now % every;
    int64_t last = 0;
    vigil_err err = {0};
    if (vigil_store_summary_last(pg->store, &last, &err) != VIGIL_OK) {
        vigil__srv_log_limited(pg->srv, "store.error", "reading summaries: %s", err.msg);
        return;
    }
    if (last >= end) {
        return;
    }
    int64_t from = last > 0 && last > end - INT64_C(7) * 86400 * 1000 ? last : end - every;
    if (vigil_store_summaries_queue(pg->store, &pager_actor, (const char *const *)pg->mail_to,
                                    pg->n_mail_to, from, end, &err) != VIGIL_OK) {
        vigil__srv_log_limited(pg->srv, "store.error", "queueing a summary: %s", err.msg);
    }
}

static void send_summary(srv_pager *pg, const vigil_store_summary *m)
{
    vigil_store_ward_summary *w = calloc(SUMMARY_WARDS_MAX, sizeof *w);
    vigil_store_rota_gap *gaps = calloc(SUMMARY_GAPS_MAX, sizeof *gaps);
    size_t nw = 0, ng = 0;
    vigil_err err = {0};
    char detail[VIGIL_STORE_NAME_MAX + 1] = "";
    int64_t now = vigil__srv_now_ms();
    vigil_status s = VIGIL_ERR_NOMEM;
    if (w != NULL && gaps != NULL) {
        s = vigil_store_ward_summaries(pg->store, m->from_ms, m->to_ms, w, SUMMARY_WARDS_MAX, &nw,
                                       &err);
    }
    if (s == VIGIL_OK) {
        s = vigil_store_rota_gaps(pg->store, now, (int)pg->srv->cfg.escalation.rota_steps, gaps,
                                  SUMMARY_GAPS_MAX, &ng, &err);
    }
    char *msg = NULL;
    if (s == VIGIL_OK) {
        msg = vigil__srv_summary_mail(m, pg->mail_from, w,
                                      nw < SUMMARY_WARDS_MAX ? nw : SUMMARY_WARDS_MAX, gaps,
                                      ng < SUMMARY_GAPS_MAX ? ng : SUMMARY_GAPS_MAX,
                                      pg->link_base, now);
        s = msg != NULL ? vigil__srv_summary_send(pg, m, msg, detail, sizeof detail)
                        : VIGIL_ERR_NOMEM;
    } else {
        snprintf(detail, sizeof detail, "reading the period: %.80s", err.msg);
        s = VIGIL_ERR_IO;
    }
    free(msg);
    free(w);
    free(gaps);
    now = vigil__srv_now_ms();
    vigil_store_attempt_outcome out = VIGIL_STORE_ATTEMPT_DELIVERED;
    int64_t next = 0;
    if (s != VIGIL_OK) {
        bool retry = (unsigned)m->attempts + 1 < pg->max_attempts;
        out = retry ? VIGIL_STORE_ATTEMPT_RETRY : VIGIL_STORE_ATTEMPT_FAILED;
        next = now + backoff_ms(pg, m->attempts + 1);
        if (detail[0] == '\0') {
            snprintf(detail, sizeof detail, "out of memory");
        }
    }
    vigil_err e2 = {0};
    if (vigil_store_summary_attempt(pg->store, &pager_actor, m->id, now, out, next, detail, &e2) !=
        VIGIL_OK) {
        vigil__srv_log(pg->srv, "store.error", "summary %lld attempt not recorded: %s",
                       (long long)m->id, e2.msg);
        return;
    }
    if (out == VIGIL_STORE_ATTEMPT_DELIVERED) {
        atomic_fetch_add(&pg->n.summaries_sent, 1);
    } else if (out == VIGIL_STORE_ATTEMPT_FAILED) {
        atomic_fetch_add(&pg->n.summaries_failed, 1);
        vigil__srv_log(pg->srv, "summary.failed", "summary %lld to %s failed after %d attempt(s): %s",
                       (long long)m->id, m->recipient, m->attempts + 1, detail);
    } else {
        vigil__srv_log_limited(pg->srv, "summary.retry", "summary %lld to %s: %s",
                               (long long)m->id, m->recipient, detail);
    }
}

static void summaries(srv_pager *pg)
{
    if (pg->smtp_url == NULL) {
        return;
    }
    int64_t now = vigil__srv_now_ms();
    queue_summaries(pg, now);
    vigil_store_summary due[4];
    size_t n = 0;
    vigil_err err = {0};
    if (vigil_store_summaries_due(pg->store, now, due, 4, &n, &err) != VIGIL_OK) {
        vigil__srv_log_limited(pg->srv, "store.error", "reading due summaries: %s", err.msg);
        return;
    }
    for (size_t i = 0; i < n && i < 4; i++) {
        send_summary(pg, &due[i]);
    }
}

static void count_gaps(srv_pager *pg)
{
    size_t n = 0;
    vigil_err err = {0};
    if (vigil_store_rota_gaps(pg->store, vigil__srv_now_ms(),
                              (int)pg->srv->cfg.escalation.rota_steps, NULL, 0, &n,
                              &err) == VIGIL_OK) {
        atomic_store(&pg->n.rota_gaps, n);
    }
}

static void *pager_main(void *arg)
{
    srv_pager *pg = arg;
    int64_t last_gaps = 0, last_summary = 0;
    for (;;) {
        pthread_mutex_lock(&pg->mu);
        bool stop = pg->stop;
        pg->kick = false;
        pthread_mutex_unlock(&pg->mu);
        if (stop) {
            break;
        }
        /* the outbox and the summaries are sent by the node holding the
         * lease only (nodes.c): a page is sent once, whichever node queued it */
        bool leader = vigil__srv_lease_held(pg->srv);
        bool more = leader && send_due(pg);
        int64_t now = vigil__srv_now_ms();
        if (now - last_gaps >= GAPS_EVERY_MS) {
            count_gaps(pg);
            last_gaps = now;
        }
        if (leader && now - last_summary >= SUMMARY_EVERY_MS) {
            summaries(pg);
            last_summary = now;
        }
        if (more) {
            continue;
        }
        pthread_mutex_lock(&pg->mu);
        if (!pg->stop && !pg->kick) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += (long)POLL_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&pg->cv, &pg->mu, &ts);
        }
        pthread_mutex_unlock(&pg->mu);
    }
    return NULL;
}

vigil_status vigil__srv_pager_start(vigil_server *srv, vigil_err *err)
{
    srv_pager *pg = srv->pager;
    if (pg == NULL || pg->running) {
        return VIGIL_OK;
    }
    pg->stop = false;
    if (pthread_create(&pg->thr, NULL, pager_main, pg) != 0) {
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, NULL, "cannot start the pager thread");
    }
    pg->running = true;
    return VIGIL_OK;
}

void vigil__srv_pager_stop(vigil_server *srv)
{
    srv_pager *pg = srv->pager;
    if (pg == NULL || !pg->running) {
        return;
    }
    pthread_mutex_lock(&pg->mu);
    pg->stop = true;
    pthread_cond_signal(&pg->cv);
    pthread_mutex_unlock(&pg->mu);
    pthread_join(pg->thr, NULL);
    pg->running = false;
}
