/*
 * test_hl7_ack.c: the ACK (HL7 v2.5.1 chapter 2: MSH, MSA table 0008, ERR
 * tables 0357 and 0516), byte for byte, and parsed back.
 */
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "vigil/hl7.h"
#include "vigil_test.h"

/* 2025-01-01 00:00:00 UTC */
#define ACK_T 1735689600000LL

static char *ack_for(const char *golden, const vigil_hl7_ack_opts *o, vigil_status want)
{
    vigil_status st;
    vigil_hl7_result *r = golden_decode(golden, &st);
    static char out[2048];
    size_t n = 0;
    assert_int_equal(vigil_hl7_ack_build(&r->hdr, &r->fault, o, out, sizeof out, &n), want);
    if (want == VIGIL_OK) {
        assert_int_equal(n, strlen(out));
    }
    free(r);
    return out;
}

static void ack_aa_swaps_sender_and_receiver_and_echoes_the_control_id(void **s)
{
    (void)s;
    vigil_hl7_ack_opts o = {"VIGIL0001", ACK_T, "VIGIL", "RX1"};
    assert_string_equal(ack_for("oru_full_set.hl7", &o, VIGIL_OK),
                        "MSH|^~\\&|VIGIL|RX1|EOBS|RX1|20250101000000+0000||ACK^R01^ACK|VIGIL0001|P|"
                        "2.5.1\r"
                        "MSA|AA|EOBS20250114083215001\r");
    assert_string_equal(ack_for("adt_a08_update.hl7", &o, VIGIL_OK),
                        "MSH|^~\\&|VIGIL|RX1|PAS|RX1|20250101000000+0000||ACK^A08^ACK|VIGIL0001|P|"
                        "2.4\r"
                        "MSA|AA|PAS000470119\r");
}

/* REQ HL7-ACK-AE */
static void ack_ae_carries_err_with_location_code_severity_and_reason(void **s)
{
    (void)s;
    vigil_hl7_ack_opts o = {"VIGIL0002", ACK_T, NULL, NULL, NULL, 0};
    assert_string_equal(
        ack_for("bad/retraction_status_w.hl7", &o, VIGIL_OK),
        "MSH|^~\\&|VIGIL|RX1|EOBS|RX1|20250101000000+0000||ACK^R01^ACK|VIGIL0002|P|2.5.1\r"
        "MSA|AE|EOBS20250114083215001\r"
        "ERR||OBX^7^11^1|207^Application internal error^HL70357|E|retraction^^99VIGIL|||"
        "OBX #7 heart rate (LN 8867-4): OBX-11 result status W (retract) is not taken over HL7: "
        "correct the record in vigil\r");
}

/* REQ HL7-ACK-WARNINGS REQ HL7-ORU-PER-RESULT: the message is accepted with its
 * other vital signs; the refused result is named in an ERR with severity W */
static void ack_aa_names_each_refused_result_in_an_err_with_severity_w(void **s)
{
    (void)s;
    vigil_status st;
    vigil_hl7_result *r = golden_decode("bad/implausible_value.hl7", &st);
    assert_int_equal(st, VIGIL_OK);
    assert_int_equal(r->oru.n_warnings, 1);
    vigil_hl7_ack_opts o = {"VIGIL0002", ACK_T, NULL, NULL, r->oru.warnings, r->oru.n_warnings};
    char out[VIGIL_HL7_ACK_MAX];
    size_t n = 0;
    assert_int_equal(vigil_hl7_ack_build(&r->hdr, &r->fault, &o, out, sizeof out, &n), VIGIL_OK);
    assert_string_equal(
        out, "MSH|^~\\&|VIGIL|RX1|EOBS|RX1|20250101000000+0000||ACK^R01^ACK|VIGIL0002|P|2.5.1\r"
             "MSA|AA|EOBS20250114083215001\r"
             "ERR||OBX^7^5^1|102^Data type error^HL70357|W|implausible^^99VIGIL|||"
             "OBX #7 heart rate (LN 8867-4): value 350 /min is implausible (hr 350 is outside the "
             "plausible range 10 to 300)\r");
    free(r);
}

/* REQ HL7-AR-HEADER */
static void ack_ar_for_an_unsupported_version_answers_in_2_5_1(void **s)
{
    (void)s;
    vigil_hl7_ack_opts o = {"VIGIL0003", ACK_T, NULL, NULL};
    assert_string_equal(
        ack_for("bad/unsupported_version.hl7", &o, VIGIL_OK),
        "MSH|^~\\&|VIGIL|RX1|EOBS|RX1|20250101000000+0000||ACK^R01^ACK|VIGIL0003|P|2.5.1\r"
        "MSA|AR|EOBS20250114083215001\r"
        "ERR||MSH^1^12^1^1|203^Unsupported version id^HL70357|E|unsupported-version^^99VIGIL|||"
        "HL7 version '2.2' is not supported (2.5.1; also 2.3 to 2.9)\r");
}

static void ack_ar_for_an_unreadable_message_uses_defaults(void **s)
{
    (void)s;
    vigil_hl7_ack_opts o = {"VIGIL0004", ACK_T, "VIGIL", "RX1"};
    assert_string_equal(ack_for("bad/missing_msh.hl7", &o, VIGIL_OK),
                        "MSH|^~\\&|VIGIL|RX1|||20250101000000+0000||ACK^^ACK|VIGIL0004|P|2.5.1\r"
                        "MSA|AR|\r"
                        "ERR||MSH^1|100^Segment sequence error^HL70357|E|no-msh^^99VIGIL|||"
                        "the first segment is not MSH\r");
}

static void ack_after_a_late_parse_fault_still_echoes_the_header(void **s)
{
    (void)s;
    vigil_hl7_ack_opts o = {"VIGIL0005", ACK_T, NULL, NULL};
    char *a = ack_for("bad/second_msh.hl7", &o, VIGIL_OK);
    assert_non_null(strstr(a, "MSA|AR|EOBS20250114083215001\r"));
    assert_non_null(strstr(a, "ACK^R01^ACK"));
}

static void ack_escapes_separators_in_the_user_message(void **s)
{
    (void)s;
    vigil_hl7_header h;
    memset(&h, 0, sizeof h);
    h.seps_valid = true;
    h.seps = (vigil_hl7_seps){'|', '^', '~', '\\', '&'};
    memcpy(h.control_raw, "C1", 3);
    vigil_hl7_fault f;
    vigil_hl7_fault_clear(&f);
    f.ack = VIGIL_HL7_AE;
    f.code = VIGIL_HL7_E_DATA_TYPE;
    f.reason = VIGIL_HL7_R_NOT_NUMERIC;
    memcpy(f.text, "value '7|2^3~4\\5&6\r' bad", 25);
    vigil_hl7_ack_opts o = {"A1", ACK_T, NULL, NULL};
    char out[1024];
    size_t n = 0;
    assert_int_equal(vigil_hl7_ack_build(&h, &f, &o, out, sizeof out, &n), VIGIL_OK);
    assert_non_null(strstr(out, "|||value '7\\F\\2\\S\\3\\R\\4\\E\\5\\T\\6\\X0D\\' bad\r"));
    /* and it parses back as one message whose ERR-8 decodes to the text */
    vigil_hl7_msg *m = malloc(sizeof *m);
    assert_non_null(m);
    vigil_hl7_fault pf;
    assert_int_equal(vigil_hl7_parse(out, n, m, &pf), VIGIL_OK);
    assert_int_equal(m->n_seg, 3);
    size_t err = vigil_hl7_find(m, "ERR", 0);
    vigil_hl7_view v;
    vigil_hl7_get(m, err, 8, 1, 0, 0, &v);
    char text[256];
    assert_int_equal(vigil_hl7_unescape(&m->seps, v, text, sizeof text, NULL), VIGIL_OK);
    assert_string_equal(text, f.text);
    free(m);
}

/* REQ HL7-ACK-ENCODING */
static void ack_to_custom_delimiters_is_standard_and_transcodes_the_echo(void **s)
{
    (void)s;
    vigil_hl7_ack_opts o = {"V6", ACK_T, NULL, NULL};
    /* MSH-10 was MON$F$0007 with $ as escape and ! as field separator */
    assert_string_equal(
        ack_for("oru_custom_delimiters.hl7", &o, VIGIL_OK),
        "MSH|^~\\&|VIGIL|RX1|MONITOR|RX1|20250101000000+0000||ACK^R01^ACK|V6|P|2.4\r"
        "MSA|AA|MON!0007\r");
    /* components, repetitions and escapes of echoed fields are mapped */
    vigil_hl7_header h;
    memset(&h, 0, sizeof h);
    h.seps_valid = true;
    h.seps = (vigil_hl7_seps){'!', '.', '+', '$', '%'};
    memcpy(h.sending_app, "EOBS.1.2.3+X", 13); /* components, a repetition */
    memcpy(h.sending_fac, "A|B^C$T$D$Q$", 13); /* default delimiters as data; $Q$ unknown */
    memcpy(h.control_raw, "ID$S$7", 7);
    memcpy(h.version, "2.5.1", 6);
    memcpy(h.processing_id, "P", 2);
    char out[VIGIL_HL7_ACK_MAX];
    size_t n = 0;
    assert_int_equal(vigil_hl7_ack_build(&h, NULL, &o, out, sizeof out, &n), VIGIL_OK);
    assert_string_equal(out, "MSH|^~\\&|||EOBS^1^2^3~X|A\\F\\B\\S\\C%D$Q$|"
                             "20250101000000+0000||ACK^^ACK|V6|P|2.5.1\r"
                             "MSA|AA|ID.7\r");
}

static void ack_refuses_bad_control_ids_and_small_buffers(void **s)
{
    (void)s;
    vigil_hl7_header h;
    memset(&h, 0, sizeof h);
    char out[512];
    size_t n = 0;
    vigil_hl7_ack_opts o = {"", ACK_T, NULL, NULL};
    assert_int_equal(vigil_hl7_ack_build(&h, NULL, &o, out, sizeof out, &n), VIGIL_ERR_ARG);
    o.control_id = "A|B";
    assert_int_equal(vigil_hl7_ack_build(&h, NULL, &o, out, sizeof out, &n), VIGIL_ERR_ARG);
    o.control_id = "A B";
    assert_int_equal(vigil_hl7_ack_build(&h, NULL, &o, out, sizeof out, &n), VIGIL_ERR_ARG);
    o.control_id = NULL;
    assert_int_equal(vigil_hl7_ack_build(&h, NULL, &o, out, sizeof out, &n), VIGIL_ERR_ARG);
    o.control_id = "OK1";
    assert_int_equal(vigil_hl7_ack_build(&h, NULL, &o, out, 20, &n), VIGIL_ERR_NOMEM);
    assert_string_equal(out, "");
    assert_int_equal(vigil_hl7_ack_build(&h, NULL, &o, out, sizeof out, &n), VIGIL_OK);
    assert_non_null(strstr(out, "MSA|AA|\r"));
}

static void ack_unknown_patient_is_ae_204_at_pid_3(void **s)
{
    (void)s;
    vigil_status st;
    vigil_hl7_result *r = golden_decode("oru_full_set.hl7", &st);
    assert_int_equal(st, VIGIL_OK);
    vigil_hl7_fault_unknown_patient(&r->fault, r->events[0].nhs_number);
    vigil_hl7_ack_opts o = {"V7", ACK_T, NULL, NULL};
    char out[1024];
    size_t n = 0;
    assert_int_equal(vigil_hl7_ack_build(&r->hdr, &r->fault, &o, out, sizeof out, &n), VIGIL_OK);
    assert_non_null(strstr(out, "MSA|AE|EOBS20250114083215001\r"
                                "ERR||PID^1^3|204^Unknown key identifier^HL70357|E|"
                                "unknown-patient^^99VIGIL|||patient 9990000018 is not on"));
    free(r);
}

static void ack_every_golden_message_gets_one_that_parses(void **s)
{
    (void)s;
    static const char *const files[] = {
        "oru_full_set.hl7",    "oru_oxygen_bst.hl7",          "oru_two_sets_local_time.hl7",
        "adt_a01_admit.hl7",   "adt_a02_transfer.hl7",        "adt_a03_discharge.hl7",
        "bad/binary_junk.hl7", "bad/wrong_encoding_chars.hl7"};
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        vigil_hl7_ack_opts o = {"V8", ACK_T, "VIGIL", "RX1"};
        char *a = ack_for(files[k], &o, VIGIL_OK);
        vigil_hl7_result *r = malloc(sizeof *r);
        assert_non_null(r);
        /* an ACK is recognised as one: never answered */
        assert_int_equal(vigil_hl7_decode(a, strlen(a), NULL, r), VIGIL_OK);
        assert_int_equal(r->kind, VIGIL_HL7_KIND_ACK);
        free(r);
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(ack_aa_swaps_sender_and_receiver_and_echoes_the_control_id),
    cmocka_unit_test(ack_ae_carries_err_with_location_code_severity_and_reason),
    cmocka_unit_test(ack_aa_names_each_refused_result_in_an_err_with_severity_w),
    cmocka_unit_test(ack_ar_for_an_unsupported_version_answers_in_2_5_1),
    cmocka_unit_test(ack_ar_for_an_unreadable_message_uses_defaults),
    cmocka_unit_test(ack_after_a_late_parse_fault_still_echoes_the_header),
    cmocka_unit_test(ack_escapes_separators_in_the_user_message),
    cmocka_unit_test(ack_to_custom_delimiters_is_standard_and_transcodes_the_echo),
    cmocka_unit_test(ack_refuses_bad_control_ids_and_small_buffers),
    cmocka_unit_test(ack_unknown_patient_is_ae_204_at_pid_3),
    cmocka_unit_test(ack_every_golden_message_gets_one_that_parses),
};

VIGIL_TEST_MAIN(tests)
