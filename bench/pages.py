"""pages.py: paging figures against a fresh `vigil serve` and a stand-in gateway
(issue 16 targets; printed, never gating).

    VIGIL_BIN=build/vigil /usr/bin/python3 bench/pages.py latency RATE SECONDS
        RATE background ORU^R01 messages/s (NEWS2 0) for SECONDS over 2 MLLP connections,
        and every 200 ms an emergency set for a new patient: from the client receiving the
        emergency set's ACK to the gateway receiving its page (p50/p99/max), i.e. the
        page leaving vigil plus one loopback HTTP hop.
    VIGIL_BIN=build/vigil /usr/bin/python3 bench/pages.py kill9 CYCLES
        CYCLES times: an emergency set for a new patient, kill -9 at a random moment within
        300 ms of its ACK, restart on the same store; at the end every stored webhook page
        must have reached the gateway (lost) and no page id may be counted twice in the
        gateway's de-duplicated view (it de-duplicates on the id: raw duplicates are
        printed, they are the price of at-least-once).

The client and the gateway are Python on the same machine (2 cores shared), so the
latency includes their overhead.
"""
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "server"))
sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Server, ack_fields, frame, oru  # noqa: E402

SECRET = "bench-page-secret-0123456789"
os.environ["VIGIL_PAGE_SECRET"] = SECRET


def make_gateway(port=0):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    got = []
    lock = threading.Lock()

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            with lock:
                got.append((time.time(), self.headers.get("X-Vigil-Page-Id", ""), body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", port), H)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, got, lock


def args(port):
    return ["--page-webhook", "http://127.0.0.1:%d/page" % port, "--page-retry", "1",
            "--page-timeout", "2"]


def rota(s):
    s.add_user("outreach1", "outreach", ["*"])
    now = time.time()
    iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))  # noqa: E731
    st, js, _ = s.http("POST", "/api/rota", {"ward": "*", "level": "emergency", "step": 0,
                                             "username": "outreach1", "from": iso(now - 60),
                                             "to": iso(now + 86400)}, token=s.admin_token())
    assert st == 201, (st, js)


def emergency(mrn, ctrl):
    return frame(oru(ctrl, nhs=None, mrn=mrn, rr=25, spo2=91, hr=131, sbp=90))


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


def latency(rate, secs):
    httpd, got, lock = make_gateway()
    s = Server(args(httpd.server_address[1]))
    try:
        rota(s)
        stop = time.time() + secs
        sent = [0]

        def background(k):
            c = s.mllp()
            i = 0
            per = rate / 2.0
            t0 = time.time()
            while time.time() < stop:
                due = t0 + i / per
                d = due - time.time()
                if d > 0:
                    time.sleep(d)
                t = "202501%02d%02d%02d00+0000" % (1 + (i // 1440) % 28, (i // 60) % 24, i % 60)
                c.send(frame(oru("B%d-%d" % (k, i), nhs=None, mrn="BG%d-%d" % (k, i % 500),
                                 t=t)))
                i += 1
                sent[0] += 1
            for _ in range(i):
                c.read_ack()
            c.close()

        th = [threading.Thread(target=background, args=(k,)) for k in range(2)]
        [t.start() for t in th]
        c = s.mllp()
        acks = {}
        j = 0
        while time.time() < stop:
            mrn = "EM%06d" % j
            a = c.request(emergency(mrn, "E%d" % j))
            if ack_fields(a)[0] == "AA":
                acks[mrn] = time.time()
            j += 1
            time.sleep(0.2)
        c.close()
        [t.join() for t in th]
        time.sleep(3)
        con = s.db()
        pid = {str(r[0]): r[1] for r in con.execute("SELECT id, mrn FROM patient")}
        con.close()
        lat = []
        with lock:
            first = {}
            for t, _, body in got:
                link = body.decode()
                p = link.rsplit("id=", 1)[-1].split('"')[0]
                mrn = pid.get(p)
                if mrn in acks and mrn not in first:
                    first[mrn] = t
        lat = [(first[m] - acks[m]) * 1000 for m in first]
        print("background ORU^R01: %d in %d s (%.0f/s); emergency sets: %d, paged: %d" %
              (sent[0], secs, sent[0] / secs, len(acks), len(first)))
        print("ACK of the emergency set -> page at the gateway: p50 %.1f ms, p99 %.1f ms, "
              "max %.1f ms" % (pct(lat, 0.5), pct(lat, 0.99), max(lat) if lat else float("nan")))
    finally:
        s.close()
        httpd.shutdown()


def kill9(cycles):
    httpd, got, lock = make_gateway()
    port = httpd.server_address[1]
    s = Server(args(port))
    db = s.db_path
    keep = s  # its temporary directory holds the store
    rota(s)
    rng = random.Random(16)
    dup_raw = 0
    try:
        for k in range(cycles):
            if k > 0:
                s = Server(args(port), db=db)
            c = s.mllp()
            a = c.request(emergency("K%04d" % k, "K%d" % k))
            assert ack_fields(a)[0] == "AA", a
            time.sleep(rng.uniform(0, 0.3))
            s.proc.kill()
            s.proc.wait()
            c.close()
            if s is not keep:
                s.tmp.cleanup()
        s = Server(args(port), db=db)
        end = time.time() + 30
        con = None
        while time.time() < end:
            con = s.db()
            pend = con.execute("SELECT count(*) FROM page WHERE channel = 'webhook' AND "
                               "state = 'pending'").fetchone()[0]
            con.close()
            if pend == 0:
                break
            time.sleep(0.2)
        con = s.db()
        stored = {str(r[0]) for r in con.execute(
            "SELECT id FROM page WHERE channel = 'webhook' AND recipient IS NOT NULL")}
        alerts = con.execute("SELECT count(*) FROM alert").fetchone()[0]
        doubled = con.execute("SELECT count(*) FROM (SELECT alert_id FROM page WHERE channel = "
                              "'webhook' GROUP BY alert_id, repeat_id HAVING count(*) > 1)"
                              ).fetchone()[0]
        con.close()
        with lock:
            raw = [g[1] for g in got]
        uniq = set(raw)
        dup_raw = len(raw) - len(uniq)
        lost = stored - uniq
        print("%d kill -9 cycles: %d alerts, %d webhook pages stored, %d page ids received "
              "(%d deliveries: %d resent with the same id), lost %d, alerts paged under two "
              "ids %d, ids received that are not stored %d" %
              (cycles, alerts, len(stored), len(uniq), len(raw), dup_raw, len(lost), doubled,
               len(uniq - stored)))
        s.close()
    finally:
        keep.close()
        httpd.shutdown()


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "latency":
        latency(int(sys.argv[2]), int(sys.argv[3]))
    elif len(sys.argv) >= 3 and sys.argv[1] == "kill9":
        kill9(int(sys.argv[2]))
    else:
        print(__doc__)
        sys.exit(2)
