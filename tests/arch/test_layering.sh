#!/usr/bin/env bash
# test_layering.sh: STYLE.md section 1's layering holds (scripts/check_layering.py): no
# module includes or links what it may not (core including store, a private header of
# another module, sqlite3.h outside src/store), and the serving binary (vigil) neither
# needs libxgboost nor contains src/train. Then the checker is shown to catch each kind
# of break, on a copy of the tree with one violation put in, and on vigil-train (which
# does link training) named as the serving binary.
set -u
src=${VIGIL_SOURCE_DIR:?}
build=${VIGIL_BUILD_DIR:?}
py=/usr/bin/python3
chk=$src/scripts/check_layering.py
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

$py "$chk" "$src" "$build" >"$tmp/real" 2>&1
check "the tree and the build keep the layering" $?
cat "$tmp/real"

fresh() { rm -rf "$tmp/t"; mkdir -p "$tmp/t"; cp -r "$src/src" "$src/include" "$tmp/t/"; }

fresh; f=$(ls "$tmp/t"/src/core/*.c | head -n 1)
printf '#include "vigil/store.h"\n' >>"$f"
expect_fail "core including the store's header is caught" "core includes vigil/store.h" \
    $py "$chk" "$tmp/t"

fresh; printf '#include <sqlite3.h>\n' >>"$f"
expect_fail "an engine header outside src/store is caught" "which only src/store/" \
    $py "$chk" "$tmp/t"

fresh; f=$(ls "$tmp/t"/src/server/*.c | head -n 1)
printf '#include "../model/model_int.h"\n' >>"$f"
expect_fail "another module's private header is caught" "private to model" $py "$chk" "$tmp/t"

fresh; printf '#include "sqlite/sqlite_int.h"\n' >>"$tmp/t/src/store/store.c"
expect_fail "the store reaching into a backend's private header is caught" \
    "private to store/sqlite" $py "$chk" "$tmp/t"

if [ -x "$build/vigil-train" ]; then
    expect_fail "a serving binary that links libxgboost is caught" "needs libxgboost" \
        $py "$chk" "$src" "$build" "$build/vigil-train"
    expect_fail "a serving binary that contains src/train is caught" "contains src/train" \
        $py "$chk" "$src" "$build" "$build/vigil-train"
else
    echo "skip: vigil-train not built (no XGBoost), the link check is not exercised"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
