/* test_o2_readers.c: REQ VITALS-O2-BOUNDS (issue 11): the inhaled oxygen
 * concentration (FiO2) and flow have one set of plausible bounds and one
 * air threshold, the vital-sign table's, and the HL7 v2 and FHIR R4 readers
 * agree at every edge: on each bound accepted, just past it refused, at the
 * air threshold air, just above it oxygen. Before, FHIR accepted FiO2 20 %
 * (room air less a point of device error) and HL7 refused it. Messages as
 * in tests/hl7/test_hl7_oru.c (HL7 v2.5.1 ORU^R01, LOINC 3150-0 / 3151-8)
 * and tests/fhir/test_fhir_parse.c (FHIR R4 Observation with a UCUM
 * valueQuantity). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/fhir.h"
#include "vigil/hl7.h"
#include "vigil/vitals.h"
#include "vigil_test.h"

/* What a reader made of one value: refused, or air/oxygen. */
typedef enum { GOT_REFUSED, GOT_AIR, GOT_OXYGEN } got;

static got from_o2(vigil_o2 o2)
{
    return o2 == VIGIL_O2_AIR ? GOT_AIR : o2 == VIGIL_O2_OXYGEN ? GOT_OXYGEN : GOT_REFUSED;
}

static got hl7_reads(const vigil_vital_code *c, double v)
{
    char text[1024];
    int n = snprintf(text, sizeof text,
                     "MSH|^~\\&|EOBS|RX1|VIGIL|RX1|20250114083215+0000||ORU^R01^ORU_R01|C1|P|2.5.1\r"
                     "PID|1||9990000018^^^NHS^NH\r"
                     "OBR|1|||86290005^Vital signs^SCT|||20250114083000+0000\r"
                     "OBX|1|NM|%s^%s^LN||%.17g|%s|||||F\r",
                     c->code, c->text, v, c->o2_ucum);
    assert_true(n > 0 && (size_t)n < sizeof text);
    vigil_hl7_result *r = malloc(sizeof *r);
    assert_non_null(r);
    got g = GOT_REFUSED;
    if (vigil_hl7_decode(text, (size_t)n, NULL, r) == VIGIL_OK && r->n_events == 1) {
        g = from_o2(r->events[0].obs.o2);
    }
    free(r);
    return g;
}

static got fhir_reads(const vigil_vital_code *c, double v)
{
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:[{s:[{s:s, s:s}]}], s:{s:[{s:s, s:s}]}, s:{s:{s:s, s:s}}, s:s, "
        "s:{s:f, s:s, s:s}}",
        "resourceType", "Observation", "id", "obs-1", "status", "final", "category", "coding",
        "system", "http://terminology.hl7.org/CodeSystem/observation-category", "code",
        "vital-signs", "code", "coding", "system", "http://loinc.org", "code", c->code, "subject",
        "identifier", "system", "https://fhir.nhs.uk/Id/nhs-number", "value", "9434765919",
        "effectiveDateTime", "2024-06-12T14:30:00+01:00", "valueQuantity", "value", v, "system",
        "http://unitsofmeasure.org", "code", c->o2_ucum);
    assert_non_null(o);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    assert_non_null(s);
    vigil_obs_event ev;
    vigil_fhir_issue is;
    memset(&is, 0, sizeof is);
    vigil_status st = vigil_fhir_parse_observation(s, strlen(s), &ev, &is);
    free(s);
    return st == VIGIL_OK ? from_o2(ev.obs.o2) : GOT_REFUSED;
}

static const char *got_name(got g)
{
    return g == GOT_AIR ? "air" : g == GOT_OXYGEN ? "oxygen" : "refused";
}

static void check_edges(vigil_vital_form form)
{
    const vigil_vital_code *c = vigil_vital_code_of_form(form);
    assert_non_null(c);
    assert_true(c->o2_min <= c->o2_air_max && c->o2_air_max < c->o2_max);
    const struct {
        double v;
        got want;
    } edges[] = {
        {c->o2_min - 0.1, GOT_REFUSED},   {c->o2_min, GOT_AIR},
        {c->o2_air_max, GOT_AIR},         {c->o2_air_max + 0.1, GOT_OXYGEN},
        {c->o2_max, GOT_OXYGEN},          {c->o2_max + 0.1, GOT_REFUSED},
    };
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        got h = hl7_reads(c, edges[i].v), f = fhir_reads(c, edges[i].v);
        if (h != edges[i].want || f != edges[i].want) {
            fail_msg("%s %g %s: HL7 %s, FHIR %s, the table says %s", c->text, edges[i].v,
                     c->o2_ucum, got_name(h), got_name(f), got_name(edges[i].want));
        }
    }
}

static void fio2_bounds_and_air_threshold_are_the_tables_in_hl7_and_fhir(void **state)
{
    (void)state;
    check_edges(VIGIL_VITAL_FORM_FIO2);
    /* the figures themselves: 20 % (room air less a point of device error) to 100 % */
    const vigil_vital_code *c = vigil_vital_code_of_form(VIGIL_VITAL_FORM_FIO2);
    assert_true(c->o2_min == 20.0 && c->o2_air_max == 21.0 && c->o2_max == 100.0);
    assert_int_equal(hl7_reads(c, 20.0), GOT_AIR);
    assert_int_equal(fhir_reads(c, 20.0), GOT_AIR);
}

static void oxygen_flow_bounds_and_air_threshold_are_the_tables_in_hl7_and_fhir(void **state)
{
    (void)state;
    check_edges(VIGIL_VITAL_FORM_O2_FLOW);
}

/* clang-format off */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test(fio2_bounds_and_air_threshold_are_the_tables_in_hl7_and_fhir),
    cmocka_unit_test(oxygen_flow_bounds_and_air_threshold_are_the_tables_in_hl7_and_fhir),
};
/* clang-format on */

VIGIL_TEST_MAIN(tests)
