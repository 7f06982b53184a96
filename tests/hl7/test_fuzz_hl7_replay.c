/*
 * test_fuzz_hl7_replay.c: fuzz/fuzz_hl7.c's harness, invariants and all,
 * over its seed corpus and over every input a fuzzing run ever crashed on
 * (tests/golden/hl7/regress/), as plain tests under CTest (and ASan in CI).
 */
#include "../../fuzz/fuzz_hl7.c"
#include "fuzz_replay.h"

static void fuzz_hl7_seed_corpus_holds_the_invariants(void **s)
{
    (void)s;
    assert_true(replay_dir("fuzz/corpus/hl7", LLVMFuzzerTestOneInput) >= 30);
}

static void fuzz_hl7_past_crash_inputs_hold_the_invariants(void **s)
{
    (void)s;
    assert_true(replay_dir("tests/golden/hl7/regress", LLVMFuzzerTestOneInput) >= 1);
}

/* Found by fuzz_hl7: an MSH-10 holding a component separator is not an ST. */
static void control_id_with_a_component_separator_is_rejected(void **s)
{
    (void)s;
    static const char msg[] = "MSH|^~\\&|A|B|C|D|20250101000000+0000||ORU^R01|ORU^R01|P|2.5.1\r";
    vigil_hl7_result *r = malloc(sizeof *r);
    assert_non_null(r);
    assert_int_not_equal(vigil_hl7_decode(msg, sizeof msg - 1, NULL, r), VIGIL_OK);
    assert_int_equal(r->fault.ack, VIGIL_HL7_AR);
    assert_int_equal(r->fault.reason, VIGIL_HL7_R_BAD_HEADER);
    assert_int_equal(r->fault.loc.field, 10);
    assert_string_equal(r->hdr.control_id, "");
    free(r);
}

/* Found by fuzz_hl7: a '.' repetition separator must not split the ACK's "2.5.1". */
static void ack_to_a_dot_repetition_separator_reads_back(void **s)
{
    (void)s;
    static const char msg[] = "MSH|^.\\&|A|B|C|D|20250101000000+0000||ORU^R01|X1|P|2.5.1\r";
    LLVMFuzzerTestOneInput((const uint8_t *)msg, sizeof msg - 1);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(fuzz_hl7_seed_corpus_holds_the_invariants),
    cmocka_unit_test(fuzz_hl7_past_crash_inputs_hold_the_invariants),
    cmocka_unit_test(control_id_with_a_component_separator_is_rejected),
    cmocka_unit_test(ack_to_a_dot_repetition_separator_reads_back),
};

VIGIL_TEST_MAIN(tests)
