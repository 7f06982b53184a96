/*
 * vigil/util.h: small standalone helpers shared by every module: strict
 * number parsing and CSV line splitting. No allocation; no I/O.
 * Thread safety: reentrant.
 */
#ifndef VIGIL_UTIL_H
#define VIGIL_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "vigil/status.h"

/*
 * Parse a whole string as a finite decimal number (leading/trailing blanks
 * allowed). "NaN", "inf", "12abc" and "" are refused with VIGIL_ERR_PARSE.
 */
vigil_status vigil_parse_double(const char *s, double *out);

/* Parse a whole string as a base-10 long in [lo, hi]. */
vigil_status vigil_parse_long(const char *s, long lo, long hi, long *out);

/* True when s holds only blanks (or is NULL). */
bool vigil_str_blank(const char *s);

/* Case-insensitive ASCII equality. */
bool vigil_str_ieq(const char *a, const char *b);

/* Trim leading and trailing blanks (space, tab, CR, LF) in place; returns s. */
char *vigil_str_trim(char *s);

/*
 * Split one CSV record in place (RFC 4180 quoting: "a,""b""" -> a,"b"; no
 * embedded newlines). line is modified; fields[i] point into it and live as
 * long as line does. Returns VIGIL_ERR_PARSE for an unterminated quote or
 * text after a closing quote, VIGIL_ERR_ARG if more than max_fields fields.
 */
vigil_status vigil_csv_split(char *line, char sep, char **fields, size_t max_fields, size_t *out_n);

#endif
