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
    X(MSHOCK_INDEX, mshock_index, DERIVED)                                                 \
    X(AGE_SHOCK_INDEX, age_shock_index, DERIVED)                                           \
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
    X(NEWS2_PHYS, news2_phys, NEWS2)                                                       \
    X(NEWS2_PHYS_D6, news2_phys_d6, NEWS2)                                                 \
    X(NEWS2_PHYS_D24, news2_phys_d24, NEWS2)                                               \
    X(NEWS2_PHYS_MEAN24, news2_phys_mean24, NEWS2)                                         \
    X(NEWS2_PHYS_MAX24, news2_phys_max24, NEWS2)                                           \
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
    F(s, maxall, VITAL_WINDOW, MAXALL, var)                                                \
    F(s, d12, VITAL_CHANGE, D12, var)                                                      \
    F(s, d24, VITAL_CHANGE, D24, var)                                                      \
    F(s, sd6, VITAL_WINDOW, SD6, var)                                                      \
    F(s, sd24, VITAL_WINDOW, SD24, var)                                                    \
    F(s, devbase, VITAL_CHANGE, DEVBASE, var)                                              \
    F(s, abn6, VITAL_WINDOW, ABN6, var)                                                    \
    F(s, abn24, VITAL_WINDOW, ABN24, var)                                                  \
    F(s, above, VITAL_LATEST, ABOVE, var)                                                  \
    F(s, below, VITAL_LATEST, BELOW, var)                                                  \
    F(s, above6, VITAL_WINDOW, ABOVE6, var)                                                \
    F(s, below6, VITAL_WINDOW, BELOW6, var)                                                \
    F(s, above24, VITAL_WINDOW, ABOVE24, var)                                              \
    F(s, below24, VITAL_WINDOW, BELOW24, var)

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

/* Sample standard deviation of v[a..b) (NaN with fewer than two), two passes. */
static double stdev(const vigil__series *s, size_t a, size_t b)
{
    if (b < a + 2) {
        return NAN;
    }
    double sum = 0.0;
    for (size_t i = a; i < b; i++) {
        sum += s->v[i];
    }
    double mean = sum / (double)(b - a), ss = 0.0;
    for (size_t i = a; i < b; i++) {
        ss += (s->v[i] - mean) * (s->v[i] - mean);
    }
    return sqrt(ss / (double)(b - a - 1));
}

/* The normal range of each vital for the time-outside-range features: the
 * NEWS2 zero-point bands (RCP 2017, Scale 1) for the NEWS2 parameters;
 * MAP 65-110 mmHg, DBP 50-90 mmHg and EtCO2 35-45 mmHg otherwise. Bounds
 * inclusive. `below_from` and `above_from` are where the distance features
 * (spec v4) start: on the side where sepsis and shock move the vital
 * (pulse and respiration up, temperature up, blood pressure down, SpO2
 * down) from a healthy adult's typical value (pulse 70/min, respiration
 * 16/min, 37.0 C, systolic 120 mmHg, MAP 85, diastolic 70, SpO2 98%), so
 * the whole gradient is read; on the other side from the normal range's
 * edge, so that side is zero for almost every patient and a patient who
 * never went there is not "reassured" by it. EtCO2: the range's edges. */
static const struct {
    vigil_var var;
    double lo, hi, below_from, above_from;
} normal_range[] = {
    {VIGIL_VAR_HR, 51, 90, 51, 70},          {VIGIL_VAR_SPO2, 96, 100, 98, 100},
    {VIGIL_VAR_TEMP, 36.1, 38.0, 36.1, 37},  {VIGIL_VAR_SBP, 111, 219, 120, 219},
    {VIGIL_VAR_MAP, 65, 110, 85, 110},       {VIGIL_VAR_DBP, 50, 90, 70, 90},
    {VIGIL_VAR_RESP, 12, 20, 12, 16},        {VIGIL_VAR_ETCO2, 35, 45, 35, 45},
};

/* Where var's distance below (above: 1) normal starts (NaN when none). */
static double distance_from(vigil_var var, int above)
{
    for (size_t k = 0; k < sizeof normal_range / sizeof normal_range[0]; k++) {
        if (normal_range[k].var == var) {
            return above ? normal_range[k].above_from : normal_range[k].below_from;
        }
    }
    return NAN;
}

/* How far x lies beyond ref in the direction sign (+1 above, -1 below):
 * 0 on the other side, NaN when x is NaN. */
static double beyond(double x, double ref, double sign)
{
    if (isnan(x)) {
        return NAN;
    }
    double d = sign * (x - ref);
    return d > 0.0 ? d : 0.0;
}

/* Fraction of v[a..b) outside var's normal range (NaN when empty). */
static double abnormal_frac(const vigil__series *s, vigil_var var, size_t a, size_t b)
{
    if (a >= b) {
        return NAN;
    }
    double lo = -INFINITY, hi = INFINITY;
    for (size_t k = 0; k < sizeof normal_range / sizeof normal_range[0]; k++) {
        if (normal_range[k].var == var) {
            lo = normal_range[k].lo;
            hi = normal_range[k].hi;
        }
    }
    size_t out = 0;
    for (size_t i = a; i < b; i++) {
        out += s->v[i] < lo || s->v[i] > hi;
    }
    return (double)out / (double)(b - a);
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
    st[VIGIL_FS_D12] = last - last_before(s, i12);
    st[VIGIL_FS_D24] = last - last_before(s, i24);
    st[VIGIL_FS_SD6] = stdev(s, i6, i);
    st[VIGIL_FS_SD24] = stdev(s, i24, i);
    double bmin, bmax, bmean;
    window(s, i24, i6, &bmin, &bmax, &bmean);
    st[VIGIL_FS_DEVBASE] = last - bmean;
    st[VIGIL_FS_ABN6] = abnormal_frac(s, var, i6, i);
    st[VIGIL_FS_ABN24] = abnormal_frac(s, var, i24, i);
    /* distance from the reference, each side apart (spec v4): the latest
     * value and the farthest excursion over 6 and 24 h, which is never
     * smaller than the latest one's, so a calm day cannot hide a bad hour */
    double up = distance_from(var, 1), down = distance_from(var, 0);
    st[VIGIL_FS_ABOVE] = beyond(last, up, 1.0);
    st[VIGIL_FS_BELOW] = beyond(last, down, -1.0);
    st[VIGIL_FS_ABOVE6] = beyond(st[VIGIL_FS_MAX6], up, 1.0);
    st[VIGIL_FS_BELOW6] = beyond(st[VIGIL_FS_MIN6], down, -1.0);
    st[VIGIL_FS_ABOVE24] = beyond(st[VIGIL_FS_MAX24], up, 1.0);
    st[VIGIL_FS_BELOW24] = beyond(st[VIGIL_FS_MIN24], down, -1.0);
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

/* The physiological part of NEWS2 at hour: the sum of the present
 * respiration, SpO2, blood pressure, pulse and temperature points (no
 * oxygen or consciousness points, whose charting differs between the ICU
 * data and a ward); NaN when none is present or before the first data. */
static double news2_phys(const vigil_timeline *tl, long hour)
{
    if (!tl->have_grid || hour < tl->lo) {
        return NAN;
    }
    static const vigil_news2_param phys[] = {VIGIL_NEWS2_RR, VIGIL_NEWS2_SPO2, VIGIL_NEWS2_SBP,
                                             VIGIL_NEWS2_HR, VIGIL_NEWS2_TEMP};
    vigil__news2_hour n;
    vigil__tl_news2_hour(tl, hour, &n);
    int sum = 0, present = 0;
    for (size_t k = 0; k < sizeof phys / sizeof phys[0]; k++) {
        if (n.sub[phys[k]] >= 0) {
            sum += n.sub[phys[k]];
            present++;
        }
    }
    return present > 0 ? (double)sum : NAN;
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
    o[OF_MSHOCK_INDEX] = ratio(hr, last_at(tl, VIGIL_VAR_MAP, hour));
    o[OF_AGE_SHOCK_INDEX] = tl->age_y * o[OF_SHOCK_INDEX];

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
    o[OF_NEWS2_PHYS] = news2_phys(tl, hour);
    o[OF_NEWS2_PHYS_D6] = o[OF_NEWS2_PHYS] - news2_phys(tl, hour - 6);
    o[OF_NEWS2_PHYS_D24] = o[OF_NEWS2_PHYS] - news2_phys(tl, hour - 24);
    double sum = 0.0, hi = NAN;
    size_t n_h = 0;
    for (long g = hour - 23; g <= hour; g++) {
        double v = news2_phys(tl, g);
        if (!isnan(v)) {
            sum += v;
            n_h++;
            hi = isnan(hi) || v > hi ? v : hi;
        }
    }
    o[OF_NEWS2_PHYS_MEAN24] = n_h > 0 ? sum / (double)n_h : NAN;
    o[OF_NEWS2_PHYS_MAX24] = hi;

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
    VIGIL_FS_MINALL, VIGIL_FS_MAXALL, VIGIL_FS_D12,    VIGIL_FS_D24,    VIGIL_FS_SD6,
    VIGIL_FS_SD24,   VIGIL_FS_DEVBASE, VIGIL_FS_ABN6,  VIGIL_FS_ABN24,  VIGIL_FS_ABOVE,
    VIGIL_FS_BELOW,  VIGIL_FS_ABOVE6,  VIGIL_FS_BELOW6, VIGIL_FS_ABOVE24, VIGIL_FS_BELOW24,
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

/* ------------------------------------------------------ feature sets */

static const char *const set_names[VIGIL_FSET_COUNT] = {
    [VIGIL_FSET_RESEARCH] = "research",
    [VIGIL_FSET_WARD_VITALS] = "ward-vitals",
    [VIGIL_FSET_WARD_LABS] = "ward-vitals+labs",
};

const char *vigil_feature_set_name(vigil_feature_set s)
{
    return (unsigned)s < VIGIL_FSET_COUNT ? set_names[s] : "?";
}

vigil_status vigil_feature_set_from_name(const char *name, vigil_feature_set *out)
{
    for (int s = 0; name != NULL && s < VIGIL_FSET_COUNT; s++) {
        if (strcmp(name, set_names[s]) == 0) {
            *out = (vigil_feature_set)s;
            return VIGIL_OK;
        }
    }
    return VIGIL_ERR_NOT_FOUND;
}

/* The vitals of a ward observation set the ward models read. */
static const vigil_var ward_vitals[] = {VIGIL_VAR_RESP, VIGIL_VAR_SPO2, VIGIL_VAR_TEMP,
                                        VIGIL_VAR_SBP, VIGIL_VAR_HR};
/* Routine bloods a ward gets from the lab feed (values only). */
static const vigil_var ward_labs[] = {
    VIGIL_VAR_CREATININE, VIGIL_VAR_BUN,        VIGIL_VAR_WBC,       VIGIL_VAR_PLATELETS,
    VIGIL_VAR_HGB,        VIGIL_VAR_BILI_TOTAL, VIGIL_VAR_LACTATE,   VIGIL_VAR_POTASSIUM,
    VIGIL_VAR_SODIUM,     VIGIL_VAR_GLUCOSE,
};
/* Features from several variables, with what each needs. */
static const struct {
    const char *name;
    bool needs_labs;
} ward_others[] = {
    {"shock_index", false},    {"age_shock_index", false},   {"bun_creatinine", true},
    {"news2_rr", false},       {"news2_spo2", false},        {"news2_sbp", false},
    {"news2_hr", false},       {"news2_temp", false},        {"news2_phys", false},
    {"news2_phys_d6", false},  {"news2_phys_d24", false},    {"news2_phys_mean24", false},
    {"news2_phys_max24", false}, {"age", false},             {"sex", false},
};

static bool var_in(vigil_var v, const vigil_var *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (list[i] == v) {
            return true;
        }
    }
    return false;
}

const char *vigil_feature_set_source(vigil_feature_set s, vigil_var v)
{
    if (s != VIGIL_FSET_WARD_VITALS && s != VIGIL_FSET_WARD_LABS) {
        return NULL;
    }
    if (var_in(v, ward_vitals, sizeof ward_vitals / sizeof ward_vitals[0])) {
        return "observation set";
    }
    if (s == VIGIL_FSET_WARD_LABS && var_in(v, ward_labs, sizeof ward_labs / sizeof ward_labs[0])) {
        return "lab feed";
    }
    return v == VIGIL_VAR_AGE ? "patient record" : NULL;
}

/* Statistics of a vital a ward model may read: values, changes,
 * variability, time outside the range; never hours-since, never-measured,
 * counts or so-far extremes (which grow with the stay). */
static bool ward_vital_stat(vigil_feature_stat st)
{
    return st != VIGIL_FS_HSINCE && st != VIGIL_FS_MISS && st != VIGIL_FS_N24 &&
           st != VIGIL_FS_MINALL && st != VIGIL_FS_MAXALL;
}

bool vigil_features_in_set(size_t i, vigil_feature_set s)
{
    /* REQ FEAT-WARD-SET */
    if (i >= N_DEFS || (unsigned)s >= VIGIL_FSET_COUNT) {
        return false;
    }
    const vigil_feature_info *f = &defs[i].info;
    if (s == VIGIL_FSET_RESEARCH) {
        return strcmp(f->name, "hours_since_admit") != 0;
    }
    bool labs = s == VIGIL_FSET_WARD_LABS;
    if (f->var >= 0) {
        vigil_var v = (vigil_var)f->var;
        if (f->group == VIGIL_FG_LAB) {
            return labs && var_in(v, ward_labs, sizeof ward_labs / sizeof ward_labs[0]) &&
                   (f->stat == VIGIL_FS_LAST || f->stat == VIGIL_FS_DPREV);
        }
        return var_in(v, ward_vitals, sizeof ward_vitals / sizeof ward_vitals[0]) &&
               ward_vital_stat(f->stat);
    }
    for (size_t k = 0; k < sizeof ward_others / sizeof ward_others[0]; k++) {
        if (strcmp(ward_others[k].name, f->name) == 0) {
            return labs || !ward_others[k].needs_labs;
        }
    }
    return false;
}

/* ------------------------------------------------------- enough data */

/* Position of a statistic within a vital's block. */
static size_t vital_pos(vigil_feature_stat st)
{
    size_t t = 0;
    while (t < N_VITAL_TMPL && vital_tmpl[t] != st) {
        t++;
    }
    return t;
}

bool vigil_features_enough_data(const float *x, char *reason, size_t cap)
{
    /* REQ FEAT-ENOUGH-DATA */
    size_t most = 0;
    for (size_t k = 0; k < sizeof ward_vitals / sizeof ward_vitals[0]; k++) {
        size_t base = 0;
        while (base < N_VITALS && vital_vars[base] != ward_vitals[k]) {
            base++;
        }
        base *= N_VITAL_TMPL;
        double hsince = (double)x[base + vital_pos(VIGIL_FS_HSINCE)];
        double n24 = (double)x[base + vital_pos(VIGIL_FS_N24)];
        if (isnan(hsince) || !(hsince < (double)VIGIL_FEATURES_COMPLETE_WITHIN_H)) {
            if (reason != NULL && cap > 0) {
                snprintf(reason, cap, "no %s in the last %d h",
                         vigil_var_get(ward_vitals[k])->label, VIGIL_FEATURES_COMPLETE_WITHIN_H);
            }
            return false;
        }
        most = !isnan(n24) && (size_t)n24 > most ? (size_t)n24 : most;
    }
    if (most < VIGIL_FEATURES_MIN_SETS) {
        if (reason != NULL && cap > 0) {
            snprintf(reason, cap, "fewer than %d observation sets in the last 24 h",
                     VIGIL_FEATURES_MIN_SETS);
        }
        return false;
    }
    if (reason != NULL && cap > 0) {
        reason[0] = '\0';
    }
    return true;
}
