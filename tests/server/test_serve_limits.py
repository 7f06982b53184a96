"""test_serve_limits.py: the MLLP limits as `vigil serve` options, and the
counters of every refusal on /metrics (Prometheus text) and /health (issue 12).

Checks: --mllp-conns-per-addr refuses the extra connection from one address
and /metrics and /health count it; --mllp-idle-timeout closes idle
connections (counted); a refused message is counted by ACK code; /metrics is
Prometheus text (HELP and TYPE before each series) open to loopback without a
session; out-of-range limit options are usage errors (exit 2); SIGTERM is
honoured at once while the listener has fifty 20,000-repetition messages
(about 2 MB) queued (finding 1: each took 2.4 s before, so the stop waited
minutes).
"""
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server, ack_fields, frame, vigil_bin  # noqa: E402

C = Checks()


def metrics(s):
    st, text, hdrs = s.http("GET", "/metrics")
    assert st == 200, (st, text)
    C.check(hdrs.get("content-type", "").startswith("text/plain; version=0.0.4"),
            "/metrics is Prometheus text (got %s)" % hdrs.get("content-type"))
    vals, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
        elif line and not line.startswith("#"):
            name, v = line.rsplit(" ", 1)
            base = name.split("{")[0]
            C.check(base in typed, "%s has a TYPE line before it" % base)
            vals[name] = float(v)
    return vals


def wait_metric(s, name, want, timeout=20):
    end = time.time() + timeout
    while True:
        v = metrics(s).get(name, 0)
        if v >= want or time.time() > end:
            return v
        time.sleep(0.1)


def closed_by_server(sock, timeout=20):
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, socket.timeout):
        return False


def limits_are_options_and_every_refusal_is_counted():
    with Server(["--mllp-conns-per-addr", "2", "--mllp-idle-timeout", "1",
                 "--mllp-ack-backlog", "8"]) as s:
        a = socket.create_connection(("127.0.0.1", s.mllp_port))
        b = socket.create_connection(("127.0.0.1", s.mllp_port))
        c = socket.create_connection(("127.0.0.1", s.mllp_port))
        C.check(closed_by_server(c), "the third connection from one address is closed")
        refused = 'vigil_mllp_refused_total{reason="per_address"}'
        C.check(wait_metric(s, refused, 1) == 1, "/metrics counts the refused connection")
        st, h, _ = s.http("GET", "/health")
        C.check(st == 200 and h["refusals"]["mllp_connections_refused"] == 1,
                "/health counts it, without a session (%s)" % h.get("refusals"))
        C.check(closed_by_server(a) and closed_by_server(b),
                "idle connections are closed after --mllp-idle-timeout")
        C.check(wait_metric(s, 'vigil_mllp_closed_total{reason="idle"}', 2) == 2,
                "/metrics counts both idle closes")
        for x in (a, b, c):
            x.close()
        conn = s.mllp()
        m = b"MSH|^~\\&|T|T|V|V|20250101000000+0000||ORU^R01|LIMAR|T|2.5.1\r"
        code, ctrl, _ = ack_fields(conn.request(m))
        C.check(code == "AR" and ctrl == "LIMAR", "processing id T is refused AR")
        conn.close()
        C.check(wait_metric(s, 'vigil_hl7_acks_total{code="AR"}', 1) == 1,
                "/metrics counts the AR")
        C.check(s.stop() == 0, "stops cleanly")


def bad_limit_options_are_usage_errors():
    for opt, val in [("--mllp-idle-timeout", "0"), ("--mllp-conns-per-addr", "0"),
                     ("--mllp-ack-backlog", "70000"), ("--mllp-max-conns", "x")]:
        r = subprocess.run([vigil_bin(), "serve", "--db", "/nonexistent/x.db", "--http-port", "0",
                            "--mllp-port", "0", opt, val], capture_output=True, timeout=30)
        C.check(r.returncode == 2 and opt.encode() in r.stderr,
                "%s %s: exit 2 naming the option (got %d %r)" % (opt, val, r.returncode,
                                                                   r.stderr[:200]))


def sigterm_is_honoured_while_hostile_messages_are_queued():
    with Server() as s:
        pid3 = "~".join(["1"] * 20000)
        raw = b""
        for k in range(50):
            m = ("MSH|^~\\&|X|X|V|V|20250101000000+0000||ORU^R01|REP%d|P|2.5.1\r"
                 "PID|1||%s\r" % (k, pid3)).encode()
            raw += frame(m)
        sock = socket.create_connection(("127.0.0.1", s.mllp_port))
        sock.sendall(raw)
        time.sleep(0.2)
        rc = s.stop(signal.SIGTERM, timeout=30)
        C.check(rc == 0, "SIGTERM with 50 hostile messages queued: exit 0 (got %s)" % rc)
        sock.close()


limits_are_options_and_every_refusal_is_counted()
bad_limit_options_are_usage_errors()
sigterm_is_honoured_while_hostile_messages_are_queued()
C.done()
