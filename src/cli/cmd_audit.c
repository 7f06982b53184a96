/*
 * cmd_audit.c: `vigil audit verify --db STORE`: walk a store's audit chain
 * and print OK with the record count, or the first bad record. Opens the
 * store read-only: verifying changes nothing (and migrates nothing).
 *
 * Exit status: 0 chain intact; 1 chain broken; 2 usage; 3 store unreadable.
 * Spec: docs/store.md "Audit chain".
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "vigil/audit.h"
#include "vigil/store.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vigil audit verify --db STORE\n"
               "\n"
               "Check the hash chain of a vigil store's audit trail: every record's hash,\n"
               "the link to the record before it, the sequence (no gaps) and the recorded\n"
               "head (no records removed from the end). Prints OK and the record count, or\n"
               "the first record that fails and why. The store is opened read-only.\n"
               "\n"
               "options:\n"
               "  --db STORE   the store: a SQLite file, or postgresql://... (a\n"
               "               PostgreSQL database, docs/store.md)\n"
               "  -h, --help   show this help\n"
               "\n"
               "exit status: 0 chain intact; 1 chain broken; 2 usage error;\n"
               "3 the store could not be opened or read.\n");
}

static void hex(const uint8_t *h, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[h[i] >> 4];
        out[2 * i + 1] = digits[h[i] & 15];
    }
    out[2 * n] = '\0';
}

static int verify(const char *db)
{
    char uri[4096];
    /* a store URI ("postgresql://...") as given; a path is SQLite's file */
    bool is_uri = strstr(db, "://") != NULL;
    int w = is_uri ? snprintf(uri, sizeof uri, "%s", db) : snprintf(uri, sizeof uri, "sqlite:%s", db);
    if (w < 0 || (size_t)w >= sizeof uri) {
        fprintf(stderr, "vigil audit: path too long\n");
        return VIGIL_EXIT_USAGE;
    }
    vigil_store *st = NULL;
    vigil_err e = {0};
    if (vigil_store_open(uri, VIGIL_STORE_READONLY, &st, &e) != VIGIL_OK) {
        fprintf(stderr, "vigil audit: cannot open %s: %s\n", db, e.msg);
        return VIGIL_EXIT_IO;
    }
    vigil_audit_report rep;
    vigil_status s = vigil_audit_verify(st, &rep, &e);
    vigil_store_close(st);
    if (s != VIGIL_OK) {
        fprintf(stderr, "vigil audit: cannot read the audit trail of %s: %s\n", db, e.msg);
        return VIGIL_EXIT_IO;
    }
    if (!rep.ok) {
        printf("FAIL: record %lld: %s: %s (%lld record(s) verified before it)\n",
               (long long)rep.bad_seq, vigil_audit_problem_name(rep.problem), rep.detail,
               (long long)rep.n_records);
        return VIGIL_EXIT_DATA;
    }
    char h[2 * VIGIL_AUDIT_HASH_LEN + 1];
    hex(rep.head, VIGIL_AUDIT_HASH_LEN, h);
    printf("OK: %lld audit record(s), chain intact, head %s\n", (long long)rep.n_records, h);
    return VIGIL_EXIT_OK;
}

int vigil_cli_audit(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? VIGIL_EXIT_USAGE : VIGIL_EXIT_OK;
    }
    if (strcmp(argv[1], "verify") != 0) {
        fprintf(stderr, "vigil audit: unknown subcommand '%s'\n\n", argv[1]);
        usage(stderr);
        return VIGIL_EXIT_USAGE;
    }
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL;
    optind = 1;
    int c;
    while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'h':
            usage(stdout);
            return VIGIL_EXIT_OK;
        default:
            usage(stderr);
            return VIGIL_EXIT_USAGE;
        }
    }
    if (db == NULL || optind != argc - 1) {
        usage(stderr);
        return VIGIL_EXIT_USAGE;
    }
    return verify(db);
}
