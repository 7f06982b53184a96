/*
 * ai_worker.c: the AI, after the ACK. HL7 observation sets are acknowledged
 * as soon as they (and their NEWS2 scores) are committed; the AI scores them
 * afterwards on this worker thread, and the store thread then adds each AI
 * score to its stored score row (in its background transaction) and runs the
 * escalation policy again for the patients it concerns. So the
 * interface engine's ACK never waits for the model, and a NEWS2 escalation
 * never waits for the AI (docs/server.md "The AI, after the ACK").
 *
 * What a task holds: the patient id, the stored score id, the new set and a
 * copy of the patient's history as it was before the set (what the scorer
 * would have seen inline), so the worker touches no patient state. Results
 * come back as one SRV_JOB_AI per round of scoring; the store thread keeps
 * them (vigil__srv_ai_accept) and stores them in its next background
 * transaction with the escalation they cause (escal.c).
 *
 * Coalescing: when a set of a patient arrives while another of theirs still
 * waits its turn, only the later of the two by measured time is kept (the
 * other keeps NEWS2 alone and is counted in stats.ai_skipped): under a
 * backlog the AI's time goes to each patient's newest set. At ward rates (a
 * set per patient every hour or more) nothing is ever skipped.
 *
 * Does not: decide anything clinical (escal.c does, from what is stored),
 * or score HTTP observations with the live model (a nurse's own entry is
 * scored before its response: ingest.c); in silent mode it scores them with
 * the shadow model only, after the response (shadow_only tasks). Invariants: srv->ai.outstanding counts tasks queued,
 * being scored, or waiting in the store queue; the store thread exits only
 * when it is 0 (every result stored or dropped); opt-outs made while a task
 * waited are honoured when its result arrives.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_int.h"

const vigil_actor vigil__srv_ai_actor = {"vigil-ai", "AI score of a new observation set"};

void vigil__srv_ai_init(vigil_server *srv)
{
    pthread_mutex_init(&srv->ai.mu, NULL);
    pthread_cond_init(&srv->ai.cv, NULL);
}

void vigil__srv_ai_fini(vigil_server *srv)
{
    pthread_mutex_destroy(&srv->ai.mu);
    pthread_cond_destroy(&srv->ai.cv);
}

static void free_task(srv_ai_task *t)
{
    if (t != NULL) {
        free(t->explanation);
        free(t);
    }
}

static void free_tasks(srv_ai_task *t)
{
    while (t != NULL) {
        srv_ai_task *n = t->next;
        free_task(t);
        t = n;
    }
}

bool vigil__srv_ai_idle(vigil_server *srv)
{
    return atomic_load(&srv->ai.outstanding) == 0;
}

/* Tasks are done with (stored or dropped): wake a store thread waiting to finish. */
static void settle(vigil_server *srv, uint64_t n)
{
    atomic_fetch_sub(&srv->ai.outstanding, n);
    pthread_mutex_lock(&srv->q_mu);
    pthread_cond_signal(&srv->q_cv);
    pthread_mutex_unlock(&srv->q_mu);
}

void vigil__srv_ai_drain(vigil_server *srv)
{
    const struct timespec ms = {0, 1000000L};
    while (!vigil__srv_ai_idle(srv)) {
        nanosleep(&ms, NULL);
    }
}

void vigil__srv_ai_enqueue(vigil_server *srv, const srv_patient *p, const vigil_obs_event *ev,
                           int64_t score_id, bool shadow_only)
{
    size_t nh = p->hist != NULL ? p->n_hist : 0;
    srv_ai_task *t = malloc(sizeof *t + nh * sizeof t->hist[0]);
    if (t == NULL) {
        atomic_fetch_add(&srv->stats.ai_failed, 1);
        vigil__srv_log(srv, "ai.error", "out of memory: set scored on NEWS2 alone");
        return;
    }
    memset(t, 0, sizeof *t);
    t->patient_id = p->id;
    t->score_id = score_id;
    t->shadow_only = shadow_only;
    t->ev = *ev;
    t->n_hist = nh;
    if (nh > 0) {
        memcpy(t->hist, p->hist, nh * sizeof t->hist[0]);
    }
    pthread_mutex_lock(&srv->ai.mu);
    srv_ai_task **at = &srv->ai.head;
    /* coalesce only with a task of the same kind: a shadow-only task never
     * takes a live score's place, nor the other way round */
    while (*at != NULL && ((*at)->patient_id != p->id || (*at)->shadow_only != shadow_only)) {
        at = &(*at)->next;
    }
    if (*at != NULL && (*at)->ev.t_ms > ev->t_ms) {
        free_task(t); /* a later set of the patient waits already (a backfilled set) */
        atomic_fetch_add(&srv->stats.ai_skipped, 1);
    } else if (*at != NULL) { /* the patient's earlier set has not started: replace it */
        srv_ai_task *old = *at;
        t->next = old->next;
        *at = t;
        if (srv->ai.tail == old) {
            srv->ai.tail = t;
        }
        free_task(old);
        atomic_fetch_add(&srv->stats.ai_skipped, 1);
    } else {
        if (srv->ai.tail != NULL) {
            srv->ai.tail->next = t;
        } else {
            srv->ai.head = t;
        }
        srv->ai.tail = t;
        atomic_fetch_add(&srv->ai.outstanding, 1);
    }
    pthread_cond_signal(&srv->ai.cv);
    pthread_mutex_unlock(&srv->ai.mu);
}

void vigil__srv_ai_events(const srv_ai_hist *hist, size_t n, vigil_obs_event *out)
{
    for (size_t i = 0; i < n; i++) {
        vigil_obs_event_init(&out[i]);
        out[i].t_ms = hist[i].t_ms;
        out[i].obs = hist[i].obs;
    }
}

/* A scorer's output is used only when it is well formed. */
bool vigil__srv_ai_ok(const vigil_ai_score *a)
{
    if (!isfinite(a->risk) || !(a->prob >= 0.0 && a->prob <= 1.0) ||
        memchr(a->model_version, '\0', sizeof a->model_version) == NULL ||
        a->model_version[0] == '\0' ||
        memchr(a->explanation_json, '\0', sizeof a->explanation_json) == NULL) {
        return false;
    }
    if (a->explanation_json[0] == '\0') {
        return true;
    }
    json_t *j = json_loads(a->explanation_json, JSON_REJECT_DUPLICATES, NULL);
    bool ok = j != NULL && (json_is_object(j) || json_is_array(j));
    json_decref(j);
    return ok;
}

/* Silent mode: the shadow model scores the same set from the same history;
 * its result is only ever stored (REQ SERVER-SHADOW-SILENT). */
static void score_shadow(vigil_server *srv, srv_ai_task *t, const vigil_obs_event *hist,
                         vigil_ai_score *ai)
{
    const vigil_scorer *sc = srv->cfg.shadow_scorer;
    t->shadow_ok = false;
    if (sc == NULL || sc->score == NULL) {
        return;
    }
    memset(ai, 0, sizeof *ai);
    vigil_err err = {0};
    vigil_status s = sc->score(sc->ctx, hist, t->n_hist, &t->ev, ai, &err);
    t->shadow_ok = s == VIGIL_OK && vigil__srv_ai_ok(ai);
    if (t->shadow_ok) {
        t->shadow_risk = ai->risk;
        t->shadow_prob = ai->prob;
        t->shadow_low_confidence = ai->low_confidence;
        memcpy(t->shadow_version, ai->model_version, sizeof t->shadow_version);
    } else {
        vigil__srv_log(srv, "ai.shadow", "shadow scorer %s: not stored",
                       s != VIGIL_OK ? vigil_status_str(s) : "gave a malformed score");
    }
}

/* Store each task's shadow score on its own; a failure is logged and counted,
 * never affects the live score or the escalation. */
static void store_shadows(vigil_server *srv, srv_ai_task *list)
{
    for (srv_ai_task *t = list; t != NULL; t = t->next) {
        srv_patient *p = vigil__srv_idmap_get(&srv->pats.by_id, t->patient_id);
        if (!t->shadow_ok || p == NULL || p->opted_out) {
            continue; /* REQ SERVER-AI-OPTOUT holds for the shadow model too */
        }
        vigil_store_ai ai = {t->shadow_risk, t->shadow_prob, NULL, t->shadow_version,
                             t->shadow_low_confidence};
        vigil_err err = {0};
        vigil_status s =
            vigil_store_put_shadow(srv->store, &vigil__srv_ai_actor, t->score_id, &ai, &err);
        if (s != VIGIL_OK) {
            atomic_fetch_add(&srv->stats.store_failures, 1);
            vigil__srv_log(srv, "store.error", "shadow score for score %lld not stored: %s",
                           (long long)t->score_id, vigil_status_str(s));
        }
    }
}

/* Score t with the scorer; hist and ai are the worker's scratch. */
static void score_one(vigil_server *srv, srv_ai_task *t, vigil_obs_event *hist, vigil_ai_score *ai)
{
    const vigil_scorer *sc = srv->cfg.scorer;
    vigil__srv_ai_events(t->hist, t->n_hist, hist);
    if (t->shadow_only) {
        score_shadow(srv, t, hist, ai);
        return;
    }
    memset(ai, 0, sizeof *ai);
    vigil_err err = {0};
    vigil_status s = sc->score(sc->ctx, hist, t->n_hist, &t->ev, ai, &err);
    t->ok = s == VIGIL_OK && vigil__srv_ai_ok(ai);
    if (t->ok) {
        t->risk = ai->risk;
        t->prob = ai->prob;
        t->low_confidence = ai->low_confidence;
        memcpy(t->model_version, ai->model_version, sizeof t->model_version);
        if (ai->explanation_json[0] != '\0') {
            t->explanation = strdup(ai->explanation_json);
            t->ok = t->explanation != NULL;
        }
    }
    if (!t->ok) {
        atomic_fetch_add(&srv->stats.ai_failed, 1);
        vigil__srv_log(srv, "ai.error", "scorer %s: set scored on NEWS2 alone",
                       s != VIGIL_OK ? vigil_status_str(s) : "gave a malformed score");
    }
    score_shadow(srv, t, hist, ai);
}

static void *ai_main(void *arg)
{
    vigil_server *srv = arg;
    vigil_obs_event *hist = calloc(VIGIL_AI_HISTORY_MAX, sizeof *hist);
    vigil_ai_score *ai = malloc(sizeof *ai);
    for (;;) {
        pthread_mutex_lock(&srv->ai.mu);
        while (srv->ai.head == NULL && !srv->ai.stop) {
            pthread_cond_wait(&srv->ai.cv, &srv->ai.mu);
        }
        srv_ai_task *list = srv->ai.head;
        srv->ai.head = srv->ai.tail = NULL;
        bool stop = srv->ai.stop && list == NULL;
        pthread_mutex_unlock(&srv->ai.mu);
        if (stop) {
            break;
        }
        uint64_t n = 0;
        for (srv_ai_task *t = list; t != NULL; t = t->next, n++) {
            if (hist != NULL && ai != NULL) {
                score_one(srv, t, hist, ai);
            } else {
                t->ok = false;
                atomic_fetch_add(&srv->stats.ai_failed, 1);
                vigil__srv_log(srv, "ai.error", "out of memory: set scored on NEWS2 alone");
            }
        }
        srv_job *job = calloc(1, sizeof *job);
        if (job != NULL) {
            job->kind = SRV_JOB_AI;
            job->arg = list;
        }
        if (job == NULL || !vigil__srv_submit_internal(srv, job)) {
            vigil__srv_log(srv, "ai.error", "%llu AI score(s) not stored (%s)",
                           (unsigned long long)n, job == NULL ? "out of memory" : "stopping");
            free(job);
            free_tasks(list);
            settle(srv, n);
        }
    }
    free(hist);
    free(ai);
    return NULL;
}

vigil_status vigil__srv_ai_start(vigil_server *srv, vigil_err *err)
{
    if (srv->cfg.scorer == NULL || srv->cfg.scorer->score == NULL || srv->ai.running) {
        return VIGIL_OK;
    }
    srv->ai.stop = false;
    if (pthread_create(&srv->ai.thr, NULL, ai_main, srv) != 0) {
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, NULL, "cannot start the AI thread");
    }
    srv->ai.running = true;
    return VIGIL_OK;
}

void vigil__srv_ai_stop(vigil_server *srv)
{
    if (!srv->ai.running) {
        return;
    }
    pthread_mutex_lock(&srv->ai.mu);
    srv->ai.stop = true;
    pthread_cond_signal(&srv->ai.cv);
    pthread_mutex_unlock(&srv->ai.mu);
    pthread_join(srv->ai.thr, NULL);
    srv->ai.running = false;
    /* the store thread has finished: anything left can no longer be stored */
    free_tasks(srv->ai.head);
    srv->ai.head = srv->ai.tail = NULL;
    free_tasks(srv->ai.ready);
    srv->ai.ready = srv->ai.ready_tail = NULL;
}

void vigil__srv_ai_accept(vigil_server *srv, srv_job *job)
{
    srv_ai_task *list = job->arg;
    free(job);
    if (list == NULL) {
        return;
    }
    srv_ai_task *last = list;
    while (last->next != NULL) {
        last = last->next;
    }
    if (srv->ai.ready_tail != NULL) {
        srv->ai.ready_tail->next = list;
    } else {
        srv->ai.ready = list;
    }
    srv->ai.ready_tail = last;
}

bool vigil__srv_ai_ready_pending(const vigil_server *srv)
{
    return srv->ai.ready != NULL;
}

/* Note p's AI view before it changes. */
static void keep_view(srv_ai_view *undo, size_t *n_undo, srv_patient *p)
{
    if (undo != NULL) {
        srv_ai_view *v = &undo[(*n_undo)++];
        v->p = p;
        v->has_ai = p->has_ai;
        v->prob = p->ai_prob;
        v->low_confidence = p->ai_low_confidence;
        memcpy(v->version, p->ai_version, sizeof v->version);
    }
}

void vigil__srv_ai_store_ready(vigil_server *srv, srv_ai_view **undo_out, size_t *n_undo)
{
    srv_ai_task *list = srv->ai.ready;
    srv->ai.ready = srv->ai.ready_tail = NULL;
    *undo_out = NULL;
    *n_undo = 0;
    size_t n = 0;
    for (srv_ai_task *t = list; t != NULL; t = t->next) {
        n++;
    }
    if (n == 0) {
        return;
    }
    srv_ai_view *undo = malloc(n * sizeof *undo);
    *undo_out = undo;
    vigil_store_ai_item *items = calloc(n, sizeof *items);
    srv_ai_task **of = calloc(n, sizeof *of);
    vigil_status *status = calloc(n, sizeof *status);
    size_t m = 0;
    bool ok = items != NULL && of != NULL && status != NULL;
    if (!ok) {
        vigil__srv_log(srv, "ai.error", "out of memory: %zu AI score(s) not stored", n);
    }
    for (srv_ai_task *t = ok ? list : NULL; t != NULL; t = t->next) {
        srv_patient *p = vigil__srv_idmap_get(&srv->pats.by_id, t->patient_id);
        if (p == NULL || p->opted_out) {
            continue; /* REQ SERVER-AI-OPTOUT: an opt-out made meanwhile wins */
        }
        if (t->shadow_only) {
            continue; /* the live score was stored with the set (store_shadows below) */
        }
        if (!t->ok) {
            if (p->news2_score_id == t->score_id && p->has_ai) {
                keep_view(undo, n_undo, p);
                p->has_ai = false; /* the latest set has no AI score: NEWS2 alone */
                vigil__srv_esc_mark_due(srv, p);
            }
            continue;
        }
        items[m] = (vigil_store_ai_item){
            t->score_id, {t->risk, t->prob, t->explanation, t->model_version, t->low_confidence}};
        of[m++] = t;
    }
    vigil_err err = {0};
    vigil_status s =
        m > 0 ? vigil_store_put_ai_batch(srv->store, &vigil__srv_ai_actor, items, m, status, &err)
              : VIGIL_OK;
    if (s != VIGIL_OK) {
        atomic_fetch_add(&srv->stats.store_failures, 1);
        vigil__srv_log(srv, "store.error", "%zu AI score(s) not stored: %s", m,
                       vigil_status_str(s));
        m = 0;
    }
    for (size_t i = 0; i < m; i++) {
        const srv_ai_task *t = of[i];
        if (status[i] != VIGIL_OK) {
            vigil__srv_log(srv, "ai.error", "AI score for score %lld not stored: %s",
                           (long long)t->score_id, vigil_status_str(status[i]));
            continue;
        }
        atomic_fetch_add(&srv->stats.ai_scored, 1);
        srv_patient *p = vigil__srv_idmap_get(&srv->pats.by_id, t->patient_id);
        if (p == NULL || p->news2_score_id != t->score_id) {
            continue; /* a later set is the patient's latest: its own AI score will come */
        }
        keep_view(undo, n_undo, p);
        p->has_ai = true;
        p->ai_prob = t->prob;
        p->ai_low_confidence = t->low_confidence;
        memcpy(p->ai_version, t->model_version, sizeof p->ai_version);
        vigil__srv_esc_mark_due(srv, p); /* the AI may raise the level now */
    }
    free(items);
    free(of);
    free(status);
    store_shadows(srv, list);
    free_tasks(list);
    atomic_fetch_sub(&srv->ai.outstanding, (uint64_t)n);
}
