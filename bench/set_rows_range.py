"""set_rows_range.py: the date-range read of the monitor and `vigil validate --db`
(vigil_store_set_rows, src/store/sqlite/sq_set_rows.c) on a year-long store, with and
without the index obs_set_t on obs_set(t_ms) (migration 10; issue 14 item 3). Never gating.

    VIGIL_BIN=build/vigil python3 bench/set_rows_range.py [BEDS] [DAYS] [--steps-only]

A store made by `vigil serve` (so the schema is the code's), then filled straight through
SQLite: BEDS beds (default 500) over DAYS days (default 365), 5-day admissions, a set every
6 hours (4 a day per bed: BEDS * DAYS * 4 sets). Timed, best of 3 each, with the index and
after DROP INDEX obs_set_t: `vigil validate --db` over the last 7 days and over the last 30,
and `vigil monitor --db` (the live monitor's read of its history; both load the model
bundle first, about half a second), and the range query alone through the sqlite3 module
(last 1, 7, 30 days). SQLite's query plan for the range query is printed for both, and the
range query's cost in SQLite virtual-machine instructions (counted with a progress handler
every 100 instructions): a measure that does not depend on the machine's load.
--steps-only: the plans and the instruction counts only, no timing (for a loaded machine).
The peer is the same store without the index; each line is printed as a ratio to it.
Then a third state, obs_set_t and an index on bed_stay(admission_id, from_ms) (not in the
schema: the query otherwise builds an automatic index on bed_stay at every run): its plan
and instruction counts, as a ratio to obs_set_t alone.
The load average is printed: the machine is shared.
"""
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "server"))
from serve_util import Server  # noqa: E402

STEPS_ONLY = "--steps-only" in sys.argv
ARGS = [a for a in sys.argv[1:] if a != "--steps-only"]
BEDS = int(ARGS[0]) if len(ARGS) > 0 else 500
DAYS = int(ARGS[1]) if len(ARGS) > 1 else 365
STEP = 100  # the progress handler's period, in VM instructions
SRC = os.path.join(os.path.dirname(__file__), "..")
MODEL = os.path.join(SRC, "models", "vigil-sepsis-2019A.json")
BIN = os.environ.get("VIGIL_BIN", os.path.join(SRC, "build", "vigil"))
DAY_MS = 86400 * 1000
RANGE_SQL = (  # sq_set_rows.c's SQL_SET_ROWS, word for word
    "SELECT o.id, o.patient_id, o.admission_id, o.t_ms, o.received_ms, COALESCE(b.ward, ''), "
    "o.age_y, o.rr_bpm, o.spo2_pct, o.sbp_mmhg, o.hr_bpm, o.temp_c, s.news2_total, s.ai_prob, "
    "(SELECT MIN(x.t_ms) FROM outcome x WHERE x.patient_id = o.patient_id "
    "AND x.admission_id = o.admission_id AND x.t_ms >= o.t_ms), a.discharged_ms, p.sex "
    "FROM obs_set o JOIN admission a ON a.id = o.admission_id "
    "JOIN patient p ON p.id = o.patient_id LEFT JOIN score s ON s.obs_set_id = o.id "
    "LEFT JOIN bed_stay b ON b.admission_id = o.admission_id AND b.from_ms <= o.t_ms "
    "AND (b.to_ms IS NULL OR b.to_ms > o.t_ms) WHERE o.t_ms >= ?1 AND o.t_ms < ?2 "
    "ORDER BY o.admission_id, o.t_ms, o.id")


def nhs(k):
    while True:
        body = "9%08d" % k
        c = 11 - sum(int(d) * (10 - i) for i, d in enumerate(body)) % 11
        c = 0 if c == 11 else c
        if c != 10:
            return body + str(c)
        k += 100000000


def fill(db, t_end):
    con = sqlite3.connect(db)
    con.execute("PRAGMA synchronous = OFF")
    t0 = t_end - DAYS * DAY_MS
    pid = 0
    pats, adms, beds, sets = [], [], [], []
    for bed in range(BEDS):
        t = t0
        while t < t_end:
            pid += 1
            end = t + 5 * DAY_MS
            pats.append((pid, "MRN%07d" % pid, t))
            adms.append((pid, pid, t, end if end < t_end else None))
            beds.append((pid, pid, "W%02d" % (bed // 30), "B%02d" % (bed % 30), t,
                         end if end < t_end else None))
            s = t + 3600 * 1000
            while s < min(end, t_end):
                sets.append((pid, pid, s, 72.0, 18.0, 97.0, 1, 120.0, 36.8, "replay", s))
                s += 6 * 3600 * 1000
            t = end
    con.executemany("INSERT INTO patient (id, mrn, created_ms) VALUES (?, ?, ?)", pats)
    con.executemany("INSERT INTO admission (id, patient_id, admitted_ms, discharged_ms) "
                    "VALUES (?, ?, ?, ?)", adms)
    con.executemany("INSERT INTO bed_stay (id, admission_id, ward, bed, from_ms, to_ms) "
                    "VALUES (?, ?, ?, ?, ?, ?)", beds)
    con.executemany("INSERT INTO obs_set (patient_id, admission_id, t_ms, hr_bpm, rr_bpm, "
                    "spo2_pct, spo2_scale, sbp_mmhg, temp_c, source, received_ms) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", sets)
    con.commit()
    con.execute("ANALYZE")
    con.commit()
    con.close()
    return len(sets)


def best_of(args, n=3):
    best = None
    for _ in range(n):
        t = time.monotonic()
        subprocess.run(args, check=True, capture_output=True)
        dt = time.monotonic() - t
        best = dt if best is None or dt < best else best
    return best


def day(ms):
    return time.strftime("%Y-%m-%d", time.gmtime(ms / 1000))


def vm_steps(con, span, t_end):
    """SQLite VM instructions (to STEP) to read the last span days' rows."""
    n = [0]

    def tick():
        n[0] += 1
        return 0
    con.set_progress_handler(tick, STEP)
    rows = len(con.execute(RANGE_SQL, (t_end - span * DAY_MS, t_end)).fetchall())
    con.set_progress_handler(None, STEP)
    return n[0] * STEP, rows


def runs_steps(db, t_end):
    """The query plan and the VM instructions of the last 1, 7 and 30 days."""
    steps = {}
    con = sqlite3.connect(db)
    plan = [r[-1] for r in con.execute("EXPLAIN QUERY PLAN " + RANGE_SQL,
                                       (t_end - 7 * DAY_MS, t_end))]
    for span in (1, 7, 30):
        steps["VM instructions, last %d days" % span] = vm_steps(con, span, t_end)
    con.close()
    return {}, steps, plan


def runs(db, t_end):
    out, steps, plan = runs_steps(db, t_end)
    if STEPS_ONLY:
        return out, steps, plan
    for span in (7, 30):
        out["validate --db, last %d days" % span] = best_of(
            [BIN, "validate", "--model", MODEL, "--db", db, "--from",
             day(t_end - span * DAY_MS), "--to", day(t_end)])
    out["monitor --db (its history)"] = best_of(
        [BIN, "monitor", "--model", MODEL, "--db", db, "--at-ms", str(t_end)])
    con = sqlite3.connect(db)
    for span in (1, 7, 30):
        best = None
        for _ in range(3):
            t = time.monotonic()
            con.execute(RANGE_SQL, (t_end - span * DAY_MS, t_end)).fetchall()
            dt = time.monotonic() - t
            best = dt if best is None or dt < best else best
        out["the range query alone, last %d days" % span] = best
    con.close()
    return out, steps, plan


def main():
    print("load average at start: %.2f %.2f %.2f" % os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="vigil-setrows-") as d:
        db = os.path.join(d, "ward.db")
        with Server(["--no-monitor"], db=db) as s:
            s.stop()
        t_end = int(time.time() * 1000)
        t = time.monotonic()
        n = fill(db, t_end)
        print("store: %d beds, %d days, %d sets (%.0f s to fill), %.0f MB"
              % (BEDS, DAYS, n, time.monotonic() - t, os.path.getsize(db) / 1e6))
        with_idx, steps_with, plan_with = runs(db, t_end)
        con = sqlite3.connect(db)
        con.execute("DROP INDEX obs_set_t")
        con.execute("ANALYZE")
        con.commit()
        con.close()
        without, steps_without, plan_without = runs(db, t_end)
        for k in steps_with:
            (a, rows), (b, rows_b) = steps_with[k], steps_without[k]
            assert rows == rows_b, "the index changed the rows read"
            print("%-36s with obs_set_t %d, without %d (x%.1f), %d rows"
                  % (k, a, b, b / a, rows))
        for k in with_idx:
            print("%-36s with obs_set_t %.3f s, without %.3f s (x%.1f)"
                  % (k, with_idx[k], without[k], without[k] / with_idx[k]))
        print("plan with the index:   ", "; ".join(plan_with))
        print("plan without the index:", "; ".join(plan_without))
        # What the rest of the cost is: SQLite builds an automatic index on
        # bed_stay(admission_id) for every run of the query (the plan's
        # AUTOMATIC COVERING INDEX), over every bed stay ever stored. A third
        # store state: obs_set_t back and a real index on bed_stay.
        con = sqlite3.connect(db)
        con.execute("CREATE INDEX obs_set_t ON obs_set(t_ms)")
        con.execute("CREATE INDEX bench_bed_stay_adm ON bed_stay(admission_id, from_ms)")
        con.execute("ANALYZE")
        con.commit()
        con.close()
        _, steps_bed, plan_bed = runs_steps(db, t_end)
        for k in steps_with:
            (a, rows), (c, _) = steps_with[k], steps_bed[k]
            print("%-36s obs_set_t and bed_stay(admission_id, from_ms) %d (x%.1f fewer than "
                  "obs_set_t alone)" % (k, c, a / c))
        print("plan with both:        ", "; ".join(plan_bed))
    print("load average at end: %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()
