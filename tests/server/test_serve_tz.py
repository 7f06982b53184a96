"""test_serve_tz.py: the server-wide time zone (REQ HL7-TIME-ZONE-DEFAULT, issue 11):
`vigil serve --tz ZONE` reads a local time without a UTC offset, from a sender whose
interface profile names no time_zone, in ZONE; a sender whose profile names one keeps its
own; an offset, when sent, always wins; without --tz the default stays Europe/London; a
zone that is not one stops the server before it starts (exit 2).

Messages: HL7 v2.5.1 ORU^R01 as tests/server/serve_util.py writes them, with OBR-7 and
OBX-14 as local times (HL7 v2.5.1 chapter 2A.22 DTM: "the time zone of the sender" when no
offset is given). 08:30 on 14 January 2025 is 13:30 UTC in America/New_York (EST, UTC-5)
and 08:30 UTC in Europe/London (GMT).
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server, ack_fields, oru, vigil_bin  # noqa: E402

C = Checks()
LOCAL = "202501140830"
UTC_1330 = 1736861400000  # 2025-01-14T13:30:00Z
UTC_0830 = 1736843400000  # 2025-01-14T08:30:00Z


def stored_t(s, ctrl):
    row = s.db().execute("SELECT t_ms FROM obs_set WHERE source_id = ?", (ctrl,)).fetchone()
    return row[0] if row else None


def send(s, msg):
    conn = s.mllp()
    ack = conn.request(msg)
    conn.close()
    return ack_fields(ack)


with tempfile.TemporaryDirectory() as tmp:
    prof = os.path.join(tmp, "london.profile")
    with open(prof, "w") as f:
        f.write("name = london-sender\nsending_application = LONDONEPR\ntime_zone = Europe/London\n")

    with Server(["--tz", "America/New_York", "--hl7-profile", prof]) as s:
        a = send(s, oru("TZ-NY", nhs="9434765919", t=LOCAL))
        C.check(a[0] == "AA", "a local time from a sender without a zone: AA (%s)" % (a,))
        got = stored_t(s, "TZ-NY")
        C.check(got == UTC_1330, "08:30 local read in America/New_York: 13:30 UTC (%s)" % got)

        m = oru("TZ-LON", nhs="4010232137", t=LOCAL).replace(b"|EOBS|RX1|", b"|LONDONEPR|RX1|")
        a = send(s, m)
        C.check(a[0] == "AA", "the profiled sender: AA (%s)" % (a,))
        got = stored_t(s, "TZ-LON")
        C.check(got == UTC_0830, "its profile's Europe/London wins over --tz: 08:30 UTC (%s)" % got)

        a = send(s, oru("TZ-OFF", nhs="9990000018", t=LOCAL + "+0000"))
        got = stored_t(s, "TZ-OFF")
        C.check(a[0] == "AA" and got == UTC_0830, "an offset, when sent, wins: 08:30 UTC (%s)" % got)
        C.check(s.stop() == 0, "SIGTERM: exit 0")

    with Server() as s:
        a = send(s, oru("TZ-DEF", nhs="9434765919", t=LOCAL))
        got = stored_t(s, "TZ-DEF")
        C.check(a[0] == "AA" and got == UTC_0830,
                "without --tz the default is Europe/London: 08:30 UTC (%s)" % got)
        C.check(s.stop() == 0, "SIGTERM: exit 0")

    r = subprocess.run([vigil_bin(), "serve", "--db", os.path.join(tmp, "x.db"), "--http-port", "0",
                        "--mllp-port", "0", "--tz", "Not/AZone"], capture_output=True, text=True,
                       timeout=60)
    C.check(r.returncode == 2 and "--tz" in r.stderr,
            "a zone that is not one: exit 2 before starting (%d %r)" % (r.returncode, r.stderr))
    C.check(not os.path.exists(os.path.join(tmp, "x.db")), "and no database was created")
C.done()
