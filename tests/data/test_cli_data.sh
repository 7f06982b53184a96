#!/usr/bin/env bash
# test_cli_data.sh: `vigil data` on a crafted folder: counts and issues with
# file and line, --strict exit status, unreadable path, and a real slice read
# from the shared archive in place (skipped when the data are absent).
set -u
bin=${VIGIL_BIN:?VIGIL_BIN not set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

h='HR|O2Sat|Temp|SBP|MAP|DBP|Resp|EtCO2|BaseExcess|HCO3|FiO2|pH|PaCO2|SaO2|AST|BUN|Alkalinephos|Calcium|Chloride|Creatinine|Bilirubin_direct|Glucose|Lactate|Magnesium|Phosphate|Potassium|Bilirubin_total|TroponinI|Hct|Hgb|PTT|WBC|Fibrinogen|Platelets|Age|Gender|Unit1|Unit2|HospAdmTime|ICULOS|SepsisLabel'
nan33=$(printf 'NaN|%.0s' $(seq 33)); nan33=${nan33%|}
mkdir -p "$tmp/setA"
printf '%s\n80|%s|60|1|NaN|NaN|-1|1|0\n90|%s|60|1|NaN|NaN|-1|2|0\n' "$h" "$nan33" "$nan33" > "$tmp/setA/p1.psv"
printf '%s\n80|%s|60|1|NaN|NaN|-1|1|0\n1|2|3\n' "$h" "$nan33" > "$tmp/setA/p2.psv"

out=$("$bin" data "$tmp" 2>&1); rc=$?
[ $rc -eq 0 ] || fail "lenient run exit $rc: $out"
echo "$out" | grep -q 'stays 2 (2019 2, 2012 0' || fail "stay count: $out"
echo "$out" | grep -q 'rows 4 (dropped 1)' || fail "row count: $out"
echo "$out" | grep -q 'issue field_count *1' || fail "issue count: $out"
echo "$out" | grep -q 'setA/p2.psv:3: expected 41 fields, got 3' || fail "message: $out"

out=$("$bin" data --strict "$tmp" 2>&1); rc=$?
[ $rc -eq 1 ] || fail "strict exit $rc: $out"
echo "$out" | grep -q 'p2.psv:3:' || fail "strict message: $out"

"$bin" data "$tmp/does-not-exist" >/dev/null 2>&1; rc=$?
[ $rc -eq 3 ] || fail "missing path exit $rc"

data=${VIGIL_DATA_DIR:-}
if [ -n "$data" ] && [ -r "$data/physionet2012/set-b.tar.gz" ]; then
  out=$("$bin" data --max-files 10 "$data/physionet2012/set-b.tar.gz" 2>&1); rc=$?
  [ $rc -eq 0 ] || fail "real slice exit $rc: $out"
  echo "$out" | grep -q 'outcomes files 2 (8000 rows)' || fail "outcomes: $out"
  echo "$out" | grep -q 'stays 10 (2019 0, 2012 10' || fail "real stays: $out"
fi
echo "ok"
