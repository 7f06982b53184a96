/*
 * vigil/news2.h: the National Early Warning Score 2 (Royal College of
 * Physicians, December 2017), exactly as RCP Chart 1 (scoring), Chart 2
 * (thresholds and triggers) and Chart 4 (clinical response) define it.
 * See ../shared/spec/news2.md and docs/core.md.
 *
 * This is the scoring core: pure and deterministic, no I/O, no allocation.
 * Callers own every struct. All functions are reentrant and thread-safe.
 *
 * Clinical invariants:
 *  - A missing parameter is never a silent zero: the result says
 *    complete == false, lists the missing parameters, and its total is a
 *    lower bound (every missing parameter can only add points).
 *  - A value outside physiological possibility is refused with an error
 *    naming the field and the value (bounds below, REQ NEWS2-PLAUSIBLE).
 *  - Scale 2 is used only when the caller sets spo2_scale = 2, an explicit
 *    clinical decision; nothing here infers it.
 */
#ifndef VIGIL_NEWS2_H
#define VIGIL_NEWS2_H

#include <stdbool.h>

#include "vigil/status.h"

/* The seven NEWS2 parameters, in chart order. */
typedef enum vigil_news2_param {
    VIGIL_NEWS2_RR = 0, /* respiration rate */
    VIGIL_NEWS2_SPO2,   /* oxygen saturation */
    VIGIL_NEWS2_O2,     /* air or supplemental oxygen */
    VIGIL_NEWS2_SBP,    /* systolic blood pressure */
    VIGIL_NEWS2_HR,     /* pulse */
    VIGIL_NEWS2_ACVPU,  /* consciousness */
    VIGIL_NEWS2_TEMP,   /* temperature */
    VIGIL_NEWS2_PARAM_COUNT
} vigil_news2_param;

typedef enum vigil_acvpu {
    VIGIL_ACVPU_UNKNOWN = 0, /* not assessed */
    VIGIL_ACVPU_A,           /* alert */
    VIGIL_ACVPU_C,           /* new confusion */
    VIGIL_ACVPU_V,           /* responds to voice */
    VIGIL_ACVPU_P,           /* responds to pain */
    VIGIL_ACVPU_U,           /* unresponsive */
    VIGIL_ACVPU_COUNT
} vigil_acvpu;

typedef enum vigil_o2 {
    VIGIL_O2_UNKNOWN = 0,
    VIGIL_O2_AIR,
    VIGIL_O2_OXYGEN, /* any supplemental oxygen */
    VIGIL_O2_COUNT
} vigil_o2;

typedef enum vigil_tristate { VIGIL_UNKNOWN = 0, VIGIL_NO, VIGIL_YES } vigil_tristate;

/*
 * One observation set as measured. Numeric vitals use NaN for "not
 * measured" (use VIGIL_NOT_MEASURED or vigil_obs_init()). Enums use their
 * _UNKNOWN value. spo2_scale is 1 (default) or 2.
 */
typedef struct vigil_obs {
    double rr_bpm;   /* breaths per minute */
    double spo2_pct; /* % */
    int spo2_scale;  /* 1 or 2 */
    vigil_o2 o2;
    double sbp_mmhg;
    double hr_bpm; /* beats per minute */
    vigil_acvpu acvpu;
    double temp_c; /* degrees Celsius */
    double age_y;  /* years; NaN when unknown */
    vigil_tristate pregnant;
} vigil_obs;

/* Fill obs with "nothing measured", Scale 1. */
void vigil_obs_init(vigil_obs *obs);

typedef enum vigil_news2_risk {
    VIGIL_RISK_LOW = 0,
    VIGIL_RISK_LOW_MEDIUM, /* a 3 in a single parameter, total < 5 (RCP Chart 2) */
    VIGIL_RISK_MEDIUM,     /* total 5-6 */
    VIGIL_RISK_HIGH,       /* total 7 or more */
    VIGIL_RISK_COUNT
} vigil_news2_risk;

/* Minimum monitoring frequency (RCP Chart 4). */
typedef enum vigil_news2_monitoring {
    VIGIL_MON_12_HOURLY = 0, /* total 0 */
    VIGIL_MON_4_6_HOURLY,    /* total 1-4 */
    VIGIL_MON_HOURLY,        /* single 3, or total 5-6 */
    VIGIL_MON_CONTINUOUS,    /* total 7+ */
    VIGIL_MON_COUNT
} vigil_news2_monitoring;

/* Clinical response (RCP Chart 4). */
typedef enum vigil_news2_response {
    VIGIL_RESP_ROUTINE = 0,  /* total 0: continue routine monitoring */
    VIGIL_RESP_NURSE_ASSESS, /* total 1-4 */
    VIGIL_RESP_URGENT_WARD,  /* single 3: inform medical team, urgent ward review */
    VIGIL_RESP_URGENT,       /* 5-6: urgent review, acute-illness clinician */
    VIGIL_RESP_EMERGENCY,    /* 7+: emergency assessment, critical-care team */
    VIGIL_RESP_COUNT
} vigil_news2_response;

/* Flags on a result (bit mask). */
enum {
    VIGIL_NEWS2_FLAG_SPO2_NEAR_THRESHOLD = 1u << 0,    /* SpO2 within 2 points of a band edge */
    VIGIL_NEWS2_FLAG_UNDER_16 = 1u << 1,               /* NEWS2 is not validated under 16 */
    VIGIL_NEWS2_FLAG_PREGNANT = 1u << 2,               /* NEWS2 is not validated in pregnancy */
    VIGIL_NEWS2_FLAG_SCALE_2 = 1u << 3,                /* scored on SpO2 Scale 2 */
    VIGIL_NEWS2_FLAG_SPO2_SCALE2_O2_UNKNOWN = 1u << 4, /* Scale 2 SpO2 >= 93 with air/oxygen
                                                       unknown: SpO2 sub-score is the air value,
                                                       a lower bound */
    VIGIL_NEWS2_FLAG_COUNT_ = 5
};

#define VIGIL_NEWS2_SUB_MISSING (-1)

typedef struct vigil_news2 {
    int sub[VIGIL_NEWS2_PARAM_COUNT]; /* 0-3, or VIGIL_NEWS2_SUB_MISSING */
    int total;                        /* sum of present sub-scores; a lower bound if !complete */
    bool complete;                    /* every parameter present */
    unsigned missing;                 /* bit (1u << param) for each missing parameter */
    bool single_param_3;              /* some parameter scored 3 */
    vigil_news2_risk risk; /* from total and single_param_3; a lower bound if !complete */
    vigil_news2_monitoring monitoring;
    vigil_news2_response response;
    unsigned flags; /* VIGIL_NEWS2_FLAG_* */
    int spo2_scale; /* the scale used: 1 or 2 */
} vigil_news2;

/*
 * Plausibility bounds (REQ NEWS2-PLAUSIBLE), inclusive, applied to the value
 * as given (before rounding). Outside them a value is a typing or device
 * error, not a patient: it is refused, never scored. Chosen wide so that no
 * real reading from a deteriorating patient is refused; see docs/core.md.
 */
#define VIGIL_RR_MIN 0.0
#define VIGIL_RR_MAX 80.0
#define VIGIL_SPO2_MIN 20.0
#define VIGIL_SPO2_MAX 100.0
#define VIGIL_SBP_MIN 30.0
#define VIGIL_SBP_MAX 300.0
#define VIGIL_HR_MIN 10.0
#define VIGIL_HR_MAX 300.0
#define VIGIL_TEMP_MIN 25.0
#define VIGIL_TEMP_MAX 45.0
#define VIGIL_AGE_MIN 0.0
#define VIGIL_AGE_MAX 130.0

/*
 * Check every present value of obs against the plausibility bounds and the
 * enum ranges. Returns VIGIL_OK, or VIGIL_ERR_IMPLAUSIBLE / VIGIL_ERR_ARG
 * with err naming the first offending field (news2 parameter name: "rr",
 * "spo2", "scale", "o2", "sbp", "hr", "acvpu", "temp_c", "age") and value.
 * NaN means "not measured" and is accepted; infinities are refused.
 */
vigil_status vigil_news2_validate(const vigil_obs *obs, vigil_err *err);

/*
 * Score one observation set. Validates first (as above); on error *out is
 * unchanged. On success *out holds sub-scores, total, risk, monitoring,
 * response and flags. Rounding (REQ NEWS2-ROUNDING): RR, SpO2, SBP and pulse
 * are rounded half-up to an integer, temperature half-up to one decimal,
 * before banding.
 */
vigil_status vigil_news2_score(const vigil_obs *obs, vigil_news2 *out, vigil_err *err);

/* Sub-score of one parameter for a present, plausible value (for tests and
 * explanations). Scale 2 SpO2 needs o2; pass VIGIL_O2_UNKNOWN for Scale 1. */
int vigil_news2_rr_points(double rr_bpm);
int vigil_news2_spo2_points(double spo2_pct, int scale, vigil_o2 o2);
int vigil_news2_o2_points(vigil_o2 o2);
int vigil_news2_sbp_points(double sbp_mmhg);
int vigil_news2_hr_points(double hr_bpm);
int vigil_news2_acvpu_points(vigil_acvpu acvpu);
int vigil_news2_temp_points(double temp_c);

/* Round half-up to an integer / to one decimal, per the documented convention. */
long vigil_news2_round_int(double v);
long vigil_news2_round_tenths(double v); /* returns tenths: 38.05 -> 381 */

/* Stable machine names: "rr", "spo2", "o2", "sbp", "hr", "acvpu", "temp". */
const char *vigil_news2_param_name(vigil_news2_param p);
/* "low", "low-medium", "medium", "high". */
const char *vigil_news2_risk_name(vigil_news2_risk r);
/* "12-hourly", "4-6-hourly", "hourly", "continuous". */
const char *vigil_news2_monitoring_name(vigil_news2_monitoring m);
/* Short machine name: "routine", "nurse-assess", "urgent-ward", "urgent", "emergency". */
const char *vigil_news2_response_name(vigil_news2_response r);
/* The RCP Chart 4 response in words. */
const char *vigil_news2_response_text(vigil_news2_response r);
/* Flag bit -> machine name ("spo2_near_threshold", ...); NULL for unknown bits. */
const char *vigil_news2_flag_name(unsigned flag_bit);
/* "A" "C" "V" "P" "U"; "" for unknown. */
const char *vigil_acvpu_name(vigil_acvpu a);

#endif
