/*
 * parse.c: strict number parsing and CSV splitting (RFC 4180 subset: quoted
 * fields with doubled quotes; records never span lines). No allocation.
 * Invariant: a value that does not parse completely is an error, never 0.
 */
#include "vigil/util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

bool vigil_str_blank(const char *s)
{
    if (s == NULL) {
        return true;
    }
    for (; *s != '\0'; s++) {
        if (!isspace((unsigned char)*s)) {
            return false;
        }
    }
    return true;
}

bool vigil_str_ieq(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) {
            return false;
        }
    }
    return *a == *b;
}

char *vigil_str_trim(char *s)
{
    char *start = s;
    while (*start != '\0' && isspace((unsigned char)*start)) {
        start++;
    }
    size_t n = strlen(start);
    while (n > 0 && isspace((unsigned char)start[n - 1])) {
        n--;
    }
    memmove(s, start, n);
    s[n] = '\0';
    return s;
}

vigil_status vigil_parse_double(const char *s, double *out)
{
    if (s == NULL) {
        return VIGIL_ERR_PARSE;
    }
    while (isspace((unsigned char)*s)) {
        s++;
    }
    if (*s == '\0') {
        return VIGIL_ERR_PARSE;
    }
    /* Refuse hex floats, nan and inf: only plain decimals are observations. */
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (!(isdigit(c) || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E' ||
              isspace(c))) {
            return VIGIL_ERR_PARSE;
        }
    }
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || errno == ERANGE || !isfinite(v)) {
        return VIGIL_ERR_PARSE;
    }
    while (isspace((unsigned char)*end)) {
        end++;
    }
    if (*end != '\0') {
        return VIGIL_ERR_PARSE;
    }
    *out = v;
    return VIGIL_OK;
}

vigil_status vigil_parse_long(const char *s, long lo, long hi, long *out)
{
    if (s == NULL) {
        return VIGIL_ERR_PARSE;
    }
    while (isspace((unsigned char)*s)) {
        s++;
    }
    if (*s == '\0') {
        return VIGIL_ERR_PARSE;
    }
    errno = 0;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || errno == ERANGE) {
        return VIGIL_ERR_PARSE;
    }
    while (isspace((unsigned char)*end)) {
        end++;
    }
    if (*end != '\0' || v < lo || v > hi) {
        return VIGIL_ERR_PARSE;
    }
    *out = v;
    return VIGIL_OK;
}

vigil_status vigil_csv_split(char *line, char sep, char **fields, size_t max_fields, size_t *out_n)
{
    size_t n = 0;
    char *r = line;
    for (;;) {
        if (n == max_fields) {
            return VIGIL_ERR_ARG;
        }
        char *w = r;
        fields[n++] = w;
        if (*r == '"') {
            r++;
            for (;;) {
                if (*r == '\0' || *r == '\n' || *r == '\r') {
                    return VIGIL_ERR_PARSE; /* unterminated quote */
                }
                if (*r == '"') {
                    if (r[1] == '"') {
                        *w++ = '"';
                        r += 2;
                        continue;
                    }
                    r++;
                    break;
                }
                *w++ = *r++;
            }
            if (*r != sep && *r != '\0' && *r != '\n' && *r != '\r') {
                return VIGIL_ERR_PARSE; /* text after closing quote */
            }
        } else {
            while (*r != sep && *r != '\0' && *r != '\n' && *r != '\r') {
                *w++ = *r++;
            }
        }
        char c = *r;
        *w = '\0';
        if (c == sep) {
            r++;
            continue;
        }
        break;
    }
    *out_n = n;
    return VIGIL_OK;
}
