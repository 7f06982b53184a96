#!/usr/bin/env bash
# test_pages_view.sh: tests/web/pages.test.mjs in the browser (test_browser.sh's checks
# and skips): a page reaches the responder's open web app and leaves it when acknowledged.
exec bash "$(dirname "$0")/test_browser.sh" pages.test.mjs
