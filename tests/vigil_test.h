/*
 * vigil_test.h: the one include every cmocka test uses. Each test binary
 * runs one case when given its name (how CTest registers each case), or all.
 */
#ifndef VIGIL_TEST_H
#define VIGIL_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/*
 * The store URI a test opens in its fresh directory dir: $VIGIL_TEST_STORE_URI
 * with each "{dir}" replaced by dir ("faulty:{dir}/ward.db", or a PostgreSQL
 * URI), else the plain path dir/ward.db (SQLite). Returns false when it does
 * not fit in cap.
 */
static inline bool vigil_test_store_uri(char *out, size_t cap, const char *dir)
{
    const char *tmpl = getenv("VIGIL_TEST_STORE_URI");
    if (tmpl == NULL || tmpl[0] == '\0') {
        int w = snprintf(out, cap, "%s/ward.db", dir);
        return w >= 0 && (size_t)w < cap;
    }
    size_t n = 0;
    for (const char *c = tmpl; *c != '\0'; c++) {
        if (strncmp(c, "{dir}", 5) == 0) {
            int w = snprintf(out + n, cap - n, "%s", dir);
            if (w < 0 || (size_t)w >= cap - n) {
                return false;
            }
            n += (size_t)w;
            c += 4;
        } else {
            if (n + 1 >= cap) {
                return false;
            }
            out[n++] = *c;
        }
    }
    out[n] = '\0';
    return true;
}

/* The store at uri is an SQLite file (a path, or faulty: on one): raw
 * SQLite checks apply. */
static inline bool vigil_test_store_is_sqlite(const char *uri)
{
    return strstr(uri, "://") == NULL;
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
