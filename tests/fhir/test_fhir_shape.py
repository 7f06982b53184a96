#!/usr/bin/python3
"""test_fhir_shape.py: an independent oracle for the FHIR golden files.

Checks, with Python's own JSON reader, datetime and a separately written
NHS-number check, that:
  - every emitted resource in tests/golden/fhir/out/ has the FHIR R4 JSON shape
    vigil promises (no nulls, empty strings or empty arrays; R4 dateTime and
    id regexes; UCUM units matching each LOINC code; obs-6; OperationOutcome
    codes from R4 IssueType), and that a NEWS2 total is never presented as
    complete while a sub-score is absent (REQ FHIR-NEWS2-INCOMPLETE);
  - the times and NHS numbers in tests/golden/fhir/good/*.events agree with
    the inputs' effectiveDateTime read by Python;
  - bad/expected.tsv covers every bad input with an R4 IssueType code.
Prints "N passed, N failed" last; exits 1 on any failure.
"""
import datetime
import json
import os
import re
import sys

ROOT = os.environ.get("VIGIL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
GOLD = os.path.join(ROOT, "tests", "golden", "fhir")

# FHIR R4 datatypes: dateTime and id regexes (R4 4.0.1, datatypes.html).
DATETIME_RE = re.compile(
    r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|"
    r"3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3])"
    r":[0-5][0-9]|14:00)))?)?)?")
ID_RE = re.compile(r"[A-Za-z0-9\-\.]{1,64}")

# R4 IssueType (http://hl7.org/fhir/issue-type), all 31 codes.
ISSUE_TYPES = {
    "invalid", "structure", "required", "value", "invariant", "security", "login", "unknown",
    "expired", "forbidden", "suppressed", "processing", "not-supported", "duplicate",
    "multiple-matches", "not-found", "deleted", "too-long", "code-invalid", "extension",
    "too-costly", "business-rule", "conflict", "transient", "lock-error", "no-store", "exception",
    "timeout", "incomplete", "throttled", "informational",
}
SEVERITIES = {"fatal", "error", "warning", "information"}
OBS_STATUS = {"registered", "preliminary", "final", "amended", "corrected", "cancelled",
              "entered-in-error", "unknown"}

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
NHS = "https://fhir.nhs.uk/Id/nhs-number"
# R4 vital-signs profiles: the UCUM code each LOINC vital is written in.
LOINC_UNIT = {"9279-1": "/min", "8867-4": "/min", "2708-6": "%", "59408-5": "%",
              "8480-6": "mm[Hg]", "8310-5": "Cel"}
# UKCore-EarlyWarningSubScore, NEWS2 part, in RCP chart order.
NEWS2_SUBSCORES = ["1104301000000104", {"1104311000000102", "1104321000000108"},
                   "1104331000000105", "1104341000000101", "1104351000000103",
                   "1104361000000100", "1104371000000107"]

results = {"passed": 0, "failed": 0}


def check(cond, what):
    if cond:
        results["passed"] += 1
    else:
        results["failed"] += 1
        print("FAIL:", what)


def nhs_ok(s):
    """NHS Data Dictionary modulus 11, written independently of ward.c."""
    if not re.fullmatch(r"[0-9]{10}", s):
        return False
    total = sum(int(d) * w for d, w in zip(s[:9], range(10, 1, -1)))
    check_digit = 11 - total % 11
    if check_digit == 11:
        check_digit = 0
    return check_digit != 10 and check_digit == int(s[9])


def walk_json_rules(v, path, name):
    """FHIR JSON: no null, no empty string, no empty array, no empty object."""
    if v is None:
        check(False, "%s: null at %s" % (name, path))
    elif isinstance(v, str):
        check(v != "", "%s: empty string at %s" % (name, path))
    elif isinstance(v, list):
        check(len(v) > 0, "%s: empty array at %s" % (name, path))
        for i, x in enumerate(v):
            walk_json_rules(x, "%s[%d]" % (path, i), name)
    elif isinstance(v, dict):
        check(len(v) > 0, "%s: empty object at %s" % (name, path))
        for k, x in v.items():
            walk_json_rules(x, path + "." + k, name)


def codes(cc, system=None):
    return [c.get("code") for c in cc.get("coding", []) if system is None or c.get("system") == system]


def check_quantity(q, name, where):
    check(isinstance(q.get("value"), (int, float)), "%s: %s.value is a number" % (name, where))
    check(q.get("system") == UCUM, "%s: %s.system is UCUM" % (name, where))
    check(isinstance(q.get("code"), str), "%s: %s.code present" % (name, where))


def check_observation(o, name):
    check(o.get("resourceType") == "Observation", name + ": resourceType")
    check(bool(ID_RE.fullmatch(o.get("id", ""))), name + ": id is a FHIR id")
    check(o.get("status") in OBS_STATUS, name + ": status")
    check(isinstance(o.get("category"), list), name + ": category")
    check(len(o.get("code", {}).get("coding", [])) >= 1, name + ": code.coding")
    subj = o.get("subject", {})
    ref = subj.get("reference")
    ident = subj.get("identifier")
    check(ref is not None or ident is not None, name + ": subject names a patient")
    if ref is not None:
        check(re.fullmatch(r"Patient/[A-Za-z0-9\-\.]{1,64}", ref) is not None,
              name + ": subject.reference " + ref)
    if ident is not None:
        check(ident.get("system") == NHS and nhs_ok(ident.get("value", "")),
              name + ": NHS number identifier")
    dt = o.get("effectiveDateTime", "")
    check(DATETIME_RE.fullmatch(dt) is not None and "T" in dt,
          name + ": effectiveDateTime is a full R4 dateTime: " + dt)
    # obs-6: value[x] and dataAbsentReason never together
    values = [k for k in o if k.startswith("value")]
    check(not (values and "dataAbsentReason" in o), name + ": obs-6")
    loinc = codes(o["code"], LOINC)
    for lc in loinc:
        if lc in LOINC_UNIT:
            q = o.get("valueQuantity", {})
            check_quantity(q, name, "valueQuantity")
            check(q.get("code") == LOINC_UNIT[lc],
                  "%s: LOINC %s in %s, not %s" % (name, lc, LOINC_UNIT[lc], q.get("code")))
    if "1104051000000101" in codes(o["code"], SNOMED):
        check_news2(o, name)


def check_news2(o, name):
    comps = o.get("component", [])
    check(len(comps) == 7, name + ": seven NEWS2 sub-scores")
    absent = 0
    total = 0
    for i, c in enumerate(comps):
        want = NEWS2_SUBSCORES[i]
        code = codes(c["code"], SNOMED)[0]
        check(code in want if isinstance(want, set) else code == want,
              "%s: component %d code %s" % (name, i, code))
        check(("valueQuantity" in c) != ("dataAbsentReason" in c),
              "%s: component %d has a value or an absent reason" % (name, i))
        if "dataAbsentReason" in c:
            absent += 1
        else:
            v = c["valueQuantity"]["value"]
            check(v in (0, 1, 2, 3), "%s: sub-score %s in 0-3" % (name, v))
            total += v
    q = o["valueQuantity"]
    check(q["value"] == total, "%s: total %s is the sum of sub-scores %s" % (name, q["value"], total))
    interp = [c for cc in o.get("interpretation", []) for c in codes(cc)]
    if absent:
        # REQ FHIR-NEWS2-INCOMPLETE: never shown complete
        check(q.get("comparator") == ">=", name + ": incomplete total carries comparator >=")
        check("incomplete" in interp, name + ": incomplete interpretation")
    else:
        check("comparator" not in q, name + ": complete total has no comparator")
        check("incomplete" not in interp, name + ": complete total not marked incomplete")


def check_outcome(o, name):
    issues = o.get("issue", [])
    check(len(issues) >= 1, name + ": at least one issue")
    for i in issues:
        check(i.get("severity") in SEVERITIES, name + ": severity")
        check(i.get("code") in ISSUE_TYPES, name + ": issue code in R4 IssueType")
        for e in i.get("expression", []):
            check(isinstance(e, str) and e, name + ": expression string")


def check_bundle(b, name):
    t = b.get("type")
    entries = b.get("entry", [])
    if t == "searchset":
        check(b.get("total") == len(entries), name + ": total matches entries")
        for e in entries:
            check(e.get("search", {}).get("mode") == "match", name + ": search.mode")
            res = e["resource"]
            if "fullUrl" in e:
                check(e["fullUrl"].endswith("/Observation/" + res["id"]), name + ": fullUrl")
            check_observation(res, name + ":" + res.get("id", "?"))
    elif t == "transaction-response":
        for e in entries:
            check(re.fullmatch(r"[0-9]{3}( .*)?", e["response"]["status"]) is not None,
                  name + ": response.status")
    else:
        check(False, name + ": unexpected Bundle type " + str(t))


def check_out_files():
    outdir = os.path.join(GOLD, "out")
    names = sorted(n for n in os.listdir(outdir) if n.endswith(".json"))
    check(len(names) >= 5, "out/ has the output goldens")
    for n in names:
        with open(os.path.join(outdir, n), encoding="utf-8") as f:
            doc = json.load(f)
        walk_json_rules(doc, doc.get("resourceType", "?"), n)
        rt = doc.get("resourceType")
        if rt == "Observation":
            check_observation(doc, n)
        elif rt == "OperationOutcome":
            check_outcome(doc, n)
        elif rt == "Bundle":
            check_bundle(doc, n)
        else:
            check(False, n + ": unexpected resourceType")


def instants(doc):
    """Every effective instant in an input, as Unix ms, read by Python."""
    res = [doc] if doc.get("resourceType") == "Observation" else \
        [e["resource"] for e in doc.get("entry", [])]
    out = []
    for r in res:
        s = r.get("effectiveDateTime") or r.get("effectiveInstant")
        if s is None and r.get("resourceType") != "Observation":
            continue  # an entry vigil does not use (a Patient): no instant
        t = datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
        out.append(round(t.timestamp() * 1000))
    return out


def check_good_events():
    gooddir = os.path.join(GOLD, "good")
    names = sorted(n for n in os.listdir(gooddir) if n.endswith(".json"))
    for n in names:
        with open(os.path.join(gooddir, n), encoding="utf-8") as f:
            doc = json.load(f)
        with open(os.path.join(gooddir, n[:-5] + ".events"), encoding="utf-8") as f:
            lines = [ln for ln in f.read().splitlines() if ln]
        times = instants(doc)
        for ln in lines:
            fields = dict(kv.split("=", 1) for kv in ln.split(" "))
            check(int(fields["t_ms"]) in times,
                  "%s: event time %s is an input instant %s" % (n, fields["t_ms"], times))
            if fields["nhs"] != "-":
                check(nhs_ok(fields["nhs"]), n + ": NHS number valid")
        # events are distinct (patient, time) sets
        keys = [(dict(kv.split("=", 1) for kv in ln.split(" "))["nhs"],
                 dict(kv.split("=", 1) for kv in ln.split(" "))["mrn"],
                 dict(kv.split("=", 1) for kv in ln.split(" "))["t_ms"]) for ln in lines]
        check(len(keys) == len(set(keys)), n + ": one event per patient and instant")


def check_bad_table():
    baddir = os.path.join(GOLD, "bad")
    names = sorted(n for n in os.listdir(baddir) if n.endswith(".json"))
    rows = {}
    with open(os.path.join(baddir, "expected.tsv"), encoding="utf-8") as f:
        for ln in f.read().splitlines():
            if not ln or ln.startswith("#"):
                continue
            name, code, expr = ln.split("\t")
            rows[name] = (code, expr)
    check(set(rows) == set(names), "expected.tsv rows match bad/*.json")
    for name, (code, expr) in rows.items():
        check(code in ISSUE_TYPES, "%s: %s is an R4 IssueType" % (name, code))
        check(expr == "-" or re.fullmatch(r"[A-Za-z]+(\.[A-Za-z]+(\[[0-9]+\])?)*|resourceType",
                                          expr) is not None,
              "%s: expression %s looks like FHIRPath" % (name, expr))


def main():
    if not os.path.isdir(GOLD):
        print("no golden directory at", GOLD)
        return 77
    check_out_files()
    check_good_events()
    check_bad_table()
    # a sanity check of the oracle itself: the NHS Digital example numbers
    check(nhs_ok("9434765919") and not nhs_ok("9434765918"), "oracle: NHS check digit")
    print("%d passed, %d failed" % (results["passed"], results["failed"]))
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
