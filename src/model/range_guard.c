/*
 * range_guard.c: per-feature training ranges and the check that lists a
 * row's inputs outside them (see vigil/range_guard.h).
 *
 * Percentiles follow numpy.percentile's default "linear" method: on the
 * sorted present values v[0..n), h = (n - 1) p, i = floor(h), t = h - i,
 * result = v[i] + (v[i+1] - v[i]) t, computed as numpy's _lerp does
 * (from the upper end, v[i+1] - (v[i+1] - v[i]) (1 - t), when t >= 0.5).
 *
 * Does not: keep the training data, or judge clinical plausibility (that is
 * src/core). Invariants: for a feature with n_present > 0,
 * min <= p005 <= p995 <= max, all finite; otherwise all four are NaN.
 */
#include "vigil/range_guard.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define JSON_FORMAT_VERSION 1

struct vigil_range_guard {
    size_t n_features;
    vigil_range *r;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* numpy.percentile(v, 100 p), method "linear", on sorted v[0..n), n >= 1 */
static double percentile(const double *v, size_t n, double p)
{
    double h = (double)(n - 1) * p;
    size_t i = (size_t)floor(h);
    if (i + 1 >= n) {
        return v[n - 1];
    }
    double t = h - (double)i, a = v[i], b = v[i + 1], d = b - a;
    return t >= 0.5 ? b - d * (1.0 - t) : a + d * t;
}

static vigil_range_guard *guard_new(size_t n_features)
{
    vigil_range_guard *g = calloc(1, sizeof *g);
    if (g == NULL) {
        return NULL;
    }
    g->r = calloc(n_features, sizeof *g->r);
    if (g->r == NULL) {
        free(g);
        return NULL;
    }
    g->n_features = n_features;
    for (size_t j = 0; j < n_features; j++) {
        g->r[j].min = g->r[j].max = g->r[j].p005 = g->r[j].p995 = NAN;
    }
    return g;
}

vigil_status vigil_range_guard_fit(const double *x, size_t n_rows, size_t n_features,
                                   vigil_range_guard **out, vigil_err *err)
{
    if ((x == NULL && n_rows > 0) || out == NULL || n_features == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "NULL argument or zero features");
    }
    for (size_t i = 0; i < n_rows * n_features; i++) {
        if (isinf(x[i])) {
            return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "row %zu, column %zu is infinite",
                                 i / n_features, i % n_features);
        }
    }
    vigil_range_guard *g = guard_new(n_features);
    double *col = malloc((n_rows > 0 ? n_rows : 1) * sizeof *col);
    if (g == NULL || col == NULL) {
        vigil_range_guard_free(g);
        free(col);
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
    }
    for (size_t j = 0; j < n_features; j++) {
        size_t n = 0;
        for (size_t i = 0; i < n_rows; i++) {
            double v = x[i * n_features + j];
            if (!isnan(v)) {
                col[n++] = v;
            }
        }
        vigil_range *r = &g->r[j];
        r->n_present = n;
        if (n == 0) {
            continue;
        }
        qsort(col, n, sizeof *col, cmp_double);
        r->min = col[0];
        r->max = col[n - 1];
        r->p005 = percentile(col, n, 0.005);
        r->p995 = percentile(col, n, 0.995);
    }
    free(col);
    *out = g;
    return VIGIL_OK;
}

/* REQ MODEL-RANGE-GUARD */
vigil_status vigil_range_guard_check(const vigil_range_guard *g, const double *x,
                                     size_t n_features, vigil_range_bounds bounds,
                                     vigil_range_hit *hits, size_t max_hits, size_t *out_n)
{
    if (g == NULL || x == NULL || out_n == NULL || (hits == NULL && max_hits > 0) ||
        (unsigned)bounds >= VIGIL_RANGE_BOUNDS_COUNT) {
        return VIGIL_ERR_ARG;
    }
    if (n_features != g->n_features) {
        return VIGIL_ERR_MISMATCH;
    }
    size_t n = 0;
    for (size_t j = 0; j < n_features; j++) {
        double v = x[j];
        if (isnan(v)) {
            continue; /* missing: routed by default directions, as in training */
        }
        const vigil_range *r = &g->r[j];
        double lo = bounds == VIGIL_RANGE_MINMAX ? r->min : r->p005;
        double hi = bounds == VIGIL_RANGE_MINMAX ? r->max : r->p995;
        int side;
        if (r->n_present == 0) {
            side = 0;
        } else if (v < lo) {
            side = -1;
        } else if (v > hi) {
            side = 1;
        } else {
            continue;
        }
        if (n < max_hits) {
            hits[n] = (vigil_range_hit){j, v, lo, hi, side};
        }
        n++;
    }
    *out_n = n;
    return VIGIL_OK;
}

size_t vigil_range_guard_n_features(const vigil_range_guard *g)
{
    return g == NULL ? 0 : g->n_features;
}

vigil_status vigil_range_guard_get(const vigil_range_guard *g, size_t j, vigil_range *out)
{
    if (g == NULL || out == NULL || j >= g->n_features) {
        return VIGIL_ERR_ARG;
    }
    *out = g->r[j];
    return VIGIL_OK;
}

void vigil_range_guard_free(vigil_range_guard *g)
{
    if (g == NULL) {
        return;
    }
    free(g->r);
    free(g);
}

/* ---- JSON -------------------------------------------------------------- */

static json_t *real_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

vigil_status vigil_range_guard_to_json(const vigil_range_guard *g, char **out_json,
                                       vigil_err *err)
{
    if (g == NULL || out_json == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "NULL argument");
    }
    json_t *o = json_object(), *fs = json_array();
    int bad = o == NULL || fs == NULL;
    for (size_t j = 0; !bad && j < g->n_features; j++) {
        const vigil_range *r = &g->r[j];
        json_t *f = json_object();
        bad = f == NULL || json_object_set_new(f, "min", real_or_null(r->min)) != 0 ||
              json_object_set_new(f, "max", real_or_null(r->max)) != 0 ||
              json_object_set_new(f, "p005", real_or_null(r->p005)) != 0 ||
              json_object_set_new(f, "p995", real_or_null(r->p995)) != 0 ||
              json_object_set_new(f, "n_present", json_integer((json_int_t)r->n_present)) != 0 ||
              json_array_append_new(fs, f) != 0;
    }
    if (!bad) {
        bad = json_object_set_new(o, "vigil_range_guard", json_integer(JSON_FORMAT_VERSION)) !=
                  0 ||
              json_object_set_new(o, "features", fs) != 0;
        fs = NULL;
    }
    char *s = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(fs);
    json_decref(o);
    if (s == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory writing range guard");
    }
    *out_json = s;
    return VIGIL_OK;
}

static vigil_status read_range(const json_t *f, size_t j, vigil_range *r, vigil_err *err)
{
    const json_t *np = json_object_get(f, "n_present");
    if (!json_is_object(f) || !json_is_integer(np) || json_integer_value(np) < 0) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, "n_present",
                             "range guard JSON: features[%zu] lacks n_present", j);
    }
    r->n_present = (size_t)json_integer_value(np);
    static const char *const keys[4] = {"min", "p005", "p995", "max"};
    double v[4];
    for (size_t k = 0; k < 4; k++) {
        const json_t *e = json_object_get(f, keys[k]);
        if (r->n_present == 0) {
            if (!json_is_null(e)) {
                return vigil_err_set(err, VIGIL_ERR_PARSE, keys[k],
                                     "range guard JSON: features[%zu].%s must be null", j,
                                     keys[k]);
            }
            v[k] = NAN;
            continue;
        }
        if (!json_is_number(e) || !isfinite(json_number_value(e)) ||
            (k > 0 && json_number_value(e) < v[k - 1])) {
            return vigil_err_set(err, VIGIL_ERR_PARSE, keys[k],
                                 "range guard JSON: features[%zu].%s is not a number in order "
                                 "min <= p005 <= p995 <= max",
                                 j, keys[k]);
        }
        v[k] = json_number_value(e);
    }
    r->min = v[0];
    r->p005 = v[1];
    r->p995 = v[2];
    r->max = v[3];
    return VIGIL_OK;
}

vigil_status vigil_range_guard_from_json(const char *json, size_t len, vigil_range_guard **out,
                                         vigil_err *err)
{
    if (json == NULL || out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "NULL argument");
    }
    json_error_t je;
    json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL) {
        vigil_err_set(err, VIGIL_ERR_PARSE, NULL, "range guard JSON: %s (line %d)", je.text,
                      je.line);
        if (err != NULL) {
            err->line = je.line;
        }
        return VIGIL_ERR_PARSE;
    }
    vigil_status st = VIGIL_OK;
    vigil_range_guard *g = NULL;
    const json_t *ver = json_object_get(o, "vigil_range_guard");
    const json_t *fs = json_object_get(o, "features");
    if (!json_is_integer(ver) || json_integer_value(ver) != JSON_FORMAT_VERSION ||
        !json_is_array(fs) || json_array_size(fs) == 0) {
        st = vigil_err_set(err, VIGIL_ERR_PARSE, "features",
                           "range guard JSON: needs vigil_range_guard %d and a non-empty "
                           "features array",
                           JSON_FORMAT_VERSION);
        goto done;
    }
    g = guard_new(json_array_size(fs));
    if (g == NULL) {
        st = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
        goto done;
    }
    for (size_t j = 0; j < g->n_features && st == VIGIL_OK; j++) {
        st = read_range(json_array_get(fs, j), j, &g->r[j], err);
    }
done:
    json_decref(o);
    if (st != VIGIL_OK) {
        vigil_range_guard_free(g);
        return st;
    }
    *out = g;
    return VIGIL_OK;
}
