/*
 * cmd_vitals.c: `vigil vitals`: the one table of vital signs
 * (vigil/vitals.h) as JSON, or as the ES module the web app imports
 * (`--js`, written into the built web app by the build: web/js/vitals.js is
 * never a second copy in the source). Read-only: prints, changes nothing.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vigil/vitals.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vigil vitals [--js] [--out FILE]\n"
               "\n"
               "Print the table of vital signs vigil reads (src/core/vitals.c): for each\n"
               "NEWS2 parameter its name, JSON key, words, unit, plausible bounds, store\n"
               "column and codes (LOINC, MDC, SNOMED CT), as JSON.\n"
               "\n"
               "options:\n"
               "  --js          an ES module (export const VITALS = [...]) for the web app\n"
               "  --out FILE    write to FILE instead of standard output\n"
               "  -h, --help    show this help\n");
}

static json_t *row_json(const vigil_vital *v)
{
    static const char *const types[VIGIL_VITAL_TYPE_COUNT] = {
        [VIGIL_VITAL_NUMBER] = "number", [VIGIL_VITAL_O2] = "o2", [VIGIL_VITAL_ACVPU] = "acvpu"};
    json_t *r = json_object();
    json_object_set_new(r, "name", json_string(v->name));
    json_object_set_new(r, "key", json_string(v->key));
    json_object_set_new(r, "type", json_string(types[v->type]));
    json_object_set_new(r, "label", json_string(v->label));
    json_object_set_new(r, "unit", json_string(v->unit));
    json_object_set_new(r, "ucum", json_string(v->ucum));
    json_object_set_new(r, "min", v->type == VIGIL_VITAL_NUMBER ? json_real(v->min) : json_null());
    json_object_set_new(r, "max", v->type == VIGIL_VITAL_NUMBER ? json_real(v->max) : json_null());
    json_object_set_new(r, "column", json_string(v->column));
    json_object_set_new(r, "form_label", json_string(v->form_label));
    json_object_set_new(r, "heading", json_string(v->heading));
    json_object_set_new(r, "decimals", json_integer(v->decimals));
    if (v->type == VIGIL_VITAL_NUMBER && v->chart_label != NULL) {
        json_object_set_new(r, "chart",
                            json_pack("{s:s, s:f, s:f}", "label", v->chart_label, "lo",
                                      v->chart_lo, "hi", v->chart_hi));
    } else {
        json_object_set_new(r, "chart", json_null());
    }
    json_t *codes = json_array();
    for (size_t k = 0; k < VIGIL_VITAL_CODES_MAX && v->codes[k].code != NULL; k++) {
        const vigil_vital_code *c = &v->codes[k];
        json_t *o = json_object();
        json_object_set_new(o, "system", json_string(c->system));
        json_object_set_new(o, "code", json_string(c->code));
        json_object_set_new(o, "text", json_string(c->text));
        if (c->refid != NULL) {
            json_object_set_new(o, "refid", json_string(c->refid));
            json_object_set_new(o, "rank", json_integer(c->rank));
        }
        json_array_append_new(codes, o);
    }
    json_object_set_new(r, "codes", codes);
    return r;
}

int vigil_cli_vitals(int argc, char **argv)
{
    enum { O_JS = 1, O_OUT };
    static const struct option longopts[] = {{"js", no_argument, NULL, O_JS},
                                             {"out", required_argument, NULL, O_OUT},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int js = 0;
    const char *out_path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case O_JS:
            js = 1;
            break;
        case O_OUT:
            out_path = optarg;
            break;
        case 'h':
            usage(stdout);
            return VIGIL_EXIT_OK;
        default:
            usage(stderr);
            return VIGIL_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return VIGIL_EXIT_USAGE;
    }
    json_t *rows = json_array();
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        json_array_append_new(rows, row_json(vigil_vital_get((vigil_news2_param)p)));
    }
    char *text = json_dumps(rows, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(rows);
    if (text == NULL) {
        fprintf(stderr, "vigil vitals: out of memory\n");
        return VIGIL_EXIT_IO;
    }
    FILE *f = out_path != NULL ? fopen(out_path, "w") : stdout;
    if (f == NULL) {
        fprintf(stderr, "vigil vitals: cannot write '%s'\n", out_path);
        free(text);
        return VIGIL_EXIT_IO;
    }
    int ok = js ? fprintf(f,
                          "// vitals.js: the table of vital signs (src/core/vitals.c), written by\n"
                          "// `vigil vitals --js` when the web app is built. Do not edit.\n"
                          "export const VITALS = %s;\n",
                          text) > 0
                : fprintf(f, "%s\n", text) > 0;
    free(text);
    if (out_path != NULL) {
        ok = fclose(f) == 0 && ok;
    }
    if (!ok) {
        fprintf(stderr, "vigil vitals: write failed\n");
        return VIGIL_EXIT_IO;
    }
    return VIGIL_EXIT_OK;
}
