/*
 * vigil/trees.h: serving-time inference for vigil's gradient-boosted tree
 * ensemble, in plain C: score one row or a batch, and explain each score
 * with exact path-dependent TreeSHAP. No XGBoost at serving time.
 *
 * The model is read from XGBoost 1.x's JSON model format (what
 * XGBoosterSaveModel writes to a ".json" file), restricted to what vigil
 * trains: booster "gbtree", objective "binary:logistic", one output, numeric
 * splits only. Anything else is refused with a message naming the JSON field.
 * See docs/model.md for the format, the algorithm, its cost and precision.
 *
 * Does not: train, read XGBoost's binary or UBJSON formats, handle
 * categorical splits, multi-class, DART weights, or pick a decision threshold
 * (calibration is vigil/calibrate.h; the out-of-range guard is
 * vigil/range_guard.h).
 *
 * Exactness (REQ MODEL-XGB-EXACT): each split compares (float)x < threshold
 * with the float threshold XGBoost stored; NaN takes the split's default
 * branch; leaf values are summed in float in tree order on top of
 * base_margin, and the probability is 1/(1+expf(-margin)) in float, the same
 * operations XGBoost 1.7's CPU predictor performs, so margins and
 * probabilities reproduce XGBoost's bit for bit. SHAP values are computed in
 * double and sum to the margin (REQ MODEL-SHAP-SUM).
 *
 * Thread safety: a loaded vigil_trees is immutable; any number of threads may
 * score and explain with it concurrently, each with its own workspace. No
 * function here allocates after loading, starts threads or does I/O (except
 * vigil_trees_load_file, which reads its file).
 */
#ifndef VIGIL_TREES_H
#define VIGIL_TREES_H

#include <stddef.h>

#include "vigil/status.h"

/* A loaded ensemble: opaque, immutable, owned by whoever loaded it. */
typedef struct vigil_trees vigil_trees;

/* What a loaded model holds (filled by vigil_trees_get_info). */
typedef struct vigil_trees_info {
    size_t n_features;      /* learner_model_param.num_feature: row length */
    size_t n_trees;         /* trees in the ensemble */
    size_t n_nodes;         /* nodes reachable from the roots, all trees */
    size_t n_leaves;        /* leaves, all trees */
    unsigned max_depth;     /* longest root-to-leaf path, in splits */
    double base_score;      /* base_score as stored: a probability */
    double base_margin;     /* logit(base_score) in float, as XGBoost uses it */
    double expected_margin; /* the SHAP bias: base_margin + sum of the trees'
                               cover-weighted mean leaf values */
    int xgb_version[3];     /* "version" of the file, e.g. 1, 7, 4 */
} vigil_trees_info;

/* One prediction. margin is the raw sum (log-odds); prob = sigmoid(margin). */
typedef struct vigil_trees_pred {
    double margin;
    double prob;
} vigil_trees_pred;

/*
 * Load a model from XGBoost JSON text (json[0..len), need not be
 * NUL-terminated; borrowed for the call only). On success *out owns a new
 * model: release it with vigil_trees_free.
 * Returns VIGIL_ERR_PARSE for malformed JSON (err->line is the JSON line) or
 * a structurally broken model (missing field, array of the wrong length,
 * child index out of range, a node reachable twice, non-finite values);
 * VIGIL_ERR_MISMATCH for a well-formed model vigil does not serve (another
 * objective or booster, several outputs, categorical splits, another major
 * format version); VIGIL_ERR_NOMEM; VIGIL_ERR_ARG for NULL arguments.
 * err->field names the JSON pointer of the offending field when there is one.
 * On error *out is unchanged.
 */
vigil_status vigil_trees_load_json(const char *json, size_t len, vigil_trees **out,
                                   vigil_err *err);

/* As vigil_trees_load_json, reading the file at path (VIGIL_ERR_IO if it
 * cannot be read). */
vigil_status vigil_trees_load_file(const char *path, vigil_trees **out, vigil_err *err);

/* Release a model. NULL is a no-op. */
void vigil_trees_free(vigil_trees *m);

/* Describe a loaded model. */
void vigil_trees_get_info(const vigil_trees *m, vigil_trees_info *out);

/*
 * Score one row. x[0..n_features) are the feature values in the model's
 * column order, NaN for missing; n_features must equal the model's
 * (VIGIL_ERR_MISMATCH otherwise). VIGIL_ERR_ARG for NULL pointers.
 */
vigil_status vigil_trees_predict(const vigil_trees *m, const double *x, size_t n_features,
                                 vigil_trees_pred *out);

/*
 * Score n_rows rows stored row-major in x (row r at x + r * n_features) into
 * out[0..n_rows). Same results as n_rows calls of vigil_trees_predict.
 */
vigil_status vigil_trees_predict_batch(const vigil_trees *m, const double *x, size_t n_rows,
                                       size_t n_features, vigil_trees_pred *out);

/*
 * Bytes of workspace vigil_trees_shap and vigil_trees_shap_batch need for
 * this model. The caller allocates it once (any alignment) and may reuse it
 * for any number of calls, one call at a time per workspace.
 */
size_t vigil_trees_shap_work_size(const vigil_trees *m);

/*
 * Exact path-dependent TreeSHAP values of one row (the quantity of Lundberg
 * et al. 2020, Algorithm 2, that XGBoost's pred_contribs returns, with node
 * covers from sum_hessian). Writes out_phi[0..n_features] : out_phi[j] is
 * feature j's contribution in margin (log-odds) units and out_phi[n_features]
 * the bias (info.expected_margin); they sum to the margin to rounding
 * (REQ MODEL-SHAP-SUM). When out_pred is non-NULL it receives the prediction
 * (bit-identical to vigil_trees_predict). work is the caller's workspace of
 * work_size >= vigil_trees_shap_work_size(m) bytes (VIGIL_ERR_ARG if smaller).
 * Cost: O(nodes x quadrature points) per row; see docs/model.md.
 */
vigil_status vigil_trees_shap(const vigil_trees *m, const double *x, size_t n_features,
                              void *work, size_t work_size, double *out_phi,
                              vigil_trees_pred *out_pred);

/*
 * TreeSHAP for n_rows row-major rows: out_phi holds n_rows * (n_features + 1)
 * values, row r at out_phi + r * (n_features + 1); out_pred (n_rows entries)
 * may be NULL. One workspace serves the whole batch. To use several threads,
 * split the rows and give each thread its own workspace.
 */
vigil_status vigil_trees_shap_batch(const vigil_trees *m, const double *x, size_t n_rows,
                                    size_t n_features, void *work, size_t work_size,
                                    double *out_phi, vigil_trees_pred *out_pred);

#endif
