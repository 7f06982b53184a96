/*
 * cmd_data.c: `vigil data`, read PhysioNet 2019 / 2012 research data (a
 * folder, an archive or a file; formats recognised by content) and print
 * the loader's summary: files, stays, rows, measurements, outcomes, and
 * every issue by reason with the first messages (file and line). Reads in
 * place; writes nothing. See docs/data.md.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vigil/data.h"
#include "vigil/util.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vigil data [options] PATH...\n"
               "\n"
               "Read PhysioNet 2019 (.psv) and 2012 (Time,Parameter,Value) stays from each\n"
               "PATH (a folder, walked recursively; a .tar.gz or other archive, read in\n"
               "place; or one file) and print counts and issues. 2012 outcomes files are\n"
               "found by their header in PATH's tree and beside PATH.\n"
               "\n"
               "options:\n"
               "  --outcomes FILE    also load this 2012 outcomes file\n"
               "  --max-files N      stop after N stay files per PATH\n"
               "  --strict           stop at the first malformed row (exit 1)\n"
               "  --all-issues       print every issue on stderr as it is found\n"
               "  -h, --help         show this help\n"
               "\n"
               "exit status: 0 read (issues are counted, not fatal); 1 malformed input in\n"
               "--strict mode; 2 usage error; 3 a PATH could not be read.\n");
}

static void print_issue(vigil_data_issue issue, const char *file, long line, const char *msg,
                        void *ctx)
{
    (void)file;
    (void)line;
    (void)ctx;
    fprintf(stderr, "%s: %s\n", vigil_data_issue_name(issue), msg);
}

int vigil_cli_data(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"outcomes", required_argument, NULL, 'o'}, {"max-files", required_argument, NULL, 'm'},
        {"strict", no_argument, NULL, 's'},         {"all-issues", no_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    vigil_data_opts o;
    vigil_data_opts_init(&o);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        long n = 0;
        switch (c) {
        case 'o':
            o.outcomes_path = optarg;
            break;
        case 'm':
            if (vigil_parse_long(optarg, 1, 100000000L, &n) != VIGIL_OK) {
                fprintf(stderr, "vigil data: --max-files needs a positive number\n");
                return VIGIL_EXIT_USAGE;
            }
            o.max_stay_files = (size_t)n;
            break;
        case 's':
            o.strict = true;
            break;
        case 'a':
            o.on_issue = print_issue;
            break;
        case 'h':
            usage(stdout);
            return VIGIL_EXIT_OK;
        default:
            usage(stderr);
            return VIGIL_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return VIGIL_EXIT_USAGE;
    }
    int rc = VIGIL_EXIT_OK;
    vigil_data_summary *sum = malloc(sizeof *sum);
    char *text = malloc(1 << 16);
    if (sum == NULL || text == NULL) {
        free(sum);
        free(text);
        fprintf(stderr, "vigil data: out of memory\n");
        return VIGIL_EXIT_IO;
    }
    for (int i = optind; i < argc; i++) {
        vigil_err e = {0};
        vigil_data *d = NULL;
        vigil_status st = vigil_data_open(argv[i], &o, &d, &e);
        if (st != VIGIL_OK) {
            fprintf(stderr, "vigil data: %s\n", e.msg);
            rc = st == VIGIL_ERR_PARSE ? VIGIL_EXIT_DATA : VIGIL_EXIT_IO;
            continue;
        }
        for (;;) {
            const vigil_stay *s = NULL;
            st = vigil_data_next(d, &s, NULL, NULL, &e);
            if (st != VIGIL_OK || s == NULL) {
                break;
            }
        }
        *sum = *vigil_data_summary_get(d);
        vigil_data_close(d);
        vigil_data_summary_format(sum, text, 1 << 16);
        printf("== %s\n%s", argv[i], text);
        if (st != VIGIL_OK) {
            fprintf(stderr, "vigil data: %s\n", e.msg);
            rc = st == VIGIL_ERR_PARSE ? VIGIL_EXIT_DATA : VIGIL_EXIT_IO;
        }
    }
    free(sum);
    free(text);
    return rc;
}
