"""Combine the prediction dirs of several models (e.g. the folds' models on one test set) into one.

    python -m espnet_ser.bin.ser_ensemble --out DIR exp/ser_x_fold1/inference/t exp/ser_x_fold2/inference/t ...

The dirs must list the same utterances and classes. Writes the mean class distribution (``probs``,
``emotion``), its entropy (``class_entropy``, nats), the mean V/A/D (``vad``) and its std over the
models (``vad_std``): the same files and formulas as ``ser_inference --mc_dropout``
(``espnet_ser.inference.uncertainty``), so ``ser_score`` reads both alike.
"""

import argparse
from pathlib import Path

from espnet_ser.errors import InputError, run_cli
from espnet_ser.inference.predictions import Predictions, read_predictions, write_predictions
from espnet_ser.inference.uncertainty import ensemble


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ser_ensemble", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("hyp", nargs="+", type=Path, help="prediction dirs written by ser_inference")
    p.add_argument("--out", type=Path, required=True, help="output prediction dir")
    p.add_argument("--vad_scale", default="none", help="also write V/A/D on a corpus scale: 1-5, 1-7 or none")
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    if len(args.hyp) < 2:
        raise InputError("an ensemble needs at least two prediction dirs")
    preds = [read_predictions(d) for d in args.hyp]
    for d, p in zip(args.hyp, preds):
        bad = p.nonfinite()
        if bad:  # a mean over models would carry the NaN into every output of the utterance
            raise InputError(f"{d}: {len(bad)} utterance(s) with NaN or infinite predictions: {' '.join(bad[:10])}")
    s = ensemble(preds)
    out = Predictions(preds[0].ids, preds[0].class_list, s["probs"], s["vad"],
                      class_entropy=s["class_entropy"], vad_std=s["vad_std"])
    write_predictions(out, args.out, args.vad_scale)
    print(f"ser_ensemble: {len(preds)} models, {len(out.ids)} utterances -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="ser_ensemble"))
