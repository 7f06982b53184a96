/*
 * test_fhir_golden.c: the golden files of the FHIR module.
 *  - tests/golden/fhir/good/<name>.json parse to exactly the events in
 *    <name>.events (one canonical line per event, fhir_test_util.h).
 *  - tests/golden/fhir/bad/<name>.json are each refused with the issue code
 *    and FHIRPath expression listed for them in bad/expected.tsv, and the
 *    OperationOutcome built from the issue has that shape.
 *  - tests/golden/fhir/out/<name>.json are exactly what the builders write
 *    for the fixed events below (compared as JSON values).
 * Every file needs its expectation: a new input without one fails.
 */
#include <dirent.h>
#include <jansson.h>
#include <string.h>

#include "fhir_test_util.h"
#include "vigil/fhir.h"
#include "vigil_test.h"

#define MAX_FILES 128

/* Sorted names of *.json in a directory under the source tree. */
static size_t list_json(const char *rel, char names[][128], size_t cap)
{
    char path[1024];
    src_path(path, sizeof path, rel);
    DIR *d = opendir(path);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len > 5 && strcmp(de->d_name + len - 5, ".json") == 0 && n < cap && len < 128) {
            memcpy(names[n], de->d_name, len + 1);
            n++;
        }
    }
    closedir(d);
    qsort(names, n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
    return n;
}

static void good_inputs_produce_exactly_their_golden_events(void **state)
{
    (void)state;
    static char names[MAX_FILES][128];
    size_t n = list_json("tests/golden/fhir/good", names, MAX_FILES);
    assert_true(n >= 8);
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        char rel[512];
        snprintf(rel, sizeof rel, "tests/golden/fhir/good/%s", names[i]);
        size_t len = 0;
        char *json = read_src(rel, &len);
        assert_non_null(json);
        vigil_fhir_batch b = {0};
        vigil_fhir_issue is = {0};
        vigil_status st = vigil_fhir_parse(json, len, &b, &is);
        free(json);
        if (st != VIGIL_OK) {
            print_message("%s: refused: %s %s: %s\n", names[i], vigil_fhir_issue_type_name(is.code),
                          is.expression, is.diagnostics);
            failures++;
            continue;
        }
        char actual[8192] = "";
        for (size_t e = 0; e < b.n_events; e++) {
            char line[1024];
            render_event(&b.events[e], line, sizeof line);
            strncat(actual, line, sizeof actual - strlen(actual) - 2);
            strncat(actual, "\n", sizeof actual - strlen(actual) - 1);
        }
        vigil_fhir_batch_fini(&b);
        snprintf(rel + strlen(rel) - 5, sizeof rel - (strlen(rel) - 5), ".events");
        char *expected = read_src(rel, NULL);
        if (expected == NULL || strcmp(expected, actual) != 0) {
            print_message("%s: events differ from %s\n--- expected\n%s--- actual\n%s", names[i],
                          rel, expected != NULL ? expected : "(no file)\n", actual);
            failures++;
        }
        free(expected);
    }
    assert_int_equal(failures, 0);
}

typedef struct expect_row {
    char name[128];
    char code[32];
    char expr[VIGIL_FHIR_EXPR_MAX];
} expect_row;

/* bad/expected.tsv: name TAB issue-code TAB expression ("-" for none). */
static size_t load_expectations(expect_row *rows, size_t cap)
{
    char *tsv = read_src("tests/golden/fhir/bad/expected.tsv", NULL);
    assert_non_null(tsv);
    size_t n = 0;
    char *save = NULL;
    for (char *line = strtok_r(tsv, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || line[0] == '\0') {
            continue;
        }
        char *t1 = strchr(line, '\t');
        char *t2 = t1 != NULL ? strchr(t1 + 1, '\t') : NULL;
        assert_non_null(t2);
        *t1 = '\0';
        *t2 = '\0';
        assert_true(n < cap);
        snprintf(rows[n].name, sizeof rows[n].name, "%s", line);
        snprintf(rows[n].code, sizeof rows[n].code, "%s", t1 + 1);
        snprintf(rows[n].expr, sizeof rows[n].expr, "%s", strcmp(t2 + 1, "-") == 0 ? "" : t2 + 1);
        n++;
    }
    free(tsv);
    return n;
}

/* The OperationOutcome for an issue has the R4 shape and the same content. */
static void check_outcome_json(const vigil_fhir_issue *is)
{
    char *out = NULL;
    assert_int_equal(vigil_fhir_outcome_json(is, 1, &out), VIGIL_OK);
    json_error_t e;
    json_t *root = json_loads(out, JSON_REJECT_DUPLICATES, &e);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "resourceType")),
                        "OperationOutcome");
    json_t *issue = json_array_get(json_object_get(root, "issue"), 0);
    assert_non_null(issue);
    assert_string_equal(json_string_value(json_object_get(issue, "code")),
                        vigil_fhir_issue_type_name(is->code));
    assert_string_equal(json_string_value(json_object_get(issue, "severity")),
                        vigil_fhir_severity_name(is->severity));
    assert_non_null(json_string_value(json_object_get(issue, "diagnostics")));
    json_t *ex = json_object_get(issue, "expression");
    if (is->expression[0] != '\0') {
        assert_string_equal(json_string_value(json_array_get(ex, 0)), is->expression);
    } else {
        assert_null(ex);
    }
    json_decref(root);
    vigil_fhir_free(out);
}

/* REQ FHIR-JSON-STRICT, REQ FHIR-UNKNOWN-CODE and every refusal in docs/fhir.md */
static void bad_inputs_are_refused_with_their_expected_code_and_expression(void **state)
{
    (void)state;
    static char names[MAX_FILES][128];
    static expect_row rows[MAX_FILES];
    size_t n = list_json("tests/golden/fhir/bad", names, MAX_FILES);
    size_t nrows = load_expectations(rows, MAX_FILES);
    assert_true(n >= 10);
    assert_int_equal(n, nrows);
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        const expect_row *row = NULL;
        for (size_t r = 0; r < nrows; r++) {
            if (strcmp(rows[r].name, names[i]) == 0) {
                row = &rows[r];
            }
        }
        if (row == NULL) {
            print_message("%s: no row in bad/expected.tsv\n", names[i]);
            failures++;
            continue;
        }
        char rel[512];
        snprintf(rel, sizeof rel, "tests/golden/fhir/bad/%s", names[i]);
        size_t len = 0;
        char *json = read_src(rel, &len);
        assert_non_null(json);
        vigil_fhir_batch b = {0};
        vigil_fhir_issue is;
        memset(&is, 0, sizeof is);
        vigil_status st = vigil_fhir_parse(json, len, &b, &is);
        free(json);
        if (st == VIGIL_OK) {
            print_message("%s: accepted, expected %s at %s\n", names[i], row->code, row->expr);
            vigil_fhir_batch_fini(&b);
            failures++;
            continue;
        }
        assert_null(b.events);
        assert_int_equal(b.n_events, 0);
        if (strcmp(vigil_fhir_issue_type_name(is.code), row->code) != 0 ||
            strcmp(is.expression, row->expr) != 0) {
            print_message("%s: got %s at '%s' (%s); expected %s at '%s'\n", names[i],
                          vigil_fhir_issue_type_name(is.code), is.expression, is.diagnostics,
                          row->code, row->expr);
            failures++;
            continue;
        }
        assert_true(is.diagnostics[0] != '\0');
        check_outcome_json(&is);
    }
    assert_int_equal(failures, 0);
}

/* ---- output goldens -------------------------------------------------------- */

/* The fixed events the output goldens were written from: a complete set
 * (NEWS2 5, medium) and an incomplete one (RR and temperature missing). */
static void fixed_events(vigil_obs_event *a, vigil_obs_event *b)
{
    vigil_obs_event_init(a);
    memcpy(a->nhs_number, "9434765919", 11);
    snprintf(a->mrn, sizeof a->mrn, "RTH-4471023");
    a->t_ms = 1718199000000; /* 2024-06-12T13:30:00Z */
    a->source = VIGIL_SRC_FHIR;
    snprintf(a->recorded_by, sizeof a->recorded_by, "Practitioner/rn-sarah-okafor");
    a->obs.rr_bpm = 22;
    a->obs.spo2_pct = 95;
    a->obs.o2 = VIGIL_O2_AIR;
    a->obs.sbp_mmhg = 118;
    a->obs.hr_bpm = 104;
    a->obs.acvpu = VIGIL_ACVPU_A;
    a->obs.temp_c = 38.4;

    vigil_obs_event_init(b);
    snprintf(b->mrn, sizeof b->mrn, "RTH-5520981");
    b->t_ms = 1733040000250; /* 2024-12-01T08:00:00.250Z */
    b->source = VIGIL_SRC_HL7;
    snprintf(b->recorded_by, sizeof b->recorded_by, "J. Bloggs (HCA)");
    b->obs.spo2_pct = 90;
    b->obs.o2 = VIGIL_O2_OXYGEN;
    b->obs.sbp_mmhg = 91;
    b->obs.hr_bpm = 131;
    b->obs.acvpu = VIGIL_ACVPU_V;
}

static void assert_json_equals_golden(const char *out, const char *golden_rel)
{
    json_error_t e;
    json_t *got = json_loads(out, JSON_REJECT_DUPLICATES, &e);
    assert_non_null(got);
    char *gold_text = read_src(golden_rel, NULL);
    if (gold_text == NULL) {
        print_message("missing %s; actual:\n%s\n", golden_rel, out);
    }
    assert_non_null(gold_text);
    json_t *gold = json_loads(gold_text, JSON_REJECT_DUPLICATES, &e);
    free(gold_text);
    assert_non_null(gold);
    if (!json_equal(got, gold)) {
        char *pretty = json_dumps(got, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
        print_message("%s differs; actual:\n%s\n", golden_rel, pretty);
        free(pretty);
    }
    assert_true(json_equal(got, gold));
    json_decref(got);
    json_decref(gold);
}

static void builders_write_exactly_the_golden_json(void **state)
{
    (void)state;
    vigil_obs_event a, b;
    fixed_events(&a, &b);
    vigil_news2 sa, sb;
    assert_int_equal(vigil_news2_score(&a.obs, &sa, NULL), VIGIL_OK);
    assert_int_equal(vigil_news2_score(&b.obs, &sb, NULL), VIGIL_OK);
    assert_true(sa.complete);
    assert_int_equal(sa.total, 5);
    assert_false(sb.complete);

    char *out = NULL;
    assert_int_equal(vigil_fhir_vital_json(&a, VIGIL_NEWS2_TEMP, "ev-0001", &out, NULL), VIGIL_OK);
    assert_json_equals_golden(out, "tests/golden/fhir/out/vital_temperature.json");
    vigil_fhir_free(out);

    assert_int_equal(vigil_fhir_news2_json(&a, &sa, "ev-0001", &out, NULL), VIGIL_OK);
    assert_json_equals_golden(out, "tests/golden/fhir/out/news2_complete.json");
    vigil_fhir_free(out);

    assert_int_equal(vigil_fhir_news2_json(&b, &sb, "ev-0002", &out, NULL), VIGIL_OK);
    assert_json_equals_golden(out, "tests/golden/fhir/out/news2_incomplete.json");
    vigil_fhir_free(out);

    vigil_fhir_search_item items[2] = {{&a, &sa, "ev-0001"}, {&b, NULL, "ev-0002"}};
    assert_int_equal(vigil_fhir_searchset_json(items, 2, "https://ward.example.nhs.uk/fhir",
                                               "https://ward.example.nhs.uk/fhir/"
                                               "Observation?subject:identifier=https://"
                                               "fhir.nhs.uk/Id/nhs-number|9434765919",
                                               &out, NULL),
                     VIGIL_OK);
    assert_json_equals_golden(out, "tests/golden/fhir/out/searchset.json");
    vigil_fhir_free(out);

    vigil_fhir_issue is = {VIGIL_FHIR_SEV_ERROR, VIGIL_FHIR_ISSUE_VALUE,
                           "Bundle.entry[2].resource.valueQuantity.value",
                           "oxygen saturation 104 % is outside the plausible range 20 to 100 %"};
    assert_int_equal(vigil_fhir_outcome_json(&is, 1, &out), VIGIL_OK);
    assert_json_equals_golden(out, "tests/golden/fhir/out/outcome_implausible.json");
    vigil_fhir_free(out);

    const char *locs[2] = {"Observation/ev-0001-rr/_history/1", NULL};
    assert_int_equal(vigil_fhir_transaction_response_json(2, locs, &out, NULL), VIGIL_OK);
    assert_json_equals_golden(out, "tests/golden/fhir/out/transaction_response.json");
    vigil_fhir_free(out);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(good_inputs_produce_exactly_their_golden_events),
    cmocka_unit_test(bad_inputs_are_refused_with_their_expected_code_and_expression),
    cmocka_unit_test(builders_write_exactly_the_golden_json),
};

VIGIL_TEST_MAIN(tests)
