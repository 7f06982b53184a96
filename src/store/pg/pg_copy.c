/*
 * pg_copy.c: the PostgreSQL backend's part of copying a store (migrate.c,
 * `vigil migrate`): its schema's tables and columns, every row of a list of
 * tables in one snapshot (REPEATABLE READ, rows streamed one at a time:
 * libpq's single-row mode, so a large audit table is never held whole),
 * rows written with their ids as given (multi-row INSERTs, parameters as
 * text, BYTEA binary), and the identity sequences moved past the ids written.
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

#include "pg_int.h"

#define PG_MAX_BIND 65535 /* parameters of one statement (the protocol's limit) */
#define PG_OID_BYTEA 17
#define PG_OID_INT8 20
#define PG_OID_INT2 21
#define PG_OID_INT4 23
#define PG_OID_FLOAT4 700
#define PG_OID_FLOAT8 701

static void tx_param(vigil__text *t, size_t n)
{
    char b[24];
    snprintf(b, sizeof b, "$%zu", n);
    vigil__text_str(t, b);
}

static vigil_status text_ok(const vigil__text *t, vigil_err *err)
{
    return t->failed ? vigil_err_set(err, VIGIL_ERR_NOMEM, NULL,
                                     "out of memory building a copy statement")
                     : VIGIL_OK;
}

vigil_status vigil__pg_schema_columns(void *be, vigil__column_cb cb, void *ctx, vigil_err *err)
{
    pgc *q = be;
    vigil_status fs = pg_defer_flush(q, err);
    if (fs != VIGIL_OK) {
        return fs;
    }
    PGresult *r = PQexec(q->conn, "SELECT c.relname, a.attname FROM pg_class c "
                                  "JOIN pg_namespace n ON n.oid = c.relnamespace "
                                  "JOIN pg_attribute a ON a.attrelid = c.oid "
                                  "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
                                  "AND a.attnum > 0 AND NOT a.attisdropped "
                                  "AND c.relname <> 'vigil_schema_version' "
                                  "ORDER BY c.relname COLLATE \"C\", a.attnum");
    vigil_status s = VIGIL_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        s = pg_fail(q, r, "schema columns", err);
    }
    for (int i = 0; s == VIGIL_OK && i < PQntuples(r); i++) {
        s = cb(ctx, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), err);
    }
    PQclear(r);
    return s;
}

/* Field c of a single-row result as a cell; a BYTEA is unescaped into
 * *blob (the caller frees it with PQfreemem). */
static vigil_status read_cell(PGresult *r, int c, vigil__cell *out, unsigned char **blob,
                              vigil_err *err)
{
    memset(out, 0, sizeof *out);
    if (PQgetisnull(r, 0, c)) {
        out->type = VIGIL__CELL_NULL;
        return VIGIL_OK;
    }
    const char *v = PQgetvalue(r, 0, c);
    switch (PQftype(r, c)) {
    case PG_OID_INT8:
    case PG_OID_INT4:
    case PG_OID_INT2:
        out->type = VIGIL__CELL_INT;
        out->i = strtoll(v, NULL, 10);
        return VIGIL_OK;
    case PG_OID_FLOAT8:
    case PG_OID_FLOAT4:
        out->type = VIGIL__CELL_REAL; /* the server writes the shortest exact text */
        out->r = strtod(v, NULL);
        return VIGIL_OK;
    case PG_OID_BYTEA: {
        size_t n = 0;
        *blob = PQunescapeBytea((const unsigned char *)v, &n);
        if (*blob == NULL) {
            return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory reading a BYTEA");
        }
        out->type = VIGIL__CELL_BLOB;
        out->p = *blob;
        out->len = n;
        return VIGIL_OK;
    }
    default:
        out->type = VIGIL__CELL_TEXT;
        out->p = v;
        out->len = (size_t)PQgetlength(r, 0, c);
        return VIGIL_OK;
    }
}

/* Run sql and give each row to cb, one at a time (single-row mode). */
static vigil_status walk_sql(pgc *q, const char *sql, size_t ti, size_t n_cols, vigil__row_cb cb,
                             void *ctx, vigil_err *err)
{
    vigil_status fs = pg_defer_flush(q, err);
    if (fs != VIGIL_OK) {
        return fs;
    }
    if (!PQsendQuery(q->conn, sql) || !PQsetSingleRowMode(q->conn)) {
        return pg_fail(q, NULL, "copy: walk", err);
    }
    vigil__cell *cells = calloc(n_cols, sizeof *cells);
    unsigned char **blobs = calloc(n_cols, sizeof *blobs);
    vigil_status s = VIGIL_OK;
    if (cells == NULL || blobs == NULL) {
        s = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory walking rows");
    }
    PGresult *r;
    while ((r = PQgetResult(q->conn)) != NULL) {
        ExecStatusType rs = PQresultStatus(r);
        if (s == VIGIL_OK && rs == PGRES_SINGLE_TUPLE) {
            for (size_t c = 0; s == VIGIL_OK && c < n_cols; c++) {
                s = read_cell(r, (int)c, &cells[c], &blobs[c], err);
            }
            if (s == VIGIL_OK) {
                s = cb(ctx, ti, cells, err);
            }
            for (size_t c = 0; c < n_cols; c++) {
                PQfreemem(blobs[c]);
                blobs[c] = NULL;
            }
        } else if (s == VIGIL_OK && rs != PGRES_TUPLES_OK && rs != PGRES_SINGLE_TUPLE) {
            s = pg_fail(q, r, "copy: walk", err);
        }
        PQclear(r); /* after an error, the rest are read and dropped */
    }
    free(cells);
    free(blobs);
    return s;
}

vigil_status vigil__pg_rows_walk(void *be, const vigil__copy_table *tables, size_t n,
                                 vigil__row_cb cb, void *ctx, vigil_err *err)
{
    pgc *q = be;
    bool own = !q->in_tx;
    /* one snapshot for every table */
    vigil_status s =
        own ? pg_exec(q, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err) : VIGIL_OK;
    for (size_t i = 0; s == VIGIL_OK && i < n; i++) {
        const vigil__copy_table *t = &tables[i];
        vigil__text sql = {0};
        vigil__copy_select_sql(&sql, t);
        s = text_ok(&sql, err);
        if (s == VIGIL_OK) {
            s = walk_sql(q, sql.s, i, t->n_cols, cb, ctx, err);
        }
        free(sql.s);
    }
    if (own) {
        vigil_err ignored;
        (void)pg_exec(q, "ROLLBACK", &ignored); /* read only: nothing to keep */
    }
    return s;
}

/* The parameters of rows [0, n) as libpq wants them: text (NUL-ended) for
 * numbers and texts, binary for BYTEA, NULL for NULL; the texts in one
 * malloc'd block (*out_block). */
static vigil_status make_params(const vigil__cell *cells, size_t n_cells, const char **val,
                                int *len, int *fmt, char **out_block, vigil_err *err)
{
    size_t need = 1;
    for (size_t i = 0; i < n_cells; i++) {
        need += cells[i].type == VIGIL__CELL_TEXT ? cells[i].len + 1 : 32;
    }
    char *block = malloc(need);
    if (block == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory copying rows");
    }
    size_t at = 0;
    for (size_t i = 0; i < n_cells; i++) {
        const vigil__cell *c = &cells[i];
        val[i] = NULL;
        len[i] = 0;
        fmt[i] = 0;
        switch (c->type) {
        case VIGIL__CELL_INT:
            val[i] = block + at;
            at += (size_t)snprintf(block + at, 32, "%lld", (long long)c->i) + 1;
            break;
        case VIGIL__CELL_REAL:
            val[i] = block + at; /* 17 digits: the same double back */
            at += (size_t)snprintf(block + at, 32, "%.17g", c->r) + 1;
            break;
        case VIGIL__CELL_TEXT:
            if (memchr(c->p, '\0', c->len) != NULL) {
                free(block);
                return vigil_err_set(err, VIGIL_ERR_ARG, "text",
                                     "a text with a NUL byte cannot be stored in PostgreSQL");
            }
            memcpy(block + at, c->p, c->len);
            block[at + c->len] = '\0';
            val[i] = block + at;
            at += c->len + 1;
            break;
        case VIGIL__CELL_BLOB:
            val[i] = c->p;
            len[i] = (int)c->len;
            fmt[i] = 1;
            break;
        default:
            break;
        }
    }
    *out_block = block;
    return VIGIL_OK;
}

static vigil_status run_params(pgc *q, const char *sql, const vigil__cell *cells, size_t n_cells,
                               bool one_row, const char *what, vigil_err *err)
{
    const char **val = calloc(n_cells + 1, sizeof *val);
    int *len = calloc(n_cells + 1, sizeof *len);
    int *fmt = calloc(n_cells + 1, sizeof *fmt);
    char *block = NULL;
    vigil_status s = VIGIL_OK;
    if (val == NULL || len == NULL || fmt == NULL) {
        s = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory copying rows");
    }
    if (s == VIGIL_OK) {
        s = make_params(cells, n_cells, val, len, fmt, &block, err);
    }
    if (s == VIGIL_OK) {
        s = pg_defer_flush(q, err);
    }
    if (s == VIGIL_OK) {
        PGresult *r = PQexecParams(q->conn, sql, (int)n_cells, NULL, val, len, fmt, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            s = pg_fail(q, r, what, err);
        } else if (one_row && strcmp(PQcmdTuples(r), "1") != 0) {
            s = vigil_err_set(err, VIGIL_ERR_NOT_FOUND, what, "copy: no %s row to update", what);
        }
        PQclear(r);
    }
    free(block);
    free(val);
    free(len);
    free(fmt);
    return s;
}

static vigil_status put_update(pgc *q, const vigil__copy_table *t, const vigil__cell *cells,
                               size_t n_rows, vigil_err *err)
{
    vigil__text sql = {0};
    vigil__text_str(&sql, "UPDATE ");
    vigil__text_ident(&sql, t->name);
    vigil__text_str(&sql, " SET ");
    for (size_t c = 1; c < t->n_cols; c++) {
        vigil__text_str(&sql, c > 1 ? ", " : "");
        vigil__text_ident(&sql, t->cols[c]);
        vigil__text_str(&sql, " = ");
        tx_param(&sql, c + 1);
    }
    vigil__text_str(&sql, " WHERE ");
    vigil__text_ident(&sql, t->cols[0]);
    vigil__text_str(&sql, " = $1");
    vigil_status s = text_ok(&sql, err);
    for (size_t r = 0; s == VIGIL_OK && r < n_rows; r++) {
        s = run_params(q, sql.s, &cells[r * t->n_cols], t->n_cols, true, t->name, err);
    }
    free(sql.s);
    return s;
}

/* INSERT of rows [0, n_rows) in one statement. */
static vigil_status put_insert(pgc *q, const vigil__copy_table *t, const vigil__cell *cells,
                               size_t n_rows, vigil_err *err)
{
    vigil__text sql = {0};
    vigil__text_str(&sql, "INSERT INTO ");
    vigil__text_ident(&sql, t->name);
    vigil__text_str(&sql, " (");
    for (size_t c = 0; c < t->n_cols; c++) {
        vigil__text_str(&sql, c > 0 ? ", " : "");
        vigil__text_ident(&sql, t->cols[c]);
    }
    vigil__text_str(&sql, ") VALUES ");
    size_t p = 1;
    for (size_t r = 0; r < n_rows; r++) {
        vigil__text_str(&sql, r > 0 ? ", (" : "(");
        for (size_t c = 0; c < t->n_cols; c++) {
            vigil__text_str(&sql, c > 0 ? ", " : "");
            tx_param(&sql, p++);
        }
        vigil__text_str(&sql, ")");
    }
    vigil_status s = text_ok(&sql, err);
    if (s == VIGIL_OK) {
        s = run_params(q, sql.s, cells, n_rows * t->n_cols, false, t->name, err);
    }
    free(sql.s);
    return s;
}

vigil_status vigil__pg_rows_put(void *be, const vigil__copy_table *t, bool update,
                                const vigil__cell *cells, size_t n_rows, vigil_err *err)
{
    pgc *q = be;
    if (!q->batch || !q->in_tx || q->tx_failed) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "store",
                             "rows are copied inside an open batch only");
    }
    if (t->n_cols == 0 || t->n_cols > PG_MAX_BIND) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "cols", "copy: %zu columns", t->n_cols);
    }
    if (update) {
        return put_update(q, t, cells, n_rows, err);
    }
    size_t per = PG_MAX_BIND / t->n_cols;
    vigil_status s = VIGIL_OK;
    for (size_t r = 0; s == VIGIL_OK && r < n_rows; r += per) {
        size_t k = n_rows - r < per ? n_rows - r : per;
        s = put_insert(q, t, &cells[r * t->n_cols], k, err);
    }
    return s;
}

vigil_status vigil__pg_ids_advance(void *be, const char *table, const char *column, vigil_err *err)
{
    pgc *q = be;
    if (!q->batch || !q->in_tx || q->tx_failed) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "store", "ids are advanced inside a batch only");
    }
    /* an identity column's sequence (none: pg_get_serial_sequence is NULL and
     * so is setval's result): the next id is the largest stored plus one */
    vigil__text sql = {0};
    vigil__text_str(&sql, "SELECT setval(pg_get_serial_sequence(quote_ident($1), $2), coalesce((SELECT "
                 "max(");
    vigil__text_ident(&sql, column);
    vigil__text_str(&sql, ") FROM ");
    vigil__text_ident(&sql, table);
    vigil__text_str(&sql, "), 0) + 1, false)");
    vigil_status s = text_ok(&sql, err);
    if (s == VIGIL_OK) {
        s = pg_defer_flush(q, err);
    }
    if (s == VIGIL_OK) {
        const char *val[2] = {table, column};
        PGresult *r = PQexecParams(q->conn, sql.s, 2, NULL, val, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            s = pg_fail(q, r, "copy: advance ids", err);
        }
        PQclear(r);
    }
    free(sql.s);
    return s;
}
