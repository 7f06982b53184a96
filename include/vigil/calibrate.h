/*
 * vigil/calibrate.h: turn a model score into a calibrated probability.
 *
 * Two maps fitted on held-out (score, label) pairs, as scikit-learn 1.2
 * fits them (checked against CalibratedClassifierCV, IsotonicRegression and
 * LogisticRegression on committed vectors, tests/golden/calibration_vectors.json):
 *  - Platt scaling: p = 1 / (1 + exp(a * score + b)), maximum likelihood by
 *    Newton's method (Lin, Lin and Weng 2007), with Platt's smoothed targets
 *    (N+ + 1)/(N+ + 2) and 1/(N- + 2) as CalibratedClassifierCV uses, or the
 *    raw 0/1 labels (unpenalised logistic regression on the score).
 *  - Isotonic regression: pool-adjacent-violators on scores sorted
 *    ascending (scores closer than 1e-15 count as one, as in scikit-learn),
 *    then linear interpolation between the fitted points, clipped to the
 *    fitted score range. A step-free, non-decreasing map.
 * Either serialises to and from a small JSON object (docs/model.md).
 *
 * Does not: choose the method, split data, or decide thresholds.
 * Thread safety: a fitted vigil_calib is immutable; apply it from any thread.
 */
#ifndef VIGIL_CALIBRATE_H
#define VIGIL_CALIBRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "vigil/status.h"

typedef enum vigil_calib_method {
    VIGIL_CALIB_PLATT = 0,
    VIGIL_CALIB_ISOTONIC,
    VIGIL_CALIB_METHOD_COUNT
} vigil_calib_method;

/* A fitted calibration map: opaque, immutable, released with vigil_calib_free. */
typedef struct vigil_calib vigil_calib;

/* What a fitted map holds (vigil_calib_get_info). */
typedef struct vigil_calib_info {
    vigil_calib_method method;
    double a, b;          /* Platt: p = 1 / (1 + exp(a s + b)); 0 otherwise */
    bool smooth_targets;  /* Platt: fitted to Platt's smoothed targets */
    size_t n_points;      /* isotonic: fitted points kept; 0 otherwise */
    size_t n_fit;         /* pairs it was fitted on */
} vigil_calib_info;

/*
 * Fit Platt scaling on score[0..n) with label[0..n) in {0, 1} (borrowed for
 * the call). smooth_targets selects Platt's targets (what
 * CalibratedClassifierCV(method="sigmoid") fits) or the raw labels.
 * VIGIL_ERR_ARG: NULL pointers, n < 2, a label other than 0/1, a non-finite
 * score, only one class, or all scores equal (no slope to fit); err names
 * the index. VIGIL_ERR_INTERNAL if Newton's method does not converge.
 * On success *out owns a new map; on error *out is unchanged.
 */
vigil_status vigil_calib_fit_platt(const double *score, const int *label, size_t n,
                                   bool smooth_targets, vigil_calib **out, vigil_err *err);

/*
 * Fit isotonic regression (non-decreasing) on score[0..n), label[0..n) in
 * {0, 1}. VIGIL_ERR_ARG as for Platt, except that one class or equal scores
 * are allowed (the map is then constant). Same ownership as above.
 */
vigil_status vigil_calib_fit_isotonic(const double *score, const int *label, size_t n,
                                      vigil_calib **out, vigil_err *err);

/* The calibrated probability of one score, in [0, 1]; NaN for a NaN score. */
double vigil_calib_apply(const vigil_calib *c, double score);

void vigil_calib_get_info(const vigil_calib *c, vigil_calib_info *out);

/*
 * Serialise to a NUL-terminated JSON object that vigil_calib_from_json reads
 * back to a map giving bit-identical probabilities. *out_json is allocated
 * with malloc: the caller releases it with free(). VIGIL_ERR_NOMEM.
 */
vigil_status vigil_calib_to_json(const vigil_calib *c, char **out_json, vigil_err *err);

/*
 * Read a map from JSON text json[0..len) (borrowed). VIGIL_ERR_PARSE for
 * malformed JSON or a map that breaks its invariants (unknown method,
 * non-finite parameters, isotonic points not strictly increasing in score,
 * decreasing in probability, or outside [0, 1]); err->field names the key.
 */
vigil_status vigil_calib_from_json(const char *json, size_t len, vigil_calib **out,
                                   vigil_err *err);

/* Release a map. NULL is a no-op. */
void vigil_calib_free(vigil_calib *c);

#endif
