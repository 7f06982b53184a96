/*
 * bench_news2.c: NEWS2 scores per second on one core (one thread), over a
 * deterministic mix of complete, incomplete and Scale 2 sets. Prints the
 * median of 5 runs. The peer (a plain Python implementation of the same chart,
 * bench/news2_peer.py) runs in the same `make bench` and the ratio is printed
 * by scripts/bench.sh. Never gating.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "vigil/news2.h"

#define N_SETS 1000000
#define RUNS 5

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

static double uni(uint64_t *s, double lo, double hi)
{
    return lo + (hi - lo) * (double)lcg(s) / 2147483648.0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    vigil_obs *sets = malloc(sizeof *sets * N_SETS);
    if (sets == NULL) {
        return 1;
    }
    uint64_t seed = 42;
    for (size_t i = 0; i < N_SETS; i++) {
        vigil_obs *o = &sets[i];
        vigil_obs_init(o);
        o->rr_bpm = floor(uni(&seed, 6, 35));
        o->spo2_pct = floor(uni(&seed, 82, 100));
        o->o2 = lcg(&seed) % 4 == 0 ? VIGIL_O2_OXYGEN : VIGIL_O2_AIR;
        o->spo2_scale = lcg(&seed) % 10 == 0 ? 2 : 1;
        o->sbp_mmhg = floor(uni(&seed, 70, 230));
        o->hr_bpm = floor(uni(&seed, 35, 150));
        o->acvpu = lcg(&seed) % 8 == 0 ? VIGIL_ACVPU_C : VIGIL_ACVPU_A;
        o->temp_c = floor(uni(&seed, 340, 402)) / 10.0;
        if (lcg(&seed) % 20 == 0) {
            o->sbp_mmhg = NAN; /* some incomplete sets */
        }
    }
    double times[RUNS];
    long checksum = 0;
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_s();
        for (size_t i = 0; i < N_SETS; i++) {
            vigil_news2 out;
            if (vigil_news2_score(&sets[i], &out, NULL) == VIGIL_OK) {
                checksum += out.total;
            }
        }
        times[r] = now_s() - t0;
    }
    qsort(times, RUNS, sizeof times[0], cmp_d);
    double med = times[RUNS / 2];
    printf("bench_news2: %d sets x %d runs, median %.3f s, %.0f scores/s on one core "
           "(checksum %ld)\n",
           N_SETS, RUNS, med, (double)N_SETS / med, checksum);
    printf("news2_scores_per_s=%.0f\n", (double)N_SETS / med);
    free(sets);
    return 0;
}
