/*
 * fhir_int.h: private to src/fhir. The parse context (FHIRPath of the element
 * being read, the issue to fill), JSON accessors that refuse wrong types,
 * FHIR dateTime conversion and the code tables shared by parser and builders.
 */
#ifndef VIGIL_FHIR_INT_H
#define VIGIL_FHIR_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/fhir.h"
#include "vigil/vitals.h"

/* Code systems (FHIR R4 terminology pages, UK Core). */
#define FHIR_SYS_LOINC "http://loinc.org"
#define FHIR_SYS_SNOMED "http://snomed.info/sct"
#define FHIR_SYS_UCUM "http://unitsofmeasure.org"
#define FHIR_SYS_OBS_CATEGORY "http://terminology.hl7.org/CodeSystem/observation-category"
#define FHIR_SYS_NHS_NUMBER "https://fhir.nhs.uk/Id/nhs-number"
#define FHIR_SYS_DATA_ABSENT "http://terminology.hl7.org/CodeSystem/data-absent-reason"
/* vigil's own code system for NEWS2 interpretations (risk band and flags). */
#define FHIR_SYS_VIGIL_NEWS2 "urn:vigil:CodeSystem:news2-interpretation"

/* What an Observation.code (or component code) means to vigil. */
typedef enum fhir_kind {
    FHIR_KIND_NONE = 0,
    FHIR_KIND_RR,       /* LOINC 9279-1 */
    FHIR_KIND_HR,       /* LOINC 8867-4 */
    FHIR_KIND_SPO2,     /* LOINC 2708-6, 59408-5 */
    FHIR_KIND_BP_PANEL, /* LOINC 85354-9 */
    FHIR_KIND_SBP,      /* LOINC 8480-6 */
    FHIR_KIND_DBP,      /* LOINC 8462-4 (read past, never scored) */
    FHIR_KIND_TEMP,     /* LOINC 8310-5 */
    FHIR_KIND_FIO2,     /* LOINC 3150-0 inhaled oxygen concentration */
    FHIR_KIND_O2_FLOW,  /* LOINC 3151-8 inhaled oxygen flow rate */
    FHIR_KIND_ACVPU,    /* SNOMED CT 1104441000000107 */
    FHIR_KIND_ROOM_AIR, /* SNOMED CT 722742002 breathing room air */
    FHIR_KIND_ON_O2,    /* SNOMED CT 371825009 patient on oxygen */
    FHIR_KIND_COUNT
} fhir_kind;

typedef struct fhir_code_entry {
    const char *system;
    const char *code;
    fhir_kind kind;
} fhir_code_entry;

/* Look (system, code) up in the observation-code table; FHIR_KIND_NONE when
 * vigil does not know it. */
fhir_kind vigil__fhir_kind_of(const char *system, const char *code);
/* The kind of a NEWS2 parameter's value codes, and back (VIGIL_NEWS2_PARAM_COUNT
 * for a kind that is not one parameter's value: O2 forms, panels). */
fhir_kind vigil__fhir_kind_of_param(vigil_news2_param p);
vigil_news2_param vigil__fhir_param_of_kind(fhir_kind k);
/* Human name of a kind for diagnostics ("respiratory rate"). */
const char *vigil__fhir_kind_label(fhir_kind k);
/* True for kinds whose profile is the R4 vital-signs profile (LOINC coded,
 * category vital-signs required). */
bool vigil__fhir_kind_is_loinc(fhir_kind k);

/* SNOMED CT ACVPU value (UKCore-ACVPU) -> vigil_acvpu; VIGIL_ACVPU_UNKNOWN
 * when not one of the five. */
vigil_acvpu vigil__fhir_acvpu_of_snomed(const char *code);
const char *vigil__fhir_acvpu_snomed(vigil_acvpu a);
const char *vigil__fhir_acvpu_display(vigil_acvpu a);

/* Parse context for one request. */
typedef struct fhir_ctx {
    char path[VIGIL_FHIR_EXPR_MAX];
    size_t len;
    vigil_fhir_issue issue; /* filled by the first failure */
    bool failed;
} fhir_ctx;

/* Start a context whose path is root ("Observation", "Bundle"). */
void vigil__fhir_ctx_init(fhir_ctx *c, const char *root);
/* Append ".key" or "[i]" to the path; return the old length for _pop.
 * A path that would not fit is cut at a component boundary and ends "...". */
size_t vigil__fhir_push_key(fhir_ctx *c, const char *key);
size_t vigil__fhir_push_index(fhir_ctx *c, size_t i);
void vigil__fhir_pop(fhir_ctx *c, size_t old_len);
/* Replace the whole path (e.g. "Bundle.entry[3].resource"). */
void vigil__fhir_set_path(fhir_ctx *c, const char *path);

/* Record the first failure at the current path (later ones are ignored) and
 * return the matching vigil_status. */
vigil_status vigil__fhir_fail(fhir_ctx *c, vigil_fhir_issue_type code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* As above at path ".key" below the current one. */
vigil_status vigil__fhir_fail_at(fhir_ctx *c, const char *key, vigil_fhir_issue_type code,
                                 const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* As vigil__fhir_fail, with no expression (input that is not JSON). */
vigil_status vigil__fhir_fail_nopath(fhir_ctx *c, vigil_fhir_issue_type code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* vigil_status for an issue type: IMPLAUSIBLE is chosen by the caller. */
vigil_status vigil__fhir_status_of(vigil_fhir_issue_type t);

/*
 * Typed getters. Each looks up key in obj: absent -> *out NULL and VIGIL_OK
 * unless required (then "required" at .key); present with the wrong JSON type
 * (null included: FHIR JSON has no nulls) -> "structure" at .key.
 * Strings must be non-empty ("value" otherwise).
 */
vigil_status vigil__fhir_get_object(fhir_ctx *c, json_t *obj, const char *key, bool required,
                                    json_t **out);
vigil_status vigil__fhir_get_array(fhir_ctx *c, json_t *obj, const char *key, bool required,
                                   json_t **out);
vigil_status vigil__fhir_get_string(fhir_ctx *c, json_t *obj, const char *key, bool required,
                                    const char **out);
vigil_status vigil__fhir_get_number(fhir_ctx *c, json_t *obj, const char *key, bool required,
                                    bool *present, double *out);
/* Copy a string that must fit in cap bytes ("too-long" at .key otherwise). */
vigil_status vigil__fhir_copy_id(fhir_ctx *c, const char *key, const char *s, char *dst,
                                 size_t cap);

/* A resource's subject (REQ FHIR-SUBJECT): Patient/<id> (the hospital
 * number), a conditional reference or identifier with an NHS number, into
 * ev->nhs_number and ev->mrn (fhir_observation.c; also Encounter and
 * Condition, fhir_outcome.c). */
vigil_status vigil__fhir_read_subject(fhir_ctx *c, json_t *res, vigil_obs_event *ev);

/* An NHS number identifier value: exactly 10 digits with a valid check
 * digit (REQ NHS-NUMBER-CHECK), else "value" at the current path. */
vigil_status vigil__fhir_nhs_number(fhir_ctx *c, const char *v, char out[VIGIL_NHS_NUMBER_LEN + 1]);

/* True when s is a FHIR id: [A-Za-z0-9.-]{1,64}. */
bool vigil__fhir_is_id(const char *s);
/* True when s[0..n) is well-formed UTF-8. */
bool vigil__fhir_utf8_ok(const char *s, size_t n);

/*
 * FHIR dateTime/instant with a time and a time zone ->  Unix ms UTC.
 * Returns VIGIL_OK, or VIGIL_ERR_PARSE with *why naming the problem
 * ("a date without a time", "no time zone", ...). Fractions of a
 * millisecond are truncated; a leap second 60 counts as the next minute's 0.
 */
vigil_status vigil__fhir_datetime_parse(const char *s, int64_t *out_ms, const char **why);
/* Unix ms -> "YYYY-MM-DDThh:mm:ss[.mmm]Z" (milliseconds only when non-zero).
 * buf holds at least 32 bytes. Returns false for years outside 1-9999. */
bool vigil__fhir_datetime_format(int64_t t_ms, char *buf, size_t cap);

/* Allocation through jansson's allocator (so one json_set_alloc_funcs covers
 * everything this module allocates). */
void *vigil__fhir_malloc(size_t n);
void vigil__fhir_mfree(void *p);

/*
 * True when the Observation res carries no code vigil uses (well-formed
 * codings, none of a vital sign; or diastolic blood pressure alone), with
 * the code named in why (cap bytes). False when it has a vital sign code or
 * its code is malformed (left for vigil__fhir_observation to report).
 */
bool vigil__fhir_code_unused(json_t *res, char *why, size_t cap);

/* Parse one Observation object (already known to be an object) into *ev and
 * the mask of NEWS2 parameters it set (bit 1u << vigil_news2_param).
 * fallback_id (may be NULL) becomes source_id when the resource has no id. */
vigil_status vigil__fhir_observation(fhir_ctx *c, json_t *res, const char *fallback_id,
                                     vigil_obs_event *ev, unsigned *mask);

/* Load JSON text strictly; on failure fills c (structure / too-costly /
 * exception) and returns NULL. */
json_t *vigil__fhir_load(fhir_ctx *c, const char *json, size_t len);

#endif
