/*
 * cmd_adapt.c: `vigil adapt`, local adaptation of a model bundle to one
 * hospital. Thresholds and calibration do not travel between hospitals; the
 * trees do better. From a local sample of the hospital's own patients with
 * outcomes (a share of the stays, chosen by a hash of the stay id), refit the
 * Platt calibration on the model's margin and choose the alert threshold for
 * a stated sensitivity or alert budget; write a new bundle whose
 * `local_adaptation` member records what was done; and report, on the
 * hospital's other stays (never used for the fit), sensitivity, alert rate,
 * calibration and AUROC before and after (docs/model.md, section 12).
 *
 * Does not: retrain the trees, change the inputs or the range guard, or
 * read the stays it reports on while fitting.
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vigil/calibrate.h"
#include "vigil/cohort.h"
#include "vigil/eval.h"
#include "vigil/features.h"
#include "vigil/model.h"
#include "vigil/report.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vigil adapt --model BUNDLE --data PATH --out BUNDLE\n"
            "                   (--sensitivity S | --alert-rate R) [--sample-frac F] [--seed N]\n"
            "                   [--max-stays N] [--outcomes FILE]\n"
            "\n"
            "Adapt a model bundle to a hospital from a local sample of its own patients with\n"
            "outcomes: refit the calibration (Platt on the margin) and choose the alert\n"
            "threshold there, then report on the hospital's other stays, never used for the fit.\n"
            "\n"
            "  --model BUNDLE     the bundle to adapt (its trees and inputs are kept)\n"
            "  --data PATH        the hospital's stays with outcomes (folder or archive)\n"
            "  --out BUNDLE       the adapted bundle; its local_adaptation member records it\n"
            "  --sensitivity S    choose the threshold that reaches sensitivity S on the sample\n"
            "  --alert-rate R     or the one at which a share R of the sample's rows alert\n"
            "  --sample-frac F    share of the stays in the local sample (default 0.2)\n"
            "  --seed N           the sample's hash seed (default 1)\n"
            "  --max-stays N      read only the first N stays (for a quick look)\n"
            "  --outcomes FILE    a PhysioNet 2012 Outcomes file\n"
            "\n"
            "Trained on ICU research data; an adapted bundle is not validated for clinical use.\n");
}

typedef struct adapt_opts {
    const char *model, *data, *out, *outcomes;
    double sensitivity, alert_rate, frac;
    int seed;
    size_t max_stays;
} adapt_opts;

/* Which stays are in the local sample: FNV-1a of "seed:id", mixed, below frac. */
static uint8_t *sample_of(const vigil_cohort *c, const adapt_opts *o)
{
    uint8_t *in = malloc(c->n_stays + 1);
    for (size_t k = 0; in != NULL && k < c->n_stays; k++) {
        char key[VIGIL_DATA_ID_MAX + 16];
        int n = snprintf(key, sizeof key, "%d:%s", o->seed, c->stays[k].id);
        uint64_t h = vigil_fnv1a64(key, n > 0 ? (size_t)n : 0);
        h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
        h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
        h ^= h >> 31;
        in[k] = (double)(h >> 11) / 9007199254740992.0 < o->frac;
    }
    return in;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Figures on one cohort for one risk vector at threshold thr. */
typedef struct figs {
    double auroc, sens, alert_rate, cal_intercept, cal_slope;
} figs;

static vigil_status figures(const vigil_cohort *c, const double *risk, double thr, figs *out,
                            vigil_err *err)
{
    vigil_report *rep = calloc(1, sizeof *rep);
    if (rep == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
    }
    vigil_status st = vigil_report_score(c, risk, "model", true, thr, rep, err);
    if (st == VIGIL_OK) {
        const vigil_eval_summary *s = &rep->overall;
        size_t n_alert = 0;
        for (size_t i = 0; i < c->n_rows; i++) {
            n_alert += risk[i] >= thr;
        }
        out->auroc = s->has_roc ? s->auroc.auc : NAN;
        out->sens = s->at_threshold.has_sens ? s->at_threshold.sens : NAN;
        out->alert_rate = c->n_rows > 0 ? (double)n_alert / (double)c->n_rows : NAN;
        out->cal_intercept = s->has_calibration ? s->cal.intercept : NAN;
        out->cal_slope = s->has_calibration ? s->cal.slope : NAN;
    }
    free(rep);
    return st;
}

static json_t *figs_json(const figs *f)
{
    return json_pack("{s:f,s:f,s:f,s:f,s:f}", "auroc", f->auroc, "sensitivity", f->sens,
                     "alert_rate", f->alert_rate, "calibration_intercept", f->cal_intercept,
                     "calibration_slope", f->cal_slope);
}

static void print_figs(const char *what, const figs *f, double thr)
{
    printf("  %-34s threshold %.4f: sensitivity %.3f, alert rate %.3f, calibration intercept "
           "%.3f, slope %.3f, AUROC %.3f\n",
           what, thr, f->sens, f->alert_rate, f->cal_intercept, f->cal_slope, f->auroc);
}

/* The work, once the bundle and the data are loaded. */
typedef struct adapt_run {
    const adapt_opts *o;
    const vigil_model *m;
    vigil_model_info info;
    vigil_cohort *c, *sample, *rest;
    double *margin_s, *margin_r; /* per row of sample / rest */
    vigil_calib *calib;
    double thr, thr_news2; /* alert; NEWS2 >= 5's sensitivity on the sample (2019), or NaN */
    figs before, after, on_sample;
} adapt_run;

static vigil_status margins(const vigil_model *m, const vigil_cohort *c, double **out,
                           vigil_err *err)
{
    vigil_model_work *w = NULL;
    *out = malloc(sizeof **out * (c->n_rows + 1));
    vigil_status st = *out == NULL ? vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory")
                                   : vigil_model_work_new(m, &w, err);
    for (size_t i = 0; st == VIGIL_OK && i < c->n_rows; i++) {
        vigil_model_pred p;
        st = vigil_model_predict(m, w, &c->x[i * c->n_feat], &p, NULL, err);
        (*out)[i] = p.margin;
    }
    vigil_model_work_free(w);
    return st;
}

static vigil_status fit(adapt_run *r, vigil_err *err)
{
    size_t n = r->sample->n_rows;
    int *lab = malloc(sizeof *lab * (n + 1));
    double *risk = malloc(sizeof *risk * (n + 1));
    vigil_status st = lab == NULL || risk == NULL
                          ? vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory")
                          : VIGIL_OK;
    for (size_t i = 0; st == VIGIL_OK && i < n; i++) {
        lab[i] = r->sample->label[i];
    }
    if (st == VIGIL_OK) {
        st = vigil_calib_fit_platt(r->margin_s, lab, n, false, &r->calib, err);
    }
    for (size_t i = 0; st == VIGIL_OK && i < n; i++) {
        risk[i] = vigil_calib_apply(r->calib, r->margin_s[i]);
    }
    if (st == VIGIL_OK && !isnan(r->o->sensitivity)) {
        vigil_eval_confusion cm;
        st = vigil_eval_threshold_for_sensitivity(risk, r->sample->label, n, r->o->sensitivity,
                                                  &cm, err);
        r->thr = cm.threshold;
    } else if (st == VIGIL_OK) {
        double *sorted = malloc(sizeof *sorted * (n + 1));
        if (sorted == NULL) {
            st = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
        } else {
            memcpy(sorted, risk, sizeof *sorted * n);
            qsort(sorted, n, sizeof *sorted, cmp_d);
            size_t k = (size_t)floor((1.0 - r->o->alert_rate) * (double)n);
            r->thr = sorted[k < n ? k : n - 1];
            free(sorted);
        }
    }
    if (st == VIGIL_OK) {
        st = figures(r->sample, risk, r->thr, &r->on_sample, err);
    }
    r->thr_news2 = NAN;
    if (st == VIGIL_OK && r->c->format == VIGIL_DATA_PN2019) {
        /* the risk at which the adapted model reaches NEWS2 >= 5's sensitivity on the sample */
        double *n2 = malloc(sizeof *n2 * (n + 1));
        vigil_eval_confusion cn, cm;
        st = n2 == NULL ? vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory") : VIGIL_OK;
        for (size_t i = 0; st == VIGIL_OK && i < n; i++) {
            n2[i] = r->sample->news2[i];
        }
        if (st == VIGIL_OK) {
            st = vigil_eval_at_threshold(n2, r->sample->label, n, 5.0, &cn, err);
        }
        if (st == VIGIL_OK && cn.has_sens && cn.sens > 0) {
            st = vigil_eval_threshold_for_sensitivity(risk, r->sample->label, n, cn.sens, &cm,
                                                      err);
            r->thr_news2 = cm.threshold;
        }
        free(n2);
    }
    free(lab);
    free(risk);
    return st;
}

static vigil_status report_rest(adapt_run *r, vigil_err *err)
{
    size_t n = r->rest->n_rows;
    double *before = malloc(sizeof *before * (n + 1)), *after = malloc(sizeof *after * (n + 1));
    vigil_status st = before == NULL || after == NULL
                          ? vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory")
                          : vigil_model_predict_batch(r->m, r->rest->x, n, r->rest->n_feat, before,
                                                      err);
    for (size_t i = 0; st == VIGIL_OK && i < n; i++) {
        after[i] = vigil_calib_apply(r->calib, r->margin_r[i]);
    }
    if (st == VIGIL_OK) {
        st = figures(r->rest, before, r->info.threshold, &r->before, err);
    }
    if (st == VIGIL_OK) {
        st = figures(r->rest, after, r->thr, &r->after, err);
    }
    free(before);
    free(after);
    return st;
}

static int write_out(const adapt_run *r)
{
    json_error_t je;
    json_t *b = json_load_file(r->o->model, JSON_REJECT_DUPLICATES, &je);
    char *cal = NULL;
    if (b == NULL || vigil_calib_to_json(r->calib, &cal, NULL) != VIGIL_OK) {
        fprintf(stderr, "vigil adapt: cannot rewrite %s\n", r->o->model);
        json_decref(b);
        return VIGIL_EXIT_IO;
    }
    json_t *thr = json_object_get(b, "thresholds");
    json_t *old_thr = json_incref(json_object_get(thr, "alert"));
    json_t *old_cal = json_incref(json_object_get(b, "calibration"));
    char rule[160];
    if (!isnan(r->o->sensitivity)) {
        snprintf(rule, sizeof rule, "sensitivity %.3f on the local sample (vigil adapt)",
                 r->o->sensitivity);
    } else {
        snprintf(rule, sizeof rule, "alert rate %.3f of rows on the local sample (vigil adapt)",
                 r->o->alert_rate);
    }
    json_object_set_new(b, "calibration", json_loads(cal, 0, NULL));
    json_object_set_new(thr, "alert", json_real(r->thr));
    json_object_set_new(thr, "alert_rule", json_string(rule));
    json_object_del(thr, "news2_matched");
    json_object_del(thr, "news2_matched_rule");
    if (!isnan(r->thr_news2)) {
        json_object_set_new(thr, "news2_matched", json_real(r->thr_news2));
        json_object_set_new(thr, "news2_matched_rule",
                            json_string("sensitivity of NEWS2 >= 5 on the local sample "
                                        "(vigil adapt)"));
    }
    char version[96];
    snprintf(version, sizeof version, "%s+local",
             json_string_value(json_object_get(b, "model_version")));
    json_object_set_new(b, "model_version", json_string(version));
    size_t n_events = 0;
    for (size_t k = 0; k < r->sample->n_stays; k++) {
        n_events += r->c->format == VIGIL_DATA_PN2019 ? r->sample->stays[k].sepsis
                                                      : r->sample->stays[k].died == 1;
    }
    json_t *la = json_pack(
        "{s:s,s:f,s:i,s:I,s:I,s:I,s:s,s:o,s:o,s:o,s:{s:I,s:I,s:o,s:o}}", "data", r->o->data,
        "sample_frac", r->o->frac, "seed", r->o->seed, "sample_stays",
        (json_int_t)r->sample->n_stays, "sample_rows", (json_int_t)r->sample->n_rows,
        "sample_event_stays", (json_int_t)n_events, "threshold_rule", rule, "threshold_before",
        old_thr != NULL ? old_thr : json_null(), "calibration_before",
        old_cal != NULL ? old_cal : json_null(), "on_sample", figs_json(&r->on_sample),
        "rest_of_the_data", "stays", (json_int_t)r->rest->n_stays, "rows",
        (json_int_t)r->rest->n_rows, "before", figs_json(&r->before), "after",
        figs_json(&r->after));
    json_object_set_new(b, "local_adaptation", la);
    json_t *card = json_object_get(b, "model_card");
    json_t *lim = json_object_get(card, "limitations");
    if (json_is_array(lim)) {
        json_array_append_new(lim, json_string("Locally adapted (vigil adapt): calibration and "
                                               "threshold refitted on a sample of this "
                                               "hospital's patients; see local_adaptation."));
    }
    free(cal);
    int rc = json_dump_file(b, r->o->out, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0
                 ? VIGIL_EXIT_OK
                 : VIGIL_EXIT_IO;
    if (rc != VIGIL_EXIT_OK) {
        fprintf(stderr, "vigil adapt: cannot write %s\n", r->o->out);
    }
    json_decref(b);
    return rc;
}

static int parse(int argc, char **argv, adapt_opts *o)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'M'},   {"data", required_argument, NULL, 'd'},
        {"out", required_argument, NULL, 'O'},     {"sensitivity", required_argument, NULL, 's'},
        {"alert-rate", required_argument, NULL, 'a'}, {"sample-frac", required_argument, NULL, 'f'},
        {"seed", required_argument, NULL, 'S'},    {"max-stays", required_argument, NULL, 'm'},
        {"outcomes", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (adapt_opts){.sensitivity = NAN, .alert_rate = NAN, .frac = 0.2, .seed = 1};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'M':
            o->model = optarg;
            break;
        case 'd':
            o->data = optarg;
            break;
        case 'O':
            o->out = optarg;
            break;
        case 'o':
            o->outcomes = optarg;
            break;
        case 's':
        case 'a':
        case 'f': {
            double v = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || !(v > 0.0 && v < 1.0)) {
                fprintf(stderr, "vigil adapt: --%s needs a number between 0 and 1\n",
                        c == 's' ? "sensitivity" : c == 'a' ? "alert-rate" : "sample-frac");
                return VIGIL_EXIT_USAGE;
            }
            *(c == 's' ? &o->sensitivity : c == 'a' ? &o->alert_rate : &o->frac) = v;
            break;
        }
        case 'S':
        case 'm': {
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || v < 0 || v > 1000000000L) {
                fprintf(stderr, "vigil adapt: --%s needs a whole number\n",
                        c == 'S' ? "seed" : "max-stays");
                return VIGIL_EXIT_USAGE;
            }
            if (c == 'S') {
                o->seed = (int)v;
            } else {
                o->max_stays = (size_t)v;
            }
            break;
        }
        case 'h':
            usage(stdout);
            return -1;
        default:
            usage(stderr);
            return VIGIL_EXIT_USAGE;
        }
    }
    if (o->model == NULL || o->data == NULL || o->out == NULL ||
        isnan(o->sensitivity) == isnan(o->alert_rate)) {
        fprintf(stderr, "vigil adapt: --model, --data, --out and one of --sensitivity or "
                        "--alert-rate are required\n");
        return VIGIL_EXIT_USAGE;
    }
    return VIGIL_EXIT_OK;
}

int vigil_cli_adapt(int argc, char **argv)
{
    adapt_opts o;
    int rc = parse(argc, argv, &o);
    if (rc != VIGIL_EXIT_OK) {
        return rc < 0 ? VIGIL_EXIT_OK : rc;
    }
    adapt_run r = {.o = &o};
    vigil_model *m = NULL;
    vigil_err err = {0};
    vigil_status st = vigil_model_load(o.model, &m, &err);
    if (st == VIGIL_OK) {
        r.m = m;
        vigil_model_get_info(m, &r.info);
        vigil_cohort_opts co = {
            .outcomes_path = o.outcomes, .with_features = true, .max_stays = o.max_stays};
        vigil_cli_progress("loading %s", o.data);
        st = vigil_cohort_load(o.data, &co, &r.c, &err);
        vigil_cli_progress_done();
    }
    bool sepsis = st == VIGIL_OK && strcmp(r.info.task, "sepsis2019") == 0;
    if (st == VIGIL_OK && r.c->format != (sepsis ? VIGIL_DATA_PN2019 : VIGIL_DATA_PN2012)) {
        st = vigil_err_set(&err, VIGIL_ERR_MISMATCH, "data", "the model's task is %s; %s is other data",
                           r.info.task, o.data);
    }
    uint8_t *in = NULL, *out = NULL;
    if (st == VIGIL_OK) {
        in = sample_of(r.c, &o);
        out = malloc(r.c->n_stays + 1);
        st = in == NULL || out == NULL ? vigil_err_set(&err, VIGIL_ERR_NOMEM, NULL, "out of memory")
                                       : VIGIL_OK;
    }
    for (size_t k = 0; st == VIGIL_OK && k < r.c->n_stays; k++) {
        out[k] = !in[k];
    }
    if (st == VIGIL_OK) {
        st = vigil_cohort_subset(r.c, in, &r.sample, NULL, &err);
    }
    if (st == VIGIL_OK) {
        st = vigil_cohort_subset(r.c, out, &r.rest, NULL, &err);
    }
    if (st == VIGIL_OK) {
        st = margins(m, r.sample, &r.margin_s, &err);
    }
    if (st == VIGIL_OK) {
        st = margins(m, r.rest, &r.margin_r, &err);
    }
    if (st == VIGIL_OK) {
        st = fit(&r, &err);
    }
    if (st == VIGIL_OK) {
        st = report_rest(&r, &err);
    }
    if (st != VIGIL_OK) {
        fprintf(stderr, "vigil adapt: %s\n", err.msg);
        rc = err.status == VIGIL_ERR_IO ? VIGIL_EXIT_IO : VIGIL_EXIT_DATA;
    } else {
        printf("vigil adapt: %s %s on %s: local sample %zu stays (%.0f%%, seed %d), %zu rows; "
               "reported on the other %zu stays, %zu rows\n",
               r.info.model_id, r.info.model_version, o.data, r.sample->n_stays, 100.0 * o.frac,
               o.seed, r.sample->n_rows, r.rest->n_stays, r.rest->n_rows);
        if (!isnan(o.sensitivity)) {
            printf("  asked for: sensitivity %.3f\n", o.sensitivity);
        } else {
            printf("  asked for: alert rate %.3f of rows\n", o.alert_rate);
        }
        print_figs("local sample (fitted here)", &r.on_sample, r.thr);
        print_figs("other stays, bundle as shipped", &r.before, r.info.threshold);
        print_figs("other stays, adapted", &r.after, r.thr);
        rc = write_out(&r);
        if (rc == VIGIL_EXIT_OK) {
            printf("  wrote %s (trained on ICU research data; not validated for clinical use)\n",
                   o.out);
        }
    }
    (void)sepsis;
    free(in);
    free(out);
    free(r.margin_s);
    free(r.margin_r);
    vigil_calib_free(r.calib);
    vigil_cohort_free(r.c);
    vigil_cohort_free(r.sample);
    vigil_cohort_free(r.rest);
    vigil_model_free(m);
    return rc;
}
