#!/usr/bin/env python3
"""test_migrate.py: `vigil migrate --from ward.db --to postgresql:///...` (issue 15 item 4).

A `vigil serve` on an SQLite file is given a ward over HL7 and the API (admissions, full
sets, one temperature sent in Fahrenheit, an alert acknowledged, a staff concern, a
Martha's Rule call, a user), its ward list read, and the server stopped. `vigil migrate`
copies the file into an empty PostgreSQL database: exit 0, every table's rows printed
equal, the head printed is the one `vigil audit verify --db FILE` gives, and `vigil audit
verify --db postgresql:///...` says OK with that head. A `vigil serve --db
postgresql:///...` on the copy lets the same user sign in, serves the same ward list,
and stores a new set (ids move on past the copied ones). Migrating again into the now
non-empty database is refused (exit 1, "not empty"); a source at an older schema version
or with a table this vigil does not know is refused naming the reason (exit 1), leaving
the target empty; after a copied set's temperature is edited in PostgreSQL, verify fails
at that set's obs.put record.

Runs inside its own throw-away PostgreSQL 15 (pg_virtualenv, as
reliability.test_kill9_pg); skips with one line without it or without the backend."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "server"))
from serve_util import Checks, Server, ack_fields, adt, oru, vigil_bin  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pg_env import run_inside_pg15  # noqa: E402

run_inside_pg15(__file__, before=vigil_bin)

C = Checks()
VIGIL = vigil_bin()


def run(*args):
    r = subprocess.run([VIGIL] + list(args), capture_output=True, text=True, timeout=600)
    return r.returncode, r.stdout, r.stderr


def psql(db, sql):
    r = subprocess.run(["psql", "-X", "-At", "-d", db, "-c", sql], capture_output=True,
                       text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("psql: %s" % r.stderr)
    return r.stdout.strip()


def createdb(name):
    subprocess.run(["createdb", name], check=True)
    return "postgresql:///%s" % name


def head_of(out):
    """The head an `OK: ... head <hex>` line names."""
    for line in out.splitlines():
        if line.startswith("OK:") and " head " in line:
            return line.split(" head ")[1].split()[0]
    return None


def ward(s, token):
    """The ward list, without what depends on the moment it was asked for: its time and
    the minutes-overdue words (the two lists are asked for seconds apart)."""
    st, js, _ = s.http("GET", "/api/wards/WARD7B/patients", token=token)
    if st == 200:
        js.pop("at", None)
        for row in js.get("patients", []):
            for r in row.get("escalation", {}).get("reasons", []):
                if r.get("code") in ("news2-stale", "obs-overdue"):
                    r.pop("text", None)
    return st, js


NHS = ["9990000018", "9990000026", "9990000034"]
tmp = tempfile.TemporaryDirectory(prefix="vigil-migrate-")
db = os.path.join(tmp.name, "ward.db")

# -- a ward on SQLite
with Server(db=db) as s:
    conn = s.mllp()
    for k, n in enumerate(NHS):
        C.check(ack_fields(conn.request(adt("A%d" % k, "A01", n, "WARD7B", "BED%02d" % k)))[0]
                == "AA", "admitted %s" % n)
    C.check(ack_fields(conn.request(oru("O1", nhs=NHS[0])))[0] == "AA", "set stored")
    C.check(ack_fields(conn.request(oru("O2", nhs=NHS[1], hr=131, rr=26, spo2=91, sbp=95)))[0]
            == "AA", "high set stored")
    # 100.3 F: stored as 37.94444444444444 C, a value SQLite's quote() writes with 20 digits
    degf = oru("O3", nhs=NHS[2], t="20250114090000+0000", temp=100.3).replace(
        b"Cel^Cel^UCUM", b"[degF]^[degF]^UCUM")
    C.check(ack_fields(conn.request(degf))[0] == "AA", "Fahrenheit set stored")
    conn.close()
    s.settle()
    nurse = s.add_user("nurse7", "nurse", ["WARD7B"])
    st, js, _ = s.http("GET", "/api/alerts?ward=WARD7B", token=nurse)
    alerts = (js or {}).get("alerts", []) if st == 200 else []
    C.check(len(alerts) >= 1, "an alert is open (%s)" % st)
    if alerts:
        st, _, _ = s.http("POST", "/api/alerts/%d/ack" % alerts[0]["alert_id"],
                          {"action": "attending", "reason": "on my way"}, token=nurse)
        C.check(st in (200, 201), "alert acknowledged (%s)" % st)
    con = s.db()
    pid = con.execute("SELECT id FROM patient WHERE nhs_number=?", (NHS[0],)).fetchone()[0]
    f_set = con.execute("SELECT o.id FROM obs_set o JOIN patient p ON p.id = o.patient_id "
                        "WHERE p.nhs_number = ?", (NHS[2],)).fetchone()[0]
    temp = con.execute("SELECT temp_c FROM obs_set WHERE id = ?", (f_set,)).fetchone()[0]
    con.close()
    C.check(abs(temp - 37.94444444444444) < 1e-12, "the set is in Celsius (%r)" % temp)
    st, _, _ = s.http("POST", "/api/patients/%d/concerns" % pid, {"concern": "looks grey"},
                      token=nurse)
    C.check(st in (200, 201), "concern stored (%s)" % st)
    st, _, _ = s.http("POST", "/api/patients/%d/marthas-rule" % pid,
                      {"caller": "family", "channel": "phone", "concern": "not herself"},
                      token=nurse)
    C.check(st in (200, 201), "Martha's Rule call stored (%s)" % st)
    st, wl_sqlite = ward(s, nurse)
    C.check(st == 200 and len(wl_sqlite.get("patients", [])) == 3, "ward list on SQLite (%s)" % st)
    C.check(s.stop() == 0, "server stopped")

    rc, out, err = run("audit", "verify", "--db", db)
    head = head_of(out)
    C.check(rc == 0 and head, "source chain verifies (%s %s)" % (out, err))

    # -- the copy
    target = createdb("vigil_migrated")
    rc, out, err = run("migrate", "--from", db, "--to", target)
    print(out, err, end="")
    C.check(rc == 0, "migrate exit 0 (%d)" % rc)
    C.check(head_of(out) == head, "migrate prints the source's head")
    src = sqlite3.connect(db)
    tables = [r[0] for r in src.execute(
        "SELECT name FROM sqlite_schema WHERE type='table' AND name NOT LIKE 'sqlite%'")]
    for t in tables:
        n = src.execute('SELECT count(*) FROM "%s"' % t).fetchone()[0]
        line = [x for x in out.splitlines() if x.split()[:1] == [t]]
        C.check(line and line[0].split()[1:3] == [str(n), str(n)],
                "%s: %d rows both sides (%s)" % (t, n, line))
        m = int(psql("vigil_migrated", 'SELECT count(*) FROM "%s"' % t))
        C.check(m == n, "%s: %d rows in PostgreSQL, %d in SQLite" % (t, m, n))
    src.close()
    rc, out, err = run("audit", "verify", "--db", target)
    C.check(rc == 0 and head_of(out) == head, "verify on PostgreSQL: %s%s" % (out, err))

# -- the copy served
with Server(db=target) as p:
    nurse = p.login("nurse7")
    st, wl_pg = ward(p, nurse)
    C.check(st == 200, "ward list on PostgreSQL (%s)" % st)
    a, b = json.dumps(wl_sqlite, sort_keys=True), json.dumps(wl_pg, sort_keys=True)
    at = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
    C.check(a == b, "the same ward list (first difference: ...%s... / ...%s...)"
            % (a[max(0, at - 80):at + 80], b[max(0, at - 80):at + 80]))
    conn = p.mllp()
    C.check(ack_fields(conn.request(oru("O4", nhs=NHS[0], t="20250114100000+0000")))[0] == "AA",
            "a new set stored on the copy")
    conn.close()
    p.stop()
n_sets = int(psql("vigil_migrated", "SELECT count(*) FROM obs_set"))
C.check(n_sets == 4, "4 sets on the copy (%d)" % n_sets)
rc, out, err = run("audit", "verify", "--db", target)
C.check(rc == 0, "verify after new writes on the copy: %s%s" % (out, err))

# -- refusals
rc, out, err = run("migrate", "--from", db, "--to", target)
C.check(rc == 1 and "not empty" in err, "non-empty target refused (%d %s)" % (rc, err))
old = os.path.join(tmp.name, "old.db")
shutil.copy(db, old)
con = sqlite3.connect(old)
con.execute("PRAGMA user_version = 10")
con.commit()
con.close()
empty = createdb("vigil_empty")
rc, out, err = run("migrate", "--from", old, "--to", empty)
C.check(rc == 1 and "schema" in err, "source at version 10 refused (%d %s)" % (rc, err))
extra = os.path.join(tmp.name, "extra.db")
shutil.copy(db, extra)
con = sqlite3.connect(extra)
con.execute("CREATE TABLE ward_note (id INTEGER PRIMARY KEY, note TEXT)")
con.commit()
con.close()
rc, out, err = run("migrate", "--from", extra, "--to", empty)
C.check(rc == 1 and "ward_note" in err, "unknown table refused (%d %s)" % (rc, err))
C.check(psql("vigil_empty", "SELECT count(*) FROM patient") == "0", "refused copies wrote nothing")
# a target that stores something else than it was given (a trigger of its own) is found
# out before the commit, naming the table, and left empty
psql("vigil_empty", "CREATE FUNCTION renamed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
     "UPDATE patient SET name = name || '!' WHERE id = NEW.id; RETURN NULL; END $$; "
     "CREATE TRIGGER renamed AFTER INSERT ON patient FOR EACH ROW EXECUTE FUNCTION renamed()")
rc, out, err = run("migrate", "--from", db, "--to", empty)
C.check(rc == 1 and "table patient" in err and "DIFFERENT" in out,
        "a difference is named (%d %s %s)" % (rc, out, err))
C.check(psql("vigil_empty", "SELECT count(*) FROM patient") == "0", "and rolled back")

# -- a copied row edited
seq = psql("vigil_migrated", "SELECT seq FROM audit WHERE action = 'obs.put' AND entity_id = %d"
           % f_set)
psql("vigil_migrated", "UPDATE obs_set SET temp_c = 37.0 WHERE id = %d" % f_set)
rc, out, err = run("audit", "verify", "--db", target)
C.check(rc == 1 and out.startswith("FAIL: record %s: row changed" % seq),
        "edited set fails at record %s: %s%s" % (seq, out, err))
tmp.cleanup()
C.done()
