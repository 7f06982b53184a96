"""serve_load.py: a quick load against a fresh `vigil serve` (never gating).

    VIGIL_BIN=build/vigil /usr/bin/python3 bench/serve_load.py burst N K
        N full ORU^R01 messages pipelined over K MLLP connections: messages/s
    VIGIL_BIN=build/vigil /usr/bin/python3 bench/serve_load.py paced RATE SECONDS K
        RATE messages/s for SECONDS over K connections: ACK latency p50/p99/max

Prints the server's own stop summary (commits, largest group). The client is
Python on the same machine, so figures include its overhead; the proper
ingest/ACK bench against raw SQLite is bench/ (C).
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "server"))
from serve_util import Server, ack_fields, frame, oru  # noqa: E402

NHS = ["9990000018", "9990000026", "9990000034", "9990000042"]


def message(k, i):
    t = "202501%02d%02d%02d00+0000" % (1 + i // 1440, (i // 60) % 24, i % 60)
    return frame(oru("L%d-%d" % (k, i), nhs=NHS[(k + i) % 4], hr=60 + i % 40, t=t))


def burst(s, n, k):
    per = n // k
    msgs = [[message(c, i) for i in range(per)] for c in range(k)]
    conns = [s.mllp() for _ in range(k)]
    aa = [0] * k

    def run(c):
        conns[c].send(b"".join(msgs[c]))
        aa[c] = sum(ack_fields(conns[c].read_ack())[0] == "AA" for _ in range(per))

    t0 = time.perf_counter()
    th = [threading.Thread(target=run, args=(c,)) for c in range(k)]
    [t.start() for t in th]
    [t.join() for t in th]
    dt = time.perf_counter() - t0
    print("burst: %d messages over %d connection(s): %.0f messages/s, %d AA"
          % (per * k, k, per * k / dt, sum(aa)))


def paced(s, rate, secs, k):
    per = int(rate * secs / k)
    lat, lock = [], threading.Lock()

    def run(c):
        conn = s.mllp()
        msgs = [message(c, i) for i in range(per)]
        sent = [0.0] * per

        def reader():
            mine = []
            for i in range(per):
                conn.read_ack()
                mine.append(time.perf_counter() - sent[i])
            with lock:
                lat.extend(mine)

        r = threading.Thread(target=reader)
        r.start()
        t0 = time.perf_counter() + 0.1 + c / rate
        for i in range(per):
            due = t0 + i * k / rate
            while True:
                left = due - time.perf_counter()
                if left <= 0:
                    break
                time.sleep(min(left, 0.0005))
            sent[i] = time.perf_counter()
            conn.send(msgs[i])
        r.join()

    th = [threading.Thread(target=run, args=(c,)) for c in range(k)]
    [t.start() for t in th]
    [t.join() for t in th]
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1e3  # noqa: E731
    print("paced: %d messages at %d/s over %d connection(s): ACK p50 %.2f ms, p99 %.2f ms, "
          "max %.2f ms" % (len(lat), rate, k, q(0.5), q(0.99), lat[-1] * 1e3))


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "burst"
    with Server() as s:
        if mode == "burst":
            burst(s, int(sys.argv[2]) if len(sys.argv) > 2 else 8000,
                  int(sys.argv[3]) if len(sys.argv) > 3 else 4)
        else:
            paced(s, int(sys.argv[2]) if len(sys.argv) > 2 else 1000,
                  float(sys.argv[3]) if len(sys.argv) > 3 else 5,
                  int(sys.argv[4]) if len(sys.argv) > 4 else 4)
        s.stop()
        print("\n".join(line for line in s.log if "stop:" in line))
