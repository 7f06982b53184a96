/*
 * test_server_units.c: the server's small parts on their own: times, per-set
 * source ids, the maps, sessions (expiry, sign-out), the sign-in throttle,
 * ward scope and route matching.
 */
#include <stdlib.h>
#include <string.h>

#include "server/server_int.h"
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

static void sessions_expire_when_idle_or_old_and_end_on_sign_out(void **s)
{
    (void)s;
    srv_auth *a = malloc(sizeof *a);
    assert_non_null(a);
    vigil__srv_auth_init(a, 1000, 5000);
    srv_user u = user_on("WARD7B"), got;
    char tok[SRV_TOKEN_LEN + 1], tok2[SRV_TOKEN_LEN + 1];
    assert_int_equal(vigil__srv_session_new(a, &u, 0, tok), VIGIL_OK);
    assert_int_equal(strlen(tok), SRV_TOKEN_LEN);
    assert_true(vigil__srv_session_get(a, tok, 900, &got));
    assert_string_equal(got.username, "nurse.jo");
    assert_true(vigil__srv_session_get(a, tok, 1800, &got));  /* idle clock refreshed at 900 */
    assert_false(vigil__srv_session_get(a, tok, 2900, &got)); /* idle > 1000 ms */
    assert_false(vigil__srv_session_get(a, tok, 2901, &got)); /* and gone for good */
    assert_int_equal(vigil__srv_session_new(a, &u, 10000, tok), VIGIL_OK);
    for (int64_t t = 10500; t < 15000; t += 500) {
        assert_true(vigil__srv_session_get(a, tok, t, &got));
    }
    assert_false(vigil__srv_session_get(a, tok, 15000, &got)); /* absolute limit */
    assert_int_equal(vigil__srv_session_new(a, &u, 20000, tok), VIGIL_OK);
    assert_int_equal(vigil__srv_session_new(a, &u, 20000, tok2), VIGIL_OK);
    assert_string_not_equal(tok, tok2);
    vigil__srv_session_end(a, tok);
    assert_false(vigil__srv_session_get(a, tok, 20001, &got));
    assert_true(vigil__srv_session_get(a, tok2, 20001, &got));
    assert_false(vigil__srv_session_get(a, "short", 20001, &got));
    char wrong[SRV_TOKEN_LEN + 1];
    memcpy(wrong, tok2, sizeof wrong);
    wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
    assert_false(vigil__srv_session_get(a, wrong, 20001, &got));
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
 * oldest sessions, never another user's. */
static void one_user_signing_in_again_and_again_signs_no_one_else_out(void **s)
{
    (void)s;
    srv_auth *a = malloc(sizeof *a);
    assert_non_null(a);
    vigil__srv_auth_init(a, 60 * 60 * 1000, 12 * 60 * 60 * 1000);
    srv_user bob = user_on("WARD7B"), mal = user_on("WARD7B");
    snprintf(bob.username, sizeof bob.username, "bob");
    snprintf(mal.username, sizeof mal.username, "mallory");
    char tb[SRV_TOKEN_LEN + 1], tm[SRV_TOKEN_LEN + 1], first_m[SRV_TOKEN_LEN + 1];
    assert_int_equal(vigil__srv_session_new(a, &bob, 1000, tb), VIGIL_OK);
    for (int i = 0; i < 2 * SRV_SESSIONS_MAX; i++) {
        assert_int_equal(vigil__srv_session_new(a, &mal, 2000 + i, tm), VIGIL_OK);
        if (i == 0) {
            memcpy(first_m, tm, sizeof tm);
        }
    }
    srv_user got;
    assert_true(vigil__srv_session_get(a, tb, 10000, &got));
    assert_string_equal(got.username, "bob");
    assert_true(vigil__srv_session_get(a, tm, 10000, &got));       /* her newest works */
    assert_false(vigil__srv_session_get(a, first_m, 10000, &got)); /* her oldest ended */
    size_t n = vigil__srv_sessions_end_user(a, "mallory");
    assert_int_equal(n, SRV_SESSIONS_PER_USER);
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

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(time_parse_reads_zones_and_refuses_local_times),
    cmocka_unit_test(source_ids_are_unique_per_set_and_fit),
    cmocka_unit_test(maps_hold_many_keys),
    cmocka_unit_test(sessions_expire_when_idle_or_old_and_end_on_sign_out),
    cmocka_unit_test(five_failed_sign_ins_lock_for_fifteen_minutes),
    cmocka_unit_test(locked_sign_in_stays_locked_whatever_junk_fills_the_throttle),
    cmocka_unit_test(one_user_signing_in_again_and_again_signs_no_one_else_out),
    cmocka_unit_test(ward_scope_needs_the_ward_or_every_ward),
    cmocka_unit_test(routes_match_with_parameters_and_tell_a_wrong_method),
    cmocka_unit_test(ambiguous_body_lengths_are_framing_faults),
};

VIGIL_TEST_MAIN(tests)
