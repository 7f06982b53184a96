/*
 * sq_outcome.c: deterioration outcomes (unplanned critical-care admission,
 * cardiac arrest call, death, sepsis diagnosis) linked to admissions, for
 * local validation and live monitoring (issue 14; schema: migration 6).
 * Each write and each read appends its audit record in the same
 * transaction. Does not decide what counts as an outcome of an alert: the
 * evaluation reads outcomes and alerts side by side.
 */
#include <string.h>

#include "sqlite_int.h"

static const char SQL_OUT_ADM_OF[] =
    "SELECT admitted_ms FROM admission WHERE id = ?1 AND patient_id = ?2";
static const char SQL_OUT_LATEST_ADM[] =
    "SELECT id, admitted_ms FROM admission WHERE patient_id = ?1 ORDER BY admitted_ms DESC, id "
    "DESC LIMIT 1";
static const char SQL_OUT_INSERT[] =
    "INSERT INTO outcome (patient_id, admission_id, kind, t_ms, recorded_ms, source, "
    "recorded_by, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char SQL_OUT_LIST[] =
    "SELECT id, patient_id, admission_id, kind, t_ms, recorded_ms, source, recorded_by, note "
    "FROM outcome WHERE patient_id = ?1 ORDER BY t_ms, id LIMIT ?2";

/* The outcome rule's primitives (vigil__outcome_io, store_int.h):
 * outcome.c decides, inside this backend's open write transaction. */
static vigil_status io_admission(void *be, int64_t patient_id, int64_t adm, bool *found,
                                 int64_t *out_adm, int64_t *admitted_ms, vigil_err *err)
{
    sq *q = be;
    sqlite3_stmt *st = NULL;
    vigil_status s = sq_prep(q, adm != 0 ? SQL_OUT_ADM_OF : SQL_OUT_LATEST_ADM, &st, err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (adm != 0) {
        sq_bind_i64(st, 1, adm);
        sq_bind_i64(st, 2, patient_id);
    } else {
        sq_bind_i64(st, 1, patient_id);
    }
    s = sq_step(q, st, found, "find admission", err);
    if (s != VIGIL_OK || !*found) {
        return s;
    }
    if (adm != 0) {
        *out_adm = adm;
        *admitted_ms = sq_col_i64(st, 0);
    } else {
        *out_adm = sq_col_i64(st, 0);
        *admitted_ms = sq_col_i64(st, 1);
    }
    sq_done(st);
    return VIGIL_OK;
}

static vigil_status io_insert(void *be, const vigil_actor *who, int64_t patient_id, int64_t adm,
                              vigil_store_outcome_kind kind, int64_t t_ms, int64_t recorded_ms,
                              const char *source, const char *note, int64_t *out_id,
                              vigil_err *err)
{
    sq *q = be;
    sqlite3_stmt *st = NULL;
    vigil_status s = sq_prep(q, SQL_OUT_INSERT, &st, err);
    if (s != VIGIL_OK) {
        return s;
    }
    sq_bind_i64(st, 1, patient_id);
    sq_bind_i64(st, 2, adm);
    sq_bind_text(st, 3, vigil_store_outcome_kind_name(kind));
    sq_bind_i64(st, 4, t_ms);
    sq_bind_i64(st, 5, recorded_ms);
    sq_bind_text(st, 6, source);
    sq_bind_text(st, 7, who->user);
    sq_bind_text(st, 8, note);
    s = sq_run(q, st, "record outcome (one per admission, kind and time)", err);
    if (s == VIGIL_OK) {
        *out_id = sqlite3_last_insert_rowid(q->db);
    }
    return s;
}

static vigil_status io_audit(void *be, const vigil__audit_ev *ev, vigil_err *err)
{
    return sq_audit(be, ev, err);
}

static const vigil__outcome_io outcome_io = {
    .admission = io_admission,
    .insert = io_insert,
    .audit = io_audit,
};

vigil_status vigil__sq_outcome_record(void *be, const vigil_actor *who, int64_t patient_id,
                                      int64_t admission_id, vigil_store_outcome_kind kind,
                                      int64_t t_ms, int64_t recorded_ms, const char *source,
                                      const char *note, int64_t *out_id, vigil_err *err)
{
    sq *q = be;
    int64_t id = 0;
    vigil_status s = sq_begin(q, err);
    if (s == VIGIL_OK) {
        s = sq_end(q,
                   vigil__outcome_record(&outcome_io, q, who, patient_id, admission_id, kind,
                                         t_ms, recorded_ms, source, note, &id, err),
                   err);
    }
    if (s == VIGIL_OK) {
        *out_id = id;
    }
    return s;
}

static vigil_status list_txn(sq *q, const vigil_actor *who, int64_t patient_id,
                             vigil_store_outcome *out, size_t cap, size_t *out_n, vigil_err *err)
{
    sqlite3_stmt *st = NULL;
    vigil_status s = sq_prep(q, SQL_OUT_LIST, &st, err);
    if (s != VIGIL_OK) {
        return s;
    }
    sq_bind_i64(st, 1, patient_id);
    sq_bind_i64(st, 2, (int64_t)cap);
    size_t n = 0;
    for (;;) {
        bool row = false;
        s = sq_step(q, st, &row, "list outcomes", err);
        if (s != VIGIL_OK || !row) {
            break;
        }
        vigil_store_outcome *o = &out[n++];
        memset(o, 0, sizeof *o);
        char kind[32];
        o->id = sq_col_i64(st, 0);
        o->patient_id = sq_col_i64(st, 1);
        o->admission_id = sq_col_i64(st, 2);
        sq_col_text(st, 3, kind, sizeof kind);
        o->kind = (vigil_store_outcome_kind)vigil_store_outcome_kind_from_name(kind);
        o->t_ms = sq_col_i64(st, 4);
        o->recorded_ms = sq_col_i64(st, 5);
        sq_col_text(st, 6, o->source, sizeof o->source);
        sq_col_text(st, 7, o->recorded_by, sizeof o->recorded_by);
        sq_col_text(st, 8, o->note, sizeof o->note);
        if (n == cap) {
            sq_done(st);
            break;
        }
    }
    if (s != VIGIL_OK) {
        return s;
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "outcome.list", "patient", patient_id, patient_id, "%zu outcomes",
                        n);
    s = sq_audit(q, &ev, err);
    if (s == VIGIL_OK) {
        *out_n = n;
    }
    return s;
}

vigil_status vigil__sq_outcomes_of(void *be, const vigil_actor *who, int64_t patient_id,
                                   vigil_store_outcome *out, size_t cap, size_t *out_n,
                                   vigil_err *err)
{
    sq *q = be;
    vigil_status s = sq_begin(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    return sq_end(q, list_txn(q, who, patient_id, out, cap, out_n, err), err);
}

/* ---- silent mode: shadow model scores ------------------------------------ */

static const char SQL_SHADOW_SCORE_OF[] =
    "SELECT o.patient_id FROM score s JOIN obs_set o ON o.id = s.obs_set_id WHERE s.id = ?1";
static const char SQL_SHADOW_INSERT[] =
    "INSERT INTO shadow_score (score_id, model_version, risk, prob, low_confidence, stored_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

static vigil_status shadow_txn(sq *q, const vigil_actor *who, int64_t score_id,
                               const vigil_store_ai *ai, vigil_err *err)
{
    sqlite3_stmt *st = NULL;
    vigil_status s = sq_prep(q, SQL_SHADOW_SCORE_OF, &st, err);
    if (s != VIGIL_OK) {
        return s;
    }
    sq_bind_i64(st, 1, score_id);
    bool row = false;
    s = sq_step(q, st, &row, "read score", err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (!row) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "score_id", "no score %lld",
                             (long long)score_id);
    }
    int64_t patient_id = sq_col_i64(st, 0);
    sq_done(st);
    s = sq_prep(q, SQL_SHADOW_INSERT, &st, err);
    if (s != VIGIL_OK) {
        return s;
    }
    sq_bind_i64(st, 1, score_id);
    sq_bind_text(st, 2, ai->model_version);
    sqlite3_bind_double(st, 3, ai->risk);
    sqlite3_bind_double(st, 4, ai->prob);
    sqlite3_bind_int(st, 5, ai->low_confidence ? 1 : 0);
    sq_bind_i64(st, 6, vigil__store_now_ms());
    s = sq_run(q, st, "store shadow score (one per score and model)", err);
    if (s != VIGIL_OK) {
        return s;
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "score.shadow", "score", score_id, patient_id,
                        "shadow %.4f model %s (silent: not shown)", ai->prob, ai->model_version);
    return sq_audit(q, &ev, err);
}

vigil_status vigil__sq_put_shadow(void *be, const vigil_actor *who, int64_t score_id,
                                  const vigil_store_ai *ai, vigil_err *err)
{
    sq *q = be;
    vigil_status s = sq_begin(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    return sq_end(q, shadow_txn(q, who, score_id, ai, err), err);
}
