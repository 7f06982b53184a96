#!/usr/bin/env bash
# demo.sh: the main job, the live demo ward.
#  1. NEWS2 for the bundled example ward (examples/ward.csv).
#  2. vigil serve (SQLite, the default AI model) with vigil replay feeding it real
#     PhysioNet patients as HL7 over MLLP at one ICU hour a second; the ward list is
#     printed every few seconds as a nurse would see it; at the end the audit chain is
#     verified and the service stopped with SIGTERM.
# env: DEMO_PATIENTS (12), DEMO_SECONDS (60), DEMO_SPEED (3600), VIGIL_DATA_DIR.
set -euo pipefail
bin=${1:-build/vigil}
here=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
echo "== vigil demo: NEWS2 for the example ward (examples/ward.csv)"
"$bin" news2 --format csv "$here/examples/ward.csv"
echo
echo "vigil's AI model is trained on ICU research data and is not validated for clinical use."
data=${VIGIL_DATA_DIR:-$here/../shared/data}
if [ ! -f "$data/physionet2019/training_setA.tar.gz" ]; then
  echo "(the live demo ward needs the PhysioNet data in $data; set VIGIL_DATA_DIR)"
  exit 0
fi
tmp=$(mktemp -d)
srv=""
rep=""
cleanup() {
  [ -n "$rep" ] && kill "$rep" 2>/dev/null || true
  if [ -n "$srv" ] && kill -0 "$srv" 2>/dev/null; then kill -TERM "$srv"; wait "$srv" || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
admin_pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
nurse_pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
echo "== the live demo ward: vigil serve + vigil replay (Ctrl-C to stop)"
VIGIL_ADMIN_PASSWORD=$admin_pw "$bin" serve --db "$tmp/ward.db" --http-port 0 --mllp-port 0 \
    --model "$here/models/vigil-sepsis-2019A.json" --bootstrap-admin admin 2>"$tmp/serve.log" &
srv=$!
for _ in $(seq 1 100); do
  grep -q '^vigil serve: http ' "$tmp/serve.log" && break
  sleep 0.1
done
line=$(grep '^vigil serve: http ' "$tmp/serve.log") || { cat "$tmp/serve.log"; exit 1; }
http=$(echo "$line" | sed -n 's/.*http [0-9.]*:\([0-9]*\).*/\1/p')
mllp=$(echo "$line" | sed -n 's/.*mllp [0-9.]*:\([0-9]*\).*/\1/p')
echo "$line (JSON API and FHIR on http, HL7 on mllp)"
$py "$here/scripts/demo_ward.py" "$http" setup "$admin_pw" "$nurse_pw"
"$bin" replay --mllp "127.0.0.1:$mllp" --data "$data/physionet2019/training_setA.tar.gz" \
    --patients "${DEMO_PATIENTS:-12}" --speed "${DEMO_SPEED:-3600}" --ward DEMO \
    --duration "${DEMO_SECONDS:-60}" >"$tmp/replay.log" 2>&1 &
rep=$!
end=$((SECONDS + ${DEMO_SECONDS:-60}))
while kill -0 "$rep" 2>/dev/null && [ $SECONDS -lt $end ]; do
  sleep 10
  echo
  echo "-- ward DEMO at $(date +%H:%M:%S)"
  $py "$here/scripts/demo_ward.py" "$http" show "$nurse_pw" || true
done
wait "$rep" || true
rep=""
echo
tail -n 5 "$tmp/replay.log"
echo "== final ward list"
$py "$here/scripts/demo_ward.py" "$http" show "$nurse_pw" || true
kill -TERM "$srv"; wait "$srv" || true
srv=""
tail -n 2 "$tmp/serve.log"
"$bin" audit verify --db "$tmp/ward.db"
