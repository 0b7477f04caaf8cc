"""Several trainings of one recipe side by side, beyond accuracy (``ser_compare``; e.g. hard vs soft targets).

``build_comparison({"hard": exp_hard, "soft": exp_soft}, "iemocap", out_dir)`` reads each experiment
root like the report does (``meta.json`` + ``inference/<test>/``), pools the folds of each (label,
variant), and writes ``COMPARE.md``, ``compare.json`` and figures:

* accuracy (UA, F1 / CCC), ``ece``, ``ece_votes``, ``jsd_votes`` and ``spearman_uncertainty_disagreement`` (the class
  uncertainty vs the evaluators' disagreement; :mod:`espnet_ser.evaluation.beyond`), on the pooled
  predictions;
* classes from V/A/D: each fold's nearest-centroid classifier is fitted on that fold's training
  labels (``meta.json``'s ``train``), applied to the fold's predicted V/A/D; UA and agreement with the
  class head on the pooled result;
* reject curves (UA and CCC vs the fraction of most-certain utterances kept) and reliability diagrams.
"""

import datetime
import json
import os
from pathlib import Path
from typing import Dict, List, Union

import numpy as np

from espnet_ser.errors import InputError, MissingInput
from espnet_ser.evaluation.beyond import REJECT_CURVES, beyond_scores, class_centroids, reject_curves, vad_class_view
from espnet_ser.evaluation.plots import plot_reject_curves, plot_reliability
from espnet_ser.evaluation.runs import load_runs
from espnet_ser.evaluation.scoring import concat, score_paired
from espnet_ser.labels import read_labels
from espnet_ser.spec import recipe as recipe_spec, title_of

PathLike = Union[str, Path]


def vad_classes_by_fold(runs, test: str) -> Dict:
    """:func:`espnet_ser.evaluation.beyond.vad_class_view` with each fold's centroids fitted on that fold's
    training labels (``meta.json``'s ``train``); {} when a fold lacks them or has fewer than 2 classes."""
    parts, seen = [], set()
    for r in sorted(runs, key=lambda r: r.meta.get("fold") or 0):
        p = r.paired[test]
        if not r.meta.get("train"):
            return {}  # no training labels recorded: nothing to fit the centroids on
        t = read_labels(r.meta["train"])
        if p.hyp_vad is None or p.ref_emotion is None or t.emotion is None or t.vad is None:
            return {}
        # a model without a class head (Baseline C) is read against the classes of its data
        classes = p.class_list or sorted({e for e in t.emotion + p.ref_emotion if e is not None})
        cen = class_centroids(t.emotion, t.vad, classes)
        if len(cen) < 2:
            return {}
        parts.append((p, cen))
        seen |= set(classes)
    return vad_class_view(parts, runs[0].paired[test].class_list or sorted(seen))


def build_comparison(sources: Dict[str, PathLike], recipe: str, out_dir: PathLike) -> Path:
    spec = recipe_spec(recipe)
    test = spec.tests[0]
    out = Path(out_dir)
    rows: List[Dict] = []
    curves: Dict[str, Dict] = {}
    pooled_by_label = {}
    for label, root in sources.items():
        runs = load_runs(root, recipe)
        if not runs:
            raise MissingInput(f"{root}: no finished {recipe} experiment (exp/*/meta.json)")
        for variant in sorted({r.variant for r in runs}):
            rs = [r for r in runs if r.variant == variant and test in r.paired]
            pooled = concat([r.paired[test] for r in sorted(rs, key=lambda r: r.meta.get("fold") or 0)])
            name = f"{label}: {title_of(variant)}"
            b = beyond_scores(pooled, fit_vad_classes=False)  # classes from V/A/D: fitted per fold below
            row = {"run": name, "folds": len(rs), "n": len(pooled.ids), **score_paired(pooled), **b,
                   "vad_to_class": vad_classes_by_fold(rs, test)}
            rows.append(row)
            curves[name] = reject_curves(b)
            pooled_by_label[name] = pooled
    if not rows:
        raise InputError("nothing to compare")
    fig_dir = out / "figures"
    figures = [plot_reject_curves(curves, fig_dir / f"{recipe}_reject_curves.png", f"{recipe}: reject curves (pooled folds)")]
    with_probs = {n: p for n, p in pooled_by_label.items() if p.hyp_probs is not None and p.ref_emotion is not None}
    if with_probs:
        figures.append(plot_reliability(with_probs, fig_dir / f"{recipe}_reliability.png", f"{recipe}: reliability"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare.json").write_text(json.dumps(rows, indent=1, sort_keys=True, default=float) + "\n")
    path = out / "COMPARE.md"
    path.write_text(comparison_markdown(rows, sources, spec.title, figures, out))
    return path


def fmt3(v) -> str:
    """A cell: three decimals, ``–`` for a missing or NaN value."""
    return "–" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}"


def _rho(row: Dict, key: str) -> str:
    p = row.get(key + "_p")
    return fmt3(row.get(key)) + ("" if p is None or np.isnan(p) else f" (p {p:.2g})")


def comparison_markdown(rows: List[Dict], sources: Dict[str, PathLike], title: str, figures, out: Path) -> str:
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = ["# Comparison beyond accuracy", "",
             f"Generated {now} by `python -m espnet_ser.bin.ser_compare` from "
             + ", ".join(f"`{os.path.relpath(p, out)}` ({k})" for k, p in sources.items()) + f"; test set: {title}, "
             "every fold's predictions pooled.", "",
             "| run | folds/utts | UA | F1 | CCC mean | ECE ↓ | ECE to votes ↓ | JSD to votes ↓ | ρ(uncertainty, disagreement) | "
             "ρ(V/A/D std, rater std) | UA from V/A/D | class/V-A-D agreement |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        v = r.get("vad_to_class") or {}
        lines.append(f"| {r['run']} | {r['folds']}/{r['n']} | {fmt3(r.get('ua'))} | {fmt3(r.get('f1_macro'))} | "
                     f"{fmt3(r.get('ccc_mean'))} | {fmt3(r.get('ece'))} | {fmt3(r.get('ece_votes'))} | {fmt3(r.get('jsd_votes'))} | "
                     f"{_rho(r, 'spearman_uncertainty_disagreement')} | {_rho(r, 'spearman_vad_std_rater_std')} | "
                     f"{fmt3(v.get('ua'))} | {fmt3(v.get('agreement'))} |")
    uncertain = sorted({r.get("class_uncertainty") for r in rows if r.get("class_uncertainty")})
    lines += ["", "What the columns mean:", "",
              "- ECE: expected calibration error of the top-class probability (10 bins); 0 is calibrated.",
              "- ECE to votes: the same, with the share of the evaluators' votes for the predicted class as its accuracy "
              "(over the utterances with votes): a model trained on soft targets is meant to be calibrated to these.",
              "- JSD to votes: mean Jensen-Shannon divergence (bits, 0-1) between the predicted class distribution and "
              "the evaluators' vote distribution, over the utterances with votes.",
              "- ρ(uncertainty, disagreement): Spearman correlation between the class uncertainty (" + "; ".join(uncertain)
              + ") and the entropy of the evaluators' votes; positive: less sure where people disagree; p: two-sided, "
              "t approximation.",
              "- ρ(V/A/D std, rater std): the same for the mean V/A/D std over the passes and the raters' mean std.",
              "- UA from V/A/D: classes read off the predicted V/A/D by the nearest class centroid of each fold's "
              "training labels; agreement: how often that class equals the class head's.",
              "", "Reject curves (value on the fraction of most-certain utterances kept; the CCC of a subset also "
              "shrinks when its references spread less, so read it beside the absolute error):", ""]
    for r in rows:
        for k, name in REJECT_CURVES.items():
            if k in r:
                lines.append(f"- {r['run']}, {name}: " + ", ".join(f"{c['fraction']:.1f} {fmt3(c['value'])}" for c in r[k]))
    lines += ["", "## Figures", ""] + [f"![{f.stem}]({os.path.relpath(f, out)})" for f in figures] + [""]
    return "\n".join(lines)
