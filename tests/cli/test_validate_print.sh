#!/usr/bin/env bash
# test_validate_print.sh: the validation report as a person sees it: Debian's
# Chromium renders it (a screenshot kept under <build>/web-screenshots) and
# prints it to PDF with no script; the PDF has several A4 pages, every
# section, the model's AUROC as `vigil evaluate --json` gives it, and no text
# cut at the right edge (pdftotext's widest line fits the page).
set -u
bin=${VIGIL_BIN:?}
src=${VIGIL_SOURCE_DIR:?}
data=${VIGIL_DATA_DIR:-$src/../shared/data}/physionet2019/training_setB.tar.gz
chromium=${VIGIL_CHROMIUM:-/usr/bin/chromium}
[ -f "$data" ] || { echo "skip: shared data not found"; exit 77; }
[ -x "$chromium" ] || { echo "skip: $chromium is not installed (scripts/setup.sh)"; exit 77; }
command -v pdftotext >/dev/null || { echo "skip: poppler-utils not installed (scripts/setup.sh)"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
shots=${VIGIL_BUILD_DIR:-$tmp}/web-screenshots
mkdir -p "$shots"
pass=0; fail=0
check() { if [ "$2" -eq 0 ]; then echo "ok: $1"; pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }

model=$src/models/vigil-sepsis-2019A.json
"$bin" validate --model "$model" --data "$data" --max-stays 300 --out "$tmp/report.html" 2>/dev/null
check "validate writes the report" $?
"$bin" evaluate --model "$model" --data "$data" --max-stays 300 --json >"$tmp/ev.json" 2>/dev/null
auroc=$(python3 -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))[0]["model"]["overall"]["auroc"])' "$tmp/ev.json")
flags=(--headless --no-sandbox --disable-gpu --disable-javascript --user-data-dir="$tmp/profile")
timeout 120 "$chromium" "${flags[@]}" --window-size=1100,2400 \
  --screenshot="$shots/validation-report.png" "file://$tmp/report.html" >/dev/null 2>&1
check "a screenshot ($shots/validation-report.png)" $([ -s "$shots/validation-report.png" ]; echo $?)
timeout 120 "$chromium" "${flags[@]}" --no-pdf-header-footer --print-to-pdf="$tmp/report.pdf" \
  "file://$tmp/report.html" >/dev/null 2>&1
pages=$(pdfinfo "$tmp/report.pdf" 2>/dev/null | awk '/^Pages:/ {print $2}')
size=$(pdfinfo "$tmp/report.pdf" 2>/dev/null | awk '/^Page size:/ {print $3 "x" $5}')
check "printed to PDF: ${pages:-0} pages of $size pt" $([ "${pages:-0}" -ge 3 ]; echo $?)
pdftotext -layout "$tmp/report.pdf" "$tmp/report.txt"
for h in "1. Intended use" "2. The cohort" "3. Discrimination" "4. Calibration" \
         "5. The operating point" "6. Subgroups" "7. Model card" "raises, never lowers"; do
  grep -qF "$h" "$tmp/report.txt"; check "the PDF has \"$h\"" $?
done
grep -qF "$auroc" "$tmp/report.txt"; check "the PDF shows the model's AUROC $auroc" $?
pdftotext -bbox "$tmp/report.pdf" "$tmp/bbox.html"
over=$(python3 - "$tmp/bbox.html" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
pages = re.findall(r'<page width="([\d.]+)"', t)
w = float(pages[0]) if pages else 0
xs = [float(x) for x in re.findall(r'xMax="([\d.]+)"', t)]
print(sum(1 for x in xs if x > w))
PY
)
check "no word runs off the page ($over)" $([ "$over" = 0 ]; echo $?)
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
