/*
 * bench_treeshap.c: vigil's score + exact TreeSHAP against XGBoost 1.7's C
 * API (XGBoosterPredictFromDMatrix, "type": 2 contributions and "type": 0
 * probabilities) on the same model and the same rows, in the same run.
 *
 * Measures:
 *  1. one-row latency (median, p99 over --calls calls) of a full explained
 *     score: vigil_trees_shap with its prediction, against XGBoost building
 *     a one-row DMatrix and predicting contributions (and, separately, also
 *     the probability). XGBoost runs with nthread=1 here (one row cannot use
 *     more); vigil is single-threaded.
 *  2. throughput over --rows rows: vigil on 1 and on --threads threads (one
 *     workspace per thread), XGBoost with nthread=--threads on one DMatrix.
 * and checks the two agree (max |phi difference|, probabilities bit for bit).
 *
 * Model: trained here (--trees 300, --depth 6, --features 100 on --train
 * rows of synthetic data with 10% NaN) or read with --model FILE.json.
 * Never gating; prints figures and ratios only.
 *
 * Usage: bench_treeshap [--rows N] [--calls N] [--threads N] [--trees N]
 *          [--depth N] [--features N] [--train N] [--model FILE]
 *          [--save-model FILE]
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/model/xgb_oracle.h"
#include "vigil/trees.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, cmp_double);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i];
}

typedef struct opts {
    size_t rows, calls, threads, trees, depth, features, train;
    const char *model, *save_model;
} opts;

static int parse_size(const char *s, size_t *out)
{
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end != '\0' || v == 0) {
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

static int parse_opts(int argc, char **argv, opts *o)
{
    *o = (opts){100000, 1000, 2, 300, 6, 100, 20000, NULL, NULL};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        size_t *dst = NULL;
        if (strcmp(a, "--rows") == 0) {
            dst = &o->rows;
        } else if (strcmp(a, "--calls") == 0) {
            dst = &o->calls;
        } else if (strcmp(a, "--threads") == 0) {
            dst = &o->threads;
        } else if (strcmp(a, "--trees") == 0) {
            dst = &o->trees;
        } else if (strcmp(a, "--depth") == 0) {
            dst = &o->depth;
        } else if (strcmp(a, "--features") == 0) {
            dst = &o->features;
        } else if (strcmp(a, "--train") == 0) {
            dst = &o->train;
        } else if (strcmp(a, "--model") == 0 && v != NULL) {
            o->model = v;
            i++;
            continue;
        } else if (strcmp(a, "--save-model") == 0 && v != NULL) {
            o->save_model = v;
            i++;
            continue;
        } else {
            fprintf(stderr, "usage: %s [--rows N] [--calls N] [--threads N] [--trees N] "
                            "[--depth N] [--features N] [--train N] [--model FILE] "
                            "[--save-model FILE]\n",
                    argv[0]);
            return -1;
        }
        if (v == NULL || parse_size(v, dst) != 0) {
            fprintf(stderr, "%s needs a positive integer\n", a);
            return -1;
        }
        i++;
    }
    return 0;
}

typedef struct job {
    const vigil_trees *m;
    const double *x;
    size_t n, nf;
    double *phi;
    vigil_trees_pred *pred;
    int rc;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    size_t wsz = vigil_trees_shap_work_size(j->m);
    void *work = malloc(wsz);
    j->rc = work == NULL ? -1
                         : (int)vigil_trees_shap_batch(j->m, j->x, j->n, j->nf, work, wsz,
                                                       j->phi, j->pred);
    free(work);
    return NULL;
}

/* vigil over all rows with k threads; returns seconds or -1. */
static double vigil_batch(const vigil_trees *m, const double *x, size_t n, size_t nf, size_t k,
                          double *phi, vigil_trees_pred *pred)
{
    job *jobs = calloc(k, sizeof *jobs);
    pthread_t *th = calloc(k, sizeof *th);
    if (jobs == NULL || th == NULL) {
        free(jobs);
        free(th);
        return -1.0;
    }
    double t0 = now_s();
    for (size_t i = 0; i < k; i++) {
        size_t a = n * i / k, b = n * (i + 1) / k;
        jobs[i] = (job){m, x + a * nf, b - a, nf, phi + a * (nf + 1), pred + a, 0};
        if (k == 1) {
            run_job(&jobs[i]);
        } else if (pthread_create(&th[i], NULL, run_job, &jobs[i]) != 0) {
            return -1.0;
        }
    }
    int rc = 0;
    for (size_t i = 0; i < k; i++) {
        if (k > 1) {
            pthread_join(th[i], NULL);
        }
        rc |= jobs[i].rc;
    }
    double t = now_s() - t0;
    free(jobs);
    free(th);
    return rc == 0 ? t : -1.0;
}

static int get_model(const opts *o, BoosterHandle *b, char **json, size_t *json_len,
                     size_t *nf)
{
    if (o->model != NULL) {
        XGBO_CHECK(XGBoosterCreate(NULL, 0, b));
        XGBO_CHECK(XGBoosterLoadModel(*b, o->model));
        bst_ulong n = 0;
        XGBO_CHECK(XGBoosterGetNumFeature(*b, &n));
        *nf = (size_t)n;
        return xgbo_model_json(*b, json, json_len);
    }
    *nf = o->features;
    float *X = malloc(o->train * o->features * sizeof *X);
    float *y = malloc(o->train * sizeof *y);
    if (X == NULL || y == NULL) {
        return -1;
    }
    xgbo_make_data(o->train, o->features, 0.1, 0.0, 42, X, y);
    DMatrixHandle d = NULL;
    if (xgbo_dmatrix(X, y, o->train, o->features, &d) != 0) {
        return -1;
    }
    char depth[32];
    snprintf(depth, sizeof depth, "%zu", o->depth);
    const char *params[] = {"objective",   "binary:logistic", "max_depth", depth,
                            "base_score",  "0.2",             "eta",       "0.1",
                            "tree_method", "hist",            "nthread",   "2",
                            NULL};
    double t0 = now_s();
    if (xgbo_train(d, params, (int)o->trees, b) != 0) {
        return -1;
    }
    fprintf(stderr, "trained %zu trees in %.1f s\n", o->trees, now_s() - t0);
    XGDMatrixFree(d);
    free(X);
    free(y);
    if (o->save_model != NULL) {
        XGBO_CHECK(XGBoosterSaveModel(*b, o->save_model));
    }
    return xgbo_model_json(*b, json, json_len);
}

int main(int argc, char **argv)
{
    opts o;
    if (parse_opts(argc, argv, &o) != 0) {
        return 2;
    }
    BoosterHandle b = NULL;
    char *json = NULL;
    size_t json_len = 0, nf = 0;
    if (get_model(&o, &b, &json, &json_len, &nf) != 0) {
        return 1;
    }
    vigil_trees *m = NULL;
    vigil_err err = {0};
    double t0 = now_s();
    if (vigil_trees_load_json(json, json_len, &m, &err) != VIGIL_OK) {
        fprintf(stderr, "vigil_trees_load_json: %s\n", err.msg);
        return 1;
    }
    double t_load = now_s() - t0;
    vigil_trees_info info;
    vigil_trees_get_info(m, &info);
    printf("model: %zu trees, max depth %u, %zu features, %zu nodes, %zu leaves; "
           "vigil load %.1f ms (%zu bytes of JSON)\n",
           info.n_trees, info.max_depth, info.n_features, info.n_nodes, info.n_leaves,
           t_load * 1e3, json_len);

    size_t n = o.rows;
    float *X = malloc(n * nf * sizeof *X);
    double *Xd = malloc(n * nf * sizeof *Xd);
    double *phi = malloc(n * (nf + 1) * sizeof *phi);
    float *xc = malloc(n * (nf + 1) * sizeof *xc);
    float *xp = malloc(n * sizeof *xp);
    vigil_trees_pred *pred = malloc(n * sizeof *pred);
    size_t wsz = vigil_trees_shap_work_size(m);
    void *work = malloc(wsz);
    double *lat_v = malloc(o.calls * sizeof *lat_v);
    double *lat_x = malloc(o.calls * sizeof *lat_x);
    double *lat_x2 = malloc(o.calls * sizeof *lat_x2);
    if (!X || !Xd || !phi || !xc || !xp || !pred || !work || !lat_v || !lat_x || !lat_x2) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    xgbo_make_data(n, nf, 0.1, 0.0, 4242, X, NULL);
    for (size_t i = 0; i < n * nf; i++) {
        Xd[i] = (double)X[i];
    }

    /* ---- 1. one-row latency ---- */
    if (XGBoosterSetParam(b, "nthread", "1") != 0) {
        return 1;
    }
    double sink = 0.0;
    for (size_t i = 0; i < o.calls + 50; i++) {
        const double *x = Xd + (i % n) * nf;
        vigil_trees_pred p;
        double s = now_s();
        if (vigil_trees_shap(m, x, nf, work, wsz, phi, &p) != VIGIL_OK) {
            return 1;
        }
        double e = now_s() - s;
        sink += phi[0] + p.prob;
        if (i >= 50) {
            lat_v[i - 50] = e;
        }
    }
    for (size_t i = 0; i < o.calls + 10; i++) {
        const float *x = X + (i % n) * nf;
        float c[1024], pr[1];
        if (nf + 1 > 1024) {
            fprintf(stderr, "too many features for the one-row buffer\n");
            return 1;
        }
        double s = now_s();
        DMatrixHandle d1 = NULL;
        if (xgbo_dmatrix(x, NULL, 1, nf, &d1) != 0 || xgbo_predict(b, d1, 2, c, nf + 1) != 0) {
            return 1;
        }
        double e1 = now_s() - s;
        if (xgbo_predict(b, d1, 0, pr, 1) != 0) {
            return 1;
        }
        XGDMatrixFree(d1);
        double e2 = now_s() - s;
        sink += c[0] + pr[0];
        if (i >= 10) {
            lat_x[i - 10] = e1;
            lat_x2[i - 10] = e2;
        }
    }
    double v50 = quantile(lat_v, o.calls, 0.5), v99 = quantile(lat_v, o.calls, 0.99);
    double x50 = quantile(lat_x, o.calls, 0.5), x99 = quantile(lat_x, o.calls, 0.99);
    double y50 = quantile(lat_x2, o.calls, 0.5), y99 = quantile(lat_x2, o.calls, 0.99);
    printf("\none row, score + TreeSHAP, %zu calls each, 1 thread each:\n", o.calls);
    printf("  vigil  vigil_trees_shap (margin, prob, %zu SHAP values)   "
           "median %8.1f us  p99 %8.1f us\n",
           nf + 1, v50 * 1e6, v99 * 1e6);
    printf("  xgboost DMatrix + contribs (type 2)                      "
           "median %8.1f us  p99 %8.1f us   ratio %.1fx / %.1fx\n",
           x50 * 1e6, x99 * 1e6, x50 / v50, x99 / v99);
    printf("  xgboost DMatrix + contribs + prob (type 2, type 0)       "
           "median %8.1f us  p99 %8.1f us   ratio %.1fx / %.1fx\n",
           y50 * 1e6, y99 * 1e6, y50 / v50, y99 / v99);

    /* ---- 2. throughput ---- */
    char nth[32];
    snprintf(nth, sizeof nth, "%zu", o.threads);
    if (XGBoosterSetParam(b, "nthread", nth) != 0) {
        return 1;
    }
    printf("\n%zu rows, score + TreeSHAP:\n", n);
    double tv1 = vigil_batch(m, Xd, n, nf, 1, phi, pred);
    double tvk = o.threads > 1 ? vigil_batch(m, Xd, n, nf, o.threads, phi, pred) : tv1;
    if (tv1 < 0 || tvk < 0) {
        fprintf(stderr, "vigil batch failed\n");
        return 1;
    }
    DMatrixHandle dall = NULL;
    t0 = now_s();
    if (xgbo_dmatrix(X, NULL, n, nf, &dall) != 0 || xgbo_predict(b, dall, 2, xc, n * (nf + 1)) != 0 ||
        xgbo_predict(b, dall, 0, xp, n) != 0) {
        return 1;
    }
    double tx = now_s() - t0;
    printf("  vigil   1 thread%s  %8.2f s  %9.0f rows/s\n", o.threads > 1 ? " " : "", tv1,
           (double)n / tv1);
    if (o.threads > 1) {
        printf("  vigil   %zu threads  %8.2f s  %9.0f rows/s\n", o.threads, tvk, (double)n / tvk);
    }
    printf("  xgboost %zu thread%s  %8.2f s  %9.0f rows/s   (DMatrix + type 2 + type 0)\n",
           o.threads, o.threads > 1 ? "s" : " ", tx, (double)n / tx);
    printf("  ratio xgboost(%zu threads) / vigil(%zu threads) = %.1fx;  "
           "/ vigil(1 thread) = %.1fx\n",
           o.threads, o.threads, tx / tvk, tx / tv1);

    /* ---- agreement ---- */
    double maxd = 0.0;
    size_t prob_diff = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j <= nf; j++) {
            double dl = fabs(phi[i * (nf + 1) + j] - (double)xc[i * (nf + 1) + j]);
            maxd = dl > maxd ? dl : maxd;
        }
        prob_diff += (float)pred[i].prob != xp[i];
    }
    printf("\nagreement on %zu rows: max |phi vigil - phi xgboost| = %.3g; "
           "probabilities differing in any bit: %zu\n",
           n, maxd, prob_diff);
    if (sink == 12345.678) {
        printf("\n");
    }
    XGDMatrixFree(dall);
    XGBoosterFree(b);
    vigil_trees_free(m);
    free(json);
    free(X);
    free(Xd);
    free(phi);
    free(xc);
    free(xp);
    free(pred);
    free(work);
    free(lat_v);
    free(lat_x);
    free(lat_x2);
    return 0;
}
