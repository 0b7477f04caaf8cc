"""Predict emotion classes, class probabilities and V/A/D for audio files or a wav.scp.

    python -m espnet_ser.bin.ser_inference --model model.zip --out out/ a.wav b.flac
    python -m espnet_ser.bin.ser_inference --model exp/ser_x --wav_scp dump/test/wav.scp --out DIR --vad_scale 1-7

Audio may have any sample rate and channel count (resampled, averaged to mono). Recordings longer
than the window are read and scored window by window (bounded memory) and aggregated by
duration-weighted means (see espnet_ser.inference). Writes Kaldi-style ``emotion``, ``probs``
(+ ``class_list``), ``vad`` (0-1) and ``vad_<scale>`` files plus ``results.json`` and ``results.csv``.
"""

import argparse
from pathlib import Path
from typing import List, Tuple

import numpy as np
from tqdm import tqdm

from espnet_ser.data.kaldi_dir import read_table
from espnet_ser.predictions import Predictions, parse_scale, write_predictions


def inputs(files: List[Path], wav_scp: Path) -> List[Tuple[str, str]]:
    if wav_scp is not None:
        items = sorted(read_table(wav_scp).items())
        for n, (uid, path) in enumerate(items, 1):
            if path.rstrip().endswith("|"):
                raise ValueError(f"{wav_scp}: utterance {uid}: piped commands are not supported; dump the audio first")
        return items
    ids = [f.stem for f in files]
    if len(set(ids)) != len(ids):  # same names in different folders: use the path as the id
        ids = [str(f.with_suffix("")).strip("/").replace("/", "__") for f in files]
    return list(zip(ids, [str(f) for f in files]))


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ser_inference", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, required=True, help="packed model zip (pack_model) or ESPnet exp dir")
    p.add_argument("--model_file", default=None, help="checkpoint inside an exp dir (default: its best model)")
    p.add_argument("--wav_scp", type=Path, default=None, help="Kaldi wav.scp (utt path) instead of audio files")
    p.add_argument("audio", nargs="*", type=Path, help="audio files (wav, flac, ...)")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--window", type=float, default=20.0, help="window length in seconds for long recordings (default 20)")
    p.add_argument("--vad_scale", default="none", help="also write V/A/D on a corpus scale: 1-5 (IEMOCAP), 1-7 (MSP-Podcast) or none")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--no_progress", action="store_true", help="no progress bar")
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    if (args.wav_scp is None) == (not args.audio):
        get_parser().error("give either audio files or --wav_scp")
    parse_scale(args.vad_scale)
    items = inputs(args.audio, args.wav_scp)
    for uid, path in items:
        if not Path(path).exists():
            raise FileNotFoundError(f"utterance {uid}: audio file {path} not found")
    import espnet_ser.bin.espnet_quiet  # noqa: F401  (ESPnet import notice off stdout)
    from espnet_ser.inference import Speech2Emotion

    s2e = (Speech2Emotion.from_exp_dir(args.model, args.model_file, args.device) if args.model.is_dir() and args.model_file
           else Speech2Emotion.from_pretrained(args.model, args.device))
    probs, vad = [], []
    for uid, path in tqdm(items, desc="ser_inference", unit="file", disable=args.no_progress or len(items) < 2):
        out = s2e.predict_file(path, args.window)
        if out["probs"] is not None:
            probs.append([out["probs"][c] for c in s2e.class_list])
        if out["vad"] is not None:
            vad.append(list(out["vad"].values()))
    pred = Predictions([u for u, _ in items], s2e.class_list if probs else None,
                       np.array(probs) if probs else None, np.array(vad) if vad else None)
    write_predictions(pred, args.out, args.vad_scale)
    print(f"ser_inference: {len(items)} recordings -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
