#!/usr/bin/env bash
# featurize.sh: vigil's featurizer (bench/bench_featurize.c) against the
# named peer, pandas (bench/featurize_pandas.py), on the whole PhysioNet 2019
# training data: both load the two archives in place and compute the same
# features (spec v2, 372) at every hourly row. Prints both times and the ratio, then the
# agreement check on a sample of stays (every 400th stay, all features).
# Never gating: timings depend on the machine and what else runs on it.
#
# usage: bench/featurize.sh [BUILD_DIR [DATA_DIR]]   (as scripts/bench.sh calls every
# bench/*.sh: the build directory first; default ./build and ../shared/data)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${BUILD:-$repo/build}}
case $build in /*) ;; *) build=$PWD/$build ;; esac
data=${2:-${VIGIL_DATA_DIR:-$repo/../shared/data}}
if [ ! -f "$build/CMakeCache.txt" ]; then
  echo "featurize.sh: configure first: cmake -S $repo -B $build" >&2
  exit 2
fi
cmake --build "$build" --target bench_featurize >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== C (vigil): $build/bench_featurize $data"
"$build/bench_featurize" "$data" --sample-out "$tmp/sample.csv" | grep -v '^  ' | tee "$tmp/c.out"
echo
echo "== pandas: /usr/bin/python3 bench/featurize_pandas.py $data --compare <sample>"
set +e
/usr/bin/python3 "$repo/bench/featurize_pandas.py" "$data" --compare "$tmp/sample.csv" \
  | tee "$tmp/py.out"
agree=${PIPESTATUS[0]}
set -e
c=$(grep '^RESULT' "$tmp/c.out")
p=$(grep '^RESULT' "$tmp/py.out")
val() { echo "$1" | tr ' ' '\n' | grep "^$2=" | cut -d= -f2; }
echo
awk -v cw="$(val "$c" c_wall)" -v cc="$(val "$c" c_cpu)" \
    -v pw="$(val "$p" pandas_wall)" -v pc="$(val "$p" pandas_cpu)" \
    -v rows="$(val "$c" rows)" 'BEGIN {
  printf "featurize %d hourly rows: C wall %.2f s (cpu %.2f s), pandas wall %.2f s (cpu %.2f s)\n",
         rows, cw, cc, pw, pc
  printf "ratio pandas/C: %.1fx by wall time, %.1fx by CPU time\n", pw / cw, pc / cc }'
if [ "$agree" -ne 0 ]; then
  echo "featurize.sh: C and pandas DISAGREE on the sample (see above)" >&2
  exit 1
fi
echo "C and pandas agree on every feature of the sampled stays"
