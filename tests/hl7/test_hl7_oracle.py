#!/usr/bin/python3
"""Cross-check vigil's HL7 parser against an independent one: python-hl7
(Debian's python3-hl7, installed by scripts/setup.sh).

1. Every segment, field, repetition, component and subcomponent that
   `vigil hl7 fields` reports for the golden messages is compared, decoded,
   with python-hl7's Message.extract_field (which unescapes).
2. The events `vigil hl7 decode` extracts from the golden ORU^R01 and ADT
   messages are recomputed here from python-hl7's fields, with
   hl7.parse_datetime for UTC offsets and zoneinfo's Europe/London for times
   without one, and compared value by value.

Exit 77 (skip) when the vigil binary or python-hl7 is missing, saying why.
"""
import json
import os
import subprocess
import sys
from datetime import datetime, timezone

try:
    import hl7
    from zoneinfo import ZoneInfo
except ImportError as e:  # pragma: no cover
    print(f"skip: {e} (run scripts/setup.sh: python3-hl7)")
    sys.exit(77)

SRC = os.environ.get("VIGIL_SOURCE_DIR", ".")
BIN = os.environ.get("VIGIL_BIN", os.path.join(SRC, "build", "vigil"))
GOLDEN = os.path.join(SRC, "tests", "golden", "hl7")
if not os.access(BIN, os.X_OK):
    print(f"skip: no vigil binary at {BIN}")
    sys.exit(77)

ORU = ["oru_full_set.hl7", "oru_oxygen_bst.hl7", "oru_two_sets_local_time.hl7",
       "oru_custom_delimiters.hl7"]
ADT = ["adt_a01_admit.hl7", "adt_a02_transfer.hl7", "adt_a03_discharge.hl7",
       "adt_a08_update.hl7"]
# structurally valid messages from the refusal corpus: fields must still agree
# (bad_escape.hl7 is left out: python-hl7 logs and drops an unknown escape, vigil refuses it)
BAD_BUT_PARSABLE = ["bad/implausible_value.hl7", "bad/truncated_segment.hl7",
                    "bad/wrong_units.hl7", "oru_conflicting_heart_rates.hl7"]
LONDON = ZoneInfo("Europe/London")

failures = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)


def load(name):
    with open(os.path.join(GOLDEN, name), "rb") as f:
        raw = f.read().decode("utf-8")
    # python-hl7 wants CR between segments
    return hl7.parse(raw.replace("\r\n", "\r").replace("\n", "\r").rstrip("\r"))


def vigil(*args):
    p = subprocess.run([BIN, "hl7", *args], capture_output=True, text=True)
    return p.returncode, p.stdout


def compare_fields(name):
    rc, out = vigil("fields", os.path.join(GOLDEN, name))
    check(rc == 0, f"{name}: vigil hl7 fields exit {rc}")
    if rc != 0:
        return
    segs = json.loads(out)["segments"]
    msg = load(name)
    check(len(segs) == len(msg), f"{name}: {len(segs)} segments, python-hl7 {len(msg)}")
    seen = {}
    for i, seg in enumerate(segs):
        sid = seg[0]
        seen[sid] = seen.get(sid, 0) + 1
        check(str(msg[i][0]) == sid, f"{name}: segment {i} id {sid} vs {msg[i][0]}")
        for f, field in enumerate(seg[1:], start=1):
            if isinstance(field, str):  # MSH-1, MSH-2
                want = msg.extract_field(sid, seen[sid], f, 1, 1, 1)
                check(field == want, f"{name}: {sid}-{f} {field!r} vs {want!r}")
                continue
            for r, rep in enumerate(field, start=1):
                for c, comp in enumerate(rep, start=1):
                    for s, sub in enumerate(comp, start=1):
                        want = msg.extract_field(sid, seen[sid], f, r, c, s)
                        check(sub == want,
                              f"{name}: {sid}({seen[sid]})-{f}({r}).{c}.{s} "
                              f"vigil {sub!r} python-hl7 {want!r}")


def extract(msg, *path):
    """python-hl7's extract_field, '' where its tree ends early (an empty field)."""
    try:
        return msg.extract_field(*path)
    except IndexError:
        return ""


def ts_ms(text):
    """HL7 DTM to Unix ms, independently: python-hl7 with an offset, zoneinfo without."""
    text = text.split("^")[0]
    if "+" in text or "-" in text:
        dt = hl7.parse_datetime(text)
    else:
        digits = text.ljust(14, "0")
        dt = datetime(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]),
                      int(digits[8:10]), int(digits[10:12]), int(digits[12:14]),
                      tzinfo=LONDON)
    return int(dt.timestamp() * 1000)


def ids(msg):
    nhs, mrn = "", ""
    pid = msg.segment("PID")
    for r in range(1, 10):
        try:
            value = msg.extract_field("PID", 1, 3, r, 1, 1)
        except (IndexError, KeyError):
            break
        kind = msg.extract_field("PID", 1, 3, r, 5, 1)
        if kind == "NH":
            nhs = value.replace(" ", "")
        elif kind in ("MR", "PI") and not mrn:
            mrn = value
    del pid
    return nhs, mrn


CODES = {"9279-1": "rr", "8867-4": "hr", "59408-5": "spo2", "2708-6": "spo2",
         "8480-6": "sbp", "8310-5": "temp_c"}


def expected_events(msg):
    """Recompute the NEWS2 numbers per observation time from python-hl7's fields."""
    nhs, mrn = ids(msg)
    events = {}
    obr_time = None
    for seg in msg:
        sid = str(seg[0])
        if sid == "OBR":
            obr_time = str(seg[7]) if len(seg) > 7 and str(seg[7]) else None
        if sid != "OBX":
            continue
        code, system = None, None
        for alt in (0, 3):  # primary and alternate coding
            c = seg[3][0][alt] if len(seg[3][0]) > alt + 2 else None
            if c is not None and str(seg[3][0][alt + 2]) == "LN" and str(c) in CODES:
                code = str(c)
                system = "LN"
        if code is None or system is None or str(seg[11]) not in ("F", "C"):
            continue
        value = float(str(seg[5]))
        units = msg.unescape(str(seg[6][0][0]) if isinstance(seg[6][0], hl7.Repetition)
                             else str(seg[6]))
        if units == "[degF]":
            value = (value - 32) * 5 / 9
        when = str(seg[14]) if len(seg) > 14 and str(seg[14]) else obr_time
        events.setdefault(ts_ms(when), {})[CODES[code]] = value
    return nhs, mrn, events


def compare_oru(name):
    rc, out = vigil("decode", os.path.join(GOLDEN, name))
    check(rc == 0, f"{name}: vigil hl7 decode exit {rc}")
    got = json.loads(out)
    if "events" not in got:
        check(False, f"{name}: refused: {got.get('error')}")
        return
    nhs, mrn, want = expected_events(load(name))
    check(len(got["events"]) == len(want),
          f"{name}: {len(got['events'])} events, oracle {len(want)}")
    for ev in got["events"]:
        check(ev["nhs_number"] == nhs and ev["mrn"] == mrn,
              f"{name}: ids {ev['nhs_number']}/{ev['mrn']} vs {nhs}/{mrn}")
        w = want.get(ev["t_ms"])
        check(w is not None, f"{name}: event at {ev['time']} not found by the oracle")
        if w is None:
            continue
        for key in ("rr", "hr", "spo2", "sbp", "temp_c"):
            if key in w:
                check(ev[key] is not None and abs(ev[key] - w[key]) < 1e-9,
                      f"{name}: {key} {ev[key]} vs {w[key]}")
            else:
                check(ev[key] is None, f"{name}: {key} {ev[key]} not in the message")


def compare_adt(name):
    rc, out = vigil("decode", os.path.join(GOLDEN, name))
    check(rc == 0, f"{name}: vigil hl7 decode exit {rc}")
    got = json.loads(out)
    if "adt" not in got:
        check(False, f"{name}: refused: {got.get('error')}")
        return
    adt = got["adt"]
    msg = load(name)
    nhs, mrn = ids(msg)
    check((adt["nhs_number"], adt["mrn"]) == (nhs, mrn), f"{name}: ids")
    for key, f in (("location", 3), ("prior_location", 6)):
        for c, part in enumerate(("ward", "room", "bed"), start=1):
            want = extract(msg, "PV1", 1, f, 1, c, 1)
            check(adt[key][part] == want, f"{name}: {key}.{part} {adt[key][part]!r} vs {want!r}")
    pv1 = msg.segment("PV1")
    for key, f in (("admit_t_ms", 44), ("discharge_t_ms", 45)):
        raw = str(pv1[f]) if len(pv1) > f else ""
        want = ts_ms(raw) if raw else None
        check(adt[key] == want, f"{name}: {key} {adt[key]} vs {want}")
    evn = msg.segments("EVN")[0] if any(str(s[0]) == "EVN" for s in msg) else None
    raw = ""
    if evn is not None:
        raw = str(evn[6]) if len(evn) > 6 and str(evn[6]) else str(evn[2])
    if not raw:
        raw = str(msg.segment("MSH")[7])
    check(adt["t_ms"] == ts_ms(raw), f"{name}: event time {adt['t_ms']} vs {ts_ms(raw)}")


for name in ORU + ADT + BAD_BUT_PARSABLE:
    compare_fields(name)
for name in ORU:
    compare_oru(name)
for name in ADT:
    compare_adt(name)

for f in failures:
    print("FAIL", f)
print(f"{checks - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
