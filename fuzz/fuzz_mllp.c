/*
 * fuzz_mllp.c: libFuzzer target for the MLLP decoder and encoder
 * (vigil/mllp.h). Built and run by scripts/fuzz.sh; seeds in
 * fuzz/corpus/mllp (framed golden messages and broken streams).
 *
 * The first four bytes seed the chunking and the capacity; the rest is the
 * stream. Invariant: feeding the stream in random chunks gives exactly the
 * same messages and errors, in the same order, as feeding it at once; every
 * message fits the capacity and contains no framing byte; every message
 * framed again by the encoder decodes to itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/mllp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant: on failure say which, then abort so libFuzzer keeps the input. */
#define check(cond) check_at((cond), #cond, __LINE__)

static void check_at(int cond, const char *what, int line)
{
    if (!cond) {
        fprintf(stderr, "invariant failed at %s:%d: %s\n", __FILE__, line, what);
        abort();
    }
}

typedef struct trace {
    uint64_t hash; /* FNV-1a over every event */
    size_t n_msg, n_err;
} trace;

static void mix(trace *t, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t k = 0; k < n; k++) {
        t->hash = (t->hash ^ b[k]) * 1099511628211ULL;
    }
}

static void event(trace *t, const vigil_mllp_frame *f, size_t cap)
{
    if (f->kind == VIGIL_MLLP_NEED_MORE) {
        return; /* how often the data ran out depends on the chunking: not part of the trace */
    }
    unsigned char kind = (unsigned char)f->kind;
    mix(t, &kind, 1);
    if (f->kind == VIGIL_MLLP_MESSAGE) {
        check(f->len > 0 && f->len <= cap);
        check(memchr(f->msg, VIGIL_MLLP_SB, f->len) == NULL);
        mix(t, &f->len, sizeof f->len);
        mix(t, f->msg, f->len);
        t->n_msg++;
        /* re-frame and decode again */
        unsigned char *framed = malloc(f->len + 3);
        unsigned char *buf = malloc(f->len);
        check(framed != NULL && buf != NULL);
        size_t fn = 0;
        if (memchr(f->msg, VIGIL_MLLP_EB, f->len) == NULL) {
            check(vigil_mllp_encode(f->msg, f->len, framed, f->len + 3, &fn) == VIGIL_OK);
            vigil_mllp_decoder d;
            check(vigil_mllp_decoder_init(&d, buf, f->len) == VIGIL_OK);
            size_t used = 0;
            vigil_mllp_frame g;
            check(vigil_mllp_decode(&d, framed, fn, &used, &g) == VIGIL_OK);
            check(g.kind == VIGIL_MLLP_MESSAGE && used == fn && g.len == f->len &&
                  memcmp(g.msg, f->msg, f->len) == 0);
        }
        free(framed);
        free(buf);
    } else if (f->kind == VIGIL_MLLP_ERROR) {
        unsigned char e = (unsigned char)f->error;
        check(e > VIGIL_MLLP_ERR_NONE && e < VIGIL_MLLP_ERR_COUNT);
        mix(t, &e, 1);
        t->n_err++;
    }
}

/* xorshift32: the chunk sizes come from the input, reproducibly */
static uint32_t next(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

static trace run(const uint8_t *data, size_t size, size_t cap, uint32_t seed, int chunked)
{
    trace t = {1469598103934665603ULL, 0, 0};
    unsigned char *buf = malloc(cap);
    check(buf != NULL);
    vigil_mllp_decoder d;
    check(vigil_mllp_decoder_init(&d, buf, cap) == VIGIL_OK);
    size_t off = 0;
    while (off < size) {
        size_t len = size - off;
        if (chunked) {
            size_t want = 1 + next(&seed) % 17;
            len = want < len ? want : len;
        }
        const uint8_t *p = data + off;
        size_t left = len;
        while (left > 0) {
            size_t used = 0;
            vigil_mllp_frame f;
            check(vigil_mllp_decode(&d, p, left, &used, &f) == VIGIL_OK);
            check(used <= left);
            check(f.kind != VIGIL_MLLP_NEED_MORE || used == left);
            event(&t, &f, cap);
            p += used;
            left -= used;
        }
        off += len;
    }
    check(d.n_messages == t.n_msg && d.n_errors == t.n_err);
    vigil_mllp_decoder_fini(&d);
    free(buf);
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4) {
        return 0;
    }
    uint32_t seed = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
                    (uint32_t)data[3] << 24;
    seed |= 1;
    size_t cap = 1 + (data[0] % 4 == 0 ? 16 : data[1] * 8u);
    trace a = run(data + 4, size - 4, cap, seed, 0);
    trace b = run(data + 4, size - 4, cap, seed, 1);
    check(a.hash == b.hash && a.n_msg == b.n_msg && a.n_err == b.n_err);
    return 0;
}
