/*
 * auth.c: who is asking. Sign-in (argon2id through the store, one at a time,
 * with a lock-out after repeated failures), session tokens (32 random bytes
 * from libsodium; the store keeps only their BLAKE2b hash, with idle and
 * absolute expiry: vigil_store_session_*, shared by every node of the store),
 * ward scope, creating users (admin), and /health.
 *
 * Why one argon2id at a time: each costs ~70 ms and 64 MiB
 * (docs/store.md); parallel sign-ins could exhaust memory. Sign-in runs on
 * the sign-in thread (signer.c), never on an HTTP thread, and at most
 * cfg.signins_in_flight sign-ins (queued or running, default 1) wait there: a
 * further one is answered 503 at once (issue 12 finding 8: 60 concurrent bad
 * sign-ins used to hold both HTTP threads, so /health and the ward list took
 * 9-10 s). Creating, disabling and enabling users still take the argon2id
 * slot on an HTTP thread (admin only); a waiting one gives up after
 * AUTH_WAIT_MS (503).
 *
 * Does not: decide what a role may do (the route table in api.c) or see a
 * patient. Invariants: tokens are never logged or stored; a failed sign-in
 * says only "username or password not recognised".
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_int.h"

#define AUTH_WAIT_MS 5000
#define THROTTLE_FAILURES 5
#define THROTTLE_WINDOW_MS (15LL * 60 * 1000)
#define THROTTLE_LOCK_MS (15LL * 60 * 1000)

void vigil__srv_auth_init(srv_auth *a, int64_t idle_ms, int64_t max_ms)
{
    memset(a, 0, sizeof *a);
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->argon_mu, NULL);
    a->in_flight_max = 1;
    a->rules.idle_ms = idle_ms;
    a->rules.max_ms = max_ms;
    a->rules.per_user = SRV_SESSIONS_PER_USER;
    a->rules.total = SRV_SESSIONS_MAX;
}

void vigil__srv_auth_fini(srv_auth *a)
{
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->argon_mu);
}

bool vigil__srv_scope_ok(const srv_user *u, const char *ward)
{
    for (size_t i = 0; i < u->n_wards; i++) {
        if (strcmp(u->wards[i], "*") == 0) {
            return true;
        }
        if (ward != NULL && ward[0] != '\0' && strcmp(u->wards[i], ward) == 0) {
            return true;
        }
    }
    return false;
}

static void token_hash(const char *token, uint8_t out[VIGIL_STORE_SESSION_HASH_LEN])
{
    crypto_generichash(out, VIGIL_STORE_SESSION_HASH_LEN, (const unsigned char *)token,
                       strlen(token), NULL, 0);
}

static void user_of(const vigil_store_user *u, srv_user *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->username, u->username, sizeof out->username);
    out->role = u->role;
    out->n_wards = u->n_wards;
    memcpy(out->wards, u->wards, sizeof out->wards);
}

vigil_status vigil__srv_session_new(srv_auth *a, vigil_store *st, const char *username,
                                    int64_t now_ms, char token_out[SRV_TOKEN_LEN + 1])
{
    uint8_t raw[32];
    randombytes_buf(raw, sizeof raw);
    char tok[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    sodium_bin2base64(tok, sizeof tok, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    uint8_t h[VIGIL_STORE_SESSION_HASH_LEN];
    token_hash(tok, h);
    /* the per-user cap (issue 12 finding 7) and the total cap are the
     * store's, across every node (vigil_store_session_new) */
    vigil_status s = vigil_store_session_new(st, h, username, now_ms, &a->rules, NULL);
    if (s == VIGIL_OK) {
        memcpy(token_out, tok, SRV_TOKEN_LEN);
        token_out[SRV_TOKEN_LEN] = '\0';
    }
    sodium_memzero(tok, sizeof tok);
    return s;
}

vigil_status vigil__srv_session_get(srv_auth *a, vigil_store *st, const char *token,
                                    int64_t now_ms, srv_user *out)
{
    if (token == NULL || strlen(token) != SRV_TOKEN_LEN) {
        return VIGIL_ERR_NOT_FOUND;
    }
    uint8_t h[VIGIL_STORE_SESSION_HASH_LEN];
    token_hash(token, h);
    vigil_store_user u;
    vigil_status s = vigil_store_session_get(st, h, now_ms, &a->rules, &u, NULL);
    if (s == VIGIL_OK) {
        user_of(&u, out);
    }
    return s;
}

vigil_status vigil__srv_session_end(vigil_store *st, const char *token)
{
    if (token == NULL || strlen(token) != SRV_TOKEN_LEN) {
        return VIGIL_OK;
    }
    uint8_t h[VIGIL_STORE_SESSION_HASH_LEN];
    token_hash(token, h);
    return vigil_store_session_end(st, h, NULL, NULL);
}

vigil_status vigil__srv_sess_open(vigil_server *srv, vigil_err *err)
{
    size_t n = srv->cfg.http_threads > 0 ? srv->cfg.http_threads : 1;
    srv->sess = calloc(n, sizeof *srv->sess);
    if (srv->sess == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_init(&srv->sess[i].mu, NULL);
        srv->n_sess = i + 1;
        vigil_status s = vigil_store_open(srv->db, 0, &srv->sess[i].st, err);
        if (s != VIGIL_OK) {
            return s;
        }
    }
    return VIGIL_OK;
}

void vigil__srv_sess_close(vigil_server *srv)
{
    for (size_t i = 0; i < srv->n_sess; i++) {
        vigil_store_close(srv->sess[i].st);
        pthread_mutex_destroy(&srv->sess[i].mu);
    }
    free(srv->sess);
    srv->sess = NULL;
    srv->n_sess = 0;
}

srv_sess_conn *vigil__srv_sess_take(vigil_server *srv)
{
    unsigned start = atomic_fetch_add(&srv->sess_next, 1);
    for (size_t k = 0; k < srv->n_sess; k++) {
        srv_sess_conn *c = &srv->sess[(start + k) % srv->n_sess];
        if (pthread_mutex_trylock(&c->mu) == 0) {
            return c;
        }
    }
    srv_sess_conn *c = &srv->sess[start % srv->n_sess];
    pthread_mutex_lock(&c->mu);
    return c;
}

void vigil__srv_sess_give(srv_sess_conn *c)
{
    pthread_mutex_unlock(&c->mu);
}

/* A slot that counts nothing any more: empty, or its window over and not
 * locked. A slot still counting failures or locked is never reused (issue 12
 * finding 6: 257 junk sign-ins used to evict a locked user|address). */
static bool throttle_free(const srv_throttle *t, int64_t now_ms)
{
    return t->key[0] == '\0' ||
           (t->locked_until_ms <= now_ms && now_ms - t->first_ms > THROTTLE_WINDOW_MS);
}

/* The slot of key; with create, a free slot for it. NULL when there is none:
 * the table is full of keys still counting (the caller fails closed). */
static srv_throttle *throttle_find(srv_auth *a, const char *key, bool create, int64_t now_ms)
{
    srv_throttle *spare = NULL;
    for (size_t i = 0; i < SRV_THROTTLE_SLOTS; i++) {
        srv_throttle *t = &a->throttle[i];
        if (t->key[0] != '\0' && strcmp(t->key, key) == 0) {
            return t;
        }
        if (spare == NULL && throttle_free(t, now_ms)) {
            spare = t;
        }
    }
    if (!create || spare == NULL) {
        return NULL;
    }
    memset(spare, 0, sizeof *spare);
    snprintf(spare->key, sizeof spare->key, "%s", key);
    spare->first_ms = now_ms;
    return spare;
}

/* True when a failure of key could be counted (its slot, or a free one). */
static bool throttle_room(srv_auth *a, const char *key, int64_t now_ms)
{
    for (size_t i = 0; i < SRV_THROTTLE_SLOTS; i++) {
        const srv_throttle *t = &a->throttle[i];
        if (throttle_free(t, now_ms) || strcmp(t->key, key) == 0) {
            return true;
        }
    }
    return false;
}

bool vigil__srv_throttle_allowed(srv_auth *a, const char *key, int64_t now_ms)
{
    pthread_mutex_lock(&a->mu);
    srv_throttle *t = throttle_find(a, key, false, now_ms);
    /* fail closed: a sign-in whose failure could not be counted is not tried */
    bool ok = t == NULL ? throttle_room(a, key, now_ms) : t->locked_until_ms <= now_ms;
    pthread_mutex_unlock(&a->mu);
    return ok;
}

void vigil__srv_throttle_record(srv_auth *a, const char *key, bool ok, int64_t now_ms)
{
    pthread_mutex_lock(&a->mu);
    srv_throttle *t = throttle_find(a, key, !ok, now_ms);
    if (t != NULL) {
        if (ok) {
            memset(t, 0, sizeof *t);
        } else {
            if (now_ms - t->first_ms > THROTTLE_WINDOW_MS) {
                t->failures = 0;
                t->first_ms = now_ms;
            }
            if (++t->failures >= THROTTLE_FAILURES) {
                t->locked_until_ms = now_ms + THROTTLE_LOCK_MS;
            }
        }
    }
    pthread_mutex_unlock(&a->mu);
}

/* Take the argon2id slot: false at once when a->in_flight_max sign-ins are
 * already running or waiting, else after waiting at most AUTH_WAIT_MS. */
static bool argon_lock(srv_auth *a)
{
    unsigned n = atomic_fetch_add(&a->in_flight, 1);
    if (n >= a->in_flight_max) {
        atomic_fetch_sub(&a->in_flight, 1);
        return false;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += AUTH_WAIT_MS / 1000;
    if (pthread_mutex_timedlock(&a->argon_mu, &ts) != 0) {
        atomic_fetch_sub(&a->in_flight, 1);
        return false;
    }
    return true;
}

static void argon_unlock(srv_auth *a)
{
    pthread_mutex_unlock(&a->argon_mu);
    atomic_fetch_sub(&a->in_flight, 1);
}

static json_t *user_json(const vigil_store_user *u)
{
    json_t *w = json_array();
    for (size_t i = 0; i < u->n_wards; i++) {
        json_array_append_new(w, json_string(u->wards[i]));
    }
    return json_pack("{s:s, s:s, s:s, s:o}", "username", u->username, "display_name",
                     u->display_name, "role", vigil_store_role_name(u->role), "wards", w);
}

void vigil__srv_h_login(vigil_server *srv, srv_req *r, const char *client, char *cookie,
                        size_t cookie_cap)
{
    const char *user = json_string_value(json_object_get(r->body, "username"));
    const char *pass = json_string_value(json_object_get(r->body, "password"));
    if (user == NULL || pass == NULL || json_object_size(r->body) != 2) {
        vigil__srv_req_error(r, 400, "bad-request",
                             "sign in with {\"username\": ..., \"password\": ...}");
        return;
    }
    char key[sizeof((srv_throttle *)0)->key];
    snprintf(key, sizeof key, "%.63s|%s", user, client);
    int64_t now = vigil__srv_now_ms();
    if (!vigil__srv_throttle_allowed(&srv->auth, key, now)) {
        atomic_fetch_add(&srv->stats.signin_refused_locked, 1);
        vigil__srv_log_limited(srv, "auth.locked", "sign-in refused: too many failures");
        vigil__srv_req_error(r, 429, "too-many-requests",
                             "too many failed sign-ins; try again in 15 minutes");
        return;
    }
    if (!argon_lock(&srv->auth)) {
        atomic_fetch_add(&srv->stats.signin_refused_busy, 1);
        vigil__srv_log_limited(srv, "auth.busy", "sign-in refused: busy");
        vigil__srv_req_error(r, 503, "unavailable", "sign-in is busy; try again shortly");
        return;
    }
    vigil_store_user u;
    vigil_err err = {0};
    vigil_status s = vigil_store_user_login(srv->auth_store, user, pass, &u, &err);
    if (s != VIGIL_OK) {
        argon_unlock(&srv->auth);
    }
    now = vigil__srv_now_ms();
    if (s == VIGIL_ERR_DENIED) {
        vigil__srv_throttle_record(&srv->auth, key, false, now);
        atomic_fetch_add(&srv->stats.signin_failed, 1);
        vigil__srv_log_limited(srv, "auth.fail", "sign-in refused");
        vigil__srv_req_error(r, 401, "unauthorized", "username or password not recognised");
        return;
    }
    if (s != VIGIL_OK) {
        vigil__srv_log(srv, "store.error", "sign-in: %s", vigil_status_str(s));
        vigil__srv_req_error(r, 500, "internal", "sign-in failed: %s", vigil_status_str(s));
        return;
    }
    vigil__srv_throttle_record(&srv->auth, key, true, now);
    char token[SRV_TOKEN_LEN + 1];
    /* the store orders this with any disabling on any node: a user disabled
     * meanwhile gets no session (VIGIL_ERR_DENIED), or loses it with the
     * disabling's commit (vigil_store_session_new) */
    vigil_status ss = vigil__srv_session_new(&srv->auth, srv->auth_store, u.username, now, token);
    argon_unlock(&srv->auth);
    if (ss == VIGIL_ERR_NOMEM) {
        atomic_fetch_add(&srv->stats.signin_refused_busy, 1);
        vigil__srv_log_limited(srv, "auth.busy", "sign-in refused: every session slot in use");
        vigil__srv_req_error(r, 503, "unavailable",
                             "too many people are signed in; try again shortly");
        return;
    }
    if (ss == VIGIL_ERR_DENIED) {
        atomic_fetch_add(&srv->stats.signin_failed, 1);
        vigil__srv_req_error(r, 401, "unauthorized", "username or password not recognised");
        return;
    }
    if (ss != VIGIL_OK) {
        vigil__srv_log(srv, "store.error", "sign-in: session: %s", vigil_status_str(ss));
        vigil__srv_req_error(r, 500, "internal", "sign-in failed: %s", vigil_status_str(ss));
        return;
    }
    snprintf(cookie, cookie_cap, "vigil_session=%s; %s; Max-Age=%lld", token,
             vigil__srv_cookie_attrs(srv), (long long)(srv->cfg.session_max_ms / 1000));
    vigil__srv_log(srv, "auth.login", "user %s signed in (%s)", u.username,
                   vigil_store_role_name(u.role));
    json_t *j =
        json_pack("{s:s, s:s, s:o, s:I, s:o}", "token", token, "token_type", "Bearer", "expires_at",
                  vigil__srv_time_json(now + srv->cfg.session_max_ms), "idle_timeout_s",
                  (json_int_t)(srv->cfg.session_idle_ms / 1000), "user", user_json(&u));
    sodium_memzero(token, sizeof token);
    vigil__srv_req_json(r, 200, j);
}

/* A ward or display name: 1..VIGIL_STORE_NAME_MAX bytes, no control
 * characters (issue 12 finding 14: they were accepted). */
static bool ward_name_ok(const char *w)
{
    size_t n = strlen(w);
    if (n == 0 || n > VIGIL_STORE_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)w[i] < 0x20 || (unsigned char)w[i] == 0x7f) {
            return false;
        }
    }
    return true;
}

/* wards: a JSON array of 1..VIGIL_STORE_WARDS_MAX distinct ward names, or
 * ["*"] alone. */
static bool wards_of(json_t *a, const char **out, size_t *n)
{
    if (!json_is_array(a) || json_array_size(a) == 0 ||
        json_array_size(a) > VIGIL_STORE_WARDS_MAX) {
        return false;
    }
    for (size_t i = 0; i < json_array_size(a); i++) {
        out[i] = json_string_value(json_array_get(a, i));
        if (out[i] == NULL || !ward_name_ok(out[i]) ||
            (strcmp(out[i], "*") == 0 && json_array_size(a) > 1)) {
            return false;
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(out[k], out[i]) == 0) {
                return false; /* a duplicate */
            }
        }
    }
    *n = json_array_size(a);
    return true;
}

/* REQ SERVER-USERNAME: 2..63 of [a-z0-9._-], starting with a letter or digit:
 * lower case only, so two usernames never differ only in case (finding 14). */
static bool username_ok(const char *u)
{
    size_t n = strlen(u);
    if (n < 2 || n > 63 || !((u[0] >= 'a' && u[0] <= 'z') || (u[0] >= '0' && u[0] <= '9'))) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = u[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-')) {
            return false;
        }
    }
    return true;
}

void vigil__srv_h_user_add(vigil_server *srv, srv_req *r)
{
    const char *username = json_string_value(json_object_get(r->body, "username"));
    const char *display = json_string_value(json_object_get(r->body, "display_name"));
    const char *role_s = json_string_value(json_object_get(r->body, "role"));
    const char *password = json_string_value(json_object_get(r->body, "password"));
    const char *wards[VIGIL_STORE_WARDS_MAX];
    size_t n_wards = 0;
    int role = -1;
    static const char *const known[] = {"username", "display_name", "role", "password", "wards"};
    const char *key;
    json_t *val;
    json_object_foreach(r->body, key, val)
    {
        (void)val;
        bool ok = false;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
            ok = ok || strcmp(key, known[i]) == 0;
        }
        if (!ok) {
            vigil__srv_req_error(r, 422, "unprocessable", "unknown member '%.64s'", key);
            return;
        }
    }
    for (int i = 0; role_s != NULL && i < VIGIL_STORE_ROLE_COUNT; i++) {
        if (strcmp(role_s, vigil_store_role_name((vigil_store_role)i)) == 0) {
            role = i;
        }
    }
    if (username == NULL || display == NULL || password == NULL || role < 0 ||
        !wards_of(json_object_get(r->body, "wards"), wards, &n_wards)) {
        vigil__srv_req_error(r, 422, "unprocessable",
                             "a user needs username, display_name, role (nurse, doctor, "
                             "outreach, safety-officer, admin), password and wards (1 to %d "
                             "names or \"*\")",
                             VIGIL_STORE_WARDS_MAX);
        return;
    }
    if (!username_ok(username) || !ward_name_ok(display)) {
        vigil__srv_req_error(r, 422, "unprocessable",
                             "username is 2 to 63 of a-z, 0-9, '.', '_', '-' (lower case, "
                             "starting with a letter or digit); display_name printable text");
        return;
    }
    if (!argon_lock(&srv->auth)) {
        vigil__srv_req_error(r, 503, "unavailable", "busy; try again shortly");
        return;
    }
    int64_t id = 0;
    vigil_err err = {0};
    vigil_status s =
        vigil_store_user_add(srv->auth_store, &r->who, username, display, (vigil_store_role)role,
                             password, wards, n_wards, &id, &err);
    argon_unlock(&srv->auth);
    if (s == VIGIL_ERR_CONFLICT) {
        /* never the store's own text (finding 14: raw SQLite text was answered) */
        vigil__srv_req_error(r, 409, "conflict", "a user named '%s' already exists", username);
        return;
    }
    if (s != VIGIL_OK) {
        vigil__srv_req_store_error(r, s, &err);
        return;
    }
    vigil__srv_log(srv, "auth.user-added", "user %s (%s) added by %s", username, role_s,
                   r->user.username);
    json_t *w = json_array();
    for (size_t i = 0; i < n_wards; i++) {
        json_array_append_new(w, json_string(wards[i]));
    }
    vigil__srv_req_json(r, 201,
                        json_pack("{s:I, s:s, s:s, s:s, s:o}", "id", (json_int_t)id, "username",
                                  username, "display_name", display, "role", role_s, "wards", w));
}

void vigil__srv_h_user_disable(vigil_server *srv, srv_req *r)
{
    const char *username = r->n_params > 0 ? r->params[0] : "";
    if (strcmp(username, r->user.username) == 0) {
        vigil__srv_req_error(r, 422, "unprocessable",
                             "an administrator cannot disable their own account (ask another)");
        return;
    }
    if (!argon_lock(&srv->auth)) { /* srv->auth_store is used under argon_mu */
        vigil__srv_req_error(r, 503, "unavailable", "busy; try again shortly");
        return;
    }
    vigil_err err = {0};
    size_t ended = 0;
    /* the disabling and the end of every session of the user, on every node,
     * in one transaction of the store */
    vigil_status s = vigil_store_user_disable(srv->auth_store, &r->who, username,
                                              vigil__srv_now_ms(), &ended, &err);
    argon_unlock(&srv->auth);
    if (s != VIGIL_OK) {
        vigil__srv_req_store_error(r, s, &err);
        return;
    }
    vigil__srv_log(srv, "auth.user-disabled", "user %s disabled by %s; %zu session(s) ended",
                   username, r->user.username, ended);
    vigil__srv_req_json(r, 200,
                        json_pack("{s:s, s:b, s:I}", "username", username, "disabled", 1,
                                  "sessions_ended", (json_int_t)ended));
}

void vigil__srv_h_user_enable(vigil_server *srv, srv_req *r)
{
    const char *username = r->n_params > 0 ? r->params[0] : "";
    if (!argon_lock(&srv->auth)) { /* srv->auth_store is used under argon_mu */
        vigil__srv_req_error(r, 503, "unavailable", "busy; try again shortly");
        return;
    }
    vigil_err err = {0};
    vigil_status s = vigil_store_user_enable(srv->auth_store, &r->who, username, &err);
    argon_unlock(&srv->auth);
    if (s == VIGIL_ERR_NOT_FOUND) {
        vigil__srv_req_error(r, 404, "not-found", "no disabled user named '%s'", username);
        return;
    }
    if (s != VIGIL_OK) {
        vigil__srv_req_store_error(r, s, &err);
        return;
    }
    vigil__srv_log(srv, "auth.user-enabled", "user %s enabled by %s", username, r->user.username);
    vigil__srv_req_json(r, 200, json_pack("{s:s, s:b}", "username", username, "disabled", 0));
}

void vigil__srv_h_user_list(vigil_server *srv, srv_req *r)
{
    if (!argon_lock(&srv->auth)) { /* srv->auth_store is used under argon_mu */
        vigil__srv_req_error(r, 503, "unavailable", "busy; try again shortly");
        return;
    }
    vigil_store_user_list l;
    vigil_err err = {0};
    vigil_status s = vigil_store_user_list_get(srv->auth_store, &r->who, &l, &err);
    argon_unlock(&srv->auth);
    if (s != VIGIL_OK) {
        vigil__srv_req_store_error(r, s, &err);
        return;
    }
    json_t *users = json_array();
    for (size_t i = 0; i < l.n; i++) {
        const vigil_store_user_row *u = &l.rows[i];
        json_t *w = json_array();
        for (size_t k = 0; k < u->user.n_wards; k++) {
            json_array_append_new(w, json_string(u->user.wards[k]));
        }
        json_array_append_new(
            users,
            json_pack("{s:s, s:s, s:s, s:o, s:b, s:o, s:o, s:o}", "username", u->user.username,
                      "display_name", u->user.display_name, "role",
                      vigil_store_role_name(u->user.role), "wards", w, "enabled",
                      !u->user.disabled, "disabled_at", vigil__srv_time_json(u->disabled_ms),
                      "last_sign_in", vigil__srv_time_json(u->last_login_ms), "created_at",
                      vigil__srv_time_json(u->created_ms)));
    }
    vigil_store_user_list_fini(&l);
    vigil__srv_req_json(r, 200, json_pack("{s:o}", "users", users));
}

void vigil__srv_h_health(vigil_server *srv, srv_req *r)
{
    bool ai = srv->cfg.scorer != NULL;
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:s, s:o, s:s, s:i, s:i, s:o}", "status", "ok", "version", VIGIL_VERSION,
        "store", vigil_store_backend_name(srv->store), "scoring", ai ? "news2+ai" : "news2-only",
        "ai_model", ai ? json_string(srv->model) : json_null(), "note",
        ai ? "AI risk shown alongside NEWS2; it can raise a level, never lower it. The model "
             "is trained on ICU research data and must be validated locally before clinical use"
           : "no AI model loaded: escalation runs on NEWS2, staff concern and Martha's Rule only",
        "http_port", srv->http_port, "mllp_port", srv->mllp_port, "refusals",
        vigil__srv_refusals_json(srv));
    /* several nodes on one store (nodes.c): this node, and whether it runs
     * the background work */
    int64_t since = atomic_load(&srv->lease.since_ms);
    json_object_set_new(j, "node", json_string(srv->lease.node));
    json_object_set_new(j, "background",
                        json_pack("{s:b, s:o}", "held", vigil__srv_lease_held(srv) ? 1 : 0,
                                  "since",
                                  since > 0 ? vigil__srv_time_json(since) : json_null()));
    vigil__srv_req_json(r, 200, j);
}
