"""Corpus preparation: ``python -m espnet_ser.bin.prepare_data {iemocap,msp_podcast,manifest,combine,mini,validate} --help``.

Every sub-command writes Kaldi data dirs, prints a kept/dropped summary by reason, and validates what
it wrote (sorted ids, the same keys in every file, readable audio).
"""

import argparse
import json
import sys
from pathlib import Path
from typing import List

from espnet_ser.errors import InputError
from espnet_ser.labels import LABEL_TYPES, read_table
from espnet_ser.recipe.combine import combine
from espnet_ser.corpora.acted import prepare_acted
from espnet_ser.corpora.iemocap import CLASS_SETS, prepare_iemocap
from espnet_ser.corpora.manifest import prepare_manifest
from espnet_ser.corpora.mini import make_mini
from espnet_ser.corpora.msp_podcast import prepare_msp_podcast
from espnet_ser.corpora.validate import summary_table, validate_data_dir
from espnet_ser.errors import run_cli
from espnet_ser.locks import build_aside, claim_output, hold


def data_dirs_under(root: Path) -> List[Path]:
    return sorted(p.parent for p in Path(root).rglob("wav.scp"))


def validate_all(root: Path, check_audio: bool = True) -> str:
    rows = []
    for d in data_dirs_under(root):
        counts = validate_data_dir(d, check_audio=check_audio)
        rows.append({"dir": str(d.relative_to(root)) if d != root else ".", **counts})
    if not rows:
        raise InputError(f"{root}: no data dirs (no wav.scp) found")
    return summary_table(rows)


def _dev_options(s: argparse.ArgumentParser, dev_help: str, seed_prefix: str = "") -> None:
    """The options of the held-out dev speakers that every fold-writing corpus shares."""
    s.add_argument("--dev_speakers", type=int, default=1, help=dev_help)
    s.add_argument("--seed", type=int, default=0, help=f"{seed_prefix}seed of the dev-speaker choice (default 0)")


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="prepare_data", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("iemocap", help="IEMOCAP release -> all/ and fold{1..5}/{train,dev,test}")
    s.add_argument("corpus_dir", type=Path, help="the IEMOCAP directory holding Session1..Session5")
    s.add_argument("out_dir", type=Path, help="where the data dirs are written")
    s.add_argument("--class_set", choices=sorted(CLASS_SETS), default="paper5",
                   help="paper5: neutral angry happy sad disgust; 4class: excited merged into happy (default: paper5)")
    s.add_argument("--drop_unlabelled", action=argparse.BooleanOptionalAction, default=True,
                   help="drop utterances whose class is outside the set, as the paper's five-class data (default); "
                        "--no-drop_unlabelled keeps them with V/A/D only")
    s.add_argument("--dev_strategy", choices=["speaker", "session"], default="speaker",
                   help="dev set of each fold: held-out speakers of the training sessions (default) or the next session")
    _dev_options(s, "speakers held out for dev with --dev_strategy speaker (default 1)")

    s = sub.add_parser("msp_podcast", help="MSP-Podcast release -> one dir per Split_Set (+ train_subset)")
    s.add_argument("corpus_dir", type=Path, help="the MSP-Podcast directory holding Labels/ and Audios/")
    s.add_argument("out_dir", type=Path, help="where the data dirs are written")
    s.add_argument("--drop_unlabelled", action=argparse.BooleanOptionalAction, default=True,
                   help="drop utterances whose class is not N A H S D (default); --no-drop_unlabelled keeps them with V/A/D only")
    s.add_argument("--subset_size", type=int, default=None, help="also write train_subset: this many random Train utterances")
    s.add_argument("--subset_like", type=Path, default=None,
                   help="size train_subset like this data dir (e.g. an IEMOCAP fold's train dir)")
    s.add_argument("--seed", type=int, default=0, help="seed of the subset (default 0)")

    for corpus, layout in (("emovo", "<emotion>-<speaker>-<sentence>, e.g. dis-f1-b1"), ("emodb", "SSTTTEV, e.g. 03a01Fa")):
        s = sub.add_parser(corpus, help=f"{corpus.upper()} (labels in the file names: {layout}) -> all/ and "
                                        "fold{k}/{train,dev,test}, leave-one-speaker-out")
        s.add_argument("corpus_dir", type=Path, help="a folder holding the corpus's .wav/.flac files (any depth)")
        s.add_argument("out_dir", type=Path, help="where the data dirs are written")
        s.add_argument("--drop_unlabelled", action=argparse.BooleanOptionalAction, default=True,
                       help="drop files of emotions outside the five classes (default; --no-drop_unlabelled keeps them without a class)")
        _dev_options(s, "speakers of each fold's training part held out for dev (default 1)")

    s = sub.add_parser("manifest", help="any corpus from a CSV: utt_id,path,speaker[,emotion][,valence][,arousal][,dominance][,split]")
    s.add_argument("csv", type=Path, help="the manifest CSV (relative audio paths are relative to it)")
    s.add_argument("out_dir", type=Path, help="where the data dirs are written")
    s.add_argument("--scale", type=float, nargs=2, default=(1.0, 5.0), metavar=("LO", "HI"),
                   help="the range of the V/A/D columns, mapped to 0-1 (default 1 5)")
    s.add_argument("--classes", nargs="+", default=None, help="allowed class names (default: any)")
    s.add_argument("--allow_speaker_overlap", action="store_true",
                   help="accept a speaker in several splits (speaker leakage; default: an error), with a warning")
    s.add_argument("--speaker_folds", default=None, metavar="loso|K",
                   help="write all/ and speaker-independent fold{k}/{train,dev,test} (leave-one-speaker-out, or K "
                        "folds) instead of one dir per split")
    _dev_options(s, "with --speaker_folds: dev speakers per fold (default 1)", "with --speaker_folds: ")

    s = sub.add_parser("combine", help="merge data dirs keeping chosen label types (mismatched training)")
    s.add_argument("out_dir", type=Path, help="the merged data dir")
    s.add_argument("--source", action="append", required=True, metavar="PREFIX:DIR:TYPES",
                   help=f"a data dir, its id prefix and the label types kept from it, e.g. iemocap:data/iemocap/fold1/train:emotion; "
                        f"TYPES joined by '+' among {'/'.join(LABEL_TYPES)}; repeat per source")

    s = sub.add_parser("mini", help="write the synthetic mini corpus in the IEMOCAP and MSP-Podcast layouts")
    s.add_argument("out_dir", type=Path, help="gets IEMOCAP/ and MSP-Podcast/")
    s.add_argument("--seed", type=int, default=0, help="seed (default 0); the output is byte-identical for a seed")
    s.add_argument("--utts_per_dialog", type=int, default=10, help="IEMOCAP utterances per dialog (10 dialogs; default 10)")

    s = sub.add_parser("validate", help="check every data dir under a folder and print a summary table")
    s.add_argument("root", type=Path, help="a data dir or a folder of them")
    s.add_argument("--no_audio", action="store_true", help="skip opening the audio files")
    return p


def _check_numbers(args) -> None:
    """Counts and sizes must be positive (a negative subset or 0 dialogs would be read as something else)."""
    for name, low in (("subset_size", 1), ("utts_per_dialog", 1), ("dev_speakers", 1)):
        value = getattr(args, name, None)
        if value is not None and value < low:
            raise InputError(f"--{name} {value}: give {low} or more")
    if getattr(args, "speaker_folds", None) not in (None, "loso"):
        if not args.speaker_folds.isdigit() or int(args.speaker_folds) < 2:
            raise InputError(f"--speaker_folds {args.speaker_folds!r}: give loso or a number of folds, 2 or more")
    if getattr(args, "scale", None) is not None and not args.scale[0] < args.scale[1]:
        raise InputError(f"--scale {args.scale[0]:g} {args.scale[1]:g}: the low end must be below the high end")


def _prepare(args, out: Path):
    if args.command == "iemocap":
        return prepare_iemocap(args.corpus_dir, out, args.class_set, args.drop_unlabelled,
                               args.dev_strategy, args.dev_speakers, args.seed)
    if args.command == "msp_podcast":
        size = args.subset_size
        if args.subset_like is not None:
            size = len(read_table(args.subset_like / "wav.scp"))
        return prepare_msp_podcast(args.corpus_dir, out, None, args.drop_unlabelled, size, args.seed)
    if args.command in ("emovo", "emodb"):
        return prepare_acted(args.corpus_dir, out, args.command, args.drop_unlabelled, args.dev_speakers, args.seed)
    if args.command == "manifest":
        return prepare_manifest(args.csv, out, tuple(args.scale), args.classes, args.allow_speaker_overlap,
                                args.speaker_folds, args.dev_speakers, args.seed)
    if args.command == "combine":
        sources = []
        for spec in args.source:
            parts = spec.split(":")
            if len(parts) != 3:
                raise InputError(f"--source {spec!r}: expected PREFIX:DIR:TYPES")
            sources.append((parts[0], Path(parts[1]), parts[2].split("+")))
        return combine(sources, out)
    make_mini(out, args.seed, args.utts_per_dialog)
    return None


def _inputs(args) -> List[Path]:
    """What a sub-command reads: the output dir must not hold any of it."""
    if args.command == "combine":
        return [Path(spec.split(":")[1]) for spec in args.source if spec.count(":") == 2]
    if args.command == "msp_podcast" and args.subset_like is not None:
        return [args.corpus_dir, args.subset_like]
    for name in ("corpus_dir", "csv"):
        if getattr(args, name, None) is not None:
            return [getattr(args, name)]
    return []


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    out = getattr(args, "out_dir", None)
    if args.command == "validate":
        print(validate_all(args.root, check_audio=not args.no_audio))
        return 0
    # one run at a time per output dir; the output must be new, empty or ours and clear of the input; the
    # new output replaces the old one only when complete and valid (a failing run leaves the old one)
    _check_numbers(args)
    claim_output(out, _inputs(args))
    table: List[str] = []
    # the loaders admitted every file after reading its header (corpora.drops.admit): the check of the
    # written dirs reads the tables, not the audio again (``prepare_data validate`` still reads it)
    check = None if args.command == "mini" else (lambda tmp: table.append(validate_all(tmp, check_audio=False)))
    with hold(out), build_aside(out, check) as tmp:
        report = _prepare(args, tmp)
    if report is None:  # mini
        print(json.dumps({"iemocap": str(out / "IEMOCAP"), "msp_podcast": str(out / "MSP-Podcast")}))
        return 0
    for w in report.get("warnings", []):
        print(f"WARNING: {w}", file=sys.stderr)
    if "summary" in report:
        print(report["summary"])
    else:
        print(json.dumps(report, indent=1))
    print(table[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="prepare_data"))
