/*
 * sq_obs_sql.c: SQLite backend: its dialect of the statements that name
 * obs_set's vital-sign columns (src/store/obs_sql.c writes them from the
 * vital-sign table for every backend), and the reading and binding of
 * those columns from each table row's column and type, so a new parameter
 * reaches the store's SQL with no edit here (issue 11).
 *
 * Does not: create or alter the table (sq_schema.c; docs/core.md "Adding a
 * vital sign"), or run anything: the statements are written once per
 * connection at open (never per set: the ACK path only looks them up in
 * the statement cache) and run by sq_obs.c and sq_set_rows.c.
 *
 * Invariants: a set's columns are always SQ_OBS_NCOLS in a row, one per
 * table row in table order, then spo2_scale, age_y, pregnant.
 */
#include <stdio.h>

#include "sqlite_int.h"
#include "vigil/vitals.h"

/* SQLite has quote() itself, for every kind of column. */
static void quote(vigil__sbuf *b, const char *col, vigil__sql_kind kind)
{
    (void)kind;
    vigil__sb_put(b, "quote(%s)", col);
}

static const vigil__obs_dialect dialect = {
    .quote = quote,
    .insert_tail = "",
};

vigil_status sq_obs_sql_build(sq_obs_sql *out, vigil_err *err)
{
    return vigil__obs_sql_build(&dialect, out, err);
}

/* sqlite3's column and bind calls as vigil__col_io's (obs_sql.h). */
static double col_real(void *st, int i)
{
    return sq_col_real(st, i);
}

static const char *col_text(void *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static int col_int(void *st, int i)
{
    return sqlite3_column_int(st, i);
}

static bool col_null(void *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL;
}

static void bind_real_opt(void *st, int i, double v)
{
    sq_bind_real_opt(st, i, v);
}

static void bind_text_opt(void *st, int i, const char *s)
{
    sq_bind_text_opt(st, i, s);
}

static void bind_int(void *st, int i, int v)
{
    sqlite3_bind_int(st, i, v);
}

static void bind_null(void *st, int i)
{
    sqlite3_bind_null(st, i);
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

void sq_obs_read(sqlite3_stmt *st, int c, vigil_obs *obs)
{
    vigil__obs_read(&io, st, c, obs);
}

void sq_obs_bind(sqlite3_stmt *st, int i, const vigil_obs *obs)
{
    vigil__obs_bind(&io, st, i, obs);
}
