/*
 * pn2012.c: PhysioNet/CinC Challenge 2012 stay files: CSV in long format,
 * header "Time,Parameter,Value", Time "HH:MM" since ICU admission (the hour
 * may exceed 24), general descriptors (RecordID, Age, Gender, Height,
 * ICUType, Weight) at 00:00, -1 meaning unknown. Spec:
 * ../shared/data/README.md section 2; Silva et al., CinC 2012;39:245-248.
 *
 * Does: demand the exact header (REQ DATA-2012-HEADER); check field count,
 * time, parameter name and number of every row, dropping a malformed row
 * with an issue naming file and line (REQ DATA-ROW-ERRORS); read -1 as
 * unknown and count it (REQ DATA-2012-UNKNOWN); map invasive and
 * non-invasive blood pressure to the same variables (SysABP and NISysABP
 * -> sbp, ...); check values against vigil/vars.h; attach the stay's
 * outcomes row. The first Weight line at 00:00 is the admission weight
 * descriptor (stay.weight_kg); later Weight lines are measurements.
 * Does not: sort (records come out in file order; the timeline sorts) or
 * substitute SaO2 for SpO2 (2012 has no pulse oximetry).
 */
#include "data_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/util.h"

const char vigil__pn2012_header[] = "Time,Parameter,Value";

typedef enum pkind { P_MEAS = 0, P_RECORDID, P_AGE, P_GENDER, P_HEIGHT, P_ICUTYPE, P_WEIGHT } pkind;

typedef struct param {
    const char *name;
    pkind kind;
    vigil_var var;
} param;

/* Every parameter of the challenge (README, "Parameters"). */
static const param params[] = {
    {"HR", P_MEAS, VIGIL_VAR_HR},
    {"NISysABP", P_MEAS, VIGIL_VAR_SBP},
    {"NIDiasABP", P_MEAS, VIGIL_VAR_DBP},
    {"NIMAP", P_MEAS, VIGIL_VAR_MAP},
    {"SysABP", P_MEAS, VIGIL_VAR_SBP},
    {"DiasABP", P_MEAS, VIGIL_VAR_DBP},
    {"MAP", P_MEAS, VIGIL_VAR_MAP},
    {"Urine", P_MEAS, VIGIL_VAR_URINE},
    {"Weight", P_WEIGHT, VIGIL_VAR_WEIGHT},
    {"GCS", P_MEAS, VIGIL_VAR_GCS},
    {"Temp", P_MEAS, VIGIL_VAR_TEMP},
    {"RespRate", P_MEAS, VIGIL_VAR_RESP},
    {"FiO2", P_MEAS, VIGIL_VAR_FIO2},
    {"MechVent", P_MEAS, VIGIL_VAR_MECHVENT},
    {"pH", P_MEAS, VIGIL_VAR_PH},
    {"PaCO2", P_MEAS, VIGIL_VAR_PACO2},
    {"PaO2", P_MEAS, VIGIL_VAR_PAO2},
    {"HCT", P_MEAS, VIGIL_VAR_HCT},
    {"K", P_MEAS, VIGIL_VAR_POTASSIUM},
    {"Creatinine", P_MEAS, VIGIL_VAR_CREATININE},
    {"Platelets", P_MEAS, VIGIL_VAR_PLATELETS},
    {"BUN", P_MEAS, VIGIL_VAR_BUN},
    {"Mg", P_MEAS, VIGIL_VAR_MAGNESIUM},
    {"HCO3", P_MEAS, VIGIL_VAR_HCO3},
    {"Na", P_MEAS, VIGIL_VAR_SODIUM},
    {"Glucose", P_MEAS, VIGIL_VAR_GLUCOSE},
    {"WBC", P_MEAS, VIGIL_VAR_WBC},
    {"Lactate", P_MEAS, VIGIL_VAR_LACTATE},
    {"SaO2", P_MEAS, VIGIL_VAR_SAO2},
    {"Bilirubin", P_MEAS, VIGIL_VAR_BILI_TOTAL},
    {"AST", P_MEAS, VIGIL_VAR_AST},
    {"ALT", P_MEAS, VIGIL_VAR_ALT},
    {"ALP", P_MEAS, VIGIL_VAR_ALP},
    {"Albumin", P_MEAS, VIGIL_VAR_ALBUMIN},
    {"TroponinT", P_MEAS, VIGIL_VAR_TROPONIN_T},
    {"TroponinI", P_MEAS, VIGIL_VAR_TROPONIN_I},
    {"Cholesterol", P_MEAS, VIGIL_VAR_CHOLESTEROL},
    {"RecordID", P_RECORDID, VIGIL_VAR_COUNT},
    {"Age", P_AGE, VIGIL_VAR_AGE},
    {"Gender", P_GENDER, VIGIL_VAR_COUNT},
    {"Height", P_HEIGHT, VIGIL_VAR_HEIGHT},
    {"ICUType", P_ICUTYPE, VIGIL_VAR_COUNT},
};

#define N_PARAMS (sizeof params / sizeof params[0])

/* Most frequent first, so the linear search is short on average. */
static const param *find_param(const char *s)
{
    for (size_t i = 0; i < N_PARAMS; i++) {
        if (params[i].name[0] == s[0] && strcmp(params[i].name, s) == 0) {
            return &params[i];
        }
    }
    return NULL;
}

/* "HH:MM" (one or more hour digits, two minute digits, minutes < 60). */
static bool parse_time(const char *s, double *out_h, bool *out_zero)
{
    long h = 0;
    int nd = 0;
    while (isdigit((unsigned char)*s)) {
        if (nd++ >= 5) {
            return false;
        }
        h = h * 10 + (*s++ - '0');
    }
    if (nd == 0 || *s++ != ':') {
        return false;
    }
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != '\0') {
        return false;
    }
    int m = (s[0] - '0') * 10 + (s[1] - '0');
    if (m >= 60) {
        return false;
    }
    *out_h = (double)h + (double)m / 60.0;
    *out_zero = h == 0 && m == 0;
    return true;
}

typedef struct file_ctx {
    const char *name;
    long line;
    bool seen[P_WEIGHT + 1]; /* descriptor already read */
    bool have_recordid;
    long recordid;
} file_ctx;

/* A descriptor row (always kept; problems are reported). */
static void do_descriptor(vigil_data *d, file_ctx *fc, const param *p, double v, bool at_zero,
                          const char *text)
{
    vigil_stay *s = &d->stay;
    if (fc->seen[p->kind]) {
        vigil__data_issue(d, VIGIL_DATA_BAD_DESCRIPTOR, fc->name, fc->line,
                          "%s given again (first kept)", p->name);
        return;
    }
    fc->seen[p->kind] = true;
    if (!at_zero) {
        vigil__data_issue(d, VIGIL_DATA_BAD_DESCRIPTOR, fc->name, fc->line,
                          "%s not at 00:00 (used)", p->name);
    }
    if (v == -1.0 && p->kind != P_RECORDID) {
        d->sum.n_unknown_marker++; /* REQ DATA-2012-UNKNOWN */
        return;
    }
    vigil_var_verdict verdict;
    double x = v;
    switch (p->kind) {
    case P_RECORDID:
        if (v < 1.0 || v != floor(v) || v > 1e12) {
            vigil__data_issue(d, VIGIL_DATA_BAD_DESCRIPTOR, fc->name, fc->line,
                              "RecordID '%.40s' is not a positive whole number", text);
            return;
        }
        fc->have_recordid = true;
        fc->recordid = (long)v;
        break;
    case P_AGE:
    case P_HEIGHT:
        if (vigil_var_check(p->var, v, &x, &verdict, NULL) != VIGIL_OK) {
            vigil__data_implausible(d, fc->name, fc->line, p->var, v, verdict);
        } else if (p->kind == P_AGE) {
            s->age_y = x;
        } else {
            s->height_cm = x;
        }
        break;
    case P_GENDER:
        if (v == 0.0 || v == 1.0) {
            s->sex = v == 1.0 ? VIGIL_SEX_MALE : VIGIL_SEX_FEMALE;
        } else {
            vigil__data_issue(d, VIGIL_DATA_BAD_DESCRIPTOR, fc->name, fc->line,
                              "Gender %g is not 0, 1 or -1", v);
        }
        break;
    case P_ICUTYPE: {
        static const unsigned icu[5] = {0, VIGIL_ICU_CORONARY, VIGIL_ICU_CARDIAC_SURGERY,
                                        VIGIL_ICU_MEDICAL, VIGIL_ICU_SURGICAL};
        if (v >= 1.0 && v <= 4.0 && v == floor(v)) {
            s->icu_flags = icu[(int)v];
        } else {
            vigil__data_issue(d, VIGIL_DATA_BAD_DESCRIPTOR, fc->name, fc->line,
                              "ICUType %g is not 1-4", v);
        }
        break;
    }
    case P_WEIGHT:
        if (vigil_var_check(VIGIL_VAR_WEIGHT, v, &x, &verdict, NULL) != VIGIL_OK) {
            vigil__data_implausible(d, fc->name, fc->line, VIGIL_VAR_WEIGHT, v, verdict);
        } else {
            s->weight_kg = x;
        }
        break;
    case P_MEAS:
        break;
    }
}

/* One row. VIGIL_ERR_PARSE: dropped; VIGIL_ERR_NOMEM: failed. */
static vigil_status do_row(vigil_data *d, file_ctx *fc, char *line)
{
    char *f[4];
    size_t nf = 0;
    vigil_status st = vigil_csv_split(line, ',', f, 4, &nf);
    if (st != VIGIL_OK || nf != 3) {
        /* REQ DATA-ROW-ERRORS */
        if (st == VIGIL_ERR_PARSE) {
            vigil__data_issue(d, VIGIL_DATA_FIELD_COUNT, fc->name, fc->line,
                              "malformed CSV quoting");
        } else {
            vigil__data_issue(d, VIGIL_DATA_FIELD_COUNT, fc->name, fc->line,
                              "expected 3 fields, got %s", st == VIGIL_OK ? "fewer" : "more");
        }
        return VIGIL_ERR_PARSE;
    }
    double t = 0;
    bool at_zero = false;
    if (!parse_time(f[0], &t, &at_zero)) {
        vigil__data_issue(d, VIGIL_DATA_BAD_TIME, fc->name, fc->line, "time '%.40s' is not HH:MM",
                          f[0]);
        return VIGIL_ERR_PARSE;
    }
    const param *p = find_param(f[1]);
    if (p == NULL) {
        vigil__data_issue(d, VIGIL_DATA_UNKNOWN_PARAMETER, fc->name, fc->line,
                          "unknown parameter '%.40s'", f[1]);
        return VIGIL_ERR_PARSE;
    }
    double v = 0;
    if (!vigil__data_parse_num(f[2], &v)) {
        vigil__data_issue(d, VIGIL_DATA_BAD_NUMBER, fc->name, fc->line,
                          "%s: '%.40s' is not a number", p->name, f[2]);
        return VIGIL_ERR_PARSE;
    }
    vigil_stay *s = &d->stay;
    bool weight_descriptor = p->kind == P_WEIGHT && at_zero && !fc->seen[P_WEIGHT];
    if (p->kind != P_MEAS && (p->kind != P_WEIGHT || weight_descriptor)) {
        do_descriptor(d, fc, p, v, at_zero, f[2]);
        s->n_rows++;
        return VIGIL_OK;
    }
    s->n_rows++;
    if (isnan(s->first_t_h)) {
        s->first_t_h = t;
    }
    s->last_t_h = t;
    if (v == -1.0) {
        d->sum.n_unknown_marker++; /* REQ DATA-2012-UNKNOWN */
        return VIGIL_OK;
    }
    return vigil__data_add_meas(d, fc->name, fc->line, t, p->var, v) == VIGIL_OK ? VIGIL_OK
                                                                                 : VIGIL_ERR_NOMEM;
}

static bool all_digits(const char *s)
{
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!isdigit((unsigned char)*s)) {
            return false;
        }
    }
    return true;
}

/* After the rows: the stay's id, its file-name check and its outcomes. */
static void finish_stay(vigil_data *d, file_ctx *fc)
{
    vigil_stay *s = &d->stay;
    char stem[VIGIL_DATA_ID_MAX];
    vigil__data_file_stem(fc->name, stem, sizeof stem);
    if (!fc->have_recordid) {
        vigil__data_issue(d, VIGIL_DATA_BAD_DESCRIPTOR, fc->name, 0,
                          "no RecordID line; id taken from the file name");
        if (all_digits(stem)) {
            char *end = NULL;
            fc->recordid = strtol(stem, &end, 10);
            fc->have_recordid = true;
        }
    } else {
        snprintf(s->id, sizeof s->id, "%ld", fc->recordid);
        if (all_digits(stem) && strcmp(stem, s->id) != 0) {
            vigil__data_issue(d, VIGIL_DATA_ID_MISMATCH, fc->name, 0,
                              "RecordID %ld differs from the file name", fc->recordid);
        }
    }
    const vigil__outcome *o = fc->have_recordid ? vigil__outcomes_find(d, fc->recordid) : NULL;
    if (o == NULL) {
        vigil__data_issue(d, VIGIL_DATA_NO_OUTCOME, fc->name, 0, "no outcomes row for %s", s->id);
        return;
    }
    s->has_outcome = true;
    s->in_hospital_death = o->death;
    s->saps1 = o->saps1;
    s->sofa = o->sofa;
    s->los_days = o->los_days;
    s->survival_days = o->survival_days;
    if (o->death == 1) {
        d->sum.n_deaths++;
    }
}

vigil_status vigil__pn2012_parse(vigil_data *d, const char *name, char *data, size_t len,
                                 bool *out_emit, vigil_err *err)
{
    *out_emit = false;
    vigil__data_stay_reset(d, name, VIGIL_DATA_PN2012);
    char *cur = data, *end = data + len;
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
        cur += 3;
    }
    char *header = vigil__data_next_line(&cur, end);
    if (header == NULL || strcmp(header, vigil__pn2012_header) != 0) {
        /* REQ DATA-2012-HEADER */
        vigil__data_issue(d, VIGIL_DATA_BAD_HEADER, name, 1,
                          "header is not 'Time,Parameter,Value'; file skipped");
        return VIGIL_OK;
    }
    file_ctx fc = {.name = name, .line = 1};
    char *line;
    size_t n_seen = 0;
    while ((line = vigil__data_next_line(&cur, end)) != NULL) {
        fc.line++;
        if (line[0] == '\0' && cur >= end) {
            break; /* a blank last line */
        }
        n_seen++;
        d->sum.n_rows++;
        vigil_status st = do_row(d, &fc, line);
        if (st == VIGIL_ERR_NOMEM) {
            return vigil_err_set(err, st, "file", "out of memory reading %s", name);
        }
        if (st != VIGIL_OK) {
            d->sum.n_rows_dropped++;
        }
    }
    if (n_seen == 0) {
        vigil__data_issue(d, VIGIL_DATA_EMPTY_FILE, name, 0, "no rows after the header");
        return VIGIL_OK;
    }
    finish_stay(d, &fc);
    *out_emit = true;
    return VIGIL_OK;
}
