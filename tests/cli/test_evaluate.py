#!/usr/bin/env python3
"""test_evaluate.py: `vigil evaluate --json` on small slices of the real data,
checked against counts made independently here (Python's tarfile and csv),
and its AUROC checked against scikit-learn on the scores it reports."""
import json, os, subprocess, sys, tarfile

bin_ = os.environ["VIGIL_BIN"]
data = os.environ.get("VIGIL_DATA_DIR", "../shared/data")
a19 = os.path.join(data, "physionet2019", "training_setA.tar.gz")
a12 = os.path.join(data, "physionet2012", "set-a.tar.gz")
if not (os.path.exists(a19) and os.path.exists(a12)):
    print("skip: shared data not found")
    sys.exit(77)

N = 300
fails = 0
passes = 0
def check(name, ok):
    global fails, passes
    passes += 1 if ok else 0
    print(("ok: " if ok else "FAIL: ") + name)
    fails += 0 if ok else 1

def run(*args):
    p = subprocess.run([bin_, "evaluate", "--json", "--max-stays", str(N), *args],
                       capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr

# PhysioNet 2019: the first N files in name order
rc, out, err = run("--data", a19)
check("2019 slice evaluates with exit 0", rc == 0)
res = json.loads(out)[0]
rows = septic = 0
with tarfile.open(a19) as t:
    members = sorted((m for m in t.getmembers() if m.name.endswith(".psv")), key=lambda m: m.name)[:N]
    for m in members:
        lines = t.extractfile(m).read().decode().splitlines()[1:]
        rows += len(lines)
        septic += any(l.rsplit("|", 1)[1] == "1" for l in lines)
check(f"2019 stays {res['stays']} == {N}", res["stays"] == N)
check(f"2019 hourly rows {res['rows']} == {rows} (counted by tarfile)", res["rows"] == rows)
check(f"2019 septic stays {res['event_stays']} == {septic}", res["event_stays"] == septic)
names = [s["score"] for s in res["scores"]]
check("2019 scores are NEWS2, qSOFA, SIRS", names == ["NEWS2", "qSOFA", "SIRS"])
news2 = res["scores"][0]
check("NEWS2 alert threshold is 5", news2["threshold"] == 5.0)
lo, hi = news2["overall"]["auroc_ci95"]
check("AUROC inside its CI", lo <= news2["overall"]["auroc"] <= hi)
check("utility and alert burden reported", "utility" in news2 and news2["alerts_per_patient_day"] > 0)
kinds = {g["kind"] for g in news2["subgroups"]}
check("subgroups by sex and age", {"sex", "age"} <= kinds)
n_sex = sum(g["n"] for g in news2["subgroups"] if g["kind"] == "sex")
check("sex subgroups cover every row", n_sex == rows)

# PhysioNet 2012: deaths from the Outcomes file for the first N records
rc, out, err = run("--data", a12)
check("2012 slice evaluates with exit 0", rc == 0)
res = json.loads(out)[0]
with tarfile.open(a12) as t:
    ids = sorted(m.name.rsplit("/", 1)[1][:-4] for m in t.getmembers() if m.name.endswith(".txt"))[:N]
died = {}
with open(os.path.join(data, "physionet2012", "Outcomes-a.txt")) as f:
    next(f)
    for line in f:
        r = line.strip().split(",")
        died[r[0]] = int(r[5])
deaths = sum(died[i] for i in ids)
check(f"2012 stays {res['stays']} == {N}", res["stays"] == N)
check(f"2012 deaths {res['event_stays']} == {deaths} (from Outcomes-a.txt)", res["event_stays"] == deaths)
saps = [s for s in res["scores"] if s["score"] == "SAPS-I"][0]
# SAPS-I AUROC against scikit-learn on the Outcomes file's own SAPS-I column
from sklearn.metrics import roc_auc_score
saps_col = {}
with open(os.path.join(data, "physionet2012", "Outcomes-a.txt")) as f:
    next(f)
    for line in f:
        r = line.strip().split(",")
        saps_col[r[0]] = float(r[1])
y = [died[i] for i in ids]
s = [saps_col[i] for i in ids]   # -1 (unknown) ranks lowest, as vigil does
auc = roc_auc_score(y, s)
check(f"SAPS-I AUROC {saps['overall']['auroc']:.6f} == sklearn {auc:.6f}",
      abs(saps["overall"]["auroc"] - auc) < 1e-9)
check("Event 1 reported for 2012", 0 <= saps["event1"] <= 1)

# bad input: a clear error, non-zero exit
p = subprocess.run([bin_, "evaluate", "--data", "/nonexistent/path"], capture_output=True, text=True)
check("missing data path exits non-zero with its name", p.returncode != 0 and "/nonexistent/path" in p.stderr)
print(f"{passes} passed, {fails} failed")
sys.exit(1 if fails else 0)
