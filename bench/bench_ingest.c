/*
 * bench_ingest.c: HL7 ingest through the live ward service over loopback:
 * throughput and ACK latency (p50, p95, p99, max) at fixed offered rates and
 * flat out, against the named peer, raw SQLite inserts of the same rows with
 * the same durability (WAL, synchronous=FULL) and the same grouping (rows
 * per transaction = the server's average group commit in that run),
 * measured in the same run. Also the server's resident memory (VmRSS,
 * VmHWM from /proc) empty, with --beds patients admitted and observed, and
 * the same with the AI model bundle loaded into the process.
 *
 * How: the server runs in a forked child (vigil_server_* in-process, ports
 * 0, a fresh database in --dir); the load is `vigil replay` (the real sender:
 * real PhysioNet 2019 stays, HL7 ORU^R01 over MLLP, --window messages in
 * flight, latency measured by the sender from the moment each message was
 * due: open loop) run as a separate process; the child reports its own
 * counters (group commits, server-side ACK latency) when stopped. The
 * patients are admitted first (`--only adt`, timed separately: ADT is not
 * the observation path), then each rate runs on the same database.
 *
 * The peer (the ceiling the target is measured against), flat out: raw
 * SQLite inserting the same rows vigil writes per set, the set, its score
 * and two audit records with their indexes, as plain inserts (no
 * constraint, no hash computed, no look-up). A second, smaller peer at every
 * rate inserts only each set's obs_set row (same values, same order, the
 * same two indexes): how much of the ceiling is the extra rows themselves.
 * Each peer first fills its tables (untimed) with as many sets as vigil's
 * store held when its run began (the earlier rates' sets), so both insert
 * into tables of the same size: the per-patient indexes spread a commit's
 * inserts over more pages as they grow (measured: vigil flat out falls from
 * 14.1k to 7.7k sets/s over three passes of the same 28,791 sets).
 *
 * What the server does per set that the peer does not: HL7 parse, NEWS2,
 * patient and admission look-ups, constraint and foreign-key checks, the
 * audit hash chain, savepoints, the escalation policy and its stored
 * alerts, the ACK. The ratio is that.
 *
 * The model: with --model the server scores every observation set with the
 * bundle through vigil_ai_scorer (what `vigil serve --model` does), so the
 * memory figure is the scorer's in use, not only the bundle's. The memory
 * runs exec the real `vigil serve` (a fork of this process would count the
 * bench's own pages, the rows it loaded for the raw peer among them).
 *
 * usage: bench_ingest [--vigil PATH] [--data PATH] [--dir DIR] [--rates 200,500,1000]
 *                     [--seconds S] [--patients N] [--window W] [--beds N] [--model PATH]
 * Never gating: prints figures only.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef VIGIL_BENCH_HAVE_PG
#include <libpq-fe.h>
#endif

#include "vigil/ai_scorer.h"
#include "vigil/data.h"
#include "vigil/replay.h"
#include "vigil/server.h"

#define MAX_RATES 8

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the server, in a child process ------------------------------------------ */

typedef struct child {
    pid_t pid;
    int ctl; /* write a byte: stop */
    int res; /* read: the port, then the stats */
    int mllp_port;
} child;

static void quiet_log(void *ctx, const char *line)
{
    (void)ctx;
    (void)line; /* escalation alerts log a line each; not wanted in a bench */
}

static bool read_full(int fd, void *p, size_t n)
{
    char *c = p;
    while (n > 0) {
        ssize_t k = read(fd, c, n);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            return false;
        }
        c += k;
        n -= (size_t)k;
    }
    return true;
}

static void child_main(const char *db, const char *model, int ctl, int res)
{
    vigil_err err = {0};
    vigil_scorer scorer = {0};
    if (model != NULL && vigil_ai_scorer_open(model, &scorer, &err) != VIGIL_OK) {
        fprintf(stderr, "bench_ingest: model %s: %s\n", model, err.msg);
        _exit(3);
    }
    vigil_server_config cfg;
    vigil_server_config_init(&cfg);
    cfg.db = db;
    cfg.scorer = model != NULL ? &scorer : NULL;
    cfg.log = quiet_log;
    vigil_server *srv = NULL;
    if (vigil_server_open(&cfg, &srv, &err) != VIGIL_OK ||
        vigil_server_start(srv, &err) != VIGIL_OK) {
        fprintf(stderr, "bench_ingest: server: %s\n", err.msg);
        _exit(3);
    }
    int port = vigil_server_mllp_port(srv);
    if (write(res, &port, sizeof port) != (ssize_t)sizeof port) {
        _exit(3);
    }
    char c;
    read_full(ctl, &c, 1); /* a byte or EOF: stop */
    vigil_server_stop(srv);
    vigil_server_stats st;
    vigil_server_stats_get(srv, &st);
    vigil_server_close(srv);
    if (scorer.close != NULL) {
        scorer.close(scorer.ctx);
    }
    _exit(write(res, &st, sizeof st) == (ssize_t)sizeof st ? 0 : 3);
}

static bool child_start(const char *db, const char *model, child *c)
{
    int a[2], b[2];
    if (pipe(a) != 0 || pipe(b) != 0) {
        return false;
    }
    fflush(NULL);
    c->pid = fork();
    if (c->pid < 0) {
        return false;
    }
    if (c->pid == 0) {
        close(a[1]);
        close(b[0]);
        child_main(db, model, a[0], b[1]);
    }
    close(a[0]);
    close(b[1]);
    c->ctl = a[1];
    c->res = b[0];
    return read_full(c->res, &c->mllp_port, sizeof c->mllp_port);
}

static bool child_stop(child *c, vigil_server_stats *st)
{
    char x = 'q';
    bool ok = write(c->ctl, &x, 1) == 1 && read_full(c->res, st, sizeof *st);
    close(c->ctl);
    close(c->res);
    int status = 0;
    waitpid(c->pid, &status, 0);
    return ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* VmRSS and VmHWM of pid, in KiB (0 when unreadable). */
static void rss_of(pid_t pid, long *rss_kb, long *hwm_kb)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    *rss_kb = *hwm_kb = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            *rss_kb = strtol(line + 6, NULL, 10);
        } else if (strncmp(line, "VmHWM:", 6) == 0) {
            *hwm_kb = strtol(line + 6, NULL, 10);
        }
    }
    fclose(f);
}

/* ---- the sender: vigil replay --------------------------------------------------- */

typedef struct cfg {
    const char *vigil, *data, *dir, *model;
    double rates[MAX_RATES];
    size_t n_rates;
    double seconds;
    unsigned patients, window, beds;
    bool rates_with_model; /* --rates-with-model: the AI scores every set in the rate runs too */
    const char *pg;        /* --pg URI: vigil's store on PostgreSQL (emptied first) */
    const char *pg_raw;    /* --pg-raw URI: the raw libpq peer's database (emptied first) */
} cfg;

typedef struct lat4 {
    double p50, p95, p99, max;
} lat4;

typedef struct replay_out {
    bool ok;
    double elapsed_s, msgs_per_s;
    long aa, acked, scheduled;
    lat4 ack, due;
} replay_out;

static lat4 lat_get(json_t *o)
{
    lat4 l = {
        json_number_value(json_object_get(o, "p50")), json_number_value(json_object_get(o, "p95")),
        json_number_value(json_object_get(o, "p99")), json_number_value(json_object_get(o, "max"))};
    return l;
}

/* Run `vigil replay` with argv (NULL-terminated, after "replay"); parse its --json. */
static replay_out run_replay(const cfg *c, const char *const *args)
{
    replay_out r;
    memset(&r, 0, sizeof r);
    char errpath[4200];
    snprintf(errpath, sizeof errpath, "%s/replay.err", c->dir);
    int p[2];
    if (pipe(p) != 0) {
        return r;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        return r;
    }
    if (pid == 0) {
        dup2(p[1], 1);
        int e = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (e >= 0) {
            dup2(e, 2);
        }
        close(p[0]);
        const char *argv[40];
        size_t n = 0;
        argv[n++] = c->vigil;
        argv[n++] = "replay";
        for (size_t i = 0; args[i] != NULL && n < 38; i++) {
            argv[n++] = args[i];
        }
        argv[n] = NULL;
        execv(c->vigil, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    close(p[1]);
    char buf[8192];
    size_t len = 0;
    ssize_t k;
    while ((k = read(p[0], buf + len, sizeof buf - 1 - len)) > 0) {
        len += (size_t)k;
    }
    buf[len] = '\0';
    close(p[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    json_t *j = json_loads(buf, 0, NULL);
    if (j == NULL || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_ingest: vigil replay failed (exit %d); its stderr is in %s\n",
                WIFEXITED(status) ? WEXITSTATUS(status) : -1, errpath);
        json_decref(j);
        return r;
    }
    r.ok = true;
    r.elapsed_s = json_number_value(json_object_get(j, "elapsed_s"));
    r.msgs_per_s = json_number_value(json_object_get(j, "msgs_per_s"));
    r.aa = (long)json_integer_value(json_object_get(j, "aa"));
    r.acked = (long)json_integer_value(json_object_get(j, "acked"));
    r.scheduled = (long)json_integer_value(json_object_get(j, "scheduled"));
    r.ack = lat_get(json_object_get(j, "ack_ms"));
    r.due = lat_get(json_object_get(j, "ack_from_schedule_ms"));
    json_decref(j);
    return r;
}

/* ---- the rows, for the raw peer --------------------------------------------------- */

typedef struct row {
    double t_h;
    unsigned patient;
    double v[VIGIL_REPLAY_VITAL_COUNT];
} row;

static int cmp_row(const void *a, const void *b)
{
    const row *x = a, *y = b;
    if (x->t_h != y->t_h) {
        return (x->t_h > y->t_h) - (x->t_h < y->t_h);
    }
    return (x->patient > y->patient) - (x->patient < y->patient);
}

/* The sets vigil replay sends for the first n usable stays, in its order. */
static row *load_rows(const char *path, unsigned n, size_t *out_n)
{
    vigil_data *d = NULL;
    vigil_err err = {0};
    *out_n = 0;
    if (vigil_data_open(path, NULL, &d, &err) != VIGIL_OK) {
        fprintf(stderr, "bench_ingest: %s: %s\n", path, err.msg);
        return NULL;
    }
    size_t cap = 4096, len = 0;
    row *rows = malloc(cap * sizeof *rows);
    unsigned got = 0;
    while (rows != NULL && got < n) {
        const vigil_stay *st = NULL;
        const vigil_meas *m = NULL;
        size_t nm = 0;
        unsigned long num = 0;
        if (vigil_data_next(d, &st, &m, &nm, &err) != VIGIL_OK || st == NULL) {
            break;
        }
        if (vigil_replay_stay_number(st->id, &num) != VIGIL_OK) {
            continue;
        }
        vigil_replay_set *sets = calloc(nm + 1, sizeof *sets);
        size_t ns = 0;
        if (sets == NULL || vigil_replay_sets(m, nm, sets, nm + 1, &ns, NULL) != VIGIL_OK) {
            free(sets);
            break;
        }
        if (ns > 0) {
            for (size_t i = 0; i < ns; i++) {
                if (len == cap) {
                    cap *= 2;
                    row *nr = realloc(rows, cap * sizeof *rows);
                    if (nr == NULL) {
                        free(rows);
                        rows = NULL;
                        break;
                    }
                    rows = nr;
                }
                rows[len].t_h = sets[i].t_h;
                rows[len].patient = got + 1;
                memcpy(rows[len].v, sets[i].v, sizeof rows[len].v);
                len++;
            }
            got++;
        }
        free(sets);
    }
    vigil_data_close(d);
    if (rows != NULL) {
        qsort(rows, len, sizeof *rows, cmp_row);
    }
    *out_n = len;
    return rows;
}

/* ---- the peer: raw SQLite ---------------------------------------------------------- */

typedef struct raw_out {
    double rows_per_s;
    lat4 commit_ms;
} raw_out;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p)
{
    size_t k = (size_t)ceil(p * (double)n);
    return n == 0 ? NAN : v[k == 0 ? 0 : k - 1];
}

static void bind_or_null(sqlite3_stmt *s, int i, double v)
{
    if (isnan(v)) {
        sqlite3_bind_null(s, i);
    } else {
        sqlite3_bind_double(s, i, v);
    }
}

/* The second peer's extra rows: what vigil writes per set beside obs_set
 * (its score and two audit records, with their indexes), as plain inserts:
 * no constraint, no hash computed, no look-up. */
static const char FULL_SCHEMA[] =
    "CREATE TABLE score (id INTEGER PRIMARY KEY, obs_set_id INTEGER NOT NULL UNIQUE,"
    " scored_ms INTEGER NOT NULL, news2_total INTEGER NOT NULL, sub_rr INTEGER, sub_spo2 INTEGER,"
    " sub_o2 INTEGER, sub_sbp INTEGER, sub_hr INTEGER, sub_acvpu INTEGER, sub_temp INTEGER,"
    " complete INTEGER NOT NULL, risk TEXT NOT NULL, monitoring TEXT NOT NULL,"
    " response TEXT NOT NULL, flags INTEGER NOT NULL, spo2_scale INTEGER NOT NULL) STRICT;"
    "CREATE TABLE audit (seq INTEGER PRIMARY KEY, t_ms INTEGER NOT NULL, actor TEXT NOT NULL,"
    " action TEXT NOT NULL, entity TEXT NOT NULL, entity_id INTEGER NOT NULL,"
    " patient_id INTEGER NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL,"
    " prev_hash BLOB NOT NULL, hash BLOB NOT NULL) STRICT;"
    "CREATE INDEX audit_patient ON audit(patient_id, seq);";

static bool full_rows(sqlite3 *db, sqlite3_stmt *sc, sqlite3_stmt *au, size_t k, unsigned patient)
{
    int64_t obs = sqlite3_last_insert_rowid(db);
    sqlite3_bind_int64(sc, 1, obs);
    bool ok = sqlite3_step(sc) == SQLITE_DONE;
    sqlite3_reset(sc);
    int64_t score = sqlite3_last_insert_rowid(db);
    uint8_t h[2][32];
    memset(h[0], (int)(k & 0xff), sizeof h[0]);
    memset(h[1], (int)((k + 1) & 0xff), sizeof h[1]);
    for (int a = 0; ok && a < 2; a++) {
        char detail[96];
        if (a == 0) {
            snprintf(detail, sizeof detail, "hl7/RAW.%06zu", k + 1);
        } else {
            snprintf(detail, sizeof detail, "obs %lld news2 5 risk medium no ai", (long long)obs);
        }
        sqlite3_bind_text(au, 1, a == 0 ? "obs.put" : "score.put", -1, SQLITE_STATIC);
        sqlite3_bind_text(au, 2, a == 0 ? "obs_set" : "score", -1, SQLITE_STATIC);
        sqlite3_bind_int64(au, 3, a == 0 ? obs : score);
        sqlite3_bind_int64(au, 4, patient);
        sqlite3_bind_text(au, 5, detail, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(au, 6, h[a], 32, SQLITE_STATIC);
        sqlite3_bind_blob(au, 7, h[1 - a], 32, SQLITE_STATIC);
        ok = sqlite3_step(au) == SQLITE_DONE;
        sqlite3_reset(au);
    }
    return ok;
}

/* One set: its obs_set row (source id PREFIX.k) and, when full, the score
 * and audit rows vigil writes with it. */
static bool insert_set(sqlite3 *db, sqlite3_stmt *ins, sqlite3_stmt *sc, sqlite3_stmt *au,
                       const row *r, const char *prefix, size_t k, bool full)
{
    char sid[32];
    snprintf(sid, sizeof sid, "%s.%06zu", prefix, k + 1);
    sqlite3_bind_int64(ins, 1, r->patient);
    sqlite3_bind_int64(ins, 2, 1735689600000LL + (int64_t)llround(r->t_h * 3600.0) * 1000);
    bind_or_null(ins, 3, r->v[VIGIL_REPLAY_RR]);
    bind_or_null(ins, 4, r->v[VIGIL_REPLAY_SPO2]);
    if (isnan(r->v[VIGIL_REPLAY_FIO2])) {
        sqlite3_bind_null(ins, 5);
    } else {
        sqlite3_bind_text(ins, 5, r->v[VIGIL_REPLAY_FIO2] > 21.0 ? "oxygen" : "air", -1,
                          SQLITE_STATIC);
    }
    bind_or_null(ins, 6, r->v[VIGIL_REPLAY_SBP]);
    bind_or_null(ins, 7, r->v[VIGIL_REPLAY_HR]);
    bind_or_null(ins, 8, r->v[VIGIL_REPLAY_TEMP]);
    sqlite3_bind_text(ins, 9, sid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins, 10, 1735689600000LL);
    bool ok = sqlite3_step(ins) == SQLITE_DONE;
    sqlite3_reset(ins);
    if (ok && full) {
        ok = full_rows(db, sc, au, k, r->patient);
    }
    return ok;
}

/*
 * full: also the score and audit rows vigil writes per set (FULL_SCHEMA).
 * prior: sets the tables hold before the timed inserts (untimed, rows
 * reused in turn), as many as vigil's store held at the start of its run:
 * inserting into tables of the same size is the same work (a B-tree that
 * holds more rows spreads a commit's inserts over more pages).
 */
static bool raw_run(const char *path, const row *rows, size_t n_rows, size_t n, size_t prior,
                    size_t group, bool full, raw_out *out)
{
    unlink(path);
    char wal[4300];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        sqlite3_close(db);
        return false;
    }
    const char *schema =
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY;"
        "CREATE TABLE obs_set (id INTEGER PRIMARY KEY, patient_id INTEGER NOT NULL,"
        " t_ms INTEGER NOT NULL, rr_bpm REAL, spo2_pct REAL, spo2_scale INTEGER NOT NULL,"
        " o2 TEXT, sbp_mmhg REAL, hr_bpm REAL, temp_c REAL, source TEXT NOT NULL,"
        " source_id TEXT, received_ms INTEGER NOT NULL) STRICT;"
        "CREATE UNIQUE INDEX obs_set_source ON obs_set(source, source_id)"
        " WHERE source_id IS NOT NULL;"
        "CREATE INDEX obs_set_patient_t ON obs_set(patient_id, t_ms);";
    sqlite3_stmt *ins = NULL;
    bool ok = sqlite3_exec(db, schema, NULL, NULL, NULL) == SQLITE_OK &&
              sqlite3_prepare_v2(db,
                                 "INSERT INTO obs_set (patient_id, t_ms, rr_bpm, spo2_pct, "
                                 "spo2_scale, o2, sbp_mmhg, hr_bpm, temp_c, source, source_id, "
                                 "received_ms) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, 'hl7', ?, ?)",
                                 -1, &ins, NULL) == SQLITE_OK;
    sqlite3_stmt *sc = NULL, *au = NULL;
    if (ok && full) {
        ok = sqlite3_exec(db, FULL_SCHEMA, NULL, NULL, NULL) == SQLITE_OK &&
             sqlite3_prepare_v2(db,
                                "INSERT INTO score (obs_set_id, scored_ms, news2_total, sub_rr,"
                                " sub_spo2, sub_o2, sub_sbp, sub_hr, sub_acvpu, sub_temp, complete,"
                                " risk, monitoring, response, flags, spo2_scale) VALUES"
                                " (?, 1735689600000, 5, 1, 1, 0, 1, 1, NULL, 1, 0, 'medium',"
                                " 'hourly', 'urgent-ward', 0, 1)",
                                -1, &sc, NULL) == SQLITE_OK &&
             sqlite3_prepare_v2(db,
                                "INSERT INTO audit (t_ms, actor, action, entity, entity_id,"
                                " patient_id, reason, detail, prev_hash, hash) VALUES"
                                " (1735689600000, 'hl7-listener', ?, ?, ?, ?, 'ingest', ?, ?, ?)",
                                -1, &au, NULL) == SQLITE_OK;
    }
    for (size_t j = 0; ok && j < prior; j++) {
        if (j % 5000 == 0) {
            ok = sqlite3_exec(db, j == 0 ? "BEGIN IMMEDIATE" : "COMMIT; BEGIN IMMEDIATE", NULL,
                              NULL, NULL) == SQLITE_OK;
        }
        ok = ok && insert_set(db, ins, sc, au, &rows[j % n_rows], "PRE", j, full);
        if (ok && j + 1 == prior) {
            ok = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
        }
    }
    size_t n_commits = (n + group - 1) / group;
    double *lat = calloc(n_commits + 1, sizeof *lat);
    ok = ok && lat != NULL;
    double t0 = now_s();
    size_t c = 0;
    for (size_t i = 0; ok && i < n; i += group) {
        double tc = now_s();
        ok = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
        for (size_t k = i; ok && k < i + group && k < n; k++) {
            ok = insert_set(db, ins, sc, au, &rows[k], "RAW", k, full);
        }
        ok = ok && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
        lat[c++] = (now_s() - tc) * 1000.0;
    }
    double dt = now_s() - t0;
    if (!ok) {
        fprintf(stderr, "bench_ingest: raw sqlite: %s\n", sqlite3_errmsg(db));
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(sc);
    sqlite3_finalize(au);
    sqlite3_close(db);
    unlink(path);
    unlink(wal);
    if (ok) {
        qsort(lat, c, sizeof *lat, cmp_double);
        out->rows_per_s = (double)n / dt;
        out->commit_ms = (lat4){pct(lat, c, 0.5), pct(lat, c, 0.95), pct(lat, c, 0.99), lat[c - 1]};
    }
    free(lat);
    return ok;
}

/* ---- the peer on PostgreSQL: raw libpq ------------------------------------------- */

#ifdef VIGIL_BENCH_HAVE_PG
static bool pg_ok(PGconn *c, PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) {
        fprintf(stderr, "bench_ingest: raw libpq: %s", PQerrorMessage(c));
    }
    PQclear(r);
    return ok;
}

/* Empty a PostgreSQL database's public schema (the bench's own databases). */
static bool pg_empty(const char *uri)
{
    PGconn *c = PQconnectdb(uri);
    bool ok = PQstatus(c) == CONNECTION_OK &&
              pg_ok(c, PQexec(c, "SET client_min_messages = warning; DROP SCHEMA public CASCADE; "
                                 "CREATE SCHEMA public"));
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "bench_ingest: %s: %s", uri, PQerrorMessage(c));
    }
    PQfinish(c);
    return ok;
}

static void pg_real(char buf[32], double v, const char **out)
{
    if (isnan(v)) {
        *out = NULL;
    } else {
        snprintf(buf, 32, "%.17g", v);
        *out = buf;
    }
}

/* One set as raw_run's insert_set does, through prepared statements: its
 * obs_set row and, when full, its score and two audit rows; ids from
 * RETURNING. */
/* The ten parameters of the "ins" and "insfull" statements for set k of row
 * r, written into p (which v points into). */
typedef struct pg_set_params {
    char sid[32], pat[24], t[24], num[6][32];
    const char *v[10];
} pg_set_params;

static void pg_set_params_of(pg_set_params *p, const row *r, const char *prefix, size_t k)
{
    snprintf(p->sid, sizeof p->sid, "%s.%06zu", prefix, k + 1);
    snprintf(p->pat, sizeof p->pat, "%u", r->patient);
    snprintf(p->t, sizeof p->t, "%lld",
             1735689600000LL + (long long)llround(r->t_h * 3600.0) * 1000);
    p->v[0] = p->pat;
    p->v[1] = p->t;
    pg_real(p->num[0], r->v[VIGIL_REPLAY_RR], &p->v[2]);
    pg_real(p->num[1], r->v[VIGIL_REPLAY_SPO2], &p->v[3]);
    p->v[4] = isnan(r->v[VIGIL_REPLAY_FIO2])
                  ? NULL
                  : (r->v[VIGIL_REPLAY_FIO2] > 21.0 ? "oxygen" : "air");
    pg_real(p->num[2], r->v[VIGIL_REPLAY_SBP], &p->v[5]);
    pg_real(p->num[3], r->v[VIGIL_REPLAY_HR], &p->v[6]);
    pg_real(p->num[4], r->v[VIGIL_REPLAY_TEMP], &p->v[7]);
    p->v[8] = p->sid;
    p->v[9] = "1735689600000";
}

static bool pg_insert_set(PGconn *c, const row *r, const char *prefix, size_t k, bool full)
{
    pg_set_params p;
    pg_set_params_of(&p, r, prefix, k);
    const char *const *v = p.v;
    const char *pat = p.pat;
    PGresult *res = PQexecPrepared(c, "ins", 10, v, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        return pg_ok(c, res);
    }
    char obs[24], score[24];
    snprintf(obs, sizeof obs, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!full) {
        return true;
    }
    const char *sv[1] = {obs};
    res = PQexecPrepared(c, "sc", 1, sv, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        return pg_ok(c, res);
    }
    snprintf(score, sizeof score, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    uint8_t h[2][32];
    memset(h[0], (int)(k & 0xff), sizeof h[0]);
    memset(h[1], (int)((k + 1) & 0xff), sizeof h[1]);
    bool ok = true;
    for (int a = 0; ok && a < 2; a++) {
        char detail[96];
        if (a == 0) {
            snprintf(detail, sizeof detail, "hl7/RAW.%06zu", k + 1);
        } else {
            snprintf(detail, sizeof detail, "obs %s news2 5 risk medium no ai", obs);
        }
        const char *av[7] = {a == 0 ? "obs.put" : "score.put", a == 0 ? "obs_set" : "score",
                             a == 0 ? obs : score, pat, detail, (const char *)h[a],
                             (const char *)h[1 - a]};
        int len[7] = {0, 0, 0, 0, 0, 32, 32};
        int fmt[7] = {0, 0, 0, 0, 0, 1, 1};
        ok = pg_ok(c, PQexecPrepared(c, "au", 7, av, len, fmt, 0));
    }
    return ok;
}

/* The answers of n pipelined statements and their sync: ids[i] the first
 * column of the i-th answer's row (and ids2[i] the second) when asked. */
static bool pg_pipe_read(PGconn *c, size_t n, char (*ids)[24], char (*ids2)[24])
{
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        PGresult *r = PQgetResult(c);
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            if (ok) {
                fprintf(stderr, "bench_ingest: raw libpq pipeline: %s", PQerrorMessage(c));
            }
            ok = false;
        } else if (ids != NULL && PQntuples(r) > 0) {
            snprintf(ids[i], sizeof ids[i], "%s", PQgetvalue(r, 0, 0));
            snprintf(ids2[i], sizeof ids2[i], "%s", PQgetvalue(r, 0, 1));
        }
        PQclear(r);
        if (r == NULL) {
            return false;
        }
        PQclear(PQgetResult(c)); /* the NULL that ends each answer */
    }
    PGresult *r = PQgetResult(c);
    ok = ok && PQresultStatus(r) == PGRES_PIPELINE_SYNC;
    PQclear(r);
    return ok;
}

/* Sets [i, i + m) in one transaction, pipelined as vigil's PostgreSQL
 * store does it (libpq pipeline mode): BEGIN and every set's obs_set and
 * score rows (one statement each: "insfull") in one round trip, then the
 * two audit rows of each and the COMMIT in a second. */
static bool pg_pipe_group(PGconn *c, const row *rows, const char *prefix, size_t i, size_t m)
{
    char (*obs)[24] = calloc(m + 1, sizeof *obs);
    char (*score)[24] = calloc(m + 1, sizeof *score);
    bool ok = obs != NULL && score != NULL && PQenterPipelineMode(c) == 1;
    ok = ok && PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) == 1;
    for (size_t k = 0; ok && k < m; k++) {
        pg_set_params p;
        pg_set_params_of(&p, &rows[k], prefix, i + k);
        const char *const *v = p.v;
        ok = PQsendQueryPrepared(c, "insfull", 10, v, NULL, NULL, 0) == 1;
    }
    ok = ok && PQpipelineSync(c) == 1;
    ok = ok && pg_pipe_read(c, m + 1, obs, score); /* BEGIN, then the sets: obs[k + 1] */
    for (size_t k = 0; ok && k < m; k++) {
        uint8_t h[2][32];
        memset(h[0], (int)((i + k) & 0xff), sizeof h[0]);
        memset(h[1], (int)((i + k + 1) & 0xff), sizeof h[1]);
        char pat[24];
        snprintf(pat, sizeof pat, "%u", rows[k].patient);
        for (int a = 0; ok && a < 2; a++) {
            char detail[96];
            if (a == 0) {
                snprintf(detail, sizeof detail, "hl7/RAW.%06zu", i + k + 1);
            } else {
                snprintf(detail, sizeof detail, "obs %s news2 5 risk medium no ai", obs[k + 1]);
            }
            const char *av[7] = {a == 0 ? "obs.put" : "score.put", a == 0 ? "obs_set" : "score",
                                 a == 0 ? obs[k + 1] : score[k + 1], pat, detail,
                                 (const char *)h[a], (const char *)h[1 - a]};
            int len[7] = {0, 0, 0, 0, 0, 32, 32};
            int fmt[7] = {0, 0, 0, 0, 0, 1, 1};
            ok = PQsendQueryPrepared(c, "au", 7, av, len, fmt, 0) == 1;
        }
    }
    ok = ok && PQsendQueryParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) == 1;
    ok = ok && PQpipelineSync(c) == 1;
    ok = ok && pg_pipe_read(c, 2 * m + 1, NULL, NULL);
    ok = ok && PQexitPipelineMode(c) == 1;
    free(obs);
    free(score);
    return ok;
}

/* raw_run on PostgreSQL: the same tables in PostgreSQL's types, the same
 * rows, grouping and prior fill; durability as vigil's connections have it
 * (synchronous_commit = on: COMMIT returns after the WAL flush). */
static bool raw_run_pg(const char *uri, const row *rows, size_t n_rows, size_t n, size_t prior,
                       size_t group, bool full, bool pipelined, raw_out *out)
{
    if (!pg_empty(uri)) {
        return false;
    }
    PGconn *c = PQconnectdb(uri);
    bool ok = PQstatus(c) == CONNECTION_OK;
    ok = ok &&
         pg_ok(c, PQexec(c,
                         "SET synchronous_commit = on;"
                         "CREATE TABLE obs_set (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY"
                         " KEY, patient_id BIGINT NOT NULL, t_ms BIGINT NOT NULL, rr_bpm DOUBLE"
                         " PRECISION, spo2_pct DOUBLE PRECISION, spo2_scale BIGINT NOT NULL, o2"
                         " TEXT, sbp_mmhg DOUBLE PRECISION, hr_bpm DOUBLE PRECISION, temp_c DOUBLE"
                         " PRECISION, source TEXT NOT NULL, source_id TEXT, received_ms BIGINT NOT"
                         " NULL);"
                         "CREATE UNIQUE INDEX obs_set_source ON obs_set(source, source_id)"
                         " WHERE source_id IS NOT NULL;"
                         "CREATE INDEX obs_set_patient_t ON obs_set(patient_id, t_ms);"
                         "CREATE TABLE score (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY"
                         " KEY, obs_set_id BIGINT NOT NULL UNIQUE, scored_ms BIGINT NOT NULL,"
                         " news2_total BIGINT NOT NULL, sub_rr BIGINT, sub_spo2 BIGINT, sub_o2"
                         " BIGINT, sub_sbp BIGINT, sub_hr BIGINT, sub_acvpu BIGINT, sub_temp"
                         " BIGINT, complete BIGINT NOT NULL, risk TEXT NOT NULL, monitoring TEXT"
                         " NOT NULL, response TEXT NOT NULL, flags BIGINT NOT NULL, spo2_scale"
                         " BIGINT NOT NULL);"
                         "CREATE TABLE audit (seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY"
                         " KEY, t_ms BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,"
                         " entity TEXT NOT NULL, entity_id BIGINT NOT NULL, patient_id BIGINT NOT"
                         " NULL, reason TEXT NOT NULL, detail TEXT NOT NULL, prev_hash BYTEA NOT"
                         " NULL, hash BYTEA NOT NULL);"
                         "CREATE INDEX audit_patient ON audit(patient_id, seq);"));
    ok = ok && pg_ok(c, PQprepare(c, "ins",
                                  "INSERT INTO obs_set (patient_id, t_ms, rr_bpm, spo2_pct, "
                                  "spo2_scale, o2, sbp_mmhg, hr_bpm, temp_c, source, source_id, "
                                  "received_ms) VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8, 'hl7', "
                                  "$9, $10) RETURNING id",
                                  10, NULL));
    ok = ok && pg_ok(c, PQprepare(c, "sc",
                                  "INSERT INTO score (obs_set_id, scored_ms, news2_total, sub_rr,"
                                  " sub_spo2, sub_o2, sub_sbp, sub_hr, sub_acvpu, sub_temp, "
                                  "complete, risk, monitoring, response, flags, spo2_scale) VALUES"
                                  " ($1, 1735689600000, 5, 1, 1, 0, 1, 1, NULL, 1, 0, 'medium',"
                                  " 'hourly', 'urgent-ward', 0, 1) RETURNING id",
                                  1, NULL));
    ok = ok && pg_ok(c, PQprepare(c, "au",
                                  "INSERT INTO audit (t_ms, actor, action, entity, entity_id,"
                                  " patient_id, reason, detail, prev_hash, hash) VALUES"
                                  " (1735689600000, 'hl7-listener', $1, $2, $3, $4, 'ingest', $5,"
                                  " $6, $7)",
                                  7, NULL));
    ok = ok && pg_ok(c, PQprepare(c, "insfull",
                                  "WITH o AS (INSERT INTO obs_set (patient_id, t_ms, rr_bpm, "
                                  "spo2_pct, spo2_scale, o2, sbp_mmhg, hr_bpm, temp_c, source, "
                                  "source_id, received_ms) VALUES ($1, $2, $3, $4, 1, $5, $6, $7, "
                                  "$8, 'hl7', $9, $10) RETURNING id), s AS (INSERT INTO score "
                                  "(obs_set_id, scored_ms, news2_total, sub_rr, sub_spo2, sub_o2, "
                                  "sub_sbp, sub_hr, sub_acvpu, sub_temp, complete, risk, "
                                  "monitoring, response, flags, spo2_scale) SELECT o.id, "
                                  "1735689600000, 5, 1, 1, 0, 1, 1, NULL, 1, 0, 'medium', "
                                  "'hourly', 'urgent-ward', 0, 1 FROM o RETURNING id) "
                                  "SELECT o.id, (SELECT id FROM s) FROM o",
                                  10, NULL));
    for (size_t j = 0; ok && j < prior; j++) {
        if (j % 5000 == 0) {
            ok = pg_ok(c, PQexec(c, j == 0 ? "BEGIN" : "COMMIT; BEGIN"));
        }
        ok = ok && pg_insert_set(c, &rows[j % n_rows], "PRE", j, full);
        if (ok && j + 1 == prior) {
            ok = pg_ok(c, PQexec(c, "COMMIT"));
        }
    }
    size_t n_commits = (n + group - 1) / group;
    double *lat = calloc(n_commits + 1, sizeof *lat);
    ok = ok && lat != NULL;
    double t0 = now_s();
    size_t k = 0, nc = 0;
    for (size_t i = 0; ok && i < n; i += group) {
        double tc = now_s();
        if (full && pipelined) {
            ok = pg_pipe_group(c, rows + i, "RAW", i, i + group < n ? group : n - i);
        } else {
            ok = pg_ok(c, PQexec(c, "BEGIN"));
            for (k = i; ok && k < i + group && k < n; k++) {
                ok = pg_insert_set(c, &rows[k], "RAW", k, full);
            }
            ok = ok && pg_ok(c, PQexec(c, "COMMIT"));
        }
        lat[nc++] = (now_s() - tc) * 1000.0;
    }
    double dt = now_s() - t0;
    PQfinish(c);
    if (ok) {
        qsort(lat, nc, sizeof *lat, cmp_double);
        out->rows_per_s = (double)n / dt;
        out->commit_ms =
            (lat4){pct(lat, nc, 0.5), pct(lat, nc, 0.95), pct(lat, nc, 0.99), lat[nc - 1]};
    }
    free(lat);
    return ok;
}
#endif

/* The raw peer on the engine vigil's store is on this run. */
static bool raw_peer(const cfg *c, const char *path, const row *rows, size_t n_rows, size_t n,
                     size_t prior, size_t group, bool full, raw_out *out)
{
#ifdef VIGIL_BENCH_HAVE_PG
    if (c->pg != NULL) {
        /* the ceiling pipelined, as vigil's PostgreSQL store writes */
        return raw_run_pg(c->pg_raw, rows, n_rows, n, prior, group, full, true, out);
    }
#endif
    return raw_run(path, rows, n_rows, n, prior, group, full, out);
}

/* ---- the runs -------------------------------------------------------------------- */

typedef struct run_out {
    double offered; /* 0 = flat out */
    replay_out rp;
    vigil_server_stats st;
    double sets_per_s, group;
    raw_out raw;
    raw_out raw_full;       /* flat out only: with the score and audit rows */
    raw_out raw_full_empty; /* the same into empty tables (how this bench ran before) */
    raw_out raw_full_rt;    /* PostgreSQL: the ceiling one round trip per statement, unpipelined */
    size_t prior;           /* sets vigil's store held when the run began */
    long rss_kb, hwm_kb;
} run_out;

/* v as the shortest decimal ("%g") for a command-line argument. */
static void fmt_num(char *out, size_t cap, double v)
{
    snprintf(out, cap, "%g", v);
}

static bool one_rate(const cfg *c, const char *db, double rate, unsigned idx, run_out *o)
{
    child ch;
    if (!child_start(db, c->rates_with_model ? c->model : NULL, &ch)) {
        fprintf(stderr, "bench_ingest: server did not start\n");
        return false;
    }
    char mllp[64], pats[32], win[32], secs[32], rs[32], prefix[32];
    snprintf(mllp, sizeof mllp, "127.0.0.1:%d", ch.mllp_port);
    snprintf(pats, sizeof pats, "%u", c->patients);
    snprintf(win, sizeof win, "%u", c->window);
    fmt_num(secs, sizeof secs, c->seconds);
    if (rate > 0.0) {
        fmt_num(rs, sizeof rs, rate);
    } else {
        snprintf(rs, sizeof rs, "max");
    }
    snprintf(prefix, sizeof prefix, "B%u.", idx);
    const char *args[] = {"--mllp", mllp,  "--data",      c->data, "--patients", pats,
                          "--rate", rs,    "--window",    win,     "--duration", secs,
                          "--only", "oru", "--id-prefix", prefix,  "--json",     NULL};
    o->offered = rate;
    o->rp = run_replay(c, args);
    rss_of(ch.pid, &o->rss_kb, &o->hwm_kb);
    bool ok = child_stop(&ch, &o->st) && o->rp.ok;
    o->sets_per_s = o->rp.elapsed_s > 0 ? (double)o->st.committed_sets / o->rp.elapsed_s : 0;
    o->group = o->st.commits > 0 ? (double)o->st.committed_sets / (double)o->st.commits : 0;
    return ok;
}

/* The real `vigil serve` (exec'd, not forked from this process, so its
 * resident memory is the service's own), logging to a file in --dir; the
 * MLLP port is read from its start line. */
static bool serve_start(const cfg *c, const char *db, const char *model, child *ch)
{
    char logpath[4300];
    snprintf(logpath, sizeof logpath, "%s/serve.log", c->dir);
    unlink(logpath);
    fflush(NULL);
    ch->pid = fork();
    if (ch->pid < 0) {
        return false;
    }
    if (ch->pid == 0) {
        int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 2);
        }
        const char *argv[] = {c->vigil,
                              "serve",
                              "--db",
                              db,
                              "--http-port",
                              "0",
                              "--mllp-port",
                              "0",
                              model != NULL ? "--model" : NULL,
                              model,
                              NULL};
        execv(c->vigil, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    ch->ctl = ch->res = -1;
    ch->mllp_port = 0;
    for (int tries = 0; tries < 600 && ch->mllp_port == 0; tries++) {
        struct timespec ts = {0, 50000000L};
        nanosleep(&ts, NULL);
        FILE *f = fopen(logpath, "r");
        char line[512];
        while (f != NULL && fgets(line, sizeof line, f) != NULL) {
            const char *m = strstr(line, " mllp 127.0.0.1:");
            if (m != NULL && strstr(line, "vigil serve: http ") == line) {
                ch->mllp_port = (int)strtol(m + 16, NULL, 10);
            }
        }
        if (f != NULL) {
            fclose(f);
        }
    }
    if (ch->mllp_port == 0) {
        kill(ch->pid, SIGKILL);
        waitpid(ch->pid, NULL, 0);
        fprintf(stderr, "bench_ingest: vigil serve did not start (see %s)\n", logpath);
        return false;
    }
    return true;
}

static bool serve_stop(child *ch)
{
    int status = 0;
    kill(ch->pid, SIGTERM);
    waitpid(ch->pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Admit `patients` beds on db with the real `vigil serve`, then replay the
 * first `hours` of each stay; print how long it took and its memory. */
static bool admit(const cfg *c, const char *db, unsigned patients, const char *model, long *rss,
                  long *hwm, double hours)
{
    child ch;
    if (!serve_start(c, db, model, &ch)) {
        return false;
    }
    long r0 = 0, h0 = 0;
    rss_of(ch.pid, &r0, &h0);
    char mllp[64], pats[32], hrs[32];
    snprintf(mllp, sizeof mllp, "127.0.0.1:%d", ch.mllp_port);
    snprintf(pats, sizeof pats, "%u", patients);
    const char *a1[] = {"--mllp",   mllp, "--data", c->data, "--patients",  pats,   "--rate", "max",
                        "--window", "64", "--only", "adt",   "--id-prefix", "ADM.", "--json", NULL};
    replay_out ra = run_replay(c, a1);
    long r1 = 0, h1 = 0;
    rss_of(ch.pid, &r1, &h1);
    replay_out rb = {0};
    long r2 = r1, h2 = h1;
    if (hours > 0.0) {
        fmt_num(hrs, sizeof hrs, hours);
        const char *a2[] = {"--mllp",  mllp,  "--data",      c->data, "--patients", pats,
                            "--rate",  "max", "--window",    "256",   "--only",     "oru",
                            "--hours", hrs,   "--id-prefix", "OBS.",  "--json",     NULL};
        rb = run_replay(c, a2);
        rss_of(ch.pid, &r2, &h2);
    }
    bool ok = serve_stop(&ch) && ra.ok && (hours <= 0.0 || rb.ok);
    if (ra.ok) {
        printf("  admit %u beds: %.1f s, %.0f ADT^A01/s, ACK p50 %.2f ms p99 %.2f ms\n", patients,
               ra.elapsed_s, ra.msgs_per_s, ra.ack.p50, ra.ack.p99);
    }
    if (rb.ok) {
        printf("  then %ld ORU^R01 (first %g ICU hours of each stay): %.1f s\n", rb.aa, hours,
               rb.elapsed_s);
    }
    printf("  server RSS: empty %.1f MiB; %u beds admitted %.1f MiB", (double)r0 / 1024.0, patients,
           (double)r1 / 1024.0);
    if (hours > 0.0) {
        printf("; and observed %.1f MiB (peak %.1f MiB)", (double)r2 / 1024.0, (double)h2 / 1024.0);
    }
    printf("\n");
    *rss = r2;
    *hwm = h2;
    return ok;
}

static bool parse_rates(const char *s, cfg *c)
{
    c->n_rates = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        char *end = NULL;
        double v = strtod(t, &end);
        if (end == t || *end != '\0' || !(v > 0.0) || c->n_rates >= MAX_RATES - 1) {
            return false;
        }
        c->rates[c->n_rates++] = v;
    }
    return true;
}

static bool uint_arg(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < (long)lo || v > (long)hi) {
        return false;
    }
    *out = (unsigned)v;
    return true;
}

int main(int argc, char **argv)
{
    static char vigil_default[PATH_MAX + 16], data_default[4200];
    const char *tmpdir = getenv("TMPDIR");
    cfg c = {NULL,
             NULL,
             tmpdir != NULL && tmpdir[0] != '\0' ? tmpdir : ".",
             NULL,
             {200, 500, 1000},
             3,
             10.0,
             800,
             512,
             1000};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = v != NULL;
        if (ok && strcmp(a, "--vigil") == 0) {
            c.vigil = v;
        } else if (ok && strcmp(a, "--data") == 0) {
            c.data = v;
        } else if (ok && strcmp(a, "--dir") == 0) {
            c.dir = v;
        } else if (ok && strcmp(a, "--model") == 0) {
            c.model = v;
        } else if (strcmp(a, "--rates-with-model") == 0) {
            c.rates_with_model = true;
            ok = true;
            i--; /* a flag: no value */
        } else if (ok && strcmp(a, "--rates") == 0) {
            ok = parse_rates(v, &c);
        } else if (ok && strcmp(a, "--seconds") == 0) {
            char *end = NULL;
            c.seconds = strtod(v, &end);
            ok = end != v && *end == '\0' && c.seconds > 0.0 && c.seconds < 3600.0;
        } else if (ok && strcmp(a, "--patients") == 0) {
            ok = uint_arg(v, 1, 100000, &c.patients);
        } else if (ok && strcmp(a, "--window") == 0) {
            ok = uint_arg(v, 1, 512, &c.window);
        } else if (ok && strcmp(a, "--pg") == 0) {
            c.pg = v;
        } else if (ok && strcmp(a, "--pg-raw") == 0) {
            c.pg_raw = v;
        } else if (ok && strcmp(a, "--beds") == 0) {
            ok = uint_arg(v, 0, 100000, &c.beds);
        } else {
            ok = false;
        }
        if (!ok) {
            fprintf(stderr, "usage: bench_ingest [--vigil PATH] [--data PATH] [--dir DIR] "
                            "[--rates 200,500,1000] [--seconds S] [--patients N] [--window W] "
                            "[--beds N] [--model PATH] [--rates-with-model] [--pg URI --pg-raw URI]\n");
            return 2;
        }
        i++;
    }
    if (c.vigil == NULL) { /* beside this binary: <build>/vigil */
        ssize_t n = readlink("/proc/self/exe", vigil_default, PATH_MAX);
        if (n > 0) {
            vigil_default[n] = '\0';
            char *slash = strrchr(vigil_default, '/');
            if (slash != NULL) {
                snprintf(slash + 1, 16, "vigil");
            }
        }
        c.vigil = vigil_default;
    }
    if (c.data == NULL) {
        const char *d = getenv("VIGIL_DATA_DIR");
        snprintf(data_default, sizeof data_default, "%s/physionet2019/training_setA.tar.gz",
                 d != NULL && d[0] != '\0' ? d : "../shared/data");
        c.data = data_default;
    }
    if (access(c.vigil, X_OK) != 0 || access(c.data, R_OK) != 0) {
        fprintf(stderr, "bench_ingest: need the vigil binary (%s) and the data (%s)\n", c.vigil,
                c.data);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    char db[4200], rawdb[4200];
    snprintf(db, sizeof db, "%s/bench_ingest.db", c.dir);
    if ((c.pg == NULL) != (c.pg_raw == NULL)) {
        fprintf(stderr, "bench_ingest: --pg and --pg-raw go together\n");
        return 2;
    }
    if (c.pg != NULL) {
#ifdef VIGIL_BENCH_HAVE_PG
        /* vigil's store on PostgreSQL, emptied first (the bench's own database) */
        if (!pg_empty(c.pg) || snprintf(db, sizeof db, "%s", c.pg) >= (int)sizeof db) {
            return 1;
        }
        c.beds = 0; /* the memory runs need a fresh store each: SQLite only */
#else
        fprintf(stderr, "bench_ingest: built without PostgreSQL (VIGIL_STORE_PG)\n");
        return 2;
#endif
    }
    snprintf(rawdb, sizeof rawdb, "%s/bench_ingest_raw.db", c.dir);
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int k = 0; k < 3; k++) {
        char p[4300];
        snprintf(p, sizeof p, "%s%s", db, sfx[k]);
        unlink(p);
    }

    printf("HL7 ingest over loopback: vigil serve (in a child process) fed by vigil replay\n"
           "(%u PhysioNet 2019 stays, ORU^R01, window %u, %g s per rate), store and raw peer in "
           "%s (WAL, synchronous=FULL)\n",
           c.patients, c.window, c.seconds, c.pg != NULL ? "PostgreSQL" : c.dir);
    if (c.pg != NULL) {
        printf("(on PostgreSQL: vigil's store %s, the raw libpq peer in %s, both "
               "synchronous_commit = on; the tables below say sqlite for the peer)\n",
               c.pg, c.pg_raw);
    }
    long rss = 0, hwm = 0;
    if (!admit(&c, db, c.patients, NULL, &rss, &hwm, 0.0)) {
        return 1;
    }
    /* the peer's rows, loaded before the runs so each raw run follows its vigil run
     * at once: the disk's fsync time on a shared machine drifts over minutes */
    size_t n_rows = 0;
    row *rows = load_rows(c.data, c.patients, &n_rows);
    if (rows == NULL || n_rows == 0) {
        return 1;
    }
    run_out runs[MAX_RATES];
    size_t n_runs = 0;
    size_t prior = 0;         /* sets vigil's store holds before the run (earlier rates) */
    c.rates[c.n_rates] = 0.0; /* flat out last */
    for (size_t i = 0; i <= c.n_rates; i++) {
        run_out *o = &runs[n_runs];
        memset(o, 0, sizeof *o);
        if (!one_rate(&c, db, c.rates[i], (unsigned)i, o)) {
            return 1;
        }
        size_t g = (size_t)llround(fmax(1.0, o->group));
        size_t n = o->st.committed_sets < n_rows ? (size_t)o->st.committed_sets : n_rows;
        if (n < 200) {
            n = n_rows < 200 ? n_rows : 200;
        }
        if (!raw_peer(&c, rawdb, rows, n_rows, n, prior, g, false, &o->raw) ||
            (o->offered == 0.0 &&
             (!raw_peer(&c, rawdb, rows, n_rows, n, prior, g, true, &o->raw_full) ||
              !raw_peer(&c, rawdb, rows, n_rows, n, 0, g, true, &o->raw_full_empty)))) {
            return 1;
        }
#ifdef VIGIL_BENCH_HAVE_PG
        if (c.pg != NULL && o->offered == 0.0 &&
            !raw_run_pg(c.pg_raw, rows, n_rows, n, prior, g, true, false, &o->raw_full_rt)) {
            return 1;
        }
#endif
        o->prior = prior;
        prior += (size_t)o->st.committed_sets;
        n_runs++;
    }
    raw_out raw1;
    if (!raw_peer(&c, rawdb, rows, n_rows, n_rows < 2000 ? n_rows : 2000, 0, 1, false, &raw1)) {
        return 1;
    }
    printf("\n%-8s %8s %8s %6s | %-33s | %-13s | %-24s | %6s\n", "offered", "msgs/s", "sets/s",
           "group", "ACK ms p50 p95 p99 max (client)", "server p50 p99",
           "raw: rows/s ms/commit p99", "ratio");
    for (size_t i = 0; i < n_runs; i++) {
        const run_out *o = &runs[i];
        char off[16], ratio[16];
        /* fixed rates: latency from when each message was due (open loop); flat out every
         * message is due at once, so from when it was sent */
        lat4 l = o->offered > 0 ? o->rp.due : o->rp.ack;
        if (o->offered > 0) {
            snprintf(off, sizeof off, "%g/s", o->offered);
            snprintf(ratio, sizeof ratio, "-");
        } else {
            snprintf(off, sizeof off, "max");
            snprintf(ratio, sizeof ratio, "%.3f", o->sets_per_s / o->raw.rows_per_s);
        }
        printf("%-8s %8.0f %8.0f %6.1f | %7.2f %7.2f %7.2f %8.2f | %6.2f %6.2f | %8.0f %7.2f %7.2f "
               "| %6s\n",
               off, o->rp.msgs_per_s, o->sets_per_s, o->group, l.p50, l.p95, l.p99, l.max,
               (double)o->st.ack_p50_us / 1000.0, (double)o->st.ack_p99_us / 1000.0,
               o->raw.rows_per_s, o->raw.commit_ms.p50, o->raw.commit_ms.p99, ratio);
    }
    printf("raw sqlite, 1 row per commit: %.0f rows/s, commit ms p50 %.2f p99 %.2f max %.2f\n",
           raw1.rows_per_s, raw1.commit_ms.p50, raw1.commit_ms.p99, raw1.commit_ms.max);
    printf("ratio column (flat out): vigil sets/s over raw SQLite inserting only each set's "
           "obs_set row, rows per commit as vigil's; server ACK: last byte read to ACK written "
           "(upper bounds, 0.25 ms buckets)\n");
    for (size_t i = 0; i < n_runs; i++) {
        const run_out *o = &runs[i];
        if (o->offered > 0) {
            printf("ingest_rate_%g_ack_p99_ms=%.2f\n", o->offered, o->rp.due.p99);
        } else {
            printf("the ceiling (the same rows): raw SQLite inserting every row vigil writes per "
                   "set (obs_set, score, 2 audit rows, their indexes), same grouping and "
                   "durability: %.0f sets/s, commit ms p50 %.2f p99 %.2f\n"
                   "  (its tables first filled with the %zu sets vigil's store held when the run "
                   "began; into empty tables instead: %.0f sets/s, vigil over it %.3f)\n"
                   "durable ingest over the ceiling: %.0f / %.0f = %.3f (target >= 0.5)\n",
                   o->raw_full.rows_per_s, o->raw_full.commit_ms.p50, o->raw_full.commit_ms.p99,
                   o->prior, o->raw_full_empty.rows_per_s,
                   o->sets_per_s / o->raw_full_empty.rows_per_s, o->sets_per_s,
                   o->raw_full.rows_per_s, o->sets_per_s / o->raw_full.rows_per_s);
            if (o->raw_full_rt.rows_per_s > 0) {
                printf("the ceiling above is pipelined (libpq pipeline mode: BEGIN and every "
                       "set's rows in one round trip, the audit rows and COMMIT in a second), as "
                       "vigil's store writes; one round trip per statement instead: %.0f sets/s, "
                       "vigil over it %.3f\n",
                       o->raw_full_rt.rows_per_s, o->sets_per_s / o->raw_full_rt.rows_per_s);
            }
            printf("ingest_max_sets_per_s=%.0f raw_sets_per_s=%.0f ingest_max_ratio=%.3f "
                   "raw_full_sets_per_s=%.0f ingest_max_ratio_full=%.3f "
                   "raw_full_empty_sets_per_s=%.0f ingest_max_ratio_full_empty=%.3f\n",
                   o->sets_per_s, o->raw.rows_per_s, o->sets_per_s / o->raw.rows_per_s,
                   o->raw_full.rows_per_s, o->sets_per_s / o->raw_full.rows_per_s,
                   o->raw_full_empty.rows_per_s, o->sets_per_s / o->raw_full_empty.rows_per_s);
        }
    }
    free(rows);

    if (c.beds > 0) {
        printf("\nserver memory with %u beds (fresh database each)\n", c.beds);
        for (int k = 0; k < 3; k++) {
            char p[4300];
            snprintf(p, sizeof p, "%s%s", db, sfx[k]);
            unlink(p);
        }
        printf(" NEWS2 only:\n");
        if (!admit(&c, db, c.beds, NULL, &rss, &hwm, 12.0)) {
            return 1;
        }
        printf("server_rss_kb_%u_beds=%ld server_hwm_kb=%ld\n", c.beds, rss, hwm);
        if (c.model != NULL) {
            for (int k = 0; k < 3; k++) {
                char p[4300];
                snprintf(p, sizeof p, "%s%s", db, sfx[k]);
                unlink(p);
            }
            printf(" with the model bundle %s scoring every set (vigil_ai_scorer, as "
                   "vigil serve --model):\n",
                   c.model);
            if (!admit(&c, db, c.beds, c.model, &rss, &hwm, 12.0)) {
                return 1;
            }
            printf("server_rss_kb_%u_beds_model=%ld server_hwm_kb_model=%ld\n", c.beds, rss, hwm);
        }
    }
    for (int k = 0; k < 3; k++) {
        char p[4300];
        snprintf(p, sizeof p, "%s%s", db, sfx[k]);
        unlink(p);
    }
    return 0;
}
