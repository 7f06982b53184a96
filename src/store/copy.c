/*
 * copy.c: vigil_store_copy, a store's every row copied into another store,
 * of any backend (`vigil migrate`: an SQLite file into PostgreSQL), above
 * the backend table: the tables, their order and the rules are here once;
 * each backend gives four narrow operations (store_int.h: schema_columns,
 * rows_walk, rows_put, ids_advance) over typed cells.
 *
 * Why above the table and not a reader of the SQLite file here: sqlite3.h
 * belongs to src/store/sqlite only (scripts/check_layering.py), and through
 * the table the same code copies any backend into any other (the tests copy
 * SQLite into SQLite as well as into PostgreSQL).
 *
 * Rules: the source's tables and columns must be exactly this vigil's (each
 * table in COPY below, each column on both sides), so a store with a table
 * or column this code does not know is refused rather than copied in part;
 * the target must be empty; the target is written in ONE transaction and
 * its rows are read back inside it and compared with the source's, table by
 * table (count and a BLAKE2b digest of every value, in key order), before
 * the commit; identity sequences are moved past the copied ids. Nothing is
 * audited (the audit table is itself copied record for record, so the head
 * is the source's).
 *
 * Does not: open the stores, migrate the source's schema (opened read-only
 * it must already be current), or verify the audit chain (the caller runs
 * vigil_audit_verify on the target: vigil migrate does). Spec: docs/store.md
 * "Moving a store to PostgreSQL".
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "wardlist_int.h"

/* One table as copied, in an order where every row's references are
 * written before it. */
typedef struct copy_rule {
    const char *name;
    const char *order;    /* the key the rows are walked in */
    const char *id;       /* an identity column to move past the copied ids; NULL: none */
    const char *deferred; /* a column naming a LATER row of the same table: written NULL,
                             then set once every row is in */
    bool head;            /* one row the target already holds: updated, not inserted */
} copy_rule;

static const copy_rule COPY[] = {
    {.name = "app_user", .order = "id", .id = "id"},
    {.name = "user_ward", .order = "user_id, ward"},
    /* sign-in sessions (token hashes only): users stay signed in across the move */
    {.name = "session", .order = "token_hash"},
    {.name = "patient", .order = "id", .id = "id"},
    {.name = "admission", .order = "id", .id = "id"},
    {.name = "bed_stay", .order = "id", .id = "id"},
    {.name = "obs_set", .order = "id", .id = "id"},
    {.name = "score", .order = "id", .id = "id"},
    {.name = "shadow_score", .order = "id", .id = "id"},
    /* an episode superseded names the newer episode that replaced it */
    {.name = "episode", .order = "id", .id = "id", .deferred = "superseded_by"},
    {.name = "alert", .order = "id", .id = "id"},
    {.name = "alert_repeat", .order = "id", .id = "id"},
    {.name = "ack", .order = "id", .id = "id"},
    {.name = "staff_concern", .order = "id", .id = "id"},
    {.name = "marthas_call", .order = "id", .id = "id"},
    {.name = "marthas_review", .order = "id", .id = "id"},
    {.name = "daily_answer", .order = "id", .id = "id"},
    {.name = "ai_optout", .order = "id", .id = "id"},
    {.name = "scale2_decision", .order = "id", .id = "id"},
    {.name = "escalation_plan", .order = "id", .id = "id"},
    {.name = "outcome", .order = "id", .id = "id"},
    {.name = "rota_shift", .order = "id", .id = "id"},
    {.name = "page", .order = "id", .id = "id"},
    {.name = "page_attempt", .order = "id", .id = "id"},
    {.name = "summary_mail", .order = "id", .id = "id"},
    {.name = "summary_attempt", .order = "id", .id = "id"},
    {.name = "secret", .order = "name"},
    {.name = "audit", .order = "seq"},
    {.name = "audit_head", .order = "id", .head = true},
};
#define N_COPY (sizeof COPY / sizeof COPY[0])
_Static_assert(N_COPY <= VIGIL_STORE_COPY_TABLES, "the report holds every table");

#define MAX_COLS 64
#define NAME_MAX_LEN 63
#define FLUSH_ROWS 500
#define FLUSH_BYTES (4u << 20)

/* A schema as a backend reports it: each known table's columns. */
typedef struct schema {
    char cols[N_COPY][MAX_COLS][NAME_MAX_LEN + 1];
    size_t n_cols[N_COPY];
    bool seen[N_COPY];
    const char *side; /* "source" or "target", for messages */
} schema;

static int rule_of(const char *table)
{
    for (size_t i = 0; i < N_COPY; i++) {
        if (strcmp(COPY[i].name, table) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* A name the SQL may carry: a-z, 0-9 and '_' (the schema's own). */
static bool ident_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > NAME_MAX_LEN) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            return false;
        }
    }
    return true;
}

static vigil_status schema_col(void *ctx, const char *table, const char *column, vigil_err *err)
{
    schema *sc = ctx;
    int t = rule_of(table);
    if (t < 0) {
        return vigil_err_set(err, VIGIL_ERR_MISMATCH, "table",
                             "the %s store has a table this vigil does not copy: '%.63s' (a "
                             "schema newer than this vigil, or changed by hand)",
                             sc->side, table);
    }
    if (!ident_ok(column) || sc->n_cols[t] == MAX_COLS) {
        return vigil_err_set(err, VIGIL_ERR_MISMATCH, "column",
                             "the %s store's table %s has a column this vigil cannot copy: "
                             "'%.63s'",
                             sc->side, table, column);
    }
    sc->seen[t] = true;
    snprintf(sc->cols[t][sc->n_cols[t]++], NAME_MAX_LEN + 1, "%s", column);
    return VIGIL_OK;
}

static bool has_col(const schema *sc, size_t t, const char *col)
{
    for (size_t c = 0; c < sc->n_cols[t]; c++) {
        if (strcmp(sc->cols[t][c], col) == 0) {
            return true;
        }
    }
    return false;
}

/* Both schemas hold every table of COPY with the same columns. */
static vigil_status schemas_match(const schema *a, const schema *b, vigil_err *err)
{
    for (size_t t = 0; t < N_COPY; t++) {
        const schema *missing = !a->seen[t] ? a : !b->seen[t] ? b : NULL;
        if (missing != NULL) {
            return vigil_err_set(err, VIGIL_ERR_MISMATCH, "table",
                                 "the %s store has no table %s (not this vigil's schema)",
                                 missing->side, COPY[t].name);
        }
        for (size_t c = 0; c < a->n_cols[t]; c++) {
            if (!has_col(b, t, a->cols[t][c])) {
                return vigil_err_set(err, VIGIL_ERR_MISMATCH, "column",
                                     "table %s: the %s store has column %s, the %s store not",
                                     COPY[t].name, a->side, a->cols[t][c], b->side);
            }
        }
        for (size_t c = 0; c < b->n_cols[t]; c++) {
            if (!has_col(a, t, b->cols[t][c])) {
                return vigil_err_set(err, VIGIL_ERR_MISMATCH, "column",
                                     "table %s: the %s store has column %s, the %s store not",
                                     COPY[t].name, b->side, b->cols[t][c], a->side);
            }
        }
    }
    return VIGIL_OK;
}

static vigil_status read_schema(vigil_store *st, schema *sc, const char *side, vigil_err *err)
{
    memset(sc, 0, sizeof *sc);
    sc->side = side;
    return st->ops->schema_columns(st->be, schema_col, sc, err);
}

/* The walk's view of the tables: the source's columns, in its order. */
typedef struct plan {
    const char *colp[N_COPY][MAX_COLS];
    vigil__copy_table t[N_COPY];
    int deferred_col[N_COPY]; /* index of the deferred column, -1 when none */
    int id_col[N_COPY];       /* index of the id column, -1 when none */
} plan;

static void make_plan(const schema *sc, plan *p)
{
    for (size_t t = 0; t < N_COPY; t++) {
        p->deferred_col[t] = -1;
        p->id_col[t] = -1;
        for (size_t c = 0; c < sc->n_cols[t]; c++) {
            p->colp[t][c] = sc->cols[t][c];
            if (COPY[t].id != NULL && strcmp(sc->cols[t][c], COPY[t].id) == 0) {
                p->id_col[t] = (int)c;
            }
            if (COPY[t].deferred != NULL && strcmp(sc->cols[t][c], COPY[t].deferred) == 0) {
                p->deferred_col[t] = (int)c;
            }
        }
        p->t[t] = (vigil__copy_table){.name = COPY[t].name,
                                      .cols = p->colp[t],
                                      .n_cols = sc->n_cols[t],
                                      .order = COPY[t].order};
    }
}

/* ---- the target is empty ------------------------------------------------ */

typedef struct counts {
    int64_t n[N_COPY];
    crypto_generichash_state h[N_COPY];
} counts;

static void hash_cell(crypto_generichash_state *h, const vigil__cell *c)
{
    uint8_t b[9];
    b[0] = (uint8_t)c->type;
    uint64_t u = 0;
    switch (c->type) {
    case VIGIL__CELL_INT:
        u = (uint64_t)c->i;
        break;
    case VIGIL__CELL_REAL:
        memcpy(&u, &c->r, sizeof u);
        break;
    case VIGIL__CELL_TEXT:
    case VIGIL__CELL_BLOB:
        u = (uint64_t)c->len;
        break;
    default:
        break;
    }
    for (int i = 0; i < 8; i++) {
        b[1 + i] = (uint8_t)(u >> (56 - 8 * i));
    }
    crypto_generichash_update(h, b, sizeof b);
    if ((c->type == VIGIL__CELL_TEXT || c->type == VIGIL__CELL_BLOB) && c->len > 0) {
        crypto_generichash_update(h, c->p, c->len);
    }
}

static vigil_status count_row(void *ctx, size_t table, const vigil__cell *cells, vigil_err *err)
{
    (void)cells;
    (void)err;
    counts *k = ctx;
    k->n[table]++;
    return VIGIL_OK;
}

static vigil_status target_empty(vigil_store *to, const plan *p, vigil_err *err)
{
    counts *k = calloc(1, sizeof *k);
    if (k == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
    }
    vigil_status s = to->ops->rows_walk(to->be, p->t, N_COPY, count_row, k, err);
    for (size_t t = 0; s == VIGIL_OK && t < N_COPY; t++) {
        if (!COPY[t].head && k->n[t] > 0) {
            s = vigil_err_set(err, VIGIL_ERR_CONFLICT, "to",
                              "the target store is not empty: table %s has %lld row(s); vigil "
                              "migrate copies into an empty store only",
                              COPY[t].name, (long long)k->n[t]);
        }
    }
    free(k);
    int64_t seq = 0;
    uint8_t hash[VIGIL_AUDIT_HASH_LEN];
    if (s == VIGIL_OK) {
        s = to->ops->audit_head(to->be, &seq, hash, err);
    }
    if (s == VIGIL_OK && seq != 0) {
        s = vigil_err_set(err, VIGIL_ERR_CONFLICT, "to",
                          "the target store is not empty: its audit head is at record %lld",
                          (long long)seq);
    }
    return s;
}

/* ---- the copy ----------------------------------------------------------- */

/* Rows waiting to be written: cells, with TEXT and BLOB bytes in one block
 * (their offset kept in .i until the flush points .p at them). */
typedef struct pending {
    vigil__cell *cells;
    size_t n_rows, cap_cells;
    uint8_t *bytes;
    size_t used, cap_bytes;
} pending;

/* A deferred column's value, set after every row is in. */
typedef struct later {
    size_t table;
    vigil__cell key, val;
} later;

typedef struct copier {
    vigil_store *to;
    const plan *p;
    counts *src;
    pending buf;
    size_t table; /* whose rows buf holds */
    later *laters;
    size_t n_laters, cap_laters;
} copier;

static vigil_status flush(copier *cp, vigil_err *err)
{
    pending *b = &cp->buf;
    if (b->n_rows == 0) {
        return VIGIL_OK;
    }
    const vigil__copy_table *t = &cp->p->t[cp->table];
    size_t n = b->n_rows * t->n_cols;
    for (size_t i = 0; i < n; i++) {
        if (b->cells[i].type == VIGIL__CELL_TEXT || b->cells[i].type == VIGIL__CELL_BLOB) {
            b->cells[i].p = b->bytes + b->cells[i].i;
        }
    }
    vigil_status s =
        cp->to->ops->rows_put(cp->to->be, t, COPY[cp->table].head, b->cells, b->n_rows, err);
    b->n_rows = 0;
    b->used = 0;
    return s;
}

static vigil_status keep_bytes(pending *b, vigil__cell *c, vigil_err *err)
{
    if (c->type != VIGIL__CELL_TEXT && c->type != VIGIL__CELL_BLOB) {
        return VIGIL_OK;
    }
    if (b->used + c->len + 1 > b->cap_bytes) {
        size_t cap = (b->cap_bytes == 0 ? 65536 : b->cap_bytes * 2) + c->len;
        uint8_t *nb = realloc(b->bytes, cap);
        if (nb == NULL) {
            return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory copying rows");
        }
        b->bytes = nb;
        b->cap_bytes = cap;
    }
    if (c->len > 0) {
        memcpy(b->bytes + b->used, c->p, c->len);
    }
    c->i = (int64_t)b->used;
    c->p = NULL;
    b->used += c->len;
    return VIGIL_OK;
}

static vigil_status add_later(copier *cp, const vigil__cell *key, const vigil__cell *val,
                              vigil_err *err)
{
    if (key->type != VIGIL__CELL_INT || val->type != VIGIL__CELL_INT) {
        return vigil_err_set(err, VIGIL_ERR_MISMATCH, COPY[cp->table].deferred,
                             "copy: table %s: a reference that is not an id", COPY[cp->table].name);
    }
    if (cp->n_laters == cp->cap_laters) {
        size_t cap = cp->cap_laters == 0 ? 64 : cp->cap_laters * 2;
        later *nl = realloc(cp->laters, cap * sizeof *nl);
        if (nl == NULL) {
            return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory copying rows");
        }
        cp->laters = nl;
        cp->cap_laters = cap;
    }
    cp->laters[cp->n_laters++] = (later){.table = cp->table, .key = *key, .val = *val};
    return VIGIL_OK;
}

static vigil_status copy_row(void *ctx, size_t table, const vigil__cell *cells, vigil_err *err)
{
    copier *cp = ctx;
    const vigil__copy_table *t = &cp->p->t[table];
    cp->src->n[table]++;
    for (size_t c = 0; c < t->n_cols; c++) {
        hash_cell(&cp->src->h[table], &cells[c]);
    }
    vigil_status s = VIGIL_OK;
    if (table != cp->table) {
        s = flush(cp, err);
        cp->table = table;
    }
    pending *b = &cp->buf; /* room for FLUSH_ROWS rows of MAX_COLS (copy_all) */
    vigil__cell *row = s == VIGIL_OK ? &b->cells[b->n_rows * t->n_cols] : NULL;
    for (size_t c = 0; s == VIGIL_OK && c < t->n_cols; c++) {
        row[c] = cells[c];
        if ((int)c == cp->p->deferred_col[table] && cells[c].type != VIGIL__CELL_NULL) {
            s = add_later(cp, &cells[cp->p->id_col[table]], &cells[c], err);
            row[c] = (vigil__cell){.type = VIGIL__CELL_NULL};
        }
        if (s == VIGIL_OK) {
            s = keep_bytes(b, &row[c], err);
        }
    }
    if (s == VIGIL_OK) {
        b->n_rows++;
        if (b->n_rows >= FLUSH_ROWS || b->used >= FLUSH_BYTES) {
            s = flush(cp, err);
        }
    }
    return s;
}

/* The deferred columns' values, once every row is in. */
static vigil_status set_laters(copier *cp, vigil_err *err)
{
    vigil_status s = VIGIL_OK;
    for (size_t t = 0; s == VIGIL_OK && t < N_COPY; t++) {
        int dc = cp->p->deferred_col[t];
        if (dc < 0) {
            continue;
        }
        const char *cols[2] = {COPY[t].id, cp->p->t[t].cols[dc]};
        vigil__copy_table u = {.name = COPY[t].name, .cols = cols, .n_cols = 2, .order = "1"};
        for (size_t i = 0; s == VIGIL_OK && i < cp->n_laters; i++) {
            if (cp->laters[i].table != t) {
                continue;
            }
            vigil__cell kv[2] = {cp->laters[i].key, cp->laters[i].val};
            s = cp->to->ops->rows_put(cp->to->be, &u, true, kv, 1, err);
        }
    }
    return s;
}

/* The target's rows read back, counted and hashed as the source's were. */
typedef struct reader {
    const plan *p;
    counts *k;
} reader;

static vigil_status hash_row(void *ctx, size_t table, const vigil__cell *cells, vigil_err *err)
{
    (void)err;
    reader *r = ctx;
    r->k->n[table]++;
    for (size_t c = 0; c < r->p->t[table].n_cols; c++) {
        hash_cell(&r->k->h[table], &cells[c]);
    }
    return VIGIL_OK;
}

/* Compare the target's rows (read back in the open transaction) with the
 * source's, table by table; *out gets both counts. */
static vigil_status compare(vigil_store *to, const plan *p, counts *src, counts *dst,
                            vigil_store_copy_report *out, vigil_err *err)
{
    for (size_t t = 0; t < N_COPY; t++) {
        crypto_generichash_init(&dst->h[t], NULL, 0, crypto_generichash_BYTES);
    }
    reader r = {.p = p, .k = dst};
    vigil_status s = to->ops->rows_walk(to->be, p->t, N_COPY, hash_row, &r, err);
    for (size_t t = 0; t < N_COPY; t++) {
        uint8_t a[crypto_generichash_BYTES], b[crypto_generichash_BYTES];
        crypto_generichash_final(&src->h[t], a, sizeof a);
        crypto_generichash_final(&dst->h[t], b, sizeof b);
        vigil_store_copy_table *row = &out->tables[t];
        snprintf(row->name, sizeof row->name, "%s", COPY[t].name);
        row->n_from = src->n[t];
        row->n_to = dst->n[t];
        row->same = s == VIGIL_OK && src->n[t] == dst->n[t] && memcmp(a, b, sizeof a) == 0;
        if (s == VIGIL_OK && !row->same && out->mismatch[0] == '\0') {
            snprintf(out->mismatch, sizeof out->mismatch, "%s", COPY[t].name);
        }
    }
    out->n_tables = N_COPY;
    if (s == VIGIL_OK && out->mismatch[0] != '\0') {
        int t = rule_of(out->mismatch);
        s = vigil_err_set(err, VIGIL_ERR_MISMATCH, "table",
                          "table %s: %lld row(s) read from the source, %lld in the target%s; "
                          "nothing was committed",
                          out->mismatch, (long long)src->n[t], (long long)dst->n[t],
                          src->n[t] == dst->n[t] ? ", and their values differ" : "");
    }
    return s;
}

/* Inside the target's open batch: every row, the deferred columns, the
 * identities, and the comparison. */
static vigil_status copy_all(vigil_store *from, vigil_store *to, const plan *p, counts *src,
                             counts *dst, vigil_store_copy_report *out, vigil_err *err)
{
    copier cp = {.to = to, .p = p, .src = src};
    cp.buf.cap_cells = (size_t)FLUSH_ROWS * MAX_COLS;
    cp.buf.cells = malloc(cp.buf.cap_cells * sizeof *cp.buf.cells);
    if (cp.buf.cells == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory copying rows");
    }
    for (size_t t = 0; t < N_COPY; t++) {
        crypto_generichash_init(&src->h[t], NULL, 0, crypto_generichash_BYTES);
    }
    vigil_status s = from->ops->rows_walk(from->be, p->t, N_COPY, copy_row, &cp, err);
    if (s == VIGIL_OK) {
        s = flush(&cp, err);
    }
    if (s == VIGIL_OK) {
        s = set_laters(&cp, err);
    }
    for (size_t t = 0; s == VIGIL_OK && t < N_COPY; t++) {
        if (p->id_col[t] >= 0) {
            s = to->ops->ids_advance(to->be, COPY[t].name, COPY[t].id, err);
        }
    }
    free(cp.buf.cells);
    free(cp.buf.bytes);
    free(cp.laters);
    if (s == VIGIL_OK) {
        s = compare(to, p, src, dst, out, err);
    }
    return s;
}

vigil_status vigil_store_copy(vigil_store *from, vigil_store *to, vigil_store_copy_report *out,
                              vigil_err *err)
{
    if (from == NULL || to == NULL || out == NULL || from == to) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL,
                             "vigil_store_copy: two different stores and a report");
    }
    if (from->in_batch || to->in_batch) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "store", "copy: a store is inside a batch");
    }
    if ((to->flags & VIGIL_STORE_READONLY) != 0) {
        return vigil_err_set(err, VIGIL_ERR_DENIED, "to", "copy: the target is open read-only");
    }
    memset(out, 0, sizeof *out);
    schema *a = malloc(sizeof *a);
    schema *b = malloc(sizeof *b);
    plan *p = malloc(sizeof *p);
    counts *src = calloc(1, sizeof *src);
    counts *dst = calloc(1, sizeof *dst);
    vigil_status s = VIGIL_OK;
    if (a == NULL || b == NULL || p == NULL || src == NULL || dst == NULL) {
        s = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
    }
    if (s == VIGIL_OK) {
        s = read_schema(from, a, "source", err);
    }
    if (s == VIGIL_OK) {
        s = read_schema(to, b, "target", err);
    }
    if (s == VIGIL_OK) {
        s = schemas_match(a, b, err);
    }
    if (s == VIGIL_OK) {
        make_plan(a, p);
        s = target_empty(to, p, err);
    }
    if (s == VIGIL_OK) {
        s = to->ops->batch_begin(to->be, err);
        if (s == VIGIL_OK) {
            to->in_batch = true;
            s = copy_all(from, to, p, src, dst, out, err);
            if (s == VIGIL_OK) {
                s = to->ops->batch_commit(to->be, err);
            } else {
                to->ops->batch_rollback(to->be);
            }
            to->in_batch = false;
        }
    }
    /* the ward list's rows in memory were read before the copy */
    (void)vigil__wl_wrote(to, 0, s);
    free(a);
    free(b);
    free(p);
    free(src);
    free(dst);
    return s;
}
