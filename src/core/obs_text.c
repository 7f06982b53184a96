/*
 * obs_text.c: text form of observation fields (the `vigil news2` CSV and its
 * flags). Pure: no I/O, no allocation. Invariant: a field is set only from a
 * value that parsed completely and lies within its plausibility bounds.
 */
#include "vigil/obs_text.h"

#include <math.h>
#include <string.h>

#include "vigil/util.h"
#include "vigil/vitals.h"

typedef enum { F_NUM, F_SCALE, F_O2, F_ACVPU, F_PREG } field_kind;

typedef struct field_def {
    const char *name;
    field_kind kind;
    size_t offset; /* of the double in vigil_obs, for F_NUM */
    double lo, hi;
    const char *unit;
} field_def;

/* The fields that are not vital signs; the vital signs come from the table
 * (vigil/vitals.h): the column is the row's JSON key, its bounds and unit. */
static const field_def others[] = {
    {"scale", F_SCALE, 0, 1, 2, ""},
    {"age", F_NUM, offsetof(vigil_obs, age_y), VIGIL_AGE_MIN, VIGIL_AGE_MAX, "years"},
    {"pregnant", F_PREG, 0, 0, 0, ""},
};

/* The field called name, written into *tmp for a vital sign. */
static const field_def *find_in(const char *name, field_def *tmp)
{
    const vigil_vital *v = vigil_vital_by_key(name);
    if (v != NULL) {
        static const field_kind kinds[VIGIL_VITAL_TYPE_COUNT] = {
            [VIGIL_VITAL_NUMBER] = F_NUM, [VIGIL_VITAL_O2] = F_O2, [VIGIL_VITAL_ACVPU] = F_ACVPU};
        tmp->name = v->key;
        tmp->kind = kinds[v->type];
        tmp->offset = v->offset;
        tmp->lo = v->min;
        tmp->hi = v->max;
        tmp->unit = v->unit;
        return tmp;
    }
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        if (strcmp(others[i].name, name) == 0) {
            return &others[i];
        }
    }
    return NULL;
}

bool vigil_obs_text_known(const char *name)
{
    field_def tmp;
    return name != NULL && find_in(name, &tmp) != NULL;
}

static vigil_status set_num(vigil_obs *obs, const field_def *f, const char *value, vigil_err *err)
{
    double v = 0.0;
    if (vigil_parse_double(value, &v) != VIGIL_OK) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, f->name, "value '%s' is not a number", value);
    }
    /* REQ NEWS2-PLAUSIBLE */
    if (v < f->lo || v > f->hi) {
        return vigil_err_set(err, VIGIL_ERR_IMPLAUSIBLE, f->name,
                             "value '%s' is outside the plausible range %g to %g %s", value, f->lo,
                             f->hi, f->unit);
    }
    memcpy((char *)obs + f->offset, &v, sizeof v);
    return VIGIL_OK;
}

static vigil_status set_enum(vigil_obs *obs, const field_def *f, const char *value, vigil_err *err)
{
    switch (f->kind) {
    case F_SCALE: {
        long s = 0;
        if (vigil_parse_long(value, 1, 2, &s) != VIGIL_OK) {
            return vigil_err_set(err, VIGIL_ERR_PARSE, f->name, "value '%s' is not 1 or 2", value);
        }
        obs->spo2_scale = (int)s;
        return VIGIL_OK;
    }
    case F_O2:
        if (vigil_str_ieq(value, "air")) {
            obs->o2 = VIGIL_O2_AIR;
        } else if (vigil_str_ieq(value, "oxygen")) {
            obs->o2 = VIGIL_O2_OXYGEN;
        } else {
            return vigil_err_set(err, VIGIL_ERR_PARSE, f->name,
                                 "value '%s' is not 'air' or 'oxygen'", value);
        }
        return VIGIL_OK;
    case F_ACVPU: {
        static const char letters[] = "ACVPU";
        if (strlen(value) == 1) {
            for (int i = 0; i < 5; i++) {
                if ((value[0] | 0x20) == (letters[i] | 0x20)) {
                    obs->acvpu = (vigil_acvpu)(VIGIL_ACVPU_A + i);
                    return VIGIL_OK;
                }
            }
        }
        return vigil_err_set(err, VIGIL_ERR_PARSE, f->name,
                             "value '%s' is not one of A, C, V, P, U", value);
    }
    case F_PREG:
        if (vigil_str_ieq(value, "yes") || vigil_str_ieq(value, "true") ||
            strcmp(value, "1") == 0) {
            obs->pregnant = VIGIL_YES;
        } else if (vigil_str_ieq(value, "no") || vigil_str_ieq(value, "false") ||
                   strcmp(value, "0") == 0) {
            obs->pregnant = VIGIL_NO;
        } else {
            return vigil_err_set(err, VIGIL_ERR_PARSE, f->name, "value '%s' is not yes or no",
                                 value);
        }
        return VIGIL_OK;
    case F_NUM:
    default:
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, f->name, "bad field kind");
    }
}

vigil_status vigil_obs_set_text(vigil_obs *obs, const char *name, const char *value, vigil_err *err)
{
    field_def tmp;
    const field_def *f = name != NULL ? find_in(name, &tmp) : NULL;
    if (f == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, name, "unknown field '%s'",
                             name != NULL ? name : "");
    }
    if (vigil_str_blank(value)) {
        return VIGIL_OK; /* REQ NEWS2-INCOMPLETE: empty means not measured */
    }
    /* Work on a trimmed copy; values are short. */
    char buf[64];
    size_t n = strlen(value);
    if (n >= sizeof buf) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, f->name, "value is too long (%zu bytes)", n);
    }
    memcpy(buf, value, n + 1);
    vigil_str_trim(buf);
    if (f->kind == F_NUM) {
        return set_num(obs, f, buf, err);
    }
    return set_enum(obs, f, buf, err);
}
