#!/usr/bin/env python3
"""demo_ward.py: the demo's people, through vigil serve's JSON API (standard library only).

usage: demo_ward.py PORT setup ADMIN_PASSWORD WARD...      create the demo users, print them
       demo_ward.py PORT nurse WARD...                      the demo nurse (runs until killed)
       demo_ward.py PORT status WARD...                     one line per ward
Passwords are read from the environment: DEMO_PW_<ROLE> (setup prints them), DEMO_PW_BOT.

The demo nurse: the research data have no consciousness level (PhysioNet 2019 has no GCS or
ACVPU), so every replayed set would be incomplete. Like a ward nurse completing the monitor's
set, the demo nurse records ACVPU "A" for each new set missing it, as her own set at the same
measured time (vigil assembles the pieces of one set measured within its window). It is stored
with source_id "demo-entered:..." and recorded_by "demo-nurse", and the web app shows it as
"entered by the demo, not measured". Nothing else is invented: a set missing anything else
stays incomplete.
"""
import http.client
import json
import os
import sys
import time

port = int(sys.argv[1])
mode = sys.argv[2]

ROLES = [  # username, display name, role, wards ("*" = every ward)
    ("nurse", "Demo Nurse", "nurse", None),
    ("doctor", "Demo Doctor", "doctor", None),
    ("outreach", "Demo Outreach", "outreach", ["*"]),
    ("safety", "Demo Safety Officer", "safety-officer", ["*"]),
]


def call(method, path, body=None, token=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    c.request(method, path, json.dumps(body) if body is not None else None, h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, (json.loads(data) if data and data[:1] in b"{[" else data)


def login(user, pw):
    st, b = call("POST", "/api/login", {"username": user, "password": pw})
    if st != 200:
        sys.exit(f"demo: sign-in as {user} failed: {st} {b}")
    return b["token"]


def add_user(tok, name, display, role, wards, pw):
    st, b = call("POST", "/api/admin/users", {"username": name, "display_name": display,
                 "role": role, "password": pw, "wards": wards}, tok)
    if st not in (201, 409):
        sys.exit(f"demo: creating {name} failed: {st} {b}")


if mode == "setup":
    admin_pw, wards = sys.argv[3], sys.argv[4:]
    tok = login("admin", admin_pw)
    for name, display, role, w in ROLES:
        add_user(tok, name, display, role, w or wards, os.environ["DEMO_PW_" + name.upper()])
    add_user(tok, "demo-nurse", "Demo nurse (the demo's entries, not measured)", "nurse", wards,
             os.environ["DEMO_PW_BOT"])
    sys.exit(0)

wards = sys.argv[3:]

if mode == "status":
    tok = login("nurse", os.environ["DEMO_PW_NURSE"])
    for w in wards:
        st, b = call("GET", f"/api/wards/{w}/patients", token=tok)
        if st != 200:
            print(f"  ward {w}: {st}")
            continue
        pts = b["patients"]
        alerts = sum(1 for p in pts for a in p["alerts"] if not a["acknowledged"])
        worst = max((p["news2"]["total"] for p in pts if p.get("news2")), default=None)
        complete = sum(1 for p in pts if p.get("news2") and p["news2"]["complete"])
        print(f"  ward {w}: {len(pts)} beds, {complete} with a complete NEWS2, highest NEWS2 "
              f"{worst if worst is not None else '-'}, {alerts} alert(s) not acknowledged")
    sys.exit(0)

if mode == "nurse":
    tok = login("demo-nurse", os.environ["DEMO_PW_BOT"])
    done = set()
    while True:
        for w in wards:
            st, b = call("GET", f"/api/wards/{w}/patients", token=tok)
            if st == 401:
                tok = login("demo-nurse", os.environ["DEMO_PW_BOT"])
                continue
            if st != 200:
                continue
            for p in b["patients"]:
                pid = p["patient"]["id"]
                st, o = call("GET", f"/api/patients/{pid}/observations", token=tok)
                if st != 200:
                    continue
                for s in o["observations"][-8:]:
                    v = s["values"]
                    key = (pid, s["measured_at"])
                    if v.get("acvpu") is not None or key in done or \
                            s["source_id"].startswith("demo-entered:"):
                        continue
                    done.add(key)
                    if all(v.get(k) is None for k in ("rr", "spo2", "sbp", "hr", "temp_c")):
                        continue
                    call("POST", f"/api/patients/{pid}/observations",
                         {"measured_at": s["measured_at"], "acvpu": "A",
                          "source_id": "demo-entered:%d:%s" % (pid, s["measured_at"])}, tok)
        time.sleep(1)

sys.exit("demo_ward.py: unknown mode " + mode)
