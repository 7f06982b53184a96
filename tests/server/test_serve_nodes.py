"""test_serve_nodes.py: three `vigil serve` nodes on one PostgreSQL database
(issue 15 item 4; docs/server.md "Several nodes").

Checks: one node at a time holds the background work (/health "background",
/metrics vigil_lease_held, the take-over audited); an emergency set sent to node 1
pages once (a stand-in paging gateway, as test_serve_pages.py) and node 2's ward list
shows its alert at the next read; its repeat timer fires once per interval, not once
per node (node 3 starts after the alert, so it holds the open episode in memory as the
old code's timers did); kill -9 of the lease holder: another node takes the timers over
(the failover time is measured and printed; the target is 10 s) and the next repeats
come once per interval; every page id reaches the gateway once.

Runs itself again inside a throw-away PostgreSQL 15 (pg_virtualenv, as
reliability/test_kill9_pg.py). Skips (exit 77, one line) without pg_virtualenv or
PostgreSQL 15, or in a build without the PostgreSQL backend.
"""
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server, ack_fields, adt, oru, vigil_bin  # noqa: E402


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pg_env import run_inside_pg15  # noqa: E402

run_inside_pg15(__file__, before=vigil_bin)

C = Checks()
SECRET = "test-page-secret-0123456789"
NHS = "9990000018"
REPEAT = 4  # --emergency-repeat, seconds
DB_NAME = "vigil_nodes"


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


def psql(sql):
    r = subprocess.run(["psql", "-X", "-At", "-F", "\t", "-d", DB_NAME, "-c", sql],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("psql: %s" % r.stderr)
    return [line.split("\t") for line in r.stdout.splitlines()]


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


def repeats(alert_id):
    return [int(r[0]) / 1000.0 for r in
            psql("SELECT t_ms FROM alert_repeat WHERE alert_id = %d ORDER BY t_ms" % alert_id)]


def gaps(ts):
    return [round(b - a, 2) for a, b in zip(ts, ts[1:])]


subprocess.run(["createdb", DB_NAME], check=True)
db = "postgresql:///%s" % DB_NAME
os.environ["VIGIL_PAGE_SECRET"] = SECRET
gw = Gateway()


def node(name):
    return Server(["--page-webhook", "http://127.0.0.1:%d/page" % gw.port, "--page-retry", "1",
                   "--page-timeout", "2", "--page-link-base", "https://vigil.example",
                   "--emergency-repeat", str(REPEAT), "--node", name], db=db)


nodes = []
try:
    n1 = node("n1")
    nodes.append(n1)
    C.check(wait(lambda: holds(n1), 10), "node 1, alone, takes the background work (%s)"
            % health(n1))
    n2 = node("n2")
    nodes.append(n2)
    time.sleep(2.5)  # at least one lease try of node 2's
    C.check(holds(n1) and not holds(n2) and health(n2).get("node") == "n2",
            "one holder: node 1, not node 2 (%s / %s)" % (health(n1).get("background"),
                                                         health(n2).get("background")))
    st, text, _ = n2.http("GET", "/metrics", token=None)
    C.check(isinstance(text, str) and 'vigil_lease_held{lease="background",node="n2"} 0' in text,
            "node 2's /metrics: vigil_lease_held 0")

    admin = n1.admin_token()
    n1.add_user("outreach1", "outreach", ["*"])
    n1.add_user("nurse7", "nurse", ["WARD7B"])
    now = time.time()
    iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))  # noqa: E731
    for step in (0, 1, 2):  # outreach1 on every step: each repeat pages the gateway
        st, js, _ = n1.http("POST", "/api/rota", {"ward": "*", "level": "emergency",
                                                  "step": step, "username": "outreach1",
                                                  "from": iso(now - 60),
                                                  "to": iso(now + 8 * 3600)}, token=admin)
        C.check(st == 201, "rota: emergency step %d is outreach1 (%s %s)" % (step, st, js))
    nurse2 = n2.login("nurse7")

    # -- an emergency through node 1
    conn = n1.mllp()
    C.check(ack_fields(conn.request(adt("A1", "A01", NHS, "WARD7B", "BED01")))[0] == "AA",
            "admitted through node 1")
    C.check(ack_fields(conn.request(oru("H1", nhs=NHS, rr=25, spo2=91, hr=131, sbp=90)))[0]
            == "AA", "emergency set acknowledged by node 1")
    n1.settle()  # node 1's background transaction: the alert is stored
    rows = psql("SELECT a.id FROM alert a JOIN episode e ON e.id = a.episode_id JOIN patient p "
                "ON p.id = e.patient_id WHERE p.nhs_number = '%s'" % NHS)
    C.check(len(rows) == 1, "one alert stored (%s)" % rows)
    alert_id = int(rows[0][0]) if rows else 0

    # -- node 2's ward list shows it at the next read
    st, js, _ = n2.http("GET", "/api/wards/WARD7B/patients", token=nurse2)
    row = [p for p in (js if isinstance(js, list) else (js or {}).get("patients", []))
           if p.get("patient", {}).get("nhs_number") == NHS] if st == 200 else []
    C.check(row and [a for a in row[0].get("alerts", []) if a.get("alert_id") == alert_id],
            "node 2's next ward list shows node 1's alert %d (%s %s)" % (alert_id, st, row))

    # node 3 starts now: it reads the open episode at start (its timers would repeat it
    # as node 1's do, were they not leased)
    n3 = node("n3")
    nodes.append(n3)
    holders = [s for s in nodes if holds(s)]
    C.check(len(holders) == 1 and holders[0] is n1, "still one holder, node 1 (%s)"
            % [health(s).get("background") for s in nodes])

    # -- the repeat timer fires once per interval, not once per node
    time.sleep(3 * REPEAT + 1)
    before = repeats(alert_id)
    print("repeats before the kill, gaps (s): %s" % gaps(before))
    C.check(len(before) >= 2, "the alert was repeated (%d)" % len(before))
    C.check(before and min(gaps(before) or [REPEAT]) >= 0.75 * REPEAT,
            "one repeat per %d s interval, not one per node (gaps %s)" % (REPEAT, gaps(before)))

    # -- kill -9 the holder, mid-interval (its last repeat's page delivered by then)
    last = before[-1] if before else time.time()
    time.sleep(max(0.0, last + REPEAT / 2.0 - time.time()))
    t_kill = time.time()
    n1.proc.send_signal(signal.SIGKILL)
    n1.proc.wait()
    took = wait(lambda: [s for s in (n2, n3) if holds(s)], 20, 0.05)
    failover = time.time() - t_kill
    print("failover: kill -9 of the lease holder to another node holding the background "
          "work: %.2f s" % failover)
    C.check(len(took) == 1, "one survivor took the background work (%s)"
            % [health(s).get("background") for s in (n2, n3)])
    C.check(failover <= 10.0, "failover within 10 s (%.2f s)" % failover)
    survivor = took[0] if took else n2
    aud = psql("SELECT detail FROM audit WHERE action = 'lease.taken' ORDER BY seq")
    C.check(len(aud) >= 2 and ("node %s took" % health(survivor).get("node")) in aud[-1][0],
            "the take-over is audited, naming the node (%s)" % aud[-1:])

    time.sleep(3 * REPEAT + 1)
    after = [t for t in repeats(alert_id) if t > last]
    print("repeats after the kill: first %.2f s after the last before it, gaps (s): %s"
          % ((after[0] - last) if after else -1, gaps(after)))
    C.check(len(after) >= 2, "the survivor goes on repeating (%d)" % len(after))
    C.check(after and after[0] - last <= REPEAT + failover + 2.0,
            "the first repeat after the kill comes on time (%.2f s after the last)"
            % ((after[0] - last) if after else -1))
    C.check(after and min(gaps([last] + after)) >= 0.75 * REPEAT,
            "after the take-over, still one repeat per interval (gaps %s)"
            % gaps([last] + after))

    # -- every page once: each page id the gateway took, once; each stored webhook page
    # delivered is one the gateway took
    got = gw.pages()
    ids = [g[1] for g in got]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    C.check(not dup, "no page id reached the gateway twice (%s)" % dup)
    C.check(all(g[3] for g in got), "every page signed")
    stored = {r[0] for r in psql("SELECT id FROM page WHERE alert_id = %d AND channel = "
                                 "'webhook' AND kind = 'page' AND state = 'delivered'"
                                 % alert_id)}
    C.check(stored and stored == set(ids), "the gateway took each delivered page of the alert "
            "once (%d stored, %d taken)" % (len(stored), len(ids)))
    C.check(len(ids) == 1 + len(before) + len(after),
            "one page for the alert and one per repeat (%d pages, %d repeats)"
            % (len(ids), len(before) + len(after)))
finally:
    for s in nodes:
        s.close()
    gw.httpd.shutdown()
C.done()
