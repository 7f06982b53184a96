/*
 * vigil/status.h: status codes and the error detail every fallible vigil
 * function reports.
 *
 * Every fallible function returns a vigil_status (VIGIL_OK is 0) and, when
 * the caller passes a non-NULL vigil_err *, fills it with what a person needs
 * to fix the problem: a message, the field, the value, a line number.
 * No hidden last-error, no errno games. Thread safety: all functions here are
 * reentrant; a vigil_err belongs to one caller.
 */
#ifndef VIGIL_STATUS_H
#define VIGIL_STATUS_H

#include <stddef.h>

typedef enum vigil_status {
    VIGIL_OK = 0,
    VIGIL_ERR_ARG,         /* a caller passed an invalid argument */
    VIGIL_ERR_IMPLAUSIBLE, /* a value outside physiological possibility */
    VIGIL_ERR_PARSE,       /* malformed input (CSV, HL7, JSON, ...) */
    VIGIL_ERR_IO,          /* a file or socket operation failed */
    VIGIL_ERR_NOMEM,       /* allocation failed or an arena cap was hit */
    VIGIL_ERR_NOT_FOUND,   /* the thing asked for does not exist */
    VIGIL_ERR_MISMATCH,    /* e.g. a model bundle whose feature hash differs */
    VIGIL_ERR_DENIED,      /* authentication or authorisation refused */
    VIGIL_ERR_CONFLICT,    /* a write conflicts with stored state */
    VIGIL_ERR_INTERNAL,    /* a bug: an invariant did not hold */
    VIGIL_STATUS_COUNT
} vigil_status;

#define VIGIL_ERR_MSG_MAX 256
#define VIGIL_ERR_FIELD_MAX 64

/* Caller-owned error detail. line is 0 when not applicable. */
typedef struct vigil_err {
    vigil_status status;
    long line;
    char field[VIGIL_ERR_FIELD_MAX];
    char msg[VIGIL_ERR_MSG_MAX];
} vigil_err;

/* A short, static, lower-case name for a status ("implausible value"). */
const char *vigil_status_str(vigil_status st);

/*
 * Fill err (when non-NULL) with status, field (may be NULL) and a printf-style
 * message, and return st so callers can `return vigil_err_set(...)`.
 * Truncates silently to the buffer sizes above.
 */
vigil_status vigil_err_set(vigil_err *err, vigil_status st, const char *field, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Reset err to "no error" (no-op on NULL). */
void vigil_err_clear(vigil_err *err);

#endif
