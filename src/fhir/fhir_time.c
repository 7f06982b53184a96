/*
 * fhir_time.c: FHIR R4 dateTime / instant <-> Unix milliseconds UTC.
 *
 * Accepts only the full form YYYY-MM-DDThh:mm:ss[.fff...](Z|+hh:mm|-hh:mm),
 * the shape of the R4 dateTime regex when a time is given (a time always
 * carries a zone in FHIR). Dates without a time and partial dates are valid
 * FHIR but are refused here: an observation set needs an instant, and a day
 * cannot be scored against the one before it (docs/fhir.md, REQ
 * FHIR-DATETIME-FULL).
 *
 * Does not: read the clock, know about leap seconds (POSIX time: 23:59:60 is
 * 00:00:00 of the next day), or keep precision below a millisecond
 * (truncated).
 * Spec: FHIR R4 datatypes, dateTime and instant; calendar arithmetic from
 * H. Hinnant, "chrono-Compatible Low-Level Date Algorithms" (days_from_civil).
 */
#include <stdio.h>
#include <string.h>

#include "fhir_int.h"

/* Read exactly n decimal digits at s; false if any is not a digit. */
static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return (m == 2 && leap_year(y)) ? 29 : dim[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2 ? 1 : 0;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
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
    *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

/* The date part YYYY-MM-DD; *why says what is wrong. */
static bool parse_date(const char *s, int *y, int *mo, int *d, const char **why)
{
    if (!digits(s, 4, y) || s[4] != '-' || !digits(s + 5, 2, mo) || s[7] != '-' ||
        !digits(s + 8, 2, d)) {
        *why = "not a date-time of the form YYYY-MM-DDThh:mm:ss+zz:zz";
        return false;
    }
    if (*y < 1 || *mo < 1 || *mo > 12 || *d < 1 || *d > days_in_month(*y, *mo)) {
        *why = "not a calendar date";
        return false;
    }
    return true;
}

vigil_status vigil__fhir_datetime_parse(const char *s, int64_t *out_ms, const char **why)
{
    const char *dummy = NULL;
    if (why == NULL) {
        why = &dummy;
    }
    static const char shape[] = "not a date-time of the form YYYY-MM-DDThh:mm:ss+zz:zz";
    size_t n = strlen(s);
    int y, mo, d, hh, mm, ss;
    if (n < 19) {
        /* Partial dates (YYYY, YYYY-MM) and dates without a time are valid
         * FHIR dateTime values, refused here. REQ FHIR-DATETIME-FULL */
        bool partial = (n == 4 && digits(s, 4, &y)) ||
                       (n == 7 && digits(s, 4, &y) && s[4] == '-' && digits(s + 5, 2, &mo));
        if (n == 10 && !parse_date(s, &y, &mo, &d, why)) {
            return VIGIL_ERR_PARSE;
        }
        if (partial || n == 10) {
            *why = "a date without a time; vigil needs the instant of measurement";
        } else {
            *why = shape;
        }
        return VIGIL_ERR_PARSE;
    }
    if (!parse_date(s, &y, &mo, &d, why)) {
        return VIGIL_ERR_PARSE;
    }
    if (s[10] != 'T' || !digits(s + 11, 2, &hh) || s[13] != ':' || !digits(s + 14, 2, &mm) ||
        s[16] != ':' || !digits(s + 17, 2, &ss)) {
        *why = shape;
        return VIGIL_ERR_PARSE;
    }
    if (hh > 23 || mm > 59 || ss > 60) {
        *why = "not a time of day";
        return VIGIL_ERR_PARSE;
    }
    const char *p = s + 19;
    int ms = 0;
    if (*p == '.') {
        p++;
        int nd = 0;
        while (*p >= '0' && *p <= '9') {
            if (nd < 3) {
                ms = ms * 10 + (*p - '0');
            }
            nd++;
            p++;
        }
        if (nd == 0) {
            *why = "a decimal point with no fraction of a second";
            return VIGIL_ERR_PARSE;
        }
        for (int k = nd; k < 3; k++) {
            ms *= 10;
        }
    }
    int off_min = 0;
    if (*p == '\0') {
        /* REQ FHIR-DATETIME-ZONE */
        *why = "no time zone; FHIR requires Z or +hh:mm with a time";
        return VIGIL_ERR_PARSE;
    }
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om)) {
            *why = "a time zone that is not +hh:mm or -hh:mm";
            return VIGIL_ERR_PARSE;
        }
        /* R4 regex: (0[0-9]|1[0-3]):[0-5][0-9] | 14:00 */
        if (om > 59 || oh > 14 || (oh == 14 && om != 0)) {
            *why = "a time zone offset beyond +/-14:00";
            return VIGIL_ERR_PARSE;
        }
        off_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        *why = "text after the seconds that is not a fraction or a time zone";
        return VIGIL_ERR_PARSE;
    }
    if (*p != '\0') {
        *why = "text after the time zone";
        return VIGIL_ERR_PARSE;
    }
    int64_t days = days_from_civil(y, mo, d);
    int64_t secs =
        days * 86400 + (int64_t)hh * 3600 + (int64_t)mm * 60 + ss - (int64_t)off_min * 60;
    *out_ms = secs * 1000 + ms;
    return VIGIL_OK;
}

bool vigil__fhir_datetime_format(int64_t t_ms, char *buf, size_t cap)
{
    int64_t ms = t_ms % 1000;
    int64_t secs = t_ms / 1000;
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    int64_t days = secs / 86400;
    int64_t sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days -= 1;
    }
    int64_t y, m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 1 || y > 9999) {
        return false;
    }
    int w;
    if (ms != 0) {
        w = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y, (int)m, (int)d,
                     (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), (int)ms);
    } else {
        w = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, (int)m, (int)d,
                     (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
    }
    return w > 0 && (size_t)w < cap;
}
