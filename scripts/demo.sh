#!/usr/bin/env bash
# demo.sh: the demo is the app (make demo).
#  1. vigil serve: the shipped AI model, an embedded SQLite store, the web app on the same
#     port (http://127.0.0.1:8080/ unless DEMO_PORT says otherwise or 8080 is taken).
#  2. demo users of each role, their sign-in details printed (fresh passwords each run).
#  3. vigil replay feeding real PhysioNet 2019 patients as HL7 over MLLP into two wards
#     (AMU from hospital A, RESP from hospital B), one ICU hour every 10 s by default.
#  4. the demo nurse (scripts/demo_ward.py) records the consciousness level the research
#     data lack, shown in the app as entered by the demo, never as measured.
#  5. runs until Ctrl-C (or DEMO_SECONDS), then stops vigil serve and verifies the audit chain.
# env: DEMO_SECONDS (unset: until stopped), DEMO_PATIENTS (8 a ward), DEMO_SPEED (360: an ICU hour every 10 s),
#      DEMO_PORT (8080), VIGIL_DATA_DIR.
set -euo pipefail
bin=${1:-build/vigil}
here=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
data=${VIGIL_DATA_DIR:-$here/../shared/data}
wards=(AMU RESP)
echo "vigil: NEWS2 early warning and escalation for hospital wards."
echo "Its AI model is trained on ICU research data and is not validated for clinical use."
if [ ! -f "$data/physionet2019/training_setA.tar.gz" ]; then
  echo "(the demo wards need the PhysioNet 2019 data in $data; set VIGIL_DATA_DIR)"
  echo "== NEWS2 for the example ward (examples/ward.csv) instead"
  "$bin" news2 --format csv "$here/examples/ward.csv"
  exit 0
fi
tmp=$(mktemp -d)
pids=()
srv=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "$srv" ] && kill -0 "$srv" 2>/dev/null; then kill -TERM "$srv"; wait "$srv" || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
stop=""
trap 'stop=1' INT TERM
pw() { head -c 9 /dev/urandom | base64 | tr '/+' 'xy'; } # 12 characters
admin_pw=$(pw)
export DEMO_PW_NURSE=$(pw) DEMO_PW_DOCTOR=$(pw) DEMO_PW_OUTREACH=$(pw) DEMO_PW_SAFETY=$(pw) \
  DEMO_PW_BOT=$(pw)
port=${DEMO_PORT:-8080}
if ! $py -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1', $port))" 2>/dev/null; then
  echo "(port $port is taken: using a free one)"
  port=0
fi
VIGIL_ADMIN_PASSWORD=$admin_pw "$bin" serve --db "$tmp/ward.db" --http-port "$port" --mllp-port 0 \
    --model "$here/models/vigil-sepsis-2019A.json" --bootstrap-admin admin 2>"$tmp/serve.log" &
srv=$!
for _ in $(seq 1 100); do
  grep -q '^vigil serve: http ' "$tmp/serve.log" && break
  sleep 0.1
done
line=$(grep '^vigil serve: http ' "$tmp/serve.log") || { cat "$tmp/serve.log"; exit 1; }
http=$(echo "$line" | sed -n 's/.*http [0-9.]*:\([0-9]*\).*/\1/p')
mllp=$(echo "$line" | sed -n 's/.*mllp [0-9.]*:\([0-9]*\).*/\1/p')
$py "$here/scripts/demo_ward.py" "$http" setup "$admin_pw" "${wards[@]}"
n=${DEMO_PATIENTS:-8}
speed=${DEMO_SPEED:-360}
dur=()
[ -n "${DEMO_SECONDS:-}" ] && dur=(--duration "$DEMO_SECONDS")
# Each replay its own control ids: both send as VIGIL-REPLAY/REPLAY (MSH-3/4), and two
# started in the same second would otherwise reuse each other's ids (refused AE 205).
"$bin" replay --mllp "127.0.0.1:$mllp" --data "$data/physionet2019/training_setA.tar.gz" \
    --patients "$n" --speed "$speed" --ward AMU --id-prefix "AMU$(date +%s)." "${dur[@]}" \
    >"$tmp/replay-amu.log" 2>&1 &
pids+=($!)
"$bin" replay --mllp "127.0.0.1:$mllp" --data "$data/physionet2019/training_setB.tar.gz" \
    --patients "$n" --speed "$speed" --ward RESP --id-prefix "RSP$(date +%s)." "${dur[@]}" \
    >"$tmp/replay-resp.log" 2>&1 &
pids+=($!)
# The demo nurse's ACVPU is a set of its own at the same measured time: only a server that
# assembles the pieces of one set (--assemble-window) scores them together. On one that does
# not, her set would be the latest on its own and hide the monitor's score: then she stays home.
if "$bin" serve --help 2>&1 | grep -q -- '--assemble-window'; then
  $py "$here/scripts/demo_ward.py" "$http" nurse "${wards[@]}" >"$tmp/nurse.log" 2>&1 &
  pids+=($!)
  nurse_note='The research data have no consciousness level: the demo nurse records ACVPU "A" for each
   set, shown in the app as "entered by the demo, not measured".'
else
  nurse_note='The research data have no consciousness level, so every set is incomplete (this vigil
   does not assemble a set from pieces, so the demo nurse does not add one).'
fi
cat <<EOF

== vigil is running: open http://127.0.0.1:$http/ in a browser
   (HL7 MLLP on 127.0.0.1:$mllp; real PhysioNet 2019 patients replayed into wards AMU and RESP,
    one ICU hour every $((3600 / speed)) s; synthetic NHS numbers from the 999 test range)

   sign in as   password       role                     starts at
   nurse        $DEMO_PW_NURSE   nurse (AMU, RESP)        the ward list
   doctor       $DEMO_PW_DOCTOR   doctor (AMU, RESP)       the ward list
   outreach     $DEMO_PW_OUTREACH   critical-care outreach   open alerts
   safety       $DEMO_PW_SAFETY   patient safety officer   the Martha's Rule log
   admin        $admin_pw   administrator            users

   $nurse_note
   ${DEMO_SECONDS:+Stops after $DEMO_SECONDS s.} Ctrl-C stops the demo.

EOF
start=$SECONDS
while [ -z "$stop" ] && { [ -z "${DEMO_SECONDS:-}" ] || [ $((SECONDS - start)) -lt "$DEMO_SECONDS" ]; }; do
  sleep 5 || true
  if [ $(((SECONDS - start) % 30)) -lt 5 ]; then
    echo "-- $(date +%H:%M:%S)"
    $py "$here/scripts/demo_ward.py" "$http" status "${wards[@]}" || true
  fi
  kill -0 "$srv" 2>/dev/null || { echo "vigil serve stopped:"; tail -n 5 "$tmp/serve.log"; exit 1; }
done
echo "== final state"
$py "$here/scripts/demo_ward.py" "$http" status "${wards[@]}" || true
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
pids=()
kill -TERM "$srv"; wait "$srv" || true
srv=""
tail -n 2 "$tmp/serve.log"
"$bin" audit verify --db "$tmp/ward.db"
