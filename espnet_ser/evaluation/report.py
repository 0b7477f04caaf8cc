"""RESULTS.md for one or several recipes: the paper's tables, significance and figures.

``build_results({"table1": exp_iemocap, "table2": exp_mismatched, "table3": exp_msp}, out_dir)``
reads the experiments (``meta.json`` + ``inference/<test>/``), aggregates folds, writes
``RESULTS.md``, ``significance.json``, ``aggregates.json`` and ``figures/*.png`` under ``out_dir``.
"""

import datetime
import json
import math
import os
from pathlib import Path
from typing import Dict, List, Union

from espnet_ser import VAD_DIMS
from espnet_ser.errors import MissingInput
from espnet_ser.evaluation.beyond import beyond_scores, reject_curves
from espnet_ser.evaluation.compare import fmt3, vad_classes_by_fold
from espnet_ser.evaluation.cross_corpus import cross_corpus
from espnet_ser.evaluation.plots import (plot_confusion, plot_pred_vs_true, plot_reject_curves, plot_training_curves,
                                         plot_va_plane)
from espnet_ser.evaluation.runs import by_member, by_variant, load_runs, predictable_by_variant
from espnet_ser.evaluation.tables import table2, variant_table
from espnet_ser.spec import TABLE2_CORPORA, TABLES, row_order, title_of

PathLike = Union[str, Path]


def _figures(aggs, tag: str, fig_dir: Path) -> List[Path]:
    out = []
    for v, agg in aggs.items():
        p = agg.pooled
        name = f"{tag} {title_of(v)} (pooled, n={len(p.ids)})"
        if p.has_classes:
            out.append(plot_confusion(p, fig_dir / f"{tag}_{v}_confusion.png", name))
        if p.has_vad:
            out.append(plot_pred_vs_true(p, fig_dir / f"{tag}_{v}_pred_vs_true.png", name))
            if p.ref_emotion is not None and any(e is not None for e in p.ref_emotion):
                out.append(plot_va_plane(p, fig_dir / f"{tag}_{v}_va_plane.png", name))
    return out


def beyond_section(aggs, runs, test: str, tag: str, fig_dir: Path):
    """Markdown lines and a reject-curve figure: calibration, agreement with the evaluators' votes and
    classes read off V/A/D, per variant on the pooled folds (:mod:`espnet_ser.evaluation.beyond`)."""
    rows, curves = [], {}
    for v in row_order(aggs):
        agg = aggs[v]
        b = beyond_scores(agg.pooled, fit_vad_classes=False)  # classes from V/A/D: fitted per fold below
        view = vad_classes_by_fold([r for r in runs if r.variant == v and test in r.paired], test) if agg.pooled.has_vad else {}
        if not b and not view:
            continue
        rho = b.get("spearman_uncertainty_disagreement")
        rows.append(f"| {title_of(v)} | {fmt3(b.get('ece'))} | {fmt3(b.get('ece_votes'))} | "
                    f"{fmt3(b.get('jsd_votes'))} | {fmt3(rho)} | "
                    f"{fmt3(view.get('ua'))} | {fmt3(view.get('agreement'))} |")
        curves[title_of(v)] = reject_curves(b)
    if not rows:
        return [], None
    lines = ["Beyond accuracy (pooled folds; docs/evaluation.md): ECE of the top-class probability, against the "
             "reference classes and against the share of the evaluators' votes for the predicted class; mean JSD "
             "(bits) to the evaluators' vote distribution; ρ: Spearman correlation of the class uncertainty with the "
             "votes' entropy; classes read off the predicted V/A/D by the nearest class centroid of each fold's "
             "training labels, their UA and agreement with the class head.", "",
             "| Model | ECE | ECE to votes | JSD to votes | ρ(uncertainty, disagreement) | UA from V/A/D | class/V-A-D agreement |",
             "|---|---|---|---|---|---|---|", *rows, ""]
    fig = plot_reject_curves(curves, fig_dir / f"{tag}_reject_curves.png", f"{tag}: reject curves (pooled folds)") \
        if any(curves.values()) else None
    return lines, fig


def _fewest(coverage: float) -> int:
    """The fewest calibration items whose ceil((n + 1) coverage)-th score exists (9 for 0.9)."""
    return next(n for n in range(1, 1_000_000) if math.ceil((n + 1) * coverage - 1e-12) <= n)


def conformal_section(runs, test: str) -> List[str]:
    """Markdown lines: empirical coverage of each variant's conformal sets and intervals on ``test``, every
    fold's utterances pooled (each fold calibrated on its own dev set; ``ser_conformal``'s coverage.json)."""
    rows, target, few = [], None, False
    for v in row_order({r.variant for r in runs}):
        reports = [json.loads(f.read_text()) for r in runs if r.variant == v
                   for f in [r.exp_dir / "inference" / test / "conformal" / "coverage.json"] if f.is_file()]
        if not reports:
            continue
        target = reports[0]["target_coverage"]
        alls = [rep["groups"]["all"] for rep in reports]
        cals = [json.loads(f.read_text()) for r in runs if r.variant == v
                for f in [r.exp_dir / "conformal" / "conformal.json"] if f.is_file()]
        sizes = [len(c["class_scores"] or []) or max((len(e) for e in c["vad_errors"].values()), default=0) for c in cals]
        short = any(c.get("too_few") for c in cals)
        few = few or short

        def pooled(value: str, weight: str):
            pairs = [(g[value], g[weight]) for g in alls if value in g and g.get(weight)]
            n = sum(w for _, w in pairs)
            return sum(x * w for x, w in pairs) / n if n else None

        dims = [d for d in VAD_DIMS if any(f"{d}_coverage" in g for g in alls)]
        vad_cov = [pooled(f"{d}_coverage", f"{d}_n") for d in dims]
        vad_width = [pooled(f"{d}_mean_width", f"{d}_n") for d in dims]
        mean = lambda xs: sum(xs) / len(xs) if xs and None not in xs else None  # noqa: E731
        worst = min((g.get("class_coverage", 1.0) for rep in reports for k, g in rep["groups"].items()
                     if k.startswith("speaker=") and g.get("class_n")), default=None)
        cal_n = (f"{min(sizes)}" if min(sizes) == max(sizes) else f"{min(sizes)}-{max(sizes)}") if sizes else "?"
        rows.append(f"| {title_of(v)} | {cal_n}{' *' if short else ''} | {fmt3(pooled('class_coverage', 'class_n'))} | "
                    f"{fmt3(pooled('mean_set_size', 'n'))} | {fmt3(worst)} | {fmt3(mean(vad_cov))} | {fmt3(mean(vad_width))} |")
    if not rows:
        return []
    return [f"Conformal prediction (docs/evaluation.md): sets and V/A/D intervals calibrated on each fold's dev "
            f"set for a target coverage of {target:.2f}; empirical coverage and mean size on the test utterances of "
            "all folds pooled; the lowest class coverage of any test speaker; V/A/D: mean over the dimensions of the "
            "coverage and of the interval width (0-1 scale)."
            + (f" `*`: some fold's dev set is too small for the target (fewer than {_fewest(target)} "
               "labelled utterances): its sets hold every class and its intervals the whole scale, covered but "
               "uninformative." if few else ""), "",
            "| Model | dev utterances calibrating (per fold) | class coverage | mean set size | lowest speaker's coverage | "
            "V/A/D coverage | V/A/D width |",
            "|---|---|---|---|---|---|---|", *rows, ""]


def build_results(sources: Dict[str, PathLike], out_dir: PathLike, header: str = "", correction: str = "holm",
                  show_ci: bool = False) -> Path:
    out = Path(out_dir)
    fig_dir = out / "figures"
    sections, details, summary, figures = [], {}, {}, []
    for table in sorted(sources):
        spec = TABLES[table]
        recipe = spec.name
        runs = load_runs(sources[table], recipe)
        if not runs:
            raise MissingInput(f"{sources[table]}: no finished {recipe} experiment (exp/*/meta.json) for {table}")
        logs: Dict[str, List[Path]] = {}
        for r in runs:
            if (r.exp_dir / "train.log").exists():
                label = title_of(r.variant) + (f", ID {r.meta['row']}" if spec.layout == "mismatched" else "")
                logs.setdefault(label, []).append(r.exp_dir / "train.log")
        if spec.layout == "multi":  # a declaration's experiments x its corpora: the cross-corpus matrix
            md, det, figs, summary[table] = cross_corpus(runs, fig_dir, correction, show_ci)
            figures += figs
        elif spec.layout == "mismatched":  # Table 2: one row per (variant, row ID), two test corpora
            key = lambda r: (r.variant, int(r.meta["row"]))  # noqa: E731
            aggs = {}
            for corpus in TABLE2_CORPORA:
                for k, agg in by_variant(runs, corpus, key).items():
                    aggs.setdefault(k, {})[corpus] = agg
            md, det = table2(aggs, correction, show_ci)
            summary[table] = {f"{k[0]}/row{k[1]}": {c: a.metrics for c, a in v.items()} for k, v in aggs.items()}
        else:
            aggs = by_variant(runs, spec.tests[0])
            members = by_member(runs, spec.tests[0])
            md, det = variant_table(spec.title, {**aggs, **members}, [m for _, m in spec.columns], table,
                                    "folds" if spec.layout == "folds" else "runs", correction, show_ci,
                                    predictable_by_variant(runs))
            summary[table] = {v: a.metrics for v, a in {**aggs, **members}.items()}
            figures += _figures(aggs, table, fig_dir)
            extra, fig = beyond_section(aggs, runs, spec.tests[0], table, fig_dir)
            extra += conformal_section(runs, spec.tests[0])
            md = md + "\n" + "\n".join(extra) if extra else md
            figures += [fig] if fig is not None else []
        if logs:
            figures.append(plot_training_curves(logs, fig_dir / f"{table}_training_curves.png"))
        sections.append(md)
        details[table] = det
    out.mkdir(parents=True, exist_ok=True)
    (out / "significance.json").write_text(json.dumps(details, indent=1, sort_keys=True) + "\n")
    (out / "aggregates.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = ["# RESULTS", "", f"Generated {now} by `python -m espnet_ser.bin.ser_report` from "
             + ", ".join(f"`{os.path.relpath(sources[t], out)}` ({t})" for t in sorted(sources)) + ".", ""]
    if header:
        lines += [header, ""]
    lines += sections
    lines += ["## Figures", ""] + [f"![{f.stem}]({os.path.relpath(f, out)})" for f in figures] + [""]
    path = out / "RESULTS.md"
    path.write_text("\n".join(lines))
    return path
