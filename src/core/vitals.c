/*
 * vitals.c: the one table of vital signs (vigil/vitals.h): what each NEWS2
 * parameter is called, where it lives in vigil_obs, its unit and bounds,
 * the codes that carry it, its JSON key and store column, its words.
 *
 * Does not: score (news2.c holds the scoring rules, one per parameter),
 * read or write anything, allocate. Invariants: one row per
 * vigil_news2_param in chart order (designated initialisers, count checked
 * at compile time); codes unique across the table (tests/core/
 * test_vitals.c); numeric bounds are the vigil/news2.h macros, so code that
 * still names a macro and code that reads the table agree.
 *
 * Sources for the codes: LOINC (the FHIR R4 vital-signs profiles; 20564-1
 * oxygen saturation in blood, 67775-7 level of responsiveness), SNOMED CT
 * UK (1104441000000107 ACVPU, 722742002 breathing room air, 371825009
 * patient on oxygen), ISO/IEEE 11073-10101 MDC codes as IHE PCD-01 devices
 * send them, each checked against a published list (docs/hl7.md names the
 * sources). A monitor sends one parameter by several methods at once: the
 * rank orders them (REQ HL7-ORU-MDC).
 */
#include "vigil/vitals.h"

#include <math.h>
#include <string.h>

#define R4(x) "http://hl7.org/fhir/StructureDefinition/" x
#define UKCORE(x) "https://fhir.hl7.org.uk/StructureDefinition/" x

/* A LOINC or SNOMED CT code (rank 0). */
#define CODE(sys, c, words, display)                                                               \
    {.system = (sys), .code = (c), .text = (words), .fhir_display = (display)}
/* A LOINC code vigil also writes in HL7 v2 (vigil replay). */
#define CODE_OUT(sys, c, words, display)                                                           \
    {.system = (sys), .code = (c), .text = (words), .fhir_display = (display), .hl7_out = true}
/* An MDC code with its reference id and rank. */
#define MDC(c, ref, words, r) {.system = "MDC", .code = (c), .refid = (ref), .text = (words), .rank = (r)}

/* REQ VITALS-TABLE: one row per NEWS2 parameter, chart order. */
static const vigil_vital table[VIGIL_NEWS2_PARAM_COUNT] = {
    [VIGIL_NEWS2_RR] =
        {
            .param = VIGIL_NEWS2_RR,
            .type = VIGIL_VITAL_NUMBER,
            .name = "rr",
            .key = "rr",
            .label = "respiration rate",
            .offset = offsetof(vigil_obs, rr_bpm),
            .column = "rr_bpm",
            .digest_v1 = true,
            .min = VIGIL_RR_MIN,
            .max = VIGIL_RR_MAX,
            .unit = "breaths/min",
            .ucum = "/min",
            .ucum_text = "breaths/minute",
            .fhir_profile = R4("resprate"),
            .fhir_text = "Respiratory rate",
            .form_label = "Respiration rate (breaths per minute)",
            .heading = "Resp.",
            .chart_label = "Respirations (per min)",
            .chart_lo = 4.0,
            .chart_hi = 32.0,
            .codes =
                {
                    CODE_OUT("LN", "9279-1", "respiratory rate", "Respiratory rate"),
                    MDC("151562", "MDC_RESP_RATE", "respiration rate", 1),
                    MDC("151578", "MDC_TTHOR_RESP_RATE", "respiration rate (impedance)", 2),
                    MDC("151594", "MDC_CO2_RESP_RATE", "respiration rate (CO2)", 2),
                    MDC("151570", "MDC_AWAY_RESP_RATE", "respiration rate (airway)", 2),
                    MDC("151658", "MDC_PULS_OXIM_PLETH_RESP_RATE", "respiration rate (pleth)", 3),
                },
        },
    [VIGIL_NEWS2_SPO2] =
        {
            .param = VIGIL_NEWS2_SPO2,
            .type = VIGIL_VITAL_NUMBER,
            .name = "spo2",
            .key = "spo2",
            .label = "SpO2",
            .offset = offsetof(vigil_obs, spo2_pct),
            .column = "spo2_pct",
            .digest_v1 = true,
            .min = VIGIL_SPO2_MIN,
            .max = VIGIL_SPO2_MAX,
            .unit = "%",
            .ucum = "%",
            .ucum_text = "%",
            .fhir_profile = R4("oxygensat"),
            .fhir_text = "Oxygen saturation",
            .form_label = "SpO2 (%)",
            .heading = "SpO2",
            .chart_label = "SpO2 Scale 1 (%)",
            .chart_lo = 84.0,
            .chart_hi = 100.0,
            .codes =
                {
                    /* R4 oxygensat needs 2708-6; 59408-5 says it was pulse oximetry */
                    CODE("LN", "2708-6", "oxygen saturation",
                         "Oxygen saturation in Arterial blood"),
                    CODE_OUT("LN", "59408-5", "SpO2 (pulse oximetry)",
                         "Oxygen saturation in Arterial blood by Pulse oximetry"),
                    CODE("LN", "20564-1", "oxygen saturation in blood", NULL),
                    MDC("150456", "MDC_PULS_OXIM_SAT_O2", "SpO2", 1),
                },
        },
    [VIGIL_NEWS2_O2] =
        {
            .param = VIGIL_NEWS2_O2,
            .type = VIGIL_VITAL_O2,
            .name = "o2",
            .key = "o2",
            .label = "air or oxygen",
            .column = "o2",
            .digest_v1 = true,
            .unit = "",
            .ucum = "",
            .ucum_text = "",
            .fhir_profile = UKCORE("UKCore-Observation-InspiredOxygen"),
            .fhir_text = "",
            .form_label = "Air or oxygen",
            .heading = "Air/O2",
            .codes =
                {
                    /* REQ VITALS-O2-BOUNDS: below room air's 21 % less 1 point of
                     * device error, or a flow beyond high-flow nasal cannulae, is a
                     * device or typing error; 21 % or less is air, any flow oxygen
                     * (REQ HL7-O2-FLAG, FHIR-O2-FIO2, FHIR-O2-FLOW) */
                    {.system = "LN",
                     .code = "3150-0",
                     .text = "inhaled oxygen concentration",
                     .form = VIGIL_VITAL_FORM_FIO2,
                     .o2_ucum = "%",
                     .o2_min = 20.0,
                     .o2_max = 100.0,
                     .o2_air_max = 21.0,
                     .hl7_out = true},
                    {.system = "LN",
                     .code = "3151-8",
                     .text = "inhaled oxygen flow rate",
                     .form = VIGIL_VITAL_FORM_O2_FLOW,
                     .o2_ucum = "L/min",
                     .o2_min = 0.0,
                     .o2_max = 80.0,
                     .o2_air_max = 0.0},
                    {.system = "SCT",
                     .code = "722742002",
                     .text = "breathing room air",
                     .form = VIGIL_VITAL_FORM_ROOM_AIR,
                     .fhir_display = "Breathing room air"},
                    {.system = "SCT",
                     .code = "371825009",
                     .text = "patient on oxygen",
                     .form = VIGIL_VITAL_FORM_ON_O2,
                     .fhir_display = "Patient on oxygen"},
                },
        },
    [VIGIL_NEWS2_SBP] =
        {
            .param = VIGIL_NEWS2_SBP,
            .type = VIGIL_VITAL_NUMBER,
            .name = "sbp",
            .key = "sbp",
            .label = "systolic blood pressure",
            .offset = offsetof(vigil_obs, sbp_mmhg),
            .column = "sbp_mmhg",
            .digest_v1 = true,
            .min = VIGIL_SBP_MIN,
            .max = VIGIL_SBP_MAX,
            .unit = "mmHg",
            .ucum = "mm[Hg]",
            .ucum_text = "millimeter of mercury",
            .fhir_profile = R4("vitalsigns"),
            .fhir_text = "Systolic blood pressure",
            .form_label = "Systolic blood pressure (mmHg)",
            .heading = "Systolic BP",
            .chart_label = "Systolic BP (mmHg)",
            .chart_lo = 60.0,
            .chart_hi = 240.0,
            .codes =
                {
                    CODE_OUT("LN", "8480-6", "systolic blood pressure", "Systolic blood pressure"),
                    MDC("150021", "MDC_PRESS_BLD_NONINV_SYS", "systolic blood pressure (NIBP)", 1),
                    MDC("150033", "MDC_PRESS_BLD_ART_SYS", "systolic blood pressure (arterial)",
                        2),
                },
        },
    [VIGIL_NEWS2_HR] =
        {
            .param = VIGIL_NEWS2_HR,
            .type = VIGIL_VITAL_NUMBER,
            .name = "hr",
            .key = "hr",
            .label = "pulse",
            .offset = offsetof(vigil_obs, hr_bpm),
            .column = "hr_bpm",
            .digest_v1 = true,
            .min = VIGIL_HR_MIN,
            .max = VIGIL_HR_MAX,
            .unit = "beats/min",
            .ucum = "/min",
            .ucum_text = "beats/minute",
            .fhir_profile = R4("heartrate"),
            .fhir_text = "Heart rate",
            .form_label = "Pulse (beats per minute)",
            .heading = "Pulse",
            .chart_label = "Pulse (per min)",
            .chart_lo = 30.0,
            .chart_hi = 150.0,
            .codes =
                {
                    CODE_OUT("LN", "8867-4", "heart rate", "Heart rate"),
                    MDC("147842", "MDC_ECG_HEART_RATE", "heart rate (ECG)", 1),
                    MDC("149530", "MDC_PULS_OXIM_PULS_RATE", "pulse rate (oximeter)", 2),
                    MDC("149514", "MDC_PULS_RATE", "pulse rate", 2),
                    MDC("149546", "MDC_PULS_RATE_NON_INV", "pulse rate (non-invasive)", 3),
                    MDC("149522", "MDC_BLD_PULS_RATE_INV", "pulse rate (invasive)", 3),
                },
        },
    [VIGIL_NEWS2_ACVPU] =
        {
            .param = VIGIL_NEWS2_ACVPU,
            .type = VIGIL_VITAL_ACVPU,
            .name = "acvpu",
            .key = "acvpu",
            .label = "consciousness",
            .column = "acvpu",
            .digest_v1 = true,
            .unit = "",
            .ucum = "",
            .ucum_text = "",
            .fhir_profile = UKCORE("UKCore-Observation-ACVPU"),
            .fhir_text = "ACVPU",
            .form_label = "Consciousness (ACVPU)",
            .heading = "ACVPU",
            .codes =
                {
                    CODE("SCT", "1104441000000107", "ACVPU",
                         "ACVPU (Alert Confusion Voice Pain Unresponsive) scale score"),
                    CODE("LN", "67775-7", "level of responsiveness (ACVPU)", NULL),
                },
        },
    [VIGIL_NEWS2_TEMP] =
        {
            .param = VIGIL_NEWS2_TEMP,
            .type = VIGIL_VITAL_NUMBER,
            .name = "temp",
            .key = "temp_c",
            .label = "temperature",
            .offset = offsetof(vigil_obs, temp_c),
            .column = "temp_c",
            .digest_v1 = true,
            .min = VIGIL_TEMP_MIN,
            .max = VIGIL_TEMP_MAX,
            .unit = "C",
            .ucum = "Cel",
            .ucum_text = "degree Celsius",
            .fhir_profile = R4("bodytemp"),
            .fhir_text = "Body temperature",
            .form_label = "Temperature (°C)",
            .heading = "Temp.",
            .decimals = 1,
            .chart_label = "Temperature (°C)",
            .chart_lo = 34.0,
            .chart_hi = 40.5,
            .codes =
                {
                    CODE_OUT("LN", "8310-5", "body temperature", "Body temperature"),
                    MDC("150364", "MDC_TEMP_BODY", "body temperature", 1),
                    MDC("150344", "MDC_TEMP", "temperature", 1),
                    MDC("150368", "MDC_TEMP_CORE", "core temperature", 2),
                    MDC("150392", "MDC_TEMP_TYMP", "tympanic temperature", 2),
                    MDC("188420", "MDC_TEMP_RECT", "rectal temperature", 2),
                    MDC("188424", "MDC_TEMP_ORAL", "oral temperature", 2),
                    MDC("188428", "MDC_TEMP_EAR", "ear temperature", 2),
                    MDC("188452", "MDC_TEMP_AXILLA", "axillary temperature", 2),
                },
        },
};

_Static_assert(sizeof table / sizeof table[0] == VIGIL_NEWS2_PARAM_COUNT,
               "one row per NEWS2 parameter");

const vigil_vital *vigil_vital_get(vigil_news2_param p)
{
    return (unsigned)p < VIGIL_NEWS2_PARAM_COUNT ? &table[p] : NULL;
}

const vigil_vital *vigil_vital_by_key(const char *key)
{
    for (size_t i = 0; key != NULL && i < VIGIL_NEWS2_PARAM_COUNT; i++) {
        if (strcmp(table[i].key, key) == 0) {
            return &table[i];
        }
    }
    return NULL;
}

const vigil_vital_code *vigil_vital_code_find(const char *system, const char *code,
                                              const vigil_vital **out_row)
{
    if (system == NULL || code == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < VIGIL_NEWS2_PARAM_COUNT; i++) {
        for (size_t k = 0; k < VIGIL_VITAL_CODES_MAX && table[i].codes[k].code != NULL; k++) {
            const vigil_vital_code *c = &table[i].codes[k];
            if (strcmp(c->system, system) == 0 && strcmp(c->code, code) == 0) {
                if (out_row != NULL) {
                    *out_row = &table[i];
                }
                return c;
            }
        }
    }
    return NULL;
}

const vigil_vital_code *vigil_vital_code_of_form(vigil_vital_form f)
{
    for (size_t i = 0; i < VIGIL_NEWS2_PARAM_COUNT; i++) {
        for (size_t k = 0; k < VIGIL_VITAL_CODES_MAX && table[i].codes[k].code != NULL; k++) {
            if (table[i].codes[k].form == f) {
                return &table[i].codes[k];
            }
        }
    }
    return NULL;
}

double vigil_vital_number(const vigil_obs *obs, const vigil_vital *v)
{
    if (obs == NULL || v == NULL || v->type != VIGIL_VITAL_NUMBER) {
        return NAN;
    }
    double x;
    memcpy(&x, (const char *)obs + v->offset, sizeof x);
    return x;
}

void vigil_vital_set_number(vigil_obs *obs, const vigil_vital *v, double value)
{
    if (obs != NULL && v != NULL && v->type == VIGIL_VITAL_NUMBER) {
        memcpy((char *)obs + v->offset, &value, sizeof value);
    }
}

bool vigil_vital_present(const vigil_obs *obs, vigil_news2_param p)
{
    const vigil_vital *v = vigil_vital_get(p);
    if (obs == NULL || v == NULL) {
        return false;
    }
    switch (v->type) {
    case VIGIL_VITAL_NUMBER:
        return !isnan(vigil_vital_number(obs, v));
    case VIGIL_VITAL_O2:
        return obs->o2 != VIGIL_O2_UNKNOWN;
    case VIGIL_VITAL_ACVPU:
        return obs->acvpu != VIGIL_ACVPU_UNKNOWN;
    case VIGIL_VITAL_TYPE_COUNT:
        break;
    }
    return false;
}

void vigil_vital_copy(vigil_obs *dst, const vigil_obs *src, vigil_news2_param p)
{
    const vigil_vital *v = vigil_vital_get(p);
    if (dst == NULL || src == NULL || v == NULL) {
        return;
    }
    switch (v->type) {
    case VIGIL_VITAL_NUMBER:
        vigil_vital_set_number(dst, v, vigil_vital_number(src, v));
        break;
    case VIGIL_VITAL_O2:
        dst->o2 = src->o2;
        break;
    case VIGIL_VITAL_ACVPU:
        dst->acvpu = src->acvpu;
        break;
    case VIGIL_VITAL_TYPE_COUNT:
        break;
    }
}

bool vigil_vital_equal(const vigil_obs *a, const vigil_obs *b, vigil_news2_param p)
{
    const vigil_vital *v = vigil_vital_get(p);
    if (a == NULL || b == NULL || v == NULL) {
        return false;
    }
    switch (v->type) {
    case VIGIL_VITAL_NUMBER:
        return vigil_vital_number(a, v) == vigil_vital_number(b, v);
    case VIGIL_VITAL_O2:
        return a->o2 == b->o2;
    case VIGIL_VITAL_ACVPU:
        return a->acvpu == b->acvpu;
    case VIGIL_VITAL_TYPE_COUNT:
        break;
    }
    return false;
}

void vigil_vital_clear(vigil_obs *obs, vigil_news2_param p)
{
    const vigil_vital *v = vigil_vital_get(p);
    if (obs == NULL || v == NULL) {
        return;
    }
    switch (v->type) {
    case VIGIL_VITAL_NUMBER:
        vigil_vital_set_number(obs, v, NAN);
        break;
    case VIGIL_VITAL_O2:
        obs->o2 = VIGIL_O2_UNKNOWN;
        break;
    case VIGIL_VITAL_ACVPU:
        obs->acvpu = VIGIL_ACVPU_UNKNOWN;
        break;
    case VIGIL_VITAL_TYPE_COUNT:
        break;
    }
}
