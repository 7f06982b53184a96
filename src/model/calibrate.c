/*
 * calibrate.c: Platt scaling and isotonic regression of model scores, as
 * scikit-learn 1.2 fits them, with JSON round trips.
 *
 * Platt (J. Platt, "Probabilistic outputs for support vector machines",
 * 1999; fitting as in Lin, Lin and Weng, "A note on Platt's probabilistic
 * outputs for support vector machines", 2007): minimise
 * sum_i log(1 + e^{z_i}) - (1 - t_i) z_i with z_i = a s_i + b by Newton's
 * method with a backtracking line search, to the optimum (scikit-learn's
 * BFGS stops near it; the test checks vigil's loss is no higher).
 * Isotonic: scikit-learn's IsotonicRegression(out_of_bounds="clip"):
 * sort by (score, label); merge scores within 1e-15 of a run's first score
 * (mean label, count weight); pool adjacent violators; keep the first and
 * last point and any point whose value differs from a neighbour's; predict
 * by scipy's interp1d formula slope * (s - x_lo) + y_lo on the clipped score.
 *
 * Does not: weight samples, fit decreasing maps, or extrapolate.
 * Invariants of a vigil_calib: Platt a, b finite; isotonic x strictly
 * increasing and finite, y non-decreasing in [0, 1], n_points >= 1.
 */
#include "vigil/calibrate.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* scikit-learn's tie tolerance: np.finfo(np.float64).resolution */
#define TIE_EPS 1e-15
#define NEWTON_MAX_ITER 200
#define JSON_FORMAT_VERSION 1

struct vigil_calib {
    vigil_calib_method method;
    bool smooth_targets;
    double a, b;
    size_t n_fit;
    size_t n;    /* isotonic points */
    double *x;   /* isotonic scores, strictly increasing */
    double *y;   /* isotonic probabilities, non-decreasing */
};

static vigil_status check_pairs(const double *score, const int *label, size_t n, size_t min_n,
                                size_t *out_n1, vigil_err *err)
{
    if (score == NULL || label == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "NULL scores or labels");
    }
    if (n < min_n) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "%zu pairs: at least %zu are needed", n,
                             min_n);
    }
    size_t n1 = 0;
    for (size_t i = 0; i < n; i++) {
        if (label[i] != 0 && label[i] != 1) {
            return vigil_err_set(err, VIGIL_ERR_ARG, "label", "label[%zu] = %d is not 0 or 1", i,
                                 label[i]);
        }
        if (!isfinite(score[i])) {
            return vigil_err_set(err, VIGIL_ERR_ARG, "score", "score[%zu] = %g is not finite", i,
                                 score[i]);
        }
        n1 += (size_t)label[i];
    }
    *out_n1 = n1;
    return VIGIL_OK;
}

/* ---- Platt ------------------------------------------------------------- */

/* log(1 + e^z) without overflow */
static double log1pexp(double z)
{
    return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

/* P(y = 1) = 1 / (1 + e^z), without overflow */
static double sigmoid_neg(double z)
{
    if (z >= 0) {
        double e = exp(-z);
        return e / (1.0 + e);
    }
    return 1.0 / (1.0 + exp(z));
}

static double platt_loss(const double *s, const double *t, size_t n, double a, double b)
{
    double f = 0.0;
    for (size_t i = 0; i < n; i++) {
        double z = a * s[i] + b;
        f += log1pexp(z) - (1.0 - t[i]) * z;
    }
    return f;
}

/* Newton with backtracking (Lin, Lin and Weng 2007, Algorithm 1), run to
 * a gradient of relative size 1e-12. */
static vigil_status platt_newton(const double *s, const double *t, size_t n, double b0,
                                 double *out_a, double *out_b, vigil_err *err)
{
    double a = 0.0, b = b0;
    double f = platt_loss(s, t, n, a, b);
    double scale = 0.0;
    for (size_t i = 0; i < n; i++) {
        scale += fabs(s[i]) + 1.0;
    }
    for (int it = 0; it < NEWTON_MAX_ITER; it++) {
        double h11 = 1e-300, h22 = 1e-300, h21 = 0.0, g1 = 0.0, g2 = 0.0;
        for (size_t i = 0; i < n; i++) {
            double p = sigmoid_neg(a * s[i] + b);
            double d2 = p * (1.0 - p);
            h11 += s[i] * s[i] * d2;
            h22 += d2;
            h21 += s[i] * d2;
            double d1 = t[i] - p;
            g1 += s[i] * d1;
            g2 += d1;
        }
        if (fabs(g1) + fabs(g2) <= 1e-12 * scale) {
            *out_a = a;
            *out_b = b;
            return VIGIL_OK;
        }
        double det = h11 * h22 - h21 * h21;
        if (!(det > 0.0)) {
            break;
        }
        double da = -(h22 * g1 - h21 * g2) / det;
        double db = -(-h21 * g1 + h11 * g2) / det;
        double gd = g1 * da + g2 * db;
        double step = 1.0;
        while (step >= 1e-12) {
            double na = a + step * da, nb = b + step * db;
            double nf = platt_loss(s, t, n, na, nb);
            if (nf <= f + 1e-4 * step * gd) {
                a = na;
                b = nb;
                /* on large sets the gradient's rounding floor can sit above the
                 * tolerance: a step that no longer changes the loss is the optimum */
                bool flat = f - nf <= 1e-15 * fabs(f);
                f = nf;
                if (flat) {
                    *out_a = a;
                    *out_b = b;
                    return VIGIL_OK;
                }
                break;
            }
            step *= 0.5;
        }
        if (step < 1e-12) {
            /* no decrease possible: at the optimum to rounding */
            *out_a = a;
            *out_b = b;
            return VIGIL_OK;
        }
    }
    return vigil_err_set(err, VIGIL_ERR_INTERNAL, NULL,
                         "Platt scaling did not converge (a %g, b %g)", a, b);
}

/* REQ MODEL-CALIB-PLATT */
vigil_status vigil_calib_fit_platt(const double *score, const int *label, size_t n,
                                   bool smooth_targets, vigil_calib **out, vigil_err *err)
{
    size_t n1 = 0;
    vigil_status st = check_pairs(score, label, n, 2, &n1, err);
    if (st != VIGIL_OK) {
        return st;
    }
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "NULL output");
    }
    size_t n0 = n - n1;
    if (n1 == 0 || n0 == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "label",
                             "Platt scaling needs both classes (%zu positive, %zu negative)", n1,
                             n0);
    }
    bool varies = false;
    for (size_t i = 1; i < n && !varies; i++) {
        varies = score[i] != score[0];
    }
    if (!varies) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "score",
                             "all %zu scores equal %g: no slope to fit", n, score[0]);
    }
    double *t = malloc(n * sizeof *t);
    vigil_calib *c = calloc(1, sizeof *c);
    if (t == NULL || c == NULL) {
        free(t);
        free(c);
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
    }
    double hi = smooth_targets ? ((double)n1 + 1.0) / ((double)n1 + 2.0) : 1.0;
    double lo = smooth_targets ? 1.0 / ((double)n0 + 2.0) : 0.0;
    for (size_t i = 0; i < n; i++) {
        t[i] = label[i] ? hi : lo;
    }
    double a = 0.0, b = 0.0;
    st = platt_newton(score, t, n, log(((double)n0 + 1.0) / ((double)n1 + 1.0)), &a, &b, err);
    free(t);
    if (st != VIGIL_OK) {
        free(c);
        return st;
    }
    c->method = VIGIL_CALIB_PLATT;
    c->smooth_targets = smooth_targets;
    c->a = a;
    c->b = b;
    c->n_fit = n;
    *out = c;
    return VIGIL_OK;
}

/* ---- isotonic ---------------------------------------------------------- */

typedef struct pair {
    double s;
    int y;
} pair;

static int pair_cmp(const void *pa, const void *pb)
{
    const pair *a = pa, *b = pb;
    if (a->s != b->s) {
        return a->s < b->s ? -1 : 1;
    }
    return (a->y > b->y) - (a->y < b->y);
}

/*
 * Pool adjacent violators in place on blocks (sy, w)[0..n), sy the sum of
 * labels and w the count of each unique score (both exact integers in a
 * double). Returns the number of blocks; block k holds sy[k], w[k] and
 * starts at unique score start[k]. Its value sy / w is one correctly
 * rounded division, so equal means compare equal.
 */
static size_t pav(double *sy, double *w, size_t *start, size_t n)
{
    size_t nb = 0;
    for (size_t i = 0; i < n; i++) {
        sy[nb] = sy[i];
        w[nb] = w[i];
        start[nb] = i;
        nb++;
        /* scikit-learn pools while the previous block's mean is not below */
        while (nb > 1 && sy[nb - 2] / w[nb - 2] >= sy[nb - 1] / w[nb - 1]) {
            sy[nb - 2] += sy[nb - 1];
            w[nb - 2] += w[nb - 1];
            nb--;
        }
    }
    return nb;
}

/* REQ MODEL-CALIB-ISOTONIC */
vigil_status vigil_calib_fit_isotonic(const double *score, const int *label, size_t n,
                                      vigil_calib **out, vigil_err *err)
{
    size_t n1 = 0;
    vigil_status st = check_pairs(score, label, n, 1, &n1, err);
    if (st != VIGIL_OK) {
        return st;
    }
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "NULL output");
    }
    pair *p = malloc(n * sizeof *p);
    double *ux = malloc(n * sizeof *ux), *uy = malloc(n * sizeof *uy);
    double *uw = malloc(n * sizeof *uw);
    size_t *start = malloc((n + 1) * sizeof *start);
    vigil_calib *c = calloc(1, sizeof *c);
    if (!p || !ux || !uy || !uw || !start || !c) {
        st = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        p[i].s = score[i];
        p[i].y = label[i];
    }
    qsort(p, n, sizeof *p, pair_cmp);
    /* merge ties: a run continues while s - (run's first s) < 1e-15 */
    size_t nu = 0;
    for (size_t i = 0; i < n;) {
        double x0 = p[i].s, sum = 0.0, cnt = 0.0;
        size_t j = i;
        while (j < n && p[j].s - x0 < TIE_EPS) {
            sum += p[j].y;
            cnt += 1.0;
            j++;
        }
        ux[nu] = x0;
        uy[nu] = sum; /* the sum of labels until PAV is done */
        uw[nu] = cnt;
        nu++;
        i = j;
    }
    /* PAV over a copy, then expand block values back to every unique x */
    double *by = malloc(nu * sizeof *by), *bw = malloc(nu * sizeof *bw);
    if (by == NULL || bw == NULL) {
        free(by);
        free(bw);
        st = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
        goto done;
    }
    memcpy(by, uy, nu * sizeof *by);
    memcpy(bw, uw, nu * sizeof *bw);
    size_t nb = pav(by, bw, start, nu);
    start[nb] = nu;
    for (size_t k = 0; k < nb; k++) {
        for (size_t i = start[k]; i < start[k + 1]; i++) {
            uy[i] = by[k] / bw[k];
        }
    }
    free(by);
    free(bw);
    /* keep the ends and every point whose value differs from a neighbour's */
    c->x = malloc(nu * sizeof *c->x);
    c->y = malloc(nu * sizeof *c->y);
    if (c->x == NULL || c->y == NULL) {
        st = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
        goto done;
    }
    size_t k = 0;
    for (size_t i = 0; i < nu; i++) {
        if (i == 0 || i + 1 == nu || uy[i] != uy[i - 1] || uy[i] != uy[i + 1]) {
            c->x[k] = ux[i];
            c->y[k] = uy[i];
            k++;
        }
    }
    c->method = VIGIL_CALIB_ISOTONIC;
    c->n = k;
    c->n_fit = n;
    *out = c;
    c = NULL;
    st = VIGIL_OK;
done:
    vigil_calib_free(c);
    free(p);
    free(ux);
    free(uy);
    free(uw);
    free(start);
    return st;
}

/* ---- apply ------------------------------------------------------------- */

static double isotonic_apply(const vigil_calib *c, double s)
{
    if (c->n == 1) {
        return c->y[0];
    }
    /* clip to the fitted range, then scipy interp1d: lo, hi from the first
     * x[i] >= s (numpy searchsorted, side "left"), i clamped to [1, n-1] */
    if (s < c->x[0]) {
        s = c->x[0];
    }
    if (s > c->x[c->n - 1]) {
        s = c->x[c->n - 1];
    }
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->x[mid] < s) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    size_t i = lo < 1 ? 1 : (lo > c->n - 1 ? c->n - 1 : lo);
    double x0 = c->x[i - 1], x1 = c->x[i], y0 = c->y[i - 1], y1 = c->y[i];
    double slope = (y1 - y0) / (x1 - x0);
    return slope * (s - x0) + y0;
}

double vigil_calib_apply(const vigil_calib *c, double score)
{
    if (c == NULL || isnan(score)) {
        return NAN;
    }
    if (c->method == VIGIL_CALIB_PLATT) {
        return sigmoid_neg(c->a * score + c->b);
    }
    return isotonic_apply(c, score);
}

void vigil_calib_get_info(const vigil_calib *c, vigil_calib_info *out)
{
    memset(out, 0, sizeof *out);
    out->method = c->method;
    out->n_fit = c->n_fit;
    if (c->method == VIGIL_CALIB_PLATT) {
        out->a = c->a;
        out->b = c->b;
        out->smooth_targets = c->smooth_targets;
    } else {
        out->n_points = c->n;
    }
}

void vigil_calib_free(vigil_calib *c)
{
    if (c == NULL) {
        return;
    }
    free(c->x);
    free(c->y);
    free(c);
}

/* ---- JSON -------------------------------------------------------------- */

static const char *const method_names[VIGIL_CALIB_METHOD_COUNT] = {
    [VIGIL_CALIB_PLATT] = "platt",
    [VIGIL_CALIB_ISOTONIC] = "isotonic",
};

vigil_status vigil_calib_to_json(const vigil_calib *c, char **out_json, vigil_err *err)
{
    if (c == NULL || out_json == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "NULL argument");
    }
    json_t *o = json_object();
    bool ok = o != NULL;
    ok = ok && json_object_set_new(o, "vigil_calibration", json_integer(JSON_FORMAT_VERSION)) == 0;
    ok = ok && json_object_set_new(o, "method", json_string(method_names[c->method])) == 0;
    ok = ok && json_object_set_new(o, "n_fit", json_integer((json_int_t)c->n_fit)) == 0;
    if (c->method == VIGIL_CALIB_PLATT) {
        ok = ok && json_object_set_new(o, "a", json_real(c->a)) == 0;
        ok = ok && json_object_set_new(o, "b", json_real(c->b)) == 0;
        ok = ok && json_object_set_new(o, "smooth_targets", json_boolean(c->smooth_targets)) == 0;
    } else {
        json_t *xs = json_array(), *ys = json_array();
        ok = ok && xs != NULL && ys != NULL;
        for (size_t i = 0; ok && i < c->n; i++) {
            ok = json_array_append_new(xs, json_real(c->x[i])) == 0 &&
                 json_array_append_new(ys, json_real(c->y[i])) == 0;
        }
        if (ok) {
            ok = json_object_set_new(o, "x", xs) == 0;
            xs = NULL;
            ok = ok && json_object_set_new(o, "y", ys) == 0;
            ys = NULL;
        }
        json_decref(xs);
        json_decref(ys);
    }
    /* 17 significant digits: every double reads back to itself */
    char *s = ok ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(o);
    if (s == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory writing calibration");
    }
    /* jansson allocates with malloc by default: the caller's free() applies */
    *out_json = s;
    return VIGIL_OK;
}

static vigil_status get_number(const json_t *o, const char *key, double *out, vigil_err *err)
{
    const json_t *v = json_object_get(o, key);
    if (v == NULL || !json_is_number(v) || !isfinite(json_number_value(v))) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, key, "calibration JSON: %s is not a number",
                             key);
    }
    *out = json_number_value(v);
    return VIGIL_OK;
}

static vigil_status read_points(const json_t *o, vigil_calib *c, vigil_err *err)
{
    const json_t *xs = json_object_get(o, "x"), *ys = json_object_get(o, "y");
    if (!json_is_array(xs) || !json_is_array(ys) || json_array_size(xs) == 0 ||
        json_array_size(xs) != json_array_size(ys)) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, "x",
                             "calibration JSON: x and y must be arrays of equal, nonzero length");
    }
    size_t n = json_array_size(xs);
    c->x = malloc(n * sizeof *c->x);
    c->y = malloc(n * sizeof *c->y);
    if (c->x == NULL || c->y == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *xv = json_array_get(xs, i), *yv = json_array_get(ys, i);
        if (!json_is_number(xv) || !json_is_number(yv)) {
            return vigil_err_set(err, VIGIL_ERR_PARSE, "x", "calibration JSON: point %zu is not numeric",
                                 i);
        }
        double x = json_number_value(xv), y = json_number_value(yv);
        if (!isfinite(x) || (i > 0 && !(x > c->x[i - 1]))) {
            return vigil_err_set(err, VIGIL_ERR_PARSE, "x",
                                 "calibration JSON: x[%zu] is not above x[%zu]", i, i - 1);
        }
        if (!(y >= 0.0 && y <= 1.0) || (i > 0 && y < c->y[i - 1])) {
            return vigil_err_set(err, VIGIL_ERR_PARSE, "y",
                                 "calibration JSON: y[%zu] is not a non-decreasing probability",
                                 i);
        }
        c->x[i] = x;
        c->y[i] = y;
    }
    c->n = n;
    return VIGIL_OK;
}

vigil_status vigil_calib_from_json(const char *json, size_t len, vigil_calib **out,
                                   vigil_err *err)
{
    if (json == NULL || out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "NULL argument");
    }
    json_error_t je;
    json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL) {
        vigil_err_set(err, VIGIL_ERR_PARSE, NULL, "calibration JSON: %s (line %d)", je.text,
                      je.line);
        if (err != NULL) {
            err->line = je.line;
        }
        return VIGIL_ERR_PARSE;
    }
    vigil_calib *c = calloc(1, sizeof *c);
    vigil_status st = VIGIL_OK;
    if (c == NULL) {
        st = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
        goto done;
    }
    const json_t *ver = json_object_get(o, "vigil_calibration");
    if (!json_is_integer(ver) || json_integer_value(ver) != JSON_FORMAT_VERSION) {
        st = vigil_err_set(err, VIGIL_ERR_PARSE, "vigil_calibration",
                           "calibration JSON: vigil_calibration must be %d", JSON_FORMAT_VERSION);
        goto done;
    }
    const char *method = json_string_value(json_object_get(o, "method"));
    const json_t *nfit = json_object_get(o, "n_fit");
    if (json_is_integer(nfit) && json_integer_value(nfit) >= 0) {
        c->n_fit = (size_t)json_integer_value(nfit);
    }
    if (method != NULL && strcmp(method, "platt") == 0) {
        c->method = VIGIL_CALIB_PLATT;
        const json_t *sm = json_object_get(o, "smooth_targets");
        c->smooth_targets = json_is_true(sm);
        st = get_number(o, "a", &c->a, err);
        if (st == VIGIL_OK) {
            st = get_number(o, "b", &c->b, err);
        }
    } else if (method != NULL && strcmp(method, "isotonic") == 0) {
        c->method = VIGIL_CALIB_ISOTONIC;
        st = read_points(o, c, err);
    } else {
        st = vigil_err_set(err, VIGIL_ERR_PARSE, "method",
                           "calibration JSON: method must be \"platt\" or \"isotonic\"");
    }
done:
    json_decref(o);
    if (st != VIGIL_OK) {
        vigil_calib_free(c);
        return st;
    }
    *out = c;
    return VIGIL_OK;
}
