"""test_serve_mllp_tls.py: `vigil serve --mllp-tls-cert --mllp-tls-key
[--mllp-tls-ca]` on a live server (MLLP over TLS, GnuTLS, issue 12 item 4).

Checks, with a CA given (mutual TLS):
 - a client whose certificate the CA issued gets AA and the set is stored;
   the audit record of the stored set names the peer address and the
   certificate's subject (REQ SERVER-MLLP-TLS-SUBJECT);
 - a client without a certificate, and one whose certificate another CA
   issued, get no ACK and nothing of theirs is stored
   (REQ SERVER-MLLP-TLS-MUTUAL); each is counted on /metrics;
 - plain MLLP to the TLS port gets no ACK and stores nothing;
 - a TLS 1.1 client is refused (TLS 1.2 and 1.3 only), when this Python's
   OpenSSL can still offer 1.1;
 - a stalled handshake (a TCP connection that sends nothing, and one that
   sends half a ClientHello) is closed at the idle timeout
   (REQ SERVER-MLLP-TLS-IDLE); the per-address limit holds for TLS
   connections as for plain ones;
 - 300 messages pipelined in one write, with a small ACK backlog so the
   listener pauses while GnuTLS still holds decrypted records, all get AA
   in order;
Without a CA: a client with no certificate gets AA (encryption only).
With a CRL (--mllp-tls-crl, REQ SERVER-MLLP-TLS-CRL): a certificate the CA
revoked gets no ACK and nothing of it is stored, another of the same CA still
gets AA; --mllp-tls-crl without --mllp-tls-ca, and a file holding no CRL, stop
the server.
A sender bound to a certificate (--hl7-sender 'EOBS/RX1|CN=ward7-monitor-1,O=Ward 7',
REQ SERVER-HL7-SENDER-CERT): another certificate the CA issued, sending as EOBS/RX1,
gets AR and nothing is stored; the bound certificate gets AA; an unbound entry
(PAS/RX1) is still open to any trusted certificate; a bad entry stops the server.
Refusing to start: a key that is not the certificate's, a CA file that is
not PEM, a missing key file, --mllp-tls-ca without a certificate: each stops
the server with a reason naming the file or the option.
Certificates are made with the openssl command (skip 77 without it).
"""
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Checks, Server, ack_fields, frame, oru, vigil_bin, SB, EB, CR  # noqa: E402

C = Checks()
if shutil.which("openssl") is None:
    print("skip: no openssl command to make test certificates")
    sys.exit(77)

tmp = tempfile.TemporaryDirectory(prefix="vigil-mllp-tls-")


def path(name):
    return os.path.join(tmp.name, name)


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True)


def make_ca(name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", path(name + ".key"), "-out", path(name + ".pem"), "-days", "2",
            "-subj", "/CN=%s" % name, "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return path(name + ".pem")


def make_leaf(name, ca, subj, server):
    key, csr, crt, ext = (path(name + s) for s in (".key", ".csr", ".pem", ".ext"))
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", csr, "-subj", subj)
    with open(ext, "w") as f:
        if server:
            f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        else:
            f.write("extendedKeyUsage=clientAuth\n")
    openssl("x509", "-req", "-in", csr, "-CA", path(ca + ".pem"), "-CAkey", path(ca + ".key"),
            "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext)
    os.chmod(key, 0o600)
    return crt, key


ca = make_ca("ward-ca")
other_ca = make_ca("other-ca")
srv_crt, srv_key = make_leaf("server", "ward-ca", "/CN=vigil-mllp", True)
cli_crt, cli_key = make_leaf("monitor", "ward-ca", "/O=Ward 7/CN=ward7-monitor-1", False)
bad_crt, bad_key = make_leaf("intruder", "other-ca", "/CN=ward7-monitor-1", False)


def client_ctx(cert=None, key=None, tls11=False):
    ctx = ssl.create_default_context(cafile=ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    if tls11:
        warnings.simplefilter("ignore", DeprecationWarning)  # the point is an old version
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1_1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    return ctx


class TlsMllp:
    """One MLLP connection over TLS; None from read_ack when it ended."""

    def __init__(self, port, ctx, timeout=15):
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        self.buf = b""

    def send(self, raw):
        self.s.sendall(raw)

    def read_ack(self):
        while True:
            i = self.buf.find(SB)
            j = self.buf.find(EB + CR, i + 1) if i >= 0 else -1
            if i >= 0 and j >= 0:
                ack = self.buf[i + 1:j]
                self.buf = self.buf[j + 2:]
                return ack
            try:
                d = self.s.recv(65536)
            except (ssl.SSLError, OSError):
                return None
            if not d:
                return None
            self.buf += d

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def try_request(port, ctx, msg):
    """(handshake completed, the ACK or None). TLS 1.3 lets the client finish
    its handshake before the server has checked the client's certificate, so
    a refusal may come at the first read."""
    try:
        c = TlsMllp(port, ctx)
    except (ssl.SSLError, OSError):
        return False, None
    try:
        c.send(frame(msg))
        return True, c.read_ack()
    except (ssl.SSLError, OSError):
        return True, None
    finally:
        c.close()


def closed_within(sock, secs):
    """Seconds until the server closed sock, or None when it stayed open."""
    t0 = time.monotonic()
    sock.settimeout(secs)
    try:
        while True:
            d = sock.recv(4096)
            if not d:
                return time.monotonic() - t0
    except socket.timeout:
        return None
    except OSError:
        return time.monotonic() - t0


def metric(s, name):
    st, text, _ = s.http("GET", "/metrics", token=s.admin_token())
    for line in (text or "").splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None


args = ["--mllp-tls-cert", srv_crt, "--mllp-tls-key", srv_key, "--mllp-tls-ca", ca,
        "--mllp-idle-timeout", "2", "--mllp-conns-per-addr", "3", "--mllp-ack-backlog", "8"]
with Server(args) as s:
    C.check(any("MLLP over TLS" in l and "client certificates required" in l for l in s.log),
            "start says MLLP over TLS with client certificates")
    # a trusted client
    ok, ack = try_request(s.mllp_port, client_ctx(cli_crt, cli_key), oru("TLS-OK-1", hr=131))
    C.check(ok and ack is not None and ack_fields(ack)[0] == "AA", "trusted client gets AA (%r)"
            % (ack,))
    C.check(s.count("obs_set", "hr_bpm = 131") == 1, "its set is stored")
    con = s.db()
    reasons = [r[0] for r in con.execute(
        "SELECT reason FROM audit WHERE action = 'obs.put'").fetchall()]
    con.close()
    C.check(any("127.0.0.1" in r and "CN=ward7-monitor-1" in r and "O=Ward 7" in r
                for r in reasons),
            "the audit record names the peer and the certificate's subject (%r)" % reasons[:3])

    # no certificate; another CA's certificate (with the same CN)
    before = metric(s, 'vigil_mllp_closed_total{reason="tls_handshake"}')
    _, ack = try_request(s.mllp_port, client_ctx(), oru("TLS-NOCERT", hr=132))
    C.check(ack is None, "a client without a certificate gets no ACK (%r)" % (ack,))
    _, ack = try_request(s.mllp_port, client_ctx(bad_crt, bad_key), oru("TLS-OTHERCA", hr=133))
    C.check(ack is None, "a client with another CA's certificate gets no ACK (%r)" % (ack,))
    # plain MLLP to the TLS port
    p = socket.create_connection(("127.0.0.1", s.mllp_port), timeout=10)
    p.sendall(frame(oru("PLAIN-1", hr=134)))
    got = b""
    try:
        while True:
            d = p.recv(4096)
            if not d:
                break
            got += d
    except OSError:
        pass
    p.close()
    C.check(b"MSA|" not in got, "plain MLLP to the TLS port gets no ACK (%r)" % got[:40])
    # TLS 1.1, when the client side can still speak it
    try:
        ctx11 = client_ctx(cli_crt, cli_key, tls11=True)
    except (ssl.SSLError, ValueError):
        ctx11 = None
    if ctx11 is not None:
        ok11, ack = try_request(s.mllp_port, ctx11, oru("TLS-11", hr=135))
        C.check(ack is None, "a TLS 1.1 client is refused (%r)" % (ack,))
    else:
        print("note: this OpenSSL cannot offer TLS 1.1; that case not checked")
    C.check(s.count("obs_set", "hr_bpm IN (132, 133, 134, 135)") == 0,
            "nothing of the refused clients is stored")
    after = metric(s, 'vigil_mllp_closed_total{reason="tls_handshake"}')
    C.check(before is not None and after is not None and after - before >= 3,
            "failed handshakes counted on /metrics (%s -> %s)" % (before, after))

    # stalled handshakes: nothing sent; half a ClientHello
    idle = socket.create_connection(("127.0.0.1", s.mllp_port), timeout=10)
    half = socket.create_connection(("127.0.0.1", s.mllp_port), timeout=10)
    half.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    third = socket.create_connection(("127.0.0.1", s.mllp_port), timeout=10)
    fourth = socket.create_connection(("127.0.0.1", s.mllp_port), timeout=10)
    t4 = closed_within(fourth, 1.5)
    C.check(t4 is not None and t4 < 1.0,
            "a fourth connection from the address is closed at once (%s)" % t4)
    t1, t2 = closed_within(idle, 8), closed_within(half, 8)
    C.check(t1 is not None and t2 is not None,
            "stalled handshakes are closed at the 2 s idle timeout (%s, %s)" % (t1, t2))
    for x in (idle, half, third, fourth):
        x.close()

    # pipelining: 300 messages in one write, ACK backlog 8
    c = TlsMllp(s.mllp_port, client_ctx(cli_crt, cli_key))
    c.send(b"".join(frame(oru("PIPE-%03d" % k, hr=60 + k % 40,
                              t="20250114%02d%02d00+0000" % (9 + k // 60, k % 60)))
                    for k in range(300)))
    acks = []
    for _ in range(300):
        a = c.read_ack()
        if a is None:
            break
        acks.append(ack_fields(a))
    c.close()
    C.check(len(acks) == 300 and all(a[0] == "AA" for a in acks),
            "300 pipelined messages over TLS: 300 AA (%d, %s)" % (len(acks), acks[-1:]))
    C.check([a[1] for a in acks] == ["PIPE-%03d" % k for k in range(len(acks))],
            "their ACKs come in order")

# without a CA: TLS for encryption only
with Server(["--mllp-tls-cert", srv_crt, "--mllp-tls-key", srv_key]) as s:
    ok, ack = try_request(s.mllp_port, client_ctx(), oru("TLS-NOCA", hr=141))
    C.check(ack is not None and ack_fields(ack)[0] == "AA",
            "without --mllp-tls-ca a client with no certificate gets AA (%r)" % (ack,))
    con = s.db()
    reasons = [r[0] for r in con.execute(
        "SELECT reason FROM audit WHERE action = 'obs.put'").fetchall()]
    con.close()
    C.check(reasons and all(" cert " not in r for r in reasons), "and no subject is recorded")


# a sender bound to one certificate subject
cli2_crt, cli2_key = make_leaf("monitor2", "ward-ca", "/O=Ward 7/CN=ward7-monitor-2", False)
bound = ["--mllp-tls-cert", srv_crt, "--mllp-tls-key", srv_key, "--mllp-tls-ca", ca,
         "--hl7-sender", "EOBS/RX1|CN=ward7-monitor-1,O=Ward 7", "--hl7-sender", "PAS/RX1"]
with Server(bound) as s:
    ok, ack = try_request(s.mllp_port, client_ctx(cli2_crt, cli2_key), oru("BIND-2", hr=151))
    f = ack_fields(ack) if ack is not None else None
    C.check(ok and f is not None and f[0] == "AR" and "unknown-sender" in f[2],
            "a trusted certificate of another subject sending as EOBS/RX1 gets AR (%r)" % (f,))
    C.check(s.count("obs_set", "hr_bpm = 151") == 0, "and nothing of it is stored")
    ok, ack = try_request(s.mllp_port, client_ctx(cli_crt, cli_key), oru("BIND-1", hr=152))
    C.check(ack is not None and ack_fields(ack)[0] == "AA",
            "the bound certificate gets AA (%r)" % (ack,))
    C.check(s.count("obs_set", "hr_bpm = 152") == 1, "and its set is stored")
    pas = oru("BIND-3", hr=153).replace(b"MSH|^~\\&|EOBS|RX1|", b"MSH|^~\\&|PAS|RX1|")
    ok, ack = try_request(s.mllp_port, client_ctx(cli2_crt, cli2_key), pas)
    C.check(ack is not None and ack_fields(ack)[0] == "AA",
            "an unbound entry (PAS/RX1) is open to any trusted certificate (%r)" % (ack,))


# a revocation list: the CA revokes one client's certificate
def make_crl(ca_name, revoke):
    """The CA's CRL (PEM) naming the certificates in revoke, by `openssl ca`."""
    db, cnf = path(ca_name + ".index"), path(ca_name + ".cnf")
    open(db, "w").close()
    with open(path(ca_name + ".crlnum"), "w") as f:
        f.write("01\n")
    with open(cnf, "w") as f:
        f.write("[ca]\ndefault_ca = c\n[c]\ndatabase = %s\ncrlnumber = %s\n"
                "default_md = sha256\ndefault_crl_days = 2\n"
                % (db, path(ca_name + ".crlnum")))
    for crt in revoke:
        openssl("ca", "-config", cnf, "-keyfile", path(ca_name + ".key"),
                "-cert", path(ca_name + ".pem"), "-revoke", crt)
    out = path(ca_name + ".crl.pem")
    openssl("ca", "-config", cnf, "-keyfile", path(ca_name + ".key"),
            "-cert", path(ca_name + ".pem"), "-gencrl", "-out", out)
    return out


rev_crt, rev_key = make_leaf("revoked", "ward-ca", "/O=Ward 7/CN=ward7-monitor-9", False)
crl = make_crl("ward-ca", [rev_crt])
with Server(["--mllp-tls-cert", srv_crt, "--mllp-tls-key", srv_key, "--mllp-tls-ca", ca,
             "--mllp-tls-crl", crl]) as s:
    _, ack = try_request(s.mllp_port, client_ctx(rev_crt, rev_key), oru("CRL-REVOKED", hr=161))
    C.check(ack is None, "a revoked certificate gets no ACK (%r)" % (ack,))
    C.check(s.count("obs_set", "hr_bpm = 161") == 0, "and nothing of it is stored")
    ok, ack = try_request(s.mllp_port, client_ctx(cli_crt, cli_key), oru("CRL-OK", hr=162))
    C.check(ack is not None and ack_fields(ack)[0] == "AA",
            "a certificate the list does not name still gets AA (%r)" % (ack,))
# the same certificate is accepted without the list: the refusal above was the revocation
with Server(["--mllp-tls-cert", srv_crt, "--mllp-tls-key", srv_key, "--mllp-tls-ca", ca]) as s:
    ok, ack = try_request(s.mllp_port, client_ctx(rev_crt, rev_key), oru("CRL-NOLIST", hr=163))
    C.check(ack is not None and ack_fields(ack)[0] == "AA",
            "without --mllp-tls-crl the same certificate gets AA (%r)" % (ack,))


def refuses(extra, want):
    with tempfile.TemporaryDirectory(prefix="vigil-mllp-tls-db-") as d:
        r = subprocess.run([vigil_bin(), "serve", "--db", os.path.join(d, "w.db"), "--http-port",
                            "0", "--mllp-port", "0"] + extra, capture_output=True, timeout=60)
    err = r.stderr.decode("utf-8", "replace")
    C.check(r.returncode != 0 and want in err,
            "refuses to start: %s (rc %d, %r)" % (want, r.returncode, err.strip()[-200:]))


_, other_key = make_leaf("other", "ward-ca", "/CN=other", True)
notpem = path("notpem.txt")
with open(notpem, "w") as f:
    f.write("not a certificate\n")
refuses(["--mllp-tls-cert", srv_crt, "--mllp-tls-key", other_key], "cannot use the certificate")
refuses(["--mllp-tls-cert", srv_crt, "--mllp-tls-key", srv_key, "--mllp-tls-ca", notpem],
        "holds no PEM block")
refuses(["--mllp-tls-cert", srv_crt, "--mllp-tls-key", path("missing.key")], "missing.key")
refuses(["--mllp-tls-ca", ca], "--mllp-tls-ca needs them")
refuses(["--mllp-tls-cert", srv_crt, "--mllp-tls-key", srv_key, "--mllp-tls-crl", crl],
        "--mllp-tls-crl needs --mllp-tls-ca")
refuses(["--mllp-tls-cert", srv_crt, "--mllp-tls-key", srv_key, "--mllp-tls-ca", ca,
         "--mllp-tls-crl", ca], "cannot read the revocation lists in")
refuses(["--hl7-sender", "EOBS/RX1|"], "APP/FAC|CERTIFICATE-SUBJECT")
C.done()
