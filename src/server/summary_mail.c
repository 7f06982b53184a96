/*
 * summary_mail.c: the e-mail channel, for non-urgent summaries only: the
 * period's counts per ward (alerts by level, acknowledged and how fast,
 * still unacknowledged, failed and unrouted pages, Martha's Rule calls and
 * those not yet reviewed) and the rota's gaps now, as a plain-text e-mail
 * through the site's SMTP relay (libcurl).
 *
 * An e-mail is trusted with less than a pager: it names no patient, bed or
 * NHS number, only wards and counts, and a link that needs sign-in. An alert
 * is never sent by e-mail: pages have no e-mail channel, so nothing urgent
 * can wait in an inbox.
 *
 * Periods: aligned to the interval (with 12 h, 00:00 to 12:00 and 12:00 to
 * 24:00 UTC); when one ends the pager queues its summary to each address in
 * one transaction (the outbox), then sends it with retries like a page. A
 * restart after downtime queues one summary from where the last ended.
 *
 * Does not: read or write patient state; decide anything clinical.
 * Spec: docs/server.md "Pages" (e-mail summaries); issue 16.
 */
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_int.h"

typedef struct {
    char *p;
    size_t n, cap;
    bool oom;
} mbuf;

static void put(mbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(mbuf *b, const char *fmt, ...)
{
    if (b->oom) {
        return;
    }
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p != NULL ? b->p + b->n : NULL, b->p != NULL ? b->cap - b->n : 0,
                          fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = true;
            return;
        }
        if (b->p != NULL && (size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        size_t nc = (b->cap > 0 ? b->cap * 2 : 1024) + (size_t)k;
        char *np = realloc(b->p, nc);
        if (np == NULL) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
}

/* A ward name as one safe line: control characters become '?'. */
static void safe(char *dst, size_t cap, const char *s)
{
    size_t i = 0;
    for (; s[i] != '\0' && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[i] = c < ' ' || c == 0x7f ? '?' : (char)c;
    }
    dst[i] = '\0';
}

static struct tm utc(int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    return tm;
}

static void minutes(char *dst, size_t cap, int64_t ms)
{
    if (ms < 0) {
        snprintf(dst, cap, "none acknowledged");
    } else if (ms < 60000) {
        snprintf(dst, cap, "under 1 min");
    } else {
        snprintf(dst, cap, "%lld min", (long long)(ms / 60000));
    }
}

char *vigil__srv_summary_mail(const vigil_store_summary *m, const char *from,
                              const vigil_store_ward_summary *w, size_t n_wards,
                              const vigil_store_rota_gap *gaps, size_t n_gaps,
                              const char *link_base, int64_t now_ms)
{
    mbuf b = {0};
    char t0[40], t1[40], date[64];
    struct tm a = utc(m->from_ms), z = utc(m->to_ms), d = utc(now_ms);
    if (m->from_ms % 60000 == 0 && m->to_ms % 60000 == 0) {
        strftime(t0, sizeof t0, "%Y-%m-%d %H:%M", &a);
        strftime(t1, sizeof t1, "%Y-%m-%d %H:%M", &z);
    } else { /* a period shorter than whole minutes (tests) */
        strftime(t0, sizeof t0, "%Y-%m-%d %H:%M:%S", &a);
        strftime(t1, sizeof t1, "%Y-%m-%d %H:%M:%S", &z);
    }
    /* RFC 5322 date; English names whatever the locale (the server's is C) */
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &d);
    /* headers: addresses were checked (vigil_store_email_address_ok) */
    put(&b, "From: vigil <%s>\r\nTo: <%s>\r\nDate: %s\r\n", from, m->recipient, date);
    put(&b, "Message-ID: <vigil-summary-%lld@vigil.invalid>\r\n", (long long)m->id);
    put(&b, "Subject: vigil ward summary %s to %s UTC (non-urgent)\r\n", t0, t1);
    put(&b, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n\r\n");
    put(&b, "Non-urgent summary from vigil for %s to %s (UTC).\r\n", t0, t1);
    put(&b, "Counts only: no patient is named here. Alerts are never sent by e-mail;\r\n"
            "they go to the rota's pagers and the web app.\r\n");
    if (link_base != NULL && link_base[0] != '\0') {
        put(&b, "Details (sign-in needed): %s/alerts\r\n", link_base);
    }
    if (n_wards == 0) {
        put(&b, "\r\nNo alerts, pages or Martha's Rule calls in this period.\r\n");
    }
    for (size_t i = 0; i < n_wards; i++) {
        const vigil_store_ward_summary *x = &w[i];
        char ward[VIGIL_STORE_NAME_MAX + 1], med[32], mx[32];
        safe(ward, sizeof ward, x->ward[0] != '\0' ? x->ward : "(not in a bed)");
        unsigned total = x->alerts[0] + x->alerts[1] + x->alerts[2] + x->alerts[3];
        minutes(med, sizeof med, x->ack_median_ms);
        minutes(mx, sizeof mx, x->ack_max_ms);
        put(&b, "\r\nWard %s\r\n", ward);
        put(&b, "  Alerts raised: %u (emergency %u, urgent %u, urgent ward %u, ward %u)\r\n",
            total, x->alerts[3], x->alerts[2], x->alerts[1], x->alerts[0]);
        if (total > 0) {
            put(&b, "  Acknowledged: %u of %u; median time to acknowledge %s, longest %s\r\n",
                x->acked, total, med, mx);
        }
        put(&b, "  Unacknowledged at the end of the period: %u\r\n", x->unacked_open);
        put(&b, "  Pages that failed: %u; pages that found nobody on the rota: %u\r\n",
            x->pages_failed, x->pages_unrouted);
        put(&b, "  Martha's Rule calls: %u; not yet reviewed: %u\r\n", x->marthas_calls,
            x->marthas_unreviewed);
    }
    put(&b, "\r\nRota gaps now: %zu\r\n", n_gaps);
    for (size_t i = 0; i < n_gaps && i < 50; i++) {
        char ward[VIGIL_STORE_NAME_MAX + 1];
        safe(ward, sizeof ward, gaps[i].ward);
        put(&b, "  %s: %s step %d%s\r\n", ward, gaps[i].level, gaps[i].step,
            strcmp(gaps[i].level, "in-charge") == 0
                ? (gaps[i].step == 0 ? " (nurse in charge)" : " (site manager)")
                : "");
    }
    if (n_gaps > 50) {
        put(&b, "  and %zu more\r\n", n_gaps - 50);
    }
    put(&b, "\r\nvigil's AI is trained on ICU research data and needs local validation\r\n"
            "before clinical use. NEWS2 is the national standard; the AI never lowers it.\r\n");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

typedef struct {
    const char *p;
    size_t left;
} reader;

static size_t read_cb(char *dst, size_t size, size_t nitems, void *ctx)
{
    reader *r = ctx;
    size_t k = size * nitems < r->left ? size * nitems : r->left;
    memcpy(dst, r->p, k);
    r->p += k;
    r->left -= k;
    return k;
}

vigil_status vigil__srv_summary_send(srv_pager *pg, const vigil_store_summary *m,
                                     const char *message, char *detail, size_t cap)
{
    CURL *c = curl_easy_init();
    char env_from[VIGIL_STORE_NAME_MAX + 3], env_to[VIGIL_STORE_NAME_MAX + 3];
    snprintf(env_from, sizeof env_from, "<%s>", pg->mail_from);
    snprintf(env_to, sizeof env_to, "<%s>", m->recipient);
    struct curl_slist *rcpt = curl_slist_append(NULL, env_to);
    if (c == NULL || rcpt == NULL) {
        curl_easy_cleanup(c);
        curl_slist_free_all(rcpt);
        snprintf(detail, cap, "out of memory");
        return VIGIL_ERR_IO;
    }
    reader rd = {message, strlen(message)};
    curl_easy_setopt(c, CURLOPT_URL, pg->smtp_url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)pg->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)pg->timeout_ms * 2);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (pg->ca_file != NULL) {
        curl_easy_setopt(c, CURLOPT_CAINFO, pg->ca_file);
    }
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, env_from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &rd);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        const char *what = rc == CURLE_OPERATION_TIMEDOUT ? "timeout"
                           : rc == CURLE_COULDNT_CONNECT  ? "relay unreachable"
                                                          : curl_easy_strerror(rc);
        if (code > 0) {
            snprintf(detail, cap, "%s, SMTP %ld", what, code);
        } else {
            snprintf(detail, cap, "%s", what);
        }
        return VIGIL_ERR_IO;
    }
    snprintf(detail, cap, "SMTP %ld", code);
    return VIGIL_OK;
}
