#!/usr/bin/python3
"""featurize_pandas.py: vigil's feature set (docs/features.md, spec v1) for the
whole PhysioNet 2019 training data, computed with pandas: the named peer of
bench/bench_featurize.c. Vectorised the way a competent pandas user would
(one read_csv over all stays, grouped forward fills, rolling windows over
stays separated by NaN padding), processed in chunks of stays to bound memory.

It also checks agreement: with --compare FILE (the CSV written by
bench_featurize --sample-out) it compares every feature of the sampled stays
with its own values and exits 1 on any disagreement (NaN pattern, or a
difference above 1e-4 relative / 1e-4 absolute, float32 output).

usage: featurize_pandas.py [DATA_DIR] [--compare SAMPLE.csv] [--chunk N]
DATA_DIR defaults to $VIGIL_DATA_DIR, then ../shared/data.
"""
import argparse
import io
import os
import sys
import tarfile
import time

import numpy as np
import pandas as pd

COLS = ("HR|O2Sat|Temp|SBP|MAP|DBP|Resp|EtCO2|BaseExcess|HCO3|FiO2|pH|PaCO2|SaO2|AST|BUN|"
        "Alkalinephos|Calcium|Chloride|Creatinine|Bilirubin_direct|Glucose|Lactate|Magnesium|"
        "Phosphate|Potassium|Bilirubin_total|TroponinI|Hct|Hgb|PTT|WBC|Fibrinogen|Platelets|Age|"
        "Gender|Unit1|Unit2|HospAdmTime|ICULOS|SepsisLabel").split("|")

# 2019 column -> vigil variable name (include/vigil/vars.h)
VAR_OF_COL = dict(zip(COLS[:34], [
    "hr", "spo2", "temp", "sbp", "map", "dbp", "resp", "etco2", "base_excess", "hco3", "fio2",
    "ph", "paco2", "sao2", "ast", "bun", "alp", "calcium", "chloride", "creatinine",
    "bili_direct", "glucose", "lactate", "magnesium", "phosphate", "potassium", "bili_total",
    "troponin_i", "hct", "hgb", "ptt", "wbc", "fibrinogen", "platelets"]))

# Plausibility bounds, inclusive (src/core/vars.c, docs/data.md).
BOUNDS = {
    "hr": (10, 300), "spo2": (20, 100), "temp": (25, 45), "sbp": (30, 300), "map": (20, 300),
    "dbp": (10, 300), "resp": (0, 80), "etco2": (0, 150), "base_excess": (-50, 50),
    "hco3": (1, 70), "fio2": (0.20, 1.0), "ph": (6.5, 8.0), "paco2": (5, 250),
    "sao2": (10, 100), "ast": (1, 50000), "bun": (0, 300), "alp": (1, 10000),
    "calcium": (0.5, 30), "chloride": (50, 170), "creatinine": (0.05, 60),
    "bili_direct": (0, 80), "glucose": (5, 3000), "lactate": (0.1, 40),
    "magnesium": (0.2, 20), "phosphate": (0.1, 30), "potassium": (1, 15),
    "bili_total": (0, 80), "troponin_i": (0, 1000), "hct": (5, 80), "hgb": (1, 25),
    "ptt": (5, 300), "wbc": (0, 1000), "fibrinogen": (10, 2500), "platelets": (1, 3000),
}

VITALS = ["hr", "spo2", "temp", "sbp", "map", "dbp", "resp", "etco2"]
LABS = ["base_excess", "hco3", "fio2", "ph", "paco2", "sao2", "ast", "bun", "alp", "calcium",
        "chloride", "creatinine", "bili_direct", "glucose", "lactate", "magnesium",
        "phosphate", "potassium", "bili_total", "troponin_i", "hct", "hgb", "ptt", "wbc",
        "fibrinogen", "platelets", "gcs", "mechvent", "urine", "pao2", "albumin", "alt",
        "sodium", "cholesterol", "troponin_t", "weight"]
VITAL_STATS = ["last", "hsince", "miss", "d1", "d3", "d6", "slope6", "slope12", "min6", "max6",
               "mean6", "min24", "max24", "mean24", "n24", "minall", "maxall"]
LAB_STATS = ["last", "hsince", "miss", "dprev", "minall", "maxall"]
OTHERS = ["shock_index", "pulse_pressure", "spo2_fio2", "pao2_fio2", "bun_creatinine",
          "news2_total", "news2_rr", "news2_spo2", "news2_o2", "news2_sbp", "news2_hr",
          "news2_acvpu", "news2_temp", "news2_n_missing", "news2_complete", "news2_max24",
          "age", "sex", "hours_since_admit", "hours_since_first_record"]
NAMES = ([f"{v}_{s}" for v in VITALS for s in VITAL_STATS] +
         [f"{v}_{s}" for v in LABS for s in LAB_STATS] + OTHERS)
PAD = 24  # NaN rows before each stay: no window (<= 24 h) crosses two stays
NEWS2_MAX_AGE = 24


def read_all(data_dir):
    """Every stay's rows in one DataFrame (column 'stay' = file stem)."""
    bodies, stems, counts = [], [], []
    for arc in ("training_setA", "training_setB"):
        with tarfile.open(os.path.join(data_dir, "physionet2019", arc + ".tar.gz")) as t:
            for m in t:
                if not m.isfile():
                    continue
                b = t.extractfile(m).read()
                body = b[b.index(b"\n") + 1:]
                if body and not body.endswith(b"\n"):
                    body += b"\n"
                bodies.append(body)
                stems.append(os.path.basename(m.name).split(".")[0])
                counts.append(body.count(b"\n"))
    df = pd.read_csv(io.BytesIO(b"".join(bodies)), sep="|", header=None, names=COLS,
                     na_values=["NaN"], keep_default_na=False)
    df["stay"] = np.repeat(np.arange(len(stems)), counts)
    return df, stems, np.array(counts)


def round_int(v):
    return np.floor(v + 0.5 + 1e-9)


def band(v, edges, points):
    """points[i] where v <= edges[i] (first match), else points[-1]; NaN stays NaN."""
    out = np.full(v.shape, np.nan)
    ok = ~np.isnan(v)
    res = np.select([v <= e for e in edges], points[:-1], points[-1])
    out[ok] = res[ok]
    return out


def news2(recent):
    rr = band(round_int(recent["resp"]), [8, 11, 20, 24], [3, 1, 0, 2, 3])
    spo2 = band(round_int(recent["spo2"]), [91, 93, 95], [3, 2, 1, 0])
    sbp = band(round_int(recent["sbp"]), [90, 100, 110, 219], [3, 2, 1, 0, 3])
    hr = band(round_int(recent["hr"]), [40, 50, 90, 110, 130], [3, 1, 0, 1, 2, 3])
    temp = band(np.floor(recent["temp"] * 10 + 0.5 + 1e-9), [350, 360, 380, 390],
                [3, 1, 0, 1, 2])
    fio2 = recent["fio2"]
    o2 = np.where(np.isnan(fio2), np.nan, np.where(fio2 > 0.21, 2.0, 0.0))
    acvpu = np.full(rr.shape, np.nan)  # 2019 records no consciousness
    subs = np.vstack([rr, spo2, o2, sbp, hr, acvpu, temp])
    present = ~np.isnan(subs)
    n_present = present.sum(axis=0)
    total = np.where(n_present > 0, np.nansum(subs, axis=0), np.nan)
    return subs, total, 7 - n_present


def features_chunk(df, pos, n_rows):
    """Features of the rows of df (one chunk of whole stays, padded layout)."""
    n = n_rows
    stay = np.full(n, -1, dtype=np.int64)
    stay[pos] = df["stay"].to_numpy()
    # pad rows belong to the stay that follows them, so grouped fills stop there
    stay = pd.Series(stay).replace(-1, np.nan).bfill().to_numpy()
    t = np.full(n, np.nan)
    t[pos] = df["ICULOS"].to_numpy(dtype=float)
    ts = pd.Series(t)
    g_key = pd.Series(stay)
    out = {}
    last = {}
    hsince = {}

    def col(v):
        x = np.full(n, np.nan)
        src = [c for c, name in VAR_OF_COL.items() if name == v]
        if src:
            vals = df[src[0]].to_numpy(dtype=float)
            if v == "fio2":
                vals = np.where((vals >= 21) & (vals <= 100), vals / 100.0, vals)
            lo, hi = BOUNDS[v]
            vals = np.where((vals >= lo) & (vals <= hi), vals, np.nan)
            x[pos] = vals
        return pd.Series(x)

    for v in VITALS + LABS:
        x = col(v)
        have = x.notna()
        lst = x.groupby(g_key).ffill()
        tl = ts.where(have).groupby(g_key).ffill()
        hs = ts - tl
        last[v], hsince[v] = lst, hs
        out[f"{v}_last"] = lst
        out[f"{v}_hsince"] = hs
        out[f"{v}_miss"] = lst.isna().astype(float)
        out[f"{v}_minall"] = x.groupby(g_key).cummin().groupby(g_key).ffill()
        out[f"{v}_maxall"] = x.groupby(g_key).cummax().groupby(g_key).ffill()
        if v in VITALS:
            for k in (1, 3, 6):
                out[f"{v}_d{k}"] = lst - lst.shift(k)
            tm = ts.where(have)
            for w in (6, 12):
                r = dict(window=w, min_periods=2)
                mx, mt = x.rolling(**r).mean(), tm.rolling(**r).mean()
                cov = (tm * x).rolling(**r).mean() - mt * mx
                var = (tm * tm).rolling(**r).mean() - mt * mt
                out[f"{v}_slope{w}"] = cov / var.where(var > 1e-9)
            for w in (6, 24):
                rw = x.rolling(window=w, min_periods=1)
                out[f"{v}_min{w}"], out[f"{v}_max{w}"] = rw.min(), rw.max()
                out[f"{v}_mean{w}"] = rw.mean()
            out[f"{v}_n24"] = have.astype(float).rolling(window=24, min_periods=1).sum()
        else:
            xm = x[have]
            dp = xm.groupby(g_key[have]).diff()
            out[f"{v}_dprev"] = dp.reindex(x.index).groupby(g_key).ffill()

    def ratio(a, b):
        return a / b.where(b != 0)

    out["shock_index"] = ratio(last["hr"], last["sbp"])
    out["pulse_pressure"] = last["sbp"] - last["dbp"]
    out["spo2_fio2"] = ratio(last["spo2"], last["fio2"])
    out["pao2_fio2"] = ratio(last["pao2"], last["fio2"])
    out["bun_creatinine"] = ratio(last["bun"], last["creatinine"])
    recent = {v: last[v].where(hsince[v] < NEWS2_MAX_AGE).to_numpy()
              for v in ("resp", "spo2", "sbp", "hr", "temp", "fio2")}
    subs, total, n_missing = news2(recent)
    out["news2_total"] = pd.Series(total)
    for i, p in enumerate(["rr", "spo2", "o2", "sbp", "hr", "acvpu", "temp"]):
        out[f"news2_{p}"] = pd.Series(subs[i])
    out["news2_n_missing"] = pd.Series(n_missing.astype(float))
    out["news2_complete"] = pd.Series((n_missing == 0).astype(float))
    out["news2_max24"] = pd.Series(total).rolling(window=24, min_periods=1).max()
    age = np.full(n, np.nan)
    a = df["Age"].to_numpy(dtype=float)
    age[pos] = np.where(a >= 100, 90.0, a)
    out["age"] = pd.Series(age)
    sex = np.full(n, np.nan)
    sex[pos] = df["Gender"].to_numpy(dtype=float)
    out["sex"] = pd.Series(sex)
    out["hours_since_admit"] = ts
    first = ts.groupby(g_key).transform("min")
    out["hours_since_first_record"] = ts - first
    feats = pd.DataFrame({k: out[k].to_numpy(dtype=np.float32) for k in NAMES})
    return feats.iloc[pos].reset_index(drop=True)


def run(df, stems, counts, chunk, keep):
    """Features for every stay, chunk by chunk; returns (rows, checksum, kept)."""
    starts = np.concatenate([[0], np.cumsum(counts)])
    n_stays = len(counts)
    total_rows, checksum, kept = 0, 0, []
    for s0 in range(0, n_stays, chunk):
        s1 = min(n_stays, s0 + chunk)
        part = df.iloc[starts[s0]:starts[s1]]
        c = counts[s0:s1]
        # row j of stay i goes to position j + PAD * (i + 1) within the chunk
        offs = np.repeat(PAD * np.arange(1, s1 - s0 + 1) + np.concatenate([[0], np.cumsum(c)[:-1]]), c)
        pos = offs + (np.arange(len(part)) - np.repeat(np.concatenate([[0], np.cumsum(c)[:-1]]), c))
        n_rows = len(part) + PAD * (s1 - s0)
        feats = features_chunk(part.reset_index(drop=True), pos, n_rows)
        total_rows += len(feats)
        checksum += int(np.nan_to_num(feats.to_numpy(), nan=0.0).astype(np.float64).sum())
        if keep is not None:
            mask = part["stay"].isin(keep).to_numpy()
            if mask.any():
                head = pd.DataFrame({
                    "stay": [stems[i] for i in part["stay"].to_numpy()[mask]],
                    "hour": part["ICULOS"].to_numpy()[mask]})
                kept.append(pd.concat([head, feats[mask].reset_index(drop=True)], axis=1))
    return total_rows, checksum, (pd.concat(kept) if kept else None)


def compare(c_path, mine):
    c = pd.read_csv(c_path, na_values=["nan"], keep_default_na=False)
    c["hour"] = c["hour"].astype(int)
    mine = mine.copy()
    mine["hour"] = mine["hour"].astype(int)
    missing = [n for n in NAMES if n not in c.columns]
    if missing or list(c.columns[2:]) != NAMES:
        print(f"compare: feature names differ from the C specification: {missing[:5]}")
        return False
    m = c.merge(mine, on=["stay", "hour"], suffixes=("_c", "_pd"), how="inner")
    if len(m) != len(c) or len(m) != len(mine):
        print(f"compare: rows differ: C {len(c)}, pandas {len(mine)}, matched {len(m)}")
        return False
    bad_total, worst = 0, []
    for name in NAMES:
        a = m[name + "_c"].to_numpy(dtype=float)
        b = m[name + "_pd"].to_numpy(dtype=float)
        nan_diff = np.isnan(a) != np.isnan(b)
        both = ~np.isnan(a) & ~np.isnan(b)
        tol = 1e-4 + 1e-4 * np.abs(b)
        val_diff = both & (np.abs(a - b) > tol)
        bad = int(nan_diff.sum() + val_diff.sum())
        if bad:
            bad_total += bad
            i = int(np.argmax(nan_diff | val_diff))
            worst.append(f"{name}: {bad} rows differ (e.g. {m['stay'].iloc[i]} hour "
                         f"{m['hour'].iloc[i]}: C {a[i]!r} vs pandas {b[i]!r})")
    n_vals = len(m) * len(NAMES)
    print(f"compare: {len(m)} rows of {m['stay'].nunique()} stays x {len(NAMES)} features "
          f"= {n_vals} values; {bad_total} disagree")
    for w in worst[:20]:
        print("  " + w)
    return bad_total == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir", nargs="?",
                    default=os.environ.get("VIGIL_DATA_DIR", "../shared/data"))
    ap.add_argument("--compare")
    ap.add_argument("--chunk", type=int, default=5000)
    args = ap.parse_args()
    keep = None
    if args.compare:
        ids = pd.read_csv(args.compare, usecols=["stay"])["stay"].unique()
        keep = set(ids)
    t0, c0 = time.monotonic(), time.process_time()
    df, stems, counts = read_all(args.data_dir)
    t_load, c_load = time.monotonic() - t0, time.process_time() - c0
    keep_idx = None
    if keep is not None:
        keep_idx = [i for i, s in enumerate(stems) if s in keep]
    rows, checksum, kept = run(df, stems, counts, args.chunk, keep_idx)
    t_all, c_all = time.monotonic() - t0, time.process_time() - c0
    print(f"pandas {pd.__version__}: stays {len(stems)}, hourly rows {rows}, "
          f"{len(NAMES)} features")
    print(f"pandas load+parse:    wall {t_load:.2f} s, cpu {c_load:.2f} s")
    print(f"pandas load+features: wall {t_all:.2f} s, cpu {c_all:.2f} s "
          f"({rows / t_all:.0f} rows/s by wall)")
    print(f"RESULT pandas_wall={t_all:.3f} pandas_cpu={c_all:.3f} rows={rows}")
    if args.compare:
        ok = compare(args.compare, kept if kept is not None else pd.DataFrame())
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
