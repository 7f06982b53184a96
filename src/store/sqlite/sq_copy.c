/*
 * sq_copy.c: the SQLite backend's part of copying a store (migrate.c,
 * `vigil migrate`): its schema's tables and columns, every row of a list of
 * tables in one read snapshot, rows written with their ids as given, and ids
 * advanced (nothing to do here: an INTEGER PRIMARY KEY takes the largest
 * stored id plus one, and an AUTOINCREMENT table's sqlite_sequence is raised
 * by an insert with an explicit larger id).
 *
 * Does not: decide which tables are copied, in which order, or check
 * anything about them (migrate.c does, above the backend table); audit (the
 * copy adds no record: the audit table itself is copied record for record).
 * The SQL names tables and columns migrate.c checked are identifiers; they
 * are quoted ("name") besides. Spec: docs/store.md "Moving a store to
 * PostgreSQL".
 */
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

static vigil_status prepare_text(sq *q, vigil__text *t, sqlite3_stmt **out, vigil_err *err)
{
    if (t->failed) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory building a copy statement");
    }
    int rc = sqlite3_prepare_v2(q->db, t->s, -1, out, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(*out);
        *out = NULL;
        return sq_fail(q, rc, "copy: prepare", err);
    }
    return VIGIL_OK;
}

vigil_status vigil__sq_schema_columns(void *be, vigil__column_cb cb, void *ctx, vigil_err *err)
{
    sq *q = be;
    static const char sql[] =
        "SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p "
        "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
        "ORDER BY m.name, p.cid";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return sq_fail(q, rc, "schema columns", err);
    }
    vigil_status s = VIGIL_OK;
    while (s == VIGIL_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        s = cb(ctx, (const char *)sqlite3_column_text(st, 0),
               (const char *)sqlite3_column_text(st, 1), err);
    }
    if (s == VIGIL_OK && rc != SQLITE_DONE) {
        s = sq_fail(q, sqlite3_extended_errcode(q->db), "schema columns", err);
    }
    sqlite3_finalize(st);
    return s;
}

/* The current row of st as cells (borrowed from st until its next step). */
static void read_cells(sqlite3_stmt *st, vigil__cell *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int col = (int)i;
        memset(&c[i], 0, sizeof c[i]);
        switch (sqlite3_column_type(st, col)) {
        case SQLITE_INTEGER:
            c[i].type = VIGIL__CELL_INT;
            c[i].i = sqlite3_column_int64(st, col);
            break;
        case SQLITE_FLOAT:
            c[i].type = VIGIL__CELL_REAL;
            c[i].r = sqlite3_column_double(st, col);
            break;
        case SQLITE_TEXT:
            c[i].type = VIGIL__CELL_TEXT;
            c[i].p = sqlite3_column_text(st, col);
            c[i].len = (size_t)sqlite3_column_bytes(st, col);
            break;
        case SQLITE_BLOB:
            c[i].type = VIGIL__CELL_BLOB;
            c[i].p = sqlite3_column_blob(st, col);
            c[i].len = (size_t)sqlite3_column_bytes(st, col);
            break;
        default:
            c[i].type = VIGIL__CELL_NULL;
            break;
        }
    }
}

static vigil_status walk_table(sq *q, const vigil__copy_table *t, size_t ti, vigil__row_cb cb,
                               void *ctx, vigil_err *err)
{
    vigil__text sql = {0};
    vigil__copy_select_sql(&sql, t);
    sqlite3_stmt *st = NULL;
    vigil_status s = prepare_text(q, &sql, &st, err);
    free(sql.s);
    vigil__cell *cells = s == VIGIL_OK ? calloc(t->n_cols, sizeof *cells) : NULL;
    if (s == VIGIL_OK && cells == NULL) {
        s = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory walking %s", t->name);
    }
    int rc = SQLITE_DONE;
    while (s == VIGIL_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_cells(st, cells, t->n_cols);
        s = cb(ctx, ti, cells, err);
    }
    if (s == VIGIL_OK && rc != SQLITE_DONE) {
        s = sq_fail(q, sqlite3_extended_errcode(q->db), t->name, err);
    }
    free(cells);
    sqlite3_finalize(st);
    return s;
}

vigil_status vigil__sq_rows_walk(void *be, const vigil__copy_table *tables, size_t n,
                                 vigil__row_cb cb, void *ctx, vigil_err *err)
{
    sq *q = be;
    /* one read transaction: every table from the same snapshot */
    vigil_status s = q->batch ? VIGIL_OK : sq_exec(q, "BEGIN", err);
    for (size_t i = 0; s == VIGIL_OK && i < n; i++) {
        s = walk_table(q, &tables[i], i, cb, ctx, err);
    }
    if (!q->batch && !sqlite3_get_autocommit(q->db)) {
        sqlite3_exec(q->db, s == VIGIL_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    }
    return s;
}

static vigil_status bind_cell(sq *q, sqlite3_stmt *st, int i, const vigil__cell *c, vigil_err *err)
{
    int rc = SQLITE_OK;
    switch (c->type) {
    case VIGIL__CELL_INT:
        rc = sqlite3_bind_int64(st, i, c->i);
        break;
    case VIGIL__CELL_REAL:
        rc = sqlite3_bind_double(st, i, c->r);
        break;
    case VIGIL__CELL_TEXT:
        rc = sqlite3_bind_text64(st, i, c->p, c->len, SQLITE_STATIC, SQLITE_UTF8);
        break;
    case VIGIL__CELL_BLOB:
        rc = sqlite3_bind_blob64(st, i, c->p, c->len, SQLITE_STATIC);
        break;
    default:
        rc = sqlite3_bind_null(st, i);
        break;
    }
    return rc == SQLITE_OK ? VIGIL_OK : sq_fail(q, rc, "copy: bind", err);
}

vigil_status vigil__sq_rows_put(void *be, const vigil__copy_table *t, bool update,
                                const vigil__cell *cells, size_t n_rows, vigil_err *err)
{
    sq *q = be;
    if (!q->batch) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "store", "rows are copied inside a batch only");
    }
    vigil__text sql = {0};
    if (update) {
        vigil__text_str(&sql, "UPDATE ");
        vigil__text_ident(&sql, t->name);
        vigil__text_str(&sql, " SET ");
        for (size_t c = 1; c < t->n_cols; c++) {
            vigil__text_str(&sql, c > 1 ? ", " : "");
            vigil__text_ident(&sql, t->cols[c]);
            vigil__text_str(&sql, " = ?");
        }
        vigil__text_str(&sql, " WHERE ");
        vigil__text_ident(&sql, t->cols[0]);
        vigil__text_str(&sql, " = ?");
    } else {
        vigil__text_str(&sql, "INSERT INTO ");
        vigil__text_ident(&sql, t->name);
        vigil__text_str(&sql, " (");
        for (size_t c = 0; c < t->n_cols; c++) {
            vigil__text_str(&sql, c > 0 ? ", " : "");
            vigil__text_ident(&sql, t->cols[c]);
        }
        vigil__text_str(&sql, ") VALUES (");
        for (size_t c = 0; c < t->n_cols; c++) {
            vigil__text_str(&sql, c > 0 ? ", ?" : "?");
        }
        vigil__text_str(&sql, ")");
    }
    sqlite3_stmt *st = NULL;
    vigil_status s = prepare_text(q, &sql, &st, err);
    free(sql.s);
    for (size_t r = 0; s == VIGIL_OK && r < n_rows; r++) {
        const vigil__cell *row = &cells[r * t->n_cols];
        for (size_t c = 0; s == VIGIL_OK && c < t->n_cols; c++) {
            /* update: the key (cell 0) binds last, after the columns set */
            int at = update ? (c == 0 ? (int)t->n_cols : (int)c) : (int)c + 1;
            s = bind_cell(q, st, at, &row[c], err);
        }
        if (s == VIGIL_OK) {
            s = sq_run(q, st, t->name, err);
        }
        if (s == VIGIL_OK && update && sqlite3_changes(q->db) != 1) {
            s = vigil_err_set(err, VIGIL_ERR_NOT_FOUND, t->name,
                              "copy: no %s row to update with that key", t->name);
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return s;
}

vigil_status vigil__sq_ids_advance(void *be, const char *table, const char *column, vigil_err *err)
{
    (void)be;
    (void)table;
    (void)column;
    (void)err;
    return VIGIL_OK; /* see the top of this file */
}
