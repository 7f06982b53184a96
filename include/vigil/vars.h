/*
 * vigil/vars.h: the closed set of clinical variables vigil reads (vital
 * signs, laboratory values, bedside charting, the live ward's ACVPU and
 * air/oxygen), with names, units and plausibility bounds, and the
 * measurement record (time, variable, value) every loader and the live ward
 * produce. Pure table: no I/O, no allocation. Thread safety: reentrant.
 *
 * Plausibility (REQ VARS-PLAUSIBLE): each variable has inclusive bounds in
 * its canonical unit. A value outside them is physically impossible or a
 * clear typing, device or unit error (FiO2 4000, temperature 50 C,
 * respiration 100/min); it is refused with a reason (too low / too high /
 * not an integer), counted by the caller and never used. The bounds are wide
 * on purpose: no real reading from a deteriorating patient is refused. The
 * NEWS2 vitals use exactly the bounds of vigil/news2.h so a value accepted
 * here is always accepted by vigil_news2_score(). Each bound's reason is in
 * vigil_var_info.bounds_why and docs/data.md.
 *
 * One conversion (REQ VARS-FIO2-PERCENT): FiO2 written as a percentage
 * (21 to 100 inclusive) is converted to a fraction by dividing by 100. That
 * range cannot be a fraction, and a percentage can never be below 21 (room
 * air), so the rule is unambiguous. Values in (1, 21) are neither and are
 * refused as too high; nothing else is converted.
 */
#ifndef VIGIL_VARS_H
#define VIGIL_VARS_H

#include <stdbool.h>

#include "vigil/status.h"

typedef enum vigil_var {
    /* vital signs (PhysioNet 2019 columns 1-8) */
    VIGIL_VAR_HR = 0, /* heart rate, beats/min */
    VIGIL_VAR_SPO2,   /* pulse oximetry, % */
    VIGIL_VAR_TEMP,   /* temperature, deg C */
    VIGIL_VAR_SBP,    /* systolic blood pressure, mmHg */
    VIGIL_VAR_MAP,    /* mean arterial pressure, mmHg */
    VIGIL_VAR_DBP,    /* diastolic blood pressure, mmHg */
    VIGIL_VAR_RESP,   /* respiration rate, breaths/min */
    VIGIL_VAR_ETCO2,  /* end-tidal CO2, mmHg */
    /* laboratory values (PhysioNet 2019 columns 9-34) */
    VIGIL_VAR_BASE_EXCESS,
    VIGIL_VAR_HCO3,
    VIGIL_VAR_FIO2, /* fraction of inspired oxygen, 0.2-1 */
    VIGIL_VAR_PH,
    VIGIL_VAR_PACO2,
    VIGIL_VAR_SAO2,
    VIGIL_VAR_AST,
    VIGIL_VAR_BUN,
    VIGIL_VAR_ALP,
    VIGIL_VAR_CALCIUM,
    VIGIL_VAR_CHLORIDE,
    VIGIL_VAR_CREATININE,
    VIGIL_VAR_BILI_DIRECT,
    VIGIL_VAR_GLUCOSE,
    VIGIL_VAR_LACTATE,
    VIGIL_VAR_MAGNESIUM,
    VIGIL_VAR_PHOSPHATE,
    VIGIL_VAR_POTASSIUM,
    VIGIL_VAR_BILI_TOTAL,
    VIGIL_VAR_TROPONIN_I,
    VIGIL_VAR_HCT,
    VIGIL_VAR_HGB,
    VIGIL_VAR_PTT,
    VIGIL_VAR_WBC,
    VIGIL_VAR_FIBRINOGEN,
    VIGIL_VAR_PLATELETS,
    /* PhysioNet 2012 extras */
    VIGIL_VAR_GCS,      /* Glasgow coma scale, 3-15 */
    VIGIL_VAR_MECHVENT, /* mechanical ventilation charted (1) */
    VIGIL_VAR_URINE,    /* urine output since the last charting, mL */
    VIGIL_VAR_PAO2,
    VIGIL_VAR_ALBUMIN,
    VIGIL_VAR_ALT,
    VIGIL_VAR_SODIUM,
    VIGIL_VAR_CHOLESTEROL,
    VIGIL_VAR_TROPONIN_T,
    VIGIL_VAR_WEIGHT, /* kg */
    /* the live ward */
    VIGIL_VAR_ACVPU,     /* vigil_acvpu code: 1 A, 2 C, 3 V, 4 P, 5 U */
    VIGIL_VAR_ON_OXYGEN, /* 0 air, 1 supplemental oxygen */
    /* per-stay descriptors (bounds only; never a time series) */
    VIGIL_VAR_AGE,    /* years */
    VIGIL_VAR_HEIGHT, /* cm */
    VIGIL_VAR_COUNT
} vigil_var;

typedef enum vigil_var_kind {
    VIGIL_VAR_KIND_VITAL = 0,  /* bedside vital sign */
    VIGIL_VAR_KIND_LAB,        /* laboratory or blood-gas value */
    VIGIL_VAR_KIND_CHART,      /* other bedside charting: GCS, ventilation, urine, weight */
    VIGIL_VAR_KIND_WARD,       /* ward-only categorical: ACVPU, air/oxygen */
    VIGIL_VAR_KIND_DESCRIPTOR, /* per-stay descriptor: age, height */
    VIGIL_VAR_KIND_COUNT
} vigil_var_kind;

typedef struct vigil_var_info {
    const char *name;  /* stable machine name: "hr", "spo2", "fio2", ... */
    const char *label; /* words: "heart rate" */
    const char *unit;  /* canonical unit: "beats/min", "%", "fraction" */
    vigil_var_kind kind;
    double min; /* inclusive plausibility bounds, canonical unit */
    double max;
    bool integer;           /* only whole numbers are valid (GCS, ACVPU, flags) */
    const char *bounds_why; /* one line: why these bounds */
} vigil_var_info;

/* Why a value was refused or changed by vigil_var_check(). */
typedef enum vigil_var_verdict {
    VIGIL_VAR_OK = 0,      /* accepted as given */
    VIGIL_VAR_CONVERTED,   /* accepted after a documented conversion (FiO2 %) */
    VIGIL_VAR_TOO_LOW,     /* refused: below min */
    VIGIL_VAR_TOO_HIGH,    /* refused: above max */
    VIGIL_VAR_NOT_INTEGER, /* refused: fractional value of an integer variable */
    VIGIL_VAR_NOT_FINITE,  /* refused: NaN or infinity */
    VIGIL_VAR_VERDICT_COUNT
} vigil_var_verdict;

/* One measurement: hours since the stay's time origin (ICU or ward
 * admission), the variable, and its value in the variable's canonical unit. */
typedef struct vigil_meas {
    double t_h;
    double value;
    vigil_var var;
} vigil_meas;

/* The variable's table row; NULL when v is out of range. Static storage. */
const vigil_var_info *vigil_var_get(vigil_var v);

/* Machine name ("hr"); "?" when v is out of range. Static storage. */
const char *vigil_var_name(vigil_var v);

/* Look a variable up by machine name (exact, case-sensitive).
 * VIGIL_ERR_NOT_FOUND when no variable has that name. */
vigil_status vigil_var_from_name(const char *name, vigil_var *out);

/* Machine name of a kind ("vital", "lab", "chart", "ward", "descriptor"). */
const char *vigil_var_kind_name(vigil_var_kind k);

/* Machine name of a verdict ("ok", "converted", "too_low", "too_high",
 * "not_integer", "not_finite"). */
const char *vigil_var_verdict_name(vigil_var_verdict r);

/*
 * Check value against v's plausibility bounds (REQ VARS-PLAUSIBLE), after the
 * FiO2 percentage conversion (REQ VARS-FIO2-PERCENT). On VIGIL_OK *out_value
 * holds the value to use (converted or as given); on VIGIL_ERR_IMPLAUSIBLE
 * *out_value is unchanged and err names the variable, the value and the
 * bound. out_verdict (may be NULL) always receives the verdict. VIGIL_ERR_ARG
 * when v is out of range. out_value may be NULL.
 */
vigil_status vigil_var_check(vigil_var v, double value, double *out_value,
                             vigil_var_verdict *out_verdict, vigil_err *err);

#endif
