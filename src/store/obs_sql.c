/*
 * obs_sql.c: the statements that name obs_set's vital-sign columns, written
 * from the vital-sign table (vigil/vitals.h: each row's column and type)
 * for every backend, so a new parameter reaches each engine's SQL with no
 * edit here or in a backend (issue 11).
 *
 * Does not: create or alter the table (each backend's schema; docs/core.md
 * "Adding a vital sign"), bind, read or run anything: a backend writes the
 * statements once per connection at open (never per set) with its dialect
 * (obs_sql.h) and binds and reads a set's columns from the same table.
 *
 * Invariants: see obs_sql.h. The audit row digest's text is the first
 * version's byte for byte: the digest_v1 columns in table order with
 * spo2_scale after SpO2's, then age, pregnancy, source and source id, then
 * a later parameter's column only when it holds a value
 * (REQ STORE-AUDIT-ROW-CONTENT).
 */
#include "obs_sql.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "store_int.h"
#include "vigil/vitals.h"

const char *const vigil__obs_o2_names[VIGIL_O2_COUNT] = {"", "air", "oxygen"};
const char *const vigil__obs_acvpu_names[VIGIL_ACVPU_COUNT] = {"", "A", "C", "V", "P", "U"};

static void sb_init(vigil__sbuf *b, char *p, size_t cap)
{
    b->p = p;
    b->cap = cap;
    b->n = 0;
    b->over = false;
    p[0] = '\0';
}

void vigil__sb_put(vigil__sbuf *b, const char *fmt, ...)
{
    if (b->over) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= b->cap - b->n) {
        b->over = true;
        return;
    }
    b->n += (size_t)k;
}

/* "o.rr_bpm, o.spo2_pct, ..., o.spo2_scale, o.age_y, o.pregnant": the
 * VIGIL__OBS_NCOLS set columns with the table alias prefix. */
static void put_cols(vigil__sbuf *b, const char *prefix)
{
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        vigil__sb_put(b, "%s%s, ", prefix, vigil_vital_get((vigil_news2_param)p)->column);
    }
    vigil__sb_put(b, "%sspo2_scale, %sage_y, %spregnant", prefix, prefix, prefix);
}

/* "?i, ?i+1, ...": n numbered parameters from ?i. */
static void put_params(vigil__sbuf *b, int i, int n)
{
    for (int k = 0; k < n; k++) {
        vigil__sb_put(b, "%s?%d", k > 0 ? ", " : "", i + k);
    }
}

static vigil__sql_kind kind_of(const vigil_vital *v)
{
    return v->type == VIGIL_VITAL_NUMBER ? VIGIL__SQL_REAL : VIGIL__SQL_TEXT;
}

static void build_by_source(const vigil__obs_dialect *d, vigil__sbuf *b)
{
    (void)d;
    vigil__sb_put(b, "SELECT o.id, o.patient_id, o.t_ms, coalesce(p.nhs_number, ''), "
                     "coalesce(p.mrn, ''), (SELECT s.id FROM score s WHERE s.obs_set_id = o.id), ");
    put_cols(b, "o.");
    vigil__sb_put(b, " FROM obs_set o JOIN patient p ON p.id = o.patient_id"
                     " WHERE o.source = ?1 AND o.source_id = ?2 AND o.source_sender = ?3");
}

/* The columns the text is made of, in its order (vigil__obs_canon_text
 * reads them in the same walk), as a comma-separated list. */
static void put_canon_columns(vigil__sbuf *b)
{
    vigil__sb_put(b, "patient_id, t_ms");
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        if (v->digest_v1) {
            vigil__sb_put(b, ", %s", v->column);
        }
        if (v->param == VIGIL_NEWS2_SPO2) {
            vigil__sb_put(b, ", spo2_scale");
        }
    }
    vigil__sb_put(b, ", age_y, pregnant, source, source_id");
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        if (!v->digest_v1) {
            vigil__sb_put(b, ", %s", v->column);
        }
    }
}

/* ?1 patient, ?2 t_ms, the set from ?3, then source, source_id,
 * recorded_by, received_ms, source_sender. */
static void build_insert(const vigil__obs_dialect *d, vigil__sbuf *b)
{
    vigil__sb_put(b, "INSERT INTO obs_set (patient_id, admission_id, t_ms, ");
    put_cols(b, "");
    vigil__sb_put(b, ", source, source_id, recorded_by, received_ms, source_sender) VALUES (?1, "
                     "(SELECT id FROM admission WHERE patient_id = ?1 AND discharged_ms IS NULL), "
                     "?2, ");
    put_params(b, 3, VIGIL__OBS_NCOLS + 5);
    vigil__sb_put(b, ")%s", d->insert_tail);
    if (d->returning_canon) {
        vigil__sb_put(b, ", ");
        put_canon_columns(b);
    }
}

static void build_get(const vigil__obs_dialect *d, vigil__sbuf *b)
{
    (void)d;
    vigil__sb_put(b, "SELECT o.patient_id, ");
    put_cols(b, "o.");
    vigil__sb_put(b, " FROM obs_set o WHERE o.id = ?1");
}

/* " || '|' || quote(col)" in the dialect's words. */
static void put_quoted(const vigil__obs_dialect *d, vigil__sbuf *b, const char *col,
                       vigil__sql_kind kind)
{
    vigil__sb_put(b, " || '|' || ");
    d->quote(b, col, kind);
}

/*
 * An obs_set row's clinical content as one text: patient, time, every vital
 * sign (quote() keeps NULL apart from a value and gives every stored REAL
 * the same text each time), scale, age, pregnancy, source and source id.
 * Not admission_id, which is filled in after the fact. The first version's
 * text, for today's table: patient_id|t_ms|quote(rr_bpm)|quote(spo2_pct)|
 * spo2_scale|quote(o2)|quote(sbp_mmhg)|quote(hr_bpm)|quote(acvpu)|
 * quote(temp_c)|quote(age_y)|quote(pregnant)|source|quote(source_id).
 */
/* The canon statement of a dialect without quote(): the columns the text is
 * made of, in its order. */
static void build_canon_columns(vigil__sbuf *b)
{
    vigil__sb_put(b, "SELECT ");
    put_canon_columns(b);
    vigil__sb_put(b, " FROM obs_set WHERE id = ?1");
}

static void build_canon(const vigil__obs_dialect *d, vigil__sbuf *b)
{
    if (d->quote == NULL) {
        build_canon_columns(b);
        return;
    }
    vigil__sb_put(b, "SELECT patient_id || '|' || t_ms");
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        if (v->digest_v1) {
            put_quoted(d, b, v->column, kind_of(v));
        }
        if (v->param == VIGIL_NEWS2_SPO2) {
            vigil__sb_put(b, " || '|' || spo2_scale"); /* the scale is SpO2's, after it */
        }
    }
    put_quoted(d, b, "age_y", VIGIL__SQL_REAL);
    put_quoted(d, b, "pregnant", VIGIL__SQL_INT);
    vigil__sb_put(b, " || '|' || source");
    put_quoted(d, b, "source_id", VIGIL__SQL_TEXT);
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        if (!v->digest_v1) {
            /* only when it holds a value: quote(NULL) is the text 'NULL' */
            vigil__sb_put(b, " || CASE WHEN %s IS NULL THEN '' ELSE '|%s=' || ", v->column,
                          v->column);
            d->quote(b, v->column, kind_of(v));
            vigil__sb_put(b, " END");
        }
    }
    vigil__sb_put(b, " FROM obs_set WHERE id = ?1");
}

static void build_recent(const vigil__obs_dialect *d, vigil__sbuf *b)
{
    (void)d;
    vigil__sb_put(b, "SELECT o.t_ms, ");
    put_cols(b, "o.");
    vigil__sb_put(b, " FROM obs_set o WHERE o.patient_id = ?1 AND o.t_ms BETWEEN ?2"
                     " AND ?3 ORDER BY o.t_ms DESC, o.id DESC LIMIT ?4");
}

/* The set's columns from 10, then s.explanation, then VIGIL__SCORE_COLS. */
static void build_range(const vigil__obs_dialect *d, vigil__sbuf *b)
{
    (void)d;
    vigil__sb_put(b, "SELECT o.id, o.patient_id, coalesce(o.admission_id, 0), o.received_ms, "
                     "o.t_ms, o.source, coalesce(o.source_id, ''), coalesce(o.recorded_by, ''), "
                     "coalesce(p.nhs_number, ''), coalesce(p.mrn, ''), ");
    put_cols(b, "o.");
    vigil__sb_put(b, ", s.explanation, " VIGIL__SCORE_COLS " FROM obs_set o JOIN patient p ON "
                     "p.id = o.patient_id LEFT JOIN score s ON s.obs_set_id = o.id WHERE "
                     "o.patient_id = ?1 AND o.t_ms BETWEEN ?2 AND ?3 ORDER BY o.t_ms, o.id "
                     "LIMIT ?4");
}

/* The ward at the time through a join, not a correlated subquery: SQLite
 * then builds an automatic index on bed_stay(admission_id) for the query
 * (measured: 97,080 sets of 3,000 admissions, 7 s of CPU as a subquery, 0.06 s
 * as a join). A set before its admission's first bed stay has ward "". The
 * set's columns from 6, then score, AI, outcome, discharge and the
 * patient's administrative sex. */
static void build_set_rows(const vigil__obs_dialect *d, vigil__sbuf *b)
{
    (void)d;
    vigil__sb_put(b, "SELECT o.id, o.patient_id, o.admission_id, o.t_ms, o.received_ms, "
                     "COALESCE(b.ward, ''), ");
    put_cols(b, "o.");
    vigil__sb_put(b, ", s.news2_total, s.ai_prob,\n"
                     /* by patient first: outcome_patient (patient_id, t_ms) is the index */
                     "  (SELECT MIN(x.t_ms) FROM outcome x WHERE x.patient_id = o.patient_id\n"
                     "   AND x.admission_id = o.admission_id AND x.t_ms >= o.t_ms),\n"
                     "  a.discharged_ms, p.sex\n"
                     "FROM obs_set o JOIN admission a ON a.id = o.admission_id\n"
                     "JOIN patient p ON p.id = o.patient_id\n"
                     "LEFT JOIN score s ON s.obs_set_id = o.id\n"
                     "LEFT JOIN bed_stay b ON b.admission_id = o.admission_id AND "
                     "b.from_ms <= o.t_ms\n"
                     "  AND (b.to_ms IS NULL OR b.to_ms > o.t_ms)\n"
                     "WHERE o.t_ms >= ?1 AND o.t_ms < ?2\n"
                     "ORDER BY o.admission_id, o.t_ms, o.id");
}

vigil_status vigil__obs_sql_build(const vigil__obs_dialect *d, vigil__obs_sql *out,
                                  vigil_err *err)
{
    struct {
        char *p;
        void (*build)(const vigil__obs_dialect *, vigil__sbuf *);
        const char *what;
    } const parts[] = {
        {out->by_source, build_by_source, "by_source"},
        {out->insert, build_insert, "insert"},
        {out->get, build_get, "get"},
        {out->canon, build_canon, "canon"},
        {out->recent, build_recent, "recent"},
        {out->range, build_range, "range"},
        {out->set_rows, build_set_rows, "set_rows"},
    };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        vigil__sbuf b;
        sb_init(&b, parts[i].p, VIGIL__OBS_SQL_MAX);
        parts[i].build(d, &b);
        if (b.over) {
            return vigil_err_set(err, VIGIL_ERR_INTERNAL, "store",
                                 "the observation-set statement '%s' is longer than %d bytes",
                                 parts[i].what, VIGIL__OBS_SQL_MAX);
        }
    }
    return VIGIL_OK;
}

void vigil__obs_read(const vigil__col_io *io, void *st, int c, vigil_obs *obs)
{
    vigil_obs_init(obs);
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        int e = 0;
        switch (v->type) {
        case VIGIL_VITAL_NUMBER:
            vigil_vital_set_number(obs, v, io->col_real(st, c + p));
            break;
        case VIGIL_VITAL_O2:
            e = vigil__store_lookup(vigil__obs_o2_names, VIGIL_O2_COUNT, io->col_text(st, c + p));
            obs->o2 = e > 0 ? (vigil_o2)e : VIGIL_O2_UNKNOWN;
            break;
        case VIGIL_VITAL_ACVPU:
            e = vigil__store_lookup(vigil__obs_acvpu_names, VIGIL_ACVPU_COUNT,
                                    io->col_text(st, c + p));
            obs->acvpu = e > 0 ? (vigil_acvpu)e : VIGIL_ACVPU_UNKNOWN;
            break;
        case VIGIL_VITAL_TYPE_COUNT:
            break;
        }
    }
    c += VIGIL_NEWS2_PARAM_COUNT;
    obs->spo2_scale = io->col_int(st, c);
    obs->age_y = io->col_real(st, c + 1);
    if (io->col_null(st, c + 2)) {
        obs->pregnant = VIGIL_UNKNOWN;
    } else {
        obs->pregnant = io->col_int(st, c + 2) ? VIGIL_YES : VIGIL_NO;
    }
}

void vigil__obs_bind(const vigil__col_io *io, void *st, int i, const vigil_obs *obs)
{
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        switch (v->type) {
        case VIGIL_VITAL_NUMBER:
            io->bind_real_opt(st, i + p, vigil_vital_number(obs, v));
            break;
        case VIGIL_VITAL_O2:
            io->bind_text_opt(st, i + p, vigil__obs_o2_names[obs->o2]);
            break;
        case VIGIL_VITAL_ACVPU:
            io->bind_text_opt(st, i + p, vigil__obs_acvpu_names[obs->acvpu]);
            break;
        case VIGIL_VITAL_TYPE_COUNT:
            break;
        }
    }
    i += VIGIL_NEWS2_PARAM_COUNT;
    io->bind_int(st, i, obs->spo2_scale);
    io->bind_real_opt(st, i + 1, obs->age_y);
    if (obs->pregnant == VIGIL_UNKNOWN) {
        io->bind_null(st, i + 2);
    } else {
        io->bind_int(st, i + 2, obs->pregnant == VIGIL_YES);
    }
}

/* quote() of column c of the current row, of this kind, appended to b. */
static void canon_quote(const vigil__col_io *io, void *st, int c, vigil__sql_kind kind,
                        vigil__sbuf *b)
{
    if (io->col_null(st, c)) {
        vigil__sb_put(b, "NULL");
        return;
    }
    if (kind == VIGIL__SQL_REAL) {
        char one[VIGIL__ROW_REAL_TEXT_MAX];
        vigil__row_text_real(io->col_real(st, c), one);
        vigil__sb_put(b, "%s", one);
        return;
    }
    const char *t = io->col_text(st, c);
    if (kind != VIGIL__SQL_TEXT) {
        vigil__sb_put(b, "%s", t);
        return;
    }
    vigil__sb_put(b, "'"); /* quotes doubled; no E'' escaping of backslashes */
    for (const char *q = t; *q != '\0'; q++) {
        if (*q == '\'') {
            vigil__sb_put(b, "''");
        } else {
            vigil__sb_put(b, "%c", *q);
        }
    }
    vigil__sb_put(b, "'");
}

/* Column c of the current row as it stands in the text: its stored text. */
static void canon_raw(const vigil__col_io *io, void *st, int c, vigil__sbuf *b)
{
    const char *t = io->col_null(st, c) ? NULL : io->col_text(st, c);
    vigil__sb_put(b, "%s", t != NULL ? t : "");
}

vigil_status vigil__obs_canon_text(const vigil__col_io *io, void *st, int first, char *buf,
                                   size_t cap, size_t *len, vigil_err *err)
{
    vigil__sbuf b;
    sb_init(&b, buf, cap);
    int c = first;
    canon_raw(io, st, c++, &b);
    vigil__sb_put(&b, "|");
    canon_raw(io, st, c++, &b);
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        if (v->digest_v1) {
            vigil__sb_put(&b, "|");
            canon_quote(io, st, c++, kind_of(v), &b);
        }
        if (v->param == VIGIL_NEWS2_SPO2) {
            vigil__sb_put(&b, "|");
            canon_raw(io, st, c++, &b);
        }
    }
    vigil__sb_put(&b, "|");
    canon_quote(io, st, c++, VIGIL__SQL_REAL, &b);
    vigil__sb_put(&b, "|");
    canon_quote(io, st, c++, VIGIL__SQL_INT, &b);
    vigil__sb_put(&b, "|");
    canon_raw(io, st, c++, &b);
    vigil__sb_put(&b, "|");
    canon_quote(io, st, c++, VIGIL__SQL_TEXT, &b);
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        if (!v->digest_v1) {
            if (!io->col_null(st, c)) { /* only when it holds a value */
                vigil__sb_put(&b, "|%s=", v->column);
                canon_quote(io, st, c, kind_of(v), &b);
            }
            c++;
        }
    }
    if (b.over) {
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, "store",
                             "an observation set's digest text is longer than %zu bytes", cap);
    }
    *len = b.n;
    return VIGIL_OK;
}

static bool same_real(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

bool vigil__obs_same(const vigil_obs *a, const vigil_obs *b)
{
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        vigil_news2_param q = (vigil_news2_param)p;
        bool ha = vigil_vital_present(a, q), hb = vigil_vital_present(b, q);
        if (ha != hb || (ha && !vigil_vital_equal(a, b, q))) {
            return false;
        }
    }
    return a->spo2_scale == b->spo2_scale && same_real(a->age_y, b->age_y) &&
           a->pregnant == b->pregnant;
}
