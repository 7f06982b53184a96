#!/usr/bin/env python3
"""test_validate_db.py: `vigil validate --db STORE --from DATE --to DATE` (issue 14
item 4): the live model's figures from a store over a date range. A `vigil serve
--model` store gets 30 admissions of 6 sets each through the API ten days ago (the
live model scores them), 12 of them a death recorded through the API 6 hours after
their last set. The figures equal an independent computation from the store file:
the sets used, events (an outcome within 24 h after a set), AUROC (Mann-Whitney,
ties halved) of the stored AI probability and of NEWS2, observed:expected; by
administrative sex (the ADT's PID-8 says male; every odd patient is set female
through POST /api/patients/{id}/sex), each group's sets and events equal the
store's; a range with no sets gives counts of zero; bad dates are refused."""
import datetime
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "server"))
from serve_util import Checks, Server, ack_fields, adt, vigil_bin  # noqa: E402

C = Checks()
SRC = os.environ.get("VIGIL_SOURCE_DIR", ".")
MODEL = os.path.join(SRC, "models", "vigil-sepsis-2019A.json")
HOUR = 3600


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def nhs_number(i):
    while True:
        body = "999%06d" % i
        check = 11 - sum(int(d) * (10 - k) for k, d in enumerate(body)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return body + str(check)
        i += 1000


def auroc(score, y):
    pos = [s for s, v in zip(score, y) if v]
    neg = [s for s, v in zip(score, y) if not v]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


now = time.time()
start = now - 10 * 24 * HOUR
with Server(["--model", MODEL, "--no-monitor"]) as s:
    conn = s.mllp()
    pats = [nhs_number(500 + k) for k in range(30)]
    for k, n in enumerate(pats):
        t = time.strftime("%Y%m%d%H%M%S+0000", time.gmtime(start - 2 * 24 * HOUR))
        C.check(ack_fields(conn.request(adt("A%d" % k, "A01", n, "WARD7B", "BED%02d" % k, t=t)))[0]
                == "AA", "admitted")
    conn.close()
    s.settle()
    nurse = s.add_user("nurse7", "nurse", ["WARD7B"])
    ok = True
    for k, n in enumerate(pats):
        pid = s.db().execute("SELECT id FROM patient WHERE nhs_number=?", (n,)).fetchone()[0]
        ill = k < 12
        for j in range(6):
            worse = ill and j >= 3
            body = {"rr": 24 + j if worse else 16 + k % 3, "spo2": 92 if worse else 97,
                    "o2": "air", "sbp": 100 if worse else 125, "hr": 118 + j if worse else 70 + k,
                    "acvpu": "A", "temp_c": 38.6 if worse else 36.8,
                    "measured_at": iso(start + k * 60 + j * 6 * HOUR)}
            st, js, _ = s.http("POST", "/api/patients/%d/observations" % pid, body, token=nurse)
            ok = ok and st == 201
        if k % 2 == 1:
            st, js, _ = s.http("POST", "/api/patients/%d/sex" % pid, {"sex": "female"},
                               token=nurse)
            ok = ok and st == 200 and js.get("sex") == "female"
        if ill:
            st, _, _ = s.http("POST", "/api/patients/%d/outcomes" % pid,
                              {"kind": "death", "t": iso(start + k * 60 + 5 * 6 * HOUR + 6 * HOUR)},
                              token=nurse)
            ok = ok and st == 201
    C.check(ok, "180 sets and 12 deaths recorded through the API")
    s.settle()

    day = lambda t: time.strftime("%Y-%m-%d", time.gmtime(t))  # noqa: E731
    p = subprocess.run([vigil_bin(), "validate", "--model", MODEL, "--db", s.db_path, "--from",
                        day(start - 24 * HOUR), "--to", day(now)], capture_output=True, text=True)
    C.check(p.returncode == 0, "vigil validate --db exits 0 (%s)" % p.stderr.strip()[:300])
    got = json.loads(p.stdout) if p.returncode == 0 else {}

    con = s.db()
    rows = con.execute(
        "SELECT o.t_ms, sc.ai_prob, sc.news2_total, (SELECT MIN(x.t_ms) FROM outcome x WHERE "
        "x.admission_id = o.admission_id AND x.t_ms >= o.t_ms) FROM obs_set o JOIN score sc ON "
        "sc.obs_set_id = o.id WHERE sc.ai_prob IS NOT NULL").fetchall()
    con.close()
    y = [int(r[3] is not None and r[3] - r[0] <= 24 * HOUR * 1000) for r in rows]
    prob = [r[1] for r in rows]
    news2 = [r[2] for r in rows]
    m = got.get("per_set", {}).get("model", {})
    n2 = got.get("per_set", {}).get("news2", {})
    C.check(got.get("sets") == 180 and got.get("sets_used") == len(rows) == 180,
            "all 180 sets used, each scored by the live model (%s, %s)"
            % (got.get("sets_used"), len(rows)))
    C.check(m.get("n_pos") == sum(y) and m.get("n_neg") == len(y) - sum(y) and sum(y) > 10,
            "events: %s of %s (store: %d)" % (m.get("n_pos"), m.get("n"), sum(y)))
    C.check(m.get("auroc") is not None and abs(m["auroc"] - auroc(prob, y)) < 1e-9,
            "model AUROC %s equals the store's %.6f" % (m.get("auroc"), auroc(prob, y)))
    C.check(n2.get("auroc") is not None and abs(n2["auroc"] - auroc(news2, y)) < 1e-9,
            "NEWS2 AUROC %s equals the store's %.6f" % (n2.get("auroc"), auroc(news2, y)))
    C.check(m.get("observed_expected") is not None
            and abs(m["observed_expected"] - sum(y) / sum(prob)) < 1e-9,
            "observed:expected %s" % m.get("observed_expected"))
    C.check(got.get("per_admission", {}).get("admissions") == 30, "30 admissions")
    con = s.db()
    by_sex = con.execute(
        "SELECT p.sex, o.t_ms, (SELECT MIN(x.t_ms) FROM outcome x WHERE x.admission_id = "
        "o.admission_id AND x.t_ms >= o.t_ms) FROM obs_set o JOIN patient p ON p.id = o.patient_id "
        "JOIN score sc ON sc.obs_set_id = o.id WHERE sc.ai_prob IS NOT NULL").fetchall()
    con.close()
    for sex in ("female", "male"):
        ys = [int(r[2] is not None and r[2] - r[1] <= 24 * HOUR * 1000) for r in by_sex if r[0] == sex]
        g = got.get("model_by_sex", {}).get(sex, {})
        C.check(len(ys) == 90 and g.get("n") == len(ys) and g.get("n_pos") == sum(ys),
                "%s: %s sets, %s events (store: %d, %d)" % (sex, g.get("n"), g.get("n_pos"),
                                                          len(ys), sum(ys)))
    C.check(got.get("model_by_sex", {}).get("other", {}).get("n") == 0
            and got.get("sets_without_sex") == 0, "no other, unknown or unrecorded sex")
    print("validate --db: model AUROC %.3f, NEWS2 AUROC %.3f, O:E %.2f (synthetic ward)"
          % (m.get("auroc") or 0, n2.get("auroc") or 0, m.get("observed_expected") or 0))

    p = subprocess.run([vigil_bin(), "validate", "--model", MODEL, "--db", s.db_path, "--from",
                        "2001-01-01", "--to", "2001-01-31"], capture_output=True, text=True)
    empty = json.loads(p.stdout) if p.returncode == 0 else {}
    C.check(p.returncode == 0 and empty.get("sets") == 0 and "per_set" not in empty,
            "a range with no sets: counts of zero, no figures")
    p = subprocess.run([vigil_bin(), "validate", "--model", MODEL, "--db", s.db_path, "--from",
                        "2001-13-01", "--to", "2001-01-31"], capture_output=True, text=True)
    C.check(p.returncode == 2, "a bad date is refused (%d)" % p.returncode)
C.done()
