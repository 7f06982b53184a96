/*
 * test_trees_load.c: what vigil_trees_load_* refuses, and how. Malformed
 * JSON, truncated files and arrays, broken tree structure, models vigil does
 * not serve (other objectives, boosters, versions, categorical splits,
 * several outputs) each give a specific status and name the JSON field;
 * nothing leaks (ASan) and *out is untouched on error.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/trees.h"
#include "vigil_test.h"
#include "xgb_oracle.h"

/* One stump on 2 features (the same model test_trees.c checks by hand). */
static const char stump_json[] =
    "{\"learner\":{\"attributes\":{},\"feature_names\":[],\"feature_types\":[],"
    "\"gradient_booster\":{\"model\":{\"gbtree_model_param\":{\"num_parallel_tree\":\"1\","
    "\"num_trees\":\"1\",\"size_leaf_vector\":\"0\"},\"tree_info\":[0],\"trees\":[{"
    "\"base_weights\":[0,-1,2],\"categories\":[],\"categories_nodes\":[],"
    "\"categories_segments\":[],\"categories_sizes\":[],\"default_left\":[0,0,0],\"id\":0,"
    "\"left_children\":[1,-1,-1],\"loss_changes\":[1,0,0],\"parents\":[2147483647,0,0],"
    "\"right_children\":[2,-1,-1],\"split_conditions\":[0.5,-1.0,2.0],"
    "\"split_indices\":[0,0,0],\"split_type\":[0,0,0],\"sum_hessian\":[10,4,6],"
    "\"tree_param\":{\"num_deleted\":\"0\",\"num_feature\":\"2\",\"num_nodes\":\"3\","
    "\"size_leaf_vector\":\"0\"}}]},\"name\":\"gbtree\"},"
    "\"learner_model_param\":{\"base_score\":\"2.5E-1\",\"boost_from_average\":\"1\","
    "\"num_class\":\"0\",\"num_feature\":\"2\",\"num_target\":\"1\"},"
    "\"objective\":{\"name\":\"binary:logistic\",\"reg_loss_param\":{\"scale_pos_weight\":\"1\"}}},"
    "\"version\":[1,7,4]}";

#define SENTINEL ((vigil_trees *)(uintptr_t)0x5EED)

/* Load text and expect status st with err.field containing field_part and
 * err.msg containing msg_part (either may be NULL). */
static void expect_refused(const char *text, size_t len, vigil_status st, const char *field_part,
                           const char *msg_part)
{
    vigil_trees *m = SENTINEL;
    vigil_err err = {0};
    vigil_status got = vigil_trees_load_json(text, len, &m, &err);
    if (got != st || (field_part && !strstr(err.field, field_part)) ||
        (msg_part && !strstr(err.msg, msg_part))) {
        print_error("got %s, field '%s', msg '%s'\n", vigil_status_str(got), err.field, err.msg);
    }
    assert_int_equal(got, st);
    assert_int_equal(err.status, st);
    assert_ptr_equal(m, SENTINEL); /* untouched on error */
    assert_true(err.msg[0] != '\0');
    if (field_part != NULL) {
        assert_non_null(strstr(err.field, field_part));
    }
    if (msg_part != NULL) {
        assert_non_null(strstr(err.msg, msg_part));
    }
}

static json_t *stump(void)
{
    json_error_t je;
    json_t *root = json_loads(stump_json, 0, &je);
    assert_non_null(root);
    return root;
}

static json_t *tree0(json_t *root)
{
    return json_array_get(
        json_object_get(json_object_get(json_object_get(json_object_get(root, "learner"),
                                                        "gradient_booster"),
                                        "model"),
                        "trees"),
        0);
}

static json_t *lmp(json_t *root)
{
    return json_object_get(json_object_get(root, "learner"), "learner_model_param");
}

static void expect_refused_json(json_t *root, vigil_status st, const char *field_part,
                                const char *msg_part)
{
    char *text = json_dumps(root, JSON_COMPACT);
    assert_non_null(text);
    expect_refused(text, strlen(text), st, field_part, msg_part);
    free(text);
    json_decref(root);
}

static void trees_load_accepts_the_reference_stump(void **state)
{
    (void)state;
    vigil_trees *m = NULL;
    vigil_err err = {0};
    assert_int_equal(vigil_trees_load_json(stump_json, strlen(stump_json), &m, &err), VIGIL_OK);
    vigil_trees_free(m);
}

static void trees_load_refuses_malformed_json_naming_the_line(void **state)
{
    (void)state;
    const char *text = "{\n  \"learner\": {\n    \"objective\": ]\n";
    vigil_trees *m = SENTINEL;
    vigil_err err = {0};
    assert_int_equal(vigil_trees_load_json(text, strlen(text), &m, &err), VIGIL_ERR_PARSE);
    assert_int_equal(err.line, 3);
    assert_ptr_equal(m, SENTINEL);
    expect_refused("", 0, VIGIL_ERR_PARSE, NULL, "model JSON");
    expect_refused("[1, 2]", 6, VIGIL_ERR_PARSE, NULL, "not an object");
    expect_refused("{}", 2, VIGIL_ERR_PARSE, "/version", NULL);
}

static void trees_load_refuses_a_truncated_file(void **state)
{
    (void)state;
    size_t n = strlen(stump_json);
    for (size_t cut = 1; cut < n; cut += 37) {
        expect_refused(stump_json, cut, VIGIL_ERR_PARSE, NULL, NULL);
    }
}

static void trees_load_refuses_truncated_arrays(void **state)
{
    (void)state;
    static const char *const keys[] = {"left_children", "right_children", "split_indices",
                                       "split_conditions", "default_left", "sum_hessian",
                                       "base_weights"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        json_t *root = stump();
        json_t *arr = json_object_get(tree0(root), keys[k]);
        assert_int_equal(json_array_remove(arr, 2), 0);
        expect_refused_json(root, VIGIL_ERR_PARSE, keys[k], "tree_param.num_nodes");
    }
    json_t *root = stump();
    json_object_del(tree0(root), "sum_hessian");
    expect_refused_json(root, VIGIL_ERR_PARSE, "/trees/0/sum_hessian", "lacks");
}

static void set_int_at(json_t *root, const char *key, size_t i, json_int_t v)
{
    json_array_set_new(json_object_get(tree0(root), key), i, json_integer(v));
}

static void trees_load_refuses_broken_tree_structure(void **state)
{
    (void)state;
    json_t *root = stump();
    set_int_at(root, "left_children", 0, 3); /* out of range */
    expect_refused_json(root, VIGIL_ERR_PARSE, "left_children", "outside");
    root = stump();
    set_int_at(root, "left_children", 0, 0); /* the root is its own child */
    expect_refused_json(root, VIGIL_ERR_PARSE, "/trees/0", "reached twice");
    root = stump();
    set_int_at(root, "right_children", 0, 1); /* both children the same node */
    expect_refused_json(root, VIGIL_ERR_PARSE, "/trees/0", "reached twice");
    root = stump();
    set_int_at(root, "right_children", 0, -1); /* one child only */
    expect_refused_json(root, VIGIL_ERR_PARSE, "/trees/0", "one child");
    root = stump();
    set_int_at(root, "split_indices", 0, 2); /* num_feature is 2 */
    expect_refused_json(root, VIGIL_ERR_PARSE, "split_indices", "num_feature");
    root = stump();
    json_array_set_new(json_object_get(tree0(root), "left_children"), 0, json_real(1.5));
    expect_refused_json(root, VIGIL_ERR_PARSE, "left_children", "not an integer");
}

static void trees_load_refuses_non_finite_or_mistyped_values(void **state)
{
    (void)state;
    json_t *root = stump();
    json_array_set_new(json_object_get(tree0(root), "split_conditions"), 1, json_string("x"));
    expect_refused_json(root, VIGIL_ERR_PARSE, "split_conditions", "not a number");
    root = stump();
    json_array_set_new(json_object_get(tree0(root), "split_conditions"), 0, json_real(1e39));
    expect_refused_json(root, VIGIL_ERR_PARSE, "split_conditions", "finite float");
    root = stump();
    json_array_set_new(json_object_get(tree0(root), "sum_hessian"), 1, json_real(-1.0));
    expect_refused_json(root, VIGIL_ERR_PARSE, "sum_hessian", "negative");
    root = stump();
    json_array_set_new(json_object_get(tree0(root), "sum_hessian"), 0, json_real(0.0));
    expect_refused_json(root, VIGIL_ERR_PARSE, "sum_hessian", "positive cover");
    root = stump();
    json_object_set_new(lmp(root), "num_feature", json_integer(2));
    expect_refused_json(root, VIGIL_ERR_PARSE, "num_feature", "not a string");
    root = stump();
    json_object_set_new(json_object_get(tree0(root), "tree_param"), "num_nodes",
                        json_string("three"));
    expect_refused_json(root, VIGIL_ERR_PARSE, "num_nodes", "not an integer");
}

/* num_nodes is a claim checked against the arrays before anything is allocated: a
   bundle of 2.6 KB claiming 2^31-1 nodes asked for 17 GB (fuzz_model_bundle's
   out-of-memory; its input is fuzz/corpus/model_bundle/regress-num-nodes-2e9.json). */
static void trees_load_checks_num_nodes_against_the_arrays_before_allocating(void **state)
{
    (void)state;
    static const char *const claims[] = {"2147483647", "1000000", "4"};
    for (size_t k = 0; k < sizeof claims / sizeof claims[0]; k++) {
        json_t *root = stump();
        json_object_set_new(json_object_get(tree0(root), "tree_param"), "num_nodes",
                            json_string(claims[k]));
        expect_refused_json(root, VIGIL_ERR_PARSE, "/trees/0/left_children",
                            "tree_param.num_nodes says");
    }
}

static void trees_load_refuses_bad_base_scores(void **state)
{
    (void)state;
    static const char *const bad[] = {"1.5", "0", "1", "abc", "", "0.5x", "-0.2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *root = stump();
        json_object_set_new(lmp(root), "base_score", json_string(bad[i]));
        expect_refused_json(root, VIGIL_ERR_PARSE, "base_score", "probability");
    }
}

static void trees_load_refuses_models_vigil_does_not_serve(void **state)
{
    (void)state;
    json_t *root = stump();
    json_object_set_new(json_object_get(json_object_get(root, "learner"), "objective"), "name",
                        json_string("reg:squarederror"));
    expect_refused_json(root, VIGIL_ERR_MISMATCH, "/learner/objective/name", "binary:logistic");
    root = stump();
    json_array_set_new(json_object_get(root, "version"), 0, json_integer(2));
    expect_refused_json(root, VIGIL_ERR_MISMATCH, "/version", "1.x");
    root = stump();
    json_array_set_new(json_object_get(tree0(root), "split_type"), 0, json_integer(1));
    expect_refused_json(root, VIGIL_ERR_MISMATCH, "split_type", "categorical");
    root = stump();
    json_object_set_new(lmp(root), "num_class", json_string("3"));
    expect_refused_json(root, VIGIL_ERR_MISMATCH, "learner_model_param", "one output");
    root = stump();
    json_array_set_new(json_object_get(json_object_get(json_object_get(json_object_get(
                                                           root, "learner"),
                                                       "gradient_booster"),
                                       "model"),
                                       "tree_info"),
                       0, json_integer(1));
    expect_refused_json(root, VIGIL_ERR_MISMATCH, "tree_info", "output 0");
    root = stump();
    json_object_set_new(json_object_get(json_object_get(json_object_get(json_object_get(
                                                            root, "learner"),
                                                        "gradient_booster"),
                                        "model"),
                                        "gbtree_model_param"),
                        "num_trees", json_string("2"));
    expect_refused_json(root, VIGIL_ERR_PARSE, "/trees", "num_trees");
}

/* The real thing: what XGBoost writes for other objectives and boosters. */
static void refuse_trained(const char *const *params, vigil_status st, const char *field,
                           const char *msg)
{
    float X[400 * 3], y[400];
    xgbo_make_data(400, 3, 0.1, 4.0, 3, X, y);
    for (size_t i = 0; i < 400; i++) {
        y[i] = (float)(i % 3) * (strstr(params[1], "multi") ? 1.0f : 0.5f);
    }
    DMatrixHandle d = NULL;
    BoosterHandle b = NULL;
    assert_int_equal(xgbo_dmatrix(X, y, 400, 3, &d), 0);
    assert_int_equal(xgbo_train(d, params, 2, &b), 0);
    char *json = NULL;
    size_t len = 0;
    assert_int_equal(xgbo_model_json(b, &json, &len), 0);
    expect_refused(json, len, st, field, msg);
    free(json);
    XGBoosterFree(b);
    XGDMatrixFree(d);
}

static void trees_load_refuses_xgboost_models_of_other_kinds(void **state)
{
    (void)state;
    const char *reg[] = {"objective", "reg:squarederror", "nthread", "1", NULL};
    refuse_trained(reg, VIGIL_ERR_MISMATCH, "/learner/objective/name", "reg:squarederror");
    const char *multi[] = {"objective", "multi:softprob", "num_class", "3", "nthread", "1", NULL};
    refuse_trained(multi, VIGIL_ERR_MISMATCH, "/learner/objective/name", "multi:softprob");
    const char *linear[] = {"objective", "binary:logistic", "booster", "gblinear",
                            "nthread",   "1",               NULL};
    refuse_trained(linear, VIGIL_ERR_MISMATCH, "/learner/gradient_booster/name", "gblinear");
    const char *dart[] = {"objective", "binary:logistic", "booster", "dart", "nthread", "1", NULL};
    refuse_trained(dart, VIGIL_ERR_MISMATCH, "/learner/gradient_booster/name", "dart");
}

static void trees_load_ignores_unreachable_deleted_nodes(void **state)
{
    (void)state;
    json_t *root = stump();
    json_t *t = tree0(root);
    static const char *const keys[] = {"left_children", "right_children", "split_indices",
                                       "default_left",  "split_type",     "base_weights"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        json_array_append_new(json_object_get(t, keys[k]), json_integer(k < 2 ? -1 : 0));
    }
    json_array_append_new(json_object_get(t, "split_conditions"), json_real(9.0));
    json_array_append_new(json_object_get(t, "sum_hessian"), json_real(1.0));
    json_object_set_new(json_object_get(t, "tree_param"), "num_nodes", json_string("4"));
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    vigil_trees *m = NULL;
    vigil_err err = {0};
    assert_int_equal(vigil_trees_load_json(text, strlen(text), &m, &err), VIGIL_OK);
    vigil_trees_info info;
    vigil_trees_get_info(m, &info);
    assert_int_equal(info.n_nodes, 3);
    vigil_trees_free(m);
    free(text);
}

static void trees_load_file_reports_a_missing_file(void **state)
{
    (void)state;
    vigil_trees *m = SENTINEL;
    vigil_err err = {0};
    assert_int_equal(vigil_trees_load_file("/nonexistent/vigil/model.json", &m, &err),
                     VIGIL_ERR_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/vigil/model.json"));
    assert_ptr_equal(m, SENTINEL);
}

static void trees_calls_check_their_arguments(void **state)
{
    (void)state;
    vigil_trees *m = NULL;
    assert_int_equal(vigil_trees_load_json(NULL, 0, &m, NULL), VIGIL_ERR_ARG);
    assert_int_equal(vigil_trees_load_json(stump_json, strlen(stump_json), NULL, NULL),
                     VIGIL_ERR_ARG);
    assert_int_equal(vigil_trees_load_file(NULL, &m, NULL), VIGIL_ERR_ARG);
    assert_int_equal(vigil_trees_load_json(stump_json, strlen(stump_json), &m, NULL), VIGIL_OK);
    double x[3] = {0.1, 0.2, 0.3}, phi[4];
    vigil_trees_pred p;
    assert_int_equal(vigil_trees_predict(m, x, 3, &p), VIGIL_ERR_MISMATCH);
    assert_int_equal(vigil_trees_predict(m, NULL, 2, &p), VIGIL_ERR_ARG);
    assert_int_equal(vigil_trees_predict(m, x, 2, NULL), VIGIL_ERR_ARG);
    assert_int_equal(vigil_trees_predict_batch(m, x, 1, 3, &p), VIGIL_ERR_MISMATCH);
    assert_int_equal(vigil_trees_predict_batch(m, NULL, 0, 2, NULL), VIGIL_OK);
    size_t wsz = vigil_trees_shap_work_size(m);
    assert_true(wsz > 0);
    assert_int_equal(vigil_trees_shap_work_size(NULL), 0);
    unsigned char *work = malloc(wsz);
    assert_non_null(work);
    assert_int_equal(vigil_trees_shap(m, x, 2, work, wsz - 1, phi, &p), VIGIL_ERR_ARG);
    assert_int_equal(vigil_trees_shap(m, x, 2, NULL, wsz, phi, &p), VIGIL_ERR_ARG);
    assert_int_equal(vigil_trees_shap(m, x, 3, work, wsz, phi, &p), VIGIL_ERR_MISMATCH);
    assert_int_equal(vigil_trees_shap(m, x, 2, work, wsz, NULL, &p), VIGIL_ERR_ARG);
    /* any alignment of the workspace works */
    unsigned char *odd = malloc(wsz + 1);
    assert_non_null(odd);
    assert_int_equal(vigil_trees_shap(m, x, 2, odd + 1, wsz, phi, NULL), VIGIL_OK);
    assert_true(fabs(phi[0] + phi[1] + phi[2] - (-log(3.0) - 1.0)) < 1e-6);
    free(odd);
    free(work);
    vigil_trees_free(m);
    vigil_trees_free(NULL);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(trees_load_accepts_the_reference_stump),
    cmocka_unit_test(trees_load_refuses_malformed_json_naming_the_line),
    cmocka_unit_test(trees_load_refuses_a_truncated_file),
    cmocka_unit_test(trees_load_refuses_truncated_arrays),
    cmocka_unit_test(trees_load_refuses_broken_tree_structure),
    cmocka_unit_test(trees_load_refuses_non_finite_or_mistyped_values),
    cmocka_unit_test(trees_load_checks_num_nodes_against_the_arrays_before_allocating),
    cmocka_unit_test(trees_load_refuses_bad_base_scores),
    cmocka_unit_test(trees_load_refuses_models_vigil_does_not_serve),
    cmocka_unit_test(trees_load_refuses_xgboost_models_of_other_kinds),
    cmocka_unit_test(trees_load_ignores_unreachable_deleted_nodes),
    cmocka_unit_test(trees_load_file_reports_a_missing_file),
    cmocka_unit_test(trees_calls_check_their_arguments),
};

VIGIL_TEST_MAIN(tests)
