/*
 * pipeline.c: one training data set in, one model bundle out (docs/model.md,
 * "Training"). Patient-level splits by a hash of the stay id (no stay in two
 * splits); XGBoost through src/train/xgb_train.c with early stopping on the
 * validation split; Platt calibration on the margin and every threshold
 * fitted on the calibration split; training ranges from the training split.
 * It never reads a test set: `vigil evaluate --model` scores those.
 */
#include <fnmatch.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/calibrate.h"
#include "vigil/cohort.h"
#include "vigil/eval.h"
#include "vigil/features.h"
#include "vigil/model.h"
#include "vigil/range_guard.h"
#include "vigil/report.h"
#include "vigil/train.h"
#include "vigil/trees.h"

enum { SPLIT_TRAIN = 0, SPLIT_VALID, SPLIT_CALIB, SPLIT_TEST, SPLIT_COUNT };

typedef struct cfg {
    vigil_train_params params;
    double valid_frac, calib_frac;
    int seed;
    json_t *exclude; /* array of names, owned */
    vigil_feature_set set; /* "feature_set": which features a model may read */
    bool monotone; /* "monotone": "clinical": XGBoost monotone constraints on the features
                      whose clinical direction is unambiguous (vigil_train_clinical_direction) */
    bool enough_data_rows; /* "train_rows": "enough_data": train and stop early only on the
                              hours the AI would score (REQ FEAT-ENOUGH-DATA) */
    bool weight_stays; /* "stay_weighting": "inverse_sqrt_length": each stay's rows weigh
                          1/sqrt(rows), so long stays do not dominate */
    size_t max_guard_rows;
    int cv_folds; /* "cv_folds": K > 1 adds K-fold cross-validated figures before the final
                     training on everything */
} cfg;

typedef struct run {
    const vigil_pipeline_opts *o;
    cfg cfg;
    vigil_cohort *c;
    uint8_t *split; /* per stay */
    size_t *cols;   /* selected feature indices */
    size_t n_cols;
    vigil_train_result tr;
    vigil_trees *trees;
    vigil_calib *calib;
    vigil_range_guard *guard;
    vigil_cohort *cal; /* calibration split as a cohort */
    double *cal_risk;
    double thr_alert, thr_news2;
    const char *thr_rule;
    vigil_report internal;
    vigil_report internal_news2;
    json_t *cv; /* cross-validated figures, or NULL */
} run;

static void say(const run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const run *r, const char *fmt, ...)
{
    if (r->o->log == NULL) {
        return;
    }
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    r->o->log(line, r->o->ctx);
}

static vigil_status load_cfg(const char *path, cfg *c, vigil_err *err)
{
    vigil_train_params_default(&c->params);
    c->valid_frac = 0.15;
    c->calib_frac = 0.15;
    c->seed = 2024;
    c->max_guard_rows = 200000;
    c->exclude = json_array();
    if (path == NULL) {
        return VIGIL_OK;
    }
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, path, "%s: line %d: %s", path, je.line, je.text);
    }
    vigil_status st = VIGIL_OK;
    if (json_object_get(root, "xgboost") != NULL) {
        st = vigil_train_params_load(path, &c->params, err); /* reads the "xgboost" object */
    }
    if (st != VIGIL_OK) {
        json_decref(root);
        return st;
    }
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v)
    {
        if (strcmp(k, "valid_frac") == 0 && json_is_number(v)) {
            c->valid_frac = json_number_value(v);
        } else if (strcmp(k, "calib_frac") == 0 && json_is_number(v)) {
            c->calib_frac = json_number_value(v);
        } else if (strcmp(k, "seed") == 0 && json_is_integer(v)) {
            c->seed = (int)json_integer_value(v);
        } else if (strcmp(k, "stay_weighting") == 0 && json_is_string(v)) {
            const char *w = json_string_value(v);
            c->weight_stays = strcmp(w, "inverse_sqrt_length") == 0;
            if (!c->weight_stays && strcmp(w, "none") != 0) {
                st = vigil_err_set(err, VIGIL_ERR_PARSE, k,
                                   "%s: stay_weighting is none or inverse_sqrt_length", path);
                break;
            }
        } else if (strcmp(k, "monotone") == 0 && json_is_string(v)) {
            const char *w = json_string_value(v);
            c->monotone = strcmp(w, "clinical") == 0;
            if (!c->monotone && strcmp(w, "none") != 0) {
                st = vigil_err_set(err, VIGIL_ERR_PARSE, k, "%s: monotone is none or clinical",
                                   path);
                break;
            }
        } else if (strcmp(k, "train_rows") == 0 && json_is_string(v)) {
            const char *w = json_string_value(v);
            c->enough_data_rows = strcmp(w, "enough_data") == 0;
            if (!c->enough_data_rows && strcmp(w, "all") != 0) {
                st = vigil_err_set(err, VIGIL_ERR_PARSE, k, "%s: train_rows is all or enough_data",
                                   path);
                break;
            }
        } else if (strcmp(k, "cv_folds") == 0 && json_is_integer(v)) {
            c->cv_folds = (int)json_integer_value(v);
            if (c->cv_folds < 0 || c->cv_folds == 1 || c->cv_folds > 20) {
                st = vigil_err_set(err, VIGIL_ERR_PARSE, k, "%s: cv_folds is 0 (none) or 2 to 20",
                                   path);
                break;
            }
        } else if (strcmp(k, "feature_set") == 0 && json_is_string(v)) {
            if (vigil_feature_set_from_name(json_string_value(v), &c->set) != VIGIL_OK) {
                st = vigil_err_set(err, VIGIL_ERR_PARSE, k,
                                   "%s: feature_set is research, ward-vitals or ward-vitals+labs",
                                   path);
                break;
            }
        } else if (strcmp(k, "exclude_features") == 0 && json_is_array(v)) {
            json_decref(c->exclude);
            c->exclude = json_incref(v);
        } else if (strcmp(k, "xgboost") != 0 && k[0] != '_') {
            st = vigil_err_set(err, VIGIL_ERR_PARSE, k, "%s: unknown key '%s'", path, k);
            break;
        }
    }
    json_decref(root);
    if (st == VIGIL_OK && c->enough_data_rows && c->weight_stays) {
        st = vigil_err_set(err, VIGIL_ERR_ARG, "train_rows",
                           "%s: train_rows enough_data and stay_weighting cannot be combined",
                           path);
    }
    if (st == VIGIL_OK &&
        (c->valid_frac <= 0 || c->calib_frac <= 0 || c->valid_frac + c->calib_frac >= 0.9)) {
        st = vigil_err_set(err, VIGIL_ERR_ARG, "valid_frac",
                           "%s: valid_frac and calib_frac must be positive and leave a training "
                           "split",
                           path);
    }
    return st;
}

static bool excluded(const cfg *c, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(c->exclude, i, v)
    {
        if (json_is_string(v) && fnmatch(json_string_value(v), name, 0) == 0) {
            return true;
        }
    }
    return false;
}

static vigil_status select_cols(run *r, vigil_err *err)
{
    size_t n = vigil_features_count();
    r->cols = malloc(sizeof *r->cols * n);
    if (r->cols == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
    }
    size_t i;
    json_t *v;
    json_array_foreach(r->cfg.exclude, i, v)
    {
        size_t hits = 0;
        for (size_t j = 0; json_is_string(v) && j < n; j++) {
            hits += fnmatch(json_string_value(v), vigil_features_info(j)->name, 0) == 0;
        }
        if (hits == 0) {
            return vigil_err_set(err, VIGIL_ERR_ARG, "exclude_features",
                                 "exclude_features[%zu] matches no feature name", i);
        }
    }
    for (size_t j = 0; j < n; j++) {
        if (vigil_features_in_set(j, r->cfg.set) && !excluded(&r->cfg, vigil_features_info(j)->name)) {
            r->cols[r->n_cols++] = j;
        }
    }
    return VIGIL_OK;
}

/* Patient-level split: a hash of the stay id and the seed. With fold >= 0 of
 * cv_folds, the stays whose hash falls in that fold are SPLIT_TEST and the
 * rest split as usual by the hash's position within its fold. */
static void split_stays_fold(run *r, int fold)
{
    for (size_t k = 0; k < r->c->n_stays; k++) {
        char key[VIGIL_DATA_ID_MAX + 16];
        int n = snprintf(key, sizeof key, "%d:%s", r->cfg.seed, r->c->stays[k].id);
        /* FNV-1a's high bits barely change between ids that differ in their last
         * characters: finish with splitmix64's mixer so every bit depends on all */
        uint64_t h = vigil_fnv1a64(key, (size_t)n);
        h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
        h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
        h ^= h >> 31;
        double u = (double)(h >> 11) / 9007199254740992.0;
        if (fold >= 0) {
            double f = u * (double)r->cfg.cv_folds;
            if ((int)f == fold) {
                r->split[k] = SPLIT_TEST;
                continue;
            }
            u = f - floor(f);
        }
        r->split[k] = u < r->cfg.valid_frac                       ? SPLIT_VALID
                      : u < r->cfg.valid_frac + r->cfg.calib_frac ? SPLIT_CALIB
                                                                  : SPLIT_TRAIN;
    }
}

static void split_stays(run *r)
{
    split_stays_fold(r, -1);
}

/* Whether row (of the cohort) enters training: every row, or with
 * "train_rows": "enough_data" only the hours the AI would score. */
static bool row_used(const run *r, size_t row)
{
    return !r->cfg.enough_data_rows ||
           vigil_features_enough_data(&r->c->x[row * r->c->n_feat], NULL, 0);
}

/* The rows of one split as a float matrix of the selected columns. */
static vigil_status matrix(const run *r, int which, float **x, float **y, size_t *n_out,
                           vigil_err *err)
{
    const vigil_cohort *c = r->c;
    size_t n = 0;
    for (size_t k = 0; k < c->n_stays; k++) {
        for (size_t i = 0; r->split[k] == which && i < c->stays[k].n_rows; i++) {
            n += row_used(r, c->stays[k].row0 + i);
        }
    }
    *x = malloc(sizeof **x * (n > 0 ? n : 1) * r->n_cols);
    *y = malloc(sizeof **y * (n > 0 ? n : 1));
    if (*x == NULL || *y == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory for %zu rows", n);
    }
    size_t o = 0;
    for (size_t k = 0; k < c->n_stays; k++) {
        if (r->split[k] != which) {
            continue;
        }
        for (size_t i = 0; i < c->stays[k].n_rows; i++) {
            size_t row = c->stays[k].row0 + i;
            if (!row_used(r, row)) {
                continue;
            }
            const float *f = &c->x[row * c->n_feat];
            for (size_t j = 0; j < r->n_cols; j++) {
                (*x)[o * r->n_cols + j] = f[r->cols[j]];
            }
            (*y)[o] = (float)c->label[row];
            o++;
        }
    }
    *n_out = n;
    return VIGIL_OK;
}

static void on_round(int round, int max_rounds, double auc, void *ctx)
{
    const run *r = ctx;
    if (r->o->progress != NULL) {
        r->o->progress(round, max_rounds, auc, r->o->ctx);
    }
}

static vigil_status train_trees(run *r, vigil_err *err)
{
    float *xt = NULL, *yt = NULL, *xv = NULL, *yv = NULL;
    size_t nt = 0, nv = 0;
    vigil_status st = matrix(r, SPLIT_TRAIN, &xt, &yt, &nt, err);
    if (st == VIGIL_OK) {
        st = matrix(r, SPLIT_VALID, &xv, &yv, &nv, err);
    }
    if (st == VIGIL_OK) {
        say(r, "training on %zu rows, early stopping on %zu rows, %zu inputs", nt, nv, r->n_cols);
        float *wt = NULL;
        if (r->cfg.weight_stays) {
            wt = malloc(sizeof *wt * (nt > 0 ? nt : 1));
            size_t o = 0;
            for (size_t k = 0; wt != NULL && k < r->c->n_stays; k++) {
                if (r->split[k] != SPLIT_TRAIN) {
                    continue;
                }
                float wk = (float)(1.0 / sqrt((double)r->c->stays[k].n_rows));
                for (size_t i = 0; i < r->c->stays[k].n_rows; i++) {
                    wt[o++] = wk;
                }
            }
        }
        signed char *mono = NULL;
        vigil_train_params params = r->cfg.params;
        if (r->cfg.monotone) {
            mono = malloc(r->n_cols > 0 ? r->n_cols : 1);
            for (size_t j = 0; mono != NULL && j < r->n_cols; j++) {
                mono[j] = (signed char)vigil_train_clinical_direction(r->cols[j]);
            }
            params.monotone = mono;
        }
        vigil_matrix mt = {xt, yt, wt, nt, r->n_cols};
        vigil_matrix mv = {xv, yv, NULL, nv, r->n_cols};
        if ((r->cfg.weight_stays && wt == NULL) || (r->cfg.monotone && mono == NULL)) {
            st = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
        } else {
            st = vigil_train_xgb(&mt, &mv, &params, on_round, r, &r->tr, err);
        }
        free(mono);
        free(wt);
    }
    if (st == VIGIL_OK) {
        say(r, "best round %d of %d, validation AUROC %.4f", r->tr.best_round + 1,
            r->cfg.params.max_rounds, r->tr.best_valid_auc);
        st = vigil_trees_load_json(r->tr.model_json, r->tr.model_json_len, &r->trees, err);
    }
    if (st == VIGIL_OK) {
        /* training ranges from (a sample of) the training rows */
        size_t step = nt > r->cfg.max_guard_rows ? nt / r->cfg.max_guard_rows + 1 : 1;
        size_t ng = (nt + step - 1) / step;
        double *g = malloc(sizeof *g * (ng > 0 ? ng : 1) * r->n_cols);
        if (g == NULL) {
            st = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
        } else {
            size_t o = 0;
            for (size_t i = 0; i < nt; i += step, o++) {
                for (size_t j = 0; j < r->n_cols; j++) {
                    g[o * r->n_cols + j] = (double)xt[i * r->n_cols + j];
                }
            }
            st = vigil_range_guard_fit(g, o, r->n_cols, &r->guard, err);
            free(g);
        }
    }
    free(xt);
    free(yt);
    free(xv);
    free(yv);
    return st;
}

/* Margins of the calibration split, Platt on them, calibrated risk. */
static vigil_status calibrate(run *r, vigil_err *err)
{
    uint8_t *keep = malloc(r->c->n_stays);
    if (keep == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
    }
    for (size_t k = 0; k < r->c->n_stays; k++) {
        keep[k] = r->split[k] == SPLIT_CALIB;
    }
    vigil_status st = vigil_cohort_subset(r->c, keep, &r->cal, NULL, err);
    free(keep);
    if (st != VIGIL_OK) {
        return st;
    }
    size_t n = r->cal->n_rows;
    double *x = malloc(sizeof *x * r->n_cols);
    double *margin = malloc(sizeof *margin * n);
    int *lab = malloc(sizeof *lab * n);
    r->cal_risk = malloc(sizeof *r->cal_risk * n);
    if (x == NULL || margin == NULL || lab == NULL || r->cal_risk == NULL) {
        st = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
    }
    for (size_t i = 0; st == VIGIL_OK && i < n; i++) {
        const float *f = &r->cal->x[i * r->cal->n_feat];
        for (size_t j = 0; j < r->n_cols; j++) {
            x[j] = (double)f[r->cols[j]];
        }
        vigil_trees_pred p;
        st = vigil_trees_predict(r->trees, x, r->n_cols, &p);
        margin[i] = p.margin;
        lab[i] = r->cal->label[i];
    }
    if (st == VIGIL_OK) {
        st = vigil_calib_fit_platt(margin, lab, n, false, &r->calib, err);
    }
    for (size_t i = 0; st == VIGIL_OK && i < n; i++) {
        r->cal_risk[i] = vigil_calib_apply(r->calib, margin[i]);
    }
    free(x);
    free(margin);
    free(lab);
    return st;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The risk threshold with the best 2019 utility on the calibration split. */
static vigil_status best_utility_threshold(run *r, double *out, vigil_err *err)
{
    size_t n = r->cal->n_rows;
    double *sorted = malloc(sizeof *sorted * n);
    if (sorted == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
    }
    memcpy(sorted, r->cal_risk, sizeof *sorted * n);
    qsort(sorted, n, sizeof *sorted, cmp_d);
    double best = -INFINITY, best_t = NAN;
    vigil_status st = VIGIL_OK;
    /* candidates: 300 quantiles of the risk, upper half dense */
    for (int q = 0; q < 300 && st == VIGIL_OK; q++) {
        double frac = 0.5 + 0.5 * (double)q / 300.0;
        double t = sorted[(size_t)(frac * (double)(n - 1))];
        vigil_eval_utility2019 u;
        st = vigil_report_utility(r->cal, r->cal_risk, t, &u, err);
        if (st == VIGIL_OK && u.normalized > best) {
            best = u.normalized;
            best_t = t;
        }
    }
    free(sorted);
    *out = best_t;
    say(r, "alert threshold %.4f: best utility %.3f on the calibration split", best_t, best);
    return st;
}

static vigil_status thresholds(run *r, bool sepsis, vigil_err *err)
{
    vigil_status st;
    r->thr_news2 = NAN;
    if (sepsis) {
        r->thr_rule = "maximum PhysioNet 2019 utility on the training data's calibration split";
        st = best_utility_threshold(r, &r->thr_alert, err);
        if (st != VIGIL_OK) {
            return st;
        }
        /* the sensitivity NEWS2 >= 5 reaches on the calibration split */
        double *news2 = malloc(sizeof *news2 * r->cal->n_rows);
        if (news2 == NULL) {
            return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
        }
        for (size_t i = 0; i < r->cal->n_rows; i++) {
            news2[i] = r->cal->news2[i];
        }
        vigil_eval_confusion cn, cm;
        st = vigil_eval_at_threshold(news2, r->cal->label, r->cal->n_rows, 5.0, &cn, err);
        free(news2);
        if (st == VIGIL_OK) {
            st = vigil_eval_threshold_for_sensitivity(r->cal_risk, r->cal->label, r->cal->n_rows,
                                                      cn.sens, &cm, err);
        }
        if (st == VIGIL_OK) {
            r->thr_news2 = cm.threshold;
            say(r,
                "NEWS2 >= 5 sensitivity on the calibration split %.3f; the model reaches it "
                "at risk >= %.4f",
                cn.sens, cm.threshold);
        }
        return st;
    }
    r->thr_rule = "maximum PhysioNet 2012 Event 1 on the training data's calibration split";
    st = vigil_report_best_event1_threshold(r->cal, r->cal_risk, &r->thr_alert, err);
    if (st == VIGIL_OK) {
        say(r, "alert threshold %.4f: best Event 1 on the calibration split", r->thr_alert);
    }
    return st;
}

static json_t *report_brief(const vigil_report *rep)
{
    const vigil_eval_summary *s = &rep->overall;
    json_t *o = json_object();
    json_object_set_new(o, "score", json_string(rep->score_name));
    json_object_set_new(o, "rows", json_integer((json_int_t)s->n));
    json_object_set_new(o, "events", json_integer((json_int_t)s->n_pos));
    if (s->has_roc) {
        json_object_set_new(o, "auroc", json_real(s->auroc.auc));
        json_object_set_new(o, "auroc_ci95", json_pack("[f,f]", s->auroc.lo, s->auroc.hi));
    }
    if (s->has_auprc) {
        json_object_set_new(o, "auprc", json_real(s->auprc));
    }
    if (s->has_brier) {
        json_object_set_new(o, "brier", json_real(s->brier));
    }
    if (s->has_calibration) {
        json_object_set_new(o, "calibration_intercept", json_real(s->cal.intercept));
        json_object_set_new(o, "calibration_slope", json_real(s->cal.slope));
    }
    if (rep->has_ece) {
        json_object_set_new(o, "ece", json_real(rep->ece));
    }
    json_object_set_new(o, "threshold", json_real(rep->threshold));
    if (s->at_threshold.has_sens) {
        json_object_set_new(o, "sensitivity", json_real(s->at_threshold.sens));
    }
    if (s->at_threshold.has_ppv) {
        json_object_set_new(o, "ppv", json_real(s->at_threshold.ppv));
    }
    if (rep->has_utility) {
        json_object_set_new(o, "utility", json_real(rep->utility.normalized));
    }
    if (rep->has_alerts) {
        json_object_set_new(o, "alerts_per_patient_day",
                            json_real(rep->alerts.episodes_per_patient_day));
    }
    if (rep->has_event1) {
        json_object_set_new(o, "event1", json_real(rep->event1.score1));
    }
    json_t *g = json_object();
    for (size_t i = 0; i < rep->n_groups; i++) {
        const vigil_report_group *gr = &rep->groups[i];
        char key[96];
        snprintf(key, sizeof key, "%s:%s", gr->kind, gr->name);
        json_object_set_new(g, key, gr->s.has_roc ? json_real(gr->s.auroc.auc) : json_null());
    }
    json_object_set_new(o, "subgroup_auroc", g);
    return o;
}

static json_t *model_card(const run *r, bool sepsis)
{
    json_t *card = json_object();
    json_object_set_new(
        card, "intended_use",
        json_string(sepsis ? "Advisory hourly risk that an adult in-patient will meet Sepsis-3 "
                             "criteria within the next 6 hours, shown beside NEWS2 to prompt a "
                             "clinical review. It can raise an escalation, never lower a NEWS2 one."
                           : "Advisory risk of in-hospital death from the first 48 hours of "
                             "observations, for research and validation only."));
    json_object_set_new(card, "not_for",
                        json_string("Diagnosis; lowering NEWS2-based escalation; children under "
                                    "16; pregnancy; any use before local validation."));
    json_object_set_new(
        card, "data",
        json_string(sepsis ? "PhysioNet/CinC Challenge 2019 training data (CC BY 4.0), one "
                             "hospital system; adult ICU stays; hourly vitals and labs; "
                             "SepsisLabel (Sepsis-3, 6 h ahead). Reyna et al., Crit Care Med "
                             "2020."
                           : "PhysioNet/CinC Challenge 2012 (ODC-By 1.0), MIMIC-II ICU stays, "
                             "first 48 h; in-hospital death. Silva et al., CinC 2012."));
    json_object_set_new(card, "warning",
                        json_string("Trained on ICU research data; not validated for clinical "
                                    "use. A hospital must run a local validation report before "
                                    "go-live."));
    json_t *lim = json_array();
    json_array_append_new(lim, json_string("ICU populations and ICU measurement patterns differ "
                                           "from general wards (more labs, more frequent "
                                           "vitals)."));
    json_array_append_new(lim, json_string("No consciousness level (ACVPU) in the 2019 data and "
                                           "no SpO2 in 2012: NEWS2 features there are partial."));
    json_array_append_new(lim, json_string("No ethnicity recorded in either data set: "
                                           "performance by ethnicity is unknown and must be "
                                           "monitored locally (pulse oximetry bias)."));
    if (r->cfg.set == VIGIL_FSET_RESEARCH) {
        json_array_append_new(
            lim, json_string("RESEARCH VARIANT, not for a ward: it reads time in the unit "
                             "(hours since the first record), the measurement process (hours "
                             "since, never measured, counts of tests) and ICU-only inputs "
                             "(EtCO2, FiO2, arterial gases). Much of its lead over NEWS2 comes "
                             "from those, which differ between hospitals and do not exist on a "
                             "ward. Hours since ICU admission itself is excluded."));
    } else {
        json_array_append_new(
            lim, json_string("Ward inputs only: no time-in-stay feature or proxy, no "
                             "measurement-process feature, no ICU-only input, MAP and DBP left "
                             "out (not in a ward observation set), troponin refused (its scale "
                             "differs between the two hospitals). What remains of the "
                             "measurement process: a window or a lab with no value is missing "
                             "(NaN), and the trees route missing values by a learned default, so "
                             "whether a lab was ever taken still reaches the model that way."));
        json_array_append_new(
            lim, json_string("Oxygen (air or supplemental) is not an input: the ICU data chart "
                             "FiO2, not a ward's air/oxygen, so the NEWS2 features are the five "
                             "physiological sub-scores."));
    }
    json_object_set_new(card, "feature_set", json_string(vigil_feature_set_name(r->cfg.set)));
    json_object_set_new(card, "limitations", lim);
    json_object_set_new(card, "threshold_rule", json_string(r->thr_rule));
    return card;
}

/* The clinical variables the model reads, each with its unit and where a
 * ward gets it (docs/model.md, "The model bundle"). */
static json_t *declared_inputs(const run *r)
{
    bool seen[VIGIL_VAR_COUNT] = {false};
    bool sex = false;
    json_t *a = json_array();
    for (size_t j = 0; j < r->n_cols; j++) {
        const vigil_feature_info *f = vigil_features_info(r->cols[j]);
        if (f->var >= 0 && f->var < VIGIL_VAR_COUNT) {
            seen[f->var] = true;
        } else if (strcmp(f->name, "age") == 0 || strcmp(f->name, "age_shock_index") == 0) {
            seen[VIGIL_VAR_AGE] = true;
        } else if (strcmp(f->name, "sex") == 0) {
            sex = true;
        }
    }
    for (int v = 0; v < VIGIL_VAR_COUNT; v++) {
        if (!seen[v]) {
            continue;
        }
        const vigil_var_info *vi = vigil_var_get((vigil_var)v);
        const char *src = vigil_feature_set_source(r->cfg.set, (vigil_var)v);
        json_array_append_new(
            a, json_pack("{s:s,s:s,s:s,s:s}", "variable", vi->name, "label", vi->label, "unit",
                         vi->unit, "source",
                         src != NULL ? src : "ICU chart (not a ward input: research variant)"));
    }
    if (sex) {
        json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s}", "variable", "sex", "label", "sex",
                                           "unit", "0 female, 1 male", "source",
                                           "patient record"));
    }
    return a;
}

/* The constraints the trees were trained under: the rule and the inputs it
 * constrained, each way (the bundle's training record). */
static json_t *monotone_json(const run *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "rule", json_string(r->cfg.monotone ? "clinical" : "none"));
    json_t *inc = json_array(), *dec = json_array();
    for (size_t j = 0; r->cfg.monotone && j < r->n_cols; j++) {
        int d = vigil_train_clinical_direction(r->cols[j]);
        if (d != 0) {
            json_array_append_new(d > 0 ? inc : dec,
                                  json_string(vigil_features_info(r->cols[j])->name));
        }
    }
    json_object_set_new(o, "increasing", inc);
    json_object_set_new(o, "decreasing", dec);
    return o;
}

/* The stored vital signs the live monitor watches for input drift
 * (src/cli/monitor_cfg.c), with their training ranges whether or not the
 * model reads them: a ward model reads respiration rate, pulse, systolic BP
 * and temperature only through their distances from normal (feature spec
 * v4), and the monitor still needs each raw vital's range. The same sample
 * of training rows as the inputs' ranges (docs/server.md "Monitoring"). */
static const char *const monitor_vitals[] = {"hr_last", "resp_last", "spo2_last", "temp_last",
                                             "sbp_last"};
#define N_MONITOR_VITALS (sizeof monitor_vitals / sizeof monitor_vitals[0])

static vigil_status monitor_ranges(const run *r, json_t **out, vigil_err *err)
{
    size_t col[N_MONITOR_VITALS];
    for (size_t v = 0; v < N_MONITOR_VITALS; v++) {
        vigil_status st = vigil_features_find(monitor_vitals[v], &col[v]);
        if (st != VIGIL_OK) {
            return vigil_err_set(err, VIGIL_ERR_INTERNAL, NULL, "no feature %s",
                                 monitor_vitals[v]);
        }
    }
    const vigil_cohort *c = r->c;
    size_t nt = 0;
    for (size_t k = 0; k < c->n_stays; k++) {
        for (size_t i = 0; r->split[k] == SPLIT_TRAIN && i < c->stays[k].n_rows; i++) {
            nt += row_used(r, c->stays[k].row0 + i);
        }
    }
    size_t step = nt > r->cfg.max_guard_rows ? nt / r->cfg.max_guard_rows + 1 : 1;
    size_t ng = (nt + step - 1) / step;
    double *g = malloc(sizeof *g * (ng > 0 ? ng : 1) * N_MONITOR_VITALS);
    if (g == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
    }
    size_t t = 0, o = 0;
    for (size_t k = 0; k < c->n_stays; k++) {
        for (size_t i = 0; r->split[k] == SPLIT_TRAIN && i < c->stays[k].n_rows; i++) {
            size_t row = c->stays[k].row0 + i;
            if (!row_used(r, row)) {
                continue;
            }
            if (t++ % step == 0) {
                for (size_t v = 0; v < N_MONITOR_VITALS; v++) {
                    g[o * N_MONITOR_VITALS + v] = (double)c->x[row * c->n_feat + col[v]];
                }
                o++;
            }
        }
    }
    vigil_range_guard *guard = NULL;
    vigil_status st = vigil_range_guard_fit(g, o, N_MONITOR_VITALS, &guard, err);
    free(g);
    if (st != VIGIL_OK) {
        return st;
    }
    json_t *obj = json_object();
    for (size_t v = 0; obj != NULL && v < N_MONITOR_VITALS; v++) {
        vigil_range rg;
        if (vigil_range_guard_get(guard, v, &rg) == VIGIL_OK && rg.n_present > 0) {
            json_object_set_new(obj, monitor_vitals[v],
                                json_pack("{s:f,s:f,s:f,s:f,s:I}", "min", rg.min, "p005", rg.p005,
                                          "p995", rg.p995, "max", rg.max, "n_present",
                                          (json_int_t)rg.n_present));
        }
    }
    vigil_range_guard_free(guard);
    if (obj == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
    }
    *out = obj;
    return VIGIL_OK;
}

static vigil_status write_bundle(run *r, bool sepsis, vigil_err *err)
{
    json_error_t je;
    json_t *xgb = json_loadb(r->tr.model_json, r->tr.model_json_len, 0, &je);
    char *cal_text = NULL, *rng_text = NULL;
    vigil_status st = xgb == NULL
                          ? vigil_err_set(err, VIGIL_ERR_PARSE, NULL, "model JSON: %s", je.text)
                          : VIGIL_OK;
    if (st == VIGIL_OK) {
        st = vigil_calib_to_json(r->calib, &cal_text, err);
    }
    if (st == VIGIL_OK) {
        st = vigil_range_guard_to_json(r->guard, &rng_text, err);
    }
    json_t *cal = cal_text != NULL ? json_loads(cal_text, 0, &je) : NULL;
    json_t *rng = rng_text != NULL ? json_loads(rng_text, 0, &je) : NULL;
    free(cal_text);
    free(rng_text);
    if (st == VIGIL_OK && (cal == NULL || rng == NULL)) {
        st = vigil_err_set(err, VIGIL_ERR_INTERNAL, NULL, "bundle: calibration/ranges JSON");
    }
    if (st != VIGIL_OK) {
        json_decref(xgb);
        json_decref(cal);
        json_decref(rng);
        return st;
    }
    json_t *b = json_object();
    json_object_set_new(b, "format", json_string(VIGIL_BUNDLE_FORMAT));
    json_object_set_new(b, "format_version", json_integer(VIGIL_BUNDLE_FORMAT_VERSION));
    json_object_set_new(b, "model_id", json_string(r->o->model_id));
    json_object_set_new(b, "model_version", json_string(r->o->model_version));
    json_object_set_new(b, "warning",
                        json_string("Trained on ICU research data; not validated "
                                    "for clinical use."));
    json_object_set_new(b, "task",
                        json_pack("{s:s,s:s,s:s}", "name", r->o->task, "label",
                                  sepsis ? "SepsisLabel (Sepsis-3 onset within 6 h, or septic)"
                                         : "In-hospital_death",
                                  "rows",
                                  sepsis ? "every hour of a stay" : "one per stay at hour 48"));
    char hash[17];
    vigil_features_spec_hash_hex(hash);
    json_object_set_new(b, "feature_spec",
                        json_pack("{s:s,s:i,s:I}", "hash", hash, "version", VIGIL_FEATURES_VERSION,
                                  "count", (json_int_t)vigil_features_count()));
    json_t *inputs = json_array();
    for (size_t j = 0; j < r->n_cols; j++) {
        json_array_append_new(inputs, json_string(vigil_features_info(r->cols[j])->name));
    }
    json_object_set_new(b, "inputs", inputs);
    json_object_set_new(b, "feature_set", json_string(vigil_feature_set_name(r->cfg.set)));
    json_object_set_new(b, "inputs_declared", declared_inputs(r));
    json_object_set_new(b, "calibration_input", json_string("margin"));
    json_object_set_new(b, "calibration", cal);
    json_object_set_new(b, "ranges", rng);
    json_t *mon = NULL;
    st = monitor_ranges(r, &mon, err);
    if (st != VIGIL_OK) {
        json_decref(xgb);
        json_decref(b);
        return st;
    }
    json_object_set_new(b, "monitor_ranges", mon);
    json_t *thr = json_object();
    json_object_set_new(thr, "alert", json_real(r->thr_alert));
    json_object_set_new(thr, "alert_rule", json_string(r->thr_rule));
    if (!isnan(r->thr_news2)) {
        json_object_set_new(thr, "news2_matched", json_real(r->thr_news2));
        json_object_set_new(thr, "news2_matched_rule",
                            json_string("sensitivity of NEWS2 >= 5 on the calibration split"));
    }
    json_object_set_new(b, "thresholds", thr);
    size_t n_split[SPLIT_COUNT] = {0};
    for (size_t k = 0; k < r->c->n_stays; k++) {
        n_split[r->split[k]]++;
    }
    char sets[VIGIL_COHORT_MAX_SETS * (VIGIL_DATA_ID_MAX + 1)] = "?";
    for (size_t k = 0, w = 0; k < r->c->n_sets && w < sizeof sets; k++) {
        int n = snprintf(sets + w, sizeof sets - w, "%s%s", k > 0 ? "+" : "", r->c->sets[k]);
        w += n > 0 ? (size_t)n : 0;
    }
    const vigil_train_params *p = &r->cfg.params;
    json_t *training = json_pack(
        "{s:s,s:s,s:{s:I,s:I,s:I},s:i,s:f,s:i,s:f,s:{s:i,s:f,s:f,s:f,s:f,s:f,s:f}}", "data",
        sets, "split_rule",
        "stay-level hash (FNV-1a + splitmix64 mix) of (seed, stay id): no stay in two splits", "stays", "train",
        (json_int_t)n_split[SPLIT_TRAIN], "valid", (json_int_t)n_split[SPLIT_VALID], "calib",
        (json_int_t)n_split[SPLIT_CALIB], "seed", r->cfg.seed, "best_valid_auroc",
        r->tr.best_valid_auc, "rounds", r->tr.best_round + 1, "scale_pos_weight",
        r->tr.scale_pos_weight_used, "xgboost", "max_depth", p->max_depth, "eta", p->eta,
        "subsample", p->subsample, "colsample_bytree", p->colsample_bytree, "min_child_weight",
        p->min_child_weight, "lambda", p->lambda, "gamma", p->gamma);
    json_t *px = json_object_get(training, "xgboost");
    json_object_set_new(px, "alpha", json_real(p->alpha));
    json_object_set_new(px, "colsample_bynode", json_real(p->colsample_bynode));
    json_object_set_new(px, "max_bin", json_integer(p->max_bin));
    json_object_set_new(px, "max_delta_step", json_real(p->max_delta_step));
    json_object_set_new(training, "excluded_features", json_incref(r->cfg.exclude));
    json_object_set_new(training, "monotone", monotone_json(r));
    json_object_set_new(training, "train_rows",
                        json_string(r->cfg.enough_data_rows ? "enough_data" : "all"));
    json_object_set_new(training, "stay_weighting",
                        json_string(r->cfg.weight_stays ? "inverse_sqrt_length" : "none"));
    json_object_set_new(b, "training", training);
    json_t *ev = json_object();
    json_object_set_new(ev, "internal_calibration_split", report_brief(&r->internal));
    json_object_set_new(ev, "internal_calibration_split_news2", report_brief(&r->internal_news2));
    json_object_set_new(ev, "external", json_array());
    if (r->cv != NULL) {
        json_object_set_new(ev, "cross_validation", json_incref(r->cv));
    }
    json_object_set_new(b, "evaluation", ev);
    json_object_set_new(b, "model_card", model_card(r, sepsis));
    json_object_set_new(b, "xgboost", xgb);
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    json_object_set_new(b, "created_utc", json_string(when));
    if (json_dump_file(b, r->o->out_path, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0) {
        st = vigil_err_set(err, VIGIL_ERR_IO, r->o->out_path, "cannot write '%s'", r->o->out_path);
    }
    json_decref(b);
    return st;
}

/* The calibration split's AUROC over the hours the AI would score (REQ
 * FEAT-ENOUGH-DATA), the rows a ward sees: logged for comparing configs. */
static void say_scored_rows_auroc(const run *r)
{
    size_t n = r->cal->n_rows, m = 0;
    double *score = malloc(sizeof *score * (n > 0 ? n : 1));
    uint8_t *y = malloc(n > 0 ? n : 1);
    for (size_t i = 0; score != NULL && y != NULL && i < n; i++) {
        if (vigil_features_enough_data(&r->cal->x[i * r->cal->n_feat], NULL, 0)) {
            score[m] = r->cal_risk[i];
            y[m++] = r->cal->label[i];
        }
    }
    double auc = NAN;
    if (score != NULL && y != NULL && vigil_eval_auroc(score, y, m, &auc, NULL) == VIGIL_OK) {
        say(r, "calibration split, scored rows (%zu of %zu): model AUROC %.4f", m, n, auc);
    }
    free(score);
    free(y);
}

static vigil_status internal_eval(run *r, bool sepsis, vigil_err *err)
{
    vigil_status st =
        vigil_report_score(r->cal, r->cal_risk, "model", true, r->thr_alert, &r->internal, err);
    if (st != VIGIL_OK) {
        return st;
    }
    double *news2 = malloc(sizeof *news2 * r->cal->n_rows);
    if (news2 == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
    }
    for (size_t i = 0; i < r->cal->n_rows; i++) {
        news2[i] = sepsis ? r->cal->news2[i] : r->cal->stays[r->cal->stay_of[i]].news2_last;
    }
    st = vigil_report_score(r->cal, news2, "NEWS2", false, 5.0, &r->internal_news2, err);
    free(news2);
    if (st == VIGIL_OK) {
        say(r, "calibration split: model AUROC %.4f vs NEWS2 %.4f", r->internal.overall.auroc.auc,
            r->internal_news2.overall.auroc.auc);
        if (sepsis) {
            say_scored_rows_auroc(r);
        }
    }
    return st;
}

/* Free what one training made, so another can run on the same cohort. */
static void free_fit(run *r)
{
    vigil_train_result_fini(&r->tr);
    memset(&r->tr, 0, sizeof r->tr);
    vigil_trees_free(r->trees);
    vigil_calib_free(r->calib);
    vigil_range_guard_free(r->guard);
    vigil_cohort_free(r->cal);
    free(r->cal_risk);
    r->trees = NULL;
    r->calib = NULL;
    r->guard = NULL;
    r->cal = NULL;
    r->cal_risk = NULL;
}

/* K-fold cross-validation (cv_folds): each fold's stays are scored by a model
 * trained, calibrated and thresholded on the other folds only (the same
 * steps as the final model); the figures are over every stay's out-of-fold
 * risk, Event 1 / utility at each fold's own threshold. */
static vigil_status cross_validate(run *r, bool sepsis, vigil_err *err)
{
    size_t n = r->c->n_rows;
    double *oof = malloc(sizeof *oof * n), *news2 = malloc(sizeof *news2 * n);
    double *x = malloc(sizeof *x * r->n_cols);
    uint8_t *alert = calloc(n, 1);
    json_t *folds = json_array();
    vigil_status st = oof == NULL || news2 == NULL || x == NULL || alert == NULL
                          ? vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory")
                          : VIGIL_OK;
    for (int f = 0; st == VIGIL_OK && f < r->cfg.cv_folds; f++) {
        split_stays_fold(r, f);
        st = train_trees(r, err);
        if (st == VIGIL_OK) {
            st = calibrate(r, err);
        }
        if (st == VIGIL_OK) {
            st = thresholds(r, sepsis, err);
        }
        size_t n_test = 0;
        for (size_t k = 0; st == VIGIL_OK && k < r->c->n_stays; k++) {
            const vigil_cohort_stay *s = &r->c->stays[k];
            for (size_t i = 0; r->split[k] == SPLIT_TEST && st == VIGIL_OK && i < s->n_rows; i++) {
                size_t row = s->row0 + i;
                const float *fx = &r->c->x[row * r->c->n_feat];
                for (size_t j = 0; j < r->n_cols; j++) {
                    x[j] = (double)fx[r->cols[j]];
                }
                vigil_trees_pred p;
                st = vigil_trees_predict(r->trees, x, r->n_cols, &p);
                oof[row] = vigil_calib_apply(r->calib, p.margin);
                alert[row] = oof[row] >= r->thr_alert;
                n_test++;
            }
        }
        if (st == VIGIL_OK) {
            say(r, "fold %d of %d: %zu test rows, threshold %.4f", f + 1, r->cfg.cv_folds, n_test,
                r->thr_alert);
            json_array_append_new(folds, json_pack("{s:I,s:f,s:i}", "test_rows", (json_int_t)n_test,
                                                   "threshold", r->thr_alert, "rounds",
                                                   r->tr.best_round + 1));
        }
        free_fit(r);
    }
    vigil_eval_roc roc = {0}, roc_n = {0};
    if (st == VIGIL_OK) {
        for (size_t i = 0; i < n; i++) {
            const vigil_cohort_stay *s = &r->c->stays[r->c->stay_of[i]];
            news2[i] = sepsis ? r->c->news2[i] : s->news2_last;
        }
        st = vigil_eval_auroc_delong(oof, r->c->label, n, &roc, err);
    }
    if (st == VIGIL_OK) {
        st = vigil_eval_auroc_delong(news2, r->c->label, n, &roc_n, err);
    }
    if (st == VIGIL_OK) {
        size_t tp = 0, fp = 0, fn = 0;
        for (size_t i = 0; i < n; i++) {
            tp += alert[i] && r->c->label[i];
            fp += alert[i] && !r->c->label[i];
            fn += !alert[i] && r->c->label[i];
        }
        double se = tp + fn > 0 ? (double)tp / (double)(tp + fn) : NAN;
        double ppv = tp + fp > 0 ? (double)tp / (double)(tp + fp) : NAN;
        r->cv = json_pack("{s:i,s:s,s:I,s:f,s:[f,f],s:f,s:[f,f],s:f,s:f,s:o}", "folds",
                          r->cfg.cv_folds, "rule",
                          "stay-level folds by the split hash; each fold scored by a model "
                          "trained, calibrated and thresholded on the other folds only",
                          "rows", (json_int_t)n, "auroc", roc.auc, "auroc_ci95", roc.lo, roc.hi,
                          "news2_auroc", roc_n.auc, "news2_auroc_ci95", roc_n.lo, roc_n.hi,
                          "sensitivity", se, "ppv", ppv, "per_fold", folds);
        folds = NULL;
        if (!sepsis) {
            json_object_set_new(r->cv, "event1", json_real(fmin(se, ppv)));
        }
        say(r, "cross-validated (%d folds): AUROC %.4f (%.4f-%.4f) vs NEWS2 %.4f; sensitivity %.3f, "
               "PPV %.3f",
            r->cfg.cv_folds, roc.auc, roc.lo, roc.hi, roc_n.auc, se, ppv);
    }
    json_decref(folds);
    free(oof);
    free(news2);
    free(x);
    free(alert);
    return st;
}

vigil_status vigil_pipeline_train(const vigil_pipeline_opts *o, vigil_err *err)
{
    bool sepsis = strcmp(o->task, "sepsis2019") == 0;
    if (!sepsis && strcmp(o->task, "mortality2012") != 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "task",
                             "unknown task '%s' (sepsis2019 or mortality2012)", o->task);
    }
    run r = {.o = o};
    vigil_status st = load_cfg(o->config_path, &r.cfg, err);
    if (st == VIGIL_OK) {
        say(&r, "loading %s with features", o->data_path);
        vigil_cohort_opts co = {
            .outcomes_path = o->outcomes, .with_features = true, .max_stays = o->max_stays};
        st = vigil_cohort_load(o->data_path, &co, &r.c, err);
    }
    if (st == VIGIL_OK && r.c->format != (sepsis ? VIGIL_DATA_PN2019 : VIGIL_DATA_PN2012)) {
        st = vigil_err_set(err, VIGIL_ERR_MISMATCH, "task", "task %s needs PhysioNet %s data",
                           o->task, sepsis ? "2019" : "2012");
    }
    if (st == VIGIL_OK) {
        say(&r, "%zu stays, %zu rows", r.c->n_stays, r.c->n_rows);
        r.split = malloc(r.c->n_stays);
        st = r.split == NULL ? vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory")
                             : select_cols(&r, err);
    }
    if (st == VIGIL_OK && r.cfg.cv_folds > 1) {
        st = cross_validate(&r, sepsis, err);
    }
    if (st == VIGIL_OK) {
        split_stays(&r);
        st = train_trees(&r, err);
    }
    if (st == VIGIL_OK) {
        st = calibrate(&r, err);
    }
    if (st == VIGIL_OK) {
        st = thresholds(&r, sepsis, err);
    }
    if (st == VIGIL_OK) {
        st = internal_eval(&r, sepsis, err);
    }
    if (st == VIGIL_OK) {
        st = write_bundle(&r, sepsis, err);
    }
    if (st == VIGIL_OK) {
        say(&r, "wrote %s", o->out_path);
    }
    json_decref(r.cfg.exclude);
    json_decref(r.cv);
    vigil_cohort_free(r.c);
    vigil_cohort_free(r.cal);
    free(r.split);
    free(r.cols);
    free(r.cal_risk);
    vigil_train_result_fini(&r.tr);
    vigil_trees_free(r.trees);
    vigil_calib_free(r.calib);
    vigil_range_guard_free(r.guard);
    return st;
}
