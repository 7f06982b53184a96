/*
 * bench_http_get.c: a small HTTP/1.1 load client for bench/ward_list.py, so
 * the client is not what limits the figures (50 Python threads reading 50 kB
 * answers flat out were).
 *
 *   bench_http_get PORT PATH CONNS PERIOD_MS SECONDS [TOKEN_FILE]
 *
 * CONNS keep-alive connections to 127.0.0.1:PORT, each sending GET PATH
 * (with "Authorization: Bearer <token>", token i of TOKEN_FILE, one a line,
 * used round robin) every PERIOD_MS (spread evenly over the period), or as
 * soon as its answer is read when PERIOD_MS is 0 (flat out), for SECONDS.
 * One thread, poll(2). Prints one line:
 *   n=N ok=N p50_ms=X p99_ms=X rps=X bytes=N
 * (latency from the request's write to the answer's last byte; ok counts
 * 200s; bytes is the last answer's body size).
 *
 * Does not: follow redirects, speak TLS or chunked encoding (vigil's API
 * answers carry Content-Length). Never gating.
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 512
#define BUF_CAP (4u << 20)

typedef struct conn {
    int fd;
    char req[2048];
    size_t req_len, sent;
    char *buf;
    size_t len;
    double t_sent, next_at;
    int busy;
} conn;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int open_conn(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* The whole answer's length once its headers are in, else 0; -1 if it has
 * no Content-Length. *status gets the status code. */
static long answer_len(const char *b, size_t n, int *status)
{
    const char *end = memmem(b, n, "\r\n\r\n", 4);
    if (end == NULL) {
        return 0;
    }
    *status = (int)strtol(b + 9, NULL, 10);
    for (const char *p = b; p < end; p++) {
        if ((p == b || p[-1] == '\n') && strncasecmp(p, "content-length:", 15) == 0) {
            return (long)(end + 4 - b) + strtol(p + 15, NULL, 10);
        }
    }
    return -1;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: %s PORT PATH CONNS PERIOD_MS SECONDS [TOKEN_FILE]\n", argv[0]);
        return 2;
    }
    int port = (int)strtol(argv[1], NULL, 10);
    const char *path = argv[2];
    int n = (int)strtol(argv[3], NULL, 10);
    double period = strtod(argv[4], NULL), secs = strtod(argv[5], NULL);
    if (n <= 0 || n > MAX_CONNS) {
        fprintf(stderr, "CONNS is 1 to %d\n", MAX_CONNS);
        return 2;
    }
    char tokens[MAX_CONNS][200];
    int n_tok = 0;
    if (argc > 6) {
        FILE *f = fopen(argv[6], "r");
        if (f == NULL) {
            perror(argv[6]);
            return 2;
        }
        while (n_tok < MAX_CONNS && fgets(tokens[n_tok], sizeof tokens[n_tok], f) != NULL) {
            tokens[n_tok][strcspn(tokens[n_tok], "\r\n")] = '\0';
            if (tokens[n_tok][0] != '\0') {
                n_tok++;
            }
        }
        fclose(f);
    }
    static conn cs[MAX_CONNS];
    static struct pollfd pfd[MAX_CONNS];
    size_t lat_cap = 1u << 20, n_lat = 0, n_ok = 0, last_bytes = 0;
    double *lat = malloc(lat_cap * sizeof *lat);
    double t0 = now_ms(), until = t0 + secs * 1000.0;
    for (int i = 0; i < n; i++) {
        conn *c = &cs[i];
        c->fd = open_conn(port);
        c->buf = malloc(BUF_CAP);
        if (c->fd < 0 || c->buf == NULL || lat == NULL) {
            perror("connect");
            return 1;
        }
        int k;
        if (n_tok > 0) {
            k = snprintf(c->req, sizeof c->req,
                         "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n",
                         path, tokens[i % n_tok]);
        } else {
            k = snprintf(c->req, sizeof c->req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
        }
        c->req_len = (size_t)k;
        c->next_at = t0 + (period > 0 ? period * i / n : 0);
    }
    int open = n;
    while (open > 0) {
        double t = now_ms();
        int timeout = 50;
        for (int i = 0; i < n; i++) {
            conn *c = &cs[i];
            pfd[i].fd = c->fd;
            pfd[i].events = 0;
            if (c->fd < 0) {
                continue;
            }
            if (!c->busy && t >= until) {
                close(c->fd);
                c->fd = -1;
                pfd[i].fd = -1;
                open--;
                continue;
            }
            if (!c->busy && t >= c->next_at) {
                c->busy = 1;
                c->sent = 0;
                c->len = 0;
                c->t_sent = t;
            }
            if (c->busy) {
                pfd[i].events = c->sent < c->req_len ? POLLOUT : POLLIN;
            } else {
                int w = (int)(c->next_at - t) + 1;
                timeout = w < timeout ? w : timeout;
            }
        }
        if (open == 0) {
            break;
        }
        if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR) {
            perror("poll");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            conn *c = &cs[i];
            if (c->fd < 0 || pfd[i].revents == 0) {
                continue;
            }
            if (c->sent < c->req_len) {
                ssize_t w = write(c->fd, c->req + c->sent, c->req_len - c->sent);
                if (w > 0) {
                    c->sent += (size_t)w;
                }
                continue;
            }
            ssize_t r = read(c->fd, c->buf + c->len, BUF_CAP - c->len);
            if (r <= 0) {
                fprintf(stderr, "connection %d closed by the server\n", i);
                close(c->fd);
                c->fd = -1;
                open--;
                continue;
            }
            c->len += (size_t)r;
            int status = 0;
            long want = answer_len(c->buf, c->len, &status);
            if (want < 0) {
                fprintf(stderr, "an answer without Content-Length\n");
                return 1;
            }
            if (want == 0 || c->len < (size_t)want) {
                continue;
            }
            double done = now_ms();
            if (n_lat == lat_cap) {
                lat_cap *= 2;
                lat = realloc(lat, lat_cap * sizeof *lat);
                if (lat == NULL) {
                    return 1;
                }
            }
            lat[n_lat++] = done - c->t_sent;
            n_ok += status == 200;
            if (status != 200 && n_ok == 0 && n_lat == 1) {
                fprintf(stderr, "first answer: %.*s\n", (int)c->len, c->buf);
            }
            const char *body = memmem(c->buf, c->len, "\r\n\r\n", 4);
            last_bytes = c->len - (size_t)(body + 4 - c->buf);
            c->busy = 0;
            c->next_at = period > 0 ? c->next_at + period : done;
        }
    }
    double elapsed = (now_ms() - t0) / 1000.0;
    qsort(lat, n_lat, sizeof *lat, cmp_d);
    double p50 = n_lat ? lat[(size_t)(0.50 * (double)n_lat)] : 0;
    double p99 = n_lat ? lat[(size_t)(0.99 * (double)n_lat)] : 0;
    printf("n=%zu ok=%zu p50_ms=%.3f p99_ms=%.3f rps=%.1f bytes=%zu\n", n_lat, n_ok, p50, p99,
           (double)n_lat / elapsed, last_bytes);
    return 0;
}
