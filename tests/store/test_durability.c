/*
 * test_durability.c: REQ STORE-DURABLE-ACK: an observation acknowledged by
 * the store (vigil_store_put_obs / _batch returned VIGIL_OK) survives the
 * writer being killed at any moment.
 *
 * A child process writes observation sets in a loop, single and batched,
 * and after each successful call writes the acknowledged ids on a pipe.
 * The parent kills it with SIGKILL after a random delay, twenty times on
 * the same database, then reopens it: every acknowledged id is present
 * with its content (read back through the store, so any backend), PRAGMA
 * integrity_check is ok (SQLite files only), the audit chain verifies,
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

/* PRAGMA integrity_check of the SQLite file says "ok". */
static void integrity_ok(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
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
            writer(f->uri, fds[1], (int64_t)round * ID_STRIDE + 1, child_seed);
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
    if (fx_is_sqlite(f)) { /* the engine's own check of its file */
        sqlite3 *db = fx_raw(f);
        integrity_ok(db);
        sqlite3_close(db);
    }
    /* every acknowledged set, read back through the store (one read
     * transaction: a batch) */
    vigil_store_obs_list lists[N_PATIENTS];
    assert_int_equal(vigil_store_batch_begin(f->st, NULL), VIGIL_OK);
    for (int p = 0; p < N_PATIENTS; p++) {
        char nhs[11];
        fx_nhs((unsigned)(6000 + p), nhs);
        vigil_patient pat;
        memset(&lists[p], 0, sizeof lists[p]);
        vigil_status s = vigil_store_patient_find(f->st, &FX_NURSE, nhs, NULL, &pat, NULL);
        if (s == VIGIL_ERR_NOT_FOUND) {
            continue; /* no set of this patient acknowledged (checked below) */
        }
        assert_int_equal(s, VIGIL_OK);
        assert_int_equal(vigil_store_obs_range(f->st, &FX_NURSE, pat.id, T0, T0 + ID_STRIDE * ROUNDS,
                                               1000000, &lists[p], NULL),
                         VIGIL_OK);
        assert_false(lists[p].truncated);
    }
    assert_int_equal(vigil_store_batch_commit(f->st, NULL), VIGIL_OK);
    size_t missing = 0;
    for (size_t i = 0; i < n_acked; i++) {
        char sid[32];
        vigil_obs_event ev;
        event_for(acked[i], &ev, sid);
        const vigil_store_obs_list *l = &lists[acked[i] % N_PATIENTS];
        const vigil_store_obs_row *row = NULL;
        size_t lo = 0, hi = l->n; /* oldest first; t_ms is T0 + id, one set per id */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (l->rows[mid].ev.t_ms < ev.t_ms) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if (lo < l->n && l->rows[lo].ev.t_ms == ev.t_ms) {
            row = &l->rows[lo];
        }
        if (row == NULL) {
            missing++;
            continue;
        }
        vigil_news2 n;
        vigil_news2_score(&ev.obs, &n, NULL);
        assert_string_equal(row->ev.source_id, sid);
        assert_true(row->ev.obs.hr_bpm == ev.obs.hr_bpm);
        assert_true(row->ev.obs.rr_bpm == ev.obs.rr_bpm);
        assert_true(row->has_score);
        assert_int_equal(row->news2.total, n.total);
    }
    for (int p = 0; p < N_PATIENTS; p++) {
        vigil_store_obs_list_fini(&lists[p]);
    }
    assert_int_equal(missing, 0);
    /* data and audit committed together: one obs.put per stored set */
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set"),
                     fx_count(f, "SELECT count(*) FROM audit WHERE action = 'obs.put'"));
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set"),
                     fx_count(f, "SELECT count(*) FROM score"));
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
