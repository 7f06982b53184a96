/*
 * fuzz_replay.h: run a libFuzzer entry point over every file of some
 * directories, so fuzz seeds and crash inputs become ordinary tests (the
 * harness's own invariants abort on failure, which cmocka reports).
 */
#ifndef VIGIL_TEST_FUZZ_REPLAY_H
#define VIGIL_TEST_FUZZ_REPLAY_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil_test.h"

/* Replay every regular file in root/dir through fn; returns the number run. */
static inline size_t replay_dir(const char *dir, int (*fn)(const uint8_t *, size_t))
{
    const char *root = getenv("VIGIL_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root != NULL ? root : ".", dir);
    DIR *d = opendir(path);
    if (d == NULL) {
        fail_msg("cannot open %s", path);
    }
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char file[2048];
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        FILE *f = fopen(file, "rb");
        if (f == NULL) {
            continue;
        }
        static uint8_t buf[1 << 20];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        uint8_t *copy = malloc(len > 0 ? len : 1); /* exact size: ASan sees overreads */
        assert_non_null(copy);
        memcpy(copy, buf, len);
        fn(copy, len);
        free(copy);
        n++;
    }
    closedir(d);
    return n;
}

#endif
