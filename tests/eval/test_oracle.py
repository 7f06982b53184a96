#!/usr/bin/python3
"""test_oracle.py: the committed golden files tests/golden/eval/*.json are
exactly what scripts/oracles/make_metric_vectors.py produces, so the
expected values the C tests use cannot drift from their oracle.

Re-runs the generation in memory (no files written) and compares every
value: integers, strings, booleans and nulls exactly, floats within a
relative 1e-12 (room for a different BLAS, nothing more). Also checks that
no golden file is left over that the script no longer writes.
Exit 77 (skip) when numpy or scikit-learn is missing.
"""
import importlib.util
import json
import os
import sys

ROOT = os.environ.get("VIGIL_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "scripts", "oracles", "make_metric_vectors.py")
GOLDEN = os.path.join(ROOT, "tests", "golden", "eval")


def compare(got, want, path, errors):
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(got) != set(want):
            errors.append(f"{path}: keys differ")
            return
        for k in want:
            compare(got[k], want[k], f"{path}.{k}", errors)
    elif isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            errors.append(f"{path}: list length differs")
            return
        for i, (g, w) in enumerate(zip(got, want)):
            compare(g, w, f"{path}[{i}]", errors)
    elif isinstance(want, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        if abs(got - want) > 1e-12 * max(1.0, abs(want)):
            errors.append(f"{path}: regenerated {got!r}, committed {want!r}")
    elif type(got) is not type(want) or got != want:
        errors.append(f"{path}: regenerated {got!r}, committed {want!r}")


def main():
    try:
        import numpy  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as e:
        print(f"skip: {e}")
        return 77
    spec = importlib.util.spec_from_file_location("make_metric_vectors", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    built = mod.build_all()
    errors = []
    for fname, obj in sorted(built.items()):
        path = os.path.join(GOLDEN, fname)
        if not os.path.exists(path):
            errors.append(f"{fname}: not committed")
            continue
        with open(path) as f:
            committed = json.load(f)
        # round-trip through JSON so tuples/numpy scalars compare as the file would hold them
        regenerated = json.loads(json.dumps(obj, allow_nan=False))
        compare(regenerated, committed, fname, errors)
    for fname in sorted(os.listdir(GOLDEN)):
        if fname.endswith(".json") and fname not in built:
            errors.append(f"{fname}: committed but no longer generated")
    for e in errors[:20]:
        print(e)
    print(f"{len(built)} golden files checked, {len(errors)} differences")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
