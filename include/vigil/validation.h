/*
 * vigil/validation.h: the figures of a local validation report beyond the
 * summary metrics of vigil/report.h: ROC and precision-recall curve points,
 * per-admission scores, reliability bins with Wilson intervals, net benefit
 * (decision curve), and operating points (at a threshold, or at an alert
 * budget per 100 patient-days) with the alerts a score adds over NEWS2.
 * Definitions: docs/eval.md ("Validation report"). Every count or ratio is
 * computed by the metric functions of vigil/eval.h where one exists.
 *
 * Pure computations on caller-owned arrays and a loaded cohort: no file I/O,
 * no globals; scratch memory is malloc'd and freed before return. Reentrant.
 * On error, outputs are unchanged.
 */
#ifndef VIGIL_VALIDATION_H
#define VIGIL_VALIDATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/cohort.h"
#include "vigil/eval.h"
#include "vigil/status.h"

/* One curve point at threshold thr (score >= thr alerts). ROC: x = false
 * positive rate, y = true positive rate. PR: x = recall, y = precision. */
typedef struct vigil_curve_pt {
    double thr, x, y;
} vigil_curve_pt;

/*
 * ROC and precision-recall points at the distinct score values taken as
 * thresholds from high to low, thinned to at most max_pts points (a point
 * is kept when it is the last one or at least n / max_pts rows lie between
 * it and the previous kept point; the extreme points are always kept). The
 * ROC curve also starts at (0, 0) with thr = +inf written as the largest
 * score + 1. roc and pr have room for max_pts + 1 points each; *out_n
 * receives the count (the same for both: ROC's first point is its (0, 0)
 * and PR's first point repeats the first kept threshold). Needs both
 * classes; max_pts >= 2.
 */
vigil_status vigil_validation_curves(const double *score, const uint8_t *y, size_t n,
                                     size_t max_pts, vigil_curve_pt *roc, vigil_curve_pt *pr,
                                     size_t *out_n, vigil_err *err);

/*
 * One score per admission (stay) of cohort c: for PhysioNet 2019 the
 * largest score over the stay's rows up to and including its first
 * label-1 row (a septic stay), or over all rows (a stay without sepsis);
 * for 2012 the stay's one row. out_score and out_y have c->n_stays entries;
 * out_y is 1 for a stay with the event.
 */
vigil_status vigil_validation_per_stay(const vigil_cohort *c, const double *score,
                                       double *out_score, uint8_t *out_y, vigil_err *err);

/* Wilson score 95% interval of k successes in n trials (n > 0). */
void vigil_validation_wilson(size_t k, size_t n, double *out_lo, double *out_hi);

/* Net benefit of treating p >= pt at threshold probability pt in (0, 1):
 * TP/n - FP/n * pt / (1 - pt); and of treating everyone. */
vigil_status vigil_validation_net_benefit(const double *p, const uint8_t *y, size_t n, double pt,
                                          double *out_model, double *out_all, vigil_err *err);

/* An operating point of an hourly score on a PhysioNet 2019 cohort. */
typedef struct vigil_validation_op {
    double threshold;
    vigil_eval_confusion cm;  /* per row */
    vigil_eval_alert_rate ar; /* episodes and alert hours */
    double alerts_per_100_pd; /* episodes per 100 patient-days */
    double alert_hours_per_100_pd;
    bool has_nne; /* number needed to evaluate: 1 / PPV */
    double nne;
    vigil_eval_lead_time lead; /* first alert within the lead window before onset */
    bool has_lead;
    /* over NEWS2 >= 5 (only when a NEWS2 array was given) */
    size_t added_hours; /* rows alerting while NEWS2 < 5 */
    double added_hours_per_100_pd;
    size_t added_event_stays; /* septic stays alerted in the window, NEWS2 never >= 5 there */
    size_t n_event_stays;
} vigil_validation_op;

/*
 * The operating point of score >= threshold on c (PhysioNet 2019 only):
 * confusion per row, alert episodes and hours per 100 patient-days, lead
 * time within window_h before onset, and, when news2 is not NULL, the alert
 * hours and septic stays the score adds over NEWS2 >= 5.
 */
vigil_status vigil_validation_operating(const vigil_cohort *c, const double *score,
                                        const double *news2, double threshold, double window_h,
                                        vigil_validation_op *out, vigil_err *err);

/*
 * For each budget b[k] (> 0, alert episodes per 100 patient-days): the
 * lowest threshold t among up to 512 candidate score quantiles such that
 * score >= t raises at most b[k] episodes per 100 patient-days at t and at
 * every higher candidate; out_found[k] is false when even the highest
 * candidate exceeds it. PhysioNet 2019 cohorts only.
 */
vigil_status vigil_validation_budget_thresholds(const vigil_cohort *c, const double *score,
                                                const double *budget, size_t n_budgets,
                                                double *out_threshold, bool *out_found,
                                                vigil_err *err);

/* ------------------------------------------------------------ monitoring */

/* One-sided normal quantile for a control limit with a 0.1% false-alarm
 * rate per check. */
#define VIGIL_MONITOR_Z 3.090232306167813

/*
 * p-chart (Shewhart) with Laney's overdispersion factor: k events in n
 * trials against reference rate p0 in (0, 1): the upper control limit
 * p0 + z sigma_z sqrt(p0 (1 - p0) / n) and whether k / n exceeds it.
 * sigma_z >= 1 widens the binomial limit for rows that are not independent
 * (hours of one patient); 1 is the plain p-chart. n == 0 never alarms.
 */
void vigil_monitor_pchart(size_t k, size_t n, double p0, double z, double sigma_z,
                          double *out_limit, bool *out_alarm);

/*
 * Laney's sigma_z from a baseline of m periods (k[i] events in n[i]
 * trials, p0 the pooled rate): the standard deviation of the standardised
 * rates z_i = (k_i/n_i - p0) / sqrt(p0 (1 - p0) / n_i): the larger of the
 * mean moving range / 1.128 (Laney) and the sample SD; at least 1. m >= 2.
 */
double vigil_monitor_laney_sigma(const size_t *k, const size_t *n, size_t m, double p0);

/* The z with P(Z > z) = alpha for a standard normal Z; alpha in (0, 0.5). */
double vigil_monitor_z_upper(double alpha);

/* Chance of a false alarm per monitored quantity and day, shared by the
 * inputs watched (Bonferroni): 0.1%. */
#define VIGIL_MONITOR_ALPHA 0.001

/*
 * Calibration in a window: observed events against the sum of predicted
 * probabilities (expected); alarm when |O - E| > z sigma_z sqrt(E) (Poisson
 * with overdispersion sigma_z >= 1), in either direction. *out_oe is O / E
 * (0 when E is 0; no alarm then).
 */
void vigil_monitor_oe(size_t observed, double expected, double z, double sigma_z, double *out_oe,
                      bool *out_alarm);

#endif
