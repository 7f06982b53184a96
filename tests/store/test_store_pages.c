/* test_store_pages.c: rotas and the page outbox in the store (migration 8;
 * docs/store.md "Rotas and pages"): a page is queued with its alert or
 * repeat or not at all (REQ PAGE-OUTBOX), leaves pending once, every attempt
 * is kept and audited, an acknowledgement acknowledges the alert's pages and
 * cancels those not yet sent; a rota post's holders are the ward's own, else
 * "*"'s, and an unheld post is a gap (REQ ROTA-GAP). */
#include "store_fixture.h"

#define ON(ward_, level_, step_, user_, from_, to_)                                                \
    do {                                                                                           \
        vigil_store_shift s_;                                                                      \
        memset(&s_, 0, sizeof s_);                                                                 \
        snprintf(s_.ward, sizeof s_.ward, "%s", ward_);                                            \
        snprintf(s_.level, sizeof s_.level, "%s", level_);                                         \
        s_.step = step_;                                                                           \
        snprintf(s_.username, sizeof s_.username, "%s", user_);                                    \
        s_.from_ms = from_;                                                                        \
        s_.to_ms = to_;                                                                            \
        int64_t id_ = 0;                                                                           \
        vigil_err e_ = {0};                                                                        \
        assert_int_equal(vigil_store_shift_add(f->st, &ADMIN, &s_, &id_, &e_), VIGIL_OK);         \
    } while (0)

static const vigil_actor ADMIN = {"admin", "rota"};
static const vigil_actor POLICY = {"vigil", "escalation policy"};

/* A patient admitted to WARD7B bed 3; its id. */
static int64_t admitted(fx *f)
{
    int64_t pid = fx_patient(f, "9990000018", NULL, "A");
    int64_t adm = 0;
    vigil_err e = {0};
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, pid, "WARD7B", "BED3", T0, &adm, &e),
                     VIGIL_OK);
    return pid;
}

/* The id of a shift held by username (any ward, any time), read back. */
static int64_t shift_of(fx *f, const char *username)
{
    vigil_store_shift sh[32];
    size_t n = 0;
    int64_t id = 0;
    const char *wards[] = {"WARD7B", "*"};
    for (size_t w = 0; w < 2; w++) {
        assert_int_equal(vigil_store_shifts_get(f->st, wards[w], 0, INT64_C(4102444800000), sh, 32,
                                                &n, NULL),
                         VIGIL_OK);
        for (size_t i = 0; i < n; i++) {
            if (strcmp(sh[i].username, username) == 0) {
                assert_true(id == 0 || id == sh[i].id); /* one shift */
                id = sh[i].id;
            }
        }
    }
    assert_true(id > 0);
    return id;
}

/* The id of the one page of alert al. */
static int64_t only_page_of(fx *f, int64_t al)
{
    vigil_store_page pg[4];
    size_t n = 0;
    assert_int_equal(vigil_store_pages_of_alert(f->st, al, pg, 4, &n, NULL), VIGIL_OK);
    assert_int_equal(n, 1);
    return pg[0].id;
}

static void page_is_queued_with_its_alert_or_not_at_all(void **state)
{
    fx *f = *state;
    int64_t pid = admitted(f);
    vigil_store_page_req req[2] = {
        {.recipient = "out.1", .channel = VIGIL_STORE_CHANNEL_WEBHOOK, .post = "emergency step 0"},
        {.recipient = NULL, .channel = VIGIL_STORE_CHANNEL_WEB, .post = "emergency step 1"},
    };
    int64_t ep = 0, al = 0;
    vigil_err e = {0};
    /* the page's insert fails: nothing of the alert is stored either (a failure
     * injected by an SQLite trigger: SQLite files only) */
    if (fx_is_sqlite(f)) {
        sqlite3 *db = fx_raw(f);
        assert_int_equal(fx_exec(db, "CREATE TRIGGER page_refused BEFORE INSERT ON page BEGIN "
                                     "SELECT RAISE(ABORT, 'no pages today'); END"),
                         SQLITE_OK);
        assert_int_not_equal(vigil_store_episode_open_paged(f->st, &POLICY, pid,
                                                            VIGIL_RESP_EMERGENCY,
                                                            VIGIL_STORE_TRIGGER_NEWS2, 0, 0, T0,
                                                            req, 2, &ep, &al, &e),
                             VIGIL_OK);
        assert_int_equal(fx_count(f, "SELECT count(*) FROM episode"), 0);
        assert_int_equal(fx_count(f, "SELECT count(*) FROM alert"), 0);
        assert_int_equal(fx_exec(db, "DROP TRIGGER page_refused"), SQLITE_OK);
        sqlite3_close(db);
    }
    /* now both: the alert, its routed page pending, its gap unrouted; each audited */
    assert_int_equal(vigil_store_episode_open_paged(f->st, &POLICY, pid, VIGIL_RESP_EMERGENCY,
                                                    VIGIL_STORE_TRIGGER_NEWS2, 0, 0, T0, req, 2,
                                                    &ep, &al, &e),
                     VIGIL_OK);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM page WHERE state = 'pending' AND "
                                 "recipient = 'out.1' AND ward = 'WARD7B' AND bed = 'BED3' AND "
                                 "level = 'emergency'"),
                     1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM page WHERE state = 'unrouted' AND "
                                 "recipient IS NULL"),
                     1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'page.queue'"), 2);
    /* a repeat queues its own, linked to the repeat */
    req[0].post = "emergency step 1";
    req[0].rota_step = 1;
    assert_int_equal(vigil_store_alert_repeat_paged(f->st, &POLICY, al, T0 + 5 * MIN_MS, 1,
                                                     "senior", req, 1, &e),
                     VIGIL_OK);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM page WHERE repeat_id IS NOT NULL AND "
                                 "rota_step = 1"),
                     1);
    assert_true(fx_verify(f).ok);
}

static void page_attempts_are_kept_audited_and_leave_pending_once(void **state)
{
    fx *f = *state;
    int64_t pid = admitted(f);
    vigil_store_page_req req = {
        .recipient = "out.1", .channel = VIGIL_STORE_CHANNEL_WEBHOOK, .post = "emergency step 0"};
    int64_t ep = 0, al = 0;
    vigil_err e = {0};
    assert_int_equal(vigil_store_episode_open_paged(f->st, &POLICY, pid, VIGIL_RESP_EMERGENCY,
                                                    VIGIL_STORE_TRIGGER_NEWS2, 0, 0, T0, &req, 1,
                                                    &ep, &al, &e),
                     VIGIL_OK);
    vigil_store_page due[4];
    size_t n = 0;
    assert_int_equal(
        vigil_store_pages_due(f->st, VIGIL_STORE_CHANNEL_WEBHOOK, T0, due, 4, &n, &e), VIGIL_OK);
    assert_int_equal(n, 1);
    int64_t id = due[0].id;
    assert_int_equal(vigil_store_page_attempt(f->st, &POLICY, id, T0 + 10,
                                              VIGIL_STORE_ATTEMPT_RETRY, T0 + 1010, "HTTP 503",
                                              &e),
                     VIGIL_OK);
    /* not due again before its back-off */
    assert_int_equal(
        vigil_store_pages_due(f->st, VIGIL_STORE_CHANNEL_WEBHOOK, T0 + 500, due, 4, &n, &e),
        VIGIL_OK);
    assert_int_equal(n, 0);
    assert_int_equal(
        vigil_store_pages_due(f->st, VIGIL_STORE_CHANNEL_WEBHOOK, T0 + 1010, due, 4, &n, &e),
        VIGIL_OK);
    assert_int_equal(n, 1);
    assert_int_equal(due[0].attempts, 1);
    assert_string_equal(due[0].last_error, "HTTP 503");
    assert_int_equal(vigil_store_page_attempt(f->st, &POLICY, id, T0 + 1020,
                                              VIGIL_STORE_ATTEMPT_DELIVERED, 0, "HTTP 200", &e),
                     VIGIL_OK);
    /* a late second delivery (a resend after a crash) is kept, but changes nothing */
    assert_int_equal(vigil_store_page_attempt(f->st, &POLICY, id, T0 + 1030,
                                              VIGIL_STORE_ATTEMPT_FAILED, 0, "timeout", &e),
                     VIGIL_OK);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM page WHERE state = 'delivered' AND "
                                 "attempts = 2"),
                     1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM page_attempt"), 3);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'page.attempt'"), 3);
    if (fx_is_sqlite(f)) { /* append-only: the SQLite schema's trigger, by raw SQL */
        sqlite3 *db = fx_raw(f);
        assert_int_not_equal(fx_exec(db, "DELETE FROM page_attempt"), SQLITE_OK);
        sqlite3_close(db);
    }
    assert_true(fx_verify(f).ok);
}

static void ack_acknowledges_the_alerts_pages_and_cancels_unsent_ones(void **state)
{
    fx *f = *state;
    int64_t pid = admitted(f);
    fx_user(f, "out.1", VIGIL_STORE_ROLE_OUTREACH);
    vigil_store_page_req req[2] = {
        {.recipient = "out.1", .channel = VIGIL_STORE_CHANNEL_WEBHOOK, .post = "emergency step 0"},
        {.recipient = "out.1", .channel = VIGIL_STORE_CHANNEL_WEB, .post = "emergency step 0"},
    };
    int64_t ep = 0, al = 0, ack = 0;
    vigil_err e = {0};
    assert_int_equal(vigil_store_episode_open_paged(f->st, &POLICY, pid, VIGIL_RESP_EMERGENCY,
                                                    VIGIL_STORE_TRIGGER_NEWS2, 0, 0, T0, req, 2,
                                                    &ep, &al, &e),
                     VIGIL_OK);
    vigil_actor out1 = {"out.1", "direct care"};
    vigil_store_page mine[4];
    size_t n = 0;
    assert_int_equal(vigil_store_pages_for(f->st, &out1, T0 - HOUR_MS, T0 + 1000, mine, 4, &n, &e),
                     VIGIL_OK);
    assert_int_equal(n, 2); /* the web one is now delivered: fetched by the app */
    vigil_store_page rd;
    int64_t web_id = mine[0].channel == VIGIL_STORE_CHANNEL_WEB ? mine[0].id : mine[1].id;
    assert_int_equal(vigil_store_page_read(f->st, &out1, web_id, T0 + 2000, &rd, &e), VIGIL_OK);
    assert_int_equal(rd.read_ms, T0 + 2000);
    assert_int_equal(rd.delivered_ms, T0 + 1000);
    assert_int_equal(rd.acked_ms, 0);
    assert_int_equal(vigil_store_alert_ack(f->st, &out1, al, T0 + 3000, VIGIL_STORE_ACK_ATTENDING,
                                           NULL, &ack, &e),
                     VIGIL_OK);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM page WHERE acked_ms IS NOT NULL"), 2);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM page WHERE channel = 'webhook' AND "
                                 "state = 'cancelled'"),
                     1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM page WHERE channel = 'web' AND "
                                 "state = 'delivered' AND read_ms = delivered_ms + 1000 AND "
                                 "acked_ms = read_ms + 1000"),
                     1);
    /* nobody else reads another's page */
    vigil_actor other = {"dr.patel", "direct care"};
    assert_int_equal(vigil_store_page_read(f->st, &other, web_id, T0 + 4000, &rd, &e),
                     VIGIL_ERR_NOT_FOUND);
}

static void rota_holders_are_the_wards_own_else_stars_and_unheld_posts_are_gaps(void **state)
{
    fx *f = *state;
    admitted(f); /* WARD7B has a patient */
    fx_user(f, "out.1", VIGIL_STORE_ROLE_OUTREACH);
    fx_user(f, "out.2", VIGIL_STORE_ROLE_OUTREACH);
    fx_user(f, "nic.7b", VIGIL_STORE_ROLE_NURSE);
    ON("*", "emergency", 0, "out.1", T0 - HOUR_MS, T0 + HOUR_MS);
    ON("WARD7B", "emergency", 0, "out.2", T0 - HOUR_MS, T0 + HOUR_MS);
    ON("*", "emergency", 1, "out.1", T0 + HOUR_MS, T0 + 2 * HOUR_MS); /* not yet on */
    ON("WARD7B", "in-charge", 0, "nic.7b", T0 - HOUR_MS, T0 + HOUR_MS);
    char who[4][VIGIL_ID_MAX];
    size_t n = 0;
    vigil_err e = {0};
    assert_int_equal(
        vigil_store_rota_holders(f->st, "WARD7B", "emergency", 0, T0, who, 4, &n, &e), VIGIL_OK);
    assert_int_equal(n, 1);
    assert_string_equal(who[0], "out.2"); /* the ward's own */
    assert_int_equal(
        vigil_store_rota_holders(f->st, "WARD9", "emergency", 0, T0, who, 4, &n, &e), VIGIL_OK);
    assert_int_equal(n, 1);
    assert_string_equal(who[0], "out.1"); /* "*" covers the rest: REQ ROTA-STAR-FALLBACK */
    assert_int_equal(
        vigil_store_rota_holders(f->st, "WARD7B", "emergency", 1, T0, who, 4, &n, &e), VIGIL_OK);
    assert_int_equal(n, 0); /* the shift starts later */
    vigil_store_rota_gap gaps[32];
    assert_int_equal(vigil_store_rota_gaps(f->st, T0, 2, gaps, 32, &n, &e), VIGIL_OK);
    /* WARD7B: ward 0,1 urgent-ward 0,1 urgent 0,1 emergency 1, and no site manager
     * (in-charge 1) = 8 gaps */
    assert_int_equal(n, 8);
    bool e1 = false, site = false;
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(gaps[i].ward, "WARD7B");
        assert_false(strcmp(gaps[i].level, "in-charge") == 0 && gaps[i].step == 0);
        e1 = e1 || (strcmp(gaps[i].level, "emergency") == 0 && gaps[i].step == 1);
        site = site || (strcmp(gaps[i].level, "in-charge") == 0 && gaps[i].step == 1);
    }
    assert_true(e1);
    assert_true(site); /* REQ ROTA-GAP: the site manager's post is a gap like any other */
    fx_user(f, "site.mgr", VIGIL_STORE_ROLE_NURSE);
    ON("*", "in-charge", 1, "site.mgr", T0 - HOUR_MS, T0 + HOUR_MS);
    assert_int_equal(vigil_store_rota_gaps(f->st, T0, 2, gaps, 32, &n, &e), VIGIL_OK);
    assert_int_equal(n, 7); /* one site manager for every ward */
    /* ending the nurse in charge's shift opens that gap */
    int64_t nic = shift_of(f, "nic.7b");
    vigil_store_shift was;
    assert_int_equal(vigil_store_shift_end(f->st, &ADMIN, nic, T0, &was, &e), VIGIL_OK);
    assert_string_equal(was.username, "nic.7b");
    assert_int_equal(vigil_store_rota_gaps(f->st, T0 + 1, 2, gaps, 32, &n, &e), VIGIL_OK);
    assert_int_equal(n, 8);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action LIKE 'rota.%'"), 6);
    /* a shift for nobody, or backwards, is refused */
    vigil_store_shift bad;
    memset(&bad, 0, sizeof bad);
    snprintf(bad.ward, sizeof bad.ward, "WARD7B");
    snprintf(bad.level, sizeof bad.level, "emergency");
    snprintf(bad.username, sizeof bad.username, "ghost");
    bad.from_ms = T0;
    bad.to_ms = T0 + HOUR_MS;
    int64_t id = 0;
    assert_int_equal(vigil_store_shift_add(f->st, &ADMIN, &bad, &id, &e), VIGIL_ERR_NOT_FOUND);
    snprintf(bad.username, sizeof bad.username, "out.1");
    bad.to_ms = T0;
    assert_int_equal(vigil_store_shift_add(f->st, &ADMIN, &bad, &id, &e), VIGIL_ERR_ARG);
}


/* REQ PAGE-ACK-NOTICE: an acknowledgement tells the gateway, once for each
 * webhook page it took, through the same outbox; a page never taken is
 * cancelled and needs no notice; the notices are not the recipient's pages. */
static void ack_tells_the_gateway_once_for_each_page_it_took(void **state)
{
    fx *f = *state;
    int64_t pid = admitted(f);
    fx_user(f, "out.1", VIGIL_STORE_ROLE_OUTREACH);
    fx_user(f, "out.2", VIGIL_STORE_ROLE_OUTREACH);
    vigil_store_page_req req[3] = {
        {.recipient = "out.1", .channel = VIGIL_STORE_CHANNEL_WEBHOOK, .post = "emergency step 0"},
        {.recipient = "out.2", .channel = VIGIL_STORE_CHANNEL_WEBHOOK, .post = "emergency step 0"},
        {.recipient = "out.1", .channel = VIGIL_STORE_CHANNEL_WEB, .post = "emergency step 0"},
    };
    int64_t ep = 0, al = 0, ack = 0;
    vigil_err e = {0};
    assert_int_equal(vigil_store_episode_open_paged(f->st, &POLICY, pid, VIGIL_RESP_EMERGENCY,
                                                    VIGIL_STORE_TRIGGER_NEWS2, 0, 0, T0, req, 3,
                                                    &ep, &al, &e),
                     VIGIL_OK);
    vigil_store_page due[4];
    size_t n = 0;
    assert_int_equal(vigil_store_pages_due(f->st, VIGIL_STORE_CHANNEL_WEBHOOK, T0, due, 4, &n, &e),
                     VIGIL_OK);
    assert_int_equal(n, 2);
    int64_t took = due[0].recipient[4] == '1' ? due[0].id : due[1].id;
    assert_int_equal(vigil_store_page_attempt(f->st, &POLICY, took, T0 + 100,
                                              VIGIL_STORE_ATTEMPT_DELIVERED, 0, "HTTP 200", &e),
                     VIGIL_OK);
    vigil_actor out1 = {"out.1", "direct care"};
    assert_int_equal(vigil_store_alert_ack(f->st, &out1, al, T0 + 3000, VIGIL_STORE_ACK_ATTENDING,
                                           NULL, &ack, &e),
                     VIGIL_OK);
    /* one notice, for the page the gateway took; out.2's never left and is cancelled */
    assert_int_equal(vigil_store_pages_due(f->st, VIGIL_STORE_CHANNEL_WEBHOOK, T0 + 3000, due, 4,
                                           &n, &e),
                     VIGIL_OK);
    assert_int_equal(n, 1);
    assert_int_equal(due[0].notice_of, took);
    assert_true(due[0].id > took);
    assert_string_equal(due[0].recipient, "out.1");
    assert_string_equal(due[0].post, "emergency step 0");
    assert_int_equal(fx_count(f, "SELECT count(*) FROM page WHERE kind = 'page' AND "
                                 "channel = 'webhook' AND state = 'cancelled'"),
                     1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'page.queue' AND "
                                 "detail LIKE 'acknowledgement notice of page%'"),
                     1);
    /* the notice is the gateway's, not a page in the responder's list */
    vigil_store_page mine[8];
    assert_int_equal(vigil_store_pages_for(f->st, &out1, T0 - HOUR_MS, T0 + 4000, mine, 8, &n, &e),
                     VIGIL_OK);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(mine[i].notice_of, 0);
    }
    /* sent: it stays sent; acknowledging again adds no second notice */
    assert_int_equal(vigil_store_page_attempt(f->st, &POLICY, due[0].id, T0 + 3100,
                                              VIGIL_STORE_ATTEMPT_DELIVERED, 0, "HTTP 200", &e),
                     VIGIL_OK);
    (void)vigil_store_alert_ack(f->st, &out1, al, T0 + 5000, VIGIL_STORE_ACK_REVIEWED, NULL, &ack,
                                &e);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM page WHERE kind = 'ack'"), 1);
}

/* A page the gateway took while its alert was being acknowledged (the
 * pager's attempt lands after the ack cancelled it) is delivered after all,
 * and the gateway is told of the acknowledgement. */
static void page_taken_during_its_acknowledgement_is_delivered_and_noticed(void **state)
{
    fx *f = *state;
    int64_t pid = admitted(f);
    fx_user(f, "out.1", VIGIL_STORE_ROLE_OUTREACH);
    vigil_store_page_req req = {.recipient = "out.1", .channel = VIGIL_STORE_CHANNEL_WEBHOOK,
                                .post = "emergency step 0"};
    int64_t ep = 0, al = 0, ack = 0;
    vigil_err e = {0};
    assert_int_equal(vigil_store_episode_open_paged(f->st, &POLICY, pid, VIGIL_RESP_EMERGENCY,
                                                    VIGIL_STORE_TRIGGER_NEWS2, 0, 0, T0, &req, 1,
                                                    &ep, &al, &e),
                     VIGIL_OK);
    int64_t id = only_page_of(f, al);
    vigil_actor out1 = {"out.1", "direct care"};
    assert_int_equal(vigil_store_alert_ack(f->st, &out1, al, T0 + 1000, VIGIL_STORE_ACK_ATTENDING,
                                           NULL, &ack, &e),
                     VIGIL_OK);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM page WHERE state = 'cancelled'"), 1);
    assert_int_equal(vigil_store_page_attempt(f->st, &POLICY, id, T0 + 1200,
                                              VIGIL_STORE_ATTEMPT_DELIVERED, 0, "HTTP 200", &e),
                     VIGIL_OK);
    char sql[128];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM page WHERE id = %lld AND state = 'delivered' AND "
             "delivered_ms = %lld",
             (long long)id, (long long)(T0 + 1200));
    assert_int_equal(fx_count(f, sql), 1);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM page WHERE kind = 'ack' AND notice_of = %lld AND "
             "state = 'pending'",
             (long long)id);
    assert_int_equal(fx_count(f, sql), 1);
}

/* REQ PAGE-FAILED-IN-CHARGE: a page that fails for good and the web page
 * telling the nurse in charge are one transaction; a page that had already
 * left pending gets the attempt recorded and no fallback. */
static void failed_page_and_its_fallback_are_stored_together(void **state)
{
    fx *f = *state;
    int64_t pid = admitted(f);
    fx_user(f, "out.1", VIGIL_STORE_ROLE_OUTREACH);
    fx_user(f, "nic.7b", VIGIL_STORE_ROLE_NURSE);
    vigil_store_page_req req = {.recipient = "out.1", .channel = VIGIL_STORE_CHANNEL_WEBHOOK,
                                .post = "emergency step 0"};
    int64_t ep = 0, al = 0;
    vigil_err e = {0};
    assert_int_equal(vigil_store_episode_open_paged(f->st, &POLICY, pid, VIGIL_RESP_EMERGENCY,
                                                    VIGIL_STORE_TRIGGER_NEWS2, 0, 0, T0, &req, 1,
                                                    &ep, &al, &e),
                     VIGIL_OK);
    int64_t id = only_page_of(f, al);
    vigil_store_page_req fb = {.recipient = "nic.7b", .channel = VIGIL_STORE_CHANNEL_WEB,
                               .post = "failed page: emergency step 0 to out.1"};
    /* the fallback's insert fails: the failure is not recorded either (a failure
     * injected by an SQLite trigger: SQLite files only) */
    if (fx_is_sqlite(f)) {
        sqlite3 *db = fx_raw(f);
        assert_int_equal(fx_exec(db, "CREATE TRIGGER no_fallback BEFORE INSERT ON page BEGIN "
                                     "SELECT RAISE(ABORT, 'refused'); END"),
                         SQLITE_OK);
        assert_int_not_equal(
            vigil_store_page_failed(f->st, &POLICY, id, T0 + 100, "HTTP 403", &fb, 1, &e),
            VIGIL_OK);
        assert_int_equal(fx_count(f, "SELECT count(*) FROM page WHERE state = 'pending'"), 1);
        assert_int_equal(fx_count(f, "SELECT count(*) FROM page_attempt"), 0);
        assert_int_equal(fx_exec(db, "DROP TRIGGER no_fallback"), SQLITE_OK);
        sqlite3_close(db);
    }
    assert_int_equal(
        vigil_store_page_failed(f->st, &POLICY, id, T0 + 200, "HTTP 403", &fb, 1, &e), VIGIL_OK);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM page WHERE state = 'failed' AND "
                                 "last_error = 'HTTP 403'"),
                     1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM page WHERE recipient = 'nic.7b' AND "
                                 "channel = 'web' AND state = 'pending' AND post LIKE "
                                 "'failed page:%'"),
                     1);
    /* already failed: recorded, no second fallback */
    assert_int_equal(
        vigil_store_page_failed(f->st, &POLICY, id, T0 + 300, "HTTP 403", &fb, 1, &e), VIGIL_OK);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM page WHERE recipient = 'nic.7b'"), 1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM page_attempt"), 2);
}

/* clang-format off */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(page_is_queued_with_its_alert_or_not_at_all, fx_setup,
                                    fx_teardown),
    cmocka_unit_test_setup_teardown(page_attempts_are_kept_audited_and_leave_pending_once,
                                    fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(ack_acknowledges_the_alerts_pages_and_cancels_unsent_ones,
                                    fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(rota_holders_are_the_wards_own_else_stars_and_unheld_posts_are_gaps,
                                    fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(ack_tells_the_gateway_once_for_each_page_it_took, fx_setup,
                                    fx_teardown),
    cmocka_unit_test_setup_teardown(page_taken_during_its_acknowledgement_is_delivered_and_noticed,
                                    fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(failed_page_and_its_fallback_are_stored_together, fx_setup,
                                    fx_teardown),
};
/* clang-format on */

VIGIL_TEST_MAIN(tests)
