/*
 * vigil/eval.h: evaluation metrics: how vigil's claims about accuracy are
 * checked. Discrimination (AUROC with a DeLong 95% CI, average precision),
 * calibration (Brier score, calibration intercept and slope, expected
 * calibration error with reliability bins), operating points (confusion
 * counts at a threshold, the threshold for a wanted sensitivity), alert
 * burden (alerts per patient-day), lead time before onset, the
 * PhysioNet/CinC 2019 utility score and 2012 Event 1 score, and subgroups.
 * Definitions and sources: docs/eval.md.
 *
 * Pure computations on caller-owned arrays: no file I/O, no globals. Some
 * functions allocate scratch memory with malloc and free it before they
 * return (VIGIL_ERR_NOMEM when that fails). All functions are reentrant and
 * thread-safe; every pointer argument is borrowed for the duration of the
 * call only.
 *
 * Inputs, checked by every function (VIGIL_ERR_ARG with a vigil_err message
 * naming the row):
 *  - labels and binary alerts/predictions are uint8_t holding 0 or 1;
 *  - scores are finite doubles (NaN and infinities refused); probabilities
 *    (Brier, calibration, ECE) must lie in [0, 1];
 *  - n = 0 is refused; a metric that needs both classes refuses one class.
 * No function returns NaN: a quantity that is undefined for the input
 * (PPV with no alerts, say) is flagged with a has_* field and set to 0.
 * On error, *out is unchanged.
 */
#ifndef VIGIL_EVAL_H
#define VIGIL_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/status.h"

/* ------------------------------------------------------ discrimination */

/*
 * AUROC as the Mann-Whitney U statistic with midranks for ties:
 * AUC = (R_pos - n_pos (n_pos + 1) / 2) / (n_pos n_neg), R_pos the sum of
 * the positives' midranks: P(score_pos > score_neg) + P(tie) / 2. Exact for
 * integer scores (NEWS2) however many ties. Needs both classes.
 */
vigil_status vigil_eval_auroc(const double *score, const uint8_t *y, size_t n, double *out_auc,
                              vigil_err *err);

/* Normal quantile for a two-sided 95% interval. */
#define VIGIL_EVAL_Z975 1.959963984540054

typedef struct vigil_eval_roc {
    double auc;
    double var; /* DeLong variance of the AUC */
    double se;  /* sqrt(var) */
    double lo;  /* 95% CI: auc -/+ 1.96 se, clipped to [0, 1] */
    double hi;
    size_t n_pos;
    size_t n_neg;
} vigil_eval_roc;

/*
 * AUROC with its DeLong (1988) variance and 95% Wald interval, computed by
 * the O(n log n) midrank form (Sun & Xu 2014). Needs at least 2 positives
 * and 2 negatives (the variance estimator divides by n_pos - 1 and
 * n_neg - 1): otherwise VIGIL_ERR_ARG. Perfect separation gives var 0 and
 * the interval [1, 1], as DeLong's estimator does.
 */
vigil_status vigil_eval_auroc_delong(const double *score, const uint8_t *y, size_t n,
                                     vigil_eval_roc *out, vigil_err *err);

/*
 * Average precision exactly as scikit-learn's average_precision_score:
 * AP = sum_k (R_k - R_{k-1}) P_k over the distinct score values taken as
 * thresholds (score >= t) from highest to lowest, R recall, P precision.
 * Needs at least one positive (all positives gives 1).
 */
vigil_status vigil_eval_auprc(const double *score, const uint8_t *y, size_t n, double *out_ap,
                              vigil_err *err);

/* --------------------------------------------------------- calibration */

/* Brier score: mean of (p_i - y_i)^2; p in [0, 1]. */
vigil_status vigil_eval_brier(const double *p, const uint8_t *y, size_t n, double *out,
                              vigil_err *err);

/* p is clipped to [VIGIL_EVAL_P_CLIP, 1 - VIGIL_EVAL_P_CLIP] before logit. */
#define VIGIL_EVAL_P_CLIP 1e-15

typedef struct vigil_eval_calibration {
    double intercept;       /* calibration-in-the-large: a in y ~ a + offset(logit p) */
    double slope;           /* b in y ~ c + b logit(p) */
    double slope_intercept; /* c of that fit */
    int iter_intercept;     /* Newton iterations used by each fit */
    int iter_slope;
} vigil_eval_calibration;

/*
 * Calibration intercept (in the large) and slope by Newton-Raphson (IRLS) on
 * the logistic log-likelihood. Needs both classes. The slope's maximum
 * likelihood estimate does not exist under (quasi-)complete separation of y
 * by logit(p), nor when every p is the same: VIGIL_ERR_ARG saying so, not
 * an enormous number.
 */
vigil_status vigil_eval_calibration_fit(const double *p, const uint8_t *y, size_t n,
                                        vigil_eval_calibration *out, vigil_err *err);

#define VIGIL_EVAL_ECE_BINS 10

typedef struct vigil_eval_bin {
    double lo, hi;    /* bin edges: b/B and (b+1)/B */
    size_t n;         /* rows in the bin */
    double mean_pred; /* mean p in the bin; 0 when n == 0 */
    double obs_rate;  /* fraction of y == 1 in the bin; 0 when n == 0 */
} vigil_eval_bin;

/*
 * Expected calibration error with n_bins equal-width reliability bins on
 * [0, 1]: row i goes to bin min(floor(p_i * n_bins), n_bins - 1) (so 1.0
 * falls in the last bin); ECE = sum_b n_b / N |obs_b - pred_b|.
 * out_bins (caller-owned, n_bins entries) receives each bin; n_bins in
 * [1, 1000]. One class is allowed.
 */
vigil_status vigil_eval_ece(const double *p, const uint8_t *y, size_t n, size_t n_bins,
                            vigil_eval_bin *out_bins, double *out_ece, vigil_err *err);

/* ------------------------------------------------------ operating point */

typedef struct vigil_eval_confusion {
    double threshold; /* score >= threshold is an alert */
    size_t tp, fp, tn, fn;
    double sens, spec, ppv, npv; /* 0 when the matching has_* is false */
    bool has_sens;               /* tp + fn > 0 */
    bool has_spec;               /* tn + fp > 0 */
    bool has_ppv;                /* tp + fp > 0 */
    bool has_npv;                /* tn + fn > 0 */
} vigil_eval_confusion;

/* Confusion counts and ratios at threshold (finite). One class allowed. */
vigil_status vigil_eval_at_threshold(const double *score, const uint8_t *y, size_t n,
                                     double threshold, vigil_eval_confusion *out, vigil_err *err);

/*
 * The lowest-alerting threshold that reaches sensitivity >= min_sens: the
 * highest distinct score value t with tp(t) / n_pos >= min_sens, and the
 * confusion at it. min_sens in (0, 1]; needs at least one positive.
 */
vigil_status vigil_eval_threshold_for_sensitivity(const double *score, const uint8_t *y, size_t n,
                                                  double min_sens, vigil_eval_confusion *out,
                                                  vigil_err *err);

/* ----------------------------------------------------------- alert burden */

typedef struct vigil_eval_alert_rate {
    size_t n_patients;
    size_t n_hours;        /* rows: one per patient-hour */
    double patient_days;   /* n_hours / 24 */
    size_t episodes;       /* rising edges: off -> on, or on in a patient's first row */
    size_t positive_hours; /* rows with the alert on */
    double episodes_per_patient_day;
    double positive_hours_per_patient_day;
} vigil_eval_alert_rate;

/*
 * Alert burden over hourly rows. patient_id[i] and alert[i] (0/1) describe
 * row i; each patient's rows must be contiguous and in time order (a
 * patient id seen again after another patient's rows is refused). An alert
 * episode starts when a patient's alert goes from off to on (a first row
 * that is on counts); consecutive on-hours are one episode. Both the
 * episode count and the plain positive-hours count are reported.
 */
vigil_status vigil_eval_alert_rate_rows(const int64_t *patient_id, const uint8_t *alert, size_t n,
                                        vigil_eval_alert_rate *out, vigil_err *err);

/* --------------------------------------------------------------- lead time */

/* One patient's hourly alerts: alert[t] is hour t since the series start. */
typedef struct vigil_eval_patient {
    const uint8_t *alert; /* n_hours values, 0/1 */
    size_t n_hours;       /* > 0 */
    bool event;           /* the patient had the event */
    double onset_h;       /* event onset, hours since the series start (>= 0); ignored if !event */
} vigil_eval_patient;

typedef struct vigil_eval_lead_time {
    size_t n_event;   /* patients with an event */
    size_t n_alerted; /* of those, alerted in [onset - window, onset] */
    double frac_alerted;
    bool has_lead;   /* n_alerted > 0; otherwise the quantiles are 0 */
    double median_h; /* quantiles of the lead times, numpy's default (linear) rule */
    double q1_h;
    double q3_h;
} vigil_eval_lead_time;

/*
 * Lead time before onset. For each event patient, t_a is the first alerting
 * hour t with onset_h - window_h <= t <= onset_h; the lead time is
 * onset_h - t_a (so at most window_h). Reports the fraction of event
 * patients alerted and the median and quartiles of their lead times.
 * window_h > 0 and finite; needs at least one event patient.
 */
vigil_status vigil_eval_lead_time_before_onset(const vigil_eval_patient *pts, size_t n_pts,
                                               double window_h, vigil_eval_lead_time *out,
                                               vigil_err *err);

/* ------------------------------------------------- PhysioNet/CinC 2019 */

/* The official scorer's constants (evaluate_sepsis_score.py). */
#define VIGIL_EVAL_U2019_DT_EARLY (-12)
#define VIGIL_EVAL_U2019_DT_OPTIMAL (-6)
#define VIGIL_EVAL_U2019_DT_LATE 3
#define VIGIL_EVAL_U2019_MAX_U_TP 1.0
#define VIGIL_EVAL_U2019_MIN_U_FN (-2.0)
#define VIGIL_EVAL_U2019_U_FP (-0.05)
#define VIGIL_EVAL_U2019_U_TN 0.0

/* One patient's hourly SepsisLabel and binary prediction sequences. */
typedef struct vigil_eval_seq {
    const uint8_t *label; /* n values, 0/1 */
    const uint8_t *pred;  /* n values, 0/1 */
    size_t n;             /* > 0 */
} vigil_eval_seq;

/*
 * One patient's utility, as compute_prediction_utility(): t_sepsis = (first
 * row with label 1) + 6; hours after t_sepsis + 3 count nothing; see
 * docs/eval.md for the piecewise-linear rewards.
 */
vigil_status vigil_eval_utility2019_patient(const uint8_t *label, const uint8_t *pred, size_t n,
                                            double *out, vigil_err *err);

typedef struct vigil_eval_utility2019 {
    double observed;   /* sum over patients of the predictions' utility */
    double best;       /* ... of the optimal predictions (alerts in [t_sepsis-12, t_sepsis+3]) */
    double inaction;   /* ... of no alerts at all */
    double normalized; /* (observed - inaction) / (best - inaction) */
    size_t n_patients;
    size_t n_septic;
} vigil_eval_utility2019;

/*
 * Normalised utility over a cohort, exactly as evaluate_sepsis_score().
 * Needs at least one septic patient (otherwise best == inaction and the
 * score is undefined: VIGIL_ERR_ARG).
 */
vigil_status vigil_eval_utility2019_cohort(const vigil_eval_seq *pts, size_t n_pts,
                                           vigil_eval_utility2019 *out, vigil_err *err);

/* ------------------------------------------------- PhysioNet/CinC 2012 */

typedef struct vigil_eval_event1 {
    size_t tp, fp, fn, tn;
    double se;     /* tp / (tp + fn) */
    double ppv;    /* tp / (tp + fp); 0 when !has_ppv */
    bool has_ppv;  /* tp + fp > 0 */
    double score1; /* min(se, ppv); 0 when no positive predictions (se is 0 then) */
} vigil_eval_event1;

/*
 * PhysioNet/CinC 2012 Event 1 score, min(Se, +P), of binary predictions of
 * in-hospital death. Needs at least one death.
 */
vigil_status vigil_eval_challenge2012_event1(const uint8_t *pred, const uint8_t *died, size_t n,
                                             vigil_eval_event1 *out, vigil_err *err);

/* ------------------------------------------------------------ subgroups */

typedef enum vigil_eval_age_band {
    VIGIL_EVAL_AGE_16_44 = 0,
    VIGIL_EVAL_AGE_45_64,
    VIGIL_EVAL_AGE_65_79,
    VIGIL_EVAL_AGE_80_PLUS,
    VIGIL_EVAL_AGE_BAND_COUNT
} vigil_eval_age_band;

/*
 * Age band of a finite age in years: [16, 45), [45, 65), [65, 80), [80, 130].
 * Under 16 (NEWS2 is not validated there), NaN or over 130: VIGIL_ERR_ARG.
 */
vigil_status vigil_eval_age_band_of(double age_y, vigil_eval_age_band *out, vigil_err *err);

/* "16-44", "45-64", "65-79", "80+"; "?" for an invalid value. */
const char *vigil_eval_age_band_name(vigil_eval_age_band b);

/* Default reliability floor: a group needs this many positives and negatives. */
#define VIGIL_EVAL_MIN_CLASS 10

typedef struct vigil_eval_summary {
    size_t n, n_pos, n_neg;
    bool reliable; /* n_pos >= min_class and n_neg >= min_class; nothing
                      below is computed (all false / 0) when false */
    bool has_roc;  /* auroc.* valid */
    vigil_eval_roc auroc;
    bool has_auprc;
    double auprc;
    bool has_brier; /* only when the scores are probabilities */
    double brier;
    bool has_calibration; /* only for probabilities, and when the fit exists */
    vigil_eval_calibration cal;
    vigil_eval_confusion at_threshold;
} vigil_eval_summary;

/*
 * All of the summary metrics for one population. score_is_prob says the
 * scores are probabilities in [0, 1] (Brier and calibration are computed
 * only then). min_class >= 2. An unreliable population is reported with
 * n, n_pos and n_neg only. A metric that cannot be computed on a reliable
 * population (separation for the slope) leaves its has_* false.
 */
vigil_status vigil_eval_summarize(const double *score, const uint8_t *y, size_t n,
                                  bool score_is_prob, double threshold, size_t min_class,
                                  vigil_eval_summary *out, vigil_err *err);

/* group[i] < 0 leaves row i out of every group. */
#define VIGIL_EVAL_GROUP_NONE (-1)

/*
 * vigil_eval_summarize on the rows of each group g = 0 .. n_groups - 1
 * (group[i] == g). out has n_groups entries (caller-owned). A group id
 * >= n_groups is refused. Groups are labelled by the caller (sex, age band
 * from vigil_eval_age_band_of, hospital, ethnicity).
 */
vigil_status vigil_eval_subgroups(const double *score, const uint8_t *y, const int *group, size_t n,
                                  size_t n_groups, bool score_is_prob, double threshold,
                                  size_t min_class, vigil_eval_summary *out, vigil_err *err);

#endif
