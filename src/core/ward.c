/*
 * ward.c: NHS number validation (modulus 11, NHS Data Dictionary) and the
 * observation event initialiser. Pure: no I/O, no allocation.
 */
#include "vigil/ward.h"

#include <string.h>

vigil_status vigil_nhs_number_parse(const char *text, char out[VIGIL_NHS_NUMBER_LEN + 1],
                                    vigil_err *err)
{
    if (text == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "nhs_number", "no NHS number given");
    }
    char d[VIGIL_NHS_NUMBER_LEN + 1];
    size_t n = 0;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p >= '0' && *p <= '9') {
            if (n == VIGIL_NHS_NUMBER_LEN) {
                return vigil_err_set(err, VIGIL_ERR_PARSE, "nhs_number",
                                     "NHS number '%.32s' has more than 10 digits", text);
            }
            d[n++] = *p;
        } else if ((*p == ' ' || *p == '-') && n > 0 && p[1] != '\0') {
            continue;
        } else {
            return vigil_err_set(err, VIGIL_ERR_PARSE, "nhs_number",
                                 "NHS number '%.32s' has a character that is not a digit", text);
        }
    }
    if (n != VIGIL_NHS_NUMBER_LEN) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, "nhs_number",
                             "NHS number '%.32s' has %zu digits, not 10", text, n);
    }
    /* REQ NHS-NUMBER-CHECK: weights 10..2 on the first nine digits */
    int sum = 0;
    for (int i = 0; i < 9; i++) {
        sum += (d[i] - '0') * (10 - i);
    }
    int check = 11 - (sum % 11);
    if (check == 11) {
        check = 0;
    }
    if (check == 10 || check != d[9] - '0') {
        return vigil_err_set(err, VIGIL_ERR_PARSE, "nhs_number",
                             "NHS number '%.32s' fails its check digit", text);
    }
    d[n] = '\0';
    if (out != NULL) {
        memcpy(out, d, sizeof d);
    }
    return VIGIL_OK;
}

bool vigil_nhs_number_valid(const char *text)
{
    return vigil_nhs_number_parse(text, NULL, NULL) == VIGIL_OK;
}

static const char *const sex_names[VIGIL_ADMIN_SEX_COUNT] = {
    [VIGIL_ADMIN_SEX_NONE] = "",
    [VIGIL_ADMIN_SEX_FEMALE] = "female",
    [VIGIL_ADMIN_SEX_MALE] = "male",
    [VIGIL_ADMIN_SEX_OTHER] = "other",
    [VIGIL_ADMIN_SEX_UNKNOWN] = "unknown",
};

const char *vigil_admin_sex_name(vigil_admin_sex s)
{
    return (unsigned)s < VIGIL_ADMIN_SEX_COUNT ? sex_names[s] : "";
}

vigil_status vigil_admin_sex_parse(const char *name, vigil_admin_sex *out, vigil_err *err)
{
    for (unsigned i = 0; i < VIGIL_ADMIN_SEX_COUNT; i++) {
        if (strcmp(name, sex_names[i]) == 0) {
            *out = (vigil_admin_sex)i;
            return VIGIL_OK;
        }
    }
    return vigil_err_set(err, VIGIL_ERR_ARG, "sex",
                         "sex '%.40s' is not one of female, male, other, unknown", name);
}

void vigil_obs_event_init(vigil_obs_event *ev)
{
    memset(ev, 0, sizeof *ev);
    vigil_obs_init(&ev->obs);
}
