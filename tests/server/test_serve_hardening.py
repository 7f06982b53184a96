"""test_serve_hardening.py: the HTTP findings of issue 12 through a live
`vigil serve`, each as an attacker on the hospital network would try it.

Checks: a ward-scoped safety officer's Martha's Rule export holds its own
wards' calls only, and only those are audited as read (finding 5); 64
slowloris connections from one address (headers never finished) do not keep
another address from the API (finding 9); user administration refuses
unknown members, usernames that are not lower case (so none differ only in
case), ward names with control characters, duplicate wards, answers a
duplicate username with its own 409 text (not the store's), and re-enables a
disabled user (finding 14). A patient on another ward looks exactly like no
patient at all, on every patient route (the same status and body: 404), and a
FHIR search for one is the same empty searchset as for an NHS number vigil
does not know; every denial (401, 403, 404 for scope) reaches the audit trail
in the store, aggregated: a flood of 300 is one record per user, route and
minute with its count (finding 12).
"""
import http.client
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server, ack_fields, adt, oru, vigil_bin  # noqa: E402

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
    # outreach and doctors read the log of their own wards (to find the calls they must
    # review); a nurse does not
    outreach_a = s.add_user("outreach5a", "outreach", ["WARDA"])
    st, csv, _ = s.http("GET", "/api/marthas-rule/export", token=outreach_a)
    text = csv if isinstance(csv, str) else str(csv)
    C.check(st == 200 and A_NHS in text and B_NHS not in text,
            "a WARDA outreach user's log has WARDA's call only (%s)" % st)
    st, _, _ = s.http("GET", "/api/marthas-rule/export", token=nurse)
    C.check(st == 403, "a nurse cannot read the Martha's Rule log (%s)" % st)


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
    # the log comes through the server's stderr on a reader thread: give it time to arrive
    want = "auth.denied: 403 GET /api/wards/WARDA/patients by nurse12"
    for _ in range(50):
        logged = [x for x in s.log if want in x]
        if logged:
            break
        time.sleep(0.1)
    C.check(len(logged) == 1, "the denied attempt is in the log with who and what (finding 12)")


NOBODY = 987654  # a patient id that does not exist
UNKNOWN_NHS = "9434765870"  # a valid NHS number vigil does not know


def patients_on_other_wards_look_like_no_patient_at_all(s):
    """Runs after marthas_export_...: A on WARDA, B on WARDB, a Martha's Rule call each."""
    db = s.db()
    b_id = db.execute("SELECT id FROM patient WHERE nhs_number=?", (B_NHS,)).fetchone()[0]
    b_call = db.execute("SELECT c.id FROM marthas_call c WHERE c.patient_id=?",
                        (b_id,)).fetchone()[0]
    db.close()
    conn = s.mllp()
    code = ack_fields(conn.request(oru("HIGHB", nhs=B_NHS, rr=25, spo2=91, hr=131, sbp=90,
                                       t="20250114110000+0000")))[0]
    conn.close()
    C.check(code == "AA", "a high-scoring set for B")
    s.settle()
    db = s.db()
    row = db.execute("SELECT a.id FROM alert a JOIN episode e ON e.id = a.episode_id "
                     "WHERE e.patient_id=? ORDER BY a.id DESC", (b_id,)).fetchone()
    db.close()
    b_alert = row[0] if row else None
    C.check(b_alert is not None, "B has an open alert")
    nurse = s.add_user("nurse12a", "nurse", ["WARDA"])
    doctor = s.add_user("doctor12a", "doctor", ["WARDA"])
    routes = [("GET", "/api/patients/%d", None), ("GET", "/api/patients/%d/observations", None),
              ("GET", "/api/patients/%d/history", None),
              ("GET", "/api/patients/%d/bedside-code", None),
              ("GET", "/api/patients/%d/outcomes", None),
              ("POST", "/api/patients/%d/observations", {"rr": 18}),
              ("POST", "/api/patients/%d/concerns", {"concern": "worried"}),
              ("POST", "/api/patients/%d/outcomes", {"kind": "death"}),
              ("POST", "/api/patients/%d/marthas-rule",
               {"caller": "family", "channel": "phone", "concern": "not himself"}),
              ("POST", "/api/patients/%d/daily-answer", {"answer": "worse"}),
              ("POST", "/api/patients/%d/ai-optout", {"reason": "asked"}),
              ("DELETE", "/api/patients/%d/ai-optout", None)]
    doctor_routes = [("POST", "/api/patients/%d/scale2", {"reason": "COPD"}),
                     ("POST", "/api/patients/%d/scale2/end", {}),
                     ("POST", "/api/patients/%d/escalation-plan", {"ceiling": "ward"})]
    for token, rs in ((nurse, routes), (doctor, doctor_routes)):
        for method, path, body in rs:
            st_b, js_b, _ = s.http(method, path % b_id, body, token=token)
            st_n, js_n, _ = s.http(method, path % NOBODY, body, token=token)
            C.check(st_b == 404 and (st_b, js_b) == (st_n, js_n),
                    "%s %s: a patient on another ward is answered as no patient (%s %s / %s %s)"
                    % (method, path, st_b, js_b, st_n, js_n))
    for method, path, body, token in (
            ("POST", "/api/alerts/%d/ack", {"action": "attending"}, nurse),
            ("GET", "/api/alerts/%d/pages", None, nurse),
            ("POST", "/api/marthas-rule/%d/review",
             {"responder": "Dr A", "category": "acute-deterioration", "outcome": "no-change"},
             doctor)):
        real = b_alert if "alert" in path else b_call
        st_b, js_b, _ = s.http(method, path % real, body, token=token)
        st_n, js_n, _ = s.http(method, path % NOBODY, body, token=token)
        same = json.dumps(js_b).replace(str(real), "N") == json.dumps(js_n).replace(str(NOBODY), "N")
        C.check(st_b == 404 and st_n == 404 and same,
                "%s %s: another ward's is answered as none (%s %s / %s %s)"
                % (method, path, st_b, js_b, st_n, js_n))
    st_b, js_b, _ = s.http("GET", "/fhir/Observation?patient=" + B_NHS, token=nurse)
    st_n, js_n, _ = s.http("GET", "/fhir/Observation?patient=" + UNKNOWN_NHS, token=nurse)
    C.check(st_b == 200 and (st_b, json.dumps(js_b).replace(B_NHS, "N")) ==
            (st_n, json.dumps(js_n).replace(UNKNOWN_NHS, "N")) and js_b.get("total") == 0,
            "FHIR search for another ward's patient: the empty searchset of an unknown one "
            "(%s %s / %s %s)" % (st_b, js_b, st_n, js_n))
    return b_id


def a_flood_of_denials_is_one_audit_record_per_user_route_and_minute(s, b_id):
    """Last: stops the server (the denials of the minute are written at stop)."""
    nurse = s.add_user("nurse12f", "nurse", ["WARDA"])
    for _ in range(300):
        st, _, _ = s.http("GET", "/api/patients/%d" % b_id, token=nurse)
    C.check(st == 404, "the flood is answered 404")
    st, _, _ = s.http("GET", "/api/alerts/1/pages", token="x" * 43)
    C.check(st == 401, "a bad token: 401")
    rc = s.stop()
    C.check(rc == 0, "the server stops cleanly (%s)" % rc)
    db = s.db()
    rows = db.execute("SELECT detail FROM audit WHERE action='access.denied' AND actor=?",
                      ("nurse12f",)).fetchall()
    n = [int(d.split(" x", 1)[1].split(" ", 1)[0]) for (d,) in rows
         if d.startswith("404 GET /api/patients/{} x")]
    C.check(1 <= len(rows) <= 2 and sum(n) == 300,
            "300 denials by one user on one route: %d audit record(s) counting %d (%s)"
            % (len(rows), sum(n), rows[:2]))
    anon = db.execute("SELECT detail FROM audit WHERE action='access.denied' "
                      "AND actor='anonymous'").fetchall()
    C.check(any(d.startswith("401 GET /api/alerts/{}/pages x1 from 127.0.0.1")
                for (d,) in anon), "a 401 is audited as anonymous (%s)" % anon)
    scope = db.execute("SELECT count(*) FROM audit WHERE action='access.denied' AND "
                       "actor='nurse12a' AND detail LIKE '404 % /api/patients/{}%'").fetchone()[0]
    C.check(scope >= 10, "each route of the out-of-scope probes is audited (%d)" % scope)
    db.close()
    r = subprocess.run([vigil_bin(), "audit", "verify", "--db", s.db_path],
                       capture_output=True, text=True)
    C.check(r.returncode == 0, "the audit chain still verifies (%s)" % r.stdout[-200:])


with Server() as srv:
    user_administration_refuses_what_it_cannot_keep_straight(srv)
    denied_attempts_are_logged_and_counted(srv)
    marthas_export_is_limited_to_the_officers_wards(srv)
    slowloris_from_one_address_leaves_the_api_to_the_others(srv)
    pid_b = patients_on_other_wards_look_like_no_patient_at_all(srv)
    a_flood_of_denials_is_one_audit_record_per_user_route_and_minute(srv, pid_b)
C.done()
