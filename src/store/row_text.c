/*
 * row_text.c: the text of a REAL in an audit row digest (REQ
 * STORE-AUDIT-ROW-CONTENT): byte for byte what SQLite's quote() writes for
 * it, since the digests of the chain's first version were made by SQLite
 * (src/store/sqlite/sq_obs_sql.c: quote(column)) and must recompute the same
 * on any backend a store is moved to (PostgreSQL's float8 text is the
 * shortest exact form: 37.94444444444444 where quote() wrote
 * 3.79444444444444428654e+01, so a Fahrenheit-converted temperature copied
 * to PostgreSQL failed verify as "row changed").
 *
 * quote() of a REAL r (SQLite 3.40, func.c): printf "%!0.15g" of r; when
 * that text does not read back as r (sqlite3AtoF), "%!0.20e" instead. Both
 * are SQLite's own printf (printf.c), not the C library's: the digits come
 * from a long double (et_getdigit), at most 26 significant ones with the
 * "!" flag, after adding a rounder of half a unit of the last place; "!"
 * keeps ".0" after a whole number and drops trailing zeros. This file
 * follows that code for the two formats quote() uses and for sqlite3AtoF's
 * reading of a %.15g text, on the same long double the library was built
 * with; tests/store/test_store_row_text.c compares it with the library's
 * quote() on two million values of magnitude 1e-30 to 1e30 (none differ).
 *
 * Does not: follow the library exactly for magnitudes beyond 1e-30..1e30
 * (about 5 in 100,000 random doubles of any magnitude differ, measured by
 * that test; a stored vital sign is within 0-300 by the schema's bounds),
 * handle NaN or infinities, or any other printf format.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "store_int.h"

/* et_getdigit: the next digit of *v (1 <= *v < 10), then *v's remainder
 * times ten; '0' once cnt significant digits are out. */
static char next_digit(long double *v, int *cnt)
{
    if (*cnt <= 0) {
        return '0';
    }
    (*cnt)--;
    int d = (int)*v;
    *v = (*v - (long double)d) * 10.0L;
    return (char)('0' + d);
}

/* SQLite's "%!0.<prec>g" (generic) or "%!0.<prec>e" (!generic) of v. */
static size_t sqlite_fmt(double v, int prec, bool generic, char *out)
{
    static const double round_at[] = {5.0e-01, 5.0e-02, 5.0e-03, 5.0e-04, 5.0e-05,
                                      5.0e-06, 5.0e-07, 5.0e-08, 5.0e-09, 5.0e-10};
    char *p = out;
    long double real = v;
    if (real < 0.0L) {
        real = -real;
        *p++ = '-';
    }
    if (generic && prec > 0) {
        prec--;
    }
    int idx = prec & 0xfff;
    double rounder = round_at[idx % 10];
    while (idx >= 10) {
        rounder *= 1.0e-10;
        idx -= 10;
    }
    int exp = 0;
    if (real > 0.0L) {
        /* the library's constants are doubles (1e100 and 1e-8 are not exact) */
        const long double e100 = 1e100, e_8 = 1e-8;
        long double scale = 1.0L;
        while (real >= e100 * scale && exp <= 350) {
            scale *= e100;
            exp += 100;
        }
        while (real >= 1e10L * scale && exp <= 350) {
            scale *= 1e10L;
            exp += 10;
        }
        while (real >= 10.0L * scale && exp <= 350) {
            scale *= 10.0L;
            exp++;
        }
        real /= scale;
        while (real < e_8) {
            real *= 1e8L;
            exp -= 8;
        }
        while (real < 1.0L) {
            real *= 10.0L;
            exp--;
        }
    }
    real += (long double)rounder;
    if (real >= 10.0L) {
        real *= 0.1L;
        exp++;
    }
    bool as_exp = !generic;
    if (generic) {
        if (exp < -4 || exp > prec) {
            as_exp = true;
        } else {
            prec -= exp;
        }
    }
    int e2 = as_exp ? 0 : exp;
    int nsd = 26; /* 16 + 10 for the "!" flag */
    if (e2 < 0) {
        *p++ = '0';
    } else {
        for (; e2 >= 0; e2--) {
            *p++ = next_digit(&real, &nsd);
        }
    }
    *p++ = '.'; /* the "!" flag: always a point */
    for (e2++; e2 < 0; prec--, e2++) {
        *p++ = '0';
    }
    while ((prec--) > 0) {
        *p++ = next_digit(&real, &nsd);
    }
    while (p[-1] == '0') { /* trailing zeros go, but one digit stays after the point */
        p--;
    }
    if (p[-1] == '.') {
        *p++ = '0';
    }
    if (as_exp) {
        *p++ = 'e';
        if (exp < 0) {
            *p++ = '-';
            exp = -exp;
        } else {
            *p++ = '+';
        }
        if (exp >= 100) {
            *p++ = (char)('0' + exp / 100);
            exp %= 100;
        }
        *p++ = (char)('0' + exp / 10);
        *p++ = (char)('0' + exp % 10);
    }
    *p = '\0';
    return (size_t)(p - out);
}

/* sqlite3AtoF's value of a text sqlite_fmt wrote: the digits as a 64-bit
 * significand, scaled by powers of ten in long double, then rounded to a
 * double (twice rounded, as the library does: not always strtod's). */
static double sqlite_atof(const char *z)
{
    int sign = 1;
    if (*z == '-') {
        sign = -1;
        z++;
    }
    const int64_t largest = INT64_MAX;
    int64_t s = 0;
    int d = 0; /* digits dropped (past 19) or after the point */
    while (*z >= '0' && *z <= '9' && s < (largest - 9) / 10) {
        s = s * 10 + (*z++ - '0');
    }
    while (*z >= '0' && *z <= '9') {
        z++;
        d++;
    }
    if (*z == '.') {
        z++;
        while (*z >= '0' && *z <= '9') {
            if (s < (largest - 9) / 10) {
                s = s * 10 + (*z - '0');
                d--;
            }
            z++;
        }
    }
    int e = 0, esign = 1;
    if (*z == 'e' || *z == 'E') {
        z++;
        if (*z == '-') {
            esign = -1;
            z++;
        } else if (*z == '+') {
            z++;
        }
        while (*z >= '0' && *z <= '9') {
            e = e < 10000 ? e * 10 + (*z - '0') : 10000;
            z++;
        }
    }
    e = e * esign + d;
    if (e < 0) {
        esign = -1;
        e = -e;
    } else {
        esign = 1;
    }
    if (s == 0) {
        return sign < 0 ? -0.0 : 0.0;
    }
    while (e > 0) {
        if (esign > 0) {
            if (s >= largest / 10) {
                break;
            }
            s *= 10;
        } else {
            if (s % 10 != 0) {
                break;
            }
            s /= 10;
        }
        e--;
    }
    s = sign < 0 ? -s : s;
    if (e == 0) {
        return (double)s;
    }
    long double scale = 1.0L;
    if (e > 307) {
        if (e >= 342) {
            return esign < 0 ? 0.0 * (double)s : HUGE_VAL * (double)s;
        }
        while (e % 308 != 0) {
            scale *= 1.0e+1L;
            e -= 1;
        }
        double r = esign < 0 ? (double)((long double)s / scale) : (double)((long double)s * scale);
        return esign < 0 ? r / 1.0e+308 : r * 1.0e+308;
    }
    while (e % 22 != 0) {
        scale *= 1.0e+1L;
        e -= 1;
    }
    while (e > 0) {
        scale *= 1.0e+22L;
        e -= 22;
    }
    return esign < 0 ? (double)((long double)s / scale) : (double)((long double)s * scale);
}

size_t vigil__row_text_real(double v, char out[VIGIL__ROW_REAL_TEXT_MAX])
{
    size_t n = sqlite_fmt(v, 15, true, out);
    if (sqlite_atof(out) != v) {
        n = sqlite_fmt(v, 20, false, out);
    }
    return n;
}
