/*
 * test_store_outcome.c: deterioration outcomes (issue 14): linked to the
 * right admission (named, or the latest, discharged too), refused before
 * the admission or twice, listed oldest first, and audited.
 */
#include "store_fixture.h"

static void outcome_links_to_the_latest_admission_even_after_discharge(void **state)
{
    fx *f = *state;
    char nhs[11];
    fx_nhs(4011, nhs);
    int64_t pid = fx_patient(f, nhs, NULL, NULL);
    int64_t a1 = 0, a2 = 0, id = 0;
    vigil_err e = {0};
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, pid, "7A", "03", T0, &a1, &e), VIGIL_OK);
    assert_int_equal(vigil_store_discharge(f->st, &FX_NURSE, a1, T0 + HOUR_MS, &e), VIGIL_OK);
    assert_int_equal(
        vigil_store_admit(f->st, &FX_NURSE, pid, "7B", "01", T0 + 2 * HOUR_MS, &a2, &e), VIGIL_OK);
    assert_int_equal(vigil_store_discharge(f->st, &FX_NURSE, a2, T0 + 30 * HOUR_MS, &e), VIGIL_OK);
    int64_t audits = fx_audit_count(f);
    /* coded after discharge: the latest admission */
    assert_int_equal(vigil_store_outcome_record(
                         f->st, &FX_DOCTOR, pid, 0, VIGIL_STORE_OUTCOME_SEPSIS, T0 + 20 * HOUR_MS,
                         T0 + 40 * HOUR_MS, "api", "blood cultures +", &id, &e),
                     VIGIL_OK);
    assert_int_equal(fx_audit_count(f), audits + 1);
    /* the first admission, named */
    int64_t id2 = 0;
    assert_int_equal(vigil_store_outcome_record(f->st, &FX_FEED, pid, a1,
                                                VIGIL_STORE_OUTCOME_ICU_UNPLANNED, T0 + 30 * MIN_MS,
                                                T0 + HOUR_MS, "hl7", NULL, &id2, &e),
                     VIGIL_OK);
    vigil_store_outcome rows[4];
    size_t n = 0;
    assert_int_equal(vigil_store_outcomes_of(f->st, &FX_DOCTOR, pid, rows, 4, &n, &e), VIGIL_OK);
    assert_int_equal(n, 2);
    assert_true(rows[0].id == id2 && rows[0].admission_id == a1 &&
                rows[0].kind == VIGIL_STORE_OUTCOME_ICU_UNPLANNED);
    assert_string_equal(rows[0].source, "hl7");
    assert_string_equal(rows[0].recorded_by, "hl7-listener");
    assert_true(rows[1].id == id && rows[1].admission_id == a2 &&
                rows[1].kind == VIGIL_STORE_OUTCOME_SEPSIS && rows[1].t_ms == T0 + 20 * HOUR_MS);
    assert_string_equal(rows[1].note, "blood cultures +");
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'outcome.record'"), 2);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'outcome.list'"), 1);
    vigil_audit_report rep;
    assert_int_equal(vigil_audit_verify(f->st, &rep, &e), VIGIL_OK);
}

static void outcome_before_admission_twice_or_elsewhere_is_refused(void **state)
{
    fx *f = *state;
    char nhs[11], nhs2[11];
    fx_nhs(4012, nhs);
    fx_nhs(4013, nhs2);
    int64_t pid = fx_patient(f, nhs, NULL, NULL), other = fx_patient(f, nhs2, NULL, NULL);
    int64_t a = 0, a_other = 0, id = 0;
    vigil_err e = {0};
    assert_int_equal(vigil_store_outcome_record(f->st, &FX_DOCTOR, pid, 0,
                                                VIGIL_STORE_OUTCOME_DEATH, T0, T0, "api", NULL, &id,
                                                &e),
                     VIGIL_ERR_NOT_FOUND); /* no admission yet */
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, pid, "7A", "03", T0, &a, &e), VIGIL_OK);
    assert_int_equal(vigil_store_admit(f->st, &FX_NURSE, other, "7A", "04", T0, &a_other, &e),
                     VIGIL_OK);
    assert_int_equal(vigil_store_outcome_record(f->st, &FX_DOCTOR, pid, 0,
                                                VIGIL_STORE_OUTCOME_DEATH, T0 - MIN_MS, T0, "api",
                                                NULL, &id, &e),
                     VIGIL_ERR_ARG);
    assert_int_equal(vigil_store_outcome_record(f->st, &FX_DOCTOR, pid, a_other,
                                                VIGIL_STORE_OUTCOME_DEATH, T0, T0, "api", NULL, &id,
                                                &e),
                     VIGIL_ERR_NOT_FOUND); /* another patient's admission */
    assert_int_equal(vigil_store_outcome_record(f->st, &FX_DOCTOR, pid, a,
                                                VIGIL_STORE_OUTCOME_ARREST_CALL, T0 + HOUR_MS, T0,
                                                "api", NULL, &id, &e),
                     VIGIL_OK);
    assert_int_equal(vigil_store_outcome_record(f->st, &FX_DOCTOR, pid, a,
                                                VIGIL_STORE_OUTCOME_ARREST_CALL, T0 + HOUR_MS, T0,
                                                "api", NULL, &id, &e),
                     VIGIL_ERR_CONFLICT);
    assert_int_equal(vigil_store_outcome_record(f->st, &FX_DOCTOR, pid, a,
                                                VIGIL_STORE_OUTCOME_KIND_COUNT, T0, T0, "api", NULL,
                                                &id, &e),
                     VIGIL_ERR_ARG);
    assert_int_equal(vigil_store_outcome_record(f->st, &FX_DOCTOR, pid, a,
                                                VIGIL_STORE_OUTCOME_DEATH, T0, T0, "", NULL, &id,
                                                &e),
                     VIGIL_ERR_ARG);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM outcome"), 1);
}

static void outcome_kind_names_round_trip(void **state)
{
    (void)state;
    for (int k = 0; k < VIGIL_STORE_OUTCOME_KIND_COUNT; k++) {
        const char *name = vigil_store_outcome_kind_name((vigil_store_outcome_kind)k);
        assert_non_null(name);
        assert_int_equal(vigil_store_outcome_kind_from_name(name), k);
    }
    assert_null(vigil_store_outcome_kind_name(VIGIL_STORE_OUTCOME_KIND_COUNT));
    assert_int_equal(vigil_store_outcome_kind_from_name("discharged-home"), -1);
}

/* clang-format off */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(outcome_links_to_the_latest_admission_even_after_discharge, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(outcome_before_admission_twice_or_elsewhere_is_refused, fx_setup, fx_teardown),
    cmocka_unit_test(outcome_kind_names_round_trip),
};
/* clang-format on */

VIGIL_TEST_MAIN(tests)
