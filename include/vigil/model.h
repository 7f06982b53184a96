/*
 * vigil/model.h: a versioned model bundle and scoring with it, in plain C
 * with no XGBoost: the trees (vigil/trees.h), the calibration map
 * (vigil/calibrate.h), the training ranges (vigil/range_guard.h), the
 * thresholds chosen on training data, the evaluation figures and the model
 * card, in one JSON file (docs/model.md, "Bundle").
 *
 * Loading refuses a bundle whose feature-specification hash differs from
 * the running code's (vigil_features_spec_hash), so a model never sees
 * features computed differently from how it was trained.
 *
 * Ownership: vigil_model is opaque (_load/_free); a loaded model is
 * immutable and may be shared by threads; each thread scores with its own
 * vigil_model_work (_new/_free).
 */
#ifndef VIGIL_MODEL_H
#define VIGIL_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "vigil/status.h"
#include "vigil/vars.h"

#define VIGIL_BUNDLE_FORMAT "vigil-model-bundle"
#define VIGIL_BUNDLE_FORMAT_VERSION 1

typedef struct vigil_model vigil_model;
typedef struct vigil_model_work vigil_model_work;

typedef struct vigil_model_info {
    const char *model_id;      /* "vigil-sepsis-2019A" */
    const char *model_version; /* "1.0.0" */
    const char *task;          /* "sepsis2019" or "mortality2012" */
    const char *trained_on;    /* data set label */
    size_t n_inputs;           /* model columns (a subset of the feature vector) */
    size_t n_trees;
    double threshold; /* the alert threshold on calibrated risk, chosen on training data */
    const char *threshold_rule;
    double threshold_news2_matched; /* risk threshold matching NEWS2 >= 5's sensitivity on
                                       training data; NaN when not applicable */
    const char *intended_use;
    int feature_set; /* vigil_feature_set: research (also for bundles that name none) or a ward
                        set, whose inputs loading checked against the set */
} vigil_model_info;

/* Load a bundle file. VIGIL_ERR_MISMATCH for a feature-spec hash mismatch,
 * VIGIL_ERR_PARSE for a malformed bundle, VIGIL_ERR_IO when unreadable. */
vigil_status vigil_model_load(const char *path, vigil_model **out, vigil_err *err);
vigil_status vigil_model_load_text(const char *json, size_t len, vigil_model **out, vigil_err *err);
void vigil_model_free(vigil_model *m);
void vigil_model_get_info(const vigil_model *m, vigil_model_info *out);

/* The feature-vector index of model input i, and its name. */
size_t vigil_model_input_feature(const vigil_model *m, size_t i);
const char *vigil_model_input_name(const vigil_model *m, size_t i);

vigil_status vigil_model_work_new(const vigil_model *m, vigil_model_work **out, vigil_err *err);
void vigil_model_work_free(vigil_model_work *w);

typedef struct vigil_model_pred {
    double margin;       /* log-odds before calibration */
    double prob_raw;     /* the trees' probability */
    double risk;         /* calibrated probability: what is shown and thresholded */
    bool low_confidence; /* some input lies outside the training range */
    size_t n_out_of_range;
} vigil_model_pred;

/*
 * Score one full feature vector (vigil_features_count() floats). When phi
 * is non-NULL it receives n_inputs + 1 exact TreeSHAP values on the margin
 * (the last is the bias); they sum to margin.
 */
vigil_status vigil_model_predict(const vigil_model *m, vigil_model_work *w, const float *features,
                                 vigil_model_pred *out, double *phi, vigil_err *err);

/* Calibrated risk for n_rows full feature vectors (row-major, stride
 * n_features). */
vigil_status vigil_model_predict_batch(const vigil_model *m, const float *features, size_t n_rows,
                                       size_t n_features, double *out_risk, vigil_err *err);

/*
 * Explanations are by clinical variable (docs/model.md, "Explanations").
 * Every feature belongs to exactly one explanation group: the vigil_var it
 * reads (its NEWS2 sub-score included: news2_rr belongs to "resp"), or one
 * of the groups below for features of several variables. A vital sign has
 * two groups (feature spec v4): its level (the vigil_var: latest value,
 * distances above and below normal, worst excursion over 6 and 24 h, NEWS2
 * points) and its course over the last 24 h (VIGIL_XG_COURSE + k: changes,
 * slopes, variability, 6/24 h means, deviation from the own baseline, time
 * outside the normal range), so a calm day is its own reason and never
 * makes a bad reading look reassuring. TreeSHAP values are additive, so a
 * group's contribution, the sum of its features' values, is still exact
 * (REQ MODEL-SHAP-BY-VAR).
 */
enum {
    VIGIL_XG_SHOCK = VIGIL_VAR_COUNT, /* shock indices */
    VIGIL_XG_PULSE_PRESSURE,
    VIGIL_XG_NEWS2,      /* NEWS2 totals and their trajectory */
    VIGIL_XG_UREA_CREAT, /* urea/creatinine ratio */
    VIGIL_XG_SEX,
    VIGIL_XG_TIME,   /* time in the unit (research variant only) */
    VIGIL_XG_COURSE, /* first course group: VIGIL_XG_COURSE + k for the k-th vital */
    VIGIL_XG_COUNT = VIGIL_XG_COURSE + 8
};

/* The course group of vital v (VIGIL_XG_COUNT when v is not a vital sign
 * with a course: heart rate, SpO2, temperature, systolic, MAP, diastolic,
 * respiration rate, EtCO2). */
size_t vigil_explain_course_group(vigil_var v);

/* The variable group g speaks of: g itself for a variable, the vital for a
 * course group; -1 for the other groups. */
int vigil_explain_group_var(size_t g);

/* The explanation group of feature j (VIGIL_XG_COUNT when out of range). */
size_t vigil_explain_group(size_t j);

/* Words for group g ("respiration rate", "shock index"); "?" when out of range. */
const char *vigil_explain_group_label(size_t g);

/* Group g worded from the patient's own values (features: the full
 * vector): "respiration rate 28 breaths/min, up from 18 over 6 h",
 * "creatinine 2.1 mg/dL, up from 1.1". For a group with a value. */
void vigil_explain_group_words(size_t g, const float *features, char *out, size_t cap);

/* State of a group for one patient: the model reads none of its features,
 * its value is present, or every value is missing (not yet available). */
enum { VIGIL_XG_UNUSED = 0, VIGIL_XG_PRESENT, VIGIL_XG_MISSING };

/*
 * Sum the n_inputs TreeSHAP values phi (as vigil_model_predict gives them)
 * over each group: out_sum[g] for g < VIGIL_XG_COUNT; out_state[g] says
 * whether the model reads g and whether the patient has a value for it
 * (features: the full feature vector). Exact: no rounding beyond the sum.
 */
void vigil_model_shap_by_group(const vigil_model *m, const float *features, const double *phi,
                               double *out_sum, unsigned char *out_state);

/* One reason of an explanation, in words a nurse reads. */
typedef struct vigil_factor {
    size_t input;        /* explanation group (vigil_explain_group) */
    double contribution; /* the group's summed SHAP value, log-odds scale */
    char text[192];      /* "respiration rate 28 breaths/min, up from 18 over 6 h" */
} vigil_factor;

/*
 * The k clinical variables pushing risk up most and down most, ranked by
 * their summed SHAP value and worded from the patient's own values. Only
 * variables with a value are reasons: a variable the model reads whose
 * values are all missing is never one; it is named in *missing ("not yet
 * available: lactate, creatinine; the score may change when they arrive",
 * empty when none), cut to missing_cap. Contributions under 0.01 in size
 * are left out. missing may be NULL.
 */
void vigil_model_explain(const vigil_model *m, const float *features, const double *phi, size_t k,
                         vigil_factor *up, size_t *n_up, vigil_factor *down, size_t *n_down,
                         char *missing, size_t missing_cap);

/* Describe feature vector entry j in words ("heart rate 118 beats/min"). */
void vigil_feature_describe(size_t j, const float *features, char *out, size_t cap);

/* The bundle's JSON members (borrowed; for reports): "evaluation",
 * "model_card", "training". NULL when absent. The returned text is
 * malloc'd JSON; free() it. */
char *vigil_model_member_json(const vigil_model *m, const char *key);

#endif
