"""ward_list.py: the ward list (API and page) under a ward's load (issue 13 item 10; never gating).

    VIGIL_BIN=build/vigil /usr/bin/python3 bench/ward_list.py [SECONDS]

A fresh `vigil serve` with a 1,000-bed store (34 wards of 30 beds, every patient with a
set), then, while HL7 ingest runs at 200 sets/s over MLLP:
  1. 50 signed-in users, each on its own keep-alive connection, refreshing a 30-bed ward
     list every 2 s (GET /api/wards/W00/patients), for SECONDS (default 30);
  2. the same 50 flat out for 10 s: requests/s;
  3. the ward page itself (GET /ward, the file), 50 users every 2 s;
  4. the peer: the same ward's rows read straight from SQLite (the store's own ward-list
     query, sqlite3 module, its own connection, WAL), every 2 s x 50 and flat out.
p50/p99 in ms for each, the JSON's size, the server's ACK p99 for the ingest. The HTTP
load comes from bench_http_get (bench/bench_http_get.c: one thread, poll, keep-alive;
`make bench` or `cmake --build build --target bench_http_get`), found beside VIGIL_BIN;
without it, 50 Python threads (then the client, on the same cores, limits the flat-out
figure). The load average at the start and end is printed: the machine is shared.
"""
import http.client
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "server"))
from serve_util import Server, ack_fields, adt, frame, oru  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
WARDS, BEDS, USERS, RATE = 34, 30, 50, 200
WARD_SQL = (  # the store's ward-list read (src/store/sqlite/sq_read.c SQL_WARD)
    "SELECT p.id, coalesce(p.nhs_number, ''), coalesce(p.mrn, ''), p.name, p.birth_date, a.id, "
    "b.bed, b.from_ms, "
    "(SELECT o.id FROM obs_set o WHERE o.patient_id = p.id ORDER BY o.t_ms DESC, o.id DESC "
    "LIMIT 1), "
    "(SELECT max(o.t_ms) FROM obs_set o WHERE o.patient_id = p.id) "
    "FROM bed_stay b JOIN admission a ON a.id = b.admission_id "
    "JOIN patient p ON p.id = a.patient_id "
    "WHERE b.ward = ?1 AND b.to_ms IS NULL AND a.discharged_ms IS NULL ORDER BY b.bed, p.id")


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


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))] if xs else float("nan")


def show(name, lat, secs=None):
    extra = " (%.0f req/s)" % (len(lat) / secs) if secs else ""
    print("%-44s n=%-6d p50 %7.2f ms  p99 %7.2f ms%s" % (name, len(lat), pct(lat, 50), pct(lat, 99), extra))


def ts(t):
    return time.strftime("%Y%m%d%H%M%S+0000", time.gmtime(t))


def setup(s, nhs):
    conn = s.mllp()
    per = 200
    msgs = []
    for i, n in enumerate(nhs):
        msgs.append(frame(adt("B%d" % i, "A01", n, "W%02d" % (i // BEDS), bed="BED%02d" % (i % BEDS))))
        msgs.append(frame(oru("S%d" % i, nhs=n, t=ts(time.time() - 600))))
    for i in range(0, len(msgs), per):
        conn.send(b"".join(msgs[i:i + per]))
        for _ in msgs[i:i + per]:
            conn.read_ack()
    conn.close()


def ingest(s, nhs, stop, stats):
    conn = s.mllp()
    i = 0
    t0 = time.perf_counter()
    while not stop.is_set():
        due = t0 + i / RATE
        now = time.perf_counter()
        if due > now:
            time.sleep(due - now)
        n = nhs[(i * 7) % len(nhs)]
        t = time.perf_counter()
        ack = conn.request(oru("I%d" % i, nhs=n, hr=60 + i % 50, rr=12 + i % 14, t=ts(time.time())))
        stats.append((time.perf_counter() - t) * 1000)
        if ack_fields(ack)[0] != "AA":
            print("ingest: not AA:", ack_fields(ack))
        i += 1
    conn.close()


def user(port, token, path, period, until, out):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    nxt = time.perf_counter()
    while time.perf_counter() < until:
        if period:
            nxt += period
        t = time.perf_counter()
        c.request("GET", path, headers={"Authorization": "Bearer " + token} if token else {})
        r = c.getresponse()
        body = r.read()
        out.append(((time.perf_counter() - t) * 1000, r.status, len(body)))
        if period:
            time.sleep(max(0.0, nxt - time.perf_counter()))
    c.close()


def cpu_s(pid):
    """The server's CPU time (user + system) in seconds: a figure the machine's other load
    changes less than wall-clock throughput."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def c_client():
    exe = os.path.join(os.path.dirname(os.environ.get("VIGIL_BIN", "build/vigil")), "bench_http_get")
    return exe if os.access(exe, os.X_OK) else None


def run_users_c(exe, port, tokens, path, period, secs):
    """The same load from bench_http_get: (p50, p99, n, ok, rps, bytes)."""
    with tempfile.NamedTemporaryFile("w", suffix=".tokens") as f:
        f.write("\n".join(t for t in tokens if t) + "\n")
        f.flush()
        args = [exe, str(port), path, str(USERS), str(int(period * 1000)), str(secs)]
        if any(tokens):
            args.append(f.name)
        out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    kv = dict(x.split("=") for x in out.split())
    if kv["ok"] != kv["n"]:
        print("  %d responses not 200" % (int(kv["n"]) - int(kv["ok"])))
    return kv


def show_c(name, kv, rate=False):
    extra = " (%.0f req/s)" % float(kv["rps"]) if rate else ""
    print("%-44s n=%-6s p50 %7.2f ms  p99 %7.2f ms%s" %
          (name, kv["n"], float(kv["p50_ms"]), float(kv["p99_ms"]), extra))


def run_users(port, tokens, path, period, secs):
    out = []
    until = time.perf_counter() + secs
    th = [threading.Thread(target=user, args=(port, tokens[i % len(tokens)], path, period, until, out))
          for i in range(USERS)]
    for i, t in enumerate(th):
        t.start()
        if period:
            time.sleep(period / USERS)  # spread the users over the period
    [t.join() for t in th]
    bad = [x for x in out if x[1] != 200]
    if bad:
        print("  %d responses not 200 (%s)" % (len(bad), bad[0][1]))
    return [x[0] for x in out], (out[0][2] if out else 0)


def sqlite_peer(db, period, secs):
    lat = []
    lock = threading.Lock()

    def one(until):
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, check_same_thread=False)
        nxt = time.perf_counter()
        while time.perf_counter() < until:
            t = time.perf_counter()
            rows = con.execute(WARD_SQL, ("W00",)).fetchall()
            assert len(rows) == BEDS, len(rows)
            with lock:
                lat.append((time.perf_counter() - t) * 1000)
            if period:
                nxt += period
                time.sleep(max(0.0, nxt - time.perf_counter()))
        con.close()

    until = time.perf_counter() + secs
    th = [threading.Thread(target=one, args=(until,)) for _ in range(USERS)]
    [t.start() for t in th]
    [t.join() for t in th]
    return lat


def main():
    print("load average at start: %.2f %.2f %.2f" % os.getloadavg())
    nhs = nhs_numbers(WARDS * BEDS)
    # every simulated user comes from 127.0.0.1: lift the per-address cap, as behind a proxy
    with Server(["--http-conns-per-addr", "0"]) as s:
        t = time.perf_counter()
        setup(s, nhs)
        print("store: %d patients on %d wards of %d beds, one set each (%.1f s)" %
              (len(nhs), WARDS, BEDS, time.perf_counter() - t))
        tokens = [s.add_user("u%02d" % i, "nurse", ["W00"]) for i in range(USERS)]
        stop, acks = threading.Event(), []
        ing = threading.Thread(target=ingest, args=(s, nhs, stop, acks))
        ing.start()
        time.sleep(2)
        api = "/api/wards/W00/patients"
        exe = c_client()
        print("client: %s" % (exe or "Python threads (bench_http_get not built)"))
        if exe:
            kv = run_users_c(exe, s.http_port, tokens, api, 2.0, SECONDS)
            show_c("API ward list, 50 users every 2 s + ingest", kv)
            print("  ward list JSON for 30 beds: %s bytes" % kv["bytes"])
            c0 = cpu_s(s.proc.pid)
            kv = run_users_c(exe, s.http_port, tokens, api, 0, 10)
            show_c("API ward list, 50 users flat out + ingest", kv, True)
            print("  server CPU per ward list, flat out (ingest's share included): %.2f ms" %
                  ((cpu_s(s.proc.pid) - c0) * 1000 / max(1, int(kv["n"]))))
            show_c("ward page file, 50 users every 2 s + ingest",
                   run_users_c(exe, s.http_port, [None], "/ward", 2.0, min(SECONDS, 10)))
        else:
            lat, size = run_users(s.http_port, tokens, api, 2.0, SECONDS)
            show("API ward list, 50 users every 2 s + ingest", lat)
            print("  ward list JSON for 30 beds: %d bytes" % size)
            t = time.perf_counter()
            lat, _ = run_users(s.http_port, tokens, api, 0, 10)
            show("API ward list, 50 users flat out + ingest", lat, time.perf_counter() - t)
            lat, size = run_users(s.http_port, [None], "/ward", 2.0, min(SECONDS, 10))
            show("ward page file, 50 users every 2 s + ingest", lat)
        lat = sqlite_peer(s.db_path, 2.0, min(SECONDS, 10))
        show("peer: same rows from SQLite, 50 x every 2 s", lat)
        t = time.perf_counter()
        lat = sqlite_peer(s.db_path, 0, 5)
        show("peer: same rows from SQLite, 50 flat out", lat, time.perf_counter() - t)
        stop.set()
        ing.join()
        show("ingest ACK round trip at %d sets/s (client)" % RATE, acks)
        s.stop()
        print([x for x in s.log if "stop:" in x][-1][:240])
    print("load average at end: %.2f %.2f %.2f" % os.getloadavg())


main()
