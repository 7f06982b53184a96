/* test_store_session.c: sign-in sessions in the store (vigil_store_session_*,
 * issue 15): shared by every connection, process and node of one store; only
 * a token's hash kept; idle and absolute expiry; the last use written at most
 * once per VIGIL_STORE_SESSION_TOUCH_MS; a user's further session ends their
 * own least recently used; a full store refuses rather than sign anyone out;
 * disabling a user ends their sessions in the disabling's transaction and a
 * disabled user's session is refused. Runs against any store URI
 * (VIGIL_TEST_STORE_URI). */
#include <sys/wait.h>

#include "store_fixture.h"

#define IDLE_MS (30 * MIN_MS)
#define MAX_MS (12 * HOUR_MS)

static const vigil_store_session_rules RULES = {
    .idle_ms = IDLE_MS, .max_ms = MAX_MS, .per_user = 3, .total = 100};

static void hash_of(uint8_t h[VIGIL_STORE_SESSION_HASH_LEN], unsigned n)
{
    for (size_t i = 0; i < VIGIL_STORE_SESSION_HASH_LEN; i++) {
        h[i] = (uint8_t)(n * 31u + i * 7u + 1u);
    }
}

/* A second connection: another node of the same store. */
static vigil_store *other_node(const fx *f)
{
    vigil_store *st = NULL;
    vigil_err e = {0};
    assert_int_equal(vigil_store_open(f->uri, 0, &st, &e), VIGIL_OK);
    return st;
}

static vigil_status get(vigil_store *st, unsigned n, int64_t t_ms, vigil_store_user *u)
{
    uint8_t h[VIGIL_STORE_SESSION_HASH_LEN];
    hash_of(h, n);
    return vigil_store_session_get(st, h, t_ms, &RULES, u, NULL);
}

static vigil_status add(vigil_store *st, unsigned n, const char *user, int64_t t_ms,
                        const vigil_store_session_rules *r)
{
    uint8_t h[VIGIL_STORE_SESSION_HASH_LEN];
    hash_of(h, n);
    vigil_err e = {0};
    vigil_status s = vigil_store_session_new(st, h, user, t_ms, r, &e);
    if (s != VIGIL_OK && s != VIGIL_ERR_NOMEM && s != VIGIL_ERR_DENIED) {
        fail_msg("session_new: %s: %s", vigil_status_str(s), e.msg);
    }
    return s;
}

static int64_t sessions(const fx *f, const char *where)
{
    int64_t n = -1;
    assert_int_equal(vigil_store_count_rows(f->st, "session", where, &n, NULL), VIGIL_OK);
    return n;
}

/* REQ SESSION-SHARED: a session made on one connection is found, with its
 * user's role and wards as stored, on another; ended there, it is gone on
 * the first. The store holds the hash it was given, nothing else of it. */
static void a_session_made_on_one_node_works_and_ends_on_another(void **state)
{
    fx *f = *state;
    fx_user(f, "nurse.jo", VIGIL_STORE_ROLE_NURSE);
    vigil_store *node2 = other_node(f);
    vigil_store_user u;
    assert_int_equal(add(f->st, 1, "nurse.jo", T0, &RULES), VIGIL_OK);
    assert_int_equal(get(node2, 1, T0 + 1000, &u), VIGIL_OK);
    assert_string_equal(u.username, "nurse.jo");
    assert_int_equal(u.role, VIGIL_STORE_ROLE_NURSE);
    assert_int_equal(u.n_wards, 1);
    assert_string_equal(u.wards[0], "*");
    assert_false(u.disabled);
    assert_int_equal(get(node2, 2, T0 + 1000, &u), VIGIL_ERR_NOT_FOUND); /* another hash */
    assert_int_equal(sessions(f, "length(token_hash) = 32"), 1);
    uint8_t h[VIGIL_STORE_SESSION_HASH_LEN];
    hash_of(h, 1);
    bool ended = false;
    assert_int_equal(vigil_store_session_end(node2, h, &ended, NULL), VIGIL_OK);
    assert_true(ended);
    assert_int_equal(get(f->st, 1, T0 + 2000, &u), VIGIL_ERR_NOT_FOUND);
    assert_int_equal(vigil_store_session_end(f->st, h, &ended, NULL), VIGIL_OK);
    assert_false(ended); /* ending it again is no error */
    assert_int_equal(sessions(f, NULL), 0);
    vigil_store_close(node2);
}

/* Idle and absolute expiry; the last use is written only when the stored one
 * is VIGIL_STORE_SESSION_TOUCH_MS behind, so a session ends between
 * IDLE - TOUCH and IDLE after its last use, never later; a clock set back
 * before the session began ends it. */
static void sessions_end_when_idle_or_old_and_last_use_is_written_once_a_minute(void **state)
{
    fx *f = *state;
    fx_user(f, "nurse.jo", VIGIL_STORE_ROLE_NURSE);
    vigil_store_user u;
    assert_int_equal(add(f->st, 1, "nurse.jo", T0, &RULES), VIGIL_OK);
    assert_int_equal(get(f->st, 1, T0 + 30000, &u), VIGIL_OK);
    assert_int_equal(sessions(f, "last_ms = 1735725600000"), 1); /* 30 s: not written */
    assert_int_equal(get(f->st, 1, T0 + VIGIL_STORE_SESSION_TOUCH_MS, &u), VIGIL_OK);
    assert_int_equal(sessions(f, "last_ms = 1735725660000"), 1); /* a minute: written */
    int64_t last = T0 + VIGIL_STORE_SESSION_TOUCH_MS;
    assert_int_equal(get(f->st, 1, last + IDLE_MS - 1, &u), VIGIL_OK);
    last += IDLE_MS - 1;
    assert_int_equal(get(f->st, 1, last + IDLE_MS, &u), VIGIL_ERR_NOT_FOUND); /* idle */
    /* used every 20 minutes it lives to its absolute limit, not a moment longer */
    assert_int_equal(add(f->st, 2, "nurse.jo", T0, &RULES), VIGIL_OK);
    int64_t t = T0;
    for (; t < T0 + MAX_MS; t += 20 * MIN_MS) {
        assert_int_equal(get(f->st, 2, t, &u), VIGIL_OK);
    }
    assert_int_equal(get(f->st, 2, T0 + MAX_MS - 1, &u), VIGIL_OK);
    assert_int_equal(get(f->st, 2, T0 + MAX_MS, &u), VIGIL_ERR_NOT_FOUND);
    assert_int_equal(add(f->st, 3, "nurse.jo", T0 + HOUR_MS, &RULES), VIGIL_OK);
    assert_int_equal(get(f->st, 3, T0 + HOUR_MS - 1, &u), VIGIL_ERR_NOT_FOUND); /* clock back */
    /* a new sign-in sweeps the sessions no longer live */
    assert_int_equal(add(f->st, 4, "nurse.jo", T0 + MAX_MS + IDLE_MS + 1, &RULES), VIGIL_OK);
    assert_int_equal(sessions(f, NULL), 1);
}

/* Issue 12 finding 7, across nodes: a user's further session ends their own
 * least recently used one, never another user's; a store full of live
 * sessions refuses a new one and signs nobody out; expired ones make room. */
static void
a_further_session_ends_the_users_least_recently_used_and_a_full_store_refuses(void **state)
{
    fx *f = *state;
    fx_user(f, "bob", VIGIL_STORE_ROLE_NURSE);
    fx_user(f, "mallory", VIGIL_STORE_ROLE_NURSE);
    fx_user(f, "carol", VIGIL_STORE_ROLE_NURSE);
    vigil_store *node2 = other_node(f);
    vigil_store_session_rules r = RULES;
    r.total = 5;
    vigil_store_user u;
    assert_int_equal(add(f->st, 1, "bob", T0, &r), VIGIL_OK);
    assert_int_equal(add(node2, 11, "mallory", T0 + 1000, &r), VIGIL_OK);
    assert_int_equal(add(f->st, 12, "mallory", T0 + 2000, &r), VIGIL_OK);
    assert_int_equal(add(node2, 13, "mallory", T0 + 3000, &r), VIGIL_OK);
    assert_int_equal(get(f->st, 11, T0 + 2 * MIN_MS, &u), VIGIL_OK); /* 11 used: 12 is the LRU */
    assert_int_equal(add(f->st, 14, "mallory", T0 + 3 * MIN_MS, &r), VIGIL_OK);
    assert_int_equal(get(node2, 12, T0 + 4 * MIN_MS, &u), VIGIL_ERR_NOT_FOUND);
    assert_int_equal(get(node2, 11, T0 + 4 * MIN_MS, &u), VIGIL_OK);
    assert_int_equal(get(node2, 13, T0 + 4 * MIN_MS, &u), VIGIL_OK);
    assert_int_equal(get(node2, 14, T0 + 4 * MIN_MS, &u), VIGIL_OK);
    assert_int_equal(get(node2, 1, T0 + 4 * MIN_MS, &u), VIGIL_OK); /* bob's untouched */
    for (unsigned i = 0; i < 10; i++) { /* again and again: still only her own */
        assert_int_equal(add(node2, 20 + i, "mallory", T0 + 5 * MIN_MS + i, &r), VIGIL_OK);
    }
    assert_int_equal(get(f->st, 1, T0 + 6 * MIN_MS, &u), VIGIL_OK);
    assert_int_equal(sessions(f, NULL), 4);
    assert_int_equal(add(f->st, 40, "carol", T0 + 7 * MIN_MS, &r), VIGIL_OK); /* the fifth */
    assert_int_equal(add(node2, 41, "bob", T0 + 8 * MIN_MS, &r), VIGIL_ERR_NOMEM);
    assert_int_equal(add(f->st, 42, "carol", T0 + 8 * MIN_MS, &r), VIGIL_ERR_NOMEM);
    assert_int_equal(sessions(f, NULL), 5); /* nobody signed out, nothing written */
    assert_int_equal(get(node2, 41, T0 + 8 * MIN_MS, &u), VIGIL_ERR_NOT_FOUND);
    /* idle ones past their limit make room */
    assert_int_equal(add(node2, 43, "carol", T0 + 7 * MIN_MS + IDLE_MS + 1, &r), VIGIL_OK);
    assert_int_equal(sessions(f, NULL), 1);
    vigil_store_close(node2);
}

/* REQ SESSION-DISABLED-REFUSED: disabling a user ends every session of theirs
 * in the disabling's transaction (counted), on every connection at once;
 * others' stay; a disabled or unknown user gets no session; enabling again
 * revives none. On SQLite, a user disabled behind the store's back (raw SQL,
 * sessions left in place) is refused all the same. */
static void disabling_a_user_ends_every_session_of_theirs_at_once(void **state)
{
    fx *f = *state;
    fx_user(f, "nurse.jo", VIGIL_STORE_ROLE_NURSE);
    fx_user(f, "dr.patel", VIGIL_STORE_ROLE_DOCTOR);
    fx_user(f, "admin", VIGIL_STORE_ROLE_ADMIN);
    vigil_store *node2 = other_node(f);
    vigil_store_user u;
    assert_int_equal(add(f->st, 1, "nurse.jo", T0, &RULES), VIGIL_OK);
    assert_int_equal(add(node2, 2, "nurse.jo", T0, &RULES), VIGIL_OK);
    assert_int_equal(add(f->st, 3, "dr.patel", T0, &RULES), VIGIL_OK);
    vigil_actor admin = {"admin", "user management"};
    size_t ended = 99;
    int64_t audit0 = fx_audit_count(f);
    assert_int_equal(vigil_store_user_disable(f->st, &admin, "nurse.jo", T0 + 1000, &ended, NULL),
                     VIGIL_OK);
    assert_int_equal(ended, 2);
    assert_int_equal(fx_audit_count(f), audit0 + 1); /* user.disable, as before */
    assert_int_equal(get(node2, 1, T0 + 2000, &u), VIGIL_ERR_NOT_FOUND);
    assert_int_equal(get(node2, 2, T0 + 2000, &u), VIGIL_ERR_NOT_FOUND);
    assert_int_equal(get(node2, 3, T0 + 2000, &u), VIGIL_OK);
    assert_int_equal(sessions(f, NULL), 1);
    assert_int_equal(add(node2, 4, "nurse.jo", T0 + 3000, &RULES), VIGIL_ERR_DENIED);
    assert_int_equal(add(node2, 5, "nobody", T0 + 3000, &RULES), VIGIL_ERR_DENIED);
    assert_int_equal(sessions(f, NULL), 1);
    assert_int_equal(vigil_store_user_enable(f->st, &admin, "nurse.jo", NULL), VIGIL_OK);
    assert_int_equal(get(node2, 1, T0 + 4000, &u), VIGIL_ERR_NOT_FOUND);
    if (fx_is_sqlite(f)) {
        sqlite3 *db = fx_raw(f);
        assert_int_equal(
            fx_exec(db, "UPDATE app_user SET disabled_ms = 1 WHERE username = 'dr.patel'"),
            SQLITE_OK);
        sqlite3_close(db);
        assert_int_equal(sessions(f, NULL), 1);
        assert_int_equal(get(node2, 3, T0 + 5000, &u), VIGIL_ERR_NOT_FOUND);
    }
    vigil_store_close(node2);
}

/* Arguments are checked before the backend; a hash already a session's is a
 * conflict, the first session kept. */
static void session_arguments_are_checked(void **state)
{
    fx *f = *state;
    fx_user(f, "nurse.jo", VIGIL_STORE_ROLE_NURSE);
    uint8_t h[VIGIL_STORE_SESSION_HASH_LEN];
    hash_of(h, 1);
    vigil_store_user u;
    vigil_store_session_rules bad = RULES;
    bad.per_user = 0;
    assert_int_equal(vigil_store_session_new(f->st, NULL, "nurse.jo", T0, &RULES, NULL),
                     VIGIL_ERR_ARG);
    assert_int_equal(vigil_store_session_new(f->st, h, NULL, T0, &RULES, NULL), VIGIL_ERR_ARG);
    assert_int_equal(vigil_store_session_new(f->st, h, "nurse.jo", T0, NULL, NULL), VIGIL_ERR_ARG);
    assert_int_equal(vigil_store_session_new(f->st, h, "nurse.jo", T0, &bad, NULL), VIGIL_ERR_ARG);
    assert_int_equal(vigil_store_session_get(f->st, h, T0, &RULES, NULL, NULL), VIGIL_ERR_ARG);
    assert_int_equal(vigil_store_session_get(f->st, NULL, T0, &RULES, &u, NULL), VIGIL_ERR_ARG);
    assert_int_equal(vigil_store_session_end(f->st, NULL, NULL, NULL), VIGIL_ERR_ARG);
    assert_int_equal(sessions(f, NULL), 0);
    assert_int_equal(vigil_store_session_new(f->st, h, "nurse.jo", T0, &RULES, NULL), VIGIL_OK);
    assert_int_equal(vigil_store_session_new(f->st, h, "nurse.jo", T0 + 1, &RULES, NULL),
                     VIGIL_ERR_CONFLICT);
    assert_int_equal(sessions(f, NULL), 1);
    assert_int_equal(get(f->st, 1, T0 + 2, &u), VIGIL_OK);
}

/* One signer-in process: wait for the start, open the store, add n sessions
 * of user (hashes from base). Exits 0 when every call succeeded. */
static void signer(const char *uri, unsigned base, int n, int go_fd)
{
    char c;
    if (read(go_fd, &c, 1) < 0) {
        _exit(4);
    }
    vigil_store *st = NULL;
    vigil_err e = {0};
    if (vigil_store_open(uri, 0, &st, &e) != VIGIL_OK) {
        fprintf(stderr, "signer %u: open: %s\n", base, e.msg);
        _exit(3);
    }
    for (int i = 0; i < n; i++) {
        uint8_t h[VIGIL_STORE_SESSION_HASH_LEN];
        hash_of(h, base + (unsigned)i);
        vigil_status s = vigil_store_session_new(st, h, "nurse.jo", T0 + i, &RULES, &e);
        if (s != VIGIL_OK) {
            fprintf(stderr, "signer %u: %s: %s\n", base, vigil_status_str(s), e.msg);
            _exit(1);
        }
    }
    vigil_store_close(st);
    _exit(0);
}

/* Nodes signing one user in at once: every sign-in succeeds and the user
 * holds exactly the cap, never more (the sign-ins are serialised). */
static void nodes_signing_one_user_in_at_once_keep_the_cap(void **state)
{
    fx *f = *state;
    fx_user(f, "nurse.jo", VIGIL_STORE_ROLE_NURSE);
    enum { N = 4, EACH = 20 };
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pid[N];
    for (int i = 0; i < N; i++) {
        pid[i] = fork();
        assert_true(pid[i] >= 0);
        if (pid[i] == 0) {
            close(go[1]);
            signer(f->uri, 100u * (unsigned)(i + 1), EACH, go[0]);
        }
    }
    close(go[0]);
    close(go[1]);
    for (int i = 0; i < N; i++) {
        int wst = 0;
        assert_int_equal(waitpid(pid[i], &wst, 0), pid[i]);
        assert_true(WIFEXITED(wst));
        assert_int_equal(WEXITSTATUS(wst), 0);
    }
    assert_int_equal(sessions(f, NULL), (int64_t)RULES.per_user);
}

/* clang-format off */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(a_session_made_on_one_node_works_and_ends_on_another, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(sessions_end_when_idle_or_old_and_last_use_is_written_once_a_minute, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(a_further_session_ends_the_users_least_recently_used_and_a_full_store_refuses, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(disabling_a_user_ends_every_session_of_theirs_at_once, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(session_arguments_are_checked, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(nodes_signing_one_user_in_at_once_keep_the_cap, fx_setup, fx_teardown),
};
/* clang-format on */

VIGIL_TEST_MAIN(tests)
