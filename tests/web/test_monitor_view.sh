#!/usr/bin/env bash
# test_monitor_view.sh: tests/web/monitor.test.mjs in the browser (test_browser.sh's checks
# and skips): the safety view shows the live monitoring's alarms, figures and feed health.
exec bash "$(dirname "$0")/test_browser.sh" monitor.test.mjs
