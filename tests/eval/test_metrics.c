/*
 * test_metrics.c: src/eval against an independent oracle and against cases
 * worked by hand.
 *
 * Golden vectors: tests/golden/eval/*.json, written by
 * scripts/oracles/make_metric_vectors.py from scikit-learn 1.2
 * (roc_auc_score, average_precision_score, brier_score_loss,
 * confusion_matrix, LogisticRegression) and from numpy code written from the
 * papers (DeLong 1988 structural components, calibration-in-the-large, ECE)
 * and from the official PhysioNet/CinC 2019 scorer's utility functions.
 * Closed-form metrics must agree within 1e-9, iterative fits within 1e-6.
 * Hand-worked cases: each expected value is derived in the comment above it.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/eval.h"
#include "vigil_test.h"

#define TOL 1e-9
#define TOL_FIT 1e-6
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ helpers */

static void near(double got, double want, double tol, const char *ctx, const char *what)
{
    if (!(fabs(got - want) <= tol)) {
        print_error("%s: %s: got %.17g, want %.17g (diff %.3g > %.1g)\n", ctx, what, got, want,
                    got - want, tol);
        fail();
    }
}

static void counts_eq(size_t got, json_int_t want, const char *ctx, const char *what)
{
    if ((json_int_t)got != want) {
        print_error("%s: %s: got %zu, want %lld\n", ctx, what, got, (long long)want);
        fail();
    }
}

static json_t *load_golden(const char *name)
{
    const char *root = getenv("VIGIL_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/golden/eval/%s", root != NULL ? root : ".", name);
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    if (j == NULL) {
        print_error("cannot load %s: %s (line %d)\n", path, jerr.text, jerr.line);
        fail();
    }
    return j;
}

static double num(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_number(v)) {
        print_error("golden: %s is not a number\n", key);
        fail();
    }
    return json_number_value(v);
}

static json_int_t inum(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v)) {
        print_error("golden: %s is not an integer\n", key);
        fail();
    }
    return json_integer_value(v);
}

static double *doubles(const json_t *a, size_t *n)
{
    assert_true(json_is_array(a));
    *n = json_array_size(a);
    double *v = malloc((*n > 0 ? *n : 1) * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < *n; i++) {
        v[i] = json_number_value(json_array_get(a, i));
    }
    return v;
}

static uint8_t *bytes(const json_t *a, size_t *n)
{
    assert_true(json_is_array(a));
    *n = json_array_size(a);
    uint8_t *v = malloc(*n > 0 ? *n : 1);
    assert_non_null(v);
    for (size_t i = 0; i < *n; i++) {
        v[i] = (uint8_t)json_integer_value(json_array_get(a, i));
    }
    return v;
}

static vigil_status ok_or_print(vigil_status st, const vigil_err *e)
{
    if (st != VIGIL_OK) {
        print_error("unexpected error %s: %s\n", vigil_status_str(st), e->msg);
    }
    return st;
}

/* The confusion in c against the oracle's {tp, fp, tn, fn, sens, ...}. */
static void check_confusion(const vigil_eval_confusion *c, const json_t *w, const char *ctx)
{
    counts_eq(c->tp, inum(w, "tp"), ctx, "tp");
    counts_eq(c->fp, inum(w, "fp"), ctx, "fp");
    counts_eq(c->tn, inum(w, "tn"), ctx, "tn");
    counts_eq(c->fn, inum(w, "fn"), ctx, "fn");
    near(c->threshold, num(w, "threshold"), 0.0, ctx, "threshold");
    static const char *const keys[] = {"sens", "spec", "ppv", "npv"};
    const double vals[] = {c->sens, c->spec, c->ppv, c->npv};
    const bool has[] = {c->has_sens, c->has_spec, c->has_ppv, c->has_npv};
    for (size_t k = 0; k < 4; k++) {
        json_t *v = json_object_get(w, keys[k]);
        if (json_is_null(v)) {
            assert_false(has[k]);
            near(vals[k], 0.0, 0.0, ctx, keys[k]);
        } else {
            assert_true(has[k]);
            near(vals[k], json_number_value(v), TOL, ctx, keys[k]);
        }
    }
}

/* ------------------------------------------------- golden binary vectors */

/* Every binary-outcome metric on one oracle vector. */
static void check_vector(const json_t *vec)
{
    const char *name = json_string_value(json_object_get(vec, "name"));
    const json_t *x = json_object_get(vec, "expected");
    size_t n, n2, n3;
    double *score = doubles(json_object_get(vec, "score"), &n);
    double *prob = doubles(json_object_get(vec, "prob"), &n2);
    uint8_t *y = bytes(json_object_get(vec, "y"), &n3);
    assert_int_equal(n, n2);
    assert_int_equal(n, n3);
    counts_eq(n, inum(x, "n"), name, "n");
    vigil_err e = {0};

    double auc = -1.0;
    assert_int_equal(ok_or_print(vigil_eval_auroc(score, y, n, &auc, &e), &e), VIGIL_OK);
    near(auc, num(x, "auroc"), TOL, name, "auroc vs sklearn roc_auc_score");

    vigil_eval_roc roc = {0};
    json_t *dl = json_object_get(x, "delong");
    vigil_status st = vigil_eval_auroc_delong(score, y, n, &roc, &e);
    if (json_is_null(dl)) {
        assert_int_equal(st, VIGIL_ERR_ARG);
        assert_true(strstr(e.msg, "at least 2") != NULL);
    } else {
        assert_int_equal(ok_or_print(st, &e), VIGIL_OK);
        near(roc.auc, num(x, "auroc"), TOL, name, "delong auc");
        near(roc.var, num(dl, "var"), TOL, name, "delong var");
        near(roc.se, num(dl, "se"), TOL, name, "delong se");
        near(roc.lo, num(dl, "lo"), TOL, name, "delong lo");
        near(roc.hi, num(dl, "hi"), TOL, name, "delong hi");
        counts_eq(roc.n_pos, inum(x, "n_pos"), name, "n_pos");
    }

    double ap = -1.0;
    assert_int_equal(ok_or_print(vigil_eval_auprc(score, y, n, &ap, &e), &e), VIGIL_OK);
    near(ap, num(x, "auprc"), TOL, name, "auprc vs sklearn average_precision_score");

    double brier = -1.0;
    assert_int_equal(ok_or_print(vigil_eval_brier(prob, y, n, &brier, &e), &e), VIGIL_OK);
    near(brier, num(x, "brier"), TOL, name, "brier vs sklearn brier_score_loss");

    vigil_eval_calibration cal = {0};
    st = vigil_eval_calibration_fit(prob, y, n, &cal, &e);
    json_t *sl = json_object_get(x, "slope");
    if (json_is_null(sl)) {
        assert_int_equal(st, VIGIL_ERR_ARG);
        assert_true(strstr(e.msg, "separates") != NULL);
    } else {
        assert_int_equal(ok_or_print(st, &e), VIGIL_OK);
        near(cal.slope, num(sl, "slope"), TOL_FIT, name, "calibration slope vs sklearn");
        near(cal.slope_intercept, num(sl, "intercept"), TOL_FIT, name,
             "slope fit intercept vs sklearn");
        near(cal.intercept, num(x, "citl"), TOL_FIT, name, "calibration-in-the-large");
    }

    const json_t *eces = json_object_get(x, "ece");
    const char *key;
    json_t *ev;
    json_object_foreach((json_t *)eces, key, ev)
    {
        long nb = strtol(key, NULL, 10);
        vigil_eval_bin bins[32];
        double ece = -1.0;
        assert_int_equal(ok_or_print(vigil_eval_ece(prob, y, n, (size_t)nb, bins, &ece, &e), &e),
                         VIGIL_OK);
        near(ece, num(ev, "ece"), TOL, name, "ece");
        const json_t *wb = json_object_get(ev, "bins");
        assert_int_equal(json_array_size(wb), (size_t)nb);
        for (size_t b = 0; b < (size_t)nb; b++) {
            const json_t *w = json_array_get(wb, b);
            counts_eq(bins[b].n, inum(w, "n"), name, "ece bin n");
            near(bins[b].mean_pred, num(w, "mean_pred"), TOL, name, "ece bin mean_pred");
            near(bins[b].obs_rate, num(w, "obs_rate"), TOL, name, "ece bin obs_rate");
        }
    }

    const json_t *thr = json_object_get(x, "at_threshold");
    for (size_t k = 0; k < json_array_size(thr); k++) {
        const json_t *w = json_array_get(thr, k);
        vigil_eval_confusion c;
        assert_int_equal(
            ok_or_print(vigil_eval_at_threshold(score, y, n, num(w, "threshold"), &c, &e), &e),
            VIGIL_OK);
        check_confusion(&c, w, name);
    }

    const json_t *fs = json_object_get(x, "for_sensitivity");
    for (size_t k = 0; k < json_array_size(fs); k++) {
        const json_t *w = json_array_get(fs, k);
        vigil_eval_confusion c;
        assert_int_equal(
            ok_or_print(vigil_eval_threshold_for_sensitivity(score, y, n, num(w, "target"), &c, &e),
                        &e),
            VIGIL_OK);
        check_confusion(&c, w, name);
    }

    const json_t *c12 = json_object_get(x, "challenge2012");
    uint8_t *pred = malloc(n);
    assert_non_null(pred);
    for (size_t i = 0; i < n; i++) {
        pred[i] = prob[i] >= 0.5;
    }
    vigil_eval_event1 ev1;
    assert_int_equal(ok_or_print(vigil_eval_challenge2012_event1(pred, y, n, &ev1, &e), &e),
                     VIGIL_OK);
    counts_eq(ev1.tp, inum(c12, "tp"), name, "event1 tp");
    counts_eq(ev1.fp, inum(c12, "fp"), name, "event1 fp");
    counts_eq(ev1.fn, inum(c12, "fn"), name, "event1 fn");
    near(ev1.se, num(c12, "se"), TOL, name, "event1 se");
    if (json_is_null(json_object_get(c12, "ppv"))) {
        assert_false(ev1.has_ppv);
    } else {
        near(ev1.ppv, num(c12, "ppv"), TOL, name, "event1 ppv");
    }
    near(ev1.score1, num(c12, "score1"), TOL, name, "event1 score1");

    free(pred);
    free(score);
    free(prob);
    free(y);
}

static void golden_file(const char *fname)
{
    json_t *j = load_golden(fname);
    check_vector(j);
    json_decref(j);
}

static void continuous_scores_match_the_oracle(void **state)
{
    (void)state;
    golden_file("continuous.json");
}

static void news2_tied_integer_scores_match_the_oracle(void **state)
{
    (void)state;
    golden_file("news2_ties.json");
}

static void imbalanced_rounded_probabilities_match_the_oracle(void **state)
{
    (void)state;
    golden_file("imbalanced.json");
}

static void tiny_edge_vectors_match_the_oracle(void **state)
{
    (void)state;
    json_t *j = load_golden("tiny.json");
    const json_t *vs = json_object_get(j, "vectors");
    assert_true(json_array_size(vs) >= 5);
    for (size_t k = 0; k < json_array_size(vs); k++) {
        check_vector(json_array_get(vs, k));
    }
    json_decref(j);
}

static void subgroups_by_age_band_match_the_oracle(void **state)
{
    (void)state;
    json_t *j = load_golden("imbalanced.json");
    size_t n, n2, n3, n4;
    double *prob = doubles(json_object_get(j, "prob"), &n);
    uint8_t *y = bytes(json_object_get(j, "y"), &n2);
    double *age = doubles(json_object_get(j, "age_y"), &n3);
    double *gj = doubles(json_object_get(j, "group"), &n4);
    assert_int_equal(n, n2);
    assert_int_equal(n, n3);
    assert_int_equal(n, n4);
    int *group = malloc(n * sizeof *group);
    assert_non_null(group);
    vigil_err e = {0};
    for (size_t i = 0; i < n; i++) {
        vigil_eval_age_band b;
        assert_int_equal(vigil_eval_age_band_of(age[i], &b, &e), VIGIL_OK);
        group[i] = (int)b;
        assert_int_equal(group[i], (int)gj[i]); /* the helper agrees with the oracle's bands */
    }
    const json_t *sg = json_object_get(json_object_get(j, "expected"), "subgroups");
    const json_t *groups = json_object_get(sg, "groups");
    vigil_eval_summary out[VIGIL_EVAL_AGE_BAND_COUNT];
    assert_int_equal(ok_or_print(vigil_eval_subgroups(prob, y, group, n, VIGIL_EVAL_AGE_BAND_COUNT,
                                                      true, num(sg, "threshold"),
                                                      (size_t)inum(sg, "min_class"), out, &e),
                                 &e),
                     VIGIL_OK);
    assert_int_equal(json_array_size(groups), VIGIL_EVAL_AGE_BAND_COUNT);
    for (size_t g = 0; g < VIGIL_EVAL_AGE_BAND_COUNT; g++) {
        const json_t *w = json_array_get(groups, g);
        const char *ctx = vigil_eval_age_band_name((vigil_eval_age_band)g);
        const vigil_eval_summary *s = &out[g];
        counts_eq(s->n, inum(w, "n"), ctx, "n");
        counts_eq(s->n_pos, inum(w, "n_pos"), ctx, "n_pos");
        assert_int_equal(s->reliable, json_is_true(json_object_get(w, "reliable")));
        if (!s->reliable) {
            assert_false(s->has_roc);
            continue;
        }
        assert_true(s->has_roc && s->has_auprc && s->has_brier && s->has_calibration);
        near(s->auroc.auc, num(w, "auroc"), TOL, ctx, "auroc");
        near(s->auroc.lo, num(json_object_get(w, "delong"), "lo"), TOL, ctx, "delong lo");
        near(s->auroc.hi, num(json_object_get(w, "delong"), "hi"), TOL, ctx, "delong hi");
        near(s->auprc, num(w, "auprc"), TOL, ctx, "auprc");
        near(s->brier, num(w, "brier"), TOL, ctx, "brier");
        near(s->cal.intercept, num(w, "citl"), TOL_FIT, ctx, "citl");
        near(s->cal.slope, num(w, "slope"), TOL_FIT, ctx, "slope");
        check_confusion(&s->at_threshold, json_object_get(w, "at_threshold"), ctx);
    }
    free(group);
    free(prob);
    free(y);
    free(age);
    free(gj);
    json_decref(j);
}

static void utility2019_matches_the_official_scorer(void **state)
{
    (void)state;
    json_t *j = load_golden("utility2019.json");
    const json_t *cohorts = json_object_get(j, "cohorts");
    assert_true(json_array_size(cohorts) >= 5);
    for (size_t c = 0; c < json_array_size(cohorts); c++) {
        const json_t *co = json_array_get(cohorts, c);
        const char *name = json_string_value(json_object_get(co, "name"));
        const json_t *pj = json_object_get(co, "patients");
        const json_t *x = json_object_get(co, "expected");
        size_t np = json_array_size(pj);
        vigil_eval_seq *seq = calloc(np, sizeof *seq);
        assert_non_null(seq);
        vigil_err e = {0};
        for (size_t k = 0; k < np; k++) {
            size_t n1, n2;
            const json_t *p = json_array_get(pj, k);
            seq[k].label = bytes(json_object_get(p, "label"), &n1);
            seq[k].pred = bytes(json_object_get(p, "pred"), &n2);
            assert_int_equal(n1, n2);
            seq[k].n = n1;
            double u;
            assert_int_equal(
                ok_or_print(vigil_eval_utility2019_patient(seq[k].label, seq[k].pred, n1, &u, &e),
                            &e),
                VIGIL_OK);
            near(u, json_number_value(json_array_get(json_object_get(x, "per_patient"), k)), TOL,
                 name, "patient utility");
        }
        vigil_eval_utility2019 r;
        assert_int_equal(ok_or_print(vigil_eval_utility2019_cohort(seq, np, &r, &e), &e), VIGIL_OK);
        near(r.observed, num(x, "observed"), TOL, name, "observed");
        near(r.best, num(x, "best"), TOL, name, "best");
        near(r.inaction, num(x, "inaction"), TOL, name, "inaction");
        near(r.normalized, num(x, "normalized"), TOL, name, "normalized");
        counts_eq(r.n_septic, inum(x, "n_septic"), name, "n_septic");
        counts_eq(r.n_patients, (json_int_t)np, name, "n_patients");
        for (size_t k = 0; k < np; k++) {
            free((void *)seq[k].label);
            free((void *)seq[k].pred);
        }
        free(seq);
    }
    json_decref(j);
}

static void alert_rate_matches_the_pandas_oracle(void **state)
{
    (void)state;
    json_t *j = load_golden("alert_rate.json");
    size_t n, n2;
    double *idd = doubles(json_object_get(j, "patient_id"), &n);
    uint8_t *alert = bytes(json_object_get(j, "alert"), &n2);
    assert_int_equal(n, n2);
    int64_t *id = malloc(n * sizeof *id);
    assert_non_null(id);
    for (size_t i = 0; i < n; i++) {
        id[i] = (int64_t)idd[i];
    }
    const json_t *x = json_object_get(j, "expected");
    vigil_eval_alert_rate r;
    vigil_err e = {0};
    assert_int_equal(ok_or_print(vigil_eval_alert_rate_rows(id, alert, n, &r, &e), &e), VIGIL_OK);
    counts_eq(r.n_patients, inum(x, "n_patients"), "alerts", "n_patients");
    counts_eq(r.n_hours, inum(x, "n_hours"), "alerts", "n_hours");
    counts_eq(r.episodes, inum(x, "episodes"), "alerts", "episodes");
    counts_eq(r.positive_hours, inum(x, "positive_hours"), "alerts", "positive_hours");
    near(r.patient_days, num(x, "patient_days"), TOL, "alerts", "patient_days");
    near(r.episodes_per_patient_day, num(x, "episodes_per_patient_day"), TOL, "alerts",
         "episodes/day");
    near(r.positive_hours_per_patient_day, num(x, "positive_hours_per_patient_day"), TOL, "alerts",
         "positive hours/day");
    free(idd);
    free(id);
    free(alert);
    json_decref(j);
}

static void lead_time_matches_the_numpy_oracle(void **state)
{
    (void)state;
    json_t *j = load_golden("lead_time.json");
    const json_t *pj = json_object_get(j, "patients");
    size_t np = json_array_size(pj);
    vigil_eval_patient *pts = calloc(np, sizeof *pts);
    assert_non_null(pts);
    for (size_t k = 0; k < np; k++) {
        const json_t *p = json_array_get(pj, k);
        pts[k].alert = bytes(json_object_get(p, "alert"), &pts[k].n_hours);
        pts[k].event = json_is_true(json_object_get(p, "event"));
        pts[k].onset_h = num(p, "onset_h");
    }
    const json_t *x = json_object_get(j, "expected");
    vigil_eval_lead_time r;
    vigil_err e = {0};
    assert_int_equal(
        ok_or_print(vigil_eval_lead_time_before_onset(pts, np, num(j, "window_h"), &r, &e), &e),
        VIGIL_OK);
    counts_eq(r.n_event, inum(x, "n_event"), "lead", "n_event");
    counts_eq(r.n_alerted, inum(x, "n_alerted"), "lead", "n_alerted");
    near(r.frac_alerted, num(x, "frac_alerted"), TOL, "lead", "frac_alerted");
    assert_true(r.has_lead);
    near(r.median_h, num(x, "median_h"), TOL, "lead", "median");
    near(r.q1_h, num(x, "q1_h"), TOL, "lead", "q1");
    near(r.q3_h, num(x, "q3_h"), TOL, "lead", "q3");
    for (size_t k = 0; k < np; k++) {
        free((void *)pts[k].alert);
    }
    free(pts);
    json_decref(j);
}

/* ------------------------------------------------------ hand-worked cases */

static void auroc_perfect_separation_is_1(void **state)
{
    (void)state;
    const double s[] = {0.1, 0.2, 0.3, 0.7, 0.8};
    const uint8_t y[] = {0, 0, 0, 1, 1};
    double auc = 0;
    assert_int_equal(vigil_eval_auroc(s, y, N_OF(s), &auc, NULL), VIGIL_OK);
    near(auc, 1.0, 0.0, "separated", "auc");
    /* DeLong: every V10 and V01 equals 1, so var 0 and the CI is [1, 1] */
    vigil_eval_roc r;
    assert_int_equal(vigil_eval_auroc_delong(s, y, N_OF(s), &r, NULL), VIGIL_OK);
    near(r.var, 0.0, 0.0, "separated", "var");
    near(r.lo, 1.0, 0.0, "separated", "lo");
    near(r.hi, 1.0, 0.0, "separated", "hi");
}

static void auroc_all_tied_scores_is_one_half(void **state)
{
    (void)state;
    const double s[] = {3, 3, 3, 3, 3, 3};
    const uint8_t y[] = {0, 1, 0, 1, 1, 0};
    double auc = 0;
    assert_int_equal(vigil_eval_auroc(s, y, N_OF(s), &auc, NULL), VIGIL_OK);
    near(auc, 0.5, 0.0, "all tied", "auc");
}

static void auroc_counts_a_tie_as_half_a_win(void **state)
{
    (void)state;
    /* positives 2, 3; negatives 1, 2: (2>1) + (2=2)/2 + (3>1) + (3>2) = 3.5 of 4 */
    const double s[] = {1, 2, 2, 3};
    const uint8_t y[] = {0, 0, 1, 1};
    double auc = 0;
    assert_int_equal(vigil_eval_auroc(s, y, N_OF(s), &auc, NULL), VIGIL_OK);
    near(auc, 0.875, 0.0, "ties", "auc");
    /* V10 = (0.75, 1), V01 = (1, 0.75); S10 = S01 = 2 * 0.125^2 / 1 = 0.03125;
     * var = 0.03125/2 + 0.03125/2 = 0.03125 */
    vigil_eval_roc r;
    assert_int_equal(vigil_eval_auroc_delong(s, y, N_OF(s), &r, NULL), VIGIL_OK);
    near(r.var, 0.03125, 1e-15, "ties", "var");
    near(r.hi, 1.0, 0.0, "ties", "hi clipped to 1");
    near(r.lo, 0.875 - VIGIL_EVAL_Z975 * sqrt(0.03125), 1e-15, "ties", "lo");
}

static void auroc_of_one_class_is_an_error_not_nan(void **state)
{
    (void)state;
    const double s[] = {0.1, 0.5, 0.9};
    const uint8_t y[] = {1, 1, 1};
    double auc = 42.0;
    vigil_err e = {0};
    assert_int_equal(vigil_eval_auroc(s, y, N_OF(s), &auc, &e), VIGIL_ERR_ARG);
    assert_true(strstr(e.msg, "one class") != NULL);
    near(auc, 42.0, 0.0, "one class", "output untouched");
    const uint8_t y0[] = {0, 0, 0};
    assert_int_equal(vigil_eval_auroc(s, y0, N_OF(s), &auc, &e), VIGIL_ERR_ARG);
    vigil_eval_roc r;
    assert_int_equal(vigil_eval_auroc_delong(s, y0, N_OF(s), &r, &e), VIGIL_ERR_ARG);
    vigil_eval_calibration c;
    assert_int_equal(vigil_eval_calibration_fit(s, y0, N_OF(s), &c, &e), VIGIL_ERR_ARG);
}

static void metrics_refuse_nan_scores_and_empty_input(void **state)
{
    (void)state;
    const double s[] = {0.1, NAN, 0.9, 0.4};
    const uint8_t y[] = {0, 1, 1, 0};
    double v = 7.0;
    vigil_err e = {0};
    assert_int_equal(vigil_eval_auroc(s, y, N_OF(s), &v, &e), VIGIL_ERR_ARG);
    assert_true(strstr(e.msg, "score[1] is NaN") != NULL);
    assert_int_equal(vigil_eval_auprc(s, y, N_OF(s), &v, &e), VIGIL_ERR_ARG);
    assert_int_equal(vigil_eval_brier(s, y, N_OF(s), &v, &e), VIGIL_ERR_ARG);
    vigil_eval_bin bins[10];
    assert_int_equal(vigil_eval_ece(s, y, N_OF(s), 10, bins, &v, &e), VIGIL_ERR_ARG);
    vigil_eval_confusion c;
    assert_int_equal(vigil_eval_at_threshold(s, y, N_OF(s), 0.5, &c, &e), VIGIL_ERR_ARG);
    assert_int_equal(vigil_eval_threshold_for_sensitivity(s, y, N_OF(s), 0.5, &c, &e),
                     VIGIL_ERR_ARG);
    vigil_eval_summary sum;
    assert_int_equal(vigil_eval_summarize(s, y, N_OF(s), true, 0.5, 2, &sum, &e), VIGIL_ERR_ARG);
    const double inf[] = {0.1, INFINITY};
    const uint8_t y2[] = {0, 1};
    assert_int_equal(vigil_eval_auroc(inf, y2, 2, &v, &e), VIGIL_ERR_ARG);
    assert_true(strstr(e.msg, "infinite") != NULL);
    assert_int_equal(vigil_eval_auroc(s, y, 0, &v, &e), VIGIL_ERR_ARG);
    assert_true(strstr(e.msg, "n = 0") != NULL);
    assert_int_equal(vigil_eval_brier(s, y, 0, &v, &e), VIGIL_ERR_ARG);
    near(v, 7.0, 0.0, "refused", "output untouched");
}

static void labels_other_than_0_or_1_are_refused(void **state)
{
    (void)state;
    const double s[] = {0.1, 0.2, 0.3};
    const uint8_t y[] = {0, 2, 1};
    double v;
    vigil_err e = {0};
    assert_int_equal(vigil_eval_auroc(s, y, N_OF(s), &v, &e), VIGIL_ERR_ARG);
    assert_true(strstr(e.msg, "y[1] is 2") != NULL);
    assert_string_equal(e.field, "y");
}

static void auprc_of_the_sklearn_example_is_five_sixths(void **state)
{
    (void)state;
    /* thresholds 0.8 (P 1, R 0.5), 0.4 (no recall gained), 0.35 (P 2/3, R 1):
     * AP = 0.5 * 1 + 0.5 * 2/3 = 5/6 */
    const double s[] = {0.1, 0.4, 0.35, 0.8};
    const uint8_t y[] = {0, 0, 1, 1};
    double ap = 0;
    assert_int_equal(vigil_eval_auprc(s, y, N_OF(s), &ap, NULL), VIGIL_OK);
    near(ap, 5.0 / 6.0, 1e-15, "sklearn doc", "ap");
    /* all positives: precision 1 everywhere */
    const uint8_t all[] = {1, 1, 1, 1};
    assert_int_equal(vigil_eval_auprc(s, all, N_OF(s), &ap, NULL), VIGIL_OK);
    near(ap, 1.0, 0.0, "all positive", "ap");
    const uint8_t none[] = {0, 0, 0, 0};
    assert_int_equal(vigil_eval_auprc(s, none, N_OF(s), &ap, NULL), VIGIL_ERR_ARG);
}

static void brier_is_the_mean_squared_error_of_probabilities(void **state)
{
    (void)state;
    /* (0.5-1)^2 + (1-1)^2 + (0-1)^2 = 1.25, over 3 */
    const double p[] = {0.5, 1.0, 0.0};
    const uint8_t y[] = {1, 1, 1};
    double b = 0;
    assert_int_equal(vigil_eval_brier(p, y, N_OF(p), &b, NULL), VIGIL_OK);
    near(b, 1.25 / 3.0, 1e-15, "brier", "value");
    const double bad[] = {0.5, 1.5, 0.0};
    vigil_err e = {0};
    assert_int_equal(vigil_eval_brier(bad, y, N_OF(bad), &b, &e), VIGIL_ERR_ARG);
    assert_true(strstr(e.msg, "p[1]") != NULL);
}

static void calibration_of_calibrated_groups_is_intercept_0_slope_1(void **state)
{
    (void)state;
    /* two groups whose observed rates equal their predictions (1 of 4 at 0.25,
     * 3 of 4 at 0.75): the two-parameter fit reproduces both rates exactly, so
     * a = 0, b = 1, and calibration-in-the-large is 0 */
    const double p[] = {0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75};
    const uint8_t y[] = {1, 0, 0, 0, 1, 1, 1, 0};
    vigil_eval_calibration c;
    vigil_err e = {0};
    assert_int_equal(ok_or_print(vigil_eval_calibration_fit(p, y, N_OF(p), &c, &e), &e), VIGIL_OK);
    near(c.intercept, 0.0, 1e-12, "calibrated", "intercept");
    near(c.slope, 1.0, 1e-12, "calibrated", "slope");
    near(c.slope_intercept, 0.0, 1e-12, "calibrated", "slope fit intercept");
    /* halve every logit: the slope that undoes it is 2 */
    double q[N_OF(p)];
    for (size_t i = 0; i < N_OF(p); i++) {
        double l = log(p[i] / (1 - p[i])) / 2.0;
        q[i] = 1.0 / (1.0 + exp(-l));
    }
    assert_int_equal(vigil_eval_calibration_fit(q, y, N_OF(q), &c, &e), VIGIL_OK);
    near(c.slope, 2.0, 1e-9, "halved logits", "slope");
}

static void calibration_refuses_separation_and_constant_predictions(void **state)
{
    (void)state;
    const double p[] = {0.1, 0.2, 0.6, 0.9};
    const uint8_t y[] = {0, 0, 1, 1};
    vigil_eval_calibration c = {.slope = 99};
    vigil_err e = {0};
    assert_int_equal(vigil_eval_calibration_fit(p, y, N_OF(p), &c, &e), VIGIL_ERR_ARG);
    assert_true(strstr(e.msg, "separates") != NULL);
    near(c.slope, 99, 0, "separated", "output untouched");
    /* quasi-complete: the classes meet at one tied value */
    const double q[] = {0.1, 0.5, 0.5, 0.9};
    assert_int_equal(vigil_eval_calibration_fit(q, y, N_OF(q), &c, &e), VIGIL_ERR_ARG);
    const double k[] = {0.3, 0.3, 0.3, 0.3};
    const uint8_t y2[] = {0, 1, 0, 1};
    assert_int_equal(vigil_eval_calibration_fit(k, y2, N_OF(k), &c, &e), VIGIL_ERR_ARG);
    assert_true(strstr(e.msg, "same") != NULL);
}

static void ece_bins_by_floor_and_weights_by_count(void **state)
{
    (void)state;
    /* bin 0: 0.05 (obs 0) -> 0.05; bin 1: 0.15 (obs 1) -> 0.85; bin 9: 0.95
     * and 1.0 (1.0 falls in the last bin), mean 0.975, obs 1 -> 0.025 twice.
     * ECE = (0.05 + 0.85 + 2 * 0.025) / 4 = 0.2375 */
    const double p[] = {0.05, 0.15, 0.95, 1.0};
    const uint8_t y[] = {0, 1, 1, 1};
    vigil_eval_bin bins[VIGIL_EVAL_ECE_BINS];
    double ece = 0;
    assert_int_equal(vigil_eval_ece(p, y, N_OF(p), VIGIL_EVAL_ECE_BINS, bins, &ece, NULL),
                     VIGIL_OK);
    near(ece, 0.2375, 1e-15, "ece", "value");
    assert_int_equal(bins[9].n, 2);
    near(bins[9].mean_pred, 0.975, 1e-15, "ece", "bin 9 mean");
    near(bins[9].lo, 0.9, 1e-15, "ece", "bin 9 lo");
    assert_int_equal(bins[5].n, 0);
    near(bins[5].mean_pred, 0.0, 0.0, "ece", "empty bin");
    assert_int_equal(vigil_eval_ece(p, y, N_OF(p), 0, bins, &ece, NULL), VIGIL_ERR_ARG);
}

static void threshold_alerts_at_score_greater_or_equal(void **state)
{
    (void)state;
    const double s[] = {1, 2, 3, 4, 5};
    const uint8_t y[] = {0, 1, 0, 1, 1};
    vigil_eval_confusion c;
    assert_int_equal(vigil_eval_at_threshold(s, y, N_OF(s), 3, &c, NULL), VIGIL_OK);
    /* alerts: 3, 4, 5 -> tp 2 (4, 5), fp 1 (3); tn 1 (1), fn 1 (2) */
    assert_int_equal(c.tp, 2);
    assert_int_equal(c.fp, 1);
    assert_int_equal(c.tn, 1);
    assert_int_equal(c.fn, 1);
    near(c.ppv, 2.0 / 3.0, 1e-15, "thr 3", "ppv");
    /* nothing alerts above the top score: PPV undefined, flagged, not NaN */
    assert_int_equal(vigil_eval_at_threshold(s, y, N_OF(s), 6, &c, NULL), VIGIL_OK);
    assert_false(c.has_ppv);
    near(c.ppv, 0.0, 0.0, "thr 6", "ppv");
    assert_true(c.has_npv);
    assert_int_equal(vigil_eval_at_threshold(s, y, N_OF(s), NAN, &c, NULL), VIGIL_ERR_ARG);
}

static void threshold_for_sensitivity_alerts_least(void **state)
{
    (void)state;
    /* from the top: 5 -> sens 1/3, 4 -> 2/3 (>= 0.6, stop), so t = 4, no fp */
    const double s[] = {1, 2, 3, 4, 5};
    const uint8_t y[] = {0, 1, 0, 1, 1};
    vigil_eval_confusion c;
    assert_int_equal(vigil_eval_threshold_for_sensitivity(s, y, N_OF(s), 0.6, &c, NULL), VIGIL_OK);
    near(c.threshold, 4, 0, "sens 0.6", "threshold");
    assert_int_equal(c.tp, 2);
    assert_int_equal(c.fp, 0);
    /* sensitivity 1 needs the threshold down to 2 (the lowest positive) */
    assert_int_equal(vigil_eval_threshold_for_sensitivity(s, y, N_OF(s), 1.0, &c, NULL), VIGIL_OK);
    near(c.threshold, 2, 0, "sens 1", "threshold");
    assert_int_equal(c.fp, 1);
    assert_int_equal(vigil_eval_threshold_for_sensitivity(s, y, N_OF(s), 0.0, &c, NULL),
                     VIGIL_ERR_ARG);
    assert_int_equal(vigil_eval_threshold_for_sensitivity(s, y, N_OF(s), 1.1, &c, NULL),
                     VIGIL_ERR_ARG);
}

static void alert_episodes_count_rising_edges_per_patient(void **state)
{
    (void)state;
    /* patient 1: on on off on -> 2 episodes; patient 2 starts on (its own
     * rising edge even though patient 1 ended on) -> 1; patient 3: on -> 1.
     * 4 episodes, 5 positive hours, 7 hours = 7/24 patient-days */
    const int64_t id[] = {1, 1, 1, 1, 2, 2, 3};
    const uint8_t a[] = {1, 1, 0, 1, 1, 0, 1};
    vigil_eval_alert_rate r;
    assert_int_equal(vigil_eval_alert_rate_rows(id, a, N_OF(id), &r, NULL), VIGIL_OK);
    assert_int_equal(r.n_patients, 3);
    assert_int_equal(r.episodes, 4);
    assert_int_equal(r.positive_hours, 5);
    near(r.patient_days, 7.0 / 24.0, 1e-15, "alerts", "patient days");
    near(r.episodes_per_patient_day, 4.0 / (7.0 / 24.0), 1e-12, "alerts", "episodes/day");
}

static void alert_rate_refuses_interleaved_patients(void **state)
{
    (void)state;
    const int64_t id[] = {1, 2, 1};
    const uint8_t a[] = {0, 1, 0};
    vigil_eval_alert_rate r;
    vigil_err e = {0};
    assert_int_equal(vigil_eval_alert_rate_rows(id, a, N_OF(id), &r, &e), VIGIL_ERR_ARG);
    assert_true(strstr(e.msg, "patient 1") != NULL);
    assert_int_equal(vigil_eval_alert_rate_rows(id, a, 0, &r, &e), VIGIL_ERR_ARG);
}

static void lead_time_takes_the_first_alert_in_the_window(void **state)
{
    (void)state;
    /* A: alerts at 2, 3, onset 10 -> lead 8. B: alert only after onset -> not
     * alerted. C: alert at 0 (outside [6, 30]) and at 10 -> lead 20. D: no
     * event. frac 2/3; leads {8, 20}: median 14, q1 8 + 0.25*12 = 11, q3 17 */
    uint8_t a[12] = {0, 0, 1, 1};
    uint8_t b[8] = {0};
    b[6] = 1;
    uint8_t c[12] = {1};
    c[10] = 1;
    uint8_t d[5] = {1, 1, 1, 1, 1};
    vigil_eval_patient pts[] = {
        {a, N_OF(a), true, 10.0},
        {b, N_OF(b), true, 5.0},
        {c, N_OF(c), true, 30.0},
        {d, N_OF(d), false, 0.0},
    };
    vigil_eval_lead_time r;
    vigil_err e = {0};
    assert_int_equal(
        ok_or_print(vigil_eval_lead_time_before_onset(pts, N_OF(pts), 24.0, &r, &e), &e), VIGIL_OK);
    assert_int_equal(r.n_event, 3);
    assert_int_equal(r.n_alerted, 2);
    near(r.frac_alerted, 2.0 / 3.0, 1e-15, "lead", "frac");
    near(r.median_h, 14.0, 1e-12, "lead", "median");
    near(r.q1_h, 11.0, 1e-12, "lead", "q1");
    near(r.q3_h, 17.0, 1e-12, "lead", "q3");
    pts[0].event = pts[1].event = pts[2].event = false;
    assert_int_equal(vigil_eval_lead_time_before_onset(pts, N_OF(pts), 24.0, &r, &e),
                     VIGIL_ERR_ARG);
    pts[0].event = true;
    pts[0].onset_h = NAN;
    assert_int_equal(vigil_eval_lead_time_before_onset(pts, N_OF(pts), 24.0, &r, &e),
                     VIGIL_ERR_ARG);
}

static void utility2019_of_the_scorer_example_is_3_389(void **state)
{
    (void)state;
    /* the example in the official compute_prediction_utility() comments */
    const uint8_t label[] = {0, 0, 0, 0, 1, 1};
    const uint8_t pred[] = {0, 0, 1, 1, 1, 1};
    double u = 0;
    assert_int_equal(vigil_eval_utility2019_patient(label, pred, N_OF(label), &u, NULL), VIGIL_OK);
    near(u, 3.388888888888889, 1e-12, "scorer example", "utility");
}

static void utility2019_label_from_the_first_row_puts_onset_at_6(void **state)
{
    (void)state;
    /* t_sepsis = 0 + 6. t=0: alert at dt -6 -> max(-6/6 + 2, -0.05) = 1.
     * t=1, 2: misses at dt -5, -4 -> -2/9 dt - 4/3 = -2/9 and -4/9.
     * Total 1 - 6/9 = 1/3 */
    const uint8_t label[] = {1, 1, 1};
    const uint8_t pred[] = {1, 0, 0};
    double u = 0;
    assert_int_equal(vigil_eval_utility2019_patient(label, pred, N_OF(label), &u, NULL), VIGIL_OK);
    near(u, 1.0 / 3.0, 1e-12, "label from row 0", "utility");
}

static void utility2019_normalizes_best_to_1_and_no_alerts_to_0(void **state)
{
    (void)state;
    /* septic from row 20 (t_sepsis 26): best alerts rows 14 .. 29 */
    uint8_t label[40] = {0};
    uint8_t best[40] = {0};
    uint8_t none[40] = {0};
    for (size_t t = 20; t < 40; t++) {
        label[t] = 1;
    }
    for (size_t t = 14; t <= 29; t++) {
        best[t] = 1;
    }
    uint8_t clean[10] = {0};
    vigil_eval_seq pts[] = {{label, best, 40}, {clean, clean, 10}};
    vigil_eval_utility2019 r;
    assert_int_equal(vigil_eval_utility2019_cohort(pts, 2, &r, NULL), VIGIL_OK);
    near(r.normalized, 1.0, 1e-12, "best", "normalized");
    pts[0].pred = none;
    assert_int_equal(vigil_eval_utility2019_cohort(pts, 2, &r, NULL), VIGIL_OK);
    near(r.normalized, 0.0, 1e-12, "inaction", "normalized");
    /* no septic patient: undefined, refused */
    vigil_err e = {0};
    assert_int_equal(vigil_eval_utility2019_cohort(&pts[1], 1, &r, &e), VIGIL_ERR_ARG);
    assert_true(strstr(e.msg, "no septic") != NULL);
    uint8_t bad[3] = {0, 3, 0};
    assert_int_equal(vigil_eval_utility2019_patient(bad, clean, 3, &r.observed, &e), VIGIL_ERR_ARG);
    assert_int_equal(vigil_eval_utility2019_patient(label, none, 0, &r.observed, &e),
                     VIGIL_ERR_ARG);
}

static void challenge2012_event1_is_min_of_se_and_ppv(void **state)
{
    (void)state;
    /* tp 2 (rows 0, 4), fp 1 (row 1), fn 1 (row 2): Se 2/3, +P 2/3 */
    const uint8_t pred[] = {1, 1, 0, 0, 1, 1};
    const uint8_t died[] = {1, 0, 1, 0, 1, 0};
    vigil_eval_event1 r;
    assert_int_equal(vigil_eval_challenge2012_event1(pred, died, N_OF(pred), &r, NULL), VIGIL_OK);
    near(r.se, 2.0 / 3.0, 1e-15, "event1", "se");
    near(r.ppv, 0.5, 1e-15, "event1", "ppv");
    near(r.score1, 0.5, 1e-15, "event1", "score1");
    const uint8_t nopred[] = {0, 0, 0, 0, 0, 0};
    assert_int_equal(vigil_eval_challenge2012_event1(nopred, died, N_OF(pred), &r, NULL), VIGIL_OK);
    assert_false(r.has_ppv);
    near(r.score1, 0.0, 0.0, "no alerts", "score1");
    assert_int_equal(vigil_eval_challenge2012_event1(pred, nopred, N_OF(pred), &r, NULL),
                     VIGIL_ERR_ARG);
}

static void age_bands_split_at_45_65_and_80(void **state)
{
    (void)state;
    static const struct {
        double age;
        vigil_eval_age_band band;
    } cases[] = {
        {16.0, VIGIL_EVAL_AGE_16_44},   {44.99, VIGIL_EVAL_AGE_16_44},
        {45.0, VIGIL_EVAL_AGE_45_64},   {64.99, VIGIL_EVAL_AGE_45_64},
        {65.0, VIGIL_EVAL_AGE_65_79},   {79.99, VIGIL_EVAL_AGE_65_79},
        {80.0, VIGIL_EVAL_AGE_80_PLUS}, {104.0, VIGIL_EVAL_AGE_80_PLUS},
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        vigil_eval_age_band b;
        assert_int_equal(vigil_eval_age_band_of(cases[i].age, &b, NULL), VIGIL_OK);
        assert_int_equal(b, cases[i].band);
    }
    assert_string_equal(vigil_eval_age_band_name(VIGIL_EVAL_AGE_80_PLUS), "80+");
    vigil_eval_age_band b = VIGIL_EVAL_AGE_45_64;
    assert_int_equal(vigil_eval_age_band_of(15.9, &b, NULL), VIGIL_ERR_ARG);
    assert_int_equal(vigil_eval_age_band_of(NAN, &b, NULL), VIGIL_ERR_ARG);
    assert_int_equal(vigil_eval_age_band_of(131.0, &b, NULL), VIGIL_ERR_ARG);
    assert_int_equal(b, VIGIL_EVAL_AGE_45_64);
}

static void small_subgroups_are_marked_unreliable_not_scored(void **state)
{
    (void)state;
    /* group 0: 24 rows, 12 positive (reliable at min_class 10); group 1: 4
     * rows, 2 positive; group 2: empty; group -1 rows are left out */
    double s[30];
    uint8_t y[30];
    int g[30];
    for (int i = 0; i < 30; i++) {
        y[i] = (uint8_t)(i % 2);
        s[i] = (y[i] ? 0.6 : 0.4) + 0.01 * (double)(i % 7) - 0.03;
        g[i] = i < 24 ? 0 : (i < 28 ? 1 : VIGIL_EVAL_GROUP_NONE);
    }
    vigil_eval_summary out[3];
    vigil_err e = {0};
    assert_int_equal(
        ok_or_print(vigil_eval_subgroups(s, y, g, 30, 3, true, 0.5, VIGIL_EVAL_MIN_CLASS, out, &e),
                    &e),
        VIGIL_OK);
    assert_true(out[0].reliable);
    assert_int_equal(out[0].n, 24);
    assert_int_equal(out[0].n_pos, 12);
    assert_true(out[0].has_roc);
    /* group 0's scores separate the classes: slope refused, so flagged off */
    near(out[0].auroc.auc, 1.0, 0.0, "group 0", "auc");
    assert_false(out[0].has_calibration);
    assert_true(out[0].has_brier);
    assert_false(out[1].reliable);
    assert_int_equal(out[1].n, 4);
    assert_int_equal(out[1].n_pos, 2);
    assert_false(out[1].has_roc);
    assert_false(out[1].has_auprc);
    assert_false(out[2].reliable);
    assert_int_equal(out[2].n, 0);
    g[3] = 3;
    assert_int_equal(vigil_eval_subgroups(s, y, g, 30, 3, true, 0.5, 10, out, &e), VIGIL_ERR_ARG);
    assert_true(strstr(e.msg, "group[3]") != NULL);
    g[3] = 0;
    assert_int_equal(vigil_eval_subgroups(s, y, g, 30, 3, true, 0.5, 1, out, &e), VIGIL_ERR_ARG);
}

static void summary_of_integer_scores_skips_probability_metrics(void **state)
{
    (void)state;
    /* NEWS2-like integer scores are not probabilities: no Brier, no calibration */
    const double s[] = {0, 1, 1, 2, 3, 5, 7, 2, 1, 0, 4, 6};
    const uint8_t y[] = {0, 0, 1, 0, 1, 1, 1, 0, 0, 0, 0, 1};
    vigil_eval_summary r;
    assert_int_equal(vigil_eval_summarize(s, y, N_OF(s), false, 5, 2, &r, NULL), VIGIL_OK);
    assert_true(r.reliable && r.has_roc && r.has_auprc);
    assert_false(r.has_brier);
    assert_false(r.has_calibration);
    double auc;
    assert_int_equal(vigil_eval_auroc(s, y, N_OF(s), &auc, NULL), VIGIL_OK);
    near(r.auroc.auc, auc, 0.0, "summary", "auc");
    assert_int_equal(r.at_threshold.tp, 3);
    /* with score_is_prob the out-of-range scores are refused */
    assert_int_equal(vigil_eval_summarize(s, y, N_OF(s), true, 5, 2, &r, NULL), VIGIL_ERR_ARG);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(continuous_scores_match_the_oracle),
    cmocka_unit_test(news2_tied_integer_scores_match_the_oracle),
    cmocka_unit_test(imbalanced_rounded_probabilities_match_the_oracle),
    cmocka_unit_test(tiny_edge_vectors_match_the_oracle),
    cmocka_unit_test(subgroups_by_age_band_match_the_oracle),
    cmocka_unit_test(utility2019_matches_the_official_scorer),
    cmocka_unit_test(alert_rate_matches_the_pandas_oracle),
    cmocka_unit_test(lead_time_matches_the_numpy_oracle),
    cmocka_unit_test(auroc_perfect_separation_is_1),
    cmocka_unit_test(auroc_all_tied_scores_is_one_half),
    cmocka_unit_test(auroc_counts_a_tie_as_half_a_win),
    cmocka_unit_test(auroc_of_one_class_is_an_error_not_nan),
    cmocka_unit_test(metrics_refuse_nan_scores_and_empty_input),
    cmocka_unit_test(labels_other_than_0_or_1_are_refused),
    cmocka_unit_test(auprc_of_the_sklearn_example_is_five_sixths),
    cmocka_unit_test(brier_is_the_mean_squared_error_of_probabilities),
    cmocka_unit_test(calibration_of_calibrated_groups_is_intercept_0_slope_1),
    cmocka_unit_test(calibration_refuses_separation_and_constant_predictions),
    cmocka_unit_test(ece_bins_by_floor_and_weights_by_count),
    cmocka_unit_test(threshold_alerts_at_score_greater_or_equal),
    cmocka_unit_test(threshold_for_sensitivity_alerts_least),
    cmocka_unit_test(alert_episodes_count_rising_edges_per_patient),
    cmocka_unit_test(alert_rate_refuses_interleaved_patients),
    cmocka_unit_test(lead_time_takes_the_first_alert_in_the_window),
    cmocka_unit_test(utility2019_of_the_scorer_example_is_3_389),
    cmocka_unit_test(utility2019_label_from_the_first_row_puts_onset_at_6),
    cmocka_unit_test(utility2019_normalizes_best_to_1_and_no_alerts_to_0),
    cmocka_unit_test(challenge2012_event1_is_min_of_se_and_ppv),
    cmocka_unit_test(age_bands_split_at_45_65_and_80),
    cmocka_unit_test(small_subgroups_are_marked_unreliable_not_scored),
    cmocka_unit_test(summary_of_integer_scores_skips_probability_metrics),
};

VIGIL_TEST_MAIN(tests)
