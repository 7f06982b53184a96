/*
 * subgroup.c: the summary metrics of one population, the same on each
 * subgroup (sex, age band, hospital, ethnicity), and the age-band helper.
 *
 * Does not: name groups (callers do), or print a figure for a group too
 * small to support one: a group with fewer than min_class positives or
 * negatives is marked unreliable and only its counts are reported.
 * Invariant: a summary's has_* flags say which fields hold a value; no
 * field is NaN.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "eval_int.h"
#include "vigil/news2.h"

vigil_status vigil_eval_age_band_of(double age_y, vigil_eval_age_band *out, vigil_err *err)
{
    if (!(age_y >= 16.0 && age_y <= VIGIL_AGE_MAX)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "age",
                             "age band: age %g is not in [16, %g] (NEWS2 is not validated "
                             "under 16)",
                             age_y, VIGIL_AGE_MAX);
    }
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "age band: out is NULL");
    }
    if (age_y < 45.0) {
        *out = VIGIL_EVAL_AGE_16_44;
    } else if (age_y < 65.0) {
        *out = VIGIL_EVAL_AGE_45_64;
    } else if (age_y < 80.0) {
        *out = VIGIL_EVAL_AGE_65_79;
    } else {
        *out = VIGIL_EVAL_AGE_80_PLUS;
    }
    return VIGIL_OK;
}

const char *vigil_eval_age_band_name(vigil_eval_age_band b)
{
    static const char *const names[VIGIL_EVAL_AGE_BAND_COUNT] = {
        [VIGIL_EVAL_AGE_16_44] = "16-44",
        [VIGIL_EVAL_AGE_45_64] = "45-64",
        [VIGIL_EVAL_AGE_65_79] = "65-79",
        [VIGIL_EVAL_AGE_80_PLUS] = "80+",
    };
    if ((unsigned)b >= VIGIL_EVAL_AGE_BAND_COUNT) {
        return "?";
    }
    return names[b];
}

/* The metrics of checked rows with n_pos positives; fills s (counts set). */
static vigil_status summarize_checked(const double *score, const uint8_t *y, size_t n, size_t n_pos,
                                      bool score_is_prob, double threshold, size_t min_class,
                                      vigil_eval_summary *s, vigil_err *err)
{
    vigil_eval_summary r = {0};
    r.n = n;
    r.n_pos = n_pos;
    r.n_neg = n - n_pos;
    r.reliable = r.n_pos >= min_class && r.n_neg >= min_class;
    if (!r.reliable) {
        *s = r;
        return VIGIL_OK;
    }
    vigil__eval_pair *rows = NULL;
    vigil_status st = vigil__eval_sort(score, y, n, &rows, err);
    if (st != VIGIL_OK) {
        return st;
    }
    /* min_class >= 2 guarantees the DeLong variance is defined */
    vigil__eval_delong_sorted(rows, n, n_pos, &r.auroc);
    r.has_roc = true;
    r.auprc = vigil__eval_auprc_sorted(rows, n, n_pos);
    r.has_auprc = true;
    free(rows);
    if (score_is_prob) {
        st = vigil_eval_brier(score, y, n, &r.brier, err);
        if (st != VIGIL_OK) {
            return st;
        }
        r.has_brier = true;
        vigil_err cal_err = {0};
        st = vigil_eval_calibration_fit(score, y, n, &r.cal, &cal_err);
        if (st == VIGIL_ERR_NOMEM) {
            return vigil_err_set(err, st, NULL, "%s", cal_err.msg);
        }
        /* separation or a constant prediction: the slope does not exist */
        r.has_calibration = st == VIGIL_OK;
    }
    vigil__eval_confusion(score, y, n, threshold, &r.at_threshold);
    *s = r;
    return VIGIL_OK;
}

static vigil_status check_summary_args(double threshold, size_t min_class, const void *out,
                                       vigil_err *err)
{
    if (!isfinite(threshold)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "threshold", "summary: threshold is not finite");
    }
    if (min_class < 2) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "min_class",
                             "summary: min_class %zu < 2 (the DeLong variance needs 2 of each "
                             "class)",
                             min_class);
    }
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "summary: out is NULL");
    }
    return VIGIL_OK;
}

vigil_status vigil_eval_summarize(const double *score, const uint8_t *y, size_t n,
                                  bool score_is_prob, double threshold, size_t min_class,
                                  vigil_eval_summary *out, vigil_err *err)
{
    size_t n_pos;
    vigil_status st = vigil__eval_check("summary", score, y, n, score_is_prob, &n_pos, err);
    if (st == VIGIL_OK) {
        st = check_summary_args(threshold, min_class, out, err);
    }
    if (st != VIGIL_OK) {
        return st;
    }
    return summarize_checked(score, y, n, n_pos, score_is_prob, threshold, min_class, out, err);
}

vigil_status vigil_eval_subgroups(const double *score, const uint8_t *y, const int *group, size_t n,
                                  size_t n_groups, bool score_is_prob, double threshold,
                                  size_t min_class, vigil_eval_summary *out, vigil_err *err)
{
    vigil_status st = vigil__eval_check("subgroups", score, y, n, score_is_prob, NULL, err);
    if (st == VIGIL_OK) {
        st = check_summary_args(threshold, min_class, out, err);
    }
    if (st != VIGIL_OK) {
        return st;
    }
    if (group == NULL || n_groups == 0 || n_groups > (size_t)INT32_MAX) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "group",
                             "subgroups: group is NULL or n_groups is 0 or too large");
    }
    for (size_t i = 0; i < n; i++) {
        if (group[i] >= 0 && (size_t)group[i] >= n_groups) {
            return vigil_err_set(err, VIGIL_ERR_ARG, "group",
                                 "subgroups: group[%zu] = %d is not below n_groups = %zu", i,
                                 group[i], n_groups);
        }
    }
    /* bucket the rows by group (counting sort), then summarise each bucket */
    double *gs = malloc(n * sizeof *gs);
    uint8_t *gy = malloc(n * sizeof *gy);
    size_t *start = calloc(n_groups + 1, sizeof *start);
    size_t *next = malloc(n_groups * sizeof *next);
    vigil_eval_summary *res = calloc(n_groups, sizeof *res);
    if (gs == NULL || gy == NULL || start == NULL || next == NULL || res == NULL) {
        st = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "subgroups: cannot allocate");
    }
    if (st == VIGIL_OK) {
        for (size_t i = 0; i < n; i++) {
            if (group[i] >= 0) {
                start[(size_t)group[i] + 1]++;
            }
        }
        for (size_t g = 0; g < n_groups; g++) {
            start[g + 1] += start[g];
            next[g] = start[g];
        }
        for (size_t i = 0; i < n; i++) {
            if (group[i] >= 0) {
                size_t k = next[group[i]]++;
                gs[k] = score[i];
                gy[k] = y[i];
            }
        }
    }
    for (size_t g = 0; g < n_groups && st == VIGIL_OK; g++) {
        size_t m = start[g + 1] - start[g];
        size_t m_pos = 0;
        for (size_t k = start[g]; k < start[g + 1]; k++) {
            m_pos += gy[k];
        }
        if (m == 0) {
            continue; /* an empty group: all zero, unreliable */
        }
        st = summarize_checked(gs + start[g], gy + start[g], m, m_pos, score_is_prob, threshold,
                               min_class, &res[g], err);
    }
    if (st == VIGIL_OK) {
        for (size_t g = 0; g < n_groups; g++) {
            out[g] = res[g];
        }
    }
    free(gs);
    free(gy);
    free(start);
    free(next);
    free(res);
    return st;
}
