/*
 * page.c: the store's rotas and pages (the outbox): name tables and the
 * backend-independent checks before a backend runs any SQL.
 *
 * A page is written in the same transaction as the alert or alert repeat
 * that causes it (vigil_store_episode_open_paged, _alert_repeat_paged), so
 * a crash never loses one or queues one twice; its id is the store's row id,
 * never reused, which a receiver de-duplicates on. Attempts and their
 * outcomes are audited with the page.
 *
 * The rota's rules are here, above the backend's reads (post_holders,
 * rota_state): a post with no holder of the ward's own falls back to "*"'s
 * (REQ ROTA-STAR-FALLBACK), and which posts of which wards are gaps (REQ
 * ROTA-GAP).
 *
 * Does not: decide who is paged (the server reads the rota and decides),
 * send anything (the server's pager thread), decide who may edit a rota
 * (the server's role checks).
 * Spec: docs/store.md "Rotas and pages"; ../shared/spec/escalation.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "vigil/util.h"

const char *const vigil__store_rota_level_names[VIGIL__ROTA_LEVELS] = {
    "ward", "urgent-ward", "urgent", "emergency", "in-charge"};
const char *const vigil__store_channel_names[VIGIL_STORE_CHANNEL_COUNT] = {
    [VIGIL_STORE_CHANNEL_WEB] = "web",
    [VIGIL_STORE_CHANNEL_WEBHOOK] = "webhook",
};
const char *const vigil__store_page_state_names[VIGIL_STORE_PAGE_STATE_COUNT] = {
    [VIGIL_STORE_PAGE_PENDING] = "pending",     [VIGIL_STORE_PAGE_DELIVERED] = "delivered",
    [VIGIL_STORE_PAGE_FAILED] = "failed",       [VIGIL_STORE_PAGE_CANCELLED] = "cancelled",
    [VIGIL_STORE_PAGE_UNROUTED] = "unrouted",
};
const char *const vigil__store_attempt_names[VIGIL_STORE_ATTEMPT_OUTCOME_COUNT] = {
    [VIGIL_STORE_ATTEMPT_DELIVERED] = "delivered",
    [VIGIL_STORE_ATTEMPT_RETRY] = "retry",
    [VIGIL_STORE_ATTEMPT_FAILED] = "failed",
};

const char *vigil_store_channel_name(vigil_store_channel c)
{
    return (unsigned)c < VIGIL_STORE_CHANNEL_COUNT ? vigil__store_channel_names[c] : "unknown";
}

const char *vigil_store_page_state_name(vigil_store_page_state s)
{
    return (unsigned)s < VIGIL_STORE_PAGE_STATE_COUNT ? vigil__store_page_state_names[s]
                                                      : "unknown";
}

#define T_MAX_MS INT64_C(32503680000000)

static bool time_ok(int64_t t)
{
    return t > 0 && t < T_MAX_MS;
}

static vigil_status need(bool ok, const char *field, const char *msg, vigil_err *err)
{
    return ok ? VIGIL_OK : vigil_err_set(err, VIGIL_ERR_ARG, field, "%s", msg);
}

static bool short_text(const char *s, size_t max, bool required)
{
    if (s == NULL || s[0] == '\0') {
        return !required;
    }
    return strlen(s) <= max && !(required && vigil_str_blank(s));
}

vigil_status vigil__store_check_pages(const vigil_store_page_req *pages, size_t n, vigil_err *err)
{
    if (n > 0 && pages == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "pages", "no pages given");
    }
    for (size_t i = 0; i < n; i++) {
        const vigil_store_page_req *p = &pages[i];
        if ((unsigned)p->channel >= VIGIL_STORE_CHANNEL_COUNT) {
            return vigil_err_set(err, VIGIL_ERR_ARG, "pages.channel", "unknown channel %d",
                                 (int)p->channel);
        }
        if (!short_text(p->recipient, VIGIL_ID_MAX - 1, false) ||
            !short_text(p->post, VIGIL_STORE_NAME_MAX, true) || p->rota_step < 0 ||
            p->rota_step >= VIGIL_STORE_ROTA_STEPS_MAX) {
            return vigil_err_set(err, VIGIL_ERR_ARG, "pages",
                                 "page %zu: recipient, post or rota step out of bounds", i);
        }
    }
    return VIGIL_OK;
}

static vigil_status check_st(const vigil_store *st, vigil_err *err)
{
    return need(st != NULL, "store", "no store given", err);
}

static bool rota_level_ok(const char *level)
{
    return vigil__store_lookup(vigil__store_rota_level_names, VIGIL__ROTA_LEVELS, level) >= 0;
}

vigil_status vigil_store_shift_add(vigil_store *st, const vigil_actor *who,
                                   const vigil_store_shift *s, int64_t *out_id, vigil_err *err)
{
    vigil_status r = check_st(st, err);
    if (r == VIGIL_OK) {
        r = vigil__store_check_actor(who, err);
    }
    if (r != VIGIL_OK) {
        return r;
    }
    if (s == NULL || out_id == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "shift", "no shift or output given");
    }
    if (memchr(s->ward, '\0', sizeof s->ward) == NULL || !short_text(s->ward, 127, true)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "ward", "ward is required (a ward or \"*\")");
    }
    if (memchr(s->level, '\0', sizeof s->level) == NULL || !rota_level_ok(s->level)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "level",
                             "level is ward, urgent-ward, urgent, emergency or in-charge");
    }
    if (s->step < 0 || s->step >= VIGIL_STORE_ROTA_STEPS_MAX) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "step", "step %d is not 0..%d", s->step,
                             VIGIL_STORE_ROTA_STEPS_MAX - 1);
    }
    if (memchr(s->username, '\0', sizeof s->username) == NULL ||
        !short_text(s->username, VIGIL_ID_MAX - 1, true)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "username", "username is required");
    }
    if (!time_ok(s->from_ms) || !time_ok(s->to_ms) || s->to_ms <= s->from_ms) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "to", "a shift ends after it starts");
    }
    return st->ops->shift_add(st->be, who, s, out_id, err);
}

vigil_status vigil_store_shift_end(vigil_store *st, const vigil_actor *who, int64_t id,
                                   int64_t t_ms, vigil_store_shift *out, vigil_err *err)
{
    vigil_status r = check_st(st, err);
    if (r == VIGIL_OK) {
        r = vigil__store_check_actor(who, err);
    }
    if (r == VIGIL_OK) {
        r = need(id > 0 && time_ok(t_ms), "id", "a shift id and a time are required", err);
    }
    if (r != VIGIL_OK) {
        return r;
    }
    vigil_store_shift tmp;
    return st->ops->shift_end(st->be, who, id, t_ms, out != NULL ? out : &tmp, err);
}

vigil_status vigil_store_shifts_get(vigil_store *st, const char *ward, int64_t from_ms,
                                    int64_t to_ms, vigil_store_shift *out, size_t max, size_t *n,
                                    vigil_err *err)
{
    vigil_status r = check_st(st, err);
    if (r == VIGIL_OK) {
        r = need(n != NULL && (max == 0 || out != NULL) && to_ms >= from_ms, "out",
                 "an output and a time range are required", err);
    }
    if (r != VIGIL_OK) {
        return r;
    }
    return st->ops->shifts_get(st->be, ward, from_ms, to_ms, out, max, n, err);
}

vigil_status vigil_store_rota_holders(vigil_store *st, const char *ward, const char *level,
                                      int step, int64_t t_ms, char (*out)[VIGIL_ID_MAX],
                                      size_t max, size_t *n, vigil_err *err)
{
    vigil_status r = check_st(st, err);
    if (r == VIGIL_OK) {
        r = need(ward != NULL && rota_level_ok(level) && n != NULL && (max == 0 || out != NULL),
                 "level", "a ward, a rota level and an output are required", err);
    }
    if (r != VIGIL_OK) {
        return r;
    }
    /* REQ ROTA-STAR-FALLBACK: the ward's own holders, else those of "*" */
    size_t got = 0;
    r = st->ops->post_holders(st->be, ward, level, step, t_ms, out, max, &got, err);
    if (r == VIGIL_OK && got == 0 && strcmp(ward, "*") != 0) {
        r = st->ops->post_holders(st->be, "*", level, step, t_ms, out, max, &got, err);
    }
    *n = r == VIGIL_OK ? (got < max ? got : max) : 0;
    return r;
}

void vigil__rota_state_fini(vigil__rota_state *s)
{
    free(s->wards);
    free(s->held);
    memset(s, 0, sizeof *s);
}

static bool held(const vigil__rota_state *rs, const char *ward, const char *level, int step)
{
    for (size_t i = 0; i < rs->n_held; i++) {
        const vigil_store_rota_gap *h = &rs->held[i];
        if (h->step == step && strcmp(h->level, level) == 0 && strcmp(h->ward, ward) == 0) {
            return true;
        }
    }
    return false;
}

vigil_status vigil_store_rota_gaps(vigil_store *st, int64_t t_ms, int steps,
                                   vigil_store_rota_gap *out, size_t max, size_t *n,
                                   vigil_err *err)
{
    vigil_status r = check_st(st, err);
    if (r == VIGIL_OK) {
        r = need(steps >= 1 && steps <= VIGIL_STORE_ROTA_STEPS_MAX && n != NULL &&
                     (max == 0 || out != NULL),
                 "steps", "steps 1..16 and an output are required", err);
    }
    if (r != VIGIL_OK) {
        return r;
    }
    vigil__rota_state rs;
    r = st->ops->rota_state(st->be, t_ms, &rs, err);
    if (r != VIGIL_OK) {
        return r;
    }
    /* REQ ROTA-GAP: each watched ward's posts (every level's steps; in charge:
     * step 0 the nurse in charge, step 1 the site manager, usually "*"), a gap
     * when neither the ward's own post nor "*"'s is held */
    *n = 0;
    for (size_t w = 0; w < rs.n_wards; w++) {
        for (int l = 0; l < VIGIL__ROTA_LEVELS; l++) {
            const char *level = vigil__store_rota_level_names[l];
            int n_steps = l == VIGIL__ROTA_LEVELS - 1 ? 2 : steps;
            for (int step = 0; step < n_steps; step++) {
                if (held(&rs, rs.wards[w], level, step) || held(&rs, "*", level, step)) {
                    continue;
                }
                if (*n < max) {
                    vigil_store_rota_gap *g = &out[*n];
                    memset(g, 0, sizeof *g);
                    snprintf(g->ward, sizeof g->ward, "%s", rs.wards[w]);
                    snprintf(g->level, sizeof g->level, "%s", level);
                    g->step = step;
                }
                (*n)++;
            }
        }
    }
    vigil__rota_state_fini(&rs);
    return VIGIL_OK;
}

vigil_status vigil_store_pages_due(vigil_store *st, vigil_store_channel channel, int64_t now_ms,
                                   vigil_store_page *out, size_t max, size_t *n, vigil_err *err)
{
    vigil_status r = check_st(st, err);
    if (r == VIGIL_OK) {
        r = need((unsigned)channel < VIGIL_STORE_CHANNEL_COUNT && n != NULL &&
                     (max == 0 || out != NULL),
                 "channel", "a channel and an output are required", err);
    }
    if (r != VIGIL_OK) {
        return r;
    }
    return st->ops->pages_due(st->be, channel, now_ms, out, max, n, err);
}

vigil_status vigil_store_page_failed(vigil_store *st, const vigil_actor *who, int64_t page_id,
                                     int64_t t_ms, const char *detail,
                                     const vigil_store_page_req *fallback, size_t n,
                                     vigil_err *err)
{
    vigil_status r = check_st(st, err);
    if (r == VIGIL_OK) {
        r = vigil__store_check_actor(who, err);
    }
    if (r == VIGIL_OK) {
        r = need(page_id > 0 && time_ok(t_ms) && short_text(detail, VIGIL_STORE_NAME_MAX, false),
                 "page_id", "a page and a time", err);
    }
    if (r == VIGIL_OK) {
        r = vigil__store_check_pages(fallback, n, err);
    }
    if (r != VIGIL_OK) {
        return r;
    }
    return st->ops->page_failed(st->be, who, page_id, t_ms, detail != NULL ? detail : "",
                                fallback, n, err);
}

vigil_status vigil_store_page_attempt(vigil_store *st, const vigil_actor *who, int64_t page_id,
                                      int64_t t_ms, vigil_store_attempt_outcome outcome,
                                      int64_t next_ms, const char *detail, vigil_err *err)
{
    vigil_status r = check_st(st, err);
    if (r == VIGIL_OK) {
        r = vigil__store_check_actor(who, err);
    }
    if (r == VIGIL_OK) {
        r = need(page_id > 0 && time_ok(t_ms) &&
                     (unsigned)outcome < VIGIL_STORE_ATTEMPT_OUTCOME_COUNT &&
                     (outcome != VIGIL_STORE_ATTEMPT_RETRY || next_ms >= t_ms) &&
                     short_text(detail, VIGIL_STORE_NAME_MAX, false),
                 "outcome", "a page, a time, an outcome and (to retry) a later time", err);
    }
    if (r != VIGIL_OK) {
        return r;
    }
    return st->ops->page_attempt(st->be, who, page_id, t_ms, outcome, next_ms,
                                 detail != NULL ? detail : "", err);
}

vigil_status vigil_store_pages_for(vigil_store *st, const vigil_actor *who, int64_t since_ms,
                                   int64_t now_ms, vigil_store_page *out, size_t max, size_t *n,
                                   vigil_err *err)
{
    vigil_status r = check_st(st, err);
    if (r == VIGIL_OK) {
        r = vigil__store_check_actor(who, err);
    }
    if (r == VIGIL_OK) {
        r = need(n != NULL && (max == 0 || out != NULL) && time_ok(now_ms), "out",
                 "an output and a time are required", err);
    }
    if (r != VIGIL_OK) {
        return r;
    }
    return st->ops->pages_for(st->be, who, since_ms, now_ms, out, max, n, err);
}

vigil_status vigil_store_page_read(vigil_store *st, const vigil_actor *who, int64_t page_id,
                                   int64_t t_ms, vigil_store_page *out, vigil_err *err)
{
    vigil_status r = check_st(st, err);
    if (r == VIGIL_OK) {
        r = vigil__store_check_actor(who, err);
    }
    if (r == VIGIL_OK) {
        r = need(page_id > 0 && time_ok(t_ms) && out != NULL, "page_id",
                 "a page, a time and an output are required", err);
    }
    if (r != VIGIL_OK) {
        return r;
    }
    return st->ops->page_read(st->be, who, page_id, t_ms, out, err);
}

vigil_status vigil_store_pages_of_alert(vigil_store *st, int64_t alert_id, vigil_store_page *out,
                                        size_t max, size_t *n, vigil_err *err)
{
    vigil_status r = check_st(st, err);
    if (r == VIGIL_OK) {
        r = need(alert_id > 0 && n != NULL && (max == 0 || out != NULL), "alert_id",
                 "an alert and an output are required", err);
    }
    if (r != VIGIL_OK) {
        return r;
    }
    return st->ops->pages_of_alert(st->be, alert_id, out, max, n, err);
}
