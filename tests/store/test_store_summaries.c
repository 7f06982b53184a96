/* test_store_summaries.c: the non-urgent e-mail summaries in the store
 * (migration 9; docs/store.md "Summaries"): a period is queued once per
 * address, in one transaction, audited; due, retried and delivered like a
 * page; and the per-ward counts a summary reports (alerts by level,
 * acknowledged within the period and how fast, open and unacknowledged at its
 * end, Martha's Rule calls) are the ones the rows hold. */
#include "store_fixture.h"

static const vigil_actor POLICY = {"vigil", "escalation policy"};
static const vigil_actor PAGER = {"vigil-pager", "page delivery"};

static int64_t admitted(fx *f, const char *nhs, const char *ward)
{
    int64_t pid = fx_patient(f, nhs, NULL, "A");
    int64_t adm = 0;
    vigil_err e = {0};
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, pid, ward, "BED1", T0 - HOUR_MS, &adm,
                                       &e),
                     VIGIL_OK);
    return pid;
}

static int64_t alert_of(fx *f, int64_t pid, vigil_news2_response level,
                        vigil_store_trigger trigger, int64_t t)
{
    int64_t ep = 0, al = 0;
    vigil_err e = {0};
    assert_int_equal(vigil_store_episode_open_paged(f->st, &POLICY, pid, level, trigger, 0, 0, t,
                                                    NULL, 0, &ep, &al, &e),
                     VIGIL_OK);
    return al;
}

static int64_t alert(fx *f, int64_t pid, vigil_news2_response level, int64_t t)
{
    return alert_of(f, pid, level, VIGIL_STORE_TRIGGER_NEWS2, t);
}

static void ack(fx *f, int64_t al, int64_t t)
{
    vigil_actor who = {"out.1", "direct care"};
    int64_t id = 0;
    vigil_err e = {0};
    assert_int_equal(
        vigil_store_alert_ack(f->st, &who, al, t, VIGIL_STORE_ACK_ATTENDING, NULL, &id, &e),
        VIGIL_OK);
}

static void ward_counts_are_what_the_rows_hold(void **state)
{
    fx *f = *state;
    fx_user(f, "out.1", VIGIL_STORE_ROLE_OUTREACH);
    int64_t a = admitted(f, "9990000018", "WARD7B");
    int64_t b = admitted(f, "9990000026", "WARD7B");
    int64_t c = admitted(f, "9990000034", "AMU");
    const int64_t MIN = 60000;
    int64_t a1 = alert(f, a, VIGIL_RESP_EMERGENCY, T0 + 1 * MIN);
    int64_t b1 = alert(f, b, VIGIL_RESP_URGENT, T0 + 2 * MIN);
    int64_t c1 = alert(f, c, VIGIL_RESP_URGENT_WARD, T0 + 3 * MIN);
    /* before the period, and still open: another trigger (a patient has one
     * open episode per trigger, REQ ESC-ONE-EPISODE) */
    (void)alert_of(f, c, VIGIL_RESP_EMERGENCY, VIGIL_STORE_TRIGGER_AI, T0 - 30 * MIN);
    ack(f, a1, T0 + 3 * MIN);  /* 2 min */
    ack(f, c1, T0 + 13 * MIN); /* 10 min */
    ack(f, b1, T0 + 90 * MIN); /* after the period's end: open then */
    vigil_store_ward_summary w[4];
    size_t n = 0;
    vigil_err e = {0};
    assert_int_equal(vigil_store_ward_summaries(f->st, T0, T0 + HOUR_MS, w, 4, &n, &e), VIGIL_OK);
    assert_int_equal(n, 2);
    assert_string_equal(w[0].ward, "AMU"); /* by ward */
    assert_string_equal(w[1].ward, "WARD7B");
    /* AMU: one urgent-ward alert in the period, acknowledged in 10 min; the earlier
     * emergency is still open and unacknowledged at the end */
    assert_int_equal(w[0].alerts[1], 1);
    assert_int_equal(w[0].alerts[3], 0);
    assert_int_equal(w[0].acked, 1);
    assert_int_equal(w[0].ack_median_ms, 10 * MIN);
    assert_int_equal(w[0].unacked_open, 1);
    /* WARD7B: emergency acknowledged in 2 min, urgent not within the period */
    assert_int_equal(w[1].alerts[3], 1);
    assert_int_equal(w[1].alerts[2], 1);
    assert_int_equal(w[1].acked, 1);
    assert_int_equal(w[1].ack_median_ms, 2 * MIN);
    assert_int_equal(w[1].ack_max_ms, 2 * MIN);
    assert_int_equal(w[1].unacked_open, 1);
    /* the next hour: b1's acknowledgement is in it, but its alert is not */
    assert_int_equal(
        vigil_store_ward_summaries(f->st, T0 + HOUR_MS, T0 + 2 * HOUR_MS, w, 4, &n, &e),
        VIGIL_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(w[i].alerts[0] + w[i].alerts[1] + w[i].alerts[2] + w[i].alerts[3], 0);
    }
}

static void median_of_an_even_count_is_the_mean_of_the_middle_two(void **state)
{
    fx *f = *state;
    fx_user(f, "out.1", VIGIL_STORE_ROLE_OUTREACH);
    const char *nhs[4] = {"9990000018", "9990000026", "9990000034", "9990000042"};
    const int64_t delay[4] = {60000, 120000, 240000, 600000};
    for (int i = 0; i < 4; i++) {
        int64_t p = admitted(f, nhs[i], "WARD7B");
        int64_t al = alert(f, p, VIGIL_RESP_URGENT, T0 + i * 1000);
        ack(f, al, T0 + i * 1000 + delay[i]);
    }
    vigil_store_ward_summary w[2];
    size_t n = 0;
    vigil_err e = {0};
    assert_int_equal(vigil_store_ward_summaries(f->st, T0, T0 + HOUR_MS, w, 2, &n, &e), VIGIL_OK);
    assert_int_equal(n, 1);
    assert_int_equal(w[0].acked, 4);
    assert_int_equal(w[0].ack_median_ms, 180000);
    assert_int_equal(w[0].ack_max_ms, 600000);
}

static void period_is_queued_once_per_address_and_sent_like_a_page(void **state)
{
    fx *f = *state;
    const char *to[2] = {"matron@ward.example", "safety@trust.example"};
    vigil_err e = {0};
    int64_t last = -1;
    assert_int_equal(vigil_store_summary_last(f->st, &last, &e), VIGIL_OK);
    assert_int_equal(last, 0);
    assert_int_equal(vigil_store_summaries_queue(f->st, &PAGER, to, 2, T0, T0 + HOUR_MS, &e),
                     VIGIL_OK);
    assert_int_equal(vigil_store_summary_last(f->st, &last, &e), VIGIL_OK);
    assert_int_equal(last, T0 + HOUR_MS);
    /* the same period, or one overlapping it, is not queued again */
    assert_int_equal(vigil_store_summaries_queue(f->st, &PAGER, to, 2, T0 + HOUR_MS / 2,
                                                 T0 + 2 * HOUR_MS, &e),
                     VIGIL_ERR_CONFLICT);
    /* a header cannot be split by an address */
    const char *bad[1] = {"x@y.example\r\nBcc: all@trust.example"};
    assert_int_equal(vigil_store_summaries_queue(f->st, &PAGER, bad, 1, T0 + HOUR_MS,
                                                 T0 + 2 * HOUR_MS, &e),
                     VIGIL_ERR_ARG);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM summary_mail"), 2);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'summary.queue'"),
                     2);
    vigil_store_summary due[4];
    size_t n = 0;
    assert_int_equal(vigil_store_summaries_due(f->st, T0 + HOUR_MS - 1, due, 4, &n, &e),
                     VIGIL_OK);
    assert_int_equal(n, 0); /* not before the period ends */
    assert_int_equal(vigil_store_summaries_due(f->st, T0 + HOUR_MS, due, 4, &n, &e), VIGIL_OK);
    assert_int_equal(n, 2);
    assert_true(due[0].id != due[1].id);
    /* the relay is down, then takes it */
    assert_int_equal(vigil_store_summary_attempt(f->st, &PAGER, due[0].id, T0 + HOUR_MS + 10,
                                                 VIGIL_STORE_ATTEMPT_RETRY, T0 + HOUR_MS + 1010,
                                                 "relay unreachable", &e),
                     VIGIL_OK);
    assert_int_equal(vigil_store_summaries_due(f->st, T0 + HOUR_MS + 500, due + 2, 2, &n, &e),
                     VIGIL_OK);
    assert_int_equal(n, 1); /* only the other one is due now */
    assert_int_equal(vigil_store_summary_attempt(f->st, &PAGER, due[0].id, T0 + HOUR_MS + 1010,
                                                 VIGIL_STORE_ATTEMPT_DELIVERED, 0, "SMTP 250",
                                                 &e),
                     VIGIL_OK);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM summary_mail WHERE state = 'delivered' "
                                 "AND attempts = 2 AND last_error = ''"),
                     1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM summary_attempt"), 2);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'summary.attempt'"),
                     2);
    /* delivered stays delivered */
    assert_int_equal(vigil_store_summary_attempt(f->st, &PAGER, due[0].id, T0 + HOUR_MS + 2000,
                                                 VIGIL_STORE_ATTEMPT_FAILED, 0, "late", &e),
                     VIGIL_OK);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM summary_mail WHERE state = 'delivered'"),
                     1);
}

/* clang-format off */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(ward_counts_are_what_the_rows_hold, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(median_of_an_even_count_is_the_mean_of_the_middle_two,
                                    fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(period_is_queued_once_per_address_and_sent_like_a_page,
                                    fx_setup, fx_teardown),
};
/* clang-format on */

VIGIL_TEST_MAIN(tests)
