/*
 * test_server_units.c: the server's small parts on their own: times, per-set
 * source ids, the maps, sessions (expiry, sign-out), the sign-in throttle,
 * ward scope and route matching; the ward list's JSON written directly is
 * byte for byte the jansson views.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

#include "server/server_int.h"
#include "vigil/store_test.h"
#include "vigil_test.h"

static void time_parse_reads_zones_and_refuses_local_times(void **s)
{
    (void)s;
    int64_t t = 0;
    assert_int_equal(vigil__srv_time_parse("2025-01-14T08:30:00Z", &t), VIGIL_OK);
    assert_int_equal(t, INT64_C(1736843400000));
    assert_int_equal(vigil__srv_time_parse("2025-07-04T14:15:00.250+01:00", &t), VIGIL_OK);
    assert_int_equal(t, INT64_C(1751634900250));
    assert_int_equal(vigil__srv_time_parse("2025-01-14T08:30Z", &t), VIGIL_OK);
    assert_int_equal(t, INT64_C(1736843400000));
    assert_int_not_equal(vigil__srv_time_parse("2025-01-14T08:30:00", &t), VIGIL_OK);
    assert_int_not_equal(vigil__srv_time_parse("2023-02-29T08:30:00Z", &t), VIGIL_OK);
    assert_int_not_equal(vigil__srv_time_parse("2025-01-14 08:30:00Z", &t), VIGIL_OK);
    assert_int_not_equal(vigil__srv_time_parse("2025-01-14T24:00:00Z", &t), VIGIL_OK);
    assert_int_not_equal(vigil__srv_time_parse("2025-01-14T08:30:00Zjunk", &t), VIGIL_OK);
    char b[32];
    vigil__srv_time_format(INT64_C(1751634900250), b);
    assert_string_equal(b, "2025-07-04T13:15:00.250Z");
}

/* What vigil__srv_time_format wrote before its fast path: gmtime_r and
 * snprintf. */
static void time_reference(int64_t t_ms, char out[32])
{
    int64_t s = t_ms >= 0 ? t_ms / 1000 : -((-t_ms + 999) / 1000);
    int ms = (int)(t_ms - s * 1000);
    time_t tt = (time_t)s;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL) {
        snprintf(out, 32, "invalid");
        return;
    }
    char b[96];
    snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    snprintf(out, 32, "%.31s", b);
}

static void time_format_matches_gmtime_over_the_whole_fast_range(void **s)
{
    (void)s;
    const int64_t edges[] = {0,
                             999,
                             1000,
                             86399999,
                             86400000,
                             INT64_C(951782400000) /* 2000-02-29 */,
                             INT64_C(951868799999),
                             INT64_C(4107542400000) /* 2100-03-01 */,
                             INT64_C(4107455999999),
                             INT64_C(253402300799999) /* 9999-12-31 end */,
                             INT64_C(253402300800000) /* 10000: the slow path */,
                             -1,
                             -1000,
                             -1001,
                             INT64_C(-62135596800000),
                             INT64_C(1751634900250)};
    char got[32], want[32];
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        vigil__srv_time_format(edges[i], got);
        time_reference(edges[i], want);
        assert_string_equal(got, want);
    }
    /* every day's first and last millisecond from 1970 to 2200, then random
     * instants up to 9999 */
    for (int64_t day = 0; day < 230 * 366; day++) {
        for (int k = 0; k < 2; k++) {
            int64_t t = day * 86400000 + (k == 0 ? 0 : 86399999);
            vigil__srv_time_format(t, got);
            time_reference(t, want);
            assert_string_equal(got, want);
        }
    }
    uint64_t x = UINT64_C(0x9E3779B97F4A7C15);
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t t = (int64_t)(x % UINT64_C(253402300800000));
        vigil__srv_time_format(t, got);
        time_reference(t, want);
        assert_string_equal(got, want);
    }
}

static void source_ids_are_unique_per_set_and_fit(void **s)
{
    (void)s;
    char a[VIGIL_ID_MAX], b[VIGIL_ID_MAX];
    vigil__srv_event_source_id("MSG1", 0, 1, a);
    assert_string_equal(a, "MSG1");
    vigil__srv_event_source_id("MSG1", 0, 2, a);
    vigil__srv_event_source_id("MSG1", 1, 2, b);
    assert_string_equal(a, "MSG1#1");
    assert_string_equal(b, "MSG1#2");
    char longid[VIGIL_ID_MAX];
    memset(longid, 'X', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    vigil__srv_event_source_id(longid, 14, 16, a);
    vigil__srv_event_source_id(longid, 15, 16, b);
    assert_true(strlen(a) < VIGIL_ID_MAX && strlen(b) < VIGIL_ID_MAX);
    assert_string_not_equal(a, b);
    char c[VIGIL_ID_MAX];
    vigil__srv_event_source_id(longid, 0, 2, a);
    vigil__srv_event_source_id(longid, 0, 2, c);
    assert_string_equal(a, c);       /* deterministic: a resend gets the same ids */
    longid[sizeof longid - 2] = 'Z'; /* differs only where the id is cut: the hash tells */
    vigil__srv_event_source_id(longid, 0, 2, c);
    assert_string_not_equal(a, c);
}

static void maps_hold_many_keys(void **s)
{
    (void)s;
    srv_idmap im;
    srv_strmap sm;
    memset(&im, 0, sizeof im);
    memset(&sm, 0, sizeof sm);
    static int vals[5000];
    for (int i = 0; i < 5000; i++) {
        char k[32];
        snprintf(k, sizeof k, "key-%d", i);
        assert_int_equal(vigil__srv_idmap_put(&im, i + 1, &vals[i]), VIGIL_OK);
        assert_int_equal(vigil__srv_strmap_put(&sm, k, i + 1), VIGIL_OK);
    }
    for (int i = 0; i < 5000; i++) {
        char k[32];
        snprintf(k, sizeof k, "key-%d", i);
        assert_ptr_equal(vigil__srv_idmap_get(&im, i + 1), &vals[i]);
        assert_int_equal(vigil__srv_strmap_get(&sm, k), i + 1);
    }
    assert_null(vigil__srv_idmap_get(&im, 5001));
    assert_int_equal(vigil__srv_strmap_get(&sm, "key-5000"), 0);
    assert_int_equal(vigil__srv_strmap_get(&sm, ""), 0);
    assert_int_equal(vigil__srv_idmap_put(&im, 0, NULL), VIGIL_ERR_ARG);
    vigil__srv_strmap_put(&sm, "key-7", 99);
    assert_int_equal(vigil__srv_strmap_get(&sm, "key-7"), 99);
    vigil__srv_idmap_fini(&im);
    vigil__srv_strmap_fini(&sm);
}

static srv_user user_on(const char *ward)
{
    srv_user u;
    memset(&u, 0, sizeof u);
    snprintf(u.username, sizeof u.username, "nurse.jo");
    u.role = VIGIL_STORE_ROLE_NURSE;
    u.n_wards = 1;
    snprintf(u.wards[0], sizeof u.wards[0], "%s", ward);
    return u;
}

/* A store of its own in a fresh folder with the users named (nurses on
 * WARD7B): sessions live in the store (issue 15). */
static vigil_store *session_store(char dir[256], const char *const *users, size_t n)
{
    assert_non_null(vigil_test_mkdtemp(dir, 256, "vigil-sess"));
    char path[400];
    snprintf(path, sizeof path, "%s/ward.db", dir);
    vigil_store *st = NULL;
    assert_int_equal(vigil_store_open(path, 0, &st, NULL), VIGIL_OK);
    vigil_actor admin = {"admin", "test"};
    const char *wards[] = {"WARD7B"};
    for (size_t i = 0; i < n; i++) {
        int64_t id = 0;
        assert_int_equal(vigil_store_user_add(st, &admin, users[i], users[i],
                                              VIGIL_STORE_ROLE_NURSE, "correct-horse-1", wards, 1,
                                              &id, NULL),
                         VIGIL_OK);
    }
    return st;
}

static void session_store_close(vigil_store *st, const char *dir)
{
    vigil_store_close(st);
    char path[400];
    const char *sfx[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/ward.db%s", dir, sfx[i]);
        remove(path);
    }
    rmdir(dir);
}

static void sessions_expire_when_idle_or_old_and_end_on_sign_out(void **s)
{
    (void)s;
    srv_auth *a = malloc(sizeof *a);
    assert_non_null(a);
    vigil__srv_auth_init(a, 1000, 5000);
    char dir[256];
    const char *users[] = {"nurse.jo"};
    vigil_store *st = session_store(dir, users, 1);
    const int64_t T = 1700000000000;
    srv_user got;
    char tok[SRV_TOKEN_LEN + 1], tok2[SRV_TOKEN_LEN + 1];
    assert_int_equal(vigil__srv_session_new(a, st, "nurse.jo", T, tok), VIGIL_OK);
    assert_int_equal(strlen(tok), SRV_TOKEN_LEN);
    assert_int_equal(vigil__srv_session_get(a, st, tok, T + 900, &got), VIGIL_OK);
    assert_string_equal(got.username, "nurse.jo");
    assert_string_equal(got.wards[0], "WARD7B");
    /* idle clock refreshed at 900 */
    assert_int_equal(vigil__srv_session_get(a, st, tok, T + 1800, &got), VIGIL_OK);
    /* idle > 1000 ms */
    assert_int_equal(vigil__srv_session_get(a, st, tok, T + 2900, &got), VIGIL_ERR_NOT_FOUND);
    assert_int_equal(vigil__srv_session_new(a, st, "nurse.jo", T + 10000, tok), VIGIL_OK);
    for (int64_t t = T + 10500; t < T + 15000; t += 500) {
        assert_int_equal(vigil__srv_session_get(a, st, tok, t, &got), VIGIL_OK);
    }
    /* absolute limit */
    assert_int_equal(vigil__srv_session_get(a, st, tok, T + 15000, &got), VIGIL_ERR_NOT_FOUND);
    assert_int_equal(vigil__srv_session_new(a, st, "nurse.jo", T + 20000, tok), VIGIL_OK);
    assert_int_equal(vigil__srv_session_new(a, st, "nurse.jo", T + 20000, tok2), VIGIL_OK);
    assert_string_not_equal(tok, tok2);
    assert_int_equal(vigil__srv_session_end(st, tok), VIGIL_OK);
    assert_int_equal(vigil__srv_session_get(a, st, tok, T + 20001, &got), VIGIL_ERR_NOT_FOUND);
    assert_int_equal(vigil__srv_session_get(a, st, tok2, T + 20001, &got), VIGIL_OK);
    assert_int_equal(vigil__srv_session_get(a, st, "short", T + 20001, &got), VIGIL_ERR_NOT_FOUND);
    char wrong[SRV_TOKEN_LEN + 1];
    memcpy(wrong, tok2, sizeof wrong);
    wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
    assert_int_equal(vigil__srv_session_get(a, st, wrong, T + 20001, &got), VIGIL_ERR_NOT_FOUND);
    session_store_close(st, dir);
    vigil__srv_auth_fini(a);
    free(a);
}

static void five_failed_sign_ins_lock_for_fifteen_minutes(void **s)
{
    (void)s;
    srv_auth *a = malloc(sizeof *a);
    assert_non_null(a);
    vigil__srv_auth_init(a, 1000, 5000);
    const char *k = "nurse.jo|127.0.0.1";
    for (int i = 0; i < 4; i++) {
        vigil__srv_throttle_record(a, k, false, 1000 + i);
        assert_true(vigil__srv_throttle_allowed(a, k, 1000 + i));
    }
    vigil__srv_throttle_record(a, k, true, 2000); /* success clears */
    for (int i = 0; i < 5; i++) {
        vigil__srv_throttle_record(a, k, false, 3000 + i);
    }
    assert_false(vigil__srv_throttle_allowed(a, k, 3005));
    assert_true(vigil__srv_throttle_allowed(a, "dr.patel|127.0.0.1", 3005));
    assert_false(vigil__srv_throttle_allowed(a, k, 3004 + 15 * 60 * 1000 - 1));
    assert_true(vigil__srv_throttle_allowed(a, k, 3004 + 15 * 60 * 1000));
    vigil__srv_auth_fini(a);
    free(a);
}

/* Issue 12 finding 6: junk sign-ins from elsewhere can neither unlock a locked
 * user|address nor reset the failures it is counting. */
static void locked_sign_in_stays_locked_whatever_junk_fills_the_throttle(void **s)
{
    (void)s;
    srv_auth *a = malloc(sizeof *a);
    assert_non_null(a);
    vigil__srv_auth_init(a, 1000, 5000);
    const char *k = "nurse.jo|10.0.0.5", *k4 = "dr.patel|10.0.0.6";
    for (int i = 0; i < 5; i++) {
        vigil__srv_throttle_record(a, k, false, 1000 + i);
    }
    for (int i = 0; i < 4; i++) {
        vigil__srv_throttle_record(a, k4, false, 1000 + i);
    }
    assert_false(vigil__srv_throttle_allowed(a, k, 1010));
    char junk[64];
    for (int i = 0; i < 2 * SRV_THROTTLE_SLOTS; i++) {
        snprintf(junk, sizeof junk, "junk%d|10.9.9.9", i);
        vigil__srv_throttle_record(a, junk, false, 2000 + i);
    }
    assert_false(vigil__srv_throttle_allowed(a, k, 20000));  /* still locked */
    vigil__srv_throttle_record(a, k4, false, 20000);         /* its fifth failure */
    assert_false(vigil__srv_throttle_allowed(a, k4, 20001)); /* counted: locked */
    /* the table is full of keys still counting: a new one fails closed */
    assert_false(vigil__srv_throttle_allowed(a, "someone|10.1.1.1", 20001));
    /* once their windows are over, the slots are free again */
    int64_t later = 20001 + 16LL * 60 * 1000 + 2 * SRV_THROTTLE_SLOTS;
    assert_true(vigil__srv_throttle_allowed(a, "someone|10.1.1.1", later));
    vigil__srv_auth_fini(a);
    free(a);
}

/* Issue 12 finding 7: one user signing in again and again ends only their own
 * oldest sessions, never another user's; the store's total cap refuses a new
 * one rather than end someone else's. */
static void one_user_signing_in_again_and_again_signs_no_one_else_out(void **s)
{
    (void)s;
    srv_auth *a = malloc(sizeof *a);
    assert_non_null(a);
    vigil__srv_auth_init(a, 60 * 60 * 1000, 12 * 60 * 60 * 1000);
    char dir[256];
    const char *users[] = {"bob", "mallory"};
    vigil_store *st = session_store(dir, users, 2);
    const int64_t T = 1700000000000;
    char tb[SRV_TOKEN_LEN + 1], tm[SRV_TOKEN_LEN + 1], first_m[SRV_TOKEN_LEN + 1];
    assert_int_equal(vigil__srv_session_new(a, st, "bob", T + 1000, tb), VIGIL_OK);
    for (int i = 0; i < 4 * SRV_SESSIONS_PER_USER; i++) {
        assert_int_equal(vigil__srv_session_new(a, st, "mallory", T + 2000 + i, tm), VIGIL_OK);
        if (i == 0) {
            memcpy(first_m, tm, sizeof tm);
        }
    }
    srv_user got;
    assert_int_equal(vigil__srv_session_get(a, st, tb, T + 10000, &got), VIGIL_OK);
    assert_string_equal(got.username, "bob");
    assert_int_equal(vigil__srv_session_get(a, st, tm, T + 10000, &got), VIGIL_OK); /* her newest */
    assert_int_equal(vigil__srv_session_get(a, st, first_m, T + 10000, &got),
                     VIGIL_ERR_NOT_FOUND); /* her oldest ended */
    int64_t n = 0;
    assert_int_equal(vigil_store_count_rows(st, "session", NULL, &n, NULL), VIGIL_OK);
    assert_int_equal(n, 1 + SRV_SESSIONS_PER_USER);
    /* a full store refuses the next sign-in and ends nobody's session */
    a->rules.total = 1 + SRV_SESSIONS_PER_USER;
    assert_int_equal(vigil__srv_session_new(a, st, "bob", T + 20000, tb), VIGIL_ERR_NOMEM);
    assert_int_equal(vigil_store_count_rows(st, "session", NULL, &n, NULL), VIGIL_OK);
    assert_int_equal(n, 1 + SRV_SESSIONS_PER_USER);
    session_store_close(st, dir);
    vigil__srv_auth_fini(a);
    free(a);
}

static void ward_scope_needs_the_ward_or_every_ward(void **s)
{
    (void)s;
    srv_user u = user_on("WARD7B");
    assert_true(vigil__srv_scope_ok(&u, "WARD7B"));
    assert_false(vigil__srv_scope_ok(&u, "WARD12"));
    assert_false(vigil__srv_scope_ok(&u, ""));
    assert_false(vigil__srv_scope_ok(&u, NULL));
    srv_user all = user_on("*");
    assert_true(vigil__srv_scope_ok(&all, "WARD12"));
    assert_true(vigil__srv_scope_ok(&all, "")); /* patients not admitted: every-ward users only */
}

static void routes_match_with_parameters_and_tell_a_wrong_method(void **s)
{
    (void)s;
    srv_req r;
    memset(&r, 0, sizeof r);
    bool method_ok = false;
    const srv_route *rt =
        vigil__srv_route_match("GET", "/api/patients/42/observations", &r, &method_ok);
    assert_non_null(rt);
    assert_int_equal(r.n_params, 1);
    assert_string_equal(r.params[0], "42");
    assert_int_equal(rt->roles & (1u << VIGIL_STORE_ROLE_ADMIN), 0);
    free(r.params[0]);
    memset(&r, 0, sizeof r);
    assert_null(vigil__srv_route_match("PUT", "/api/patients/42/observations", &r, &method_ok));
    assert_true(method_ok);
    assert_null(vigil__srv_route_match("GET", "/api/patients//observations", &r, &method_ok));
    assert_false(method_ok);
    rt = vigil__srv_route_match("POST", "/api/patients/7/scale2", &r, &method_ok);
    assert_non_null(rt);
    assert_int_equal(rt->roles, 1u << VIGIL_STORE_ROLE_DOCTOR); /* REQ nurse cannot: doctor only */
    free(r.params[0]);
    memset(&r, 0, sizeof r);
    rt = vigil__srv_route_match("GET", "/health", &r, &method_ok);
    assert_non_null(rt);
    assert_int_equal(rt->roles, 0);
    rt = vigil__srv_route_match("GET", "/api/wards/WARD7B/patients/", &r, &method_ok);
    assert_non_null(rt);
    assert_string_equal(r.params[0], "WARD7B");
    free(r.params[0]);
}

/* issue 12 finding 11: headers fed one at a time, as http.c does. */
static const char *framing_of(const char *const *kv)
{
    srv_framing f = {0};
    for (size_t i = 0; kv[i] != NULL; i += 2) {
        vigil__srv_framing_add(&f, kv[i], kv[i + 1]);
    }
    return vigil__srv_framing_fault(&f);
}

static void ambiguous_body_lengths_are_framing_faults(void **s)
{
    (void)s;
    const char *ok1[] = {"Host", "x", "Content-Length", "12", NULL};
    const char *ok2[] = {"Transfer-Encoding", "chunked", NULL};
    const char *ok3[] = {"transfer-encoding", "Chunked", "X-Vigil-Reason", "a b", NULL};
    const char *none[] = {"Host", "x", NULL};
    assert_null(framing_of(ok1));
    assert_null(framing_of(ok2));
    assert_null(framing_of(ok3));
    assert_null(framing_of(none));
    const char *two_cl[] = {"Content-Length", "2", "content-length", "2", NULL};
    const char *cl_te[] = {"Content-Length", "2", "Transfer-Encoding", "chunked", NULL};
    const char *te_cl[] = {"Transfer-Encoding", "chunked", "Content-Length", "2", NULL};
    const char *space[] = {"Content-Length ", "2", NULL};
    const char *tab[] = {"Content-Length\t", "2", NULL};
    const char *empty[] = {"", "2", NULL};
    const char *gzip[] = {"Transfer-Encoding", "gzip", NULL};
    const char *list[] = {"Transfer-Encoding", "chunked, chunked", NULL};
    const char *two_te[] = {"Transfer-Encoding", "chunked", "Transfer-Encoding", "chunked", NULL};
    const char *plus[] = {"Content-Length", "+2", NULL};
    const char *huge[] = {"Content-Length", "1234567890123456789", NULL};
    const char *const *bad[] = {two_cl, cl_te, te_cl, space, tab, empty,
                                gzip,   list,  two_te, plus, huge};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_non_null(framing_of(bad[i]));
    }
    srv_framing f = {0};
    vigil__srv_framing_add(&f, "Transfer-Encoding", NULL);
    assert_non_null(vigil__srv_framing_fault(&f));
}

/* ---- the ward list's JSON ----------------------------------------------------- */

static uint64_t rng_next(uint64_t *r)
{
    *r ^= *r << 13; /* xorshift64: the same patients every run */
    *r ^= *r >> 7;
    *r ^= *r << 17;
    return *r;
}

static int rnd(uint64_t *r, int n)
{
    return (int)(rng_next(r) % (uint64_t)n);
}

static void random_news2(uint64_t *r, vigil_news2 *n)
{
    vigil_obs o;
    vigil_obs_init(&o);
    o.rr_bpm = 6 + rnd(r, 30);
    o.spo2_pct = rnd(r, 4) == 0 ? NAN : 84 + rnd(r, 16);
    o.o2 = rnd(r, 2) == 0 ? VIGIL_O2_AIR : VIGIL_O2_OXYGEN;
    o.sbp_mmhg = rnd(r, 5) == 0 ? NAN : 80 + rnd(r, 150);
    o.hr_bpm = 35 + rnd(r, 120);
    o.acvpu = rnd(r, 3) == 0 ? VIGIL_ACVPU_UNKNOWN : VIGIL_ACVPU_A;
    o.temp_c = rnd(r, 4) == 0 ? NAN : 34.5 + rnd(r, 60) / 10.0;
    o.spo2_scale = 1 + rnd(r, 2);
    assert_int_equal(vigil_news2_score(&o, n, NULL), VIGIL_OK);
}

static const char *const odd_text[] = {
    "Ann Able", "O'Brien \"Jo\"", "back\\slash", "tab\there", "line\nbreak",
    "bell\a\x01\x1f", "Zoë Ångström 山田", "</script><script>alert(1)</script>", "",
};

static void random_patient(uint64_t *r, srv_patient *p, vigil_store_ward_entry *e, int64_t now)
{
    memset(p, 0, sizeof *p);
    memset(e, 0, sizeof *e);
    /* now and then an id no store gives, so every digit path of the writer
     * is compared: negative, the most negative */
    int sign = rnd(r, 40);
    p->id = sign == 0 ? INT64_MIN : sign == 1 ? -(1 + rnd(r, 100000)) : 1 + rnd(r, 100000);
    snprintf(p->nhs, sizeof p->nhs, "%010d", rnd(r, 1000000000));
    snprintf(p->mrn, sizeof p->mrn, "%s", odd_text[rnd(r, 9)]);
    snprintf(p->ward, sizeof p->ward, "W%02d", rnd(r, 3));
    snprintf(p->bed, sizeof p->bed, "%s", odd_text[rnd(r, 9)]);
    snprintf(e->patient.name, sizeof e->patient.name, "%s", odd_text[rnd(r, 9)]);
    e->last_obs_ms = rnd(r, 4) == 0 ? 0 : now - rnd(r, 86400) * 1000LL;
    e->state.n_unreviewed_marthas = rnd(r, 3);
    p->has_news2 = rnd(r, 5) != 0;
    random_news2(r, &p->news2);
    p->news2_t_ms = now - rnd(r, 86400) * 1000LL;
    p->news2_carried = (unsigned)rnd(r, 128);
    p->has_cnews2 = rnd(r, 2) == 0;
    random_news2(r, &p->cnews2);
    p->cnews2_t_ms = p->news2_t_ms - rnd(r, 7200) * 1000LL;
    p->has_pk = rnd(r, 2) == 0;
    random_news2(r, &p->pk);
    p->pk_t_ms = p->news2_t_ms - rnd(r, 3600) * 1000LL;
    p->has_ai = rnd(r, 3) != 0;
    static const double probs[] = {0.0, 1e-05, 0.1, 0.3125, 0.5, 1.0, 0.999999999, 2.5e-09};
    p->ai_prob = rnd(r, 2) == 0 ? probs[rnd(r, 8)] : (double)rnd(r, 1000000) / 999983.0;
    p->ai_low_confidence = rnd(r, 3) == 0;
    snprintf(p->ai_version, sizeof p->ai_version, "%s", rnd(r, 2) ? "gbt-2025.1" : odd_text[rnd(r, 9)]);
    p->opted_out = rnd(r, 4) == 0;
    p->scale2 = rnd(r, 4) == 0;
    p->scale2_since_ms = rnd(r, 3) == 0 ? 0 : now - rnd(r, 86400) * 1000LL;
    p->plan_stored = rnd(r, 3) == 0;
    p->plan_review_ms = now + rnd(r, 86400) * 1000LL;
    p->plan_expires_ms = rnd(r, 4) == 0 ? 0 : p->plan_review_ms + rnd(r, 86400) * 1000LL;
    p->plan.present = p->plan_stored && rnd(r, 2) == 0;
    if (p->plan.present) {
        p->plan.level = (vigil_esc_level)rnd(r, 3);
        p->plan.news2_usual_max = rnd(r, 8);
        p->plan.recorded_ms = now - 3600000;
        p->plan.expires_ms = p->plan_review_ms;
    }
    p->has_daily = rnd(r, 2) == 0;
    p->daily = (vigil_store_feeling)rnd(r, 3);
    p->daily_ms = now - rnd(r, 90000) * 1000LL;
    p->concern_open = rnd(r, 5) == 0;
    p->concern_ms = now - rnd(r, 7200) * 1000LL;
    vigil_escalation_state_init(&p->esc);
    p->esc.episode_open = rnd(r, 2) == 0;
    vigil_esc_alert *a = &p->esc.episode;
    a->id = 10 + (uint64_t)rnd(r, 1000);
    a->kind = VIGIL_ESC_ALERT_EPISODE;
    a->level = (vigil_esc_level)(1 + rnd(r, 4));
    a->opened_ms = now - rnd(r, 7200) * 1000LL;
    a->last_sent_ms = a->opened_ms + rnd(r, 600) * 1000LL;
    a->n_sent = 1u + (unsigned)rnd(r, 4);
    a->rota_step = (unsigned)rnd(r, 3);
    if (rnd(r, 2) == 0) {
        a->ack.action = (vigil_esc_ack_action)(1 + rnd(r, 4));
        snprintf(a->ack.by, sizeof a->ack.by, "%s", odd_text[rnd(r, 8)]);
        a->ack.at_ms = a->opened_ms + 60000;
    }
    p->esc.n_martha = (size_t)rnd(r, 3);
    for (size_t k = 0; k < p->esc.n_martha; k++) {
        vigil_esc_alert *m = &p->esc.martha[k];
        m->id = 2000 + k;
        m->kind = VIGIL_ESC_ALERT_MARTHA;
        m->level = VIGIL_ESC_EMERGENCY;
        m->opened_ms = now - rnd(r, 3600) * 1000LL;
        m->last_sent_ms = m->opened_ms;
        m->n_sent = 1;
        m->martha_seq = (int64_t)k + 1;
        if (rnd(r, 2) == 0 && p->n_links < SRV_LINKS_MAX) {
            p->links[p->n_links++] = (srv_alert_link){(int64_t)m->id, 0, rnd(r, 3) * 7};
        }
    }
}

static void ward_list_json_is_byte_for_byte_the_patient_views(void **s)
{
    (void)s;
    vigil_server *srv = calloc(1, sizeof *srv);
    assert_non_null(srv);
    vigil_escalation_config_init(&srv->cfg.escalation);
    srv->cfg.concern_open_ms = 3600000;
    enum { N = 400 };
    srv_patient *pats = calloc(N, sizeof *pats);
    srv_patient **ps = calloc(N, sizeof *ps);
    vigil_store_ward_entry *rows = calloc(N, sizeof *rows);
    assert_true(pats != NULL && ps != NULL && rows != NULL);
    uint64_t r = 0x13b01;
    const int64_t now = INT64_C(1765100000000);
    json_t *views = json_array();
    for (size_t i = 0; i < N; i++) {
        random_patient(&r, &pats[i], &rows[i], now);
        ps[i] = i % 37 == 5 ? NULL : &pats[i]; /* a patient the cache could not hold is left out */
        if (ps[i] != NULL) {
            json_t *v = vigil__srv_patient_view(srv, ps[i], &rows[i], now);
            assert_non_null(v); /* jansson built it: the test's texts are valid UTF-8 */
            json_array_append_new(views, v);
        }
    }
    json_t *want_j = json_pack("{s:s, s:o, s:o, s:s}", "ward", "W\"1", "at",
                               vigil__srv_time_json(now), "patients", views, "scoring",
                               "news2-only");
    char *want = json_dumps(want_j, JSON_COMPACT);
    char *got = vigil__srv_ward_list_text(srv, "W\"1", now, "news2-only", ps, rows, N);
    assert_non_null(want);
    assert_non_null(got);
    assert_true(strlen(want) > 100000);
    assert_string_equal(got, want);
    free(got);
    free(want);
    json_decref(want_j);
    char *empty = vigil__srv_ward_list_text(srv, "7A", now, "news2+ai", ps, rows, 0);
    assert_string_equal(empty, "{\"ward\":\"7A\",\"at\":\"2025-12-07T09:33:20.000Z\","
                               "\"patients\":[],\"scoring\":\"news2+ai\"}");
    free(empty);
    free(rows);
    free(ps);
    free(pats);
    free(srv);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(time_parse_reads_zones_and_refuses_local_times),
    cmocka_unit_test(time_format_matches_gmtime_over_the_whole_fast_range),
    cmocka_unit_test(source_ids_are_unique_per_set_and_fit),
    cmocka_unit_test(maps_hold_many_keys),
    cmocka_unit_test(sessions_expire_when_idle_or_old_and_end_on_sign_out),
    cmocka_unit_test(five_failed_sign_ins_lock_for_fifteen_minutes),
    cmocka_unit_test(locked_sign_in_stays_locked_whatever_junk_fills_the_throttle),
    cmocka_unit_test(one_user_signing_in_again_and_again_signs_no_one_else_out),
    cmocka_unit_test(ward_scope_needs_the_ward_or_every_ward),
    cmocka_unit_test(routes_match_with_parameters_and_tell_a_wrong_method),
    cmocka_unit_test(ambiguous_body_lengths_are_framing_faults),
    cmocka_unit_test(ward_list_json_is_byte_for_byte_the_patient_views),
};

VIGIL_TEST_MAIN(tests)
