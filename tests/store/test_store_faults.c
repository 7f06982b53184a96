/*
 * test_store_faults.c: error paths. SQLite's allocator is replaced by one
 * that fails the Nth allocation of a ward session (open, put, batch put,
 * chart read, ward list, a store batch of a set and its AI score, audit
 * verify, close), for each of the first 200 N
 * (open, schema, first statements) and ~400 more spread over the rest.
 * Every failure must come back as a vigil_status with a message, leave no
 * SQLite memory behind once the store is closed (statements finalised,
 * connection closed), and leave a database that passes integrity_check and
 * audit verification with every acknowledged
 * observation in it. ASan (CI) checks the rest of the heap.
 * The database lives in /dev/shm when there is one: this test is about
 * error paths, not the disk, and it runs the session ~600 times.
 */
#include <sys/stat.h>

#include "store/sqlite/sqlite_int.h"
#include "store_fixture.h"

static sqlite3_mem_methods real_mem;
static long alloc_count;
static long fail_at = -1; /* the allocation to fail; -1: none */

static bool fail_now(void)
{
    alloc_count++;
    return fail_at >= 0 && alloc_count == fail_at;
}

static void *faulty_malloc(int n)
{
    return fail_now() ? NULL : real_mem.xMalloc(n);
}

static void *faulty_realloc(void *p, int n)
{
    return fail_now() ? NULL : real_mem.xRealloc(p, n);
}

static void install_faulty_allocator(void)
{
    assert_int_equal(sqlite3_shutdown(), SQLITE_OK);
    assert_int_equal(sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real_mem), SQLITE_OK);
    sqlite3_mem_methods m = real_mem;
    m.xMalloc = faulty_malloc;
    m.xRealloc = faulty_realloc;
    assert_int_equal(sqlite3_config(SQLITE_CONFIG_MALLOC, &m), SQLITE_OK);
    assert_int_equal(sqlite3_initialize(), SQLITE_OK);
}

static void restore_allocator(void)
{
    assert_int_equal(sqlite3_shutdown(), SQLITE_OK);
    assert_int_equal(sqlite3_config(SQLITE_CONFIG_MALLOC, &real_mem), SQLITE_OK);
    assert_int_equal(sqlite3_initialize(), SQLITE_OK);
}

typedef struct acks {
    char sid[8192][24];
    size_t n;
} acks;

static void note_ack(acks *a, const char *sid)
{
    if (a->n < 8192) {
        snprintf(a->sid[a->n++], sizeof a->sid[0], "%s", sid);
    }
}

/* One ward session; returns the first failing status (VIGIL_OK if none). */
static vigil_status session(const char *path, int iter, const char *nhs, acks *a, vigil_err *e)
{
    vigil_store *st = NULL;
    vigil_status s = vigil_store_open(path, 0, &st, e);
    if (s != VIGIL_OK) {
        return s;
    }
    vigil_obs_event ev[5];
    vigil_store_score sc[5];
    vigil_store_obs_item items[3];
    vigil_store_put out[3];
    for (int i = 0; i < 5; i++) {
        char sid[24];
        snprintf(sid, sizeof sid, "F-%d-%d", iter, i);
        fx_event(&ev[i], nhs, sid, T0 + iter * MIN_MS + i);
        memset(&sc[i], 0, sizeof sc[i]);
        vigil_news2_score(&ev[i].obs, &sc[i].news2, NULL);
        sc[i].t_ms = ev[i].t_ms;
        if (i > 0 && i < 4) {
            items[i - 1] = (vigil_store_obs_item){&ev[i], &sc[i]};
        }
    }
    s = vigil_store_put_obs(st, &FX_FEED, &ev[0], &sc[0], NULL, e);
    if (s == VIGIL_OK) {
        note_ack(a, ev[0].source_id);
        s = vigil_store_put_obs_batch(st, &FX_FEED, items, 3, out, e);
    }
    if (s == VIGIL_OK) {
        for (int i = 0; i < 3; i++) {
            assert_int_equal(out[i].status, VIGIL_OK);
            note_ack(a, ev[i + 1].source_id);
        }
        vigil_store_obs_list l;
        s = vigil_store_obs_range(st, &FX_NURSE, 1, T0, T0 + 1000 * HOUR_MS, 50, &l, e);
        vigil_store_obs_list_fini(&l);
    }
    if (s == VIGIL_OK) {
        vigil_store_ward_list w;
        s = vigil_store_ward_list_get(st, &FX_NURSE, "7A", T0, &w, e);
        vigil_store_ward_list_fini(&w);
    }
    if (s == VIGIL_OK) {
        /* a store batch: a set and, after it, the AI's part of its score */
        s = vigil_store_batch_begin(st, e);
        vigil_store_put bo;
        if (s == VIGIL_OK) {
            s = vigil_store_put_obs(st, &FX_FEED, &ev[4], &sc[4], &bo, e);
        }
        if (s == VIGIL_OK) {
            vigil_store_ai_item it = {bo.score_id, {-1.0, 0.25, NULL, "m@1", true}};
            vigil_status one = VIGIL_OK;
            s = vigil_store_put_ai_batch(st, &FX_FEED, &it, 1, &one, e);
            assert_true(s != VIGIL_OK || one == VIGIL_OK);
        }
        if (s == VIGIL_OK) {
            s = vigil_store_batch_commit(st, e);
        } else {
            vigil_store_batch_rollback(st);
        }
        if (s == VIGIL_OK) {
            note_ack(a, ev[4].source_id);
        }
    }
    if (s == VIGIL_OK) {
        vigil_audit_report rep;
        s = vigil_audit_verify(st, &rep, e);
        if (s == VIGIL_OK) {
            assert_true(rep.ok);
        }
    }
    vigil_store_close(st);
    return s;
}

static void allocation_failure_anywhere_returns_an_error_and_leaks_nothing(void **state)
{
    (void)state;
    fx f;
    struct stat sb;
    const char *saved = getenv("TMPDIR");
    char *saved_copy = saved != NULL ? strdup(saved) : NULL;
    if (stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) && access("/dev/shm", W_OK) == 0) {
        setenv("TMPDIR", "/dev/shm", 1);
    }
    fx_paths(&f);
    if (saved_copy != NULL) {
        setenv("TMPDIR", saved_copy, 1);
        free(saved_copy);
    } else {
        unsetenv("TMPDIR");
    }
    char nhs[11];
    fx_nhs(7001, nhs);
    /* schema, patient and bed made with the real allocator */
    f.st = NULL;
    assert_int_equal(vigil_store_open(f.path, 0, &f.st, NULL), VIGIL_OK);
    int64_t pid = fx_patient(&f, nhs, NULL, "Fay"), adm = 0;
    assert_int_equal(pid, 1);
    assert_int_equal(vigil_store_admit(f.st, &FX_NURSE, pid, "7A", "1", T0, &adm, NULL), VIGIL_OK);
    vigil_store_close(f.st);
    f.st = NULL;
    install_faulty_allocator();
    assert_int_equal(sqlite3_memory_used(), 0);

    acks *a = calloc(1, sizeof *a);
    /* a clean session first: how many allocations it makes */
    alloc_count = 0;
    vigil_err e0 = {0};
    if (session(f.path, 0, nhs, a, &e0) != VIGIL_OK) {
        fail_msg("clean session: %s", e0.msg);
    }
    const long n_allocs = alloc_count;
    /* then fail each of the first 200 allocations (open, schema, first
     * statements) and ~400 more spread over the rest, offsets varying */
    long n_failed = 0, n_nomem = 0, n_tried = 0;
    long stride = n_allocs > 200 ? (n_allocs - 200) / 400 + 1 : 1;
    for (long at = 1, iter = 1; at <= n_allocs; iter++) {
        alloc_count = 0;
        fail_at = at;
        vigil_err e = {0};
        vigil_status s = session(f.path, (int)iter, nhs, a, &e);
        fail_at = -1;
        n_tried++;
        if (s != VIGIL_OK) {
            n_failed++;
            n_nomem += s == VIGIL_ERR_NOMEM;
            if (e.msg[0] == '\0') {
                fail_msg("allocation %ld: status %s with no message", at, vigil_status_str(s));
            }
        } else {
            /* SQLite absorbed this failure (it retries some allocations) */
            assert_true(alloc_count >= at);
        }
        /* every statement finalised, the connection closed */
        if (sqlite3_memory_used() != 0) {
            fail_msg("allocation %ld failed (%s: %s): %lld bytes of SQLite memory left", at,
                     vigil_status_str(s), e.msg, (long long)sqlite3_memory_used());
        }
        at += at < 200 ? 1 : stride + (long)(iter % 3);
    }
    restore_allocator();
    print_message("session of %ld allocations: failed %ld of them one at a time; %ld sessions "
                  "failed cleanly (%ld out of memory); %zu sets acknowledged\n",
                  n_allocs, n_tried, n_failed, n_nomem, a->n);
    assert_true(n_failed > 100);
    assert_true(n_nomem > 0);

    assert_int_equal(vigil_store_open(f.path, 0, &f.st, NULL), VIGIL_OK);
    sqlite3 *db = fx_raw(&f);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT count(*) FROM obs_set WHERE source_id = ?1", -1, &st, NULL),
        SQLITE_OK);
    for (size_t i = 0; i < a->n; i++) {
        sqlite3_bind_text(st, 1, a->sid[i], -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        if (sqlite3_column_int(st, 0) != 1) {
            fail_msg("acknowledged set %s is missing", a->sid[i]);
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM obs_set"),
                     fx_int(db, "SELECT count(*) FROM audit WHERE action = 'obs.put'"));
    sqlite3_close(db);
    vigil_audit_report rep = fx_verify(&f);
    assert_true(rep.ok);
    vigil_store_close(f.st);
    fx_remove_files(&f);
    free(a);
}

/* Every SQLite failure reaches the caller with SQLite's own words. */
static void sqlite_errors_reach_the_caller_with_the_sqlite_message(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(7002, nhs);
    int64_t pid = fx_patient(f, nhs, NULL, NULL), adm = 0;
    vigil_err e = {0};
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, pid, "7A", "1", T0, &adm, &e), VIGIL_OK);
    /* a move that would end the bed stay before it began: said in words before the
     * schema's CHECK would refuse it (issue 11: never the constraint's SQL to a sender) */
    assert_int_equal(vigil_store_move(f->st, &FX_NURSE, adm, "7B", "2", T0 - HOUR_MS, &e),
                     VIGIL_ERR_ARG);
    assert_string_equal(e.field, "t_ms");
    assert_non_null(strstr(e.msg, "before the patient's current bed stay began"));
    /* a second open admission: the unique index, with SQLite's message */
    int64_t adm2 = 0;
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, pid, "7B", "1", T0, &adm2, &e),
                     VIGIL_ERR_CONFLICT);
    assert_string_equal(e.field, "sqlite");
    assert_non_null(strstr(e.msg, "UNIQUE constraint failed"));
    /* the failed calls left no transaction open: a write still works */
    assert_int_equal(vigil_store_move(f->st, &FX_NURSE, adm, "7B", "2", T0 + HOUR_MS, &e),
                     VIGIL_OK);
    /* a database another process holds the write lock of: busy, not hung */
    sqlite3 *db = fx_raw(f);
    assert_int_equal(fx_exec(db, "BEGIN IMMEDIATE"), SQLITE_OK);
    sqlite3_busy_timeout(vigil__sqlite_db(f->st), 50); /* not 5 s in a test */
    assert_int_equal(vigil_store_move(f->st, &FX_NURSE, adm, "7C", "3", T0 + 2 * HOUR_MS, &e),
                     VIGIL_ERR_IO);
    assert_non_null(strstr(e.msg, "database is locked"));
    assert_int_equal(fx_exec(db, "ROLLBACK"), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(vigil_store_move(f->st, &FX_NURSE, adm, "7C", "3", T0 + 2 * HOUR_MS, &e),
                     VIGIL_OK);
    assert_true(fx_verify(f).ok);
}

/* clang-format off */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test(allocation_failure_anywhere_returns_an_error_and_leaks_nothing),
    cmocka_unit_test_setup_teardown(sqlite_errors_reach_the_caller_with_the_sqlite_message, fx_setup, fx_teardown),
};
/* clang-format on */

VIGIL_TEST_MAIN(tests)
