/*
 * pg_set_rows.c: the monitoring rows (vigil_store_set_rows, issue 14): each
 * observation set of an admission in a time range with its ward at the
 * time, its vital signs, its patient's administrative sex (as stored
 * now), its NEWS2 total and live AI probability, and the
 * admission's first outcome at or after it and its discharge, in
 * (admission, time) order, from one read snapshot. Not audited (aggregate
 * figures only; vigil/store.h). Works on a read-only connection.
 * Does not: label sets (the caller decides what an outcome within a horizon
 * means), group by ward, or read shadow scores.
 */
#include <math.h>
#include <string.h>

#include "pg_int.h"

/* The statement is q->obs_sql.set_rows, written from the vital-sign table at
 * open (src/store/obs_sql.c): id, patient, admission, time, received, ward,
 * the set's PG_OBS_NCOLS columns from 6, then score, AI, outcome, discharge
 * and the patient's administrative sex. */

static void read_row(pg_stmt *st, vigil_store_set_row *r)
{
    memset(r, 0, sizeof *r);
    r->obs_id = pg_col_i64(st, 0);
    r->patient_id = pg_col_i64(st, 1);
    r->admission_id = pg_col_i64(st, 2);
    r->t_ms = pg_col_i64(st, 3);
    r->received_ms = pg_col_i64(st, 4);
    pg_col_text(st, 5, r->ward, sizeof r->ward);
    pg_obs_read(st, 6, &r->obs);
    const int c = 6 + PG_OBS_NCOLS;
    r->news2_total = pg_col_type(st, c) == PG_NULL ? -1 : pg_col_int(st, c);
    r->ai_prob = pg_col_real(st, c + 1);
    r->outcome_ms = pg_col_type(st, c + 2) == PG_NULL ? -1 : pg_col_i64(st, c + 2);
    r->discharged_ms = pg_col_type(st, c + 3) == PG_NULL ? -1 : pg_col_i64(st, c + 3);
    r->sex = pg_col_sex(st, c + 4);
}

static vigil_status walk(pgc *q, int64_t from_ms, int64_t to_ms, vigil_store_set_row_cb cb,
                         void *ctx, vigil_err *err)
{
    pg_stmt *st = NULL;
    vigil_status s = pg_prep(q, q->obs_sql.set_rows, &st, err);
    if (s != VIGIL_OK) {
        return s;
    }
    pg_bind_i64(st, 1, from_ms);
    pg_bind_i64(st, 2, to_ms);
    for (;;) {
        bool row = false;
        s = pg_step(q, st, &row, "read monitoring rows", err);
        if (s != VIGIL_OK || !row) {
            return s;
        }
        vigil_store_set_row r;
        read_row(st, &r);
        s = cb(ctx, &r, err);
        if (s != VIGIL_OK) {
            pg_done(st);
            return s;
        }
    }
}

vigil_status vigil__pg_set_rows(void *be, int64_t from_ms, int64_t to_ms, vigil_store_set_row_cb cb,
                                void *ctx, vigil_err *err)
{
    pgc *q = be;
    vigil_status s = pg_begin_read(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    return pg_end(q, walk(q, from_ms, to_ms, cb, ctx, err), err);
}

/* The open admission's open bed stay, as vigil_store_patient_current reads
 * it (pg_read.c SQL_CURRENT), without its audit record. */
static const char SQL_PATIENT_WARD[] =
    "SELECT coalesce((SELECT b.ward FROM admission a JOIN bed_stay b ON b.admission_id = a.id\n"
    "  AND b.to_ms IS NULL WHERE a.patient_id = p.id AND a.discharged_ms IS NULL), '')\n"
    "FROM patient p WHERE p.id = ?1";

static vigil_status ward_of(pgc *q, int64_t patient_id, char *out, vigil_err *err)
{
    pg_stmt *st = NULL;
    vigil_status s = pg_prep(q, SQL_PATIENT_WARD, &st, err);
    if (s != VIGIL_OK) {
        return s;
    }
    pg_bind_i64(st, 1, patient_id);
    bool row = false;
    s = pg_step(q, st, &row, "read the patient's ward", err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (!row) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "patient_id", "no such patient");
    }
    pg_col_text(st, 0, out, VIGIL_STORE_NAME_MAX + 1);
    pg_done(st);
    return VIGIL_OK;
}

vigil_status vigil__pg_patient_ward(void *be, int64_t patient_id,
                                    char out_ward[VIGIL_STORE_NAME_MAX + 1], vigil_err *err)
{
    pgc *q = be;
    char ward[VIGIL_STORE_NAME_MAX + 1] = "";
    vigil_status s = pg_begin_read(q, err);
    if (s != VIGIL_OK) {
        return s;
    }
    s = pg_end(q, ward_of(q, patient_id, ward, err), err);
    if (s == VIGIL_OK) {
        memcpy(out_ward, ward, sizeof ward);
    }
    return s;
}
