/*
 * hl7_time.c: HL7 date/time values (v2.5.1 section 2.A.22 DTM and 2.A.75
 * TS, component 1) to Unix milliseconds UTC, and back for the ACK's MSH-7.
 *
 * Does not do: the TS "degree of precision" component (deprecated; callers
 * read component 1 only), or leap seconds (second 60 is refused). Time
 * zones: UTC offsets, UTC, the built-in Europe/London rule, and any IANA
 * zone loaded by the caller (vigil/tz.h, the system's TZif files).
 *
 * Invariants: a value is accepted only if every digit group is in range
 * (month 1-12, the day exists in that month, hour 0-23, minute and second
 * 0-59, offset at most 14:59); a local time without an offset is converted
 * only when that is unambiguous. Pure arithmetic, no libc time functions
 * (no TZ environment, no locale).
 */
#include <string.h>

#include "hl7_int.h"

#define MS_PER_MIN 60000LL
#define MS_PER_HOUR 3600000LL
#define MS_PER_DAY 86400000LL

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static int leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int64_t days_in_month(int64_t y, int64_t m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : dim[m - 1];
}

/* Days since epoch of the last Sunday of month m in year y. */
static int64_t last_sunday(int64_t y, int64_t m)
{
    int64_t last = days_from_civil(y, m, days_in_month(y, m));
    int64_t wday = ((last % 7) + 7 + 4) % 7; /* 1970-01-01 was a Thursday (4); Sunday is 0 */
    return last - wday;
}

static int64_t digits(const char *s, size_t n)
{
    int64_t v = 0;
    for (size_t k = 0; k < n; k++) {
        v = v * 10 + (s[k] - '0');
    }
    return v;
}

/*
 * Europe/London since 1996: BST (UTC+1) from 01:00 UTC on the last Sunday
 * of March to 01:00 UTC on the last Sunday of October.
 */
static vigil_status london_to_utc(int64_t year, int64_t local_ms, int64_t *out, vigil_err *err)
{
    if (year < 1996) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, "time",
                             "a local time before 1996 needs a UTC offset");
    }
    int64_t spring = last_sunday(year, 3) * MS_PER_DAY + MS_PER_HOUR;
    int64_t autumn = last_sunday(year, 10) * MS_PER_DAY + MS_PER_HOUR;
    if (local_ms < spring) {
        *out = local_ms;
    } else if (local_ms < spring + MS_PER_HOUR) {
        return vigil_err_set(err, VIGIL_ERR_CONFLICT, "time",
                             "local time does not exist in Europe/London (clocks go forward); "
                             "send a UTC offset");
    } else if (local_ms < autumn) {
        *out = local_ms - MS_PER_HOUR;
    } else if (local_ms < autumn + MS_PER_HOUR) {
        return vigil_err_set(err, VIGIL_ERR_CONFLICT, "time",
                             "local time happens twice in Europe/London (clocks go back); "
                             "send a UTC offset");
    } else {
        *out = local_ms;
    }
    return VIGIL_OK;
}

static int all_digits(const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (s[k] < '0' || s[k] > '9') {
            return 0;
        }
    }
    return 1;
}

vigil_status vigil_hl7_dtm_parse(const char *s, size_t n, vigil_hl7_prec min_prec, vigil_hl7_tz tz,
                                 int64_t *out_ms, vigil_err *err)
{
    return vigil_hl7_dtm_parse_zone(s, n, min_prec, tz, NULL, out_ms, err);
}

vigil_status vigil_hl7_dtm_parse_zone(const char *s, size_t n, vigil_hl7_prec min_prec,
                                      vigil_hl7_tz tz, const vigil_tz *zone, int64_t *out_ms,
                                      vigil_err *err)
{
    if (s == NULL || out_ms == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "time", "no date/time given");
    }
    int shown = (int)(n > 40 ? 40 : n); /* s is a view: never read past n */
    size_t nd = 0;
    while (nd < n && s[nd] >= '0' && s[nd] <= '9') {
        nd++;
    }
    if (nd != 4 && nd != 6 && nd != 8 && nd != 10 && nd != 12 && nd != 14) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, "time",
                             "'%.*s' is not an HL7 date/time YYYY[MM[DD[HH[MM[SS]]]]]", shown, s);
    }
    if (nd < (size_t)min_prec) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, "time",
                             "'%.*s' is not precise enough: needs at least %d digits "
                             "(%s)",
                             shown, s, (int)min_prec,
                             min_prec == VIGIL_HL7_PREC_MINUTE ? "YYYYMMDDHHMM" : "YYYYMMDD");
    }
    size_t k = nd;
    int64_t frac_ms = 0;
    if (k < n && s[k] == '.') {
        size_t f0 = ++k;
        while (k < n && s[k] >= '0' && s[k] <= '9') {
            k++;
        }
        size_t nf = k - f0;
        if (nd != 14 || nf < 1 || nf > 4) {
            return vigil_err_set(err, VIGIL_ERR_PARSE, "time",
                                 "'%.*s': fractional seconds need 14 digits before them and "
                                 "1 to 4 after",
                                 shown, s);
        }
        for (size_t j = 0; j < 3; j++) {
            frac_ms = frac_ms * 10 + (j < nf ? s[f0 + j] - '0' : 0);
        }
    }
    int has_off = 0;
    int64_t off_ms = 0;
    if (k < n && (s[k] == '+' || s[k] == '-')) {
        if (n - k != 5 || !all_digits(s + k + 1, 4)) {
            return vigil_err_set(err, VIGIL_ERR_PARSE, "time",
                                 "'%.*s': the UTC offset must be +HHMM or -HHMM", shown, s);
        }
        int64_t oh = digits(s + k + 1, 2);
        int64_t om = digits(s + k + 3, 2);
        if (oh > 14 || om > 59) {
            return vigil_err_set(err, VIGIL_ERR_PARSE, "time", "'%.*s': UTC offset out of range",
                                 shown, s);
        }
        off_ms = (oh * 60 + om) * MS_PER_MIN * (s[k] == '-' ? -1 : 1);
        has_off = 1;
        k = n;
    }
    if (k != n) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, "time",
                             "'%.*s' has unexpected characters after the date/time", shown, s);
    }
    int64_t y = digits(s, 4);
    int64_t mo = nd >= 6 ? digits(s + 4, 2) : 1;
    int64_t d = nd >= 8 ? digits(s + 6, 2) : 1;
    int64_t h = nd >= 10 ? digits(s + 8, 2) : 0;
    int64_t mi = nd >= 12 ? digits(s + 10, 2) : 0;
    int64_t se = nd >= 14 ? digits(s + 12, 2) : 0;
    if (y < 1900 || y > 2999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || se > 59) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, "time", "'%.*s' is not a real date/time", shown,
                             s);
    }
    int64_t local = days_from_civil(y, mo, d) * MS_PER_DAY + h * MS_PER_HOUR + mi * MS_PER_MIN +
                    se * 1000 + frac_ms;
    if (has_off) {
        *out_ms = local - off_ms;
        return VIGIL_OK;
    }
    switch (tz) {
    case VIGIL_HL7_TZ_UTC:
        *out_ms = local;
        return VIGIL_OK;
    case VIGIL_HL7_TZ_EUROPE_LONDON:
        if (nd < 10) {
            *out_ms = local; /* a date: no time of day to shift */
            return VIGIL_OK;
        }
        return london_to_utc(y, local, out_ms, err);
    case VIGIL_HL7_TZ_ZONE:
        if (nd < 10) {
            *out_ms = local; /* a date: no time of day to shift */
            return VIGIL_OK;
        }
        if (zone == NULL) {
            return vigil_err_set(err, VIGIL_ERR_PARSE, "time",
                                 "'%.*s' has no UTC offset and the sender's time zone is not "
                                 "loaded",
                                 shown, s);
        }
        /* REQ HL7-TIME-ZONE: the sender's IANA zone; skipped or repeated local times refused */
        return vigil_tz_local_to_utc(zone, local, out_ms, err);
    case VIGIL_HL7_TZ_REFUSE:
    case VIGIL_HL7_TZ_COUNT:
        break;
    }
    if (nd < 10) {
        *out_ms = local;
        return VIGIL_OK;
    }
    return vigil_err_set(err, VIGIL_ERR_PARSE, "time", "'%.*s' has no UTC offset (+HHMM)", shown,
                         s);
}

void vigil_hl7_dtm_format(int64_t t_ms, char out[21])
{
    int64_t days = t_ms >= 0 ? t_ms / MS_PER_DAY : -((-t_ms + MS_PER_DAY - 1) / MS_PER_DAY);
    int64_t rem = t_ms - days * MS_PER_DAY;
    int64_t y, m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        y = 0;
    }
    int64_t secs = rem / 1000;
    int v[6] = {(int)y,          (int)m, (int)d, (int)(secs / 3600), (int)(secs / 60 % 60),
                (int)(secs % 60)};
    /* YYYY MM DD HH MM SS written digit by digit: no locale, no snprintf truncation games */
    char *o = out;
    o[0] = (char)('0' + v[0] / 1000 % 10);
    o[1] = (char)('0' + v[0] / 100 % 10);
    o[2] = (char)('0' + v[0] / 10 % 10);
    o[3] = (char)('0' + v[0] % 10);
    o += 4;
    for (int k = 1; k < 6; k++) {
        o[0] = (char)('0' + v[k] / 10 % 10);
        o[1] = (char)('0' + v[k] % 10);
        o += 2;
    }
    memcpy(o, "+0000", 6);
}

int vigil__hl7_placeholder_dtm(vigil_hl7_view v)
{
    if (v.n < 4) {
        return 0;
    }
    for (size_t k = 0; k < v.n; k++) {
        if (v.p[k] != '0') {
            return 0;
        }
    }
    return 1;
}
