/* test_store_nodes.c: several nodes on one store (issue 15 item 4): the
 * lease that gives the background work to one handle at a time
 * (vigil_store_lease_try), taken over when its holder closes or its process
 * dies, and the change feed (vigil_store_changes) that tells a node another
 * one wrote the escalation's tables, and an alert repeated once per interval
 * whichever node asks (vigil_store_alert_repeat_once), and one open episode
 * per patient and trigger whichever node opens it. Runs against any store
 * URI. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store_fixture.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool try_lease(vigil_store *st)
{
    bool held = false;
    vigil_err e = {0};
    assert_int_equal(vigil_store_lease_try(st, "background", &held, &e), VIGIL_OK);
    return held;
}

/* REQ NODES-ONE-LEASE: one holder at a time; a closed holder's lease is
 * taken at the next try; a name is checked. */
static void the_lease_has_one_holder_and_passes_on_when_it_closes(void **state)
{
    fx *f = *state;
    vigil_store *b = NULL;
    assert_int_equal(vigil_store_open(f->uri, 0, &b, NULL), VIGIL_OK);
    assert_true(try_lease(f->st));
    assert_false(try_lease(b));
    assert_true(try_lease(f->st)); /* kept */
    assert_false(try_lease(b));
    bool held = true;
    vigil_err e = {0};
    assert_int_equal(vigil_store_lease_try(b, "Back ground", &held, &e), VIGIL_ERR_ARG);
    assert_false(held);
    fx_reopen(f); /* the holder closed: free */
    assert_true(try_lease(b));
    assert_false(try_lease(f->st));
    vigil_store_close(b);
}

/* A holder killed (SIGKILL, nothing closed) loses the lease: the database
 * (PostgreSQL: its session ends) or the kernel (SQLite: the file's lock)
 * releases it, and the next try elsewhere takes it, within seconds. */
static void a_killed_holders_lease_is_taken_over(void **state)
{
    fx *f = *state;
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        vigil_store *st = NULL;
        char c = 'n';
        if (vigil_store_open(f->uri, 0, &st, NULL) == VIGIL_OK) {
            bool held = false;
            if (vigil_store_lease_try(st, "background", &held, NULL) == VIGIL_OK && held) {
                c = 'y';
            }
        }
        if (write(ready[1], &c, 1) != 1) {
            _exit(2);
        }
        for (;;) {
            pause(); /* holds it until killed */
        }
    }
    close(ready[1]);
    char c = 0;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    assert_int_equal(c, 'y');
    assert_false(try_lease(f->st));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    bool took = false;
    int64_t t0 = now_ms();
    while (!took && now_ms() - t0 < 10000) {
        took = try_lease(f->st);
        if (!took) {
            usleep(50 * 1000);
        }
    }
    assert_true(took);
    printf("lease taken over %lld ms after the holder's kill\n",
           (long long)(now_ms() - t0));
}

/* The change feed moves for another connection's write to the escalation's
 * tables only: not for its sets, its reads (audit records), nor this handle's
 * own writes. SQLite: 0 always (one node by design). */
static void the_change_feed_moves_for_another_nodes_escalation_writes_only(void **state)
{
    fx *f = *state;
    vigil_store *b = NULL;
    assert_int_equal(vigil_store_open(f->uri, 0, &b, NULL), VIGIL_OK);
    fx_user(f, "nurse.jo", VIGIL_STORE_ROLE_NURSE);
    char nhs[11];
    fx_nhs(8100u, nhs);
    int64_t p = fx_patient(f, nhs, NULL, "Pat"), adm = 0, ep = 0, al = 0, id = 0;
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, p, "7A", "01", T0, &adm, NULL), VIGIL_OK);
    int64_t v0 = 0, v = 0;
    assert_int_equal(vigil_store_changes(f->st, &v0, NULL), VIGIL_OK);
    /* a set and a read through b, an episode through a itself */
    vigil_obs_event ev;
    fx_event(&ev, nhs, "F-1", T0 + MIN_MS);
    vigil_store_score sc = fx_score(&ev, ev.t_ms);
    vigil_store_put put;
    assert_int_equal(vigil_store_put_obs(b, &FX_FEED, &ev, &sc, &put, NULL), VIGIL_OK);
    vigil_store_ward_list l;
    assert_int_equal(vigil_store_ward_list_get(b, &FX_NURSE, "7A", T0 + HOUR_MS, &l, NULL),
                     VIGIL_OK);
    vigil_store_ward_list_fini(&l);
    assert_int_equal(vigil_store_episode_open(f->st, &FX_FEED, p, VIGIL_RESP_URGENT,
                                              VIGIL_STORE_TRIGGER_NEWS2, 1, 0, T0 + 2 * MIN_MS,
                                              &ep, &al, NULL),
                     VIGIL_OK);
    usleep(200 * 1000); /* what was sent has arrived */
    assert_int_equal(vigil_store_changes(f->st, &v, NULL), VIGIL_OK);
    assert_true(v == v0);
    /* another node acknowledges the alert: the feed moves */
    assert_int_equal(vigil_store_alert_ack(b, &FX_NURSE, al, T0 + 3 * MIN_MS,
                                           VIGIL_STORE_ACK_ATTENDING, NULL, &id, NULL),
                     VIGIL_OK);
    int64_t t0 = now_ms();
    assert_int_equal(vigil_store_changes(f->st, &v, NULL), VIGIL_OK);
    while (v == v0 && fx_is_pg(f) && now_ms() - t0 < 5000) {
        usleep(20 * 1000);
        assert_int_equal(vigil_store_changes(f->st, &v, NULL), VIGIL_OK);
    }
    if (fx_is_pg(f)) {
        assert_true(v != v0);
    } else {
        assert_true(v == 0 && v0 == 0);
    }
    vigil_store_close(b);
}

/* Four processes, each its own handle on f's store, call one(c, arg) at the
 * same instant (after all have opened); each one's status: *ok counts
 * VIGIL_OK, *refused VIGIL_ERR_CONFLICT; any other outcome fails. */
static void race_four(fx *f, vigil_status (*one)(vigil_store *c, void *arg), void *arg, int *ok,
                      int *refused)
{
    pid_t kids[4];
    int pipes[4][2];
    for (int k = 0; k < 4; k++) {
        assert_int_equal(pipe(pipes[k]), 0);
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            vigil_store *c = NULL;
            int rc = vigil_store_open(f->uri, 0, &c, NULL) == VIGIL_OK ? 0 : 2;
            char go;
            if (rc == 0 && read(pipes[k][0], &go, 1) == 1) {
                vigil_status s = one(c, arg);
                rc = s == VIGIL_OK ? 0 : s == VIGIL_ERR_CONFLICT ? 1 : 3;
            }
            vigil_store_close(c);
            _exit(rc);
        }
    }
    usleep(300 * 1000); /* each has opened its handle */
    for (int k = 0; k < 4; k++) {
        assert_int_equal(write(pipes[k][1], "g", 1), 1);
    }
    *ok = *refused = 0;
    for (int k = 0; k < 4; k++) {
        int st = 0;
        assert_int_equal(waitpid(kids[k], &st, 0), kids[k]);
        assert_true(WIFEXITED(st));
        assert_true(WEXITSTATUS(st) <= 1);
        *ok += WEXITSTATUS(st) == 0;
        *refused += WEXITSTATUS(st) == 1;
        close(pipes[k][0]);
        close(pipes[k][1]);
    }
}

typedef struct race_arg {
    int64_t id; /* the alert, or the patient */
} race_arg;

static vigil_status repeat_at_8(vigil_store *c, void *arg)
{
    const race_arg *a = arg;
    return vigil_store_alert_repeat_once(c, &FX_FEED, a->id, T0 + 8 * MIN_MS, 2 * MIN_MS, 2,
                                         "outreach", NULL, 0, NULL);
}

static vigil_status open_news2(vigil_store *c, void *arg)
{
    const race_arg *a = arg;
    int64_t ep = 0, al = 0;
    return vigil_store_episode_open(c, &FX_FEED, a->id, VIGIL_RESP_URGENT,
                                    VIGIL_STORE_TRIGGER_NEWS2, 1, 0, T0 + MIN_MS, &ep, &al, NULL);
}

/* REQ ESC-REPEAT-ONCE: a repeat is stored only when the alert was last sent
 * at least the gap before; the same repeat asked by a second node (a second
 * handle) is refused with nothing written; four processes repeating one
 * alert at the same instant store one repeat. The region test found two
 * nodes repeating one alert 4 ms apart after a lease changed hands. */
static void an_alert_is_repeated_once_per_interval_whichever_node_asks(void **state)
{
    fx *f = *state;
    vigil_store *b = NULL;
    assert_int_equal(vigil_store_open(f->uri, 0, &b, NULL), VIGIL_OK);
    char nhs[11];
    fx_nhs(8200u, nhs);
    int64_t p = fx_patient(f, nhs, NULL, "Pat"), adm = 0, ep = 0, al = 0;
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, p, "7A", "01", T0, &adm, NULL), VIGIL_OK);
    assert_int_equal(vigil_store_episode_open(f->st, &FX_FEED, p, VIGIL_RESP_EMERGENCY,
                                              VIGIL_STORE_TRIGGER_NEWS2, 1, 0, T0, &ep, &al, NULL),
                     VIGIL_OK);
    const int64_t gap = 2 * MIN_MS; /* half a 4-minute interval */
    char where[64];
    snprintf(where, sizeof where, "SELECT count(*) FROM alert_repeat WHERE alert_id = %lld",
             (long long)al);
    vigil_err e = {0};
    /* raised at T0: a repeat 1 min later is too soon, 4 min later is due */
    assert_int_equal(vigil_store_alert_repeat_once(f->st, &FX_FEED, al, T0 + MIN_MS, gap, 1,
                                                   "outreach", NULL, 0, &e),
                     VIGIL_ERR_CONFLICT);
    assert_int_equal(fx_count_in(f->st, where), 0);
    assert_int_equal(vigil_store_alert_repeat_once(f->st, &FX_FEED, al, T0 + 4 * MIN_MS, gap, 1,
                                                   "outreach", NULL, 0, &e),
                     VIGIL_OK);
    /* the second node's same repeat, a moment later: refused, nothing written */
    assert_int_equal(vigil_store_alert_repeat_once(b, &FX_FEED, al, T0 + 4 * MIN_MS + 40, gap, 1,
                                                   "outreach", NULL, 0, &e),
                     VIGIL_ERR_CONFLICT);
    assert_int_equal(fx_count_in(f->st, where), 1);
    vigil_store_close(b);

    /* four processes at the same instant, each its own handle: one repeat */
    race_arg ra = {al};
    int ok = 0, refused = 0;
    race_four(f, repeat_at_8, &ra, &ok, &refused);
    print_message("four processes repeating one alert at once: %d stored, %d refused\n", ok,
                  refused);
    assert_int_equal(ok, 1);
    assert_int_equal(refused, 3);
    assert_int_equal(fx_count_in(f->st, where), 2);
}

/* Only an unacknowledged alert repeats (spec/escalation.md): an
 * acknowledgement made through one handle (a node) stops a repeat asked
 * through another whose memory has not seen it: refused, nothing written. */
static void an_acknowledged_alert_is_not_repeated_by_another_node(void **state)
{
    fx *f = *state;
    vigil_store *b = NULL;
    assert_int_equal(vigil_store_open(f->uri, 0, &b, NULL), VIGIL_OK);
    fx_user(f, "nurse.jo", VIGIL_STORE_ROLE_NURSE);
    char nhs[11];
    fx_nhs(8400u, nhs);
    int64_t p = fx_patient(f, nhs, NULL, "Pat"), adm = 0, ep = 0, al = 0, id = 0;
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, p, "7A", "01", T0, &adm, NULL), VIGIL_OK);
    assert_int_equal(vigil_store_episode_open(f->st, &FX_FEED, p, VIGIL_RESP_EMERGENCY,
                                              VIGIL_STORE_TRIGGER_NEWS2, 1, 0, T0, &ep, &al, NULL),
                     VIGIL_OK);
    char where[64];
    snprintf(where, sizeof where, "SELECT count(*) FROM alert_repeat WHERE alert_id = %lld",
             (long long)al);
    const int64_t gap = 2 * MIN_MS;
    assert_int_equal(vigil_store_alert_ack(b, &FX_NURSE, al, T0 + 3 * MIN_MS,
                                           VIGIL_STORE_ACK_ATTENDING, NULL, &id, NULL),
                     VIGIL_OK);
    vigil_err e = {0};
    assert_int_equal(vigil_store_alert_repeat_once(f->st, &FX_FEED, al, T0 + 4 * MIN_MS, gap, 1,
                                                   "outreach", NULL, 0, &e),
                     VIGIL_ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "acknowledged"));
    assert_int_equal(fx_count_in(f->st, where), 0);
    vigil_store_close(b);
}

/* Issue 15's race: two nodes that each decided, from their own memory, to
 * open an episode for one patient open one. A second open episode of one
 * trigger is refused (CONFLICT, nothing written) unless it supersedes the
 * first; another trigger, a superseding one and each Martha's Rule call
 * are not; four processes opening a NEWS2 episode for one patient at once
 * store one. */
static void a_patient_has_one_open_episode_per_trigger_whichever_node_opens_it(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(8300u, nhs);
    int64_t p = fx_patient(f, nhs, NULL, "Pat"), adm = 0, ep = 0, al = 0, ep2 = 0, id = 0;
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, p, "7A", "01", T0, &adm, NULL), VIGIL_OK);
    char where[96];
    snprintf(where, sizeof where,
             "SELECT count(*) FROM episode WHERE patient_id = %lld AND closed_ms IS NULL",
             (long long)p);
    assert_int_equal(vigil_store_episode_open(f->st, &FX_FEED, p, VIGIL_RESP_URGENT,
                                              VIGIL_STORE_TRIGGER_NEWS2, 1, 0, T0, &ep, &al, NULL),
                     VIGIL_OK);
    vigil_err e = {0};
    assert_int_equal(vigil_store_episode_open(f->st, &FX_FEED, p, VIGIL_RESP_EMERGENCY,
                                              VIGIL_STORE_TRIGGER_NEWS2, 2, 0, T0 + MIN_MS, &ep2,
                                              &al, &e),
                     VIGIL_ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "already has open news2 episode"));
    assert_int_equal(fx_count_in(f->st, where), 1);
    /* superseding it, another trigger, Martha's Rule calls: allowed */
    assert_int_equal(vigil_store_episode_open(f->st, &FX_FEED, p, VIGIL_RESP_EMERGENCY,
                                              VIGIL_STORE_TRIGGER_NEWS2, 2, ep, T0 + MIN_MS, &ep2,
                                              &al, NULL),
                     VIGIL_OK);
    assert_int_equal(vigil_store_episode_open(f->st, &FX_FEED, p, VIGIL_RESP_URGENT,
                                              VIGIL_STORE_TRIGGER_AI, 0, 0, T0 + 2 * MIN_MS, &id,
                                              &al, NULL),
                     VIGIL_OK);
    for (int k = 1; k <= 2; k++) {
        assert_int_equal(vigil_store_episode_open(f->st, &FX_FEED, p, VIGIL_RESP_EMERGENCY,
                                                  VIGIL_STORE_TRIGGER_MARTHAS_RULE, k, 0,
                                                  T0 + (2 + k) * MIN_MS, &id, &al, NULL),
                         VIGIL_OK);
    }
    assert_int_equal(fx_count_in(f->st, where), 4);

    /* four processes, each its own handle, open a NEWS2 episode for a second
     * patient at the same instant: one is stored */
    fx_nhs(8301u, nhs);
    int64_t q = fx_patient(f, nhs, NULL, "Pat2");
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, q, "7A", "02", T0, &adm, NULL), VIGIL_OK);
    snprintf(where, sizeof where,
             "SELECT count(*) FROM episode WHERE patient_id = %lld AND closed_ms IS NULL",
             (long long)q);
    race_arg ra = {q};
    int ok = 0, refused = 0;
    race_four(f, open_news2, &ra, &ok, &refused);
    print_message("four processes opening one patient's episode at once: %d stored, %d refused\n",
                  ok, refused);
    assert_int_equal(ok, 1);
    assert_int_equal(refused, 3);
    assert_int_equal(fx_count_in(f->st, where), 1);
}

/* clang-format off */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(the_lease_has_one_holder_and_passes_on_when_it_closes, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(a_killed_holders_lease_is_taken_over, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(the_change_feed_moves_for_another_nodes_escalation_writes_only, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(an_alert_is_repeated_once_per_interval_whichever_node_asks, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(a_patient_has_one_open_episode_per_trigger_whichever_node_opens_it, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(an_acknowledged_alert_is_not_repeated_by_another_node, fx_setup, fx_teardown),
};
/* clang-format on */

VIGIL_TEST_MAIN(tests)
