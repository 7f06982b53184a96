"""test_serve_sessions_shared.py: two `vigil serve` nodes on one store share
their sign-in sessions (issue 15: sessions live in the store, not in each
process's memory; docs/server.md "Sign-in, sessions, roles, scope").

Checks, on one SQLite file and again on a database of a throw-away
PostgreSQL 15 (pg_virtualenv, as reliability.test_kill9_pg; that part says why
when it cannot run): a session made on node 1 works on node 2, with its
user's ward scope, and its CSRF token too; signing out on node 2 ends it on
node 1; disabling a user on node 1 ends every session of theirs, the one made
on node 2 included (sessions_ended counts all three), at once; a session survives
its node's restart; on SQLite, nothing but the token's hash is stored.
"""
import os
import shutil
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import ADMIN, ADMIN_PW, Checks, Server, vigil_bin  # noqa: E402

C = Checks()
LIST = "/api/wards/WARD7B/patients"


def two_nodes(db, label):
    """The checks on store db (None: a fresh SQLite file)."""
    with Server(db=db) as n1:
        db = n1.db_path
        with Server(db=db) as n2:
            n1.add_user("nurse7", "nurse", ["WARD7B"])
            t1 = n1.tokens["nurse7"]
            st, _, _ = n2.http("GET", LIST, token=t1)
            C.check(st == 200, "%s: node 1's session works on node 2 (%s)" % (label, st))
            st, _, _ = n2.http("GET", "/api/wards/WARD12/patients", token=t1)
            C.check(st == 403, "%s: with its ward scope there (%s)" % (label, st))
            # the CSRF token is derived from the session token: any node checks it
            st, js, _ = n1.http("GET", "/api/csrf", headers={"Cookie": "vigil_session=" + t1})
            csrf = js.get("csrf_token") if isinstance(js, dict) else None
            st, js, _ = n2.http("POST", "/api/logout",
                                headers={"Cookie": "vigil_session=" + t1, "X-CSRF-Token": csrf or ""})
            C.check(st == 200, "%s: node 1's CSRF token is good on node 2: signed out (%s %s)"
                    % (label, st, js))
            st, _, _ = n1.http("GET", LIST, token=t1)
            C.check(st == 401, "%s: signed out on node 2, the session ends on node 1 (%s)" % (label, st))

            a = n1.login("nurse7")
            b = n2.login("nurse7")
            n2.login("nurse7")  # a third, on node 2
            for n, t, where in ((n2, a, "node 1's on node 2"), (n1, b, "node 2's on node 1")):
                st, _, _ = n.http("GET", LIST, token=t)
                C.check(st == 200, "%s: %s works before the disabling (%s)" % (label, where, st))
            st, js, _ = n1.http("POST", "/api/admin/users/nurse7/disable", token=n1.admin_token())
            C.check(st == 200 and js.get("sessions_ended") == 3,
                    "%s: disabled on node 1, both nodes' sessions ended (%s %s)" % (label, st, js))
            for n, t, where in ((n2, b, "node 2's own"), (n2, a, "node 1's on node 2"),
                                (n1, b, "node 2's on node 1")):
                st, _, _ = n.http("GET", LIST, token=t)
                C.check(st == 401, "%s: %s session refused at once (%s)" % (label, where, st))
            st, _, _ = n2.http("POST", "/api/login", {"username": "nurse7", "password": "correct-horse-1"})
            C.check(st == 401, "%s: nor can they sign in on node 2 (%s)" % (label, st))

            n2.add_user("nurse8", "nurse", ["WARD7B"])
            t8 = n2.tokens["nurse8"]
        # node 2 stopped; node 1 restarted: the session made on node 2 lives on
        n1.stop()
        with Server(db=db) as n3:
            st, _, _ = n3.http("GET", LIST, token=t8)
            C.check(st == 200, "%s: a session outlives its node and a restart (%s)" % (label, st))
            if not db.startswith("postgres"):
                con = n3.db()
                try:
                    cols = [r[1] for r in con.execute("PRAGMA table_info(session)")]
                    raw = b"".join(bytes(r[0]) for r in con.execute("SELECT token_hash FROM session"))
                finally:
                    con.close()
                C.check(cols == ["token_hash", "user_id", "created_ms", "last_ms"],
                        "%s: the session table holds a hash, a user and two times (%s)" % (label, cols))
                C.check(t8.encode() not in raw and len(raw) % 32 == 0,
                        "%s: the token itself is never stored" % label)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


if os.environ.get("VIGIL_PG_INNER") == "1":
    subprocess.run(["createdb", "vigil_sessions"], check=True)
    two_nodes("postgresql:///vigil_sessions", "PostgreSQL")
    C.done()

vigil_bin()
two_nodes(None, "SQLite")
why = None
if shutil.which("pg_virtualenv") is None or not os.path.exists("/usr/lib/postgresql/15/bin/postgres"):
    why = "PostgreSQL 15 or pg_virtualenv not installed (scripts/setup.sh installs them)"
elif os.environ.get("VIGIL_STORE_PG_BUILT") == "0":
    why = "this build has no PostgreSQL backend (VIGIL_STORE_PG is OFF)"
if why is not None:
    print("NOTE: the PostgreSQL half not run: %s" % why)
else:
    env = dict(os.environ, VIGIL_PG_INNER="1", PGPORT=str(free_port()))
    r = subprocess.run(["pg_virtualenv", "-t", "-v", "15", "-o", "fsync=on",
                        sys.executable, os.path.abspath(__file__)], env=env)
    C.check(r.returncode == 0, "the PostgreSQL half passed (exit %d)" % r.returncode)
C.done()
