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
 * Rows in memory (docs/store.md, "The ward list's rows in memory"): a
 * patient's scores and state are kept after they are read, keyed by patient
 * id, and used again until a write through this handle may have changed
 * them (store.c calls vigil__wl_wrote after every write: the patient's row,
 * or every row when the write names no patient), another connection has
 * committed (the backend's data_version), or now_ms leaves the interval the
 * state holds for (a plan's start or expiry). The place (bed stay, latest
 * set's time) is read from the backend every time, in the same transaction
 * as the audit record. Not used inside a batch (rows it wrote may still roll
 * back) or when the store was opened with VIGIL_STORE_NO_ROW_CACHE.
 *
 * Invariants: each call is one backend transaction holding its reads and
 * its audit record(s); a read whose audit cannot be written fails and
 * returns nothing; a row served from memory equals the one the backend
 * would give in that transaction (test: cached_rows_equal_fresh_rows_after_
 * every_kind_of_write). REQ WEB-WARD-LIST-AUDIT: one `ward.list` record names
 * every patient shown (their ids; "part i/n" records when they do not fit
 * one). REQ STORE-READ-AUDIT-SYNC: the ward list's transaction commits
 * without an fsync of its own; the patient view's is durable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wardlist_int.h"

/* ---- rows in memory --------------------------------------------------------- */

#define WL_SLOTS_MIN 64
#define WL_SLOTS_MAX 8192 /* 4,096 patients; past that, every row is read again */

typedef struct wl_slot {
    uint32_t gen;       /* the key is live when equal to the cache's */
    bool valid;         /* e's scores and state are as stored */
    int64_t patient_id; /* the key */
    int64_t from_ms;    /* the state holds for now_ms in [from_ms, until_ms) */
    int64_t until_ms;
    vigil_store_ward_entry e; /* its scores and state (not its place) */
} wl_slot;

struct vigil__wl_cache {
    uint32_t gen;
    size_t cap;           /* slots, a power of two */
    size_t n;             /* live keys */
    bool have_version;    /* data_version below was seen */
    int64_t data_version; /* the backend's, when the rows were last checked */
    uint64_t hits;        /* rows served from memory (test support: vigil__wl_hits) */
    wl_slot *slots;
};

static size_t slot_of(int64_t patient_id, size_t cap)
{
    uint64_t h = (uint64_t)patient_id * UINT64_C(0x9E3779B97F4A7C15); /* Fibonacci hashing */
    return (size_t)(h >> 32) & (cap - 1);
}

static void wl_clear(vigil__wl_cache *c)
{
    c->n = 0;
    if (++c->gen == 0) { /* wrapped: no stale slot may match again */
        memset(c->slots, 0, c->cap * sizeof *c->slots);
        c->gen = 1;
    }
}

/* The live slot of patient_id, or NULL. */
static wl_slot *wl_find(vigil__wl_cache *c, int64_t patient_id)
{
    if (c == NULL) {
        return NULL;
    }
    for (size_t i = slot_of(patient_id, c->cap);; i = (i + 1) & (c->cap - 1)) {
        wl_slot *w = &c->slots[i];
        if (w->gen != c->gen) {
            return NULL; /* keys are never removed one by one: an empty slot ends the probe */
        }
        if (w->patient_id == patient_id) {
            return w;
        }
    }
}

/* Room for one more key at most half full: grow, or forget every row. */
static void wl_room(vigil__wl_cache *c)
{
    if ((c->n + 1) * 2 <= c->cap) {
        return;
    }
    wl_slot *bigger = c->cap < WL_SLOTS_MAX ? calloc(c->cap * 2, sizeof *bigger) : NULL;
    if (bigger == NULL) {
        wl_clear(c);
        return;
    }
    size_t cap = c->cap * 2;
    for (size_t k = 0; k < c->cap; k++) {
        const wl_slot *w = &c->slots[k];
        if (w->gen != c->gen) {
            continue;
        }
        size_t i = slot_of(w->patient_id, cap);
        while (bigger[i].gen == 1) {
            i = (i + 1) & (cap - 1);
        }
        bigger[i] = *w;
        bigger[i].gen = 1;
    }
    free(c->slots);
    c->slots = bigger;
    c->cap = cap;
    c->gen = 1;
}

/* Keep e's scores and state, read at now_ms and holding until until_ms. */
static void wl_put(vigil_store *st, const vigil_store_ward_entry *e, int64_t now_ms,
                   int64_t until_ms)
{
    vigil__wl_cache *c = st->wl;
    if (c == NULL) {
        return;
    }
    wl_slot *w = wl_find(c, e->patient.id);
    if (w == NULL) {
        wl_room(c);
        size_t i = slot_of(e->patient.id, c->cap);
        while (c->slots[i].gen == c->gen) {
            i = (i + 1) & (c->cap - 1);
        }
        w = &c->slots[i];
        w->gen = c->gen;
        w->patient_id = e->patient.id;
        c->n++;
    }
    w->valid = true;
    w->from_ms = now_ms;
    w->until_ms = until_ms;
    w->e = *e;
}

/* e's scores and state from memory when they hold at now_ms. */
static bool wl_get(vigil_store *st, vigil_store_ward_entry *e, int64_t now_ms)
{
    const wl_slot *w = wl_find(st->wl, e->patient.id);
    if (w == NULL || !w->valid || now_ms < w->from_ms || now_ms >= w->until_ms) {
        return false;
    }
    const vigil_store_ward_entry place = *e;
    *e = w->e;
    e->patient = place.patient;
    e->admission_id = place.admission_id;
    memcpy(e->bed, place.bed, sizeof e->bed);
    e->bed_since_ms = place.bed_since_ms;
    e->last_obs_id = place.last_obs_id;
    e->last_obs_ms = place.last_obs_ms;
    st->wl->hits++;
    return true;
}

uint64_t vigil__wl_hits(const vigil_store *st)
{
    return st->wl != NULL ? st->wl->hits : 0;
}

/* Inside the read transaction: whether rows may be kept and used, having
 * forgotten them all when another connection has committed since. */
static vigil_status wl_begin(vigil_store *st, bool *use, vigil_err *err)
{
    *use = false;
    if ((st->flags & VIGIL_STORE_NO_ROW_CACHE) != 0 || st->in_batch) {
        return VIGIL_OK;
    }
    if (st->wl == NULL) {
        vigil__wl_cache *c = calloc(1, sizeof *c);
        wl_slot *slots = calloc(WL_SLOTS_MIN, sizeof *slots);
        if (c == NULL || slots == NULL) {
            free(c);
            free(slots);
            return VIGIL_OK; /* no memory for rows: every row is read */
        }
        c->gen = 1;
        c->cap = WL_SLOTS_MIN;
        c->slots = slots;
        st->wl = c;
    }
    int64_t v = 0;
    vigil_status s = st->ops->data_version(st->be, &v, err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (!st->wl->have_version || v != st->wl->data_version) {
        wl_clear(st->wl);
        st->wl->have_version = true;
        st->wl->data_version = v;
    }
    *use = true;
    return VIGIL_OK;
}

vigil_status vigil__wl_wrote(vigil_store *st, int64_t patient_id, vigil_status s)
{
    vigil__wl_cache *c = st->wl;
    if (c == NULL) {
        return s;
    }
    if (patient_id <= 0) {
        wl_clear(c);
        return s;
    }
    wl_slot *w = wl_find(c, patient_id);
    if (w != NULL) {
        w->valid = false;
    }
    return s;
}

void vigil__wl_wrote_obs(vigil_store *st, const vigil_store_put *out, size_t n, vigil_status s)
{
    if (s != VIGIL_OK) {
        (void)vigil__wl_wrote(st, 0, s);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        /* a refused item wrote nothing; a stored one names its patient */
        if (out[i].status == VIGIL_OK) {
            (void)vigil__wl_wrote(st, out[i].patient_id, s);
        }
    }
}

void vigil__wl_wrote_ai(vigil_store *st, const vigil_store_ai_item *items, size_t n,
                        vigil_status s)
{
    vigil__wl_cache *c = st->wl;
    if (c == NULL) {
        return;
    }
    if (s != VIGIL_OK) {
        wl_clear(c);
        return;
    }
    /* an AI result changes only its score's row: the rows showing that score */
    for (size_t k = 0; k < c->cap; k++) {
        wl_slot *w = &c->slots[k];
        for (size_t i = 0; w->gen == c->gen && w->valid && i < n; i++) {
            if (w->e.has_score && w->e.score_id == items[i].score_id) {
                w->valid = false;
            }
        }
    }
}

void vigil__wl_free(vigil_store *st)
{
    if (st->wl != NULL) {
        free(st->wl->slots);
        free(st->wl);
        st->wl = NULL;
    }
}

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

/* Everything of a row but its place: scores and state at now_ms, from
 * memory when use and they hold, else read (and kept when use). */
static vigil_status fill_row(vigil_store *st, bool use, vigil_store_ward_entry *e, int64_t now_ms,
                             vigil_err *err)
{
    if (use && wl_get(st, e, now_ms)) {
        return VIGIL_OK;
    }
    vigil_status s = read_scores(st, e, err);
    int64_t until = 0;
    if (s == VIGIL_OK) {
        s = st->ops->state_at(st->be, e->patient.id, now_ms, &e->state, &until, err);
    }
    if (s == VIGIL_OK && use) {
        wl_put(st, e, now_ms, until);
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
    bool use = false;
    vigil_status s = wl_begin(c->st, &use, err);
    if (s == VIGIL_OK) {
        s = c->st->ops->ward_beds(c->st->be, c->ward, &c->l, err);
    }
    for (size_t i = 0; s == VIGIL_OK && i < c->l.n; i++) {
        s = fill_row(c->st, use, &c->l.rows[i], c->now_ms, err);
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
    bool use = false;
    vigil_status s = wl_begin(st, &use, err);
    if (s == VIGIL_OK) {
        s = st->ops->patient_place(st->be, k->patient_id, &k->c, err);
    }
    if (s == VIGIL_OK) {
        s = fill_row(st, use, &k->c.entry, k->now_ms, err);
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
