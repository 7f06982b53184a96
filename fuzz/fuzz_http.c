/*
 * fuzz_http.c: libFuzzer target for the HTTP request path's own code, in
 * process and without sockets (issue 12): request framing (framing.c, the
 * smuggling check), the route matcher over the real route table (api.c),
 * the JSON body as dispatch() reads it (jansson, duplicate keys refused),
 * and the date-time parser every body and query time goes through. Built and
 * run by scripts/fuzz.sh (which links the server and what it uses); seeds in
 * fuzz/corpus/http.
 *
 * Input: "METHOD PATH\n", header lines "Name: value\n" (the name up to the
 * first ':', as libmicrohttpd hands it over, untrimmed), an empty line, then
 * the body. Invariants:
 *  - framing: no fault means at most one Content-Length, plain digits, at
 *    most one Transfer-Encoding, exactly "chunked", never both, every header
 *    name a token; the fault does not depend on the order of the headers;
 *  - routes: a match has the request's method; its parameters are the "{}"
 *    segments, each non-empty, at most 127 bytes, without '/', and putting
 *    them back into the pattern gives the path (less one trailing '/');
 *    no match with method_ok false means no route's pattern matches at all;
 *  - body: a JSON object parsed without duplicates dumps and parses again to
 *    an equal object;
 *  - time: a parsed time formats and parses back to the same millisecond.
 *
 * Does not: reach libmicrohttpd's own parser or a handler (they need the
 * store thread); the CSRF check needs a connection (csrf.c).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond) check_at((cond), #cond, __LINE__)

static void check_at(int cond, const char *what, int line)
{
    if (!cond) {
        fprintf(stderr, "invariant failed at %s:%d: %s\n", __FILE__, line, what);
        abort();
    }
}

#define HEADERS_MAX 32

typedef struct req {
    char *method, *path;
    char *keys[HEADERS_MAX], *vals[HEADERS_MAX];
    size_t n;
    const char *body;
    size_t body_len;
} req;

/* Split the copy buf (NUL-terminated, size n) into a request; false when
 * there is no request line. */
static bool parse(char *buf, size_t n, req *r)
{
    memset(r, 0, sizeof *r);
    char *end = buf + n;
    char *nl = memchr(buf, '\n', n);
    if (nl == NULL) {
        return false;
    }
    *nl = '\0';
    char *sp = strchr(buf, ' ');
    if (sp == NULL) {
        return false;
    }
    *sp = '\0';
    r->method = buf;
    r->path = sp + 1;
    char *p = nl + 1;
    while (p < end) {
        char *e = memchr(p, '\n', (size_t)(end - p));
        if (e == NULL) {
            e = end;
        }
        *e = '\0';
        if (p == e) {
            p = e + 1;
            break;
        }
        char *colon = strchr(p, ':');
        if (colon != NULL && r->n < HEADERS_MAX) {
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t') {
                v++;
            }
            r->keys[r->n] = p;
            r->vals[r->n] = v;
            r->n++;
        }
        p = e + 1;
    }
    r->body = p < end ? p : "";
    r->body_len = p < end ? (size_t)(end - p) : 0;
    return true;
}

static void check_framing(const req *r)
{
    srv_framing f = {0}, back = {0};
    for (size_t i = 0; i < r->n; i++) {
        vigil__srv_framing_add(&f, r->keys[i], r->vals[i]);
        vigil__srv_framing_add(&back, r->keys[r->n - 1 - i], r->vals[r->n - 1 - i]);
    }
    const char *fault = vigil__srv_framing_fault(&f);
    check((fault == NULL) == (vigil__srv_framing_fault(&back) == NULL));
    if (fault != NULL) {
        return;
    }
    unsigned n_cl = 0, n_te = 0;
    for (size_t i = 0; i < r->n; i++) {
        const char *k = r->keys[i];
        check(k[0] != '\0' && strpbrk(k, " \t\r\"(),/:;<=>?@[\\]{}") == NULL);
        if (strcasecmp(k, "Content-Length") == 0) {
            n_cl++;
            size_t d = strspn(r->vals[i], "0123456789");
            check(d > 0 && d <= 18 && r->vals[i][d] == '\0');
        } else if (strcasecmp(k, "Transfer-Encoding") == 0) {
            n_te++;
            check(strcasecmp(r->vals[i], "chunked") == 0);
        }
    }
    check(n_cl <= 1 && n_te <= 1 && !(n_cl == 1 && n_te == 1));
}

static void check_route(const req *r)
{
    srv_req q;
    memset(&q, 0, sizeof q);
    bool method_ok = false;
    const srv_route *rt = vigil__srv_route_match(r->method, r->path, &q, &method_ok);
    if (rt != NULL) {
        check(strcmp(rt->method, r->method) == 0);
        char rebuilt[2048];
        size_t o = 0, k = 0;
        for (const char *p = rt->pattern; *p != '\0' && o + 1 < sizeof rebuilt;) {
            if (p[0] == '{' && p[1] == '}') {
                check(k < q.n_params);
                size_t len = strlen(q.params[k]);
                check(len > 0 && len <= 127 && strchr(q.params[k], '/') == NULL);
                check(o + len < sizeof rebuilt);
                memcpy(rebuilt + o, q.params[k], len);
                o += len;
                k++;
                p += 2;
            } else {
                rebuilt[o++] = *p++;
            }
        }
        rebuilt[o] = '\0';
        check(k == q.n_params);
        size_t pl = strlen(r->path);
        check(strcmp(rebuilt, r->path) == 0 ||
              (pl == o + 1 && r->path[o] == '/' && strncmp(rebuilt, r->path, o) == 0));
    } else {
        check(q.n_params == 0);
        if (!method_ok) {
            /* no route matches this path under any method the table uses */
            static const char *const methods[] = {"GET", "POST", "DELETE"};
            for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
                srv_req z;
                memset(&z, 0, sizeof z);
                bool m = false;
                check(vigil__srv_route_match(methods[i], r->path, &z, &m) == NULL && !m);
            }
        }
    }
    for (size_t i = 0; i < q.n_params; i++) {
        free(q.params[i]);
    }
}

static void check_body(const req *r)
{
    json_error_t je;
    json_t *j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL) {
        return;
    }
    if (json_is_object(j)) {
        char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        if (s != NULL) {
            json_t *again = json_loads(s, JSON_REJECT_DUPLICATES, &je);
            check(again != NULL && json_equal(j, again));
            json_decref(again);
            free(s);
        }
    }
    json_decref(j);
}

static void check_time(const req *r)
{
    char s[64];
    size_t n = r->body_len < sizeof s - 1 ? r->body_len : sizeof s - 1;
    memcpy(s, r->body, n);
    s[n] = '\0';
    int64_t t = 0;
    if (vigil__srv_time_parse(s, &t) != VIGIL_OK) {
        return;
    }
    char out[32];
    vigil__srv_time_format(t, out);
    int64_t t2 = 0;
    check(vigil__srv_time_parse(out, &t2) == VIGIL_OK);
    check(t2 == t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384) {
        return 0;
    }
    char *buf = malloc(size + 1);
    if (buf == NULL) {
        return 0;
    }
    memcpy(buf, data, size);
    buf[size] = '\0';
    req r;
    if (parse(buf, size, &r)) {
        check_framing(&r);
        check_route(&r);
        check_body(&r);
        check_time(&r);
    }
    free(buf);
    return 0;
}
