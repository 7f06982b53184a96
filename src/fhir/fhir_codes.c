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

/* REQ FHIR-CODES: the LOINC and SNOMED CT codes of the vital-sign table
 * (vigil/vitals.h), and here only the blood pressure panel and diastolic
 * pressure, read past to reach the systolic value. */
static const fhir_code_entry codes[] = {
    {FHIR_SYS_LOINC, "85354-9", FHIR_KIND_BP_PANEL},
    {FHIR_SYS_LOINC, "8462-4", FHIR_KIND_DBP},
};

/* The FHIR kind of each NEWS2 parameter's value codes; O2 by its form. */
static const fhir_kind kind_of_param[VIGIL_NEWS2_PARAM_COUNT] = {
    [VIGIL_NEWS2_RR] = FHIR_KIND_RR,   [VIGIL_NEWS2_SPO2] = FHIR_KIND_SPO2,
    [VIGIL_NEWS2_O2] = FHIR_KIND_NONE, [VIGIL_NEWS2_SBP] = FHIR_KIND_SBP,
    [VIGIL_NEWS2_HR] = FHIR_KIND_HR,   [VIGIL_NEWS2_ACVPU] = FHIR_KIND_ACVPU,
    [VIGIL_NEWS2_TEMP] = FHIR_KIND_TEMP,
};

static const fhir_kind kind_of_form[VIGIL_VITAL_FORM_COUNT] = {
    [VIGIL_VITAL_FORM_VALUE] = FHIR_KIND_NONE,
    [VIGIL_VITAL_FORM_FIO2] = FHIR_KIND_FIO2,
    [VIGIL_VITAL_FORM_O2_FLOW] = FHIR_KIND_O2_FLOW,
    [VIGIL_VITAL_FORM_ROOM_AIR] = FHIR_KIND_ROOM_AIR,
    [VIGIL_VITAL_FORM_ON_O2] = FHIR_KIND_ON_O2,
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
    const char *sys = strcmp(system, FHIR_SYS_LOINC) == 0    ? "LN"
                      : strcmp(system, FHIR_SYS_SNOMED) == 0 ? "SCT"
                                                             : NULL;
    const vigil_vital *row = NULL;
    const vigil_vital_code *c = sys != NULL ? vigil_vital_code_find(sys, code, &row) : NULL;
    if (c == NULL) {
        return FHIR_KIND_NONE;
    }
    return c->form == VIGIL_VITAL_FORM_VALUE ? kind_of_param[row->param] : kind_of_form[c->form];
}

fhir_kind vigil__fhir_kind_of_param(vigil_news2_param p)
{
    return (unsigned)p < VIGIL_NEWS2_PARAM_COUNT ? kind_of_param[p] : FHIR_KIND_NONE;
}

vigil_news2_param vigil__fhir_param_of_kind(fhir_kind k)
{
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        if (kind_of_param[p] == k && k != FHIR_KIND_NONE) {
            return (vigil_news2_param)p;
        }
    }
    return VIGIL_NEWS2_PARAM_COUNT;
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
