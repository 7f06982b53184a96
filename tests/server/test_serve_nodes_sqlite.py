"""test_serve_nodes_sqlite.py: two `vigil serve` processes on one SQLite file (issue 15
item 4; docs/server.md "Several nodes"): SQLite is one node by design (no change feed),
but a second process started on the same file by mistake, or as a standby, must not
page twice: the background work's lease is a lock on <db>.lease that one process holds.

Checks: one holder (/health background); an emergency through node 1 repeats once per
interval although node 2 started after the alert holds the open episode in memory (the
old code repeated it from both); every page id reaches the gateway once; kill -9 of
node 1: node 2 takes the lease (the kernel drops the dead process's lock) within 10 s,
reads the open episodes again, and the next repeats come once per interval.
"""
import hashlib
import hmac
import json
import os
import signal
import sqlite3
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server, ack_fields, adt, oru, vigil_bin  # noqa: E402

C = Checks()
SECRET = "test-page-secret-0123456789"
NHS = "9990000018"
REPEAT = 4  # --emergency-repeat, seconds


class Gateway:
    """A paging gateway that takes every POST: (time, page id, body, status)."""

    def __init__(self):
        self.got = []
        self.lock = threading.Lock()
        gw = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ts = self.headers.get("X-Vigil-Timestamp", "")
                want = "sha256=" + hmac.new(SECRET.encode(), (ts + ".").encode() + raw,
                                            hashlib.sha256).hexdigest()
                ok = hmac.compare_digest(self.headers.get("X-Vigil-Signature", ""), want)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {}
                with gw.lock:
                    gw.got.append((time.time(), self.headers.get("X-Vigil-Page-Id", ""), body,
                                   ok))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def pages(self):
        with self.lock:
            return [g for g in self.got if g[2].get("event", "page") == "page"]



def wait(cond, secs=15.0, step=0.1):
    end = time.time() + secs
    while time.time() < end:
        r = cond()
        if r:
            return r
        time.sleep(step)
    return cond()


def health(s):
    try:
        st, js, _ = s.http("GET", "/health")
        return js if st == 200 and isinstance(js, dict) else {}
    except OSError:
        return {}


def holds(s):
    return bool((health(s).get("background") or {}).get("held"))


def gaps(ts):
    return [round(b - a, 2) for a, b in zip(ts, ts[1:])]


vigil_bin()
os.environ["VIGIL_PAGE_SECRET"] = SECRET
gw = Gateway()
tmp = tempfile.TemporaryDirectory(prefix="vigil-nodes-sqlite-")
db = os.path.join(tmp.name, "ward.db")


def node():
    return Server(["--page-webhook", "http://127.0.0.1:%d/page" % gw.port, "--page-retry", "1",
                   "--page-timeout", "2", "--page-link-base", "https://vigil.example",
                   "--emergency-repeat", str(REPEAT)], db=db)


def repeats(alert_id):
    con = sqlite3.connect(db, timeout=10)
    try:
        return [t / 1000.0 for (t,) in con.execute(
            "SELECT t_ms FROM alert_repeat WHERE alert_id = ? ORDER BY t_ms", (alert_id,))]
    finally:
        con.close()


nodes = []
try:
    n1 = node()
    nodes.append(n1)
    C.check(wait(lambda: holds(n1), 10), "node 1 takes the background work (%s)" % health(n1))
    admin = n1.admin_token()
    n1.add_user("outreach1", "outreach", ["*"])
    now = time.time()
    iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))  # noqa: E731
    for step in (0, 1, 2):
        st, js, _ = n1.http("POST", "/api/rota", {"ward": "*", "level": "emergency",
                                                  "step": step, "username": "outreach1",
                                                  "from": iso(now - 60),
                                                  "to": iso(now + 8 * 3600)}, token=admin)
        C.check(st == 201, "rota: emergency step %d is outreach1 (%s)" % (step, st))
    conn = n1.mllp()
    C.check(ack_fields(conn.request(adt("A1", "A01", NHS, "WARD7B", "BED01")))[0] == "AA",
            "admitted through node 1")
    C.check(ack_fields(conn.request(oru("H1", nhs=NHS, rr=25, spo2=91, hr=131, sbp=90)))[0]
            == "AA", "emergency set acknowledged by node 1")
    n1.settle()
    con = sqlite3.connect(db, timeout=10)
    alert_id = con.execute("SELECT a.id FROM alert a JOIN episode e ON e.id = a.episode_id "
                           "JOIN patient p ON p.id = e.patient_id WHERE p.nhs_number = ?",
                           (NHS,)).fetchone()[0]
    con.close()
    n2 = node()  # reads the open episode at start
    nodes.append(n2)
    time.sleep(2.5)
    C.check(holds(n1) and not holds(n2), "one holder: node 1 (%s / %s)"
            % (health(n1).get("background"), health(n2).get("background")))
    time.sleep(3 * REPEAT + 1)
    before = repeats(alert_id)
    print("repeats before the kill, gaps (s): %s" % gaps(before))
    C.check(len(before) >= 2 and min(gaps(before) or [REPEAT]) >= 0.75 * REPEAT,
            "one repeat per %d s interval from two processes on one file (gaps %s)"
            % (REPEAT, gaps(before)))
    last = before[-1] if before else time.time()
    time.sleep(max(0.0, last + REPEAT / 2.0 - time.time()))
    t_kill = time.time()
    n1.proc.send_signal(signal.SIGKILL)
    n1.proc.wait()
    C.check(wait(lambda: holds(n2), 20, 0.05), "node 2 took the background work")
    failover = time.time() - t_kill
    print("failover on SQLite: kill -9 of the holder to node 2 holding the lease: %.2f s"
          % failover)
    C.check(failover <= 10.0, "failover within 10 s (%.2f s)" % failover)
    time.sleep(3 * REPEAT + 1)
    after = [t for t in repeats(alert_id) if t > last]
    print("repeats after the kill, gaps (s): %s" % gaps([last] + after))
    C.check(len(after) >= 2 and min(gaps([last] + after)) >= 0.75 * REPEAT,
            "node 2 goes on repeating, once per interval (gaps %s)" % gaps([last] + after))
    ids = [g[1] for g in gw.pages()]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    C.check(not dup, "no page id reached the gateway twice (%s)" % dup)
    C.check(len(ids) == 1 + len(before) + len(after),
            "one page for the alert and one per repeat (%d pages, %d repeats)"
            % (len(ids), len(before) + len(after)))
finally:
    for s in nodes:
        s.close()
    gw.httpd.shutdown()
    tmp.cleanup()
C.done()
