#!/usr/bin/env bash
# ingest_store.sh: durable ingest through vigil's store against raw SQLite inserts
# of the same rows with the same durability, in the same run
# (bench/bench_ingest_store.c). Never gating.
set -euo pipefail
build=${1:-build}
cmake --build "$build" --target bench_ingest_store >/dev/null
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
"$build/bench_ingest_store" --n "${N:-2000}" --dir "$dir"
