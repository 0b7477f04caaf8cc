"""Fuse the prediction dirs of several systems (or of the folds' models) into one: the one fusion of the project.

    python -m espnet_ser.bin.ser_ensemble combine --out DIR [--rule product] [--prior_from TRAIN_DIR] HYP HYP ...
    python -m espnet_ser.bin.ser_ensemble fit --config conf/tuning/cpu_opensmile_fusion.yaml --train DIR --out EXP
    python -m espnet_ser.bin.ser_ensemble predict --model EXP --out DIR HYP HYP ...

``combine`` fuses the class distributions (``probs``) with ``--rule`` ``mean`` (default) or ``product``
(:func:`espnet_ser.fusion.fuse`); ``--prior_from`` a training data dir divides them by its classes'
frequencies (:func:`espnet_ser.fusion.prior_corrected`: classes it never has are never predicted). V/A/D are
averaged. Written: ``probs``/``emotion``, ``class_entropy`` (nats) of the fused distribution, ``vad`` and its
std over the inputs (``vad_std``), the files ``ser_inference --mc_dropout`` writes, so ``ser_score`` reads both.

A recipe declares a fused system with a config (``system: fusion``, ``systems``, ``rule``,
``prior_correction``): ``fit`` counts the classes of its training dirs into ``EXP/fusion.json``; ``predict``
fuses the systems' prediction dirs (given in the config's order) with them.
"""

import argparse
import json
import shutil
from pathlib import Path
from typing import Dict, Optional, Sequence

import numpy as np

from espnet_ser.errors import InputError, read_yaml_mapping, run_cli
from espnet_ser.fusion import RULES, fuse, prior_corrected
from espnet_ser.inference.predictions import Predictions, read_predictions, write_predictions
from espnet_ser.labels import read_table
from espnet_ser.metrics import entropy

FUSION_JSON = "fusion.json"


def class_counts(dirs: Sequence[Path], class_list: Sequence[str]) -> Dict[str, int]:
    """Each class's number of utterances over the ``emotion`` files of ``dirs`` (an utterance counted once)."""
    seen: Dict[str, str] = {}
    for d in dirs:
        if (Path(d) / "emotion").is_file():
            seen.update({u: v.strip() for u, v in read_table(Path(d) / "emotion").items() if v.strip()})
    other = sorted(set(seen.values()) - set(class_list))
    if other:
        raise InputError(f"{' '.join(map(str, dirs))}: classes {other} are not in the class list {list(class_list)}")
    return {c: sum(v == c for v in seen.values()) for c in class_list}


def combine(hyps: Sequence[Path], rule: str = "mean", counts: Optional[Dict[str, int]] = None,
            divide: bool = True) -> Predictions:
    """The fused predictions of the prediction dirs ``hyps`` (same utterances, same classes); with the training
    class ``counts``, classes counted 0 times get probability 0 and (``divide``) the others are prior-corrected."""
    if len(hyps) < 2:
        raise InputError("a fusion needs at least two prediction dirs")
    preds = [read_predictions(d) for d in hyps]
    first = preds[0]
    for d, p in zip(hyps, preds):
        if p.ids != first.ids:
            raise InputError(f"{d}: lists other utterances than {hyps[0]}: the prediction dirs of a fusion must list the same utterances")
        if (p.class_list or None) != (first.class_list or None):
            raise InputError(f"{d}: class list {p.class_list} differs from {hyps[0]}'s {first.class_list}")
        if (p.probs is None) != (first.probs is None) or (p.vad is None) != (first.vad is None):
            raise InputError(f"{d}: the prediction dirs of a fusion must all have (or all lack) probs and vad")
        bad = p.nonfinite()
        if bad:  # a fusion would carry the NaN into every output of the utterance
            raise InputError(f"{d}: {len(bad)} utterance(s) with NaN or infinite predictions: {' '.join(bad[:10])}")
    probs = entropy_of = vad = vad_std = None
    if first.probs is not None:
        probs = fuse([p.probs for p in preds], rule)
        if counts is not None:
            probs = prior_corrected(probs, [counts.get(c, 0) for c in first.class_list], divide)
        entropy_of = entropy(probs)
    if first.vad is not None:
        v = np.stack([p.vad for p in preds]).astype(np.float64)
        vad, vad_std = v.mean(0), v.std(0)
    return Predictions(first.ids, first.class_list, probs, vad, class_entropy=entropy_of, vad_std=vad_std)


def _fit(args) -> int:
    conf = read_yaml_mapping(args.config, "fusion config")
    if conf.get("system") != "fusion":
        raise InputError(f"{args.config}: system: fusion expected, got {conf.get('system')!r}")
    unknown = sorted(set(conf) - {"system", "systems", "rule", "prior_correction", "class_list"})
    if unknown:
        raise InputError(f"{args.config}: unknown key(s) {unknown}; a fusion config has system, systems, rule, prior_correction")
    rule = conf.get("rule", "product")
    if rule not in RULES:
        raise InputError(f"{args.config}: rule {rule!r}: one of {', '.join(RULES)}")
    if not isinstance(conf.get("prior_correction", True), bool):
        raise InputError(f"{args.config}: prior_correction {conf['prior_correction']!r}: true or false")
    systems = conf.get("systems")
    if not isinstance(systems, list) or len(systems) < 2:
        raise InputError(f"{args.config}: systems {systems!r}: a list of at least two systems")
    from espnet_ser import DEFAULT_CLASSES

    classes = list(conf.get("class_list") or DEFAULT_CLASSES)
    info = {"systems": [str(s) for s in systems], "rule": rule, "prior_correction": conf.get("prior_correction", True),
            "class_counts": class_counts(args.train, classes)}
    info["predictable_classes"] = [c for c, n in info["class_counts"].items() if n > 0]
    if not sum(info["class_counts"].values()):
        raise InputError(f"{' '.join(map(str, args.train))}: no labelled utterance to count")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / FUSION_JSON).write_text(json.dumps(info, indent=1) + "\n")
    shutil.copyfile(args.config, args.out / "config.yaml")
    print(f"ser_ensemble fit: {rule} of {' + '.join(info['systems'])}; training classes {info['class_counts']} -> {args.out}")
    return 0


def _predict(args) -> int:
    f = args.model / FUSION_JSON
    if not f.is_file():
        raise InputError(f"{f} missing: run 'ser_ensemble fit' for {args.model} first")
    info = json.loads(f.read_text())
    if len(args.hyp) != len(info["systems"]):
        raise InputError(f"{args.model}: fuses {len(info['systems'])} systems ({' '.join(info['systems'])}), "
                         f"{len(args.hyp)} prediction dirs given")
    out = combine(args.hyp, info["rule"], info["class_counts"], info["prior_correction"])
    write_predictions(out, args.out)
    print(f"ser_ensemble: {info['rule']} of {len(args.hyp)} systems, {len(out.ids)} utterances -> {args.out}")
    return 0


def _combine(args) -> int:
    counts = None
    if args.prior_from is not None:
        classes = read_predictions(args.hyp[0]).class_list or []
        counts = class_counts([args.prior_from], classes)
    out = combine(args.hyp, args.rule, counts)
    write_predictions(out, args.out, args.vad_scale)
    print(f"ser_ensemble: {args.rule} of {len(args.hyp)} prediction dirs, {len(out.ids)} utterances -> {args.out}")
    return 0


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ser_ensemble", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("combine", help="fuse prediction dirs")
    c.add_argument("hyp", nargs="+", type=Path, help="prediction dirs (ser_inference, classical predict, ...)")
    c.add_argument("--out", type=Path, required=True, help="output prediction dir")
    c.add_argument("--rule", choices=RULES, default="mean", help="how the class distributions are combined (default mean)")
    c.add_argument("--prior_from", type=Path, default=None,
                   help="a training data dir: divide by its classes' frequencies (classes it lacks: never predicted)")
    c.add_argument("--vad_scale", default="none", help="also write V/A/D on a corpus scale: 1-5, 1-7 or none")
    c.set_defaults(run=_combine)
    f = sub.add_parser("fit", help="a declared fusion: count its training classes")
    f.add_argument("--config", type=Path, required=True, help="a fusion config (system: fusion)")
    f.add_argument("--train", type=Path, action="append", required=True, help="a training data dir (repeatable)")
    f.add_argument("--out", type=Path, required=True, help="the exp dir to write")
    f.set_defaults(run=_fit)
    q = sub.add_parser("predict", help="a declared fusion: fuse its systems' prediction dirs")
    q.add_argument("hyp", nargs="+", type=Path, help="the systems' prediction dirs, in the config's order")
    q.add_argument("--model", type=Path, required=True, help="the exp dir written by fit")
    q.add_argument("--out", type=Path, required=True, help="output prediction dir")
    q.set_defaults(run=_predict)
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="ser_ensemble"))
