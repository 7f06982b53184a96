/*
 * monitor_cfg.c: the live monitor's configuration from a model bundle, for
 * `vigil serve` and `vigil monitor --db` (docs/server.md "Monitoring"). Not
 * in cli_util.c: vigil-train links that file and never the monitor.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "vigil/model.h"
#include "vigil/vitals.h"

/* The live monitor's inputs: the model's *_last features that are stored
 * vital signs, and the stored vital signs under the bundle's monitor_ranges
 * (the ones a model reads only through other features), renamed to the
 * store's names, with their training ranges;
 * the alert threshold from the bundle (docs/server.md "Monitoring"). */
vigil_status vigil_cli_live_monitor_cfg(const char *bundle_path, vigil_monitor_cfg *cfg,
                                        vigil_err *err)
{
    static const struct {
        const char *feature;
        vigil_news2_param vital; /* named by its store column (vigil/vitals.h) */
    } map[] = {
        {"hr_last", VIGIL_NEWS2_HR},      {"resp_last", VIGIL_NEWS2_RR},
        {"rr_last", VIGIL_NEWS2_RR},      {"spo2_last", VIGIL_NEWS2_SPO2},
        {"o2sat_last", VIGIL_NEWS2_SPO2}, {"temp_last", VIGIL_NEWS2_TEMP},
        {"sbp_last", VIGIL_NEWS2_SBP},
    };
    vigil_model *m = NULL;
    json_error_t je;
    json_t *b = json_load_file(bundle_path, 0, &je);
    if (b == NULL) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, NULL, "%s", je.text);
    }
    vigil_status s = vigil_model_load(bundle_path, &m, err);
    if (s != VIGIL_OK) {
        json_decref(b);
        return s;
    }
    vigil_model_info info;
    vigil_model_get_info(m, &info);
    vigil_monitor_cfg_defaults(cfg);
    cfg->threshold = info.threshold;
    const json_t *ranges = json_object_get(json_object_get(b, "ranges"), "features");
    for (size_t i = 0; i < info.n_inputs; i++) {
        const char *name = vigil_model_input_name(m, i);
        const json_t *r = json_array_get(ranges, i);
        for (size_t k = 0; k < sizeof map / sizeof map[0]; k++) {
            if (strcmp(name, map[k].feature) == 0 && json_is_number(json_object_get(r, "p005")) &&
                cfg->n_inputs < VIGIL_MONITOR_MAX_INPUTS) {
                vigil_monitor_input *in = &cfg->inputs[cfg->n_inputs++];
                snprintf(in->name, sizeof in->name, "%s", vigil_vital_get(map[k].vital)->column);
                in->lo = json_number_value(json_object_get(r, "p005"));
                in->hi = json_number_value(json_object_get(r, "p995"));
            }
        }
    }
    /* a vital the model reads only through other features (feature spec v4:
     * distances from normal) has its raw range under monitor_ranges */
    const json_t *mon = json_object_get(b, "monitor_ranges");
    for (size_t k = 0; k < sizeof map / sizeof map[0]; k++) {
        const json_t *r = json_object_get(mon, map[k].feature);
        bool seen = false;
        for (size_t j = 0; j < cfg->n_inputs; j++) {
            seen = seen || strcmp(cfg->inputs[j].name, vigil_vital_get(map[k].vital)->column) == 0;
        }
        if (!seen && json_is_number(json_object_get(r, "p005")) &&
            json_is_number(json_object_get(r, "p995")) &&
            cfg->n_inputs < VIGIL_MONITOR_MAX_INPUTS) {
            vigil_monitor_input *in = &cfg->inputs[cfg->n_inputs++];
            snprintf(in->name, sizeof in->name, "%s", vigil_vital_get(map[k].vital)->column);
            in->lo = json_number_value(json_object_get(r, "p005"));
            in->hi = json_number_value(json_object_get(r, "p995"));
        }
    }
    vigil_model_free(m);
    json_decref(b);
    return VIGIL_OK;
}
