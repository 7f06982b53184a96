/*
 * report.c: all reported metrics of one score on one cohort, by task and by
 * subgroup (sex, age band, hospital). Uses the metric functions of
 * vigil/eval.h; chooses nothing (thresholds come from the caller).
 */
#include "vigil/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_CLASS 10

void vigil_report_alerts(const double *score, size_t n, double threshold, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = score[i] >= threshold ? 1 : 0;
    }
}

vigil_status vigil_report_utility(const vigil_cohort *c, const double *score, double threshold,
                                  vigil_eval_utility2019 *out, vigil_err *err)
{
    if (c->format != VIGIL_DATA_PN2019) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "utility is defined for PhysioNet 2019");
    }
    uint8_t *pred = malloc(c->n_rows);
    vigil_eval_seq *seq = malloc(sizeof *seq * c->n_stays);
    vigil_status st = VIGIL_OK;
    if (pred == NULL || seq == NULL) {
        st = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "report: out of memory");
    } else {
        vigil_report_alerts(score, c->n_rows, threshold, pred);
        for (size_t k = 0; k < c->n_stays; k++) {
            seq[k].label = &c->label[c->stays[k].row0];
            seq[k].pred = &pred[c->stays[k].row0];
            seq[k].n = c->stays[k].n_rows;
        }
        st = vigil_eval_utility2019_cohort(seq, c->n_stays, out, err);
    }
    free(pred);
    free(seq);
    return st;
}

static vigil_status task_2019(const vigil_cohort *c, const double *score, vigil_report *r,
                              vigil_err *err)
{
    uint8_t *pred = malloc(c->n_rows);
    vigil_eval_patient *pts = malloc(sizeof *pts * c->n_stays);
    vigil_status st = VIGIL_OK;
    if (pred == NULL || pts == NULL) {
        st = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "report: out of memory");
        goto out;
    }
    vigil_report_alerts(score, c->n_rows, r->threshold, pred);
    st = vigil_report_utility(c, score, r->threshold, &r->utility, err);
    if (st != VIGIL_OK) {
        goto out;
    }
    r->has_utility = true;
    st = vigil_eval_alert_rate_rows(c->stay_of, pred, c->n_rows, &r->alerts, err);
    if (st != VIGIL_OK) {
        goto out;
    }
    r->has_alerts = true;
    size_t n_event = 0;
    for (size_t k = 0; k < c->n_stays; k++) {
        const vigil_cohort_stay *s = &c->stays[k];
        pts[k].alert = &pred[s->row0];
        pts[k].n_hours = s->n_rows;
        pts[k].event = s->sepsis;
        pts[k].onset_h = s->sepsis ? (double)s->onset_row : 0.0;
        n_event += s->sepsis;
    }
    r->lead_window_h = VIGIL_REPORT_LEAD_WINDOW_H;
    if (n_event > 0) {
        st = vigil_eval_lead_time_before_onset(pts, c->n_stays, r->lead_window_h, &r->lead, err);
        if (st != VIGIL_OK) {
            goto out;
        }
        r->has_lead = true;
    }
out:
    free(pred);
    free(pts);
    return st;
}

static vigil_status task_2012(const vigil_cohort *c, const double *score, vigil_report *r,
                              vigil_err *err)
{
    uint8_t *pred = malloc(c->n_rows);
    if (pred == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "report: out of memory");
    }
    vigil_report_alerts(score, c->n_rows, r->threshold, pred);
    vigil_status st = vigil_eval_challenge2012_event1(pred, c->label, c->n_rows, &r->event1, err);
    if (st == VIGIL_OK) {
        r->has_event1 = true;
    }
    free(pred);
    return st;
}

/* The largest AUROC difference between reliable groups of one kind. */
static double auroc_gap(const vigil_report *r, const char *kind)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t g = 0; g < r->n_groups; g++) {
        const vigil_report_group *gr = &r->groups[g];
        if (strcmp(gr->kind, kind) == 0 && gr->s.has_roc) {
            lo = fmin(lo, gr->s.auroc.auc);
            hi = fmax(hi, gr->s.auroc.auc);
        }
    }
    return hi >= lo ? hi - lo : NAN;
}

/* Run vigil_eval_subgroups for one grouping and append its groups. */
static vigil_status add_groups(const vigil_cohort *c, const double *score, vigil_report *r,
                               const char *kind, const int *group, size_t n_groups,
                               const char *const *names, vigil_err *err)
{
    if (r->n_groups + n_groups > VIGIL_REPORT_MAX_GROUPS) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "report: too many subgroups");
    }
    vigil_eval_summary *s = calloc(n_groups, sizeof *s);
    if (s == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "report: out of memory");
    }
    vigil_status st = vigil_eval_subgroups(score, c->label, group, c->n_rows, n_groups, r->is_prob,
                                           r->threshold, MIN_CLASS, s, err);
    for (size_t g = 0; st == VIGIL_OK && g < n_groups; g++) {
        vigil_report_group *gr = &r->groups[r->n_groups++];
        snprintf(gr->kind, sizeof gr->kind, "%s", kind);
        snprintf(gr->name, sizeof gr->name, "%s", names[g]);
        gr->s = s[g];
    }
    free(s);
    return st;
}

static vigil_status subgroups(const vigil_cohort *c, const double *score, vigil_report *r,
                              vigil_err *err)
{
    int *group = malloc(sizeof *group * c->n_rows);
    if (group == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "report: out of memory");
    }
    static const char *const sex_names[] = {"female", "male"};
    for (size_t i = 0; i < c->n_rows; i++) {
        int sex = c->stays[c->stay_of[i]].sex;
        group[i] = sex == VIGIL_SEX_FEMALE ? 0 : sex == VIGIL_SEX_MALE ? 1 : VIGIL_EVAL_GROUP_NONE;
    }
    vigil_status st = add_groups(c, score, r, "sex", group, 2, sex_names, err);
    const char *age_names[VIGIL_EVAL_AGE_BAND_COUNT];
    for (int b = 0; b < VIGIL_EVAL_AGE_BAND_COUNT; b++) {
        age_names[b] = vigil_eval_age_band_name((vigil_eval_age_band)b);
    }
    for (size_t i = 0; st == VIGIL_OK && i < c->n_rows; i++) {
        vigil_eval_age_band band;
        group[i] = vigil_eval_age_band_of(c->stays[c->stay_of[i]].age_y, &band, NULL) == VIGIL_OK
                       ? (int)band
                       : VIGIL_EVAL_GROUP_NONE;
    }
    if (st == VIGIL_OK) {
        st = add_groups(c, score, r, "age", group, VIGIL_EVAL_AGE_BAND_COUNT, age_names, err);
    }
    if (st == VIGIL_OK && c->n_sets > 1) {
        const char *set_names[VIGIL_COHORT_MAX_SETS];
        for (size_t k = 0; k < c->n_sets; k++) {
            set_names[k] = c->sets[k];
        }
        for (size_t i = 0; i < c->n_rows; i++) {
            group[i] = c->stays[c->stay_of[i]].set;
        }
        st = add_groups(c, score, r, "set", group, c->n_sets, set_names, err);
    }
    free(group);
    r->max_auroc_gap_sex = auroc_gap(r, "sex");
    r->max_auroc_gap_age = auroc_gap(r, "age");
    return st;
}

vigil_status vigil_report_score(const vigil_cohort *c, const double *score, const char *name,
                                bool is_prob, double threshold, vigil_report *out, vigil_err *err)
{
    if (c == NULL || score == NULL || out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "report: missing argument");
    }
    vigil_report *r = calloc(1, sizeof *r);
    if (r == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "report: out of memory");
    }
    snprintf(r->score_name, sizeof r->score_name, "%s", name);
    r->is_prob = is_prob;
    r->threshold = threshold;
    r->max_auroc_gap_sex = NAN;
    r->max_auroc_gap_age = NAN;
    vigil_status st = vigil_eval_summarize(score, c->label, c->n_rows, is_prob, threshold,
                                           MIN_CLASS, &r->overall, err);
    if (st == VIGIL_OK && is_prob) {
        vigil_eval_bin bins[VIGIL_REPORT_ECE_BINS];
        if (vigil_eval_ece(score, c->label, c->n_rows, VIGIL_REPORT_ECE_BINS, bins, &r->ece,
                           NULL) == VIGIL_OK) {
            r->has_ece = true;
        }
    }
    if (st == VIGIL_OK) {
        st = c->format == VIGIL_DATA_PN2019 ? task_2019(c, score, r, err)
                                            : task_2012(c, score, r, err);
    }
    if (st == VIGIL_OK) {
        st = subgroups(c, score, r, err);
    }
    if (st == VIGIL_OK) {
        *out = *r;
    }
    free(r);
    return st;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

vigil_status vigil_report_best_event1_threshold(const vigil_cohort *c, const double *score,
                                                double *out_threshold, vigil_err *err)
{
    double *sorted = malloc(sizeof *sorted * c->n_rows);
    uint8_t *pred = malloc(c->n_rows);
    vigil_status st = VIGIL_OK;
    if (sorted == NULL || pred == NULL) {
        st = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "report: out of memory");
        goto out;
    }
    memcpy(sorted, score, sizeof *sorted * c->n_rows);
    qsort(sorted, c->n_rows, sizeof *sorted, cmp_double);
    double best = -1.0, best_t = NAN;
    size_t step = c->n_rows > 512 ? c->n_rows / 512 : 1;
    double prev = NAN;
    for (size_t i = 0; i < c->n_rows; i += step) {
        double t = sorted[i];
        if (t == prev) {
            continue;
        }
        prev = t;
        vigil_report_alerts(score, c->n_rows, t, pred);
        vigil_eval_event1 e1;
        st = vigil_eval_challenge2012_event1(pred, c->label, c->n_rows, &e1, err);
        if (st != VIGIL_OK) {
            goto out;
        }
        if (e1.score1 > best) {
            best = e1.score1;
            best_t = t;
        }
    }
    *out_threshold = best_t;
out:
    free(sorted);
    free(pred);
    return st;
}
