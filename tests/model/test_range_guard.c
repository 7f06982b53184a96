/*
 * test_range_guard.c: training ranges (min/max and numpy-style 0.5/99.5
 * percentiles), the check that lists out-of-range inputs, and the JSON form.
 * Expected percentiles were computed with numpy 1.24 (numpy.percentile,
 * default method) on the same values; the command is next to each.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/range_guard.h"
#include "vigil_test.h"

/* 3 features: f0 = i^2 / 7 for i < 137 (in scrambled order), f1 = 1..200
 * with every 4th missing, f2 always missing. 200 rows. */
static vigil_range_guard *fit_example(void)
{
    enum { R = 200, F = 3 };
    double *x = malloc(R * F * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < R; i++) {
        size_t k = (i * 73) % R; /* 73 is coprime to 200: a permutation */
        x[i * F + 0] = k < 137 ? (double)(k * k) / 7.0 : NAN;
        x[i * F + 1] = (i % 4 == 3) ? NAN : (double)(i + 1);
        x[i * F + 2] = NAN;
    }
    vigil_range_guard *g = NULL;
    vigil_err err = {0};
    assert_int_equal(vigil_range_guard_fit(x, R, F, &g, &err), VIGIL_OK);
    free(x);
    return g;
}

static void range_guard_keeps_min_max_and_numpy_percentiles(void **state)
{
    (void)state;
    vigil_range_guard *g = fit_example();
    assert_int_equal(vigil_range_guard_n_features(g), 3);
    vigil_range r;
    assert_int_equal(vigil_range_guard_get(g, 0, &r), VIGIL_OK);
    assert_int_equal(r.n_present, 137);
    assert_true(r.min == 0.0 && r.max == 136.0 * 136.0 / 7.0);
    /* np.percentile([i*i/7 for i in range(137)], [0.5, 99.5]) */
    assert_true(fabs(r.p005 - 0.09714285714285714) < 1e-15);
    assert_true(fabs(r.p995 - 2615.9599999999996) < 1e-12);
    assert_int_equal(vigil_range_guard_get(g, 1, &r), VIGIL_OK);
    assert_int_equal(r.n_present, 150);
    /* np.percentile([i + 1 for i in range(200) if i % 4 != 3], [0.5, 99.5]) */
    assert_true(r.min == 1.0 && r.max == 199.0);
    assert_true(fabs(r.p005 - 1.745) < 1e-12);
    assert_true(fabs(r.p995 - 198.255) < 1e-12);
    assert_int_equal(vigil_range_guard_get(g, 2, &r), VIGIL_OK);
    assert_int_equal(r.n_present, 0);
    assert_true(isnan(r.min) && isnan(r.max) && isnan(r.p005) && isnan(r.p995));
    assert_int_equal(vigil_range_guard_get(g, 3, &r), VIGIL_ERR_ARG);
    vigil_range_guard_free(g);
}

/* REQ MODEL-RANGE-GUARD */
static void range_guard_lists_inputs_outside_the_chosen_bounds(void **state)
{
    (void)state;
    vigil_range_guard *g = fit_example();
    vigil_range_hit hits[3];
    size_t n = 99;
    /* inside both: nothing listed; NaN is missing, not outside */
    double ok[3] = {100.0, 50.0, NAN};
    assert_int_equal(vigil_range_guard_check(g, ok, 3, VIGIL_RANGE_MINMAX, hits, 3, &n), VIGIL_OK);
    assert_int_equal(n, 0);
    /* the bounds themselves are inside */
    double edge[3] = {0.0, 199.0, NAN};
    assert_int_equal(vigil_range_guard_check(g, edge, 3, VIGIL_RANGE_MINMAX, hits, 3, &n),
                     VIGIL_OK);
    assert_int_equal(n, 0);
    /* ... but outside the percentile band */
    assert_int_equal(vigil_range_guard_check(g, edge, 3, VIGIL_RANGE_P005_P995, hits, 3, &n),
                     VIGIL_OK);
    assert_int_equal(n, 2);
    assert_int_equal(hits[0].feature, 0);
    assert_int_equal(hits[0].side, -1);
    assert_true(fabs(hits[0].lo - 0.09714285714285714) < 1e-15 && hits[0].value == 0.0);
    assert_int_equal(hits[1].feature, 1);
    assert_int_equal(hits[1].side, 1);
    assert_true(fabs(hits[1].hi - 198.255) < 1e-12);
    /* beyond min/max, infinite, and a value for a never-seen feature */
    double out[3] = {-0.5, INFINITY, 7.0};
    assert_int_equal(vigil_range_guard_check(g, out, 3, VIGIL_RANGE_MINMAX, hits, 3, &n),
                     VIGIL_OK);
    assert_int_equal(n, 3);
    assert_int_equal(hits[0].side, -1);
    assert_int_equal(hits[1].side, 1);
    assert_int_equal(hits[2].feature, 2);
    assert_int_equal(hits[2].side, 0);
    assert_true(isnan(hits[2].lo) && isnan(hits[2].hi));
    /* the count is complete even when the caller's array is short */
    assert_int_equal(vigil_range_guard_check(g, out, 3, VIGIL_RANGE_MINMAX, hits, 1, &n),
                     VIGIL_OK);
    assert_int_equal(n, 3);
    assert_int_equal(vigil_range_guard_check(g, out, 3, VIGIL_RANGE_MINMAX, NULL, 0, &n),
                     VIGIL_OK);
    assert_int_equal(n, 3);
    /* argument checks */
    assert_int_equal(vigil_range_guard_check(g, out, 2, VIGIL_RANGE_MINMAX, hits, 3, &n),
                     VIGIL_ERR_MISMATCH);
    assert_int_equal(vigil_range_guard_check(g, out, 3, VIGIL_RANGE_BOUNDS_COUNT, hits, 3, &n),
                     VIGIL_ERR_ARG);
    assert_int_equal(vigil_range_guard_check(g, out, 3, VIGIL_RANGE_MINMAX, NULL, 1, &n),
                     VIGIL_ERR_ARG);
    vigil_range_guard_free(g);
}

static void range_guard_round_trips_through_json(void **state)
{
    (void)state;
    vigil_range_guard *g = fit_example(), *g2 = NULL;
    char *js = NULL;
    vigil_err err = {0};
    assert_int_equal(vigil_range_guard_to_json(g, &js, &err), VIGIL_OK);
    assert_int_equal(vigil_range_guard_from_json(js, strlen(js), &g2, &err), VIGIL_OK);
    for (size_t j = 0; j < 3; j++) {
        vigil_range a, b;
        assert_int_equal(vigil_range_guard_get(g, j, &a), VIGIL_OK);
        assert_int_equal(vigil_range_guard_get(g2, j, &b), VIGIL_OK);
        assert_memory_equal(&a, &b, sizeof a); /* bit for bit, NaN included */
    }
    free(js);
    vigil_range_guard_free(g);
    vigil_range_guard_free(g2);
}

static void range_guard_refuses_bad_input(void **state)
{
    (void)state;
    vigil_range_guard *g = NULL;
    vigil_err err = {0};
    double inf[2] = {1.0, -INFINITY};
    assert_int_equal(vigil_range_guard_fit(inf, 1, 2, &g, &err), VIGIL_ERR_ARG);
    assert_non_null(strstr(err.msg, "row 0, column 1"));
    assert_int_equal(vigil_range_guard_fit(inf, 1, 0, &g, &err), VIGIL_ERR_ARG);
    assert_null(g);
    static const char *const bad[] = {
        "{\"vigil_range_guard\":1,\"features\":[]}",
        "{\"vigil_range_guard\":1,\"features\":[{\"min\":2,\"p005\":1,\"p995\":3,\"max\":4,"
        "\"n_present\":5}]}",
        "{\"vigil_range_guard\":1,\"features\":[{\"min\":1,\"p005\":1,\"p995\":3,\"max\":2,"
        "\"n_present\":5}]}",
        "{\"vigil_range_guard\":1,\"features\":[{\"min\":1,\"p005\":1,\"p995\":1,\"max\":1}]}",
        "{\"vigil_range_guard\":1,\"features\":[{\"min\":1,\"p005\":null,\"p995\":null,"
        "\"max\":null,\"n_present\":0}]}",
        "{\"vigil_range_guard\":2,\"features\":[]}",
        "{\"vigil_range_guard\":1,",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(vigil_range_guard_from_json(bad[i], strlen(bad[i]), &g, &err),
                         VIGIL_ERR_PARSE);
        assert_null(g);
    }
    vigil_range_guard_free(NULL);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(range_guard_keeps_min_max_and_numpy_percentiles),
    cmocka_unit_test(range_guard_lists_inputs_outside_the_chosen_bounds),
    cmocka_unit_test(range_guard_round_trips_through_json),
    cmocka_unit_test(range_guard_refuses_bad_input),
};

VIGIL_TEST_MAIN(tests)
