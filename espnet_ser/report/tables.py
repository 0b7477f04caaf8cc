"""The paper's tables in Markdown, from aggregated runs, with the paper's numbers beside ours.

* Table 1 — IEMOCAP, leave-one-session-out CV: CCC (mean of V/A/D), CCC-V, CCC-A, CCC-D, Acc (UA).
* Table 2 — mismatched training: per (variant, discrete-label source, continuous-label source):
  IEMOCAP CCC, IEMOCAP Acc (UA), MSP-Podcast CCC, MSP-Podcast F1 (macro).
* Table 3 — MSP-Podcast Test1: CCC, CCC-V, CCC-A, CCC-D, F1 (macro).

A cell is ``mean ± std``: over folds (sample std) when there are several, otherwise the bootstrap
standard deviation of the metric over utterances. Marks: ``*`` the paired bootstrap (pooled
predictions) finds the cell different from the baseline at p < 0.05; ``†`` the paired t-test over folds
does. Baselines: Baseline C for CCC cells and Baseline D for Acc/F1 cells (Tables 1 and 3); in
Table 2 the same model trained on matched labels of the evaluated corpus.
"""

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from espnet_ser.report.paper_numbers import PAPER
from espnet_ser.report.runs import Aggregate, is_missing
from espnet_ser.report.significance import BOOTSTRAP_TEST, FOLD_TEST, bootstrap_std, paired_bootstrap, paired_fold_test, significant

VARIANTS = ("baseline_c", "baseline_d", "multitask", "hierarchical_dc", "hierarchical_cd")
VARIANT_NAMES = {"baseline_c": "Baseline C", "baseline_d": "Baseline D", "multitask": "Multi-task C,D",
                 "hierarchical_dc": "Hierarchical D-C", "hierarchical_cd": "Hierarchical C-D"}
LABELS = {"ccc_mean": "CCC", "ccc_valence": "CCC-V", "ccc_arousal": "CCC-A", "ccc_dominance": "CCC-D",
          "ua": "Acc (UA)", "f1_macro": "F1 (macro)"}
CORPUS_NAMES = {"iemocap": "IEMOCAP", "msp": "MSP-Podcast"}


def _num(v: Optional[float]) -> str:
    return "n.r." if is_missing(v) else f"{v:.3f}"


def cell(agg: Optional[Aggregate], metric: str, base: Optional[Aggregate]) -> Tuple[str, Dict]:
    """``mean ± std`` with significance marks against ``base``, and the test results behind them."""
    if agg is None or is_missing(agg.metrics.get(metric, {}).get("mean", 0.0)):
        return "n/a", {}
    if metric not in agg.metrics:
        return "–", {}
    m = agg.metrics[metric]
    std = m["std"] if m["n"] > 1 else bootstrap_std(agg.pooled, metric)
    text = f"{m['mean']:.3f} ± {std:.3f}"
    tests: Dict = {}
    if base is not None and base is not agg and metric in base.metrics and base.pooled.ids == agg.pooled.ids:
        tests["bootstrap"] = paired_bootstrap(base.pooled, agg.pooled, metric)
        if significant(tests["bootstrap"]):
            text += "*"
        a = [s.get(metric, float("nan")) for s in base.per_fold]
        b = [s.get(metric, float("nan")) for s in agg.per_fold]
        if len(a) > 1 and base.folds == agg.folds:
            tests["fold_ttest"] = paired_fold_test(a, b)
            if significant(tests["fold_ttest"]):
                text += "†"
    return text, tests


def _header(cols: Sequence[str]) -> List[str]:
    return ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]


def variant_table(title: str, aggs: Dict[str, Aggregate], metrics: Sequence[str], paper_key: str,
                  fold_word: str) -> Tuple[str, Dict]:
    """Table 1 or 3: one row per variant."""
    cols = ["Model", f"n ({fold_word}/utts)"]
    for m in metrics:
        cols += [LABELS[m], "paper"]
    lines = [f"### {title}", ""] + _header(cols)
    details: Dict = {}
    for v in VARIANTS:
        agg = aggs.get(v)
        if agg is None:
            continue
        n = next(iter(agg.metrics.values()))
        row = [VARIANT_NAMES[v], f"{n['n']}/{n['n_utts']}"]
        for m in metrics:
            base = aggs.get("baseline_c" if m.startswith("ccc_") else "baseline_d")
            text, tests = cell(agg, m, base)
            details[f"{v}/{m}"] = tests
            row += [text, _num(PAPER.get(paper_key, {}).get(v, {}).get(m))]
        lines.append("| " + " | ".join(row) + " |")
    pooled = ["", "Pooled predictions (every utterance scored once):", ""] + _header(["Model"] + [LABELS[m] for m in metrics])
    for v in VARIANTS:
        if v in aggs:
            vals = [_num(aggs[v].metrics[m]["pooled"]) if m in aggs[v].metrics else "–" for m in metrics]
            pooled.append("| " + " | ".join([VARIANT_NAMES[v]] + vals) + " |")
    return "\n".join(lines + pooled + ["", _legend()]) + "\n", details


def table2(aggs: Dict[Tuple[str, str, str], Dict[str, Aggregate]]) -> Tuple[str, Dict]:
    """``aggs[(variant, d_src, c_src)][test corpus]`` -> the eight rows of Table 2."""
    cols = ["Model", "discrete labels", "continuous labels", "n (folds: IEMOCAP/MSP utts)"]
    spec = (("iemocap", "ccc_mean"), ("iemocap", "ua"), ("msp", "ccc_mean"), ("msp", "f1_macro"))
    for corpus, m in spec:
        cols += [f"{CORPUS_NAMES[corpus]} {LABELS[m]}", "paper"]
    lines = ["### Table 2: mismatched training (discrete and continuous labels from different corpora)", ""] + _header(cols)
    details: Dict = {}
    for key in sorted(aggs, key=lambda k: (VARIANTS.index(k[0]), k[1] != k[2], k[1], k[2])):
        v, d_src, c_src = key
        first = {c: next(iter(a.metrics.values())) for c, a in aggs[key].items() if a.metrics}
        folds = max((m["n"] for m in first.values()), default=0)
        utts = "/".join(str(first[c]["n_utts"]) if c in first else "0" for c in ("iemocap", "msp"))
        row = [VARIANT_NAMES[v], CORPUS_NAMES[d_src], CORPUS_NAMES[c_src], f"{folds}: {utts}"]
        for corpus, m in spec:
            base = aggs.get((v, corpus, corpus), {}).get(corpus)
            text, tests = cell(aggs[key].get(corpus), m, base)
            details[f"{v}/{d_src}/{c_src}/{corpus}/{m}"] = tests
            row += [text, _num(PAPER.get("table2", {}).get(f"{v}/{d_src}/{c_src}", {}).get(f"{corpus}/{m}"))]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines + ["", _legend()]) + "\n", details


def _legend() -> str:
    return (f"`mean ± std`: over folds (sample std) when n > 1, else the bootstrap std over utterances. "
            f"`*`: {BOOTSTRAP_TEST}, against the baseline; `†`: {FOLD_TEST}, p < 0.05. "
            "Baseline: Baseline C for CCC, Baseline D for Acc/F1 (Tables 1, 3); the matched-label row of the same "
            "model (Table 2). `paper`: arXiv 2210.16642 where the value is known here (see "
            "espnet_ser/report/paper_numbers.py), else n.r. (not recorded here). –: the model has no output of that kind "
            "(Baseline C predicts no class, Baseline D no V/A/D).")


def finite_cells(markdown: str) -> bool:
    """True when no data cell of the table reads ``n/a`` (every cell holds a number from the runs)."""
    return "| n/a" not in markdown and not np.any([c.strip() == "n/a" for c in markdown.split("|")])
