/*
 * test_hl7_limits.c: messages built to make the decoder work hard (issue 12,
 * finding 1). A field repeated N times used to cost N^2 (PID-3 was read one
 * repetition at a time, each read rescanning the field): 20,000 repetitions
 * took seconds and stalled the MLLP listener. Now a field may repeat at most
 * VIGIL_HL7_MAX_REPS times (REQ HL7-MAX-REPS): more is refused AR before any
 * content is read, and PID-3 is walked once. Up to the cap, every repetition
 * is still read, the last one included.
 */
#include <stdlib.h>
#include <string.h>

#include "vigil/hl7.h"
#include "vigil_test.h"

#define NHS "9990000018"

/* An ORU^R01 whose PID-3 has n_reps repetitions: n_reps - 1 bare ids with no
 * type (skipped), then (when nhs_last) the NHS number: 20,000 fit in about
 * 40 KB, well under VIGIL_HL7_MAX_LEN. Caller frees. */
static char *oru_with_pid3(unsigned n_reps, bool nhs_last, size_t *out_len)
{
    size_t cap = 4096 + (size_t)n_reps * 8;
    char *m = malloc(cap);
    assert_non_null(m);
    size_t n = (size_t)snprintf(m, cap,
                                "MSH|^~\\&|EOBS|RX1|VIGIL|RX1|20250114083215+0000||ORU^R01|"
                                "REPS%u|P|2.5.1\rPID|1||",
                                n_reps);
    for (unsigned r = 1; r < n_reps; r++) {
        n += (size_t)snprintf(m + n, cap - n, "%u~", r % 10);
    }
    n += (size_t)snprintf(m + n, cap - n, "%s\r", nhs_last ? NHS "^^^NHS^NH" : "Y^^^RX1^XX");
    n += (size_t)snprintf(m + n, cap - n,
                          "OBR|1||OBS1|86290005^Vital signs^SCT|||20250114083000+0000\r"
                          "OBX|1|NM|8867-4^Heart rate^LN||72|/min^/min^UCUM|||||F|||"
                          "20250114083000+0000\r");
    assert_true(n < cap);
    *out_len = n;
    return m;
}

static void decode(const char *m, size_t n, vigil_hl7_result *r)
{
    vigil_hl7_opts o;
    vigil_hl7_opts_init(&o);
    vigil_hl7_decode(m, n, &o, r);
}

/* REQ HL7-MAX-REPS */
static void pid3_with_20000_repetitions_is_refused_as_oversize_at_pid_3(void **s)
{
    (void)s;
    size_t n = 0;
    char *m = oru_with_pid3(20000, true, &n);
    vigil_hl7_result *r = malloc(sizeof *r);
    assert_non_null(r);
    decode(m, n, r);
    assert_int_equal(r->fault.ack, VIGIL_HL7_AR);
    assert_string_equal(vigil_hl7_reason_name(r->fault.reason), "oversize");
    assert_string_equal(r->fault.loc.seg, "PID");
    assert_int_equal(r->fault.loc.seq, 1);
    assert_int_equal(r->fault.loc.field, 3);
    assert_non_null(strstr(r->fault.text, "PID-3 repeats more than 100 times"));
    assert_int_equal(r->n_events, 0);
    /* the ACK still echoes the control id */
    assert_string_equal(r->hdr.control_id, "REPS20000");
    free(r);
    free(m);
}

/* REQ HL7-MAX-REPS */
static void field_at_the_repetition_cap_is_read_to_its_last_repetition(void **s)
{
    (void)s;
    size_t n = 0;
    char *m = oru_with_pid3(VIGIL_HL7_MAX_REPS, true, &n);
    vigil_hl7_result *r = malloc(sizeof *r);
    assert_non_null(r);
    decode(m, n, r);
    if (r->fault.ack != VIGIL_HL7_AA) {
        fail_msg("refused: %s", r->fault.text);
    }
    assert_int_equal(r->n_events, 1);
    assert_string_equal(r->events[0].nhs_number, NHS);
    free(m);
    /* one more is refused */
    m = oru_with_pid3(VIGIL_HL7_MAX_REPS + 1, true, &n);
    decode(m, n, r);
    assert_int_equal(r->fault.ack, VIGIL_HL7_AR);
    assert_int_equal(r->fault.loc.field, 3);
    free(r);
    free(m);
}

/* REQ HL7-MAX-REPS: any field, any segment, not only PID-3 */
static void any_field_over_the_repetition_cap_is_refused_where_it_is(void **s)
{
    (void)s;
    size_t cap = 8192;
    char *m = malloc(cap);
    assert_non_null(m);
    size_t n = (size_t)snprintf(m, cap,
                                "MSH|^~\\&|EOBS|RX1|VIGIL|RX1|20250114083215+0000||ORU^R01|"
                                "OBXREPS|P|2.5.1\rPID|1||" NHS "^^^NHS^NH\r"
                                "OBR|1||OBS1|86290005^Vital signs^SCT|||20250114083000+0000\r"
                                "OBX|1|NM|8867-4^Heart rate^LN||72|/min^/min^UCUM|||||F|||"
                                "20250114083000+0000\rOBX|2|ST|X^Note^L||");
    for (int k = 0; k < VIGIL_HL7_MAX_REPS + 1; k++) {
        n += (size_t)snprintf(m + n, cap - n, "a~");
    }
    n += (size_t)snprintf(m + n, cap - n, "||||||F\r");
    assert_true(n < cap);
    vigil_hl7_result *r = malloc(sizeof *r);
    assert_non_null(r);
    decode(m, n, r);
    assert_int_equal(r->fault.ack, VIGIL_HL7_AR);
    assert_string_equal(r->fault.loc.seg, "OBX");
    assert_int_equal(r->fault.loc.seq, 2);
    assert_int_equal(r->fault.loc.field, 5);
    free(r);
    free(m);
}

/* MSH-2 holds the repetition character itself: it is not a repetition */
static void msh_encoding_characters_do_not_count_as_repetitions(void **s)
{
    (void)s;
    size_t n = 0;
    char *m = oru_with_pid3(1, true, &n);
    vigil_hl7_result *r = malloc(sizeof *r);
    assert_non_null(r);
    decode(m, n, r);
    assert_int_equal(r->fault.ack, VIGIL_HL7_AA);
    free(r);
    free(m);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(pid3_with_20000_repetitions_is_refused_as_oversize_at_pid_3),
    cmocka_unit_test(field_at_the_repetition_cap_is_read_to_its_last_repetition),
    cmocka_unit_test(any_field_over_the_repetition_cap_is_refused_where_it_is),
    cmocka_unit_test(msh_encoding_characters_do_not_count_as_repetitions),
};

VIGIL_TEST_MAIN(tests)
