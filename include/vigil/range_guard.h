/*
 * vigil/range_guard.h: the out-of-range guard. A tree model extrapolates
 * flatly beyond the values it was trained on, so a score computed from an
 * input outside the training range deserves less trust. The guard keeps,
 * per feature, the training minimum and maximum and the 0.5th and 99.5th
 * percentiles (both: the caller chooses), and lists which inputs of a row
 * lie outside them so the prediction can be marked low-confidence.
 *
 * Missing inputs (NaN) are not out of range: the model routes them by each
 * split's default direction, as in training. A present value of a feature
 * that training never saw present is always out of range.
 * Percentiles use numpy's default ("linear") interpolation of the sorted
 * present values.
 *
 * Does not: decide what "low confidence" means clinically, or look at the
 * model. Thread safety: a fitted guard is immutable; check from any thread.
 */
#ifndef VIGIL_RANGE_GUARD_H
#define VIGIL_RANGE_GUARD_H

#include <stddef.h>

#include "vigil/status.h"

typedef struct vigil_range_guard vigil_range_guard;

/* One feature's training range. All NaN when n_present is 0. */
typedef struct vigil_range {
    double min, max;   /* smallest and largest present training value */
    double p005, p995; /* 0.5th and 99.5th percentiles */
    size_t n_present;  /* training rows where the feature was not NaN */
} vigil_range;

/* Which bounds a check uses. */
typedef enum vigil_range_bounds {
    VIGIL_RANGE_MINMAX = 0, /* outside [min, max]: never seen in training */
    VIGIL_RANGE_P005_P995,  /* outside [p005, p995]: in the outer 1% */
    VIGIL_RANGE_BOUNDS_COUNT
} vigil_range_bounds;

/* One input outside its range. */
typedef struct vigil_range_hit {
    size_t feature; /* column index */
    double value;   /* the input */
    double lo, hi;  /* the bounds it is outside (NaN if never seen) */
    int side;       /* -1 below lo, +1 above hi, 0 never seen in training */
} vigil_range_hit;

/*
 * Fit from n_rows training rows, row-major x[n_rows * n_features] (borrowed
 * for the call), NaN for missing. VIGIL_ERR_ARG for NULL pointers or zero
 * features, or an infinite value (err names row and column);
 * VIGIL_ERR_NOMEM. On success *out owns a new guard.
 */
vigil_status vigil_range_guard_fit(const double *x, size_t n_rows, size_t n_features,
                                   vigil_range_guard **out, vigil_err *err);

/*
 * List the inputs of row x[0..n_features) outside the chosen bounds, in
 * column order: writes up to max_hits entries to hits (may be NULL when
 * max_hits is 0) and the total count to *out_n (which may exceed max_hits).
 * *out_n == 0 means every present input is within range.
 * VIGIL_ERR_MISMATCH if n_features differs from the guard's; VIGIL_ERR_ARG
 * for NULL pointers or unknown bounds.
 */
vigil_status vigil_range_guard_check(const vigil_range_guard *g, const double *x,
                                     size_t n_features, vigil_range_bounds bounds,
                                     vigil_range_hit *hits, size_t max_hits, size_t *out_n);

size_t vigil_range_guard_n_features(const vigil_range_guard *g);

/* Feature j's range (VIGIL_ERR_ARG if j is out of bounds). */
vigil_status vigil_range_guard_get(const vigil_range_guard *g, size_t j, vigil_range *out);

/* Serialise to JSON (malloc'd, NUL-terminated: release with free()); a
 * never-seen feature's bounds are null. Reads back bit for bit. */
vigil_status vigil_range_guard_to_json(const vigil_range_guard *g, char **out_json,
                                       vigil_err *err);

/* Read a guard from JSON text json[0..len). VIGIL_ERR_PARSE for malformed
 * JSON or ranges with min > max, p005 outside [min, p995], p995 above max. */
vigil_status vigil_range_guard_from_json(const char *json, size_t len, vigil_range_guard **out,
                                         vigil_err *err);

/* Release a guard. NULL is a no-op. */
void vigil_range_guard_free(vigil_range_guard *g);

#endif
