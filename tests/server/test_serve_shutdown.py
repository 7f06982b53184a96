"""test_serve_shutdown.py: graceful stop and restart of `vigil serve`.

Checks (REQ SERVER-GRACEFUL-STOP, REQ SERVER-ACK-AFTER-COMMIT): SIGTERM in
the middle of a pipelined burst exits 0; every message acknowledged AA
before the connection closed is in the store; `vigil audit verify` finds
the audit chain intact afterwards; a restarted server restores the open
escalation episodes, and an alert raised before the restart can be
acknowledged after it; SIGINT also exits 0; the log names no patient.
"""
import os
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server, ack_fields, adt, frame, oru, vigil_bin  # noqa: E402

C = Checks()
NHS = ("9990000018", "9990000026", "9990000034", "9990000042")

s = Server()
db = s.db_path
conn = s.mllp()
C.check(ack_fields(conn.request(adt("A1", "A01", NHS[0], "WARD7B")))[0] == "AA", "admitted")
C.check(ack_fields(conn.request(oru("HIGH1", nhs=NHS[0], rr=26, spo2=90, hr=135)))[0] == "AA",
        "high set in")
n = 400
# the admitted patient (NHS[0]) stays at emergency through the burst: its
# alert is still due after the restart whichever of its sets were stored (a
# low set stored last would let the acknowledgement close the episode, and
# how many are stored before the stop depends on timing)
burst = b"".join(frame(oru("BURST-%d" % i, nhs=NHS[i % 4],
                           **(dict(rr=26, spo2=90, hr=135) if i % 4 == 0 else
                              dict(hr=60 + i % 50)),
                           t="20250116%02d%02d00+0000" % (i // 60, i % 60))) for i in range(n))
acked = []


def reader():
    while True:
        try:
            a = conn.read_ack()
        except OSError:  # the connection ended: what was read is what counts
            return
        if a is None:
            return
        acked.append(ack_fields(a))


t = threading.Thread(target=reader)
t.start()
conn.send(burst)
while len(acked) < 20:  # stop while the burst is in flight
    pass
rc = s.stop()
t.join(30)
C.check(rc == 0, "SIGTERM mid-burst: exit 0 (got %s)" % rc)
aa = [ctrl for code, ctrl, _ in acked if code == "AA"]
C.check(len(aa) >= 20 and all(code == "AA" for code, _, _ in acked),
        "%d of %d burst messages acknowledged AA before the stop" % (len(aa), n))
con = s.db()
stored = {r[0] for r in con.execute("SELECT source_id FROM obs_set WHERE source = 'hl7'")}
con.close()
C.check(all(c in stored for c in aa), "every AA'd message is stored")
C.check(len(stored - set(aa) - {"HIGH1"}) <= n - len(aa), "nothing stored twice")
v = subprocess.run([vigil_bin(), "audit", "verify", "--db", db], capture_output=True, text=True)
C.check(v.returncode == 0 and v.stdout.startswith("OK:"), "audit chain verifies: %s" % v.stdout)
C.check(any(line.startswith("vigil serve: stop:") for line in s.log), "stop summary logged")
C.check(not any(nhs in line for line in s.log for nhs in NHS), "no NHS number in the log")
C.check(not any("TESTPATIENT" in line for line in s.log), "no patient name in the log")

# restart on the same store: the open episode comes back and can be acknowledged
s2 = Server(db=db)
con = s2.db()
n_open = con.execute("SELECT count(*) FROM episode WHERE closed_ms IS NULL").fetchone()[0]
con.close()
C.check(n_open >= 1 and any("restored %d open escalation episode" % n_open in line
                            for line in s2.log), "restart restores the open episodes")
nurse = s2.add_user("nurse7", "nurse", ["WARD7B"])
st, js, _ = s2.http("GET", "/api/alerts?ward=WARD7B", token=nurse)
alerts = js["alerts"] if st == 200 else []
C.check(len(alerts) == 1 and alerts[0]["level"] == "emergency", "the alert is open after restart")
if alerts:
    st, js, _ = s2.http("POST", "/api/alerts/%d/ack" % alerts[0]["alert_id"],
                        {"action": "reviewed", "reason": "seen after restart"}, token=nurse)
    C.check(st == 200, "acknowledged after restart (%s %s)" % (st, js))
    st, js, _ = s2.http("GET", "/api/wards/WARD7B/patients", token=nurse)
    C.check(st == 200 and js["patients"][0]["alerts"][0]["acknowledged"],
            "the ward list shows the acknowledgement")
import signal  # noqa: E402
C.check(s2.stop(signal.SIGINT) == 0, "SIGINT: exit 0")
v = subprocess.run([vigil_bin(), "audit", "verify", "--db", db], capture_output=True, text=True)
C.check(v.returncode == 0, "audit chain verifies after the restart")
s2.close()
s.close()
C.done()
