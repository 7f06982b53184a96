/* test_store_secret.c: the store's secrets (vigil_store_secret_ensure), kept
 * in the store so every node sharing it uses the same ones (issue 15: the
 * bedside codes' key): stored once, by the first caller whatever the race,
 * never changed; names and lengths checked before the backend. Runs against
 * any store URI (VIGIL_TEST_STORE_URI). */
#include <sys/wait.h>

#include "store_fixture.h"

#define KEY_LEN 32

static void fill(uint8_t *b, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++) {
        b[i] = (uint8_t)(v + i);
    }
}

/* REQ STORE-SECRET-ONCE: the first candidate is kept; later ones, on this
 * connection or after a reopen, get it back; each name has its own. */
static void a_secret_is_stored_once_and_later_candidates_get_the_first(void **state)
{
    fx *f = *state;
    vigil_err e = {0};
    uint8_t a[KEY_LEN], b[KEY_LEN], c[KEY_LEN], out[KEY_LEN];
    fill(a, sizeof a, 1);
    fill(b, sizeof b, 101);
    fill(c, sizeof c, 201);
    assert_int_equal(vigil_store_secret_ensure(f->st, "bedside-code-key", a, KEY_LEN, out, &e),
                     VIGIL_OK);
    assert_memory_equal(out, a, KEY_LEN);
    assert_int_equal(vigil_store_secret_ensure(f->st, "bedside-code-key", b, KEY_LEN, out, &e),
                     VIGIL_OK);
    assert_memory_equal(out, a, KEY_LEN);
    fx_reopen(f);
    memcpy(out, c, KEY_LEN); /* candidate and out may be one buffer */
    assert_int_equal(vigil_store_secret_ensure(f->st, "bedside-code-key", out, KEY_LEN, out, &e),
                     VIGIL_OK);
    assert_memory_equal(out, a, KEY_LEN);
    assert_int_equal(vigil_store_secret_ensure(f->st, "other.key-2", c, 16, out, &e), VIGIL_OK);
    assert_memory_equal(out, c, 16);
    int64_t n = 0;
    assert_int_equal(vigil_store_count_rows(f->st, "secret", NULL, &n, &e), VIGIL_OK);
    assert_int_equal(n, 2);
}

/* A stored secret of another length is a mismatch, out untouched; bad names,
 * lengths and pointers are refused before the backend, storing nothing. */
static void secret_names_and_lengths_are_checked(void **state)
{
    fx *f = *state;
    vigil_err e = {0};
    uint8_t a[VIGIL_STORE_SECRET_MAX + 1], out[VIGIL_STORE_SECRET_MAX + 1], keep[sizeof out];
    fill(a, sizeof a, 7);
    assert_int_equal(vigil_store_secret_ensure(f->st, "k", a, KEY_LEN, out, &e), VIGIL_OK);
    memset(out, 0xee, sizeof out);
    memcpy(keep, out, sizeof out);
    assert_int_equal(vigil_store_secret_ensure(f->st, "k", a, 16, out, &e), VIGIL_ERR_MISMATCH);
    assert_memory_equal(out, keep, sizeof out);
    char longest[VIGIL_STORE_SECRET_NAME_MAX + 2];
    memset(longest, 'a', sizeof longest);
    longest[VIGIL_STORE_SECRET_NAME_MAX + 1] = '\0';
    const char *bad[] = {"", "Upper", "has space", "semi;colon", "quote'", longest};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(vigil_store_secret_ensure(f->st, bad[i], a, KEY_LEN, out, &e),
                         VIGIL_ERR_ARG);
    }
    assert_int_equal(vigil_store_secret_ensure(f->st, NULL, a, KEY_LEN, out, &e), VIGIL_ERR_ARG);
    assert_int_equal(vigil_store_secret_ensure(f->st, "z", a, 0, out, &e), VIGIL_ERR_ARG);
    assert_int_equal(vigil_store_secret_ensure(f->st, "z", a, VIGIL_STORE_SECRET_MAX + 1, out, &e),
                     VIGIL_ERR_ARG);
    assert_int_equal(vigil_store_secret_ensure(f->st, "z", NULL, KEY_LEN, out, &e), VIGIL_ERR_ARG);
    assert_int_equal(vigil_store_secret_ensure(f->st, "z", a, KEY_LEN, NULL, &e), VIGIL_ERR_ARG);
    longest[VIGIL_STORE_SECRET_NAME_MAX] = '\0'; /* the longest name taken */
    assert_int_equal(vigil_store_secret_ensure(f->st, longest, a, VIGIL_STORE_SECRET_MAX, out, &e),
                     VIGIL_OK);
    assert_memory_equal(out, a, VIGIL_STORE_SECRET_MAX);
    int64_t n = 0;
    assert_int_equal(vigil_store_count_rows(f->st, "secret", NULL, &n, &e), VIGIL_OK);
    assert_int_equal(n, 2);
}

/* One racer: wait for the start, open the store, offer its own candidate,
 * write what it got to fd. Exits 0 when every call succeeded. */
static void racer(const char *uri, int id, int go_fd, int out_fd)
{
    char c;
    if (read(go_fd, &c, 1) < 0) {
        _exit(4);
    }
    vigil_store *st = NULL;
    vigil_err e = {0};
    if (vigil_store_open(uri, 0, &st, &e) != VIGIL_OK) {
        fprintf(stderr, "racer %d: open: %s\n", id, e.msg);
        _exit(3);
    }
    uint8_t cand[KEY_LEN], got[KEY_LEN];
    fill(cand, sizeof cand, (uint8_t)(16 * (id + 1)));
    vigil_status s = vigil_store_secret_ensure(st, "bedside-code-key", cand, KEY_LEN, got, &e);
    if (s != VIGIL_OK) {
        fprintf(stderr, "racer %d: ensure: %s: %s\n", id, vigil_status_str(s), e.msg);
    }
    vigil_store_close(st);
    if (s != VIGIL_OK || write(out_fd, got, sizeof got) != (ssize_t)sizeof got) {
        _exit(1);
    }
    _exit(0);
}

/* REQ STORE-SECRET-ONCE: processes (nodes) starting at once on a store with
 * no secret each offer their own; all of them get one and the same, one of
 * those offered, and the store holds one row. */
static void processes_racing_for_a_new_secret_all_get_the_same_one(void **state)
{
    fx *f = *state;
    enum { N = 4 };
    int go[2], res[N][2];
    assert_int_equal(pipe(go), 0);
    pid_t pid[N];
    for (int i = 0; i < N; i++) {
        assert_int_equal(pipe(res[i]), 0);
        pid[i] = fork();
        assert_true(pid[i] >= 0);
        if (pid[i] == 0) {
            close(go[1]);
            racer(f->uri, i, go[0], res[i][1]);
        }
        close(res[i][1]);
    }
    close(go[0]);
    close(go[1]); /* every racer's read returns now */
    uint8_t got[N][KEY_LEN];
    for (int i = 0; i < N; i++) {
        int wst = 0;
        assert_int_equal(waitpid(pid[i], &wst, 0), pid[i]);
        assert_true(WIFEXITED(wst));
        assert_int_equal(WEXITSTATUS(wst), 0);
        assert_int_equal(read(res[i][0], got[i], KEY_LEN), KEY_LEN);
        close(res[i][0]);
    }
    bool offered = false;
    for (int i = 0; i < N; i++) {
        assert_memory_equal(got[i], got[0], KEY_LEN);
        uint8_t cand[KEY_LEN];
        fill(cand, sizeof cand, (uint8_t)(16 * (i + 1)));
        offered = offered || memcmp(cand, got[0], KEY_LEN) == 0;
    }
    assert_true(offered);
    uint8_t mine[KEY_LEN], out[KEY_LEN];
    fill(mine, sizeof mine, 0xa0);
    vigil_err e = {0};
    assert_int_equal(vigil_store_secret_ensure(f->st, "bedside-code-key", mine, KEY_LEN, out, &e),
                     VIGIL_OK);
    assert_memory_equal(out, got[0], KEY_LEN);
    int64_t n = 0;
    assert_int_equal(vigil_store_count_rows(f->st, "secret", NULL, &n, &e), VIGIL_OK);
    assert_int_equal(n, 1);
}

/* SQLite's own: the schema keeps a stored secret as it is (the table is
 * append-only), so a code made with it stays valid. */
static void sqlite_secret_table_refuses_changes(void **state)
{
    fx *f = *state;
    fx_need_sqlite(f, "the secret table's triggers");
    uint8_t a[KEY_LEN], out[KEY_LEN];
    fill(a, sizeof a, 3);
    vigil_err e = {0};
    assert_int_equal(vigil_store_secret_ensure(f->st, "k", a, KEY_LEN, out, &e), VIGIL_OK);
    sqlite3 *db = fx_raw(f);
    assert_int_not_equal(fx_exec(db, "UPDATE secret SET value = x'00' WHERE name = 'k'"),
                         SQLITE_OK);
    assert_int_not_equal(fx_exec(db, "DELETE FROM secret"), SQLITE_OK);
    assert_int_not_equal(fx_exec(db, "INSERT INTO secret (name, value, created_ms) "
                                     "VALUES ('empty', x'', 1)"),
                         SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(vigil_store_secret_ensure(f->st, "k", out, KEY_LEN, out, &e), VIGIL_OK);
    assert_memory_equal(out, a, KEY_LEN);
}

/* clang-format off */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(a_secret_is_stored_once_and_later_candidates_get_the_first, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(secret_names_and_lengths_are_checked, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(processes_racing_for_a_new_secret_all_get_the_same_one, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(sqlite_secret_table_refuses_changes, fx_setup, fx_teardown),
};
/* clang-format on */

VIGIL_TEST_MAIN(tests)
