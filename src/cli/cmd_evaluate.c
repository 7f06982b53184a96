/*
 * cmd_evaluate.c: `vigil evaluate`, scores on research data with honest
 * metrics: NEWS2, qSOFA and SIRS on PhysioNet 2019 (hourly, against
 * SepsisLabel); NEWS2, SAPS-I and SOFA on PhysioNet 2012 (per stay at hour
 * 48, against in-hospital death). Table on stdout, or --json.
 * Thresholds: fixed clinical ones for 2019 (NEWS2 >= 5, qSOFA >= 2,
 * SIRS >= 2); for 2012 Event 1, chosen on the first 2012 set evaluated
 * (set-a in the default run, the challenge's training set) and applied
 * unchanged to the others.
 */
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vigil/cohort.h"
#include "vigil/model.h"
#include "vigil/report.h"

#define MAX_TARGETS 16
#define MAX_SCORES 8

typedef struct score_def {
    const char *name;
    double fixed_threshold; /* NAN: chosen on the first set of the format */
    bool is_prob;
} score_def;

typedef struct chosen {
    char name[64];
    double threshold;
    char source[VIGIL_DATA_ID_MAX];
} chosen;

typedef struct ev {
    bool json;
    bool collect; /* hand the JSON to the caller (vigil_cli_evaluate_json) */
    const char *model_path;
    bool record;
    bool explain_audit;
    const char *outcomes;
    size_t max_stays;
    json_t *out;
    chosen thr[MAX_SCORES];
    size_t n_thr;
    int failures;
} ev;

static void usage(FILE *f)
{
    fprintf(f, "usage: vigil evaluate [--data PATH]... [--outcomes FILE] [--json] [--max-stays N]\n"
               "       vigil evaluate --model BUNDLE [--data PATH]... [--json] [--record]\n"
               "\n"
               "Evaluate early-warning scores on research data, with the metrics a clinical\n"
               "safety officer needs: AUROC with a 95%% DeLong CI, AUPRC, sensitivity,\n"
               "specificity and PPV at the threshold, and by task the PhysioNet 2019 utility,\n"
               "alerts per patient-day and lead time before onset, or the 2012 Event 1 score;\n"
               "then the same by sex, age band and hospital.\n"
               "\n"
               "  --data PATH      a folder or archive of PhysioNet 2019 (.psv) or 2012 (.txt)\n"
               "                   stays; repeat for several. Default: the shared copies\n"
               "                   (2019 hospitals A and B, 2012 set-a and set-b) under\n"
               "                   $VIGIL_DATA_DIR or ../shared/data.\n"
               "  --outcomes FILE  a PhysioNet 2012 Outcomes file (found automatically beside\n"
               "                   the data otherwise)\n"
               "  --json           machine-readable output\n"
               "  --max-stays N    evaluate only the first N stays of each set (for a quick look)\n"
               "  --model BUNDLE   score with a model bundle, beside NEWS2, at the bundle's own\n"
               "                   thresholds (chosen on its training data). Default data: the\n"
               "                   shared set it was NOT trained on (2019 A<->B; 2012 set-b)\n"
               "  --record         append the figures to the bundle's evaluation.external list\n"
               "  --explain-audit  (2019, with --model) what the top explanation reason is: a\n"
               "                   physiological variable with its value, or not, over every\n"
               "                   alert hour, every 4th scored hour, and a sample of 150 septic\n"
               "                   stays 6 h before onset and 150 other stays at mid-stay\n"
               "  -h, --help       show this help\n"
               "\n"
               "Scores: PhysioNet 2019 hourly NEWS2 (>= 5), qSOFA (>= 2) and SIRS (>= 2);\n"
               "PhysioNet 2012 at hour 48: NEWS2 then, NEWS2 maximum over 0-48 h, SAPS-I and\n"
               "SOFA, each at the Event 1 threshold chosen on the first 2012 set given.\n"
               "Inputs a data set lacks score nothing (2019 has no consciousness level; 2012\n"
               "no SpO2), so NEWS2 there is a lower bound.\n");
}

static const char *thr_source(ev *e, const char *name)
{
    for (size_t i = 0; i < e->n_thr; i++) {
        if (strcmp(e->thr[i].name, name) == 0) {
            return e->thr[i].source;
        }
    }
    return "";
}

static bool get_thr(ev *e, const char *name, double *t)
{
    for (size_t i = 0; i < e->n_thr; i++) {
        if (strcmp(e->thr[i].name, name) == 0) {
            *t = e->thr[i].threshold;
            return true;
        }
    }
    return false;
}

static json_t *jnum(bool has, double v)
{
    return has && isfinite(v) ? json_real(v) : json_null();
}

static json_t *summary_json(const vigil_eval_summary *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "n", json_integer((json_int_t)s->n));
    json_object_set_new(o, "n_pos", json_integer((json_int_t)s->n_pos));
    json_object_set_new(o, "reliable", json_boolean(s->reliable));
    json_object_set_new(o, "auroc", jnum(s->has_roc, s->auroc.auc));
    json_object_set_new(o, "auroc_ci95",
                        s->has_roc ? json_pack("[f,f]", s->auroc.lo, s->auroc.hi) : json_null());
    json_object_set_new(o, "auprc", jnum(s->has_auprc, s->auprc));
    json_object_set_new(o, "brier", jnum(s->has_brier, s->brier));
    json_object_set_new(o, "calibration_intercept", jnum(s->has_calibration, s->cal.intercept));
    json_object_set_new(o, "calibration_slope", jnum(s->has_calibration, s->cal.slope));
    const vigil_eval_confusion *c = &s->at_threshold;
    json_object_set_new(o, "sensitivity", jnum(c->has_sens, c->sens));
    json_object_set_new(o, "specificity", jnum(c->has_spec, c->spec));
    json_object_set_new(o, "ppv", jnum(c->has_ppv, c->ppv));
    return o;
}

static json_t *report_json(const vigil_report *r, const char *thr_src)
{
    json_t *o = json_object();
    json_object_set_new(o, "score", json_string(r->score_name));
    json_object_set_new(o, "threshold", json_real(r->threshold));
    json_object_set_new(o, "threshold_chosen_on", json_string(thr_src));
    json_object_set_new(o, "overall", summary_json(&r->overall));
    if (r->has_ece) {
        json_object_set_new(o, "ece", json_real(r->ece));
    }
    if (r->has_utility) {
        json_object_set_new(o, "utility", json_real(r->utility.normalized));
    }
    if (r->has_alerts) {
        json_object_set_new(o, "alerts_per_patient_day",
                            json_real(r->alerts.episodes_per_patient_day));
        json_object_set_new(o, "alert_hours_per_patient_day",
                            json_real(r->alerts.positive_hours_per_patient_day));
    }
    if (r->has_lead) {
        json_object_set_new(o, "lead_time",
                            json_pack("{s:f,s:o,s:o,s:o,s:f}", "window_h", r->lead_window_h,
                                      "median_h", jnum(r->lead.has_lead, r->lead.median_h), "q1_h",
                                      jnum(r->lead.has_lead, r->lead.q1_h), "q3_h",
                                      jnum(r->lead.has_lead, r->lead.q3_h), "fraction_alerted",
                                      r->lead.frac_alerted));
    }
    if (r->has_event1) {
        json_object_set_new(o, "event1", json_real(r->event1.score1));
    }
    json_t *groups = json_array();
    for (size_t g = 0; g < r->n_groups; g++) {
        json_t *gj = summary_json(&r->groups[g].s);
        json_object_set_new(gj, "kind", json_string(r->groups[g].kind));
        json_object_set_new(gj, "group", json_string(r->groups[g].name));
        json_array_append_new(groups, gj);
    }
    json_object_set_new(o, "subgroups", groups);
    json_object_set_new(o, "auroc_gap_sex", jnum(true, r->max_auroc_gap_sex));
    json_object_set_new(o, "auroc_gap_age", jnum(true, r->max_auroc_gap_age));
    return o;
}

static void fmt_pct(char *buf, size_t cap, bool has, double v)
{
    if (has) {
        snprintf(buf, cap, "%.3f", v);
    } else {
        snprintf(buf, cap, "  -  ");
    }
}

/* The table's column heads for a task. */
static void print_header(vigil_data_format fmt)
{
    if (fmt == VIGIL_DATA_PN2019) {
        printf("  %-12s %-21s %6s  %-8s %-5s %-5s %-5s  %7s  %6s   %s\n", "score", "AUROC (95% CI)",
               "AUPRC", "alert", "sens", "spec", "PPV", "utility", "alerts/pt-day",
               "lead h median (IQR), alerted");
    } else {
        printf("  %-12s %-21s %6s  %-8s %-5s %-5s %-5s  %s\n", "score", "AUROC (95% CI)", "AUPRC",
               "alert", "sens", "spec", "PPV", "Event 1");
    }
}

static void print_row(const vigil_report *r, vigil_data_format fmt)
{
    const vigil_eval_summary *s = &r->overall;
    const vigil_eval_confusion *c = &s->at_threshold;
    char sens[16], spec[16], ppv[16];
    fmt_pct(sens, sizeof sens, c->has_sens, c->sens);
    fmt_pct(spec, sizeof spec, c->has_spec, c->spec);
    fmt_pct(ppv, sizeof ppv, c->has_ppv, c->ppv);
    if (s->has_roc) {
        printf("  %-12s %.3f (%.3f-%.3f) %6.3f  >=%-6.3g %s %s %s", r->score_name, s->auroc.auc,
               s->auroc.lo, s->auroc.hi, s->auprc, r->threshold, sens, spec, ppv);
    } else {
        printf("  %-12s (too few events to report)", r->score_name);
    }
    if (fmt == VIGIL_DATA_PN2019 && r->has_utility) {
        printf("  %7.3f  %6.2f", r->utility.normalized, r->alerts.episodes_per_patient_day);
        if (r->has_lead && r->lead.has_lead) {
            printf("   %4.1f (%.1f-%.1f) %5.1f%%", r->lead.median_h, r->lead.q1_h, r->lead.q3_h,
                   100.0 * r->lead.frac_alerted);
        }
    }
    if (fmt == VIGIL_DATA_PN2012 && r->has_event1) {
        printf("  %.3f", r->event1.score1);
    }
    printf("\n");
}

static void print_groups(const vigil_report *r)
{
    printf("    %s AUROC by subgroup:", r->score_name);
    for (size_t g = 0; g < r->n_groups; g++) {
        const vigil_report_group *gr = &r->groups[g];
        if (gr->s.has_roc) {
            printf(" %s %.3f;", gr->name, gr->s.auroc.auc);
        } else {
            printf(" %s n/a (%zu events);", gr->name, gr->s.n_pos);
        }
    }
    printf(" gap sex %.3f, age %.3f\n", r->max_auroc_gap_sex, r->max_auroc_gap_age);
}

static void progress(size_t n_stays, size_t n_rows, void *ctx)
{
    vigil_cli_progress("loading %s: %zu stays, %zu rows", (const char *)ctx, n_stays, n_rows);
}

/* The baseline scores of a cohort, one array per score. */
static size_t baselines(const vigil_cohort *c, score_def *defs, double **arrays)
{
    size_t n = 0;
    if (c->format == VIGIL_DATA_PN2019) {
        defs[0] = (score_def){"NEWS2", 5.0, false};
        defs[1] = (score_def){"qSOFA", 2.0, false};
        defs[2] = (score_def){"SIRS", 2.0, false};
        n = 3;
    } else {
        defs[0] = (score_def){"NEWS2@48h", NAN, false};
        defs[1] = (score_def){"NEWS2max48h", NAN, false};
        defs[2] = (score_def){"SAPS-I", NAN, false};
        defs[3] = (score_def){"SOFA", NAN, false};
        n = 4;
    }
    for (size_t k = 0; k < n; k++) {
        arrays[k] = malloc(sizeof(double) * c->n_rows);
    }
    for (size_t i = 0; i < c->n_rows; i++) {
        const vigil_cohort_stay *s = &c->stays[c->stay_of[i]];
        if (c->format == VIGIL_DATA_PN2019) {
            arrays[0][i] = c->news2[i];
            arrays[1][i] = c->qsofa[i];
            arrays[2][i] = c->sirs[i];
        } else {
            arrays[0][i] = s->news2_last;
            arrays[1][i] = s->news2_max48;
            /* unknown severity scores rank lowest; counted below */
            arrays[2][i] = isnan(s->saps1) ? -1.0 : s->saps1;
            arrays[3][i] = isnan(s->sofa) ? -1.0 : s->sofa;
        }
    }
    return n;
}

/* Load path as a cohort (with the progress line); NULL after saying why. */
static vigil_cohort *load_cohort(const ev *e, const char *path, bool with_features)
{
    vigil_cohort_opts opts = {.outcomes_path = e->outcomes,
                              .max_stays = e->max_stays,
                              .with_features = with_features,
                              .progress = progress,
                              .ctx = (void *)path};
    vigil_cohort *c = NULL;
    vigil_err err = {0};
    vigil_status st = vigil_cohort_load(path, &opts, &c, &err);
    vigil_cli_progress_done();
    if (st != VIGIL_OK) {
        fprintf(stderr, "vigil evaluate: %s: %s\n", path, err.msg);
        return NULL;
    }
    return c;
}

/* Data-quality counts of a loaded cohort, the same for plain `vigil evaluate`
 * and `vigil evaluate --model`: malformed rows (a file cut off mid-row, a
 * wrong field count, a bad number or time), files skipped as unreadable
 * (bad header, empty, unrecognised), stays with no measurement, and values
 * dropped as implausible. */
typedef struct quality {
    size_t malformed, implausible, files_skipped, stays_without_meas;
    size_t cut_short; /* 2012 stays whose records end before hour 47 (scored at 48 anyway) */
} quality;

#define CUT_SHORT_BEFORE_H 47.0

static quality quality_of(const vigil_cohort *c)
{
    quality q = {0};
    for (int i = 0; i < VIGIL_DATA_ISSUE_COUNT; i++) {
        if (vigil_data_issue_is_malformed((vigil_data_issue)i)) {
            q.malformed += c->summary.n_issues[i];
        }
    }
    q.implausible = c->summary.n_issues[VIGIL_DATA_IMPLAUSIBLE];
    q.files_skipped = c->summary.n_issues[VIGIL_DATA_BAD_HEADER] +
                      c->summary.n_issues[VIGIL_DATA_EMPTY_FILE] +
                      c->summary.n_issues[VIGIL_DATA_UNRECOGNISED];
    q.stays_without_meas = c->summary.n_stays_without_meas;
    for (size_t k = 0; c->format == VIGIL_DATA_PN2012 && k < c->n_stays; k++) {
        q.cut_short += !(c->stays[k].last_t_h >= CUT_SHORT_BEFORE_H);
    }
    return q;
}

static void quality_json(json_t *o, const quality *q)
{
    json_object_set_new(o, "malformed_rows", json_integer((json_int_t)q->malformed));
    json_object_set_new(o, "implausible_values", json_integer((json_int_t)q->implausible));
    json_object_set_new(o, "files_skipped", json_integer((json_int_t)q->files_skipped));
    json_object_set_new(o, "stays_without_measurements",
                        json_integer((json_int_t)q->stays_without_meas));
    json_object_set_new(o, "stays_cut_short", json_integer((json_int_t)q->cut_short));
}

static void print_quality(const quality *q)
{
    printf("  data quality: %zu malformed rows (a file cut off mid-row counts here), %zu files "
           "skipped as unreadable, %zu stays without a measurement, %zu implausible values "
           "dropped\n",
           q->malformed, q->files_skipped, q->stays_without_meas, q->implausible);
    if (q->cut_short > 0) {
        printf("  %zu stays cut short: their records end before hour %.0f and they are scored at "
               "hour 48 with what there is\n",
               q->cut_short, CUT_SHORT_BEFORE_H);
    }
}

static int evaluate_one(ev *e, const char *path)
{
    vigil_cohort *c = load_cohort(e, path, false);
    if (c == NULL) {
        return VIGIL_EXIT_DATA;
    }
    vigil_err err = {0};
    const char *set = c->n_sets == 1 ? c->sets[0] : path;
    size_t n_pos_stays = 0;
    for (size_t k = 0; k < c->n_stays; k++) {
        n_pos_stays += c->format == VIGIL_DATA_PN2019 ? c->stays[k].sepsis : c->stays[k].died == 1;
    }
    size_t issues = 0;
    for (int i = 0; i < VIGIL_DATA_ISSUE_COUNT; i++) {
        if (vigil_data_issue_is_malformed((vigil_data_issue)i)) {
            issues += c->summary.n_issues[i];
        }
    }
    size_t implausible = c->summary.n_issues[VIGIL_DATA_IMPLAUSIBLE];
    score_def defs[MAX_SCORES];
    double *arrays[MAX_SCORES] = {0};
    size_t n_scores = baselines(c, defs, arrays);
    json_t *cj = json_object();
    json_object_set_new(cj, "data", json_string(path));
    json_object_set_new(cj, "set", json_string(set));
    json_object_set_new(
        cj, "format",
        json_string(c->format == VIGIL_DATA_PN2019 ? "physionet2019" : "physionet2012"));
    json_object_set_new(cj, "stays", json_integer((json_int_t)c->n_stays));
    json_object_set_new(cj, "rows", json_integer((json_int_t)c->n_rows));
    json_object_set_new(cj, "event_stays", json_integer((json_int_t)n_pos_stays));
    quality q = quality_of(c);
    quality_json(cj, &q);
    json_t *reports = json_array();
    if (!e->json) {
        if (c->format == VIGIL_DATA_PN2019) {
            printf("\nPhysioNet 2019 %s: %zu stays, %zu hourly rows, %zu with sepsis (%.2f%%); "
                   "%zu malformed rows, %zu implausible values dropped\n",
                   set, c->n_stays, c->n_rows, n_pos_stays,
                   100.0 * (double)n_pos_stays / (double)c->n_stays, issues, implausible);
            print_quality(&q);
            print_header(VIGIL_DATA_PN2019);
        } else {
            printf("\nPhysioNet 2012 %s: %zu stays, %zu in-hospital deaths (%.2f%%); %zu malformed "
                   "rows, %zu implausible values dropped\n",
                   set, c->n_stays, n_pos_stays, 100.0 * (double)n_pos_stays / (double)c->n_stays,
                   issues, implausible);
            print_quality(&q);
            print_header(VIGIL_DATA_PN2012);
        }
    }
    int rc = VIGIL_EXIT_OK;
    vigil_report *rep = malloc(sizeof *rep * n_scores);
    for (size_t k = 0; k < n_scores && rep != NULL; k++) {
        double thr = defs[k].fixed_threshold;
        if (isnan(thr) && !get_thr(e, defs[k].name, &thr)) {
            if (vigil_report_best_event1_threshold(c, arrays[k], &thr, &err) != VIGIL_OK ||
                e->n_thr == MAX_SCORES) {
                fprintf(stderr, "vigil evaluate: %s: %s: %s\n", set, defs[k].name, err.msg);
                rc = VIGIL_EXIT_DATA;
                continue;
            }
            chosen *ch = &e->thr[e->n_thr++];
            snprintf(ch->name, sizeof ch->name, "%s", defs[k].name);
            snprintf(ch->source, sizeof ch->source, "%s", set);
            ch->threshold = thr;
        }
        if (vigil_report_score(c, arrays[k], defs[k].name, defs[k].is_prob, thr, &rep[k], &err) !=
            VIGIL_OK) {
            fprintf(stderr, "vigil evaluate: %s: %s: %s\n", set, defs[k].name, err.msg);
            rc = VIGIL_EXIT_DATA;
            continue;
        }
        const char *src = isnan(defs[k].fixed_threshold) ? thr_source(e, defs[k].name)
                                                         : "fixed clinical threshold";
        json_array_append_new(reports, report_json(&rep[k], src));
        if (!e->json) {
            print_row(&rep[k], c->format);
        }
    }
    if (!e->json && rep != NULL && rc == VIGIL_EXIT_OK) {
        print_groups(&rep[0]);
        if (c->format == VIGIL_DATA_PN2012) {
            printf("  2012 thresholds chosen for Event 1 on %s.\n", thr_source(e, defs[0].name));
        }
    }
    json_object_set_new(cj, "scores", reports);
    json_array_append_new(e->out, cj);
    free(rep);
    for (size_t k = 0; k < n_scores; k++) {
        free(arrays[k]);
    }
    vigil_cohort_free(c);
    return rc;
}

/* Alert burden of the model against NEWS2 >= 5 at NEWS2's sensitivity. */
typedef struct burden {
    double thr;
    double sens_model, sens_news2;
    double hours_ratio, episodes_ratio;
} burden;

static vigil_status burden_at(const vigil_cohort *c, const double *risk, const double *news2,
                              double thr, burden *out, vigil_err *err)
{
    vigil_report *rm = malloc(sizeof *rm), *rn = malloc(sizeof *rn);
    vigil_status st = rm == NULL || rn == NULL
                          ? vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory")
                          : VIGIL_OK;
    if (st == VIGIL_OK) {
        st = vigil_report_score(c, risk, "model", true, thr, rm, err);
    }
    if (st == VIGIL_OK) {
        st = vigil_report_score(c, news2, "NEWS2", false, 5.0, rn, err);
    }
    if (st == VIGIL_OK) {
        out->thr = thr;
        out->sens_model = rm->overall.at_threshold.sens;
        out->sens_news2 = rn->overall.at_threshold.sens;
        out->hours_ratio = (double)rm->alerts.positive_hours / (double)rn->alerts.positive_hours;
        out->episodes_ratio = (double)rm->alerts.episodes / (double)rn->alerts.episodes;
    }
    free(rm);
    free(rn);
    return st;
}

static json_t *burden_json(const burden *b, const char *rule)
{
    return json_pack("{s:s,s:f,s:f,s:f,s:f,s:f}", "threshold_rule", rule, "threshold", b->thr,
                     "sensitivity_model", b->sens_model, "sensitivity_news2", b->sens_news2,
                     "alert_hours_ratio", b->hours_ratio, "alert_episodes_ratio",
                     b->episodes_ratio);
}

static void print_burden(const char *what, const burden *b)
{
    printf("  %s: risk >= %.4f, sensitivity model %.3f vs NEWS2 %.3f; model raises %.0f%% of "
           "NEWS2's alert hours, %.0f%% of its alert episodes\n",
           what, b->thr, b->sens_model, b->sens_news2, 100.0 * b->hours_ratio,
           100.0 * b->episodes_ratio);
}

static int record_in_bundle(const char *path, json_t *entry)
{
    json_error_t je;
    json_t *b = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    json_t *ext = json_object_get(json_object_get(b, "evaluation"), "external");
    if (b == NULL || !json_is_array(ext)) {
        fprintf(stderr, "vigil evaluate: cannot record into %s\n", path);
        json_decref(b);
        return VIGIL_EXIT_IO;
    }
    /* the validation report's curves and tables stay out of the bundle */
    json_t *kept = json_deep_copy(entry);
    json_object_del(kept, "validation");
    json_array_append_new(ext, kept);
    int rc = json_dump_file(b, path, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0 ? VIGIL_EXIT_OK
                                                                              : VIGIL_EXIT_IO;
    json_decref(b);
    return rc;
}

/* What the ward would see: the rows with enough data to score (REQ
 * FEAT-ENOUGH-DATA; the rest show "not enough data to score"), the model's
 * and NEWS2's AUROC over those rows, and the rate of the low-confidence
 * flag (an input outside the training range) over them. */
typedef struct ward_view {
    size_t n_rows, n_enough, n_low_conf;
    bool has_auc;
    double auc_model, auc_news2;
} ward_view;

static vigil_status ward_view_of(const vigil_model *m, const vigil_cohort *c, const double *risk,
                                 const double *news2, bool sepsis, ward_view *out, vigil_err *err)
{
    out->n_rows = c->n_rows;
    vigil_model_work *w = NULL;
    double *r = malloc(sizeof *r * (c->n_rows + 1));
    double *n2 = malloc(sizeof *n2 * (c->n_rows + 1));
    uint8_t *y = malloc(c->n_rows + 1);
    vigil_status st = r == NULL || n2 == NULL || y == NULL
                          ? vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory")
                          : vigil_model_work_new(m, &w, err);
    for (size_t i = 0; st == VIGIL_OK && i < c->n_rows; i++) {
        const float *x = &c->x[i * c->n_feat];
        if (sepsis && !vigil_features_enough_data(x, NULL, 0)) {
            continue;
        }
        vigil_model_pred p;
        st = vigil_model_predict(m, w, x, &p, NULL, err);
        out->n_low_conf += p.low_confidence;
        r[out->n_enough] = risk[i];
        n2[out->n_enough] = news2[i];
        y[out->n_enough] = c->label[i];
        out->n_enough++;
    }
    if (st == VIGIL_OK && sepsis && out->n_enough > 0) {
        out->has_auc = vigil_eval_auroc(r, y, out->n_enough, &out->auc_model, NULL) == VIGIL_OK &&
                       vigil_eval_auroc(n2, y, out->n_enough, &out->auc_news2, NULL) == VIGIL_OK;
    }
    vigil_model_work_free(w);
    free(r);
    free(n2);
    free(y);
    return st;
}

static void ward_view_json(json_t *o, const ward_view *v, bool sepsis)
{
    json_t *j = json_object();
    json_object_set_new(j, "rows", json_integer((json_int_t)v->n_rows));
    json_object_set_new(j, "rows_with_enough_data", json_integer((json_int_t)v->n_enough));
    json_object_set_new(j, "rows_not_enough_data",
                        json_integer((json_int_t)(v->n_rows - v->n_enough)));
    json_object_set_new(j, "low_confidence_rows", json_integer((json_int_t)v->n_low_conf));
    json_object_set_new(j, "low_confidence_rate",
                        v->n_enough > 0 ? json_real((double)v->n_low_conf / (double)v->n_enough)
                                        : json_null());
    if (sepsis && v->has_auc) {
        json_object_set_new(j, "auroc_model_enough_data", json_real(v->auc_model));
        json_object_set_new(j, "auroc_news2_enough_data", json_real(v->auc_news2));
    }
    json_object_set_new(o, "ward_view", j);
}

static void print_ward_view(const ward_view *v, bool sepsis)
{
    double nd = v->n_rows > 0 ? 100.0 * (double)(v->n_rows - v->n_enough) / (double)v->n_rows : 0;
    double lc = v->n_enough > 0 ? 100.0 * (double)v->n_low_conf / (double)v->n_enough : 0;
    if (sepsis) {
        printf("  not enough data to score: %zu of %zu rows (%.1f%%); low-confidence flag on "
               "%zu of the %zu scored rows (%.1f%%)\n",
               v->n_rows - v->n_enough, v->n_rows, nd, v->n_low_conf, v->n_enough, lc);
        if (v->has_auc) {
            printf("  on the scored rows only: model AUROC %.4f, NEWS2 AUROC %.4f\n",
                   v->auc_model, v->auc_news2);
        }
    } else {
        printf("  low-confidence flag on %zu of %zu stays (%.1f%%)\n", v->n_low_conf,
               v->n_enough, lc);
    }
}

/* ------------------------------------------------ explanation audit */

/* Counts of top reasons over one set of rows. */
typedef struct audit_count {
    size_t n, physiological, not_physiological, missing, none;
} audit_count;

typedef struct audit {
    audit_count alert, every4, sample;
    size_t sample_septic, sample_other;
} audit;

/* A group a reason can name that is physiology measured on the patient. */
static bool physiological(size_t g)
{
    if (g < VIGIL_VAR_COUNT) {
        return g != VIGIL_VAR_AGE;
    }
    return g == VIGIL_XG_SHOCK || g == VIGIL_XG_PULSE_PRESSURE || g == VIGIL_XG_NEWS2 ||
           g == VIGIL_XG_UREA_CREAT || (g >= VIGIL_XG_COURSE && g < VIGIL_XG_COUNT);
}

/* The top reason shown for row x (the first pushing up, else the first
 * pushing down), classified into *a. */
static vigil_status audit_row(const vigil_model *m, vigil_model_work *w, const float *x,
                              double *phi, audit_count *a, vigil_err *err)
{
    vigil_model_pred p;
    vigil_status st = vigil_model_predict(m, w, x, &p, phi, err);
    if (st != VIGIL_OK) {
        return st;
    }
    vigil_factor up[1], down[1];
    size_t nu = 0, nd = 0;
    vigil_model_explain(m, x, phi, 1, up, &nu, down, &nd, NULL, 0);
    a->n++;
    if (nu + nd == 0) {
        a->none++;
        return VIGIL_OK;
    }
    size_t g = nu > 0 ? up[0].input : down[0].input;
    double sum[VIGIL_XG_COUNT];
    unsigned char state[VIGIL_XG_COUNT];
    vigil_model_shap_by_group(m, x, phi, sum, state);
    if (state[g] != VIGIL_XG_PRESENT) {
        a->missing++;
    } else if (physiological(g)) {
        a->physiological++;
    } else {
        a->not_physiological++;
    }
    return VIGIL_OK;
}

static vigil_status run_audit(const vigil_model *m, const vigil_model_info *info,
                              const vigil_cohort *c, const double *risk, audit *out,
                              vigil_err *err)
{
    vigil_model_work *w = NULL;
    double *phi = malloc(sizeof *phi * (info->n_inputs + 1));
    vigil_status st = phi == NULL ? vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory")
                                  : vigil_model_work_new(m, &w, err);
    size_t k4 = 0;
    for (size_t i = 0; st == VIGIL_OK && i < c->n_rows; i++) {
        const float *x = &c->x[i * c->n_feat];
        if (!vigil_features_enough_data(x, NULL, 0)) {
            continue;
        }
        if (risk[i] >= info->threshold) {
            st = audit_row(m, w, x, phi, &out->alert, err);
        }
        if (st == VIGIL_OK && k4++ % 4 == 0) {
            st = audit_row(m, w, x, phi, &out->every4, err);
        }
    }
    /* the sample: septic stays 6 h before onset, other stays at mid-stay, in stay order */
    for (size_t k = 0; st == VIGIL_OK && k < c->n_stays; k++) {
        const vigil_cohort_stay *s = &c->stays[k];
        bool septic = s->sepsis && s->onset_row >= 6;
        size_t *n = septic ? &out->sample_septic : &out->sample_other;
        if (*n >= 150 || (s->sepsis && !septic)) {
            continue;
        }
        size_t r = s->row0 + (septic ? (size_t)s->onset_row - 6 : s->n_rows / 2);
        if (r >= s->row0 + s->n_rows || !vigil_features_enough_data(&c->x[r * c->n_feat], NULL, 0)) {
            continue;
        }
        st = audit_row(m, w, &c->x[r * c->n_feat], phi, &out->sample, err);
        (*n)++;
    }
    vigil_model_work_free(w);
    free(phi);
    return st;
}

static json_t *audit_count_json(const audit_count *a)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:o}", "rows", (json_int_t)a->n, "physiological",
                     (json_int_t)a->physiological, "not_physiological",
                     (json_int_t)a->not_physiological, "missing_input", (json_int_t)a->missing,
                     "no_reason", (json_int_t)a->none, "physiological_share",
                     a->n > 0 ? json_real((double)a->physiological / (double)a->n) : json_null());
}

static void print_audit_count(const char *what, const audit_count *a)
{
    printf("    %-58s %7zu rows: physiological %.1f%%, other (age, sex, time) %.1f%%, missing "
           "input %.1f%%, none %.1f%%\n",
           what, a->n, a->n ? 100.0 * (double)a->physiological / (double)a->n : 0.0,
           a->n ? 100.0 * (double)a->not_physiological / (double)a->n : 0.0,
           a->n ? 100.0 * (double)a->missing / (double)a->n : 0.0,
           a->n ? 100.0 * (double)a->none / (double)a->n : 0.0);
}

static int model_on(ev *e, const vigil_model *m, const vigil_model_info *info, const char *path)
{
    bool sepsis = strcmp(info->task, "sepsis2019") == 0;
    vigil_cohort *c = load_cohort(e, path, true);
    if (c == NULL) {
        return VIGIL_EXIT_DATA;
    }
    vigil_err err = {0};
    if (c->format != (sepsis ? VIGIL_DATA_PN2019 : VIGIL_DATA_PN2012)) {
        fprintf(stderr, "vigil evaluate: %s: the model's task is %s; this is other data\n", path,
                info->task);
        vigil_cohort_free(c);
        return VIGIL_EXIT_DATA;
    }
    const char *set = c->n_sets == 1 ? c->sets[0] : path;
    double *risk = malloc(sizeof *risk * c->n_rows);
    double *news2 = malloc(sizeof *news2 * c->n_rows);
    double *saps = malloc(sizeof *saps * c->n_rows);
    vigil_report *rep = calloc(3, sizeof *rep);
    int rc = VIGIL_EXIT_OK;
    vigil_status st = risk == NULL || news2 == NULL || saps == NULL || rep == NULL
                          ? vigil_err_set(&err, VIGIL_ERR_NOMEM, NULL, "out of memory")
                          : VIGIL_OK;
    if (st == VIGIL_OK) {
        vigil_cli_progress("scoring %zu rows with %s", c->n_rows, info->model_id);
        st = vigil_model_predict_batch(m, c->x, c->n_rows, c->n_feat, risk, &err);
        vigil_cli_progress_done();
    }
    for (size_t i = 0; st == VIGIL_OK && i < c->n_rows; i++) {
        const vigil_cohort_stay *s = &c->stays[c->stay_of[i]];
        news2[i] = sepsis ? c->news2[i] : s->news2_last;
        saps[i] = isnan(s->saps1) ? -1.0 : s->saps1;
    }
    ward_view wv = {0};
    if (st == VIGIL_OK) {
        st = ward_view_of(m, c, risk, news2, sepsis, &wv, &err);
    }
    if (st == VIGIL_OK) {
        st = vigil_report_score(c, risk, "model", true, info->threshold, &rep[0], &err);
    }
    if (st == VIGIL_OK) {
        st =
            vigil_report_score(c, news2, sepsis ? "NEWS2" : "NEWS2@48h", false, 5.0, &rep[1], &err);
    }
    double saps_thr = NAN;
    if (st == VIGIL_OK && !sepsis) {
        st = vigil_report_best_event1_threshold(c, saps, &saps_thr, &err);
        if (st == VIGIL_OK) {
            st = vigil_report_score(c, saps, "SAPS-I", false, saps_thr, &rep[2], &err);
        }
    }
    burden trained = {0}, matched = {0};
    if (st == VIGIL_OK && sepsis) {
        /* a bundle without a NEWS2-matched threshold: the comparison at this data's own match
         * below still runs (burden_at at the bundle's alert threshold fills sens_news2) */
        st = burden_at(c, risk, news2,
                       isnan(info->threshold_news2_matched) ? info->threshold
                                                            : info->threshold_news2_matched,
                       &trained, &err);
        vigil_eval_confusion cm;
        if (st == VIGIL_OK) {
            st = vigil_eval_threshold_for_sensitivity(risk, c->label, c->n_rows, trained.sens_news2,
                                                      &cm, &err);
        }
        if (st == VIGIL_OK) {
            st = burden_at(c, risk, news2, cm.threshold, &matched, &err);
        }
    }
    audit au = {0};
    if (st == VIGIL_OK && sepsis && e->explain_audit) {
        vigil_cli_progress("explaining the audit rows");
        st = run_audit(m, info, c, risk, &au, &err);
        vigil_cli_progress_done();
    }
    if (st != VIGIL_OK) {
        fprintf(stderr, "vigil evaluate: %s: %s\n", set, err.msg);
        rc = VIGIL_EXIT_DATA;
    } else {
        json_t *cj = json_object();
        if (sepsis && e->explain_audit) {
            json_object_set_new(
                cj, "explanation_audit",
                json_pack("{s:o,s:o,s:o,s:I,s:I}", "alert_hours", audit_count_json(&au.alert),
                          "every_4th_scored_hour", audit_count_json(&au.every4), "sample",
                          audit_count_json(&au.sample), "sample_septic",
                          (json_int_t)au.sample_septic, "sample_other",
                          (json_int_t)au.sample_other));
        }
        json_object_set_new(cj, "model_id", json_string(info->model_id));
        json_object_set_new(cj, "model_version", json_string(info->model_version));
        json_object_set_new(cj, "trained_on", json_string(info->trained_on));
        json_object_set_new(cj, "data", json_string(set));
        json_object_set_new(cj, "stays", json_integer((json_int_t)c->n_stays));
        json_object_set_new(cj, "rows", json_integer((json_int_t)c->n_rows));
        quality q = quality_of(c);
        quality_json(cj, &q);
        ward_view_json(cj, &wv, sepsis);
        if (sepsis) {
            json_t *vj = NULL;
            if (vigil_cli_validation_json(m, e->model_path, c, risk, news2, info->threshold, &vj,
                                          &err) != VIGIL_OK) {
                fprintf(stderr, "vigil evaluate: %s: validation figures: %s\n", set, err.msg);
                rc = VIGIL_EXIT_DATA;
            }
            json_object_set_new(cj, "validation", vj != NULL ? vj : json_null());
        }
        json_object_set_new(cj, "model", report_json(&rep[0], "model bundle (training data)"));
        json_object_set_new(cj, "news2", report_json(&rep[1], "fixed clinical threshold"));
        if (!sepsis) {
            json_object_set_new(
                cj, "saps1", report_json(&rep[2], "chosen on this data (optimistic for SAPS-I)"));
        } else {
            json_object_set_new(cj, "burden_threshold_from_training",
                                burden_json(&trained, "NEWS2 >= 5 sensitivity on training data"));
            json_object_set_new(cj, "burden_matched_on_this_data",
                                burden_json(&matched, "NEWS2 >= 5 sensitivity on this data "
                                                      "(comparison only)"));
        }
        json_array_append(e->out, cj);
        if (!e->json) {
            printf("\n%s %s (trained on %s) scored on %s: %zu stays, %zu rows\n", info->model_id,
                   info->model_version, info->trained_on, set, c->n_stays, c->n_rows);
            print_quality(&q);
            print_ward_view(&wv, sepsis);
            print_header(c->format);
            print_row(&rep[0], c->format);
            print_row(&rep[1], c->format);
            if (!sepsis) {
                print_row(&rep[2], c->format);
                printf("  (SAPS-I's threshold is chosen on this data: optimistic for SAPS-I)\n");
            }
            const vigil_eval_summary *s0 = &rep[0].overall;
            if (s0->has_brier) {
                printf("  calibration: Brier %.4f, intercept %.3f, slope %.3f, ECE %.4f\n",
                       s0->brier, s0->has_calibration ? s0->cal.intercept : NAN,
                       s0->has_calibration ? s0->cal.slope : NAN, rep[0].ece);
            }
            if (sepsis) {
                print_burden("at NEWS2 >= 5's sensitivity, threshold from training data", &trained);
                print_burden("at NEWS2 >= 5's sensitivity here (comparison only)", &matched);
            }
            print_groups(&rep[0]);
            print_groups(&rep[1]);
            if (sepsis && e->explain_audit) {
                printf("  top explanation reason (scored rows only):\n");
                print_audit_count("alert hours (risk >= the alert threshold)", &au.alert);
                print_audit_count("every 4th scored hour", &au.every4);
                char what[96];
                snprintf(what, sizeof what, "sample: %zu septic stays 6 h before onset + %zu others",
                         au.sample_septic, au.sample_other);
                print_audit_count(what, &au.sample);
            }
        }
        if (e->record) {
            rc = record_in_bundle(e->model_path, cj);
        }
        json_decref(cj);
    }
    free(risk);
    free(news2);
    free(saps);
    free(rep);
    vigil_cohort_free(c);
    return rc;
}

static int evaluate_model(ev *e, const char **targets, size_t n_targets)
{
    vigil_model *m = NULL;
    vigil_err err = {0};
    if (vigil_model_load(e->model_path, &m, &err) != VIGIL_OK) {
        fprintf(stderr, "vigil evaluate: %s\n", err.msg);
        return err.status == VIGIL_ERR_IO ? VIGIL_EXIT_IO : VIGIL_EXIT_DATA;
    }
    vigil_model_info info;
    vigil_model_get_info(m, &info);
    static char dflt[PATH_MAX];
    if (n_targets == 0) {
        char dir[PATH_MAX - 64];
        if (vigil_cli_data_dir(dir, sizeof dir) != 0) {
            fprintf(stderr, "vigil evaluate: no --data given and the shared data were not found\n");
            vigil_model_free(m);
            return VIGIL_EXIT_IO;
        }
        if (strchr(info.trained_on, '+') != NULL) {
            fprintf(stderr,
                    "vigil evaluate: %s was trained on every shared set (%s): there is no held-out "
                    "set to pick; its figures come from cross-validation "
                    "(evaluation.cross_validation). Give --data to score other data.\n",
                    info.model_id, info.trained_on);
            vigil_model_free(m);
            return VIGIL_EXIT_USAGE;
        }
        const char *rel = strcmp(info.task, "mortality2012") == 0 ? "physionet2012/set-b.tar.gz"
                          : strstr(info.trained_on, "B") != NULL
                              ? "physionet2019/training_setA.tar.gz"
                              : "physionet2019/training_setB.tar.gz";
        snprintf(dflt, sizeof dflt, "%s/%s", dir, rel);
        targets[n_targets++] = dflt;
    }
    if (!e->json) {
        printf("vigil evaluate --model: %s %s, task %s, %zu inputs, %zu trees.\n"
               "Alert threshold risk >= %.4f (%s).\n"
               "Trained on ICU research data; not validated for clinical use.\n",
               info.model_id, info.model_version, info.task, info.n_inputs, info.n_trees,
               info.threshold, info.threshold_rule);
    }
    int rc = VIGIL_EXIT_OK;
    for (size_t i = 0; i < n_targets; i++) {
        int r = model_on(e, m, &info, targets[i]);
        if (r != VIGIL_EXIT_OK) {
            rc = r;
        }
    }
    if (e->json && !e->collect) {
        char *text = json_dumps(e->out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text != NULL) {
            puts(text);
            free(text);
        }
    }
    vigil_model_free(m);
    return rc;
}

int vigil_cli_evaluate(int argc, char **argv)
{
    return vigil_cli_evaluate_json(argc, argv, NULL);
}

int vigil_cli_evaluate_json(int argc, char **argv, json_t **out_json)
{
    static const struct option longopts[] = {
        {"data", required_argument, NULL, 'd'},  {"outcomes", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'j'},        {"max-stays", required_argument, NULL, 'm'},
        {"model", required_argument, NULL, 'M'}, {"record", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},        {"explain-audit", no_argument, NULL, 'x'},
        {NULL, 0, NULL, 0},
    };
    ev e = {.collect = out_json != NULL};
    const char *targets[MAX_TARGETS];
    size_t n_targets = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (n_targets == MAX_TARGETS) {
                fprintf(stderr, "vigil evaluate: at most %d --data\n", MAX_TARGETS);
                return VIGIL_EXIT_USAGE;
            }
            targets[n_targets++] = optarg;
            break;
        case 'o':
            e.outcomes = optarg;
            break;
        case 'j':
            e.json = true;
            break;
        case 'M':
            e.model_path = optarg;
            break;
        case 'x':
            e.explain_audit = true;
            break;
        case 'r':
            e.record = true;
            break;
        case 'm': {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || v <= 0) {
                fprintf(stderr, "vigil evaluate: --max-stays needs a positive number\n");
                return VIGIL_EXIT_USAGE;
            }
            e.max_stays = (size_t)v;
            break;
        }
        case 'h':
            usage(stdout);
            return VIGIL_EXIT_OK;
        default:
            fprintf(stderr, "Run 'vigil evaluate --help' for the options.\n");
            return VIGIL_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vigil evaluate: unexpected argument '%s'\n", argv[optind]);
        return VIGIL_EXIT_USAGE;
    }
    static char shared[4][PATH_MAX];
    if (n_targets == 0 && e.model_path == NULL) {
        char dir[PATH_MAX - 64];
        if (vigil_cli_data_dir(dir, sizeof dir) != 0) {
            fprintf(stderr, "vigil evaluate: no --data given and the shared data were not found "
                            "(set VIGIL_DATA_DIR)\n");
            return VIGIL_EXIT_IO;
        }
        static const char *const rel[4] = {
            "physionet2019/training_setA.tar.gz", "physionet2019/training_setB.tar.gz",
            "physionet2012/set-a.tar.gz", "physionet2012/set-b.tar.gz"};
        for (int i = 0; i < 4; i++) {
            snprintf(shared[i], sizeof shared[i], "%s/%s", dir, rel[i]);
            targets[n_targets++] = shared[i];
        }
    }
    e.out = json_array();
    e.json = e.json || e.collect;
    if (out_json != NULL) {
        *out_json = json_incref(e.out);
    }
    if (!e.json && e.model_path == NULL) {
        printf("vigil evaluate: baseline early-warning scores on ICU research data.\n"
               "AUROC with 95%% DeLong CI; alerts are score >= threshold; utility is the\n"
               "PhysioNet 2019 normalised utility; alerts/pt-day counts alert episodes (rising\n"
               "edges); lead time is from the first alert within 48 h before onset.\n");
    }
    if (e.model_path != NULL) {
        int rc = evaluate_model(&e, targets, n_targets);
        json_decref(e.out);
        return rc;
    }
    int rc = VIGIL_EXIT_OK;
    for (size_t i = 0; i < n_targets; i++) {
        int r = evaluate_one(&e, targets[i]);
        if (r != VIGIL_EXIT_OK) {
            rc = r;
        }
    }
    if (e.json && !e.collect) {
        char *text = json_dumps(e.out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text != NULL) {
            puts(text);
            free(text);
        }
    }
    json_decref(e.out);
    return rc;
}
