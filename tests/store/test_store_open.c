/* test_store_open.c: opening a store: pragmas, schema migrations keyed by
 * user_version, refusing newer or foreign databases, backends by URI. */
#include "store/sqlite/sqlite_int.h"
#include "store_fixture.h"

/* PRAGMA user_version of the file, read by a raw connection. */
static int64_t fx_user_version(const fx *f)
{
    sqlite3 *db = fx_raw(f);
    int64_t v = fx_int(db, "PRAGMA user_version");
    sqlite3_close(db);
    return v;
}

static void store_open_creates_schema_at_current_version_in_wal_mode(void **state)
{
    fx *f = *state;
    sqlite3 *db = fx_raw(f);
    assert_int_equal(fx_int(db, "PRAGMA user_version"), VIGIL_STORE_SCHEMA_VERSION);
    assert_int_equal(fx_int(db, "PRAGMA application_id"), SQ_APPLICATION_ID);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                                "name IN ('patient', 'obs_set', 'score', 'audit', 'app_user')"),
                     5);
    sqlite3_close(db);
    assert_string_equal(vigil_store_backend_name(f->st), "sqlite");
}

static void
store_connection_syncs_fully_with_foreign_keys_busy_timeout_and_memory_temp(void **state)
{
    fx *f = *state;
    sqlite3 *db = vigil__sqlite_db(f->st);
    assert_non_null(db);
    assert_int_equal(fx_int(db, "PRAGMA synchronous"), 2); /* FULL */
    assert_int_equal(fx_int(db, "PRAGMA foreign_keys"), 1);
    assert_int_equal(fx_int(db, "PRAGMA busy_timeout"), 5000);
    assert_int_equal(fx_int(db, "PRAGMA temp_store"), 2); /* MEMORY */
}

static void store_refuses_a_database_newer_than_the_code(void **state)
{
    fx *f = *state;
    vigil_store_close(f->st);
    f->st = NULL;
    sqlite3 *db = fx_raw(f);
    assert_int_equal(fx_exec(db, "PRAGMA user_version = 99"), SQLITE_OK);
    sqlite3_close(db);
    vigil_err e = {0};
    assert_int_equal(vigil_store_open(f->path, 0, &f->st, &e), VIGIL_ERR_MISMATCH);
    assert_null(f->st);
    assert_non_null(strstr(e.msg, "newer"));
    /* and nothing was changed */
    assert_int_equal(fx_user_version(f), 99);
    db = fx_raw(f);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", VIGIL_STORE_SCHEMA_VERSION);
    assert_int_equal(fx_exec(db, sql), SQLITE_OK);
    sqlite3_close(db);
    fx_reopen(f);
}

static void store_refuses_an_sqlite_file_that_is_not_a_vigil_store(void **state)
{
    fx *f = *state;
    char other[400];
    snprintf(other, sizeof other, "%s/other.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
    assert_int_equal(fx_exec(db, "CREATE TABLE accounts (id INTEGER PRIMARY KEY)"), SQLITE_OK);
    sqlite3_close(db);
    vigil_store *st = NULL;
    vigil_err e = {0};
    assert_int_equal(vigil_store_open(other, 0, &st, &e), VIGIL_ERR_MISMATCH);
    assert_non_null(strstr(e.msg, "not a vigil store"));
    assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM sqlite_schema"), 1); /* untouched */
    sqlite3_close(db);
    unlink(other);
}

static void failed_migration_leaves_the_database_at_the_version_before_it(void **state)
{
    fx *f = *state;
    char path[400];
    snprintf(path, sizeof path, "%s/mig.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    const char *steps[] = {
        "PRAGMA application_id = 1447642956; CREATE TABLE a (x INTEGER);",
        "CREATE TABLE b (y INTEGER); INSERT INTO a VALUES (1); SELECT no_such_function();",
    };
    vigil_err e = {0};
    assert_int_equal(vigil__sqlite_migrate(db, steps, 2, &e), VIGIL_ERR_INTERNAL);
    assert_non_null(strstr(e.msg, "version 2"));
    assert_non_null(strstr(e.msg, "no_such_function"));
    assert_int_equal(fx_int(db, "PRAGMA user_version"), 1);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'b'"), 0);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM a"), 0); /* step 2's insert undone */
    /* a fixed step 2 then applies, and running again is a no-op */
    steps[1] = "CREATE TABLE b (y INTEGER); INSERT INTO a VALUES (1);";
    assert_int_equal(vigil__sqlite_migrate(db, steps, 2, &e), VIGIL_OK);
    assert_int_equal(vigil__sqlite_migrate(db, steps, 2, &e), VIGIL_OK);
    assert_int_equal(fx_int(db, "PRAGMA user_version"), 2);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM a"), 1);
    sqlite3_close(db);
    unlink(path);
}

static void reopening_keeps_data_and_does_not_migrate_again(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(1001, nhs);
    vigil_obs_event ev;
    fx_event(&ev, nhs, "MSG-1", T0);
    int64_t id = fx_put(f, &ev, NULL);
    int64_t n_schema = fx_count(f, "SELECT count(*) FROM sqlite_schema");
    fx_reopen(f);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM sqlite_schema"), n_schema);
    assert_int_equal(fx_user_version(f), VIGIL_STORE_SCHEMA_VERSION);
    vigil_store_put out;
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, NULL, &out, NULL), VIGIL_OK);
    assert_true(out.duplicate);
    assert_int_equal(out.obs_id, id);
}

/* Migration 2 rebuilds obs_set, score, episode and alert with OR-chain checks
 * (sq_schema.c): a version-1 store with data keeps every row, id, link and
 * index, and the rebuilt constraints refuse what the old ones refused. */
/* A store file at an old schema version (the first `version` migrations),
 * holding `rows` (SQL), beside the fixture's store; its path in path. */
static void old_store(const fx *f, int version, const char *rows, char *path, size_t cap)
{
    snprintf(path, cap, "%s/v%d.db", f->dir, version);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    vigil_err e = {0};
    assert_int_equal(vigil__sqlite_migrate(db, vigil__sqlite_migrations, version, &e), VIGIL_OK);
    assert_int_equal(fx_exec(db, "PRAGMA foreign_keys = ON"), SQLITE_OK);
    assert_int_equal(fx_exec(db, rows), SQLITE_OK);
    sqlite3_close(db);
}

static void remove_store(const char *path)
{
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[420];
        snprintf(p, sizeof p, "%s%s", path, sfx[i]);
        unlink(p);
    }
}

/* Migration 4: a plan recorded before it keeps its row and shows as active
 * but without terms (so the server shows it and does not apply it); a new
 * plan's terms are checked by the schema too. */
static void version_3_plan_migrates_without_terms(void **state)
{
    fx *f = *state;
    char path[400];
    old_store(f, 3,
              "INSERT INTO patient (id, nhs_number, created_ms) VALUES (7, '9990000018', 1);"
              "INSERT INTO app_user (id, username, display_name, role, password_hash, created_ms)"
              " VALUES (1, 'dr.patel', 'Dr Patel', 'doctor', '$argon2id$v=19$x', 1);"
              "INSERT INTO escalation_plan (id, patient_id, made_ms, made_by, reason, plan,"
              " review_ms, expires_ms) VALUES (5, 7, 1000, 'dr.patel', 'COPD, usual SpO2 88-92',"
              " 'as charted', 100000, 200000);",
              path, sizeof path);
    vigil_store *st = NULL;
    vigil_err e = {0};
    assert_int_equal(vigil_store_open(path, 0, &st, &e), VIGIL_OK);
    sqlite3 *db = vigil__sqlite_db(st);
    assert_int_equal(fx_int(db, "PRAGMA user_version"), VIGIL_STORE_SCHEMA_VERSION);
    vigil_store_patient_state s;
    assert_int_equal(vigil_store_patient_state_get(st, &FX_NURSE, 7, 2000, &s, &e), VIGIL_OK);
    assert_true(s.plan_active);
    assert_int_equal(s.plan_id, 5);
    assert_false(s.plan_has_terms);
    assert_string_equal(s.plan_by, "dr.patel");
    assert_int_not_equal(fx_exec(db, "UPDATE escalation_plan SET level = 'lenient' WHERE id = 5"),
                         SQLITE_OK);
    assert_int_not_equal(
        fx_exec(db, "UPDATE escalation_plan SET news2_usual_max = 21 WHERE id = 5"), SQLITE_OK);
    vigil_store_close(st);
    remove_store(path);
}

/* Migration 5 (REQ HL7-RESEND-KEY): rows stored before it keep their sets and
 * have sender ''; a resend as it was sent before (sender '') is still found;
 * another sender's message with the same control id is a new set. */
static void version_4_obs_migrate_and_resends_are_keyed_by_sender(void **state)
{
    fx *f = *state;
    char path[400];
    old_store(f, 4,
              "INSERT INTO patient (id, nhs_number, created_ms) VALUES (7, '9990000018', 1);"
              "INSERT INTO obs_set (id, patient_id, t_ms, hr_bpm, spo2_scale, source, source_id,"
              " received_ms) VALUES (11, 7, 1735689600000, 80, 1, 'hl7', 'M-11', 101);",
              path, sizeof path);
    vigil_store *st = NULL;
    vigil_err e = {0};
    assert_int_equal(vigil_store_open(path, 0, &st, &e), VIGIL_OK);
    sqlite3 *db = vigil__sqlite_db(st);
    assert_int_equal(fx_int(db, "PRAGMA user_version"), VIGIL_STORE_SCHEMA_VERSION);
    assert_int_equal(
        fx_int(db, "SELECT count(*) FROM obs_set WHERE id = 11 AND source_sender = ''"), 1);
    vigil_obs_event ev;
    fx_event(&ev, "9990000018", "M-11", 1735689600000LL);
    vigil_obs_init(&ev.obs);
    ev.obs.hr_bpm = 80;
    vigil_store_put a, b;
    assert_int_equal(vigil_store_put_obs(st, &FX_FEED, &ev, NULL, &a, &e), VIGIL_OK);
    assert_true(a.duplicate);
    assert_int_equal(a.obs_id, 11);
    snprintf(ev.sender, sizeof ev.sender, "EOBS|RX1");
    assert_int_equal(vigil_store_put_obs(st, &FX_FEED, &ev, NULL, &b, &e), VIGIL_OK);
    assert_false(b.duplicate);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM obs_set WHERE source_id = 'M-11'"), 2);
    assert_int_not_equal(fx_exec(db, "UPDATE obs_set SET source_sender = NULL WHERE id = 11"),
                         SQLITE_OK);
    vigil_store_close(st);
    remove_store(path);
}

/* Migration 8 (issue 16): a store with an open alert from before it opens,
 * the alert's repeat can queue a page, and the new tables refuse what they
 * should. */
static void version_5_store_migrates_and_its_open_alert_can_be_paged(void **state)
{
    fx *f = *state;
    char path[400];
    old_store(f, 5,
              "INSERT INTO patient (id, nhs_number, created_ms) VALUES (7, '9990000018', 1);"
              "INSERT INTO episode (id, patient_id, level, trigger, opened_ms, opened_by)"
              " VALUES (3, 7, 'emergency', 'news2', 1000, 'vigil');"
              "INSERT INTO alert (id, episode_id, level, raised_ms) VALUES (4, 3, 'emergency', "
              "1000);",
              path, sizeof path);
    vigil_store *st = NULL;
    vigil_err e = {0};
    assert_int_equal(vigil_store_open(path, 0, &st, &e), VIGIL_OK);
    sqlite3 *db = vigil__sqlite_db(st);
    assert_int_equal(fx_int(db, "PRAGMA user_version"), VIGIL_STORE_SCHEMA_VERSION);
    vigil_actor pol = {"vigil", "escalation policy"};
    vigil_store_page_req req = {.recipient = "out.1", .channel = VIGIL_STORE_CHANNEL_WEBHOOK,
                                .post = "emergency step 1", .rota_step = 1};
    assert_int_equal(
        vigil_store_alert_repeat_paged(st, &pol, 4, 2000, 1, "senior", &req, 1, &e), VIGIL_OK);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM page WHERE alert_id = 4 AND ward = '' "
                                "AND state = 'pending'"),
                     1);
    assert_int_not_equal(fx_exec(db, "UPDATE page SET state = 'sent'"), SQLITE_OK);
    assert_int_not_equal(fx_exec(db, "UPDATE page SET recipient = NULL"), SQLITE_OK);
    vigil_store_close(st);
    remove_store(path);
}

/* set_rows callback: the sex of the last row seen. */
static vigil_status last_sex(void *ctx, const vigil_store_set_row *row, vigil_err *err)
{
    (void)err;
    *(vigil_admin_sex *)ctx = row->sex;
    return VIGIL_OK;
}

/* Migration 10 (issue 14): a patient stored before it has no sex (''); the
 * latest stated sex is kept (REQ STORE-SEX-LATEST: unknown does not erase a
 * stated one, NONE changes nothing); an observation event carries it to its
 * patient; the monitoring rows read it; the schema refuses other text; the
 * date-range index exists. */
static void version_9_patient_migrates_without_sex_and_keeps_the_latest_stated(void **state)
{
    fx *f = *state;
    char path[400];
    old_store(f, 9,
              "INSERT INTO patient (id, nhs_number, created_ms) VALUES (7, '9990000018', 1);"
              "INSERT INTO admission (id, patient_id, admitted_ms) VALUES (3, 7, 1);",
              path, sizeof path);
    vigil_store *st = NULL;
    vigil_err e = {0};
    assert_int_equal(vigil_store_open(path, 0, &st, &e), VIGIL_OK);
    sqlite3 *db = vigil__sqlite_db(st);
    assert_int_equal(fx_int(db, "PRAGMA user_version"), VIGIL_STORE_SCHEMA_VERSION);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM patient WHERE id = 7 AND sex = ''"), 1);
    assert_int_equal(
        fx_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'obs_set_t'"),
        1);
    vigil_patient p;
    assert_int_equal(vigil_store_patient_get(st, &FX_NURSE, 7, &p, &e), VIGIL_OK);
    assert_int_equal(p.sex, VIGIL_ADMIN_SEX_NONE);

    vigil_obs_event ev;
    fx_event(&ev, "9990000018", "M-1", 1735689600000LL);
    ev.sex = VIGIL_ADMIN_SEX_FEMALE;
    vigil_store_put out;
    assert_int_equal(vigil_store_put_obs(st, &FX_FEED, &ev, NULL, &out, &e), VIGIL_OK);
    assert_int_equal(out.patient_id, 7);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM patient WHERE id = 7 AND sex = 'female'"),
                     1);
    vigil_admin_sex seen = VIGIL_ADMIN_SEX_NONE;
    assert_int_equal(vigil_store_set_rows(st, 0, INT64_MAX, last_sex, &seen, &e), VIGIL_OK);
    assert_int_equal(seen, VIGIL_ADMIN_SEX_FEMALE);

    vigil_patient want;
    memset(&want, 0, sizeof want);
    memcpy(want.nhs_number, "9990000018", 11);
    int64_t id = 0;
    want.sex = VIGIL_ADMIN_SEX_UNKNOWN; /* does not erase female */
    assert_int_equal(vigil_store_patient_ensure(st, &FX_FEED, &want, &id, &e), VIGIL_OK);
    want.sex = VIGIL_ADMIN_SEX_NONE;
    assert_int_equal(vigil_store_patient_ensure(st, &FX_FEED, &want, &id, &e), VIGIL_OK);
    assert_int_equal(vigil_store_patient_get(st, &FX_NURSE, 7, &p, &e), VIGIL_OK);
    assert_int_equal(p.sex, VIGIL_ADMIN_SEX_FEMALE);
    want.sex = VIGIL_ADMIN_SEX_MALE; /* a stated change is kept, and audited */
    assert_int_equal(vigil_store_patient_ensure(st, &FX_FEED, &want, &id, &e), VIGIL_OK);
    assert_int_equal(vigil_store_patient_get(st, &FX_NURSE, 7, &p, &e), VIGIL_OK);
    assert_int_equal(p.sex, VIGIL_ADMIN_SEX_MALE);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM audit WHERE action = 'patient.update' "
                                "AND patient_id = 7 AND detail LIKE '% sex'"),
                     2);
    want.sex = (vigil_admin_sex)VIGIL_ADMIN_SEX_COUNT;
    assert_int_equal(vigil_store_patient_ensure(st, &FX_FEED, &want, &id, &e), VIGIL_ERR_ARG);
    assert_int_not_equal(fx_exec(db, "UPDATE patient SET sex = 'F' WHERE id = 7"), SQLITE_OK);
    vigil_store_close(st);
    remove_store(path);
}

/* Migration 11 (issue 15): a version-10 store keeps its rows and gains an
 * empty secret table; the first vigil_store_secret_ensure stores its
 * candidate. */
static void version_10_store_migrates_and_gains_an_empty_secret_table(void **state)
{
    fx *f = *state;
    char path[400];
    old_store(f, 10, "INSERT INTO patient (id, nhs_number, created_ms) VALUES (7, '9990000018', 1);",
              path, sizeof path);
    vigil_store *st = NULL;
    vigil_err e = {0};
    assert_int_equal(vigil_store_open(path, 0, &st, &e), VIGIL_OK);
    sqlite3 *db = vigil__sqlite_db(st);
    assert_int_equal(fx_int(db, "PRAGMA user_version"), VIGIL_STORE_SCHEMA_VERSION);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM secret"), 0);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM patient WHERE id = 7"), 1);
    uint8_t k[32], out[32];
    memset(k, 9, sizeof k);
    assert_int_equal(vigil_store_secret_ensure(st, "bedside-code-key", k, sizeof k, out, &e),
                     VIGIL_OK);
    assert_memory_equal(out, k, sizeof k);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM secret WHERE length(value) = 32"), 1);
    vigil_store_close(st);
    remove_store(path);
}

/* Migration 12 (issue 15): a version-11 store keeps its users and gains an
 * empty session table, whose rows keep only a 32-byte hash. */
static void version_11_store_migrates_and_gains_an_empty_session_table(void **state)
{
    fx *f = *state;
    char path[400];
    old_store(f, 11,
              "INSERT INTO app_user (id, username, display_name, role, password_hash, created_ms) "
              "VALUES (3, 'nurse.jo', 'Jo', 'nurse', '$argon2id$x', 1);"
              "INSERT INTO user_ward (user_id, ward) VALUES (3, 'WARD7B');",
              path, sizeof path);
    vigil_store *st = NULL;
    vigil_err e = {0};
    assert_int_equal(vigil_store_open(path, 0, &st, &e), VIGIL_OK);
    sqlite3 *db = vigil__sqlite_db(st);
    assert_int_equal(fx_int(db, "PRAGMA user_version"), VIGIL_STORE_SCHEMA_VERSION);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM session"), 0);
    vigil_store_session_rules r = {.idle_ms = 60000, .max_ms = 3600000, .per_user = 8, .total = 8};
    uint8_t h[VIGIL_STORE_SESSION_HASH_LEN];
    memset(h, 5, sizeof h);
    assert_int_equal(vigil_store_session_new(st, h, "nurse.jo", 1735725600000, &r, &e), VIGIL_OK);
    vigil_store_user u;
    assert_int_equal(vigil_store_session_get(st, h, 1735725601000, &r, &u, &e), VIGIL_OK);
    assert_string_equal(u.wards[0], "WARD7B");
    assert_int_not_equal(sqlite3_exec(db, "INSERT INTO session VALUES (x'00', 3, 1, 1)", NULL, NULL,
                                      NULL),
                         SQLITE_OK); /* a hash is 32 bytes */
    vigil_store_close(st);
    remove_store(path);
}

static void version_1_store_migrates_keeping_rows_links_and_constraints(void **state)
{
    fx *f = *state;
    char path[400];
    vigil_err e = {0};
    const char *rows =
        "INSERT INTO patient (id, nhs_number, created_ms) VALUES (7, '9990000018', 1);"
        "INSERT INTO admission (id, patient_id, admitted_ms) VALUES (3, 7, 1);"
        "INSERT INTO obs_set (id, patient_id, admission_id, t_ms, rr_bpm, spo2_pct, spo2_scale, o2,"
        " sbp_mmhg, hr_bpm, acvpu, temp_c, source, source_id, received_ms) VALUES"
        " (11, 7, 3, 100, 22, 95, 1, 'air', 105, 95, 'A', 38.5, 'hl7', 'M-11', 101),"
        " (12, 7, 3, 200, 26, 91, 1, 'oxygen', 95, 125, 'C', 39.2, 'api', NULL, 201);"
        "INSERT INTO score (id, obs_set_id, scored_ms, news2_total, complete, risk, monitoring,"
        " response, flags, spo2_scale, ai_risk, ai_prob, model_version) VALUES"
        " (21, 11, 102, 5, 1, 'medium', 'hourly', 'urgent-ward', 0, 1, -1.0, 0.2, 'm@1'),"
        " (22, 12, 202, 13, 1, 'high', 'continuous', 'emergency', 0, 1, NULL, NULL, NULL);"
        "INSERT INTO episode (id, patient_id, level, trigger, opened_ms, opened_by) VALUES"
        " (31, 7, 'urgent-ward', 'news2', 102, 'vigil'), (32, 7, 'emergency', 'news2', 202, "
        "'vigil');"
        "UPDATE episode SET closed_ms = 202, closed_by = 'vigil', close_reason = 'superseded',"
        " superseded_by = 32 WHERE id = 31;"
        "INSERT INTO alert (id, episode_id, level, raised_ms) VALUES (41, 31, 'urgent-ward', 102),"
        " (42, 32, 'emergency', 202);"
        "INSERT INTO alert_repeat (alert_id, t_ms, rota_step, notified, recorded_by)"
        " VALUES (42, 300, 1, 'outreach', 'vigil');";
    old_store(f, 1, rows, path, sizeof path);

    vigil_store *st = NULL;
    assert_int_equal(vigil_store_open(path, 0, &st, &e), VIGIL_OK);
    sqlite3 *db = vigil__sqlite_db(st);
    assert_int_equal(fx_int(db, "PRAGMA user_version"), VIGIL_STORE_SCHEMA_VERSION);
    assert_int_equal(fx_int(db, "PRAGMA foreign_keys"), 1);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM sqlite_schema WHERE name LIKE '%_v2'"), 0);
    /* migration 3: the AI's low-confidence flag, NULL for the rows before it */
    assert_int_equal(fx_int(db, "SELECT count(*) FROM score WHERE ai_low_confidence IS NULL"), 2);
    assert_int_not_equal(fx_exec(db, "UPDATE score SET ai_low_confidence = 2 WHERE id = 21"),
                         SQLITE_OK);
    /* the rows, their ids and links */
    assert_int_equal(fx_int(db, "SELECT sum(id) FROM obs_set"), 23);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM score s JOIN obs_set o ON o.id = s.obs_set_id"
                                " WHERE o.patient_id = 7"),
                     2);
    assert_int_equal(fx_int(db, "SELECT superseded_by FROM episode WHERE id = 31"), 32);
    assert_int_equal(fx_int(db, "SELECT count(*) FROM alert a JOIN alert_repeat r ON r.alert_id ="
                                " a.id JOIN episode e ON e.id = a.episode_id"),
                     1);
    /* the indexes are back under their names */
    assert_int_equal(fx_int(db,
                            "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN"
                            " ('obs_set_source', 'obs_set_patient_t', 'episode_open')"),
                     3);
    /* no IN-list check is left on the rebuilt tables */
    assert_int_equal(fx_int(db, "SELECT count(*) FROM sqlite_schema WHERE name IN ('obs_set',"
                                " 'score', 'episode', 'alert') AND sql LIKE '% IN (%'"),
                     0);
    /* the constraints still refuse what they refused */
    const char *bad[] = {
        "UPDATE obs_set SET acvpu = 'X' WHERE id = 11",
        "UPDATE obs_set SET o2 = 'nasal' WHERE id = 11",
        "UPDATE obs_set SET spo2_scale = 3 WHERE id = 11",
        "UPDATE obs_set SET source = 'email' WHERE id = 11",
        "UPDATE obs_set SET pregnant = 2 WHERE id = 11",
        "UPDATE score SET risk = 'severe' WHERE id = 21",
        "UPDATE score SET monitoring = 'daily' WHERE id = 21",
        "UPDATE score SET response = 'none' WHERE id = 21",
        "UPDATE score SET sub_o2 = 1 WHERE id = 21",
        "UPDATE score SET complete = 2 WHERE id = 21",
        "UPDATE episode SET level = 'amber' WHERE id = 32",
        "UPDATE episode SET trigger = 'pager' WHERE id = 32",
        "UPDATE alert SET level = 'amber' WHERE id = 42",
        "INSERT INTO score (obs_set_id, scored_ms, news2_total, complete, risk, monitoring,"
        " response, flags, spo2_scale) VALUES (999, 1, 0, 1, 'low', '12-hourly', 'routine', 0, 1)",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = fx_exec(db, bad[i]);
        if ((rc & 0xff) != SQLITE_CONSTRAINT) {
            fail_msg("not refused (%d): %s", rc, bad[i]);
        }
    }
    assert_int_equal(fx_exec(db, "UPDATE obs_set SET acvpu = 'U', o2 = 'air', pregnant = 0"
                                 " WHERE id = 11"),
                     SQLITE_OK);
    /* and the store works on it: a resent message is recognised by the rebuilt index */
    vigil_obs_event ev;
    fx_event(&ev, "9990000018", "M-NEW", T0);
    vigil_store_put a, b;
    assert_int_equal(vigil_store_put_obs(st, &FX_FEED, &ev, NULL, &a, &e), VIGIL_OK);
    assert_int_equal(vigil_store_put_obs(st, &FX_FEED, &ev, NULL, &b, &e), VIGIL_OK);
    assert_true(b.duplicate);
    assert_int_equal(b.obs_id, a.obs_id);
    vigil_store_close(st);
    remove_store(path);
}

static void store_uri_for_a_backend_not_built_is_not_found(void **state)
{
    (void)state;
    vigil_store *st = NULL;
    vigil_err e = {0};
    /* a scheme no backend registers (postgresql:// opens the pg backend when built) */
    assert_int_equal(vigil_store_open("mysql://localhost/vigil", 0, &st, &e), VIGIL_ERR_NOT_FOUND);
    assert_null(st);
    assert_non_null(strstr(e.msg, "mysql"));
#ifndef VIGIL_TEST_HAVE_PG
    assert_int_equal(vigil_store_open("postgresql://localhost/vigil", 0, &st, &e),
                     VIGIL_ERR_NOT_FOUND);
    assert_null(st);
    assert_non_null(strstr(e.msg, "postgresql"));
#endif
    assert_int_equal(vigil_store_open("sqlite:", 0, &st, &e), VIGIL_ERR_ARG);
    assert_int_equal(vigil_store_open(NULL, 0, &st, &e), VIGIL_ERR_ARG);
}

static void store_open_failure_carries_the_sqlite_message(void **state)
{
    fx *f = *state;
    char path[400];
    snprintf(path, sizeof path, "%s/no/such/dir/ward.db", f->dir);
    vigil_store *st = NULL;
    vigil_err e = {0};
    assert_int_equal(vigil_store_open(path, 0, &st, &e), VIGIL_ERR_IO);
    assert_null(st);
    assert_non_null(strstr(e.msg, "unable to open database file"));
    assert_string_equal(e.field, "sqlite");
}

static void readonly_store_reads_but_refuses_writes_and_missing_files(void **state)
{
    fx *f = *state;
    vigil_store *ro = NULL;
    vigil_err e = {0};
    char missing[400];
    snprintf(missing, sizeof missing, "%s/missing.db", f->dir);
    assert_int_equal(vigil_store_open(missing, VIGIL_STORE_READONLY, &ro, &e), VIGIL_ERR_IO);
    assert_int_equal(access(missing, F_OK), -1); /* not created */
    assert_int_equal(vigil_store_open(f->path, VIGIL_STORE_READONLY, &ro, &e), VIGIL_OK);
    char nhs[11];
    fx_nhs(77, nhs);
    vigil_obs_event ev;
    fx_event(&ev, nhs, "RO-1", T0);
    vigil_store_put out;
    assert_int_equal(vigil_store_put_obs(ro, &FX_FEED, &ev, NULL, &out, &e), VIGIL_ERR_DENIED);
    vigil_audit_report rep;
    assert_int_equal(vigil_audit_verify(ro, &rep, &e), VIGIL_OK);
    assert_true(rep.ok);
    vigil_store_close(ro);
}

/* clang-format off */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(store_open_creates_schema_at_current_version_in_wal_mode,
                                    fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(store_connection_syncs_fully_with_foreign_keys_busy_timeout_and_memory_temp,
                                    fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(store_refuses_a_database_newer_than_the_code, fx_setup,
                                    fx_teardown),
    cmocka_unit_test_setup_teardown(store_refuses_an_sqlite_file_that_is_not_a_vigil_store,
                                    fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(failed_migration_leaves_the_database_at_the_version_before_it,
                                    fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(version_1_store_migrates_keeping_rows_links_and_constraints,
                                    fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(version_4_obs_migrate_and_resends_are_keyed_by_sender, fx_setup,
                                    fx_teardown),
    cmocka_unit_test_setup_teardown(version_3_plan_migrates_without_terms, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(version_5_store_migrates_and_its_open_alert_can_be_paged,
                                    fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(version_9_patient_migrates_without_sex_and_keeps_the_latest_stated,
                                    fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(version_10_store_migrates_and_gains_an_empty_secret_table,
                                    fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(version_11_store_migrates_and_gains_an_empty_session_table,
                                    fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(reopening_keeps_data_and_does_not_migrate_again, fx_setup,
                                    fx_teardown),
    cmocka_unit_test_setup_teardown(store_uri_for_a_backend_not_built_is_not_found, fx_setup,
                                    fx_teardown),
    cmocka_unit_test_setup_teardown(store_open_failure_carries_the_sqlite_message, fx_setup,
                                    fx_teardown),
    cmocka_unit_test_setup_teardown(readonly_store_reads_but_refuses_writes_and_missing_files,
                                    fx_setup, fx_teardown),
};
/* clang-format on */

VIGIL_TEST_MAIN(tests)
