/*
 * test_fhir_parse.c: one Observation in, one event out. Every accepted code
 * and unit, every plausibility bound on both sides, statuses, date-times,
 * subjects and the refusals a single resource can meet. Inputs are built
 * with jansson from one realistic template so each test changes one thing.
 */
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "fhir_test_util.h"
#include "vigil/fhir.h"
#include "vigil_test.h"

#define LOINC "http://loinc.org"
#define SNOMED "http://snomed.info/sct"

/* A final, vital-signs, NHS-number-identified Observation at
 * 2024-06-12T14:30:00+01:00 with the given code and (when unit != NULL) a
 * UCUM valueQuantity. */
static json_t *obs(const char *system, const char *code, double value, const char *unit)
{
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:[{s:[{s:s, s:s}]}], s:{s:[{s:s, s:s}]}, s:{s:{s:s, s:s}}, s:s}",
        "resourceType", "Observation", "id", "obs-1", "status", "final", "category", "coding",
        "system", "http://terminology.hl7.org/CodeSystem/observation-category", "code",
        "vital-signs", "code", "coding", "system", system, "code", code, "subject", "identifier",
        "system", "https://fhir.nhs.uk/Id/nhs-number", "value", "9434765919", "effectiveDateTime",
        "2024-06-12T14:30:00+01:00");
    assert_non_null(o);
    if (unit != NULL) {
        json_object_set_new(o, "valueQuantity",
                            json_pack("{s:f, s:s, s:s}", "value", value, "system",
                                      "http://unitsofmeasure.org", "code", unit));
    }
    return o;
}

/* Parse o (consumed) as a single Observation. */
static vigil_status parse(json_t *o, vigil_obs_event *ev, vigil_fhir_issue *is)
{
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    assert_non_null(s);
    memset(is, 0, sizeof *is);
    vigil_status st = vigil_fhir_parse_observation(s, strlen(s), ev, is);
    free(s);
    return st;
}

static void expect_refused(json_t *o, vigil_status want_st, vigil_fhir_issue_type want_code,
                           const char *want_expr)
{
    vigil_obs_event ev;
    vigil_fhir_issue is;
    vigil_status st = parse(o, &ev, &is);
    if (st != want_st || is.code != want_code || strcmp(is.expression, want_expr) != 0) {
        print_message("got status %d %s at '%s': %s\n", (int)st,
                      vigil_fhir_issue_type_name(is.code), is.expression, is.diagnostics);
    }
    assert_int_equal(st, want_st);
    assert_string_equal(vigil_fhir_issue_type_name(is.code), vigil_fhir_issue_type_name(want_code));
    assert_string_equal(is.expression, want_expr);
}

static vigil_obs_event accepted(json_t *o)
{
    vigil_obs_event ev;
    vigil_fhir_issue is;
    vigil_status st = parse(o, &ev, &is);
    if (st != VIGIL_OK) {
        print_message("refused: %s at '%s': %s\n", vigil_fhir_issue_type_name(is.code),
                      is.expression, is.diagnostics);
    }
    assert_int_equal(st, VIGIL_OK);
    return ev;
}

/* Only the named parameter is measured. */
static void assert_only(const vigil_obs_event *ev, vigil_news2_param p)
{
    const vigil_obs *o = &ev->obs;
    assert_true((p == VIGIL_NEWS2_RR) != isnan(o->rr_bpm));
    assert_true((p == VIGIL_NEWS2_SPO2) != isnan(o->spo2_pct));
    assert_true((p == VIGIL_NEWS2_SBP) != isnan(o->sbp_mmhg));
    assert_true((p == VIGIL_NEWS2_HR) != isnan(o->hr_bpm));
    assert_true((p == VIGIL_NEWS2_TEMP) != isnan(o->temp_c));
    assert_true((p == VIGIL_NEWS2_O2) == (o->o2 != VIGIL_O2_UNKNOWN));
    assert_true((p == VIGIL_NEWS2_ACVPU) == (o->acvpu != VIGIL_ACVPU_UNKNOWN));
}

/* REQ FHIR-CODES, REQ FHIR-UNITS */
static void respiratory_rate_9279_1_in_per_min_and_breaths_per_min(void **state)
{
    (void)state;
    vigil_obs_event ev = accepted(obs(LOINC, "9279-1", 18, "/min"));
    assert_true(ev.obs.rr_bpm == 18.0);
    assert_only(&ev, VIGIL_NEWS2_RR);
    assert_string_equal(ev.nhs_number, "9434765919");
    assert_string_equal(ev.source_id, "obs-1");
    assert_int_equal(ev.source, VIGIL_SRC_FHIR);
    assert_int_equal(ev.t_ms, 1718199000000LL);
    ev = accepted(obs(LOINC, "9279-1", 31, "{breaths}/min"));
    assert_true(ev.obs.rr_bpm == 31.0);
}

static void heart_rate_8867_4_in_per_min_and_beats_per_min(void **state)
{
    (void)state;
    vigil_obs_event ev = accepted(obs(LOINC, "8867-4", 72, "/min"));
    assert_true(ev.obs.hr_bpm == 72.0);
    assert_only(&ev, VIGIL_NEWS2_HR);
    ev = accepted(obs(LOINC, "8867-4", 132.5, "{beats}/min"));
    assert_true(ev.obs.hr_bpm == 132.5);
}

static void oxygen_saturation_2708_6_and_59408_5_in_percent(void **state)
{
    (void)state;
    vigil_obs_event ev = accepted(obs(LOINC, "2708-6", 96, "%"));
    assert_true(ev.obs.spo2_pct == 96.0);
    assert_only(&ev, VIGIL_NEWS2_SPO2);
    ev = accepted(obs(LOINC, "59408-5", 88, "%"));
    assert_true(ev.obs.spo2_pct == 88.0);
    assert_int_equal(ev.obs.spo2_scale, 1); /* never inferred from FHIR */
}

static void systolic_8480_6_alone_in_mmhg(void **state)
{
    (void)state;
    vigil_obs_event ev = accepted(obs(LOINC, "8480-6", 101, "mm[Hg]"));
    assert_true(ev.obs.sbp_mmhg == 101.0);
    assert_only(&ev, VIGIL_NEWS2_SBP);
}

static json_t *bp_component(const char *code, double v)
{
    return json_pack("{s:{s:[{s:s, s:s}]}, s:{s:f, s:s, s:s}}", "code", "coding", "system", LOINC,
                     "code", code, "valueQuantity", "value", v, "system",
                     "http://unitsofmeasure.org", "code", "mm[Hg]");
}

static void bp_panel_85354_9_takes_systolic_and_ignores_diastolic(void **state)
{
    (void)state;
    json_t *o = obs(LOINC, "85354-9", 0, NULL);
    json_object_set_new(
        o, "component",
        json_pack("[o, o]", bp_component("8462-4", 250), bp_component("8480-6", 142)));
    vigil_obs_event ev = accepted(o);
    assert_true(ev.obs.sbp_mmhg == 142.0);
    assert_only(&ev, VIGIL_NEWS2_SBP);
    /* a diastolic value out of any range is not even read */
    o = obs(LOINC, "85354-9", 0, NULL);
    json_object_set_new(o, "component", json_pack("[o]", bp_component("8462-4", 70)));
    expect_refused(o, VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_REQUIRED, "Observation.component");
    o = obs(LOINC, "85354-9", 0, NULL);
    json_object_set_new(
        o, "component",
        json_pack("[o, o]", bp_component("8480-6", 120), bp_component("8480-6", 121)));
    expect_refused(o, VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_DUPLICATE, "Observation.component[1]");
    o = obs(LOINC, "85354-9", 0, NULL);
    json_object_set_new(o, "component", json_pack("[o]", bp_component("8480-6", 310)));
    expect_refused(o, VIGIL_ERR_IMPLAUSIBLE, VIGIL_FHIR_ISSUE_VALUE,
                   "Observation.component[0].valueQuantity.value");
}

static void temperature_8310_5_in_celsius_and_fahrenheit_converted(void **state)
{
    (void)state;
    vigil_obs_event ev = accepted(obs(LOINC, "8310-5", 37.2, "Cel"));
    assert_true(ev.obs.temp_c == 37.2);
    assert_only(&ev, VIGIL_NEWS2_TEMP);
    ev = accepted(obs(LOINC, "8310-5", 98.6, "[degF]"));
    assert_true(fabs(ev.obs.temp_c - 37.0) < 1e-9);
    ev = accepted(obs(LOINC, "8310-5", 95.0, "[degF]"));
    assert_true(fabs(ev.obs.temp_c - 35.0) < 1e-9);
    /* REQ NEWS2-ROUNDING applies after conversion: 100.49 F = 38.05 C */
    ev = accepted(obs(LOINC, "8310-5", 100.49, "[degF]"));
    assert_int_equal(vigil_news2_round_tenths(ev.obs.temp_c), 381);
}

/* REQ FHIR-O2-FIO2 */
static void inspired_oxygen_concentration_3150_0_21_is_air_above_is_oxygen(void **state)
{
    (void)state;
    vigil_obs_event ev = accepted(obs(LOINC, "3150-0", 21, "%"));
    assert_int_equal(ev.obs.o2, VIGIL_O2_AIR);
    assert_only(&ev, VIGIL_NEWS2_O2);
    ev = accepted(obs(LOINC, "3150-0", 20.9, "%"));
    assert_int_equal(ev.obs.o2, VIGIL_O2_AIR);
    ev = accepted(obs(LOINC, "3150-0", 21.5, "%"));
    assert_int_equal(ev.obs.o2, VIGIL_O2_OXYGEN);
    ev = accepted(obs(LOINC, "3150-0", 60, "%"));
    assert_int_equal(ev.obs.o2, VIGIL_O2_OXYGEN);
}

/* REQ FHIR-O2-FLOW */
static void inspired_oxygen_flow_3151_8_zero_is_air_any_flow_is_oxygen(void **state)
{
    (void)state;
    vigil_obs_event ev = accepted(obs(LOINC, "3151-8", 0, "L/min"));
    assert_int_equal(ev.obs.o2, VIGIL_O2_AIR);
    ev = accepted(obs(LOINC, "3151-8", 0.5, "l/min"));
    assert_int_equal(ev.obs.o2, VIGIL_O2_OXYGEN);
    ev = accepted(obs(LOINC, "3151-8", 15, "L/min"));
    assert_int_equal(ev.obs.o2, VIGIL_O2_OXYGEN);
    expect_refused(obs(LOINC, "3151-8", 2, "%"), VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_CODE_INVALID,
                   "Observation.valueQuantity.code");
}

/* REQ FHIR-O2-SNOMED */
static void ukcore_room_air_and_on_oxygen_snomed_codes(void **state)
{
    (void)state;
    json_t *o = obs(SNOMED, "722742002", 0, NULL);
    vigil_obs_event ev = accepted(o);
    assert_int_equal(ev.obs.o2, VIGIL_O2_AIR);
    assert_only(&ev, VIGIL_NEWS2_O2);
    ev = accepted(obs(SNOMED, "371825009", 0, NULL));
    assert_int_equal(ev.obs.o2, VIGIL_O2_OXYGEN);
    ev = accepted(obs(SNOMED, "371825009", 4, "L/min"));
    assert_int_equal(ev.obs.o2, VIGIL_O2_OXYGEN);
    /* REQ FHIR-O2-CONFLICT: the code and the flow disagree */
    expect_refused(obs(SNOMED, "371825009", 0, "L/min"), VIGIL_ERR_PARSE,
                   VIGIL_FHIR_ISSUE_BUSINESS_RULE, "Observation.valueQuantity.value");
    expect_refused(obs(SNOMED, "722742002", 2, "L/min"), VIGIL_ERR_PARSE,
                   VIGIL_FHIR_ISSUE_BUSINESS_RULE, "Observation.valueQuantity.value");
}

static void pulse_oximetry_with_flow_component_sets_oxygen(void **state)
{
    (void)state;
    json_t *o = obs(LOINC, "59408-5", 94, "%");
    json_object_set_new(o, "component",
                        json_pack("[{s:{s:[{s:s, s:s}]}, s:{s:i, s:s, s:s}}]", "code", "coding",
                                  "system", LOINC, "code", "3151-8", "valueQuantity", "value", 3,
                                  "system", "http://unitsofmeasure.org", "code", "L/min"));
    vigil_obs_event ev = accepted(o);
    assert_true(ev.obs.spo2_pct == 94.0);
    assert_int_equal(ev.obs.o2, VIGIL_O2_OXYGEN);
    /* a flow and an FiO2 that disagree in one resource */
    o = obs(LOINC, "59408-5", 94, "%");
    json_object_set_new(
        o, "component",
        json_pack("[{s:{s:[{s:s, s:s}]}, s:{s:i, s:s, s:s}}, {s:{s:[{s:s, s:s}]}, s:{s:i, s:s, "
                  "s:s}}]",
                  "code", "coding", "system", LOINC, "code", "3151-8", "valueQuantity", "value", 3,
                  "system", "http://unitsofmeasure.org", "code", "L/min", "code", "coding",
                  "system", LOINC, "code", "3150-0", "valueQuantity", "value", 21, "system",
                  "http://unitsofmeasure.org", "code", "%"));
    expect_refused(o, VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_BUSINESS_RULE,
                   "Observation.component[1].valueQuantity.value");
}

static json_t *acvpu_obs(const char *value_code)
{
    json_t *o = obs(SNOMED, "1104441000000107", 0, NULL);
    json_object_set_new(
        o, "valueCodeableConcept",
        json_pack("{s:[{s:s, s:s}]}", "coding", "system", SNOMED, "code", value_code));
    return o;
}

/* REQ FHIR-ACVPU-SNOMED */
static void acvpu_each_ukcore_snomed_value_maps_to_its_level(void **state)
{
    (void)state;
    static const struct {
        const char *code;
        vigil_acvpu want;
    } cases[] = {
        {"248234008", VIGIL_ACVPU_A}, {"130987000", VIGIL_ACVPU_C}, {"300202002", VIGIL_ACVPU_V},
        {"450847001", VIGIL_ACVPU_P}, {"422768004", VIGIL_ACVPU_U},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vigil_obs_event ev = accepted(acvpu_obs(cases[i].code));
        assert_int_equal(ev.obs.acvpu, cases[i].want);
        assert_only(&ev, VIGIL_NEWS2_ACVPU);
    }
    expect_refused(acvpu_obs("271782001"), VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_CODE_INVALID,
                   "Observation.valueCodeableConcept.coding");
    /* a category of any kind is enough for UK Core ACVPU; none is not */
    json_t *o = acvpu_obs("248234008");
    json_object_del(o, "category");
    expect_refused(o, VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_REQUIRED, "Observation.category");
}

/* REQ FHIR-ACVPU-STRING */
static void acvpu_value_string_single_letter_is_the_documented_fallback(void **state)
{
    (void)state;
    const char *letters = "ACVPU";
    for (int i = 0; i < 5; i++) {
        json_t *o = obs(SNOMED, "1104441000000107", 0, NULL);
        char s[2] = {letters[i], '\0'};
        json_object_set_new(o, "valueString", json_string(s));
        vigil_obs_event ev = accepted(o);
        assert_int_equal(ev.obs.acvpu, VIGIL_ACVPU_A + i);
    }
    json_t *o = obs(SNOMED, "1104441000000107", 0, NULL);
    json_object_set_new(o, "valueString", json_string("a"));
    expect_refused(o, VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_CODE_INVALID, "Observation.valueString");
}

/* REQ NEWS2-PLAUSIBLE, REQ FHIR-O2-BOUNDS: each bound accepted on it, refused just past
 * it */
static void every_plausibility_bound_is_inclusive_and_refused_just_outside(void **state)
{
    (void)state;
    static const struct {
        const char *code;
        const char *unit;
        double lo, hi;
    } b[] = {
        {"9279-1", "/min", VIGIL_RR_MIN, VIGIL_RR_MAX},
        {"8867-4", "/min", VIGIL_HR_MIN, VIGIL_HR_MAX},
        {"2708-6", "%", VIGIL_SPO2_MIN, VIGIL_SPO2_MAX},
        {"8480-6", "mm[Hg]", VIGIL_SBP_MIN, VIGIL_SBP_MAX},
        {"8310-5", "Cel", VIGIL_TEMP_MIN, VIGIL_TEMP_MAX},
        {"3150-0", "%", 20.0, 100.0},
        {"3151-8", "L/min", 0.0, 80.0},
    };
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) {
        accepted(obs(LOINC, b[i].code, b[i].lo, b[i].unit));
        accepted(obs(LOINC, b[i].code, b[i].hi, b[i].unit));
        expect_refused(obs(LOINC, b[i].code, b[i].lo - 0.1, b[i].unit), VIGIL_ERR_IMPLAUSIBLE,
                       VIGIL_FHIR_ISSUE_VALUE, "Observation.valueQuantity.value");
        expect_refused(obs(LOINC, b[i].code, b[i].hi + 0.1, b[i].unit), VIGIL_ERR_IMPLAUSIBLE,
                       VIGIL_FHIR_ISSUE_VALUE, "Observation.valueQuantity.value");
    }
    /* Fahrenheit is checked after conversion: 113 F = 45 C, 77 F = 25 C */
    accepted(obs(LOINC, "8310-5", 113.0, "[degF]"));
    accepted(obs(LOINC, "8310-5", 77.0, "[degF]"));
    expect_refused(obs(LOINC, "8310-5", 113.2, "[degF]"), VIGIL_ERR_IMPLAUSIBLE,
                   VIGIL_FHIR_ISSUE_VALUE, "Observation.valueQuantity.value");
    /* a Celsius reading sent as Fahrenheit is caught, not scored as 37 F */
    expect_refused(obs(LOINC, "8310-5", 37.0, "[degF]"), VIGIL_ERR_IMPLAUSIBLE,
                   VIGIL_FHIR_ISSUE_VALUE, "Observation.valueQuantity.value");
}

static void implausible_value_names_the_value_and_unit(void **state)
{
    (void)state;
    vigil_obs_event ev;
    vigil_fhir_issue is;
    assert_int_equal(parse(obs(LOINC, "9279-1", 95, "/min"), &ev, &is), VIGIL_ERR_IMPLAUSIBLE);
    assert_non_null(strstr(is.diagnostics, "respiratory rate 95 /min"));
    assert_non_null(strstr(is.diagnostics, "0 to 80"));
    assert_int_equal(is.severity, VIGIL_FHIR_SEV_ERROR);
    assert_int_equal(vigil_fhir_issue_http_status(&is), 422);
}

/* REQ FHIR-STATUS */
static void final_amended_corrected_accepted_other_statuses_refused(void **state)
{
    (void)state;
    const char *ok[] = {"final", "amended", "corrected"};
    for (size_t i = 0; i < 3; i++) {
        json_t *o = obs(LOINC, "9279-1", 18, "/min");
        json_object_set_new(o, "status", json_string(ok[i]));
        accepted(o);
    }
    const char *refused[] = {"registered", "preliminary", "cancelled", "entered-in-error",
                             "unknown"};
    for (size_t i = 0; i < 5; i++) {
        json_t *o = obs(LOINC, "9279-1", 18, "/min");
        json_object_set_new(o, "status", json_string(refused[i]));
        expect_refused(o, VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_NOT_SUPPORTED, "Observation.status");
    }
    json_t *o = obs(LOINC, "9279-1", 18, "/min");
    json_object_set_new(o, "status", json_string("Final"));
    expect_refused(o, VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_VALUE, "Observation.status");
    o = obs(LOINC, "9279-1", 18, "/min");
    json_object_del(o, "status");
    expect_refused(o, VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_REQUIRED, "Observation.status");
}

static int64_t when(const char *dt, vigil_status *st, vigil_fhir_issue *is)
{
    json_t *o = obs(LOINC, "9279-1", 18, "/min");
    json_object_set_new(o, "effectiveDateTime", json_string(dt));
    vigil_obs_event ev;
    ev.t_ms = -1;
    *st = parse(o, &ev, is);
    return ev.t_ms;
}

/* REQ FHIR-DATETIME-FULL, REQ FHIR-DATETIME-ZONE */
static void date_times_convert_to_utc_milliseconds(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t ms;
    } ok[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"2024-06-12T14:30:00+01:00", 1718199000000LL},
        {"2024-06-12T13:30:00Z", 1718199000000LL},
        {"2024-06-12T08:30:00-05:00", 1718199000000LL},
        {"2024-06-12T13:30:00.5Z", 1718199000500LL},
        {"2024-06-12T13:30:00.123456Z", 1718199000123LL}, /* truncated, not rounded */
        {"2024-02-29T12:00:00Z", 1709208000000LL},
        {"2000-02-29T00:00:00Z", 951782400000LL},
        {"2024-06-12T23:59:60Z", 1718236800000LL}, /* leap second = next midnight */
        {"2024-06-13T03:30:00+14:00", 1718199000000LL},
        {"1969-12-31T23:59:59.999Z", -1},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        vigil_status st;
        vigil_fhir_issue is;
        int64_t t = when(ok[i].text, &st, &is);
        if (st != VIGIL_OK || t != ok[i].ms) {
            print_message("%s -> %lld (%s)\n", ok[i].text, (long long)t, is.diagnostics);
        }
        assert_int_equal(st, VIGIL_OK);
        assert_int_equal(t, ok[i].ms);
    }
}

static void partial_dates_local_times_and_impossible_dates_are_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "2024",                      /* partial */
        "2024-06",                   /* partial */
        "2024-06-12",                /* date only */
        "2024-06-12T14:30:00",       /* no zone */
        "2024-06-12T14:30Z",         /* no seconds */
        "2024-06-12 14:30:00Z",      /* space for T */
        "2024-06-12t14:30:00z",      /* lower case */
        "2023-02-29T12:00:00Z",      /* not a leap year */
        "1900-02-29T12:00:00Z",      /* century rule */
        "2024-04-31T12:00:00Z",      /* 30-day month */
        "2024-13-01T12:00:00Z",      /* month 13 */
        "2024-06-12T24:00:00Z",      /* hour 24 */
        "2024-06-12T14:60:00Z",      /* minute 60 */
        "2024-06-12T14:30:00.Z",     /* empty fraction */
        "2024-06-12T14:30:00+14:30", /* beyond +14:00 */
        "2024-06-12T14:30:00+0100",  /* no colon */
        "2024-06-12T14:30:00+01:00x",
        "0000-01-01T00:00:00Z", /* year 0 is not FHIR */
        "12/06/2024 14:30",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vigil_status st;
        vigil_fhir_issue is;
        when(bad[i], &st, &is);
        if (st != VIGIL_ERR_PARSE) {
            print_message("accepted %s\n", bad[i]);
        }
        assert_int_equal(st, VIGIL_ERR_PARSE);
        assert_int_equal(is.code, VIGIL_FHIR_ISSUE_VALUE);
        assert_string_equal(is.expression, "Observation.effectiveDateTime");
    }
}

static void effective_instant_is_read_and_period_is_refused(void **state)
{
    (void)state;
    json_t *o = obs(LOINC, "9279-1", 18, "/min");
    json_object_del(o, "effectiveDateTime");
    json_object_set_new(o, "effectiveInstant", json_string("2024-06-12T13:30:00.250Z"));
    vigil_obs_event ev = accepted(o);
    assert_int_equal(ev.t_ms, 1718199000250LL);
    o = obs(LOINC, "9279-1", 18, "/min");
    json_object_set_new(o, "effectivePeriod", json_pack("{s:s}", "start", "2024-06-12T13:30:00Z"));
    expect_refused(o, VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_NOT_SUPPORTED,
                   "Observation.effectivePeriod");
}

/* REQ FHIR-SUBJECT, REQ NHS-NUMBER-CHECK */
static void subject_by_nhs_number_reference_or_local_identifier(void **state)
{
    (void)state;
    json_t *o = obs(LOINC, "9279-1", 18, "/min");
    json_object_set_new(o, "subject", json_pack("{s:s}", "reference", "Patient/RTH-4471023"));
    vigil_obs_event ev = accepted(o);
    assert_string_equal(ev.mrn, "RTH-4471023");
    assert_string_equal(ev.nhs_number, "");

    o = obs(LOINC, "9279-1", 18, "/min");
    json_object_set_new(o, "subject",
                        json_pack("{s:{s:s, s:s}}", "identifier", "system",
                                  "https://fhir.example-trust.nhs.uk/Id/mrn", "value", "K123456"));
    ev = accepted(o);
    assert_string_equal(ev.mrn, "K123456");

    o = obs(LOINC, "9279-1", 18, "/min");
    json_object_set_new(
        o, "subject",
        json_pack("{s:s}", "reference",
                  "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|4010232137"));
    ev = accepted(o);
    assert_string_equal(ev.nhs_number, "4010232137");

    /* the conditional reference and the identifier must agree */
    o = obs(LOINC, "9279-1", 18, "/min");
    json_object_set_new(o, "subject",
                        json_pack("{s:s, s:{s:s, s:s}}", "reference",
                                  "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|4010232137",
                                  "identifier", "system", "https://fhir.nhs.uk/Id/nhs-number",
                                  "value", "9434765919"));
    expect_refused(o, VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_INVALID,
                   "Observation.subject.identifier.value");

    o = obs(LOINC, "9279-1", 18, "/min");
    json_object_set_new(
        o, "subject", json_pack("{s:s, s:s}", "reference", "Patient/RTH-4471023", "type", "Group"));
    expect_refused(o, VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_NOT_SUPPORTED, "Observation.subject.type");

    const char *bad_nhs[] = {"9434765918", "943476591", "94347659190", "943-476-5919",
                             "0000000060"};
    for (size_t i = 0; i < sizeof bad_nhs / sizeof bad_nhs[0]; i++) {
        o = obs(LOINC, "9279-1", 18, "/min");
        json_object_set_new(json_object_get(json_object_get(o, "subject"), "identifier"), "value",
                            json_string(bad_nhs[i]));
        expect_refused(o, VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_VALUE,
                       "Observation.subject.identifier.value");
    }
    o = obs(LOINC, "9279-1", 18, "/min");
    json_object_set_new(json_object_get(json_object_get(o, "subject"), "identifier"), "value",
                        json_integer(9434765919LL));
    expect_refused(o, VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_STRUCTURE,
                   "Observation.subject.identifier.value");
}

static void performer_reference_identifier_or_display_becomes_recorded_by(void **state)
{
    (void)state;
    json_t *o = obs(LOINC, "9279-1", 18, "/min");
    json_object_set_new(o, "performer", json_pack("[{s:s}]", "reference", "Practitioner/abc"));
    assert_string_equal(accepted(o).recorded_by, "Practitioner/abc");
    o = obs(LOINC, "9279-1", 18, "/min");
    json_object_set_new(o, "performer",
                        json_pack("[{s:{s:s, s:s}}]", "identifier", "system",
                                  "https://fhir.nhs.uk/Id/sds-user-id", "value", "555033339101"));
    assert_string_equal(accepted(o).recorded_by, "555033339101");
    o = obs(LOINC, "9279-1", 18, "/min");
    json_object_set_new(o, "performer", json_pack("[{s:s}]", "display", "Sarah Okafor RN"));
    assert_string_equal(accepted(o).recorded_by, "Sarah Okafor RN");
    o = obs(LOINC, "9279-1", 18, "/min");
    char longref[80];
    memset(longref, 'x', sizeof longref - 1);
    longref[sizeof longref - 1] = '\0';
    json_object_set_new(o, "performer", json_pack("[{s:s}]", "reference", longref));
    expect_refused(o, VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_TOO_LONG,
                   "Observation.performer[0].reference");
}

/* REQ FHIR-DATA-ABSENT */
static void data_absent_reason_leaves_the_vital_not_measured(void **state)
{
    (void)state;
    json_t *o = obs(LOINC, "2708-6", 0, NULL);
    json_object_set_new(o, "dataAbsentReason",
                        json_pack("{s:[{s:s, s:s}]}", "coding", "system",
                                  "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                                  "code", "asked-declined"));
    vigil_obs_event ev = accepted(o);
    assert_true(isnan(ev.obs.spo2_pct));
    assert_only(&ev, VIGIL_NEWS2_PARAM_COUNT);
    vigil_news2 s;
    assert_int_equal(vigil_news2_score(&ev.obs, &s, NULL), VIGIL_OK);
    assert_false(s.complete);
    assert_int_equal(s.sub[VIGIL_NEWS2_SPO2], VIGIL_NEWS2_SUB_MISSING);
}

/* REQ FHIR-UNKNOWN-CODE */
static void unknown_code_is_refused_not_supported_naming_the_code(void **state)
{
    (void)state;
    vigil_obs_event ev;
    vigil_fhir_issue is;
    assert_int_equal(parse(obs(LOINC, "8302-2", 170, "cm"), &ev, &is), VIGIL_ERR_PARSE);
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_NOT_SUPPORTED);
    assert_string_equal(is.expression, "Observation.code");
    assert_non_null(strstr(is.diagnostics, "http://loinc.org|8302-2"));
    /* a LOINC vital code in the wrong system is unknown too */
    expect_refused(obs(SNOMED, "9279-1", 18, "/min"), VIGIL_ERR_PARSE,
                   VIGIL_FHIR_ISSUE_NOT_SUPPORTED, "Observation.code");
}

/* REQ FHIR-MODIFIERS */
static void modifier_extensions_and_implicit_rules_are_refused(void **state)
{
    (void)state;
    json_t *o = obs(LOINC, "9279-1", 18, "/min");
    json_object_set_new(o, "implicitRules", json_string("https://example.nhs.uk/rules"));
    expect_refused(o, VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_NOT_SUPPORTED, "Observation.implicitRules");
    o = obs(LOINC, "85354-9", 0, NULL);
    json_t *comp = bp_component("8480-6", 120);
    json_object_set_new(comp, "modifierExtension", json_pack("[{s:s}]", "url", "x"));
    json_object_set_new(o, "component", json_pack("[o]", comp));
    expect_refused(o, VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_EXTENSION,
                   "Observation.component[0].modifierExtension");
    /* ordinary extensions are ignored */
    o = obs(LOINC, "9279-1", 18, "/min");
    json_object_set_new(o, "extension", json_pack("[{s:s, s:b}]", "url", "x", "valueBoolean", 1));
    accepted(o);
}

/* REQ FHIR-CATEGORY */
static void loinc_vitals_need_category_vital_signs_ukcore_snomed_any_category(void **state)
{
    (void)state;
    json_t *o = obs(LOINC, "8867-4", 72, "/min");
    json_object_set_new(o, "category",
                        json_pack("[{s:[{s:s, s:s}]}, {s:s}]", "coding", "system",
                                  "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code", "exam", "text", "Vital Signs"));
    expect_refused(o, VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_CODE_INVALID, "Observation.category");
    o = obs(LOINC, "8867-4", 72, "/min");
    json_array_insert_new(json_object_get(o, "category"), 0,
                          json_pack("{s:[{s:s, s:s}]}", "coding", "system",
                                    "http://terminology.hl7.org/CodeSystem/observation-category",
                                    "code", "exam"));
    accepted(o); /* vital-signs second of two */
    o = obs(SNOMED, "722742002", 0, NULL);
    json_object_set_new(o, "category",
                        json_pack("[{s:[{s:s, s:s}]}]", "coding", "system",
                                  "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code", "survey"));
    assert_int_equal(accepted(o).obs.o2, VIGIL_O2_AIR);
}

/* REQ FHIR-JSON-STRICT */
static void duplicate_keys_and_trailing_text_are_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"resourceType\":\"Observation\",\"resourceType\":\"Observation\"}",
        "{\"resourceType\":\"Observation\"} x",
        "{\"resourceType\":\"Obs\\u0000ervation\"}",
        "{\"resourceType\":\"Observation\",}",
        "\xef\xbb\xbf{\"resourceType\":\"Observation\"}", /* a byte-order mark */
        "{\"resourceType\":\"\xc3\x28\"}",                /* not UTF-8 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vigil_obs_event ev;
        vigil_fhir_issue is;
        assert_int_equal(vigil_fhir_parse_observation(bad[i], strlen(bad[i]), &ev, &is),
                         VIGIL_ERR_PARSE);
        assert_int_equal(is.code, VIGIL_FHIR_ISSUE_STRUCTURE);
        assert_string_equal(is.expression, "");
    }
}

static void wrong_json_types_are_structure_errors(void **state)
{
    (void)state;
    json_t *o = obs(LOINC, "9279-1", 18, "/min");
    json_object_set_new(o, "category", json_pack("{s:s}", "text", "vital signs"));
    expect_refused(o, VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_STRUCTURE, "Observation.category");
    o = obs(LOINC, "9279-1", 18, "/min");
    json_object_set_new(o, "code", json_string("9279-1"));
    expect_refused(o, VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_STRUCTURE, "Observation.code");
    o = obs(LOINC, "9279-1", 18, "/min");
    json_object_set_new(o, "category", json_array());
    expect_refused(o, VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_STRUCTURE, "Observation.category");
    o = obs(LOINC, "9279-1", 18, "/min");
    json_object_set_new(o, "status", json_string(""));
    expect_refused(o, VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_VALUE, "Observation.status");
    o = obs(LOINC, "9279-1", 18, "/min");
    json_object_set_new(o, "valueString", json_string("18"));
    expect_refused(o, VIGIL_ERR_PARSE, VIGIL_FHIR_ISSUE_STRUCTURE, "Observation.valueString");
}

static void on_error_the_output_event_is_unchanged(void **state)
{
    (void)state;
    vigil_obs_event ev, before;
    memset(&ev, 0x5a, sizeof ev);
    before = ev;
    vigil_fhir_issue is;
    assert_int_equal(parse(obs(LOINC, "9279-1", 95, "/min"), &ev, &is), VIGIL_ERR_IMPLAUSIBLE);
    assert_memory_equal(&ev, &before, sizeof ev);
    /* a NULL issue is allowed */
    const char *txt = "{\"resourceType\":\"Patient\"}";
    assert_int_equal(vigil_fhir_parse_observation(txt, strlen(txt), &ev, NULL), VIGIL_ERR_PARSE);
    assert_int_equal(vigil_fhir_parse_observation(NULL, 0, &ev, NULL), VIGIL_ERR_ARG);
}

static void entry_points_refuse_the_other_resource_type(void **state)
{
    (void)state;
    const char *bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\"}";
    vigil_obs_event ev;
    vigil_fhir_issue is;
    assert_int_equal(vigil_fhir_parse_observation(bundle, strlen(bundle), &ev, &is),
                     VIGIL_ERR_PARSE);
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_NOT_SUPPORTED);
    assert_string_equal(is.expression, "resourceType");
    json_t *tree = obs(LOINC, "9279-1", 18, "/min");
    char *o = json_dumps(tree, 0);
    json_decref(tree);
    vigil_fhir_batch b = {0};
    assert_int_equal(vigil_fhir_parse_transaction(o, strlen(o), &b, &is), VIGIL_ERR_PARSE);
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_NOT_SUPPORTED);
    assert_int_equal(vigil_fhir_parse(o, strlen(o), &b, &is), VIGIL_OK);
    assert_int_equal(b.n_events, 1);
    assert_int_equal(b.n_entries, 1);
    assert_false(b.transaction);
    assert_true(b.events[0].obs.rr_bpm == 18.0);
    vigil_fhir_batch_fini(&b);
    assert_null(b.events);
    vigil_fhir_batch_fini(NULL);
    free(o);
}

static void input_over_the_size_cap_is_too_costly_and_not_json_is_fatal(void **state)
{
    (void)state;
    size_t n = VIGIL_FHIR_MAX_BYTES + 1;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, ' ', n);
    vigil_obs_event ev;
    vigil_fhir_issue is;
    assert_int_equal(vigil_fhir_parse_observation(big, n, &ev, &is), VIGIL_ERR_PARSE);
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_TOO_COSTLY);
    assert_int_equal(vigil_fhir_issue_http_status(&is), 413);
    free(big);
    assert_int_equal(vigil_fhir_parse_observation("{", 1, &ev, &is), VIGIL_ERR_PARSE);
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_STRUCTURE);
    assert_int_equal(is.severity, VIGIL_FHIR_SEV_FATAL);
    assert_string_equal(is.expression, "");
    assert_int_equal(vigil_fhir_issue_http_status(&is), 400);
    /* embedded NUL in the byte range is not JSON */
    assert_int_equal(vigil_fhir_parse_observation("{}\0{}", 5, &ev, &is), VIGIL_ERR_PARSE);
    assert_int_equal(is.code, VIGIL_FHIR_ISSUE_STRUCTURE);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(respiratory_rate_9279_1_in_per_min_and_breaths_per_min),
    cmocka_unit_test(heart_rate_8867_4_in_per_min_and_beats_per_min),
    cmocka_unit_test(oxygen_saturation_2708_6_and_59408_5_in_percent),
    cmocka_unit_test(systolic_8480_6_alone_in_mmhg),
    cmocka_unit_test(bp_panel_85354_9_takes_systolic_and_ignores_diastolic),
    cmocka_unit_test(temperature_8310_5_in_celsius_and_fahrenheit_converted),
    cmocka_unit_test(inspired_oxygen_concentration_3150_0_21_is_air_above_is_oxygen),
    cmocka_unit_test(inspired_oxygen_flow_3151_8_zero_is_air_any_flow_is_oxygen),
    cmocka_unit_test(ukcore_room_air_and_on_oxygen_snomed_codes),
    cmocka_unit_test(pulse_oximetry_with_flow_component_sets_oxygen),
    cmocka_unit_test(acvpu_each_ukcore_snomed_value_maps_to_its_level),
    cmocka_unit_test(acvpu_value_string_single_letter_is_the_documented_fallback),
    cmocka_unit_test(every_plausibility_bound_is_inclusive_and_refused_just_outside),
    cmocka_unit_test(implausible_value_names_the_value_and_unit),
    cmocka_unit_test(final_amended_corrected_accepted_other_statuses_refused),
    cmocka_unit_test(date_times_convert_to_utc_milliseconds),
    cmocka_unit_test(partial_dates_local_times_and_impossible_dates_are_refused),
    cmocka_unit_test(effective_instant_is_read_and_period_is_refused),
    cmocka_unit_test(subject_by_nhs_number_reference_or_local_identifier),
    cmocka_unit_test(performer_reference_identifier_or_display_becomes_recorded_by),
    cmocka_unit_test(data_absent_reason_leaves_the_vital_not_measured),
    cmocka_unit_test(unknown_code_is_refused_not_supported_naming_the_code),
    cmocka_unit_test(modifier_extensions_and_implicit_rules_are_refused),
    cmocka_unit_test(loinc_vitals_need_category_vital_signs_ukcore_snomed_any_category),
    cmocka_unit_test(duplicate_keys_and_trailing_text_are_refused),
    cmocka_unit_test(wrong_json_types_are_structure_errors),
    cmocka_unit_test(on_error_the_output_event_is_unchanged),
    cmocka_unit_test(entry_points_refuse_the_other_resource_type),
    cmocka_unit_test(input_over_the_size_cap_is_too_costly_and_not_json_is_fatal),
};

VIGIL_TEST_MAIN(tests)
