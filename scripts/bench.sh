#!/usr/bin/env bash
# bench.sh: run every benchmark with its peer and print the ratios. Never gating.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }

if [ -x "$build/bench_news2" ]; then
  echo "== NEWS2 scoring (vigil core vs plain Python peer, one core each)"
  out=$("$build/bench_news2"); echo "$out"
  c=$(echo "$out" | sed -n 's/^news2_scores_per_s=//p')
  out=$($py "$here/bench/news2_peer.py"); echo "$out"
  p=$(echo "$out" | sed -n 's/^news2_peer_scores_per_s=//p')
  echo "ratio vigil/python: $(ratio "$c" "$p")x"
fi
for extra in "$here"/bench/*.sh; do
  [ -e "$extra" ] || continue
  echo "== $(basename "$extra")"
  bash "$extra" "$build" || echo "($(basename "$extra") failed)"
done
echo "== sqlite_check_cost.py (CHECK forms: why migration 2)"
$py "$here/bench/sqlite_check_cost.py" || echo "(sqlite_check_cost.py failed)"
