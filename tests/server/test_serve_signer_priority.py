"""test_serve_signer_priority.py: the sign-in thread runs below the clinical threads
(issue 12 finding 8; src/server/signer.c SIGNER_NICE). argon2id is the one CPU-bound job in
the server: a flood of sign-ins kept one of two cores busy beside HL7 ingest, and the soak's
honest p99 ACK was 39 ms with the flood against 2 ms without. The thread named
"vigil-signer" has a nice value 10 above the process's; every other thread keeps the
process's; a sign-in still succeeds.

Linux: a thread's nice value is in field 19 of /proc/PID/task/TID/stat.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server  # noqa: E402

C = Checks()


def nice_of(stat_path):
    with open(stat_path) as f:
        s = f.read()
    # "pid (comm) state ppid ...": comm may hold spaces; fields after its ')'
    rest = s[s.rindex(")") + 2:].split()
    return int(rest[16])  # field 19 overall: state is field 3 (rest[0])


with Server() as s:
    pid = s.proc.pid
    C.check(s.admin_token() is not None, "a sign-in succeeds through the sign-in thread")
    base = nice_of("/proc/%d/stat" % pid)
    threads = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
            threads[tid] = (f.read().strip(), nice_of("/proc/%d/task/%s/stat" % (pid, tid)))
    signer = [n for name, n in threads.values() if name == "vigil-signer"]
    others = [n for name, n in threads.values() if name != "vigil-signer"]
    C.check(len(signer) == 1, "one thread named vigil-signer (%s)" % sorted(threads.values()))
    C.check(signer and signer[0] == min(base + 10, 19),
            "the sign-in thread's nice is the process's + 10 (%s, process %d)" % (signer, base))
    C.check(len(others) >= 2 and all(n == base for n in others),
            "every other thread keeps the process's nice (%s)" % others)
    C.check(s.stop() == 0, "SIGTERM: exit 0")
C.done()
