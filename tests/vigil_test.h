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

#include <cmocka.h>

#define VIGIL_TEST_MAIN(tests)                                                        \
    int main(int argc, char **argv)                                                   \
    {                                                                                 \
        if (argc > 1) {                                                               \
            cmocka_set_test_filter(argv[1]);                                          \
        }                                                                             \
        return cmocka_run_group_tests(tests, NULL, NULL);                             \
    }

#endif
