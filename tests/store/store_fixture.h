/*
 * store_fixture.h: shared helpers for the store tests: a fresh database in
 * a temporary directory per test, actors, valid NHS numbers, observation
 * events, and raw SQL for checks and tampering.
 */
#ifndef VIGIL_STORE_FIXTURE_H
#define VIGIL_STORE_FIXTURE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/audit.h"
#include "vigil/news2.h"
#include "vigil/store.h"
#include "vigil/store_test.h"
#include "vigil/ward.h"
#include "vigil_test.h"

typedef struct fx {
    char dir[256];
    char path[320]; /* the SQLite file under dir the raw reads (fx_raw) open */
    char uri[400];  /* what the store is opened as (fx_paths) */
    vigil_store *st;
} fx;

static const vigil_actor FX_NURSE = {"nurse.jo", "direct care"};
static const vigil_actor FX_DOCTOR = {"dr.patel", "direct care"};
static const vigil_actor FX_FEED = {"hl7-listener", "ingest"};

#define T0 INT64_C(1735725600000) /* 2025-01-01T10:00:00Z */
#define MIN_MS INT64_C(60000)
#define HOUR_MS INT64_C(3600000)

static inline void fx_paths(fx *f)
{
    if (vigil_test_mkdtemp(f->dir, sizeof f->dir, "vigil-store") == NULL) {
        fail_msg("mkdtemp failed");
    }
    snprintf(f->path, sizeof f->path, "%s/ward.db", f->dir);
    /* $VIGIL_TEST_STORE_URI, each "{dir}" replaced by this test's fresh folder
     * ("faulty:{dir}/ward.db": the same suite through the faulty: wrapper), or
     * the plain path (docs/store.md, "Conformance and faults") */
    if (!vigil_test_store_uri(f->uri, sizeof f->uri, f->dir)) {
        fail_msg("VIGIL_TEST_STORE_URI too long");
    }
}

/* A second, independent store beside the case's own (to compare two
 * stores): a fresh folder as fx_paths gives, or on a backend whose URI names
 * one database per case ($VIGIL_TEST_STORE_URI), the second database the
 * runner made for it ($VIGIL_TEST_STORE_URI_TWIN, tests/store/pg_cluster.sh). */
static inline void fx_paths_twin(fx *f)
{
    fx_paths(f);
    const char *twin = getenv("VIGIL_TEST_STORE_URI_TWIN");
    if (twin != NULL && twin[0] != '\0') {
        snprintf(f->uri, sizeof f->uri, "%s", twin);
    }
}

static inline void fx_remove_files(const fx *f)
{
    char p[400];
    const char *suffix[] = {"", "-wal", "-shm", "-journal", ".lease"};
    for (size_t i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
}

static inline int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    fx_paths(f);
    vigil_err e = {0};
    if (vigil_store_open(f->uri, 0, &f->st, &e) != VIGIL_OK) {
        fprintf(stderr, "open: %s\n", e.msg);
        fx_remove_files(f);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static inline int fx_teardown(void **state)
{
    fx *f = *state;
    vigil_store_close(f->st);
    fx_remove_files(f);
    free(f);
    return 0;
}

/* Reopen the store (close then open), as after a restart. */
static inline void fx_reopen(fx *f)
{
    vigil_store_close(f->st);
    f->st = NULL;
    vigil_err e = {0};
    assert_int_equal(vigil_store_open(f->uri, 0, &f->st, &e), VIGIL_OK);
}

/* The store is a PostgreSQL database (store_pg.*: tests/store/pg_cluster.sh). */
static inline bool fx_is_pg(const fx *f)
{
    return strncmp(f->uri, "postgresql:", 11) == 0 || strncmp(f->uri, "postgres:", 9) == 0;
}

/* The store is an SQLite file at f->path (opened as a path, or through
 * faulty: on one): what the raw-SQLite checks below need. */
static inline bool fx_is_sqlite(const fx *f)
{
    return vigil_test_store_is_sqlite(f->uri);
}

/* Skip the calling test unless the store is an SQLite file: for the checks
 * of a SQLite property (its schema, pragmas, triggers, raw tampering). */
static inline void fx_need_sqlite(const fx *f, const char *why)
{
    if (!fx_is_sqlite(f)) {
        fprintf(stderr, "skipped: %s is SQLite's own (%s); the store here is %s\n", why,
                "raw access to its file", f->uri);
        skip();
    }
}

/* A raw connection to the same SQLite file, for checks of SQLite's own
 * properties and tampering (fx_need_sqlite first). */
static inline sqlite3 *fx_raw(const fx *f)
{
    if (!fx_is_sqlite(f)) {
        fprintf(stderr, "skipped: reads or tampers with SQLite's file (fx_raw); the store here "
                        "is %s\n", f->uri);
        skip();
    }
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static inline int64_t fx_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fail_msg("prepare %s: %s", sql, sqlite3_errmsg(db));
    }
    int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

/* SQL result code of running sql (SQLITE_OK on success). */
static inline int fx_exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Rows of a table matching a condition, through the store whatever its
 * backend (vigil_store_count_rows): sql is "SELECT count(*) FROM table" with
 * an optional " WHERE condition" (SQL both SQLite and PostgreSQL read). */
static inline int64_t fx_count_in(vigil_store *st, const char *sql)
{
    static const char head[] = "SELECT count(*) FROM ";
    if (strncmp(sql, head, sizeof head - 1) != 0) {
        fail_msg("fx_count takes \"SELECT count(*) FROM table [WHERE ...]\", not: %s", sql);
        return -1;
    }
    const char *t = sql + sizeof head - 1;
    size_t n = strcspn(t, " ");
    char table[64];
    if (n == 0 || n >= sizeof table) {
        fail_msg("fx_count: no table in: %s", sql);
        return -1;
    }
    memcpy(table, t, n);
    table[n] = '\0';
    const char *where = NULL;
    if (t[n] != '\0') {
        if (strncmp(t + n, " WHERE ", 7) != 0) {
            fail_msg("fx_count: only \"WHERE condition\" may follow the table in: %s", sql);
            return -1;
        }
        where = t + n + 7;
    }
    int64_t v = -1;
    vigil_err e = {0};
    if (vigil_store_count_rows(st, table, where, &v, &e) != VIGIL_OK) {
        fail_msg("count rows %s: %s", sql, e.msg);
    }
    return v;
}

/* fx_count_in on the test's store. */
static inline int64_t fx_count(const fx *f, const char *sql)
{
    return fx_count_in(f->st, sql);
}

/* fx_count_in on a second handle of the same store, opened for the call: what
 * another connection (process, node) sees, i.e. what was committed. */
static inline int64_t fx_count_other(const fx *f, const char *sql)
{
    vigil_store *other = NULL;
    vigil_err e = {0};
    if (vigil_store_open(f->uri, 0, &other, &e) != VIGIL_OK) {
        fail_msg("open a second handle: %s", e.msg);
    }
    int64_t v = fx_count_in(other, sql);
    vigil_store_close(other);
    return v;
}

/* A valid NHS number, distinct for distinct seeds (< 80 million): the
 * first nine digits are 1, seed, and a last digit chosen so the check digit
 * is not 10. */
static inline void fx_nhs(unsigned seed, char out[VIGIL_NHS_NUMBER_LEN + 1])
{
    for (unsigned k = 0; k < 10; k++) {
        char d[16];
        snprintf(d, sizeof d, "%09u", 100000000u + (seed % 80000000u) * 10u + k);
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
    fail_msg("no NHS number for seed %u", seed);
}

/* A full observation set for nhs at t_ms from source id sid. */
static inline void fx_event(vigil_obs_event *ev, const char *nhs, const char *sid, int64_t t_ms)
{
    vigil_obs_event_init(ev);
    snprintf(ev->nhs_number, sizeof ev->nhs_number, "%s", nhs);
    ev->t_ms = t_ms;
    ev->source = VIGIL_SRC_HL7;
    snprintf(ev->source_id, sizeof ev->source_id, "%s", sid);
    snprintf(ev->recorded_by, sizeof ev->recorded_by, "monitor-7");
    ev->obs.rr_bpm = 18;
    ev->obs.spo2_pct = 96;
    ev->obs.o2 = VIGIL_O2_AIR;
    ev->obs.sbp_mmhg = 124;
    ev->obs.hr_bpm = 82;
    ev->obs.acvpu = VIGIL_ACVPU_A;
    ev->obs.temp_c = 37.1;
    ev->obs.age_y = 71;
    ev->obs.pregnant = VIGIL_NO;
}

/* Score ev's observations with NEWS2 (no AI). */
static inline vigil_store_score fx_score(const vigil_obs_event *ev, int64_t t_ms)
{
    vigil_store_score s;
    memset(&s, 0, sizeof s);
    assert_int_equal(vigil_news2_score(&ev->obs, &s.news2, NULL), VIGIL_OK);
    s.t_ms = t_ms;
    return s;
}

/* Store one event; returns its obs id. */
static inline int64_t fx_put(fx *f, const vigil_obs_event *ev, const vigil_store_score *sc)
{
    vigil_store_put out;
    vigil_err e = {0};
    vigil_status s = vigil_store_put_obs(f->st, &FX_FEED, ev, sc, &out, &e);
    if (s != VIGIL_OK) {
        fail_msg("put_obs: %s", e.msg);
    }
    return out.obs_id;
}

/* A patient by NHS number; returns the id. */
static inline int64_t fx_patient(fx *f, const char *nhs, const char *mrn, const char *name)
{
    vigil_patient p;
    memset(&p, 0, sizeof p);
    snprintf(p.nhs_number, sizeof p.nhs_number, "%s", nhs != NULL ? nhs : "");
    snprintf(p.mrn, sizeof p.mrn, "%s", mrn != NULL ? mrn : "");
    snprintf(p.name, sizeof p.name, "%s", name != NULL ? name : "");
    int64_t id = 0;
    vigil_err e = {0};
    if (vigil_store_patient_ensure(f->st, &FX_NURSE, &p, &id, &e) != VIGIL_OK) {
        fail_msg("patient_ensure: %s", e.msg);
    }
    return id;
}

/* Add a user with the given role (password fixed). */
static inline void fx_user(fx *f, const char *username, vigil_store_role role)
{
    const char *wards[] = {"*"};
    int64_t id = 0;
    vigil_err e = {0};
    vigil_actor admin = {"admin", "user management"};
    if (vigil_store_user_add(f->st, &admin, username, username, role, "correct horse battery",
                             wards, 1, &id, &e) != VIGIL_OK) {
        fail_msg("user_add: %s", e.msg);
    }
}

static inline int64_t fx_audit_count(const fx *f)
{
    return fx_count(f, "SELECT count(*) FROM audit");
}

/* Verify the chain; returns the report. */
static inline vigil_audit_report fx_verify(fx *f)
{
    vigil_audit_report rep;
    vigil_err e = {0};
    if (vigil_audit_verify(f->st, &rep, &e) != VIGIL_OK) {
        fail_msg("verify: %s", e.msg);
    }
    return rep;
}

#endif
