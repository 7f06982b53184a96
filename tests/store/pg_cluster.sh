#!/usr/bin/env bash
# pg_cluster.sh: a throw-away PostgreSQL 15 for the store suite on PostgreSQL
# (CTest's store_pg.* tests; docs/store.md "PostgreSQL backend").
#
#   pg_cluster.sh start DIR        start a cluster with pg_virtualenv (fsync on),
#                                  its PG* variables written to DIR/env
#   pg_cluster.sh run DIR CMD...   run CMD in a fresh database of that cluster:
#                                  VIGIL_TEST_STORE_URI=postgresql:///<db>
#   pg_cluster.sh stop DIR         stop the cluster (pg_virtualenv drops it)
#
# Where PostgreSQL cannot be had (no pg_virtualenv, no server 15, or the
# cluster did not start) `start` writes the reason to DIR/skip and succeeds,
# and every `run` prints it as one SKIP line and exits 77 (CTest's
# SKIP_RETURN_CODE): never a silent pass. A case that skips itself (it reads
# SQLite's own file: store_fixture.h fx_raw) exits 77 too.
set -u
cmd=${1:?usage: pg_cluster.sh start|run|stop DIR [CMD...]}
dir=${2:?usage: pg_cluster.sh start|run|stop DIR [CMD...]}
shift 2

case "$cmd" in
start)
  rm -rf "$dir"
  mkdir -p "$dir"
  if ! command -v pg_virtualenv >/dev/null 2>&1; then
    echo "pg_virtualenv not found (Debian postgresql-common; scripts/setup.sh installs it)" >"$dir/skip"
    cat "$dir/skip"; exit 0
  fi
  if [ ! -x /usr/lib/postgresql/15/bin/postgres ]; then
    echo "PostgreSQL 15 server not installed (Debian postgresql-15; scripts/setup.sh installs it)" >"$dir/skip"
    cat "$dir/skip"; exit 0
  fi
  # the cluster lives as long as this background pg_virtualenv, which waits
  # for DIR/stop; fsync=on: pg_virtualenv turns it off by default, and the
  # suite checks durable commits
  # a port of its own: pg_createcluster counts only the clusters of this
  # throw-away config, so two clusters at once (reliability.test_kill9_pg) both
  # took 5432 and the second did not start
  PGPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  export PGPORT
  setsid pg_virtualenv -t -v 15 -o fsync=on -o synchronous_commit=on -o max_connections=200 \
    sh -c 'env | grep "^PG" | sed "s/^/export /" >"$0/env.tmp" && mv "$0/env.tmp" "$0/env";
           while [ ! -e "$0/stop" ]; do sleep 0.2; done' "$dir" \
    >"$dir/log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  for _ in $(seq 1 600); do
    if [ -e "$dir/env" ]; then echo "PostgreSQL cluster up ($dir/env)"; exit 0; fi
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then break; fi
    sleep 0.1
  done
  { echo "PostgreSQL cluster did not start (pg_virtualenv log:"; tail -5 "$dir/log"; echo ")"; } \
    | tr '\n' ' ' >"$dir/skip"
  cat "$dir/skip"; echo
  exit 0
  ;;
run)
  if [ -e "$dir/skip" ]; then
    echo "SKIP: PostgreSQL tests not run: $(cat "$dir/skip")"
    exit 77
  fi
  if [ ! -e "$dir/env" ]; then
    echo "SKIP: PostgreSQL tests not run: no cluster (the fixture store_pg.cluster_start did not run)"
    exit 77
  fi
  # shellcheck disable=SC1091
  . "$dir/env"
  db="vigil_t_$$_$(date +%s%N | tail -c 7)"
  if ! createdb "$db"; then
    echo "createdb $db failed" >&2
    exit 1
  fi
  # a second database for a case that compares two stores (fx_paths_twin)
  if ! createdb "${db}_b"; then
    echo "createdb ${db}_b failed" >&2
    exit 1
  fi
  out="$dir/out.$db"
  VIGIL_TEST_STORE_URI="postgresql:///$db" VIGIL_TEST_STORE_URI_TWIN="postgresql:///${db}_b" \
    "$@" >"$out" 2>&1
  rc=$?
  cat "$out"
  # dropped in the background (the cluster goes at stop anyway)
  (dropdb --if-exists "$db" >/dev/null 2>&1; dropdb --if-exists "${db}_b" >/dev/null 2>&1 &)
  # a cmocka case that skipped itself (SQLite-only) is a skip for CTest too
  if [ $rc -eq 0 ] && grep -q '^\[  SKIPPED \]' "$out"; then
    rm -f "$out"
    exit 77
  fi
  rm -f "$out"
  exit $rc
  ;;
stop)
  if [ -e "$dir/pid" ]; then
    touch "$dir/stop"
    pid=$(cat "$dir/pid")
    for _ in $(seq 1 300); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    rm -f "$dir/pid"
  fi
  exit 0
  ;;
*)
  echo "usage: pg_cluster.sh start|run|stop DIR [CMD...]" >&2
  exit 2
  ;;
esac
