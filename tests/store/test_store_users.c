/* test_store_users.c: users, roles and ward scopes; argon2id password
 * hashes (never the password); sign-in checks and their audit; and the
 * stored names of every enum agreeing with the schema's CHECKs. */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include "store_fixture.h"

#include <sodium.h>
#include <sys/resource.h>

#include "store/store_int.h"

static const vigil_actor ADMIN = {"admin", "user management"};
#define PW "correct horse battery"

static void password_hash_is_argon2id_and_verifies_only_that_password(void **state)
{
    (void)state;
    char h[VIGIL_PASSWORD_HASH_MAX];
    vigil_err e = {0};
    assert_int_equal(vigil_password_hash(PW, h, &e), VIGIL_OK);
    assert_memory_equal(h, "$argon2id$", 10);
    assert_null(strstr(h, "horse"));
    assert_true(vigil_password_verify(h, PW));
    assert_false(vigil_password_verify(h, "correct horse batterY"));
    assert_false(vigil_password_verify(h, ""));
    char h2[VIGIL_PASSWORD_HASH_MAX];
    assert_int_equal(vigil_password_hash(PW, h2, &e), VIGIL_OK);
    assert_string_not_equal(h, h2); /* salted */
    assert_false(vigil_password_verify("$2b$10$notargon", PW));
    assert_int_equal(vigil_password_hash("short", h, &e), VIGIL_ERR_ARG);
    assert_int_equal(vigil_password_hash("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", h, &e),
                     VIGIL_ERR_ARG); /* 5 characters in 10 bytes */
}

/* The check (libargon2, password.c) against libsodium's own, the oracle:
 * hashes libsodium made with several parameter sets, right and wrong
 * passwords, with and without the thread's reserved memory. */
static void password_check_agrees_with_libsodium_for_every_parameter_set(void **state)
{
    (void)state;
    assert_true(sodium_init() >= 0);
    static const struct {
        unsigned long long ops;
        size_t mem;
    } params[] = {
        {1, 8192},                                                              /* the minimum */
        {3, 256u * 1024u},                                                      /* 256 KiB */
        {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE}, /* vigil's */
    };
    for (int reserved = 0; reserved < 2; reserved++) {
        vigil_err e = {0};
        if (reserved) {
            assert_int_equal(vigil_password_scratch_reserve(&e), VIGIL_OK);
        }
        for (size_t k = 0; k < sizeof params / sizeof params[0]; k++) {
            for (int i = 0; i < (k == 2 ? 2 : 12); i++) {
                char pw[48], h[crypto_pwhash_STRBYTES];
                size_t n = 8 + randombytes_uniform(32);
                for (size_t j = 0; j < n; j++) {
                    pw[j] = (char)(' ' + randombytes_uniform(95));
                }
                pw[n] = '\0';
                assert_int_equal(crypto_pwhash_str(h, pw, n, params[k].ops, params[k].mem), 0);
                assert_int_equal(crypto_pwhash_str_verify(h, pw, n), 0);
                assert_true(vigil_password_verify(h, pw));
                pw[randombytes_uniform((uint32_t)n)] ^= 0x01; /* one bit of one character */
                assert_int_equal(crypto_pwhash_str_verify(h, pw, n), -1);
                assert_false(vigil_password_verify(h, pw));
            }
        }
        vigil_password_scratch_release();
    }
}

/* A damaged stored hash is refused, and never asks for more memory than
 * 4x vigil's own parameters. */
static void damaged_or_greedy_hashes_are_refused(void **state)
{
    (void)state;
    char good[crypto_pwhash_STRBYTES];
    assert_int_equal(crypto_pwhash_str(good, PW, strlen(PW), 1, 8192), 0);
    assert_true(vigil_password_verify(good, PW));
    /* good = $argon2id$v=19$m=8,t=1,p=1$<22 salt>$<43 hash> */
    const char *salt = strstr(good, "p=1$") + 4;
    const char *hash = strchr(salt, '$') + 1;
    char buf[256];
    static const char *const heads[] = {
        "$argon2id$v=19$m=4294967295,t=1,p=1$", /* 4 TiB */
        "$argon2id$v=19$m=262145,t=1,p=1$",     /* just over 256 MiB */
        "$argon2id$v=19$m=8,t=0,p=1$",          "$argon2id$v=19$m=8,t=17,p=1$",
        "$argon2id$v=19$m=8,t=1,p=0$",          "$argon2id$v=19$m=64,t=1,p=5$",
        "$argon2id$v=16$m=8,t=1,p=1$",          "$argon2i$v=19$m=8,t=1,p=1$",
        "$argon2id$v=19$m=08,t=1,p=1$",         "$argon2id$v=19$m=8,t=1$",
        "$argon2id$v=19$m=8,p=1,t=1$",          "$argon2id$v=19$m=+8,t=1,p=1$",
    };
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        snprintf(buf, sizeof buf, "%s%s", heads[i], salt);
        assert_false(vigil_password_verify(buf, PW));
    }
    /* the same head is accepted: only the change above refused it */
    snprintf(buf, sizeof buf, "$argon2id$v=19$m=8,t=1,p=1$%s", salt);
    assert_true(vigil_password_verify(buf, PW));
    snprintf(buf, sizeof buf, "%.*s%s", (int)(hash - good), good, "AAAA"); /* 3-byte hash */
    assert_false(vigil_password_verify(buf, PW));
    snprintf(buf, sizeof buf, "%s=", good); /* padding */
    assert_false(vigil_password_verify(buf, PW));
    snprintf(buf, sizeof buf, "%s$", good); /* a field more */
    assert_false(vigil_password_verify(buf, PW));
    snprintf(buf, sizeof buf, "$argon2id$v=19$m=8,t=1,p=1$QUJD$%s", hash); /* 3-byte salt */
    assert_false(vigil_password_verify(buf, PW));
    snprintf(buf, sizeof buf, "$argon2id$v=19$m=8,t=1,p=1$%.22s!$%s", salt, hash); /* not base64 */
    assert_false(vigil_password_verify(buf, PW));
    assert_false(vigil_password_verify(good, NULL));
    assert_false(vigil_password_verify(NULL, PW));
}

static long minor_faults(void)
{
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_THREAD, &ru), 0);
    return ru.ru_minflt;
}

/* Issue 12 soak: a thread that reserved its memory checks a vigil hash
 * (64 MiB) without faulting in fresh pages; libsodium's check, as the
 * server did before, faults in every one of the 16,384 pages each time. */
static void a_thread_with_reserved_memory_checks_without_new_pages(void **state)
{
    (void)state;
    char h[VIGIL_PASSWORD_HASH_MAX];
    vigil_err e = {0};
    assert_int_equal(vigil_password_hash(PW, h, &e), VIGIL_OK);
    long f0 = minor_faults();
    assert_int_equal(crypto_pwhash_str_verify(h, PW, strlen(PW)), 0);
    long sodium_faults = minor_faults() - f0;
    assert_int_equal(vigil_password_scratch_reserve(&e), VIGIL_OK);
    assert_true(vigil_password_verify(h, PW)); /* warm: the code's own pages */
    long f1 = minor_faults();
    for (int i = 0; i < 3; i++) {
        assert_true(vigil_password_verify(h, PW));
        assert_false(vigil_password_verify(h, "correct horse batterY"));
    }
    long reserved_faults = minor_faults() - f1;
    vigil_password_scratch_release();
    print_message("minor page faults: libsodium's check %ld; 6 checks in reserved memory %ld\n",
                  sodium_faults, reserved_faults);
    assert_true(sodium_faults >= 16000); /* what the test guards against, seen */
    assert_true(reserved_faults < 600);
}

/* True when needle occurs in the file at path. */
static bool file_contains(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        return false;
    }
    size_t n = strlen(needle), cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    bool found = false;
    size_t got;
    while ((got = fread(buf + len, 1, cap - len, fp)) > 0) {
        len += got;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    for (size_t i = 0; i + n <= len && !found; i++) {
        found = memcmp(buf + i, needle, n) == 0;
    }
    free(buf);
    fclose(fp);
    return found;
}

static void stored_user_has_a_hash_and_never_the_password(void **state)
{
    fx *f = *state;
    const char *wards[] = {"7A", "7B", "7A"};
    int64_t id = 0;
    vigil_err e = {0};
    const char *secret = "Tr0ub4dor&3-unique-secret";
    assert_int_equal(vigil_store_user_add(f->st, &ADMIN, "sister.k", "Sister Kaur",
                                          VIGIL_STORE_ROLE_NURSE, secret, wards, 3, &id, &e),
                     VIGIL_OK);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM app_user WHERE password_hash LIKE "
                                 "'$argon2id$%' AND role = 'nurse'"),
                     1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM user_ward"), 2);
    vigil_store_close(f->st); /* checkpoint: the WAL goes into the main file */
    f->st = NULL;
    char wal[400];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    if (fx_is_pg(f)) {
        /* no file to scan: every text column of the tables written holds no secret */
        assert_int_equal(fx_count_other(f, "SELECT count(*) FROM app_user WHERE "
                                           "strpos(app_user::text, 'Tr0ub4dor') > 0"),
                         0);
        assert_int_equal(fx_count_other(f, "SELECT count(*) FROM audit WHERE "
                                           "strpos(audit::text, 'Tr0ub4dor') > 0"),
                         0);
        assert_int_equal(fx_count_other(f, "SELECT count(*) FROM app_user WHERE "
                                           "strpos(app_user::text, 'Sister Kaur') > 0"),
                         1); /* the scan does find stored text */
    } else {
        assert_false(file_contains(f->path, secret));
        assert_false(file_contains(wal, secret));
        assert_true(file_contains(f->path, "Sister Kaur")); /* the scan does find stored text */
    }
    fx_reopen(f);
    vigil_store_user u;
    assert_int_equal(vigil_store_user_get(f->st, "sister.k", &u, &e), VIGIL_OK);
    assert_int_equal(u.role, VIGIL_STORE_ROLE_NURSE);
    assert_int_equal(u.n_wards, 2);
    assert_string_equal(u.wards[0], "7A");
    assert_string_equal(u.wards[1], "7B");
    assert_false(u.disabled);
    assert_int_equal(vigil_store_user_add(f->st, &ADMIN, "sister.k", "Other",
                                          VIGIL_STORE_ROLE_DOCTOR, secret, wards, 1, &id, &e),
                     VIGIL_ERR_CONFLICT);
    assert_int_equal(vigil_store_user_add(f->st, &ADMIN, "bad name", "Other",
                                          VIGIL_STORE_ROLE_DOCTOR, secret, wards, 1, &id, &e),
                     VIGIL_ERR_ARG);
}

static void sign_in_checks_the_password_and_is_audited(void **state)
{
    fx *f = *state;
    fx_user(f, "dr.patel", VIGIL_STORE_ROLE_DOCTOR);
    vigil_store_user u;
    vigil_err e = {0};
    assert_int_equal(vigil_store_user_login(f->st, "dr.patel", PW, &u, &e), VIGIL_OK);
    assert_int_equal(u.role, VIGIL_STORE_ROLE_DOCTOR);
    assert_string_equal(u.wards[0], "*");
    assert_int_equal(vigil_store_user_login(f->st, "dr.patel", "wrong password!", &u, &e),
                     VIGIL_ERR_DENIED);
    assert_int_equal(vigil_store_user_login(f->st, "nobody", PW, &u, &e), VIGIL_ERR_DENIED);
    /* the same words for both failures: no hint which usernames exist */
    assert_string_equal(e.msg, "username or password not recognised");
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'auth.login'"), 1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'auth.fail' AND "
                                 "detail = 'wrong password'"),
                     1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'auth.fail' AND "
                                 "detail = 'unknown user'"),
                     1);
}

static void disabled_user_cannot_sign_in_and_new_password_replaces_old(void **state)
{
    fx *f = *state;
    fx_user(f, "nurse.jo", VIGIL_STORE_ROLE_NURSE);
    vigil_err e = {0};
    assert_int_equal(
        vigil_store_user_set_password(f->st, &ADMIN, "nurse.jo", "a brand new passphrase", &e),
        VIGIL_OK);
    assert_int_equal(vigil_store_user_login(f->st, "nurse.jo", PW, NULL, &e), VIGIL_ERR_DENIED);
    assert_int_equal(vigil_store_user_login(f->st, "nurse.jo", "a brand new passphrase", NULL, &e),
                     VIGIL_OK);
    assert_int_equal(vigil_store_user_disable(f->st, &ADMIN, "nurse.jo", T0, NULL, &e), VIGIL_OK);
    assert_int_equal(vigil_store_user_login(f->st, "nurse.jo", "a brand new passphrase", NULL, &e),
                     VIGIL_ERR_DENIED);
    assert_int_equal(vigil_store_user_disable(f->st, &ADMIN, "nurse.jo", T0, NULL, &e),
                     VIGIL_ERR_NOT_FOUND);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'auth.fail' AND "
                                 "detail = 'user disabled'"),
                     1);
    /* a disabled user can no longer acknowledge */
    char nhs[11];
    fx_nhs(4001, nhs);
    int64_t pid = fx_patient(f, nhs, NULL, NULL), ep = 0, al = 0, ack = 0;
    assert_int_equal(vigil_store_episode_open(f->st, &FX_FEED, pid, VIGIL_RESP_URGENT,
                                              VIGIL_STORE_TRIGGER_NEWS2, 0, 0, T0, &ep, &al, NULL),
                     VIGIL_OK);
    assert_int_equal(
        vigil_store_alert_ack(f->st, &FX_NURSE, al, T0, VIGIL_STORE_ACK_ATTENDING, NULL, &ack, &e),
        VIGIL_ERR_DENIED);
}

/* Every name store.c writes for an enum is one the schema accepts. */
static void stored_enum_names_are_the_ones_the_schema_accepts(void **state)
{
    fx *f = *state;
    fx_need_sqlite(f, "the SQLite schema's CHECKs, by raw INSERT");
    sqlite3 *db = fx_raw(f);
    char nhs[11];
    fx_nhs(4002, nhs);
    int64_t pid = fx_patient(f, nhs, NULL, NULL);
    char sql[512];
    assert_int_equal(fx_exec(db, "INSERT INTO app_user (id, username, display_name, role, "
                                 "password_hash, created_ms) VALUES (100, 'u0', 'u', 'nurse', "
                                 "'$argon2id$x', 1)"),
                     SQLITE_OK);
    for (int r = 0; r < VIGIL_STORE_ROLE_COUNT; r++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO app_user (username, display_name, role, password_hash, "
                 "created_ms) VALUES ('r%d', 'u', '%s', '$argon2id$x', 1)",
                 r, vigil_store_role_name((vigil_store_role)r));
        assert_int_equal(fx_exec(db, sql), SQLITE_OK);
    }
    for (int lv = VIGIL_RESP_NURSE_ASSESS; lv < VIGIL_RESP_COUNT; lv++) {
        for (int t = 0; t < VIGIL_STORE_TRIGGER_COUNT; t++) {
            snprintf(sql, sizeof sql,
                     "INSERT INTO episode (patient_id, level, trigger, opened_ms, opened_by) "
                     "VALUES (%lld, '%s', '%s', 1, 'x')",
                     (long long)pid, vigil_store_level_name((vigil_news2_response)lv),
                     vigil_store_trigger_name((vigil_store_trigger)t));
            assert_int_equal(fx_exec(db, sql), SQLITE_OK);
        }
    }
    assert_int_equal(fx_exec(db, "INSERT INTO alert (id, episode_id, level, raised_ms) "
                                 "SELECT 1, min(id), 'ward', 1 FROM episode"),
                     SQLITE_OK);
    for (int a = 0; a < VIGIL_STORE_ACK_COUNT; a++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO ack (alert_id, username, t_ms, action, reason) "
                 "VALUES (1, 'u0', 1, '%s', 'r')",
                 vigil_store_ack_action_name((vigil_store_ack_action)a));
        assert_int_equal(fx_exec(db, sql), SQLITE_OK);
    }
    for (int c = 0; c < VIGIL_STORE_CALLER_COUNT; c++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO marthas_call (id, patient_id, caller, channel, t_ms, concern, "
                 "recorded_by, recorded_ms) VALUES (%d, %lld, '%s', 'phone', 1, 'c', 'x', 1)",
                 c + 1, (long long)pid, vigil_store_caller_name((vigil_store_caller)c));
        assert_int_equal(fx_exec(db, sql), SQLITE_OK);
    }
    for (int k = 0; k < VIGIL_STORE_MR_CATEGORY_COUNT * VIGIL_STORE_MR_OUTCOME_COUNT &&
                    k < VIGIL_STORE_CALLER_COUNT;
         k++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO marthas_review (call_id, responder, t_ms, category, outcome, "
                 "recorded_by, recorded_ms) VALUES (%d, 'r', 1, '%s', '%s', 'x', 1)",
                 k + 1,
                 vigil_store_marthas_category_name(
                     (vigil_store_marthas_category)(k % VIGIL_STORE_MR_CATEGORY_COUNT)),
                 vigil_store_marthas_outcome_name(
                     (vigil_store_marthas_outcome)(k % VIGIL_STORE_MR_OUTCOME_COUNT)));
        assert_int_equal(fx_exec(db, sql), SQLITE_OK);
    }
    for (int d = 0; d < VIGIL_STORE_FEEL_COUNT; d++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO daily_answer (patient_id, t_ms, answer, asked_by) "
                 "VALUES (%lld, 1, '%s', 'x')",
                 (long long)pid, vigil_store_feeling_name((vigil_store_feeling)d));
        assert_int_equal(fx_exec(db, sql), SQLITE_OK);
    }
    for (int s = 0; s < VIGIL_SRC_COUNT; s++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO obs_set (patient_id, t_ms, spo2_scale, source, received_ms) "
                 "VALUES (%lld, 1, 1, '%s', 1)",
                 (long long)pid, vigil__store_source_names[s]);
        assert_int_equal(fx_exec(db, sql), SQLITE_OK);
    }
    /* and a name outside the tables is refused */
    assert_int_equal(fx_exec(db, "INSERT INTO daily_answer (patient_id, t_ms, answer, asked_by) "
                                 "VALUES (1, 1, 'meh', 'x')"),
                     SQLITE_CONSTRAINT);
    sqlite3_close(db);
}

/* clang-format off */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test(password_hash_is_argon2id_and_verifies_only_that_password),
    cmocka_unit_test(password_check_agrees_with_libsodium_for_every_parameter_set),
    cmocka_unit_test(damaged_or_greedy_hashes_are_refused),
    cmocka_unit_test(a_thread_with_reserved_memory_checks_without_new_pages),
    cmocka_unit_test_setup_teardown(stored_user_has_a_hash_and_never_the_password, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(sign_in_checks_the_password_and_is_audited, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(disabled_user_cannot_sign_in_and_new_password_replaces_old, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(stored_enum_names_are_the_ones_the_schema_accepts, fx_setup, fx_teardown),
};
/* clang-format on */

VIGIL_TEST_MAIN(tests)
