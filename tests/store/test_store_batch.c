/* test_store_batch.c: batches (vigil_store_batch_begin .. commit): several
 * store calls in one durable transaction, each still all or none, nothing
 * durable before the commit, nothing at all after a rollback, and the audit
 * chain intact across a call that failed inside the batch. */
#include "store_fixture.h"

static int64_t put_in_batch(fx *f, const char *nhs, const char *sid, int64_t t, vigil_status want)
{
    vigil_obs_event ev;
    fx_event(&ev, nhs, sid, t);
    vigil_store_score sc = fx_score(&ev, t + 1);
    vigil_store_put out;
    vigil_err e = {0};
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, &sc, &out, &e), want);
    return out.obs_id;
}

static void calls_in_a_batch_are_durable_together_at_its_commit(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(3001, nhs);
    vigil_err e = {0};
    int64_t audits = fx_count(f, "SELECT count(*) FROM audit");
    assert_int_equal(vigil_store_batch_begin(f->st, &e), VIGIL_OK);
    int64_t a = put_in_batch(f, nhs, "B-1", T0, VIGIL_OK);
    int64_t b = put_in_batch(f, nhs, "B-2", T0 + HOUR_MS, VIGIL_OK);
    assert_true(a > 0 && b > a);
    /* another connection sees nothing yet */
    assert_int_equal(fx_count_other(f, "SELECT count(*) FROM obs_set"), 0);
    assert_int_equal(fx_count_other(f, "SELECT count(*) FROM audit"), audits);
    assert_int_equal(vigil_store_batch_commit(f->st, &e), VIGIL_OK);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set"), 2);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM score"), 2);
    vigil_audit_report rep = fx_verify(f);
    assert_true(rep.ok);
}

static void failed_call_inside_a_batch_is_undone_alone_with_its_audit(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(3002, nhs);
    vigil_err e = {0};
    assert_int_equal(vigil_store_batch_begin(f->st, &e), VIGIL_OK);
    put_in_batch(f, nhs, "C-1", T0, VIGIL_OK);
    /* the same message id with other content: refused, its writes undone */
    vigil_obs_event ev;
    fx_event(&ev, nhs, "C-1", T0);
    ev.obs.hr_bpm = 131;
    vigil_store_put out;
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, NULL, &out, &e), VIGIL_ERR_CONFLICT);
    /* an episode for a patient that does not exist: a failure after the call began */
    int64_t ep = 0, al = 0;
    assert_int_not_equal(vigil_store_episode_open(f->st, &FX_FEED, 999999, VIGIL_RESP_URGENT,
                                                  VIGIL_STORE_TRIGGER_NEWS2, 0, 0, T0, &ep, &al,
                                                  &e),
                         VIGIL_OK);
    put_in_batch(f, nhs, "C-2", T0 + HOUR_MS, VIGIL_OK);
    assert_int_equal(vigil_store_batch_commit(f->st, &e), VIGIL_OK);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set"), 2);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM episode"), 0);
    vigil_audit_report rep = fx_verify(f); /* the chain's head went back with the failure */
    assert_true(rep.ok);
}

static void rolled_back_batch_stores_nothing_and_the_store_goes_on(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(3003, nhs);
    vigil_err e = {0};
    int64_t audits = fx_count(f, "SELECT count(*) FROM audit");
    assert_int_equal(vigil_store_batch_begin(f->st, &e), VIGIL_OK);
    put_in_batch(f, nhs, "D-1", T0, VIGIL_OK);
    vigil_store_batch_rollback(f->st);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set"), 0);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM patient"), 0);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit"), audits);
    /* outside a batch again: each call commits on its own */
    put_in_batch(f, nhs, "D-1", T0, VIGIL_OK);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set"), 1);
    vigil_audit_report rep = fx_verify(f);
    assert_true(rep.ok);
}

static void batches_do_not_nest_and_commit_needs_one_open(void **state)
{
    fx *f = *state;
    vigil_err e = {0};
    assert_int_equal(vigil_store_batch_commit(f->st, &e), VIGIL_ERR_ARG);
    assert_int_equal(vigil_store_batch_begin(f->st, &e), VIGIL_OK);
    assert_int_equal(vigil_store_batch_begin(f->st, &e), VIGIL_ERR_ARG);
    assert_int_equal(vigil_store_batch_commit(f->st, &e), VIGIL_OK);
    vigil_store_batch_rollback(f->st); /* none open: a no-op */
    assert_int_equal(vigil_store_batch_begin(NULL, &e), VIGIL_ERR_ARG);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(calls_in_a_batch_are_durable_together_at_its_commit, fx_setup,
                                    fx_teardown),
    cmocka_unit_test_setup_teardown(failed_call_inside_a_batch_is_undone_alone_with_its_audit,
                                    fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(rolled_back_batch_stores_nothing_and_the_store_goes_on,
                                    fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(batches_do_not_nest_and_commit_needs_one_open, fx_setup,
                                    fx_teardown),
};

VIGIL_TEST_MAIN(tests)
