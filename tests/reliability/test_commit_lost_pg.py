"""test_commit_lost_pg.py: the connection to PostgreSQL is lost while an
observation set's COMMIT is on its way, and the HL7 answer tells the truth
(REQ SERVER-ACK-AFTER-COMMIT, REQ STORE-DURABLE-ACK on the PostgreSQL backend).

Between `vigil serve` and a throw-away PostgreSQL 15 (pg_virtualenv, fsync on)
sits a TCP proxy that reads the frontend/backend protocol the server sends.
Armed, it cuts the ward service's connection at the COMMIT of the
transaction that inserts an observation set, in one of two ways:

  after   COMMIT is passed to PostgreSQL (which commits it) and its answer is
          never passed back: the set IS stored. The server must find that out
          (it looks for the transaction's last audit record once it is
          connected again) and answer AA: an AR ("not stored, send it again")
          would be false, and a sender that does not resend an AR would then
          hold a set as refused that the ward shows.
  before  COMMIT never reaches PostgreSQL (the transaction is rolled back when
          its connection closes): nothing is stored, and the answer must be AR,
          never AA. The same message sent again is then stored, once.

In both cases the set is stored at most once, the same message sent again is
answered AA without a second copy, and `vigil audit verify` passes.

Skips (exit 77, one line) without pg_virtualenv or PostgreSQL 15.
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "server"))
from rel_util import Checks, Serve, audit_verify, free_port, vigil_bin  # noqa: E402
from serve_util import Mllp, ack_fields, adt, frame, oru  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pg_env import run_inside_pg15  # noqa: E402

run_inside_pg15(__file__, before=vigil_bin)


class Proxy:
    """127.0.0.1:port -> PostgreSQL. Follows each client connection's messages
    (StartupMessage, then typed messages: 'P' parse names a statement's SQL, 'B'
    bind uses it, 'Q' is a simple query); when armed, the first connection
    whose transaction bound an INSERT INTO obs_set is cut at its COMMIT."""

    def __init__(self, pg_host, pg_port):
        self.pg = (pg_host, pg_port)
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.lock = threading.Lock()
        self.mode = None      # None, "after" or "before"
        self.cut = threading.Event()
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def arm(self, mode):
        with self.lock:
            self.mode = mode
            self.cut.clear()

    def take(self):
        """The armed mode, disarming it (one cut per arming)."""
        with self.lock:
            m, self.mode = self.mode, None
            return m

    def accept_loop(self):
        while True:
            c, _ = self.lsock.accept()
            s = socket.create_connection(self.pg)
            mute = threading.Event()  # set: PostgreSQL's answers are no longer passed back
            threading.Thread(target=self.pump_back, args=(s, c, mute), daemon=True).start()
            threading.Thread(target=self.pump_client, args=(c, s, mute), daemon=True).start()

    @staticmethod
    def close(*socks):
        for x in socks:
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            x.close()

    def pump_back(self, s, c, mute):
        try:
            while True:
                d = s.recv(65536)
                if not d or mute.is_set():
                    break
                c.sendall(d)
        except OSError:
            pass
        self.close(c, s)

    def pump_client(self, c, s, mute):
        buf, started = b"", False
        names = {}          # prepared statement name -> SQL
        obs_tx = False      # this transaction bound an INSERT INTO obs_set
        commit_after = False  # armed "after": cut once the pipelined COMMIT's Sync is passed on
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                buf += d
                while True:
                    if not started:
                        if len(buf) < 4:
                            break
                        n = struct.unpack("!I", buf[:4])[0]
                        if len(buf) < n:
                            break
                        s.sendall(buf[:n])
                        buf, started = buf[n:], True
                        continue
                    if len(buf) < 5:
                        break
                    kind = buf[:1]
                    n = struct.unpack("!I", buf[1:5])[0]
                    if len(buf) < 1 + n:
                        break
                    msg, body, buf = buf[:1 + n], buf[5:1 + n], buf[1 + n:]
                    text = None  # the SQL this message runs now, if any
                    if kind == b"P":
                        name, rest = body.split(b"\0", 1)
                        names[name] = rest.split(b"\0", 1)[0]
                        if name == b"":  # the unnamed statement: a command run at once
                            text = names[name]
                    elif kind == b"Q":
                        text = body.rstrip(b"\0")
                    elif kind == b"B":
                        stmt = body.split(b"\0", 2)[1]
                        if b"INSERT INTO obs_set" in names.get(stmt, b""):
                            obs_tx = True
                    elif kind == b"S" and commit_after:
                        # a pipelined COMMIT and its Sync are passed on; the server runs
                        # them before it reads the end of the connection (TCP keeps the
                        # order); no answer comes back
                        mute.set()
                        s.sendall(msg)
                        return
                    word = text.strip().upper() if text is not None else b""
                    if word == b"BEGIN":
                        obs_tx = False
                    elif word == b"COMMIT" and obs_tx:
                        mode = self.take()
                        if mode is not None:
                            self.cut.set()
                        if mode == "before":
                            self.close(c, s)
                            return
                        if mode == "after" and kind == b"Q":
                            # libpq sends a lone COMMIT once every earlier answer is read, so
                            # the answer pump_back drops (closing both ends) is COMMIT's
                            mute.set()
                            s.sendall(msg)
                            return
                        commit_after = mode == "after"  # in a pipeline: cut after its Sync
                    s.sendall(msg)
        except OSError:
            pass
        self.close(c, s)


def psql_one(db, sql):
    r = subprocess.run(["psql", "-X", "-At", "-d", db, "-c", sql], capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        raise RuntimeError("psql: %s" % r.stderr)
    return r.stdout.strip()


check = Checks()
dbname = "vigil_commit_lost"
subprocess.run(["createdb", dbname], check=True)
proxy = Proxy(os.environ.get("PGHOST", "localhost"), int(os.environ["PGPORT"]))
# the server reaches PostgreSQL only through the proxy (user and password
# from pg_virtualenv's PGUSER/PGPASSWORD); no TLS, so the proxy can read it
uri = "postgresql://127.0.0.1:%d/%s?sslmode=disable&gssencmode=disable" % (proxy.port, dbname)
tmp = tempfile.TemporaryDirectory(prefix="vigil-commit-lost-")
mllp_port = free_port()
srv = Serve(uri, mllp_port)
m = Mllp(mllp_port)
nhs = "9990000018"
code, _, err = ack_fields(m.request(adt("ADM1", "A01", nhs, "W1")))
check(code == "AA", "the patient is admitted (%s %s)" % (code, err))


def stored(ctrl):
    return int(psql_one(dbname, "SELECT count(*) FROM obs_set WHERE source_id = '%s'" % ctrl))


for mode, t, want in (("after", "20250114083000+0000", "AA"),
                      ("before", "20250114093000+0000", "AR")):
    ctrl = "LOST-" + mode.upper()
    proxy.arm(mode)
    t0 = time.monotonic()
    code, _, err = ack_fields(m.request(oru(ctrl, nhs=nhs, t=t, hr=131)))
    took = time.monotonic() - t0
    check(proxy.cut.is_set(), "%s: the proxy cut the connection at the set's COMMIT" % mode)
    n = stored(ctrl)
    check(code == want and n == (1 if want == "AA" else 0),
          "%s: the answer is %s (got %s in %.2f s: %s) and the set is stored %d time(s)"
          % (mode, want, code, took, err.strip() or "no ERR", n))
    code2, _, err2 = ack_fields(m.request(oru(ctrl, nhs=nhs, t=t, hr=131)))
    check(code2 == "AA" and stored(ctrl) == 1,
          "%s: the same message sent again is answered AA (%s %s) and stored once (%d)"
          % (mode, code2, err2.strip(), stored(ctrl)))

m.close()
srv.term()
audit_verify(uri, check)
tmp.cleanup()
check.done()
