/* test_store_patient_match.c: which patient an incoming set belongs to and
 * what is refused (src/store/patient_match.c, the wrong-patient rule, issue
 * 15 item 1), on every backend (store.*, store_faulty.*, store_pg.*):
 * through vigil_store_put_obs and vigil_store_patient_ensure, read back
 * through the store. */
#include "store_fixture.h"

static vigil_patient want_of(const char *nhs, const char *mrn, const char *name,
                             const char *birth_date, vigil_admin_sex sex)
{
    vigil_patient p;
    memset(&p, 0, sizeof p);
    snprintf(p.nhs_number, sizeof p.nhs_number, "%s", nhs);
    snprintf(p.mrn, sizeof p.mrn, "%s", mrn);
    snprintf(p.name, sizeof p.name, "%s", name);
    snprintf(p.birth_date, sizeof p.birth_date, "%s", birth_date);
    p.sex = sex;
    return p;
}

static vigil_patient stored(fx *f, int64_t id)
{
    vigil_patient p;
    assert_int_equal(vigil_store_patient_get(f->st, &FX_NURSE, id, &p, NULL), VIGIL_OK);
    return p;
}

/* REQ STORE-WRONG-PATIENT: a set whose identifiers do not all name the one
 * stored patient is refused and leaves nothing: an NHS number and a
 * hospital number of two patients; a hospital number whose patient is
 * stored with another NHS number (the NHS number itself unknown); an NHS
 * number whose patient is stored with another hospital number. */
static void set_naming_a_patient_stored_with_other_identifiers_is_refused_and_writes_nothing(
    void **state)
{
    fx *f = *state;
    char a[11], b[11], unknown[11];
    fx_nhs(4101, a);
    fx_nhs(4102, b);
    fx_nhs(4103, unknown);
    fx_patient(f, a, "MRN-A", "Ann");
    fx_patient(f, b, "MRN-B", "Bob");
    int64_t patients = fx_count(f, "SELECT count(*) FROM patient");
    int64_t records = fx_audit_count(f);
    struct {
        const char *nhs, *mrn, *words;
    } const cases[] = {
        {a, "MRN-B", "two different patients"},
        {unknown, "MRN-A", "stored with a different NHS number"},
        {a, "MRN-Z", "stored with a different hospital number"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vigil_obs_event ev;
        char sid[16];
        snprintf(sid, sizeof sid, "W-%zu", i);
        fx_event(&ev, cases[i].nhs, sid, T0);
        snprintf(ev.mrn, sizeof ev.mrn, "%s", cases[i].mrn);
        vigil_store_put out;
        vigil_err e = {0};
        vigil_status s = vigil_store_put_obs(f->st, &FX_FEED, &ev, NULL, &out, &e);
        if (s != VIGIL_ERR_CONFLICT || strstr(e.msg, cases[i].words) == NULL) {
            fail_msg("case %zu (%s, %s): %s \"%s\", not a conflict saying \"%s\"", i,
                     cases[i].nhs, cases[i].mrn, vigil_status_str(s), e.msg, cases[i].words);
        }
        vigil_patient want = want_of(cases[i].nhs, cases[i].mrn, "", "", VIGIL_ADMIN_SEX_NONE);
        int64_t id = 0;
        assert_int_equal(vigil_store_patient_ensure(f->st, &FX_FEED, &want, &id, &e),
                         VIGIL_ERR_CONFLICT);
    }
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set"), 0);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM patient"), patients);
    assert_int_equal(fx_audit_count(f), records);
}

/* A found patient's empty identifiers, name and birth date are filled in
 * from a set or an ensure; what is stored is never replaced; each filling
 * is one patient.update record naming what was filled; a new patient is
 * created with what was given. */
static void found_patient_gets_only_its_empty_fields_filled_in_and_audited(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(4111, nhs);
    vigil_obs_event ev;
    fx_event(&ev, "", "F-1", T0);
    snprintf(ev.mrn, sizeof ev.mrn, "RX-41");
    vigil_store_put first;
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, NULL, &first, NULL), VIGIL_OK);
    assert_int_equal(
        fx_count(f, "SELECT count(*) FROM audit WHERE action = 'patient.create' AND detail = "
                    "'by mrn'"),
        1);

    fx_event(&ev, nhs, "F-2", T0 + MIN_MS);
    snprintf(ev.mrn, sizeof ev.mrn, "RX-41");
    vigil_store_put second;
    assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, NULL, &second, NULL), VIGIL_OK);
    assert_int_equal(second.patient_id, first.patient_id);
    vigil_patient p = stored(f, first.patient_id);
    assert_string_equal(p.nhs_number, nhs);
    assert_string_equal(p.name, "");

    vigil_patient want = want_of(nhs, "", "Cara Jones", "1950-03-04", VIGIL_ADMIN_SEX_NONE);
    int64_t id = 0;
    assert_int_equal(vigil_store_patient_ensure(f->st, &FX_FEED, &want, &id, NULL), VIGIL_OK);
    assert_int_equal(id, first.patient_id);
    want = want_of(nhs, "RX-41", "Someone Else", "1999-09-09", VIGIL_ADMIN_SEX_NONE);
    assert_int_equal(vigil_store_patient_ensure(f->st, &FX_FEED, &want, &id, NULL), VIGIL_OK);
    assert_int_equal(id, first.patient_id);
    p = stored(f, id);
    assert_string_equal(p.nhs_number, nhs);
    assert_string_equal(p.mrn, "RX-41");
    assert_string_equal(p.name, "Cara Jones");
    assert_string_equal(p.birth_date, "1950-03-04");
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'patient.update'"),
                     2);
    assert_int_equal(
        fx_count(f, "SELECT count(*) FROM audit WHERE action = 'patient.update' AND detail = "
                    "'filled in: nhs_number'"),
        1);
    assert_int_equal(
        fx_count(f, "SELECT count(*) FROM audit WHERE action = 'patient.update' AND detail = "
                    "'filled in: name birth_date'"),
        1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM patient"), 1);
}

/* REQ STORE-SEX-LATEST: a stated sex replaces the stored one (audited);
 * "unknown" only fills an empty one; none changes nothing. */
static void stated_sex_replaces_the_stored_one_and_unknown_only_fills_an_empty_one(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(4121, nhs);
    int64_t id = fx_patient(f, nhs, "", "Dee");
    assert_int_equal(stored(f, id).sex, VIGIL_ADMIN_SEX_NONE);
    struct {
        vigil_admin_sex given, after;
        int64_t updates; /* patient.update records naming sex so far */
    } const steps[] = {
        {VIGIL_ADMIN_SEX_UNKNOWN, VIGIL_ADMIN_SEX_UNKNOWN, 1}, /* fills an empty one */
        {VIGIL_ADMIN_SEX_FEMALE, VIGIL_ADMIN_SEX_FEMALE, 2},
        {VIGIL_ADMIN_SEX_UNKNOWN, VIGIL_ADMIN_SEX_FEMALE, 2}, /* does not erase */
        {VIGIL_ADMIN_SEX_NONE, VIGIL_ADMIN_SEX_FEMALE, 2},
        {VIGIL_ADMIN_SEX_FEMALE, VIGIL_ADMIN_SEX_FEMALE, 2}, /* the same: nothing */
        {VIGIL_ADMIN_SEX_MALE, VIGIL_ADMIN_SEX_MALE, 3},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        vigil_obs_event ev;
        char sid[16];
        snprintf(sid, sizeof sid, "S-%zu", i);
        fx_event(&ev, nhs, sid, T0 + (int64_t)i * MIN_MS);
        ev.sex = steps[i].given;
        vigil_store_put out;
        assert_int_equal(vigil_store_put_obs(f->st, &FX_FEED, &ev, NULL, &out, NULL), VIGIL_OK);
        assert_int_equal(out.patient_id, id);
        vigil_admin_sex now = stored(f, id).sex;
        int64_t updates = fx_count(f, "SELECT count(*) FROM audit WHERE action = "
                                      "'patient.update' AND detail LIKE '% sex'");
        if (now != steps[i].after || updates != steps[i].updates) {
            fail_msg("step %zu: given %s, stored %s with %lld sex updates; want %s, %lld", i,
                     vigil_admin_sex_name(steps[i].given), vigil_admin_sex_name(now),
                     (long long)updates, vigil_admin_sex_name(steps[i].after),
                     (long long)steps[i].updates);
        }
    }
}

/* A message resent with an identifier its stored set's patient was stored
 * without (the first time by hospital number only, again by NHS number
 * only) is not the same message: a conflict that leaves nothing (no second
 * patient made from the resend), never a duplicate acknowledged as stored. */
static void resend_naming_the_patient_by_an_identifier_it_was_stored_without_is_a_conflict(
    void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(4141, nhs);
    vigil_obs_event ev;
    fx_event(&ev, "", "R-1", T0);
    snprintf(ev.mrn, sizeof ev.mrn, "RX-44");
    fx_put(f, &ev, NULL);
    int64_t records = fx_audit_count(f);
    fx_event(&ev, nhs, "R-1", T0);
    vigil_store_put out;
    vigil_err e = {0};
    vigil_status s = vigil_store_put_obs(f->st, &FX_FEED, &ev, NULL, &out, &e);
    if (s != VIGIL_ERR_CONFLICT) {
        fail_msg("resend by another identifier: %s (duplicate %d), not a conflict",
                 vigil_status_str(s), (int)out.duplicate);
    }
    assert_int_equal(fx_count(f, "SELECT count(*) FROM patient"), 1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM obs_set"), 1);
    assert_int_equal(fx_audit_count(f), records);
}

/* A move or a discharge dated before the patient's current bed stay began
 * (the admission, then the last move) is refused in words naming t_ms and
 * changes nothing: the bed, the admission and the audit trail stay as they
 * were; the same event at its true time is stored. */
static void move_or_discharge_before_the_current_bed_stay_is_refused_and_changes_nothing(
    void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(4131, nhs);
    int64_t pid = fx_patient(f, nhs, NULL, "Eve"), adm = 0;
    vigil_err e = {0};
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, pid, "7A", "1", T0, &adm, &e), VIGIL_OK);
    assert_int_equal(vigil_store_move(f->st, &FX_NURSE, adm, "7B", "2", T0 + HOUR_MS, &e),
                     VIGIL_OK);
    int64_t records = fx_audit_count(f);
    memset(&e, 0, sizeof e);
    assert_int_equal(vigil_store_move(f->st, &FX_NURSE, adm, "7C", "3", T0 + HOUR_MS - 1, &e),
                     VIGIL_ERR_ARG);
    assert_string_equal(e.field, "t_ms");
    assert_non_null(strstr(e.msg, "1 s before the patient's current bed stay began"));
    memset(&e, 0, sizeof e);
    assert_int_equal(vigil_store_discharge(f->st, &FX_NURSE, adm, T0 + 30 * MIN_MS, &e),
                     VIGIL_ERR_ARG);
    assert_non_null(strstr(e.msg, "1800 s before the patient's current bed stay began"));
    assert_int_equal(fx_audit_count(f), records);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM bed_stay WHERE to_ms IS NULL AND ward = "
                                 "'7B'"),
                     1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM admission WHERE discharged_ms IS NULL"), 1);
    assert_int_equal(vigil_store_move(f->st, &FX_NURSE, adm, "7C", "3", T0 + HOUR_MS, &e),
                     VIGIL_OK);
    assert_int_equal(vigil_store_discharge(f->st, &FX_NURSE, adm, T0 + 2 * HOUR_MS, &e), VIGIL_OK);
}

/* clang-format off */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(set_naming_a_patient_stored_with_other_identifiers_is_refused_and_writes_nothing, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(found_patient_gets_only_its_empty_fields_filled_in_and_audited, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(stated_sex_replaces_the_stored_one_and_unknown_only_fills_an_empty_one, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(resend_naming_the_patient_by_an_identifier_it_was_stored_without_is_a_conflict, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(move_or_discharge_before_the_current_bed_stay_is_refused_and_changes_nothing, fx_setup, fx_teardown),
};
/* clang-format on */

VIGIL_TEST_MAIN(tests)
