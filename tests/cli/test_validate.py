#!/usr/bin/env python3
"""test_validate.py: `vigil validate` writes one self-contained HTML report
whose every figure equals what `vigil evaluate --model --json` prints for the
same bundle and data (a small slice of hospital B), whose plotted curves are
the JSON's curve points, and which shows bundle text as text, never markup."""
import html.parser, json, os, re, subprocess, sys, tempfile

bin_ = os.environ["VIGIL_BIN"]
src = os.environ.get("VIGIL_SOURCE_DIR", ".")
data = os.environ.get("VIGIL_DATA_DIR", "../shared/data")
b19 = os.path.join(data, "physionet2019", "training_setB.tar.gz")
bundle = os.path.join(src, "models", "vigil-sepsis-2019A.json")
if not os.path.exists(b19):
    print("skip: shared data not found")
    sys.exit(77)

N = "400"
fails = passes = 0
def check(name, ok):
    global fails, passes
    passes += 1 if ok else 0
    fails += 0 if ok else 1
    print(("ok: " if ok else "FAIL: ") + name)

tmp = tempfile.mkdtemp(prefix="vigil-validate-", dir=os.environ.get("VIGIL_BUILD_DIR"))

# a copy of the shipped bundle whose model card carries markup
with open(bundle) as f:
    b = json.load(f)
evil = "<img src=x onerror=alert(1)> & \"quoted\""
b["model_card"]["intended_use"] = evil
evil_bundle = os.path.join(tmp, "bundle.json")
with open(evil_bundle, "w") as f:
    json.dump(b, f)

ev = subprocess.run([bin_, "evaluate", "--model", evil_bundle, "--data", b19, "--max-stays", N,
                     "--json"], capture_output=True, text=True)
check("evaluate --json exits 0", ev.returncode == 0)
entry = json.loads(ev.stdout)[0]
out = os.path.join(tmp, "report.html")
va = subprocess.run([bin_, "validate", "--model", evil_bundle, "--data", b19, "--max-stays", N,
                     "--out", out], capture_output=True, text=True)
check("validate exits 0", va.returncode == 0)
text = open(out, encoding="utf-8").read()

class Figs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.figs, self.lines, self.tags = [], {}, set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        if "data-fig" in a:
            self.figs.append((a["data-fig"], a["data-v"]))
        if tag == "polyline" and "data-fig-points" in a:
            self.lines[a["data-fig-points"]] = a["points"].split()
p = Figs()
p.feed(text)

def at(j, path):
    for k in path.split("/"):
        j = j[int(k)] if isinstance(j, list) else j[k]
    return j

bad = []
for path, v in p.figs:
    want = at(entry, path)
    got = None if v == "null" else float(v)
    if not ((want is None and got is None) or (want is not None and got == float(want))):
        bad.append((path, v, want))
check(f"{len(p.figs)} figures in the report, each equal to evaluate --json ({bad[:3]})",
      len(p.figs) > 300 and not bad)
need = ["model/overall/auroc", "model/overall/auroc_ci95/0", "news2/overall/auroc",
        "validation/per_admission/model/auroc", "validation/per_admission/news2/auprc",
        "model/overall/calibration_slope", "model/overall/calibration_intercept",
        "validation/calibration/observed_expected", "validation/operating_point/nne",
        "validation/operating_point/alerts_per_100_patient_days",
        "validation/operating_point/lead_median_h",
        "validation/operating_point/added_over_news2_event_stays",
        "validation/budgets/19/threshold", "validation/cohort/prevalence_stays",
        "validation/cohort/missing_by_input/0/missing", "malformed_rows",
        "model/subgroups/0/auroc"]
shown = {f for f, _ in p.figs}
check("the report shows each required figure", all(n in shown for n in need))
check("20 alert budgets", len(entry["validation"]["budgets"]) == 20 and
      "validation/budgets/19/alerts_per_100_patient_days" in shown)
check("budgets keep alerts within the budget",
      all(r["threshold"] is None or r["alerts_per_100_patient_days"] <= r["budget_per_100_patient_days"]
          for r in entry["validation"]["budgets"]))
for curve in ("model/roc", "news2/roc", "model/pr", "news2/pr"):
    pts = entry["validation"]["curves"][curve.split("/")[0]][curve.split("/")[1]]
    check(f"plotted {curve} has the JSON's {len(pts)} points",
          len(p.lines.get("validation/curves/" + curve, [])) == len(pts) and len(pts) > 5)
# the ROC curve's area (trapezoids over its thinned points) is close to the AUROC
roc = entry["validation"]["curves"]["model"]["roc"]
area = sum((b[1] - a[1]) * (a[2] + b[2]) / 2 for a, b in zip(roc, roc[1:]))
check(f"ROC points' area {area:.4f} ~ AUROC {entry['model']['overall']['auroc']:.4f}",
      abs(area - entry["model"]["overall"]["auroc"]) < 0.01)
sha = subprocess.run(["sha256sum", evil_bundle], capture_output=True, text=True).stdout.split()[0]
check("the bundle's SHA-256 is shown", sha in text and entry["validation"]["model_sha256"] == sha)
check("raises, never lowers NEWS2 is stated", "raises, never lowers" in text)
check("no script, no external resource", "script" not in p.tags and
      not re.search(r"(src|href)=\"?(https?:)?//", text))
check("bundle markup is shown as text", "<img src=x" not in text and
      "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quoted&quot;" in text)
# --record keeps the summary figures in the bundle, not the report's curves and tables
rec = os.path.join(tmp, "recorded.json")
with open(rec, "w") as f:
    json.dump(b, f)
r = subprocess.run([bin_, "evaluate", "--model", rec, "--data", b19, "--max-stays", "50",
                    "--record", "--json"], capture_output=True, text=True)
with open(rec) as f:
    last = json.load(f)["evaluation"]["external"][-1]
check("--record stores the model's figures without the validation object",
      r.returncode == 0 and "model" in last and "validation" not in last)
print(f"{passes} passed, {fails} failed")
sys.exit(1 if fails else 0)
