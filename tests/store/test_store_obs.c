/* test_store_obs.c: observation sets and scores: NULL for not measured,
 * idempotent resends, NHS number check digits, NEWS2 consistency, the batch
 * API, and reading a patient's observations back. */
#include <math.h>

#include "store_fixture.h"

static void put_obs_stores_every_news2_input_with_null_for_not_measured(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(2001, nhs);
    vigil_obs_event ev;
    vigil_obs_event_init(&ev);
    memcpy(ev.nhs_number, nhs, sizeof nhs);
    ev.t_ms = T0;
    ev.source = VIGIL_SRC_FHIR;
    snprintf(ev.source_id, sizeof ev.source_id, "Observation/abc");
    ev.obs.rr_bpm = 22;
    ev.obs.hr_bpm = 118.5;
    int64_t id = fx_put(f, &ev, NULL);
    assert_true(id > 0);
    /* visible to another connection as soon as put returned: committed */
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM obs_set WHERE id = %lld AND rr_bpm = 22 AND hr_bpm = 118.5 "
             "AND spo2_pct IS NULL AND o2 IS NULL AND sbp_mmhg IS NULL AND acvpu IS NULL AND "
             "temp_c IS NULL AND age_y IS NULL AND pregnant IS NULL AND spo2_scale = 1 AND "
             "source = 'fhir' AND source_id = 'Observation/abc'",
             (long long)id);
    assert_int_equal(fx_count_other(f, sql), 1);
    fx_event(&ev, nhs, "MSG-FULL", T0 + MIN_MS);
    ev.obs.o2 = VIGIL_O2_OXYGEN;
    ev.obs.acvpu = VIGIL_ACVPU_C;
    ev.obs.pregnant = VIGIL_YES;
    id = fx_put(f, &ev, NULL);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM obs_set WHERE id = %lld AND rr_bpm = 18 AND spo2_pct = 96 AND "
             "o2 = 'oxygen' AND sbp_mmhg = 124 AND hr_bpm = 82 AND acvpu = 'C' AND "
             "temp_c = 37.1 AND age_y = 71 AND pregnant = 1 AND recorded_by = 'monitor-7'",
             (long long)id);
    assert_int_equal(fx_count_other(f, sql), 1);
}

static void resent_identical_message_is_stored_once(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(2002, nhs);
    vigil_obs_event ev;
    fx_event(&ev, nhs, "MSG-42", T0);
    vigil_store_score sc = fx_score(&ev, T0 + 1000);
    vigil_store_put a, b;
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, &sc, &a, NULL), VIGIL_OK);
    assert_false(a.duplicate);
    assert_true(a.score_id > 0);
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, &sc, &b, NULL), VIGIL_OK);
    assert_true(b.duplicate);
    assert_int_equal(b.obs_id, a.obs_id);
    assert_int_equal(b.patient_id, a.patient_id);
    assert_int_equal(b.score_id, a.score_id);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set"), 1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM score"), 1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'obs.duplicate'"), 1);
}

static void resent_message_id_with_different_content_is_a_conflict(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(2003, nhs);
    vigil_obs_event ev;
    fx_event(&ev, nhs, "MSG-7", T0);
    fx_put(f, &ev, NULL);
    int64_t n_audit = fx_audit_count(f);
    ev.obs.hr_bpm = 131;
    vigil_store_put out;
    vigil_err e = {0};
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, NULL, &out, &e), VIGIL_ERR_CONFLICT);
    assert_int_equal(out.status, VIGIL_ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "different content"));
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set"), 1);
    assert_int_equal(fx_audit_count(f), n_audit); /* nothing written, nothing audited */
}

/* The resent message names a patient never stored (another NHS number):
 * refused as a resend with different content, and the patient its look-up
 * created is rolled back with it, alone and inside a batch. */
static void resent_message_id_naming_a_new_patient_leaves_no_patient(void **state)
{
    fx *f = *state;
    char a[11], b[11], c[11];
    fx_nhs(2031, a);
    fx_nhs(2032, b);
    fx_nhs(2033, c);
    vigil_obs_event ev;
    fx_event(&ev, a, "MSG-9", T0);
    fx_put(f, &ev, NULL);
    int64_t n_audit = fx_audit_count(f);
    fx_event(&ev, b, "MSG-9", T0);
    vigil_store_put out;
    vigil_err e = {0};
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, NULL, &out, &e), VIGIL_ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "different content"));
    assert_int_equal(fx_count(f, "SELECT count(*) FROM patient"), 1);
    assert_int_equal(fx_audit_count(f), n_audit);
    vigil_obs_event ok;
    fx_event(&ok, c, "MSG-10", T0);
    vigil_store_obs_item items[2] = {{.ev = &ev, .unit = 1}, {.ev = &ok, .unit = 2}};
    vigil_store_put outs[2];
    assert_int_equal(vigil_store_put_obs_batch(f->st, &FX_FEED, items, 2, outs, &e), VIGIL_OK);
    assert_int_equal(outs[0].status, VIGIL_ERR_CONFLICT);
    assert_int_equal(outs[1].status, VIGIL_OK);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM patient"), 2); /* a and c */
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set"), 2);
    vigil_audit_report rep;
    assert_int_equal(vigil_audit_verify(f->st, &rep, &e), VIGIL_OK);
    assert_true(rep.ok);
}

static void same_message_id_from_another_source_is_a_new_set(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(2004, nhs);
    vigil_obs_event ev;
    fx_event(&ev, nhs, "ID-1", T0);
    int64_t a = fx_put(f, &ev, NULL);
    ev.source = VIGIL_SRC_FHIR;
    int64_t b = fx_put(f, &ev, NULL);
    assert_true(a != b);
    /* an empty source id is never matched: two puts, two sets */
    ev.source_id[0] = '\0';
    int64_t c = fx_put(f, &ev, NULL);
    int64_t d = fx_put(f, &ev, NULL);
    assert_true(c != d);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set"), 4);
}

/* REQ HL7-RESEND-KEY: HL7 makes MSH-10 unique per sending system only, so a
 * resend is (sender, control id): another sender reusing the id is a new set,
 * the same sender again is the same set */
static void same_control_id_from_another_sender_is_a_new_set(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(2005, nhs);
    vigil_obs_event ev;
    fx_event(&ev, nhs, "1", T0); /* devices count control ids from 1 */
    snprintf(ev.sender, sizeof ev.sender, "MONITOR-A|ICU");
    int64_t a = fx_put(f, &ev, NULL);
    snprintf(ev.sender, sizeof ev.sender, "MONITOR-B|ICU");
    ev.obs.hr_bpm = 91; /* other content: no conflict, another sender's message */
    int64_t b = fx_put(f, &ev, NULL);
    assert_true(a != b);
    vigil_store_put out;
    vigil_err e = {0};
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, NULL, &out, &e), VIGIL_OK);
    assert_true(out.duplicate); /* B again: its resend */
    assert_int_equal(out.obs_id, b);
    snprintf(ev.sender, sizeof ev.sender, "MONITOR-A|ICU"); /* A's id 1 with B's content */
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, NULL, &out, &e), VIGIL_ERR_CONFLICT);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set WHERE source_id = '1'"), 2);
}

/* REQ NHS-NUMBER-CHECK */
static void observation_with_a_wrong_nhs_check_digit_is_refused(void **state)
{
    fx *f = *state;
    vigil_obs_event ev;
    fx_event(&ev, "9434765918", "MSG-BAD", T0);
    vigil_store_put out;
    vigil_err e = {0};
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, NULL, &out, &e), VIGIL_ERR_PARSE);
    assert_string_equal(e.field, "nhs_number");
    assert_non_null(strstr(out.msg, "check digit"));
    assert_int_equal(fx_count(f, "SELECT count(*) FROM patient"), 0);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set"), 0);
    /* no identifier at all */
    fx_event(&ev, "", "MSG-NONE", T0);
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, NULL, &out, &e), VIGIL_ERR_ARG);
}

/* REQ NHS-NUMBER-CHECK (the schema's second line of defence) */
static void schema_refuses_an_nhs_number_with_a_wrong_check_digit(void **state)
{
    fx *f = *state;
    fx_need_sqlite(f, "the SQLite schema's CHECK, by raw INSERT");
    sqlite3 *db = fx_raw(f);
    const char *ins = "INSERT INTO patient (nhs_number, created_ms) VALUES ('%s', 1)";
    char sql[160];
    snprintf(sql, sizeof sql, ins, "9434765918");
    assert_int_equal(fx_exec(db, sql), SQLITE_CONSTRAINT);
    snprintf(sql, sizeof sql, ins, "0000000060"); /* check digit would be 10 */
    assert_int_equal(fx_exec(db, sql), SQLITE_CONSTRAINT);
    snprintf(sql, sizeof sql, ins, "94347659X9");
    assert_int_equal(fx_exec(db, sql), SQLITE_CONSTRAINT);
    snprintf(sql, sizeof sql, ins, "9434765919");
    assert_int_equal(fx_exec(db, sql), SQLITE_OK);
    snprintf(sql, sizeof sql, ins, "1234567830"); /* remainder 0 -> check digit 0 */
    assert_int_equal(fx_exec(db, sql), SQLITE_OK);
    sqlite3_close(db);
}

static void implausible_observation_is_refused_naming_the_field(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(2005, nhs);
    vigil_obs_event ev;
    fx_event(&ev, nhs, "MSG-HR", T0);
    ev.obs.hr_bpm = 400;
    vigil_err e = {0};
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, NULL, NULL, &e),
                     VIGIL_ERR_IMPLAUSIBLE);
    assert_string_equal(e.field, "hr");
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set"), 0);
}

static void score_that_does_not_match_the_observations_is_refused(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(2006, nhs);
    vigil_obs_event ev;
    fx_event(&ev, nhs, "MSG-S", T0);
    vigil_store_score sc = fx_score(&ev, T0);
    sc.news2.total += 1;
    vigil_err e = {0};
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, &sc, NULL, &e), VIGIL_ERR_MISMATCH);
    sc = fx_score(&ev, T0);
    sc.news2.sub[VIGIL_NEWS2_HR] = 3;
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, &sc, NULL, &e), VIGIL_ERR_MISMATCH);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set"), 0);
}

static void assert_news2_equal(const vigil_news2 *a, const vigil_news2 *b)
{
    assert_int_equal(a->total, b->total);
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        assert_int_equal(a->sub[p], b->sub[p]);
    }
    assert_int_equal(a->complete, b->complete);
    assert_int_equal(a->missing, b->missing);
    assert_int_equal(a->single_param_3, b->single_param_3);
    assert_int_equal(a->risk, b->risk);
    assert_int_equal(a->monitoring, b->monitoring);
    assert_int_equal(a->response, b->response);
    assert_int_equal(a->flags, b->flags);
    assert_int_equal(a->spo2_scale, b->spo2_scale);
}

static void score_with_ai_reads_back_with_sub_scores_and_explanation(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(2007, nhs);
    vigil_obs_event ev;
    fx_event(&ev, nhs, "MSG-AI", T0);
    ev.obs.rr_bpm = 26;   /* 3 */
    ev.obs.spo2_pct = 93; /* 2 */
    ev.obs.temp_c = NAN;  /* missing */
    vigil_store_score sc = fx_score(&ev, T0 + 500);
    assert_false(sc.news2.complete);
    vigil_store_ai ai = {1.75, 0.183, "{\"up\":[[\"rr\",0.4]],\"down\":[]}", "gbt-2025.01"};
    sc.ai = &ai;
    vigil_store_put out;
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, &sc, &out, NULL), VIGIL_OK);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM score WHERE sub_temp IS NULL AND "
                                 "sub_rr = 3 AND complete = 0 AND ai_prob = 0.183"),
                     1);
    vigil_store_obs_list l;
    vigil_err e = {0};
    assert_int_equal(vigil_store_obs_range(f->st, &FX_NURSE, out.patient_id, T0 - HOUR_MS,
                                           T0 + HOUR_MS, 100, &l, &e),
                     VIGIL_OK);
    assert_int_equal(l.n, 1);
    const vigil_store_obs_row *r = &l.rows[0];
    assert_true(r->has_score);
    assert_news2_equal(&r->news2, &sc.news2);
    assert_true((r->news2.missing & (1u << VIGIL_NEWS2_TEMP)) != 0);
    assert_true(r->has_ai);
    assert_true(r->ai_prob == 0.183 && r->ai_risk == 1.75);
    assert_false(r->ai_low_confidence);
    assert_string_equal(r->model_version, "gbt-2025.01");
    assert_string_equal(r->explanation_json, ai.explanation_json);
    assert_string_equal(r->ev.nhs_number, nhs);
    assert_true(isnan(r->ev.obs.temp_c));
    assert_true(r->ev.obs.rr_bpm == 26);
    assert_int_equal(r->scored_ms, T0 + 500);
    vigil_store_obs_list_fini(&l);
    assert_int_equal(l.n, 0);
}

static void explanation_that_is_not_json_is_refused(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(2008, nhs);
    vigil_obs_event ev;
    fx_event(&ev, nhs, "MSG-J", T0);
    vigil_store_score sc = fx_score(&ev, T0);
    vigil_store_ai ai = {0.1, 0.5, "{\"up\": [", "m1"};
    sc.ai = &ai;
    vigil_err e = {0};
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, &sc, NULL, &e), VIGIL_ERR_PARSE);
    ai.explanation_json = "42"; /* JSON, but neither object nor array */
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, &sc, NULL, &e), VIGIL_ERR_PARSE);
    ai.explanation_json = NULL;
    ai.prob = 1.5;
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, &sc, NULL, &e), VIGIL_ERR_ARG);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set"), 0);
}

static void batch_commits_good_items_and_reports_refused_ones(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(2009, nhs);
    vigil_obs_event ev[5];
    vigil_store_score sc[5];
    vigil_store_obs_item items[5];
    for (int i = 0; i < 5; i++) {
        char sid[16];
        snprintf(sid, sizeof sid, "B-%d", i);
        fx_event(&ev[i], nhs, sid, T0 + i * MIN_MS);
        sc[i] = fx_score(&ev[i], T0 + i * MIN_MS);
        items[i] = (vigil_store_obs_item){&ev[i], &sc[i]};
    }
    fx_put(f, &ev[3], NULL); /* B-3 stored before ... */
    ev[3].obs.hr_bpm = 99;   /* ... so a changed B-3 conflicts (found by the backend) */
    sc[3] = fx_score(&ev[3], T0);
    memcpy(ev[1].nhs_number, "9434765918", 11); /* refused before SQL */
    vigil_store_put out[5];
    vigil_err e = {0};
    assert_int_equal(vigil_store_put_obs_batch(f->st, &FX_FEED, items, 5, out, &e), VIGIL_OK);
    assert_int_equal(out[0].status, VIGIL_OK);
    assert_int_equal(out[1].status, VIGIL_ERR_PARSE);
    assert_int_equal(out[2].status, VIGIL_OK);
    assert_int_equal(out[3].status, VIGIL_ERR_CONFLICT);
    assert_int_equal(out[4].status, VIGIL_OK);
    assert_true(out[0].score_id > 0 && out[4].score_id > 0);
    assert_int_equal(out[1].obs_id, 0);
    assert_int_equal(out[3].obs_id, 0);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set"), 4);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM score"), 3);
    /* the refused item's audit records were rolled back with it */
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'obs.put'"), 4);
    vigil_audit_report rep = fx_verify(f);
    assert_true(rep.ok);
    /* an empty batch commits nothing and is fine */
    assert_int_equal(vigil_store_put_obs_batch(f->st, &FX_FEED, NULL, 0, NULL, &e), VIGIL_OK);
}

/* Two units refused by what only the stored data can tell, in one batch:
 * each is undone whole (every set of it and its audit records), the others
 * are stored, and the chain holds. */
static void batch_undoes_each_refused_unit_whole_and_keeps_the_rest(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(2012, nhs);
    enum { N = 6 };
    vigil_obs_event ev[N];
    vigil_store_score sc[N];
    vigil_store_obs_item items[N];
    const unsigned unit[N] = {1, 1, 2, 2, 0, 0};
    for (int i = 0; i < N; i++) {
        char sid[16];
        snprintf(sid, sizeof sid, "U-%d", i);
        fx_event(&ev[i], nhs, sid, T0 + i * MIN_MS);
        sc[i] = fx_score(&ev[i], T0 + i * MIN_MS);
        items[i] = (vigil_store_obs_item){&ev[i], &sc[i], unit[i]};
    }
    for (int i = 3; i <= 5; i += 2) { /* U-3 and U-5 stored before, then changed */
        fx_put(f, &ev[i], NULL);
        ev[i].obs.hr_bpm = 140;
        sc[i] = fx_score(&ev[i], T0);
    }
    int64_t sets = fx_count(f, "SELECT count(*) FROM obs_set");
    vigil_store_put out[N];
    vigil_err e = {0};
    assert_int_equal(vigil_store_put_obs_batch(f->st, &FX_FEED, items, N, out, &e), VIGIL_OK);
    const vigil_status want[N] = {VIGIL_OK,           VIGIL_OK, VIGIL_ERR_CONFLICT,
                                  VIGIL_ERR_CONFLICT, VIGIL_OK, VIGIL_ERR_CONFLICT};
    for (int i = 0; i < N; i++) {
        assert_int_equal(out[i].status, want[i]);
        assert_true(want[i] == VIGIL_OK ? out[i].obs_id > 0 && out[i].score_id > 0
                                        : out[i].obs_id == 0);
    }
    assert_non_null(strstr(out[2].msg, "item 2 of its unit"));
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set"), sets + 3);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set WHERE source_id = 'U-2'"), 0);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM obs_set WHERE id IN (%lld, %lld, %lld)",
             (long long)out[0].obs_id, (long long)out[1].obs_id, (long long)out[4].obs_id);
    assert_int_equal(fx_count(f, sql), 3); /* the ids reported are the stored ones */
    vigil_audit_report rep = fx_verify(f);
    assert_true(rep.ok);
}

/* What the AI's history is loaded with: the latest sets in the range, oldest
 * first, times and vitals only, one audited read. */
static void obs_recent_gives_the_latest_sets_oldest_first_and_is_audited(void **state)
{
    fx *f = *state;
    char nhs[11], other[11];
    fx_nhs(2013, nhs);
    fx_nhs(2014, other);
    const int64_t offs[] = {5, 1, 4, 2, 3, 0, 6};
    vigil_obs_event ev;
    for (size_t i = 0; i < 7; i++) {
        char sid[16];
        snprintf(sid, sizeof sid, "V-%zu", i);
        fx_event(&ev, nhs, sid, T0 + offs[i] * HOUR_MS);
        ev.obs.hr_bpm = 60.0 + (double)offs[i];
        fx_put(f, &ev, NULL);
    }
    fx_event(&ev, other, "V-OTHER", T0 + 6 * HOUR_MS);
    fx_put(f, &ev, NULL);
    vigil_patient p;
    assert_int_equal(vigil_store_patient_find(f->st, &FX_NURSE, nhs, NULL, &p, NULL), VIGIL_OK);
    int64_t reads = fx_count(f, "SELECT count(*) FROM audit WHERE action = 'obs.read'");
    vigil_store_vitals v[8];
    size_t n = 99;
    vigil_err e = {0};
    /* hours 1..5 in range, the latest 3 of them: hours 3, 4, 5 */
    assert_int_equal(vigil_store_obs_recent(f->st, &FX_NURSE, p.id, T0 + HOUR_MS, T0 + 5 * HOUR_MS,
                                            3, v, &n, &e),
                     VIGIL_OK);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(v[i].t_ms, T0 + (int64_t)(3 + i) * HOUR_MS);
        assert_true(v[i].obs.hr_bpm == 63.0 + (double)i);
    }
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'obs.read'"),
                     reads + 1);
    /* everything: 7 of this patient, none of the other */
    assert_int_equal(vigil_store_obs_recent(f->st, &FX_NURSE, p.id, 0, INT64_MAX, 8, v, &n, &e),
                     VIGIL_OK);
    assert_int_equal(n, 7);
    assert_int_equal(v[0].t_ms, T0);
    assert_int_equal(v[6].t_ms, T0 + 6 * HOUR_MS);
    assert_int_equal(vigil_store_obs_recent(f->st, &FX_NURSE, 987654, 0, INT64_MAX, 8, v, &n, &e),
                     VIGIL_ERR_NOT_FOUND);
    assert_int_equal(n, 0);
    assert_int_equal(vigil_store_obs_recent(f->st, &FX_NURSE, p.id, 5, 4, 8, v, &n, &e),
                     VIGIL_ERR_ARG);
}

static void obs_range_returns_sets_in_time_order_within_the_range(void **state)
{
    fx *f = *state;
    char nhs[11], other[11];
    fx_nhs(2010, nhs);
    fx_nhs(2011, other);
    const int64_t offs[] = {5, 1, 4, 2, 3, 0, 6};
    vigil_obs_event ev;
    for (size_t i = 0; i < 7; i++) {
        char sid[16];
        snprintf(sid, sizeof sid, "R-%zu", i);
        fx_event(&ev, nhs, sid, T0 + offs[i] * HOUR_MS);
        fx_put(f, &ev, NULL);
    }
    fx_event(&ev, other, "R-OTHER", T0 + 2 * HOUR_MS);
    fx_put(f, &ev, NULL);
    vigil_patient p;
    assert_int_equal(vigil_store_patient_find(f->st, &FX_NURSE, nhs, NULL, &p, NULL), VIGIL_OK);
    int64_t before = fx_count(f, "SELECT count(*) FROM audit WHERE action = 'obs.read'");
    vigil_store_obs_list l;
    assert_int_equal(vigil_store_obs_range(f->st, &FX_NURSE, p.id, T0 + HOUR_MS, T0 + 4 * HOUR_MS,
                                           100, &l, NULL),
                     VIGIL_OK);
    assert_int_equal(l.n, 4);
    assert_false(l.truncated);
    for (size_t i = 0; i < l.n; i++) {
        assert_int_equal(l.rows[i].ev.t_ms, T0 + (int64_t)(i + 1) * HOUR_MS);
        assert_int_equal(l.rows[i].patient_id, p.id);
        assert_false(l.rows[i].has_score);
    }
    vigil_store_obs_list_fini(&l);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'obs.read'"),
                     before + 1);
    assert_int_equal(
        vigil_store_obs_range(f->st, &FX_NURSE, p.id, T0, T0 + 10 * HOUR_MS, 3, &l, NULL),
        VIGIL_OK);
    assert_int_equal(l.n, 3);
    assert_true(l.truncated);
    assert_int_equal(l.rows[2].ev.t_ms, T0 + 2 * HOUR_MS);
    vigil_store_obs_list_fini(&l);
    vigil_err e = {0};
    assert_int_equal(vigil_store_obs_range(f->st, &FX_NURSE, 999, T0, T0 + 1, 3, &l, &e),
                     VIGIL_ERR_NOT_FOUND);
}

static void nhs_number_and_mrn_of_two_patients_are_a_conflict(void **state)
{
    fx *f = *state;
    char a[11], b[11];
    fx_nhs(2012, a);
    fx_nhs(2013, b);
    fx_patient(f, a, "MRN-A", "Ann");
    fx_patient(f, b, "MRN-B", "Bob");
    vigil_obs_event ev;
    fx_event(&ev, a, "C-1", T0);
    snprintf(ev.mrn, sizeof ev.mrn, "MRN-B");
    vigil_err e = {0};
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, NULL, NULL, &e), VIGIL_ERR_CONFLICT);
    snprintf(ev.mrn, sizeof ev.mrn, "MRN-Z"); /* A is stored with MRN-A */
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, NULL, NULL, &e), VIGIL_ERR_CONFLICT);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set"), 0);
}

static void patient_known_by_mrn_gets_its_nhs_number_filled_in(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(2014, nhs);
    vigil_obs_event ev;
    fx_event(&ev, "", "M-1", T0);
    snprintf(ev.mrn, sizeof ev.mrn, "RX1234");
    vigil_store_put a, b;
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, NULL, &a, NULL), VIGIL_OK);
    fx_event(&ev, nhs, "M-2", T0 + MIN_MS);
    snprintf(ev.mrn, sizeof ev.mrn, "RX1234");
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, NULL, &b, NULL), VIGIL_OK);
    assert_int_equal(a.patient_id, b.patient_id);
    vigil_patient p;
    assert_int_equal(vigil_store_patient_get(f->st, &FX_NURSE, a.patient_id, &p, NULL), VIGIL_OK);
    assert_string_equal(p.nhs_number, nhs);
    assert_string_equal(p.mrn, "RX1234");
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'patient.update'"), 1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'patient.read'"), 1);
}

static void observation_links_to_the_open_admission(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(2015, nhs);
    int64_t pid = fx_patient(f, nhs, NULL, "Cara");
    int64_t adm = 0;
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, pid, "7A", "12", T0, &adm, NULL),
                     VIGIL_OK);
    vigil_obs_event ev;
    fx_event(&ev, nhs, "L-1", T0 + MIN_MS);
    int64_t o1 = fx_put(f, &ev, NULL);
    assert_int_equal(vigil_store_discharge(f->st, &FX_NURSE, adm, T0 + HOUR_MS, NULL), VIGIL_OK);
    fx_event(&ev, nhs, "L-2", T0 + 2 * HOUR_MS);
    int64_t o2 = fx_put(f, &ev, NULL);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM obs_set WHERE id = %lld AND admission_id = %lld",
             (long long)o1, (long long)adm);
    assert_int_equal(fx_count(f, sql), 1);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM obs_set WHERE id = %lld AND admission_id IS NULL",
             (long long)o2);
    assert_int_equal(fx_count(f, sql), 1);
}

static void score_put_later_is_checked_and_stored_once(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(2016, nhs);
    vigil_obs_event ev;
    fx_event(&ev, nhs, "P-1", T0);
    int64_t id = fx_put(f, &ev, NULL);
    vigil_store_score sc = fx_score(&ev, T0 + 100);
    int64_t sid = 0;
    vigil_err e = {0};
    sc.news2.total = 9;
    assert_int_equal(vigil_store_put_score(f->st, &FX_FEED, id, &sc, &sid, &e), VIGIL_ERR_MISMATCH);
    sc = fx_score(&ev, T0 + 100);
    assert_int_equal(vigil_store_put_score(f->st, &FX_FEED, id, &sc, &sid, &e), VIGIL_OK);
    assert_true(sid > 0);
    int64_t sid2 = 0;
    assert_int_equal(vigil_store_put_score(f->st, &FX_FEED, id, &sc, &sid2, &e),
                     VIGIL_ERR_CONFLICT);
    assert_int_equal(sid2, 0); /* output unchanged on error */
    assert_int_equal(vigil_store_put_score(f->st, &FX_FEED, 12345, &sc, &sid2, &e),
                     VIGIL_ERR_NOT_FOUND);
}

/* The AI's part, added after the set (the ward server's AI runs after the ACK). */
static void ai_score_added_later_is_stored_once_audited_and_refused_item_by_item(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(2017, nhs);
    vigil_obs_event ev;
    fx_event(&ev, nhs, "AI-1", T0);
    vigil_store_score sc = fx_score(&ev, T0 + 100);
    vigil_store_put out;
    vigil_err e = {0};
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, &sc, &out, &e), VIGIL_OK);
    int64_t audits = fx_count(f, "SELECT count(*) FROM audit");
    vigil_store_ai_item items[4] = {
        {out.score_id, {-1.25, 0.22, "{\"up\":[\"heart rate rising\"]}", "m@1", true}},
        {out.score_id + 1000, {-1.0, 0.3, NULL, "m@1"}}, /* no such score */
        {out.score_id, {-1.0, 1.5, NULL, "m@1"}},        /* probability out of range */
        {out.score_id, {-1.0, 0.3, "not json", "m@1"}},  /* explanation not JSON */
    };
    vigil_status st[4];
    assert_int_equal(vigil_store_put_ai_batch(f->st, &FX_FEED, items, 4, st, &e), VIGIL_OK);
    assert_int_equal(st[0], VIGIL_OK);
    assert_int_equal(st[1], VIGIL_ERR_NOT_FOUND);
    assert_int_equal(st[2], VIGIL_ERR_ARG);
    assert_int_equal(st[3], VIGIL_ERR_PARSE);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'score.ai'"), 1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit"), audits + 1);
    /* read back with the set */
    vigil_store_obs_list l;
    assert_int_equal(
        vigil_store_obs_range(f->st, &FX_NURSE, out.patient_id, 0, INT64_MAX, 10, &l, &e),
        VIGIL_OK);
    assert_int_equal(l.n, 1);
    assert_true(l.rows[0].has_ai);
    assert_true(l.rows[0].ai_prob == 0.22);
    assert_true(l.rows[0].ai_risk == -1.25);
    assert_string_equal(l.rows[0].model_version, "m@1");
    assert_true(l.rows[0].ai_low_confidence); /* kept, so a restart still marks it */
    assert_non_null(strstr(l.rows[0].explanation_json, "heart rate rising"));
    assert_int_equal(l.rows[0].news2.total, sc.news2.total); /* NEWS2 untouched */
    vigil_store_obs_list_fini(&l);
    vigil_store_patient_current cur;
    assert_int_equal(
        vigil_store_patient_current_get(f->st, &FX_NURSE, out.patient_id, T0 + 1000, &cur, &e),
        VIGIL_OK);
    assert_true(cur.entry.has_ai && cur.entry.ai_low_confidence && cur.entry.ai_prob == 0.22);
    /* never overwritten */
    vigil_store_ai_item again = {out.score_id, {0.0, 0.9, NULL, "m@2"}};
    assert_int_equal(vigil_store_put_ai_batch(f->st, &FX_FEED, &again, 1, st, &e), VIGIL_OK);
    assert_int_equal(st[0], VIGIL_ERR_CONFLICT);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM score WHERE model_version = 'm@2'"), 0);
    vigil_audit_report rep = fx_verify(f);
    assert_true(rep.ok);
}

/* clang-format off */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(put_obs_stores_every_news2_input_with_null_for_not_measured, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(resent_identical_message_is_stored_once, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(resent_message_id_with_different_content_is_a_conflict, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(resent_message_id_naming_a_new_patient_leaves_no_patient, fx_setup,
                                    fx_teardown),
    cmocka_unit_test_setup_teardown(same_control_id_from_another_sender_is_a_new_set, fx_setup,
                                    fx_teardown),
    cmocka_unit_test_setup_teardown(same_message_id_from_another_source_is_a_new_set, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(observation_with_a_wrong_nhs_check_digit_is_refused, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(schema_refuses_an_nhs_number_with_a_wrong_check_digit, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(implausible_observation_is_refused_naming_the_field, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(score_that_does_not_match_the_observations_is_refused, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(score_with_ai_reads_back_with_sub_scores_and_explanation, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(explanation_that_is_not_json_is_refused, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(batch_commits_good_items_and_reports_refused_ones, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(batch_undoes_each_refused_unit_whole_and_keeps_the_rest, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(obs_recent_gives_the_latest_sets_oldest_first_and_is_audited, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(obs_range_returns_sets_in_time_order_within_the_range, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(nhs_number_and_mrn_of_two_patients_are_a_conflict, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(patient_known_by_mrn_gets_its_nhs_number_filled_in, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(observation_links_to_the_open_admission, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(score_put_later_is_checked_and_stored_once, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(ai_score_added_later_is_stored_once_audited_and_refused_item_by_item, fx_setup, fx_teardown),
};
/* clang-format on */

VIGIL_TEST_MAIN(tests)
