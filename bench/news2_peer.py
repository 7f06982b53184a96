#!/usr/bin/env python3
"""news2_peer.py: the same RCP NEWS2 chart in plain Python, as a peer for
bench_news2 (same set mix, scores per second on one core)."""
import math, random, time

def rr(v):
    v = math.floor(v + 0.5)
    return 3 if v <= 8 else 1 if v <= 11 else 0 if v <= 20 else 2 if v <= 24 else 3

def spo2(v, scale, oxy):
    v = math.floor(v + 0.5)
    if scale == 1:
        return 3 if v <= 91 else 2 if v <= 93 else 1 if v <= 95 else 0
    if v <= 83: return 3
    if v <= 85: return 2
    if v <= 87: return 1
    if v <= 92 or not oxy: return 0
    return 1 if v <= 94 else 2 if v <= 96 else 3

def sbp(v):
    v = math.floor(v + 0.5)
    return 3 if v <= 90 else 2 if v <= 100 else 1 if v <= 110 else 0 if v <= 219 else 3

def hr(v):
    v = math.floor(v + 0.5)
    return 3 if v <= 40 else 1 if v <= 50 else 0 if v <= 90 else 1 if v <= 110 else 2 if v <= 130 else 3

def temp(v):
    t = math.floor(v * 10 + 0.5 + 1e-9)
    return 3 if t <= 350 else 1 if t <= 360 else 0 if t <= 380 else 1 if t <= 390 else 2

def score(s):
    r, sp, scale, oxy, bp, h, conf, t = s
    subs = [rr(r), spo2(sp, scale, oxy), 2 if oxy else 0,
            None if bp is None else sbp(bp), hr(h), 3 if conf else 0, temp(t)]
    total = sum(x for x in subs if x is not None)
    single = any(x == 3 for x in subs)
    risk = 'high' if total >= 7 else 'medium' if total >= 5 else 'low-medium' if single else 'low'
    return total, risk

random.seed(42)
N = 200000
sets = [(random.randint(6, 34), random.randint(82, 99), 2 if random.random() < .1 else 1,
         random.random() < .25, None if random.random() < .05 else random.randint(70, 229),
         random.randint(35, 149), random.random() < .125, random.randint(340, 401) / 10)
        for _ in range(N)]
times = []
for _ in range(3):
    t0 = time.perf_counter()
    for s in sets:
        score(s)
    times.append(time.perf_counter() - t0)
times.sort()
print(f"news2_peer (python {'.'.join(map(str, __import__('sys').version_info[:3]))}): "
      f"{N/times[1]:.0f} scores/s on one core")
print(f"news2_peer_scores_per_s={N/times[1]:.0f}")
