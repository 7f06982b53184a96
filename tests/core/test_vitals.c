/*
 * test_vitals.c: the one table of vital signs (vigil/vitals.h) is
 * consistent: a row per NEWS2 parameter in chart order, names, keys,
 * columns and codes unique, bounds sane and the NEWS2 ones, each numeric
 * row's field the one NEWS2 validates and scores. REQ VITALS-TABLE
 */
#include <math.h>
#include <string.h>

#include "vigil/news2.h"
#include "vigil/vitals.h"
#include "vigil_test.h"

static void vital_table_has_one_row_per_parameter_in_chart_order(void **state)
{
    (void)state;
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        assert_non_null(v);
        assert_int_equal(v->param, p);
        assert_string_equal(v->name, vigil_news2_param_name((vigil_news2_param)p));
        assert_ptr_equal(vigil_vital_by_key(v->key), v);
        assert_true(strlen(v->label) > 0 && strlen(v->column) > 0 && v->fhir_profile != NULL);
        for (int q = 0; q < p; q++) {
            const vigil_vital *w = vigil_vital_get((vigil_news2_param)q);
            assert_string_not_equal(v->name, w->name);
            assert_string_not_equal(v->key, w->key);
            assert_string_not_equal(v->column, w->column);
        }
    }
    assert_null(vigil_vital_get(VIGIL_NEWS2_PARAM_COUNT));
    assert_null(vigil_vital_by_key("weight"));
}

static void vital_codes_are_unique_and_each_finds_its_row(void **state)
{
    (void)state;
    size_t n = 0;
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        assert_non_null(v->codes[0].code); /* every parameter has a code on the wire */
        for (size_t k = 0; k < VIGIL_VITAL_CODES_MAX && v->codes[k].code != NULL; k++) {
            const vigil_vital_code *c = &v->codes[k];
            n++;
            const vigil_vital *row = NULL;
            /* found is this very entry: no other row or entry has the same (system, code) */
            assert_ptr_equal(vigil_vital_code_find(c->system, c->code, &row), c);
            assert_ptr_equal(row, v);
            assert_true(strcmp(c->system, "LN") == 0 || strcmp(c->system, "MDC") == 0 ||
                        strcmp(c->system, "SCT") == 0);
            assert_true(strlen(c->text) > 0);
            if (strcmp(c->system, "MDC") == 0) {
                assert_non_null(c->refid);
                assert_true(strncmp(c->refid, "MDC_", 4) == 0);
                assert_true(c->rank >= 1 && c->rank <= 3);
                for (int q = 0; q < VIGIL_NEWS2_PARAM_COUNT; q++) {
                    const vigil_vital *w = vigil_vital_get((vigil_news2_param)q);
                    for (size_t j = 0; j < VIGIL_VITAL_CODES_MAX && w->codes[j].code != NULL;
                         j++) {
                        if (&w->codes[j] != c && w->codes[j].refid != NULL) {
                            assert_string_not_equal(w->codes[j].refid, c->refid);
                        }
                    }
                }
            } else {
                assert_null(c->refid);
                assert_int_equal(c->rank, 0);
            }
            /* only the air/oxygen row reads a code other than as its own value */
            assert_true((c->form == VIGIL_VITAL_FORM_VALUE) == (v->type != VIGIL_VITAL_O2));
        }
    }
    assert_true(n >= 30);
    assert_null(vigil_vital_code_find("LN", "29463-7", NULL)); /* body weight: not a NEWS2 vital */
}

/* Each numeric row's offset is the field NEWS2 validates under that row's
 * bounds, and a value just outside them is refused naming the row's key. */
static void vital_bounds_are_sane_and_are_the_ones_news2_applies(void **state)
{
    (void)state;
    static const struct {
        vigil_news2_param p;
        double lo, hi;
    } news2_bounds[] = {
        {VIGIL_NEWS2_RR, VIGIL_RR_MIN, VIGIL_RR_MAX},
        {VIGIL_NEWS2_SPO2, VIGIL_SPO2_MIN, VIGIL_SPO2_MAX},
        {VIGIL_NEWS2_SBP, VIGIL_SBP_MIN, VIGIL_SBP_MAX},
        {VIGIL_NEWS2_HR, VIGIL_HR_MIN, VIGIL_HR_MAX},
        {VIGIL_NEWS2_TEMP, VIGIL_TEMP_MIN, VIGIL_TEMP_MAX},
    };
    size_t numbers = 0;
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        if (v->type != VIGIL_VITAL_NUMBER) {
            continue;
        }
        numbers++;
        assert_true(v->min < v->max && v->min >= 0.0 && v->max <= 300.0);
        assert_true(v->offset + sizeof(double) <= sizeof(vigil_obs));
        assert_true(strlen(v->ucum) > 0 && strlen(v->unit) > 0);
        int listed = 0;
        for (size_t k = 0; k < sizeof news2_bounds / sizeof news2_bounds[0]; k++) {
            if (news2_bounds[k].p == v->param) {
                assert_true(news2_bounds[k].lo == v->min && news2_bounds[k].hi == v->max);
                listed = 1;
            }
        }
        assert_true(listed);
        vigil_obs o;
        vigil_obs_init(&o);
        vigil_vital_set_number(&o, v, v->min);
        assert_true(vigil_vital_present(&o, v->param));
        assert_true(vigil_vital_number(&o, v) == v->min);
        vigil_news2 s;
        assert_int_equal(vigil_news2_score(&o, &s, NULL), VIGIL_OK);
        assert_int_not_equal(s.sub[p], VIGIL_NEWS2_SUB_MISSING); /* scored: the right field */
        assert_int_equal(s.missing, ((1u << VIGIL_NEWS2_PARAM_COUNT) - 1) & ~(1u << p));
        vigil_vital_set_number(&o, v, v->max + 1.0);
        vigil_err e = {0};
        assert_int_equal(vigil_news2_validate(&o, &e), VIGIL_ERR_IMPLAUSIBLE);
        assert_string_equal(e.field, v->key);
        vigil_vital_clear(&o, v->param);
        assert_false(vigil_vital_present(&o, v->param));
        assert_true(isnan(vigil_vital_number(&o, v)));
    }
    assert_int_equal(numbers, sizeof news2_bounds / sizeof news2_bounds[0]);
}

static void vital_copy_and_clear_reach_every_kind_of_row(void **state)
{
    (void)state;
    vigil_obs full, empty;
    vigil_obs_init(&full);
    vigil_obs_init(&empty);
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        vigil_vital_set_number(&full, v, (v->min + v->max) / 2.0);
    }
    full.o2 = VIGIL_O2_OXYGEN;
    full.acvpu = VIGIL_ACVPU_V;
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        assert_true(vigil_vital_present(&full, (vigil_news2_param)p));
        assert_false(vigil_vital_present(&empty, (vigil_news2_param)p));
        vigil_vital_copy(&empty, &full, (vigil_news2_param)p);
        assert_true(vigil_vital_present(&empty, (vigil_news2_param)p));
    }
    vigil_news2 a, b;
    assert_int_equal(vigil_news2_score(&full, &a, NULL), VIGIL_OK);
    assert_int_equal(vigil_news2_score(&empty, &b, NULL), VIGIL_OK);
    assert_true(b.complete);
    assert_int_equal(a.total, b.total);
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        vigil_vital_clear(&empty, (vigil_news2_param)p);
        assert_false(vigil_vital_present(&empty, (vigil_news2_param)p));
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(vital_table_has_one_row_per_parameter_in_chart_order),
    cmocka_unit_test(vital_codes_are_unique_and_each_finds_its_row),
    cmocka_unit_test(vital_bounds_are_sane_and_are_the_ones_news2_applies),
    cmocka_unit_test(vital_copy_and_clear_reach_every_kind_of_row),
};

VIGIL_TEST_MAIN(tests)
