/*
 * mllp.c: MLLP framing (HL7 v2.5.1 Implementation Guide Appendix C, MLLP
 * release 1): 0x0B message 0x1C 0x0D.
 *
 * Does not do: sockets, timeouts, HL7 parsing. Allocates only in
 * vigil_mllp_decoder_new (one buffer); decoding never allocates.
 *
 * Invariants: a message is yielded only when its 0x1C 0x0D has arrived and it
 * fitted in the buffer; after any framing error the decoder discards bytes
 * silently until the next 0x0B, so one fault is reported once. The decoder is
 * a byte-at-a-time state machine, so how the stream is chunked cannot change
 * what it yields.
 */
#include "vigil/mllp.h"

#include <stdlib.h>
#include <string.h>

enum {
    ST_HUNT = 0, /* between frames: expect 0x0B */
    ST_DISCARD,  /* after an error: skip silently until 0x0B */
    ST_BODY,     /* inside a frame: collect bytes until 0x1C */
    ST_END,      /* saw 0x1C: expect 0x0D */
};

static const char *const error_names[VIGIL_MLLP_ERR_COUNT] = {
    [VIGIL_MLLP_ERR_NONE] = "none",       [VIGIL_MLLP_ERR_JUNK] = "junk",
    [VIGIL_MLLP_ERR_BAD_END] = "bad-end", [VIGIL_MLLP_ERR_OVERSIZE] = "oversize",
    [VIGIL_MLLP_ERR_RESTART] = "restart", [VIGIL_MLLP_ERR_EMPTY] = "empty",
};

const char *vigil_mllp_error_name(vigil_mllp_error e)
{
    if ((unsigned)e >= VIGIL_MLLP_ERR_COUNT) {
        return "unknown";
    }
    return error_names[e];
}

vigil_status vigil_mllp_decoder_init(vigil_mllp_decoder *dec, void *buf, size_t cap)
{
    if (dec == NULL || buf == NULL || cap == 0) {
        return VIGIL_ERR_ARG;
    }
    memset(dec, 0, sizeof *dec);
    dec->buf = buf;
    dec->cap = cap;
    dec->state = ST_HUNT;
    return VIGIL_OK;
}

void vigil_mllp_decoder_reset(vigil_mllp_decoder *dec)
{
    if (dec == NULL) {
        return;
    }
    dec->len = 0;
    dec->state = ST_HUNT;
}

void vigil_mllp_decoder_fini(vigil_mllp_decoder *dec)
{
    if (dec == NULL) {
        return;
    }
    dec->buf = NULL;
    dec->cap = 0;
    dec->len = 0;
}

vigil_status vigil_mllp_decoder_new(size_t max_len, vigil_mllp_decoder **out)
{
    if (out == NULL || max_len == 0) {
        return VIGIL_ERR_ARG;
    }
    vigil_mllp_decoder *dec = malloc(sizeof *dec);
    if (dec == NULL) {
        return VIGIL_ERR_NOMEM;
    }
    void *buf = malloc(max_len);
    if (buf == NULL) {
        free(dec);
        return VIGIL_ERR_NOMEM;
    }
    vigil_mllp_decoder_init(dec, buf, max_len);
    dec->owned = 1;
    *out = dec;
    return VIGIL_OK;
}

void vigil_mllp_decoder_free(vigil_mllp_decoder *dec)
{
    if (dec == NULL) {
        return;
    }
    if (dec->owned) {
        free(dec->buf);
    }
    free(dec);
}

/* Report err and move to the silent discard state. */
static void fail(vigil_mllp_decoder *dec, vigil_mllp_frame *out, vigil_mllp_error err)
{
    dec->n_errors++;
    dec->n_discarded += dec->len;
    dec->len = 0;
    dec->state = ST_DISCARD;
    out->kind = VIGIL_MLLP_ERROR;
    out->error = err;
}

vigil_status vigil_mllp_decode(vigil_mllp_decoder *dec, const void *data, size_t n,
                               size_t *out_used, vigil_mllp_frame *out)
{
    if (dec == NULL || out_used == NULL || out == NULL || (data == NULL && n > 0) ||
        dec->buf == NULL) {
        return VIGIL_ERR_ARG;
    }
    memset(out, 0, sizeof *out);
    const unsigned char *p = data;
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        switch (dec->state) {
        case ST_HUNT:
        case ST_DISCARD:
            if (c == VIGIL_MLLP_SB) {
                dec->state = ST_BODY;
                dec->len = 0;
                i++;
                break;
            }
            dec->n_discarded++;
            i++;
            if (dec->state == ST_HUNT) {
                /* first byte of a run of junk: report once, then skip the rest */
                dec->state = ST_DISCARD;
                dec->n_errors++;
                out->kind = VIGIL_MLLP_ERROR;
                out->error = VIGIL_MLLP_ERR_JUNK;
                *out_used = i;
                return VIGIL_OK;
            }
            break;
        case ST_BODY:
            if (c == VIGIL_MLLP_EB) {
                dec->state = ST_END;
                i++;
                break;
            }
            if (c == VIGIL_MLLP_SB) {
                /* the sender restarted: drop the unfinished frame, keep this 0x0B */
                fail(dec, out, VIGIL_MLLP_ERR_RESTART);
                dec->state = ST_BODY;
                *out_used = i + 1;
                return VIGIL_OK;
            }
            if (dec->len == dec->cap) {
                dec->n_discarded++; /* this byte */
                fail(dec, out, VIGIL_MLLP_ERR_OVERSIZE);
                *out_used = i + 1;
                return VIGIL_OK;
            }
            dec->buf[dec->len++] = c;
            i++;
            break;
        case ST_END:
            if (c == VIGIL_MLLP_CR) {
                i++;
                dec->state = ST_HUNT;
                *out_used = i;
                if (dec->len == 0) {
                    dec->n_errors++;
                    out->kind = VIGIL_MLLP_ERROR;
                    out->error = VIGIL_MLLP_ERR_EMPTY;
                    return VIGIL_OK;
                }
                dec->n_messages++;
                out->kind = VIGIL_MLLP_MESSAGE;
                out->msg = (const char *)dec->buf;
                out->len = dec->len;
                dec->len = 0; /* the bytes stay valid until the next call */
                return VIGIL_OK;
            }
            /* Do not consume c: a 0x0B here starts the next frame. */
            dec->n_discarded++; /* the 0x1C */
            fail(dec, out, VIGIL_MLLP_ERR_BAD_END);
            *out_used = i;
            return VIGIL_OK;
        default:
            dec->state = ST_HUNT;
            break;
        }
    }
    *out_used = i;
    out->kind = VIGIL_MLLP_NEED_MORE;
    return VIGIL_OK;
}

vigil_status vigil_mllp_encode(const void *msg, size_t n, void *out, size_t cap, size_t *out_n)
{
    if ((msg == NULL && n > 0) || out == NULL || out_n == NULL) {
        return VIGIL_ERR_ARG;
    }
    const unsigned char *m = msg;
    for (size_t i = 0; i < n; i++) {
        if (m[i] == VIGIL_MLLP_SB || m[i] == VIGIL_MLLP_EB) {
            return VIGIL_ERR_ARG;
        }
    }
    if (n > SIZE_MAX - 3 || cap < n + 3) {
        return VIGIL_ERR_NOMEM;
    }
    unsigned char *o = out;
    o[0] = VIGIL_MLLP_SB;
    if (n > 0) {
        memcpy(o + 1, m, n);
    }
    o[n + 1] = VIGIL_MLLP_EB;
    o[n + 2] = VIGIL_MLLP_CR;
    *out_n = n + 3;
    return VIGIL_OK;
}
