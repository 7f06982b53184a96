/*
 * pg_audit_rows.c: PostgreSQL backend: a run of audit records as the
 * parameters of ONE multi-row INSERT (PG_SQL_AUDIT_ROWS: unnest of eleven
 * arrays, one per column), instead of one INSERT per record.
 *
 * Why: PostgreSQL prepares a table's CHECK constraints again for every
 * statement it runs (ExecConstraints reads them from text each time), and
 * a group commit of 32 sets wrote 64 audit records: measured with perf
 * during `bench/ingest_pg.sh`, ExecConstraints was 43% of the backend's
 * CPU. One statement per run of records pays that once.
 *
 * Does not: chain records (audit.c), send anything (pg_core.c audit_send).
 * Invariants: the arrays are PostgreSQL's array text (docs: "Arrays",
 * "Array Value Input"): every text element double-quoted with its
 * backslashes and double quotes escaped; a BYTEA element as its hex input
 * (\x...) inside quotes, its backslash escaped; integers bare. Nothing is
 * ever NULL (every audit column is NOT NULL).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

const char PG_SQL_AUDIT_ROWS[] =
    "INSERT INTO audit (seq, t_ms, actor, action, entity, entity_id, patient_id, reason, detail, "
    "prev_hash, hash) SELECT * FROM unnest(?1::bigint[], ?2::bigint[], ?3::text[], ?4::text[], "
    "?5::text[], ?6::bigint[], ?7::bigint[], ?8::text[], ?9::text[], ?10::bytea[], "
    "?11::bytea[])";

static void put(pg_audit_rows *b, int col, const char *s, size_t n)
{
    vigil__text_put(&b->col[col], s, n);
}

static void put_str(pg_audit_rows *b, int col, const char *s)
{
    put(b, col, s, strlen(s));
}

static void put_i64(pg_audit_rows *b, int col, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRId64, v);
    put(b, col, num, (size_t)n);
}

/* A text element: double-quoted, backslash and double quote escaped. */
static void put_text(pg_audit_rows *b, int col, const char *s)
{
    put(b, col, "\"", 1);
    for (const char *p = s; *p != '\0';) {
        size_t run = strcspn(p, "\\\"");
        put(b, col, p, run);
        p += run;
        if (*p != '\0') {
            char esc[2] = {'\\', *p};
            put(b, col, esc, 2);
            p++;
        }
    }
    put(b, col, "\"", 1);
}

/* A BYTEA element: "\\x" and its hex (the array parser takes one backslash
 * away, bytea's input reads \x). */
static void put_bytes(pg_audit_rows *b, int col, const uint8_t *v, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    put(b, col, "\"\\\\x", 4);
    for (size_t i = 0; i < n; i++) {
        char h[2] = {hex[v[i] >> 4], hex[v[i] & 15]};
        put(b, col, h, 2);
    }
    put(b, col, "\"", 1);
}

vigil_status pg_audit_rows_write(pg_audit_rows *b, const vigil_audit_record *r, size_t n,
                                 vigil_err *err)
{
    for (int c = 0; c < PG_AUDIT_COLS; c++) {
        b->col[c].len = 0;
        b->col[c].failed = false;
        put(b, c, "{", 1);
    }
    for (size_t i = 0; i < n; i++) {
        const char *sep = i > 0 ? "," : "";
        for (int c = 0; c < PG_AUDIT_COLS; c++) {
            put_str(b, c, sep);
        }
        put_i64(b, 0, r[i].seq);
        put_i64(b, 1, r[i].t_ms);
        put_text(b, 2, r[i].actor);
        put_text(b, 3, r[i].action);
        put_text(b, 4, r[i].entity);
        put_i64(b, 5, r[i].entity_id);
        put_i64(b, 6, r[i].patient_id);
        put_text(b, 7, r[i].reason);
        put_text(b, 8, r[i].detail);
        put_bytes(b, 9, r[i].prev_hash, VIGIL_AUDIT_HASH_LEN);
        put_bytes(b, 10, r[i].hash, VIGIL_AUDIT_HASH_LEN);
    }
    for (int c = 0; c < PG_AUDIT_COLS; c++) {
        put(b, c, "}", 1);
        if (b->col[c].failed) {
            return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory for audit records");
        }
    }
    return VIGIL_OK;
}

void pg_audit_rows_bind(pg_stmt *st, const pg_audit_rows *b)
{
    for (int c = 0; c < PG_AUDIT_COLS; c++) {
        pg_bind_untyped(st, c + 1, b->col[c].s);
    }
}

void pg_audit_rows_free(pg_audit_rows *b)
{
    for (int c = 0; c < PG_AUDIT_COLS; c++) {
        free(b->col[c].s);
        b->col[c].s = NULL;
        b->col[c].len = b->col[c].cap = 0;
    }
}
