/*
 * senders.c: who may send HL7 over MLLP (issue 12, finding 4): the peer
 * address allowlist (cfg.mllp_allow: addresses and CIDR blocks, IPv4 and
 * IPv6) and the sending application and facility list (cfg.hl7_senders:
 * "APP/FAC" against MSH-3.1 and MSH-4.1).
 *
 * Does not: authenticate anyone. An address and an MSH-3/MSH-4 pair can be
 * spoofed by a host on the same network segment; they keep out the hosts
 * that have no business sending (a misconfigured engine, a test box, a
 * scanner) and say who sent what in the audit trail. Strong sender identity
 * needs MLLP over TLS with client certificates (mllp_tls.c); an entry
 * "APP/FAC|SUBJECT" binds the pair to one certificate subject, so a trusted
 * certificate cannot send as another system (REQ SERVER-HL7-SENDER-CERT).
 *
 * Invariants: both lists are read once at open (vigil__srv_senders_load)
 * and never change; the listener thread reads them without locks.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"
#include "vigil/util.h"

vigil_status vigil__srv_cidr_parse(const char *s, srv_cidr *out)
{
    char buf[64];
    if (s == NULL || strlen(s) >= sizeof buf || s[0] == '\0') {
        return VIGIL_ERR_ARG;
    }
    memcpy(buf, s, strlen(s) + 1);
    char *slash = strchr(buf, '/');
    long prefix = -1;
    if (slash != NULL) {
        *slash = '\0';
        if (vigil_parse_long(slash + 1, 0, 128, &prefix) != VIGIL_OK) {
            return VIGIL_ERR_ARG;
        }
    }
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
        if (prefix > 32) {
            return VIGIL_ERR_ARG;
        }
        out->prefix = prefix < 0 ? 32u : (unsigned)prefix;
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = AF_INET6;
        out->prefix = prefix < 0 ? 128u : (unsigned)prefix;
    } else {
        return VIGIL_ERR_ARG;
    }
    return VIGIL_OK;
}

/* The first `bits` bits of a and b are equal. */
static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    size_t whole = bits / 8;
    if (memcmp(a, b, whole) != 0) {
        return false;
    }
    unsigned rest = bits % 8;
    if (rest == 0) {
        return true;
    }
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

bool vigil__srv_cidr_match(const srv_cidr *c, const struct sockaddr *sa)
{
    if (c == NULL || sa == NULL) {
        return false;
    }
    const uint8_t *peer = NULL;
    int family = sa->sa_family;
    if (family == AF_INET) {
        peer = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    } else if (family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        peer = a6->s6_addr;
        if (c->family == AF_INET && IN6_IS_ADDR_V4MAPPED(a6)) {
            peer = a6->s6_addr + 12; /* ::ffff:a.b.c.d against an IPv4 block */
            family = AF_INET;
        }
    } else {
        return false;
    }
    return family == c->family && prefix_eq(peer, c->addr, c->prefix);
}

/* The first component of a raw HD (up to comp) equals want[0..n). */
static bool first_comp_is(const char *hd, char comp, const char *want, size_t n)
{
    if (n == 1 && want[0] == '*') {
        return true;
    }
    size_t len = strcspn(hd, (char[]){comp, '\0'});
    return len == n && memcmp(hd, want, n) == 0;
}

bool vigil__srv_sender_match(const char *entry, const char *app, const char *fac, char comp)
{
    const char *slash = strchr(entry, '/');
    if (slash == NULL) {
        return false;
    }
    size_t fac_n = strcspn(slash + 1, "|"); /* "|SUBJECT" binds a certificate: not the facility */
    return first_comp_is(app, comp, entry, (size_t)(slash - entry)) &&
           first_comp_is(fac, comp, slash + 1, fac_n);
}

/* REQ SERVER-HL7-SENDER-CERT: an entry "APP/FAC|SUBJECT" holds only for a
 * connection whose verified client certificate subject is SUBJECT; an entry
 * without one holds for any connection. */
static bool subject_ok(const char *entry, const char *subject)
{
    const char *bar = strchr(entry, '|');
    if (bar == NULL) {
        return true;
    }
    return subject != NULL && subject[0] != '\0' && strcmp(bar + 1, subject) == 0;
}

/* "APP/FAC" or "APP/FAC|SUBJECT": one slash, both parts non-empty, a
 * non-empty subject after the bar. */
static bool sender_entry_ok(const char *e)
{
    if (e == NULL) {
        return false;
    }
    const char *bar = strchr(e, '|');
    size_t pair_n = bar != NULL ? (size_t)(bar - e) : strlen(e);
    const char *slash = memchr(e, '/', pair_n);
    if (slash == NULL || slash == e || (size_t)(slash - e) + 1 >= pair_n ||
        memchr(slash + 1, '/', pair_n - (size_t)(slash - e) - 1) != NULL ||
        pair_n > 2 * VIGIL_HL7_HDR_MAX) {
        return false;
    }
    return bar == NULL || (bar[1] != '\0' && strlen(bar + 1) <= 255);
}

vigil_status vigil__srv_senders_load(vigil_server *srv, vigil_err *err)
{
    const vigil_server_config *c = &srv->cfg;
    if ((c->n_mllp_allow > 0 && c->mllp_allow == NULL) ||
        (c->n_hl7_senders > 0 && c->hl7_senders == NULL)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "mllp_allow", "a list count without its list");
    }
    if (c->n_mllp_allow > 0) {
        srv->allow = calloc(c->n_mllp_allow, sizeof *srv->allow);
        if (srv->allow == NULL) {
            return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
        }
        for (size_t k = 0; k < c->n_mllp_allow; k++) {
            if (vigil__srv_cidr_parse(c->mllp_allow[k], &srv->allow[k]) != VIGIL_OK) {
                return vigil_err_set(err, VIGIL_ERR_ARG, "mllp_allow",
                                     "'%s' is not an IP address or CIDR block", c->mllp_allow[k]);
            }
            srv->n_allow++;
        }
    }
    if (c->n_hl7_senders > 0) {
        srv->senders = calloc(c->n_hl7_senders, sizeof *srv->senders);
        if (srv->senders == NULL) {
            return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
        }
        for (size_t k = 0; k < c->n_hl7_senders; k++) {
            const char *e = c->hl7_senders[k];
            if (!sender_entry_ok(e)) {
                return vigil_err_set(err, VIGIL_ERR_ARG, "hl7_senders",
                                     "'%s' is not APP/FAC or APP/FAC|CERTIFICATE-SUBJECT (MSH-3 and "
                                     "MSH-4; * for any)",
                                     e != NULL ? e : "");
            }
            size_t n = strlen(e);
            srv->senders[k] = malloc(n + 1);
            if (srv->senders[k] == NULL) {
                return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
            }
            memcpy(srv->senders[k], e, n + 1);
            srv->n_senders++;
        }
    }
    /* borrowed during open only */
    srv->cfg.mllp_allow = NULL;
    srv->cfg.hl7_senders = NULL;
    return VIGIL_OK;
}

void vigil__srv_senders_free(vigil_server *srv)
{
    for (size_t k = 0; k < srv->n_senders; k++) {
        free(srv->senders[k]);
    }
    free(srv->senders);
    free(srv->allow);
    srv->senders = NULL;
    srv->allow = NULL;
    srv->n_senders = srv->n_allow = 0;
}

bool vigil__srv_peer_allowed(const vigil_server *srv, const struct sockaddr *sa)
{
    if (srv->n_allow == 0) {
        return true;
    }
    for (size_t k = 0; k < srv->n_allow; k++) {
        if (vigil__srv_cidr_match(&srv->allow[k], sa)) {
            return true;
        }
    }
    return false;
}

bool vigil__srv_sender_allowed(const vigil_server *srv, const vigil_hl7_header *h,
                               const char *subject)
{
    if (srv->n_senders == 0) {
        return true;
    }
    for (size_t k = 0; k < srv->n_senders; k++) {
        if (vigil__srv_sender_match(srv->senders[k], h->sending_app, h->sending_fac,
                                    h->seps.comp) &&
            subject_ok(srv->senders[k], subject)) {
            return true;
        }
    }
    return false;
}
