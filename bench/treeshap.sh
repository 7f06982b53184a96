#!/usr/bin/env bash
# treeshap.sh: score + TreeSHAP, vigil's plain C against XGBoost's C API on the
# same model and rows in the same run (bench/bench_treeshap.c). One-row latency
# and a 100,000-row batch; prints both and the ratios. Never gating.
# usage: bench/treeshap.sh [BUILD_DIR]   (ROWS=100000 by default)
set -euo pipefail
build=${1:-build}
cmake --build "$build" --target bench_treeshap >/dev/null
"$build/bench_treeshap" --rows "${ROWS:-100000}" --threads 2
