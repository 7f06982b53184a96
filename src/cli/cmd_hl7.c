/*
 * cmd_hl7.c: `vigil hl7`, check HL7 v2 messages offline, as the MLLP
 * listener would take them: `decode` prints what vigil extracts (events,
 * ADT, or the refusal) and the ACK it would send; `fields` prints every
 * segment, field, repetition, component and subcomponent, decoded, for
 * interface analysts and for the python-hl7 cross-check in tests/hl7.
 *
 * Does not do: listen on sockets (src/server) or store anything.
 * Input: one message per file (CR, LF or CR LF between segments), or with
 * --mllp a byte stream of MLLP frames (several messages).
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "vigil/hl7.h"
#include "vigil/mllp.h"
#include "vigil/vitals.h"

#define MAX_INPUT (4u * 1024u * 1024u)

static void usage(FILE *f)
{
    fprintf(f, "usage: vigil hl7 decode [options] [FILE]\n"
               "       vigil hl7 check [--profile PROFILE] [options] [FILE]\n"
               "       vigil hl7 fields [FILE]\n"
               "\n"
               "decode: parse an HL7 v2 message (ORU^R01 vital signs; ADT A01, A02, A03,\n"
               "A08) and print one JSON object: the observation sets or ADT event vigil\n"
               "extracts, or why the message is refused (AE or AR, HL7 table 0357 code,\n"
               "location, reason). With --ack the ACK vigil would send is included.\n"
               "check: decode with --ack, for an interface analyst: what would be stored,\n"
               "every result not used and why (\"refused\", \"counts\"), under the\n"
               "sender's interface profile.\n"
               "fields: print every segment as nested arrays (field, repetition,\n"
               "component, subcomponent), escape sequences decoded.\n"
               "Without FILE, or with '-', the message is read from standard input.\n"
               "\n"
               "options (decode):\n"
               "  --mllp             input is an MLLP stream (0x0B msg 0x1C 0x0D ...):\n"
               "                     one JSON object per message, one line each\n"
               "  --ack              include the ACK message (\"ack\")\n"
               "  --ack-id ID        the ACK's MSH-10 (default VIGIL<n>)\n"
               "  --ack-time TS      the ACK's MSH-7 as YYYYMMDDHHMM[SS]+ZZZZ (default now)\n"
               "  --tz london|utc|refuse|ZONE  reading of times without a UTC offset\n"
               "                     (default london: Europe/London; ZONE an IANA zone\n"
               "                     such as Europe/Paris, from /usr/share/zoneinfo)\n"
               "  --processing P|PT|PTD   MSH-11 processing ids accepted (default P)\n"
               "  --profile FILE     a sender's interface profile (docs/hl7.md); may be\n"
               "                     given several times, chosen by MSH-3/MSH-4\n"
               "  -h, --help         show this help\n"
               "\n"
               "See docs/hl7.md for what is accepted and how it maps to NEWS2.\n"
               "exit status: 0 accepted; 1 some message refused; 2 usage error;\n"
               "3 input could not be read.\n");
}

/* Read all of f into a malloc'd buffer (at most MAX_INPUT bytes). */
static int read_all(FILE *f, char **out, size_t *out_n)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL) {
        return -1;
    }
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_INPUT) {
                free(buf);
                return -1;
            }
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                return -1;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            break;
        }
    }
    if (ferror(f)) {
        free(buf);
        return -1;
    }
    *out = buf;
    *out_n = n;
    return 0;
}

static json_t *jstr(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    return j != NULL ? j : json_string("(not valid UTF-8)");
}

static json_t *jnum(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

static json_t *jtime(int64_t t_ms)
{
    char ts[21];
    vigil_hl7_dtm_format(t_ms, ts);
    /* ISO 8601 UTC from YYYYMMDDHHMMSS */
    char iso[32];
    snprintf(iso, sizeof iso, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", ts, ts + 4, ts + 6, ts + 8, ts + 10,
             ts + 12);
    return json_string(iso);
}

static json_t *event_json(const vigil_obs_event *ev, bool corrected)
{
    const vigil_obs *o = &ev->obs;
    json_t *j = json_object();
    json_object_set_new(j, "nhs_number", json_string(ev->nhs_number));
    json_object_set_new(j, "mrn", jstr(ev->mrn, strlen(ev->mrn)));
    json_object_set_new(j, "t_ms", json_integer(ev->t_ms));
    json_object_set_new(j, "time", jtime(ev->t_ms));
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) { /* the vital-sign table's keys */
        const vigil_vital *v = vigil_vital_get((vigil_news2_param)p);
        json_t *x = json_null();
        if (v->type == VIGIL_VITAL_NUMBER) {
            x = jnum(vigil_vital_number(o, v));
        } else if (v->type == VIGIL_VITAL_O2 && o->o2 != VIGIL_O2_UNKNOWN) {
            x = json_string(o->o2 == VIGIL_O2_AIR ? "air" : "oxygen");
        } else if (v->type == VIGIL_VITAL_ACVPU && o->acvpu != VIGIL_ACVPU_UNKNOWN) {
            x = json_string(vigil_acvpu_name(o->acvpu));
        }
        json_object_set_new(j, v->key, x);
        if (v->param == VIGIL_NEWS2_SPO2) {
            json_object_set_new(j, "spo2_scale", json_integer(o->spo2_scale));
        }
    }
    json_object_set_new(j, "age", jnum(o->age_y));
    json_object_set_new(j, "recorded_by", jstr(ev->recorded_by, strlen(ev->recorded_by)));
    json_object_set_new(j, "source_id", jstr(ev->source_id, strlen(ev->source_id)));
    json_object_set_new(j, "corrected", json_boolean(corrected));
    return j;
}

static json_t *location_json(const vigil_location *l)
{
    json_t *j = json_object();
    json_object_set_new(j, "ward", jstr(l->ward, strlen(l->ward)));
    json_object_set_new(j, "room", jstr(l->room, strlen(l->room)));
    json_object_set_new(j, "bed", jstr(l->bed, strlen(l->bed)));
    json_object_set_new(j, "facility", jstr(l->facility, strlen(l->facility)));
    return j;
}

static json_t *adt_json(const vigil_adt_event *a)
{
    json_t *j = json_object();
    json_object_set_new(j, "event", json_string(vigil_adt_kind_name(a->kind)));
    json_object_set_new(j, "nhs_number", json_string(a->nhs_number));
    json_object_set_new(j, "mrn", jstr(a->mrn, strlen(a->mrn)));
    json_object_set_new(j, "visit_number", jstr(a->visit_number, strlen(a->visit_number)));
    json_object_set_new(j, "patient_class", jstr(a->patient_class, strlen(a->patient_class)));
    json_object_set_new(j, "location", location_json(&a->location));
    json_object_set_new(j, "prior_location", location_json(&a->prior_location));
    json_object_set_new(j, "t_ms", json_integer(a->t_ms));
    json_object_set_new(j, "time", jtime(a->t_ms));
    json_object_set_new(j, "admit_t_ms",
                        a->has_admit_t ? json_integer(a->admit_t_ms) : json_null());
    json_object_set_new(j, "discharge_t_ms",
                        a->has_discharge_t ? json_integer(a->discharge_t_ms) : json_null());
    json_object_set_new(j, "source_id", jstr(a->source_id, strlen(a->source_id)));
    return j;
}

static json_t *fault_json(const vigil_hl7_fault *f)
{
    json_t *j = json_object();
    json_object_set_new(j, "code", json_integer(f->code));
    json_object_set_new(j, "code_text", json_string(vigil_hl7_errcode_text(f->code)));
    json_object_set_new(j, "reason", json_string(vigil_hl7_reason_name(f->reason)));
    char loc[64] = "";
    if (f->loc.seg[0] != '\0') {
        snprintf(loc, sizeof loc, "%s^%u^%u^%u^%u", f->loc.seg, f->loc.seq, f->loc.field,
                 f->loc.rep, f->loc.comp);
    }
    json_object_set_new(j, "location", json_string(loc));
    json_object_set_new(j, "text", jstr(f->text, strlen(f->text)));
    return j;
}

#define MAX_PROFILES 16

typedef struct decode_opts {
    vigil_hl7_opts hl7;
    vigil_hl7_profile profiles[MAX_PROFILES];
    bool check;
    bool mllp;
    bool ack;
    const char *ack_id;
    bool ack_time_set;
    int64_t ack_time;
    unsigned n;
} decode_opts;

static json_t *decode_one(const char *msg, size_t len, decode_opts *d, int *refused)
{
    vigil_hl7_result *r = malloc(sizeof *r);
    if (r == NULL) {
        return NULL;
    }
    vigil_hl7_decode(msg, len, &d->hl7, r);
    json_t *j = json_object();
    bool ok = r->fault.ack == VIGIL_HL7_AA;
    *refused |= !ok;
    json_object_set_new(j, "accepted", json_boolean(ok));
    json_object_set_new(j, "ack_code", json_string(vigil_hl7_ack_code_name(r->fault.ack)));
    json_object_set_new(j, "kind", json_string(vigil_hl7_kind_name(r->kind)));
    json_object_set_new(j, "control_id", jstr(r->hdr.control_id, strlen(r->hdr.control_id)));
    json_object_set_new(j, "version", jstr(r->hdr.version, strlen(r->hdr.version)));
    if (r->kind == VIGIL_HL7_KIND_ORU_R01 && ok) {
        json_t *evs = json_array();
        for (size_t k = 0; k < r->n_events; k++) {
            json_array_append_new(evs, event_json(&r->events[k], r->oru.corrected[k]));
        }
        json_object_set_new(j, "events", evs);
    }
    if (r->kind == VIGIL_HL7_KIND_ORU_R01 && d->check) {
        json_object_set_new(j, "profile", jstr(r->oru.profile, strlen(r->oru.profile)));
        json_t *w = json_array();
        for (size_t k = 0; k < r->oru.n_warnings; k++) {
            json_array_append_new(w, fault_json(&r->oru.warnings[k]));
        }
        json_object_set_new(j, "refused", w);
    }
    if (r->kind == VIGIL_HL7_KIND_ORU_R01 && (ok || d->check)) {
        json_t *c = json_object();
        json_object_set_new(c, "obx", json_integer((json_int_t)r->oru.n_obx));
        json_object_set_new(c, "used", json_integer((json_int_t)r->oru.n_used));
        json_object_set_new(c, "unknown", json_integer((json_int_t)r->oru.n_unknown));
        json_object_set_new(c, "unused", json_integer((json_int_t)r->oru.n_unused));
        json_object_set_new(c, "not_final", json_integer((json_int_t)r->oru.n_not_final));
        if (d->check) {
            json_object_set_new(c, "superseded", json_integer((json_int_t)r->oru.n_superseded));
            json_object_set_new(c, "refused", json_integer((json_int_t)r->oru.n_refused));
            json_object_set_new(c, "conflicting",
                                json_integer((json_int_t)r->oru.n_conflicting));
        }
        json_object_set_new(j, "counts", c);
    }
    if (r->kind == VIGIL_HL7_KIND_ADT && ok) {
        json_object_set_new(j, "adt", adt_json(&r->adt));
    }
    if (!ok) {
        json_object_set_new(j, "error", fault_json(&r->fault));
    }
    if (d->ack && r->kind != VIGIL_HL7_KIND_ACK) {
        char id[VIGIL_ID_MAX];
        d->n++;
        if (d->ack_id != NULL) {
            snprintf(id, sizeof id, "%s", d->ack_id);
        } else {
            snprintf(id, sizeof id, "VIGIL%u", d->n);
        }
        vigil_hl7_ack_opts ao = {
            .control_id = id,
            .t_ms = d->ack_time_set ? d->ack_time : (int64_t)time(NULL) * 1000,
            .app = "VIGIL",
            .facility = NULL,
            .warnings = r->kind == VIGIL_HL7_KIND_ORU_R01 ? r->oru.warnings : NULL,
            .n_warnings = r->kind == VIGIL_HL7_KIND_ORU_R01 ? r->oru.n_warnings : 0,
        };
        char ack[VIGIL_HL7_ACK_MAX];
        size_t an = 0;
        if (vigil_hl7_ack_build(&r->hdr, &r->fault, &ao, ack, sizeof ack, &an) == VIGIL_OK) {
            json_object_set_new(j, "ack", jstr(ack, an));
        }
    }
    free(r);
    return j;
}

static int print_json(json_t *j, bool compact)
{
    if (j == NULL) {
        return -1;
    }
    size_t flags =
        JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10) | (compact ? JSON_COMPACT : JSON_INDENT(2));
    char *s = json_dumps(j, flags);
    json_decref(j);
    if (s == NULL) {
        return -1;
    }
    printf("%s\n", s);
    free(s);
    return 0;
}

static int run_decode(const char *buf, size_t n, decode_opts *d)
{
    int refused = 0;
    if (!d->mllp) {
        if (print_json(decode_one(buf, n, d, &refused), false) != 0) {
            return VIGIL_EXIT_IO;
        }
        return refused ? VIGIL_EXIT_DATA : VIGIL_EXIT_OK;
    }
    vigil_mllp_decoder *dec = NULL;
    if (vigil_mllp_decoder_new(VIGIL_HL7_MAX_LEN, &dec) != VIGIL_OK) {
        return VIGIL_EXIT_IO;
    }
    while (n > 0) {
        size_t used = 0;
        vigil_mllp_frame f;
        vigil_mllp_decode(dec, buf, n, &used, &f);
        buf += used;
        n -= used;
        if (f.kind == VIGIL_MLLP_MESSAGE) {
            print_json(decode_one(f.msg, f.len, d, &refused), true);
        } else if (f.kind == VIGIL_MLLP_ERROR) {
            refused = 1;
            json_t *j = json_object();
            json_object_set_new(j, "accepted", json_false());
            json_object_set_new(j, "mllp_error", json_string(vigil_mllp_error_name(f.error)));
            print_json(j, true);
        }
    }
    vigil_mllp_decoder_free(dec);
    return refused ? VIGIL_EXIT_DATA : VIGIL_EXIT_OK;
}

/* fields: nested arrays of decoded strings. */
static json_t *decoded(const vigil_hl7_seps *s, vigil_hl7_view v)
{
    char out[4096];
    size_t n = 0;
    if (vigil_hl7_unescape(s, v, out, sizeof out, &n) != VIGIL_OK) {
        return json_null();
    }
    return jstr(out, n);
}

static unsigned count_sep(vigil_hl7_view v, char sep)
{
    unsigned n = 1;
    for (size_t k = 0; k < v.n; k++) {
        n += v.p[k] == sep;
    }
    return n;
}

static json_t *segment_json(const vigil_hl7_msg *m, size_t i)
{
    json_t *seg = json_array();
    vigil_hl7_view id = vigil_hl7_seg_id(m, i);
    json_array_append_new(seg, jstr(id.p, id.n));
    vigil_hl7_view s = m->seg[i];
    unsigned nf = count_sep(s, m->seps.field) - 1;
    bool msh = memcmp(s.p, "MSH", 3) == 0;
    if (msh) {
        nf++; /* MSH-1 is the separator itself */
    }
    for (unsigned f = 1; f <= nf; f++) {
        vigil_hl7_view fv;
        if (msh && f <= 2) {
            vigil_hl7_get(m, i, f, 1, 0, 0, &fv);
            json_array_append_new(seg, jstr(fv.p, fv.n));
            continue;
        }
        json_t *reps = json_array();
        vigil_hl7_get(m, i, f, 1, 0, 0, &fv);
        unsigned nr = vigil_hl7_reps(m, i, f);
        for (unsigned r = 1; r <= (nr > 0 ? nr : 1); r++) {
            vigil_hl7_view rv;
            vigil_hl7_get(m, i, f, r, 0, 0, &rv);
            json_t *comps = json_array();
            unsigned nc = count_sep(rv, m->seps.comp);
            for (unsigned c = 1; c <= nc; c++) {
                vigil_hl7_view cv;
                vigil_hl7_get(m, i, f, r, c, 0, &cv);
                json_t *subs = json_array();
                unsigned ns = count_sep(cv, m->seps.sub);
                for (unsigned sb = 1; sb <= ns; sb++) {
                    vigil_hl7_view sv;
                    vigil_hl7_get(m, i, f, r, c, sb, &sv);
                    json_array_append_new(subs, decoded(&m->seps, sv));
                }
                json_array_append_new(comps, subs);
            }
            json_array_append_new(reps, comps);
        }
        json_array_append_new(seg, reps);
    }
    return seg;
}

static int run_fields(const char *buf, size_t n)
{
    vigil_hl7_msg *m = malloc(sizeof *m);
    if (m == NULL) {
        return VIGIL_EXIT_IO;
    }
    vigil_hl7_fault fault;
    if (vigil_hl7_parse(buf, n, m, &fault) != VIGIL_OK) {
        fprintf(stderr, "vigil hl7: %s: %s\n", vigil_hl7_reason_name(fault.reason), fault.text);
        free(m);
        return VIGIL_EXIT_DATA;
    }
    json_t *j = json_object();
    json_t *segs = json_array();
    for (size_t i = 0; i < m->n_seg; i++) {
        json_array_append_new(segs, segment_json(m, i));
    }
    json_object_set_new(j, "segments", segs);
    free(m);
    return print_json(j, true) == 0 ? VIGIL_EXIT_OK : VIGIL_EXIT_IO;
}

/*
 * The IANA zones this process has loaded, each once, for profiles and --tz.
 * Process-lifetime configuration of main()'s commands (never freed: the
 * server and the decoder borrow them until exit); immutable once loaded, so
 * the server's threads may share them.
 */
static vigil_tz *zones[16];
static size_t n_zones;

const vigil_tz *vigil_cli_tz_get(const char *name)
{
    for (size_t k = 0; k < n_zones; k++) {
        if (strcmp(vigil_tz_name(zones[k]), name) == 0) {
            return zones[k];
        }
    }
    if (n_zones == sizeof zones / sizeof zones[0]) {
        fprintf(stderr, "vigil: at most %zu time zones\n", sizeof zones / sizeof zones[0]);
        return NULL;
    }
    vigil_err e = {0};
    if (vigil_tz_load(name, NULL, &zones[n_zones], &e) != VIGIL_OK) {
        fprintf(stderr, "vigil: %s\n", e.msg);
        return NULL;
    }
    return zones[n_zones++];
}

int vigil_cli_tz_option(const char *cmd, const char *arg, vigil_hl7_opts *o)
{
    if (strcmp(arg, "london") == 0) {
        o->local_tz = VIGIL_HL7_TZ_EUROPE_LONDON;
    } else if (strcmp(arg, "utc") == 0) {
        o->local_tz = VIGIL_HL7_TZ_UTC;
    } else if (strcmp(arg, "refuse") == 0) {
        o->local_tz = VIGIL_HL7_TZ_REFUSE;
    } else {
        const vigil_tz *z = vigil_cli_tz_get(arg);
        if (z == NULL) {
            fprintf(stderr, "%s: --tz must be london, utc, refuse or an IANA time zone "
                            "(Europe/Paris)\n",
                    cmd);
            return -1;
        }
        o->zone = z;
        o->local_tz = VIGIL_HL7_TZ_ZONE;
    }
    return 0;
}

int vigil_cli_hl7_profile_load(const char *path, vigil_hl7_profile *out)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;
    if (f == NULL || read_all(f, &buf, &n) != 0) {
        fprintf(stderr, "vigil: cannot read HL7 profile '%s'\n", path);
        if (f != NULL) {
            fclose(f);
        }
        return -1;
    }
    fclose(f);
    vigil_err e = {0};
    vigil_status st = vigil_hl7_profile_parse(buf, n, out, &e);
    free(buf);
    if (st != VIGIL_OK) {
        fprintf(stderr, "vigil: HL7 profile '%s': %s\n", path, e.msg);
        return -1;
    }
    if (out->local_tz == VIGIL_HL7_TZ_ZONE) { /* REQ HL7-TIME-ZONE */
        out->zone = vigil_cli_tz_get(out->tz_name);
        if (out->zone == NULL) {
            fprintf(stderr, "vigil: HL7 profile '%s': time_zone %s cannot be loaded\n", path,
                    out->tz_name);
            return -1;
        }
    }
    return 0;
}

/* Read one profile file into the next slot of d->profiles. */
static int load_profile(const char *path, decode_opts *d)
{
    if (d->hl7.n_profiles == MAX_PROFILES) {
        fprintf(stderr, "vigil hl7: at most %d profiles\n", MAX_PROFILES);
        return -1;
    }
    if (vigil_cli_hl7_profile_load(path, &d->profiles[d->hl7.n_profiles]) != 0) {
        return -1;
    }
    d->hl7.n_profiles++;
    d->hl7.profiles = d->profiles;
    return 0;
}

static int parse_decode_opts(int argc, char **argv, decode_opts *d)
{
    enum { O_MLLP = 1, O_ACK, O_ACK_ID, O_ACK_TIME, O_TZ, O_PROC, O_PROFILE };
    static const struct option longopts[] = {
        {"mllp", no_argument, NULL, O_MLLP},
        {"ack", no_argument, NULL, O_ACK},
        {"ack-id", required_argument, NULL, O_ACK_ID},
        {"ack-time", required_argument, NULL, O_ACK_TIME},
        {"tz", required_argument, NULL, O_TZ},
        {"processing", required_argument, NULL, O_PROC},
        {"profile", required_argument, NULL, O_PROFILE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case O_MLLP:
            d->mllp = true;
            break;
        case O_ACK:
            d->ack = true;
            break;
        case O_ACK_ID:
            d->ack_id = optarg;
            break;
        case O_ACK_TIME:
            if (vigil_hl7_dtm_parse(optarg, strlen(optarg), VIGIL_HL7_PREC_MINUTE,
                                    VIGIL_HL7_TZ_REFUSE, &d->ack_time, NULL) != VIGIL_OK) {
                fprintf(stderr, "vigil hl7: --ack-time '%s' is not YYYYMMDDHHMM[SS]+ZZZZ\n",
                        optarg);
                return -1;
            }
            d->ack_time_set = true;
            break;
        case O_TZ:
            if (vigil_cli_tz_option("vigil hl7", optarg, &d->hl7) != 0) {
                return -1;
            }
            break;
        case O_PROC:
            d->hl7.processing = 0;
            for (const char *p = optarg; *p != '\0'; p++) {
                d->hl7.processing |= *p == 'P'   ? VIGIL_HL7_PROC_P
                                     : *p == 'T' ? VIGIL_HL7_PROC_T
                                     : *p == 'D' ? VIGIL_HL7_PROC_D
                                                 : 0;
            }
            break;
        case O_PROFILE:
            if (load_profile(optarg, d) != 0) {
                return -1;
            }
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return -1;
        }
    }
    return 0;
}

int vigil_cli_hl7(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? VIGIL_EXIT_USAGE : VIGIL_EXIT_OK;
    }
    const char *sub = argv[1];
    bool is_check = strcmp(sub, "check") == 0;
    bool is_decode = strcmp(sub, "decode") == 0 || is_check;
    if (!is_decode && strcmp(sub, "fields") != 0) {
        fprintf(stderr, "vigil hl7: unknown subcommand '%s'\n", sub);
        usage(stderr);
        return VIGIL_EXIT_USAGE;
    }
    decode_opts d;
    memset(&d, 0, sizeof d);
    vigil_hl7_opts_init(&d.hl7);
    d.check = is_check;
    d.ack = is_check;
    int rc = parse_decode_opts(argc - 1, argv + 1, &d);
    if (rc != 0) {
        return rc > 0 ? VIGIL_EXIT_OK : VIGIL_EXIT_USAGE;
    }
    const char *path = optind < argc - 1 ? argv[1 + optind] : "-";
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "vigil hl7: cannot open '%s'\n", path);
        return VIGIL_EXIT_IO;
    }
    char *buf = NULL;
    size_t n = 0;
    int rr = read_all(f, &buf, &n);
    if (f != stdin) {
        fclose(f);
    }
    if (rr != 0) {
        fprintf(stderr, "vigil hl7: cannot read '%s' (at most %u bytes)\n", path, MAX_INPUT);
        return VIGIL_EXIT_IO;
    }
    rc = is_decode ? run_decode(buf, n, &d) : run_fields(buf, n);
    free(buf);
    return rc;
}
