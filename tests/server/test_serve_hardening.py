"""test_serve_hardening.py: the HTTP findings of issue 12 through a live
`vigil serve`, each as an attacker on the hospital network would try it.

Checks: a ward-scoped safety officer's Martha's Rule export holds its own
wards' calls only, and only those are audited as read (finding 5); 64
slowloris connections from one address (headers never finished) do not keep
another address from the API (finding 9).
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


with Server() as srv:
    marthas_export_is_limited_to_the_officers_wards(srv)
    slowloris_from_one_address_leaves_the_api_to_the_others(srv)
C.done()
