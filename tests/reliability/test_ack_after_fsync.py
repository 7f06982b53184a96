"""test_ack_after_fsync.py: the nearest honest thing to a power-cut test that
one machine allows. A power cut loses whatever the kernel had not yet written
to the disk; only data made durable by fsync/fdatasync survives. So an AA is
safe against power loss if, between reading the message and sending its AA,
the server completed an fsync or fdatasync of the SQLite write-ahead log that
holds it (WAL + synchronous=FULL syncs the WAL at every commit; recovery
replays committed frames only). This test runs `vigil serve` under strace,
replays real PhysioNet stays one message at a time, and checks that order
for every AA in the system-call trace.

It would fail if the server acknowledged before committing, or if the store
ran with synchronous=NORMAL/OFF (no WAL sync per commit). It does not show
that the disk honours fsync (a drive with a volatile write cache that lies
about flushes defeats any software); that part is the operator's, see
docs/replay.md. Skipped when strace is missing or cannot trace here.
"""
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from rel_util import (Checks, Serve, check_store_against_acks, free_port, read_ack_log,  # noqa
                      replay_data, vigil_bin)

strace = shutil.which("strace")
if strace is None or subprocess.run([strace, "-f", "-o", os.devnull, "true"],
                                    capture_output=True).returncode != 0:
    print("skip: strace missing or not permitted here")
    sys.exit(77)

check = Checks()
data = replay_data()
tmp = tempfile.TemporaryDirectory(prefix="vigil-fsync-")
db = os.path.join(tmp.name, "ward.db")
trace = os.path.join(tmp.name, "trace.txt")
acklog = os.path.join(tmp.name, "acks.tsv")
port = free_port()

srv = Serve(db, port, prefix=[strace, "-f", "-qq", "-y", "-s", "4096",
                              "-e", "trace=fdatasync,fsync,recvfrom,sendto", "-o", trace],
            timeout=120)
r = subprocess.run([vigil_bin(), "replay", "--mllp", "127.0.0.1:%d" % port, "--data", data,
                    "--patients", "6", "--hours", "10", "--rate", "max", "--window", "1",
                    "--ack-log", acklog], capture_output=True, text=True, timeout=300)
print(r.stderr.strip())
check(r.returncode == 0, "replay: every message AA (exit %d)" % r.returncode)
srv.term()

# Join strace's "<unfinished ...>" / "<... resumed>" halves, per thread.
LINE = re.compile(r"^(\d+)\s+(.*)$")
events = []  # (index of entry line, index of exit line, syscall, text)
pending = {}
for i, line in enumerate(open(trace, errors="replace")):
    m = LINE.match(line.rstrip("\n"))
    if not m:
        continue
    pid, rest = m.group(1), m.group(2)
    if rest.endswith("<unfinished ...>"):
        pending[pid] = (i, rest[:-len("<unfinished ...>")])
        continue
    rm = re.match(r"^<\.\.\. (\w+) resumed>(.*)$", rest)
    if rm:
        start, head = pending.pop(pid, (i, rm.group(1) + "("))
        events.append((start, i, rm.group(1), head + rm.group(2)))
        continue
    cm = re.match(r"^(\w+)\(", rest)
    if cm:
        events.append((i, i, cm.group(1), rest))

received = {}        # control id -> exit index of the recvfrom that carried it
acked = {}           # control id -> entry index of the sendto that carried its AA
wal_syncs = []       # exit index of each completed fsync/fdatasync of the WAL
for start, end, name, text in events:
    if name == "recvfrom" and not re.search(r"= -1 ", text):
        for ctrl in re.findall(r"\|(RP[\w.\-#]+)\|P\|2\.5\.1", text):
            received.setdefault(ctrl, end)
    elif name == "sendto":
        for ctrl in re.findall(r"MSA\|AA\|([\w.\-#]+)", text):
            acked.setdefault(ctrl, start)
    elif name in ("fsync", "fdatasync") and "-wal>" in text and text.rstrip().endswith("= 0"):
        wal_syncs.append(end)

acks = read_ack_log(acklog)
check(len(acks) > 40, "%d messages ACKed AA" % len(acks))
check(set(a[0] for a in acks) <= set(acked), "every AA the replay got is in the server's trace "
      "(%d of %d)" % (len(set(a[0] for a in acks) & set(acked)), len(acks)))
unsynced = []
for ctrl, sent_at in acked.items():
    got_at = received.get(ctrl)
    if got_at is None or not any(got_at < s < sent_at for s in wal_syncs):
        unsynced.append(ctrl)
check(not unsynced, "every AA was sent after a completed sync of the WAL that followed the "
      "message's arrival (%d without: %s)" % (len(unsynced), unsynced[:3]))
n_oru = sum(1 for a in acks if a[1] == "ORU")
check(len(wal_syncs) >= n_oru, "at least one WAL sync per ORU^R01 sent one at a time "
      "(%d syncs, %d ORU)" % (len(wal_syncs), n_oru))
counts = collections.Counter(n for _, _, n, _ in events)
print("trace: %s" % dict(counts))
check_store_against_acks(db, acks, check)
tmp.cleanup()
check.done()
