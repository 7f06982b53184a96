#!/usr/bin/env bash
# test_demo.sh: `make demo` (scripts/demo.sh) runs from its README command for a bounded
# time and every HL7 message its two replays send is acknowledged AA: two replays started in
# the same second once reused each other's control ids and lost a ward's sets to AE 205.
# Then the audit chain verifies. Skips (77) without the PhysioNet 2019 data.
set -euo pipefail
bin=${VIGIL_BIN:-build/vigil}
src=${VIGIL_SOURCE_DIR:-.}
data=${VIGIL_DATA_DIR:-$src/../shared/data}
if [ ! -f "$data/physionet2019/training_setA.tar.gz" ]; then
  echo "skip: no PhysioNet 2019 data in $data"
  exit 77
fi
out=$(mktemp); trap 'rm -f "$out"' EXIT
DEMO_SECONDS=20 DEMO_PORT=0 DEMO_PATIENTS=4 DEMO_SPEED=3600 bash "$src/scripts/demo.sh" "$bin" \
  >"$out" 2>&1 || { tail -n 30 "$out"; echo "FAIL: the demo exited non-zero"; exit 1; }
stopline=$(grep '^vigil serve: stop:' "$out") || { tail -n 30 "$out"; echo "FAIL: no stop line"; exit 1; }
echo "$stopline"
echo "$stopline" | grep -qE ' [1-9][0-9]* AA, 0 AE, 0 AR;' ||
  { echo "FAIL: the demo's messages were not all acknowledged AA"; exit 1; }
grep -q '^OK: .*chain intact' "$out" || { tail -n 5 "$out"; echo "FAIL: audit chain"; exit 1; }
echo "ok: demo ran, every message AA, audit chain intact"
