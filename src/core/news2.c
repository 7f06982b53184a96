/*
 * news2.c: NEWS2 scoring (Royal College of Physicians, NEWS2, December 2017).
 *
 * Implements RCP Chart 1 (parameter bands), Chart 2 (thresholds and
 * triggers: low, low-medium, medium, high) and Chart 4 (minimum monitoring
 * and clinical response), plus vigil's documented rounding convention and
 * plausibility bounds (../shared/spec/news2.md, docs/core.md).
 *
 * Does not: read or write anything, allocate, infer Scale 2, or guess a
 * missing value. Invariant: a missing parameter contributes no points and is
 * reported; the total is then a lower bound.
 */
#include "vigil/news2.h"

#include <math.h>
#include <stddef.h>

#include "vigil/vitals.h"

/* Half-up rounding. The small epsilon absorbs binary representation error
 * (38.05 is stored as 38.04999...); it is far below any device resolution. */
#define ROUND_EPS 1e-9

long vigil_news2_round_int(double v)
{
    /* REQ NEWS2-ROUNDING */
    return (long)floor(v + 0.5 + ROUND_EPS);
}

long vigil_news2_round_tenths(double v)
{
    /* REQ NEWS2-ROUNDING: temperature to one decimal, half-up */
    return (long)floor(v * 10.0 + 0.5 + ROUND_EPS);
}

void vigil_obs_init(vigil_obs *obs)
{
    obs->rr_bpm = NAN;
    obs->spo2_pct = NAN;
    obs->spo2_scale = 1;
    obs->o2 = VIGIL_O2_UNKNOWN;
    obs->sbp_mmhg = NAN;
    obs->hr_bpm = NAN;
    obs->acvpu = VIGIL_ACVPU_UNKNOWN;
    obs->temp_c = NAN;
    obs->age_y = NAN;
    obs->pregnant = VIGIL_UNKNOWN;
}

static int rr_band(long rr)
{
    /* REQ NEWS2-RR: <=8:3, 9-11:1, 12-20:0, 21-24:2, >=25:3 */
    if (rr <= 8) {
        return 3;
    }
    if (rr <= 11) {
        return 1;
    }
    if (rr <= 20) {
        return 0;
    }
    if (rr <= 24) {
        return 2;
    }
    return 3;
}

int vigil_news2_rr_points(double rr_bpm)
{
    return rr_band(vigil_news2_round_int(rr_bpm));
}

static int spo2_band_scale1(long s)
{
    /* REQ NEWS2-SPO2-S1: <=91:3, 92-93:2, 94-95:1, >=96:0 */
    if (s <= 91) {
        return 3;
    }
    if (s <= 93) {
        return 2;
    }
    if (s <= 95) {
        return 1;
    }
    return 0;
}

static int spo2_band_scale2(long s, vigil_o2 o2)
{
    /* REQ NEWS2-SPO2-S2: <=83:3, 84-85:2, 86-87:1, 88-92:0 (air or oxygen) */
    if (s <= 83) {
        return 3;
    }
    if (s <= 85) {
        return 2;
    }
    if (s <= 87) {
        return 1;
    }
    if (s <= 92) {
        return 0;
    }
    /* REQ NEWS2-SPO2-S2-AIR: >=93 on air scores 0 */
    if (o2 != VIGIL_O2_OXYGEN) {
        return 0;
    }
    /* REQ NEWS2-SPO2-S2-OXYGEN: 93-94:1, 95-96:2, >=97:3 on oxygen */
    if (s <= 94) {
        return 1;
    }
    if (s <= 96) {
        return 2;
    }
    return 3;
}

static int spo2_band(long s, int scale, vigil_o2 o2)
{
    return scale == 2 ? spo2_band_scale2(s, o2) : spo2_band_scale1(s);
}

int vigil_news2_spo2_points(double spo2_pct, int scale, vigil_o2 o2)
{
    return spo2_band(vigil_news2_round_int(spo2_pct), scale, o2);
}

int vigil_news2_o2_points(vigil_o2 o2)
{
    /* REQ NEWS2-O2: supplemental oxygen 2, air 0 (on both scales) */
    return o2 == VIGIL_O2_OXYGEN ? 2 : 0;
}

int vigil_news2_sbp_points(double sbp_mmhg)
{
    /* REQ NEWS2-SBP: <=90:3, 91-100:2, 101-110:1, 111-219:0, >=220:3 */
    long s = vigil_news2_round_int(sbp_mmhg);
    if (s <= 90) {
        return 3;
    }
    if (s <= 100) {
        return 2;
    }
    if (s <= 110) {
        return 1;
    }
    if (s <= 219) {
        return 0;
    }
    return 3;
}

int vigil_news2_hr_points(double hr_bpm)
{
    /* REQ NEWS2-HR: <=40:3, 41-50:1, 51-90:0, 91-110:1, 111-130:2, >=131:3 */
    long h = vigil_news2_round_int(hr_bpm);
    if (h <= 40) {
        return 3;
    }
    if (h <= 50) {
        return 1;
    }
    if (h <= 90) {
        return 0;
    }
    if (h <= 110) {
        return 1;
    }
    if (h <= 130) {
        return 2;
    }
    return 3;
}

int vigil_news2_acvpu_points(vigil_acvpu acvpu)
{
    /* REQ NEWS2-ACVPU: A 0; new confusion, V, P or U 3 */
    return acvpu == VIGIL_ACVPU_A ? 0 : 3;
}

int vigil_news2_temp_points(double temp_c)
{
    /* REQ NEWS2-TEMP: <=35.0:3, 35.1-36.0:1, 36.1-38.0:0, 38.1-39.0:1, >=39.1:2 */
    long t = vigil_news2_round_tenths(temp_c);
    if (t <= 350) {
        return 3;
    }
    if (t <= 360) {
        return 1;
    }
    if (t <= 380) {
        return 0;
    }
    if (t <= 390) {
        return 1;
    }
    return 2;
}

static vigil_status check_range(double v, double lo, double hi, const char *field, vigil_err *err)
{
    if (isnan(v)) {
        return VIGIL_OK;
    }
    if (!(v >= lo && v <= hi)) {
        return vigil_err_set(err, VIGIL_ERR_IMPLAUSIBLE, field,
                             "%s %g is outside the plausible range %g to %g", field, v, lo, hi);
    }
    return VIGIL_OK;
}

vigil_status vigil_news2_validate(const vigil_obs *obs, vigil_err *err)
{
    if (obs == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "no observation set given");
    }
    /* REQ NEWS2-PLAUSIBLE: each numeric vital sign's bounds from the table
     * (vigil/vitals.h), in chart order, then the age */
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        if (v->type != VIGIL_VITAL_NUMBER) {
            continue;
        }
        vigil_status st = check_range(vigil_vital_number(obs, v), v->min, v->max, v->key, err);
        if (st != VIGIL_OK) {
            return st;
        }
    }
    vigil_status st = check_range(obs->age_y, VIGIL_AGE_MIN, VIGIL_AGE_MAX, "age", err);
    if (st != VIGIL_OK) {
        return st;
    }
    /* REQ NEWS2-SCALE2-EXPLICIT: only 1 or 2; nothing else is guessed */
    if (obs->spo2_scale != 1 && obs->spo2_scale != 2) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "scale", "scale %d is not 1 or 2",
                             obs->spo2_scale);
    }
    if ((unsigned)obs->o2 >= VIGIL_O2_COUNT) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "o2", "o2 value %d is not air or oxygen",
                             (int)obs->o2);
    }
    if ((unsigned)obs->acvpu >= VIGIL_ACVPU_COUNT) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "acvpu", "acvpu value %d is not A, C, V, P or U",
                             (int)obs->acvpu);
    }
    if ((unsigned)obs->pregnant > VIGIL_YES) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "pregnant", "pregnant value %d is not yes or no",
                             (int)obs->pregnant);
    }
    return VIGIL_OK;
}

/* A reading is near a threshold when a 2-point error either way would change
 * its score: a true 91% read as 94% would lose the red trigger. */
static bool spo2_near_threshold(long s, int scale, vigil_o2 o2)
{
    /* REQ NEWS2-SPO2-NEAR */
    int here = spo2_band(s, scale, o2);
    for (long d = -2; d <= 2; d++) {
        if (d != 0 && spo2_band(s + d, scale, o2) != here) {
            return true;
        }
    }
    return false;
}

static void classify(vigil_news2 *r)
{
    /* REQ NEWS2-RISK: 7+ high; 5-6 medium; single 3 low-medium; else low.
     * REQ NEWS2-PRECEDENCE: the aggregate bands win over a single 3. */
    if (r->total >= 7) {
        r->risk = VIGIL_RISK_HIGH;
        r->monitoring = VIGIL_MON_CONTINUOUS;
        r->response = VIGIL_RESP_EMERGENCY;
    } else if (r->total >= 5) {
        r->risk = VIGIL_RISK_MEDIUM;
        r->monitoring = VIGIL_MON_HOURLY;
        r->response = VIGIL_RESP_URGENT;
    } else if (r->single_param_3) {
        r->risk = VIGIL_RISK_LOW_MEDIUM;
        r->monitoring = VIGIL_MON_HOURLY;
        r->response = VIGIL_RESP_URGENT_WARD;
    } else if (r->total >= 1) {
        r->risk = VIGIL_RISK_LOW;
        r->monitoring = VIGIL_MON_4_6_HOURLY;
        r->response = VIGIL_RESP_NURSE_ASSESS;
    } else {
        r->risk = VIGIL_RISK_LOW;
        r->monitoring = VIGIL_MON_12_HOURLY;
        r->response = VIGIL_RESP_ROUTINE;
    }
}

vigil_status vigil_news2_score(const vigil_obs *obs, vigil_news2 *out, vigil_err *err)
{
    vigil_status st = vigil_news2_validate(obs, err);
    if (st != VIGIL_OK) {
        return st;
    }
    if (out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "no result struct given");
    }
    vigil_news2 r = {0};
    r.spo2_scale = obs->spo2_scale;
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        r.sub[p] = VIGIL_NEWS2_SUB_MISSING;
    }
    if (!isnan(obs->rr_bpm)) {
        r.sub[VIGIL_NEWS2_RR] = vigil_news2_rr_points(obs->rr_bpm);
    }
    if (!isnan(obs->spo2_pct)) {
        long s = vigil_news2_round_int(obs->spo2_pct);
        r.sub[VIGIL_NEWS2_SPO2] = spo2_band(s, obs->spo2_scale, obs->o2);
        if (spo2_near_threshold(s, obs->spo2_scale, obs->o2)) {
            r.flags |= VIGIL_NEWS2_FLAG_SPO2_NEAR_THRESHOLD;
        }
        if (obs->spo2_scale == 2 && s >= 93 && obs->o2 == VIGIL_O2_UNKNOWN) {
            r.flags |= VIGIL_NEWS2_FLAG_SPO2_SCALE2_O2_UNKNOWN;
        }
    }
    if (obs->o2 != VIGIL_O2_UNKNOWN) {
        r.sub[VIGIL_NEWS2_O2] = vigil_news2_o2_points(obs->o2);
    }
    if (!isnan(obs->sbp_mmhg)) {
        r.sub[VIGIL_NEWS2_SBP] = vigil_news2_sbp_points(obs->sbp_mmhg);
    }
    if (!isnan(obs->hr_bpm)) {
        r.sub[VIGIL_NEWS2_HR] = vigil_news2_hr_points(obs->hr_bpm);
    }
    if (obs->acvpu != VIGIL_ACVPU_UNKNOWN) {
        r.sub[VIGIL_NEWS2_ACVPU] = vigil_news2_acvpu_points(obs->acvpu);
    }
    if (!isnan(obs->temp_c)) {
        r.sub[VIGIL_NEWS2_TEMP] = vigil_news2_temp_points(obs->temp_c);
    }
    /* REQ NEWS2-INCOMPLETE: missing parameters are listed, never zero */
    r.complete = true;
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        if (r.sub[p] == VIGIL_NEWS2_SUB_MISSING) {
            r.complete = false;
            r.missing |= 1u << p;
            continue;
        }
        r.total += r.sub[p];
        if (r.sub[p] == 3) {
            r.single_param_3 = true;
        }
    }
    classify(&r);
    if (obs->spo2_scale == 2) {
        r.flags |= VIGIL_NEWS2_FLAG_SCALE_2;
    }
    /* REQ NEWS2-SCOPE: not validated under 16 or in pregnancy */
    if (!isnan(obs->age_y) && obs->age_y < 16.0) {
        r.flags |= VIGIL_NEWS2_FLAG_UNDER_16;
    }
    if (obs->pregnant == VIGIL_YES) {
        r.flags |= VIGIL_NEWS2_FLAG_PREGNANT;
    }
    *out = r;
    return VIGIL_OK;
}

const char *vigil_news2_param_name(vigil_news2_param p)
{
    const vigil_vital *v = vigil_vital_get(p);
    return v != NULL ? v->name : "?";
}

static const char *const risk_names[VIGIL_RISK_COUNT] = {
    "low",
    "low-medium",
    "medium",
    "high",
};

const char *vigil_news2_risk_name(vigil_news2_risk r)
{
    return (unsigned)r < VIGIL_RISK_COUNT ? risk_names[r] : "?";
}

static const char *const mon_names[VIGIL_MON_COUNT] = {
    "12-hourly",
    "4-6-hourly",
    "hourly",
    "continuous",
};

const char *vigil_news2_monitoring_name(vigil_news2_monitoring m)
{
    return (unsigned)m < VIGIL_MON_COUNT ? mon_names[m] : "?";
}

static const char *const resp_names[VIGIL_RESP_COUNT] = {
    "routine", "nurse-assess", "urgent-ward", "urgent", "emergency",
};

static const char *const resp_texts[VIGIL_RESP_COUNT] = {
    "continue routine NEWS monitoring",
    "inform registered nurse, who must assess the patient and decide whether increased "
    "monitoring frequency and/or escalation of care is required",
    "registered nurse to inform medical team caring for the patient, who will review and "
    "decide whether escalation of care is necessary (urgent ward-based response)",
    "registered nurse to immediately inform the medical team; urgent assessment by a "
    "clinician or team with core competencies in the care of acutely ill patients",
    "registered nurse to immediately inform the medical team at least at specialist "
    "registrar level; emergency assessment by a team with critical-care competencies; "
    "consider transfer to a higher level of care (HDU/ICU)",
};

const char *vigil_news2_response_name(vigil_news2_response r)
{
    return (unsigned)r < VIGIL_RESP_COUNT ? resp_names[r] : "?";
}

const char *vigil_news2_response_text(vigil_news2_response r)
{
    return (unsigned)r < VIGIL_RESP_COUNT ? resp_texts[r] : "?";
}

const char *vigil_news2_flag_name(unsigned flag_bit)
{
    switch (flag_bit) {
    case VIGIL_NEWS2_FLAG_SPO2_NEAR_THRESHOLD:
        return "spo2_near_threshold";
    case VIGIL_NEWS2_FLAG_UNDER_16:
        return "under_16";
    case VIGIL_NEWS2_FLAG_PREGNANT:
        return "pregnant";
    case VIGIL_NEWS2_FLAG_SCALE_2:
        return "scale_2";
    case VIGIL_NEWS2_FLAG_SPO2_SCALE2_O2_UNKNOWN:
        return "spo2_scale2_o2_unknown";
    default:
        return NULL;
    }
}

static const char *const acvpu_names[VIGIL_ACVPU_COUNT] = {"", "A", "C", "V", "P", "U"};

const char *vigil_acvpu_name(vigil_acvpu a)
{
    return (unsigned)a < VIGIL_ACVPU_COUNT ? acvpu_names[a] : "";
}
