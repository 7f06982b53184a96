/*
 * cmd_monitor.c: `vigil monitor`, the live-monitoring alarms of issue 14
 * replayed on research data: the stays of a data set, hour by hour, laid
 * end to end onto simulated ward days (--rows-per-day hourly rows a day),
 * optionally with a feed fault injected from a given day (a unit change in
 * one input, --drift; a calibration drift of the model's odds, --odds).
 * The checks themselves are vigil/monitor.h's (src/monitor), the code the
 * live server's monitor thread runs: this file only lays the rows out as
 * days (row r on day r / rows-per-day, its admission the stay) and prints.
 * Phases: parse options, load and inject, score, build rows, compute, print.
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "vigil/cohort.h"
#include "vigil/features.h"
#include "vigil/model.h"
#include "vigil/monitor.h"
#include "vigil/server.h"

#define MAX_MON VIGIL_MONITOR_MAX_INPUTS
#define WINDOW_DAYS 7

typedef struct mopts {
    const char *model, *data, *db;
    long long at_ms; /* --db: the time the report is for (Unix ms); -1 = now */
    size_t max_stays, rows_per_day, baseline_days;
    const char *drift_input;
    double drift_scale, drift_offset;
    long drift_day;
    double odds;
    long odds_day;
    bool json;
} mopts;

typedef struct mon_input {
    char name[VIGIL_MONITOR_NAME_MAX + 1];
    size_t col;
    double lo, hi;
} mon_input;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vigil monitor --model BUNDLE --data PATH [--max-stays N]\n"
            "                     [--rows-per-day N] [--baseline-days N]\n"
            "                     [--drift INPUT:SCALE:OFFSET:DAY] [--odds FACTOR:DAY] [--json]\n"
            "       vigil monitor --model BUNDLE --db STORE [--at-ms T] [--baseline-days N]\n"
            "\n"
            "Replay research data as simulated ward days through vigil's monitoring\n"
            "alarms: input drift against the bundle's training ranges, the alert rate,\n"
            "calibration (observed:expected over 7 days) and the rolling AUROC.\n"
            "With --db: the live monitor's report (JSON, as GET /api/monitor gives it)\n"
            "computed from a vigil store, read-only, at time T (Unix ms; default now).\n"
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
        {"db", required_argument, NULL, 'B'},
        {"at-ms", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (mopts){.rows_per_day = 600,
                 .baseline_days = 14,
                 .odds = 1.0,
                 .drift_day = -1,
                 .odds_day = -1,
                 .at_ms = -1};
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
        case 'B':
            o->db = optarg;
            break;
        case 'T':
            o->at_ms = strtoll(optarg, &end, 10);
            ok = *end == '\0' && o->at_ms >= 0;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            ok = false;
        }
    }
    if (!ok || optind < argc || o->model == NULL || (o->data == NULL) == (o->db == NULL)) {
        fprintf(stderr, "vigil monitor: bad or missing options (--model and one of --data and "
                        "--db are needed); run 'vigil monitor --help'\n");
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
    /* the vitals the model reads only through other features (feature spec
     * v4): their training ranges are under monitor_ranges */
    const char *key;
    const json_t *r;
    json_object_foreach((json_t *)json_object_get(bundle, "monitor_ranges"), key, r)
    {
        size_t col = 0;
        bool seen = false;
        for (size_t k = 0; k < n; k++) {
            seen = seen || strcmp(out[k].name, key) == 0;
        }
        if (seen || n >= MAX_MON || vigil_features_find(key, &col) != VIGIL_OK ||
            !json_is_number(json_object_get(r, "p005")) ||
            !json_is_number(json_object_get(r, "p995"))) {
            continue;
        }
        mon_input *mi = &out[n++];
        snprintf(mi->name, sizeof mi->name, "%s", key);
        mi->col = col;
        mi->lo = json_number_value(json_object_get(r, "p005"));
        mi->hi = json_number_value(json_object_get(r, "p995"));
    }
    return n;
}

/* Inject the requested faults into x and risk (after scoring). */
static int inject_drift(const mopts *o, const vigil_model *m, const json_t *bundle,
                        vigil_cohort *c)
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
    if (col == SIZE_MAX &&
        json_object_get(json_object_get(bundle, "monitor_ranges"), o->drift_input) != NULL) {
        size_t f = 0;
        if (vigil_features_find(o->drift_input, &f) == VIGIL_OK) {
            col = f; /* a monitored vital the model reads through other features */
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

/* The module's rows from the replayed cohort: row r is on day r / rows-per-day, its
 * admission the stay it belongs to. */
static vigil_status build_rows(const mopts *o, const vigil_cohort *c, const double *risk,
                               const mon_input *mi, size_t n_mi, size_t n_rows, int32_t **out_day,
                               float **out_x, int8_t **out_label, vigil_monitor_rows *rows)
{
    int32_t *day = malloc(sizeof *day * n_rows);
    float *x = malloc(sizeof *x * n_rows * n_mi);
    int8_t *label = malloc(n_rows);
    if (day == NULL || x == NULL || label == NULL) {
        free(day);
        free(x);
        free(label);
        return VIGIL_ERR_NOMEM;
    }
    for (size_t r = 0; r < n_rows; r++) {
        day[r] = (int32_t)(r / o->rows_per_day);
        label[r] = (int8_t)c->label[r];
        for (size_t k = 0; k < n_mi; k++) {
            x[r * n_mi + k] = c->x[r * c->n_feat + mi[k].col];
        }
    }
    *rows = (vigil_monitor_rows){
        .n = n_rows, .day = day, .unit = c->stay_of, .x = x, .risk = risk, .label = label};
    *out_day = day;
    *out_x = x;
    *out_label = label;
    return VIGIL_OK;
}

static json_t *day_json(const vigil_monitor_cfg *cfg, const vigil_monitor_day *d)
{
    json_t *alarms = json_array();
    for (size_t k = 0; k < cfg->n_inputs; k++) {
        if (d->in[k].alarm) {
            json_array_append_new(alarms,
                                  json_pack("{s:s,s:f,s:i,s:i,s:f}", "input", cfg->inputs[k].name,
                                            "out_of_range", d->in[k].share, "admissions",
                                            (json_int_t)d->in[k].n_units, "admissions_out",
                                            (json_int_t)d->in[k].n_out, "limit", d->in[k].limit));
        }
    }
    json_t *j =
        json_pack("{s:i,s:o,s:f,s:f,s:f,s:b}", "day", (json_int_t)d->day, "input_alarms", alarms,
                  "alert_rate", d->alert_rate, "admission_days_alerted", d->unit_alert_rate,
                  "alert_rate_limit", d->alert_limit, "alert_alarm", d->alert_alarm);
    if (d->has_window) {
        json_object_set_new(j, "oe_7d_vs_baseline", json_real(d->oe));
        json_object_set_new(j, "events_7d", json_integer((json_int_t)d->w_events));
        json_object_set_new(j, "expected_7d", json_real(d->w_expected));
        json_object_set_new(j, "calibration_limits",
                            json_pack("[f,f]", d->calib_lo, d->calib_hi));
        json_object_set_new(j, "calibration_p", json_real(d->calib_p));
        json_object_set_new(j, "auroc_7d", isnan(d->auroc) ? json_null() : json_real(d->auroc));
        json_object_set_new(j, "alert_share_7d", json_real(d->w_alert_share));
        json_object_set_new(j, "alert_share_7d_low_limit", json_real(d->alert_low_limit));
    }
    json_object_set_new(j, "alert_low_alarm", json_boolean(d->alert_low_alarm));
    json_object_set_new(j, "calibration_alarm", json_boolean(d->calib_alarm));
    return j;
}

typedef struct summary {
    size_t input_alarm_days, input_alarms, alert_alarm_days, alert_low_days, calib_alarm_days;
    long first_input_alarm, first_alert_alarm, first_alert_low, first_calib_alarm;
} summary;

static void summarise(const vigil_monitor_day *days, size_t n_days, summary *s)
{
    *s = (summary){.first_input_alarm = -1,
                   .first_alert_alarm = -1,
                   .first_alert_low = -1,
                   .first_calib_alarm = -1};
    for (size_t d = 0; d < n_days; d++) {
        long dl = (long)d;
        s->input_alarms += days[d].n_input_alarms;
        if (days[d].n_input_alarms > 0) {
            s->input_alarm_days++;
            s->first_input_alarm = s->first_input_alarm < 0 ? dl : s->first_input_alarm;
        }
        if (days[d].alert_alarm) {
            s->alert_alarm_days++;
            s->first_alert_alarm = s->first_alert_alarm < 0 ? dl : s->first_alert_alarm;
        }
        if (days[d].alert_low_alarm) {
            s->alert_low_days++;
            s->first_alert_low = s->first_alert_low < 0 ? dl : s->first_alert_low;
        }
        if (days[d].calib_alarm) {
            s->calib_alarm_days++;
            s->first_calib_alarm = s->first_calib_alarm < 0 ? dl : s->first_calib_alarm;
        }
    }
}

static void print(const mopts *o, const vigil_model_info *info, const vigil_monitor_cfg *cfg,
                  const vigil_monitor_ref *ref, const vigil_monitor_day *days, size_t n_days)
{
    summary sum;
    summarise(days, n_days, &sum);
    json_t *per_day = json_array();
    for (size_t d = 0; d < n_days; d++) {
        json_array_append_new(per_day, day_json(cfg, &days[d]));
    }
    json_t *out = json_pack(
        "{s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:o}", "model", info->model_id, "days",
        (json_int_t)n_days, "baseline_days", (json_int_t)o->baseline_days, "monitored_inputs",
        (json_int_t)cfg->n_inputs, "min_admissions", (json_int_t)cfg->min_units, "input_alarm_days",
        (json_int_t)sum.input_alarm_days, "input_alarms", (json_int_t)sum.input_alarms,
        "alert_alarm_days", (json_int_t)sum.alert_alarm_days, "calibration_alarm_days",
        (json_int_t)sum.calib_alarm_days, "first_input_alarm_day",
        (json_int_t)sum.first_input_alarm, "first_alert_alarm_day",
        (json_int_t)sum.first_alert_alarm, "first_calibration_alarm_day",
        (json_int_t)sum.first_calib_alarm, "per_day", per_day);
    json_object_set_new(out, "alert_low_alarm_days", json_integer((json_int_t)sum.alert_low_days));
    json_object_set_new(out, "first_alert_low_alarm_day",
                        json_integer((json_int_t)sum.first_alert_low));
    json_object_set_new(out, "alert_low_design_effect", json_real(ref->alert_window_de));
    json_object_set_new(out, "calibration_design_effect", json_real(ref->oe_design_effect));
    json_object_set_new(out, "baseline_oe", json_real(ref->oe_base));
    if (o->json) {
        char *text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(text != NULL ? text : "null");
        free(text);
    } else {
        printf("vigil monitor: %s, %zu simulated days of %zu hourly rows (%zu baseline), %zu "
               "inputs watched\n"
               "days with an alarm after the baseline: input drift %zu (first day %ld), alert "
               "rate %zu (first %ld), AI gone quiet %zu (first %ld), calibration %zu (first "
               "%ld)\n",
               info->model_id, n_days, o->rows_per_day, o->baseline_days, cfg->n_inputs,
               sum.input_alarm_days, sum.first_input_alarm, sum.alert_alarm_days,
               sum.first_alert_alarm, sum.alert_low_days, sum.first_alert_low,
               sum.calib_alarm_days, sum.first_calib_alarm);
    }
    json_decref(out);
}

static int monitor_days(const mopts *o, const vigil_model_info *info, const vigil_cohort *c,
                        const double *risk, const mon_input *mi, size_t n_mi, size_t n_days)
{
    vigil_monitor_cfg cfg;
    vigil_monitor_cfg_defaults(&cfg);
    cfg.n_inputs = n_mi;
    cfg.threshold = info->threshold;
    cfg.baseline_days = o->baseline_days;
    cfg.window_days = WINDOW_DAYS;
    for (size_t k = 0; k < n_mi && k < MAX_MON; k++) {
        memcpy(cfg.inputs[k].name, mi[k].name, sizeof cfg.inputs[k].name);
        cfg.inputs[k].lo = mi[k].lo;
        cfg.inputs[k].hi = mi[k].hi;
    }
    int32_t *day = NULL;
    float *x = NULL;
    int8_t *label = NULL;
    vigil_monitor_rows rows;
    vigil_monitor_ref ref;
    vigil_monitor_day *days = malloc(sizeof *days * n_days);
    vigil_err err = {0};
    vigil_status s = days == NULL ? VIGIL_ERR_NOMEM
                                  : build_rows(o, c, risk, mi, n_mi, n_days * o->rows_per_day, &day,
                                               &x, &label, &rows);
    if (s == VIGIL_OK) {
        s = vigil_monitor_compute(&cfg, &rows, n_days, days, &ref, &err);
    }
    if (s == VIGIL_OK) {
        print(o, info, &cfg, &ref, days, n_days);
    } else {
        fprintf(stderr, "vigil monitor: %s\n", err.msg[0] ? err.msg : vigil_status_str(s));
    }
    free(day);
    free(x);
    free(label);
    free(days);
    return s == VIGIL_OK ? VIGIL_EXIT_OK : VIGIL_EXIT_DATA;
}

static int run(const mopts *o, const vigil_model *m, const json_t *bundle, vigil_cohort *c)
{
    vigil_model_info info;
    vigil_model_get_info(m, &info);
    mon_input mi[MAX_MON];
    size_t n_mi = monitored(m, bundle, mi);
    size_t n_days = c->n_rows / o->rows_per_day;
    if (n_days <= o->baseline_days || n_mi == 0 || o->baseline_days < 2 || o->baseline_days > 64) {
        fprintf(stderr,
                "vigil monitor: %zu days of data (more than %zu baseline days needed, 2 to 64) "
                "and %zu monitored inputs\n",
                n_days, o->baseline_days, n_mi);
        return VIGIL_EXIT_DATA;
    }
    int rc = inject_drift(o, m, bundle, c);
    double *risk = malloc(sizeof *risk * c->n_rows);
    vigil_err err = {0};
    if (rc == VIGIL_EXIT_OK &&
        (risk == NULL ||
         vigil_model_predict_batch(m, c->x, c->n_rows, c->n_feat, risk, &err) != VIGIL_OK)) {
        fprintf(stderr, "vigil monitor: scoring: %s\n", risk == NULL ? "out of memory" : err.msg);
        rc = VIGIL_EXIT_DATA;
    }
    if (rc == VIGIL_EXIT_OK) {
        inject_odds(o, c, risk);
        rc = monitor_days(o, &info, c, risk, mi, n_mi, n_days);
    }
    free(risk);
    return rc;
}

/* --db: the live monitor's report from a store, by the server's own code. */
static int monitor_db(const mopts *o)
{
    vigil_monitor_cfg mon;
    vigil_err err = {0};
    if (vigil_cli_live_monitor_cfg(o->model, &mon, &err) != VIGIL_OK) {
        fprintf(stderr, "vigil monitor: %s: %s\n", o->model, err.msg);
        return VIGIL_EXIT_DATA;
    }
    mon.baseline_days = o->baseline_days;
    vigil_server_config cfg;
    vigil_server_config_init(&cfg);
    cfg.db = o->db;
    cfg.monitor = &mon;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now =
        o->at_ms >= 0 ? (int64_t)o->at_ms : (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    char *text = NULL;
    if (vigil_server_monitor_report(&cfg, now, &text, &err) != VIGIL_OK) {
        fprintf(stderr, "vigil monitor: %s: %s\n", o->db, err.msg);
        return err.status == VIGIL_ERR_ARG ? VIGIL_EXIT_USAGE : VIGIL_EXIT_DATA;
    }
    puts(text);
    free(text);
    return VIGIL_EXIT_OK;
}

int vigil_cli_monitor(int argc, char **argv)
{
    mopts o;
    int rc = parse(argc, argv, &o);
    if (rc != VIGIL_EXIT_OK) {
        return rc < 0 ? VIGIL_EXIT_OK : rc;
    }
    if (o.db != NULL) {
        return monitor_db(&o);
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
