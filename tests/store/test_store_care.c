/* test_store_care.c: admissions and the ward list; escalation episodes,
 * alerts and acknowledgements; concerns and Martha's Rule; opt-outs, Scale 2
 * decisions and revised escalation plans (../shared/spec/escalation.md). */
#include "store_fixture.h"

static void admission_moves_and_discharge_drive_the_ward_list(void **state)
{
    fx *f = *state;
    char n1[11], n2[11], n3[11];
    fx_nhs(3001, n1);
    fx_nhs(3002, n2);
    fx_nhs(3003, n3);
    int64_t p1 = fx_patient(f, n1, NULL, "Ann"), p2 = fx_patient(f, n2, NULL, "Bob"),
            p3 = fx_patient(f, n3, NULL, "Cy");
    int64_t a1 = 0, a2 = 0, a3 = 0, dup = 0;
    vigil_err e = {0};
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, p1, "7A", "03", T0, &a1, &e), VIGIL_OK);
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, p2, "7A", "01", T0, &a2, &e), VIGIL_OK);
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, p3, "7B", "01", T0, &a3, &e), VIGIL_OK);
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, p1, "7C", "", T0, &dup, &e),
                     VIGIL_ERR_CONFLICT);
    assert_int_equal(dup, 0);
    vigil_store_ward_list l;
    assert_int_equal(vigil_store_ward_list_get(f->st, &FX_NURSE, "7A", T0 + HOUR_MS, &l, &e),
                     VIGIL_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.rows[0].patient.id, p2); /* by bed */
    assert_string_equal(l.rows[0].bed, "01");
    assert_string_equal(l.rows[1].patient.name, "Ann");
    assert_int_equal(l.rows[1].admission_id, a1);
    assert_int_equal(l.rows[1].last_obs_id, 0);
    assert_false(l.rows[1].has_score);
    vigil_store_ward_list_fini(&l);
    assert_int_equal(vigil_store_move(f->st, &FX_NURSE, a1, "7B", "02", T0 + HOUR_MS, &e),
                     VIGIL_OK);
    assert_int_equal(vigil_store_discharge(f->st, &FX_NURSE, a2, T0 + HOUR_MS, &e), VIGIL_OK);
    assert_int_equal(vigil_store_move(f->st, &FX_NURSE, a2, "7B", "09", T0 + 2 * HOUR_MS, &e),
                     VIGIL_ERR_CONFLICT);
    assert_int_equal(vigil_store_ward_list_get(f->st, &FX_NURSE, "7A", T0 + HOUR_MS, &l, &e),
                     VIGIL_OK);
    assert_int_equal(l.n, 0);
    vigil_store_ward_list_fini(&l);
    assert_int_equal(vigil_store_ward_list_get(f->st, &FX_NURSE, "7B", T0 + HOUR_MS, &l, &e),
                     VIGIL_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.rows[1].patient.id, p1);
    assert_int_equal(l.rows[1].bed_since_ms, T0 + HOUR_MS);
    vigil_store_ward_list_fini(&l);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM bed_stay WHERE to_ms IS NULL"), 2);
    /* a move back in time would end a bed stay before it began */
    assert_int_equal(vigil_store_move(f->st, &FX_NURSE, a1, "7C", "1", T0, &e), VIGIL_ERR_ARG);
}

/* The unaudited ward lookup behind the server's ward scope check: the ward
 * of the open admission's open bed stay, empty when there is none, and no
 * audit record of its own. */
static void patient_ward_is_the_open_bed_stays_ward_and_writes_no_audit(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(3011, nhs);
    int64_t pid = fx_patient(f, nhs, NULL, "Eve");
    char ward[VIGIL_STORE_NAME_MAX + 1] = "x";
    vigil_err e = {0};
    assert_int_equal(vigil_store_patient_ward(f->st, pid, ward, &e), VIGIL_OK);
    assert_string_equal(ward, ""); /* never admitted */
    int64_t adm = 0;
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, pid, "7A", "04", T0, &adm, &e), VIGIL_OK);
    int64_t before = fx_audit_count(f);
    assert_int_equal(vigil_store_patient_ward(f->st, pid, ward, &e), VIGIL_OK);
    assert_string_equal(ward, "7A");
    assert_int_equal(fx_audit_count(f), before);
    assert_int_equal(vigil_store_move(f->st, &FX_NURSE, adm, "7B", "02", T0 + HOUR_MS, &e),
                     VIGIL_OK);
    assert_int_equal(vigil_store_patient_ward(f->st, pid, ward, &e), VIGIL_OK);
    assert_string_equal(ward, "7B");
    assert_int_equal(vigil_store_discharge(f->st, &FX_NURSE, adm, T0 + 2 * HOUR_MS, &e), VIGIL_OK);
    assert_int_equal(vigil_store_patient_ward(f->st, pid, ward, &e), VIGIL_OK);
    assert_string_equal(ward, "");
    assert_int_equal(vigil_store_patient_ward(f->st, pid + 1000, ward, &e), VIGIL_ERR_NOT_FOUND);
}

static void ward_list_shows_latest_score_due_inputs_and_patient_state(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(3004, nhs);
    int64_t pid = fx_patient(f, nhs, "W1", "Dee");
    int64_t adm = 0;
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, pid, "7A", "05", T0, &adm, NULL),
                     VIGIL_OK);
    vigil_obs_event ev;
    fx_event(&ev, nhs, "W-1", T0 + HOUR_MS);
    ev.obs.rr_bpm = 25; /* 3: urgent-ward response, hourly */
    vigil_store_score sc = fx_score(&ev, T0 + HOUR_MS);
    vigil_store_ai ai = {0.9, 0.31, NULL, "m2"};
    sc.ai = &ai;
    fx_put(f, &ev, &sc);
    fx_event(&ev, nhs, "W-2", T0 + 2 * HOUR_MS); /* later, not yet scored */
    fx_put(f, &ev, NULL);
    int64_t id = 0, ep = 0, al = 0;
    assert_int_equal(
        vigil_store_daily_answer(f->st, &FX_NURSE, pid, T0, VIGIL_STORE_FEEL_SAME, &id, NULL),
        VIGIL_OK);
    assert_int_equal(vigil_store_daily_answer(f->st, &FX_NURSE, pid, T0 + HOUR_MS,
                                              VIGIL_STORE_FEEL_WORSE, &id, NULL),
                     VIGIL_OK);
    assert_int_equal(
        vigil_store_ai_optout(f->st, &FX_NURSE, pid, T0, "does not want AI", &id, NULL), VIGIL_OK);
    assert_int_equal(vigil_store_episode_open(f->st, &FX_FEED, pid, VIGIL_RESP_URGENT_WARD,
                                              VIGIL_STORE_TRIGGER_NEWS2, 1, 0, T0 + HOUR_MS, &ep,
                                              &al, NULL),
                     VIGIL_OK);
    int64_t before = fx_count(f, "SELECT count(*) FROM audit WHERE action = 'ward.list'");
    vigil_store_ward_list l;
    assert_int_equal(vigil_store_ward_list_get(f->st, &FX_NURSE, "7A", T0 + 3 * HOUR_MS, &l, NULL),
                     VIGIL_OK);
    assert_int_equal(l.n, 1);
    const vigil_store_ward_entry *w = &l.rows[0];
    assert_int_equal(w->last_obs_ms, T0 + 2 * HOUR_MS);
    assert_true(w->has_score);
    assert_int_equal(w->score_obs_ms, T0 + HOUR_MS);
    assert_int_equal(w->news2.total, 3);
    assert_int_equal(w->news2.monitoring, VIGIL_MON_HOURLY);
    assert_true(w->news2.single_param_3);
    assert_true(w->has_ai && w->ai_prob == 0.31);
    assert_true(w->state.has_daily);
    assert_int_equal(w->state.daily, VIGIL_STORE_FEEL_WORSE);
    assert_true(w->state.ai_opted_out);
    assert_int_equal(w->state.open_level, VIGIL_RESP_URGENT_WARD);
    assert_int_equal(w->state.open_episode_id, ep);
    vigil_store_ward_list_fini(&l);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'ward.list'"),
                     before + 1);
}

/* REQ ESC-DECLINE-REASON */
static void declining_to_escalate_without_a_reason_is_refused(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(3005, nhs);
    int64_t pid = fx_patient(f, nhs, NULL, NULL);
    fx_user(f, "dr.patel", VIGIL_STORE_ROLE_DOCTOR);
    int64_t ep = 0, al = 0, ack = 0;
    assert_int_equal(vigil_store_episode_open(f->st, &FX_FEED, pid, VIGIL_RESP_URGENT,
                                              VIGIL_STORE_TRIGGER_NEWS2, 0, 0, T0, &ep, &al, NULL),
                     VIGIL_OK);
    vigil_err e = {0};
    assert_int_equal(vigil_store_alert_ack(f->st, &FX_DOCTOR, al, T0 + MIN_MS,
                                           VIGIL_STORE_ACK_DECLINED, NULL, &ack, &e),
                     VIGIL_ERR_ARG);
    assert_string_equal(e.field, "reason");
    assert_int_equal(vigil_store_alert_ack(f->st, &FX_DOCTOR, al, T0 + MIN_MS,
                                           VIGIL_STORE_ACK_DECLINED, "   ", &ack, &e),
                     VIGIL_ERR_ARG);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM ack"), 0);
    assert_int_equal(
        vigil_store_alert_ack(f->st, &FX_DOCTOR, al, T0 + MIN_MS, VIGIL_STORE_ACK_DECLINED,
                              "known COPD, reviewed at bedside, plan unchanged", &ack, &e),
        VIGIL_OK);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM ack WHERE action = 'declined' AND "
                                 "reason LIKE 'known COPD%' AND username = 'dr.patel'"),
                     1);
    /* the SQLite schema refuses it too (raw access: SQLite files only) */
    if (fx_is_sqlite(f)) {
        sqlite3 *db = fx_raw(f);
        char sql[200];
        snprintf(sql, sizeof sql,
                 "INSERT INTO ack (alert_id, username, t_ms, action, reason) "
                 "VALUES (%lld, 'dr.patel', 1, 'declined', ' ')",
                 (long long)al);
        assert_int_equal(fx_exec(db, sql), SQLITE_CONSTRAINT);
        sqlite3_close(db);
    }
}

static void acknowledgement_records_who_when_and_what_they_did(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(3006, nhs);
    int64_t pid = fx_patient(f, nhs, NULL, NULL);
    int64_t adm = 0;
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, pid, "7A", "2", T0, &adm, NULL), VIGIL_OK);
    fx_user(f, "nurse.jo", VIGIL_STORE_ROLE_NURSE);
    int64_t ep = 0, al = 0, ack = 0;
    assert_int_equal(vigil_store_episode_open(f->st, &FX_FEED, pid, VIGIL_RESP_NURSE_ASSESS,
                                              VIGIL_STORE_TRIGGER_NEWS2, 0, 0, T0, &ep, &al, NULL),
                     VIGIL_OK);
    assert_int_equal(
        vigil_store_alert_repeat(f->st, &FX_FEED, al, T0 + 30 * MIN_MS, 1, "nurse in charge", NULL),
        VIGIL_OK);
    assert_int_equal(vigil_store_alert_ack(f->st, &FX_NURSE, al, T0 + 35 * MIN_MS,
                                           VIGIL_STORE_ACK_ATTENDING, NULL, &ack, NULL),
                     VIGIL_OK);
    vigil_actor stranger = {"mallory", "curiosity"};
    vigil_err e = {0};
    assert_int_equal(vigil_store_alert_ack(f->st, &stranger, al, T0 + 36 * MIN_MS,
                                           VIGIL_STORE_ACK_REVIEWED, NULL, &ack, &e),
                     VIGIL_ERR_DENIED);
    vigil_store_episode_list l;
    assert_int_equal(vigil_store_episodes_open(f->st, &FX_NURSE, "7A", &l, NULL), VIGIL_OK);
    assert_int_equal(l.n, 1);
    const vigil_store_episode *x = &l.rows[0];
    assert_int_equal(x->id, ep);
    assert_int_equal(x->alert_id, al);
    assert_int_equal(x->level, VIGIL_RESP_NURSE_ASSESS);
    assert_int_equal(x->n_repeats, 1);
    assert_int_equal(x->rota_step, 1);
    assert_int_equal(x->last_repeat_ms, T0 + 30 * MIN_MS);
    assert_int_equal(x->n_acks, 1);
    assert_int_equal(x->last_ack_ms, T0 + 35 * MIN_MS);
    assert_int_equal(x->last_ack_action, VIGIL_STORE_ACK_ATTENDING);
    assert_string_equal(x->last_ack_by, "nurse.jo");
    assert_string_equal(x->ward, "7A");
    vigil_store_episode_list_fini(&l);
    assert_int_equal(vigil_store_episodes_open(f->st, &FX_NURSE, "7B", &l, NULL), VIGIL_OK);
    assert_int_equal(l.n, 0);
    vigil_store_episode_list_fini(&l);
}

/* The acknowledgement's rule is the store's (store.c), whatever the backend: an unknown user
 * and a disabled one are refused before anything is written (no acknowledgement, no audit
 * record), and an unknown user learns nothing of which alerts exist. */
static void acknowledgement_by_unknown_or_disabled_user_is_refused_and_writes_nothing(
    void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(3014, nhs);
    int64_t pid = fx_patient(f, nhs, NULL, NULL);
    int64_t adm = 0;
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, pid, "7A", "3", T0, &adm, NULL), VIGIL_OK);
    fx_user(f, "nurse.gone", VIGIL_STORE_ROLE_NURSE);
    vigil_actor admin = {"admin", "user management"};
    assert_int_equal(vigil_store_user_disable(f->st, &admin, "nurse.gone", T0, NULL, NULL), VIGIL_OK);
    int64_t ep = 0, al = 0, ack = 0;
    assert_int_equal(vigil_store_episode_open(f->st, &FX_FEED, pid, VIGIL_RESP_URGENT,
                                              VIGIL_STORE_TRIGGER_NEWS2, 0, 0, T0, &ep, &al, NULL),
                     VIGIL_OK);
    const vigil_actor gone = {"nurse.gone", "direct care"};
    const vigil_actor nobody = {"mallory", "direct care"};
    const vigil_actor *refused[] = {&gone, &nobody};
    int64_t seq_before = 0, seq_after = 0;
    uint8_t h[VIGIL_AUDIT_HASH_LEN];
    assert_int_equal(vigil_audit_head(f->st, &seq_before, h, NULL), VIGIL_OK);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        vigil_err e = {0};
        char want[160];
        snprintf(want, sizeof want,
                 "acknowledging an alert must be done by a registered clinician; '%s' is not one",
                 refused[i]->user);
        assert_int_equal(vigil_store_alert_ack(f->st, refused[i], al, T0 + MIN_MS,
                                               VIGIL_STORE_ACK_ATTENDING, NULL, &ack, &e),
                         VIGIL_ERR_DENIED);
        assert_string_equal(e.msg, want);
        assert_string_equal(e.field, "actor.user");
        /* an alert that does not exist: refused for who they are, not "no alert" */
        assert_int_equal(vigil_store_alert_ack(f->st, refused[i], al + 1000, T0 + MIN_MS,
                                               VIGIL_STORE_ACK_ATTENDING, NULL, &ack, &e),
                         VIGIL_ERR_DENIED);
    }
    assert_int_equal(vigil_audit_head(f->st, &seq_after, h, NULL), VIGIL_OK);
    assert_int_equal(seq_after, seq_before);
    vigil_store_episode_list l;
    assert_int_equal(vigil_store_episodes_open(f->st, &FX_NURSE, "7A", &l, NULL), VIGIL_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.rows[0].n_acks, 0);
    vigil_store_episode_list_fini(&l);
}

static void higher_level_opens_a_new_episode_and_closes_the_old(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(3007, nhs);
    int64_t pid = fx_patient(f, nhs, NULL, NULL);
    int64_t e1 = 0, a1 = 0, e2 = 0, a2 = 0;
    vigil_err e = {0};
    assert_int_equal(vigil_store_episode_open(f->st, &FX_FEED, pid, VIGIL_RESP_NURSE_ASSESS,
                                              VIGIL_STORE_TRIGGER_NEWS2, 0, 0, T0, &e1, &a1, &e),
                     VIGIL_OK);
    assert_int_equal(vigil_store_episode_open(f->st, &FX_FEED, pid, VIGIL_RESP_EMERGENCY,
                                              VIGIL_STORE_TRIGGER_MARTHAS_RULE, 5, e1, T0 + MIN_MS,
                                              &e2, &a2, &e),
                     VIGIL_OK);
    assert_true(a2 != a1);
    vigil_store_episode_list l;
    assert_int_equal(vigil_store_episodes_open(f->st, &FX_NURSE, NULL, &l, NULL), VIGIL_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.rows[0].id, e2);
    assert_int_equal(l.rows[0].trigger, VIGIL_STORE_TRIGGER_MARTHAS_RULE);
    assert_int_equal(l.rows[0].trigger_ref, 5);
    vigil_store_episode_list_fini(&l);
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM episode WHERE id = %lld AND superseded_by = %lld AND "
             "closed_ms IS NOT NULL AND close_reason LIKE 'superseded%%'",
             (long long)e1, (long long)e2);
    assert_int_equal(fx_count(f, sql), 1);
    /* closing needs a reason; a closed episode cannot be superseded or closed again */
    assert_int_equal(vigil_store_episode_close(f->st, &FX_NURSE, e2, T0 + HOUR_MS, "", &e),
                     VIGIL_ERR_ARG);
    assert_int_equal(vigil_store_episode_close(f->st, &FX_NURSE, e2, T0 + HOUR_MS,
                                               "transferred to critical care", &e),
                     VIGIL_OK);
    assert_int_equal(vigil_store_episode_close(f->st, &FX_NURSE, e2, T0 + HOUR_MS, "again", &e),
                     VIGIL_ERR_CONFLICT);
    int64_t e3 = 0, a3 = 0;
    assert_int_equal(vigil_store_episode_open(f->st, &FX_FEED, pid, VIGIL_RESP_URGENT,
                                              VIGIL_STORE_TRIGGER_AI, 0, e1, T0 + 2 * HOUR_MS, &e3,
                                              &a3, &e),
                     VIGIL_ERR_CONFLICT);
    assert_int_equal(vigil_store_episode_open(f->st, &FX_FEED, pid, VIGIL_RESP_ROUTINE,
                                              VIGIL_STORE_TRIGGER_AI, 0, 0, T0, &e3, &a3, &e),
                     VIGIL_ERR_ARG);
}

static void marthas_rule_log_is_append_only(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(3008, nhs);
    int64_t pid = fx_patient(f, nhs, NULL, NULL);
    int64_t adm = 0, call = 0, rev = 0;
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, pid, "7A", "4", T0, &adm, NULL), VIGIL_OK);
    vigil_store_marthas_call c = {pid,          VIGIL_STORE_CALLER_FAMILY,
                                  "daughter",   "phone",
                                  T0 + HOUR_MS, "Mum is not herself, she is confused"};
    assert_int_equal(vigil_store_marthas_call_add(f->st, &FX_NURSE, &c, &call, NULL), VIGIL_OK);
    vigil_store_marthas_review r = {call,
                                    "outreach nurse Lee",
                                    T0 + HOUR_MS + 25 * MIN_MS,
                                    VIGIL_STORE_MR_ACUTE_DETERIORATION,
                                    VIGIL_STORE_MR_CHANGE_IN_CARE,
                                    "sepsis screen started"};
    assert_int_equal(vigil_store_marthas_review_add(f->st, &FX_NURSE, &r, &rev, NULL), VIGIL_OK);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM marthas_call WHERE ward = '7A' AND "
                                 "caller = 'family' AND concern LIKE 'Mum is not herself%'"),
                     1);
    if (fx_is_sqlite(f)) { /* the SQLite schema's triggers, by raw SQL */
        sqlite3 *db = fx_raw(f);
        assert_int_equal(fx_exec(db, "UPDATE marthas_call SET concern = 'fine'"),
                         SQLITE_CONSTRAINT);
        assert_int_equal(fx_exec(db, "DELETE FROM marthas_call"), SQLITE_CONSTRAINT);
        assert_int_equal(fx_exec(db, "UPDATE marthas_review SET outcome = 'no-change'"),
                         SQLITE_CONSTRAINT);
        assert_int_equal(fx_exec(db, "DELETE FROM marthas_review"), SQLITE_CONSTRAINT);
        sqlite3_close(db);
    }
    assert_int_equal(fx_count(f, "SELECT count(*) FROM marthas_call"), 1);
    /* one review per call, never before the call */
    vigil_err e = {0};
    assert_int_equal(vigil_store_marthas_review_add(f->st, &FX_NURSE, &r, &rev, &e),
                     VIGIL_ERR_CONFLICT);
    int64_t call2 = 0;
    assert_int_equal(vigil_store_marthas_call_add(f->st, &FX_NURSE, &c, &call2, NULL), VIGIL_OK);
    r.call_id = call2;
    r.t_ms = T0;
    assert_int_equal(vigil_store_marthas_review_add(f->st, &FX_NURSE, &r, &rev, &e), VIGIL_ERR_ARG);
    c.concern = " ";
    assert_int_equal(vigil_store_marthas_call_add(f->st, &FX_NURSE, &c, &call2, &e), VIGIL_ERR_ARG);
}

static void marthas_rule_export_gives_csv_with_time_to_review_and_outcome(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(3009, nhs);
    int64_t pid = fx_patient(f, nhs, NULL, NULL);
    int64_t c1 = 0, c2 = 0, c3 = 0, rev = 0;
    vigil_store_marthas_call c = {pid,  VIGIL_STORE_CALLER_CARER,
                                  NULL, "in person",
                                  T0,   "=HYPERLINK(\"x\") he is \"not right\", breathing fast"};
    assert_int_equal(vigil_store_marthas_call_add(f->st, &FX_NURSE, &c, &c1, NULL), VIGIL_OK);
    c.caller = VIGIL_STORE_CALLER_PATIENT;
    c.t_ms = T0 + HOUR_MS;
    c.concern = "I feel worse";
    assert_int_equal(vigil_store_marthas_call_add(f->st, &FX_NURSE, &c, &c2, NULL), VIGIL_OK);
    c.t_ms = T0 + 40 * 24 * HOUR_MS; /* next month: outside the range */
    assert_int_equal(vigil_store_marthas_call_add(f->st, &FX_NURSE, &c, &c3, NULL), VIGIL_OK);
    vigil_store_marthas_review r = {
        c1,  "Dr Okafor", T0 + 90 * MIN_MS, VIGIL_STORE_MR_COMMUNICATION, VIGIL_STORE_MR_NO_CHANGE,
        NULL};
    assert_int_equal(vigil_store_marthas_review_add(f->st, &FX_NURSE, &r, &rev, NULL), VIGIL_OK);
    char *buf = NULL;
    size_t len = 0, n = 0;
    FILE *out = open_memstream(&buf, &len);
    vigil_actor so = {"safety.officer", "monthly Martha's Rule return"};
    assert_int_equal(
        vigil_store_marthas_export_csv(f->st, &so, T0, T0 + 30 * 24 * HOUR_MS, out, &n, NULL),
        VIGIL_OK);
    fclose(out);
    assert_int_equal(n, 2);
    assert_non_null(strstr(buf, "call_id,called_at,patient_id,nhs_number,ward,caller,"));
    char want[512];
    snprintf(want, sizeof want,
             "%lld,2025-01-01T10:00:00Z,%lld,%s,,carer,,in person,"
             "\"'=HYPERLINK(\"\"x\"\") he is \"\"not right\"\", breathing fast\",nurse.jo,"
             "Dr Okafor,2025-01-01T11:30:00Z,90.0,communication-coordination,no-change,\r\n",
             (long long)c1, (long long)pid, nhs);
    assert_non_null(strstr(buf, want));
    snprintf(
        want, sizeof want,
        "%lld,2025-01-01T11:00:00Z,%lld,%s,,patient,,in person,I feel worse,nurse.jo,,,,,,\r\n",
        (long long)c2, (long long)pid, nhs);
    assert_non_null(strstr(buf, want));
    free(buf);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'marthas.export' "
                                 "AND actor = 'safety.officer'"),
                     2);
}

static void ai_opt_out_and_its_withdrawal_record_who_and_when(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(3010, nhs);
    int64_t pid = fx_patient(f, nhs, NULL, NULL);
    int64_t id = 0, id2 = 0;
    vigil_err e = {0};
    assert_int_equal(vigil_store_ai_optout(f->st, &FX_NURSE, pid, T0, NULL, &id, &e), VIGIL_OK);
    assert_int_equal(vigil_store_ai_optout(f->st, &FX_NURSE, pid, T0 + 1, NULL, &id2, &e),
                     VIGIL_ERR_CONFLICT);
    vigil_store_patient_state s;
    assert_int_equal(vigil_store_patient_state_get(f->st, &FX_NURSE, pid, T0 + MIN_MS, &s, &e),
                     VIGIL_OK);
    assert_true(s.ai_opted_out);
    assert_int_equal(s.ai_optout_since_ms, T0);
    assert_int_equal(vigil_store_ai_optout_withdraw(f->st, &FX_DOCTOR, pid, T0 + HOUR_MS, &e),
                     VIGIL_OK);
    assert_int_equal(vigil_store_ai_optout_withdraw(f->st, &FX_DOCTOR, pid, T0 + HOUR_MS, &e),
                     VIGIL_ERR_NOT_FOUND);
    assert_int_equal(vigil_store_patient_state_get(f->st, &FX_NURSE, pid, T0 + 2 * HOUR_MS, &s, &e),
                     VIGIL_OK);
    assert_false(s.ai_opted_out);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM ai_optout WHERE recorded_by = 'nurse.jo' "
                                 "AND withdrawn_by = 'dr.patel' AND withdrawn_ms > from_ms"),
                     1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'state.read'"), 2);
}

/* REQ NEWS2-SCALE2-EXPLICIT */
static void scale2_decision_needs_a_doctor_and_a_reason(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(3011, nhs);
    int64_t pid = fx_patient(f, nhs, NULL, NULL);
    fx_user(f, "nurse.jo", VIGIL_STORE_ROLE_NURSE);
    fx_user(f, "dr.patel", VIGIL_STORE_ROLE_DOCTOR);
    int64_t id = 0;
    vigil_err e = {0};
    const char *why = "hypercapnic respiratory failure (COPD), target 88-92%";
    assert_int_equal(vigil_store_scale2_set(f->st, &FX_NURSE, pid, T0, why, &id, &e),
                     VIGIL_ERR_DENIED);
    assert_int_equal(vigil_store_scale2_set(f->st, &FX_DOCTOR, pid, T0, "", &id, &e),
                     VIGIL_ERR_ARG);
    assert_int_equal(vigil_store_scale2_set(f->st, &FX_DOCTOR, pid, T0, why, &id, &e), VIGIL_OK);
    assert_int_equal(vigil_store_scale2_set(f->st, &FX_DOCTOR, pid, T0, why, &id, &e),
                     VIGIL_ERR_CONFLICT);
    vigil_store_patient_state s;
    assert_int_equal(vigil_store_patient_state_get(f->st, &FX_NURSE, pid, T0 + 1, &s, &e),
                     VIGIL_OK);
    assert_true(s.scale2);
    assert_int_equal(vigil_store_scale2_end(f->st, &FX_DOCTOR, pid, T0 + HOUR_MS,
                                            "ABG normal, back to scale 1", &e),
                     VIGIL_OK);
    assert_int_equal(vigil_store_patient_state_get(f->st, &FX_NURSE, pid, T0 + 2 * HOUR_MS, &s, &e),
                     VIGIL_OK);
    assert_false(s.scale2);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM scale2_decision WHERE decided_by = "
                                 "'dr.patel' AND reason LIKE 'hypercapnic%' AND ended_ms IS NOT "
                                 "NULL"),
                     1);
}

/* REQ NEWS2-SCALE2-EXPLICIT: the doctor-only rule is the store's (store.c), whatever the
 * backend: an unknown user, a nurse and a disabled doctor are refused with the same words,
 * and nothing of a refused call is written, its audit record included. */
static void scale2_and_plans_refuse_unknown_nurse_and_disabled_doctor_and_write_nothing(
    void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(3013, nhs);
    int64_t pid = fx_patient(f, nhs, NULL, NULL);
    fx_user(f, "nurse.jo", VIGIL_STORE_ROLE_NURSE);
    fx_user(f, "dr.patel", VIGIL_STORE_ROLE_DOCTOR);
    fx_user(f, "dr.gone", VIGIL_STORE_ROLE_DOCTOR);
    vigil_actor admin = {"admin", "user management"};
    assert_int_equal(vigil_store_user_disable(f->st, &admin, "dr.gone", T0, NULL, NULL), VIGIL_OK);
    const vigil_actor gone = {"dr.gone", "direct care"};
    const vigil_actor nobody = {"dr.nobody", "direct care"};
    const vigil_actor *refused[] = {&FX_NURSE, &gone, &nobody};
    vigil_store_plan p = {pid,           T0, "usual HR 110-125", "HR up to 130 expected",
                          T0 + HOUR_MS, T0 + 2 * HOUR_MS, VIGIL_ESC_WARD, 4};
    int64_t id = 0, plan_id = 0;
    assert_int_equal(vigil_store_plan_add(f->st, &FX_DOCTOR, &p, &plan_id, NULL), VIGIL_OK);
    int64_t before = fx_audit_count(f);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        vigil_err e = {0};
        char want[160];
        snprintf(want, sizeof want,
                 "a Scale 2 decision must be done by a registered doctor; '%s' is not one",
                 refused[i]->user);
        assert_int_equal(vigil_store_scale2_set(f->st, refused[i], pid, T0, "COPD", &id, &e),
                         VIGIL_ERR_DENIED);
        assert_string_equal(e.msg, want);
        assert_string_equal(e.field, "actor.user");
        assert_int_equal(vigil_store_scale2_end(f->st, refused[i], pid, T0, "better", &e),
                         VIGIL_ERR_DENIED);
        assert_int_equal(vigil_store_plan_add(f->st, refused[i], &p, &id, &e), VIGIL_ERR_DENIED);
        assert_non_null(strstr(e.msg, "a revised escalation plan must be done by a registered"));
        assert_int_equal(vigil_store_plan_revoke(f->st, refused[i], plan_id, T0 + 1, "no", &e),
                         VIGIL_ERR_DENIED);
        assert_non_null(strstr(e.msg, "revoking an escalation plan must be done"));
    }
    assert_int_equal(fx_audit_count(f), before);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM scale2_decision"), 0);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM escalation_plan WHERE revoked_ms IS NULL"),
                     1);
}

/* REQ ESC-PLAN-EXPIRES */
static void revised_plan_needs_a_doctor_and_lapses_at_expiry(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(3012, nhs);
    int64_t pid = fx_patient(f, nhs, NULL, NULL);
    fx_user(f, "nurse.jo", VIGIL_STORE_ROLE_NURSE);
    fx_user(f, "dr.patel", VIGIL_STORE_ROLE_DOCTOR);
    vigil_store_plan p = {pid,
                          T0,
                          "chronic AF, usual HR 110-125",
                          "HR up to 130 expected; escalate anything else as usual",
                          T0 + 24 * HOUR_MS,
                          T0 + 72 * HOUR_MS,
                          VIGIL_ESC_WARD,
                          4};
    int64_t id = 0;
    vigil_err e = {0};
    assert_int_equal(vigil_store_plan_add(f->st, &FX_NURSE, &p, &id, &e), VIGIL_ERR_DENIED);
    p.news2_usual_max = 21;
    assert_int_equal(vigil_store_plan_add(f->st, &FX_DOCTOR, &p, &id, &e), VIGIL_ERR_ARG);
    p.news2_usual_max = 4;
    p.level = VIGIL_ESC_LEVEL_COUNT;
    assert_int_equal(vigil_store_plan_add(f->st, &FX_DOCTOR, &p, &id, &e), VIGIL_ERR_ARG);
    p.level = VIGIL_ESC_WARD;
    p.review_ms = T0;
    assert_int_equal(vigil_store_plan_add(f->st, &FX_DOCTOR, &p, &id, &e), VIGIL_ERR_ARG);
    p.review_ms = T0 + 24 * HOUR_MS;
    assert_int_equal(vigil_store_plan_add(f->st, &FX_DOCTOR, &p, &id, &e), VIGIL_OK);
    vigil_store_patient_state s;
    assert_int_equal(vigil_store_patient_state_get(f->st, &FX_NURSE, pid, T0 + HOUR_MS, &s, &e),
                     VIGIL_OK);
    assert_true(s.plan_active);
    assert_int_equal(s.plan_id, id);
    assert_int_equal(s.plan_review_ms, T0 + 24 * HOUR_MS);
    assert_int_equal(s.plan_expires_ms, T0 + 72 * HOUR_MS);
    /* its terms, so it can apply again after a restart */
    assert_true(s.plan_has_terms);
    assert_int_equal(s.plan_level, VIGIL_ESC_WARD);
    assert_int_equal(s.plan_news2_usual_max, 4);
    assert_int_equal(s.plan_made_ms, T0);
    assert_string_equal(s.plan_by, "dr.patel");
    assert_string_equal(s.plan_reason, "chronic AF, usual HR 110-125");
    assert_int_equal(
        vigil_store_patient_state_get(f->st, &FX_NURSE, pid, T0 + 72 * HOUR_MS, &s, &e), VIGIL_OK);
    assert_false(s.plan_active); /* expired */
    assert_int_equal(vigil_store_plan_revoke(f->st, &FX_DOCTOR, id, T0 + 2 * HOUR_MS,
                                             "rate control failing", &e),
                     VIGIL_OK);
    assert_int_equal(vigil_store_patient_state_get(f->st, &FX_NURSE, pid, T0 + 3 * HOUR_MS, &s, &e),
                     VIGIL_OK);
    assert_false(s.plan_active);
    assert_int_equal(vigil_store_plan_revoke(f->st, &FX_DOCTOR, id, T0 + 2 * HOUR_MS, "again", &e),
                     VIGIL_ERR_CONFLICT);
}

static void staff_concern_is_recorded_in_their_words(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(3013, nhs);
    int64_t pid = fx_patient(f, nhs, NULL, NULL);
    int64_t id = 0;
    vigil_err e = {0};
    assert_int_equal(vigil_store_staff_concern(f->st, &FX_NURSE, pid, T0,
                                               "I'm worried: clammy and quiet since lunch", &id,
                                               &e),
                     VIGIL_OK);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM staff_concern WHERE username = "
                                 "'nurse.jo' AND concern = 'I''m worried: clammy and quiet "
                                 "since lunch'"),
                     1);
    assert_int_equal(vigil_store_staff_concern(f->st, &FX_NURSE, 9999, T0, "x", &id, &e),
                     VIGIL_ERR_NOT_FOUND);
    assert_int_equal(vigil_store_staff_concern(f->st, &FX_NURSE, pid, T0, "", &id, &e),
                     VIGIL_ERR_ARG);
    vigil_actor nobody = {"", "x"};
    assert_int_equal(vigil_store_staff_concern(f->st, &nobody, pid, T0, "x", &id, &e),
                     VIGIL_ERR_ARG);
    vigil_actor no_reason = {"nurse.jo", " "};
    assert_int_equal(vigil_store_staff_concern(f->st, &no_reason, pid, T0, "x", &id, &e),
                     VIGIL_ERR_ARG);
}

/* clang-format off */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(admission_moves_and_discharge_drive_the_ward_list, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(patient_ward_is_the_open_bed_stays_ward_and_writes_no_audit, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(ward_list_shows_latest_score_due_inputs_and_patient_state, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(declining_to_escalate_without_a_reason_is_refused, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(acknowledgement_records_who_when_and_what_they_did, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(acknowledgement_by_unknown_or_disabled_user_is_refused_and_writes_nothing, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(higher_level_opens_a_new_episode_and_closes_the_old, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(marthas_rule_log_is_append_only, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(marthas_rule_export_gives_csv_with_time_to_review_and_outcome, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(ai_opt_out_and_its_withdrawal_record_who_and_when, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(scale2_decision_needs_a_doctor_and_a_reason, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(scale2_and_plans_refuse_unknown_nurse_and_disabled_doctor_and_write_nothing, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(revised_plan_needs_a_doctor_and_lapses_at_expiry, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(staff_concern_is_recorded_in_their_words, fx_setup, fx_teardown),
};
/* clang-format on */

VIGIL_TEST_MAIN(tests)
