/*
 * validation.c: the figures of the local validation report that the
 * summary metrics do not give: curve points, per-admission scores, Wilson
 * intervals for reliability bins, net benefit, operating points at a
 * threshold or an alert budget, and the alerts a score adds over NEWS2.
 * Counts and ratios come from vigil/eval.h's functions where one exists
 * (confusion, alert episodes, lead time), so a figure here equals the same
 * figure in vigil/report.h. Definitions: docs/eval.md.
 * Does not choose thresholds on the data it reports, except the budget
 * table, which is labelled as such in the report.
 */
#include "vigil/validation.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct ranked {
    double s;
    uint8_t y;
} ranked;

static int cmp_desc(const void *a, const void *b)
{
    double x = ((const ranked *)a)->s, z = ((const ranked *)b)->s;
    return (x < z) - (x > z);
}

static vigil_status check_rows(const double *score, const uint8_t *y, size_t n, size_t *n_pos,
                               vigil_err *err)
{
    *n_pos = 0;
    if (score == NULL || y == NULL || n == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "validation: no rows");
    }
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(score[i]) || y[i] > 1) {
            return vigil_err_set(err, VIGIL_ERR_ARG, NULL,
                                 "validation: row %zu: score not finite or label not 0/1", i);
        }
        *n_pos += y[i];
    }
    return VIGIL_OK;
}

vigil_status vigil_validation_curves(const double *score, const uint8_t *y, size_t n,
                                     size_t max_pts, vigil_curve_pt *roc, vigil_curve_pt *pr,
                                     size_t *out_n, vigil_err *err)
{
    size_t n_pos = 0;
    vigil_status st = check_rows(score, y, n, &n_pos, err);
    if (st != VIGIL_OK) {
        return st;
    }
    if (n_pos == 0 || n_pos == n || max_pts < 2) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL,
                             "validation: curves need both classes and max_pts >= 2");
    }
    ranked *r = malloc(sizeof *r * n);
    if (r == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "validation: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        r[i] = (ranked){score[i], y[i]};
    }
    qsort(r, n, sizeof *r, cmp_desc);
    double n_neg = (double)(n - n_pos);
    size_t step = n / max_pts + 1;
    size_t k = 0, tp = 0, fp = 0, last_kept = 0;
    roc[k] = (vigil_curve_pt){r[0].s + 1.0, 0.0, 0.0};
    pr[k] = (vigil_curve_pt){r[0].s, 0.0, 1.0}; /* replaced by the first kept point */
    k++;
    bool pr_first = true;
    for (size_t i = 0; i < n; i++) {
        tp += r[i].y;
        fp += 1u - r[i].y;
        bool end_of_tie = i + 1 == n || r[i + 1].s != r[i].s;
        if (!end_of_tie) {
            continue;
        }
        bool keep = i + 1 == n || i + 1 - last_kept >= step;
        if (!keep || k > max_pts) {
            continue;
        }
        if (k == max_pts && i + 1 != n) {
            continue; /* the last slot is for the final point */
        }
        last_kept = i + 1;
        double rec = (double)tp / (double)n_pos;
        double prec = (double)tp / (double)(tp + fp);
        roc[k] = (vigil_curve_pt){r[i].s, (double)fp / n_neg, rec};
        pr[k] = (vigil_curve_pt){r[i].s, rec, prec};
        if (pr_first) {
            pr[0] = pr[k];
            pr_first = false;
        }
        k++;
    }
    free(r);
    *out_n = k;
    return VIGIL_OK;
}

vigil_status vigil_validation_per_stay(const vigil_cohort *c, const double *score,
                                       double *out_score, uint8_t *out_y, vigil_err *err)
{
    if (c == NULL || score == NULL || out_score == NULL || out_y == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "validation: missing argument");
    }
    for (size_t k = 0; k < c->n_stays; k++) {
        const vigil_cohort_stay *s = &c->stays[k];
        double best = -INFINITY;
        uint8_t ev = 0;
        for (size_t i = s->row0; i < s->row0 + s->n_rows; i++) {
            if (!isfinite(score[i])) {
                return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "validation: row %zu not finite", i);
            }
            best = fmax(best, score[i]);
            if (c->label[i] == 1) {
                ev = 1;
                break; /* scored up to the first label-1 row */
            }
        }
        out_score[k] = best;
        out_y[k] = ev;
    }
    return VIGIL_OK;
}

void vigil_validation_wilson(size_t k, size_t n, double *out_lo, double *out_hi)
{
    if (n == 0) {
        *out_lo = 0.0;
        *out_hi = 1.0;
        return;
    }
    double z = VIGIL_EVAL_Z975, nn = (double)n, p = (double)k / nn;
    double den = 1.0 + z * z / nn;
    double mid = (p + z * z / (2.0 * nn)) / den;
    double half = z * sqrt(p * (1.0 - p) / nn + z * z / (4.0 * nn * nn)) / den;
    *out_lo = fmax(0.0, mid - half);
    *out_hi = fmin(1.0, mid + half);
}

vigil_status vigil_validation_net_benefit(const double *p, const uint8_t *y, size_t n, double pt,
                                          double *out_model, double *out_all, vigil_err *err)
{
    if (!(pt > 0.0 && pt < 1.0)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "validation: pt must lie in (0, 1)");
    }
    vigil_eval_confusion cm;
    vigil_status st = vigil_eval_at_threshold(p, y, n, pt, &cm, err);
    if (st != VIGIL_OK) {
        return st;
    }
    double nn = (double)n, w = pt / (1.0 - pt);
    double n_pos = (double)(cm.tp + cm.fn), n_neg = (double)(cm.fp + cm.tn);
    *out_model = (double)cm.tp / nn - (double)cm.fp / nn * w;
    *out_all = n_pos / nn - n_neg / nn * w;
    return VIGIL_OK;
}

/* Septic stays with an alert (of a) within [onset - window, onset]. */
static bool alerted_in_window(const vigil_cohort_stay *s, const uint8_t *a, double window_h)
{
    for (size_t t = 0; t < s->n_rows; t++) {
        double h = (double)t;
        if (a[s->row0 + t] && h >= (double)s->onset_row - window_h && h <= (double)s->onset_row) {
            return true;
        }
    }
    return false;
}

static vigil_status op_fill(const vigil_cohort *c, const double *score, const double *news2,
                            double window_h, const uint8_t *alert, uint8_t *n2,
                            vigil_eval_patient *pts, vigil_validation_op *o, vigil_err *err)
{
    vigil_status st =
        vigil_eval_at_threshold(score, c->label, c->n_rows, o->threshold, &o->cm, err);
    if (st == VIGIL_OK) {
        st = vigil_eval_alert_rate_rows(c->stay_of, alert, c->n_rows, &o->ar, err);
    }
    if (st != VIGIL_OK) {
        return st;
    }
    o->alerts_per_100_pd = 100.0 * o->ar.episodes_per_patient_day;
    o->alert_hours_per_100_pd = 100.0 * o->ar.positive_hours_per_patient_day;
    o->has_nne = o->cm.has_ppv && o->cm.ppv > 0.0;
    o->nne = o->has_nne ? 1.0 / o->cm.ppv : 0.0;
    for (size_t k = 0; k < c->n_stays; k++) {
        const vigil_cohort_stay *s = &c->stays[k];
        pts[k] = (vigil_eval_patient){.alert = &alert[s->row0],
                                      .n_hours = s->n_rows,
                                      .event = s->sepsis,
                                      .onset_h = s->sepsis ? (double)s->onset_row : 0.0};
        o->n_event_stays += s->sepsis;
    }
    if (o->n_event_stays > 0) {
        st = vigil_eval_lead_time_before_onset(pts, c->n_stays, window_h, &o->lead, err);
        o->has_lead = st == VIGIL_OK;
    }
    if (st != VIGIL_OK || news2 == NULL) {
        return st;
    }
    for (size_t i = 0; i < c->n_rows; i++) {
        n2[i] = news2[i] >= 5.0;
        o->added_hours += alert[i] && !n2[i];
    }
    o->added_hours_per_100_pd =
        o->ar.patient_days > 0 ? 100.0 * (double)o->added_hours / o->ar.patient_days : 0.0;
    for (size_t k = 0; k < c->n_stays; k++) {
        const vigil_cohort_stay *s = &c->stays[k];
        if (s->sepsis && alerted_in_window(s, alert, window_h) &&
            !alerted_in_window(s, n2, window_h)) {
            o->added_event_stays++;
        }
    }
    return VIGIL_OK;
}

vigil_status vigil_validation_operating(const vigil_cohort *c, const double *score,
                                        const double *news2, double threshold, double window_h,
                                        vigil_validation_op *out, vigil_err *err)
{
    if (c == NULL || score == NULL || out == NULL || c->format != VIGIL_DATA_PN2019) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL,
                             "validation: operating points need an hourly (2019) cohort");
    }
    if (!isfinite(threshold) || !(window_h > 0.0)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "validation: bad threshold or window");
    }
    uint8_t *alert = malloc(c->n_rows + 1);
    uint8_t *n2 = malloc(c->n_rows + 1);
    vigil_eval_patient *pts = malloc(sizeof *pts * (c->n_stays + 1));
    vigil_validation_op o = {.threshold = threshold};
    vigil_status st = alert == NULL || n2 == NULL || pts == NULL
                          ? vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "validation: out of memory")
                          : VIGIL_OK;
    if (st == VIGIL_OK) {
        for (size_t i = 0; i < c->n_rows; i++) {
            alert[i] = score[i] >= threshold;
        }
        st = op_fill(c, score, news2, window_h, alert, n2, pts, &o, err);
    }
    if (st == VIGIL_OK) {
        *out = o;
    }
    free(alert);
    free(n2);
    free(pts);
    return st;
}

static int cmp_asc(const void *a, const void *b)
{
    double x = *(const double *)a, z = *(const double *)b;
    return (x > z) - (x < z);
}

#define BUDGET_CANDIDATES 512

/* Episodes per 100 patient-days of score >= t, rows grouped by stay. */
static double episode_rate(const vigil_cohort *c, const double *score, double t)
{
    size_t episodes = 0;
    for (size_t k = 0; k < c->n_stays; k++) {
        const vigil_cohort_stay *s = &c->stays[k];
        bool prev = false;
        for (size_t i = s->row0; i < s->row0 + s->n_rows; i++) {
            bool on = score[i] >= t;
            episodes += on && !prev;
            prev = on;
        }
    }
    return 100.0 * (double)episodes / ((double)c->n_rows / 24.0);
}

vigil_status vigil_validation_budget_thresholds(const vigil_cohort *c, const double *score,
                                                const double *budget, size_t n_budgets,
                                                double *out_threshold, bool *out_found,
                                                vigil_err *err)
{
    if (c == NULL || score == NULL || c->n_rows == 0 || c->format != VIGIL_DATA_PN2019) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL,
                             "validation: alert budgets need an hourly (2019) cohort");
    }
    for (size_t b = 0; b < n_budgets; b++) {
        if (!(budget[b] > 0.0)) {
            return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "validation: budget must be > 0");
        }
    }
    double *sorted = malloc(sizeof *sorted * c->n_rows);
    double cand[BUDGET_CANDIDATES], rate[BUDGET_CANDIDATES];
    if (sorted == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "validation: out of memory");
    }
    memcpy(sorted, score, sizeof *sorted * c->n_rows);
    qsort(sorted, c->n_rows, sizeof *sorted, cmp_asc);
    /* candidates: distinct quantiles, highest first */
    size_t n_cand = 0;
    for (size_t q = 0; q < BUDGET_CANDIDATES; q++) {
        size_t i = c->n_rows - 1 -
                   (size_t)((double)(c->n_rows - 1) * (double)q / (double)(BUDGET_CANDIDATES - 1));
        if (n_cand == 0 || sorted[i] < cand[n_cand - 1]) {
            cand[n_cand] = sorted[i];
            rate[n_cand] = episode_rate(c, score, sorted[i]);
            n_cand++;
        }
    }
    free(sorted);
    for (size_t b = 0; b < n_budgets; b++) {
        out_found[b] = false;
        out_threshold[b] = NAN;
        for (size_t j = 0; j < n_cand && rate[j] <= budget[b]; j++) {
            out_found[b] = true;
            out_threshold[b] = cand[j];
        }
    }
    return VIGIL_OK;
}

void vigil_monitor_pchart(size_t k, size_t n, double p0, double z, double sigma_z,
                          double *out_limit, bool *out_alarm)
{
    if (n == 0) {
        *out_limit = 1.0;
        *out_alarm = false;
        return;
    }
    double nn = (double)n;
    *out_limit = p0 + z * fmax(1.0, sigma_z) * sqrt(p0 * (1.0 - p0) / nn);
    *out_alarm = (double)k / nn > *out_limit;
}

double vigil_monitor_laney_sigma(const size_t *k, const size_t *n, size_t m, double p0)
{
    if (m < 2 || !(p0 > 0.0 && p0 < 1.0)) {
        return 1.0;
    }
    double sum_mr = 0.0, prev = 0.0;
    size_t n_mr = 0;
    bool have = false;
    for (size_t i = 0; i < m; i++) {
        if (n[i] == 0) {
            continue;
        }
        double zi = ((double)k[i] / (double)n[i] - p0) / sqrt(p0 * (1.0 - p0) / (double)n[i]);
        if (have) {
            sum_mr += fabs(zi - prev);
            n_mr++;
        }
        prev = zi;
        have = true;
    }
    if (n_mr == 0) {
        return 1.0;
    }
    /* the sample SD too: hours of one patient span days, so successive days
     * are alike and the moving range alone underestimates the spread */
    double sum = 0.0, sum2 = 0.0;
    size_t nz = 0;
    for (size_t i = 0; i < m; i++) {
        if (n[i] > 0) {
            double zi = ((double)k[i] / (double)n[i] - p0) / sqrt(p0 * (1.0 - p0) / (double)n[i]);
            sum += zi;
            sum2 += zi * zi;
            nz++;
        }
    }
    double var = nz > 1 ? (sum2 - sum * sum / (double)nz) / (double)(nz - 1) : 0.0;
    return fmax(1.0, fmax(sum_mr / (double)n_mr / 1.128, sqrt(fmax(0.0, var))));
}

double vigil_monitor_z_upper(double alpha)
{
    double lo = 0.0, hi = 40.0;
    for (int i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        if (0.5 * erfc(mid / sqrt(2.0)) > alpha) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return 0.5 * (lo + hi);
}

void vigil_monitor_oe(size_t observed, double expected, double z, double sigma_z, double *out_oe,
                      bool *out_alarm)
{
    if (!(expected > 0.0)) {
        *out_oe = 0.0;
        *out_alarm = false;
        return;
    }
    double o = (double)observed;
    *out_oe = o / expected;
    *out_alarm = fabs(o - expected) > z * fmax(1.0, sigma_z) * sqrt(expected);
}
