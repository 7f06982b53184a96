/*
 * test_timeline.c: the patient timeline (include/vigil/features.h): hour
 * bins (h-1, h], per-measurement times, ordering and merging, refusals, the
 * live ward's observation events, and the documented NEWS2 mapping used by
 * the features (FiO2 / MechVent -> air or oxygen, GCS -> alert or not, the
 * 24-hour staleness limit, no consciousness -> incomplete).
 */
#include <math.h>
#include <string.h>

#include "vigil/features.h"
#include "vigil_test.h"

static vigil_timeline *new_tl(void)
{
    vigil_timeline *tl = NULL;
    assert_int_equal(vigil_timeline_new(&tl, NULL), VIGIL_OK);
    return tl;
}

static void add(vigil_timeline *tl, double t, vigil_var v, double x)
{
    vigil_err e = {0};
    vigil_status st = vigil_timeline_add(tl, t, v, x, &e);
    if (st != VIGIL_OK) {
        print_error("add %s at %g: %s\n", vigil_var_name(v), t, e.msg);
    }
    assert_int_equal(st, VIGIL_OK);
}

static void finish(vigil_timeline *tl)
{
    vigil_err e = {0};
    vigil_status st = vigil_timeline_finish(tl, &e);
    if (st != VIGIL_OK) {
        print_error("finish: %s\n", e.msg);
    }
    assert_int_equal(st, VIGIL_OK);
}

static void timeline_hours_hold_measurements_after_the_previous_hour_up_to_the_hour(void **state)
{
    (void)state;
    assert_int_equal(vigil_timeline_hour_of(0.0), 0);
    assert_int_equal(vigil_timeline_hour_of(0.01), 1);
    assert_int_equal(vigil_timeline_hour_of(1.0), 1);
    assert_int_equal(vigil_timeline_hour_of(1.0 + 1.0 / 60.0), 2);
    assert_int_equal(vigil_timeline_hour_of(47.0 + 59.0 / 60.0), 48);
    assert_int_equal(vigil_timeline_hour_of(-0.5), 0);
    assert_int_equal(vigil_timeline_hour_of(-1.5), -1);
}

static void timeline_latest_value_keeps_its_own_measurement_time(void **state)
{
    (void)state;
    vigil_timeline *tl = new_tl();
    add(tl, 0.5, VIGIL_VAR_HR, 70);
    add(tl, 1.0, VIGIL_VAR_HR, 75);
    add(tl, 2.25, VIGIL_VAR_HR, 80);
    finish(tl);
    double v = 0, t = 0;
    assert_int_equal(vigil_timeline_latest(tl, VIGIL_VAR_HR, 0, &v, &t), VIGIL_ERR_NOT_FOUND);
    assert_int_equal(vigil_timeline_latest(tl, VIGIL_VAR_HR, 1, &v, &t), VIGIL_OK);
    assert_true(v == 75 && t == 1.0);
    assert_int_equal(vigil_timeline_latest(tl, VIGIL_VAR_HR, 2, &v, &t), VIGIL_OK);
    assert_true(v == 75 && t == 1.0);
    assert_int_equal(vigil_timeline_latest(tl, VIGIL_VAR_HR, 3, &v, &t), VIGIL_OK);
    assert_true(v == 80 && t == 2.25);
    assert_int_equal(vigil_timeline_latest(tl, VIGIL_VAR_HR, 100, &v, &t), VIGIL_OK);
    assert_true(v == 80);
    assert_int_equal(vigil_timeline_latest(tl, VIGIL_VAR_SBP, 3, &v, &t), VIGIL_ERR_NOT_FOUND);
    assert_int_equal(vigil_timeline_count(tl, VIGIL_VAR_HR), 3);
    vigil_timeline_free(tl);
}

static void timeline_sorts_late_values_and_keeps_the_later_of_equal_times(void **state)
{
    (void)state;
    vigil_timeline *tl = new_tl();
    add(tl, 2.0, VIGIL_VAR_HR, 80);
    add(tl, 1.0, VIGIL_VAR_HR, 70); /* arrives late */
    add(tl, 2.0, VIGIL_VAR_HR, 85); /* corrects the value at 2.0 */
    add(tl, 3.0, VIGIL_VAR_HR, 90);
    add(tl, 3.0, VIGIL_VAR_HR, 91); /* same time, in order */
    finish(tl);
    assert_int_equal(vigil_timeline_count(tl, VIGIL_VAR_HR), 3);
    double v = 0, t = 0;
    assert_int_equal(vigil_timeline_latest(tl, VIGIL_VAR_HR, 1, &v, &t), VIGIL_OK);
    assert_true(v == 70);
    assert_int_equal(vigil_timeline_latest(tl, VIGIL_VAR_HR, 2, &v, &t), VIGIL_OK);
    assert_true(v == 85);
    assert_int_equal(vigil_timeline_latest(tl, VIGIL_VAR_HR, 3, &v, &t), VIGIL_OK);
    assert_true(v == 91);
    vigil_timeline_free(tl);
}

/* REQ VARS-PLAUSIBLE */
static void timeline_refuses_implausible_values_descriptors_and_bad_times(void **state)
{
    (void)state;
    vigil_timeline *tl = new_tl();
    vigil_err e = {0};
    assert_int_equal(vigil_timeline_add(tl, 1, VIGIL_VAR_TEMP, 50.0, &e), VIGIL_ERR_IMPLAUSIBLE);
    assert_string_equal(e.field, "temp");
    assert_int_equal(vigil_timeline_add(tl, 1, VIGIL_VAR_AGE, 50.0, NULL), VIGIL_ERR_ARG);
    assert_int_equal(vigil_timeline_add(tl, 1, VIGIL_VAR_COUNT, 50.0, NULL), VIGIL_ERR_ARG);
    assert_int_equal(vigil_timeline_add(tl, NAN, VIGIL_VAR_HR, 50.0, NULL), VIGIL_ERR_ARG);
    assert_int_equal(vigil_timeline_add(tl, 2e6, VIGIL_VAR_HR, 50.0, NULL), VIGIL_ERR_ARG);
    assert_int_equal(vigil_timeline_add_record(tl, INFINITY, NULL), VIGIL_ERR_ARG);
    assert_int_equal(vigil_timeline_set_patient(tl, 200.0, 1, NULL), VIGIL_ERR_IMPLAUSIBLE);
    assert_int_equal(vigil_timeline_set_patient(tl, 50.0, 3, NULL), VIGIL_ERR_ARG);
    assert_int_equal(vigil_timeline_set_patient(tl, NAN, -1, NULL), VIGIL_OK);
    /* FiO2 as a percentage is stored as a fraction */
    add(tl, 1, VIGIL_VAR_FIO2, 40.0);
    finish(tl);
    assert_int_equal(vigil_timeline_count(tl, VIGIL_VAR_TEMP), 0);
    assert_int_equal(vigil_timeline_count(tl, VIGIL_VAR_HR), 0);
    double v = 0;
    assert_int_equal(vigil_timeline_latest(tl, VIGIL_VAR_FIO2, 1, &v, NULL), VIGIL_OK);
    assert_true(fabs(v - 0.4) < 1e-15);
    /* a span longer than the limit is refused at finish */
    vigil_timeline_reset(tl);
    assert_int_equal(vigil_timeline_add_record(tl, -60000.0, NULL), VIGIL_OK);
    assert_int_equal(vigil_timeline_add_record(tl, 60000.0, NULL), VIGIL_OK);
    assert_int_equal(vigil_timeline_finish(tl, NULL), VIGIL_ERR_ARG);
    vigil_timeline_free(tl);
}

static void timeline_hours_run_from_the_first_to_the_last_record(void **state)
{
    (void)state;
    vigil_timeline *tl = new_tl();
    finish(tl);
    assert_int_equal(vigil_timeline_first_hour(tl), VIGIL_TIMELINE_NO_HOUR);
    assert_int_equal(vigil_timeline_last_hour(tl), VIGIL_TIMELINE_NO_HOUR);
    assert_true(isnan(vigil_timeline_first_t(tl)));
    assert_int_equal(vigil_timeline_add_record(tl, 5.5, NULL), VIGIL_OK);
    assert_int_equal(vigil_timeline_add_record(tl, 0.2, NULL), VIGIL_OK);
    add(tl, 9.0, VIGIL_VAR_HR, 70); /* a measurement is not a record */
    finish(tl);
    assert_int_equal(vigil_timeline_first_hour(tl), 1);
    assert_int_equal(vigil_timeline_last_hour(tl), 6);
    assert_true(vigil_timeline_first_t(tl) == 0.2);
    vigil_timeline_reset(tl);
    finish(tl);
    assert_int_equal(vigil_timeline_first_hour(tl), VIGIL_TIMELINE_NO_HOUR);
    assert_int_equal(vigil_timeline_count(tl, VIGIL_VAR_HR), 0);
    vigil_timeline_free(tl);
}

static vigil_news2 news2_at(const vigil_timeline *tl, long hour)
{
    vigil_news2 r;
    vigil_err e = {0};
    vigil_status st = vigil_timeline_news2(tl, hour, &r, &e);
    if (st != VIGIL_OK) {
        print_error("news2: %s\n", e.msg);
    }
    assert_int_equal(st, VIGIL_OK);
    return r;
}

static void timeline_ward_observation_set_is_scored_like_the_chart(void **state)
{
    (void)state;
    vigil_obs o;
    vigil_obs_init(&o);
    o.rr_bpm = 22;
    o.spo2_pct = 93;
    o.o2 = VIGIL_O2_OXYGEN;
    o.sbp_mmhg = 105;
    o.hr_bpm = 115;
    o.acvpu = VIGIL_ACVPU_V;
    o.temp_c = 38.5;
    vigil_news2 want;
    assert_int_equal(vigil_news2_score(&o, &want, NULL), VIGIL_OK);
    vigil_timeline *tl = new_tl();
    assert_int_equal(vigil_timeline_add_obs(tl, 3.5, &o, NULL), VIGIL_OK);
    finish(tl);
    vigil_news2 got = news2_at(tl, 4);
    assert_true(got.complete);
    assert_int_equal(got.total, want.total);
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        assert_int_equal(got.sub[p], want.sub[p]);
    }
    /* rr 2 + spo2 2 + o2 2 + sbp 1 + hr 2 + acvpu 3 + temp 1 = 13 */
    assert_int_equal(got.total, 13);
    assert_int_equal(vigil_timeline_first_hour(tl), 4);
    /* an invalid set adds nothing */
    vigil_obs bad = o;
    bad.rr_bpm = 100;
    vigil_err e = {0};
    assert_int_equal(vigil_timeline_add_obs(tl, 5.0, &bad, &e), VIGIL_ERR_IMPLAUSIBLE);
    finish(tl);
    assert_int_equal(vigil_timeline_count(tl, VIGIL_VAR_RESP), 1);
    assert_int_equal(vigil_timeline_count(tl, VIGIL_VAR_HR), 1);
    assert_int_equal(vigil_timeline_last_hour(tl), 4);
    vigil_timeline_free(tl);
}

/* REQ FEAT-NEWS2-MAP */
static void timeline_news2_reads_air_or_oxygen_from_fio2_and_ventilation(void **state)
{
    (void)state;
    vigil_timeline *tl = new_tl();
    add(tl, 1, VIGIL_VAR_FIO2, 0.21);
    add(tl, 2, VIGIL_VAR_FIO2, 0.4);
    add(tl, 3, VIGIL_VAR_FIO2, 0.21);
    add(tl, 3, VIGIL_VAR_MECHVENT, 1);
    finish(tl);
    vigil_news2 r = news2_at(tl, 0);
    assert_int_equal(r.sub[VIGIL_NEWS2_O2], VIGIL_NEWS2_SUB_MISSING); /* unknown */
    assert_true(r.missing & (1u << VIGIL_NEWS2_O2));
    r = news2_at(tl, 1);
    assert_int_equal(r.sub[VIGIL_NEWS2_O2], 0); /* FiO2 0.21: air */
    r = news2_at(tl, 2);
    assert_int_equal(r.sub[VIGIL_NEWS2_O2], 2); /* FiO2 0.4: oxygen */
    r = news2_at(tl, 3);
    assert_int_equal(r.sub[VIGIL_NEWS2_O2], 2); /* ventilated on 0.21: oxygen */
    /* an explicit ward air/oxygen value wins over both */
    add(tl, 4, VIGIL_VAR_ON_OXYGEN, 0);
    finish(tl);
    r = news2_at(tl, 4);
    assert_int_equal(r.sub[VIGIL_NEWS2_O2], 0);
    vigil_timeline_free(tl);
}

/* REQ FEAT-NEWS2-MAP */
static void timeline_news2_reads_alertness_from_gcs_and_never_imputes_it(void **state)
{
    (void)state;
    vigil_timeline *tl = new_tl();
    add(tl, 1, VIGIL_VAR_HR, 80);
    add(tl, 2, VIGIL_VAR_GCS, 15);
    add(tl, 3, VIGIL_VAR_GCS, 14);
    add(tl, 4, VIGIL_VAR_ACVPU, (double)VIGIL_ACVPU_A);
    finish(tl);
    vigil_news2 r = news2_at(tl, 1);
    /* 2019-like: no consciousness recorded -> missing, incomplete lower bound */
    assert_int_equal(r.sub[VIGIL_NEWS2_ACVPU], VIGIL_NEWS2_SUB_MISSING);
    assert_false(r.complete);
    assert_true(r.missing & (1u << VIGIL_NEWS2_ACVPU));
    assert_int_equal(r.total, 0);
    r = news2_at(tl, 2);
    assert_int_equal(r.sub[VIGIL_NEWS2_ACVPU], 0);
    r = news2_at(tl, 3);
    assert_int_equal(r.sub[VIGIL_NEWS2_ACVPU], 3);
    r = news2_at(tl, 4);
    assert_int_equal(r.sub[VIGIL_NEWS2_ACVPU], 0); /* ACVPU recorded wins over GCS */
    vigil_timeline_free(tl);
}

static void timeline_news2_ignores_values_older_than_24_hours(void **state)
{
    (void)state;
    vigil_timeline *tl = new_tl();
    add(tl, 1, VIGIL_VAR_HR, 135);
    add(tl, 1.5, VIGIL_VAR_TEMP, 39.5);
    finish(tl);
    vigil_news2 r = news2_at(tl, 24); /* measured 23 h before */
    assert_int_equal(r.sub[VIGIL_NEWS2_HR], 3);
    r = news2_at(tl, 25); /* 24 h before: too old */
    assert_int_equal(r.sub[VIGIL_NEWS2_HR], VIGIL_NEWS2_SUB_MISSING);
    assert_int_equal(r.sub[VIGIL_NEWS2_TEMP], 2); /* 23.5 h before */
    r = news2_at(tl, 26);
    assert_int_equal(r.sub[VIGIL_NEWS2_TEMP], VIGIL_NEWS2_SUB_MISSING);
    assert_int_equal(r.total, 0);
    vigil_timeline_free(tl);
}

static void timeline_must_be_finished_before_reading(void **state)
{
    (void)state;
    vigil_timeline *tl = new_tl();
    add(tl, 1, VIGIL_VAR_HR, 80);
    float out[VIGIL_FEATURES_COUNT];
    vigil_err e = {0};
    assert_int_equal(vigil_features_at(tl, 1, out, VIGIL_FEATURES_COUNT, &e), VIGIL_ERR_ARG);
    assert_non_null(strstr(e.msg, "finish"));
    double v;
    assert_int_equal(vigil_timeline_latest(tl, VIGIL_VAR_HR, 1, &v, NULL), VIGIL_ERR_ARG);
    vigil_news2 r;
    assert_int_equal(vigil_timeline_news2(tl, 1, &r, NULL), VIGIL_ERR_ARG);
    finish(tl);
    assert_int_equal(vigil_features_at(tl, 1, out, VIGIL_FEATURES_COUNT, NULL), VIGIL_OK);
    add(tl, 2, VIGIL_VAR_HR, 81); /* adding again un-finishes */
    assert_int_equal(vigil_features_at(tl, 2, out, VIGIL_FEATURES_COUNT, NULL), VIGIL_ERR_ARG);
    vigil_timeline_free(tl);
    vigil_timeline_free(NULL);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(timeline_hours_hold_measurements_after_the_previous_hour_up_to_the_hour),
    cmocka_unit_test(timeline_latest_value_keeps_its_own_measurement_time),
    cmocka_unit_test(timeline_sorts_late_values_and_keeps_the_later_of_equal_times),
    cmocka_unit_test(timeline_refuses_implausible_values_descriptors_and_bad_times),
    cmocka_unit_test(timeline_hours_run_from_the_first_to_the_last_record),
    cmocka_unit_test(timeline_ward_observation_set_is_scored_like_the_chart),
    cmocka_unit_test(timeline_news2_reads_air_or_oxygen_from_fio2_and_ventilation),
    cmocka_unit_test(timeline_news2_reads_alertness_from_gcs_and_never_imputes_it),
    cmocka_unit_test(timeline_news2_ignores_values_older_than_24_hours),
    cmocka_unit_test(timeline_must_be_finished_before_reading),
};

VIGIL_TEST_MAIN(tests)
