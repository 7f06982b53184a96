/*
 * test_validation.c: the validation report's figures (vigil/validation.h)
 * on hand-worked inputs: curve points, per-admission scores, Wilson
 * intervals, net benefit, operating points and alert-budget thresholds.
 */
#include "vigil_test.h"

#include <math.h>
#include <string.h>

#include "vigil/validation.h"

static void curves_walk_distinct_thresholds_from_high_to_low(void **state)
{
    (void)state;
    /* scores 0.9 (pos), 0.8 (neg), 0.7 (pos), 0.7 (neg), 0.1 (neg) */
    const double s[] = {0.9, 0.8, 0.7, 0.7, 0.1};
    const uint8_t y[] = {1, 0, 1, 0, 0};
    vigil_curve_pt roc[11], pr[11];
    size_t k = 0;
    assert_int_equal(vigil_validation_curves(s, y, 5, 10, roc, pr, &k, NULL), VIGIL_OK);
    assert_int_equal(k, 5); /* (0,0) then thresholds 0.9, 0.8, 0.7 (tie), 0.1 */
    assert_true(roc[0].x == 0.0 && roc[0].y == 0.0);
    assert_true(roc[1].thr == 0.9 && roc[1].x == 0.0 && roc[1].y == 0.5);
    assert_true(roc[2].thr == 0.8 && fabs(roc[2].x - 1.0 / 3.0) < 1e-15 && roc[2].y == 0.5);
    assert_true(roc[3].thr == 0.7 && fabs(roc[3].x - 2.0 / 3.0) < 1e-15 && roc[3].y == 1.0);
    assert_true(roc[4].x == 1.0 && roc[4].y == 1.0);
    /* precision at 0.7: 2 of 4 */
    assert_true(pr[3].x == 1.0 && pr[3].y == 0.5);
    assert_true(pr[1].x == 0.5 && pr[1].y == 1.0);
    assert_true(pr[0].x == pr[1].x && pr[0].y == pr[1].y);
}

static void curves_are_thinned_to_max_points_and_keep_the_end(void **state)
{
    (void)state;
    enum { N = 1000 };
    static double s[N];
    static uint8_t y[N];
    for (int i = 0; i < N; i++) {
        s[i] = (double)i / N;
        y[i] = (uint8_t)(i % 7 == 0);
    }
    vigil_curve_pt roc[21], pr[21];
    size_t k = 0;
    assert_int_equal(vigil_validation_curves(s, y, N, 20, roc, pr, &k, NULL), VIGIL_OK);
    assert_true(k <= 21 && k >= 10);
    assert_true(roc[k - 1].x == 1.0 && roc[k - 1].y == 1.0);
    for (size_t i = 1; i < k; i++) {
        assert_true(roc[i].x >= roc[i - 1].x && roc[i].y >= roc[i - 1].y);
    }
}

static void curves_of_one_class_are_refused(void **state)
{
    (void)state;
    const double s[] = {0.1, 0.2};
    const uint8_t y[] = {0, 0};
    vigil_curve_pt roc[4], pr[4];
    size_t k = 99;
    assert_int_equal(vigil_validation_curves(s, y, 2, 3, roc, pr, &k, NULL), VIGIL_ERR_ARG);
    assert_int_equal(k, 99);
}

static void wilson_interval_of_5_in_10_matches_the_formula(void **state)
{
    (void)state;
    double lo, hi;
    vigil_validation_wilson(5, 10, &lo, &hi);
    /* Wilson 1927, z = 1.959964: 0.2365931, 0.7634069 */
    assert_true(fabs(lo - 0.2365931) < 1e-6);
    assert_true(fabs(hi - 0.7634069) < 1e-6);
    vigil_validation_wilson(0, 20, &lo, &hi);
    assert_true(lo == 0.0 && fabs(hi - 0.1611251) < 1e-6);
}

static void net_benefit_counts_false_positives_at_the_threshold_odds(void **state)
{
    (void)state;
    const double p[] = {0.9, 0.6, 0.4, 0.1};
    const uint8_t y[] = {1, 0, 1, 0};
    double m = 0, a = 0;
    /* pt = 0.5: alerts 0.9, 0.6: TP 1, FP 1; NB = 1/4 - 1/4 * 1 = 0; all: 2/4 - 2/4 = 0 */
    assert_int_equal(vigil_validation_net_benefit(p, y, 4, 0.5, &m, &a, NULL), VIGIL_OK);
    assert_true(fabs(m) < 1e-15 && fabs(a) < 1e-15);
    /* pt = 0.2: alerts 0.9, 0.6, 0.4: TP 2, FP 1; NB = 2/4 - 1/4 * 0.25 = 0.4375 */
    assert_int_equal(vigil_validation_net_benefit(p, y, 4, 0.2, &m, &a, NULL), VIGIL_OK);
    assert_true(fabs(m - 0.4375) < 1e-15);
    assert_true(fabs(a - (0.5 - 0.5 * 0.25)) < 1e-15);
    assert_int_equal(vigil_validation_net_benefit(p, y, 4, 1.0, &m, &a, NULL), VIGIL_ERR_ARG);
}

/* Two stays of 4 hours: stay 0 septic with label 1 from row 2 (onset row 8
 * by the 2019 rule, set here by hand to 3), stay 1 without sepsis. */
static void two_stays(vigil_cohort *c, vigil_cohort_stay *st, uint8_t *label, int64_t *stay_of)
{
    memset(c, 0, sizeof *c);
    memset(st, 0, 2 * sizeof *st);
    c->format = VIGIL_DATA_PN2019;
    c->n_stays = 2;
    c->n_rows = 8;
    c->stays = st;
    c->label = label;
    c->stay_of = stay_of;
    st[0] = (vigil_cohort_stay){.row0 = 0, .n_rows = 4, .sepsis = true, .onset_row = 3};
    st[1] = (vigil_cohort_stay){.row0 = 4, .n_rows = 4, .sepsis = false, .onset_row = -1};
    const uint8_t l[8] = {0, 0, 1, 1, 0, 0, 0, 0};
    for (int i = 0; i < 8; i++) {
        label[i] = l[i];
        stay_of[i] = i / 4;
    }
}

static void per_admission_score_stops_at_the_first_positive_hour(void **state)
{
    (void)state;
    vigil_cohort c;
    vigil_cohort_stay st[2];
    uint8_t label[8];
    int64_t stay_of[8];
    two_stays(&c, st, label, stay_of);
    const double s[8] = {0.1, 0.2, 0.3, 0.9, 0.5, 0.4, 0.6, 0.2};
    double out[2];
    uint8_t y[2];
    assert_int_equal(vigil_validation_per_stay(&c, s, out, y, NULL), VIGIL_OK);
    assert_true(out[0] == 0.3 && y[0] == 1); /* 0.9 comes after the first label-1 row */
    assert_true(out[1] == 0.6 && y[1] == 0);
}

static void operating_point_counts_what_the_score_adds_over_news2(void **state)
{
    (void)state;
    vigil_cohort c;
    vigil_cohort_stay st[2];
    uint8_t label[8];
    int64_t stay_of[8];
    two_stays(&c, st, label, stay_of);
    const double s[8] = {0.1, 0.6, 0.7, 0.1, 0.6, 0.1, 0.6, 0.1};
    const double n2[8] = {1, 2, 3, 6, 7, 0, 0, 0};
    vigil_validation_op op;
    assert_int_equal(vigil_validation_operating(&c, s, n2, 0.5, 48.0, &op, NULL), VIGIL_OK);
    /* alerts rows 1, 2, 4, 6: episodes: stay 0 one (rows 1-2), stay 1 two (4, 6) */
    assert_int_equal(op.ar.episodes, 3);
    assert_true(fabs(op.alerts_per_100_pd - 100.0 * 3.0 / (8.0 / 24.0)) < 1e-9);
    assert_int_equal(op.cm.tp, 1); /* row 2 */
    assert_int_equal(op.cm.fp, 3);
    assert_true(op.has_nne && fabs(op.nne - 4.0) < 1e-12);
    /* NEWS2 >= 5 at rows 3 and 4; the score alerts at 1, 2, 6 with NEWS2 < 5 */
    assert_int_equal(op.added_hours, 3);
    /* stay 0: the score alerts in [onset-48, onset] at row 1; NEWS2 too (row 3): not added */
    assert_int_equal(op.added_event_stays, 0);
    assert_true(op.has_lead && op.lead.median_h == 2.0);
    const double n2_low[8] = {0};
    assert_int_equal(vigil_validation_operating(&c, s, n2_low, 0.5, 48.0, &op, NULL), VIGIL_OK);
    assert_int_equal(op.added_event_stays, 1);
}

static void budget_threshold_keeps_alerts_within_the_budget(void **state)
{
    (void)state;
    vigil_cohort c;
    vigil_cohort_stay st[2];
    uint8_t label[8];
    int64_t stay_of[8];
    two_stays(&c, st, label, stay_of);
    /* patient-days 1/3: one episode is 300 per 100 patient-days */
    const double s[8] = {0.1, 0.9, 0.2, 0.1, 0.8, 0.1, 0.3, 0.1};
    const double budget[3] = {100.0, 300.0, 650.0};
    double thr[3];
    bool found[3];
    assert_int_equal(vigil_validation_budget_thresholds(&c, s, budget, 3, thr, found, NULL),
                     VIGIL_OK);
    assert_false(found[0]); /* even 0.9 alone is 300 */
    assert_true(found[1] && thr[1] == 0.9);
    assert_true(found[2] && thr[2] == 0.8); /* 0.3 would make 3 episodes: 900 */
}

static void pchart_limit_is_binomial_widened_by_sigma_z(void **state)
{
    (void)state;
    double lim;
    bool alarm;
    /* p0 0.01, n 10000: sd 0.000995; z 3: limit 0.012985 */
    vigil_monitor_pchart(130, 10000, 0.01, 3.0, 1.0, &lim, &alarm);
    assert_true(fabs(lim - (0.01 + 3.0 * sqrt(0.01 * 0.99 / 10000.0))) < 1e-15);
    assert_true(alarm); /* 0.013 > 0.012985 */
    vigil_monitor_pchart(129, 10000, 0.01, 3.0, 1.0, &lim, &alarm);
    assert_false(alarm);
    vigil_monitor_pchart(130, 10000, 0.01, 3.0, 2.0, &lim, &alarm);
    assert_false(alarm); /* twice the spread */
    vigil_monitor_pchart(0, 0, 0.01, 3.0, 1.0, &lim, &alarm);
    assert_false(alarm);
}

static void laney_sigma_is_the_spread_of_standardised_rates_at_least_1(void **state)
{
    (void)state;
    /* identical days: no spread beyond the binomial: 1 */
    const size_t k1[3] = {10, 10, 10}, n[3] = {1000, 1000, 1000};
    assert_true(vigil_monitor_laney_sigma(k1, n, 3, 0.01) == 1.0);
    /* z = -3.178, +3.178, -3.178: moving range 6.356 / 1.128 = 5.635; SD 3.670 */
    const size_t k2[3] = {0, 20, 0};
    double z = 10.0 / sqrt(0.01 * 0.99 * 1000.0);
    assert_true(fabs(vigil_monitor_laney_sigma(k2, n, 3, 0.01) - 2.0 * z / 1.128) < 1e-9);
}

static void oe_alarms_in_both_directions_beyond_poisson_limits(void **state)
{
    (void)state;
    double oe;
    bool alarm;
    vigil_monitor_oe(131, 100.0, 3.0, 1.0, &oe, &alarm);
    assert_true(fabs(oe - 1.31) < 1e-15 && alarm);
    vigil_monitor_oe(130, 100.0, 3.0, 1.0, &oe, &alarm);
    assert_false(alarm);
    vigil_monitor_oe(69, 100.0, 3.0, 1.0, &oe, &alarm);
    assert_true(alarm);
    vigil_monitor_oe(5, 0.0, 3.0, 1.0, &oe, &alarm);
    assert_false(alarm);
    assert_true(fabs(vigil_monitor_z_upper(0.001) - VIGIL_MONITOR_Z) < 1e-9);
    assert_true(fabs(vigil_monitor_z_upper(0.025) - VIGIL_EVAL_Z975) < 1e-9);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(curves_walk_distinct_thresholds_from_high_to_low),
        cmocka_unit_test(curves_are_thinned_to_max_points_and_keep_the_end),
        cmocka_unit_test(curves_of_one_class_are_refused),
        cmocka_unit_test(wilson_interval_of_5_in_10_matches_the_formula),
        cmocka_unit_test(net_benefit_counts_false_positives_at_the_threshold_odds),
        cmocka_unit_test(per_admission_score_stops_at_the_first_positive_hour),
        cmocka_unit_test(operating_point_counts_what_the_score_adds_over_news2),
        cmocka_unit_test(budget_threshold_keeps_alerts_within_the_budget),
        cmocka_unit_test(pchart_limit_is_binomial_widened_by_sigma_z),
        cmocka_unit_test(laney_sigma_is_the_spread_of_standardised_rates_at_least_1),
        cmocka_unit_test(oe_alarms_in_both_directions_beyond_poisson_limits),
    };
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
