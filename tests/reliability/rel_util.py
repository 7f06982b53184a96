"""rel_util.py: shared by tests/reliability/test_*.py (not a test itself).
Start `vigil serve` on a fixed loopback MLLP port (so it can be restarted on
the same port and database), read the ACK log `vigil replay --ack-log`
writes, and check a store against it. Standard library only.
"""
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

SRC = os.environ.get("VIGIL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def vigil_bin():
    b = os.environ.get("VIGIL_BIN")
    if not b or not os.path.exists(b):
        print("skip: VIGIL_BIN not set or missing")
        sys.exit(77)
    return b


def replay_data():
    """The 2019 training_setA archive, or skip."""
    d = os.environ.get("VIGIL_DATA_DIR", os.path.join(SRC, "..", "shared", "data"))
    p = os.path.join(d, "physionet2019", "training_setA.tar.gz")
    if not os.path.exists(p):
        print("skip: %s not found (set VIGIL_DATA_DIR)" % p)
        sys.exit(77)
    return p


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Serve:
    """`vigil serve` on db with MLLP on a fixed port; HTTP on an ephemeral one."""

    def __init__(self, db, mllp_port, prefix=(), timeout=60, extra=()):
        self.log = []
        self.prefix = list(prefix)
        self.proc = subprocess.Popen(
            list(prefix) + [vigil_bin(), "serve", "--db", db, "--http-port", "0",
                            "--mllp-port", str(mllp_port)] + list(extra),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ready = threading.Event()

        def reader():
            for line in self.proc.stderr:
                line = line.decode("utf-8", "replace").rstrip("\n")
                self.log.append(line)
                if re.match(r"vigil serve: http \S+ mllp \S+$", line):
                    ready.set()
            ready.set()

        self.thread = threading.Thread(target=reader, daemon=True)
        self.thread.start()
        if not ready.wait(timeout) or self.proc.poll() is not None:
            self.kill()
            raise RuntimeError("vigil serve did not start:\n" + "\n".join(self.log[-20:]))

    def kill(self):
        """SIGKILL: no chance to finish anything."""
        if self.proc.poll() is None:
            pid = self.target_pid()
            if pid != self.proc.pid:
                os.kill(pid, signal.SIGKILL)
            self.proc.kill()
        self.proc.wait()
        self.thread.join(5)

    def target_pid(self):
        """The server's pid: the process itself, or the one a prefix (strace) runs."""
        if self.prefix:
            try:
                with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
                    kids = f.read().split()
                if kids:
                    return int(kids[0])
            except OSError:
                pass
        return self.proc.pid

    def term(self, timeout=30):
        """SIGTERM to the server (not to a tracer: strace would detach and leave it)."""
        if self.proc.poll() is None:
            try:
                os.kill(self.target_pid(), signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.thread.join(5)
        return rc


def read_ack_log(path):
    """[(control id, kind, nhs, t_ms)] from `vigil replay --ack-log`."""
    out = []
    with open(path) as f:
        for line in f:
            ctrl, kind, nhs, t = line.rstrip("\n").split("\t")
            out.append((ctrl, kind, nhs, int(t)))
    return out


def check_store_against_acks(db, acks, check):
    """Every message ACKed AA is in the store with its patient and time; nothing
    is stored twice; integrity and foreign keys hold. check(cond, what)."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        oru = [a for a in acks if a[1] == "ORU"]
        adt = [a for a in acks if a[1] == "ADT"]
        stored = {}
        for sid, nhs, t in con.execute(
                "SELECT o.source_id, p.nhs_number, o.t_ms FROM obs_set o "
                "JOIN patient p ON p.id = o.patient_id WHERE o.source = 'hl7'"):
            stored.setdefault(sid, []).append((nhs, t))
        missing = [a[0] for a in oru if a[0] not in stored]
        check(not missing, "every ORU^R01 ACKed AA is stored (%d of %d missing, e.g. %s)"
              % (len(missing), len(oru), missing[:3]))
        wrong = [a[0] for a in oru if a[0] in stored and stored[a[0]] != [(a[2], a[3])]]
        check(not wrong, "each stored set has its patient's NHS number and time (%d wrong, e.g. %s)"
              % (len(wrong), wrong[:3]))
        acked_ids = set(a[0] for a in oru)
        extra = [s for s in stored if s not in acked_ids]
        n_obs = con.execute("SELECT count(*) FROM obs_set").fetchone()[0]
        check(n_obs == len(acked_ids) and not extra,
              "nothing stored twice or unacknowledged: %d sets for %d ACKed ORU (extra %s)"
              % (n_obs, len(acked_ids), extra[:3]))
        n_scored = con.execute("SELECT count(*) FROM obs_set o JOIN score s "
                               "ON s.obs_set_id = o.id").fetchone()[0]
        check(n_scored == n_obs, "every stored set has its NEWS2 score (%d of %d)"
              % (n_scored, n_obs))
        admitted = set(r[0] for r in con.execute(
            "SELECT p.nhs_number FROM patient p JOIN admission a ON a.patient_id = p.id "
            "WHERE a.discharged_ms IS NULL"))
        lost = [a[0] for a in adt if a[2] not in admitted]
        check(not lost, "every ADT^A01 ACKed AA left its patient admitted (%d missing)" % len(lost))
        ic = con.execute("PRAGMA integrity_check").fetchall()
        check(ic == [("ok",)], "PRAGMA integrity_check: %s" % ic[:3])
        fk = con.execute("PRAGMA foreign_key_check").fetchall()
        check(not fk, "PRAGMA foreign_key_check: no dangling reference (%s)" % fk[:3])
        jm = con.execute("PRAGMA journal_mode").fetchone()[0]
        check(jm == "wal", "the store is in WAL mode (%s)" % jm)
        return n_obs
    finally:
        con.close()


def audit_verify(db, check):
    r = subprocess.run([vigil_bin(), "audit", "verify", "--db", db], capture_output=True,
                       text=True, timeout=300)
    check(r.returncode == 0 and r.stdout.startswith("OK:"),
          "vigil audit verify --db: %s%s" % (r.stdout.strip(), r.stderr.strip()))


class Checks:
    """Collects failures so one run reports all of them; exit 1 if any."""

    def __init__(self):
        self.n = 0
        self.failed = []

    def __call__(self, cond, what):
        self.n += 1
        if not cond:
            self.failed.append(what)
            print("FAIL:", what)
        else:
            print("ok:", what)

    def done(self):
        print("%d checks, %d failed" % (self.n, len(self.failed)))
        sys.exit(1 if self.failed else 0)
