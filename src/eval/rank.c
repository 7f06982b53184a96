/*
 * rank.c: discrimination and operating points: AUROC (Mann-Whitney U with
 * midranks), its DeLong variance and 95% CI, average precision, confusion
 * counts at a threshold, and the threshold for a wanted sensitivity.
 *
 * Specifications: Mann & Whitney 1947 / Hanley & McNeil 1982 (AUC = U /
 * (n_pos n_neg)); DeLong, DeLong & Clarke-Pearson, Biometrics 1988
 * (structural components V10, V01 and the variance S10/m + S01/n) in the
 * midrank form of Sun & Xu, IEEE SPL 2014; scikit-learn 1.2
 * average_precision_score. See docs/eval.md.
 *
 * Does not: interpolate curves, or accept NaN/one class where undefined.
 * Invariant: every metric walks the rows sorted by score in tie groups, so
 * ties are always handled as midranks (half a win), and U is accumulated as
 * an exact integer (2U) before the single division.
 */
#include <math.h>
#include <stdlib.h>

#include "eval_int.h"

/* Size of the tie group starting at sorted row i, with its positives. */
static size_t tie_group(const vigil__eval_pair *r, size_t n, size_t i, size_t *out_pos)
{
    size_t j = i;
    size_t pos = 0;
    while (j < n && r[j].s == r[i].s) {
        pos += r[j].y;
        j++;
    }
    *out_pos = pos;
    return j - i;
}

double vigil__eval_auroc_sorted(const vigil__eval_pair *r, size_t n, size_t n_pos)
{
    /* 2U = sum over positives of (2 * negatives strictly below + negatives tied) */
    size_t n_neg = n - n_pos;
    uint64_t u2 = 0;
    size_t neg_below = 0;
    for (size_t i = 0; i < n;) {
        size_t a;
        size_t g = tie_group(r, n, i, &a);
        size_t b = g - a;
        u2 += (uint64_t)a * (2u * (uint64_t)neg_below + (uint64_t)b);
        neg_below += b;
        i += g;
    }
    return (double)u2 / (2.0 * (double)n_pos * (double)n_neg);
}

void vigil__eval_delong_sorted(const vigil__eval_pair *r, size_t n, size_t n_pos,
                               vigil_eval_roc *out)
{
    size_t n_neg = n - n_pos;
    double m = (double)n_pos;
    double k = (double)n_neg;
    double auc = vigil__eval_auroc_sorted(r, n, n_pos);
    /* V10 of a positive: fraction of negatives it beats (ties half);
     * V01 of a negative: fraction of positives that beat it. Every row of a
     * tie group of one class shares its component. */
    double s10 = 0.0;
    double s01 = 0.0;
    size_t neg_below = 0;
    size_t pos_below = 0;
    for (size_t i = 0; i < n;) {
        size_t a;
        size_t g = tie_group(r, n, i, &a);
        size_t b = g - a;
        if (a > 0) {
            double v10 = ((double)neg_below + 0.5 * (double)b) / k;
            s10 += (double)a * (v10 - auc) * (v10 - auc);
        }
        if (b > 0) {
            double above = (double)(n_pos - pos_below - a);
            double v01 = (above + 0.5 * (double)a) / m;
            s01 += (double)b * (v01 - auc) * (v01 - auc);
        }
        neg_below += b;
        pos_below += a;
        i += g;
    }
    s10 /= m - 1.0;
    s01 /= k - 1.0;
    double var = s10 / m + s01 / k;
    double se = sqrt(var);
    out->auc = auc;
    out->var = var;
    out->se = se;
    out->lo = fmax(0.0, auc - VIGIL_EVAL_Z975 * se);
    out->hi = fmin(1.0, auc + VIGIL_EVAL_Z975 * se);
    out->n_pos = n_pos;
    out->n_neg = n_neg;
}

double vigil__eval_auprc_sorted(const vigil__eval_pair *r, size_t n, size_t n_pos)
{
    /* thresholds from the highest score down: each distinct score adds
     * (recall gained) * (precision at that threshold) */
    double ap = 0.0;
    size_t tp = 0;
    size_t fp = 0;
    size_t end = n;
    while (end > 0) {
        size_t start = end - 1;
        while (start > 0 && r[start - 1].s == r[end - 1].s) {
            start--;
        }
        size_t a = 0;
        for (size_t i = start; i < end; i++) {
            a += r[i].y;
        }
        tp += a;
        fp += (end - start) - a;
        if (a > 0) {
            ap += ((double)a / (double)n_pos) * ((double)tp / (double)(tp + fp));
        }
        end = start;
    }
    return ap;
}

vigil_status vigil_eval_auroc(const double *score, const uint8_t *y, size_t n, double *out_auc,
                              vigil_err *err)
{
    size_t n_pos;
    vigil_status st = vigil__eval_check("auroc", score, y, n, false, &n_pos, err);
    if (st == VIGIL_OK) {
        st = vigil__eval_need_both("auroc", n_pos, n, err);
    }
    if (st == VIGIL_OK && out_auc == NULL) {
        st = vigil_err_set(err, VIGIL_ERR_ARG, "out", "auroc: out_auc is NULL");
    }
    vigil__eval_pair *r = NULL;
    if (st == VIGIL_OK) {
        st = vigil__eval_sort(score, y, n, &r, err);
    }
    if (st == VIGIL_OK) {
        *out_auc = vigil__eval_auroc_sorted(r, n, n_pos);
    }
    free(r);
    return st;
}

vigil_status vigil_eval_auroc_delong(const double *score, const uint8_t *y, size_t n,
                                     vigil_eval_roc *out, vigil_err *err)
{
    size_t n_pos;
    vigil_status st = vigil__eval_check("auroc_delong", score, y, n, false, &n_pos, err);
    if (st == VIGIL_OK && (n_pos < 2 || n - n_pos < 2)) {
        st = vigil_err_set(err, VIGIL_ERR_ARG, "y",
                           "auroc_delong: the DeLong variance needs at least 2 positives and "
                           "2 negatives (have %zu and %zu)",
                           n_pos, n - n_pos);
    }
    if (st == VIGIL_OK && out == NULL) {
        st = vigil_err_set(err, VIGIL_ERR_ARG, "out", "auroc_delong: out is NULL");
    }
    vigil__eval_pair *r = NULL;
    if (st == VIGIL_OK) {
        st = vigil__eval_sort(score, y, n, &r, err);
    }
    if (st == VIGIL_OK) {
        vigil__eval_delong_sorted(r, n, n_pos, out);
    }
    free(r);
    return st;
}

vigil_status vigil_eval_auprc(const double *score, const uint8_t *y, size_t n, double *out_ap,
                              vigil_err *err)
{
    size_t n_pos;
    vigil_status st = vigil__eval_check("auprc", score, y, n, false, &n_pos, err);
    if (st == VIGIL_OK && n_pos == 0) {
        st = vigil_err_set(err, VIGIL_ERR_ARG, "y", "auprc: undefined without positives");
    }
    if (st == VIGIL_OK && out_ap == NULL) {
        st = vigil_err_set(err, VIGIL_ERR_ARG, "out", "auprc: out_ap is NULL");
    }
    vigil__eval_pair *r = NULL;
    if (st == VIGIL_OK) {
        st = vigil__eval_sort(score, y, n, &r, err);
    }
    if (st == VIGIL_OK) {
        *out_ap = vigil__eval_auprc_sorted(r, n, n_pos);
    }
    free(r);
    return st;
}

/* Fill the four ratios of a confusion whose counts are set. */
static void confusion_ratios(vigil_eval_confusion *c)
{
    c->has_sens = c->tp + c->fn > 0;
    c->has_spec = c->tn + c->fp > 0;
    c->has_ppv = c->tp + c->fp > 0;
    c->has_npv = c->tn + c->fn > 0;
    c->sens = c->has_sens ? (double)c->tp / (double)(c->tp + c->fn) : 0.0;
    c->spec = c->has_spec ? (double)c->tn / (double)(c->tn + c->fp) : 0.0;
    c->ppv = c->has_ppv ? (double)c->tp / (double)(c->tp + c->fp) : 0.0;
    c->npv = c->has_npv ? (double)c->tn / (double)(c->tn + c->fn) : 0.0;
}

void vigil__eval_confusion(const double *score, const uint8_t *y, size_t n, double threshold,
                           vigil_eval_confusion *out)
{
    vigil_eval_confusion c = {0};
    c.threshold = threshold;
    for (size_t i = 0; i < n; i++) {
        bool alert = score[i] >= threshold;
        if (y[i]) {
            if (alert) {
                c.tp++;
            } else {
                c.fn++;
            }
        } else if (alert) {
            c.fp++;
        } else {
            c.tn++;
        }
    }
    confusion_ratios(&c);
    *out = c;
}

vigil_status vigil_eval_at_threshold(const double *score, const uint8_t *y, size_t n,
                                     double threshold, vigil_eval_confusion *out, vigil_err *err)
{
    vigil_status st = vigil__eval_check("at_threshold", score, y, n, false, NULL, err);
    if (st != VIGIL_OK) {
        return st;
    }
    if (!isfinite(threshold)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "threshold",
                             "at_threshold: threshold is not finite");
    }
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "at_threshold: out is NULL");
    }
    vigil__eval_confusion(score, y, n, threshold, out);
    return VIGIL_OK;
}

vigil_status vigil_eval_threshold_for_sensitivity(const double *score, const uint8_t *y, size_t n,
                                                  double min_sens, vigil_eval_confusion *out,
                                                  vigil_err *err)
{
    size_t n_pos;
    vigil_status st =
        vigil__eval_check("threshold_for_sensitivity", score, y, n, false, &n_pos, err);
    if (st != VIGIL_OK) {
        return st;
    }
    if (n_pos == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "y",
                             "threshold_for_sensitivity: no positives, sensitivity undefined");
    }
    if (!(min_sens > 0.0 && min_sens <= 1.0)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "min_sens",
                             "threshold_for_sensitivity: min_sens %g is not in (0, 1]", min_sens);
    }
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "out", "threshold_for_sensitivity: out is NULL");
    }
    vigil__eval_pair *r = NULL;
    st = vigil__eval_sort(score, y, n, &r, err);
    if (st != VIGIL_OK) {
        return st;
    }
    /* Lower the threshold one distinct score at a time; sensitivity only
     * grows, so the first that reaches min_sens alerts least. The lowest
     * score reaches sensitivity 1, so the loop always finds one. */
    size_t tp = 0;
    size_t fp = 0;
    size_t end = n;
    double thr = r[0].s;
    while (end > 0) {
        size_t start = end - 1;
        while (start > 0 && r[start - 1].s == r[end - 1].s) {
            start--;
        }
        for (size_t i = start; i < end; i++) {
            tp += r[i].y;
            fp += 1u - r[i].y;
        }
        if ((double)tp / (double)n_pos >= min_sens) {
            thr = r[start].s;
            break;
        }
        end = start;
    }
    free(r);
    vigil_eval_confusion c = {0};
    c.threshold = thr;
    c.tp = tp;
    c.fp = fp;
    c.fn = n_pos - tp;
    c.tn = (n - n_pos) - fp;
    confusion_ratios(&c);
    *out = c;
    return VIGIL_OK;
}
