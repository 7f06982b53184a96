/* test_store_open.c: opening a store: pragmas, schema migrations keyed by
 * user_version, refusing newer or foreign databases, backends by URI. */
#include "store_fixture.h"

static void store_open_creates_schema_at_current_version_in_wal_mode(void **state)
{
    fx *f = *state;
    sqlite3 *db = fx_raw(f);
    assert_int_equal(fx_int(db, "PRAGMA user_version"), VIGIL_STORE_SCHEMA_VERSION);
    assert_int_equal(fx_int(db, "PRAGMA application_id"), SQ_APPLICATION_ID);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                                "name IN ('patient', 'obs_set', 'score', 'audit', 'app_user')"),
                     5);
    sqlite3_close(db);
    assert_string_equal(vigil_store_backend_name(f->st), "sqlite");
}

static void
store_connection_syncs_fully_with_foreign_keys_busy_timeout_and_memory_temp(void **state)
{
    fx *f = *state;
    sqlite3 *db = vigil__sqlite_db(f->st);
    assert_non_null(db);
    assert_int_equal(fx_int(db, "PRAGMA synchronous"), 2); /* FULL */
    assert_int_equal(fx_int(db, "PRAGMA foreign_keys"), 1);
    assert_int_equal(fx_int(db, "PRAGMA busy_timeout"), 5000);
    assert_int_equal(fx_int(db, "PRAGMA temp_store"), 2); /* MEMORY */
}

static void store_refuses_a_database_newer_than_the_code(void **state)
{
    fx *f = *state;
    vigil_store_close(f->st);
    f->st = NULL;
    sqlite3 *db = fx_raw(f);
    assert_int_equal(fx_exec(db, "PRAGMA user_version = 99"), SQLITE_OK);
    sqlite3_close(db);
    vigil_err e = {0};
    assert_int_equal(vigil_store_open(f->path, 0, &f->st, &e), VIGIL_ERR_MISMATCH);
    assert_null(f->st);
    assert_non_null(strstr(e.msg, "newer"));
    /* and nothing was changed */
    assert_int_equal(fx_count(f, "PRAGMA user_version"), 99);
    db = fx_raw(f);
    assert_int_equal(fx_exec(db, "PRAGMA user_version = 1"), SQLITE_OK);
    sqlite3_close(db);
    fx_reopen(f);
}

static void store_refuses_an_sqlite_file_that_is_not_a_vigil_store(void **state)
{
    fx *f = *state;
    char other[400];
    snprintf(other, sizeof other, "%s/other.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
    assert_int_equal(fx_exec(db, "CREATE TABLE accounts (id INTEGER PRIMARY KEY)"), SQLITE_OK);
    sqlite3_close(db);
    vigil_store *st = NULL;
    vigil_err e = {0};
    assert_int_equal(vigil_store_open(other, 0, &st, &e), VIGIL_ERR_MISMATCH);
    assert_non_null(strstr(e.msg, "not a vigil store"));
    assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM sqlite_schema"), 1); /* untouched */
    sqlite3_close(db);
    unlink(other);
}

static void failed_migration_leaves_the_database_at_the_version_before_it(void **state)
{
    fx *f = *state;
    char path[400];
    snprintf(path, sizeof path, "%s/mig.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    const char *steps[] = {
        "PRAGMA application_id = 1447642956; CREATE TABLE a (x INTEGER);",
        "CREATE TABLE b (y INTEGER); INSERT INTO a VALUES (1); SELECT no_such_function();",
    };
    vigil_err e = {0};
    assert_int_equal(vigil__sqlite_migrate(db, steps, 2, &e), VIGIL_ERR_INTERNAL);
    assert_non_null(strstr(e.msg, "version 2"));
    assert_non_null(strstr(e.msg, "no_such_function"));
    assert_int_equal(fx_int(db, "PRAGMA user_version"), 1);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'b'"), 0);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM a"), 0); /* step 2's insert undone */
    /* a fixed step 2 then applies, and running again is a no-op */
    steps[1] = "CREATE TABLE b (y INTEGER); INSERT INTO a VALUES (1);";
    assert_int_equal(vigil__sqlite_migrate(db, steps, 2, &e), VIGIL_OK);
    assert_int_equal(vigil__sqlite_migrate(db, steps, 2, &e), VIGIL_OK);
    assert_int_equal(fx_int(db, "PRAGMA user_version"), 2);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM a"), 1);
    sqlite3_close(db);
    unlink(path);
}

static void reopening_keeps_data_and_does_not_migrate_again(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(1001, nhs);
    vigil_obs_event ev;
    fx_event(&ev, nhs, "MSG-1", T0);
    int64_t id = fx_put(f, &ev, NULL);
    int64_t n_schema = fx_count(f, "SELECT count(*) FROM sqlite_schema");
    fx_reopen(f);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM sqlite_schema"), n_schema);
    assert_int_equal(fx_count(f, "PRAGMA user_version"), VIGIL_STORE_SCHEMA_VERSION);
    vigil_store_put out;
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, NULL, &out, NULL), VIGIL_OK);
    assert_true(out.duplicate);
    assert_int_equal(out.obs_id, id);
}

static void store_uri_for_a_backend_not_built_is_not_found(void **state)
{
    (void)state;
    vigil_store *st = NULL;
    vigil_err e = {0};
    assert_int_equal(vigil_store_open("postgresql://localhost/vigil", 0, &st, &e),
                     VIGIL_ERR_NOT_FOUND);
    assert_null(st);
    assert_non_null(strstr(e.msg, "postgresql"));
    assert_int_equal(vigil_store_open("sqlite:", 0, &st, &e), VIGIL_ERR_ARG);
    assert_int_equal(vigil_store_open(NULL, 0, &st, &e), VIGIL_ERR_ARG);
}

static void store_open_failure_carries_the_sqlite_message(void **state)
{
    fx *f = *state;
    char path[400];
    snprintf(path, sizeof path, "%s/no/such/dir/ward.db", f->dir);
    vigil_store *st = NULL;
    vigil_err e = {0};
    assert_int_equal(vigil_store_open(path, 0, &st, &e), VIGIL_ERR_IO);
    assert_null(st);
    assert_non_null(strstr(e.msg, "unable to open database file"));
    assert_string_equal(e.field, "sqlite");
}

static void readonly_store_reads_but_refuses_writes_and_missing_files(void **state)
{
    fx *f = *state;
    vigil_store *ro = NULL;
    vigil_err e = {0};
    char missing[400];
    snprintf(missing, sizeof missing, "%s/missing.db", f->dir);
    assert_int_equal(vigil_store_open(missing, VIGIL_STORE_READONLY, &ro, &e), VIGIL_ERR_IO);
    assert_int_equal(access(missing, F_OK), -1); /* not created */
    assert_int_equal(vigil_store_open(f->path, VIGIL_STORE_READONLY, &ro, &e), VIGIL_OK);
    char nhs[11];
    fx_nhs(77, nhs);
    vigil_obs_event ev;
    fx_event(&ev, nhs, "RO-1", T0);
    vigil_store_put out;
    assert_int_equal(vigil_store_put_obs(ro, &FX_FEED, &ev, NULL, &out, &e), VIGIL_ERR_DENIED);
    vigil_audit_report rep;
    assert_int_equal(vigil_audit_verify(ro, &rep, &e), VIGIL_OK);
    assert_true(rep.ok);
    vigil_store_close(ro);
}

/* clang-format off */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(store_open_creates_schema_at_current_version_in_wal_mode,
                                    fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(store_connection_syncs_fully_with_foreign_keys_busy_timeout_and_memory_temp,
                                    fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(store_refuses_a_database_newer_than_the_code, fx_setup,
                                    fx_teardown),
    cmocka_unit_test_setup_teardown(store_refuses_an_sqlite_file_that_is_not_a_vigil_store,
                                    fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(failed_migration_leaves_the_database_at_the_version_before_it,
                                    fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(reopening_keeps_data_and_does_not_migrate_again, fx_setup,
                                    fx_teardown),
    cmocka_unit_test_setup_teardown(store_uri_for_a_backend_not_built_is_not_found, fx_setup,
                                    fx_teardown),
    cmocka_unit_test_setup_teardown(store_open_failure_carries_the_sqlite_message, fx_setup,
                                    fx_teardown),
    cmocka_unit_test_setup_teardown(readonly_store_reads_but_refuses_writes_and_missing_files,
                                    fx_setup, fx_teardown),
};
/* clang-format on */

VIGIL_TEST_MAIN(tests)
