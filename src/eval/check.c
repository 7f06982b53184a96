/*
 * check.c: input validation shared by every metric, and the sort by score.
 *
 * Does not: compute any metric. Invariant: a metric runs only on inputs
 * that passed these checks, so no metric sees NaN, infinity or a label
 * other than 0/1, and none returns NaN.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "eval_int.h"

vigil_status vigil__eval_check_binary(const char *what, const char *name, const uint8_t *v,
                                      size_t n, vigil_err *err)
{
    if (v == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, name, "%s: %s is NULL", what, name);
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i] > 1) {
            return vigil_err_set(err, VIGIL_ERR_ARG, name, "%s: %s[%zu] is %u, not 0 or 1", what,
                                 name, i, (unsigned)v[i]);
        }
    }
    return VIGIL_OK;
}

vigil_status vigil__eval_check(const char *what, const double *score, const uint8_t *y, size_t n,
                               bool prob, size_t *out_npos, vigil_err *err)
{
    const char *sname = prob ? "p" : "score";
    if (n == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "n", "%s: no rows (n = 0)", what);
    }
    if (score == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, sname, "%s: %s is NULL", what, sname);
    }
    vigil_status st = vigil__eval_check_binary(what, "y", y, n, err);
    if (st != VIGIL_OK) {
        return st;
    }
    size_t n_pos = 0;
    for (size_t i = 0; i < n; i++) {
        double s = score[i];
        if (!isfinite(s)) {
            return vigil_err_set(err, VIGIL_ERR_ARG, sname, "%s: %s[%zu] is %s", what, sname, i,
                                 isnan(s) ? "NaN" : "infinite");
        }
        if (prob && (s < 0.0 || s > 1.0)) {
            return vigil_err_set(err, VIGIL_ERR_ARG, sname,
                                 "%s: %s[%zu] = %g is not a probability in [0, 1]", what, sname, i,
                                 s);
        }
        n_pos += y[i];
    }
    if (out_npos != NULL) {
        *out_npos = n_pos;
    }
    return VIGIL_OK;
}

vigil_status vigil__eval_need_both(const char *what, size_t n_pos, size_t n, vigil_err *err)
{
    if (n_pos == 0 || n_pos == n) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "y",
                             "%s: undefined with one class only (%zu positives of %zu rows)", what,
                             n_pos, n);
    }
    return VIGIL_OK;
}

/* Ascending by score; the order within ties does not matter to any caller. */
static int cmp_pair(const void *a, const void *b)
{
    double x = ((const vigil__eval_pair *)a)->s;
    double z = ((const vigil__eval_pair *)b)->s;
    return (x > z) - (x < z);
}

vigil_status vigil__eval_sort(const double *score, const uint8_t *y, size_t n,
                              vigil__eval_pair **out, vigil_err *err)
{
    vigil__eval_pair *r = n > SIZE_MAX / sizeof *r ? NULL : malloc(n * sizeof *r);
    if (r == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "eval: cannot allocate %zu rows", n);
    }
    for (size_t i = 0; i < n; i++) {
        r[i].s = score[i];
        r[i].y = y[i];
    }
    qsort(r, n, sizeof *r, cmp_pair);
    *out = r;
    return VIGIL_OK;
}
