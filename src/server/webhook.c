/*
 * webhook.c: the webhook channel: one page as a JSON POST to a hospital
 * paging or messaging gateway (libcurl).
 *
 * The body carries no more patient detail than a pager may show: the page
 * id (the gateway de-duplicates on it: a page may come twice, never with
 * another id), its event ("page", or "acknowledged" for the notice that the
 * alert behind an earlier page, acknowledges_page_id, was acknowledged in
 * vigil, so the gateway can stop the bleep), the recipient's username, ward,
 * bed, level, the rota post and a link into vigil that needs sign-in. Headers: X-Vigil-Page-Id,
 * X-Vigil-Timestamp (Unix seconds) and X-Vigil-Signature:
 * "sha256=" + hex HMAC-SHA-256 (libsodium) keyed by the configured secret
 * over "<timestamp>.<body>", so the gateway can check origin, integrity and
 * freshness. https URLs use TLS with the peer and host verified (the
 * system's CAs or cfg.page_ca_file); connect and whole-request timeouts;
 * no redirects; http and https only.
 *
 * Outcome: 2xx delivered; 408, 429, 5xx, no connection, timeout: try again
 * (VIGIL_ERR_IO); any other status: refused (VIGIL_ERR_DENIED), no retry.
 */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_int.h"

char *vigil__srv_webhook_body(const vigil_store_page *page, const char *link_base)
{
    char link[512];
    snprintf(link, sizeof link, "%s/patient?id=%lld", link_base != NULL ? link_base : "",
             (long long)page->patient_id);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "page_id", "", "event",
                          page->notice_of != 0 ? "acknowledged" : "page", "to", page->recipient,
                          "ward", page->ward, "bed", page->bed, "level", page->level, "post",
                          page->post, "link", link);
    if (j == NULL) {
        return NULL;
    }
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)page->id);
    json_object_set_new(j, "page_id", json_string(id));
    if (page->notice_of != 0) {
        /* the receipt: the alert behind that page was acknowledged in vigil */
        snprintf(id, sizeof id, "%lld", (long long)page->notice_of);
        json_object_set_new(j, "acknowledges_page_id", json_string(id));
    }
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    return s;
}

void vigil__srv_webhook_sign(const char *secret, long long ts, const char *body, char sig[72])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    char pre[32];
    int k = snprintf(pre, sizeof pre, "%lld.", ts);
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)pre, (unsigned long long)k);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(sig, "sha256=", 7);
    sodium_bin2hex(sig + 7, 72 - 7, mac, sizeof mac);
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

vigil_status vigil__srv_webhook_send(srv_pager *pg, const vigil_store_page *page, char *detail,
                                     size_t cap)
{
    char *body = vigil__srv_webhook_body(page, pg->link_base);
    CURL *c = curl_easy_init();
    if (body == NULL || c == NULL) {
        free(body);
        curl_easy_cleanup(c);
        snprintf(detail, cap, "out of memory");
        return VIGIL_ERR_IO;
    }
    long long ts = (long long)time(NULL);
    char sig[72], h_sig[96], h_ts[48], h_id[48];
    vigil__srv_webhook_sign(pg->secret, ts, body, sig);
    snprintf(h_sig, sizeof h_sig, "X-Vigil-Signature: %s", sig);
    snprintf(h_ts, sizeof h_ts, "X-Vigil-Timestamp: %lld", ts);
    snprintf(h_id, sizeof h_id, "X-Vigil-Page-Id: %lld", (long long)page->id);
    struct curl_slist *h = NULL;
    const char *hs[] = {"Content-Type: application/json", h_sig, h_ts, h_id, "Expect:"};
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++) {
        struct curl_slist *nh = curl_slist_append(h, hs[i]);
        if (nh == NULL) {
            break;
        }
        h = nh;
    }
    curl_easy_setopt(c, CURLOPT_URL, pg->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)pg->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)pg->timeout_ms);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (pg->ca_file != NULL) {
        curl_easy_setopt(c, CURLOPT_CAINFO, pg->ca_file);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(body);
    if (rc != CURLE_OK) {
        snprintf(detail, cap, "%s", rc == CURLE_OPERATION_TIMEDOUT ? "timeout"
                                    : rc == CURLE_COULDNT_CONNECT ? "gateway unreachable"
                                                                  : curl_easy_strerror(rc));
        return VIGIL_ERR_IO;
    }
    snprintf(detail, cap, "HTTP %ld", code);
    if (code >= 200 && code < 300) {
        return VIGIL_OK;
    }
    if (code == 408 || code == 429 || code >= 500) {
        return VIGIL_ERR_IO;
    }
    return VIGIL_ERR_DENIED;
}
