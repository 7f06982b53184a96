/*
 * vars.c: the clinical variable table (names, units, plausibility bounds)
 * and the plausibility check every loader and the live ward apply.
 *
 * Does not: read or write anything, allocate, or guess a value. Invariants:
 * the table has exactly VIGIL_VAR_COUNT rows in enum order (checked at
 * compile time and by tests/core/test_vars.c); the NEWS2 vitals share the
 * bounds of vigil/news2.h (REQ NEWS2-PLAUSIBLE) so a value accepted here is
 * accepted by vigil_news2_score(). Spec: docs/data.md ("Plausibility bounds").
 */
#include "vigil/vars.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "vigil/news2.h"

/* REQ VARS-PLAUSIBLE: one row per variable, in enum order. */
static const vigil_var_info var_table[] = {
    [VIGIL_VAR_HR] = {"hr", "heart rate", "beats/min", VIGIL_VAR_KIND_VITAL, VIGIL_HR_MIN,
                      VIGIL_HR_MAX, false, "NEWS2 bounds (vigil/news2.h)"},
    [VIGIL_VAR_SPO2] = {"spo2", "oxygen saturation (pulse oximetry)", "%", VIGIL_VAR_KIND_VITAL,
                        VIGIL_SPO2_MIN, VIGIL_SPO2_MAX, false, "NEWS2 bounds (vigil/news2.h)"},
    [VIGIL_VAR_TEMP] = {"temp", "temperature", "deg C", VIGIL_VAR_KIND_VITAL, VIGIL_TEMP_MIN,
                        VIGIL_TEMP_MAX, false,
                        "NEWS2 bounds (vigil/news2.h); 50 C and 2012's -17.8 are errors"},
    [VIGIL_VAR_SBP] = {"sbp", "systolic blood pressure", "mmHg", VIGIL_VAR_KIND_VITAL,
                       VIGIL_SBP_MIN, VIGIL_SBP_MAX, false,
                       "NEWS2 bounds (vigil/news2.h); 0 is a flushed arterial line"},
    [VIGIL_VAR_MAP] = {"map", "mean arterial pressure", "mmHg", VIGIL_VAR_KIND_VITAL, 20.0, 300.0,
                       false, "below 20 is a flushed or damped line; cannot exceed systolic max"},
    [VIGIL_VAR_DBP] = {"dbp", "diastolic blood pressure", "mmHg", VIGIL_VAR_KIND_VITAL, 10.0, 300.0,
                       false, "below 10 is a flushed or damped line; cannot exceed systolic max"},
    [VIGIL_VAR_RESP] = {"resp", "respiration rate", "breaths/min", VIGIL_VAR_KIND_VITAL,
                        VIGIL_RR_MIN, VIGIL_RR_MAX, false,
                        "NEWS2 bounds (vigil/news2.h); 100/min is an error"},
    [VIGIL_VAR_ETCO2] = {"etco2", "end-tidal CO2", "mmHg", VIGIL_VAR_KIND_VITAL, 0.0, 150.0, false,
                         "0 on apnoea or disconnection; above 150 is beyond any record"},
    [VIGIL_VAR_BASE_EXCESS] = {"base_excess", "base excess", "mmol/L", VIGIL_VAR_KIND_LAB, -50.0,
                               50.0, false, "beyond +-50 is incompatible with life; 2019 has 100"},
    [VIGIL_VAR_HCO3] = {"hco3", "bicarbonate", "mmol/L", VIGIL_VAR_KIND_LAB, 1.0, 70.0, false,
                        "0 cannot occur in living blood"},
    [VIGIL_VAR_FIO2] = {"fio2", "fraction of inspired oxygen", "fraction", VIGIL_VAR_KIND_LAB, 0.20,
                        1.0, false,
                        "room air is 0.21 (0.20 allowed for rounding); above 1 impossible; "
                        "21-100 is read as a percentage"},
    [VIGIL_VAR_PH] = {"ph", "pH", "pH", VIGIL_VAR_KIND_LAB, 6.5, 8.0, false,
                      "survival limits about 6.6-7.9; 2012's 735 lost its decimal point"},
    [VIGIL_VAR_PACO2] = {"paco2", "arterial CO2 partial pressure", "mmHg", VIGIL_VAR_KIND_LAB, 5.0,
                         250.0, false, "0 impossible; 250 above any reported value"},
    [VIGIL_VAR_SAO2] = {"sao2", "arterial oxygen saturation", "%", VIGIL_VAR_KIND_LAB, 10.0, 100.0,
                        false, "a percentage; below 10 is a fraction or typing error"},
    [VIGIL_VAR_AST] = {"ast", "aspartate aminotransferase", "IU/L", VIGIL_VAR_KIND_LAB, 1.0,
                       50000.0, false, "acute liver failure reaches tens of thousands"},
    [VIGIL_VAR_BUN] = {"bun", "blood urea nitrogen", "mg/dL", VIGIL_VAR_KIND_LAB, 0.0, 300.0, false,
                       "0 is below detection; above 300 beyond any record"},
    [VIGIL_VAR_ALP] = {"alp", "alkaline phosphatase", "IU/L", VIGIL_VAR_KIND_LAB, 1.0, 10000.0,
                       false, "wide: cholestasis and bone disease reach thousands"},
    [VIGIL_VAR_CALCIUM] = {"calcium", "calcium (total mg/dL or ionised mmol/L, mixed)", "mg/dL",
                           VIGIL_VAR_KIND_LAB, 0.5, 30.0, false,
                           "2019 mixes ionised (about 1.1 mmol/L) and total (about 8.5 mg/dL)"},
    [VIGIL_VAR_CHLORIDE] = {"chloride", "chloride", "mmol/L", VIGIL_VAR_KIND_LAB, 50.0, 170.0,
                            false, "below 50 or above 170 is incompatible with life"},
    [VIGIL_VAR_CREATININE] = {"creatinine", "creatinine", "mg/dL", VIGIL_VAR_KIND_LAB, 0.05, 60.0,
                              false, "wide: end-stage renal failure"},
    [VIGIL_VAR_BILI_DIRECT] = {"bili_direct", "direct bilirubin", "mg/dL", VIGIL_VAR_KIND_LAB, 0.0,
                               80.0, false, "wide: obstructive jaundice"},
    [VIGIL_VAR_GLUCOSE] = {"glucose", "glucose", "mg/dL", VIGIL_VAR_KIND_LAB, 5.0, 3000.0, false,
                           "hyperosmolar states exceed 2000 mg/dL"},
    [VIGIL_VAR_LACTATE] = {"lactate", "lactate", "mmol/L", VIGIL_VAR_KIND_LAB, 0.1, 40.0, false,
                           "values are mmol/L in both sets (2019's README says mg/dL)"},
    [VIGIL_VAR_MAGNESIUM] = {"magnesium", "magnesium", "mg/dL", VIGIL_VAR_KIND_LAB, 0.2, 20.0,
                             false, "0 and 2012's 21 are errors"},
    [VIGIL_VAR_PHOSPHATE] = {"phosphate", "phosphate", "mg/dL", VIGIL_VAR_KIND_LAB, 0.1, 30.0,
                             false, "wide: tumour lysis"},
    [VIGIL_VAR_POTASSIUM] = {"potassium", "potassium", "mmol/L", VIGIL_VAR_KIND_LAB, 1.0, 15.0,
                             false, "above 15 (2019 27.5, 2012 22.9) is a haemolysed sample"},
    [VIGIL_VAR_BILI_TOTAL] = {"bili_total", "total bilirubin", "mg/dL", VIGIL_VAR_KIND_LAB, 0.0,
                              80.0, false, "wide: liver failure"},
    [VIGIL_VAR_TROPONIN_I] = {"troponin_i", "troponin I", "ng/mL", VIGIL_VAR_KIND_LAB, 0.0, 1000.0,
                              false, "wide: large infarcts"},
    [VIGIL_VAR_HCT] = {"hct", "haematocrit", "%", VIGIL_VAR_KIND_LAB, 5.0, 80.0, false,
                       "a percentage of blood volume"},
    [VIGIL_VAR_HGB] = {"hgb", "haemoglobin", "g/dL", VIGIL_VAR_KIND_LAB, 1.0, 25.0, false,
                       "above 25 g/dL does not occur (2019 has 32)"},
    [VIGIL_VAR_PTT] = {"ptt", "partial thromboplastin time", "s", VIGIL_VAR_KIND_LAB, 5.0, 300.0,
                       false, "2019 caps at 250 s"},
    [VIGIL_VAR_WBC] = {"wbc", "white cell count", "10^3/uL", VIGIL_VAR_KIND_LAB, 0.0, 1000.0, false,
                       "leukaemia reaches hundreds; 2012's 12500 is an error"},
    [VIGIL_VAR_FIBRINOGEN] = {"fibrinogen", "fibrinogen", "mg/dL", VIGIL_VAR_KIND_LAB, 10.0, 2500.0,
                              false, "wide"},
    [VIGIL_VAR_PLATELETS] = {"platelets", "platelets", "10^3/uL", VIGIL_VAR_KIND_LAB, 1.0, 3000.0,
                             false, "wide: thrombocytosis"},
    [VIGIL_VAR_GCS] = {"gcs", "Glasgow coma scale", "points", VIGIL_VAR_KIND_CHART, 3.0, 15.0, true,
                       "the scale runs 3 to 15"},
    [VIGIL_VAR_MECHVENT] = {"mechvent", "mechanical ventilation", "flag", VIGIL_VAR_KIND_CHART, 0.0,
                            1.0, true, "a flag"},
    [VIGIL_VAR_URINE] = {"urine", "urine output since last charting", "mL", VIGIL_VAR_KIND_CHART,
                         0.0, 10000.0, false,
                         "10 L in one charting interval does not occur (2012 has 19990)"},
    [VIGIL_VAR_PAO2] = {"pao2", "arterial O2 partial pressure", "mmHg", VIGIL_VAR_KIND_LAB, 10.0,
                        800.0, false, "0 impossible; at most about 670 on FiO2 1 at sea level"},
    [VIGIL_VAR_ALBUMIN] = {"albumin", "albumin", "g/dL", VIGIL_VAR_KIND_LAB, 0.5, 7.0, false,
                           "physiological range is about 1-6"},
    [VIGIL_VAR_ALT] = {"alt", "alanine aminotransferase", "IU/L", VIGIL_VAR_KIND_LAB, 1.0, 50000.0,
                       false, "acute liver failure reaches tens of thousands"},
    [VIGIL_VAR_SODIUM] = {"sodium", "sodium", "mmol/L", VIGIL_VAR_KIND_LAB, 90.0, 200.0, false,
                          "outside 90-200 is incompatible with life"},
    [VIGIL_VAR_CHOLESTEROL] = {"cholesterol", "cholesterol", "mg/dL", VIGIL_VAR_KIND_LAB, 10.0,
                               1500.0, false, "wide"},
    [VIGIL_VAR_TROPONIN_T] = {"troponin_t", "troponin T", "ng/mL", VIGIL_VAR_KIND_LAB, 0.0, 100.0,
                              false, "wide"},
    [VIGIL_VAR_WEIGHT] = {"weight", "body weight", "kg", VIGIL_VAR_KIND_CHART, 1.0, 500.0, false,
                          "-1 (2012 unknown) is not a weight"},
    [VIGIL_VAR_ACVPU] = {"acvpu", "consciousness (ACVPU)", "code", VIGIL_VAR_KIND_WARD,
                         (double)VIGIL_ACVPU_A, (double)VIGIL_ACVPU_U, true,
                         "vigil_acvpu codes A=1 to U=5"},
    [VIGIL_VAR_ON_OXYGEN] = {"on_oxygen", "supplemental oxygen", "flag", VIGIL_VAR_KIND_WARD, 0.0,
                             1.0, true, "0 air, 1 oxygen"},
    [VIGIL_VAR_AGE] = {"age", "age", "years", VIGIL_VAR_KIND_DESCRIPTOR, VIGIL_AGE_MIN,
                       VIGIL_AGE_MAX, false, "NEWS2 bounds (vigil/news2.h)"},
    [VIGIL_VAR_HEIGHT] = {"height", "height", "cm", VIGIL_VAR_KIND_DESCRIPTOR, 30.0, 250.0, false,
                          "2012 has 437 and -1 (unknown)"},
};

_Static_assert(sizeof var_table / sizeof var_table[0] == VIGIL_VAR_COUNT,
               "var_table must have one row per vigil_var");

/* REQ VARS-FIO2-PERCENT: a percentage can only be 21-100. */
#define FIO2_PCT_MIN 21.0
#define FIO2_PCT_MAX 100.0

const vigil_var_info *vigil_var_get(vigil_var v)
{
    if ((unsigned)v >= VIGIL_VAR_COUNT) {
        return NULL;
    }
    return &var_table[v];
}

const char *vigil_var_name(vigil_var v)
{
    const vigil_var_info *vi = vigil_var_get(v);
    return vi != NULL ? vi->name : "?";
}

vigil_status vigil_var_from_name(const char *name, vigil_var *out)
{
    if (name == NULL) {
        return VIGIL_ERR_ARG;
    }
    for (unsigned i = 0; i < VIGIL_VAR_COUNT; i++) {
        if (strcmp(var_table[i].name, name) == 0) {
            *out = (vigil_var)i;
            return VIGIL_OK;
        }
    }
    return VIGIL_ERR_NOT_FOUND;
}

static const char *const kind_names[VIGIL_VAR_KIND_COUNT] = {
    [VIGIL_VAR_KIND_VITAL] = "vital",           [VIGIL_VAR_KIND_LAB] = "lab",
    [VIGIL_VAR_KIND_CHART] = "chart",           [VIGIL_VAR_KIND_WARD] = "ward",
    [VIGIL_VAR_KIND_DESCRIPTOR] = "descriptor",
};

const char *vigil_var_kind_name(vigil_var_kind k)
{
    return (unsigned)k < VIGIL_VAR_KIND_COUNT ? kind_names[k] : "?";
}

static const char *const verdict_names[VIGIL_VAR_VERDICT_COUNT] = {
    [VIGIL_VAR_OK] = "ok",
    [VIGIL_VAR_CONVERTED] = "converted",
    [VIGIL_VAR_TOO_LOW] = "too_low",
    [VIGIL_VAR_TOO_HIGH] = "too_high",
    [VIGIL_VAR_NOT_INTEGER] = "not_integer",
    [VIGIL_VAR_NOT_FINITE] = "not_finite",
};

const char *vigil_var_verdict_name(vigil_var_verdict r)
{
    return (unsigned)r < VIGIL_VAR_VERDICT_COUNT ? verdict_names[r] : "?";
}

vigil_status vigil_var_check(vigil_var v, double value, double *out_value,
                             vigil_var_verdict *out_verdict, vigil_err *err)
{
    const vigil_var_info *vi = vigil_var_get(v);
    vigil_var_verdict verdict = VIGIL_VAR_OK;
    if (vi == NULL) {
        if (out_verdict != NULL) {
            *out_verdict = VIGIL_VAR_NOT_FINITE;
        }
        return vigil_err_set(err, VIGIL_ERR_ARG, "var", "unknown variable %d", (int)v);
    }
    double x = value;
    if (!isfinite(x)) {
        verdict = VIGIL_VAR_NOT_FINITE;
    } else {
        if (v == VIGIL_VAR_FIO2 && x >= FIO2_PCT_MIN && x <= FIO2_PCT_MAX) {
            /* REQ VARS-FIO2-PERCENT */
            x = x / 100.0;
            verdict = VIGIL_VAR_CONVERTED;
        }
        if (x < vi->min) {
            verdict = VIGIL_VAR_TOO_LOW;
        } else if (x > vi->max) {
            verdict = VIGIL_VAR_TOO_HIGH;
        } else if (vi->integer && x != floor(x)) {
            verdict = VIGIL_VAR_NOT_INTEGER;
        }
    }
    if (out_verdict != NULL) {
        *out_verdict = verdict;
    }
    if (verdict == VIGIL_VAR_OK || verdict == VIGIL_VAR_CONVERTED) {
        if (out_value != NULL) {
            *out_value = x;
        }
        return VIGIL_OK;
    }
    /* REQ VARS-PLAUSIBLE */
    return vigil_err_set(err, VIGIL_ERR_IMPLAUSIBLE, vi->name,
                         "%s %g is implausible (%s; plausible %g to %g %s)", vi->name, value,
                         verdict_names[verdict], vi->min, vi->max, vi->unit);
}
