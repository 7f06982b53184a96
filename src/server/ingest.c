/*
 * ingest.c: observation sets in (HL7 ORU^R01, FHIR, the JSON API), in group
 * commits: every set of the group is checked (time, ward scope), given the
 * patient's SpO2 scale, scored with NEWS2 and, when a scorer is loaded and
 * the patient has not opted out, by the AI; then the whole group is stored in
 * one durable transaction (vigil_store_put_obs_batch), each message as one
 * all-or-none unit; then the escalation policy runs for every patient
 * touched. HL7 sets are scored by the AI after their ACK (ai_worker.c); a
 * set posted over HTTP is scored before the response. Also ADT events and
 * the HL7 acknowledgement.
 *
 * Does not: read sockets (listener.c, http.c) or decide who may post
 * (the route's roles, http.c).
 * Invariants (REQ SERVER-ACK-AFTER-COMMIT): a job is completed only after
 * the transaction holding its sets has committed, or with a refusal, in
 * which case nothing of it was stored. Store thread only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"
#include "vigil/mllp.h"

/* ---- refusals -------------------------------------------------------------- */

static void refuse(srv_ingest *ing, vigil_status st, const char *msg)
{
    if (ing->status != VIGIL_OK) {
        return; /* the first reason stands */
    }
    ing->status = st;
    snprintf(ing->msg, sizeof ing->msg, "%s", msg);
}

static void score_ai(vigil_server *srv, const srv_patient *p, const vigil_obs_event *ev,
                     srv_set_out *o)
{
    const vigil_scorer *sc = srv->cfg.scorer;
    if (sc == NULL || sc->score == NULL || (p != NULL && p->opted_out)) {
        return;
    }
    vigil_ai_score *a = calloc(1, sizeof *a);
    if (a == NULL) {
        vigil__srv_log(srv, "ai.error", "out of memory: scored on NEWS2 alone");
        return;
    }
    size_t nh = p != NULL && p->hist != NULL ? p->n_hist : 0;
    vigil_obs_event *hist = nh > 0 ? calloc(nh, sizeof *hist) : NULL;
    if (nh > 0 && hist == NULL) { /* never scored without its history: a different score */
        vigil__srv_log(srv, "ai.error", "out of memory: scored on NEWS2 alone");
        free(a);
        return;
    }
    if (hist != NULL) {
        vigil__srv_ai_events(p->hist, nh, hist);
    }
    vigil_err err = {0};
    vigil_status s = sc->score(sc->ctx, hist, nh, ev, a, &err);
    free(hist);
    if (s != VIGIL_OK || !vigil__srv_ai_ok(a)) {
        vigil__srv_log(srv, "ai.error", "scorer %s: scored on NEWS2 alone",
                       s != VIGIL_OK ? vigil_status_str(s) : "gave a malformed score");
        free(a);
        return;
    }
    o->ai = a;
    o->has_ai = true;
}

/* Same patient by the identifiers a set names (a patient not yet stored). */
static bool same_identity(const vigil_obs_event *a, const vigil_obs_event *b)
{
    return (a->nhs_number[0] != '\0' && strcmp(a->nhs_number, b->nhs_number) == 0) ||
           (a->mrn[0] != '\0' && strcmp(a->mrn, b->mrn) == 0);
}

/* REQ OBS-ASSEMBLE-WINDOW: score set k as assembled with the values
 * measured within the window: the patient's recent values and, for a patient
 * not yet stored, the earlier sets of this job naming the same patient. The
 * set itself is stored as it arrived. */
static vigil_status assemble_and_score(vigil_server *srv, srv_ingest *ing, size_t k, srv_patient *p,
                                       srv_set_out *o, vigil_err *err)
{
    vigil_obs_event *ev = &ing->ev[k];
    vigil_obs_recent local;
    vigil_obs_recent *r = &local;
    if (p != NULL) {
        r = &p->asm_recent;
    } else {
        vigil_obs_recent_init(&local);
        for (size_t i = 0; i < k; i++) {
            if (same_identity(&ing->ev[i], ev)) {
                vigil_obs_recent_note(&local, &ing->ev[i].obs, ing->ev[i].t_ms);
            }
        }
    }
    o->assembled =
        vigil_obs_assemble(r, &ev->obs, ev->t_ms, srv->cfg.assemble_window_ms, &o->whole);
    vigil_status st = vigil_news2_score(&o->whole, &o->news2, err);
    if (st == VIGIL_OK && p != NULL) {
        vigil_obs_recent_note(&p->asm_recent, &ev->obs, ev->t_ms);
    }
    return st;
}

/* A job not stored after its sets were noted for assembly: the patients'
 * recent values are read again from the store when next needed. */
static void forget_assembly(srv_patient **pats, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (pats[k] != NULL) {
            pats[k]->asm_loaded = false;
        }
    }
}

/* Check, scale and score the sets of one job. Returns false when refused. */
static bool prepare_job(vigil_server *srv, srv_ingest *ing, int64_t now_ms, srv_patient **pats)
{
    const vigil_actor who = {ing->who_user, ing->who_reason};
    for (size_t k = 0; k < ing->n && ing->status == VIGIL_OK; k++) {
        vigil_obs_event *ev = &ing->ev[k];
        char msg[VIGIL_ERR_MSG_MAX];
        pats[k] = NULL;
        if (vigil_obs_carried(&ev->obs) == 0) {
            /* REQ OBS-EMPTY-SET-REFUSED: nothing to score is not a set */
            snprintf(msg, sizeof msg,
                     "observation set %zu carries no vital sign (respiration rate, SpO2, "
                     "air or oxygen, systolic BP, pulse, consciousness or temperature)",
                     k + 1);
            refuse(ing, VIGIL_ERR_ARG, msg);
            break;
        }
        if (ev->t_ms > now_ms + srv->cfg.future_skew_ms) {
            char t[32];
            vigil__srv_time_format(ev->t_ms, t);
            snprintf(msg, sizeof msg, "observation set %zu: time %s is in the future", k + 1, t);
            refuse(ing, VIGIL_ERR_ARG, msg);
            break;
        }
        vigil_status st;
        vigil_err err = {0};
        srv_patient *p = vigil__srv_pat_find(srv, &who, ev->nhs_number, ev->mrn, &st, &err);
        if (st != VIGIL_OK) {
            ing->internal = true;
            refuse(ing, st, "the patient could not be looked up; send it again");
            break;
        }
        if (p != NULL && srv->cfg.scorer != NULL && p->hist == NULL) {
            vigil__srv_pat_history(srv, &who, p); /* once: the AI's view of the patient */
        }
        if (ing->check_scope && !vigil__srv_scope_ok(&ing->user, p != NULL ? p->ward : "")) {
            ing->forbidden = true;
            refuse(ing, VIGIL_ERR_DENIED, "the patient is not on a ward in your scope");
            break;
        }
        /* REQ SERVER-SCALE2: the recorded decision, never inferred from the message */
        ev->obs.spo2_scale = p != NULL && p->scale2 ? 2 : 1;
        srv_set_out *o = &ing->out[k];
        o->received_ms = now_ms;
        if (p != NULL) {
            vigil__srv_pat_assembly(srv, &who, p, now_ms);
        }
        st = assemble_and_score(srv, ing, k, p, o, &err);
        if (st != VIGIL_OK) {
            snprintf(msg, sizeof msg, "observation set %zu: %.200s", k + 1, err.msg);
            refuse(ing, st, msg);
            break;
        }
        pats[k] = p;
        if (!ing->ai_async) {
            score_ai(srv, p, ev, o);
        }
    }
    if (ing->status != VIGIL_OK) {
        forget_assembly(pats, ing->n);
    }
    return ing->status == VIGIL_OK;
}

static void free_ai(srv_ingest *ing)
{
    for (size_t k = 0; ing->out != NULL && k < ing->n; k++) {
        free(ing->out[k].ai);
        ing->out[k].ai = NULL;
        ing->out[k].has_ai = false;
    }
}

typedef struct group {
    size_t n_items;
    vigil_store_obs_item *items;
    vigil_store_score *scores;
    vigil_store_ai *ais;
    vigil_store_put *puts;
    srv_patient **pats;
    size_t *first; /* per job: index of its first item, or SIZE_MAX */
} group;

static void group_free(group *g)
{
    free(g->items);
    free(g->scores);
    free(g->ais);
    free(g->puts);
    free(g->pats);
    free(g->first);
}

static bool group_alloc(group *g, size_t n_items, size_t n_jobs)
{
    size_t n = n_items > 0 ? n_items : 1;
    g->items = calloc(n, sizeof *g->items);
    g->scores = calloc(n, sizeof *g->scores);
    g->ais = calloc(n, sizeof *g->ais);
    g->puts = calloc(n, sizeof *g->puts);
    g->pats = calloc(n, sizeof *g->pats);
    g->first = calloc(n_jobs > 0 ? n_jobs : 1, sizeof *g->first);
    return g->items != NULL && g->scores != NULL && g->ais != NULL && g->puts != NULL &&
           g->pats != NULL && g->first != NULL;
}

/* Add the prepared sets of job j to the group. */
static void group_add(group *g, srv_ingest *ing, size_t j, int64_t now_ms)
{
    g->first[j] = g->n_items;
    for (size_t k = 0; k < ing->n; k++) {
        size_t i = g->n_items++;
        srv_set_out *o = &ing->out[k];
        g->scores[i].news2 = o->news2;
        g->scores[i].t_ms = now_ms;
        g->scores[i].assembled = o->assembled != 0 ? &o->whole : NULL;
        if (o->has_ai) {
            g->ais[i] = (vigil_store_ai){
                o->ai->risk, o->ai->prob,
                o->ai->explanation_json[0] != '\0' ? o->ai->explanation_json : NULL,
                o->ai->model_version, o->ai->low_confidence};
            g->scores[i].ai = &g->ais[i];
        }
        g->items[i] = (vigil_store_obs_item){&ing->ev[k], &g->scores[i], (unsigned)(j + 1)};
    }
}

/* After the commit: the job's outcome from its items' results. */
static void job_outcome(vigil_server *srv, srv_ingest *ing, const group *g, size_t j,
                        srv_patient **touched, size_t *n_touched, uint64_t *n_sets)
{
    size_t f = g->first[j];
    for (size_t k = 0; k < ing->n; k++) {
        const vigil_store_put *pu = &g->puts[f + k];
        if (pu->status != VIGIL_OK) {
            char msg[VIGIL_ERR_MSG_MAX];
            snprintf(msg, sizeof msg, "observation set %zu: %.200s", k + 1, pu->msg);
            refuse(ing, pu->status, msg);
            free_ai(ing);
            forget_assembly(g->pats + f, ing->n);
            return;
        }
    }
    const vigil_actor who = {ing->who_user, ing->who_reason};
    for (size_t k = 0; k < ing->n; k++) {
        const vigil_store_put *pu = &g->puts[f + k];
        srv_set_out *o = &ing->out[k];
        o->patient_id = pu->patient_id;
        o->obs_id = pu->obs_id;
        o->score_id = pu->score_id;
        o->duplicate = pu->duplicate;
        srv_patient *p = vigil__srv_idmap_get(&srv->pats.by_id, pu->patient_id);
        if (p == NULL || !p->loaded) {
            vigil_status st;
            vigil_err err = {0};
            p = vigil__srv_pat_get(srv, &who, pu->patient_id, &st, &err);
            if (p == NULL) {
                vigil__srv_log(srv, "store.error", "a stored patient could not be read: %s",
                               vigil_status_str(st));
                continue;
            }
        }
        if (!o->duplicate) {
            (*n_sets)++;
            if (ing->ai_async && srv->cfg.scorer != NULL && srv->cfg.scorer->score != NULL &&
                !p->opted_out && o->score_id > 0) {
                /* before note_set */
                vigil__srv_ai_enqueue(srv, p, &ing->ev[k], o->score_id, false);
                o->ai_pending = true;
            } else if (!ing->ai_async && o->has_ai && srv->cfg.shadow_scorer != NULL &&
                       !p->opted_out && o->score_id > 0) {
                /* silent mode for an HTTP set: the shadow model after the response */
                vigil__srv_ai_enqueue(srv, p, &ing->ev[k], o->score_id, true);
            }
            vigil__srv_pat_note_set(srv, p, &ing->ev[k], o);
            bool seen = false;
            for (size_t t = 0; t < *n_touched && !seen; t++) {
                seen = touched[t] == p;
            }
            if (!seen) {
                touched[(*n_touched)++] = p;
            }
        }
    }
}

void vigil__srv_ingest_commit(vigil_server *srv, srv_job **jobs, size_t n)
{
    int64_t now = vigil__srv_now_ms();
    size_t total = 0;
    for (size_t j = 0; j < n; j++) {
        srv_ingest *ing = jobs[j]->ing;
        ing->status = VIGIL_OK;
        if (ing->out == NULL) {
            ing->out = calloc(ing->n > 0 ? ing->n : 1, sizeof *ing->out);
            if (ing->out == NULL) {
                ing->internal = true;
                refuse(ing, VIGIL_ERR_NOMEM, "out of memory; send it again");
            }
        }
        total += ing->n;
    }
    group g;
    memset(&g, 0, sizeof g);
    srv_patient **touched = calloc(total > 0 ? total : 1, sizeof *touched);
    if (!group_alloc(&g, total, n) || touched == NULL) {
        for (size_t j = 0; j < n; j++) {
            jobs[j]->ing->internal = true;
            refuse(jobs[j]->ing, VIGIL_ERR_NOMEM, "out of memory; send it again");
        }
        group_free(&g);
        free(touched);
        return;
    }
    /* One transaction for the whole group: the patients looked up for it
     * (an audited read each, when not cached) and its sets, one fsync. */
    vigil_err berr = {0};
    bool batched = vigil_store_batch_begin(srv->store, &berr) == VIGIL_OK;
    for (size_t j = 0; j < n; j++) {
        srv_ingest *ing = jobs[j]->ing;
        g.first[j] = SIZE_MAX;
        if (ing->status == VIGIL_OK && prepare_job(srv, ing, now, g.pats + g.n_items)) {
            group_add(&g, ing, j, now);
        } else {
            free_ai(ing);
        }
    }
    if (g.n_items == 0 && batched && vigil_store_batch_commit(srv->store, &berr) != VIGIL_OK) {
        vigil__srv_log(srv, "store.error", "audit records of patient look-ups not stored: %s",
                       vigil_status_str(berr.status));
    }
    if (g.n_items > 0) {
        const srv_ingest *first = NULL;
        for (size_t j = 0; j < n && first == NULL; j++) {
            first = g.first[j] != SIZE_MAX ? jobs[j]->ing : NULL;
        }
        const vigil_actor who = {first->who_user, first->who_reason};
        vigil_err err = {0};
        vigil_status s =
            vigil_store_put_obs_batch(srv->store, &who, g.items, g.n_items, g.puts, &err);
        if (batched && s == VIGIL_OK) {
            s = vigil_store_batch_commit(srv->store, &err); /* REQ SERVER-ACK-AFTER-COMMIT */
        } else if (batched) {
            vigil_store_batch_rollback(srv->store);
        }
        size_t n_touched = 0;
        uint64_t n_sets = 0;
        for (size_t j = 0; j < n; j++) {
            srv_ingest *ing = jobs[j]->ing;
            if (g.first[j] == SIZE_MAX) {
                continue;
            }
            if (s != VIGIL_OK) {
                ing->internal = true;
                refuse(ing, s, "the observations could not be stored; send them again");
                free_ai(ing);
                forget_assembly(g.pats + g.first[j], ing->n);
                continue;
            }
            job_outcome(srv, ing, &g, j, touched, &n_touched, &n_sets);
        }
        if (s != VIGIL_OK) {
            atomic_fetch_add(&srv->stats.store_failures, 1);
            vigil__srv_log(srv, "store.error", "group commit of %zu set(s) failed: %s", g.n_items,
                           vigil_status_str(s));
        } else {
            atomic_fetch_add(&srv->stats.commits, 1);
            atomic_fetch_add(&srv->stats.committed_sets, n_sets);
            uint64_t mg = atomic_load(&srv->stats.max_group);
            if (n > mg) {
                atomic_store(&srv->stats.max_group, (uint64_t)n);
            }
        }
        for (size_t t = 0; t < n_touched; t++) {
            vigil__srv_esc_mark_due(srv, touched[t]); /* after the ACKs (queue.c) */
        }
    }
    group_free(&g);
    free(touched);
}

void vigil__srv_ingest_free(srv_ingest *ing)
{
    if (ing == NULL) {
        return;
    }
    free_ai(ing);
    free(ing->out);
    free(ing->ev);
    free(ing);
}

/* ---- ADT --------------------------------------------------------------------- */

static void bed_of(const vigil_location *l, char out[VIGIL_STORE_NAME_MAX + 1])
{
    if (l->room[0] != '\0' && l->bed[0] != '\0') {
        snprintf(out, VIGIL_STORE_NAME_MAX + 1, "%s/%s", l->room, l->bed);
    } else {
        snprintf(out, VIGIL_STORE_NAME_MAX + 1, "%s", l->bed[0] != '\0' ? l->bed : l->room);
    }
}

/*
 * Set fault from a store failure of an ADT event: one ACK text per kind of
 * error. The store's own checks word their reason for a person and are sent
 * as they are; a database error (err field "sqlite") is never sent: its SQL
 * is logged, and the sender gets the text of its kind (issue 11).
 */
static void adt_fault(vigil_server *srv, vigil_hl7_fault *f, vigil_status s, const vigil_err *e)
{
    f->status = s;
    if (s == VIGIL_ERR_IO || s == VIGIL_ERR_NOMEM || s == VIGIL_ERR_INTERNAL) {
        f->ack = VIGIL_HL7_AR;
        f->code = VIGIL_HL7_E_INTERNAL;
        f->reason = VIGIL_HL7_R_INTERNAL;
        snprintf(f->text, sizeof f->text, "the event could not be stored; send it again");
        atomic_fetch_add(&srv->stats.store_failures, 1);
        vigil__srv_log(srv, "store.error", "ADT event not stored: %s", vigil_status_str(s));
        return;
    }
    bool from_db = strcmp(e->field, "sqlite") == 0 || e->msg[0] == '\0';
    f->ack = VIGIL_HL7_AE;
    if (s == VIGIL_ERR_CONFLICT) {
        f->code = VIGIL_HL7_E_DUPLICATE_KEY;
        f->reason = VIGIL_HL7_R_CONFLICTING_ID;
    } else if (s == VIGIL_ERR_ARG && strcmp(e->field, "t_ms") == 0) {
        f->code = VIGIL_HL7_E_DATA_TYPE;
        f->reason = VIGIL_HL7_R_BAD_TIMESTAMP;
    } else if (s == VIGIL_ERR_NOT_FOUND) {
        f->code = VIGIL_HL7_E_UNKNOWN_KEY;
        f->reason = VIGIL_HL7_R_UNKNOWN_PATIENT;
    } else {
        f->code = VIGIL_HL7_E_INTERNAL;
        f->reason = VIGIL_HL7_R_INTERNAL;
    }
    if (from_db) {
        vigil__srv_log(srv, "hl7.refused", "ADT event refused by the database: %.200s", e->msg);
        snprintf(f->text, sizeof f->text, "%s",
                 s == VIGIL_ERR_CONFLICT
                     ? "the event conflicts with the patient's record in vigil (identifiers, "
                       "admission or times): nothing changed"
                     : "the event could not be applied to the patient's record: nothing changed");
        return;
    }
    snprintf(f->text, sizeof f->text, "%s", e->msg);
}

static vigil_status adt_apply(vigil_server *srv, const vigil_adt_event *a, const char *via,
                              vigil_err *err)
{
    const vigil_actor by = {vigil__srv_hl7_actor.user, via}; /* the peer in the audit record */
    const vigil_actor *who = &by;
    vigil_patient pt;
    memset(&pt, 0, sizeof pt);
    memcpy(pt.nhs_number, a->nhs_number, sizeof pt.nhs_number);
    memcpy(pt.mrn, a->mrn, sizeof pt.mrn);
    pt.sex = a->sex;
    int64_t id = 0;
    vigil_status s = vigil_store_patient_ensure(srv->store, who, &pt, &id, err);
    if (s != VIGIL_OK) {
        return s;
    }
    srv_patient *p = vigil__srv_idmap_get(&srv->pats.by_id, id);
    if (p == NULL || !p->loaded) {
        p = vigil__srv_pat_get(srv, who, id, &s, err);
    } else {
        s = vigil__srv_pat_refresh(srv, who, p, err);
    }
    if (p == NULL || s != VIGIL_OK) {
        return s != VIGIL_OK ? s : VIGIL_ERR_INTERNAL;
    }
    char bed[VIGIL_STORE_NAME_MAX + 1];
    bed_of(&a->location, bed);
    const char *ward = a->location.ward;
    bool moved = ward[0] != '\0' && (strcmp(ward, p->ward) != 0 || strcmp(bed, p->bed) != 0);
    char prior_ward[VIGIL_STORE_NAME_MAX + 1];
    memcpy(prior_ward, p->ward, sizeof prior_ward);
    int64_t adm_before = p->admission_id;
    switch (a->kind) {
    case VIGIL_ADT_ADMIT:
    case VIGIL_ADT_TRANSFER:
        if (p->admission_id == 0) {
            int64_t t = a->kind == VIGIL_ADT_ADMIT && a->has_admit_t ? a->admit_t_ms : a->t_ms;
            int64_t adm = 0;
            s = vigil_store_admit(srv->store, who, id, ward, bed, t, &adm, err);
        } else if (moved) {
            s = vigil_store_move(srv->store, who, p->admission_id, ward, bed, a->t_ms, err);
        }
        break;
    case VIGIL_ADT_UPDATE:
        if (p->admission_id != 0 && moved) {
            s = vigil_store_move(srv->store, who, p->admission_id, ward, bed, a->t_ms, err);
        }
        break;
    case VIGIL_ADT_DISCHARGE:
        if (p->admission_id != 0) {
            int64_t t = a->has_discharge_t ? a->discharge_t_ms : a->t_ms;
            s = vigil_store_discharge(srv->store, who, p->admission_id, t, err);
        }
        break;
    default:
        s = vigil_err_set(err, VIGIL_ERR_ARG, "adt", "unsupported ADT event");
        break;
    }
    if (s == VIGIL_OK) {
        /* issue 14 item 3: a death or an unplanned critical-care admission */
        s = vigil__srv_outcome_from_adt(srv, who, a, id, adm_before, prior_ward, err);
    }
    if (s != VIGIL_OK) {
        return s;
    }
    return vigil__srv_pat_refresh(srv, who, p, err);
}

/* ---- HL7 jobs ---------------------------------------------------------------- */

void vigil__srv_hl7_prepare(vigil_server *srv, srv_job *job)
{
    vigil_hl7_result *r = job->hl7;
    if (r->fault.ack != VIGIL_HL7_AA || r->kind != VIGIL_HL7_KIND_ADT) {
        return;
    }
    vigil_err err = {0};
    vigil_status s = adt_apply(srv, &r->adt, job->via, &err);
    if (s != VIGIL_OK) {
        adt_fault(srv, &r->fault, s, &err);
    }
}

/* The fault for a refused set of observations. */
static void ingest_fault(const srv_ingest *ing, vigil_hl7_fault *f)
{
    f->status = ing->status;
    snprintf(f->text, sizeof f->text, "%s", ing->msg);
    if (ing->internal) {
        f->ack = VIGIL_HL7_AR;
        f->code = VIGIL_HL7_E_INTERNAL;
        f->reason = VIGIL_HL7_R_INTERNAL;
        return;
    }
    f->ack = VIGIL_HL7_AE;
    if (ing->status == VIGIL_ERR_CONFLICT) {
        f->code = VIGIL_HL7_E_DUPLICATE_KEY;
        f->reason = VIGIL_HL7_R_CONFLICTING_ID;
    } else if (strstr(ing->msg, "in the future") != NULL) {
        f->code = VIGIL_HL7_E_DATA_TYPE;
        f->reason = VIGIL_HL7_R_BAD_TIMESTAMP;
    } else {
        f->code = VIGIL_HL7_E_INTERNAL;
        f->reason = VIGIL_HL7_R_INTERNAL;
    }
}

void vigil__srv_hl7_finish(vigil_server *srv, srv_job *job)
{
    vigil_hl7_result *r = job->hl7;
    vigil_hl7_fault fault = r->fault;
    if (job->ing != NULL && job->ing->status != VIGIL_OK && fault.ack == VIGIL_HL7_AA) {
        ingest_fault(job->ing, &fault);
    }
    char ctrl[VIGIL_ID_MAX];
    snprintf(ctrl, sizeof ctrl, "VIGIL%lld.%llu", (long long)(srv->started_ms / 1000),
             (unsigned long long)++srv->ack_seq);
    bool oru = r->kind == VIGIL_HL7_KIND_ORU_R01;
    vigil_hl7_ack_opts o = {.control_id = ctrl,
                            .t_ms = vigil__srv_now_ms(),
                            .app = "VIGIL",
                            .facility = NULL,
                            .warnings = oru ? r->oru.warnings : NULL,
                            .n_warnings = oru ? r->oru.n_warnings : 0};
    if (oru) { /* every result not stored is counted (and named in the ACK) */
        atomic_fetch_add(&srv->stats.hl7_results_refused, r->oru.n_refused);
        atomic_fetch_add(&srv->stats.hl7_results_conflicting, r->oru.n_conflicting);
        atomic_fetch_add(&srv->stats.hl7_results_unused, r->oru.n_unknown + r->oru.n_unused);
        if (r->fault.ack == VIGIL_HL7_AA && r->n_events == 0) {
            atomic_fetch_add(&srv->stats.hl7_oru_no_vitals, 1);
        }
    }
    char ack[VIGIL_HL7_ACK_MAX];
    size_t n = 0;
    vigil_status s = vigil_hl7_ack_build(&r->hdr, &fault, &o, ack, sizeof ack, &n);
    job->ack_code = fault.ack;
    if (s == VIGIL_OK) {
        job->ack = malloc(n + 3);
        size_t fn = 0;
        if (job->ack != NULL && vigil_mllp_encode(ack, n, job->ack, n + 3, &fn) == VIGIL_OK) {
            job->ack_len = fn;
        } else {
            free(job->ack);
            job->ack = NULL;
        }
    }
    if (job->ack == NULL) {
        vigil__srv_log(srv, "hl7.error", "no ACK could be built (%s)", vigil_status_str(s));
    }
    switch (fault.ack) {
    case VIGIL_HL7_AA:
        atomic_fetch_add(&srv->stats.hl7_aa, 1);
        break;
    case VIGIL_HL7_AE:
        atomic_fetch_add(&srv->stats.hl7_ae, 1);
        vigil__srv_log_limited(srv, "hl7.refused", "AE %d %s", (int)fault.code,
                               vigil_hl7_reason_name(fault.reason));
        break;
    default:
        atomic_fetch_add(&srv->stats.hl7_ar, 1);
        vigil__srv_log_limited(srv, "hl7.refused", "AR %d %s", (int)fault.code,
                               vigil_hl7_reason_name(fault.reason));
        break;
    }
}
