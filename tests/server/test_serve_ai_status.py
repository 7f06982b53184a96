"""test_serve_ai_status.py: the AI's status through a live `vigil serve --model`.

Checks (docs/server.md, "The AI"; REQ FEAT-ENOUGH-DATA): with the shipped ward model, a
patient with one observation set is "not enough data to score": the ward list's and the
patient view's `ai` object says "status": "not-enough-data" with a reason and a null
probability, never a low risk; once the patient has enough sets it says "status": "scored"
with a probability, and its explanation names clinical variables, never a missing input,
and lists the inputs not yet available apart.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server, ack_fields, adt, oru  # noqa: E402

C = Checks()
NHS = "9990000018"
OBS = "/api/patients/%d/observations?from=2025-01-14T00:00:00Z&to=2025-01-15T00:00:00Z"
model = os.path.join(os.environ.get("VIGIL_SOURCE_DIR", "."), "models", "vigil-sepsis-2019A.json")
if not os.path.exists(model):
    print("skip: no shipped model at %s" % model)
    sys.exit(77)


def ward_row(s, token):
    st, js, _ = s.http("GET", "/api/wards/WARD7B/patients", token=token)
    assert st == 200, st
    return next(p for p in js["patients"] if p["patient"]["nhs_number"] == NHS)


with Server(["--model", model]) as s:
    conn = s.mllp()
    C.check(ack_fields(conn.request(adt("A1", "A01", NHS, "WARD7B", "BED01")))[0] == "AA",
            "admitted")
    nurse = s.add_user("nurse7", "nurse", ["WARD7B"])
    C.check(ack_fields(conn.request(oru("O1", nhs=NHS, t="20250114080000+0000", rr=24, hr=112)))[0]
            == "AA", "first set acknowledged")
    s.settle()
    ai = ward_row(s, nurse)["ai"]
    C.check(ai is not None and ai["status"] == "not-enough-data", "one set: not enough data (%s)" % ai)
    C.check(ai is not None and ai["probability"] is None, "no probability is shown (%s)" % ai)
    C.check(ai is not None and "not enough data to score" in ai.get("reason", ""),
            "a reason is given (%s)" % ai)
    esc = ward_row(s, nurse)["escalation"]
    texts = [r["text"] for r in esc["reasons"]]
    C.check(not esc["ai_used"] and "ai-absent" in [r["code"] for r in esc["reasons"]] and
            not any(t.startswith("AI risk") for t in texts),
            "the escalation policy treats it as no AI opinion, never a 0%% risk (%s)" % texts)
    pid = s.db().execute("SELECT id FROM patient WHERE nhs_number=?", (NHS,)).fetchone()[0]
    st, js, _ = s.http("GET", OBS % pid, token=nurse)
    obs_ai = [o["ai"] for o in js.get("observations", []) if o.get("ai") is not None]
    C.check(st == 200 and obs_ai and obs_ai[0]["status"] == "not-enough-data" and
            obs_ai[0]["probability"] is None and
            "observation sets" in obs_ai[0]["explanation"]["reason"],
            "the patient view's set says not enough data, with the scorer's reason (%s)" % obs_ai)
    for i, (t, rr, hr) in enumerate((("20250114100000+0000", 26, 118),
                                     ("20250114120000+0000", 28, 124))):
        C.check(ack_fields(conn.request(oru("O%d" % (i + 2), nhs=NHS, t=t, rr=rr, hr=hr)))[0] ==
                "AA", "set %d acknowledged" % (i + 2))
    conn.close()
    # the AI scores on its own thread after the ACK (docs/server.md): wait for it,
    # up to 30 s on a loaded machine, rather than race it
    deadline = time.time() + 30
    while True:
        s.settle()
        ai = ward_row(s, nurse)["ai"]
        if (ai is not None and ai["status"] == "scored") or time.time() > deadline:
            break
        time.sleep(0.2)
    C.check(ai is not None and ai["status"] == "scored", "three sets: scored (%s)" % ai)
    C.check(ai is not None and isinstance(ai["probability"], float) and
            0.0 < ai["probability"] < 1.0, "with a probability (%s)" % ai)
    st, js, _ = s.http("GET", OBS % pid, token=nurse)
    latest = [o["ai"] for o in js.get("observations", []) if o.get("ai") is not None]
    ex = next((a["explanation"] for a in latest if a["status"] == "scored"), None)
    C.check(ex is not None, "a scored set has an explanation")
    if ex is not None:
        reasons = ex["up"] + ex["down"]
        C.check(all("not measured" not in r and "never" not in r for r in reasons),
                "no missing input is a reason (%s)" % reasons)
        C.check(any(r.startswith(("respiration rate", "heart rate", "NEWS2", "shock index",
                                  "age", "temperature", "oxygen saturation", "systolic"))
                    for r in reasons), "reasons name clinical variables (%s)" % reasons)
        C.check("not yet available:" in ex["not_yet_available"] and
                "creatinine" in ex["not_yet_available"],
                "labs not yet available are listed apart (%s)" % ex["not_yet_available"])
C.done()
