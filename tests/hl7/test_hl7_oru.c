/*
 * test_hl7_oru.c: ORU^R01 vital signs to observation events (HL7 v2.5.1
 * chapter 7): the golden messages with their exact events, and each mapping
 * rule on its own (codes, units, value types, statuses, times, oxygen,
 * identifiers).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "vigil/hl7.h"
#include "vigil_test.h"

#define T0 1736843400000LL /* 2025-01-14 08:30:00 UTC */

static void assert_num(double got, double want)
{
    if (isnan(want)) {
        assert_true(isnan(got));
    } else {
        assert_true(fabs(got - want) < 1e-9);
    }
}

static void hl7_golden_full_set_gives_one_exact_event(void **s)
{
    (void)s;
    vigil_status st;
    vigil_hl7_result *r = golden_decode("oru_full_set.hl7", &st);
    assert_int_equal(st, VIGIL_OK);
    assert_int_equal(r->fault.ack, VIGIL_HL7_AA);
    assert_int_equal(r->kind, VIGIL_HL7_KIND_ORU_R01);
    assert_int_equal(r->n_events, 1);
    const vigil_obs_event *e = &r->events[0];
    assert_string_equal(e->nhs_number, "9990000018");
    assert_string_equal(e->mrn, "RX1A123456");
    assert_int_equal(e->t_ms, T0);
    assert_num(e->obs.rr_bpm, 18);
    assert_num(e->obs.spo2_pct, 97);
    assert_int_equal(e->obs.o2, VIGIL_O2_AIR); /* FiO2 21 % */
    assert_num(e->obs.sbp_mmhg, 128);
    assert_num(e->obs.hr_bpm, 72);
    assert_int_equal(e->obs.acvpu, VIGIL_ACVPU_A);
    assert_num(e->obs.temp_c, 36.8);
    assert_num(e->obs.age_y, 70); /* born 1954-03-12 */
    assert_int_equal(e->obs.spo2_scale, 1);
    assert_int_equal(e->obs.pregnant, VIGIL_UNKNOWN);
    assert_int_equal(e->source, VIGIL_SRC_HL7);
    assert_string_equal(e->source_id, "EOBS20250114083215001");
    assert_string_equal(e->recorded_by, "N0112233");
    assert_int_equal(r->oru.n_obx, 10);
    assert_int_equal(r->oru.n_used, 7);
    assert_int_equal(r->oru.n_unknown, 1); /* pain score */
    assert_int_equal(r->oru.n_unused, 2);  /* BP panel, diastolic */
    assert_int_equal(r->oru.n_not_final, 0);
    assert_false(r->oru.corrected[0]);
    assert_string_equal(r->hdr.sending_app, "EOBS");
    assert_string_equal(r->hdr.trigger, "R01");
    assert_true(r->hdr.has_time);
    free(r);
}

/* REQ HL7-O2-FLAG REQ HL7-ORU-DEGF */
static void hl7_golden_oxygen_bst_converts_fahrenheit_and_flags_oxygen(void **s)
{
    (void)s;
    vigil_status st;
    vigil_hl7_result *r = golden_decode("oru_oxygen_bst.hl7", &st);
    assert_int_equal(st, VIGIL_OK);
    assert_int_equal(r->n_events, 1);
    const vigil_obs_event *e = &r->events[0];
    assert_string_equal(e->nhs_number, "");
    assert_string_equal(e->mrn, "RX1C778899");
    assert_int_equal(e->t_ms, 1751634900000LL); /* 2025-07-04 14:15 +0100 */
    assert_num(e->obs.rr_bpm, 24);
    assert_num(e->obs.spo2_pct, 93);
    assert_int_equal(e->obs.o2, VIGIL_O2_OXYGEN); /* 2 L/min */
    assert_int_equal(e->obs.spo2_scale, 1);       /* never inferred, even on oxygen */
    assert_num(e->obs.sbp_mmhg, 104);
    assert_num(e->obs.hr_bpm, 112); /* the P result 118 is not used */
    assert_int_equal(e->obs.acvpu, VIGIL_ACVPU_V);
    assert_num(e->obs.temp_c, (100.4 - 32.0) * 5.0 / 9.0);
    assert_num(e->obs.age_y, 78);
    assert_true(r->oru.corrected[0]);
    assert_int_equal(r->oru.n_not_final, 1);
    free(r);
}

/* REQ HL7-TIME-LONDON */
static void hl7_golden_two_sets_across_the_clock_change_give_two_events(void **s)
{
    (void)s;
    vigil_status st;
    vigil_hl7_result *r = golden_decode("oru_two_sets_local_time.hl7", &st);
    assert_int_equal(st, VIGIL_OK);
    assert_int_equal(r->n_events, 2);
    assert_int_equal(r->events[0].t_ms, 1743294600000LL); /* 00:30 GMT */
    assert_int_equal(r->events[1].t_ms, 1743300000000LL); /* 03:00 BST = 02:00 UTC */
    assert_num(r->events[0].obs.rr_bpm, 22);
    assert_num(r->events[0].obs.hr_bpm, 110);
    assert_num(r->events[0].obs.spo2_pct, 94);
    assert_num(r->events[0].obs.temp_c, NAN);
    assert_int_equal(r->events[0].obs.o2, VIGIL_O2_UNKNOWN);
    assert_num(r->events[1].obs.rr_bpm, 24);
    assert_num(r->events[1].obs.hr_bpm, 118);
    assert_num(r->events[1].obs.spo2_pct, 93);
    assert_num(r->events[1].obs.temp_c, 38.4);
    assert_num(r->events[1].obs.age_y, 15); /* under 16: NEWS2 flags it */
    assert_string_equal(r->events[1].nhs_number, "9990000034");
    free(r);
}

static void hl7_golden_custom_delimiters_and_alternate_coding_are_read(void **s)
{
    (void)s;
    vigil_status st;
    vigil_hl7_result *r = golden_decode("oru_custom_delimiters.hl7", &st);
    assert_int_equal(st, VIGIL_OK);
    assert_int_equal(r->n_events, 1);
    const vigil_obs_event *e = &r->events[0];
    assert_string_equal(e->nhs_number, "9990000042");
    assert_string_equal(e->mrn, "RX1D000123");
    assert_int_equal(e->t_ms, 1764627000000LL);
    assert_num(e->obs.spo2_pct, 88); /* units sent escaped: $T$ is % */
    assert_num(e->obs.hr_bpm, 131);  /* LOINC as the alternate code */
    assert_num(e->obs.sbp_mmhg, 89);
    assert_string_equal(e->recorded_by, "MON-BED12@A"); /* OBX-18, $S$ decoded */
    assert_string_equal(e->source_id, "MON!0007");
    assert_string_equal(r->hdr.control_raw, "MON$F$0007");
    assert_string_equal(r->hdr.version, "2.4");
    free(r);
}

/* ---------------------------------------------------------------- rules */

static const char head[] =
    "MSH|^~\\&|EOBS|RX1|VIGIL|RX1|20250114083215+0000||ORU^R01^ORU_R01|C1|P|2.5.1\r"
    "PID|1||9990000018^^^NHS^NH\r"
    "OBR|1|||86290005^Vital signs^SCT|||20250114083000+0000\r";

/* Decode head + body (segments separated by CR) with default options. */
static vigil_hl7_result *oru(const char *body, vigil_status want)
{
    static char text[8192];
    int n = snprintf(text, sizeof text, "%s%s", head, body);
    assert_true(n > 0 && (size_t)n < sizeof text);
    vigil_hl7_result *r = malloc(sizeof *r);
    assert_non_null(r);
    vigil_status st = vigil_hl7_decode(text, (size_t)n, NULL, r);
    if (st != want) {
        fail_msg("status %d, wanted %d: %s", st, want, r->fault.text);
    }
    return r;
}

static vigil_hl7_result *refused(const char *body, vigil_hl7_reason reason, vigil_hl7_errcode code)
{
    vigil_hl7_result *r = malloc(sizeof *r);
    assert_non_null(r);
    static char text[8192];
    int n = snprintf(text, sizeof text, "%s%s", head, body);
    assert_true(n > 0 && (size_t)n < sizeof text);
    assert_int_not_equal(vigil_hl7_decode(text, (size_t)n, NULL, r), VIGIL_OK);
    if (r->fault.reason != reason) {
        fail_msg("reason %s, wanted %s: %s", vigil_hl7_reason_name(r->fault.reason),
                 vigil_hl7_reason_name(reason), r->fault.text);
    }
    assert_int_equal(r->fault.ack, VIGIL_HL7_AE);
    assert_int_equal(r->fault.code, code);
    assert_int_equal(r->n_events, 0);
    return r;
}

#define HR(v, u) "OBX|1|NM|8867-4^Heart rate^LN||" v "|" u "|||||F\r"

static void hl7_oxygen_is_fio2_above_21_or_flow_above_0(void **s)
{
    (void)s;
    static const struct {
        const char *body;
        vigil_o2 want;
    } cases[] = {
        {"OBX|1|NM|3150-0^FiO2^LN||21|%|||||F\r", VIGIL_O2_AIR},
        {"OBX|1|NM|3150-0^FiO2^LN||21.5|%|||||F\r", VIGIL_O2_OXYGEN},
        {"OBX|1|NM|3150-0^FiO2^LN||40|%|||||F\r", VIGIL_O2_OXYGEN},
        {"OBX|1|NM|3151-8^O2 flow^LN||0|L/min|||||F\r", VIGIL_O2_AIR},
        {"OBX|1|NM|3151-8^O2 flow^LN||0.5|L/min|||||F\r", VIGIL_O2_OXYGEN},
        {"OBX|1|NM|3151-8^O2 flow^LN||0|L/min|||||F\rOBX|2|NM|3150-0^FiO2^LN||28|%|||||F\r",
         VIGIL_O2_OXYGEN}, /* any sign of oxygen wins */
        {HR("80", "/min"), VIGIL_O2_UNKNOWN},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        vigil_hl7_result *r = oru(cases[k].body, VIGIL_OK);
        assert_int_equal(r->n_events, 1);
        assert_int_equal(r->events[0].obs.o2, cases[k].want);
        assert_int_equal(r->events[0].obs.spo2_scale, 1);
        free(r);
    }
    free(refused("OBX|1|NM|3150-0^FiO2^LN||19.9|%|||||F\r", VIGIL_HL7_R_IMPLAUSIBLE,
                 VIGIL_HL7_E_DATA_TYPE));
    free(refused("OBX|1|NM|3151-8^O2 flow^LN||90|L/min|||||F\r", VIGIL_HL7_R_IMPLAUSIBLE,
                 VIGIL_HL7_E_DATA_TYPE));
    free(refused("OBX|1|NM|3151-8^O2 flow^LN||-1|L/min|||||F\r", VIGIL_HL7_R_IMPLAUSIBLE,
                 VIGIL_HL7_E_DATA_TYPE));
}

/* REQ HL7-ORU-UNITS REQ HL7-ORU-DEGF */
static void hl7_units_are_checked_per_observation(void **s)
{
    (void)s;
    static const char *const ok[] = {
        HR("80", "/min"),
        HR("80", "{beats}/min^beats per minute^UCUM"),
        HR("80", "{Beats}/min"),
        "OBX|1|NM|9279-1^RR^LN||16|{breaths}/min|||||F\r",
        "OBX|1|NM|8480-6^SBP^LN||120|mmHg|||||F\r",
        "OBX|1|NM|8480-6^SBP^LN||120|mm[Hg]^millimetre of mercury^UCUM|||||F\r",
        "OBX|1|NM|8310-5^Temp^LN||37|Cel|||||F\r",
        "OBX|1|NM|59408-5^SpO2^LN||95|%|||||F\r",
        /* synonyms real feeds send (issue 11) */
        HR("80", "bpm"),
        HR("80", "beats/min"),
        HR("80", "264864^MDC_DIM_BEAT_PER_MIN^MDC"),
        HR("80", "^MDC_DIM_BEAT_PER_MIN^MDC"),
        "OBX|1|NM|9279-1^RR^LN||16|264928^MDC_DIM_RESP_PER_MIN^MDC|||||F\r",
        "OBX|1|NM|8480-6^SBP^LN||120|266016^MDC_DIM_MMHG^MDC|||||F\r",
        "OBX|1|NM|8480-6^SBP^LN||120|mm Hg|||||F\r",
        "OBX|1|NM|8310-5^Temp^LN||37|268192^MDC_DIM_DEGC^MDC|||||F\r",
        "OBX|1|NM|59408-5^SpO2^LN||95|262688^MDC_DIM_PERCENT^MDC|||||F\r",
    };
    for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++) {
        free(oru(ok[k], VIGIL_OK));
    }
    free(refused(HR("80", "%"), VIGIL_HL7_R_BAD_UNITS, VIGIL_HL7_E_TABLE_VALUE));
    /* an MDC unit code is read as MDC only with the MDC coding system */
    free(refused(HR("80", "262688^MDC_DIM_PERCENT^MDC"), VIGIL_HL7_R_BAD_UNITS,
                 VIGIL_HL7_E_TABLE_VALUE));
    free(refused(HR("80", ""), VIGIL_HL7_R_MISSING_FIELD, VIGIL_HL7_E_REQUIRED_MISSING));
    free(refused("OBX|1|NM|8310-5^Temp^LN||310|K|||||F\r", VIGIL_HL7_R_BAD_UNITS,
                 VIGIL_HL7_E_TABLE_VALUE));
    free(refused("OBX|1|NM|59408-5^SpO2^LN||0.95|1|||||F\r", VIGIL_HL7_R_BAD_UNITS,
                 VIGIL_HL7_E_TABLE_VALUE));
    vigil_hl7_result *r = oru("OBX|1|NM|8310-5^Temp^LN||98.6|[degF]|||||F\r", VIGIL_OK);
    assert_num(r->events[0].obs.temp_c, 37.0);
    free(r);
    /* degF, and the MDC Fahrenheit reference id: converted, never stored as Celsius */
    r = oru("OBX|1|NM|8310-5^Temp^LN||100.4|degF|||||F\r", VIGIL_OK);
    assert_num(r->events[0].obs.temp_c, 38.0);
    free(r);
    r = oru("OBX|1|NM|150364^MDC_TEMP_BODY^MDC||98.6|^MDC_DIM_FAHR^MDC|||||F\r", VIGIL_OK);
    assert_num(r->events[0].obs.temp_c, 37.0);
    free(r);
    /* 120 F is 48.9 C: implausible after conversion, named in the original unit */
    r = refused("OBX|1|NM|8310-5^Temp^LN||120|[degF]|||||F\r", VIGIL_HL7_R_IMPLAUSIBLE,
                VIGIL_HL7_E_DATA_TYPE);
    assert_non_null(strstr(r->fault.text, "120 [degF]"));
    free(r);
}

/* REQ NEWS2-PLAUSIBLE REQ HL7-ORU-PER-RESULT */
static void hl7_implausible_value_refuses_that_result_naming_obx_and_value(void **s)
{
    (void)s;
    vigil_hl7_result *r =
        oru("OBX|1|NM|9279-1^RR^LN||18|/min|||||F\rOBX|2|NM|8867-4^Heart rate^LN||301|/min|||||F\r",
            VIGIL_OK);
    assert_int_equal(r->fault.ack, VIGIL_HL7_AA);
    assert_int_equal(r->n_events, 1);
    assert_num(r->events[0].obs.rr_bpm, 18);
    assert_true(isnan(r->events[0].obs.hr_bpm)); /* not measured, never a wrong value */
    assert_int_equal(r->oru.n_refused, 1);
    const vigil_hl7_fault *w = &r->oru.warnings[0];
    assert_int_equal(w->reason, VIGIL_HL7_R_IMPLAUSIBLE);
    assert_string_equal(w->loc.seg, "OBX");
    assert_int_equal(w->loc.seq, 2);
    assert_int_equal(w->loc.field, 5);
    assert_non_null(strstr(w->text, "OBX #2"));
    assert_non_null(strstr(w->text, "8867-4"));
    assert_non_null(strstr(w->text, "301"));
    free(r);
    /* the bounds themselves are accepted (inclusive) */
    free(oru(HR("300", "/min"), VIGIL_OK));
    free(oru(HR("10", "/min"), VIGIL_OK));
    free(refused(HR("9.9", "/min"), VIGIL_HL7_R_IMPLAUSIBLE, VIGIL_HL7_E_DATA_TYPE));
    free(refused("OBX|1|NM|59408-5^SpO2^LN||101|%|||||F\r", VIGIL_HL7_R_IMPLAUSIBLE,
                 VIGIL_HL7_E_DATA_TYPE));
    free(refused("OBX|1|NM|8480-6^SBP^LN||29|mm[Hg]|||||F\r", VIGIL_HL7_R_IMPLAUSIBLE,
                 VIGIL_HL7_E_DATA_TYPE));
    free(refused("OBX|1|NM|8310-5^T^LN||45.1|Cel|||||F\r", VIGIL_HL7_R_IMPLAUSIBLE,
                 VIGIL_HL7_E_DATA_TYPE));
    free(refused("OBX|1|NM|9279-1^RR^LN||81|/min|||||F\r", VIGIL_HL7_R_IMPLAUSIBLE,
                 VIGIL_HL7_E_DATA_TYPE));
}

static void hl7_numeric_values_must_be_nm(void **s)
{
    (void)s;
    vigil_hl7_result *r = oru(HR("+72", "/min"), VIGIL_OK);
    assert_num(r->events[0].obs.hr_bpm, 72);
    free(r);
    r = oru(HR("072.50", "/min"), VIGIL_OK);
    assert_num(r->events[0].obs.hr_bpm, 72.5);
    free(r);
    static const char *const bad[] = {"1e2",    "72 ", " 72", "0x48", "seventy", "7 2",
                                      "72.5.1", "-",   "NaN", "inf",  ">72"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char body[128];
        snprintf(body, sizeof body, "OBX|1|NM|8867-4^Heart rate^LN||%s|/min|||||F\r", bad[k]);
        free(refused(body, VIGIL_HL7_R_NOT_NUMERIC, VIGIL_HL7_E_DATA_TYPE));
    }
    free(refused("OBX|1|ST|8867-4^Heart rate^LN||72|/min|||||F\r", VIGIL_HL7_R_VALUE_TYPE,
                 VIGIL_HL7_E_DATA_TYPE));
    free(refused("OBX|1||8867-4^Heart rate^LN||72|/min|||||F\r", VIGIL_HL7_R_VALUE_TYPE,
                 VIGIL_HL7_E_DATA_TYPE));
    free(refused("OBX|1|NM|8867-4^Heart rate^LN||72~74|/min|||||F\r", VIGIL_HL7_R_NOT_NUMERIC,
                 VIGIL_HL7_E_DATA_TYPE));
    free(refused("OBX|1|NM|8867-4^Heart rate^LN||\"\"|/min|||||F\r", VIGIL_HL7_R_MISSING_FIELD,
                 VIGIL_HL7_E_REQUIRED_MISSING));
}

/* REQ HL7-ORU-STATUS REQ HL7-PROFILE-STATUS */
static void hl7_result_status_f_c_and_r_are_used_others_refused(void **s)
{
    (void)s;
    vigil_hl7_result *r = oru("OBX|1|NM|8867-4^HR^LN||72|/min|||||C\r", VIGIL_OK);
    assert_true(r->oru.corrected[0]);
    free(r);
    /* R: "results entered, not verified", what a bedside monitor sends */
    r = oru("OBX|1|NM|8867-4^HR^LN||72|/min|||||R\r", VIGIL_OK);
    assert_int_equal(r->n_events, 1);
    assert_num(r->events[0].obs.hr_bpm, 72);
    free(r);
    /* a vital sign with another status is refused, so a message of only those is AE */
    static const char not_final[] = "IPSXNOU";
    for (size_t k = 0; k < sizeof not_final - 1; k++) {
        char body[128];
        snprintf(body, sizeof body, "OBX|1|NM|8867-4^HR^LN||72|/min|||||%c\r", not_final[k]);
        r = refused(body, VIGIL_HL7_R_STATUS, VIGIL_HL7_E_TABLE_VALUE);
        assert_int_equal(r->oru.n_not_final, 1);
        assert_non_null(strstr(r->fault.text, "no vital sign stored"));
        free(r);
    }
    /* with a usable one beside it: accepted, the other named */
    r = oru("OBX|1|NM|8867-4^HR^LN|||/min|||||X\rOBX|2|NM|9279-1^RR^LN||18|/min|||||F\r", VIGIL_OK);
    assert_int_equal(r->n_events, 1);
    assert_int_equal(r->oru.n_refused, 1);
    assert_int_equal(r->oru.warnings[0].reason, VIGIL_HL7_R_STATUS);
    free(r);
    free(refused("OBX|1|NM|8867-4^HR^LN||72|/min|||||W\r", VIGIL_HL7_R_RETRACTION,
                 VIGIL_HL7_E_INTERNAL));
    free(refused("OBX|1|NM|8867-4^HR^LN||72|/min|||||D\r", VIGIL_HL7_R_RETRACTION,
                 VIGIL_HL7_E_INTERNAL));
    free(refused("OBX|1|NM|8867-4^HR^LN||72|/min|||||Z\r", VIGIL_HL7_R_BAD_CODE,
                 VIGIL_HL7_E_TABLE_VALUE));
    free(refused("OBX|1|NM|8867-4^HR^LN||72|/min|||||FF\r", VIGIL_HL7_R_BAD_CODE,
                 VIGIL_HL7_E_TABLE_VALUE));
    free(refused("OBX|1|NM|8867-4^HR^LN||72|/min\r", VIGIL_HL7_R_MISSING_FIELD,
                 VIGIL_HL7_E_REQUIRED_MISSING));
}

/* REQ HL7-ORU-UNKNOWN REQ HL7-ORU-CODES */
static void hl7_unknown_codes_are_ignored_and_counted(void **s)
{
    (void)s;
    vigil_hl7_result *r =
        oru("OBX|1|NM|72514-3^Pain^LN||garbage|whatever|||||F\r" /* unknown LOINC */
            "OBX|2|NM|8867-4^Heart rate^L||72|/min|||||F\r"      /* right code, local system */
            "OBX|3|NM|HR^Heart rate^99LOCAL||72|/min|||||F\r"    /* local code only */
            "OBX|4|CE|85354-9^BP panel^LN||||||||F\r"            /* panel: known, unused */
            "OBX|5|NM|8462-4^Diastolic^LN||80|mm[Hg]|||||F\r",   /* known, unused */
            VIGIL_OK);
    assert_int_equal(r->n_events, 0);
    assert_int_equal(r->oru.n_obx, 5);
    assert_int_equal(r->oru.n_unknown, 3);
    assert_int_equal(r->oru.n_unused, 2);
    assert_int_equal(r->oru.n_used, 0);
    free(r);
}

/* REQ HL7-ORU-ACVPU */
static void hl7_acvpu_takes_one_letter_from_a_coded_or_string_value(void **s)
{
    (void)s;
    static const struct {
        const char *body;
        vigil_acvpu want;
    } cases[] = {
        {"OBX|1|CWE|1104441000000107^ACVPU^SCT||A^Alert^L||||||F\r", VIGIL_ACVPU_A},
        {"OBX|1|CE|1104441000000107^ACVPU^SCT||C||||||F\r", VIGIL_ACVPU_C},
        {"OBX|1|ST|67775-7^Responsiveness^LN||v||||||F\r", VIGIL_ACVPU_V},
        {"OBX|1|CWE|67775-7^Responsiveness^LN||P^Pain||||||F\r", VIGIL_ACVPU_P},
        {"OBX|1|ST|67775-7^Responsiveness^LN||U||||||F\r", VIGIL_ACVPU_U},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        vigil_hl7_result *r = oru(cases[k].body, VIGIL_OK);
        assert_int_equal(r->events[0].obs.acvpu, cases[k].want);
        free(r);
    }
    free(refused("OBX|1|CWE|1104441000000107^ACVPU^SCT||Alert||||||F\r", VIGIL_HL7_R_BAD_CODE,
                 VIGIL_HL7_E_TABLE_VALUE));
    free(refused("OBX|1|NM|1104441000000107^ACVPU^SCT||1||||||F\r", VIGIL_HL7_R_VALUE_TYPE,
                 VIGIL_HL7_E_DATA_TYPE));
}

static void hl7_observation_time_is_obx_14_else_obr_7(void **s)
{
    (void)s;
    vigil_hl7_result *r = oru("OBX|1|NM|8867-4^HR^LN||72|/min|||||F|||20250114090000+0000\r"
                              "OBX|2|NM|9279-1^RR^LN||18|/min|||||F\r"
                              "OBX|3|NM|59408-5^SpO2^LN||96|%|||||F|||20250114090000+0000\r",
                              VIGIL_OK);
    assert_int_equal(r->n_events, 2);
    assert_int_equal(r->events[0].t_ms, T0 + 30 * 60000);
    assert_num(r->events[0].obs.hr_bpm, 72);
    assert_num(r->events[0].obs.spo2_pct, 96);
    assert_int_equal(r->events[1].t_ms, T0);
    assert_num(r->events[1].obs.rr_bpm, 18);
    free(r);
    free(refused("OBX|1|NM|8867-4^HR^LN||72|/min|||||F|||2025011409\r", VIGIL_HL7_R_BAD_TIMESTAMP,
                 VIGIL_HL7_E_DATA_TYPE)); /* hour precision */
}

static void hl7_same_value_twice_is_fine_a_different_one_is_refused(void **s)
{
    (void)s;
    vigil_hl7_result *r = oru("OBX|1|NM|59408-5^SpO2^LN||95|%|||||F\r"
                              "OBX|2|NM|2708-6^SaO2^LN||95|%|||||F\r",
                              VIGIL_OK);
    assert_num(r->events[0].obs.spo2_pct, 95);
    free(r);
    r = refused("OBX|1|NM|59408-5^SpO2^LN||95|%|||||F\rOBX|2|NM|2708-6^SaO2^LN||91|%|||||F\r",
                VIGIL_HL7_R_DUPLICATE, VIGIL_HL7_E_DATA_TYPE);
    assert_int_equal(r->fault.loc.seq, 2);
    free(r);
}

/* REQ HL7-ORU-CONFLICT: two heart rates of one rank with different values in
 * one message: neither is stored, the other vital signs are, AA with an ERR W
 * naming the parameter and both values. */
static void hl7_two_different_heart_rates_store_the_other_vitals_and_neither_rate(void **s)
{
    (void)s;
    vigil_hl7_result *r = oru("OBX|1|NM|9279-1^RR^LN||18|/min|||||F\r"
                              "OBX|2|NM|59408-5^SpO2^LN||97|%|||||F\r"
                              "OBX|3|NM|8867-4^Heart rate^LN||72|/min|||||F\r"
                              "OBX|4|NM|8480-6^SBP^LN||128|mm[Hg]|||||F\r"
                              "OBX|5|NM|8867-4^Heart rate^LN||88|/min|||||F\r"
                              "OBX|6|NM|8310-5^Temp^LN||36.8|Cel|||||F\r",
                              VIGIL_OK);
    assert_int_equal(r->fault.ack, VIGIL_HL7_AA);
    assert_int_equal(r->n_events, 1);
    const vigil_obs *o = &r->events[0].obs;
    assert_num(o->hr_bpm, NAN); /* neither 72 nor 88 */
    assert_num(o->rr_bpm, 18);
    assert_num(o->spo2_pct, 97);
    assert_num(o->sbp_mmhg, 128);
    assert_num(o->temp_c, 36.8);
    assert_int_equal(r->oru.n_conflicting, 2);
    assert_int_equal(r->oru.n_used, 4);
    assert_int_equal(r->oru.n_refused, 0);
    assert_int_equal(r->oru.n_warnings, 1);
    const vigil_hl7_fault *w = &r->oru.warnings[0];
    assert_int_equal(w->ack, VIGIL_HL7_AA);
    assert_int_equal(w->reason, VIGIL_HL7_R_DUPLICATE);
    assert_int_equal(w->loc.seq, 5);
    assert_non_null(strstr(w->text, "heart rate"));
    assert_non_null(strstr(w->text, "88 /min conflicts with 72 /min in OBX #3"));
    assert_non_null(strstr(w->text, "neither is stored"));
    free(r);
    /* a third value of the same rank is not stored either; a preferred rank's value is */
    r = oru("OBX|1|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC||72|/min|||||R\r"
            "OBX|2|NM|149514^MDC_PULS_RATE^MDC||88|/min|||||R\r"
            "OBX|3|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC||72|/min|||||R\r"
            "OBX|4|NM|9279-1^RR^LN||18|/min|||||F\r",
            VIGIL_OK);
    assert_num(r->events[0].obs.hr_bpm, NAN);
    assert_int_equal(r->oru.n_conflicting, 3);
    assert_int_equal(r->oru.n_warnings, 2);
    free(r);
    r = oru("OBX|1|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC||72|/min|||||R\r"
            "OBX|2|NM|149514^MDC_PULS_RATE^MDC||88|/min|||||R\r"
            "OBX|3|NM|147842^MDC_ECG_HEART_RATE^MDC||80|/min|||||R\r",
            VIGIL_OK);
    assert_num(r->events[0].obs.hr_bpm, 80); /* ECG (rank 1) over the conflicting rank 2 */
    free(r);
    /* ACVPU in conflict: named by its letters */
    r = oru("OBX|1|ST|67775-7^ACVPU^LN||A||||||F\rOBX|2|ST|67775-7^ACVPU^LN||V||||||F\r"
            "OBX|3|NM|9279-1^RR^LN||18|/min|||||F\r",
            VIGIL_OK);
    assert_int_equal(r->events[0].obs.acvpu, VIGIL_ACVPU_UNKNOWN);
    assert_non_null(strstr(r->oru.warnings[0].text, "value V conflicts with A"));
    free(r);
}

static void hl7_more_observation_sets_than_the_cap_are_refused(void **s)
{
    (void)s;
    char body[8192];
    size_t o = 0;
    for (int k = 0; k <= VIGIL_HL7_MAX_EVENTS; k++) {
        o += (size_t)snprintf(body + o, sizeof body - o,
                              "OBX|%d|NM|8867-4^HR^LN||72|/min|||||F|||202501140%d%02d+0000\r",
                              k + 1, 8 + k / 60, k % 60);
    }
    free(refused(body, VIGIL_HL7_R_TOO_MANY_EVENTS, VIGIL_HL7_E_INTERNAL));
}

static const char *msg3(char *buf, size_t cap, const char *pid, const char *rest)
{
    snprintf(buf, cap, "MSH|^~\\&|EOBS|RX1|VIGIL|RX1|20250114083215+0000||ORU^R01|C1|P|2.5.1\r%s%s",
             pid, rest);
    return buf;
}

static vigil_hl7_result *decode_str(const char *text)
{
    vigil_hl7_result *r = malloc(sizeof *r);
    assert_non_null(r);
    vigil_hl7_decode(text, strlen(text), NULL, r);
    return r;
}

/* REQ HL7-PID-NHS REQ NHS-NUMBER-CHECK */
static void hl7_patient_identifiers_come_from_pid_3_by_type(void **s)
{
    (void)s;
    static const char obr[] =
        "OBR|1||||||20250114083000+0000\rOBX|1|NM|8867-4^HR^LN||72|/min|||||F\r";
    static const struct {
        const char *pid;
        const char *nhs;
        const char *mrn;
        vigil_hl7_reason reason;
    } cases[] = {
        {"PID|1||9990000018^^^NHS^NH\r", "9990000018", "", VIGIL_HL7_R_NONE},
        {"PID|1||9990000018^^^NHS\r", "9990000018", "", VIGIL_HL7_R_NONE}, /* authority only */
        {"PID|1||999 000 0018^^^NHS^NH\r", "9990000018", "", VIGIL_HL7_R_NONE},
        {"PID|1||X1^^^RX1^MR~9990000018^^^X24^NH\r", "9990000018", "X1", VIGIL_HL7_R_NONE},
        {"PID|1||A7^^^RX1^PI~B8^^^RX1^MR\r", "", "A7", VIGIL_HL7_R_NONE}, /* first local wins */
        {"PID|1||9990000018^^^NHS^NH~9990000018^^^NHS^NH\r", "9990000018", "", VIGIL_HL7_R_NONE},
        {"PID|1||9990000017^^^NHS^NH\r", "", "", VIGIL_HL7_R_BAD_NHS_NUMBER},
        {"PID|1||99900000^^^NHS^NH\r", "", "", VIGIL_HL7_R_BAD_NHS_NUMBER},
        {"PID|1||9990000018^^^NHS^NH~9990000026^^^NHS^NH\r", "", "", VIGIL_HL7_R_CONFLICTING_ID},
        {"PID|1||P123^^^GBR^PPN\r", "", "", VIGIL_HL7_R_NO_PATIENT_ID},
        {"PID|1\r", "", "", VIGIL_HL7_R_NO_PATIENT_ID},
        {"PID|1||\\X07\\^^^RX1^MR\r", "", "", VIGIL_HL7_R_BAD_IDENTIFIER},
        {"PID|1||\\Xff\\^^^RX1^MR\r", "", "", VIGIL_HL7_R_BAD_IDENTIFIER}, /* not UTF-8 */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char text[512];
        vigil_hl7_result *r = decode_str(msg3(text, sizeof text, cases[k].pid, obr));
        if (r->fault.reason != cases[k].reason) {
            fail_msg("case %zu: reason %s: %s", k, vigil_hl7_reason_name(r->fault.reason),
                     r->fault.text);
        }
        if (cases[k].reason == VIGIL_HL7_R_NONE) {
            assert_string_equal(r->events[0].nhs_number, cases[k].nhs);
            assert_string_equal(r->events[0].mrn, cases[k].mrn);
        } else {
            assert_int_equal(r->fault.ack, VIGIL_HL7_AE);
            assert_string_equal(r->fault.loc.seg, "PID");
            assert_int_equal(r->fault.loc.field, 3);
        }
        free(r);
    }
}

/* REQ HL7-PID8-SEX: PID-8 (table 0001) is the event's administrative sex,
 * mapped as the HL7 v2-to-FHIR ConceptMap; an empty or unknown code is "not
 * given" and never refuses the set. */
static void hl7_pid_8_gives_the_administrative_sex_and_never_refuses(void **s)
{
    (void)s;
    static const char obr[] =
        "OBR|1||||||20250114083000+0000\rOBX|1|NM|8867-4^HR^LN||72|/min|||||F\r";
    static const struct {
        const char *pid;
        vigil_admin_sex sex;
    } cases[] = {
        {"PID|1||9990000018^^^NHS^NH||||19540101|F\r", VIGIL_ADMIN_SEX_FEMALE},
        {"PID|1||9990000018^^^NHS^NH||||19540101|M\r", VIGIL_ADMIN_SEX_MALE},
        {"PID|1||9990000018^^^NHS^NH|||||O\r", VIGIL_ADMIN_SEX_OTHER},
        {"PID|1||9990000018^^^NHS^NH|||||A\r", VIGIL_ADMIN_SEX_OTHER},
        {"PID|1||9990000018^^^NHS^NH|||||U\r", VIGIL_ADMIN_SEX_UNKNOWN},
        {"PID|1||9990000018^^^NHS^NH|||||N\r", VIGIL_ADMIN_SEX_UNKNOWN},
        {"PID|1||9990000018^^^NHS^NH|||||\r", VIGIL_ADMIN_SEX_NONE},
        {"PID|1||9990000018^^^NHS^NH\r", VIGIL_ADMIN_SEX_NONE},
        {"PID|1||9990000018^^^NHS^NH|||||female\r", VIGIL_ADMIN_SEX_NONE},
        {"PID|1||9990000018^^^NHS^NH|||||f\r", VIGIL_ADMIN_SEX_NONE},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char text[512];
        vigil_hl7_result *r = decode_str(msg3(text, sizeof text, cases[k].pid, obr));
        if (r->fault.reason != VIGIL_HL7_R_NONE) {
            fail_msg("case %zu refused: %s", k, r->fault.text);
        }
        assert_int_equal(r->n_events, 1);
        if (r->events[0].sex != cases[k].sex) {
            fail_msg("case %zu: sex %d, wanted %d", k, (int)r->events[0].sex, (int)cases[k].sex);
        }
        free(r);
    }
}

static void hl7_age_comes_from_date_of_birth_which_is_not_kept(void **s)
{
    (void)s;
    static const char obr[] =
        "OBR|1||||||20250114083000+0000\rOBX|1|NM|8867-4^HR^LN||72|/min|||||F\r";
    char text[512];
    vigil_hl7_result *r =
        decode_str(msg3(text, sizeof text, "PID|1||A1^^^RX1^MR||X||20090114\r", obr));
    assert_num(r->events[0].obs.age_y, 16); /* sixteenth birthday that day */
    free(r);
    r = decode_str(msg3(text, sizeof text, "PID|1||A1^^^RX1^MR||X||20090115\r", obr));
    assert_num(r->events[0].obs.age_y, 15);
    free(r);
    r = decode_str(msg3(text, sizeof text, "PID|1||A1^^^RX1^MR||X||1950\r", obr));
    assert_num(r->events[0].obs.age_y, NAN); /* year only: not precise enough */
    free(r);
    r = decode_str(msg3(text, sizeof text, "PID|1||A1^^^RX1^MR||X||1950+0000\r", obr));
    assert_int_equal(r->fault.ack, VIGIL_HL7_AA);
    assert_num(r->events[0].obs.age_y, NAN); /* year and offset: 9 bytes, still not a day */
    free(r);
    r = decode_str(msg3(text, sizeof text, "PID|1||A1^^^RX1^MR||X||195001150000+0100\r", obr));
    assert_num(r->events[0].obs.age_y, 74); /* 75th birthday is the day after */
    free(r);
    r = decode_str(msg3(text, sizeof text, "PID|1||A1^^^RX1^MR||X||20250115\r", obr));
    assert_int_equal(r->fault.reason, VIGIL_HL7_R_IMPLAUSIBLE);
    free(r);
    r = decode_str(msg3(text, sizeof text, "PID|1||A1^^^RX1^MR||X||19501350\r", obr));
    assert_int_equal(r->fault.reason, VIGIL_HL7_R_BAD_TIMESTAMP);
    assert_int_equal(r->fault.loc.field, 7);
    free(r);
}

static void hl7_segment_order_needs_pid_then_obr_then_obx(void **s)
{
    (void)s;
    char text[512];
    vigil_hl7_result *r =
        decode_str(msg3(text, sizeof text, "",
                        "OBR|1||||||20250114083000+0000\rOBX|1|NM|8867-4^HR^LN||72|/min|||||F\r"));
    assert_int_equal(r->fault.reason, VIGIL_HL7_R_MISSING_SEGMENT);
    assert_int_equal(r->fault.code, VIGIL_HL7_E_SEGMENT_SEQUENCE);
    free(r);
    r = decode_str(msg3(text, sizeof text, "PID|1||A1^^^RX1^MR\r", ""));
    assert_int_equal(r->fault.reason, VIGIL_HL7_R_MISSING_SEGMENT);
    assert_string_equal(r->fault.loc.seg, "OBR");
    free(r);
    /* a second PID starts a new patient: its OBX do not go to the first */
    r = decode_str(msg3(text, sizeof text, "PID|1||A1^^^RX1^MR\r",
                        "OBR|1||||||20250114083000+0000\rOBX|1|NM|8867-4^HR^LN||72|/min|||||F\r"
                        "PID|2||B2^^^RX1^MR\r"
                        "OBR|1||||||20250114083000+0000\rOBX|1|NM|8867-4^HR^LN||90|/min|||||F\r"));
    assert_int_equal(r->fault.ack, VIGIL_HL7_AA);
    assert_int_equal(r->n_events, 2);
    assert_string_equal(r->events[0].mrn, "A1");
    assert_num(r->events[0].obs.hr_bpm, 72);
    assert_string_equal(r->events[1].mrn, "B2");
    assert_num(r->events[1].obs.hr_bpm, 90);
    free(r);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(hl7_golden_full_set_gives_one_exact_event),
    cmocka_unit_test(hl7_golden_oxygen_bst_converts_fahrenheit_and_flags_oxygen),
    cmocka_unit_test(hl7_golden_two_sets_across_the_clock_change_give_two_events),
    cmocka_unit_test(hl7_golden_custom_delimiters_and_alternate_coding_are_read),
    cmocka_unit_test(hl7_oxygen_is_fio2_above_21_or_flow_above_0),
    cmocka_unit_test(hl7_units_are_checked_per_observation),
    cmocka_unit_test(hl7_implausible_value_refuses_that_result_naming_obx_and_value),
    cmocka_unit_test(hl7_numeric_values_must_be_nm),
    cmocka_unit_test(hl7_result_status_f_c_and_r_are_used_others_refused),
    cmocka_unit_test(hl7_unknown_codes_are_ignored_and_counted),
    cmocka_unit_test(hl7_acvpu_takes_one_letter_from_a_coded_or_string_value),
    cmocka_unit_test(hl7_observation_time_is_obx_14_else_obr_7),
    cmocka_unit_test(hl7_same_value_twice_is_fine_a_different_one_is_refused),
    cmocka_unit_test(hl7_two_different_heart_rates_store_the_other_vitals_and_neither_rate),
    cmocka_unit_test(hl7_more_observation_sets_than_the_cap_are_refused),
    cmocka_unit_test(hl7_patient_identifiers_come_from_pid_3_by_type),
    cmocka_unit_test(hl7_pid_8_gives_the_administrative_sex_and_never_refuses),
    cmocka_unit_test(hl7_age_comes_from_date_of_birth_which_is_not_kept),
    cmocka_unit_test(hl7_segment_order_needs_pid_then_obr_then_obx),
};

VIGIL_TEST_MAIN(tests)
