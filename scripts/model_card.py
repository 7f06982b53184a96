#!/usr/bin/env python3
"""model_card.py: render a vigil model bundle's model card, training record and
evaluation figures as Markdown for people (safety officers, clinicians).
usage: scripts/model_card.py BUNDLE.json [--beside OTHER.json ...] > docs/models/ID.md
--beside: bundles whose held-out figures are printed beside this one's (the other ward
model, the research variant, the reverse direction)."""
import argparse, json

ap = argparse.ArgumentParser()
ap.add_argument("bundle")
ap.add_argument("--beside", nargs="*", default=[])
args = ap.parse_args()
b = json.load(open(args.bundle))
card, tr, ev, thr = b["model_card"], b["training"], b["evaluation"], b["thresholds"]
out = []
w = out.append
w(f"# Model card: {b['model_id']} {b['model_version']}\n")
w(f"> **{card['warning']}**\n")
w(f"Generated from the bundle by `scripts/model_card.py`; bundle created {b['created_utc']}.\n")
w("## Intended use\n")
w(card["intended_use"] + "\n")
w(f"**Not for:** {card['not_for']}\n")
w("## Data\n")
w(card["data"] + "\n")
w(f"Task: `{b['task']['name']}`; label: {b['task']['label']}; rows: {b['task']['rows']}.\n")
w(f"Training set `{tr['data']}`; split: {tr['split_rule']}; stays train {tr['stays']['train']}, "
  f"early stopping {tr['stays']['valid']}, calibration {tr['stays']['calib']} (seed {tr['seed']}).\n")
w(f"Features: specification v{b['feature_spec']['version']} (hash `{b['feature_spec']['hash']}`), "
  f"{len(b['inputs'])} of {b['feature_spec']['count']} used; excluded: "
  f"{', '.join('`%s`' % e for e in tr['excluded_features']) or 'none beyond the feature set'}.\n")
if "inputs_declared" in b:
    w(f"Feature set: `{b.get('feature_set', 'research')}` (docs/features.md, \"Feature sets\"). "
      "Inputs, each with its unit and where a ward gets it:\n")
    w("| variable | unit | source |")
    w("|---|---|---|")
    for d in b["inputs_declared"]:
        w(f"| {d['label']} | {d['unit']} | {d['source']} |")
    w("")
x = tr["xgboost"]
w(f"Model: XGBoost gradient-boosted trees, {tr['rounds']} rounds (early stopping on validation AUROC "
  f"{tr['best_valid_auroc']:.4f}), depth {x['max_depth']}, eta {x['eta']}, subsample {x['subsample']}, "
  f"colsample {x['colsample_bytree']}, min_child_weight {x['min_child_weight']}, "
  f"lambda {x['lambda']:g}"
  + "".join(f", {k} {x[k]:g}" for k in ("alpha", "colsample_bynode", "max_bin") if k in x)
  + f", scale_pos_weight {tr['scale_pos_weight']:g}. Calibration: Platt scaling on the margin.\n")
mono = tr.get("monotone", {"rule": "none"})
if mono["rule"] == "clinical":
    w("Monotone constraints (src/train/monotone.c, where the clinical direction is unambiguous): "
      "with the other inputs fixed, the risk never falls as these rise: "
      + (", ".join(f"`{n}`" for n in mono["increasing"]) or "none")
      + "; never falls as these fall: "
      + (", ".join(f"`{n}`" for n in mono["decreasing"]) or "none")
      + (". Respiration rate, pulse, systolic BP and temperature are U-shaped: a ward model reads "
         "them through their constrained distances above and below normal (`*_above*`, "
         "`*_below*`, feature spec v4) and their free course (changes, SD, means), never their "
         "raw level (docs/model.md, section 15).\n"
         if any(n.endswith(("_above", "_below")) for n in mono["increasing"])
         else ". Raw respiration rate, pulse, blood pressure and temperature are U-shaped and left free.\n"))
else:
    w("Monotone constraints: none.\n")
w("## Thresholds (chosen on the training data's calibration split)\n")
w(f"- alert: risk >= {thr['alert']:.4f} ({thr['alert_rule']})")
if "news2_matched" in thr:
    w(f"- NEWS2-matched: risk >= {thr['news2_matched']:.4f} ({thr['news2_matched_rule']})")
w("")
def fig(r, k, f="%.3f"):
    return f % r[k] if k in r and r[k] is not None else "-"
w("## Performance\n")
w("| where | score | AUROC (95% CI) | AUPRC | Brier | cal. slope | sens | PPV | utility / Event 1 |")
w("|---|---|---|---|---|---|---|---|---|")
for name, r in (("internal (calibration split)", ev["internal_calibration_split"]),
                ("internal (calibration split)", ev["internal_calibration_split_news2"])):
    ci = r.get("auroc_ci95")
    u = r.get("utility", r.get("event1"))
    w(f"| {name} | {r['score']} | {fig(r,'auroc')} ({ci[0]:.3f}-{ci[1]:.3f}) | {fig(r,'auprc')} | "
      f"{fig(r,'brier','%.4f')} | {fig(r,'calibration_slope')} | {fig(r,'sensitivity')} | "
      f"{fig(r,'ppv')} | {'-' if u is None else '%.3f' % u} |")
cv = ev.get("cross_validation")
if cv:
    w(f"| {cv['folds']}-fold cross-validation, out of fold ({cv['rows']} rows) | model | "
      f"{cv['auroc']:.3f} ({cv['auroc_ci95'][0]:.3f}-{cv['auroc_ci95'][1]:.3f}) | - | - | - | "
      f"{cv['sensitivity']:.3f} | {cv['ppv']:.3f} | {'-' if 'event1' not in cv else '%.3f' % cv['event1']} |")
    w(f"| {cv['folds']}-fold cross-validation ({cv['rows']} rows) | NEWS2 | "
      f"{cv['news2_auroc']:.3f} ({cv['news2_auroc_ci95'][0]:.3f}-{cv['news2_auroc_ci95'][1]:.3f}) | - | - | - | - | - | - |")
for e in ev["external"]:
    for key in ("model", "news2", "saps1"):
        if key not in e:
            continue
        r = e[key]; o = r["overall"]
        u = r.get("utility", r.get("event1"))
        w(f"| held out: {e['data']} | {r['score']} | {o['auroc']:.3f} ({o['auroc_ci95'][0]:.3f}-"
          f"{o['auroc_ci95'][1]:.3f}) | {o['auprc']:.3f} | {fig(o,'brier','%.4f')} | "
          f"{fig(o,'calibration_slope')} | {fig(o,'sensitivity')} | {fig(o,'ppv')} | "
          f"{'-' if u is None else '%.3f' % u} |")
for e in ev["external"]:
    if "burden_threshold_from_training" in e:
        bt = e["burden_threshold_from_training"]
        w(f"\nAlert burden on {e['data']} at NEWS2 >= 5's sensitivity (threshold from training data): "
          f"model sensitivity {bt['sensitivity_model']:.3f} vs NEWS2 {bt['sensitivity_news2']:.3f}; the model "
          f"raises {100*bt['alert_hours_ratio']:.0f}% of NEWS2's alert hours and "
          f"{100*bt['alert_episodes_ratio']:.0f}% of its alert episodes.")
    sub = e["model"]["subgroups"]
    w(f"\nSubgroup AUROC on {e['data']} (model): " + "; ".join(
        f"{g['group']} {g['auroc']:.3f}" if g["auroc"] is not None else f"{g['group']} n/a" for g in sub)
      + f". Largest gap: sex {e['model']['auroc_gap_sex']:.3f}, age {e['model']['auroc_gap_age']:.3f}.")
for e in ev["external"]:
    q = ", ".join(f"{e[k]} {k.replace('_', ' ')}" for k in
                  ("malformed_rows", "files_skipped", "stays_without_measurements", "implausible_values")
                  if k in e)
    if q:
        w(f"\nData quality of {e['data']}: {q}.")
    v = e.get("ward_view")
    if v:
        line = (f"Ward view on {e['data']}: not enough data to score on {v['rows_not_enough_data']} of "
                f"{v['rows']} rows ({100 * v['rows_not_enough_data'] / max(v['rows'], 1):.1f}%); "
                f"low-confidence flag on {100 * (v['low_confidence_rate'] or 0):.1f}% of the scored rows")
        if "auroc_model_enough_data" in v:
            line += (f"; on the scored rows, model AUROC {v['auroc_model_enough_data']:.3f} vs NEWS2 "
                     f"{v['auroc_news2_enough_data']:.3f}")
        w(line + ".")
if args.beside:
    w("\n## Beside this model (held out, same command)\n")
    w("| model | feature set | trained on | scored on | AUROC (95% CI) | NEWS2 AUROC | utility / Event 1 | "
      "NEWS2-matched threshold from training: share of NEWS2's alert hours | gap sex / age | low-confidence |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    for path in [args.bundle] + args.beside:
        o = json.load(open(path))
        c = o["evaluation"].get("cross_validation")
        if c:
            w(f"| `{o['model_id']}` | {o.get('feature_set', 'research')} | {o['training']['data']} | "
              f"{c['folds']}-fold cross-validation | {c['auroc']:.3f} ({c['auroc_ci95'][0]:.3f}-"
              f"{c['auroc_ci95'][1]:.3f}) | {c['news2_auroc']:.3f} | "
              f"{'-' if 'event1' not in c else '%.3f' % c['event1']} | - | - | - |")
        for e in o["evaluation"]["external"]:
            m, n = e["model"], e["news2"]
            mo = m["overall"]
            u = m.get("utility", m.get("event1"))
            bt = e.get("burden_threshold_from_training")
            v = e.get("ward_view", {})
            w(f"| `{o['model_id']}` | {o.get('feature_set', 'research')} | {e['trained_on']} | {e['data']} | "
              f"{mo['auroc']:.3f} ({mo['auroc_ci95'][0]:.3f}-{mo['auroc_ci95'][1]:.3f}) | "
              f"{n['overall']['auroc']:.3f} | {'-' if u is None else '%.3f' % u} | "
              f"{'-' if not bt else '%.0f%%' % (100 * bt['alert_hours_ratio'])} | "
              f"{m['auroc_gap_sex']:.3f} / {m['auroc_gap_age']:.3f} | "
              f"{'-' if v.get('low_confidence_rate') is None else '%.1f%%' % (100 * v['low_confidence_rate'])} |")
w("\n## Limitations\n")
for l in card["limitations"]:
    w(f"- {l}")
w("\nEthnicity is not recorded in either data set: performance by ethnicity is unknown. "
  "Monitor alert rates and calibration by ethnicity locally (pulse oximeters over-read in darker skin).")
print("\n".join(out))
