/*
 * bench_ingest_store.c: durable ingest of observation events through the
 * vigil store API, single (one transaction per event) and batched (one
 * transaction per --batch events), against the named peer: raw SQLite
 * inserts of the same rows into a minimal table with the same durability
 * (WAL, synchronous=FULL) and the same batching, measured in the same run.
 *
 * What the store does per event that the peer does not: resend lookup,
 * patient lookup, open-admission lookup, the audit record (SHA-256 link,
 * head update) and a savepoint per batch item. The ratio is that cost.
 * Events are synthetic (deterministic, 50 patients, plausible vitals).
 *
 * usage: bench_ingest_store [--n N] [--batch B] [--dir DIR]
 * Never gating: prints figures only.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vigil/news2.h"
#include "vigil/store.h"
#include "vigil/util.h"
#include "vigil/ward.h"

#define N_PATIENTS 50

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this process: robust to other load on a shared machine,
 * while the fsync wait shows only in wall time. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static double uniform(uint64_t *s, double lo, double hi)
{
    return lo + (hi - lo) * (double)(xorshift(s) >> 11) / 9007199254740992.0;
}

static void nhs_for(unsigned p, char out[VIGIL_NHS_NUMBER_LEN + 1])
{
    for (unsigned k = 0; k < 10; k++) {
        char d[16];
        snprintf(d, sizeof d, "%09u", 400000000u + p * 10u + k);
        int sum = 0;
        for (int i = 0; i < 9; i++) {
            sum += (d[i] - '0') * (10 - i);
        }
        int check = (11 - sum % 11) % 11;
        if (check != 10) {
            snprintf(out, VIGIL_NHS_NUMBER_LEN + 1, "%.9s%d", d, check);
            return;
        }
    }
}

static void make_events(vigil_obs_event *ev, size_t n, const char *tag)
{
    uint64_t s = UINT64_C(0x2545F4914F6CDD1D);
    for (size_t i = 0; i < n; i++) {
        vigil_obs_event_init(&ev[i]);
        nhs_for((unsigned)(i % N_PATIENTS), ev[i].nhs_number);
        ev[i].t_ms = INT64_C(1735725600000) + (int64_t)i * 60000;
        ev[i].source = VIGIL_SRC_HL7;
        snprintf(ev[i].source_id, sizeof ev[i].source_id, "%s-%zu", tag, i);
        vigil_obs *o = &ev[i].obs;
        o->rr_bpm = (double)(long)uniform(&s, 10, 30);
        o->spo2_pct = (double)(long)uniform(&s, 86, 100);
        o->o2 = (xorshift(&s) % 4 == 0) ? VIGIL_O2_OXYGEN : VIGIL_O2_AIR;
        o->sbp_mmhg = (double)(long)uniform(&s, 85, 190);
        o->hr_bpm = (double)(long)uniform(&s, 45, 140);
        o->acvpu = (xorshift(&s) % 20 == 0) ? VIGIL_ACVPU_C : VIGIL_ACVPU_A;
        o->temp_c = (double)(long)(uniform(&s, 35.0, 39.5) * 10) / 10.0;
    }
}

static void path_in(const char *dir, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", dir, name);
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s%s", out, suffix[i]);
        unlink(p);
    }
}

static void remove_db(const char *path)
{
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
}

/* The store: n events, b per transaction (b = 1: vigil_store_put_obs).
 * with_score adds each event's NEWS2 score in the same transaction. */
static double run_store(const char *path, const vigil_obs_event *ev, size_t n, size_t b,
                        bool with_score, double *cpu)
{
    vigil_store *st = NULL;
    vigil_err e = {0};
    if (vigil_store_open(path, 0, &st, &e) != VIGIL_OK) {
        fprintf(stderr, "open %s: %s\n", path, e.msg);
        exit(1);
    }
    vigil_actor who = {"bench", "ingest benchmark"};
    vigil_store_obs_item *items = calloc(b, sizeof *items);
    vigil_store_put *out = calloc(b, sizeof *out);
    vigil_store_score *sc = calloc(n, sizeof *sc);
    for (size_t i = 0; i < n && with_score; i++) {
        vigil_news2_score(&ev[i].obs, &sc[i].news2, NULL);
        sc[i].t_ms = ev[i].t_ms;
    }
    double t0 = now_s(), c0 = cpu_s();
    for (size_t i = 0; i < n; i += b) {
        size_t k = (n - i < b) ? n - i : b;
        vigil_status s;
        if (k == 1) {
            s = vigil_store_put_obs(st, &who, &ev[i], with_score ? &sc[i] : NULL, out, &e);
        } else {
            for (size_t j = 0; j < k; j++) {
                items[j] = (vigil_store_obs_item){&ev[i + j], with_score ? &sc[i + j] : NULL};
            }
            s = vigil_store_put_obs_batch(st, &who, items, k, out, &e);
        }
        for (size_t j = 0; s == VIGIL_OK && j < k; j++) {
            s = out[j].status;
        }
        if (s != VIGIL_OK) {
            fprintf(stderr, "put: %s\n", e.msg);
            exit(1);
        }
    }
    double dt = now_s() - t0;
    *cpu = cpu_s() - c0;
    vigil_store_close(st);
    free(items);
    free(out);
    free(sc);
    return dt;
}

static void must(sqlite3 *db, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

/* The peer: the same rows into one minimal table, same durability, b per
 * transaction, with a prepared statement. */
static double run_raw(const char *path, const vigil_obs_event *ev, size_t n, size_t b, double *cpu)
{
    sqlite3 *db = NULL;
    must(db, sqlite3_open(path, &db), "open");
    must(db,
         sqlite3_exec(db,
                      "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                      "CREATE TABLE obs (id INTEGER PRIMARY KEY, nhs_number TEXT, t_ms INTEGER, "
                      "rr_bpm REAL, spo2_pct REAL, spo2_scale INTEGER, o2 TEXT, sbp_mmhg REAL, "
                      "hr_bpm REAL, acvpu TEXT, temp_c REAL, source TEXT, source_id TEXT)",
                      NULL, NULL, NULL),
         "schema");
    sqlite3_stmt *ins = NULL, *begin = NULL, *commit = NULL;
    must(db,
         sqlite3_prepare_v2(db,
                            "INSERT INTO obs (nhs_number, t_ms, rr_bpm, spo2_pct, spo2_scale, "
                            "o2, sbp_mmhg, hr_bpm, acvpu, temp_c, source, source_id) VALUES "
                            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'hl7', ?)",
                            -1, &ins, NULL),
         "prepare");
    must(db, sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL), "prepare");
    must(db, sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL), "prepare");
    double t0 = now_s(), c0 = cpu_s();
    for (size_t i = 0; i < n; i += b) {
        size_t k = (n - i < b) ? n - i : b;
        must(db, sqlite3_step(begin), "begin");
        sqlite3_reset(begin);
        for (size_t j = i; j < i + k; j++) {
            const vigil_obs *o = &ev[j].obs;
            sqlite3_bind_text(ins, 1, ev[j].nhs_number, -1, SQLITE_STATIC);
            sqlite3_bind_int64(ins, 2, ev[j].t_ms);
            sqlite3_bind_double(ins, 3, o->rr_bpm);
            sqlite3_bind_double(ins, 4, o->spo2_pct);
            sqlite3_bind_int(ins, 5, o->spo2_scale);
            sqlite3_bind_text(ins, 6, o->o2 == VIGIL_O2_OXYGEN ? "oxygen" : "air", -1,
                              SQLITE_STATIC);
            sqlite3_bind_double(ins, 7, o->sbp_mmhg);
            sqlite3_bind_double(ins, 8, o->hr_bpm);
            sqlite3_bind_text(ins, 9, vigil_acvpu_name(o->acvpu), -1, SQLITE_STATIC);
            sqlite3_bind_double(ins, 10, o->temp_c);
            sqlite3_bind_text(ins, 11, ev[j].source_id, -1, SQLITE_STATIC);
            must(db, sqlite3_step(ins), "insert");
            sqlite3_reset(ins);
        }
        must(db, sqlite3_step(commit), "commit");
        sqlite3_reset(commit);
    }
    double dt = now_s() - t0;
    *cpu = cpu_s() - c0;
    sqlite3_finalize(ins);
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_close(db);
    return dt;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_ingest_store [--n N] [--batch B] [--dir DIR]\n"
                    "  --n N      events per run (default 2000)\n"
                    "  --batch B  events per transaction in the batched runs (default 32)\n"
                    "  --dir DIR  where the databases go (default .; use a disk, not tmpfs,\n"
                    "             for durable-commit figures)\n");
}

int main(int argc, char **argv)
{
    long n = 2000, b = 32;
    const char *dir = ".";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--n") == 0 && i + 1 < argc) {
            if (vigil_parse_long(argv[++i], 1, 10000000, &n) != VIGIL_OK) {
                usage();
                return 2;
            }
        } else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
            if (vigil_parse_long(argv[++i], 2, 100000, &b) != VIGIL_OK) {
                usage();
                return 2;
            }
        } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else {
            usage();
            return 2;
        }
    }
    size_t nn = (size_t)n, bb = (size_t)b;
    vigil_obs_event *ev = calloc(nn, sizeof *ev);
    char p_store[4200], p_raw[4200];
    printf("durable ingest, %zu events per run, WAL + synchronous=FULL, databases in %s\n", nn,
           dir);
    printf("%-34s %10s %10s %12s %8s\n", "run", "rows/s", "ms/commit", "cpu us/row", "vs raw");
    struct {
        const char *name;
        size_t batch;
        bool store, score;
    } runs[] = {
        {"raw sqlite", 1, false, false},  {"vigil store", 1, true, false},
        {"raw sqlite", bb, false, false}, {"vigil store", bb, true, false},
        {"vigil store", bb, true, true},
    };
    double raw_rate[2] = {0, 0};
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        char tag[16];
        snprintf(tag, sizeof tag, "R%zu", r);
        make_events(ev, nn, tag);
        double dt, cpu = 0;
        if (runs[r].store) {
            path_in(dir, "bench_ingest_store.db", p_store, sizeof p_store);
            dt = run_store(p_store, ev, nn, runs[r].batch, runs[r].score, &cpu);
            remove_db(p_store);
        } else {
            path_in(dir, "bench_ingest_raw.db", p_raw, sizeof p_raw);
            dt = run_raw(p_raw, ev, nn, runs[r].batch, &cpu);
            remove_db(p_raw);
        }
        double rate = (double)nn / dt;
        size_t commits = (nn + runs[r].batch - 1) / runs[r].batch;
        int slot = runs[r].batch == 1 ? 0 : 1;
        char name[64];
        snprintf(name, sizeof name, "%s, %zu per txn%s", runs[r].name, runs[r].batch,
                 runs[r].score ? " + score" : "");
        double us_row = cpu * 1e6 / (double)nn;
        if (!runs[r].store) {
            raw_rate[slot] = rate;
        }
        printf("%-34s %10.0f %10.3f %12.1f %8.2f\n", name, rate, dt * 1000.0 / (double)commits,
               us_row, rate / raw_rate[slot]);
    }
    printf("vs raw: rows/s of the run over rows/s of raw sqlite with the same batching\n");
    free(ev);
    return 0;
}
