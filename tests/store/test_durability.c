/*
 * test_durability.c: REQ STORE-DURABLE-ACK: an observation acknowledged by
 * the store (vigil_store_put_obs / _batch returned VIGIL_OK) survives the
 * writer being killed at any moment.
 *
 * A child process writes observation sets in a loop, single and batched,
 * and after each successful call writes the acknowledged ids on a pipe.
 * The parent kills it with SIGKILL after a random delay, twenty times on
 * the same database, then reopens it: every acknowledged id is present
 * with its content, PRAGMA integrity_check is ok, the audit chain verifies,
 * and each stored set has exactly one obs.put audit record.
 *
 * This kills the process, not the machine: it shows that what the store
 * acknowledges has been committed (the OS holds it), and that recovery from
 * a torn WAL is clean. Power-loss durability rests on synchronous=FULL
 * (docs/store.md), which a test in one machine cannot show.
 */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "store_fixture.h"

#define ROUNDS 20
#define ID_STRIDE INT64_C(1000000) /* each round's ids start at round * stride */
#define N_PATIENTS 5

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

/* The content of set id: anything the reader can recompute. */
static void event_for(int64_t id, vigil_obs_event *ev, char sid[32])
{
    char nhs[11];
    fx_nhs((unsigned)(6000 + id % N_PATIENTS), nhs);
    snprintf(sid, 32, "K-%lld", (long long)id);
    fx_event(ev, nhs, sid, T0 + id);
    ev->obs.hr_bpm = (double)(40 + id % 120);
    ev->obs.rr_bpm = (double)(8 + id % 20);
}

static bool write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return false;
        }
        c += w;
        n -= (size_t)w;
    }
    return true;
}

/* The child: write until killed. Never returns. */
static void writer(const char *path, int fd, int64_t first_id, uint64_t seed)
{
    vigil_store *st = NULL;
    if (vigil_store_open(path, 0, &st, NULL) != VIGIL_OK) {
        _exit(3);
    }
    int64_t id = first_id;
    for (;;) {
        size_t n = (xorshift(&seed) % 3 == 0) ? 1 + xorshift(&seed) % 8 : 1;
        vigil_obs_event ev[8];
        vigil_store_score sc[8];
        vigil_store_obs_item items[8];
        vigil_store_put out[8];
        int64_t ids[8];
        for (size_t i = 0; i < n; i++) {
            char sid[32];
            ids[i] = id++;
            event_for(ids[i], &ev[i], sid);
            memset(&sc[i], 0, sizeof sc[i]);
            vigil_news2_score(&ev[i].obs, &sc[i].news2, NULL);
            sc[i].t_ms = ev[i].t_ms;
            items[i] = (vigil_store_obs_item){&ev[i], &sc[i]};
        }
        vigil_status s;
        if (n == 1) {
            s = vigil_store_put_obs(st, &FX_FEED, &ev[0], &sc[0], &out[0], NULL);
        } else {
            s = vigil_store_put_obs_batch(st, &FX_FEED, items, n, out, NULL);
        }
        if (s != VIGIL_OK) {
            continue; /* not acknowledged: not reported */
        }
        for (size_t i = 0; i < n; i++) {
            if (out[i].status == VIGIL_OK && !write_all(fd, &ids[i], sizeof ids[i])) {
                _exit(4);
            }
        }
    }
}

static void killed_writer_loses_no_acknowledged_observation(void **state)
{
    fx *f = *state;
    if (fx_is_pg(f)) { /* the writers open SQLite's file (f->path): skipped, saying so */
        (void)fx_raw(f);
    }
    vigil_store_close(f->st);
    f->st = NULL;
    uint64_t seed = UINT64_C(0x9E3779B97F4A7C15);
    size_t n_acked = 0, cap = 1024;
    int64_t *acked = malloc(cap * sizeof *acked);
    for (int round = 0; round < ROUNDS; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        uint64_t child_seed = xorshift(&seed);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            writer(f->path, fds[1], (int64_t)round * ID_STRIDE + 1, child_seed);
        }
        close(fds[1]);
        /* kill after 2..150 ms: lands before, in and after transactions */
        long delay_us = 2000 + (long)(xorshift(&seed) % 148000);
        struct timespec ts = {0, delay_us * 1000};
        nanosleep(&ts, NULL);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int wst = 0;
        assert_int_equal(waitpid(pid, &wst, 0), pid);
        assert_true(WIFSIGNALED(wst) && WTERMSIG(wst) == SIGKILL);
        int64_t id;
        ssize_t r;
        while ((r = read(fds[0], &id, sizeof id)) == (ssize_t)sizeof id) {
            if (n_acked == cap) {
                cap *= 2;
                acked = realloc(acked, cap * sizeof *acked);
            }
            acked[n_acked++] = id;
        }
        assert_true(r == 0); /* no torn id: writes of 8 bytes to a pipe are atomic */
        close(fds[0]);
    }
    print_message("%zu observations acknowledged over %d kills\n", n_acked, ROUNDS);
    assert_true(n_acked >= ROUNDS); /* the test wrote something to lose */

    fx_reopen(f); /* recovery happens here */
    sqlite3 *db = fx_raw(f);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT o.t_ms, o.hr_bpm, o.rr_bpm, s.news2_total "
                                        "FROM obs_set o JOIN score s ON s.obs_set_id = o.id "
                                        "WHERE o.source = 'hl7' AND o.source_id = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    size_t missing = 0;
    for (size_t i = 0; i < n_acked; i++) {
        char sid[32];
        vigil_obs_event ev;
        event_for(acked[i], &ev, sid);
        sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) {
            missing++;
        } else {
            vigil_news2 n;
            vigil_news2_score(&ev.obs, &n, NULL);
            assert_int_equal(sqlite3_column_int64(st, 0), ev.t_ms);
            assert_true(sqlite3_column_double(st, 1) == ev.obs.hr_bpm);
            assert_true(sqlite3_column_double(st, 2) == ev.obs.rr_bpm);
            assert_int_equal(sqlite3_column_int(st, 3), n.total);
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    assert_int_equal(missing, 0);
    /* data and audit committed together: one obs.put per stored set */
    assert_int_equal(fx_int(db, "SELECT count(*) FROM obs_set"),
                     fx_int(db, "SELECT count(*) FROM audit WHERE action = 'obs.put'"));
    assert_int_equal(fx_int(db, "SELECT count(*) FROM obs_set"),
                     fx_int(db, "SELECT count(*) FROM score"));
    sqlite3_close(db);
    vigil_audit_report rep = fx_verify(f);
    if (!rep.ok) {
        fail_msg("audit chain after kills: %s", rep.detail);
    }
    free(acked);
}

/* clang-format off */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(killed_writer_loses_no_acknowledged_observation, fx_setup, fx_teardown),
};
/* clang-format on */

VIGIL_TEST_MAIN(tests)
