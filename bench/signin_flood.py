"""signin_flood.py: 60 concurrent bad sign-ins against a fresh `vigil serve`
on loopback, and how long GET /health takes meanwhile (issue 12 finding 8).
A figure, never a gate. Usage (from the source tree, after `make build`):

    VIGIL_BIN=build/vigil python3 bench/signin_flood.py [N]
"""
import http.client
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "server"))
from serve_util import Server  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 60
with Server() as s:
    res = []

    def bad():
        c = http.client.HTTPConnection("127.0.0.1", s.http_port, timeout=60)
        c.request("POST", "/api/login", body=json.dumps({"username": "admin", "password": "no"}),
                  headers={"Content-Type": "application/json"})
        res.append(c.getresponse().status)
        c.close()

    ts = [threading.Thread(target=bad) for _ in range(N)]
    for t in ts:
        t.start()
    t0 = time.time()
    st, _, _ = s.http("GET", "/health")
    dt = time.time() - t0
    for t in ts:
        t.join()
    print("GET /health during %d concurrent bad sign-ins: %d in %.3f s; sign-in answers %s" %
          (N, st, dt, {k: res.count(k) for k in sorted(set(res))}))
