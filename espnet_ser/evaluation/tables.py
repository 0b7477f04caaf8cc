"""The paper's tables in Markdown, from aggregated runs, with the paper's numbers and our difference.

* Table 1 — IEMOCAP, leave-one-session-out CV: CCC (mean of V/A/D), CCC-V, CCC-A, CCC-D, Acc (UA).
* Table 2 — mismatched training, the paper's eight rows (``espnet_ser.spec.TABLE2_ROWS``): what IEMOCAP
  and MSP-Podcast contribute to training; IEMOCAP CCC and Acc (UA) on Session 5, MSP-Podcast CCC and
  F1 (macro) on Test1. ``-`` exactly where no training data of the row carried that label type.
* Table 3 — MSP-Podcast Test1: CCC, CCC-V, CCC-A, CCC-D, F1 (macro).

Each metric has three columns: ours (``mean ± std``: over folds, sample std, when there are several,
otherwise the bootstrap std over utterances), the paper's value and ours minus the paper's. Marks
(:mod:`espnet_ser.evaluation.significance`): ``*`` the paired bootstrap of the cell's statistic, ``†`` the
paired t-test over folds, each family corrected for multiple comparisons. Baselines: Baseline C for
CCC cells and Baseline D for Acc/F1 cells (Tables 1 and 3); in Table 2 the row of the same model
that trains on the evaluated corpus's label of that type alone.
"""

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from espnet_ser.evaluation.paper_numbers import PAPER
from espnet_ser.metrics import confusion, recall_of
from espnet_ser.evaluation.runs import Aggregate, is_missing
from espnet_ser.evaluation.significance import (ALPHA, BOOTSTRAP_TEST, CORRECTION_NAMES, FOLD_TEST, bootstrap_std, family_size,
                                             mark_family, paired_bootstrap, paired_fold_test)
from espnet_ser.spec import (BASELINES, LABEL_WORDS, TABLE2_CORPORA, TABLE2_ROWS, TABLES, TEST_SETS, VARIANT_TITLES, VARIANTS,
                              metric_label_type, row_order, title_of, table2_baseline_row, table2_trained_types)

LABELS = {"ccc_mean": "CCC", "ccc_valence": "CCC-V", "ccc_arousal": "CCC-A", "ccc_dominance": "CCC-D",
          "ua": "Acc (UA)", "f1_macro": "F1 (macro)", "wa": "WA"}


def _num(v: Optional[float]) -> str:
    return "-" if is_missing(v) else f"{v:.3f}"


def _diff(agg: Optional[Aggregate], metric: str, paper: Optional[float]) -> str:
    ours = None if agg is None else agg.metrics.get(metric, {}).get("mean")
    return "" if is_missing(ours) or is_missing(paper) else f"{ours - paper:+.3f}"


def cell(agg: Optional[Aggregate], metric: str, base: Optional[Aggregate]) -> Tuple[str, Dict]:
    """``mean ± std`` and the tests against ``base`` behind its marks (added later by :func:`mark`)."""
    if agg is None or is_missing(agg.metrics.get(metric, {}).get("mean", 0.0)):
        return "n/a", {}
    if metric not in agg.metrics:
        return "–", {}
    m = agg.metrics[metric]
    std = m["std"] if m["n"] > 1 else bootstrap_std(agg.pooled, metric)
    text = f"{m['mean']:.3f} ± {std:.3f}"
    tests: Dict = {}
    if base is not None and base is not agg and metric in base.metrics and base.folds == agg.folds \
            and [p.ids for p in base.parts] == [p.ids for p in agg.parts]:
        tests["bootstrap"] = paired_bootstrap(base.parts, agg.parts, metric)
        a = [s.get(metric, float("nan")) for s in base.per_fold]
        b = [s.get(metric, float("nan")) for s in agg.per_fold]
        if len(a) > 1:
            tests["fold_ttest"] = paired_fold_test(a, b)
    return text, tests


MARKS = {"bootstrap": "*", "fold_ttest": "†"}


def mark(rows: List[List[str]], places: Sequence[Tuple[int, int, str]], details: Dict, correction: str,
         show_ci: bool = False) -> Dict[str, int]:
    """Add significance marks to ``rows[r][c]`` for every ``(r, c, key)`` in ``places``.

    Each test kind of one table is a family: its p-values are adjusted by ``correction`` and a cell is
    marked when its adjusted p < ALPHA. Returns the number of defined tests per kind (the family sizes).
    """
    sizes = {}
    for kind, sym in MARKS.items():
        results = [details[key].get(kind) for _, _, key in places]
        sizes[kind] = family_size(results)
        for (r, c, key), hit in zip(places, mark_family(results, correction)):
            if hit:
                rows[r][c] += sym
    if show_ci:
        for r, c, key in places:
            b = details[key].get("bootstrap")
            if b and not np.isnan(b["ci_low"]):
                rows[r][c] += f" [{b['ci_low']:+.3f}, {b['ci_high']:+.3f}]"
    return sizes


def _header(cols: Sequence[str]) -> List[str]:
    return ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]


def system_base(aggs: Dict[str, Aggregate]) -> Optional[str]:
    """The row every other row of a table is tested against when the table has systems: the fusion, else
    the classical system (None: a table of the paper's variants, tested against their baselines)."""
    return next((k for k in ("fusion", "classical") if k in aggs), None)


def variant_table(title: str, aggs: Dict[str, Aggregate], metrics: Sequence[str], paper_key: str,
                  fold_word: str, correction: str = "holm", show_ci: bool = False,
                  predictable: Optional[Dict[str, Dict[str, List[str]]]] = None) -> Tuple[str, Dict]:
    """Table 1 or 3 (or a corpus outside the paper: no paper columns): one row per variant, system
    (:data:`espnet_ser.spec.SYSTEMS`) and system member (``<system>/<member>``), in
    :func:`espnet_ser.spec.row_order`. With a system in the table every row is tested against
    :func:`system_base`. ``predictable``: the classes each row's model can predict, named under the
    table where some class of the list is missing."""
    cols = ["Model", f"n ({fold_word}/utts)"]
    for m in metrics:
        cols += [LABELS[m], "paper", "Δ"] if paper_key in PAPER else [LABELS[m]]
    lines = [f"### {title}", ""] + _header(cols)
    details: Dict = {}
    rows: List[List[str]] = []
    places: List[Tuple[int, int, str]] = []
    order = row_order(aggs)
    against = system_base(aggs)
    for v in order:
        agg = aggs[v]
        n = next(iter(agg.metrics.values()))
        row = [title_of(v), f"{n['n']}/{n['n_utts']}"]
        for m in metrics:
            base = aggs[against] if against else aggs.get(BASELINES[metric_label_type(m)])
            text, tests = cell(agg, m, base)
            details[f"{v}/{m}"] = tests
            places.append((len(rows), len(row), f"{v}/{m}"))
            paper = PAPER.get(paper_key, {}).get(v, {}).get(m)
            row += [text, _num(paper), _diff(agg, m, paper)] if paper_key in PAPER else [text]
        rows.append(row)
    sizes = mark(rows, places, details, correction, show_ci)
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    pooled = ["", "Pooled predictions (every utterance scored once):", ""] + _header(["Model"] + [LABELS[m] for m in metrics])
    for v in order:
        vals = [_num(aggs[v].metrics[m]["pooled"]) if m in aggs[v].metrics else "–" for m in metrics]
        pooled.append("| " + " | ".join([title_of(v)] + vals) + " |")
    per_class = per_class_recall({title_of(v): aggs[v] for v in order}, fold_word)
    base_text = (f"Paired tests: every row against {title_of(against)}." if against else "")
    lines += pooled + ["", _legend(sizes, correction, base_text, paper=paper_key in PAPER)] + per_class
    lines += predictable_lines(predictable or {})
    return "\n".join(lines) + "\n", details


def predictable_lines(predictable: Dict[str, Dict[str, List[str]]]) -> List[str]:
    """Markdown lines naming the classes each model can predict, when some model cannot predict all of
    its class list (its training data lacked them: they get probability 0)."""
    short = {k: v for k, v in predictable.items() if v["missing"]}
    if not short:
        return []
    return ["", "Classes a model cannot predict (no training utterance of theirs; probability 0): "
            + "; ".join(f"{title_of(k)}: {', '.join(v['missing'])} (predicts {', '.join(v['classes'])})"
                        for k, v in ((k, short[k]) for k in row_order(short))) + "."]


#: a class with fewer test utterances than this in some fold is named under the per-class table
FEW_TEST_ITEMS = 10


def per_class_recall(named: Dict[str, Aggregate], fold_word: str = "folds") -> List[str]:
    """Markdown lines: each model's per-class recall on the pooled predictions with the class's n, and
    the classes that some fold tests on fewer than ``FEW_TEST_ITEMS`` utterances (their recall inside
    that fold's UA can only take a few values). Empty when no model predicts classes."""
    rows, first = [], None
    for name, agg in named.items():
        p = agg.pooled
        if not p.has_classes or not p.class_list:
            continue
        first = first or agg  # every model of a table is tested on the same references
        cm = confusion(p.hyp_emotion, p.ref_emotion, p.class_list)
        rows.append("| " + " | ".join([name] + [_num(r) if n else "–" for r, n in zip(recall_of(cm), cm.sum(axis=1))]) + " |")
    if not rows:
        return []
    classes = first.pooled.class_list
    counts = confusion(first.pooled.hyp_emotion, first.pooled.ref_emotion, classes).sum(axis=1)
    per_fold = [confusion(q.hyp_emotion, q.ref_emotion, classes).sum(axis=1) for q in first.parts]
    lines = ["", f"Per-class recall (pooled {fold_word}; n: reference utterances of the class; UA is the mean of "
             "the recalls of the classes present):", "",
             *_header(["Model"] + [f"{c} (n={n})" for c, n in zip(classes, counts)]), *rows]
    few = [(c, [int(f[k]) for f in per_fold]) for k, c in enumerate(classes)
           if any(0 < f[k] < FEW_TEST_ITEMS for f in per_fold)]
    if few:
        unit = fold_word[:-1] or fold_word  # "folds" -> "fold", "runs" -> "run"
        lines += ["", f"Classes with fewer than {FEW_TEST_ITEMS} test utterances in some {unit}: "
                  + "; ".join(f"{c} (per {unit}: {', '.join(map(str, ns))})" for c, ns in few)
                  + f". Inside such a {unit}'s UA that class's recall moves in steps of 1/n."]
    return lines




def table2(aggs: Dict[Tuple[str, int], Dict[str, Aggregate]], correction: str = "holm",
           show_ci: bool = False) -> Tuple[str, Dict]:
    """``aggs[(variant, row ID)][test corpus]`` -> the paper's Table 2, one line per (variant, row)."""
    cols = ["Model", "ID", "IEMOCAP train", "MSP-Podcast train", "n (IEMOCAP/MSP utts)"]
    for corpus, m in TABLES["table2"].columns:
        cols += [f"{TEST_SETS[corpus].title} {LABELS[m].split(' ')[0]}", "paper", "Δ"]
    lines = [f"### {TABLES['table2'].title}", ""] + _header(cols)
    details: Dict = {}
    rows: List[List[str]] = []
    places: List[Tuple[int, int, str]] = []
    for v, row_id in sorted(aggs, key=lambda k: (VARIANTS.index(k[0]) if k[0] in VARIANTS else 99, k[1])):
        got = aggs[(v, row_id)]
        trained = table2_trained_types(row_id)
        utts = "/".join(str(len(got[c].pooled.ids)) if c in got else "0" for c in TABLE2_CORPORA)
        row = [VARIANT_TITLES.get(v, v), str(row_id)] + [LABEL_WORDS[t] for t in TABLE2_ROWS[row_id]] + [utts]
        for corpus, m in TABLES["table2"].columns:
            if metric_label_type(m) not in trained:
                row += ["-", "-", ""]  # no training data of the row carried this label type
                continue
            base = aggs.get((v, table2_baseline_row(corpus, metric_label_type(m))), {}).get(corpus)
            key = f"{v}/{row_id}/{corpus}/{m}"
            text, tests = cell(got.get(corpus), m, base)
            details[key] = tests
            places.append((len(rows), len(row), key))
            paper = PAPER["table2"].get(row_id, {}).get(f"{corpus}/{m}")
            row += [text, _num(paper), _diff(got.get(corpus), m, paper)]
        rows.append(row)
    sizes = mark(rows, places, details, correction, show_ci)
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    base_text = ("Baseline of a cell: the row of the same model trained on that corpus's labels of that type alone "
                 "(IEMOCAP CCC: row 2, IEMOCAP Acc: row 4, MSP-Podcast CCC: row 1, MSP-Podcast F1: row 3).")
    return "\n".join(lines + ["", _legend(sizes, correction, base_text)]) + "\n", details


def _legend(sizes: Dict[str, int], correction: str, baselines: str = "", paper: bool = True,
            dash: str = "–: the model has no output of that kind (Baseline C predicts no class, Baseline D no V/A/D).") -> str:
    corr = CORRECTION_NAMES[correction]
    fam = lambda k: (f"{sizes[k]} tests in this table, " + (f"{corr}-adjusted p < {ALPHA}" if correction != "none"  # noqa: E731
                                                          else f"p < {ALPHA}, no correction for multiple comparisons"))
    return (f"`mean ± std`: over folds (sample std) when n > 1, else the bootstrap std over utterances. "
            f"`*`: {BOOTSTRAP_TEST} ({fam('bootstrap')}); `†`: {FOLD_TEST} ({fam('fold_ttest')}; undefined with fewer "
            "than 2 folds or zero variance of the fold differences: no mark). Each kind of test in one table is one "
            "family. p-values and 95 % intervals: significance.json. "
            + (baselines or "Baseline: Baseline C for CCC cells, Baseline D for Acc/F1 cells.")
            + (" `paper`: the value printed in arXiv 2210.16642 (- where it prints none); `Δ`: ours minus the paper's."
               if paper else "")
            + " " + dash)
