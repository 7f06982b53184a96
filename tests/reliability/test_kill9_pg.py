"""test_kill9_pg.py: `vigil serve --db postgresql://...`: kill -9 the ward
service during sustained HL7 ingest into PostgreSQL, restart it, and lose
nothing that was acknowledged (REQ SERVER-ACK-AFTER-COMMIT, REQ
STORE-DURABLE-ACK on the PostgreSQL backend: synchronous_commit = on).

As test_kill9.py, on a database of a throw-away PostgreSQL 15 that
`pg_virtualenv` starts (fsync on) and drops afterwards: the script runs
itself again inside it. `vigil replay` sends PhysioNet 2019 stays over MLLP
with a window in flight, the server is SIGKILLed at random moments and
restarted on the same database and port; after the last cycle (and a last
SIGKILL; PostgreSQL itself is crashed, stop -m immediate, and restarted once
mid-run): every message ACKed AA is stored with its patient and time, nothing
is stored twice or without its AA (but a commit in doubt at PostgreSQL's
crash, answered AR, "send it again"), every set has its score, no foreign key
dangles, and `vigil audit verify --db postgresql:///...` passes.

Replay does not resend a message answered AR (what the server answers when
the store fails, here while PostgreSQL is down): those are counted, never
stored, and the server must go on acknowledging once PostgreSQL is back (the
backend reconnects): after the first replay, a second one of stays it never
sent (--skip) must be answered AA throughout, whatever share of the first run
PostgreSQL's restart took.

Skips (exit 77, one line) without pg_virtualenv or PostgreSQL 15, or without
the replay data. VIGIL_KILL_CYCLES (default 6) and VIGIL_KILL_SEED as in
test_kill9.py.
"""
import json
import os
import random
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from rel_util import (Checks, Serve, audit_verify, free_port, read_ack_log,  # noqa
                      replay_data, vigil_bin)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pg_env import run_inside_pg15  # noqa: E402

run_inside_pg15(__file__, before=lambda: (vigil_bin(), replay_data()))


def psql(db, sql):
    """Rows of sql on db, as lists of text (psql -At)."""
    r = subprocess.run(["psql", "-X", "-At", "-F", "\t", "-d", db, "-c", sql],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("psql: %s" % r.stderr)
    return [line.split("\t") for line in r.stdout.splitlines()]


check = Checks()
cycles = int(os.environ.get("VIGIL_KILL_CYCLES", "6"))
seed = int(os.environ.get("VIGIL_KILL_SEED", str(int(time.time() * 1000) % 1000000)))
rng = random.Random(seed)
print("seed %d, %d kill cycles, PostgreSQL on port %s" % (seed, cycles, os.environ.get("PGPORT")))

dbname = "vigil_kill9"
subprocess.run(["createdb", dbname], check=True)
db = "postgresql:///%s" % dbname
data = replay_data()
tmp = tempfile.TemporaryDirectory(prefix="vigil-kill9-pg-")
acklog = os.path.join(tmp.name, "acks.tsv")
naklog = os.path.join(tmp.name, "naks.tsv")
port = free_port()
t_begin = time.monotonic()

srv = Serve(db, port)
replay = subprocess.Popen(
    [vigil_bin(), "replay", "--mllp", "127.0.0.1:%d" % port, "--data", data,
     "--patients", str(max(120, 20 * cycles)), "--rate", "300", "--window", "16",
     "--ack-log", acklog, "--nak-log", naklog, "--ack-timeout", "5", "--reconnect", "60",
     "--json"],
    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def pg_crash_restart():
    """PostgreSQL itself stopped as by a crash (immediate: no checkpoint, the WAL
    replayed at start): a commit that returned before its WAL flush would be lost."""
    subprocess.run(["pg_ctlcluster", "15", "regress", "stop", "-m", "immediate"], check=True)
    subprocess.run(["pg_ctlcluster", "15", "regress", "start"], check=True)


kills_under_load = 0
pg_crashed = False
acked_at_crash = 0
for i in range(cycles):
    if replay.poll() is not None:
        break
    time.sleep(rng.uniform(0.15, 1.0))
    acked_before = sum(1 for _ in open(acklog)) if os.path.exists(acklog) else 0
    if i == cycles // 2:
        pg_crash_restart()  # the server's connections die with it: it reconnects
        pg_crashed = True
        acked_at_crash = acked_before
        print("PostgreSQL crashed and restarted at %.2f s" % (time.monotonic() - t_begin))
    srv.kill()
    kills_under_load += replay.poll() is None
    print("kill %d at %.2f s, %d AA so far" % (i + 1, time.monotonic() - t_begin, acked_before))
    time.sleep(rng.uniform(0.0, 0.2))
    srv = Serve(db, port)

try:
    out, err = replay.communicate(timeout=300)
except subprocess.TimeoutExpired:
    replay.kill()
    out, err = replay.communicate()
print(err.strip())
# PostgreSQL's crash and restart can take most of the run on a loaded machine
# (7-10 s here, every message meanwhile answered AR), so whether the server
# acknowledges again once it is back is asked of the server itself: stays the
# first replay never sent (--skip), to the last server started, every one AA
n_first = max(120, 20 * cycles)
acklog2 = os.path.join(tmp.name, "acks-after.tsv")
r2 = subprocess.run(
    [vigil_bin(), "replay", "--mllp", "127.0.0.1:%d" % port, "--data", data, "--skip",
     str(n_first), "--patients", "20", "--rate", "300", "--window", "16", "--ack-log", acklog2,
     "--ack-timeout", "5", "--reconnect", "60", "--json"],
    capture_output=True, text=True, timeout=300)
srv.kill()  # the last stop is a crash too
after = json.loads(r2.stdout) if r2.stdout.strip() else {}

check(pg_crashed, "PostgreSQL was crashed (stop -m immediate) and restarted once under load")
check(kills_under_load >= max(1, cycles * 2 // 3),
      "%d of %d kills came while replay was sending" % (kills_under_load, cycles))
summary = json.loads(out) if out.strip() else {}
# replay resends what was not answered, never an AR: the messages refused while
# PostgreSQL was down stay refused (and must not be stored: checked below)
check(summary.get("aa", 0) + summary.get("ar", 0) == summary.get("scheduled")
      and summary.get("ae") == 0 and summary.get("not_sent") == 0,
      "replay: every message answered, %s AA and %s AR (refused while PostgreSQL was down) of "
      "%s scheduled" % (summary.get("aa"), summary.get("ar"), summary.get("scheduled")))
print("first replay: %s AA, %d of them before PostgreSQL's crash"
      % (summary.get("aa"), acked_at_crash))
check(after.get("scheduled", 0) > 0 and after.get("aa") == after.get("scheduled"),
      "the server went on acknowledging after PostgreSQL came back: a later replay of %s stays "
      "had %s AA of %s scheduled (%s AE, %s AR)%s"
      % (20, after.get("aa"), after.get("scheduled"), after.get("ae"), after.get("ar"),
         "" if after else ": " + r2.stderr.strip()[-300:]))
check(summary.get("reconnects", 0) >= 1, "replay reconnected after the kills (%s reconnects, "
      "%s resent)" % (summary.get("reconnects"), summary.get("resent")))

acks = read_ack_log(acklog)
check(len(acks) == summary.get("aa"), "the ACK log holds every AA (%d lines)" % len(acks))
acks += read_ack_log(acklog2) if os.path.exists(acklog2) else []
oru = [a for a in acks if a[1] == "ORU"]
adt = [a for a in acks if a[1] == "ADT"]
stored = {}
for sid, nhs, t in psql(dbname, "SELECT o.source_id, p.nhs_number, o.t_ms FROM obs_set o "
                                "JOIN patient p ON p.id = o.patient_id WHERE o.source = 'hl7'"):
    stored.setdefault(sid, []).append((nhs, int(t)))
missing = [a[0] for a in oru if a[0] not in stored]
check(oru and not missing, "every ORU^R01 ACKed AA is stored in PostgreSQL (%d of %d missing, "
      "e.g. %s)" % (len(missing), len(oru), missing[:3]))
wrong = [a[0] for a in oru if a[0] in stored and stored[a[0]] != [(a[2], a[3])]]
check(not wrong, "each stored set has its patient's NHS number and time (%d wrong)" % len(wrong))
n_obs = int(psql(dbname, "SELECT count(*) FROM obs_set")[0][0])
acked_ids = set(a[0] for a in oru)
refused = set(line.split("\t")[0] for line in open(naklog) if line.strip()) \
    if os.path.exists(naklog) else set()
# a commit whose outcome the server could not learn (PostgreSQL crashed as it
# committed and was away longer than the backend waits) is answered AR, "send
# it again", and may be stored: the sender was told, a resend is answered AA
# without a second copy (test_region_pg says the same); any other stored set
# must have had its AA, and none is stored twice
unacked = [sid for sid in stored if sid not in acked_ids]
in_doubt = [sid for sid in unacked if sid in refused]
check(not [sid for sid in unacked if sid not in refused]
      and all(len(v) == 1 for v in stored.values())
      and n_obs == len(stored),
      "nothing stored twice or unacknowledged: %d sets for %d ACKed ORU; %d stored though "
      "answered AR (a commit in doubt at the PostgreSQL crash: %s)"
      % (n_obs, len(acked_ids), len(in_doubt), in_doubt[:3]))
n_scored = int(psql(dbname, "SELECT count(*) FROM obs_set o JOIN score s ON s.obs_set_id = o.id")
               [0][0])
check(n_scored == n_obs, "every stored set has its NEWS2 score (%d of %d)" % (n_scored, n_obs))
admitted = set(r[0] for r in psql(dbname, "SELECT p.nhs_number FROM patient p JOIN admission a "
                                          "ON a.patient_id = p.id WHERE a.discharged_ms IS NULL"))
lost = [a[0] for a in adt if a[2] not in admitted]
check(not lost, "every ADT^A01 ACKed AA left its patient admitted (%d missing)" % len(lost))
sc = psql(dbname, "SHOW synchronous_commit")[0][0]
print("server default synchronous_commit: %s (each vigil connection sets on)" % sc)
audit_verify(db, check)
print("%d observation sets checked after %d kills in %.1f s" % (n_obs, cycles,
                                                               time.monotonic() - t_begin))
tmp.cleanup()
check.done()
