/*
 * sq_obs_sql.c: SQLite backend: the statements that name obs_set's
 * vital-sign columns, and the reading and binding of those columns, all
 * from the vital-sign table (vigil/vitals.h: each row's column and type),
 * so a new parameter reaches the store's SQL with no edit here (issue 11).
 *
 * Does not: create or alter the table (sq_schema.c; docs/core.md "Adding a
 * vital sign"), or run anything: the statements are written once per
 * connection at open (never per set: the ACK path only looks them up in
 * the statement cache) and run by sq_obs.c and sq_set_rows.c.
 *
 * Invariants: a set's columns are always SQ_OBS_NCOLS in a row, one per
 * table row in table order, then spo2_scale, age_y, pregnant. The audit
 * row digest's text (canon) is byte-identical to the one of the first
 * version of the chain for every row stored so far: the digest_v1 columns
 * in table order with spo2_scale after SpO2's, then a later parameter's
 * column only when it holds a value (REQ STORE-AUDIT-ROW-CONTENT).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sqlite_int.h"
#include "vigil/vitals.h"

/* Text stored for the enumerated parameters; index = enum value, "" = NULL. */
static const char *const o2_names[VIGIL_O2_COUNT] = {"", "air", "oxygen"};
static const char *const acvpu_names[VIGIL_ACVPU_COUNT] = {"", "A", "C", "V", "P", "U"};

/* An append-only text in a fixed buffer; over = it did not fit. */
typedef struct sbuf {
    char *p;
    size_t cap, n;
    bool over;
} sbuf;

static void sb_init(sbuf *b, char *p, size_t cap)
{
    b->p = p;
    b->cap = cap;
    b->n = 0;
    b->over = false;
    p[0] = '\0';
}

__attribute__((format(printf, 2, 3))) static void sb_put(sbuf *b, const char *fmt, ...)
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
 * SQ_OBS_NCOLS set columns with the table alias prefix. */
static void put_cols(sbuf *b, const char *prefix)
{
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        sb_put(b, "%s%s, ", prefix, vigil_vital_get((vigil_news2_param)p)->column);
    }
    sb_put(b, "%sspo2_scale, %sage_y, %spregnant", prefix, prefix, prefix);
}

/* "?i, ?i+1, ...": n numbered parameters from ?i. */
static void put_params(sbuf *b, int i, int n)
{
    for (int k = 0; k < n; k++) {
        sb_put(b, "%s?%d", k > 0 ? ", " : "", i + k);
    }
}

static void build_by_source(sbuf *b)
{
    sb_put(b, "SELECT o.id, o.patient_id, o.t_ms, coalesce(p.nhs_number, ''), "
              "coalesce(p.mrn, ''), (SELECT s.id FROM score s WHERE s.obs_set_id = o.id), ");
    put_cols(b, "o.");
    sb_put(b, " FROM obs_set o JOIN patient p ON p.id = o.patient_id"
              " WHERE o.source = ?1 AND o.source_id = ?2 AND o.source_sender = ?3");
}

/* ?1 patient, ?2 t_ms, the set from ?3, then source, source_id,
 * recorded_by, received_ms, source_sender (sq_obs.c put_one). */
static void build_insert(sbuf *b)
{
    sb_put(b, "INSERT INTO obs_set (patient_id, admission_id, t_ms, ");
    put_cols(b, "");
    sb_put(b, ", source, source_id, recorded_by, received_ms, source_sender) VALUES (?1, "
              "(SELECT id FROM admission WHERE patient_id = ?1 AND discharged_ms IS NULL), ?2, ");
    put_params(b, 3, SQ_OBS_NCOLS + 5);
    sb_put(b, ")");
}

static void build_get(sbuf *b)
{
    sb_put(b, "SELECT o.patient_id, ");
    put_cols(b, "o.");
    sb_put(b, " FROM obs_set o WHERE o.id = ?1");
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
static void build_canon(sbuf *b)
{
    sb_put(b, "SELECT patient_id || '|' || t_ms");
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        if (v->digest_v1) {
            sb_put(b, " || '|' || quote(%s)", v->column);
        }
        if (v->param == VIGIL_NEWS2_SPO2) {
            sb_put(b, " || '|' || spo2_scale"); /* the scale is SpO2's, after it */
        }
    }
    sb_put(b, " || '|' || quote(age_y) || '|' || quote(pregnant) || '|' || source || '|' || "
              "quote(source_id)");
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        if (!v->digest_v1) {
            sb_put(b, " || coalesce('|%s=' || quote(%s), '')", v->column, v->column);
        }
    }
    sb_put(b, " FROM obs_set WHERE id = ?1");
}

static void build_recent(sbuf *b)
{
    sb_put(b, "SELECT o.t_ms, ");
    put_cols(b, "o.");
    sb_put(b, " FROM obs_set o WHERE o.patient_id = ?1 AND o.t_ms BETWEEN ?2"
              " AND ?3 ORDER BY o.t_ms DESC, o.id DESC LIMIT ?4");
}

/* The set's columns from 10, then s.explanation, then SQ_SCORE_COLS
 * (sq_obs.c RANGE_SCORE_COL). */
static void build_range(sbuf *b)
{
    sb_put(b, "SELECT o.id, o.patient_id, coalesce(o.admission_id, 0), o.received_ms, o.t_ms, "
              "o.source, coalesce(o.source_id, ''), coalesce(o.recorded_by, ''), "
              "coalesce(p.nhs_number, ''), coalesce(p.mrn, ''), ");
    put_cols(b, "o.");
    sb_put(b, ", s.explanation, " SQ_SCORE_COLS " FROM obs_set o JOIN patient p ON p.id = "
              "o.patient_id LEFT JOIN score s ON s.obs_set_id = o.id WHERE o.patient_id = ?1 AND "
              "o.t_ms BETWEEN ?2 AND ?3 ORDER BY o.t_ms, o.id LIMIT ?4");
}

/* The ward at the time through a join, not a correlated subquery: SQLite
 * then builds an automatic index on bed_stay(admission_id) for the query
 * (measured: 97,080 sets of 3,000 admissions, 7 s of CPU as a subquery, 0.06 s
 * as a join). A set before its admission's first bed stay has ward "". The
 * set's columns from 6, then score, AI, outcome, discharge and the
 * patient's administrative sex (sq_set_rows.c). */
static void build_set_rows(sbuf *b)
{
    sb_put(b, "SELECT o.id, o.patient_id, o.admission_id, o.t_ms, o.received_ms, "
              "COALESCE(b.ward, ''), ");
    put_cols(b, "o.");
    sb_put(b, ", s.news2_total, s.ai_prob,\n"
              /* by patient first: outcome_patient (patient_id, t_ms) is the index there is */
              "  (SELECT MIN(x.t_ms) FROM outcome x WHERE x.patient_id = o.patient_id\n"
              "   AND x.admission_id = o.admission_id AND x.t_ms >= o.t_ms),\n"
              "  a.discharged_ms, p.sex\n"
              "FROM obs_set o JOIN admission a ON a.id = o.admission_id\n"
              "JOIN patient p ON p.id = o.patient_id\n"
              "LEFT JOIN score s ON s.obs_set_id = o.id\n"
              "LEFT JOIN bed_stay b ON b.admission_id = o.admission_id AND b.from_ms <= o.t_ms\n"
              "  AND (b.to_ms IS NULL OR b.to_ms > o.t_ms)\n"
              "WHERE o.t_ms >= ?1 AND o.t_ms < ?2\n"
              "ORDER BY o.admission_id, o.t_ms, o.id");
}

vigil_status sq_obs_sql_build(sq_obs_sql *out, vigil_err *err)
{
    struct {
        char *p;
        void (*build)(sbuf *);
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
        sbuf b;
        sb_init(&b, parts[i].p, SQ_OBS_SQL_MAX);
        parts[i].build(&b);
        if (b.over) {
            return vigil_err_set(err, VIGIL_ERR_INTERNAL, "store",
                                 "the observation-set statement '%s' is longer than %d bytes",
                                 parts[i].what, SQ_OBS_SQL_MAX);
        }
    }
    return VIGIL_OK;
}

void sq_obs_read(sqlite3_stmt *st, int c, vigil_obs *obs)
{
    vigil_obs_init(obs);
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        int e = 0;
        switch (v->type) {
        case VIGIL_VITAL_NUMBER:
            vigil_vital_set_number(obs, v, sq_col_real(st, c + p));
            break;
        case VIGIL_VITAL_O2:
            e = sq_col_enum(st, c + p, o2_names, VIGIL_O2_COUNT);
            obs->o2 = e > 0 ? (vigil_o2)e : VIGIL_O2_UNKNOWN;
            break;
        case VIGIL_VITAL_ACVPU:
            e = sq_col_enum(st, c + p, acvpu_names, VIGIL_ACVPU_COUNT);
            obs->acvpu = e > 0 ? (vigil_acvpu)e : VIGIL_ACVPU_UNKNOWN;
            break;
        case VIGIL_VITAL_TYPE_COUNT:
            break;
        }
    }
    c += VIGIL_NEWS2_PARAM_COUNT;
    obs->spo2_scale = sqlite3_column_int(st, c);
    obs->age_y = sq_col_real(st, c + 1);
    if (sqlite3_column_type(st, c + 2) == SQLITE_NULL) {
        obs->pregnant = VIGIL_UNKNOWN;
    } else {
        obs->pregnant = sqlite3_column_int(st, c + 2) ? VIGIL_YES : VIGIL_NO;
    }
}

void sq_obs_bind(sqlite3_stmt *st, int i, const vigil_obs *obs)
{
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        switch (v->type) {
        case VIGIL_VITAL_NUMBER:
            sq_bind_real_opt(st, i + p, vigil_vital_number(obs, v));
            break;
        case VIGIL_VITAL_O2:
            sq_bind_text_opt(st, i + p, o2_names[obs->o2]);
            break;
        case VIGIL_VITAL_ACVPU:
            sq_bind_text_opt(st, i + p, acvpu_names[obs->acvpu]);
            break;
        case VIGIL_VITAL_TYPE_COUNT:
            break;
        }
    }
    i += VIGIL_NEWS2_PARAM_COUNT;
    sqlite3_bind_int(st, i, obs->spo2_scale);
    sq_bind_real_opt(st, i + 1, obs->age_y);
    if (obs->pregnant == VIGIL_UNKNOWN) {
        sqlite3_bind_null(st, i + 2);
    } else {
        sqlite3_bind_int(st, i + 2, obs->pregnant == VIGIL_YES);
    }
}

static bool same_real(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

bool sq_obs_same(const vigil_obs *a, const vigil_obs *b)
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
