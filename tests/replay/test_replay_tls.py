"""test_replay_tls.py: `vigil replay --tls-ca [--tls-cert --tls-key]` sends MLLP over
TLS to `vigil serve --mllp-tls-cert --mllp-tls-key --mllp-tls-ca` (issue 12 leftover).

- with the CA and a client certificate the CA issued: exit 0, every message AA, the
  sets stored, and their audit records name the client certificate's subject;
- without --tls-ca (plain MLLP to the TLS port, which hangs up): nothing acknowledged,
  replay gives up after ten closed connections, exit 3, nothing more stored;
- trusting another CA (the server's certificate does not chain to it): the handshake
  fails, exit 3, the reason on stderr;
- --tls-cert without --tls-key or without --tls-ca, a CA file with no certificate, a key
  that is not the certificate's: exit 2 before connecting.
Certificates are made with the openssl command (skip 77 without it).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "server"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reliability"))
from rel_util import Checks, replay_data, vigil_bin  # noqa: E402
from serve_util import Server  # noqa: E402

check = Checks()
if shutil.which("openssl") is None:
    print("skip: no openssl command to make test certificates")
    sys.exit(77)
data = replay_data()
V = vigil_bin()
tmp = tempfile.TemporaryDirectory(prefix="vigil-replay-tls-")


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


def make_leaf(name, ca, subj, ext_text):
    key, csr, crt, ext = (path(name + s) for s in (".key", ".csr", ".pem", ".ext"))
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", csr, "-subj", subj)
    with open(ext, "w") as f:
        f.write(ext_text)
    openssl("x509", "-req", "-in", csr, "-CA", path(ca + ".pem"), "-CAkey", path(ca + ".key"),
            "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext)
    os.chmod(key, 0o600)
    return crt, key


ca = make_ca("ward-ca")
other_ca = make_ca("other-ca")
srv_crt, srv_key = make_leaf("server", "ward-ca", "/CN=vigil-mllp",
                             "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
cli_crt, cli_key = make_leaf("client", "ward-ca", "/O=Replay/CN=replay-client",
                             "extendedKeyUsage=clientAuth\n")


def replay(port, *extra):
    return subprocess.run([V, "replay", "--data", data, "--mllp", "127.0.0.1:%d" % port,
                           "--patients", "2", "--hours", "6", "--rate", "max", "--json",
                           "--ack-timeout", "2", "--reconnect", "2"] + list(extra),
                          capture_output=True, text=True, timeout=120)


with Server(["--mllp-tls-cert", srv_crt, "--mllp-tls-key", srv_key, "--mllp-tls-ca", ca]) as s:
    r = replay(s.mllp_port, "--tls-ca", ca, "--tls-cert", cli_crt, "--tls-key", cli_key,
               "--id-prefix", "TLS.")
    summ = json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else {}
    check(r.returncode == 0 and summ.get("sent", 0) > 2 and summ.get("aa") == summ.get("sent"),
          "over TLS with a client certificate: exit 0, every message AA (%d, %s, %s)"
          % (r.returncode, {k: summ.get(k) for k in ("sent", "aa")}, r.stderr.strip()[-200:]))
    n_sets = s.count("obs_set")
    check(n_sets > 0, "the sets are stored (%d)" % n_sets)
    con = s.db()
    reasons = [x[0] for x in con.execute("SELECT reason FROM audit WHERE action = 'obs.put'")]
    con.close()
    check(reasons and all("cert CN=replay-client,O=Replay" in x for x in reasons),
          "their audit records name the client certificate (%r)" % reasons[:2])

    r = replay(s.mllp_port, "--id-prefix", "PLAIN.")
    check(r.returncode == 3 and "closed 10 times in a row with no ACK" in r.stderr,
          "plain MLLP to the TLS port: hung up on ten times, exit 3 (%d, %s)"
          % (r.returncode, r.stderr.strip()[-200:]))
    check(s.count("obs_set") == n_sets, "and nothing more is stored")

    r = replay(s.mllp_port, "--tls-ca", other_ca, "--tls-cert", cli_crt, "--tls-key", cli_key,
               "--id-prefix", "OTHER.")
    check(r.returncode == 3 and "TLS handshake with 127.0.0.1 failed" in r.stderr,
          "a server certificate outside --tls-ca: the handshake fails, exit 3 (%d, %s)"
          % (r.returncode, r.stderr.strip()[-200:]))
    check(s.count("obs_set") == n_sets, "and nothing more is stored")

for bad in (["--tls-ca", ca, "--tls-cert", cli_crt], ["--tls-cert", cli_crt, "--tls-key", cli_key]):
    r = subprocess.run([V, "replay", "--data", data, "--mllp", "127.0.0.1:9"] + bad,
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 2, "%s: usage, exit 2 (%d)" % (" ".join(bad[::2]), r.returncode))
for bad, why in ((["--tls-ca", cli_key], "no certificate in it"),
                 (["--tls-ca", ca, "--tls-cert", cli_crt, "--tls-key", srv_key], "with key")):
    r = subprocess.run([V, "replay", "--data", data, "--mllp", "127.0.0.1:9"] + bad,
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 2 and why in r.stderr,
          "%s: refused before connecting, exit 2 (%d, %s)" % (why, r.returncode, r.stderr.strip()))
tmp.cleanup()
check.done()
