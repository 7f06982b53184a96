/*
 * test_features_causal.c: REQ FEAT-CAUSAL on real data. For the first stays
 * of PhysioNet 2019 set A and B and 2012 set-a (read from the archives in
 * place), the features at hour t are bit-identical
 *   - whether the stay is cut at t or not (every hour of every stay), and
 *   - when every value measured after t is changed and extra measurements
 *     are added after t (every third hour),
 * and vigil_features_stay gives the same bits as vigil_features_at.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/data.h"
#include "vigil/features.h"
#include "vigil_test.h"

#define N_STAYS 25 /* per archive: keeps the whole test well under a second */

typedef struct ctx {
    vigil_timeline *full, *cut;
    float *rows;
    size_t cap_rows;
    vigil_meas *tmp;
    size_t cap_tmp;
    size_t n_stays, n_checked;
} ctx;

static void build(vigil_timeline *tl, const vigil_stay *s, const vigil_meas *m, size_t n,
                  double cut_at)
{
    vigil_timeline_reset(tl);
    vigil_err e = {0};
    assert_int_equal(vigil_timeline_set_patient(tl, s->age_y, s->sex, &e), VIGIL_OK);
    if (!isnan(s->first_t_h) && s->first_t_h <= cut_at) {
        assert_int_equal(vigil_timeline_add_record(tl, s->first_t_h, &e), VIGIL_OK);
        double last = s->last_t_h <= cut_at ? s->last_t_h : s->first_t_h;
        assert_int_equal(vigil_timeline_add_record(tl, last, &e), VIGIL_OK);
    }
    for (size_t i = 0; i < n; i++) {
        if (m[i].t_h <= cut_at) {
            vigil_status st = vigil_timeline_add(tl, m[i].t_h, m[i].var, m[i].value, &e);
            if (st != VIGIL_OK) {
                print_error("%s: %s\n", s->file, e.msg);
            }
            assert_int_equal(st, VIGIL_OK);
        }
    }
    vigil_status st = vigil_timeline_finish(tl, &e);
    if (st != VIGIL_OK) {
        print_error("%s: %s\n", s->file, e.msg);
    }
    assert_int_equal(st, VIGIL_OK);
}

static void same_bits(const float *a, const float *b, const vigil_stay *s, long hour,
                      const char *what)
{
    for (size_t k = 0; k < VIGIL_FEATURES_COUNT; k++) {
        if (memcmp(&a[k], &b[k], sizeof a[k]) != 0) {
            print_error("%s hour %ld, %s: %s %.9g vs %.9g\n", s->file, hour,
                        vigil_features_info(k)->name, what, (double)a[k], (double)b[k]);
            fail();
        }
    }
}

/* A plausible value different from x (changes every future value). */
static double other_value(vigil_var v, double x)
{
    const vigil_var_info *vi = vigil_var_get(v);
    double mid = vi->integer ? floor((vi->min + vi->max) / 2.0) : (vi->min + vi->max) / 2.0;
    return x != mid ? mid : vi->min;
}

static void check_stay(ctx *c, const vigil_stay *s, const vigil_meas *m, size_t n)
{
    build(c->full, s, m, n, INFINITY);
    long first = vigil_timeline_first_hour(c->full), last = vigil_timeline_last_hour(c->full);
    if (first == VIGIL_TIMELINE_NO_HOUR) {
        return;
    }
    size_t rows = (size_t)(last - first + 1);
    if (rows > c->cap_rows) {
        c->rows = realloc(c->rows, rows * VIGIL_FEATURES_COUNT * sizeof *c->rows);
        assert_non_null(c->rows);
        c->cap_rows = rows;
    }
    if (n + 8 > c->cap_tmp) {
        c->tmp = realloc(c->tmp, (n + 8) * sizeof *c->tmp);
        assert_non_null(c->tmp);
        c->cap_tmp = n + 8;
    }
    size_t got = 0;
    assert_int_equal(vigil_features_stay(c->full, c->rows, c->cap_rows, &got, NULL), VIGIL_OK);
    assert_int_equal(got, rows);
    float x[VIGIL_FEATURES_COUNT];
    for (long h = first; h <= last; h++) {
        const float *row = c->rows + (size_t)(h - first) * VIGIL_FEATURES_COUNT;
        assert_int_equal(vigil_features_at(c->full, h, x, VIGIL_FEATURES_COUNT, NULL), VIGIL_OK);
        same_bits(row, x, s, h, "stay vs at");
        /* cut at h */
        build(c->cut, s, m, n, (double)h);
        assert_int_equal(vigil_features_at(c->cut, h, x, VIGIL_FEATURES_COUNT, NULL), VIGIL_OK);
        same_bits(row, x, s, h, "full vs cut");
        c->n_checked++;
        if ((h - first) % 3 != 0) {
            continue;
        }
        /* change every future value and add future measurements */
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            c->tmp[k] = m[i];
            if (m[i].t_h > (double)h) {
                c->tmp[k].value = other_value(m[i].var, m[i].value);
            }
            k++;
        }
        const vigil_meas extra[] = {
            {(double)h + 0.5, 140, VIGIL_VAR_HR},  {(double)h + 1.0, 70, VIGIL_VAR_SBP},
            {(double)h + 2.0, 3, VIGIL_VAR_GCS},   {(double)h + 0.25, 1.0, VIGIL_VAR_FIO2},
            {(double)h + 3.0, 30, VIGIL_VAR_RESP}, {(double)h + 0.01, 39.9, VIGIL_VAR_TEMP},
        };
        for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
            c->tmp[k++] = extra[i];
        }
        vigil_stay s2 = *s;
        s2.last_t_h = fmax(s->last_t_h, (double)h + 3.0);
        build(c->cut, &s2, c->tmp, k, INFINITY);
        assert_int_equal(vigil_features_at(c->cut, h, x, VIGIL_FEATURES_COUNT, NULL), VIGIL_OK);
        same_bits(row, x, s, h, "original vs changed future");
    }
}

static void run_archive(const char *rel, size_t min_checked)
{
    const char *dir = getenv("VIGIL_DATA_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir != NULL ? dir : "../shared/data", rel);
    if (access(path, R_OK) != 0) {
        skip();
    }
    vigil_data_opts o;
    vigil_data_opts_init(&o);
    o.max_stay_files = N_STAYS;
    vigil_data *d = NULL;
    assert_int_equal(vigil_data_open(path, &o, &d, NULL), VIGIL_OK);
    ctx c = {0};
    assert_int_equal(vigil_timeline_new(&c.full, NULL), VIGIL_OK);
    assert_int_equal(vigil_timeline_new(&c.cut, NULL), VIGIL_OK);
    for (;;) {
        const vigil_stay *s = NULL;
        const vigil_meas *m = NULL;
        size_t n = 0;
        assert_int_equal(vigil_data_next(d, &s, &m, &n, NULL), VIGIL_OK);
        if (s == NULL) {
            break;
        }
        check_stay(&c, s, m, n);
        c.n_stays++;
    }
    assert_int_equal(c.n_stays, N_STAYS);
    assert_true(c.n_checked >= min_checked);
    vigil_timeline_free(c.full);
    vigil_timeline_free(c.cut);
    free(c.rows);
    free(c.tmp);
    vigil_data_close(d);
}

/* REQ FEAT-CAUSAL */
static void features_at_hour_t_ignore_everything_after_t_in_2019_set_a(void **state)
{
    (void)state;
    run_archive("physionet2019/training_setA.tar.gz", 500);
}

/* REQ FEAT-CAUSAL */
static void features_at_hour_t_ignore_everything_after_t_in_2019_set_b(void **state)
{
    (void)state;
    run_archive("physionet2019/training_setB.tar.gz", 500);
}

/* REQ FEAT-CAUSAL */
static void features_at_hour_t_ignore_everything_after_t_in_2012_set_a(void **state)
{
    (void)state;
    run_archive("physionet2012/set-a.tar.gz", 1000);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(features_at_hour_t_ignore_everything_after_t_in_2019_set_a),
    cmocka_unit_test(features_at_hour_t_ignore_everything_after_t_in_2019_set_b),
    cmocka_unit_test(features_at_hour_t_ignore_everything_after_t_in_2012_set_a),
};

VIGIL_TEST_MAIN(tests)
