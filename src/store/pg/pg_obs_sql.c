/*
 * pg_obs_sql.c: PostgreSQL backend: its dialect of the statements that name
 * obs_set's vital-sign columns (src/store/obs_sql.c writes them from the
 * vital-sign table for every backend, once per connection at open), and the
 * reading and binding of those columns from each table row's column and
 * type, so a new parameter reaches this backend's SQL with no edit here
 * (issue 11).
 *
 * Does not: create or alter the table (pg_schema.c: a new column comes as a
 * new migration), or run anything (pg_obs.c, pg_set_rows.c do).
 *
 * Invariants: a set's columns are always PG_OBS_NCOLS in a row, one per
 * table row in table order, then spo2_scale, age_y, pregnant. The audit row
 * digest's text is SQLite's quote()'s, written in C from the row's columns
 * (vigil__obs_canon_text), so a digest made on SQLite verifies here and the
 * text is the first version's byte for byte (REQ STORE-AUDIT-ROW-CONTENT).
 */
#include <string.h>

#include "pg_int.h"
#include "vigil/vitals.h"

/* PostgreSQL has no expression for SQLite's quote() of a REAL (its float8
 * text is the shortest exact form, not SQLite's printf): the digest's
 * statement selects the columns and pg_obs_canon_text writes the text
 * (vigil__obs_canon_text). A failed INSERT aborts a PostgreSQL transaction:
 * a resent message's row is left alone (ON CONFLICT DO NOTHING) and counted
 * (pg_obs.c put_one). */
static const vigil__obs_dialect dialect = {
    .quote = NULL,
    .insert_tail = " ON CONFLICT (source, source_sender, source_id) WHERE source_id IS NOT NULL "
                   "DO NOTHING RETURNING id",
    .returning_canon = true,
};

vigil_status pg_obs_sql_build(vigil__obs_sql *out, vigil_err *err)
{
    return vigil__obs_sql_build(&dialect, out, err);
}

/* libpq's column and bind calls (pg_core.c) as vigil__col_io's. */
static double col_real(void *st, int i)
{
    return pg_col_real(st, i);
}

static const char *col_text(void *st, int i)
{
    return pg_col_cstr(st, i);
}

static int col_int(void *st, int i)
{
    return pg_col_int(st, i);
}

static bool col_null(void *st, int i)
{
    return pg_col_type(st, i) == PG_NULL;
}

static void bind_real_opt(void *st, int i, double v)
{
    pg_bind_real_opt(st, i, v);
}

static void bind_text_opt(void *st, int i, const char *s)
{
    pg_bind_text_opt(st, i, s);
}

static void bind_int(void *st, int i, int v)
{
    pg_bind_int(st, i, v);
}

static void bind_null(void *st, int i)
{
    pg_bind_null(st, i);
}

static const vigil__col_io io = {
    .col_real = col_real,
    .col_text = col_text,
    .col_int = col_int,
    .col_null = col_null,
    .bind_real_opt = bind_real_opt,
    .bind_text_opt = bind_text_opt,
    .bind_int = bind_int,
    .bind_null = bind_null,
};

void pg_obs_read(pg_stmt *st, int c, vigil_obs *obs)
{
    vigil__obs_read(&io, st, c, obs);
}

void pg_obs_bind(pg_stmt *st, int i, const vigil_obs *obs)
{
    vigil__obs_bind(&io, st, i, obs);
}

vigil_status pg_obs_canon_text(pg_stmt *st, int first, char *buf, size_t cap, size_t *len,
                               vigil_err *err)
{
    return vigil__obs_canon_text(&io, st, first, buf, cap, len, err);
}
