/*
 * vigil/mllp.h: Minimal Lower Layer Protocol framing for HL7 v2 over a byte
 * stream: each message is sent as 0x0B <message> 0x1C 0x0D (HL7 v2.5.1
 * Implementation Guide, Appendix C "Lower Layer Protocols", MLLP release 1).
 *
 * What it does: a streaming decoder that takes the bytes of a connection in
 * whatever chunks they arrive (a partial frame, several frames at once, one
 * byte at a time) and yields each complete message, and an encoder that
 * frames an outgoing message.
 *
 * What it does not do: no sockets, no threads, no timeouts (src/server owns
 * those), no HL7 parsing (vigil/hl7.h), no MLLP release 2 commit
 * acknowledgements.
 *
 * Invariants:
 *  - Memory: the decoder never allocates per message. It holds at most one
 *    message, in a buffer of fixed capacity given at init (caller's storage)
 *    or allocated once by vigil_mllp_decoder_new. A message longer than the
 *    capacity is refused (VIGIL_MLLP_ERR_OVERSIZE), never truncated.
 *  - Recovery: every framing error leaves the decoder usable. After an error
 *    it discards bytes until the next start block 0x0B and resumes there.
 *  - Chunking does not change the output: feeding a stream in any split
 *    yields the same messages and errors in the same order (fuzzed by
 *    fuzz/fuzz_mllp.c).
 *
 * Thread safety: a decoder belongs to one connection and one thread; the
 * functions are reentrant across different decoders.
 */
#ifndef VIGIL_MLLP_H
#define VIGIL_MLLP_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/status.h"

#define VIGIL_MLLP_SB 0x0B /* start block (VT) */
#define VIGIL_MLLP_EB 0x1C /* end block (FS) */
#define VIGIL_MLLP_CR 0x0D /* carriage return after the end block */

/* What one call to vigil_mllp_decode found. */
typedef enum vigil_mllp_kind {
    VIGIL_MLLP_NEED_MORE = 0, /* all given bytes consumed; no complete message yet */
    VIGIL_MLLP_MESSAGE,       /* a complete message (frame.msg, frame.len) */
    VIGIL_MLLP_ERROR,         /* a framing error (frame.error); decoding can go on */
    VIGIL_MLLP_KIND_COUNT
} vigil_mllp_kind;

/* Framing errors. Each is reported once, where it is detected. */
typedef enum vigil_mllp_error {
    VIGIL_MLLP_ERR_NONE = 0,
    VIGIL_MLLP_ERR_JUNK,     /* a byte other than 0x0B between frames; the run of such bytes
                                up to the next 0x0B is discarded and reported once */
    VIGIL_MLLP_ERR_BAD_END,  /* 0x1C not followed by 0x0D; the frame is discarded */
    VIGIL_MLLP_ERR_OVERSIZE, /* the message exceeds the capacity; the frame is discarded */
    VIGIL_MLLP_ERR_RESTART,  /* 0x0B inside a frame: the unfinished frame is discarded and
                                a new one starts at this 0x0B */
    VIGIL_MLLP_ERR_EMPTY,    /* 0x0B 0x1C 0x0D: a frame with no message */
    VIGIL_MLLP_ERR_COUNT
} vigil_mllp_error;

typedef struct vigil_mllp_frame {
    vigil_mllp_kind kind;
    vigil_mllp_error error; /* for VIGIL_MLLP_ERROR */
    const char *msg;        /* for VIGIL_MLLP_MESSAGE: the message without the framing bytes,
                               borrowed from the decoder's buffer until the next call on the
                               decoder (decode, reset, fini, free). Not NUL-terminated. */
    size_t len;             /* bytes at msg */
} vigil_mllp_frame;

/*
 * The decoder. Visible so that it can live in the caller's storage; its
 * fields are private: use the functions below. Counters are for monitoring.
 */
typedef struct vigil_mllp_decoder {
    unsigned char *buf;   /* message under assembly */
    size_t cap;           /* maximum message length in bytes */
    size_t len;           /* bytes in buf */
    int state;            /* private */
    int owned;            /* buf was allocated by vigil_mllp_decoder_new */
    uint64_t n_messages;  /* messages yielded */
    uint64_t n_errors;    /* framing errors reported */
    uint64_t n_discarded; /* bytes thrown away by error recovery */
} vigil_mllp_decoder;

/*
 * Initialise dec on caller-owned buf of cap bytes (cap >= 1): the maximum
 * message length is cap. buf is borrowed until vigil_mllp_decoder_fini.
 * Returns VIGIL_ERR_ARG for a NULL pointer or cap 0.
 */
vigil_status vigil_mllp_decoder_init(vigil_mllp_decoder *dec, void *buf, size_t cap);

/* Forget any partial frame and start hunting for 0x0B; counters are kept. */
void vigil_mllp_decoder_reset(vigil_mllp_decoder *dec);

/* Release nothing (the buffer is the caller's); leaves dec unusable. NULL is a no-op. */
void vigil_mllp_decoder_fini(vigil_mllp_decoder *dec);

/*
 * Allocate a decoder with its own buffer of max_len bytes (one allocation
 * each, here and never again). Returns VIGIL_ERR_ARG for max_len 0,
 * VIGIL_ERR_NOMEM if allocation fails. Release with vigil_mllp_decoder_free.
 */
vigil_status vigil_mllp_decoder_new(size_t max_len, vigil_mllp_decoder **out);

/* Free a decoder from vigil_mllp_decoder_new. NULL is a no-op. */
void vigil_mllp_decoder_free(vigil_mllp_decoder *dec);

/*
 * Consume bytes from data[0..n) until one event: a complete message, a
 * framing error, or the end of the data. *out_used is how many bytes were
 * consumed; call again with the rest (data + *out_used) until it returns
 * VIGIL_MLLP_NEED_MORE with every byte used. A typical loop:
 *
 *     while (n > 0) {
 *         size_t used; vigil_mllp_frame f;
 *         vigil_mllp_decode(dec, data, n, &used, &f);
 *         data += used; n -= used;
 *         if (f.kind == VIGIL_MLLP_MESSAGE) handle(f.msg, f.len);
 *         else if (f.kind == VIGIL_MLLP_ERROR) log(vigil_mllp_error_name(f.error));
 *     }
 *
 * Returns VIGIL_OK (the event is in *out, including framing errors, which are
 * not failures of the call) or VIGIL_ERR_ARG for NULL pointers (data may be
 * NULL when n is 0).
 */
vigil_status vigil_mllp_decode(vigil_mllp_decoder *dec, const void *data, size_t n,
                               size_t *out_used, vigil_mllp_frame *out);

/*
 * Frame msg[0..n) into out (cap bytes): 0x0B msg 0x1C 0x0D, n + 3 bytes,
 * written to *out_n. Returns VIGIL_ERR_ARG if msg contains 0x0B or 0x1C
 * (the peer could not find the frame boundaries) or a pointer is NULL,
 * VIGIL_ERR_NOMEM if cap < n + 3. On error nothing is written to *out_n.
 */
vigil_status vigil_mllp_encode(const void *msg, size_t n, void *out, size_t cap, size_t *out_n);

/* Stable machine names: "junk", "bad-end", "oversize", "restart", "empty". */
const char *vigil_mllp_error_name(vigil_mllp_error e);

#endif
