/*
 * status.c: names for vigil_status codes and the vigil_err helpers.
 * Does no I/O and no allocation.
 */
#include "vigil/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[VIGIL_STATUS_COUNT] = {
    [VIGIL_OK] = "ok",
    [VIGIL_ERR_ARG] = "invalid argument",
    [VIGIL_ERR_IMPLAUSIBLE] = "implausible value",
    [VIGIL_ERR_PARSE] = "malformed input",
    [VIGIL_ERR_IO] = "input/output error",
    [VIGIL_ERR_NOMEM] = "out of memory",
    [VIGIL_ERR_NOT_FOUND] = "not found",
    [VIGIL_ERR_MISMATCH] = "mismatch",
    [VIGIL_ERR_DENIED] = "denied",
    [VIGIL_ERR_CONFLICT] = "conflict",
    [VIGIL_ERR_INTERNAL] = "internal error",
};

const char *vigil_status_str(vigil_status st)
{
    if ((unsigned)st >= VIGIL_STATUS_COUNT) {
        return "unknown status";
    }
    return status_names[st];
}

vigil_status vigil_err_set(vigil_err *err, vigil_status st, const char *field, const char *fmt, ...)
{
    if (err == NULL) {
        return st;
    }
    err->status = st;
    err->field[0] = '\0';
    if (field != NULL) {
        snprintf(err->field, sizeof err->field, "%s", field);
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return st;
}

void vigil_err_clear(vigil_err *err)
{
    if (err == NULL) {
        return;
    }
    memset(err, 0, sizeof *err);
}
