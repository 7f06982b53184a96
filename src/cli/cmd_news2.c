/*
 * cmd_news2.c: `vigil news2`, NEWS2 for observation sets given as CSV (file
 * or stdin) or as one set from flags. One JSON object per set (JSON Lines)
 * or CSV. A refused line is reported on stderr with line, field and value;
 * the other lines are still scored unless --strict.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vigil/news2.h"
#include "vigil/obs_text.h"
#include "vigil/util.h"
#include "vigil/vitals.h"

#define MAX_COLS 64
#define ID_MAX 128

typedef enum { FMT_JSON, FMT_CSV } out_format;

typedef struct row {
    char id[ID_MAX];
    char time[ID_MAX];
    vigil_obs obs;
} row;

/* A parameter's value in words for the help: its unit, or its choices. */
static const char *value_words(const vigil_vital *v, bool option)
{
    switch (v->type) {
    case VIGIL_VITAL_O2:
        return option ? "air|oxygen" : "air or oxygen";
    case VIGIL_VITAL_ACVPU:
        return option ? "A|C|V|P|U" : "A, C, V, P or U";
    default:
        return option ? "N" : v->unit;
    }
}

/* The help: every parameter, its CSV column, option and bounds from the
 * vital-sign table (vigil/vitals.h). */
static void usage(FILE *f)
{
    fprintf(f, "usage: vigil news2 [options] [FILE]\n"
               "       vigil news2 [options]");
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        fprintf(f, "%s--%s %s", p == 4 ? "\n                   " : " ", v->name, value_words(v, true));
    }
    fprintf(f, "\n                   [--scale 1|2] [--age N] [--pregnant yes|no]\n"
               "\n"
               "Score observation sets with NEWS2 (Royal College of Physicians, 2017).\n"
               "\n"
               "FILE is CSV with a header row naming any of these columns, in any order:\n"
               "  id, time,");
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        fprintf(f, "%s%s (%s),", p == 3 ? "\n  " : " ", v->key, value_words(v, false));
    }
    fprintf(f, "\n  scale (1 or 2), age (years), pregnant (yes or no).\n"
               "A missing column or an empty cell means 'not measured': the set is then\n"
               "reported as incomplete, naming what is missing, and its total is a lower\n"
               "bound. Without FILE, or with '-', sets are read from standard input.\n"
               "Scale 2 is used only where scale is 2: a clinician's recorded decision.\n"
               "\n"
               "options:\n"
               "  --format json|csv  output one JSON object per line (default) or CSV\n"
               "  --strict           stop at the first refused line\n"
               "  --id TEXT, --time TEXT, --scale 1|2, --age N, --pregnant yes|no and each\n"
               "  parameter above, by its column or by its short name (vigil vitals)\n"
               "                     score one set given on the command line\n"
               "  -h, --help         show this help\n"
               "\n"
               "Values outside physiological possibility are refused, naming field and value:\n"
               " ");
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) { /* bounds from the vital-sign table */
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        if (v->type == VIGIL_VITAL_NUMBER) {
            fprintf(f, " %s %g-%g,", v->key, v->min, v->max);
        }
    }
    fprintf(f,
            " age %g-%g.\n"
            "\n"
            "exit status: 0 all sets scored; 1 some sets refused; 2 usage error;\n"
            "3 input could not be read.\n",
            VIGIL_AGE_MIN, VIGIL_AGE_MAX);
}

static json_t *result_json(const row *r, const vigil_news2 *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(r->id));
    if (r->time[0] != '\0') {
        json_object_set_new(o, "time", json_string(r->time));
    }
    json_object_set_new(o, "total", json_integer(s->total));
    json_object_set_new(o, "total_is_lower_bound", json_boolean(!s->complete));
    json_object_set_new(o, "complete", json_boolean(s->complete));
    json_object_set_new(o, "incomplete", json_boolean(!s->complete));
    json_object_set_new(o, "risk", json_string(vigil_news2_risk_name(s->risk)));
    json_t *sub = json_object();
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        json_object_set_new(sub, vigil_news2_param_name((vigil_news2_param)p),
                            s->sub[p] == VIGIL_NEWS2_SUB_MISSING ? json_null()
                                                                 : json_integer(s->sub[p]));
    }
    json_object_set_new(o, "sub", sub);
    json_object_set_new(o, "single_param_3", json_boolean(s->single_param_3));
    json_object_set_new(o, "scale", json_integer(s->spo2_scale));
    json_object_set_new(o, "monitoring", json_string(vigil_news2_monitoring_name(s->monitoring)));
    json_object_set_new(o, "response", json_string(vigil_news2_response_name(s->response)));
    if (s->complete) {
        json_object_set_new(o, "response_text",
                            json_string(vigil_news2_response_text(s->response)));
    } else {
        /* REQ NEWS2-INCOMPLETE: never presented as a complete score */
        char text[600];
        snprintf(text, sizeof text,
                 "incomplete set: record the missing parameters and score again; the score "
                 "is at least %d, so at least: %s",
                 s->total, vigil_news2_response_text(s->response));
        json_object_set_new(o, "response_text", json_string(text));
    }
    json_t *missing = json_array();
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        if (s->missing & (1u << p)) {
            json_array_append_new(missing,
                                  json_string(vigil_news2_param_name((vigil_news2_param)p)));
        }
    }
    json_object_set_new(o, "missing", missing);
    json_t *flags = json_array();
    for (int b = 0; b < VIGIL_NEWS2_FLAG_COUNT_; b++) {
        if (s->flags & (1u << b)) {
            json_array_append_new(flags, json_string(vigil_news2_flag_name(1u << b)));
        }
    }
    json_object_set_new(o, "flags", flags);
    return o;
}

/* CSV cell text: quoted when it holds a separator, quote or newline. */
static void csv_cell(FILE *out, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s != '\0'; s++) {
        if (*s == '"') {
            fputc('"', out);
        }
        fputc(*s, out);
    }
    fputc('"', out);
}

static void write_csv_header(FILE *out)
{
    fputs("id,time,total,complete,risk", out);
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) { /* the vital-sign table's names */
        fprintf(out, ",%s", vigil_news2_param_name((vigil_news2_param)p));
    }
    fputs(",scale,monitoring,response,missing,flags\n", out);
}

static void write_csv(FILE *out, const row *r, const vigil_news2 *s)
{
    csv_cell(out, r->id);
    fputc(',', out);
    csv_cell(out, r->time);
    fprintf(out, ",%d,%s,%s", s->total, s->complete ? "true" : "false",
            vigil_news2_risk_name(s->risk));
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        if (s->sub[p] == VIGIL_NEWS2_SUB_MISSING) {
            fputc(',', out);
        } else {
            fprintf(out, ",%d", s->sub[p]);
        }
    }
    fprintf(out, ",%d,%s,%s,", s->spo2_scale, vigil_news2_monitoring_name(s->monitoring),
            vigil_news2_response_name(s->response));
    const char *sep = "";
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        if (s->missing & (1u << p)) {
            fprintf(out, "%s%s", sep, vigil_news2_param_name((vigil_news2_param)p));
            sep = ";";
        }
    }
    fputc(',', out);
    sep = "";
    for (int b = 0; b < VIGIL_NEWS2_FLAG_COUNT_; b++) {
        if (s->flags & (1u << b)) {
            fprintf(out, "%s%s", sep, vigil_news2_flag_name(1u << b));
            sep = ";";
        }
    }
    fputc('\n', out);
}

static void emit(FILE *out, out_format fmt, const row *r, const vigil_news2 *s)
{
    if (fmt == FMT_CSV) {
        write_csv(out, r, s);
        return;
    }
    json_t *o = result_json(r, s);
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text != NULL) {
        fputs(text, out);
        fputc('\n', out);
        free(text);
    }
    json_decref(o);
}

/* Set one named field of a row; id and time are text, the rest observations. */
static vigil_status row_set(row *r, const char *name, const char *value, vigil_err *err)
{
    if (strcmp(name, "id") == 0 || strcmp(name, "time") == 0) {
        char *dst = name[0] == 'i' ? r->id : r->time;
        if (strlen(value) >= ID_MAX) {
            return vigil_err_set(err, VIGIL_ERR_PARSE, name, "value is longer than %d bytes",
                                 ID_MAX - 1);
        }
        snprintf(dst, ID_MAX, "%s", value);
        vigil_str_trim(dst);
        return VIGIL_OK;
    }
    return vigil_obs_set_text(&r->obs, name, value, err);
}

static void report(const char *source, long line, const vigil_err *e)
{
    char where[96] = "";
    if (line > 0) {
        snprintf(where, sizeof where, "line %ld: ", line);
    }
    char field[96] = "";
    if (e->field[0] != '\0') {
        snprintf(field, sizeof field, "field '%s': ", e->field);
    }
    fprintf(stderr, "vigil news2: %s%s%s%s%s\n", source, source[0] != '\0' ? ": " : "", where,
            field, e->msg);
}

typedef struct header {
    size_t n;
    char names[MAX_COLS][32];
    bool used[MAX_COLS]; /* false for columns vigil does not read */
} header;

static int parse_header(char *line, const char *source, header *h)
{
    char *cols[MAX_COLS];
    size_t n = 0;
    if (vigil_csv_split(line, ',', cols, MAX_COLS, &n) != VIGIL_OK) {
        fprintf(stderr, "vigil news2: %s: line 1: malformed header row\n", source);
        return VIGIL_EXIT_DATA;
    }
    h->n = n;
    for (size_t i = 0; i < n; i++) {
        char *name = vigil_str_trim(cols[i]);
        if (i == 0 && (unsigned char)name[0] == 0xEF && (unsigned char)name[1] == 0xBB &&
            (unsigned char)name[2] == 0xBF) {
            name += 3; /* UTF-8 byte-order mark from spreadsheet exports */
        }
        snprintf(h->names[i], sizeof h->names[i], "%s", name);
        h->used[i] =
            strcmp(name, "id") == 0 || strcmp(name, "time") == 0 || vigil_obs_text_known(name);
        for (size_t j = 0; j < i; j++) {
            if (h->used[i] && strcmp(h->names[j], name) == 0) {
                fprintf(stderr, "vigil news2: %s: line 1: column '%s' appears twice\n", source,
                        name);
                return VIGIL_EXIT_DATA;
            }
        }
        if (!h->used[i]) {
            fprintf(stderr, "vigil news2: %s: line 1: ignoring unknown column '%s'\n", source,
                    name);
        }
    }
    return VIGIL_EXIT_OK;
}

static vigil_status parse_row(char *line, const header *h, long lineno, row *r, vigil_err *e)
{
    char *cols[MAX_COLS];
    size_t n = 0;
    vigil_status st = vigil_csv_split(line, ',', cols, MAX_COLS, &n);
    if (st != VIGIL_OK) {
        return vigil_err_set(e, VIGIL_ERR_PARSE, NULL, "malformed CSV (quoting)");
    }
    if (n != h->n) {
        return vigil_err_set(e, VIGIL_ERR_PARSE, NULL, "expected %zu fields, found %zu", h->n, n);
    }
    memset(r, 0, sizeof *r);
    vigil_obs_init(&r->obs);
    snprintf(r->id, sizeof r->id, "%ld", lineno);
    for (size_t i = 0; i < n; i++) {
        if (!h->used[i]) {
            continue;
        }
        st = row_set(r, h->names[i], cols[i], e);
        if (st != VIGIL_OK) {
            return st;
        }
    }
    return VIGIL_OK;
}

static int score_stream(FILE *in, const char *source, out_format fmt, bool strict)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    header h = {0};
    bool have_header = false;
    int rc = VIGIL_EXIT_OK;
    size_t n_ok = 0, n_bad = 0;

    if (fmt == FMT_CSV) {
        write_csv_header(stdout);
    }
    while ((len = getline(&line, &cap, in)) != -1) {
        lineno++;
        if (vigil_str_blank(line)) {
            continue;
        }
        if (!have_header) {
            int hrc = parse_header(line, source, &h);
            if (hrc != VIGIL_EXIT_OK) {
                free(line);
                return hrc;
            }
            have_header = true;
            continue;
        }
        row r;
        vigil_err e = {0};
        vigil_news2 s;
        vigil_status st = parse_row(line, &h, lineno, &r, &e);
        if (st == VIGIL_OK) {
            st = vigil_news2_score(&r.obs, &s, &e);
        }
        if (st != VIGIL_OK) {
            report(source, lineno, &e);
            n_bad++;
            rc = VIGIL_EXIT_DATA;
            if (strict) {
                break;
            }
            continue;
        }
        emit(stdout, fmt, &r, &s);
        n_ok++;
    }
    if (ferror(in)) {
        fprintf(stderr, "vigil news2: %s: read error\n", source);
        rc = VIGIL_EXIT_IO;
    } else if (!have_header) {
        fprintf(stderr, "vigil news2: %s: no header row\n", source);
        rc = VIGIL_EXIT_DATA;
    }
    free(line);
    if (n_bad > 0) {
        fprintf(stderr, "vigil news2: %zu set%s scored, %zu refused\n", n_ok, n_ok == 1 ? "" : "s",
                n_bad);
    }
    return rc;
}

enum { OPT_FORMAT = 256, OPT_STRICT, OPT_FIELD };

int vigil_cli_news2(int argc, char **argv)
{
    /* the fixed options, then each parameter by its key and, when it differs,
     * its name (--temp_c, --temp): from the vital-sign table */
    static const struct option fixed[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"help", no_argument, NULL, 'h'},
        {"id", required_argument, NULL, OPT_FIELD},
        {"time", required_argument, NULL, OPT_FIELD},
        {"scale", required_argument, NULL, OPT_FIELD},
        {"age", required_argument, NULL, OPT_FIELD},
        {"pregnant", required_argument, NULL, OPT_FIELD},
    };
    enum { N_FIXED = sizeof fixed / sizeof fixed[0] };
    struct option longopts[N_FIXED + 2 * VIGIL_NEWS2_PARAM_COUNT + 1];
    size_t n_opts = 0;
    for (size_t i = 0; i < N_FIXED; i++) {
        longopts[n_opts++] = fixed[i];
    }
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        longopts[n_opts++] = (struct option){v->key, required_argument, NULL, OPT_FIELD};
        if (strcmp(v->name, v->key) != 0) {
            longopts[n_opts++] = (struct option){v->name, required_argument, NULL, OPT_FIELD};
        }
    }
    longopts[n_opts] = (struct option){NULL, 0, NULL, 0};
    out_format fmt = FMT_JSON;
    bool strict = false;
    bool single = false;
    row one;
    memset(&one, 0, sizeof one);
    vigil_obs_init(&one.obs);
    snprintf(one.id, sizeof one.id, "1");

    optind = 1;
    int c;
    int idx = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return VIGIL_EXIT_OK;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") == 0) {
                fmt = FMT_JSON;
            } else if (strcmp(optarg, "csv") == 0) {
                fmt = FMT_CSV;
            } else {
                fprintf(stderr, "vigil news2: --format must be json or csv, not '%s'\n", optarg);
                return VIGIL_EXIT_USAGE;
            }
            break;
        case OPT_STRICT:
            strict = true;
            break;
        case OPT_FIELD: {
            const char *name = longopts[idx].name;
            for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) { /* --temp: the row's key */
                const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
                name = strcmp(name, v->name) == 0 ? v->key : name;
            }
            vigil_err e = {0};
            if (row_set(&one, name, optarg, &e) != VIGIL_OK) {
                report("", 0, &e);
                return VIGIL_EXIT_DATA;
            }
            single = true;
            break;
        }
        default:
            fprintf(stderr, "Run 'vigil news2 --help' for the options.\n");
            return VIGIL_EXIT_USAGE;
        }
    }
    if (single) {
        if (optind < argc) {
            fprintf(stderr, "vigil news2: give either a FILE or one set as flags, not both\n");
            return VIGIL_EXIT_USAGE;
        }
        vigil_news2 s;
        vigil_err e = {0};
        if (vigil_news2_score(&one.obs, &s, &e) != VIGIL_OK) {
            report("", 0, &e);
            return VIGIL_EXIT_DATA;
        }
        if (fmt == FMT_CSV) {
            write_csv_header(stdout);
        }
        emit(stdout, fmt, &one, &s);
        return VIGIL_EXIT_OK;
    }
    if (argc - optind > 1) {
        fprintf(stderr, "vigil news2: one FILE at most\n");
        return VIGIL_EXIT_USAGE;
    }
    if (optind == argc || strcmp(argv[optind], "-") == 0) {
        return score_stream(stdin, "stdin", fmt, strict);
    }
    const char *path = argv[optind];
    FILE *in = fopen(path, "r");
    if (in == NULL) {
        fprintf(stderr, "vigil news2: cannot open '%s': ", path);
        perror(NULL);
        return VIGIL_EXIT_IO;
    }
    int rc = score_stream(in, path, fmt, strict);
    fclose(in);
    return rc;
}
