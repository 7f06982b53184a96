/*
 * test_features.c: the feature table and specification hash, and feature
 * values worked out by hand on a small timeline (latest values, hours since,
 * changes, slopes, windows, derived ratios, NEWS2 and its 24-hour maximum).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vigil/features.h"
#include "vigil_test.h"

static size_t idx(const char *name)
{
    size_t i = 0;
    vigil_status st = vigil_features_find(name, &i);
    if (st != VIGIL_OK) {
        print_error("no feature %s\n", name);
    }
    assert_int_equal(st, VIGIL_OK);
    return i;
}

static void features_have_unique_names_named_after_their_variables(void **state)
{
    (void)state;
    size_t n = vigil_features_count();
    assert_int_equal(n, VIGIL_FEATURES_COUNT);
    assert_null(vigil_features_info(n));
    size_t per_group[VIGIL_FG_COUNT] = {0};
    for (size_t i = 0; i < n; i++) {
        const vigil_feature_info *f = vigil_features_info(i);
        assert_non_null(f);
        assert_true((unsigned)f->group < VIGIL_FG_COUNT);
        assert_true((unsigned)f->stat < VIGIL_FS_COUNT);
        per_group[f->group]++;
        size_t back = 0;
        assert_int_equal(vigil_features_find(f->name, &back), VIGIL_OK);
        assert_int_equal(back, i); /* also proves names are unique */
        if (f->var >= 0) {
            const char *vn = vigil_var_name((vigil_var)f->var);
            size_t len = strlen(vn);
            if (strncmp(f->name, vn, len) != 0 || f->name[len] != '_') {
                print_error("%s does not start with %s_\n", f->name, vn);
                fail();
            }
            assert_int_equal(f->stat == VIGIL_FS_OTHER, 0);
        } else {
            assert_int_equal(f->stat, VIGIL_FS_OTHER);
        }
    }
    assert_int_equal(per_group[VIGIL_FG_VITAL_LATEST], 8 * 5);
    assert_int_equal(per_group[VIGIL_FG_VITAL_CHANGE], 8 * 8);
    assert_int_equal(per_group[VIGIL_FG_VITAL_WINDOW], 8 * 17);
    assert_int_equal(per_group[VIGIL_FG_LAB], 36 * 6);
    assert_int_equal(per_group[VIGIL_FG_DERIVED], 7);
    assert_int_equal(per_group[VIGIL_FG_NEWS2], 16);
    assert_int_equal(per_group[VIGIL_FG_DEMOGRAPHIC], 2);
    assert_int_equal(per_group[VIGIL_FG_TIME], 2);
    /* names the brief and the model refer to */
    assert_int_equal(vigil_features_info(idx("hr_last"))->stat, VIGIL_FS_LAST);
    assert_int_equal(vigil_features_info(idx("resp_slope6"))->stat, VIGIL_FS_SLOPE6);
    assert_int_equal(vigil_features_info(idx("hours_since_admit"))->group, VIGIL_FG_TIME);
    assert_int_equal(vigil_features_info(idx("hours_since_first_record"))->group, VIGIL_FG_TIME);
    assert_int_equal(vigil_features_find("nope", &n), VIGIL_ERR_NOT_FOUND);
    assert_string_equal(vigil_feature_group_name(VIGIL_FG_VITAL_CHANGE), "vital_change");
}

/* REQ FEAT-SPEC-HASH */
static void features_spec_hash_is_fnv1a_of_the_spec_text(void **state)
{
    (void)state;
    /* FNV-1a 64 reference values (Fowler, Noll, Vo; IETF draft test vectors) */
    assert_true(vigil_fnv1a64("", 0) == 0xcbf29ce484222325ULL);
    assert_true(vigil_fnv1a64("a", 1) == 0xaf63dc4c8601ec8cULL);
    assert_true(vigil_fnv1a64("foobar", 6) == 0x85944171f73967e8ULL);
    size_t need = vigil_features_spec(NULL, 0);
    char text[8192];
    assert_true(need < sizeof text);
    assert_int_equal(vigil_features_spec(text, sizeof text), need);
    assert_int_equal(strlen(text), need);
    assert_int_equal(strncmp(text, "vigil-features v4\nhr_last\nhr_hsince\n", 36), 0);
    assert_true(vigil_features_spec_hash() == vigil_fnv1a64(text, need));
    char hex[17];
    vigil_features_spec_hash_hex(hex);
    char want[17];
    snprintf(want, sizeof want, "%016llx", (unsigned long long)vigil_features_spec_hash());
    assert_string_equal(hex, want);
    /* Golden: changing names, order or version changes this; update it only
     * together with VIGIL_FEATURES_VERSION in a reviewed commit. */
    assert_string_equal(hex, "cac3110724049d01");
    /* truncation still terminates */
    char small[10];
    assert_int_equal(vigil_features_spec(small, sizeof small), need);
    assert_string_equal(small, "vigil-fea");
}

/* The hand-worked example (docs/features.md uses the same numbers). */
static vigil_timeline *example(void)
{
    vigil_timeline *tl = NULL;
    assert_int_equal(vigil_timeline_new(&tl, NULL), VIGIL_OK);
    assert_int_equal(vigil_timeline_set_patient(tl, 70.0, 1, NULL), VIGIL_OK);
    assert_int_equal(vigil_timeline_add_record(tl, 0.5, NULL), VIGIL_OK);
    assert_int_equal(vigil_timeline_add_record(tl, 8.0, NULL), VIGIL_OK);
    for (int h = 1; h <= 8; h++) {
        assert_int_equal(vigil_timeline_add(tl, h, VIGIL_VAR_HR, 78.0 + 2.0 * h, NULL), VIGIL_OK);
    }
    const vigil_meas m[] = {
        {0.5, 100, VIGIL_VAR_SBP},      {7.25, 120, VIGIL_VAR_SBP},     {7.25, 80, VIGIL_VAR_DBP},
        {2, 1.0, VIGIL_VAR_CREATININE}, {6, 1.5, VIGIL_VAR_CREATININE}, {6, 30, VIGIL_VAR_BUN},
        {5, 0.5, VIGIL_VAR_FIO2},       {8, 95, VIGIL_VAR_SPO2},
    };
    assert_int_equal(vigil_timeline_add_meas(tl, m, sizeof m / sizeof m[0], NULL), VIGIL_OK);
    assert_int_equal(vigil_timeline_finish(tl, NULL), VIGIL_OK);
    return tl;
}

static void expect(const float *x, const char *name, double want)
{
    float got = x[idx(name)];
    if (isnan(want)) {
        if (!isnan(got)) {
            print_error("%s: want NaN, got %.9g\n", name, (double)got);
            fail();
        }
        return;
    }
    if (isnan(got) || fabs((double)got - want) > 1e-5 * fmax(1.0, fabs(want))) {
        print_error("%s: want %.9g, got %.9g\n", name, want, (double)got);
        fail();
    }
}

static void features_match_values_worked_out_by_hand(void **state)
{
    (void)state;
    vigil_timeline *tl = example();
    float x[VIGIL_FEATURES_COUNT];
    assert_int_equal(vigil_features_at(tl, 8, x, VIGIL_FEATURES_COUNT, NULL), VIGIL_OK);
    /* HR 80, 82, ..., 94 at hours 1..8 */
    expect(x, "hr_last", 94);
    expect(x, "hr_hsince", 0);
    expect(x, "hr_miss", 0);
    expect(x, "hr_d1", 2);
    expect(x, "hr_d3", 6);
    expect(x, "hr_d6", 12);
    expect(x, "hr_slope6", 2);
    expect(x, "hr_slope12", 2);
    expect(x, "hr_min6", 84); /* hours 3..8 */
    expect(x, "hr_max6", 94);
    expect(x, "hr_mean6", 89);
    expect(x, "hr_min24", 80);
    expect(x, "hr_max24", 94);
    expect(x, "hr_mean24", 87);
    expect(x, "hr_n24", 8);
    expect(x, "hr_minall", 80); /* everything up to hour 8 */
    expect(x, "hr_maxall", 94);
    /* SBP 100 at 0:30 and 120 at 7:15: times are kept */
    expect(x, "sbp_last", 120);
    expect(x, "sbp_hsince", 0.75);
    expect(x, "sbp_d1", 20); /* latest known at hour 7 is the 0:30 value */
    expect(x, "sbp_d6", 20);
    expect(x, "sbp_slope6", NAN); /* one point in (2, 8] */
    expect(x, "sbp_slope12", 20.0 / 6.75);
    expect(x, "sbp_mean24", 110);
    expect(x, "sbp_n24", 2);
    /* spec v4: distances from the reference (pulse 70, systolic 120), each
     * side apart; the window ones from the farthest excursion */
    expect(x, "hr_above", 24);
    expect(x, "hr_below", 0);
    expect(x, "hr_above6", 24);
    expect(x, "hr_below6", 0);
    expect(x, "hr_above24", 24);
    expect(x, "sbp_above", 0);
    expect(x, "sbp_below", 0);
    expect(x, "sbp_below6", 0);   /* only the 120 in (2, 8] */
    expect(x, "sbp_below24", 20); /* the 100 at 0:30 */
    expect(x, "sbp_above24", 0);
    expect(x, "spo2_below", 3);
    expect(x, "temp_above", NAN); /* never measured */
    expect(x, "temp_below24", NAN);
    /* never measured */
    expect(x, "temp_last", NAN);
    expect(x, "temp_hsince", NAN);
    expect(x, "temp_miss", 1);
    expect(x, "temp_d1", NAN);
    expect(x, "temp_mean24", NAN);
    expect(x, "temp_n24", 0);
    /* labs */
    expect(x, "creatinine_last", 1.5);
    expect(x, "creatinine_hsince", 2);
    expect(x, "creatinine_dprev", 0.5);
    expect(x, "bun_dprev", NAN);
    expect(x, "creatinine_minall", 1.0); /* 1.0 then 1.5 */
    expect(x, "creatinine_maxall", 1.5);
    expect(x, "temp_minall", NAN);
    expect(x, "lactate_miss", 1);
    /* derived */
    expect(x, "shock_index", 94.0 / 120.0);
    expect(x, "pulse_pressure", 40);
    expect(x, "spo2_fio2", 190);
    expect(x, "pao2_fio2", NAN);
    expect(x, "bun_creatinine", 20);
    /* NEWS2 at hour 8: spo2 95 -> 1, oxygen (FiO2 0.5) -> 2, sbp 120 -> 0,
     * hr 94 -> 1; rr, consciousness, temperature missing */
    expect(x, "news2_total", 4);
    expect(x, "news2_rr", NAN);
    expect(x, "news2_spo2", 1);
    expect(x, "news2_o2", 2);
    expect(x, "news2_sbp", 0);
    expect(x, "news2_hr", 1);
    expect(x, "news2_acvpu", NAN);
    expect(x, "news2_temp", NAN);
    expect(x, "news2_n_missing", 3);
    expect(x, "news2_complete", 0);
    /* hour 7: hr 92 -> 1, sbp 100 (0:30) -> 2, oxygen -> 2 = 5, the maximum */
    expect(x, "news2_max24", 5);
    expect(x, "age", 70);
    expect(x, "sex", 1);
    expect(x, "hours_since_admit", 8);
    expect(x, "hours_since_first_record", 7.5);
    /* spec v3: several horizons, variability, own baseline, time outside range */
    expect(x, "hr_d12", NAN); /* nothing at or before hour -4 */
    expect(x, "hr_d24", NAN);
    expect(x, "hr_sd6", 2.0 * sqrt(3.5)); /* 84..94 step 2: sample SD */
    expect(x, "hr_sd24", 2.0 * sqrt(6.0)); /* 80..94 */
    expect(x, "hr_devbase", 94.0 - 81.0);  /* baseline: hours 1-2 in (h-24, h-6] */
    expect(x, "hr_abn6", 2.0 / 6.0);       /* 92 and 94 above NEWS2's 51-90 band */
    expect(x, "hr_abn24", 2.0 / 8.0);
    expect(x, "sbp_devbase", 20); /* 120 now, 100 at 0:30 */
    expect(x, "sbp_abn24", 0.5);  /* 100 is below 111 */
    expect(x, "sbp_sd6", NAN);    /* one value in (2, 8] */
    expect(x, "mshock_index", NAN);
    expect(x, "age_shock_index", 70.0 * 94.0 / 120.0);
    /* NEWS2 physiology points (rr, SpO2, SBP, HR, temperature; no oxygen):
     * hour 8 spo2 1 + sbp 0 + hr 1 = 2; hour 7: hr 1 + sbp 2 = 3; hours 1-6: 2 */
    expect(x, "news2_phys", 2);
    expect(x, "news2_phys_d6", 0);
    expect(x, "news2_phys_d24", NAN);
    expect(x, "news2_phys_max24", 3);
    expect(x, "news2_phys_mean24", 17.0 / 8.0);

    /* hour 7 sees neither the 7:15 blood pressure nor the 8:00 SpO2 */
    assert_int_equal(vigil_features_at(tl, 7, x, VIGIL_FEATURES_COUNT, NULL), VIGIL_OK);
    expect(x, "sbp_last", 100);
    expect(x, "sbp_hsince", 6.5);
    expect(x, "sbp_maxall", 100); /* the 7:15 value is not seen yet */
    expect(x, "hr_maxall", 92);
    expect(x, "spo2_last", NAN);
    expect(x, "news2_total", 5);
    expect(x, "pulse_pressure", NAN);
    vigil_timeline_free(tl);
}

static void features_before_any_data_are_missing_not_zero(void **state)
{
    (void)state;
    vigil_timeline *tl = example();
    float x[VIGIL_FEATURES_COUNT];
    assert_int_equal(vigil_features_at(tl, -3, x, VIGIL_FEATURES_COUNT, NULL), VIGIL_OK);
    for (size_t k = 0; k < VIGIL_FEATURES_COUNT; k++) {
        const vigil_feature_info *f = vigil_features_info(k);
        if (f->stat == VIGIL_FS_MISS) {
            assert_true(x[k] == 1.0f);
        } else if (f->stat == VIGIL_FS_N24 || !strcmp(f->name, "news2_n_missing") ||
                   !strcmp(f->name, "news2_complete") || f->group == VIGIL_FG_DEMOGRAPHIC ||
                   f->group == VIGIL_FG_TIME) {
            assert_false(isnan(x[k]));
        } else if (!isnan(x[k])) {
            print_error("%s is %g before any data\n", f->name, (double)x[k]);
            fail();
        }
    }
    expect(x, "news2_n_missing", 7);
    expect(x, "hours_since_first_record", -3.5);
    vigil_timeline_free(tl);
}

static void features_for_the_whole_stay_equal_features_at_each_hour_bit_for_bit(void **state)
{
    (void)state;
    vigil_timeline *tl = example();
    float rows[8 * VIGIL_FEATURES_COUNT];
    size_t n = 0;
    vigil_err e = {0};
    assert_int_equal(vigil_features_stay(tl, rows, 7, &n, &e), VIGIL_ERR_ARG);
    assert_int_equal(vigil_features_stay(tl, rows, 8, &n, NULL), VIGIL_OK);
    assert_int_equal(n, 8); /* hours 1..8 */
    for (size_t r = 0; r < n; r++) {
        float x[VIGIL_FEATURES_COUNT];
        assert_int_equal(vigil_features_at(tl, 1 + (long)r, x, VIGIL_FEATURES_COUNT, NULL),
                         VIGIL_OK);
        assert_memory_equal(x, rows + r * VIGIL_FEATURES_COUNT, sizeof x);
    }
    float small[3];
    assert_int_equal(vigil_features_at(tl, 1, small, 3, NULL), VIGIL_ERR_ARG);
    vigil_timeline_free(tl);
}

static bool in_set(const char *name, vigil_feature_set s)
{
    return vigil_features_in_set(idx(name), s);
}

/* REQ FEAT-WARD-SET */
static void ward_feature_sets_leave_out_time_process_and_icu_only_inputs(void **state)
{
    (void)state;
    for (int s = VIGIL_FSET_WARD_VITALS; s <= VIGIL_FSET_WARD_LABS; s++) {
        size_t n = 0;
        for (size_t i = 0; i < VIGIL_FEATURES_COUNT; i++) {
            const vigil_feature_info *f = vigil_features_info(i);
            if (!vigil_features_in_set(i, (vigil_feature_set)s)) {
                continue;
            }
            n++;
            /* no time-in-stay feature or proxy, no measurement-process feature */
            assert_int_not_equal(f->group, VIGIL_FG_TIME);
            assert_int_not_equal(f->stat, VIGIL_FS_HSINCE);
            assert_int_not_equal(f->stat, VIGIL_FS_MISS);
            assert_int_not_equal(f->stat, VIGIL_FS_N24);
            assert_int_not_equal(f->stat, VIGIL_FS_MINALL);
            assert_int_not_equal(f->stat, VIGIL_FS_MAXALL);
            if (f->var >= 0) {
                /* every variable read is a ward input with its source */
                assert_non_null(vigil_feature_set_source((vigil_feature_set)s, (vigil_var)f->var));
            }
        }
        assert_true(n > 50);
        const char *never[] = {"hours_since_first_record", "hours_since_admit", "news2_n_missing",
                               "news2_complete", "news2_o2", "news2_total", "spo2_fio2",
                               "etco2_last", "fio2_last", "sao2_last", "paco2_last", "ph_last",
                               "troponin_i_last", "map_last", "dbp_last", "hr_n24",
                               "lactate_hsince", "creatinine_miss", "resp_maxall"};
        for (size_t k = 0; k < sizeof never / sizeof never[0]; k++) {
            if (in_set(never[k], (vigil_feature_set)s)) {
                print_error("%s is in %s\n", never[k], vigil_feature_set_name((vigil_feature_set)s));
                fail();
            }
        }
        assert_true(in_set("resp_last", (vigil_feature_set)s));
        assert_true(in_set("resp_abn24", (vigil_feature_set)s));
        assert_true(in_set("news2_phys_d6", (vigil_feature_set)s));
        assert_true(in_set("age", (vigil_feature_set)s));
    }
    /* labs as values only, in the labs set only */
    assert_false(in_set("creatinine_last", VIGIL_FSET_WARD_VITALS));
    assert_true(in_set("creatinine_last", VIGIL_FSET_WARD_LABS));
    assert_true(in_set("lactate_dprev", VIGIL_FSET_WARD_LABS));
    assert_false(in_set("lactate_minall", VIGIL_FSET_WARD_LABS));
    assert_string_equal(vigil_feature_set_source(VIGIL_FSET_WARD_LABS, VIGIL_VAR_CREATININE),
                        "lab feed");
    assert_string_equal(vigil_feature_set_source(VIGIL_FSET_WARD_LABS, VIGIL_VAR_RESP),
                        "observation set");
    assert_null(vigil_feature_set_source(VIGIL_FSET_WARD_VITALS, VIGIL_VAR_CREATININE));
    assert_null(vigil_feature_set_source(VIGIL_FSET_WARD_LABS, VIGIL_VAR_ETCO2));
    /* the research variant keeps everything but the ICU-admission clock */
    assert_true(in_set("hours_since_first_record", VIGIL_FSET_RESEARCH));
    assert_false(in_set("hours_since_admit", VIGIL_FSET_RESEARCH));
    vigil_feature_set got;
    assert_int_equal(vigil_feature_set_from_name("ward-vitals+labs", &got), VIGIL_OK);
    assert_int_equal(got, VIGIL_FSET_WARD_LABS);
    assert_int_equal(vigil_feature_set_from_name("ward", &got), VIGIL_ERR_NOT_FOUND);
}

/* REQ FEAT-ENOUGH-DATA */
static void enough_data_needs_five_vitals_within_12_h_and_two_sets(void **state)
{
    (void)state;
    vigil_timeline *tl = NULL;
    assert_int_equal(vigil_timeline_new(&tl, NULL), VIGIL_OK);
    vigil_obs o;
    vigil_obs_init(&o);
    o.rr_bpm = 18;
    o.spo2_pct = 97;
    o.sbp_mmhg = 125;
    o.hr_bpm = 80;
    o.temp_c = 37.0;
    o.acvpu = VIGIL_ACVPU_A;
    o.o2 = VIGIL_O2_AIR;
    float x[VIGIL_FEATURES_COUNT];
    char why[160];
    /* nothing yet */
    assert_int_equal(vigil_timeline_finish(tl, NULL), VIGIL_OK);
    assert_int_equal(vigil_features_at(tl, 0, x, VIGIL_FEATURES_COUNT, NULL), VIGIL_OK);
    assert_false(vigil_features_enough_data(x, why, sizeof why));
    assert_non_null(strstr(why, "in the last 12 h"));
    /* one complete set: still too little */
    assert_int_equal(vigil_timeline_add_obs(tl, 0.5, &o, NULL), VIGIL_OK);
    assert_int_equal(vigil_timeline_finish(tl, NULL), VIGIL_OK);
    assert_int_equal(vigil_features_at(tl, 1, x, VIGIL_FEATURES_COUNT, NULL), VIGIL_OK);
    assert_false(vigil_features_enough_data(x, why, sizeof why));
    assert_string_equal(why, "fewer than 2 observation sets in the last 24 h");
    /* a second set: enough */
    assert_int_equal(vigil_timeline_add_obs(tl, 4.5, &o, NULL), VIGIL_OK);
    assert_int_equal(vigil_timeline_finish(tl, NULL), VIGIL_OK);
    assert_int_equal(vigil_features_at(tl, 5, x, VIGIL_FEATURES_COUNT, NULL), VIGIL_OK);
    assert_true(vigil_features_enough_data(x, why, sizeof why));
    assert_string_equal(why, "");
    /* 12 h later with no new set: not enough again, and it names what is missing */
    assert_int_equal(vigil_features_at(tl, 17, x, VIGIL_FEATURES_COUNT, NULL), VIGIL_OK);
    assert_false(vigil_features_enough_data(x, why, sizeof why));
    assert_non_null(strstr(why, "no "));
    /* a set without temperature keeps the old temperature only until it is 12 h old */
    vigil_obs partial = o;
    partial.temp_c = NAN;
    assert_int_equal(vigil_timeline_add_obs(tl, 16.5, &partial, NULL), VIGIL_OK);
    assert_int_equal(vigil_timeline_finish(tl, NULL), VIGIL_OK);
    assert_int_equal(vigil_features_at(tl, 17, x, VIGIL_FEATURES_COUNT, NULL), VIGIL_OK);
    assert_false(vigil_features_enough_data(x, why, sizeof why));
    assert_string_equal(why, "no temperature in the last 12 h");
    vigil_timeline_free(tl);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(ward_feature_sets_leave_out_time_process_and_icu_only_inputs),
    cmocka_unit_test(enough_data_needs_five_vitals_within_12_h_and_two_sets),
    cmocka_unit_test(features_have_unique_names_named_after_their_variables),
    cmocka_unit_test(features_spec_hash_is_fnv1a_of_the_spec_text),
    cmocka_unit_test(features_match_values_worked_out_by_hand),
    cmocka_unit_test(features_before_any_data_are_missing_not_zero),
    cmocka_unit_test(features_for_the_whole_stay_equal_features_at_each_hour_bit_for_bit),
};

VIGIL_TEST_MAIN(tests)
