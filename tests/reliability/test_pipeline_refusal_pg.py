"""test_pipeline_refusal_pg.py: on PostgreSQL a group of observation sets is
written in pipelines (issue 15: the patients read ahead in one round trip,
every set's INSERT with its score's in one, the audit records with the
commit). A set that PostgreSQL itself refuses in the middle of such a
pipeline must be refused alone: its sender gets an error, the other sets of
the group are stored and acknowledged, each once, and the audit chain
verifies.

What PostgreSQL refuses here is a CHECK constraint added for the test (a
pulse of exactly 77/min, NOT VALID so stored rows are not checked): vigil's
own checks pass such a set, so only the database can refuse it, the way a
constraint vigil does not mirror in C would. Twenty-four sets for twelve
patients are sent on one connection without waiting (so the server takes
them into groups together); every fifth carries the refused pulse.

Skips (exit 77, one line) without pg_virtualenv or PostgreSQL 15.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "server"))
from rel_util import Checks, Serve, audit_verify, free_port, vigil_bin  # noqa: E402
from serve_util import Mllp, ack_fields, adt, frame, nhs_number, oru  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pg_env import run_inside_pg15  # noqa: E402

run_inside_pg15(__file__, before=vigil_bin)


def psql_one(db, sql):
    r = subprocess.run(["psql", "-X", "-At", "-d", db, "-c", sql], capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        raise RuntimeError("psql: %s" % r.stderr)
    return r.stdout.strip()


check = Checks()
db = "vigil_pipeline_refusal"
subprocess.run(["createdb", db], check=True)
uri = "postgresql:///%s" % db
mllp_port = free_port()
srv = Serve(uri, mllp_port)
m = Mllp(mllp_port)
patients = [nhs_number(100 + i) for i in range(12)]
for i, nhs in enumerate(patients):
    code, _, err = ack_fields(m.request(adt("ADM%d" % i, "A01", nhs, "W1", bed="B%02d" % i)))
    check(code == "AA", "patient %d is admitted (%s %s)" % (i, code, err))
psql_one(db, "ALTER TABLE obs_set ADD CONSTRAINT test_refuses_pulse_77 "
             "CHECK (hr_bpm IS NULL OR hr_bpm <> 77) NOT VALID")

sets = []
for k in range(24):
    refused = k % 5 == 2
    ctrl = "PIPE-%02d" % k
    t = "20250114%02d%02d00+0000" % (8 + k // 12, (k % 12) * 4)
    sets.append((ctrl, refused, oru(ctrl, nhs=patients[k % 12], t=t, hr=77 if refused else 80 + k)))
m.send(b"".join(frame(msg) for _, _, msg in sets))  # all at once: one or a few groups
answers = {}
for _ in sets:
    code, ctrl, err = ack_fields(m.read_ack())
    answers[ctrl] = (code, err)
m.close()

for ctrl, refused, _ in sets:
    code, err = answers.get(ctrl, ("none", ""))
    n = int(psql_one(db, "SELECT count(*) FROM obs_set WHERE source_id = '%s'" % ctrl))
    if refused:
        check(code in ("AE", "AR") and n == 0,
              "%s (pulse 77, refused by PostgreSQL) is answered with an error (%s: %s) and "
              "not stored (%d)" % (ctrl, code, err.strip(), n))
    else:
        check(code == "AA" and n == 1,
              "%s is answered AA (%s %s) and stored once (%d)" % (ctrl, code, err.strip(), n))
good = sum(1 for _, refused, _ in sets if not refused)
scores = int(psql_one(db, "SELECT count(*) FROM score s JOIN obs_set o ON o.id = s.obs_set_id "
                          "WHERE o.source_id LIKE 'PIPE-%'"))
puts = int(psql_one(db, "SELECT count(*) FROM audit a JOIN obs_set o ON o.id = a.entity_id "
                        "WHERE a.action = 'obs.put' AND o.source_id LIKE 'PIPE-%'"))
check(scores == good and puts == good,
      "each stored set has one score (%d) and one obs.put audit record (%d) of %d"
      % (scores, puts, good))
srv.term()
audit_verify(uri, check)
check.done()
