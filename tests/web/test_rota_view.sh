#!/usr/bin/env bash
# test_rota_view.sh: tests/web/rota.test.mjs in the browser (test_browser.sh's checks and
# skips): the rota page: gaps in words, adding and ending shifts by the roles that may.
exec bash "$(dirname "$0")/test_browser.sh" rota.test.mjs
