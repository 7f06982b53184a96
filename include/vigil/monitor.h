/*
 * vigil/monitor.h: the monitoring checks of issue 14 computed day by day
 * from a table of scored observation sets, the one computation shared by
 * the offline replay (`vigil monitor`) and the live server (`vigil serve`'s
 * monitor thread), so both give the same figures for the same rows:
 *  - input drift: per model input, the day's share of admission-days with a
 *    value outside the bundle's training range [p005, p995], on a p-chart
 *    against the baseline days (exact binomial limits, Laney's
 *    overdispersion as a design effect, Bonferroni across the inputs, a
 *    minimum of admissions measured);
 *  - alert rate: the day's share of admission-days with a scored set at or
 *    above the threshold, exact p-chart against the baseline days;
 *  - calibration: observed events against expected (sum of risk, rescaled by
 *    the baseline's O:E) over the last window days, exact compound-Poisson
 *    limits both ways with the baseline's admission-clustered design effect
 *    (a minimum of labelled admission-days);
 *  - discrimination: the AUROC over the last window days (reported, no
 *    alarm).
 * Definitions and the measured false-alarm counts: docs/eval.md ("Live
 * monitoring").
 *
 * Pure: no I/O, no globals, no threads; scratch memory is malloc'd and freed
 * before return. Reentrant. What it does not do: read a store or a data set
 * (the caller builds the rows), group rows by ward or subgroup (the caller
 * passes each group's rows), or decide when a set's outcome is known (the
 * caller's label).
 */
#ifndef VIGIL_MONITOR_H
#define VIGIL_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/status.h"

#define VIGIL_MONITOR_MAX_INPUTS 32
#define VIGIL_MONITOR_NAME_MAX 63

/* One watched input: its name and training range from the model bundle. */
typedef struct vigil_monitor_input {
    char name[VIGIL_MONITOR_NAME_MAX + 1];
    double lo, hi; /* training p005 and p995, in the input's unit */
} vigil_monitor_input;

typedef struct vigil_monitor_cfg {
    size_t n_inputs;
    vigil_monitor_input inputs[VIGIL_MONITOR_MAX_INPUTS];
    double threshold;     /* a set alerts when risk >= threshold */
    size_t baseline_days; /* days [0, baseline_days) set the reference; >= 2 */
    size_t window_days;   /* calibration and AUROC window, days (7) */
    size_t min_units;     /* an input-day with fewer admissions measured is not charted */
    bool auroc_last_day_only; /* the window AUROC of the last day only (the live monitor
                                 reports that day; every day costs a pass over the rows) */
} vigil_monitor_cfg;

/* The defaults: 14 baseline days, a 7-day window, 10 admissions measured. */
void vigil_monitor_cfg_defaults(vigil_monitor_cfg *cfg);

/*
 * The rows: one per scored observation set (an hour of a research stay),
 * column-wise, borrowed for the call. The rows of one admission (unit) are
 * contiguous and their days never decrease (VIGIL_ERR_ARG otherwise): an
 * admission's values on one day are one cluster, not independent trials.
 */
typedef struct vigil_monitor_rows {
    size_t n;
    const int32_t *day;  /* day index, 0 = the first baseline day; < n_days */
    const int64_t *unit; /* admission */
    const float *x;      /* n * n_inputs values, row-major; NaN = not measured */
    const double *risk;  /* the model's probability; NaN = not scored */
    const int8_t *label; /* 1 event, 0 none, -1 not known (yet) */
} vigil_monitor_rows;

typedef struct vigil_monitor_input_day {
    size_t n_units, n_out; /* admissions measured; of those, with a value out of range */
    double share, limit;   /* n_out / n_units and the upper control limit */
    bool charted;          /* n_units >= min_units */
    bool alarm;            /* charted, after the baseline, and share > limit */
} vigil_monitor_input_day;

typedef struct vigil_monitor_day {
    int32_t day;
    bool monitoring; /* day >= baseline_days: alarms are raised */
    vigil_monitor_input_day in[VIGIL_MONITOR_MAX_INPUTS];
    size_t n_input_alarms;
    size_t n_scored, n_alerts;              /* sets scored; at or above the threshold */
    double alert_rate;                      /* n_alerts / n_scored (0 when nothing was scored) */
    size_t n_units_scored, n_units_alerted; /* admission-days scored; with an alert */
    double unit_alert_rate, alert_limit;    /* the charted share and its upper limit */
    bool alert_alarm;
    /* the quiet-AI chart over the window (has_window): admission-days scored
     * and alerted, their share, its lower limit; an alarm when the AI alerts
     * far less than in the baseline (REQ MON-ALERT-LOW) */
    size_t w_units_scored, w_units_alerted;
    double w_alert_share, alert_low_limit;
    bool alert_low_charted, alert_low_alarm;
    bool has_window;             /* day + 1 >= window_days */
    size_t w_events, w_labelled; /* over the window's scored, labelled sets */
    double w_expected;           /* sum of risk, times the baseline's O:E */
    double oe;                   /* w_events / w_expected (0 when expected is 0) */
    double calib_lo, calib_hi;   /* control limits on w_events (event hours) */
    double calib_p;              /* the smaller exact tail probability of w_events */
    bool calib_charted;          /* enough labelled admission-days in the window */
    bool calib_alarm;            /* charted, after the baseline, outside the limits */
    double auroc; /* over the window; NaN when one class is missing */
} vigil_monitor_day;

/* The reference the baseline days set (filled by vigil_monitor_compute). */
typedef struct vigil_monitor_ref {
    double in_p0[VIGIL_MONITOR_MAX_INPUTS], in_sigma[VIGIL_MONITOR_MAX_INPUTS];
    double alpha_input; /* the per-input false-alarm rate a day (Bonferroni) */
    double alert_p0, alert_sigma;
    double alert_window_de; /* the quiet-AI chart's design effect (>= 1) */
    double oe_base;          /* the baseline's O:E, rescaling expected */
    double oe_design_effect; /* cluster-robust / Poisson variance of O - E (>= 1) */
    double oe_sigma;         /* sqrt(oe_design_effect) */
} vigil_monitor_ref;

/*
 * Compute days [0, n_days) into out_days (caller-owned, n_days entries) and
 * the reference into out_ref (may be NULL). n_days > cfg->baseline_days.
 * Returns VIGIL_ERR_ARG on a bad configuration or rows out of order,
 * VIGIL_ERR_NOMEM; on error the outputs are unchanged. Thread-safe.
 */
vigil_status vigil_monitor_compute(const vigil_monitor_cfg *cfg, const vigil_monitor_rows *rows,
                                   size_t n_days, vigil_monitor_day *out_days,
                                   vigil_monitor_ref *out_ref, vigil_err *err);

/*
 * The label of a stored set for the live monitor: 1 when the admission's
 * first outcome at or after the set (outcome_ms, -1 none) is within
 * horizon_ms of it; 0 when there is none and now_ms is at least delay_ms
 * past the end of the horizon (outcomes are coded late); -1 (not known yet)
 * otherwise. Times Unix ms.
 */
int8_t vigil_monitor_label(int64_t t_ms, int64_t outcome_ms, int64_t now_ms, int64_t horizon_ms,
                           int64_t delay_ms);

#endif
