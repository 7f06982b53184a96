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

void vigil_obs_event_init(vigil_obs_event *ev)
{
    memset(ev, 0, sizeof *ev);
    vigil_obs_init(&ev->obs);
}
