/*
 * vigil/features.h: the patient timeline and the feature vector the
 * deterioration model reads. One implementation serves training (PhysioNet
 * stays) and the live ward (observation events), so a model sees the same
 * numbers in both. See docs/features.md.
 *
 * Timeline: per-variable measurements (time in hours since the stay's
 * origin, value) kept at their own times, plus an hourly grid. Hour h holds
 * the measurements with h-1 < t <= h (hour = ceil(t)); for PhysioNet 2019,
 * t = ICULOS so hour = ICULOS; for 2012, t = HH + MM/60; on the ward, t =
 * hours since ward admission. "Data up to hour h" means every measurement
 * with t <= h.
 *
 * Features: vigil_features_at(tl, h) fills VIGIL_FEATURES_COUNT floats from
 * data up to hour h only (REQ FEAT-CAUSAL): adding, removing or changing
 * anything measured after h never changes them. NaN means "not available";
 * nothing is imputed. Each feature has a stable name and a group; the
 * ordered names and VIGIL_FEATURES_VERSION make the specification whose
 * 64-bit FNV-1a hash a model bundle records (REQ FEAT-SPEC-HASH).
 *
 * Does not: read files (vigil/data.h does), score risk, or choose which
 * features a model uses (the model's feature list does, by name).
 * Ownership: a timeline is opaque (_new/_free) and owns its memory; reset()
 * keeps capacity for reuse. Thread safety: a timeline belongs to one thread
 * while it is being built; a finished timeline may be read (features_at,
 * latest) from several threads at once. The feature tables are constant.
 */
#ifndef VIGIL_FEATURES_H
#define VIGIL_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/news2.h"
#include "vigil/status.h"
#include "vigil/vars.h"

/* ---------------------------------------------------------------- timeline */

typedef struct vigil_timeline vigil_timeline;

/* No hour: returned by first/last_hour for a timeline without records. */
#define VIGIL_TIMELINE_NO_HOUR (-2147483647L - 1)

/* Times must lie within +-VIGIL_TIMELINE_T_MAX hours (or adding fails) and
 * span fewer than VIGIL_TIMELINE_SPAN_MAX hours, about 11 years (or finish
 * fails). */
#define VIGIL_TIMELINE_T_MAX 1000000.0
#define VIGIL_TIMELINE_SPAN_MAX 100000L

/* NEWS2 inputs older than this many hours at the scoring hour count as
 * missing (a value measured at t is used at hour h while h - t < 24). */
#define VIGIL_FEATURES_NEWS2_MAX_AGE_H 24

/* Allocate an empty timeline. */
vigil_status vigil_timeline_new(vigil_timeline **out, vigil_err *err);

/* Release it. NULL is a no-op. */
void vigil_timeline_free(vigil_timeline *tl);

/* Empty it for a new stay (memory kept). Patient descriptors become unknown. */
void vigil_timeline_reset(vigil_timeline *tl);

/* Patient descriptors: age in years (NaN unknown; implausible ages are
 * refused with VIGIL_ERR_IMPLAUSIBLE), sex 0 female, 1 male, -1 unknown. */
vigil_status vigil_timeline_set_patient(vigil_timeline *tl, double age_y, int sex, vigil_err *err);

/* A record (a 2019 row, a 2012 measurement row, a ward observation set)
 * exists at t_h, even if it carries no usable value: it defines the first
 * record's time and the hours the stay spans. */
vigil_status vigil_timeline_add_record(vigil_timeline *tl, double t_h, vigil_err *err);

/*
 * Add one measurement at t_h. The value is checked with vigil_var_check()
 * (VIGIL_ERR_IMPLAUSIBLE: nothing added) and stored in canonical form.
 * Descriptor variables (age, height) are refused with VIGIL_ERR_ARG. A second
 * value of the same variable at exactly the same time replaces the first
 * (the later one added wins). Order of adding does not matter.
 */
vigil_status vigil_timeline_add(vigil_timeline *tl, double t_h, vigil_var var, double value,
                                vigil_err *err);

/* Add n measurements (as vigil_timeline_add); stops at the first error, with
 * the ones before it added. */
vigil_status vigil_timeline_add_meas(vigil_timeline *tl, const vigil_meas *m, size_t n,
                                     vigil_err *err);

/*
 * The live ward: one observation set at t_h. Validates the whole set first
 * (vigil_news2_validate); on error nothing is added. Adds a record and each
 * present parameter: rr -> resp, spo2, sbp, hr, temp_c -> temp, acvpu (when
 * known) and o2 (when known) -> on_oxygen. Scale 2 is not carried: feature
 * NEWS2 is scored on Scale 1, as in training (docs/features.md).
 */
vigil_status vigil_timeline_add_obs(vigil_timeline *tl, double t_h, const vigil_obs *obs,
                                    vigil_err *err);

/* Sort, build the hourly grid and the hourly NEWS2 used by news2_max24.
 * Required before reading; adding afterwards needs another finish. */
vigil_status vigil_timeline_finish(vigil_timeline *tl, vigil_err *err);

/* Hour of a time: ceil(t_h). */
long vigil_timeline_hour_of(double t_h);

/* ceil(first record time) and ceil(last record time); VIGIL_TIMELINE_NO_HOUR
 * when there is no record. Training rows are the hours first..last. */
long vigil_timeline_first_hour(const vigil_timeline *tl);
long vigil_timeline_last_hour(const vigil_timeline *tl);

/* Time of the first record (NaN when none). */
double vigil_timeline_first_t(const vigil_timeline *tl);

/* Number of measurements of var. */
size_t vigil_timeline_count(const vigil_timeline *tl, vigil_var var);

/* Latest value of var measured at or before hour (finished timeline);
 * VIGIL_ERR_NOT_FOUND when there is none. out_t_h may be NULL. */
vigil_status vigil_timeline_latest(const vigil_timeline *tl, vigil_var var, long hour,
                                   double *out_value, double *out_t_h);

/*
 * The NEWS2 the features use at hour: inputs are the latest values measured
 * within VIGIL_FEATURES_NEWS2_MAX_AGE_H, mapped as documented
 * (docs/features.md, REQ FEAT-NEWS2-MAP): rr, spo2, sbp, hr, temp directly;
 * air/oxygen from on_oxygen, else oxygen when mechvent is charted or
 * fio2 > 0.21, air when fio2 <= 0.21, unknown otherwise; consciousness from
 * acvpu, else GCS 15 -> A and GCS < 15 -> not alert (scored 3, passed as V),
 * unknown otherwise (never imputed). Scale 1.
 */
vigil_status vigil_timeline_news2(const vigil_timeline *tl, long hour, vigil_news2 *out,
                                  vigil_err *err);

/* ---------------------------------------------------------------- features */

#define VIGIL_FEATURES_VERSION 4

/* Number of features: 8 vitals x 30 + 36 labs/charting x 6 + 7 derived +
 * 16 NEWS2 + 2 demographic + 2 time (checked at compile time). */
#define VIGIL_FEATURES_COUNT 483

typedef enum vigil_feature_group {
    VIGIL_FG_VITAL_LATEST = 0, /* vital: last value, hours since, never-measured flag */
    VIGIL_FG_VITAL_CHANGE,     /* vital: change vs t-1, t-3, t-6; slopes over 6 and 12 h */
    VIGIL_FG_VITAL_WINDOW,     /* vital: min, max, mean over 6 and 24 h; count in 24 h */
    VIGIL_FG_LAB,              /* lab/charting: last, hours since, flag, change since previous */
    VIGIL_FG_DERIVED,          /* shock index, pulse pressure, SpO2/FiO2, PaO2/FiO2, BUN/Cr */
    VIGIL_FG_NEWS2,            /* NEWS2 total, sub-scores, missing count, complete, max 24 h */
    VIGIL_FG_DEMOGRAPHIC,      /* age, sex */
    VIGIL_FG_TIME,             /* hours since admission, hours since first record */
    VIGIL_FG_COUNT
} vigil_feature_group;

/* What a feature computes (for documentation and tools). */
typedef enum vigil_feature_stat {
    VIGIL_FS_LAST = 0,
    VIGIL_FS_HSINCE,
    VIGIL_FS_MISS,
    VIGIL_FS_D1,
    VIGIL_FS_D3,
    VIGIL_FS_D6,
    VIGIL_FS_SLOPE6,
    VIGIL_FS_SLOPE12,
    VIGIL_FS_MIN6,
    VIGIL_FS_MAX6,
    VIGIL_FS_MEAN6,
    VIGIL_FS_MIN24,
    VIGIL_FS_MAX24,
    VIGIL_FS_MEAN24,
    VIGIL_FS_N24,
    VIGIL_FS_DPREV,
    VIGIL_FS_MINALL, /* lowest value measured so far in the stay (up to the hour) */
    VIGIL_FS_MAXALL, /* highest value measured so far in the stay */
    VIGIL_FS_D12,     /* latest minus latest at h-12 (spec v3) */
    VIGIL_FS_D24,     /* latest minus latest at h-24 (spec v3) */
    VIGIL_FS_SD6,     /* standard deviation over (h-6, h] (spec v3) */
    VIGIL_FS_SD24,    /* standard deviation over (h-24, h] (spec v3) */
    VIGIL_FS_DEVBASE, /* latest minus the mean over (h-24, h-6]: own baseline (spec v3) */
    VIGIL_FS_ABN6,    /* fraction of (h-6, h]'s values outside the normal range (spec v3) */
    VIGIL_FS_ABN24,   /* same over (h-24, h] (spec v3) */
    VIGIL_FS_ABOVE,   /* max(0, latest - where "above normal" starts) (spec v4) */
    VIGIL_FS_BELOW,   /* max(0, where "below normal" starts - latest) (spec v4) */
    VIGIL_FS_ABOVE6,  /* max(0, max over (h-6, h] - reference) (spec v4) */
    VIGIL_FS_BELOW6,  /* max(0, reference - min over (h-6, h]) (spec v4) */
    VIGIL_FS_ABOVE24, /* the same over (h-24, h] (spec v4) */
    VIGIL_FS_BELOW24, /* the same over (h-24, h] (spec v4) */
    VIGIL_FS_OTHER, /* derived, NEWS2, demographic and time features */
    VIGIL_FS_COUNT
} vigil_feature_stat;

typedef struct vigil_feature_info {
    const char *name; /* stable: "hr_last", "resp_slope6", "news2_total" */
    vigil_feature_group group;
    vigil_feature_stat stat;
    int var; /* the vigil_var it reads, or -1 */
} vigil_feature_info;

/* Number of features (VIGIL_FEATURES_COUNT, also as a function for tools). */
size_t vigil_features_count(void);

/* Table row i (NULL when out of range). Static storage. */
const vigil_feature_info *vigil_features_info(size_t i);

/* Index of the feature called name; VIGIL_ERR_NOT_FOUND when none. */
vigil_status vigil_features_find(const char *name, size_t *out_index);

/* "vital_latest", "vital_change", "vital_window", "lab", "derived", "news2",
 * "demographic", "time". */
const char *vigil_feature_group_name(vigil_feature_group g);

/* The specification text: "vigil-features v<VERSION>\n" then one name per
 * line. Writes at most cap bytes (NUL-terminated when cap > 0) and returns
 * the length it needed, like snprintf. */
size_t vigil_features_spec(char *buf, size_t cap);

/* 64-bit FNV-1a of the specification text (REQ FEAT-SPEC-HASH). */
uint64_t vigil_features_spec_hash(void);

/* The same as 16 lower-case hex digits and a NUL. */
void vigil_features_spec_hash_hex(char out[17]);

/* 64-bit FNV-1a of n bytes (offset basis 14695981039346656037, prime
 * 1099511628211), exposed for tests and bundle tools. */
uint64_t vigil_fnv1a64(const void *data, size_t n);

/*
 * Fill out[0..VIGIL_FEATURES_COUNT-1] with the features at hour from data up
 * to hour only (REQ FEAT-CAUSAL). The timeline must be finished. n_out must
 * be at least vigil_features_count(). Any hour is allowed (before the first
 * record every measurement feature is NaN).
 */
vigil_status vigil_features_at(const vigil_timeline *tl, long hour, float *out, size_t n_out,
                               vigil_err *err);

/*
 * Features for every hour from first_hour to last_hour, row-major into out
 * (row r is hour first_hour + r), exactly as vigil_features_at would give
 * them. cap_rows is the rows out can hold; *out_rows receives the rows
 * written (0 when the timeline has no record). VIGIL_ERR_ARG when cap_rows is
 * too small (nothing written).
 */
vigil_status vigil_features_stay(const vigil_timeline *tl, float *out, size_t cap_rows,
                                 size_t *out_rows, vigil_err *err);

/* ------------------------------------------------------------ feature sets */

/*
 * Which features a model may read (docs/features.md, "Feature sets").
 * RESEARCH: every feature but the ICU-admission clock (the earlier shipped
 * models' set, kept so its figures can be printed beside the ward models;
 * never a default). WARD_VITALS: what a ward records in an observation set
 * (respiration rate, SpO2, temperature, systolic BP, pulse) as values,
 * changes, variability, time outside the normal range and NEWS2 points, plus
 * age and sex. WARD_LABS: WARD_VITALS plus routine bloods from a lab feed as
 * values only (creatinine, urea, white cells, platelets, haemoglobin,
 * bilirubin, lactate, potassium, sodium, glucose). Both ward sets leave out
 * every time-in-stay feature and proxy (hours since admission or the first
 * record, lowest/highest so far, counts), every measurement-process feature
 * (hours since, never measured, counts of tests, NEWS2 parameters missing),
 * ICU-only inputs (EtCO2, FiO2 and everything derived from it, arterial
 * gases, ventilation, GCS, urine) and inputs a ward observation set does not
 * carry (MAP, DBP); troponin is refused (its scale differs between the two
 * 2019 hospitals).
 */
typedef enum vigil_feature_set {
    VIGIL_FSET_RESEARCH = 0,
    VIGIL_FSET_WARD_VITALS,
    VIGIL_FSET_WARD_LABS,
    VIGIL_FSET_COUNT
} vigil_feature_set;

/* "research", "ward-vitals", "ward-vitals+labs". */
const char *vigil_feature_set_name(vigil_feature_set s);

/* The set called name; VIGIL_ERR_NOT_FOUND when none. */
vigil_status vigil_feature_set_from_name(const char *name, vigil_feature_set *out);

/* Feature i may be read by a model of set s (false when i is out of range). */
bool vigil_features_in_set(size_t i, vigil_feature_set s);

/* Where a ward gets variable v for a model of set s: "observation set",
 * "lab feed", "patient record" (age, sex), or NULL when v is not a ward
 * input of s. Static storage. */
const char *vigil_feature_set_source(vigil_feature_set s, vigil_var v);

/* ------------------------------------------------------- enough data */

/* The documented minimum below which the AI says "not enough data to
 * score" instead of a risk (REQ FEAT-ENOUGH-DATA): each of respiration
 * rate, SpO2, temperature, systolic BP and pulse measured within the last
 * VIGIL_FEATURES_COMPLETE_WITHIN_H hours (one complete vital set, spread
 * over hours as the ICU data chart it), and at least
 * VIGIL_FEATURES_MIN_SETS measurements of one of them in the last 24 h. */
#define VIGIL_FEATURES_COMPLETE_WITHIN_H 12
#define VIGIL_FEATURES_MIN_SETS 2

/*
 * Whether the full feature vector x (vigil_features_count() floats, from
 * vigil_features_at) holds enough data to score. When it does not and
 * reason is non-NULL, reason receives a plain sentence ("no temperature in
 * the last 12 h"), cut to cap. Pure; reads x only.
 */
bool vigil_features_enough_data(const float *x, char *reason, size_t cap);

#endif
