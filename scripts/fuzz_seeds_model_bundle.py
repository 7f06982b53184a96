#!/usr/bin/env python3
"""fuzz_seeds_model_bundle.py: write the model-bundle fuzzer's seeds (fuzz/corpus/model_bundle/)
from the shipped bundles: each cut to its first K trees and the inputs those trees read (split
indices renumbered, ranges and num_feature cut to match), so the seeds carry the running feature
specification's hash and stay small. Run after retraining the shipped bundles (a new feature
specification makes the old seeds refusals only).
usage: scripts/fuzz_seeds_model_bundle.py   (from the repository root)"""
import json

SEEDS = [("models/vigil-sepsis-2019A.json", 1, "sepsis-2019A-1tree.json"),
         ("models/vigil-mortality-2012a.json", 1, "mortality-2012a-1tree.json"),
         ("models/vigil-mortality-2012ab.json", 3, "mortality-2012ab-3trees.json")]
KEEP = ["format", "format_version", "model_id", "model_version", "warning", "task", "feature_spec",
        "inputs", "feature_set", "calibration_input", "calibration", "ranges", "thresholds",
        "xgboost", "created_utc", "model_card"]


def cut(bundle, k):
    model = bundle["xgboost"]["learner"]["gradient_booster"]["model"]
    trees = model["trees"][:k]
    used = sorted({i for t in trees for i, l in zip(t["split_indices"], t["left_children"]) if l != -1})
    remap = {old: new for new, old in enumerate(used)}
    for t in trees:
        t["split_indices"] = [remap.get(i, 0) if l != -1 else 0
                              for i, l in zip(t["split_indices"], t["left_children"])]
        t["tree_param"]["num_feature"] = str(len(used))
    model["trees"] = trees
    model["tree_info"] = [0] * k
    model["gbtree_model_param"]["num_trees"] = str(k)
    bundle["xgboost"]["learner"]["learner_model_param"]["num_feature"] = str(len(used))
    bundle["inputs"] = [bundle["inputs"][i] for i in used]
    bundle["ranges"]["features"] = [bundle["ranges"]["features"][i] for i in used]
    return {key: bundle[key] for key in KEEP if key in bundle}


for src, k, out in SEEDS:
    with open(src) as f:
        b = json.load(f)
    with open("fuzz/corpus/model_bundle/" + out, "w") as f:
        json.dump(cut(b, k), f, separators=(",", ":"))
        f.write("\n")
