#!/usr/bin/env bash
# ingest_pg.sh: bench/ingest.sh on PostgreSQL: HL7 ingest through the live
# `vigil serve --db postgresql:///...` over loopback, driven by `vigil replay`,
# against raw libpq inserting the same rows with the same durability
# (synchronous_commit = on) and grouping in the same run (bench_ingest --pg).
# The server is a throw-away PostgreSQL 15 from pg_virtualenv with fsync on
# (its default is off, which would make every commit free). Never gating.
# Environment: RATES (default 200,500,1000), SECONDS_PER_RATE (10), PATIENTS
# (800), WINDOW (512).
set -euo pipefail
build=${1:-build}
cmake --build "$build" --target vigil bench_ingest >/dev/null
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
export build dir
pg_virtualenv -t -v 15 -o fsync=on -o synchronous_commit=on sh -c '
  createdb vigil_bench && createdb vigil_bench_raw &&
  psql -XAtc "SHOW fsync" | sed "s/^/postgresql fsync: /" &&
  "$build/bench_ingest" --vigil "$build/vigil" --dir "$dir" --rates "${RATES:-200,500,1000}" \
    --seconds "${SECONDS_PER_RATE:-10}" --patients "${PATIENTS:-800}" --window "${WINDOW:-512}" \
    --beds 0 --pg postgresql:///vigil_bench --pg-raw postgresql:///vigil_bench_raw'
