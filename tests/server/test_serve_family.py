"""test_serve_family.py: Martha's Rule from the bedside, without an account (issue 13 item 7).

Checks: a clinician gets the bedside code of a patient on a ward in scope (with its QR code), not
of one elsewhere (404, as for no patient); with the code, anyone can ask for an urgent review: stored as a Martha's
Rule call from the family (channel "bedside code"), audited as "family (bedside code)", alerting
outreach at emergency level; the answer names nothing about the patient (no NHS number, ward or
bed); the daily answer is stored; the code is typed loosely (lower case, O for 0); a wrong or
altered code is 404 with the same words; a request from another site is 403; three calls an hour
per code, then 429; ten wrong codes from one address, then 429 even for a good code; the code
ends at discharge (404); the key is kept in the store (its secret "bedside-code-key", no file
beside it), so the same code works after a restart and on a second node of the same store; a key
file a store had beside it before (<db>.bedside-key) is moved into the store, so codes made with
it still work. The codes are recomputed here from the stored key (BLAKE2b-40 keyed, as
family.c), so the key checked is the key used.
"""
import hashlib
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server, ack_fields, adt, oru  # noqa: E402

C = Checks()
NHS, NHS2 = "9990000018", "9990000026"
B32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's, as family.c


def b32(v):
    s = ""
    while True:
        s = B32[v % 32] + s
        v //= 32
        if v == 0:
            return s


def code_under(key, pid, adm):
    """The bedside code family.c makes under key (REQ FAMILY-KEY-SHARED)."""
    msg = b"vigil bedside v1" + adm.to_bytes(8, "little") + pid.to_bytes(8, "little")
    v = int.from_bytes(hashlib.blake2b(msg, digest_size=5, key=key).digest(), "big")
    return "%s-%s-%s" % (b32(pid), b32(adm), "".join(B32[(v >> (5 * (7 - i))) & 31] for i in range(8)))


def stored_key(s):
    row = s.db().execute("SELECT value FROM secret WHERE name = 'bedside-code-key'").fetchone()
    return row[0] if row else None


def admission_of(s, pid):
    return s.db().execute("SELECT max(id) FROM admission WHERE patient_id = ?", (pid,)).fetchone()[0]

keep = tempfile.TemporaryDirectory(prefix="vigil-family-")
with Server(db=os.path.join(keep.name, "ward.db")) as s:
    conn = s.mllp()
    for ctrl, nhs, ward, bed in (("A1", NHS, "WARD7B", "BED04"), ("A2", NHS2, "WARD12", "BED09")):
        C.check(ack_fields(conn.request(adt(ctrl, "A01", nhs, ward, bed=bed)))[0] == "AA", "admitted")
    C.check(ack_fields(conn.request(oru("O1", nhs=NHS)))[0] == "AA", "a set")
    pid = s.db().execute("SELECT id FROM patient WHERE nhs_number=?", (NHS,)).fetchone()[0]
    pid2 = s.db().execute("SELECT id FROM patient WHERE nhs_number=?", (NHS2,)).fetchone()[0]
    nurse = s.add_user("nurse7", "nurse", ["WARD7B"])
    outreach = s.add_user("outreach1", "outreach", ["*"])
    st, js, _ = s.http("GET", "/api/patients/%d/bedside-code?origin=http://ward.example" % pid,
                       token=nurse)
    C.check(st == 200 and js["ends"] == "at discharge" and len(js["qr"]) >= 21,
            "a nurse gets the bedside code and its QR code (%s)" % st)
    C.check(js["url"] == "http://ward.example/family?code=" + js["code"], "the QR code holds the page's address")
    code = js["code"]
    st, js, _ = s.http("GET", "/api/patients/%d/bedside-code" % pid2, token=nurse)
    C.check(st == 404, "no code for a patient on another ward: 404, as for none (%s)" % st)
    st, _, _ = s.http("GET", "/api/patients/%d/bedside-code" % pid)
    C.check(st == 401, "the code needs a sign-in to get")
    key = stored_key(s)
    C.check(key is not None and len(key) == 32, "the key is the store's secret, 32 bytes")
    C.check(code == code_under(key, pid, admission_of(s, pid)), "the code is made with the store's key")
    C.check(not os.path.exists(s.db_path + ".bedside-key"), "no key file beside the store")
    with Server(db=s.db_path) as node2:  # a second node on the same store, at once
        st, js, _ = node2.http("GET", "/api/patients/%d/bedside-code" % pid, token=node2.login("nurse7"))
        C.check(st == 200 and js["code"] == code, "a second node makes the same code (%s)" % st)
        st, js, _ = node2.http("POST", "/api/family/daily-answer", {"code": code, "answer": "same"})
        C.check(st == 201, "and takes the first node's code (%s %s)" % (st, js))

    loose = code.lower().replace("0", "o")
    st, js, _ = s.http("POST", "/api/family/concern",
                       {"code": loose, "who": "family", "name": "Daughter",
                        "concern": "Mum is not herself, breathing fast"})
    C.check(st == 201 and js["received"], "a family's call is taken (%s %s)" % (st, js))
    text = str(js)
    C.check(NHS not in text and "WARD7B" not in text and "BED04" not in text and str(pid) not in text,
            "the answer names nothing about the patient")
    row = s.db().execute("SELECT caller, channel, caller_name, recorded_by FROM marthas_call").fetchone()
    C.check(row == ("family", "bedside code", "Daughter", "family (bedside code)"),
            "stored as a Martha's Rule call from the family (%s)" % (row,))
    n = s.db().execute("SELECT count(*) FROM audit WHERE actor = 'family (bedside code)'").fetchone()[0]
    C.check(n >= 1, "audited as family (bedside code) (%d records)" % n)
    st, js, _ = s.http("GET", "/api/alerts", token=outreach)
    calls = [a for a in js["alerts"] if a["trigger"] == "marthas-rule"]
    C.check(st == 200 and len(calls) == 1 and calls[0]["level"] == "emergency",
            "outreach sees the call as an emergency alert (%s)" % js)

    st, js, _ = s.http("POST", "/api/family/daily-answer", {"code": code, "answer": "worse"})
    C.check(st == 201, "daily answer taken")
    st, js, _ = s.http("GET", "/api/patients/%d" % pid, token=nurse)
    C.check(js["daily"]["answer"] == "worse", "the daily answer reaches the ward")

    st, js, _ = s.http("POST", "/api/family/concern", {"code": code, "who": "patient", "concern": "x"},
                       headers={"Origin": "http://evil.example"})
    C.check(st == 403, "a family request from another site: 403")
    st, js, _ = s.http("POST", "/api/family/concern", {"code": code, "concern": "x"})
    C.check(st == 422, "who is needed: 422")

    for i in range(2):
        st, js, _ = s.http("POST", "/api/family/concern", {"code": code, "who": "carer", "concern": "again %d" % i})
        C.check(st == 201, "call %d taken" % (i + 2))
    st, js, _ = s.http("POST", "/api/family/concern", {"code": code, "who": "carer", "concern": "fourth"})
    C.check(st == 429, "a fourth call in the hour from one code: 429 (%s)" % st)

    tampered = code[:-1] + ("A" if code[-1] != "A" else "B")
    st, js404, _ = s.http("POST", "/api/family/daily-answer", {"code": tampered, "answer": "same"})
    C.check(st == 404, "an altered code: 404")
    st, js, _ = s.http("POST", "/api/family/daily-answer", {"code": "nonsense", "answer": "same"})
    C.check(st == 404 and js["error"]["message"] == js404["error"]["message"], "a wrong code: 404, same words")

    # discharge ends the code
    conn = s.mllp()
    C.check(ack_fields(conn.request(adt("D1", "A03", NHS, "WARD7B", bed="BED04")))[0] == "AA", "discharged")
    conn.close()
    st, js, _ = s.http("POST", "/api/family/daily-answer", {"code": code, "answer": "same"})
    C.check(st == 404, "the code ends at discharge (%s)" % st)

    # ten wrong codes from one address, then even a good one is refused
    conn = s.mllp()
    C.check(ack_fields(conn.request(adt("A3", "A01", NHS2, "WARD7B", bed="BED05")))[0] == "AA", "moved")
    conn.close()
    st, js, _ = s.http("GET", "/api/patients/%d/bedside-code" % pid2, token=nurse)
    code2 = js["code"]
    for i in range(8):  # 2 wrong so far
        s.http("POST", "/api/family/daily-answer", {"code": "ZZ-ZZ-%08d" % i, "answer": "same"})
    st, js, _ = s.http("POST", "/api/family/daily-answer", {"code": code2, "answer": "same"})
    C.check(st == 429, "after 10 wrong codes from one address: 429 (%s)" % st)
    C.check(not any(code in line or code2 in line for line in s.log), "no code in the log")
    s.stop()
    db = s.db_path

with Server(db=db) as s2:
    st, js, _ = s2.http("POST", "/api/family/daily-answer", {"code": code2, "answer": "better"})
    C.check(st == 201, "after a restart the same code still works (%s %s)" % (st, js))

# a store whose key was a file beside it (before issue 15): the file's key moves into the store,
# so the codes already printed on bedside cards keep working
old = tempfile.TemporaryDirectory(prefix="vigil-family-file-")
db3 = os.path.join(old.name, "ward.db")
file_key = bytes(range(7, 39))
with open(db3 + ".bedside-key", "wb") as fh:
    fh.write(file_key)
os.chmod(db3 + ".bedside-key", 0o600)
with Server(db=db3) as s3:
    conn = s3.mllp()
    C.check(ack_fields(conn.request(adt("A9", "A01", NHS, "WARD7B", bed="BED04")))[0] == "AA", "admitted")
    conn.close()
    pid3 = s3.db().execute("SELECT id FROM patient WHERE nhs_number=?", (NHS,)).fetchone()[0]
    st, js, _ = s3.http("GET", "/api/patients/%d/bedside-code" % pid3,
                        token=s3.add_user("nurse7", "nurse", ["WARD7B"]))
    C.check(st == 200 and js["code"] == code_under(file_key, pid3, admission_of(s3, pid3)),
            "a key file beside the store is moved in: the code is the file key's (%s)" % st)
    C.check(stored_key(s3) == file_key, "the store's secret is the file's key")

C.done()
