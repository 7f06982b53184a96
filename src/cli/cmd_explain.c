/*
 * cmd_explain.c: `vigil explain`, one patient at one hour: the calibrated AI
 * risk, NEWS2 beside it, and the factors pushing the risk up and down in
 * words a nurse reads, from exact TreeSHAP values.
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vigil/cohort.h"
#include "vigil/features.h"
#include "vigil/model.h"
#include "vigil/news2.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vigil explain --model BUNDLE --data PATH --stay ID [--hour H] [--top K] "
            "[--json]\n"
            "\n"
            "Explain the model's risk for one stay at one hour: the calibrated risk, NEWS2 from\n"
            "the same observations beside it, and the top factors pushing risk up and down\n"
            "(exact TreeSHAP on the log-odds), in plain words.\n"
            "\n"
            "  --model BUNDLE  a model bundle (vigil train)\n"
            "  --data PATH     folder or archive holding the stay\n"
            "  --stay ID       the stay id (file name: p100123, or 2012 RecordID)\n"
            "  --hour H        hour of the stay, within its records (default: its last hour;\n"
            "                  2012: 48); an hour past the last record is refused\n"
            "  --top K         factors each way (default 5)\n"
            "  --json          machine-readable output\n");
}

typedef struct find {
    const char *id;
    vigil_timeline *tl;
    bool found;
    vigil_stay stay;
    vigil_err *err;
} find;

static vigil_status on_stay(const vigil_stay *s, const vigil_meas *m, size_t n, void *ctx)
{
    find *f = ctx;
    if (strcmp(s->id, f->id) != 0) {
        return VIGIL_OK;
    }
    f->found = true;
    f->stay = *s;
    f->stay.sepsis_label = NULL;
    vigil_status st = vigil_cohort_timeline(f->tl, s, m, n, f->err);
    return st == VIGIL_OK ? VIGIL_ERR_CONFLICT : st; /* stop the walk */
}

static void news2_words(const vigil_news2 *n2, char *out, size_t cap)
{
    char missing[128] = "";
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        if (n2->missing & (1u << p)) {
            size_t len = strlen(missing);
            snprintf(missing + len, sizeof missing - len, "%s%s", len > 0 ? ", " : "",
                     vigil_news2_param_name((vigil_news2_param)p));
        }
    }
    if (n2->complete) {
        snprintf(out, cap, "%d, %s risk: %s", n2->total, vigil_news2_risk_name(n2->risk),
                 vigil_news2_response_name(n2->response));
    } else {
        snprintf(out, cap, "at least %d (incomplete: %s not recorded), at least %s risk", n2->total,
                 missing, vigil_news2_risk_name(n2->risk));
    }
}


/* The hour asked for must lie within the stay's records: past the last one
 * the features would describe a patient nobody observed (the 2019 data end
 * when the stay ends) and before the first one there is nothing. The 2012
 * task's own hour 48 is the exception: it is scored with what there is and
 * a stay cut short is warned about below. */
static vigil_status hour_in_stay(const find *f, long hour, const char *stay_id, vigil_err *err)
{
    long first = vigil_timeline_first_hour(f->tl), last = vigil_timeline_last_hour(f->tl);
    if (first == VIGIL_TIMELINE_NO_HOUR) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "stay",
                             "stay %s has no records: nothing to score", stay_id);
    }
    if (f->stay.format == VIGIL_DATA_PN2012 && hour == VIGIL_COHORT_2012_HOUR) {
        return VIGIL_OK;
    }
    if (hour > last) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "hour",
                             "hour %ld is after stay %s's last record (hour %ld): the AI scores "
                             "only the hours its records cover",
                             hour, stay_id, last);
    }
    if (hour < first) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "hour",
                             "hour %ld is before stay %s's first record (hour %ld)", hour, stay_id,
                             first);
    }
    return VIGIL_OK;
}

int vigil_cli_explain(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'}, {"data", required_argument, NULL, 'd'},
        {"stay", required_argument, NULL, 's'},  {"hour", required_argument, NULL, 'H'},
        {"top", required_argument, NULL, 'k'},   {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    const char *model_path = NULL, *data = NULL, *stay_id = NULL;
    long hour = VIGIL_TIMELINE_NO_HOUR;
    long top = 5;
    bool json = false;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'm':
            model_path = optarg;
            break;
        case 'd':
            data = optarg;
            break;
        case 's':
            stay_id = optarg;
            break;
        case 'H':
            hour = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0') {
                fprintf(stderr, "vigil explain: --hour needs a whole number\n");
                return VIGIL_EXIT_USAGE;
            }
            break;
        case 'k':
            top = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || top < 1 || top > 20) {
                fprintf(stderr, "vigil explain: --top needs 1 to 20\n");
                return VIGIL_EXIT_USAGE;
            }
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            usage(stdout);
            return VIGIL_EXIT_OK;
        default:
            fprintf(stderr, "Run 'vigil explain --help' for the options.\n");
            return VIGIL_EXIT_USAGE;
        }
    }
    if (model_path == NULL || data == NULL || stay_id == NULL || optind < argc) {
        fprintf(stderr, "vigil explain: --model, --data and --stay are required\n");
        return VIGIL_EXIT_USAGE;
    }
    vigil_err err = {0};
    vigil_model *m = NULL;
    if (vigil_model_load(model_path, &m, &err) != VIGIL_OK) {
        fprintf(stderr, "vigil explain: %s\n", err.msg);
        return VIGIL_EXIT_DATA;
    }
    vigil_model_info info;
    vigil_model_get_info(m, &info);
    find f = {.id = stay_id, .err = &err};
    int rc = VIGIL_EXIT_OK;
    vigil_status st = vigil_timeline_new(&f.tl, &err);
    if (st == VIGIL_OK) {
        st = vigil_data_foreach(data, NULL, on_stay, &f, NULL, &err);
        if (st == VIGIL_ERR_CONFLICT && f.found) {
            st = VIGIL_OK;
        }
    }
    if (st == VIGIL_OK && !f.found) {
        st = vigil_err_set(&err, VIGIL_ERR_NOT_FOUND, "stay", "stay '%s' is not in %s", stay_id,
                           data);
    }
    if (st == VIGIL_OK && hour == VIGIL_TIMELINE_NO_HOUR) {
        hour = f.stay.format == VIGIL_DATA_PN2012 ? VIGIL_COHORT_2012_HOUR
                                                  : vigil_timeline_last_hour(f.tl);
    }
    if (st == VIGIL_OK) {
        st = hour_in_stay(&f, hour, stay_id, &err);
    }
    size_t nf = vigil_features_count();
    float *x = malloc(sizeof *x * nf);
    double *phi = malloc(sizeof *phi * (info.n_inputs + 1));
    vigil_model_work *w = NULL;
    vigil_model_pred pred = {0};
    vigil_news2 n2 = {0};
    if (st == VIGIL_OK && (x == NULL || phi == NULL)) {
        st = vigil_err_set(&err, VIGIL_ERR_NOMEM, NULL, "out of memory");
    }
    if (st == VIGIL_OK) {
        st = vigil_features_at(f.tl, hour, x, nf, &err);
    }
    if (st == VIGIL_OK) {
        st = vigil_model_work_new(m, &w, &err);
    }
    if (st == VIGIL_OK) {
        st = vigil_model_predict(m, w, x, &pred, phi, &err);
    }
    if (st == VIGIL_OK) {
        st = vigil_timeline_news2(f.tl, hour, &n2, &err);
    }
    if (st != VIGIL_OK) {
        fprintf(stderr, "vigil explain: %s\n", err.msg);
        rc = st == VIGIL_ERR_NOT_FOUND ? VIGIL_EXIT_DATA : VIGIL_EXIT_DATA;
    } else {
        vigil_factor up[20], down[20];
        size_t n_up = 0, n_down = 0;
        char missing[512], reason[160] = "";
        vigil_model_explain(m, x, phi, (size_t)top, up, &n_up, down, &n_down, missing,
                            sizeof missing);
        bool enough = strcmp(info.task, "sepsis2019") != 0 ||
                      vigil_features_enough_data(x, reason, sizeof reason);
        char nw[256];
        news2_words(&n2, nw, sizeof nw);
        bool above = pred.risk >= info.threshold;
        if (json) {
            json_t *o = json_pack("{s:s,s:s,s:I,s:s,s:s,s:f,s:f,s:b,s:b,s:I,s:I,s:b,s:s}", "stay",
                                  stay_id, "set", f.stay.set, "hour", (json_int_t)hour, "model",
                                  info.model_id, "model_version", info.model_version, "risk",
                                  pred.risk, "threshold", info.threshold, "above_threshold", above,
                                  "low_confidence", pred.low_confidence, "inputs_out_of_range",
                                  (json_int_t)pred.n_out_of_range, "news2_total",
                                  (json_int_t)n2.total, "news2_complete", n2.complete, "news2", nw);
            json_t *ju = json_array(), *jd = json_array();
            for (size_t i = 0; i < n_up; i++) {
                json_array_append_new(ju, json_pack("{s:s,s:s,s:f}", "factor", up[i].text, "variable",
                                                    vigil_explain_group_label(up[i].input), "shap",
                                                    up[i].contribution));
            }
            for (size_t i = 0; i < n_down; i++) {
                json_array_append_new(jd,
                                      json_pack("{s:s,s:s,s:f}", "factor", down[i].text, "variable",
                                                vigil_explain_group_label(down[i].input), "shap",
                                                down[i].contribution));
            }
            json_object_set_new(o, "status", json_string(enough ? "scored" : "not-enough-data"));
            if (!enough) {
                json_object_set_new(o, "reason", json_string(reason));
                json_object_set(o, "risk", json_null());
            }
            json_object_set_new(o, "not_yet_available", json_string(missing));
            json_object_set_new(o, "pushing_up", ju);
            json_object_set_new(o, "pushing_down", jd);
            json_object_set_new(o, "warning",
                                json_string("Trained on ICU research data; not "
                                            "validated for clinical use."));
            char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            puts(text != NULL ? text : "{}");
            free(text);
            json_decref(o);
        } else {
            printf("Stay %s (%s), hour %ld\n", stay_id, f.stay.set, hour);
            if (!enough) {
                printf("AI (%s %s): NOT ENOUGH DATA TO SCORE: %s. No risk is shown; what the "
                       "model would say below is for review only.\n",
                       info.model_id, info.model_version, reason);
            }
            printf("AI risk (%s %s): %.1f%%, %s the alert threshold of %.1f%%%s\n", info.model_id,
                   info.model_version, 100.0 * pred.risk, above ? "ABOVE" : "below",
                   100.0 * info.threshold,
                   pred.low_confidence ? " (LOW CONFIDENCE: some inputs outside the training "
                                         "ranges)"
                                       : "");
            if (f.stay.format == VIGIL_DATA_PN2012 &&
                !(f.stay.last_t_h >= (double)VIGIL_COHORT_2012_HOUR - 1.0)) {
                printf("WARNING: this stay's records end at hour %.1f, before hour %d: it is "
                       "scored with what there is (a stay cut short or a file cut off).\n",
                       f.stay.last_t_h, VIGIL_COHORT_2012_HOUR);
            }
            printf("NEWS2 from the same observations: %s\n", nw);
            printf("Pushing the risk up:\n");
            for (size_t i = 0; i < n_up; i++) {
                printf("  + %s\n", up[i].text);
            }
            if (n_up == 0) {
                printf("  (nothing notable)\n");
            }
            printf("Pushing the risk down:\n");
            for (size_t i = 0; i < n_down; i++) {
                printf("  - %s\n", down[i].text);
            }
            if (n_down == 0) {
                printf("  (nothing notable)\n");
            }
            if (missing[0] != '\0') {
                printf("%s.\n", missing);
            }
            printf("The AI advises; NEWS2 escalation stands and people decide. Trained on ICU "
                   "research data; not validated for clinical use.\n");
        }
    }
    vigil_model_work_free(w);
    free(x);
    free(phi);
    vigil_timeline_free(f.tl);
    vigil_model_free(m);
    return rc;
}
