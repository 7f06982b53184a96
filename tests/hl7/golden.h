/*
 * golden.h: read a file under tests/golden/hl7 for the hl7 tests (found
 * from VIGIL_SOURCE_DIR, else the working directory, which CTest sets to
 * the source tree). Test-only helper: aborts the test on failure.
 */
#ifndef VIGIL_TEST_HL7_GOLDEN_H
#define VIGIL_TEST_HL7_GOLDEN_H

#include <stdio.h>
#include <stdlib.h>

#include "vigil/hl7.h"
#include "vigil_test.h"

/* The file's bytes (malloc'd, NUL-terminated; free them) and length. */
static inline char *golden_read(const char *name, size_t *out_n)
{
    const char *root = getenv("VIGIL_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/golden/hl7/%s", root != NULL ? root : ".", name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fail_msg("cannot open %s", path);
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[n] = '\0';
    *out_n = n;
    return buf;
}

/* Decode a golden file with default options into a malloc'd result. */
static inline vigil_hl7_result *golden_decode(const char *name, vigil_status *out_st)
{
    size_t n = 0;
    char *text = golden_read(name, &n);
    vigil_hl7_result *r = malloc(sizeof *r);
    assert_non_null(r);
    *out_st = vigil_hl7_decode(text, n, NULL, r);
    free(text);
    return r;
}

#endif
