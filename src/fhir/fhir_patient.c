/*
 * fhir_patient.c: a FHIR R4 Patient in (issue 14 item 2): who the patient is
 * (NHS number identifier, the resource id or a local identifier as the
 * hospital number, as Observation.subject names it) and Patient.gender, the
 * administrative sex the monitor's sex subgroup reads. Bytes in, a
 * vigil_fhir_patient out; the server stores it (vigil_store_patient_ensure).
 * Spec: FHIR R4 Patient (identifier, gender: AdministrativeGender, required
 * binding); UK Core NHS number system.
 *
 * Does not: keep names, addresses, telecom or birth dates (vigil keeps no
 * demographics it does not use), follow links, or read contained resources.
 * A modifierExtension is refused (its meaning is unknown).
 */
#include <string.h>

#include "fhir_int.h"

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        vigil_status st_ = (expr);                                                                 \
        if (st_ != VIGIL_OK) {                                                                     \
            return st_;                                                                            \
        }                                                                                          \
    } while (0)

/* identifier[i]: the NHS number system (at most one number), else the first
 * local number. */
static vigil_status identifiers(fhir_ctx *c, json_t *res, vigil_fhir_patient *o,
                                char local[VIGIL_ID_MAX])
{
    json_t *ids = NULL;
    TRY(vigil__fhir_get_array(c, res, "identifier", false, &ids));
    if (ids == NULL) {
        return VIGIL_OK;
    }
    size_t old = vigil__fhir_push_key(c, "identifier");
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
    {
        size_t o2 = vigil__fhir_push_index(c, i);
        const char *sys = NULL, *val = NULL;
        TRY(vigil__fhir_get_string(c, id, "system", false, &sys));
        TRY(vigil__fhir_get_string(c, id, "value", true, &val));
        size_t o3 = vigil__fhir_push_key(c, "value");
        if (sys != NULL && strcmp(sys, FHIR_SYS_NHS_NUMBER) == 0) {
            char nhs[VIGIL_NHS_NUMBER_LEN + 1];
            TRY(vigil__fhir_nhs_number(c, val, nhs));
            if (o->nhs_number[0] != '\0' && strcmp(o->nhs_number, nhs) != 0) {
                return vigil__fhir_fail(c, VIGIL_FHIR_ISSUE_INVALID,
                                        "a second, different NHS number %s (first %s)", nhs,
                                        o->nhs_number);
            }
            memcpy(o->nhs_number, nhs, sizeof nhs);
        } else if (local[0] == '\0') {
            vigil__fhir_pop(c, o3);
            TRY(vigil__fhir_copy_id(c, "value", val, local, VIGIL_ID_MAX));
        }
        vigil__fhir_pop(c, o2);
    }
    vigil__fhir_pop(c, old);
    return VIGIL_OK;
}

static vigil_status patient(fhir_ctx *c, json_t *res, vigil_fhir_patient *o)
{
    if (json_object_get(res, "modifierExtension") != NULL) {
        return vigil__fhir_fail_at(c, "modifierExtension", VIGIL_FHIR_ISSUE_EXTENSION,
                                   "a modifierExtension vigil cannot honour");
    }
    const char *id = NULL, *gender = NULL;
    TRY(vigil__fhir_get_string(c, res, "id", false, &id));
    if (id != NULL) {
        if (!vigil__fhir_is_id(id)) {
            return vigil__fhir_fail_at(c, "id", VIGIL_FHIR_ISSUE_VALUE,
                                       "'%.80s' is not a FHIR id", id);
        }
        TRY(vigil__fhir_copy_id(c, "id", id, o->mrn, sizeof o->mrn));
    }
    char local[VIGIL_ID_MAX] = "";
    TRY(identifiers(c, res, o, local));
    if (o->mrn[0] == '\0') {
        memcpy(o->mrn, local, sizeof o->mrn);
    }
    if (o->nhs_number[0] == '\0' && o->mrn[0] == '\0') {
        return vigil__fhir_fail(c, VIGIL_FHIR_ISSUE_REQUIRED,
                                "a Patient needs an id or an identifier (NHS number system %s, or "
                                "a local hospital number)",
                                FHIR_SYS_NHS_NUMBER);
    }
    /* REQ FHIR-PATIENT-GENDER: the required AdministrativeGender binding */
    TRY(vigil__fhir_get_string(c, res, "gender", false, &gender));
    if (gender != NULL && (vigil_admin_sex_parse(gender, &o->sex, NULL) != VIGIL_OK ||
                           o->sex == VIGIL_ADMIN_SEX_NONE)) {
        return vigil__fhir_fail_at(c, "gender", VIGIL_FHIR_ISSUE_CODE_INVALID,
                                   "gender '%.40s' is not one of male, female, other, unknown",
                                   gender);
    }
    return VIGIL_OK;
}

vigil_status vigil_fhir_parse_patient(const char *json, size_t len, vigil_fhir_patient *out,
                                      vigil_fhir_issue *issue)
{
    if (json == NULL || out == NULL) {
        return VIGIL_ERR_ARG;
    }
    fhir_ctx c;
    vigil__fhir_ctx_init(&c, "");
    json_t *root = vigil__fhir_load(&c, json, len);
    vigil_status st = VIGIL_OK;
    vigil_fhir_patient o;
    memset(&o, 0, sizeof o);
    const char *rt = root != NULL ? json_string_value(json_object_get(root, "resourceType")) : NULL;
    if (root == NULL) {
        st = vigil__fhir_status_of(c.issue.code);
    } else if (rt == NULL || strcmp(rt, "Patient") != 0) {
        st = vigil__fhir_fail_nopath(&c, VIGIL_FHIR_ISSUE_NOT_SUPPORTED,
                                     "resourceType '%.40s': this endpoint takes a Patient",
                                     rt != NULL ? rt : "(missing)");
    } else {
        vigil__fhir_set_path(&c, "Patient");
        st = patient(&c, root, &o);
    }
    json_decref(root);
    if (st == VIGIL_OK) {
        *out = o;
    } else if (issue != NULL && c.failed) {
        *issue = c.issue;
    }
    return st;
}
