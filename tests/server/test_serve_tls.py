"""test_serve_tls.py: `vigil serve --tls-cert --tls-key` on a live server.

Checks: the start line says https; /health answers over TLS and the
certificate is the one given (the client verifies it, name 127.0.0.1 from
the certificate's subjectAltName); a plain-HTTP request gets no HTTP
answer; sign-in over TLS sets a Secure, HttpOnly session cookie and the
token reads a ward; a key other users can read is logged as a warning;
a certificate with the wrong key, a missing key file, a file that is not
PEM and --tls-cert without --tls-key each stop the server with a reason.
The certificates are made for the test with the openssl command (skip 77
without it).
"""
import http.client
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server, vigil_bin  # noqa: E402

C = Checks()
if shutil.which("openssl") is None:
    print("skip: no openssl command to make a test certificate")
    sys.exit(77)

tmp = tempfile.TemporaryDirectory(prefix="vigil-tls-")


def make_cert(name):
    key = os.path.join(tmp.name, name + ".key")
    crt = os.path.join(tmp.name, name + ".pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "2", "-subj", "/CN=vigil-test", "-addext",
                    "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    os.chmod(key, 0o600)
    return crt, key


crt, key = make_cert("ward")
crt2, key2 = make_cert("other")

with Server(["--tls-cert", crt, "--tls-key", key], tls_ca=crt) as s:
    C.check(s.https, "start line says https")
    st, js, _ = s.http("GET", "/health")
    C.check(st == 200 and js["status"] == "ok", "/health over TLS, certificate verified")
    plain = http.client.HTTPConnection("127.0.0.1", s.http_port, timeout=10)
    answered = None
    try:
        plain.request("GET", "/health")
        answered = plain.getresponse().status
    except (OSError, http.client.HTTPException):
        answered = None
    finally:
        plain.close()
    C.check(answered is None, "plain HTTP gets no HTTP answer (%s)" % answered)
    st, js, hdrs = s.http("POST", "/api/login", {"username": "admin",
                                                  "password": "admin-password-1"})
    cookie = hdrs.get("set-cookie", "")
    C.check(st == 200 and "Secure" in cookie and "HttpOnly" in cookie,
            "sign-in over TLS: Secure, HttpOnly cookie (%s)" % cookie)
    tok = s.add_user("nurse.tls", "nurse", ["WARD7B"])
    st, js, _ = s.http("GET", "/api/wards/WARD7B/patients", token=tok)
    C.check(st == 200, "a ward read over TLS (%s)" % st)
    C.check(not [x for x in s.log if "tls.warning" in x], "no warning for a 600 key")
    C.check(s.stop() == 0, "SIGTERM: exit 0")

os.chmod(key, 0o644)
with Server(["--tls-cert", crt, "--tls-key", key], tls_ca=crt) as s:
    C.check([x for x in s.log if "tls.warning" in x and "chmod 600" in x],
            "a key other users can read is logged")
    s.stop()
os.chmod(key, 0o600)


def refused(args, want, label):
    d = tempfile.mkdtemp(dir=tmp.name)
    r = subprocess.run([vigil_bin(), "serve", "--db", os.path.join(d, "w.db"), "--http-port", "0",
                        "--mllp-port", "0"] + args, capture_output=True, timeout=60)
    err = r.stderr.decode("utf-8", "replace")
    C.check(r.returncode != 0 and want in err, "%s: exit %d, %r" % (label, r.returncode,
                                                                   err.strip()[-160:]))


notpem = os.path.join(tmp.name, "notpem.key")
with open(notpem, "w") as f:
    f.write("this is not a key\n")
os.chmod(notpem, 0o600)
refused(["--tls-cert", crt, "--tls-key", key2], "certificate and key", "certificate with another key")
refused(["--tls-cert", crt, "--tls-key", os.path.join(tmp.name, "missing.key")], "cannot read",
        "missing key file")
refused(["--tls-cert", crt, "--tls-key", notpem], "no PEM block", "key file that is not PEM")
refused(["--tls-cert", crt], "go together", "--tls-cert alone")
C.done()
