#!/usr/bin/env python3
"""sqlite_check_cost.py: what a CHECK constraint costs SQLite per row written,
by its form: 'x IN (constant list)' against the same rule as an OR-chain and
against no check. Why: migration 2 (src/store/sqlite/sq_schema.c) rewrote the
hot tables' IN-list checks as OR-chains; this is the measurement behind it.

usage: /usr/bin/python3 bench/sqlite_check_cost.py [ROWS]   (default 100000)
Prints microseconds per INSERT of one row into an in-memory STRICT table of
six checked TEXT columns, three rounds of each form, and the ratio of the
medians. Never gating.
"""
import sqlite3
import statistics
import sys
import time

FORMS = {
    "none": "1",
    "in-list": "{c} IN ('low', 'low-medium', 'medium', 'high')",
    "or-chain": "{c} = 'low' OR {c} = 'low-medium' OR {c} = 'medium' OR {c} = 'high'",
}


def per_row_us(check, rows, ncol=6):
    db = sqlite3.connect(":memory:")
    cols = ", ".join(f"c{i} TEXT CHECK ({check.format(c=f'c{i}')})" for i in range(ncol))
    db.execute(f"CREATE TABLE t (id INTEGER PRIMARY KEY, {cols}) STRICT")
    names = ",".join(f"c{i}" for i in range(ncol))
    marks = ",".join("?" * ncol)
    data = [("medium",) * ncol] * rows
    t = time.perf_counter()
    db.executemany(f"INSERT INTO t({names}) VALUES ({marks})", data)
    db.commit()
    return (time.perf_counter() - t) / rows * 1e6


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    print(f"SQLite {sqlite3.sqlite_version}, {rows} rows, 6 checked columns, us per row:")
    med = {}
    for name, check in FORMS.items():
        runs = [per_row_us(check, rows) for _ in range(3)]
        med[name] = statistics.median(runs)
        print(f"  {name:9s} " + " ".join(f"{r:6.2f}" for r in runs) + f"  median {med[name]:.2f}")
    print(f"in-list over or-chain: {med['in-list'] / med['or-chain']:.1f}x; "
          f"per IN-list check: {(med['in-list'] - med['or-chain']) / 6:.2f} us")


if __name__ == "__main__":
    main()
