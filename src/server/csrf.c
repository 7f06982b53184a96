/*
 * csrf.c: cross-site request forgery defences for every state-changing
 * request (POST, PUT, PATCH, DELETE), checked on the HTTP thread before the
 * body is read (issue 12, finding 10; docs/server.md "Sign-in").
 *
 *  1. Origin: when the request carries an Origin header it must be this
 *     server's own origin (scheme from the listener, host and port from the
 *     Host header); "null" and any other origin are refused. A browser's
 *     Sec-Fetch-Site other than same-origin or none is refused too.
 *  2. Token: a request authenticated by the session cookie must carry
 *     X-CSRF-Token, the keyed BLAKE2b of the session token (so a forged
 *     request, which cannot read the cookie or our responses, cannot make
 *     it). A request with Authorization: Bearer proves itself: a browser
 *     never adds that header on its own. The page gets its token from
 *     GET /api/csrf after sign-in.
 *  SameSite=Strict on the cookie stays, as a third layer.
 *
 * Does not: keep state (the token is derived, compared in constant time),
 * or look at GET and HEAD requests (they change nothing).
 */
#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "server_int.h"

static const char CSRF_CONTEXT[] = "vigil csrf token v1";

bool vigil__srv_method_changes_state(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
           strcmp(method, "OPTIONS") != 0;
}

void vigil__srv_csrf_token(const char *session_token, char out[SRV_TOKEN_LEN + 1])
{
    uint8_t h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)CSRF_CONTEXT, sizeof CSRF_CONTEXT - 1,
                       (const unsigned char *)session_token, strlen(session_token));
    sodium_bin2base64(out, SRV_TOKEN_LEN + 1, h, sizeof h,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(h, sizeof h);
}

/* The Origin is ours: "<scheme>://<Host>" exactly. */
static bool origin_ours(const vigil_server *srv, struct MHD_Connection *conn, const char *origin)
{
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (host == NULL || host[0] == '\0') {
        return false;
    }
    char want[300];
    int n = snprintf(want, sizeof want, "%s://%s", srv->tls.cert != NULL ? "https" : "http", host);
    return n > 0 && (size_t)n < sizeof want && strcmp(origin, want) == 0;
}

const char *vigil__srv_csrf_check(const vigil_server *srv, struct MHD_Connection *conn,
                                  const char *session_token, bool by_cookie)
{
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    if (origin != NULL && !origin_ours(srv, conn, origin)) {
        return "a request from another site is refused (Origin)";
    }
    const char *site = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
    if (site != NULL && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0) {
        return "a request from another site is refused (Sec-Fetch-Site)";
    }
    if (!by_cookie) {
        return NULL;
    }
    const char *got = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token");
    char want[SRV_TOKEN_LEN + 1];
    vigil__srv_csrf_token(session_token, want);
    bool ok =
        got != NULL && strlen(got) == SRV_TOKEN_LEN && sodium_memcmp(got, want, SRV_TOKEN_LEN) == 0;
    sodium_memzero(want, sizeof want);
    return ok ? NULL : "missing or wrong X-CSRF-Token (GET /api/csrf gives it)";
}
