/*
 * http.c: the HTTP side, on libmicrohttpd: a pool of cfg.http_threads
 * threads on epoll with a connection limit and timeouts. Each request is
 * matched to a route, authenticated (Authorization: Bearer <token> or the
 * HttpOnly vigil_session cookie), checked against the route's roles, its
 * body collected up to a limit (64 KiB for the API, 4 MiB for FHIR) and
 * parsed, and then handed to the store thread, whose answer is sent back.
 *
 * libmicrohttpd rules followed (docs/ecosystem.md): the response is queued
 * on the callback where *upload_data_size is 0, never on the first call
 * (that would close keep-alive connections), except to refuse an oversize
 * body, where closing is the point; no PostProcessor (JSON bodies only).
 *
 * Does not: look at patient data (the store thread does: api.c, fhir.c).
 * Invariants: 401 when there is no valid session, 403 when the role may not
 * use the route (ward scope is checked on the store thread: 404 for a patient
 * out of scope, as for none); framing faults 400 and closed (framing.c); every
 * error body is {"error": {"code", "message"}} (OperationOutcome on /fhir).
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"
#include "vigil/fhir.h"

#define API_BODY_MAX (64u * 1024u)

typedef struct http_ctx {
    srv_signin signin; /* first: signer.c hands it back (a sign-in's job) */
    struct MHD_Connection *conn; /* while suspended for the sign-in thread */
    bool suspended;              /* queued there; the answer is sent once resumed */
    char client[64];
    const srv_route *route;
    srv_req req;
    char *body;
    size_t len, cap, limit;
    int early;          /* an HTTP status decided before the body was read; 0 = none */
    bool close;         /* answer with Connection: close (framing fault, oversize body) */
    size_t discarded;   /* body bytes thrown away after an oversize body was refused */
    const char *e_code; /* with its error code and message */
    char e_msg[160];
    char token[SRV_TOKEN_LEN + 1];
    bool by_cookie;              /* the session came as the cookie (CSRF token needed) */
    const srv_static_file *file; /* a file of the web app (static.c), else NULL */
    char cookie[160];
} http_ctx;

/* ---- responses ------------------------------------------------------------- */

void vigil__srv_req_json(srv_req *r, int status, json_t *j)
{
    free(r->resp);
    r->resp = NULL;
    json_decref(r->resp_json);
    r->resp_json = NULL;
    r->status = status;
    r->content_type = "application/json";
    if (j == NULL) {
        r->status = 500;
        r->resp = NULL;
        return;
    }
    r->resp = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (r->resp == NULL) {
        r->status = 500;
    }
}

void vigil__srv_req_json_later(srv_req *r, int status, json_t *j)
{
    vigil__srv_req_json(r, status, json_object()); /* clears what was set */
    free(r->resp);
    r->resp = NULL;
    if (j == NULL) {
        r->status = 500;
        return;
    }
    r->resp_json = j;
}

void vigil__srv_req_json_text(srv_req *r, int status, char *text)
{
    vigil__srv_req_json(r, status, json_object()); /* clears what was set */
    free(r->resp);
    r->resp = text;
    if (text == NULL) {
        r->status = 500;
    }
}

void vigil__srv_req_error(srv_req *r, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *m = json_string(msg);
    if (m == NULL) {
        m = json_string("(message not UTF-8)");
    }
    vigil__srv_req_json(r, status,
                        json_pack("{s:{s:s, s:o}}", "error", "code", code, "message", m));
}

void vigil__srv_req_out_of_scope(srv_req *r, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vigil__srv_req_error(r, 404, "not-found", "%s", msg);
    r->scope_denied = true;
}

int vigil__srv_http_status(vigil_status st, const char **code)
{
    switch (st) {
    case VIGIL_OK:
        *code = "ok";
        return 200;
    case VIGIL_ERR_PARSE:
        *code = "bad-request";
        return 400;
    case VIGIL_ERR_ARG:
    case VIGIL_ERR_IMPLAUSIBLE:
    case VIGIL_ERR_MISMATCH:
        *code = "unprocessable";
        return 422;
    case VIGIL_ERR_NOT_FOUND:
        *code = "not-found";
        return 404;
    case VIGIL_ERR_CONFLICT:
        *code = "conflict";
        return 409;
    case VIGIL_ERR_DENIED:
        *code = "forbidden";
        return 403;
    case VIGIL_ERR_IO:
        *code = "unavailable";
        return 503;
    default:
        *code = "internal";
        return 500;
    }
}

void vigil__srv_req_store_error(srv_req *r, vigil_status st, const vigil_err *e)
{
    const char *code;
    int http = vigil__srv_http_status(st, &code);
    vigil__srv_req_error(r, http, code, "%s", e->msg[0] != '\0' ? e->msg : vigil_status_str(st));
}

/* Error for a request decided on this thread: JSON, or OperationOutcome on /fhir. */
static void early_error(http_ctx *c, int status, const char *code, const char *msg)
{
    if (c->route != NULL && c->route->fhir) {
        /* R4 IssueType for each early refusal */
        const char *it = status == 401                    ? "login"
                         : status == 403                  ? "forbidden"
                         : status == 404                  ? "not-found"
                         : status == 413                  ? "too-costly"
                         : status == 405 || status == 415 ? "not-supported"
                         : status == 503                  ? "transient"
                                                          : "invalid";
        vigil__srv_fhir_error(&c->req, status, it, "%s", msg);
    } else {
        vigil__srv_req_error(&c->req, status, code, "%s", msg);
    }
}

static enum MHD_Result send_resp(struct MHD_Connection *conn, http_ctx *c)
{
    srv_req *r = &c->req;
    if (r->resp_json != NULL) {
        r->resp = json_dumps(r->resp_json, JSON_COMPACT);
        json_decref(r->resp_json);
        r->resp_json = NULL;
        if (r->resp == NULL) {
            r->status = 500;
        }
    }
    if (r->resp == NULL) {
        vigil__srv_req_error(r, r->status >= 400 ? r->status : 500, "internal",
                             "no response was built");
    }
    const char *body = r->resp != NULL ? r->resp : "{}";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->content_type != NULL ? r->content_type : "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    vigil__srv_security_headers(resp);
    if (r->location[0] != '\0') {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
    }
    if (c->cookie[0] != '\0') {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, c->cookie);
    }
    if (c->close) {
        /* libmicrohttpd closes the connection after this response */
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    if (r->status == 401) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"vigil\"");
    }
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* ---- request parts ------------------------------------------------------------ */

/* The session token: Authorization: Bearer, else the vigil_session cookie
 * (*by_cookie says which). */
static bool token_of(struct MHD_Connection *conn, char out[SRV_TOKEN_LEN + 1], bool *by_cookie)
{
    const char *h =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *t = NULL;
    if (h != NULL && strncmp(h, "Bearer ", 7) == 0) {
        t = h + 7;
    } else {
        t = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, "vigil_session");
        *by_cookie = true;
    }
    if (t == NULL || strlen(t) != SRV_TOKEN_LEN) {
        return false;
    }
    memcpy(out, t, SRV_TOKEN_LEN + 1);
    return true;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    json_t *q = cls;
    json_t *v = json_string(value != NULL ? value : "");
    if (key != NULL && v != NULL) {
        json_object_set_new(q, key, v);
    } else {
        json_decref(v);
    }
    return MHD_YES;
}

static bool from_loopback(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return ci != NULL && vigil__srv_addr_loopback(ci->client_addr);
}

static void client_of(struct MHD_Connection *conn, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, cap, "?");
    if (ci == NULL || ci->client_addr == NULL) {
        return;
    }
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)cap);
    } else if (sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)cap);
    }
}

/* The stated reason for access (X-Vigil-Reason), printable ASCII, else "direct care". */
static void reason_of(struct MHD_Connection *conn, char *out, size_t cap)
{
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Vigil-Reason");
    bool ok = h != NULL && h[0] != '\0' && strlen(h) < cap && strlen(h) < 200;
    for (const char *p = h; ok && *p != '\0'; p++) {
        ok = *p >= 0x20 && *p < 0x7f;
    }
    snprintf(out, cap, "%s", ok ? h : "direct care");
}

static bool content_type_ok(struct MHD_Connection *conn, bool fhir)
{
    const char *ct =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ct == NULL) {
        return false;
    }
    size_t n = strcspn(ct, ";");
    return (n == 16 && strncmp(ct, "application/json", 16) == 0) ||
           (fhir && n == 21 && strncmp(ct, "application/fhir+json", 21) == 0);
}

static enum MHD_Result framing_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    vigil__srv_framing_add(cls, key, value);
    return MHD_YES;
}

/* First call: framing, route, session, role, content type, declared length. */
static void first_call(vigil_server *srv, struct MHD_Connection *conn, http_ctx *c, const char *url,
                       const char *method)
{
    bool method_ok = false;
    c->route = vigil__srv_route_match(method, url, &c->req, &method_ok);
    c->req.method = method;
    c->req.path = url;
    c->limit = API_BODY_MAX;
    srv_framing fr = {0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, framing_header, &fr);
    const char *fault = vigil__srv_framing_fault(&fr);
    if (fault != NULL) {
        /* issue 12 finding 11: a length two parsers could read two ways is
         * refused before anything else, and the connection closed, so no
         * request hidden in the body is ever read */
        c->early = 400;
        c->close = true;
        c->e_code = "bad-request";
        snprintf(c->e_msg, sizeof c->e_msg, "%s", fault);
        return;
    }
    if (c->route == NULL && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)) {
        c->file = vigil__srv_static_find(&srv->web, url);
        if (c->file != NULL) {
            return;
        }
    }
    if (c->route == NULL) {
        c->early = method_ok ? 405 : 404;
        c->e_code = method_ok ? "method-not-allowed" : "not-found";
        snprintf(c->e_msg, sizeof c->e_msg,
                 method_ok ? "method not allowed here" : "no such endpoint");
        if (strncmp(url, "/fhir", 5) == 0) {
            static const srv_route fhir_any = {"", "", NULL, 0, false, true, false, 0};
            c->route = &fhir_any;
        }
        return;
    }
    if (c->route->fhir) {
        c->limit = VIGIL_FHIR_MAX_BYTES;
    }
    unsigned roles = c->route->roles;
    if (c->route->special == SRV_ROUTE_METRICS && !from_loopback(conn)) {
        roles = 1u << VIGIL_STORE_ROLE_ADMIN; /* docs/server.md, Metrics */
    }
    if (roles != 0) {
        /* every check reads the store (issue 15): a sign-out or a disabling
         * on another node counts at once */
        vigil_status ss = VIGIL_ERR_NOT_FOUND;
        if (token_of(conn, c->token, &c->by_cookie)) {
            srv_sess_conn *sc = vigil__srv_sess_take(srv);
            ss = vigil__srv_session_get(&srv->auth, sc->st, c->token, vigil__srv_now_ms(),
                                        &c->req.user);
            vigil__srv_sess_give(sc);
        }
        if (ss != VIGIL_OK && ss != VIGIL_ERR_NOT_FOUND) {
            vigil__srv_log_limited(srv, "store.error", "session check: %s",
                                   vigil_status_str(ss));
            c->early = 503;
            c->e_code = "unavailable";
            snprintf(c->e_msg, sizeof c->e_msg, "sessions cannot be checked now; try again");
            return;
        }
        if (ss != VIGIL_OK) {
            c->early = 401;
            c->e_code = "unauthorized";
            snprintf(c->e_msg, sizeof c->e_msg, "sign in first (no valid session)");
            return;
        }
        if ((roles & (1u << c->req.user.role)) == 0) {
            c->early = 403;
            c->e_code = "forbidden";
            snprintf(c->e_msg, sizeof c->e_msg, "a %s may not do this",
                     vigil_store_role_name(c->req.user.role));
            return;
        }
    }
    const char *forged = vigil__srv_method_changes_state(method)
                             ? vigil__srv_csrf_check(srv, conn, c->token, c->by_cookie)
                             : NULL;
    if (forged != NULL) {
        c->early = 403;
        c->e_code = "forbidden";
        snprintf(c->e_msg, sizeof c->e_msg, "%s", forged);
        return;
    }
    if (c->route->body && !content_type_ok(conn, c->route->fhir)) {
        c->early = 415;
        c->e_code = "unsupported-media-type";
        snprintf(c->e_msg, sizeof c->e_msg, "send %s",
                 c->route->fhir ? "application/fhir+json" : "application/json");
        return;
    }
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    long long n = 0;
    if (cl != NULL && sscanf(cl, "%lld", &n) == 1 && n > (long long)c->limit) {
        c->early = 413;
        c->close = true;
        c->e_code = c->route->fhir ? "too-costly" : "too-large";
        snprintf(c->e_msg, sizeof c->e_msg, "the body is larger than %zu bytes", c->limit);
    }
}

static void on_store_thread(vigil_server *srv, srv_job *job)
{
    http_ctx *c = job->arg;
    c->route->fn(srv, &c->req);
}

/* The sign-in thread (signer.c): argon2id there, then back to libmicrohttpd. */
static void signin_run(vigil_server *srv, srv_signin *s)
{
    http_ctx *c = (http_ctx *)(void *)s;
    vigil__srv_h_login(srv, &c->req, c->client, c->cookie, sizeof c->cookie);
    vigil__srv_signer_done(srv);
    MHD_resume_connection(c->conn); /* the answer goes out from on_request */
}

/* Last call: parse the body and run the route. true when the request was
 * handed to the sign-in thread (its connection suspended: no answer yet). */
static bool dispatch(vigil_server *srv, struct MHD_Connection *conn, http_ctx *c)
{
    srv_req *r = &c->req;
    reason_of(conn, r->reason, sizeof r->reason);
    client_of(conn, r->client, sizeof r->client);
    r->who.user = r->user.username[0] != '\0' ? r->user.username : "anonymous";
    r->who.reason = r->reason;
    r->query = json_object();
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, r->query);
    r->raw = c->body != NULL ? c->body : "";
    r->raw_len = c->len;
    if (c->route->body && !c->route->fhir) {
        json_error_t je;
        r->body = json_loadb(r->raw, r->raw_len, JSON_REJECT_DUPLICATES, &je);
        if (r->body == NULL || !json_is_object(r->body)) {
            vigil__srv_req_error(r, 400, "bad-request", "the body is not a JSON object%s%s",
                                 r->body == NULL ? ": " : "", r->body == NULL ? je.text : "");
            return false;
        }
    }
    if (c->route->special == SRV_ROUTE_LOGIN) {
        /* argon2id never runs on an HTTP thread: /health and the ward list
         * never wait for a sign-in (signer.c) */
        if (!vigil__srv_signer_reserve(srv)) {
            atomic_fetch_add(&srv->stats.signin_refused_busy, 1);
            vigil__srv_log_limited(srv, "auth.busy", "sign-in refused: busy");
            vigil__srv_req_error(r, 503, "unavailable", "sign-in is busy; try again shortly");
            return false;
        }
        client_of(conn, c->client, sizeof c->client);
        c->conn = conn;
        c->signin.run = signin_run;
        c->suspended = true;
        MHD_suspend_connection(conn);
        vigil__srv_signer_push(srv, &c->signin);
        return true;
    }
    if (c->route->http_thread) {
        c->route->fn(srv, r);
        if (c->route->special == SRV_ROUTE_CSRF) {
            char t[SRV_TOKEN_LEN + 1];
            vigil__srv_csrf_token(c->token, t);
            vigil__srv_req_json(r, 200,
                                json_pack("{s:s, s:s}", "csrf_token", t, "header", "X-CSRF-Token"));
        }
        if (c->route->special == SRV_ROUTE_LOGOUT) {
            srv_sess_conn *sc = vigil__srv_sess_take(srv);
            vigil_status es = vigil__srv_session_end(sc->st, c->token);
            vigil__srv_sess_give(sc);
            if (es != VIGIL_OK) { /* never "signed out" while the session lives on */
                vigil__srv_req_error(r, 503, "unavailable", "sign-out failed (%s); try again",
                                     vigil_status_str(es));
                return false;
            }
            snprintf(c->cookie, sizeof c->cookie, "vigil_session=; %s; Max-Age=0",
                     vigil__srv_cookie_attrs(srv));
        }
        return false;
    }
    srv_job job;
    vigil__srv_job_init_call(&job);
    job.run = on_store_thread;
    job.arg = c;
    if (!vigil__srv_call(srv, &job)) {
        early_error(c, 503, "unavailable", "the service is stopping");
    }
    vigil__srv_job_fini_call(&job);
    return false;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    vigil_server *srv = cls;
    http_ctx *c = *con_cls;
    if (c == NULL) {
        c = calloc(1, sizeof *c);
        if (c == NULL) {
            return MHD_NO;
        }
        *con_cls = c;
        first_call(srv, conn, c, url, method);
        if (c->close) {
            /* refuse now (413, 400 framing): reading a body we will not use
             * costs memory and time; libmicrohttpd closes the connection */
            early_error(c, c->early, c->e_code, c->e_msg);
            c->early = -1;
            return send_resp(conn, c);
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (c->early == 413 && c->close) {
            /* a chunked body past the limit: read on (up to the limit again)
             * so that the 413 can be sent once it ends; libmicrohttpd 0.9.75
             * cannot answer in the middle of a body */
            c->discarded += n;
            return c->discarded <= c->limit ? MHD_YES : MHD_NO;
        }
        if (c->early != 0 || c->file != NULL) {
            return MHD_YES; /* discarded: the answer is already decided */
        }
        if (c->len + n > c->limit) {
            c->early = 413;
            c->close = true;
            c->e_code = c->route->fhir ? "too-costly" : "too-large";
            snprintf(c->e_msg, sizeof c->e_msg, "the body is larger than %zu bytes", c->limit);
            free(c->body);
            c->body = NULL;
            c->len = c->cap = 0;
            c->discarded = n;
            return MHD_YES;
        }
        if (c->len + n + 1 > c->cap) {
            size_t ncap = c->cap == 0 ? 4096 : c->cap;
            while (ncap < c->len + n + 1) {
                ncap *= 2;
            }
            char *nb = realloc(c->body, ncap);
            if (nb == NULL) {
                return MHD_NO;
            }
            c->body = nb;
            c->cap = ncap;
        }
        memcpy(c->body + c->len, upload_data, n);
        c->len += n;
        c->body[c->len] = '\0';
        return MHD_YES;
    }
    if (c->early < 0) {
        return MHD_YES; /* already answered */
    }
    if (c->suspended) {
        c->suspended = false; /* resumed by the sign-in thread: its answer is ready */
    } else if (c->file != NULL) {
        atomic_fetch_add(&srv->stats.http_requests, 1);
        return (enum MHD_Result)vigil__srv_static_send(conn, c->file);
    } else if (c->early > 0) {
        early_error(c, c->early, c->e_code, c->e_msg);
    } else if (dispatch(srv, conn, c)) {
        return MHD_YES; /* answered once the sign-in thread resumes it */
    }
    atomic_fetch_add(&srv->stats.http_requests, 1);
    if (c->req.status == 401 || c->req.status == 403 || c->req.scope_denied) {
        /* issue 12 finding 12: a denied attempt leaves a (rate-limited) log
         * line, a count and (aggregated by minute) an audit record */
        atomic_fetch_add(&srv->stats.http_denied, 1);
        char client[64];
        client_of(conn, client, sizeof client);
        vigil__srv_log_limited(srv, "auth.denied", "%d%s %s %.96s by %s from %s", c->req.status,
                               c->req.scope_denied ? " (out of scope)" : "", method, url,
                               c->req.user.username[0] != '\0' ? c->req.user.username : "-",
                               client);
        vigil__srv_denial_note(&srv->denials, c->req.status, c->req.user.username, method,
                               c->route != NULL ? c->route->pattern : url, client,
                               vigil__srv_now_ms());
    }
    return send_resp(conn, c);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    http_ctx *c = *con_cls;
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->req.n_params; i++) {
        free(c->req.params[i]);
    }
    json_decref(c->req.query);
    json_decref(c->req.body);
    json_decref(c->req.resp_json);
    free(c->req.resp);
    free(c->body);
    free(c);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fm, va_list ap)
{
    char msg[256];
    vsnprintf(msg, sizeof msg, fm, ap);
    vigil__srv_log(cls, "http.error", "%s", msg);
}

const char *vigil__srv_cookie_attrs(const vigil_server *srv)
{
    return srv->tls.cert != NULL ? "HttpOnly; SameSite=Strict; Path=/; Secure"
                                 : "HttpOnly; SameSite=Strict; Path=/";
}

vigil_status vigil__srv_http_start(vigil_server *srv, vigil_err *err)
{
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME; /* sign-ins wait off the thread (signer.c) */
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls.cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls.key},
        {MHD_OPTION_END, 0, NULL},
    };
    if (srv->tls.cert != NULL) {
        flags |= MHD_USE_TLS;
    } else {
        tls[0].option = MHD_OPTION_END;
    }
    vigil_status ss = vigil__srv_signer_start(srv, err);
    if (ss != VIGIL_OK) {
        return ss;
    }
    srv->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
        MHD_OPTION_LISTEN_SOCKET, srv->http_fd, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)srv->cfg.http_threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)srv->cfg.max_http_conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)srv->cfg.http_conns_per_addr, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, srv, MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
    if (srv->mhd == NULL) {
        vigil__srv_signer_stop(srv);
        return vigil_err_set(err, VIGIL_ERR_IO, "http",
                             srv->tls.cert != NULL
                                 ? "the HTTPS daemon could not start: check that the certificate "
                                   "and key are PEM and belong together (see the log)"
                                 : "the HTTP daemon could not start");
    }
    srv->http_fd = -1; /* the daemon owns the listening socket now */
    return VIGIL_OK;
}

void vigil__srv_http_quiesce(vigil_server *srv)
{
    if (srv->mhd != NULL) {
        MHD_socket fd = MHD_quiesce_daemon(srv->mhd);
        if (fd != MHD_INVALID_SOCKET) {
            srv->http_fd = fd; /* ours again: closed in vigil_server_close */
        }
    }
}

void vigil__srv_http_stop(vigil_server *srv)
{
    vigil__srv_signer_stop(srv); /* resumes every connection it holds first */
    if (srv->mhd != NULL) {
        MHD_stop_daemon(srv->mhd);
        srv->mhd = NULL;
    }
}
