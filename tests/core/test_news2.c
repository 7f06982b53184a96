/*
 * test_news2.c: NEWS2 against the RCP chart (NEWS2, December 2017, Chart 1,
 * 2 and 4). Every expected value here was read off the chart by hand: each
 * band edge of each parameter from both sides, both SpO2 scales on air and
 * on oxygen, the rounding convention, precedence, incomplete and implausible
 * sets.
 */
#include <math.h>
#include <string.h>

#include "vigil/news2.h"
#include "vigil_test.h"

typedef struct {
    double v;
    int points;
} band_case;

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void normal_obs(vigil_obs *o)
{
    /* every parameter present and scoring 0 */
    vigil_obs_init(o);
    o->rr_bpm = 16;
    o->spo2_pct = 98;
    o->o2 = VIGIL_O2_AIR;
    o->sbp_mmhg = 120;
    o->hr_bpm = 70;
    o->acvpu = VIGIL_ACVPU_A;
    o->temp_c = 37.0;
}

static vigil_news2 score_ok(const vigil_obs *o)
{
    vigil_news2 r;
    vigil_err e = {0};
    vigil_status st = vigil_news2_score(o, &r, &e);
    if (st != VIGIL_OK) {
        print_error("unexpected error: %s (%s)\n", e.msg, e.field);
    }
    assert_int_equal(st, VIGIL_OK);
    return r;
}

/* REQ NEWS2-RR */
static void news2_rr_band_edges_score_as_chart(void **state)
{
    (void)state;
    static const band_case cases[] = {
        {0, 3}, {8, 3}, {9, 1}, {11, 1}, {12, 0}, {20, 0}, {21, 2}, {24, 2}, {25, 3}, {60, 3},
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        vigil_obs o;
        normal_obs(&o);
        o.rr_bpm = cases[i].v;
        vigil_news2 r = score_ok(&o);
        if (r.sub[VIGIL_NEWS2_RR] != cases[i].points) {
            print_error("rr %g\n", cases[i].v);
        }
        assert_int_equal(r.sub[VIGIL_NEWS2_RR], cases[i].points);
        assert_int_equal(r.total, cases[i].points);
    }
}

static void news2_rr_25_scores_3(void **state)
{
    (void)state;
    assert_int_equal(vigil_news2_rr_points(25), 3);
    assert_int_equal(vigil_news2_rr_points(24), 2);
}

/* REQ NEWS2-SPO2-S1 */
static void news2_spo2_scale1_band_edges_score_as_chart(void **state)
{
    (void)state;
    static const band_case cases[] = {
        {20, 3}, {91, 3}, {92, 2}, {93, 2}, {94, 1}, {95, 1}, {96, 0}, {100, 0},
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        for (int o2 = VIGIL_O2_AIR; o2 <= VIGIL_O2_OXYGEN; o2++) {
            vigil_obs o;
            normal_obs(&o);
            o.spo2_pct = cases[i].v;
            o.o2 = (vigil_o2)o2;
            vigil_news2 r = score_ok(&o);
            if (r.sub[VIGIL_NEWS2_SPO2] != cases[i].points) {
                print_error("spo2 %g o2 %d\n", cases[i].v, o2);
            }
            assert_int_equal(r.sub[VIGIL_NEWS2_SPO2], cases[i].points);
            /* REQ NEWS2-O2: the oxygen points add on Scale 1 too */
            assert_int_equal(r.total, cases[i].points + (o2 == VIGIL_O2_OXYGEN ? 2 : 0));
        }
    }
}

/* REQ NEWS2-SPO2-S2 REQ NEWS2-SPO2-S2-AIR */
static void news2_spo2_scale2_on_air_scores_as_chart(void **state)
{
    (void)state;
    static const band_case cases[] = {
        {20, 3}, {83, 3}, {84, 2}, {85, 2}, {86, 1}, {87, 1}, {88, 0},
        {92, 0}, {93, 0}, {94, 0}, {95, 0}, {96, 0}, {97, 0}, {100, 0},
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        vigil_obs o;
        normal_obs(&o);
        o.spo2_scale = 2;
        o.spo2_pct = cases[i].v;
        o.o2 = VIGIL_O2_AIR;
        vigil_news2 r = score_ok(&o);
        if (r.sub[VIGIL_NEWS2_SPO2] != cases[i].points) {
            print_error("scale 2 air spo2 %g\n", cases[i].v);
        }
        assert_int_equal(r.sub[VIGIL_NEWS2_SPO2], cases[i].points);
        assert_int_equal(r.sub[VIGIL_NEWS2_O2], 0);
        assert_int_equal(r.total, cases[i].points);
        assert_true(r.flags & VIGIL_NEWS2_FLAG_SCALE_2);
        assert_int_equal(r.spo2_scale, 2);
    }
}

/* REQ NEWS2-SPO2-S2 REQ NEWS2-SPO2-S2-OXYGEN */
static void news2_spo2_scale2_on_oxygen_scores_as_chart(void **state)
{
    (void)state;
    static const band_case cases[] = {
        {20, 3}, {83, 3}, {84, 2}, {85, 2}, {86, 1}, {87, 1}, {88, 0},
        {92, 0}, {93, 1}, {94, 1}, {95, 2}, {96, 2}, {97, 3}, {100, 3},
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        vigil_obs o;
        normal_obs(&o);
        o.spo2_scale = 2;
        o.spo2_pct = cases[i].v;
        o.o2 = VIGIL_O2_OXYGEN;
        vigil_news2 r = score_ok(&o);
        if (r.sub[VIGIL_NEWS2_SPO2] != cases[i].points) {
            print_error("scale 2 oxygen spo2 %g\n", cases[i].v);
        }
        assert_int_equal(r.sub[VIGIL_NEWS2_SPO2], cases[i].points);
        assert_int_equal(r.sub[VIGIL_NEWS2_O2], 2);
        assert_int_equal(r.total, cases[i].points + 2);
    }
}

static void news2_scale2_97_on_oxygen_is_single_param_3(void **state)
{
    (void)state;
    vigil_obs o;
    normal_obs(&o);
    o.spo2_scale = 2;
    o.spo2_pct = 97;
    o.o2 = VIGIL_O2_OXYGEN;
    vigil_news2 r = score_ok(&o);
    assert_int_equal(r.total, 5);
    assert_true(r.single_param_3);
    assert_int_equal(r.risk, VIGIL_RISK_MEDIUM);
}

/* REQ NEWS2-SCALE2-EXPLICIT */
static void news2_scale1_is_default_and_scale2_only_when_chosen(void **state)
{
    (void)state;
    vigil_obs o;
    vigil_obs_init(&o);
    assert_int_equal(o.spo2_scale, 1);
    normal_obs(&o);
    o.spo2_pct = 89; /* scores 3 on Scale 1, 0 on Scale 2 */
    vigil_news2 r = score_ok(&o);
    assert_int_equal(r.sub[VIGIL_NEWS2_SPO2], 3);
    assert_false(r.flags & VIGIL_NEWS2_FLAG_SCALE_2);
    o.spo2_scale = 2;
    r = score_ok(&o);
    assert_int_equal(r.sub[VIGIL_NEWS2_SPO2], 0);
    o.spo2_scale = 3;
    vigil_err e = {0};
    assert_int_equal(vigil_news2_score(&o, &r, &e), VIGIL_ERR_ARG);
    assert_string_equal(e.field, "scale");
}

/* REQ NEWS2-O2 */
static void news2_oxygen_scores_2_and_air_0(void **state)
{
    (void)state;
    assert_int_equal(vigil_news2_o2_points(VIGIL_O2_OXYGEN), 2);
    assert_int_equal(vigil_news2_o2_points(VIGIL_O2_AIR), 0);
    vigil_obs o;
    normal_obs(&o);
    o.o2 = VIGIL_O2_OXYGEN;
    vigil_news2 r = score_ok(&o);
    assert_int_equal(r.sub[VIGIL_NEWS2_O2], 2);
    assert_int_equal(r.total, 2);
    assert_int_equal(r.risk, VIGIL_RISK_LOW);
}

/* REQ NEWS2-SBP */
static void news2_sbp_band_edges_score_as_chart(void **state)
{
    (void)state;
    static const band_case cases[] = {
        {30, 3},  {90, 3},  {91, 2},  {100, 2}, {101, 1},
        {110, 1}, {111, 0}, {219, 0}, {220, 3}, {300, 3},
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        vigil_obs o;
        normal_obs(&o);
        o.sbp_mmhg = cases[i].v;
        vigil_news2 r = score_ok(&o);
        if (r.sub[VIGIL_NEWS2_SBP] != cases[i].points) {
            print_error("sbp %g\n", cases[i].v);
        }
        assert_int_equal(r.sub[VIGIL_NEWS2_SBP], cases[i].points);
    }
}

/* REQ NEWS2-HR */
static void news2_pulse_band_edges_score_as_chart(void **state)
{
    (void)state;
    static const band_case cases[] = {
        {10, 3}, {40, 3},  {41, 1},  {50, 1},  {51, 0},  {90, 0},
        {91, 1}, {110, 1}, {111, 2}, {130, 2}, {131, 3}, {300, 3},
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        vigil_obs o;
        normal_obs(&o);
        o.hr_bpm = cases[i].v;
        vigil_news2 r = score_ok(&o);
        if (r.sub[VIGIL_NEWS2_HR] != cases[i].points) {
            print_error("hr %g\n", cases[i].v);
        }
        assert_int_equal(r.sub[VIGIL_NEWS2_HR], cases[i].points);
    }
}

/* REQ NEWS2-ACVPU */
static void news2_alert_scores_0_and_cvpu_score_3(void **state)
{
    (void)state;
    static const struct {
        vigil_acvpu a;
        int points;
    } cases[] = {
        {VIGIL_ACVPU_A, 0}, {VIGIL_ACVPU_C, 3}, {VIGIL_ACVPU_V, 3},
        {VIGIL_ACVPU_P, 3}, {VIGIL_ACVPU_U, 3},
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        vigil_obs o;
        normal_obs(&o);
        o.acvpu = cases[i].a;
        vigil_news2 r = score_ok(&o);
        assert_int_equal(r.sub[VIGIL_NEWS2_ACVPU], cases[i].points);
        assert_int_equal(r.single_param_3, cases[i].points == 3);
    }
}

/* REQ NEWS2-TEMP */
static void news2_temperature_band_edges_score_as_chart(void **state)
{
    (void)state;
    static const band_case cases[] = {
        {25.0, 3}, {35.0, 3}, {35.1, 1}, {36.0, 1}, {36.1, 0},
        {38.0, 0}, {38.1, 1}, {39.0, 1}, {39.1, 2}, {45.0, 2},
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        vigil_obs o;
        normal_obs(&o);
        o.temp_c = cases[i].v;
        vigil_news2 r = score_ok(&o);
        if (r.sub[VIGIL_NEWS2_TEMP] != cases[i].points) {
            print_error("temp %g\n", cases[i].v);
        }
        assert_int_equal(r.sub[VIGIL_NEWS2_TEMP], cases[i].points);
    }
}

/* REQ NEWS2-ROUNDING */
static void news2_temperature_rounds_half_up_to_one_decimal(void **state)
{
    (void)state;
    static const band_case cases[] = {
        {38.04, 0}, {38.05, 1}, {38.049, 0}, {35.04, 3}, {35.05, 1},
        {36.04, 1}, {36.05, 0}, {39.04, 1},  {39.05, 2}, {35.149, 1},
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        if (vigil_news2_temp_points(cases[i].v) != cases[i].points) {
            print_error("temp %g\n", cases[i].v);
        }
        assert_int_equal(vigil_news2_temp_points(cases[i].v), cases[i].points);
    }
    assert_int_equal(vigil_news2_round_tenths(38.05), 381);
    assert_int_equal(vigil_news2_round_tenths(38.04), 380);
}

/* REQ NEWS2-ROUNDING */
static void news2_integer_vitals_round_half_up(void **state)
{
    (void)state;
    assert_int_equal(vigil_news2_rr_points(20.4), 0);
    assert_int_equal(vigil_news2_rr_points(20.5), 2);
    assert_int_equal(vigil_news2_rr_points(8.49), 3);
    assert_int_equal(vigil_news2_rr_points(8.5), 1);
    assert_int_equal(vigil_news2_spo2_points(95.5, 1, VIGIL_O2_AIR), 0);
    assert_int_equal(vigil_news2_spo2_points(95.4, 1, VIGIL_O2_AIR), 1);
    assert_int_equal(vigil_news2_sbp_points(90.5), 2);
    assert_int_equal(vigil_news2_sbp_points(219.5), 3);
    assert_int_equal(vigil_news2_hr_points(90.5), 1);
    assert_int_equal(vigil_news2_hr_points(130.49), 2);
    assert_int_equal(vigil_news2_round_int(2.5), 3);
}

/* REQ NEWS2-RISK */
static void news2_totals_map_to_risk_monitoring_and_response(void **state)
{
    (void)state;
    /* build totals 0..7 from parameters that never score 3 */
    static const struct {
        double rr, hr;
        vigil_o2 o2;
        int total;
        vigil_news2_risk risk;
        vigil_news2_monitoring mon;
        vigil_news2_response resp;
    } cases[] = {
        {16, 70, VIGIL_O2_AIR, 0, VIGIL_RISK_LOW, VIGIL_MON_12_HOURLY, VIGIL_RESP_ROUTINE},
        {10, 70, VIGIL_O2_AIR, 1, VIGIL_RISK_LOW, VIGIL_MON_4_6_HOURLY, VIGIL_RESP_NURSE_ASSESS},
        {22, 70, VIGIL_O2_AIR, 2, VIGIL_RISK_LOW, VIGIL_MON_4_6_HOURLY, VIGIL_RESP_NURSE_ASSESS},
        {22, 100, VIGIL_O2_AIR, 3, VIGIL_RISK_LOW, VIGIL_MON_4_6_HOURLY, VIGIL_RESP_NURSE_ASSESS},
        {22, 120, VIGIL_O2_AIR, 4, VIGIL_RISK_LOW, VIGIL_MON_4_6_HOURLY, VIGIL_RESP_NURSE_ASSESS},
        {22, 100, VIGIL_O2_OXYGEN, 5, VIGIL_RISK_MEDIUM, VIGIL_MON_HOURLY, VIGIL_RESP_URGENT},
        {22, 120, VIGIL_O2_OXYGEN, 6, VIGIL_RISK_MEDIUM, VIGIL_MON_HOURLY, VIGIL_RESP_URGENT},
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        vigil_obs o;
        normal_obs(&o);
        o.rr_bpm = cases[i].rr;
        o.hr_bpm = cases[i].hr;
        o.o2 = cases[i].o2;
        vigil_news2 r = score_ok(&o);
        assert_int_equal(r.total, cases[i].total);
        assert_false(r.single_param_3);
        assert_int_equal(r.risk, cases[i].risk);
        assert_int_equal(r.monitoring, cases[i].mon);
        assert_int_equal(r.response, cases[i].resp);
    }
    vigil_obs o;
    normal_obs(&o);
    o.rr_bpm = 22;          /* 2 */
    o.hr_bpm = 120;         /* 2 */
    o.o2 = VIGIL_O2_OXYGEN; /* 2 */
    o.temp_c = 38.5;        /* 1 */
    vigil_news2 r = score_ok(&o);
    assert_int_equal(r.total, 7);
    assert_int_equal(r.risk, VIGIL_RISK_HIGH);
    assert_int_equal(r.monitoring, VIGIL_MON_CONTINUOUS);
    assert_int_equal(r.response, VIGIL_RESP_EMERGENCY);
}

/* REQ NEWS2-PRECEDENCE */
static void news2_single_3_with_total_under_5_is_low_medium(void **state)
{
    (void)state;
    vigil_obs o;
    normal_obs(&o);
    o.rr_bpm = 25;   /* 3 */
    o.temp_c = 38.5; /* 1 */
    vigil_news2 r = score_ok(&o);
    assert_int_equal(r.total, 4);
    assert_true(r.single_param_3);
    assert_int_equal(r.risk, VIGIL_RISK_LOW_MEDIUM);
    assert_int_equal(r.monitoring, VIGIL_MON_HOURLY);
    assert_int_equal(r.response, VIGIL_RESP_URGENT_WARD);
    assert_string_equal(vigil_news2_risk_name(r.risk), "low-medium");
}

/* REQ NEWS2-PRECEDENCE */
static void news2_single_3_with_total_5_is_medium_not_low_medium(void **state)
{
    (void)state;
    vigil_obs o;
    normal_obs(&o);
    o.rr_bpm = 25;  /* 3 */
    o.hr_bpm = 115; /* 2 */
    vigil_news2 r = score_ok(&o);
    assert_int_equal(r.total, 5);
    assert_true(r.single_param_3);
    assert_int_equal(r.risk, VIGIL_RISK_MEDIUM);
    assert_int_equal(r.response, VIGIL_RESP_URGENT);
    o.hr_bpm = 135;  /* 3 */
    o.temp_c = 38.5; /* 1 */
    r = score_ok(&o);
    assert_int_equal(r.total, 7);
    assert_int_equal(r.risk, VIGIL_RISK_HIGH);
}

static void news2_maximum_total_is_20(void **state)
{
    (void)state;
    vigil_obs o;
    vigil_obs_init(&o);
    o.rr_bpm = 30;
    o.spo2_pct = 85;
    o.o2 = VIGIL_O2_OXYGEN;
    o.sbp_mmhg = 80;
    o.hr_bpm = 140;
    o.acvpu = VIGIL_ACVPU_U;
    o.temp_c = 34.0;
    vigil_news2 r = score_ok(&o);
    /* temperature's worst is 3 (low), so 3+3+2+3+3+3+3 = 20 */
    assert_int_equal(r.total, 20);
    assert_true(r.complete);
}

/* REQ NEWS2-INCOMPLETE */
static void news2_missing_parameters_make_set_incomplete_with_lower_bound(void **state)
{
    (void)state;
    vigil_obs o;
    normal_obs(&o);
    o.rr_bpm = 22; /* 2 */
    o.sbp_mmhg = NAN;
    o.acvpu = VIGIL_ACVPU_UNKNOWN;
    vigil_news2 r = score_ok(&o);
    assert_false(r.complete);
    assert_int_equal(r.total, 2);
    assert_int_equal(r.missing, (1u << VIGIL_NEWS2_SBP) | (1u << VIGIL_NEWS2_ACVPU));
    assert_int_equal(r.sub[VIGIL_NEWS2_SBP], VIGIL_NEWS2_SUB_MISSING);
    assert_int_equal(r.sub[VIGIL_NEWS2_ACVPU], VIGIL_NEWS2_SUB_MISSING);
    assert_int_equal(r.sub[VIGIL_NEWS2_RR], 2);
}

/* REQ NEWS2-INCOMPLETE */
static void news2_empty_set_is_incomplete_with_all_seven_missing(void **state)
{
    (void)state;
    vigil_obs o;
    vigil_obs_init(&o);
    vigil_news2 r = score_ok(&o);
    assert_false(r.complete);
    assert_int_equal(r.total, 0);
    assert_int_equal(r.missing, (1u << VIGIL_NEWS2_PARAM_COUNT) - 1u);
}

/* REQ NEWS2-INCOMPLETE */
static void news2_incomplete_set_with_a_3_still_triggers_low_medium(void **state)
{
    (void)state;
    vigil_obs o;
    vigil_obs_init(&o);
    o.rr_bpm = 6;
    vigil_news2 r = score_ok(&o);
    assert_false(r.complete);
    assert_int_equal(r.total, 3);
    assert_int_equal(r.risk, VIGIL_RISK_LOW_MEDIUM);
}

/* REQ NEWS2-SPO2-S2 with o2 unknown */
static void news2_scale2_high_spo2_without_o2_is_flagged_lower_bound(void **state)
{
    (void)state;
    vigil_obs o;
    normal_obs(&o);
    o.spo2_scale = 2;
    o.spo2_pct = 97;
    o.o2 = VIGIL_O2_UNKNOWN;
    vigil_news2 r = score_ok(&o);
    assert_false(r.complete);
    assert_int_equal(r.sub[VIGIL_NEWS2_SPO2], 0);
    assert_true(r.flags & VIGIL_NEWS2_FLAG_SPO2_SCALE2_O2_UNKNOWN);
}

/* REQ NEWS2-PLAUSIBLE */
static void news2_implausible_values_are_refused_naming_field(void **state)
{
    (void)state;
    static const struct {
        const char *field;
        double v;
    } cases[] = {
        {"rr", -1},   {"rr", 80.5}, {"spo2", 19.9},     {"spo2", 100.1},   {"sbp", 29},
        {"sbp", 301}, {"hr", 9},    {"hr", 301},        {"temp_c", 24.9},  {"temp_c", 45.1},
        {"age", -1},  {"age", 131}, {"spo2", INFINITY}, {"hr", -INFINITY},
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        vigil_obs o;
        normal_obs(&o);
        const char *f = cases[i].field;
        double *slot = strcmp(f, "rr") == 0     ? &o.rr_bpm
                       : strcmp(f, "spo2") == 0 ? &o.spo2_pct
                       : strcmp(f, "sbp") == 0  ? &o.sbp_mmhg
                       : strcmp(f, "hr") == 0   ? &o.hr_bpm
                       : strcmp(f, "age") == 0  ? &o.age_y
                                                : &o.temp_c;
        *slot = cases[i].v;
        vigil_news2 r;
        memset(&r, 0x5a, sizeof r);
        vigil_news2 before = r;
        vigil_err e = {0};
        assert_int_equal(vigil_news2_score(&o, &r, &e), VIGIL_ERR_IMPLAUSIBLE);
        assert_string_equal(e.field, f);
        assert_non_null(strstr(e.msg, f));
        /* on error the output is unchanged */
        assert_memory_equal(&r, &before, sizeof r);
    }
}

/* REQ NEWS2-PLAUSIBLE */
static void news2_plausible_bounds_themselves_are_accepted(void **state)
{
    (void)state;
    vigil_obs o;
    normal_obs(&o);
    o.rr_bpm = VIGIL_RR_MAX;
    o.spo2_pct = VIGIL_SPO2_MIN;
    o.sbp_mmhg = VIGIL_SBP_MAX;
    o.hr_bpm = VIGIL_HR_MIN;
    o.temp_c = VIGIL_TEMP_MAX;
    o.age_y = VIGIL_AGE_MAX;
    vigil_news2 r = score_ok(&o);
    assert_true(r.complete);
}

/* REQ NEWS2-SPO2-NEAR */
static void news2_spo2_within_2_points_of_a_band_edge_is_flagged(void **state)
{
    (void)state;
    /* Scale 1 edges are 91|92, 93|94, 95|96: 90..97 are within 2 points */
    for (int s = 85; s <= 100; s++) {
        vigil_obs o;
        normal_obs(&o);
        o.spo2_pct = s;
        vigil_news2 r = score_ok(&o);
        bool near = (r.flags & VIGIL_NEWS2_FLAG_SPO2_NEAR_THRESHOLD) != 0;
        bool want = s >= 90 && s <= 97;
        if (near != want) {
            print_error("spo2 %d near=%d\n", s, near);
        }
        assert_int_equal(near, want);
    }
    /* the equity case: 94 on Scale 1 is 3 points from the red band */
    vigil_obs o;
    normal_obs(&o);
    o.spo2_pct = 94;
    assert_true(score_ok(&o).flags & VIGIL_NEWS2_FLAG_SPO2_NEAR_THRESHOLD);
    /* Scale 2 on air: edges 83|84, 85|86, 87|88 -> 82..89 near; 93 on air is not */
    o.spo2_scale = 2;
    o.spo2_pct = 89;
    assert_true(score_ok(&o).flags & VIGIL_NEWS2_FLAG_SPO2_NEAR_THRESHOLD);
    o.spo2_pct = 90;
    assert_false(score_ok(&o).flags & VIGIL_NEWS2_FLAG_SPO2_NEAR_THRESHOLD);
    o.spo2_pct = 95;
    assert_false(score_ok(&o).flags & VIGIL_NEWS2_FLAG_SPO2_NEAR_THRESHOLD);
    /* Scale 2 on oxygen: 91 is near the 92|93 edge */
    o.o2 = VIGIL_O2_OXYGEN;
    o.spo2_pct = 91;
    assert_true(score_ok(&o).flags & VIGIL_NEWS2_FLAG_SPO2_NEAR_THRESHOLD);
    o.spo2_pct = 90;
    assert_false(score_ok(&o).flags & VIGIL_NEWS2_FLAG_SPO2_NEAR_THRESHOLD);
}

/* REQ NEWS2-SCOPE */
static void news2_under_16_and_pregnancy_are_flagged_out_of_scope(void **state)
{
    (void)state;
    vigil_obs o;
    normal_obs(&o);
    o.age_y = 15.9;
    vigil_news2 r = score_ok(&o);
    assert_true(r.flags & VIGIL_NEWS2_FLAG_UNDER_16);
    o.age_y = 16;
    r = score_ok(&o);
    assert_false(r.flags & VIGIL_NEWS2_FLAG_UNDER_16);
    o.pregnant = VIGIL_YES;
    r = score_ok(&o);
    assert_true(r.flags & VIGIL_NEWS2_FLAG_PREGNANT);
    o.pregnant = VIGIL_NO;
    r = score_ok(&o);
    assert_false(r.flags & VIGIL_NEWS2_FLAG_PREGNANT);
    /* scoring still happens: the flag qualifies, it does not hide */
    assert_true(r.complete);
}

static void news2_names_are_stable(void **state)
{
    (void)state;
    assert_string_equal(vigil_news2_param_name(VIGIL_NEWS2_TEMP), "temp");
    assert_string_equal(vigil_news2_risk_name(VIGIL_RISK_HIGH), "high");
    assert_string_equal(vigil_news2_monitoring_name(VIGIL_MON_4_6_HOURLY), "4-6-hourly");
    assert_string_equal(vigil_news2_response_name(VIGIL_RESP_URGENT_WARD), "urgent-ward");
    assert_null(vigil_news2_flag_name(1u << 20));
    assert_string_equal(vigil_status_str(VIGIL_ERR_IMPLAUSIBLE), "implausible value");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(news2_rr_band_edges_score_as_chart),
    cmocka_unit_test(news2_rr_25_scores_3),
    cmocka_unit_test(news2_spo2_scale1_band_edges_score_as_chart),
    cmocka_unit_test(news2_spo2_scale2_on_air_scores_as_chart),
    cmocka_unit_test(news2_spo2_scale2_on_oxygen_scores_as_chart),
    cmocka_unit_test(news2_scale2_97_on_oxygen_is_single_param_3),
    cmocka_unit_test(news2_scale1_is_default_and_scale2_only_when_chosen),
    cmocka_unit_test(news2_oxygen_scores_2_and_air_0),
    cmocka_unit_test(news2_sbp_band_edges_score_as_chart),
    cmocka_unit_test(news2_pulse_band_edges_score_as_chart),
    cmocka_unit_test(news2_alert_scores_0_and_cvpu_score_3),
    cmocka_unit_test(news2_temperature_band_edges_score_as_chart),
    cmocka_unit_test(news2_temperature_rounds_half_up_to_one_decimal),
    cmocka_unit_test(news2_integer_vitals_round_half_up),
    cmocka_unit_test(news2_totals_map_to_risk_monitoring_and_response),
    cmocka_unit_test(news2_single_3_with_total_under_5_is_low_medium),
    cmocka_unit_test(news2_single_3_with_total_5_is_medium_not_low_medium),
    cmocka_unit_test(news2_maximum_total_is_20),
    cmocka_unit_test(news2_missing_parameters_make_set_incomplete_with_lower_bound),
    cmocka_unit_test(news2_empty_set_is_incomplete_with_all_seven_missing),
    cmocka_unit_test(news2_incomplete_set_with_a_3_still_triggers_low_medium),
    cmocka_unit_test(news2_scale2_high_spo2_without_o2_is_flagged_lower_bound),
    cmocka_unit_test(news2_implausible_values_are_refused_naming_field),
    cmocka_unit_test(news2_plausible_bounds_themselves_are_accepted),
    cmocka_unit_test(news2_spo2_within_2_points_of_a_band_edge_is_flagged),
    cmocka_unit_test(news2_under_16_and_pregnancy_are_flagged_out_of_scope),
    cmocka_unit_test(news2_names_are_stable),
};

VIGIL_TEST_MAIN(tests)
