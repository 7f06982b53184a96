/*
 * test_server_limits.c: no single MLLP peer can stall or exhaust the
 * listener (issue 12, findings 2 and 3). The server runs in this process with
 * small limits (vigil_server_config: mllp_ack_backlog, mllp_idle_ms,
 * mllp_conns_per_addr, max_mllp_conns) and is attacked over real loopback
 * sockets; every assertion is on the server's own counters
 * (vigil_server_stats) or on what a client sees, never on elapsed time.
 *
 * Checks: a client that pipelines messages and never reads its ACKs is no
 * longer read once its backlog is reached (backpressure), so the server
 * holds a bounded number of its messages and ACK bytes, and it is closed
 * once it has left its ACKs unread for the idle timeout; a connection that
 * completes no message (idle, or a slowloris frame that never ends) is
 * closed after the idle timeout while an honest sender on another
 * connection is served; a peer address gets at most mllp_conns_per_addr
 * connections and another address still gets in; when every slot is taken
 * the refusal is counted, and the slots come back after the idle timeout; a
 * flood of refusals is logged in a few lines that still count every one
 * (finding 13); a peer outside the MLLP address allowlist is closed at
 * accept, a message from an MSH-3/MSH-4 pair not on the sender list is
 * refused AR and nothing of it is stored, and the audit records of HL7
 * writes name the peer address and the sender (finding 4).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/server_int.h"
#include "vigil/mllp.h"
#include "vigil/server.h"
#include "vigil/store.h"
#include "vigil/store_test.h"
#include "vigil_test.h"

typedef struct fx {
    char dir[256];
    char path[320]; /* the SQLite file under dir (when the store is one) */
    char db[400];   /* the store URI the server opens (vigil_test_store_uri) */
    vigil_server_config cfg;
    vigil_server *srv;
} fx;

static void quiet(void *ctx, const char *line)
{
    (void)ctx;
    (void)line;
}

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    if (x == NULL || vigil_test_mkdtemp(x->dir, sizeof x->dir, "vigil-lim") == NULL) {
        return -1;
    }
    snprintf(x->path, sizeof x->path, "%s/ward.db", x->dir);
    if (!vigil_test_store_uri(x->db, sizeof x->db, x->dir)) {
        return -1;
    }
    vigil_server_config_init(&x->cfg);
    x->cfg.db = x->db;
    x->cfg.log = quiet;
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx *x = *state;
    vigil_server_close(x->srv);
    char p[400];
    const char *suffix[] = {"", "-wal", "-shm", ".lease"}; /* .lease: the server's lease */
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", x->path, suffix[i]);
        unlink(p);
    }
    rmdir(x->dir);
    free(x);
    return 0;
}

static void start(fx *x)
{
    vigil_err err = {0};
    assert_int_equal(vigil_server_open(&x->cfg, &x->srv, &err), VIGIL_OK);
    assert_int_equal(vigil_server_start(x->srv, &err), VIGIL_OK);
}

static vigil_server_stats stats(fx *x)
{
    vigil_server_stats s;
    vigil_server_stats_get(x->srv, &s);
    return s;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A connection to the MLLP port from local address `from` (127.0.0.x). */
static int dial(fx *x, const char *from, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    if (rcvbuf > 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    }
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, from, &a.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    a.sin_port = htons((uint16_t)vigil_server_mllp_port(x->srv));
    assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &a.sin_addr), 1);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

#define WIDE 200 /* bytes of each of MSH-3 to MSH-6 in a wide message (an HD holds 227) */

/* A message the server refuses (AR: processing id T is not accepted) without
 * touching the store. Wide: MSH-3 to MSH-6 of WIDE bytes each, which the ACK
 * echoes, so each ACK is about 1 KB. */
static size_t refused_msg(char *out, size_t cap, unsigned n, bool wide)
{
    char hd[WIDE + 1];
    memset(hd, 'A', WIDE);
    hd[wide ? WIDE : 3] = '\0';
    return (size_t)snprintf(out, cap,
                            "MSH|^~\\&|%s|%s|%s|%s|20250114083215+0000||ORU^R01|LIM%u|T|2.5.1\r",
                            hd, hd, hd, hd, n);
}

static size_t framed(char *out, size_t cap, unsigned n, bool wide)
{
    char m[4096];
    size_t len = refused_msg(m, sizeof m, n, wide);
    size_t fl = 0;
    assert_int_equal(vigil_mllp_encode(m, len, out, cap, &fl), VIGIL_OK);
    return fl;
}

/* Send all of buf (blocking socket). */
static void send_all(int fd, const char *buf, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL);
        assert_true(w > 0);
        off += (size_t)w;
    }
}

/* Wait up to timeout_ms for fd to be readable; then read once. Returns the
 * bytes read, 0 when the server closed it, -1 when nothing came. */
static ssize_t read_some(int fd, char *buf, size_t cap, int timeout_ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) {
        return -1;
    }
    ssize_t r = recv(fd, buf, cap, 0);
    if (r < 0 && errno == ECONNRESET) {
        return 0;
    }
    return r;
}

/* Read until one whole ACK (or its MSA) has arrived; true when it did. */
static bool got_ack(int fd, int timeout_ms)
{
    char buf[8192];
    size_t len = 0;
    int64_t end = now_ms() + timeout_ms;
    while (now_ms() < end && len + 1 < sizeof buf) {
        ssize_t r = read_some(fd, buf + len, sizeof buf - len - 1, 100);
        if (r == 0) {
            return false;
        }
        if (r > 0) {
            len += (size_t)r;
            buf[len] = '\0';
            if (memchr(buf, VIGIL_MLLP_EB, len) != NULL && strstr(buf, "MSA|") != NULL) {
                return true;
            }
        }
    }
    return false;
}

/* True once the server has closed fd (waits at most timeout_ms). */
static bool closed_by_server(int fd, int timeout_ms)
{
    char buf[4096];
    int64_t end = now_ms() + timeout_ms;
    while (now_ms() < end) {
        ssize_t r = read_some(fd, buf, sizeof buf, 50);
        if (r == 0) {
            return true;
        }
    }
    return false;
}

/* Wait (at most timeout_ms) until the counter at offset in vigil_server_stats
 * reaches want. */
static bool wait_stat(fx *x, size_t offset, uint64_t want, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        vigil_server_stats s = stats(x);
        uint64_t v;
        memcpy(&v, (const char *)&s + offset, sizeof v);
        if (v >= want) {
            return true;
        }
        if (now_ms() >= end) {
            return false;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

#define FLOOD 30000 /* wide messages: about 27 MB, and as many ACK bytes */

/* Finding 2 */
static void peer_that_never_reads_its_acks_is_paused_and_then_closed(void **state)
{
    fx *x = *state;
    x->cfg.mllp_ack_backlog = 16;
    x->cfg.mllp_idle_ms = 1500;
    start(x);
    int fd = dial(x, "127.0.0.1", 4096);
    int sndbuf = 16384;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    /* Pipeline up to FLOOD messages without ever reading an ACK; stop when
     * the socket stays full (the server has stopped reading us). Before, the
     * server read them all and kept every unread ACK in memory. Now, once
     * the kernel's buffers hold what they can of its ACKs, it stops reading:
     * the client blocks long before FLOOD (the kernel's buffers hold a few
     * MB at most). */
    char frame[2048];
    unsigned sent = 0;
    size_t off = 0, flen = framed(frame, sizeof frame, 0, true);
    while (sent < FLOOD) {
        ssize_t w = send(fd, frame + off, flen - off, MSG_NOSIGNAL);
        if (w > 0) {
            off += (size_t)w;
            if (off == flen) {
                sent++;
                off = 0;
                flen = framed(frame, sizeof frame, sent, true);
            }
            continue;
        }
        assert_true(w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
        struct pollfd p = {fd, POLLOUT, 0};
        if (poll(&p, 1, 500) == 0) {
            break; /* full for half a second: not being read */
        }
    }
    vigil_server_stats s = stats(x);
    print_message("sent %u, server read %llu, backlog max %llu, unwritten ACK bytes max %llu, "
                  "paused %llu time(s)\n",
                  sent, (unsigned long long)s.hl7_messages, (unsigned long long)s.mllp_backlog_max,
                  (unsigned long long)s.mllp_out_bytes_max,
                  (unsigned long long)s.mllp_backpressure);
    if (sent >= FLOOD || s.hl7_messages >= sent) {
        fail_msg("the server read %llu of %u message(s) from a peer that reads no ACK",
                 (unsigned long long)s.hl7_messages, sent);
    }
    assert_true(s.mllp_backpressure >= 1);
    /* unanswered: at most the backlog plus the messages of one 64 KiB read */
    uint64_t bound = 16 + 65536 / (4 * WIDE) + 1;
    if (s.mllp_backlog_max > bound) {
        fail_msg("backlog reached %llu (bound %llu)", (unsigned long long)s.mllp_backlog_max,
                 (unsigned long long)bound);
    }
    assert_true(s.mllp_out_bytes_max <= bound * VIGIL_HL7_ACK_MAX);
    /* left unread for the idle timeout: closed, counted */
    assert_true(wait_stat(x, offsetof(vigil_server_stats, mllp_closed_stalled), 1, 20000));
    close(fd);
    /* the listener still serves an honest sender */
    int h = dial(x, "127.0.0.2", 0);
    char f2[2048];
    size_t n2 = framed(f2, sizeof f2, 9999, false);
    send_all(h, f2, n2);
    assert_true(got_ack(h, 20000));
    close(h);
}

/* Finding 2: an honest pipelining sender that reads its ACKs is paused at the
 * backlog and resumed, and every message is answered */
static void pipelining_sender_past_the_backlog_gets_every_ack(void **state)
{
    fx *x = *state;
    x->cfg.mllp_ack_backlog = 4;
    start(x);
    int fd = dial(x, "127.0.0.1", 0);
    static char all[200 * 256];
    size_t len = 0;
    for (unsigned k = 0; k < 200; k++) {
        len += framed(all + len, sizeof all - len, k, false);
    }
    send_all(fd, all, len);
    unsigned acks = 0;
    char buf[65536];
    int64_t end = now_ms() + 30000;
    while (acks < 200 && now_ms() < end) {
        ssize_t r = read_some(fd, buf, sizeof buf, 100);
        assert_true(r != 0);
        for (ssize_t k = 0; k < r; k++) {
            acks += buf[k] == VIGIL_MLLP_EB;
        }
    }
    assert_int_equal(acks, 200);
    assert_true(stats(x).mllp_backpressure >= 1);
    close(fd);
}

/* Finding 3 */
static void idle_and_slowloris_connections_are_closed_while_an_honest_sender_is_served(void **state)
{
    fx *x = *state;
    x->cfg.mllp_idle_ms = 1000;
    start(x);
    int idle = dial(x, "127.0.0.1", 0);
    int slow = dial(x, "127.0.0.2", 0);
    int honest = dial(x, "127.0.0.3", 0);
    send_all(slow, "\x0bMSH|", 5); /* a frame begun and never finished */
    char f[512];
    bool slow_closed = false, idle_closed = false;
    int64_t end = now_ms() + 20000;
    unsigned n = 0;
    while (!(slow_closed && idle_closed) && now_ms() < end) {
        /* one byte at a time, a fraction of the idle timeout apart */
        if (!slow_closed && send(slow, "x", 1, MSG_NOSIGNAL) != 1) {
            slow_closed = true;
        }
        /* the honest sender completes a message as often */
        size_t fl = framed(f, sizeof f, n++, false);
        send_all(honest, f, fl);
        assert_true(got_ack(honest, 20000));
        slow_closed = slow_closed || closed_by_server(slow, 250);
        idle_closed = idle_closed || closed_by_server(idle, 1);
    }
    assert_true(slow_closed);
    assert_true(idle_closed);
    vigil_server_stats s = stats(x);
    assert_int_equal(s.mllp_closed_idle, 2);
    /* the honest connection is still open and served */
    size_t fl = framed(f, sizeof f, n, false);
    send_all(honest, f, fl);
    assert_true(got_ack(honest, 20000));
    close(idle);
    close(slow);
    close(honest);
}

/* Finding 3 */
static void one_address_gets_at_most_its_connections_and_another_still_gets_in(void **state)
{
    fx *x = *state;
    x->cfg.mllp_conns_per_addr = 3;
    x->cfg.max_mllp_conns = 8;
    start(x);
    int fd[3];
    for (int k = 0; k < 3; k++) {
        fd[k] = dial(x, "127.0.0.1", 0);
    }
    int extra = dial(x, "127.0.0.1", 0);
    assert_true(closed_by_server(extra, 20000));
    assert_true(wait_stat(x, offsetof(vigil_server_stats, mllp_refused_per_addr), 1, 20000));
    close(extra);
    /* another address is served */
    int other = dial(x, "127.0.0.2", 0);
    char f[512];
    size_t fl = framed(f, sizeof f, 1, false);
    send_all(other, f, fl);
    assert_true(got_ack(other, 20000));
    /* and so are the first address's own connections */
    send_all(fd[0], f, fl);
    assert_true(got_ack(fd[0], 20000));
    close(other);
    for (int k = 0; k < 3; k++) {
        close(fd[k]);
    }
}

/* Finding 3: every slot taken by idle connections: refused and counted, then
 * the idle timeout frees the slots */
static void full_listener_refuses_counted_and_frees_idle_slots(void **state)
{
    fx *x = *state;
    x->cfg.mllp_conns_per_addr = 2;
    x->cfg.max_mllp_conns = 4;
    x->cfg.mllp_idle_ms = 1000;
    start(x);
    int fd[4];
    const char *from[4] = {"127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.2"};
    for (int k = 0; k < 4; k++) {
        fd[k] = dial(x, from[k], 0);
    }
    assert_true(wait_stat(x, offsetof(vigil_server_stats, mllp_conns), 4, 20000));
    int late = dial(x, "127.0.0.3", 0);
    assert_true(closed_by_server(late, 20000));
    close(late);
    assert_int_equal(stats(x).mllp_refused_full, 1);
    assert_true(wait_stat(x, offsetof(vigil_server_stats, mllp_closed_idle), 4, 20000));
    int honest = dial(x, "127.0.0.3", 0);
    char f[512];
    size_t fl = framed(f, sizeof f, 1, false);
    send_all(honest, f, fl);
    assert_true(got_ack(honest, 20000));
    close(honest);
    for (int k = 0; k < 4; k++) {
        close(fd[k]);
    }
}

/* Finding 13: the log sink of the next test counts mllp.refused lines */
typedef struct logcount {
    pthread_mutex_t mu;
    unsigned lines;           /* "mllp.refused: <address>: ..." lines */
    unsigned long long added; /* the N of "mllp.refused: N more like this left out" */
} logcount;

static void count_refused(void *ctx, const char *line)
{
    logcount *lc = ctx;
    const char *k = strstr(line, "mllp.refused: ");
    if (k == NULL) {
        return;
    }
    pthread_mutex_lock(&lc->mu);
    unsigned long long n = 0;
    if (strstr(line, "more like this left out") != NULL &&
        sscanf(k + strlen("mllp.refused: "), "%llu", &n) == 1) {
        lc->added += n;
    } else {
        lc->lines++;
    }
    pthread_mutex_unlock(&lc->mu);
}

static void refusal_flood_is_logged_in_a_few_lines_that_still_count_every_refusal(void **state)
{
    fx *x = *state;
    logcount lc = {.lines = 0, .added = 0};
    pthread_mutex_init(&lc.mu, NULL);
    x->cfg.mllp_conns_per_addr = 1;
    x->cfg.log = count_refused;
    x->cfg.log_ctx = &lc;
    start(x);
    int keep = dial(x, "127.0.0.1", 0);
    assert_true(wait_stat(x, offsetof(vigil_server_stats, mllp_conns), 1, 20000));
    for (int k = 0; k < 300; k++) {
        int fd = dial(x, "127.0.0.1", 0);
        assert_true(closed_by_server(fd, 20000));
        close(fd);
    }
    assert_true(wait_stat(x, offsetof(vigil_server_stats, mllp_refused_per_addr), 300, 20000));
    close(keep);
    vigil_server_close(x->srv); /* the log's last counts are written at stop */
    x->srv = NULL;
    print_message("300 refusals: %u line(s), %llu left out and counted\n", lc.lines, lc.added);
    assert_true(lc.lines < 50);
    assert_int_equal(lc.lines + lc.added, 300);
    pthread_mutex_destroy(&lc.mu);
}

/* /metrics needs no session only from loopback (docs/server.md, Metrics) */
static bool loopback(const char *addr)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
    } else {
        assert_int_equal(inet_pton(AF_INET6, addr, &a6->sin6_addr), 1);
        a6->sin6_family = AF_INET6;
    }
    return vigil__srv_addr_loopback((const struct sockaddr *)&ss);
}

static void metrics_without_a_session_only_from_loopback_addresses(void **state)
{
    (void)state;
    assert_true(loopback("127.0.0.1"));
    assert_true(loopback("127.200.3.4"));
    assert_true(loopback("::1"));
    assert_true(loopback("::ffff:127.0.0.1"));
    assert_false(loopback("10.1.2.3"));
    assert_false(loopback("128.0.0.1"));
    assert_false(loopback("::ffff:10.1.2.3"));
    assert_false(loopback("2001:db8::1"));
    assert_false(loopback("::"));
    assert_false(vigil__srv_addr_loopback(NULL));
}

/* ---- finding 4: who may send ------------------------------------------------- */

static bool in_block(const char *block, const char *addr)
{
    srv_cidr c;
    assert_int_equal(vigil__srv_cidr_parse(block, &c), VIGIL_OK);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
    } else {
        assert_int_equal(inet_pton(AF_INET6, addr, &a6->sin6_addr), 1);
        a6->sin6_family = AF_INET6;
    }
    return vigil__srv_cidr_match(&c, (const struct sockaddr *)&ss);
}

static void allowlist_blocks_and_sender_pairs_match_what_they_name(void **state)
{
    (void)state;
    assert_true(in_block("10.1.0.0/16", "10.1.200.3"));
    assert_false(in_block("10.1.0.0/16", "10.2.0.1"));
    assert_true(in_block("10.1.2.3", "10.1.2.3"));
    assert_false(in_block("10.1.2.3", "10.1.2.4"));
    assert_true(in_block("10.1.2.0/23", "10.1.3.255"));
    assert_false(in_block("10.1.2.0/23", "10.1.4.0"));
    assert_true(in_block("0.0.0.0/0", "192.0.2.1"));
    assert_true(in_block("fd00::/8", "fd12:3456::1"));
    assert_false(in_block("fd00::/8", "fe80::1"));
    assert_true(in_block("10.1.0.0/16", "::ffff:10.1.9.9")); /* v4-mapped peer on a v6 socket */
    assert_false(in_block("::1", "127.0.0.1"));
    srv_cidr c;
    const char *bad[] = {"",          "10.1.2.3/33",  "10.1.2",     "fd00::/129",
                         "10.1.2.3/", "host.example", "10.1.2.3/8x"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        assert_int_equal(vigil__srv_cidr_parse(bad[k], &c), VIGIL_ERR_ARG);
    }
    assert_true(vigil__srv_sender_match("EOBS/RX1", "EOBS", "RX1", '^'));
    assert_true(vigil__srv_sender_match("EOBS/RX1", "EOBS^1.2.3^ISO", "RX1^^", '^'));
    assert_false(vigil__srv_sender_match("EOBS/RX1", "EOBSX", "RX1", '^'));
    assert_false(vigil__srv_sender_match("EOBS/RX1", "EOBS", "RX2", '^'));
    assert_false(vigil__srv_sender_match("EOBS/RX1", "", "RX1", '^'));
    assert_true(vigil__srv_sender_match("*/RX1", "ANY", "RX1", '^'));
    assert_true(vigil__srv_sender_match("PAS/*", "PAS", "", '^'));
    /* REQ SERVER-HL7-SENDER-CERT: "|SUBJECT" binds a certificate, it is not the facility */
    assert_true(vigil__srv_sender_match("EOBS/RX1|CN=m1,O=Ward 7", "EOBS", "RX1", '^'));
    assert_false(vigil__srv_sender_match("EOBS/RX1|CN=m1", "EOBS", "RX1|CN=m1", '^'));
}

/* One message over fd and its ACK's text (NUL-terminated in out); false when
 * none came. */
static bool exchange(int fd, const char *msg, char *out, size_t cap)
{
    char buf[8192];
    size_t n = 0;
    assert_int_equal(vigil_mllp_encode(msg, strlen(msg), buf, sizeof buf, &n), VIGIL_OK);
    send_all(fd, buf, n);
    size_t len = 0;
    int64_t end = now_ms() + 20000;
    while (now_ms() < end && len + 1 < cap) {
        ssize_t r = read_some(fd, out + len, cap - len - 1, 100);
        if (r == 0) {
            return false;
        }
        if (r > 0) {
            len += (size_t)r;
            out[len] = '\0';
            if (memchr(out, VIGIL_MLLP_EB, len) != NULL) {
                return true;
            }
        }
    }
    return false;
}

static void peer_outside_the_mllp_allowlist_is_closed_at_accept_and_counted(void **state)
{
    fx *x = *state;
    const char *allow[] = {"127.0.0.2", "127.0.1.0/24"};
    x->cfg.mllp_allow = allow;
    x->cfg.n_mllp_allow = 2;
    start(x);
    int out = dial(x, "127.0.0.1", 0);
    assert_true(closed_by_server(out, 20000));
    close(out);
    assert_int_equal(stats(x).mllp_refused_addr, 1);
    const char *ok[] = {"127.0.0.2", "127.0.1.9"};
    for (int k = 0; k < 2; k++) {
        int fd = dial(x, ok[k], 0);
        char f[512];
        size_t fl = framed(f, sizeof f, (unsigned)k, false);
        send_all(fd, f, fl);
        assert_true(got_ack(fd, 20000));
        close(fd);
    }
    assert_int_equal(stats(x).mllp_refused_addr, 1);
}

/* Audit records matching where, through a store handle of its own (any backend). */
static int audit_count(fx *x, const char *where)
{
    vigil_store *st = NULL;
    vigil_err err = {0};
    assert_int_equal(vigil_store_open(x->db, 0, &st, &err), VIGIL_OK);
    int64_t n = -1;
    assert_int_equal(vigil_store_count_rows(st, "audit", where, &n, &err), VIGIL_OK);
    vigil_store_close(st);
    return (int)n;
}

#define ADT_FMT                                                                                    \
    "MSH|^~\\&|%s|RX1|VIGIL|RX1|20250114080000+0000||ADT^%s|%s|P|2.5.1\r"                          \
    "EVN|%s|20250114080000+0000\rPID|1||9990000018^^^NHS^NH||TESTPATIENT^X||19600101|M\r"          \
    "PV1|1|I|WARD7B^BAY1^BED01^RX1\r"
#define ORU_FMT                                                                                    \
    "MSH|^~\\&|%s|RX1|VIGIL|RX1|20250114083000+0000||ORU^R01|%s|P|2.5.1\r"                         \
    "PID|1||9990000018^^^NHS^NH||X||19540312|F\rOBR|1||O|86290005^Vital signs^SCT|||"              \
    "20250114083000+0000\rOBX|1|NM|9279-1^RR^LN||16|/"                                             \
    "min|||||F\rOBX|2|NM|59408-5^SpO2^LN||97|%%|||"                                                \
    "||F\rOBX|3|NM|3150-0^FiO2^LN||21|%%|||||F\rOBX|4|NM|8480-6^SBP^LN||120|mm[Hg]|||||F\r"        \
    "OBX|5|NM|8867-4^HR^LN||80|/min|||||F\rOBX|6|CWE|1104441000000107^ACVPU^SCT||A||||||F\r"       \
    "OBX|7|NM|8310-5^Temp^LN||37.0|Cel|||||F\r"

/* REQ SERVER-HL7-SENDERS */
static void message_from_an_unlisted_sender_is_refused_ar_and_nothing_of_it_is_stored(void **state)
{
    fx *x = *state;
    const char *senders[] = {"EOBS/RX1", "PAS/RX1"};
    x->cfg.hl7_senders = senders;
    x->cfg.n_hl7_senders = 2;
    start(x);
    int fd = dial(x, "127.0.0.1", 0);
    char m[2048], ack[8192];
    snprintf(m, sizeof m, ADT_FMT, "PAS", "A01", "ADM1", "A01");
    assert_true(exchange(fd, m, ack, sizeof ack));
    assert_non_null(strstr(ack, "MSA|AA|ADM1"));
    /* an unlisted sender: AR unknown-sender, no set stored, no discharge */
    snprintf(m, sizeof m, ORU_FMT, "EVIL", "EVIL1");
    assert_true(exchange(fd, m, ack, sizeof ack));
    assert_non_null(strstr(ack, "MSA|AR|EVIL1"));
    assert_non_null(strstr(ack, "unknown-sender"));
    snprintf(m, sizeof m, ADT_FMT, "EVIL", "A03", "EVIL2", "A03");
    assert_true(exchange(fd, m, ack, sizeof ack));
    assert_non_null(strstr(ack, "MSA|AR|EVIL2"));
    vigil_server_stats s = stats(x);
    assert_int_equal(s.committed_sets, 0);
    assert_int_equal(s.hl7_refused_sender, 2);
    /* a listed sender (MSH-3 with its other HD components) is still admitted: stored */
    snprintf(m, sizeof m, ORU_FMT, "EOBS^1.2.826.0.1^ISO", "GOOD1");
    assert_true(exchange(fd, m, ack, sizeof ack));
    if (strstr(ack, "MSA|AA|GOOD1") == NULL) {
        fail_msg("listed sender not accepted: %s", ack);
    }
    assert_int_equal(stats(x).committed_sets, 1);
    close(fd);
    vigil_server_close(x->srv);
    x->srv = NULL;
    /* the audit records of HL7 writes name the peer and the sender */
    assert_true(audit_count(x, "reason LIKE 'ingest from 127.0.0.1 (PAS/RX1)%'") >= 1);
    assert_true(audit_count(x, "reason LIKE 'ingest from 127.0.0.1 (EOBS^1.2.826.0.1^ISO/RX1)%'") >=
                1);
    assert_int_equal(audit_count(x, "reason LIKE '%EVIL%'"), 0);
}

/* ---- finding 8: sign-ins in flight ------------------------------------------- */

/* One HTTP/1.1 request over loopback; the status code (0 when none came). */
static int http_status(fx *x, const char *method, const char *path, const char *body)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)vigil_server_http_port(x->srv));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, body != NULL ? strlen(body) : 0, body != NULL ? body : "");
    send_all(fd, req, (size_t)n);
    char resp[256];
    ssize_t r = read_some(fd, resp, sizeof resp - 1, 30000);
    close(fd);
    int status = 0;
    if (r > 0) {
        resp[r] = '\0';
        sscanf(resp, "HTTP/1.%*d %d", &status);
    }
    return status;
}

typedef struct login_thread {
    fx *x;
    int status;
} login_thread;

static void *bad_login(void *arg)
{
    login_thread *t = arg;
    t->status =
        http_status(t->x, "POST", "/api/login", "{\"username\": \"x\", \"password\": \"wrong\"}");
    return NULL;
}

/* While a sign-in holds the argon2id slot, further ones are answered 503 at
 * once (they do not wait on HTTP threads), counted, and other requests are
 * served. */
static void sign_ins_beyond_the_in_flight_limit_get_503_and_the_api_stays_up(void **state)
{
    fx *x = *state;
    start(x);
    srv_auth *a = &x->srv->auth;
    atomic_fetch_add(&a->in_flight, 1); /* a sign-in running ... */
    pthread_mutex_lock(&a->argon_mu);   /* ... holding the slot */
    login_thread t[4];
    pthread_t th[4];
    for (int k = 0; k < 4; k++) {
        t[k] = (login_thread){x, 0};
        assert_int_equal(pthread_create(&th[k], NULL, bad_login, &t[k]), 0);
    }
    for (int k = 0; k < 4; k++) {
        pthread_join(th[k], NULL);
        assert_int_equal(t[k].status, 503);
    }
    assert_int_equal(http_status(x, "GET", "/health", NULL), 200);
    assert_int_equal(stats(x).signin_refused_busy, 4);
    pthread_mutex_unlock(&a->argon_mu);
    atomic_fetch_sub(&a->in_flight, 1);
    /* the slot free: a sign-in is tried (and this one fails) */
    assert_int_equal(
        http_status(x, "POST", "/api/login", "{\"username\": \"x\", \"password\": \"y\"}"), 401);
    assert_int_equal(stats(x).signin_failed, 1);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(
        sign_ins_beyond_the_in_flight_limit_get_503_and_the_api_stays_up, setup, teardown),
    cmocka_unit_test(allowlist_blocks_and_sender_pairs_match_what_they_name),
    cmocka_unit_test_setup_teardown(peer_outside_the_mllp_allowlist_is_closed_at_accept_and_counted,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(
        message_from_an_unlisted_sender_is_refused_ar_and_nothing_of_it_is_stored, setup, teardown),
    cmocka_unit_test(metrics_without_a_session_only_from_loopback_addresses),
    cmocka_unit_test_setup_teardown(peer_that_never_reads_its_acks_is_paused_and_then_closed, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(pipelining_sender_past_the_backlog_gets_every_ack, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(
        idle_and_slowloris_connections_are_closed_while_an_honest_sender_is_served, setup,
        teardown),
    cmocka_unit_test_setup_teardown(
        one_address_gets_at_most_its_connections_and_another_still_gets_in, setup, teardown),
    cmocka_unit_test_setup_teardown(full_listener_refuses_counted_and_frees_idle_slots, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(
        refusal_flood_is_logged_in_a_few_lines_that_still_count_every_refusal, setup, teardown),
};

VIGIL_TEST_MAIN(tests)
