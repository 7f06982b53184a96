"""test_serve_vitals_roundtrip.py: every row of the one table of vital signs
(src/core/vitals.c, as `vigil vitals` prints it) is reachable from every
consumer. One set is built from the table itself (each row's first code, a
value inside its bounds, its UCUM unit), sent over MLLP as an ORU^R01, stored,
read back from the JSON API under each row's key, and from the FHIR search
under each row's code and unit, unchanged; then the same values sent as FHIR
Observations (each row's LOINC or SNOMED code from the table) come back the
same from the JSON API. A parameter added to the table without a reader or
writer in one of these places fails here. REQ VITALS-TABLE
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server, ack_fields, adt, vigil_bin  # noqa: E402

C = Checks()
NHS, NHS2 = "9434765919", "4010232137"
T, T2 = "20250114083000+0000", "20250114093000+0000"

table = json.loads(subprocess.run([vigil_bin(), "vitals"], check=True, capture_output=True,
                                  text=True).stdout)
C.check([r["name"] for r in table] == ["rr", "spo2", "o2", "sbp", "hr", "acvpu", "temp"],
        "the table's rows in chart order (%s)" % [r["name"] for r in table])


def value_of(row):
    """A value inside the row's bounds, as the API gives it back."""
    if row["type"] == "o2":
        return "oxygen"
    if row["type"] == "acvpu":
        return "V"
    return round((row["min"] + row["max"]) / 2 + 0.3, 1)


def obx(i, row):
    """One OBX from the row's own first code (FiO2 above 21 % for air/oxygen)."""
    c = row["codes"][0]
    code = "%s^%s^%s" % (c["code"], c["text"], c["system"])
    if row["type"] == "o2":
        return "OBX|%d|NM|%s||28|%%|||||F" % (i, code)
    if row["type"] == "acvpu":
        return "OBX|%d|CWE|%s||V^Voice^L||||||F" % (i, code)
    return "OBX|%d|NM|%s||%s|%s|||||F" % (i, code, value_of(row), row["ucum"])


want = {r["key"]: value_of(r) for r in table}
segs = ["MSH|^~\\&|EOBS|RX1|VIGIL|RX1|%s||ORU^R01|ROUNDTRIP1|P|2.5.1" % T,
        "PID|1||%s^^^NHS^NH" % NHS, "OBR|1|||VS|||%s" % T]
segs += [obx(i + 1, r) for i, r in enumerate(table)]
oru = ("\r".join(segs) + "\r").encode()

FHIR_SYS = {"LN": "http://loinc.org", "SCT": "http://snomed.info/sct"}


def fhir_obs(row):
    """One FHIR Observation for the row, coded from the table (LOINC or SNOMED CT)."""
    c = next(c for c in row["codes"] if c["system"] in FHIR_SYS)
    o = {"resourceType": "Observation", "status": "final",
         "category": [{"coding": [{
             "system": "http://terminology.hl7.org/CodeSystem/observation-category",
             "code": "vital-signs"}]}],
         "code": {"coding": [{"system": FHIR_SYS[c["system"]], "code": c["code"]}]},
         "subject": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number",
                                    "value": NHS2}},
         "effectiveDateTime": "2025-01-14T09:30:00Z"}
    if row["type"] == "o2":
        o["valueQuantity"] = {"value": 28, "unit": "%", "system": "http://unitsofmeasure.org",
                              "code": "%"}
    elif row["type"] == "acvpu":
        o["valueCodeableConcept"] = {"coding": [{"system": "http://snomed.info/sct",
                                                 "code": "300202002"}]}
    else:
        o["valueQuantity"] = {"value": value_of(row), "unit": row["ucum"],
                              "system": "http://unitsofmeasure.org", "code": row["ucum"]}
    return o


with Server() as s:
    conn = s.mllp()
    for ctrl, nhs, bed in (("A1", NHS, "BED01"), ("A2", NHS2, "BED02")):
        C.check(ack_fields(conn.request(adt(ctrl, "A01", nhs, "WARD7B", bed)))[0] == "AA",
                "admitted %s" % nhs)
    raw = conn.request(oru)
    C.check(ack_fields(raw)[0] == "AA" and b"ERR" not in raw,
            "the set built from the table: AA, nothing refused (%r)" % raw[:300])
    conn.close()
    nurse = s.add_user("nurse7", "nurse", ["WARD7B"])
    pid = s.db().execute("SELECT id FROM patient WHERE nhs_number=?", (NHS,)).fetchone()[0]
    pid2 = s.db().execute("SELECT id FROM patient WHERE nhs_number=?", (NHS2,)).fetchone()[0]

    # store: each row's column holds its value
    for r in table:
        got = s.db().execute("SELECT %s FROM obs_set WHERE source_id = 'ROUNDTRIP1'" %
                             r["column"]).fetchone()
        C.check(got is not None and got[0] == want[r["key"]],
                "store column %s holds %r (%r)" % (r["column"], want[r["key"]], got))

    # JSON API: each row's key
    day = "from=2025-01-14T00:00:00Z&to=2025-01-15T00:00:00Z"
    st, js, _ = s.http("GET", "/api/patients/%d/observations?%s" % (pid, day), token=nurse)
    values = js["observations"][0]["values"] if st == 200 and js["observations"] else {}
    for r in table:
        C.check(values.get(r["key"]) == want[r["key"]],
                "API %s = %r (%r)" % (r["key"], want[r["key"]], values.get(r["key"])))
    C.check(js["observations"][0]["news2"]["complete"], "the set is complete")

    # FHIR search: each row's first FHIR code, its value and UCUM unit
    st, js, _ = s.http("GET", "/fhir/Observation?patient=%s&date=ge2025-01-14T00:00:00Z" % NHS,
                       token=nurse)
    by_code = {}
    for e in (js or {}).get("entry", []):
        res = e["resource"]
        for c in res["code"]["coding"]:
            by_code[c["code"]] = res
    for r in table:
        codes = [c["code"] for c in r["codes"] if c["system"] in FHIR_SYS]
        res = next((by_code[c] for c in codes if c in by_code), None)
        if r["type"] == "number":
            q = (res or {}).get("valueQuantity", {})
            C.check(q.get("value") == want[r["key"]] and q.get("code") == r["ucum"],
                    "FHIR %s: %r %s (%r)" % (r["name"], want[r["key"]], r["ucum"], q))
        elif r["type"] == "acvpu":
            C.check(res is not None and res["valueCodeableConcept"]["coding"][0]["code"] ==
                    "300202002", "FHIR ACVPU: responds to voice (%r)" % res)
        else:
            C.check(res is not None and "371825009" in
                    [c["code"] for c in res["code"]["coding"]],
                    "FHIR air/oxygen: on oxygen (%r)" % res)

    # FHIR in: the same values, one Observation per row, coded from the table
    bundle = {"resourceType": "Bundle", "type": "transaction",
              "entry": [{"resource": fhir_obs(r),
                         "request": {"method": "POST", "url": "Observation"}} for r in table]}
    st, js, _ = s.http("POST", "/fhir", raw=json.dumps(bundle).encode(), token=nurse,
                       content_type="application/fhir+json")
    C.check(st == 200, "the FHIR transaction built from the table is taken (%s %s)" % (st, js))
    st, js, _ = s.http("GET", "/api/patients/%d/observations?%s" % (pid2, day), token=nurse)
    values = js["observations"][0]["values"] if st == 200 and js["observations"] else {}
    for r in table:
        C.check(values.get(r["key"]) == want[r["key"]],
                "FHIR in -> API %s = %r (%r)" % (r["key"], want[r["key"]], values.get(r["key"])))
    C.check(s.stop() == 0, "SIGTERM: exit 0")
C.done()
