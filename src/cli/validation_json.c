/*
 * validation_json.c: the "validation" object of `vigil evaluate --model
 * --json` (PhysioNet 2019 hourly tasks): the cohort's prevalence and
 * missing inputs, ROC and precision-recall curve points for the model and
 * NEWS2, per-admission discrimination, reliability bins with Wilson 95%
 * intervals and observed:expected, the operating point with the alerts the
 * model adds over NEWS2 >= 5, thresholds for alert budgets of 1..20 per 100
 * patient-days, a decision curve, and the bundle's SHA-256. `vigil validate`
 * renders exactly this object (with the rest of the entry) as HTML, so every
 * figure in its report is one `vigil evaluate --json` prints.
 * Computations: vigil/validation.h and vigil/eval.h; nothing is computed here.
 */
#include <jansson.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vigil/report.h"
#include "vigil/validation.h"

#define CURVE_POINTS 200
#define N_BUDGETS 20

static json_t *num_or_null(bool has, double v)
{
    return has && isfinite(v) ? json_real(v) : json_null();
}

int vigil_cli_file_sha256(const char *path, char *hex, size_t cap)
{
    FILE *f = fopen(path, "rb");
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc =
        f == NULL || ctx == NULL || cap < 65 || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1;
    unsigned char buf[65536], md[32];
    size_t n;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, f)) > 0) {
        rc = EVP_DigestUpdate(ctx, buf, n) != 1;
    }
    unsigned int len = 0;
    if (rc == 0 && (ferror(f) || EVP_DigestFinal_ex(ctx, md, &len) != 1)) {
        rc = 1;
    }
    for (unsigned int i = 0; rc == 0 && i < len; i++) {
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }
    EVP_MD_CTX_free(ctx);
    if (f != NULL) {
        fclose(f);
    }
    return rc == 0 ? 0 : -1;
}

static json_t *curve_json(const vigil_curve_pt *p, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(a, json_pack("[f,f,f]", p[i].thr, p[i].x, p[i].y));
    }
    return a;
}

static vigil_status curves_json(json_t *o, const char *key, const double *s, const uint8_t *y,
                                size_t n, vigil_err *err)
{
    vigil_curve_pt *roc = malloc(sizeof *roc * (CURVE_POINTS + 1));
    vigil_curve_pt *pr = malloc(sizeof *pr * (CURVE_POINTS + 1));
    size_t k = 0;
    vigil_status st = roc == NULL || pr == NULL
                          ? vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory")
                          : vigil_validation_curves(s, y, n, CURVE_POINTS, roc, pr, &k, err);
    if (st == VIGIL_OK) {
        json_object_set_new(
            o, key, json_pack("{s:o,s:o}", "roc", curve_json(roc, k), "pr", curve_json(pr, k)));
    }
    free(roc);
    free(pr);
    return st;
}

/* AUROC (DeLong CI) and AUPRC of one score per admission. */
static vigil_status per_stay_json(json_t *o, const char *key, const vigil_cohort *c,
                                  const double *score, vigil_err *err)
{
    double *s = malloc(sizeof *s * (c->n_stays + 1));
    uint8_t *y = malloc(c->n_stays + 1);
    vigil_eval_roc roc;
    double ap = 0;
    vigil_status st = s == NULL || y == NULL
                          ? vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory")
                          : vigil_validation_per_stay(c, score, s, y, err);
    if (st == VIGIL_OK) {
        st = vigil_eval_auroc_delong(s, y, c->n_stays, &roc, err);
    }
    if (st == VIGIL_OK) {
        st = vigil_eval_auprc(s, y, c->n_stays, &ap, err);
    }
    if (st == VIGIL_OK) {
        json_object_set_new(o, key,
                            json_pack("{s:i,s:i,s:f,s:[f,f],s:f}", "stays", (json_int_t)c->n_stays,
                                      "event_stays", (json_int_t)roc.n_pos, "auroc", roc.auc,
                                      "auroc_ci95", roc.lo, roc.hi, "auprc", ap));
    }
    free(s);
    free(y);
    return st;
}

static vigil_status calibration_json(json_t *o, const vigil_cohort *c, const double *p,
                                     vigil_err *err)
{
    vigil_eval_bin bins[VIGIL_EVAL_ECE_BINS];
    double ece = 0;
    vigil_status st = vigil_eval_ece(p, c->label, c->n_rows, VIGIL_EVAL_ECE_BINS, bins, &ece, err);
    if (st != VIGIL_OK) {
        return st;
    }
    json_t *a = json_array();
    for (size_t b = 0; b < VIGIL_EVAL_ECE_BINS; b++) {
        size_t k = (size_t)llround(bins[b].obs_rate * (double)bins[b].n);
        double lo, hi;
        vigil_validation_wilson(k, bins[b].n, &lo, &hi);
        json_array_append_new(a, json_pack("{s:f,s:f,s:i,s:i,s:f,s:f,s:o,s:o}", "lo", bins[b].lo,
                                           "hi", bins[b].hi, "n", (json_int_t)bins[b].n, "events",
                                           (json_int_t)k, "mean_pred", bins[b].mean_pred,
                                           "obs_rate", bins[b].obs_rate, "obs_ci95_lo",
                                           num_or_null(bins[b].n > 0, lo), "obs_ci95_hi",
                                           num_or_null(bins[b].n > 0, hi)));
    }
    double sum_p = 0, sum_y = 0;
    for (size_t i = 0; i < c->n_rows; i++) {
        sum_p += p[i];
        sum_y += c->label[i];
    }
    json_object_set_new(o, "calibration",
                        json_pack("{s:o,s:f,s:f,s:o}", "bins", a, "observed", sum_y, "expected",
                                  sum_p, "observed_expected",
                                  num_or_null(sum_p > 0, sum_y / sum_p)));
    return VIGIL_OK;
}

static json_t *op_json(const vigil_validation_op *op)
{
    json_t *o = json_object();
    json_object_set_new(o, "threshold", json_real(op->threshold));
    json_object_set_new(o, "sensitivity", num_or_null(op->cm.has_sens, op->cm.sens));
    json_object_set_new(o, "specificity", num_or_null(op->cm.has_spec, op->cm.spec));
    json_object_set_new(o, "ppv", num_or_null(op->cm.has_ppv, op->cm.ppv));
    json_object_set_new(o, "nne", num_or_null(op->has_nne, op->nne));
    json_object_set_new(o, "alerts_per_100_patient_days", json_real(op->alerts_per_100_pd));
    json_object_set_new(o, "alert_hours_per_100_patient_days",
                        json_real(op->alert_hours_per_100_pd));
    json_object_set_new(o, "event_stays_alerted_in_window",
                        num_or_null(op->has_lead, op->lead.frac_alerted));
    json_object_set_new(o, "lead_median_h",
                        num_or_null(op->has_lead && op->lead.has_lead, op->lead.median_h));
    json_object_set_new(o, "added_over_news2_alert_hours_per_100_patient_days",
                        json_real(op->added_hours_per_100_pd));
    json_object_set_new(o, "added_over_news2_event_stays",
                        json_integer((json_int_t)op->added_event_stays));
    json_object_set_new(o, "event_stays", json_integer((json_int_t)op->n_event_stays));
    return o;
}

static vigil_status operating_json(json_t *o, const vigil_cohort *c, const double *risk,
                                   const double *news2, double threshold, vigil_err *err)
{
    vigil_validation_op op, n2;
    vigil_status st =
        vigil_validation_operating(c, risk, news2, threshold, VIGIL_REPORT_LEAD_WINDOW_H, &op, err);
    if (st == VIGIL_OK) {
        st = vigil_validation_operating(c, news2, NULL, 5.0, VIGIL_REPORT_LEAD_WINDOW_H, &n2, err);
    }
    if (st != VIGIL_OK) {
        return st;
    }
    json_object_set_new(o, "operating_point", op_json(&op));
    json_object_set_new(o, "operating_point_news2", op_json(&n2));
    double budget[N_BUDGETS], thr[N_BUDGETS];
    bool found[N_BUDGETS];
    for (int b = 0; b < N_BUDGETS; b++) {
        budget[b] = (double)(b + 1);
    }
    st = vigil_validation_budget_thresholds(c, risk, budget, N_BUDGETS, thr, found, err);
    json_t *rows = json_array();
    for (int b = 0; st == VIGIL_OK && b < N_BUDGETS; b++) {
        json_t *r = json_object();
        json_object_set_new(r, "budget_per_100_patient_days", json_real(budget[b]));
        if (found[b]) {
            st = vigil_validation_operating(c, risk, news2, thr[b], VIGIL_REPORT_LEAD_WINDOW_H, &op,
                                            err);
            json_t *oj = op_json(&op);
            json_object_update(r, oj);
            json_decref(oj);
        } else {
            json_object_set_new(r, "threshold", json_null());
        }
        json_array_append_new(rows, r);
    }
    json_object_set_new(o, "budgets", rows);
    return st;
}

static vigil_status decision_json(json_t *o, const vigil_cohort *c, const double *p, vigil_err *err)
{
    json_t *a = json_array();
    json_object_set_new(o, "decision_curve", a);
    for (int k = 1; k <= 30; k++) {
        double pt = 0.005 * k, nb_m = 0, nb_a = 0;
        vigil_status st =
            vigil_validation_net_benefit(p, c->label, c->n_rows, pt, &nb_m, &nb_a, err);
        if (st != VIGIL_OK) {
            return st;
        }
        json_array_append_new(a, json_pack("{s:f,s:f,s:f,s:f}", "pt", pt, "net_benefit_model", nb_m,
                                           "net_benefit_all", nb_a, "net_benefit_none", 0.0));
    }
    return VIGIL_OK;
}

static json_t *cohort_json(const vigil_model *m, const vigil_cohort *c)
{
    json_t *o = json_object();
    json_t *sets = json_array();
    for (size_t k = 0; k < c->n_sets; k++) {
        json_array_append_new(sets, json_string(c->sets[k]));
    }
    json_object_set_new(o, "sites", sets);
    size_t ev = 0, pos_rows = 0;
    for (size_t k = 0; k < c->n_stays; k++) {
        ev += c->stays[k].sepsis;
    }
    for (size_t i = 0; i < c->n_rows; i++) {
        pos_rows += c->label[i];
    }
    json_object_set_new(o, "stays", json_integer((json_int_t)c->n_stays));
    json_object_set_new(o, "rows", json_integer((json_int_t)c->n_rows));
    json_object_set_new(o, "patient_days", json_real((double)c->n_rows / 24.0));
    json_object_set_new(o, "event_stays", json_integer((json_int_t)ev));
    json_object_set_new(o, "event_rows", json_integer((json_int_t)pos_rows));
    json_object_set_new(o, "prevalence_stays", json_real((double)ev / (double)c->n_stays));
    json_object_set_new(o, "prevalence_rows", json_real((double)pos_rows / (double)c->n_rows));
    json_object_set_new(o, "rows_unlabelled", json_integer((json_int_t)c->n_unlabelled));
    json_t *miss = json_array();
    vigil_model_info info;
    vigil_model_get_info(m, &info);
    for (size_t i = 0; c->x != NULL && i < info.n_inputs; i++) {
        const char *name = vigil_model_input_name(m, i);
        size_t len = strlen(name);
        if (len < 5 || strcmp(name + len - 5, "_last") != 0) {
            continue; /* one row per measured input: its latest value */
        }
        size_t f = vigil_model_input_feature(m, i), n_nan = 0;
        for (size_t r = 0; r < c->n_rows; r++) {
            n_nan += isnan(c->x[r * c->n_feat + f]);
        }
        json_array_append_new(miss, json_pack("{s:s,s:f}", "input", name, "missing",
                                              (double)n_nan / (double)c->n_rows));
    }
    json_object_set_new(o, "missing_by_input", miss);
    return o;
}

vigil_status vigil_cli_validation_json(const vigil_model *m, const char *bundle_path,
                                       const vigil_cohort *c, const double *risk,
                                       const double *news2, double threshold, json_t **out,
                                       vigil_err *err)
{
    json_t *o = json_object();
    char hex[65] = "";
    json_object_set_new(o, "model_sha256",
                        vigil_cli_file_sha256(bundle_path, hex, sizeof hex) == 0 ? json_string(hex)
                                                                                 : json_null());
    json_object_set_new(o, "cohort", cohort_json(m, c));
    json_t *curves = json_object();
    json_object_set_new(o, "curves", curves);
    json_t *ps = json_object();
    json_object_set_new(o, "per_admission", ps);
    vigil_status st = curves_json(curves, "model", risk, c->label, c->n_rows, err);
    if (st == VIGIL_OK) {
        st = curves_json(curves, "news2", news2, c->label, c->n_rows, err);
    }
    if (st == VIGIL_OK) {
        st = per_stay_json(ps, "model", c, risk, err);
    }
    if (st == VIGIL_OK) {
        st = per_stay_json(ps, "news2", c, news2, err);
    }
    if (st == VIGIL_OK) {
        st = calibration_json(o, c, risk, err);
    }
    if (st == VIGIL_OK) {
        st = operating_json(o, c, risk, news2, threshold, err);
    }
    if (st == VIGIL_OK) {
        st = decision_json(o, c, risk, err);
    }
    json_object_set_new(o, "subgroup_auroc_tolerance", json_real(VIGIL_CLI_SUBGROUP_TOLERANCE));
    if (st != VIGIL_OK) {
        json_decref(o);
        return st;
    }
    *out = o;
    return VIGIL_OK;
}
