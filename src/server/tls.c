/*
 * tls.c: the HTTPS certificate and key for the HTTP daemon, read from the
 * PEM files the configuration names (libmicrohttpd takes them from memory,
 * through GnuTLS). The key's memory is wiped before it is freed; a key file
 * that other users may read is logged, since anyone who can read it can
 * impersonate the ward service.
 *
 * Does not: parse or check the PEM itself (GnuTLS does, when the daemon
 * starts: a bad pair stops vigil_server_start with a reason). MLLP over TLS
 * is mllp_tls.c (it reads its PEM files with vigil__srv_pem_read).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "server_int.h"

#define PEM_MAX (256 * 1024)

vigil_status vigil__srv_pem_read(const char *path, const char *what, char **out, vigil_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return vigil_err_set(err, VIGIL_ERR_IO, what, "cannot read %s: %s", path, strerror(errno));
    }
    char *buf = malloc(PEM_MAX + 1);
    size_t n = buf != NULL ? fread(buf, 1, PEM_MAX + 1, f) : 0;
    bool read_err = ferror(f) != 0;
    fclose(f);
    if (buf == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, what, "out of memory");
    }
    vigil_status s = VIGIL_OK;
    if (read_err) {
        s = vigil_err_set(err, VIGIL_ERR_IO, what, "cannot read %s", path);
    } else if (n > PEM_MAX) {
        s = vigil_err_set(err, VIGIL_ERR_ARG, what, "%s is larger than %d bytes: not a PEM file",
                          path, PEM_MAX);
    } else {
        buf[n] = '\0';
        if (strstr(buf, "-----BEGIN ") == NULL) {
            s = vigil_err_set(err, VIGIL_ERR_PARSE, what, "%s holds no PEM block", path);
        }
    }
    if (s != VIGIL_OK) {
        memset(buf, 0, n < PEM_MAX ? n : PEM_MAX);
        free(buf);
        return s;
    }
    *out = buf;
    return VIGIL_OK;
}

vigil_status vigil__srv_tls_load(vigil_server *srv, vigil_err *err)
{
    const char *cert = srv->cfg.tls_cert_file, *key = srv->cfg.tls_key_file;
    if (cert == NULL && key == NULL) {
        return VIGIL_OK;
    }
    if (cert == NULL || key == NULL || cert[0] == '\0' || key[0] == '\0') {
        return vigil_err_set(err, VIGIL_ERR_ARG, "tls",
                             "HTTPS needs both a certificate file and its key file");
    }
    vigil_status s = vigil__srv_pem_read(cert, "tls_cert", &srv->tls.cert, err);
    if (s == VIGIL_OK) {
        s = vigil__srv_pem_read(key, "tls_key", &srv->tls.key, err);
    }
    if (s != VIGIL_OK) {
        vigil__srv_tls_free(srv);
        return s;
    }
    struct stat st;
    if (stat(key, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        vigil__srv_log(srv, "tls.warning",
                       "the key file %s can be read by other users (mode %03o); chmod 600 it", key,
                       (unsigned)(st.st_mode & 0777));
    }
    return VIGIL_OK;
}

void vigil__srv_tls_free(vigil_server *srv)
{
    if (srv->tls.key != NULL) {
        memset(srv->tls.key, 0, strlen(srv->tls.key));
        free(srv->tls.key);
        srv->tls.key = NULL;
    }
    free(srv->tls.cert);
    srv->tls.cert = NULL;
}
