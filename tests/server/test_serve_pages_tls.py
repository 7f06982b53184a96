"""test_serve_pages_tls.py: the webhook channel over HTTPS (issue 16): a stand-in
gateway serving TLS with a certificate made for the test (openssl; skip 77 without it).
With --page-ca naming that certificate the page is delivered; a server that does not
trust it never delivers (the certificate is verified) and records each failed attempt.
"""
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server, ack_fields, adt, oru  # noqa: E402

if shutil.which("openssl") is None:
    print("skip: no openssl command to make a test certificate")
    sys.exit(77)

C = Checks()
tmp = tempfile.TemporaryDirectory(prefix="vigil-page-tls-")
key, crt = os.path.join(tmp.name, "gw.key"), os.path.join(tmp.name, "gw.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt, "-days",
                "2", "-subj", "/CN=vigil-gateway", "-addext", "subjectAltName=IP:127.0.0.1"],
               check=True, capture_output=True)
got = []


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        got.append(self.headers.get("X-Vigil-Page-Id"))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(crt, key)
httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
threading.Thread(target=httpd.serve_forever, daemon=True).start()
url = "https://127.0.0.1:%d/page" % httpd.server_address[1]
os.environ["VIGIL_PAGE_SECRET"] = "tls-test-secret-0123456789"


def run(extra):
    with Server(["--page-webhook", url, "--page-retry", "1"] + extra) as s:
        s.add_user("outreach1", "outreach", ["*"])
        now = time.time()
        iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))  # noqa: E731
        st, _, _ = s.http("POST", "/api/rota", {"ward": "*", "level": "emergency", "step": 0,
                                                "username": "outreach1", "from": iso(now - 60),
                                                "to": iso(now + 3600)}, token=s.admin_token())
        C.check(st == 201, "rota")
        c = s.mllp()
        C.check(ack_fields(c.request(adt("A1", "A01", "9990000018", "WARD7B")))[0] == "AA", "adt")
        C.check(ack_fields(c.request(oru("H1", rr=25, spo2=91, hr=131, sbp=90)))[0] == "AA",
                "emergency set")
        c.close()
        s.settle()
        end = time.time() + 10
        rows = []
        while time.time() < end:
            con = s.db()
            rows = con.execute("SELECT p.state, (SELECT group_concat(detail, '|') FROM "
                               "page_attempt a WHERE a.page_id = p.id) FROM page p WHERE "
                               "p.channel = 'webhook'").fetchall()
            con.close()
            if rows and (rows[0][0] == "delivered" or (rows[0][1] or "").count("|") >= 1):
                break
            time.sleep(0.2)
        return rows


n0 = len(got)
rows = run(["--page-ca", crt])
C.check(rows and rows[0][0] == "delivered" and len(got) == n0 + 1,
        "trusted gateway certificate: delivered over TLS (%s)" % rows)
n1 = len(got)
rows = run([])
C.check(rows and rows[0][0] == "pending" and len(got) == n1 and
        "certificate" in (rows[0][1] or ""),
        "untrusted certificate: not delivered, attempts recorded (%s)" % rows)
httpd.shutdown()
C.done()
