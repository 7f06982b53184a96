"""test_serve_http_options.py: the HTTP limits of issue 12 as `vigil serve`
options, each checked by what it does, so each fails if the option were
parsed and then ignored (every value below differs from the default).

Checks: --http-conns-per-addr 3: three connections held open from one address
leave a fourth from it refused (closed without an answer) while another
address is served; --http-max-conns 5 (per address off): five held
connections leave a sixth refused, from any address, and a seventh is served
once they close; --http-threads 4 --signins-in-flight 3: three sign-ins sent
at the same instant all run (401, none refused), and with --signins-in-flight
1 the same three get at least one 503; out-of-range values are usage errors
(exit 2). A sign-in never holds an HTTP thread (argon2id runs on the sign-in
thread): with --http-threads 1, /health sent just after a sign-in is answered
before it, every time.
"""
import http.client
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server, vigil_bin  # noqa: E402

C = Checks()


def hold(port, n, src="127.0.0.1"):
    """n connections, each with a request started and never finished."""
    held = []
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(src, 0))
        c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        held.append(c)
    time.sleep(0.3)  # let the daemon accept them all
    return held


def health(port, src="127.0.0.1"):
    """The status of GET /health, or a string saying why there was none."""
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(src, 0))
        c.request("GET", "/health")
        st = c.getresponse().status
        c.close()
        return st
    except (OSError, http.client.HTTPException) as e:
        return "no answer (%s)" % type(e).__name__


def conns_per_addr_is_honoured():
    with Server(["--http-conns-per-addr", "3"]) as s:
        held = hold(s.http_port, 3)
        st = health(s.http_port)
        C.check(st != 200, "--http-conns-per-addr 3: a fourth connection from the address is "
                "refused (got %s)" % st)
        st = health(s.http_port, "127.0.0.2")
        C.check(st == 200, "another address is served meanwhile (got %s)" % st)
        for c in held:
            c.close()
        time.sleep(0.3)
        C.check(health(s.http_port) == 200, "once they close, the address is served again")


def max_conns_is_honoured():
    with Server(["--http-max-conns", "5", "--http-conns-per-addr", "0"]) as s:
        held = hold(s.http_port, 5)
        st = health(s.http_port, "127.0.0.3")
        C.check(st != 200, "--http-max-conns 5: a sixth connection is refused, even from "
                "another address (got %s)" % st)
        for c in held:
            c.close()
        time.sleep(0.3)
        st = health(s.http_port, "127.0.0.3")
        C.check(st == 200, "once they close, it is served (got %s)" % st)


def sign_ins_at_once(port, n, tag):
    """n bad sign-ins (different users, so no lock-out), released together."""
    socks, bodies = [], []
    for i in range(n):
        body = b'{"username":"%s%d","password":"wrong-password"}' % (tag.encode(), i)
        c = socket.create_connection(("127.0.0.1", port), timeout=30)
        c.sendall(b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:-1])
        socks.append(c)
        bodies.append(body)
    time.sleep(0.3)
    statuses = [None] * n

    def finish(i):
        socks[i].sendall(bodies[i][-1:])
        got = b""
        while True:
            d = socks[i].recv(65536)
            if not d:
                break
            got += d
        statuses[i] = int(got.split(b" ", 2)[1]) if got.startswith(b"HTTP/1.") else None
        socks[i].close()

    ts = [threading.Thread(target=finish, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    return statuses


def signins_in_flight_is_honoured():
    with Server(["--http-threads", "4", "--signins-in-flight", "3"]) as s:
        got = sign_ins_at_once(s.http_port, 3, "wide")
        C.check(got == [401, 401, 401], "--signins-in-flight 3: three sign-ins at once all run "
                "(got %s)" % got)
    with Server(["--http-threads", "4", "--signins-in-flight", "1"]) as s:
        got = sign_ins_at_once(s.http_port, 3, "narrow")
        C.check(503 in got and set(got) <= {401, 503},
                "--signins-in-flight 1: of three at once, the extra ones get 503 (got %s)" % got)


def out_of_range_values_are_usage_errors():
    for args in (["--http-max-conns", "0"], ["--http-max-conns", "5000"],
                 ["--http-conns-per-addr", "-1"], ["--signins-in-flight", "0"],
                 ["--http-threads", "0"], ["--http-threads", "65"]):
        r = subprocess.run([vigil_bin(), "serve", "--db", "/nonexistent/x.db", "--http-port", "0",
                            "--mllp-port", "0"] + args, capture_output=True, timeout=30)
        C.check(r.returncode == 2 and args[0].encode() in r.stderr,
                "%s: usage error naming the option (exit %s %r)"
                % (" ".join(args), r.returncode, r.stderr[-100:]))
    # two HTTP threads (the default) cannot leave one free with three sign-ins
    r = subprocess.run([vigil_bin(), "serve", "--db", "/nonexistent/x.db", "--http-port", "0",
                        "--mllp-port", "0", "--signins-in-flight", "3"],
                       capture_output=True, timeout=30)
    C.check(r.returncode != 0 and b"fewer than the HTTP threads" in r.stderr,
            "--signins-in-flight 3 with two HTTP threads is refused (%s %r)"
            % (r.returncode, r.stderr[-120:]))


def a_sign_in_never_holds_the_only_http_thread():
    with Server(["--http-threads", "1", "--signins-in-flight", "1"]) as s:
        order = []
        for i in range(5):
            done = {}
            body = b'{"username":"solo%d","password":"wrong-password"}' % i
            a = socket.create_connection(("127.0.0.1", s.http_port), timeout=30)
            h = socket.create_connection(("127.0.0.1", s.http_port), timeout=30)

            def answer(sock, name):
                got = b""
                while b"\r\n\r\n" not in got:
                    d = sock.recv(65536)
                    if not d:
                        break
                    got += d
                done[name] = (time.monotonic(), got[:12])

            ta = threading.Thread(target=answer, args=(a, "signin"))
            th = threading.Thread(target=answer, args=(h, "health"))
            ta.start()
            a.sendall(b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                      b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            time.sleep(0.01)
            th.start()
            h.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            ta.join(30)
            th.join(30)
            a.close()
            h.close()
            order.append("health first" if done["health"][0] < done["signin"][0] else
                         "sign-in first")
            C.check(done["signin"][1] == b"HTTP/1.1 401" and done["health"][1] == b"HTTP/1.1 200",
                    "round %d: sign-in 401, /health 200 (%s)" % (i, done))
        C.check(order == ["health first"] * 5,
                "/health is never behind a sign-in on the only HTTP thread (%s)" % order)


conns_per_addr_is_honoured()
max_conns_is_honoured()
signins_in_flight_is_honoured()
a_sign_in_never_holds_the_only_http_thread()
out_of_range_values_are_usage_errors()
C.done()
