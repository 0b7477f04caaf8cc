"""The embedded demo: mini corpus -> data prep -> train a small model -> predict on held-out audio.

``python -m espnet_ser.demo --help``. Runs in a few minutes on a 2-core CPU. It trains the chosen
variants (fbank + small conformer, ``conf/tuning/train_ser_tiny_fbank.yaml``) on fold 1 of the mini
IEMOCAP, reports the dev-set statistics ESPnet recorded, and prints predictions for test utterances
of session 1 through ``Speech2Emotion``. The full staged recipe (all folds, MSP-Podcast, the Table-2
combinations, scoring and tables) is ``egs2/*/ser1``.
"""

import argparse
import json
from pathlib import Path
from typing import Dict, List, Sequence

import soundfile as sf
import torch

from espnet_ser.data.iemocap import prepare_iemocap
from espnet_ser.data.kaldi_dir import read_data_dir
from espnet_ser.data.mini import make_mini
from espnet_ser.data.msp_podcast import prepare_msp_podcast
from espnet_ser.inference import Speech2Emotion
from espnet_ser.pipeline import collect_stats, train

ROOT = Path(__file__).resolve().parents[1]
STATS = ("loss", "acc", "ccc_valence", "ccc_arousal", "ccc_dominance", "ccc_mean")


def run_demo(workdir: Path, variants: Sequence[str], epochs: int, n_show: int = 5) -> Dict[str, dict]:
    workdir = Path(workdir)
    corpora = make_mini(workdir / "mini_corpus")
    iem = prepare_iemocap(corpora["iemocap"], workdir / "data" / "iemocap")
    print(iem["summary"])
    msp = prepare_msp_podcast(corpora["msp_podcast"], workdir / "data" / "msp_podcast")
    print(msp["summary"])
    fold = workdir / "data" / "iemocap" / "fold1"
    conf = ROOT / "conf" / "tuning" / "train_ser_tiny_fbank.yaml"
    stats = collect_stats(conf, fold / "train", fold / "dev", workdir / "exp" / "stats_fold1")
    results: Dict[str, dict] = {}
    test = read_data_dir(fold / "test")[:n_show]
    for variant in variants:
        exp = train(conf, fold / "train", fold / "dev", stats, workdir / "exp" / f"ser_{variant}_fold1",
                    ["--decoder", variant, "--max_epoch", str(epochs)])
        ckpt = torch.load(exp / "checkpoint.pth", map_location="cpu", weights_only=False)
        valid = ckpt["reporter"]["stats"][epochs]["valid"]
        results[variant] = {k: float(valid[k]) for k in STATS if k in valid}
        s2e = Speech2Emotion(exp / "config.yaml", exp / "valid.loss.best.pth")
        print(f"\n== {variant}: dev stats after {epochs} epochs: {json.dumps(results[variant])}")
        for u in test:
            wav, fs = sf.read(u.path, dtype="float32")
            pred = s2e(wav, fs)
            vad = "" if pred["vad"] is None else " V/A/D " + " ".join(f"{v:.2f}" for v in pred["vad"].values())
            ref_vad = "" if u.vad is None else " (ref " + " ".join(f"{v:.2f}" for v in u.vad) + ")"
            print(f"  {u.utt_id}: class {pred['emotion']} (ref {u.emotion or '-'}){vad}{ref_vad}")
    (workdir / "exp" / "demo_results.json").write_text(json.dumps(results, indent=1) + "\n")
    return results


def main(argv: List[str] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workdir", type=Path, default=Path("demo"), help="where corpus, data and exp go (default ./demo)")
    p.add_argument("--variants", nargs="+", default=["hierarchical_dc", "hierarchical_cd"],
                   choices=["baseline_c", "baseline_d", "multitask", "hierarchical_dc", "hierarchical_cd"],
                   help="decoder variants to train (default: hierarchical_dc hierarchical_cd)")
    p.add_argument("--epochs", type=int, default=10, help="training epochs per variant (default 10)")
    args = p.parse_args(argv)
    run_demo(args.workdir, args.variants, args.epochs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
