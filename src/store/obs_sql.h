/*
 * obs_sql.h: private to src/store: the statements that name obs_set's
 * vital-sign columns, written from the vital-sign table (vigil/vitals.h)
 * once per connection, for every backend (issue 11).
 *
 * A backend gives its dialect (how it writes SQLite's quote() of a column
 * for the audit row digest's text, and what follows an INSERT's VALUES)
 * and keeps the result on its connection; it binds and reads a set's
 * columns itself, from each table row's column and type, in the order
 * below. The text is otherwise the same on every engine: parameters are
 * written ?N (a backend that numbers them $N rewrites them as it prepares).
 *
 * Invariants: a set's columns are always VIGIL__OBS_NCOLS in a row, one per
 * table row in table order, then spo2_scale, age_y, pregnant. The audit
 * row digest's text is byte-identical to the first version's for every row
 * stored so far (REQ STORE-AUDIT-ROW-CONTENT: the digest_v1 columns in
 * table order with spo2_scale after SpO2's, then a later parameter's column
 * only when it holds a value).
 */
#ifndef VIGIL_STORE_OBS_SQL_H
#define VIGIL_STORE_OBS_SQL_H

#include <stdbool.h>
#include <stddef.h>

#include "vigil/news2.h"
#include "vigil/store.h"

/* A set's columns in a row: one per table row, then spo2_scale, age_y,
 * pregnant. */
#define VIGIL__OBS_NCOLS (VIGIL_NEWS2_PARAM_COUNT + 3)
#define VIGIL__OBS_SQL_MAX 4096

/* A score row's columns (table alias s), read from an offset by each
 * backend's news2 reader. */
#define VIGIL__SCORE_COLS                                                                          \
    "s.id, s.scored_ms, s.news2_total, s.sub_rr, s.sub_spo2, s.sub_o2, s.sub_sbp, s.sub_hr, "      \
    "s.sub_acvpu, s.sub_temp, s.complete, s.risk, s.monitoring, s.response, s.flags, "             \
    "s.spo2_scale, s.ai_risk, s.ai_prob, s.model_version, coalesce(s.ai_low_confidence, 0)"
#define VIGIL__SCORE_NCOLS 20

typedef struct vigil__obs_sql {
    char by_source[VIGIL__OBS_SQL_MAX]; /* a stored set by (source, source_id, sender) */
    char insert[VIGIL__OBS_SQL_MAX];    /* a new set */
    char get[VIGIL__OBS_SQL_MAX];       /* a set's patient and content by id */
    char canon[VIGIL__OBS_SQL_MAX];     /* a set's content as one text: the audit row digest */
    char recent[VIGIL__OBS_SQL_MAX];    /* a patient's latest sets */
    char range[VIGIL__OBS_SQL_MAX];     /* a patient's sets with their scores */
    char set_rows[VIGIL__OBS_SQL_MAX];  /* the monitoring rows */
} vigil__obs_sql;

/* An append-only text in a fixed buffer; over = it did not fit. */
typedef struct vigil__sbuf {
    char *p;
    size_t cap, n;
    bool over;
} vigil__sbuf;

void vigil__sb_put(vigil__sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* What a column's value is, for the digest's quote(). */
typedef enum vigil__sql_kind {
    VIGIL__SQL_REAL,
    VIGIL__SQL_TEXT,
    VIGIL__SQL_INT,
    VIGIL__SQL_KIND_COUNT
} vigil__sql_kind;

/* What differs between engines in these statements. */
typedef struct vigil__obs_dialect {
    /* Write an expression giving SQLite's quote(col) text of a column of
     * this kind: 'NULL' for NULL, a text quoted with its quotes doubled, a
     * REAL as SQLite's printf writes it. NULL: the engine has no such
     * expression, so the digest statement selects the columns in the
     * text's order and the backend writes the text in C
     * (vigil__obs_canon_text). */
    void (*quote)(vigil__sbuf *b, const char *col, vigil__sql_kind kind);
    /* Written after the INSERT's VALUES (...): "" or the engine's clause
     * (ON CONFLICT ..., RETURNING id). */
    const char *insert_tail;
    /* The insert_tail ends "RETURNING id" and the canon statement's columns
     * follow it, in its order: the row as stored comes back with its id,
     * and the digest's text is written from it with no second statement
     * (vigil__obs_canon_text from column 1). Only for a dialect without
     * quote. */
    bool returning_canon;
} vigil__obs_dialect;

/* Write every statement into out from the vital-sign table.
 * VIGIL_ERR_INTERNAL when one does not fit VIGIL__OBS_SQL_MAX. */
vigil_status vigil__obs_sql_build(const vigil__obs_dialect *d, vigil__obs_sql *out,
                                  vigil_err *err);

/* Text stored for the enumerated parameters; index = enum value, "" = NULL. */
extern const char *const vigil__obs_o2_names[VIGIL_O2_COUNT];
extern const char *const vigil__obs_acvpu_names[VIGIL_ACVPU_COUNT];

/* A backend's reads of the current row's columns and binds of a
 * statement's parameters (numbered from 1 or 0 as the backend's own), for
 * reading and binding a set's columns from the table once. */
typedef struct vigil__col_io {
    double (*col_real)(void *st, int i);      /* NaN for NULL */
    const char *(*col_text)(void *st, int i); /* NULL for NULL */
    int (*col_int)(void *st, int i);          /* 0 for NULL */
    bool (*col_null)(void *st, int i);
    void (*bind_real_opt)(void *st, int i, double v);     /* NULL for NaN */
    void (*bind_text_opt)(void *st, int i, const char *s); /* NULL for NULL or "" */
    void (*bind_int)(void *st, int i, int v);
    void (*bind_null)(void *st, int i);
} vigil__col_io;

/* Read the VIGIL__OBS_NCOLS set columns starting at column c into obs. */
void vigil__obs_read(const vigil__col_io *io, void *st, int c, vigil_obs *obs);

/* Bind obs to the VIGIL__OBS_NCOLS parameters starting at i. */
void vigil__obs_bind(const vigil__col_io *io, void *st, int i, const vigil_obs *obs);

/* The audit row digest's text of the current row of the canon statement
 * written for a dialect without quote (its columns in the text's order,
 * from column first: 0 for the canon statement, 1 after the insert's
 * RETURNING id), as SQLite's quote() writes it (a REAL through
 * vigil__row_text_real), into buf (cap bytes, NUL-terminated); *len its
 * length. VIGIL_ERR_INTERNAL when it does not fit. */
vigil_status vigil__obs_canon_text(const vigil__col_io *io, void *st, int first, char *buf,
                                   size_t cap, size_t *len, vigil_err *err);

/* Do two sets hold the same content (every parameter present or not alike
 * and equal, scale, age, pregnancy)? A resent message is a duplicate only
 * when they do. */
bool vigil__obs_same(const vigil_obs *a, const vigil_obs *b);

#endif
