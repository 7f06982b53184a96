"""test_kill9.py: kill -9 the ward service during sustained HL7 ingest, again
and again, and lose nothing that was acknowledged (REQ SERVER-ACK-AFTER-COMMIT,
REQ STORE-DURABLE-ACK).

`vigil serve` runs on a fresh database with MLLP on a fixed loopback port;
`vigil replay` sends real PhysioNet 2019 stays (ADT^A01 then ORU^R01) at a
sustained rate with a window of messages in flight and writes every AA to its
ACK log. The server is SIGKILLed at random moments (sometimes just after it
came up) and restarted on the same database and port; replay reconnects and
sends again whatever was not acknowledged. After the last cycle replay
finishes, the server is SIGKILLed once more (no graceful stop), and then:
every message ACKed AA is in the store with its patient and time, nothing is
stored twice or without its AA, every set has its score, `vigil audit verify`
passes, PRAGMA integrity_check is ok and no foreign key dangles.

The server runs with the shipped model (`--model`), so the AI scores sets
after their ACK on its own thread while the kills come: an AI score lost with
a crash leaves its set on NEWS2 alone, never a half-stored score.

VIGIL_KILL_CYCLES (default 12) sets the number of kills under load (the
replay gets 10 stays per cycle, at least 150, so it outlasts them);
VIGIL_KILL_SEED makes the moments reproducible (the seed is printed).
What this does not show: power loss (see docs/replay.md and
test_ack_after_fsync.py).
"""
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from rel_util import (Checks, Serve, audit_verify, check_store_against_acks, free_port,  # noqa
                      read_ack_log, replay_data, vigil_bin)

check = Checks()
cycles = int(os.environ.get("VIGIL_KILL_CYCLES", "12"))
seed = int(os.environ.get("VIGIL_KILL_SEED", str(int(time.time() * 1000) % 1000000)))
rng = random.Random(seed)
print("seed %d, %d kill cycles" % (seed, cycles))

data = replay_data()
tmp = tempfile.TemporaryDirectory(prefix="vigil-kill9-")
db = os.path.join(tmp.name, "ward.db")
acklog = os.path.join(tmp.name, "acks.tsv")
port = free_port()
t_begin = time.monotonic()

model = os.path.join(os.environ.get("VIGIL_SOURCE_DIR", "."), "models", "vigil-sepsis-2019A.json")
extra = ["--model", model] if os.path.exists(model) else []
srv = Serve(db, port, extra=extra)
replay = subprocess.Popen(
    # enough patients that replay is still sending at the last kill even when a loaded
    # machine (or a sanitizer build loading the model) makes each restart slow
    [vigil_bin(), "replay", "--mllp", "127.0.0.1:%d" % port, "--data", data,
     "--patients", str(max(300, 20 * cycles)), "--rate", "300", "--window", "16", "--ack-log", acklog,
     "--ack-timeout", "5", "--reconnect", "60", "--json"],
    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

kills_under_load = 0
for i in range(cycles):
    if replay.poll() is not None:
        break
    early = rng.random() < 0.2
    time.sleep(rng.uniform(0.0, 0.02) if early else rng.uniform(0.15, 1.0))
    acked_before = sum(1 for _ in open(acklog)) if os.path.exists(acklog) else 0
    srv.kill()
    kills_under_load += replay.poll() is None
    print("kill %d at %.2f s (%s), %d AA so far" % (i + 1, time.monotonic() - t_begin,
                                                   "just after start" if early else "under load",
                                                   acked_before))
    time.sleep(rng.uniform(0.0, 0.2))
    srv = Serve(db, port, extra=extra)

try:
    out, err = replay.communicate(timeout=300)
except subprocess.TimeoutExpired:
    replay.kill()
    out, err = replay.communicate()
srv.kill()  # the last stop is a crash too
print(err.strip())

check(kills_under_load >= max(1, cycles * 2 // 3),
      "%d of %d kills came while replay was sending" % (kills_under_load, cycles))
check(replay.returncode == 0, "replay finished with every message AA (exit %s)" % replay.returncode)
summary = json.loads(out) if out.strip() else {}
check(summary.get("aa") == summary.get("scheduled") and summary.get("not_sent") == 0,
      "replay: %s AA of %s scheduled" % (summary.get("aa"), summary.get("scheduled")))
check(summary.get("reconnects", 0) >= 1, "replay reconnected after the kills (%s reconnects, "
      "%s resent)" % (summary.get("reconnects"), summary.get("resent")))

acks = read_ack_log(acklog)
check(len(acks) == summary.get("aa"), "the ACK log holds every AA (%d lines)" % len(acks))
check(len(set(a[0] for a in acks)) == len(acks), "no control id ACKed AA twice in the log")
n = check_store_against_acks(db, acks, check)
if extra:
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    n_ai, n_bad = con.execute(
        "SELECT count(ai_prob), count(*) FILTER (WHERE ai_prob IS NOT NULL AND"
        " (model_version IS NULL OR ai_risk IS NULL OR ai_prob NOT BETWEEN 0 AND 1))"
        " FROM score").fetchone()
    n_audit = con.execute("SELECT count(*) FROM audit WHERE action = 'score.ai'").fetchone()[0]
    con.close()
    check(n_ai > 0 and n_bad == 0, "the AI scored sets after their ACK through the kills "
          "(%d AI scores, %d malformed)" % (n_ai, n_bad))
    check(n_audit == n_ai, "each AI score has its score.ai audit record (%d of %d)"
          % (n_audit, n_ai))
audit_verify(db, check)
print("%d observation sets checked after %d kills in %.1f s" % (n, cycles,
                                                               time.monotonic() - t_begin))
tmp.cleanup()
check.done()
