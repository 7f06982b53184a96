/*
 * test_server_inproc.c: the server in this process, talked to over real
 * loopback MLLP, with a test double behind the AI seam (vigil_scorer).
 *
 * Checks: the scorer is called for each new set with the patient's history
 * and its score is stored with the set; a patient who opted out is never
 * scored; a failing or malformed scorer leaves NEWS2-only scoring (still
 * AA); with a site threshold the AI alone can open an episode; an ACK is
 * not sent before its commit (REQ SERVER-ACK-AFTER-COMMIT); messages that
 * arrive while the store thread is busy are committed together in one group
 * (group commit); stop is graceful and closing frees everything (ASan).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sqlite3.h>

#include "server/server_int.h"
#include "vigil/audit.h"
#include "vigil/mllp.h"
#include "vigil/server.h"
#include "vigil/store.h"
#include "vigil/store_test.h"
#include "vigil_test.h"

/* ---- the scorer test double ------------------------------------------------ */

typedef struct fake {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool held;    /* score() waits while held */
    bool waiting; /* a score() call is waiting */
    int calls;
    size_t last_history;
    int64_t last_history_newest_ms;
    bool fail;
    bool malformed;
    double prob;
} fake;

static vigil_status fake_score(void *ctx, const vigil_obs_event *history, size_t n_history,
                               const vigil_obs_event *ev, vigil_ai_score *out, vigil_err *err)
{
    fake *f = ctx;
    pthread_mutex_lock(&f->mu);
    while (f->held) {
        f->waiting = true;
        pthread_cond_broadcast(&f->cv);
        pthread_cond_wait(&f->cv, &f->mu);
    }
    f->waiting = false;
    pthread_mutex_unlock(&f->mu);
    f->calls++;
    f->last_history = n_history;
    f->last_history_newest_ms = n_history > 0 ? history[n_history - 1].t_ms : 0;
    if (f->fail) {
        return vigil_err_set(err, VIGIL_ERR_IO, NULL, "model unavailable");
    }
    memset(out, 0, sizeof *out);
    out->risk = -0.5;
    out->prob = f->malformed ? 1.5 : f->prob;
    out->low_confidence = ev->obs.hr_bpm > 130.0;
    snprintf(out->explanation_json, sizeof out->explanation_json,
             "{\"up\":[\"heart rate\"],\"down\":[]}");
    snprintf(out->model_version, sizeof out->model_version, "fake-1");
    return VIGIL_OK;
}

static const char *fake_version(void *ctx)
{
    (void)ctx;
    return "fake-1";
}

/* ---- fixture ------------------------------------------------------------------ */

typedef struct fx {
    char dir[256];
    char path[320]; /* the SQLite file under dir (when the store is one) */
    char db[400];   /* the store URI the server opens (vigil_test_store_uri) */
    char faulty[420]; /* "faulty:" + db: the store with faults injected on demand */
    fake f;
    vigil_scorer scorer;
    vigil_server_config cfg;
    vigil_server *srv;
    int fd; /* MLLP connection */
    char in[65536];
    size_t in_len;
} fx;

static const vigil_actor TESTER = {"tester", "test set-up"};

static void quiet(void *ctx, const char *line)
{
    (void)ctx;
    (void)line;
}

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    if (x == NULL || vigil_test_mkdtemp(x->dir, sizeof x->dir, "vigil-srv") == NULL) {
        return -1;
    }
    snprintf(x->path, sizeof x->path, "%s/ward.db", x->dir);
    if (!vigil_test_store_uri(x->db, sizeof x->db, x->dir)) {
        return -1;
    }
    x->f.prob = 0.5;
    pthread_mutex_init(&x->f.mu, NULL);
    pthread_cond_init(&x->f.cv, NULL);
    x->scorer = (vigil_scorer){&x->f, fake_score, fake_version, NULL};
    vigil_server_config_init(&x->cfg);
    x->cfg.db = x->db;
    x->cfg.scorer = &x->scorer;
    x->cfg.log = quiet;
    x->fd = -1;
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx *x = *state;
    if (x->fd >= 0) {
        close(x->fd);
    }
    vigil_server_close(x->srv);
    char p[400];
    const char *suffix[] = {"", "-wal", "-shm", ".lease"}; /* .lease: the server's lease */
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", x->path, suffix[i]);
        unlink(p);
    }
    rmdir(x->dir);
    pthread_mutex_destroy(&x->f.mu);
    pthread_cond_destroy(&x->f.cv);
    free(x);
    return 0;
}

/* Called between open and start when set (a test's hook into the store). */
static void (*before_start)(vigil_server *srv);

/* A new MLLP connection to the server. */
static int connect_mllp(fx *x)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)vigil_server_mllp_port(x->srv));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void start(fx *x)
{
    vigil_err err = {0};
    assert_int_equal(vigil_server_open(&x->cfg, &x->srv, &err), VIGIL_OK);
    if (before_start != NULL) {
        before_start(x->srv);
        before_start = NULL;
    }
    assert_int_equal(vigil_server_start(x->srv, &err), VIGIL_OK);
    x->fd = connect_mllp(x);
}

/* Close the server and start a new one on the same database, as a new
 * process would. */
static void restart(fx *x)
{
    close(x->fd);
    x->fd = -1;
    vigil_server_close(x->srv);
    x->srv = NULL;
    start(x);
}

static void oru(char *out, size_t cap, const char *ctrl, const char *t, int hr)
{
    snprintf(out, cap,
             "MSH|^~\\&|EOBS|RX1|VIGIL|RX1|%s||ORU^R01|%s|P|2.5.1\r"
             "PID|1||9990000018^^^NHS^NH||X||19540312|F\r"
             "OBR|1||O|86290005^Vital signs^SCT|||%s\r"
             "OBX|1|NM|9279-1^RR^LN||16|/min|||||F\r"
             "OBX|2|NM|59408-5^SpO2^LN||97|%%|||||F\r"
             "OBX|3|NM|3150-0^FiO2^LN||21|%%|||||F\r"
             "OBX|4|NM|8480-6^SBP^LN||120|mm[Hg]|||||F\r"
             "OBX|5|NM|8867-4^HR^LN||%d|/min|||||F\r"
             "OBX|6|CWE|1104441000000107^ACVPU^SCT||A||||||F\r"
             "OBX|7|NM|8310-5^Temp^LN||37.0|Cel|||||F\r",
             t, ctrl, t, hr);
}

static void send_msg(fx *x, const char *msg)
{
    char buf[4096];
    size_t n = 0;
    assert_int_equal(vigil_mllp_encode(msg, strlen(msg), buf, sizeof buf, &n), VIGIL_OK);
    assert_int_equal(send(x->fd, buf, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Read one ACK (waiting at most timeout_ms); returns its MSA-1 ("" on timeout
 * or when the server closed the connection). */
static const char *read_ack(fx *x, int timeout_ms, char *code)
{
    char *buf = x->in;
    size_t len = x->in_len;
    for (;;) {
        char *eb = memchr(buf, VIGIL_MLLP_EB, len);
        if (eb != NULL && (size_t)(eb - buf) + 1 < len) {
            char *msa = strstr(buf, "MSA|");
            assert_non_null(msa);
            memcpy(code, msa + 4, 2);
            code[2] = '\0';
            size_t used = (size_t)(eb - buf) + 2;
            memmove(buf, buf + used, len - used);
            x->in_len = len - used;
            buf[x->in_len] = '\0';
            return code;
        }
        struct pollfd p = {x->fd, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) <= 0) {
            code[0] = '\0';
            return code;
        }
        ssize_t r = recv(x->fd, buf + len, sizeof x->in - len - 1, 0);
        if (r <= 0) {
            code[0] = '\0';
            return code;
        }
        len += (size_t)r;
        x->in_len = len;
        buf[len] = '\0';
    }
}

static void request(fx *x, const char *ctrl, const char *t, int hr, const char *want)
{
    char m[2048], code[3];
    oru(m, sizeof m, ctrl, t, hr);
    send_msg(x, m);
    assert_string_equal(read_ack(x, 20000, code), want);
}

/* The stored sets of the test patient, through a second store connection. */
static void stored(fx *x, vigil_store_obs_list *l)
{
    vigil_store *st = NULL;
    vigil_err err = {0};
    assert_int_equal(vigil_store_open(x->db, 0, &st, &err), VIGIL_OK);
    vigil_patient p;
    assert_int_equal(vigil_store_patient_find(st, &TESTER, "9990000018", NULL, &p, &err), VIGIL_OK);
    assert_int_equal(vigil_store_obs_range(st, &TESTER, p.id, 0, INT64_MAX, 100, l, &err),
                     VIGIL_OK);
    vigil_store_close(st);
}

/* Run fn(srv, job) on the store thread, as a request's work is, and wait for it. */
/* The test patient (NHS number 9990000018) as the store thread holds it. */
static srv_patient *test_patient(vigil_server *srv)
{
    vigil_status st;
    vigil_err err = {0};
    srv_patient *p = vigil__srv_pat_find(srv, &TESTER, "9990000018", "", &st, &err);
    assert_non_null(p);
    return p;
}

static void on_store_thread(fx *x, void (*fn)(vigil_server *srv, srv_job *job), void *arg);

static void get_patient_id(vigil_server *srv, srv_job *job)
{
    *(int64_t *)job->arg = test_patient(srv)->id;
}

static int64_t test_patient_id(fx *x)
{
    int64_t id = 0;
    on_store_thread(x, get_patient_id, &id);
    return id;
}

static void on_store_thread(fx *x, void (*fn)(vigil_server *srv, srv_job *job), void *arg)
{
    srv_job job;
    vigil__srv_job_init_call(&job);
    job.run = fn;
    job.arg = arg;
    assert_true(vigil__srv_call(x->srv, &job));
    vigil__srv_job_fini_call(&job);
}

/* ---- tests -------------------------------------------------------------------- */

static void ai_score_is_stored_with_its_set_and_sees_the_history(void **state)
{
    fx *x = *state;
    start(x);
    request(x, "M1", "20250114080000+0000", 80, "AA");
    vigil__srv_ai_drain(x->srv);
    request(x, "M2", "20250114090000+0000", 90, "AA");
    vigil__srv_ai_drain(x->srv);
    request(x, "M3", "20250114100000+0000", 135, "AA");
    vigil__srv_ai_drain(x->srv);
    assert_int_equal(x->f.calls, 3);
    assert_int_equal(x->f.last_history, 2);
    assert_int_equal(x->f.last_history_newest_ms, INT64_C(1736845200000)); /* 09:00Z */
    vigil_store_obs_list l;
    stored(x, &l);
    assert_int_equal(l.n, 3);
    for (size_t i = 0; i < l.n; i++) {
        assert_true(l.rows[i].has_ai);
        assert_string_equal(l.rows[i].model_version, "fake-1");
        assert_true(l.rows[i].ai_prob == 0.5);
        assert_non_null(strstr(l.rows[i].explanation_json, "heart rate"));
    }
    vigil_store_obs_list_fini(&l);
}

static void opted_out_patient_is_never_scored(void **state)
{
    fx *x = *state;
    vigil_store *st = NULL;
    vigil_err err = {0};
    assert_int_equal(vigil_store_open(x->db, 0, &st, &err), VIGIL_OK);
    vigil_patient p;
    memset(&p, 0, sizeof p);
    snprintf(p.nhs_number, sizeof p.nhs_number, "9990000018");
    int64_t id = 0, oid = 0;
    assert_int_equal(vigil_store_patient_ensure(st, &TESTER, &p, &id, &err), VIGIL_OK);
    assert_int_equal(
        vigil_store_ai_optout(st, &TESTER, id, INT64_C(1736841600000), NULL, &oid, &err), VIGIL_OK);
    vigil_store_close(st);
    start(x);
    request(x, "M1", "20250114080000+0000", 80, "AA");
    vigil__srv_ai_drain(x->srv);
    assert_int_equal(x->f.calls, 0);
    vigil_store_obs_list l;
    stored(x, &l);
    assert_int_equal(l.n, 1);
    assert_false(l.rows[0].has_ai);
    assert_true(l.rows[0].has_score);
    vigil_store_obs_list_fini(&l);
}

static void failing_or_malformed_scorer_leaves_news2_only(void **state)
{
    fx *x = *state;
    start(x);
    x->f.fail = true;
    request(x, "M1", "20250114080000+0000", 80, "AA");
    vigil__srv_ai_drain(x->srv);
    x->f.fail = false;
    x->f.malformed = true; /* probability 1.5 */
    request(x, "M2", "20250114090000+0000", 80, "AA");
    vigil__srv_ai_drain(x->srv);
    assert_int_equal(x->f.calls, 2);
    vigil_server_stats sts;
    vigil_server_stats_get(x->srv, &sts);
    assert_int_equal(sts.ai_failed, 2);
    assert_int_equal(sts.ai_scored, 0);
    vigil_store_obs_list l;
    stored(x, &l);
    assert_int_equal(l.n, 2);
    assert_false(l.rows[0].has_ai || l.rows[1].has_ai);
    assert_true(l.rows[0].has_score && l.rows[1].has_score);
    vigil_store_obs_list_fini(&l);
}

static void ai_over_a_site_threshold_opens_an_episode_on_its_own(void **state)
{
    fx *x = *state;
    x->cfg.escalation.ai_threshold[VIGIL_ESC_URGENT] = 0.4; /* a site's choice */
    x->f.prob = 0.45;
    start(x);
    request(x, "M1", "20250114080000+0000", 70, "AA"); /* NEWS2 0 */
    vigil__srv_ai_drain(x->srv);
    vigil_store *st = NULL;
    vigil_err err = {0};
    assert_int_equal(vigil_store_open(x->db, 0, &st, &err), VIGIL_OK);
    vigil_store_episode_list l;
    assert_int_equal(vigil_store_episodes_open(st, &TESTER, NULL, &l, &err), VIGIL_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.rows[0].trigger, VIGIL_STORE_TRIGGER_AI);
    assert_int_equal(l.rows[0].level, VIGIL_RESP_URGENT);
    vigil_store_episode_list_fini(&l);
    vigil_store_close(st);
}

/* A job that holds the store thread until released. */
typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool entered, open;
} gate;

static void hold(vigil_server *srv, srv_job *job)
{
    (void)srv;
    gate *g = job->arg;
    pthread_mutex_lock(&g->mu);
    g->entered = true;
    pthread_cond_broadcast(&g->cv);
    while (!g->open) {
        pthread_cond_wait(&g->cv, &g->mu);
    }
    pthread_mutex_unlock(&g->mu);
}

static void close_store_thread(fx *x, gate *g, srv_job *job)
{
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    vigil__srv_job_init_call(job);
    job->run = hold;
    job->arg = g;
    assert_true(vigil__srv_submit(x->srv, job));
    pthread_mutex_lock(&g->mu);
    while (!g->entered) {
        pthread_cond_wait(&g->cv, &g->mu);
    }
    pthread_mutex_unlock(&g->mu);
}

static void open_store_thread(gate *g, srv_job *job)
{
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_mutex_lock(&job->mu);
    while (!job->done) {
        pthread_cond_wait(&job->cv, &job->mu);
    }
    pthread_mutex_unlock(&job->mu);
    vigil__srv_job_fini_call(job);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
}

static size_t queued(vigil_server *srv)
{
    size_t n = 0;
    pthread_mutex_lock(&srv->q_mu);
    for (srv_job *j = srv->q_head; j != NULL; j = j->next) {
        n++;
    }
    pthread_mutex_unlock(&srv->q_mu);
    return n;
}

static void ack_is_not_sent_before_its_commit(void **state)
{
    fx *x = *state;
    x->cfg.scorer = NULL;
    start(x);
    gate g = {0};
    srv_job job;
    close_store_thread(x, &g, &job);
    char m[2048], code[3];
    oru(m, sizeof m, "HELD1", "20250114080000+0000", 80);
    send_msg(x, m);
    while (queued(x->srv) < 1) {
        usleep(1000);
    }
    assert_string_equal(read_ack(x, 200, code), ""); /* queued, not committed: no ACK */
    open_store_thread(&g, &job);
    assert_string_equal(read_ack(x, 20000, code), "AA");
    vigil_store_obs_list l;
    stored(x, &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.rows[0].ev.source_id, "HELD1");
    vigil_store_obs_list_fini(&l);
}

/* REQ SERVER-MLLP-FAIR: a round takes at most 32 messages of one connection
 * (queue.c SRV_ROUND_PER_CONN): 40 queued from one sender during a commit
 * go in two group commits, and a message another connection sent after all
 * 40 goes in the first, ahead of them (a connection with few messages in a
 * round goes first), not behind the 40. */
static void messages_queued_during_a_commit_are_committed_together(void **state)
{
    fx *x = *state;
    x->cfg.scorer = NULL;
    start(x);
    vigil_server_stats before;
    vigil_server_stats_get(x->srv, &before);
    gate g = {0};
    srv_job job;
    close_store_thread(x, &g, &job);
    enum { N = 40, SHARE = 32 };
    char m[2048], ctrl[16], t[32];
    for (int i = 0; i < N; i++) {
        snprintf(ctrl, sizeof ctrl, "G%d", i);
        snprintf(t, sizeof t, "202501140%d%02d00+0000", 8 + i / 60, i % 60);
        oru(m, sizeof m, ctrl, t, 60 + i);
        send_msg(x, m);
    }
    while (queued(x->srv) < N) {
        usleep(1000);
    }
    /* a second sender's message, queued after all of the first one's */
    int first_fd = x->fd;
    x->fd = connect_mllp(x);
    oru(m, sizeof m, "OTHER", "20250114090000+0000", 99);
    send_msg(x, m);
    while (queued(x->srv) < N + 1) {
        usleep(1000);
    }
    open_store_thread(&g, &job);
    char code[3];
    assert_string_equal(read_ack(x, 20000, code), "AA");
    close(x->fd);
    x->fd = first_fd;
    for (int i = 0; i < N; i++) {
        assert_string_equal(read_ack(x, 20000, code), "AA");
    }
    vigil_server_stats after;
    vigil_server_stats_get(x->srv, &after);
    assert_int_equal(after.commits - before.commits, 2);
    assert_int_equal(after.max_group, SHARE + 1);
    assert_int_equal(after.committed_sets - before.committed_sets, N + 1);
    vigil_store_obs_list l;
    stored(x, &l);
    assert_int_equal(l.n, N + 1);
    int64_t other_id = 0, first_taken_id = 0, first_kept_id = 0, last_taken_id = 0;
    for (size_t i = 0; i < l.n; i++) {
        const char *id = l.rows[i].ev.source_id;
        if (strcmp(id, "OTHER") == 0) {
            other_id = l.rows[i].obs_id;
        } else if (strcmp(id, "G32") == 0) {
            first_kept_id = l.rows[i].obs_id;
        } else if (strcmp(id, "G31") == 0) {
            last_taken_id = l.rows[i].obs_id;
        } else if (strcmp(id, "G0") == 0) {
            first_taken_id = l.rows[i].obs_id;
        }
    }
    /* stored in the first round, before the first sender's share (a light
     * connection goes first) and so before the rest of it */
    assert_true(other_id < first_taken_id);
    assert_true(last_taken_id < first_kept_id);
    vigil_store_obs_list_fini(&l);
}

static void hold_scorer(fake *f, bool held)
{
    pthread_mutex_lock(&f->mu);
    f->held = held;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static void wait_scorer_waiting(fake *f)
{
    pthread_mutex_lock(&f->mu);
    while (!f->waiting) {
        pthread_cond_wait(&f->cv, &f->mu);
    }
    pthread_mutex_unlock(&f->mu);
}

/* REQ SERVER-AI-AFTER-ACK: the ACK (and NEWS2's escalation) never waits for the AI */
static void ack_and_news2_do_not_wait_for_the_ai(void **state)
{
    fx *x = *state;
    start(x);
    hold_scorer(&x->f, true);
    request(x, "M1", "20250114080000+0000", 135, "AA"); /* AA while the AI is held */
    wait_scorer_waiting(&x->f);
    vigil_store_obs_list l;
    stored(x, &l);
    assert_int_equal(l.n, 1);
    assert_true(l.rows[0].has_score); /* NEWS2 is stored with the set */
    assert_false(l.rows[0].has_ai);   /* the AI's part is not there yet */
    vigil_store_obs_list_fini(&l);
    hold_scorer(&x->f, false);
    vigil__srv_ai_drain(x->srv);
    stored(x, &l);
    assert_int_equal(l.n, 1);
    assert_true(l.rows[0].has_ai);
    assert_string_equal(l.rows[0].model_version, "fake-1");
    vigil_store_obs_list_fini(&l);
    vigil_server_stats sts;
    vigil_server_stats_get(x->srv, &sts);
    assert_int_equal(sts.ai_scored, 1);
}

/* The audit trail records the AI's score as its own write, by its own actor. */
static void ai_score_after_the_ack_is_audited_and_the_chain_verifies(void **state)
{
    fx *x = *state;
    start(x);
    request(x, "M1", "20250114080000+0000", 80, "AA");
    vigil__srv_ai_drain(x->srv);
    vigil_server_stop(x->srv);
    vigil_store *st = NULL;
    vigil_err err = {0};
    assert_int_equal(vigil_store_open(x->db, 0, &st, &err), VIGIL_OK);
    vigil_audit_report rep;
    assert_int_equal(vigil_audit_verify(st, &rep, &err), VIGIL_OK);
    assert_true(rep.ok);
    int64_t n = 0;
    assert_int_equal(vigil_store_count_rows(st, "audit", "action = 'score.ai' AND actor = 'vigil-ai'",
                                            &n, &err),
                     VIGIL_OK);
    assert_int_equal(n, 1);
    vigil_store_close(st);
}

/* Opt the test patient out on the store thread, as the API does. */
static void opt_out_now(vigil_server *srv, srv_job *job)
{
    (void)job;
    srv_patient *p = test_patient(srv);
    vigil_err err = {0};
    int64_t id = 0;
    assert_int_equal(
        vigil_store_ai_optout(srv->store, &TESTER, p->id, vigil__srv_now_ms(), NULL, &id, &err),
        VIGIL_OK);
    p->opted_out = true;
}

/* REQ SERVER-AI-OPTOUT: an opt-out recorded while the AI was scoring wins */
static void opt_out_made_while_the_ai_scores_is_honoured(void **state)
{
    fx *x = *state;
    start(x);
    hold_scorer(&x->f, true);
    request(x, "M1", "20250114080000+0000", 80, "AA");
    wait_scorer_waiting(&x->f);
    on_store_thread(x, opt_out_now, NULL);
    hold_scorer(&x->f, false);
    vigil__srv_ai_drain(x->srv);
    vigil_store_obs_list l;
    stored(x, &l);
    assert_int_equal(l.n, 1);
    assert_false(l.rows[0].has_ai);
    vigil_store_obs_list_fini(&l);
}

/* A patient's later set replaces an earlier one still waiting for the AI; a
 * backfilled earlier set does not replace a later one. */
static void newer_set_replaces_an_older_one_waiting_for_the_ai(void **state)
{
    fx *x = *state;
    start(x);
    hold_scorer(&x->f, true);
    request(x, "M1", "20250114080000+0000", 80, "AA"); /* taken by the AI thread, held */
    wait_scorer_waiting(&x->f);
    request(x, "M2", "20250114090000+0000", 90, "AA");  /* queued */
    request(x, "M3", "20250114100000+0000", 100, "AA"); /* replaces M2 */
    request(x, "M4", "20250114093000+0000", 95, "AA");  /* backfilled: M3 is later, M3 stays */
    hold_scorer(&x->f, false);
    vigil__srv_ai_drain(x->srv);
    assert_int_equal(x->f.calls, 2);
    vigil_server_stats sts;
    vigil_server_stats_get(x->srv, &sts);
    assert_int_equal(sts.ai_skipped, 2);
    assert_int_equal(sts.ai_scored, 2);
    vigil_store_obs_list l;
    stored(x, &l); /* in measured-time order: M1 08:00, M2 09:00, M4 09:30, M3 10:00 */
    assert_int_equal(l.n, 4);
    assert_true(l.rows[0].has_ai);
    assert_false(l.rows[1].has_ai);
    assert_false(l.rows[2].has_ai);
    assert_true(l.rows[3].has_ai);
    assert_string_equal(l.rows[3].ev.source_id, "M3");
    vigil_store_obs_list_fini(&l);
}

/* Run on the store thread: the test patient's escalation state and the
 * stored open episodes, as a request would see them. */
typedef struct seen {
    bool episode_open;
    size_t stored_open;
} seen;

static void look(vigil_server *srv, srv_job *job)
{
    seen *out = job->arg;
    srv_patient *p = test_patient(srv);
    vigil_err err = {0};
    out->episode_open = p->esc.episode_open;
    vigil_store_episode_list l;
    assert_int_equal(vigil_store_episodes_open(srv->store, &TESTER, NULL, &l, &err), VIGIL_OK);
    out->stored_open = l.n;
    vigil_store_episode_list_fini(&l);
}

/* The policy's writes run after the ACKs, in the background transaction,
 * but before any request reads the patient. */
static void alert_of_an_acknowledged_set_is_stored_before_a_request_reads_it(void **state)
{
    fx *x = *state;
    x->cfg.scorer = NULL;
    start(x);
    request(x, "M1", "20250114080000+0000", 135, "AA"); /* heart rate 135: 3 points */
    seen s = {false, 0};
    on_store_thread(x, look, &s);
    assert_true(s.episode_open);
    assert_int_equal(s.stored_open, 1);
}

/* Issue 15: an episode the policy asks for that the store already holds
 * open (another node opened it; here a second handle, as a node would) is
 * refused, not stored twice, and the server reads its state again: it then
 * knows the open episode. */
static void episode_already_open_in_the_store_is_not_opened_twice(void **state)
{
    fx *x = *state;
    x->cfg.scorer = NULL;
    start(x);
    request(x, "M1", "20250114080000+0000", 72, "AA"); /* the patient, no alert */
    vigil_store *st = NULL;
    vigil_err err = {0};
    assert_int_equal(vigil_store_open(x->db, 0, &st, &err), VIGIL_OK);
    vigil_patient pt;
    assert_int_equal(vigil_store_patient_find(st, &TESTER, "9990000018", NULL, &pt, &err),
                     VIGIL_OK);
    int64_t ep = 0, al = 0;
    const vigil_actor other = {"policy", "another node"};
    assert_int_equal(vigil_store_episode_open(st, &other, pt.id, VIGIL_RESP_URGENT,
                                              VIGIL_STORE_TRIGGER_NEWS2, 0, 0,
                                              1736841600000LL + 60000, &ep, &al, &err),
                     VIGIL_OK);
    vigil_store_close(st);
    request(x, "M2", "20250114090000+0000", 135, "AA"); /* heart rate 135: 3 points */
    seen s = {false, 0};
    for (int i = 0; i < 200 && !s.episode_open; i++) {
        on_store_thread(x, look, &s);
        if (!s.episode_open) {
            usleep(10 * 1000);
        }
    }
    assert_true(s.episode_open);
    assert_int_equal(s.stored_open, 1);
}

static void note_low_confidence(vigil_server *srv, srv_job *job)
{
    bool *out = job->arg;
    srv_patient *p = test_patient(srv);
    *out = p->has_ai && p->ai_low_confidence;
}

/* A low-confidence AI score is still marked after a restart (the flag is stored). */
static void low_confidence_mark_survives_a_restart(void **state)
{
    fx *x = *state;
    start(x);
    request(x, "M1", "20250114080000+0000", 135, "AA"); /* the double: low confidence over 130 */
    vigil__srv_ai_drain(x->srv);
    restart(x);
    bool low = false;
    on_store_thread(x, note_low_confidence, &low);
    assert_true(low);
}

typedef struct plan_seen {
    bool recorded, present;
    vigil_esc_level level;
    int usual_max;
    char by[VIGIL_ID_MAX];
} plan_seen;

/* A doctor records a revised escalation plan for the patient (store thread). */
static void record_plan(vigil_server *srv, srv_job *job)
{
    plan_seen *out = job->arg;
    srv_patient *p = test_patient(srv);
    vigil_err err = {0};
    const char *wards[] = {"*"};
    int64_t uid = 0, id = 0;
    vigil_actor admin = {"admin", "user management"};
    assert_int_equal(vigil_store_user_add(srv->store, &admin, "dr.patel", "Dr Patel",
                                          VIGIL_STORE_ROLE_DOCTOR, "correct horse battery", wards,
                                          1, &uid, &err),
                     VIGIL_OK);
    int64_t now = vigil__srv_now_ms();
    vigil_store_plan plan = {p->id,
                             now,
                             "chronic AF, usual HR 110-135",
                             "HR to 135 expected",
                             now + 24 * 3600000LL,
                             now + 48 * 3600000LL,
                             VIGIL_ESC_WARD,
                             5};
    vigil_actor doctor = {"dr.patel", "direct care"};
    out->recorded = vigil_store_plan_add(srv->store, &doctor, &plan, &id, &err) == VIGIL_OK;
}

static void note_plan(vigil_server *srv, srv_job *job)
{
    plan_seen *out = job->arg;
    srv_patient *p = test_patient(srv);
    out->present = p->plan.present;
    out->level = p->plan.level;
    out->usual_max = p->plan.news2_usual_max;
    snprintf(out->by, sizeof out->by, "%s", p->plan.by);
}

/* A doctor's revised escalation plan applies again after a restart, with
 * the terms it was recorded with (the store keeps them). */
static void revised_plan_applies_again_after_a_restart(void **state)
{
    fx *x = *state;
    x->cfg.scorer = NULL;
    start(x);
    request(x, "M1", "20250114080000+0000", 125, "AA");
    plan_seen seen;
    memset(&seen, 0, sizeof seen);
    on_store_thread(x, record_plan, &seen);
    assert_true(seen.recorded);
    restart(x);
    memset(&seen, 0, sizeof seen);
    on_store_thread(x, note_plan, &seen);
    assert_true(seen.present);
    assert_int_equal(seen.level, VIGIL_ESC_WARD);
    assert_int_equal(seen.usual_max, 5);
    assert_string_equal(seen.by, "dr.patel");
}

/* The server's store thread opens its store through the faulty: backend
 * (vigil_store_fault_arm), so its commits can be made to fail whatever the
 * engine: no hook into SQLite. */
static void use_faulty_store(fx *x)
{
    snprintf(x->faulty, sizeof x->faulty, "faulty:%s", x->db);
    x->cfg.db = x->faulty;
}

/* The escalation's background transaction fails to commit: the set stays
 * acknowledged and stored, no alert is stored or counted, the patient's
 * escalation state is as before (no open episode the store does not have),
 * and the next set raises the alert. */
static void background_commit_failure_leaves_state_as_stored(void **state)
{
    fx *x = *state;
    x->cfg.scorer = NULL;
    use_faulty_store(x);
    start(x);
    request(x, "M0", "20250114070000+0000", 80, "AA"); /* the patient is known and cached */
    seen s = {true, 99};
    on_store_thread(x, look, &s);
    /* the group's commit passes, the background's fails */
    assert_int_equal(vigil_store_fault_arm(x->srv->store, VIGIL_STORE_FAULT_COMMIT, 1), VIGIL_OK);
    request(x, "M1", "20250114080000+0000", 135, "AA");
    s = (seen){true, 99};
    on_store_thread(x, look, &s);
    /* the failing commit happened */
    assert_int_equal(vigil_store_fault_injected(x->srv->store, VIGIL_STORE_FAULT_COMMIT), 1);
    assert_false(s.episode_open);
    assert_int_equal(s.stored_open, 0);
    vigil_server_stats st;
    vigil_server_stats_get(x->srv, &st);
    assert_true(st.store_failures >= 1);
    assert_int_equal(st.alerts_opened, 0); /* counted only once stored */
    vigil_store_obs_list l;
    stored(x, &l);
    assert_int_equal(l.n, 2); /* the acknowledged sets are there */
    vigil_store_obs_list_fini(&l);
    /* commits work again: the next set raises the alert */
    request(x, "M2", "20250114090000+0000", 136, "AA");
    seen s2 = {false, 0};
    on_store_thread(x, look, &s2);
    assert_true(s2.episode_open);
    assert_int_equal(s2.stored_open, 1);
    vigil_server_stats_get(x->srv, &st);
    assert_int_equal(st.alerts_opened, 1);
}

/* ---- issue 12 finding 15: the clinical path never swallows an error ---------- */

/* A request to one route, run on the store thread as http.c would. */
typedef struct call_req {
    const char *method, *path;
    const char *param;
    const char *body;
    srv_req r;
} call_req;

static void run_route(vigil_server *srv, srv_job *job)
{
    call_req *c = job->arg;
    bool method_ok = false;
    const srv_route *rt = vigil__srv_route_match(c->method, c->path, &c->r, &method_ok);
    assert_non_null(rt);
    c->r.method = c->method;
    c->r.path = c->path;
    c->r.query = json_object();
    c->r.body = json_loads(c->body, 0, NULL);
    snprintf(c->r.user.username, sizeof c->r.user.username, "doctor1");
    c->r.user.role = VIGIL_STORE_ROLE_DOCTOR;
    c->r.user.n_wards = 1;
    snprintf(c->r.user.wards[0], sizeof c->r.user.wards[0], "*");
    c->r.who.user = "doctor1";
    c->r.who.reason = "direct care";
    rt->fn(srv, &c->r);
}

static int route(fx *x, const char *method, const char *path, const char *body, json_t **out)
{
    call_req c;
    memset(&c, 0, sizeof c);
    c.method = method;
    c.path = path;
    c.body = body;
    on_store_thread(x, run_route, &c);
    int status = c.r.status;
    if (out != NULL) {
        *out = c.r.resp != NULL ? json_loads(c.r.resp, 0, NULL) : NULL;
    }
    for (size_t i = 0; i < c.r.n_params; i++) {
        free(c.r.params[i]);
    }
    json_decref(c.r.query);
    json_decref(c.r.body);
    free(c.r.resp);
    return status;
}

/* Rows of a table, through a store handle of its own (any backend). */
static int table_rows(fx *x, const char *table)
{
    vigil_store *st = NULL;
    vigil_err err = {0};
    assert_int_equal(vigil_store_open(x->db, 0, &st, &err), VIGIL_OK);
    int64_t n = -1;
    assert_int_equal(vigil_store_count_rows(st, table, NULL, &n, &err), VIGIL_OK);
    vigil_store_close(st);
    return (int)n;
}

/* Skip unless the store is an SQLite file: the write failures below are
 * injected by SQLite triggers (raw SQL on the file). */
static void need_sqlite(const fx *x)
{
    if (!vigil_test_store_is_sqlite(x->db)) {
        fprintf(stderr, "skipped: failures injected by SQLite triggers; the store here is %s\n",
                x->db);
        skip();
    }
}

static void sql(fx *x, const char *text)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(x->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    assert_int_equal(sqlite3_exec(db, text, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* The review is stored with its alert's acknowledgement or not at all: a
 * failing acknowledgement is never answered 201 with the alert repeating. */
static void marthas_review_whose_acknowledgement_fails_stores_nothing_and_is_not_a_201(void **state)
{
    fx *x = *state;
    need_sqlite(x);
    x->cfg.scorer = NULL;
    vigil_store *us = NULL;
    vigil_err err = {0};
    assert_int_equal(vigil_store_open(x->db, 0, &us, &err), VIGIL_OK);
    const char *wards[] = {"*"};
    int64_t uid = 0;
    assert_int_equal(vigil_store_user_add(us, &TESTER, "doctor1", "Doctor One",
                                          VIGIL_STORE_ROLE_DOCTOR, "correct-horse-1", wards, 1,
                                          &uid, &err),
                     VIGIL_OK);
    vigil_store_close(us);
    start(x);
    request(x, "M0", "20250114070000+0000", 80, "AA"); /* the patient is known */
    char path[128];
    snprintf(path, sizeof path, "/api/patients/%lld/marthas-rule", (long long)test_patient_id(x));
    json_t *j = NULL;
    int st = route(x, "POST", path,
                   "{\"caller\": \"family\", \"channel\": \"phone\", \"concern\": \"worse\"}", &j);
    assert_int_equal(st, 201);
    json_int_t call_id = json_integer_value(json_object_get(j, "call_id"));
    json_decref(j);
    assert_true(call_id > 0);
    assert_int_equal(table_rows(x, "ack"), 0);
    /* every acknowledgement write fails from now on */
    sql(x, "CREATE TRIGGER test_ack_fails BEFORE INSERT ON ack "
           "BEGIN SELECT RAISE(ABORT, 'test: acknowledgement write fails'); END;");
    snprintf(path, sizeof path, "/api/marthas-rule/%lld/review", (long long)call_id);
    const char *review = "{\"responder\": \"outreach\", \"category\": \"acute-deterioration\", "
                         "\"outcome\": \"no-change\"}";
    vigil_server_stats before;
    vigil_server_stats_get(x->srv, &before);
    st = route(x, "POST", path, review, NULL);
    assert_int_not_equal(st, 201);
    assert_true(st >= 400);
    assert_int_equal(table_rows(x, "marthas_review"), 0); /* not stored without its ack */
    vigil_server_stats after;
    vigil_server_stats_get(x->srv, &after);
    assert_true(after.store_failures > before.store_failures); /* counted (and logged) */
    /* once acknowledgements can be written the review goes through, alert acknowledged */
    sql(x, "DROP TRIGGER test_ack_fails");
    st = route(x, "POST", path, review, NULL);
    assert_int_equal(st, 201);
    assert_int_equal(table_rows(x, "marthas_review"), 1);
    assert_int_equal(table_rows(x, "ack"), 1);
}

/* While the policy's writes fail, Martha's Rule calls wait for its step; a
 * call beyond what can wait is refused (503, counted), never stored and
 * dropped with a 201. */
static void marthas_call_that_could_not_reach_escalation_is_refused_not_dropped(void **state)
{
    fx *x = *state;
    need_sqlite(x);
    x->cfg.scorer = NULL;
    start(x);
    request(x, "M0", "20250114070000+0000", 80, "AA");
    char path[128];
    snprintf(path, sizeof path, "/api/patients/%lld/marthas-rule", (long long)test_patient_id(x));
    const char *call = "{\"caller\": \"family\", \"channel\": \"phone\", \"concern\": \"worse\"}";
    sql(x, "CREATE TRIGGER test_alert_fails BEFORE INSERT ON alert "
           "BEGIN SELECT RAISE(ABORT, 'test: alert write fails'); END;");
    for (int k = 0; k < VIGIL_ESC_MARTHA_MAX; k++) {
        assert_int_equal(route(x, "POST", path, call, NULL), 201);
    }
    vigil_server_stats before;
    vigil_server_stats_get(x->srv, &before);
    assert_int_equal(route(x, "POST", path, call, NULL), 503);
    assert_int_equal(table_rows(x, "marthas_call"), VIGIL_ESC_MARTHA_MAX);
    vigil_server_stats after;
    vigil_server_stats_get(x->srv, &after);
    assert_true(after.store_failures > before.store_failures);
    /* the writes work again: the waiting calls reach the policy and a new call is taken */
    sql(x, "DROP TRIGGER test_alert_fails");
    assert_int_equal(route(x, "POST", path, call, NULL), 201);
    assert_int_equal(table_rows(x, "marthas_call"), VIGIL_ESC_MARTHA_MAX + 1);
    assert_true(table_rows(x, "alert") >= VIGIL_ESC_MARTHA_MAX);
}

static void stop_is_idempotent_and_close_frees_everything(void **state)
{
    fx *x = *state;
    start(x);
    request(x, "M1", "20250114080000+0000", 80, "AA");
    vigil_server_stop(x->srv);
    vigil_server_stop(x->srv);
    char code[3];
    /* the listener is gone: the connection was closed */
    assert_string_equal(read_ack(x, 100, code), "");
    assert_int_equal(vigil_server_mllp_port(NULL), -1);
    vigil_server_close(NULL);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(ai_score_is_stored_with_its_set_and_sees_the_history, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(opted_out_patient_is_never_scored, setup, teardown),
    cmocka_unit_test_setup_teardown(failing_or_malformed_scorer_leaves_news2_only, setup, teardown),
    cmocka_unit_test_setup_teardown(ai_over_a_site_threshold_opens_an_episode_on_its_own, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(ack_is_not_sent_before_its_commit, setup, teardown),
    cmocka_unit_test_setup_teardown(messages_queued_during_a_commit_are_committed_together, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(ack_and_news2_do_not_wait_for_the_ai, setup, teardown),
    cmocka_unit_test_setup_teardown(ai_score_after_the_ack_is_audited_and_the_chain_verifies, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(opt_out_made_while_the_ai_scores_is_honoured, setup, teardown),
    cmocka_unit_test_setup_teardown(newer_set_replaces_an_older_one_waiting_for_the_ai, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(
        alert_of_an_acknowledged_set_is_stored_before_a_request_reads_it, setup, teardown),
    cmocka_unit_test_setup_teardown(episode_already_open_in_the_store_is_not_opened_twice, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(low_confidence_mark_survives_a_restart, setup, teardown),
    cmocka_unit_test_setup_teardown(revised_plan_applies_again_after_a_restart, setup, teardown),
    cmocka_unit_test_setup_teardown(background_commit_failure_leaves_state_as_stored, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(
        marthas_review_whose_acknowledgement_fails_stores_nothing_and_is_not_a_201, setup,
        teardown),
    cmocka_unit_test_setup_teardown(
        marthas_call_that_could_not_reach_escalation_is_refused_not_dropped, setup, teardown),
    cmocka_unit_test_setup_teardown(stop_is_idempotent_and_close_frees_everything, setup, teardown),
};

VIGIL_TEST_MAIN(tests)
