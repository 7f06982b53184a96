/*
 * framing.c: is a request's body length unambiguous? (issue 12, finding 11:
 * request smuggling.) A proxy in front of vigil and libmicrohttpd must never
 * disagree on where one request ends and the next begins, so a request is
 * refused (400, connection closed; http.c) when its headers allow two
 * readings:
 *  - a header name that is not an RFC 9110 token (white space before the
 *    colon: "Content-Length : 5", which one parser ignores and another
 *    trims);
 *  - more than one Content-Length, even equal ones, or one that is not
 *    plain decimal digits ("+5", "5,5", "0x5");
 *  - Transfer-Encoding together with Content-Length;
 *  - Transfer-Encoding other than exactly "chunked" (any case), or more
 *    than one Transfer-Encoding header (libmicrohttpd would otherwise read
 *    a body of unknown length to the connection's timeout).
 *
 * Does not: look at sockets or libmicrohttpd (http.c feeds it each header
 * in turn), allocate, or keep state beyond the caller's srv_framing.
 * Spec: RFC 9112 section 6.3 (message body length), RFC 9110 5.6.2 (token).
 */
#include <string.h>
#include <strings.h>

#include "server_int.h"

/* RFC 9110 tchar: "!#$%&'*+-.^_`|~", digits and letters. */
static bool is_tchar(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static bool is_token(const char *s)
{
    if (s == NULL || s[0] == '\0') {
        return false;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (!is_tchar(*p)) {
            return false;
        }
    }
    return true;
}

/* 1 to 18 decimal digits (a length beyond that is refused as not plain). */
static bool is_length(const char *s)
{
    size_t n = s != NULL ? strspn(s, "0123456789") : 0;
    return n > 0 && n <= 18 && s[n] == '\0';
}

void vigil__srv_framing_add(srv_framing *f, const char *key, const char *value)
{
    if (!is_token(key)) {
        f->bad_name = true;
        return;
    }
    if (strcasecmp(key, "Content-Length") == 0) {
        f->n_length++;
        f->bad_length = f->bad_length || !is_length(value);
    } else if (strcasecmp(key, "Transfer-Encoding") == 0) {
        f->n_coding++;
        f->bad_coding = f->bad_coding || value == NULL || strcasecmp(value, "chunked") != 0;
    }
}

const char *vigil__srv_framing_fault(const srv_framing *f)
{
    if (f->bad_name) {
        return "a header name is not a token (white space before the colon?)";
    }
    if (f->n_length > 1) {
        return "more than one Content-Length";
    }
    if (f->bad_length) {
        return "Content-Length is not a plain decimal number";
    }
    if (f->n_length > 0 && f->n_coding > 0) {
        return "Content-Length together with Transfer-Encoding";
    }
    if (f->n_coding > 1 || f->bad_coding) {
        return "Transfer-Encoding other than exactly 'chunked'";
    }
    return NULL;
}
