/*
 * eval_int.h: internals shared by the src/eval files: input checks and the
 * score-sorted view that every ranking metric walks. Private to src/eval.
 */
#ifndef VIGIL_EVAL_INT_H
#define VIGIL_EVAL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/eval.h"

/* One row, for sorting by score. */
typedef struct vigil__eval_pair {
    double s;
    uint8_t y;
} vigil__eval_pair;

/*
 * Check a (score, label) input: non-NULL arrays, n > 0, every score finite
 * (and in [0, 1] when prob), every label 0/1. what names the function in
 * the message. *out_npos (optional) receives the number of positives.
 */
vigil_status vigil__eval_check(const char *what, const double *score, const uint8_t *y, size_t n,
                               bool prob, size_t *out_npos, vigil_err *err);

/* Check a binary (0/1) array of n values; name is the array's name. */
vigil_status vigil__eval_check_binary(const char *what, const char *name, const uint8_t *v,
                                      size_t n, vigil_err *err);

/* Refuse one class (n_pos == 0 or n_pos == n) for a metric that needs both. */
vigil_status vigil__eval_need_both(const char *what, size_t n_pos, size_t n, vigil_err *err);

/*
 * A malloc'd copy of the rows sorted by ascending score (caller frees).
 * Inputs must already be checked.
 */
vigil_status vigil__eval_sort(const double *score, const uint8_t *y, size_t n,
                              vigil__eval_pair **out, vigil_err *err);

/* Ranking metrics on sorted rows with n_pos positives (both classes present;
 * for the DeLong variance at least 2 of each). */
double vigil__eval_auroc_sorted(const vigil__eval_pair *r, size_t n, size_t n_pos);
void vigil__eval_delong_sorted(const vigil__eval_pair *r, size_t n, size_t n_pos,
                               vigil_eval_roc *out);
double vigil__eval_auprc_sorted(const vigil__eval_pair *r, size_t n, size_t n_pos);

/* Confusion at a threshold on checked rows (no allocation). */
void vigil__eval_confusion(const double *score, const uint8_t *y, size_t n, double threshold,
                           vigil_eval_confusion *out);

#endif
