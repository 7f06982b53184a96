/*
 * vigil/cohort.h: a research data set turned into what evaluation and
 * training consume: per stay its descriptors and outcomes, per scored row
 * (one per ICU hour for PhysioNet 2019; one per stay at hour 48 for
 * PhysioNet 2012) the label, the baseline scores (NEWS2, qSOFA, SIRS) and,
 * on request, the feature vector from vigil/features.h, the same code the
 * live ward uses.
 *
 * Baselines at an hour use the latest value of each input measured in the
 * previous 24 hours (as the NEWS2 features do, VIGIL_FEATURES_NEWS2_MAX_AGE_H);
 * a missing input scores nothing, so every baseline is a lower bound where
 * the data lack an input (2019 has no consciousness level; 2012 no SpO2).
 * qSOFA: RR >= 22, SBP <= 100, GCS < 15 (Singer et al., JAMA 2016).
 * SIRS: temperature > 38 or < 36 C, HR > 90, RR > 20 or PaCO2 < 32 mmHg,
 * WBC > 12 or < 4 x10^3/uL (Bone et al., Chest 1992; bands not available).
 *
 * Ownership: _load allocates (malloc); _free releases. Not thread-safe.
 */
#ifndef VIGIL_COHORT_H
#define VIGIL_COHORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/data.h"
#include "vigil/features.h"
#include "vigil/status.h"

#define VIGIL_COHORT_MAX_SETS 16

typedef struct vigil_cohort_stay {
    char id[VIGIL_DATA_ID_MAX];
    int set;         /* index into vigil_cohort.sets */
    double age_y;    /* NaN when unknown */
    int sex;         /* VIGIL_SEX_* */
    size_t row0;     /* first row of this stay */
    size_t n_rows;   /* rows of this stay (2012: 1) */
    long first_hour; /* hour of row0 */
    /* 2019 */
    bool sepsis;    /* some SepsisLabel 1 */
    long onset_row; /* t_sepsis = first label-1 row + 6, relative to row0; -1 if none */
    /* 2012 */
    int died;           /* in-hospital death 0/1, -1 unknown */
    double saps1, sofa; /* NaN when unknown */
    double news2_max48; /* max hourly NEWS2 (lower bound) over hours 0-48 */
    double news2_last;  /* NEWS2 at hour 48 */
    double last_t_h;    /* time of the stay's last record (hours; NaN when none): a 2012 stay
                           whose records end well before hour 48 is scored at 48 with what
                           there is, and counted as cut short (vigil evaluate) */
} vigil_cohort_stay;

typedef struct vigil_cohort {
    vigil_data_format format;
    size_t n_stays, n_rows;
    vigil_cohort_stay *stays;
    size_t n_sets;
    char sets[VIGIL_COHORT_MAX_SETS][VIGIL_DATA_ID_MAX];
    uint8_t *label;           /* per row: 2019 SepsisLabel; 2012 in-hospital death */
    int64_t *stay_of;         /* per row: the stay index */
    float *news2;             /* per row: NEWS2 total from the available inputs (lower bound) */
    uint8_t *news2_n_missing; /* per row: NEWS2 parameters missing */
    float *qsofa;             /* per row */
    float *sirs;              /* per row */
    float *x;                 /* per row: n_feat features, when loaded with features */
    size_t n_feat;
    size_t n_unlabelled; /* 2019 rows without a known label (left out) */
    vigil_data_summary summary;
} vigil_cohort;

typedef void (*vigil_cohort_progress)(size_t n_stays, size_t n_rows, void *ctx);

typedef struct vigil_cohort_opts {
    const char *outcomes_path; /* extra Outcomes file (2012), or NULL */
    bool with_features;
    size_t max_stays;               /* 0 = all */
    vigil_cohort_progress progress; /* every 500 stays; may be NULL */
    void *ctx;
} vigil_cohort_opts;

/*
 * Load every stay under path (folder or archive, either format; a mix of
 * formats is refused). 2012 stays without an outcome are counted in the
 * summary and left out.
 */
vigil_status vigil_cohort_load(const char *path, const vigil_cohort_opts *opts, vigil_cohort **out,
                               vigil_err *err);

void vigil_cohort_free(vigil_cohort *c);

/* The hour the 2012 mortality task scores at (end of the challenge window). */
#define VIGIL_COHORT_2012_HOUR 48

/*
 * A new cohort holding the stays with keep[k] != 0 (k indexes c->stays) and
 * their rows, features included. *out_rows (may be NULL) receives, for each
 * new row, its row in c (malloc'd; caller frees).
 */
vigil_status vigil_cohort_subset(const vigil_cohort *c, const uint8_t *keep, vigil_cohort **out,
                                 size_t **out_rows, vigil_err *err);

/* Build (reset, fill, finish) tl from one loaded stay: the glue training,
 * evaluation and explanations share. */
vigil_status vigil_cohort_timeline(vigil_timeline *tl, const vigil_stay *s, const vigil_meas *m,
                                   size_t n, vigil_err *err);

#endif
