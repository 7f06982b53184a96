"""soak.py: issue 12's soak. A fresh `vigil serve` (default limits) on loopback takes honest
HL7 at 1,000 msgs/s while 50 signed-in web users poll their ward list every 2 s and hostile
clients run findings 1-3 and 6-9 the whole time. Never gating (not in `make check`).

    VIGIL_BIN=build/vigil python3 bench/soak.py [--minutes 10]
    VIGIL_BIN=build/vigil python3 bench/soak.py --minutes 1      # the quick run
    VIGIL_BIN=build/vigil python3 bench/soak.py --hostile-nice 19  # attackers as if remote

Who runs (honest, web and hostile each in its own process, so they do not share one GIL; the
hostile clients are threads of the third):
  honest   one MLLP connection from 127.0.0.1: ORU^R01 with a full NEWS2 set, paced at
           1,000/s and pipelined (a reader takes the ACKs); 1,020 admitted patients on 34
           wards; each message's send-to-ACK time is measured by the client.
  web      50 nurses (each its own keep-alive connection from 127.0.1.N) GET their ward list
           (/api/wards/Wxx/patients, 30 beds) every 2 s.
  hostile  from other loopback addresses (the server sees each as a different peer):
    f1  127.0.0.2  ORU^R01 with 12,000 PID-3 repetitions (240 KB) and 5,000, one a second
    f2  127.0.0.4  pipelines ORU^R01 flat out and never reads an ACK; reconnects when closed
    f3  127.0.0.3  holds 64 idle MLLP connections, reopening each one closed
    f6  127.0.0.6  locks user 'victim' (5 bad passwords), then tries the right password every
                   20 s; 127.0.0.7 floods junk sign-ins (fresh usernames) to evict the lock
    f7  127.0.0.8  user 'flooder' signs in again and again (session flooding)
    f8  127.0.0.10-13  60 concurrent bad sign-ins (each waits 0.5 s after an answer, so the
                   Python client does not take a core of the 2-core machine)
    f9  127.0.0.9  64 slowloris HTTP connections (a header line every 10 s), reopened
Figures: the server's RSS (VmRSS) before the load, 30 s in, every minute, at the end; the honest
sender's ACK p50/p99/max and the rate it kept; acknowledged sets lost (every AA control id
looked up in obs_set after a clean stop); the web users' answers and p99; what each hostile
client saw; the server's /metrics refusal counters. Each target printed met or missed:
RSS flat (every sample from 30 s on within 10% of the 30 s sample), honest p99 ACK <= 10 ms,
0 acknowledged sets lost. The clients run on the same (shared) machine: say its load with the
figures.
"""
import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "server"))
from serve_util import (PASSWORD, SB, EB, CR, Server, ack_fields, adt, frame,  # noqa: E402
                        oru)

WARDS, BEDS, USERS, RATE = 34, 30, 50, 1000
BASE_T = int(time.time()) - 9 * 86400  # observation times: one second apart from here


def nhs_numbers(n):
    out, k = [], 0
    while len(out) < n:
        k += 1
        body = "998%06d" % k
        s = sum(int(d) * (10 - i) for i, d in enumerate(body))
        c = 11 - s % 11
        c = 0 if c == 11 else c
        if c != 10:
            out.append(body + str(c))
    return out


def ts(t):
    return time.strftime("%Y%m%d%H%M%S+0000", time.gmtime(t))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))] if xs else float("nan")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def mllp_from(src, port, timeout=30):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def read_acks(sock, on_ack, stop=None):
    """Call on_ack(ack bytes) for each ACK until the connection ends."""
    buf = b""
    while stop is None or not stop.is_set():
        try:
            d = sock.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            return
        if not d:
            return
        buf += d
        while True:
            i = buf.find(SB)
            j = buf.find(EB + CR, i + 1) if i >= 0 else -1
            if i < 0 or j < 0:
                break
            on_ack(buf[i + 1:j])
            buf = buf[j + 2:]


def http_json(port, method, path, body=None, token=None, src="127.0.0.1", timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(src, 0))
    h = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        h["Authorization"] = "Bearer " + token
    try:
        c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
        r = c.getresponse()
        text = r.read()
        return r.status, (json.loads(text) if text else None)
    finally:
        c.close()


# ---- the honest sender --------------------------------------------------------------------

def honest(port, nhs, secs, out_path):
    sock = mllp_from("127.0.0.1", port)
    sock.settimeout(1.0)
    sent_at, lat, aa, other = {}, [], [], []
    lock = threading.Lock()
    done = threading.Event()

    def on_ack(a):
        now = time.perf_counter()
        code, ctrl, _ = ack_fields(a)
        with lock:
            t = sent_at.pop(ctrl, None)
        if t is not None:
            lat.append((now - t) * 1000.0)
        (aa if code == "AA" else other).append((ctrl, code))

    rd = threading.Thread(target=read_acks, args=(sock, on_ack, done))
    rd.start()
    t0 = time.perf_counter()
    i = 0
    while True:
        now = time.perf_counter()
        if now - t0 >= secs:
            break
        due = t0 + i / RATE
        if due > now:
            time.sleep(due - now)
        ctrl = "SOAK-H%07d" % i
        k = i % len(nhs)
        msg = frame(oru(ctrl, nhs=nhs[k], t=ts(BASE_T + i), hr=60 + i % 30, rr=12 + i % 8))
        with lock:
            sent_at[ctrl] = time.perf_counter()
        sock.sendall(msg)
        i += 1
    sent_secs = time.perf_counter() - t0
    deadline = time.time() + 30
    while time.time() < deadline:
        with lock:
            if not sent_at:
                break
        time.sleep(0.05)
    done.set()
    rd.join()
    sock.close()
    with open(out_path, "w") as f:
        json.dump({"sent": i, "secs": sent_secs, "lat": lat, "aa": [c for c, _ in aa],
                   "other": other[:20], "n_other": len(other), "unanswered": len(sent_at)}, f)


# ---- the web users ------------------------------------------------------------------------

def web_users(port, tokens, secs, out_path):
    res = []
    lock = threading.Lock()
    until = time.perf_counter() + secs

    def user(k):
        src = "127.0.1.%d" % (k + 1)
        path = "/api/wards/W%02d/patients" % (k % WARDS)
        c = None
        nxt = time.perf_counter()
        while time.perf_counter() < until:
            nxt += 2.0
            t = time.perf_counter()
            try:
                if c is None:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30,
                                                   source_address=(src, 0))
                c.request("GET", path, headers={"Authorization": "Bearer " + tokens[k]})
                r = c.getresponse()
                r.read()
                st = r.status
            except (OSError, http.client.HTTPException):
                st = -1
                c = None
            with lock:
                res.append(((time.perf_counter() - t) * 1000.0, st))
            time.sleep(max(0.0, nxt - time.perf_counter()))
        if c is not None:
            c.close()

    th = [threading.Thread(target=user, args=(k,)) for k in range(USERS)]
    for t in th:
        t.start()
        time.sleep(2.0 / USERS)
    for t in th:
        t.join()
    with open(out_path, "w") as f:
        json.dump(res, f)


# ---- the hostile clients ------------------------------------------------------------------

def big_reps(n, ctrl):
    rep = "~".join("%06d^^^RX1^MR" % k for k in range(n))
    return ("MSH|^~\\&|EOBS|RX1|VIGIL|RX1|%s||ORU^R01^ORU_R01|%s|P|2.5.1\r"
            "PID|1||%s||TESTPATIENT^X||19540312|F\r"
            "OBR|1||OBS|86290005^Vital signs^SCT|||%s\r"
            "OBX|1|NM|8867-4^Heart rate^LN||72|/min^/min^UCUM|||||F|||%s\r"
            % (ts(BASE_T), ctrl, rep, ts(BASE_T), ts(BASE_T))).encode()


def f1_reps(port, until, st):
    msgs = [frame(big_reps(12000, "REPS-BIG")), frame(big_reps(5000, "REPS-MID"))]
    k = 0
    while time.time() < until:
        try:
            s = mllp_from("127.0.0.2", port, timeout=30)
            while time.time() < until:
                t = time.perf_counter()
                s.sendall(msgs[k % 2])
                got = []
                buf = b""
                while not got:
                    d = s.recv(65536)
                    if not d:
                        raise OSError("closed")
                    buf += d
                    if EB + CR in buf:
                        got.append(ack_fields(buf[buf.find(SB) + 1:buf.find(EB + CR)]))
                st["f1_" + got[0][0]] = st.get("f1_" + got[0][0], 0) + 1
                st["f1_max_ms"] = max(st.get("f1_max_ms", 0), (time.perf_counter() - t) * 1000)
                k += 1
                time.sleep(1.0)
            s.close()
        except OSError:
            st["f1_closed"] = st.get("f1_closed", 0) + 1
            time.sleep(1.0)


def f2_pipeline(port, until, st):
    i = 0
    while time.time() < until:
        try:
            s = mllp_from("127.0.0.4", port, timeout=2)
            st["f2_connections"] = st.get("f2_connections", 0) + 1
            while time.time() < until:
                batch = b"".join(frame(oru("PIPE-%d" % (i + j), nhs=None,
                                           mrn="PL%03d" % ((i + j) % 200),
                                           t=ts(BASE_T + (i + j) * 3)))
                                 for j in range(50))
                try:
                    s.sendall(batch)
                    i += 50
                    st["f2_sent"] = i
                except socket.timeout:
                    st["f2_blocked"] = st.get("f2_blocked", 0) + 1  # backpressure
                    time.sleep(1.0)
        except OSError:
            st["f2_closed"] = st.get("f2_closed", 0) + 1
            time.sleep(1.0)


def f3_hoard(port, until, st):
    conns = []
    while time.time() < until:
        live = []
        for s in conns:
            try:
                s.setblocking(False)
                d = s.recv(1)
                if d == b"":
                    s.close()
                    st["f3_closed"] = st.get("f3_closed", 0) + 1
                    continue
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                st["f3_closed"] = st.get("f3_closed", 0) + 1
                continue
            live.append(s)
        conns = live
        st["f3_held_max"] = max(st.get("f3_held_max", 0), len(conns))  # open a second or more
        while len(conns) < 64:
            try:
                conns.append(mllp_from("127.0.0.3", port, timeout=5))
                st["f3_opened"] = st.get("f3_opened", 0) + 1
            except OSError:
                break
        time.sleep(1.0)
    for s in conns:
        s.close()


def f6_throttle(port, until, st):
    # lock victim|127.0.0.6: wrong passwords until the throttle answers 429 (a 503, sign-in
    # busy, is not a failure: try again)
    while time.time() < until:
        try:
            code, _ = http_json(port, "POST", "/api/login",
                                {"username": "victim", "password": "bad"}, src="127.0.0.6")
        except OSError:
            code = -1
        st["f6_lock_" + str(code)] = st.get("f6_lock_" + str(code), 0) + 1
        if code == 429:
            break
        time.sleep(0.2 if code == 503 else 0.0)
    stop = threading.Event()

    def junk():
        while not stop.is_set():
            try:
                code, _ = http_json(port, "POST", "/api/login",
                                    {"username": "junk%08d" % random.randrange(10 ** 8),
                                     "password": "x"}, src="127.0.0.7")
                st["f6_junk_" + str(code)] = st.get("f6_junk_" + str(code), 0) + 1
            except OSError:
                code = -1
                st["f6_junk_err"] = st.get("f6_junk_err", 0) + 1
            if code == 503:
                time.sleep(0.05)

    jt = threading.Thread(target=junk)
    jt.start()
    while time.time() < until:
        time.sleep(min(20.0, max(0.0, until - time.time() - 1.0)))
        try:
            code, _ = http_json(port, "POST", "/api/login",
                                {"username": "victim", "password": PASSWORD}, src="127.0.0.6")
        except OSError:
            code = -1
        st["f6_victim_" + str(code)] = st.get("f6_victim_" + str(code), 0) + 1
    stop.set()
    jt.join()


def f7_sessions(port, until, st):
    while time.time() < until:
        try:
            code, _ = http_json(port, "POST", "/api/login",
                                {"username": "flooder", "password": PASSWORD}, src="127.0.0.8")
        except OSError:
            code = -1
        st["f7_" + str(code)] = st.get("f7_" + str(code), 0) + 1
        if code == 503:
            time.sleep(0.05)


def f8_bad_signins(port, until, st):
    lock = threading.Lock()

    def one(k):
        while time.time() < until:
            try:
                code, _ = http_json(port, "POST", "/api/login",
                                    {"username": "nurse%02d" % (k % 10), "password": "wrong"},
                                    src="127.0.0.%d" % (10 + k % 4))
            except OSError:
                code = -1
            with lock:
                st["f8_" + str(code)] = st.get("f8_" + str(code), 0) + 1
            time.sleep(0.5)

    th = [threading.Thread(target=one, args=(k,)) for k in range(60)]
    [t.start() for t in th]
    [t.join() for t in th]


def f9_slowloris(port, until, st):
    conns = []
    last = 0.0
    while time.time() < until:
        while len(conns) < 64:
            try:
                s = socket.socket()
                s.settimeout(5)
                s.bind(("127.0.0.9", 0))
                s.connect(("127.0.0.1", port))
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
                conns.append(s)
                st["f9_opened"] = st.get("f9_opened", 0) + 1
            except OSError:
                st["f9_refused"] = st.get("f9_refused", 0) + 1
                break
        if time.time() - last >= 10:
            last = time.time()
            live = []
            for s in conns:
                try:
                    s.sendall(b"X-a: b\r\n")
                    live.append(s)
                except OSError:
                    s.close()
                    st["f9_closed"] = st.get("f9_closed", 0) + 1
            conns = live
        time.sleep(1.0)
    for s in conns:
        s.close()


# ---- set-up, the run, the figures ---------------------------------------------------------

def setup(s, nhs):
    c = s.mllp()
    msgs = []
    for i, n in enumerate(nhs):
        msgs.append(frame(adt("SOAK-A%d" % i, "A01", n, "W%02d" % (i // BEDS),
                              bed="BED%02d" % (i % BEDS))))
    for i in range(0, len(msgs), 200):
        c.send(b"".join(msgs[i:i + 200]))
        for _ in msgs[i:i + 200]:
            a = c.read_ack()
            assert a is not None and ack_fields(a)[0] == "AA", a
    c.close()


def metrics(s):
    st, text, _ = s.http("GET", "/metrics", token=s.admin_token())
    out = {}
    for line in (text or "").splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--no-hostile", action="store_true",
                    help="the control: honest sender and web users only")
    ap.add_argument("--hostile-nice", type=int, default=0,
                    help="run the hostile clients' process at this nice value (19: they take "
                    "the CPU only when vigil and the honest clients leave it, as an attacker on "
                    "another host would; what each still sent is reported)")
    ap.add_argument("--only", default="",
                    help="comma-separated hostile clients to run (f1,f2,f3,f6,f7,f8,f9; default "
                    "all): to find which one costs the honest sender its latency")
    ap.add_argument("--serve-args", default="",
                    help="more `vigil serve` options, space-separated (e.g. "
                    "\"--mllp-ack-backlog 64\"): the soak at other limits than the defaults")
    o = ap.parse_args()
    secs = o.minutes * 60.0
    nhs = nhs_numbers(WARDS * BEDS)
    tmp = tempfile.TemporaryDirectory(prefix="vigil-soak-")
    with Server(o.serve_args.split()) as s:
        pid = s.proc.pid
        t = time.perf_counter()
        setup(s, nhs)
        tokens = [s.add_user("nurse%02d" % k, "nurse", ["W%02d" % (k % WARDS)])
                  for k in range(USERS)]
        s.add_user("victim", "nurse", ["W00"])
        s.add_user("flooder", "nurse", ["W01"])
        print("set-up: %d patients admitted on %d wards, %d users (%.1f s)" %
              (len(nhs), WARDS, USERS + 2, time.perf_counter() - t))
        rss = [("before the load", rss_kib(pid))]
        paths = {k: os.path.join(tmp.name, k + ".json") for k in ("honest", "web", "hostile")}
        ctx = mp.get_context("fork")
        procs = [ctx.Process(target=honest, args=(s.mllp_port, nhs, secs, paths["honest"])),
                 ctx.Process(target=web_users, args=(s.http_port, tokens, secs, paths["web"])),
                 ctx.Process(target=hostile_both, args=(s.mllp_port, s.http_port,
                                                        0 if o.no_hostile else secs,
                                                        paths["hostile"], o.hostile_nice,
                                                        o.only))]
        t0 = time.time()
        for p in procs:
            p.start()
        marks = [30.0] + [60.0 * m for m in range(1, int(o.minutes) + 1) if 60.0 * m < secs]
        load = []
        for m in marks:
            time.sleep(max(0.0, t0 + m - time.time()))
            r = rss_kib(pid)
            rss.append(("%4.1f min" % (m / 60.0), r))
            try:
                load.append(os.getloadavg()[0])
            except OSError:
                pass
            print("  %5.1f min: RSS %.1f MiB, load %.2f" % (m / 60.0, r / 1024.0,
                                                             os.getloadavg()[0]), flush=True)
        for p in procs:
            p.join()
        rss.append(("end of the load", rss_kib(pid)))
        mx = metrics(s)
        rc = s.stop()
        h = json.load(open(paths["honest"]))
        web = json.load(open(paths["web"]))
        st = json.load(open(paths["hostile"]))
        con = s.db()
        stored = {r[0] for r in con.execute(
            "SELECT source_id FROM obs_set WHERE source_id LIKE 'SOAK-H%'")}
        con.close()

    lost = [c for c in h["aa"] if c not in stored]
    lat = h["lat"]
    print("\nserver stopped (exit %d); machine load average during the run: %s" %
          (rc, ", ".join("%.1f" % x for x in load)))
    print("RSS (VmRSS): " + "; ".join("%s %.1f MiB" % (k, v / 1024.0) for k, v in rss))
    base = rss[1][1]
    later = [v for _, v in rss[1:]]
    spread = max(abs(v - base) / base for v in later) if base > 0 else float("nan")
    print("honest sender: %d sent in %.0f s (%.0f/s), %d AA, %d other, %d unanswered" %
          (h["sent"], h["secs"], h["sent"] / h["secs"], len(h["aa"]), h["n_other"],
           h["unanswered"]))
    if h["other"]:
        print("  not AA (first): %s" % h["other"][:3])
    print("honest ACK round trip (client): p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.1f ms"
          % (pct(lat, 50), pct(lat, 99), pct(lat, 99.9), max(lat) if lat else float("nan")))
    print("server ACK latency (every connection, /metrics): p50 %.2f ms, p99 %.2f ms, max %.1f ms"
          % (1000 * mx.get('vigil_hl7_ack_latency_seconds{quantile="0.5"}', float("nan")),
             1000 * mx.get('vigil_hl7_ack_latency_seconds{quantile="0.99"}', float("nan")),
             1000 * mx.get('vigil_hl7_ack_latency_seconds{quantile="1"}', float("nan"))))
    codes = {}
    for _, c in web:
        codes[c] = codes.get(c, 0) + 1
    print("web users: %d ward-list requests, answers %s, p50 %.1f ms, p99 %.1f ms" %
          (len(web), codes, pct([x[0] for x in web], 50), pct([x[0] for x in web], 99)))
    print("hostile clients saw: %s" % json.dumps(st, sort_keys=True))
    print("server refusals: %s" % {k: int(v) for k, v in mx.items()
                                    if ("refused" in k or "closed" in k or "backpressure" in k
                                        or "signin" in k or "denied" in k) and v})
    print("\ntargets:")
    targets = [
        ("RSS flat within 10%% (from 30 s on, vs the 30 s sample: %.1f%%)" % (100 * spread),
         spread <= 0.10),
        ("honest p99 ACK <= 10 ms (%.2f ms)" % pct(lat, 99), pct(lat, 99) <= 10.0),
        ("0 acknowledged sets lost (%d of %d)" % (len(lost), len(h["aa"])), not lost),
        ("honest rate kept >= 99%% of 1,000/s (%.0f/s)" % (h["sent"] / h["secs"]),
         h["sent"] / h["secs"] >= 990),
        ("web users never signed out or refused (%d not 200)" %
         sum(v for k, v in codes.items() if k != 200), all(k == 200 for k in codes)),
        ("locked user stays locked through the junk flood (right password: %d x 429, %d x 200)"
         % (st.get("f6_victim_429", 0), st.get("f6_victim_200", 0)),
         st.get("f6_victim_200", 0) == 0 and st.get("f6_victim_429", 0) > 0),
    ]
    if o.no_hostile:
        targets = targets[:-1]
        print("  (the control run: no hostile clients)")
    elif o.hostile_nice:
        print("  (the hostile clients ran at nice %d: see what they sent above)" % o.hostile_nice)
    for what, ok in targets:
        print("  %-6s %s" % ("met" if ok else "MISSED", what))
    if lost:
        print("lost (first 10): %s" % lost[:10])


def hostile_both(mllp_port, http_port, secs, out_path, nice=0, only=""):
    """The hostile clients: MLLP ones on mllp_port, HTTP ones on http_port (only: the
    comma-separated names of those to run, all when empty)."""
    if nice:
        os.nice(nice)
    until = time.time() + secs
    st = {}
    pick = set(x.strip() for x in only.split(",") if x.strip())

    def chosen(f):
        return not pick or f.__name__.split("_")[0] in pick
    th = [threading.Thread(target=f, args=(mllp_port, until, st), daemon=True)
          for f in (f1_reps, f2_pipeline, f3_hoard) if chosen(f)]
    th += [threading.Thread(target=f, args=(http_port, until, st), daemon=True)
           for f in (f6_throttle, f7_sessions, f8_bad_signins, f9_slowloris) if chosen(f)]
    [t.start() for t in th]
    for t in th:
        t.join(max(1.0, until - time.time() + 60))
    with open(out_path, "w") as f:
        json.dump(st, f, sort_keys=True)


if __name__ == "__main__":
    main()
