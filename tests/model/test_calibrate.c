/*
 * test_calibrate.c: Platt scaling and isotonic regression against
 * scikit-learn 1.2 on the committed vectors
 * tests/golden/calibration_vectors.json (written by
 * scripts/oracles/make_calibration_vectors.py), JSON round trips, and
 * refusals of bad input.
 *
 * Tolerances: isotonic fits are compared to 1e-12 (the same arithmetic up
 * to rounding of pooled means). Platt on raw labels is compared with
 * LogisticRegression(solver="newton-cholesky", tol=1e-14): a and b to 1e-9,
 * probabilities to 1e-10. Platt with smoothed targets is compared with
 * CalibratedClassifierCV, whose BFGS stops at gradient norm 1e-5, short of
 * the optimum: vigil's loss must be no higher than scikit-learn's and its
 * probabilities within 1e-5 of scikit-learn's.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/calibrate.h"
#include "vigil_test.h"

typedef struct vec {
    size_t n, ng;
    double *score, *grid;
    int *label;
} vec;

static json_t *load_vectors(void)
{
    const char *src = getenv("VIGIL_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/golden/calibration_vectors.json", src ? src : ".");
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (root == NULL) {
        print_error("cannot read %s: %s\n", path, je.text);
    }
    assert_non_null(root);
    return root;
}

static double *reals(const json_t *a, size_t *n)
{
    *n = json_array_size(a);
    double *v = calloc(*n + 1, sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < *n; i++) {
        v[i] = json_number_value(json_array_get(a, i));
    }
    return v;
}

static vec vec_read(const json_t *c)
{
    vec v;
    size_t nl = 0;
    v.score = reals(json_object_get(c, "score"), &v.n);
    v.grid = reals(json_object_get(c, "grid"), &v.ng);
    double *l = reals(json_object_get(c, "label"), &nl);
    assert_int_equal(nl, v.n);
    v.label = calloc(v.n, sizeof *v.label);
    assert_non_null(v.label);
    for (size_t i = 0; i < v.n; i++) {
        v.label[i] = (int)l[i];
    }
    free(l);
    return v;
}

static void vec_free(vec *v)
{
    free(v->score);
    free(v->grid);
    free(v->label);
}

static double platt_loss(const vec *v, double a, double b)
{
    double n1 = 0;
    for (size_t i = 0; i < v->n; i++) {
        n1 += v->label[i];
    }
    double n0 = (double)v->n - n1, f = 0.0;
    for (size_t i = 0; i < v->n; i++) {
        double t = v->label[i] ? (n1 + 1.0) / (n1 + 2.0) : 1.0 / (n0 + 2.0);
        double z = a * v->score[i] + b;
        f += (z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))) - (1.0 - t) * z;
    }
    return f;
}

/* to_json, from_json, and the same probabilities bit for bit */
static void check_round_trip(const vigil_calib *c, const vec *v)
{
    char *js = NULL;
    vigil_err err = {0};
    assert_int_equal(vigil_calib_to_json(c, &js, &err), VIGIL_OK);
    vigil_calib *c2 = NULL;
    vigil_status st = vigil_calib_from_json(js, strlen(js), &c2, &err);
    if (st != VIGIL_OK) {
        print_error("%s: %s\n", err.msg, js);
    }
    assert_int_equal(st, VIGIL_OK);
    for (size_t i = 0; i < v->ng; i++) {
        assert_true(vigil_calib_apply(c, v->grid[i]) == vigil_calib_apply(c2, v->grid[i]));
    }
    vigil_calib_info i1, i2;
    vigil_calib_get_info(c, &i1);
    vigil_calib_get_info(c2, &i2);
    assert_memory_equal(&i1, &i2, sizeof i1);
    vigil_calib_free(c2);
    free(js);
}

/* REQ MODEL-CALIB-PLATT */
static void calib_platt_matches_calibrated_classifier_cv(void **state)
{
    (void)state;
    json_t *root = load_vectors();
    json_t *cases = json_object_get(root, "cases");
    for (size_t k = 0; k < json_array_size(cases); k++) {
        json_t *cj = json_array_get(cases, k), *pj = json_object_get(cj, "platt");
        vec v = vec_read(cj);
        vigil_calib *c = NULL;
        vigil_err err = {0};
        assert_int_equal(vigil_calib_fit_platt(v.score, v.label, v.n, true, &c, &err), VIGIL_OK);
        vigil_calib_info info;
        vigil_calib_get_info(c, &info);
        double sk_loss = json_number_value(json_object_get(pj, "loss"));
        double loss = platt_loss(&v, info.a, info.b);
        size_t ng = 0;
        double *prob = reals(json_object_get(pj, "prob"), &ng);
        assert_int_equal(ng, v.ng);
        double maxd = 0.0;
        for (size_t i = 0; i < ng; i++) {
            double d = fabs(vigil_calib_apply(c, v.grid[i]) - prob[i]);
            maxd = d > maxd ? d : maxd;
        }
        printf("# %s: a %.9f (sklearn %.9f), b %.9f (%.9f), loss %.12g (%.12g), "
               "max |p - sklearn| %.2g\n",
               json_string_value(json_object_get(cj, "name")), info.a,
               json_number_value(json_object_get(pj, "a")), info.b,
               json_number_value(json_object_get(pj, "b")), loss, sk_loss, maxd);
        assert_true(loss <= sk_loss + 1e-12 * fabs(sk_loss));
        assert_true(maxd <= 1e-5);
        assert_true(info.smooth_targets);
        assert_int_equal(info.n_fit, v.n);
        check_round_trip(c, &v);
        free(prob);
        vigil_calib_free(c);
        vec_free(&v);
    }
    json_decref(root);
}

static void calib_platt_on_raw_labels_matches_logistic_regression(void **state)
{
    (void)state;
    json_t *root = load_vectors();
    json_t *cases = json_object_get(root, "cases");
    for (size_t k = 0; k < json_array_size(cases); k++) {
        json_t *cj = json_array_get(cases, k), *pj = json_object_get(cj, "platt_raw_labels");
        vec v = vec_read(cj);
        vigil_calib *c = NULL;
        assert_int_equal(vigil_calib_fit_platt(v.score, v.label, v.n, false, &c, NULL), VIGIL_OK);
        vigil_calib_info info;
        vigil_calib_get_info(c, &info);
        double a = json_number_value(json_object_get(pj, "a"));
        double b = json_number_value(json_object_get(pj, "b"));
        size_t ng = 0;
        double *prob = reals(json_object_get(pj, "prob"), &ng);
        double maxd = 0.0;
        for (size_t i = 0; i < ng; i++) {
            double d = fabs(vigil_calib_apply(c, v.grid[i]) - prob[i]);
            maxd = d > maxd ? d : maxd;
        }
        printf("# %s raw labels: a %.12f (sklearn %.12f), b %.12f (%.12f), max |p - sklearn| "
               "%.2g\n",
               json_string_value(json_object_get(cj, "name")), info.a, a, info.b, b, maxd);
        assert_true(fabs(info.a - a) <= 1e-9 * (1.0 + fabs(a)));
        assert_true(fabs(info.b - b) <= 1e-9 * (1.0 + fabs(b)));
        assert_true(maxd <= 1e-10);
        assert_false(info.smooth_targets);
        check_round_trip(c, &v);
        free(prob);
        vigil_calib_free(c);
        vec_free(&v);
    }
    json_decref(root);
}

/* REQ MODEL-CALIB-ISOTONIC */
static void calib_isotonic_matches_isotonic_regression(void **state)
{
    (void)state;
    json_t *root = load_vectors();
    json_t *cases = json_object_get(root, "cases");
    for (size_t k = 0; k < json_array_size(cases); k++) {
        json_t *cj = json_array_get(cases, k), *ij = json_object_get(cj, "isotonic");
        vec v = vec_read(cj);
        vigil_calib *c = NULL;
        assert_int_equal(vigil_calib_fit_isotonic(v.score, v.label, v.n, &c, NULL), VIGIL_OK);
        size_t nx = 0, ny = 0, ng = 0;
        double *x = reals(json_object_get(ij, "x"), &nx);
        double *y = reals(json_object_get(ij, "y"), &ny);
        double *prob = reals(json_object_get(ij, "prob"), &ng);
        vigil_calib_info info;
        vigil_calib_get_info(c, &info);
        assert_int_equal(info.n_points, nx);
        /* the fitted points, through the JSON form */
        char *js = NULL;
        assert_int_equal(vigil_calib_to_json(c, &js, NULL), VIGIL_OK);
        json_t *o = json_loads(js, 0, NULL);
        assert_non_null(o);
        for (size_t i = 0; i < nx; i++) {
            assert_true(json_number_value(json_array_get(json_object_get(o, "x"), i)) == x[i]);
            assert_true(fabs(json_number_value(json_array_get(json_object_get(o, "y"), i)) -
                             y[i]) <= 1e-12);
        }
        json_decref(o);
        free(js);
        double maxd = 0.0;
        for (size_t i = 0; i < ng; i++) {
            double d = fabs(vigil_calib_apply(c, v.grid[i]) - prob[i]);
            maxd = d > maxd ? d : maxd;
        }
        printf("# %s isotonic: %zu points, max |p - sklearn| %.2g\n",
               json_string_value(json_object_get(cj, "name")), nx, maxd);
        assert_true(maxd <= 1e-12);
        check_round_trip(c, &v);
        free(x);
        free(y);
        free(prob);
        vigil_calib_free(c);
        vec_free(&v);
    }
    json_decref(root);
}

static void calib_isotonic_is_monotone_and_within_0_1(void **state)
{
    (void)state;
    /* a deterministic pseudo-random set with many ties and inversions */
    enum { N = 997 };
    double s[N];
    int y[N];
    unsigned long long r = 88172645463325252ull;
    for (size_t i = 0; i < N; i++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        s[i] = (double)(r % 200) / 50.0 - 2.0;
        y[i] = (int)((r >> 20) % 100 < (unsigned long long)(50 + 20 * s[i]));
    }
    vigil_calib *c = NULL;
    assert_int_equal(vigil_calib_fit_isotonic(s, y, N, &c, NULL), VIGIL_OK);
    double prev = -1.0;
    for (double x = -3.0; x <= 3.0; x += 0.001) {
        double p = vigil_calib_apply(c, x);
        assert_true(p >= 0.0 && p <= 1.0);
        assert_true(p >= prev);
        prev = p;
    }
    assert_true(isnan(vigil_calib_apply(c, NAN)));
    vigil_calib_free(c);
}

static void calib_isotonic_with_one_class_or_one_score_is_constant(void **state)
{
    (void)state;
    double s[4] = {0.1, 0.5, 0.2, 0.9}, same[3] = {0.4, 0.4, 0.4};
    int ones[4] = {1, 1, 1, 1}, mix[3] = {1, 0, 0};
    vigil_calib *c = NULL;
    assert_int_equal(vigil_calib_fit_isotonic(s, ones, 4, &c, NULL), VIGIL_OK);
    assert_true(vigil_calib_apply(c, -5.0) == 1.0 && vigil_calib_apply(c, 5.0) == 1.0);
    vigil_calib_free(c);
    assert_int_equal(vigil_calib_fit_isotonic(same, mix, 3, &c, NULL), VIGIL_OK);
    vigil_calib_info info;
    vigil_calib_get_info(c, &info);
    assert_int_equal(info.n_points, 1);
    assert_true(fabs(vigil_calib_apply(c, 0.0) - 1.0 / 3.0) < 1e-15);
    assert_true(fabs(vigil_calib_apply(c, 9.0) - 1.0 / 3.0) < 1e-15);
    vigil_calib_free(c);
}

static void calib_fits_refuse_bad_input_naming_it(void **state)
{
    (void)state;
    double s[4] = {0.1, 0.5, 0.2, 0.9}, same[4] = {0.3, 0.3, 0.3, 0.3};
    double bad_s[4] = {0.1, NAN, 0.2, 0.9};
    int y[4] = {0, 1, 0, 1}, ones[4] = {1, 1, 1, 1}, bad_y[4] = {0, 1, 2, 1};
    vigil_calib *c = (vigil_calib *)(uintptr_t)0x5EED;
    vigil_err err = {0};
    assert_int_equal(vigil_calib_fit_platt(s, ones, 4, true, &c, &err), VIGIL_ERR_ARG);
    assert_non_null(strstr(err.msg, "both classes"));
    assert_int_equal(vigil_calib_fit_platt(same, y, 4, true, &c, &err), VIGIL_ERR_ARG);
    assert_non_null(strstr(err.msg, "all 4 scores equal"));
    assert_int_equal(vigil_calib_fit_platt(s, bad_y, 4, true, &c, &err), VIGIL_ERR_ARG);
    assert_non_null(strstr(err.msg, "label[2] = 2"));
    assert_int_equal(vigil_calib_fit_isotonic(bad_s, y, 4, &c, &err), VIGIL_ERR_ARG);
    assert_non_null(strstr(err.msg, "score[1]"));
    assert_int_equal(vigil_calib_fit_platt(s, y, 1, true, &c, &err), VIGIL_ERR_ARG);
    assert_int_equal(vigil_calib_fit_isotonic(s, y, 0, &c, &err), VIGIL_ERR_ARG);
    assert_int_equal(vigil_calib_fit_isotonic(NULL, y, 4, &c, &err), VIGIL_ERR_ARG);
    assert_int_equal(vigil_calib_fit_isotonic(s, y, 4, NULL, &err), VIGIL_ERR_ARG);
    assert_ptr_equal(c, (vigil_calib *)(uintptr_t)0x5EED);
    vigil_calib_free(NULL);
}

static void calib_from_json_refuses_broken_maps(void **state)
{
    (void)state;
    static const struct {
        const char *json, *field;
    } bad[] = {
        {"{\"vigil_calibration\":1,\"method\":\"spline\"}", "method"},
        {"{\"vigil_calibration\":2,\"method\":\"platt\",\"a\":1,\"b\":0}", "vigil_calibration"},
        {"{\"vigil_calibration\":1,\"method\":\"platt\",\"a\":1}", "b"},
        {"{\"vigil_calibration\":1,\"method\":\"platt\",\"a\":\"1\",\"b\":0}", "a"},
        {"{\"vigil_calibration\":1,\"method\":\"isotonic\",\"x\":[0,1],\"y\":[0.5]}", "x"},
        {"{\"vigil_calibration\":1,\"method\":\"isotonic\",\"x\":[],\"y\":[]}", "x"},
        {"{\"vigil_calibration\":1,\"method\":\"isotonic\",\"x\":[0,0],\"y\":[0.1,0.2]}", "x"},
        {"{\"vigil_calibration\":1,\"method\":\"isotonic\",\"x\":[0,1],\"y\":[0.3,0.2]}", "y"},
        {"{\"vigil_calibration\":1,\"method\":\"isotonic\",\"x\":[0,1],\"y\":[0.3,1.5]}", "y"},
        {"{\"vigil_calibration\":1,\"method\":\"platt\",\"a\":1,\"b\":0,\"a\":2}", NULL},
        {"{\"vigil_calibration\":1,\"method\":\"platt\",\"a\":1,", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vigil_calib *c = NULL;
        vigil_err err = {0};
        vigil_status st = vigil_calib_from_json(bad[i].json, strlen(bad[i].json), &c, &err);
        if (st != VIGIL_ERR_PARSE) {
            print_error("accepted: %s\n", bad[i].json);
        }
        assert_int_equal(st, VIGIL_ERR_PARSE);
        assert_null(c);
        if (bad[i].field != NULL) {
            assert_string_equal(err.field, bad[i].field);
        }
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(calib_platt_matches_calibrated_classifier_cv),
    cmocka_unit_test(calib_platt_on_raw_labels_matches_logistic_regression),
    cmocka_unit_test(calib_isotonic_matches_isotonic_regression),
    cmocka_unit_test(calib_isotonic_is_monotone_and_within_0_1),
    cmocka_unit_test(calib_isotonic_with_one_class_or_one_score_is_constant),
    cmocka_unit_test(calib_fits_refuse_bad_input_naming_it),
    cmocka_unit_test(calib_from_json_refuses_broken_maps),
};

VIGIL_TEST_MAIN(tests)
