#!/usr/bin/python3
"""make_calibration_vectors.py: scikit-learn's answers for vigil's calibration.

Writes tests/golden/calibration_vectors.json: for several held-out
(score, label) sets, what scikit-learn 1.2 fits and predicts with
  - CalibratedClassifierCV(method="sigmoid", cv="prefit")  (Platt scaling
    with Platt's smoothed targets, fitted by BFGS),
  - LogisticRegression(penalty=None, solver="newton-cholesky") (Platt's
    sigmoid on raw 0/1 labels, fitted to a tight tolerance),
  - CalibratedClassifierCV(method="isotonic", cv="prefit") and
    IsotonicRegression(out_of_bounds="clip")                 (PAV),
so tests/model/test_calibrate.c can check vigil's fits without Python.
Scores and labels are synthetic (seeded); nothing here reads patient data.

Run from the repository root with Debian's Python:
    /usr/bin/python3 scripts/oracles/make_calibration_vectors.py
Changing the output is a reviewed commit (tests/golden/ is golden data).
"""
import json
import os
import sys

import numpy as np
import sklearn
from scipy.special import expit, xlogy
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

OUT = os.path.join("tests", "golden", "calibration_vectors.json")


class FixedScore(ClassifierMixin, BaseEstimator):
    """A 'classifier' whose decision function is column 0: the score."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, X):
        return np.asarray(X)[:, 0]


def platt_loss(a, b, s, y):
    """Platt's objective at (a, b) with smoothed targets (sklearn's)."""
    n1 = float(np.sum(y > 0))
    n0 = len(y) - n1
    t = np.where(y > 0, (n1 + 1.0) / (n1 + 2.0), 1.0 / (n0 + 2.0))
    p = expit(-(a * s + b))
    return float(-(xlogy(t, p) + xlogy(1.0 - t, 1.0 - p)).sum())


def case(name, s, y, grid):
    s = np.asarray(s, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    grid = np.asarray(grid, dtype=np.float64)
    X, G = s.reshape(-1, 1), grid.reshape(-1, 1)
    base = FixedScore().fit(X, y)

    sig = CalibratedClassifierCV(base, method="sigmoid", cv="prefit").fit(X, y)
    cal = sig.calibrated_classifiers_[0].calibrators[0]
    platt = {
        "a": float(cal.a_),
        "b": float(cal.b_),
        "loss": platt_loss(cal.a_, cal.b_, s, y),
        "prob": sig.predict_proba(G)[:, 1].tolist(),
    }

    lr = LogisticRegression(penalty=None, tol=1e-14, max_iter=1000, solver="newton-cholesky")
    lr.fit(X, y)
    # vigil's sign convention, Platt's: p = 1 / (1 + exp(a s + b))
    raw = {
        "a": float(-lr.coef_[0][0]),
        "b": float(-lr.intercept_[0]),
        "prob": lr.predict_proba(G)[:, 1].tolist(),
    }

    iso_cv = CalibratedClassifierCV(base, method="isotonic", cv="prefit").fit(X, y)
    iso = IsotonicRegression(out_of_bounds="clip").fit(s, y)
    iso_prob = iso.predict(grid)
    cv_prob = iso_cv.predict_proba(G)[:, 1]
    assert np.array_equal(iso_prob, cv_prob), name
    isotonic = {
        "x": iso.X_thresholds_.tolist(),
        "y": iso.y_thresholds_.tolist(),
        "prob": iso_prob.tolist(),
    }
    return {
        "name": name,
        "score": s.tolist(),
        "label": y.tolist(),
        "grid": grid.tolist(),
        "platt": platt,
        "platt_raw_labels": raw,
        "isotonic": isotonic,
    }


def main():
    rng = np.random.default_rng(20240601)
    cases = []

    # A miscalibrated model's margins: true log-odds 1.7 s - 0.4.
    s = rng.normal(0.0, 1.5, 2000)
    y = (rng.random(2000) < expit(1.7 * s - 0.4)).astype(int)
    grid = np.concatenate([np.linspace(-7, 7, 57), s[:40], [s.min(), s.max()]])
    cases.append(case("margins_2000", s, y, grid))

    # Probabilities in (0, 1), overconfident, with many exact ties.
    p = np.round(rng.beta(0.7, 1.4, 600), 2)
    y = (rng.random(600) < np.clip(0.15 + 0.6 * p, 0, 1)).astype(int)
    grid = np.concatenate([np.linspace(-0.1, 1.1, 61), np.unique(p)[:30]])
    cases.append(case("tied_probabilities_600", p, y, grid))

    # Rare events (5% positives), as on a ward.
    s = rng.normal(-1.0, 1.0, 3000)
    y = (rng.random(3000) < expit(2.2 * s - 2.5)).astype(int)
    grid = np.linspace(-5, 4, 37)
    cases.append(case("rare_events_3000", s, y, grid))

    # Tiny and hand-readable: PAV must pool the 0.3/0.35 inversion.
    s = [0.1, 0.2, 0.3, 0.35, 0.5, 0.6, 0.7, 0.9, 0.9, 1.0]
    y = [0, 0, 1, 0, 0, 1, 1, 0, 1, 1]
    grid = [-1.0, 0.1, 0.15, 0.3, 0.32, 0.35, 0.5, 0.55, 0.9, 0.95, 1.0, 2.0]
    cases.append(case("tiny_10", s, y, grid))

    # Scores closer than 1e-15 are one value to scikit-learn's PAV.
    s = [0.5, 0.5 + 2.0 ** -52, 0.5 + 2.0 ** -51, 0.7, 0.7 + 1e-12, 0.2, 0.9]
    y = [1, 0, 0, 1, 0, 0, 1]
    grid = [0.0, 0.5, 0.5 + 2.0 ** -52, 0.6, 0.7, 0.7 + 1e-12, 0.8, 1.0]
    cases.append(case("near_ties_7", s, y, grid))

    out = {
        "generator": "scripts/oracles/make_calibration_vectors.py",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "cases": cases,
    }
    with open(OUT, "w") as f:
        json.dump(out, f, indent=0)
        f.write("\n")
    print("wrote %s (%d cases)" % (OUT, len(cases)), file=sys.stderr)


if __name__ == "__main__":
    main()
