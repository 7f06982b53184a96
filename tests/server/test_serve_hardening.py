"""test_serve_hardening.py: the HTTP findings of issue 12 through a live
`vigil serve`, each as an attacker on the hospital network would try it.

Checks: a ward-scoped safety officer's Martha's Rule export holds its own
wards' calls only, and only those are audited as read (finding 5); 64
slowloris connections from one address (headers never finished) do not keep
another address from the API (finding 9); user administration refuses
unknown members, usernames that are not lower case (so none differ only in
case), ward names with control characters, duplicate wards, answers a
duplicate username with its own 409 text (not the store's), and re-enables a
disabled user (finding 14).
"""
import http.client
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server, ack_fields, adt  # noqa: E402

C = Checks()
A_NHS, B_NHS = "9990000018", "9990000026"


def marthas_export_is_limited_to_the_officers_wards(s):
    conn = s.mllp()
    for i, (nhs, ward) in enumerate(((A_NHS, "WARDA"), (B_NHS, "WARDB"))):
        code = ack_fields(conn.request(adt("ADM%d" % i, "A01", nhs, ward)))[0]
        C.check(code == "AA", "admitted to %s" % ward)
    conn.close()
    nurse = s.add_user("nurse5", "nurse", ["WARDA", "WARDB"])
    ids = {n: s.db().execute("SELECT id FROM patient WHERE nhs_number=?", (n,)).fetchone()[0]
           for n in (A_NHS, B_NHS)}
    for nhs in (A_NHS, B_NHS):
        st, js, _ = s.http("POST", "/api/patients/%d/marthas-rule" % ids[nhs],
                           {"caller": "family", "channel": "phone", "concern": "not himself"},
                           token=nurse)
        C.check(st == 201, "call recorded (%s %s)" % (st, js))
    officer_a = s.add_user("officer5a", "safety-officer", ["WARDA"])
    officer_all = s.add_user("officer5", "safety-officer", ["*"])
    before = s.count("audit", "action = 'marthas.export'")
    st, csv, hdrs = s.http("GET", "/api/marthas-rule/export", token=officer_a)
    C.check(st == 200 and hdrs.get("content-type", "").startswith("text/csv"), "export: 200 CSV")
    text = csv if isinstance(csv, str) else str(csv)
    C.check(A_NHS in text and B_NHS not in text and "WARDB" not in text,
            "a WARDA officer's export has WARDA's call only (finding 5)")
    C.check(s.count("audit", "action = 'marthas.export'") - before == 1,
            "only the call exported is audited as read")
    st, csv, _ = s.http("GET", "/api/marthas-rule/export", token=officer_all)
    text = csv if isinstance(csv, str) else str(csv)
    C.check(st == 200 and A_NHS in text and B_NHS in text, "a '*' officer's export has both")


def slowloris_from_one_address_leaves_the_api_to_the_others(s):
    held = []
    for _ in range(64):
        try:
            c = socket.create_connection(("127.0.0.1", s.http_port), timeout=5)
            c.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1")  # never ends
            held.append(c)
        except OSError:
            pass
    try:
        c = http.client.HTTPConnection("127.0.0.1", s.http_port, timeout=20,
                                       source_address=("127.0.0.2", 0))
        c.request("GET", "/health")
        st = c.getresponse().status
        c.close()
    except (OSError, http.client.HTTPException) as e:
        st = "no answer: %r" % e
    C.check(st == 200, "/health from another address while 64 slowloris connections are "
            "open from one (got %s)" % st)
    for c in held:
        c.close()


def user_administration_refuses_what_it_cannot_keep_straight(s):
    admin = s.admin_token()

    def add(body):
        base = {"username": "nurse14", "display_name": "Nurse", "role": "nurse",
                "password": "correct-horse-1", "wards": ["WARDA"]}
        base.update(body)
        return s.http("POST", "/api/admin/users", base, token=admin)

    cases = [({"shoe_size": 9}, "an unknown member"),
             ({"username": "Nurse14"}, "upper case (would differ only in case)"),
             ({"wards": ["WARD\u0007A"]}, "a ward name with a control character"),
             ({"wards": ["WARDA", "WARDA"]}, "a duplicate ward"),
             ({"wards": ["*", "WARDA"]}, "'*' with other wards")]
    for body, what in cases:
        st, js, _ = add(body)
        C.check(st == 422, "user with %s: 422 (got %s %s)" % (what, st, js))
    st, js, _ = add({})
    C.check(st == 201, "a proper user is added (%s %s)" % (st, js))
    st, js, _ = add({})
    msg = (js or {}).get("error", {}).get("message", "")
    C.check(st == 409 and "already exists" in msg and "sqlite" not in msg.lower()
            and "UNIQUE" not in msg, "a duplicate username: 409 in our words (%s)" % msg)
    st, _, _ = s.http("POST", "/api/admin/users/nurse14/disable", token=admin)
    C.check(st == 200, "disabled")
    st, _, _ = s.http("POST", "/api/login", {"username": "nurse14", "password": "correct-horse-1"})
    C.check(st == 401, "a disabled user cannot sign in")
    st, js, _ = s.http("POST", "/api/admin/users/nurse14/enable", token=admin)
    C.check(st == 200, "re-enabled (%s %s)" % (st, js))
    st, _, _ = s.http("POST", "/api/login", {"username": "nurse14", "password": "correct-horse-1"})
    C.check(st == 200, "and signs in again")
    st, _, _ = s.http("POST", "/api/admin/users/nurse14/enable", token=admin)
    C.check(st == 404, "enabling an enabled user: 404")


def denied_attempts_are_logged_and_counted(s):
    nurse = s.add_user("nurse12", "nurse", ["WARDZ"])
    st, _, _ = s.http("GET", "/api/wards/WARDA/patients", token=nurse)
    st2, _, _ = s.http("GET", "/api/alerts")
    C.check(st == 403 and st2 == 401, "another ward: 403; no session: 401 (%s %s)" % (st, st2))
    _, text, _ = s.http("GET", "/metrics")
    line = [x for x in text.splitlines() if x.startswith("vigil_http_denied_total ")]
    C.check(line and float(line[0].split()[1]) >= 2, "/metrics counts them (%s)" % line)
    logged = [x for x in s.log if "auth.denied: 403 GET /api/wards/WARDA/patients by nurse12" in x]
    C.check(len(logged) == 1, "the denied attempt is in the log with who and what (finding 12)")


with Server() as srv:
    user_administration_refuses_what_it_cannot_keep_straight(srv)
    denied_attempts_are_logged_and_counted(srv)
    marthas_export_is_limited_to_the_officers_wards(srv)
    slowloris_from_one_address_leaves_the_api_to_the_others(srv)
C.done()
