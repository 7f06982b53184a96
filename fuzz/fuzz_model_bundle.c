/*
 * fuzz_model_bundle.c: libFuzzer target for the model bundle loader
 * (vigil/model.h: vigil_model_load_text, and through it the XGBoost tree
 * reader, the calibration map and the training-range guard). Built and run
 * by scripts/fuzz.sh; seeds in fuzz/corpus/model_bundle: the shipped bundles
 * of models/ cut to their first one or three trees and the inputs those
 * read (split indices renumbered, ranges and num_feature to match; the
 * evaluation, training and model-card members dropped), 3 to 10 KB each, so
 * that mutations reach the loader's checks rather than spend themselves on
 * a megabyte of trees.
 *
 * A bundle is configuration an operator installs, not network input, but a
 * damaged or hostile file must be refused with a reason, never crash the
 * server or score with trees that read past their arrays. Besides "no crash,
 * no leak, no undefined behaviour" it checks invariants: a refusal has a
 * known status other than 'internal' and a message and leaves *out untouched; a loaded bundle has
 * at least one input and one tree, each input maps to a feature of this
 * vigil, and scoring three fixed feature vectors (all zero, all one, values
 * from the input) gives a risk in [0, 1] (or NaN only for a NaN margin),
 * SHAP values that are finite when the margin is, and the same answer from
 * the single and the batch scorer.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/features.h"
#include "vigil/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant: on failure say which, then abort so libFuzzer keeps the input. */
#define check(cond) check_at((cond), #cond, __LINE__)

static void check_at(int cond, const char *what, int line)
{
    if (!cond) {
        fprintf(stderr, "invariant failed at %s:%d: %s\n", __FILE__, line, what);
        abort();
    }
}

/* One fixed feature vector: 0 = zeros, 1 = ones, 2 = bytes of the input. */
static void fill_features(float *f, int kind, const uint8_t *data, size_t size)
{
    for (size_t j = 0; j < VIGIL_FEATURES_COUNT; j++) {
        if (kind == 0) {
            f[j] = 0.0f;
        } else if (kind == 1) {
            f[j] = 1.0f;
        } else {
            f[j] = size > 0 ? (float)data[j % size] - 64.0f : 0.0f;
        }
    }
}

static void score_checks(const vigil_model *m, const uint8_t *data, size_t size)
{
    vigil_model_info info;
    vigil_model_get_info(m, &info);
    check(info.n_inputs > 0);
    check(info.n_trees > 0);
    check(info.model_id != NULL && info.model_version != NULL && info.task != NULL);
    for (size_t i = 0; i < info.n_inputs; i++) {
        check(vigil_model_input_feature(m, i) < VIGIL_FEATURES_COUNT);
        check(vigil_model_input_name(m, i) != NULL);
    }
    vigil_model_work *w = NULL;
    vigil_err err = {0};
    check(vigil_model_work_new(m, &w, &err) == VIGIL_OK);
    static float feats[VIGIL_FEATURES_COUNT];
    double *phi = calloc(info.n_inputs + 1, sizeof *phi);
    check(phi != NULL);
    for (int kind = 0; kind < 3; kind++) {
        fill_features(feats, kind, data, size);
        vigil_model_pred p;
        vigil_status st = vigil_model_predict(m, w, feats, &p, phi, &err);
        if (st != VIGIL_OK) {
            check(err.msg[0] != '\0');
            continue;
        }
        if (!isnan(p.margin)) {
            check(p.risk >= 0.0 && p.risk <= 1.0);
        }
        if (isfinite(p.margin)) {
            for (size_t i = 0; i < info.n_inputs; i++) {
                check(!isnan(phi[i]));
            }
        }
        vigil_model_pred q;
        check(vigil_model_predict(m, w, feats, &q, NULL, &err) == VIGIL_OK);
        check(q.margin == p.margin || (isnan(q.margin) && isnan(p.margin)));
        double risk = -1.0;
        check(vigil_model_predict_batch(m, feats, 1, VIGIL_FEATURES_COUNT, &risk, &err) ==
              VIGIL_OK);
        check(risk == q.risk || (isnan(risk) && isnan(q.risk)));
    }
    free(phi);
    vigil_model_work_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vigil_model *sentinel = (vigil_model *)&sentinel;
    vigil_model *m = sentinel;
    vigil_err err = {0};
    vigil_status st = vigil_model_load_text((const char *)data, size, &m, &err);
    if (st != VIGIL_OK) {
        check(m == sentinel);
        check(st > VIGIL_OK && st < VIGIL_STATUS_COUNT && st != VIGIL_ERR_INTERNAL);
        check(err.msg[0] != '\0');
        check(strlen(vigil_status_str(st)) > 0);
        return 0;
    }
    check(m != NULL && m != sentinel);
    score_checks(m, data, size);
    vigil_model_free(m);
    return 0;
}
