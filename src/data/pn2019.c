/*
 * pn2019.c: PhysioNet/CinC Challenge 2019 stay files (.psv): one header
 * line, then one pipe-separated row of 41 fields per ICU hour (ICULOS), NaN
 * for missing values. Spec: ../shared/data/README.md section 1; Reyna et al.,
 * Crit Care Med 2020;48(2):210-217.
 *
 * Does: demand the exact header (REQ DATA-2019-HEADER); check every row's
 * field count, numbers, ICULOS (a positive integer, strictly increasing) and
 * SepsisLabel (0 or 1), dropping a malformed row with an issue naming file
 * and line (REQ DATA-ROW-ERRORS); check each value against vigil/vars.h
 * (REQ VARS-PLAUSIBLE); emit measurements at t = ICULOS hours. Age 100 means
 * "90 or older" and is stored as 90 with age_90_plus (REQ DATA-2019-AGE).
 * Does not: impute, or treat NaN as anything but "not measured".
 * Invariant: the stay's descriptors come from its first accepted row; a
 * later row that disagrees is reported (bad_descriptor) and ignored.
 */
#include "data_int.h"

#include <math.h>
#include <string.h>

#include "vigil/util.h"

const char vigil__pn2019_header[] =
    "HR|O2Sat|Temp|SBP|MAP|DBP|Resp|EtCO2|BaseExcess|HCO3|FiO2|pH|PaCO2|SaO2|AST|BUN|"
    "Alkalinephos|Calcium|Chloride|Creatinine|Bilirubin_direct|Glucose|Lactate|Magnesium|"
    "Phosphate|Potassium|Bilirubin_total|TroponinI|Hct|Hgb|PTT|WBC|Fibrinogen|Platelets|Age|"
    "Gender|Unit1|Unit2|HospAdmTime|ICULOS|SepsisLabel";

#define N_FIELDS 41
#define N_MEAS_COLS 34
enum { COL_AGE = 34, COL_GENDER, COL_UNIT1, COL_UNIT2, COL_HOSPADM, COL_ICULOS, COL_LABEL };

/* Columns 1-34 in header order. */
static const vigil_var col_var[N_MEAS_COLS] = {
    VIGIL_VAR_HR,          VIGIL_VAR_SPO2,      VIGIL_VAR_TEMP,       VIGIL_VAR_SBP,
    VIGIL_VAR_MAP,         VIGIL_VAR_DBP,       VIGIL_VAR_RESP,       VIGIL_VAR_ETCO2,
    VIGIL_VAR_BASE_EXCESS, VIGIL_VAR_HCO3,      VIGIL_VAR_FIO2,       VIGIL_VAR_PH,
    VIGIL_VAR_PACO2,       VIGIL_VAR_SAO2,      VIGIL_VAR_AST,        VIGIL_VAR_BUN,
    VIGIL_VAR_ALP,         VIGIL_VAR_CALCIUM,   VIGIL_VAR_CHLORIDE,   VIGIL_VAR_CREATININE,
    VIGIL_VAR_BILI_DIRECT, VIGIL_VAR_GLUCOSE,   VIGIL_VAR_LACTATE,    VIGIL_VAR_MAGNESIUM,
    VIGIL_VAR_PHOSPHATE,   VIGIL_VAR_POTASSIUM, VIGIL_VAR_BILI_TOTAL, VIGIL_VAR_TROPONIN_I,
    VIGIL_VAR_HCT,         VIGIL_VAR_HGB,       VIGIL_VAR_PTT,        VIGIL_VAR_WBC,
    VIGIL_VAR_FIBRINOGEN,  VIGIL_VAR_PLATELETS,
};

static const char *const col_name[N_FIELDS] = {
    "HR",        "O2Sat",        "Temp",
    "SBP",       "MAP",          "DBP",
    "Resp",      "EtCO2",        "BaseExcess",
    "HCO3",      "FiO2",         "pH",
    "PaCO2",     "SaO2",         "AST",
    "BUN",       "Alkalinephos", "Calcium",
    "Chloride",  "Creatinine",   "Bilirubin_direct",
    "Glucose",   "Lactate",      "Magnesium",
    "Phosphate", "Potassium",    "Bilirubin_total",
    "TroponinI", "Hct",          "Hgb",
    "PTT",       "WBC",          "Fibrinogen",
    "Platelets", "Age",          "Gender",
    "Unit1",     "Unit2",        "HospAdmTime",
    "ICULOS",    "SepsisLabel",
};

/* Parse one field: "NaN" is missing (NAN, true); a number (value, true);
 * anything else false. */
static bool parse_field(const char *s, double *out)
{
    if (s[0] == 'N' && s[1] == 'a' && s[2] == 'N' && s[3] == '\0') {
        *out = NAN;
        return true;
    }
    return vigil__data_parse_num(s, out);
}

static bool same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

/* A 0/1/NaN flag field. */
static bool is_flag(double v)
{
    return isnan(v) || v == 0.0 || v == 1.0;
}

typedef struct row_ctx {
    const char *name;
    long line;
    bool have_first;
    double first[N_FIELDS]; /* the first accepted row's descriptors */
    long prev_hour;
} row_ctx;

/* Set the stay's descriptors from its first accepted row. */
static void set_descriptors(vigil_data *d, row_ctx *rc, const double *v)
{
    vigil_stay *s = &d->stay;
    double age = v[COL_AGE];
    vigil_var_verdict verdict;
    if (!isnan(age)) {
        if (vigil_var_check(VIGIL_VAR_AGE, age, &age, &verdict, NULL) != VIGIL_OK) {
            vigil__data_implausible(d, rc->name, rc->line, VIGIL_VAR_AGE, v[COL_AGE], verdict);
            age = NAN;
        } else if (age >= 100.0) {
            /* REQ DATA-2019-AGE: 100 stands for 90 or older */
            s->age_90_plus = true;
            age = 90.0;
        }
    }
    s->age_y = age;
    if (!is_flag(v[COL_GENDER])) {
        vigil__data_issue(d, VIGIL_DATA_BAD_DESCRIPTOR, rc->name, rc->line,
                          "Gender %g is not 0, 1 or NaN", v[COL_GENDER]);
    } else if (!isnan(v[COL_GENDER])) {
        s->sex = v[COL_GENDER] == 1.0 ? VIGIL_SEX_MALE : VIGIL_SEX_FEMALE;
    }
    for (int c = COL_UNIT1; c <= COL_UNIT2; c++) {
        if (!is_flag(v[c])) {
            vigil__data_issue(d, VIGIL_DATA_BAD_DESCRIPTOR, rc->name, rc->line,
                              "%s %g is not 0, 1 or NaN", col_name[c], v[c]);
        } else if (v[c] == 1.0) {
            s->icu_flags |= c == COL_UNIT1 ? VIGIL_ICU_MEDICAL : VIGIL_ICU_SURGICAL;
        }
    }
    s->hosp_adm_time_h = v[COL_HOSPADM];
    memcpy(rc->first, v, sizeof rc->first);
    rc->have_first = true;
}

static void check_descriptors(vigil_data *d, const row_ctx *rc, const double *v)
{
    for (int c = COL_AGE; c <= COL_HOSPADM; c++) {
        if (!same(v[c], rc->first[c])) {
            vigil__data_issue(d, VIGIL_DATA_BAD_DESCRIPTOR, rc->name, rc->line,
                              "%s %g differs from the first row's %g (first kept)", col_name[c],
                              v[c], rc->first[c]);
            return;
        }
    }
}

/* One data row: validate, then record descriptors, label and values.
 * Returns VIGIL_OK also for a dropped row; only allocation failure fails. */
static vigil_status do_row(vigil_data *d, row_ctx *rc, char *line)
{
    char *f[N_FIELDS];
    size_t nf = 1;
    f[0] = line;
    for (char *p = line; *p != '\0'; p++) {
        if (*p == '|') {
            *p = '\0';
            if (nf < N_FIELDS) {
                f[nf] = p + 1;
            }
            nf++;
        }
    }
    if (nf != N_FIELDS) {
        /* REQ DATA-ROW-ERRORS */
        vigil__data_issue(d, VIGIL_DATA_FIELD_COUNT, rc->name, rc->line,
                          "expected %d fields, got %zu", N_FIELDS, nf);
        return VIGIL_ERR_PARSE;
    }
    double v[N_FIELDS];
    for (int c = 0; c < N_FIELDS; c++) {
        if (!parse_field(f[c], &v[c])) {
            vigil__data_issue(d, VIGIL_DATA_BAD_NUMBER, rc->name, rc->line,
                              "%s: '%.40s' is not a number", col_name[c], f[c]);
            return VIGIL_ERR_PARSE;
        }
    }
    double h = v[COL_ICULOS];
    if (isnan(h) || h < 1.0 || h != floor(h) || h > (double)VIGIL__DATA_MAX_HOUR) {
        vigil__data_issue(d, VIGIL_DATA_BAD_TIME, rc->name, rc->line,
                          "ICULOS %s is not a whole number of hours from 1", f[COL_ICULOS]);
        return VIGIL_ERR_PARSE;
    }
    long hour = (long)h;
    if (rc->prev_hour > 0 && hour <= rc->prev_hour) {
        vigil__data_issue(d, VIGIL_DATA_BAD_TIME, rc->name, rc->line,
                          "ICULOS %ld does not follow %ld", hour, rc->prev_hour);
        return VIGIL_ERR_PARSE;
    }
    double lab = v[COL_LABEL];
    if (lab != 0.0 && lab != 1.0) {
        vigil__data_issue(d, VIGIL_DATA_BAD_NUMBER, rc->name, rc->line,
                          "SepsisLabel %s is not 0 or 1", f[COL_LABEL]);
        return VIGIL_ERR_PARSE;
    }
    vigil_stay *s = &d->stay;
    if (!rc->have_first) {
        set_descriptors(d, rc, v);
        s->label_first_hour = hour;
        s->first_t_h = (double)hour;
    } else {
        check_descriptors(d, rc, v);
        if (hour > rc->prev_hour + 1) {
            vigil__data_issue(d, VIGIL_DATA_ICULOS_GAP, rc->name, rc->line,
                              "ICULOS jumps from %ld to %ld", rc->prev_hour, hour);
        }
    }
    size_t idx = (size_t)(hour - s->label_first_hour);
    if (vigil__data_labels_reserve(d, idx + 1) != VIGIL_OK) {
        return VIGIL_ERR_NOMEM;
    }
    for (size_t i = s->n_labels; i < idx; i++) {
        d->labels[i] = (unsigned char)VIGIL_LABEL_UNKNOWN;
    }
    d->labels[idx] = lab == 1.0 ? 1u : 0u;
    s->n_labels = idx + 1;
    if (lab == 1.0) {
        s->sepsis_any = true;
    }
    rc->prev_hour = hour;
    s->last_t_h = (double)hour;
    s->n_rows++;
    for (int c = 0; c < N_MEAS_COLS; c++) {
        if (isnan(v[c])) {
            d->sum.n_nan++;
            continue;
        }
        if (vigil__data_add_meas(d, rc->name, rc->line, (double)hour, col_var[c], v[c]) !=
            VIGIL_OK) {
            return VIGIL_ERR_NOMEM;
        }
    }
    return VIGIL_OK;
}

vigil_status vigil__pn2019_parse(vigil_data *d, const char *name, char *data, size_t len,
                                 bool *out_emit, vigil_err *err)
{
    *out_emit = false;
    vigil__data_stay_reset(d, name, VIGIL_DATA_PN2019);
    char *cur = data, *end = data + len;
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
        cur += 3;
    }
    char *header = vigil__data_next_line(&cur, end);
    if (header == NULL || strcmp(header, vigil__pn2019_header) != 0) {
        /* REQ DATA-2019-HEADER */
        vigil__data_issue(d, VIGIL_DATA_BAD_HEADER, name, 1,
                          "header is not the PhysioNet 2019 header (41 fields HR|O2Sat|..."
                          "|SepsisLabel); file skipped");
        return VIGIL_OK;
    }
    row_ctx rc = {.name = name, .line = 1, .have_first = false, .prev_hour = 0};
    char *line;
    size_t n_seen = 0;
    while ((line = vigil__data_next_line(&cur, end)) != NULL) {
        rc.line++;
        if (line[0] == '\0' && cur >= end) {
            break; /* a blank last line */
        }
        n_seen++;
        d->sum.n_rows++;
        vigil_status st = do_row(d, &rc, line);
        if (st == VIGIL_ERR_NOMEM) {
            return vigil_err_set(err, st, "file", "out of memory reading %s", name);
        }
        if (st != VIGIL_OK) {
            d->sum.n_rows_dropped++;
        }
    }
    if (d->stay.n_rows == 0) {
        if (n_seen == 0) {
            vigil__data_issue(d, VIGIL_DATA_EMPTY_FILE, name, 0, "no rows after the header");
        }
        return VIGIL_OK;
    }
    d->stay.sepsis_label = d->labels;
    if (d->stay.sepsis_any) {
        d->sum.n_sepsis_stays++;
    }
    *out_emit = true;
    return VIGIL_OK;
}
