/*
 * data_int.h: internals shared by the data module's files (reader, the two
 * format parsers, outcomes, sources). Private to src/data.
 */
#ifndef VIGIL_DATA_INT_H
#define VIGIL_DATA_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "vigil/data.h"

#define VIGIL__DATA_MAX_DEPTH 32

/* 2019 ICULOS above this is refused as a bad time (11 years of hours). */
#define VIGIL__DATA_MAX_HOUR 100000L

typedef struct vigil__outcome {
    long id;
    size_t file; /* index into outcome_files */
    long line;
    int death;
    double saps1, sofa, los_days, survival_days;
} vigil__outcome;

struct vigil_data {
    vigil_file_source src;
    vigil_data_opts opts;
    vigil_data_summary sum;
    vigil_stay stay;
    vigil_meas *meas;
    size_t n_meas, cap_meas;
    unsigned char *labels;
    size_t cap_labels;
    vigil__outcome *outcomes; /* sorted by id once loading is done */
    size_t n_outcomes, cap_outcomes;
    char **outcome_files; /* real paths of loaded outcomes files */
    size_t n_outcome_files;
    size_t n_stay_files_read;
    bool has_pending; /* strict mode: a malformed-input issue was seen */
    vigil_err pending;
    bool failed; /* a previous next() returned an error */
    bool ended;
};

/* Record an issue: count it, keep its message (first VIGIL_DATA_MESSAGES_MAX),
 * call the callback, and in strict mode remember the first malformed one. */
void vigil__data_issue(vigil_data *d, vigil_data_issue kind, const char *file, long line,
                       const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* Check v's value; on success append (t_h, v, value) and return true. On an
 * implausible value count it (per variable and reason) and report it. */
vigil_status vigil__data_add_meas(vigil_data *d, const char *file, long line, double t_h,
                                  vigil_var v, double value);

/* Count an implausible descriptor (no measurement) and report it. */
void vigil__data_implausible(vigil_data *d, const char *file, long line, vigil_var v, double value,
                             vigil_var_verdict verdict);

/* Reset d->stay and the per-stay buffers for a new file. */
void vigil__data_stay_reset(vigil_data *d, const char *file, vigil_data_format fmt);

/* Parse a whole field as a finite decimal number, exactly as
 * vigil_parse_double would (same value, same refusals): plain decimals of up
 * to 15 digits take an exact fast path (one correctly rounded division),
 * anything else goes through vigil_parse_double. */
bool vigil__data_parse_num(const char *s, double *out);

/* Make sure d->labels holds at least n bytes. */
vigil_status vigil__data_labels_reserve(vigil_data *d, size_t n);

/* Cut the next line from *cursor (NUL-terminates it in place, strips a
 * trailing CR). Returns NULL at the end of the buffer. */
char *vigil__data_next_line(char **cursor, char *end);

/* Basename of name without extension into out (the stay id from a file). */
void vigil__data_file_stem(const char *name, char *out, size_t cap);

/* Folder component holding the file ("training_setA"), extension cut. */
void vigil__data_file_set(const char *name, char *out, size_t cap);

/* Format parsers. *out_emit is true when d->stay holds a stay to hand out. */
vigil_status vigil__pn2019_parse(vigil_data *d, const char *name, char *data, size_t len,
                                 bool *out_emit, vigil_err *err);
vigil_status vigil__pn2012_parse(vigil_data *d, const char *name, char *data, size_t len,
                                 bool *out_emit, vigil_err *err);

/* The exact header lines. */
extern const char vigil__pn2019_header[];
extern const char vigil__pn2012_header[];
extern const char vigil__outcomes_header[];

/* Load one outcomes file's bytes (data modified in place). */
vigil_status vigil__outcomes_load(vigil_data *d, const char *name, char *data, size_t len,
                                  vigil_err *err);

/* Sort the loaded outcomes and report duplicate RecordIDs. */
void vigil__outcomes_finish(vigil_data *d);

/* Find an outcome by RecordID (NULL when absent). */
const vigil__outcome *vigil__outcomes_find(const vigil_data *d, long id);

/* True when the first bytes look like an archive libarchive should read. */
bool vigil__data_looks_like_archive(const unsigned char *h, size_t n);

/* Every regular file under path (itself when a file), sorted; malloc'd. */
vigil_status vigil__data_list_files(const char *path, char ***out_files, size_t *out_n,
                                    vigil_err *err);

#endif
