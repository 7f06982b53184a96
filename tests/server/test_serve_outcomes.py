"""test_serve_outcomes.py: deterioration outcomes through a live `vigil serve`
(issue 14 item 2): a clinician records an unplanned ICU admission and a
sepsis diagnosis against the patient's admission (named or the latest),
reads them back oldest first; an unknown kind, a time before the admission,
a duplicate and a role outside the ward are refused; every write and read
is in the audit trail, whose chain still verifies.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server, ack_fields, adt, vigil_bin  # noqa: E402

C = Checks()
NHS = "9990000018"

with Server() as s:
    conn = s.mllp()
    C.check(ack_fields(conn.request(adt("A1", "A01", NHS, "WARD7B", "BED01",
                                        t="20250114100000+0000")))[0] == "AA", "admitted")
    conn.close()
    s.settle()
    pid, adm = s.db().execute("SELECT p.id, a.id FROM patient p JOIN admission a ON "
                              "a.patient_id = p.id WHERE p.nhs_number = ?", (NHS,)).fetchone()
    doctor = s.add_user("doctor7", "doctor", ["WARD7B"])
    other = s.add_user("nurse9", "nurse", ["WARD9"])
    path = "/api/patients/%d/outcomes" % pid

    st, js, _ = s.http("POST", path, {"kind": "icu-unplanned", "t": "2025-01-15T03:10:00Z",
                                      "note": "to ITU, <b>septic shock</b>"}, token=doctor)
    C.check(st == 201 and js.get("outcome_id", 0) > 0, "unplanned ICU admission recorded (%s %s)"
            % (st, js))
    st, js, _ = s.http("POST", path, {"kind": "sepsis", "t": "2025-01-15T01:00:00Z",
                                      "admission_id": adm}, token=doctor)
    C.check(st == 201, "sepsis diagnosis recorded against the named admission (%s)" % st)
    st, js, _ = s.http("POST", path, {"kind": "sepsis", "t": "2025-01-15T01:00:00Z"},
                       token=doctor)
    C.check(st == 409, "the same outcome twice: 409 (%s)" % st)
    st, js, _ = s.http("POST", path, {"kind": "discharged-home"}, token=doctor)
    C.check(st == 422, "an unknown kind: 422 (%s)" % st)
    st, js, _ = s.http("POST", path, {"kind": "death", "t": "2025-01-13T00:00:00Z"},
                       token=doctor)
    C.check(st == 422, "before the admission: 422 (%s)" % st)
    st, js, _ = s.http("POST", path, {"kind": "death", "extra": 1}, token=doctor)
    C.check(st == 422, "an unknown member: 422 (%s)" % st)
    st, js, _ = s.http("POST", path, {"kind": "death"}, token=other)
    C.check(st == 404, "a nurse of another ward: 404, as for no patient (%s)" % st)

    st, js, _ = s.http("GET", path, token=doctor)
    kinds = [o["kind"] for o in (js or {}).get("outcomes", [])]
    C.check(st == 200 and kinds == ["sepsis", "icu-unplanned"], "read back oldest first (%s)"
            % kinds)
    o = js["outcomes"][1]
    C.check(o["admission_id"] == adm and o["source"] == "api" and o["recorded_by"] == "doctor7"
            and o["note"] == "to ITU, <b>septic shock</b>" and o["t"].startswith("2025-01-15T03:10"),
            "linked to the admission, with source, recorder and note as given (%s)" % o)
    C.check(s.count("audit", "action = 'outcome.record'") == 2, "two outcome writes audited")
    C.check(s.count("audit", "action = 'outcome.list'") == 1, "the read audited")
    v = subprocess.run([vigil_bin(), "audit", "verify", "--db", s.db_path], capture_output=True,
                       text=True)
    C.check(v.returncode == 0 and "OK" in v.stdout, "the audit chain verifies (%s)" % v.stdout)
C.done()
