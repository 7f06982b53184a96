"""test_serve_patient_sex.py: a patient's administrative sex through each way in
(issue 14 item 2) and the ward-scope check before any audited read (issue 12).
- HL7: an ADT A01 with PID-8 M stores male; an ORU with PID-8 F then stores female
  (REQ STORE-SEX-LATEST: the latest stated);
- FHIR: POST /fhir/Patient with gender by a user whose scope is every ward stores
  it (a new patient is created; "unknown" does not erase a stated sex); a
  ward-scoped nurse gets 403 and nothing changes; an HL7 code ("F") as gender is
  refused with its expression;
- API: POST /api/patients/{id}/sex by the patient's ward nurse; another ward's nurse
  gets 404 and nothing changes; a bad value 422;
- after a restart (nothing cached), another ward's nurse asking for a patient gets
  404 (GET /api/patients/{id}, its bedside code, its sex) and the audit log holds no
  read of that patient by that nurse, while the ward's own nurse's read is
  audited. Before the fix the out-of-scope patient was loaded first, with a
  patient.current audit record.
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server, ack_fields, adt, oru  # noqa: E402

C = Checks()
A, B, N = "9990000018", "9990000026", "9990000034"
NHS_SYS = "https://fhir.nhs.uk/Id/nhs-number"
CT = "application/fhir+json"


def sex_of(s, nhs):
    con = s.db()
    try:
        row = con.execute("SELECT sex FROM patient WHERE nhs_number = ?", (nhs,)).fetchone()
        return row[0] if row else None
    finally:
        con.close()


def pid_of(s, nhs):
    con = s.db()
    try:
        return con.execute("SELECT id FROM patient WHERE nhs_number = ?", (nhs,)).fetchone()[0]
    finally:
        con.close()


def fhir_patient(nhs, gender):
    res = {"resourceType": "Patient", "identifier": [{"system": NHS_SYS, "value": nhs}],
           "name": [{"family": "TESTPATIENT"}]}
    if gender is not None:
        res["gender"] = gender
    return json.dumps(res).encode()


def reads_by(s, user, patient_id):
    con = s.db()
    try:
        return con.execute(
            "SELECT count(*) FROM audit WHERE patient_id = ? AND actor LIKE ? AND action IN "
            "('patient.current', 'patient.history', 'patient.read', 'obs.list')",
            (patient_id, user + "%")).fetchone()[0]
    finally:
        con.close()


tmp = tempfile.TemporaryDirectory(prefix="vigil-sex-")
db = os.path.join(tmp.name, "ward.db")
with Server(db=db) as s:
    conn = s.mllp()
    C.check(ack_fields(conn.request(adt("A1", "A01", A, "W1", "BED01")))[0] == "AA", "A on W1")
    C.check(ack_fields(conn.request(adt("A2", "A01", B, "W2", "BED02")))[0] == "AA", "B on W2")
    s.settle()
    C.check(sex_of(s, A) == "male", "ADT PID-8 M: male (%s)" % sex_of(s, A))
    C.check(ack_fields(conn.request(oru("O1", nhs=A)))[0] == "AA", "an ORU for A")
    conn.close()
    s.settle()
    C.check(sex_of(s, A) == "female", "ORU PID-8 F: female, the latest stated (%s)" % sex_of(s, A))

    pas = s.add_user("pas1", "doctor", ["*"])
    nurse1 = s.add_user("nurse1", "nurse", ["W1"])
    nurse2 = s.add_user("nurse2", "nurse", ["W2"])
    st, js, _ = s.http("POST", "/fhir/Patient", raw=fhir_patient(N, "female"), token=pas,
                       content_type=CT)
    C.check(st == 200 and sex_of(s, N) == "female",
            "FHIR Patient gender female creates the patient, female (%s, %s)" % (st, sex_of(s, N)))
    st, js, _ = s.http("POST", "/fhir/Patient", raw=fhir_patient(N, "unknown"), token=pas,
                       content_type=CT)
    C.check(st == 200 and sex_of(s, N) == "female", "unknown does not erase it (%s)" % st)
    st, js, _ = s.http("POST", "/fhir/Patient", raw=fhir_patient(B, "female"), token=nurse2,
                       content_type=CT)
    C.check(st == 403 and sex_of(s, B) == "male",
            "a ward-scoped nurse may not post a Patient (%s, %s)" % (st, sex_of(s, B)))
    st, js, _ = s.http("POST", "/fhir/Patient", raw=fhir_patient(B, "F"), token=pas,
                       content_type=CT)
    expr = (js.get("issue") or [{}])[0].get("expression") if isinstance(js, dict) else None
    C.check(st == 422 and expr == ["Patient.gender"] and sex_of(s, B) == "male",
            "an HL7 code as gender is refused at Patient.gender (%s, %s)" % (st, expr))

    b_id = pid_of(s, B)
    st, js, _ = s.http("POST", "/api/patients/%d/sex" % b_id, {"sex": "other"}, token=nurse1)
    C.check(st == 404 and sex_of(s, B) == "male", "another ward's nurse: 404, unchanged (%s)" % st)
    st, js, _ = s.http("POST", "/api/patients/%d/sex" % b_id, {"sex": "F"}, token=nurse2)
    C.check(st == 422, "a bad value: 422 (%s)" % st)
    st, js, _ = s.http("POST", "/api/patients/%d/sex" % b_id, {"sex": "other"}, token=nurse2)
    C.check(st == 200 and js.get("sex") == "other" and sex_of(s, B) == "other",
            "the ward's nurse sets other (%s, %s)" % (st, js))
    s.stop()

# a fresh process: nothing is cached, so the store is the only place to look
with Server(db=db) as s:
    nurse1, nurse2 = s.login("nurse1"), s.login("nurse2")
    s.tokens["settle"] = s.login("settle")
    b_id = pid_of(s, B)
    before = reads_by(s, "nurse1", b_id)
    for path in ("/api/patients/%d" % b_id, "/api/patients/%d/bedside-code" % b_id):
        st, _, _ = s.http("GET", path, token=nurse1)
        C.check(st == 404, "W1's nurse asking for W2's patient: %s 404 (%s)" % (path, st))
    st, _, _ = s.http("POST", "/api/patients/%d/sex" % b_id, {"sex": "male"}, token=nurse1)
    C.check(st == 404 and sex_of(s, B) == "other", "and cannot set the sex (%s)" % st)
    s.settle()
    C.check(reads_by(s, "nurse1", b_id) == before,
            "no read of W2's patient audited for W1's nurse (%d before, %d after)"
            % (before, reads_by(s, "nurse1", b_id)))
    st, _, _ = s.http("GET", "/api/patients/%d" % b_id, token=nurse2)
    s.settle()
    C.check(st == 200 and reads_by(s, "nurse2", b_id) > 0,
            "W2's nurse reads the patient, audited (%s, %d)" % (st, reads_by(s, "nurse2", b_id)))
tmp.cleanup()
C.done()
