/*
 * cmd_validate.c: `vigil validate`, the local validation report a hospital's
 * clinical safety officer reads before go-live: one self-contained HTML file
 * (validation_html.c) of the figures `vigil evaluate --model --json` prints
 * for the same bundle and data, computed by that same code (phases: parse
 * options, evaluate, render). Hourly (PhysioNet 2019) tasks only.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vigil validate --model BUNDLE --data PATH [--outcomes FILE]\n"
               "                      [--max-stays N] --out REPORT.html\n"
               "       vigil validate --model BUNDLE --db STORE --from YYYY-MM-DD\n"
               "                      --to YYYY-MM-DD [--out FIGURES.json]\n"
               "\n"
               "Write a local validation report of a model bundle on a hospital's own data,\n"
               "beside NEWS2: intended use, the frozen model's version and SHA-256, the\n"
               "cohort and its missing data, ROC and precision-recall curves, AUROC and AUPRC\n"
               "with 95%% CIs per observation and per admission, calibration, the operating\n"
               "point and alert burden, thresholds for alert budgets, a decision curve,\n"
               "subgroups, the model card and what the report cannot show (TRIPOD+AI).\n"
               "One HTML file with inline SVG: no script, prints on A4.\n"
               "Every figure is the one `vigil evaluate --model BUNDLE --data PATH --json`\n"
               "prints.\n"
               "\n"
               "  --model BUNDLE   the model bundle (hourly sepsis task)\n"
               "  --data PATH      a folder or archive of PhysioNet 2019 stays\n"
               "  --outcomes FILE  an outcomes file, passed to the loader\n"
               "  --max-stays N    only the first N stays (for a quick look)\n"
               "  --out FILE       the HTML report to write\n"
               "  --db STORE       instead of --data: the live store's sets, AI scores and\n"
               "                   outcomes measured from --from to --to (dates, UTC,\n"
               "                   inclusive), read-only: the figures as JSON (an outcome\n"
               "                   within 24 h after a set makes it an event)\n"
               "  -h, --help       show this help\n");
}

typedef struct vopts {
    const char *model, *data, *outcomes, *out, *max_stays, *db, *from, *to;
} vopts;

static int parse(int argc, char **argv, vopts *o)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'M'},
        {"data", required_argument, NULL, 'd'},
        {"outcomes", required_argument, NULL, 'o'},
        {"out", required_argument, NULL, 'O'},
        {"max-stays", required_argument, NULL, 'm'},
        {"db", required_argument, NULL, 'D'},
        {"from", required_argument, NULL, 'F'},
        {"to", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'M':
            o->model = optarg;
            break;
        case 'd':
            o->data = optarg;
            break;
        case 'o':
            o->outcomes = optarg;
            break;
        case 'O':
            o->out = optarg;
            break;
        case 'm':
            o->max_stays = optarg;
            break;
        case 'D':
            o->db = optarg;
            break;
        case 'F':
            o->from = optarg;
            break;
        case 'T':
            o->to = optarg;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            fprintf(stderr, "Run 'vigil validate --help' for the options.\n");
            return VIGIL_EXIT_USAGE;
        }
    }
    if (o->db != NULL) {
        if (optind < argc || o->model == NULL || o->data != NULL || o->from == NULL ||
            o->to == NULL) {
            fprintf(stderr, "vigil validate: --db needs --model, --from and --to (not --data)\n");
            return VIGIL_EXIT_USAGE;
        }
        return VIGIL_EXIT_OK;
    }
    if (optind < argc || o->model == NULL || o->data == NULL || o->out == NULL) {
        fprintf(stderr, "vigil validate: --model, --data and --out are needed\n");
        return VIGIL_EXIT_USAGE;
    }
    return VIGIL_EXIT_OK;
}

int vigil_cli_validate(int argc, char **argv)
{
    vopts o = {0};
    int rc = parse(argc, argv, &o);
    if (rc != VIGIL_EXIT_OK) {
        return rc < 0 ? VIGIL_EXIT_OK : rc;
    }
    if (o.db != NULL) {
        return vigil_cli_validate_db(o.model, o.db, o.from, o.to, o.out);
    }
    char *ev_argv[12];
    int n = 0;
    ev_argv[n++] = "evaluate";
    ev_argv[n++] = "--model";
    ev_argv[n++] = (char *)o.model;
    ev_argv[n++] = "--data";
    ev_argv[n++] = (char *)o.data;
    if (o.outcomes != NULL) {
        ev_argv[n++] = "--outcomes";
        ev_argv[n++] = (char *)o.outcomes;
    }
    if (o.max_stays != NULL) {
        ev_argv[n++] = "--max-stays";
        ev_argv[n++] = (char *)o.max_stays;
    }
    ev_argv[n] = NULL;
    json_t *out = NULL;
    rc = vigil_cli_evaluate_json(n, ev_argv, &out);
    json_error_t je;
    json_t *bundle = json_load_file(o.model, 0, &je);
    const json_t *entry = json_array_get(out, 0);
    if (rc == VIGIL_EXIT_OK && (entry == NULL || bundle == NULL)) {
        fprintf(stderr, "vigil validate: nothing to report\n");
        rc = VIGIL_EXIT_DATA;
    }
    if (rc == VIGIL_EXIT_OK && vigil_cli_validation_html(entry, bundle, o.out) != 0) {
        rc = VIGIL_EXIT_IO;
    }
    if (rc == VIGIL_EXIT_OK) {
        fprintf(stderr, "vigil validate: wrote %s\n", o.out);
    }
    json_decref(bundle);
    json_decref(out);
    return rc;
}
