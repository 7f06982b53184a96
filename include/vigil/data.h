/*
 * vigil/data.h: loaders for the public research data sets vigil trains and
 * evaluates on: PhysioNet/CinC Challenge 2019 (sepsis; pipe-separated .psv,
 * one row per ICU hour) and 2012 (in-hospital mortality; long-format CSV
 * Time,Parameter,Value plus Outcomes-*.txt). See docs/data.md and
 * ../shared/data/README.md.
 *
 * What it does: walks a folder (recursively, names sorted) or reads an
 * archive (.tar.gz and any other format libarchive reads) in place, detects
 * each file's format from its first line, and streams one ICU stay at a
 * time: a vigil_stay (descriptors and outcomes) and its measurements as
 * (t_hours, variable, value) records. Nothing is extracted to disk and only
 * one stay's text is in memory at once.
 *
 * What it does not do: build hourly grids or features (vigil/features.h),
 * impute, or fix data beyond the documented rules (FiO2 percentages, 2019
 * age 100 meaning 90 or older). Bad rows and implausible values are counted
 * by reason in a vigil_data_summary and reported with file and line; nothing
 * is dropped silently.
 *
 * Ownership: a vigil_data reader is opaque (_open/_close). Every pointer it
 * hands out (stay, measurements, labels, names) is borrowed and valid until
 * the next vigil_data_next() or vigil_data_close(). Thread safety: a reader
 * belongs to one thread; distinct readers are independent.
 */
#ifndef VIGIL_DATA_H
#define VIGIL_DATA_H

#include <stdbool.h>
#include <stddef.h>

#include "vigil/status.h"
#include "vigil/vars.h"

typedef enum vigil_data_format {
    VIGIL_DATA_UNKNOWN = 0,
    VIGIL_DATA_PN2019, /* PhysioNet 2019 .psv */
    VIGIL_DATA_PN2012, /* PhysioNet 2012 long-format .txt */
    VIGIL_DATA_FORMAT_COUNT
} vigil_data_format;

/* Sex codes, as both data sets write them. */
#define VIGIL_SEX_FEMALE 0
#define VIGIL_SEX_MALE 1
#define VIGIL_SEX_UNKNOWN (-1)

/* Ethnicity: neither data set records it. */
#define VIGIL_ETHNICITY_UNKNOWN 0

/* ICU type flags (bit mask; 0 = unknown). 2019: Unit1 -> MEDICAL, Unit2 ->
 * SURGICAL. 2012 ICUType: 1 CORONARY, 2 CARDIAC_SURGERY, 3 MEDICAL, 4 SURGICAL. */
enum {
    VIGIL_ICU_MEDICAL = 1u << 0,
    VIGIL_ICU_SURGICAL = 1u << 1,
    VIGIL_ICU_CORONARY = 1u << 2,
    VIGIL_ICU_CARDIAC_SURGERY = 1u << 3
};

/* A per-hour SepsisLabel that is not known (an hour missing from the file). */
#define VIGIL_LABEL_UNKNOWN 255u

#define VIGIL_DATA_ID_MAX 64
#define VIGIL_DATA_NAME_MAX 512

/*
 * One ICU stay. Numbers use NaN for "unknown". Borrowed from the reader.
 * Times are hours since ICU admission: 2019 rows are at t = ICULOS
 * (1, 2, ...); 2012 rows at HH + MM/60.
 */
typedef struct vigil_stay {
    char id[VIGIL_DATA_ID_MAX];     /* "p000001" (file name) or "132539" (RecordID) */
    char set[VIGIL_DATA_ID_MAX];    /* hospital/set label: the file's folder
                                       ("training_setA", "set-a") */
    char file[VIGIL_DATA_NAME_MAX]; /* where it came from: "archive.tar.gz:member" or path */
    vigil_data_format format;
    double age_y;           /* 2019's 100 is stored as 90 (see age_90_plus) */
    bool age_90_plus;       /* age was recorded as "90 or older" */
    int sex;                /* VIGIL_SEX_* */
    int ethnicity;          /* always VIGIL_ETHNICITY_UNKNOWN here */
    unsigned icu_flags;     /* VIGIL_ICU_* bits; 0 = unknown */
    double hosp_adm_time_h; /* 2019 HospAdmTime (hours from hospital to ICU
                               admission, negative = before); NaN for 2012 */
    double height_cm;       /* 2012 descriptor; NaN when unknown or 2019 */
    double weight_kg;       /* 2012 descriptor Weight at 00:00; NaN unknown */
    double first_t_h;       /* first record (2019 row / 2012 measurement row);
                               NaN when the stay has none */
    double last_t_h;        /* last record; NaN when none */
    size_t n_rows;          /* data rows accepted from the file */
    /* PhysioNet 2019 outcome */
    const unsigned char *sepsis_label; /* per hour: label of hour label_first_hour + i
                                          (0, 1 or VIGIL_LABEL_UNKNOWN); NULL for 2012 */
    size_t n_labels;
    long label_first_hour;
    bool sepsis_any; /* some hour has SepsisLabel 1 */
    /* PhysioNet 2012 outcomes (Outcomes-*.txt) */
    bool has_outcome;      /* an outcomes row was found for this RecordID */
    int in_hospital_death; /* 0, 1, or -1 when unknown */
    double saps1;          /* SAPS-I; NaN when -1 (unknown) */
    double sofa;           /* SOFA; NaN when unknown */
    double los_days;       /* length of stay, days; NaN when unknown */
    double survival_days;  /* days to death; NaN when not known to have died */
} vigil_stay;

/* Why a row, value or file was not used as it stood. */
typedef enum vigil_data_issue {
    VIGIL_DATA_BAD_HEADER = 0,    /* file: first line is not the format's header (file skipped) */
    VIGIL_DATA_EMPTY_FILE,        /* file: nothing after the header (2019 file skipped) */
    VIGIL_DATA_UNRECOGNISED,      /* file: neither format nor an outcomes file (skipped) */
    VIGIL_DATA_FIELD_COUNT,       /* row: wrong number of fields (row dropped) */
    VIGIL_DATA_BAD_NUMBER,        /* row: a field is not a number (row dropped) */
    VIGIL_DATA_BAD_TIME,          /* row: bad HH:MM or ICULOS, or ICULOS not increasing
                                     (row dropped) */
    VIGIL_DATA_UNKNOWN_PARAMETER, /* row: 2012 parameter name not known (row dropped) */
    VIGIL_DATA_BAD_DESCRIPTOR,    /* a descriptor with an invalid or conflicting value,
                                     repeated, or not at 00:00 (first value kept) */
    VIGIL_DATA_ID_MISMATCH,       /* 2012 RecordID differs from the file name */
    VIGIL_DATA_ICULOS_GAP,        /* 2019 hours skipped between rows (rows kept) */
    VIGIL_DATA_IMPLAUSIBLE,       /* value outside vigil/vars.h bounds (value dropped) */
    VIGIL_DATA_NO_OUTCOME,        /* 2012 stay without an outcomes row (stay kept) */
    VIGIL_DATA_BAD_OUTCOME,       /* outcomes row malformed or a duplicate RecordID (skipped) */
    VIGIL_DATA_ISSUE_COUNT
} vigil_data_issue;

/* Stable machine name of an issue ("field_count", "implausible", ...). */
const char *vigil_data_issue_name(vigil_data_issue i);

/* True for issues that mean malformed input (what strict mode stops on):
 * bad_header, field_count, bad_number, bad_time, unknown_parameter,
 * bad_descriptor, id_mismatch, bad_outcome. */
bool vigil_data_issue_is_malformed(vigil_data_issue i);

#define VIGIL_DATA_MESSAGES_MAX 64      /* messages kept in a summary */
#define VIGIL_DATA_MESSAGES_PER_ISSUE 4 /* ... at most this many per issue kind */

/* Counts over everything a reader has read so far. */
typedef struct vigil_data_summary {
    size_t n_files;                               /* regular files seen (archives' members too) */
    size_t n_stay_files[VIGIL_DATA_FORMAT_COUNT]; /* files recognised per format */
    size_t n_outcome_files;                       /* outcomes files loaded */
    size_t n_outcome_rows;                        /* outcomes rows loaded */
    size_t n_stays;                               /* stays emitted */
    size_t n_stays_by_format[VIGIL_DATA_FORMAT_COUNT];
    size_t n_stays_without_meas; /* emitted with no measurement */
    size_t n_rows;               /* data rows read (headers excluded) */
    size_t n_rows_dropped;       /* rows dropped for an issue */
    size_t n_meas;               /* measurements emitted */
    size_t n_nan;                /* 2019 NaN fields (missing, not an issue) */
    size_t n_unknown_marker;     /* 2012 values of -1 read as unknown */
    size_t n_sepsis_stays;       /* 2019 stays with a SepsisLabel 1 */
    size_t n_deaths;             /* 2012 stays with In-hospital_death 1 */
    size_t n_issues[VIGIL_DATA_ISSUE_COUNT];
    size_t n_implausible[VIGIL_VAR_COUNT]; /* values dropped as implausible, per variable */
    size_t n_too_low[VIGIL_VAR_COUNT];     /* ... of which below min */
    size_t n_too_high[VIGIL_VAR_COUNT];    /* ... of which above max */
    size_t n_converted[VIGIL_VAR_COUNT];   /* values converted (FiO2 %) */
    size_t n_messages;                     /* messages kept: the first
                                              VIGIL_DATA_MESSAGES_PER_ISSUE of each kind */
    char messages[VIGIL_DATA_MESSAGES_MAX][VIGIL_ERR_MSG_MAX]; /* "file:line: what" */
} vigil_data_summary;

/* Called for every issue, in order, when set. file is borrowed for the call;
 * line is 1-based (0 for a whole file). */
typedef void (*vigil_data_issue_fn)(vigil_data_issue issue, const char *file, long line,
                                    const char *msg, void *ctx);

typedef struct vigil_data_opts {
    const char *outcomes_path; /* an Outcomes file to load, or NULL */
    bool no_outcome_search;    /* do not look for outcomes files (see vigil_data_open) */
    bool strict;               /* stop at the first malformed-input issue:
                                  vigil_data_next returns VIGIL_ERR_PARSE */
    size_t max_stay_files;     /* stop after this many stay files (0 = all) */
    vigil_data_issue_fn on_issue;
    void *issue_ctx;
} vigil_data_opts;

/* Defaults: search for outcomes, lenient, no limit, no callback. */
void vigil_data_opts_init(vigil_data_opts *o);

/*
 * A pluggable "next file" source. next() yields one regular file at a time:
 * *out_name (for messages and labels), *out_data and *out_len (the file's
 * bytes; the reader may modify them in place), all valid until the next call
 * or close(). At the end it returns VIGIL_OK with *out_name == NULL.
 */
typedef struct vigil_file_source {
    vigil_status (*next)(void *self, const char **out_name, char **out_data, size_t *out_len,
                         vigil_err *err);
    void (*close)(void *self);
    void *self;
} vigil_file_source;

/*
 * A source over a path: a regular file (an archive libarchive reads, or one
 * data file) or a folder, walked recursively in byte order of names (hidden
 * entries skipped); archives found in the folder are read in place.
 * VIGIL_ERR_IO when path cannot be opened.
 */
vigil_status vigil_file_source_open_path(const char *path, vigil_file_source *out, vigil_err *err);

/* One in-memory file for vigil_file_source_open_memory. */
typedef struct vigil_mem_file {
    const char *name;
    const char *data;
    size_t len;
} vigil_mem_file;

/* A source over in-memory files (copied one at a time as they are read; the
 * array and its strings are borrowed until close). */
vigil_status vigil_file_source_open_memory(const vigil_mem_file *files, size_t n,
                                           vigil_file_source *out, vigil_err *err);

typedef struct vigil_data vigil_data;

/*
 * Open a reader over path (a folder, an archive, or one file; see
 * vigil_file_source_open_path). Unless opts->no_outcome_search, 2012
 * outcomes files (recognised by their header line
 * "RecordID,SAPS-I,SOFA,Length_of_stay,Survival,In-hospital_death") are
 * loaded first from path's tree when it is a folder and from the folder
 * that contains path (not recursively); opts->outcomes_path adds one more.
 * opts may be NULL (defaults). *out is set on VIGIL_OK only.
 */
vigil_status vigil_data_open(const char *path, const vigil_data_opts *opts, vigil_data **out,
                             vigil_err *err);

/* Open a reader over a caller-built source; the reader owns src from now on
 * (closes it in vigil_data_close, also on error). Outcomes come only from
 * opts->outcomes_path. */
vigil_status vigil_data_open_source(vigil_file_source src, const vigil_data_opts *opts,
                                    vigil_data **out, vigil_err *err);

/*
 * Read the next stay. On VIGIL_OK either *out_stay is the stay and
 * *out_meas and *out_n its measurements in file order (2019: row by row,
 * variables in column order; 2012: as written), or *out_stay is NULL at the
 * end. Errors: VIGIL_ERR_IO / VIGIL_ERR_NOMEM, or VIGIL_ERR_PARSE in strict
 * mode with err->msg naming file and line (err->line set). After an error the
 * reader can only be closed.
 */
vigil_status vigil_data_next(vigil_data *d, const vigil_stay **out_stay,
                             const vigil_meas **out_meas, size_t *out_n, vigil_err *err);

/* Counts so far (borrowed; updated by vigil_data_next). */
const vigil_data_summary *vigil_data_summary_get(const vigil_data *d);

/* Close the reader and its source. NULL is a no-op. */
void vigil_data_close(vigil_data *d);

/* Per-stay callback for vigil_data_foreach; return VIGIL_OK to go on, any
 * other status stops the walk and is returned. */
typedef vigil_status (*vigil_data_stay_fn)(const vigil_stay *stay, const vigil_meas *meas,
                                           size_t n_meas, void *ctx);

/* Open path, call fn for every stay, copy the summary into *out_summary
 * (may be NULL), close. */
vigil_status vigil_data_foreach(const char *path, const vigil_data_opts *opts,
                                vigil_data_stay_fn fn, void *ctx, vigil_data_summary *out_summary,
                                vigil_err *err);

/* Write the summary as readable text lines (counts, issues by reason,
 * implausible values by variable, the kept messages) to a caller buffer;
 * returns the length it needed (like snprintf). */
size_t vigil_data_summary_format(const vigil_data_summary *s, char *buf, size_t cap);

#endif
