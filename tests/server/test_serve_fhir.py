"""test_serve_fhir.py: FHIR R4 through a live `vigil serve`.

Checks: without a session every FHIR route answers 401 with an
OperationOutcome; the good corpus (tests/golden/fhir/good) is stored, one
observation set per event the fhir module reads, and a resend stores
nothing new; every file of the malformed corpus (tests/golden/fhir/bad) is
refused with the issue code in bad/expected.tsv and the HTTP status
vigil_fhir_issue_http_status gives for it (400 structure, 413 too-costly,
422 otherwise), nothing is stored, and the server stays up; a transaction
with one bad entry stores nothing; a nurse cannot post for a patient outside
her wards (403; a search for one is an empty searchset); the search returns a searchset with the vital signs and the
NEWS2 totals.
"""
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import GOLDEN_FHIR, Checks, Server, ack_fields, adt  # noqa: E402

C = Checks()
CT = "application/fhir+json"
STATUS = {"structure": 400, "too-costly": 413, "exception": 500}


def path_for(raw):
    return "/fhir" if b'"Bundle"' in raw else "/fhir/Observation"


def is_outcome(js, code=None):
    return isinstance(js, dict) and js.get("resourceType") == "OperationOutcome" and \
        (code is None or js["issue"][0]["code"] == code)


with Server() as s:
    raw = open(os.path.join(GOLDEN_FHIR, "good", "obs_respiratory_rate.json"), "rb").read()
    st, js, hdr = s.http("POST", "/fhir/Observation", raw=raw, content_type=CT)
    C.check(st == 401 and is_outcome(js, "login") and hdr["content-type"] == CT,
            "no session: 401 OperationOutcome (%s %s)" % (st, js))
    st, js, _ = s.http("GET", "/fhir/Observation?patient=9434765919")
    C.check(st == 401 and is_outcome(js), "search without a session: 401")
    st, js, _ = s.http("GET", "/fhir/metadata")
    C.check(st in (401, 404) and is_outcome(js), "unknown FHIR route: OperationOutcome")

    out = s.add_user("outreach1", "outreach", ["*"])
    nurse = s.add_user("nurse7", "nurse", ["WARD7B"])

    # the good corpus
    def both_ids_first(path):
        ev = open(path[:-5] + ".events").read()
        return ("nhs=- " in ev or "mrn=- " in ev, path)

    # a set naming both identifiers first: the store links them to one patient
    for path in sorted(glob.glob(os.path.join(GOLDEN_FHIR, "good", "*.json")), key=both_ids_first):
        name = os.path.basename(path)
        raw = open(path, "rb").read()
        events = [line for line in open(path[:-5] + ".events") if line.strip()]
        n = len(events)
        before = s.count("obs_set")
        st, js, hdr = s.http("POST", path_for(raw), raw=raw, token=out, content_type=CT)
        want = 200 if path_for(raw) == "/fhir" else 201
        if n > 0 and all(" rr=- spo2=- o2=- sbp=- hr=- acvpu=- temp=- " in e for e in events):
            # REQ OBS-EMPTY-SET-REFUSED: a set with no vital sign (a heart rate
            # "not performed") is refused with the reason, nothing stored
            C.check(st == 422 and is_outcome(js) and
                    "no vital sign" in js["issue"][0]["diagnostics"],
                    "%s: an empty set is refused with its reason (%s %s)" % (name, st, js))
            C.check(s.count("obs_set") == before, "%s: nothing stored" % name)
            continue
        C.check(st == want, "%s: %d (got %s %s)" % (name, want, st, js))
        C.check(s.count("obs_set") - before == n, "%s: %d set(s) stored" % (name, n))
        if want == 201:
            C.check(js.get("resourceType") == "Observation" and
                    js["code"]["coding"][0]["code"] == "1104051000000101" and
                    hdr.get("location", "").startswith("/fhir/Observation/obs"),
                    "%s: answered with its NEWS2 Observation and a Location" % name)
        else:
            C.check(js.get("type") == "transaction-response", "%s: transaction-response" % name)
    before = s.snapshot()
    raw = open(os.path.join(GOLDEN_FHIR, "good", "obs_respiratory_rate.json"), "rb").read()
    st, js, _ = s.http("POST", "/fhir/Observation", raw=raw, token=out, content_type=CT)
    C.check(st == 200 and s.snapshot() == before, "a resent Observation stores nothing new")

    # the malformed corpus
    expected = {}
    for line in open(os.path.join(GOLDEN_FHIR, "bad", "expected.tsv")):
        if line.startswith("#") or not line.strip():
            continue
        f, code, _expr = line.rstrip("\n").split("\t")
        expected[f] = code
    for f, code in sorted(expected.items()):
        raw = open(os.path.join(GOLDEN_FHIR, "bad", f), "rb").read()
        before = s.snapshot()
        st, js, _ = s.http("POST", path_for(raw), raw=raw, token=out, content_type=CT)
        want = STATUS.get(code, 422)
        C.check(st == want and is_outcome(js, code),
                "%s: %d %s (got %s %s)" % (f, want, code, st, js and js.get("issue")))
        C.check(s.snapshot() == before, "%s: nothing stored" % f)
    C.check(s.alive(), "server up after the malformed corpus")
    st, js, _ = s.http("POST", "/fhir/Observation", raw=b"\x00\xff" * 10, token=out,
                       content_type=CT)
    C.check(st == 400 and is_outcome(js, "structure"), "binary body: 400 structure")
    st, js, _ = s.http("POST", "/fhir/Observation", raw=b"{}", token=out, content_type="text/xml")
    C.check(st == 415 and is_outcome(js), "FHIR XML: 415 OperationOutcome")

    # scope: a nurse on WARD7B cannot post for a patient who is not there
    raw = open(os.path.join(GOLDEN_FHIR, "good", "obs_acvpu_confusion.json"), "rb").read()
    before = s.snapshot()
    st, js, _ = s.http("POST", "/fhir/Observation", raw=raw.replace(b'"id": "', b'"id": "x'),
                       token=nurse, content_type=CT)
    C.check(st == 403 and is_outcome(js, "forbidden") and s.snapshot() == before,
            "outside the nurse's wards: 403, nothing stored (%s)" % st)
    conn = s.mllp()
    C.check(ack_fields(conn.request(adt("A1", "A01", "9434765919", "WARD7B")))[0] == "AA",
            "admitted to WARD7B")
    conn.close()

    # search
    st, js, _ = s.http("GET", "/fhir/Observation?patient=9434765919&date=ge2024-01-01T00:00:00Z",
                       token=nurse)
    codes = [c["code"] for e in (js or {}).get("entry", [])
             for c in e["resource"]["code"]["coding"]]
    C.check(st == 200 and js["type"] == "searchset" and js["total"] == len(js["entry"]),
            "searchset (%s)" % st)
    C.check("1104051000000101" in codes and "9279-1" in codes,
            "searchset holds vital signs and NEWS2 totals")
    st, js, _ = s.http("GET", "/fhir/Observation?patient=https://fhir.nhs.uk/Id/nhs-number|"
                       "4010232137&date=ge2024-01-01T00:00:00Z", token=nurse)
    C.check(st == 200 and js["type"] == "searchset" and js["total"] == 0
            and not js.get("entry"),
            "search for a patient outside the nurse's wards: an empty searchset (%s)" % st)
    st, js, _ = s.http("GET", "/fhir/Observation?patient=1234567890", token=nurse)
    C.check(st == 400 and is_outcome(js, "invalid"), "bad NHS number in a search: 400")
    st, js, _ = s.http("GET", "/fhir/Observation?patient=9990000018", token=out)
    C.check(st == 200 and js["total"] == 0, "unknown patient: an empty searchset")
    C.check(s.stop() == 0, "SIGTERM: exit 0")
C.done()
