#!/usr/bin/env python3
"""check_layering.py: the layering of STYLE.md section 1, checked on the tree and the build.

usage: check_layering.py SOURCE_DIR [BUILD_DIR [SERVING_BINARY]]

Checks, each violation one line on stdout, exit 1 when there is any:
  includes  every quoted include in src/<mod>/ and include/vigil/ maps to the module that
            implements it (HEADER_MODULE); the edge must be in ALLOWED; a private header
            (`*_int.h`, or any file under src/) of another module is never included;
            engine and network headers (SYSTEM_ONLY) only in the modules that own them;
            test-support headers (TEST_ONLY) nowhere in src/ but their implementation.
  archives  (with BUILD_DIR) every symbol a module's archive leaves undefined and another
            module's archive defines: that edge must be in ALLOWED too, so a link that
            breaks the layering fails even without an include (an `extern` prototype).
  serving   (with BUILD_DIR) the serving binary (BUILD_DIR/vigil, or SERVING_BINARY)
            neither needs libxgboost (readelf -d) nor contains a symbol of src/train.
Does not: judge the CLI beyond "vigil never links training" (the CLI sits on top).
"""
import os
import re
import subprocess
import sys

# Dependencies point one way (STYLE.md section 1); the CMake DEPS of each module.
ALLOWED = {
    "util": set(),
    "core": {"util"},
    "model": {"core", "util"},
    "data": {"core", "util"},
    "eval": {"model", "data", "core", "util"},
    "train": {"eval", "model", "data", "core", "util"},
    "hl7": {"core", "util"},
    "fhir": {"core", "util"},
    # the store opens its backends through the registry (src/store/backends.c) only
    "store": {"core", "util", "store/sqlite", "store/pg"},
    # a backend does storage for the store: the store's helpers, nothing above
    "store/sqlite": {"store", "core", "util"},
    "store/pg": {"store", "core", "util"},
    "replay": {"hl7", "data", "core", "util"},
    # the monitoring checks (no I/O), shared by `vigil monitor` and the server's monitor thread
    "monitor": {"eval", "model", "data", "core", "util"},
    "server": {"store", "monitor", "model", "hl7", "fhir", "core", "util"},
    # the serving CLI: every module but training; cli/train is the training binary
    "cli": {"util", "core", "model", "data", "eval", "monitor", "hl7", "fhir", "store",
            "store/sqlite", "store/pg", "replay", "server"},
    "cli/train": {"util", "core", "model", "data", "eval", "train", "cli"},
}

# include/vigil/<name>.h -> the module that implements it. A new header must be added here.
HEADER_MODULE = {
    "status": "util", "util": "util", "tz": "util",
    "assemble": "core", "escalation": "core", "news2": "core", "obs_text": "core",
    "vars": "core", "vitals": "core", "ward": "core",
    "calibrate": "model", "features": "model", "model": "model", "range_guard": "model",
    "trees": "model",
    "cohort": "eval", "eval": "eval", "report": "eval", "validation": "eval",
    "data": "data", "fhir": "fhir", "hl7": "hl7", "mllp": "hl7", "replay": "replay",
    "monitor": "monitor",
    "server": "server", "ai_scorer": "server",
    "store": "store", "audit": "store", "store_test": "store",
    "train": "train",
}

# Public headers for tests only: no file under src/ includes them but their implementation.
TEST_ONLY = {"vigil/store_test.h": "src/store/store_test.c"}

# System headers only the named source folders may include (prefix match on the path).
SYSTEM_ONLY = [
    (re.compile(r"^sqlite3\.h$"), ("src/store/sqlite/",)),
    (re.compile(r"^libpq-fe\.h$"), ("src/store/pg/",)),
    (re.compile(r"^xgboost/"), ("src/train/",)),
    (re.compile(r"^gnutls/"), ("src/server/",)),
    (re.compile(r"^argon2\.h$"), ("src/store/password.c",)),
    (re.compile(r"^(microhttpd\.h|curl/|sys/socket\.h|sys/epoll\.h|netinet/|arpa/|netdb\.h)"),
     ("src/server/", "src/cli/", "src/replay/")),
]

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def module_of(rel):
    """The module a path under src/ belongs to ('cli/train' is its own unit)."""
    parts = rel.split("/")
    if parts[0] != "src" or len(parts) < 3:
        return None
    if parts[1] == "cli" and parts[2] == "train" and len(parts) > 3:
        return "cli/train"
    if parts[1] == "store" and len(parts) > 3:
        return "store/" + parts[2]  # a backend: its own target
    return parts[1]


# A unit may include its parent's private headers (a backend, store_int.h; vigil-train, cli.h).
PARENT = {"cli/train": "cli", "store/sqlite": "store", "store/pg": "store"}


def check_includes(src_dir):
    bad = []
    files = []
    for top in ("src", "include/vigil"):
        for root, _, names in os.walk(os.path.join(src_dir, top)):
            for n in sorted(names):
                if n.endswith((".c", ".h")):
                    files.append(os.path.relpath(os.path.join(root, n), src_dir))
    for name in sorted(os.path.splitext(f)[0].split("/")[-1] for f in files
                       if f.startswith("include/vigil/")):
        if name not in HEADER_MODULE:
            bad.append(f"include/vigil/{name}.h: no module in check_layering.py's HEADER_MODULE")
    for rel in sorted(files):
        if rel.startswith("include/vigil/"):
            mod = HEADER_MODULE.get(os.path.splitext(os.path.basename(rel))[0])
        else:
            mod = module_of(rel)
        if mod is None:
            continue
        text = open(os.path.join(src_dir, rel), encoding="utf-8", errors="replace").read()
        for m in INCLUDE.finditer(text):
            kind, inc = m.group(1), m.group(2)
            line = text.count("\n", 0, m.start()) + 1
            where = f"{rel}:{line}"
            if kind == "<":
                for pat, owners in SYSTEM_ONLY:
                    if pat.search(inc) and not rel.startswith(owners):
                        bad.append(f"{where}: {mod} includes <{inc}>, which only "
                                   f"{', '.join(owners)} may use")
                continue
            if inc in TEST_ONLY and rel != TEST_ONLY[inc] and not rel.startswith("include/"):
                bad.append(f"{where}: {mod} includes {inc}, test support only")
                continue
            if inc.startswith("vigil/"):
                target = HEADER_MODULE.get(os.path.splitext(inc[len("vigil/"):])[0])
                if target is None:
                    bad.append(f"{where}: {inc} has no module in HEADER_MODULE")
                elif target != mod and target not in ALLOWED.get(mod, set()):
                    bad.append(f"{where}: {mod} includes {inc} ({target}): "
                               f"{mod} may use only {sorted(ALLOWED.get(mod, set()))}")
                continue
            path = os.path.normpath(os.path.join(os.path.dirname(rel), inc))
            target = module_of(path) if path.startswith("src/") else None
            if target is not None and target != mod and PARENT.get(mod) != target:
                bad.append(f"{where}: {mod} includes {inc}, private to {target}")
    return bad


def nm(path, args):
    out = subprocess.run(["nm", *args, path], capture_output=True, text=True, check=True)
    syms = set()
    for line in out.stdout.splitlines():
        f = line.split()
        if len(f) >= 2 and not line.endswith(":"):
            syms.add((f[-2], f[-1]))
    return syms


def check_archives(build_dir):
    bad = []
    defined, undefined = {}, {}
    for n in sorted(os.listdir(build_dir)):
        m = re.match(r"^libvigil_([a-z0-9_]+)\.a$", n)
        if not m:
            continue
        unit = m.group(1).replace("store_", "store/", 1)  # libvigil_store_sqlite.a
        syms = nm(os.path.join(build_dir, n), ["-g"])
        defined[unit] = {s for t, s in syms if t not in ("U", "w", "v")}
        undefined[unit] = {s for t, s in syms if t == "U"}
    owner = {}
    for mod, syms in defined.items():
        for s in syms:
            owner.setdefault(s, mod)
    for mod in sorted(undefined):
        uses = {}
        for s in undefined[mod]:
            o = owner.get(s)
            if o is not None and o != mod and o not in ALLOWED.get(mod, set()):
                uses.setdefault(o, []).append(s)
        for o, syms in sorted(uses.items()):
            bad.append(f"libvigil_{mod.replace('/', '_')}.a uses {o} ({', '.join(sorted(syms)[:3])}): "
                       f"{mod} may use only {sorted(ALLOWED.get(mod, set()))}")
    return bad, defined.get("train", set())


def check_serving(binary, train_syms):
    bad = []
    if not os.path.exists(binary):
        return [f"{binary}: not built"]
    dyn = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True)
    for line in dyn.stdout.splitlines():
        if "NEEDED" in line and "xgboost" in line:
            bad.append(f"{binary} needs libxgboost: {line.split('[')[-1].rstrip(']')}")
    present = {s for _, s in nm(binary, [])} & train_syms
    if present:
        bad.append(f"{binary} contains src/train's symbols: {', '.join(sorted(present)[:3])}")
    return bad


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    src_dir = argv[1]
    bad = check_includes(src_dir)
    if len(argv) >= 3:
        arch_bad, train_syms = check_archives(argv[2])
        bad += arch_bad
        binary = argv[3] if len(argv) >= 4 else os.path.join(argv[2], "vigil")
        bad += check_serving(binary, train_syms)
    for b in bad:
        print(b)
    print(f"layering: {len(bad)} violations")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
