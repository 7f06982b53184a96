/*
 * cmd_serve.c: `vigil serve`: run the ward service (vigil/server.h) until
 * SIGTERM or SIGINT, then stop gracefully and exit 0.
 *
 * Owns the process-wide parts the library leaves to main(): signals (blocked
 * in every thread and taken with sigwait here, so no handler runs inside
 * the server), SIGPIPE ignored, the first admin user (--bootstrap-admin with
 * the password in VIGIL_ADMIN_PASSWORD, never on the command line).
 *
 * Exit status: 0 stopped cleanly; 2 usage; 3 the store or a port could not be
 * opened. Prints "vigil serve: http ADDR:PORT mllp ADDR:PORT" on stderr once
 * both ports are listening (ports 0 ask for ephemeral ones).
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "vigil/ai_scorer.h"
#include "vigil/monitor.h"
#include "vigil/server.h"
#include "vigil/store.h"
#include "vigil/util.h"


/* long options without a short letter */
enum {
    OPT_SUMMARY_SMTP = 0x200,
    OPT_SUMMARY_FROM,
    OPT_SUMMARY_TO,
    OPT_SUMMARY_EVERY,
    OPT_CRITICAL_CARE,
    OPT_DEATH_DISPOSITION,
    OPT_MLLP_TLS_CERT,
    OPT_MLLP_TLS_KEY,
    OPT_MLLP_TLS_CA,
    OPT_MLLP_TLS_CRL,
    OPT_TZ,
    OPT_NODE,
};

static void usage(FILE *f)
{
    fprintf(f, "usage: vigil serve --db FILE --http-port N --mllp-port N [--bind ADDR]\n"
               "                   [--model BUNDLE [--shadow-model BUNDLE]]\n"
               "                   [--bootstrap-admin USER]\n"
               "                   [--tls-cert FILE --tls-key FILE] [--web-root DIR]\n"
               "                   [--mllp-tls-cert FILE --mllp-tls-key FILE\n"
               "                    [--mllp-tls-ca FILE [--mllp-tls-crl FILE]]]\n"
               "                   [--hl7-profile FILE]... [--tz ZONE] [MLLP limits]\n"
               "\n"
               "Run the ward service: HL7 v2 over MLLP in (ORU^R01, ADT A01/A02/A03/A08),\n"
               "the JSON API and FHIR R4 over HTTP. Stops cleanly on SIGTERM or SIGINT.\n"
               "\n"
               "options:\n"
               "  --db FILE              the SQLite store (created if missing)\n"
               "  --http-port N          HTTP port (0: an ephemeral port)\n"
               "  --mllp-port N          MLLP port (0: an ephemeral port)\n"
               "  --bind ADDR            address to listen on (default 127.0.0.1)\n"
               "  --model BUNDLE         an AI model bundle (without it: NEWS2 only)\n"
               "  --shadow-model BUNDLE  silent mode: a second bundle scores every HL7 set\n"
               "                         beside --model; stored for local validation, never\n"
               "                         shown or alerted on\n"
               "  --bootstrap-admin USER create admin USER if missing, password from the\n"
               "                         environment variable VIGIL_ADMIN_PASSWORD\n"
               "  --tls-cert FILE        serve HTTP over TLS (HTTPS) with this PEM certificate\n"
               "                         (chain); the session cookie is then Secure\n"
               "  --tls-key FILE         its PEM private key (mode 600; both or neither)\n"
               "  --web-root DIR         the web app's files (default: web/ beside this\n"
               "                         program, as the build leaves it; '' for none)\n"
               "  --hl7-profile FILE     an HL7 sender's interface profile (docs/hl7.md),\n"
               "                         chosen by MSH-3/MSH-4; repeatable (at most 8)\n"               "  --tz ZONE              HL7 times without a UTC offset, from a sender whose\n"
               "                         profile names no time_zone, are local times in\n"
               "                         ZONE: an IANA zone (Europe/Paris), london (the\n"
               "                         default: Europe/London), utc, or refuse\n"
               "  --assemble-window S    values of one patient measured within S seconds\n"
               "                         of each other form one observation set (0-900,\n"
               "                         default 300; docs/escalation.md)\n"
               "  --node NAME            this node's name in the log, /health, /metrics and\n"
               "                         the audit trail (default HOST:PID); several nodes\n"
               "                         may share one PostgreSQL store (docs/server.md)\n"
               "  --monitor-period S     live monitoring (with --model; docs/server.md,\n"
               "                         Monitoring) every S seconds (default 60)\n"
               "  --monitor-baseline-days N  days that set the reference (2-64, default 14)\n"
               "  --no-monitor           no live monitoring\n"
               "  --critical-care-ward W an ADT A02 or FHIR Encounter destination onto ward W\n"
               "                         is an unplanned critical-care admission (repeatable)\n"
               "  --death-disposition C  an ADT A03 with PV1-36 = C is a death (repeatable;\n"
               "                         default the UB-04 expired codes 20, 40, 41, 42)\n"
               "MLLP limits (docs/server.md, Limits):\n"
               "  --mllp-max-conns N     MLLP connections at once (default 64)\n"
               "  --mllp-conns-per-addr N  from one peer address (default 8)\n"
               "  --mllp-idle-timeout S  close a connection that completes no message, or\n"
               "                         leaves its ACKs unread, for S seconds (default 120)\n"
               "  --mllp-ack-backlog N   messages read from one connection and not yet\n"
               "                         answered on the wire before it is no longer read\n"
               "                         (default 512)\n"
               "  --signins-in-flight N  sign-ins (argon2id) at once; more get 503 (default 1;\n"
               "                         fewer than --http-threads)\n"
               "  --http-threads N       threads answering HTTP (1-64, default 2)\n"
               "  --http-max-conns N     HTTP connections at once (default 256)\n"
               "  --http-conns-per-addr N  from one client address (default 16; 0: no limit,\n"
               "                         for a reverse proxy)\n"
               "MLLP senders (docs/server.md, MLLP senders; each repeatable, default any):\n"
               "  --mllp-allow CIDR      accept MLLP connections only from these addresses\n"
               "                         or blocks (10.1.2.3, 10.1.0.0/16, fd00::/8)\n"
               "  --hl7-sender APP/FAC   accept messages only from this MSH-3/MSH-4 pair\n"
               "                         ('*' for either part: any); others are AR;\n"
               "                         APP/FAC|SUBJECT: only over MLLP TLS with a client\n"
               "                         certificate of that subject (RFC 4514, as audited)\n"
               "MLLP over TLS (docs/server.md, MLLP over TLS; TLS 1.2 and 1.3 only):\n"
               "  --mllp-tls-cert FILE   serve MLLP over TLS only, with this PEM certificate\n"
               "  --mllp-tls-key FILE    its PEM private key (mode 600; both or neither)\n"
               "  --mllp-tls-ca FILE     PEM CA certificates: every MLLP client must present\n"
               "                         a certificate they issued (mutual TLS); its subject\n"
               "                         is written in the audit record\n"
               "  --mllp-tls-crl FILE    PEM revocation lists of that CA: a certificate they\n"
               "                         revoke is refused (read at start)\n"
               "Pages (docs/server.md, Pages):\n"
               "  --paging               queue pages to rota holders with every alert and\n"
               "                         repeat (the web app channel: GET /api/pages)\n"
               "  --page-webhook URL     also POST pages to a paging gateway (implies\n"
               "                         --paging); signing secret from VIGIL_PAGE_SECRET\n"
               "  --page-link-base URL   the base of the link a page carries\n"
               "  --page-ca FILE         CA bundle to verify an https gateway\n"
               "  --page-timeout S       whole-request timeout (default 5)\n"
               "  --page-retry S         first retry after S seconds, doubling (default 1)\n"
               "  --emergency-repeat S   repeat an unacknowledged emergency alert every S\n"
               "                         seconds (default 300)\n"
               "  --summary-smtp URL     e-mail a non-urgent summary (counts per ward, no\n"
               "                         patient, never an alert) through this SMTP relay,\n"
               "                         smtp:// or smtps:// (implies --paging)\n"
               "  --summary-from ADDR    the summaries' sender address\n"
               "  --summary-to ADDRS     their recipients, comma-separated (1 to 8)\n"
               "  --summary-every S      the period in seconds (default 43200: 12 h)\n"
               "  -h, --help             show this help\n"
               "\n"
               "The AI risk model is trained on ICU research data and must be validated\n"
               "locally before any clinical use.\n");
}

static vigil_status bootstrap_admin(const char *db, const char *user, vigil_err *err)
{
    const char *pw = getenv("VIGIL_ADMIN_PASSWORD");
    if (pw == NULL || pw[0] == '\0') {
        return vigil_err_set(err, VIGIL_ERR_ARG, "VIGIL_ADMIN_PASSWORD",
                             "--bootstrap-admin needs the password in VIGIL_ADMIN_PASSWORD");
    }
    vigil_store *st = NULL;
    vigil_status s = vigil_store_open(db, 0, &st, err);
    if (s != VIGIL_OK) {
        return s;
    }
    vigil_store_user u;
    s = vigil_store_user_get(st, user, &u, err);
    if (s == VIGIL_ERR_NOT_FOUND) {
        const char *wards[] = {"*"};
        vigil_actor who = {"vigil-serve", "bootstrap admin"};
        int64_t id = 0;
        s = vigil_store_user_add(st, &who, user, user, VIGIL_STORE_ROLE_ADMIN, pw, wards, 1, &id,
                                 err);
        if (s == VIGIL_OK) {
            fprintf(stderr, "vigil serve: admin user %s created\n", user);
        }
    }
    vigil_store_close(st);
    return s;
}

/* web/ beside the running program (the build puts it there), when it holds
 * an index.html; else NULL (the API only). */
static const char *default_web_root(char *buf, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    if (n <= 0) {
        return NULL;
    }
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash == NULL || (size_t)(slash - buf) + sizeof "/web/index.html" > cap) {
        return NULL;
    }
    snprintf(slash, cap - (size_t)(slash - buf), "/web/index.html");
    if (access(buf, R_OK) != 0) {
        return NULL;
    }
    slash[4] = '\0';
    return buf;
}

#define SENDERS_MAX 64 /* --mllp-allow and --hl7-sender entries each */

/* A whole number in lo..hi for option name; prints why not. */
static bool uint_arg(const char *name, const char *s, long lo, long hi, long *out)
{
    if (vigil_parse_long(s, lo, hi, out) != VIGIL_OK) {
        fprintf(stderr, "vigil serve: %s: '%s' is not a whole number from %ld to %ld\n", name, s,
                lo, hi);
        return false;
    }
    return true;
}

static bool port_arg(const char *s, int *out)
{
    long v = 0;
    if (vigil_parse_long(s, 0, 65535, &v) != VIGIL_OK) {
        return false;
    }
    *out = (int)v;
    return true;
}

int vigil_cli_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"http-port", required_argument, NULL, 'H'},
        {"mllp-port", required_argument, NULL, 'M'},
        {"bind", required_argument, NULL, 'b'},
        {"model", required_argument, NULL, 'm'},
        {"shadow-model", required_argument, NULL, 'Z'},
        {"bootstrap-admin", required_argument, NULL, 'a'},
        {"tls-cert", required_argument, NULL, 'C'},
        {"tls-key", required_argument, NULL, 'K'},
        {"mllp-tls-cert", required_argument, NULL, OPT_MLLP_TLS_CERT},
        {"mllp-tls-key", required_argument, NULL, OPT_MLLP_TLS_KEY},
        {"mllp-tls-ca", required_argument, NULL, OPT_MLLP_TLS_CA},
        {"mllp-tls-crl", required_argument, NULL, OPT_MLLP_TLS_CRL},
        {"web-root", required_argument, NULL, 'W'},
        {"assemble-window", required_argument, NULL, 'A'},
        {"mllp-max-conns", required_argument, NULL, 'X'},
        {"mllp-conns-per-addr", required_argument, NULL, 'P'},
        {"mllp-idle-timeout", required_argument, NULL, 'I'},
        {"mllp-ack-backlog", required_argument, NULL, 'B'},
        {"hl7-profile", required_argument, NULL, 'F'},
        {"tz", required_argument, NULL, OPT_TZ},
        {"node", required_argument, NULL, OPT_NODE},
        {"mllp-allow", required_argument, NULL, 'L'},
        {"signins-in-flight", required_argument, NULL, 'G'},
        {"http-conns-per-addr", required_argument, NULL, 'Q'},
        {"http-max-conns", required_argument, NULL, 'N'},
        {"http-threads", required_argument, NULL, 'T'},
        {"hl7-sender", required_argument, NULL, 'S'},
        {"paging", no_argument, NULL, 'g'},
        {"page-webhook", required_argument, NULL, 'w'},
        {"page-link-base", required_argument, NULL, 'l'},
        {"page-ca", required_argument, NULL, 'c'},
        {"page-timeout", required_argument, NULL, 't'},
        {"page-retry", required_argument, NULL, 'r'},
        {"emergency-repeat", required_argument, NULL, 'e'},
        {"summary-smtp", required_argument, NULL, OPT_SUMMARY_SMTP},
        {"summary-from", required_argument, NULL, OPT_SUMMARY_FROM},
        {"summary-to", required_argument, NULL, OPT_SUMMARY_TO},
        {"summary-every", required_argument, NULL, OPT_SUMMARY_EVERY},
        {"monitor-period", required_argument, NULL, 'p'},
        {"monitor-baseline-days", required_argument, NULL, 'y'},
        {"no-monitor", no_argument, NULL, 'n'},
        {"critical-care-ward", required_argument, NULL, OPT_CRITICAL_CARE},
        {"death-disposition", required_argument, NULL, OPT_DEATH_DISPOSITION},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    vigil_server_config cfg;
    vigil_server_config_init(&cfg);
    vigil_hl7_profile profiles[8]; /* outlive the server: it is closed before return */
    const char *model = NULL, *shadow_model = NULL, *admin = NULL, *web_root = NULL;
    bool have_web_root = false;
    char web_default[4096];
    bool have_http = false, have_mllp = false, monitor_on = true;
    size_t monitor_baseline = 14;
    vigil_monitor_cfg mon;
    optind = 1;
    int c;
    long v = 0;
    const char *allow[SENDERS_MAX], *senders[SENDERS_MAX];
    size_t n_allow = 0, n_senders = 0;
    const char *icu_wards[16], *death_codes[16];
    size_t n_icu = 0, n_death = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'X':
            if (!uint_arg("--mllp-max-conns", optarg, 1, 4096, &v)) {
                return VIGIL_EXIT_USAGE;
            }
            cfg.max_mllp_conns = (unsigned)v;
            break;
        case 'P':
            if (!uint_arg("--mllp-conns-per-addr", optarg, 1, 4096, &v)) {
                return VIGIL_EXIT_USAGE;
            }
            cfg.mllp_conns_per_addr = (unsigned)v;
            break;
        case 'A':
            if (!uint_arg("--assemble-window", optarg, 0, 900, &v)) {
                return VIGIL_EXIT_USAGE;
            }
            cfg.assemble_window_ms = (int64_t)v * 1000;
            break;
        case 'I':
            if (!uint_arg("--mllp-idle-timeout", optarg, 1, 86400, &v)) {
                return VIGIL_EXIT_USAGE;
            }
            cfg.mllp_idle_ms = (int64_t)v * 1000;
            break;
        case 'F':
            if (cfg.hl7.n_profiles == sizeof profiles / sizeof profiles[0] ||
                vigil_cli_hl7_profile_load(optarg, &profiles[cfg.hl7.n_profiles]) != 0) {
                fprintf(stderr, "vigil serve: --hl7-profile '%s' not loaded\n", optarg);
                return VIGIL_EXIT_USAGE;
            }
            cfg.hl7.n_profiles++;
            cfg.hl7.profiles = profiles;
            break;
        case OPT_NODE:
            if (optarg[0] == '\0' || strlen(optarg) > 63) {
                fprintf(stderr, "vigil serve: --node: a name of 1 to 63 bytes\n");
                return VIGIL_EXIT_USAGE;
            }
            cfg.node_name = optarg;
            break;
        case OPT_TZ: /* REQ HL7-TIME-ZONE-DEFAULT */
            if (vigil_cli_tz_option("vigil serve", optarg, &cfg.hl7) != 0) {
                return VIGIL_EXIT_USAGE;
            }
            break;
        case 'Q':
            if (!uint_arg("--http-conns-per-addr", optarg, 0, 4096, &v)) {
                return VIGIL_EXIT_USAGE;
            }
            cfg.http_conns_per_addr = (unsigned)v;
            break;
        case 'N':
            if (!uint_arg("--http-max-conns", optarg, 1, 4096, &v)) {
                return VIGIL_EXIT_USAGE;
            }
            cfg.max_http_conns = (unsigned)v;
            break;
        case 'T':
            if (!uint_arg("--http-threads", optarg, 1, 64, &v)) {
                return VIGIL_EXIT_USAGE;
            }
            cfg.http_threads = (unsigned)v;
            break;
        case 'G':
            if (!uint_arg("--signins-in-flight", optarg, 1, 63, &v)) {
                return VIGIL_EXIT_USAGE;
            }
            cfg.signins_in_flight = (unsigned)v;
            break;
        case 'L':
        case 'S':
            if ((c == 'L' ? n_allow : n_senders) == SENDERS_MAX) {
                fprintf(stderr, "vigil serve: at most %d --mllp-allow and --hl7-sender each\n",
                        SENDERS_MAX);
                return VIGIL_EXIT_USAGE;
            }
            if (c == 'L') {
                allow[n_allow++] = optarg;
            } else {
                senders[n_senders++] = optarg;
            }
            break;
        case 'g':
            cfg.paging = true;
            break;
        case OPT_SUMMARY_SMTP:
            cfg.paging = true;
            cfg.summary_smtp_url = optarg;
            break;
        case OPT_SUMMARY_FROM:
            cfg.summary_from = optarg;
            break;
        case OPT_SUMMARY_TO:
            cfg.summary_to = optarg;
            break;
        case OPT_SUMMARY_EVERY:
            if (!uint_arg("--summary-every", optarg, 1, 7 * 86400, &v)) {
                return VIGIL_EXIT_USAGE;
            }
            cfg.summary_every_ms = (int64_t)v * 1000;
            break;
        case 'w':
            cfg.paging = true;
            cfg.page_webhook_url = optarg;
            cfg.page_webhook_secret = getenv("VIGIL_PAGE_SECRET");
            break;
        case 'l':
            cfg.page_link_base = optarg;
            break;
        case 'c':
            cfg.page_ca_file = optarg;
            break;
        case 't':
        case 'r':
        case 'e':
            if (!uint_arg(c == 't' ? "--page-timeout" : c == 'r' ? "--page-retry"
                                                                 : "--emergency-repeat",
                          optarg, 1, 86400, &v)) {
                return VIGIL_EXIT_USAGE;
            }
            if (c == 't') {
                cfg.page_timeout_ms = (int64_t)v * 1000;
            } else if (c == 'r') {
                cfg.page_retry_ms = (int64_t)v * 1000;
            } else {
                cfg.escalation.realert_ms[VIGIL_ESC_EMERGENCY] = (int64_t)v * 1000;
            }
            break;
        case 'B':
            if (!uint_arg("--mllp-ack-backlog", optarg, 1, 65536, &v)) {
                return VIGIL_EXIT_USAGE;
            }
            cfg.mllp_ack_backlog = (unsigned)v;
            break;
        case 'd':
            cfg.db = optarg;
            break;
        case 'H':
            have_http = port_arg(optarg, &cfg.http_port);
            if (!have_http) {
                fprintf(stderr, "vigil serve: --http-port: '%s' is not a port\n", optarg);
                return VIGIL_EXIT_USAGE;
            }
            break;
        case 'M':
            have_mllp = port_arg(optarg, &cfg.mllp_port);
            if (!have_mllp) {
                fprintf(stderr, "vigil serve: --mllp-port: '%s' is not a port\n", optarg);
                return VIGIL_EXIT_USAGE;
            }
            break;
        case 'b':
            cfg.bind = optarg;
            break;
        case 'm':
            model = optarg;
            break;
        case 'Z':
            shadow_model = optarg;
            break;
        case 'a':
            admin = optarg;
            break;
        case 'C':
            cfg.tls_cert_file = optarg;
            break;
        case 'K':
            cfg.tls_key_file = optarg;
            break;
        case OPT_MLLP_TLS_CERT:
            cfg.mllp_tls_cert_file = optarg;
            break;
        case OPT_MLLP_TLS_KEY:
            cfg.mllp_tls_key_file = optarg;
            break;
        case OPT_MLLP_TLS_CA:
            cfg.mllp_tls_ca_file = optarg;
            break;
        case OPT_MLLP_TLS_CRL:
            cfg.mllp_tls_crl_file = optarg;
            break;
        case 'W':
            web_root = optarg;
            have_web_root = true;
            break;
        case 'p':
        case 'y':
            if (!uint_arg(c == 'p' ? "--monitor-period" : "--monitor-baseline-days", optarg,
                          c == 'p' ? 1 : 2, c == 'p' ? 86400 : 64, &v)) {
                return VIGIL_EXIT_USAGE;
            }
            if (c == 'p') {
                cfg.monitor_period_ms = (int64_t)v * 1000;
            } else {
                monitor_baseline = (size_t)v;
            }
            break;
        case 'n':
            monitor_on = false;
            break;
        case OPT_CRITICAL_CARE:
        case OPT_DEATH_DISPOSITION:
            if ((c == OPT_CRITICAL_CARE ? n_icu : n_death) == 16) {
                fprintf(stderr, "vigil serve: at most 16 of --%s\n",
                        c == OPT_CRITICAL_CARE ? "critical-care-ward" : "death-disposition");
                return VIGIL_EXIT_USAGE;
            }
            if (c == OPT_CRITICAL_CARE) {
                icu_wards[n_icu++] = optarg;
            } else {
                death_codes[n_death++] = optarg;
            }
            break;
        case 'h':
            usage(stdout);
            return VIGIL_EXIT_OK;
        default:
            usage(stderr);
            return VIGIL_EXIT_USAGE;
        }
    }
    if (optind != argc || cfg.db == NULL || !have_http || !have_mllp) {
        usage(stderr);
        return VIGIL_EXIT_USAGE;
    }
    cfg.mllp_allow = allow;
    cfg.n_mllp_allow = n_allow;
    cfg.hl7_senders = senders;
    cfg.n_hl7_senders = n_senders;
    cfg.critical_care_wards = icu_wards;
    cfg.n_critical_care_wards = n_icu;
    cfg.hl7_death_dispositions = death_codes;
    cfg.n_hl7_death_dispositions = n_death;
    if ((cfg.tls_cert_file == NULL) != (cfg.tls_key_file == NULL)) {
        fprintf(stderr, "vigil serve: --tls-cert and --tls-key go together\n");
        return VIGIL_EXIT_USAGE;
    }
    if ((cfg.mllp_tls_cert_file == NULL) != (cfg.mllp_tls_key_file == NULL) ||
        (cfg.mllp_tls_ca_file != NULL && cfg.mllp_tls_cert_file == NULL) ||
        (cfg.mllp_tls_crl_file != NULL && cfg.mllp_tls_ca_file == NULL)) {
        fprintf(stderr, "vigil serve: --mllp-tls-cert and --mllp-tls-key go together, "
                        "--mllp-tls-ca needs them, and --mllp-tls-crl needs --mllp-tls-ca\n");
        return VIGIL_EXIT_USAGE;
    }
    if (!have_web_root) {
        web_root = default_web_root(web_default, sizeof web_default);
    }
    cfg.web_root = web_root != NULL && web_root[0] != '\0' ? web_root : NULL;
    vigil_err err = {0};
    vigil_scorer scorer = {0};
    if (model != NULL) {
        if (vigil_ai_scorer_open(model, &scorer, &err) != VIGIL_OK) {
            fprintf(stderr, "vigil serve: --model: %s\n", err.msg);
            return VIGIL_EXIT_DATA;
        }
        cfg.scorer = &scorer;
        fprintf(stderr,
                "vigil serve: AI model %s (trained on ICU research data; not validated "
                "for clinical use; advisory only)\n",
                scorer.version(scorer.ctx));
    }
    if (model != NULL && monitor_on) {
        if (vigil_cli_live_monitor_cfg(model, &mon, &err) != VIGIL_OK) {
            fprintf(stderr, "vigil serve: --model (monitoring): %s\n", err.msg);
            if (scorer.close != NULL) {
                scorer.close(scorer.ctx);
            }
            return VIGIL_EXIT_DATA;
        }
        mon.baseline_days = monitor_baseline;
        cfg.monitor = &mon;
    }
    vigil_scorer shadow = {0};
    if (shadow_model != NULL) {
        if (model == NULL) {
            fprintf(stderr, "vigil serve: --shadow-model needs --model (the live model)\n");
            return VIGIL_EXIT_USAGE;
        }
        if (vigil_ai_scorer_open(shadow_model, &shadow, &err) != VIGIL_OK) {
            fprintf(stderr, "vigil serve: --shadow-model: %s\n", err.msg);
            return VIGIL_EXIT_DATA;
        }
        cfg.shadow_scorer = &shadow;
        fprintf(stderr, "vigil serve: shadow model %s (silent: scored and stored, never shown)\n",
                shadow.version(shadow.ctx));
    }
    if (admin != NULL && bootstrap_admin(cfg.db, admin, &err) != VIGIL_OK) {
        fprintf(stderr, "vigil serve: --bootstrap-admin: %s\n", err.msg);
        return err.status == VIGIL_ERR_ARG ? VIGIL_EXIT_USAGE : VIGIL_EXIT_IO;
    }
    /* every thread inherits the mask: the signals are taken only by sigwait below */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    vigil_server *srv = NULL;
    if (vigil_server_open(&cfg, &srv, &err) != VIGIL_OK) {
        fprintf(stderr, "vigil serve: %s\n", err.msg);
        return err.status == VIGIL_ERR_ARG ? VIGIL_EXIT_USAGE : VIGIL_EXIT_IO;
    }
    if (vigil_server_start(srv, &err) != VIGIL_OK) {
        fprintf(stderr, "vigil serve: %s\n", err.msg);
        vigil_server_close(srv);
        if (scorer.close != NULL) {
            scorer.close(scorer.ctx);
        }
        if (shadow.close != NULL) {
            shadow.close(shadow.ctx);
        }
        return VIGIL_EXIT_IO;
    }
    if (cfg.mllp_tls_cert_file != NULL) {
        fprintf(stderr, "vigil serve: MLLP over TLS (1.2, 1.3)%s\n",
                cfg.mllp_tls_ca_file != NULL ? ", client certificates required" : "");
    }
    fprintf(stderr, "vigil serve: %s %s:%d mllp %s:%d\n",
            cfg.tls_cert_file != NULL ? "https" : "http", cfg.bind, vigil_server_http_port(srv),
            cfg.bind, vigil_server_mllp_port(srv));
    fflush(stderr);
    int sig = 0;
    while (sigwait(&sigs, &sig) != 0) {
    }
    fprintf(stderr, "vigil serve: %s: stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    vigil_server_close(srv);
    if (scorer.close != NULL) {
        scorer.close(scorer.ctx);
    }
    if (shadow.close != NULL) {
        shadow.close(shadow.ctx);
    }
    fprintf(stderr, "vigil serve: stopped\n");
    return VIGIL_EXIT_OK;
}
