/*
 * test_hl7_parse.c: HL7 v2.5.1 chapter 2 encoding rules: segments, MSH-1/MSH-2
 * encoding characters, field/repetition/component/subcomponent boundaries,
 * escape sequences, and DTM date/times.
 */
#include <stdlib.h>
#include <string.h>

#include "vigil/hl7.h"
#include "vigil_test.h"

static vigil_hl7_msg *parse_ok(const char *text)
{
    vigil_hl7_msg *m = malloc(sizeof *m);
    assert_non_null(m);
    vigil_hl7_fault f;
    vigil_status st = vigil_hl7_parse(text, strlen(text), m, &f);
    if (st != VIGIL_OK) {
        fail_msg("parse failed: %s", f.text);
    }
    return m;
}

/* The raw view at a position, as a NUL-terminated string (static buffer). */
static const char *at(const vigil_hl7_msg *m, size_t seg, unsigned f, unsigned r, unsigned c,
                      unsigned s)
{
    static char buf[256];
    vigil_hl7_view v;
    assert_int_equal(vigil_hl7_get(m, seg, f, r, c, s, &v), VIGIL_OK);
    assert_true(v.n < sizeof buf);
    memcpy(buf, v.p, v.n);
    buf[v.n] = '\0';
    return buf;
}

static const char boundaries[] = "MSH|^~\\&|SEND|FAC\r"
                                 "ZZZ|f1|c1^c2^c3|r1~r2a^r2b~r3|s1&s2^c2||last|\r";

static void hl7_fields_components_repetitions_and_subcomponents_split_at_each_boundary(void **s)
{
    (void)s;
    vigil_hl7_msg *m = parse_ok(boundaries);
    assert_int_equal(m->n_seg, 2);
    assert_string_equal(at(m, 1, 1, 1, 0, 0), "f1");
    assert_string_equal(at(m, 1, 2, 1, 0, 0), "c1^c2^c3");
    assert_string_equal(at(m, 1, 2, 1, 1, 0), "c1");
    assert_string_equal(at(m, 1, 2, 1, 3, 0), "c3");
    assert_string_equal(at(m, 1, 2, 1, 4, 0), ""); /* past the last component */
    assert_string_equal(at(m, 1, 3, 1, 0, 0), "r1");
    assert_string_equal(at(m, 1, 3, 2, 0, 0), "r2a^r2b");
    assert_string_equal(at(m, 1, 3, 2, 2, 0), "r2b");
    assert_string_equal(at(m, 1, 3, 3, 1, 0), "r3");
    assert_string_equal(at(m, 1, 3, 4, 0, 0), ""); /* past the last repetition */
    assert_int_equal(vigil_hl7_reps(m, 1, 3), 3);
    assert_int_equal(vigil_hl7_reps(m, 1, 5), 0);
    assert_string_equal(at(m, 1, 4, 1, 1, 0), "s1&s2");
    assert_string_equal(at(m, 1, 4, 1, 1, 1), "s1");
    assert_string_equal(at(m, 1, 4, 1, 1, 2), "s2");
    assert_string_equal(at(m, 1, 4, 1, 1, 3), "");
    assert_string_equal(at(m, 1, 4, 1, 2, 1), "c2"); /* no subcomponents: sub 1 is it all */
    assert_string_equal(at(m, 1, 5, 1, 0, 0), "");
    assert_string_equal(at(m, 1, 6, 1, 0, 0), "last");
    assert_string_equal(at(m, 1, 7, 1, 0, 0), "");  /* trailing empty field */
    assert_string_equal(at(m, 1, 40, 1, 1, 1), ""); /* far past the end */
    vigil_hl7_view v;
    assert_int_equal(vigil_hl7_get(m, 1, 0, 1, 0, 0, &v), VIGIL_ERR_ARG);
    assert_int_equal(vigil_hl7_get(m, 1, 1, 0, 0, 0, &v), VIGIL_ERR_ARG);
    assert_int_equal(vigil_hl7_get(m, 1, 1, 1, 0, 1, &v), VIGIL_ERR_ARG);
    assert_int_equal(vigil_hl7_get(m, 2, 1, 1, 0, 0, &v), VIGIL_ERR_ARG);
    free(m);
}

static void hl7_msh_1_and_2_are_the_separators_and_msh_3_follows(void **s)
{
    (void)s;
    vigil_hl7_msg *m = parse_ok(boundaries);
    assert_string_equal(at(m, 0, 1, 1, 0, 0), "|");
    assert_string_equal(at(m, 0, 2, 1, 0, 0), "^~\\&");
    assert_string_equal(at(m, 0, 2, 1, 1, 0), "^~\\&"); /* never split */
    assert_int_equal(vigil_hl7_reps(m, 0, 2), 1);
    assert_string_equal(at(m, 0, 3, 1, 0, 0), "SEND");
    assert_string_equal(at(m, 0, 4, 1, 0, 0), "FAC");
    vigil_hl7_view id = vigil_hl7_seg_id(m, 1);
    assert_int_equal(id.n, 3);
    assert_memory_equal(id.p, "ZZZ", 3);
    assert_int_equal(vigil_hl7_find(m, "ZZZ", 0), 1);
    assert_int_equal(vigil_hl7_find(m, "PID", 0), m->n_seg);
    free(m);
}

static void hl7_encoding_characters_come_from_the_message_not_defaults(void **s)
{
    (void)s;
    vigil_hl7_msg *m = parse_ok("MSH!@#$%!A@B!\rZZZ!x@y#z%w!a|b^c~d\\e&f\r");
    assert_int_equal(m->seps.field, '!');
    assert_int_equal(m->seps.comp, '@');
    assert_int_equal(m->seps.rep, '#');
    assert_int_equal(m->seps.esc, '$');
    assert_int_equal(m->seps.sub, '%');
    assert_string_equal(at(m, 0, 3, 1, 2, 0), "B");
    assert_string_equal(at(m, 1, 1, 1, 2, 0), "y");
    assert_string_equal(at(m, 1, 1, 2, 1, 2), "w");
    /* the default delimiters are plain data here */
    assert_string_equal(at(m, 1, 2, 1, 1, 1), "a|b^c~d\\e&f");
    free(m);
}

static void hl7_segments_end_at_cr_lf_or_crlf_and_empty_lines_are_skipped(void **s)
{
    (void)s;
    static const char *const forms[] = {
        "MSH|^~\\&|A\rPID|1\rOBX|2\r",
        "MSH|^~\\&|A\nPID|1\nOBX|2\n",
        "MSH|^~\\&|A\r\nPID|1\r\nOBX|2\r\n",
        "MSH|^~\\&|A\r\n\r\nPID|1\n\nOBX|2",
    };
    for (size_t k = 0; k < sizeof forms / sizeof forms[0]; k++) {
        vigil_hl7_msg *m = parse_ok(forms[k]);
        assert_int_equal(m->n_seg, 3);
        assert_string_equal(at(m, 2, 1, 1, 0, 0), "2");
        free(m);
    }
}

static vigil_hl7_fault parse_fault(const char *text, size_t n)
{
    vigil_hl7_msg *m = malloc(sizeof *m);
    assert_non_null(m);
    vigil_hl7_fault f;
    assert_int_not_equal(vigil_hl7_parse(text, n, m, &f), VIGIL_OK);
    free(m);
    assert_int_equal(f.ack, VIGIL_HL7_AR);
    return f;
}

static void hl7_unusable_encoding_characters_are_refused(void **s)
{
    (void)s;
    static const char *const bad[] = {
        "MSH|^~\\|A\r",    /* three characters */
        "MSH|^^\\&|A\r",   /* repeated */
        "MSH|^~\\A|A\r",   /* a letter */
        "MSH|^~ &|A\r",    /* a blank */
        "MSH^^~\\&^A\r",   /* field separator repeated in MSH-2 */
        "MSH|^~\\&#$|A\r", /* six */
        "MSHA^~\\&A\r",    /* field separator a letter */
        "MSH",             /* nothing after MSH */
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        vigil_hl7_fault f = parse_fault(bad[k], strlen(bad[k]));
        assert_int_equal(f.reason, VIGIL_HL7_R_BAD_ENCODING);
        assert_int_equal(f.code, VIGIL_HL7_E_DATA_TYPE);
    }
    /* v2.7's fifth, truncation character is accepted and ignored */
    vigil_hl7_msg *m = parse_ok("MSH|^~\\&#|A\r");
    assert_int_equal(m->seps.sub, '&');
    free(m);
}

static void hl7_structural_faults_are_rejected_with_a_reason(void **s)
{
    (void)s;
    assert_int_equal(parse_fault("", 0).reason, VIGIL_HL7_R_EMPTY);
    assert_int_equal(parse_fault("\r\n\r\n", 4).reason, VIGIL_HL7_R_EMPTY);
    assert_int_equal(parse_fault("PID|1\rMSH|^~\\&\r", 15).reason, VIGIL_HL7_R_NO_MSH);
    assert_int_equal(parse_fault("MSH|^~\\&|A\0B\r", 13).reason, VIGIL_HL7_R_CONTROL_BYTE);
    assert_int_equal(parse_fault("MSH|^~\\&|A\rpid|1\r", 17).reason, VIGIL_HL7_R_BAD_SEGMENT);
    assert_int_equal(parse_fault("MSH|^~\\&|A\rPI|1\r", 16).reason, VIGIL_HL7_R_BAD_SEGMENT);
    assert_int_equal(parse_fault("MSH|^~\\&|A\rPIDX|1\r", 18).reason, VIGIL_HL7_R_BAD_SEGMENT);
    assert_int_equal(parse_fault("MSH|^~\\&|A\rMSH|^~\\&|B\r", 22).reason, VIGIL_HL7_R_SECOND_MSH);
    /* more segments than VIGIL_HL7_MAX_SEGMENTS */
    size_t n = 12 + (VIGIL_HL7_MAX_SEGMENTS + 1) * 4;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memcpy(big, "MSH|^~\\&|A\r", 11);
    size_t o = 11;
    for (int k = 0; k < VIGIL_HL7_MAX_SEGMENTS + 1; k++) {
        memcpy(big + o, "NTE\r", 4);
        o += 4;
    }
    assert_int_equal(parse_fault(big, o).reason, VIGIL_HL7_R_OVERSIZE);
    free(big);
    vigil_hl7_fault f = parse_fault("x", VIGIL_HL7_MAX_LEN + 1); /* length checked first */
    assert_int_equal(f.reason, VIGIL_HL7_R_OVERSIZE);
}

static const char *unesc(const char *in, vigil_status want)
{
    static char out[128];
    static const vigil_hl7_seps seps = {'|', '^', '~', '\\', '&'};
    vigil_hl7_view v = {in, strlen(in)};
    size_t n = 99;
    assert_int_equal(vigil_hl7_unescape(&seps, v, out, sizeof out, &n), want);
    assert_int_equal(n, strlen(out));
    return out;
}

static void hl7_escape_sequences_decode_on_access(void **s)
{
    (void)s;
    assert_string_equal(unesc("A\\F\\B", VIGIL_OK), "A|B");
    assert_string_equal(unesc("A\\S\\B", VIGIL_OK), "A^B");
    assert_string_equal(unesc("A\\T\\E", VIGIL_OK), "A&E");
    assert_string_equal(unesc("A\\R\\B", VIGIL_OK), "A~B");
    assert_string_equal(unesc("C:\\E\\temp", VIGIL_OK), "C:\\temp");
    assert_string_equal(unesc("\\X41\\\\X4243\\", VIGIL_OK), "ABC");
    assert_string_equal(unesc("\\Xc3a9\\", VIGIL_OK), "\xc3\xa9"); /* lower-case hex: e acute */
    assert_string_equal(unesc("line1\\.br\\line2", VIGIL_OK), "line1\nline2");
    assert_string_equal(unesc("\\H\\bold\\N\\", VIGIL_OK), "bold");
    assert_string_equal(unesc("plain", VIGIL_OK), "plain");
    assert_string_equal(unesc("", VIGIL_OK), "");
    /* malformed */
    unesc("A\\F", VIGIL_ERR_PARSE);      /* unterminated */
    unesc("A\\Q\\B", VIGIL_ERR_PARSE);   /* unknown */
    unesc("\\X4\\", VIGIL_ERR_PARSE);    /* odd number of hex digits */
    unesc("\\XZZ\\", VIGIL_ERR_PARSE);   /* not hex */
    unesc("\\X00\\", VIGIL_ERR_PARSE);   /* NUL */
    unesc("\\\\", VIGIL_ERR_PARSE);      /* empty sequence */
    unesc("\\Cxxyy\\", VIGIL_ERR_PARSE); /* character-set switching: not supported */
    /* too small an output buffer: truncated and NUL-terminated */
    static const vigil_hl7_seps seps = {'|', '^', '~', '\\', '&'};
    char small[4];
    vigil_hl7_view v = {"ABCDEF", 6};
    assert_int_equal(vigil_hl7_unescape(&seps, v, small, sizeof small, NULL), VIGIL_ERR_NOMEM);
    assert_string_equal(small, "ABC");
}

static void hl7_escape_sequences_use_the_messages_escape_character(void **s)
{
    (void)s;
    vigil_hl7_msg *m = parse_ok("MSH!@#$%!A$F$B$S$C$T$D\rZZZ!\\F\\\r");
    char out[32];
    vigil_hl7_view v;
    vigil_hl7_get(m, 0, 3, 1, 0, 0, &v);
    assert_int_equal(vigil_hl7_unescape(&m->seps, v, out, sizeof out, NULL), VIGIL_OK);
    assert_string_equal(out, "A!B@C%D");
    vigil_hl7_get(m, 1, 1, 1, 0, 0, &v);
    assert_int_equal(vigil_hl7_unescape(&m->seps, v, out, sizeof out, NULL), VIGIL_OK);
    assert_string_equal(out, "\\F\\"); /* backslash is data here */
    free(m);
}

static void hl7_escape_then_unescape_gives_the_text_back(void **s)
{
    (void)s;
    static const vigil_hl7_seps seps = {'|', '^', '~', '\\', '&'};
    const char *text = "a|b^c~d\\e&f\rg\x01h";
    char esc[128], back[128];
    size_t n = 0;
    assert_int_equal(vigil_hl7_escape(&seps, text, strlen(text), esc, sizeof esc, &n), VIGIL_OK);
    assert_string_equal(esc, "a\\F\\b\\S\\c\\R\\d\\E\\e\\T\\f\\X0D\\g\\X01\\h");
    vigil_hl7_view v = {esc, n};
    assert_int_equal(vigil_hl7_unescape(&seps, v, back, sizeof back, NULL), VIGIL_OK);
    assert_string_equal(back, text);
    char tiny[5];
    assert_int_equal(vigil_hl7_escape(&seps, "a|b", 3, tiny, sizeof tiny, NULL), VIGIL_ERR_NOMEM);
}

static int64_t dtm(const char *s, vigil_hl7_prec p, vigil_hl7_tz tz, vigil_status want)
{
    int64_t t = -1;
    vigil_err e = {0};
    assert_int_equal(vigil_hl7_dtm_parse(s, strlen(s), p, tz, &t, &e), want);
    return t;
}

#define MIN_ VIGIL_HL7_PREC_MINUTE
#define UTC_ VIGIL_HL7_TZ_UTC
#define LON_ VIGIL_HL7_TZ_EUROPE_LONDON

static void hl7_dtm_with_offsets_converts_to_unix_ms_utc(void **s)
{
    (void)s;
    /* 2025-01-14 08:30:00 UTC = 1736843400 s (checked with Python's datetime) */
    assert_int_equal(dtm("20250114083000+0000", MIN_, UTC_, VIGIL_OK), 1736843400000LL);
    assert_int_equal(dtm("20250114083000-0000", MIN_, UTC_, VIGIL_OK), 1736843400000LL);
    assert_int_equal(dtm("20250114093000+0100", MIN_, UTC_, VIGIL_OK), 1736843400000LL);
    assert_int_equal(dtm("20250114033000-0500", MIN_, UTC_, VIGIL_OK), 1736843400000LL);
    assert_int_equal(dtm("20250114140000+0530", MIN_, UTC_, VIGIL_OK), 1736843400000LL);
    assert_int_equal(dtm("202501140830+0000", MIN_, UTC_, VIGIL_OK), 1736843400000LL);
    assert_int_equal(dtm("20250114083000.1234+0000", MIN_, UTC_, VIGIL_OK), 1736843400123LL);
    assert_int_equal(dtm("20250114083000.5", MIN_, UTC_, VIGIL_OK), 1736843400500LL);
    assert_int_equal(dtm("19700101", VIGIL_HL7_PREC_DAY, UTC_, VIGIL_OK), 0);
    assert_int_equal(dtm("1970", VIGIL_HL7_PREC_YEAR, UTC_, VIGIL_OK), 0);
    assert_int_equal(dtm("20240229", VIGIL_HL7_PREC_DAY, UTC_, VIGIL_OK), 1709164800000LL);
}

static void hl7_dtm_refuses_impossible_or_imprecise_times(void **s)
{
    (void)s;
    static const char *const bad[] = {
        "20250231083000",       /* 31 February */
        "20230229",             /* not a leap year */
        "21000229",             /* century, not a leap year */
        "20250114240000",       /* hour 24 */
        "20250114086000",       /* minute 60 */
        "20250114083060",       /* second 60 */
        "20251301",             /* month 13 */
        "20250100",             /* day 0 */
        "2025011408",           /* 10 digits: fine as hour precision but below minute */
        "202501140830+000",     /* short offset */
        "202501140830+1500",    /* offset too large */
        "202501140830Z",        /* not HL7 */
        "2025-01-14T08:30",     /* ISO 8601 is not HL7 */
        "20250114083.5",        /* fraction without seconds */
        "20250114083000.12345", /* five fraction digits */
        "18991231235900+0000",  /* before 1900 */
        "202501140830 ",        /* trailing blank */
        "",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        vigil_err e = {0};
        int64_t t = 0;
        vigil_status st = vigil_hl7_dtm_parse(bad[k], strlen(bad[k]), MIN_, UTC_, &t, &e);
        if (st != VIGIL_ERR_PARSE) {
            fail_msg("'%s' was not refused", bad[k]);
        }
        assert_string_equal(e.field, "time");
    }
    dtm("2025011408", VIGIL_HL7_PREC_DAY, UTC_, VIGIL_OK);
}

/* REQ HL7-TIME-LONDON */
static void hl7_dtm_without_offset_is_europe_london_and_refuses_the_changeover_hours(void **s)
{
    (void)s;
    /* winter: GMT = UTC */
    assert_int_equal(dtm("202501140830", MIN_, LON_, VIGIL_OK), 1736843400000LL);
    /* summer: BST = UTC+1 */
    assert_int_equal(dtm("202507041415", MIN_, LON_, VIGIL_OK), 1751634900000LL);
    /* 30 March 2025: clocks go forward at 01:00 GMT to 02:00 BST */
    assert_int_equal(dtm("202503300059", MIN_, LON_, VIGIL_OK), 1743296340000LL);
    dtm("202503300100", MIN_, LON_, VIGIL_ERR_CONFLICT);
    dtm("202503300159", MIN_, LON_, VIGIL_ERR_CONFLICT);
    assert_int_equal(dtm("202503300200", MIN_, LON_, VIGIL_OK), 1743296400000LL);
    /* 26 October 2025: clocks go back at 02:00 BST to 01:00 GMT: 01:xx happens twice */
    assert_int_equal(dtm("202510260059", MIN_, LON_, VIGIL_OK), 1761436740000LL);
    dtm("202510260100", MIN_, LON_, VIGIL_ERR_CONFLICT);
    dtm("202510260159", MIN_, LON_, VIGIL_ERR_CONFLICT);
    assert_int_equal(dtm("202510260200", MIN_, LON_, VIGIL_OK), 1761444000000LL);
    /* with an offset the changeover hours are fine */
    assert_int_equal(dtm("202510260130+0100", MIN_, LON_, VIGIL_OK), 1761438600000LL);
    assert_int_equal(dtm("202510260130+0000", MIN_, LON_, VIGIL_OK), 1761442200000LL);
    /* other readings */
    assert_int_equal(dtm("202507041415", MIN_, UTC_, VIGIL_OK), 1751638500000LL);
    dtm("202507041415", MIN_, VIGIL_HL7_TZ_REFUSE, VIGIL_ERR_PARSE);
    dtm("199507041415", MIN_, LON_, VIGIL_ERR_PARSE); /* pre-1996 rule not modelled */
}

static void hl7_dtm_format_writes_utc_with_offset(void **s)
{
    (void)s;
    char out[21];
    vigil_hl7_dtm_format(1736843400123LL, out);
    assert_string_equal(out, "20250114083000+0000");
    vigil_hl7_dtm_format(0, out);
    assert_string_equal(out, "19700101000000+0000");
    vigil_hl7_dtm_format(951782400000LL, out); /* 2000-02-29 */
    assert_string_equal(out, "20000229000000+0000");
}

static void hl7_every_reason_and_code_has_a_distinct_name(void **s)
{
    (void)s;
    for (int a = 0; a < VIGIL_HL7_R_COUNT; a++) {
        const char *na = vigil_hl7_reason_name((vigil_hl7_reason)a);
        assert_non_null(na);
        assert_true(strlen(na) > 0);
        for (int b = 0; b < a; b++) {
            assert_string_not_equal(na, vigil_hl7_reason_name((vigil_hl7_reason)b));
        }
    }
    assert_string_equal(vigil_hl7_ack_code_name(VIGIL_HL7_AE), "AE");
    assert_string_equal(vigil_hl7_errcode_text(VIGIL_HL7_E_UNSUPPORTED_VERSION),
                        "Unsupported version id");
    assert_string_equal(vigil_hl7_kind_name(VIGIL_HL7_KIND_ORU_R01), "ORU^R01");
    assert_string_equal(vigil_adt_kind_name(VIGIL_ADT_TRANSFER), "transfer");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(hl7_every_reason_and_code_has_a_distinct_name),
    cmocka_unit_test(hl7_fields_components_repetitions_and_subcomponents_split_at_each_boundary),
    cmocka_unit_test(hl7_msh_1_and_2_are_the_separators_and_msh_3_follows),
    cmocka_unit_test(hl7_encoding_characters_come_from_the_message_not_defaults),
    cmocka_unit_test(hl7_segments_end_at_cr_lf_or_crlf_and_empty_lines_are_skipped),
    cmocka_unit_test(hl7_unusable_encoding_characters_are_refused),
    cmocka_unit_test(hl7_structural_faults_are_rejected_with_a_reason),
    cmocka_unit_test(hl7_escape_sequences_decode_on_access),
    cmocka_unit_test(hl7_escape_sequences_use_the_messages_escape_character),
    cmocka_unit_test(hl7_escape_then_unescape_gives_the_text_back),
    cmocka_unit_test(hl7_dtm_with_offsets_converts_to_unix_ms_utc),
    cmocka_unit_test(hl7_dtm_refuses_impossible_or_imprecise_times),
    cmocka_unit_test(hl7_dtm_without_offset_is_europe_london_and_refuses_the_changeover_hours),
    cmocka_unit_test(hl7_dtm_format_writes_utc_with_offset),
};

VIGIL_TEST_MAIN(tests)
