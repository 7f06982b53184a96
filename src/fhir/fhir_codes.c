/*
 * fhir_codes.c: the code tables vigil's FHIR reader and writers share:
 * observation codes (LOINC vital signs, UK Core SNOMED CT codes for ACVPU and
 * inspired oxygen), the UKCore-ACVPU value set, issue type and severity
 * names, and the HTTP status of an issue.
 *
 * Does not: look anything up in a terminology server. A code is known only
 * when it is in these tables (docs/fhir.md lists them).
 * Spec: FHIR R4 vital-signs profile (LOINC codes); UK Core
 * UKCore-Observation-ACVPU (SNOMED CT 1104441000000107) and ValueSet
 * UKCore-ACVPU (248234008, 130987000, 300202002, 450847001, 422768004);
 * ValueSet UKCore-InspiredOxygen (722742002, 371825009); R4 IssueType,
 * IssueSeverity; R4 RESTful API status codes.
 */
#include <string.h>

#include "fhir_int.h"

/* REQ FHIR-CODES */
static const fhir_code_entry codes[] = {
    {FHIR_SYS_LOINC, "9279-1", FHIR_KIND_RR},
    {FHIR_SYS_LOINC, "8867-4", FHIR_KIND_HR},
    {FHIR_SYS_LOINC, "2708-6", FHIR_KIND_SPO2},
    {FHIR_SYS_LOINC, "59408-5", FHIR_KIND_SPO2},
    {FHIR_SYS_LOINC, "85354-9", FHIR_KIND_BP_PANEL},
    {FHIR_SYS_LOINC, "8480-6", FHIR_KIND_SBP},
    {FHIR_SYS_LOINC, "8462-4", FHIR_KIND_DBP},
    {FHIR_SYS_LOINC, "8310-5", FHIR_KIND_TEMP},
    {FHIR_SYS_LOINC, "3150-0", FHIR_KIND_FIO2},
    {FHIR_SYS_LOINC, "3151-8", FHIR_KIND_O2_FLOW},
    {FHIR_SYS_SNOMED, "1104441000000107", FHIR_KIND_ACVPU},
    {FHIR_SYS_SNOMED, "722742002", FHIR_KIND_ROOM_AIR},
    {FHIR_SYS_SNOMED, "371825009", FHIR_KIND_ON_O2},
};

fhir_kind vigil__fhir_kind_of(const char *system, const char *code)
{
    if (system == NULL || code == NULL) {
        return FHIR_KIND_NONE;
    }
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        if (strcmp(system, codes[i].system) == 0 && strcmp(code, codes[i].code) == 0) {
            return codes[i].kind;
        }
    }
    return FHIR_KIND_NONE;
}

static const char *const kind_labels[FHIR_KIND_COUNT] = {
    [FHIR_KIND_NONE] = "unknown",
    [FHIR_KIND_RR] = "respiratory rate",
    [FHIR_KIND_HR] = "heart rate",
    [FHIR_KIND_SPO2] = "oxygen saturation",
    [FHIR_KIND_BP_PANEL] = "blood pressure panel",
    [FHIR_KIND_SBP] = "systolic blood pressure",
    [FHIR_KIND_DBP] = "diastolic blood pressure",
    [FHIR_KIND_TEMP] = "body temperature",
    [FHIR_KIND_FIO2] = "inhaled oxygen concentration",
    [FHIR_KIND_O2_FLOW] = "inhaled oxygen flow rate",
    [FHIR_KIND_ACVPU] = "ACVPU",
    [FHIR_KIND_ROOM_AIR] = "breathing room air",
    [FHIR_KIND_ON_O2] = "patient on oxygen",
};

const char *vigil__fhir_kind_label(fhir_kind k)
{
    return (unsigned)k < FHIR_KIND_COUNT ? kind_labels[k] : "?";
}

bool vigil__fhir_kind_is_loinc(fhir_kind k)
{
    return k != FHIR_KIND_NONE && k != FHIR_KIND_ACVPU && k != FHIR_KIND_ROOM_AIR &&
           k != FHIR_KIND_ON_O2 && (unsigned)k < FHIR_KIND_COUNT;
}

/* REQ FHIR-ACVPU-SNOMED: UKCore-ACVPU value set */
static const struct {
    const char *code;
    const char *display;
} acvpu_codes[VIGIL_ACVPU_COUNT] = {
    [VIGIL_ACVPU_UNKNOWN] = {"", ""},
    [VIGIL_ACVPU_A] = {"248234008", "Mentally alert"},
    [VIGIL_ACVPU_C] = {"130987000", "Acute confusion"},
    [VIGIL_ACVPU_V] = {"300202002", "Responds to voice"},
    [VIGIL_ACVPU_P] = {"450847001", "Responds to pain"},
    [VIGIL_ACVPU_U] = {"422768004", "Unresponsive"},
};

vigil_acvpu vigil__fhir_acvpu_of_snomed(const char *code)
{
    for (int a = VIGIL_ACVPU_A; a < VIGIL_ACVPU_COUNT; a++) {
        if (strcmp(code, acvpu_codes[a].code) == 0) {
            return (vigil_acvpu)a;
        }
    }
    return VIGIL_ACVPU_UNKNOWN;
}

const char *vigil__fhir_acvpu_snomed(vigil_acvpu a)
{
    return (unsigned)a < VIGIL_ACVPU_COUNT ? acvpu_codes[a].code : "";
}

const char *vigil__fhir_acvpu_display(vigil_acvpu a)
{
    return (unsigned)a < VIGIL_ACVPU_COUNT ? acvpu_codes[a].display : "";
}

static const char *const severity_names[VIGIL_FHIR_SEV_COUNT] = {
    "fatal",
    "error",
    "warning",
    "information",
};

const char *vigil_fhir_severity_name(vigil_fhir_severity s)
{
    return (unsigned)s < VIGIL_FHIR_SEV_COUNT ? severity_names[s] : "?";
}

static const char *const issue_names[VIGIL_FHIR_ISSUE_COUNT] = {
    [VIGIL_FHIR_ISSUE_INVALID] = "invalid",
    [VIGIL_FHIR_ISSUE_STRUCTURE] = "structure",
    [VIGIL_FHIR_ISSUE_REQUIRED] = "required",
    [VIGIL_FHIR_ISSUE_VALUE] = "value",
    [VIGIL_FHIR_ISSUE_CODE_INVALID] = "code-invalid",
    [VIGIL_FHIR_ISSUE_EXTENSION] = "extension",
    [VIGIL_FHIR_ISSUE_NOT_SUPPORTED] = "not-supported",
    [VIGIL_FHIR_ISSUE_DUPLICATE] = "duplicate",
    [VIGIL_FHIR_ISSUE_BUSINESS_RULE] = "business-rule",
    [VIGIL_FHIR_ISSUE_TOO_LONG] = "too-long",
    [VIGIL_FHIR_ISSUE_TOO_COSTLY] = "too-costly",
    [VIGIL_FHIR_ISSUE_PROCESSING] = "processing",
    [VIGIL_FHIR_ISSUE_EXCEPTION] = "exception",
};

const char *vigil_fhir_issue_type_name(vigil_fhir_issue_type t)
{
    return (unsigned)t < VIGIL_FHIR_ISSUE_COUNT ? issue_names[t] : "?";
}

int vigil_fhir_issue_http_status(const vigil_fhir_issue *issue)
{
    if (issue == NULL) {
        return 500;
    }
    switch (issue->code) {
    case VIGIL_FHIR_ISSUE_STRUCTURE:
        return 400;
    case VIGIL_FHIR_ISSUE_TOO_COSTLY:
        return 413;
    case VIGIL_FHIR_ISSUE_EXCEPTION:
        return 500;
    default:
        return 422;
    }
}
