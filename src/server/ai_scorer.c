/*
 * ai_scorer.c: vigil_scorer over a model bundle, for `vigil serve --model`.
 * Observation events -> timeline (hours since the first event) -> the shared
 * features -> risk, guard, TreeSHAP -> plain-words explanation JSON.
 */
#include "vigil/ai_scorer.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/features.h"
#include "vigil/model.h"

typedef struct ai_ctx {
    vigil_model *model;
    vigil_model_info info;
    char version[VIGIL_ID_MAX];
} ai_ctx;

static const char *ai_version(void *ctx)
{
    return ((const ai_ctx *)ctx)->version;
}

static void ai_close(void *ctx)
{
    ai_ctx *a = ctx;
    if (a != NULL) {
        vigil_model_free(a->model);
        free(a);
    }
}

static double hours(int64_t t_ms, int64_t t0_ms)
{
    return (double)(t_ms - t0_ms) / 3600000.0;
}

static vigil_status build(const vigil_obs_event *history, size_t n_history,
                          const vigil_obs_event *ev, vigil_timeline *tl, long *out_hour,
                          vigil_err *err)
{
    int64_t t0 = ev->t_ms;
    for (size_t i = 0; i < n_history; i++) {
        t0 = history[i].t_ms < t0 ? history[i].t_ms : t0;
    }
    double age = ev->obs.age_y;
    vigil_status st = vigil_timeline_set_patient(tl, isnan(age) ? NAN : age, -1, err);
    for (size_t i = 0; st == VIGIL_OK && i < n_history; i++) {
        if (history[i].t_ms <= ev->t_ms) {
            st = vigil_timeline_add_obs(tl, hours(history[i].t_ms, t0), &history[i].obs, err);
        }
    }
    if (st == VIGIL_OK) {
        st = vigil_timeline_add_obs(tl, hours(ev->t_ms, t0), &ev->obs, err);
    }
    if (st == VIGIL_OK) {
        st = vigil_timeline_finish(tl, err);
    }
    *out_hour = vigil_timeline_hour_of(hours(ev->t_ms, t0));
    return st;
}

static void explanation(const ai_ctx *a, const float *x, const double *phi,
                        const vigil_model_pred *p, char *out, size_t cap)
{
    vigil_factor up[3], down[3];
    size_t nu = 0, nd = 0;
    char missing[512];
    vigil_model_explain(a->model, x, phi, 3, up, &nu, down, &nd, missing, sizeof missing);
    json_t *o = json_object();
    json_t *ju = json_array(), *jd = json_array();
    for (size_t i = 0; i < nu; i++) {
        json_array_append_new(ju, json_string(up[i].text));
    }
    for (size_t i = 0; i < nd; i++) {
        json_array_append_new(jd, json_string(down[i].text));
    }
    json_object_set_new(o, "status", json_string("scored"));
    json_object_set_new(o, "up", ju);
    json_object_set_new(o, "down", jd);
    json_object_set_new(o, "not_yet_available", json_string(missing));
    json_object_set_new(o, "low_confidence", json_boolean(p->low_confidence));
    json_object_set_new(o, "inputs_out_of_range", json_integer((json_int_t)p->n_out_of_range));
    json_object_set_new(o, "threshold", json_real(a->info.threshold));
    json_object_set_new(o, "warning",
                        json_string("Trained on ICU research data; not validated "
                                    "for clinical use. The AI advises."));
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    snprintf(out, cap, "%s", text != NULL && strlen(text) < cap ? text : "{}");
    free(text);
    json_decref(o);
}

/* Below the documented minimum (REQ FEAT-ENOUGH-DATA) the AI gives no risk:
 * probability 0 with low_confidence set (the server shows "not enough data
 * to score", never a low risk; escalation treats it as no AI opinion). */
static void not_enough(const ai_ctx *a, const char *reason, vigil_ai_score *out)
{
    memset(out, 0, sizeof *out);
    out->risk = 0.0;
    out->prob = 0.0;
    out->low_confidence = true;
    char why[256];
    snprintf(why, sizeof why, "not enough data to score: %s", reason);
    json_t *o = json_pack("{s:s,s:s,s:[],s:[]}", "status", "not-enough-data", "reason", why, "up",
                          "down");
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    snprintf(out->explanation_json, sizeof out->explanation_json, "%s",
             text != NULL ? text : "{}");
    free(text);
    json_decref(o);
    snprintf(out->model_version, sizeof out->model_version, "%s", a->version);
}

static vigil_status ai_score(void *ctx, const vigil_obs_event *history, size_t n_history,
                             const vigil_obs_event *ev, vigil_ai_score *out, vigil_err *err)
{
    ai_ctx *a = ctx;
    vigil_timeline *tl = NULL;
    vigil_model_work *w = NULL;
    size_t nf = vigil_features_count();
    float *x = malloc(sizeof *x * nf);
    double *phi = malloc(sizeof *phi * (a->info.n_inputs + 1));
    vigil_status st = x == NULL || phi == NULL
                          ? vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "ai: out of memory")
                          : vigil_timeline_new(&tl, err);
    long hour = 0;
    if (st == VIGIL_OK) {
        st = build(history, n_history, ev, tl, &hour, err);
    }
    if (st == VIGIL_OK) {
        st = vigil_features_at(tl, hour, x, nf, err);
    }
    if (st == VIGIL_OK) {
        st = vigil_model_work_new(a->model, &w, err);
    }
    vigil_model_pred p;
    char reason[160];
    bool enough = st == VIGIL_OK && vigil_features_enough_data(x, reason, sizeof reason);
    if (st == VIGIL_OK && enough) {
        st = vigil_model_predict(a->model, w, x, &p, phi, err);
    }
    if (st == VIGIL_OK && !enough) {
        not_enough(a, reason, out);
    } else if (st == VIGIL_OK) {
        memset(out, 0, sizeof *out);
        out->risk = p.margin;
        out->prob = p.risk;
        out->low_confidence = p.low_confidence;
        explanation(a, x, phi, &p, out->explanation_json, sizeof out->explanation_json);
        snprintf(out->model_version, sizeof out->model_version, "%s", a->version);
    }
    vigil_model_work_free(w);
    vigil_timeline_free(tl);
    free(x);
    free(phi);
    return st;
}

vigil_status vigil_ai_scorer_open(const char *bundle_path, vigil_scorer *out, vigil_err *err)
{
    ai_ctx *a = calloc(1, sizeof *a);
    if (a == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "ai: out of memory");
    }
    vigil_status st = vigil_model_load(bundle_path, &a->model, err);
    if (st != VIGIL_OK) {
        free(a);
        return st;
    }
    vigil_model_get_info(a->model, &a->info);
    snprintf(a->version, sizeof a->version, "%s@%s", a->info.model_id, a->info.model_version);
    out->ctx = a;
    out->score = ai_score;
    out->version = ai_version;
    out->close = ai_close;
    return VIGIL_OK;
}
