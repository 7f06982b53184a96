/*
 * xgb_train.c: binary:logistic training through XGBoost's C API with early
 * stopping on a validation split. Does not choose splits, features or
 * thresholds: callers pass patient-level splits already made.
 * Reference: XGBoost 1.7 C API (xgboost/c_api.h), parameters documentation.
 */
#include "vigil/train.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>

void vigil_train_params_default(vigil_train_params *p)
{
    p->max_depth = 5;
    p->eta = 0.05;
    p->max_rounds = 600;
    p->early_stopping_rounds = 40;
    p->subsample = 0.8;
    p->colsample_bytree = 0.8;
    p->colsample_bynode = 1.0;
    p->max_bin = 256;
    p->min_child_weight = 5.0;
    p->lambda = 1.0;
    p->alpha = 0.0;
    p->gamma = 0.0;
    p->scale_pos_weight = 0.0;
    p->max_delta_step = 0.0;
    p->nthread = 0;
    p->seed = 7;
    p->monotone = NULL;
}

vigil_status vigil_train_params_load(const char *path, vigil_train_params *p, vigil_err *err)
{
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, path, "%s: line %d: %s", path, je.line, je.text);
    }
    /* a pipeline config holds the parameters under "xgboost" */
    json_t *obj = json_object_get(root, "xgboost");
    if (obj == NULL) {
        obj = root;
    } else if (!json_is_object(obj)) {
        json_decref(root);
        return vigil_err_set(err, VIGIL_ERR_PARSE, "xgboost", "%s: 'xgboost' is not an object",
                             path);
    }
    vigil_train_params q = *p;
    const struct {
        const char *key;
        double *d;
        int *i;
    } keys[] = {
        {"max_depth", NULL, &q.max_depth},
        {"eta", &q.eta, NULL},
        {"max_rounds", NULL, &q.max_rounds},
        {"early_stopping_rounds", NULL, &q.early_stopping_rounds},
        {"subsample", &q.subsample, NULL},
        {"colsample_bytree", &q.colsample_bytree, NULL},
        {"colsample_bynode", &q.colsample_bynode, NULL},
        {"max_bin", NULL, &q.max_bin},
        {"min_child_weight", &q.min_child_weight, NULL},
        {"lambda", &q.lambda, NULL},
        {"alpha", &q.alpha, NULL},
        {"gamma", &q.gamma, NULL},
        {"scale_pos_weight", &q.scale_pos_weight, NULL},
        {"max_delta_step", &q.max_delta_step, NULL},
        {"nthread", NULL, &q.nthread},
        {"seed", NULL, &q.seed},
    };
    const char *k;
    json_t *v;
    vigil_status st = VIGIL_OK;
    json_object_foreach(obj, k, v)
    {
        if (k[0] == '_') {
            continue; /* comments */
        }
        size_t i = 0;
        for (; i < sizeof keys / sizeof keys[0]; i++) {
            if (strcmp(keys[i].key, k) == 0) {
                break;
            }
        }
        if (i == sizeof keys / sizeof keys[0]) {
            st = vigil_err_set(err, VIGIL_ERR_PARSE, k, "%s: unknown parameter '%s'", path, k);
            break;
        }
        if (!json_is_number(v)) {
            st = vigil_err_set(err, VIGIL_ERR_PARSE, k, "%s: '%s' is not a number", path, k);
            break;
        }
        if (keys[i].d != NULL) {
            *keys[i].d = json_number_value(v);
        } else {
            *keys[i].i = (int)json_number_value(v);
        }
    }
    json_decref(root);
    if (st == VIGIL_OK) {
        *p = q;
    }
    return st;
}

static vigil_status xgb_fail(vigil_err *err, const char *what)
{
    return vigil_err_set(err, VIGIL_ERR_INTERNAL, NULL, "xgboost %s: %s", what, XGBGetLastError());
}

static vigil_status make_dmatrix(const vigil_matrix *m, DMatrixHandle *out, vigil_err *err)
{
    if (XGDMatrixCreateFromMat(m->x, m->n_rows, m->n_cols, NAN, out) != 0) {
        return xgb_fail(err, "DMatrix");
    }
    if (XGDMatrixSetFloatInfo(*out, "label", m->y, m->n_rows) != 0) {
        return xgb_fail(err, "labels");
    }
    if (m->w != NULL && XGDMatrixSetFloatInfo(*out, "weight", m->w, m->n_rows) != 0) {
        return xgb_fail(err, "weights");
    }
    return VIGIL_OK;
}

static int set_param(BoosterHandle h, const char *k, double v)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.10g", v);
    return XGBoosterSetParam(h, k, buf);
}

/* "(0,1,-1,...)": XGBoost's monotone_constraints text, one entry per column.
 * malloc'd; NULL when out of memory. */
static char *monotone_string(const signed char *dir, size_t n)
{
    char *s = malloc(3 * n + 3);
    if (s == NULL) {
        return NULL;
    }
    size_t o = 0;
    s[o++] = '(';
    for (size_t j = 0; j < n; j++) {
        if (j > 0) {
            s[o++] = ',';
        }
        if (dir[j] < 0) {
            s[o++] = '-';
        }
        s[o++] = dir[j] != 0 ? '1' : '0';
    }
    s[o++] = ')';
    s[o] = '\0';
    return s;
}

/* The validation AUC from an eval string "[3]\ttrain-auc:0.8\tvalid-auc:0.7". */
static double parse_valid_auc(const char *s)
{
    const char *p = strstr(s, "valid-auc:");
    if (p == NULL) {
        return NAN;
    }
    return strtod(p + strlen("valid-auc:"), NULL);
}

vigil_status vigil_train_xgb(const vigil_matrix *train, const vigil_matrix *valid,
                             const vigil_train_params *p, vigil_train_progress progress, void *ctx,
                             vigil_train_result *out, vigil_err *err)
{
    if (train == NULL || valid == NULL || p == NULL || out == NULL || train->n_rows == 0 ||
        valid->n_rows == 0 || train->n_cols != valid->n_cols) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL,
                             "train and valid must be non-empty "
                             "matrices of the same width");
    }
    double pos = 0, neg = 0;
    for (size_t i = 0; i < train->n_rows; i++) {
        double w = train->w != NULL ? train->w[i] : 1.0;
        if (train->y[i] > 0.5f) {
            pos += w;
        } else {
            neg += w;
        }
    }
    if (pos == 0 || neg == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "the training split has one class only");
    }
    DMatrixHandle dtrain = NULL, dvalid = NULL;
    BoosterHandle h = NULL, best = NULL;
    vigil_status st = make_dmatrix(train, &dtrain, err);
    if (st == VIGIL_OK) {
        st = make_dmatrix(valid, &dvalid, err);
    }
    DMatrixHandle cache[2] = {dtrain, dvalid};
    if (st == VIGIL_OK && XGBoosterCreate(cache, 2, &h) != 0) {
        st = xgb_fail(err, "create");
    }
    double spw = p->scale_pos_weight > 0 ? p->scale_pos_weight : neg / pos;
    if (st == VIGIL_OK) {
        int bad = 0;
        bad |= XGBoosterSetParam(h, "objective", "binary:logistic");
        bad |= XGBoosterSetParam(h, "eval_metric", "auc");
        bad |= XGBoosterSetParam(h, "tree_method", "hist");
        bad |= set_param(h, "max_depth", p->max_depth);
        bad |= set_param(h, "eta", p->eta);
        bad |= set_param(h, "subsample", p->subsample);
        bad |= set_param(h, "colsample_bytree", p->colsample_bytree);
        bad |= set_param(h, "colsample_bynode", p->colsample_bynode);
        bad |= set_param(h, "max_bin", p->max_bin);
        bad |= set_param(h, "min_child_weight", p->min_child_weight);
        bad |= set_param(h, "lambda", p->lambda);
        bad |= set_param(h, "alpha", p->alpha);
        bad |= set_param(h, "gamma", p->gamma);
        bad |= set_param(h, "scale_pos_weight", spw);
        bad |= set_param(h, "max_delta_step", p->max_delta_step);
        bad |= set_param(h, "seed", p->seed);
        if (p->nthread > 0) {
            bad |= set_param(h, "nthread", p->nthread);
        }
        if (p->monotone != NULL) {
            char *mc = monotone_string(p->monotone, train->n_cols);
            bad |= mc == NULL ? 1 : XGBoosterSetParam(h, "monotone_constraints", mc);
            free(mc);
        }
        if (bad != 0) {
            st = xgb_fail(err, "parameters");
        }
    }
    int best_round = -1;
    double best_auc = -1.0;
    for (int r = 0; st == VIGIL_OK && r < p->max_rounds; r++) {
        if (XGBoosterUpdateOneIter(h, r, dtrain) != 0) {
            st = xgb_fail(err, "update");
            break;
        }
        const char *names[1] = {"valid"};
        DMatrixHandle evs[1] = {dvalid};
        const char *res = NULL;
        if (XGBoosterEvalOneIter(h, r, evs, names, 1, &res) != 0) {
            st = xgb_fail(err, "eval");
            break;
        }
        double auc = parse_valid_auc(res);
        if (auc > best_auc) {
            best_auc = auc;
            best_round = r;
        }
        if (progress != NULL) {
            progress(r, p->max_rounds, auc, ctx);
        }
        if (r - best_round >= p->early_stopping_rounds) {
            break;
        }
    }
    if (st == VIGIL_OK && XGBoosterSlice(h, 0, best_round + 1, 1, &best) != 0) {
        st = xgb_fail(err, "slice");
    }
    if (st == VIGIL_OK) {
        bst_ulong len = 0;
        const char *buf = NULL;
        if (XGBoosterSaveModelToBuffer(best, "{\"format\": \"json\"}", &len, &buf) != 0) {
            st = xgb_fail(err, "save");
        } else {
            out->model_json = malloc(len + 1);
            if (out->model_json == NULL) {
                st = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "model of %lu bytes",
                                   (unsigned long)len);
            } else {
                memcpy(out->model_json, buf, len);
                out->model_json[len] = '\0';
                out->model_json_len = len;
                out->best_round = best_round;
                out->best_valid_auc = best_auc;
                out->scale_pos_weight_used = spw;
            }
        }
    }
    if (best != NULL) {
        XGBoosterFree(best);
    }
    if (h != NULL) {
        XGBoosterFree(h);
    }
    if (dtrain != NULL) {
        XGDMatrixFree(dtrain);
    }
    if (dvalid != NULL) {
        XGDMatrixFree(dvalid);
    }
    return st;
}

void vigil_train_result_fini(vigil_train_result *r)
{
    if (r == NULL) {
        return;
    }
    free(r->model_json);
    memset(r, 0, sizeof *r);
}
