/*
 * reader.c: the research-data reader: pulls files from a vigil_file_source,
 * recognises each by its first line (PhysioNet 2019 .psv, PhysioNet 2012
 * long format, 2012 outcomes), hands them to the format parsers and streams
 * one stay at a time; keeps the summary of counts and issues.
 *
 * Does not: hold more than one stay's text, retry, or stop on a bad row
 * unless strict mode was asked for. Invariant: every row or value not used
 * as it stood is counted under exactly one vigil_data_issue.
 * Spec: ../shared/data/README.md, docs/data.md.
 */
#include "data_int.h"

#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vigil/util.h"

static const char *const issue_names[VIGIL_DATA_ISSUE_COUNT] = {
    [VIGIL_DATA_BAD_HEADER] = "bad_header",
    [VIGIL_DATA_EMPTY_FILE] = "empty_file",
    [VIGIL_DATA_UNRECOGNISED] = "unrecognised_file",
    [VIGIL_DATA_FIELD_COUNT] = "field_count",
    [VIGIL_DATA_BAD_NUMBER] = "bad_number",
    [VIGIL_DATA_BAD_TIME] = "bad_time",
    [VIGIL_DATA_UNKNOWN_PARAMETER] = "unknown_parameter",
    [VIGIL_DATA_BAD_DESCRIPTOR] = "bad_descriptor",
    [VIGIL_DATA_ID_MISMATCH] = "id_mismatch",
    [VIGIL_DATA_ICULOS_GAP] = "iculos_gap",
    [VIGIL_DATA_IMPLAUSIBLE] = "implausible",
    [VIGIL_DATA_NO_OUTCOME] = "no_outcome",
    [VIGIL_DATA_BAD_OUTCOME] = "bad_outcome",
};

static const bool issue_malformed[VIGIL_DATA_ISSUE_COUNT] = {
    [VIGIL_DATA_BAD_HEADER] = true,        [VIGIL_DATA_FIELD_COUNT] = true,
    [VIGIL_DATA_BAD_NUMBER] = true,        [VIGIL_DATA_BAD_TIME] = true,
    [VIGIL_DATA_UNKNOWN_PARAMETER] = true, [VIGIL_DATA_BAD_DESCRIPTOR] = true,
    [VIGIL_DATA_ID_MISMATCH] = true,       [VIGIL_DATA_BAD_OUTCOME] = true,
};

const char *vigil_data_issue_name(vigil_data_issue i)
{
    return (unsigned)i < VIGIL_DATA_ISSUE_COUNT ? issue_names[i] : "?";
}

bool vigil_data_issue_is_malformed(vigil_data_issue i)
{
    return (unsigned)i < VIGIL_DATA_ISSUE_COUNT && issue_malformed[i];
}

void vigil_data_opts_init(vigil_data_opts *o)
{
    memset(o, 0, sizeof *o);
}

void vigil__data_issue(vigil_data *d, vigil_data_issue kind, const char *file, long line,
                       const char *fmt, ...)
{
    char what[VIGIL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    char full[VIGIL_ERR_MSG_MAX + VIGIL_DATA_NAME_MAX + 32];
    if (line > 0) {
        snprintf(full, sizeof full, "%s:%ld: %s", file, line, what);
    } else {
        snprintf(full, sizeof full, "%s: %s", file, what);
    }
    char msg[VIGIL_ERR_MSG_MAX];
    size_t n = strlen(full);
    if (n >= sizeof msg) {
        n = sizeof msg - 1;
    }
    memcpy(msg, full, n);
    msg[n] = '\0';
    d->sum.n_issues[kind]++;
    if (d->sum.n_issues[kind] <= VIGIL_DATA_MESSAGES_PER_ISSUE &&
        d->sum.n_messages < VIGIL_DATA_MESSAGES_MAX) {
        memcpy(d->sum.messages[d->sum.n_messages++], msg, sizeof msg);
    }
    if (d->opts.on_issue != NULL) {
        d->opts.on_issue(kind, file, line, msg, d->opts.issue_ctx);
    }
    if (d->opts.strict && issue_malformed[kind] && !d->has_pending) {
        d->has_pending = true;
        vigil_err_set(&d->pending, VIGIL_ERR_PARSE, issue_names[kind], "%s", msg);
        d->pending.line = line;
    }
}

void vigil__data_implausible(vigil_data *d, const char *file, long line, vigil_var v, double value,
                             vigil_var_verdict verdict)
{
    d->sum.n_implausible[v]++;
    if (verdict == VIGIL_VAR_TOO_LOW) {
        d->sum.n_too_low[v]++;
    } else if (verdict == VIGIL_VAR_TOO_HIGH) {
        d->sum.n_too_high[v]++;
    }
    const vigil_var_info *vi = vigil_var_get(v);
    vigil__data_issue(d, VIGIL_DATA_IMPLAUSIBLE, file, line,
                      "%s %g dropped as implausible (%s; plausible %g to %g %s)", vi->name, value,
                      vigil_var_verdict_name(verdict), vi->min, vi->max, vi->unit);
}

vigil_status vigil__data_add_meas(vigil_data *d, const char *file, long line, double t_h,
                                  vigil_var v, double value)
{
    double x = value;
    vigil_var_verdict verdict = VIGIL_VAR_OK;
    if (vigil_var_check(v, value, &x, &verdict, NULL) != VIGIL_OK) {
        vigil__data_implausible(d, file, line, v, value, verdict);
        return VIGIL_OK;
    }
    if (verdict == VIGIL_VAR_CONVERTED) {
        d->sum.n_converted[v]++;
    }
    if (d->n_meas == d->cap_meas) {
        size_t n = d->cap_meas ? d->cap_meas * 2 : 1024;
        vigil_meas *p = realloc(d->meas, n * sizeof *p);
        if (p == NULL) {
            return VIGIL_ERR_NOMEM;
        }
        d->meas = p;
        d->cap_meas = n;
    }
    d->meas[d->n_meas].t_h = t_h;
    d->meas[d->n_meas].var = v;
    d->meas[d->n_meas].value = x;
    d->n_meas++;
    return VIGIL_OK;
}

vigil_status vigil__data_labels_reserve(vigil_data *d, size_t n)
{
    if (n <= d->cap_labels) {
        return VIGIL_OK;
    }
    size_t c = d->cap_labels ? d->cap_labels : 512;
    while (c < n) {
        c *= 2;
    }
    unsigned char *p = realloc(d->labels, c);
    if (p == NULL) {
        return VIGIL_ERR_NOMEM;
    }
    d->labels = p;
    d->cap_labels = c;
    return VIGIL_OK;
}

/* Powers of ten that doubles hold exactly. */
static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

bool vigil__data_parse_num(const char *s, double *out)
{
    /* Fast path (Clinger 1990): an integer mantissa below 2^53 divided by an
     * exact power of ten is correctly rounded, the same double strtod gives. */
    const char *p = s;
    bool neg = false;
    if (*p == '-' || *p == '+') {
        neg = *p == '-';
        p++;
    }
    uint64_t m = 0;
    int digits = 0, frac = 0;
    bool dot = false;
    for (;; p++) {
        if (*p >= '0' && *p <= '9') {
            m = m * 10u + (uint64_t)(*p - '0');
            digits++;
            frac += dot ? 1 : 0;
        } else if (*p == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    if (*p == '\0' && digits > 0 && digits <= 15) {
        double x = (double)m / pow10_exact[frac];
        *out = neg ? -x : x;
        return true;
    }
    return vigil_parse_double(s, out) == VIGIL_OK;
}

char *vigil__data_next_line(char **cursor, char *end)
{
    char *s = *cursor;
    if (s >= end) {
        return NULL;
    }
    char *nl = memchr(s, '\n', (size_t)(end - s));
    char *e = nl != NULL ? nl : end;
    *cursor = nl != NULL ? nl + 1 : end;
    if (e > s && e[-1] == '\r') {
        e--;
    }
    *e = '\0';
    return s;
}

/* Start of the last path component (after '/' or the archive ':'). */
static const char *base_start(const char *name)
{
    const char *b = name;
    for (const char *p = name; *p != '\0'; p++) {
        if (*p == '/' || *p == ':') {
            b = p + 1;
        }
    }
    return b;
}

static void copy_cut(const char *s, size_t n, char *out, size_t cap)
{
    if (cap == 0) {
        return;
    }
    if (n >= cap) {
        n = cap - 1;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

void vigil__data_file_stem(const char *name, char *out, size_t cap)
{
    const char *b = base_start(name);
    const char *dot = strchr(b, '.');
    size_t n = dot != NULL ? (size_t)(dot - b) : strlen(b);
    copy_cut(b, n, out, cap);
}

void vigil__data_file_set(const char *name, char *out, size_t cap)
{
    const char *b = base_start(name);
    if (b == name) {
        copy_cut("", 0, out, cap);
        return;
    }
    const char *end = b - 1; /* the separator before the basename */
    const char *s = end;
    while (s > name && s[-1] != '/' && s[-1] != ':') {
        s--;
    }
    const char *dot = memchr(s, '.', (size_t)(end - s));
    size_t n = (size_t)((dot != NULL ? dot : end) - s);
    copy_cut(s, n, out, cap);
}

void vigil__data_stay_reset(vigil_data *d, const char *file, vigil_data_format fmt)
{
    vigil_stay *s = &d->stay;
    memset(s, 0, sizeof *s);
    vigil__data_file_stem(file, s->id, sizeof s->id);
    vigil__data_file_set(file, s->set, sizeof s->set);
    copy_cut(file, strlen(file), s->file, sizeof s->file);
    s->format = fmt;
    s->age_y = NAN;
    s->sex = VIGIL_SEX_UNKNOWN;
    s->ethnicity = VIGIL_ETHNICITY_UNKNOWN;
    s->hosp_adm_time_h = NAN;
    s->height_cm = NAN;
    s->weight_kg = NAN;
    s->first_t_h = NAN;
    s->last_t_h = NAN;
    s->in_hospital_death = -1;
    s->saps1 = NAN;
    s->sofa = NAN;
    s->los_days = NAN;
    s->survival_days = NAN;
    d->n_meas = 0;
}

/* What a file's first line says it is. */
typedef enum file_kind { KIND_UNRECOGNISED, KIND_2019, KIND_2012, KIND_OUTCOMES } file_kind;

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

/* Recognise by content: the first line (a UTF-8 BOM skipped). A .psv name
 * or a '|' in the first line means 2019; "Time," or a "Parameter" column
 * means 2012; the outcomes header means outcomes. The parsers then demand
 * the exact header. */
static file_kind classify(const char *name, const char *data, size_t len)
{
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
        data += 3;
        len -= 3;
    }
    const char *nl = memchr(data, '\n', len);
    size_t n = nl != NULL ? (size_t)(nl - data) : len;
    if (n > 0 && data[n - 1] == '\r') {
        n--;
    }
    size_t no = strlen(vigil__outcomes_header);
    if (n == no && memcmp(data, vigil__outcomes_header, no) == 0) {
        return KIND_OUTCOMES;
    }
    if (ends_with(name, ".psv") || memchr(data, '|', n) != NULL) {
        return KIND_2019;
    }
    if ((n >= 5 && memcmp(data, "Time,", 5) == 0)) {
        return KIND_2012;
    }
    for (size_t i = 0; i + 9 <= n; i++) {
        if (memcmp(data + i, "Parameter", 9) == 0) {
            return KIND_2012;
        }
    }
    return KIND_UNRECOGNISED;
}

static bool outcome_file_loaded(const vigil_data *d, const char *name)
{
    char rp[PATH_MAX];
    if (realpath(name, rp) == NULL) {
        return false; /* e.g. an archive member: never pre-loaded */
    }
    for (size_t i = 0; i < d->n_outcome_files; i++) {
        if (strcmp(d->outcome_files[i], rp) == 0) {
            return true;
        }
    }
    return false;
}

vigil_status vigil_data_next(vigil_data *d, const vigil_stay **out_stay,
                             const vigil_meas **out_meas, size_t *out_n, vigil_err *err)
{
    if (d == NULL || out_stay == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "reader", "no reader");
    }
    if (d->failed) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "reader", "reader failed earlier");
    }
    *out_stay = NULL;
    if (out_meas != NULL) {
        *out_meas = NULL;
    }
    if (out_n != NULL) {
        *out_n = 0;
    }
    for (;;) {
        if (d->ended ||
            (d->opts.max_stay_files > 0 && d->n_stay_files_read >= d->opts.max_stay_files)) {
            d->ended = true;
            return VIGIL_OK;
        }
        const char *name = NULL;
        char *data = NULL;
        size_t len = 0;
        vigil_status st = d->src.next(d->src.self, &name, &data, &len, err);
        if (st != VIGIL_OK) {
            d->failed = true;
            return st;
        }
        if (name == NULL) {
            d->ended = true;
            return VIGIL_OK;
        }
        d->sum.n_files++;
        if (len == 0) {
            vigil__data_issue(d, VIGIL_DATA_EMPTY_FILE, name, 0, "empty file");
            continue;
        }
        file_kind k = classify(name, data, len);
        bool emit = false;
        if (k == KIND_OUTCOMES) {
            if (!outcome_file_loaded(d, name)) {
                vigil__data_issue(d, VIGIL_DATA_UNRECOGNISED, name, 0,
                                  "outcomes file found after stays started (inside an "
                                  "archive?) is not used; pass it as outcomes_path");
            }
            continue;
        }
        if (k == KIND_UNRECOGNISED) {
            vigil__data_issue(d, VIGIL_DATA_UNRECOGNISED, name, 0,
                              "neither PhysioNet 2019 nor 2012 data; skipped");
            continue;
        }
        d->n_stay_files_read++;
        if (k == KIND_2019) {
            d->sum.n_stay_files[VIGIL_DATA_PN2019]++;
            st = vigil__pn2019_parse(d, name, data, len, &emit, err);
        } else {
            d->sum.n_stay_files[VIGIL_DATA_PN2012]++;
            st = vigil__pn2012_parse(d, name, data, len, &emit, err);
        }
        if (st != VIGIL_OK) {
            d->failed = true;
            return st;
        }
        if (d->has_pending) {
            d->failed = true;
            if (err != NULL) {
                *err = d->pending;
            }
            return VIGIL_ERR_PARSE;
        }
        if (!emit) {
            continue;
        }
        d->sum.n_stays++;
        d->sum.n_stays_by_format[d->stay.format]++;
        d->sum.n_meas += d->n_meas;
        if (d->n_meas == 0) {
            d->sum.n_stays_without_meas++;
        }
        *out_stay = &d->stay;
        if (out_meas != NULL) {
            *out_meas = d->meas;
        }
        if (out_n != NULL) {
            *out_n = d->n_meas;
        }
        return VIGIL_OK;
    }
}

const vigil_data_summary *vigil_data_summary_get(const vigil_data *d)
{
    return d != NULL ? &d->sum : NULL;
}

void vigil_data_close(vigil_data *d)
{
    if (d == NULL) {
        return;
    }
    if (d->src.close != NULL) {
        d->src.close(d->src.self);
    }
    for (size_t i = 0; i < d->n_outcome_files; i++) {
        free(d->outcome_files[i]);
    }
    free(d->outcome_files);
    free(d->outcomes);
    free(d->meas);
    free(d->labels);
    free(d);
}

/* Read up to cap-1 bytes of a file's head (NUL-terminated). */
static size_t read_head(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return 0;
    }
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n;
}

static bool is_outcomes_file(const char *path)
{
    char head[128];
    size_t n = read_head(path, head, sizeof head);
    return n > 0 && classify(path, head, n) == KIND_OUTCOMES;
}

/* Load an outcomes file once (by real path). */
static vigil_status load_outcome_file(vigil_data *d, const char *path, vigil_err *err)
{
    char rp[PATH_MAX];
    if (realpath(path, rp) == NULL) {
        return vigil_err_set(err, VIGIL_ERR_IO, "outcomes", "%s: cannot resolve", path);
    }
    for (size_t i = 0; i < d->n_outcome_files; i++) {
        if (strcmp(d->outcome_files[i], rp) == 0) {
            return VIGIL_OK;
        }
    }
    vigil_file_source src;
    vigil_status st = vigil_file_source_open_path(rp, &src, err);
    if (st != VIGIL_OK) {
        return st;
    }
    const char *name = NULL;
    char *data = NULL;
    size_t len = 0;
    st = src.next(src.self, &name, &data, &len, err);
    if (st == VIGIL_OK && name != NULL) {
        st = vigil__outcomes_load(d, path, data, len, err);
    }
    src.close(src.self);
    if (st != VIGIL_OK) {
        return st;
    }
    char **p = realloc(d->outcome_files, (d->n_outcome_files + 1) * sizeof *p);
    if (p == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, "outcomes", "out of memory");
    }
    d->outcome_files = p;
    size_t n = strlen(rp) + 1;
    p[d->n_outcome_files] = malloc(n);
    if (p[d->n_outcome_files] == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, "outcomes", "out of memory");
    }
    memcpy(p[d->n_outcome_files], rp, n);
    d->n_outcome_files++;
    d->sum.n_outcome_files++;
    return VIGIL_OK;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Outcomes files among the regular files directly in dir (sorted). */
static vigil_status scan_parent(vigil_data *d, const char *dir, vigil_err *err)
{
    DIR *dp = opendir(dir);
    if (dp == NULL) {
        return VIGIL_OK; /* nothing to search */
    }
    char **found = NULL;
    size_t n = 0;
    vigil_status st = VIGIL_OK;
    struct dirent *de;
    while ((de = readdir(dp)) != NULL && st == VIGIL_OK) {
        if (de->d_name[0] == '.') {
            continue;
        }
        size_t a = strlen(dir), b = strlen(de->d_name);
        char *full = malloc(a + b + 2);
        if (full == NULL) {
            st = VIGIL_ERR_NOMEM;
            break;
        }
        memcpy(full, dir, a);
        full[a] = '/';
        memcpy(full + a + 1, de->d_name, b + 1);
        struct stat sb;
        if (stat(full, &sb) == 0 && S_ISREG(sb.st_mode) && is_outcomes_file(full)) {
            char **p = realloc(found, (n + 1) * sizeof *p);
            if (p == NULL) {
                free(full);
                st = VIGIL_ERR_NOMEM;
                break;
            }
            found = p;
            found[n++] = full;
        } else {
            free(full);
        }
    }
    closedir(dp);
    if (n > 1) {
        qsort(found, n, sizeof *found, cmp_cstr);
    }
    if (st != VIGIL_OK) {
        vigil_err_set(err, st, "outcomes", "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (st == VIGIL_OK) {
            st = load_outcome_file(d, found[i], err);
        }
        free(found[i]);
    }
    free(found);
    return st;
}

/* REQ DATA-OUTCOMES-SEARCH: path's tree (when a folder), then path's folder. */
static vigil_status search_outcomes(vigil_data *d, const char *path, vigil_err *err)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        return VIGIL_OK; /* open_path reports it */
    }
    vigil_status st = VIGIL_OK;
    if (S_ISDIR(sb.st_mode)) {
        char **files = NULL;
        size_t n = 0;
        st = vigil__data_list_files(path, &files, &n, err);
        if (st != VIGIL_OK) {
            return st;
        }
        for (size_t i = 0; i < n; i++) {
            if (st == VIGIL_OK && is_outcomes_file(files[i])) {
                st = load_outcome_file(d, files[i], err);
            }
            free(files[i]);
        }
        free(files);
        if (st != VIGIL_OK) {
            return st;
        }
    }
    char parent[PATH_MAX];
    if (realpath(path, parent) == NULL) {
        return VIGIL_OK;
    }
    char *slash = strrchr(parent, '/');
    if (slash == NULL) {
        return VIGIL_OK;
    }
    if (slash == parent) {
        slash[1] = '\0';
    } else {
        *slash = '\0';
    }
    return scan_parent(d, parent, err);
}

static vigil_status reader_new(const vigil_data_opts *opts, vigil_data **out, vigil_err *err)
{
    vigil_data *d = calloc(1, sizeof *d);
    if (d == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, "reader", "out of memory");
    }
    if (opts != NULL) {
        d->opts = *opts;
    }
    *out = d;
    return VIGIL_OK;
}

static vigil_status finish_open(vigil_data *d, vigil_err *err)
{
    vigil_status st = VIGIL_OK;
    if (d->opts.outcomes_path != NULL) {
        if (!is_outcomes_file(d->opts.outcomes_path)) {
            return vigil_err_set(err, VIGIL_ERR_PARSE, "outcomes_path",
                                 "%s: not an outcomes file (header must be %s)",
                                 d->opts.outcomes_path, vigil__outcomes_header);
        }
        st = load_outcome_file(d, d->opts.outcomes_path, err);
    }
    if (st == VIGIL_OK) {
        vigil__outcomes_finish(d);
        if (d->opts.strict && d->has_pending) {
            if (err != NULL) {
                *err = d->pending;
            }
            st = VIGIL_ERR_PARSE;
        }
    }
    return st;
}

vigil_status vigil_data_open(const char *path, const vigil_data_opts *opts, vigil_data **out,
                             vigil_err *err)
{
    if (path == NULL || out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "path", "no path");
    }
    vigil_data *d = NULL;
    vigil_status st = reader_new(opts, &d, err);
    if (st != VIGIL_OK) {
        return st;
    }
    st = vigil_file_source_open_path(path, &d->src, err);
    if (st == VIGIL_OK && !d->opts.no_outcome_search) {
        st = search_outcomes(d, path, err);
    }
    if (st == VIGIL_OK) {
        st = finish_open(d, err);
    }
    if (st != VIGIL_OK) {
        vigil_data_close(d);
        return st;
    }
    *out = d;
    return VIGIL_OK;
}

vigil_status vigil_data_open_source(vigil_file_source src, const vigil_data_opts *opts,
                                    vigil_data **out, vigil_err *err)
{
    if (out == NULL || src.next == NULL) {
        if (src.close != NULL) {
            src.close(src.self);
        }
        return vigil_err_set(err, VIGIL_ERR_ARG, "source", "no source");
    }
    vigil_data *d = NULL;
    vigil_status st = reader_new(opts, &d, err);
    if (st != VIGIL_OK) {
        if (src.close != NULL) {
            src.close(src.self);
        }
        return st;
    }
    d->src = src;
    st = finish_open(d, err);
    if (st != VIGIL_OK) {
        vigil_data_close(d);
        return st;
    }
    *out = d;
    return VIGIL_OK;
}

vigil_status vigil_data_foreach(const char *path, const vigil_data_opts *opts,
                                vigil_data_stay_fn fn, void *ctx, vigil_data_summary *out_summary,
                                vigil_err *err)
{
    if (fn == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "fn", "no callback");
    }
    vigil_data *d = NULL;
    vigil_status st = vigil_data_open(path, opts, &d, err);
    if (st != VIGIL_OK) {
        return st;
    }
    for (;;) {
        const vigil_stay *s = NULL;
        const vigil_meas *m = NULL;
        size_t n = 0;
        st = vigil_data_next(d, &s, &m, &n, err);
        if (st != VIGIL_OK || s == NULL) {
            break;
        }
        st = fn(s, m, n, ctx);
        if (st != VIGIL_OK) {
            break;
        }
    }
    if (out_summary != NULL) {
        *out_summary = d->sum;
    }
    vigil_data_close(d);
    return st;
}

/* Append to buf like snprintf, tracking the length needed. */
static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *at = (buf != NULL && *len < cap) ? buf + *len : NULL;
    size_t room = at != NULL ? cap - *len : 0;
    int n = vsnprintf(at, room, fmt, ap);
    va_end(ap);
    if (n > 0) {
        *len += (size_t)n;
    }
}

size_t vigil_data_summary_format(const vigil_data_summary *s, char *buf, size_t cap)
{
    size_t len = 0;
    if (buf != NULL && cap > 0) {
        buf[0] = '\0';
    }
    put(buf, cap, &len,
        "files %zu, stay files: 2019 %zu, 2012 %zu; outcomes files %zu (%zu rows)\n", s->n_files,
        s->n_stay_files[VIGIL_DATA_PN2019], s->n_stay_files[VIGIL_DATA_PN2012], s->n_outcome_files,
        s->n_outcome_rows);
    put(buf, cap, &len,
        "stays %zu (2019 %zu, 2012 %zu; without measurements %zu); sepsis stays %zu; "
        "deaths %zu\n",
        s->n_stays, s->n_stays_by_format[VIGIL_DATA_PN2019],
        s->n_stays_by_format[VIGIL_DATA_PN2012], s->n_stays_without_meas, s->n_sepsis_stays,
        s->n_deaths);
    put(buf, cap, &len,
        "rows %zu (dropped %zu); measurements %zu; NaN fields %zu; -1 unknown markers %zu\n",
        s->n_rows, s->n_rows_dropped, s->n_meas, s->n_nan, s->n_unknown_marker);
    for (unsigned i = 0; i < VIGIL_DATA_ISSUE_COUNT; i++) {
        if (s->n_issues[i] > 0) {
            put(buf, cap, &len, "issue %-18s %zu\n", issue_names[i], s->n_issues[i]);
        }
    }
    for (unsigned v = 0; v < VIGIL_VAR_COUNT; v++) {
        if (s->n_implausible[v] > 0) {
            put(buf, cap, &len, "implausible %-12s %zu (too low %zu, too high %zu)\n",
                vigil_var_name((vigil_var)v), s->n_implausible[v], s->n_too_low[v],
                s->n_too_high[v]);
        }
    }
    for (unsigned v = 0; v < VIGIL_VAR_COUNT; v++) {
        if (s->n_converted[v] > 0) {
            put(buf, cap, &len, "converted %-12s %zu\n", vigil_var_name((vigil_var)v),
                s->n_converted[v]);
        }
    }
    for (size_t i = 0; i < s->n_messages; i++) {
        put(buf, cap, &len, "  %s\n", s->messages[i]);
    }
    return len;
}
