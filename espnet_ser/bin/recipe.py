"""The Python side of ser.sh's stages (each sub-command has --help).

    python -m espnet_ser.bin.recipe splits --recipe iemocap --data data --folds 1 2
    python -m espnet_ser.bin.recipe format --src data --dst dump/raw
    python -m espnet_ser.bin.recipe filter --root dump/raw --min_dur 0.5 --max_dur 30
    python -m espnet_ser.bin.recipe jobs --stage train --recipe iemocap --root dump/raw --expdir exp ...
    python -m espnet_ser.bin.recipe fact folds --recipe iemocap   # a fact for the shell (espnet_ser.spec)
"""

import argparse
import json
import shlex
import sys
from pathlib import Path

from espnet_ser import spec
from espnet_ser.errors import InputError, run_cli
from espnet_ser.locks import hold
from espnet_ser.recipe.plan import (STAGES, data_dirs, feats_type, make_splits, plan_stage, read_splits,
                                    shared_frontend_config, write_jobs, write_splits)


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="recipe", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("splits", help="write <data>/splits.tsv (and the Table-2 combined dirs)")
    s.add_argument("--recipe", required=True, choices=spec.RECIPES)
    s.add_argument("--data", type=Path, required=True, help="data root written by local/data.sh")
    s.add_argument("--folds", type=int, nargs="*", default=None, help="IEMOCAP folds (default or none given: the recipe's)")
    s.add_argument("--seed", type=int, default=0, help="seed of the Table-2 MSP-Podcast subset (default 0)")
    s.add_argument("--declaration", type=Path, default=None, help="multi-corpus declaration (recipe multi)")
    s = sub.add_parser("preps", help="print the prepare_data corpora a multi-corpus declaration needs (local/data.sh)")
    s.add_argument("--declaration", type=Path, required=True)
    s = sub.add_parser("fact", help="print one fact of the recipe spec (for the shell scripts)")
    s.add_argument("name", choices=("recipes", "paper_recipes", "variants", "table", "folds", "tests"))
    s.add_argument("--recipe", default=None, help="the recipe the fact is about (variants: without it, all)")
    s = sub.add_parser("check", help="refuse stage numbers and folds the recipe does not have (ser.sh asks first)")
    s.add_argument("--recipe", required=True, choices=spec.RECIPES)
    s.add_argument("--stage", required=True, help=f"first stage (1-{spec.LAST_STAGE})")
    s.add_argument("--stop_stage", required=True, help=f"last stage (1-{spec.LAST_STAGE})")
    s.add_argument("--folds", nargs="*", default=[], help="folds asked for")
    s = sub.add_parser("frontend_config", help="print the config whose frontend all variants share (stages 4-5)")
    s.add_argument("--ser_config", required=True, help="training YAML; {variant} is replaced by the variant name")
    s.add_argument("--variants", nargs="+", required=True, choices=spec.RUNNABLE)
    s = sub.add_parser("feats_type", help="print the feature type training reads (raw where the frontend has nothing frozen to cache)")
    s.add_argument("--ser_config", required=True, help="training YAML; {variant} is replaced by the variant name")
    s.add_argument("--variants", nargs="+", required=True, choices=spec.RUNNABLE)
    s.add_argument("--feats_type", required=True, choices=["raw", "cached"], help="what the run asked for")
    s = sub.add_parser("format", help="every data dir of <src>/splits.tsv -> 16 kHz mono copy under <dst>")
    s.add_argument("--src", type=Path, required=True, help="data root with splits.tsv")
    s.add_argument("--dst", type=Path, required=True, help="dump root (same relative layout)")
    s = sub.add_parser("filter", help="drop training/dev utterances outside the duration limits")
    s.add_argument("--root", type=Path, required=True, help="dump root with splits.tsv")
    s.add_argument("--min_dur", type=float, default=0.0, help="seconds (default 0)")
    s.add_argument("--max_dur", type=float, default=None, help="seconds (default: no limit)")
    s = sub.add_parser("jobs", help="write the job file of a stage; prints the number of jobs")
    s.add_argument("--stage", required=True, choices=STAGES)
    s.add_argument("--recipe", required=True, choices=spec.RECIPES)
    s.add_argument("--root", type=Path, required=True, help="dump root with splits.tsv")
    s.add_argument("--expdir", type=Path, required=True)
    s.add_argument("--variants", nargs="+", default=None, choices=spec.RUNNABLE, help="default: the recipe's")
    s.add_argument("--folds", type=int, nargs="*", default=None, help="only splits of these folds (default: all)")
    s.add_argument("--ser_config", required=True, help="training YAML; {variant} is replaced by the variant name")
    s.add_argument("--ser_args", default="", help="extra ser_train arguments (one shell-quoted string)")
    s.add_argument("--inference_args", default="", help="extra ser_inference arguments (one shell-quoted string)")
    s.add_argument("--ngpu", type=int, default=0)
    s.add_argument("--num_nodes", type=int, default=1, help="nodes per training job (>1: one Slurm step over them)")
    s.add_argument("--model_card", choices=("none", "quick", "full"), default="none", help="pack stage: write model cards")
    s.add_argument("--eval_root", type=Path, default=None, help="audio data root of the test sets (default --root)")
    s.add_argument("--feats_root", type=Path, default=None, help="feature cache root (stage 4), read by the classical system")
    s.add_argument("--out", type=Path, required=True, help="job file to write")
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    if args.cmd == "splits":
        splits = make_splits(args.recipe, args.data, args.folds or spec.recipe(args.recipe).folds, args.seed, args.declaration)
        write_splits(splits, args.data / "splits.tsv")
        print(f"{len(splits)} splits -> {args.data / 'splits.tsv'}")
    elif args.cmd == "preps":
        from espnet_ser.recipe.mixing import load

        print(" ".join(sorted({c.prep for c in load(args.declaration).corpora.values() if c.prep})))
    elif args.cmd == "fact":
        try:
            print(spec.fact(args.name, args.recipe))
        except ValueError as e:
            raise InputError(str(e)) from None
    elif args.cmd == "check":
        check_run(args)
    elif args.cmd == "frontend_config":
        print(shared_frontend_config(args.ser_config, args.variants))
    elif args.cmd == "feats_type":
        chosen, why = feats_type(args.ser_config, args.variants, args.feats_type)
        if chosen != args.feats_type:
            print(f"--feats_type {args.feats_type} -> {chosen}: {why}", file=sys.stderr)
        print(chosen)
    elif args.cmd in ("format", "filter"):
        _audio_stage(args)
    else:
        splits = read_splits(args.root / "splits.tsv")
        if args.folds:
            have = {s.fold for s in splits if s.fold is not None}
            missing = sorted(set(args.folds) - have)
            if missing and have:
                raise InputError(f"--folds {' '.join(map(str, missing))}: {args.root}/splits.tsv has folds "
                                 f"{' '.join(map(str, sorted(have)))}")
            splits = [s for s in splits if s.fold is None or s.fold in args.folds]
        if not args.variants:
            raise InputError("--variants: name the variants to run (each recipe's run.sh names its own)")
        variants = args.variants
        jobs = plan_stage(args.stage, args.recipe, splits, args.root, args.expdir, variants, args.ser_config,
                          shlex.split(args.ser_args), shlex.split(args.inference_args), args.ngpu, args.eval_root,
                          args.num_nodes, args.model_card, args.feats_root)
        write_jobs(jobs, args.out)
        print(len(jobs))
    return 0


def check_run(args) -> None:
    """``ser.sh``'s options that Python knows the range of: stages 1..LAST_STAGE in order, and folds the
    recipe has (a recipe whose folds come from the corpus, ``manifest``, is checked when its jobs are
    planned)."""
    stages = []
    for name, value in (("--stage", args.stage), ("--stop_stage", args.stop_stage)):
        if not value.isdigit() or not 1 <= int(value) <= spec.LAST_STAGE:
            raise InputError(f"{name} {value!r}: give a stage number from 1 to {spec.LAST_STAGE} (ser.sh --help lists them)")
        stages.append(int(value))
    if stages[0] > stages[1]:
        raise InputError(f"--stage {stages[0]} comes after --stop_stage {stages[1]}: nothing would run")
    known = spec.recipe(args.recipe).folds
    if args.folds and spec.recipe(args.recipe).layout == "split":
        raise InputError(f"--folds {' '.join(args.folds)}: recipe {args.recipe} has one split and no folds")
    for f in args.folds:
        if not f.isdigit() or (known and int(f) not in known):
            raise InputError(f"--folds {f!r}: recipe {args.recipe} has folds {' '.join(map(str, known)) or '(none)'}")


def _audio_stage(args) -> None:
    """Stages 2 (format) and 3 (filter). Their audio code (torchaudio) is imported here only: the
    shell asks this CLI for facts several times a run, and a fact needs none of it."""
    from espnet_ser.recipe.dump import filter_durations, format_data_dir

    if args.cmd == "format":
        splits = read_splits(args.src / "splits.tsv")
        shared = {}  # audio handled for one data dir is not read or converted again for another
        with hold(args.dst):
            for rel in data_dirs(splits):
                r = format_data_dir(args.src / rel, args.dst / rel, shared)
                print(f"{rel}: {r['utterances']} utterances, {r['kept_as_is']} kept as they are, "
                      f"{r['converted']} converted to 16 kHz mono, {r.get('shared', 0)} already handled for another dir")
            write_splits(splits, args.dst / "splits.tsv")
    else:
        splits = read_splits(args.root / "splits.tsv")
        for rel in sorted({d for s in splits for d in (s.train, s.dev)}):
            r = filter_durations(args.root / rel, args.min_dur, args.max_dur)
            print(f"{rel}: kept {r['kept']}, dropped {json.dumps(r.get('dropped', {}))}")


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="recipe"))
