#!/usr/bin/env bash
# test_vital_names.sh: adding a vital sign is one row of the table plus its scoring rule
# (issue 11, docs/core.md "Adding a vital sign"): scripts/check_vital_names.py finds no
# place in src/, include/vigil/ or web/js/ that names a vital sign's field, store column,
# code or MDC reference id outside the table and the places it allows. Then the checker is
# shown to catch each kind of name, on a copy of the tree with one put in, and to leave
# comments alone.
set -u
src=${VIGIL_SOURCE_DIR:?}
py=/usr/bin/python3
chk=$src/scripts/check_vital_names.py
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
check() { if [ "$2" -eq 0 ]; then echo "ok: $1"; pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }
expect_fail() { # name expected-line cmd...
    local name=$1 want=$2; shift 2
    "$@" >"$tmp/out" 2>&1; local rc=$?
    [ "$rc" -eq 1 ] && grep -q -- "$want" "$tmp/out"
    check "$name" $?
    [ "$rc" -eq 1 ] || cat "$tmp/out"
}

$py "$chk" "$src" >"$tmp/real" 2>&1
check "no vital sign is named outside the table" $?
cat "$tmp/real"

fresh() { rm -rf "$tmp/t"; mkdir -p "$tmp/t/web"; cp -r "$src/src" "$src/include" "$tmp/t/"; cp -r "$src/web/js" "$tmp/t/web/"; }

fresh; printf 'static double hr(const vigil_obs *o) { return o->hr_bpm; }\n' >>"$tmp/t/src/server/server.c"
expect_fail "a vigil_obs field named in C is caught" "src/server/server.c:.*'hr_bpm'" $py "$chk" "$tmp/t"

fresh; printf 'static const char SQL[] = "SELECT spo2_pct FROM obs_set";\n' >>"$tmp/t/src/store/sqlite/sq_read.c"
expect_fail "a store column named in SQL is caught" "'spo2_pct'" $py "$chk" "$tmp/t"

fresh; printf 'static const char *const c = "8867-4";\n' >>"$tmp/t/src/hl7/hl7_oru.c"
expect_fail "a LOINC code of the table is caught" "'8867-4'" $py "$chk" "$tmp/t"

fresh; printf 'static const char *const r = "MDC_PULS_OXIM_SAT_O2";\n' >>"$tmp/t/src/fhir/fhir_observation.c"
expect_fail "an MDC reference id of the table is caught" "'MDC_PULS_OXIM_SAT_O2'" $py "$chk" "$tmp/t"

fresh; printf "const W = { sbp_mmhg: 'systolic' };\n" >>"$tmp/t/web/js/ward.js"
expect_fail "a column named in the web app is caught" "web/js/ward.js:.*'sbp_mmhg'" $py "$chk" "$tmp/t"

fresh; printf 'static const char *const k = "temp_c";\n' >>"$tmp/t/src/server/api.c"
expect_fail "a JSON key of the table in a C string is caught" "src/server/api.c:.*'temp_c'" $py "$chk" "$tmp/t"

fresh; printf "export const pulse = (v) => v.hr;\n" >>"$tmp/t/web/js/ward.js"
expect_fail "a key of the table read as a property in the web app is caught" "web/js/ward.js:.*'hr'" $py "$chk" "$tmp/t"

fresh; printf "export const isLevel = (v) => v.type === 'acvpu';\n" >>"$tmp/t/web/js/ward.js"
$py "$chk" "$tmp/t" >"$tmp/out" 2>&1
check "a kind of value compared in the web app is not a name" $?

fresh; $py "$chk" "$tmp/t" >"$tmp/before" 2>&1
printf '/* e.g. hr_bpm, "8867-4" */\n// temp_c\n' >>"$tmp/t/src/server/server.c"
$py "$chk" "$tmp/t" >"$tmp/out" 2>&1
cmp -s "$tmp/before" "$tmp/out"
check "names in comments are left alone" $?

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
