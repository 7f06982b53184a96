"""serve_util.py: start `vigil serve` as a subprocess on ephemeral loopback
ports and talk to it: HTTP (http.client), MLLP (socket), and the store file
(sqlite3, read only by convention). Shared by tests/server/test_*.py; not a
test itself. Standard library only.
"""
import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time

SB, EB, CR = b"\x0b", b"\x1c", b"\x0d"
ADMIN, ADMIN_PW = "admin", "admin-password-1"
SRC = os.environ.get("VIGIL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
GOLDEN_HL7 = os.path.join(SRC, "tests", "golden", "hl7")
GOLDEN_FHIR = os.path.join(SRC, "tests", "golden", "fhir")
PASSWORD = "correct-horse-1"


def vigil_bin():
    b = os.environ.get("VIGIL_BIN")
    if not b or not os.path.exists(b):
        print("skip: VIGIL_BIN not set or missing")
        sys.exit(77)
    return b


def nhs_number(i):
    """A valid NHS number (modulus 11 check digit) in the 999 test range."""
    while True:
        body = "999%06d" % i
        total = sum(int(d) * (10 - k) for k, d in enumerate(body))
        check = 11 - total % 11
        if check == 11:
            check = 0
        if check != 10:
            return body + str(check)
        i += 1000


def frame(msg: bytes) -> bytes:
    return SB + msg + EB + CR


def ack_fields(ack: bytes):
    """MSA-1, MSA-2 and the ERR segment (or '') of an ACK."""
    segs = ack.decode("utf-8", "replace").split("\r")
    msa = next(s for s in segs if s.startswith("MSA|")).split("|")
    err = next((s for s in segs if s.startswith("ERR|")), "")
    return msa[1], msa[2] if len(msa) > 2 else "", err


def oru(ctrl, nhs="9990000018", t="20250114083000+0000", hr=72, rr=18, spo2=97, sbp=128,
        temp=36.8, acvpu="A", fio2=21, mrn=None):
    """An ORU^R01 with a full NEWS2 set (values can be changed)."""
    pid = "%s^^^NHS^NH" % nhs if nhs else ""
    if mrn:
        pid += ("~" if pid else "") + "%s^^^RX1^MR" % mrn
    segs = [
        "MSH|^~\\&|EOBS|RX1|VIGIL|RX1|%s||ORU^R01^ORU_R01|%s|P|2.5.1" % (t, ctrl),
        "PID|1||%s||TESTPATIENT^ALICE||19540312|F" % pid,
        "OBR|1||OBS-%s|86290005^Vital signs^SCT|||%s" % (ctrl, t),
    ]
    obx = [
        ("NM", "9279-1^Respiratory rate^LN", rr, "/min^/min^UCUM"),
        ("NM", "59408-5^SpO2^LN", spo2, "%^%^UCUM"),
        ("NM", "3150-0^FiO2^LN", fio2, "%^%^UCUM"),
        ("NM", "8480-6^Systolic blood pressure^LN", sbp, "mm[Hg]^mm[Hg]^UCUM"),
        ("NM", "8867-4^Heart rate^LN", hr, "/min^/min^UCUM"),
        ("CWE", "1104441000000107^ACVPU^SCT", acvpu, ""),
        ("NM", "8310-5^Body temperature^LN", temp, "Cel^Cel^UCUM"),
    ]
    for i, (vt, code, val, unit) in enumerate(obx, 1):
        if val is None:
            continue
        segs.append("OBX|%d|%s|%s||%s|%s|||||F|||%s" % (i, vt, code, val, unit, t))
    return ("\r".join(segs) + "\r").encode()


def adt(ctrl, event, nhs, ward, bed="BED01", t="20250114100000+0000", mrn=None):
    pid = "%s^^^NHS^NH" % nhs
    if mrn:
        pid += "~%s^^^RX1^MR" % mrn
    segs = [
        "MSH|^~\\&|PAS|RX1|VIGIL|RX1|%s||ADT^%s|%s|P|2.5.1" % (t, event, ctrl),
        "EVN|%s|%s" % (event, t),
        "PID|1||%s||TESTPATIENT^X||19600101|M" % pid,
        "PV1|1|I|%s^BAY1^%s^RX1" % (ward, bed),
    ]
    return ("\r".join(segs) + "\r").encode()


class Mllp:
    """One MLLP connection."""

    def __init__(self, port, timeout=20):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, raw: bytes):
        self.s.sendall(raw)

    def read_ack(self):
        """The next framed ACK, or None when the server closed the connection."""
        while True:
            i = self.buf.find(SB)
            j = self.buf.find(EB + CR, i + 1) if i >= 0 else -1
            if i >= 0 and j >= 0:
                ack = self.buf[i + 1:j]
                self.buf = self.buf[j + 2:]
                return ack
            d = self.s.recv(65536)
            if not d:
                return None
            self.buf += d

    def request(self, msg: bytes):
        self.send(frame(msg))
        return self.read_ack()

    def close(self):
        self.s.close()


class Server:
    def __init__(self, extra_args=(), db=None, tls_ca=None):
        """tls_ca: the PEM certificate to trust when the server serves HTTPS
        (--tls-cert); requests then verify it."""
        self.tmp = tempfile.TemporaryDirectory(prefix="vigil-serve-")
        self.db_path = db or os.path.join(self.tmp.name, "ward.db")
        env = dict(os.environ, VIGIL_ADMIN_PASSWORD=ADMIN_PW)
        self.proc = subprocess.Popen(
            [vigil_bin(), "serve", "--db", self.db_path, "--http-port", "0", "--mllp-port", "0",
             "--bootstrap-admin", ADMIN] + list(extra_args),
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env)
        self.log = []
        self.http_port = self.mllp_port = None
        self.https = False
        self.tls_ca = tls_ca
        ready = threading.Event()

        def reader():
            for line in self.proc.stderr:
                line = line.decode("utf-8", "replace").rstrip("\n")
                self.log.append(line)
                m = re.match(r"vigil serve: (https?) [0-9.]+:(\d+) mllp [0-9.]+:(\d+)$", line)
                if m:
                    self.https = m.group(1) == "https"
                    self.http_port, self.mllp_port = int(m.group(2)), int(m.group(3))
                    ready.set()
            ready.set()

        self.reader = threading.Thread(target=reader, daemon=True)
        self.reader.start()
        if not ready.wait(60) or self.http_port is None:
            self.proc.kill()
            raise RuntimeError("server did not start: %s" % "\n".join(self.log))
        self.tokens = {}

    # -- HTTP
    def http(self, method, path, body=None, token=None, headers=None, raw=None,
             content_type="application/json"):
        if self.https:
            ctx = ssl.create_default_context(cafile=self.tls_ca)
            c = http.client.HTTPSConnection("127.0.0.1", self.http_port, timeout=30, context=ctx)
        else:
            c = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
        h = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
        if raw is not None:
            data = raw
        if data is not None:
            h.setdefault("Content-Type", content_type)
        if token:
            h["Authorization"] = "Bearer " + token
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        text = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        try:
            js = json.loads(text) if text else None
        except ValueError:
            js = text.decode("utf-8", "replace")
        return r.status, js, hdrs

    def login(self, user, pw=PASSWORD):
        st, js, _ = self.http("POST", "/api/login", {"username": user, "password": pw})
        assert st == 200, (st, js)
        return js["token"]

    def admin_token(self):
        if ADMIN not in self.tokens:
            self.tokens[ADMIN] = self.login(ADMIN, ADMIN_PW)
        return self.tokens[ADMIN]

    def add_user(self, name, role, wards):
        st, js, _ = self.http("POST", "/api/admin/users",
                              {"username": name, "display_name": name.title(), "role": role,
                               "password": PASSWORD, "wards": wards},
                              token=self.admin_token())
        assert st == 201, (st, js)
        self.tokens[name] = self.login(name)
        return self.tokens[name]

    # -- MLLP
    def mllp(self):
        return Mllp(self.mllp_port)

    # -- store
    def db(self):
        con = sqlite3.connect(self.db_path, timeout=10)
        return con

    def count(self, table, where="1=1", args=()):
        self.settle()
        con = self.db()
        try:
            return con.execute("SELECT count(*) FROM %s WHERE %s" % (table, where), args).fetchone()[0]
        finally:
            con.close()

    def settle(self):
        """Let the server store what it writes after an ACK (the escalation policy's
        alerts, the AI's scores: its background transaction): any request the store
        thread serves runs that first, so after one the database is up to date."""
        if "settle" not in self.tokens:
            self.add_user("settle", "safety-officer", ["*"])
        st, _, _ = self.http("GET", "/api/alerts", token=self.tokens["settle"])
        assert st == 200, st

    def snapshot(self):
        """Row counts of the clinical tables (not audit: reads are audited), once the
        server has settled."""
        tabs = ["patient", "admission", "bed_stay", "obs_set", "score", "episode", "alert",
                "alert_repeat", "ack", "staff_concern", "marthas_call", "marthas_review",
                "daily_answer", "ai_optout", "scale2_decision", "escalation_plan", "app_user"]
        return {t: self.count(t) for t in tabs}

    def alive(self):
        st, js, _ = self.http("GET", "/health")
        return st == 200 and js["status"] == "ok"

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.reader.join(5)
        return rc

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


class Checks:
    """Collects failures so one run reports all of them; exit 1 if any."""

    def __init__(self):
        self.n = 0
        self.failed = []

    def check(self, cond, what):
        self.n += 1
        if not cond:
            self.failed.append(what)
            print("FAIL:", what)

    def done(self):
        print("%d checks, %d failed" % (self.n, len(self.failed)))
        sys.exit(1 if self.failed else 0)
