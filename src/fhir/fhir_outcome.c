/*
 * fhir_outcome.c: deterioration outcomes from FHIR R4 (issue 14 item 3):
 * an Encounter that ended in death (hospitalization.dischargeDisposition
 * "exp", CodeSystem http://terminology.hl7.org/CodeSystem/discharge-
 * disposition) or with a transfer (hospitalization.destination), and a
 * Condition that is a sepsis diagnosis (SNOMED CT or ICD-10 codes below).
 * Bytes in, a vigil_fhir_outcome out; the server links it to the patient's
 * admission, decides whether a destination is critical care and stores it
 * (audited). Spec: FHIR R4 Encounter (hospitalization), Condition (code,
 * verificationStatus, onset[x], recordedDate).
 *
 * Does not: follow references (destination is read from its display or
 * identifier), subsume SNOMED CT (the codes are a fixed list), or read other
 * resources. A modifierExtension is refused (its meaning is unknown).
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

#define SYS_DISPOSITION "http://terminology.hl7.org/CodeSystem/discharge-disposition"
#define SYS_COND_VERIFICATION "http://terminology.hl7.org/CodeSystem/condition-ver-status"

/* Sepsis as coded: SNOMED CT concepts (exact), ICD-10 categories (prefix). */
static const char *const sepsis_snomed[] = {
    "91302008", /* Sepsis (disorder) */
    "76571007", /* Septic shock (disorder) */
    "10001005", /* Bacterial sepsis (disorder) */
};
static const char *const icd10_systems[] = {
    "http://hl7.org/fhir/sid/icd-10",
    "http://hl7.org/fhir/sid/icd-10-uk",
    "http://hl7.org/fhir/sid/icd-10-cm",
};
/* ICD-10 categories as prefixes of the code without its dot ("A41.9" and
 * "A419" both): A40 streptococcal sepsis, A41 other sepsis, R65.2 severe
 * sepsis (ICD-10-CM R65.20, R65.21), R57.2 septic shock. */
static const char *const sepsis_icd10[] = {"A40", "A41", "R652", "R572"};

static bool in_list(const char *s, const char *const *list, size_t n, bool prefix)
{
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(list[i]);
        if (prefix ? strncmp(s, list[i], l) == 0 : strcmp(s, list[i]) == 0) {
            return true;
        }
    }
    return false;
}

static bool is_sepsis(const char *sys, const char *code)
{
    if (strcmp(sys, FHIR_SYS_SNOMED) == 0) {
        return in_list(code, sepsis_snomed, sizeof sepsis_snomed / sizeof sepsis_snomed[0], false);
    }
    if (in_list(sys, icd10_systems, sizeof icd10_systems / sizeof icd10_systems[0], false)) {
        char bare[VIGIL_FHIR_CODE_MAX + 1];
        size_t n = 0;
        for (const char *p = code; *p != '\0' && n + 1 < sizeof bare; p++) {
            if (*p != '.') {
                bare[n++] = *p;
            }
        }
        bare[n] = '\0';
        return in_list(bare, sepsis_icd10, sizeof sepsis_icd10 / sizeof sepsis_icd10[0], true);
    }
    return false;
}

static vigil_status read_time(fhir_ctx *c, json_t *obj, const char *key, bool required,
                              bool *present, int64_t *out)
{
    const char *s = NULL;
    TRY(vigil__fhir_get_string(c, obj, key, required, &s));
    *present = s != NULL;
    if (s == NULL) {
        return VIGIL_OK;
    }
    const char *why = NULL;
    if (vigil__fhir_datetime_parse(s, out, &why) != VIGIL_OK) {
        return vigil__fhir_fail_at(c, key, VIGIL_FHIR_ISSUE_VALUE, "'%.40s': %s", s, why);
    }
    return VIGIL_OK;
}

/* The first coding of cc (a CodeableConcept) in system sys, or NULL. */
static vigil_status coding_in(fhir_ctx *c, json_t *cc, const char *sys, const char **code)
{
    json_t *coding = NULL;
    *code = NULL;
    TRY(vigil__fhir_get_array(c, cc, "coding", false, &coding));
    size_t old = vigil__fhir_push_key(c, "coding");
    size_t i;
    json_t *cd;
    json_array_foreach(coding, i, cd)
    {
        size_t o2 = vigil__fhir_push_index(c, i);
        const char *s = NULL, *v = NULL;
        TRY(vigil__fhir_get_string(c, cd, "system", false, &s));
        TRY(vigil__fhir_get_string(c, cd, "code", false, &v));
        if (*code == NULL && s != NULL && v != NULL && strcmp(s, sys) == 0) {
            *code = v;
        }
        vigil__fhir_pop(c, o2);
    }
    vigil__fhir_pop(c, old);
    return VIGIL_OK;
}

static vigil_status common(fhir_ctx *c, json_t *res, vigil_fhir_outcome *o)
{
    if (json_object_get(res, "modifierExtension") != NULL) {
        return vigil__fhir_fail_at(c, "modifierExtension", VIGIL_FHIR_ISSUE_EXTENSION,
                                   "a modifierExtension vigil cannot honour");
    }
    const char *id = NULL;
    TRY(vigil__fhir_get_string(c, res, "id", false, &id));
    if (id != NULL) {
        TRY(vigil__fhir_copy_id(c, "id", id, o->resource_id, sizeof o->resource_id));
    }
    vigil_obs_event ev;
    vigil_obs_event_init(&ev);
    TRY(vigil__fhir_read_subject(c, res, &ev));
    memcpy(o->nhs_number, ev.nhs_number, sizeof o->nhs_number);
    memcpy(o->mrn, ev.mrn, sizeof o->mrn);
    return VIGIL_OK;
}

static vigil_status destination_of(fhir_ctx *c, json_t *hosp, vigil_fhir_outcome *o)
{
    json_t *dest = NULL, *ident = NULL;
    TRY(vigil__fhir_get_object(c, hosp, "destination", false, &dest));
    if (dest == NULL) {
        return VIGIL_OK;
    }
    size_t old = vigil__fhir_push_key(c, "destination");
    const char *name = NULL;
    TRY(vigil__fhir_get_object(c, dest, "identifier", false, &ident));
    if (ident != NULL) {
        size_t o2 = vigil__fhir_push_key(c, "identifier");
        TRY(vigil__fhir_get_string(c, ident, "value", false, &name));
        vigil__fhir_pop(c, o2);
    }
    if (name == NULL) {
        TRY(vigil__fhir_get_string(c, dest, "display", false, &name));
    }
    if (name == NULL) {
        return vigil__fhir_fail(c, VIGIL_FHIR_ISSUE_REQUIRED,
                                "a destination needs an identifier value or a display (the ward)");
    }
    TRY(vigil__fhir_copy_id(c, "display", name, o->destination, sizeof o->destination));
    vigil__fhir_pop(c, old);
    o->kind = VIGIL_FHIR_OUTCOME_TRANSFER;
    return VIGIL_OK;
}

/* Encounter: died (dischargeDisposition exp) or went somewhere (destination). */
static vigil_status encounter(fhir_ctx *c, json_t *res, vigil_fhir_outcome *o)
{
    TRY(common(c, res, o));
    const char *status = NULL;
    TRY(vigil__fhir_get_string(c, res, "status", true, &status));
    if (strcmp(status, "entered-in-error") == 0 || strcmp(status, "cancelled") == 0) {
        return VIGIL_OK; /* recorded in error: no outcome */
    }
    json_t *hosp = NULL, *period = NULL, *disp = NULL;
    TRY(vigil__fhir_get_object(c, res, "hospitalization", false, &hosp));
    if (hosp == NULL) {
        return VIGIL_OK;
    }
    size_t old = vigil__fhir_push_key(c, "hospitalization");
    TRY(vigil__fhir_get_object(c, hosp, "dischargeDisposition", false, &disp));
    if (disp != NULL) {
        size_t o2 = vigil__fhir_push_key(c, "dischargeDisposition");
        const char *code = NULL;
        TRY(coding_in(c, disp, SYS_DISPOSITION, &code));
        if (code != NULL && strcmp(code, "exp") == 0) {
            o->kind = VIGIL_FHIR_OUTCOME_DEATH;
            snprintf(o->code, sizeof o->code, "%s", code);
        }
        vigil__fhir_pop(c, o2);
    }
    if (o->kind == VIGIL_FHIR_OUTCOME_NONE) {
        TRY(destination_of(c, hosp, o));
    }
    vigil__fhir_pop(c, old);
    if (o->kind == VIGIL_FHIR_OUTCOME_NONE) {
        return VIGIL_OK;
    }
    TRY(vigil__fhir_get_object(c, res, "period", true, &period));
    old = vigil__fhir_push_key(c, "period");
    bool has = false;
    TRY(read_time(c, period, "end", true, &has, &o->t_ms));
    vigil__fhir_pop(c, old);
    return VIGIL_OK;
}

/* Condition: a sepsis diagnosis, unless refuted or entered in error. */
static vigil_status condition(fhir_ctx *c, json_t *res, vigil_fhir_outcome *o)
{
    TRY(common(c, res, o));
    json_t *ver = NULL, *code = NULL;
    TRY(vigil__fhir_get_object(c, res, "verificationStatus", false, &ver));
    if (ver != NULL) {
        size_t old = vigil__fhir_push_key(c, "verificationStatus");
        const char *v = NULL;
        TRY(coding_in(c, ver, SYS_COND_VERIFICATION, &v));
        vigil__fhir_pop(c, old);
        if (v != NULL && (strcmp(v, "refuted") == 0 || strcmp(v, "entered-in-error") == 0)) {
            return VIGIL_OK;
        }
    }
    TRY(vigil__fhir_get_object(c, res, "code", true, &code));
    size_t old = vigil__fhir_push_key(c, "code");
    json_t *coding = NULL;
    TRY(vigil__fhir_get_array(c, code, "coding", true, &coding));
    size_t i;
    json_t *cd;
    json_array_foreach(coding, i, cd)
    {
        const char *s = json_string_value(json_object_get(cd, "system"));
        const char *v = json_string_value(json_object_get(cd, "code"));
        if (o->kind == VIGIL_FHIR_OUTCOME_NONE && s != NULL && v != NULL && is_sepsis(s, v)) {
            o->kind = VIGIL_FHIR_OUTCOME_SEPSIS;
            snprintf(o->code, sizeof o->code, "%s", v);
        }
    }
    vigil__fhir_pop(c, old);
    if (o->kind == VIGIL_FHIR_OUTCOME_NONE) {
        return VIGIL_OK;
    }
    bool has = false;
    TRY(read_time(c, res, "onsetDateTime", false, &has, &o->t_ms));
    if (!has) {
        TRY(read_time(c, res, "recordedDate", false, &has, &o->t_ms));
    }
    if (!has) {
        return vigil__fhir_fail(c, VIGIL_FHIR_ISSUE_REQUIRED,
                                "a sepsis Condition needs onsetDateTime or recordedDate (when)");
    }
    return VIGIL_OK;
}

vigil_status vigil_fhir_parse_outcome(const char *json, size_t len, vigil_fhir_outcome *out,
                                      vigil_fhir_issue *issue)
{
    if (json == NULL || out == NULL) {
        return VIGIL_ERR_ARG;
    }
    fhir_ctx c;
    vigil__fhir_ctx_init(&c, "");
    json_t *root = vigil__fhir_load(&c, json, len);
    vigil_status st = VIGIL_OK;
    vigil_fhir_outcome o;
    memset(&o, 0, sizeof o);
    const char *rt = root != NULL ? json_string_value(json_object_get(root, "resourceType")) : NULL;
    if (root == NULL) {
        st = vigil__fhir_status_of(c.issue.code);
    } else if (rt == NULL) {
        st = vigil__fhir_fail_nopath(&c, VIGIL_FHIR_ISSUE_REQUIRED, "resourceType is missing");
    } else if (strcmp(rt, "Encounter") == 0) {
        vigil__fhir_set_path(&c, "Encounter");
        st = encounter(&c, root, &o);
    } else if (strcmp(rt, "Condition") == 0) {
        vigil__fhir_set_path(&c, "Condition");
        st = condition(&c, root, &o);
    } else {
        st = vigil__fhir_fail_nopath(&c, VIGIL_FHIR_ISSUE_NOT_SUPPORTED,
                                     "resourceType '%.40s': outcomes come as Encounter or "
                                     "Condition",
                                     rt);
    }
    json_decref(root);
    if (st == VIGIL_OK) {
        *out = o;
    } else if (issue != NULL && c.failed) {
        *issue = c.issue;
    }
    return st;
}
