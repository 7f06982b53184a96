/* test_ward.c: NHS number check digit (NHS Data Dictionary modulus 11). */
#include <string.h>

#include "vigil/ward.h"
#include "vigil_test.h"

/* REQ NHS-NUMBER-CHECK */
static void nhs_number_with_correct_check_digit_is_accepted(void **state)
{
    (void)state;
    char out[11];
    /* 943 476 5919: the NHS Digital example number; check digit worked by hand:
     * 9*10+4*9+3*8+4*7+7*6+6*5+5*4+9*3+1*2 = 299; 299 mod 11 = 2; 11-2 = 9 */
    assert_int_equal(vigil_nhs_number_parse("9434765919", out, NULL), VIGIL_OK);
    assert_string_equal(out, "9434765919");
    assert_int_equal(vigil_nhs_number_parse("943 476 5919", out, NULL), VIGIL_OK);
    assert_string_equal(out, "9434765919");
    assert_true(vigil_nhs_number_valid("943-476-5919"));
    /* remainder 0 -> check digit 0 (11 - 0 = 11 is written 0) */
    assert_true(vigil_nhs_number_valid("1234567830"));
    assert_true(vigil_nhs_number_valid("4010232137")); /* remainder 4 -> 7 */
}

/* REQ NHS-NUMBER-CHECK */
static void nhs_number_with_wrong_check_digit_or_length_is_refused(void **state)
{
    (void)state;
    vigil_err e = {0};
    assert_int_equal(vigil_nhs_number_parse("9434765918", NULL, &e), VIGIL_ERR_PARSE);
    assert_string_equal(e.field, "nhs_number");
    assert_non_null(strstr(e.msg, "check digit"));
    assert_false(vigil_nhs_number_valid("943476591"));
    assert_false(vigil_nhs_number_valid("94347659190"));
    assert_false(vigil_nhs_number_valid("94347x5919"));
    assert_false(vigil_nhs_number_valid(""));
    assert_false(vigil_nhs_number_valid(" 9434765919"));
    /* check digit would be 10: never valid. 1000000010 -> sum 10, 11-10 = 1 ok;
     * 0000000060 -> sum 6*2 = 12, 12 mod 11 = 1, 11-1 = 10 -> invalid */
    assert_false(vigil_nhs_number_valid("0000000060"));
}

static void obs_event_starts_with_nothing_measured(void **state)
{
    (void)state;
    vigil_obs_event ev;
    memset(&ev, 0x7f, sizeof ev);
    vigil_obs_event_init(&ev);
    assert_string_equal(ev.nhs_number, "");
    assert_true(ev.obs.rr_bpm != ev.obs.rr_bpm); /* NaN */
    assert_int_equal(ev.obs.spo2_scale, 1);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(nhs_number_with_correct_check_digit_is_accepted),
    cmocka_unit_test(nhs_number_with_wrong_check_digit_or_length_is_refused),
    cmocka_unit_test(obs_event_starts_with_nothing_measured),
};

VIGIL_TEST_MAIN(tests)
