/* test_explain.c: feature values described in words a nurse reads. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vigil/features.h"
#include "vigil/model.h"
#include "vigil_test.h"

static size_t idx(const char *name)
{
    size_t j = 0;
    assert_int_equal(vigil_features_find(name, &j), VIGIL_OK);
    return j;
}

static void describe_is(const float *x, const char *name, const char *want)
{
    char got[192];
    vigil_feature_describe(idx(name), x, got, sizeof got);
    if (strcmp(got, want) != 0) {
        print_error("%s: got '%s', want '%s'\n", name, got, want);
    }
    assert_string_equal(got, want);
}

static void explanation_words_come_from_the_patients_values(void **state)
{
    (void)state;
    float x[VIGIL_FEATURES_COUNT];
    for (size_t i = 0; i < VIGIL_FEATURES_COUNT; i++) {
        x[i] = NAN;
    }
    x[idx("resp_last")] = 26;
    x[idx("resp_d6")] = 8;
    x[idx("resp_hsince")] = 2;
    x[idx("sbp_min24")] = 88;
    x[idx("hr_last")] = 112;
    x[idx("lactate_last")] = 4.1f;
    x[idx("lactate_dprev")] = 2.0f;
    x[idx("temp_maxall")] = 38.9f;
    x[idx("sex")] = 1;
    describe_is(x, "resp_d6", "respiration rate rising, 18 to 26 breaths/min over 6 h");
    describe_is(x, "resp_hsince", "respiration rate last measured 2 h ago");
    describe_is(x, "sbp_min24", "lowest systolic blood pressure in 24 h: 88 mmHg");
    describe_is(x, "temp_maxall", "highest temperature so far: 38.9 deg C");
    describe_is(x, "sex", "sex male");
    /* a missing value is said to be missing, never "?" or 0 */
    describe_is(x, "wbc_last", "white cell count not measured");
    char got[192];
    vigil_feature_describe(idx("lactate_dprev"), x, got, sizeof got);
    assert_non_null(strstr(got, "up since the previous result, 2.1 to 4.1"));
    vigil_feature_describe(idx("hr_last"), x, got, sizeof got);
    assert_non_null(strstr(got, "112"));
}

static void words_are(size_t g, const float *x, const char *want)
{
    char got[192];
    vigil_explain_group_words(g, x, got, sizeof got);
    if (strcmp(got, want) != 0) {
        print_error("group %zu: got '%s', want '%s'\n", g, got, want);
    }
    assert_string_equal(got, want);
}

static void each_variable_is_worded_from_its_own_values(void **state)
{
    (void)state;
    float x[VIGIL_FEATURES_COUNT];
    for (size_t i = 0; i < VIGIL_FEATURES_COUNT; i++) {
        x[i] = NAN;
    }
    x[idx("resp_last")] = 28;
    x[idx("resp_d6")] = 10;
    x[idx("temp_last")] = 37.2f;
    x[idx("temp_d6")] = 0;
    x[idx("temp_d12")] = NAN;
    x[idx("temp_d24")] = -1.0f;
    x[idx("hr_last")] = 120;
    x[idx("hr_d6")] = 0;
    x[idx("sbp_last")] = 96;
    x[idx("shock_index")] = 1.25f;
    x[idx("creatinine_last")] = 2.1f;
    x[idx("creatinine_dprev")] = 1.0f;
    x[idx("lactate_last")] = 3.0f;
    x[idx("news2_phys")] = 5;
    x[idx("news2_phys_d6")] = 3;
    x[idx("age")] = 78;
    x[idx("sex")] = 0;
    x[idx("resp_min24")] = 11;
    x[idx("resp_max24")] = 28;
    x[idx("temp_min24")] = 37.2f;
    x[idx("temp_max24")] = 37.2f;
    /* spec v4: a vital's level and its course are two reasons */
    words_are(VIGIL_VAR_RESP, x, "respiration rate 28 breaths/min");
    words_are(vigil_explain_course_group(VIGIL_VAR_RESP), x,
              "respiration rate over 24 h: 11 to 28 breaths/min, up from 18 over 6 h");
    /* no change over 6 h: the next horizon that moved */
    words_are(VIGIL_VAR_TEMP, x, "temperature 37.2 deg C");
    words_are(vigil_explain_course_group(VIGIL_VAR_TEMP), x,
              "temperature over 24 h: steady at 37.2 deg C, down from 38.2 over 24 h");
    words_are(VIGIL_VAR_HR, x, "heart rate 120 beats/min");
    words_are(VIGIL_VAR_CREATININE, x, "creatinine 186 umol/L, up from 97");
    /* one result: said so, never "one result so far" for a lab never taken */
    words_are(VIGIL_VAR_LACTATE, x, "lactate 3 mmol/L (first result)");
    words_are(VIGIL_XG_SHOCK, x, "shock index 1.25 (heart rate 120 / systolic BP 96)");
    words_are(VIGIL_XG_NEWS2, x, "NEWS2 points from the vital signs 5, up from 2 over 6 h");
    words_are(VIGIL_VAR_AGE, x, "age 78");
    words_are(VIGIL_XG_SEX, x, "female");
    /* the old per-feature wording bugs */
    describe_is(x, "creatinine_dprev", "creatinine up since the previous result, 1.1 to 2.1 mg/dL");
    describe_is(x, "bun_dprev", "blood urea nitrogen never measured");
    describe_is(x, "news2_total", "NEWS2 from the observations available: no value yet");
}

/* REQ EXPLAIN-UK-UNITS: labs read in the units a UK laboratory reports (AMA SI
 * conversion factors: creatinine x 88.4, BUN to urea x 0.357, glucose x 0.0555,
 * bilirubin x 17.1, haemoglobin x 10); the model's inputs stay in their
 * canonical US units. */
static void labs_are_worded_in_uk_units(void **state)
{
    (void)state;
    float x[VIGIL_FEATURES_COUNT];
    for (size_t i = 0; i < VIGIL_FEATURES_COUNT; i++) {
        x[i] = NAN;
    }
    x[idx("creatinine_last")] = 1.5f; /* mg/dL */
    x[idx("bun_last")] = 28.0f;       /* mg/dL urea nitrogen */
    x[idx("bun_dprev")] = 14.0f;
    x[idx("glucose_last")] = 180.0f;  /* mg/dL */
    x[idx("bili_total_last")] = 2.0f; /* mg/dL */
    x[idx("hgb_last")] = 9.5f;        /* g/dL */
    x[idx("hgb_dprev")] = -1.5f;
    x[idx("wbc_last")] = 14.2f;       /* 10^3/uL */
    x[idx("platelets_last")] = 105.0f;
    x[idx("potassium_last")] = 5.9f; /* mmol/L in both */
    x[idx("bun_creatinine")] = 20.0f; /* mg/dL over mg/dL */
    words_are(VIGIL_VAR_CREATININE, x, "creatinine 133 umol/L (first result)");
    words_are(VIGIL_VAR_BUN, x, "urea 10.0 mmol/L, up from 5.0");
    words_are(VIGIL_VAR_GLUCOSE, x, "glucose 10.0 mmol/L (first result)");
    words_are(VIGIL_VAR_BILI_TOTAL, x, "total bilirubin 34 umol/L (first result)");
    words_are(VIGIL_VAR_HGB, x, "haemoglobin 95 g/L, down from 110");
    words_are(VIGIL_VAR_WBC, x, "white cell count 14.2 x10^9/L (first result)");
    words_are(VIGIL_VAR_PLATELETS, x, "platelets 105 x10^9/L (first result)");
    words_are(VIGIL_VAR_POTASSIUM, x, "potassium 5.9 mmol/L (first result)");
    /* 20 (mg/dL BUN per mg/dL creatinine) = 7.14 mmol/L urea per 0.0884 mmol/L */
    words_are(VIGIL_XG_UREA_CREAT, x, "urea/creatinine ratio 81");
    assert_string_equal(vigil_explain_group_label(VIGIL_VAR_BUN), "urea");
    /* the model's input is unchanged */
    assert_true(x[idx("creatinine_last")] == 1.5f);
}

static void every_feature_belongs_to_one_explanation_group(void **state)
{
    (void)state;
    for (size_t i = 0; i < VIGIL_FEATURES_COUNT; i++) {
        size_t g = vigil_explain_group(i);
        if (g >= VIGIL_XG_COUNT) {
            print_error("%s has no group\n", vigil_features_info(i)->name);
            fail();
        }
        assert_string_not_equal(vigil_explain_group_label(g), "?");
    }
    assert_int_equal(vigil_explain_group(idx("news2_rr")), VIGIL_VAR_RESP);
    /* spec v4: the level (latest, distances, worst excursion, NEWS2 points)
     * and the course (changes, variability, means, time outside) apart */
    assert_int_equal(vigil_explain_group(idx("resp_above24")), VIGIL_VAR_RESP);
    assert_int_equal(vigil_explain_group(idx("resp_max24")), VIGIL_VAR_RESP);
    assert_int_equal(vigil_explain_group(idx("resp_abn24")),
                     vigil_explain_course_group(VIGIL_VAR_RESP));
    assert_int_equal(vigil_explain_group(idx("resp_mean24")),
                     vigil_explain_course_group(VIGIL_VAR_RESP));
    assert_int_equal(vigil_explain_group(idx("sbp_d6")), vigil_explain_course_group(VIGIL_VAR_SBP));
    assert_int_equal(vigil_explain_group_var(vigil_explain_course_group(VIGIL_VAR_SBP)),
                     VIGIL_VAR_SBP);
    assert_int_equal(vigil_explain_group(idx("creatinine_dprev")), VIGIL_VAR_CREATININE);
    assert_int_equal(vigil_explain_course_group(VIGIL_VAR_CREATININE), VIGIL_XG_COUNT);
    assert_int_equal(vigil_explain_group(idx("age_shock_index")), VIGIL_XG_SHOCK);
    assert_int_equal(vigil_explain_group(idx("news2_phys_d6")), VIGIL_XG_NEWS2);
    assert_int_equal(vigil_explain_group(VIGIL_FEATURES_COUNT), VIGIL_XG_COUNT);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(explanation_words_come_from_the_patients_values),
    cmocka_unit_test(each_variable_is_worded_from_its_own_values),
    cmocka_unit_test(labs_are_worded_in_uk_units),
    cmocka_unit_test(every_feature_belongs_to_one_explanation_group),
};

VIGIL_TEST_MAIN(tests)
