/* test_store_patcache.c: the store's patient cache (sq_patcache.c) never
 * answers differently from the patient table: after a patient row changes
 * on this connection, after a rolled-back batch or refused unit, and after
 * another connection commits. Each case fails when its invalidation is
 * taken out. */
#include "store_fixture.h"

static vigil_status put_ids(fx *f, const char *nhs, const char *mrn, const char *sid, int64_t t,
                            vigil_store_put *out)
{
    vigil_obs_event ev;
    fx_event(&ev, nhs, sid, t);
    snprintf(ev.mrn, sizeof ev.mrn, "%s", mrn);
    vigil_err e = {0};
    return vigil_store_put_obs(f->st, &FX_FEED, &ev, NULL, out, &e);
}

/* A set naming the patient by NHS number alone caches the row with no
 * hospital number; the next set fills it in (an UPDATE on this
 * connection); a third with another hospital number must then be refused,
 * as the table says. */
static void filled_in_hospital_number_is_seen_by_the_next_set(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(4101, nhs);
    vigil_store_put a, b, c;
    assert_int_equal(put_ids(f, nhs, "", "PC-1", T0, &a), VIGIL_OK);
    assert_int_equal(put_ids(f, nhs, "RX100", "PC-2", T0 + MIN_MS, &b), VIGIL_OK);
    assert_int_equal(a.patient_id, b.patient_id);
    assert_int_equal(put_ids(f, nhs, "RX999", "PC-3", T0 + 2 * MIN_MS, &c), VIGIL_ERR_CONFLICT);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set"), 2);
}

/* Another connection (a second process on the same file) changes a stored
 * patient that sets have been read against: the next set is judged against
 * the change. */
static void change_committed_by_another_connection_is_seen(void **state)
{
    fx *f = *state;
    fx_need_sqlite(f, "the SQLite backend's patient cache, changed under it by raw SQL");
    char nhs[11];
    fx_nhs(4102, nhs);
    vigil_store_put a, b;
    assert_int_equal(put_ids(f, nhs, "RX200", "PC-1", T0, &a), VIGIL_OK);
    assert_int_equal(put_ids(f, nhs, "RX200", "PC-0", T0 - MIN_MS, &b), VIGIL_OK); /* now read */
    sqlite3 *db = fx_raw(f);
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE patient SET mrn = 'RX201' WHERE id = %lld",
             (long long)a.patient_id);
    assert_int_equal(fx_exec(db, sql), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(put_ids(f, nhs, "RX200", "PC-2", T0 + MIN_MS, &b), VIGIL_ERR_CONFLICT);
    assert_int_equal(put_ids(f, nhs, "RX201", "PC-3", T0 + MIN_MS, &b), VIGIL_OK);
    assert_int_equal(b.patient_id, a.patient_id);
}

/* A patient created (and read back) inside a batch that is rolled back
 * does not exist: the next set for that NHS number creates it again and is
 * stored. */
static void patient_of_a_rolled_back_batch_is_not_remembered(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(4103, nhs);
    vigil_err e = {0};
    vigil_store_put a, b;
    assert_int_equal(vigil_store_batch_begin(f->st, &e), VIGIL_OK);
    assert_int_equal(put_ids(f, nhs, "RX300", "PC-1", T0, &a), VIGIL_OK);
    assert_int_equal(put_ids(f, nhs, "RX300", "PC-2", T0 + MIN_MS, &b), VIGIL_OK); /* read */
    vigil_store_batch_rollback(f->st);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM patient"), 0);
    assert_int_equal(put_ids(f, nhs, "RX300", "PC-1", T0, &b), VIGIL_OK);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM patient"), 1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set"), 1);
    vigil_audit_report rep;
    assert_int_equal(vigil_audit_verify(f->st, &rep, &e), VIGIL_OK);
    assert_true(rep.ok);
}

/* A unit whose second set is refused is rolled back whole (a savepoint),
 * the patient its first set created with it; a later set for that patient
 * creates it again. */
static void patient_of_a_refused_unit_is_not_remembered(void **state)
{
    fx *f = *state;
    char nhs[11], other[11];
    fx_nhs(4104, nhs);
    fx_nhs(4105, other);
    fx_patient(f, other, "RX401", "Bob");
    vigil_obs_event ev[3];
    fx_event(&ev[0], nhs, "PU-1", T0);
    snprintf(ev[0].mrn, sizeof ev[0].mrn, "RX400");
    fx_event(&ev[1], nhs, "PU-2", T0 + MIN_MS);
    snprintf(ev[1].mrn, sizeof ev[1].mrn, "RX401"); /* Bob's: a conflict found in the table */
    fx_event(&ev[2], other, "PU-3", T0);
    vigil_store_obs_item items[3] = {
        {.ev = &ev[0], .unit = 1}, {.ev = &ev[1], .unit = 1}, {.ev = &ev[2], .unit = 2}};
    vigil_store_put out[3];
    vigil_err e = {0};
    assert_int_equal(vigil_store_put_obs_batch(f->st, &FX_FEED, items, 3, out, &e), VIGIL_OK);
    assert_int_equal(out[1].status, VIGIL_ERR_CONFLICT);
    assert_int_not_equal(out[0].status, VIGIL_OK);
    assert_int_equal(out[2].status, VIGIL_OK);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM patient"), 1);
    vigil_store_put b;
    assert_int_equal(put_ids(f, nhs, "RX400", "PU-4", T0, &b), VIGIL_OK);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM patient"), 2);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(filled_in_hospital_number_is_seen_by_the_next_set, fx_setup,
                                    fx_teardown),
    cmocka_unit_test_setup_teardown(change_committed_by_another_connection_is_seen, fx_setup,
                                    fx_teardown),
    cmocka_unit_test_setup_teardown(patient_of_a_rolled_back_batch_is_not_remembered, fx_setup,
                                    fx_teardown),
    cmocka_unit_test_setup_teardown(patient_of_a_refused_unit_is_not_remembered, fx_setup,
                                    fx_teardown),
};

VIGIL_TEST_MAIN(tests)
