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

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(explanation_words_come_from_the_patients_values),
};

VIGIL_TEST_MAIN(tests)
