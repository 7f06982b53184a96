/* test_xgb_train.c: training through XGBoost's C API with early stopping. */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/features.h"
#include "vigil/train.h"
#include "vigil/trees.h"
#include "vigil_test.h"

typedef struct {
    float *x, *y;
    vigil_matrix m;
} synth;

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

static double unif(uint64_t *s)
{
    return (double)lcg(s) / 2147483648.0;
}

/* y depends on x0 and x1; x2 is noise; 10% of x0 missing. */
static void make(synth *d, size_t n, uint64_t seed, bool noise_only)
{
    d->x = malloc(sizeof(float) * n * 3);
    d->y = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) {
        double a = unif(&seed), b = unif(&seed), c = unif(&seed);
        double p = noise_only ? 0.2 : 1.0 / (1.0 + exp(-(6 * a + 3 * b - 6)));
        d->y[i] = unif(&seed) < p ? 1.0f : 0.0f;
        d->x[i * 3 + 0] = (lcg(&seed) % 10 == 0) ? NAN : (float)a;
        d->x[i * 3 + 1] = (float)b;
        d->x[i * 3 + 2] = (float)c;
    }
    d->m = (vigil_matrix){d->x, d->y, NULL, n, 3};
}

static void unmake(synth *d)
{
    free(d->x);
    free(d->y);
}

static void train_learns_signal_and_saves_json_model(void **state)
{
    (void)state;
    synth tr, va;
    make(&tr, 4000, 1, false);
    make(&va, 1000, 2, false);
    vigil_train_params p;
    vigil_train_params_default(&p);
    p.max_rounds = 80;
    p.nthread = 1;
    vigil_train_result r = {0};
    vigil_err e = {0};
    assert_int_equal(vigil_train_xgb(&tr.m, &va.m, &p, NULL, NULL, &r, &e), VIGIL_OK);
    assert_true(r.best_valid_auc > 0.75);
    assert_true(r.best_round >= 0 && r.best_round < 80);
    assert_true(r.scale_pos_weight_used > 1.0);
    json_error_t je;
    json_t *model = json_loads(r.model_json, 0, &je);
    assert_non_null(model);
    json_t *trees = json_object_get(
        json_object_get(json_object_get(json_object_get(model, "learner"), "gradient_booster"),
                        "model"),
        "trees");
    assert_int_equal(json_array_size(trees), (size_t)r.best_round + 1);
    json_decref(model);
    vigil_train_result_fini(&r);
    unmake(&tr);
    unmake(&va);
}

static void train_stops_early_on_noise(void **state)
{
    (void)state;
    synth tr, va;
    make(&tr, 2000, 3, true);
    make(&va, 1000, 4, true);
    vigil_train_params p;
    vigil_train_params_default(&p);
    p.max_rounds = 300;
    p.early_stopping_rounds = 10;
    p.nthread = 1;
    vigil_train_result r = {0};
    assert_int_equal(vigil_train_xgb(&tr.m, &va.m, &p, NULL, NULL, &r, NULL), VIGIL_OK);
    /* nothing to learn: validation AUC peaks early and training stops long before 300 */
    assert_true(r.best_round < 100);
    vigil_train_result_fini(&r);
    unmake(&tr);
    unmake(&va);
}

/* Distinct split thresholds per feature over all trees of a model. */
static size_t distinct_thresholds(const char *model_json, size_t feature)
{
    json_t *model = json_loads(model_json, 0, NULL);
    json_t *trees = json_object_get(
        json_object_get(json_object_get(json_object_get(model, "learner"), "gradient_booster"),
                        "model"),
        "trees");
    double seen[4096];
    size_t n_seen = 0;
    size_t t;
    json_t *tree;
    json_array_foreach(trees, t, tree)
    {
        json_t *left = json_object_get(tree, "left_children");
        json_t *feat = json_object_get(tree, "split_indices");
        json_t *thr = json_object_get(tree, "split_conditions");
        for (size_t i = 0; i < json_array_size(left); i++) {
            if (json_integer_value(json_array_get(left, i)) < 0 ||
                (size_t)json_integer_value(json_array_get(feat, i)) != feature) {
                continue;
            }
            double v = json_number_value(json_array_get(thr, i));
            size_t k = 0;
            while (k < n_seen && seen[k] != v) {
                k++;
            }
            if (k == n_seen && n_seen < sizeof seen / sizeof seen[0]) {
                seen[n_seen++] = v;
            }
        }
    }
    json_decref(model);
    return n_seen;
}

static void max_bin_and_colsample_bynode_reach_xgboost(void **state)
{
    (void)state;
    synth tr, va;
    make(&tr, 4000, 7, false);
    make(&va, 1000, 8, false);
    vigil_train_params p;
    vigil_train_params_default(&p);
    p.max_rounds = 30;
    p.nthread = 1;
    p.colsample_bynode = 0.5;
    vigil_train_result wide = {0}, coarse = {0};
    assert_int_equal(vigil_train_xgb(&tr.m, &va.m, &p, NULL, NULL, &wide, NULL), VIGIL_OK);
    p.max_bin = 2; /* one cut point per feature: every split on x1 uses the same threshold */
    assert_int_equal(vigil_train_xgb(&tr.m, &va.m, &p, NULL, NULL, &coarse, NULL), VIGIL_OK);
    assert_true(distinct_thresholds(wide.model_json, 1) > 2);
    assert_true(distinct_thresholds(coarse.model_json, 1) == 1);
    p.colsample_bynode = 1.5; /* out of (0, 1]: XGBoost refuses it, so it is passed on */
    vigil_train_result bad = {0};
    vigil_err e = {0};
    assert_int_equal(vigil_train_xgb(&tr.m, &va.m, &p, NULL, NULL, &bad, &e), VIGIL_ERR_INTERNAL);
    assert_null(bad.model_json);
    vigil_train_result_fini(&wide);
    vigil_train_result_fini(&coarse);
    unmake(&tr);
    unmake(&va);
}

/* Margin at x0 = a with x1, x2 fixed at 0.5. */
static double margin_at(const vigil_train_result *r, double a)
{
    vigil_trees *t = NULL;
    vigil_err e = {0};
    assert_int_equal(vigil_trees_load_json(r->model_json, r->model_json_len, &t, &e), VIGIL_OK);
    double x[3] = {a, 0.5, 0.5};
    vigil_trees_pred p;
    assert_int_equal(vigil_trees_predict(t, x, 3, &p), VIGIL_OK);
    vigil_trees_free(t);
    return p.margin;
}

/* REQ TRAIN-MONOTONE: a monotone constraint reaches XGBoost: risk rises with
 * x0 in the data, and a decreasing constraint on x0 forbids the model to
 * follow it; without the constraint it does. */
static void monotone_constraint_reaches_xgboost(void **state)
{
    (void)state;
    synth tr, va;
    make(&tr, 4000, 1, false);
    make(&va, 1000, 2, false);
    vigil_train_params p;
    vigil_train_params_default(&p);
    p.max_rounds = 60;
    p.nthread = 1;
    vigil_err e = {0};
    vigil_train_result free_fit = {0}, bound = {0};
    assert_int_equal(vigil_train_xgb(&tr.m, &va.m, &p, NULL, NULL, &free_fit, &e), VIGIL_OK);
    const signed char dir[3] = {-1, 0, 0};
    p.monotone = dir;
    assert_int_equal(vigil_train_xgb(&tr.m, &va.m, &p, NULL, NULL, &bound, &e), VIGIL_OK);
    assert_true(margin_at(&free_fit, 0.9) > margin_at(&free_fit, 0.1) + 1.0);
    for (int i = 0; i < 10; i++) {
        double a = 0.05 + 0.1 * i;
        assert_true(margin_at(&bound, a + 0.1) <= margin_at(&bound, a));
    }
    vigil_train_result_fini(&free_fit);
    vigil_train_result_fini(&bound);
    unmake(&tr);
    unmake(&va);
}

/* REQ TRAIN-MONOTONE: the clinical table: SpO2 lower is worse, NEWS2
 * sub-scores and lactate higher are worse, U-shaped raw vitals are free. */
static void clinical_directions_constrain_only_one_sided_features(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int dir;
    } want[] = {
        {"spo2_last", -1},     {"spo2_min24", -1},  {"spo2_d6", -1},   {"spo2_sd6", +1},
        {"news2_rr", +1},      {"news2_phys", +1},  {"resp_abn6", +1}, {"lactate_last", +1},
        {"creatinine_last", +1}, {"platelets_last", -1}, {"shock_index", +1},
        {"resp_last", 0},      {"hr_last", 0},      {"sbp_min24", 0},  {"temp_last", 0},
        {"lactate_dprev", 0},  {"potassium_last", 0}, {"age", 0},      {"sex", 0},
        {"spo2_hsince", 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        size_t j = 0;
        assert_int_equal(vigil_features_find(want[i].name, &j), VIGIL_OK);
        if (vigil_train_clinical_direction(j) != want[i].dir) {
            print_error("%s: %d, want %d\n", want[i].name, vigil_train_clinical_direction(j),
                        want[i].dir);
        }
        assert_int_equal(vigil_train_clinical_direction(j), want[i].dir);
    }
    assert_int_equal(vigil_train_clinical_direction(VIGIL_FEATURES_COUNT), 0);
}

static void train_refuses_single_class_and_mismatched_widths(void **state)
{
    (void)state;
    synth tr, va;
    make(&tr, 200, 5, false);
    make(&va, 100, 6, false);
    for (size_t i = 0; i < 200; i++) {
        tr.y[i] = 0.0f;
    }
    vigil_train_params p;
    vigil_train_params_default(&p);
    vigil_train_result r = {0};
    vigil_err e = {0};
    assert_int_equal(vigil_train_xgb(&tr.m, &va.m, &p, NULL, NULL, &r, &e), VIGIL_ERR_ARG);
    assert_non_null(strstr(e.msg, "one class"));
    va.m.n_cols = 2;
    assert_int_equal(vigil_train_xgb(&tr.m, &va.m, &p, NULL, NULL, &r, &e), VIGIL_ERR_ARG);
    assert_null(r.model_json);
    unmake(&tr);
    unmake(&va);
}

static void params_load_reads_known_keys_and_refuses_unknown(void **state)
{
    (void)state;
    char dir[512], path[600];
    assert_non_null(vigil_test_mkdtemp(dir, sizeof dir, "vigil-params"));
    snprintf(path, sizeof path, "%s/params.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"_comment\": \"x\", \"max_depth\": 4, \"eta\": 0.1}", f);
    fclose(f);
    vigil_train_params p;
    vigil_train_params_default(&p);
    assert_int_equal(vigil_train_params_load(path, &p, NULL), VIGIL_OK);
    assert_int_equal(p.max_depth, 4);
    assert_true(fabs(p.eta - 0.1) < 1e-12);
    f = fopen(path, "w");
    fputs("{\"max_dept\": 4}", f);
    fclose(f);
    vigil_err e = {0};
    assert_int_equal(vigil_train_params_load(path, &p, &e), VIGIL_ERR_PARSE);
    assert_non_null(strstr(e.msg, "unknown parameter 'max_dept'"));
    assert_int_equal(p.max_depth, 4);
    remove(path);
    remove(dir);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(train_learns_signal_and_saves_json_model),
    cmocka_unit_test(train_stops_early_on_noise),
    cmocka_unit_test(max_bin_and_colsample_bynode_reach_xgboost),
    cmocka_unit_test(monotone_constraint_reaches_xgboost),
    cmocka_unit_test(clinical_directions_constrain_only_one_sided_features),
    cmocka_unit_test(train_refuses_single_class_and_mismatched_widths),
    cmocka_unit_test(params_load_reads_known_keys_and_refuses_unknown),
};

VIGIL_TEST_MAIN(tests)
