/*
 * listener.c: the MLLP listener: one thread, one epoll set, non-blocking
 * sockets. Accepts connections (up to cfg.max_mllp_conns), feeds each
 * connection's bytes to its own MLLP decoder (vigil/mllp.h), decodes every
 * complete frame as HL7 (vigil/hl7.h), queues one job per message for the
 * store thread and writes the ACKs the store thread hands back, in order.
 *
 * Pipelining: a sender may send many messages without waiting; they are
 * queued in order and, because the store thread keeps arrival order, their
 * ACKs come back in the order the messages came.
 *
 * Limits (issue 12: no single peer can stall or exhaust the listener):
 *  - backlog: a connection's messages read but whose ACK is not yet written
 *    to its socket (in flight, or built and waiting in its output buffer).
 *    At cfg.mllp_ack_backlog the connection is not read (backpressure: the
 *    peer's sends block in TCP) until half of them are written; an ACK
 *    counts as answered only once send() has taken its last byte, so a peer
 *    that never reads cannot make the server buffer without bound.
 *  - idle: a connection that completes no message for cfg.mllp_idle_ms (an
 *    unfinished frame, slowloris, counts as none), or whose waiting ACKs the
 *    peer leaves unread that long, is closed.
 *  - cfg.mllp_conns_per_addr connections per peer address, cfg.max_mllp_conns
 *    in all; more are closed at accept.
 * Every refusal and close is counted (vigil_server_stats) and logged through
 * the rate-limited log (one line per kind per second, with a count).
 *
 * TLS (mllp_tls.c, when cfg.mllp_tls_* are set): each accepted connection,
 * after the address checks above, first runs a non-blocking GnuTLS handshake
 * in this same loop (its epoll direction is the one GnuTLS asks for); until it
 * completes nothing is read as MLLP, and the idle timeout covers a stalled
 * handshake. A failed handshake (plain MLLP, an old version, no or an
 * untrusted client certificate when a CA is set) closes the connection. Then
 * bytes go through the session instead of recv()/send(); bytes GnuTLS has
 * decrypted but not handed over are invisible to epoll, so each loop reads
 * them (read_pending). The verified client certificate's subject goes into
 * the audit reason of what the connection stores.
 *
 * Framing errors are logged and counted; the decoder resynchronises on the
 * next start block. A frame too long for the decoder (VIGIL_HL7_MAX_LEN), or
 * more than ERRORS_MAX framing errors in a row, closes the connection: no
 * ACK can be built for it, and closing makes the sender resend rather than
 * wait. ACK messages are never answered.
 *
 * Does not: touch the store or patient data (the store thread does).
 * Invariants: only this thread touches connections; a job names its
 * connection by slot and generation, so an ACK for a connection that has
 * gone is dropped, never written to a newer one.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server_int.h"
#include "vigil/mllp.h"

#define SWEEP_MS 100 /* how often idle and stalled connections are looked for */

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Count one ACK's latency (message read to ACK written to the socket). */
static void note_latency(vigil_server *srv, int64_t t0_us)
{
    int64_t us = mono_us() - t0_us;
    if (us < 0) {
        us = 0;
    }
    size_t b = (size_t)(us / SRV_ACK_BUCKET_US);
    atomic_fetch_add(&srv->ack_hist[b < SRV_ACK_BUCKETS ? b : SRV_ACK_BUCKETS], 1);
    if ((uint64_t)us > atomic_load(&srv->ack_max_us)) {
        atomic_store(&srv->ack_max_us, (uint64_t)us); /* only this thread writes it */
    }
}
#define ERRORS_MAX 16
#define DRAIN_MS 10000

enum { TAG_LISTEN = 0, TAG_DONE = 1, TAG_STOP = 2, TAG_CONN = 3 };

typedef struct conn {
    bool used;
    int fd;
    uint32_t gen;
    vigil_mllp_decoder *dec;
    char *out;
    size_t out_len, out_off, out_cap;
    size_t inflight;
    /* ACKs in out not yet fully written: where each ends in out (FIFO) */
    size_t *ends;
    size_t ends_head, ends_len, ends_cap;
    int64_t last_msg_ms;   /* monotonic: accepted, or the last complete message */
    int64_t last_write_ms; /* monotonic: ACK bytes last written (or began to wait) */
    struct sockaddr_storage peer;
    char peer_s[64]; /* the peer's address as text, for the log */
    bool reading;    /* EPOLLIN wanted */
    bool closing;    /* no more reading: close once ACKs are out */
    bool want_out;   /* EPOLLOUT registered */
    bool in_ep;      /* in the epoll set (left out while it wants nothing, so a hung-up
                        socket waiting for its ACKs does not wake the loop) */
    unsigned errors;
    srv_tls_conn *tls;  /* NULL for plain MLLP */
    bool hs_done;       /* TLS: handshake complete (always true for plain MLLP) */
    bool hs_want_write; /* TLS handshake: waiting for the socket to be writable */
    char subject[112];  /* TLS: the verified client certificate's subject, or "" (its first
                           80 characters go into the audit reason, at most 255 in all) */
} conn;

typedef struct lst {
    vigil_server *srv;
    int ep;
    conn *c;
    size_t n_c;
    bool stopping;
    int64_t stop_ms;
    int64_t last_sweep_ms;
} lst;

static int64_t mono_ms(void)
{
    return mono_us() / 1000;
}

/* Messages read from c whose ACK has not been written to its socket yet. */
static size_t backlog_of(const conn *c)
{
    return c->inflight + (c->ends_len - c->ends_head);
}

static void note_max(_Atomic uint64_t *m, uint64_t v)
{
    if (v > atomic_load(m)) {
        atomic_store(m, v); /* only this thread writes it */
    }
}

static void rearm(lst *L, size_t i)
{
    conn *c = &L->c[i];
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.data.u64 = TAG_CONN + i;
    ev.events = (c->reading && !c->closing ? EPOLLIN : 0u) | (c->want_out ? EPOLLOUT : 0u);
    if (!c->hs_done && !c->closing) {
        ev.events = c->hs_want_write ? EPOLLOUT : EPOLLIN;
    }
    if (ev.events == 0) {
        if (c->in_ep) {
            epoll_ctl(L->ep, EPOLL_CTL_DEL, c->fd, NULL);
            c->in_ep = false;
        }
        return;
    }
    c->in_ep = epoll_ctl(L->ep, c->in_ep ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) == 0;
}

static void conn_close(lst *L, size_t i)
{
    conn *c = &L->c[i];
    if (c->in_ep) {
        epoll_ctl(L->ep, EPOLL_CTL_DEL, c->fd, NULL);
    }
    if (c->tls != NULL) {
        if (c->hs_done) {
            vigil__srv_tls_conn_bye(c->tls);
        }
        vigil__srv_tls_conn_free(c->tls);
    } else {
        /* bytes the peer sent that were never read (messages not answered:
         * it sends them again) are read and dropped first, up to a bound:
         * close() with unread bytes sends a reset, and a reset can make
         * the peer lose ACKs it has not read yet (a stop mid-burst) */
        char sink[16384];
        for (int k = 0; k < 16 && recv(c->fd, sink, sizeof sink, MSG_DONTWAIT) > 0; k++) {
        }
    }
    close(c->fd);
    vigil_mllp_decoder_free(c->dec);
    free(c->out);
    free(c->ends);
    uint32_t gen = c->gen;
    memset(c, 0, sizeof *c);
    c->gen = gen + 1; /* ACKs still on their way for it are dropped */
    c->fd = -1;
}

static void resume_if_below(lst *L, size_t i);

/* recv()/send() on the socket, or through its TLS session. */
static ssize_t conn_recv(conn *c, char *buf, size_t cap)
{
    return c->tls != NULL ? vigil__srv_tls_recv(c->tls, buf, cap) : recv(c->fd, buf, cap, 0);
}

static ssize_t conn_send(conn *c, const char *p, size_t n)
{
    return c->tls != NULL ? vigil__srv_tls_send(c->tls, p, n) : send(c->fd, p, n, MSG_NOSIGNAL);
}

/* Write what is pending; close when a closing connection is done. An ACK is
 * answered (leaves the backlog) once its last byte is written. */
static void flush_out(lst *L, size_t i)
{
    conn *c = &L->c[i];
    while (c->out_off < c->out_len) {
        ssize_t w = conn_send(c, c->out + c->out_off, c->out_len - c->out_off);
        if (w > 0) {
            c->out_off += (size_t)w;
            c->last_write_ms = mono_ms();
            while (c->ends_head < c->ends_len && c->ends[c->ends_head] <= c->out_off) {
                c->ends_head++;
            }
            continue;
        }
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->want_out) {
                c->want_out = true;
                rearm(L, i);
            }
            return;
        }
        vigil__srv_log_limited(L->srv, "mllp.close", "%s: peer gone before its ACKs", c->peer_s);
        conn_close(L, i);
        return;
    }
    c->out_off = c->out_len = 0;
    c->ends_head = c->ends_len = 0;
    if (c->want_out) {
        c->want_out = false;
        rearm(L, i);
    }
    resume_if_below(L, i);
    if (c->closing && c->inflight == 0) {
        conn_close(L, i);
    }
}

/* Append one ACK to c's output and note where it ends. */
static bool out_append(conn *c, const char *p, size_t n)
{
    if (c->ends_len == c->ends_cap) {
        if (c->ends_head > 0) { /* reuse the written part of the FIFO */
            memmove(c->ends, c->ends + c->ends_head,
                    (c->ends_len - c->ends_head) * sizeof *c->ends);
            c->ends_len -= c->ends_head;
            c->ends_head = 0;
        } else {
            size_t ncap = c->ends_cap == 0 ? 64 : c->ends_cap * 2;
            size_t *ne = realloc(c->ends, ncap * sizeof *ne);
            if (ne == NULL) {
                return false;
            }
            c->ends = ne;
            c->ends_cap = ncap;
        }
    }
    if (c->out_off == c->out_len) {
        c->last_write_ms = mono_ms(); /* the peer's clock to read its ACKs starts now */
    }
    if (c->out_len + n > c->out_cap) {
        size_t ncap = c->out_cap == 0 ? 4096 : c->out_cap;
        while (ncap < c->out_len + n) {
            ncap *= 2;
        }
        char *nb = realloc(c->out, ncap);
        if (nb == NULL) {
            return false;
        }
        c->out = nb;
        c->out_cap = ncap;
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    c->ends[c->ends_len++] = c->out_len;
    return true;
}

/* The observation sets of an accepted ORU^R01, for the group commit; their
 * audit records carry via (the peer and MSH-3/MSH-4). */
static srv_ingest *ingest_of(const vigil_hl7_result *r, const char *via)
{
    srv_ingest *ing = calloc(1, sizeof *ing);
    if (ing == NULL) {
        return NULL;
    }
    ing->ev = calloc(r->n_events, sizeof *ing->ev);
    if (ing->ev == NULL) {
        free(ing);
        return NULL;
    }
    ing->n = r->n_events;
    ing->source = VIGIL_SRC_HL7;
    ing->ai_async = true; /* the ACK never waits for the AI */
    for (size_t k = 0; k < r->n_events; k++) {
        ing->ev[k] = r->events[k];
        ing->ev[k].source = VIGIL_SRC_HL7;
        vigil__srv_event_source_id(r->hdr.control_id, k, r->n_events, ing->ev[k].source_id);
    }
    snprintf(ing->who_user, sizeof ing->who_user, "%s", vigil__srv_hl7_actor.user);
    snprintf(ing->who_reason, sizeof ing->who_reason, "%s", via);
    return ing;
}

/* One complete message from connection i. */
static void on_message(lst *L, size_t i, const char *msg, size_t len)
{
    vigil_server *srv = L->srv;
    conn *c = &L->c[i];
    atomic_fetch_add(&srv->stats.hl7_messages, 1);
    srv_job *job = calloc(1, sizeof *job);
    vigil_hl7_result *r = malloc(sizeof *r);
    if (job == NULL || r == NULL) {
        free(job);
        free(r);
        vigil__srv_log(srv, "mllp.error", "out of memory: message dropped unacknowledged");
        return;
    }
    vigil_hl7_decode(msg, len, &srv->cfg.hl7, r);
    if (r->hdr.kind == VIGIL_HL7_KIND_ACK || r->kind == VIGIL_HL7_KIND_ACK) {
        vigil__srv_log_limited(srv, "hl7.ignored", "an ACK message is never answered");
        free(job);
        free(r);
        return;
    }
    job->kind = SRV_JOB_HL7;
    job->t0_us = mono_us();
    job->slot = (uint32_t)i;
    job->gen = c->gen;
    job->hl7 = r;
    /* REQ SERVER-MLLP-TLS-SUBJECT: the verified client certificate beside the peer */
    snprintf(job->via, sizeof job->via, "%s from %s (%.40s/%.40s)%s%.80s",
             vigil__srv_hl7_actor.reason, c->peer_s, r->hdr.sending_app, r->hdr.sending_fac,
             c->subject[0] != '\0' ? " cert " : "", c->subject);
    if (r->hdr.kind != VIGIL_HL7_KIND_NONE && !vigil__srv_sender_allowed(srv, &r->hdr, c->subject)) {
        /* REQ SERVER-HL7-SENDERS: refused before anything of it is stored */
        atomic_fetch_add(&srv->stats.hl7_refused_sender, 1);
        vigil_hl7_fault_clear(&r->fault);
        r->fault.ack = VIGIL_HL7_AR;
        r->fault.code = VIGIL_HL7_E_INTERNAL;
        r->fault.reason = VIGIL_HL7_R_UNKNOWN_SENDER;
        r->fault.status = VIGIL_ERR_DENIED;
        snprintf(r->fault.loc.seg, sizeof r->fault.loc.seg, "MSH");
        r->fault.loc.seq = 1;
        r->fault.loc.field = 3;
        snprintf(r->fault.text, sizeof r->fault.text,
                 "sending application/facility is not on this service's sender list");
    }
    if (r->fault.ack == VIGIL_HL7_AA && r->kind == VIGIL_HL7_KIND_ORU_R01 && r->n_events > 0) {
        job->ing = ingest_of(r, job->via);
        if (job->ing == NULL) {
            r->fault.ack = VIGIL_HL7_AR;
            r->fault.code = VIGIL_HL7_E_INTERNAL;
            r->fault.reason = VIGIL_HL7_R_INTERNAL;
            snprintf(r->fault.text, sizeof r->fault.text, "out of memory; send it again");
        }
    }
    if (!vigil__srv_submit(srv, job)) {
        vigil__srv_job_free_hl7(job); /* stopping: never acknowledged, so it will be resent */
        return;
    }
    c->inflight++;
    size_t backlog = backlog_of(c);
    note_max(&srv->stats.mllp_backlog_max, backlog);
    if (backlog >= srv->cfg.mllp_ack_backlog && c->reading) {
        c->reading = false; /* backpressure: read again once half are written */
        atomic_fetch_add(&srv->stats.mllp_backpressure, 1);
        vigil__srv_log_limited(srv, "mllp.backpressure",
                               "%s: %zu ACKs not yet taken by the peer: not reading it", c->peer_s,
                               backlog);
        rearm(L, i);
    }
}

/* Read again from a connection paused at its backlog once half is answered. */
static void resume_if_below(lst *L, size_t i)
{
    conn *c = &L->c[i];
    if (c->used && !c->reading && !c->closing && !L->stopping &&
        backlog_of(c) <= L->srv->cfg.mllp_ack_backlog / 2) {
        c->reading = true;
        rearm(L, i);
    }
}

static void on_framing_error(lst *L, size_t i, vigil_mllp_error e)
{
    conn *c = &L->c[i];
    atomic_fetch_add(&L->srv->stats.mllp_errors, 1);
    vigil__srv_log_limited(L->srv, "mllp.framing", "%s: %s", c->peer_s, vigil_mllp_error_name(e));
    if (++c->errors > ERRORS_MAX || e == VIGIL_MLLP_ERR_OVERSIZE) {
        atomic_fetch_add(&L->srv->stats.mllp_closed_framing, 1);
        vigil__srv_log_limited(L->srv, "mllp.close", "%s: closed after framing errors", c->peer_s);
        c->closing = true;
        rearm(L, i);
    }
}

static void on_readable(lst *L, size_t i)
{
    conn *c = &L->c[i];
    char buf[SRV_MLLP_READ_CHUNK];
    for (int rounds = 0; rounds < 16 && c->used && c->reading && !c->closing; rounds++) {
        ssize_t n = conn_recv(c, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        if (n <= 0) {
            /* peer closed (or failed): answer what is in flight, then close */
            c->closing = true;
            rearm(L, i);
            break;
        }
        const char *p = buf;
        size_t left = (size_t)n;
        while (left > 0 && !c->closing) {
            size_t used = 0;
            vigil_mllp_frame f;
            vigil_mllp_decode(c->dec, p, left, &used, &f);
            p += used;
            left -= used;
            if (f.kind == VIGIL_MLLP_MESSAGE) {
                c->errors = 0;
                c->last_msg_ms = mono_ms();
                on_message(L, i, f.msg, f.len);
            } else if (f.kind == VIGIL_MLLP_ERROR) {
                on_framing_error(L, i, f.error);
            }
        }
        /* one chunk, then back to epoll (level-triggered: this connection is
         * reported again while it has bytes), so every ready connection is
         * read in turn: a peer pipelining flat out (finding 2) cannot have a
         * megabyte decoded and queued ahead of another sender's message */
        break;
    }
    if (c->used && c->closing) {
        flush_out(L, i);
    }
}

/* One step of connection i's TLS handshake; closes it when the handshake fails. */
static void on_handshake(lst *L, size_t i)
{
    conn *c = &L->c[i];
    char why[200];
    srv_tls_step st =
        vigil__srv_tls_handshake(c->tls, vigil__srv_mllp_tls_requires_cert(L->srv->mllp_tls),
                                 c->subject, sizeof c->subject, why, sizeof why);
    if (st == SRV_TLS_FAILED) {
        /* REQ SERVER-MLLP-TLS-MUTUAL: no verified certificate, nothing read */
        atomic_fetch_add(&L->srv->stats.mllp_closed_tls, 1);
        vigil__srv_log_limited(L->srv, "mllp.tls", "%s: %s: closed", c->peer_s, why);
        conn_close(L, i);
        return;
    }
    if (st == SRV_TLS_DONE) {
        c->hs_done = true;
        c->reading = true;
        if (c->subject[0] != '\0') {
            vigil__srv_log_limited(L->srv, "mllp.tls", "%s: client certificate %s", c->peer_s,
                                   c->subject);
        }
    } else {
        c->hs_want_write = st == SRV_TLS_WANT_WRITE;
    }
    rearm(L, i);
}

/* TLS: read what GnuTLS has already decrypted (epoll does not see it). True
 * when some connection still holds such bytes (its reading is paused, or it
 * had more than one call takes). */
static bool read_pending(lst *L)
{
    bool more = false;
    for (size_t i = 0; L->srv->mllp_tls != NULL && i < L->n_c; i++) {
        conn *c = &L->c[i];
        if (!c->used || c->tls == NULL || !c->hs_done || c->closing ||
            vigil__srv_tls_pending(c->tls) == 0) {
            continue;
        }
        if (c->reading) {
            on_readable(L, i);
        }
        more = more || (c->used && c->reading && !c->closing && vigil__srv_tls_pending(c->tls) > 0);
    }
    return more;
}

/* Same peer address (the port aside)? */
static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family) {
        return false;
    }
    if (a->ss_family == AF_INET) {
        return memcmp(&((const struct sockaddr_in *)(const void *)a)->sin_addr,
                      &((const struct sockaddr_in *)(const void *)b)->sin_addr,
                      sizeof(struct in_addr)) == 0;
    }
    if (a->ss_family == AF_INET6) {
        return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr,
                      sizeof(struct in6_addr)) == 0;
    }
    return false;
}

static void addr_text(const struct sockaddr_storage *sa, char *out, size_t cap)
{
    snprintf(out, cap, "?");
    if (sa->ss_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)cap);
    } else if (sa->ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)cap);
    }
}

static void on_accept(lst *L)
{
    vigil_server *srv = L->srv;
    for (;;) {
        struct sockaddr_storage sa;
        socklen_t sl = sizeof sa;
        int fd = accept4(srv->mllp_fd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            return;
        }
        size_t i = L->n_c, same = 0;
        for (size_t k = 0; k < L->n_c; k++) {
            if (!L->c[k].used) {
                i = i < L->n_c ? i : k;
            } else if (same_addr(&L->c[k].peer, &sa)) {
                same++;
            }
        }
        char who[64];
        addr_text(&sa, who, sizeof who);
        if (!vigil__srv_peer_allowed(srv, (const struct sockaddr *)&sa)) {
            atomic_fetch_add(&srv->stats.mllp_refused_addr, 1);
            vigil__srv_log_limited(srv, "mllp.refused", "%s: not on the MLLP allowlist", who);
            close(fd);
            continue;
        }
        if (same >= srv->cfg.mllp_conns_per_addr) {
            atomic_fetch_add(&srv->stats.mllp_refused_per_addr, 1);
            vigil__srv_log_limited(srv, "mllp.refused", "%s: %zu connections from this address",
                                   who, same);
            close(fd);
            continue;
        }
        if (i == L->n_c) {
            atomic_fetch_add(&srv->stats.mllp_refused_full, 1);
            vigil__srv_log_limited(srv, "mllp.refused", "%s: connection limit (%zu) reached", who,
                                   L->n_c);
            close(fd);
            continue;
        }
        conn *c = &L->c[i];
        if (vigil_mllp_decoder_new(VIGIL_HL7_MAX_LEN, &c->dec) != VIGIL_OK) {
            close(fd);
            continue;
        }
        if (srv->mllp_tls != NULL) {
            c->tls = vigil__srv_tls_conn_new(srv->mllp_tls, fd);
            if (c->tls == NULL) {
                vigil_mllp_decoder_free(c->dec);
                c->dec = NULL;
                close(fd);
                continue;
            }
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->used = true;
        c->fd = fd;
        c->hs_done = c->tls == NULL;
        c->reading = c->hs_done; /* TLS: nothing is read as MLLP before the handshake */
        c->peer = sa;
        memcpy(c->peer_s, who, sizeof c->peer_s);
        c->last_msg_ms = c->last_write_ms = mono_ms();
        struct epoll_event ev;
        memset(&ev, 0, sizeof ev);
        ev.events = EPOLLIN;
        ev.data.u64 = TAG_CONN + i;
        if (epoll_ctl(L->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            conn_close(L, i);
            continue;
        }
        c->in_ep = true;
        atomic_fetch_add(&srv->stats.mllp_conns, 1);
        vigil__srv_log_limited(srv, "mllp.accept", "%s: connection %zu", who, i);
    }
}

void vigil__srv_hl7_done(vigil_server *srv, srv_job *job)
{
    pthread_mutex_lock(&srv->done_mu);
    if (srv->done_tail != NULL) {
        srv->done_tail->next = job;
    } else {
        srv->done_head = job;
    }
    srv->done_tail = job;
    job->next = NULL;
    pthread_mutex_unlock(&srv->done_mu);
    uint64_t one = 1;
    ssize_t w = write(srv->done_fd, &one, sizeof one);
    (void)w; /* the counter cannot overflow in practice; a missed wake-up is caught by the poll
                timeout */
}

/* Jobs handed back by the store thread, committed or refused: build each
 * ACK here (off the store thread, the service's one writer) and send it. */
static void on_done(lst *L)
{
    vigil_server *srv = L->srv;
    uint64_t v;
    ssize_t rd = read(srv->done_fd, &v, sizeof v);
    (void)rd;
    pthread_mutex_lock(&srv->done_mu);
    srv_job *list = srv->done_head;
    srv->done_head = srv->done_tail = NULL;
    pthread_mutex_unlock(&srv->done_mu);
    while (list != NULL) {
        srv_job *job = list;
        list = job->next;
        vigil__srv_hl7_finish(srv, job);
        size_t i = job->slot;
        conn *c = i < L->n_c ? &L->c[i] : NULL;
        if (c != NULL && c->used && c->gen == job->gen) {
            c->inflight--;
            if (job->ack != NULL && !out_append(c, job->ack, job->ack_len)) {
                vigil__srv_log(srv, "mllp.error", "out of memory: ACK dropped, closing");
                c->closing = true;
            }
            note_max(&srv->stats.mllp_out_bytes_max, c->out_len - c->out_off);
            flush_out(L, i); /* resumes reading once half the backlog is written */
            if (job->ack != NULL) {
                note_latency(srv, job->t0_us);
            }
        }
        vigil__srv_job_free_hl7(job);
    }
}

/* Close connections that completed no message, or left their ACKs unread,
 * for cfg.mllp_idle_ms. */
static void sweep(lst *L)
{
    vigil_server *srv = L->srv;
    int64_t now = mono_ms();
    if (now - L->last_sweep_ms < SWEEP_MS) {
        return;
    }
    L->last_sweep_ms = now;
    int64_t limit = srv->cfg.mllp_idle_ms;
    for (size_t i = 0; i < L->n_c; i++) {
        conn *c = &L->c[i];
        if (!c->used) {
            continue;
        }
        bool waiting_acks = c->out_off < c->out_len;
        if (waiting_acks && now - c->last_write_ms > limit) {
            atomic_fetch_add(&srv->stats.mllp_closed_stalled, 1);
            vigil__srv_log_limited(srv, "mllp.close", "%s: %zu ACK(s) unread for %lld ms: closed",
                                   c->peer_s, c->ends_len - c->ends_head, (long long)limit);
            conn_close(L, i);
        } else if (!waiting_acks && c->inflight == 0 && !c->closing &&
                   now - c->last_msg_ms > limit) {
            /* REQ SERVER-MLLP-TLS-IDLE: a stalled handshake is idle too */
            atomic_fetch_add(&srv->stats.mllp_closed_idle, 1);
            vigil__srv_log_limited(srv, "mllp.close", "%s: %s for %lld ms: closed", c->peer_s,
                                   c->hs_done ? "no complete message" : "no TLS handshake",
                                   (long long)limit);
            conn_close(L, i);
        }
    }
}

static void begin_stop(lst *L)
{
    vigil_server *srv = L->srv;
    L->stopping = true;
    L->stop_ms = vigil__srv_now_ms();
    epoll_ctl(L->ep, EPOLL_CTL_DEL, srv->mllp_fd, NULL);
    close(srv->mllp_fd); /* stop accepting */
    srv->mllp_fd = -1;
    for (size_t i = 0; i < L->n_c; i++) {
        if (L->c[i].used) {
            L->c[i].closing = true; /* no new messages: finish what is in flight */
            rearm(L, i);
            flush_out(L, i);
        }
    }
}

static bool drained(const lst *L)
{
    for (size_t i = 0; i < L->n_c; i++) {
        if (L->c[i].used) {
            return false;
        }
    }
    return true;
}

static bool add_fd(int ep, int fd, uint64_t tag)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void *vigil__srv_mllp_main(void *arg)
{
    vigil_server *srv = arg;
    lst L;
    memset(&L, 0, sizeof L);
    L.srv = srv;
    L.n_c = srv->cfg.max_mllp_conns;
    L.c = calloc(L.n_c, sizeof *L.c);
    L.ep = epoll_create1(EPOLL_CLOEXEC);
    if (L.c == NULL || L.ep < 0 || !add_fd(L.ep, srv->mllp_fd, TAG_LISTEN) ||
        !add_fd(L.ep, srv->done_fd, TAG_DONE) || !add_fd(L.ep, srv->stop_fd, TAG_STOP)) {
        vigil__srv_log(srv, "mllp.error", "the listener could not start");
        free(L.c);
        if (L.ep >= 0) {
            close(L.ep);
        }
        return NULL;
    }
    for (size_t i = 0; i < L.n_c; i++) {
        L.c[i].fd = -1;
    }
    L.last_sweep_ms = mono_ms();
    struct epoll_event evs[64];
    bool pending = false;
    for (;;) {
        int n = epoll_wait(L.ep, evs, 64, pending ? 0 : 200);
        for (int k = 0; k < n; k++) {
            uint64_t tag = evs[k].data.u64;
            if (tag == TAG_LISTEN) {
                if (!L.stopping) {
                    on_accept(&L);
                }
            } else if (tag == TAG_DONE) {
                on_done(&L);
            } else if (tag == TAG_STOP) {
                uint64_t v;
                ssize_t rd = read(srv->stop_fd, &v, sizeof v);
                (void)rd;
                if (!L.stopping) {
                    begin_stop(&L);
                }
            } else {
                size_t i = (size_t)(tag - TAG_CONN);
                if (i >= L.n_c || !L.c[i].used) {
                    continue;
                }
                if (!L.c[i].hs_done && !L.c[i].closing) {
                    on_handshake(&L, i);
                    continue;
                }
                if (evs[k].events & EPOLLOUT) {
                    flush_out(&L, i);
                }
                if (L.c[i].used && (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
                    if (L.c[i].reading && !L.c[i].closing) {
                        on_readable(&L, i);
                    } else if (evs[k].events & (EPOLLHUP | EPOLLERR)) {
                        L.c[i].closing = true;
                        flush_out(&L, i);
                    }
                }
            }
        }
        pending = read_pending(&L);
        sweep(&L);
        if (L.stopping) {
            on_done(&L);
            if (drained(&L) || vigil__srv_now_ms() - L.stop_ms > DRAIN_MS) {
                break;
            }
        }
    }
    for (size_t i = 0; i < L.n_c; i++) {
        if (L.c[i].used) {
            conn_close(&L, i);
        }
    }
    free(L.c);
    close(L.ep);
    return NULL;
}
