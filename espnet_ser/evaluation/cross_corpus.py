"""The multi-corpus report (recipe ``multi``): per test corpus, every experiment's scores, and the
cross-corpus matrix (rows: what a model trained on; columns: the corpus it is tested on) as a table
with significance and a heatmap.

A cell is the fold mean ± std of the test corpus's class metric (UA) or mean CCC, ``–`` where the
experiment trained on no label of that kind (``meta.json``: ``trained``) or the corpus has no label of
that kind. Its reference (marks ``*``/``†``, :mod:`espnet_ser.evaluation.significance`) is the
in-corpus model of the column: the experiment ``only_<corpus>`` (the declaration's ``matrix: true``),
the same variant, the same folds and utterances.
"""

from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from espnet_ser.evaluation.runs import Aggregate, Run, by_variant, is_missing
from espnet_ser.evaluation.tables import LABELS, _header, _legend, cell, mark
from espnet_ser.recipe.mixing import LEAVE_OUT_PREFIX, only
from espnet_ser.spec import LABEL_TYPES, VARIANT_TITLES, metric_label_type

METRICS = ("ua", "ccc_mean")  # the matrix's two kinds of cell: classes, V/A/D


def experiment_of(r: Run) -> str:
    return r.meta.get("experiment") or r.meta["split"]


def _order(experiments: Sequence[str], tests: Sequence[str]) -> List[str]:
    """Unions first, then the in-corpus models in the columns' order, then the rest."""
    alone = [only(t) for t in tests if only(t) in experiments]
    left_out = sorted(e for e in experiments if e.startswith(LEAVE_OUT_PREFIX))
    return sorted(e for e in experiments if e not in alone and e not in left_out) + alone + left_out


def cross_corpus(runs: Sequence[Run], fig_dir: Path, correction: str = "holm",
                 show_ci: bool = False) -> Tuple[str, Dict, List[Path], Dict]:
    """Markdown, significance details, figures and the aggregates' metrics of a multi-corpus run."""
    tests = list(dict.fromkeys(t for r in runs for t in r.meta.get("tests", {})))
    experiments = _order(sorted({experiment_of(r) for r in runs}), tests)
    trained = {experiment_of(r): set(r.meta.get("trained", LABEL_TYPES)) for r in runs}
    variants = sorted({r.variant for r in runs})
    details: Dict = {}
    figures: List[Path] = []
    summary: Dict = {}
    lines = ["### Multi-corpus training: the cross-corpus matrix", ""]
    for v in variants:
        mine = [r for r in runs if r.variant == v]
        aggs: Dict[str, Dict[str, Aggregate]] = {}  # test -> experiment -> aggregate
        for t in tests:
            aggs[t] = by_variant(mine, t, key=experiment_of)
        cols = [(t, m) for t in tests for m in METRICS
                if any(not is_missing(a.metrics.get(m, {}).get("pooled")) for a in aggs[t].values())]
        head = ["Trained on", "folds"] + [f"{t} {LABELS[m]}" for t, m in cols]
        rows: List[List[str]] = []
        places: List[Tuple[int, int, str]] = []
        for e in experiments:
            any_agg = next((aggs[t][e] for t in tests if e in aggs[t]), None)
            if any_agg is None:
                continue
            row = [e, str(len(any_agg.folds))]
            for t, m in cols:
                agg = aggs[t].get(e)
                if agg is None or metric_label_type(m) not in trained.get(e, ()):
                    row.append("–")
                    continue
                base = aggs[t].get(only(t))
                key = f"{v}/{e}/{t}/{m}"
                text, test_results = cell(agg, m, base)
                details[key] = test_results
                places.append((len(rows), len(row), key))
                row.append(text)
            rows.append(row)
        sizes = mark(rows, places, details, correction, show_ci)
        lines += [f"#### {VARIANT_TITLES.get(v, v)}", ""] + _header(head) + ["| " + " | ".join(r) + " |" for r in rows]
        lines += ["", _legend(sizes, correction, "Reference of a cell: the model trained on the column's corpus alone "
                                                  "(only_<corpus>).", paper=False,
                              dash="–: the experiment trained on no label of that kind."), ""]
        lines += per_corpus(aggs, experiments, trained)
        summary[v] = {t: {e: a.metrics for e, a in aggs[t].items()} for t in tests}
        for m in METRICS:
            fig = _heatmap(aggs, experiments, tests, m, trained, fig_dir / f"multi_{v}_{m}.png",
                           f"{VARIANT_TITLES.get(v, v)}: {LABELS[m]}, fold mean")
            if fig is not None:
                figures.append(fig)
    return "\n".join(lines) + "\n", details, figures, summary


PER_CORPUS = ("ua", "f1_macro", "ccc_valence", "ccc_arousal", "ccc_dominance", "ccc_mean")


def per_corpus(aggs: Dict[str, Dict[str, Aggregate]], experiments: Sequence[str], trained: Dict[str, set]) -> List[str]:
    """One table per test corpus: every experiment's pooled scores (all folds' predictions at once)."""
    out = []
    for t, by_exp in aggs.items():
        metrics = [m for m in PER_CORPUS if any(not is_missing(a.metrics.get(m, {}).get("pooled")) for a in by_exp.values())]
        if not metrics:
            continue
        n = len(next(iter(by_exp.values())).pooled.ids)
        out += [f"Test corpus {t} ({n} utterances), pooled predictions:", ""] + _header(["Trained on"] + [LABELS[m] for m in metrics])
        for e in experiments:
            if e not in by_exp:
                continue
            vals = ["–" if metric_label_type(m) not in trained.get(e, ()) or is_missing(by_exp[e].metrics.get(m, {}).get("pooled"))
                    else f"{by_exp[e].metrics[m]['pooled']:.3f}" for m in metrics]
            out.append("| " + " | ".join([e] + vals) + " |")
        out.append("")
    return out


def _heatmap(aggs: Dict[str, Dict[str, Aggregate]], experiments: Sequence[str], tests: Sequence[str], metric: str,
             trained: Dict[str, set], out: Path, title: str) -> Optional[Path]:
    values = np.full((len(experiments), len(tests)), np.nan)
    for i, e in enumerate(experiments):
        for j, t in enumerate(tests):
            agg = aggs[t].get(e)
            if agg is not None and metric_label_type(metric) in trained.get(e, ()):
                values[i, j] = agg.metrics.get(metric, {}).get("mean", np.nan)
    if np.isnan(values).all():
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(tests), 0.9 + 0.45 * len(experiments)))
    im = ax.imshow(np.ma.masked_invalid(values), cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(tests)), labels=[f"test: {t}" for t in tests])
    ax.set_yticks(range(len(experiments)), labels=list(experiments))
    for i in range(len(experiments)):
        for j in range(len(tests)):
            ax.text(j, i, "–" if np.isnan(values[i, j]) else f"{values[i, j]:.2f}", ha="center", va="center",
                    color="white" if not np.isnan(values[i, j]) and values[i, j] < np.nanmean(values) else "black")
    fig.colorbar(im, ax=ax, label=LABELS[metric])
    ax.set_title(title)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
