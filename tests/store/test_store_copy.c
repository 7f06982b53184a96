/* test_store_copy.c: vigil_store_copy (`vigil migrate`): an SQLite store with
 * every kind of row copied into the case's store (VIGIL_TEST_STORE_URI: an
 * SQLite file on store.*, through faulty: on store_faulty.*, a PostgreSQL
 * database on store_pg.*), ids and values kept, the audit chain verifying
 * there with the source's head; a target that is not empty and a source with
 * a table or column this vigil does not know are refused, writing nothing;
 * a copied row edited afterwards fails verify at its record. */
#include <math.h>

#include "store_fixture.h"
#include "wardlist_dump.h"

#ifdef VIGIL_TEST_HAVE_PG
#include <libpq-fe.h>
#endif

static const vigil_actor ADMIN = {"admin", "setup"};
static const vigil_actor POLICY = {"vigil", "escalation policy"};
static const vigil_actor PAGER = {"vigil-pager", "paging"};

#define NHS_A "9990000018"
#define NHS_B "9990000026"
#define NHS_C "9990000034"

/* A temperature read in Fahrenheit (100.3 F), as the HL7 reader converts it:
 * 37.94444444444444, which SQLite's quote() writes with 20 digits
 * ("3.79444444444444428654e+01"), PostgreSQL's float8 text with 16 */
#define TEMP_FROM_F ((100.3 - 32.0) * 5.0 / 9.0)

/* The source: an SQLite file beside the case's store. */
static void open_source(const fx *f, fx *src)
{
    memset(src, 0, sizeof *src);
    snprintf(src->dir, sizeof src->dir, "%s", f->dir);
    snprintf(src->path, sizeof src->path, "%s/source.db", f->dir);
    snprintf(src->uri, sizeof src->uri, "%s", src->path);
    vigil_err e = {0};
    if (vigil_store_open(src->uri, 0, &src->st, &e) != VIGIL_OK) {
        fail_msg("open source: %s", e.msg);
    }
}

static void close_source(fx *src)
{
    vigil_store_close(src->st);
    src->st = NULL;
    const char *suffix[] = {"", "-wal", "-shm"};
    char p[400];
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", src->path, suffix[i]);
        unlink(p);
    }
}

#define OK(call)                                                                                   \
    do {                                                                                           \
        vigil_err e_ = {0};                                                                        \
        vigil_status s_ = (call);                                                                  \
        if (s_ != VIGIL_OK) {                                                                      \
            fail_msg("%s: %s", #call, e_.msg);                                                     \
        }                                                                                          \
    } while (0)
#define E (&e_)

/* Every table of the schema gets rows: users and their wards, patients,
 * admissions, bed stays, sets (one incomplete, one converted from
 * Fahrenheit, one with a fractional age), scores with and without the AI, a
 * shadow score, episodes (one superseded by a later one), alerts, repeats,
 * acknowledgements, concerns, Martha's Rule calls and reviews, daily
 * answers, opt-outs, Scale 2, plans, outcomes, shifts, pages and attempts,
 * summaries and attempts, a secret, and the audit records of all of it.
 * Returns the Fahrenheit set's id. */
static int64_t fill(fx *s)
{
    fx_user(s, "nurse.jo", VIGIL_STORE_ROLE_NURSE);
    fx_user(s, "dr.patel", VIGIL_STORE_ROLE_DOCTOR);
    /* a signed-in session (its token's hash only) */
    static const vigil_store_session_rules rules = {
        .idle_ms = 30 * MIN_MS, .max_ms = 12 * HOUR_MS, .per_user = 8, .total = 1024};
    uint8_t token_hash[32];
    for (size_t i = 0; i < sizeof token_hash; i++) {
        token_hash[i] = (uint8_t)(0xA0 + i);
    }
    OK(vigil_store_session_new(s->st, token_hash, "nurse.jo", T0, &rules, E));
    int64_t pa = fx_patient(s, NHS_A, "MRN-A", "Ann O'Neil");
    int64_t pb = fx_patient(s, NHS_B, NULL, "Bob");
    int64_t pc = fx_patient(s, NULL, "MRN-C\\x", "Cy");
    int64_t aa = 0, ab = 0, ac = 0;
    OK(vigil_store_admit(s->st, &FX_NURSE, pa, "A1", "BED1", T0, &aa, E));
    OK(vigil_store_admit(s->st, &FX_NURSE, pb, "A1", "BED2", T0, &ab, E));
    OK(vigil_store_admit(s->st, &FX_NURSE, pc, "B2", "BED9", T0, &ac, E));
    OK(vigil_store_move(s->st, &FX_NURSE, ab, "A1", "BED4", T0 + 5 * MIN_MS, E));
    OK(vigil_store_discharge(s->st, &FX_NURSE, ac, T0 + 2 * HOUR_MS, E));

    vigil_obs_event ev;
    fx_event(&ev, NHS_A, "msg-1", T0 + MIN_MS);
    vigil_store_score sc = fx_score(&ev, T0 + MIN_MS);
    vigil_store_ai ai = {.risk = 0.3125,
                         .prob = 0.1234567890123,
                         .explanation_json = "{\"top\":[\"hr\"]}",
                         .model_version = "m-1",
                         .low_confidence = true};
    sc.ai = &ai;
    vigil_store_put put;
    OK(vigil_store_put_obs(s->st, &FX_FEED, &ev, &sc, &put, E));
    int64_t score_a = put.score_id;
    OK(vigil_store_put_shadow(s->st, &FX_FEED, score_a, &ai, E));

    fx_event(&ev, NHS_A, "msg-2", T0 + 30 * MIN_MS);
    ev.obs.temp_c = TEMP_FROM_F;
    ev.obs.age_y = 67.43287671232876;
    ev.obs.hr_bpm = 131;
    snprintf(ev.sender, sizeof ev.sender, "MON|WARD A");
    sc = fx_score(&ev, T0 + 30 * MIN_MS);
    OK(vigil_store_put_obs(s->st, &FX_FEED, &ev, &sc, &put, E));
    int64_t fahrenheit_set = put.obs_id;

    fx_event(&ev, NHS_B, "msg-3", T0 + 40 * MIN_MS);
    ev.obs.rr_bpm = NAN; /* incomplete */
    ev.obs.spo2_scale = 2;
    ev.obs.o2 = VIGIL_O2_OXYGEN;
    sc = fx_score(&ev, T0 + 40 * MIN_MS);
    OK(vigil_store_put_obs(s->st, &FX_FEED, &ev, &sc, &put, E));
    fx_event(&ev, NHS_B, "msg-4", T0 + 50 * MIN_MS); /* stored unscored */
    OK(vigil_store_put_obs(s->st, &FX_FEED, &ev, NULL, &put, E));

    /* escalation: an episode superseded by a later one (episode.superseded_by
     * names a later row), pages, a repeat, an acknowledgement */
    vigil_store_page_req req[2] = {
        {.recipient = "nurse.jo", .channel = VIGIL_STORE_CHANNEL_WEBHOOK, .post = "ward step 0"},
        {.recipient = NULL,
         .channel = VIGIL_STORE_CHANNEL_WEB,
         .post = "ward step 1",
         .rota_step = 1},
    };
    int64_t ep1 = 0, al1 = 0, ep2 = 0, al2 = 0;
    OK(vigil_store_episode_open_paged(s->st, &POLICY, pa, VIGIL_RESP_URGENT_WARD,
                                      VIGIL_STORE_TRIGGER_NEWS2, score_a, 0, T0 + 2 * MIN_MS, req,
                                      2, &ep1, &al1, E));
    OK(vigil_store_episode_open_paged(s->st, &POLICY, pa, VIGIL_RESP_EMERGENCY,
                                      VIGIL_STORE_TRIGGER_NEWS2, score_a, ep1, T0 + 31 * MIN_MS,
                                      req, 1, &ep2, &al2, E));
    OK(vigil_store_alert_repeat_paged(s->st, &POLICY, al2, T0 + 45 * MIN_MS, 1, "nurse.jo", req, 1,
                                      E));
    vigil_store_page pg[8];
    size_t n = 0;
    OK(vigil_store_pages_of_alert(s->st, al2, pg, 8, &n, E));
    assert_true(n >= 1);
    OK(vigil_store_page_attempt(s->st, &PAGER, pg[0].id, T0 + 46 * MIN_MS,
                                VIGIL_STORE_ATTEMPT_DELIVERED, 0, "HTTP 200", E));
    int64_t ack = 0;
    OK(vigil_store_alert_ack(s->st, &FX_NURSE, al2, T0 + 50 * MIN_MS, VIGIL_STORE_ACK_DECLINED,
                             "family's wishes", &ack, E));
    int64_t ep3 = 0, al3 = 0;
    OK(vigil_store_episode_open(s->st, &POLICY, pb, VIGIL_RESP_NURSE_ASSESS,
                                VIGIL_STORE_TRIGGER_STAFF_CONCERN, 0, 0, T0 + 55 * MIN_MS, &ep3,
                                &al3, E));
    OK(vigil_store_episode_close(s->st, &FX_NURSE, ep3, T0 + 70 * MIN_MS, "reviewed, settled", E));

    /* the patient's state and voice */
    int64_t id = 0;
    OK(vigil_store_staff_concern(s->st, &FX_NURSE, pb, T0 + 52 * MIN_MS, "looks grey", &id, E));
    vigil_store_marthas_call call = {.patient_id = pb,
                                     .caller = VIGIL_STORE_CALLER_FAMILY,
                                     .caller_name = "daughter",
                                     .channel = "phone",
                                     .t_ms = T0 + 53 * MIN_MS,
                                     .concern = "not herself"};
    int64_t call_id = 0;
    OK(vigil_store_marthas_call_add(s->st, &FX_NURSE, &call, &call_id, E));
    vigil_store_marthas_review rev = {.call_id = call_id,
                                      .responder = "outreach team",
                                      .t_ms = T0 + 80 * MIN_MS,
                                      .category = VIGIL_STORE_MR_ACUTE_DETERIORATION,
                                      .outcome = VIGIL_STORE_MR_CHANGE_IN_CARE,
                                      .note = "fluids"};
    OK(vigil_store_marthas_review_add(s->st, &FX_NURSE, &rev, &id, E));
    OK(vigil_store_daily_answer(s->st, &FX_NURSE, pa, T0 + 60 * MIN_MS, VIGIL_STORE_FEEL_WORSE, &id,
                                E));
    OK(vigil_store_ai_optout(s->st, &FX_NURSE, pb, T0 + 61 * MIN_MS, "asked", &id, E));
    OK(vigil_store_ai_optout_withdraw(s->st, &FX_NURSE, pb, T0 + 62 * MIN_MS, E));
    OK(vigil_store_ai_optout(s->st, &FX_NURSE, pb, T0 + 63 * MIN_MS, "asked again", &id, E));
    OK(vigil_store_scale2_set(s->st, &FX_DOCTOR, pb, T0 + 64 * MIN_MS, "COPD, target 88-92%", &id,
                              E));
    vigil_store_plan plan = {.patient_id = pa,
                             .t_ms = T0 + 65 * MIN_MS,
                             .reason = "chronic tachycardia",
                             .plan = "urgent-ward accepted up to NEWS2 6",
                             .review_ms = T0 + 12 * HOUR_MS,
                             .expires_ms = T0 + 24 * HOUR_MS,
                             .level = VIGIL_ESC_URGENT_WARD,
                             .news2_usual_max = 6};
    OK(vigil_store_plan_add(s->st, &FX_DOCTOR, &plan, &id, E));
    OK(vigil_store_outcome_record(s->st, &FX_NURSE, pc, ac, VIGIL_STORE_OUTCOME_SEPSIS,
                                  T0 + HOUR_MS, T0 + 3 * HOUR_MS, "api", "coded later", &id, E));

    /* rota and summaries */
    vigil_store_shift sh = {.step = 0, .from_ms = T0, .to_ms = T0 + 12 * HOUR_MS};
    snprintf(sh.ward, sizeof sh.ward, "A1");
    snprintf(sh.level, sizeof sh.level, "ward");
    snprintf(sh.username, sizeof sh.username, "nurse.jo");
    OK(vigil_store_shift_add(s->st, &ADMIN, &sh, &id, E));
    OK(vigil_store_shift_end(s->st, &ADMIN, id, T0 + 6 * HOUR_MS, NULL, E));
    OK(vigil_store_shift_add(s->st, &ADMIN, &sh, &id, E));
    const char *to[1] = {"matron@ward.example"};
    OK(vigil_store_summaries_queue(s->st, &PAGER, to, 1, T0, T0 + HOUR_MS, E));
    vigil_store_summary sm[2];
    OK(vigil_store_summaries_due(s->st, T0 + 2 * HOUR_MS, sm, 2, &n, E));
    assert_int_equal(n, 1);
    OK(vigil_store_summary_attempt(s->st, &PAGER, sm[0].id, T0 + 2 * HOUR_MS,
                                   VIGIL_STORE_ATTEMPT_RETRY, T0 + 3 * HOUR_MS, "SMTP 451", E));

    uint8_t key[32], got[32];
    for (size_t i = 0; i < sizeof key; i++) {
        key[i] = (uint8_t)(i * 7 + 1);
    }
    OK(vigil_store_secret_ensure(s->st, "bedside-code-key", key, sizeof key, got, E));
    vigil_store_ward_list wl = {0};
    OK(vigil_store_ward_list_get(s->st, &FX_NURSE, "A1", T0 + 90 * MIN_MS, &wl, E));
    vigil_store_ward_list_fini(&wl);
    return fahrenheit_set;
}

/* The ward list and a patient view, as text (the same reads on both). */
static char *views(vigil_store *st, int64_t patient_id)
{
    wl_text t = {0};
    vigil_store_ward_list wl = {0};
    OK(vigil_store_ward_list_get(st, &FX_NURSE, "A1", T0 + 90 * MIN_MS, &wl, E));
    wl_list(&t, "A1", &wl);
    vigil_store_ward_list_fini(&wl);
    vigil_store_patient_current cur;
    OK(vigil_store_patient_current_get(st, &FX_NURSE, patient_id, T0 + 90 * MIN_MS, &cur, E));
    wl_current(&t, &cur);
    return t.s;
}

static void copy(fx *src, fx *f, vigil_store_copy_report *rep)
{
    vigil_store *ro = NULL;
    vigil_err e = {0};
    vigil_store_close(src->st);
    src->st = NULL;
    assert_int_equal(vigil_store_open(src->uri, VIGIL_STORE_READONLY, &ro, &e), VIGIL_OK);
    vigil_status s = vigil_store_copy(ro, f->st, rep, &e);
    if (s != VIGIL_OK) {
        fail_msg("copy: %s", e.msg);
    }
    vigil_store_close(ro);
    assert_int_equal(vigil_store_open(src->uri, 0, &src->st, &e), VIGIL_OK);
}

/* REQ STORE-COPY: every table's rows, ids and values; the chain verifies on
 * the target with the source's head; the same ward list; new ids follow. */
static void copy_keeps_every_table_its_ids_and_a_chain_that_verifies(void **state)
{
    fx *f = *state;
    fx src;
    open_source(f, &src);
    int64_t pa = fx_patient(&src, NHS_A, NULL, NULL);
    (void)fill(&src);
    char *before = views(src.st, pa);
    vigil_audit_report a = fx_verify(&src);
    assert_true(a.ok);

    vigil_store_copy_report rep;
    copy(&src, f, &rep);
    assert_string_equal(rep.mismatch, "");
    assert_true(rep.n_tables >= 28);
    for (size_t i = 0; i < rep.n_tables; i++) {
        /* every kind of row is in the source, and each table came over whole */
        if (rep.tables[i].n_from == 0 || !rep.tables[i].same) {
            fail_msg("table %s: %lld -> %lld, same %d", rep.tables[i].name,
                     (long long)rep.tables[i].n_from, (long long)rep.tables[i].n_to,
                     rep.tables[i].same);
        }
        assert_int_equal(rep.tables[i].n_from, rep.tables[i].n_to);
    }
    vigil_audit_report b = fx_verify(f);
    if (!b.ok) {
        fail_msg("verify on the target: record %lld: %s: %s", (long long)b.bad_seq,
                 vigil_audit_problem_name(b.problem), b.detail);
    }
    assert_int_equal(b.n_records, a.n_records);
    assert_memory_equal(b.head, a.head, VIGIL_AUDIT_HASH_LEN);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM episode WHERE superseded_by IS NOT NULL"),
                     1);

    /* the same reads on the copy (each read appends its own audit record) */
    char *after = views(f->st, pa);
    char *again = views(src.st, pa);
    assert_string_equal(after, again);
    assert_string_equal(before, again);
    free(before);
    free(after);
    free(again);

    /* the target gives new ids past the copied ones, and the chain goes on */
    int64_t max_p = 0;
    for (int64_t id = 1; id < 10; id++) {
        vigil_patient p;
        if (vigil_store_patient_get(f->st, &FX_NURSE, id, &p, NULL) == VIGIL_OK) {
            max_p = id;
        }
    }
    int64_t pn = fx_patient(f, NHS_C, NULL, "new");
    assert_true(pn > max_p);
    vigil_obs_event ev;
    fx_event(&ev, NHS_C, "after-copy", T0 + 100 * MIN_MS);
    vigil_store_score sc = fx_score(&ev, T0 + 100 * MIN_MS);
    (void)fx_put(f, &ev, &sc);
    int64_t al = 0, ep = 0;
    vigil_store_page_req req = {
        .recipient = "nurse.jo", .channel = VIGIL_STORE_CHANNEL_WEB, .post = "ward step 0"};
    OK(vigil_store_episode_open_paged(f->st, &POLICY, pn, VIGIL_RESP_NURSE_ASSESS,
                                      VIGIL_STORE_TRIGGER_NEWS2, 0, 0, T0 + 101 * MIN_MS, &req, 1,
                                      &ep, &al, E));
    assert_true(fx_verify(f).ok);
    close_source(&src);
}

/* A target with any row is refused, and nothing is written to it. */
static void copy_refuses_a_target_that_is_not_empty(void **state)
{
    fx *f = *state;
    fx src;
    open_source(f, &src);
    (void)fill(&src);
    (void)fx_patient(f, NHS_C, NULL, "already here");
    int64_t audit = fx_audit_count(f);
    vigil_store_copy_report rep;
    vigil_err e = {0};
    assert_int_equal(vigil_store_copy(src.st, f->st, &rep, &e), VIGIL_ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "not empty"));
    assert_non_null(strstr(e.msg, "patient"));
    assert_int_equal(fx_count(f, "SELECT count(*) FROM patient"), 1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM app_user"), 0);
    assert_int_equal(fx_audit_count(f), audit);
    close_source(&src);
}

/* A source whose schema is not this vigil's (a table or a column it does not
 * know: a newer vigil, or a hand edit) is refused, naming it; the target
 * stays empty. */
static void copy_refuses_a_source_with_a_table_or_column_this_vigil_does_not_know(void **state)
{
    fx *f = *state;
    fx src;
    open_source(f, &src);
    (void)fill(&src);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(src.path, &db), SQLITE_OK);
    assert_int_equal(fx_exec(db, "CREATE TABLE ward_note (id INTEGER PRIMARY KEY, note TEXT)"),
                     SQLITE_OK);
    vigil_store_copy_report rep;
    vigil_err e = {0};
    assert_int_equal(vigil_store_copy(src.st, f->st, &rep, &e), VIGIL_ERR_MISMATCH);
    assert_non_null(strstr(e.msg, "ward_note"));
    assert_int_equal(fx_exec(db, "DROP TABLE ward_note"), SQLITE_OK);
    assert_int_equal(fx_exec(db, "ALTER TABLE patient ADD COLUMN ward_note TEXT"), SQLITE_OK);
    assert_int_equal(vigil_store_copy(src.st, f->st, &rep, &e), VIGIL_ERR_MISMATCH);
    assert_non_null(strstr(e.msg, "patient"));
    assert_non_null(strstr(e.msg, "ward_note"));
    /* a file at an older schema version does not open read-only at all */
    assert_int_equal(fx_exec(db, "ALTER TABLE patient DROP COLUMN ward_note"), SQLITE_OK);
    assert_int_equal(fx_exec(db, "PRAGMA user_version = 10"), SQLITE_OK);
    sqlite3_close(db);
    vigil_store *ro = NULL;
    assert_int_equal(vigil_store_open(src.uri, VIGIL_STORE_READONLY, &ro, &e), VIGIL_ERR_MISMATCH);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM patient"), 0);
    assert_int_equal(fx_audit_count(f), 0);
    close_source(&src);
}

/* Run one SQL statement on the case's store directly (SQLite or PostgreSQL). */
static void raw_exec(const fx *f, const char *sql)
{
#ifdef VIGIL_TEST_HAVE_PG
    if (fx_is_pg(f)) {
        PGconn *c = PQconnectdb(f->uri);
        assert_int_equal(PQstatus(c), CONNECTION_OK);
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            fail_msg("%s: %s", sql, PQresultErrorMessage(r));
        }
        PQclear(r);
        PQfinish(c);
        return;
    }
#endif
    sqlite3 *db = fx_raw(f);
    assert_int_equal(fx_exec(db, sql), SQLITE_OK);
    sqlite3_close(db);
}

/* The rows read back inside the copy's transaction are compared with the
 * source's before the commit: a target that stores something else (here a
 * trigger of its own changes each patient's name) is rolled back whole,
 * naming the table. */
static void copy_whose_rows_read_back_differ_is_rolled_back_naming_the_table(void **state)
{
    fx *f = *state;
    if (!fx_is_pg(f) && !fx_is_sqlite(f)) {
        fprintf(stderr, "skipped: needs raw access to the store (%s)\n", f->uri);
        skip();
    }
    fx src;
    open_source(f, &src);
    (void)fill(&src);
    raw_exec(f, fx_is_pg(f) ? "CREATE FUNCTION renamed() RETURNS trigger LANGUAGE plpgsql AS $$ "
                              "BEGIN UPDATE patient SET name = name || '!' WHERE id = NEW.id; "
                              "RETURN NULL; END $$; CREATE TRIGGER renamed AFTER INSERT ON patient "
                              "FOR EACH ROW EXECUTE FUNCTION renamed()"
                            : "CREATE TRIGGER renamed AFTER INSERT ON patient BEGIN UPDATE patient "
                              "SET name = name || '!' WHERE id = NEW.id; END");
    vigil_store_copy_report rep;
    vigil_err e = {0};
    assert_int_equal(vigil_store_copy(src.st, f->st, &rep, &e), VIGIL_ERR_MISMATCH);
    assert_string_equal(rep.mismatch, "patient");
    assert_non_null(strstr(e.msg, "patient"));
    for (size_t i = 0; i < rep.n_tables; i++) {
        assert_int_equal(rep.tables[i].same, strcmp(rep.tables[i].name, "patient") != 0);
    }
    assert_int_equal(fx_count(f, "SELECT count(*) FROM patient"), 0);
    assert_int_equal(fx_audit_count(f), 0);
    close_source(&src);
}

/* REQ STORE-AUDIT-ROW-CONTENT on the copy: the row digests made on SQLite
 * recompute the same on the target (a Fahrenheit-converted temperature
 * included), and a copied set's vital edited afterwards fails verify at
 * that set's obs.put record. */
static void edited_copied_set_fails_verify_at_its_record(void **state)
{
    fx *f = *state;
    if (!fx_is_pg(f) && !fx_is_sqlite(f)) {
        fprintf(stderr, "skipped: needs raw access to the store (%s)\n", f->uri);
        skip();
    }
    fx src;
    open_source(f, &src);
    int64_t set = fill(&src);
    vigil_store_copy_report rep;
    copy(&src, f, &rep);
    assert_true(fx_verify(f).ok);
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE obs_set SET hr_bpm = 91 WHERE id = %lld", (long long)set);
    raw_exec(f, sql);
    vigil_audit_report r = fx_verify(f);
    assert_false(r.ok);
    assert_int_equal(r.problem, VIGIL_AUDIT_ROW);
    vigil_audit_record rec;
    size_t n = 0;
    OK(vigil_audit_read(f->st, &ADMIN, r.bad_seq, &rec, 1, &n, E));
    assert_int_equal(n, 1);
    assert_string_equal(rec.action, "obs.put");
    assert_int_equal(rec.entity_id, set);
    close_source(&src);
}

/* clang-format off */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(copy_keeps_every_table_its_ids_and_a_chain_that_verifies, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(copy_refuses_a_target_that_is_not_empty, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(copy_refuses_a_source_with_a_table_or_column_this_vigil_does_not_know, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(copy_whose_rows_read_back_differ_is_rolled_back_naming_the_table, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(edited_copied_set_fails_verify_at_its_record, fx_setup, fx_teardown),
};
/* clang-format on */

VIGIL_TEST_MAIN(tests)
