/*
 * fuzz_fhir.c: libFuzzer target for the FHIR reader and writers.
 *
 * Feeds arbitrary bytes to vigil_fhir_parse and checks properties, aborting
 * on any violation (a crash is a finding):
 *  - a refusal always carries a known issue code and severity, a diagnostic,
 *    an HTTP status, and builds an OperationOutcome that is valid JSON;
 *  - an accepted input gives events that pass vigil_news2_validate and score;
 *  - every vital sign vigil writes for such an event is read back by vigil
 *    to the same value (round trip), and the NEWS2 and searchset builders
 *    write valid JSON.
 * Does not: touch files or the network; keep state between inputs.
 *
 * Build and run (docs/fhir.md):
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -Isrc/fhir \
 *     fuzz/fuzz_fhir.c src/fhir/\*.c src/core/\*.c src/util/\*.c \
 *     $(pkg-config --cflags --libs jansson) -lm -o build-fuzz/fuzz_fhir
 *   build-fuzz/fuzz_fhir -max_len=16384 fuzz/corpus/fhir
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/fhir.h"
#include "vigil/news2.h"
#include "vigil/ward.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_fhir: property failed at line %d: %s\n", __LINE__, #cond);       \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_json(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, &e);
    CHECK(j != NULL);
    json_decref(j);
}

static double value_of(const vigil_obs *o, vigil_news2_param p)
{
    switch (p) {
    case VIGIL_NEWS2_RR:
        return o->rr_bpm;
    case VIGIL_NEWS2_SPO2:
        return o->spo2_pct;
    case VIGIL_NEWS2_O2:
        return (double)o->o2;
    case VIGIL_NEWS2_SBP:
        return o->sbp_mmhg;
    case VIGIL_NEWS2_HR:
        return o->hr_bpm;
    case VIGIL_NEWS2_ACVPU:
        return (double)o->acvpu;
    case VIGIL_NEWS2_TEMP:
        return o->temp_c;
    default:
        return NAN;
    }
}

static void check_event(const vigil_obs_event *ev)
{
    CHECK(vigil_news2_validate(&ev->obs, NULL) == VIGIL_OK);
    CHECK(ev->source == VIGIL_SRC_FHIR);
    CHECK(ev->nhs_number[0] == '\0' || vigil_nhs_number_valid(ev->nhs_number));
    CHECK(ev->nhs_number[0] != '\0' || ev->mrn[0] != '\0');
    vigil_news2 score;
    CHECK(vigil_news2_score(&ev->obs, &score, NULL) == VIGIL_OK);
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        char *out = NULL;
        vigil_status st = vigil_fhir_vital_json(ev, (vigil_news2_param)p, "fz", &out, NULL);
        if (st == VIGIL_ERR_NOT_FOUND) {
            CHECK(score.sub[p] == VIGIL_NEWS2_SUB_MISSING);
            continue;
        }
        if (st == VIGIL_ERR_ARG) {
            continue; /* e.g. a local id that is not a FHIR id cannot be written */
        }
        CHECK(st == VIGIL_OK);
        check_json(out);
        vigil_obs_event back;
        vigil_fhir_issue is;
        vigil_status rst = vigil_fhir_parse_observation(out, strlen(out), &back, &is);
        if (rst != VIGIL_OK) {
            fprintf(stderr, "re-read refused: %s at %s: %s\n%s\n",
                    vigil_fhir_issue_type_name(is.code), is.expression, is.diagnostics, out);
        }
        CHECK(rst == VIGIL_OK);
        double a = value_of(&ev->obs, (vigil_news2_param)p);
        double b = value_of(&back.obs, (vigil_news2_param)p);
        CHECK(fabs(a - b) <= 1e-9 * (fabs(a) + 1.0));
        CHECK(back.t_ms == ev->t_ms);
        CHECK(strcmp(back.nhs_number, ev->nhs_number) == 0);
        CHECK(strcmp(back.mrn, ev->mrn) == 0);
        vigil_fhir_free(out);
    }
    char *out = NULL;
    vigil_status st = vigil_fhir_news2_json(ev, &score, "fz", &out, NULL);
    CHECK(st == VIGIL_OK || st == VIGIL_ERR_ARG);
    if (st == VIGIL_OK) {
        check_json(out);
        vigil_fhir_free(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vigil_fhir_batch b = {0};
    vigil_fhir_issue is;
    memset(&is, 0, sizeof is);
    vigil_status st = vigil_fhir_parse((const char *)data, size, &b, &is);
    if (st != VIGIL_OK) {
        CHECK(b.events == NULL && b.n_events == 0);
        CHECK((unsigned)is.code < VIGIL_FHIR_ISSUE_COUNT);
        CHECK((unsigned)is.severity < VIGIL_FHIR_SEV_COUNT);
        CHECK(is.diagnostics[0] != '\0');
        CHECK(memchr(is.expression, '\0', sizeof is.expression) != NULL);
        int http = vigil_fhir_issue_http_status(&is);
        CHECK(http == 400 || http == 413 || http == 422 || http == 500);
        char *out = NULL;
        CHECK(vigil_fhir_outcome_json(&is, 1, &out) == VIGIL_OK);
        check_json(out);
        vigil_fhir_free(out);
        return 0;
    }
    CHECK(b.n_events <= b.n_entries);
    for (size_t i = 0; i < b.n_events; i++) {
        check_event(&b.events[i]);
    }
    if (b.n_events > 0) {
        vigil_fhir_search_item item = {&b.events[0], NULL, "fz"};
        char *out = NULL;
        vigil_status s2 =
            vigil_fhir_searchset_json(&item, 1, "https://w.example/fhir", NULL, &out, NULL);
        CHECK(s2 == VIGIL_OK || s2 == VIGIL_ERR_ARG);
        if (s2 == VIGIL_OK) {
            check_json(out);
            vigil_fhir_free(out);
        }
    }
    vigil_fhir_batch_fini(&b);
    return 0;
}
