#!/usr/bin/env bash
# test_faulty_store_current.sh: src/store/faulty_ops.c (the faulty: backend's forwarders) is
# what scripts/gen_faulty_store.py writes from store_int.h's backend table today, so a new
# backend function is never left out of the fault-injecting wrapper (a NULL in its table).
# Then the check is shown to fail on a table with one function more.
set -u
src=${VIGIL_SOURCE_DIR:?}
py=/usr/bin/python3
gen=$src/scripts/gen_faulty_store.py
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
check() { if [ "$2" -eq 0 ]; then echo "ok: $1"; pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }

$py "$gen" "$src" --check
check "faulty_ops.c is current with the backend table" $?

mkdir -p "$tmp/src/store"
cp "$src/src/store/faulty_ops.c" "$tmp/src/store/"
sed 's|} vigil__store_ops;|    vigil_status (*new_call)(void *be, const vigil_actor *who, vigil_err *err);\n} vigil__store_ops;|' \
    "$src/src/store/store_int.h" >"$tmp/src/store/store_int.h"
$py "$gen" "$tmp" --check >/dev/null
[ $? -eq 1 ]
check "a backend function missing from faulty_ops.c is caught" $?

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
