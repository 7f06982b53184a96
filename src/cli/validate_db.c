/*
 * validate_db.c: `vigil validate --db STORE --from DATE --to DATE` (issue 14
 * item 4): the validation figures of the live model on a hospital's own live
 * store over a date range, beside NEWS2: the stored sets with the live AI's
 * probability and their NEWS2 total, labelled from the outcomes recorded
 * (an outcome of the admission within 24 h after the set is an event; a set
 * whose 24 h and a further 24 h of coding delay have not passed by the run
 * is left out, vigil_monitor_label). Per set and per admission (the largest
 * score up to its first event): AUROC with DeLong CI, AUPRC, Brier,
 * calibration slope and intercept, observed:expected, the operating point at
 * the bundle's threshold and NEWS2 >= 5, by age band and by administrative
 * sex (female, male, other, unknown as stored; sets of patients with no sex
 * recorded are counted and left out of that split). JSON.
 *
 * Does not: write the HTML report (vigil_cli_validation_html renders the
 * hourly research cohort's figures, whose alert rates and lead times assume
 * hourly rows; stored sets are not hourly), read shadow scores, or audit
 * (the store's rows are read read-only, aggregate figures only leave it).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "vigil/eval.h"
#include "vigil/monitor.h"
#include "vigil/store.h"

#define DAY_MS (86400LL * 1000)
#define HORIZON_MS DAY_MS
#define DELAY_MS DAY_MS

typedef struct vrow {
    int64_t adm;
    double age_y, prob, news2;
    int8_t label;
    uint8_t sex; /* vigil_admin_sex */
} vrow;

typedef struct vread {
    vrow *rows;
    size_t n, cap;
    size_t n_sets, n_unscored, n_unlabelled;
    int64_t now_ms;
} vread;

static vigil_status take(void *ctx, const vigil_store_set_row *r, vigil_err *err)
{
    vread *v = ctx;
    v->n_sets++;
    if (isnan(r->ai_prob) || r->news2_total < 0) {
        v->n_unscored++;
        return VIGIL_OK;
    }
    int8_t label = vigil_monitor_label(r->t_ms, r->outcome_ms, v->now_ms, HORIZON_MS, DELAY_MS);
    if (label < 0) {
        v->n_unlabelled++;
        return VIGIL_OK;
    }
    if (v->n == v->cap) {
        size_t cap = v->cap > 0 ? v->cap * 2 : 4096;
        vrow *p = realloc(v->rows, cap * sizeof *p);
        if (p == NULL) {
            return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
        }
        v->rows = p;
        v->cap = cap;
    }
    v->rows[v->n++] = (vrow){.adm = r->admission_id,
                             .age_y = r->obs.age_y,
                             .prob = r->ai_prob,
                             .news2 = (double)r->news2_total,
                             .label = label,
                             .sex = (uint8_t)r->sex};
    return VIGIL_OK;
}

/* "YYYY-MM-DD" as the Unix ms of its midnight UTC; false when malformed. */
static bool day_ms(const char *s, int64_t *out)
{
    int y = 0, m = 0, d = 0, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || s[n] != '\0' || m < 1 || m > 12 ||
        d < 1 || d > 31 || y < 1970) {
        return false;
    }
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    time_t t = timegm(&tm);
    *out = (int64_t)t * 1000;
    return t != (time_t)-1;
}

static json_t *num(bool has, double v)
{
    return has && isfinite(v) ? json_real(v) : json_null();
}

static json_t *summary_json(const vigil_eval_summary *s)
{
    const vigil_eval_confusion *c = &s->at_threshold;
    return json_pack(
        "{s:I,s:I,s:I,s:b,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:{s:f,s:I,s:I,s:I,s:I,s:o,s:o}}", "n",
        (json_int_t)s->n, "n_pos", (json_int_t)s->n_pos, "n_neg", (json_int_t)s->n_neg, "reliable",
        s->reliable, "auroc", num(s->has_roc, s->auroc.auc), "auroc_lo",
        num(s->has_roc, s->auroc.lo), "auroc_hi", num(s->has_roc, s->auroc.hi), "auprc",
        num(s->has_auprc, s->auprc), "brier", num(s->has_brier, s->brier), "calibration_slope",
        num(s->has_calibration, s->cal.slope), "calibration_intercept",
        num(s->has_calibration, s->cal.intercept), "observed_expected", json_null(), "at_threshold",
        "threshold", c->threshold, "tp", (json_int_t)c->tp, "fp", (json_int_t)c->fp, "tn",
        (json_int_t)c->tn, "fn", (json_int_t)c->fn, "sensitivity", num(c->has_sens, c->sens), "ppv",
        num(c->has_ppv, c->ppv));
}

/* Per admission: the largest score up to and including its first event. */
static size_t per_admission(const vread *v, double *m, double *n2, uint8_t *y)
{
    size_t k = 0;
    for (size_t i = 0; i < v->n;) {
        size_t j = i;
        double bm = -INFINITY, bn = -INFINITY;
        bool ev = false;
        for (; j < v->n && v->rows[j].adm == v->rows[i].adm; j++) {
            if (!ev) {
                bm = fmax(bm, v->rows[j].prob);
                bn = fmax(bn, v->rows[j].news2);
                ev = v->rows[j].label == 1;
            }
        }
        m[k] = bm;
        n2[k] = bn;
        y[k++] = ev;
        i = j;
    }
    return k;
}

static vigil_status figures(const vread *v, double threshold, json_t *o, vigil_err *err)
{
    size_t n = v->n > 0 ? v->n : 1;
    double *p = malloc(n * sizeof *p), *n2 = malloc(n * sizeof *n2);
    uint8_t *y = malloc(n);
    int *band = malloc(n * sizeof *band), *sex = malloc(n * sizeof *sex);
    size_t n_no_sex = 0;
    vigil_status s = p == NULL || n2 == NULL || y == NULL || band == NULL || sex == NULL
                         ? vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory")
                         : VIGIL_OK;
    double sum_y = 0, sum_p = 0;
    for (size_t i = 0; s == VIGIL_OK && i < v->n; i++) {
        p[i] = v->rows[i].prob;
        n2[i] = v->rows[i].news2;
        y[i] = v->rows[i].label == 1;
        sum_y += y[i];
        sum_p += p[i];
        vigil_eval_age_band b;
        band[i] = vigil_eval_age_band_of(v->rows[i].age_y, &b, NULL) == VIGIL_OK
                      ? (int)b
                      : VIGIL_EVAL_GROUP_NONE;
        /* group id = sex - 1: female 0, male 1, other 2, unknown 3 */
        sex[i] = v->rows[i].sex == VIGIL_ADMIN_SEX_NONE ? VIGIL_EVAL_GROUP_NONE
                                                        : (int)v->rows[i].sex - 1;
        n_no_sex += v->rows[i].sex == VIGIL_ADMIN_SEX_NONE;
    }
    vigil_eval_summary sm, sn, am, an, groups[VIGIL_EVAL_AGE_BAND_COUNT],
        by_sex[VIGIL_ADMIN_SEX_COUNT - 1];
    if (s == VIGIL_OK) {
        s = vigil_eval_summarize(p, y, v->n, true, threshold, VIGIL_EVAL_MIN_CLASS, &sm, err);
    }
    if (s == VIGIL_OK) {
        s = vigil_eval_summarize(n2, y, v->n, false, 5.0, VIGIL_EVAL_MIN_CLASS, &sn, err);
    }
    if (s == VIGIL_OK) {
        s = vigil_eval_subgroups(p, y, band, v->n, VIGIL_EVAL_AGE_BAND_COUNT, true, threshold,
                                 VIGIL_EVAL_MIN_CLASS, groups, err);
    }
    if (s == VIGIL_OK) {
        s = vigil_eval_subgroups(p, y, sex, v->n, VIGIL_ADMIN_SEX_COUNT - 1, true, threshold,
                                 VIGIL_EVAL_MIN_CLASS, by_sex, err);
    }
    size_t k = 0;
    if (s == VIGIL_OK) {
        k = per_admission(v, p, n2, y); /* reuses the arrays: per-set figures are done */
        s = vigil_eval_summarize(p, y, k, true, threshold, VIGIL_EVAL_MIN_CLASS, &am, err);
    }
    if (s == VIGIL_OK) {
        s = vigil_eval_summarize(n2, y, k, false, 5.0, VIGIL_EVAL_MIN_CLASS, &an, err);
    }
    if (s == VIGIL_OK) {
        json_t *m = summary_json(&sm);
        json_object_set_new(m, "observed_expected",
                            sum_p > 0 ? json_real(sum_y / sum_p) : json_null());
        json_object_set_new(o, "per_set",
                            json_pack("{s:o,s:o}", "model", m, "news2", summary_json(&sn)));
        json_object_set_new(o, "per_admission",
                            json_pack("{s:I,s:o,s:o}", "admissions", (json_int_t)k, "model",
                                      summary_json(&am), "news2", summary_json(&an)));
        json_t *g = json_object();
        for (size_t b = 0; b < VIGIL_EVAL_AGE_BAND_COUNT; b++) {
            json_object_set_new(g, vigil_eval_age_band_name((vigil_eval_age_band)b),
                                summary_json(&groups[b]));
        }
        json_object_set_new(o, "model_by_age_band", g);
        g = json_object();
        for (size_t x = 0; x + 1 < VIGIL_ADMIN_SEX_COUNT; x++) {
            json_object_set_new(g, vigil_admin_sex_name((vigil_admin_sex)(x + 1)),
                                summary_json(&by_sex[x]));
        }
        json_object_set_new(o, "model_by_sex", g);
        json_object_set_new(o, "sets_without_sex", json_integer((json_int_t)n_no_sex));
    }
    free(p);
    free(n2);
    free(y);
    free(band);
    free(sex);
    return s;
}

int vigil_cli_validate_db(const char *model, const char *db, const char *from, const char *to,
                          const char *out)
{
    int64_t from_ms = 0, to_ms = 0;
    if (!day_ms(from, &from_ms) || !day_ms(to, &to_ms) || to_ms < from_ms) {
        fprintf(stderr, "vigil validate: --from and --to are dates YYYY-MM-DD, from <= to\n");
        return VIGIL_EXIT_USAGE;
    }
    to_ms += DAY_MS; /* --to is inclusive */
    vigil_monitor_cfg mcfg;
    vigil_err err = {0};
    if (vigil_cli_live_monitor_cfg(model, &mcfg, &err) != VIGIL_OK) {
        fprintf(stderr, "vigil validate: %s: %s\n", model, err.msg);
        return VIGIL_EXIT_DATA;
    }
    vigil_store *st = NULL;
    if (vigil_store_open(db, VIGIL_STORE_READONLY, &st, &err) != VIGIL_OK) {
        fprintf(stderr, "vigil validate: %s: %s\n", db, err.msg);
        return VIGIL_EXIT_IO;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    vread v = {.now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000};
    vigil_status s = vigil_store_set_rows(st, from_ms, to_ms, take, &v, &err);
    vigil_store_close(st);
    json_t *o = json_pack(
        "{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:f}", "source", "store", "from", from, "to", to,
        "horizon_h", (json_int_t)(HORIZON_MS / 3600000), "coding_delay_h",
        (json_int_t)(DELAY_MS / 3600000), "sets", (json_int_t)v.n_sets, "sets_without_ai_or_news2",
        (json_int_t)v.n_unscored, "sets_outcome_not_known_yet", (json_int_t)v.n_unlabelled,
        "sets_used", (json_int_t)v.n, "threshold", mcfg.threshold);
    if (s == VIGIL_OK && v.n > 0) {
        s = figures(&v, mcfg.threshold, o, &err);
    }
    free(v.rows);
    int rc = VIGIL_EXIT_OK;
    if (s != VIGIL_OK) {
        fprintf(stderr, "vigil validate: %s\n", err.msg);
        rc = VIGIL_EXIT_DATA;
    } else if (out == NULL || strcmp(out, "-") == 0) {
        char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(text != NULL ? text : "null");
        free(text);
    } else if (json_dump_file(o, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
        fprintf(stderr, "vigil validate: cannot write %s\n", out);
        rc = VIGIL_EXIT_IO;
    } else {
        fprintf(stderr, "vigil validate: wrote %s\n", out);
    }
    json_decref(o);
    return rc;
}
