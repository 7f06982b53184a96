/*
 * cohort.c: a research data set as rows for evaluation and training: loads
 * stays (vigil/data.h), builds each stay's timeline and features
 * (vigil/features.h, the live ward's code) and the baseline scores.
 * Does not compute metrics or choose thresholds.
 */
#include "vigil/cohort.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/features.h"
#include "vigil/news2.h"

typedef struct build {
    vigil_cohort *c;
    const vigil_cohort_opts *opts;
    vigil_timeline *tl;
    size_t cap_stays, cap_rows;
    float *feat_buf; /* one stay's feature rows */
    size_t feat_cap_rows;
} build;

static vigil_status grow(void **p, size_t *cap, size_t need, size_t elem, vigil_err *err)
{
    if (need <= *cap) {
        return VIGIL_OK;
    }
    size_t n = *cap == 0 ? 1024 : *cap;
    while (n < need) {
        n *= 2;
    }
    void *q = realloc(*p, n * elem);
    if (q == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "cohort: out of memory (%zu rows)", n);
    }
    *p = q;
    *cap = n;
    return VIGIL_OK;
}

static vigil_status realloc_to(void **p, size_t n, size_t elem, vigil_err *err)
{
    void *q = realloc(*p, n * elem);
    if (q == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "cohort: out of memory (%zu rows)", n);
    }
    *p = q;
    return VIGIL_OK;
}

/* Make every per-row array hold at least need rows (doubling). */
static vigil_status grow_rows(build *b, size_t need, vigil_err *err)
{
    vigil_cohort *c = b->c;
    if (need <= b->cap_rows) {
        return VIGIL_OK;
    }
    size_t n = b->cap_rows == 0 ? 4096 : b->cap_rows;
    while (n < need) {
        n *= 2;
    }
    vigil_status st = realloc_to((void **)&c->label, n, sizeof *c->label, err);
    if (st == VIGIL_OK) {
        st = realloc_to((void **)&c->stay_of, n, sizeof *c->stay_of, err);
    }
    if (st == VIGIL_OK) {
        st = realloc_to((void **)&c->news2, n, sizeof *c->news2, err);
    }
    if (st == VIGIL_OK) {
        st = realloc_to((void **)&c->news2_n_missing, n, sizeof *c->news2_n_missing, err);
    }
    if (st == VIGIL_OK) {
        st = realloc_to((void **)&c->qsofa, n, sizeof *c->qsofa, err);
    }
    if (st == VIGIL_OK) {
        st = realloc_to((void **)&c->sirs, n, sizeof *c->sirs, err);
    }
    if (st == VIGIL_OK && b->opts->with_features) {
        st = realloc_to((void **)&c->x, n * c->n_feat, sizeof *c->x, err);
    }
    if (st == VIGIL_OK) {
        b->cap_rows = n;
    }
    return st;
}

/* Latest value of v at hour within the baseline window, or NaN. */
static double recent(const vigil_timeline *tl, vigil_var v, long hour)
{
    double val = NAN, t = NAN;
    if (vigil_timeline_latest(tl, v, hour, &val, &t) != VIGIL_OK || isnan(val)) {
        return NAN;
    }
    if ((double)hour - t >= VIGIL_FEATURES_NEWS2_MAX_AGE_H) {
        return NAN;
    }
    return val;
}

static float qsofa_at(const vigil_timeline *tl, long hour)
{
    double rr = recent(tl, VIGIL_VAR_RESP, hour);
    double sbp = recent(tl, VIGIL_VAR_SBP, hour);
    double gcs = recent(tl, VIGIL_VAR_GCS, hour);
    int s = 0;
    s += !isnan(rr) && rr >= 22;
    s += !isnan(sbp) && sbp <= 100;
    s += !isnan(gcs) && gcs < 15;
    return (float)s;
}

static float sirs_at(const vigil_timeline *tl, long hour)
{
    double t = recent(tl, VIGIL_VAR_TEMP, hour);
    double hr = recent(tl, VIGIL_VAR_HR, hour);
    double rr = recent(tl, VIGIL_VAR_RESP, hour);
    double paco2 = recent(tl, VIGIL_VAR_PACO2, hour);
    double wbc = recent(tl, VIGIL_VAR_WBC, hour);
    int s = 0;
    s += !isnan(t) && (t > 38.0 || t < 36.0);
    s += !isnan(hr) && hr > 90;
    s += (!isnan(rr) && rr > 20) || (!isnan(paco2) && paco2 < 32);
    s += !isnan(wbc) && (wbc > 12 || wbc < 4);
    return (float)s;
}

static int n_missing(const vigil_news2 *n2)
{
    int k = 0;
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        k += (n2->missing >> p) & 1u;
    }
    return k;
}

static int set_index(vigil_cohort *c, const char *set, vigil_err *err)
{
    for (size_t i = 0; i < c->n_sets; i++) {
        if (strcmp(c->sets[i], set) == 0) {
            return (int)i;
        }
    }
    if (c->n_sets == VIGIL_COHORT_MAX_SETS) {
        vigil_err_set(err, VIGIL_ERR_ARG, "set", "more than %d hospitals/sets in one cohort",
                      VIGIL_COHORT_MAX_SETS);
        return -1;
    }
    snprintf(c->sets[c->n_sets], sizeof c->sets[0], "%s", set);
    return (int)c->n_sets++;
}

vigil_status vigil_cohort_timeline(vigil_timeline *tl, const vigil_stay *s, const vigil_meas *m,
                                   size_t n, vigil_err *err)
{
    vigil_timeline_reset(tl);
    vigil_status st = vigil_timeline_set_patient(tl, s->age_y, s->sex, err);
    if (st == VIGIL_OK && !isnan(s->first_t_h)) {
        st = vigil_timeline_add_record(tl, s->first_t_h, err);
        if (st == VIGIL_OK) {
            st = vigil_timeline_add_record(tl, s->last_t_h, err);
        }
    }
    if (st == VIGIL_OK) {
        st = vigil_timeline_add_meas(tl, m, n, err);
    }
    if (st == VIGIL_OK) {
        st = vigil_timeline_finish(tl, err);
    }
    return st;
}

static void score_row(build *b, size_t row, long hour)
{
    vigil_cohort *c = b->c;
    vigil_news2 n2;
    if (vigil_timeline_news2(b->tl, hour, &n2, NULL) == VIGIL_OK) {
        c->news2[row] = (float)n2.total;
        c->news2_n_missing[row] = (uint8_t)n_missing(&n2);
    } else {
        c->news2[row] = 0.0f;
        c->news2_n_missing[row] = VIGIL_NEWS2_PARAM_COUNT;
    }
    c->qsofa[row] = qsofa_at(b->tl, hour);
    c->sirs[row] = sirs_at(b->tl, hour);
}

static vigil_status add_2019(build *b, const vigil_stay *s, vigil_cohort_stay *cs, vigil_err *err)
{
    vigil_cohort *c = b->c;
    long first = vigil_timeline_first_hour(b->tl);
    long last = vigil_timeline_last_hour(b->tl);
    if (first == VIGIL_TIMELINE_NO_HOUR) {
        return VIGIL_OK;
    }
    size_t n = (size_t)(last - first + 1);
    vigil_status st = grow_rows(b, c->n_rows + n, err);
    if (st != VIGIL_OK) {
        return st;
    }
    if (b->opts->with_features) {
        size_t cap = b->feat_cap_rows * c->n_feat;
        st = grow((void **)&b->feat_buf, &cap, n * c->n_feat, sizeof(float), err);
        if (st != VIGIL_OK) {
            return st;
        }
        b->feat_cap_rows = cap / c->n_feat;
        size_t got = 0;
        st = vigil_features_stay(b->tl, b->feat_buf, b->feat_cap_rows, &got, err);
        if (st != VIGIL_OK) {
            return st;
        }
        if (got != n) {
            return vigil_err_set(err, VIGIL_ERR_INTERNAL, NULL, "%s: %zu feature rows, %zu hours",
                                 s->id, got, n);
        }
    }
    cs->row0 = c->n_rows;
    cs->first_hour = first;
    cs->onset_row = -1;
    size_t kept = 0;
    for (size_t r = 0; r < n; r++) {
        long hour = first + (long)r;
        long li = hour - s->label_first_hour;
        if (s->sepsis_label == NULL || li < 0 || (size_t)li >= s->n_labels ||
            s->sepsis_label[li] == VIGIL_LABEL_UNKNOWN) {
            c->n_unlabelled++;
            continue; /* an hour the file has no row for: not scored */
        }
        size_t row = c->n_rows + kept;
        c->label[row] = s->sepsis_label[li];
        c->stay_of[row] = (int64_t)c->n_stays;
        if (c->label[row] == 1 && cs->onset_row < 0) {
            cs->onset_row = (long)kept + 6; /* t_sepsis: labels start 6 h before onset */
            cs->sepsis = true;
        }
        score_row(b, row, hour);
        if (b->opts->with_features) {
            memcpy(&c->x[row * c->n_feat], &b->feat_buf[r * c->n_feat], c->n_feat * sizeof(float));
        }
        kept++;
    }
    cs->n_rows = kept;
    c->n_rows += kept;
    return VIGIL_OK;
}

static vigil_status add_2012(build *b, const vigil_stay *s, vigil_cohort_stay *cs, vigil_err *err)
{
    vigil_cohort *c = b->c;
    vigil_status st = grow_rows(b, c->n_rows + 1, err);
    if (st != VIGIL_OK) {
        return st;
    }
    const long h = VIGIL_COHORT_2012_HOUR;
    size_t row = c->n_rows;
    cs->row0 = row;
    cs->n_rows = 1;
    cs->first_hour = h;
    cs->onset_row = -1;
    c->label[row] = (uint8_t)s->in_hospital_death;
    c->stay_of[row] = (int64_t)c->n_stays;
    score_row(b, row, h);
    double mx = 0;
    for (long k = 0; k <= h; k++) {
        vigil_news2 n2;
        if (vigil_timeline_news2(b->tl, k, &n2, NULL) == VIGIL_OK && n2.total > mx) {
            mx = n2.total;
        }
    }
    cs->news2_max48 = mx;
    cs->news2_last = c->news2[row];
    if (b->opts->with_features) {
        st = vigil_features_at(b->tl, h, &c->x[row * c->n_feat], c->n_feat, err);
        if (st != VIGIL_OK) {
            return st;
        }
    }
    c->n_rows++;
    return VIGIL_OK;
}

static vigil_status on_stay(const vigil_stay *s, const vigil_meas *m, size_t n, void *ctx)
{
    build *b = ctx;
    vigil_cohort *c = b->c;
    vigil_err *err = NULL;
    if (b->opts->max_stays > 0 && c->n_stays >= b->opts->max_stays) {
        return VIGIL_ERR_CONFLICT; /* stop the walk: enough stays */
    }
    if (c->format == VIGIL_DATA_UNKNOWN) {
        c->format = s->format;
    } else if (c->format != s->format) {
        return VIGIL_ERR_MISMATCH;
    }
    if (s->format == VIGIL_DATA_PN2012 && (!s->has_outcome || s->in_hospital_death < 0)) {
        return VIGIL_OK; /* counted by the loader as no_outcome */
    }
    vigil_status st =
        grow((void **)&c->stays, &b->cap_stays, c->n_stays + 1, sizeof *c->stays, err);
    if (st != VIGIL_OK) {
        return st;
    }
    vigil_cohort_stay *cs = &c->stays[c->n_stays];
    memset(cs, 0, sizeof *cs);
    snprintf(cs->id, sizeof cs->id, "%s", s->id);
    int set = set_index(c, s->set, err);
    if (set < 0) {
        return VIGIL_ERR_ARG;
    }
    cs->set = set;
    cs->age_y = s->age_y;
    cs->sex = s->sex;
    cs->died = s->in_hospital_death;
    cs->saps1 = s->saps1;
    cs->sofa = s->sofa;
    cs->last_t_h = s->last_t_h;
    st = vigil_cohort_timeline(b->tl, s, m, n, err);
    if (st != VIGIL_OK) {
        return st;
    }
    st = s->format == VIGIL_DATA_PN2019 ? add_2019(b, s, cs, err) : add_2012(b, s, cs, err);
    if (st != VIGIL_OK) {
        return st;
    }
    if (cs->n_rows > 0) {
        c->n_stays++;
    }
    if (b->opts->progress != NULL && c->n_stays % 500 == 0) {
        b->opts->progress(c->n_stays, c->n_rows, b->opts->ctx);
    }
    return VIGIL_OK;
}

vigil_status vigil_cohort_load(const char *path, const vigil_cohort_opts *opts, vigil_cohort **out,
                               vigil_err *err)
{
    vigil_cohort_opts defaults = {0};
    if (opts == NULL) {
        opts = &defaults;
    }
    vigil_cohort *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "cohort: out of memory");
    }
    c->n_feat = vigil_features_count();
    build b = {.c = c, .opts = opts};
    vigil_status st = vigil_timeline_new(&b.tl, err);
    if (st == VIGIL_OK) {
        vigil_data_opts dopts;
        vigil_data_opts_init(&dopts);
        dopts.outcomes_path = opts->outcomes_path;
        st = vigil_data_foreach(path, &dopts, on_stay, &b, &c->summary, err);
        if (st == VIGIL_ERR_CONFLICT && opts->max_stays > 0) {
            st = VIGIL_OK; /* stopped early on purpose */
        } else if (st == VIGIL_ERR_MISMATCH) {
            st = vigil_err_set(err, VIGIL_ERR_MISMATCH, "data",
                               "%s mixes PhysioNet 2019 and 2012 stays; evaluate them apart", path);
        } else if (st != VIGIL_OK && err != NULL && err->msg[0] == '\0') {
            vigil_err_set(err, st, NULL, "%s: %s", path, vigil_status_str(st));
        }
    }
    vigil_timeline_free(b.tl);
    free(b.feat_buf);
    if (st == VIGIL_OK && c->n_stays == 0) {
        st = vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "data", "%s: no scorable stays found", path);
    }
    if (st != VIGIL_OK) {
        vigil_cohort_free(c);
        return st;
    }
    *out = c;
    return VIGIL_OK;
}

void vigil_cohort_free(vigil_cohort *c)
{
    if (c == NULL) {
        return;
    }
    free(c->stays);
    free(c->label);
    free(c->stay_of);
    free(c->news2);
    free(c->news2_n_missing);
    free(c->qsofa);
    free(c->sirs);
    free(c->x);
    free(c);
}

vigil_status vigil_cohort_subset(const vigil_cohort *c, const uint8_t *keep, vigil_cohort **out,
                                 size_t **out_rows, vigil_err *err)
{
    size_t n_stays = 0, n_rows = 0;
    for (size_t k = 0; k < c->n_stays; k++) {
        if (keep[k]) {
            n_stays++;
            n_rows += c->stays[k].n_rows;
        }
    }
    vigil_cohort *s = calloc(1, sizeof *s);
    size_t *map = malloc(sizeof *map * (n_rows > 0 ? n_rows : 1));
    if (s == NULL || map == NULL) {
        free(s);
        free(map);
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "cohort: out of memory");
    }
    s->format = c->format;
    s->n_feat = c->n_feat;
    s->n_sets = c->n_sets;
    memcpy(s->sets, c->sets, sizeof s->sets);
    s->summary = c->summary;
    size_t cap = n_rows > 0 ? n_rows : 1;
    s->stays = malloc(sizeof *s->stays * (n_stays > 0 ? n_stays : 1));
    s->label = malloc(cap);
    s->stay_of = malloc(sizeof *s->stay_of * cap);
    s->news2 = malloc(sizeof *s->news2 * cap);
    s->news2_n_missing = malloc(cap);
    s->qsofa = malloc(sizeof *s->qsofa * cap);
    s->sirs = malloc(sizeof *s->sirs * cap);
    s->x = c->x != NULL ? malloc(sizeof *s->x * cap * c->n_feat) : NULL;
    if (s->stays == NULL || s->label == NULL || s->stay_of == NULL || s->news2 == NULL ||
        s->news2_n_missing == NULL || s->qsofa == NULL || s->sirs == NULL ||
        (c->x != NULL && s->x == NULL)) {
        vigil_cohort_free(s);
        free(map);
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "cohort: out of memory");
    }
    size_t r = 0;
    for (size_t k = 0; k < c->n_stays; k++) {
        if (!keep[k]) {
            continue;
        }
        vigil_cohort_stay st = c->stays[k];
        size_t from = st.row0;
        st.row0 = r;
        for (size_t i = 0; i < st.n_rows; i++, r++) {
            size_t o = from + i;
            map[r] = o;
            s->label[r] = c->label[o];
            s->stay_of[r] = (int64_t)s->n_stays;
            s->news2[r] = c->news2[o];
            s->news2_n_missing[r] = c->news2_n_missing[o];
            s->qsofa[r] = c->qsofa[o];
            s->sirs[r] = c->sirs[o];
            if (s->x != NULL) {
                memcpy(&s->x[r * c->n_feat], &c->x[o * c->n_feat], sizeof(float) * c->n_feat);
            }
        }
        s->stays[s->n_stays++] = st;
    }
    s->n_rows = r;
    *out = s;
    if (out_rows != NULL) {
        *out_rows = map;
    } else {
        free(map);
    }
    return VIGIL_OK;
}
