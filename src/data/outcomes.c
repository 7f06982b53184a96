/*
 * outcomes.c: PhysioNet 2012 outcomes files (Outcomes-a.txt, Outcomes-b.txt):
 * CSV with header RecordID,SAPS-I,SOFA,Length_of_stay,Survival,
 * In-hospital_death, one row per stay. Spec: ../shared/data/README.md
 * section 2.
 *
 * Does: check header and every row (6 fields, whole-number RecordID,
 * In-hospital_death 0 or 1), read -1 as unknown for SAPS-I, SOFA,
 * Length_of_stay and Survival (Survival -1 means "not known to have died"),
 * report malformed rows and duplicate RecordIDs (first kept) as bad_outcome.
 * Does not: check that every outcome has a stay file (the reader reports
 * stays without outcomes). Survival below -1 (set-b has -23) is kept as
 * written.
 */
#include "data_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/util.h"

const char vigil__outcomes_header[] =
    "RecordID,SAPS-I,SOFA,Length_of_stay,Survival,In-hospital_death";

static double unknown_is_nan(double v)
{
    return v == -1.0 ? NAN : v;
}

static vigil_status push(vigil_data *d, const vigil__outcome *o)
{
    if (d->n_outcomes == d->cap_outcomes) {
        size_t n = d->cap_outcomes ? d->cap_outcomes * 2 : 1024;
        vigil__outcome *p = realloc(d->outcomes, n * sizeof *p);
        if (p == NULL) {
            return VIGIL_ERR_NOMEM;
        }
        d->outcomes = p;
        d->cap_outcomes = n;
    }
    d->outcomes[d->n_outcomes++] = *o;
    return VIGIL_OK;
}

vigil_status vigil__outcomes_load(vigil_data *d, const char *name, char *data, size_t len,
                                  vigil_err *err)
{
    char *cur = data, *end = data + len;
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
        cur += 3;
    }
    char *header = vigil__data_next_line(&cur, end);
    if (header == NULL || strcmp(header, vigil__outcomes_header) != 0) {
        vigil__data_issue(d, VIGIL_DATA_BAD_HEADER, name, 1, "not an outcomes header");
        return VIGIL_OK;
    }
    long line_no = 1;
    char *line;
    while ((line = vigil__data_next_line(&cur, end)) != NULL) {
        line_no++;
        if (line[0] == '\0' && cur >= end) {
            break;
        }
        char *f[7];
        size_t nf = 0;
        if (vigil_csv_split(line, ',', f, 7, &nf) != VIGIL_OK || nf != 6) {
            vigil__data_issue(d, VIGIL_DATA_BAD_OUTCOME, name, line_no, "expected 6 fields");
            continue;
        }
        double v[6];
        bool ok = true;
        for (int i = 0; i < 6 && ok; i++) {
            ok = vigil_parse_double(f[i], &v[i]) == VIGIL_OK;
        }
        if (!ok || v[0] < 1.0 || v[0] != floor(v[0]) || v[0] > 1e12 ||
            (v[5] != 0.0 && v[5] != 1.0)) {
            vigil__data_issue(d, VIGIL_DATA_BAD_OUTCOME, name, line_no,
                              "malformed outcomes row (RecordID a whole number, "
                              "In-hospital_death 0 or 1)");
            continue;
        }
        vigil__outcome o = {
            .id = (long)v[0],
            .file = d->n_outcome_files,
            .line = line_no,
            .death = (int)v[5],
            .saps1 = unknown_is_nan(v[1]),
            .sofa = unknown_is_nan(v[2]),
            .los_days = unknown_is_nan(v[3]),
            .survival_days = unknown_is_nan(v[4]),
        };
        if (push(d, &o) != VIGIL_OK) {
            return vigil_err_set(err, VIGIL_ERR_NOMEM, "outcomes", "out of memory");
        }
        d->sum.n_outcome_rows++;
    }
    return VIGIL_OK;
}

static int cmp_outcome(const void *a, const void *b)
{
    const vigil__outcome *x = a, *y = b;
    if (x->id != y->id) {
        return x->id < y->id ? -1 : 1;
    }
    if (x->file != y->file) {
        return x->file < y->file ? -1 : 1;
    }
    return (x->line > y->line) - (x->line < y->line);
}

void vigil__outcomes_finish(vigil_data *d)
{
    if (d->n_outcomes == 0) {
        return;
    }
    qsort(d->outcomes, d->n_outcomes, sizeof *d->outcomes, cmp_outcome);
    size_t w = 1;
    for (size_t r = 1; r < d->n_outcomes; r++) {
        const vigil__outcome *o = &d->outcomes[r];
        if (o->id == d->outcomes[w - 1].id) {
            vigil__data_issue(d, VIGIL_DATA_BAD_OUTCOME, d->outcome_files[o->file], o->line,
                              "RecordID %ld appears again (first kept)", o->id);
            d->sum.n_outcome_rows--;
            continue;
        }
        d->outcomes[w++] = *o;
    }
    d->n_outcomes = w;
}

const vigil__outcome *vigil__outcomes_find(const vigil_data *d, long id)
{
    size_t lo = 0, hi = d->n_outcomes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        long m = d->outcomes[mid].id;
        if (m == id) {
            return &d->outcomes[mid];
        }
        if (m < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}
