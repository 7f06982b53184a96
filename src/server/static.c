/*
 * static.c: the web app's files (web/ built into <build>/web), served by
 * `vigil serve` from the API's own port, and the security headers every
 * response carries (docs/web.md).
 *
 * At start the web root is read once into memory: regular files only (no
 * symbolic links followed), at most 4 levels deep, only the extensions in
 * TYPES (each with its content type), at most WEB_FILE_MAX bytes a file and
 * WEB_TOTAL_MAX in all. A request is then an exact look-up of its path in
 * that table: the file system is never touched while serving, so no path
 * (with "..", "%2e", "//" or anything else) can reach a file outside the
 * table. "/" is "/index.html"; a last segment without a dot gets ".html".
 *
 * Caching: a strong ETag (BLAKE2b of the content) on every file and 304 for
 * If-None-Match; pages and our own scripts "no-cache" (always revalidated,
 * so a new build shows at once), nhsuk-frontend's files under /assets/nhsuk/
 * an hour.
 *
 * Does not: list directories, serve anything written after start, or know
 * what a page shows (the pages ask the JSON API, as text: STYLE.md 11).
 */
#include <dirent.h>
#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "server_int.h"

#define WEB_FILE_MAX (8u * 1024u * 1024u)
#define WEB_TOTAL_MAX (64u * 1024u * 1024u)
#define WEB_FILES_MAX 512u
#define WEB_DEPTH_MAX 4

/* Content-Security-Policy: nothing inline, nothing from elsewhere. */
#define WEB_CSP                                                                                    \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "                  \
    "form-action 'self'; frame-ancestors 'none'"

static const struct {
    const char *ext;
    const char *type;
} TYPES[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
    {".woff2", "font/woff2"},
};

void vigil__srv_security_headers(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "Content-Security-Policy", WEB_CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
}

static const char *type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot != NULL && i < sizeof TYPES / sizeof TYPES[0]; i++) {
        if (strcmp(dot, TYPES[i].ext) == 0) {
            return TYPES[i].type;
        }
    }
    return NULL;
}

static vigil_status add_file(srv_static *s, const char *fs_path, const char *url, const char *type,
                             size_t size, vigil_err *err)
{
    if (s->n >= WEB_FILES_MAX || size > WEB_FILE_MAX || s->total + size > WEB_TOTAL_MAX) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "web-root",
                             "the web root is too large (%u files, %u MiB, %u MiB a file at most)",
                             WEB_FILES_MAX, WEB_TOTAL_MAX >> 20, WEB_FILE_MAX >> 20);
    }
    if (s->n == s->cap) {
        size_t ncap = s->cap == 0 ? 64 : s->cap * 2;
        srv_static_file *nv = realloc(s->v, ncap * sizeof *nv);
        if (nv == NULL) {
            return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
        }
        s->v = nv;
        s->cap = ncap;
    }
    srv_static_file *f = &s->v[s->n];
    memset(f, 0, sizeof *f);
    f->url = strdup(url);
    f->body = malloc(size + 1);
    FILE *in = fopen(fs_path, "rb");
    bool ok =
        f->url != NULL && f->body != NULL && in != NULL && fread(f->body, 1, size, in) == size;
    if (in != NULL) {
        fclose(in);
    }
    if (!ok) {
        free(f->url);
        free(f->body);
        return vigil_err_set(err, VIGIL_ERR_IO, "web-root", "cannot read %s", url);
    }
    f->len = size;
    f->type = type;
    f->long_cache = strncmp(url, "/assets/nhsuk/", 14) == 0;
    uint8_t h[8];
    crypto_generichash(h, sizeof h, (const unsigned char *)f->body, size, NULL, 0);
    snprintf(f->etag, sizeof f->etag, "\"%02x%02x%02x%02x%02x%02x%02x%02x\"", h[0], h[1], h[2],
             h[3], h[4], h[5], h[6], h[7]);
    s->total += size;
    s->n++;
    return VIGIL_OK;
}

/* One directory of the web root; url is its path as served ("" for the root). */
static vigil_status scan(srv_static *s, const char *dir, const char *url, int depth, vigil_err *err)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return vigil_err_set(err, VIGIL_ERR_IO, "web-root", "cannot open the web root %s", dir);
    }
    vigil_status st = VIGIL_OK;
    struct dirent *e;
    while (st == VIGIL_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue; /* ".", "..", hidden files */
        }
        char fs[4096], u[1024];
        int a = snprintf(fs, sizeof fs, "%s/%s", dir, e->d_name);
        int b = snprintf(u, sizeof u, "%s/%s", url, e->d_name);
        struct stat sb;
        if (a < 0 || (size_t)a >= sizeof fs || b < 0 || (size_t)b >= sizeof u ||
            lstat(fs, &sb) != 0) {
            continue;
        }
        if (S_ISDIR(sb.st_mode) && depth < WEB_DEPTH_MAX) {
            st = scan(s, fs, u, depth + 1, err);
        } else if (S_ISREG(sb.st_mode) && type_of(e->d_name) != NULL) {
            st = add_file(s, fs, u, type_of(e->d_name), (size_t)sb.st_size, err);
        }
    }
    closedir(d);
    return st;
}

static int by_url(const void *a, const void *b)
{
    return strcmp(((const srv_static_file *)a)->url, ((const srv_static_file *)b)->url);
}

vigil_status vigil__srv_static_load(srv_static *s, const char *root, vigil_err *err)
{
    memset(s, 0, sizeof *s);
    if (root == NULL) {
        return VIGIL_OK;
    }
    vigil_status st = scan(s, root, "", 0, err);
    if (st != VIGIL_OK) {
        vigil__srv_static_fini(s);
        return st;
    }
    qsort(s->v, s->n, sizeof *s->v, by_url);
    return VIGIL_OK;
}

void vigil__srv_static_fini(srv_static *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].url);
        free(s->v[i].body);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}

static const srv_static_file *lookup(const srv_static *s, const char *url)
{
    srv_static_file key;
    key.url = (char *)(uintptr_t)url;
    return s->n == 0 ? NULL : bsearch(&key, s->v, s->n, sizeof *s->v, by_url);
}

const srv_static_file *vigil__srv_static_find(const srv_static *s, const char *url)
{
    if (url == NULL || url[0] != '/' || strlen(url) > 200) {
        return NULL;
    }
    if (strcmp(url, "/") == 0) {
        return lookup(s, "/index.html");
    }
    const srv_static_file *f = lookup(s, url);
    const char *last = strrchr(url, '/');
    if (f == NULL && strchr(last, '.') == NULL) {
        char page[256];
        snprintf(page, sizeof page, "%s.html", url);
        f = lookup(s, page);
    }
    return f;
}

int vigil__srv_static_send(struct MHD_Connection *conn, const srv_static_file *f)
{
    const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
    bool fresh = inm != NULL && strcmp(inm, f->etag) == 0;
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        fresh ? 0 : f->len, fresh ? NULL : f->body, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        return MHD_NO;
    }
    vigil__srv_security_headers(resp);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, f->type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, f->etag);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                            f->long_cache ? "public, max-age=3600" : "no-cache");
    enum MHD_Result ok =
        MHD_queue_response(conn, fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return (int)ok;
}
