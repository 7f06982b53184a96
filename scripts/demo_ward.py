#!/usr/bin/env python3
"""demo_ward.py: print the demo ward's list from vigil serve's JSON API, as a nurse sees it.
usage: demo_ward.py PORT setup ADMIN_PASSWORD NURSE_PASSWORD   (create the demo nurse once)
       demo_ward.py PORT show NURSE_PASSWORD [WARD]"""
import http.client, json, sys

port = int(sys.argv[1])

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
        sys.exit(f"demo: login as {user} failed: {st} {b}")
    return b["token"]

if sys.argv[2] == "setup":
    tok = login("admin", sys.argv[3])
    st, b = call("POST", "/api/admin/users", {"username": "nurse", "display_name": "Demo Nurse",
                 "role": "nurse", "password": sys.argv[4], "wards": ["DEMO"]}, tok)
    if st not in (200, 201, 409):
        sys.exit(f"demo: creating the demo nurse failed: {st} {b}")
    sys.exit(0)

tok = login("nurse", sys.argv[3])
ward = sys.argv[4] if len(sys.argv) > 4 else "DEMO"
st, b = call("GET", f"/api/wards/{ward}/patients", token=tok)
if st != 200:
    sys.exit(f"demo: ward list: {st} {b}")
pts = b.get("patients", b) if isinstance(b, dict) else b
print(f"{'bed':<8} {'NHS no.':<11} {'NEWS2':<7} {'NEWS2 risk':<11} {'AI risk':<9} {'escalation':<12} {'obs':<9} why (AI)")
for p in sorted(pts, key=lambda p: p.get("bed") or ""):
    n2 = p.get("news2") or {}
    total = n2.get("total")
    shown = "-" if total is None else (f">={total}" if not n2.get("complete", True) else str(total))
    ai = p.get("ai") or {}
    prob = ai.get("prob", ai.get("probability"))
    ai_s = "-" if prob is None else f"{100*prob:.1f}%" + ("?" if ai.get("low_confidence") else "")
    if p.get("ai_opted_out"):
        ai_s = "opted out"
    esc = (p.get("escalation") or {}).get("level", "-")
    ob = p.get("observations") or {}
    obs = "OVERDUE" if ob.get("overdue") else ("stale" if ob.get("stale") else "ok")
    why = ""
    if prob is not None and not p.get("ai_opted_out"):
        st2, ob2 = call("GET", f"/api/patients/{p['patient']['id']}/observations", token=tok)
        sets = (ob2.get("observations", ob2.get("sets")) if isinstance(ob2, dict) else ob2) or []
        for o in reversed(sets if isinstance(sets, list) else []):
            ex = ((o.get("ai") or {}).get("explanation") or {})
            if ex.get("up"):
                why = "+ " + ex["up"][0]
                break
    print(f"{(p.get('bed') or '-'):<8} {p['patient']['nhs_number']:<11} {shown:<7} "
          f"{n2.get('risk', '-'):<11} {ai_s:<9} {esc:<12} {obs:<9} {why}")
print(f"{len(pts)} patients on ward {ward}. '>=' marks an incomplete NEWS2 (a lower bound: the ICU "
      "data carry no consciousness level, so every set is incomplete and observations show as due); "
      "'?' a low-confidence AI score. The AI advises; NEWS2 escalation stands.")
