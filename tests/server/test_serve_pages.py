"""test_serve_pages.py: rotas and pages through a live `vigil serve` and a stand-in
paging gateway (a small HTTP server this test runs: Python standard library).

Checks (issue 16; docs/server.md "Pages"): who may edit a rota (REQ ROTA-EDIT-ROLES);
a rota gap is listed and counted on /metrics; an emergency alert pages the holder of
the emergency rota's step 0 through the webhook, signed (HMAC-SHA-256 over
"<timestamp>.<body>"), with no more than page id, recipient, ward, bed, level, post
and a link; a gateway answering 500 is retried and then delivered, each attempt
recorded and audited; the responder's web app fetches the page (delivered), reads it
(read) and acknowledges the alert (acknowledged): three distinct times; an
unacknowledged emergency climbs the rota on every repeat and, at the top step, pages
the nurse in charge (REQ PAGE-TOP-IN-CHARGE); a Martha's Rule call pages outreach
directly (REQ PAGE-MARTHA-OUTREACH); a slow gateway times out and is retried; a
gateway that is down is retried until it is up; kill -9 between the alert's commit and
the send loses no page and the gateway's de-duplicated view holds each page once
(REQ PAGE-OUTBOX), while a page the gateway took just before the kill comes again with
the same id.
"""
import hashlib
import hmac
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server, ack_fields, adt, oru  # noqa: E402

C = Checks()
SECRET = "test-page-secret-0123456789"
HIGH, LOW, THIRD, FOURTH = "9990000018", "9990000026", "9990000034", "9990000042"
BODY_KEYS = {"page_id", "event", "to", "ward", "bed", "level", "post", "link"}


class Gateway:
    """A paging gateway: records every POST; mode: ok | fail-first (500 once per page
    id, then 200) | refuse (403: no retry will help) | slow (sleep before answering) |
    hang (take the body, answer late)."""

    def __init__(self, port=0):
        self.mode = "ok"
        self.delay = 0.0
        self.got = []  # (time, page_id, body dict, signature ok, status answered)
        self.seen_fail = set()
        self.lock = threading.Lock()
        gw = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(n)
                ts = self.headers.get("X-Vigil-Timestamp", "")
                sig = self.headers.get("X-Vigil-Signature", "")
                want = "sha256=" + hmac.new(SECRET.encode(), (ts + ".").encode() + raw,
                                            hashlib.sha256).hexdigest()
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {}
                pid = self.headers.get("X-Vigil-Page-Id", "")
                status = 200
                with gw.lock:
                    if gw.mode == "fail-first" and pid not in gw.seen_fail:
                        gw.seen_fail.add(pid)
                        status = 500
                    elif gw.mode == "refuse":
                        status = 403
                    gw.got.append((time.time(), pid, body, hmac.compare_digest(sig, want),
                                   status))
                    mode, delay = gw.mode, gw.delay
                if mode in ("slow", "hang"):
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thr = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thr.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def pages(self, ok_only=True):
        """What the gateway took as pages (not acknowledgement notices)."""
        with self.lock:
            return [g for g in self.got if (g[4] == 200 or not ok_only) and
                    g[2].get("event", "page") == "page"]

    def notices(self):
        """The acknowledgement notices the gateway took (REQ PAGE-ACK-NOTICE)."""
        with self.lock:
            return [g for g in self.got if g[4] == 200 and g[2].get("event") == "acknowledged"]

    def unique(self):
        """The gateway's de-duplicated view: page id -> first delivered body."""
        v = {}
        for _, pid, body, _, st in self.pages():
            v.setdefault(pid, body)
        return v


def wait(cond, secs=15.0):
    end = time.time() + secs
    while time.time() < end:
        r = cond()
        if r:
            return r
        time.sleep(0.1)
    return cond()


def q1(s, sql, args=()):
    """One value straight from the store file (no settling request)."""
    con = s.db()
    try:
        return con.execute(sql, args).fetchone()[0]
    finally:
        con.close()


def pages_of(s, alert_id):
    con = s.db()
    try:
        return con.execute(
            "SELECT id, recipient, channel, state, attempts, post, delivered_ms, read_ms, "
            "acked_ms FROM page WHERE alert_id = ? AND kind = 'page' ORDER BY id",
            (alert_id,)).fetchall()
    finally:
        con.close()


def server_args(gw_port, extra=()):
    return ["--page-webhook", "http://127.0.0.1:%d/page" % gw_port, "--page-retry", "1",
            "--page-timeout", "2", "--page-link-base", "https://vigil.example",
            "--emergency-repeat", "4"] + list(extra)


def shift(s, token, ward, level, step, user, hours=8):
    now = time.time()
    iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))  # noqa: E731
    return s.http("POST", "/api/rota", {"ward": ward, "level": level, "step": step,
                                        "username": user, "from": iso(now - 60),
                                        "to": iso(now + hours * 3600)}, token=token)


os.environ["VIGIL_PAGE_SECRET"] = SECRET
gw = Gateway()
s = Server(server_args(gw.port))
try:
    admin = s.admin_token()
    conn = s.mllp()
    for i, nhs in enumerate((HIGH, LOW, THIRD, FOURTH)):
        C.check(ack_fields(conn.request(adt("A%d" % i, "A01", nhs, "WARD7B", "BED0%d" % i)))[0]
                == "AA", "admitted %s" % nhs)
    nurse = s.add_user("nurse7", "nurse", ["WARD7B"])
    doctor = s.add_user("doctor7", "doctor", ["WARD7B"])
    out1 = s.add_user("outreach1", "outreach", ["*"])
    out2 = s.add_user("outreach2", "outreach", ["*"])
    cons = s.add_user("consultant1", "doctor", ["*"])
    ids = {n: s.db().execute("SELECT id FROM patient WHERE nhs_number=?", (n,)).fetchone()[0]
           for n in (HIGH, LOW, THIRD, FOURTH)}

    # -- who may edit a rota (REQ ROTA-EDIT-ROLES)
    st, js, _ = shift(s, doctor, "WARD7B", "emergency", 0, "outreach1")
    C.check(st == 403, "a doctor may not edit a rota (%s)" % st)
    st, js, _ = shift(s, nurse, "*", "emergency", 0, "outreach1")
    C.check(st == 403, "a nurse may not edit the every-ward rota (%s)" % st)
    st, js, _ = shift(s, nurse, "WARD9", "in-charge", 0, "nurse7")
    C.check(st == 403, "a nurse may not edit a ward outside their scope (%s)" % st)
    st, js, _ = shift(s, nurse, "WARD7B", "in-charge", 0, "nurse7")
    C.check(st == 201 and js["username"] == "nurse7", "the nurse in charge puts herself on "
            "(%s %s)" % (st, js))
    st, js, _ = shift(s, admin, "*", "emergency", 0, "nobody-such")
    C.check(st == 404, "a shift for an unknown user is refused (%s)" % st)
    st, js, _ = shift(s, admin, "*", "bleep", 0, "outreach1")
    C.check(st == 422, "an unknown rota level is refused (%s)" % st)
    for step, user in ((0, "outreach1"), (1, "outreach2")):
        st, js, _ = shift(s, admin, "*", "emergency", step, user)
        C.check(st == 201, "admin: emergency step %d is %s (%s)" % (step, user, st))

    # -- a rota gap: emergency step 2 has nobody (REQ ROTA-GAP)
    st, js, _ = s.http("GET", "/api/rota/gaps", token=nurse)
    gaps = {(g["ward"], g["level"], g["step"]) for g in (js or {}).get("gaps", [])}
    C.check(st == 200 and ("WARD7B", "emergency", 2) in gaps,
            "rota gaps list WARD7B emergency step 2 (%s)" % sorted(gaps))
    C.check(("WARD7B", "emergency", 0) not in gaps and ("WARD7B", "in-charge", 0) not in gaps,
            "posts with a holder are no gaps")

    def metric(name):
        st, text, _ = s.http("GET", "/metrics")
        m = re.search(r"^%s (\d+)$" % re.escape(name), text or "", re.M)
        return int(m.group(1)) if m else None

    C.check(wait(lambda: (metric("vigil_rota_gaps") or 0) > 0, 8),
            "the gap is counted on /metrics (vigil_rota_gaps %s)" % metric("vigil_rota_gaps"))
    st, js, _ = s.http("GET", "/api/rota?ward=WARD7B", token=doctor)
    C.check(st == 200 and len(js["shifts"]) == 3, "the rota reads back (%s)" % (js,))

    # -- an emergency: 500 first, then delivered (retry with back-off)
    gw.mode = "fail-first"
    t_ack = time.time()
    C.check(ack_fields(conn.request(oru("H1", nhs=HIGH, rr=25, spo2=91, hr=131, sbp=90)))[0] ==
            "AA", "emergency set acknowledged")
    s.settle()
    alert_id = s.db().execute("SELECT a.id FROM alert a JOIN episode e ON e.id = a.episode_id "
                              "WHERE e.patient_id = ?", (ids[HIGH],)).fetchone()[0]
    got = wait(lambda: [g for g in gw.pages() if g[2].get("to") == "outreach1"], 10)
    C.check(len(got) == 1, "the gateway got the page once delivered (%s)" % gw.got)
    if got:
        t, pid, body, sig_ok, _ = got[0]
        print("emergency ACK to page delivered: %.0f ms (one 500 and a 1 s back-off between)" %
              ((t - t_ack) * 1000))
        C.check(sig_ok, "the HMAC-SHA-256 signature checks")
        C.check(set(body) == BODY_KEYS, "the body carries only %s (%s)" % (sorted(BODY_KEYS),
                                                                             sorted(body)))
        C.check(body["ward"] == "WARD7B" and body["bed"].endswith("BED00") and
                body["level"] == "emergency" and body["post"] == "emergency step 0",
                "ward, bed, level, post (%s)" % body)
        C.check(body["link"] == "https://vigil.example/patient?id=%d" % ids[HIGH], "the link")
        C.check(HIGH not in json.dumps(body) and "TESTPATIENT" not in json.dumps(body),
                "no NHS number or name in the page")
    first = [g for g in gw.pages(ok_only=False) if g[2].get("to") == "outreach1"]
    C.check(len(first) == 2 and first[0][4] == 500 and first[0][1] == first[1][1],
            "one 500, then the same page id again (%s)" % [(g[1], g[4]) for g in first])
    # the gateway answered; the pager records the attempt just after: wait for it
    wait(lambda: [p for p in pages_of(s, alert_id) if p[2] == "webhook" and p[3] != "pending"])
    pg = [p for p in pages_of(s, alert_id) if p[2] == "webhook"]
    C.check(len(pg) == 1 and pg[0][3] == "delivered" and pg[0][4] == 2,
            "webhook page stored delivered after 2 attempts (%s)" % pg)
    if pg:
        att = s.db().execute("SELECT outcome, detail FROM page_attempt WHERE page_id = ? "
                             "ORDER BY id", (pg[0][0],)).fetchall()
        C.check(att == [("retry", "HTTP 500"), ("delivered", "HTTP 200")],
                "both attempts recorded (%s)" % att)
        aud = s.count("audit", "action = 'page.attempt' AND entity_id = ?", (pg[0][0],))
        C.check(aud == 2, "both attempts audited (%d)" % aud)
        C.check(s.count("audit", "action = 'page.queue' AND entity_id = ?", (pg[0][0],)) == 1,
                "its queueing audited once")

    # -- the web app channel: fetched (delivered), read, acknowledged: three times
    st, js, _ = s.http("GET", "/api/pages", token=out1)
    mine = [p for p in (js or {}).get("pages", []) if p["alert_id"] == alert_id]
    C.check(st == 200 and len(mine) == 2, "outreach1 sees the page on both channels (%s)" % mine)
    web = [p for p in mine if p["channel"] == "web"]
    C.check(web and web[0]["state"] == "delivered" and web[0]["delivered_at"] and
            web[0]["read_at"] is None and web[0]["acknowledged_at"] is None,
            "fetched: delivered, not yet read or acknowledged (%s)" % web)
    st, js, _ = s.http("GET", "/api/pages", token=out2)
    C.check(st == 200 and not [p for p in js["pages"] if p["alert_id"] == alert_id],
            "outreach2 has no page of it yet")
    if web:
        st, js, _ = s.http("POST", "/api/pages/%d/read" % web[0]["id"], token=out2)
        C.check(st == 404, "another user cannot mark it read (%s)" % st)
        st, js, _ = s.http("POST", "/api/pages/%d/read" % web[0]["id"], token=out1)
        C.check(st == 200 and js["read_at"] and js["acknowledged_at"] is None,
                "read (%s)" % js)

    # -- climbing: nobody acknowledges; every 4 s the next step (REQ PAGE-CLIMB)
    t_rep = time.time()
    got2 = wait(lambda: [g for g in gw.pages() if g[2].get("to") == "outreach2"], 12)
    C.check(len(got2) >= 1 and got2[0][2]["post"] == "emergency step 1",
            "first repeat pages emergency step 1: outreach2 (%s)" % [g[2] for g in got2])
    got3 = wait(lambda: [g for g in gw.pages() if g[2].get("to") == "nurse7"], 12)
    C.check(len(got3) >= 1 and got3[0][2]["post"] == "in-charge step 0",
            "at the top step (nobody holds it) the nurse in charge is paged (%s)" %
            [g[2] for g in got3])
    if got2 and got3:
        print("repeat 1 delivered %.1f s and the top step %.1f s after the first page's read" %
              (got2[0][0] - t_rep, got3[0][0] - t_rep))
    rows = pages_of(s, alert_id)
    C.check(any(r[1] is None and r[3] == "unrouted" and r[5] == "emergency step 2"
                for r in rows), "the top step's gap is an unrouted page (%s)" % rows)
    C.check((metric("vigil_pages_unrouted_total") or 0) >= 1, "counted unrouted on /metrics")

    # -- acknowledged through the API: every page of the alert acknowledged; no more pages
    st, js, _ = s.http("POST", "/api/alerts/%d/ack" % alert_id, {"action": "attending"},
                       token=out1)
    C.check(st == 200, "acknowledged from the web app (%s %s)" % (st, js))
    rows = pages_of(s, alert_id)
    C.check(rows and all(r[8] is not None for r in rows),
            "every page of the alert is acknowledged (%s)" % rows)
    n_before = len(gw.pages())
    # REQ PAGE-ACK-NOTICE: the gateway is told, once per page it took, so it stops the bleep
    took = {g[1]: g[2] for g in gw.pages() if g[2]["post"].startswith(("emergency", "in-charge"))
            and g[2]["ward"] == "WARD7B" and g[2]["bed"].endswith("BED00")}
    want = sorted(str(r[0]) for r in rows if r[2] == "webhook" and r[3] == "delivered")
    C.check(want and sorted(want) == sorted(took),
            "the gateway took the alert's webhook pages %s (%s)" % (want, sorted(took)))
    notes = wait(lambda: len(gw.notices()) >= len(want) and gw.notices(), 10) or []
    C.check(sorted(n[2].get("acknowledges_page_id") for n in notes) == want,
            "one acknowledgement notice per page the gateway took (%s)" %
            [n[2] for n in notes])
    for n in notes:
        of = took.get(n[2].get("acknowledges_page_id"), {})
        C.check(n[3] and set(n[2]) == BODY_KEYS | {"acknowledges_page_id"} and
                n[2]["to"] == of.get("to") and n[2]["post"] == of.get("post") and
                n[1] not in want, "notice %s: signed, to the same person and post, its own id "
                "(%s)" % (n[1], n[2]))
    # the gateway answered; the pager records each attempt just after: wait for it
    def noted():
        return s.db().execute("SELECT count(*), count(DISTINCT notice_of) FROM page WHERE "
                              "alert_id = ? AND kind = 'ack' AND state = 'delivered'",
                              (alert_id,)).fetchone()
    nrows = wait(lambda: noted() == (len(want), len(want)) and noted(), 10) or noted()
    C.check(nrows == (len(want), len(want)), "the notices are stored delivered, one per page "
            "(%s)" % (nrows,))
    time.sleep(5)
    C.check(len(gw.pages()) == n_before, "no page after the acknowledgement")
    C.check(len(gw.notices()) == len(want), "and no second notice (%d)" % len(gw.notices()))
    st, js, _ = s.http("GET", "/api/pages", token=out1)
    web = [p for p in js["pages"] if p["alert_id"] == alert_id and p["channel"] == "web"]
    C.check(web and web[0]["delivered_at"] and web[0]["read_at"] and web[0]["acknowledged_at"],
            "delivered, read and acknowledged are three distinct times (%s)" % web)

    # -- Martha's Rule pages outreach directly (a patient scoring 0)
    C.check(ack_fields(conn.request(oru("L1", nhs=LOW)))[0] == "AA", "low set")
    n0 = len(gw.pages())
    st, js, _ = s.http("POST", "/api/patients/%d/marthas-rule" % ids[LOW],
                       {"caller": "family", "channel": "phone",
                        "concern": "she is not herself"}, token=nurse)
    C.check(st == 201, "Martha's Rule call recorded (%s)" % st)
    mr = wait(lambda: [g for g in gw.pages()[n0:] if g[2].get("to") == "outreach1"], 10)
    C.check(mr and mr[0][2]["level"] == "emergency" and mr[0][2]["bed"].endswith("BED01"),
            "the call paged outreach at once (%s)" % [g[2] for g in mr])
    call_alert = s.db().execute("SELECT a.id FROM alert a JOIN episode e ON e.id = a.episode_id "
                                "WHERE e.patient_id = ? AND e.trigger = 'marthas-rule'",
                                (ids[LOW],)).fetchone()[0]
    st, _, _ = s.http("POST", "/api/alerts/%d/ack" % call_alert, {"action": "attending"},
                      token=out1)
    C.check(st == 200, "call acknowledged")

    # -- a page that fails for good (the gateway refuses it: 403) reaches the nurse in
    # charge in the web app, in the same transaction as its failure (REQ PAGE-FAILED-IN-CHARGE)
    gw.mode = "refuse"
    C.check(ack_fields(conn.request(oru("L2", nhs=LOW, rr=25, spo2=91, hr=131, sbp=90)))[0] ==
            "AA", "an emergency set for the second patient")
    s.settle()
    low_alert = s.db().execute("SELECT max(a.id) FROM alert a JOIN episode e ON e.id = "
                               "a.episode_id WHERE e.patient_id = ?", (ids[LOW],)).fetchone()[0]
    failed = wait(lambda: s.db().execute(
        "SELECT id, recipient, post FROM page WHERE alert_id = ? AND channel = 'webhook' AND "
        "state = 'failed'", (low_alert,)).fetchall(), 10)
    C.check(failed and failed[0][1] == "outreach1", "the refused page is failed at once, no "
            "retry (%s)" % failed)
    fb = s.db().execute("SELECT recipient, channel, post, state FROM page WHERE alert_id = ? "
                        "AND post LIKE 'failed page:%'", (low_alert,)).fetchall()
    C.check(len(fb) == 1 and fb[0][0] == "nurse7" and fb[0][1] == "web" and
            "outreach1" in fb[0][2] and "emergency step 0" in fb[0][2],
            "the nurse in charge gets a web page naming the failed one (%s)" % fb)
    st, js, _ = s.http("GET", "/api/pages", token=nurse)
    mine = [p for p in (js or {}).get("pages", []) if p["alert_id"] == low_alert and
            p["post"].startswith("failed page:")]
    C.check(st == 200 and len(mine) == 1, "and sees it in the web app (%s)" % mine)
    gw.mode = "ok"
    st, _, _ = s.http("POST", "/api/alerts/%d/ack" % low_alert, {"action": "attending"},
                      token=out1)
    C.check(st == 200, "that alert acknowledged")

    # -- slow gateway: timeout, retried, delivered once fast again
    gw.mode, gw.delay = "slow", 3.5
    n0 = len(gw.pages(ok_only=False))
    C.check(ack_fields(conn.request(oru("T1", nhs=THIRD, rr=25, spo2=91, hr=131, sbp=90)))[0] ==
            "AA", "third patient's emergency")
    s.settle()
    third_alert = s.db().execute("SELECT a.id FROM alert a JOIN episode e ON e.id = "
                                 "a.episode_id WHERE e.patient_id = ?", (ids[THIRD],)).fetchone()[0]
    wait(lambda: s.count("page_attempt", "detail = 'timeout'") > 0, 10)
    gw.mode = "ok"
    C.check(s.count("page_attempt", "detail = 'timeout'") >= 1, "a slow gateway: timeout recorded")
    C.check(wait(lambda: [p for p in pages_of(s, third_alert)
                          if p[2] == "webhook" and p[1] == "outreach1" and p[3] == "delivered"],
                 10), "then delivered (%s)" % pages_of(s, third_alert))

    # -- gateway down: retried until it is up; kill -9 with a page not yet sent
    port = gw.port
    gw.stop()
    st, _, _ = s.http("POST", "/api/alerts/%d/ack" % third_alert, {"action": "attending"},
                      token=out1)
    conn.request(oru("F1", nhs=FOURTH, rr=25, spo2=91, hr=131, sbp=90))
    conn.close()
    s.settle()
    wait(lambda: s.count("page_attempt", "detail = 'gateway unreachable'") > 0, 10)
    C.check(s.count("page_attempt", "detail = 'gateway unreachable'") >= 1,
            "gateway down: 'gateway unreachable' recorded, page kept pending")
    pending = s.count("page", "state = 'pending' AND channel = 'webhook'")
    C.check(pending >= 1, "pages pending while the gateway is down (%d)" % pending)
    s.proc.kill()  # kill -9: the pages are committed, not sent
    s.proc.wait()
    db = s.db_path
    gw = Gateway(port)
    s2 = Server(server_args(port), db=db)
    try:
        C.check(wait(lambda: q1(s2, "SELECT count(*) FROM page WHERE state = 'pending' AND channel = 'webhook'") == 0,
                     15), "after the restart every pending page is sent")
        sent = {str(r[0]) for r in s2.db().execute(
            "SELECT id FROM page WHERE channel = 'webhook' AND state = 'delivered'")}
        got_ids = [g[1] for g in gw.pages()]
        C.check(len(got_ids) == len(set(got_ids)) and set(got_ids) <= sent and got_ids,
                "each page the gateway took after the restart came once (%s)" % got_ids)

        # -- a page the gateway takes just before a kill -9 comes again, same id
        gw.mode, gw.delay = "hang", 30
        st, js, _ = s2.http("POST", "/api/patients/%d/concerns" % ids[LOW],
                            {"concern": "breathing faster"}, token=s2.login("nurse7"))
        C.check(st == 201, "staff concern (%s)" % st)
        C.check(wait(lambda: len(gw.pages(ok_only=False)) > len(got_ids), 10),
                "the gateway is holding a page")
        s2.proc.kill()
        s2.proc.wait()
    finally:
        s2.close()
    held = gw.pages(ok_only=False)[-1][1]
    gw.mode = "ok"
    s3 = Server(server_args(port), db=db)
    try:
        C.check(wait(lambda: [g for g in gw.pages(ok_only=False)[len(got_ids) + 1:]
                              if g[1] == held], 15),
                "the page in flight at the kill is sent again with the same id")
        raw = [g[1] for g in gw.pages(ok_only=False)]
        uniq = gw.unique()
        stored = {str(r[0]) for r in s3.db().execute(
            "SELECT id FROM page WHERE channel = 'webhook' AND recipient IS NOT NULL")}
        C.check(set(uniq) <= stored, "the de-duplicated view holds only stored page ids")
        C.check(len(raw) > len(uniq), "the receiver saw a duplicate (%d raw, %d unique)" %
                (len(raw), len(uniq)))
        pend = "SELECT count(*) FROM page WHERE channel = 'webhook' AND state = 'pending'"
        C.check(wait(lambda: q1(s3, pend) == 0, 10), "no page left unsent (%d)" % q1(s3, pend))
        chain = s3.http("GET", "/health")[0]
        C.check(chain == 200, "the server is healthy after two kill -9s")
    finally:
        s3.close()
finally:
    s.close()
    try:
        gw.stop()
    except Exception:  # noqa: BLE001
        pass
C.done()
