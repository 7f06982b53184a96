"""test_serve_web.py: the web app's files served by `vigil serve` from the API's port,
the security headers on every response, and the CSRF defences (issue 12 finding 10).

Checks: "/" is the sign-in page (text/html), scripts are text/javascript, nhsuk-frontend's
CSS is there without any font from another site; every response (page, script, JSON,
404) carries a Content-Security-Policy without 'unsafe-inline' and with
frame-ancestors 'none', nosniff and a Referrer-Policy; a file's ETag gives 304; no path
reaches outside the web root ("..", encoded dots, doubled slashes, a symbolic link in the
root); a state-changing request from another Origin, or with a cross-site
Sec-Fetch-Site, is refused (403) even with the right token; a request signed in by the
cookie without X-CSRF-Token, or with a wrong one, is refused (403), body-less ones (sign
out, disable a user) included; with the token from GET /api/csrf it goes through; a
Bearer request needs no CSRF token.
"""
import http.client
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server, adt, ack_fields  # noqa: E402

C = Checks()
BUILD = os.environ.get("VIGIL_BUILD_DIR", "build")
WEB = os.path.join(BUILD, "web")
if not os.path.exists(os.path.join(WEB, "index.html")):
    print("skip: %s/index.html missing (the build makes it with node; run scripts/setup.sh)" % WEB)
    sys.exit(77)


def raw_get(port, path, headers=None):
    """GET with the path sent exactly as given (http.client does not normalise it)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.putrequest("GET", path, skip_accept_encoding=True)
    for k, v in (headers or {}).items():
        c.putheader(k, v)
    c.endheaders()
    r = c.getresponse()
    body = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, body, hdrs


def secure_headers(h, what):
    csp = h.get("content-security-policy", "")
    C.check("unsafe-inline" not in csp and "script-src 'self'" in csp and
            "frame-ancestors 'none'" in csp and "default-src 'none'" in csp,
            "%s: strict CSP (%s)" % (what, csp))
    C.check(h.get("x-content-type-options") == "nosniff", what + ": nosniff")
    C.check(h.get("referrer-policy") == "no-referrer", what + ": Referrer-Policy")


outside = tempfile.TemporaryDirectory(prefix="vigil-outside-")
secret = os.path.join(outside.name, "secret.html")
with open(secret, "w") as f:
    f.write("SECRET-OUTSIDE")
root = tempfile.TemporaryDirectory(prefix="vigil-webroot-")
with open(os.path.join(root.name, "index.html"), "w") as f:
    f.write("<!DOCTYPE html><title>t</title>inside")
os.symlink(secret, os.path.join(root.name, "link.html"))
os.symlink(outside.name, os.path.join(root.name, "dir"))
with open(os.path.join(root.name, "notes.sh"), "w") as f:
    f.write("echo no")

with Server(["--web-root", root.name]) as s:
    st, body, h = raw_get(s.http_port, "/")
    C.check(st == 200 and b"inside" in body, "a given web root is served")
    for p in ("/link.html", "/link", "/dir/secret.html", "/notes.sh"):
        st, body, h = raw_get(s.http_port, p)
        C.check(st == 404 and b"SECRET" not in body, "not served: %s (%d)" % (p, st))

with Server() as s:  # the default web root: web/ beside the program
    port = s.http_port
    st, body, h = raw_get(port, "/")
    C.check(st == 200 and h.get("content-type", "").startswith("text/html") and
            b"Sign in to vigil" in body, "/ is the sign-in page (%d %s)" % (st, h.get("content-type")))
    secure_headers(h, "page")
    C.check(b"<script>" not in body and b"style=" not in body, "no inline script or style")
    etag = h.get("etag")
    st, body, h2 = raw_get(port, "/", {"If-None-Match": etag or "x"})
    C.check(etag and st == 304 and body == b"", "ETag revalidation gives 304 (%s)" % st)
    st, body, h = raw_get(port, "/js/app.js")
    C.check(st == 200 and h.get("content-type", "").startswith("text/javascript"),
            "scripts are text/javascript")
    secure_headers(h, "script")
    st, body, h = raw_get(port, "/assets/nhsuk/nhsuk-frontend.min.css")
    C.check(st == 200 and h.get("content-type", "").startswith("text/css") and
            b"nhsuk-header" in body and b"assets.nhs.uk" not in body,
            "nhsuk-frontend CSS served, no font from another site")
    C.check("max-age" in h.get("cache-control", ""), "nhsuk assets cached")
    st, body, h = raw_get(port, "/ward")
    C.check(st == 200 and b"<html" in body, "/ward is ward.html")
    for p in ("/../CMakeLists.txt", "/js/../../CMakeLists.txt", "/%2e%2e/CMakeLists.txt",
              "//etc/passwd", "/js/%2e%2e/%2e%2e/README.md", "/.hidden", "/web/index.html",
              "/index.html/", "/js"):
        st, body, h = raw_get(port, p)
        C.check(st == 404 and b"vigil" not in body.lower().replace(b"no such endpoint", b""),
                "no traversal: %s -> %d" % (p, st))
    secure_headers(h, "404")
    st, js, h = s.http("GET", "/health")
    secure_headers(h, "JSON")

    # ---- CSRF (issue 12 finding 10)
    conn = s.mllp()
    C.check(ack_fields(conn.request(adt("W1", "A01", "9990000018", "WARD7B")))[0] == "AA", "admit")
    conn.close()
    pid = s.db().execute("SELECT id FROM patient WHERE nhs_number='9990000018'").fetchone()[0]
    nurse = s.add_user("nurse7", "nurse", ["WARD7B"])
    me = "http://127.0.0.1:%d" % port
    ck = {"Cookie": "vigil_session=" + nurse}
    concern = "/api/patients/%d/concerns" % pid
    st, js, _ = s.http("POST", concern, {"concern": "x"}, headers=ck)
    C.check(st == 403 and "CSRF" in js["error"]["message"], "cookie POST without token: 403 (%s)" % st)
    st, js, _ = s.http("POST", concern, {"concern": "x"}, headers=dict(ck, **{"X-CSRF-Token": "A" * 43}))
    C.check(st == 403, "cookie POST with a wrong token: 403")
    st, js, _ = s.http("GET", "/api/csrf", headers=ck)
    C.check(st == 200 and len(js["csrf_token"]) == 43, "GET /api/csrf gives the token")
    tok = js["csrf_token"]
    good = dict(ck, **{"X-CSRF-Token": tok})
    st, js, _ = s.http("POST", concern, {"concern": "x"}, headers=dict(good, Origin="http://evil.example"))
    C.check(st == 403 and "Origin" in js["error"]["message"], "another Origin: 403 even with the token")
    st, js, _ = s.http("POST", concern, {"concern": "x"}, headers=dict(good, Origin="null"))
    C.check(st == 403, "Origin null: 403")
    st, js, _ = s.http("POST", concern, {"concern": "x"}, headers=dict(good, **{"Sec-Fetch-Site": "cross-site"}))
    C.check(st == 403, "Sec-Fetch-Site cross-site: 403")
    before = s.count("staff_concern")
    st, js, _ = s.http("POST", concern, {"concern": "worried"}, headers=dict(good, Origin=me))
    C.check(st == 201, "own Origin and the token: stored (%s %s)" % (st, js))
    C.check(s.count("staff_concern") == before + 1, "refused requests stored nothing")
    st, js, _ = s.http("POST", concern, {"concern": "by bearer"}, token=nurse)
    C.check(st == 201, "Bearer request needs no CSRF token (%s)" % st)
    st, js, _ = s.http("POST", concern, {"concern": "x"}, token=nurse, headers={"Origin": "http://evil.example"})
    C.check(st == 403, "Bearer from another Origin: 403")
    st, js, _ = s.http("POST", "/api/login", {"username": "nurse7", "password": "correct-horse-1"},
                       headers={"Origin": "http://evil.example"})
    C.check(st == 403, "sign-in from another Origin: 403")
    # body-less state changes
    admin_ck = {"Cookie": "vigil_session=" + s.admin_token()}
    st, js, _ = s.http("POST", "/api/admin/users/nurse7/disable", headers=admin_ck)
    C.check(st == 403, "body-less POST (disable) by cookie without token: 403 (%s)" % st)
    st, js, _ = s.http("DELETE", "/api/patients/%d/ai-optout" % pid, headers=ck)
    C.check(st == 403, "DELETE by cookie without token: 403")
    st, js, _ = s.http("POST", "/api/logout", headers=ck)
    C.check(st == 403, "sign-out by cookie without token: 403")
    st, js, _ = s.http("GET", "/api/me", headers=ck)
    C.check(st == 200, "the session is still there")
    st, js, _ = s.http("POST", "/api/logout", headers=good)
    C.check(st == 200, "sign-out with the token")
    st, js, _ = s.http("GET", "/api/me", headers=ck)
    C.check(st == 401, "signed out")

C.done()
