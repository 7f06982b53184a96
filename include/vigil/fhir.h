/*
 * vigil/fhir.h: FHIR R4 for the ward service. JSON bytes in, validated
 * observation events out; and the FHIR JSON vigil sends back
 * (OperationOutcome, vital-sign and NEWS2 Observations, searchset and
 * transaction-response Bundles).
 *
 * Specs: FHIR R4 (4.0.1) Observation, Bundle (type transaction),
 * OperationOutcome and the vital-signs profile
 * (http://hl7.org/fhir/StructureDefinition/vitalsigns); UK Core
 * UKCore-Observation-ACVPU, -InspiredOxygen and -EarlyWarningTotalScore with
 * their value sets (UKCore-ACVPU, UKCore-InspiredOxygen,
 * UKCore-EarlyWarningSubScore). The accepted subset, the code and unit
 * tables and every refusal are listed in docs/fhir.md.
 *
 * Pure: no sockets, no files, no clock (the server owns HTTP and decides what
 * "now" is). JSON is read with jansson in strict mode (duplicate keys,
 * trailing text and \u0000 are refused).
 *
 * Invariants:
 *  - Input is all-or-nothing: a Bundle with one bad entry yields no events.
 *  - Every refusal fills one vigil_fhir_issue (an OperationOutcome issue
 *    with a code and a FHIRPath expression naming the element), never a bare
 *    string. The parser stops at the first problem it finds.
 *  - A vital sign outside the NEWS2 plausibility bounds of vigil/news2.h is
 *    refused naming the element and the value; a parameter the message does
 *    not carry stays "not measured" (never zero).
 *  - A NEWS2 total built from an incomplete set is emitted with
 *    valueQuantity.comparator ">=" (a FHIR modifier element) and an
 *    "incomplete" interpretation: it is never presented as complete.
 *
 * Thread safety: every function is reentrant. Memory comes from jansson's
 * allocator (json_set_alloc_funcs), the C library's unless the process
 * changes it; release what these functions return with the matching
 * vigil_fhir_*_free / _fini function.
 */
#ifndef VIGIL_FHIR_H
#define VIGIL_FHIR_H

#include <stdbool.h>
#include <stddef.h>

#include "vigil/news2.h"
#include "vigil/status.h"
#include "vigil/ward.h"

/* Refused before parsing: larger inputs get issue code too-costly. */
#define VIGIL_FHIR_MAX_BYTES (4u * 1024u * 1024u)
/* Most entries in one transaction Bundle (more: too-costly). */
#define VIGIL_FHIR_MAX_ENTRIES 1000u
/* Buffer sizes of an issue (text is truncated to fit, never overrun). */
#define VIGIL_FHIR_EXPR_MAX 160
#define VIGIL_FHIR_DIAG_MAX 320
/* Longest event id accepted by the output builders: the id plus the longest
 * suffix ("-news2", "-acvpu") must be a FHIR id of at most 64 characters. */
#define VIGIL_FHIR_EVENT_ID_MAX 58

/* OperationOutcome.issue.severity (R4 value set IssueSeverity). */
typedef enum vigil_fhir_severity {
    VIGIL_FHIR_SEV_FATAL = 0, /* input could not be read at all */
    VIGIL_FHIR_SEV_ERROR,     /* input read, but refused */
    VIGIL_FHIR_SEV_WARNING,
    VIGIL_FHIR_SEV_INFORMATION,
    VIGIL_FHIR_SEV_COUNT
} vigil_fhir_severity;

/* OperationOutcome.issue.code: the subset of R4 IssueType vigil uses. */
typedef enum vigil_fhir_issue_type {
    VIGIL_FHIR_ISSUE_INVALID = 0,   /* "invalid": contradicts the spec or profile */
    VIGIL_FHIR_ISSUE_STRUCTURE,     /* "structure": not JSON, duplicate key, wrong JSON type */
    VIGIL_FHIR_ISSUE_REQUIRED,      /* "required": a required element is missing */
    VIGIL_FHIR_ISSUE_VALUE,         /* "value": bad date, NHS number, status, implausible vital */
    VIGIL_FHIR_ISSUE_CODE_INVALID,  /* "code-invalid": unit, unit system, category, ACVPU code */
    VIGIL_FHIR_ISSUE_EXTENSION,     /* "extension": a modifierExtension vigil cannot honour */
    VIGIL_FHIR_ISSUE_NOT_SUPPORTED, /* "not-supported": valid FHIR outside vigil's subset */
    VIGIL_FHIR_ISSUE_DUPLICATE,     /* "duplicate": one vital given twice for one set */
    VIGIL_FHIR_ISSUE_BUSINESS_RULE, /* "business-rule": air and oxygen both claimed */
    VIGIL_FHIR_ISSUE_TOO_LONG,      /* "too-long": an id or reference longer than vigil keeps */
    VIGIL_FHIR_ISSUE_TOO_COSTLY,    /* "too-costly": input or entry count over the limits */
    VIGIL_FHIR_ISSUE_PROCESSING,    /* "processing": any other refusal */
    VIGIL_FHIR_ISSUE_EXCEPTION,     /* "exception": out of memory, internal error */
    VIGIL_FHIR_ISSUE_COUNT
} vigil_fhir_issue_type;

/* One OperationOutcome issue. expression is a FHIRPath such as
 * "Bundle.entry[2].resource.valueQuantity.value", or "" when no element can be
 * named (input that is not JSON). diagnostics says what was wrong, with the
 * value found. */
typedef struct vigil_fhir_issue {
    vigil_fhir_severity severity;
    vigil_fhir_issue_type code;
    char expression[VIGIL_FHIR_EXPR_MAX];
    char diagnostics[VIGIL_FHIR_DIAG_MAX];
} vigil_fhir_issue;

/* "fatal", "error", ...; "?" when out of range. */
const char *vigil_fhir_severity_name(vigil_fhir_severity s);
/* "invalid", "structure", "not-supported", ...; "?" when out of range. */
const char *vigil_fhir_issue_type_name(vigil_fhir_issue_type t);

/*
 * The HTTP status a FHIR server answers with for this issue (R4 RESTful API,
 * "create"): 400 for content that cannot be read (structure), 413 for
 * too-costly, 500 for exception, 422 for everything else (read but refused by
 * profile or business rules).
 */
int vigil_fhir_issue_http_status(const vigil_fhir_issue *issue);

/* The events read from one request. Caller-owned struct; the events array is
 * allocated by the parser and released by vigil_fhir_batch_fini. */
/* A transaction entry vigil did not use (not stored), and why (a warning). */
typedef struct vigil_fhir_skip {
    size_t entry;           /* 0-based index in Bundle.entry */
    vigil_fhir_issue issue; /* severity warning, code not-supported */
} vigil_fhir_skip;

typedef struct vigil_fhir_batch {
    vigil_obs_event *events; /* n_events of them, in order of first appearance */
    size_t n_events;
    size_t n_entries; /* resources read: 1 for an Observation, entry count for a Bundle */
    bool transaction; /* true when the input was a transaction Bundle */
    /* REQ FHIR-BUNDLE-SKIP: entries holding no vital sign vigil uses (an
     * Observation of another code, e.g. body weight, or another resource
     * type), left out and reported; owned, freed by vigil_fhir_batch_fini */
    vigil_fhir_skip *skipped;
    size_t n_skipped;
} vigil_fhir_batch;

/*
 * Parse one Observation (vital-signs profile subset, docs/fhir.md) from
 * json[0..len) into *out (source VIGIL_SRC_FHIR). json need not be
 * NUL-terminated and is not kept.
 * Returns VIGIL_OK; VIGIL_ERR_PARSE for any refused input (issue says why),
 * VIGIL_ERR_IMPLAUSIBLE for a vital outside the plausibility bounds,
 * VIGIL_ERR_NOMEM, VIGIL_ERR_ARG for NULL json or out. A Bundle is refused
 * (not-supported). On error *out is unchanged and *issue (when non-NULL) is
 * filled; on success *issue is untouched.
 */
vigil_status vigil_fhir_parse_observation(const char *json, size_t len, vigil_obs_event *out,
                                          vigil_fhir_issue *issue);

/*
 * Parse a transaction Bundle of Observations. Every entry must be a POST of
 * an Observation; observations of the same patient (same NHS number and same
 * local id) and the same instant (after time-zone normalisation) are merged
 * into one event, one NEWS2 set. All-or-nothing: on any error no event is
 * returned. *out must be zeroed or finished; on success it owns a new events
 * array (n_events may be 0 for an empty Bundle). Returns as above; a bare
 * Observation is refused (not-supported).
 */
vigil_status vigil_fhir_parse_transaction(const char *json, size_t len, vigil_fhir_batch *out,
                                          vigil_fhir_issue *issue);

/* Either of the above, chosen by resourceType: an Observation gives one event
 * and n_entries 1, a transaction Bundle as vigil_fhir_parse_transaction. */
vigil_status vigil_fhir_parse(const char *json, size_t len, vigil_fhir_batch *out,
                              vigil_fhir_issue *issue);

/* Release the events of a batch and zero it. No-op on NULL. */
void vigil_fhir_batch_fini(vigil_fhir_batch *b);

/*
 * Output builders. Each writes a new NUL-terminated compact JSON string to
 * *out_json (release with vigil_fhir_free); on error *out_json is unchanged.
 * They return VIGIL_ERR_ARG (err says which argument) for an event that fails
 * vigil_news2_validate, an event id that is not a FHIR id of at most
 * VIGIL_FHIR_EVENT_ID_MAX characters, an mrn that is not a FHIR id (it
 * becomes the Patient reference) or text that is not UTF-8; VIGIL_ERR_NOMEM.
 *
 * Resource ids are derived from the caller's event id: "<event_id>-rr",
 * "-spo2", "-o2", "-sbp", "-hr", "-acvpu", "-temp" for vital signs (the names
 * of vigil_news2_param_name) and "<event_id>-news2" for the NEWS2 total.
 */

/* OperationOutcome with issues[0..n) (n >= 1). */
vigil_status vigil_fhir_outcome_json(const vigil_fhir_issue *issues, size_t n, char **out_json);

/* Observation for one measured vital sign of ev. VIGIL_ERR_NOT_FOUND when
 * param is not measured in ev. */
vigil_status vigil_fhir_vital_json(const vigil_obs_event *ev, vigil_news2_param param,
                                   const char *event_id, char **out_json, vigil_err *err);

/*
 * Observation for a NEWS2 total (UKCore-Observation-EarlyWarningTotalScore:
 * SNOMED CT 1104051000000101, category survey), sub-scores as components
 * (UKCore-EarlyWarningSubScore codes; a missing parameter has
 * dataAbsentReason "not-performed"), derivedFrom the vital Observations
 * present, risk and flags as interpretations. When score->complete is false
 * the value carries comparator ">=" with an "incomplete" interpretation and a
 * note naming what is missing. A score whose fields contradict each other
 * (complete with a missing sub-score, sub-score out of 0-3, total not their
 * sum) is refused with VIGIL_ERR_ARG.
 */
vigil_status vigil_fhir_news2_json(const vigil_obs_event *ev, const vigil_news2 *score,
                                   const char *event_id, char **out_json, vigil_err *err);

/* One observation set in a search result: its vital signs, and its NEWS2
 * total when score is non-NULL. All pointers borrowed for the call. */
typedef struct vigil_fhir_search_item {
    const vigil_obs_event *ev;
    const vigil_news2 *score; /* may be NULL */
    const char *event_id;
} vigil_fhir_search_item;

/*
 * searchset Bundle for GET of a patient's observations and scores: for each
 * item, one Observation per measured vital (chart order) then the NEWS2
 * total; total = number of entries, each with search.mode "match". base_url
 * (e.g. "https://ward.example.nhs.uk/fhir", no trailing slash) gives each
 * entry fullUrl <base_url>/Observation/<id>; self_url a link "self". Both
 * may be NULL (omitted). n may be 0 (an empty searchset).
 */
vigil_status vigil_fhir_searchset_json(const vigil_fhir_search_item *items, size_t n,
                                       const char *base_url, const char *self_url, char **out_json,
                                       vigil_err *err);

/*
 * transaction-response Bundle for an accepted transaction of n_entries
 * entries: one entry per request entry, in order, response.status
 * "201 Created", and response.location locations[i] when locations and
 * locations[i] are non-NULL.
 */
/*
 * The same, where the entries skipped[0..n_skipped) were not used: each of
 * those gets response.status "200 OK" and response.outcome, an
 * OperationOutcome holding its warning, instead of "201 Created".
 */
vigil_status vigil_fhir_transaction_response_skips_json(size_t n_entries,
                                                        const char *const *locations,
                                                        const vigil_fhir_skip *skipped,
                                                        size_t n_skipped, char **out_json,
                                                        vigil_err *err);

vigil_status vigil_fhir_transaction_response_json(size_t n_entries, const char *const *locations,
                                                  char **out_json, vigil_err *err);

/* Release a string from the builders above. No-op on NULL. */
void vigil_fhir_free(char *json);

/* ---- deterioration outcomes in (issue 14 item 3; docs/fhir.md "Outcomes") ---- */

typedef enum vigil_fhir_outcome_kind {
    VIGIL_FHIR_OUTCOME_NONE = 0, /* a resource vigil read that records no outcome */
    VIGIL_FHIR_OUTCOME_DEATH,    /* Encounter: dischargeDisposition exp (expired) */
    VIGIL_FHIR_OUTCOME_TRANSFER, /* Encounter: ended with a hospitalization.destination
                                    (the server decides whether it is critical care) */
    VIGIL_FHIR_OUTCOME_SEPSIS,   /* Condition: a sepsis code (SNOMED CT or ICD-10) */
    VIGIL_FHIR_OUTCOME_COUNT
} vigil_fhir_outcome_kind;

#define VIGIL_FHIR_CODE_MAX 63

/* What an Encounter or Condition says about a deterioration outcome. */
typedef struct vigil_fhir_outcome {
    vigil_fhir_outcome_kind kind;
    char nhs_number[VIGIL_NHS_NUMBER_LEN + 1]; /* subject, or "" */
    char mrn[VIGIL_ID_MAX];                    /* subject Patient/<id> or local id, or "" */
    int64_t t_ms;                              /* Encounter period.end; Condition onset or
                                                  recordedDate */
    char destination[VIGIL_ID_MAX]; /* TRANSFER: destination display or identifier value */
    char code[VIGIL_FHIR_CODE_MAX + 1]; /* the code that made it an outcome ("exp",
                                           "91302008", "A41.9") */
    char resource_id[VIGIL_ID_MAX];     /* the resource's id, or "" */
} vigil_fhir_outcome;

/*
 * Parse an Encounter (status finished; period.end; hospitalization.
 * dischargeDisposition coded in http://terminology.hl7.org/CodeSystem/
 * discharge-disposition, "exp" = died; or hospitalization.destination, a
 * transfer) or a Condition (code.coding: SNOMED CT sepsis concepts 91302008,
 * 76571007, 10001005, or ICD-10 A40, A41, R65.2, R57.2 and their children;
 * verificationStatus not refuted or entered-in-error; onsetDateTime or
 * recordedDate) from json[0..len). Other resources are refused
 * (not-supported). A valid resource that names no outcome gives kind NONE.
 * Returns VIGIL_OK, VIGIL_ERR_PARSE (issue says why), VIGIL_ERR_ARG; on error
 * *out is unchanged. Reentrant.
 */
vigil_status vigil_fhir_parse_outcome(const char *json, size_t len, vigil_fhir_outcome *out,
                                      vigil_fhir_issue *issue);

/* ---- patients in (issue 14: the sex subgroup; docs/fhir.md "Patient") ---- */

/* Who a Patient resource is and its administrative sex. */
typedef struct vigil_fhir_patient {
    char nhs_number[VIGIL_NHS_NUMBER_LEN + 1]; /* identifier in the NHS number system, or "" */
    char mrn[VIGIL_ID_MAX]; /* the resource id (what Patient/<id> references name), else the
                               first other identifier's value, or "" */
    vigil_admin_sex sex;    /* gender; NONE when absent */
} vigil_fhir_patient;

/*
 * Parse a FHIR R4 Patient from json[0..len): identifier (the NHS number
 * system, checked; any other system a local number), id, gender (female,
 * male, other, unknown: REQ FHIR-PATIENT-GENDER). Needs an NHS number or a
 * local number. Other members are ignored; a modifierExtension is refused.
 * Returns VIGIL_OK, VIGIL_ERR_PARSE (issue says why), VIGIL_ERR_ARG; on
 * error *out is unchanged. Reentrant.
 */
vigil_status vigil_fhir_parse_patient(const char *json, size_t len, vigil_fhir_patient *out,
                                      vigil_fhir_issue *issue);

#endif
