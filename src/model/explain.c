/*
 * explain.c: a model's exact TreeSHAP values turned into the few factors a
 * nurse reads: "respiratory rate rising, 18 to 26 over 6 h". Words come
 * from the feature's statistic and variable (vigil/features.h,
 * vigil/vars.h) and the patient's own values, never from the model.
 * No I/O; no allocation.
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
    case VIGIL_FS_DPREV: {
        char name[64];
        snprintf(name, sizeof name, "%s_last", vi->name);
        double last = value_of(f, name);
        char a[32], b[32];
        fmt_num(a, sizeof a, last - v);
        fmt_num(b, sizeof b, last);
        if (isnan(v)) {
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
            snprintf(out, cap, "%s %s", others[i].words, isnan(v) ? "not available" : num);
            return;
        }
    }
    snprintf(out, cap, "%s %s", fi->name, num);
}

/* Insert (input, c) into a list sorted by |c| descending, keeping k. */
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

void vigil_model_explain(const vigil_model *m, const float *features, const double *phi, size_t k,
                         vigil_factor *up, size_t *n_up, vigil_factor *down, size_t *n_down)
{
    vigil_model_info info;
    vigil_model_get_info(m, &info);
    *n_up = 0;
    *n_down = 0;
    for (size_t i = 0; i < info.n_inputs; i++) {
        if (phi[i] >= 0.01) {
            keep_top(up, n_up, k, i, phi[i]);
        } else if (phi[i] <= -0.01) {
            keep_top(down, n_down, k, i, phi[i]);
        }
    }
    for (size_t i = 0; i < *n_up; i++) {
        vigil_feature_describe(vigil_model_input_feature(m, up[i].input), features, up[i].text,
                               sizeof up[i].text);
    }
    for (size_t i = 0; i < *n_down; i++) {
        vigil_feature_describe(vigil_model_input_feature(m, down[i].input), features, down[i].text,
                               sizeof down[i].text);
    }
}
