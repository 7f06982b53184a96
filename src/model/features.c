/*
 * features.c: the feature vector at one hour of a timeline, the feature
 * table (names, groups) and the specification hash. The one implementation
 * used by training and by the live ward (docs/features.md).
 *
 * Does not: impute (NaN stays NaN), look past the hour asked for, or
 * allocate. Invariants: feature k is computed from data with t <= hour only
 * (REQ FEAT-CAUSAL), by the same arithmetic in the same order whoever calls,
 * so features_at and features_stay give bit-identical floats; the table
 * order is the specification order (REQ FEAT-SPEC-HASH) and any change to
 * names, order or meaning must bump VIGIL_FEATURES_VERSION.
 */
#include "model_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------ the table */

/* clang-format off */
/* Vital signs: the full set of latest, change and window features. */
#define VITALS(X)                                                                          \
    X(HR, hr) X(SPO2, spo2) X(TEMP, temp) X(SBP, sbp) X(MAP, map) X(DBP, dbp) X(RESP, resp) \
    X(ETCO2, etco2)

/* Laboratory values and other charting: latest and change since previous. */
#define LABS(X)                                                                            \
    X(BASE_EXCESS, base_excess) X(HCO3, hco3) X(FIO2, fio2) X(PH, ph) X(PACO2, paco2)       \
    X(SAO2, sao2) X(AST, ast) X(BUN, bun) X(ALP, alp) X(CALCIUM, calcium)                  \
    X(CHLORIDE, chloride) X(CREATININE, creatinine) X(BILI_DIRECT, bili_direct)            \
    X(GLUCOSE, glucose) X(LACTATE, lactate) X(MAGNESIUM, magnesium) X(PHOSPHATE, phosphate) \
    X(POTASSIUM, potassium) X(BILI_TOTAL, bili_total) X(TROPONIN_I, troponin_i) X(HCT, hct) \
    X(HGB, hgb) X(PTT, ptt) X(WBC, wbc) X(FIBRINOGEN, fibrinogen) X(PLATELETS, platelets)  \
    X(GCS, gcs) X(MECHVENT, mechvent) X(URINE, urine) X(PAO2, pao2) X(ALBUMIN, albumin)    \
    X(ALT, alt) X(SODIUM, sodium) X(CHOLESTEROL, cholesterol) X(TROPONIN_T, troponin_t)    \
    X(WEIGHT, weight)

/* Features that are not per-variable, in specification order. */
#define OTHERS(X)                                                                          \
    X(SHOCK_INDEX, shock_index, DERIVED)                                                   \
    X(PULSE_PRESSURE, pulse_pressure, DERIVED)                                             \
    X(SPO2_FIO2, spo2_fio2, DERIVED)                                                       \
    X(PAO2_FIO2, pao2_fio2, DERIVED)                                                       \
    X(BUN_CREATININE, bun_creatinine, DERIVED)                                             \
    X(NEWS2_TOTAL, news2_total, NEWS2)                                                     \
    X(NEWS2_RR, news2_rr, NEWS2)                                                           \
    X(NEWS2_SPO2, news2_spo2, NEWS2)                                                       \
    X(NEWS2_O2, news2_o2, NEWS2)                                                           \
    X(NEWS2_SBP, news2_sbp, NEWS2)                                                         \
    X(NEWS2_HR, news2_hr, NEWS2)                                                           \
    X(NEWS2_ACVPU, news2_acvpu, NEWS2)                                                     \
    X(NEWS2_TEMP, news2_temp, NEWS2)                                                       \
    X(NEWS2_N_MISSING, news2_n_missing, NEWS2)                                             \
    X(NEWS2_COMPLETE, news2_complete, NEWS2)                                               \
    X(NEWS2_MAX24, news2_max24, NEWS2)                                                     \
    X(AGE, age, DEMOGRAPHIC)                                                               \
    X(SEX, sex, DEMOGRAPHIC)                                                               \
    X(HOURS_SINCE_ADMIT, hours_since_admit, TIME)                                          \
    X(HOURS_SINCE_FIRST_RECORD, hours_since_first_record, TIME)

enum other_id {
#define X(id, name, group) OF_##id,
    OTHERS(X)
#undef X
        OF_COUNT
};

typedef struct feat_def {
    vigil_feature_info info;
    int other; /* enum other_id, or -1 for a per-variable feature */
} feat_def;

#define F(s, suffix, grp, st, var)                                                         \
    {{#s "_" #suffix, VIGIL_FG_##grp, VIGIL_FS_##st, (int)VIGIL_VAR_##var}, -1},

#define VITAL_DEFS(var, s)                                                                 \
    F(s, last, VITAL_LATEST, LAST, var)                                                    \
    F(s, hsince, VITAL_LATEST, HSINCE, var)                                                \
    F(s, miss, VITAL_LATEST, MISS, var)                                                    \
    F(s, d1, VITAL_CHANGE, D1, var)                                                        \
    F(s, d3, VITAL_CHANGE, D3, var)                                                        \
    F(s, d6, VITAL_CHANGE, D6, var)                                                        \
    F(s, slope6, VITAL_CHANGE, SLOPE6, var)                                                \
    F(s, slope12, VITAL_CHANGE, SLOPE12, var)                                              \
    F(s, min6, VITAL_WINDOW, MIN6, var)                                                    \
    F(s, max6, VITAL_WINDOW, MAX6, var)                                                    \
    F(s, mean6, VITAL_WINDOW, MEAN6, var)                                                  \
    F(s, min24, VITAL_WINDOW, MIN24, var)                                                  \
    F(s, max24, VITAL_WINDOW, MAX24, var)                                                  \
    F(s, mean24, VITAL_WINDOW, MEAN24, var)                                                \
    F(s, n24, VITAL_WINDOW, N24, var)                                                      \
    F(s, minall, VITAL_WINDOW, MINALL, var)                                                \
    F(s, maxall, VITAL_WINDOW, MAXALL, var)

#define LAB_DEFS(var, s)                                                                   \
    F(s, last, LAB, LAST, var)                                                             \
    F(s, hsince, LAB, HSINCE, var)                                                         \
    F(s, miss, LAB, MISS, var)                                                             \
    F(s, dprev, LAB, DPREV, var)                                                           \
    F(s, minall, LAB, MINALL, var)                                                         \
    F(s, maxall, LAB, MAXALL, var)

#define OTHER_DEFS(id, name, grp) {{#name, VIGIL_FG_##grp, VIGIL_FS_OTHER, -1}, OF_##id},

static const feat_def defs[] = {VITALS(VITAL_DEFS) LABS(LAB_DEFS) OTHERS(OTHER_DEFS)};
/* clang-format on */

#define N_DEFS (sizeof defs / sizeof defs[0])

_Static_assert(N_DEFS == VIGIL_FEATURES_COUNT, "VIGIL_FEATURES_COUNT must match the table");

static const char *const group_names[VIGIL_FG_COUNT] = {
    [VIGIL_FG_VITAL_LATEST] = "vital_latest", [VIGIL_FG_VITAL_CHANGE] = "vital_change",
    [VIGIL_FG_VITAL_WINDOW] = "vital_window", [VIGIL_FG_LAB] = "lab",
    [VIGIL_FG_DERIVED] = "derived",           [VIGIL_FG_NEWS2] = "news2",
    [VIGIL_FG_DEMOGRAPHIC] = "demographic",   [VIGIL_FG_TIME] = "time",
};

size_t vigil_features_count(void)
{
    return N_DEFS;
}

const vigil_feature_info *vigil_features_info(size_t i)
{
    return i < N_DEFS ? &defs[i].info : NULL;
}

vigil_status vigil_features_find(const char *name, size_t *out_index)
{
    if (name == NULL || out_index == NULL) {
        return VIGIL_ERR_ARG;
    }
    for (size_t i = 0; i < N_DEFS; i++) {
        if (strcmp(defs[i].info.name, name) == 0) {
            *out_index = i;
            return VIGIL_OK;
        }
    }
    return VIGIL_ERR_NOT_FOUND;
}

const char *vigil_feature_group_name(vigil_feature_group g)
{
    return (unsigned)g < VIGIL_FG_COUNT ? group_names[g] : "?";
}

/* ------------------------------------------------------ specification */

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

static uint64_t fnv_update(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

uint64_t vigil_fnv1a64(const void *data, size_t n)
{
    return fnv_update(FNV_OFFSET, data, n);
}

/* The specification header line. */
static size_t spec_head(char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "vigil-features v%d\n", VIGIL_FEATURES_VERSION);
    return n > 0 ? (size_t)n : 0;
}

size_t vigil_features_spec(char *buf, size_t cap)
{
    char head[64];
    size_t hn = spec_head(head, sizeof head);
    size_t need = hn;
    for (size_t i = 0; i < N_DEFS; i++) {
        need += strlen(defs[i].info.name) + 1;
    }
    if (buf == NULL || cap == 0) {
        return need;
    }
    size_t w = 0;
    for (size_t i = 0; i <= N_DEFS; i++) {
        const char *s = i == 0 ? head : defs[i - 1].info.name;
        size_t n = i == 0 ? hn : strlen(s);
        for (size_t k = 0; k < n + (i == 0 ? 0 : 1) && w + 1 < cap; k++) {
            buf[w++] = k < n ? s[k] : '\n';
        }
    }
    buf[w] = '\0';
    return need;
}

uint64_t vigil_features_spec_hash(void)
{
    /* REQ FEAT-SPEC-HASH: FNV-1a 64 over exactly vigil_features_spec()'s text. */
    char head[64];
    size_t hn = spec_head(head, sizeof head);
    uint64_t h = fnv_update(FNV_OFFSET, head, hn);
    for (size_t i = 0; i < N_DEFS; i++) {
        h = fnv_update(h, defs[i].info.name, strlen(defs[i].info.name));
        h = fnv_update(h, "\n", 1);
    }
    return h;
}

void vigil_features_spec_hash_hex(char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)vigil_features_spec_hash());
}

/* ------------------------------------------------------ computation */

/* Statistics of one variable at one hour, indexed by vigil_feature_stat. */
typedef double stats[VIGIL_FS_COUNT];

static double last_before(const vigil__series *s, size_t i)
{
    return i > 0 ? s->v[i - 1] : NAN;
}

/* min, max, mean of v[a..b) (NaN when empty); sum in index order. */
static void window(const vigil__series *s, size_t a, size_t b, double *mn, double *mx, double *mean)
{
    if (a >= b) {
        *mn = *mx = *mean = NAN;
        return;
    }
    double lo = s->v[a], hi = s->v[a], sum = 0.0;
    for (size_t i = a; i < b; i++) {
        double x = s->v[i];
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
        sum += x;
    }
    *mn = lo;
    *mx = hi;
    *mean = sum / (double)(b - a);
}

/* Least-squares slope (units per hour) of v on t over [a, b): NaN with
 * fewer than two points. Times are taken relative to the hour so the sums
 * stay small; two passes (means first) for accuracy. */
static double slope(const vigil__series *s, size_t a, size_t b, long hour)
{
    if (b < a + 2) {
        return NAN;
    }
    double n = (double)(b - a), h = (double)hour, st = 0.0, sv = 0.0;
    for (size_t i = a; i < b; i++) {
        st += s->t[i] - h;
        sv += s->v[i];
    }
    double mt = st / n, mv = sv / n, sxx = 0.0, sxy = 0.0;
    for (size_t i = a; i < b; i++) {
        double dt = (s->t[i] - h) - mt;
        sxx += dt * dt;
        sxy += dt * (s->v[i] - mv);
    }
    return sxx > 0.0 ? sxy / sxx : NAN;
}

static void latest_stats(const vigil_timeline *tl, vigil_var var, long hour, stats st,
                         size_t *out_i)
{
    const vigil__series *s = &tl->s[var];
    size_t i = vigil__tl_cnt(tl, var, hour);
    st[VIGIL_FS_LAST] = last_before(s, i);
    st[VIGIL_FS_HSINCE] = i > 0 ? (double)hour - s->t[i - 1] : NAN;
    st[VIGIL_FS_MISS] = i > 0 ? 0.0 : 1.0;
    *out_i = i;
}

static void vital_stats(const vigil_timeline *tl, vigil_var var, long hour, stats st)
{
    const vigil__series *s = &tl->s[var];
    size_t i = 0;
    latest_stats(tl, var, hour, st, &i);
    double last = st[VIGIL_FS_LAST];
    st[VIGIL_FS_D1] = last - last_before(s, vigil__tl_cnt(tl, var, hour - 1));
    st[VIGIL_FS_D3] = last - last_before(s, vigil__tl_cnt(tl, var, hour - 3));
    size_t i6 = vigil__tl_cnt(tl, var, hour - 6);
    size_t i12 = vigil__tl_cnt(tl, var, hour - 12);
    size_t i24 = vigil__tl_cnt(tl, var, hour - 24);
    st[VIGIL_FS_D6] = last - last_before(s, i6);
    st[VIGIL_FS_SLOPE6] = slope(s, i6, i, hour);
    st[VIGIL_FS_SLOPE12] = slope(s, i12, i, hour);
    window(s, i6, i, &st[VIGIL_FS_MIN6], &st[VIGIL_FS_MAX6], &st[VIGIL_FS_MEAN6]);
    window(s, i24, i, &st[VIGIL_FS_MIN24], &st[VIGIL_FS_MAX24], &st[VIGIL_FS_MEAN24]);
    st[VIGIL_FS_N24] = (double)(i - i24);
    double mean_all;
    window(s, 0, i, &st[VIGIL_FS_MINALL], &st[VIGIL_FS_MAXALL], &mean_all);
}

static void lab_stats(const vigil_timeline *tl, vigil_var var, long hour, stats st)
{
    const vigil__series *s = &tl->s[var];
    size_t i = 0;
    latest_stats(tl, var, hour, st, &i);
    st[VIGIL_FS_DPREV] = i >= 2 ? s->v[i - 1] - s->v[i - 2] : NAN;
    double mean_all;
    window(s, 0, i, &st[VIGIL_FS_MINALL], &st[VIGIL_FS_MAXALL], &mean_all);
}

static double last_at(const vigil_timeline *tl, vigil_var var, long hour)
{
    return last_before(&tl->s[var], vigil__tl_cnt(tl, var, hour));
}

static double ratio(double a, double b)
{
    return b != 0.0 ? a / b : NAN; /* NaN inputs give NaN */
}

static void other_features(const vigil_timeline *tl, long hour, double o[OF_COUNT])
{
    double hr = last_at(tl, VIGIL_VAR_HR, hour), sbp = last_at(tl, VIGIL_VAR_SBP, hour);
    double fio2 = last_at(tl, VIGIL_VAR_FIO2, hour);
    o[OF_SHOCK_INDEX] = ratio(hr, sbp);
    o[OF_PULSE_PRESSURE] = sbp - last_at(tl, VIGIL_VAR_DBP, hour);
    o[OF_SPO2_FIO2] = ratio(last_at(tl, VIGIL_VAR_SPO2, hour), fio2);
    o[OF_PAO2_FIO2] = ratio(last_at(tl, VIGIL_VAR_PAO2, hour), fio2);
    o[OF_BUN_CREATININE] =
        ratio(last_at(tl, VIGIL_VAR_BUN, hour), last_at(tl, VIGIL_VAR_CREATININE, hour));

    vigil__news2_hour n;
    vigil__tl_news2_hour(tl, hour, &n);
    o[OF_NEWS2_TOTAL] = n.total >= 0 ? (double)n.total : NAN;
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        o[OF_NEWS2_RR + p] = n.sub[p] >= 0 ? (double)n.sub[p] : NAN;
    }
    o[OF_NEWS2_N_MISSING] = (double)n.n_missing;
    o[OF_NEWS2_COMPLETE] = n.complete ? 1.0 : 0.0;
    int best = -1;
    for (long g = hour - 23; g <= hour; g++) {
        if (tl->have_grid && g < tl->lo) {
            continue; /* no data yet: nothing to score */
        }
        vigil__news2_hour m;
        vigil__tl_news2_hour(tl, g, &m);
        best = m.total > best ? m.total : best;
    }
    o[OF_NEWS2_MAX24] = best >= 0 ? (double)best : NAN;

    o[OF_AGE] = tl->age_y;
    o[OF_SEX] = tl->sex;
    o[OF_HOURS_SINCE_ADMIT] = (double)hour;
    o[OF_HOURS_SINCE_FIRST_RECORD] = (double)hour - tl->first_t;
}

_Static_assert(OF_NEWS2_TEMP - OF_NEWS2_RR == VIGIL_NEWS2_TEMP - VIGIL_NEWS2_RR,
               "NEWS2 sub-score features follow vigil_news2_param order");

/* Stat order of the per-variable templates; must follow VITAL_DEFS and
 * LAB_DEFS (checked by tests/model/test_features.c through the table). */
static const vigil_feature_stat vital_tmpl[] = {
    VIGIL_FS_LAST,  VIGIL_FS_HSINCE, VIGIL_FS_MISS,    VIGIL_FS_D1,     VIGIL_FS_D3,
    VIGIL_FS_D6,    VIGIL_FS_SLOPE6, VIGIL_FS_SLOPE12, VIGIL_FS_MIN6,   VIGIL_FS_MAX6,
    VIGIL_FS_MEAN6, VIGIL_FS_MIN24,  VIGIL_FS_MAX24,   VIGIL_FS_MEAN24, VIGIL_FS_N24,
    VIGIL_FS_MINALL, VIGIL_FS_MAXALL,
};
static const vigil_feature_stat lab_tmpl[] = {VIGIL_FS_LAST,  VIGIL_FS_HSINCE, VIGIL_FS_MISS,
                                              VIGIL_FS_DPREV, VIGIL_FS_MINALL, VIGIL_FS_MAXALL};
#define N_VITAL_TMPL (sizeof vital_tmpl / sizeof vital_tmpl[0])
#define N_LAB_TMPL (sizeof lab_tmpl / sizeof lab_tmpl[0])

static const vigil_var vital_vars[] = {
#define X(id, s) VIGIL_VAR_##id,
    VITALS(X)
#undef X
};
static const vigil_var lab_vars[] = {
#define X(id, s) VIGIL_VAR_##id,
    LABS(X)
#undef X
};
#define N_VITALS (sizeof vital_vars / sizeof vital_vars[0])
#define N_LABS (sizeof lab_vars / sizeof lab_vars[0])
#define OTHER_BASE (N_VITALS * N_VITAL_TMPL + N_LABS * N_LAB_TMPL)

_Static_assert(OTHER_BASE + OF_COUNT == N_DEFS, "feature blocks must cover the table");

/* The one computation behind features_at and features_stay: vitals, then
 * labs, then the other features, in table order. */
static void compute(const vigil_timeline *tl, long hour, float *out)
{
    stats st;
    float *o = out;
    for (size_t j = 0; j < N_VITALS; j++) {
        vital_stats(tl, vital_vars[j], hour, st);
        for (size_t t = 0; t < N_VITAL_TMPL; t++) {
            *o++ = (float)st[vital_tmpl[t]];
        }
    }
    for (size_t j = 0; j < N_LABS; j++) {
        lab_stats(tl, lab_vars[j], hour, st);
        for (size_t t = 0; t < N_LAB_TMPL; t++) {
            *o++ = (float)st[lab_tmpl[t]];
        }
    }
    double other[OF_COUNT];
    other_features(tl, hour, other);
    for (size_t k = 0; k < OF_COUNT; k++) {
        *o++ = (float)other[k];
    }
}

vigil_status vigil_features_at(const vigil_timeline *tl, long hour, float *out, size_t n_out,
                               vigil_err *err)
{
    if (tl == NULL || out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "features", "no timeline or output");
    }
    if (!tl->finished) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "features",
                             "timeline not finished (call vigil_timeline_finish)");
    }
    if (n_out < N_DEFS) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "features", "output holds %zu, need %zu", n_out,
                             (size_t)N_DEFS);
    }
    if (hour < -(long)VIGIL_TIMELINE_T_MAX - 1 || hour > (long)VIGIL_TIMELINE_T_MAX + 1) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "hour", "hour %ld out of range", hour);
    }
    compute(tl, hour, out);
    return VIGIL_OK;
}

vigil_status vigil_features_stay(const vigil_timeline *tl, float *out, size_t cap_rows,
                                 size_t *out_rows, vigil_err *err)
{
    if (tl == NULL || out_rows == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "features", "no timeline or output");
    }
    if (!tl->finished) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "features",
                             "timeline not finished (call vigil_timeline_finish)");
    }
    long first = vigil_timeline_first_hour(tl), last = vigil_timeline_last_hour(tl);
    if (first == VIGIL_TIMELINE_NO_HOUR) {
        *out_rows = 0;
        return VIGIL_OK;
    }
    size_t rows = (size_t)(last - first + 1);
    if (rows > cap_rows || out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "features", "%zu rows needed, room for %zu", rows,
                             cap_rows);
    }
    for (size_t r = 0; r < rows; r++) {
        compute(tl, first + (long)r, out + r * N_DEFS);
    }
    *out_rows = rows;
    return VIGIL_OK;
}
