/*
 * xgb_oracle.h: XGBoost's C API as the oracle for vigil's tree inference:
 * synthetic data, training, saving to JSON, predicting margins,
 * probabilities and SHAP contributions. Header-only (static functions) so
 * tests/model/test_trees*.c and bench/bench_treeshap.c share it.
 *
 * Does not: check anything itself; callers compare. The random generator is
 * splitmix64 (deterministic, seeded), not the C library generator.
 */
#ifndef VIGIL_XGB_ORACLE_H
#define VIGIL_XGB_ORACLE_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xgboost/c_api.h>

/* ---- deterministic random numbers ------------------------------------- */

typedef struct xgbo_rng {
    uint64_t s;
} xgbo_rng;

static inline uint64_t xgbo_next(xgbo_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* uniform in [0, 1) */
static inline double xgbo_unif(xgbo_rng *r)
{
    return (double)(xgbo_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static inline double xgbo_normal(xgbo_rng *r)
{
    double u = xgbo_unif(r), v = xgbo_unif(r);
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/*
 * n rows of nf features (row-major floats): normal values rounded to
 * 1/quant (so many rows tie on split values when quant > 0), NaN with
 * probability nan_frac. Labels from a nonlinear score with noise.
 */
static inline void xgbo_make_data(size_t n, size_t nf, double nan_frac, double quant,
                                  uint64_t seed, float *X, float *y)
{
    xgbo_rng r = {seed};
    for (size_t i = 0; i < n; i++) {
        float *row = X + i * nf;
        for (size_t j = 0; j < nf; j++) {
            double v = xgbo_normal(&r);
            if (quant > 0) {
                v = floor(v * quant + 0.5) / quant;
            }
            row[j] = xgbo_unif(&r) < nan_frac ? NAN : (float)v;
        }
        if (y != NULL) {
            double s = 0.0;
            for (size_t j = 0; j < nf; j++) {
                double v = isnan(row[j]) ? 0.3 : row[j];
                double c = 1.0 / (double)(1 + j % 7);
                s += (j % 3 == 0) ? c * v : (j % 3 == 1) ? c * v * v - 0.5 * c : c * sin(2.0 * v);
            }
            s += 0.8 * xgbo_normal(&r);
            y[i] = s > 0.2 ? 1.0f : 0.0f;
        }
    }
}

/* ---- XGBoost calls ---------------------------------------------------- */

#define XGBO_CHECK(call)                                                                  \
    do {                                                                                  \
        if ((call) != 0) {                                                                \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, XGBGetLastError()); \
            return -1;                                                                    \
        }                                                                                 \
    } while (0)

/* A DMatrix over n dense float rows; NaN is missing. */
static inline int xgbo_dmatrix(const float *X, const float *y, size_t n, size_t nf,
                               DMatrixHandle *out)
{
    XGBO_CHECK(XGDMatrixCreateFromMat(X, (bst_ulong)n, (bst_ulong)nf, NAN, out));
    if (y != NULL) {
        XGBO_CHECK(XGDMatrixSetFloatInfo(*out, "label", y, (bst_ulong)n));
    }
    return 0;
}

/*
 * Train n_rounds of boosting with params (NULL-terminated key, value, key,
 * value, ... list) on a DMatrix. The caller frees *out with XGBoosterFree.
 */
static inline int xgbo_train(DMatrixHandle dtrain, const char *const *params, int n_rounds,
                             BoosterHandle *out)
{
    XGBO_CHECK(XGBoosterCreate(&dtrain, 1, out));
    for (size_t i = 0; params[i] != NULL; i += 2) {
        XGBO_CHECK(XGBoosterSetParam(*out, params[i], params[i + 1]));
    }
    for (int it = 0; it < n_rounds; it++) {
        XGBO_CHECK(XGBoosterUpdateOneIter(*out, it, dtrain));
    }
    return 0;
}

/* The model as XGBoost JSON (what XGBoosterSaveModel writes to a .json
 * file); *out is malloc'd, free() it. */
static inline int xgbo_model_json(BoosterHandle b, char **out, size_t *out_len)
{
    bst_ulong len = 0;
    const char *buf = NULL;
    XGBO_CHECK(XGBoosterSaveModelToBuffer(b, "{\"format\": \"json\"}", &len, &buf));
    *out = malloc((size_t)len + 1);
    if (*out == NULL) {
        return -1;
    }
    memcpy(*out, buf, (size_t)len);
    (*out)[len] = '\0';
    *out_len = (size_t)len;
    return 0;
}

/*
 * Predict on a DMatrix: type 0 probability, 1 margin, 2 SHAP contributions
 * (n x (nf + 1), bias last). Copies n_out floats into out; fails if XGBoost
 * returns another number of values.
 */
static inline int xgbo_predict(BoosterHandle b, DMatrixHandle d, int type, float *out,
                               size_t n_out)
{
    char cfg[160];
    snprintf(cfg, sizeof cfg,
             "{\"type\": %d, \"training\": false, \"iteration_begin\": 0, "
             "\"iteration_end\": 0, \"strict_shape\": false}",
             type);
    const bst_ulong *shape = NULL;
    bst_ulong dim = 0;
    const float *res = NULL;
    XGBO_CHECK(XGBoosterPredictFromDMatrix(b, d, cfg, &shape, &dim, &res));
    size_t total = 1;
    for (bst_ulong i = 0; i < dim; i++) {
        total *= (size_t)shape[i];
    }
    if (total != n_out) {
        fprintf(stderr, "xgbo_predict: XGBoost returned %zu values, expected %zu\n", total, n_out);
        return -1;
    }
    memcpy(out, res, n_out * sizeof *out);
    return 0;
}

#endif
