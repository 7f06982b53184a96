/*
 * monitor_thread.c: live monitoring inside `vigil serve` (issue 14 item 4).
 * A thread with its own read-only store connection (never the store
 * thread's) wakes every monitor_period_ms, reads the stored sets of the last
 * monitor_history_ms (vigil_store_set_rows), labels each from the outcomes
 * recorded (vigil_monitor_label), lays them on days from the first one
 * read (rolling 24 h days ending now: the last day is always the last
 * 24 h), and runs vigil_monitor_compute, the computation `vigil monitor`
 * replays, on each group: all wards, each ward, each age band, and female
 * and male (administrative sex as stored: issue 14 item 2; other and unknown
 * are too few for a chart of their own and stay in "all"). Today's
 * figures, the alarms and feed health are kept as one JSON report (GET
 * /api/monitor, ward-scoped there) and as /metrics text.
 *
 * Feed health (heuristic limits, docs/server.md "Monitoring"): a ward is
 * silent when nothing was measured for longer than max(30 min, 2 x the
 * 95th percentile of its gaps between sets over the window: rounds of the
 * ward come in bursts); late sets are those received
 * more than 1 h after they were measured (alarm at > 10% of at least 10 in
 * the last 24 h); refused HL7 messages (AE/AR) alarm at > 5% of at least 20
 * messages since the last run.
 *
 * Does not: write to the store, touch patient state, read shadow scores.
 * Threading: the report and metrics text are swapped under mon->mu; readers
 * (HTTP threads) copy under it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_int.h"
#include "vigil/vitals.h"

#define DAY_MS (86400LL * 1000)
#define MAX_WARDS 256
#define GAP_FLOOR_MS (30LL * 60 * 1000)
#define GAP_FACTOR 2
#define LATE_MS (3600LL * 1000)
#define LATE_MIN_SETS 10
#define LATE_SHARE 0.10
#define REFUSED_MIN 20
#define REFUSED_SHARE 0.05

/* An input is named by its vital sign's store column (vigil/vitals.h, a
 * numeric row: "hr_bpm"); each row keeps every parameter (NaN when not a
 * number or not measured). */

/* Age bands of the subgroup checks. */
enum { AGE_UNDER_65, AGE_65_79, AGE_80_UP, AGE_UNKNOWN, AGE_COUNT };
static const char *const age_names[AGE_COUNT] = {"age:<65", "age:65-79", "age:80+", ""};

/* One set, compactly (a store holds millions). */
typedef struct mrow {
    int64_t adm, t_ms, recv_ms;
    float v[VIGIL_NEWS2_PARAM_COUNT];
    double prob;
    int8_t label;
    uint8_t age;
    uint8_t sex; /* vigil_admin_sex */
    uint16_t ward;
} mrow;

typedef struct mread {
    mrow *rows;
    size_t n, cap;
    char wards[MAX_WARDS][VIGIL_STORE_NAME_MAX + 1];
    size_t n_wards;
    int64_t now_ms, horizon_ms, delay_ms;
} mread;

struct srv_monitor {
    vigil_server *srv;
    vigil_monitor_cfg cfg;
    vigil_news2_param in_vital[VIGIL_MONITOR_MAX_INPUTS];
    int64_t period_ms, horizon_ms, delay_ms, history_ms;
    vigil_store *store; /* this thread's own, read-only */
    pthread_t thr;
    bool running, stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    json_t *report; /* under mu; NULL until the first run */
    char *metrics;  /* under mu */
    uint64_t runs, failures;
    uint64_t last_msgs, last_refused;
};

static uint16_t ward_index(mread *m, const char *ward)
{
    for (size_t i = 0; i < m->n_wards; i++) {
        if (strcmp(m->wards[i], ward) == 0) {
            return (uint16_t)i;
        }
    }
    if (m->n_wards == MAX_WARDS) {
        return UINT16_MAX;
    }
    snprintf(m->wards[m->n_wards], sizeof m->wards[0], "%s", ward);
    return (uint16_t)m->n_wards++;
}

static uint8_t age_band(double age_y)
{
    if (isnan(age_y)) {
        return AGE_UNKNOWN;
    }
    return age_y < 65 ? AGE_UNDER_65 : age_y < 80 ? AGE_65_79 : AGE_80_UP;
}

static vigil_status take_row(void *ctx, const vigil_store_set_row *r, vigil_err *err)
{
    mread *m = ctx;
    if (m->n == m->cap) {
        size_t cap = m->cap > 0 ? m->cap * 2 : 4096;
        mrow *p = realloc(m->rows, cap * sizeof *p);
        if (p == NULL) {
            return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "monitor: out of memory");
        }
        m->rows = p;
        m->cap = cap;
    }
    uint16_t w = ward_index(m, r->ward);
    if (w == UINT16_MAX) {
        return VIGIL_OK; /* more wards than charted: left out (logged by the caller's count) */
    }
    mrow *o = &m->rows[m->n++];
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        o->v[p] = (float)vigil_vital_number(&r->obs, vigil_vital_get((vigil_news2_param)p));
    }
    o->adm = r->admission_id;
    o->t_ms = r->t_ms;
    o->recv_ms = r->received_ms;
    o->prob = r->ai_prob;
    o->label = vigil_monitor_label(r->t_ms, r->outcome_ms, m->now_ms, m->horizon_ms, m->delay_ms);
    o->age = age_band(r->obs.age_y);
    o->sex = (uint8_t)r->sex;
    o->ward = w;
    return VIGIL_OK;
}

/* The rows of one group, as vigil_monitor_rows (arrays owned by g). */
typedef struct group_rows {
    int32_t *day;
    int64_t *unit;
    float *x;
    double *risk;
    int8_t *label;
    vigil_monitor_rows rows;
} group_rows;

static void group_free(group_rows *g)
{
    free(g->day);
    free(g->unit);
    free(g->x);
    free(g->risk);
    free(g->label);
}

/* Group kinds: all rows, a ward, an age band, an administrative sex. */
enum { G_ALL, G_WARD, G_AGE, G_SEX };

/* Whether row r belongs to group (kind, key). */
static bool in_group(const mrow *r, int kind, size_t key)
{
    switch (kind) {
    case G_WARD:
        return r->ward == key;
    case G_AGE:
        return r->age == key;
    case G_SEX:
        return r->sex == key;
    default:
        return true;
    }
}

static bool group_build(const srv_monitor *mon, const mread *m, int64_t t0_ms, int kind, size_t key,
                        group_rows *g)
{
    size_t n_in = mon->cfg.n_inputs, n = 0;
    for (size_t i = 0; i < m->n; i++) { /* this group's rows only: a ward is a few of them */
        const mrow *r = &m->rows[i];
        n += in_group(r, kind, key);
    }
    n = n > 0 ? n : 1;
    *g = (group_rows){.day = malloc(n * sizeof(int32_t)),
                      .unit = malloc(n * sizeof(int64_t)),
                      .x = malloc(n * (n_in > 0 ? n_in : 1) * sizeof(float)),
                      .risk = malloc(n * sizeof(double)),
                      .label = malloc(n)};
    if (g->day == NULL || g->unit == NULL || g->x == NULL || g->risk == NULL || g->label == NULL) {
        group_free(g);
        return false;
    }
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++) {
        const mrow *r = &m->rows[i];
        if (!in_group(r, kind, key)) {
            continue;
        }
        g->day[k] = (int32_t)((r->t_ms - t0_ms) / DAY_MS);
        g->unit[k] = r->adm;
        for (size_t j = 0; j < n_in; j++) {
            g->x[k * n_in + j] = r->v[mon->in_vital[j]];
        }
        g->risk[k] = r->prob;
        g->label[k] = r->label;
        k++;
    }
    g->rows = (vigil_monitor_rows){
        .n = k, .day = g->day, .unit = g->unit, .x = g->x, .risk = g->risk, .label = g->label};
    return true;
}

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static void add_alarm(json_t *alarms, const char *check, const char *group, const char *ward,
                      double value, double limit)
{
    json_array_append_new(alarms, json_pack("{s:s,s:s,s:s?,s:o,s:o}", "check", check, "group",
                                            group, "ward", ward, "value", num_or_null(value),
                                            "limit", num_or_null(limit)));
}

static json_t *day_json(const srv_monitor *mon, const vigil_monitor_day *d, const char *group,
                        const char *ward, json_t *alarms)
{
    json_t *ins = json_array();
    for (size_t k = 0; k < mon->cfg.n_inputs; k++) {
        const vigil_monitor_input_day *in = &d->in[k];
        json_array_append_new(
            ins, json_pack("{s:s,s:I,s:I,s:f,s:f,s:b,s:b}", "input", mon->cfg.inputs[k].name,
                           "admissions", (json_int_t)in->n_units, "admissions_out",
                           (json_int_t)in->n_out, "share", in->share, "limit", in->limit, "charted",
                           in->charted, "alarm", in->alarm));
        if (in->alarm) {
            char check[VIGIL_MONITOR_NAME_MAX + 8];
            snprintf(check, sizeof check, "input:%s", mon->cfg.inputs[k].name);
            add_alarm(alarms, check, group, ward, in->share, in->limit);
        }
    }
    if (d->alert_alarm) {
        add_alarm(alarms, "alert-rate", group, ward, d->unit_alert_rate, d->alert_limit);
    }
    if (d->alert_low_alarm) {
        add_alarm(alarms, "alert-rate-low", group, ward, d->w_alert_share, d->alert_low_limit);
    }
    if (d->calib_alarm) {
        add_alarm(alarms, "calibration", group, ward, d->oe, NAN);
    }
    return json_pack(
        "{s:s,s:s?,s:I,s:o,s:{s:I,s:I,s:f,s:I,s:I,s:f,s:f,s:b,s:{s:b,s:I,s:I,s:f,s:f,s:b}},"
        "s:{s:b,s:I,s:I,s:f,s:f,s:b,s:b,s:f,s:f},s:o}",
        "group", group, "ward", ward, "day", (json_int_t)d->day, "inputs", ins, "alerts", "sets",
        (json_int_t)d->n_scored, "sets_alerting", (json_int_t)d->n_alerts, "share_of_sets",
        d->alert_rate, "admission_days", (json_int_t)d->n_units_scored, "admission_days_alerting",
        (json_int_t)d->n_units_alerted, "share", d->unit_alert_rate, "limit", d->alert_limit,
        "alarm", d->alert_alarm, "window", "charted", d->alert_low_charted, "admission_days",
        (json_int_t)d->w_units_scored, "admission_days_alerting", (json_int_t)d->w_units_alerted,
        "share", d->w_alert_share, "low_limit", d->alert_low_limit, "low_alarm",
        d->alert_low_alarm, "calibration", "has_window", d->has_window, "labelled",
        (json_int_t)d->w_labelled, "events", (json_int_t)d->w_events, "expected", d->w_expected,
        "oe", d->oe, "alarm", d->calib_alarm, "charted", d->calib_charted, "events_low",
        d->calib_lo, "events_high", d->calib_hi, "auroc_window", num_or_null(d->auroc));
}

/* One group's today: appended to groups (and its alarms); false on failure. */
static bool run_group(const srv_monitor *mon, const mread *m, int64_t t0_ms, size_t n_days,
                      int kind, size_t key, const char *group, const char *ward, json_t *groups,
                      json_t *alarms)
{
    group_rows g;
    if (!group_build(mon, m, t0_ms, kind, key, &g)) {
        return false;
    }
    vigil_monitor_day *days = malloc(n_days * sizeof *days);
    vigil_err err = {0};
    bool ok = days != NULL &&
              vigil_monitor_compute(&mon->cfg, &g.rows, n_days, days, NULL, &err) == VIGIL_OK;
    if (ok && g.rows.n > 0) {
        json_array_append_new(groups, day_json(mon, &days[n_days - 1], group, ward, alarms));
    }
    free(days);
    group_free(&g);
    return ok;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Feed health of one ward: silence against its usual gap, late sets. */
static json_t *feed_ward(const srv_monitor *mon, const mread *m, size_t w, json_t *alarms)
{
    int64_t now = m->now_ms, from = now - (int64_t)mon->cfg.window_days * DAY_MS;
    int64_t *t = malloc((m->n > 0 ? m->n : 1) * sizeof *t);
    if (t == NULL) {
        return NULL;
    }
    size_t n = 0, n24 = 0, late24 = 0;
    int64_t last = INT64_MIN;
    for (size_t i = 0; i < m->n; i++) {
        const mrow *r = &m->rows[i];
        if (r->ward != w) {
            continue;
        }
        last = r->t_ms > last ? r->t_ms : last;
        if (r->t_ms >= from) {
            t[n++] = r->t_ms;
        }
        if (r->t_ms >= now - DAY_MS) {
            n24++;
            late24 += r->recv_ms - r->t_ms > LATE_MS;
        }
    }
    qsort(t, n, sizeof *t, cmp_i64);
    int64_t *gaps = t; /* in place: gap i = t[i + 1] - t[i] */
    for (size_t i = 0; i + 1 < n; i++) {
        gaps[i] = t[i + 1] - t[i];
    }
    size_t n_gaps = n > 1 ? n - 1 : 0;
    qsort(gaps, n_gaps, sizeof *gaps, cmp_i64);
    /* the 95th percentile: feeds are bursty (a round of the ward, then quiet) */
    int64_t usual = n_gaps > 0 ? gaps[(n_gaps * 95) / 100] : -1;
    free(t);
    int64_t limit =
        usual >= 0 && usual * GAP_FACTOR > GAP_FLOOR_MS ? usual * GAP_FACTOR : GAP_FLOOR_MS;
    int64_t silent = last == INT64_MIN ? -1 : now - last;
    bool gap_alarm = n_gaps > 0 && silent > limit;
    double late_share = n24 > 0 ? (double)late24 / (double)n24 : 0.0;
    bool late_alarm = n24 >= LATE_MIN_SETS && late_share > LATE_SHARE;
    char group[VIGIL_STORE_NAME_MAX + 8];
    snprintf(group, sizeof group, "ward:%s", m->wards[w]);
    if (gap_alarm) {
        add_alarm(alarms, "feed-gap", group, m->wards[w], (double)silent / 60000.0,
                  (double)limit / 60000.0);
    }
    if (late_alarm) {
        add_alarm(alarms, "feed-late", group, m->wards[w], late_share, LATE_SHARE);
    }
    return json_pack("{s:s,s:I,s:o,s:I,s:b,s:I,s:I,s:f,s:b}", "ward", m->wards[w], "silent_min",
                     (json_int_t)(silent / 60000), "usual_gap_p95_min",
                     usual >= 0 ? json_real((double)usual / 60000.0) : json_null(), "gap_limit_min",
                     (json_int_t)(limit / 60000), "gap_alarm", gap_alarm, "sets_24h",
                     (json_int_t)n24, "late_24h", (json_int_t)late24, "late_share", late_share,
                     "late_alarm", late_alarm);
}

/* Refused HL7 messages since the last run (the /metrics counters). */
static json_t *refused_json(srv_monitor *mon, json_t *alarms)
{
    vigil_server_stats s;
    vigil_server_stats_get(mon->srv, &s);
    uint64_t refused = s.hl7_ae + s.hl7_ar;
    uint64_t dm = s.hl7_messages - mon->last_msgs, dr = refused - mon->last_refused;
    mon->last_msgs = s.hl7_messages;
    mon->last_refused = refused;
    double share = dm > 0 ? (double)dr / (double)dm : 0.0;
    bool alarm = dm >= REFUSED_MIN && share > REFUSED_SHARE;
    if (alarm) {
        add_alarm(alarms, "feed-refused", "all", NULL, share, REFUSED_SHARE);
    }
    return json_pack("{s:I,s:I,s:f,s:b}", "messages", (json_int_t)dm, "refused", (json_int_t)dr,
                     "share", share, "alarm", alarm);
}

/* Prometheus label value escaping: backslash, quote, newline. */
static void esc_label(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    for (; *s != '\0' && o + 3 < cap; s++) {
        if (*s == '\\' || *s == '"') {
            out[o++] = '\\';
            out[o++] = *s;
        } else if (*s == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
}

static char *metrics_text(const srv_monitor *mon, const json_t *report)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL) {
        return NULL;
    }
    const json_t *alarms = json_object_get(report, "alarms"), *groups;
    fprintf(f, "# HELP vigil_monitor_alarm A monitoring check outside its control limit now "
               "(issue 14): check and group (all, ward:NAME, age:BAND, sex:SEX).\n"
               "# TYPE vigil_monitor_alarm gauge\n");
    size_t i;
    const json_t *a;
    json_array_foreach(alarms, i, a)
    {
        char c[160], g[300];
        esc_label(c, sizeof c, json_string_value(json_object_get(a, "check")));
        esc_label(g, sizeof g, json_string_value(json_object_get(a, "group")));
        fprintf(f, "vigil_monitor_alarm{check=\"%s\",group=\"%s\"} 1\n", c, g);
    }
    fprintf(f,
            "# HELP vigil_monitor_alarms Monitoring alarms raised now.\n"
            "# TYPE vigil_monitor_alarms gauge\nvigil_monitor_alarms %zu\n"
            "# HELP vigil_monitor_runs_total Monitoring runs (failed ones counted apart).\n"
            "# TYPE vigil_monitor_runs_total counter\nvigil_monitor_runs_total %llu\n"
            "vigil_monitor_runs_failed_total %llu\n",
            json_array_size(alarms), (unsigned long long)mon->runs,
            (unsigned long long)mon->failures);
    groups = json_object_get(report, "groups");
    fprintf(f, "# HELP vigil_monitor_auroc_window AUROC of the live model over the window.\n"
               "# TYPE vigil_monitor_auroc_window gauge\n");
    json_array_foreach(groups, i, a)
    {
        const json_t *auc = json_object_get(a, "auroc_window");
        if (json_is_number(auc)) {
            char g[300];
            esc_label(g, sizeof g, json_string_value(json_object_get(a, "group")));
            fprintf(f, "vigil_monitor_auroc_window{group=\"%s\"} %.6f\n", g,
                    json_number_value(auc));
        }
    }
    fclose(f);
    return buf;
}

/* One run: the report at now_ms. */
static vigil_status compute(srv_monitor *mon, int64_t now_ms, json_t **out, vigil_err *err)
{
    mread *m = calloc(1, sizeof *m);
    if (m == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "monitor: out of memory");
    }
    m->now_ms = now_ms;
    m->horizon_ms = mon->horizon_ms;
    m->delay_ms = mon->delay_ms;
    vigil_status s =
        vigil_store_set_rows(mon->store, now_ms - mon->history_ms, now_ms + 1, take_row, m, err);
    json_t *groups = json_array(), *alarms = json_array(), *feed = json_array();
    int64_t t0 = 0;
    size_t n_days = 0;
    if (s == VIGIL_OK && m->n > 0) {
        int64_t first = INT64_MAX;
        for (size_t i = 0; i < m->n; i++) {
            first = m->rows[i].t_ms < first ? m->rows[i].t_ms : first;
        }
        /* rolling days ending now: the last "day" is always the last 24 h */
        n_days = (size_t)((now_ms - first) / DAY_MS) + 1;
        t0 = now_ms + 1 - (int64_t)n_days * DAY_MS;
    }
    bool monitoring = s == VIGIL_OK && n_days > mon->cfg.baseline_days;
    bool ok = true;
    if (monitoring) {
        ok = run_group(mon, m, t0, n_days, G_ALL, 0, "all", NULL, groups, alarms);
        for (size_t w = 0; ok && w < m->n_wards; w++) {
            char g[VIGIL_STORE_NAME_MAX + 8];
            snprintf(g, sizeof g, "ward:%s", m->wards[w]);
            ok = run_group(mon, m, t0, n_days, G_WARD, w, g, m->wards[w], groups, alarms);
        }
        for (size_t a = 0; ok && a < AGE_UNKNOWN; a++) {
            ok = run_group(mon, m, t0, n_days, G_AGE, a, age_names[a], NULL, groups, alarms);
        }
        static const vigil_admin_sex charted[] = {VIGIL_ADMIN_SEX_FEMALE, VIGIL_ADMIN_SEX_MALE};
        for (size_t k = 0; ok && k < sizeof charted / sizeof charted[0]; k++) {
            char g[32];
            snprintf(g, sizeof g, "sex:%s", vigil_admin_sex_name(charted[k]));
            ok = run_group(mon, m, t0, n_days, G_SEX, (size_t)charted[k], g, NULL, groups, alarms);
        }
    }
    for (size_t w = 0; s == VIGIL_OK && ok && w < m->n_wards; w++) {
        json_t *fw = feed_ward(mon, m, w, alarms);
        ok = fw != NULL;
        json_array_append_new(feed, fw);
    }
    if (s == VIGIL_OK && !ok) {
        s = vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "monitor: out of memory");
    }
    json_t *refused = mon->srv != NULL ? refused_json(mon, alarms) : json_null();
    char when[32];
    vigil__srv_time_format(now_ms, when);
    if (s == VIGIL_OK) {
        *out = json_pack("{s:s,s:I,s:s,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o}", "computed", when,
                         "computed_ms", (json_int_t)now_ms, "state",
                         monitoring ? "monitoring" : "baseline", "days", (json_int_t)n_days,
                         "baseline_days", (json_int_t)mon->cfg.baseline_days, "window_days",
                         (json_int_t)mon->cfg.window_days, "sets", (json_int_t)m->n, "horizon_h",
                         (json_int_t)(mon->horizon_ms / 3600000), "groups", groups, "feed", feed,
                         "refused", refused, "alarms", alarms);
    } else {
        json_decref(groups);
        json_decref(feed);
        json_decref(refused);
        json_decref(alarms);
    }
    free(m->rows);
    free(m);
    return s;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void run_once(srv_monitor *mon)
{
    json_t *report = NULL;
    vigil_err err = {0};
    vigil_status s = compute(mon, now_ms(), &report, &err);
    pthread_mutex_lock(&mon->mu);
    if (s == VIGIL_OK) {
        mon->runs++;
        char *text = metrics_text(mon, report);
        json_decref(mon->report);
        free(mon->metrics);
        mon->report = report;
        mon->metrics = text;
    } else {
        mon->failures++;
    }
    pthread_mutex_unlock(&mon->mu);
    if (s != VIGIL_OK) {
        vigil__srv_log(mon->srv, "monitor", "run failed: %s", err.msg);
    }
}

static void *monitor_main(void *arg)
{
    srv_monitor *mon = arg;
    for (;;) {
        run_once(mon);
        pthread_mutex_lock(&mon->mu);
        if (!mon->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t ns = ts.tv_nsec + (mon->period_ms % 1000) * 1000000LL;
            ts.tv_sec += (time_t)(mon->period_ms / 1000 + ns / 1000000000LL);
            ts.tv_nsec = (long)(ns % 1000000000LL);
            pthread_cond_timedwait(&mon->cv, &mon->mu, &ts);
        }
        bool stop = mon->stop;
        pthread_mutex_unlock(&mon->mu);
        if (stop) {
            return NULL;
        }
    }
}

/* A monitor from the configuration (not started, no store yet). */
static vigil_status monitor_new(const vigil_server_config *c, srv_monitor **out, vigil_err *err)
{
    if (c->monitor_period_ms <= 0 || c->monitor_horizon_ms <= 0 || c->monitor_label_delay_ms < 0 ||
        c->monitor_history_ms < DAY_MS || c->monitor->baseline_days < 2 ||
        c->monitor->baseline_days > 64 || c->monitor->window_days == 0 ||
        c->monitor->n_inputs > VIGIL_MONITOR_MAX_INPUTS) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "monitor",
                             "monitoring: period, horizon and history positive (history at least "
                             "a day), 2 to 64 baseline days, a window");
    }
    srv_monitor *mon = calloc(1, sizeof *mon);
    if (mon == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
    }
    mon->cfg = *c->monitor;
    mon->cfg.auroc_last_day_only = true; /* only today is reported */
    for (size_t k = 0; k < mon->cfg.n_inputs; k++) {
        int v = -1;
        for (int j = 0; j < VIGIL_NEWS2_PARAM_COUNT; j++) {
            const vigil_vital *row = vigil_vital_get((vigil_news2_param)j);
            if (row->type == VIGIL_VITAL_NUMBER &&
                strcmp(mon->cfg.inputs[k].name, row->column) == 0) {
                v = j;
            }
        }
        if (v < 0) {
            free(mon);
            return vigil_err_set(err, VIGIL_ERR_ARG, "monitor",
                                 "monitoring input %s is not a stored vital sign",
                                 c->monitor->inputs[k].name);
        }
        mon->in_vital[k] = (vigil_news2_param)v;
    }
    mon->period_ms = c->monitor_period_ms;
    mon->horizon_ms = c->monitor_horizon_ms;
    mon->delay_ms = c->monitor_label_delay_ms;
    mon->history_ms = c->monitor_history_ms;
    pthread_mutex_init(&mon->mu, NULL);
    pthread_cond_init(&mon->cv, NULL);
    *out = mon;
    return VIGIL_OK;
}

static void monitor_free(srv_monitor *mon)
{
    vigil_store_close(mon->store);
    json_decref(mon->report);
    free(mon->metrics);
    pthread_mutex_destroy(&mon->mu);
    pthread_cond_destroy(&mon->cv);
    free(mon);
}

vigil_status vigil__srv_monitor_open(vigil_server *srv, vigil_err *err)
{
    const vigil_server_config *c = &srv->cfg;
    if (c->monitor == NULL) {
        return VIGIL_OK;
    }
    srv_monitor *mon = NULL;
    vigil_status s = monitor_new(c, &mon, err);
    if (s != VIGIL_OK) {
        return s;
    }
    mon->srv = srv;
    srv->monitor = mon;
    srv->cfg.monitor = NULL; /* borrowed during open only */
    return vigil_store_open(srv->db, VIGIL_STORE_READONLY, &mon->store, err);
}

vigil_status vigil_server_monitor_report(const vigil_server_config *cfg, int64_t now_ms,
                                         char **out_json, vigil_err *err)
{
    if (cfg == NULL || cfg->db == NULL || cfg->monitor == NULL || out_json == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL,
                             "vigil_server_monitor_report: a store and a monitor configuration");
    }
    srv_monitor *mon = NULL;
    vigil_status s = monitor_new(cfg, &mon, err);
    if (s == VIGIL_OK) {
        s = vigil_store_open(cfg->db, VIGIL_STORE_READONLY, &mon->store, err);
    }
    json_t *report = NULL;
    if (s == VIGIL_OK) {
        s = compute(mon, now_ms, &report, err);
    }
    if (s == VIGIL_OK) {
        json_object_del(report, "refused"); /* the server's counters: not in a store */
        *out_json = json_dumps(report, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        s = *out_json != NULL ? VIGIL_OK
                              : vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
    }
    json_decref(report);
    if (mon != NULL) {
        monitor_free(mon);
    }
    return s;
}

vigil_status vigil__srv_monitor_start(vigil_server *srv, vigil_err *err)
{
    srv_monitor *mon = srv->monitor;
    if (mon == NULL || mon->running) {
        return VIGIL_OK;
    }
    mon->stop = false;
    if (pthread_create(&mon->thr, NULL, monitor_main, mon) != 0) {
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, NULL, "cannot start the monitor thread");
    }
    mon->running = true;
    return VIGIL_OK;
}

void vigil__srv_monitor_stop(vigil_server *srv)
{
    srv_monitor *mon = srv->monitor;
    if (mon == NULL || !mon->running) {
        return;
    }
    pthread_mutex_lock(&mon->mu);
    mon->stop = true;
    pthread_cond_signal(&mon->cv);
    pthread_mutex_unlock(&mon->mu);
    pthread_join(mon->thr, NULL);
    mon->running = false;
}

void vigil__srv_monitor_close(vigil_server *srv)
{
    srv_monitor *mon = srv->monitor;
    if (mon == NULL) {
        return;
    }
    vigil__srv_monitor_stop(srv);
    monitor_free(mon);
    srv->monitor = NULL;
}

char *vigil__srv_monitor_metrics(vigil_server *srv)
{
    srv_monitor *mon = srv->monitor;
    if (mon == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&mon->mu);
    char *copy = mon->metrics != NULL ? strdup(mon->metrics) : NULL;
    pthread_mutex_unlock(&mon->mu);
    return copy;
}

/* Keep only what u may see: every group and the refusals with the "*" scope;
 * otherwise the groups, feed and alarms of the user's wards. */
static json_t *scoped(const json_t *report, const srv_user *u)
{
    json_t *r = json_deep_copy(report);
    if (r == NULL || vigil__srv_scope_ok(u, NULL)) {
        return r;
    }
    static const char *const lists[] = {"groups", "feed", "alarms"};
    for (size_t l = 0; l < 3; l++) {
        json_t *in = json_object_get(r, lists[l]), *kept = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(in, i, e)
        {
            const char *w = json_string_value(json_object_get(e, "ward"));
            if (w != NULL && vigil__srv_scope_ok(u, w)) {
                json_array_append(kept, e);
            }
        }
        json_object_set_new(r, lists[l], kept);
    }
    json_object_del(r, "refused");
    return r;
}

void vigil__srv_h_monitor(vigil_server *srv, srv_req *r)
{
    srv_monitor *mon = srv->monitor;
    if (mon == NULL) {
        vigil__srv_req_error(r, 404, "not-found",
                             "monitoring is off (vigil serve monitors with --model)");
        return;
    }
    pthread_mutex_lock(&mon->mu);
    json_t *j = mon->report != NULL ? scoped(mon->report, &r->user) : NULL;
    pthread_mutex_unlock(&mon->mu);
    if (j == NULL) {
        vigil__srv_req_json(r, 200, json_pack("{s:s}", "state", "starting"));
        return;
    }
    vigil__srv_req_json(r, 200, j);
}
