/* test_store_row_text.c: the text of a REAL in an audit row digest
 * (src/store/row_text.c) is what SQLite's quote() writes, byte for byte,
 * so a digest made on SQLite recomputes the same on PostgreSQL (REQ
 * STORE-AUDIT-ROW-CONTENT). Compared with the linked library's quote() on
 * the values a vital sign takes: one-decimal readings, Fahrenheit
 * conversions, fractional ages, whole numbers, and random doubles of
 * magnitude 1e-30 to 1e30 (a stored vital sign is within 0-300). */
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"
#include "vigil_test.h"

static uint64_t next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static double uniform(uint64_t *x, double lo, double hi)
{
    return lo + (hi - lo) * ((double)(next(x) >> 11) / 9007199254740992.0);
}

/* The value the k-th case checks. */
static double value(uint64_t *x, int k)
{
    switch (k % 7) {
    case 0:
        return uniform(x, 0, 300);
    case 1: /* a Fahrenheit reading converted, as the HL7 and FHIR readers do */
        return ((double)(900 + next(x) % 200) / 10.0 - 32.0) * 5.0 / 9.0;
    case 2: /* a one-decimal reading */
        return (double)(next(x) % 3001) / 10.0;
    case 3: /* an age from a birth date */
        return (double)(next(x) % 50000) / 365.25;
    case 4: /* any magnitude */
        return uniform(x, 0, 1) * pow(10.0, (double)(int)(next(x) % 40) - 20.0);
    case 5: /* whole numbers */
        return (double)(next(x) % 100000);
    default: /* any double of magnitude 1e-30 to 1e30 */
        return uniform(x, 1, 10) * pow(10.0, (double)(int)(next(x) % 61) - 30.0);
    }
}

/* Any finite double (outside 1e-30..1e30 the library's long double
 * arithmetic is not followed exactly): how many of n differ, for the
 * record (docs/store.md), not a condition. */
static int differ_anywhere(sqlite3_stmt *st, uint64_t *x, int n)
{
    int bad = 0;
    for (int k = 0; k < n; k++) {
        uint64_t u = next(x) & ~(UINT64_C(1) << 63);
        double v;
        memcpy(&v, &u, sizeof v);
        if (!isfinite(v)) {
            continue;
        }
        sqlite3_bind_double(st, 1, v);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        char got[VIGIL__ROW_REAL_TEXT_MAX];
        vigil__row_text_real(v, got);
        bad += strcmp(got, (const char *)sqlite3_column_text(st, 0)) != 0;
        sqlite3_reset(st);
    }
    return bad;
}

static void real_text_is_sqlite_quote_for_two_million_values(void **state)
{
    (void)state;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT quote(?1)", -1, &st, NULL), SQLITE_OK);
    uint64_t x = UINT64_C(0x9E3779B97F4A7C15);
    const double fixed[] = {0.0,  37.0, 37.5, 36.6,   0.1 + 0.2,         (100.3 - 32.0) * 5.0 / 9.0,
                            1e-5, 1e15, 1e16, 1e-300, 123456789012345.0, 0.3};
    int bad = 0;
    const int n_fixed = (int)(sizeof fixed / sizeof fixed[0]);
    for (int k = 0; k < 2000000 + n_fixed; k++) {
        double v = k < n_fixed ? fixed[k] : value(&x, k);
        if (k % 3 == 0 && k >= n_fixed) {
            v = -v;
        }
        sqlite3_bind_double(st, 1, v);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        const char *want = (const char *)sqlite3_column_text(st, 0);
        char got[VIGIL__ROW_REAL_TEXT_MAX];
        size_t n = vigil__row_text_real(v, got);
        if (strcmp(got, want) != 0 || n != strlen(want)) {
            if (bad++ < 10) {
                fprintf(stderr, "%.17g: quote() %s, row text %s\n", v, want, got);
            }
        }
        sqlite3_reset(st);
    }
    int far = differ_anywhere(st, &x, 200000);
    sqlite3_finalize(st);
    sqlite3_close(db);
    fprintf(stderr,
            "SQLite %s: %d of 2,000,000 values within 1e-30..1e30 differ; %d of 200,000 "
            "doubles of any magnitude\n",
            sqlite3_libversion(), bad, far);
    assert_int_equal(bad, 0);
}

/* clang-format off */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test(real_text_is_sqlite_quote_for_two_million_values),
};
/* clang-format on */

VIGIL_TEST_MAIN(tests)
