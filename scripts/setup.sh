#!/usr/bin/env bash
# setup.sh: install every Debian package vigil needs to build, test and run.
# Then the npm packages of package.json at the versions package-lock.json pins
# (nhsuk-frontend for the web app; playwright-core and axe-core for tests/web),
# with `npm ci`, only when node_modules is missing or older than the lockfile.
# Idempotent: when everything is already installed it touches nothing and
# returns at once. Needs root (or sudo) only when something is missing.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git
  libcmocka-dev            # unit tests under CTest
  libjansson-dev           # JSON (FHIR, API, model bundles)
  libsqlite3-dev sqlite3   # embedded store
  libpq-dev                # the PostgreSQL store backend (src/store/pg)
  postgresql-15 postgresql-common  # tests: a throw-away PostgreSQL 15 (pg_virtualenv)
  libsodium-dev            # argon2id password hashes, random tokens
  libargon2-dev            # argon2id sign-in checks in a reserved arena (flat memory under a flood)
  libssl-dev               # SHA-256 audit chain
  libarchive-dev zlib1g-dev  # read the data archives in place
  libmicrohttpd-dev        # HTTP server
  libgnutls28-dev          # MLLP over TLS (HTTPS goes through libmicrohttpd's GnuTLS)
  libqrencode-dev          # QR codes on the family page's bedside cards
  libcurl4-openssl-dev     # pages to a paging gateway's webhook (HTTPS, timeouts)
  tzdata                   # IANA time zones (TZif, /usr/share/zoneinfo): senders' local times
  libxgboost-dev           # training (not needed at serving time)
  python3 python3-numpy python3-sklearn python3-xgboost python3-pandas  # test oracles, bench peers
  python3-hl7              # HL7 v2 parser: oracle for tests/hl7
  clang-14 libclang-rt-14-dev  # libFuzzer, sanitizers
  strace                   # tests/reliability: the ACK leaves only after the WAL fsync
  openssl                  # tests/server: a certificate for the HTTPS test
  chromium chromium-driver # tests/web: the browser the tests drive (playwright-core)
  zbar-tools               # tests/web: zbarimg decodes the bedside card's QR code
  poppler-utils            # tests/cli/test_validate_print.sh: the report printed to PDF
)
# node and npm for the web app's assets and its browser tests: Debian's, unless
# a node with its own npm is already there (Debian's npm would conflict with it)
if ! command -v node >/dev/null 2>&1; then PKGS+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then PKGS+=(npm); fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

npm_deps() {
  local here
  here=$(cd "$(dirname "$0")/.." && pwd)
  if [ ! -f "$here/node_modules/.package-lock.json" ] ||
     [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
    echo "setup: npm ci (nhsuk-frontend, playwright-core, axe-core)" >&2
    (cd "$here" && npm ci --no-audit --no-fund >&2)
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  npm_deps
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "setup: need root to install: ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
npm_deps
