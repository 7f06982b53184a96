/* test_hl7_adt.c: ADT A01/A02/A03/A08 to vigil_adt_event (HL7 v2.5.1 chapter 3). */
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "vigil/hl7.h"
#include "vigil_test.h"

static void assert_loc(const vigil_location *l, const char *ward, const char *room, const char *bed,
                       const char *fac)
{
    assert_string_equal(l->ward, ward);
    assert_string_equal(l->room, room);
    assert_string_equal(l->bed, bed);
    assert_string_equal(l->facility, fac);
}

static void hl7_golden_a01_admit_gives_location_and_identifiers_only(void **s)
{
    (void)s;
    vigil_status st;
    vigil_hl7_result *r = golden_decode("adt_a01_admit.hl7", &st);
    assert_int_equal(st, VIGIL_OK);
    assert_int_equal(r->kind, VIGIL_HL7_KIND_ADT);
    const vigil_adt_event *a = &r->adt;
    assert_int_equal(a->kind, VIGIL_ADT_ADMIT);
    assert_string_equal(a->nhs_number, "9990000026");
    assert_string_equal(a->mrn, "RX1B654321");
    assert_string_equal(a->visit_number, "V00098765");
    assert_string_equal(a->patient_class, "I");
    assert_loc(&a->location, "WARD7B", "BAY1", "BED02", "RX1");
    assert_loc(&a->prior_location, "", "", "", "");
    assert_int_equal(a->t_ms, 1736849100000LL); /* EVN-6 10:05, not EVN-2 10:15 */
    assert_true(a->has_admit_t);
    assert_int_equal(a->admit_t_ms, 1736849100000LL);
    assert_false(a->has_discharge_t);
    assert_string_equal(a->source_id, "PAS000451278");
    free(r);
}

static void hl7_golden_a02_transfer_decodes_the_escaped_prior_ward(void **s)
{
    (void)s;
    vigil_status st;
    vigil_hl7_result *r = golden_decode("adt_a02_transfer.hl7", &st);
    assert_int_equal(st, VIGIL_OK);
    const vigil_adt_event *a = &r->adt;
    assert_int_equal(a->kind, VIGIL_ADT_TRANSFER);
    assert_loc(&a->location, "WARD12", "SIDEROOM1", "BED01", "RX1");
    assert_loc(&a->prior_location, "A&E", "MAJORS", "CUBICLE3", "RX1");
    assert_int_equal(a->t_ms, 1736906400000LL);
    assert_int_equal(a->admit_t_ms, 1736893800000LL);
    free(r);
}

static void hl7_golden_a03_discharge_reads_local_summer_time(void **s)
{
    (void)s;
    vigil_status st;
    vigil_hl7_result *r = golden_decode("adt_a03_discharge.hl7", &st);
    assert_int_equal(st, VIGIL_OK);
    const vigil_adt_event *a = &r->adt;
    assert_int_equal(a->kind, VIGIL_ADT_DISCHARGE);
    assert_true(a->has_discharge_t);
    assert_int_equal(a->discharge_t_ms, 1751643000000LL); /* 16:30 BST = 15:30 UTC */
    assert_int_equal(a->t_ms, 1751643000000LL);           /* EVN-2 */
    free(r);
}

static void hl7_golden_a08_update_in_version_2_4_is_accepted(void **s)
{
    (void)s;
    vigil_status st;
    vigil_hl7_result *r = golden_decode("adt_a08_update.hl7", &st);
    assert_int_equal(st, VIGIL_OK);
    const vigil_adt_event *a = &r->adt;
    assert_int_equal(a->kind, VIGIL_ADT_UPDATE);
    assert_string_equal(a->nhs_number, "");
    assert_string_equal(a->mrn, "RX1F135791");
    assert_loc(&a->location, "WARD3", "BAY4", "BED16", "RX1");
    assert_string_equal(a->visit_number, "V00098999");
    assert_int_equal(a->t_ms, 1764579600000LL);
    assert_false(a->has_admit_t);
    assert_string_equal(r->hdr.version, "2.4");
    free(r);
}

static vigil_hl7_result *adt(const char *trigger, const char *evn, const char *pid, const char *pv1)
{
    char text[1024];
    snprintf(text, sizeof text,
             "MSH|^~\\&|PAS|RX1|VIGIL|RX1|20250114101502+0000||ADT^%s|X1|P|2.5.1\r%s%s%s", trigger,
             evn, pid, pv1);
    vigil_hl7_result *r = malloc(sizeof *r);
    assert_non_null(r);
    vigil_hl7_decode(text, strlen(text), NULL, r);
    return r;
}

/* REQ HL7-ADT-LOCATION */
static void hl7_admit_and_transfer_need_a_ward_discharge_and_update_do_not(void **s)
{
    (void)s;
    static const char pid[] = "PID|1||9990000026^^^NHS^NH\r";
    vigil_hl7_result *r = adt("A01", "", pid, "PV1|1|I\r");
    assert_int_equal(r->fault.ack, VIGIL_HL7_AE);
    assert_int_equal(r->fault.reason, VIGIL_HL7_R_MISSING_FIELD);
    assert_string_equal(r->fault.loc.seg, "PV1");
    assert_int_equal(r->fault.loc.field, 3);
    free(r);
    r = adt("A02", "", pid, "PV1|1|I|^BAY1^BED1\r");
    assert_int_equal(r->fault.reason, VIGIL_HL7_R_MISSING_FIELD);
    free(r);
    r = adt("A03", "", pid, "PV1|1|I\r");
    assert_int_equal(r->fault.ack, VIGIL_HL7_AA);
    assert_int_equal(r->adt.t_ms, 1736849702000LL); /* no EVN: MSH-7, 10:15:02 */
    free(r);
    r = adt("A08", "EVN|A08|20250114101500+0000\r", pid, "PV1|1|I\r");
    assert_int_equal(r->fault.ack, VIGIL_HL7_AA);
    assert_int_equal(r->adt.t_ms, 1736849700000LL); /* EVN-2, 10:15:00 */
    free(r);
}

/* issue 14 item 3: PV1-36 discharge disposition (user table 0112) */
static void hl7_a03_reads_the_discharge_disposition_in_pv1_36(void **s)
{
    (void)s;
    static const char pid[] = "PID|1||9990000026^^^NHS^NH\r";
    vigil_hl7_result *r = adt("A03", "", pid, "PV1|1|I|W1|||||||||||||||||||||||||||||||||20\r");
    assert_int_equal(r->fault.ack, VIGIL_HL7_AA);
    assert_string_equal(r->adt.discharge_disposition, "20");
    free(r);
    r = adt("A03", "", pid, "PV1|1|I|W1\r");
    assert_int_equal(r->fault.ack, VIGIL_HL7_AA);
    assert_string_equal(r->adt.discharge_disposition, "");
    free(r);
}

/* REQ HL7-PID8-SEX: an ADT event carries PID-8 too */
static void hl7_adt_reads_the_administrative_sex_in_pid_8(void **s)
{
    (void)s;
    vigil_hl7_result *r = adt("A01", "", "PID|1||9990000026^^^NHS^NH||||19540101|F\r",
                              "PV1|1|I|W1^B1^1\r");
    assert_int_equal(r->fault.ack, VIGIL_HL7_AA);
    assert_int_equal(r->adt.sex, VIGIL_ADMIN_SEX_FEMALE);
    free(r);
    r = adt("A08", "", "PID|1||9990000026^^^NHS^NH\r", "PV1|1|I\r");
    assert_int_equal(r->fault.ack, VIGIL_HL7_AA);
    assert_int_equal(r->adt.sex, VIGIL_ADMIN_SEX_NONE);
    free(r);
}

static void hl7_adt_needs_pid_and_pv1_and_usable_fields(void **s)
{
    (void)s;
    static const char pid[] = "PID|1||9990000026^^^NHS^NH\r";
    vigil_hl7_result *r = adt("A01", "", "", "PV1|1|I|W1\r");
    assert_int_equal(r->fault.reason, VIGIL_HL7_R_MISSING_SEGMENT);
    assert_string_equal(r->fault.loc.seg, "PID");
    free(r);
    r = adt("A01", "", pid, "");
    assert_int_equal(r->fault.reason, VIGIL_HL7_R_MISSING_SEGMENT);
    assert_string_equal(r->fault.loc.seg, "PV1");
    free(r);
    r = adt("A01", "", "PID|1||9990000025^^^NHS^NH\r", "PV1|1|I|W1\r");
    assert_int_equal(r->fault.reason, VIGIL_HL7_R_BAD_NHS_NUMBER);
    free(r);
    char pv1_44[128];
    size_t o = (size_t)snprintf(pv1_44, sizeof pv1_44, "PV1|1|I|W1");
    for (int f = 4; f <= 44; f++) {
        pv1_44[o++] = '|';
    }
    snprintf(pv1_44 + o, sizeof pv1_44 - o, "2025011410\r");
    r = adt("A01", "", pid, pv1_44);
    assert_int_equal(r->fault.reason, VIGIL_HL7_R_BAD_TIMESTAMP);
    assert_int_equal(r->fault.loc.field, 44);
    free(r);
    r = adt("A01", "", pid, "PV1|1|I|W\\X01\\1\r");
    assert_int_equal(r->fault.reason, VIGIL_HL7_R_BAD_IDENTIFIER);
    free(r);
    r = adt("A01", "EVN|A01|20250114101500\r", pid, "PV1|1|I|W1\r"); /* GMT, no offset */
    assert_int_equal(r->fault.ack, VIGIL_HL7_AA);
    assert_int_equal(r->adt.t_ms, 1736849700000LL);
    free(r);
    char big[200];
    memset(big, 'W', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char pv1[256];
    snprintf(pv1, sizeof pv1, "PV1|1|I|%s\r", big);
    r = adt("A01", "", pid, pv1);
    assert_int_equal(r->fault.reason, VIGIL_HL7_R_BAD_IDENTIFIER);
    assert_non_null(strstr(r->fault.text, "too long"));
    free(r);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(hl7_golden_a01_admit_gives_location_and_identifiers_only),
    cmocka_unit_test(hl7_golden_a02_transfer_decodes_the_escaped_prior_ward),
    cmocka_unit_test(hl7_golden_a03_discharge_reads_local_summer_time),
    cmocka_unit_test(hl7_golden_a08_update_in_version_2_4_is_accepted),
    cmocka_unit_test(hl7_admit_and_transfer_need_a_ward_discharge_and_update_do_not),
    cmocka_unit_test(hl7_adt_needs_pid_and_pv1_and_usable_fields),
    cmocka_unit_test(hl7_a03_reads_the_discharge_disposition_in_pv1_36),
    cmocka_unit_test(hl7_adt_reads_the_administrative_sex_in_pid_8),
};

VIGIL_TEST_MAIN(tests)
