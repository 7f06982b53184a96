#!/usr/bin/env bash
# train-models.sh: rebuild the shipped model bundles from their configs, on their
# TRAINING data only, then record each bundle's scores on its held-out data
# (hospital B; set-b) in the bundle's evaluation.external list.
# usage: scripts/train-models.sh [DATA_DIR]   (needs build/vigil: make build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-${VIGIL_DATA_DIR:-$root/../shared/data}}
vigil=${VIGIL_BIN:-$root/build/vigil}
cd "$root"
"$vigil" train --task sepsis2019 --data "$data/physionet2019/training_setA.tar.gz" \
    --config models/sepsis2019.json --out models/vigil-sepsis-2019A.json \
    --model-id vigil-sepsis-2019A --model-version 1.0.0
"$vigil" train --task mortality2012 --data "$data/physionet2012/set-a.tar.gz" \
    --config models/mortality2012.json --out models/vigil-mortality-2012a.json \
    --model-id vigil-mortality-2012a --model-version 1.0.0
# score (never fit) the held-out data, and keep the figures in the bundles
VIGIL_DATA_DIR=$data "$vigil" evaluate --model models/vigil-sepsis-2019A.json --record
VIGIL_DATA_DIR=$data "$vigil" evaluate --model models/vigil-mortality-2012a.json --record
# the reverse direction (hospital B -> A), for the evaluation only: not shipped
mkdir -p build/models
# B's own config, chosen on B's internal splits only (A is its test hospital)
"$vigil" train --task sepsis2019 --data "$data/physionet2019/training_setB.tar.gz" \
    --config models/sepsis2019B.json --out build/models/vigil-sepsis-2019B.json \
    --model-id vigil-sepsis-2019B --model-version 1.0.0
VIGIL_DATA_DIR=$data "$vigil" evaluate --model build/models/vigil-sepsis-2019B.json
/usr/bin/python3 scripts/model_card.py models/vigil-sepsis-2019A.json > docs/models/vigil-sepsis-2019A.md
/usr/bin/python3 scripts/model_card.py models/vigil-mortality-2012a.json > docs/models/vigil-mortality-2012a.md
