"""test_serve_escalation.py: the escalation policy through a live `vigil serve`.

Checks (../shared/spec/escalation.md): a high NEWS2 from HL7 opens an alert
at emergency level, stored as an episode; an acknowledgement is recorded
(who, what), and declining to escalate without a reason is refused; a staff
concern raises a low-scoring patient to at least urgent-ward; a Martha's
Rule call alerts critical-care outreach with its own alert, and its review
is recorded; observations posted through the API are scored and escalated;
a "worse" daily answer shows on the ward list; an AI opt-out shows; a
doctor's plan is recorded; a partial set posted within the assembly window is scored as one set with the
complete set before it.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server, ack_fields, adt, oru  # noqa: E402

C = Checks()
HIGH, LOW, OTHER = "9990000018", "9990000026", "9990000034"


def row(js, nhs):
    return next(p for p in js["patients"] if p["patient"]["nhs_number"] == nhs)


with Server() as s:
    conn = s.mllp()
    for i, nhs in enumerate((HIGH, LOW, OTHER)):
        C.check(ack_fields(conn.request(adt("A%d" % i, "A01", nhs, "WARD7B", "BED0%d" % i)))[0] ==
                "AA", "admitted")
    nurse = s.add_user("nurse7", "nurse", ["WARD7B"])
    doctor = s.add_user("doctor7", "doctor", ["WARD7B"])
    outreach = s.add_user("outreach1", "outreach", ["*"])
    ids = {n: s.db().execute("SELECT id FROM patient WHERE nhs_number=?", (n,)).fetchone()[0]
           for n in (HIGH, LOW, OTHER)}

    # high NEWS2 from HL7 opens an alert (RR 25 = 3, SpO2 91 = 3, HR 131 = 3, SBP 90 = 2 ...)
    C.check(ack_fields(conn.request(oru("H1", nhs=HIGH, rr=25, spo2=91, hr=131, sbp=90)))[0] ==
            "AA", "high set acknowledged")
    C.check(ack_fields(conn.request(oru("L1", nhs=LOW)))[0] == "AA", "low set acknowledged")
    conn.close()
    s.settle()  # the policy's writes follow the ACK (docs/server.md, background transaction)
    ep = s.db().execute("SELECT e.level, e.trigger, a.id FROM episode e JOIN alert a ON "
                        "a.episode_id = e.id WHERE e.patient_id = ?", (ids[HIGH],)).fetchall()
    C.check(len(ep) == 1 and ep[0][0] == "emergency" and ep[0][1] == "news2",
            "high NEWS2 opened one emergency episode (%s)" % ep)
    alert_id = ep[0][2]
    C.check(s.count("episode", "patient_id = ?", (ids[LOW],)) == 0, "a NEWS2 of 0 opens none")

    st, js, _ = s.http("GET", "/api/wards/WARD7B/patients", token=nurse)
    hi = row(js, HIGH)
    C.check(st == 200 and hi["escalation"]["level"] == "emergency", "ward list: emergency")
    C.check(hi["news2"]["total"] >= 7 and hi["news2"]["complete"], "ward list: NEWS2 total")
    C.check(len(hi["alerts"]) == 1 and not hi["alerts"][0]["acknowledged"], "open unacked alert")
    st, js, _ = s.http("GET", "/api/alerts?ward=WARD7B", token=nurse)
    C.check(st == 200 and [a["alert_id"] for a in js["alerts"]] == [alert_id], "open alerts list")

    # acknowledgement: declining needs a reason; then recorded
    st, js, _ = s.http("POST", "/api/alerts/%d/ack" % alert_id, {"action": "declined"}, token=nurse)
    C.check(st == 422, "declining without a reason: 422")
    C.check(s.count("ack") == 0, "nothing recorded for it")
    st, js, _ = s.http("POST", "/api/alerts/%d/ack" % alert_id,
                       {"action": "attending", "reason": "on my way"}, token=nurse)
    C.check(st == 200 and js["by"] == "nurse7", "acknowledged (%s %s)" % (st, js))
    a = s.db().execute("SELECT username, action FROM ack WHERE alert_id = ?", (alert_id,)).fetchall()
    C.check(a == [("nurse7", "attending")], "ack stored: who and what (%s)" % a)
    st, js, _ = s.http("POST", "/api/alerts/%d/ack" % alert_id, {"action": "reviewed"}, token=nurse)
    C.check(st == 409, "acknowledging twice: 409")

    # staff concern on the low scorer: at least urgent-ward
    st, js, _ = s.http("POST", "/api/patients/%d/concerns" % ids[LOW],
                       {"concern": "looks grey, not himself"}, token=nurse)
    C.check(st == 201 and js["escalation"]["level"] in ("urgent-ward", "urgent", "emergency"),
            "staff concern raises to at least urgent-ward (%s)" % (js or {}).get("escalation"))
    ep = s.db().execute("SELECT level, trigger FROM episode WHERE patient_id = ?",
                        (ids[LOW],)).fetchall()
    C.check(ep == [("urgent-ward", "staff-concern")], "concern episode stored (%s)" % ep)

    # Martha's Rule: its own alert to critical-care outreach
    st, js, _ = s.http("POST", "/api/patients/%d/marthas-rule" % ids[OTHER],
                       {"caller": "family", "caller_name": "daughter", "channel": "phone",
                        "concern": "Mum is much more confused since this morning"}, token=nurse)
    C.check(st == 201 and js["escalation"]["level"] == "emergency", "Martha's Rule: emergency")
    call_id = js.get("call_id")
    m = [x for x in js["alerts"] if x["kind"] == "marthas-rule"]
    C.check(len(m) == 1 and "critical-care outreach" in m[0]["notify"],
            "Martha's Rule alerts outreach (%s)" % js["alerts"])
    ep = s.db().execute("SELECT level, trigger, trigger_ref FROM episode WHERE patient_id = ?",
                        (ids[OTHER],)).fetchall()
    C.check(ep == [("emergency", "marthas-rule", call_id)], "call episode stored (%s)" % ep)
    st, js, _ = s.http("POST", "/api/marthas-rule/%d/review" % call_id,
                       {"responder": "outreach1", "category": "acute-deterioration",
                        "outcome": "change-in-care", "note": "sepsis screen"}, token=nurse)
    C.check(st == 403, "a nurse cannot record the review")
    st, js, _ = s.http("POST", "/api/marthas-rule/%d/review" % call_id,
                       {"responder": "outreach1", "category": "acute-deterioration",
                        "outcome": "change-in-care", "note": "sepsis screen"}, token=outreach)
    C.check(st == 201, "outreach records the review (%s %s)" % (st, js))
    st, js, _ = s.http("GET", "/api/patients/%d" % ids[OTHER], token=outreach)
    C.check(st == 200 and not [x for x in js["alerts"] if x["kind"] == "marthas-rule"],
            "the reviewed call's alert is answered")

    # observations through the API
    st, js, _ = s.http("POST", "/api/patients/%d/observations" % ids[OTHER],
                       {"rr": 22, "spo2": 95, "o2": "air", "sbp": 105, "hr": 95, "acvpu": "A",
                        "temp_c": 38.5}, token=nurse)
    C.check(st == 201 and js["news2"]["total"] == 2 + 1 + 0 + 1 + 1 + 0 + 1,
            "API observation scored (%s)" % (js or {}).get("news2"))
    st, js, _ = s.http("POST", "/api/patients/%d/observations" % ids[OTHER], {"hr": 350},
                       token=nurse)
    C.check(st == 422, "implausible API value: 422")
    st, js, _ = s.http("POST", "/api/patients/%d/observations" % ids[OTHER], {"pulse": 80},
                       token=nurse)
    C.check(st == 422, "unknown member: 422")
    st, js, _ = s.http("POST", "/api/patients/%d/observations" % ids[OTHER], {"hr": 80, "rr": 16},
                       token=nurse)
    # measured with the complete set above (within the assembly window): one set
    # (REQ OBS-ASSEMBLE-WINDOW; tests/server/test_serve_partial_sets.py has the rest)
    C.check(st == 201 and js["news2"]["complete"] and js["carried"] == ["rr", "hr"] and
            len(js["assembled_from_window"]) == 5,
            "a partial set within the window is assembled (%s)" % js)

    # daily answer, opt-out, plan
    st, js, _ = s.http("POST", "/api/patients/%d/daily-answer" % ids[LOW], {"answer": "worse"},
                       token=nurse)
    C.check(st == 201 and js["escalation"]["worse"], "worse answer recorded")
    st, js, _ = s.http("POST", "/api/patients/%d/ai-optout" % ids[LOW], {"note": "asked"},
                       token=nurse)
    C.check(st == 201, "AI opt-out recorded")
    st, js, _ = s.http("POST", "/api/patients/%d/ai-optout" % ids[LOW], {}, token=nurse)
    C.check(st == 409, "second opt-out: 409")
    st, js, _ = s.http("GET", "/api/wards/WARD7B/patients", token=nurse)
    lo = row(js, LOW)
    C.check(lo["daily"]["worse"] and lo["ai_opted_out"], "ward list: worse and opted out")
    plan = {"level": "ward", "news2_usual_max": 5, "reason": "chronic lung disease, usual RR 24",
            "plan": "ward review unless RR > 28", "review_at": "2031-01-01T00:00:00Z",
            "expires_at": "2031-01-02T00:00:00Z"}
    st, js, _ = s.http("POST", "/api/patients/%d/escalation-plan" % ids[LOW], plan, token=nurse)
    C.check(st == 403, "a nurse cannot record a plan")
    st, js, _ = s.http("POST", "/api/patients/%d/escalation-plan" % ids[LOW], plan, token=doctor)
    C.check(st == 201 and s.count("escalation_plan") == 1, "doctor records a plan (%s)" % st)
    st, js, _ = s.http("GET", "/api/wards/WARD7B/patients", token=nurse)
    lo = row(js, LOW)
    C.check(lo["plan"]["active"] and lo["escalation"]["level"] == "urgent-ward",
            "a plan never overrides staff concern (%s)" % lo["escalation"]["level"])
    C.check(s.stop() == 0, "SIGTERM: exit 0")
C.done()
