"""Predict emotion classes, class probabilities and V/A/D for audio files or a wav.scp.

    python -m espnet_ser.bin.ser_inference --model model.zip --out out/ a.wav b.flac
    python -m espnet_ser.bin.ser_inference --model exp/ser_x --wav_scp dump/test/wav.scp --out DIR --vad_scale 1-7

Audio may have any sample rate and channel count (resampled, averaged to mono). Recordings longer
than the window are read and scored window by window (bounded memory) and aggregated by
duration-weighted means (see espnet_ser.inference.speech2emotion). Writes Kaldi-style ``emotion``, ``probs``
(+ ``class_list``), ``vad`` (0-1) and ``vad_<scale>`` files plus ``results.json`` and ``results.csv``.

``--mc_dropout S`` (torch backend) runs S passes with the encoder's and decoder's dropout on and writes
their mean as the prediction, plus ``class_entropy`` (entropy of the mean class distribution, nats) and
``vad_std`` (std of the V/A/D over the passes); ``--seed`` makes the passes repeatable.

``--timeline`` also scores each input window by window (``--timeline_window``, ``--timeline_hop``) into
``timeline/<id>.csv/.json/.png``; ``--gate silero|energy`` leaves windows without speech out of the
timeline and out of the file-level prediction, which is then the kept windows' aggregate
(:mod:`espnet_ser.inference.timeline`).

A model with a conformal calibration (the recipe's, packed with it; or ``--conformal FILE``) also writes
``conformal/pred_set`` (each input's class set) and ``conformal/vad_interval`` (:mod:`espnet_ser.inference.conformal`).
"""

import argparse
import sys
from pathlib import Path
from typing import List, Tuple

import numpy as np
import soundfile as sf
from tqdm import tqdm

from espnet_ser.errors import InputError
from espnet_ser.labels import check_name, read_table
from espnet_ser.inference.predictions import Predictions, write_predictions
from espnet_ser.labels import parse_scale
from espnet_ser.errors import run_cli


def inputs(files: List[Path], wav_scp: Path) -> List[Tuple[str, str]]:
    """(id, path) per input: wav.scp ids, else file stems; stems shared by several files (``a.wav``,
    ``a.flac``, ``x/a.wav``) become path-based ids; the same file given twice is an error."""
    if wav_scp is not None:
        items = sorted(read_table(wav_scp).items())
        for n, (uid, path) in enumerate(items, 1):
            check_name(uid, "utterance id", str(wav_scp))  # ids name output lines and, with --timeline, files
            if path.rstrip().endswith("|"):
                raise InputError(f"{wav_scp}: utterance {uid}: piped commands are not supported; dump the audio first")
        return items
    twice = sorted({str(f) for f in files if files.count(f) > 1})
    if twice:
        raise InputError(f"the same file is given more than once: {' '.join(twice[:10])}")
    stems = [f.stem for f in files]
    ids = [s if stems.count(s) == 1 else str(f).strip("/").replace("/", "__") for s, f in zip(stems, files)]
    return list(zip(ids, [str(f) for f in files]))


def input_problem(path: str, min_seconds: float) -> str:
    """Why an input cannot be scored ('' when it can): missing, a directory, unreadable, empty, too short."""
    p = Path(path)
    if not p.exists():
        return "missing: no such file"
    if p.is_dir():
        return "a directory, not an audio file"
    if not p.is_file():  # a FIFO or a device: opening it could block for ever
        return "not a regular file (a FIFO or device?)"
    try:
        info = sf.info(str(p))
    except Exception as e:  # noqa: BLE001 - libsndfile's reasons vary; the file is named with it
        return f"unreadable audio: {str(e).splitlines()[0][:200]}"
    if info.frames == 0:
        return "empty audio (0 samples)"
    if info.frames < min_seconds * info.samplerate:
        return f"too short: {info.frames / info.samplerate:.3f} s < {min_seconds} s (--min_seconds)"
    return ""


def speaker_statistics(s2e, good: List[Tuple[str, str]], args) -> dict:
    """Each input's speaker statistics, from all the inputs of its speaker (``--utt2spk``)."""
    utt2spk = args.utt2spk
    if utt2spk is None and args.wav_scp is not None and (args.wav_scp.parent / "utt2spk").is_file():
        utt2spk = args.wav_scp.parent / "utt2spk"
    if utt2spk is None:
        raise InputError(f"{args.model}: this model normalises each speaker's features with that speaker's statistics "
                         "(normalize: speaker_mvn): give --utt2spk (lines 'utterance_id speaker') for the inputs")
    table = read_table(utt2spk)
    stats = s2e.speaker_statistics(good, table, args.window)
    print(f"ser_inference: speaker statistics of {len({table[u] for u, _ in good})} speaker(s) from their {len(good)} "
          f"recording(s) ({utt2spk})", file=sys.stderr)
    return stats


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ser_inference", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, required=True,
                   help="packed model zip (pack_model) or ESPnet exp dir; with --backend onnx an export_onnx graph")
    p.add_argument("--backend", default="torch", choices=("torch", "onnx"),
                   help="torch (default) or onnx (onnxruntime on CPU; same windowing and outputs)")
    p.add_argument("--model_file", default=None, help="checkpoint inside an exp dir (default: its best model)")
    p.add_argument("--wav_scp", type=Path, default=None, help="Kaldi wav.scp (utt path) instead of audio files")
    p.add_argument("audio", nargs="*", type=Path, help="audio files (wav, flac, ...)")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--window", type=float, default=20.0, help="window length in seconds for long recordings (default 20)")
    p.add_argument("--vad_scale", default="none", help="also write V/A/D on a corpus scale: 1-5 (IEMOCAP), 1-7 (MSP-Podcast) or none")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--dtype", default="auto", choices=("auto", "fp32", "bf16"),
                   help="float type of the frozen upstream (default auto: bf16 where the CPU/GPU has bf16 units, else "
                        "fp32; the rest of the model stays fp32)")
    p.add_argument("--mc_dropout", type=int, default=0, metavar="S",
                   help="MC-dropout passes per input (default 0: one deterministic pass); writes class_entropy and vad_std")
    p.add_argument("--seed", type=int, default=0, help="random seed of the MC-dropout passes (default 0)")
    p.add_argument("--utt2spk", type=Path, default=None,
                   help="utterance id -> speaker, for a model normalised per speaker (normalize: speaker_mvn): each "
                        "speaker's statistics come from that speaker's inputs (default: utt2spk beside --wav_scp)")
    p.add_argument("--conformal", type=Path, default=None,
                   help="a conformal calibration (ser_conformal's conformal.json) instead of the model's own: prediction "
                        "sets and V/A/D intervals go to OUT/conformal/ (the model's own, when it has one, by default)")
    p.add_argument("--timeline", action="store_true",
                   help="also score each input window by window: OUT/timeline/<id>.csv, .json and .png (emotion over time)")
    p.add_argument("--timeline_window", type=float, default=2.0, help="timeline window length, seconds (default 2)")
    p.add_argument("--timeline_hop", type=float, default=1.0, help="timeline hop, seconds (default 1)")
    p.add_argument("--gate", default="none", choices=("none", "energy", "silero"),
                   help="with --timeline: leave windows without speech out of the timeline and of the file-level "
                        "prediction (silero: the silero-vad model; energy: frames above -40 dBFS); default none")
    p.add_argument("--min_speech", type=float, default=0.5,
                   help="with --gate: a window is kept when at least this fraction of it is speech (default 0.5)")
    p.add_argument("--no_progress", action="store_true", help="no progress bar")
    p.add_argument("--min_seconds", type=float, default=0.25, help="shorter inputs are listed as errors (default 0.25)")
    p.add_argument("--fail_fast", action="store_true",
                   help="stop at the first input that cannot be scored (default: score the others, list it in OUT/errors, exit 1)")
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    if (args.wav_scp is None) == (not args.audio):
        get_parser().error("give either audio files or --wav_scp")
    parse_scale(args.vad_scale)
    if not args.window > 0 or not args.window < 3600:
        raise InputError(f"--window {args.window}: give a window length in seconds, above 0 and below 3600")
    if not args.min_seconds >= 0:
        raise InputError(f"--min_seconds {args.min_seconds}: give 0 or more seconds")
    if args.mc_dropout < 0 or args.mc_dropout == 1:
        raise InputError(f"--mc_dropout {args.mc_dropout}: give 0 (off) or at least 2 passes")
    if args.gate != "none" and not args.timeline:
        raise InputError(f"--gate {args.gate} works on the timeline's windows: add --timeline")
    if args.mc_dropout and args.backend == "onnx":
        raise InputError("--mc_dropout needs the torch backend: an exported graph has no dropout")
    items = inputs(args.audio, args.wav_scp)
    errors: List[Tuple[str, str, str]] = []
    good = []
    for uid, path in items:
        why = input_problem(path, args.min_seconds)
        if why and args.fail_fast:
            raise InputError(f"utterance {uid} ({path}): {why}")
        (errors.append((uid, path, why)) if why else good.append((uid, path)))
    if errors:
        print(f"ser_inference: {len(errors)} of {len(items)} input(s) cannot be scored (listed in {args.out / 'errors'}):",
              file=sys.stderr)
        for uid, path, why in errors[:10]:
            print(f"  {uid} ({path}): {why}", file=sys.stderr)
    import espnet_ser.bin.espnet_quiet  # noqa: F401  (ESPnet import notice off stdout)
    from espnet_ser.inference.speech2emotion import Speech2Emotion

    if args.backend == "onnx":
        from espnet_ser.inference.onnx import OnnxSpeech2Emotion

        s2e = OnnxSpeech2Emotion(args.model)
        if s2e.max_seconds is not None and 1.5 * args.window > s2e.max_seconds:
            raise InputError(f"--window {args.window}: windows reach {1.5 * args.window:.0f} s, longer than the graph's "
                             f"{s2e.max_seconds:.0f} s; use --window {s2e.max_seconds / 1.5:.0f} or less")
    elif args.model.suffix == ".onnx":
        raise InputError(f"{args.model}: an ONNX graph; run it with --backend onnx")
    else:
        s2e = (Speech2Emotion.from_exp_dir(args.model, args.model_file, args.device, args.dtype)
               if args.model.is_dir() and args.model_file else Speech2Emotion.from_pretrained(args.model, args.device, args.dtype))
    print(f"ser_inference: {args.backend} backend, frozen upstream in {s2e.dtype} ({s2e.dtype_reason})", file=sys.stderr)
    if args.mc_dropout:
        import torch

        torch.manual_seed(args.seed)
        s2e.mc_dropout = args.mc_dropout
        print(f"ser_inference: MC dropout, {args.mc_dropout} passes per input (seed {args.seed})", file=sys.stderr)
    stats = speaker_statistics(s2e, good, args) if s2e.needs_speaker_stats else {}
    gate = None
    if args.timeline:
        from espnet_ser.inference.timeline import make_gate, timeline, write_timeline

        gate = make_gate(args.gate)
        settings = {"window_s": args.timeline_window, "hop_s": args.timeline_hop, "gate": args.gate,
                    "min_speech": args.min_speech if gate is not None else None}
    probs, vad, ent, vad_std = [], [], [], []
    scored = []
    for uid, path in tqdm(good, desc="ser_inference", unit="file", disable=args.no_progress or len(good) < 2):
        try:
            if args.timeline:
                rows = list(timeline(s2e, path, args.timeline_window, args.timeline_hop, gate, args.min_speech, stats.get(uid)))
                agg = write_timeline(uid, rows, args.out / "timeline", settings, figure=True)
                if gate is not None and not agg["kept"]:
                    raise InputError(f"the {args.gate} gate found no window with speech (--min_speech {args.min_speech})")
            # the file-level prediction: with a gate, the kept windows' aggregate; else the usual windows'
            out = agg if gate is not None else s2e.predict_file(path, args.window, stats.get(uid))
        except InputError as e:  # found while reading it (NaN samples, ...): listed like the others
            if args.fail_fast:
                raise InputError(f"utterance {uid}: {e}") from None
            errors.append((uid, path, str(e)))
            print(f"ser_inference: {uid} ({path}) not scored: {e}", file=sys.stderr)
            continue
        scored.append(uid)
        if out["probs"] is not None:
            probs.append([out["probs"][c] for c in s2e.class_list])
        if out["vad"] is not None:
            vad.append(list(out["vad"].values()))
        if "class_entropy" in out:
            ent.append(out["class_entropy"])
        if "vad_std" in out:
            vad_std.append(list(out["vad_std"].values()))
    arr = lambda xs: np.array(xs) if xs else None  # noqa: E731
    pred = Predictions(scored, s2e.class_list if probs else None, arr(probs), arr(vad),
                       class_entropy=arr(ent), vad_std=arr(vad_std))
    write_predictions(pred, args.out, args.vad_scale, errors=[(u, f"{p}: {w}") for u, p, w in errors])
    conformal = s2e.conformal
    if args.conformal is not None:
        from espnet_ser.inference.conformal import Conformal

        conformal = Conformal.load(args.conformal)
    if conformal is not None and scored:
        conformal.write_for(pred, args.out / "conformal")
        conformal.save(args.out / "conformal" / "conformal.json")
        print(f"ser_inference: conformal sets/intervals (target coverage {conformal.coverage}) -> {args.out / 'conformal'}")
    print(f"ser_inference: {len(scored)} recordings -> {args.out}" + (f"; {len(errors)} not scored" if errors else ""))
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="ser_inference"))
