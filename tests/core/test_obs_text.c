/* test_obs_text.c: observation fields from text, as `vigil news2` reads them. */
#include <math.h>
#include <string.h>

#include "vigil/obs_text.h"
#include "vigil_test.h"

static void obs_text_sets_each_field(void **state)
{
    (void)state;
    vigil_obs o;
    vigil_obs_init(&o);
    assert_int_equal(vigil_obs_set_text(&o, "rr", " 18 ", NULL), VIGIL_OK);
    assert_int_equal(vigil_obs_set_text(&o, "spo2", "95.5", NULL), VIGIL_OK);
    assert_int_equal(vigil_obs_set_text(&o, "scale", "2", NULL), VIGIL_OK);
    assert_int_equal(vigil_obs_set_text(&o, "o2", "Oxygen", NULL), VIGIL_OK);
    assert_int_equal(vigil_obs_set_text(&o, "sbp", "120", NULL), VIGIL_OK);
    assert_int_equal(vigil_obs_set_text(&o, "hr", "80", NULL), VIGIL_OK);
    assert_int_equal(vigil_obs_set_text(&o, "acvpu", "c", NULL), VIGIL_OK);
    assert_int_equal(vigil_obs_set_text(&o, "temp_c", "38.05", NULL), VIGIL_OK);
    assert_int_equal(vigil_obs_set_text(&o, "age", "82", NULL), VIGIL_OK);
    assert_int_equal(vigil_obs_set_text(&o, "pregnant", "no", NULL), VIGIL_OK);
    assert_true(o.rr_bpm == 18.0);
    assert_true(o.spo2_pct == 95.5);
    assert_int_equal(o.spo2_scale, 2);
    assert_int_equal(o.o2, VIGIL_O2_OXYGEN);
    assert_int_equal(o.acvpu, VIGIL_ACVPU_C);
    assert_true(o.temp_c == 38.05);
    assert_int_equal(o.pregnant, VIGIL_NO);
}

/* REQ NEWS2-INCOMPLETE */
static void obs_text_empty_value_means_not_measured(void **state)
{
    (void)state;
    vigil_obs o;
    vigil_obs_init(&o);
    assert_int_equal(vigil_obs_set_text(&o, "rr", "", NULL), VIGIL_OK);
    assert_int_equal(vigil_obs_set_text(&o, "o2", "  ", NULL), VIGIL_OK);
    assert_true(isnan(o.rr_bpm));
    assert_int_equal(o.o2, VIGIL_O2_UNKNOWN);
}

/* REQ NEWS2-PLAUSIBLE */
static void obs_text_refuses_bad_values_naming_field_and_value(void **state)
{
    (void)state;
    static const struct {
        const char *field, *value, *want;
        vigil_status st;
    } cases[] = {
        {"spo2", "101", "'101' is outside the plausible range 20 to 100", VIGIL_ERR_IMPLAUSIBLE},
        {"temp_c", "98.6", "'98.6' is outside the plausible range 25 to 45", VIGIL_ERR_IMPLAUSIBLE},
        {"hr", "eighty", "'eighty' is not a number", VIGIL_ERR_PARSE},
        {"o2", "nasal", "'nasal' is not 'air' or 'oxygen'", VIGIL_ERR_PARSE},
        {"acvpu", "AV", "'AV' is not one of A, C, V, P, U", VIGIL_ERR_PARSE},
        {"scale", "3", "'3' is not 1 or 2", VIGIL_ERR_PARSE},
        {"pregnant", "maybe", "'maybe' is not yes or no", VIGIL_ERR_PARSE},
        {"rr", "NaN", "'NaN' is not a number", VIGIL_ERR_PARSE},
        {"gcs", "15", "unknown field 'gcs'", VIGIL_ERR_NOT_FOUND},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vigil_obs o, before;
        vigil_obs_init(&o);
        memcpy(&before, &o, sizeof o);
        vigil_err e = {0};
        assert_int_equal(vigil_obs_set_text(&o, cases[i].field, cases[i].value, &e), cases[i].st);
        assert_string_equal(e.field, cases[i].field);
        if (strstr(e.msg, cases[i].want) == NULL) {
            print_error("got '%s', want '%s'\n", e.msg, cases[i].want);
        }
        assert_non_null(strstr(e.msg, cases[i].want));
        assert_memory_equal(&o, &before, sizeof o);
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(obs_text_sets_each_field),
    cmocka_unit_test(obs_text_empty_value_means_not_measured),
    cmocka_unit_test(obs_text_refuses_bad_values_naming_field_and_value),
};

VIGIL_TEST_MAIN(tests)
