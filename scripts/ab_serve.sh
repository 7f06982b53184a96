#!/usr/bin/env bash
# ab_serve.sh: flat-out HL7 ORU ingest through two `vigil serve` binaries,
# interleaved (A, B, A, B, ...), so a change is compared with its parent in
# the same minutes of a shared machine rather than against a figure from
# another day. Each run: a fresh database, PATIENTS stays admitted, then
# their observation sets sent as fast as ACKs allow (window 512) for at most
# SECONDS_PER_RUN; prints each run's msgs/s and the busiest server thread's
# CPU time per set (the store thread: the service's one writer), from
# /proc/<pid>/task/*/stat around the observation run.
# usage: bash scripts/ab_serve.sh OLD_VIGIL NEW_VIGIL [pairs]
# e.g. git worktree add ../vigil-parent HEAD~1 &&
#      cmake -S ../vigil-parent -B ../vigil-parent/build &&
#      cmake --build ../vigil-parent/build --target vigil &&
#      bash scripts/ab_serve.sh ../vigil-parent/build/vigil build/vigil 3
# Environment: PATIENTS (800), SECONDS_PER_RUN (6). Never gating.
set -euo pipefail
# per thread of pid: "tid utime+stime" (clock ticks)
cpu() {
  local t
  for t in /proc/"$1"/task/*; do
    echo "${t##*/} $(awk '{print $14 + $15}' "$t/stat")"
  done
}
one() {
  local v=$1 d port sp
  d=$(mktemp -d)
  port=$((12000 + RANDOM % 3000))
  "$v" serve --db "$d/a.db" --http-port 0 --mllp-port "$port" >"$d/serve.log" 2>&1 &
  sp=$!
  sleep 0.5
  "$v" replay --mllp "127.0.0.1:$port" --patients "${PATIENTS:-800}" --only adt --window 64 \
    >/dev/null 2>&1
  cpu "$sp" >"$d/a"
  "$v" replay --mllp "127.0.0.1:$port" --patients "${PATIENTS:-800}" --only oru --rate max \
    --window 512 --duration "${SECONDS_PER_RUN:-6}" --json 2>/dev/null >"$d/r.json"
  cpu "$sp" >"$d/b"
  kill "$sp"
  wait "$sp" 2>/dev/null || true
  python3 - "$d/a" "$d/b" "$d/r.json" <<'PY'
import json, os, sys
a = dict(l.split() for l in open(sys.argv[1]))
b = dict(l.split() for l in open(sys.argv[2]))
r = json.load(open(sys.argv[3]))
busiest = max(int(b[t]) - int(a.get(t, 0)) for t in b)
tick = os.sysconf("SC_CLK_TCK")
print("%d msgs/s, store thread %.1f us/set" % (round(r["msgs_per_s"]),
                                               busiest / tick / max(1, r["acked"]) * 1e6))
PY
  rm -rf "$d"
}
for i in $(seq 1 "${3:-3}"); do
  echo "pair $i: A $(one "$1") | B $(one "$2")"
done
