#!/usr/bin/env bash
# fuzz.sh: build vigil's libFuzzer targets with clang-14 (ASan + UBSan) and run
# each for a while. CI runs it briefly; run it longer by hand after parser changes.
#
# usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET ...]
#   SECONDS_PER_TARGET  default 20
#   TARGET              hl7, mllp, fhir, escalation, http, model_bundle, tz
#                       (default: all of fuzz/fuzz_*.c)
# env: FUZZ_OUT (default fuzz-out/, git-ignored): binaries, the growing corpus
#      and crash artifacts; FUZZ_CC (default clang-14); FUZZ_RUNS: stop each
#      target after this many executions instead of after SECONDS_PER_TARGET
#      (the long runs: FUZZ_RUNS=10000000 nice scripts/fuzz.sh 0 hl7).
# A crash, leak or failed invariant stops the run with a non-zero exit and
# leaves the input in FUZZ_OUT/crash-*: add it as a regression test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-20}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$root"/fuzz/fuzz_*.c; do
    t=$(basename "$f" .c)
    targets+=("${t#fuzz_}")
  done
fi
out=${FUZZ_OUT:-$root/fuzz-out}
cc=${FUZZ_CC:-clang-14}
mkdir -p "$out"
command -v "$cc" >/dev/null || { echo "fuzz.sh: $cc not found (scripts/setup.sh installs it)" >&2; exit 1; }

cflags=(-g -O1 -std=c11 -Wall -Wextra -fsanitize=fuzzer,address,undefined
        -fno-sanitize-recover=undefined -fno-omit-frame-pointer
        -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DVIGIL_VERSION=\"fuzz\"
        -I"$root/include" -I"$root/src/fhir")
# the library code the targets reach: hl7, fhir, model (the bundle loader) and
# what they depend on (core, util)
lib=("$root"/src/hl7/*.c "$root"/src/fhir/*.c "$root"/src/model/*.c "$root"/src/core/*.c
     "$root"/src/util/*.c)
extra_cflags=$(pkg-config --cflags jansson libcrypto 2>/dev/null || true)
extra_libs=$(pkg-config --libs jansson libcrypto 2>/dev/null || true)

# the HTTP request path (fuzz_http) needs the server and what it links to
srv_lib=("$root"/src/server/*.c "$root"/src/store/*.c "$root"/src/store/sqlite/*.c
         "$root"/src/monitor/*.c "$root"/src/eval/*.c "$root"/src/data/*.c)
srv_pkgs="libmicrohttpd gnutls libqrencode libsodium libargon2 sqlite3 libcurl libarchive zlib"

for t in "${targets[@]}"; do
  src="$root/fuzz/fuzz_$t.c"
  [ -f "$src" ] || { echo "fuzz.sh: no $src" >&2; exit 2; }
  echo "== build fuzz_$t"
  more=() more_cflags="" more_libs=""
  if [ "$t" = http ]; then
    more=("${srv_lib[@]}")
    more_cflags="-I$root/src/server -I$root/src/store -DVIGIL_STORE_HAVE_SQLITE=1 $(pkg-config --cflags $srv_pkgs)"
    more_libs="$(pkg-config --libs $srv_pkgs) -lpthread"
  fi
  # shellcheck disable=SC2086
  "$cc" "${cflags[@]}" $extra_cflags $more_cflags -o "$out/fuzz_$t" "$src" "${lib[@]}" \
      "${more[@]}" $extra_libs $more_libs -lm
done

failed=()
for t in "${targets[@]}"; do
  corpus="$out/corpus_$t"
  mkdir -p "$corpus"
  dict=()
  [ -f "$root/fuzz/$t.dict" ] && dict=(-dict="$root/fuzz/$t.dict")
  limit=(-max_total_time="$secs")
  what="for ${secs}s"
  if [ -n "${FUZZ_RUNS:-}" ]; then
    limit=(-runs="$FUZZ_RUNS")
    what="for $FUZZ_RUNS executions"
  fi
  echo "== run fuzz_$t $what"
  log="$out/fuzz_$t.log"
  # new inputs go to the first (working) corpus; the committed seeds stay as they are
  set +e
  "$out/fuzz_$t" "${dict[@]}" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$out/" \
      "$corpus" "$root/fuzz/corpus/$t" >"$log" 2>&1
  status=$?
  set -e
  grep -E '^(#[0-9]+ +(INITED|DONE)|Done [0-9]+ runs|stat::number_of_executed_units|stat::average_exec_per_sec)' "$log" || true
  if [ "$status" -ne 0 ]; then
    grep -E 'invariant failed|ERROR: AddressSanitizer|runtime error|SUMMARY|Test unit written' "$log" >&2 || tail -n 40 "$log" >&2
    echo "fuzz.sh: fuzz_$t failed (exit $status); log and crash input in $out/" >&2
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: all targets ran ${FUZZ_RUNS:+$FUZZ_RUNS executions}${FUZZ_RUNS:-${secs}s} without a failure"
