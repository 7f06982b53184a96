/*
 * escal.c: runs the escalation policy (vigil/escalation.h) for a patient
 * and stores what it decides: a new alert opens a stored episode (the one it
 * supersedes is closed in the same transaction), a repeat is stored as an
 * alert repeat, a close closes the episode. Also the timer that repeats
 * unacknowledged alerts, and acknowledgements.
 *
 * Alert ids: the policy numbers the alerts it creates; once stored, each is
 * renumbered to the store's alert id, so an acknowledgement through the API
 * names the stored alert. New alerts are numbered from 2^62 up so they never
 * collide with stored ids before renumbering.
 *
 * Does not: decide anything itself (the policy does), page anyone.
 * Invariants: store thread only. The patient's state advances only when the
 * first action of a step was stored: a step whose actions could not be
 * stored is tried again by the timer, so no decision is lost or doubled.
 * Spec: ../shared/spec/escalation.md; docs/escalation.md; docs/server.md.
 */
#include <stdio.h>
#include <string.h>

#include "server_int.h"

#define CORE_ID_BASE (UINT64_C(1) << 62)

void vigil__srv_esc_inputs(const vigil_server *srv, const srv_patient *p, int64_t now_ms,
                           vigil_escalation_inputs *in)
{
    vigil_escalation_inputs_init(in);
    in->has_news2 = p->has_news2;
    if (p->has_news2) {
        in->news2 = p->news2;
        in->news2_t_ms = p->news2_t_ms;
    }
    /* REQ ESC-PARTIAL-NEVER-LOWERS: what the earlier sets still say */
    if (p->has_news2 && !p->news2.complete) {
        in->has_news2_complete = p->has_cnews2;
        in->news2_complete = p->cnews2;
        in->news2_complete_t_ms = p->cnews2_t_ms;
        /* always, even when it may be the latest set itself: a set measured at the
         * same time can score lower (fuzz/fuzz_escalation.c found one); the core
         * leaves out the reason when the peak is the latest set */
        in->has_news2_partial_peak = p->has_pk;
        in->news2_partial_peak = p->pk;
        in->news2_partial_peak_t_ms = p->pk_t_ms;
    }
    /* REQ ESC-LATE-SET */
    in->has_news2_late = p->has_news2 && p->has_late;
    in->news2_late = p->late;
    in->news2_late_t_ms = p->late_t_ms;
    in->ai_opted_out = p->opted_out;
    /* "not enough data to score" is no AI opinion: never a 0% risk in the reasons */
    if (p->has_ai && !p->opted_out && vigil__srv_ai_scored(p->ai_prob, p->ai_low_confidence)) {
        in->ai_status = p->ai_low_confidence ? VIGIL_ESC_AI_LOW_CONFIDENCE : VIGIL_ESC_AI_OK;
        in->ai_risk = p->ai_prob;
    }
    in->staff_concern = p->concern_open && now_ms >= p->concern_ms &&
                        now_ms - p->concern_ms < srv->cfg.concern_open_ms;
    for (size_t i = 0; i < p->n_new_calls && i < VIGIL_ESC_MARTHA_MAX; i++) {
        in->martha[in->n_martha++] = p->new_calls[i];
    }
    if (p->plan.present) {
        in->plan = p->plan;
    }
    if (p->has_daily) {
        in->feels = p->daily == VIGIL_STORE_FEEL_WORSE    ? VIGIL_ESC_FEELS_WORSE
                    : p->daily == VIGIL_STORE_FEEL_BETTER ? VIGIL_ESC_FEELS_BETTER
                                                          : VIGIL_ESC_FEELS_SAME;
        in->feels_t_ms = p->daily_ms;
    }
}

/* What triggered a new episode: the first source that drives the level. */
static vigil_store_trigger trigger_of(const vigil_escalation_result *res, const srv_patient *p,
                                      int64_t *ref)
{
    for (size_t i = 0; i < res->n_reasons; i++) {
        const vigil_esc_reason *r = &res->reasons[i];
        if (!r->drives) {
            continue;
        }
        switch (r->code) {
        case VIGIL_ESC_R_AI:
            *ref = p->news2_score_id;
            return VIGIL_STORE_TRIGGER_AI;
        case VIGIL_ESC_R_STAFF_CONCERN:
            *ref = p->concern_id;
            return VIGIL_STORE_TRIGGER_STAFF_CONCERN;
        case VIGIL_ESC_R_NEWS2:
        case VIGIL_ESC_R_NEWS2_INCOMPLETE:
        case VIGIL_ESC_R_PLAN_APPLIED:
            *ref = p->news2_score_id;
            return VIGIL_STORE_TRIGGER_NEWS2;
        default:
            break;
        }
    }
    *ref = p->news2_score_id;
    return VIGIL_STORE_TRIGGER_NEWS2;
}

/* A stored alert of a step, to renumber and link once the state is kept. */
typedef struct stored_alert {
    uint64_t core_id;
    int64_t alert_id, episode_id, call_id;
} stored_alert;

static void renumber(vigil_escalation_state *s, uint64_t from, uint64_t to)
{
    if (s->episode_open && s->episode.id == from) {
        s->episode.id = to;
    }
    for (size_t i = 0; i < s->n_martha; i++) {
        if (s->martha[i].id == from) {
            s->martha[i].id = to;
        }
    }
}

static const srv_alert_link *link_of(const srv_patient *p, uint64_t alert_id)
{
    return alert_id < CORE_ID_BASE ? vigil__srv_pat_link(p, (int64_t)alert_id) : NULL;
}

/* Store one action; *sa gets a new alert's ids. */
static vigil_status store_action(vigil_server *srv, srv_patient *p,
                                 const vigil_escalation_result *res, const vigil_esc_action *a,
                                 int64_t now_ms, int64_t *supersedes, stored_alert *sa,
                                 vigil_err *err)
{
    const vigil_actor *who = &vigil__srv_policy_actor;
    const srv_alert_link *l = link_of(p, a->alert_id);
    switch (a->kind) {
    case VIGIL_ESC_ACT_CLOSE:
        if (l == NULL) {
            return VIGIL_OK; /* never stored (a failed earlier step) */
        }
        if (a->superseded) {
            *supersedes = l->episode_id; /* closed by the next episode's open */
            return VIGIL_OK;
        }
        return vigil_store_episode_close(srv->store, who, l->episode_id, now_ms,
                                         "level back to none after acknowledgement", err);
    case VIGIL_ESC_ACT_REALERT: {
        if (l == NULL) {
            return VIGIL_OK;
        }
        /* REQ PAGE-OUTBOX: the repeat's pages are queued in its transaction */
        srv_page_plan plan;
        vigil__srv_page_plan(srv, p, a->level, (int)a->rota_step, true, l->call_id > 0, now_ms,
                             &plan);
        /* REQ ESC-REPEAT-ONCE: not when it was sent within half its interval
         * (another node repeated it: a lease changing hands, a node
         * restarting with the open episode in memory); this node's state
         * moves on as if it had, and nobody is paged twice */
        int64_t gap = srv->cfg.escalation.realert_ms[a->level] / 2;
        vigil_status s = vigil_store_alert_repeat_once(
            srv->store, who, l->alert_id, now_ms, gap, (int)a->rota_step,
            vigil_escalation_level_text(a->level), plan.req, plan.n, err);
        if (s == VIGIL_OK) {
            vigil__srv_page_plan_stored(srv, &plan);
        } else if (s == VIGIL_ERR_CONFLICT) {
            /* repeated or acknowledged on another node: read the state again
             * (an acknowledgement this node has not seen stops its repeats) */
            srv->esc_resync = true;
            atomic_fetch_add(&srv->stats.repeats_already_sent, 1);
            vigil__srv_log(srv, "escalation.repeat-skipped", "alert %lld: %s",
                           (long long)l->alert_id, err->msg);
            return VIGIL_OK;
        }
        return s;
    }
    case VIGIL_ESC_ACT_ALERT: {
        int64_t ep = 0, al = 0, ref = 0, call = 0;
        vigil_store_trigger trig;
        vigil_news2_response level;
        if (a->alert_kind == VIGIL_ESC_ALERT_MARTHA) {
            trig = VIGIL_STORE_TRIGGER_MARTHAS_RULE;
            ref = call = a->martha_seq;
            level = VIGIL_RESP_EMERGENCY;
        } else {
            trig = trigger_of(res, p, &ref);
            level = vigil__srv_level_to_store(a->level);
        }
        /* REQ PAGE-OUTBOX: the alert's pages are queued in its transaction;
         * REQ PAGE-MARTHA-OUTREACH: a call pages outreach directly */
        srv_page_plan plan;
        vigil__srv_page_plan(srv, p, a->level, 0, false, a->alert_kind == VIGIL_ESC_ALERT_MARTHA,
                             now_ms, &plan);
        vigil_status s = vigil_store_episode_open_paged(
            srv->store, who, p->id, level, trig, ref,
            a->alert_kind == VIGIL_ESC_ALERT_MARTHA ? 0 : *supersedes, now_ms, plan.req, plan.n,
            &ep, &al, err);
        if (s != VIGIL_OK) {
            return s;
        }
        vigil__srv_page_plan_stored(srv, &plan);
        if (a->alert_kind != VIGIL_ESC_ALERT_MARTHA) {
            *supersedes = 0;
        }
        *sa = (stored_alert){a->alert_id, al, ep, call};
        if (srv->bg_open) {
            srv->bg_count.alerts_opened++; /* counted once the batch commits */
        } else {
            atomic_fetch_add(&srv->stats.alerts_opened, 1);
        }
        vigil__srv_log(srv, "escalation.alert", "alert %lld episode %lld level %s trigger %s%s",
                       (long long)al, (long long)ep, vigil_escalation_level_name(a->level),
                       vigil_store_trigger_name(trig), a->untracked ? " (untracked)" : "");
        return VIGIL_OK;
    }
    default:
        return VIGIL_OK;
    }
}

vigil_status vigil__srv_esc_update(vigil_server *srv, srv_patient *p, int64_t now_ms,
                                   vigil_escalation_result *res_out)
{
    vigil_escalation_inputs in;
    vigil__srv_esc_inputs(srv, p, now_ms, &in);
    vigil_escalation_state cur = p->esc, next;
    cur.next_alert_id = CORE_ID_BASE;
    vigil_escalation_result res;
    vigil_err err = {0};
    vigil_status s =
        vigil_escalation_step(&srv->cfg.escalation, &cur, &in, now_ms, &next, &res, &err);
    if (s != VIGIL_OK) {
        vigil__srv_log(srv, "escalation.error", "policy refused its inputs: %s (%s)", err.msg,
                       err.field);
        return s;
    }
    stored_alert stored[VIGIL_ESC_ACTIONS_MAX];
    size_t n_stored = 0, n_done = 0;
    int64_t supersedes = 0;
    for (size_t i = 0; i < res.n_actions; i++) {
        stored_alert sa = {0, 0, 0, 0};
        vigil_err e = {0};
        s = store_action(srv, p, &res, &res.actions[i], now_ms, &supersedes, &sa, &e);
        if (s == VIGIL_ERR_CONFLICT) {
            /* another node opened this patient's episode first (episode.c):
             * tried again once this node has read the state again (nodes.c) */
            srv->esc_resync = true;
            vigil__srv_log(srv, "escalation.conflict", "escalation %s not stored: %s",
                           vigil_escalation_action_name(res.actions[i].kind), e.msg);
        } else if (s != VIGIL_OK) {
            atomic_fetch_add(&srv->stats.store_failures, 1);
            vigil__srv_log(srv, "store.error", "escalation %s not stored: %s",
                           vigil_escalation_action_name(res.actions[i].kind), vigil_status_str(s));
        }
        if (s != VIGIL_OK) {
            if (n_done == 0) {
                return s; /* nothing stored: the timer tries the step again */
            }
            continue;
        }
        n_done++;
        if (sa.alert_id != 0) {
            stored[n_stored++] = sa;
        }
    }
    if (supersedes != 0) {
        /* a superseded episode whose successor was not stored */
        vigil_err e = {0};
        if (vigil_store_episode_close(srv->store, &vigil__srv_policy_actor, supersedes, now_ms,
                                      "superseded", &e) != VIGIL_OK) {
            vigil__srv_log(srv, "store.error", "closing a superseded episode: %s",
                           vigil_status_str(e.status));
        }
    }
    for (size_t i = 0; i < n_stored; i++) {
        renumber(&next, stored[i].core_id, (uint64_t)stored[i].alert_id);
    }
    p->esc = next;
    p->n_new_calls = 0; /* passed to the step: the state has seen them */
    for (size_t i = 0; i < n_stored; i++) {
        vigil__srv_pat_link_alert(srv, p, stored[i].alert_id, stored[i].episode_id,
                                  stored[i].call_id);
    }
    if (res_out != NULL) {
        *res_out = res;
    }
    return VIGIL_OK;
}

void vigil__srv_esc_view(const vigil_server *srv, const srv_patient *p, int64_t now_ms,
                         vigil_escalation_result *res)
{
    vigil_escalation_inputs in;
    vigil__srv_esc_inputs(srv, p, now_ms, &in);
    vigil_escalation_state cur = p->esc, next;
    cur.next_alert_id = CORE_ID_BASE;
    if (vigil_escalation_step(&srv->cfg.escalation, &cur, &in, now_ms, &next, res, NULL) !=
        VIGIL_OK) {
        memset(res, 0, sizeof *res);
    }
}

/* What a policy step changes in a patient's record, to put back when the
 * batch holding its writes does not commit. */
typedef struct esc_snap {
    vigil_escalation_state esc;
    size_t n_new_calls;
    srv_alert_link links[SRV_LINKS_MAX];
    size_t n_links;
} esc_snap;

/* The policy for ps[0..n) inside the open batch; snap gets each one's state
 * before (NULL: no way back). */
static void update_in_batch(vigil_server *srv, srv_patient *const *ps, size_t n, int64_t now_ms,
                            esc_snap *snap)
{
    for (size_t i = 0; i < n; i++) {
        if (snap != NULL) {
            const srv_patient *p = ps[i];
            snap[i].esc = p->esc;
            snap[i].n_new_calls = p->n_new_calls;
            memcpy(snap[i].links, p->links, sizeof snap[i].links);
            snap[i].n_links = p->n_links;
        }
        vigil__srv_esc_update(srv, ps[i], now_ms, NULL);
    }
}

static void restore(vigil_server *srv, srv_patient *const *ps, size_t n, const esc_snap *snap,
                    const vigil_err *err)
{
    for (size_t i = 0; snap != NULL && i < n; i++) {
        srv_patient *p = ps[i];
        p->esc = snap[i].esc;
        p->n_new_calls = snap[i].n_new_calls;
        memcpy(p->links, snap[i].links, sizeof p->links);
        p->n_links = snap[i].n_links;
    }
    atomic_fetch_add(&srv->stats.store_failures, 1);
    vigil__srv_log(srv, "store.error",
                   "escalation of %zu patient(s) not stored (%s): their state is as before, "
                   "the next step tries again",
                   n, vigil_status_str(err->status));
}

void vigil__srv_esc_mark_due(vigil_server *srv, srv_patient *p)
{
    if (p->esc_due) {
        return;
    }
    if (srv->esc_due.n == srv->esc_due.cap) {
        size_t cap = srv->esc_due.cap > 0 ? srv->esc_due.cap * 2 : 64;
        srv_patient **v = realloc(srv->esc_due.v, cap * sizeof *v);
        if (v == NULL) {
            vigil__srv_esc_update(srv, p, vigil__srv_now_ms(), NULL); /* no room: now, alone */
            return;
        }
        srv->esc_due.v = v;
        srv->esc_due.cap = cap;
    }
    p->esc_due = true;
    srv->esc_due.v[srv->esc_due.n++] = p;
}

bool vigil__srv_background_pending(const vigil_server *srv)
{
    return srv->esc_due.n > 0 || vigil__srv_ai_ready_pending(srv);
}

void vigil__srv_esc_run_due(vigil_server *srv, int64_t now_ms)
{
    if (!vigil__srv_background_pending(srv)) {
        return;
    }
    vigil_err err = {0};
    bool batched = vigil_store_batch_begin(srv->store, &err) == VIGIL_OK;
    srv_ai_view *undo = NULL;
    size_t n_undo = 0;
    vigil__srv_ai_store_ready(srv, &undo, &n_undo); /* marks the patients it concerns due */
    size_t n = srv->esc_due.n;
    srv_patient **ps = srv->esc_due.v;
    srv->esc_due.v = NULL;
    srv->esc_due.n = srv->esc_due.cap = 0;
    for (size_t i = 0; i < n; i++) {
        ps[i]->esc_due = false;
    }
    esc_snap *snap = batched && n > 0 ? malloc(n * sizeof *snap) : NULL;
    srv->bg_open = batched;
    memset(&srv->bg_count, 0, sizeof srv->bg_count);
    update_in_batch(srv, ps, n, now_ms, snap);
    srv->bg_open = false;
    bool committed = !batched || vigil_store_batch_commit(srv->store, &err) == VIGIL_OK;
    if (committed) {
        atomic_fetch_add(&srv->stats.alerts_opened, srv->bg_count.alerts_opened);
        if (srv->pager != NULL) {
            atomic_fetch_add(&srv->pager->n.queued, srv->bg_count.pages_queued);
            atomic_fetch_add(&srv->pager->n.unrouted, srv->bg_count.pages_unrouted);
        }
    }
    memset(&srv->bg_count, 0, sizeof srv->bg_count);
    if (!committed) {
        restore(srv, ps, n, snap, &err);
        for (size_t i = n_undo; i-- > 0;) { /* the AI scores were not stored either */
            srv_patient *p = undo[i].p;
            p->has_ai = undo[i].has_ai;
            p->ai_prob = undo[i].prob;
            p->ai_low_confidence = undo[i].low_confidence;
            memcpy(p->ai_version, undo[i].version, sizeof p->ai_version);
        }
    }
    free(undo);
    free(snap);
    free(ps);
    vigil__srv_pager_kick(srv);
}

void vigil__srv_esc_tick(vigil_server *srv, int64_t now_ms)
{
    srv_idmap *m = &srv->pats.by_id;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == 0) {
            continue;
        }
        srv_patient *p = m->vals[i];
        bool concern_lapsed = p->concern_open && now_ms - p->concern_ms >= srv->cfg.concern_open_ms;
        if (concern_lapsed) {
            p->concern_open = false;
        }
        if (p->esc.episode_open || p->esc.n_martha > 0 || p->n_new_calls > 0 || concern_lapsed) {
            vigil__srv_esc_mark_due(srv, p);
        }
    }
}

static vigil_store_ack_action ack_to_store(vigil_esc_ack_action a)
{
    switch (a) {
    case VIGIL_ESC_ACK_REVIEWED:
        return VIGIL_STORE_ACK_REVIEWED;
    case VIGIL_ESC_ACK_ESCALATED:
        return VIGIL_STORE_ACK_ESCALATED;
    case VIGIL_ESC_ACK_DECLINED:
        return VIGIL_STORE_ACK_DECLINED;
    default:
        return VIGIL_STORE_ACK_ATTENDING;
    }
}

vigil_status vigil__srv_esc_ack(vigil_server *srv, srv_patient *p, const vigil_actor *who,
                                int64_t alert_id, vigil_esc_ack_action action, const char *reason,
                                int64_t now_ms, vigil_err *err)
{
    const srv_alert_link *l = vigil__srv_pat_link(p, alert_id);
    if (l == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "alert_id", "no open alert %lld",
                             (long long)alert_id);
    }
    srv_alert_link link = *l;
    vigil_esc_ack ack;
    memset(&ack, 0, sizeof ack);
    ack.alert_id = (uint64_t)alert_id;
    ack.action = action;
    snprintf(ack.by, sizeof ack.by, "%s", who->user);
    if (reason != NULL && strlen(reason) >= sizeof ack.reason) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "reason", "reason is longer than %zu bytes",
                             sizeof ack.reason - 1);
    }
    snprintf(ack.reason, sizeof ack.reason, "%s", reason != NULL ? reason : "");
    vigil_escalation_state next;
    vigil_status s = vigil_escalation_ack(&p->esc, &ack, now_ms, &next, NULL, err);
    if (s != VIGIL_OK) {
        return s;
    }
    int64_t ack_id = 0;
    s = vigil_store_alert_ack(srv->store, who, alert_id, now_ms, ack_to_store(action),
                              reason != NULL && reason[0] != '\0' ? reason : NULL, &ack_id, err);
    if (s != VIGIL_OK) {
        return s;
    }
    p->esc = next;
    vigil__srv_log(srv, "escalation.ack", "alert %lld %s", (long long)alert_id,
                   vigil_escalation_ack_action_name(action));
    if (link.call_id > 0) {
        vigil_err e = {0};
        if (vigil_store_episode_close(srv->store, &vigil__srv_policy_actor, link.episode_id, now_ms,
                                      "call acknowledged", &e) != VIGIL_OK) {
            vigil__srv_log(srv, "store.error", "closing an acknowledged call: %s",
                           vigil_status_str(e.status));
        }
    }
    if (p->concern_open && now_ms >= p->concern_ms) {
        p->concern_open = false; /* the concern has been answered */
    }
    vigil__srv_esc_update(srv, p, now_ms, NULL);
    return VIGIL_OK;
}
