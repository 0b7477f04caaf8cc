"""Score SER predictions against a data directory: ``scores.json`` and ``scores.md`` in ``--out``.

    python -m espnet_ser.bin.ser_score --ref dump/fold1/test --hyp exp/ser_x/inference/test --out DIR

Scores only the label types present in both the reference (``emotion``/``vad``) and the predictions.
Beyond accuracy (calibration, agreement with the evaluators' votes, reject curves, classes from V/A/D):
``espnet_ser.evaluation.beyond``.
"""

import argparse
from pathlib import Path

from espnet_ser.evaluation.scoring import NONFINITE, score, scores_markdown, write_scores
from espnet_ser.errors import run_cli


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ser_score", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ref", type=Path, required=True, help="data dir with wav.scp and the emotion and/or vad files")
    p.add_argument("--hyp", type=Path, required=True, help="prediction dir written by ser_inference")
    p.add_argument("--out", type=Path, required=True, help="where scores.json and scores.md go")
    p.add_argument("--train_ref", type=Path, default=None,
                   help="training data dir: its class centroids map predicted V/A/D to classes (default: the test references')")
    p.add_argument("--calibrate", nargs=2, type=Path, default=None, metavar=("SOURCE_TRAIN", "TARGET_TRAIN"),
                   help="mismatched training: the class-centroid shift between two training data dirs and the CCC after "
                        "an affine V/A/D map fitted from the source corpus's class centroids to the target's")
    p.add_argument("--conformal", type=Path, default=None,
                   help="a conformal calibration (ser_conformal's conformal.json): report the coverage and mean set size / "
                        "interval width of its sets and intervals on these predictions")
    p.add_argument("--group", action="append", default=[], metavar="NAME=FILE",
                   help="with --conformal: also per value of a grouping (utterance -> group, e.g. speaker=TEST/utt2spk)")
    p.add_argument("--nonfinite", choices=NONFINITE, default="error",
                   help="NaN/infinite predictions: an error naming them (default) or exclude them (counted in the scores)")
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    result = score(args.ref, args.hyp, args.nonfinite, args.train_ref, args.calibrate)
    md = scores_markdown(result)
    if args.conformal is not None:
        from espnet_ser.evaluation.scoring import pair
        from espnet_ser.inference.conformal import Conformal, coverage_markdown, coverage_report, read_groups

        result["conformal"] = coverage_report(pair(args.ref, args.hyp, args.nonfinite), Conformal.load(args.conformal),
                                              read_groups(args.group))
        md += "\n" + coverage_markdown(result["conformal"])
    write_scores(result, args.out, md)
    print(md, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="ser_score"))
