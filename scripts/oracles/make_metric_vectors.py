#!/usr/bin/python3
"""make_metric_vectors.py: the oracle for vigil's evaluation metrics (src/eval).

Generates test vectors (inputs) and computes the expected outputs with
implementations that share no code with vigil's C:

  - scikit-learn 1.2: roc_auc_score, average_precision_score,
    brier_score_loss, confusion_matrix, LogisticRegression(penalty=None)
    (calibration slope);
  - small numpy implementations written here from the published definitions:
    DeLong et al. 1988 variance of the AUC (the O(m*n) structural components,
    not the fast midrank form vigil uses), calibration-in-the-large (Newton
    fit of y ~ a + offset(logit p)), expected calibration error, alert
    episodes and lead time (pandas), a brute-force threshold search;
  - the PhysioNet/CinC 2019 utility: a transcription of the logic of
    compute_prediction_utility() and the normalisation in
    evaluate_sepsis_score() of the official scorer
    (github.com/physionetchallenges/evaluation-2019, evaluate_sepsis_score.py).

Writes tests/golden/eval/*.json. Deterministic (fixed seeds). Run it with
Debian's Python:  /usr/bin/python3 scripts/oracles/make_metric_vectors.py
tests/eval/test_oracle.py re-runs build_all() and checks the committed files.
"""
import json
import math
import os
import sys
import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (average_precision_score, brier_score_loss,
                             confusion_matrix, roc_auc_score)

Z975 = 1.959963984540054  # standard normal 0.975 quantile
CLIP = 1e-15
MIN_CLASS = 10            # subgroup reliability: at least this many of each class

# ---------------------------------------------------------------- generators


def vec_continuous():
    rng = np.random.RandomState(20190101)
    n = 300
    y = (rng.uniform(size=n) < 0.3).astype(int)
    z = rng.normal(size=n) + 1.2 * y - 0.8
    p = 1.0 / (1.0 + np.exp(-z))
    return "continuous", p, p, y


def vec_news2_ties():
    rng = np.random.RandomState(2017)
    n = 500
    y = (rng.uniform(size=n) < 0.2).astype(int)
    lam = np.where(y == 1, 5.0, 2.0)
    s = np.minimum(rng.poisson(lam), 20).astype(float)
    # a fixed logistic map of the integer score gives tied probabilities
    p = 1.0 / (1.0 + np.exp(-(s - 6.0) / 2.0))
    return "news2_ties", s, p, y


def vec_imbalanced():
    rng = np.random.RandomState(4242)
    n = 3000
    age = rng.uniform(16, 98, size=n)
    risk = -4.2 + 0.03 * (age - 60) + rng.normal(size=n) * 0.6
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-risk))).astype(int)
    # an over-confident model: logit stretched and shifted, rounded to 3 dp (ties)
    lin = 1.5 * (risk + 0.8 * rng.normal(size=n)) + 1.0
    p = np.clip(np.round(1.0 / (1.0 + np.exp(-lin)), 3), 0.001, 0.999)
    return "imbalanced", p, p, y, age


def tiny_vectors():
    return [
        # the scikit-learn documentation example
        ("tiny_sklearn_doc", [0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]),
        # ties across classes at two levels
        ("tiny_ties", [0.2, 0.2, 0.6, 0.6, 0.6, 0.9], [0, 1, 0, 1, 1, 0]),
        # one positive: AUROC defined, DeLong variance is not
        ("tiny_one_positive", [0.3, 0.1, 0.7, 0.5, 0.2], [0, 0, 1, 0, 0]),
        # perfectly separated: AUROC 1, calibration slope does not exist
        ("tiny_separated", [0.05, 0.1, 0.2, 0.8, 0.9, 0.95], [0, 0, 0, 1, 1, 1]),
        # reversed: AUROC 0
        ("tiny_reversed", [0.9, 0.8, 0.7, 0.1, 0.2], [0, 0, 0, 1, 1]),
        # probabilities exactly at bin edges, 0 and 1
        ("tiny_bin_edges", [0.0, 0.1, 0.3, 0.5, 0.7, 0.7, 0.9, 1.0, 0.6, 0.2],
         [0, 0, 1, 0, 1, 0, 1, 1, 0, 1]),
    ]

# ------------------------------------------------------------------ oracles


def delong_paper(score, y):
    """DeLong, DeLong & Clarke-Pearson 1988: structural components
    V10(X_i) = mean_j psi(X_i, Y_j), V01(Y_j) = mean_i psi(X_i, Y_j),
    psi = 1, 1/2, 0 for X > Y, X = Y, X < Y. Var = S10/m + S01/n."""
    x = score[y == 1]
    z = score[y == 0]
    m, n = len(x), len(z)
    psi = (x[:, None] > z[None, :]).astype(float) + 0.5 * (x[:, None] == z[None, :])
    auc = psi.mean()
    if m < 2 or n < 2:
        return auc, None
    v10 = psi.mean(axis=1)
    v01 = psi.mean(axis=0)
    s10 = np.sum((v10 - auc) ** 2) / (m - 1)
    s01 = np.sum((v01 - auc) ** 2) / (n - 1)
    var = s10 / m + s01 / n
    se = math.sqrt(var)
    return auc, {"var": var, "se": se, "lo": max(0.0, auc - Z975 * se),
                 "hi": min(1.0, auc + Z975 * se)}


def logit(p):
    q = np.clip(p, CLIP, 1 - CLIP)
    return np.log(q / (1 - q))


def citl_newton(p, y):
    """a in y ~ a + offset(logit p): one-parameter Newton on the log likelihood."""
    off = logit(p)
    a = 0.0
    for _ in range(200):
        mu = 1 / (1 + np.exp(-(a + off)))
        step = np.sum(y - mu) / np.sum(mu * (1 - mu))
        a += step
        if abs(step) < 1e-14:
            break
    return a


def slope_newton(p, y):
    """(a, b) in y ~ a + b logit(p) by Newton-Raphson; a cross-check of sklearn."""
    X = np.column_stack([np.ones(len(p)), logit(p)])
    beta = np.zeros(2)
    for _ in range(200):
        mu = 1 / (1 + np.exp(-X @ beta))
        g = X.T @ (y - mu)
        H = (X * (mu * (1 - mu))[:, None]).T @ X
        step = np.linalg.solve(H, g)
        beta += step
        if np.max(np.abs(step)) < 1e-14:
            break
    return beta


def slope_sklearn(p, y):
    lr = LogisticRegression(penalty=None, solver="newton-cholesky", tol=1e-14, max_iter=1000)
    lr.fit(logit(p).reshape(-1, 1), y)
    return float(lr.intercept_[0]), float(lr.coef_[0, 0])


def ece_bins(p, y, n_bins):
    """Equal-width bins on [0, 1]: bin = min(floor(p * B), B - 1)."""
    idx = np.minimum(np.floor(p * n_bins).astype(int), n_bins - 1)
    bins = []
    ece = 0.0
    for b in range(n_bins):
        sel = idx == b
        cnt = int(sel.sum())
        if cnt:
            mp, ob = float(p[sel].mean()), float(y[sel].mean())
            ece += cnt / len(p) * abs(ob - mp)
        else:
            mp, ob = 0.0, 0.0
        bins.append({"n": cnt, "mean_pred": mp, "obs_rate": ob})
    return ece, bins


def at_threshold(score, y, thr):
    pred = (score >= thr).astype(int)
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    out = {"threshold": float(thr), "tp": int(tp), "fp": int(fp), "tn": int(tn), "fn": int(fn)}
    out["sens"] = tp / (tp + fn) if tp + fn else None
    out["spec"] = tn / (tn + fp) if tn + fp else None
    out["ppv"] = tp / (tp + fp) if tp + fp else None
    out["npv"] = tn / (tn + fn) if tn + fn else None
    return out


def threshold_for_sens(score, y, target):
    """Brute force: every distinct score is a candidate; keep those meeting the
    target and choose the one with the fewest alerts (the highest)."""
    best = None
    for t in np.unique(score):
        r = at_threshold(score, y, t)
        if r["sens"] >= target and (best is None or r["tp"] + r["fp"] < best["tp"] + best["fp"]):
            best = r
    return best


def challenge2012(pred, y):
    tp = int(np.sum((pred == 1) & (y == 1)))
    fp = int(np.sum((pred == 1) & (y == 0)))
    fn = int(np.sum((pred == 0) & (y == 1)))
    se = tp / (tp + fn)
    ppv = tp / (tp + fp) if tp + fp else None
    return {"tp": tp, "fp": fp, "fn": fn, "se": se, "ppv": ppv,
            "score1": min(se, ppv) if ppv is not None else 0.0}


def binary_metrics(name, score, prob, y, thresholds, sens_targets, ece_nbins=(10,)):
    score = np.asarray(score, dtype=float)
    prob = np.asarray(prob, dtype=float)
    y = np.asarray(y, dtype=int)
    exp = {"n": len(y), "n_pos": int(y.sum())}
    exp["auroc"] = float(roc_auc_score(y, score))
    auc_paper, ci = delong_paper(score, y)
    assert abs(auc_paper - exp["auroc"]) < 1e-12, (name, auc_paper, exp["auroc"])
    exp["delong"] = ci
    exp["auprc"] = float(average_precision_score(y, score))
    exp["brier"] = float(brier_score_loss(y, prob))
    exp["citl"] = float(citl_newton(prob, y))
    sep = (prob[y == 1].min() > prob[y == 0].max()) or (prob[y == 1].max() < prob[y == 0].min())
    if sep:
        exp["slope"] = None  # complete separation: the MLE does not exist
    else:
        a, b = slope_sklearn(prob, y)
        na, nb = slope_newton(prob, y)
        assert abs(a - na) < 1e-9 and abs(b - nb) < 1e-9, (name, a, b, na, nb)
        exp["slope"] = {"slope": b, "intercept": a}
    exp["ece"] = {}
    for nb in ece_nbins:
        e, bins = ece_bins(prob, y, nb)
        exp["ece"][str(nb)] = {"ece": e, "bins": bins}
    exp["at_threshold"] = [at_threshold(score, y, t) for t in thresholds]
    exp["for_sensitivity"] = [dict(target=t, **threshold_for_sens(score, y, t)) for t in sens_targets]
    exp["challenge2012"] = challenge2012((prob >= 0.5).astype(int), y)
    return {"name": name, "score": score.tolist(), "prob": prob.tolist(),
            "y": y.tolist(), "expected": exp}


def age_band(age):
    if age < 45:
        return 0
    if age < 65:
        return 1
    if age < 80:
        return 2
    return 3


def subgroups(score, prob, y, group, n_groups, thr):
    out = []
    for g in range(n_groups):
        sel = group == g
        s, p, yy = score[sel], prob[sel], y[sel]
        r = {"group": g, "n": int(sel.sum()), "n_pos": int(yy.sum())}
        r["reliable"] = bool(r["n_pos"] >= MIN_CLASS and r["n"] - r["n_pos"] >= MIN_CLASS)
        if r["reliable"]:
            r["auroc"] = float(roc_auc_score(yy, s))
            r["delong"] = delong_paper(s, yy)[1]
            r["auprc"] = float(average_precision_score(yy, s))
            r["brier"] = float(brier_score_loss(yy, p))
            r["citl"] = float(citl_newton(p, yy))
            r["slope"] = slope_sklearn(p, yy)[1]
            r["at_threshold"] = at_threshold(s, yy, thr)
        out.append(r)
    return out

# ------------------------------------------------------ 2019 utility oracle
# Constants of the official scorer (evaluate_sepsis_score.py).
DT_EARLY, DT_OPTIMAL, DT_LATE = -12, -6, 3
MAX_U_TP, MIN_U_FN, U_FP, U_TN = 1, -2, -0.05, 0


def utility_patient(labels, preds):
    """Transcription of compute_prediction_utility(): per-hour utility, summed."""
    labels = np.asarray(labels)
    preds = np.asarray(preds)
    n = len(labels)
    septic = bool(np.any(labels))
    t_sepsis = int(np.argmax(labels)) - DT_OPTIMAL if septic else float("inf")
    m1 = float(MAX_U_TP) / float(DT_OPTIMAL - DT_EARLY)
    b1 = -m1 * DT_EARLY
    m2 = float(-MAX_U_TP) / float(DT_LATE - DT_OPTIMAL)
    b2 = -m2 * DT_LATE
    m3 = float(MIN_U_FN) / float(DT_LATE - DT_OPTIMAL)
    b3 = -m3 * DT_OPTIMAL
    u = np.zeros(n)
    for t in range(n):
        if t > t_sepsis + DT_LATE:
            continue  # after the late limit nothing counts
        if septic and preds[t]:
            if t <= t_sepsis + DT_OPTIMAL:
                u[t] = max(m1 * (t - t_sepsis) + b1, U_FP)
            else:
                u[t] = m2 * (t - t_sepsis) + b2
        elif not septic and preds[t]:
            u[t] = U_FP
        elif septic:
            u[t] = 0 if t <= t_sepsis + DT_OPTIMAL else m3 * (t - t_sepsis) + b3
        else:
            u[t] = U_TN
    return float(np.sum(u))


def utility_cohort(patients):
    obs, best, inaction = [], [], []
    for lab, pred in patients:
        lab = np.asarray(lab)
        n = len(lab)
        bp = np.zeros(n, dtype=int)
        if np.any(lab):
            ts = int(np.argmax(lab)) - DT_OPTIMAL
            bp[max(0, ts + DT_EARLY):min(ts + DT_LATE + 1, n)] = 1
        obs.append(utility_patient(lab, pred))
        best.append(utility_patient(lab, bp))
        inaction.append(utility_patient(lab, np.zeros(n, dtype=int)))
    o, b, i = float(np.sum(obs)), float(np.sum(best)), float(np.sum(inaction))
    return {"per_patient": obs, "observed": o, "best": b, "inaction": i,
            "normalized": (o - i) / (b - i),
            "n_septic": int(sum(1 for lab, _ in patients if any(lab)))}


def utility_vectors():
    cases = []
    # the example in the official scorer's comments: 3.388888888888889
    cases.append(("doc_example", [([0, 0, 0, 0, 1, 1], [0, 0, 1, 1, 1, 1])]))
    # label 1 from the first row (t_sepsis = 6), alerted from the start
    cases.append(("label_from_row0", [([1] * 8, [1] * 8), ([0] * 5, [0, 0, 1, 0, 0])]))
    # label only on the last row; one non-septic patient with false alarms
    cases.append(("label_last_row", [([0] * 20 + [1], [0] * 10 + [1] * 11), ([0] * 30, [1] * 30)]))
    # very early alerts (before dt_early: floored at u_fp) and late alerts
    cases.append(("early_and_late", [([0] * 30 + [1] * 10, [1] * 5 + [0] * 30 + [1] * 5)]))
    rng = np.random.RandomState(2019)
    pts = []
    for k in range(80):
        n = int(rng.randint(1, 90))
        if rng.uniform() < 0.35:
            first = int(rng.randint(0, n))
            lab = [0] * first + [1] * (n - first)
        else:
            first = None
            lab = [0] * n
        pred = []
        for t in range(n):
            pr = 0.04
            if first is not None and first - 10 <= t <= first + 8:
                pr = 0.5
            pred.append(int(rng.uniform() < pr))
        pts.append((lab, pred))
    pts.append(([1], [1]))       # one row, septic from row 0
    pts.append(([1], [0]))
    cases.append(("random_cohort", pts))
    out = []
    for name, patients in cases:
        out.append({"name": name,
                    "patients": [{"label": list(map(int, l)), "pred": list(map(int, p))}
                                 for l, p in patients],
                    "expected": utility_cohort(patients)})
    return out

# --------------------------------------------------- alerts and lead time


def alert_vectors():
    rng = np.random.RandomState(77)
    rows = []
    for pid in range(40):
        n = int(rng.randint(1, 120))
        pid_code = 1000 + 37 * pid  # ids need not be small or consecutive
        p_on = 0.08 if pid % 3 else 0.0
        state = 0
        for t in range(n):
            state = int(rng.uniform() < (0.7 if state else p_on))
            rows.append((pid_code, t, state))
    df = pd.DataFrame(rows, columns=["pid", "t", "alert"])
    prev = df.groupby("pid", sort=False)["alert"].shift(1, fill_value=0)
    episodes = int(((df["alert"] == 1) & (prev == 0)).sum())
    hours = len(df)
    alerts = {"patient_id": df["pid"].tolist(), "alert": df["alert"].tolist(),
              "expected": {"n_patients": int(df["pid"].nunique()), "n_hours": hours,
                           "patient_days": hours / 24.0, "episodes": episodes,
                           "positive_hours": int(df["alert"].sum()),
                           "episodes_per_patient_day": episodes / (hours / 24.0),
                           "positive_hours_per_patient_day": int(df["alert"].sum()) / (hours / 24.0)}}

    # lead time: patients with hourly alerts, some with an event at onset_h
    window = 24.0
    pts = []
    leads = []
    n_event = 0
    for k in range(50):
        n = int(rng.randint(2, 100))
        alert = (rng.uniform(size=n) < 0.06).astype(int)
        event = bool(rng.uniform() < 0.6)
        onset = float(rng.randint(0, n + 5)) if event else 0.0
        if event and rng.uniform() < 0.5:
            onset += 0.5  # onset need not fall on the hour
        if event:
            n_event += 1
            t = np.arange(n)
            ok = (alert == 1) & (t <= onset) & (t >= onset - window)
            if ok.any():
                leads.append(onset - t[ok].min())
        pts.append({"alert": alert.tolist(), "event": event, "onset_h": onset})
    lv = np.array(leads)
    lead = {"window_h": window, "patients": pts,
            "expected": {"n_event": n_event, "n_alerted": len(leads),
                         "frac_alerted": len(leads) / n_event,
                         "median_h": float(np.percentile(lv, 50)),
                         "q1_h": float(np.percentile(lv, 25)),
                         "q3_h": float(np.percentile(lv, 75))}}
    return {"alert_rate": alerts, "lead_time": lead}


# ------------------------------------------------------------------- driver

def build_all():
    """Return {file name: JSON-able object}; no I/O."""
    warnings.simplefilter("error")  # any sklearn warning means a bad vector
    files = {}
    name, s, p, y = vec_continuous()
    files[name + ".json"] = binary_metrics(
        name, s, p, y, thresholds=[0.3, 0.5, float(s[7])], sens_targets=[0.5, 0.8, 0.95, 1.0],
        ece_nbins=(10, 5))
    name, s, p, y = vec_news2_ties()
    files[name + ".json"] = binary_metrics(
        name, s, p, y, thresholds=[3, 5, 7], sens_targets=[0.5, 0.8, 0.9, 1.0])
    name, s, p, y, age = vec_imbalanced()
    obj = binary_metrics(name, s, p, y, thresholds=[0.05, 0.1, 0.2],
                         sens_targets=[0.5, 0.75, 0.9])
    group = np.array([age_band(a) for a in age])
    obj["age_y"] = age.tolist()
    obj["group"] = group.tolist()
    obj["expected"]["subgroups"] = {"threshold": 0.1, "min_class": MIN_CLASS,
                                    "groups": subgroups(np.asarray(s), np.asarray(p), np.asarray(y),
                                                        group, 4, 0.1)}
    files[name + ".json"] = obj
    tiny = []
    for tname, ts, ty in tiny_vectors():
        ts = np.asarray(ts, dtype=float)
        tiny.append(binary_metrics(tname, ts, ts, ty, thresholds=[0.5],
                                   sens_targets=[0.5, 1.0], ece_nbins=(10,)))
    files["tiny.json"] = {"vectors": tiny}
    files["utility2019.json"] = {"cohorts": utility_vectors()}
    files.update({k + ".json": v for k, v in alert_vectors().items()})
    return files


def main():
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    out_dir = os.path.join(root, "tests", "golden", "eval")
    os.makedirs(out_dir, exist_ok=True)
    for fname, obj in sorted(build_all().items()):
        with open(os.path.join(out_dir, fname), "w") as f:
            json.dump(obj, f, indent=1, sort_keys=True, allow_nan=False)
            f.write("\n")
        print("wrote", os.path.join("tests", "golden", "eval", fname))
    return 0


if __name__ == "__main__":
    sys.exit(main())
