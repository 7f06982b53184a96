/*
 * vigil/vitals.h: the one table of vital signs (issue 11). For each NEWS2
 * parameter: its machine name, the field of vigil_obs it lives in, its
 * unit, its plausibility bounds, the codes that carry it on the wire (LOINC,
 * ISO/IEEE 11073 MDC as IHE PCD-01 devices send them, SNOMED CT), its JSON
 * key, its store column and its words. NEWS2 validation, the `vigil news2`
 * CSV, the HL7 and FHIR readers and the FHIR writer, the JSON API, the store
 * and the web app read what they need from here, so adding a parameter is
 * one row here plus its scoring rule in news2.c (docs/core.md "Adding a
 * vital sign").
 *
 * Pure table: no I/O, no allocation, static storage. Thread safety:
 * reentrant. Invariants (checked at compile time where C allows and by
 * tests/core/test_vitals.c): one row per vigil_news2_param, in chart order;
 * every (system, code) pair is unique across the table, and every MDC
 * reference id; numeric rows have min < max and a double field of
 * vigil_obs; the bounds are those of vigil/news2.h (REQ NEWS2-PLAUSIBLE).
 */
#ifndef VIGIL_VITALS_H
#define VIGIL_VITALS_H

#include <stdbool.h>
#include <stddef.h>

#include "vigil/news2.h"

/* What kind of value a parameter holds in vigil_obs. */
typedef enum vigil_vital_type {
    VIGIL_VITAL_NUMBER = 0, /* a double at vigil_vital.offset; NaN when not measured */
    VIGIL_VITAL_O2,         /* vigil_obs.o2: air or supplemental oxygen */
    VIGIL_VITAL_ACVPU,      /* vigil_obs.acvpu: A C V P U */
    VIGIL_VITAL_TYPE_COUNT
} vigil_vital_type;

/* How a code's value gives its parameter. */
typedef enum vigil_vital_form {
    VIGIL_VITAL_FORM_VALUE = 0, /* the value itself, in the row's unit (or converted) */
    VIGIL_VITAL_FORM_FIO2,      /* O2: inhaled oxygen concentration, %: above 21 is oxygen */
    VIGIL_VITAL_FORM_O2_FLOW,   /* O2: inhaled oxygen flow, L/min: above 0 is oxygen */
    VIGIL_VITAL_FORM_ROOM_AIR,  /* O2: the code itself says breathing room air */
    VIGIL_VITAL_FORM_ON_O2,     /* O2: the code itself says supplemental oxygen */
    VIGIL_VITAL_FORM_COUNT
} vigil_vital_form;

/* One code that carries a parameter. */
typedef struct vigil_vital_code {
    const char *system; /* HL7 coding system: "LN" (LOINC), "MDC", "SCT" (SNOMED CT) */
    const char *code;
    const char *refid; /* MDC reference id ("MDC_ECG_HEART_RATE"); NULL otherwise */
    const char *text;  /* words in messages: "heart rate (ECG)" */
    unsigned rank;     /* device method preference: a lower rank's value wins (MDC) */
    vigil_vital_form form;
    const char *fhir_display; /* display when vigil writes this code in FHIR; NULL: never */
    /* VIGIL_VITAL_FORM_FIO2 and _O2_FLOW: the value's unit (UCUM), its
     * plausible bounds (inclusive: outside them a device or typing error)
     * and the most that still means breathing air; every reader (HL7, FHIR)
     * takes them from here (REQ VITALS-O2-BOUNDS). 0 for other forms. */
    const char *o2_ucum;
    double o2_min, o2_max, o2_air_max;
    bool hl7_out; /* the code vigil writes in HL7 v2 (vigil replay): one per row and form */
} vigil_vital_code;

#define VIGIL_VITAL_CODES_MAX 12

typedef struct vigil_vital {
    vigil_news2_param param;
    vigil_vital_type type;
    const char *name;   /* machine name, = vigil_news2_param_name(): "rr", "temp" */
    const char *key;    /* JSON key, CSV column and field named in errors: "rr", "temp_c" */
    const char *label;  /* words: "respiration rate" */
    size_t offset;      /* VIGIL_VITAL_NUMBER: offsetof(vigil_obs, the double) */
    const char *column; /* the obs_set column in the store: "rr_bpm" */
    /* The column is in the first version of the obs_set row digest of the
     * audit chain (docs/store.md, "Audit chain format"): written there
     * always, NULL included, in table order. A parameter added later leaves
     * it false: its column joins the digest only when it holds a value, so
     * the digests of rows stored before it existed do not change. */
    bool digest_v1;
    double min, max;    /* VIGIL_VITAL_NUMBER: plausibility bounds, inclusive */
    const char *unit;   /* unit in words (CSV messages, the web app): "breaths/min" */
    const char *ucum;   /* UCUM code stored and sent: "/min" */
    const char *ucum_text;    /* FHIR Quantity.unit: "breaths/minute" */
    const char *fhir_profile; /* the profile of the Observation vigil writes */
    const char *fhir_text;    /* its code.text */
    /* The web app (through build/web/js/vitals.js): the entry form's label,
     * the sets table's column heading, decimals shown and typed (0: whole
     * numbers), and the chart's panel: its axis label and value range
     * (VIGIL_VITAL_NUMBER; chart_label NULL: no panel). The range is the
     * usual span shown, not a bound: a value outside is drawn at the edge
     * of its band, and the bands are the scoring rule's. */
    const char *form_label; /* "Respiration rate (breaths per minute)" */
    const char *heading;    /* "Resp." */
    int decimals;
    const char *chart_label; /* "Respirations (per min)" */
    double chart_lo, chart_hi;
    vigil_vital_code codes[VIGIL_VITAL_CODES_MAX]; /* built-in codes; end at code == NULL */
} vigil_vital;

/* The row of parameter p; NULL when p is out of range. Static storage. */
const vigil_vital *vigil_vital_get(vigil_news2_param p);

/* The row whose JSON key is key ("temp_c"); NULL when none. */
const vigil_vital *vigil_vital_by_key(const char *key);

/*
 * The code (system, code) of the table, with its row in *out_row (may be
 * NULL); NULL when no row has it. system as in vigil_vital_code ("LN").
 */
const vigil_vital_code *vigil_vital_code_find(const char *system, const char *code,
                                              const vigil_vital **out_row);

/* The first code of the table whose value has form f (VIGIL_VITAL_FORM_FIO2:
 * LOINC 3150-0, with its bounds); NULL when none. */
const vigil_vital_code *vigil_vital_code_of_form(vigil_vital_form f);

/* True when obs holds a value of p (a number, air/oxygen, a level). */
bool vigil_vital_present(const vigil_obs *obs, vigil_news2_param p);

/* The number of a VIGIL_VITAL_NUMBER row in obs (NaN: not measured); NaN for other rows. */
double vigil_vital_number(const vigil_obs *obs, const vigil_vital *v);

/* Set the number of a VIGIL_VITAL_NUMBER row in obs; nothing for other rows. */
void vigil_vital_set_number(vigil_obs *obs, const vigil_vital *v, double value);

/* Copy p's value (whatever its type) from src to dst. */
void vigil_vital_copy(vigil_obs *dst, const vigil_obs *src, vigil_news2_param p);

/* True when a and b hold the same value of p (two unmeasured numbers are not equal). */
bool vigil_vital_equal(const vigil_obs *a, const vigil_obs *b, vigil_news2_param p);

/* Forget p's value in obs: it becomes "not measured". */
void vigil_vital_clear(vigil_obs *obs, vigil_news2_param p);

#endif
