#!/usr/bin/env bash
# test_partial_view.sh: tests/web/partial.test.mjs in the browser (test_browser.sh's
# checks and skips): a partial set never shows a lower NEWS2 on the ward list.
exec bash "$(dirname "$0")/test_browser.sh" partial.test.mjs
