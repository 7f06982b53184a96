#!/usr/bin/env bash
# train-models.sh: rebuild the shipped model bundles from their configs, on their
# TRAINING data only, then record each bundle's scores on its held-out data
# (hospital B; set-b) in the bundle's evaluation.external list, and train the models
# whose figures are printed beside them (docs/model.md, section 11):
#   shipped  models/vigil-sepsis-2019A.json    ward vitals+labs, hospital A (the default)
#            models/vigil-mortality-2012ab.json 2012 mortality, set-a + set-b, with 5-fold
#                                              cross-validated figures (research feature set:
#                                              an ICU task, not a ward model)
#            models/vigil-mortality-2012a.json  the same on set-a only, for set-a -> set-b
#   beside   build/models/: the ward vitals model, the research variant and the
#            reverse direction (B -> A) of each, and the 2012 ward model
# usage: scripts/train-models.sh [DATA_DIR]   (needs build/vigil and build/vigil-train: make build)
# Each training runs on one thread under nice; the whole run takes about 20-25 minutes here.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-${VIGIL_DATA_DIR:-$root/../shared/data}}
vigil=${VIGIL_BIN:-$root/build/vigil}
train_bin=${VIGIL_TRAIN_BIN:-$(dirname "$vigil")/vigil-train}
cd "$root"
mkdir -p build/models
train() { # task data config out id
    nice -n 10 "$train_bin" --task "$1" --data "$2" --config "$3" --out "$4" \
        --model-id "$5" --model-version 2.2.0
}
score() { VIGIL_DATA_DIR=$data nice -n 10 "$vigil" evaluate --model "$@"; }
a19=$data/physionet2019/training_setA.tar.gz
b19=$data/physionet2019/training_setB.tar.gz
a12=$data/physionet2012/set-a.tar.gz

# the shipped default: ward vitals+labs trained on A, scored (never fitted) on B
train sepsis2019 "$a19" models/sepsis2019A-ward-labs.json models/vigil-sepsis-2019A.json \
    vigil-sepsis-2019A-ward-labs
score models/vigil-sepsis-2019A.json --record
train mortality2012 "$a12" models/mortality2012.json models/vigil-mortality-2012a.json \
    vigil-mortality-2012a
score models/vigil-mortality-2012a.json --record
train mortality2012 "$data/physionet2012" models/mortality2012ab.json \
    models/vigil-mortality-2012ab.json vigil-mortality-2012ab

# beside them, for the figures only (not shipped): each config was chosen on its own
# training hospital's internal splits only (A's on A, B's on B)
for h in A B; do
    data19=$a19; [ "$h" = B ] && data19=$b19
    research=models/sepsis2019.json; [ "$h" = B ] && research=models/sepsis2019B.json
    [ "$h" = B ] && train sepsis2019 "$data19" models/sepsis2019B-ward-labs.json \
        build/models/vigil-sepsis-2019B-ward-labs.json vigil-sepsis-2019B-ward-labs
    train sepsis2019 "$data19" "models/sepsis2019$h-ward-vitals.json" \
        "build/models/vigil-sepsis-2019$h-ward-vitals.json" "vigil-sepsis-2019$h-ward-vitals"
    train sepsis2019 "$data19" "$research" "build/models/vigil-sepsis-2019$h-research.json" \
        "vigil-sepsis-2019$h-research"
done
for m in B-ward-labs A-ward-vitals B-ward-vitals A-research B-research; do
    score "build/models/vigil-sepsis-2019$m.json" --record
done
train mortality2012 "$a12" models/mortality2012-ward-labs.json \
    build/models/vigil-mortality-2012a-ward-labs.json vigil-mortality-2012a-ward-labs
score build/models/vigil-mortality-2012a-ward-labs.json --record
train mortality2012 "$data/physionet2012" models/mortality2012ab-ward-labs.json \
    build/models/vigil-mortality-2012ab-ward-labs.json vigil-mortality-2012ab-ward-labs

/usr/bin/python3 scripts/model_card.py models/vigil-sepsis-2019A.json \
    --beside build/models/vigil-sepsis-2019A-ward-vitals.json \
    build/models/vigil-sepsis-2019A-research.json build/models/vigil-sepsis-2019B-ward-labs.json \
    build/models/vigil-sepsis-2019B-ward-vitals.json build/models/vigil-sepsis-2019B-research.json \
    > docs/models/vigil-sepsis-2019A.md
/usr/bin/python3 scripts/model_card.py models/vigil-mortality-2012a.json \
    --beside build/models/vigil-mortality-2012a-ward-labs.json \
    > docs/models/vigil-mortality-2012a.md
/usr/bin/python3 scripts/model_card.py models/vigil-mortality-2012ab.json \
    --beside build/models/vigil-mortality-2012ab-ward-labs.json \
    > docs/models/vigil-mortality-2012ab.md
