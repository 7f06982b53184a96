/*
 * bundle.c: load a vigil model bundle (one JSON file: trees, calibration,
 * training ranges, thresholds, evaluation, model card) and score with it.
 * Refuses a bundle built for another feature specification. Does not train
 * or write bundles (src/train does).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/calibrate.h"
#include "vigil/features.h"
#include "vigil/model.h"
#include "vigil/range_guard.h"
#include "vigil/trees.h"

struct vigil_model {
    json_t *root;
    vigil_trees *trees;
    vigil_calib *calib;
    vigil_range_guard *guard;
    size_t n_inputs;
    size_t *feature_of; /* model input -> feature index */
    const char **names; /* borrowed from root */
    vigil_model_info info;
    size_t shap_work;
};

struct vigil_model_work {
    double *x;
    void *shap;
    size_t shap_size;
    vigil_range_hit *hits;
};

static const char *str_or(json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s != NULL ? s : dflt;
}

static vigil_status member_text(json_t *root, const char *key, char **out, vigil_err *err)
{
    json_t *v = json_object_get(root, key);
    if (v == NULL || !json_is_object(v)) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, key, "model bundle: '%s' is missing", key);
    }
    *out = json_dumps(v, JSON_COMPACT);
    if (*out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, key, "model bundle: out of memory");
    }
    return VIGIL_OK;
}

static vigil_status check_header(json_t *root, vigil_err *err)
{
    if (strcmp(str_or(root, "format", ""), VIGIL_BUNDLE_FORMAT) != 0) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, "format", "not a vigil model bundle");
    }
    json_int_t v = json_integer_value(json_object_get(root, "format_version"));
    if (v != VIGIL_BUNDLE_FORMAT_VERSION) {
        return vigil_err_set(err, VIGIL_ERR_MISMATCH, "format_version",
                             "model bundle format %lld; this vigil reads format %d", (long long)v,
                             VIGIL_BUNDLE_FORMAT_VERSION);
    }
    json_t *spec = json_object_get(root, "feature_spec");
    char want[17];
    vigil_features_spec_hash_hex(want);
    const char *have = str_or(spec, "hash", "");
    if (strcmp(have, want) != 0) {
        return vigil_err_set(err, VIGIL_ERR_MISMATCH, "feature_spec",
                             "model bundle was trained on feature specification %s but this "
                             "vigil computes %s: the features would not mean what the model "
                             "learned; retrain the model with this vigil (vigil train)",
                             have[0] != '\0' ? have : "(none)", want);
    }
    return VIGIL_OK;
}

static vigil_status load_inputs(vigil_model *m, vigil_err *err)
{
    json_t *inputs = json_object_get(m->root, "inputs");
    if (!json_is_array(inputs) || json_array_size(inputs) == 0) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, "inputs", "model bundle: no inputs");
    }
    m->n_inputs = json_array_size(inputs);
    m->feature_of = calloc(m->n_inputs, sizeof *m->feature_of);
    m->names = calloc(m->n_inputs, sizeof *m->names);
    if (m->feature_of == NULL || m->names == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "model bundle: out of memory");
    }
    for (size_t i = 0; i < m->n_inputs; i++) {
        const char *name = json_string_value(json_array_get(inputs, i));
        if (name == NULL || vigil_features_find(name, &m->feature_of[i]) != VIGIL_OK) {
            return vigil_err_set(err, VIGIL_ERR_MISMATCH, "inputs",
                                 "model bundle input %zu ('%s') is not a feature of this vigil", i,
                                 name != NULL ? name : "?");
        }
        m->names[i] = name;
    }
    /* a bundle that names its feature set reads only features of that set */
    const char *set_name = json_string_value(json_object_get(m->root, "feature_set"));
    vigil_feature_set set = VIGIL_FSET_RESEARCH;
    if (set_name != NULL && vigil_feature_set_from_name(set_name, &set) != VIGIL_OK) {
        return vigil_err_set(err, VIGIL_ERR_MISMATCH, "feature_set",
                             "model bundle: unknown feature set '%s'", set_name);
    }
    for (size_t i = 0; set_name != NULL && i < m->n_inputs; i++) {
        if (!vigil_features_in_set(m->feature_of[i], set)) {
            return vigil_err_set(err, VIGIL_ERR_MISMATCH, "inputs",
                                 "model bundle input '%s' is not in its feature set '%s'",
                                 m->names[i], set_name);
        }
    }
    m->info.feature_set = set_name != NULL ? set : VIGIL_FSET_RESEARCH;
    return VIGIL_OK;
}

static vigil_status load_parts(vigil_model *m, vigil_err *err)
{
    char *text = NULL;
    vigil_status st = member_text(m->root, "xgboost", &text, err);
    if (st == VIGIL_OK) {
        st = vigil_trees_load_json(text, strlen(text), &m->trees, err);
    }
    free(text);
    text = NULL;
    if (st == VIGIL_OK) {
        st = member_text(m->root, "calibration", &text, err);
    }
    if (st == VIGIL_OK) {
        st = vigil_calib_from_json(text, strlen(text), &m->calib, err);
    }
    free(text);
    text = NULL;
    if (st == VIGIL_OK) {
        st = member_text(m->root, "ranges", &text, err);
    }
    if (st == VIGIL_OK) {
        st = vigil_range_guard_from_json(text, strlen(text), &m->guard, err);
    }
    free(text);
    if (st != VIGIL_OK) {
        return st;
    }
    vigil_trees_info ti;
    vigil_trees_get_info(m->trees, &ti);
    if (ti.n_features != m->n_inputs || vigil_range_guard_n_features(m->guard) != m->n_inputs) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, "inputs",
                             "model bundle: %zu inputs but the trees read %zu and the ranges "
                             "cover %zu",
                             m->n_inputs, ti.n_features, vigil_range_guard_n_features(m->guard));
    }
    m->info.n_trees = ti.n_trees;
    m->shap_work = vigil_trees_shap_work_size(m->trees);
    return VIGIL_OK;
}

static void load_info(vigil_model *m)
{
    json_t *r = m->root;
    json_t *thr = json_object_get(r, "thresholds");
    json_t *card = json_object_get(r, "model_card");
    m->info.model_id = str_or(r, "model_id", "?");
    m->info.model_version = str_or(r, "model_version", "?");
    m->info.task = str_or(json_object_get(r, "task"), "name", "?");
    m->info.trained_on = str_or(json_object_get(r, "training"), "data", "?");
    m->info.n_inputs = m->n_inputs;
    json_t *t = json_object_get(thr, "alert");
    m->info.threshold = json_is_number(t) ? json_number_value(t) : NAN;
    m->info.threshold_rule = str_or(thr, "alert_rule", "");
    t = json_object_get(thr, "news2_matched");
    m->info.threshold_news2_matched = json_is_number(t) ? json_number_value(t) : NAN;
    m->info.intended_use = str_or(card, "intended_use", "");
}

vigil_status vigil_model_load_text(const char *json, size_t len, vigil_model **out, vigil_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, NULL, "model bundle: line %d: %s", je.line,
                             je.text);
    }
    vigil_model *m = calloc(1, sizeof *m);
    if (m == NULL) {
        json_decref(root);
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "model bundle: out of memory");
    }
    m->root = root;
    vigil_status st = check_header(root, err);
    if (st == VIGIL_OK) {
        st = load_inputs(m, err);
    }
    if (st == VIGIL_OK) {
        st = load_parts(m, err);
    }
    if (st != VIGIL_OK) {
        vigil_model_free(m);
        return st;
    }
    load_info(m);
    *out = m;
    return VIGIL_OK;
}

vigil_status vigil_model_load(const char *path, vigil_model **out, vigil_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return vigil_err_set(err, VIGIL_ERR_IO, "model", "cannot open model bundle '%s'", path);
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 > cap) {
            cap = cap == 0 ? 1u << 20 : cap * 2;
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return vigil_err_set(err, VIGIL_ERR_NOMEM, "model", "out of memory");
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            break;
        }
    }
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad) {
        free(buf);
        return vigil_err_set(err, VIGIL_ERR_IO, "model", "error reading '%s'", path);
    }
    vigil_status st = vigil_model_load_text(buf, len, out, err);
    free(buf);
    if (st != VIGIL_OK && err != NULL) {
        char msg[VIGIL_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err->msg);
        vigil_err_set(err, st, err->field, "%s: %s", path, msg);
    }
    return st;
}

void vigil_model_free(vigil_model *m)
{
    if (m == NULL) {
        return;
    }
    vigil_trees_free(m->trees);
    vigil_calib_free(m->calib);
    vigil_range_guard_free(m->guard);
    free(m->feature_of);
    free(m->names);
    json_decref(m->root);
    free(m);
}

void vigil_model_get_info(const vigil_model *m, vigil_model_info *out)
{
    *out = m->info;
}

size_t vigil_model_input_feature(const vigil_model *m, size_t i)
{
    return i < m->n_inputs ? m->feature_of[i] : (size_t)-1;
}

const char *vigil_model_input_name(const vigil_model *m, size_t i)
{
    return i < m->n_inputs ? m->names[i] : "?";
}

char *vigil_model_member_json(const vigil_model *m, const char *key)
{
    json_t *v = json_object_get(m->root, key);
    return v != NULL ? json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
}

vigil_status vigil_model_work_new(const vigil_model *m, vigil_model_work **out, vigil_err *err)
{
    vigil_model_work *w = calloc(1, sizeof *w);
    if (w != NULL) {
        w->x = calloc(m->n_inputs, sizeof *w->x);
        w->shap_size = m->shap_work;
        w->shap = malloc(w->shap_size > 0 ? w->shap_size : 1);
        w->hits = calloc(m->n_inputs, sizeof *w->hits);
    }
    if (w == NULL || w->x == NULL || w->shap == NULL || w->hits == NULL) {
        vigil_model_work_free(w);
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "model: out of memory");
    }
    *out = w;
    return VIGIL_OK;
}

void vigil_model_work_free(vigil_model_work *w)
{
    if (w == NULL) {
        return;
    }
    free(w->x);
    free(w->shap);
    free(w->hits);
    free(w);
}

vigil_status vigil_model_predict(const vigil_model *m, vigil_model_work *w, const float *features,
                                 vigil_model_pred *out, double *phi, vigil_err *err)
{
    for (size_t i = 0; i < m->n_inputs; i++) {
        w->x[i] = (double)features[m->feature_of[i]];
    }
    vigil_trees_pred p;
    vigil_status st =
        phi != NULL ? vigil_trees_shap(m->trees, w->x, m->n_inputs, w->shap, w->shap_size, phi, &p)
                    : vigil_trees_predict(m->trees, w->x, m->n_inputs, &p);
    if (st != VIGIL_OK) {
        return vigil_err_set(err, st, "model", "model: scoring failed (%s)", vigil_status_str(st));
    }
    size_t n_hits = 0;
    vigil_range_guard_check(m->guard, w->x, m->n_inputs, VIGIL_RANGE_MINMAX, w->hits, m->n_inputs,
                            &n_hits);
    out->margin = p.margin;
    out->prob_raw = p.prob;
    out->risk = vigil_calib_apply(m->calib, p.margin); /* Platt on the margin: rank-preserving */
    out->n_out_of_range = n_hits;
    out->low_confidence = n_hits > 0;
    return VIGIL_OK;
}

vigil_status vigil_model_predict_batch(const vigil_model *m, const float *features, size_t n_rows,
                                       size_t n_features, double *out_risk, vigil_err *err)
{
    enum { CHUNK = 4096 };
    double *x = malloc(sizeof *x * CHUNK * m->n_inputs);
    vigil_trees_pred *p = malloc(sizeof *p * CHUNK);
    vigil_status st = VIGIL_OK;
    if (x == NULL || p == NULL) {
        st = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "model: out of memory");
    }
    for (size_t r0 = 0; st == VIGIL_OK && r0 < n_rows; r0 += CHUNK) {
        size_t n = n_rows - r0 < CHUNK ? n_rows - r0 : CHUNK;
        for (size_t r = 0; r < n; r++) {
            const float *f = &features[(r0 + r) * n_features];
            for (size_t i = 0; i < m->n_inputs; i++) {
                x[r * m->n_inputs + i] = (double)f[m->feature_of[i]];
            }
        }
        st = vigil_trees_predict_batch(m->trees, x, n, m->n_inputs, p);
        for (size_t r = 0; st == VIGIL_OK && r < n; r++) {
            out_risk[r0 + r] = vigil_calib_apply(m->calib, p[r].margin);
        }
    }
    free(x);
    free(p);
    return st;
}
