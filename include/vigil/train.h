/*
 * vigil/train.h: gradient-boosted tree training through XGBoost's C API
 * (Debian libxgboost-dev 1.7). Training only: serving never links XGBoost
 * (see vigil/trees.h for vigil's own inference).
 *
 * Not thread-safe per call (XGBoost uses its own thread pool, nthread).
 */
#ifndef VIGIL_TRAIN_H
#define VIGIL_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/status.h"

/* A dense row-major float matrix; NaN is missing. Borrowed for the call. */
typedef struct vigil_matrix {
    const float *x; /* n_rows * n_cols */
    const float *y; /* n_rows labels 0/1 */
    const float *w; /* n_rows weights, or NULL */
    size_t n_rows;
    size_t n_cols;
} vigil_matrix;

typedef struct vigil_train_params {
    int max_depth;
    double eta;
    int max_rounds;
    int early_stopping_rounds; /* on validation AUC */
    double subsample;
    double colsample_bytree;
    double colsample_bynode; /* per split, after colsample_bytree (1 = off) */
    int max_bin;             /* histogram bins per feature (XGBoost default 256) */
    double min_child_weight;
    double lambda;
    double alpha;
    double gamma;
    double scale_pos_weight; /* 0 = negatives/positives of the training split */
    double max_delta_step;
    int nthread; /* 0 = all cores */
    int seed;
    /* XGBoost monotone_constraints, one per column (+1 increasing, -1
     * decreasing, 0 free), or NULL for none. Borrowed for the training call. */
    const signed char *monotone;
} vigil_train_params;

/* Sensible defaults (depth 5, eta 0.05, up to 600 rounds, stop after 40). */
void vigil_train_params_default(vigil_train_params *p);

/*
 * Read parameters from a small JSON config file ({"max_depth": 6, ...}, or
 * the object under its "xgboost" key when it has one);
 * keys not present keep their current value; unknown keys are an error.
 */
vigil_status vigil_train_params_load(const char *path, vigil_train_params *p, vigil_err *err);

/* Called after each boosting round; may be NULL. */
typedef void (*vigil_train_progress)(int round, int max_rounds, double valid_auc, void *ctx);

typedef struct vigil_train_result {
    char *model_json; /* XGBoost JSON model (malloc'd; caller frees) */
    size_t model_json_len;
    int best_round; /* 0-based; the model holds rounds 0..best_round */
    double best_valid_auc;
    double scale_pos_weight_used;
} vigil_train_result;

/*
 * Train binary:logistic on train with early stopping on valid (AUC). On
 * success out->model_json holds the model sliced to the best round.
 */
vigil_status vigil_train_xgb(const vigil_matrix *train, const vigil_matrix *valid,
                             const vigil_train_params *p, vigil_train_progress progress, void *ctx,
                             vigil_train_result *out, vigil_err *err);

void vigil_train_result_fini(vigil_train_result *r);

/*
 * The clinical direction of feature j's effect on risk where it is
 * unambiguous (src/train/monotone.c, REQ TRAIN-MONOTONE): +1 when a higher
 * value is never reassuring (a NEWS2 sub-score, lactate), -1 when a lower
 * value is never reassuring (SpO2, platelets), 0 when not constrained
 * (U-shaped raw vitals such as respiration rate, or ambiguous). Pure.
 */
int vigil_train_clinical_direction(size_t j);

/* ------------------------------------------------------------ pipeline */

/*
 * Train a model bundle end to end on ONE data set (the training hospital
 * or set): load it with the shared feature code, split stays 70/15/15 into
 * train / valid (early stopping) / calibration (Platt on the margin, and
 * the thresholds) by a hash of the stay id, train, fit the training ranges,
 * and write the bundle with its internal validation figures and model card.
 * Nothing here reads a test set. Configuration (JSON): "xgboost" {params},
 * "exclude_features" [names or shell patterns such as "*_hsince"], "valid_frac",
 * "calib_frac", "seed", "monotone" ("none" or "clinical": XGBoost monotone
 * constraints from vigil_train_clinical_direction), "stay_weighting" ("none" or "inverse_sqrt_length": each
 * stay's rows weigh 1/sqrt(rows)).
 */
typedef struct vigil_pipeline_opts {
    const char *task;        /* "sepsis2019" or "mortality2012" */
    const char *data_path;   /* training data */
    const char *outcomes;    /* 2012 Outcomes file, or NULL */
    const char *config_path; /* or NULL for defaults */
    const char *out_path;    /* bundle to write */
    const char *model_id;
    const char *model_version;
    size_t max_stays; /* 0 = all */
    vigil_train_progress progress;
    void (*log)(const char *line, void *ctx);
    void *ctx;
} vigil_pipeline_opts;

vigil_status vigil_pipeline_train(const vigil_pipeline_opts *o, vigil_err *err);

#endif
