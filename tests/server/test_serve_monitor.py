"""test_serve_monitor.py: live monitoring inside `vigil serve` (issue 14 item 4).
Two wards of 12 patients send a set every 3 hours for four and a half days
(HL7 over MLLP, backfilled); on ward W2 the heart rate is doubled for the last
24 hours (a monitor counting T waves as beats), and ward W1's feed stops 6 hours
before now. With 2 baseline days the monitor thread (its own read-only
connection) raises input drift on hr_bpm for W2 and not W1, and a feed gap for
W1 and not W2; the figures equal an independent count from the store file,
and `vigil monitor --db` (the offline path) gives the same report at the same
time;
/metrics carries vigil_monitor_alarm lines; GET /api/monitor is for safety
officers and admins only and ward-scoped. W1's patients are female and W2's
male (PID-8 of their sets, issue 14 item 2): the sex subgroups are charted
and the drift shows in sex:male, not sex:female, with W2's figures.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server, ack_fields, adt, nhs_number, oru, vigil_bin  # noqa: E402

C = Checks()
SRC = os.environ.get("VIGIL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL = os.path.join(SRC, "models", "vigil-sepsis-2019A.json")
HOUR = 3600


def hl7_time(t):
    return time.strftime("%Y%m%d%H%M%S+0000", time.gmtime(t))


def hr_range():
    with open(MODEL) as f:
        b = json.load(f)
    if "hr_last" in b["inputs"]:
        r = b["ranges"]["features"][b["inputs"].index("hr_last")]
    else:  # read through its distances from normal (feature spec v4): the raw range apart
        r = b["monitor_ranges"]["hr_last"]
    return r["p005"], r["p995"]


now = time.time()
start = now - 4.5 * 24 * HOUR
patients = []  # (nhs, ward, index)
for w, ward in enumerate(("W1", "W2")):
    for k in range(12):
        patients.append((nhs_number(100 * w + k + 1), ward, k))

with Server(["--model", MODEL, "--monitor-period", "1", "--monitor-baseline-days", "2"]) as s:
    conn = s.mllp()
    ok = True
    for i, (nhs, ward, k) in enumerate(patients):
        a = ack_fields(conn.request(adt("A%d" % i, "A01", nhs, ward, "BED%02d" % k,
                                        t=hl7_time(start - HOUR))))
        ok = ok and a[0] == "AA"
    C.check(ok, "24 patients admitted to W1 and W2")
    sent = acked = 0
    for i, (nhs, ward, k) in enumerate(patients):
        end = now - (6 * HOUR if ward == "W1" else 600)
        t = start + k * 420
        j = 0
        while t < end:
            hr = 70 + (k * 3 + j) % 25
            if ward == "W2" and t >= now - 24 * HOUR + 300:
                hr *= 2
            msg = oru("O%d-%d" % (i, j), nhs=nhs, t=hl7_time(t), hr=hr)
            if ward == "W2":  # PID-8: W2's patients are male
                msg = msg.replace(b"|19540312|F\r", b"|19540312|M\r")
            a = ack_fields(conn.request(msg))
            sent += 1
            acked += a[0] == "AA"
            t += 3 * HOUR
            j += 1
    conn.close()
    C.check(acked == sent, "%d of %d sets acknowledged AA" % (acked, sent))
    s.settle()

    admin = s.admin_token()
    officer = s.add_user("officer1", "safety-officer", ["*"])
    officer_w1 = s.add_user("officer2", "safety-officer", ["W1"])
    nurse = s.add_user("nurse1", "nurse", ["W1", "W2"])

    rep = None
    deadline = time.time() + 60
    while time.time() < deadline:
        st, rep, _ = s.http("GET", "/api/monitor", token=officer)
        if st == 200 and rep.get("state") == "monitoring" and rep.get("sets") == sent:
            break
        time.sleep(0.5)
    C.check(rep is not None and rep.get("state") == "monitoring" and rep.get("sets") == sent,
            "the monitor read every set and is past its 2 baseline days (%s, %s sets)"
            % (rep.get("state") if rep else None, rep.get("sets") if rep else None))

    def group(name):
        return next((g for g in rep.get("groups", []) if g["group"] == name), None)

    def alarm(check, grp):
        return any(a["check"] == check and a["group"] == grp for a in rep.get("alarms", []))

    C.check(all(group(g) is not None for g in ("all", "ward:W1", "ward:W2")),
            "figures for all wards and each ward (%s)" % [g["group"] for g in rep.get("groups", [])])
    C.check(any(g["group"].startswith("age:") for g in rep.get("groups", [])),
            "and for an age band")
    C.check(group("sex:female") is not None and group("sex:male") is not None,
            "and for each administrative sex")
    win = (group("all") or {}).get("alerts", {}).get("window", {})
    C.check(set(win) >= {"charted", "admission_days", "share", "low_limit", "low_alarm"}
            and win["low_alarm"] is False and not alarm("alert-rate-low", "all"),
            "the quiet-AI chart's window figures are reported, with no alarm (%s)" % win)
    C.check(alarm("input:hr_bpm", "sex:male") and not alarm("input:hr_bpm", "sex:female"),
            "the doubled heart rate shows in the male subgroup (W2's patients), not the female")
    con = s.db()
    sexes = dict(con.execute("SELECT sex, count(*) FROM patient GROUP BY sex").fetchall())
    con.close()
    C.check(sexes == {"female": 12, "male": 12}, "PID-8 stored for each patient (%s)" % sexes)
    C.check(alarm("input:hr_bpm", "ward:W2"), "the doubled heart rate on W2 is alarmed")
    C.check(not alarm("input:hr_bpm", "ward:W1"), "W1's heart rate is not")
    C.check(not any(a["check"].startswith("input:") and a["check"] != "input:hr_bpm"
                    for a in rep["alarms"]), "no other input is alarmed")
    C.check(alarm("feed-gap", "ward:W1"), "W1's silent feed (6 h) is alarmed")
    C.check(not alarm("feed-gap", "ward:W2"), "W2's feed is not")

    # the same figures counted from the store file: admissions with a set in
    # the last 24 h, and those with a heart rate outside the training range
    lo, hi = hr_range()
    con = s.db()
    rows = con.execute(
        "SELECT o.admission_id, o.hr_bpm, o.t_ms FROM obs_set o JOIN bed_stay b ON "
        "b.admission_id = o.admission_id WHERE b.ward = 'W2'").fetchall()
    con.close()
    last = max(r[2] for r in rows)
    w2 = group("ward:W2")
    hr_fig = next(i for i in w2["inputs"] if i["input"] == "hr_bpm")
    # the monitor's last day ends at its run time, which is after the last set
    recent = [r for r in rows if r[2] > last - 20 * HOUR * 1000]
    adm = {r[0] for r in recent}
    out = {r[0] for r in recent if r[1] < lo or r[1] > hi}
    male_hr = next(i for i in group("sex:male")["inputs"] if i["input"] == "hr_bpm")
    C.check(male_hr == hr_fig, "sex:male's heart-rate figures are W2's (%s)" % male_hr)
    C.check(hr_fig["admissions"] == len(adm) == 12 and hr_fig["admissions_out"] == len(out) == 12,
            "W2 today: %d admissions measured, %d out of range (store: %d, %d)"
            % (hr_fig["admissions"], hr_fig["admissions_out"], len(adm), len(out)))

    # the offline path (`vigil monitor --db`, the store read-only) at the same
    # time gives the same report: the same code on the same rows
    off = subprocess.run([vigil_bin(), "monitor", "--model", MODEL, "--db", s.db_path,
                          "--baseline-days", "2", "--at-ms", str(rep["computed_ms"])],
                         capture_output=True, text=True)
    offline = json.loads(off.stdout) if off.returncode == 0 else {}
    live = dict(rep)
    live.pop("refused", None)
    live["alarms"] = [a for a in live["alarms"] if a["check"] != "feed-refused"]
    C.check(off.returncode == 0 and offline == live,
            "vigil monitor --db at the same time gives the server's report (%s; differs in %s)"
            % (off.stderr.strip()[:200], sorted(k for k in live if offline.get(k) != live[k])))

    st, text, _ = s.http("GET", "/metrics")
    text = text if isinstance(text, str) else json.dumps(text)
    C.check('vigil_monitor_alarm{check="input:hr_bpm",group="ward:W2"} 1' in text,
            "/metrics: vigil_monitor_alarm for hr_bpm on W2")
    C.check('vigil_monitor_alarm{check="input:hr_bpm",group="ward:W1"}' not in text,
            "/metrics: none for W1")

    st, _, _ = s.http("GET", "/api/monitor", token=nurse)
    C.check(st == 403, "a nurse may not read the monitor (%s)" % st)
    st, _, _ = s.http("GET", "/api/monitor")
    C.check(st == 401, "nor anyone signed out (%s)" % st)
    st, js, _ = s.http("GET", "/api/monitor", token=admin)
    C.check(st == 200 and len(js.get("groups", [])) == len(rep["groups"]), "an admin may")
    st, js, _ = s.http("GET", "/api/monitor", token=officer_w1)
    wards = {g.get("ward") for g in js.get("groups", [])} | {f["ward"] for f in js.get("feed", [])}
    C.check(st == 200 and wards == {"W1"} and "refused" not in js
            and all(a.get("ward") == "W1" for a in js.get("alarms", [])),
            "a safety officer of W1 sees W1 only (%s)" % sorted(w or "-" for w in wards))
C.done()
