"""PNG figures (matplotlib, Agg backend): confusion matrices, the valence-arousal plane, predicted vs
true per dimension, and training curves read from ESPnet's ``train.log``.
"""

import re
from pathlib import Path
from typing import Dict, List, Sequence, Union

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from espnet_ser import VAD_DIMS  # noqa: E402
from espnet_ser.metrics import ccc, confusion  # noqa: E402
from espnet_ser.evaluation.beyond import REJECT_CURVES  # noqa: E402
from espnet_ser.evaluation.scoring import Paired  # noqa: E402

PathLike = Union[str, Path]
_EPOCH = re.compile(r"(\d+)epoch results: (.*)$")
_SECTION = re.compile(r"\[(\w+)\] ([^\[]*)")


def _save(fig, path: PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_confusion(p: Paired, path: PathLike, title: str) -> Path:
    """Row-normalised confusion matrix (recall on the diagonal), counts printed in the cells."""
    cm = confusion(p.hyp_emotion, p.ref_emotion, p.class_list)
    rows = cm.sum(axis=1, keepdims=True)
    norm = np.divide(cm, rows, out=np.zeros(cm.shape), where=rows > 0)
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    k = len(p.class_list)
    ax.set_xticks(range(k), p.class_list, rotation=45, ha="right")
    ax.set_yticks(range(k), p.class_list)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", color="white" if norm[i, j] > 0.5 else "black", fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("reference")
    ax.set_title(title, fontsize=9)
    return _save(fig, path)


def plot_va_plane(p: Paired, path: PathLike, title: str) -> Path:
    """Predicted (valence, arousal) of each utterance coloured by its true class, with class centroids
    (large markers): Russell's circumplex view of what the continuous head learned per category."""
    fig, ax = plt.subplots(figsize=(4.8, 4.4))
    classes = p.class_list or sorted({e for e in p.ref_emotion if e is not None})
    colours = plt.get_cmap("tab10")
    for i, c in enumerate(classes):
        idx = [n for n, e in enumerate(p.ref_emotion) if e == c]
        if not idx:
            continue
        pts = p.hyp_vad[idx][:, :2]
        ax.scatter(pts[:, 0], pts[:, 1], s=10, alpha=0.5, color=colours(i), label=f"{c} ({len(idx)})")
        ax.scatter(*pts.mean(axis=0), s=160, marker="X", edgecolor="black", color=colours(i))
    ax.axhline(0.5, color="grey", lw=0.5)
    ax.axvline(0.5, color="grey", lw=0.5)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted valence")
    ax.set_ylabel("predicted arousal")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="best")
    return _save(fig, path)


def plot_pred_vs_true(p: Paired, path: PathLike, title: str) -> Path:
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
    for j, (ax, dim) in enumerate(zip(axes, VAD_DIMS)):
        ref, hyp = p.ref_vad[:, j], p.hyp_vad[:, j]
        keep = ~np.isnan(ref)
        ax.scatter(ref[keep], hyp[keep], s=8, alpha=0.5)
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel(f"true {dim}")
        ax.set_ylabel(f"predicted {dim}")
        ax.set_title(f"CCC {ccc(hyp, ref):.3f}", fontsize=9)
    fig.suptitle(title, fontsize=9)
    return _save(fig, path)


def read_training_log(log: PathLike) -> Dict[str, Dict[str, List]]:
    """``{"train"|"valid": {stat: [(epoch, value), ...]}}`` from the ``Nepoch results:`` lines."""
    curves: Dict[str, Dict[str, List]] = {}
    for line in Path(log).read_text(errors="replace").splitlines():
        m = _EPOCH.search(line)
        if not m:
            continue
        epoch = int(m.group(1))
        for sec, body in _SECTION.findall(m.group(2)):
            for item in body.split(","):
                if "=" not in item:
                    continue
                k, v = item.strip().split("=", 1)
                try:
                    curves.setdefault(sec, {}).setdefault(k, []).append((epoch, float(v)))
                except ValueError:
                    pass  # times such as 0:00:01
    return curves


TRAINING_PANELS = (("train", "loss"), ("valid", "loss"), ("valid", "epoch_ua"), ("valid", "epoch_ccc_mean"))


def plot_training_curves(groups: Dict[str, Sequence[PathLike]], path: PathLike,
                         panels: Sequence = TRAINING_PANELS) -> Path:
    """One panel per (phase, stat); one line per group (a variant: the mean over its folds' logs, with the
    min-max spread over folds shaded); the legend outside the axes. Panels no log reports are left out."""
    curves = {g: [read_training_log(p) for p in logs] for g, logs in groups.items()}
    shown = [(sec, st) for sec, st in panels if any(c.get(sec, {}).get(st) for cs in curves.values() for c in cs)]
    fig, axes = plt.subplots(1, max(1, len(shown)), figsize=(3.6 * max(1, len(shown)) + 2.2, 3.2), squeeze=False)
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colors = {g: cycle[i % len(cycle)] for i, g in enumerate(sorted(curves))}  # one colour per group in every panel
    for ax, (sec, stat) in zip(axes[0], shown):
        for g, cs in sorted(curves.items()):
            per_epoch: Dict[int, List[float]] = {}
            for c in cs:
                for ep, v in c.get(sec, {}).get(stat, []):
                    if not np.isnan(v):
                        per_epoch.setdefault(ep, []).append(v)
            if not per_epoch:
                continue
            eps = sorted(per_epoch)
            vals = [np.array(per_epoch[e]) for e in eps]
            ax.plot(eps, [v.mean() for v in vals], color=colors[g], label=f"{g} (n={len(cs)})")
            if len(cs) > 1:
                ax.fill_between(eps, [v.min() for v in vals], [v.max() for v in vals], color=colors[g], alpha=0.2)
        ax.set_xlabel("epoch")
        ax.set_title(f"{sec} {stat}", fontsize=9)
    handles, labels = axes[0][0].get_legend_handles_labels()
    for ax in axes[0][1:]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False,
               title="mean over folds, min-max shaded", title_fontsize=7)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_reject_curves(curves: Dict[str, Dict[str, List[Dict]]], path: PathLike, title: str) -> Path:
    """Metric vs the fraction of most-certain utterances kept: one line per run, UA, CCC and V/A/D error side by side."""
    kinds = [k for k in REJECT_CURVES if any(k in c for c in curves.values())] or ["reject_ua"]
    fig, axes = plt.subplots(1, len(kinds), figsize=(4.6 * len(kinds), 3.8), squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        for name, c in curves.items():
            if kind in c:
                ax.plot([p["fraction"] for p in c[kind]], [p["value"] for p in c[kind]], marker="o", ms=3, label=name)
        ax.set_xlabel("fraction kept (most certain first)")
        ax.set_ylabel(REJECT_CURVES[kind])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    return _save(fig, path)


def plot_reliability(pooled: Dict[str, Paired], path: PathLike, title: str, n_bins: int = 10) -> Path:
    """Reliability diagram: accuracy vs mean top-class confidence per confidence bin, one line per run."""
    from espnet_ser.metrics import class_codes, confidence_bins

    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--", label="calibrated")
    for name, p in pooled.items():
        ref = class_codes(p.ref_emotion, p.class_list)
        keep = ref >= 0
        conf = p.hyp_probs[keep].max(axis=1)
        right = p.hyp_probs[keep].argmax(axis=1) == ref[keep]
        bins = confidence_bins(conf, n_bins)
        xs = [conf[bins == b].mean() for b in range(n_bins) if (bins == b).any()]
        ys = [right[bins == b].mean() for b in range(n_bins) if (bins == b).any()]
        ax.plot(xs, ys, marker="o", ms=3, label=name)
    ax.set_xlabel("confidence (top-class probability)")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7)
    ax.set_title(title, fontsize=9)
    return _save(fig, path)
