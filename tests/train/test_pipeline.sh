#!/usr/bin/env bash
# test_pipeline.sh: `vigil-train` (and `vigil train`, which runs it) end to end on small real slices, then the bundle it
# wrote through `vigil evaluate --model`, `vigil explain`, and the refusals.
set -u
bin=${VIGIL_BIN:?}
tbin=${VIGIL_TRAIN_BIN:-$(dirname "$bin")/vigil-train}
data=${VIGIL_DATA_DIR:-../shared/data}
a19=$data/physionet2019/training_setA.tar.gz
a12=$data/physionet2012/set-a.tar.gz
[ -f "$a19" ] && [ -f "$a12" ] || { echo "skip: shared data not found"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
pass=0; fail=0
check() { if [ "$2" -eq 0 ]; then echo "ok: $1"; pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }
"$bin" train --help >"$tmp/h1" 2>&1 && "$tbin" --help >"$tmp/h2" 2>&1 && cmp -s "$tmp/h1" "$tmp/h2"
check "vigil train runs vigil-train (the same help, exit 0)" $?
cat >"$tmp/cfg.json" <<'CFG'
{"xgboost": {"max_depth": 3, "eta": 0.2, "max_rounds": 40, "early_stopping_rounds": 10, "nthread": 1,
             "max_bin": 64, "colsample_bynode": 0.8, "alpha": 0.5},
 "exclude_features": ["hours_since_admit", "*_minall"], "seed": 11}
CFG

"$tbin" --task sepsis2019 --data "$a19" --max-stays 400 --config "$tmp/cfg.json" \
    --out "$tmp/s.json" --model-id test-sepsis >"$tmp/train.out" 2>"$tmp/train.err"
check "sepsis training on 400 stays of hospital A succeeds" $?
$py - "$tmp/s.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
t = b["training"]
assert b["format"] == "vigil-model-bundle" and b["model_id"] == "test-sepsis"
assert t["stays"]["train"] + t["stays"]["valid"] + t["stays"]["calib"] == 400, t["stays"]
assert min(t["stays"].values()) > 0
assert "hours_since_admit" not in b["inputs"] and not any(n.endswith("_minall") for n in b["inputs"])
assert any(n.endswith("_maxall") for n in b["inputs"])
assert 0 < b["thresholds"]["alert"] < 1 and 0 < b["thresholds"]["news2_matched"] < 1
assert len(b["xgboost"]["learner"]["gradient_booster"]["model"]["trees"]) == t["rounds"] <= 40
assert "not validated for clinical use" in b["model_card"]["warning"]
x = t["xgboost"]
assert x["max_bin"] == 64 and x["colsample_bynode"] == 0.8 and x["alpha"] == 0.5 and x["max_depth"] == 3, x
assert b["evaluation"]["internal_calibration_split"]["auroc"] > 0.5
PY
check "the bundle records splits that cover every stay once, inputs, thresholds, card" $?

"$bin" evaluate --model "$tmp/s.json" --data "$a19" --max-stays 100 --json >"$tmp/ev.json" 2>"$tmp/ev.err"
check "vigil evaluate --model scores data with the new bundle" $?
$py -c "import json,sys; r=json.load(open(sys.argv[1]))[0]; assert r['model']['overall']['n']>1000 and r['news2']['score']=='NEWS2'" "$tmp/ev.json"
check "its JSON holds the model and NEWS2 side by side" $?

stay=$(tar -tzf "$a19" | grep '\.psv$' | sort | head -1 | sed 's|.*/||; s|\.psv$||')
"$bin" explain --model "$tmp/s.json" --data "$a19" --stay "$stay" --hour 10 >"$tmp/ex.txt" 2>&1
check "vigil explain explains one stay at one hour" $?
grep -q "Pushing the risk up" "$tmp/ex.txt" && grep -q "NEWS2 from the same observations" "$tmp/ex.txt" \
  && grep -q "not validated for clinical use" "$tmp/ex.txt"
check "the explanation shows NEWS2, the factors and the warning" $?
"$bin" explain --model "$tmp/s.json" --data "$a19" --stay p999999 >/dev/null 2>"$tmp/ex.err"
[ $? -ne 0 ] && grep -q "p999999" "$tmp/ex.err"
check "an unknown stay is refused by name" $?

"$tbin" --task mortality2012 --data "$a12" --max-stays 600 --config "$tmp/cfg.json" \
    --out "$tmp/m.json" >/dev/null 2>&1
check "mortality training on 600 stays of set-a succeeds" $?
$py -c "import json,sys; b=json.load(open(sys.argv[1])); assert b['task']['name']=='mortality2012' and 'news2_matched' not in b['thresholds']" "$tmp/m.json"
check "the 2012 bundle has its own task and an Event 1 threshold only" $?

# the ward model: inputs a ward records, declared with their source and unit
cat >"$tmp/ward.json" <<'CFG'
{"feature_set": "ward-vitals+labs",
 "xgboost": {"max_depth": 3, "eta": 0.2, "max_rounds": 30, "early_stopping_rounds": 10, "nthread": 1}}
CFG
"$bin" train --task sepsis2019 --data "$a19" --max-stays 400 --config "$tmp/ward.json" \
    --out "$tmp/w.json" --model-id test-ward >/dev/null 2>"$tmp/w.err"
check "training a ward vitals+labs model on 400 stays succeeds" $?
$py - "$tmp/w.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
assert b["feature_set"] == "ward-vitals+labs"
bad = ("_hsince", "_miss", "_n24", "_minall", "_maxall")
for n in b["inputs"]:
    assert not n.endswith(bad), n
    assert not n.startswith(("hours_since", "etco2", "fio2", "sao2", "paco2", "ph_", "troponin",
                             "map_", "dbp_", "news2_o2", "news2_total", "news2_n_missing")), n
decl = {d["variable"]: d for d in b["inputs_declared"]}
assert decl["resp"]["source"] == "observation set" and decl["resp"]["unit"] == "breaths/min"
assert decl["creatinine"]["source"] == "lab feed" and decl["creatinine"]["unit"] == "mg/dL"
assert all(d["source"] in ("observation set", "lab feed", "patient record") for d in decl.values())
assert "Ward inputs only" in " ".join(b["model_card"]["limitations"])
PY
check "its inputs hold no time-in-stay, process or ICU-only feature and are declared" $?
"$bin" evaluate --model "$tmp/w.json" --data "$a19" --max-stays 100 >"$tmp/wev.txt" 2>&1
grep -q "data quality: 0 malformed rows" "$tmp/wev.txt" && grep -q "not enough data to score: " "$tmp/wev.txt" \
  && grep -q "low-confidence flag on" "$tmp/wev.txt"
check "vigil evaluate --model prints the data-quality counts, not-enough-data and low-confidence rates" $?
"$bin" evaluate --model "$tmp/w.json" --data "$a19" --max-stays 100 --explain-audit --json >"$tmp/wau.json" 2>&1
$py - "$tmp/wau.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))[0]["explanation_audit"]
for k in ("alert_hours", "every_4th_scored_hour", "sample"):
    c = a[k]
    assert c["missing_input"] == 0, (k, c)     # a missing input is never the top reason
    assert c["physiological"] + c["not_physiological"] + c["no_reason"] == c["rows"], (k, c)
assert a["every_4th_scored_hour"]["rows"] > 100 and a["sample"]["rows"] > 0
PY
check "the explanation audit counts top reasons and finds no missing input among them" $?
"$bin" explain --model "$tmp/w.json" --data "$a19" --stay "$stay" --hour 1 >"$tmp/wex.txt" 2>&1
grep -q "NOT ENOUGH DATA TO SCORE" "$tmp/wex.txt" && ! grep -qi "not measured" "$tmp/wex.txt"
check "at hour 1 the explanation says not enough data, and no missing input is a reason" $?
"$bin" explain --model "$tmp/w.json" --data "$a19" --stay "$stay" --hour 30 --json >"$tmp/wex.json" 2>&1
$py - "$tmp/wex.json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
labels = [f["variable"] for f in o["pushing_up"] + o["pushing_down"]]
assert len(labels) == len(set(labels)), labels   # one reason per variable
assert o["status"] in ("scored", "not-enough-data")
for f in o["pushing_up"] + o["pushing_down"]:
    assert "not measured" not in f["factor"] and "never" not in f["factor"], f
PY
check "reasons are clinical variables, each once, never a missing input" $?
# an hour past the stay's last record is refused, never scored as if the patient were observed
last=$(tar -xzOf "$a19" "$(tar -tzf "$a19" | grep "/$stay.psv$")" | awk -F'|' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "ICULOS") c = i } NR > 1 { h = $c } END { print h }')
"$bin" explain --model "$tmp/w.json" --data "$a19" --stay "$stay" --hour "$last" >/dev/null 2>&1
check "vigil explain scores the stay's last recorded hour ($last)" $?
"$bin" explain --model "$tmp/w.json" --data "$a19" --stay "$stay" --hour $((last + 6)) --json >"$tmp/past.json" 2>"$tmp/past.err"
[ $? -ne 0 ] && [ ! -s "$tmp/past.json" ] && grep -q "after stay $stay's last record (hour $last)" "$tmp/past.err"
check "vigil explain refuses an hour past the stay's last record, naming it" $?
"$bin" adapt --model "$tmp/w.json" --data "$a19" --max-stays 600 --sensitivity 0.6 --sample-frac 0.5 \
    --out "$tmp/wa.json" >"$tmp/wa.txt" 2>&1
check "vigil adapt refits calibration and threshold on a local sample" $?
$py - "$tmp/w.json" "$tmp/wa.json" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
la = b["local_adaptation"]
assert b["xgboost"] == a["xgboost"] and b["inputs"] == a["inputs"]          # trees kept
assert b["calibration"] != a["calibration"] and b["thresholds"]["alert"] != a["thresholds"]["alert"]
assert la["threshold_before"] == a["thresholds"]["alert"] and la["calibration_before"] == a["calibration"]
assert abs(la["on_sample"]["sensitivity"] - 0.6) < 0.02                     # asked for on the sample
assert abs(la["on_sample"]["calibration_slope"] - 1) < 1e-3                 # Platt on the sample
r = la["rest_of_the_data"]
assert r["stays"] + la["sample_stays"] == 600 and la["sample_stays"] > 200   # disjoint, cover all
assert 0 < r["after"]["sensitivity"] < 1 and r["before"]["auroc"] == r["after"]["auroc"]
assert b["model_version"].endswith("+local") and "vigil adapt" in b["thresholds"]["alert_rule"]
PY
check "the adapted bundle keeps the trees, records the sample and reports on the other stays" $?
"$bin" evaluate --model "$tmp/wa.json" --data "$a19" --max-stays 50 >/dev/null 2>&1
check "the adapted bundle loads and scores" $?
"$bin" adapt --model "$tmp/w.json" --data "$a19" --out "$tmp/x.json" >/dev/null 2>&1
[ $? -eq 2 ]
check "adapt without a sensitivity or an alert rate is a usage error" $?

cat >"$tmp/cv.json" <<'CFG'
{"feature_set": "ward-vitals+labs", "cv_folds": 3,
 "xgboost": {"max_depth": 3, "eta": 0.2, "max_rounds": 30, "early_stopping_rounds": 10, "nthread": 1}}
CFG
"$bin" train --task mortality2012 --data "$a12" --max-stays 600 --config "$tmp/cv.json" \
    --out "$tmp/cv.out.json" >/dev/null 2>&1
check "mortality training with 3-fold cross-validation succeeds" $?
$py - "$tmp/cv.out.json" <<'PY'
import json, sys
cv = json.load(open(sys.argv[1]))["evaluation"]["cross_validation"]
assert cv["folds"] == 3 and len(cv["per_fold"]) == 3
assert sum(f["test_rows"] for f in cv["per_fold"]) == cv["rows"] == 600   # every stay scored once
assert min(f["test_rows"] for f in cv["per_fold"]) > 100
assert 0.5 < cv["auroc"] < 1 and cv["auroc_ci95"][0] < cv["auroc"] < cv["auroc_ci95"][1]
assert 0 <= cv["event1"] <= 1 and 0 < cv["news2_auroc"] < 1
PY
check "its cross-validated figures score every stay once, out of fold" $?
echo '{"cv_folds": 1}' >"$tmp/bad3.json"
"$bin" train --task mortality2012 --data "$a12" --config "$tmp/bad3.json" --out "$tmp/x.json" >/dev/null 2>"$tmp/e"
[ $? -ne 0 ] && grep -q "cv_folds" "$tmp/e"
check "one fold is refused" $?

# a stay cut short and a file cut off mid-row are reported, by evaluate and explain
mkdir -p "$tmp/cut/set-a"
ids="132539 132540 132541 132551 132588 132598"
tar -xzf "$a12" -C "$tmp/cut" $(for i in $ids; do echo "set-a/$i.txt"; done)
awk -F, 'NR == 1 || $1 < "20:00"' "$tmp/cut/set-a/132539.txt" >"$tmp/c" && mv "$tmp/c" "$tmp/cut/set-a/132539.txt"
head -c -7 "$tmp/cut/set-a/132540.txt" >"$tmp/c" && mv "$tmp/c" "$tmp/cut/set-a/132540.txt"
grep -E "^(RecordID|$(echo $ids | tr ' ' '|'))," "$data/physionet2012/Outcomes-a.txt" >"$tmp/cut/Outcomes-a.txt"
"$bin" evaluate --data "$tmp/cut/set-a" --outcomes "$tmp/cut/Outcomes-a.txt" >"$tmp/cut.txt" 2>&1
grep -q "1 stays cut short" "$tmp/cut.txt" && grep -q "data quality: 1 malformed rows" "$tmp/cut.txt"
check "plain vigil evaluate reports the stay cut short and the file cut off mid-row" $?
"$bin" evaluate --model "$tmp/m.json" --data "$tmp/cut/set-a" --outcomes "$tmp/cut/Outcomes-a.txt" \
    >"$tmp/cutm.txt" 2>&1
grep -q "1 stays cut short" "$tmp/cutm.txt" && grep -q "data quality: 1 malformed rows" "$tmp/cutm.txt"
check "vigil evaluate --model reports the same data-quality counts" $?
"$bin" explain --model "$tmp/m.json" --data "$tmp/cut/set-a" --stay 132539 >"$tmp/cutx.txt" 2>&1
grep -q "WARNING: this stay's records end at hour 19" "$tmp/cutx.txt"
check "vigil explain warns that the stay's records end before hour 48" $?

"$bin" train --task mortality2012 --data "$a19" --max-stays 50 --out "$tmp/x.json" >/dev/null 2>"$tmp/e"
[ $? -ne 0 ] && grep -q "needs PhysioNet 2012" "$tmp/e"
check "a task given the other data set is refused" $?
echo '{"xgboost": {"max_dept": 3}}' >"$tmp/bad.json"
"$bin" train --task sepsis2019 --data "$a19" --config "$tmp/bad.json" --out "$tmp/x.json" >/dev/null 2>"$tmp/e"
[ $? -ne 0 ] && grep -q "unknown parameter 'max_dept'" "$tmp/e"
check "a misspelt hyperparameter is refused" $?
echo '{"exclude_features": ["no_such_feature"]}' >"$tmp/bad2.json"
"$bin" train --task sepsis2019 --data "$a19" --config "$tmp/bad2.json" --out "$tmp/x.json" >/dev/null 2>"$tmp/e"
[ $? -ne 0 ] && grep -q "matches no feature" "$tmp/e"
check "an exclusion that matches no feature is refused" $?
"$bin" train --task sepsis2019 >/dev/null 2>&1
[ $? -eq 2 ]
check "missing options are a usage error" $?

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
