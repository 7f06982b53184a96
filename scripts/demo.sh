#!/usr/bin/env bash
# demo.sh: the main job. For now: score the bundled example ward with NEWS2.
set -euo pipefail
bin=${1:-build/vigil}
here=$(cd "$(dirname "$0")/.." && pwd)
echo "vigil demo: NEWS2 for the example ward (examples/ward.csv)" >&2
echo "Note: vigil's AI model is trained on ICU research data and is not validated for clinical use." >&2
"$bin" news2 --format csv "$here/examples/ward.csv"
