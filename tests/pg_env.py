"""pg_env.py: run a Python test inside a throw-away PostgreSQL 15 (not a test
itself; shared by the tests that need a PostgreSQL server of their own:
tests/reliability/test_kill9_pg.py, test_region_pg.py, test_commit_lost_pg.py,
tests/server/test_serve_nodes.py, tests/cli/test_migrate.py).

    run_inside_pg15(__file__, before=lambda: (vigil_bin(), replay_data()))

at the top of a test: outside the cluster it skips (exit 77, one line) without
pg_virtualenv, the PostgreSQL 15 server or vigil's PostgreSQL backend, calls
before() (a test's own skips), then runs the script again inside pg_virtualenv
(fsync on; VIGIL_PG_INNER=1, the PG* variables set) and exits with its status.
Inside, it returns at once. Standard library only.
"""
import os
import shutil
import socket
import subprocess
import sys


def run_inside_pg15(script, before=None):
    if os.environ.get("VIGIL_PG_INNER") == "1":
        return
    if shutil.which("pg_virtualenv") is None or not os.path.exists(
            "/usr/lib/postgresql/15/bin/postgres"):
        print("SKIP: PostgreSQL 15 or pg_virtualenv not installed (scripts/setup.sh installs "
              "postgresql-15 postgresql-common)")
        sys.exit(77)
    if os.environ.get("VIGIL_STORE_PG_BUILT") == "0":
        print("SKIP: this build has no PostgreSQL backend (VIGIL_STORE_PG is OFF: configure with "
              "-DVIGIL_STORE_PG=ON once libpq-dev is installed)")
        sys.exit(77)
    if before is not None:
        before()
    # a port of its own: pg_virtualenv's pg_createcluster counts only the clusters of
    # its own throw-away config, so two at once (store_pg.cluster_start) both took 5432
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    env = dict(os.environ, VIGIL_PG_INNER="1", PGPORT=str(port))
    r = subprocess.run(["pg_virtualenv", "-t", "-v", "15", "-o", "fsync=on",
                        sys.executable, os.path.abspath(script)], env=env)
    sys.exit(r.returncode)
