/*
 * bench/session_check.c: what one session check costs the HTTP thread since
 * sessions live in the store (issue 15): vigil_store_session_get on an SQLite
 * store (one prepared SELECT joining session, app_user and user_ward; no
 * write while the stored last use is under a minute old), in instructions,
 * which do not depend on the machine's load.
 *
 *   B=build; cc -O2 -Iinclude bench/session_check.c $B/libvigil_store.a \
 *     $B/libvigil_store_sqlite.a $B/libvigil_store_pg.a $B/libvigil_store.a \
 *     $B/libvigil_core.a $B/libvigil_util.a -lsqlite3 -lsodium -largon2 -lpq -lcrypto \
 *     -ljansson -lm -o $B/session_check
 *   valgrind --tool=callgrind --callgrind-out-file=$B/cg.out \
 *     --toggle-collect=vigil_store_session_get $B/session_check "$(mktemp -d)" 10000
 *   callgrind_annotate $B/cg.out | head   (instructions / 10000 = per check)
 *
 * Not a test; not part of make bench.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/store.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: session_check EMPTY_DIR N\n");
        return 2;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/ward.db", argv[1]);
    long n = strtol(argv[2], NULL, 10);
    vigil_store *st = NULL;
    vigil_err e = {0};
    if (vigil_store_open(path, 0, &st, &e) != VIGIL_OK) {
        fprintf(stderr, "open: %s\n", e.msg);
        return 1;
    }
    vigil_actor admin = {"admin", "bench"};
    const char *wards[] = {"WARD7B", "WARD12"};
    int64_t id = 0;
    vigil_store_user_add(st, &admin, "nurse.jo", "Jo", VIGIL_STORE_ROLE_NURSE, "correct-horse-1",
                         wards, 2, &id, &e);
    vigil_store_session_rules r = {
        .idle_ms = 30 * 60000, .max_ms = 12 * 3600000LL, .per_user = 8, .total = 1024};
    uint8_t h[VIGIL_STORE_SESSION_HASH_LEN];
    memset(h, 7, sizeof h);
    const int64_t t0 = 1735725600000;
    if (vigil_store_session_new(st, h, "nurse.jo", t0, &r, &e) != VIGIL_OK) {
        fprintf(stderr, "session_new: %s\n", e.msg);
        return 1;
    }
    vigil_store_user u;
    long ok = 0;
    for (long i = 0; i < n; i++) {
        ok += vigil_store_session_get(st, h, t0 + 1000 + i, &r, &u, NULL) == VIGIL_OK;
    }
    vigil_store_close(st);
    printf("%ld of %ld checks found the session\n", ok, n);
    return ok == n ? 0 : 1;
}
