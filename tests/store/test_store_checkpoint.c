/* test_store_checkpoint.c: VIGIL_STORE_CHECKPOINT_ELSEWHERE and
 * vigil_store_checkpoint: a writer opened so leaves the write-ahead log to a
 * second connection (up to its limit), that connection copies the log into
 * the database file without blocking the writer, and what was committed is
 * all there either way. */
#include "store_fixture.h"


static int64_t pragma(vigil_store *st, const char *sql)
{
    return fx_int(vigil__sqlite_db(st), sql);
}

static void reopen_checkpointing_elsewhere(fx *f)
{
    vigil_store_close(f->st);
    f->st = NULL;
    vigil_err e = {0};
    assert_int_equal(vigil_store_open(f->path, VIGIL_STORE_CHECKPOINT_ELSEWHERE, &f->st, &e),
                     VIGIL_OK);
}

static void put_sets(fx *f, unsigned seed, int n)
{
    char nhs[11];
    fx_nhs(seed, nhs);
    for (int i = 0; i < n; i++) {
        vigil_obs_event ev;
        char sid[32];
        snprintf(sid, sizeof sid, "CK-%u-%d", seed, i);
        fx_event(&ev, nhs, sid, T0 + i * MIN_MS);
        vigil_store_score sc = fx_score(&ev, T0 + i * MIN_MS + 1);
        fx_put(f, &ev, &sc);
    }
}

static void writer_leaves_the_log_to_another_connection_up_to_its_limit(void **state)
{
    fx *f = *state;
    assert_int_equal(pragma(f->st, "PRAGMA wal_autocheckpoint"), 1000); /* SQLite's default */
    reopen_checkpointing_elsewhere(f);
    assert_int_equal(pragma(f->st, "PRAGMA wal_autocheckpoint"), VIGIL_STORE_WAL_LIMIT_PAGES);
    /* enough commits that the default (1,000 pages) would have checkpointed */
    put_sets(f, 5101, 400);
    vigil_store *other = NULL;
    vigil_err e = {0};
    assert_int_equal(vigil_store_open(f->path, 0, &other, &e), VIGIL_OK);
    int log = -1, copied = -1;
    assert_int_equal(vigil_store_checkpoint(other, &log, &copied, &e), VIGIL_OK);
    assert_true(log > 1000); /* the writer had copied none of it */
    assert_int_equal(copied, log);
    /* the writer goes on while the log is copied; a second pass copies the rest */
    put_sets(f, 5102, 5);
    assert_int_equal(vigil_store_checkpoint(other, &log, &copied, &e), VIGIL_OK);
    assert_int_equal(copied, log);
    vigil_store_close(other);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set"), 405);
    vigil_audit_report rep;
    assert_int_equal(vigil_audit_verify(f->st, &rep, &e), VIGIL_OK);
    assert_true(rep.ok);
}

static void checkpoint_needs_a_store_that_may_write(void **state)
{
    fx *f = *state;
    put_sets(f, 5103, 3);
    vigil_store *ro = NULL;
    vigil_err e = {0};
    assert_int_equal(vigil_store_open(f->path, VIGIL_STORE_READONLY, &ro, &e), VIGIL_OK);
    assert_int_equal(vigil_store_checkpoint(ro, NULL, NULL, &e), VIGIL_ERR_DENIED);
    vigil_store_close(ro);
    assert_int_equal(vigil_store_checkpoint(NULL, NULL, NULL, &e), VIGIL_ERR_ARG);
    assert_int_equal(vigil_store_open(f->path, 1u << 7, &ro, &e), VIGIL_ERR_ARG);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(writer_leaves_the_log_to_another_connection_up_to_its_limit,
                                    fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(checkpoint_needs_a_store_that_may_write, fx_setup,
                                    fx_teardown),
};

VIGIL_TEST_MAIN(tests)
