/*
 * calib.c: calibration of predicted probabilities: Brier score, the
 * calibration intercept (calibration-in-the-large) and slope, and the
 * expected calibration error with reliability bins.
 *
 * Specifications: Brier, Monthly Weather Review 1950; Cox, Biometrika 1958
 * (slope: y ~ a + b logit p); Van Calster et al., J Clin Epidemiol 2016 and
 * Steyerberg, Clinical Prediction Models (intercept: y ~ a + offset(logit p));
 * Naeini et al., AAAI 2015 / Guo et al., ICML 2017 (ECE). See docs/eval.md.
 *
 * Does not: smooth (no loess curves), or report a slope whose
 * maximum likelihood estimate does not exist.
 * Invariant: logistic fits are Newton-Raphson with step halving on the
 * log-likelihood, so each accepted step never lowers it; separation is
 * detected before fitting, not by watching coefficients run away.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "eval_int.h"

#define FIT_MAX_ITER 100
#define FIT_TOL 1e-11
#define FIT_MAX_HALVINGS 40

vigil_status vigil_eval_brier(const double *p, const uint8_t *y, size_t n, double *out,
                              vigil_err *err)
{
    vigil_status st = vigil__eval_check("brier", p, y, n, true, NULL, err);
    if (st != VIGIL_OK) {
        return st;
    }
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "brier: out is NULL");
    }
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = p[i] - (double)y[i];
        sum += d * d;
    }
    *out = sum / (double)n;
    return VIGIL_OK;
}

static double logit_clipped(double p)
{
    double q = fmin(fmax(p, VIGIL_EVAL_P_CLIP), 1.0 - VIGIL_EVAL_P_CLIP);
    return log(q / (1.0 - q));
}

/* log(1 + e^t) without overflow */
static double softplus(double t)
{
    return t > 0.0 ? t + log1p(exp(-t)) : log1p(exp(t));
}

static double sigmoid(double t)
{
    if (t >= 0.0) {
        return 1.0 / (1.0 + exp(-t));
    }
    double e = exp(t);
    return e / (1.0 + e);
}

/* Logistic log-likelihood of y ~ a + b x. */
static double loglik(const double *x, const uint8_t *y, size_t n, double a, double b)
{
    double ll = 0.0;
    for (size_t i = 0; i < n; i++) {
        double eta = a + b * x[i];
        ll += (double)y[i] * eta - softplus(eta);
    }
    return ll;
}

/*
 * Newton-Raphson for y ~ a + b x. With fit_b false, b stays at its given
 * value (an offset b x) and only a is fitted. Returns false when it does not
 * converge in FIT_MAX_ITER steps or the information matrix is singular.
 */
static bool newton_fit(const double *x, const uint8_t *y, size_t n, bool fit_b, double *a_io,
                       double *b_io, int *out_iter)
{
    double a = *a_io;
    double b = *b_io;
    double ll = loglik(x, y, n, a, b);
    for (int it = 1; it <= FIT_MAX_ITER; it++) {
        double g0 = 0.0, g1 = 0.0, h00 = 0.0, h01 = 0.0, h11 = 0.0;
        for (size_t i = 0; i < n; i++) {
            double mu = sigmoid(a + b * x[i]);
            double w = mu * (1.0 - mu);
            double r = (double)y[i] - mu;
            g0 += r;
            g1 += r * x[i];
            h00 += w;
            h01 += w * x[i];
            h11 += w * x[i] * x[i];
        }
        double da;
        double db = 0.0;
        if (fit_b) {
            double det = h00 * h11 - h01 * h01;
            if (!(det > 1e-300) || !(h00 > 0.0)) {
                return false;
            }
            da = (h11 * g0 - h01 * g1) / det;
            db = (h00 * g1 - h01 * g0) / det;
        } else {
            if (!(h00 > 0.0)) {
                return false;
            }
            da = g0 / h00;
        }
        double scale = 1.0;
        double na = a + da;
        double nb = b + db;
        double nll = loglik(x, y, n, na, nb);
        for (int h = 0; h < FIT_MAX_HALVINGS && !(nll >= ll - 1e-12 * fabs(ll)); h++) {
            scale *= 0.5;
            na = a + scale * da;
            nb = b + scale * db;
            nll = loglik(x, y, n, na, nb);
        }
        a = na;
        b = nb;
        ll = nll;
        if (!isfinite(a) || !isfinite(b)) {
            return false;
        }
        if (fabs(scale * da) <= FIT_TOL * (1.0 + fabs(a)) &&
            fabs(scale * db) <= FIT_TOL * (1.0 + fabs(b))) {
            *a_io = a;
            *b_io = b;
            *out_iter = it;
            return true;
        }
    }
    return false;
}

vigil_status vigil_eval_calibration_fit(const double *p, const uint8_t *y, size_t n,
                                        vigil_eval_calibration *out, vigil_err *err)
{
    size_t n_pos;
    vigil_status st = vigil__eval_check("calibration", p, y, n, true, &n_pos, err);
    if (st != VIGIL_OK) {
        return st;
    }
    st = vigil__eval_need_both("calibration", n_pos, n, err);
    if (st != VIGIL_OK) {
        return st;
    }
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "calibration: out is NULL");
    }
    double *x = n > SIZE_MAX / sizeof *x ? NULL : malloc(n * sizeof *x);
    if (x == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "calibration: cannot allocate %zu rows",
                             n);
    }
    for (size_t i = 0; i < n; i++) {
        x[i] = logit_clipped(p[i]);
    }
    /* Separation is tested on the same clipped logits the fit sees. */
    double min_pos = INFINITY, max_pos = -INFINITY;
    double min_neg = INFINITY, max_neg = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (y[i]) {
            min_pos = fmin(min_pos, x[i]);
            max_pos = fmax(max_pos, x[i]);
        } else {
            min_neg = fmin(min_neg, x[i]);
            max_neg = fmax(max_neg, x[i]);
        }
    }
    if (min_pos == max_pos && min_neg == max_neg && min_pos == min_neg) {
        free(x);
        return vigil_err_set(err, VIGIL_ERR_ARG, "p",
                             "calibration: every prediction is the same (%g), the slope is "
                             "undefined",
                             p[0]);
    }
    if (min_pos >= max_neg || max_pos <= min_neg) {
        free(x);
        return vigil_err_set(err, VIGIL_ERR_ARG, "p",
                             "calibration: logit(p) separates the classes (perfect "
                             "discrimination), the slope's maximum likelihood estimate "
                             "does not exist");
    }
    vigil_eval_calibration c = {0};
    /* intercept in the large: y ~ a + offset(x), i.e. b fixed at 1 */
    double a = 0.0;
    double one = 1.0;
    bool ok = newton_fit(x, y, n, false, &a, &one, &c.iter_intercept);
    c.intercept = a;
    /* slope: y ~ c + b x, started at the identity (c = 0, b = 1) */
    double c0 = 0.0;
    double b = 1.0;
    if (ok) {
        ok = newton_fit(x, y, n, true, &c0, &b, &c.iter_slope);
        c.slope = b;
        c.slope_intercept = c0;
    }
    free(x);
    if (!ok) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "p",
                             "calibration: the logistic fit did not converge in %d Newton "
                             "steps",
                             FIT_MAX_ITER);
    }
    *out = c;
    return VIGIL_OK;
}

vigil_status vigil_eval_ece(const double *p, const uint8_t *y, size_t n, size_t n_bins,
                            vigil_eval_bin *out_bins, double *out_ece, vigil_err *err)
{
    vigil_status st = vigil__eval_check("ece", p, y, n, true, NULL, err);
    if (st != VIGIL_OK) {
        return st;
    }
    if (n_bins < 1 || n_bins > 1000) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "n_bins", "ece: n_bins %zu is not in [1, 1000]",
                             n_bins);
    }
    if (out_bins == NULL || out_ece == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "ece: output is NULL");
    }
    for (size_t b = 0; b < n_bins; b++) {
        out_bins[b] = (vigil_eval_bin){.lo = (double)b / (double)n_bins,
                                       .hi = (double)(b + 1) / (double)n_bins};
    }
    /* first pass: counts and sums (mean_pred/obs_rate hold sums until the end) */
    for (size_t i = 0; i < n; i++) {
        size_t b = (size_t)floor(p[i] * (double)n_bins);
        if (b >= n_bins) {
            b = n_bins - 1;
        }
        out_bins[b].n++;
        out_bins[b].mean_pred += p[i];
        out_bins[b].obs_rate += (double)y[i];
    }
    double ece = 0.0;
    for (size_t b = 0; b < n_bins; b++) {
        vigil_eval_bin *bin = &out_bins[b];
        if (bin->n > 0) {
            bin->mean_pred /= (double)bin->n;
            bin->obs_rate /= (double)bin->n;
            ece += (double)bin->n / (double)n * fabs(bin->obs_rate - bin->mean_pred);
        }
    }
    *out_ece = ece;
    return VIGIL_OK;
}
