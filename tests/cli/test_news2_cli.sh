#!/usr/bin/env bash
# test_news2_cli.sh: `vigil news2` output and error messages, end to end.
set -u
bin=${VIGIL_BIN:?}
g=${VIGIL_SOURCE_DIR:?}/tests/golden/news2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # name, condition result
  if [ "$2" -ne 0 ]; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi
}
has() { grep -qF -- "$2" "$1"; }

# 1. mixed file: good lines scored, bad lines named on stderr, exit 1
(cd "$g" && "$bin" news2 mixed.csv) >"$tmp/out.jsonl" 2>"$tmp/err.txt"; rc=$?
check "mixed file exits 1 when some lines are refused" $([ $rc -eq 1 ]; echo $?)
diff -u "$g/mixed.expected.jsonl" "$tmp/out.jsonl" >"$tmp/diff" 2>&1
check "mixed file JSON output matches golden" $?
[ -s "$tmp/diff" ] && cat "$tmp/diff"
diff -u "$g/mixed.expected.err" "$tmp/err.txt"
check "mixed file error messages match golden" $?
has "$tmp/err.txt" "line 6: field 'spo2': value '140' is outside the plausible range 20 to 100 %"
check "implausible SpO2 names line, field and value" $?
has "$tmp/err.txt" "line 8: field 'acvpu': value 'X' is not one of A, C, V, P, U"
check "bad ACVPU names line, field and value" $?
has "$tmp/err.txt" "mixed.csv: line 10: expected 13 fields, found 10"
check "short row names its line" $?

# 2. --strict stops at the first refused line
"$bin" news2 --strict "$g/mixed.csv" >"$tmp/strict.jsonl" 2>"$tmp/strict.err"; rc=$?
check "--strict exits 1" $([ $rc -eq 1 ]; echo $?)
check "--strict scores only the lines before the first refusal" $([ "$(wc -l <"$tmp/strict.jsonl")" -eq 4 ]; echo $?)

# 3. CSV output and stdin
"$bin" news2 --format csv - <"$g/mixed.csv" >"$tmp/out.csv" 2>/dev/null
diff -u "$g/mixed.expected.csv" "$tmp/out.csv"
check "CSV output from stdin matches golden" $?

# 4. one set from flags
out=$("$bin" news2 --rr 25 --spo2 96 --o2 air --sbp 120 --hr 80 --acvpu A --temp 37)
echo "$out" | grep -q '"total":3,"total_is_lower_bound":false,"complete":true,"incomplete":false,"risk":"low-medium"'
check "flags: RR 25 alone is a single 3, low-medium" $?
out=$("$bin" news2 --rr 18 --spo2 96 --o2 oxygen --scale 2 --sbp 120 --hr 80 --acvpu A --temp 37)
echo "$out" | grep -q '"total":4,.*"sub":{"rr":0,"spo2":2,"o2":2'
check "flags: Scale 2 96% on oxygen scores 2 plus 2 for oxygen" $?
out=$("$bin" news2 --rr 18 --hr 80)
echo "$out" | grep -q '"complete":false,"incomplete":true' && echo "$out" | grep -q '"missing":\["spo2","o2","sbp","acvpu","temp"\]'
check "flags: a partial set is incomplete and names what is missing" $?
"$bin" news2 --rr 200 >/dev/null 2>"$tmp/e"; rc=$?
check "flags: implausible RR exits 1" $([ $rc -eq 1 ]; echo $?)
has "$tmp/e" "field 'rr': value '200' is outside the plausible range 0 to 80 breaths/min"
check "flags: implausible RR message names field and value" $?

# 5. usage and I/O errors
"$bin" news2 --format xml "$g/mixed.csv" >/dev/null 2>&1; rc=$?
check "unknown --format is a usage error (2)" $([ $rc -eq 2 ]; echo $?)
"$bin" news2 "$tmp/does-not-exist.csv" >/dev/null 2>"$tmp/e"; rc=$?
check "missing file exits 3 with its name" $([ $rc -eq 3 ] && has "$tmp/e" "does-not-exist.csv"; echo $?)
"$bin" news2 --help >"$tmp/h"; rc=$?
check "news2 --help exits 0 and documents --strict and --format" $([ $rc -eq 0 ] && has "$tmp/h" "--strict" && has "$tmp/h" "--format"; echo $?)
"$bin" --help >"$tmp/h"; rc=$?
check "vigil --help lists news2" $([ $rc -eq 0 ] && has "$tmp/h" "news2"; echo $?)
"$bin" nosuch >/dev/null 2>&1; rc=$?
check "unknown command exits 2" $([ $rc -eq 2 ]; echo $?)
printf 'id,rr\n' | "$bin" news2 >"$tmp/o" 2>&1; rc=$?
check "header only: nothing scored, exit 0" $([ $rc -eq 0 ] && [ ! -s "$tmp/o" ]; echo $?)
printf '' | "$bin" news2 >/dev/null 2>"$tmp/e"; rc=$?
check "empty input: no header is an error" $([ $rc -eq 1 ] && has "$tmp/e" "no header row"; echo $?)
printf 'id,rr,rr\nx,1,2\n' | "$bin" news2 >/dev/null 2>"$tmp/e"; rc=$?
check "duplicate column is refused" $([ $rc -eq 1 ] && has "$tmp/e" "column 'rr' appears twice"; echo $?)

exit $fail
