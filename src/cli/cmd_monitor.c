/*
 * cmd_monitor.c: `vigil monitor`, the live-monitoring alarms of issue 14
 * replayed on research data: the stays of a data set, hour by hour, laid
 * end to end onto simulated ward days (--rows-per-day hourly rows a day),
 * optionally with a feed fault injected from a given day (a unit change in
 * one input, --drift; a calibration drift of the model's odds, --odds).
 * Per day it checks, against control limits (vigil/validation.h):
 *  - input drift: per measured model input (the *_last features), the share
 *    of values outside the bundle's training range [p005, p995] on a
 *    p-chart whose reference is the larger of the training share (1%) and
 *    the share over the first --baseline-days days (the site's own phase I);
 *  - alert rate: the share of hours with risk >= the bundle's threshold,
 *    on a p-chart against the baseline days;
 *  - calibration: observed events against the expected (sum of risk) over
 *    the last 7 days, the expected rescaled by the baseline's O:E, Poisson
 *    limits in both directions;
 * and reports the 7-day rolling AUROC. Alarms from day --baseline-days on.
 * Phases: parse options, load and inject, score, check per day, print.
 * What it does not do: run inside `vigil serve` (see docs/eval.md, "Live
 * monitoring": not done).
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vigil/cohort.h"
#include "vigil/model.h"
#include "vigil/validation.h"

#define MAX_MON 32
#define WINDOW_DAYS 7

typedef struct mopts {
    const char *model, *data;
    size_t max_stays, rows_per_day, baseline_days;
    const char *drift_input;
    double drift_scale, drift_offset;
    long drift_day;
    double odds;
    long odds_day;
    bool json;
} mopts;

typedef struct mon_input {
    char name[64];
    size_t col;
    double lo, hi;
    double p0, sigma; /* reference rate and Laney's sigma_z from the baseline */
} mon_input;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vigil monitor --model BUNDLE --data PATH [--max-stays N]\n"
            "                     [--rows-per-day N] [--baseline-days N]\n"
            "                     [--drift INPUT:SCALE:OFFSET:DAY] [--odds FACTOR:DAY] [--json]\n"
            "\n"
            "Replay research data as simulated ward days through vigil's monitoring\n"
            "alarms: input drift against the bundle's training ranges, the alert rate,\n"
            "calibration (observed:expected over 7 days) and the rolling AUROC.\n"
            "\n"
            "  --rows-per-day N     hourly rows per simulated day (default 600: 25 beds)\n"
            "  --baseline-days N    days that set the site's reference (default 14)\n"
            "  --drift I:S:O:D      from day D, input I (a model input such as\n"
            "                       temp_last) reads value * S + O (a unit change)\n"
            "  --odds F:D           from day D, the model's odds are multiplied by F\n"
            "  --json               machine-readable output\n");
}

static bool parse_drift(const char *s, mopts *o)
{
    static char name[64];
    const char *c = strchr(s, ':');
    if (c == NULL || (size_t)(c - s) >= sizeof name) {
        return false;
    }
    memcpy(name, s, (size_t)(c - s));
    name[c - s] = '\0';
    char *end = NULL;
    o->drift_scale = strtod(c + 1, &end);
    if (*end != ':') {
        return false;
    }
    o->drift_offset = strtod(end + 1, &end);
    if (*end != ':') {
        return false;
    }
    o->drift_day = strtol(end + 1, &end, 10);
    o->drift_input = name;
    return *end == '\0' && o->drift_day >= 0 && isfinite(o->drift_scale) &&
           isfinite(o->drift_offset);
}

static bool parse_size(const char *s, size_t *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v <= 0) {
        return false;
    }
    *out = (size_t)v;
    return true;
}

static int parse(int argc, char **argv, mopts *o)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'M'},
        {"data", required_argument, NULL, 'd'},
        {"max-stays", required_argument, NULL, 'm'},
        {"rows-per-day", required_argument, NULL, 'r'},
        {"baseline-days", required_argument, NULL, 'b'},
        {"drift", required_argument, NULL, 'D'},
        {"odds", required_argument, NULL, 'O'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (mopts){
        .rows_per_day = 600, .baseline_days = 14, .odds = 1.0, .drift_day = -1, .odds_day = -1};
    optind = 1;
    int c;
    bool ok = true;
    while (ok && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'M':
            o->model = optarg;
            break;
        case 'd':
            o->data = optarg;
            break;
        case 'm':
            ok = parse_size(optarg, &o->max_stays);
            break;
        case 'r':
            ok = parse_size(optarg, &o->rows_per_day);
            break;
        case 'b':
            ok = parse_size(optarg, &o->baseline_days);
            break;
        case 'D':
            ok = parse_drift(optarg, o);
            break;
        case 'O':
            o->odds = strtod(optarg, &end);
            ok = *end == ':' && o->odds > 0.0 && isfinite(o->odds);
            if (ok) {
                o->odds_day = strtol(end + 1, &end, 10);
                ok = *end == '\0' && o->odds_day >= 0;
            }
            break;
        case 'j':
            o->json = true;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            ok = false;
        }
    }
    if (!ok || optind < argc || o->model == NULL || o->data == NULL) {
        fprintf(stderr, "vigil monitor: bad or missing options (--model and --data are needed); "
                        "run 'vigil monitor --help'\n");
        return VIGIL_EXIT_USAGE;
    }
    return VIGIL_EXIT_OK;
}

/* The measured inputs to watch: the model's *_last features, with their
 * training ranges from the bundle. */
static size_t monitored(const vigil_model *m, const json_t *bundle, mon_input *out)
{
    vigil_model_info info;
    vigil_model_get_info(m, &info);
    const json_t *ranges = json_object_get(json_object_get(bundle, "ranges"), "features");
    size_t n = 0;
    for (size_t i = 0; i < info.n_inputs && n < MAX_MON; i++) {
        const char *name = vigil_model_input_name(m, i);
        size_t len = strlen(name);
        const json_t *r = json_array_get(ranges, i);
        double lo = json_number_value(json_object_get(r, "p005"));
        double hi = json_number_value(json_object_get(r, "p995"));
        if (len < 5 || strcmp(name + len - 5, "_last") != 0 ||
            !json_is_number(json_object_get(r, "p005"))) {
            continue;
        }
        mon_input *mi = &out[n++];
        snprintf(mi->name, sizeof mi->name, "%s", name);
        mi->col = vigil_model_input_feature(m, i);
        mi->lo = lo;
        mi->hi = hi;
    }
    return n;
}

/* Counts of one input on rows [r0, r1): present values and those outside range. */
static void count_input(const vigil_cohort *c, const mon_input *mi, size_t r0, size_t r1, size_t *n,
                        size_t *n_out)
{
    *n = *n_out = 0;
    for (size_t r = r0; r < r1; r++) {
        float v = c->x[r * c->n_feat + mi->col];
        if (!isnan(v)) {
            (*n)++;
            *n_out += v < mi->lo || v > mi->hi;
        }
    }
}

typedef struct totals {
    size_t alerts, events;
    double expected;
} totals;

static totals window_totals(const vigil_cohort *c, const double *risk, double thr, size_t r0,
                            size_t r1)
{
    totals t = {0};
    for (size_t r = r0; r < r1; r++) {
        t.alerts += risk[r] >= thr;
        t.events += c->label[r];
        t.expected += risk[r];
    }
    return t;
}

typedef struct summary {
    size_t input_alarm_days, alert_alarm_days, calib_alarm_days;
    long first_input_alarm, first_alert_alarm, first_calib_alarm;
} summary;

/* The site's reference from the baseline days. */
typedef struct reference {
    double alert_p0, alert_sigma;
    double oe_base, oe_sigma; /* expected is multiplied by oe_base */
} reference;

static json_t *day_json(const mopts *o, const vigil_cohort *c, const double *risk, double thr,
                        mon_input *mi, size_t n_mi, size_t day, const reference *ref, summary *sum)
{
    size_t rpd = o->rows_per_day, r0 = day * rpd, r1 = r0 + rpd;
    json_t *d = json_object();
    json_object_set_new(d, "day", json_integer((json_int_t)day));
    bool monitoring = day >= o->baseline_days;
    json_t *alarms = json_array();
    /* 0.1% a day for the inputs together (Bonferroni) */
    double z_input = vigil_monitor_z_upper(VIGIL_MONITOR_ALPHA / (double)n_mi);
    for (size_t k = 0; k < n_mi; k++) {
        size_t n, n_out;
        count_input(c, &mi[k], r0, r1, &n, &n_out);
        double lim;
        bool alarm;
        vigil_monitor_pchart(n_out, n, mi[k].p0, z_input, mi[k].sigma, &lim, &alarm);
        if (monitoring && alarm) {
            json_array_append_new(alarms,
                                  json_pack("{s:s,s:f,s:f}", "input", mi[k].name, "out_of_range",
                                            (double)n_out / (double)n, "limit", lim));
        }
    }
    size_t n_alarm = json_array_size(alarms);
    json_object_set_new(d, "input_alarms", alarms);
    totals t = window_totals(c, risk, thr, r0, r1);
    double lim;
    bool a_alarm, c_alarm = false;
    vigil_monitor_pchart(t.alerts, rpd, ref->alert_p0, VIGIL_MONITOR_Z, ref->alert_sigma, &lim,
                         &a_alarm);
    a_alarm = a_alarm && monitoring;
    json_object_set_new(d, "alert_rate", json_real((double)t.alerts / (double)rpd));
    json_object_set_new(d, "alert_rate_limit", json_real(lim));
    json_object_set_new(d, "alert_alarm", json_boolean(a_alarm));
    if (day + 1 >= WINDOW_DAYS) {
        size_t w0 = (day + 1 - WINDOW_DAYS) * rpd;
        totals w = window_totals(c, risk, thr, w0, r1);
        double oe;
        vigil_monitor_oe(w.events, w.expected * ref->oe_base, VIGIL_MONITOR_Z, ref->oe_sigma, &oe,
                         &c_alarm);
        c_alarm = c_alarm && monitoring;
        json_object_set_new(d, "oe_7d_vs_baseline", json_real(oe));
        double auc = NAN;
        uint8_t *y = c->label + w0;
        bool has = vigil_eval_auroc(risk + w0, y, r1 - w0, &auc, NULL) == VIGIL_OK;
        json_object_set_new(d, "auroc_7d", has ? json_real(auc) : json_null());
    }
    json_object_set_new(d, "calibration_alarm", json_boolean(c_alarm));
    long dl = (long)day;
    if (n_alarm > 0) {
        sum->input_alarm_days++;
        sum->first_input_alarm = sum->first_input_alarm < 0 ? dl : sum->first_input_alarm;
    }
    if (a_alarm) {
        sum->alert_alarm_days++;
        sum->first_alert_alarm = sum->first_alert_alarm < 0 ? dl : sum->first_alert_alarm;
    }
    if (c_alarm) {
        sum->calib_alarm_days++;
        sum->first_calib_alarm = sum->first_calib_alarm < 0 ? dl : sum->first_calib_alarm;
    }
    return d;
}

/* Inject the requested faults into x and risk (after scoring). */
static int inject_drift(const mopts *o, const vigil_model *m, vigil_cohort *c)
{
    if (o->drift_input == NULL) {
        return VIGIL_EXIT_OK;
    }
    vigil_model_info info;
    vigil_model_get_info(m, &info);
    size_t col = SIZE_MAX;
    for (size_t i = 0; i < info.n_inputs; i++) {
        if (strcmp(vigil_model_input_name(m, i), o->drift_input) == 0) {
            col = vigil_model_input_feature(m, i);
        }
    }
    if (col == SIZE_MAX) {
        fprintf(stderr, "vigil monitor: --drift: %s is not an input of the model\n",
                o->drift_input);
        return VIGIL_EXIT_USAGE;
    }
    for (size_t r = (size_t)o->drift_day * o->rows_per_day; r < c->n_rows; r++) {
        float *v = &c->x[r * c->n_feat + col];
        if (!isnan(*v)) {
            *v = (float)(*v * o->drift_scale + o->drift_offset);
        }
    }
    return VIGIL_EXIT_OK;
}

static void inject_odds(const mopts *o, const vigil_cohort *c, double *risk)
{
    for (size_t r = o->odds_day >= 0 ? (size_t)o->odds_day * o->rows_per_day : c->n_rows;
         r < c->n_rows; r++) {
        double p = risk[r], od = p / (1.0 - p) * o->odds;
        risk[r] = p >= 1.0 ? 1.0 : od / (1.0 + od);
    }
}

/* Reference rates from the baseline days, with their day-to-day spread. */
static void baselines(const mopts *o, const vigil_cohort *c, const double *risk, double thr,
                      mon_input *mi, size_t n_mi, reference *ref)
{
    size_t bd = o->baseline_days, rpd = o->rows_per_day, r1 = bd * rpd;
    size_t *k = calloc(bd, sizeof *k), *n = calloc(bd, sizeof *n);
    *ref = (reference){0.5, 1.0, 1.0, 1.0};
    if (k == NULL || n == NULL) {
        free(k);
        free(n);
        return;
    }
    for (size_t m = 0; m < n_mi; m++) {
        size_t sk = 0, sn = 0;
        for (size_t d = 0; d < bd; d++) {
            count_input(c, &mi[m], d * rpd, (d + 1) * rpd, &n[d], &k[d]);
            sk += k[d];
            sn += n[d];
        }
        mi[m].p0 = fmax(0.01, sn > 0 ? (double)sk / (double)sn : 0.0);
        mi[m].sigma = vigil_monitor_laney_sigma(k, n, bd, mi[m].p0);
    }
    totals t = window_totals(c, risk, thr, 0, r1);
    ref->alert_p0 = fmin(0.999, fmax(1.0 / (double)r1, (double)t.alerts / (double)r1));
    ref->oe_base = t.expected > 0 && t.events > 0 ? (double)t.events / t.expected : 1.0;
    for (size_t d = 0; d < bd; d++) {
        n[d] = rpd;
        k[d] = window_totals(c, risk, thr, d * rpd, (d + 1) * rpd).alerts;
    }
    ref->alert_sigma = vigil_monitor_laney_sigma(k, n, bd, ref->alert_p0);
    /* calibration: the mean moving range of the daily standardised O - E */
    double prev = 0, sum_mr = 0;
    for (size_t d = 0; d < bd; d++) {
        totals w = window_totals(c, risk, thr, d * rpd, (d + 1) * rpd);
        double e = w.expected * ref->oe_base;
        double z = e > 0 ? ((double)w.events - e) / sqrt(e) : 0.0;
        sum_mr += d > 0 ? fabs(z - prev) : 0.0;
        prev = z;
    }
    ref->oe_sigma = bd > 1 ? fmax(1.0, sum_mr / (double)(bd - 1) / 1.128) : 1.0;
    free(k);
    free(n);
}

static int run(const mopts *o, const vigil_model *m, const json_t *bundle, vigil_cohort *c)
{
    vigil_model_info info;
    vigil_model_get_info(m, &info);
    mon_input mi[MAX_MON];
    size_t n_mi = monitored(m, bundle, mi);
    size_t n_days = c->n_rows / o->rows_per_day;
    if (n_days <= o->baseline_days || n_mi == 0) {
        fprintf(stderr,
                "vigil monitor: %zu days of data (more than %zu baseline days needed) "
                "and %zu monitored inputs\n",
                n_days, o->baseline_days, n_mi);
        return VIGIL_EXIT_DATA;
    }
    int rc = inject_drift(o, m, c);
    double *risk = malloc(sizeof *risk * c->n_rows);
    vigil_err err = {0};
    if (rc == VIGIL_EXIT_OK &&
        (risk == NULL ||
         vigil_model_predict_batch(m, c->x, c->n_rows, c->n_feat, risk, &err) != VIGIL_OK)) {
        fprintf(stderr, "vigil monitor: scoring: %s\n", risk == NULL ? "out of memory" : err.msg);
        rc = VIGIL_EXIT_DATA;
    }
    if (rc != VIGIL_EXIT_OK) {
        free(risk);
        return rc;
    }
    inject_odds(o, c, risk);
    reference ref;
    baselines(o, c, risk, info.threshold, mi, n_mi, &ref);
    summary sum = {.first_input_alarm = -1, .first_alert_alarm = -1, .first_calib_alarm = -1};
    json_t *days = json_array();
    for (size_t d = 0; d < n_days; d++) {
        json_array_append_new(days, day_json(o, c, risk, info.threshold, mi, n_mi, d, &ref, &sum));
    }
    json_t *out = json_pack(
        "{s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:o}", "model", info.model_id, "days",
        (json_int_t)n_days, "baseline_days", (json_int_t)o->baseline_days, "monitored_inputs",
        (json_int_t)n_mi, "input_alarm_days", (json_int_t)sum.input_alarm_days, "alert_alarm_days",
        (json_int_t)sum.alert_alarm_days, "calibration_alarm_days",
        (json_int_t)sum.calib_alarm_days, "first_input_alarm_day",
        (json_int_t)sum.first_input_alarm, "first_alert_alarm_day",
        (json_int_t)sum.first_alert_alarm, "first_calibration_alarm_day",
        (json_int_t)sum.first_calib_alarm, "per_day", days);
    if (o->json) {
        char *text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(text != NULL ? text : "null");
        free(text);
    } else {
        printf("vigil monitor: %s, %zu simulated days of %zu hourly rows (%zu baseline), %zu "
               "inputs watched\n"
               "days with an alarm after the baseline: input drift %zu (first day %ld), alert "
               "rate %zu (first %ld), calibration %zu (first %ld)\n",
               info.model_id, n_days, o->rows_per_day, o->baseline_days, n_mi, sum.input_alarm_days,
               sum.first_input_alarm, sum.alert_alarm_days, sum.first_alert_alarm,
               sum.calib_alarm_days, sum.first_calib_alarm);
    }
    json_decref(out);
    free(risk);
    return VIGIL_EXIT_OK;
}

int vigil_cli_monitor(int argc, char **argv)
{
    mopts o;
    int rc = parse(argc, argv, &o);
    if (rc != VIGIL_EXIT_OK) {
        return rc < 0 ? VIGIL_EXIT_OK : rc;
    }
    vigil_model *m = NULL;
    vigil_err err = {0};
    json_error_t je;
    json_t *bundle = json_load_file(o.model, 0, &je);
    if (bundle == NULL || vigil_model_load(o.model, &m, &err) != VIGIL_OK) {
        fprintf(stderr, "vigil monitor: %s: %s\n", o.model, bundle == NULL ? je.text : err.msg);
        json_decref(bundle);
        return VIGIL_EXIT_DATA;
    }
    vigil_cohort_opts copts = {.with_features = true, .max_stays = o.max_stays};
    vigil_cohort *c = NULL;
    if (vigil_cohort_load(o.data, &copts, &c, &err) != VIGIL_OK) {
        fprintf(stderr, "vigil monitor: %s: %s\n", o.data, err.msg);
        rc = VIGIL_EXIT_DATA;
    } else {
        rc = run(&o, m, bundle, c);
    }
    vigil_cohort_free(c);
    vigil_model_free(m);
    json_decref(bundle);
    return rc;
}
