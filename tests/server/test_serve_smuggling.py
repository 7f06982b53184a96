"""test_serve_smuggling.py: HTTP request smuggling and framing (issue 12
finding 11) through a live `vigil serve`, with the exact bytes an attacker
behind a proxy would send on a raw socket.

Checks: a request whose body length is ambiguous is refused 400 and the
connection closed, so no smuggled second request is ever read: two
Content-Length headers (equal or not), Content-Length with
Transfer-Encoding, a header name with white space before the colon
(`Content-Length : 5`), and any Transfer-Encoding other than exactly
`chunked` (each answered at once, not at the 30 s connection timeout); an
oversize chunked body is answered 413 (not a dropped connection); a small
chunked body and a plain Content-Length body still work.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server  # noqa: E402

C = Checks()
SMUGGLED = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"


def raw(s, data, timeout=10):
    """Send data on a fresh connection; read until the server closes or the
    timeout. (status or None, everything read, closed by the server, seconds)."""
    c = socket.create_connection(("127.0.0.1", s.http_port), timeout=timeout)
    t0 = time.time()
    c.sendall(data)
    got, closed = b"", False
    try:
        while True:
            d = c.recv(65536)
            if not d:
                closed = True
                break
            got += d
    except (socket.timeout, ConnectionResetError) as e:
        closed = isinstance(e, ConnectionResetError)
    c.close()
    status = None
    if got.startswith(b"HTTP/1."):
        status = int(got.split(b" ", 2)[1])
    return status, got, closed, time.time() - t0


N_USERS = [0]


def login_body():
    """A sign-in as a user who does not exist (401 when read), a new name each
    time so the sign-in throttle never answers instead."""
    N_USERS[0] += 1
    return b'{"username":"nobody%d","password":"wrong-password"}' % N_USERS[0]


def chunked(body):
    return b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"


def post(headers, body):
    head = b"POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    return head + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body


def ambiguous_lengths_are_refused_400_and_the_connection_closed(s):
    b = login_body()
    n = len(b)
    cases = [
        ([b"Content-Length: %d" % n, b"Content-Length: %d" % n], b, "two equal Content-Length"),
        ([b"Content-Length: %d" % n, b"Content-Length: 400"], b, "two different Content-Length"),
        ([b"Content-Length: %d,%d" % (n, n)], b, "a Content-Length list"),
        ([b"Content-Length: +%d" % n], b, "a signed Content-Length"),
        ([b"Content-Length: %d" % n, b"Transfer-Encoding: chunked"], chunked(b),
         "Content-Length with chunked"),
        ([b"Transfer-Encoding: chunked", b"Content-Length: %d" % n], chunked(b),
         "chunked with Content-Length"),
        ([b"Content-Length : %d" % n], b, "white space before the colon"),
        ([b"Content-Length\t: %d" % n], b, "a tab before the colon"),
        ([b"Transfer-Encoding : chunked"], chunked(b),
         "white space before the colon of Transfer-Encoding"),
    ]
    for headers, body, what in cases:
        st, got, closed, secs = raw(s, post(headers, body) + SMUGGLED)
        C.check(st == 400, "%s: 400 (got %s: %r)" % (what, st, got[:80]))
        C.check(closed and secs < 5, "%s: the connection is closed at once (closed %s, %.1f s)"
                % (what, closed, secs))
        C.check(b"HTTP/1.1 200" not in got, "%s: the smuggled request is never answered" % what)


def odd_transfer_encodings_are_refused_at_once(s):
    for te in (b"gzip", b"identity", b"chunked, identity", b"gzip, chunked", b"chunked, chunked",
               b"xchunked", b"chunked;x=1"):
        st, got, closed, secs = raw(s, post([b"Transfer-Encoding: " + te],
                                            chunked(login_body())) + SMUGGLED, timeout=20)
        C.check(st == 400 and closed and secs < 5 and b"HTTP/1.1 200" not in got,
                "Transfer-Encoding: %s: 400 and closed at once (got %s, closed %s, %.1f s)"
                % (te.decode(), st, closed, secs))


def an_oversize_chunked_body_is_answered_413(s):
    chunk = b"x" * 8192
    body = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(12)) + b"0\r\n\r\n"
    st, got, closed, secs = raw(s, post([b"Transfer-Encoding: chunked"], body), timeout=20)
    C.check(st == 413 and b"too-large" in got,
            "a 96 KiB chunked body to the API: 413 (got %s: %r)" % (st, got[:120]))
    # a body that keeps coming: read (and thrown away) up to the limit again,
    # then the connection is closed; never read for ever
    c = socket.create_connection(("127.0.0.1", s.http_port), timeout=20)
    c.sendall(post([b"Transfer-Encoding: chunked"], b""))
    sent, t0, cut = 0, time.time(), False
    try:
        while sent < 8 * 1024 * 1024:
            c.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            sent += len(chunk)
    except OSError:
        cut = True
    c.close()
    C.check(cut and sent <= 4 * 1024 * 1024 and time.time() - t0 < 10,
            "a chunked body that never ends is cut off (after %d bytes, %.1f s)"
            % (sent, time.time() - t0))


def well_framed_bodies_still_work(s):
    login = login_body()
    for what, headers, body in (
            ("Content-Length", [b"Content-Length: %d" % len(login)], login),
            ("chunked", [b"Transfer-Encoding: chunked"], chunked(login_body())),
            ("Chunked in another case", [b"Transfer-Encoding: Chunked"], chunked(login_body()))):
        st, got, _, _ = raw(s, post(headers + [b"Connection: close"], body))
        C.check(st == 401, "a well-framed %s body is read (401 for a wrong password; got %s %r)"
                % (what, st, got[:80]))
    st, got, _, _ = raw(s, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" + SMUGGLED.replace(
        b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
    C.check(st == 200 and got.count(b"HTTP/1.1 200") == 2,
            "two pipelined well-framed requests are both answered")


with Server() as srv:
    ambiguous_lengths_are_refused_400_and_the_connection_closed(srv)
    odd_transfer_encodings_are_refused_at_once(srv)
    an_oversize_chunked_body_is_answered_413(srv)
    well_framed_bodies_still_work(srv)
C.done()
