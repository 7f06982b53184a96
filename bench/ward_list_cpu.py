"""ward_list_cpu.py: what one ward list costs the server, in figures a busy machine changes
little (issue 13 item 10; never gating; complements bench/ward_list.py, whose flat-out
requests/s need a quiet machine).

    VIGIL_BIN=build/vigil /usr/bin/python3 bench/ward_list_cpu.py [SECONDS]

The same store as ward_list.py (34 wards of 30 beds, one set each), made by a fresh
`vigil serve`, which is then stopped and started again on it, twice:
  1. under valgrind --tool=callgrind (collecting only while one keep-alive connection asks
     for GET /api/wards/W00/patients flat out for SECONDS, default 20, no ingest): the
     instructions per ward list of the whole server (every thread) and of the store
     thread's handler alone (h_ward_list inclusive: the store's read, its audit record and
     the JSON), from callgrind_annotate;
  2. natively, with HL7 ingest at 200 sets/s over MLLP: the server's CPU time (user +
     system, /proc) per ward list while 50 users each ask every 0.2 s (250 lists/s), less
     the CPU of the same ingest alone over the same time.
Needs bench_http_get beside VIGIL_BIN (`cmake --build build --target bench_http_get`);
run it against two builds to compare them (the client stays the same).
"""
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "server"))
import serve_util  # noqa: E402
from serve_util import Server, ack_fields, frame, oru, adt  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
WARDS, BEDS, RATE = 34, 30, 200
API = "/api/wards/W00/patients"
HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(os.path.dirname(os.environ.get("VIGIL_BIN", "build/vigil")), "bench_http_get")


def nhs_numbers(n):
    out, k = [], 0
    while len(out) < n:
        k += 1
        body = "999%06d" % k
        s = sum(int(d) * (10 - i) for i, d in enumerate(body))
        c = 11 - s % 11
        c = 0 if c == 11 else c
        if c != 10:
            out.append(body + str(c))
    return out


def ts(t):
    return time.strftime("%Y%m%d%H%M%S+0000", time.gmtime(t))


def setup(s, nhs):
    conn = s.mllp()
    msgs = []
    for i, n in enumerate(nhs):
        msgs.append(frame(adt("B%d" % i, "A01", n, "W%02d" % (i // BEDS), bed="BED%02d" % (i % BEDS))))
        msgs.append(frame(oru("S%d" % i, nhs=n, t=ts(time.time() - 600))))
    for i in range(0, len(msgs), 200):
        conn.send(b"".join(msgs[i:i + 200]))
        for _ in msgs[i:i + 200]:
            conn.read_ack()
    conn.close()


def client(port, tokens, conns, period_ms, secs):
    with tempfile.NamedTemporaryFile("w", suffix=".tokens") as f:
        f.write("\n".join(tokens) + "\n")
        f.flush()
        out = subprocess.run([CLIENT, str(port), API, str(conns), str(period_ms), str(secs), f.name],
                             capture_output=True, text=True, check=True).stdout
    kv = dict(x.split("=") for x in out.split())
    if kv["ok"] != kv["n"]:
        sys.exit("%d answers were not 200" % (int(kv["n"]) - int(kv["ok"])))
    return kv


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ingest(s, nhs, stop):
    conn = s.mllp()
    i, t0 = 0, time.perf_counter()
    while not stop.is_set():
        due = t0 + i / RATE
        if due > time.perf_counter():
            time.sleep(due - time.perf_counter())
        ack = conn.request(oru("I%d" % i, nhs=nhs[(i * 7) % len(nhs)], hr=60 + i % 50,
                               rr=12 + i % 14, t=ts(time.time())))
        if ack_fields(ack)[0] != "AA":
            sys.exit("ingest: not AA: %s" % (ack_fields(ack),))
        i += 1
    conn.close()


def callgrind_run(db, real_bin, tmp):
    """Instructions per ward list: (whole server, h_ward_list inclusive, n, bytes)."""
    out = os.path.join(tmp, "callgrind.out")
    wrap = os.path.join(tmp, "vigil-callgrind")
    with open(wrap, "w") as f:
        f.write("#!/bin/sh\nexec valgrind --tool=callgrind --instr-atstart=no "
                "--callgrind-out-file=%s %s \"$@\"\n" % (out, real_bin))
    os.chmod(wrap, os.stat(wrap).st_mode | stat.S_IXUSR)
    os.environ["VIGIL_BIN"] = wrap
    try:
        with Server(["--http-conns-per-addr", "0"], db=db) as s:
            token = s.login("u00")
            client(s.http_port, [token], 1, 0, 2)  # warm: the rows in memory, as in service
            subprocess.run(["callgrind_control", "-i", "on", str(s.proc.pid)], check=True,
                           capture_output=True)
            kv = client(s.http_port, [token], 1, 0, SECONDS)
            subprocess.run(["callgrind_control", "-i", "off", str(s.proc.pid)], check=True,
                           capture_output=True)
            s.stop()
    finally:
        os.environ["VIGIL_BIN"] = real_bin
    files = [os.path.join(tmp, x) for x in os.listdir(tmp) if x.startswith("callgrind.out")]
    cost = {"PROGRAM TOTALS": 0, "h_ward_list": 0, "vigil__srv_store_main": 0}
    for fn in files:
        ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--auto=no", fn],
                             capture_output=True, text=True, check=True).stdout
        for k in cost:  # the first line naming it: the function list, not a call tree
            m = re.search(r"^\s*([\d,]+) \([\d.]+%\)\s+(\S+:)?" + k + r"( \[|$)", ann, re.M)
            cost[k] += int(m.group(1).replace(",", "")) if m else 0
    n = int(kv["n"])
    return {k: v / n for k, v in cost.items()}, n, kv["bytes"]


def native_run(db, real_bin, nhs, tokens):
    """Server CPU ms per ward list under ingest: (ms, n, ingest-only CPU s/s)."""
    with Server(["--http-conns-per-addr", "0"], db=db) as s:
        toks = [s.login("u%02d" % i) for i in range(len(tokens))]
        stop = threading.Event()
        ing = threading.Thread(target=ingest, args=(s, nhs, stop))
        ing.start()
        time.sleep(2)
        c0, t0 = cpu_s(s.proc.pid), time.perf_counter()
        time.sleep(10)
        idle = (cpu_s(s.proc.pid) - c0) / (time.perf_counter() - t0)
        c0, t0 = cpu_s(s.proc.pid), time.perf_counter()
        kv = client(s.http_port, toks, 50, 200, 10)
        busy = cpu_s(s.proc.pid) - c0
        secs = time.perf_counter() - t0
        stop.set()
        ing.join()
        s.stop()
    n = int(kv["n"])
    return (busy - idle * secs) * 1000 / n, n, idle, kv


def main():
    real_bin = serve_util.vigil_bin()
    if not os.access(CLIENT, os.X_OK) or shutil.which("callgrind_annotate") is None:
        sys.exit("needs %s and valgrind" % CLIENT)
    print("binary: %s; load average at start: %.2f %.2f %.2f" % ((real_bin,) + os.getloadavg()))
    nhs = nhs_numbers(WARDS * BEDS)
    with tempfile.TemporaryDirectory(prefix="vigil-wlcpu-") as tmp:
        if os.environ.get("VIGIL_BENCH_KEEP"):  # keep the callgrind output to read it
            tmp = tempfile.mkdtemp(prefix="vigil-wlcpu-")
            print("files in %s" % tmp)
        db = os.path.join(tmp, "ward.db")
        with Server(["--http-conns-per-addr", "0"], db=db) as s:
            setup(s, nhs)
            users = ["u%02d" % i for i in range(50)]
            for u in users:
                s.add_user(u, "nurse", ["W00"])
            s.stop()
        cost, n, size = callgrind_run(db, real_bin, tmp)
        print("callgrind, 1 connection flat out, no ingest: %d lists of %s bytes" % (n, size))
        print("  instructions per ward list: whole server %.0f, store thread %.0f, of which "
              "h_ward_list %.0f" % (cost["PROGRAM TOTALS"], cost["vigil__srv_store_main"],
                                    cost["h_ward_list"]))
        if os.environ.get("VIGIL_BENCH_NO_NATIVE"):
            return
        ms, n, idle, kv = native_run(db, real_bin, nhs, users)
        print("native, 50 users every 0.2 s + ingest %d sets/s: %d lists, p50 %s ms p99 %s ms"
              % (RATE, n, kv["p50_ms"], kv["p99_ms"]))
        print("  ingest alone: %.3f CPU s/s; server CPU per ward list beyond it: %.3f ms" % (idle, ms))
    print("load average at end: %.2f %.2f %.2f" % os.getloadavg())


main()
