"""test_serve_auth.py: sign-in, sessions, roles and ward scope on a live
`vigil serve`, and the audit trail of API reads.

Checks: /health needs no sign-in and says NEWS2-only without a model; no
token is 401, a wrong ward is 403 (a patient on it 404, as for none), a role that may not use a route is 403
(a nurse cannot record a Scale 2 decision, an admin cannot read a ward, a
nurse cannot add users); a wrong password is 401 and five failures lock the
account for that address (429) even with the right password; signing out
ends the session; the cookie is HttpOnly; malformed bodies are 400, wrong
content types 415, oversize bodies 413, unknown routes 404 and wrong
methods 405, all as {"error": {"code", "message"}}; every patient read is
audited with the signed-in user and the stated reason; an administrator
disabling a user ends all of that user's sessions at once and the user can
no longer sign in (a nurse cannot disable anyone, nor an admin themselves);
the administrator's list of users (GET /api/admin/users: username, name,
role, wards, enabled, last sign-in, never a hash; audited; a nurse gets 403)
follows disabling and enabling.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import PASSWORD, Checks, Server, ack_fields, adt, oru  # noqa: E402

C = Checks()


def is_error(js, code):
    return isinstance(js, dict) and js.get("error", {}).get("code") == code and \
        isinstance(js["error"].get("message"), str)


with Server() as s:
    st, js, _ = s.http("GET", "/health")
    C.check(st == 200 and js["scoring"] == "news2-only" and js["ai_model"] is None,
            "/health without sign-in, says NEWS2 only (%s)" % js)

    # patients on two wards
    conn = s.mllp()
    for ctrl, nhs, ward in (("A1", "9990000018", "WARD7B"), ("A2", "9990000026", "WARD12")):
        C.check(ack_fields(conn.request(adt(ctrl, "A01", nhs, ward)))[0] == "AA", "admitted " + ward)
    C.check(ack_fields(conn.request(oru("O1", nhs="9990000018")))[0] == "AA", "observations in")
    conn.close()
    pid7 = s.db().execute("SELECT id FROM patient WHERE nhs_number='9990000018'").fetchone()[0]

    st, js, _ = s.http("GET", "/api/wards/WARD7B/patients")
    C.check(st == 401 and is_error(js, "unauthorized"), "no token: 401 (%s %s)" % (st, js))
    st, js, _ = s.http("GET", "/api/wards/WARD7B/patients", token="x" * 43)
    C.check(st == 401, "unknown token: 401")

    st, js, _ = s.http("POST", "/api/login", {"username": "admin", "password": "wrong-password"})
    C.check(st == 401 and is_error(js, "unauthorized"), "wrong password: 401")
    st, js, hdr = s.http("POST", "/api/login", {"username": "admin", "password": "admin-password-1"})
    C.check(st == 200 and len(js["token"]) == 43, "admin signs in")
    C.check("HttpOnly" in hdr.get("set-cookie", "") and "SameSite=Strict" in hdr["set-cookie"],
            "session cookie is HttpOnly, SameSite=Strict")
    s.tokens["admin"] = js["token"]

    nurse7 = s.add_user("nurse7", "nurse", ["WARD7B"])
    nurse12 = s.add_user("nurse12", "nurse", ["WARD12"])
    doctor7 = s.add_user("doctor7", "doctor", ["WARD7B"])
    outreach = s.add_user("outreach1", "outreach", ["*"])
    safety = s.add_user("safety1", "safety-officer", ["*"])

    st, js, _ = s.http("GET", "/api/wards/WARD7B/patients", token=nurse7)
    C.check(st == 200 and len(js["patients"]) == 1, "nurse reads own ward (%s)" % st)
    st, js, _ = s.http("GET", "/api/wards/WARD7B/patients", token=nurse12)
    C.check(st == 403 and is_error(js, "forbidden"), "wrong ward: 403")
    st, js, _ = s.http("GET", "/api/patients/%d" % pid7, token=nurse12)
    C.check(st == 404 and is_error(js, "not-found"),
            "patient on another ward: 404, as for no patient (issue 12 finding 12)")
    st, js, _ = s.http("GET", "/api/patients/%d/observations" % pid7, token=nurse12)
    C.check(st == 404, "another ward's observations: 404")
    st, js, _ = s.http("GET", "/api/patients/%d" % pid7, token=outreach)
    C.check(st == 200, "outreach with every ward reads the patient")
    st, js, _ = s.http("GET", "/api/wards/WARD7B/patients", token=s.admin_token())
    C.check(st == 403, "admin cannot read a ward list: 403")
    st, js, _ = s.http("GET", "/api/wards/WARD7B/patients", token=safety)
    C.check(st == 403, "safety officer cannot read a ward list: 403")
    st, js, _ = s.http("GET", "/api/alerts", token=safety)
    C.check(st == 200, "safety officer reads open alerts")

    st, js, _ = s.http("POST", "/api/patients/%d/scale2" % pid7, {"reason": "COPD, target 88-92%"},
                       token=nurse7)
    C.check(st == 403, "nurse cannot record a Scale 2 decision: 403")
    C.check(s.count("scale2_decision") == 0, "nothing recorded for it")
    st, js, _ = s.http("POST", "/api/patients/%d/scale2" % pid7, {"reason": "COPD, target 88-92%"},
                       token=doctor7)
    C.check(st == 201, "doctor records a Scale 2 decision (%s %s)" % (st, js))
    st, js, _ = s.http("POST", "/api/admin/users", {"username": "x", "display_name": "x",
                       "role": "admin", "password": PASSWORD, "wards": ["*"]}, token=nurse7)
    C.check(st == 403, "nurse cannot add users")

    # Scale 2 now applies to new sets from HL7
    conn = s.mllp()
    C.check(ack_fields(conn.request(oru("O2", nhs="9990000018", spo2=89, fio2=28,
                                        t="20250114093000+0000")))[0] == "AA", "set after Scale 2")
    conn.close()
    sc = s.db().execute("SELECT o.spo2_scale, s.sub_spo2 FROM obs_set o JOIN score s ON "
                        "s.obs_set_id = o.id WHERE o.source_id = 'O2'").fetchone()
    C.check(sc == (2, 0), "stored on Scale 2 (SpO2 89 on oxygen scores 0): %s" % (sc,))

    # malformed requests
    st, js, _ = s.http("POST", "/api/patients/%d/concerns" % pid7, raw=b"{not json", token=nurse7)
    C.check(st == 400 and is_error(js, "bad-request"), "malformed JSON: 400")
    st, js, _ = s.http("POST", "/api/patients/%d/concerns" % pid7, raw=b"{}", token=nurse7,
                       content_type="text/plain")
    C.check(st == 415, "wrong content type: 415")
    st, js, _ = s.http("POST", "/api/patients/%d/concerns" % pid7,
                       raw=b'{"concern": "' + b"x" * 70000 + b'"}', token=nurse7)
    C.check(st == 413, "oversize body: 413 (%s)" % st)
    st, js, _ = s.http("GET", "/api/nothing", token=nurse7)
    C.check(st == 404 and is_error(js, "not-found"), "unknown route: 404")
    st, js, _ = s.http("DELETE", "/api/wards/WARD7B/patients", token=nurse7)
    C.check(st == 405, "wrong method: 405")
    st, js, _ = s.http("GET", "/api/patients/999999", token=outreach)
    C.check(st == 404, "unknown patient: 404")

    # audit: reads carry the user and the stated reason
    st, _, _ = s.http("GET", "/api/patients/%d/observations" % pid7, token=nurse7,
                      headers={"X-Vigil-Reason": "handover check"})
    n = s.count("audit", "actor = 'nurse7' AND reason = 'handover check' AND patient_id = ?",
                (pid7,))
    C.check(st == 200 and n >= 1, "observation read audited with user and reason (%d)" % n)
    n = s.count("audit", "actor = 'nurse7' AND action = 'ward.list'")
    C.check(n >= 1, "ward list read audited per patient")

    # sign out ends the session
    st, js, hdr = s.http("POST", "/api/logout", token=nurse12)
    C.check(st == 200 and "Max-Age=0" in hdr.get("set-cookie", ""), "sign out")
    st, js, _ = s.http("GET", "/api/me", token=nurse12)
    C.check(st == 401, "signed-out token: 401")

    # cookie authentication
    st, js, _ = s.http("GET", "/api/me", headers={"Cookie": "vigil_session=" + nurse7})
    C.check(st == 200 and js["user"]["username"] == "nurse7", "session cookie accepted")

    # throttle: five failures lock this user from this address
    for _ in range(5):
        s.http("POST", "/api/login", {"username": "doctor7", "password": "not-the-password"})
    st, js, _ = s.http("POST", "/api/login", {"username": "doctor7", "password": PASSWORD})
    C.check(st == 429 and is_error(js, "too-many-requests"), "locked after 5 failures: 429")
    st, js, _ = s.http("POST", "/api/login", {"username": "nurse7", "password": PASSWORD})
    C.check(st == 200, "other users still sign in")
    C.check(s.count("audit", "action = 'auth.fail'") >= 6, "failed sign-ins audited")
    # an administrator disables a leaver: sign-in refused, every open session ends at once
    leaver = s.add_user("leaver7", "nurse", ["WARD7B"])
    second = s.login("leaver7")
    st, _, _ = s.http("GET", "/api/wards/WARD7B/patients", token=leaver)
    C.check(st == 200, "the leaver reads the ward before")
    st, js, _ = s.http("POST", "/api/admin/users/leaver7/disable", token=nurse7)
    C.check(st == 403, "a nurse cannot disable a user (%s)" % st)
    st, js, _ = s.http("POST", "/api/admin/users/leaver7/disable", token=s.admin_token())
    C.check(st == 200 and js["disabled"] and js["sessions_ended"] == 2,
            "admin disables the user; both sessions end (%s)" % js)
    for tok in (leaver, second):
        st, _, _ = s.http("GET", "/api/wards/WARD7B/patients", token=tok)
        C.check(st == 401, "a disabled user's session: 401 (%s)" % st)
    st, js, _ = s.http("POST", "/api/login", {"username": "leaver7", "password": PASSWORD})
    C.check(st == 401, "a disabled user cannot sign in (%s)" % st)
    st, js, _ = s.http("POST", "/api/admin/users/leaver7/disable", token=s.admin_token())
    C.check(st == 404 and is_error(js, "not-found"), "disabling again: 404 (%s)" % st)
    st, js, _ = s.http("POST", "/api/admin/users/admin/disable", token=s.admin_token())
    C.check(st == 422, "an administrator cannot disable themselves (%s)" % st)
    C.check(s.count("audit", "action = 'user.disable'") == 1, "the disabling is audited")
    st, _, _ = s.http("GET", "/api/me", token=nurse7)
    C.check(st == 200, "other users' sessions go on")
    # the administrator's list of users: never a password hash; a nurse gets 403
    st, js, _ = s.http("GET", "/api/admin/users", token=nurse7)
    C.check(st == 403 and is_error(js, "forbidden"), "a nurse cannot list users (%s)" % st)
    st, js, _ = s.http("POST", "/api/admin/users",
                       {"username": "newcomer", "display_name": "New Comer", "role": "doctor",
                        "password": PASSWORD, "wards": ["WARD7B", "WARD9"]},
                       token=s.admin_token())
    C.check(st == 201, "a user added (%s)" % st)
    st, js, _ = s.http("GET", "/api/admin/users", token=s.admin_token())
    raw = json.dumps(js)
    users = {u["username"]: u for u in js["users"]} if st == 200 else {}
    C.check(st == 200 and [u["username"] for u in js["users"]] == sorted(users),
            "admin lists the users by username (%s)" % st)
    C.check("argon2" not in raw and PASSWORD not in raw and
            all("password" not in k and "hash" not in k for u in users.values() for k in u),
            "the list has no password hash")
    C.check(set(users.get("nurse7", {})) == {"username", "display_name", "role", "wards", "enabled",
                                             "disabled_at", "last_sign_in", "created_at"},
            "each user: username, name, role, wards, enabled, last sign-in")
    n7 = users.get("nurse7", {})
    C.check(n7.get("role") == "nurse" and n7.get("wards") == ["WARD7B"] and n7.get("enabled") is True
            and n7.get("last_sign_in") is not None, "nurse7: role, wards, enabled, signed in (%s)" % n7)
    nc = users.get("newcomer", {})
    C.check(nc.get("role") == "doctor" and nc.get("wards") == ["WARD7B", "WARD9"] and
            nc.get("last_sign_in") is None, "a user who never signed in: last sign-in null (%s)" % nc)
    lv = users.get("leaver7", {})
    C.check(lv.get("enabled") is False and lv.get("disabled_at") is not None,
            "the leaver shows disabled (%s)" % lv)
    C.check(s.count("audit", "action = 'user.list'") == 1, "the list is an audited read")
    st, js, _ = s.http("POST", "/api/admin/users/leaver7/enable", token=s.admin_token())
    st, js, _ = s.http("GET", "/api/admin/users", token=s.admin_token())
    lv = [u for u in js["users"] if u["username"] == "leaver7"]
    C.check(st == 200 and lv and lv[0]["enabled"] is True and lv[0]["disabled_at"] is None,
            "enabled again, the list says so (%s)" % lv)

    C.check(not any("correct-horse" in line or nurse7 in line for line in s.log),
            "no password or token in the log")
    C.check(s.stop() == 0, "SIGTERM: exit 0")
C.done()
