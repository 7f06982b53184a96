/* test_store_obs_sql.c: the observation-set statements written from the
 * vital-sign table (src/store/sqlite/sq_obs_sql.c, issue 11): the audit row
 * digest keeps the text of the chain's first version byte for byte (so
 * chains written before still verify), and every parameter of the table
 * goes in and comes back out through each read. */
#include <math.h>
#include <sodium.h>

#include "store/store_int.h"
#include "store_fixture.h"
#include "vigil/vitals.h"

/* The row digest's text as the first version of the chain wrote it (commit
 * a4c0b98, src/store/sqlite/sq_obs.c SQL_OBS_CANON), spelled out here on
 * purpose: the store now writes its own from the table. */
static const char OLD_CANON[] =
    "SELECT patient_id || '|' || t_ms || '|' || quote(rr_bpm) || '|' || quote(spo2_pct) || '|' || "
    "spo2_scale || '|' || quote(o2) || '|' || quote(sbp_mmhg) || '|' || quote(hr_bpm) || '|' || "
    "quote(acvpu) || '|' || quote(temp_c) || '|' || quote(age_y) || '|' || quote(pregnant) || "
    "'|' || source || '|' || quote(source_id) FROM obs_set WHERE id = ?1";

/* The hex digest of OLD_CANON's text for obs_set id. */
static void old_digest(sqlite3 *db, int64_t id, char out[VIGIL__ROW_DIGEST_HEX + 1])
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, OLD_CANON, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int64(st, 1, id);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *text = sqlite3_column_text(st, 0);
    int n = sqlite3_column_bytes(st, 0);
    unsigned char h[VIGIL__ROW_DIGEST_HEX / 2];
    crypto_generichash(h, sizeof h, text, (unsigned long long)n, NULL, 0);
    sodium_bin2hex(out, VIGIL__ROW_DIGEST_HEX + 1, h, sizeof h);
    sqlite3_finalize(st);
}

/* Sets that exercise every kind of column: a complete set, a partial one
 * (NULL vitals, Scale 2, oxygen, no age, pregnancy unknown), one without a
 * source id, one with each level of consciousness's neighbour. */
static void put_varied_sets(fx *f)
{
    char nhs[11];
    fx_nhs(7001, nhs);
    vigil_obs_event ev;
    fx_event(&ev, nhs, "SQL-1", T0);
    fx_put(f, &ev, NULL);
    fx_event(&ev, nhs, "SQL-2", T0 + MIN_MS);
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        if (p != VIGIL_NEWS2_HR && p != VIGIL_NEWS2_O2) {
            vigil_vital_clear(&ev.obs, (vigil_news2_param)p);
        }
    }
    ev.obs.hr_bpm = 131.5;
    ev.obs.o2 = VIGIL_O2_OXYGEN;
    ev.obs.spo2_scale = 2;
    ev.obs.age_y = NAN;
    ev.obs.pregnant = VIGIL_UNKNOWN;
    fx_put(f, &ev, NULL);
    fx_event(&ev, nhs, "", T0 + 2 * MIN_MS);
    ev.source = VIGIL_SRC_API;
    ev.obs.acvpu = VIGIL_ACVPU_C;
    ev.obs.temp_c = 38.05;
    ev.obs.pregnant = VIGIL_YES;
    ev.obs.age_y = 29.5;
    fx_put(f, &ev, NULL);
}

/* SQLite's quote() of a REAL as the first version stored it ("%!.15g":
 * a whole number keeps ".0"); the test's values all round-trip at 15
 * digits (SQLite writes the rest with 20, not needed here). */
static void q_real(char *out, size_t cap, double v)
{
    if (isnan(v)) {
        snprintf(out, cap, "NULL");
    } else if (v == trunc(v) && fabs(v) < 1e15) {
        snprintf(out, cap, "%.0f.0", v);
    } else {
        snprintf(out, cap, "%.15g", v);
        if (strtod(out, NULL) != v) {
            fail_msg("%.17g needs SQLite's 20-digit form: not one of this test's values", v);
        }
    }
}

/* quote() of a text: 'NULL' for none, else quoted, its quotes doubled. */
static void q_text(char *out, size_t cap, const char *t)
{
    if (t == NULL || t[0] == '\0') {
        snprintf(out, cap, "NULL");
        return;
    }
    size_t n = 0;
    out[n++] = '\'';
    for (; *t != '\0' && n + 3 < cap; t++) {
        if (*t == '\'') {
            out[n++] = '\'';
        }
        out[n++] = *t;
    }
    out[n++] = '\'';
    out[n] = '\0';
}

/* The first version's text of a stored set (OLD_CANON's, written in C from
 * the set as the store reads it back, so any backend is held to it), its
 * hex digest. */
static void first_version_digest(const vigil_store_obs_row *r, char out[VIGIL__ROW_DIGEST_HEX + 1])
{
    static const char *const o2[] = {"", "air", "oxygen"};
    static const char *const acvpu[] = {"", "A", "C", "V", "P", "U"};
    const vigil_obs *o = &r->ev.obs;
    char rr[40], spo2[40], o2q[40], sbp[40], hr[40], av[40], temp[40], age[40], preg[8], sid[200];
    q_real(rr, sizeof rr, o->rr_bpm);
    q_real(spo2, sizeof spo2, o->spo2_pct);
    q_text(o2q, sizeof o2q, o2[o->o2]);
    q_real(sbp, sizeof sbp, o->sbp_mmhg);
    q_real(hr, sizeof hr, o->hr_bpm);
    q_text(av, sizeof av, acvpu[o->acvpu]);
    q_real(temp, sizeof temp, o->temp_c);
    q_real(age, sizeof age, o->age_y);
    snprintf(preg, sizeof preg, "%s",
             o->pregnant == VIGIL_UNKNOWN ? "NULL" : o->pregnant == VIGIL_YES ? "1" : "0");
    q_text(sid, sizeof sid, r->ev.source_id);
    char text[1024];
    int n = snprintf(text, sizeof text, "%lld|%lld|%s|%s|%d|%s|%s|%s|%s|%s|%s|%s|%s|%s",
                     (long long)r->patient_id, (long long)r->ev.t_ms, rr, spo2, o->spo2_scale, o2q,
                     sbp, hr, av, temp, age, preg, vigil__store_source_names[r->ev.source], sid);
    assert_true(n > 0 && (size_t)n < sizeof text);
    unsigned char h[VIGIL__ROW_DIGEST_HEX / 2];
    crypto_generichash(h, sizeof h, (const unsigned char *)text, (unsigned long long)n, NULL, 0);
    sodium_bin2hex(out, VIGIL__ROW_DIGEST_HEX + 1, h, sizeof h);
}

/* REQ STORE-AUDIT-ROW-CONTENT: the digest in each obs.put record written by
 * the table-driven store is the one the first version's text gives, so a
 * chain written by the old code verifies with the new, and this one too.
 * On every backend (the text written in C from the sets read back); on an
 * SQLite file the C text is checked against the first version's SQL too. */
static void audit_row_digest_is_the_first_versions_text_for_every_kind_of_set(void **state)
{
    fx *f = *state;
    put_varied_sets(f);
    char nhs[11];
    fx_nhs(7001, nhs);
    vigil_patient p;
    assert_int_equal(vigil_store_patient_find(f->st, &FX_NURSE, nhs, NULL, &p, NULL), VIGIL_OK);
    vigil_store_obs_list l;
    assert_int_equal(
        vigil_store_obs_range(f->st, &FX_NURSE, p.id, T0 - 1, T0 + HOUR_MS, 10, &l, NULL),
        VIGIL_OK);
    assert_int_equal(l.n, 3);
    static vigil_audit_record recs[64];
    size_t n_recs = 0;
    assert_int_equal(vigil_audit_read(f->st, &FX_NURSE, 1, recs, 64, &n_recs, NULL), VIGIL_OK);
    sqlite3 *db = fx_is_sqlite(f) ? fx_raw(f) : NULL;
    int n = 0;
    for (size_t i = 0; i < n_recs; i++) {
        if (strcmp(recs[i].action, "obs.put") != 0) {
            continue;
        }
        const vigil_store_obs_row *row = NULL;
        for (size_t k = 0; k < l.n; k++) {
            if (l.rows[k].obs_id == recs[i].entity_id) {
                row = &l.rows[k];
            }
        }
        assert_non_null(row);
        const char *tag = strstr(recs[i].detail, "content=");
        assert_non_null(tag);
        char want[VIGIL__ROW_DIGEST_HEX + 1];
        first_version_digest(row, want);
        assert_string_equal(tag + strlen("content="), want);
        if (db != NULL) {
            char old[VIGIL__ROW_DIGEST_HEX + 1];
            old_digest(db, row->obs_id, old);
            assert_string_equal(old, want);
        }
        n++;
    }
    if (db != NULL) {
        sqlite3_close(db);
    }
    vigil_store_obs_list_fini(&l);
    assert_int_equal(n, 3);
    assert_true(fx_verify(f).ok);
}

/* A value for every parameter of the table, each different from the
 * fixture's, all within the row's bounds. */
static void every_parameter(vigil_obs *obs)
{
    vigil_obs_init(obs);
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        if (v->type == VIGIL_VITAL_NUMBER) {
            vigil_vital_set_number(obs, v, v->min + (v->max - v->min) * 0.375);
        }
    }
    obs->o2 = VIGIL_O2_OXYGEN;
    obs->acvpu = VIGIL_ACVPU_V;
    obs->age_y = 64;
    obs->pregnant = VIGIL_NO;
}

static void assert_same_set(const vigil_obs *got, const vigil_obs *want)
{
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        if (!vigil_vital_equal(got, want, (vigil_news2_param)p)) {
            fail_msg("%s differs after the store", vigil_vital_get((vigil_news2_param)p)->name);
        }
    }
    assert_int_equal(got->spo2_scale, want->spo2_scale);
    assert_true(got->age_y == want->age_y);
    assert_int_equal(got->pregnant, want->pregnant);
}

static vigil_status keep_row(void *ctx, const vigil_store_set_row *r, vigil_err *err)
{
    (void)err;
    *(vigil_store_set_row *)ctx = *r;
    return VIGIL_OK;
}

/* Every row of the table is written and read by each statement: the range
 * read, the latest sets, the monitoring rows, an identical resend (found
 * equal, a duplicate) and a resend with one parameter changed (a conflict). */
static void every_parameter_of_the_table_goes_through_each_store_statement(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(7002, nhs);
    int64_t pid = fx_patient(f, nhs, "", "Ann");
    int64_t adm = 0;
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, pid, "7A", "2", T0 - HOUR_MS, &adm, NULL),
                     VIGIL_OK);
    vigil_obs_event ev;
    fx_event(&ev, nhs, "ALL-1", T0);
    every_parameter(&ev.obs);
    fx_put(f, &ev, NULL);

    vigil_store_obs_list l;
    assert_int_equal(
        vigil_store_obs_range(f->st, &FX_NURSE, pid, T0 - 1, T0 + 1, 10, &l, NULL), VIGIL_OK);
    assert_int_equal(l.n, 1);
    assert_same_set(&l.rows[0].ev.obs, &ev.obs);
    vigil_store_obs_list_fini(&l);

    vigil_store_vitals recent[2];
    size_t n = 0;
    assert_int_equal(
        vigil_store_obs_recent(f->st, &FX_NURSE, pid, T0 - 1, T0 + 1, 2, recent, &n, NULL),
        VIGIL_OK);
    assert_int_equal(n, 1);
    assert_same_set(&recent[0].obs, &ev.obs);

    vigil_store_set_row row;
    memset(&row, 0, sizeof row);
    assert_int_equal(vigil_store_set_rows(f->st, T0 - 1, T0 + 1, keep_row, &row, NULL), VIGIL_OK);
    assert_int_equal(row.admission_id, adm);
    assert_same_set(&row.obs, &ev.obs);

    vigil_store_put put;
    vigil_err e = {0};
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, NULL, &put, &e), VIGIL_OK);
    assert_true(put.duplicate);
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        vigil_obs_event changed = ev;
        vigil_vital_clear(&changed.obs, (vigil_news2_param)p);
        vigil_status s = vigil_store_put_obs(f->st, &FX_FEED, &changed, NULL, &put, &e);
        if (s != VIGIL_ERR_CONFLICT) {
            fail_msg("a resend without %s: %s, not a conflict",
                     vigil_vital_get((vigil_news2_param)p)->name, vigil_status_str(s));
        }
    }
}

/* clang-format off */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(audit_row_digest_is_the_first_versions_text_for_every_kind_of_set, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(every_parameter_of_the_table_goes_through_each_store_statement, fx_setup, fx_teardown),
};
/* clang-format on */

VIGIL_TEST_MAIN(tests)
