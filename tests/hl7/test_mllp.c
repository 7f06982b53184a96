/* test_mllp.c: MLLP framing (HL7 v2.5.1 Implementation Guide, Appendix C). */
#include <stdlib.h>
#include <string.h>

#include "vigil/mllp.h"
#include "vigil_test.h"

#define MAXEV 32

typedef struct got {
    size_t n;
    vigil_mllp_kind kind[MAXEV];
    vigil_mllp_error error[MAXEV];
    char msg[MAXEV][128];
} got;

/* Feed data in chunks of `chunk` bytes (0: all at once), recording every event. */
static void feed(vigil_mllp_decoder *d, const void *data, size_t n, size_t chunk, got *g)
{
    const unsigned char *p = data;
    while (n > 0) {
        size_t len = chunk == 0 || chunk > n ? n : chunk;
        const unsigned char *q = p;
        size_t left = len;
        while (left > 0) {
            size_t used = 0;
            vigil_mllp_frame f;
            assert_int_equal(vigil_mllp_decode(d, q, left, &used, &f), VIGIL_OK);
            assert_true(used <= left);
            if (f.kind != VIGIL_MLLP_NEED_MORE) {
                assert_true(g->n < MAXEV);
                g->kind[g->n] = f.kind;
                g->error[g->n] = f.error;
                g->msg[g->n][0] = '\0';
                if (f.kind == VIGIL_MLLP_MESSAGE) {
                    assert_true(f.len < sizeof g->msg[0]);
                    memcpy(g->msg[g->n], f.msg, f.len);
                    g->msg[g->n][f.len] = '\0';
                }
                g->n++;
            } else {
                assert_int_equal(used, left);
            }
            q += used;
            left -= used;
        }
        p += len;
        n -= len;
    }
}

static const char two_frames[] = "\x0bMSH|one\rPID|1\r\x1c\x0d\x0bMSH|two\r\x1c\x0d";

static void mllp_yields_each_message_whatever_the_chunking(void **state)
{
    (void)state;
    for (size_t chunk = 0; chunk <= sizeof two_frames; chunk++) {
        unsigned char buf[64];
        vigil_mllp_decoder d;
        assert_int_equal(vigil_mllp_decoder_init(&d, buf, sizeof buf), VIGIL_OK);
        got g = {0};
        feed(&d, two_frames, sizeof two_frames - 1, chunk, &g);
        assert_int_equal(g.n, 2);
        assert_int_equal(g.kind[0], VIGIL_MLLP_MESSAGE);
        assert_string_equal(g.msg[0], "MSH|one\rPID|1\r");
        assert_string_equal(g.msg[1], "MSH|two\r");
        assert_int_equal(d.n_messages, 2);
        assert_int_equal(d.n_errors, 0);
    }
}

static void mllp_junk_before_start_block_is_reported_once_and_skipped(void **state)
{
    (void)state;
    static const char in[] = "garbage\r\n\x0bMSH|ok\r\x1c\x0d";
    unsigned char buf[64];
    vigil_mllp_decoder d;
    vigil_mllp_decoder_init(&d, buf, sizeof buf);
    got g = {0};
    feed(&d, in, sizeof in - 1, 3, &g);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.kind[0], VIGIL_MLLP_ERROR);
    assert_int_equal(g.error[0], VIGIL_MLLP_ERR_JUNK);
    assert_int_equal(g.kind[1], VIGIL_MLLP_MESSAGE);
    assert_string_equal(g.msg[1], "MSH|ok\r");
    assert_int_equal(d.n_discarded, 9);
}

static void mllp_end_block_without_cr_drops_the_frame_and_resynchronises(void **state)
{
    (void)state;
    /* the first frame ends 0x1C 'X'; the next 0x0B starts a good frame */
    static const char in[] = "\x0bMSH|bad\r\x1cX more junk\x0bMSH|good\r\x1c\x0d";
    unsigned char buf[64];
    vigil_mllp_decoder d;
    vigil_mllp_decoder_init(&d, buf, sizeof buf);
    got g = {0};
    feed(&d, in, sizeof in - 1, 0, &g);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.error[0], VIGIL_MLLP_ERR_BAD_END);
    assert_string_equal(g.msg[1], "MSH|good\r");
    /* 0x1C directly followed by 0x0B: the 0x0B is not lost */
    static const char in2[] = "\x0bMSH|a\x1c\x0bMSH|b\x1c\x0d";
    got g2 = {0};
    feed(&d, in2, sizeof in2 - 1, 1, &g2);
    assert_int_equal(g2.n, 2);
    assert_int_equal(g2.error[0], VIGIL_MLLP_ERR_BAD_END);
    assert_string_equal(g2.msg[1], "MSH|b");
}

static void mllp_oversize_message_is_refused_not_truncated(void **state)
{
    (void)state;
    unsigned char buf[8];
    vigil_mllp_decoder d;
    vigil_mllp_decoder_init(&d, buf, sizeof buf);
    static const char in[] = "\x0b"
                             "123456789\x1c\x0d\x0b"
                             "12345678\x1c\x0d";
    got g = {0};
    feed(&d, in, sizeof in - 1, 2, &g);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.error[0], VIGIL_MLLP_ERR_OVERSIZE);
    assert_int_equal(g.kind[1], VIGIL_MLLP_MESSAGE);
    assert_string_equal(g.msg[1], "12345678"); /* exactly the capacity fits */
}

static void mllp_start_block_inside_frame_restarts(void **state)
{
    (void)state;
    static const char in[] = "\x0bMSH|cut off\x0bMSH|whole\x1c\x0d";
    unsigned char buf[64];
    vigil_mllp_decoder d;
    vigil_mllp_decoder_init(&d, buf, sizeof buf);
    got g = {0};
    feed(&d, in, sizeof in - 1, 0, &g);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.error[0], VIGIL_MLLP_ERR_RESTART);
    assert_string_equal(g.msg[1], "MSH|whole");
}

static void mllp_empty_frame_is_an_error(void **state)
{
    (void)state;
    static const char in[] = "\x0b\x1c\x0d";
    unsigned char buf[8];
    vigil_mllp_decoder d;
    vigil_mllp_decoder_init(&d, buf, sizeof buf);
    got g = {0};
    feed(&d, in, sizeof in - 1, 0, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.error[0], VIGIL_MLLP_ERR_EMPTY);
}

static void mllp_partial_frame_waits_and_reset_forgets_it(void **state)
{
    (void)state;
    unsigned char buf[32];
    vigil_mllp_decoder d;
    vigil_mllp_decoder_init(&d, buf, sizeof buf);
    got g = {0};
    feed(&d, "\x0bMSH|half", 9, 0, &g);
    assert_int_equal(g.n, 0);
    vigil_mllp_decoder_reset(&d);
    feed(&d, "\x1c\x0d", 2, 0, &g); /* without the start it is junk */
    assert_int_equal(g.n, 1);
    assert_int_equal(g.error[0], VIGIL_MLLP_ERR_JUNK);
}

static void mllp_encode_frames_and_refuses_framing_bytes(void **state)
{
    (void)state;
    unsigned char out[16];
    size_t n = 0;
    assert_int_equal(vigil_mllp_encode("MSH|x\r", 6, out, sizeof out, &n), VIGIL_OK);
    assert_int_equal(n, 9);
    assert_memory_equal(out, "\x0bMSH|x\r\x1c\x0d", 9);
    assert_int_equal(vigil_mllp_encode("a\x1c", 2, out, sizeof out, &n), VIGIL_ERR_ARG);
    assert_int_equal(vigil_mllp_encode("a\x0b", 2, out, sizeof out, &n), VIGIL_ERR_ARG);
    assert_int_equal(vigil_mllp_encode("MSH|x\r", 6, out, 8, &n), VIGIL_ERR_NOMEM);
    /* round trip through the decoder */
    vigil_mllp_decoder *d = NULL;
    assert_int_equal(vigil_mllp_decoder_new(64, &d), VIGIL_OK);
    assert_int_equal(vigil_mllp_encode("MSH|x\r", 6, out, sizeof out, &n), VIGIL_OK);
    got g = {0};
    feed(d, out, n, 1, &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.msg[0], "MSH|x\r");
    vigil_mllp_decoder_free(d);
    vigil_mllp_decoder_free(NULL);
}

static void mllp_bad_arguments_are_refused(void **state)
{
    (void)state;
    vigil_mllp_decoder d;
    unsigned char buf[4];
    assert_int_equal(vigil_mllp_decoder_init(&d, buf, 0), VIGIL_ERR_ARG);
    assert_int_equal(vigil_mllp_decoder_init(NULL, buf, 4), VIGIL_ERR_ARG);
    vigil_mllp_decoder *p = NULL;
    assert_int_equal(vigil_mllp_decoder_new(0, &p), VIGIL_ERR_ARG);
    vigil_mllp_decoder_init(&d, buf, sizeof buf);
    size_t used;
    vigil_mllp_frame f;
    assert_int_equal(vigil_mllp_decode(&d, NULL, 3, &used, &f), VIGIL_ERR_ARG);
    assert_int_equal(vigil_mllp_decode(&d, NULL, 0, &used, &f), VIGIL_OK);
    assert_int_equal(f.kind, VIGIL_MLLP_NEED_MORE);
    assert_string_equal(vigil_mllp_error_name(VIGIL_MLLP_ERR_OVERSIZE), "oversize");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(mllp_yields_each_message_whatever_the_chunking),
    cmocka_unit_test(mllp_junk_before_start_block_is_reported_once_and_skipped),
    cmocka_unit_test(mllp_end_block_without_cr_drops_the_frame_and_resynchronises),
    cmocka_unit_test(mllp_oversize_message_is_refused_not_truncated),
    cmocka_unit_test(mllp_start_block_inside_frame_restarts),
    cmocka_unit_test(mllp_empty_frame_is_an_error),
    cmocka_unit_test(mllp_partial_frame_waits_and_reset_forgets_it),
    cmocka_unit_test(mllp_encode_frames_and_refuses_framing_bytes),
    cmocka_unit_test(mllp_bad_arguments_are_refused),
};

VIGIL_TEST_MAIN(tests)
