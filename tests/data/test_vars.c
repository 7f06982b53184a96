/*
 * test_vars.c: the clinical variable table (include/vigil/vars.h): one row
 * per variable with a unique name, bounds that refuse the data sets' known
 * errors (Temp 50 C, Resp 100/min, FiO2 4000), the NEWS2 vitals sharing the
 * NEWS2 bounds, and the FiO2 percentage rule.
 */
#include <math.h>
#include <string.h>

#include "vigil/news2.h"
#include "vigil/vars.h"
#include "vigil_test.h"

/* REQ VARS-PLAUSIBLE */
static void vars_table_has_unique_names_and_ordered_bounds(void **state)
{
    (void)state;
    for (unsigned i = 0; i < VIGIL_VAR_COUNT; i++) {
        const vigil_var_info *a = vigil_var_get((vigil_var)i);
        assert_non_null(a);
        assert_non_null(a->name);
        assert_non_null(a->label);
        assert_non_null(a->unit);
        assert_non_null(a->bounds_why);
        assert_true(strlen(a->bounds_why) > 0);
        assert_true(a->min < a->max);
        assert_true((unsigned)a->kind < VIGIL_VAR_KIND_COUNT);
        vigil_var back;
        assert_int_equal(vigil_var_from_name(a->name, &back), VIGIL_OK);
        assert_int_equal(back, i);
        for (unsigned j = i + 1; j < VIGIL_VAR_COUNT; j++) {
            assert_string_not_equal(a->name, vigil_var_get((vigil_var)j)->name);
        }
    }
    assert_null(vigil_var_get(VIGIL_VAR_COUNT));
    assert_string_equal(vigil_var_name(VIGIL_VAR_COUNT), "?");
    vigil_var v;
    assert_int_equal(vigil_var_from_name("heart", &v), VIGIL_ERR_NOT_FOUND);
}

/* REQ NEWS2-PLAUSIBLE */
static void vars_news2_vitals_use_the_news2_bounds(void **state)
{
    (void)state;
    static const struct {
        vigil_var v;
        double lo, hi;
    } cases[] = {
        {VIGIL_VAR_RESP, VIGIL_RR_MIN, VIGIL_RR_MAX},
        {VIGIL_VAR_SPO2, VIGIL_SPO2_MIN, VIGIL_SPO2_MAX},
        {VIGIL_VAR_SBP, VIGIL_SBP_MIN, VIGIL_SBP_MAX},
        {VIGIL_VAR_HR, VIGIL_HR_MIN, VIGIL_HR_MAX},
        {VIGIL_VAR_TEMP, VIGIL_TEMP_MIN, VIGIL_TEMP_MAX},
        {VIGIL_VAR_AGE, VIGIL_AGE_MIN, VIGIL_AGE_MAX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const vigil_var_info *vi = vigil_var_get(cases[i].v);
        assert_true(vi->min == cases[i].lo);
        assert_true(vi->max == cases[i].hi);
    }
}

static vigil_var_verdict verdict_of(vigil_var v, double x)
{
    vigil_var_verdict r = VIGIL_VAR_OK;
    (void)vigil_var_check(v, x, NULL, &r, NULL);
    return r;
}

/* REQ VARS-PLAUSIBLE */
static void vars_known_data_errors_are_refused_with_a_reason(void **state)
{
    (void)state;
    vigil_err e = {0};
    double out = 123.0;
    assert_int_equal(vigil_var_check(VIGIL_VAR_TEMP, 50.0, &out, NULL, &e), VIGIL_ERR_IMPLAUSIBLE);
    assert_true(out == 123.0); /* unchanged on error */
    assert_string_equal(e.field, "temp");
    assert_non_null(strstr(e.msg, "temp 50"));
    assert_non_null(strstr(e.msg, "too_high"));
    assert_int_equal(verdict_of(VIGIL_VAR_RESP, 100.0), VIGIL_VAR_TOO_HIGH);
    assert_int_equal(verdict_of(VIGIL_VAR_FIO2, 4000.0), VIGIL_VAR_TOO_HIGH);
    assert_int_equal(verdict_of(VIGIL_VAR_FIO2, 0.02), VIGIL_VAR_TOO_LOW);
    assert_int_equal(verdict_of(VIGIL_VAR_PH, 735.0), VIGIL_VAR_TOO_HIGH);
    assert_int_equal(verdict_of(VIGIL_VAR_SBP, 0.0), VIGIL_VAR_TOO_LOW);
    assert_int_equal(verdict_of(VIGIL_VAR_GCS, 14.5), VIGIL_VAR_NOT_INTEGER);
    assert_int_equal(verdict_of(VIGIL_VAR_GCS, 2.0), VIGIL_VAR_TOO_LOW);
    assert_int_equal(verdict_of(VIGIL_VAR_HR, NAN), VIGIL_VAR_NOT_FINITE);
    assert_int_equal(verdict_of(VIGIL_VAR_HR, INFINITY), VIGIL_VAR_NOT_FINITE);
    /* bounds are inclusive */
    assert_int_equal(verdict_of(VIGIL_VAR_TEMP, 45.0), VIGIL_VAR_OK);
    assert_int_equal(verdict_of(VIGIL_VAR_TEMP, 45.01), VIGIL_VAR_TOO_HIGH);
    assert_int_equal(verdict_of(VIGIL_VAR_RESP, 80.0), VIGIL_VAR_OK);
    assert_int_equal(verdict_of(VIGIL_VAR_RESP, 0.0), VIGIL_VAR_OK);
    assert_int_equal(vigil_var_check(VIGIL_VAR_COUNT, 1.0, NULL, NULL, NULL), VIGIL_ERR_ARG);
    assert_string_equal(vigil_var_verdict_name(VIGIL_VAR_NOT_INTEGER), "not_integer");
}

/* REQ VARS-FIO2-PERCENT */
static void vars_fio2_percentages_become_fractions_and_nothing_else_is_converted(void **state)
{
    (void)state;
    double out = 0;
    vigil_var_verdict r;
    assert_int_equal(vigil_var_check(VIGIL_VAR_FIO2, 50.0, &out, &r, NULL), VIGIL_OK);
    assert_int_equal(r, VIGIL_VAR_CONVERTED);
    assert_true(out == 0.5);
    assert_int_equal(vigil_var_check(VIGIL_VAR_FIO2, 21.0, &out, &r, NULL), VIGIL_OK);
    assert_true(out == 0.21);
    assert_int_equal(vigil_var_check(VIGIL_VAR_FIO2, 100.0, &out, &r, NULL), VIGIL_OK);
    assert_true(out == 1.0);
    assert_int_equal(vigil_var_check(VIGIL_VAR_FIO2, 0.4, &out, &r, NULL), VIGIL_OK);
    assert_int_equal(r, VIGIL_VAR_OK);
    assert_true(out == 0.4);
    /* neither a fraction nor a percentage */
    assert_int_equal(verdict_of(VIGIL_VAR_FIO2, 1.5), VIGIL_VAR_TOO_HIGH);
    assert_int_equal(verdict_of(VIGIL_VAR_FIO2, 20.9), VIGIL_VAR_TOO_HIGH);
    assert_int_equal(verdict_of(VIGIL_VAR_FIO2, 100.5), VIGIL_VAR_TOO_HIGH);
    /* other variables are never rescaled */
    assert_int_equal(vigil_var_check(VIGIL_VAR_SPO2, 50.0, &out, &r, NULL), VIGIL_OK);
    assert_int_equal(r, VIGIL_VAR_OK);
    assert_true(out == 50.0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(vars_table_has_unique_names_and_ordered_bounds),
    cmocka_unit_test(vars_news2_vitals_use_the_news2_bounds),
    cmocka_unit_test(vars_known_data_errors_are_refused_with_a_reason),
    cmocka_unit_test(vars_fio2_percentages_become_fractions_and_nothing_else_is_converted),
};

VIGIL_TEST_MAIN(tests)
