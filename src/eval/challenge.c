/*
 * challenge.c: the PhysioNet/CinC Challenge scores vigil reports against.
 *
 * 2019 (early prediction of sepsis): the normalised utility score of the
 * official scorer, evaluate_sepsis_score.py in
 * github.com/physionetchallenges/evaluation-2019 (Reyna et al., Crit Care
 * Med 2020): compute_prediction_utility() per patient with dt_early = -12,
 * dt_optimal = -6, dt_late = 3, max_u_tp = 1, min_u_fn = -2, u_fp = -0.05,
 * u_tn = 0, and (U - U_inaction) / (U_best - U_inaction) over the cohort.
 * Its conventions are kept exactly, including:
 *  - t_sepsis = (first row with label 1) - dt_optimal = first + 6, also
 *    when the label is 1 from the first row (t_sepsis = 6);
 *  - rows after t_sepsis + dt_late score 0 whatever the prediction;
 *  - an early true positive scores max(m1 (t - t_sepsis) + b1, u_fp), so an
 *    alert more than 12 h before t_sepsis costs what a false alarm costs;
 *  - the best predictions alert on rows
 *    [max(0, t_sepsis - 12), min(t_sepsis + 3 + 1, n)).
 * 2012 (in-hospital mortality): Event 1 score = min(Se, +P) (Silva et al.,
 * Computing in Cardiology 2012).
 *
 * Does not: read label/prediction files, or score probabilities (the 2019
 * utility uses binary predictions only).
 */
#include <math.h>

#include "eval_int.h"

/* How the predictions of a patient are obtained. */
typedef enum { PRED_GIVEN, PRED_BEST, PRED_NONE } pred_mode;

/* The utility of one patient (inputs already checked). */
static double utility(const uint8_t *label, const uint8_t *pred, size_t n, pred_mode mode)
{
    const double dt_early = VIGIL_EVAL_U2019_DT_EARLY;
    const double dt_optimal = VIGIL_EVAL_U2019_DT_OPTIMAL;
    const double dt_late = VIGIL_EVAL_U2019_DT_LATE;
    /* the three lines u = m t + b of the official scorer */
    const double m1 = VIGIL_EVAL_U2019_MAX_U_TP / (dt_optimal - dt_early);
    const double b1 = -m1 * dt_early;
    const double m2 = -VIGIL_EVAL_U2019_MAX_U_TP / (dt_late - dt_optimal);
    const double b2 = -m2 * dt_late;
    const double m3 = VIGIL_EVAL_U2019_MIN_U_FN / (dt_late - dt_optimal);
    const double b3 = -m3 * dt_optimal;

    size_t first = n;
    for (size_t t = 0; t < n; t++) {
        if (label[t]) {
            first = t;
            break;
        }
    }
    bool septic = first < n;
    double u = 0.0;
    if (!septic) {
        /* t_sepsis is infinite: every row is a false positive or a true negative;
         * the best and no-alert predictions are all zero */
        for (size_t t = 0; t < n && mode == PRED_GIVEN; t++) {
            u += pred[t] ? VIGIL_EVAL_U2019_U_FP : VIGIL_EVAL_U2019_U_TN;
        }
        return u;
    }
    long t_sepsis = (long)first - VIGIL_EVAL_U2019_DT_OPTIMAL;
    long best_from = t_sepsis + VIGIL_EVAL_U2019_DT_EARLY; /* may be negative: max(0, .) */
    long best_to = t_sepsis + VIGIL_EVAL_U2019_DT_LATE;    /* inclusive */
    for (size_t t = 0; t < n; t++) {
        long tl = (long)t;
        if (tl > t_sepsis + VIGIL_EVAL_U2019_DT_LATE) {
            break; /* nothing counts after the late limit */
        }
        bool p;
        switch (mode) {
        case PRED_GIVEN:
            p = pred[t] != 0;
            break;
        case PRED_BEST:
            p = tl >= best_from && tl <= best_to;
            break;
        default:
            p = false;
            break;
        }
        double dt = (double)(tl - t_sepsis);
        if (p) {
            if (tl <= t_sepsis + VIGIL_EVAL_U2019_DT_OPTIMAL) {
                u += fmax(m1 * dt + b1, VIGIL_EVAL_U2019_U_FP);
            } else {
                u += m2 * dt + b2;
            }
        } else if (tl > t_sepsis + VIGIL_EVAL_U2019_DT_OPTIMAL) {
            u += m3 * dt + b3; /* a late miss; an early miss costs 0 */
        }
    }
    return u;
}

/* Refuse an empty patient or a non-binary value, naming patient k and the row. */
static vigil_status check_seq(const uint8_t *label, const uint8_t *pred, size_t n, size_t k,
                              vigil_err *err)
{
    if (n == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "n", "utility2019: patient %zu has no rows", k);
    }
    if (label == NULL || pred == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, label == NULL ? "label" : "pred",
                             "utility2019: patient %zu: %s is NULL", k,
                             label == NULL ? "label" : "pred");
    }
    for (size_t t = 0; t < n; t++) {
        if (label[t] > 1 || pred[t] > 1) {
            const char *name = label[t] > 1 ? "label" : "pred";
            return vigil_err_set(err, VIGIL_ERR_ARG, name,
                                 "utility2019: patient %zu: %s[%zu] is %u, not 0 or 1", k, name, t,
                                 (unsigned)(label[t] > 1 ? label[t] : pred[t]));
        }
    }
    return VIGIL_OK;
}

vigil_status vigil_eval_utility2019_patient(const uint8_t *label, const uint8_t *pred, size_t n,
                                            double *out, vigil_err *err)
{
    vigil_status st = check_seq(label, pred, n, 0, err);
    if (st != VIGIL_OK) {
        return st;
    }
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "utility2019: out is NULL");
    }
    *out = utility(label, pred, n, PRED_GIVEN);
    return VIGIL_OK;
}

vigil_status vigil_eval_utility2019_cohort(const vigil_eval_seq *pts, size_t n_pts,
                                           vigil_eval_utility2019 *out, vigil_err *err)
{
    if (pts == NULL || n_pts == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "n", "utility2019: no patients");
    }
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "utility2019: out is NULL");
    }
    vigil_eval_utility2019 r = {0};
    for (size_t k = 0; k < n_pts; k++) {
        vigil_status st = check_seq(pts[k].label, pts[k].pred, pts[k].n, k, err);
        if (st != VIGIL_OK) {
            return st;
        }
    }
    for (size_t k = 0; k < n_pts; k++) {
        const vigil_eval_seq *s = &pts[k];
        r.observed += utility(s->label, s->pred, s->n, PRED_GIVEN);
        r.best += utility(s->label, s->pred, s->n, PRED_BEST);
        r.inaction += utility(s->label, s->pred, s->n, PRED_NONE);
        for (size_t t = 0; t < s->n; t++) {
            if (s->label[t]) {
                r.n_septic++;
                break;
            }
        }
    }
    r.n_patients = n_pts;
    if (r.n_septic == 0 || !(r.best > r.inaction)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "label",
                             "utility2019: no septic patient, so the best and no-alert "
                             "utilities are equal and the normalised score is undefined");
    }
    r.normalized = (r.observed - r.inaction) / (r.best - r.inaction);
    *out = r;
    return VIGIL_OK;
}

vigil_status vigil_eval_challenge2012_event1(const uint8_t *pred, const uint8_t *died, size_t n,
                                             vigil_eval_event1 *out, vigil_err *err)
{
    if (n == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "n", "event1: no rows (n = 0)");
    }
    vigil_status st = vigil__eval_check_binary("event1", "pred", pred, n, err);
    if (st == VIGIL_OK) {
        st = vigil__eval_check_binary("event1", "died", died, n, err);
    }
    if (st != VIGIL_OK) {
        return st;
    }
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "event1: out is NULL");
    }
    vigil_eval_event1 r = {0};
    for (size_t i = 0; i < n; i++) {
        if (died[i]) {
            if (pred[i]) {
                r.tp++;
            } else {
                r.fn++;
            }
        } else if (pred[i]) {
            r.fp++;
        } else {
            r.tn++;
        }
    }
    if (r.tp + r.fn == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "died",
                             "event1: no deaths, sensitivity is undefined");
    }
    r.se = (double)r.tp / (double)(r.tp + r.fn);
    r.has_ppv = r.tp + r.fp > 0;
    r.ppv = r.has_ppv ? (double)r.tp / (double)(r.tp + r.fp) : 0.0;
    r.score1 = r.has_ppv ? fmin(r.se, r.ppv) : 0.0;
    *out = r;
    return VIGIL_OK;
}
