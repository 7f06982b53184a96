/*
 * hl7_oru.c: vital signs from ORU^R01 (HL7 v2.5.1 chapter 7, section
 * 7.3.1; OBR 7.4.1, OBX 7.4.2) to vigil_obs_event values.
 *
 * What it does: walks PID (patient), OBR (order, OBR-7 observation time)
 * and OBX (one result each) segments; maps OBX-3 codes (LOINC "LN" or no
 * system, ISO/IEEE 11073 "MDC" as IHE PCD-01 devices send them, SNOMED CT
 * "SCT", a sender's local codes; primary or alternate coding) to NEWS2
 * parameters; checks the
 * value type (OBX-2), value (OBX-5), units (OBX-6), result status (OBX-11)
 * and time (OBX-14, else OBR-7); validates each value against the NEWS2
 * plausibility bounds of vigil/news2.h; groups results into one event per
 * patient and observation time.
 *
 * What it does not do: infer the SpO2 scale (never from HL7: Scale 2 is a
 * recorded clinical decision held elsewhere); score NEWS2; keep free text
 * (NTE), names or other personal data; accept retractions (W, D).
 *
 * Invariants: a fault in one result (value, units, bounds, status, demo
 * flag, sentinel) refuses that result only, named with its OBX and value in
 * vigil_hl7_oru_info.warnings (the ACK's ERR with severity W); a message
 * whose vital signs were all refused is AE, so a sender never gets AA for a
 * message with vital signs in it of which nothing was stored. Structure,
 * patient, times and retractions still refuse the whole message. Unknown
 * codes are not errors: they are counted. A parameter not carried stays
 * "not measured", never zero. How a sender's feed is read (codes, statuses,
 * demo flags, sentinels, time zone) is its interface profile (hl7_profile.c).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hl7_int.h"
#include "vigil/util.h"
#include "vigil/vitals.h"

typedef vigil_hl7_param param;
#define P_RR VIGIL_HL7_P_RR
#define P_HR VIGIL_HL7_P_HR
#define P_SPO2 VIGIL_HL7_P_SPO2
#define P_SBP VIGIL_HL7_P_SBP
#define P_TEMP VIGIL_HL7_P_TEMP
#define P_FIO2 VIGIL_HL7_P_FIO2
#define P_O2FLOW VIGIL_HL7_P_O2FLOW
#define P_ACVPU VIGIL_HL7_P_ACVPU
#define P_UNUSED VIGIL_HL7_P_UNUSED
#define P_COUNT VIGIL_HL7_P_COUNT

typedef struct code_def {
    const char *code;
    const char *system; /* "LN", "SCT", "MDC" */
    param p;
    const char *name;
    const char *refid; /* MDC reference id (OBX-3.2), matched when OBX-3.1 is empty */
    unsigned rank;     /* 0 preferred; a lower rank's value wins over a higher one's */
} code_def;

/* The NEWS2 parameter (row of the vital-sign table, vigil/vitals.h) each
 * HL7 parameter sets; FiO2 and O2 flow both give air or oxygen. */
static const vigil_news2_param news2_of[P_COUNT] = {
    [P_RR] = VIGIL_NEWS2_RR,     [P_HR] = VIGIL_NEWS2_HR,   [P_SPO2] = VIGIL_NEWS2_SPO2,
    [P_SBP] = VIGIL_NEWS2_SBP,   [P_TEMP] = VIGIL_NEWS2_TEMP, [P_FIO2] = VIGIL_NEWS2_O2,
    [P_O2FLOW] = VIGIL_NEWS2_O2, [P_ACVPU] = VIGIL_NEWS2_ACVPU, [P_UNUSED] = VIGIL_NEWS2_PARAM_COUNT,
};

/*
 * REQ HL7-ORU-CODES: the codes of the vital-sign table (vigil/vitals.h:
 * LOINC, ISO/IEEE 11073 MDC as IHE PCD-01 devices send them, SNOMED CT),
 * and here only the codes vigil knows but NEWS2 does not use, counted as
 * unused. A monitor sends the same parameter by several methods at once
 * (ECG heart rate and pulse oximeter rate): the lowest rank is kept and the
 * others counted as superseded, never a conflict.
 */
static const code_def unused_codes[] = {
    {"85354-9", "LN", P_UNUSED, "blood pressure panel", NULL, 0},
    {"8462-4", "LN", P_UNUSED, "diastolic blood pressure", NULL, 0},
    {"8478-0", "LN", P_UNUSED, "mean blood pressure", NULL, 0},
    {"1104051000000101", "SCT", P_UNUSED, "NEWS2 total score", NULL, 0},
    {"150020", "MDC", P_UNUSED, "blood pressure (NIBP)", "MDC_PRESS_BLD_NONINV", 0},
    {"150022", "MDC", P_UNUSED, "diastolic blood pressure (NIBP)", "MDC_PRESS_BLD_NONINV_DIA", 0},
    {"150023", "MDC", P_UNUSED, "mean blood pressure (NIBP)", "MDC_PRESS_BLD_NONINV_MEAN", 0},
    {"150034", "MDC", P_UNUSED, "diastolic blood pressure (arterial)", "MDC_PRESS_BLD_ART_DIA", 0},
    {"150035", "MDC", P_UNUSED, "mean blood pressure (arterial)", "MDC_PRESS_BLD_ART_MEAN", 0},
};

/* The HL7 parameter a code of the table sets; P_COUNT when HL7 does not read
 * it (the SNOMED CT air/oxygen codes: a FHIR way, HL7 feeds send FiO2 or flow). */
static param param_of(const vigil_vital *row, const vigil_vital_code *c)
{
    switch (c->form) {
    case VIGIL_VITAL_FORM_FIO2:
        return P_FIO2;
    case VIGIL_VITAL_FORM_O2_FLOW:
        return P_O2FLOW;
    case VIGIL_VITAL_FORM_VALUE:
        for (int p = 0; p < P_COUNT; p++) {
            if (news2_of[p] == row->param && p != P_FIO2 && p != P_O2FLOW) {
                return (param)p;
            }
        }
        return P_COUNT;
    case VIGIL_VITAL_FORM_ROOM_AIR:
    case VIGIL_VITAL_FORM_ON_O2:
    case VIGIL_VITAL_FORM_COUNT:
        break;
    }
    return P_COUNT;
}

/* A unit as sent in OBX-6: its text (OBX-6.1, any case), or as an MDC
 * triple (OBX-6.1 code or OBX-6.2 reference id, OBX-6.3 MDC). */
typedef struct unit_def {
    const char *text;
    const char *mdc_code;  /* NULL: not matched by code */
    const char *mdc_refid; /* NULL: not an MDC unit */
    int fahrenheit;        /* converted to Celsius */
} unit_def;

/* Accepted units (REQ HL7-ORU-UNITS). MDC unit codes from IHE PCD-01
 * examples (docs/hl7.md); Fahrenheit only by its reference id. */
static const unit_def units_rr[] = {{"/min", "264928", "MDC_DIM_RESP_PER_MIN", 0},
                                    {"{breaths}/min", NULL, NULL, 0},
                                    {"{breath}/min", NULL, NULL, 0},
                                    {"breaths/min", NULL, NULL, 0},
                                    {"bpm", NULL, NULL, 0},
                                    {"rpm", NULL, NULL, 0},
                                    {"1/min", NULL, NULL, 0},
                                    {NULL, NULL, NULL, 0}};
static const unit_def units_hr[] = {{"/min", "264864", "MDC_DIM_BEAT_PER_MIN", 0},
                                    {"{beats}/min", NULL, NULL, 0},
                                    {"{beat}/min", NULL, NULL, 0},
                                    {"beats/min", NULL, NULL, 0},
                                    {"bpm", NULL, NULL, 0},
                                    {"1/min", NULL, NULL, 0},
                                    {NULL, NULL, NULL, 0}};
static const unit_def units_pct[] = {{"%", "262688", "MDC_DIM_PERCENT", 0}, {NULL, NULL, NULL, 0}};
static const unit_def units_bp[] = {{"mm[Hg]", "266016", "MDC_DIM_MMHG", 0},
                                    {"mmHg", NULL, NULL, 0},
                                    {"mm Hg", NULL, NULL, 0},
                                    {NULL, NULL, NULL, 0}};
static const unit_def units_temp[] = {{"Cel", "268192", "MDC_DIM_DEGC", 0},
                                      {"degC", NULL, NULL, 0},
                                      {"\xc2\xb0"
                                       "C",
                                       NULL, NULL, 0},
                                      {"[degF]", NULL, "MDC_DIM_FAHR", 1},
                                      {"degF", NULL, NULL, 1},
                                      {"\xc2\xb0"
                                       "F",
                                       NULL, NULL, 1},
                                      {NULL, NULL, NULL, 0}};
static const unit_def units_flow[] = {{"L/min", NULL, NULL, 0}, {NULL, NULL, NULL, 0}};

static const unit_def *const units_for[P_COUNT] = {
    [P_RR] = units_rr,     [P_HR] = units_hr,    [P_SPO2] = units_pct,    [P_SBP] = units_bp,
    [P_TEMP] = units_temp, [P_FIO2] = units_pct, [P_O2FLOW] = units_flow,
};

/* Per-event state beyond vigil_obs_event. */
typedef struct pending {
    unsigned set;      /* bit per param */
    unsigned conflict; /* bit per param: two different values of one rank, neither kept */
    double val[P_COUNT];
    unsigned rank[P_COUNT]; /* code_def.rank of the value kept (or in conflict) */
    unsigned seq[P_COUNT];  /* OBX-1 of the value kept, for the conflict's words */
    vigil_acvpu acvpu;
} pending;

typedef struct oru_ctx {
    const vigil_hl7_msg *msg;
    const vigil_hl7_header *hdr;
    const vigil_hl7_opts *opts;
    vigil_obs_event *events;
    size_t cap;
    size_t n;
    pending pend[VIGIL_HL7_MAX_EVENTS];
    vigil_hl7_oru_info *info; /* the caller's, or own_info */
    vigil_hl7_fault *fault;   /* the caller's, or own_fault */
    const vigil_hl7_profile *profile;
    vigil_hl7_oru_info own_info;
    vigil_hl7_fault own_fault;
    /* current patient and order */
    int have_pid;
    vigil__hl7_patient pat;
    int have_dob;
    int64_t dob_y, dob_m, dob_d;
    int have_obr;
    int obr_has_time;
    int64_t obr_t_ms;
} oru_ctx;

/* Describes the OBX being read, for messages. */
typedef struct obx {
    size_t i;
    unsigned seq;
    const code_def *def;
    code_def local; /* def points here for a profile's local code */
} obx;

static vigil_status obx_fail(oru_ctx *c, const obx *x, vigil_status st, vigil_hl7_errcode code,
                             vigil_hl7_reason reason, unsigned field, unsigned comp,
                             const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 8, 9)))
#endif
    ;

static vigil_status obx_fail(oru_ctx *c, const obx *x, vigil_status st, vigil_hl7_errcode code,
                             vigil_hl7_reason reason, unsigned field, unsigned comp,
                             const char *fmt, ...)
{
    char detail[VIGIL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return vigil__hl7_fail(c->fault, st, VIGIL_HL7_AE, code, reason, "OBX", x->seq, field,
                           field > 0 ? 1 : 0, comp, "OBX #%u %s (%s %s): %s", x->seq, x->def->name,
                           x->def->system, x->def->code, detail);
}

static int system_ok(const vigil_hl7_profile *pr, const code_def *d, vigil_hl7_view sys)
{
    if (strcmp(d->system, "LN") == 0) {
        return ((pr->systems & VIGIL_HL7_SYS_LN) && vigil__hl7_eq(sys, "LN")) ||
               ((pr->systems & VIGIL_HL7_SYS_LN_BLANK) && vigil__hl7_blank(sys));
    }
    if (strcmp(d->system, "MDC") == 0) {
        return (pr->systems & VIGIL_HL7_SYS_MDC) && vigil__hl7_eq(sys, "MDC");
    }
    return (pr->systems & VIGIL_HL7_SYS_SCT) && vigil__hl7_eq(sys, d->system);
}

/* A built-in code: by code, or (MDC) by reference id when OBX-3.1 is empty. */
static int code_hit(const vigil_hl7_profile *pr, const code_def *d, vigil_hl7_view id,
                    vigil_hl7_view text, vigil_hl7_view sys)
{
    int hit = vigil__hl7_blank(id) ? d->refid != NULL && vigil__hl7_eq(text, d->refid)
                                   : vigil__hl7_eq(id, d->code);
    return hit && system_ok(pr, d, sys);
}

/* A code of the vital-sign table (written into *tmp) or of the unused ones. */
static const code_def *builtin_code(const vigil_hl7_profile *pr, vigil_hl7_view id,
                                    vigil_hl7_view text, vigil_hl7_view sys, code_def *tmp)
{
    for (int r = 0; r < VIGIL_NEWS2_PARAM_COUNT; r++) {
        const vigil_vital *row = vigil_vital_get((vigil_news2_param)r);
        for (size_t k = 0; k < VIGIL_VITAL_CODES_MAX && row->codes[k].code != NULL; k++) {
            const vigil_vital_code *c = &row->codes[k];
            param p = param_of(row, c);
            if (p == P_COUNT) {
                continue;
            }
            code_def d = {c->code, c->system, p, c->text, c->refid, c->rank};
            if (code_hit(pr, &d, id, text, sys)) {
                *tmp = d;
                return tmp;
            }
        }
    }
    for (size_t k = 0; k < sizeof unused_codes / sizeof unused_codes[0]; k++) {
        if (code_hit(pr, &unused_codes[k], id, text, sys)) {
            return &unused_codes[k];
        }
    }
    return NULL;
}

/* OBX-3: the profile's local codes, then the primary triple (1, 2, 3), then
 * the alternate (4, 5, 6). REQ HL7-PROFILE-CODES */
static const code_def *lookup_code(const oru_ctx *c, obx *x)
{
    const vigil_hl7_profile *pr = c->profile;
    for (unsigned alt = 0; alt < 2; alt++) {
        vigil_hl7_view id, text, sys;
        vigil_hl7_get(c->msg, x->i, 3, 1, 1 + 3 * alt, 0, &id);
        vigil_hl7_get(c->msg, x->i, 3, 1, 2 + 3 * alt, 0, &text);
        vigil_hl7_get(c->msg, x->i, 3, 1, 3 + 3 * alt, 0, &sys);
        for (size_t k = 0; k < pr->n_codes; k++) {
            const vigil_hl7_local_code *lc = &pr->codes[k];
            if (vigil__hl7_eq(id, lc->code) &&
                (lc->system[0] == '\0' ? vigil__hl7_blank(sys) : vigil__hl7_eq(sys, lc->system))) {
                x->local.code = lc->code;
                x->local.system = lc->system[0] != '\0' ? lc->system : "-";
                x->local.p = lc->param;
                x->local.name = "local code";
                x->local.refid = NULL;
                x->local.rank = 0;
                return &x->local;
            }
        }
        const code_def *d = builtin_code(pr, id, text, sys, &x->local);
        if (d != NULL) {
            return d;
        }
    }
    return NULL;
}

/* HL7 NM: [+|-] digits [. digits] (v2.5.1 2.A.47); no exponent, no blanks. */
static int is_nm(const char *s)
{
    size_t k = 0;
    if (s[k] == '+' || s[k] == '-') {
        k++;
    }
    size_t digits = 0, dots = 0;
    for (; s[k] != '\0'; k++) {
        if (s[k] >= '0' && s[k] <= '9') {
            digits++;
        } else if (s[k] == '.' && dots == 0) {
            dots++;
        } else {
            return 0;
        }
    }
    return digits > 0;
}

/* The accepted unit OBX-6 names for p, or NULL. u is OBX-6.1 decoded. */
static const unit_def *unit_for(const vigil_hl7_msg *m, size_t i, param p, const char *u)
{
    const unit_def *list = units_for[p];
    vigil_hl7_view text, sys;
    vigil_hl7_get(m, i, 6, 1, 2, 0, &text);
    vigil_hl7_get(m, i, 6, 1, 3, 0, &sys);
    int mdc = vigil__hl7_eq(sys, "MDC");
    for (size_t k = 0; list != NULL && list[k].text != NULL; k++) {
        const unit_def *d = &list[k];
        if (mdc && ((d->mdc_code != NULL && strcmp(u, d->mdc_code) == 0) ||
                    (d->mdc_refid != NULL && vigil__hl7_eq(text, d->mdc_refid)))) {
            return d;
        }
        if (!mdc && vigil_str_ieq(u, d->text)) {
            return d;
        }
    }
    /* A local unit code with the unit's text in OBX-6.2 (Philips MDIL: 0004-0aa0^bpm^MDIL) */
    char t[32];
    if (!mdc && !vigil__hl7_blank(text) && text.n < sizeof t) {
        memcpy(t, text.p, text.n);
        t[text.n] = '\0';
        for (size_t k = 0; list != NULL && list[k].text != NULL; k++) {
            if (vigil_str_ieq(t, list[k].text)) {
                return &list[k];
            }
        }
    }
    return NULL;
}

/* The table's code for an oxygen parameter (FiO2, O2 flow: their bounds,
 * unit and air threshold); NULL for the others. */
static const vigil_vital_code *o2_code_of(param p)
{
    return p == P_FIO2     ? vigil_vital_code_of_form(VIGIL_VITAL_FORM_FIO2)
           : p == P_O2FLOW ? vigil_vital_code_of_form(VIGIL_VITAL_FORM_O2_FLOW)
                           : NULL;
}

/* Check v against the core's bounds for p via vigil_news2_validate. */
static vigil_status check_bounds(param p, double v, vigil_err *e)
{
    const vigil_vital_code *o2 = o2_code_of(p);
    if (o2 != NULL) { /* REQ VITALS-O2-BOUNDS: the table's, as the FHIR reader's */
        if (v < o2->o2_min || v > o2->o2_max) {
            return vigil_err_set(e, VIGIL_ERR_IMPLAUSIBLE, p == P_FIO2 ? "fio2" : "o2_flow",
                                 "outside the plausible range %g to %g %s", o2->o2_min,
                                 o2->o2_max, o2->o2_ucum);
        }
        return VIGIL_OK;
    }
    const vigil_vital *row = (unsigned)p < P_COUNT ? vigil_vital_get(news2_of[p]) : NULL;
    if (row == NULL || row->type != VIGIL_VITAL_NUMBER) {
        return VIGIL_OK;
    }
    vigil_obs o;
    vigil_obs_init(&o);
    vigil_vital_set_number(&o, row, v);
    /* REQ NEWS2-PLAUSIBLE: the core's bounds, one source of truth */
    return vigil_news2_validate(&o, e);
}

/* Read and check a numeric OBX: value type, value, units, bounds. */
static vigil_status read_numeric(oru_ctx *c, const obx *x, double *out)
{
    const vigil_hl7_msg *m = c->msg;
    vigil_hl7_view vt, val, unit;
    vigil_hl7_get(m, x->i, 2, 1, 1, 0, &vt);
    if (!vigil__hl7_eq(vt, "NM")) {
        return obx_fail(c, x, VIGIL_ERR_PARSE, VIGIL_HL7_E_DATA_TYPE, VIGIL_HL7_R_VALUE_TYPE, 2, 0,
                        "OBX-2 value type '%.*s' is not NM (numeric)", (int)(vt.n > 8 ? 8 : vt.n),
                        vt.p);
    }
    if (vigil_hl7_reps(m, x->i, 5) > 1) {
        return obx_fail(c, x, VIGIL_ERR_PARSE, VIGIL_HL7_E_DATA_TYPE, VIGIL_HL7_R_NOT_NUMERIC, 5, 0,
                        "OBX-5 has more than one value");
    }
    vigil_hl7_get(m, x->i, 5, 1, 0, 0, &val);
    if (vigil__hl7_blank(val)) {
        return obx_fail(c, x, VIGIL_ERR_PARSE, VIGIL_HL7_E_REQUIRED_MISSING,
                        VIGIL_HL7_R_MISSING_FIELD, 5, 0, "OBX-5 has no value");
    }
    char text[48];
    double v = 0.0;
    if (vigil_hl7_unescape(&m->seps, val, text, sizeof text, NULL) != VIGIL_OK || !is_nm(text) ||
        vigil_parse_double(text, &v) != VIGIL_OK) {
        return obx_fail(c, x, VIGIL_ERR_PARSE, VIGIL_HL7_E_DATA_TYPE, VIGIL_HL7_R_NOT_NUMERIC, 5, 0,
                        "OBX-5 value '%.24s' is not a number", text);
    }
    for (size_t k = 0; k < c->profile->n_sentinels; k++) {
        if (v == c->profile->sentinels[k]) { /* REQ HL7-PROFILE-SENTINEL */
            return obx_fail(c, x, VIGIL_ERR_PARSE, VIGIL_HL7_E_DATA_TYPE, VIGIL_HL7_R_SENTINEL, 5,
                            0, "OBX-5 value %s is the device's \"no measurement\" value", text);
        }
    }
    vigil_hl7_get(m, x->i, 6, 1, 1, 0, &unit);
    char u[32];
    u[0] = '\0';
    vigil_hl7_view unit_text;
    vigil_hl7_get(m, x->i, 6, 1, 2, 0, &unit_text);
    if (vigil__hl7_blank(unit) && vigil__hl7_blank(unit_text)) {
        return obx_fail(c, x, VIGIL_ERR_PARSE, VIGIL_HL7_E_REQUIRED_MISSING,
                        VIGIL_HL7_R_MISSING_FIELD, 6, 1, "OBX-6 units are missing for value %s",
                        text);
    }
    const unit_def *ud = NULL;
    if (vigil_hl7_unescape(&m->seps, unit, u, sizeof u, NULL) == VIGIL_OK) {
        ud = unit_for(m, x->i, x->def->p, u);
    }
    if (ud == NULL) {
        char ut[32];
        if (vigil_hl7_unescape(&m->seps, unit_text, ut, sizeof ut, NULL) != VIGIL_OK) {
            ut[0] = '\0';
        }
        return obx_fail(c, x, VIGIL_ERR_PARSE, VIGIL_HL7_E_TABLE_VALUE, VIGIL_HL7_R_BAD_UNITS, 6, 1,
                        "OBX-6 units '%.24s'%s%.24s%s are not accepted for this observation", u,
                        ut[0] != '\0' ? " (" : "", ut, ut[0] != '\0' ? ")" : "");
    }
    double conv = v;
    if (ud->fahrenheit) {
        conv = (v - 32.0) * 5.0 / 9.0; /* REQ HL7-ORU-DEGF: never stored as Celsius unconverted */
    }
    snprintf(u, sizeof u, "%s", ud->text);
    vigil_err e = {0};
    if (check_bounds(x->def->p, conv, &e) != VIGIL_OK) {
        return obx_fail(c, x, VIGIL_ERR_IMPLAUSIBLE, VIGIL_HL7_E_DATA_TYPE, VIGIL_HL7_R_IMPLAUSIBLE,
                        5, 0, "value %s %s is implausible (%s)", text, u, e.msg);
    }
    *out = conv;
    return VIGIL_OK;
}

/* ACVPU: OBX-2 CWE, CE or ST; OBX-5.1 one of A, C, V, P, U. REQ HL7-ORU-ACVPU */
static vigil_status read_acvpu(oru_ctx *c, const obx *x, vigil_acvpu *out)
{
    const vigil_hl7_msg *m = c->msg;
    vigil_hl7_view vt, val;
    vigil_hl7_get(m, x->i, 2, 1, 1, 0, &vt);
    if (!vigil__hl7_eq(vt, "CWE") && !vigil__hl7_eq(vt, "CE") && !vigil__hl7_eq(vt, "ST")) {
        return obx_fail(c, x, VIGIL_ERR_PARSE, VIGIL_HL7_E_DATA_TYPE, VIGIL_HL7_R_VALUE_TYPE, 2, 0,
                        "OBX-2 value type '%.*s' is not CWE, CE or ST", (int)(vt.n > 8 ? 8 : vt.n),
                        vt.p);
    }
    vigil_hl7_get(m, x->i, 5, 1, 1, 0, &val);
    if (vigil__hl7_blank(val)) {
        return obx_fail(c, x, VIGIL_ERR_PARSE, VIGIL_HL7_E_REQUIRED_MISSING,
                        VIGIL_HL7_R_MISSING_FIELD, 5, 1, "OBX-5 has no value");
    }
    char text[16];
    static const char letters[] = "ACVPU";
    if (vigil_hl7_unescape(&m->seps, val, text, sizeof text, NULL) == VIGIL_OK &&
        strlen(text) == 1) {
        for (int k = 0; k < 5; k++) {
            if ((text[0] | 0x20) == (letters[k] | 0x20)) {
                *out = (vigil_acvpu)(VIGIL_ACVPU_A + k);
                return VIGIL_OK;
            }
        }
    }
    return obx_fail(c, x, VIGIL_ERR_PARSE, VIGIL_HL7_E_TABLE_VALUE, VIGIL_HL7_R_BAD_CODE, 5, 1,
                    "OBX-5 value '%.12s' is not one of A, C, V, P, U", text);
}

/* Completed years between the date of birth and the UTC date of t_ms. */
static int64_t age_years(const oru_ctx *c, int64_t t_ms)
{
    char ts[21];
    vigil_hl7_dtm_format(t_ms, ts);
    int64_t y = 0, mo = 0, d = 0;
    for (int k = 0; k < 4; k++) {
        y = y * 10 + (ts[k] - '0');
    }
    mo = (ts[4] - '0') * 10 + (ts[5] - '0');
    d = (ts[6] - '0') * 10 + (ts[7] - '0');
    int64_t age = y - c->dob_y;
    if (mo < c->dob_m || (mo == c->dob_m && d < c->dob_d)) {
        age--;
    }
    return age;
}

/*
 * The sender of the message, kept with each event so that a resend is found
 * by (sending application, sending facility, control id): HL7 makes MSH-10
 * unique per sending system only. MSH-3 and MSH-4 as received, joined by
 * '|'; when that does not fit, a prefix and a 64-bit FNV-1a hash of the
 * whole. REQ HL7-RESEND-KEY
 */
static void sender_key(const vigil_hl7_header *h, char out[VIGIL_ID_MAX])
{
    char whole[2 * VIGIL_HL7_HDR_MAX + 2];
    int n = snprintf(whole, sizeof whole, "%s|%s", h->sending_app, h->sending_fac);
    if (n > 0 && (size_t)n < VIGIL_ID_MAX) {
        memcpy(out, whole, (size_t)n + 1);
        return;
    }
    uint64_t x = 1469598103934665603ULL;
    for (const char *p = whole; *p != '\0'; p++) {
        x = (x ^ (unsigned char)*p) * 1099511628211ULL;
    }
    /* at most 40 bytes of prefix (cut at a UTF-8 character boundary), '~', 16 hex digits */
    int keep = 40;
    while (keep > 0 && ((unsigned char)whole[keep] & 0xc0) == 0x80) {
        keep--;
    }
    snprintf(out, VIGIL_ID_MAX, "%.*s~%016llx", keep, whole, (unsigned long long)x);
}

/* The event for the current patient at time t, created when new. */
static vigil_status event_for(oru_ctx *c, const obx *x, int64_t t, size_t *out)
{
    for (size_t k = 0; k < c->n; k++) {
        vigil_obs_event *ev = &c->events[k];
        if (ev->t_ms == t && strcmp(ev->nhs_number, c->pat.nhs_number) == 0 &&
            strcmp(ev->mrn, c->pat.mrn) == 0) {
            *out = k;
            return VIGIL_OK;
        }
    }
    if (c->n == c->cap) {
        return obx_fail(c, x, VIGIL_ERR_NOMEM, VIGIL_HL7_E_INTERNAL, VIGIL_HL7_R_TOO_MANY_EVENTS, 0,
                        0,
                        "more than %zu observation sets (patient and time) in one message; "
                        "send them in separate messages",
                        c->cap);
    }
    vigil_obs_event *ev = &c->events[c->n];
    vigil_obs_event_init(ev);
    memcpy(ev->nhs_number, c->pat.nhs_number, sizeof ev->nhs_number);
    memcpy(ev->mrn, c->pat.mrn, sizeof ev->mrn);
    ev->sex = c->pat.sex; /* REQ HL7-PID8-SEX */
    ev->t_ms = t;
    ev->source = VIGIL_SRC_HL7;
    memcpy(ev->source_id, c->hdr->control_id, sizeof ev->source_id);
    sender_key(c->hdr, ev->sender);
    if (c->have_dob) {
        int64_t age = age_years(c, t);
        if (age < 0) {
            return obx_fail(c, x, VIGIL_ERR_IMPLAUSIBLE, VIGIL_HL7_E_DATA_TYPE,
                            VIGIL_HL7_R_IMPLAUSIBLE, 14, 0,
                            "observed before the patient's date of birth (PID-7)");
        }
        ev->obs.age_y = (double)age;
    }
    memset(&c->pend[c->n], 0, sizeof c->pend[c->n]);
    *out = c->n++;
    return VIGIL_OK;
}

/* OBX-16.1 (responsible observer) or OBX-18.1 (equipment): who recorded it. */
static vigil_status recorded_by(oru_ctx *c, const obx *x, vigil_obs_event *ev)
{
    if (ev->recorded_by[0] != '\0') {
        return VIGIL_OK;
    }
    static const unsigned fields[2] = {16, 18};
    for (int k = 0; k < 2; k++) {
        vigil_hl7_view v;
        vigil_hl7_get(c->msg, x->i, fields[k], 1, 1, 0, &v);
        if (vigil__hl7_blank(v)) {
            continue;
        }
        const char *why = "";
        if (vigil__hl7_ident(&c->msg->seps, v, ev->recorded_by, sizeof ev->recorded_by, &why) !=
            VIGIL_OK) {
            ev->recorded_by[0] = '\0';
            return obx_fail(c, x, VIGIL_ERR_PARSE, VIGIL_HL7_E_DATA_TYPE,
                            VIGIL_HL7_R_BAD_IDENTIFIER, fields[k], 1, "OBX-%u.1 identifier %s",
                            fields[k], why);
        }
        return VIGIL_OK;
    }
    return VIGIL_OK;
}

static int same_value(param p, const pending *pd, double v, vigil_acvpu a)
{
    return p == P_ACVPU ? pd->acvpu == a : pd->val[p] == v;
}

/* The unit of p's value as kept (after conversion), for messages: the
 * table's UCUM code; the oxygen observations' own. */
static const char *canon_unit(param p)
{
    const vigil_vital_code *o2 = o2_code_of(p);
    if (o2 != NULL) {
        return o2->o2_ucum;
    }
    const vigil_vital *row = (unsigned)p < P_COUNT ? vigil_vital_get(news2_of[p]) : NULL;
    return row != NULL ? row->ucum : "";
}

/* p's value in words: "72 /min" or "A". */
static void value_text(param p, double v, vigil_acvpu a, char *out, size_t cap)
{
    if (p == P_ACVPU) {
        snprintf(out, cap, "%c", a >= VIGIL_ACVPU_A && a <= VIGIL_ACVPU_U ? "ACVPU"[a - 1] : '?');
    } else {
        snprintf(out, cap, "%g %s", v, canon_unit(p));
    }
}

/* Forget p's value in event e: it is in conflict (REQ HL7-ORU-CONFLICT). */
static void clear_value(oru_ctx *c, size_t e, param p)
{
    if (p != P_FIO2 && p != P_O2FLOW && (unsigned)p < P_COUNT) {
        vigil_vital_clear(&c->events[e].obs, news2_of[p]);
    }
}

/*
 * REQ HL7-ORU-CONFLICT: two different values of one rank for one parameter
 * of one set (two heart rates from the same method). vigil cannot tell which
 * is the patient's, so neither is stored; the set's other parameters are
 * (the conflict does not cost the ward the rest of the set). Each value is
 * counted (n_conflicting) and the ACK names the parameter and both values in
 * an ERR of severity W. A later value of the same or a worse rank is not
 * stored either; a preferred rank's value still is.
 */
static vigil_status conflict(oru_ctx *c, const obx *x, size_t e, double v, vigil_acvpu a)
{
    pending *pd = &c->pend[e];
    param p = x->def->p;
    char now[32], before[32];
    value_text(p, v, a, now, sizeof now);
    vigil_hl7_oru_info *in = c->info;
    if ((pd->conflict & (1u << p)) != 0) {
        in->n_conflicting++;
        obx_fail(c, x, VIGIL_ERR_CONFLICT, VIGIL_HL7_E_DATA_TYPE, VIGIL_HL7_R_DUPLICATE, 5, 0,
                 "value %s not stored: this parameter already has two different values of the "
                 "same rank for the same patient and time (OBX #%u ...)",
                 now, pd->seq[p]);
    } else {
        value_text(p, pd->val[p], pd->acvpu, before, sizeof before);
        pd->conflict |= 1u << p;
        pd->set &= ~(1u << p);
        clear_value(c, e, p);
        in->n_used--; /* the first value was counted as used */
        in->n_conflicting += 2;
        obx_fail(c, x, VIGIL_ERR_CONFLICT, VIGIL_HL7_E_DATA_TYPE, VIGIL_HL7_R_DUPLICATE, 5, 0,
                 "value %s conflicts with %s in OBX #%u (same rank, same patient and time): "
                 "neither is stored, the set's other vital signs are",
                 now, before, pd->seq[p]);
    }
    if (in->n_warnings < VIGIL_HL7_MAX_WARNINGS) {
        in->warnings[in->n_warnings] = *c->fault;
        in->warnings[in->n_warnings].ack = VIGIL_HL7_AA;
        in->n_warnings++;
    }
    vigil_hl7_fault_clear(c->fault);
    return VIGIL_OK;
}

/* *stored is 0 when the value is in conflict (not used); a superseded value
 * or the same value again counts as used, as before. */
static vigil_status store_value(oru_ctx *c, const obx *x, size_t e, double v, vigil_acvpu a,
                                int *stored)
{
    pending *pd = &c->pend[e];
    param p = x->def->p;
    unsigned rank = x->def->rank;
    *stored = 1;
    if ((pd->conflict & (1u << p)) != 0) {
        if (rank > pd->rank[p]) {
            c->info->n_superseded++; /* a preferred method is in conflict: not this one either */
            return VIGIL_OK;
        }
        if (rank == pd->rank[p]) {
            *stored = 0;
            return conflict(c, x, e, v, a);
        }
        pd->conflict &= ~(1u << p); /* a preferred method's value: kept */
    }
    if ((pd->set & (1u << p)) != 0) {
        if (rank > pd->rank[p]) {
            c->info->n_superseded++; /* a preferred method's value is kept */
            return VIGIL_OK;
        }
        if (rank == pd->rank[p]) {
            if (same_value(p, pd, v, a)) {
                return VIGIL_OK; /* e.g. SpO2 sent under both LOINC codes, same value */
            }
            *stored = 0;
            return conflict(c, x, e, v, a);
        }
        c->info->n_superseded++; /* this one is preferred: it replaces the value kept */
    }
    pd->set |= 1u << p;
    pd->rank[p] = rank;
    pd->val[p] = v;
    pd->seq[p] = x->seq;
    pd->acvpu = p == P_ACVPU ? a : pd->acvpu;
    vigil_obs *o = &c->events[e].obs;
    if (p == P_ACVPU) {
        o->acvpu = a;
    } else if (p != P_FIO2 && p != P_O2FLOW) { /* the oxygen flag is set at the end */
        vigil_vital_set_number(o, vigil_vital_get(news2_of[p]), v);
    }
    return VIGIL_OK;
}

/* OBX-11 (table 0085). *refuse is set (with the fault) for a status the
 * profile does not accept; a retraction or an unknown status is an error. */
static vigil_status result_status(oru_ctx *c, const obx *x, int *refuse, int *corrected)
{
    vigil_hl7_view s;
    vigil_hl7_get(c->msg, x->i, 11, 1, 1, 0, &s);
    *refuse = 0;
    *corrected = 0;
    if (vigil__hl7_blank(s)) {
        *refuse = 1;
        return obx_fail(c, x, VIGIL_ERR_PARSE, VIGIL_HL7_E_REQUIRED_MISSING,
                        VIGIL_HL7_R_MISSING_FIELD, 11, 0, "OBX-11 result status is empty");
    }
    char st = s.n == 1 ? s.p[0] : '?';
    if (st == 'W' || st == 'D') {
        /* REQ HL7-ORU-STATUS: a retraction needs a person in vigil, not a silent delete */
        return obx_fail(c, x, VIGIL_ERR_CONFLICT, VIGIL_HL7_E_INTERNAL, VIGIL_HL7_R_RETRACTION, 11,
                        0,
                        "OBX-11 result status %c (retract) is not taken over HL7: correct the "
                        "record in vigil",
                        st);
    }
    if (strchr("CFINOPRSUX", st) == NULL) {
        *refuse = 1;
        return obx_fail(c, x, VIGIL_ERR_PARSE, VIGIL_HL7_E_TABLE_VALUE, VIGIL_HL7_R_BAD_CODE, 11, 0,
                        "OBX-11 result status '%.*s' is not in HL7 table 0085",
                        (int)(s.n > 4 ? 4 : s.n), s.p);
    }
    if ((c->profile->statuses & (1u << (st - 'A'))) == 0) {
        /* REQ HL7-PROFILE-STATUS: e.g. P (preliminary) or X (no result) */
        c->info->n_not_final++;
        *refuse = 1;
        return obx_fail(c, x, VIGIL_ERR_PARSE, VIGIL_HL7_E_TABLE_VALUE, VIGIL_HL7_R_STATUS, 11, 0,
                        "OBX-11 result status %c is not accepted from this sender (profile %s)", st,
                        c->profile->name);
    }
    *corrected = st == 'C';
    return VIGIL_OK;
}

/* OBX-8 (abnormal flags, any repetition) marking demo or test data. REQ HL7-PROFILE-DEMO */
static vigil_status demo_check(oru_ctx *c, const obx *x)
{
    if (c->profile->n_demo == 0) {
        return VIGIL_OK;
    }
    unsigned n = vigil_hl7_reps(c->msg, x->i, 8);
    for (unsigned r = 1; r <= n; r++) {
        vigil_hl7_view f;
        vigil_hl7_get(c->msg, x->i, 8, r, 1, 0, &f);
        for (size_t k = 0; k < c->profile->n_demo; k++) {
            const char *d = c->profile->demo[k];
            if (f.n == strlen(d) && f.n > 0) {
                char buf[16];
                memcpy(buf, f.p, f.n);
                buf[f.n] = '\0';
                if (vigil_str_ieq(buf, d)) {
                    return obx_fail(c, x, VIGIL_ERR_PARSE, VIGIL_HL7_E_TABLE_VALUE,
                                    VIGIL_HL7_R_DEMO, 8, 1,
                                    "OBX-8 '%s' marks demo or test data: never stored as real", d);
                }
            }
        }
    }
    return VIGIL_OK;
}

/* Move the fault just written into the message's warnings: this result is
 * refused, the rest of the message is still read. REQ HL7-ORU-PER-RESULT */
static vigil_status refuse_result(oru_ctx *c)
{
    vigil_hl7_oru_info *in = c->info;
    in->n_refused++;
    if (in->n_warnings < VIGIL_HL7_MAX_WARNINGS) {
        in->warnings[in->n_warnings] = *c->fault;
        in->warnings[in->n_warnings].ack = VIGIL_HL7_AA;
        in->n_warnings++;
    }
    vigil_hl7_fault_clear(c->fault);
    return VIGIL_OK;
}

static vigil_status do_obx(oru_ctx *c, size_t i)
{
    obx x;
    memset(&x, 0, sizeof x);
    x.i = i;
    x.seq = vigil__hl7_seq(c->msg, i);
    c->info->n_obx++;
    if (!c->have_obr) {
        return vigil__hl7_fail(c->fault, VIGIL_ERR_PARSE, VIGIL_HL7_AE,
                               VIGIL_HL7_E_SEGMENT_SEQUENCE, VIGIL_HL7_R_MISSING_SEGMENT, "OBX",
                               x.seq, 0, 0, 0, "OBX #%u comes before any OBR", x.seq);
    }
    x.def = lookup_code(c, &x);
    if (x.def == NULL) {
        c->info->n_unknown++; /* REQ HL7-ORU-UNKNOWN: ignored and counted */
        return VIGIL_OK;
    }
    if (x.def->p == P_UNUSED) {
        c->info->n_unused++;
        return VIGIL_OK;
    }
    int refuse = 0, corrected = 0;
    vigil_status st = result_status(c, &x, &refuse, &corrected);
    if (st != VIGIL_OK) {
        return refuse ? refuse_result(c) : st;
    }
    if (demo_check(c, &x) != VIGIL_OK) {
        return refuse_result(c);
    }
    double v = NAN;
    vigil_acvpu a = VIGIL_ACVPU_UNKNOWN;
    st = x.def->p == P_ACVPU ? read_acvpu(c, &x, &a) : read_numeric(c, &x, &v);
    if (st != VIGIL_OK) {
        return refuse_result(c); /* units, value, bounds: this result only */
    }
    int has_t = 0;
    int64_t t = 0;
    st = vigil__hl7_ts_field(c->msg, i, 14, VIGIL_HL7_PREC_MINUTE, c->opts, &has_t, &t, c->fault);
    if (st != VIGIL_OK) {
        return st;
    }
    if (!has_t) {
        if (!c->obr_has_time) {
            return obx_fail(c, &x, VIGIL_ERR_PARSE, VIGIL_HL7_E_REQUIRED_MISSING,
                            VIGIL_HL7_R_MISSING_FIELD, 14, 0,
                            "no observation time in OBX-14 or OBR-7");
        }
        t = c->obr_t_ms;
    }
    size_t e = 0;
    st = event_for(c, &x, t, &e);
    if (st != VIGIL_OK) {
        return st;
    }
    int stored = 0;
    st = store_value(c, &x, e, v, a, &stored);
    if (st != VIGIL_OK || !stored) {
        return st;
    }
    st = recorded_by(c, &x, &c->events[e]);
    if (st != VIGIL_OK) {
        return st;
    }
    c->info->n_used++;
    c->info->corrected[e] = c->info->corrected[e] || corrected;
    return VIGIL_OK;
}

static vigil_status do_pid(oru_ctx *c, size_t i)
{
    vigil_status st = vigil__hl7_pid_ids(c->msg, i, c->profile, &c->pat, c->fault);
    if (st != VIGIL_OK) {
        return st;
    }
    c->have_pid = 1;
    c->have_obr = 0;
    c->have_dob = 0;
    /* PID-7: only to give NEWS2 the age (under-16 flag); the date itself is not kept */
    vigil_hl7_view v;
    vigil_hl7_get(c->msg, i, 7, 1, 1, 0, &v);
    if (vigil__hl7_blank(v) || vigil__hl7_placeholder_dtm(v)) {
        return VIGIL_OK; /* REQ HL7-PLACEHOLDER-DATE: 00000000 leaves the age unknown */
    }
    size_t nd = 0;
    while (nd < v.n && v.p[nd] >= '0' && v.p[nd] <= '9') {
        nd++;
    }
    /* REQ HL7-PLACEHOLDER-DATE: a month or day of 00 (19910900) is a placeholder, not a
     * date: the age is unknown, as for a missing date of birth */
    if ((nd >= 6 && v.p[4] == '0' && v.p[5] == '0') ||
        (nd >= 8 && v.p[6] == '0' && v.p[7] == '0')) {
        return VIGIL_OK;
    }
    int64_t ms = 0;
    vigil_err e = {0};
    if (vigil_hl7_dtm_parse(v.p, v.n, VIGIL_HL7_PREC_YEAR, VIGIL_HL7_TZ_UTC, &ms, &e) != VIGIL_OK) {
        return vigil__hl7_fail(c->fault, VIGIL_ERR_PARSE, VIGIL_HL7_AE, VIGIL_HL7_E_DATA_TYPE,
                               VIGIL_HL7_R_BAD_TIMESTAMP, "PID", vigil__hl7_seq(c->msg, i), 7, 1, 1,
                               "PID-7 date of birth: %s", e.msg);
    }
    if (nd >= 8) { /* day precision; "1954" or "1954+0000" leave the age unknown */
        const char *p = v.p;
        c->dob_y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
        c->dob_m = (p[4] - '0') * 10 + (p[5] - '0');
        c->dob_d = (p[6] - '0') * 10 + (p[7] - '0');
        c->have_dob = 1;
    }
    return VIGIL_OK;
}

static vigil_status do_obr(oru_ctx *c, size_t i)
{
    if (!c->have_pid) {
        return vigil__hl7_fail(
            c->fault, VIGIL_ERR_PARSE, VIGIL_HL7_AE, VIGIL_HL7_E_SEGMENT_SEQUENCE,
            VIGIL_HL7_R_MISSING_SEGMENT, "OBR", vigil__hl7_seq(c->msg, i), 0, 0, 0,
            "OBR #%u has no PID before it: vigil needs the patient", vigil__hl7_seq(c->msg, i));
    }
    c->have_obr = 1;
    return vigil__hl7_ts_field(c->msg, i, 7, VIGIL_HL7_PREC_MINUTE, c->opts, &c->obr_has_time,
                               &c->obr_t_ms, c->fault);
}

/* REQ HL7-O2-FLAG: FiO2 > 21 % or flow > 0 L/min is oxygen; 21 % or 0 L/min
 * is air (the thresholds: the table's o2_air_max). */
static void finish_o2(oru_ctx *c)
{
    const param o2_params[] = {P_FIO2, P_O2FLOW};
    for (size_t k = 0; k < c->n; k++) {
        const pending *pd = &c->pend[k];
        int oxygen = 0, air = 0;
        for (size_t i = 0; i < sizeof o2_params / sizeof o2_params[0]; i++) {
            param p = o2_params[i];
            if (pd->set & (1u << p)) {
                oxygen |= pd->val[p] > o2_code_of(p)->o2_air_max;
                air |= pd->val[p] <= o2_code_of(p)->o2_air_max;
            }
        }
        c->events[k].obs.o2 = oxygen ? VIGIL_O2_OXYGEN : air ? VIGIL_O2_AIR : VIGIL_O2_UNKNOWN;
    }
}

/* A set whose only values were in conflict has nothing left to store: it is
 * dropped (its results are named in the warnings). REQ HL7-ORU-CONFLICT */
static void drop_emptied(oru_ctx *c)
{
    size_t w = 0;
    for (size_t k = 0; k < c->n; k++) {
        if (c->pend[k].set == 0 && c->pend[k].conflict != 0) {
            continue;
        }
        if (w != k) {
            c->events[w] = c->events[k];
            c->pend[w] = c->pend[k];
            c->info->corrected[w] = c->info->corrected[k];
        }
        w++;
    }
    for (size_t k = w; k < c->n; k++) {
        c->info->corrected[k] = false;
    }
    c->n = w;
}

/* What the sender is told when the message is accepted with nothing to store,
 * or refused because every vital sign in it was. REQ HL7-ORU-NOTHING-STORED */
static vigil_status finish_empty(oru_ctx *c)
{
    vigil_hl7_oru_info *in = c->info;
    if (in->n_refused + in->n_conflicting > 0) {
        vigil_hl7_fault first = in->warnings[0];
        return vigil__hl7_fail(
            c->fault, first.status != VIGIL_OK ? first.status : VIGIL_ERR_PARSE, VIGIL_HL7_AE,
            first.code, first.reason, first.loc.seg[0] != '\0' ? first.loc.seg : NULL,
            first.loc.seq, first.loc.field, first.loc.rep, first.loc.comp,
            "no vital sign stored: %zu result(s) refused; %s",
            in->n_refused + in->n_conflicting, first.text);
    }
    if (in->n_obx == 0) {
        return vigil__hl7_fail(c->fault, VIGIL_ERR_PARSE, VIGIL_HL7_AE,
                               VIGIL_HL7_E_SEGMENT_SEQUENCE, VIGIL_HL7_R_MISSING_SEGMENT, "OBX", 0,
                               0, 0, 0, "ORU^R01 has no OBX: there is no result to store");
    }
    if (in->n_warnings < VIGIL_HL7_MAX_WARNINGS) { /* accepted: a note, ERR-4 I */
        vigil_hl7_fault *w = &in->warnings[in->n_warnings++];
        vigil__hl7_fail(w, VIGIL_OK, VIGIL_HL7_AA, VIGIL_HL7_E_ACCEPTED, VIGIL_HL7_R_NO_VITAL_SIGNS,
                        NULL, 0, 0, 0, 0,
                        "no result carries a vital sign vigil uses (%zu unknown, %zu not used by "
                        "NEWS2): nothing stored",
                        in->n_unknown, in->n_unused);
    }
    return VIGIL_OK;
}

vigil_status vigil_hl7_oru_extract(const vigil_hl7_msg *msg, const vigil_hl7_header *hdr,
                                   const vigil_hl7_opts *opts, vigil_obs_event *events, size_t cap,
                                   size_t *out_n, vigil_hl7_oru_info *info, vigil_hl7_fault *fault)
{
    vigil_hl7_fault_clear(fault);
    if (out_n != NULL) {
        *out_n = 0;
    }
    if (info != NULL) {
        memset(info, 0, sizeof *info);
    }
    if (msg == NULL || hdr == NULL || events == NULL || out_n == NULL) {
        return vigil__hl7_fail(fault, VIGIL_ERR_ARG, VIGIL_HL7_AR, VIGIL_HL7_E_INTERNAL,
                               VIGIL_HL7_R_INTERNAL, NULL, 0, 0, 0, 0, "missing argument");
    }
    vigil_hl7_opts o;
    if (opts == NULL) {
        vigil_hl7_opts_init(&o);
    } else {
        o = *opts;
    }
    oru_ctx c;
    memset(&c, 0, sizeof c);
    vigil_hl7_profile dflt;
    c.profile = vigil__hl7_profile_for(&o, hdr, &dflt);
    if (c.profile->has_tz) {
        o.local_tz = c.profile->local_tz; /* REQ HL7-PROFILE-TZ */
        o.zone = c.profile->zone;
    }
    c.msg = msg;
    c.hdr = hdr;
    c.opts = &o;
    c.events = events;
    c.cap = cap < VIGIL_HL7_MAX_EVENTS ? cap : VIGIL_HL7_MAX_EVENTS;
    c.info = info != NULL ? info : &c.own_info;
    c.fault = fault != NULL ? fault : &c.own_fault;
    vigil_hl7_fault_clear(c.fault);
    snprintf(c.info->profile, sizeof c.info->profile, "%s", c.profile->name);
    size_t n_obr = 0;
    vigil_status st = VIGIL_OK;
    for (size_t i = 1; i < msg->n_seg && st == VIGIL_OK; i++) {
        vigil_hl7_view id = vigil_hl7_seg_id(msg, i);
        if (vigil__hl7_eq(id, "PID")) {
            st = do_pid(&c, i);
        } else if (vigil__hl7_eq(id, "OBR")) {
            n_obr++;
            st = do_obr(&c, i);
        } else if (vigil__hl7_eq(id, "OBX")) {
            st = do_obx(&c, i);
        }
    }
    if (st == VIGIL_OK && !c.have_pid) {
        st = vigil__hl7_fail(c.fault, VIGIL_ERR_PARSE, VIGIL_HL7_AE, VIGIL_HL7_E_SEGMENT_SEQUENCE,
                             VIGIL_HL7_R_MISSING_SEGMENT, "PID", 0, 0, 0, 0,
                             "ORU^R01 has no PID segment: vigil needs the patient");
    }
    if (st == VIGIL_OK && n_obr == 0) {
        st = vigil__hl7_fail(c.fault, VIGIL_ERR_PARSE, VIGIL_HL7_AE, VIGIL_HL7_E_SEGMENT_SEQUENCE,
                             VIGIL_HL7_R_MISSING_SEGMENT, "OBR", 0, 0, 0, 0,
                             "ORU^R01 has no OBR segment");
    }
    if (st == VIGIL_OK) {
        drop_emptied(&c);
        finish_o2(&c);
        for (size_t k = 0; k < c.n && st == VIGIL_OK; k++) {
            vigil_err e = {0};
            if (vigil_news2_validate(&c.events[k].obs, &e) != VIGIL_OK) {
                st = vigil__hl7_fail(c.fault, VIGIL_ERR_INTERNAL, VIGIL_HL7_AE,
                                     VIGIL_HL7_E_INTERNAL, VIGIL_HL7_R_INTERNAL, NULL, 0, 0, 0, 0,
                                     "observation set %zu failed validation: %s", k + 1, e.msg);
            }
        }
    }
    if (st == VIGIL_OK && c.n == 0) {
        st = finish_empty(&c);
    }
    if (st != VIGIL_OK) {
        memset(c.info->corrected, 0, sizeof c.info->corrected);
        return st;
    }
    *out_n = c.n;
    return VIGIL_OK;
}
