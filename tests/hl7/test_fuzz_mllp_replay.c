/*
 * test_fuzz_mllp_replay.c: fuzz/fuzz_mllp.c's harness (chunked decoding
 * equals whole decoding; re-framed messages decode to themselves) over its
 * seed corpus, as a plain test.
 */
#include "../../fuzz/fuzz_mllp.c"
#include "fuzz_replay.h"

static void fuzz_mllp_seed_corpus_holds_the_invariants(void **s)
{
    (void)s;
    assert_true(replay_dir("fuzz/corpus/mllp", LLVMFuzzerTestOneInput) >= 9);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(fuzz_mllp_seed_corpus_holds_the_invariants),
};

VIGIL_TEST_MAIN(tests)
