/* test_parse.c: strict number parsing and CSV splitting. */
#include <string.h>

#include "vigil/util.h"
#include "vigil_test.h"

static void parse_double_accepts_plain_decimals_only(void **state)
{
    (void)state;
    double v = 0;
    assert_int_equal(vigil_parse_double("37.5", &v), VIGIL_OK);
    assert_true(v == 37.5);
    assert_int_equal(vigil_parse_double(" -2e1 ", &v), VIGIL_OK);
    assert_true(v == -20.0);
    v = 1.25;
    assert_int_equal(vigil_parse_double("", &v), VIGIL_ERR_PARSE);
    assert_int_equal(vigil_parse_double("NaN", &v), VIGIL_ERR_PARSE);
    assert_int_equal(vigil_parse_double("inf", &v), VIGIL_ERR_PARSE);
    assert_int_equal(vigil_parse_double("0x1p3", &v), VIGIL_ERR_PARSE);
    assert_int_equal(vigil_parse_double("12abc", &v), VIGIL_ERR_PARSE);
    assert_int_equal(vigil_parse_double("1e999", &v), VIGIL_ERR_PARSE);
    assert_int_equal(vigil_parse_double("3 4", &v), VIGIL_ERR_PARSE);
    /* on error the output is unchanged */
    assert_true(v == 1.25);
}

static void parse_long_checks_range_and_trailing_text(void **state)
{
    (void)state;
    long v = 0;
    assert_int_equal(vigil_parse_long("2", 1, 2, &v), VIGIL_OK);
    assert_int_equal(v, 2);
    assert_int_equal(vigil_parse_long("3", 1, 2, &v), VIGIL_ERR_PARSE);
    assert_int_equal(vigil_parse_long("1.0", 1, 2, &v), VIGIL_ERR_PARSE);
    assert_int_equal(vigil_parse_long("", 1, 2, &v), VIGIL_ERR_PARSE);
}

static void csv_split_handles_quotes_and_empty_fields(void **state)
{
    (void)state;
    char line[] = "a,\"b,\"\"c\"\"\",,d\r\n";
    char *f[8];
    size_t n = 0;
    assert_int_equal(vigil_csv_split(line, ',', f, 8, &n), VIGIL_OK);
    assert_int_equal(n, 4);
    assert_string_equal(f[0], "a");
    assert_string_equal(f[1], "b,\"c\"");
    assert_string_equal(f[2], "");
    assert_string_equal(f[3], "d");
}

static void csv_split_refuses_bad_quoting_and_too_many_fields(void **state)
{
    (void)state;
    char *f[2];
    size_t n = 0;
    char open[] = "\"abc,d";
    assert_int_equal(vigil_csv_split(open, ',', f, 2, &n), VIGIL_ERR_PARSE);
    char after[] = "\"abc\"x,d";
    assert_int_equal(vigil_csv_split(after, ',', f, 2, &n), VIGIL_ERR_PARSE);
    char many[] = "a,b,c";
    assert_int_equal(vigil_csv_split(many, ',', f, 2, &n), VIGIL_ERR_ARG);
    char pipe[] = "1|NaN|3";
    char *g[4];
    assert_int_equal(vigil_csv_split(pipe, '|', g, 4, &n), VIGIL_OK);
    assert_int_equal(n, 3);
    assert_string_equal(g[1], "NaN");
}

static void trim_and_ieq_behave(void **state)
{
    (void)state;
    char s[] = "  x y \t\r\n";
    assert_string_equal(vigil_str_trim(s), "x y");
    assert_true(vigil_str_ieq("Oxygen", "oXYGEN"));
    assert_false(vigil_str_ieq("oxygen", "oxygen2"));
    assert_true(vigil_str_blank(" \t"));
    assert_true(vigil_str_blank(NULL));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(parse_double_accepts_plain_decimals_only),
    cmocka_unit_test(parse_long_checks_range_and_trailing_text),
    cmocka_unit_test(csv_split_handles_quotes_and_empty_fields),
    cmocka_unit_test(csv_split_refuses_bad_quoting_and_too_many_fields),
    cmocka_unit_test(trim_and_ieq_behave),
};

VIGIL_TEST_MAIN(tests)
