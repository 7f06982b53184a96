/*
 * alerts.c: alert burden (alerts per patient-day, as episodes and as
 * positive hours) and lead time of the first alert before an event's onset.
 *
 * Definitions: docs/eval.md. An alert episode starts on a rising edge of a
 * patient's hourly alert (off -> on, or on in the patient's first row);
 * patient-days = hours / 24. Lead time = onset - first alerting hour within
 * [onset - window, onset]; quartiles use numpy's default linear rule
 * (Hyndman & Fan 1996 type 7).
 *
 * Does not: resample irregular rows to hours, or guess a patient's order:
 * rows must come grouped by patient and in time order, and a patient seen
 * again after another is refused (rising edges would be wrong).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "eval_int.h"

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a;
    int64_t z = *(const int64_t *)b;
    return (x > z) - (x < z);
}

vigil_status vigil_eval_alert_rate_rows(const int64_t *patient_id, const uint8_t *alert, size_t n,
                                        vigil_eval_alert_rate *out, vigil_err *err)
{
    if (n == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "n", "alert_rate: no rows (n = 0)");
    }
    if (patient_id == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "patient_id", "alert_rate: patient_id is NULL");
    }
    vigil_status st = vigil__eval_check_binary("alert_rate", "alert", alert, n, err);
    if (st != VIGIL_OK) {
        return st;
    }
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "alert_rate: out is NULL");
    }
    int64_t *runs = n > SIZE_MAX / sizeof *runs ? NULL : malloc(n * sizeof *runs);
    if (runs == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "alert_rate: cannot allocate %zu rows", n);
    }
    vigil_eval_alert_rate r = {0};
    for (size_t i = 0; i < n; i++) {
        bool first = i == 0 || patient_id[i] != patient_id[i - 1];
        if (first) {
            runs[r.n_patients++] = patient_id[i];
        }
        if (alert[i]) {
            r.positive_hours++;
            if (first || !alert[i - 1]) {
                r.episodes++;
            }
        }
    }
    /* each patient must form one run of rows */
    qsort(runs, r.n_patients, sizeof *runs, cmp_i64);
    for (size_t k = 1; k < r.n_patients; k++) {
        if (runs[k] == runs[k - 1]) {
            long long id = (long long)runs[k];
            free(runs);
            return vigil_err_set(err, VIGIL_ERR_ARG, "patient_id",
                                 "alert_rate: rows of patient %lld are not contiguous (sort "
                                 "rows by patient, then time)",
                                 id);
        }
    }
    free(runs);
    r.n_hours = n;
    r.patient_days = (double)n / 24.0;
    r.episodes_per_patient_day = (double)r.episodes / r.patient_days;
    r.positive_hours_per_patient_day = (double)r.positive_hours / r.patient_days;
    *out = r;
    return VIGIL_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double z = *(const double *)b;
    return (x > z) - (x < z);
}

/* numpy.percentile's default ("linear") on sorted v[0..n-1], n > 0, q in [0, 1]. */
static double quantile_linear(const double *v, size_t n, double q)
{
    double h = q * (double)(n - 1);
    size_t lo = (size_t)floor(h);
    if (lo >= n - 1) {
        return v[n - 1];
    }
    double t = h - (double)lo;
    double a = v[lo];
    double b = v[lo + 1];
    /* numpy's _lerp: interpolate from the nearer end (monotone, exact at t = 1) */
    return t >= 0.5 ? b - (b - a) * (1.0 - t) : a + (b - a) * t;
}

static vigil_status check_patient(const vigil_eval_patient *pt, size_t k, vigil_err *err)
{
    if (pt->n_hours == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "n_hours", "lead_time: patient %zu has no hours",
                             k);
    }
    vigil_status st = vigil__eval_check_binary("lead_time", "alert", pt->alert, pt->n_hours, err);
    if (st != VIGIL_OK) {
        return st;
    }
    if (pt->event && !(isfinite(pt->onset_h) && pt->onset_h >= 0.0)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "onset_h",
                             "lead_time: patient %zu has an event with onset_h %g (needs a "
                             "finite value >= 0)",
                             k, pt->onset_h);
    }
    return VIGIL_OK;
}

vigil_status vigil_eval_lead_time_before_onset(const vigil_eval_patient *pts, size_t n_pts,
                                               double window_h, vigil_eval_lead_time *out,
                                               vigil_err *err)
{
    if (n_pts == 0 || pts == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "n", "lead_time: no patients");
    }
    if (!(isfinite(window_h) && window_h > 0.0)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "window_h",
                             "lead_time: window_h %g is not a finite number > 0", window_h);
    }
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "lead_time: out is NULL");
    }
    vigil_eval_lead_time r = {0};
    for (size_t k = 0; k < n_pts; k++) {
        vigil_status st = check_patient(&pts[k], k, err);
        if (st != VIGIL_OK) {
            return st;
        }
        r.n_event += pts[k].event;
    }
    if (r.n_event == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "event", "lead_time: no patient has an event");
    }
    double *lead = malloc(r.n_event * sizeof *lead);
    if (lead == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "lead_time: cannot allocate");
    }
    for (size_t k = 0; k < n_pts; k++) {
        const vigil_eval_patient *pt = &pts[k];
        if (!pt->event) {
            continue;
        }
        double from = pt->onset_h - window_h;
        for (size_t t = 0; t < pt->n_hours; t++) {
            double th = (double)t;
            if (th > pt->onset_h) {
                break;
            }
            if (pt->alert[t] && th >= from) {
                lead[r.n_alerted++] = pt->onset_h - th;
                break;
            }
        }
    }
    r.frac_alerted = (double)r.n_alerted / (double)r.n_event;
    r.has_lead = r.n_alerted > 0;
    if (r.has_lead) {
        qsort(lead, r.n_alerted, sizeof *lead, cmp_double);
        r.median_h = quantile_linear(lead, r.n_alerted, 0.5);
        r.q1_h = quantile_linear(lead, r.n_alerted, 0.25);
        r.q3_h = quantile_linear(lead, r.n_alerted, 0.75);
    }
    free(lead);
    *out = r;
    return VIGIL_OK;
}
