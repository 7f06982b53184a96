/*
 * explain.c: a model's exact TreeSHAP values turned into the few reasons a
 * nurse reads, one per clinical variable ("respiration rate 28 breaths/min")
 * and, for a vital sign, one for its course ("respiration rate over 24 h:
 * 11 to 28 breaths/min, up from 18 over 6 h"). A variable's contribution is the sum of its
 * features' SHAP values (exact: SHAP values are additive); words come from
 * the patient's own values and the variable table (vigil/vars.h), never
 * from the model. A variable with no value is never a reason: it is listed
 * apart as not yet available. vigil_feature_describe words one feature
 * (for tools). No I/O; no allocation.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vigil/features.h"
#include "vigil/model.h"
#include "vigil/vars.h"

/* The value of feature `name` in the vector, or NaN. */
static double value_of(const float *f, const char *name)
{
    size_t j;
    return vigil_features_find(name, &j) == VIGIL_OK ? (double)f[j] : NAN;
}

static void fmt_num(char *out, size_t cap, double v)
{
    if (isnan(v)) {
        snprintf(out, cap, "?");
    } else if (fabs(v) >= 100 || fabs(v - round(v)) < 1e-6) {
        snprintf(out, cap, "%.0f", v);
    } else if (fabs(v) >= 10) {
        snprintf(out, cap, "%.1f", v);
    } else {
        snprintf(out, cap, "%.2g", v);
    }
}

static const char *unit_sp(const vigil_var_info *vi)
{
    return vi->unit[0] != '\0' && strcmp(vi->unit, "fraction") != 0 && strcmp(vi->unit, "flag") != 0
               ? vi->unit
               : "";
}

static void describe_change(const vigil_var_info *vi, const float *f, double d, int hours,
                            char *out, size_t cap)
{
    char name[64];
    snprintf(name, sizeof name, "%s_last", vi->name);
    double last = value_of(f, name);
    char a[32], b[32];
    fmt_num(a, sizeof a, last - d);
    fmt_num(b, sizeof b, last);
    const char *dir = d > 0 ? "rising" : d < 0 ? "falling" : "unchanged";
    snprintf(out, cap, "%s %s, %s to %s %s over %d h", vi->label, dir, a, b, unit_sp(vi), hours);
}

static void describe_var(const vigil_feature_info *fi, double v, const float *f, char *out,
                         size_t cap)
{
    const vigil_var_info *vi = vigil_var_get((vigil_var)fi->var);
    char num[32];
    fmt_num(num, sizeof num, v);
    if (isnan(v) && fi->stat != VIGIL_FS_HSINCE && fi->stat != VIGIL_FS_D1 &&
        fi->stat != VIGIL_FS_D3 && fi->stat != VIGIL_FS_D6 && fi->stat != VIGIL_FS_DPREV) {
        /* a missing input can carry weight too: say so, never print "?" */
        snprintf(out, cap, "%s not measured", vi->label);
        return;
    }
    switch (fi->stat) {
    case VIGIL_FS_LAST:
        snprintf(out, cap, "%s %s %s", vi->label, num, unit_sp(vi));
        break;
    case VIGIL_FS_HSINCE:
        if (isnan(v)) {
            snprintf(out, cap, "%s never measured", vi->label);
        } else {
            snprintf(out, cap, "%s last measured %s h ago", vi->label, num);
        }
        break;
    case VIGIL_FS_MISS:
        snprintf(out, cap, "%s %s", vi->label, v > 0.5 ? "not measured yet" : "measured");
        break;
    case VIGIL_FS_D1:
    case VIGIL_FS_D3:
    case VIGIL_FS_D6:
        if (isnan(v)) {
            snprintf(out, cap, "%s: no earlier value to compare", vi->label);
        } else {
            int h = fi->stat == VIGIL_FS_D1 ? 1 : fi->stat == VIGIL_FS_D3 ? 3 : 6;
            describe_change(vi, f, v, h, out, cap);
        }
        break;
    case VIGIL_FS_SLOPE6:
    case VIGIL_FS_SLOPE12:
        snprintf(out, cap, "%s %s over %d h (%s %s per hour)", vi->label,
                 isnan(v) ? "trend unknown"
                 : v > 0  ? "trending up"
                          : "trending down",
                 fi->stat == VIGIL_FS_SLOPE6 ? 6 : 12, num, unit_sp(vi));
        break;
    case VIGIL_FS_MIN6:
    case VIGIL_FS_MIN24:
        snprintf(out, cap, "lowest %s in %d h: %s %s", vi->label,
                 fi->stat == VIGIL_FS_MIN6 ? 6 : 24, num, unit_sp(vi));
        break;
    case VIGIL_FS_MAX6:
    case VIGIL_FS_MAX24:
        snprintf(out, cap, "highest %s in %d h: %s %s", vi->label,
                 fi->stat == VIGIL_FS_MAX6 ? 6 : 24, num, unit_sp(vi));
        break;
    case VIGIL_FS_MEAN6:
    case VIGIL_FS_MEAN24:
        snprintf(out, cap, "average %s over %d h: %s %s", vi->label,
                 fi->stat == VIGIL_FS_MEAN6 ? 6 : 24, num, unit_sp(vi));
        break;
    case VIGIL_FS_MINALL:
        snprintf(out, cap, "lowest %s so far: %s %s", vi->label, num, unit_sp(vi));
        break;
    case VIGIL_FS_MAXALL:
        snprintf(out, cap, "highest %s so far: %s %s", vi->label, num, unit_sp(vi));
        break;
    case VIGIL_FS_N24:
        snprintf(out, cap, "%s measured %s times in 24 h", vi->label, num);
        break;
    case VIGIL_FS_ABOVE:
    case VIGIL_FS_BELOW:
        snprintf(out, cap, "%s %s %s %s normal", vi->label, num, unit_sp(vi),
                 fi->stat == VIGIL_FS_ABOVE ? "above" : "below");
        break;
    case VIGIL_FS_ABOVE6:
    case VIGIL_FS_ABOVE24:
    case VIGIL_FS_BELOW6:
    case VIGIL_FS_BELOW24:
        snprintf(out, cap, "%s up to %s %s %s normal in %d h", vi->label, num, unit_sp(vi),
                 fi->stat == VIGIL_FS_ABOVE6 || fi->stat == VIGIL_FS_ABOVE24 ? "above" : "below",
                 fi->stat == VIGIL_FS_ABOVE6 || fi->stat == VIGIL_FS_BELOW6 ? 6 : 24);
        break;
    case VIGIL_FS_DPREV: {
        char name[64];
        snprintf(name, sizeof name, "%s_last", vi->name);
        double last = value_of(f, name);
        char a[32], b[32];
        fmt_num(a, sizeof a, last - v);
        fmt_num(b, sizeof b, last);
        if (isnan(last)) {
            snprintf(out, cap, "%s never measured", vi->label);
        } else if (isnan(v)) {
            snprintf(out, cap, "%s: one result so far", vi->label);
        } else {
            snprintf(out, cap, "%s %s since the previous result, %s to %s %s", vi->label,
                     v > 0   ? "up"
                     : v < 0 ? "down"
                             : "unchanged",
                     a, b, unit_sp(vi));
        }
        break;
    }
    default:
        snprintf(out, cap, "%s %s", vi->label, num);
        break;
    }
    /* trim a trailing space left by an empty unit */
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == ' ') {
        out[--n] = '\0';
    }
}

static const struct {
    const char *name;
    const char *words;
} others[] = {
    {"shock_index", "shock index (heart rate / systolic BP)"},
    {"pulse_pressure", "pulse pressure (mmHg)"},
    {"spo2_fio2", "SpO2/FiO2 ratio"},
    {"pao2_fio2", "PaO2/FiO2 ratio"},
    {"bun_creatinine", "urea/creatinine ratio"},
    {"news2_total", "NEWS2 from the observations available"},
    {"news2_rr", "NEWS2 respiration points"},
    {"news2_spo2", "NEWS2 SpO2 points"},
    {"news2_o2", "NEWS2 oxygen points"},
    {"news2_sbp", "NEWS2 blood pressure points"},
    {"news2_hr", "NEWS2 pulse points"},
    {"news2_acvpu", "NEWS2 consciousness points"},
    {"news2_temp", "NEWS2 temperature points"},
    {"news2_n_missing", "NEWS2 parameters not recorded"},
    {"news2_complete", "NEWS2 set complete (1 yes)"},
    {"news2_max24", "highest NEWS2 in 24 h"},
    {"age", "age (years)"},
    {"hours_since_admit", "hours since admission"},
    {"hours_since_first_record", "hours since the first observation"},
};

void vigil_feature_describe(size_t j, const float *features, char *out, size_t cap)
{
    const vigil_feature_info *fi = vigil_features_info(j);
    if (fi == NULL) {
        snprintf(out, cap, "?");
        return;
    }
    double v = (double)features[j];
    if (fi->var >= 0) {
        describe_var(fi, v, features, out, cap);
        return;
    }
    char num[32];
    fmt_num(num, sizeof num, v);
    if (strcmp(fi->name, "sex") == 0) {
        snprintf(out, cap, "sex %s", isnan(v) ? "unknown" : v > 0.5 ? "male" : "female");
        return;
    }
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        if (strcmp(others[i].name, fi->name) == 0) {
            if (isnan(v)) {
                snprintf(out, cap, "%s: no value yet", others[i].words);
            } else {
                snprintf(out, cap, "%s %s", others[i].words, num);
            }
            return;
        }
    }
    snprintf(out, cap, "%s %s", fi->name, num);
}


/* ------------------------------------------------ explanation groups */

static const struct {
    const char *name;
    size_t group;
} multi[] = {
    {"shock_index", VIGIL_XG_SHOCK},
    {"mshock_index", VIGIL_XG_SHOCK},
    {"age_shock_index", VIGIL_XG_SHOCK},
    {"pulse_pressure", VIGIL_XG_PULSE_PRESSURE},
    {"spo2_fio2", VIGIL_VAR_FIO2},
    {"pao2_fio2", VIGIL_VAR_PAO2},
    {"bun_creatinine", VIGIL_XG_UREA_CREAT},
    {"news2_rr", VIGIL_VAR_RESP},
    {"news2_spo2", VIGIL_VAR_SPO2},
    {"news2_o2", VIGIL_VAR_FIO2},
    {"news2_sbp", VIGIL_VAR_SBP},
    {"news2_hr", VIGIL_VAR_HR},
    {"news2_acvpu", VIGIL_VAR_ACVPU},
    {"news2_temp", VIGIL_VAR_TEMP},
    {"age", VIGIL_VAR_AGE},
    {"sex", VIGIL_XG_SEX},
    {"hours_since_admit", VIGIL_XG_TIME},
    {"hours_since_first_record", VIGIL_XG_TIME},
};

/* The vitals with a course group, in VIGIL_XG_COURSE + k order. */
static const vigil_var course_vars[VIGIL_XG_COUNT - VIGIL_XG_COURSE] = {
    VIGIL_VAR_HR,  VIGIL_VAR_SPO2, VIGIL_VAR_TEMP, VIGIL_VAR_SBP,
    VIGIL_VAR_MAP, VIGIL_VAR_DBP,  VIGIL_VAR_RESP, VIGIL_VAR_ETCO2,
};
#define N_COURSE (sizeof course_vars / sizeof course_vars[0])

size_t vigil_explain_course_group(vigil_var v)
{
    for (size_t k = 0; k < N_COURSE; k++) {
        if (course_vars[k] == v) {
            return VIGIL_XG_COURSE + k;
        }
    }
    return VIGIL_XG_COUNT;
}

int vigil_explain_group_var(size_t g)
{
    if (g < VIGIL_VAR_COUNT) {
        return (int)g;
    }
    if (g >= VIGIL_XG_COURSE && g < VIGIL_XG_COUNT) {
        return (int)course_vars[g - VIGIL_XG_COURSE];
    }
    return -1;
}

/* A vital's statistics that describe its course over hours rather than its
 * level now (docs/model.md, section 15). */
static bool course_stat(vigil_feature_stat st)
{
    switch (st) {
    case VIGIL_FS_D1:
    case VIGIL_FS_D3:
    case VIGIL_FS_D6:
    case VIGIL_FS_D12:
    case VIGIL_FS_D24:
    case VIGIL_FS_SLOPE6:
    case VIGIL_FS_SLOPE12:
    case VIGIL_FS_SD6:
    case VIGIL_FS_SD24:
    case VIGIL_FS_DEVBASE:
    case VIGIL_FS_MEAN6:
    case VIGIL_FS_MEAN24:
    case VIGIL_FS_ABN6:
    case VIGIL_FS_ABN24:
        return true;
    default:
        return false;
    }
}

size_t vigil_explain_group(size_t j)
{
    const vigil_feature_info *fi = vigil_features_info(j);
    if (fi == NULL) {
        return VIGIL_XG_COUNT;
    }
    if (fi->var >= 0) {
        size_t course = vigil_explain_course_group((vigil_var)fi->var);
        return course < VIGIL_XG_COUNT && course_stat(fi->stat) ? course : (size_t)fi->var;
    }
    for (size_t i = 0; i < sizeof multi / sizeof multi[0]; i++) {
        if (strcmp(multi[i].name, fi->name) == 0) {
            return multi[i].group;
        }
    }
    /* news2_total, news2_max24, news2_phys*, news2_n_missing, news2_complete */
    return strncmp(fi->name, "news2_", 6) == 0 ? (size_t)VIGIL_XG_NEWS2 : (size_t)VIGIL_XG_COUNT;
}

/* REQ EXPLAIN-UK-UNITS: labs are worded in the units UK laboratories report
 * (SI), converted from the model's canonical unit (vigil/vars.h, unchanged)
 * by the factors of the AMA Manual of Style SI conversion table (Young DS,
 * "Implementation of SI units for clinical laboratory data", Ann Intern Med
 * 1987;106:114-29): value in the display unit = canonical value x factor.
 * Urea: the US report urea nitrogen (BUN) in mg/dL, the UK urea in mmol/L;
 * one urea molecule carries two nitrogen atoms, so 1 mg/dL BUN = 10 mg/L /
 * 28.0 g/mol of N2 = 0.357 mmol/L urea. Variables not listed (lactate,
 * potassium, sodium: mmol/L already; calcium, mixed in the data) keep their
 * canonical unit. */
static const struct {
    vigil_var var;
    const char *label;
    const char *unit;
    double factor;
    int decimals; /* as UK laboratories report it: creatinine 133, urea 10.0 */
} uk_lab_units[] = {
    {.var = VIGIL_VAR_CREATININE, .label = "creatinine", .unit = "umol/L", .factor = 88.4, .decimals = 0},
    {.var = VIGIL_VAR_BUN, .label = "urea", .unit = "mmol/L", .factor = 0.357, .decimals = 1},
    {.var = VIGIL_VAR_GLUCOSE, .label = "glucose", .unit = "mmol/L", .factor = 0.0555, .decimals = 1},
    {.var = VIGIL_VAR_BILI_TOTAL, .label = "total bilirubin", .unit = "umol/L", .factor = 17.1, .decimals = 0},
    {.var = VIGIL_VAR_BILI_DIRECT, .label = "direct bilirubin", .unit = "umol/L", .factor = 17.1, .decimals = 0},
    {.var = VIGIL_VAR_HGB, .label = "haemoglobin", .unit = "g/L", .factor = 10.0, .decimals = 0},
    {.var = VIGIL_VAR_WBC, .label = "white cell count", .unit = "x10^9/L", .factor = 1.0, .decimals = 1},
    {.var = VIGIL_VAR_PLATELETS, .label = "platelets", .unit = "x10^9/L", .factor = 1.0, .decimals = 0},
    {.var = VIGIL_VAR_ALBUMIN, .label = "albumin", .unit = "g/L", .factor = 10.0, .decimals = 0},
    {.var = VIGIL_VAR_MAGNESIUM, .label = "magnesium", .unit = "mmol/L", .factor = 0.4114, .decimals = 2},
    {.var = VIGIL_VAR_PHOSPHATE, .label = "phosphate", .unit = "mmol/L", .factor = 0.3229, .decimals = 2},
    {.var = VIGIL_VAR_CHOLESTEROL, .label = "cholesterol", .unit = "mmol/L", .factor = 0.02586, .decimals = 1},
    {.var = VIGIL_VAR_FIBRINOGEN, .label = "fibrinogen", .unit = "g/L", .factor = 0.01, .decimals = 1},
};

/* The UK display row of variable g, or NULL (shown in its canonical unit). */
static int uk_unit_row(size_t g)
{
    for (size_t i = 0; i < sizeof uk_lab_units / sizeof uk_lab_units[0]; i++) {
        if ((size_t)uk_lab_units[i].var == g) {
            return (int)i;
        }
    }
    return -1;
}

const char *vigil_explain_group_label(size_t g)
{
    static const char *const extra[] = {
        [VIGIL_XG_SHOCK - VIGIL_VAR_COUNT] = "shock index",
        [VIGIL_XG_PULSE_PRESSURE - VIGIL_VAR_COUNT] = "pulse pressure",
        [VIGIL_XG_NEWS2 - VIGIL_VAR_COUNT] = "NEWS2",
        [VIGIL_XG_UREA_CREAT - VIGIL_VAR_COUNT] = "urea/creatinine ratio",
        [VIGIL_XG_SEX - VIGIL_VAR_COUNT] = "sex",
        [VIGIL_XG_TIME - VIGIL_VAR_COUNT] = "time in the unit",
        [VIGIL_XG_COURSE + 0 - VIGIL_VAR_COUNT] = "heart rate over 24 h",
        [VIGIL_XG_COURSE + 1 - VIGIL_VAR_COUNT] = "oxygen saturation over 24 h",
        [VIGIL_XG_COURSE + 2 - VIGIL_VAR_COUNT] = "temperature over 24 h",
        [VIGIL_XG_COURSE + 3 - VIGIL_VAR_COUNT] = "systolic blood pressure over 24 h",
        [VIGIL_XG_COURSE + 4 - VIGIL_VAR_COUNT] = "mean arterial pressure over 24 h",
        [VIGIL_XG_COURSE + 5 - VIGIL_VAR_COUNT] = "diastolic blood pressure over 24 h",
        [VIGIL_XG_COURSE + 6 - VIGIL_VAR_COUNT] = "respiration rate over 24 h",
        [VIGIL_XG_COURSE + 7 - VIGIL_VAR_COUNT] = "end-tidal CO2 over 24 h",
    };
    _Static_assert(sizeof extra / sizeof extra[0] == VIGIL_XG_COUNT - VIGIL_VAR_COUNT,
                   "a label for every group");
    if (g < VIGIL_VAR_COUNT) {
        int uk = uk_unit_row(g);
        return uk >= 0 ? uk_lab_units[uk].label : vigil_var_get((vigil_var)g)->label;
    }
    return g < VIGIL_XG_COUNT ? extra[g - VIGIL_VAR_COUNT] : "?";
}

/* The feature a group's presence is judged by: a variable's latest value,
 * the first of a multi-variable group's own features. */
static double group_value(size_t g, const float *f)
{
    char name[64];
    switch (g) {
    case VIGIL_XG_SHOCK:
        return value_of(f, "shock_index");
    case VIGIL_XG_PULSE_PRESSURE:
        return value_of(f, "pulse_pressure");
    case VIGIL_XG_NEWS2: {
        double v = value_of(f, "news2_phys");
        return isnan(v) ? value_of(f, "news2_total") : v;
    }
    case VIGIL_XG_UREA_CREAT:
        return value_of(f, "bun_creatinine");
    case VIGIL_XG_SEX:
        return value_of(f, "sex");
    case VIGIL_XG_TIME:
        return value_of(f, "hours_since_first_record");
    case VIGIL_VAR_AGE:
        return value_of(f, "age");
    case VIGIL_VAR_ACVPU:
        return value_of(f, "news2_acvpu");
    default:
        if (g >= VIGIL_XG_COURSE && g < VIGIL_XG_COUNT) {
            /* a course needs two readings in 24 h: one reading has none */
            snprintf(name, sizeof name, "%s_sd24", vigil_var_name(course_vars[g - VIGIL_XG_COURSE]));
            return value_of(f, name);
        }
        snprintf(name, sizeof name, "%s_last", vigil_var_name((vigil_var)g));
        return value_of(f, name);
    }
}

void vigil_model_shap_by_group(const vigil_model *m, const float *features, const double *phi,
                               double *out_sum, unsigned char *out_state)
{
    /* REQ MODEL-SHAP-BY-VAR */
    vigil_model_info info;
    vigil_model_get_info(m, &info);
    for (size_t g = 0; g < VIGIL_XG_COUNT; g++) {
        out_sum[g] = 0.0;
        out_state[g] = VIGIL_XG_UNUSED;
    }
    for (size_t i = 0; i < info.n_inputs; i++) {
        size_t g = vigil_explain_group(vigil_model_input_feature(m, i));
        if (g < VIGIL_XG_COUNT) {
            out_sum[g] += phi[i];
            out_state[g] = VIGIL_XG_PRESENT;
        }
    }
    for (size_t g = 0; g < VIGIL_XG_COUNT; g++) {
        if (out_state[g] == VIGIL_XG_PRESENT && isnan(group_value(g, features))) {
            out_state[g] = VIGIL_XG_MISSING;
        }
    }
}

/* ", up from 18 over 6 h": the change over the shortest of 6, 12 and 24 h
 * that moved, from the patient's own values; empty when none did. */
static void change_words(const vigil_var_info *vi, const float *f, double last, char *out,
                         size_t cap)
{
    static const struct {
        const char *suffix;
        int hours;
    } horizons[] = {{"d6", 6}, {"d12", 12}, {"d24", 24}};
    out[0] = '\0';
    for (size_t k = 0; k < sizeof horizons / sizeof horizons[0]; k++) {
        char name[64];
        snprintf(name, sizeof name, "%s_%s", vi->name, horizons[k].suffix);
        double d = value_of(f, name);
        char a[32];
        fmt_num(a, sizeof a, last - d);
        char b[32];
        fmt_num(b, sizeof b, last);
        if (!isnan(d) && strcmp(a, b) != 0) {
            snprintf(out, cap, ", %s from %s over %d h", d > 0 ? "up" : "down", a,
                     horizons[k].hours);
            return;
        }
    }
}

/* "respiration rate over 24 h: 11 to 28 breaths/min, up from 18 over 6 h",
 * from the patient's own 24 h range and latest change. */
static void course_words(const vigil_var_info *vi, const float *f, char *out, size_t cap)
{
    char name[64], lo[32], hi[32], more[96];
    snprintf(name, sizeof name, "%s_min24", vi->name);
    fmt_num(lo, sizeof lo, value_of(f, name));
    snprintf(name, sizeof name, "%s_max24", vi->name);
    fmt_num(hi, sizeof hi, value_of(f, name));
    snprintf(name, sizeof name, "%s_last", vi->name);
    change_words(vi, f, value_of(f, name), more, sizeof more);
    const char *unit = unit_sp(vi);
    if (strcmp(lo, hi) == 0) {
        snprintf(out, cap, "%s over 24 h: steady at %s%s%s%s", vi->label, lo,
                 unit[0] != '\0' ? " " : "", unit, more);
    } else {
        snprintf(out, cap, "%s over 24 h: %s to %s%s%s%s", vi->label, lo, hi,
                 unit[0] != '\0' ? " " : "", unit, more);
    }
}

/* The urea:creatinine ratio as UK laboratories give it (urea mmol/L over
 * creatinine mmol/L) from the model's BUN/creatinine ratio in mg/dL. */
#define UK_UREA_CREAT_FACTOR (0.357 / (88.4 / 1000.0))

/* One reason in words, from the patient's values of group g. */
void vigil_explain_group_words(size_t g, const float *f, char *out, size_t cap)
{
    char num[32], more[96] = "";
    double v = group_value(g, f);
    fmt_num(num, sizeof num, v);
    if (g < VIGIL_VAR_COUNT && g != VIGIL_VAR_AGE && g != VIGIL_VAR_ACVPU) {
        const vigil_var_info *vi = vigil_var_get((vigil_var)g);
        const char *label = vi->label, *unit = unit_sp(vi);
        int uk = uk_unit_row(g);
        double scale = 1.0;
        if (uk >= 0) {
            label = uk_lab_units[uk].label;
            unit = uk_lab_units[uk].unit;
            scale = uk_lab_units[uk].factor;
            snprintf(num, sizeof num, "%.*f", uk_lab_units[uk].decimals, v * scale);
        }
        if (vi->kind == VIGIL_VAR_KIND_VITAL) {
            more[0] = '\0'; /* its changes are its course group's words */
        } else {
            char name[64];
            snprintf(name, sizeof name, "%s_dprev", vi->name);
            double d = value_of(f, name);
            char a[32];
            if (uk >= 0) {
                snprintf(a, sizeof a, "%.*f", uk_lab_units[uk].decimals, (v - d) * scale);
            } else {
                fmt_num(a, sizeof a, v - d);
            }
            if (isnan(d)) {
                snprintf(more, sizeof more, " (first result)");
            } else if (strcmp(a, num) == 0) {
                snprintf(more, sizeof more, ", unchanged since the previous result");
            } else {
                snprintf(more, sizeof more, ", %s from %s", d > 0 ? "up" : "down", a);
            }
        }
        snprintf(out, cap, "%s %s%s%s%s", label, num, unit[0] != '\0' ? " " : "", unit, more);
        return;
    }
    if (g >= VIGIL_XG_COURSE && g < VIGIL_XG_COUNT) {
        course_words(vigil_var_get(course_vars[g - VIGIL_XG_COURSE]), f, out, cap);
        return;
    }
    switch (g) {
    case VIGIL_VAR_AGE:
        snprintf(out, cap, "age %s", num);
        break;
    case VIGIL_VAR_ACVPU:
        snprintf(out, cap, "consciousness (NEWS2 points %s)", num);
        break;
    case VIGIL_XG_SHOCK: {
        char a[32], b[32];
        fmt_num(a, sizeof a, value_of(f, "hr_last"));
        fmt_num(b, sizeof b, value_of(f, "sbp_last"));
        snprintf(out, cap, "shock index %.2f (heart rate %s / systolic BP %s)", v, a, b);
        break;
    }
    case VIGIL_XG_PULSE_PRESSURE:
        snprintf(out, cap, "pulse pressure %s mmHg", num);
        break;
    case VIGIL_XG_NEWS2:
        if (!isnan(value_of(f, "news2_phys"))) {
            double d = value_of(f, "news2_phys_d6");
            char a[32];
            fmt_num(a, sizeof a, v - d);
            if (!isnan(d) && d != 0) {
                snprintf(more, sizeof more, ", %s from %s over 6 h", d > 0 ? "up" : "down", a);
            }
            snprintf(out, cap, "NEWS2 points from the vital signs %s%s", num, more);
        } else {
            snprintf(out, cap, "NEWS2 from the observations available %s", num);
        }
        break;
    case VIGIL_XG_UREA_CREAT:
        snprintf(num, sizeof num, "%.0f", v * UK_UREA_CREAT_FACTOR);
        snprintf(out, cap, "urea/creatinine ratio %s", num);
        break;
    case VIGIL_XG_SEX:
        snprintf(out, cap, "%s", v > 0.5 ? "male" : "female");
        break;
    case VIGIL_XG_TIME:
        snprintf(out, cap, "time since the first observation %s h", num);
        break;
    default:
        snprintf(out, cap, "%s %s", vigil_explain_group_label(g), num);
        break;
    }
}

/* Insert (group, c) into a list sorted by |c| descending, keeping k. */
static void keep_top(vigil_factor *list, size_t *n, size_t k, size_t input, double c)
{
    size_t pos = *n;
    while (pos > 0 && fabs(list[pos - 1].contribution) < fabs(c)) {
        pos--;
    }
    if (pos >= k) {
        return;
    }
    size_t end = *n < k ? *n : k - 1;
    memmove(&list[pos + 1], &list[pos], (end - pos) * sizeof *list);
    list[pos].input = input;
    list[pos].contribution = c;
    list[pos].text[0] = '\0';
    if (*n < k) {
        (*n)++;
    }
}

/* "not yet available: lactate, creatinine; the score may change when they
 * arrive" for the groups the model reads that have no value. */
static void missing_words(const unsigned char *state, char *out, size_t cap)
{
    size_t w = 0, n = 0;
    out[0] = '\0';
    for (size_t g = 0; g < VIGIL_XG_COUNT; g++) {
        if (state[g] != VIGIL_XG_MISSING || g >= VIGIL_VAR_COUNT) {
            continue; /* multi-variable groups follow from their variables */
        }
        int r = snprintf(out + w, cap - w, "%s%s", n == 0 ? "not yet available: " : ", ",
                         vigil_explain_group_label(g));
        if (r < 0 || (size_t)r >= cap - w) {
            out[w] = '\0';
            break;
        }
        w += (size_t)r;
        n++;
    }
    if (n > 0 && w < cap) {
        snprintf(out + w, cap - w, "; the score may change when %s",
                 n == 1 ? "it arrives" : "they arrive");
    }
}

void vigil_model_explain(const vigil_model *m, const float *features, const double *phi, size_t k,
                         vigil_factor *up, size_t *n_up, vigil_factor *down, size_t *n_down,
                         char *missing, size_t missing_cap)
{
    double sum[VIGIL_XG_COUNT];
    unsigned char state[VIGIL_XG_COUNT];
    vigil_model_shap_by_group(m, features, phi, sum, state);
    *n_up = 0;
    *n_down = 0;
    for (size_t g = 0; g < VIGIL_XG_COUNT; g++) {
        if (state[g] != VIGIL_XG_PRESENT) {
            continue; /* a missing input is never a reason */
        }
        if (sum[g] >= 0.01) {
            keep_top(up, n_up, k, g, sum[g]);
        } else if (sum[g] <= -0.01) {
            keep_top(down, n_down, k, g, sum[g]);
        }
    }
    for (size_t i = 0; i < *n_up; i++) {
        vigil_explain_group_words(up[i].input, features, up[i].text, sizeof up[i].text);
    }
    for (size_t i = 0; i < *n_down; i++) {
        vigil_explain_group_words(down[i].input, features, down[i].text, sizeof down[i].text);
    }
    if (missing != NULL && missing_cap > 0) {
        missing_words(state, missing, missing_cap);
    }
}
