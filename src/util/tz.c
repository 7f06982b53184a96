/*
 * tz.c: IANA time zones from TZif files (RFC 8536), for a sender's local
 * times without a UTC offset (docs/hl7.md "Date/time").
 *
 * What it does: reads the version 2+ (64-bit) data of a TZif file (the
 * transitions, the local time types) and its footer, a POSIX TZ rule
 * ("CET-1CEST,M3.5.0,M10.5.0/3") used after the last transition; answers
 * the UTC offset at an instant, and the instant of a local time when there
 * is exactly one.
 *
 * What it does not do: leap seconds (a file with leap-second records, the
 * "right/" zones, is refused), version 1 files (32-bit only: every tzdata
 * since 2005 writes version 2+), the TZ environment variable or any libc
 * time function (no setenv(TZ), no localtime: thread-safe by construction).
 *
 * Invariants: a vigil_tz is immutable once built; transitions are strictly
 * increasing and every type index is in range (checked on parse); UTC
 * offsets are within +-26 hours. Local to UTC: the candidate offsets are the
 * ones in force 36 hours either side and at the local time read as UTC;
 * a local time is accepted only when exactly one candidate maps back to it
 * (REQ TZ-LOCAL-UNIQUE). Civil-date arithmetic: H. Hinnant's algorithms.
 */
#include "vigil/tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TZ_FILE_MAX (1u << 20)
#define TZ_OFF_MAX (26 * 3600)

typedef struct tz_rule_date {
    char kind; /* 'J' (1-365, no Feb 29), 'D' (0-365), 'M' (month.week.day) */
    int n;     /* J, D: the day; M: month 1-12 */
    int week;  /* M: 1-5 (5 = last) */
    int wday;  /* M: 0 Sunday - 6 */
    int32_t time_s; /* local time of day of the change, -167h to 167h */
} tz_rule_date;

struct vigil_tz {
    char name[VIGIL_TZ_NAME_MAX];
    size_t n_trans;
    int64_t *trans; /* UTC seconds, strictly increasing */
    uint8_t *idx;   /* type of each transition */
    size_t n_types;
    int32_t *type_off; /* seconds east of UTC */
    int has_rule;      /* footer: a POSIX TZ rule */
    int rule_has_dst;
    int32_t std_off, dst_off; /* seconds east of UTC */
    tz_rule_date start, end;
};

/* ---------------------------------------------------------- civil dates */

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t year_of_days(int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    return yoe + era * 400 + (m <= 2);
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Days since the epoch of a rule's date in year y. */
static int64_t rule_day(const tz_rule_date *r, int64_t y)
{
    int64_t jan1 = days_from_civil(y, 1, 1);
    if (r->kind == 'J') {
        return jan1 + r->n - 1 + (is_leap(y) && r->n >= 60 ? 1 : 0);
    }
    if (r->kind == 'D') {
        return jan1 + r->n;
    }
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t first = days_from_civil(y, r->n, 1);
    int64_t wd1 = ((first % 7) + 7 + 4) % 7; /* 1970-01-01 was a Thursday */
    int64_t day = 1 + (r->wday - wd1 + 7) % 7 + (int64_t)(r->week - 1) * 7;
    int64_t last = dim[r->n - 1] + (r->n == 2 && is_leap(y) ? 1 : 0);
    while (day > last) {
        day -= 7;
    }
    return first + day - 1;
}

/* ------------------------------------------------------------- offsets */

static int32_t rule_offset(const vigil_tz *tz, int64_t t)
{
    if (!tz->rule_has_dst) {
        return tz->std_off;
    }
    int64_t y = year_of_days(floor_div(t + tz->std_off, 86400));
    int64_t start = rule_day(&tz->start, y) * 86400 + tz->start.time_s - tz->std_off;
    int64_t end = rule_day(&tz->end, y) * 86400 + tz->end.time_s - tz->dst_off;
    int dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? tz->dst_off : tz->std_off;
}

static int32_t offset_at_s(const vigil_tz *tz, int64_t t)
{
    if (tz->n_trans == 0) {
        return tz->has_rule ? rule_offset(tz, t) : tz->type_off[0];
    }
    if (t < tz->trans[0]) {
        return tz->type_off[0];
    }
    if (t >= tz->trans[tz->n_trans - 1] && tz->has_rule) {
        return rule_offset(tz, t);
    }
    size_t lo = 0, hi = tz->n_trans; /* largest i with trans[i] <= t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= t) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return tz->type_off[tz->idx[lo]];
}

int32_t vigil_tz_offset_at(const vigil_tz *tz, int64_t utc_ms)
{
    return tz == NULL ? 0 : offset_at_s(tz, floor_div(utc_ms, 1000));
}

vigil_status vigil_tz_local_to_utc(const vigil_tz *tz, int64_t local_ms, int64_t *out_utc_ms,
                                   vigil_err *err)
{
    if (tz == NULL || out_utc_ms == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "time", "no time zone");
    }
    int64_t l = floor_div(local_ms, 1000);
    int64_t ms = local_ms - l * 1000;
    int32_t cand[3] = {offset_at_s(tz, l - 129600), offset_at_s(tz, l),
                       offset_at_s(tz, l + 129600)};
    int64_t found[3];
    size_t n = 0;
    for (size_t k = 0; k < 3; k++) {
        int64_t u = l - cand[k];
        int dup = 0;
        for (size_t j = 0; j < n; j++) {
            dup |= found[j] == u;
        }
        if (!dup && offset_at_s(tz, u) == cand[k]) {
            found[n++] = u;
        }
    }
    if (n == 0) {
        return vigil_err_set(err, VIGIL_ERR_CONFLICT, "time",
                             "local time does not exist in %s (clocks go forward); send a UTC "
                             "offset",
                             tz->name);
    }
    if (n > 1) {
        return vigil_err_set(err, VIGIL_ERR_CONFLICT, "time",
                             "local time happens twice in %s (clocks go back); send a UTC offset",
                             tz->name);
    }
    *out_utc_ms = found[0] * 1000 + ms;
    return VIGIL_OK;
}

const char *vigil_tz_name(const vigil_tz *tz)
{
    return tz == NULL ? "" : tz->name;
}

void vigil_tz_free(vigil_tz *tz)
{
    if (tz == NULL) {
        return;
    }
    free(tz->trans);
    free(tz->idx);
    free(tz->type_off);
    free(tz);
}

/* --------------------------------------------------- POSIX TZ (footer) */

/* A zone abbreviation: <...> or three or more letters. */
static int posix_name(const char **p)
{
    const char *s = *p;
    if (*s == '<') {
        while (*s != '\0' && *s != '>') {
            s++;
        }
        if (*s != '>') {
            return 0;
        }
        *p = s + 1;
        return 1;
    }
    size_t n = 0;
    while ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z')) {
        n++;
    }
    if (n < 3) {
        return 0;
    }
    *p = s + n;
    return 1;
}

static int posix_num(const char **p, int max, int *out)
{
    const char *s = *p;
    int v = 0, n = 0;
    while (*s >= '0' && *s <= '9' && n < 4) {
        v = v * 10 + (*s - '0');
        s++;
        n++;
    }
    if (n == 0 || v > max) {
        return 0;
    }
    *out = v;
    *p = s;
    return 1;
}

/* [+|-]hh[:mm[:ss]] in seconds; hours up to max_h. */
static int posix_time(const char **p, int max_h, int32_t *out)
{
    const char *s = *p;
    int sign = 1;
    if (*s == '+' || *s == '-') {
        sign = *s == '-' ? -1 : 1;
        s++;
    }
    int h = 0, m = 0, sec = 0;
    if (!posix_num(&s, max_h, &h)) {
        return 0;
    }
    if (*s == ':') {
        s++;
        if (!posix_num(&s, 59, &m)) {
            return 0;
        }
        if (*s == ':') {
            s++;
            if (!posix_num(&s, 59, &sec)) {
                return 0;
            }
        }
    }
    *out = sign * (h * 3600 + m * 60 + sec);
    *p = s;
    return 1;
}

/* Skip the character ch at *p; 0 when it is not there. */
static int posix_skip(const char **p, char ch)
{
    if (**p != ch) {
        return 0;
    }
    (*p)++;
    return 1;
}

static int posix_date(const char **p, tz_rule_date *r)
{
    const char *s = *p;
    r->time_s = 7200; /* 02:00 by default */
    if (*s == 'M') {
        s++;
        r->kind = 'M';
        if (!posix_num(&s, 12, &r->n) || r->n < 1 || !posix_skip(&s, '.') ||
            !posix_num(&s, 5, &r->week) || r->week < 1 || !posix_skip(&s, '.') ||
            !posix_num(&s, 6, &r->wday)) {
            return 0;
        }
    } else if (*s == 'J') {
        s++;
        r->kind = 'J';
        if (!posix_num(&s, 365, &r->n) || r->n < 1) {
            return 0;
        }
    } else {
        r->kind = 'D';
        if (!posix_num(&s, 365, &r->n)) {
            return 0;
        }
    }
    if (*s == '/') {
        s++;
        if (!posix_time(&s, 167, &r->time_s)) {
            return 0;
        }
    }
    *p = s;
    return 1;
}

/* The footer's rule (text without its newlines). An empty rule: none. */
static int posix_rule(vigil_tz *tz, const char *s)
{
    if (*s == '\0') {
        return 1;
    }
    int32_t off = 0;
    if (!posix_name(&s) || !posix_time(&s, 24, &off)) {
        return 0;
    }
    tz->has_rule = 1;
    tz->std_off = -off; /* POSIX offsets are west of UTC */
    if (*s == '\0') {
        return 1;
    }
    if (!posix_name(&s)) {
        return 0;
    }
    tz->rule_has_dst = 1;
    tz->dst_off = tz->std_off + 3600;
    if (*s != ',' && *s != '\0') {
        if (!posix_time(&s, 24, &off)) {
            return 0;
        }
        tz->dst_off = -off;
    }
    /* a TZif footer with daylight saving always states its rules (RFC 8536 3.3) */
    if (!posix_skip(&s, ',') || !posix_date(&s, &tz->start) || !posix_skip(&s, ',') ||
        !posix_date(&s, &tz->end) || *s != '\0') {
        return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------- TZif */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chr;
} tzif_counts;

static int read_header(const unsigned char *p, size_t len, tzif_counts *c, char *version)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0) {
        return 0;
    }
    *version = (char)p[4];
    c->isut = be32(p + 20);
    c->isstd = be32(p + 24);
    c->leap = be32(p + 28);
    c->time = be32(p + 32);
    c->type = be32(p + 36);
    c->chr = be32(p + 40);
    return c->time <= 100000 && c->type >= 1 && c->type <= 256 && c->chr <= 65536 &&
           c->leap <= 100000 && (c->isut == 0 || c->isut == c->type) &&
           (c->isstd == 0 || c->isstd == c->type);
}

static size_t block_len(const tzif_counts *c, size_t tsize)
{
    return (size_t)c->time * tsize + c->time + (size_t)c->type * 6 + c->chr +
           (size_t)c->leap * (tsize + 4) + c->isstd + c->isut;
}

static vigil_status bad_tzif(vigil_err *err, const char *name, const char *why)
{
    return vigil_err_set(err, VIGIL_ERR_PARSE, "time_zone", "time zone %s: %s", name, why);
}

static vigil_status valid_name(const char *name, vigil_err *err)
{
    size_t n = name != NULL ? strlen(name) : 0;
    int ok = n > 0 && n < VIGIL_TZ_NAME_MAX && name[0] != '/' && name[n - 1] != '/';
    size_t part = 0;
    for (size_t k = 0; ok && k <= n; k++) {
        char ch = name[k];
        if (ch == '/' || ch == '\0') {
            int dots = (part == 1 && name[k - 1] == '.') ||
                       (part == 2 && name[k - 1] == '.' && name[k - 2] == '.');
            ok = part > 0 && !dots;
            part = 0;
        } else {
            ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                 ch == '_' || ch == '-' || ch == '+' || ch == '.';
            part++;
        }
    }
    if (!ok) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "time_zone",
                             "'%.64s' is not an IANA time zone name (Area/Location)",
                             name != NULL ? name : "");
    }
    return VIGIL_OK;
}

vigil_status vigil_tz_parse(const char *name, const unsigned char *data, size_t len,
                            vigil_tz **out, vigil_err *err)
{
    vigil_status st = valid_name(name, err);
    if (st != VIGIL_OK) {
        return st;
    }
    if (data == NULL || out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "time_zone", "no data");
    }
    tzif_counts c1, c;
    char v1 = 0, v2 = 0;
    if (!read_header(data, len, &c1, &v1)) {
        return bad_tzif(err, name, "not a TZif file (RFC 8536)");
    }
    if (v1 < '2') {
        return bad_tzif(err, name, "TZif version 1 (32-bit) is not read: update tzdata");
    }
    size_t off = 44 + block_len(&c1, 4);
    if (off > len || !read_header(data + off, len - off, &c, &v2)) {
        return bad_tzif(err, name, "truncated TZif file");
    }
    if (c.leap != 0) {
        return bad_tzif(err, name, "leap-second zones (right/) are not supported");
    }
    const unsigned char *p = data + off + 44;
    size_t need = block_len(&c, 8);
    if (need > len - off - 44) {
        return bad_tzif(err, name, "truncated TZif data");
    }
    const unsigned char *foot = p + need;
    const unsigned char *end = data + len;
    vigil_tz *tz = calloc(1, sizeof *tz);
    if (tz == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, "time_zone", "out of memory");
    }
    snprintf(tz->name, sizeof tz->name, "%s", name);
    tz->n_trans = c.time;
    tz->n_types = c.type;
    tz->trans = malloc((c.time > 0 ? c.time : 1) * sizeof *tz->trans);
    tz->idx = malloc(c.time > 0 ? c.time : 1);
    tz->type_off = malloc(c.type * sizeof *tz->type_off);
    if (tz->trans == NULL || tz->idx == NULL || tz->type_off == NULL) {
        vigil_tz_free(tz);
        return vigil_err_set(err, VIGIL_ERR_NOMEM, "time_zone", "out of memory");
    }
    const char *why = NULL;
    for (size_t k = 0; k < c.time && why == NULL; k++) {
        tz->trans[k] = be64(p + 8 * k);
        tz->idx[k] = p[8 * (size_t)c.time + k];
        if (k > 0 && tz->trans[k] <= tz->trans[k - 1]) {
            why = "transition times are not increasing";
        } else if (tz->idx[k] >= c.type) {
            why = "a transition names a local time type that does not exist";
        }
    }
    const unsigned char *types = p + 9 * (size_t)c.time;
    for (size_t k = 0; k < c.type && why == NULL; k++) {
        int32_t o = (int32_t)be32(types + 6 * k);
        if (o < -TZ_OFF_MAX || o > TZ_OFF_MAX || types[6 * k + 4] > 1) {
            why = "a local time type is out of range";
        }
        tz->type_off[k] = o;
    }
    if (why == NULL) {
        /* footer: "\n" rule "\n" */
        char rule[128];
        const unsigned char *q = foot;
        if (q >= end || *q != '\n') {
            why = "the footer is missing";
        } else {
            q++;
            size_t n = 0;
            while (q + n < end && q[n] != '\n' && n < sizeof rule - 1) {
                n++;
            }
            if (q + n >= end || q[n] != '\n') {
                why = "the footer is not terminated";
            } else {
                memcpy(rule, q, n);
                rule[n] = '\0';
                if (!posix_rule(tz, rule)) {
                    why = "the footer's POSIX TZ rule is not understood";
                } else if (tz->std_off < -TZ_OFF_MAX || tz->std_off > TZ_OFF_MAX ||
                           tz->dst_off < -TZ_OFF_MAX || tz->dst_off > TZ_OFF_MAX) {
                    why = "the footer's offsets are out of range";
                }
            }
        }
    }
    if (why != NULL) {
        vigil_tz_free(tz);
        return bad_tzif(err, name, why);
    }
    *out = tz;
    return VIGIL_OK;
}

vigil_status vigil_tz_load(const char *name, const char *dir, vigil_tz **out, vigil_err *err)
{
    vigil_status st = valid_name(name, err);
    if (st != VIGIL_OK) {
        return st;
    }
    if (dir == NULL) {
        dir = getenv("TZDIR");
    }
    if (dir == NULL || dir[0] == '\0') {
        dir = "/usr/share/zoneinfo";
    }
    char path[512];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "time_zone", "time zone path too long");
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "time_zone",
                             "time zone %s is not known (no %s; is tzdata installed?)", name,
                             path);
    }
    unsigned char *buf = malloc(TZ_FILE_MAX);
    if (buf == NULL) {
        fclose(f);
        return vigil_err_set(err, VIGIL_ERR_NOMEM, "time_zone", "out of memory");
    }
    size_t len = fread(buf, 1, TZ_FILE_MAX, f);
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        return vigil_err_set(err, VIGIL_ERR_IO, "time_zone", "time zone %s: cannot read %s",
                             name, path);
    }
    st = vigil_tz_parse(name, buf, len, out, err);
    free(buf);
    return st;
}
