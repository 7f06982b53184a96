/*
 * mllp_tls.c: MLLP over TLS (GnuTLS) for the listener (listener.c). At open
 * it reads the certificate, key and optional CA named by cfg.mllp_tls_*
 * into one credentials set (the key's PEM text is wiped once GnuTLS has
 * parsed it); a bad file or a key that does not match the certificate stops
 * vigil_server_open with the reason. Per connection it wraps GnuTLS's
 * non-blocking session so that the listener's one epoll loop can drive the
 * handshake and the records: every call returns at once, saying whether it
 * needs the socket readable or writable.
 *
 * Mutual TLS: with a CA, each client must present a certificate that chains
 * to it (GNUTLS_CERT_REQUIRE and the verification inside the handshake); a
 * client without one, or with another, fails the handshake and nothing it
 * sends is read. The verified subject (RFC 4514 DN) is handed to the
 * listener, which writes it in the audit reason beside the peer address.
 * Without a CA, no client certificate is asked for (encryption only).
 *
 * Versions: TLS 1.2 and 1.3 only (the priority string below).
 *
 * Revocation: with a CRL file (cfg.mllp_tls_crl_file, PEM, the CA's
 * lists), a client certificate it names as revoked fails the handshake's
 * verification (GnuTLS checks the credentials' CRLs there) as one another
 * CA issued does (REQ SERVER-MLLP-TLS-CRL). Read at open: a new list takes
 * effect when the server is started again.
 *
 * Does not: check the subject against a list itself (senders.c does, for
 * an --hl7-sender entry bound to a subject: REQ SERVER-HL7-SENDER-CERT),
 * OCSP, reload a CRL while running, or session resumption.
 * Invariants: sessions are touched only by the listener thread; the
 * credentials are read-only once loaded and outlive every session.
 */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "server_int.h"

struct srv_mllp_tls {
    gnutls_certificate_credentials_t cred;
    gnutls_priority_t prio;
    bool require_cert; /* a CA was given: mutual TLS */
};

struct srv_tls_conn {
    gnutls_session_t s;
    size_t send_pending; /* bytes of a record_send that returned AGAIN (retried with NULL, 0) */
};

static vigil_status gnutls_fail(vigil_err *err, const char *field, const char *what,
                                const char *path, int rc)
{
    return vigil_err_set(err, VIGIL_ERR_ARG, field, "MLLP TLS: %s %s: %s", what,
                         path != NULL ? path : "", gnutls_strerror(rc));
}

void vigil__srv_mllp_tls_free(srv_mllp_tls *t)
{
    if (t == NULL) {
        return;
    }
    if (t->prio != NULL) {
        gnutls_priority_deinit(t->prio);
    }
    if (t->cred != NULL) {
        gnutls_certificate_free_credentials(t->cred);
    }
    free(t);
}

/* The key file's text, wiped and freed by the caller with wipe_free. */
static void wipe_free(char *p)
{
    if (p != NULL) {
        memset(p, 0, strlen(p));
        free(p);
    }
}

static vigil_status load_pair(srv_mllp_tls *t, const char *cert, const char *key, vigil_err *err)
{
    char *cert_pem = NULL, *key_pem = NULL;
    vigil_status s = vigil__srv_pem_read(cert, "mllp_tls_cert", &cert_pem, err);
    if (s == VIGIL_OK) {
        s = vigil__srv_pem_read(key, "mllp_tls_key", &key_pem, err);
    }
    if (s == VIGIL_OK) {
        gnutls_datum_t c = {(unsigned char *)cert_pem, (unsigned)strlen(cert_pem)};
        gnutls_datum_t k = {(unsigned char *)key_pem, (unsigned)strlen(key_pem)};
        /* checks that the key is the certificate's (GNUTLS_E_CERTIFICATE_KEY_MISMATCH) */
        int rc =
            gnutls_certificate_set_x509_key_mem2(t->cred, &c, &k, GNUTLS_X509_FMT_PEM, NULL, 0);
        if (rc < 0) {
            s = gnutls_fail(err, "mllp_tls_cert", "cannot use the certificate and key", cert, rc);
        }
    }
    free(cert_pem);
    wipe_free(key_pem);
    return s;
}

static vigil_status load_ca(srv_mllp_tls *t, const char *ca, vigil_err *err)
{
    char *pem = NULL;
    vigil_status s = vigil__srv_pem_read(ca, "mllp_tls_ca", &pem, err);
    if (s != VIGIL_OK) {
        return s;
    }
    gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
    int rc = gnutls_certificate_set_x509_trust_mem(t->cred, &d, GNUTLS_X509_FMT_PEM);
    free(pem);
    if (rc < 0) {
        return gnutls_fail(err, "mllp_tls_ca", "cannot read the CA certificates in", ca, rc);
    }
    if (rc == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "mllp_tls_ca",
                             "MLLP TLS: %s holds no CA certificate", ca);
    }
    t->require_cert = true;
    return VIGIL_OK;
}

static vigil_status load_crl(srv_mllp_tls *t, const char *crl, vigil_err *err)
{
    char *pem = NULL;
    vigil_status s = vigil__srv_pem_read(crl, "mllp_tls_crl", &pem, err);
    if (s != VIGIL_OK) {
        return s;
    }
    gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
    int rc = gnutls_certificate_set_x509_crl_mem(t->cred, &d, GNUTLS_X509_FMT_PEM);
    free(pem);
    if (rc < 0) {
        return gnutls_fail(err, "mllp_tls_crl", "cannot read the revocation lists in", crl, rc);
    }
    if (rc == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "mllp_tls_crl",
                             "MLLP TLS: %s holds no certificate revocation list", crl);
    }
    return VIGIL_OK;
}

vigil_status vigil__srv_mllp_tls_load(vigil_server *srv, vigil_err *err)
{
    const vigil_server_config *cfg = &srv->cfg;
    const char *cert = cfg->mllp_tls_cert_file, *key = cfg->mllp_tls_key_file;
    const char *ca = cfg->mllp_tls_ca_file, *crl = cfg->mllp_tls_crl_file;
    if (cert == NULL && key == NULL && ca == NULL && crl == NULL) {
        return VIGIL_OK;
    }
    if (crl != NULL && ca == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "mllp_tls_crl",
                             "MLLP TLS: a revocation list needs the CA it belongs to "
                             "(mllp_tls_ca_file)");
    }
    if (cert == NULL || key == NULL || cert[0] == '\0' || key[0] == '\0') {
        return vigil_err_set(err, VIGIL_ERR_ARG, "mllp_tls",
                             "MLLP over TLS needs both a certificate file and its key file");
    }
    srv_mllp_tls *t = calloc(1, sizeof *t);
    if (t == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, "mllp_tls", "out of memory");
    }
    vigil_status s = VIGIL_OK;
    int rc = gnutls_certificate_allocate_credentials(&t->cred);
    if (rc < 0) {
        t->cred = NULL;
        s = gnutls_fail(err, "mllp_tls", "credentials", NULL, rc);
    }
    if (s == VIGIL_OK) {
        s = load_pair(t, cert, key, err);
    }
    if (s == VIGIL_OK && ca != NULL) {
        s = load_ca(t, ca, err);
    }
    if (s == VIGIL_OK && crl != NULL) {
        s = load_crl(t, crl, err);
    }
    if (s == VIGIL_OK) {
        rc = gnutls_priority_init(&t->prio, VIGIL_SERVER_MLLP_TLS_PRIORITY, NULL);
        if (rc < 0) {
            t->prio = NULL;
            s = gnutls_fail(err, "mllp_tls", "priority", VIGIL_SERVER_MLLP_TLS_PRIORITY, rc);
        }
    }
    if (s != VIGIL_OK) {
        vigil__srv_mllp_tls_free(t);
        return s;
    }
    struct stat st;
    if (stat(key, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        vigil__srv_log(srv, "tls.warning",
                       "the MLLP key file %s can be read by other users (mode %03o); chmod 600 it",
                       key, (unsigned)(st.st_mode & 0777));
    }
    srv->mllp_tls = t;
    return VIGIL_OK;
}

bool vigil__srv_mllp_tls_requires_cert(const srv_mllp_tls *t)
{
    return t != NULL && t->require_cert;
}

srv_tls_conn *vigil__srv_tls_conn_new(const srv_mllp_tls *t, int fd)
{
    srv_tls_conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return NULL;
    }
    if (gnutls_init(&c->s, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0) {
        free(c);
        return NULL;
    }
    if (gnutls_priority_set(c->s, t->prio) < 0 ||
        gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE, t->cred) < 0) {
        gnutls_deinit(c->s);
        free(c);
        return NULL;
    }
    if (t->require_cert) {
        gnutls_certificate_server_set_request(c->s, GNUTLS_CERT_REQUIRE);
        gnutls_session_set_verify_cert(c->s, NULL, 0); /* chain to the CA, in the handshake */
    }
    gnutls_handshake_set_timeout(c->s, 0); /* the listener's idle sweep times it out */
    gnutls_transport_set_int(c->s, fd);
    return c;
}

void vigil__srv_tls_conn_free(srv_tls_conn *c)
{
    if (c == NULL) {
        return;
    }
    gnutls_deinit(c->s);
    free(c);
}

void vigil__srv_tls_conn_bye(srv_tls_conn *c)
{
    if (c != NULL) {
        (void)gnutls_bye(c->s, GNUTLS_SHUT_WR); /* best effort: non-blocking, once */
    }
}

/* The verified peer certificate's subject into out ("" when none). */
static bool peer_subject(gnutls_session_t s, char *out, size_t cap)
{
    out[0] = '\0';
    unsigned n = 0;
    const gnutls_datum_t *chain = gnutls_certificate_get_peers(s, &n);
    if (chain == NULL || n == 0) {
        return false;
    }
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) < 0) {
        return false;
    }
    bool ok = false;
    gnutls_datum_t dn = {NULL, 0};
    if (gnutls_x509_crt_import(crt, &chain[0], GNUTLS_X509_FMT_DER) >= 0 &&
        gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0) {
        /* printable text only: it goes into the audit reason and the log */
        size_t k = 0;
        for (unsigned i = 0; i < dn.size && k + 1 < cap; i++) {
            unsigned char ch = dn.data[i];
            out[k++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
        }
        out[k] = '\0';
        ok = true;
    }
    gnutls_free(dn.data);
    gnutls_x509_crt_deinit(crt);
    return ok;
}

srv_tls_step vigil__srv_tls_handshake(srv_tls_conn *c, bool require_cert, char *subject, size_t cap,
                                      char *why, size_t why_cap)
{
    subject[0] = '\0';
    why[0] = '\0';
    int rc;
    do {
        rc = gnutls_handshake(c->s);
    } while (rc == GNUTLS_E_INTERRUPTED);
    if (rc == GNUTLS_E_AGAIN) {
        return gnutls_record_get_direction(c->s) == 1 ? SRV_TLS_WANT_WRITE : SRV_TLS_WANT_READ;
    }
    if (rc < 0) {
        if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
            gnutls_datum_t txt = {NULL, 0};
            unsigned st = gnutls_session_get_verify_cert_status(c->s);
            if (gnutls_certificate_verification_status_print(st, GNUTLS_CRT_X509, &txt, 0) >= 0) {
                snprintf(why, why_cap, "client certificate refused: %s", (const char *)txt.data);
            }
            gnutls_free(txt.data);
        }
        if (why[0] == '\0') {
            snprintf(why, why_cap, "handshake failed: %s", gnutls_strerror(rc));
        }
        return SRV_TLS_FAILED;
    }
    if (require_cert) {
        /* the handshake verified the chain; say so again, explicitly, before any record */
        unsigned st = 1;
        if (gnutls_certificate_type_get(c->s) != GNUTLS_CRT_X509 ||
            gnutls_certificate_verify_peers3(c->s, NULL, &st) < 0 || st != 0 ||
            !peer_subject(c->s, subject, cap)) {
            snprintf(why, why_cap, "no verified client certificate");
            return SRV_TLS_FAILED;
        }
    }
    return SRV_TLS_DONE;
}

ssize_t vigil__srv_tls_recv(srv_tls_conn *c, char *buf, size_t cap)
{
    ssize_t n;
    do {
        n = gnutls_record_recv(c->s, buf, cap);
    } while (n == GNUTLS_E_INTERRUPTED);
    if (n >= 0) {
        return n;
    }
    if (n == GNUTLS_E_AGAIN) {
        errno = EAGAIN;
        return -1;
    }
    if (n == GNUTLS_E_REHANDSHAKE) {
        errno = EAGAIN; /* TLS 1.2 renegotiation is not offered: ignore the request */
        return -1;
    }
    errno = EPROTO;
    return -1;
}

ssize_t vigil__srv_tls_send(srv_tls_conn *c, const char *buf, size_t n)
{
    ssize_t w;
    if (c->send_pending > 0) {
        /* a record already encrypted and partly sent: finish it first */
        do {
            w = gnutls_record_send(c->s, NULL, 0);
        } while (w == GNUTLS_E_INTERRUPTED);
        if (w >= 0) {
            w = (ssize_t)c->send_pending;
            c->send_pending = 0;
        }
    } else {
        size_t chunk = n < 16384 ? n : 16384;
        do {
            w = gnutls_record_send(c->s, buf, chunk);
        } while (w == GNUTLS_E_INTERRUPTED);
        if (w == GNUTLS_E_AGAIN) {
            c->send_pending = chunk;
        }
    }
    if (w >= 0) {
        return w;
    }
    errno = w == GNUTLS_E_AGAIN ? EAGAIN : EPIPE;
    return -1;
}

size_t vigil__srv_tls_pending(const srv_tls_conn *c)
{
    return gnutls_record_check_pending(c->s);
}
