"""test_serve_summary.py: non-urgent e-mail summaries through a live `vigil serve` and a
stand-in SMTP relay (a small SMTP server this test runs: Python standard library only).

Checks (issue 16; docs/server.md "Pages", e-mail summaries): when a period ends, each
address gets one summary through the relay, with counts per ward only (alerts by level,
acknowledged and how fast, Martha's Rule calls, rota gaps) and no NHS number, name or
bed; an alert itself never goes by e-mail; a relay that is down is retried and the
summary delivered when it is up, every attempt recorded and audited; kill -9 with a
summary pending loses nothing (sent after the restart); a bad address or relay URL is
refused at start with the reason.
"""
import os
import re
import socketserver
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import tempfile  # noqa: E402
from serve_util import Checks, Server, ack_fields, adt, oru, vigil_bin  # noqa: E402

C = Checks()
HIGH = "9990000018"


class Relay:
    """A minimal SMTP server (RFC 5321's happy path): keeps every message it takes;
    `down` answers 421 and closes, as a relay that is not accepting mail."""

    def __init__(self):
        self.lock = threading.Lock()
        self.mail = []  # (envelope from, [rcpt], data text)
        self.down = False
        relay = self

        class H(socketserver.StreamRequestHandler):
            def handle(self):
                def say(line):
                    self.wfile.write((line + "\r\n").encode())
                    self.wfile.flush()
                if relay.down:
                    say("421 relay.test not accepting mail")
                    return
                say("220 relay.test ESMTP")
                frm, rcpt = None, []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    cmd = line.decode("latin-1").rstrip("\r\n")
                    up = cmd.upper()
                    if up.startswith("EHLO") or up.startswith("HELO"):
                        say("250 relay.test")
                    elif up.startswith("MAIL FROM:"):
                        frm, rcpt = cmd[10:].strip(), []
                        say("250 OK")
                    elif up.startswith("RCPT TO:"):
                        rcpt.append(cmd[8:].strip())
                        say("250 OK")
                    elif up == "DATA":
                        say("354 go on")
                        data = []
                        while True:
                            dl = self.rfile.readline()
                            if not dl or dl in (b".\r\n", b".\n"):
                                break
                            data.append(dl[1:] if dl.startswith(b"..") else dl)
                        with relay.lock:
                            relay.mail.append((frm, rcpt, b"".join(data).decode("utf-8")))
                        say("250 queued")
                    elif up == "QUIT":
                        say("221 bye")
                        return
                    elif up == "RSET" or up == "NOOP":
                        say("250 OK")
                    else:
                        say("502 not implemented")

        class S(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.srv = S(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def got(self):
        with self.lock:
            return list(self.mail)


def wait(cond, secs=15.0):
    end = time.time() + secs
    while time.time() < end:
        r = cond()
        if r:
            return r
        time.sleep(0.2)
    return cond()


def header(text, name):
    m = re.search(r"^%s: (.*)$" % name, text, re.M | re.I)
    return m.group(1).strip() if m else None


PERIOD = 6  # seconds: periods are aligned to it (00:00:00, 00:00:06, ...)
relay = Relay()
ARGS = ["--summary-smtp", "smtp://127.0.0.1:%d" % relay.port,
        "--summary-from", "vigil@ward.example", "--summary-to",
        "matron@ward.example,safety@trust.example", "--summary-every", str(PERIOD),
        "--page-retry", "1", "--page-link-base", "https://vigil.example"]

# -- a bad configuration is refused at start, with the reason
tmp = tempfile.TemporaryDirectory(prefix="vigil-summary-")
for bad, why in ((["--summary-to", "not-an-address"], "not an e-mail address"),
                 (["--summary-smtp", "http://127.0.0.1:1"], "smtp://")):
    args = list(ARGS)
    i = args.index(bad[0])
    args[i + 1] = bad[1]
    p = subprocess.run([vigil_bin(), "serve", "--db", os.path.join(tmp.name, "bad.db"),
                        "--http-port", "0",
                        "--mllp-port", "0"] + args, capture_output=True, text=True,
                       timeout=30)
    C.check(p.returncode != 0 and why in (p.stderr + p.stdout),
            "%s refused at start (%d: %s)" % (bad, p.returncode, p.stderr.strip()[-160:]))

s = Server(ARGS)
try:
    conn = s.mllp()
    C.check(ack_fields(conn.request(adt("A0", "A01", HIGH, "WARD7B", "BED00")))[0] == "AA",
            "admitted")
    out1 = s.add_user("outreach1", "outreach", ["*"])
    # start just after a period begins, so the alert and its acknowledgement fall in one
    # period even on a slow (sanitizer) build
    time.sleep(PERIOD - time.time() % PERIOD + 0.2)
    t_alert = time.time()
    C.check(ack_fields(conn.request(oru("H1", nhs=HIGH, rr=25, spo2=91, hr=131, sbp=90)))[0]
            == "AA", "emergency set acknowledged")
    s.settle()
    alert_id = wait(lambda: s.db().execute("SELECT max(id) FROM alert").fetchone()[0], 5)
    st, js, _ = s.http("POST", "/api/alerts/%d/ack" % alert_id, {"action": "attending"},
                       token=out1)
    C.check(st == 200, "acknowledged (%s)" % st)

    # -- the period holding the alert ends: one summary to each address
    def summary_of_alert():
        return [m for m in relay.got() if "Ward WARD7B" in m[2] and
                "Alerts raised: 1 (emergency 1" in m[2]]
    got = wait(lambda: len(summary_of_alert()) >= 2 and summary_of_alert(), 30) or []
    C.check(len(got) == 2, "the period's summary reached both addresses (%d)" % len(got))
    C.check(sorted(r for m in got for r in m[1]) ==
            ["<matron@ward.example>", "<safety@trust.example>"] and
            all(m[0] == "<vigil@ward.example>" for m in got),
            "the envelope: from vigil, one recipient each (%s)" % [(m[0], m[1]) for m in got])
    for frm, rcpt, text in got[:1]:
        print(text)
        C.check("Acknowledged: 1 of 1" in text, "the acknowledgement is counted")
        C.check(header(text, "Subject").startswith("vigil ward summary") and
                "non-urgent" in header(text, "Subject"), "the subject says non-urgent")
        C.check(HIGH not in text and "BED00" not in text and "TESTPATIENT" not in text.upper(),
                "no NHS number, bed or name in the e-mail")
        C.check("Alerts are never sent by e-mail" in text and "https://vigil.example/alerts"
                in text, "it says so, with a link that needs sign-in")
        C.check("Rota gaps now:" in text, "the rota's gaps are reported")
        C.check("local validation" in text, "and the AI's honesty line")
    ids = {header(m[2], "Message-ID") for m in got}
    C.check(len(ids) == 2 and all(i and i.startswith("<vigil-summary-") for i in ids),
            "each summary its own Message-ID (%s)" % ids)
    C.check(not [m for m in relay.got() if "page_id" in m[2] or "BED" in m[2] or
                 "acknowledges_page_id" in m[2]], "no page or alert ever goes by e-mail")
    C.check(s.count("audit", "action = 'summary.queue'") >= 2 and
            s.count("audit", "action = 'summary.attempt'") >= 2,
            "queueing and sending are audited")

    # -- the relay is down: retried, then delivered when it is up
    relay.down = True
    n0 = len(relay.got())
    time.sleep(PERIOD + 1)  # a period ends while the relay is down
    retried = wait(lambda: s.db().execute(
        "SELECT count(*) FROM summary_attempt WHERE outcome = 'retry'").fetchone()[0], 20)
    C.check(retried and retried >= 1, "attempts while the relay is down are recorded as "
            "retries (%s)" % retried)
    relay.down = False
    C.check(wait(lambda: len(relay.got()) > n0, 15),
            "delivered once the relay is up (%d new)" % (len(relay.got()) - n0))
    st, text, _ = s.http("GET", "/metrics")
    m = re.search(r"^vigil_summaries_sent_total (\d+)", text or "", re.M)
    C.check(m and int(m.group(1)) >= 3, "counted on /metrics (%s)" % (m and m.group(1)))

    # -- kill -9 with summaries pending: sent after the restart
    relay.down = True
    time.sleep(PERIOD + 1)
    pending = [r[0] for r in s.db().execute(
        "SELECT id FROM summary_mail WHERE state = 'pending'").fetchall()]
    C.check(len(pending) >= 1, "summaries pending while the relay is down (%s)" % pending)
    s.proc.kill()  # kill -9: the summaries are committed, not sent
    s.proc.wait()
    relay.down = False
    n1 = len(relay.got())
    first = s  # keeps its folder (the store) until the end
    s = Server(ARGS, db=first.db_path)
    marks = ",".join(str(i) for i in pending) or "0"

    def sent():
        return s.db().execute("SELECT count(*) FROM summary_mail WHERE state = 'delivered' AND "
                              "id IN (%s)" % marks).fetchone()[0] == len(pending)
    C.check(wait(sent, 60), "every summary pending at the kill is sent after the restart")
    took = [header(m[2], "Message-ID") for m in relay.got()[n1:]]
    C.check(all("<vigil-summary-%d@vigil.invalid>" % i in took for i in pending),
            "the relay took each of them (%s of %s)" % (took, pending))
    gapless = s.db().execute(
        "SELECT count(*) FROM summary_mail a JOIN summary_mail b ON b.to_ms = a.from_ms "
        "AND b.recipient = a.recipient").fetchone()[0]
    total = s.db().execute("SELECT count(DISTINCT from_ms) FROM summary_mail").fetchone()[0]
    C.check(gapless >= 2 * (total - 1) - 2, "periods follow one another (%d links, %d periods)"
            % (gapless, total))
finally:
    s.stop()
sys.exit(C.done())
