#!/usr/bin/env bash
# test_browser.sh: the web app in a real browser (tests/web/app.test.mjs):
# Debian's Chromium driven by playwright-core, axe-core on every page,
# screenshots under the build folder (web-screenshots/). scripts/setup.sh
# installs chromium and the npm packages; the test skips (77) only when they
# are truly absent, and says which.
set -uo pipefail
src=${VIGIL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
chromium=${VIGIL_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "skip: $chromium is not installed (scripts/setup.sh installs Debian's chromium)"
  exit 77
fi
if ! command -v node >/dev/null 2>&1 || [ ! -d "$src/node_modules/playwright-core" ] ||
   [ ! -d "$src/node_modules/axe-core" ]; then
  echo "skip: node or npm's playwright-core/axe-core missing (scripts/setup.sh runs npm ci)"
  exit 77
fi
if [ ! -f "${VIGIL_BUILD_DIR:-$src/build}/web/index.html" ]; then
  echo "FAIL: the build has no web/index.html (node scripts/web_build.mjs)"
  exit 1
fi
exec node "$src/tests/web/${1:-app.test.mjs}"
