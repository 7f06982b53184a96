/*
 * test_fhir_outcome.c: deterioration outcomes from FHIR R4 (issue 14 item 3,
 * vigil_fhir_parse_outcome). The Encounter is shaped as the R4 examples are
 * (status, class, subject, period, hospitalization.dischargeDisposition coded
 * in http://terminology.hl7.org/CodeSystem/discharge-disposition; "exp" =
 * expired, "home" = home); the Condition as R4's (clinicalStatus,
 * verificationStatus, code with SNOMED CT and ICD-10 codings, onsetDateTime,
 * recordedDate).
 */
#include <jansson.h>
#include <string.h>

#include "vigil/fhir.h"
#include "vigil_test.h"

#define NHS_SYS "https://fhir.nhs.uk/Id/nhs-number"
#define DISP_SYS "http://terminology.hl7.org/CodeSystem/discharge-disposition"

static json_t *encounter(const char *disposition)
{
    json_t *e =
        json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:{s:{s:s, s:s}}, s:{s:s, s:s}}", "resourceType",
                  "Encounter", "id", "f201", "status", "finished", "class", "system",
                  "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code", "IMP", "subject",
                  "identifier", "system", NHS_SYS, "value", "9434765919", "period", "start",
                  "2024-06-10T09:00:00+01:00", "end", "2024-06-12T14:30:00+01:00");
    assert_non_null(e);
    if (disposition != NULL) {
        json_object_set_new(e, "hospitalization",
                            json_pack("{s:{s:[{s:s, s:s}]}}", "dischargeDisposition", "coding",
                                      "system", DISP_SYS, "code", disposition));
    }
    return e;
}

static json_t *condition(const char *system, const char *code)
{
    json_t *c = json_pack("{s:s, s:s, s:{s:[{s:s, s:s}]}, s:{s:[{s:s, s:s}]}, s:{s:s}, s:s}",
                          "resourceType", "Condition", "id", "sepsis-1", "clinicalStatus", "coding",
                          "system", "http://terminology.hl7.org/CodeSystem/condition-clinical",
                          "code", "active", "verificationStatus", "coding", "system",
                          "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code",
                          "confirmed", "subject", "reference", "Patient/RX1B654321",
                          "onsetDateTime", "2024-06-11T03:10:00Z");
    assert_non_null(c);
    json_object_set_new(c, "code",
                        json_pack("{s:[{s:s, s:s}]}", "coding", "system", system, "code", code));
    return c;
}

static vigil_status parse(json_t *j, vigil_fhir_outcome *o, vigil_fhir_issue *is)
{
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    assert_non_null(s);
    memset(is, 0, sizeof *is);
    vigil_status st = vigil_fhir_parse_outcome(s, strlen(s), o, is);
    free(s);
    return st;
}

static void encounter_discharged_expired_is_a_death_at_its_end(void **state)
{
    (void)state;
    vigil_fhir_outcome o;
    vigil_fhir_issue is;
    assert_int_equal(parse(encounter("exp"), &o, &is), VIGIL_OK);
    assert_int_equal(o.kind, VIGIL_FHIR_OUTCOME_DEATH);
    assert_string_equal(o.nhs_number, "9434765919");
    assert_int_equal(o.t_ms, 1718199000000LL); /* 2024-06-12T13:30:00Z */
    assert_string_equal(o.code, "exp");
    assert_string_equal(o.resource_id, "f201");
}

static void encounter_discharged_home_is_no_outcome(void **state)
{
    (void)state;
    vigil_fhir_outcome o;
    vigil_fhir_issue is;
    assert_int_equal(parse(encounter("home"), &o, &is), VIGIL_OK);
    assert_int_equal(o.kind, VIGIL_FHIR_OUTCOME_NONE);
    assert_int_equal(parse(encounter(NULL), &o, &is), VIGIL_OK);
    assert_int_equal(o.kind, VIGIL_FHIR_OUTCOME_NONE);
}

static void encounter_with_a_destination_is_a_transfer_to_that_ward(void **state)
{
    (void)state;
    json_t *e = encounter(NULL);
    json_object_set_new(e, "hospitalization",
                        json_pack("{s:{s:s, s:{s:s}}}", "destination", "display",
                                  "Intensive Care Unit", "identifier", "value", "ICU1"));
    vigil_fhir_outcome o;
    vigil_fhir_issue is;
    assert_int_equal(parse(e, &o, &is), VIGIL_OK);
    assert_int_equal(o.kind, VIGIL_FHIR_OUTCOME_TRANSFER);
    assert_string_equal(o.destination, "ICU1"); /* the identifier before the display */
}

static void expired_encounter_without_an_end_is_refused(void **state)
{
    (void)state;
    json_t *e = encounter("exp");
    json_object_del(json_object_get(e, "period"), "end");
    vigil_fhir_outcome o;
    o.kind = VIGIL_FHIR_OUTCOME_SEPSIS; /* unchanged on error */
    vigil_fhir_issue is;
    assert_int_equal(parse(e, &o, &is), VIGIL_ERR_PARSE);
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_REQUIRED);
    assert_string_equal(is.expression, "Encounter.period.end");
    assert_int_equal(o.kind, VIGIL_FHIR_OUTCOME_SEPSIS);
}

static void sepsis_condition_by_snomed_or_icd10_is_sepsis_at_onset(void **state)
{
    (void)state;
    static const struct {
        const char *sys, *code;
        bool sepsis;
    } cases[] = {
        {"http://snomed.info/sct", "91302008", true},
        {"http://snomed.info/sct", "76571007", true},
        {"http://hl7.org/fhir/sid/icd-10", "A41.9", true},
        {"http://hl7.org/fhir/sid/icd-10-uk", "A419", true},
        {"http://hl7.org/fhir/sid/icd-10-cm", "R65.21", true},
        {"http://hl7.org/fhir/sid/icd-10", "A49.9", false}, /* bacterial infection, unspecified */
        {"http://hl7.org/fhir/sid/icd-10", "J18.9", false}, /* pneumonia */
        {"http://snomed.info/sct", "233604007", false},     /* pneumonia */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vigil_fhir_outcome o;
        vigil_fhir_issue is;
        assert_int_equal(parse(condition(cases[i].sys, cases[i].code), &o, &is), VIGIL_OK);
        assert_int_equal(o.kind,
                         cases[i].sepsis ? VIGIL_FHIR_OUTCOME_SEPSIS : VIGIL_FHIR_OUTCOME_NONE);
        if (cases[i].sepsis) {
            assert_string_equal(o.mrn, "RX1B654321");
            assert_int_equal(o.t_ms, 1718075400000LL); /* 2024-06-11T03:10:00Z */
            assert_string_equal(o.code, cases[i].code);
        }
    }
}

static void refuted_sepsis_is_no_outcome_and_recorded_date_stands_in_for_onset(void **state)
{
    (void)state;
    json_t *c = condition("http://snomed.info/sct", "91302008");
    json_object_set_new(c, "verificationStatus",
                        json_pack("{s:[{s:s, s:s}]}", "coding", "system",
                                  "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                  "code", "refuted"));
    vigil_fhir_outcome o;
    vigil_fhir_issue is;
    assert_int_equal(parse(c, &o, &is), VIGIL_OK);
    assert_int_equal(o.kind, VIGIL_FHIR_OUTCOME_NONE);
    c = condition("http://snomed.info/sct", "91302008");
    json_object_del(c, "onsetDateTime");
    json_object_set_new(c, "recordedDate", json_string("2024-06-11T05:00:00Z"));
    assert_int_equal(parse(c, &o, &is), VIGIL_OK);
    assert_int_equal(o.t_ms, 1718082000000LL);
    c = condition("http://snomed.info/sct", "91302008");
    json_object_del(c, "onsetDateTime");
    assert_int_equal(parse(c, &o, &is), VIGIL_ERR_PARSE);
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_REQUIRED);
}

static void other_resources_and_subjectless_ones_are_refused(void **state)
{
    (void)state;
    vigil_fhir_outcome o;
    vigil_fhir_issue is;
    json_t *p = json_pack("{s:s}", "resourceType", "Patient");
    assert_int_equal(parse(p, &o, &is), VIGIL_ERR_PARSE);
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_NOT_SUPPORTED);
    json_t *e = encounter("exp");
    json_object_del(e, "subject");
    assert_int_equal(parse(e, &o, &is), VIGIL_ERR_PARSE);
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_REQUIRED);
    assert_string_equal(is.expression, "Encounter.subject");
}

/* Parse text as a Patient; the status, with *o and *is filled. */
static vigil_status patient(const char *text, vigil_fhir_patient *o, vigil_fhir_issue *is)
{
    memset(o, 0, sizeof *o);
    memset(is, 0, sizeof *is);
    return vigil_fhir_parse_patient(text, strlen(text), o, is);
}

/* REQ FHIR-PATIENT-GENDER: Patient.gender (AdministrativeGender, a required
 * binding) is the administrative sex; identifiers as Observation.subject
 * names them (NHS number system, else the id as the hospital number). */
static void patient_gender_and_identifiers_are_read_and_bad_codes_refused(void **s)
{
    (void)s;
    vigil_fhir_patient o;
    vigil_fhir_issue is;
    assert_int_equal(patient("{\"resourceType\":\"Patient\",\"id\":\"RX1-42\",\"identifier\":"
                             "[{\"system\":\"" NHS_SYS "\",\"value\":\"9434765919\"}],"
                             "\"name\":[{\"family\":\"Smith\"}],\"gender\":\"female\"}",
                             &o, &is),
                     VIGIL_OK);
    assert_string_equal(o.nhs_number, "9434765919");
    assert_string_equal(o.mrn, "RX1-42");
    assert_int_equal(o.sex, VIGIL_ADMIN_SEX_FEMALE);
    assert_int_equal(patient("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":"
                             "\"https://rx1.example/mrn\",\"value\":\"A7\"}],\"gender\":\"unknown\"}",
                             &o, &is),
                     VIGIL_OK);
    assert_string_equal(o.mrn, "A7");
    assert_int_equal(o.sex, VIGIL_ADMIN_SEX_UNKNOWN);
    assert_int_equal(patient("{\"resourceType\":\"Patient\",\"id\":\"p1\"}", &o, &is), VIGIL_OK);
    assert_int_equal(o.sex, VIGIL_ADMIN_SEX_NONE);
    /* F is HL7 v2, not FHIR: refused, with where */
    assert_int_not_equal(
        patient("{\"resourceType\":\"Patient\",\"id\":\"p1\",\"gender\":\"F\"}", &o, &is),
        VIGIL_OK);
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_CODE_INVALID);
    assert_string_equal(is.expression, "Patient.gender");
    assert_int_not_equal(
        patient("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"" NHS_SYS
                "\",\"value\":\"9434765918\"}]}",
                &o, &is),
        VIGIL_OK); /* check digit */
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_VALUE);
    assert_int_not_equal(patient("{\"resourceType\":\"Patient\",\"gender\":\"male\"}", &o, &is),
                         VIGIL_OK);
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_REQUIRED);
    assert_int_not_equal(patient("{\"resourceType\":\"Person\",\"id\":\"p1\"}", &o, &is), VIGIL_OK);
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_NOT_SUPPORTED);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encounter_discharged_expired_is_a_death_at_its_end),
        cmocka_unit_test(encounter_discharged_home_is_no_outcome),
        cmocka_unit_test(encounter_with_a_destination_is_a_transfer_to_that_ward),
        cmocka_unit_test(expired_encounter_without_an_end_is_refused),
        cmocka_unit_test(sepsis_condition_by_snomed_or_icd10_is_sepsis_at_onset),
        cmocka_unit_test(refuted_sepsis_is_no_outcome_and_recorded_date_stands_in_for_onset),
        cmocka_unit_test(other_resources_and_subjectless_ones_are_refused),
        cmocka_unit_test(patient_gender_and_identifiers_are_read_and_bad_codes_refused),
    };
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
