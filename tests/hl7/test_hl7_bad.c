/*
 * test_hl7_bad.c: the malformed corpus tests/golden/hl7/bad/*.hl7. Each file
 * is refused with a specific acknowledgement code (AE or AR), HL7 table 0357
 * code, vigil reason and location, and never yields an event. A fault in one
 * result (units, value, value type, coded value, status) refuses that result
 * only: the message is accepted (AA) with the other vital signs, and the ACK
 * names the refused result in an ERR with severity W (check_result).
 */
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "vigil/hl7.h"
#include "vigil_test.h"

typedef struct expect {
    const char *file;
    vigil_hl7_ack_code ack;
    vigil_hl7_errcode code;
    vigil_hl7_reason reason;
    const char *seg; /* ERR-2 segment, "" for none */
    unsigned seq, field;
    const char *text; /* a phrase the reason must contain */
} expect;

static void check(const expect *x)
{
    char name[128];
    snprintf(name, sizeof name, "bad/%s", x->file);
    vigil_status st;
    vigil_hl7_result *r = golden_decode(name, &st);
    assert_int_not_equal(st, VIGIL_OK);
    if (r->fault.reason != x->reason) {
        fail_msg("%s: reason %s, wanted %s (%s)", x->file, vigil_hl7_reason_name(r->fault.reason),
                 vigil_hl7_reason_name(x->reason), r->fault.text);
    }
    assert_int_equal(r->fault.ack, x->ack);
    assert_int_equal(r->fault.code, x->code);
    assert_string_equal(r->fault.loc.seg, x->seg);
    assert_int_equal(r->fault.loc.seq, x->seq);
    assert_int_equal(r->fault.loc.field, x->field);
    if (strstr(r->fault.text, x->text) == NULL) {
        fail_msg("%s: '%s' does not say '%s'", x->file, r->fault.text, x->text);
    }
    assert_int_equal(r->n_events, 0);
    /* every refusal still gets an ACK with its ERR segment */
    char ack[2048];
    size_t n = 0;
    vigil_hl7_ack_opts o = {"ACK1", 0, "VIGIL", NULL};
    assert_int_equal(vigil_hl7_ack_build(&r->hdr, &r->fault, &o, ack, sizeof ack, &n), VIGIL_OK);
    assert_non_null(strstr(ack, x->ack == VIGIL_HL7_AR ? "MSA|AR|" : "MSA|AE|"));
    assert_non_null(strstr(ack, "\rERR|"));
    free(r);
}

/* REQ HL7-ORU-PER-RESULT: the refused result is named, the rest stored */
static void check_result(const expect *x)
{
    char name[128];
    snprintf(name, sizeof name, "bad/%s", x->file);
    vigil_status st;
    vigil_hl7_result *r = golden_decode(name, &st);
    assert_int_equal(st, VIGIL_OK);
    assert_int_equal(r->fault.ack, VIGIL_HL7_AA);
    assert_true(r->n_events >= 1);
    assert_int_equal(r->oru.n_refused, 1);
    assert_int_equal(r->oru.n_warnings, 1);
    const vigil_hl7_fault *w = &r->oru.warnings[0];
    if (w->reason != x->reason) {
        fail_msg("%s: reason %s, wanted %s (%s)", x->file, vigil_hl7_reason_name(w->reason),
                 vigil_hl7_reason_name(x->reason), w->text);
    }
    assert_int_equal(w->code, x->code);
    assert_string_equal(w->loc.seg, x->seg);
    assert_int_equal(w->loc.seq, x->seq);
    assert_int_equal(w->loc.field, x->field);
    if (strstr(w->text, x->text) == NULL) {
        fail_msg("%s: '%s' does not say '%s'", x->file, w->text, x->text);
    }
    char ack[VIGIL_HL7_ACK_MAX];
    size_t n = 0;
    vigil_hl7_ack_opts o = {.control_id = "ACK1",
                            .app = "VIGIL",
                            .warnings = r->oru.warnings,
                            .n_warnings = r->oru.n_warnings};
    assert_int_equal(vigil_hl7_ack_build(&r->hdr, &r->fault, &o, ack, sizeof ack, &n), VIGIL_OK);
    assert_non_null(strstr(ack, "MSA|AA|"));
    assert_non_null(strstr(ack, "|W|"));
    free(r);
}

#define AR_ VIGIL_HL7_AR
#define AE_ VIGIL_HL7_AE

static void bad_missing_msh_is_rejected(void **s)
{
    (void)s;
    expect x = {"missing_msh.hl7", AR_, 100, VIGIL_HL7_R_NO_MSH, "MSH", 1, 0, "not MSH"};
    check(&x);
}

static void bad_wrong_encoding_chars_are_rejected(void **s)
{
    (void)s;
    expect x = {"wrong_encoding_chars.hl7", AR_, 102, VIGIL_HL7_R_BAD_ENCODING, "MSH", 1, 2,
                "the same character"};
    check(&x);
}

static void bad_timestamp_is_refused_naming_obr_7(void **s)
{
    (void)s;
    expect x = {"bad_timestamp.hl7",
                AE_,
                102,
                VIGIL_HL7_R_BAD_TIMESTAMP,
                "OBR",
                1,
                7,
                "'20250231083000+0000' is not a real date/time"};
    check(&x);
}

static void bad_nhs_check_digit_is_refused(void **s)
{
    (void)s;
    expect x = {"bad_nhs_check_digit.hl7", AE_, 102, VIGIL_HL7_R_BAD_NHS_NUMBER, "PID", 1, 3,
                "fails its check digit"};
    check(&x);
}

static void bad_implausible_value_refuses_that_result_naming_obx_and_value(void **s)
{
    (void)s;
    expect x = {"implausible_value.hl7",
                AE_,
                102,
                VIGIL_HL7_R_IMPLAUSIBLE,
                "OBX",
                7,
                5,
                "OBX #7 heart rate (LN 8867-4): value 350 /min is implausible"};
    check_result(&x);
}

static void bad_non_numeric_value_refuses_that_result(void **s)
{
    (void)s;
    expect x = {"non_numeric_value.hl7",        AE_, 102, VIGIL_HL7_R_NOT_NUMERIC, "OBX", 7, 5,
                "'seventy-two' is not a number"};
    check_result(&x);
}

static void bad_truncated_segment_refuses_that_result(void **s)
{
    (void)s;
    expect x = {"truncated_segment.hl7",        AE_, 101, VIGIL_HL7_R_MISSING_FIELD, "OBX", 7, 11,
                "OBX-11 result status is empty"};
    check_result(&x);
}

static void bad_oversize_message_is_rejected(void **s)
{
    (void)s;
    expect x = {"oversize.hl7", AR_, 207, VIGIL_HL7_R_OVERSIZE, "", 0, 0, "more than 512"};
    check(&x);
}

static void bad_binary_junk_is_rejected(void **s)
{
    (void)s;
    expect x = {"binary_junk.hl7", AR_, 102, VIGIL_HL7_R_CONTROL_BYTE, "", 0, 0, "not HL7 text"};
    check(&x);
}

static void bad_unsupported_version_is_rejected(void **s)
{
    (void)s;
    expect x = {"unsupported_version.hl7", AR_, 203, VIGIL_HL7_R_UNSUPPORTED_VERSION, "MSH", 1, 12,
                "'2.2' is not supported"};
    check(&x);
}

static void bad_unsupported_message_type_is_rejected(void **s)
{
    (void)s;
    expect x = {"unsupported_message_type.hl7",
                AR_,
                200,
                VIGIL_HL7_R_UNSUPPORTED_MESSAGE,
                "MSH",
                1,
                9,
                "'ORM'"};
    check(&x);
}

static void bad_unsupported_event_is_rejected(void **s)
{
    (void)s;
    expect x = {
        "unsupported_event.hl7", AR_, 201, VIGIL_HL7_R_UNSUPPORTED_EVENT, "MSH", 1, 9, "'A04'"};
    check(&x);
}

static void bad_training_processing_id_is_rejected(void **s)
{
    (void)s;
    expect x = {"training_processing_id.hl7",
                AR_,
                202,
                VIGIL_HL7_R_UNSUPPORTED_PROCESSING,
                "MSH",
                1,
                11,
                "'T'"};
    check(&x);
}

static void bad_wrong_units_refuse_that_result(void **s)
{
    (void)s;
    expect x = {"wrong_units.hl7", AE_, 103, VIGIL_HL7_R_BAD_UNITS, "OBX", 9, 6, "'K'"};
    check_result(&x);
}

static void bad_no_patient_id_is_refused(void **s)
{
    (void)s;
    expect x = {"no_patient_id.hl7",    AE_, 101, VIGIL_HL7_R_NO_PATIENT_ID, "PID", 1, 3,
                "neither an NHS number"};
    check(&x);
}

static void bad_ambiguous_local_time_is_refused(void **s)
{
    (void)s;
    expect x = {"ambiguous_local_time.hl7",
                AE_,
                102,
                VIGIL_HL7_R_AMBIGUOUS_TIME,
                "OBR",
                1,
                7,
                "happens twice"};
    check(&x);
}

static void bad_retraction_status_w_is_refused(void **s)
{
    (void)s;
    expect x = {"retraction_status_w.hl7",    AE_, 207, VIGIL_HL7_R_RETRACTION, "OBX", 7, 11,
                "correct the record in vigil"};
    check(&x);
}

static void bad_obx_before_obr_is_refused(void **s)
{
    (void)s;
    expect x = {"obx_before_obr.hl7", AE_, 100, VIGIL_HL7_R_MISSING_SEGMENT, "OBX", 1, 0,
                "before any OBR"};
    check(&x);
}

static void bad_adt_admit_without_ward_is_refused(void **s)
{
    (void)s;
    expect x = {"adt_admit_without_ward.hl7", AE_, 101, VIGIL_HL7_R_MISSING_FIELD, "PV1", 1, 3,
                "assigned ward is empty"};
    check(&x);
}

static void bad_escape_in_identifier_is_refused(void **s)
{
    (void)s;
    expect x = {"bad_escape.hl7",  AE_, 102, VIGIL_HL7_R_BAD_IDENTIFIER, "PID", 1, 3,
                "malformed escape"};
    check(&x);
}

static void bad_second_msh_is_rejected(void **s)
{
    (void)s;
    expect x = {"second_msh.hl7",       AR_, 100, VIGIL_HL7_R_SECOND_MSH, "MSH", 2, 0,
                "one message per frame"};
    check(&x);
}

static void bad_value_type_not_nm_refuses_that_result(void **s)
{
    (void)s;
    expect x = {"value_type_not_nm.hl7", AE_, 102, VIGIL_HL7_R_VALUE_TYPE, "OBX", 7, 2,
                "'ST' is not NM"};
    check_result(&x);
}

static void bad_acvpu_not_in_scale_refuses_that_result(void **s)
{
    (void)s;
    expect x = {"acvpu_not_in_scale.hl7",  AE_, 103, VIGIL_HL7_R_BAD_CODE, "OBX", 8, 5,
                "not one of A, C, V, P, U"};
    check_result(&x);
}

static void bad_missing_control_id_is_rejected(void **s)
{
    (void)s;
    expect x = {"missing_control_id.hl7", AR_, 101, VIGIL_HL7_R_BAD_HEADER, "MSH", 1, 10,
                "control id is empty"};
    check(&x);
}

static void bad_no_observation_time_is_refused(void **s)
{
    (void)s;
    expect x = {"no_observation_time.hl7",
                AE_,
                101,
                VIGIL_HL7_R_MISSING_FIELD,
                "OBX",
                1,
                14,
                "no observation time in OBX-14 or OBR-7"};
    check(&x);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(bad_missing_msh_is_rejected),
    cmocka_unit_test(bad_wrong_encoding_chars_are_rejected),
    cmocka_unit_test(bad_timestamp_is_refused_naming_obr_7),
    cmocka_unit_test(bad_nhs_check_digit_is_refused),
    cmocka_unit_test(bad_implausible_value_refuses_that_result_naming_obx_and_value),
    cmocka_unit_test(bad_non_numeric_value_refuses_that_result),
    cmocka_unit_test(bad_truncated_segment_refuses_that_result),
    cmocka_unit_test(bad_oversize_message_is_rejected),
    cmocka_unit_test(bad_binary_junk_is_rejected),
    cmocka_unit_test(bad_unsupported_version_is_rejected),
    cmocka_unit_test(bad_unsupported_message_type_is_rejected),
    cmocka_unit_test(bad_unsupported_event_is_rejected),
    cmocka_unit_test(bad_training_processing_id_is_rejected),
    cmocka_unit_test(bad_wrong_units_refuse_that_result),
    cmocka_unit_test(bad_no_patient_id_is_refused),
    cmocka_unit_test(bad_ambiguous_local_time_is_refused),
    cmocka_unit_test(bad_retraction_status_w_is_refused),
    cmocka_unit_test(bad_obx_before_obr_is_refused),
    cmocka_unit_test(bad_adt_admit_without_ward_is_refused),
    cmocka_unit_test(bad_escape_in_identifier_is_refused),
    cmocka_unit_test(bad_second_msh_is_rejected),
    cmocka_unit_test(bad_value_type_not_nm_refuses_that_result),
    cmocka_unit_test(bad_acvpu_not_in_scale_refuses_that_result),
    cmocka_unit_test(bad_missing_control_id_is_rejected),
    cmocka_unit_test(bad_no_observation_time_is_refused),
};

VIGIL_TEST_MAIN(tests)
