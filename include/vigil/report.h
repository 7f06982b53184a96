/*
 * vigil/report.h: every metric vigil reports for one score on one cohort:
 * discrimination (AUROC with DeLong CI, AUPRC), calibration when the score
 * is a probability (Brier, intercept, slope, ECE), the operating point at a
 * threshold (sensitivity, specificity, PPV), and by task: PhysioNet 2019
 * normalised utility, alerts per patient-day and lead time before onset;
 * PhysioNet 2012 Event 1. Subgroups by sex, age band and hospital/set.
 * Definitions: docs/eval.md. The threshold is the caller's: it must be
 * chosen on training data, never on the cohort being reported.
 * Allocation: temporary (malloc); nothing is kept. Not thread-safe per call.
 */
#ifndef VIGIL_REPORT_H
#define VIGIL_REPORT_H

#include "vigil/cohort.h"
#include "vigil/eval.h"

#define VIGIL_REPORT_MAX_GROUPS 24
#define VIGIL_REPORT_ECE_BINS 10

typedef struct vigil_report_group {
    char kind[16]; /* "sex", "age", "set" */
    char name[VIGIL_DATA_ID_MAX];
    vigil_eval_summary s;
} vigil_report_group;

typedef struct vigil_report {
    char score_name[64];
    bool is_prob;
    double threshold;
    vigil_eval_summary overall; /* AUROC+CI, AUPRC, Brier/calibration, at threshold */
    bool has_ece;
    double ece;
    bool has_utility; /* 2019 */
    vigil_eval_utility2019 utility;
    bool has_alerts; /* 2019 */
    vigil_eval_alert_rate alerts;
    bool has_lead; /* 2019: first alert within lead_window_h before onset */
    double lead_window_h;
    vigil_eval_lead_time lead;
    bool has_event1; /* 2012 */
    vigil_eval_event1 event1;
    size_t n_groups;
    vigil_report_group groups[VIGIL_REPORT_MAX_GROUPS];
    double max_auroc_gap_sex; /* largest AUROC difference between reliable groups of a kind */
    double max_auroc_gap_age;
} vigil_report;

/* Lead-time window: alerts up to this many hours before onset count. */
#define VIGIL_REPORT_LEAD_WINDOW_H 48.0

/*
 * Report score (one value per cohort row; NaN rows are refused) against the
 * cohort's labels. threshold: score >= threshold alerts.
 */
vigil_status vigil_report_score(const vigil_cohort *c, const double *score, const char *name,
                                bool is_prob, double threshold, vigil_report *out, vigil_err *err);

/* Binary predictions of a score per row (score >= threshold). */
void vigil_report_alerts(const double *score, size_t n, double threshold, uint8_t *out);

/* PhysioNet 2019 normalised utility of score >= threshold over the cohort. */
vigil_status vigil_report_utility(const vigil_cohort *c, const double *score, double threshold,
                                  vigil_eval_utility2019 *out, vigil_err *err);

/*
 * The threshold that maximises the 2012 Event 1 score (min(Se, PPV)) of
 * score >= t on cohort c, over the distinct score values (at most 512
 * quantiles). For choosing on TRAINING data only.
 */
vigil_status vigil_report_best_event1_threshold(const vigil_cohort *c, const double *score,
                                                double *out_threshold, vigil_err *err);
#endif
