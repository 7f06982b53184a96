/*
 * test_tz.c: IANA time zones from the system's TZif files (RFC 8536,
 * Debian tzdata): local times to UTC on real clock-change dates, skipped
 * and repeated local times refused, the footer rule after 2037, and
 * malformed names and files refused. Expected instants are Python's
 * zoneinfo (the same tzdata) for each local time. REQ TZ-LOCAL-UNIQUE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/tz.h"
#include "vigil_test.h"

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* A local wall-clock time as milliseconds of the local calendar. */
static int64_t local_ms(int y, int mo, int d, int h, int mi)
{
    return (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60) * 1000LL;
}

static vigil_tz *zone(const char *name)
{
    vigil_tz *tz = NULL;
    vigil_err e = {0};
    if (vigil_tz_load(name, NULL, &tz, &e) != VIGIL_OK) {
        fail_msg("cannot load %s: %s (is tzdata installed?)", name, e.msg);
    }
    return tz;
}

typedef struct case_ {
    const char *zone;
    int y, mo, d, h, mi;
    int64_t want; /* Unix ms; 0: refused as skipped; 1: refused as repeated */
} case_;

#define SKIPPED 0
#define REPEATED 1

static const case_ cases[] = {
    /* Europe/Paris 2025: forward 30 March 02:00 -> 03:00, back 26 October 03:00 -> 02:00 */
    {"Europe/Paris", 2025, 3, 30, 1, 59, 1743296340000LL},
    {"Europe/Paris", 2025, 3, 30, 2, 30, SKIPPED},
    {"Europe/Paris", 2025, 3, 30, 3, 0, 1743296400000LL},
    {"Europe/Paris", 2025, 10, 26, 1, 59, 1761436740000LL},
    {"Europe/Paris", 2025, 10, 26, 2, 30, REPEATED},
    {"Europe/Paris", 2025, 10, 26, 3, 0, 1761444000000LL},
    /* America/New_York 2025: forward 9 March, back 2 November */
    {"America/New_York", 2025, 3, 9, 1, 59, 1741503540000LL},
    {"America/New_York", 2025, 3, 9, 2, 30, SKIPPED},
    {"America/New_York", 2025, 3, 9, 3, 0, 1741503600000LL},
    {"America/New_York", 2025, 11, 2, 0, 59, 1762059540000LL},
    {"America/New_York", 2025, 11, 2, 1, 30, REPEATED},
    {"America/New_York", 2025, 11, 2, 2, 0, 1762066800000LL},
    {"America/New_York", 1950, 6, 1, 12, 0, -618048000000LL},
    /* after the last transition in the file (2037): the footer's POSIX rule */
    {"Europe/Paris", 2040, 7, 1, 12, 0, 2224749600000LL},
    {"Europe/Paris", 2040, 1, 15, 8, 0, 2210223600000LL},
    {"Europe/Paris", 2040, 3, 25, 2, 30, SKIPPED},
    {"Europe/Paris", 2040, 10, 28, 2, 30, REPEATED},
    /* southern hemisphere: summer time spans the new year */
    {"Australia/Sydney", 2025, 4, 6, 2, 30, REPEATED},
    {"Australia/Sydney", 2025, 10, 5, 2, 30, SKIPPED},
    {"Australia/Sydney", 2025, 7, 1, 12, 0, 1751335200000LL},
    {"Australia/Sydney", 2041, 1, 1, 12, 0, 2240614800000LL},
    /* no daylight saving; a half-hour offset */
    {"Asia/Tokyo", 2025, 6, 1, 9, 0, 1748736000000LL},
    {"Asia/Kolkata", 2025, 6, 1, 5, 30, 1748736000000LL},
};

static void local_times_on_real_clock_change_dates_match_zoneinfo(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const case_ *c = &cases[k];
        vigil_tz *tz = zone(c->zone);
        int64_t got = 42;
        vigil_err e = {0};
        vigil_status st =
            vigil_tz_local_to_utc(tz, local_ms(c->y, c->mo, c->d, c->h, c->mi), &got, &e);
        if (c->want == SKIPPED || c->want == REPEATED) {
            if (st != VIGIL_ERR_CONFLICT) {
                fail_msg("%s %04d-%02d-%02d %02d:%02d: accepted as %lld, wanted refused", c->zone,
                         c->y, c->mo, c->d, c->h, c->mi, (long long)got);
            }
            assert_int_equal(got, 42); /* unchanged on error */
            assert_non_null(strstr(e.msg, c->want == SKIPPED ? "does not exist" : "happens twice"));
            assert_non_null(strstr(e.msg, c->zone));
        } else if (st != VIGIL_OK || got != c->want) {
            fail_msg("%s %04d-%02d-%02d %02d:%02d: got %lld (%s), wanted %lld", c->zone, c->y,
                     c->mo, c->d, c->h, c->mi, (long long)got, e.msg, (long long)c->want);
        }
        vigil_tz_free(tz);
    }
}

/* Every 15 minutes over years in the file and after it: an instant's local
 * time maps back to it, unless that local time happens twice. */
static void every_quarter_hour_maps_back_to_its_instant(void **state)
{
    (void)state;
    static const char *const names[] = {"Europe/Paris", "America/New_York", "Australia/Sydney",
                                        "Europe/London"};
    static const int years[] = {2024, 2039};
    for (size_t z = 0; z < sizeof names / sizeof names[0]; z++) {
        vigil_tz *tz = zone(names[z]);
        for (size_t yk = 0; yk < 2; yk++) {
            int64_t t0 = days_from_civil(years[yk], 1, 1) * 86400000LL;
            size_t repeated = 0;
            for (int64_t u = t0; u < t0 + 366 * 86400000LL; u += 15 * 60000LL) {
                int64_t l = u + (int64_t)vigil_tz_offset_at(tz, u) * 1000;
                int64_t back = 0;
                vigil_status st = vigil_tz_local_to_utc(tz, l, &back, NULL);
                if (st == VIGIL_ERR_CONFLICT) {
                    repeated++;
                    continue;
                }
                if (st != VIGIL_OK || back != u) {
                    fail_msg("%s: instant %lld -> local %lld -> %lld", names[z], (long long)u,
                             (long long)l, (long long)back);
                }
            }
            /* one repeated hour a year, seen twice (once from each side): 8 quarter hours */
            if (repeated != 8) {
                fail_msg("%s %d: %zu quarter hours repeated, wanted 8", names[z], years[yk],
                         repeated);
            }
        }
        vigil_tz_free(tz);
    }
}

static void bad_names_and_files_are_refused(void **state)
{
    (void)state;
    vigil_tz *tz = NULL;
    vigil_err e = {0};
    assert_int_equal(vigil_tz_load("../../etc/passwd", NULL, &tz, &e), VIGIL_ERR_ARG);
    assert_int_equal(vigil_tz_load("/etc/passwd", NULL, &tz, &e), VIGIL_ERR_ARG);
    assert_int_equal(vigil_tz_load("Europe/./Paris", NULL, &tz, &e), VIGIL_ERR_ARG);
    assert_int_equal(vigil_tz_load("", NULL, &tz, &e), VIGIL_ERR_ARG);
    assert_int_equal(vigil_tz_load("Europe/Atlantis", NULL, &tz, &e), VIGIL_ERR_NOT_FOUND);
    assert_non_null(strstr(e.msg, "tzdata"));
    assert_null(tz);
    static const unsigned char junk[] = "TZif2 but not really a zone file at all, no......";
    assert_int_equal(vigil_tz_parse("X/Y", junk, sizeof junk, &tz, &e), VIGIL_ERR_PARSE);
    assert_null(tz);
    /* a real file cut short at every length is refused, never read past its end */
    FILE *f = fopen("/usr/share/zoneinfo/Europe/Paris", "rb");
    assert_non_null(f);
    unsigned char buf[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(n > 100 && n < sizeof buf);
    for (size_t cut = 0; cut < n; cut++) {
        unsigned char *copy = malloc(cut + 1);
        assert_non_null(copy);
        memcpy(copy, buf, cut);
        assert_int_not_equal(vigil_tz_parse("Europe/Paris", copy, cut, &tz, NULL), VIGIL_OK);
        free(copy);
    }
    assert_int_equal(vigil_tz_parse("Europe/Paris", buf, n, &tz, &e), VIGIL_OK);
    assert_string_equal(vigil_tz_name(tz), "Europe/Paris");
    vigil_tz_free(tz);
    vigil_tz_free(NULL);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(local_times_on_real_clock_change_dates_match_zoneinfo),
    cmocka_unit_test(every_quarter_hour_maps_back_to_its_instant),
    cmocka_unit_test(bad_names_and_files_are_refused),
};

VIGIL_TEST_MAIN(tests)
