/*
 * wardlist.c: the ward list (vigil_store_ward_list_get) and the patient view
 * (vigil_store_patient_current_get), assembled above the backend table from
 * its primitive reads (store_int.h: read_txn, ward_beds, patient_place,
 * score_pick, state_at, audit_append), so every backend shows the same rows
 * and writes the same audit records (issue 15 item 1).
 *
 * What a row shows: the bed stay and latest set (ward_beds / patient_place);
 * the latest scored set, and when it is incomplete the latest complete set
 * and the highest incomplete set since (REQ ESC-PARTIAL-NEVER-LOWERS); the
 * patient state at now_ms. Does not: compute due or overdue times (the row
 * carries their inputs), authorise (the server), build JSON (the server).
 *
 * Invariants: each call is one backend transaction holding its reads and
 * its audit record(s); a read whose audit cannot be written fails and
 * returns nothing. REQ WEB-WARD-LIST-AUDIT: one `ward.list` record names
 * every patient shown (their ids; "part i/n" records when they do not fit
 * one). REQ STORE-READ-AUDIT-SYNC: the ward list's transaction commits
 * without an fsync of its own; the patient view's is durable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wardlist_int.h"

/* The score rows of one patient into e (REQ ESC-PARTIAL-NEVER-LOWERS: with
 * an incomplete latest set, what the earlier sets still say). */
static vigil_status read_scores(vigil_store *st, vigil_store_ward_entry *e, vigil_err *err)
{
    const vigil__store_ops *o = st->ops;
    int64_t pid = e->patient.id;
    vigil__score_row r;
    bool found = false;
    vigil_status s = o->score_pick(st->be, pid, VIGIL__SCORE_LATEST, 0, &r, &found, err);
    if (s != VIGIL_OK || !found) {
        return s;
    }
    e->has_score = true;
    e->score_id = r.score_id;
    e->score_obs_ms = r.obs_ms;
    e->score_order_ms = r.order_ms;
    e->news2 = r.news2;
    e->has_ai = r.has_ai;
    e->ai_prob = r.ai_prob;
    e->ai_low_confidence = r.ai_low_confidence;
    if (e->news2.complete) {
        return VIGIL_OK;
    }
    s = o->score_pick(st->be, pid, VIGIL__SCORE_LATEST_COMPLETE, 0, &r, &found, err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (found) {
        e->has_complete_score = true;
        e->complete_obs_ms = r.obs_ms;
        e->complete_news2 = r.news2;
    }
    int64_t after = e->has_complete_score ? e->complete_obs_ms : INT64_MIN;
    s = o->score_pick(st->be, pid, VIGIL__SCORE_PARTIAL_PEAK, after, &r, &found, err);
    if (s == VIGIL_OK && found) {
        e->has_partial_peak = true;
        e->partial_peak_obs_ms = r.obs_ms;
        e->partial_peak_news2 = r.news2;
    }
    return s;
}

/* Everything of a row but its place: scores and state at now_ms. */
static vigil_status fill_row(vigil_store *st, vigil_store_ward_entry *e, int64_t now_ms,
                             vigil_err *err)
{
    vigil_status s = read_scores(st, e, err);
    int64_t until = 0;
    if (s == VIGIL_OK) {
        s = st->ops->state_at(st->be, e->patient.id, now_ms, &e->state, &until, err);
    }
    return s;
}

/* ---- the audit record ------------------------------------------------------ */

/* The ids of rows [from, to) as "12 13 14"; the index after the last that
 * fits in cap bytes (at least one more than from). */
static size_t ids_text(const vigil_store_ward_list *l, size_t from, char *out, size_t cap)
{
    size_t used = 0, i = from;
    out[0] = '\0';
    for (; i < l->n; i++) {
        char one[32];
        int n = snprintf(one, sizeof one, "%s%lld", i > from ? " " : "",
                         (long long)l->rows[i].patient.id);
        if (n < 0 || used + (size_t)n + 1 > cap) {
            break;
        }
        memcpy(out + used, one, (size_t)n + 1);
        used += (size_t)n;
    }
    return i > from ? i : from + 1;
}

/* REQ WEB-WARD-LIST-AUDIT: one `ward.list` record names every patient shown
 * (their ids); a ward whose ids do not fit one record's detail gets one
 * record per part. Replaces a record per patient: the read's cost was its
 * audit (issue 13 item 10). */
static vigil_status audit_ward(vigil_store *st, const vigil_actor *who, const char *ward,
                               const vigil_store_ward_list *l, vigil_err *err)
{
    enum { IDS_MAX = VIGIL_AUDIT_TEXT_MAX - 64 }; /* room for "ward W (part i/n): " */
    char ids[IDS_MAX];
    size_t parts = 0;
    for (size_t i = 0; i < l->n; parts++) {
        i = ids_text(l, i, ids, sizeof ids);
    }
    if (parts == 0) {
        vigil__audit_ev ev;
        vigil__audit_ev_set(&ev, who, "ward.list", "ward", 0, 0, "ward %s: no patients", ward);
        return st->ops->audit_append(st->be, &ev, err);
    }
    size_t part = 0;
    for (size_t i = 0; i < l->n; part++) {
        size_t next = ids_text(l, i, ids, sizeof ids);
        vigil__audit_ev ev;
        if (parts == 1) {
            vigil__audit_ev_set(&ev, who, "ward.list", "ward", (int64_t)(next - i), 0,
                                "ward %s: patients %s", ward, ids);
        } else {
            vigil__audit_ev_set(&ev, who, "ward.list", "ward", (int64_t)(next - i), 0,
                                "ward %s (part %zu/%zu): patients %s", ward, part + 1, parts, ids);
        }
        vigil_status s = st->ops->audit_append(st->be, &ev, err);
        if (s != VIGIL_OK) {
            return s;
        }
        i = next;
    }
    return VIGIL_OK;
}

/* ---- the ward list ------------------------------------------------------------ */

typedef struct ward_call {
    vigil_store *st;
    const vigil_actor *who;
    const char *ward;
    int64_t now_ms;
    vigil_store_ward_list l;
} ward_call;

static vigil_status ward_body(void *ctx, vigil_err *err)
{
    ward_call *c = ctx;
    vigil_store_ward_list_fini(&c->l); /* a backend may run the body again after a retry */
    vigil_status s = c->st->ops->ward_beds(c->st->be, c->ward, &c->l, err);
    for (size_t i = 0; s == VIGIL_OK && i < c->l.n; i++) {
        s = fill_row(c->st, &c->l.rows[i], c->now_ms, err);
    }
    return s == VIGIL_OK ? audit_ward(c->st, c->who, c->ward, &c->l, err) : s;
}

vigil_status vigil__store_ward_list(vigil_store *st, const vigil_actor *who, const char *ward,
                                    int64_t now_ms, vigil_store_ward_list *out, vigil_err *err)
{
    ward_call c = {st, who, ward, now_ms, {0, NULL}};
    vigil_status s = st->ops->read_txn(st->be, false, ward_body, &c, err);
    if (s != VIGIL_OK) {
        vigil_store_ward_list_fini(&c.l);
        return s;
    }
    *out = c.l;
    return VIGIL_OK;
}

/* ---- one patient now ------------------------------------------------------------ */

typedef struct current_call {
    vigil_store *st;
    const vigil_actor *who;
    int64_t patient_id;
    int64_t now_ms;
    vigil_store_patient_current c;
} current_call;

static vigil_status current_body(void *ctx, vigil_err *err)
{
    current_call *k = ctx;
    vigil_store *st = k->st;
    vigil_status s = st->ops->patient_place(st->be, k->patient_id, &k->c, err);
    if (s == VIGIL_OK) {
        s = fill_row(st, &k->c.entry, k->now_ms, err);
    }
    if (s != VIGIL_OK) {
        return s;
    }
    k->c.score_id = k->c.entry.has_score ? k->c.entry.score_id : 0;
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, k->who, "patient.current", "patient", k->patient_id, k->patient_id,
                        "admission, bed, latest score, state");
    return st->ops->audit_append(st->be, &ev, err);
}

vigil_status vigil__store_patient_current(vigil_store *st, const vigil_actor *who,
                                          int64_t patient_id, int64_t now_ms,
                                          vigil_store_patient_current *out, vigil_err *err)
{
    current_call k;
    memset(&k, 0, sizeof k);
    k.st = st;
    k.who = who;
    k.patient_id = patient_id;
    k.now_ms = now_ms;
    vigil_status s = st->ops->read_txn(st->be, true, current_body, &k, err);
    if (s == VIGIL_OK) {
        *out = k.c;
    }
    return s;
}
