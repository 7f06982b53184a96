/*
 * cmd_replay.c: `vigil replay`: send real PhysioNet ICU stays to an HL7
 * listener over MLLP as a live ward's interface engine would: one ADT^A01
 * per patient (admitted to a bed on --ward), then one ORU^R01 per charting
 * time with the vitals measured then (vigil/replay.h builds the messages).
 * The demo's heartbeat (--speed: ICU time accelerated) and the load
 * generator (--rate: a fixed offered message rate, or "max").
 *
 * What it does: reads --patients stays (vigil/data.h), puts every message on
 * a schedule, sends it when due over one MLLP connection with up to
 * --window messages awaiting their ACK, reads each ACK (vigil_hl7_parse),
 * counts AA/AE/AR, measures ACK latency, and prints a summary. A lost
 * connection (or an ACK later than --ack-timeout) is reconnected for up to
 * --reconnect seconds and every unacknowledged message is sent again with
 * the same control id (the receiver finds resends by it), so a receiver that
 * crashes and restarts loses nothing the sender was told AA about.
 * --ack-log writes one line per message acknowledged AA:
 *     <control id> TAB <ADT|ORU> TAB <NHS number> TAB <event or observation time, Unix ms>
 *
 * MLLP over TLS (--tls-ca, with --tls-cert/--tls-key for mutual TLS, as
 * `vigil serve --mllp-tls-*` takes it; vigil_server_tls_*, TLS 1.2 and 1.3):
 * the server certificate must chain to --tls-ca and name the host (an IP
 * literal against its IP subjectAltName); the handshake is blocking, the
 * records then go through the same non-blocking loop. A handshake that fails
 * (bad certificate either side) ends the run: retrying would not mend it.
 *
 * What it does not do: send to a non-loopback address without
 * --allow-remote (the patients are synthetic: they must never reach a real
 * ward list); send discharges or transfers; invent values (see replay.h).
 *
 * Times: the replayed ward is admitted at ICU hour 0 = T0 and a set at ICU
 * hour h is stamped T0 + h hours. T0 is chosen so that no time is in the
 * future when sent: with --speed X the last set sent is stamped with the
 * moment it is due (T0 = start + H/X - H for H ICU hours replayed, X >= 1);
 * with --rate every time is in the past (T0 = start - H).
 *
 * Exit status: 0 every message sent was acknowledged AA; 1 some AE or AR;
 * 2 usage; 3 the data could not be read, or the listener was not reached
 * (or lost for longer than --reconnect, or never acknowledged).
 * Messages not yet due when --duration ends or on SIGINT/SIGTERM are not
 * sent (the summary counts them); those already sent are waited for.
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "vigil/data.h"
#include "vigil/hl7.h"
#include "vigil/mllp.h"
#include "vigil/replay.h"
#include "vigil/server.h"
#include "vigil/util.h"

#define WINDOW_MAX 512 /* the server reads at most 512 messages ahead per connection */
#define FRAME_MAX (VIGIL_REPLAY_MSG_MAX + 3)
#define ACK_BUF_MAX 65536 /* an ACK is at most VIGIL_HL7_ACK_MAX; leave room for several */
#define REASONS_SHOWN 5   /* AE/AR reasons printed on stderr */
#define TIMEOUTS_MAX 5    /* ACK timeouts in a row before giving up */
#define LOST_MAX 10       /* connections lost in a row, no ACK between, before giving up */

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vigil replay --mllp HOST:PORT [options]\n"
            "       vigil replay --out FILE [options]\n"
            "\n"
            "Send real PhysioNet ICU stays as HL7 v2.5.1 over MLLP: an ADT^A01 admitting each\n"
            "patient to a bed on the ward, then an ORU^R01 per charting time with the vitals\n"
            "measured then (RR, SpO2, FiO2, SBP, HR, temperature; LOINC-coded). Patients are\n"
            "synthetic: NHS numbers from the 999 test range, name SYNTHETIC^REPLAY.\n"
            "\n"
            "options:\n"
            "  --mllp HOST:PORT   the HL7 listener (loopback only unless --allow-remote)\n"
            "  --out FILE         write the MLLP stream to FILE ('-': stdout) instead of sending\n"
            "  --data PATH        a data folder or archive, 2019 or 2012 format (default:\n"
            "                     physionet2019/training_setA.tar.gz in the data directory)\n"
            "  --patients N       stays to replay, one bed each (default 16)\n"
            "  --skip N           pass over the first N stays of the data first (another\n"
            "                     replay's patients: several wards or sites from one set)\n"
            "  --ward NAME        ward to admit them to (default REPLAY)\n"
            "  --hours H          only the first H ICU hours of each stay\n"
            "  --speed X          ICU time runs X times faster than real time, X >= 1\n"
            "                     (default 3600: one ICU hour a second)\n"
            "  --rate N|max       send N messages a second instead (or as fast as ACKs allow)\n"
            "  --duration S       stop sending new messages after S seconds\n"
            "  --window N         messages awaiting their ACK at once, 1-%d (default 1)\n"
            "  --only adt|oru     send only the admissions, or only the observations (the\n"
            "                     patients were admitted by an earlier run)\n"
            "  --ack-log FILE     write control id, type, NHS number and time of every AA\n"
            "  --nak-log FILE     write control id and code of every AE or AR (not resent)\n"
            "  --ack-timeout S    reconnect when an ACK takes longer (default 10)\n"
            "  --reconnect S      keep trying a lost listener this long (default 30)\n"
            "  --processing-id P|T|D  MSH-11 (default P: vigil serve takes only P by default)\n"
            "  --id-prefix TEXT   control id prefix (default RP<unix time>.)\n"
            "  --json             print the summary as JSON on stdout\n"
            "  --allow-remote     allow a HOST that is not a loopback address\n"
            "  --tls-ca FILE      MLLP over TLS: trust the listener's certificate if it\n"
            "                     chains to these PEM CA certificates\n"
            "  --tls-cert FILE    with --tls-key: present this client certificate (PEM)\n"
            "  --tls-key FILE     its private key (PEM), for a listener that asks for one\n"
            "  -h, --help         show this help\n",
            WINDOW_MAX);
}

/* ---- the replayed ward ------------------------------------------------------ */

typedef struct rpatient {
    vigil_replay_patient p;
    vigil_stay stay; /* id, age and sex only: the birth date needs the admission time */
    vigil_replay_set *sets;
    size_t n_sets;
} rpatient;

typedef struct rmsg {
    uint32_t patient;
    int32_t set; /* -1: the ADT^A01 */
    double t_h;  /* ICU hour of the set (0 for the admission) */
    double due_s;
} rmsg;

typedef struct opts {
    const char *mllp, *out, *data, *ward, *ack_log, *nak_log, *id_prefix;
    const char *tls_ca, *tls_cert, *tls_key; /* MLLP over TLS; NULL: plain */
    int only;                                /* 0 all, 'a' admissions only, 'o' observations only */
    size_t patients;
    size_t skip; /* stays passed over before the first replayed */
    double hours, speed, rate, duration, ack_timeout, reconnect;
    bool rate_mode, rate_max, json, allow_remote;
    unsigned window;
    char processing;
} opts;

typedef struct ward {
    rpatient *pat;
    size_t n_pat;
    rmsg *msg;
    size_t n_msg, n_adt;
    int64_t t0_ms;
    double span_h;
    vigil_replay_counts counts;
    char source[VIGIL_DATA_NAME_MAX];
} ward;

static void ward_free(ward *w)
{
    for (size_t i = 0; i < w->n_pat; i++) {
        free(w->pat[i].sets);
    }
    free(w->pat);
    free(w->msg);
}

static int64_t now_real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double now_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_msg(const void *a, const void *b)
{
    const rmsg *x = a, *y = b;
    if (x->t_h != y->t_h) {
        return (x->t_h > y->t_h) - (x->t_h < y->t_h);
    }
    return (x->patient > y->patient) - (x->patient < y->patient);
}

/* Read the stays, group their sets and put every message on the schedule. */
static int ward_load(const opts *o, ward *w)
{
    memset(w, 0, sizeof *w);
    char path[4200];
    if (o->data != NULL) {
        snprintf(path, sizeof path, "%s", o->data);
    } else {
        char dir[4096];
        if (vigil_cli_data_dir(dir, sizeof dir) != 0) {
            fprintf(stderr, "vigil replay: no data directory: set VIGIL_DATA_DIR or give --data\n");
            return VIGIL_EXIT_IO;
        }
        snprintf(path, sizeof path, "%s/physionet2019/training_setA.tar.gz", dir);
    }
    /* the name shown in the summary: the last path component */
    const char *base = strrchr(path, '/');
    base = base != NULL && base[1] != '\0' ? base + 1 : path;
    size_t bn = strlen(base) < sizeof w->source - 1 ? strlen(base) : sizeof w->source - 1;
    memcpy(w->source, base, bn);
    w->source[bn] = '\0';
    vigil_data_opts dopt;
    vigil_data_opts_init(&dopt);
    vigil_data *d = NULL;
    vigil_err err = {0};
    if (vigil_data_open(path, &dopt, &d, &err) != VIGIL_OK) {
        fprintf(stderr, "vigil replay: %s: %s\n", path, err.msg);
        return VIGIL_EXIT_IO;
    }
    w->pat = calloc(o->patients, sizeof *w->pat);
    if (w->pat == NULL) {
        vigil_data_close(d);
        return VIGIL_EXIT_IO;
    }
    unsigned char *seen = calloc(900000, 1); /* stay numbers: one bed per stay */
    int rc = seen == NULL ? VIGIL_EXIT_IO : VIGIL_EXIT_OK;
    size_t skipped = 0, passed = 0;
    while (rc == VIGIL_EXIT_OK && w->n_pat < o->patients) {
        const vigil_stay *st = NULL;
        const vigil_meas *m = NULL;
        size_t nm = 0;
        if (vigil_data_next(d, &st, &m, &nm, &err) != VIGIL_OK) {
            fprintf(stderr, "vigil replay: %s\n", err.msg);
            rc = VIGIL_EXIT_IO;
            break;
        }
        if (st == NULL) {
            break;
        }
        unsigned long num = 0;
        if (vigil_replay_stay_number(st->id, &num) != VIGIL_OK || seen[num]) {
            skipped++;
            continue;
        }
        if (passed < o->skip) { /* --skip: another replay's stay */
            seen[num] = 1;
            passed++;
            continue;
        }
        rpatient *rp = &w->pat[w->n_pat];
        rp->sets = calloc(nm + 1, sizeof *rp->sets);
        if (rp->sets == NULL) {
            rc = VIGIL_EXIT_IO;
            break;
        }
        size_t ns = 0;
        vigil_replay_sets(m, nm, rp->sets, nm + 1, &ns, NULL);
        size_t keep = 0;
        for (size_t i = 0; i < ns; i++) {
            if (rp->sets[i].t_h >= 0.0 && (o->hours <= 0.0 || rp->sets[i].t_h <= o->hours)) {
                rp->sets[keep++] = rp->sets[i];
            }
        }
        if (keep == 0) {
            free(rp->sets);
            rp->sets = NULL;
            skipped++;
            continue;
        }
        rp->n_sets = keep;
        vigil_replay_set *shrunk = realloc(rp->sets, keep * sizeof *rp->sets);
        if (shrunk != NULL) { /* sized for the measurements; keep only the sets */
            rp->sets = shrunk;
        }
        memset(&rp->stay, 0, sizeof rp->stay);
        memcpy(rp->stay.id, st->id, sizeof rp->stay.id);
        rp->stay.age_y = st->age_y;
        rp->stay.sex = st->sex;
        /* checked now; made again below with the admission time once the span is known */
        if (vigil_replay_patient_init(&rp->stay, o->ward, (unsigned)w->n_pat + 1, 0, &rp->p,
                                      &err) != VIGIL_OK) {
            fprintf(stderr, "vigil replay: %s\n", err.msg);
            rc = VIGIL_EXIT_USAGE;
            break;
        }
        seen[num] = 1;
        w->n_pat++;
    }
    free(seen);
    vigil_data_close(d);
    if (rc != VIGIL_EXIT_OK) {
        return rc;
    }
    if (w->n_pat == 0) {
        fprintf(stderr, "vigil replay: %s: no stay with a vital sign to replay\n", path);
        return VIGIL_EXIT_IO;
    }
    if (skipped > 0) {
        fprintf(stderr,
                "vigil replay: %zu stay(s) skipped (no vital sign%s, or no usable "
                "stay number)\n",
                skipped, o->hours > 0.0 ? " in the hours asked for" : "");
    }
    /* the span of ICU time replayed */
    double span = 0.0;
    for (size_t i = 0; i < w->n_pat; i++) {
        span = fmax(span, w->pat[i].sets[w->pat[i].n_sets - 1].t_h);
    }
    if (!o->rate_mode && o->duration > 0.0) {
        span = fmin(span, o->duration * o->speed / 3600.0);
    }
    w->span_h = span;
    int64_t start = now_real_ms();
    double lead_s = o->rate_mode ? 0.0 : span * 3600.0 / o->speed;
    w->t0_ms = (start + (int64_t)floor(lead_s * 1000.0) - (int64_t)ceil(span * 3600.0) * 1000) /
               1000 * 1000;
    /* the messages: admissions first, then every set in ICU-time order */
    size_t total = w->n_pat;
    for (size_t i = 0; i < w->n_pat; i++) {
        total += w->pat[i].n_sets;
    }
    w->msg = calloc(total, sizeof *w->msg);
    if (w->msg == NULL) {
        return VIGIL_EXIT_IO;
    }
    for (size_t i = 0; i < w->n_pat; i++) {
        rpatient *rp = &w->pat[i];
        if (vigil_replay_patient_init(&rp->stay, o->ward, (unsigned)i + 1, w->t0_ms, &rp->p,
                                      &err) != VIGIL_OK) {
            fprintf(stderr, "vigil replay: %s\n", err.msg);
            return VIGIL_EXIT_USAGE;
        }
        if (o->only != 'o') {
            w->msg[w->n_msg++] = (rmsg){(uint32_t)i, -1, 0.0, 0.0};
        }
    }
    w->n_adt = w->n_msg;
    for (size_t i = 0; i < w->n_pat && o->only != 'a'; i++) {
        for (size_t k = 0; k < w->pat[i].n_sets; k++) {
            double t = w->pat[i].sets[k].t_h;
            if (!o->rate_mode && t > span) {
                continue; /* beyond --duration */
            }
            w->msg[w->n_msg++] = (rmsg){(uint32_t)i, (int32_t)k, t, 0.0};
        }
    }
    qsort(w->msg + w->n_adt, w->n_msg - w->n_adt, sizeof *w->msg, cmp_msg);
    for (size_t j = 0; j < w->n_msg; j++) {
        rmsg *m = &w->msg[j];
        if (o->rate_mode) {
            m->due_s = o->rate_max ? 0.0 : (double)j / o->rate;
        } else {
            m->due_s = m->set < 0 ? 0.0 : m->t_h * 3600.0 / o->speed;
        }
        if (m->set >= 0) {
            w->counts.n_sets++;
            const vigil_replay_set *s = &w->pat[m->patient].sets[m->set];
            for (int k = 0; k < VIGIL_REPLAY_VITAL_COUNT; k++) {
                w->counts.n_values[k] += !isnan(s->v[k]);
            }
        }
    }
    return VIGIL_EXIT_OK;
}

/* ---- the connection ---------------------------------------------------------- */

typedef struct slot {
    size_t msg; /* index into ward.msg */
    char *buf;  /* the framed message (FRAME_MAX bytes, allocated once) */
    size_t len;
    double first_s;   /* when first sent completely (monotonic), 0 = not yet */
    double sched_s;   /* when it was due (monotonic) */
    double resent_at; /* last send on the current connection */
    bool done;
} slot;

typedef struct stats {
    uint64_t sent, resent, aa, ae, ar, unmatched, reconnects, timeouts, shown;
    size_t n_lat;
    float *lat_ms;       /* from the first send to the ACK */
    float *lat_sched_ms; /* from when it was due to the ACK */
} stats;

typedef struct rlink {
    const opts *o;
    ward *w;
    char host[256], port[16];
    int fd;
    vigil_tls_client *cred; /* --tls-ca given: every connection is TLS */
    vigil_tls_conn *tls;    /* the current connection's, NULL when plain */
    vigil_mllp_decoder *dec;
    slot *q; /* FIFO ring of o->window slots */
    size_t q_head, q_len, q_sent, q_off;
    size_t next; /* next message to queue */
    unsigned timeouts_in_row;
    unsigned lost_in_row; /* connections closed with messages unacknowledged, no ACK since */
    double t_start;
    char prefix[48];
    FILE *ack_log;
    FILE *nak_log; /* --nak-log: every AE and AR */
    stats st;
    vigil_hl7_msg *ackmsg; /* parse space for one ACK (about 8 KiB) */
} rlink;

static slot *q_at(rlink *L, size_t i)
{
    return &L->q[(L->q_head + i) % L->o->window];
}

static void ctrl_of(const rlink *L, size_t msg, char out[VIGIL_ID_MAX])
{
    snprintf(out, VIGIL_ID_MAX, "%s%06zu", L->prefix, msg + 1);
}

static int64_t msg_time_ms(const ward *w, const rmsg *m)
{
    return w->t0_ms + (int64_t)llround(m->t_h * 3600.0) * 1000;
}

/* Build message m into s (framed). */
static bool build(rlink *L, size_t mi, slot *s)
{
    const rmsg *m = &L->w->msg[mi];
    const rpatient *rp = &L->w->pat[m->patient];
    char ctrl[VIGIL_ID_MAX], text[VIGIL_REPLAY_MSG_MAX];
    ctrl_of(L, mi, ctrl);
    vigil_replay_msg_opts mo = {ctrl, now_real_ms(), L->o->processing};
    size_t n = 0;
    vigil_err err = {0};
    vigil_status st = m->set < 0
                          ? vigil_replay_adt_a01(&rp->p, &mo, text, sizeof text, &n, &err)
                          : vigil_replay_oru_r01(&rp->p, &rp->sets[m->set], msg_time_ms(L->w, m),
                                                 &mo, text, sizeof text, &n, &err);
    if (st != VIGIL_OK || vigil_mllp_encode(text, n, s->buf, FRAME_MAX, &s->len) != VIGIL_OK) {
        fprintf(stderr, "vigil replay: message %s not built: %s\n", ctrl, err.msg);
        return false;
    }
    s->msg = mi;
    s->first_s = 0.0;
    s->done = false;
    return true;
}

static bool is_loopback(const struct addrinfo *a)
{
    if (a->ai_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)(const void *)a->ai_addr;
        return (ntohl(s->sin_addr.s_addr) >> 24) == 127;
    }
    if (a->ai_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)(const void *)a->ai_addr;
        return IN6_IS_ADDR_LOOPBACK(&s->sin6_addr);
    }
    return false;
}

/* TLS on the connected L->fd; false with the reason printed. */
static bool tls_start(rlink *L)
{
    vigil_err err = {0};
    if (vigil_server_tls_connect(L->cred, L->fd, L->host, 10000, &L->tls, &err) != VIGIL_OK) {
        fprintf(stderr, "vigil replay: %s:%s: %s\n", L->host, L->port, err.msg);
        return false;
    }
    return true;
}

/* One connection attempt: 1 connected, 0 refused or unreachable (retry), -1 never. */
static int try_connect(rlink *L)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int g = getaddrinfo(L->host, L->port, &hints, &res);
    if (g != 0) {
        fprintf(stderr, "vigil replay: %s: %s\n", L->host, gai_strerror(g));
        return -1;
    }
    int rc = 0;
    for (struct addrinfo *a = res; a != NULL && rc == 0; a = a->ai_next) {
        if (!L->o->allow_remote && !is_loopback(a)) {
            fprintf(stderr,
                    "vigil replay: %s is not a loopback address: replayed patients are "
                    "synthetic and must not reach a real ward (use --allow-remote for a test "
                    "system)\n",
                    L->host);
            rc = -1;
            break;
        }
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            L->fd = fd;
            rc = 1;
            break;
        }
        close(fd);
    }
    freeaddrinfo(res);
    if (rc > 0 && L->cred != NULL && !tls_start(L)) {
        close(L->fd);
        L->fd = -1;
        rc = -1; /* a certificate that does not fit will not fit on the next try */
    }
    return rc;
}

/* Connect, retrying for --reconnect seconds. false when it never came. */
static bool connect_retry(rlink *L, bool first)
{
    double until = now_mono_s() + L->o->reconnect;
    double wait = 0.01;
    bool told = false;
    while (!g_stop) {
        int r = try_connect(L);
        if (r != 0) {
            if (r > 0 && !first) {
                L->st.reconnects++;
            }
            return r > 0;
        }
        if (now_mono_s() >= until) {
            break;
        }
        if (!told && first) {
            fprintf(stderr, "vigil replay: waiting for %s:%s\n", L->host, L->port);
            told = true;
        }
        struct timespec ts = {0, (long)(wait * 1e9)};
        nanosleep(&ts, NULL);
        wait = fmin(wait * 2.0, 0.25);
    }
    fprintf(stderr, "vigil replay: %s:%s: no listener after %.0f s\n", L->host, L->port,
            L->o->reconnect);
    return false;
}

static void drop(rlink *L, const char *why)
{
    vigil_server_tls_end(L->tls, false);
    L->tls = NULL;
    if (L->fd >= 0) {
        close(L->fd);
        L->fd = -1;
    }
    if (L->q_len > 0) {
        fprintf(stderr, "vigil replay: connection lost (%s): %zu message(s) to send again\n", why,
                L->q_len);
        L->lost_in_row++;
    }
    L->q_sent = 0;
    L->q_off = 0;
    vigil_mllp_decoder_reset(L->dec);
}

/* Copy view v (raw ACK text) into out, NUL-terminated. */
static void view_copy(vigil_hl7_view v, char *out, size_t cap)
{
    size_t n = v.n < cap - 1 ? v.n : cap - 1;
    memcpy(out, v.p, n);
    out[n] = '\0';
}

static void handle_ack(rlink *L, const char *text, size_t len)
{
    vigil_hl7_msg *am = L->ackmsg;
    size_t i = 0;
    if (vigil_hl7_parse(text, len, am, NULL) != VIGIL_OK ||
        (i = vigil_hl7_find(am, "MSA", 0)) >= am->n_seg) {
        L->st.unmatched++;
        return;
    }
    vigil_hl7_view code, ctrl;
    vigil_hl7_get(am, i, 1, 1, 0, 0, &code);
    vigil_hl7_get(am, i, 2, 1, 0, 0, &ctrl);
    char c[4], id[VIGIL_ID_MAX];
    view_copy(code, c, sizeof c);
    view_copy(ctrl, id, sizeof id);
    /* the oldest message with this control id (ACKs come in order) */
    size_t k = 0;
    slot *s = NULL;
    for (; k < L->q_sent; k++) {
        slot *t = q_at(L, k);
        char want[VIGIL_ID_MAX];
        ctrl_of(L, t->msg, want);
        if (!t->done && strcmp(want, id) == 0) {
            s = t;
            break;
        }
    }
    if (s == NULL) {
        L->st.unmatched++;
        return;
    }
    double now = now_mono_s();
    s->done = true;
    L->timeouts_in_row = 0;
    L->lost_in_row = 0;
    L->st.lat_ms[L->st.n_lat] = (float)((now - s->first_s) * 1000.0);
    L->st.lat_sched_ms[L->st.n_lat] = (float)((now - s->sched_s) * 1000.0);
    L->st.n_lat++;
    const rmsg *m = &L->w->msg[s->msg];
    if (strcmp(c, "AA") == 0) {
        L->st.aa++;
        if (L->ack_log != NULL) {
            fprintf(L->ack_log, "%s\t%s\t%s\t%lld\n", id, m->set < 0 ? "ADT" : "ORU",
                    L->w->pat[m->patient].p.nhs_number, (long long)msg_time_ms(L->w, m));
        }
    } else {
        if (strcmp(c, "AE") == 0) {
            L->st.ae++;
        } else {
            L->st.ar++;
        }
        if (L->nak_log != NULL) {
            fprintf(L->nak_log, "%s\t%s\t%s\n", id, m->set < 0 ? "ADT" : "ORU", c);
        }
        if (L->st.shown++ < REASONS_SHOWN) {
            size_t e = vigil_hl7_find(am, "ERR", 0);
            char why[VIGIL_ERR_MSG_MAX] = "";
            if (e < am->n_seg) {
                vigil_hl7_view v;
                vigil_hl7_get(am, e, 8, 1, 0, 0, &v);
                view_copy(v, why, sizeof why);
            }
            fprintf(stderr, "vigil replay: %s %s: %s\n", c, id, why);
        }
    }
    /* retire acknowledged messages from the head */
    while (L->q_len > 0 && q_at(L, 0)->done) {
        L->q_head = (L->q_head + 1) % L->o->window;
        L->q_len--;
        L->q_sent--;
    }
}

/* Read what the listener sent; false when the connection ended. */
static bool read_acks(rlink *L)
{
    char buf[ACK_BUF_MAX];
    for (int rounds = 0; rounds < 64; rounds++) {
        ssize_t n = L->tls != NULL ? vigil_server_tls_recv(L->tls, buf, sizeof buf)
                                   : recv(L->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0) {
            drop(L, "closed by the listener");
            return false;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                return true;
            }
            drop(L, strerror(errno));
            return false;
        }
        const char *p = buf;
        size_t left = (size_t)n;
        while (left > 0) {
            size_t used = 0;
            vigil_mllp_frame f;
            vigil_mllp_decode(L->dec, p, left, &used, &f);
            p += used;
            left -= used;
            if (f.kind == VIGIL_MLLP_MESSAGE) {
                handle_ack(L, f.msg, f.len);
            } else if (f.kind == VIGIL_MLLP_ERROR) {
                L->st.unmatched++;
            }
        }
    }
    return true;
}

/* Write queued messages; false when the connection failed. */
static bool write_some(rlink *L)
{
    while (L->q_sent < L->q_len) {
        slot *s = q_at(L, L->q_sent);
        if (s->done) { /* acknowledged on an earlier connection, out of order */
            L->q_sent++;
            continue;
        }
        ssize_t n =
            L->tls != NULL
                ? vigil_server_tls_send(L->tls, s->buf + L->q_off, s->len - L->q_off)
                : send(L->fd, s->buf + L->q_off, s->len - L->q_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                return true;
            }
            drop(L, strerror(errno));
            return false;
        }
        L->q_off += (size_t)n;
        if (L->q_off == s->len) {
            double now = now_mono_s();
            if (s->first_s == 0.0) {
                s->first_s = now;
                L->st.sent++;
            } else {
                L->st.resent++;
            }
            s->resent_at = now;
            L->q_sent++;
            L->q_off = 0;
        }
    }
    return true;
}

/* The send loop. Returns VIGIL_EXIT_IO when the listener was lost for good. */
static int run(rlink *L)
{
    const opts *o = L->o;
    ward *w = L->w;
    if (!connect_retry(L, true)) {
        return VIGIL_EXIT_IO;
    }
    L->t_start = now_mono_s();
    double stop_at = o->duration > 0.0 ? L->t_start + o->duration : INFINITY;
    size_t last_progress = 0;
    for (;;) {
        double now = now_mono_s();
        bool sending = !g_stop && L->next < w->n_msg && now < stop_at;
        if (!sending && L->q_len == 0) {
            break;
        }
        if (g_stop && L->fd < 0) {
            break;
        }
        if (L->fd < 0 && L->lost_in_row >= LOST_MAX) {
            /* a listener that accepts and closes without a word (a TLS port
             * spoken to in plain MLLP, a proxy with nothing behind it) */
            fprintf(stderr,
                    "vigil replay: the connection was closed %d times in a row with no ACK: "
                    "giving up\n",
                    LOST_MAX);
            return VIGIL_EXIT_IO;
        }
        if (L->fd < 0 && !connect_retry(L, false)) {
            return VIGIL_EXIT_IO;
        }
        /* queue what is due */
        while (sending && L->q_len < o->window && L->next < w->n_msg &&
               L->t_start + w->msg[L->next].due_s <= now) {
            slot *s = q_at(L, L->q_len);
            if (!build(L, L->next, s)) {
                return VIGIL_EXIT_IO;
            }
            s->sched_s = L->t_start + w->msg[L->next].due_s;
            L->q_len++;
            L->next++;
        }
        if (!write_some(L)) {
            continue;
        }
        /* an ACK overdue: the listener is stuck; reconnect and send again */
        if (L->q_len > 0 && L->q_sent > 0) {
            slot *h = q_at(L, 0);
            if (!h->done && now - h->resent_at > o->ack_timeout) {
                L->st.timeouts++;
                drop(L, "ACK timeout");
                if (++L->timeouts_in_row >= TIMEOUTS_MAX) {
                    fprintf(stderr, "vigil replay: no ACK after %d tries: giving up\n",
                            TIMEOUTS_MAX);
                    return VIGIL_EXIT_IO;
                }
                continue;
            }
        }
        /* wait for an ACK, room to write, or the next message to fall due */
        double wake = now + 0.25;
        if (sending && L->q_len < o->window && L->next < w->n_msg) {
            wake = fmin(wake, L->t_start + w->msg[L->next].due_s);
        }
        if (L->q_len > 0 && L->q_sent > 0) {
            wake = fmin(wake, q_at(L, 0)->resent_at + o->ack_timeout);
        }
        if (sending) {
            wake = fmin(wake, stop_at);
        }
        double dt = fmax(0.0, wake - now);
        struct timespec ts = {(time_t)dt, (long)((dt - floor(dt)) * 1e9)};
        struct pollfd pfd = {L->fd, (short)(POLLIN | (L->q_sent < L->q_len ? POLLOUT : 0)), 0};
        int pr = ppoll(&pfd, 1, &ts, NULL);
        if (pr > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            read_acks(L);
        }
        if (L->nak_log != NULL) {
            fflush(L->nak_log);
        }
        if (L->ack_log != NULL) {
            fflush(L->ack_log);
        }
        if (L->st.n_lat >= last_progress + 100 || L->next == w->n_msg) {
            last_progress = L->st.n_lat;
            vigil_cli_bar("replay", L->st.n_lat, w->n_msg);
        }
    }
    vigil_cli_progress_done();
    return VIGIL_EXIT_OK;
}

/* ---- summary ------------------------------------------------------------------- */

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[0..n). */
static double pct(const float *v, size_t n, double p)
{
    if (n == 0) {
        return NAN;
    }
    size_t k = (size_t)ceil(p * (double)n);
    return v[k == 0 ? 0 : k - 1];
}

typedef struct lat4 {
    double p50, p95, p99, max;
} lat4;

static lat4 lat_of(float *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_float);
    lat4 r = {pct(v, n, 0.50), pct(v, n, 0.95), pct(v, n, 0.99), n > 0 ? v[n - 1] : NAN};
    return r;
}

static void json_num(FILE *f, const char *k, double v, bool comma)
{
    if (isfinite(v)) {
        fprintf(f, "\"%s\": %.4f%s", k, v, comma ? ", " : "");
    } else {
        fprintf(f, "\"%s\": null%s", k, comma ? ", " : "");
    }
}

static void json_lat(FILE *f, const char *k, lat4 l)
{
    fprintf(f, "\"%s\": {", k);
    json_num(f, "p50", l.p50, true);
    json_num(f, "p95", l.p95, true);
    json_num(f, "p99", l.p99, true);
    json_num(f, "max", l.max, false);
    fprintf(f, "}");
}

static void summary(const rlink *L, double elapsed, bool json)
{
    const ward *w = L->w;
    const stats *s = &L->st;
    float *a = malloc((s->n_lat + 1) * sizeof *a), *b = malloc((s->n_lat + 1) * sizeof *b);
    lat4 la = {NAN, NAN, NAN, NAN}, lb = la;
    if (a != NULL && b != NULL) {
        memcpy(a, s->lat_ms, s->n_lat * sizeof *a);
        memcpy(b, s->lat_sched_ms, s->n_lat * sizeof *b);
        la = lat_of(a, s->n_lat);
        lb = lat_of(b, s->n_lat);
    }
    free(a);
    free(b);
    uint64_t acked = s->aa + s->ae + s->ar;
    double rate = elapsed > 0.0 ? (double)acked / elapsed : 0.0;
    size_t not_sent = w->n_msg - L->next;
    fprintf(stderr,
            "vigil replay: %zu patient(s) from %s on ward %s, %.1f ICU hours\n"
            "  messages: %llu acknowledged of %zu scheduled (%zu ADT^A01, %zu ORU^R01) in "
            "%.2f s: %.1f msgs/s\n"
            "  ACKs: %llu AA, %llu AE, %llu AR; %llu reconnect(s), %llu resent, %llu ACK "
            "timeout(s), %llu unmatched\n",
            w->n_pat, w->source, L->o->ward, w->span_h, (unsigned long long)acked, w->n_msg,
            w->n_adt, w->n_msg - w->n_adt, elapsed, rate, (unsigned long long)s->aa,
            (unsigned long long)s->ae, (unsigned long long)s->ar, (unsigned long long)s->reconnects,
            (unsigned long long)s->resent, (unsigned long long)s->timeouts,
            (unsigned long long)s->unmatched);
    fprintf(stderr, "  ACK latency ms from send: p50 %.3f p95 %.3f p99 %.3f max %.3f\n", la.p50,
            la.p95, la.p99, la.max);
    if (!L->o->rate_max) { /* with --rate max every message is due at once */
        fprintf(stderr, "  ACK latency ms from when due: p50 %.3f p95 %.3f p99 %.3f max %.3f\n",
                lb.p50, lb.p95, lb.p99, lb.max);
    }
    fprintf(stderr, "  vitals in the sets scheduled:");
    for (int k = 0; k < VIGIL_REPLAY_VITAL_COUNT; k++) {
        fprintf(stderr, " %s %zu", vigil_replay_vital_name((vigil_replay_vital)k),
                w->counts.n_values[k]);
    }
    fprintf(stderr, "\n");
    if (not_sent > 0) {
        fprintf(stderr, "  %zu message(s) not sent (--duration or interrupted)\n", not_sent);
    }
    fprintf(stderr, "  patients are synthetic: NHS numbers from the 999 test range\n");
    if (json) {
        FILE *f = stdout;
        fprintf(f,
                "{\"patients\": %zu, \"scheduled\": %zu, \"adt\": %zu, \"oru\": %zu, "
                "\"sent\": %llu, \"acked\": %llu, \"aa\": %llu, \"ae\": %llu, \"ar\": %llu, "
                "\"resent\": %llu, \"reconnects\": %llu, \"timeouts\": %llu, "
                "\"unmatched\": %llu, \"not_sent\": %zu, ",
                w->n_pat, w->n_msg, w->n_adt, w->n_msg - w->n_adt, (unsigned long long)s->sent,
                (unsigned long long)acked, (unsigned long long)s->aa, (unsigned long long)s->ae,
                (unsigned long long)s->ar, (unsigned long long)s->resent,
                (unsigned long long)s->reconnects, (unsigned long long)s->timeouts,
                (unsigned long long)s->unmatched, not_sent);
        json_num(f, "elapsed_s", elapsed, true);
        json_num(f, "msgs_per_s", rate, true);
        json_num(f, "icu_hours", w->span_h, true);
        fprintf(f, "\"t0_ms\": %lld, ", (long long)w->t0_ms);
        json_lat(f, "ack_ms", la);
        fprintf(f, ", ");
        json_lat(f, "ack_from_schedule_ms", lb);
        fprintf(f, "}\n");
        fflush(f);
    }
}

/* ---- options ------------------------------------------------------------------- */

static bool num_arg(const char *name, const char *s, double lo, double hi, double *out)
{
    double v = 0.0;
    if (vigil_parse_double(s, &v) != VIGIL_OK || !(v >= lo && v <= hi)) {
        fprintf(stderr, "vigil replay: %s: '%s' is not a number from %g to %g\n", name, s, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

static int parse_opts(int argc, char **argv, opts *o)
{
    static const struct option lo[] = {
        {"mllp", required_argument, NULL, 'm'},
        {"out", required_argument, NULL, 'o'},
        {"data", required_argument, NULL, 'd'},
        {"patients", required_argument, NULL, 'n'},
        {"skip", required_argument, NULL, 'K'},
        {"ward", required_argument, NULL, 'w'},
        {"hours", required_argument, NULL, 'H'},
        {"speed", required_argument, NULL, 's'},
        {"rate", required_argument, NULL, 'r'},
        {"duration", required_argument, NULL, 'D'},
        {"window", required_argument, NULL, 'W'},
        {"ack-log", required_argument, NULL, 'a'},
        {"nak-log", required_argument, NULL, 'N'},
        {"ack-timeout", required_argument, NULL, 'T'},
        {"reconnect", required_argument, NULL, 'R'},
        {"processing-id", required_argument, NULL, 'P'},
        {"id-prefix", required_argument, NULL, 'i'},
        {"json", no_argument, NULL, 'j'},
        {"allow-remote", no_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {"only", required_argument, NULL, 'O'},
        {"tls-ca", required_argument, NULL, 'C'},
        {"tls-cert", required_argument, NULL, 'c'},
        {"tls-key", required_argument, NULL, 'k'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->ward = "REPLAY";
    o->patients = 16;
    o->speed = 3600.0;
    o->window = 1;
    o->ack_timeout = 10.0;
    o->reconnect = 30.0;
    o->processing = 'P';
    bool have_speed = false;
    double v = 0.0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'm':
            o->mllp = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'd':
            o->data = optarg;
            break;
        case 'n':
            if (!num_arg("--patients", optarg, 1, 900000, &v) || v != floor(v)) {
                return VIGIL_EXIT_USAGE;
            }
            o->patients = (size_t)v;
            break;
        case 'K':
            if (!num_arg("--skip", optarg, 0, 900000, &v) || v != floor(v)) {
                return VIGIL_EXIT_USAGE;
            }
            o->skip = (size_t)v;
            break;
        case 'w':
            o->ward = optarg;
            break;
        case 'H':
            if (!num_arg("--hours", optarg, 0.001, 1e6, &o->hours)) {
                return VIGIL_EXIT_USAGE;
            }
            break;
        case 's':
            if (!num_arg("--speed", optarg, 1.0, 1e9, &o->speed)) {
                return VIGIL_EXIT_USAGE;
            }
            have_speed = true;
            break;
        case 'r':
            o->rate_mode = true;
            if (strcmp(optarg, "max") == 0) {
                o->rate_max = true;
            } else if (!num_arg("--rate", optarg, 0.001, 1e7, &o->rate)) {
                return VIGIL_EXIT_USAGE;
            }
            break;
        case 'D':
            if (!num_arg("--duration", optarg, 0.001, 1e7, &o->duration)) {
                return VIGIL_EXIT_USAGE;
            }
            break;
        case 'W':
            if (!num_arg("--window", optarg, 1, WINDOW_MAX, &v) || v != floor(v)) {
                return VIGIL_EXIT_USAGE;
            }
            o->window = (unsigned)v;
            break;
        case 'a':
            o->ack_log = optarg;
            break;
        case 'N':
            o->nak_log = optarg;
            break;
        case 'T':
            if (!num_arg("--ack-timeout", optarg, 0.01, 3600, &o->ack_timeout)) {
                return VIGIL_EXIT_USAGE;
            }
            break;
        case 'R':
            if (!num_arg("--reconnect", optarg, 0, 86400, &o->reconnect)) {
                return VIGIL_EXIT_USAGE;
            }
            break;
        case 'P':
            if (strlen(optarg) != 1 || strchr("PTD", optarg[0]) == NULL) {
                fprintf(stderr, "vigil replay: --processing-id: P, T or D\n");
                return VIGIL_EXIT_USAGE;
            }
            o->processing = optarg[0];
            break;
        case 'i':
            o->id_prefix = optarg;
            break;
        case 'j':
            o->json = true;
            break;
        case 'A':
            o->allow_remote = true;
            break;
        case 'O':
            if (strcmp(optarg, "adt") == 0 || strcmp(optarg, "oru") == 0) {
                o->only = optarg[0];
            } else {
                fprintf(stderr, "vigil replay: --only: adt or oru\n");
                return VIGIL_EXIT_USAGE;
            }
            break;
        case 'C':
            o->tls_ca = optarg;
            break;
        case 'c':
            o->tls_cert = optarg;
            break;
        case 'k':
            o->tls_key = optarg;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            usage(stderr);
            return VIGIL_EXIT_USAGE;
        }
    }
    if (optind != argc || (o->mllp == NULL) == (o->out == NULL)) {
        fprintf(stderr, "vigil replay: give exactly one of --mllp HOST:PORT and --out FILE\n");
        usage(stderr);
        return VIGIL_EXIT_USAGE;
    }
    if (have_speed && o->rate_mode) {
        fprintf(stderr, "vigil replay: --speed and --rate: choose one\n");
        return VIGIL_EXIT_USAGE;
    }
    if ((o->tls_cert == NULL) != (o->tls_key == NULL) ||
        (o->tls_cert != NULL && o->tls_ca == NULL) || (o->tls_ca != NULL && o->mllp == NULL)) {
        fprintf(stderr, "vigil replay: --tls-cert and --tls-key go together, and need --tls-ca "
                        "and --mllp\n");
        return VIGIL_EXIT_USAGE;
    }
    if (o->id_prefix != NULL && strlen(o->id_prefix) > 40) {
        fprintf(stderr, "vigil replay: --id-prefix: at most 40 characters\n");
        return VIGIL_EXIT_USAGE;
    }
    return VIGIL_EXIT_OK;
}

static bool split_host_port(const char *s, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s || colon[1] == '\0') {
        return false;
    }
    const char *h = s;
    size_t hn = (size_t)(colon - s);
    if (h[0] == '[' && hn >= 2 && h[hn - 1] == ']') { /* [::1]:2575 */
        h++;
        hn -= 2;
    }
    long p = 0;
    if (hn == 0 || hn >= hcap || vigil_parse_long(colon + 1, 1, 65535, &p) != VIGIL_OK) {
        return false;
    }
    memcpy(host, h, hn);
    host[hn] = '\0';
    snprintf(port, pcap, "%ld", p);
    return true;
}

/* --out: the stream to a file, nothing awaited. */
static int write_stream(rlink *L)
{
    FILE *f = strcmp(L->o->out, "-") == 0 ? stdout : fopen(L->o->out, "wb");
    if (f == NULL) {
        fprintf(stderr, "vigil replay: %s: %s\n", L->o->out, strerror(errno));
        return VIGIL_EXIT_IO;
    }
    slot s;
    char buf[FRAME_MAX];
    s.buf = buf;
    int rc = VIGIL_EXIT_OK;
    for (size_t i = 0; i < L->w->n_msg && rc == VIGIL_EXIT_OK; i++) {
        if (!build(L, i, &s) || fwrite(s.buf, 1, s.len, f) != s.len) {
            rc = VIGIL_EXIT_IO;
        }
    }
    if ((f == stdout ? fflush(f) : fclose(f)) != 0) {
        rc = VIGIL_EXIT_IO;
    }
    fprintf(stderr, "vigil replay: %zu message(s) for %zu patient(s) written to %s\n", L->w->n_msg,
            L->w->n_pat, L->o->out);
    return rc;
}

int vigil_cli_replay(int argc, char **argv)
{
    opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc != VIGIL_EXIT_OK) {
        return rc < 0 ? VIGIL_EXIT_OK : rc;
    }
    rlink L;
    memset(&L, 0, sizeof L);
    L.o = &o;
    L.fd = -1;
    if (o.mllp != NULL && !split_host_port(o.mllp, L.host, sizeof L.host, L.port, sizeof L.port)) {
        fprintf(stderr, "vigil replay: --mllp: '%s' is not HOST:PORT\n", o.mllp);
        return VIGIL_EXIT_USAGE;
    }
    if (o.id_prefix != NULL) {
        snprintf(L.prefix, sizeof L.prefix, "%s", o.id_prefix);
    } else {
        snprintf(L.prefix, sizeof L.prefix, "RP%lld.", (long long)(now_real_ms() / 1000));
    }
    ward w;
    rc = ward_load(&o, &w);
    if (rc != VIGIL_EXIT_OK) {
        ward_free(&w);
        return rc;
    }
    L.w = &w;
    if (o.out != NULL) {
        rc = write_stream(&L);
        ward_free(&w);
        return rc;
    }
    L.q = calloc(o.window, sizeof *L.q);
    L.ackmsg = malloc(sizeof *L.ackmsg);
    L.st.lat_ms = calloc(w.n_msg + 1, sizeof *L.st.lat_ms);
    L.st.lat_sched_ms = calloc(w.n_msg + 1, sizeof *L.st.lat_sched_ms);
    bool ok = L.q != NULL && L.ackmsg != NULL && L.st.lat_ms != NULL && L.st.lat_sched_ms != NULL &&
              vigil_mllp_decoder_new(VIGIL_HL7_ACK_MAX, &L.dec) == VIGIL_OK;
    for (unsigned i = 0; ok && i < o.window; i++) {
        L.q[i].buf = malloc(FRAME_MAX);
        ok = L.q[i].buf != NULL;
    }
    if (ok && o.tls_ca != NULL) {
        vigil_err err = {0};
        if (vigil_server_tls_client_open(o.tls_ca, o.tls_cert, o.tls_key, &L.cred, &err) !=
            VIGIL_OK) {
            fprintf(stderr, "vigil replay: %s\n", err.msg);
            rc = VIGIL_EXIT_USAGE;
            ok = false;
        }
    }
    if (ok && o.nak_log != NULL) {
        L.nak_log = fopen(o.nak_log, "w");
        if (L.nak_log == NULL) {
            fprintf(stderr, "vigil replay: --nak-log %s: %s\n", o.nak_log, strerror(errno));
            rc = VIGIL_EXIT_IO;
            ok = false;
        }
    }
    if (ok && o.ack_log != NULL) {
        L.ack_log = fopen(o.ack_log, "w");
        if (L.ack_log == NULL) {
            fprintf(stderr, "vigil replay: --ack-log %s: %s\n", o.ack_log, strerror(errno));
            rc = VIGIL_EXIT_IO;
            ok = false;
        }
    }
    if (ok) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        rc = run(&L);
        double elapsed = now_mono_s() - L.t_start;
        if (L.t_start == 0.0) {
            elapsed = 0.0;
        }
        summary(&L, elapsed, o.json);
        if (rc == VIGIL_EXIT_OK && (L.st.ae > 0 || L.st.ar > 0)) {
            rc = VIGIL_EXIT_DATA;
        }
    } else if (rc == VIGIL_EXIT_OK) {
        fprintf(stderr, "vigil replay: out of memory\n");
        rc = VIGIL_EXIT_IO;
    }
    if (L.nak_log != NULL) {
        fclose(L.nak_log);
    }
    if (L.ack_log != NULL && fclose(L.ack_log) != 0) {
        rc = VIGIL_EXIT_IO;
    }
    vigil_server_tls_end(L.tls, true);
    if (L.fd >= 0) {
        close(L.fd);
    }
    vigil_server_tls_client_close(L.cred);
    for (unsigned i = 0; L.q != NULL && i < o.window; i++) {
        free(L.q[i].buf);
    }
    free(L.q);
    free(L.ackmsg);
    free(L.st.lat_ms);
    free(L.st.lat_sched_ms);
    vigil_mllp_decoder_free(L.dec);
    ward_free(&w);
    return rc;
}
