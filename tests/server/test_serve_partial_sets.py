"""test_serve_partial_sets.py: a partial observation set never lowers the level
or the NEWS2 shown (issue 11, item 3; docs/escalation.md, "Observation sets
assembled, not overwritten"), through a live `vigil serve`.

Cases, each from the issue's findings:
- a complete set scoring in the emergency band, then a heart rate alone a
  minute later (within the assembly window): the two form one set;
- then a heart rate alone 30 minutes later (outside the window): the ward
  list still shows the last complete set's NEWS2 and the emergency level,
  and says the latest set carried only the heart rate;
- `{}` posted as an observation set is refused (422) with its reason;
- separate FHIR Observations for one measurement time form one set;
- a late set (measured before the latest) is evaluated when it arrives;
- a set stamped ahead of the clock (within the allowed skew) does not hide
  a newer real set.
"""
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server, ack_fields, adt, oru  # noqa: E402

C = Checks()
P, Q, R, S = "9990000018", "9990000026", "9990000034", "9990000042"
DAY = "from=2025-01-14T00:00:00Z&to=2025-01-15T00:00:00Z"
NONE = dict(rr=None, spo2=None, fio2=None, sbp=None, acvpu=None, temp=None)


def row(js, nhs):
    return next(p for p in js["patients"] if p["patient"]["nhs_number"] == nhs)


def reasons(r):
    return [x["code"] for x in r["escalation"]["reasons"]]


def hl7_time(ms):
    return time.strftime("%Y%m%d%H%M%S+0000", time.gmtime(ms / 1000))


def fhir_obs(nhs, loinc, display, value, unit, ucum, t):
    return json.dumps({
        "resourceType": "Observation", "status": "final",
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc, "display": display}]},
        "subject": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number",
                                   "value": nhs}},
        "effectiveDateTime": t,
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org",
                          "code": ucum}}).encode()


with Server() as s:
    conn = s.mllp()
    for i, nhs in enumerate((P, Q, R, S)):
        C.check(ack_fields(conn.request(adt("A%d" % i, "A01", nhs, "WARD7B", "BED0%d" % i)))[0]
                == "AA", "admitted %s" % nhs)
    nurse = s.add_user("nurse7", "nurse", ["WARD7B"])
    ids = {n: s.db().execute("SELECT id FROM patient WHERE nhs_number=?", (n,)).fetchone()[0]
           for n in (P, Q, R, S)}

    # 1. complete set in the emergency band: RR 30 (3), SpO2 88 (3), SBP 85 (3),
    #    HR 140 (3), V (3), temp 36.5 (0), air (0) = 15
    C.check(ack_fields(conn.request(oru("E1", nhs=P, t="20250114083000+0000", rr=30, spo2=88,
                                        sbp=85, hr=140, acvpu="V", temp=36.5)))[0] == "AA",
            "complete emergency set acknowledged")
    s.settle()
    st, js, _ = s.http("GET", "/api/wards/WARD7B/patients", token=nurse)
    p = row(js, P)
    C.check(p["news2"]["total"] == 15 and p["news2"]["complete"] and
            p["escalation"]["level"] == "emergency", "NEWS2 15, emergency (%s)" % p["news2"])

    # 2. heart rate alone a minute later: assembled with the set (REQ OBS-ASSEMBLE-WINDOW)
    C.check(ack_fields(conn.request(oru("E2", nhs=P, t="20250114083100+0000", hr=72,
                                        **NONE)))[0] == "AA", "heart rate alone acknowledged")
    s.settle()
    st, js, _ = s.http("GET", "/api/wards/WARD7B/patients", token=nurse)
    p = row(js, P)
    C.check(p["news2"]["complete"] and p["news2"]["total"] == 12 and
            p["news2"]["basis"] == "latest-set" and p["news2"]["latest_set"]["carried"] == ["hr"],
            "a heart rate a minute later joins the set: NEWS2 12, complete (%s)" % p["news2"])
    C.check(p["escalation"]["level"] == "emergency", "still emergency")
    st, js, _ = s.http("GET", "/api/patients/%d/observations?%s" % (ids[P], DAY), token=nurse)
    last = max(js["observations"], key=lambda o: o["measured_at"])
    C.check(last["values"]["rr"] is None and last["carried"] == ["hr"] and
            set(last["assembled_from_window"]) == {"rr", "spo2", "o2", "sbp", "acvpu", "temp"},
            "the stored set is what arrived; the score says what it took from the window (%s)"
            % {k: last.get(k) for k in ("values", "carried", "assembled_from_window")})

    # 3. heart rate alone 30 min later: outside the window; never lowers
    #    (REQ ESC-PARTIAL-NEVER-LOWERS)
    C.check(ack_fields(conn.request(oru("E3", nhs=P, t="20250114090000+0000", hr=72,
                                        **NONE)))[0] == "AA", "later heart rate acknowledged")
    s.settle()
    st, js, _ = s.http("GET", "/api/wards/WARD7B/patients", token=nurse)
    p = row(js, P)
    C.check(p["escalation"]["level"] == "emergency",
            "a partial set keeps the emergency level (%s)" % p["escalation"]["level"])
    C.check(p["news2"]["total"] == 12 and p["news2"]["basis"] == "last-complete-set" and
            not p["news2"]["latest_set"]["complete"] and
            p["news2"]["latest_set"]["carried"] == ["hr"],
            "the NEWS2 shown is the last complete set's, and the partial set is named (%s)"
            % p["news2"])
    C.check("news2-last-complete" in reasons(p) and "news2-incomplete" in reasons(p),
            "reasons say why (%s)" % reasons(p))
    open_alerts = [a for a in p["alerts"] if a["kind"] == "episode"]
    C.check(len(open_alerts) == 1 and open_alerts[0]["level"] == "emergency",
            "the emergency alert stays open")
    due_before = p["observations"]["due_at"]

    # 4. an empty set is refused with a reason (REQ OBS-EMPTY-SET-REFUSED)
    before = s.count("obs_set")
    st, js, _ = s.http("POST", "/api/patients/%d/observations" % ids[P], {}, token=nurse)
    C.check(st == 422 and "at least one vital sign" in json.dumps(js),
            "{} is refused with its reason (%s %s)" % (st, js))
    C.check(s.count("obs_set") == before, "nothing stored")
    st, js, _ = s.http("POST", "/api/patients/%d/observations" % ids[P],
                       {"measured_at": "2025-01-14T09:10:00Z"}, token=nurse)
    C.check(st == 422, "a time and no vital sign is refused too (%s)" % st)

    # 5. a late set, measured before the latest complete set: evaluated, shown
    #    (REQ ESC-LATE-SET); the level stays as the newer evidence says
    C.check(ack_fields(conn.request(oru("E5", nhs=P, t="20250114080000+0000")))[0] == "AA",
            "late set acknowledged")
    s.settle()
    st, js, _ = s.http("GET", "/api/wards/WARD7B/patients", token=nurse)
    p = row(js, P)
    C.check("news2-late" in reasons(p) and p["escalation"]["level"] == "emergency",
            "a late set is evaluated and reported (%s)" % reasons(p))
    C.check(p["observations"]["due_at"] == due_before, "a late set does not move the due time")

    # 6. a late partial set measured after the last complete set counts:
    #    RR 26 (3) at 08:45 makes a low patient urgent-ward
    C.check(ack_fields(conn.request(oru("Q1", nhs=Q, t="20250114083000+0000")))[0] == "AA",
            "Q: complete normal set")
    C.check(ack_fields(conn.request(oru("Q2", nhs=Q, t="20250114090000+0000", hr=70,
                                        **NONE)))[0] == "AA", "Q: heart rate alone")
    C.check(ack_fields(conn.request(oru("Q3", nhs=Q, t="20250114084500+0000", hr=None,
                                        **dict(NONE, rr=26))))[0] == "AA",
            "Q: late RR alone")
    s.settle()
    st, js, _ = s.http("GET", "/api/wards/WARD7B/patients", token=nurse)
    q = row(js, Q)
    C.check(q["escalation"]["level"] == "urgent-ward" and "news2-partial-peak" in reasons(q),
            "a late partial set since the last complete set counts (%s %s)"
            % (q["escalation"]["level"], reasons(q)))

    # 7. a set stamped 4 min ahead of the clock never hides a newer real set
    now = int(time.time() * 1000)
    C.check(ack_fields(conn.request(oru("R1", nhs=R, t=hl7_time(now + 4 * 60000), rr=30,
                                        spo2=88, sbp=85, hr=140, acvpu="V")))[0] == "AA",
            "R: a set from a fast clock")
    time.sleep(3.5)  # HL7 times are whole seconds: measured after R1 arrived, before now
    C.check(ack_fields(conn.request(oru("R2", nhs=R, t=hl7_time(now + 3000))))[0] == "AA",
            "R: a real set after it")
    s.settle()
    st, js, _ = s.http("GET", "/api/wards/WARD7B/patients", token=nurse)
    r = row(js, R)
    C.check(r["news2"]["total"] == 0 and r["news2"]["complete"],
            "the newer real set is shown (%s)" % r["news2"])
    # 7b. two partial sets measured at the same time, the later one lower: the first still
    #     counts (V alone: a single 3, urgent-ward; then A, SpO2 94 on oxygen: 3, ward)
    C.check(ack_fields(conn.request(oru("S1", nhs=S, t="20250114070000+0000", hr=None,
                                        **dict(NONE, acvpu="V"))))[0] == "AA", "S: V alone")
    C.check(ack_fields(conn.request(oru("S2", nhs=S, t="20250114070000+0000", hr=None,
                                        **dict(NONE, acvpu="A", spo2=94, fio2=40))))[0] == "AA",
            "S: A, SpO2 94 on oxygen, same time")
    conn.close()
    s.settle()
    st, js, _ = s.http("GET", "/api/wards/WARD7B/patients", token=nurse)
    sp = row(js, S)
    C.check(sp["escalation"]["level"] == "urgent-ward",
            "a lower partial set at the same time never hides the earlier one (%s %s)"
            % (sp["escalation"]["level"], reasons(sp)))

    # 9 (below, after 8). after kill -9 and a restart, the store gives back the last
    # complete set and the partial peak: still emergency for P, urgent-ward for Q

    # 8. separate FHIR Observations for one measurement time form one set
    out = s.add_user("outreach1", "outreach", ["*"])
    t = "2025-01-14T10:00:00Z"
    for loinc, disp, val, unit, ucum in (("9279-1", "Respiratory rate", 18, "/min", "/min"),
                                        ("8867-4", "Heart rate", 80, "/min", "/min"),
                                        ("8310-5", "Body temperature", 37.0, "Cel", "Cel")):
        st, js, _ = s.http("POST", "/fhir/Observation", raw=fhir_obs(Q, loinc, disp, val, unit,
                                                                     ucum, t),
                           token=out, content_type="application/fhir+json")
        C.check(st == 201, "FHIR %s stored (%s %s)" % (disp, st, js))
    st, js, _ = s.http("GET", "/api/patients/%d/observations?%s" % (ids[Q], DAY), token=nurse)
    rows = [o for o in js["observations"] if o["measured_at"].startswith("2025-01-14T10:00")]
    last = max(rows, key=lambda o: o["obs_id"])
    C.check(set(last["assembled_from_window"]) >= {"rr", "hr"} and
            last["news2"]["sub_scores"]["rr"] == 0 and last["news2"]["sub_scores"]["hr"] == 0,
            "the third FHIR Observation is scored with the first two (%s)"
            % last["assembled_from_window"])

    # 9. kill -9 and restart on the same store
    db = s.db_path
    s.stop(signal.SIGKILL)
    with Server(db=db) as s2:
        token = s2.login("nurse7")
        st, js, _ = s2.http("GET", "/api/wards/WARD7B/patients", token=token)
        p = row(js, P)
        C.check(p["escalation"]["level"] == "emergency" and
                p["news2"]["basis"] == "last-complete-set" and p["news2"]["total"] == 12,
                "after a restart the last complete set still counts (%s %s)"
                % (p["escalation"]["level"], p["news2"]))
        q = row(js, Q)
        C.check(q["escalation"]["level"] == "urgent-ward" and
                "news2-partial-peak" in reasons(q),
                "after a restart the partial peak still counts (%s %s)"
                % (q["escalation"]["level"], reasons(q)))

# the window is the site's: 0 assembles nothing, and a partial set still never lowers
with Server(extra_args=("--assemble-window", "0")) as s:
    conn = s.mllp()
    C.check(ack_fields(conn.request(adt("B0", "A01", P, "WARD7B", "BED01")))[0] == "AA",
            "admitted (window 0)")
    nurse = s.add_user("nurse7", "nurse", ["WARD7B"])
    conn.request(oru("W1", nhs=P, t="20250114083000+0000", rr=30, spo2=88, sbp=85, hr=140,
                     acvpu="V", temp=36.5))
    conn.request(oru("W2", nhs=P, t="20250114083100+0000", hr=72, **NONE))
    conn.close()
    s.settle()
    st, js, _ = s.http("GET", "/api/wards/WARD7B/patients", token=nurse)
    p = row(js, P)
    C.check(p["news2"]["basis"] == "last-complete-set" and p["news2"]["total"] == 15 and
            p["escalation"]["level"] == "emergency",
            "window 0: the heart rate stays its own set; NEWS2 15 still shown (%s)" % p["news2"])

sys.exit(C.done())
