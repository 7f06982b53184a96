#!/usr/bin/env bash
# ingest.sh: HL7 ingest through the live `vigil serve` over loopback, driven by
# `vigil replay` with real PhysioNet stays: throughput and ACK latency at fixed
# offered rates and flat out, against raw SQLite inserts of the same rows with
# the same durability and grouping in the same run; server RSS with 1,000 beds
# (bench/bench_ingest.c); then the rates again with the AI scoring every set.
# Never gating. Environment: RATES (default 200,500,1000), SECONDS_PER_RATE
# (10), PATIENTS (800), BEDS (1000), WINDOW (512).
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
cmake --build "$build" --target vigil bench_ingest >/dev/null
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
"$build/bench_ingest" --vigil "$build/vigil" --dir "$dir" --rates "${RATES:-200,500,1000}" \
  --seconds "${SECONDS_PER_RATE:-10}" --patients "${PATIENTS:-800}" --window "${WINDOW:-512}" \
  --beds "${BEDS:-1000}" --model "$here/models/vigil-sepsis-2019A.json"
echo
echo "== the same rates with the AI scoring every set after its ACK (vigil serve --model)"
rm -rf "${dir:?}"/*
"$build/bench_ingest" --vigil "$build/vigil" --dir "$dir" --rates "${RATES:-200,500,1000}" \
  --seconds "${SECONDS_PER_RATE:-10}" --patients "${PATIENTS:-800}" --window "${WINDOW:-512}" \
  --beds 0 --model "$here/models/vigil-sepsis-2019A.json" --rates-with-model
