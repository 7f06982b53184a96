/*
 * bench_featurize.c: load the whole PhysioNet 2019 training data (both
 * archives, read in place) and compute every feature at every hour of every
 * stay, as training does. Prints the loader summary, times and rows/s; the
 * peer (pandas, bench/featurize_pandas.py) is run and compared by
 * bench/featurize.sh. Never gating.
 *
 * usage: bench_featurize [DATA_DIR] [--sample-out FILE] [--sample-every N]
 *   DATA_DIR defaults to $VIGIL_DATA_DIR, then ../shared/data; the 2019 data
 *   are read from DATA_DIR/physionet2019. --sample-out writes the features of
 *   every Nth stay (default 400) as CSV (stay id, hour, then one column per
 *   feature, "nan" for NaN) for the pandas agreement check.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/data.h"
#include "vigil/features.h"
#include "vigil/util.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this process: the machine is shared, so wall time alone
 * depends on what else runs. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct sample {
    FILE *f;
    long every;
} sample;

typedef struct run {
    vigil_timeline *tl;
    float *rows;
    size_t cap_rows;
    size_t n_rows;
    size_t n_stays;
    uint64_t checksum;
    bool featurize;
    sample *smp;
} run;

static vigil_status write_sample(const run *r, const vigil_stay *s, size_t n_rows)
{
    long first = vigil_timeline_first_hour(r->tl);
    size_t nf = vigil_features_count();
    for (size_t i = 0; i < n_rows; i++) {
        fprintf(r->smp->f, "%s,%ld", s->id, first + (long)i);
        const float *x = r->rows + i * nf;
        for (size_t k = 0; k < nf; k++) {
            if (isnan(x[k])) {
                fputs(",nan", r->smp->f);
            } else {
                fprintf(r->smp->f, ",%.9g", (double)x[k]);
            }
        }
        fputc('\n', r->smp->f);
    }
    return VIGIL_OK;
}

static vigil_status on_stay(const vigil_stay *s, const vigil_meas *m, size_t n, void *ctx)
{
    run *r = ctx;
    r->n_stays++;
    r->n_rows += s->n_rows;
    if (!r->featurize) {
        return VIGIL_OK;
    }
    vigil_err e = {0};
    vigil_timeline_reset(r->tl);
    vigil_status st = vigil_timeline_set_patient(r->tl, s->age_y, s->sex, &e);
    if (st == VIGIL_OK && !isnan(s->first_t_h)) {
        st = vigil_timeline_add_record(r->tl, s->first_t_h, &e);
        if (st == VIGIL_OK) {
            st = vigil_timeline_add_record(r->tl, s->last_t_h, &e);
        }
    }
    if (st == VIGIL_OK) {
        st = vigil_timeline_add_meas(r->tl, m, n, &e);
    }
    if (st == VIGIL_OK) {
        st = vigil_timeline_finish(r->tl, &e);
    }
    size_t nf = vigil_features_count();
    long first = vigil_timeline_first_hour(r->tl), last = vigil_timeline_last_hour(r->tl);
    size_t need = first == VIGIL_TIMELINE_NO_HOUR ? 0 : (size_t)(last - first + 1);
    if (st == VIGIL_OK && need > r->cap_rows) {
        float *p = realloc(r->rows, need * nf * sizeof *p);
        if (p == NULL) {
            return VIGIL_ERR_NOMEM;
        }
        r->rows = p;
        r->cap_rows = need;
    }
    size_t got = 0;
    if (st == VIGIL_OK) {
        st = vigil_features_stay(r->tl, r->rows, r->cap_rows, &got, &e);
    }
    if (st != VIGIL_OK) {
        fprintf(stderr, "bench_featurize: %s: %s\n", s->file, e.msg);
        return st;
    }
    /* A cheap checksum so the work cannot be skipped: the sum of the bits. */
    uint64_t bits = 0;
    for (size_t i = 0; i < got * nf; i++) {
        uint32_t u;
        memcpy(&u, &r->rows[i], sizeof u);
        bits += u;
    }
    r->checksum += bits;
    if (r->smp != NULL && r->smp->f != NULL && (long)(r->n_stays - 1) % r->smp->every == 0) {
        write_sample(r, s, got);
    }
    return VIGIL_OK;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_featurize [DATA_DIR] [--sample-out FILE] [--sample-every N]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *dir = getenv("VIGIL_DATA_DIR");
    const char *sample_path = NULL;
    long every = 400;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--sample-out") == 0 && i + 1 < argc) {
            sample_path = argv[++i];
        } else if (strcmp(argv[i], "--sample-every") == 0 && i + 1 < argc) {
            if (vigil_parse_long(argv[++i], 1, 1000000, &every) != VIGIL_OK) {
                return usage();
            }
        } else if (argv[i][0] == '-') {
            return usage();
        } else {
            dir = argv[i];
        }
    }
    if (dir == NULL) {
        dir = "../shared/data";
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/physionet2019", dir);

    /* Pass 1: load and parse only (the loader's share). */
    run r = {0};
    vigil_data_summary *sum = malloc(sizeof *sum);
    if (sum == NULL) {
        return 1;
    }
    vigil_err e = {0};
    double t0 = now_s(), c0 = cpu_s();
    vigil_status st = vigil_data_foreach(path, NULL, on_stay, &r, sum, &e);
    double t_load = now_s() - t0, c_load = cpu_s() - c0;
    if (st != VIGIL_OK) {
        fprintf(stderr, "bench_featurize: %s: %s\n", path, e.msg);
        free(sum);
        return 1;
    }
    char text[16384];
    vigil_data_summary_format(sum, text, sizeof text);
    printf("loader summary (%s):\n%s", path, text);

    /* Pass 2: load, build timelines and compute every feature at every hour. */
    run f = {.featurize = true};
    sample smp = {.f = NULL, .every = every};
    if (sample_path != NULL) {
        smp.f = fopen(sample_path, "w");
        if (smp.f == NULL) {
            fprintf(stderr, "bench_featurize: cannot write %s\n", sample_path);
            free(sum);
            return 1;
        }
        fputs("stay,hour", smp.f);
        for (size_t k = 0; k < vigil_features_count(); k++) {
            fprintf(smp.f, ",%s", vigil_features_info(k)->name);
        }
        fputc('\n', smp.f);
        f.smp = &smp;
    }
    if (vigil_timeline_new(&f.tl, &e) != VIGIL_OK) {
        free(sum);
        return 1;
    }
    t0 = now_s();
    c0 = cpu_s();
    st = vigil_data_foreach(path, NULL, on_stay, &f, NULL, &e);
    double t_all = now_s() - t0, c_all = cpu_s() - c0;
    if (smp.f != NULL) {
        fclose(smp.f);
    }
    vigil_timeline_free(f.tl);
    free(f.rows);
    free(sum);
    if (st != VIGIL_OK) {
        fprintf(stderr, "bench_featurize: %s\n", e.msg);
        return 1;
    }
    char hash[17];
    vigil_features_spec_hash_hex(hash);
    printf("features: %zu per row, spec v%d hash %s\n", vigil_features_count(),
           VIGIL_FEATURES_VERSION, hash);
    printf("stays %zu, hourly rows %zu\n", f.n_stays, f.n_rows);
    printf("C load+parse only:        wall %.2f s, cpu %.2f s  (%.0f rows/s by wall)\n", t_load,
           c_load, (double)r.n_rows / t_load);
    printf("C load+timeline+features: wall %.2f s, cpu %.2f s  (%.0f rows/s by wall; "
           "timeline+features alone: cpu %.2f s)\n",
           t_all, c_all, (double)f.n_rows / t_all, c_all - c_load);
    printf("checksum %016llx\n", (unsigned long long)f.checksum);
    printf("RESULT c_wall=%.3f c_cpu=%.3f rows=%zu\n", t_all, c_all, f.n_rows);
    return 0;
}
