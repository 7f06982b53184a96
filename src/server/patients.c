/*
 * patients.c: the store thread's cache of patients: identifiers, where they
 * are, their latest score, the state the scoring and escalation need
 * (opt-out, Scale 2, plan, daily answer, concern) and their escalation
 * state, rebuilt from the store's open episodes at start.
 *
 * Why a cache: the escalation policy keeps per-patient state between steps
 * (vigil/escalation.h), and scoring an HL7 message needs the patient's
 * Scale 2 decision before the set is stored; reading both from the store for
 * every message would cost a durable (audited) transaction each.
 *
 * Does not: authorise (api.c), decide escalation (escal.c).
 * Invariants: used by the store thread only; the server is the only writer
 * of its store, so what it records here matches what it committed; a record
 * is filled from the store (audited) the first time it is needed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"

const vigil_actor vigil__srv_policy_actor = {"vigil", "escalation policy"};
const vigil_actor vigil__srv_hl7_actor = {"hl7-listener", "ingest"};

#define HISTORY_WINDOW_MS (72LL * 3600 * 1000)

vigil_esc_level vigil__srv_level_from_store(vigil_news2_response r)
{
    switch (r) {
    case VIGIL_RESP_NURSE_ASSESS:
        return VIGIL_ESC_WARD;
    case VIGIL_RESP_URGENT_WARD:
        return VIGIL_ESC_URGENT_WARD;
    case VIGIL_RESP_URGENT:
        return VIGIL_ESC_URGENT;
    case VIGIL_RESP_EMERGENCY:
        return VIGIL_ESC_EMERGENCY;
    default:
        return VIGIL_ESC_NONE;
    }
}

vigil_news2_response vigil__srv_level_to_store(vigil_esc_level l)
{
    switch (l) {
    case VIGIL_ESC_WARD:
        return VIGIL_RESP_NURSE_ASSESS;
    case VIGIL_ESC_URGENT_WARD:
        return VIGIL_RESP_URGENT_WARD;
    case VIGIL_ESC_URGENT:
        return VIGIL_RESP_URGENT;
    case VIGIL_ESC_EMERGENCY:
        return VIGIL_RESP_EMERGENCY;
    default:
        return VIGIL_RESP_ROUTINE;
    }
}

static srv_patient *pat_new(vigil_server *srv, int64_t id)
{
    srv_patient *p = calloc(1, sizeof *p);
    if (p == NULL) {
        return NULL;
    }
    p->id = id;
    vigil_escalation_state_init(&p->esc);
    if (vigil__srv_idmap_put(&srv->pats.by_id, id, p) != VIGIL_OK) {
        free(p);
        return NULL;
    }
    return p;
}

static void index_ids(vigil_server *srv, srv_patient *p)
{
    if (p->nhs[0] != '\0') {
        vigil__srv_strmap_put(&srv->pats.by_nhs, p->nhs, p->id);
    }
    if (p->mrn[0] != '\0') {
        vigil__srv_strmap_put(&srv->pats.by_mrn, p->mrn, p->id);
    }
}

/* Copy what the store says about the patient now into p. */
static void fill(vigil_server *srv, srv_patient *p, const vigil_store_patient_current *c)
{
    const vigil_store_ward_entry *e = &c->entry;
    memcpy(p->nhs, e->patient.nhs_number, sizeof p->nhs);
    memcpy(p->mrn, e->patient.mrn, sizeof p->mrn);
    p->admission_id = e->admission_id;
    memcpy(p->ward, c->ward, sizeof p->ward);
    memcpy(p->bed, e->bed, sizeof p->bed);
    if (e->has_score && e->score_id != p->news2_score_id &&
        (!p->has_news2 || e->score_order_ms > p->news2_order_ms)) {
        /* a later set than this process saw (the cache keeps what it scored itself) */
        p->has_news2 = true;
        p->news2 = e->news2;
        p->news2_t_ms = e->score_obs_ms;
        p->news2_order_ms = e->score_order_ms;
        p->news2_carried = ~e->news2.missing & ((1u << VIGIL_NEWS2_PARAM_COUNT) - 1);
        p->news2_score_id = e->score_id;
        p->has_ai = e->has_ai;
        p->ai_prob = e->ai_prob;
        p->ai_low_confidence = e->ai_low_confidence;
    } else if (e->has_score && p->news2_score_id == 0) {
        p->news2_score_id = e->score_id;
    }
    /* REQ ESC-PARTIAL-NEVER-LOWERS: what the earlier sets say, after a restart too */
    if (e->has_complete_score && (!p->has_cnews2 || e->complete_obs_ms > p->cnews2_t_ms)) {
        p->has_cnews2 = true;
        p->cnews2 = e->complete_news2;
        p->cnews2_t_ms = e->complete_obs_ms;
    }
    if (e->has_partial_peak && (!p->has_cnews2 || e->partial_peak_obs_ms > p->cnews2_t_ms) &&
        (!p->has_pk || e->partial_peak_news2.total > p->pk.total)) {
        p->has_pk = true;
        p->pk = e->partial_peak_news2;
        p->pk_t_ms = e->partial_peak_obs_ms;
    }
    const vigil_store_patient_state *s = &e->state;
    p->opted_out = s->ai_opted_out;
    p->scale2 = s->scale2;
    p->scale2_since_ms = s->scale2_since_ms;
    p->plan_stored = s->plan_active;
    p->plan_id = s->plan_id;
    p->plan_review_ms = s->plan_review_ms;
    p->plan_expires_ms = s->plan_expires_ms;
    if (!s->plan_active || (p->plan.present && p->plan_id != s->plan_id)) {
        memset(&p->plan, 0, sizeof p->plan);
    }
    if (s->plan_active && s->plan_has_terms && !p->plan.present) {
        /* a stored plan applies again after a restart, as it was recorded
         * (the policy lapses it at its review time, as h_plan does) */
        vigil_esc_plan ep;
        memset(&ep, 0, sizeof ep);
        ep.present = true;
        ep.level = s->plan_level;
        ep.news2_usual_max = s->plan_news2_usual_max;
        ep.recorded_ms = s->plan_made_ms;
        ep.expires_ms = s->plan_review_ms;
        snprintf(ep.by, sizeof ep.by, "%s", s->plan_by);
        snprintf(ep.reason, sizeof ep.reason, "%s", s->plan_reason);
        vigil_err perr = {0};
        if (vigil_escalation_plan_check(&ep, &perr) == VIGIL_OK) {
            p->plan = ep;
        } else {
            vigil__srv_log(srv, "escalation.plan", "stored plan %lld not applied: %s",
                           (long long)s->plan_id, perr.msg);
        }
    }
    p->has_daily = s->has_daily;
    p->daily = s->daily;
    p->daily_ms = s->daily_ms;
    p->loaded = true;
    index_ids(srv, p);
}

static vigil_status load_history(vigil_server *srv, const vigil_actor *who, srv_patient *p,
                                 int64_t now_ms, vigil_err *err)
{
    if (srv->cfg.scorer == NULL || p->hist != NULL) {
        return VIGIL_OK;
    }
    p->hist = calloc(VIGIL_AI_HISTORY_MAX, sizeof *p->hist);
    if (p->hist == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory for AI history");
    }
    size_t n = 0;
    vigil_status s = vigil_store_obs_recent(srv->store, who, p->id, now_ms - HISTORY_WINDOW_MS,
                                            now_ms + srv->cfg.future_skew_ms, VIGIL_AI_HISTORY_MAX,
                                            p->hist, &n, err);
    p->n_hist = s == VIGIL_OK ? n : 0;
    return s;
}

void vigil__srv_pat_history(vigil_server *srv, const vigil_actor *who, srv_patient *p)
{
    vigil_err err = {0};
    if (load_history(srv, who, p, vigil__srv_now_ms(), &err) != VIGIL_OK) {
        vigil__srv_log(srv, "store.error", "AI history not loaded: %s",
                       vigil_status_str(err.status));
    }
}

srv_patient *vigil__srv_pat_from_current(vigil_server *srv, const vigil_store_patient_current *c)
{
    int64_t id = c->entry.patient.id;
    srv_patient *p = vigil__srv_idmap_get(&srv->pats.by_id, id);
    if (p == NULL) {
        p = pat_new(srv, id);
    }
    if (p != NULL) {
        fill(srv, p, c);
    }
    return p;
}

vigil_status vigil__srv_pat_refresh(vigil_server *srv, const vigil_actor *who, srv_patient *p,
                                    vigil_err *err)
{
    vigil_store_patient_current c;
    int64_t now = vigil__srv_now_ms();
    vigil_status s = vigil_store_patient_current_get(srv->store, who, p->id, now, &c, err);
    if (s != VIGIL_OK) {
        return s;
    }
    fill(srv, p, &c);
    return load_history(srv, who, p, now, err);
}

srv_patient *vigil__srv_pat_get(vigil_server *srv, const vigil_actor *who, int64_t id,
                                vigil_status *st, vigil_err *err)
{
    srv_patient *p = vigil__srv_idmap_get(&srv->pats.by_id, id);
    *st = VIGIL_OK;
    if (p != NULL && p->loaded) {
        return p;
    }
    vigil_store_patient_current c;
    int64_t now = vigil__srv_now_ms();
    *st = vigil_store_patient_current_get(srv->store, who, id, now, &c, err);
    if (*st != VIGIL_OK) {
        return NULL;
    }
    if (p == NULL) {
        p = pat_new(srv, id);
        if (p == NULL) {
            *st = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory for a patient");
            return NULL;
        }
    }
    fill(srv, p, &c);
    vigil_status hs = load_history(srv, who, p, now, err);
    if (hs != VIGIL_OK) {
        vigil__srv_log(srv, "store.error", "AI history not loaded: %s", vigil_status_str(hs));
    }
    return p;
}

srv_patient *vigil__srv_pat_get_for(vigil_server *srv, const srv_user *u, const vigil_actor *who,
                                    int64_t id, bool *denied, vigil_status *st, vigil_err *err)
{
    *denied = false;
    *st = VIGIL_OK;
    srv_patient *p = vigil__srv_idmap_get(&srv->pats.by_id, id);
    char ward[VIGIL_STORE_NAME_MAX + 1];
    if (p != NULL && p->loaded) {
        memcpy(ward, p->ward, sizeof ward);
    } else {
        *st = vigil_store_patient_ward(srv->store, id, ward, err);
        if (*st != VIGIL_OK) {
            return NULL;
        }
    }
    if (!vigil__srv_scope_ok(u, ward)) {
        *denied = true;
        return NULL;
    }
    return vigil__srv_pat_get(srv, who, id, st, err);
}

srv_patient *vigil__srv_pat_find(vigil_server *srv, const vigil_actor *who, const char *nhs,
                                 const char *mrn, vigil_status *st, vigil_err *err)
{
    *st = VIGIL_OK;
    int64_t id = vigil__srv_strmap_get(&srv->pats.by_nhs, nhs);
    if (id == 0) {
        id = vigil__srv_strmap_get(&srv->pats.by_mrn, mrn);
    }
    if (id != 0) {
        return vigil__srv_pat_get(srv, who, id, st, err);
    }
    /* not seen by this process: ask the store, by NHS number then by MRN */
    for (int pass = 0; pass < 2; pass++) {
        const char *key = pass == 0 ? nhs : mrn;
        if (key == NULL || key[0] == '\0') {
            continue;
        }
        vigil_patient found;
        *st = vigil_store_patient_find(srv->store, who, pass == 0 ? key : NULL,
                                       pass == 0 ? NULL : key, &found, err);
        if (*st == VIGIL_OK) {
            return vigil__srv_pat_get(srv, who, found.id, st, err);
        }
        if (*st != VIGIL_ERR_NOT_FOUND) {
            return NULL;
        }
        *st = VIGIL_OK;
    }
    return NULL;
}

#define ASSEMBLY_LOAD_MS (60LL * 60 * 1000) /* recent values: the last hour */
#define ASSEMBLY_LOAD_MAX 64

void vigil__srv_pat_assembly(vigil_server *srv, const vigil_actor *who, srv_patient *p,
                             int64_t now_ms)
{
    if (p->asm_loaded) {
        return;
    }
    vigil_obs_recent_init(&p->asm_recent);
    p->asm_loaded = true;
    if (srv->cfg.assemble_window_ms <= 0) {
        return;
    }
    vigil_store_vitals v[ASSEMBLY_LOAD_MAX];
    size_t n = 0;
    vigil_err err = {0};
    vigil_status s =
        vigil_store_obs_recent(srv->store, who, p->id, now_ms - ASSEMBLY_LOAD_MS,
                               now_ms + srv->cfg.future_skew_ms, ASSEMBLY_LOAD_MAX, v, &n, &err);
    if (s != VIGIL_OK) {
        vigil__srv_log(srv, "store.error", "recent values for assembly not loaded: %s",
                       vigil_status_str(s));
        p->asm_loaded = false; /* tried again with the next set */
        return;
    }
    for (size_t i = 0; i < n; i++) {
        vigil_obs_recent_note(&p->asm_recent, &v[i].obs, v[i].t_ms);
    }
}

/* REQ ESC-PARTIAL-NEVER-LOWERS REQ ESC-LATE-SET: keep the latest complete
 * set, the highest partial set measured after it, and a late set measured
 * before it. */
static void note_evidence(srv_patient *p, const vigil_news2 *n, int64_t t_ms, bool late)
{
    if (n->complete) {
        if (!p->has_cnews2 || t_ms >= p->cnews2_t_ms) {
            p->has_cnews2 = true;
            p->cnews2 = *n;
            p->cnews2_t_ms = t_ms;
            p->has_pk = p->has_pk && p->pk_t_ms > t_ms;
            p->has_late = p->has_late && p->late_t_ms > t_ms;
            return;
        }
    } else if (!p->has_cnews2 || t_ms > p->cnews2_t_ms) {
        if (!p->has_pk || n->total > p->pk.total) {
            p->has_pk = true;
            p->pk = *n;
            p->pk_t_ms = t_ms;
        }
        return;
    }
    if (late) { /* measured before the latest complete set */
        p->has_late = true;
        p->late = *n;
        p->late_t_ms = t_ms;
    }
}

void vigil__srv_pat_note_set(vigil_server *srv, srv_patient *p, const vigil_obs_event *ev,
                             const srv_set_out *o)
{
    (void)srv;
    if (o->duplicate) {
        return;
    }
    /* a time ahead of the set's arrival (within the allowed skew) orders as
     * its arrival: a fast device clock never hides newer real sets */
    int64_t order_ms = ev->t_ms < o->received_ms ? ev->t_ms : o->received_ms;
    bool latest = !p->has_news2 || order_ms >= p->news2_order_ms;
    note_evidence(p, &o->news2, ev->t_ms, !latest);
    if (latest) {
        p->has_news2 = true;
        p->news2 = o->news2;
        p->news2_t_ms = ev->t_ms;
        p->news2_order_ms = order_ms;
        p->news2_carried = vigil_obs_carried(&ev->obs);
        p->news2_score_id = o->score_id;
        if (!o->ai_pending) { /* pending: the AI's last view stands until its new one */
            p->has_ai = o->has_ai;
            p->ai_prob = o->has_ai ? o->ai->prob : 0.0;
            p->ai_low_confidence = o->has_ai && o->ai->low_confidence;
            if (o->has_ai) {
                memcpy(p->ai_version, o->ai->model_version, sizeof p->ai_version);
            }
        }
    }
    if (p->hist != NULL) {
        if (p->n_hist == VIGIL_AI_HISTORY_MAX) {
            memmove(p->hist, p->hist + 1, (VIGIL_AI_HISTORY_MAX - 1) * sizeof *p->hist);
            p->n_hist--;
        }
        /* keep the history in measured-time order */
        size_t i = p->n_hist;
        while (i > 0 && p->hist[i - 1].t_ms > ev->t_ms) {
            p->hist[i] = p->hist[i - 1];
            i--;
        }
        p->hist[i] = (srv_ai_hist){ev->t_ms, ev->obs};
        p->n_hist++;
    }
}

void vigil__srv_pat_link_alert(vigil_server *srv, srv_patient *p, int64_t alert_id,
                               int64_t episode_id, int64_t call_id)
{
    /* drop links of alerts the state no longer holds */
    size_t w = 0;
    for (size_t i = 0; i < p->n_links; i++) {
        int64_t a = p->links[i].alert_id;
        bool held = (p->esc.episode_open && (int64_t)p->esc.episode.id == a);
        for (size_t k = 0; !held && k < p->esc.n_martha; k++) {
            held = (int64_t)p->esc.martha[k].id == a;
        }
        if (held) {
            p->links[w++] = p->links[i];
        }
    }
    p->n_links = w;
    if (p->n_links < SRV_LINKS_MAX) {
        p->links[p->n_links++] = (srv_alert_link){alert_id, episode_id, call_id};
    }
    vigil__srv_idmap_put(&srv->pats.alert_pat, alert_id, p);
    if (call_id > 0) {
        vigil__srv_idmap_put(&srv->pats.call_pat, call_id, p);
    }
}

const srv_alert_link *vigil__srv_pat_link(const srv_patient *p, int64_t alert_id)
{
    for (size_t i = 0; i < p->n_links; i++) {
        if (p->links[i].alert_id == alert_id) {
            return &p->links[i];
        }
    }
    return NULL;
}

static vigil_esc_ack_action ack_from_store(vigil_store_ack_action a)
{
    switch (a) {
    case VIGIL_STORE_ACK_REVIEWED:
        return VIGIL_ESC_ACK_REVIEWED;
    case VIGIL_STORE_ACK_ESCALATED:
        return VIGIL_ESC_ACK_ESCALATED;
    case VIGIL_STORE_ACK_DECLINED:
        return VIGIL_ESC_ACK_DECLINED;
    default:
        return VIGIL_ESC_ACK_ATTENDING;
    }
}

/* An open episode as the policy's alert. */
static void alert_from_episode(const vigil_store_episode *e, vigil_esc_alert *a,
                               vigil_esc_alert_kind kind)
{
    memset(a, 0, sizeof *a);
    a->id = (uint64_t)e->alert_id;
    a->kind = kind;
    a->level = kind == VIGIL_ESC_ALERT_MARTHA ? VIGIL_ESC_EMERGENCY
                                              : vigil__srv_level_from_store(e->level);
    a->opened_ms = e->opened_ms;
    a->last_sent_ms =
        e->last_repeat_ms > e->alert_raised_ms ? e->last_repeat_ms : e->alert_raised_ms;
    a->n_sent = 1u + (unsigned)(e->n_repeats > 0 ? e->n_repeats : 0);
    a->rota_step = (unsigned)(e->rota_step > 0 ? e->rota_step : 0);
    a->ack.action = VIGIL_ESC_ACK_NONE;
    if (e->n_acks > 0) {
        a->ack.alert_id = a->id;
        a->ack.action = ack_from_store(e->last_ack_action);
        memcpy(a->ack.by, e->last_ack_by, sizeof a->ack.by);
        a->ack.at_ms = e->last_ack_ms;
    }
    if (kind == VIGIL_ESC_ALERT_MARTHA) {
        a->martha_seq = e->trigger_ref;
        a->caller = VIGIL_ESC_CALLER_PATIENT; /* the call log holds who called */
    }
}

/* Rebuild one open episode into its patient's escalation state. at_start:
 * a call acknowledged before a restart is closed here; otherwise (a resync
 * while running) the node that took the acknowledgement closes it. */
static void restore_episode(vigil_server *srv, srv_patient *p, const vigil_store_episode *e,
                            bool at_start)
{
    vigil_escalation_state *s = &p->esc;
    if (e->trigger == VIGIL_STORE_TRIGGER_MARTHAS_RULE) {
        if (e->trigger_ref > s->martha_last_seq) {
            s->martha_last_seq = e->trigger_ref;
        }
        vigil_err err = {0};
        if (e->n_acks > 0 && !at_start) {
            return; /* acknowledged: no longer open for the policy */
        }
        if (e->n_acks > 0) {
            /* acknowledged before a restart that came before its close */
            if (vigil_store_episode_close(srv->store, &vigil__srv_policy_actor, e->id,
                                          vigil__srv_now_ms(), "call acknowledged",
                                          &err) != VIGIL_OK) {
                vigil__srv_log(srv, "store.error", "closing an acknowledged call: %s", err.msg);
            }
            return;
        }
        if (s->n_martha < VIGIL_ESC_MARTHA_MAX) {
            alert_from_episode(e, &s->martha[s->n_martha++], VIGIL_ESC_ALERT_MARTHA);
            vigil__srv_pat_link_alert(srv, p, e->alert_id, e->id, e->trigger_ref);
        }
        return;
    }
    if (s->episode_open && s->episode.level >= vigil__srv_level_from_store(e->level)) {
        return; /* keep the higher (or first) of two open episodes */
    }
    alert_from_episode(e, &s->episode, VIGIL_ESC_ALERT_EPISODE);
    s->episode_open = true;
    s->n_episodes++;
    if (e->trigger == VIGIL_STORE_TRIGGER_STAFF_CONCERN && e->n_acks == 0) {
        p->concern_open = true;
        p->concern_ms = e->opened_ms;
        p->concern_id = e->trigger_ref;
    }
    vigil__srv_pat_link_alert(srv, p, e->alert_id, e->id, 0);
}

vigil_status vigil__srv_pats_load_open(vigil_server *srv, vigil_err *err)
{
    vigil_store_episode_list l;
    memset(&l, 0, sizeof l);
    vigil_status s = vigil_store_episodes_open(srv->store, &vigil__srv_policy_actor, NULL, &l, err);
    if (s != VIGIL_OK) {
        return s;
    }
    for (size_t i = 0; i < l.n && s == VIGIL_OK; i++) {
        srv_patient *p =
            vigil__srv_pat_get(srv, &vigil__srv_policy_actor, l.rows[i].patient_id, &s, err);
        if (p != NULL) {
            restore_episode(srv, p, &l.rows[i], true);
        }
    }
    if (s == VIGIL_OK && l.n > 0) {
        vigil__srv_log(srv, "start", "restored %zu open escalation episode(s)", l.n);
    }
    vigil_store_episode_list_fini(&l);
    return s;
}

/* What a resync may change in a patient's alerts: compared before and after. */
typedef struct alert_sig {
    bool open;
    uint64_t id;
    unsigned n_sent, rota_step;
    vigil_esc_ack_action ack;
    size_t n_martha;
    uint64_t martha[VIGIL_ESC_MARTHA_MAX];
    unsigned martha_sent[VIGIL_ESC_MARTHA_MAX];
} alert_sig;

static void sig_of(const srv_patient *p, alert_sig *g)
{
    memset(g, 0, sizeof *g);
    g->open = p->esc.episode_open;
    if (g->open) {
        g->id = p->esc.episode.id;
        g->n_sent = p->esc.episode.n_sent;
        g->rota_step = p->esc.episode.rota_step;
        g->ack = p->esc.episode.ack.action;
    }
    g->n_martha = p->esc.n_martha;
    for (size_t i = 0; i < p->esc.n_martha && i < VIGIL_ESC_MARTHA_MAX; i++) {
        g->martha[i] = p->esc.martha[i].id;
        g->martha_sent[i] = p->esc.martha[i].n_sent;
    }
}

static bool sig_same(const alert_sig *a, const alert_sig *b)
{
    if (a->open != b->open || a->n_martha != b->n_martha ||
        (a->open && (a->id != b->id || a->n_sent != b->n_sent || a->rota_step != b->rota_step ||
                     a->ack != b->ack))) {
        return false;
    }
    for (size_t i = 0; i < a->n_martha && i < VIGIL_ESC_MARTHA_MAX; i++) {
        if (a->martha[i] != b->martha[i] || a->martha_sent[i] != b->martha_sent[i]) {
            return false;
        }
    }
    return true;
}

vigil_status vigil__srv_pats_resync(vigil_server *srv, vigil_err *err)
{
    vigil_store_episode_list l;
    memset(&l, 0, sizeof l);
    vigil_status s = vigil_store_episodes_open(srv->store, &vigil__srv_policy_actor, NULL, &l, err);
    if (s != VIGIL_OK) {
        return s;
    }
    /* forget the alerts the memory holds (the store's are read back below);
     * the rest of the state (the observation clock, counts) stays */
    srv_idmap *m = &srv->pats.by_id;
    size_t n_pats = 0;
    for (size_t i = 0; i < m->cap; i++) {
        n_pats += m->keys[i] != 0;
    }
    alert_sig *before = n_pats > 0 ? calloc(n_pats, sizeof *before) : NULL;
    srv_patient **who = n_pats > 0 ? calloc(n_pats, sizeof *who) : NULL;
    if (n_pats > 0 && (before == NULL || who == NULL)) {
        free(before);
        free(who);
        vigil_store_episode_list_fini(&l);
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory reading episodes again");
    }
    size_t k = 0;
    for (size_t i = 0; i < m->cap && k < n_pats; i++) {
        if (m->keys[i] == 0) {
            continue;
        }
        srv_patient *p = m->vals[i];
        who[k] = p;
        sig_of(p, &before[k++]);
        p->esc.episode_open = false;
        memset(&p->esc.episode, 0, sizeof p->esc.episode);
        memset(p->esc.martha, 0, sizeof p->esc.martha);
        p->esc.n_martha = 0;
        p->n_links = 0;
    }
    for (size_t i = 0; i < l.n; i++) {
        vigil_status ps = VIGIL_OK;
        vigil_err pe = {0};
        srv_patient *p =
            vigil__srv_pat_get(srv, &vigil__srv_policy_actor, l.rows[i].patient_id, &ps, &pe);
        if (p == NULL) {
            vigil__srv_log(srv, "store.error", "episode %lld not read again: %s",
                           (long long)l.rows[i].id, pe.msg);
            continue;
        }
        uint64_t n_episodes = p->esc.n_episodes;
        restore_episode(srv, p, &l.rows[i], false);
        p->esc.n_episodes = n_episodes; /* not a new episode: one read again */
    }
    /* a patient whose alerts another node changed: what that node stored
     * with them (its sets, scores, state) is read too */
    size_t changed = 0;
    for (size_t i = 0; i < k; i++) {
        alert_sig after;
        sig_of(who[i], &after);
        if (sig_same(&before[i], &after)) {
            continue;
        }
        changed++;
        vigil_err re = {0};
        if (vigil__srv_pat_refresh(srv, &vigil__srv_policy_actor, who[i], &re) != VIGIL_OK) {
            vigil__srv_log(srv, "store.error", "patient %lld not read again: %s",
                           (long long)who[i]->id, re.msg);
        }
    }
    if (changed > 0) {
        vigil__srv_log(srv, "nodes.resync",
                       "%zu open episode(s) read again; alerts of %zu patient(s) changed by "
                       "another node",
                       l.n, changed);
    }
    free(before);
    free(who);
    vigil_store_episode_list_fini(&l);
    return VIGIL_OK;
}

void vigil__srv_pats_fini(srv_pats *pats)
{
    for (size_t i = 0; i < pats->by_id.cap; i++) {
        if (pats->by_id.keys[i] != 0) {
            srv_patient *p = pats->by_id.vals[i];
            free(p->hist);
            free(p);
        }
    }
    vigil__srv_idmap_fini(&pats->by_id);
    vigil__srv_idmap_fini(&pats->alert_pat);
    vigil__srv_idmap_fini(&pats->call_pat);
    vigil__srv_strmap_fini(&pats->by_nhs);
    vigil__srv_strmap_fini(&pats->by_mrn);
}
