/*
 * test_checks.c: vigil_monitor_compute (vigil/monitor.h) on synthetic ward
 * days: admission-days (not hourly rows) are the charted units, a unit change
 * is alarmed on its first day and not before, a small day is not charted, a
 * doubling of the odds is alarmed within the window, rows out of order are
 * refused. The replay on hospital B: tests/cli/test_monitor.py.
 */
#include "vigil_test.h"

#include <math.h>
#include <string.h>

#include "vigil/monitor.h"
#include "vigil/validation.h"

#define DAYS 40
#define ADM 20 /* admissions a day, each for one day */
#define HOURS 24
#define N (DAYS * ADM * HOURS)

typedef struct ward {
    int32_t day[N];
    int64_t unit[N];
    float x[N];
    double risk[N];
    int8_t label[N];
    vigil_monitor_rows rows;
    vigil_monitor_cfg cfg;
    vigil_monitor_day days[DAYS];
} ward;

/* A fixed linear congruential sequence: the same ward every run. */
static double uniform(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

/* One temperature per admission-day, 2 in 100 out of the training range
 * [35, 39.5]; from drift_day on (>= 0) in Fahrenheit. Risk 2% to 20%, events
 * drawn from odds * the risk's odds from odds_day on (>= 0). */
static ward *ward_new(long drift_day, double odds, long odds_day)
{
    ward *w = calloc(1, sizeof *w);
    assert_non_null(w);
    uint64_t seed = 12345;
    for (size_t i = 0; i < N; i++) {
        size_t u = i / HOURS, d = u / ADM;
        w->day[i] = (int32_t)d;
        w->unit[i] = (int64_t)u;
        double t = (u * 37) % 100 < 2 ? 40.5 : 36.0 + 2.0 * uniform(&seed);
        w->x[i] = (float)(drift_day >= 0 && (long)d >= drift_day ? t * 1.8 + 32 : t);
        double p = 0.02 + 0.18 * (double)(u % 10) / 9.0,
               f = odds_day >= 0 && (long)d >= odds_day ? odds : 1.0;
        double po = p / (1 - p) * f;
        w->risk[i] = p;
        w->label[i] = (int8_t)(uniform(&seed) < po / (1 + po));
    }
    w->rows = (vigil_monitor_rows){
        .n = N, .day = w->day, .unit = w->unit, .x = w->x, .risk = w->risk, .label = w->label};
    vigil_monitor_cfg_defaults(&w->cfg);
    w->cfg.n_inputs = 1;
    snprintf(w->cfg.inputs[0].name, sizeof w->cfg.inputs[0].name, "temp_last");
    w->cfg.inputs[0].lo = 35.0;
    w->cfg.inputs[0].hi = 39.5;
    w->cfg.threshold = 0.15;
    return w;
}

static void admission_days_are_the_charted_units_not_hours(void **state)
{
    (void)state;
    ward *w = ward_new(-1, 1.0, -1);
    assert_int_equal(vigil_monitor_compute(&w->cfg, &w->rows, DAYS, w->days, NULL, NULL), VIGIL_OK);
    for (size_t d = 0; d < DAYS; d++) {
        assert_int_equal(w->days[d].in[0].n_units, ADM);
        assert_int_equal(w->days[d].n_scored, ADM * HOURS);
        assert_int_equal(w->days[d].n_units_scored, ADM);
    }
    free(w);
}

static void an_unchanged_ward_raises_no_alarm(void **state)
{
    (void)state;
    ward *w = ward_new(-1, 1.0, -1);
    assert_int_equal(vigil_monitor_compute(&w->cfg, &w->rows, DAYS, w->days, NULL, NULL), VIGIL_OK);
    for (size_t d = 0; d < DAYS; d++) {
        assert_false(w->days[d].in[0].alarm);
        assert_false(w->days[d].alert_alarm);
        assert_false(w->days[d].calib_alarm);
        assert_false(w->days[d].alert_low_alarm);
    }
    free(w);
}

/* REQ MON-ALERT-LOW: the model's odds halved from day 20 (its alerts stop:
 * false reassurance, no outcome needed to see it) are alarmed by the
 * quiet-AI chart within the 7-day window, never before; the upper
 * (too many alerts) chart stays quiet. */
static void an_ai_gone_quiet_is_alarmed_within_the_window(void **state)
{
    (void)state;
    ward *w = ward_new(-1, 1.0, -1);
    for (size_t i = 0; i < N; i++) {
        if (w->day[i] >= 20) {
            double po = w->risk[i] / (1.0 - w->risk[i]) * 0.5;
            w->risk[i] = po / (1.0 + po);
        }
    }
    assert_int_equal(vigil_monitor_compute(&w->cfg, &w->rows, DAYS, w->days, NULL, NULL), VIGIL_OK);
    long first = -1;
    for (size_t d = 0; d < DAYS; d++) {
        assert_false(w->days[d].alert_alarm);
        if (d < 20) {
            assert_false(w->days[d].alert_low_alarm);
        }
        if (first < 0 && w->days[d].alert_low_alarm) {
            first = (long)d;
            assert_true(w->days[d].w_alert_share < w->days[d].alert_low_limit);
            assert_int_equal(w->days[d].w_units_scored, 7 * ADM);
        }
    }
    print_message("quiet AI from day 20: first alarm on day %ld\n", first);
    assert_in_range(first, 20, 26);
    for (size_t d = (size_t)first; d < DAYS; d++) {
        assert_true(w->days[d].alert_low_alarm); /* and every day after */
    }
    free(w);
}

static void a_unit_change_is_alarmed_on_its_first_day_and_not_before(void **state)
{
    (void)state;
    ward *w = ward_new(20, 1.0, -1);
    assert_int_equal(vigil_monitor_compute(&w->cfg, &w->rows, DAYS, w->days, NULL, NULL), VIGIL_OK);
    for (size_t d = 0; d < DAYS; d++) {
        assert_int_equal(w->days[d].in[0].alarm, d >= 20);
    }
    free(w);
}

static void a_day_with_too_few_admissions_measured_is_not_charted(void **state)
{
    (void)state;
    ward *w = ward_new(20, 1.0, -1);
    /* day 25: only 9 admissions measured (all in Fahrenheit) */
    for (size_t i = 0; i < N; i++) {
        if (w->day[i] == 25 && w->unit[i] % ADM >= 9) {
            w->x[i] = NAN;
        }
    }
    assert_int_equal(vigil_monitor_compute(&w->cfg, &w->rows, DAYS, w->days, NULL, NULL), VIGIL_OK);
    assert_int_equal(w->days[25].in[0].n_units, 9);
    assert_false(w->days[25].in[0].charted);
    assert_false(w->days[25].in[0].alarm);
    assert_true(w->days[24].in[0].alarm);
    free(w);
}

static void three_of_sixteen_out_at_a_2pct_reference_is_not_an_alarm(void **state)
{
    (void)state;
    ward *w = ward_new(-1, 1.0, -1);
    /* day 30: 16 admissions measured, 3 of them out of range (the normal
     * approximation's false alarm at a 2% reference) */
    for (size_t i = 0; i < N; i++) {
        if (w->day[i] == 30) {
            size_t a = (size_t)w->unit[i] % ADM;
            w->x[i] = a >= 16 ? NAN : a < 3 ? 41.0f : 37.0f;
        }
    }
    vigil_monitor_ref ref;
    assert_int_equal(vigil_monitor_compute(&w->cfg, &w->rows, DAYS, w->days, &ref, NULL), VIGIL_OK);
    assert_int_equal(w->days[30].in[0].n_out, 3);
    assert_true(ref.in_p0[0] <= 0.05);
    assert_false(w->days[30].in[0].alarm);
    free(w);
}

static void doubled_odds_are_alarmed_within_the_window(void **state)
{
    (void)state;
    ward *w = ward_new(-1, 2.0, 20);
    assert_int_equal(vigil_monitor_compute(&w->cfg, &w->rows, DAYS, w->days, NULL, NULL), VIGIL_OK);
    long first = -1;
    for (size_t d = 0; d < DAYS && first < 0; d++) {
        first = w->days[d].calib_alarm ? (long)d : -1;
    }
    assert_true(first >= 20 && first < 27);
    assert_true(w->days[first].oe > 1.0);
    free(w);
}

/* A ward whose events come in runs: an admission is septic with chance q and
 * then every one of its 24 hours is an event, each hour predicted at q
 * (calibrated hour by hour). Event hours are then far from independent
 * trials: the design effect is 24 (1 - q), and the exact compound-Poisson
 * limit holds the unchanged ward, which a Poisson limit on hours does not. */
static ward *clustered_ward(double q)
{
    ward *w = ward_new(-1, 1.0, -1);
    uint64_t seed = 777;
    for (size_t u = 0; u < DAYS * ADM; u++) {
        int8_t y = (int8_t)(uniform(&seed) < q);
        for (size_t h = 0; h < HOURS; h++) {
            w->risk[u * HOURS + h] = q;
            w->label[u * HOURS + h] = y;
        }
    }
    return w;
}

static void clustered_event_hours_widen_the_calibration_limit_by_the_design_effect(void **state)
{
    (void)state;
    ward *w = clustered_ward(0.1);
    vigil_monitor_ref ref;
    assert_int_equal(vigil_monitor_compute(&w->cfg, &w->rows, DAYS, w->days, &ref, NULL), VIGIL_OK);
    /* 24 (1 - q) = 21.6 in expectation; 14 baseline days of 280 admissions */
    if (ref.oe_design_effect < 12.0 || ref.oe_design_effect > 32.0) {
        fail_msg("design effect %.2f, expected about 21.6", ref.oe_design_effect);
    }
    size_t poisson_alarms = 0;
    for (size_t d = w->cfg.baseline_days; d < DAYS; d++) {
        const vigil_monitor_day *o = &w->days[d];
        assert_true(o->calib_charted);
        assert_false(o->calib_alarm);
        assert_true(o->calib_lo <= (double)o->w_events && (double)o->w_events <= o->calib_hi);
        double oe = 0.0;
        bool alarm = false;
        vigil_monitor_oe(o->w_events, o->w_expected, VIGIL_MONITOR_Z, 1.0, &oe, &alarm);
        poisson_alarms += alarm;
    }
    assert_true(poisson_alarms > 0); /* the hour-Poisson limit would have alarmed */
    free(w);
}

static void a_window_with_too_few_labelled_admissions_is_not_charted(void **state)
{
    (void)state;
    ward *w = ward_new(-1, 2.0, 20);
    /* days 20 to 39: only the first 1 admission a day has its outcome known */
    for (size_t i = 0; i < N; i++) {
        if (w->day[i] >= 20 && w->unit[i] % ADM >= 1) {
            w->label[i] = -1;
        }
    }
    assert_int_equal(vigil_monitor_compute(&w->cfg, &w->rows, DAYS, w->days, NULL, NULL), VIGIL_OK);
    for (size_t d = 27; d < DAYS; d++) { /* 7 labelled admission-days a window: under 10 */
        assert_false(w->days[d].calib_charted);
        assert_false(w->days[d].calib_alarm);
    }
    free(w);
}

static void the_window_auroc_can_be_asked_of_the_last_day_only(void **state)
{
    (void)state;
    ward *w = ward_new(-1, 1.0, -1);
    assert_int_equal(vigil_monitor_compute(&w->cfg, &w->rows, DAYS, w->days, NULL, NULL), VIGIL_OK);
    double every = w->days[DAYS - 1].auroc;
    assert_false(isnan(w->days[DAYS - 2].auroc));
    w->cfg.auroc_last_day_only = true;
    assert_int_equal(vigil_monitor_compute(&w->cfg, &w->rows, DAYS, w->days, NULL, NULL), VIGIL_OK);
    assert_true(isnan(w->days[DAYS - 2].auroc));
    assert_true(w->days[DAYS - 1].auroc == every);
    free(w);
}

static void an_admission_going_back_a_day_is_refused(void **state)
{
    (void)state;
    ward *w = ward_new(-1, 1.0, -1);
    w->day[HOURS - 1] = 0;
    w->day[HOURS - 2] = 1;
    vigil_err err = {0};
    w->days[0].day = 77;
    assert_int_equal(vigil_monitor_compute(&w->cfg, &w->rows, DAYS, w->days, NULL, &err),
                     VIGIL_ERR_ARG);
    assert_int_equal(w->days[0].day, 77); /* outputs unchanged */
    free(w);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(admission_days_are_the_charted_units_not_hours),
        cmocka_unit_test(an_unchanged_ward_raises_no_alarm),
        cmocka_unit_test(an_ai_gone_quiet_is_alarmed_within_the_window),
        cmocka_unit_test(a_unit_change_is_alarmed_on_its_first_day_and_not_before),
        cmocka_unit_test(a_day_with_too_few_admissions_measured_is_not_charted),
        cmocka_unit_test(three_of_sixteen_out_at_a_2pct_reference_is_not_an_alarm),
        cmocka_unit_test(doubled_odds_are_alarmed_within_the_window),
        cmocka_unit_test(clustered_event_hours_widen_the_calibration_limit_by_the_design_effect),
        cmocka_unit_test(a_window_with_too_few_labelled_admissions_is_not_charted),
        cmocka_unit_test(the_window_auroc_can_be_asked_of_the_last_day_only),
        cmocka_unit_test(an_admission_going_back_a_day_is_refused),
    };
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
