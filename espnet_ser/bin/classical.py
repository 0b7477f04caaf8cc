"""Fit a classical system on feature caches, and predict with it (espnet_ser.classical).

    python -m espnet_ser.bin.classical fit --config conf/tuning/cpu_opensmile_classical.yaml \\
        --train dump/feats/emodb/fold1/train --train dump/feats/emodb/fold1/dev --out exp/ser_classical_fold1
    python -m espnet_ser.bin.classical predict --model exp/ser_classical_fold1 \\
        --feats dump/feats/emodb/fold1/test --out exp/ser_classical_fold1/inference/emodb

``fit`` reads the cached features of every ``--train`` dir (their labelled utterances), fits the members and
writes ``model.skops``, ``config.yaml`` and ``classical.json`` into ``--out``. ``predict`` writes a prediction
dir (``probs``, ``emotion``, ``class_list``: what ``ser_score``, ``ser_conformal`` and ``ser_ensemble`` read)
of the fused system, and one per member under ``members/<name>/``.
"""

import argparse
import json
import shutil
import time
from pathlib import Path

from espnet_ser.classical import store
from espnet_ser.classical.config import load_config
from espnet_ser.classical.system import ClassicalSystem, Member, layout_of
from espnet_ser.errors import InputError, run_cli
from espnet_ser.inference.predictions import MEMBERS_DIR, Predictions, write_predictions

INFO_NAME = "classical.json"


def fit(args) -> int:
    conf = load_config(args.config)
    frontend = {"frontend": conf.frontend, "frontend_conf": conf.frontend_conf}
    feats, y, spk, seen_utts = [], [], [], set()
    for d in args.train:
        c = store.read_cache(d, frontend)
        bad = sorted({v for v in c.emotion.values() if v and v not in conf.class_list})
        if bad:
            raise InputError(f"{d}/emotion: classes {bad} are not in {args.config}'s class_list {conf.class_list}")
        for u, f, s in zip(c.ids, c.feats, c.speakers):
            if c.emotion.get(u) and u not in seen_utts:
                seen_utts.add(u)
                feats.append(f)
                y.append(c.emotion[u])
                spk.append(s)
    if not feats:
        raise InputError(f"{' '.join(map(str, args.train))}: no labelled utterance to fit on")
    start = time.time()
    members = [Member(m.name, m.features, float(m.view), m.estimator, dict(m.params), m.max_rows) for m in conf.members]
    system = ClassicalSystem(members, layout_of(conf.frontend_conf), conf.class_list, conf.fusion,
                             conf.prior_correction, conf.cv_folds, args.seed if args.seed is not None else conf.seed)
    try:
        system.fit(feats, y, spk)
    except ValueError as e:
        raise InputError(f"{args.config}: {e}") from None
    out = Path(args.out)
    store.save(system, out / store.MODEL_NAME)
    shutil.copyfile(args.config, out / "config.yaml")
    counts = dict(zip(conf.class_list, system.class_counts_.astype(int).tolist()))
    info = {"utterances": len(feats), "speakers": len(set(spk)), "class_counts": counts,
            "predictable_classes": [c for c, n in counts.items() if n > 0],
            "training_vectors": system.training_rows_, "carried_vectors": system.carried_rows_,
            "chosen_params": system.chosen_,
            "seed": system.seed, "fit_seconds": round(time.time() - start, 1)}
    (out / INFO_NAME).write_text(json.dumps(info, indent=1) + "\n")
    print(f"classical fit: {len(members)} members on {len(feats)} utterances of {len(set(spk))} speakers "
          f"({info['fit_seconds']} s) -> {out}; classes it can predict: {' '.join(info['predictable_classes'])}")
    return 0


def predict(args) -> int:
    model = Path(args.model)
    system = store.load(model / store.MODEL_NAME if model.is_dir() else model)
    conf_file = (model if model.is_dir() else model.parent) / "config.yaml"
    conf = load_config(conf_file)
    c = store.read_cache(args.feats, {"frontend": conf.frontend, "frontend_conf": conf.frontend_conf})
    if not c.ids:
        raise InputError(f"{args.feats}/feats.scp: no utterance to predict")
    members = system.member_probs(c.feats, c.speakers)
    probs = system.fused(members)  # the members are computed once
    classes = list(system.class_list)
    write_predictions(Predictions(c.ids, classes, probs), args.out)
    shutil.rmtree(Path(args.out) / MEMBERS_DIR, ignore_errors=True)  # members of an earlier config
    for name, p in members.items():
        write_predictions(Predictions(c.ids, classes, p), Path(args.out) / MEMBERS_DIR / name)
    print(f"classical predict: {len(c.ids)} utterances, {len(members)} members -> {args.out}")
    return 0


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="classical", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fit", help="fit a classical config's members on feature caches")
    f.add_argument("--config", type=Path, required=True, help="a classical config (system: classical)")
    f.add_argument("--train", type=Path, action="append", required=True, help="a feature cache dir to fit on (repeatable)")
    f.add_argument("--out", type=Path, required=True, help="the exp dir to write")
    f.add_argument("--seed", type=int, default=None, help="override the config's seed")
    f.set_defaults(run=fit)
    q = sub.add_parser("predict", help="predict a feature cache dir's utterances")
    q.add_argument("--model", type=Path, required=True, help="an exp dir written by fit (or its model.skops)")
    q.add_argument("--feats", type=Path, required=True, help="a feature cache dir (stage 4) of the same frontend")
    q.add_argument("--out", type=Path, required=True, help="the prediction dir to write")
    q.set_defaults(run=predict)
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="classical"))
