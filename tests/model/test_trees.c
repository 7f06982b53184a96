/*
 * test_trees.c: vigil's tree inference and TreeSHAP against XGBoost 1.7's
 * C API on the same models and rows, and against a brute-force Shapley
 * enumeration that shares no code with either.
 *
 * Each case trains a model through XGBoost on synthetic data with NaNs (so
 * default directions matter), saves it as JSON, loads it with vigil, and
 * compares on >= 10,000 rows that include every split threshold exactly
 * (and the floats either side of it), NaN in every feature, and an all-NaN
 * row: margins and probabilities must be bit-identical (REQ MODEL-XGB-EXACT),
 * SHAP contributions within 1e-5 of XGBoost's pred_contribs, and the
 * contributions must sum to the margin (REQ MODEL-SHAP-SUM).
 */
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/trees.h"
#include "vigil_test.h"
#include "xgb_oracle.h"

#define N_EVAL 10000
#define SHAP_TOL 1e-5

/* ---- the model's trees as the JSON states them (test-side reader) ------ */

typedef struct ttree {
    size_t n;
    long *left, *right, *feat;
    int *dl;
    double *cond, *cover;
} ttree;

typedef struct tmodel {
    size_t n_trees, nf;
    double base_margin;
    ttree *t;
} tmodel;

static long *json_longs(const json_t *a)
{
    long *v = calloc(json_array_size(a) + 1, sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < json_array_size(a); i++) {
        v[i] = (long)json_integer_value(json_array_get(a, i));
    }
    return v;
}

static double *json_reals(const json_t *a)
{
    double *v = calloc(json_array_size(a) + 1, sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < json_array_size(a); i++) {
        v[i] = (double)(float)json_number_value(json_array_get(a, i));
    }
    return v;
}

static void tmodel_read(const char *json, tmodel *tm)
{
    json_error_t je;
    json_t *root = json_loads(json, 0, &je);
    assert_non_null(root);
    json_t *learner = json_object_get(root, "learner");
    json_t *mp = json_object_get(learner, "learner_model_param");
    tm->nf = (size_t)strtol(json_string_value(json_object_get(mp, "num_feature")), NULL, 10);
    float bs = strtof(json_string_value(json_object_get(mp, "base_score")), NULL);
    tm->base_margin = -logf(1.0f / bs - 1.0f);
    json_t *trees = json_object_get(
        json_object_get(json_object_get(learner, "gradient_booster"), "model"), "trees");
    tm->n_trees = json_array_size(trees);
    tm->t = calloc(tm->n_trees, sizeof *tm->t);
    assert_non_null(tm->t);
    for (size_t k = 0; k < tm->n_trees; k++) {
        json_t *tj = json_array_get(trees, k);
        ttree *t = &tm->t[k];
        t->n = json_array_size(json_object_get(tj, "left_children"));
        t->left = json_longs(json_object_get(tj, "left_children"));
        t->right = json_longs(json_object_get(tj, "right_children"));
        t->feat = json_longs(json_object_get(tj, "split_indices"));
        long *dl = json_longs(json_object_get(tj, "default_left"));
        t->dl = calloc(t->n + 1, sizeof *t->dl);
        assert_non_null(t->dl);
        for (size_t i = 0; i < t->n; i++) {
            t->dl[i] = (int)dl[i];
        }
        free(dl);
        t->cond = json_reals(json_object_get(tj, "split_conditions"));
        t->cover = json_reals(json_object_get(tj, "sum_hessian"));
    }
    json_decref(root);
}

static void tmodel_free(tmodel *tm)
{
    for (size_t k = 0; k < tm->n_trees; k++) {
        ttree *t = &tm->t[k];
        free(t->left);
        free(t->right);
        free(t->feat);
        free(t->dl);
        free(t->cond);
        free(t->cover);
    }
    free(tm->t);
}

/* The margin in double, and sum |base| + |leaf| for the float error bound. */
static double exact_margin(const tmodel *tm, const double *x, double *abs_sum)
{
    double m = tm->base_margin, a = fabs(tm->base_margin);
    for (size_t k = 0; k < tm->n_trees; k++) {
        const ttree *t = &tm->t[k];
        long i = 0;
        while (t->left[i] >= 0) {
            double v = x[t->feat[i]];
            bool left = isnan(v) ? t->dl[i] != 0 : (float)v < (float)t->cond[i];
            i = left ? t->left[i] : t->right[i];
        }
        m += t->cond[i];
        a += fabs(t->cond[i]);
    }
    *abs_sum = a;
    return m;
}

/* ---- evaluation rows --------------------------------------------------- */

/*
 * N_EVAL rows: for each split (feature, threshold), rows holding the
 * threshold exactly and the floats just below and above it (up to 6,000
 * rows); an all-NaN row; each feature NaN alone; the rest random with 10%
 * NaN. Returns float rows (XGBoost's input) and the same values as doubles.
 */
static void make_eval_rows(const tmodel *tm, uint64_t seed, float **out_f, double **out_d)
{
    size_t nf = tm->nf, n = N_EVAL;
    float *X = malloc(n * nf * sizeof *X);
    double *Xd = malloc(n * nf * sizeof *Xd);
    assert_non_null(X);
    assert_non_null(Xd);
    xgbo_make_data(n, nf, 0.1, 8.0, seed, X, NULL);
    size_t r = 0;
    for (size_t j = 0; j < nf; j++) {
        X[r * nf + j] = NAN; /* all-NaN row */
    }
    r++;
    for (size_t j = 0; j < nf && r < n; j++, r++) {
        X[r * nf + j] = NAN; /* NaN in feature j only */
        for (size_t k = 0; k < nf; k++) {
            if (k != j && isnan(X[r * nf + k])) {
                X[r * nf + k] = 0.25f;
            }
        }
    }
    for (size_t k = 0; k < tm->n_trees && r + 3 <= 6000; k++) {
        const ttree *t = &tm->t[k];
        for (size_t i = 0; i < t->n && r + 3 <= 6000; i++) {
            if (t->left[i] < 0) {
                continue;
            }
            float thr = (float)t->cond[i];
            X[r++ * nf + t->feat[i]] = thr;
            X[r++ * nf + t->feat[i]] = nextafterf(thr, -INFINITY);
            X[r++ * nf + t->feat[i]] = nextafterf(thr, INFINITY);
        }
    }
    for (size_t i = 0; i < n * nf; i++) {
        Xd[i] = (double)X[i];
    }
    *out_f = X;
    *out_d = Xd;
}

/* ---- the comparison ---------------------------------------------------- */

typedef struct model_case {
    size_t nf;
    size_t n_train;
    int rounds;
    const char *depth;
    const char *base_score;
    const char *method;
    const char *min_child_weight;
    double quant;
    uint64_t seed;
} model_case;

static BoosterHandle train_case(const model_case *mc, char **json, size_t *json_len)
{
    float *X = malloc(mc->n_train * mc->nf * sizeof *X);
    float *y = malloc(mc->n_train * sizeof *y);
    assert_non_null(X);
    assert_non_null(y);
    xgbo_make_data(mc->n_train, mc->nf, 0.15, mc->quant, mc->seed, X, y);
    DMatrixHandle d = NULL;
    assert_int_equal(xgbo_dmatrix(X, y, mc->n_train, mc->nf, &d), 0);
    const char *params[] = {"objective",        "binary:logistic",
                            "max_depth",        mc->depth,
                            "base_score",       mc->base_score,
                            "tree_method",      mc->method,
                            "min_child_weight", mc->min_child_weight,
                            "eta",              "0.3",
                            "nthread",          "1",
                            "seed",             "7",
                            NULL};
    BoosterHandle b = NULL;
    assert_int_equal(xgbo_train(d, params, mc->rounds, &b), 0);
    assert_int_equal(xgbo_model_json(b, json, json_len), 0);
    XGDMatrixFree(d);
    free(X);
    free(y);
    return b;
}

static void compare_with_xgboost(const model_case *mc)
{
    char *json = NULL;
    size_t json_len = 0;
    BoosterHandle b = train_case(mc, &json, &json_len);
    vigil_trees *m = NULL;
    vigil_err err = {0};
    vigil_status st = vigil_trees_load_json(json, json_len, &m, &err);
    if (st != VIGIL_OK) {
        print_error("load: %s (%s)\n", err.msg, err.field);
    }
    assert_int_equal(st, VIGIL_OK);
    tmodel tm;
    tmodel_read(json, &tm);
    vigil_trees_info info;
    vigil_trees_get_info(m, &info);
    assert_int_equal(info.n_trees, (size_t)mc->rounds);
    assert_int_equal(info.n_features, mc->nf);

    size_t n = N_EVAL, nf = mc->nf;
    float *X = NULL;
    double *Xd = NULL;
    make_eval_rows(&tm, mc->seed + 1, &X, &Xd);
    DMatrixHandle d = NULL;
    assert_int_equal(xgbo_dmatrix(X, NULL, n, nf, &d), 0);
    float *xp = malloc(n * sizeof *xp), *xm = malloc(n * sizeof *xm);
    float *xc = malloc(n * (nf + 1) * sizeof *xc);
    assert_true(xp && xm && xc);
    assert_int_equal(xgbo_predict(b, d, 0, xp, n), 0);
    assert_int_equal(xgbo_predict(b, d, 1, xm, n), 0);
    assert_int_equal(xgbo_predict(b, d, 2, xc, n * (nf + 1)), 0);

    vigil_trees_pred *pred = malloc(n * sizeof *pred);
    double *phi = malloc(n * (nf + 1) * sizeof *phi);
    size_t wsz = vigil_trees_shap_work_size(m);
    void *work = malloc(wsz);
    assert_true(pred && phi && work);
    assert_int_equal(vigil_trees_shap_batch(m, Xd, n, nf, work, wsz, phi, pred), VIGIL_OK);

    size_t bad_margin = 0, bad_prob = 0, bad_phi = 0, bad_sum = 0;
    double max_phi = 0.0, max_sum = 0.0, max_float = 0.0;
    for (size_t i = 0; i < n; i++) {
        /* REQ MODEL-XGB-EXACT: bit-identical */
        if ((float)pred[i].margin != xm[i] || (double)(float)pred[i].margin != pred[i].margin) {
            if (bad_margin++ < 5) {
                print_error("row %zu margin %.9g, xgboost %.9g\n", i, pred[i].margin, xm[i]);
            }
        }
        if ((float)pred[i].prob != xp[i]) {
            if (bad_prob++ < 5) {
                print_error("row %zu prob %.9g, xgboost %.9g\n", i, pred[i].prob, xp[i]);
            }
        }
        double sum = 0.0;
        for (size_t j = 0; j <= nf; j++) {
            double a = phi[i * (nf + 1) + j], e = xc[i * (nf + 1) + j];
            double dlt = fabs(a - e);
            sum += a;
            if (dlt > max_phi) {
                max_phi = dlt;
            }
            if (!(dlt <= SHAP_TOL)) {
                if (bad_phi++ < 5) {
                    print_error("row %zu phi[%zu] %.9g, xgboost %.9g\n", i, j, a, e);
                }
            }
        }
        /* REQ MODEL-SHAP-SUM: the contributions sum to the margin computed
         * in double; XGBoost's float margin differs from that by float
         * rounding only, within the float summation bound. */
        double abs_sum = 0.0;
        double exact = exact_margin(&tm, Xd + i * nf, &abs_sum);
        double ds = fabs(sum - exact);
        double df = fabs(pred[i].margin - exact);
        if (ds > max_sum) {
            max_sum = ds;
        }
        if (df > max_float) {
            max_float = df;
        }
        if (!(ds <= 1e-9 * (1.0 + fabs(exact))) ||
            !(df <= (double)(tm.n_trees + 1) * FLT_EPSILON * abs_sum)) {
            if (bad_sum++ < 5) {
                print_error("row %zu sum phi %.17g, margin %.17g, exact %.17g\n", i, sum,
                            pred[i].margin, exact);
            }
        }
    }
    printf("# %d trees max_depth %s (deepest %u), %zu features, %zu rows: "
           "max |phi - xgboost| %.3g, |sum phi - exact margin| %.3g, "
           "|float margin - exact| %.3g\n",
           mc->rounds, mc->depth, info.max_depth, nf, n,
           max_phi, max_sum, max_float);
    assert_int_equal(bad_margin, 0);
    assert_int_equal(bad_prob, 0);
    assert_int_equal(bad_phi, 0);
    assert_int_equal(bad_sum, 0);

    /* the one-row entry points agree with the batch ones bit for bit */
    double *phi1 = malloc((nf + 1) * sizeof *phi1);
    assert_non_null(phi1);
    for (size_t i = 0; i < n; i += 97) {
        vigil_trees_pred p1, p2;
        assert_int_equal(vigil_trees_predict(m, Xd + i * nf, nf, &p1), VIGIL_OK);
        assert_int_equal(vigil_trees_shap(m, Xd + i * nf, nf, work, wsz, phi1, &p2), VIGIL_OK);
        assert_true(p1.margin == pred[i].margin && p1.prob == pred[i].prob);
        assert_true(p2.margin == pred[i].margin && p2.prob == pred[i].prob);
        assert_memory_equal(phi1, phi + i * (nf + 1), (nf + 1) * sizeof *phi1);
    }
    vigil_trees_pred *pb = malloc(n * sizeof *pb);
    assert_non_null(pb);
    assert_int_equal(vigil_trees_predict_batch(m, Xd, n, nf, pb), VIGIL_OK);
    for (size_t i = 0; i < n; i++) {
        assert_true(pb[i].margin == pred[i].margin && pb[i].prob == pred[i].prob);
    }

    free(pb);
    free(phi1);
    free(work);
    free(phi);
    free(pred);
    free(xc);
    free(xm);
    free(xp);
    XGDMatrixFree(d);
    free(X);
    free(Xd);
    tmodel_free(&tm);
    vigil_trees_free(m);
    XGBoosterFree(b);
    free(json);
}

/* REQ MODEL-XGB-EXACT REQ MODEL-SHAP-SUM */
static void trees_one_stump_matches_xgboost(void **state)
{
    (void)state;
    model_case mc = {4, 2000, 1, "1", "0.3", "hist", "1", 8.0, 11};
    compare_with_xgboost(&mc);
}

static void trees_20_depth3_exact_method_match_xgboost(void **state)
{
    (void)state;
    model_case mc = {8, 3000, 20, "3", "0.7", "exact", "1", 16.0, 12};
    compare_with_xgboost(&mc);
}

static void trees_300_depth2_match_xgboost(void **state)
{
    (void)state;
    model_case mc = {10, 3000, 300, "2", "0.12", "hist", "1", 0.0, 13};
    compare_with_xgboost(&mc);
}

static void trees_12_depth6_match_xgboost(void **state)
{
    (void)state;
    model_case mc = {12, 5000, 12, "6", "0.3", "approx", "1", 8.0, 14};
    compare_with_xgboost(&mc);
}

/* depth 10 over 3 features: features repeat along every path, and the
 * quadrature needs more than one block of 4 points */
static void trees_depth10_repeated_features_match_xgboost(void **state)
{
    (void)state;
    model_case mc = {3, 6000, 3, "10", "0.55", "exact", "0.01", 0.0, 15};
    compare_with_xgboost(&mc);
}

/* ---- brute force: Shapley values of the path-dependent game ------------ */

/* E[f(x) | x_S] as Lundberg et al. 2020 Algorithm 1 defines it: follow x on
 * features in S, otherwise average the children by cover. */
static double expvalue(const ttree *t, long i, const double *x, unsigned S)
{
    if (t->left[i] < 0) {
        return t->cond[i];
    }
    long f = t->feat[i];
    if (S & (1u << f)) {
        double v = x[f];
        bool left = isnan(v) ? t->dl[i] != 0 : (float)v < (float)t->cond[i];
        return expvalue(t, left ? t->left[i] : t->right[i], x, S);
    }
    long l = t->left[i], r = t->right[i];
    return (t->cover[l] * expvalue(t, l, x, S) + t->cover[r] * expvalue(t, r, x, S)) /
           t->cover[i];
}

static double factorial(unsigned k)
{
    double f = 1.0;
    for (unsigned i = 2; i <= k; i++) {
        f *= i;
    }
    return f;
}

static void trees_shap_equals_brute_force_shapley_values(void **state)
{
    (void)state;
    /* deep trees on 4 features: long paths with every feature repeated */
    model_case mc = {4, 4000, 5, "12", "0.4", "exact", "0.01", 0.0, 21};
    char *json = NULL;
    size_t json_len = 0;
    BoosterHandle b = train_case(&mc, &json, &json_len);
    vigil_trees *m = NULL;
    assert_int_equal(vigil_trees_load_json(json, json_len, &m, NULL), VIGIL_OK);
    tmodel tm;
    tmodel_read(json, &tm);
    vigil_trees_info info;
    vigil_trees_get_info(m, &info);
    assert_true(info.max_depth > 8);

    const unsigned M = 4;
    size_t wsz = vigil_trees_shap_work_size(m);
    void *work = malloc(wsz);
    assert_non_null(work);
    float *X = malloc(300 * M * sizeof *X);
    assert_non_null(X);
    xgbo_make_data(300, M, 0.2, 0.0, 99, X, NULL);
    double maxd = 0.0;
    for (size_t r = 0; r < 300; r++) {
        double x[4], phi[5], v[16];
        for (unsigned j = 0; j < M; j++) {
            x[j] = X[r * M + j];
        }
        for (unsigned S = 0; S < 16; S++) {
            v[S] = tm.base_margin;
            for (size_t k = 0; k < tm.n_trees; k++) {
                v[S] += expvalue(&tm.t[k], 0, x, S);
            }
        }
        assert_int_equal(vigil_trees_shap(m, x, M, work, wsz, phi, NULL), VIGIL_OK);
        for (unsigned i = 0; i < M; i++) {
            double want = 0.0;
            for (unsigned S = 0; S < 16; S++) {
                if (S & (1u << i)) {
                    continue;
                }
                unsigned s = (unsigned)__builtin_popcount(S);
                want += factorial(s) * factorial(M - s - 1) / factorial(M) *
                        (v[S | (1u << i)] - v[S]);
            }
            double dlt = fabs(phi[i] - want);
            maxd = dlt > maxd ? dlt : maxd;
            if (dlt > 1e-9 * (1.0 + fabs(want))) {
                print_error("row %zu feature %u: %.17g, brute force %.17g\n", r, i, phi[i], want);
            }
            assert_true(dlt <= 1e-9 * (1.0 + fabs(want)));
        }
        assert_true(fabs(phi[M] - v[0]) <= 1e-9 * (1.0 + fabs(v[0])));
    }
    printf("# depth %u: max |phi - brute force| %.3g over 300 rows\n", info.max_depth, maxd);
    free(X);
    free(work);
    tmodel_free(&tm);
    vigil_trees_free(m);
    XGBoosterFree(b);
    free(json);
}

/* ---- a model small enough to check by hand ----------------------------- */

/* One stump: x0 < 0.5 (NaN goes right), covers 10 -> 4 | 6, leaves -1 | 2,
 * base_score 0.25. */
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

static void trees_hand_checked_stump_scores_and_explains(void **state)
{
    (void)state;
    vigil_trees *m = NULL;
    vigil_err err = {0};
    assert_int_equal(vigil_trees_load_json(stump_json, strlen(stump_json), &m, &err), VIGIL_OK);
    vigil_trees_info info;
    vigil_trees_get_info(m, &info);
    assert_int_equal(info.n_features, 2);
    assert_int_equal(info.n_trees, 1);
    assert_int_equal(info.n_nodes, 3);
    assert_int_equal(info.n_leaves, 2);
    assert_int_equal(info.max_depth, 1);
    assert_int_equal(info.xgb_version[1], 7);
    double base = -log(3.0); /* logit(0.25) */
    assert_true(fabs(info.base_margin - base) < 1e-6);
    /* expected value of the tree: 0.4 * -1 + 0.6 * 2 = 0.8 */
    assert_true(fabs(info.expected_margin - (info.base_margin + 0.8)) < 1e-12);

    size_t wsz = vigil_trees_shap_work_size(m);
    void *work = malloc(wsz);
    assert_non_null(work);
    static const struct {
        double x0, leaf;
    } cases[] = {{0.0, -1.0}, {0.4999999, -1.0}, {0.5, 2.0}, {NAN, 2.0}, {-INFINITY, -1.0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double x[2] = {cases[i].x0, NAN}, phi[3];
        vigil_trees_pred p;
        assert_int_equal(vigil_trees_shap(m, x, 2, work, wsz, phi, &p), VIGIL_OK);
        assert_true(fabs(p.margin - (info.base_margin + cases[i].leaf)) < 1e-6);
        assert_true(fabs(p.prob - 1.0 / (1.0 + exp(-p.margin))) < 1e-6);
        assert_true(fabs(phi[0] - (cases[i].leaf - 0.8)) < 1e-12);
        assert_true(phi[1] == 0.0);
        assert_true(phi[2] == info.expected_margin);
    }
    free(work);
    vigil_trees_free(m);
}

/* ---- loading from a file XGBoosterSaveModel wrote ---------------------- */

static void trees_load_file_reads_what_xgboost_saved(void **state)
{
    (void)state;
    model_case mc = {5, 1000, 7, "4", "0.45", "hist", "1", 4.0, 31};
    char *json = NULL;
    size_t json_len = 0;
    BoosterHandle b = train_case(&mc, &json, &json_len);
    char dir[512], path[600];
    assert_non_null(vigil_test_mkdtemp(dir, sizeof dir, "vigil-trees"));
    snprintf(path, sizeof path, "%s/model.json", dir);
    assert_int_equal(XGBoosterSaveModel(b, path), 0);
    vigil_trees *m1 = NULL, *m2 = NULL;
    vigil_err err = {0};
    assert_int_equal(vigil_trees_load_file(path, &m1, &err), VIGIL_OK);
    assert_int_equal(vigil_trees_load_json(json, json_len, &m2, &err), VIGIL_OK);
    unlink(path);
    rmdir(dir);
    float X[200 * 5];
    xgbo_make_data(200, 5, 0.1, 4.0, 5, X, NULL);
    for (size_t i = 0; i < 200; i++) {
        double x[5];
        for (size_t j = 0; j < 5; j++) {
            x[j] = X[i * 5 + j];
        }
        vigil_trees_pred p1, p2;
        assert_int_equal(vigil_trees_predict(m1, x, 5, &p1), VIGIL_OK);
        assert_int_equal(vigil_trees_predict(m2, x, 5, &p2), VIGIL_OK);
        assert_true(p1.margin == p2.margin && p1.prob == p2.prob);
    }
    vigil_trees_free(m1);
    vigil_trees_free(m2);
    XGBoosterFree(b);
    free(json);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(trees_one_stump_matches_xgboost),
    cmocka_unit_test(trees_20_depth3_exact_method_match_xgboost),
    cmocka_unit_test(trees_300_depth2_match_xgboost),
    cmocka_unit_test(trees_12_depth6_match_xgboost),
    cmocka_unit_test(trees_depth10_repeated_features_match_xgboost),
    cmocka_unit_test(trees_shap_equals_brute_force_shapley_values),
    cmocka_unit_test(trees_hand_checked_stump_scores_and_explains),
    cmocka_unit_test(trees_load_file_reads_what_xgboost_saved),
};

VIGIL_TEST_MAIN(tests)
