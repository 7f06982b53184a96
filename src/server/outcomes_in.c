/*
 * outcomes_in.c: deterioration outcomes from the feeds (issue 14 item 3),
 * linked to the patient's admission and audited by the store
 * (vigil_store_outcome_record), beside the API's POST
 * /api/patients/{id}/outcomes:
 *  - HL7 ADT A03 whose PV1-36 discharge disposition (user-defined table 0112)
 *    is one of the site's death codes (default the UB-04 expired codes 20,
 *    40, 41, 42): death at the discharge time (PV1-45, else the event time);
 *  - HL7 ADT A02 from a ward that is not critical care onto one marked
 *    critical care (cfg.critical_care_wards): unplanned critical-care
 *    admission at the event time (a planned admission to critical care comes
 *    from theatre or the front door, not as a transfer from a ward: stated
 *    in docs/server.md as the assumption it is);
 *  - FHIR Encounter (dischargeDisposition exp: death at period.end; a
 *    hospitalization.destination that is a critical-care ward: unplanned
 *    critical-care admission at period.end) and Condition (a sepsis code:
 *    sepsis at onset, else recordedDate), POST /fhir/Encounter and
 *    /fhir/Condition (vigil/fhir.h parses them).
 * A resent message or resource (same admission, kind and time) is not
 * recorded twice (the store's CONFLICT is taken as "already recorded").
 * Also a FHIR Patient's administrative sex (POST /fhir/Patient, issue 14
 * item 2: the monitor's sex subgroup): a Patient belongs to no ward, so only
 * a user whose scope is every ward ("*", an integration account) may post
 * one; it finds or creates the patient (vigil_store_patient_ensure) and
 * reads nothing back.
 * Store thread only. Does not: decide what an outcome means for the model
 * (the monitor and `vigil validate` do).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"

static const char *const default_death_codes[] = {"20", "40", "41", "42"};

static vigil_status copy_list(const char *const *in, size_t n, char *out, size_t width,
                              size_t *n_out, const char *field, vigil_err *err)
{
    if (n > SRV_OUTCOME_LIST_MAX || (n > 0 && in == NULL)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, field, "at most %d entries", SRV_OUTCOME_LIST_MAX);
    }
    for (size_t k = 0; k < n; k++) {
        size_t l = in[k] != NULL ? strlen(in[k]) : 0;
        if (l == 0 || l >= width) {
            return vigil_err_set(err, VIGIL_ERR_ARG, field, "entry %zu empty or longer than %zu",
                                 k + 1, width - 1);
        }
        memcpy(out + k * width, in[k], l + 1);
    }
    *n_out = n;
    return VIGIL_OK;
}

vigil_status vigil__srv_outcomes_load(vigil_server *srv, vigil_err *err)
{
    const vigil_server_config *c = &srv->cfg;
    vigil_status s =
        copy_list(c->critical_care_wards, c->n_critical_care_wards, srv->critical_care[0],
                  sizeof srv->critical_care[0], &srv->n_critical_care, "critical_care_wards", err);
    if (s == VIGIL_OK && c->n_hl7_death_dispositions > 0) {
        s = copy_list(c->hl7_death_dispositions, c->n_hl7_death_dispositions, srv->death_codes[0],
                      sizeof srv->death_codes[0], &srv->n_death_codes, "hl7_death_dispositions",
                      err);
    } else if (s == VIGIL_OK) {
        s = copy_list(default_death_codes,
                      sizeof default_death_codes / sizeof default_death_codes[0],
                      srv->death_codes[0], sizeof srv->death_codes[0], &srv->n_death_codes,
                      "hl7_death_dispositions", err);
    }
    srv->cfg.critical_care_wards = NULL; /* borrowed during open only */
    srv->cfg.hl7_death_dispositions = NULL;
    return s;
}

static bool critical_care(const vigil_server *srv, const char *ward)
{
    for (size_t k = 0; ward != NULL && ward[0] != '\0' && k < srv->n_critical_care; k++) {
        if (strcmp(srv->critical_care[k], ward) == 0) {
            return true;
        }
    }
    return false;
}

static bool death_code(const vigil_server *srv, const char *code)
{
    for (size_t k = 0; code[0] != '\0' && k < srv->n_death_codes; k++) {
        if (strcmp(srv->death_codes[k], code) == 0) {
            return true;
        }
    }
    return false;
}

/* Record; a resend (CONFLICT) is not an error. *out_new tells which. */
static vigil_status record(vigil_server *srv, const vigil_actor *who, int64_t patient_id,
                           int64_t admission_id, vigil_store_outcome_kind kind, int64_t t_ms,
                           const char *source, const char *note, int64_t *out_id, bool *out_new,
                           vigil_err *err)
{
    vigil_err e = {0};
    *out_new = false;
    vigil_status s =
        vigil_store_outcome_record(srv->store, who, patient_id, admission_id, kind, t_ms,
                                   vigil__srv_now_ms(), source, note, out_id, &e);
    if (s == VIGIL_ERR_CONFLICT) {
        return VIGIL_OK;
    }
    if (s != VIGIL_OK) {
        if (err != NULL) {
            *err = e;
        }
        return s;
    }
    *out_new = true;
    vigil__srv_log(srv, "outcome.record", "outcome %lld (%s) recorded from %s", (long long)*out_id,
                   vigil_store_outcome_kind_name(kind), source);
    return VIGIL_OK;
}

vigil_status vigil__srv_outcome_from_adt(vigil_server *srv, const vigil_actor *who,
                                         const vigil_adt_event *a, int64_t patient_id,
                                         int64_t admission_id, const char *prior_ward,
                                         vigil_err *err)
{
    char note[128];
    int64_t id = 0;
    bool fresh = false;
    if (a->kind == VIGIL_ADT_DISCHARGE && death_code(srv, a->discharge_disposition)) {
        snprintf(note, sizeof note, "ADT A03 PV1-36 discharge disposition %s",
                 a->discharge_disposition);
        int64_t t = a->has_discharge_t ? a->discharge_t_ms : a->t_ms;
        return record(srv, who, patient_id, admission_id, VIGIL_STORE_OUTCOME_DEATH, t, "hl7", note,
                      &id, &fresh, err);
    }
    if (a->kind == VIGIL_ADT_TRANSFER && critical_care(srv, a->location.ward) &&
        !critical_care(srv, prior_ward) && prior_ward[0] != '\0') {
        snprintf(note, sizeof note, "ADT A02 transfer from %.32s to critical care %.32s",
                 prior_ward, a->location.ward);
        return record(srv, who, patient_id, admission_id, VIGIL_STORE_OUTCOME_ICU_UNPLANNED,
                      a->t_ms, "hl7", note, &id, &fresh, err);
    }
    return VIGIL_OK;
}

/* FHIR: a 200 or 201 OperationOutcome of severity information. */
static void info(srv_req *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void info(srv_req *r, int status, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vigil__srv_req_json(r, status,
                        json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "resourceType", "OperationOutcome",
                                  "issue", "severity", "information", "code", "informational",
                                  "diagnostics", msg));
    r->content_type = "application/fhir+json";
}

/* The store kind an outcome resource is, or -1 (nothing to record). */
static int kind_of(const vigil_server *srv, const vigil_fhir_outcome *o)
{
    switch (o->kind) {
    case VIGIL_FHIR_OUTCOME_DEATH:
        return VIGIL_STORE_OUTCOME_DEATH;
    case VIGIL_FHIR_OUTCOME_SEPSIS:
        return VIGIL_STORE_OUTCOME_SEPSIS;
    case VIGIL_FHIR_OUTCOME_TRANSFER:
        return critical_care(srv, o->destination) ? VIGIL_STORE_OUTCOME_ICU_UNPLANNED : -1;
    default:
        return -1;
    }
}

void vigil__srv_h_fhir_post_outcome(vigil_server *srv, srv_req *r)
{
    vigil_fhir_outcome o;
    vigil_fhir_issue issue;
    memset(&issue, 0, sizeof issue);
    if (vigil_fhir_parse_outcome(r->raw, r->raw_len, &o, &issue) != VIGIL_OK) {
        vigil__srv_fhir_issue(r, &issue);
        return;
    }
    const char *want = strstr(r->path, "Encounter") != NULL ? "Encounter" : "Condition";
    bool is_enc = o.kind == VIGIL_FHIR_OUTCOME_DEATH || o.kind == VIGIL_FHIR_OUTCOME_TRANSFER;
    if (o.kind != VIGIL_FHIR_OUTCOME_NONE &&
        strcmp(want, is_enc ? "Encounter" : "Condition") != 0) {
        vigil__srv_fhir_error(r, 400, "invalid", "the resource is not a %s", want);
        return;
    }
    int kind = kind_of(srv, &o);
    if (kind < 0) {
        info(r, 200, "no deterioration outcome in this %s: nothing recorded", want);
        return;
    }
    vigil_patient pt;
    vigil_err err = {0};
    vigil_status s =
        vigil_store_patient_find(srv->store, &r->who, o.nhs_number[0] ? o.nhs_number : NULL,
                                 o.mrn[0] ? o.mrn : NULL, &pt, &err);
    if (s == VIGIL_ERR_NOT_FOUND) {
        vigil__srv_fhir_error(r, 404, "not-found", "no such patient in vigil");
        return;
    }
    srv_patient *p = s == VIGIL_OK ? vigil__srv_pat_get(srv, &r->who, pt.id, &s, &err) : NULL;
    if (p == NULL) {
        vigil__srv_fhir_error(r, 500, "exception", "the patient could not be read: %s",
                              vigil_status_str(s));
        return;
    }
    if (!vigil__srv_scope_ok(&r->user, p->ward)) {
        vigil__srv_fhir_error(r, 403, "forbidden", "the patient is not on a ward in your scope");
        return;
    }
    char note[160];
    if (o.kind == VIGIL_FHIR_OUTCOME_TRANSFER) {
        snprintf(note, sizeof note, "FHIR Encounter%s%.64s: destination %.48s (critical care)",
                 o.resource_id[0] ? "/" : "", o.resource_id, o.destination);
    } else {
        snprintf(note, sizeof note, "FHIR %s%s%.64s: %s %.40s", want, o.resource_id[0] ? "/" : "",
                 o.resource_id, is_enc ? "dischargeDisposition" : "code", o.code);
    }
    int64_t id = 0;
    bool fresh = false;
    s = record(srv, &r->who, pt.id, 0, (vigil_store_outcome_kind)kind, o.t_ms, "fhir", note, &id,
               &fresh, &err);
    if (s == VIGIL_ERR_ARG) {
        vigil__srv_fhir_error(r, 422, "processing", "%s", err.msg);
    } else if (s == VIGIL_ERR_NOT_FOUND) {
        vigil__srv_fhir_error(r, 422, "processing", "%s", err.msg);
    } else if (s != VIGIL_OK) {
        vigil__srv_fhir_error(r, 503, "transient",
                              "the outcome could not be stored; send it again");
    } else if (fresh) {
        info(r, 201, "outcome %lld (%s) recorded against the patient's admission", (long long)id,
             vigil_store_outcome_kind_name((vigil_store_outcome_kind)kind));
    } else {
        info(r, 200, "this outcome was recorded already");
    }
}

void vigil__srv_h_fhir_post_patient(vigil_server *srv, srv_req *r)
{
    vigil_fhir_patient fp;
    vigil_fhir_issue issue;
    memset(&issue, 0, sizeof issue);
    if (vigil_fhir_parse_patient(r->raw, r->raw_len, &fp, &issue) != VIGIL_OK) {
        vigil__srv_fhir_issue(r, &issue);
        return;
    }
    /* a Patient is on no ward: all-ward scope only, decided before any read */
    if (!vigil__srv_scope_ok(&r->user, NULL)) {
        vigil__srv_fhir_error(r, 403, "forbidden",
                              "a Patient resource needs a user whose scope is every ward");
        return;
    }
    vigil_patient pt;
    memset(&pt, 0, sizeof pt);
    memcpy(pt.nhs_number, fp.nhs_number, sizeof pt.nhs_number);
    memcpy(pt.mrn, fp.mrn, sizeof pt.mrn);
    pt.sex = fp.sex;
    vigil_err err = {0};
    int64_t id = 0;
    vigil_status s = vigil_store_patient_ensure(srv->store, &r->who, &pt, &id, &err);
    if (s == VIGIL_ERR_CONFLICT) {
        vigil__srv_fhir_error(r, 409, "conflict", "%s", err.msg);
    } else if (s == VIGIL_ERR_ARG) {
        vigil__srv_fhir_error(r, 422, "processing", "%s", err.msg);
    } else if (s != VIGIL_OK) {
        vigil__srv_fhir_error(r, 503, "transient", "the patient could not be stored; send it again");
    } else {
        info(r, 200, "patient recorded%s%s", fp.sex != VIGIL_ADMIN_SEX_NONE ? "; gender " : "",
             vigil_admin_sex_name(fp.sex));
    }
}
