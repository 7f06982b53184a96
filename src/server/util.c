/*
 * util.c: small helpers of the server: two hash maps (patient ids, NHS
 * numbers and MRNs to records), the clock, ISO 8601 times, the log line,
 * and per-event source ids for HL7 messages that carry several sets.
 *
 * Does not: allocate anything but the maps' tables and keys.
 * Invariants: map keys are never removed (patients are never forgotten while
 * the server runs); the log never carries a patient identifier (callers pass
 * reasons and codes only).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_int.h"

/* ---- maps -------------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return mix64(h);
}

static vigil_status idmap_grow(srv_idmap *m)
{
    size_t ncap = m->cap == 0 ? 64 : m->cap * 2;
    int64_t *nk = calloc(ncap, sizeof *nk);
    void **nv = calloc(ncap, sizeof *nv);
    if (nk == NULL || nv == NULL) {
        free(nk);
        free(nv);
        return VIGIL_ERR_NOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] != 0) {
            size_t j = (size_t)mix64((uint64_t)m->keys[i]) & (ncap - 1);
            while (nk[j] != 0) {
                j = (j + 1) & (ncap - 1);
            }
            nk[j] = m->keys[i];
            nv[j] = m->vals[i];
        }
    }
    free(m->keys);
    free(m->vals);
    m->keys = nk;
    m->vals = nv;
    m->cap = ncap;
    return VIGIL_OK;
}

vigil_status vigil__srv_idmap_put(srv_idmap *m, int64_t key, void *val)
{
    if (key <= 0) {
        return VIGIL_ERR_ARG;
    }
    if ((m->n + 1) * 10 > m->cap * 7) {
        vigil_status s = idmap_grow(m);
        if (s != VIGIL_OK) {
            return s;
        }
    }
    size_t j = (size_t)mix64((uint64_t)key) & (m->cap - 1);
    while (m->keys[j] != 0 && m->keys[j] != key) {
        j = (j + 1) & (m->cap - 1);
    }
    if (m->keys[j] == 0) {
        m->keys[j] = key;
        m->n++;
    }
    m->vals[j] = val;
    return VIGIL_OK;
}

void *vigil__srv_idmap_get(const srv_idmap *m, int64_t key)
{
    if (m->cap == 0 || key <= 0) {
        return NULL;
    }
    size_t j = (size_t)mix64((uint64_t)key) & (m->cap - 1);
    while (m->keys[j] != 0) {
        if (m->keys[j] == key) {
            return m->vals[j];
        }
        j = (j + 1) & (m->cap - 1);
    }
    return NULL;
}

void vigil__srv_idmap_fini(srv_idmap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static vigil_status strmap_grow(srv_strmap *m)
{
    size_t ncap = m->cap == 0 ? 64 : m->cap * 2;
    char **nk = calloc(ncap, sizeof *nk);
    int64_t *nv = calloc(ncap, sizeof *nv);
    if (nk == NULL || nv == NULL) {
        free(nk);
        free(nv);
        return VIGIL_ERR_NOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] != NULL) {
            size_t j = (size_t)hash_str(m->keys[i]) & (ncap - 1);
            while (nk[j] != NULL) {
                j = (j + 1) & (ncap - 1);
            }
            nk[j] = m->keys[i];
            nv[j] = m->vals[i];
        }
    }
    free(m->keys);
    free(m->vals);
    m->keys = nk;
    m->vals = nv;
    m->cap = ncap;
    return VIGIL_OK;
}

vigil_status vigil__srv_strmap_put(srv_strmap *m, const char *key, int64_t val)
{
    if (key == NULL || key[0] == '\0') {
        return VIGIL_ERR_ARG;
    }
    if ((m->n + 1) * 10 > m->cap * 7) {
        vigil_status s = strmap_grow(m);
        if (s != VIGIL_OK) {
            return s;
        }
    }
    size_t j = (size_t)hash_str(key) & (m->cap - 1);
    while (m->keys[j] != NULL && strcmp(m->keys[j], key) != 0) {
        j = (j + 1) & (m->cap - 1);
    }
    if (m->keys[j] == NULL) {
        size_t len = strlen(key);
        char *k = malloc(len + 1);
        if (k == NULL) {
            return VIGIL_ERR_NOMEM;
        }
        memcpy(k, key, len + 1);
        m->keys[j] = k;
        m->n++;
    }
    m->vals[j] = val;
    return VIGIL_OK;
}

int64_t vigil__srv_strmap_get(const srv_strmap *m, const char *key)
{
    if (m->cap == 0 || key == NULL || key[0] == '\0') {
        return 0;
    }
    size_t j = (size_t)hash_str(key) & (m->cap - 1);
    while (m->keys[j] != NULL) {
        if (strcmp(m->keys[j], key) == 0) {
            return m->vals[j];
        }
        j = (j + 1) & (m->cap - 1);
    }
    return 0;
}

void vigil__srv_strmap_fini(srv_strmap *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        free(m->keys[i]);
    }
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- clock and times ---------------------------------------------------- */

int64_t vigil__srv_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* n as exactly width decimal digits at p (n < 10^width). */
static void put_digits(char *p, int width, int64_t n)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + n % 10);
        n /= 10;
    }
}

/* The last second of 9999-12-31: past it a year has five digits. */
#define TIME_FAST_MAX_S INT64_C(253402300799)

void vigil__srv_time_format(int64_t t_ms, char out[32])
{
    int64_t s = t_ms >= 0 ? t_ms / 1000 : -((-t_ms + 999) / 1000);
    int ms = (int)(t_ms - s * 1000);
    if (s >= 0 && s <= TIME_FAST_MAX_S) {
        /* 1970-9999, without gmtime_r and snprintf (the ward list writes ten
         * times a row: issue 13 item 10); the same text (test:
         * time_format_matches_gmtime_over_the_whole_fast_range). Days to a
         * civil date: H. Hinnant's days_from_civil inverse, eras of 400 years
         * from 0000-03-01. */
        int64_t days = s / 86400, sod = s % 86400;
        int64_t z = days + 719468, era = z / 146097;
        int64_t doe = z - era * 146097;                                      /* [0, 146096] */
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
        int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
        int64_t d = doy - (153 * mp + 2) / 5 + 1;
        int64_t m = mp < 10 ? mp + 3 : mp - 9;
        int64_t y = yoe + era * 400 + (m <= 2);
        memcpy(out, "0000-00-00T00:00:00.000Z", 25);
        put_digits(out, 4, y);
        put_digits(out + 5, 2, m);
        put_digits(out + 8, 2, d);
        put_digits(out + 11, 2, sod / 3600);
        put_digits(out + 14, 2, sod / 60 % 60);
        put_digits(out + 17, 2, sod % 60);
        put_digits(out + 20, 3, ms);
        return;
    }
    time_t tt = (time_t)s;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL) {
        snprintf(out, 32, "invalid");
        return;
    }
    char b[96];
    snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    snprintf(out, 32, "%.31s", b);
}

json_t *vigil__srv_time_json(int64_t t_ms)
{
    if (t_ms == 0) {
        return json_null();
    }
    char b[32];
    vigil__srv_time_format(t_ms, b);
    return json_string(b);
}

/* Read exactly n digits at *p into *out. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') {
            return false;
        }
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

vigil_status vigil__srv_time_parse(const char *s, int64_t *out_ms)
{
    if (s == NULL || out_ms == NULL) {
        return VIGIL_ERR_ARG;
    }
    const char *p = s;
    int y, mo, d, h, mi, sec = 0, ms = 0;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d) || *p++ != 'T' || !digits(&p, 2, &h) || *p++ != ':' ||
        !digits(&p, 2, &mi)) {
        return VIGIL_ERR_PARSE;
    }
    if (*p == ':') {
        p++;
        if (!digits(&p, 2, &sec)) {
            return VIGIL_ERR_PARSE;
        }
        if (*p == '.') {
            p++;
            int n = 0, v = 0;
            while (*p >= '0' && *p <= '9') {
                if (n < 3) {
                    v = v * 10 + (*p - '0');
                }
                n++;
                p++;
            }
            if (n == 0 || n > 9) {
                return VIGIL_ERR_PARSE;
            }
            for (int i = n; i < 3; i++) {
                v *= 10;
            }
            ms = v;
        }
    }
    int off_min = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 14 || om > 59) {
            return VIGIL_ERR_PARSE;
        }
        off_min = sign * (oh * 60 + om);
    } else {
        return VIGIL_ERR_PARSE; /* a time without a zone is ambiguous */
    }
    if (*p != '\0' || y < 1900 || y > 2999 || mo < 1 || mo > 12 || d < 1 ||
        d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59) {
        return VIGIL_ERR_PARSE;
    }
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off_min * 60;
    *out_ms = t * 1000 + ms;
    return VIGIL_OK;
}

/* ---- source ids --------------------------------------------------------- */

void vigil__srv_event_source_id(const char *ctrl, size_t i, size_t n, char out[VIGIL_ID_MAX])
{
    if (n <= 1) {
        snprintf(out, VIGIL_ID_MAX, "%s", ctrl);
        return;
    }
    char suffix[24];
    snprintf(suffix, sizeof suffix, "#%zu", i + 1);
    size_t lc = strlen(ctrl), ls = strlen(suffix);
    if (lc + ls < VIGIL_ID_MAX) {
        memcpy(out, ctrl, lc);
        memcpy(out + lc, suffix, ls + 1);
        return;
    }
    /* too long: a prefix, a hash of the whole id, the suffix */
    char h[20];
    snprintf(h, sizeof h, "~%016" PRIx64, hash_str(ctrl));
    size_t keep = VIGIL_ID_MAX - 1 - ls - strlen(h);
    snprintf(out, VIGIL_ID_MAX, "%.*s%s%s", (int)keep, ctrl, h, suffix);
}

/* ---- log ------------------------------------------------------------------ */

static void format_line(char *line, size_t cap, const char *kind, const char *fmt, va_list ap)
{
    int n = snprintf(line, cap, "vigil serve: %s: ", kind);
    if (n < 0) {
        line[0] = '\0';
        return;
    }
    if ((size_t)n < cap) {
        vsnprintf(line + n, cap - (size_t)n, fmt, ap);
    }
    /* one line: no control characters from anywhere */
    for (char *c = line; *c != '\0'; c++) {
        if ((unsigned char)*c < 0x20) {
            *c = ' ';
        }
    }
}

/* Under log_mu. */
static void emit(vigil_server *srv, const char *line)
{
    if (srv->cfg.log != NULL) {
        srv->cfg.log(srv->cfg.log_ctx, line);
    } else {
        fprintf(stderr, "%s\n", line);
        fflush(stderr);
    }
}

void vigil__srv_log(vigil_server *srv, const char *kind, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    format_line(line, sizeof line, kind, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&srv->log_mu);
    emit(srv, line);
    pthread_mutex_unlock(&srv->log_mu);
}

/* Under log_mu: say how many lines of slot k were left out, and forget them. */
static void emit_suppressed(vigil_server *srv, size_t k)
{
    if (srv->loglim[k].suppressed == 0) {
        return;
    }
    char line[256];
    snprintf(line, sizeof line, "vigil serve: %s: %llu more like this left out of the log",
             srv->loglim[k].kind, (unsigned long long)srv->loglim[k].suppressed);
    emit(srv, line);
    srv->loglim[k].suppressed = 0;
}

void vigil__srv_log_limited(vigil_server *srv, const char *kind, const char *fmt, ...)
{
    int64_t now = vigil__srv_now_ms();
    pthread_mutex_lock(&srv->log_mu);
    size_t k = 0;
    while (k < SRV_LOGLIM_KINDS && srv->loglim[k].kind != NULL &&
           strcmp(srv->loglim[k].kind, kind) != 0) {
        k++;
    }
    bool write = true;
    if (k < SRV_LOGLIM_KINDS) {
        if (srv->loglim[k].kind == NULL) {
            srv->loglim[k].kind = kind;
            srv->loglim[k].window_ms = now;
        }
        if (now - srv->loglim[k].window_ms >= 1000) {
            emit_suppressed(srv, k);
            srv->loglim[k].window_ms = now;
            srv->loglim[k].n = 0;
        }
        if (srv->loglim[k].n >= SRV_LOGLIM_BURST) {
            srv->loglim[k].suppressed++;
            atomic_fetch_add(&srv->log_suppressed, 1);
            write = false;
        } else {
            srv->loglim[k].n++;
        }
    }
    if (write) {
        char line[1024];
        va_list ap;
        va_start(ap, fmt);
        format_line(line, sizeof line, kind, fmt, ap);
        va_end(ap);
        emit(srv, line);
    }
    pthread_mutex_unlock(&srv->log_mu);
}

void vigil__srv_log_flush(vigil_server *srv)
{
    pthread_mutex_lock(&srv->log_mu);
    for (size_t k = 0; k < SRV_LOGLIM_KINDS && srv->loglim[k].kind != NULL; k++) {
        emit_suppressed(srv, k);
    }
    pthread_mutex_unlock(&srv->log_mu);
}
