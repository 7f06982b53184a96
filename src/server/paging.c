/*
 * paging.c: who an alert or a repeat pages, from the rota in the store
 * (store thread). The escalation policy says the level and the rota step;
 * the rota says who holds that post now (the ward's own holders, else
 * those of "*").
 *
 * Rules (docs/server.md "Pages"):
 *  - an alert pages the holders of (ward, level, step 0); a repeat those of
 *    (ward, level, its rota step): the climb the policy makes every interval
 *    while nobody acknowledges;
 *  - a Martha's Rule call pages the emergency rota (critical-care outreach)
 *    directly (step 0, then climbing like any repeat), whatever the
 *    clinical level;
 *  - at the top step, and whenever a post has nobody on it, the in-charge
 *    posts are paged too (step 0 the nurse in charge, step 1 the site
 *    manager), so a gap never silences an alert;
 *  - a post nobody holds is queued as an "unrouted" page: stored, counted,
 *    shown, never sent.
 * Each holder gets one page per channel: the web app always, the webhook
 * when one is configured.
 *
 * Does not: send (pager.c) or write (the store does, with the alert).
 */
#include <stdio.h>
#include <string.h>

#include "server_int.h"

#define HOLDERS_MAX 4

static bool have(const srv_page_plan *pl, const char *who)
{
    for (size_t i = 0; i < pl->n; i++) {
        if (pl->req[i].recipient != NULL && strcmp(pl->who[i], who) == 0) {
            return true;
        }
    }
    return false;
}

static void add(srv_page_plan *pl, const char *who, vigil_store_channel ch, const char *post,
                int step)
{
    if (pl->n >= SRV_PAGES_MAX) {
        return;
    }
    size_t i = pl->n++;
    snprintf(pl->who[i], sizeof pl->who[i], "%s", who != NULL ? who : "");
    snprintf(pl->post[i], sizeof pl->post[i], "%s", post);
    pl->req[i] = (vigil_store_page_req){.recipient = who != NULL ? pl->who[i] : NULL,
                                        .channel = ch,
                                        .post = pl->post[i],
                                        .rota_step = step};
}

/* Page the holders of one post; false when nobody holds it (an unrouted
 * page is added instead). */
static bool page_post(vigil_server *srv, srv_page_plan *pl, const char *ward, const char *level,
                      int step, bool gap_pages, int64_t now_ms)
{
    char holders[HOLDERS_MAX][VIGIL_ID_MAX];
    size_t n = 0;
    vigil_err err = {0};
    char post[48];
    snprintf(post, sizeof post, "%s step %d", level, step);
    if (vigil_store_rota_holders(srv->store, ward, level, step, now_ms, holders, HOLDERS_MAX, &n,
                                 &err) != VIGIL_OK) {
        vigil__srv_log(srv, "store.error", "reading the rota for %s: %s", post, err.msg);
        n = 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (have(pl, holders[i])) {
            continue;
        }
        add(pl, holders[i], VIGIL_STORE_CHANNEL_WEB, post, step);
        if (srv->pager->url != NULL) {
            add(pl, holders[i], VIGIL_STORE_CHANNEL_WEBHOOK, post, step);
        }
    }
    if (n == 0 && gap_pages) {
        add(pl, NULL, VIGIL_STORE_CHANNEL_WEB, post, step);
        vigil__srv_log(srv, "page.gap", "nobody holds %s on ward %s: the page is unrouted", post,
                       ward);
    }
    return n > 0;
}

void vigil__srv_page_plan(vigil_server *srv, const srv_patient *p, vigil_esc_level level,
                          int rota_step, bool repeat, bool martha, int64_t now_ms,
                          srv_page_plan *out)
{
    out->n = 0;
    if (srv->pager == NULL) {
        return;
    }
    const char *ward = p->ward[0] != '\0' ? p->ward : "*";
    int top = (int)srv->cfg.escalation.rota_steps - 1;
    int step = rota_step;
    if (step > VIGIL_STORE_ROTA_STEPS_MAX - 1) {
        step = VIGIL_STORE_ROTA_STEPS_MAX - 1;
    }
    const char *lv = martha ? "emergency"
                            : vigil_store_level_name(vigil__srv_level_to_store(level));
    bool held = page_post(srv, out, ward, lv, step, true, now_ms);
    if (!held || (repeat && step >= top)) {
        /* REQ PAGE-TOP-IN-CHARGE: the top of the rota, or a gap: the nurse in charge and
         * the site manager */
        page_post(srv, out, ward, "in-charge", 0, true, now_ms);
        page_post(srv, out, ward, "in-charge", 1, false, now_ms); /* a site manager if any */
    }
}

void vigil__srv_page_plan_stored(vigil_server *srv, const srv_page_plan *pl)
{
    uint64_t routed = 0, unrouted = 0;
    for (size_t i = 0; srv->pager != NULL && i < pl->n; i++) {
        routed += pl->req[i].recipient != NULL;
        unrouted += pl->req[i].recipient == NULL;
    }
    if (srv->bg_open) { /* counted when the background batch commits */
        srv->bg_count.pages_queued += routed;
        srv->bg_count.pages_unrouted += unrouted;
    } else if (srv->pager != NULL) {
        atomic_fetch_add(&srv->pager->n.queued, routed);
        atomic_fetch_add(&srv->pager->n.unrouted, unrouted);
    }
}
