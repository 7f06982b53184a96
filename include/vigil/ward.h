/*
 * vigil/ward.h: the values that cross module boundaries on the live ward:
 * NHS numbers and an observation event (one observation set for one patient
 * at one time, from whichever interface it arrived by). Pure: no I/O, no
 * allocation. Thread safety: reentrant.
 *
 * Spec: NHS Data Model and Dictionary, "NHS Number" (10 digits, the last a
 * modulus 11 check digit).
 */
#ifndef VIGIL_WARD_H
#define VIGIL_WARD_H

#include <stdbool.h>
#include <stdint.h>

#include "vigil/news2.h"
#include "vigil/status.h"

#define VIGIL_NHS_NUMBER_LEN 10
#define VIGIL_ID_MAX 64

/*
 * Validate an NHS number: exactly 10 digits (spaces or hyphens between
 * groups, as in "943 476 5919", are accepted and removed), with a correct
 * modulus-11 check digit (REQ NHS-NUMBER-CHECK). On success writes the 10
 * digits and a NUL into out (11 bytes) when out is non-NULL.
 */
vigil_status vigil_nhs_number_parse(const char *text, char out[VIGIL_NHS_NUMBER_LEN + 1],
                                    vigil_err *err);

/* True when text is a valid NHS number (as above). */
bool vigil_nhs_number_valid(const char *text);

/*
 * Administrative sex, as the feeds send it: HL7 v2 PID-8 (table 0001: F, M,
 * O/A/N/X, U) and FHIR R4 Patient.gender (AdministrativeGender: female,
 * male, other, unknown). NONE is "not given" (an empty field), which never
 * overwrites a stored value; UNKNOWN is a value a sender stated.
 */
typedef enum vigil_admin_sex {
    VIGIL_ADMIN_SEX_NONE = 0,
    VIGIL_ADMIN_SEX_FEMALE,
    VIGIL_ADMIN_SEX_MALE,
    VIGIL_ADMIN_SEX_OTHER,
    VIGIL_ADMIN_SEX_UNKNOWN,
    VIGIL_ADMIN_SEX_COUNT
} vigil_admin_sex;

/* The FHIR AdministrativeGender code of s ("female", ...; "" for NONE), the
 * text the store and the API use. Never NULL; "" for a value out of range. */
const char *vigil_admin_sex_name(vigil_admin_sex s);

/* The sex named name (a vigil_admin_sex_name, "" for NONE); VIGIL_ERR_ARG for any
 * other text (*out unchanged). */
vigil_status vigil_admin_sex_parse(const char *name, vigil_admin_sex *out, vigil_err *err);

/* Where an observation set came from. */
typedef enum vigil_obs_source {
    VIGIL_SRC_UNKNOWN = 0,
    VIGIL_SRC_HL7,
    VIGIL_SRC_FHIR,
    VIGIL_SRC_API,
    VIGIL_SRC_REPLAY,
    VIGIL_SRC_COUNT
} vigil_obs_source;

/*
 * One observation set for one patient. Caller-owned, copyable, no heap
 * pointers. Parameters not carried by the message stay "not measured"
 * (vigil_obs_init), so NEWS2 reports them as missing.
 */
typedef struct vigil_obs_event {
    char nhs_number[VIGIL_NHS_NUMBER_LEN + 1]; /* validated, or "" when absent */
    char mrn[VIGIL_ID_MAX];                    /* local hospital number, or "" */
    int64_t t_ms;                              /* when measured, Unix ms UTC */
    vigil_obs obs;
    vigil_obs_source source;
    char source_id[VIGIL_ID_MAX]; /* message control id / resource id */
    /* Who sent it, with source_id the key that finds a resend: for HL7 the
     * sending application and facility (MSH-3, MSH-4), since HL7 makes MSH-10
     * unique per sending system only; "" when the source has one sender. */
    char sender[VIGIL_ID_MAX];
    char recorded_by[VIGIL_ID_MAX]; /* user or device id, or "" */
    vigil_admin_sex sex; /* the patient's administrative sex when the message states it */
} vigil_obs_event;

void vigil_obs_event_init(vigil_obs_event *ev);

#endif
