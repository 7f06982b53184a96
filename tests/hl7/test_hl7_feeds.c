/*
 * test_hl7_feeds.c: messages as real device and hospital feeds send them
 * (issue 11), each built from a published example whose source is named
 * above the test: IHE PCD-01 (DEC profile) device messages with ISO/IEEE
 * 11073 MDC codes, a vendor's data export guide, and sample messages.
 * Checks what is stored, what is refused per result and why, the interface
 * profile, and the encoding details (BOM, subcomponents, placeholder dates).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/hl7.h"
#include "vigil_test.h"

static void assert_num(double got, double want)
{
    if (fabs(got - want) > 1e-9) {
        fail_msg("got %.10g, wanted %.10g", got, want);
    }
}

/* Decode text (segments separated by CR) with opts (NULL: defaults). */
static vigil_hl7_result *decode(const char *text, const vigil_hl7_opts *opts, vigil_status want)
{
    vigil_hl7_result *r = malloc(sizeof *r);
    assert_non_null(r);
    vigil_status st = vigil_hl7_decode(text, strlen(text), opts, r);
    if (st != want) {
        fail_msg("status %d, wanted %d: %s %s", st, want, vigil_hl7_reason_name(r->fault.reason),
                 r->fault.text);
    }
    return r;
}

static vigil_hl7_profile profile_of(const char *text)
{
    vigil_hl7_profile p;
    vigil_err e = {0};
    if (vigil_hl7_profile_parse(text, strlen(text), &p, &e) != VIGIL_OK) {
        fail_msg("profile: %s", e.msg);
    }
    return p;
}

/*
 * Source: GE Healthcare B40 patient monitor HL7 reference manual, 2062665-001
 * revision G, "Sample Messages" (p. 19: MSH, PID, PV1, OBR, the MDS OBX of
 * Example 1) and "PCD-01 description" (p. 15: the ECG heart rate and the
 * invasive blood pressure channel OBX), joined into one message. An IHE
 * PCD-01 DEC device message: MDC codes and units, status R, device headers
 * with status X and no value, local time without offset.
 */
static const char ge_b40[] =
    "MSH|^~\\&|VSP^080019FFFE134535^EUI-64|GE Healthcare|||20130122134100||ORU^R01^ORU_R01|"
    "004097134535|P|2.6|||NE|AL||UNICODE UTF-8|||PCD_DEC_001^IHE "
    "PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO\r"
    "PID|||HED12^^^PID^MR||LAZY^KITTY^^^^^L|||\r"
    "PV1||R|SURGERY^^V2\r"
    "OBR|1|080019FFFE13453520130122134100^VSP^080019FFFE134535^EUI-64|"
    "080019FFFE13453520130122134100^VSP^080019FFFE134535^EUI-64|182777000^monitoring of "
    "patient^SCT|||20130122134100\r"
    "OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X\r"
    "OBX|2||69854^MDC_DEV_METER_PRESS_BLD_VMD^MDC|1.13.0.0|||||||X\r"
    "OBX|3||69855^MDC_DEV_METER_PRESS_BLD_CHAN^MDC|1.13.1.0|||||||X\r"
    "OBX|4|NM|150033^MDC_PRESS_BLD_ART_SYS^MDC|1.13.1.1|112|266016^MDC_DIM_MMHG^MDC|||||R|||||||"
    "080019FFFE0B4020^B40_GE\r"
    "OBX|5|NM|150034^MDC_PRESS_BLD_ART_DIA^MDC|1.13.1.2|76|266016^MDC_DIM_MMHG^MDC|||||R|||||||"
    "080019FFFE0B4020^B40_GE\r"
    "OBX|6|NM|150035^MDC_PRESS_BLD_ART_MEAN^MDC|1.13.1.3|95|266016^MDC_DIM_MMHG^MDC|||||R|||||||"
    "080019FFFE0B4020^B40_GE\r"
    "OBX|7|NM|149522^MDC_BLD_PULS_RATE_INV^MDC|1.13.1.4|80|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|"
    "||||||080019FFFE0B4020^B40_GE\r"
    "OBX|11|NM|147842^MDC_ECG_HEART_RATE^MDC|1.5.1.1|80|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R||||"
    "|||080019FFFE0B4020^B40_GE\r";

/* REQ HL7-ORU-MDC REQ HL7-PROFILE-STATUS */
static void pcd01_device_message_with_mdc_codes_and_status_r_is_stored(void **s)
{
    (void)s;
    vigil_hl7_result *r = decode(ge_b40, NULL, VIGIL_OK);
    assert_int_equal(r->fault.ack, VIGIL_HL7_AA);
    assert_int_equal(r->n_events, 1);
    const vigil_obs_event *e = &r->events[0];
    assert_string_equal(e->mrn, "HED12");
    assert_num(e->obs.hr_bpm, 80);
    assert_num(e->obs.sbp_mmhg, 112);
    assert_true(isnan(e->obs.rr_bpm));
    assert_string_equal(e->recorded_by, "080019FFFE0B4020"); /* OBX-18 equipment */
    /* 2013-01-22 13:41 London (GMT) */
    assert_int_equal(e->t_ms, 1358862060000LL);
    assert_int_equal(r->oru.n_obx, 8);
    assert_int_equal(r->oru.n_used, 3);
    assert_int_equal(r->oru.n_unknown, 3); /* MDS, VMD, channel headers */
    assert_int_equal(r->oru.n_unused, 2);  /* diastolic, mean */
    assert_int_equal(r->oru.n_superseded, 1);
    assert_int_equal(r->oru.n_refused, 0);
    free(r);
}

/* REQ HL7-ORU-MDC: the ECG heart rate wins over another method's pulse rate,
 * whichever comes first, and a different value is no conflict */
static void ecg_heart_rate_is_preferred_to_a_pulse_rate_of_another_method(void **s)
{
    (void)s;
    char text[4096];
    snprintf(text, sizeof text, "%s", ge_b40);
    char *p = strstr(text, "|1.13.1.4|80|");
    assert_non_null(p);
    memcpy(p, "|1.13.1.4|79|", 13);
    vigil_hl7_result *r = decode(text, NULL, VIGIL_OK);
    assert_num(r->events[0].obs.hr_bpm, 80);
    assert_int_equal(r->oru.n_superseded, 1);
    free(r);
}

/* REQ HL7-PROFILE-STATUS: a profile that takes only verified results refuses R,
 * and a message of only those is AE, never AA with nothing stored */
static void a_profile_without_status_r_refuses_the_monitor_results(void **s)
{
    (void)s;
    vigil_hl7_profile p = profile_of("name = verified-only\n"
                                     "sending_application = VSP\n"
                                     "result_status = F C\n");
    vigil_hl7_opts o;
    vigil_hl7_opts_init(&o);
    o.profiles = &p;
    o.n_profiles = 1;
    vigil_hl7_result *r = decode(ge_b40, &o, VIGIL_ERR_PARSE);
    assert_int_equal(r->fault.ack, VIGIL_HL7_AE);
    assert_int_equal(r->fault.reason, VIGIL_HL7_R_STATUS);
    assert_string_equal(r->oru.profile, "verified-only");
    assert_int_equal(r->oru.n_refused, 3);
    assert_non_null(strstr(r->fault.text, "no vital sign stored: 3 result(s) refused"));
    free(r);
    /* another sender: the default applies */
    p = profile_of("sending_application = OTHER\nresult_status = F\n");
    r = decode(ge_b40, &o, VIGIL_OK);
    assert_string_equal(r->oru.profile, "default");
    free(r);
}

/*
 * Source: a Mindray VS8 (IHE PCD-01, HL7 2.6) message as captured on the wire
 * and published in a public integration repository's notes ("Mindray VS8 -
 * network integration"): MDC codes with status R, PID-3 typed PI, and
 * OBX-8 DEMO while the monitor is in demo mode.
 */
static const char mindray_vs8[] =
    "MSH|^~\\&|MINDRAY_VS_SERIES^00A037009B023649^EUI-64|MINDRAY|||20260727124424.0000+0000||ORU^"
    "R01^ORU_R01|1|P|2.6|||AL|NE||UNICODE UTF-8|||IHE_PCD_001^IHE "
    "PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO\r"
    "PID|||99999^^^Hospital^PI||^^^^^^L|||||unknownrace\r"
    "PV1||I\r"
    "OBR|1|1^MINDRAY_VS_SERIES^00A037009B023649^EUI-64||182777000^monitoring of patient^SCT|||"
    "20260727124424+0000\r" /* OBR-7: elided ("...") in the source; MSH-7's time */
    "OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.150456|77|262688^MDC_DIM_PERCENT^MDC||DEMO|||"
    "R\r"
    "OBX|2|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC|1.3.1.149530|50|264864^MDC_DIM_BEAT_PER_MIN^MDC||"
    "DEMO|||R\r"
    "OBX|3|NM|150488^MDC_BLD_PERF_INDEX^MDC|1.3.1.150488|3.06|262688^MDC_DIM_PERCENT^MDC||DEMO|||"
    "R\r"
    "OBX|4|NM|151658^MDC_PULS_OXIM_PLETH_RESP_RATE^MDC|1.3.1.151658|12|264928^MDC_DIM_RESP_PER_MIN^"
    "MDC||DEMO|||R\r";

/* REQ HL7-PROFILE-DEMO */
static void demo_data_marked_in_obx_8_is_never_stored_as_real(void **s)
{
    (void)s;
    vigil_hl7_result *r = decode(mindray_vs8, NULL, VIGIL_ERR_PARSE);
    assert_int_equal(r->fault.ack, VIGIL_HL7_AE);
    assert_int_equal(r->fault.reason, VIGIL_HL7_R_DEMO);
    assert_int_equal(r->n_events, 0);
    assert_int_equal(r->oru.n_refused, 3); /* the perfusion index is unknown, not refused */
    assert_int_equal(r->oru.n_unknown, 1);
    free(r);
    /* the same readings live (OBX-8 empty) are stored */
    char live[4096];
    snprintf(live, sizeof live, "%s", mindray_vs8);
    for (char *p = strstr(live, "DEMO"); p != NULL; p = strstr(p, "DEMO")) {
        memmove(p, p + 4, strlen(p + 4) + 1);
    }
    r = decode(live, NULL, VIGIL_OK);
    assert_int_equal(r->n_events, 1);
    assert_num(r->events[0].obs.spo2_pct, 77);
    assert_num(r->events[0].obs.hr_bpm, 50);
    assert_num(r->events[0].obs.rr_bpm, 12);
    assert_string_equal(r->events[0].mrn, "99999");
    free(r);
}

/*
 * Source: Philips Efficia CM Series Data Export Guide, "Message Conventions":
 * the PID example `PID|||MRN1234||JONES^MARY^A||19910911|F` (PID-3 without
 * an identifier type), and OBX with Philips MDIL codes and units
 * (`0002-4182^HR^MDIL`, `0004-0aa0^bpm^MDIL`, `0002-4bb8^SpO2^MDIL`,
 * `0004-0220^%^MDIL`), status X for "no reading". A sender's local code map
 * makes the MDIL codes usable.
 */
static const char philips_efficia[] = "MSH|^~\\&|EFFICIA|WARD7|VIGIL|RX1|20250114083215+0000||ORU^"
                                      "R01|PH1|P|2.4\r"
                                      "PID|||MRN1234||JONES^MARY^A||19910911|F\r"
                                      "OBR|1|||VITALS|||20250114083000+0000\r"
                                      "OBX||NM|0002-4182^HR^MDIL||80|0004-0aa0^bpm^MDIL|||||F\r"
                                      "OBX||NM|0002-4bb8^SpO2^MDIL|||0004-0220^%^MDIL|||||X\r";

/* REQ HL7-PID-UNTYPED REQ HL7-PROFILE-CODES */
static void a_local_code_map_and_an_untyped_pid_3_read_a_vendor_feed(void **s)
{
    (void)s;
    /* without the map: the MDIL codes are unknown, accepted with a note */
    vigil_hl7_result *r = decode(philips_efficia, NULL, VIGIL_OK);
    assert_int_equal(r->n_events, 0);
    assert_int_equal(r->oru.n_unknown, 2);
    assert_int_equal(r->oru.n_warnings, 1);
    assert_int_equal(r->oru.warnings[0].reason, VIGIL_HL7_R_NO_VITAL_SIGNS);
    free(r);
    vigil_hl7_profile p = profile_of("name = philips-efficia\n"
                                     "sending_application = EFFICIA\n"
                                     "code = 0002-4182 MDIL hr   # heart rate\n"
                                     "code = 0002-4bb8 MDIL spo2\n");
    vigil_hl7_opts o;
    vigil_hl7_opts_init(&o);
    o.profiles = &p;
    o.n_profiles = 1;
    r = decode(philips_efficia, &o, VIGIL_OK);
    assert_int_equal(r->n_events, 1);
    assert_string_equal(r->events[0].mrn, "MRN1234");
    assert_num(r->events[0].obs.hr_bpm, 80);
    assert_num(r->events[0].obs.age_y, 33);
    assert_true(isnan(r->events[0].obs.spo2_pct));
    assert_int_equal(r->oru.n_refused, 1); /* SpO2 X: no reading, named */
    assert_int_equal(r->oru.warnings[0].reason, VIGIL_HL7_R_STATUS);
    free(r);
    /* a profile may refuse untyped identifiers */
    p = profile_of("pid3_untyped = ignore\ncode = 0002-4182 MDIL hr\n");
    r = decode(philips_efficia, &o, VIGIL_ERR_PARSE);
    assert_int_equal(r->fault.reason, VIGIL_HL7_R_NO_PATIENT_ID);
    free(r);
}

/*
 * Source: Philips Efficia CM Series Data Export Guide, serial export PID
 * example `PID|||MRN1234||JONES^MARY^A||19910900|F` (day 00); and
 * `00000000`, the placeholder birth date issue 11 measured in real feeds.
 */
static void placeholder_birth_dates_leave_the_age_unknown(void **s)
{
    (void)s;
    static const char *const dob[] = {"19910900", "00000000", "19910000"};
    for (size_t k = 0; k < sizeof dob / sizeof dob[0]; k++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "MSH|^~\\&|EFFICIA|WARD7|VIGIL|RX1|20250114083215+0000||ORU^R01|PH2|P|2.4\r"
                 "PID|||MRN1234||JONES^MARY^A||%s|F\r"
                 "OBR|1|||VITALS|||20250114083000+0000\r"
                 "OBX|1|NM|8867-4^Heart rate^LN||80|/min|||||F\r",
                 dob[k]);
        vigil_hl7_result *r = decode(text, NULL, VIGIL_OK);
        assert_true(isnan(r->events[0].obs.age_y));
        free(r);
    }
}

/*
 * Source: FHIR R4 vital signs profile codes (hl7.org/fhir/R4/observation-
 * vitalsigns.html) as HL7 v2 feeds send them: LOINC without the LN coding
 * system, SpO2 as 20564-1, units bpm, beats/min and degF.
 */
static void loinc_codes_without_ln_and_common_unit_synonyms_are_read(void **s)
{
    (void)s;
    vigil_hl7_result *r =
        decode("MSH|^~\\&|EOBS|RX1|VIGIL|RX1|20250114083215+0000||ORU^R01|L1|P|2.5.1\r"
               "PID|1||9990000018^^^NHS^NH\r"
               "OBR|1|||VS|||20250114083000+0000\r"
               "OBX|1|NM|8867-4^Heart rate||72|bpm|||||F\r"
               "OBX|2|NM|9279-1^Respiratory rate||18|breaths/min|||||F\r"
               "OBX|3|NM|20564-1^Oxygen saturation in Blood^LN||96|%|||||F\r"
               "OBX|4|NM|8310-5^Body temperature||100.4|degF|||||F\r",
               NULL, VIGIL_OK);
    assert_int_equal(r->n_events, 1);
    assert_num(r->events[0].obs.hr_bpm, 72);
    assert_num(r->events[0].obs.rr_bpm, 18);
    assert_num(r->events[0].obs.spo2_pct, 96);
    assert_num(r->events[0].obs.temp_c, 38.0); /* converted, never 100.4 as Celsius */
    free(r);
    /* a profile can refuse a code with no coding system */
    vigil_hl7_profile p = profile_of("coding_systems = LN MDC SCT\n");
    vigil_hl7_opts o;
    vigil_hl7_opts_init(&o);
    o.profiles = &p;
    o.n_profiles = 1;
    r = decode("MSH|^~\\&|EOBS|RX1|VIGIL|RX1|20250114083215+0000||ORU^R01|L2|P|2.5.1\r"
               "PID|1||9990000018^^^NHS^NH\r"
               "OBR|1|||VS|||20250114083000+0000\r"
               "OBX|1|NM|8867-4^Heart rate||72|bpm|||||F\r",
               &o, VIGIL_OK);
    assert_int_equal(r->n_events, 0);
    assert_int_equal(r->oru.n_unknown, 1);
    free(r);
}

/*
 * Source: Comen and Mindray PCD-01 feeds send -999, -100 or 8388607 (the
 * IEEE 11073-20601 FLOAT "not a number") for "no measurement" (issue 11).
 * Refused per result: the message's other vital signs are kept.
 */
static void sentinel_values_refuse_their_result_not_the_message(void **s)
{
    (void)s;
    vigil_hl7_result *r = decode(
        "MSH|^~\\&|COMEN|RX1|VIGIL|RX1|20250114083215+0000||ORU^R01|S1|P|2.4\r"
        "PID|||4711^^^^PI\r"
        "OBR|1|||VS|||20250114083000+0000\r"
        "OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.147842|-999|264864^MDC_DIM_BEAT_PER_MIN^MDC"
        "|||||F\r"
        "OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.150456|8388607|262688^MDC_DIM_PERCENT^MDC|"
        "||||F\r"
        "OBX|3|NM|151562^MDC_RESP_RATE^MDC|1.14.1.151562|20|264928^MDC_DIM_RESP_PER_MIN^MDC|||||"
        "F\r",
        NULL, VIGIL_OK);
    assert_int_equal(r->n_events, 1);
    assert_num(r->events[0].obs.rr_bpm, 20);
    assert_true(isnan(r->events[0].obs.hr_bpm));
    assert_true(isnan(r->events[0].obs.spo2_pct));
    assert_int_equal(r->oru.n_refused, 2);
    assert_int_equal(r->oru.warnings[0].reason, VIGIL_HL7_R_SENTINEL);
    assert_int_equal(r->oru.warnings[1].reason, VIGIL_HL7_R_SENTINEL);
    free(r);
}

/* REQ HL7-BOM: a UTF-8 byte-order mark before MSH (written by Windows editors) */
static void a_utf8_byte_order_mark_before_msh_is_tolerated(void **s)
{
    (void)s;
    vigil_hl7_result *r = decode("\xef\xbb\xbf"
                                 "MSH|^~\\&|EOBS|RX1|VIGIL|RX1|20250114083215+0000||ORU^R01|B1|P|"
                                 "2.5.1\r"
                                 "PID|1||9990000018^^^NHS^NH\r"
                                 "OBR|1|||VS|||20250114083000+0000\r"
                                 "OBX|1|NM|8867-4^Heart rate^LN||72|/min|||||F\r",
                                 NULL, VIGIL_OK);
    assert_int_equal(r->n_events, 1);
    assert_string_equal(r->hdr.sending_app, "EOBS");
    free(r);
}

/*
 * Source: the PV1 of a Microsoft FHIR-Converter HL7 v2 sample ADT message
 * (`PV1|1|P|HUH AE OMU&9.8&ISO^OMU B^Bed 03^HOMERTON UNIVER^^C^Homerton
 * UH^Floor5|...`), as issue 11 quotes it: PL.1 as an HD (namespace ID,
 * universal ID, type; HL7 v2.7+). REQ HL7-SUBCOMPONENT
 */
static void subcomponents_in_pv1_3_give_the_namespace_id_never_the_whole_field(void **s)
{
    (void)s;
    static const char head[] =
        "MSH|^~\\&|PAS|RX1|VIGIL|RX1|20250114083215+0000||ADT^A01|A1|P|2.5.1\r"
        "EVN|A01|20250114083000+0000\r"
        "PID|1||9990000018^^^NHS^NH\r";
    char text[1024];
    snprintf(text, sizeof text,
             "%sPV1|1|P|HUH AE OMU&9.8&ISO^OMU B^Bed 03^HOMERTON UNIVER^^C^Homerton UH^Floor5\r",
             head);
    vigil_hl7_result *r = decode(text, NULL, VIGIL_OK);
    assert_string_equal(r->adt.location.ward, "HUH AE OMU");
    assert_string_equal(r->adt.location.room, "OMU B");
    assert_string_equal(r->adt.location.bed, "Bed 03");
    free(r);
    /* a universal ID with its type stands for the bed */
    snprintf(text, sizeof text, "%sPV1|1|I|W7^^&24&L\r", head);
    r = decode(text, NULL, VIGIL_OK);
    assert_string_equal(r->adt.location.bed, "24");
    free(r);
    /* `^^&24`: a universal ID without its type is no valid HD: refused, never bed "&24" */
    snprintf(text, sizeof text, "%sPV1|1|I|W7^^&24\r", head);
    r = decode(text, NULL, VIGIL_ERR_PARSE);
    assert_int_equal(r->fault.reason, VIGIL_HL7_R_BAD_IDENTIFIER);
    assert_int_equal(r->fault.loc.field, 3);
    assert_int_equal(r->fault.loc.comp, 3);
    assert_non_null(strstr(r->fault.text, "bed"));
    free(r);
    /* an identifier that is one value (CX.1) never keeps a raw & */
    snprintf(text, sizeof text,
             "MSH|^~\\&|PAS|RX1|VIGIL|RX1|20250114083215+0000||ADT^A01|A2|P|2.5.1\r"
             "EVN|A01|20250114083000+0000\rPID|1||12&34^^^RX1^MR\rPV1|1|I|W7\r");
    r = decode(text, NULL, VIGIL_ERR_PARSE);
    assert_int_equal(r->fault.reason, VIGIL_HL7_R_BAD_IDENTIFIER);
    free(r);
}

/* REQ HL7-ORU-NOTHING-STORED: an ORU^R01 without any OBX is AE with a reason */
static void an_oru_without_results_is_refused_with_a_reason(void **s)
{
    (void)s;
    vigil_hl7_result *r = decode("MSH|^~\\&|EOBS|RX1|VIGIL|RX1|20250114083215+0000||ORU^R01|E1|P|"
                                 "2.5.1\r"
                                 "PID|1||9990000018^^^NHS^NH\r"
                                 "OBR|1|||VS|||20250114083000+0000\r",
                                 NULL, VIGIL_ERR_PARSE);
    assert_int_equal(r->fault.ack, VIGIL_HL7_AE);
    assert_int_equal(r->fault.reason, VIGIL_HL7_R_MISSING_SEGMENT);
    assert_non_null(strstr(r->fault.text, "no OBX"));
    free(r);
}

static void a_profile_file_is_read_and_its_errors_name_the_line(void **s)
{
    (void)s;
    vigil_hl7_profile p = profile_of("# Mindray central station\n"
                                     "name = mindray-icu\n"
                                     "sending_application = MINDRAY_VS_SERIES\n"
                                     "sending_facility = MINDRAY\n"
                                     "pid3_untyped = ignore\n"
                                     "coding_systems = MDC LN\n"
                                     "result_status = F C R\n"
                                     "time_zone = UTC\n"
                                     "no_sentinels =\n"
                                     "sentinel = -1\n"
                                     "demo_flag = SIM\n"
                                     "code = 80327-7 LN acvpu\n");
    assert_string_equal(p.name, "mindray-icu");
    assert_false(p.pid3_untyped_mrn);
    assert_int_equal(p.systems, VIGIL_HL7_SYS_MDC | VIGIL_HL7_SYS_LN);
    assert_true(p.has_tz);
    assert_int_equal(p.local_tz, VIGIL_HL7_TZ_UTC);
    assert_int_equal(p.n_sentinels, 1);
    assert_int_equal(p.n_demo, 2); /* DEMO (default) and SIM */
    assert_int_equal(p.n_codes, 1);
    assert_int_equal(p.codes[0].param, VIGIL_HL7_P_ACVPU);
    vigil_hl7_profile q;
    vigil_err e = {0};
    const char bad[] = "name = x\nresult_status = F W\n";
    assert_int_equal(vigil_hl7_profile_parse(bad, strlen(bad), &q, &e), VIGIL_ERR_PARSE);
    assert_non_null(strstr(e.msg, "line 2"));
    const char bad2[] = "code = 1234 LN heartrate\n";
    assert_int_equal(vigil_hl7_profile_parse(bad2, strlen(bad2), &q, &e), VIGIL_ERR_PARSE);
    assert_non_null(strstr(e.msg, "line 1"));
}

/* A French sender's monitor writes local times without an offset (as the GE
 * B40 example above does). REQ HL7-TIME-ZONE */
static char *paris_oru(const char *when)
{
    static char text[1024];
    snprintf(text, sizeof text,
             "MSH|^~\\&|PARIS_ICU|HOPITAL|||%s||ORU^R01^ORU_R01|P%s|P|2.6\r"
             "PID|||HED12^^^PID^MR\r"
             "OBR|1|||182777000^monitoring of patient^SCT|||%s\r"
             "OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC||80|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R\r",
             when, when, when);
    return text;
}

static void a_sender_time_zone_reads_its_local_times_across_its_clock_changes(void **s)
{
    (void)s;
    vigil_hl7_profile p = profile_of("name = paris\nsending_application = PARIS_ICU\n"
                                     "time_zone = Europe/Paris\n");
    assert_int_equal(p.local_tz, VIGIL_HL7_TZ_ZONE);
    assert_string_equal(p.tz_name, "Europe/Paris");
    vigil_hl7_opts o;
    vigil_hl7_opts_init(&o);
    o.profiles = &p;
    o.n_profiles = 1;
    /* not loaded (the parser does no I/O): local times are refused, never read as London */
    vigil_hl7_result *r = decode(paris_oru("202503300300"), &o, VIGIL_ERR_PARSE);
    assert_int_equal(r->fault.reason, VIGIL_HL7_R_BAD_TIMESTAMP);
    assert_non_null(strstr(r->fault.text, "not loaded"));
    free(r);
    vigil_tz *paris = NULL;
    vigil_err e = {0};
    if (vigil_tz_load("Europe/Paris", NULL, &paris, &e) != VIGIL_OK) {
        fail_msg("%s", e.msg);
    }
    p.zone = paris;
    static const struct {
        const char *local;
        int64_t want; /* Unix ms (Python zoneinfo) */
    } ok[] = {
        {"202503300159", 1743296340000LL}, /* CET, a minute before clocks go forward */
        {"202503300300", 1743296400000LL}, /* CEST, a minute after */
        {"202510260159", 1761436740000LL}, /* CEST, before clocks go back */
        {"202510260300", 1761444000000LL}, /* CET, after */
        {"202501141015", 1736846100000LL}, /* winter: UTC+1 (London would give 10:15 UTC) */
    };
    for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++) {
        r = decode(paris_oru(ok[k].local), &o, VIGIL_OK);
        assert_int_equal(r->n_events, 1);
        assert_int_equal(r->events[0].t_ms, ok[k].want);
        assert_true(r->hdr.has_time);
        assert_int_equal(r->hdr.t_ms, ok[k].want); /* MSH-7 in the sender's zone too */
        free(r);
    }
    /* skipped (02:30 on 30 March) and repeated (02:30 on 26 October): refused with the reason */
    r = decode(paris_oru("202503300230"), &o, VIGIL_ERR_CONFLICT);
    assert_int_equal(r->fault.reason, VIGIL_HL7_R_AMBIGUOUS_TIME);
    assert_non_null(strstr(r->fault.text, "does not exist in Europe/Paris"));
    free(r);
    r = decode(paris_oru("202510260230"), &o, VIGIL_ERR_CONFLICT);
    assert_int_equal(r->fault.reason, VIGIL_HL7_R_AMBIGUOUS_TIME);
    assert_non_null(strstr(r->fault.text, "happens twice in Europe/Paris"));
    free(r);
    /* an offset, when sent, always wins over the zone */
    r = decode(paris_oru("202510260230+0100"), &o, VIGIL_OK);
    assert_int_equal(r->events[0].t_ms, 1761442200000LL);
    free(r);
    /* ADT: PV1-44 admit time and EVN-2 in the same zone */
    r = decode("MSH|^~\\&|PARIS_ICU|HOPITAL|||20250309023000||ADT^A01|A1|P|2.5.1\r"
               "EVN|A01|202507011200\r"
               "PID|||HED12^^^PID^MR\r"
               "PV1|1|I|REA^1^2||||||||||||||||V1|||||||||||||||||||||||||202507011130\r",
               &o, VIGIL_OK);
    assert_int_equal(r->adt.t_ms, 1751364000000LL);     /* 12:00 CEST = 10:00 UTC */
    assert_int_equal(r->adt.admit_t_ms, 1751362200000LL); /* 11:30 CEST */
    free(r);
    vigil_tz_free(paris);
    /* a name that cannot be a zone refuses the profile file */
    vigil_hl7_profile q;
    const char bad[] = "time_zone = ../../etc/passwd\n";
    assert_int_equal(vigil_hl7_profile_parse(bad, strlen(bad), &q, &e), VIGIL_ERR_PARSE);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(pcd01_device_message_with_mdc_codes_and_status_r_is_stored),
    cmocka_unit_test(ecg_heart_rate_is_preferred_to_a_pulse_rate_of_another_method),
    cmocka_unit_test(a_profile_without_status_r_refuses_the_monitor_results),
    cmocka_unit_test(demo_data_marked_in_obx_8_is_never_stored_as_real),
    cmocka_unit_test(a_local_code_map_and_an_untyped_pid_3_read_a_vendor_feed),
    cmocka_unit_test(placeholder_birth_dates_leave_the_age_unknown),
    cmocka_unit_test(loinc_codes_without_ln_and_common_unit_synonyms_are_read),
    cmocka_unit_test(sentinel_values_refuse_their_result_not_the_message),
    cmocka_unit_test(a_utf8_byte_order_mark_before_msh_is_tolerated),
    cmocka_unit_test(subcomponents_in_pv1_3_give_the_namespace_id_never_the_whole_field),
    cmocka_unit_test(an_oru_without_results_is_refused_with_a_reason),
    cmocka_unit_test(a_profile_file_is_read_and_its_errors_name_the_line),
    cmocka_unit_test(a_sender_time_zone_reads_its_local_times_across_its_clock_changes),
};

VIGIL_TEST_MAIN(tests)
