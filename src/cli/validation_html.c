/*
 * validation_html.c: the local validation report as one self-contained HTML
 * file: inline CSS and SVG, no script, no external resource, laid out for
 * print (A4, sections kept whole where they fit). It renders one entry of
 * `vigil evaluate --model --json` (the model's and NEWS2's reports and the
 * "validation" object) and the bundle's model card; it computes nothing, so
 * every figure is one that `vigil evaluate --json` prints for the same
 * inputs. Each figure is written as <span data-fig="PATH" data-v="VALUE">,
 * PATH the figure's place in that JSON entry (keys and array indices joined
 * by '/') and VALUE its full-precision number, so a test can check every
 * figure against the JSON. All text from data or bundles is HTML-escaped.
 * Sections follow the TRIPOD+AI reporting items that apply to an external
 * validation (Collins et al., BMJ 2024;385:e078378).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct html {
    FILE *f;
    const json_t *e; /* the evaluate entry */
} html;

static void esc(FILE *f, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* The value at path ("a/b/0/c") in j; NULL when absent. */
static const json_t *at(const json_t *j, const char *path)
{
    char key[128];
    while (j != NULL && *path != '\0') {
        size_t n = strcspn(path, "/");
        if (n >= sizeof key) {
            return NULL;
        }
        memcpy(key, path, n);
        key[n] = '\0';
        path += n + (path[n] == '/');
        if (json_is_array(j)) {
            char *end = NULL;
            unsigned long i = strtoul(key, &end, 10);
            j = end != key && *end == '\0' ? json_array_get(j, i) : NULL;
        } else {
            j = json_object_get(j, key);
        }
    }
    return j;
}

static double num(const json_t *j)
{
    return json_is_number(j) ? json_number_value(j) : NAN;
}

static const char *str(const json_t *j, const char *path)
{
    const char *s = json_string_value(at(j, path));
    return s != NULL ? s : "";
}

typedef enum fig_fmt { FIG_DEC3, FIG_DEC4, FIG_PCT1, FIG_DEC1, FIG_INT, FIG_DEC2 } fig_fmt;

/* One figure: the number at path in the entry, with its path and exact value. */
static void fig(html *h, const char *path, fig_fmt fmt)
{
    const json_t *j = at(h->e, path);
    FILE *f = h->f;
    if (!json_is_number(j)) {
        fputs("<span class=\"fig\" data-fig=\"", f);
        esc(f, path);
        fputs("\" data-v=\"null\">n/a</span>", f);
        return;
    }
    double v = json_number_value(j);
    fputs("<span class=\"fig\" data-fig=\"", f);
    esc(f, path);
    if (json_is_integer(j)) {
        fprintf(f, "\" data-v=\"%lld\">", (long long)json_integer_value(j));
    } else {
        fprintf(f, "\" data-v=\"%.17g\">", v);
    }
    switch (fmt) {
    case FIG_DEC3:
        fprintf(f, "%.3f", v);
        break;
    case FIG_DEC4:
        fprintf(f, "%.4f", v);
        break;
    case FIG_DEC2:
        fprintf(f, "%.2f", v);
        break;
    case FIG_DEC1:
        fprintf(f, "%.1f", v);
        break;
    case FIG_PCT1:
        fprintf(f, "%.1f%%", 100.0 * v);
        break;
    case FIG_INT:
        fprintf(f, "%.0f", v);
        break;
    }
    fputs("</span>", f);
}

/* fig() at a path built from a prefix and a suffix. */
static void figp(html *h, const char *prefix, const char *suffix, fig_fmt fmt)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", prefix, suffix);
    fig(h, path, fmt);
}

static void ci(html *h, const char *prefix)
{
    figp(h, prefix, "auroc", FIG_DEC3);
    fputs(" (", h->f);
    char p[256];
    snprintf(p, sizeof p, "%s/auroc_ci95/0", prefix);
    fig(h, p, FIG_DEC3);
    fputs("&ndash;", h->f);
    snprintf(p, sizeof p, "%s/auroc_ci95/1", prefix);
    fig(h, p, FIG_DEC3);
    fputs(")", h->f);
}

/* ------------------------------------------------------------- plots */

#define PW 300.0
#define PH 300.0
#define PAD 40.0

static double sx(double x)
{
    return PAD + x * (PW - PAD - 10.0);
}

static double sy(double y)
{
    return PH - PAD - y * (PH - PAD - 10.0);
}

static void plot_open(FILE *f, const char *title, const char *xl, const char *yl)
{
    fprintf(f,
            "<figure><svg viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
            "role=\"img\" aria-label=\"",
            PW, PH, PW, PH);
    esc(f, title);
    fprintf(f, "\"><rect x=\"%.1f\" y=\"10\" width=\"%.1f\" height=\"%.1f\" class=\"frame\"/>",
            sx(0), sx(1) - sx(0), sy(0) - sy(1));
    for (int k = 0; k <= 4; k++) {
        double t = k / 4.0;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\">%.2g</text>", sx(t) - 6,
                PH - PAD + 14, t);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\">%.2g</text>", 6.0, sy(t) + 4, t);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"axis\">", sx(0.5) - 30, PH - 6);
    esc(f, xl);
    fprintf(f, "</text><text x=\"12\" y=\"%.1f\" class=\"axis\" transform=\"rotate(-90 12 %.1f)\">",
            sy(0.5) + 30, sy(0.5) + 30);
    esc(f, yl);
    fputs("</text>", f);
}

static void plot_close(FILE *f, const char *caption)
{
    fputs("</svg><figcaption>", f);
    esc(f, caption);
    fputs("</figcaption></figure>\n", f);
}

/* A polyline of the points [thr, x, y] in arr (x, y in [0, 1] after scaling by ymax). */
static void polyline(FILE *f, const json_t *arr, const char *cls, const char *fig_path, double ymax)
{
    fprintf(f, "<polyline class=\"%s\" data-fig-points=\"", cls);
    esc(f, fig_path);
    fputs("\" points=\"", f);
    size_t i;
    const json_t *p;
    json_array_foreach(arr, i, p)
    {
        double x = num(json_array_get(p, 1)), y = num(json_array_get(p, 2));
        fprintf(f, "%.2f,%.2f ", sx(x), sy(fmin(1.0, y / ymax)));
    }
    fputs("\"/>", f);
}

static void legend(FILE *f, int row, const char *cls, const char *name)
{
    double y = sy(0.22) - 14.0 * row; /* bottom right: clear of rising curves */
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"%s\"/>", sx(0.55), y,
            sx(0.65), y, cls);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\">", sx(0.67), y + 4);
    esc(f, name);
    fputs("</text>", f);
}

static void roc_pr_plots(html *h)
{
    FILE *f = h->f;
    const json_t *cm = at(h->e, "validation/curves/model"),
                 *cn = at(h->e, "validation/curves/news2");
    plot_open(f, "ROC curves, model and NEWS2", "1 - specificity", "sensitivity");
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"chance\"/>", sx(0),
            sy(0), sx(1), sy(1));
    polyline(f, json_object_get(cn, "roc"), "news2", "validation/curves/news2/roc", 1.0);
    polyline(f, json_object_get(cm, "roc"), "model", "validation/curves/model/roc", 1.0);
    legend(f, 0, "model", "model");
    legend(f, 1, "news2", "NEWS2");
    plot_close(f, "Figure 1. ROC curves per hourly observation: model (solid) and NEWS2 (dashed); "
                  "the diagonal is chance.");
    double prev = num(at(h->e, "validation/cohort/prevalence_rows"));
    /* precision is small at a low prevalence: the y axis runs to the largest */
    double ymax = 0.0;
    const json_t *curves[2] = {json_object_get(cm, "pr"), json_object_get(cn, "pr")};
    for (int c = 0; c < 2; c++) {
        size_t i;
        const json_t *p;
        json_array_foreach(curves[c], i, p)
        {
            ymax = fmax(ymax, num(json_array_get(p, 2)));
        }
    }
    ymax = ymax > 0.0 ? fmin(1.0, ymax) : 1.0;
    plot_open(f, "Precision-recall curves, model and NEWS2", "recall (sensitivity)",
              "precision (scaled)");
    if (isfinite(prev)) {
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"chance\"/>",
                sx(0), sy(prev / ymax), sx(1), sy(prev / ymax));
    }
    polyline(f, json_object_get(cn, "pr"), "news2", "validation/curves/news2/pr", ymax);
    polyline(f, json_object_get(cm, "pr"), "model", "validation/curves/model/pr", ymax);
    legend(f, 0, "model", "model");
    legend(f, 1, "news2", "NEWS2");
    char cap[200];
    snprintf(cap, sizeof cap,
             "Figure 2. Precision-recall curves per hourly observation (precision axis 0-%.2g); "
             "the horizontal line is the prevalence (a score with no skill).",
             ymax);
    plot_close(f, cap);
}

static void calibration_plot(html *h)
{
    FILE *f = h->f;
    const json_t *bins = at(h->e, "validation/calibration/bins");
    /* the risks are small: the axes run to the largest bin edge that holds rows */
    double top = 0.0;
    size_t i;
    const json_t *b;
    json_array_foreach(bins, i, b)
    {
        if (num(json_object_get(b, "n")) > 0) {
            top = fmax(top,
                       fmax(num(json_object_get(b, "hi")), num(json_object_get(b, "obs_ci95_hi"))));
        }
    }
    top = top > 0 ? fmin(1.0, top) : 1.0;
    char title[96];
    snprintf(title, sizeof title, "Calibration (both axes 0 to %.2g)", top);
    plot_open(f, title, "predicted risk (scaled)", "observed rate (scaled)");
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"chance\"/>", sx(0),
            sy(0), sx(1), sy(1));
    json_array_foreach(bins, i, b)
    {
        if (num(json_object_get(b, "n")) <= 0) {
            continue;
        }
        double x = num(json_object_get(b, "mean_pred")) / top;
        double y = num(json_object_get(b, "obs_rate")) / top;
        double lo = num(json_object_get(b, "obs_ci95_lo")) / top;
        double hi = num(json_object_get(b, "obs_ci95_hi")) / top;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"band\"/>", sx(x),
                sy(fmin(1, lo)), sx(x), sy(fmin(1, hi)));
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" class=\"model\" data-fig-bin=\"%zu\"/>",
                sx(x), sy(fmin(1, y)), i);
    }
    char cap[256];
    snprintf(cap, sizeof cap,
             "Figure 3. Reliability: observed event rate against mean predicted risk in ten "
             "equal-width risk bins (empty bins not drawn), with Wilson 95%% intervals; axes "
             "scaled to 0-%.2g; the diagonal is perfect calibration.",
             top);
    plot_close(f, cap);
}

static void decision_plot(html *h)
{
    FILE *f = h->f;
    const json_t *dc = at(h->e, "validation/decision_curve");
    double ymax = 0.0, xmax = 0.0;
    size_t i;
    const json_t *p;
    json_array_foreach(dc, i, p)
    {
        ymax = fmax(ymax, fmax(num(json_object_get(p, "net_benefit_model")),
                               num(json_object_get(p, "net_benefit_all"))));
        xmax = fmax(xmax, num(json_object_get(p, "pt")));
    }
    ymax = ymax > 0 ? ymax : 1.0;
    xmax = xmax > 0 ? xmax : 1.0;
    plot_open(f, "Decision curve", "threshold probability (scaled)", "net benefit (scaled)");
    static const char *const keys[2] = {"net_benefit_all", "net_benefit_model"};
    static const char *const cls[2] = {"news2", "model"};
    for (int k = 0; k < 2; k++) {
        fprintf(f, "<polyline class=\"%s\" points=\"", cls[k]);
        json_array_foreach(dc, i, p)
        {
            double y = num(json_object_get(p, keys[k])) / ymax;
            fprintf(f, "%.2f,%.2f ", sx(num(json_object_get(p, "pt")) / xmax), sy(fmax(-0.05, y)));
        }
        fputs("\"/>", f);
    }
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"chance\"/>", sx(0),
            sy(0), sx(1), sy(0));
    legend(f, 0, "model", "model");
    legend(f, 1, "news2", "alert everyone");
    char cap[256];
    snprintf(cap, sizeof cap,
             "Figure 4. Decision curve per hourly observation: net benefit of alerting at risk "
             ">= the threshold probability (x axis 0-%.3g, y axis 0-%.3g); the flat line is "
             "alerting no one.",
             xmax, ymax);
    plot_close(f, cap);
}

/* ------------------------------------------------------------ sections */

static void head(FILE *f, const json_t *e)
{
    fputs("<!doctype html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">\n<title>", f);
    fputs("Local validation report: ", f);
    esc(f, str(e, "model_id"));
    fputs(
        "</title>\n<style>\n"
        "body{font:11pt/1.45 Arial,Helvetica,sans-serif;color:#212b32;max-width:62em;margin:2em "
        "auto;"
        "padding:0 1em}\n"
        "h1{font-size:1.7em}h2{font-size:1.3em;border-bottom:2px solid #005eb8;margin-top:1.6em}\n"
        "table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #aeb7bd;"
        "padding:.2em .5em;text-align:left;vertical-align:top}th{background:#f0f4f5}\n"
        "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
        ".warn{border-left:8px solid #ffeb3b;background:#fff9c4;padding:.5em 1em}\n"
        ".flag{font-weight:bold;color:#8a1538}\n"
        "figure{display:inline-block;margin:.5em 1em .5em 0;break-inside:avoid}"
        "figcaption{max-width:300px;font-size:.85em}\n"
        "svg .frame{fill:none;stroke:#768692}svg .tick{font-size:9px}svg .axis{font-size:10px}\n"
        "svg .model{fill:none;stroke:#005eb8;stroke-width:2}svg circle.model{fill:#005eb8}\n"
        "svg .news2{fill:none;stroke:#d5281b;stroke-width:2;stroke-dasharray:6 3}\n"
        "svg .chance{stroke:#aeb7bd;stroke-dasharray:2 2}svg .band{stroke:#005eb8}\n"
        "section{break-inside:auto}h2,h3{break-after:avoid}tr{break-inside:avoid}\n"
        "@page{size:A4;margin:15mm}@media print{body{margin:0;max-width:none}}\n"
        "</style></head><body>\n",
        f);
}

static void intro(html *h, const json_t *bundle)
{
    FILE *f = h->f;
    const json_t *e = h->e;
    fputs("<h1>Local validation report: ", f);
    esc(f, str(e, "model_id"));
    fputs(" on ", f);
    esc(f, str(e, "data"));
    fputs("</h1>\n<p class=\"warn\"><strong>Important: </strong>", f);
    esc(f, str(bundle, "warning"));
    fputs(" This report is evidence for a local clinical safety case (DCB0160), not a "
          "certificate: the hospital's clinical safety officer decides.</p>\n",
          f);
    fputs("<p>External validation of a frozen prediction model (TRIPOD+AI item 1): an hourly "
          "sepsis risk (outcome: PhysioNet 2019 SepsisLabel, Sepsis-3 onset within 6 hours or "
          "septic), gradient-boosted trees, evaluated beside NEWS2 on data it was not trained "
          "on. Every figure below is printed by <code>vigil evaluate --model BUNDLE --data PATH "
          "--json</code> for the same inputs.</p>\n",
          f);
    fputs("<h2>1. Intended use and the model</h2>\n<table>", f);
    fputs("<tr><th>Intended use (3b)</th><td>", f);
    esc(f, str(bundle, "model_card/intended_use"));
    fputs("</td></tr><tr><th>Not for</th><td>", f);
    esc(f, str(bundle, "model_card/not_for"));
    fputs("</td></tr><tr><th>The rule</th><td><strong>The AI raises, never lowers, a NEWS2 "
          "escalation.</strong> Its alert is added to NEWS2's; a low risk never suppresses a "
          "NEWS2 trigger.</td></tr>",
          f);
    fputs("<tr><th>Model</th><td>", f);
    esc(f, str(e, "model_id"));
    fputs(" version ", f);
    esc(f, str(e, "model_version"));
    fputs(", frozen; bundle SHA-256 <code>", f);
    esc(f, str(e, "validation/model_sha256"));
    fputs("</code>; created ", f);
    esc(f, str(bundle, "created_utc"));
    fputs("</td></tr><tr><th>Trained on (development data)</th><td>", f);
    esc(f, str(e, "trained_on"));
    fputs("; ", f);
    esc(f, str(bundle, "model_card/data"));
    fputs("</td></tr><tr><th>Inputs</th><td>feature set ", f);
    esc(f, str(bundle, "feature_set"));
    fputs(" (feature specification hash ", f);
    esc(f, str(bundle, "feature_spec/hash"));
    fputs(")</td></tr><tr><th>Alert threshold</th><td>risk &gt;= ", f);
    fig(h, "model/threshold", FIG_DEC4);
    fputs(": ", f);
    esc(f, str(bundle, "thresholds/alert_rule"));
    fputs(". Chosen on the development data, not on this cohort.</td></tr></table>\n", f);
}

static void cohort(html *h)
{
    FILE *f = h->f;
    fputs("<h2>2. The cohort (items 5, 6, 11)</h2>\n<table>", f);
    fputs("<tr><th>Sites (data sets)</th><td>", f);
    const json_t *sites = at(h->e, "validation/cohort/sites");
    size_t i;
    const json_t *s;
    json_array_foreach(sites, i, s)
    {
        fputs(i > 0 ? ", " : "", f);
        esc(f, json_string_value(s));
    }
    fputs("</td></tr><tr><th>Dates</th><td>The research data carry no calendar dates (times "
          "are hours since ICU admission), so accrual dates cannot be reported.</td></tr>",
          f);
    fputs("<tr><th>Admissions (stays)</th><td class=\"n\">", f);
    fig(h, "validation/cohort/stays", FIG_INT);
    fputs("</td></tr><tr><th>Hourly observations (rows)</th><td class=\"n\">", f);
    fig(h, "validation/cohort/rows", FIG_INT);
    fputs("</td></tr><tr><th>Patient-days</th><td class=\"n\">", f);
    fig(h, "validation/cohort/patient_days", FIG_DEC1);
    fputs("</td></tr><tr><th>Admissions with the event (prevalence)</th><td class=\"n\">", f);
    fig(h, "validation/cohort/event_stays", FIG_INT);
    fputs(" (", f);
    fig(h, "validation/cohort/prevalence_stays", FIG_PCT1);
    fputs(")</td></tr><tr><th>Hours labelled positive (prevalence)</th><td class=\"n\">", f);
    fig(h, "validation/cohort/event_rows", FIG_INT);
    fputs(" (", f);
    fig(h, "validation/cohort/prevalence_rows", FIG_PCT1);
    fputs(")</td></tr><tr><th>Data-quality refusals</th><td>", f);
    fig(h, "malformed_rows", FIG_INT);
    fputs(" malformed rows, ", f);
    fig(h, "files_skipped", FIG_INT);
    fputs(" files skipped as unreadable, ", f);
    fig(h, "stays_without_measurements", FIG_INT);
    fputs(" stays without a measurement, ", f);
    fig(h, "implausible_values", FIG_INT);
    fputs(" implausible values dropped (never imputed)</td></tr>", f);
    fputs("<tr><th>Not enough data to score</th><td>", f);
    fig(h, "ward_view/rows_not_enough_data", FIG_INT);
    fputs(" of ", f);
    fig(h, "ward_view/rows", FIG_INT);
    fputs(" hours would show &ldquo;not enough data to score&rdquo; on the ward; "
          "low-confidence flag (an input outside the training range) on ",
          f);
    fig(h, "ward_view/low_confidence_rate", FIG_PCT1);
    fputs(" of scored hours. All figures below are over every hour.</td></tr></table>\n", f);
    fputs("<table><caption>Missing data per input: share of hours with no value in the "
          "previous 24 hours (the model takes missing as missing; nothing is imputed)</caption>"
          "<tr><th>input</th><th>missing</th></tr>",
          f);
    const json_t *miss = at(h->e, "validation/cohort/missing_by_input");
    json_array_foreach(miss, i, s)
    {
        char p[128];
        fputs("<tr><td>", f);
        esc(f, json_string_value(json_object_get(s, "input")));
        fputs("</td><td class=\"n\">", f);
        snprintf(p, sizeof p, "validation/cohort/missing_by_input/%zu/missing", i);
        fig(h, p, FIG_PCT1);
        fputs("</td></tr>", f);
    }
    fputs("</table>\n", f);
}

static void discrimination(html *h)
{
    FILE *f = h->f;
    fputs("<h2>3. Discrimination (item 12, results)</h2>\n", f);
    roc_pr_plots(h);
    fputs("<table><tr><th>score</th><th>unit</th><th>AUROC (95% CI, DeLong)</th><th>AUPRC</th>"
          "</tr>",
          f);
    fputs("<tr><td>model</td><td>hourly observation</td><td class=\"n\">", f);
    ci(h, "model/overall");
    fputs("</td><td class=\"n\">", f);
    fig(h, "model/overall/auprc", FIG_DEC3);
    fputs("</td></tr><tr><td>NEWS2</td><td>hourly observation</td><td class=\"n\">", f);
    ci(h, "news2/overall");
    fputs("</td><td class=\"n\">", f);
    fig(h, "news2/overall/auprc", FIG_DEC3);
    fputs("</td></tr><tr><td>model</td><td>admission</td><td class=\"n\">", f);
    ci(h, "validation/per_admission/model");
    fputs("</td><td class=\"n\">", f);
    fig(h, "validation/per_admission/model/auprc", FIG_DEC3);
    fputs("</td></tr><tr><td>NEWS2</td><td>admission</td><td class=\"n\">", f);
    ci(h, "validation/per_admission/news2");
    fputs("</td><td class=\"n\">", f);
    fig(h, "validation/per_admission/news2/auprc", FIG_DEC3);
    fputs("</td></tr></table>\n<p>Per admission, a stay's score is its highest hourly score up "
          "to the hour its label turns positive (6 hours before sepsis onset), or over the whole "
          "stay when it has no event. Hourly observations of one patient are not independent: "
          "the hourly CIs are narrower than the truth.</p>\n",
          f);
}

static void calibration(html *h)
{
    FILE *f = h->f;
    fputs("<h2>4. Calibration</h2>\n", f);
    calibration_plot(h);
    fputs("<table><tr><th>calibration slope (ideal 1)</th><td class=\"n\">", f);
    fig(h, "model/overall/calibration_slope", FIG_DEC3);
    fputs("</td></tr><tr><th>calibration intercept, in the large (ideal 0)</th><td class=\"n\">",
          f);
    fig(h, "model/overall/calibration_intercept", FIG_DEC3);
    fputs("</td></tr><tr><th>observed : expected events</th><td class=\"n\">", f);
    fig(h, "validation/calibration/observed_expected", FIG_DEC3);
    fputs(" (", f);
    fig(h, "validation/calibration/observed", FIG_INT);
    fputs(" : ", f);
    fig(h, "validation/calibration/expected", FIG_DEC1);
    fputs(")</td></tr><tr><th>Brier score</th><td class=\"n\">", f);
    fig(h, "model/overall/brier", FIG_DEC4);
    fputs("</td></tr><tr><th>expected calibration error (10 bins)</th><td class=\"n\">", f);
    fig(h, "model/ece", FIG_DEC4);
    fputs("</td></tr></table>\n<table><caption>Reliability bins</caption><tr><th>risk bin</th>"
          "<th>hours</th><th>events</th><th>mean predicted</th><th>observed (95% CI)</th></tr>",
          f);
    const json_t *bins = at(h->e, "validation/calibration/bins");
    size_t i;
    const json_t *b;
    json_array_foreach(bins, i, b)
    {
        char p[96];
        snprintf(p, sizeof p, "validation/calibration/bins/%zu", i);
        fputs("<tr><td>", f);
        figp(h, p, "lo", FIG_DEC1);
        fputs("&ndash;", f);
        figp(h, p, "hi", FIG_DEC1);
        fputs("</td><td class=\"n\">", f);
        figp(h, p, "n", FIG_INT);
        fputs("</td><td class=\"n\">", f);
        figp(h, p, "events", FIG_INT);
        fputs("</td><td class=\"n\">", f);
        figp(h, p, "mean_pred", FIG_DEC4);
        fputs("</td><td class=\"n\">", f);
        figp(h, p, "obs_rate", FIG_DEC4);
        fputs(" (", f);
        figp(h, p, "obs_ci95_lo", FIG_DEC4);
        fputs("&ndash;", f);
        figp(h, p, "obs_ci95_hi", FIG_DEC4);
        fputs(")</td></tr>", f);
    }
    fputs("</table>\n", f);
}

static void op_row(html *h, const char *name, const char *p)
{
    FILE *f = h->f;
    static const struct {
        const char *key;
        fig_fmt fmt;
    } cols[] = {
        {"threshold", FIG_DEC4},
        {"sensitivity", FIG_DEC3},
        {"ppv", FIG_DEC3},
        {"nne", FIG_DEC1},
        {"alerts_per_100_patient_days", FIG_DEC1},
        {"alert_hours_per_100_patient_days", FIG_DEC1},
        {"event_stays_alerted_in_window", FIG_PCT1},
        {"lead_median_h", FIG_DEC1},
        {"added_over_news2_alert_hours_per_100_patient_days", FIG_DEC1},
        {"added_over_news2_event_stays", FIG_INT},
    };
    fputs("<tr><td>", f);
    esc(f, name);
    fputs("</td>", f);
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
        fputs("<td class=\"n\">", f);
        figp(h, p, cols[k].key, cols[k].fmt);
        fputs("</td>", f);
    }
    fputs("</tr>\n", f);
}

static const char OP_HEAD[] =
    "<tr><th>rule</th><th>threshold</th><th>sensitivity (hours)</th><th>PPV (hours)</th>"
    "<th>number needed to evaluate</th><th>alerts per 100 patient-days</th>"
    "<th>alert hours per 100 patient-days</th><th>septic admissions alerted within 48 h before "
    "onset</th><th>median lead time (h)</th><th>AI-only alert hours per 100 patient-days "
    "(NEWS2 &lt; 5)</th><th>septic admissions only the AI alerted</th></tr>\n";

static void operating(html *h)
{
    FILE *f = h->f;
    fputs("<h2>5. The operating point and alert burden</h2>\n<table>", f);
    fputs(OP_HEAD, f);
    op_row(h, "model at its bundle threshold", "validation/operating_point");
    op_row(h, "NEWS2 >= 5", "validation/operating_point_news2");
    fputs("</table>\n<p>An alert is an episode: consecutive alerting hours of one admission "
          "count once. The number needed to evaluate is 1 / PPV. &ldquo;AI-only&rdquo; figures "
          "are the escalations the AI adds on top of NEWS2 &gt;= 5 under the raise-never-lower "
          "rule.</p>\n",
          f);
    fputs("<h3>Thresholds for alert budgets</h3>\n<p>For each budget, the lowest risk threshold "
          "(among 512 quantiles) that keeps the model's alert episodes at or under the budget. "
          "<strong>These thresholds are chosen on this cohort</strong>: a table to choose a local "
          "threshold from, whose own figures are therefore optimistic.</p>\n<table>",
          f);
    fputs("<tr><th>budget (alerts per 100 patient-days)</th>", f);
    fputs(OP_HEAD + strlen("<tr><th>rule</th>"), f);
    const json_t *rows = at(h->e, "validation/budgets");
    size_t i;
    const json_t *r;
    json_array_foreach(rows, i, r)
    {
        char p[96], name[48];
        snprintf(p, sizeof p, "validation/budgets/%zu", i);
        snprintf(name, sizeof name, "%.0f", num(json_object_get(r, "budget_per_100_patient_days")));
        op_row(h, name, p);
    }
    fputs("</table>\n", f);
    decision_plot(h);
    fputs("<p>A net benefit above both reference lines means alerting on the model is better "
          "than alerting on everyone or no one at that threshold probability.</p>\n",
          f);
}

static void subgroups(html *h)
{
    FILE *f = h->f;
    fputs("<h2>6. Subgroups and fairness (items 3c, 14)</h2>\n<p>Stated tolerance: a subgroup "
          "whose AUROC differs from the overall AUROC by more than ",
          f);
    fig(h, "validation/subgroup_auroc_tolerance", FIG_DEC2);
    fputs(" is flagged. Groups with fewer than 10 events or non-events are not "
          "reported (too few to estimate).</p>\n<table><tr><th>score</th><th>kind</th>"
          "<th>group</th><th>hours</th><th>events</th><th>AUROC (95% CI)</th><th>sensitivity</th>"
          "<th>PPV</th><th>gap</th></tr>\n",
          f);
    double tol = num(at(h->e, "validation/subgroup_auroc_tolerance"));
    static const char *const scores[2] = {"model", "news2"};
    for (int k = 0; k < 2; k++) {
        double overall = num(at(h->e, k == 0 ? "model/overall/auroc" : "news2/overall/auroc"));
        char base[64];
        snprintf(base, sizeof base, "%s/subgroups", scores[k]);
        const json_t *gs = at(h->e, base);
        size_t i;
        const json_t *g;
        json_array_foreach(gs, i, g)
        {
            char p[96];
            snprintf(p, sizeof p, "%s/%zu", base, i);
            fputs("<tr><td>", f);
            esc(f, k == 0 ? "model" : "NEWS2");
            fputs("</td><td>", f);
            esc(f, json_string_value(json_object_get(g, "kind")));
            fputs("</td><td>", f);
            esc(f, json_string_value(json_object_get(g, "group")));
            fputs("</td><td class=\"n\">", f);
            figp(h, p, "n", FIG_INT);
            fputs("</td><td class=\"n\">", f);
            figp(h, p, "n_pos", FIG_INT);
            fputs("</td><td class=\"n\">", f);
            if (json_is_number(json_object_get(g, "auroc"))) {
                ci(h, p);
            } else {
                fputs("too few events", f);
            }
            fputs("</td><td class=\"n\">", f);
            figp(h, p, "sensitivity", FIG_DEC3);
            fputs("</td><td class=\"n\">", f);
            figp(h, p, "ppv", FIG_DEC3);
            double a = num(json_object_get(g, "auroc"));
            if (isfinite(a) && isfinite(overall) && fabs(a - overall) > tol) {
                fprintf(f, "</td><td class=\"flag\">%+.3f: outside tolerance</td></tr>\n",
                        a - overall);
            } else if (isfinite(a) && isfinite(overall)) {
                fprintf(f, "</td><td>%+.3f</td></tr>\n", a - overall);
            } else {
                fputs("</td><td>-</td></tr>\n", f);
            }
        }
    }
    fputs("</table>\n<p>Ethnicity and deprivation are not recorded in these data, so "
          "performance in those groups is unknown here and must be monitored locally (pulse "
          "oximetry reads high on darker skin).</p>\n",
          f);
}

static void card(html *h, const json_t *bundle)
{
    FILE *f = h->f;
    fputs("<h2>7. Model card, hazards and limits</h2>\n<h3>Limitations stated by the model "
          "card</h3><ul>",
          f);
    const json_t *lim = at(bundle, "model_card/limitations");
    size_t i;
    const json_t *s;
    json_array_foreach(lim, i, s)
    {
        fputs("<li>", f);
        esc(f, json_string_value(s));
        fputs("</li>", f);
    }
    fputs("</ul>\n<h3>Hazards and their mitigations</h3><table><tr><th>hazard</th>"
          "<th>mitigation in vigil</th></tr>"
          "<tr><td>A low AI risk reassures staff and delays escalation of a deteriorating "
          "patient.</td><td>The AI can only raise an escalation, never lower NEWS2's; NEWS2 is "
          "always shown and acted on.</td></tr>"
          "<tr><td>Too many alerts cause alarm fatigue.</td><td>Alert budget table above; the "
          "threshold is set locally and alerts are counted per 100 patient-days.</td></tr>"
          "<tr><td>A feed fault (units, a missing input) silently degrades the model.</td><td>"
          "Implausible values are refused, an input outside the training range shows a "
          "low-confidence flag, too little data shows &ldquo;not enough data to "
          "score&rdquo;.</td></tr>"
          "<tr><td>Performance differs between groups of patients.</td><td>Subgroup table with "
          "a stated tolerance; groups the data do not record must be monitored locally."
          "</td></tr>"
          "<tr><td>The model is changed without revalidation.</td><td>The bundle's SHA-256 is "
          "printed here; a different hash needs a new report.</td></tr></table>\n",
          f);
    fputs("<h3>What this report cannot show</h3><ul>"
          "<li>How the model performs on general wards: these are ICU research data, with "
          "more frequent observations and laboratory tests than a ward.</li>"
          "<li>The effect of alerts on outcomes: a retrospective validation shows accuracy, not "
          "benefit; treatment after an alert changes what follows it.</li>"
          "<li>Performance by ethnicity or deprivation, which the data do not record.</li>"
          "<li>Calendar drift: the data carry no dates.</li>"
          "<li>NEWS2 here is a lower bound: the data lack consciousness level and on-oxygen, "
          "which score nothing when missing.</li>"
          "<li>Independence: hourly rows of one admission are correlated; per-hour confidence "
          "intervals are too narrow.</li></ul>\n",
          f);
}

int vigil_cli_validation_html(const json_t *entry, const json_t *bundle, const char *path)
{
    if (!json_is_object(at(entry, "validation"))) {
        fprintf(stderr, "vigil validate: no validation figures (an hourly 2019 task is "
                        "needed)\n");
        return -1;
    }
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "vigil validate: cannot write %s\n", path);
        return -1;
    }
    html h = {.f = f, .e = entry};
    head(f, entry);
    intro(&h, bundle);
    cohort(&h);
    discrimination(&h);
    calibration(&h);
    operating(&h);
    subgroups(&h);
    card(&h, bundle);
    fputs("<p><small>Made by vigil ", f);
    esc(f, VIGIL_VERSION);
    fputs(". Statistical methods: docs/eval.md.</small></p>\n</body></html>\n", f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "vigil validate: error writing %s\n", path);
        return -1;
    }
    return 0;
}
