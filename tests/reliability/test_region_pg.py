"""test_region_pg.py: a region on PostgreSQL (issue 15 item 5). Three `vigil serve` nodes on
one PostgreSQL 15 database take HL7 from 20 hospitals at once; one node is killed -9 mid-run
(while it holds the background work) and started again, and PostgreSQL itself is crashed
(stop -m immediate) and restarted once. Afterwards:
  - every set acknowledged AA is stored once, with its patient and time, and nothing is
    stored that was not acknowledged (0 acknowledged sets lost);
  - every alert fires once: no observation set opened two episodes, no patient has two open
    episodes of one trigger, no alert was repeated twice within one interval (the repeat
    timers ran on one node at a time), each alert and repeat queued one page per person, and
    the paging gateway got only stored pages' ids (a page sent again after a kill between
    sending and recording keeps its id, which the gateway de-duplicates: counted);
  - the background work (escalation timers, pager) passed to another node within 10 s of the
    kill (measured from the kill to a survivor's /health saying it holds it; printed);
  - `vigil audit verify` passes on the database.

A hospital is a ward (H01..H20) whose interface engine keeps one connection to one node
(hospitals spread over the nodes in turn); each hospital replays its own PhysioNet 2019
stays (`vigil replay --skip`), paced. Sizes: VIGIL_REGION_PATIENTS stays per hospital
(default 8) and VIGIL_REGION_RATE messages a second per hospital (default 10); bench/
runs it bigger with the same script.

Runs itself again inside a throw-away PostgreSQL 15 (pg_virtualenv, as test_kill9_pg.py).
Skips (exit 77, one line) without pg_virtualenv or PostgreSQL 15, the replay data or a build
with the PostgreSQL backend.
"""
import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
from rel_util import (Checks, audit_verify, free_port, read_ack_log, replay_data,  # noqa: E402
                      vigil_bin)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pg_env import run_inside_pg15  # noqa: E402

run_inside_pg15(__file__, before=lambda: (vigil_bin(), replay_data()))

HOSPITALS = 20
NODES = 3
PATIENTS = int(os.environ.get("VIGIL_REGION_PATIENTS", "8"))
RATE = float(os.environ.get("VIGIL_REGION_RATE", "10"))
REPEAT = 6  # --emergency-repeat, seconds
SECRET = "region-page-secret-0123456789"
DB_NAME = "vigil_region"
check = Checks()


class Gateway:
    """A paging gateway that takes every POST and keeps each page id it was sent."""

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
                    gw.got.append((self.headers.get("X-Vigil-Page-Id", ""),
                                   body.get("event", "page"), ok))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def psql(sql):
    r = subprocess.run(["psql", "-X", "-At", "-F", "\t", "-d", DB_NAME, "-c", sql],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("psql: %s" % r.stderr)
    return [line.split("\t") for line in r.stdout.splitlines()]


class Node:
    """One `vigil serve` on the region's database, MLLP on a fixed port (restartable)."""

    def __init__(self, name, mllp_port, gw_port, db):
        self.name, self.mllp_port, self.db, self.gw_port = name, mllp_port, db, gw_port
        self.start()

    def start(self):
        self.log = []
        env = dict(os.environ, VIGIL_PAGE_SECRET=SECRET, VIGIL_ADMIN_PASSWORD="admin-password-1")
        self.proc = subprocess.Popen(
            [vigil_bin(), "serve", "--db", self.db, "--http-port", "0", "--mllp-port",
             str(self.mllp_port), "--node", self.name, "--bootstrap-admin", "admin",
             "--page-webhook", "http://127.0.0.1:%d/page" % self.gw_port, "--page-retry", "1",
             "--page-timeout", "2", "--page-link-base", "https://vigil.example",
             "--emergency-repeat", str(REPEAT)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        ready = threading.Event()
        self.http_port = None

        def reader():
            for line in self.proc.stderr:
                line = line.decode("utf-8", "replace").rstrip("\n")
                self.log.append(line)
                m = re.match(r"vigil serve: https? [0-9.]+:(\d+) mllp \S+$", line)
                if m:
                    self.http_port = int(m.group(1))
                    ready.set()
            ready.set()

        threading.Thread(target=reader, daemon=True).start()
        if not ready.wait(90) or self.http_port is None:
            self.proc.kill()
            raise RuntimeError("node %s did not start: %s" % (self.name, self.log[-10:]))

    def health(self):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/health" % self.http_port,
                                        timeout=2) as r:
                return json.loads(r.read())
        except (OSError, ValueError):
            return {}

    def holds(self):
        return bool((self.health().get("background") or {}).get("held"))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def term(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()


def wait(cond, secs, step=0.05):
    end = time.time() + secs
    while time.time() < end:
        r = cond()
        if r:
            return r
        time.sleep(step)
    return cond()


def pg_crash_restart():
    subprocess.run(["pg_ctlcluster", "15", "regress", "stop", "-m", "immediate"], check=True)
    subprocess.run(["pg_ctlcluster", "15", "regress", "start"], check=True)


t_begin = time.monotonic()
t_wall0 = time.time()
subprocess.run(["createdb", DB_NAME], check=True)
db = "postgresql:///%s" % DB_NAME
data = replay_data()
tmp = tempfile.TemporaryDirectory(prefix="vigil-region-")
gw = Gateway()
ports = [free_port() for _ in range(NODES)]
nodes = []
replays = []
try:
    for i in range(NODES):
        nodes.append(Node("n%d" % (i + 1), ports[i], gw.port, db))
    holder = wait(lambda: [n for n in nodes if n.holds()], 15)
    check(len(holder) == 1, "one of %d nodes holds the background work (%s)"
          % (NODES, [n.name for n in holder]))
    # an outreach nurse on every step of the emergency rota: every emergency and each of
    # its repeats pages the gateway
    admin_tok = None
    req = urllib.request.Request("http://127.0.0.1:%d/api/login" % nodes[0].http_port,
                                 data=json.dumps({"username": "admin",
                                                  "password": "admin-password-1"}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        admin_tok = json.loads(r.read())["token"]

    def api(node, path, body):
        rq = urllib.request.Request("http://127.0.0.1:%d%s" % (node.http_port, path),
                                    data=json.dumps(body).encode(),
                                    headers={"Content-Type": "application/json",
                                             "Authorization": "Bearer " + admin_tok})
        with urllib.request.urlopen(rq, timeout=30) as r:
            return r.status

    api(nodes[0], "/api/admin/users", {"username": "outreach1", "display_name": "Outreach",
                                       "role": "outreach", "password": "outreach-password-1",
                                       "wards": ["*"]})
    iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))  # noqa: E731
    now = time.time()
    for step in (0, 1, 2):
        api(nodes[1], "/api/rota", {"ward": "*", "level": "emergency", "step": step,
                                    "username": "outreach1", "from": iso(now - 60),
                                    "to": iso(now + 8 * 3600)})

    # 20 hospitals, each its own replay to one node, each with its own stays
    for h in range(HOSPITALS):
        n = nodes[h % NODES]
        log = os.path.join(tmp.name, "acks-H%02d.tsv" % (h + 1))
        nak = os.path.join(tmp.name, "naks-H%02d.tsv" % (h + 1))
        p = subprocess.Popen(
            [vigil_bin(), "replay", "--mllp", "127.0.0.1:%d" % n.mllp_port, "--data", data,
             "--ward", "H%02d" % (h + 1), "--skip", str(h * PATIENTS), "--patients",
             str(PATIENTS), "--rate", str(RATE), "--window", "8", "--ack-log", log,
             "--nak-log", nak, "--ack-timeout", "5", "--reconnect", "90",
             "--id-prefix", "H%02d." % (h + 1),
             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        replays.append((h, n, log, p))
    print("%d hospitals replaying %d stays each at %g msgs/s into %d nodes"
          % (HOSPITALS, PATIENTS, RATE, NODES))

    # mid-run: kill -9 the node holding the background work, and start it again
    time.sleep(8)
    victim = ([n for n in nodes if n.holds()] or [nodes[0]])[0]
    t_kill = time.time()
    print("kill -9 of %s at %.1f s" % (victim.name, t_kill - t_wall0))
    victim.kill()
    took = wait(lambda: [n for n in nodes if n is not victim and n.holds()], 20)
    failover = time.time() - t_kill
    print("failover: kill -9 of %s (holding the background work) to %s holding it: %.2f s"
          % (victim.name, [n.name for n in took], failover))
    check(len(took) == 1 and failover <= 10.0,
          "the background work passed to one other node within 10 s (%.2f s)" % failover)
    time.sleep(2)
    victim.start()
    print("%s started again at %.1f s" % (victim.name, time.monotonic() - t_begin))

    # later: PostgreSQL itself crashes and restarts
    time.sleep(6)
    t_pg = time.time() - t_wall0
    pg_crash_restart()
    print("PostgreSQL crashed at %.1f s and restarted at %.1f s" % (t_pg, time.time() - t_wall0))

    summaries = []
    for h, n, log, p in replays:
        try:
            out, err = p.communicate(timeout=900)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        summaries.append(json.loads(out) if out.strip() else {})
        if not out.strip():
            print("replay H%02d exit %s: %s" % (h + 1, p.returncode, err.strip()[-300:]))
    time.sleep(REPEAT + 2)  # the last repeats and pages
    holders = [n for n in nodes if n.holds()]
    check(len(holders) == 1, "after the run, one holder (%s)" % [n.name for n in holders])
    for n in nodes:
        check(n.term() == 0, "node %s stops cleanly on SIGTERM" % n.name)

    sched = sum(s.get("scheduled", 0) for s in summaries)
    aa = sum(s.get("aa", 0) for s in summaries)
    ar = sum(s.get("ar", 0) for s in summaries)
    check(all(s.get("aa", 0) + s.get("ar", 0) == s.get("scheduled") and s.get("ae") == 0
              and s.get("not_sent") == 0 for s in summaries),
          "every hospital's every message answered: %d AA, %d AR (PostgreSQL down) of %d"
          % (aa, ar, sched))
    by_node = {}
    for (h, n, log, p), s in zip(replays, summaries):
        by_node[n.name] = by_node.get(n.name, 0) + s.get("aa", 0)
    check(len(by_node) == NODES and all(v > 0 for v in by_node.values()),
          "every node acknowledged sets (%s)" % by_node)
    check(sum(s.get("reconnects", 0) for s in summaries) >= 1,
          "the killed node's hospitals reconnected (%d reconnects)"
          % sum(s.get("reconnects", 0) for s in summaries))

    # -- 0 acknowledged sets lost, nothing stored twice or unacknowledged
    acks = [a for _, _, log, _ in replays if os.path.exists(log) for a in read_ack_log(log)]
    oru = [a for a in acks if a[1] == "ORU"]
    stored = {}
    for sid, nhs, t in psql("SELECT o.source_id, p.nhs_number, o.t_ms FROM obs_set o "
                            "JOIN patient p ON p.id = o.patient_id WHERE o.source = 'hl7'"):
        stored.setdefault(sid, []).append((nhs, int(t)))
    missing = [a[0] for a in oru if a[0] not in stored]
    check(oru and not missing, "every set acknowledged AA is stored (%d of %d missing, e.g. %s)"
          % (len(missing), len(oru), missing[:3]))
    wrong = [a[0] for a in oru if a[0] in stored and stored[a[0]] != [(a[2], a[3])]]
    check(not wrong, "each stored once, with its patient's NHS number and time (%d wrong)"
          % len(wrong))
    acked = set(a[0] for a in oru)
    refused = set()
    for h in range(HOSPITALS):
        nak = os.path.join(tmp.name, "naks-H%02d.tsv" % (h + 1))
        if os.path.exists(nak):
            refused |= {line.split("\t")[0] for line in open(nak) if line.strip()}
    unacked = [sid for sid in stored if sid not in acked]
    # a commit whose outcome the server could not know (PostgreSQL crashed as it committed)
    # is answered AR and may still be stored: the sender was told, nothing is lost; any
    # other stored set must have had its AA
    in_doubt = [sid for sid in unacked if sid in refused]
    check(not [sid for sid in unacked if sid not in refused],
          "nothing stored that was not acknowledged: %d sets, %d AA; %d stored though answered "
          "AR (a commit in doubt at the PostgreSQL crash: %s)"
          % (len(stored), len(acked), len(in_doubt), in_doubt[:3]))

    # -- every alert once
    dup_ep = psql("SELECT trigger, trigger_ref, count(*) FROM episode WHERE trigger_ref IS NOT "
                  "NULL AND trigger IN ('news2', 'ai') GROUP BY 1, 2 HAVING count(*) > 1")
    n_ep = int(psql("SELECT count(*) FROM episode")[0][0])
    n_alert = int(psql("SELECT count(*) FROM alert")[0][0])
    check(n_alert > 0 and not dup_ep,
          "no set opened two episodes (%d episodes, %d alerts; duplicates %s)"
          % (n_ep, n_alert, dup_ep[:3]))
    two_open = psql("SELECT patient_id, trigger, count(*) FROM episode WHERE closed_ms IS NULL "
                    "GROUP BY 1, 2 HAVING count(*) > 1")
    check(not two_open, "no patient has two open episodes of one trigger (%s)" % two_open[:3])
    reps = psql("SELECT alert_id, t_ms, id FROM alert_repeat ORDER BY alert_id, t_ms")
    close = []
    for (a1, t1, i1), (a2, t2, i2) in zip(reps, reps[1:]):
        if a1 == a2 and int(t2) - int(t1) < 0.75 * REPEAT * 1000:
            close.append((a1, (int(t2) - int(t1)) / 1000.0,
                          "%.1f s into the run" % (int(t1) / 1000.0 - t_wall0)))
    check(reps and not close, "%d repeats, none twice within one %d s interval (%s)"
          % (len(reps), REPEAT, close[:3]))
    # each alert and each repeat paged once to each person: one page row each
    twice = psql("SELECT alert_id, coalesce(repeat_id, 0), post, recipient, channel, count(*) "
                 "FROM page WHERE kind = 'page' GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 1")
    check(not twice, "every alert and every repeat queued one page per person and channel (%s)"
          % twice[:3])
    # the outbox sends at least once: a node killed (or cut off from PostgreSQL) between
    # sending a page and recording it leaves it for the new holder to send again, under the
    # SAME page id (X-Vigil-Page-Id), which the gateway de-duplicates; never under another id
    ids = [g[0] for g in gw.got if g[1] == "page"]
    stored_ids = {r[0] for r in psql("SELECT id FROM page WHERE kind = 'page' AND channel = "
                                     "'webhook'")}
    resent = sorted({i for i in ids if ids.count(i) > 1})
    check(ids and set(ids) <= stored_ids and all(g[2] for g in gw.got),
          "%d pages reached the gateway, each a stored page's id, every one signed; %d page "
          "id(s) sent again after a kill or a lost connection, under the same id (%s)"
          % (len(ids), len(resent), resent[:3]))
    delivered = {r[0] for r in psql("SELECT id FROM page WHERE kind = 'page' AND channel = "
                                    "'webhook' AND state = 'delivered'")}
    check(delivered <= set(ids), "every page recorded delivered reached the gateway (%d of %d)"
          % (len(delivered & set(ids)), len(delivered)))
    aud = psql("SELECT detail FROM audit WHERE action = 'lease.taken' ORDER BY seq")
    check(len(aud) >= 2, "each take-over of the background work is audited (%d)" % len(aud))
    audit_verify(db, check)
    print("region: %d hospitals, %d stays, %d sets, %d alerts, %d repeats, %d pages in %.1f s"
          % (HOSPITALS, HOSPITALS * PATIENTS, len(stored), n_alert, len(reps), len(ids),
             time.monotonic() - t_begin))
finally:
    for _, _, _, p in replays:
        if p.poll() is None:
            p.kill()
    for n in nodes:
        if n.proc.poll() is None:
            n.kill()
    gw.httpd.shutdown()
    tmp.cleanup()
check.done()
