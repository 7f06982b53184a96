#!/usr/bin/env bash
# test_news2_js.sh: tests/web/news2_js.test.mjs in the browser (test_browser.sh's checks and
# skips): NEWS2 as typed equals the core's at every band edge, decimals included.
exec bash "$(dirname "$0")/test_browser.sh" news2_js.test.mjs
