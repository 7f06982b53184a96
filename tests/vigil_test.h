/*
 * vigil_test.h: the one include every cmocka test uses. Each test binary
 * runs one case when given its name (how CTest registers each case), or all.
 */
#ifndef VIGIL_TEST_H
#define VIGIL_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

/*
 * A fresh private directory for one test's files, under $TMPDIR, else the
 * build directory CTest names (VIGIL_BUILD_DIR), else the working directory:
 * never a fixed machine path. out receives the path (mkdtemp fills in the
 * random suffix of its template). Returns out, or NULL on failure.
 */
static inline char *vigil_test_mkdtemp(char *out, size_t cap, const char *name)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0') {
        base = getenv("VIGIL_BUILD_DIR");
    }
    if (base == NULL || base[0] == '\0') {
        base = ".";
    }
    int n = snprintf(out, cap, "%s/%s-XXXXXX", base, name);
    if (n < 0 || (size_t)n >= cap) {
        return NULL;
    }
    return mkdtemp(out);
}

#define VIGIL_TEST_MAIN(tests)                                                                     \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        if (argc > 1) {                                                                            \
            cmocka_set_test_filter(argv[1]);                                                       \
        }                                                                                          \
        return cmocka_run_group_tests(tests, NULL, NULL);                                          \
    }

#endif
