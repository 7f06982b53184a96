/*
 * timeline.c: a stay's measurements kept at their own times, per variable,
 * with an hourly grid (hour h holds h-1 < t <= h) and the hourly NEWS2 the
 * features read. Built from PhysioNet records in training and from
 * observation events on the live ward, through the same calls.
 *
 * Does not: read files, impute, or decide what a model uses. Invariants
 * (after finish): each variable's times are strictly increasing (equal times
 * were merged, the later added value kept); cnt at hour h counts exactly the
 * measurements with t <= h, so every quantity read at hour h depends only on
 * data up to h (REQ FEAT-CAUSAL); a stored value passed vigil_var_check().
 * Spec: docs/features.md; NEWS2 mapping REQ FEAT-NEWS2-MAP.
 */
#include "model_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

vigil_status vigil_timeline_new(vigil_timeline **out, vigil_err *err)
{
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "timeline", "no output");
    }
    vigil_timeline *tl = calloc(1, sizeof *tl);
    if (tl == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, "timeline", "out of memory");
    }
    vigil_timeline_reset(tl);
    *out = tl;
    return VIGIL_OK;
}

void vigil_timeline_free(vigil_timeline *tl)
{
    if (tl == NULL) {
        return;
    }
    for (size_t v = 0; v < VIGIL_VAR_COUNT; v++) {
        free(tl->s[v].t);
        free(tl->s[v].v);
    }
    free(tl->cnt);
    free(tl->news2);
    free(tl);
}

void vigil_timeline_reset(vigil_timeline *tl)
{
    if (tl == NULL) {
        return;
    }
    for (size_t v = 0; v < VIGIL_VAR_COUNT; v++) {
        tl->s[v].n = 0;
        tl->s[v].unsorted = false;
    }
    tl->age_y = NAN;
    tl->sex = NAN;
    tl->first_t = NAN;
    tl->last_t = NAN;
    tl->finished = false;
    tl->have_grid = false;
    tl->lo = 0;
    tl->hi = -1;
}

vigil_status vigil_timeline_set_patient(vigil_timeline *tl, double age_y, int sex, vigil_err *err)
{
    if (tl == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "timeline", "no timeline");
    }
    if (sex != 0 && sex != 1 && sex != -1) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "sex", "sex %d is not 0, 1 or -1", sex);
    }
    double age = NAN;
    if (!isnan(age_y)) {
        vigil_status st = vigil_var_check(VIGIL_VAR_AGE, age_y, &age, NULL, err);
        if (st != VIGIL_OK) {
            return st;
        }
    }
    tl->age_y = age;
    tl->sex = sex < 0 ? NAN : (double)sex;
    return VIGIL_OK;
}

static vigil_status check_time(double t_h, vigil_err *err)
{
    if (!isfinite(t_h) || fabs(t_h) > VIGIL_TIMELINE_T_MAX) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "t_h", "time %g h is out of range", t_h);
    }
    return VIGIL_OK;
}

vigil_status vigil_timeline_add_record(vigil_timeline *tl, double t_h, vigil_err *err)
{
    if (tl == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "timeline", "no timeline");
    }
    vigil_status st = check_time(t_h, err);
    if (st != VIGIL_OK) {
        return st;
    }
    if (isnan(tl->first_t) || t_h < tl->first_t) {
        tl->first_t = t_h;
    }
    if (isnan(tl->last_t) || t_h > tl->last_t) {
        tl->last_t = t_h;
    }
    tl->finished = false;
    return VIGIL_OK;
}

static vigil_status series_grow(vigil__series *s)
{
    size_t n = s->cap ? s->cap * 2 : 64;
    double *t = realloc(s->t, n * sizeof *t);
    if (t == NULL) {
        return VIGIL_ERR_NOMEM;
    }
    s->t = t;
    double *v = realloc(s->v, n * sizeof *v);
    if (v == NULL) {
        return VIGIL_ERR_NOMEM;
    }
    s->v = v;
    s->cap = n;
    return VIGIL_OK;
}

vigil_status vigil_timeline_add(vigil_timeline *tl, double t_h, vigil_var var, double value,
                                vigil_err *err)
{
    if (tl == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "timeline", "no timeline");
    }
    const vigil_var_info *vi = vigil_var_get(var);
    if (vi == NULL || vi->kind == VIGIL_VAR_KIND_DESCRIPTOR) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "var", "variable %d is not a time series",
                             (int)var);
    }
    vigil_status st = check_time(t_h, err);
    if (st != VIGIL_OK) {
        return st;
    }
    double x = value;
    st = vigil_var_check(var, value, &x, NULL, err);
    if (st != VIGIL_OK) {
        return st;
    }
    vigil__series *s = &tl->s[var];
    tl->finished = false;
    if (s->n > 0 && s->t[s->n - 1] == t_h) {
        s->v[s->n - 1] = x; /* same time: the later value wins */
        return VIGIL_OK;
    }
    if (s->n == s->cap && series_grow(s) != VIGIL_OK) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, "timeline", "out of memory");
    }
    if (s->n > 0 && t_h < s->t[s->n - 1]) {
        s->unsorted = true;
    }
    s->t[s->n] = t_h;
    s->v[s->n] = x;
    s->n++;
    return VIGIL_OK;
}

vigil_status vigil_timeline_add_meas(vigil_timeline *tl, const vigil_meas *m, size_t n,
                                     vigil_err *err)
{
    if (m == NULL && n > 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "meas", "no measurements");
    }
    for (size_t i = 0; i < n; i++) {
        vigil_status st = vigil_timeline_add(tl, m[i].t_h, m[i].var, m[i].value, err);
        if (st != VIGIL_OK) {
            return st;
        }
    }
    return VIGIL_OK;
}

vigil_status vigil_timeline_add_obs(vigil_timeline *tl, double t_h, const vigil_obs *obs,
                                    vigil_err *err)
{
    if (tl == NULL || obs == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "obs", "no observation set");
    }
    vigil_status st = check_time(t_h, err);
    if (st == VIGIL_OK) {
        st = vigil_news2_validate(obs, err);
    }
    if (st != VIGIL_OK) {
        return st;
    }
    const struct {
        double value;
        vigil_var var;
    } items[] = {
        {obs->rr_bpm, VIGIL_VAR_RESP},
        {obs->spo2_pct, VIGIL_VAR_SPO2},
        {obs->sbp_mmhg, VIGIL_VAR_SBP},
        {obs->hr_bpm, VIGIL_VAR_HR},
        {obs->temp_c, VIGIL_VAR_TEMP},
        {obs->acvpu == VIGIL_ACVPU_UNKNOWN ? NAN : (double)obs->acvpu, VIGIL_VAR_ACVPU},
        {obs->o2 == VIGIL_O2_UNKNOWN ? NAN : (obs->o2 == VIGIL_O2_OXYGEN ? 1.0 : 0.0),
         VIGIL_VAR_ON_OXYGEN},
    };
    /* Validated above with the same bounds, so only allocation can fail now. */
    st = vigil_timeline_add_record(tl, t_h, err);
    for (size_t i = 0; i < sizeof items / sizeof items[0] && st == VIGIL_OK; i++) {
        if (!isnan(items[i].value)) {
            st = vigil_timeline_add(tl, t_h, items[i].var, items[i].value, err);
        }
    }
    return st;
}

/* Stable insertion sort by time (data nearly always arrive in order), then
 * merge equal times keeping the value added last. */
static void series_sort(vigil__series *s)
{
    for (size_t i = 1; i < s->n; i++) {
        double t = s->t[i], v = s->v[i];
        size_t j = i;
        while (j > 0 && s->t[j - 1] > t) {
            s->t[j] = s->t[j - 1];
            s->v[j] = s->v[j - 1];
            j--;
        }
        s->t[j] = t;
        s->v[j] = v;
    }
    size_t w = 0;
    for (size_t r = 0; r < s->n; r++) {
        if (w > 0 && s->t[w - 1] == s->t[r]) {
            s->v[w - 1] = s->v[r];
        } else {
            s->t[w] = s->t[r];
            s->v[w] = s->v[r];
            w++;
        }
    }
    s->n = w;
    s->unsorted = false;
}

long vigil_timeline_hour_of(double t_h)
{
    return (long)ceil(t_h);
}

/* The latest value of var usable for NEWS2 at hour: measured at or before
 * hour and less than VIGIL_FEATURES_NEWS2_MAX_AGE_H hours earlier. */
static double recent(const vigil_timeline *tl, vigil_var var, long hour)
{
    size_t i = vigil__tl_cnt(tl, var, hour);
    if (i == 0) {
        return NAN;
    }
    const vigil__series *s = &tl->s[var];
    if (!((double)hour - s->t[i - 1] < (double)VIGIL_FEATURES_NEWS2_MAX_AGE_H)) {
        return NAN;
    }
    return s->v[i - 1];
}

/* REQ FEAT-NEWS2-MAP: the observation set NEWS2 is scored from at hour. */
static void news2_inputs(const vigil_timeline *tl, long hour, vigil_obs *o)
{
    vigil_obs_init(o);
    o->rr_bpm = recent(tl, VIGIL_VAR_RESP, hour);
    o->spo2_pct = recent(tl, VIGIL_VAR_SPO2, hour);
    o->sbp_mmhg = recent(tl, VIGIL_VAR_SBP, hour);
    o->hr_bpm = recent(tl, VIGIL_VAR_HR, hour);
    o->temp_c = recent(tl, VIGIL_VAR_TEMP, hour);
    double on_o2 = recent(tl, VIGIL_VAR_ON_OXYGEN, hour);
    double vent = recent(tl, VIGIL_VAR_MECHVENT, hour);
    double fio2 = recent(tl, VIGIL_VAR_FIO2, hour);
    if (!isnan(on_o2)) {
        o->o2 = on_o2 >= 0.5 ? VIGIL_O2_OXYGEN : VIGIL_O2_AIR;
    } else if ((!isnan(vent) && vent >= 0.5) || (!isnan(fio2) && fio2 > 0.21)) {
        o->o2 = VIGIL_O2_OXYGEN;
    } else if (!isnan(fio2)) {
        o->o2 = VIGIL_O2_AIR;
    }
    double acvpu = recent(tl, VIGIL_VAR_ACVPU, hour);
    double gcs = recent(tl, VIGIL_VAR_GCS, hour);
    if (!isnan(acvpu)) {
        o->acvpu = (vigil_acvpu)(int)acvpu;
    } else if (!isnan(gcs)) {
        /* GCS < 15 is "not alert": any of C, V, P, U scores 3; V is passed. */
        o->acvpu = gcs >= 15.0 ? VIGIL_ACVPU_A : VIGIL_ACVPU_V;
    }
}

static vigil_status news2_score_at(const vigil_timeline *tl, long hour, vigil_news2 *out,
                                   vigil_err *err)
{
    vigil_obs o;
    news2_inputs(tl, hour, &o);
    vigil_err e = {0};
    if (vigil_news2_score(&o, out, &e) != VIGIL_OK) {
        /* The variable bounds equal the NEWS2 bounds: this is a bug. */
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, "news2", "stored value refused: %s", e.msg);
    }
    return VIGIL_OK;
}

static void pack_news2(const vigil_news2 *r, vigil__news2_hour *out)
{
    int n_missing = 0;
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        out->sub[p] = (int8_t)r->sub[p];
        if (r->missing & (1u << p)) {
            n_missing++;
        }
    }
    out->n_missing = (uint8_t)n_missing;
    out->complete = r->complete;
    out->total = n_missing == VIGIL_NEWS2_PARAM_COUNT ? (int8_t)-1 : (int8_t)r->total;
}

static void news2_hour_compute(const vigil_timeline *tl, long hour, vigil__news2_hour *out)
{
    vigil_news2 r;
    if (news2_score_at(tl, hour, &r, NULL) != VIGIL_OK) {
        memset(out, 0, sizeof *out);
        for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
            out->sub[p] = VIGIL_NEWS2_SUB_MISSING;
        }
        out->total = -1;
        out->n_missing = VIGIL_NEWS2_PARAM_COUNT;
        return;
    }
    pack_news2(&r, out);
}

void vigil__tl_news2_hour(const vigil_timeline *tl, long hour, vigil__news2_hour *out)
{
    if (tl->have_grid && hour >= tl->lo && hour <= tl->hi) {
        *out = tl->news2[hour - tl->lo];
        return;
    }
    news2_hour_compute(tl, hour, out);
}

static void range_update(long *lo, long *hi, bool *any, double t)
{
    long h = vigil_timeline_hour_of(t);
    if (!*any || h < *lo) {
        *lo = h;
    }
    if (!*any || h > *hi) {
        *hi = h;
    }
    *any = true;
}

vigil_status vigil_timeline_finish(vigil_timeline *tl, vigil_err *err)
{
    if (tl == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "timeline", "no timeline");
    }
    long lo = 0, hi = -1;
    bool any = false;
    if (!isnan(tl->first_t)) {
        range_update(&lo, &hi, &any, tl->first_t);
        range_update(&lo, &hi, &any, tl->last_t);
    }
    for (size_t v = 0; v < VIGIL_VAR_COUNT; v++) {
        vigil__series *s = &tl->s[v];
        if (s->unsorted) {
            series_sort(s);
        }
        if (s->n > 0) {
            range_update(&lo, &hi, &any, s->t[0]);
            range_update(&lo, &hi, &any, s->t[s->n - 1]);
        }
    }
    tl->have_grid = false;
    tl->finished = false;
    if (any) {
        if (hi - lo >= VIGIL_TIMELINE_SPAN_MAX) {
            return vigil_err_set(err, VIGIL_ERR_ARG, "t_h",
                                 "the stay spans %ld hours (at most %ld)", hi - lo + 1,
                                 VIGIL_TIMELINE_SPAN_MAX);
        }
        size_t rows = (size_t)(hi - lo + 1);
        size_t need = rows * VIGIL_VAR_COUNT;
        if (need > tl->cnt_cap) {
            uint32_t *c = realloc(tl->cnt, need * sizeof *c);
            if (c == NULL) {
                return vigil_err_set(err, VIGIL_ERR_NOMEM, "timeline", "out of memory");
            }
            tl->cnt = c;
            tl->cnt_cap = need;
        }
        if (rows > tl->news2_cap) {
            vigil__news2_hour *p = realloc(tl->news2, rows * sizeof *p);
            if (p == NULL) {
                return vigil_err_set(err, VIGIL_ERR_NOMEM, "timeline", "out of memory");
            }
            tl->news2 = p;
            tl->news2_cap = rows;
        }
        for (size_t v = 0; v < VIGIL_VAR_COUNT; v++) {
            const vigil__series *s = &tl->s[v];
            size_t j = 0;
            for (size_t r = 0; r < rows; r++) {
                double h = (double)(lo + (long)r);
                while (j < s->n && s->t[j] <= h) {
                    j++;
                }
                tl->cnt[r * VIGIL_VAR_COUNT + v] = (uint32_t)j;
            }
        }
        tl->lo = lo;
        tl->hi = hi;
        tl->have_grid = true;
        for (size_t r = 0; r < rows; r++) {
            news2_hour_compute(tl, lo + (long)r, &tl->news2[r]);
        }
    }
    tl->finished = true;
    return VIGIL_OK;
}

long vigil_timeline_first_hour(const vigil_timeline *tl)
{
    if (tl == NULL || isnan(tl->first_t)) {
        return VIGIL_TIMELINE_NO_HOUR;
    }
    return vigil_timeline_hour_of(tl->first_t);
}

long vigil_timeline_last_hour(const vigil_timeline *tl)
{
    if (tl == NULL || isnan(tl->last_t)) {
        return VIGIL_TIMELINE_NO_HOUR;
    }
    return vigil_timeline_hour_of(tl->last_t);
}

double vigil_timeline_first_t(const vigil_timeline *tl)
{
    return tl != NULL ? tl->first_t : NAN;
}

size_t vigil_timeline_count(const vigil_timeline *tl, vigil_var var)
{
    if (tl == NULL || (unsigned)var >= VIGIL_VAR_COUNT) {
        return 0;
    }
    return tl->s[var].n;
}

vigil_status vigil_timeline_latest(const vigil_timeline *tl, vigil_var var, long hour,
                                   double *out_value, double *out_t_h)
{
    if (tl == NULL || !tl->finished || (unsigned)var >= VIGIL_VAR_COUNT || out_value == NULL) {
        return VIGIL_ERR_ARG;
    }
    size_t i = vigil__tl_cnt(tl, var, hour);
    if (i == 0) {
        return VIGIL_ERR_NOT_FOUND;
    }
    *out_value = tl->s[var].v[i - 1];
    if (out_t_h != NULL) {
        *out_t_h = tl->s[var].t[i - 1];
    }
    return VIGIL_OK;
}

vigil_status vigil_timeline_news2(const vigil_timeline *tl, long hour, vigil_news2 *out,
                                  vigil_err *err)
{
    if (tl == NULL || out == NULL || !tl->finished) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "timeline", "timeline not finished");
    }
    return news2_score_at(tl, hour, out, err);
}
