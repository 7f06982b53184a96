/*
 * test_fhir_bundle.c: transaction Bundles. Grouping of observations into
 * events (same patient, same instant), all-or-nothing refusal, entry rules
 * (POST Observation only), limits.
 */
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "fhir_test_util.h"
#include "vigil/fhir.h"
#include "vigil_test.h"

#define LOINC "http://loinc.org"

/* An Observation for patient (an NHS number, or "Patient/<id>") at t. */
static json_t *obs(const char *patient, const char *t, const char *code, double v, const char *unit)
{
    json_t *subject = strncmp(patient, "Patient/", 8) == 0
                          ? json_pack("{s:s}", "reference", patient)
                          : json_pack("{s:{s:s, s:s}}", "identifier", "system",
                                      "https://fhir.nhs.uk/Id/nhs-number", "value", patient);
    json_t *o = json_pack(
        "{s:s, s:s, s:[{s:[{s:s, s:s}]}], s:{s:[{s:s, s:s}]}, s:o, s:s, s:{s:f, s:s, s:s}}",
        "resourceType", "Observation", "status", "final", "category", "coding", "system",
        "http://terminology.hl7.org/CodeSystem/observation-category", "code", "vital-signs", "code",
        "coding", "system", LOINC, "code", code, "subject", subject, "effectiveDateTime", t,
        "valueQuantity", "value", v, "system", "http://unitsofmeasure.org", "code", unit);
    assert_non_null(o);
    return o;
}

/* A transaction of the given resources (consumed), each POST Observation. */
static json_t *bundle(json_t **res, size_t n)
{
    json_t *entries = json_array();
    for (size_t i = 0; i < n; i++) {
        char url[64];
        snprintf(url, sizeof url, "urn:uuid:00000000-0000-4000-8000-%012zu", i);
        json_array_append_new(entries,
                              json_pack("{s:s, s:o, s:{s:s, s:s}}", "fullUrl", url, "resource",
                                        res[i], "request", "method", "POST", "url", "Observation"));
    }
    if (n == 0) {
        json_decref(entries); /* FHIR JSON never has an empty array */
        return json_pack("{s:s, s:s}", "resourceType", "Bundle", "type", "transaction");
    }
    return json_pack("{s:s, s:s, s:o}", "resourceType", "Bundle", "type", "transaction", "entry",
                     entries);
}

static vigil_status parse(json_t *b, vigil_fhir_batch *out, vigil_fhir_issue *is)
{
    char *s = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    assert_non_null(s);
    memset(is, 0, sizeof *is);
    memset(out, 0, sizeof *out);
    vigil_status st = vigil_fhir_parse_transaction(s, strlen(s), out, is);
    free(s);
    return st;
}

static const char *A = "9434765919";
static const char *T = "2024-06-12T14:30:00+01:00";

/* REQ FHIR-GROUP */
static void observations_of_one_patient_and_instant_form_one_event(void **state)
{
    (void)state;
    json_t *r[] = {
        obs(A, T, "9279-1", 22, "/min"),  obs(A, T, "59408-5", 95, "%"),
        obs(A, T, "3151-8", 0, "L/min"),  obs(A, T, "8480-6", 118, "mm[Hg]"),
        obs(A, T, "8867-4", 104, "/min"), obs(A, "2024-06-12T13:30:00Z", "8310-5", 38.4, "Cel"),
    };
    vigil_fhir_batch b;
    vigil_fhir_issue is;
    assert_int_equal(parse(bundle(r, 6), &b, &is), VIGIL_OK);
    assert_true(b.transaction);
    assert_int_equal(b.n_entries, 6);
    assert_int_equal(b.n_events, 1);
    const vigil_obs *o = &b.events[0].obs;
    assert_true(o->rr_bpm == 22 && o->spo2_pct == 95 && o->sbp_mmhg == 118 && o->hr_bpm == 104 &&
                o->temp_c == 38.4);
    assert_int_equal(o->o2, VIGIL_O2_AIR);
    assert_int_equal(o->acvpu, VIGIL_ACVPU_UNKNOWN);
    assert_string_equal(b.events[0].source_id, "urn:uuid:00000000-0000-4000-8000-000000000000");
    vigil_news2 s;
    assert_int_equal(vigil_news2_score(o, &s, NULL), VIGIL_OK);
    assert_false(s.complete);
    assert_int_equal(s.missing, 1u << VIGIL_NEWS2_ACVPU);
    vigil_fhir_batch_fini(&b);
}

static void different_patients_or_instants_form_separate_events_in_order(void **state)
{
    (void)state;
    json_t *r[] = {
        obs(A, T, "9279-1", 22, "/min"),
        obs("Patient/RTH-1", T, "9279-1", 14, "/min"),
        obs(A, "2024-06-12T14:30:01+01:00", "9279-1", 23, "/min"),
        obs("Patient/RTH-1", T, "8867-4", 80, "/min"),
        obs("4010232137", T, "9279-1", 16, "/min"),
    };
    vigil_fhir_batch b;
    vigil_fhir_issue is;
    assert_int_equal(parse(bundle(r, 5), &b, &is), VIGIL_OK);
    assert_int_equal(b.n_events, 4);
    assert_true(b.events[0].obs.rr_bpm == 22);
    assert_string_equal(b.events[1].mrn, "RTH-1");
    assert_true(b.events[1].obs.rr_bpm == 14 && b.events[1].obs.hr_bpm == 80);
    assert_true(b.events[2].obs.rr_bpm == 23);
    assert_int_equal(b.events[2].t_ms - b.events[0].t_ms, 1000);
    assert_string_equal(b.events[3].nhs_number, "4010232137");
    vigil_fhir_batch_fini(&b);
}

/* An NHS number alone and a Patient/<id> alone cannot be known to be the
 * same person: they stay separate events (documented). */
static void nhs_number_and_local_reference_are_not_merged_by_guesswork(void **state)
{
    (void)state;
    json_t *r[] = {obs(A, T, "9279-1", 22, "/min"), obs("Patient/RTH-1", T, "8867-4", 80, "/min")};
    vigil_fhir_batch b;
    vigil_fhir_issue is;
    assert_int_equal(parse(bundle(r, 2), &b, &is), VIGIL_OK);
    assert_int_equal(b.n_events, 2);
    vigil_fhir_batch_fini(&b);
}

static void same_vital_twice_in_one_set_is_a_duplicate(void **state)
{
    (void)state;
    json_t *r[] = {obs(A, T, "9279-1", 22, "/min"), obs(A, T, "8867-4", 80, "/min"),
                   obs(A, "2024-06-12T13:30:00Z", "9279-1", 24, "/min")};
    vigil_fhir_batch b;
    vigil_fhir_issue is;
    assert_int_equal(parse(bundle(r, 3), &b, &is), VIGIL_ERR_PARSE);
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_DUPLICATE);
    assert_string_equal(is.expression, "Bundle.entry[2].resource");
    assert_null(b.events);
}

/* REQ FHIR-O2-CONFLICT */
static void air_and_oxygen_in_one_set_conflict_agreeing_sources_merge(void **state)
{
    (void)state;
    json_t *r[] = {obs(A, T, "3151-8", 2, "L/min"), obs(A, T, "3150-0", 28, "%")};
    vigil_fhir_batch b;
    vigil_fhir_issue is;
    assert_int_equal(parse(bundle(r, 2), &b, &is), VIGIL_OK);
    assert_int_equal(b.n_events, 1);
    assert_int_equal(b.events[0].obs.o2, VIGIL_O2_OXYGEN);
    vigil_fhir_batch_fini(&b);

    json_t *r2[] = {obs(A, T, "3151-8", 2, "L/min"), obs(A, T, "3150-0", 21, "%")};
    assert_int_equal(parse(bundle(r2, 2), &b, &is), VIGIL_ERR_PARSE);
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_BUSINESS_RULE);
    assert_string_equal(is.expression, "Bundle.entry[1].resource");
}

static void one_bad_entry_fails_the_whole_transaction(void **state)
{
    (void)state;
    json_t *r[] = {obs(A, T, "9279-1", 22, "/min"), obs(A, T, "8867-4", 80, "/min"),
                   obs(A, T, "2708-6", 101, "%"), obs(A, T, "8310-5", 37, "Cel")};
    vigil_fhir_batch b;
    vigil_fhir_issue is;
    assert_int_equal(parse(bundle(r, 4), &b, &is), VIGIL_ERR_IMPLAUSIBLE);
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_VALUE);
    assert_string_equal(is.expression, "Bundle.entry[2].resource.valueQuantity.value");
    assert_null(b.events);
    assert_int_equal(b.n_events, 0);
    assert_int_equal(b.n_entries, 0);
}

/* REQ FHIR-BUNDLE-ENTRY */
static void entries_must_be_post_observation_with_a_request(void **state)
{
    (void)state;
    vigil_fhir_batch b;
    vigil_fhir_issue is;
    json_t *r[] = {obs(A, T, "9279-1", 22, "/min")};
    json_t *bd = bundle(r, 1);
    json_t *req = json_object_get(json_array_get(json_object_get(bd, "entry"), 0), "request");
    json_object_set_new(req, "method", json_string("DELETE"));
    assert_int_equal(parse(bd, &b, &is), VIGIL_ERR_PARSE);
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_NOT_SUPPORTED);
    assert_string_equal(is.expression, "Bundle.entry[0].request.method");

    json_t *r2[] = {obs(A, T, "9279-1", 22, "/min")};
    bd = bundle(r2, 1);
    json_object_del(json_array_get(json_object_get(bd, "entry"), 0), "resource");
    assert_int_equal(parse(bd, &b, &is), VIGIL_ERR_PARSE);
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_REQUIRED);
    assert_string_equal(is.expression, "Bundle.entry[0].resource");

    json_t *r3[] = {json_pack("{s:s}", "resourceType", "Patient")};
    assert_int_equal(parse(bundle(r3, 1), &b, &is), VIGIL_ERR_PARSE);
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_NOT_SUPPORTED);
    assert_string_equal(is.expression, "Bundle.entry[0].resource.resourceType");

    json_t *r4[] = {obs(A, T, "9279-1", 22, "/min")};
    bd = bundle(r4, 1);
    json_array_append_new(json_object_get(bd, "entry"), json_string("not an entry"));
    assert_int_equal(parse(bd, &b, &is), VIGIL_ERR_PARSE);
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_STRUCTURE);
    assert_string_equal(is.expression, "Bundle.entry[1]");
}

/*
 * REQ FHIR-BUNDLE-SKIP. Source: the FHIR R4 vital-signs profile's body weight
 * (LOINC 29463-7, kg; hl7.org/fhir/R4/observation-example.html "body weight")
 * sent beside vital signs in one transaction, as EHRs do: the vital signs are
 * taken, the weight is left out and reported per entry, never the whole
 * transaction refused; a transaction of only such entries stores nothing.
 */
static void a_transaction_takes_its_vital_signs_and_reports_each_entry_not_used(void **state)
{
    (void)state;
    vigil_fhir_batch b;
    vigil_fhir_issue is;
    json_t *r[] = {obs(A, T, "9279-1", 22, "/min"), obs(A, T, "29463-7", 81.5, "kg"),
                   obs(A, T, "8867-4", 96, "/min"), json_pack("{s:s}", "resourceType", "Patient")};
    assert_int_equal(parse(bundle(r, 4), &b, &is), VIGIL_OK);
    assert_int_equal(b.n_entries, 4);
    assert_int_equal(b.n_events, 1);
    assert_true(b.events[0].obs.rr_bpm == 22 && b.events[0].obs.hr_bpm == 96);
    assert_int_equal(b.n_skipped, 2);
    assert_int_equal(b.skipped[0].entry, 1);
    assert_int_equal(b.skipped[0].issue.severity, VIGIL_FHIR_SEV_WARNING);
    assert_int_equal(b.skipped[0].issue.code, VIGIL_FHIR_ISSUE_NOT_SUPPORTED);
    assert_string_equal(b.skipped[0].issue.expression, "Bundle.entry[1].resource.code");
    assert_non_null(strstr(b.skipped[0].issue.diagnostics, "29463-7"));
    assert_int_equal(b.skipped[1].entry, 3);
    assert_string_equal(b.skipped[1].issue.expression, "Bundle.entry[3].resource.resourceType");
    /* the response: 201 for the entries used, 200 with an OperationOutcome warning for the rest */
    char *j = NULL;
    vigil_err e = {0};
    assert_int_equal(vigil_fhir_transaction_response_skips_json(b.n_entries, NULL, b.skipped,
                                                                b.n_skipped, &j, &e),
                     VIGIL_OK);
    json_t *resp = json_loads(j, 0, NULL);
    vigil_fhir_free(j);
    assert_non_null(resp);
    json_t *ent = json_object_get(resp, "entry");
    assert_int_equal(json_array_size(ent), 4);
    const char *st0 = json_string_value(
        json_object_get(json_object_get(json_array_get(ent, 0), "response"), "status"));
    assert_string_equal(st0, "201 Created");
    json_t *r1 = json_object_get(json_array_get(ent, 1), "response");
    assert_string_equal(json_string_value(json_object_get(r1, "status")), "200 OK");
    json_t *issue0 = json_array_get(json_object_get(json_object_get(r1, "outcome"), "issue"), 0);
    assert_string_equal(json_string_value(json_object_get(issue0, "severity")), "warning");
    json_decref(resp);
    vigil_fhir_batch_fini(&b);
    /* nothing usable: refused, nothing to store */
    json_t *r2[] = {obs(A, T, "29463-7", 81.5, "kg")};
    assert_int_equal(parse(bundle(r2, 1), &b, &is), VIGIL_ERR_PARSE);
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_NOT_SUPPORTED);
    assert_string_equal(is.expression, "Bundle.entry[0].resource.code");
}

/* REQ FHIR-BUNDLE-TRANSACTION */
static void only_transaction_bundles_are_taken(void **state)
{
    (void)state;
    const char *types[] = {"batch", "collection", "searchset", "message", "document"};
    for (size_t i = 0; i < 5; i++) {
        json_t *r[] = {obs(A, T, "9279-1", 22, "/min")};
        json_t *bd = bundle(r, 1);
        json_object_set_new(bd, "type", json_string(types[i]));
        vigil_fhir_batch b;
        vigil_fhir_issue is;
        assert_int_equal(parse(bd, &b, &is), VIGIL_ERR_PARSE);
        assert_int_equal(is.code, VIGIL_FHIR_ISSUE_NOT_SUPPORTED);
        assert_string_equal(is.expression, "Bundle.type");
    }
}

static void an_empty_transaction_gives_no_events(void **state)
{
    (void)state;
    vigil_fhir_batch b;
    vigil_fhir_issue is;
    assert_int_equal(parse(bundle(NULL, 0), &b, &is), VIGIL_OK);
    assert_int_equal(b.n_events, 0);
    assert_int_equal(b.n_entries, 0);
    assert_true(b.transaction);
    vigil_fhir_batch_fini(&b);
}

static void more_entries_than_the_cap_is_too_costly(void **state)
{
    (void)state;
    json_t *entries = json_array();
    for (unsigned i = 0; i <= VIGIL_FHIR_MAX_ENTRIES; i++) {
        json_array_append_new(entries, json_object());
    }
    json_t *bd = json_pack("{s:s, s:s, s:o}", "resourceType", "Bundle", "type", "transaction",
                           "entry", entries);
    vigil_fhir_batch b;
    vigil_fhir_issue is;
    assert_int_equal(parse(bd, &b, &is), VIGIL_ERR_PARSE);
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_TOO_COSTLY);
    assert_string_equal(is.expression, "Bundle.entry");
    assert_int_equal(vigil_fhir_issue_http_status(&is), 413);
}

static void a_full_cap_of_entries_is_accepted(void **state)
{
    (void)state;
    json_t *entries = json_array();
    for (unsigned i = 0; i < VIGIL_FHIR_MAX_ENTRIES; i++) {
        char t[40];
        snprintf(t, sizeof t, "2024-06-12T%02u:%02u:00Z", i / 60 % 24, i % 60);
        json_array_append_new(entries,
                              json_pack("{s:o, s:{s:s, s:s}}", "resource",
                                        obs(A, t, "9279-1", 12 + (i % 9), "/min"), "request",
                                        "method", "POST", "url", "Observation"));
    }
    json_t *bd = json_pack("{s:s, s:s, s:o}", "resourceType", "Bundle", "type", "transaction",
                           "entry", entries);
    vigil_fhir_batch b;
    vigil_fhir_issue is;
    assert_int_equal(parse(bd, &b, &is), VIGIL_OK);
    /* 1000 entries over 1000 distinct minutes of a 24-hour clock: 1000 events */
    assert_int_equal(b.n_entries, VIGIL_FHIR_MAX_ENTRIES);
    assert_int_equal(b.n_events, VIGIL_FHIR_MAX_ENTRIES);
    vigil_fhir_batch_fini(&b);
}

static void generic_parse_takes_both_resource_types(void **state)
{
    (void)state;
    json_t *r[] = {obs(A, T, "9279-1", 22, "/min"), obs(A, T, "8867-4", 80, "/min")};
    json_t *bd = bundle(r, 2);
    char *s = json_dumps(bd, 0);
    json_decref(bd);
    vigil_fhir_batch b = {0};
    vigil_fhir_issue is;
    assert_int_equal(vigil_fhir_parse(s, strlen(s), &b, &is), VIGIL_OK);
    assert_true(b.transaction);
    assert_int_equal(b.n_entries, 2);
    assert_int_equal(b.n_events, 1);
    vigil_fhir_batch_fini(&b);
    /* the Observation entry point refuses a Bundle */
    vigil_obs_event ev;
    assert_int_equal(vigil_fhir_parse_observation(s, strlen(s), &ev, &is), VIGIL_ERR_PARSE);
    free(s);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(observations_of_one_patient_and_instant_form_one_event),
    cmocka_unit_test(different_patients_or_instants_form_separate_events_in_order),
    cmocka_unit_test(nhs_number_and_local_reference_are_not_merged_by_guesswork),
    cmocka_unit_test(same_vital_twice_in_one_set_is_a_duplicate),
    cmocka_unit_test(air_and_oxygen_in_one_set_conflict_agreeing_sources_merge),
    cmocka_unit_test(one_bad_entry_fails_the_whole_transaction),
    cmocka_unit_test(entries_must_be_post_observation_with_a_request),
    cmocka_unit_test(a_transaction_takes_its_vital_signs_and_reports_each_entry_not_used),
    cmocka_unit_test(only_transaction_bundles_are_taken),
    cmocka_unit_test(an_empty_transaction_gives_no_events),
    cmocka_unit_test(more_entries_than_the_cap_is_too_costly),
    cmocka_unit_test(a_full_cap_of_entries_is_accepted),
    cmocka_unit_test(generic_parse_takes_both_resource_types),
};

VIGIL_TEST_MAIN(tests)
