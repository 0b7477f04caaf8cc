"""Conformal prediction sets and V/A/D intervals, calibrated on held-out predictions, and their coverage.

    python -m espnet_ser.bin.ser_conformal --cal_ref dump/raw/iemocap/fold1/dev --cal_hyp exp/x/inference/dev \\
        --ref dump/raw/iemocap/fold1/test --hyp exp/x/inference/iemocap --out exp/x/conformal [--coverage 0.9] \\
        [--group speaker=dump/raw/iemocap/fold1/test/utt2spk ...]

Writes into ``--out``: ``conformal.json`` (the calibration: scores, quantiles, target; apply it to other
predictions with ``--calibration``), ``pred_set`` and ``vad_interval`` for ``--hyp`` (Kaldi-style text),
and ``coverage.json`` / ``coverage.md``: empirical coverage and mean set size / interval width overall
and per value of each ``--group NAME=FILE`` (a two-column file: utterance, group; e.g. ``utt2spk``).
Method and guarantee: :mod:`espnet_ser.inference.conformal`.
"""

import argparse
import json
from pathlib import Path

from espnet_ser.errors import InputError, run_cli
from espnet_ser.inference.conformal import DEFAULT_COVERAGE


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ser_conformal", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cal_ref", type=Path, help="held-out data dir (the dev set) with its labels")
    p.add_argument("--cal_hyp", type=Path, help="the model's predictions on --cal_ref (ser_inference)")
    p.add_argument("--calibration", type=Path, help="a conformal.json written before (instead of --cal_ref/--cal_hyp)")
    p.add_argument("--ref", type=Path, help="test data dir with labels (for the coverage report)")
    p.add_argument("--hyp", type=Path, required=True, help="the predictions to give sets and intervals to")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--coverage", type=float, default=DEFAULT_COVERAGE,
                   help=f"target coverage 1 - alpha (default {DEFAULT_COVERAGE})")
    p.add_argument("--group", action="append", default=[], metavar="NAME=FILE",
                   help="report coverage per value of a grouping (utterance -> group file), repeatable")
    return p


def main(argv=None) -> int:
    from espnet_ser.evaluation.scoring import pair
    from espnet_ser.inference.conformal import Conformal, calibrate, coverage_markdown, coverage_report, read_groups
    from espnet_ser.inference.predictions import read_predictions

    args = get_parser().parse_args(argv)
    if args.calibration is not None:
        conformal = Conformal.load(args.calibration)
    elif args.cal_ref is not None and args.cal_hyp is not None:
        conformal = calibrate(pair(args.cal_ref, args.cal_hyp), args.coverage)
    else:
        raise InputError("give --cal_ref and --cal_hyp (held-out predictions to calibrate on) or --calibration FILE")
    args.out.mkdir(parents=True, exist_ok=True)
    conformal.save(args.out / "conformal.json")
    conformal.write_for(read_predictions(args.hyp), args.out)
    if conformal.too_few():
        print(f"ser_conformal: WARNING: too few calibration utterances for coverage {conformal.coverage} "
              f"({', '.join(conformal.too_few())}): every class / the whole scale")
    if args.ref is not None:
        report = coverage_report(pair(args.ref, args.hyp), conformal, read_groups(args.group))
        (args.out / "coverage.json").write_text(json.dumps(report, indent=1) + "\n")
        md = coverage_markdown(report)
        (args.out / "coverage.md").write_text(md)
        print(md, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="ser_conformal"))
