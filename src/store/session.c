/*
 * session.c: sign-in sessions in the store (vigil/store.h "sign-in sessions
 * shared by the nodes", issue 15): the arguments checked, the rules applied
 * once for every backend (when a session is live, when its last use is
 * written again, the per-user and total caps handed to session_add), the
 * storage done by the backend's session_add, session_get, session_touch and
 * session_end (store_int.h).
 *
 * Why in the store: several `vigil serve` nodes on one database share their
 * sessions, so a sign-in works on any node, and a sign-out or a user disabled
 * ends the sessions on every node at once (before, each process kept its own
 * table in memory). Every check reads the store: no node caches a session.
 *
 * Does not: make or see tokens (the caller hashes them), audit (the sign-in is
 * audited by vigil_store_user_login, the disabling by user_disable), or decide
 * the limits (the server's configuration).
 * Invariant: a session is live at now when now - last < idle, now - created <
 * max and created <= now (a clock set back ends it), and its user is enabled.
 */
#include <string.h>

#include "store_int.h"

static vigil_status check_rules(const vigil_store_session_rules *r, vigil_err *err)
{
    if (r == NULL || r->idle_ms <= 0 || r->max_ms <= 0 || r->per_user == 0 || r->total == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "rules",
                             "session rules need idle_ms, max_ms, per_user and total above 0");
    }
    return VIGIL_OK;
}

static vigil_status check_args(vigil_store *st, const uint8_t *hash, vigil_err *err)
{
    if (st == NULL || hash == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "a store and a session hash");
    }
    return VIGIL_OK;
}

static bool live(const vigil__session_row *s, int64_t now_ms, const vigil_store_session_rules *r)
{
    return now_ms - s->last_ms < r->idle_ms && now_ms - s->created_ms < r->max_ms &&
           now_ms >= s->created_ms;
}

vigil_status vigil_store_session_new(vigil_store *st, const uint8_t *hash, const char *username,
                                     int64_t now_ms, const vigil_store_session_rules *rules,
                                     vigil_err *err)
{
    vigil_status s = check_args(st, hash, err);
    if (s == VIGIL_OK) {
        s = check_rules(rules, err);
    }
    if (s != VIGIL_OK) {
        return s;
    }
    if (username == NULL || username[0] == '\0' || strlen(username) >= VIGIL_ID_MAX) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "username", "no username");
    }
    if (now_ms <= 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "now_ms", "not a time");
    }
    vigil__session_add a = {
        .hash = hash,
        .username = username,
        .now_ms = now_ms,
        .idle_cut_ms = now_ms - rules->idle_ms,
        .max_cut_ms = now_ms - rules->max_ms,
        .per_user = rules->per_user,
        .total = rules->total,
    };
    return st->ops->session_add(st->be, &a, err);
}

/* A tenth of the idle timeout when that is less than a minute (short
 * timeouts, as in tests, keep their precision). */
static int64_t touch_ms(const vigil_store_session_rules *r)
{
    int64_t t = r->idle_ms / 10;
    return t < VIGIL_STORE_SESSION_TOUCH_MS ? t : VIGIL_STORE_SESSION_TOUCH_MS;
}

vigil_status vigil_store_session_get(vigil_store *st, const uint8_t *hash, int64_t now_ms,
                                     const vigil_store_session_rules *rules, vigil_store_user *out,
                                     vigil_err *err)
{
    vigil_status s = check_args(st, hash, err);
    if (s == VIGIL_OK) {
        s = check_rules(rules, err);
    }
    if (s == VIGIL_OK && out == NULL) {
        s = vigil_err_set(err, VIGIL_ERR_ARG, "out", "no output given");
    }
    if (s != VIGIL_OK) {
        return s;
    }
    vigil__session_row row;
    bool found = false;
    s = st->ops->session_get(st->be, hash, &row, &found, err);
    if (s != VIGIL_OK) {
        return s;
    }
    /* REQ SESSION-DISABLED-REFUSED: the user row is read with the session,
     * so a disabled user's session is refused whatever else still holds it */
    if (!found || !live(&row, now_ms, rules) || row.user.disabled) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, NULL, "no live session");
    }
    if (now_ms - row.last_ms >= touch_ms(rules)) {
        vigil_err ignored = {0};
        (void)st->ops->session_touch(st->be, hash, now_ms, &ignored);
    }
    *out = row.user;
    return VIGIL_OK;
}

vigil_status vigil_store_session_end(vigil_store *st, const uint8_t *hash, bool *out_ended,
                                     vigil_err *err)
{
    vigil_status s = check_args(st, hash, err);
    if (s != VIGIL_OK) {
        return s;
    }
    size_t n = 0;
    s = st->ops->session_end(st->be, hash, &n, err);
    if (s == VIGIL_OK && out_ended != NULL) {
        *out_ended = n > 0;
    }
    return s;
}
