"""test_serve_outcomes_in.py: deterioration outcomes from the feeds (issue 14 item 3)
through a live `vigil serve --critical-care-ward ICU1`:
- HL7 ADT A02 from WARD7B to ICU1 (marked critical care) is an unplanned
  critical-care admission; A03 with PV1-36 = 20 (UB-04 "expired", user table 0112)
  is a death at PV1-45; A03 with 01 (home) is nothing; resending either records
  nothing twice; each is linked to the admission and audited (source hl7);
- FHIR Condition (SNOMED CT 91302008 sepsis) and Encounter (dischargeDisposition exp;
  destination ICU1) on /fhir/Condition and /fhir/Encounter: 201 and recorded
  (source fhir), a resend 200 and not recorded again, an Encounter to home 200 and
  nothing, another ward's nurse 403, an unknown patient 404, a Patient resource
  refused; the audit chain verifies.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server, ack_fields, adt, vigil_bin  # noqa: E402

C = Checks()
A, B, F = "9990000018", "9990000026", "9990000034"
CT = "application/fhir+json"


def adt_msg(ctrl, event, nhs, ward, prior="", disposition="", discharge_t="", t="20250115100000+0000"):
    pv1 = ["PV1", "1", "I", "%s^BAY1^BED01^RX1" % ward] + [""] * 42
    pv1[6] = "%s^BAY2^BED09^RX1" % prior if prior else ""
    pv1[36] = disposition
    pv1[45] = discharge_t
    segs = ["MSH|^~\\&|PAS|RX1|VIGIL|RX1|%s||ADT^%s|%s|P|2.5.1" % (t, event, ctrl),
            "EVN|%s|%s" % (event, t), "PID|1||%s^^^NHS^NH||TESTPATIENT^X||19600101|M" % nhs,
            "|".join(pv1).rstrip("|")]
    return ("\r".join(segs) + "\r").encode()


def outcomes(s, nhs):
    con = s.db()
    try:
        return con.execute(
            "SELECT o.kind, o.source, o.t_ms, o.admission_id, o.note FROM outcome o JOIN patient p "
            "ON p.id = o.patient_id WHERE p.nhs_number = ? ORDER BY o.id", (nhs,)).fetchall()
    finally:
        con.close()


def admission(s, nhs):
    con = s.db()
    try:
        return con.execute("SELECT a.id FROM admission a JOIN patient p ON p.id = a.patient_id "
                           "WHERE p.nhs_number = ? ORDER BY a.id DESC", (nhs,)).fetchone()[0]
    finally:
        con.close()


def condition(nhs, code="91302008"):
    return json.dumps({
        "resourceType": "Condition", "id": "sepsis-%s" % nhs[-2:],
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                       "code": "active"}]},
        "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                           "code": "confirmed"}]},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": code, "display": "Sepsis"}]},
        "subject": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs}},
        "onsetDateTime": "2025-01-15T11:00:00Z"}).encode()


def encounter(nhs, hosp):
    return json.dumps({
        "resourceType": "Encounter", "id": "enc-%s" % nhs[-2:], "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "subject": {"reference": "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|" + nhs},
        "period": {"start": "2025-01-14T10:00:00Z", "end": "2025-01-16T08:00:00Z"},
        "hospitalization": hosp}).encode()


with Server(["--critical-care-ward", "ICU1"]) as s:
    conn = s.mllp()
    for i, n in enumerate((A, B, F)):
        C.check(ack_fields(conn.request(adt("A%d" % i, "A01", n, "WARD7B", "BED0%d" % i)))[0]
                == "AA", "admitted to WARD7B")
    adm_a = None
    s.settle()
    adm_a = admission(s, A)

    r = ack_fields(conn.request(adt_msg("T1", "A02", A, "ICU1", prior="WARD7B")))
    C.check(r[0] == "AA", "A02 to ICU1 acknowledged (%s)" % (r,))
    s.settle()
    got = outcomes(s, A)
    C.check(len(got) == 1 and got[0][0] == "icu-unplanned" and got[0][1] == "hl7"
            and got[0][3] == adm_a and "ICU1" in got[0][4],
            "the transfer to critical care is an unplanned ICU admission of that admission (%s)"
            % got)
    conn.request(adt_msg("T1", "A02", A, "ICU1", prior="WARD7B"))
    s.settle()
    C.check(len(outcomes(s, A)) == 1, "the resent A02 records nothing more")

    r = ack_fields(conn.request(adt_msg("D1", "A03", A, "ICU1", disposition="20",
                                        discharge_t="20250115183000+0000")))
    C.check(r[0] == "AA", "A03 with PV1-36 20 acknowledged (%s)" % (r,))
    conn.request(adt_msg("D1", "A03", A, "ICU1", disposition="20",
                         discharge_t="20250115183000+0000"))
    s.settle()
    got = outcomes(s, A)
    C.check(len(got) == 2 and got[1][0] == "death" and got[1][2] == 1736965800000
            and got[1][3] == adm_a and "PV1-36 discharge disposition 20" in got[1][4],
            "PV1-36 20 is a death at PV1-45, once, linked to the admission (%s)" % got)

    r = ack_fields(conn.request(adt_msg("D2", "A03", B, "WARD7B", disposition="01")))
    s.settle()
    C.check(r[0] == "AA" and outcomes(s, B) == [], "PV1-36 01 (home): no outcome")
    conn.close()

    doctor = s.add_user("doctor7", "doctor", ["WARD7B"])
    other = s.add_user("nurse9", "nurse", ["WARD9"])
    st, js, _ = s.http("POST", "/fhir/Condition", raw=condition(F), token=doctor, content_type=CT)
    C.check(st == 201 and js.get("resourceType") == "OperationOutcome",
            "a sepsis Condition: 201 (%s %s)" % (st, js))
    st, js, _ = s.http("POST", "/fhir/Condition", raw=condition(F), token=doctor, content_type=CT)
    C.check(st == 200, "the same Condition again: 200 (%s)" % st)
    st, js, _ = s.http("POST", "/fhir/Encounter", raw=encounter(F, {"destination": {
        "display": "Intensive care", "identifier": {"value": "ICU1"}}}), token=doctor,
        content_type=CT)
    C.check(st == 201, "an Encounter ending with a transfer to ICU1: 201 (%s %s)" % (st, js))
    st, js, _ = s.http("POST", "/fhir/Encounter", raw=encounter(F, {"dischargeDisposition": {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/discharge-disposition",
                    "code": "home"}]}}), token=doctor, content_type=CT)
    C.check(st == 200, "an Encounter discharged home: 200, nothing recorded (%s)" % st)
    st, js, _ = s.http("POST", "/fhir/Encounter", raw=encounter(F, {"dischargeDisposition": {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/discharge-disposition",
                    "code": "exp"}]}}), token=doctor, content_type=CT)
    C.check(st == 201, "an Encounter discharged expired: 201 (%s %s)" % (st, js))
    got = outcomes(s, F)
    C.check([g[0] for g in got] == ["sepsis", "icu-unplanned", "death"]
            and all(g[1] == "fhir" for g in got) and got[0][2] == 1736938800000
            and got[2][2] == 1737014400000 and all(g[3] == admission(s, F) for g in got),
            "recorded from FHIR against the admission at the resources' times (%s)" % got)
    st, _, _ = s.http("POST", "/fhir/Condition", raw=condition(F), token=other, content_type=CT)
    C.check(st == 403, "a nurse of another ward: 403 (%s)" % st)
    st, _, _ = s.http("POST", "/fhir/Condition", raw=condition("9434765919"), token=doctor,
                      content_type=CT)
    C.check(st == 404, "an unknown patient: 404 (%s)" % st)
    st, _, _ = s.http("POST", "/fhir/Condition", raw=b'{"resourceType":"Patient"}', token=doctor,
                      content_type=CT)
    C.check(400 <= st < 500, "a Patient resource is refused (%s)" % st)
    C.check(s.count("audit", "action = 'outcome.record'") == 5, "five outcome writes audited")
    v = subprocess.run([vigil_bin(), "audit", "verify", "--db", s.db_path], capture_output=True,
                       text=True)
    C.check(v.returncode == 0 and "OK" in v.stdout, "the audit chain verifies (%s)" % v.stdout)
C.done()
