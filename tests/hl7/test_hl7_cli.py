#!/usr/bin/python3
"""`vigil hl7 decode` on every golden message gives exactly the reviewed
output in tests/golden/hl7/**/<name>.expected.json (events, ADT, refusal and
the ACK, with a fixed ACK id and time), and an MLLP stream of all of them,
with junk between frames, gives the same results in order.

Regenerate the expectations only in a reviewed commit:
    VIGIL_BIN=build/vigil /usr/bin/python3 tests/hl7/test_hl7_cli.py --update
"""
import glob
import json
import os
import subprocess
import sys

SRC = os.environ.get("VIGIL_SOURCE_DIR", ".")
BIN = os.environ.get("VIGIL_BIN", os.path.join(SRC, "build", "vigil"))
GOLDEN = os.path.join(SRC, "tests", "golden", "hl7")
ARGS = ["hl7", "decode", "--ack", "--ack-id", "VIGIL1", "--ack-time", "20250101000000+0000"]
if not os.access(BIN, os.X_OK):
    print(f"skip: no vigil binary at {BIN}")
    sys.exit(77)

update = "--update" in sys.argv
PER_RESULT = {"implausible_value.hl7", "non_numeric_value.hl7", "truncated_segment.hl7",
              "wrong_units.hl7", "value_type_not_nm.hl7", "acvpu_not_in_scale.hl7"}
files = sorted(glob.glob(os.path.join(GOLDEN, "*.hl7")) + glob.glob(os.path.join(GOLDEN, "bad", "*.hl7")))
passed, failed = 0, 0
results = []
for path in files:
    p = subprocess.run([BIN, *ARGS, path], capture_output=True)
    # a fault in one result refuses that result only: accepted, named in an ERR (W)
    good = os.path.dirname(path) == GOLDEN or os.path.basename(path) in PER_RESULT
    got = json.loads(p.stdout)
    results.append(got)
    exp_path = path[:-4] + ".expected.json"
    if update:
        with open(exp_path, "w") as f:
            json.dump(got, f, indent=2, sort_keys=True)
            f.write("\n")
    with open(exp_path) as f:
        want = json.load(f)
    ok = got == want and p.returncode == (0 if good else 1) and got["accepted"] == good
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {os.path.relpath(path, GOLDEN)}: exit {p.returncode}")
        for k in sorted(set(got) | set(want)):
            if got.get(k) != want.get(k):
                print(f"  {k}: got {json.dumps(got.get(k))}\n  {k}: want {json.dumps(want.get(k))}")

# One MLLP stream: every message framed, junk before the first and between two.
stream = b"\r\n"
for i, path in enumerate(files):
    with open(path, "rb") as f:
        body = f.read()
    if b"\x0b" in body or b"\x1c" in body:
        continue  # cannot be framed (binary junk)
    stream += b"\x0b" + body + b"\x1c\x0d"
    if i == 3:
        stream += b"noise"
p = subprocess.run([BIN, *ARGS, "--mllp", "-"], input=stream, capture_output=True)
lines = [json.loads(x) for x in p.stdout.decode().splitlines()]
framed = [r for r, path in zip(results, files)
          if b"\x0b" not in open(path, "rb").read() and b"\x1c" not in open(path, "rb").read()]
errors = [x for x in lines if "mllp_error" in x]
msgs = [x for x in lines if "mllp_error" not in x]
if [e["mllp_error"] for e in errors] == ["junk", "junk"] and len(msgs) == len(framed):
    # the ACK ids count up in a stream: compare everything else
    same = all({k: v for k, v in a.items() if k != "ack"} == {k: v for k, v in b.items() if k != "ack"}
               for a, b in zip(msgs, framed))
    if same and p.returncode == 1:
        passed += 1
    else:
        failed += 1
        print("FAIL mllp stream: results differ from one-file decoding")
else:
    failed += 1
    print(f"FAIL mllp stream: {len(errors)} framing errors {[e.get('mllp_error') for e in errors]}, "
          f"{len(msgs)} messages, wanted 2 junk and {len(framed)}")

# `vigil hl7 check --profile`: the profile named, each result not used listed with its reason
prof = os.path.join(GOLDEN, "profiles", "verified_only.profile")
p = subprocess.run([BIN, "hl7", "check", "--profile", prof, os.path.join(GOLDEN, "oru_oxygen_bst.hl7")],
                   capture_output=True)
got = json.loads(p.stdout)
refused = [(r["reason"], r["location"]) for r in got.get("refused", [])]
if (p.returncode == 0 and got["profile"] == "verified-only" and got["counts"]["refused"] == 1
        and refused == [("result-status", "OBX^8^11^1^0")] and "|W|result-status^^99VIGIL|" in got["ack"]):
    passed += 1
else:
    failed += 1
    print(f"FAIL check --profile: exit {p.returncode} {json.dumps(got)[:400]}")
p = subprocess.run([BIN, "hl7", "check", "--profile", os.path.join(GOLDEN, "oru_oxygen_bst.hl7"),
                    os.path.join(GOLDEN, "oru_oxygen_bst.hl7")], capture_output=True)
if p.returncode == 2 and b"line 1" in p.stderr:
    passed += 1
else:
    failed += 1
    print(f"FAIL check --profile with a malformed profile: exit {p.returncode} {p.stderr[:200]}")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
