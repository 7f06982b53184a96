/*
 * cmd_migrate.c: `vigil migrate --from STORE --to STORE`: copy a store into
 * another, empty one, of any backend (an SQLite file into PostgreSQL when a
 * hospital outgrows one machine), with every row's id and value and the
 * audit chain intact, then check it: rows per table equal (compared inside
 * the copy's transaction, vigil_store_copy) and the chain verifies on the
 * target with the source's head.
 *
 * Phases: parse options; open the source read-only (it must be at this
 * vigil's schema version) and verify its chain; open the target (an empty
 * PostgreSQL database gets the schema); copy; verify the target's chain;
 * print the counts and the head.
 *
 * Exit status: 0 copied and verified; 1 refused or not verified (the reason
 * and, for a difference, the table); 2 usage; 3 a store could not be opened
 * or read. Spec: docs/store.md "Moving a store to PostgreSQL".
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
    fprintf(f, "usage: vigil migrate --from STORE --to STORE\n"
               "\n"
               "Copy every row of a vigil store into another, empty store, with the same ids\n"
               "and values: patients, observations, scores, alerts, users and their password\n"
               "hashes, rotas, pages, secrets and the audit trail. STORE is an SQLite file or\n"
               "a postgresql:// URI (an empty PostgreSQL database is given the schema).\n"
               "\n"
               "The source is opened read-only and must be at this vigil's schema version\n"
               "(open it once with this vigil, e.g. vigil serve, to migrate it). The target\n"
               "must be empty; it is written in one transaction. Stop vigil serve on the\n"
               "source first: rows written during the copy are not copied.\n"
               "\n"
               "Afterwards the rows of every table are compared (count and values, before\n"
               "the commit) and the audit chain is verified on the target, which must end\n"
               "at the source's head. Prints the rows per table and the head.\n"
               "\n"
               "options:\n"
               "  --from STORE   the store to copy (SQLite file or URI), read only\n"
               "  --to STORE     the empty store to copy into (postgresql://... or a file)\n"
               "  -h, --help     show this help\n"
               "\n"
               "exit status: 0 copied and verified; 1 refused (target not empty, schema not\n"
               "this vigil's, source chain broken) or a difference found (the table named);\n"
               "2 usage error; 3 a store could not be opened or read.\n");
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

/* A store URI as given ("postgresql://..."); a path is SQLite's file. */
static bool store_uri(const char *arg, char *uri, size_t cap)
{
    int w = strstr(arg, "://") != NULL ? snprintf(uri, cap, "%s", arg)
                                       : snprintf(uri, cap, "sqlite:%s", arg);
    return w >= 0 && (size_t)w < cap;
}

static int exit_of(vigil_status s)
{
    return s == VIGIL_ERR_CONFLICT || s == VIGIL_ERR_MISMATCH || s == VIGIL_ERR_DENIED
               ? VIGIL_EXIT_DATA
               : VIGIL_EXIT_IO;
}

/* Verify st's chain into *rep; an exit status (0 when it verified). */
static int verify(vigil_store *st, const char *name, vigil_audit_report *rep)
{
    vigil_err e = {0};
    if (vigil_audit_verify(st, rep, &e) != VIGIL_OK) {
        fprintf(stderr, "vigil migrate: cannot read the audit trail of %s: %s\n", name, e.msg);
        return VIGIL_EXIT_IO;
    }
    if (!rep->ok) {
        printf("FAIL: %s: audit record %lld: %s: %s\n", name, (long long)rep->bad_seq,
               vigil_audit_problem_name(rep->problem), rep->detail);
        return VIGIL_EXIT_DATA;
    }
    return VIGIL_EXIT_OK;
}

static int open_source(const char *from, vigil_store **out)
{
    char uri[4096];
    if (!store_uri(from, uri, sizeof uri)) {
        fprintf(stderr, "vigil migrate: --from too long\n");
        return VIGIL_EXIT_USAGE;
    }
    vigil_err e = {0};
    vigil_status s = vigil_store_open(uri, VIGIL_STORE_READONLY, out, &e);
    if (s == VIGIL_ERR_MISMATCH) {
        fprintf(stderr,
                "vigil migrate: refused: the source %s is not at this vigil's schema: %s\n"
                "  (open it once with this vigil, e.g. vigil serve --db, to migrate it; then "
                "run vigil migrate again)\n",
                from, e.msg);
        return VIGIL_EXIT_DATA;
    }
    if (s != VIGIL_OK) {
        fprintf(stderr, "vigil migrate: cannot open the source %s: %s\n", from, e.msg);
        return VIGIL_EXIT_IO;
    }
    return VIGIL_EXIT_OK;
}

static int open_target(const char *to, vigil_store **out)
{
    char uri[4096];
    if (!store_uri(to, uri, sizeof uri)) {
        fprintf(stderr, "vigil migrate: --to too long\n");
        return VIGIL_EXIT_USAGE;
    }
    vigil_err e = {0};
    vigil_status s = vigil_store_open(uri, 0, out, &e);
    if (s != VIGIL_OK) {
        fprintf(stderr, "vigil migrate: cannot open the target %s: %s\n", to, e.msg);
        return exit_of(s);
    }
    return VIGIL_EXIT_OK;
}

static void print_counts(const vigil_store_copy_report *rep)
{
    printf("%-18s %12s %12s\n", "table", "source", "target");
    for (size_t i = 0; i < rep->n_tables; i++) {
        const vigil_store_copy_table *t = &rep->tables[i];
        printf("%-18s %12lld %12lld%s\n", t->name, (long long)t->n_from, (long long)t->n_to,
               t->same ? "" : "  DIFFERENT");
    }
}

/* The copy and the checks, both stores open. */
static int migrate(vigil_store *src, vigil_store *dst, const char *from, const char *to)
{
    vigil_audit_report a, b;
    int rc = verify(src, from, &a);
    if (rc != VIGIL_EXIT_OK) {
        if (rc == VIGIL_EXIT_DATA) {
            fprintf(stderr, "vigil migrate: refused: the source's audit chain does not verify; "
                            "nothing copied\n");
        }
        return rc;
    }
    vigil_store_copy_report rep = {0};
    vigil_err e = {0};
    vigil_status s = vigil_store_copy(src, dst, &rep, &e);
    if (s != VIGIL_OK) {
        if (rep.n_tables > 0) {
            print_counts(&rep);
        }
        fprintf(stderr, "vigil migrate: %s%s\n", s == VIGIL_ERR_CONFLICT ? "refused: " : "", e.msg);
        return exit_of(s);
    }
    print_counts(&rep);
    rc = verify(dst, to, &b);
    if (rc != VIGIL_EXIT_OK) {
        fprintf(stderr,
                "vigil migrate: the copy was committed but its audit chain does not "
                "verify: do not use %s\n",
                to);
        return rc;
    }
    char h[2 * VIGIL_AUDIT_HASH_LEN + 1];
    hex(b.head, VIGIL_AUDIT_HASH_LEN, h);
    if (b.n_records != a.n_records || memcmp(a.head, b.head, VIGIL_AUDIT_HASH_LEN) != 0) {
        char ha[2 * VIGIL_AUDIT_HASH_LEN + 1];
        hex(a.head, VIGIL_AUDIT_HASH_LEN, ha);
        printf("FAIL: the target's audit head (%lld, %s) is not the source's (%lld, %s)\n",
               (long long)b.n_records, h, (long long)a.n_records, ha);
        return VIGIL_EXIT_DATA;
    }
    printf("OK: %zu tables copied, rows equal; %lld audit record(s), chain intact on the "
           "target, head %s (the source's)\n",
           rep.n_tables, (long long)b.n_records, h);
    return VIGIL_EXIT_OK;
}

int vigil_cli_migrate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *from = NULL, *to = NULL;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            from = optarg;
            break;
        case 't':
            to = optarg;
            break;
        case 'h':
            usage(stdout);
            return VIGIL_EXIT_OK;
        default:
            usage(stderr);
            return VIGIL_EXIT_USAGE;
        }
    }
    if (from == NULL || to == NULL || optind != argc) {
        usage(stderr);
        return VIGIL_EXIT_USAGE;
    }
    vigil_store *src = NULL, *dst = NULL;
    int rc = open_source(from, &src);
    if (rc == VIGIL_EXIT_OK) {
        rc = open_target(to, &dst);
    }
    if (rc == VIGIL_EXIT_OK) {
        rc = migrate(src, dst, from, to);
    }
    vigil_store_close(dst);
    vigil_store_close(src);
    return rc;
}
