/*
 * mllp_tls_client.c: MLLP over TLS, the sending side, for `vigil replay
 * --tls-ca` (include/vigil/server.h). It lives beside the listener's side
 * (mllp_tls.c) so that GnuTLS stays inside src/server/ and both ends use one
 * priority string (TLS 1.2 and 1.3 only).
 *
 * The listener's certificate must chain to the CAs given and name the host
 * (gnutls_session_set_verify_cert: the handshake fails otherwise); an
 * optional client certificate and key are presented to a listener that asks
 * for one (mutual TLS). The handshake blocks (with a timeout): a sender
 * needs its connection before it can do anything; the records then go
 * through the caller's non-blocking loop.
 *
 * Does not: revocation (no CRL/OCSP), session resumption, SNI, or retry a
 * failed handshake (a certificate that does not fit will not fit next time).
 * Invariants: a vigil_tls_client is read-only once open and outlives every
 * vigil_tls_conn made from it; a vigil_tls_conn belongs to one thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"

struct vigil_tls_client {
    gnutls_certificate_credentials_t cred;
};

struct vigil_tls_conn {
    gnutls_session_t s;
};

void vigil_server_tls_client_close(vigil_tls_client *c)
{
    if (c == NULL) {
        return;
    }
    if (c->cred != NULL) {
        gnutls_certificate_free_credentials(c->cred);
    }
    free(c);
}

vigil_status vigil_server_tls_client_open(const char *ca_file, const char *cert_file,
                                          const char *key_file, vigil_tls_client **out,
                                          vigil_err *err)
{
    *out = NULL;
    if (ca_file == NULL || (cert_file == NULL) != (key_file == NULL)) {
        return vigil_err_set(
            err, VIGIL_ERR_ARG, "tls_ca",
            "MLLP TLS client: a CA file, and a certificate with its key or neither");
    }
    vigil_tls_client *c = calloc(1, sizeof *c);
    if (c == NULL || gnutls_certificate_allocate_credentials(&c->cred) < 0) {
        vigil_server_tls_client_close(c);
        return vigil_err_set(err, VIGIL_ERR_NOMEM, "tls_ca", "MLLP TLS client: out of memory");
    }
    int n = gnutls_certificate_set_x509_trust_file(c->cred, ca_file, GNUTLS_X509_FMT_PEM);
    if (n <= 0) {
        vigil_server_tls_client_close(c);
        return vigil_err_set(err, VIGIL_ERR_ARG, "tls_ca", "MLLP TLS client: CA file %s: %s",
                             ca_file, n == 0 ? "no certificate in it" : gnutls_strerror(n));
    }
    if (cert_file != NULL) {
        int rc =
            gnutls_certificate_set_x509_key_file(c->cred, cert_file, key_file, GNUTLS_X509_FMT_PEM);
        if (rc < 0) {
            vigil_server_tls_client_close(c);
            return vigil_err_set(err, VIGIL_ERR_ARG, "tls_cert",
                                 "MLLP TLS client: certificate %s with key %s: %s", cert_file,
                                 key_file, gnutls_strerror(rc));
        }
    }
    *out = c;
    return VIGIL_OK;
}

vigil_status vigil_server_tls_connect(const vigil_tls_client *c, int fd, const char *host,
                                      int timeout_ms, vigil_tls_conn **out, vigil_err *err)
{
    *out = NULL;
    vigil_tls_conn *t = calloc(1, sizeof *t);
    if (t == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, "tls", "MLLP TLS client: out of memory");
    }
    int rc = gnutls_init(&t->s, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL);
    if (rc >= 0) {
        rc = gnutls_priority_set_direct(t->s, VIGIL_SERVER_MLLP_TLS_PRIORITY, NULL);
    }
    if (rc >= 0) {
        rc = gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, c->cred);
    }
    if (rc >= 0) {
        gnutls_session_set_verify_cert(t->s, host, 0);
        gnutls_transport_set_int(t->s, fd);
        gnutls_handshake_set_timeout(t->s, timeout_ms > 0 ? (unsigned)timeout_ms : 0);
        do {
            rc = gnutls_handshake(t->s);
        } while (rc < 0 && gnutls_error_is_fatal(rc) == 0);
    }
    if (rc < 0) {
        vigil_server_tls_end(t, false);
        return vigil_err_set(err, VIGIL_ERR_IO, "tls", "TLS handshake with %s failed: %s", host,
                             gnutls_strerror(rc));
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        int e = errno;
        vigil_server_tls_end(t, false);
        return vigil_err_set(err, VIGIL_ERR_IO, "tls", "MLLP TLS client: %s", strerror(e));
    }
    *out = t;
    return VIGIL_OK;
}

ssize_t vigil_server_tls_recv(vigil_tls_conn *t, char *buf, size_t cap)
{
    ssize_t n;
    do {
        n = gnutls_record_recv(t->s, buf, cap);
    } while (n == GNUTLS_E_INTERRUPTED);
    if (n >= 0) {
        return n;
    }
    errno = n == GNUTLS_E_AGAIN ? EAGAIN : EPROTO;
    return -1;
}

ssize_t vigil_server_tls_send(vigil_tls_conn *t, const char *buf, size_t n)
{
    ssize_t w;
    do {
        w = gnutls_record_send(t->s, buf, n);
    } while (w == GNUTLS_E_INTERRUPTED);
    if (w >= 0) {
        return w;
    }
    errno = w == GNUTLS_E_AGAIN ? EAGAIN : EPIPE;
    return -1;
}

void vigil_server_tls_end(vigil_tls_conn *t, bool bye)
{
    if (t == NULL) {
        return;
    }
    if (t->s != NULL) {
        if (bye) {
            gnutls_bye(t->s, GNUTLS_SHUT_WR);
        }
        gnutls_deinit(t->s);
    }
    free(t);
}
