"""Does a bf16 frozen upstream change anything that matters? Two measurements on the mini corpus.

    python bench/bf16_agreement.py [--folds 1 2 3 4 5] [--variant hierarchical_dc] [--epochs 14]

1. Training: the IEMOCAP recipe (stages 1-8, feature cache) with a tiny HuBERT frontend (random
   weights, ``espnet_ser.testing.hubert_checkpoints``), on features computed in fp32 and in bf16
   (``extract_feats --dtype``), and once more in fp32 with another training seed: the bf16 difference
   is to be read against the seed-to-seed difference.
2. Inference: the fp32-trained models applied to their test sessions with ``ser_inference --dtype fp32``
   and ``--dtype bf16``: class agreement and the largest V/A/D difference.
Prints one JSON line per figure (command, machine, date).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

from bench.common import ROOT, report  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--folds", nargs="+", default=["1", "2", "3", "4", "5"])
    p.add_argument("--variant", default="hierarchical_dc")
    p.add_argument("--epochs", type=int, default=14)
    p.add_argument("--keep", type=Path, default=None, help="work here and keep it (default: a temporary dir)")
    args = p.parse_args()
    from espnet_ser.corpora.mini import make_mini
    from espnet_ser.testing.hubert_checkpoints import save_hf_hubert

    tmp = args.keep or Path(tempfile.mkdtemp(prefix="bench_bf16_"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        make_mini(tmp / "corpus")
        hub = save_hf_hubert(tmp / "hubert")
        conf = yaml.safe_load((ROOT / "conf/tuning/train_ser_tiny_hubert.yaml").read_text())
        conf["frontend_conf"]["path_or_name"] = str(hub)
        tiny = yaml.safe_load((ROOT / "conf/tuning/train_ser_tiny_fbank.yaml").read_text())
        for k in ("optim_conf", "scheduler_conf", "batch_size"):  # the demo's schedule
            conf[k] = tiny[k]
        conf.update(use_matplotlib=False, use_tensorboard=False, num_workers=0)
        (tmp / "conf.yaml").write_text(yaml.safe_dump(conf))
        env = {**os.environ, "IEMOCAP": str(tmp / "corpus" / "IEMOCAP"), "PYTHONPATH": str(ROOT)}
        scores = {}
        for run, dt, seed in (("fp32", "fp32", 0), ("bf16", "bf16", 0), ("fp32_seed1", "fp32", 1)):
            w = tmp / run
            cmd = ["./run.sh", "--datadir", w / "data", "--dumpdir", w / "dump", "--expdir", w / "exp", "--results_dir", w,
                   "--ser_config", tmp / "conf.yaml", "--variants", args.variant, "--folds", " ".join(args.folds),
                   "--ser_args", f"--max_epoch {args.epochs} --seed {seed}", "--extract_args", f"--dtype {dt}",
                   "--inference_args", "--dtype fp32", "--stop_stage", "8"]
            subprocess.run([str(c) for c in cmd], cwd=ROOT / "egs2/iemocap/ser1", env=env, check=True,
                           stdout=subprocess.DEVNULL)
            per = [json.loads(f.read_text())["metrics"] for f in sorted((w / "exp").glob("*/inference/*/score/scores.json"))]
            scores[run] = {m: float(np.mean([s[m] for s in per])) for m in ("ua", "ccc_mean")}
            report("bf16_training", features=dt, seed=seed, folds=len(per), **{k: round(v, 4) for k, v in scores[run].items()})
        report("bf16_training_difference", **{f"{m}_bf16_minus_fp32": round(scores["bf16"][m] - scores["fp32"][m], 4)
                                              for m in ("ua", "ccc_mean")},
               **{f"{m}_seed1_minus_seed0": round(scores["fp32_seed1"][m] - scores["fp32"][m], 4) for m in ("ua", "ccc_mean")})
        agree, n, dmax = 0, 0, 0.0
        for e in sorted((tmp / "fp32" / "exp").glob("ser_*")):
            scp = Path(json.loads((e / "meta.json").read_text())["tests"]["iemocap"]) / "wav.scp"
            out = {}
            for dt in ("fp32", "bf16"):
                o = tmp / "infer" / e.name / dt
                subprocess.run([sys.executable, "-m", "espnet_ser.bin.ser_inference", "--model", str(e), "--wav_scp", str(scp),
                                "--out", str(o), "--dtype", dt, "--no_progress"], env=env, check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                out[dt] = ({ln.split()[0]: ln.split()[1] for ln in (o / "emotion").read_text().splitlines()},
                           {ln.split()[0]: np.array(ln.split()[1:], float) for ln in (o / "vad").read_text().splitlines()})
            for u, c in out["fp32"][0].items():
                n += 1
                agree += c == out["bf16"][0][u]
                dmax = max(dmax, float(np.abs(out["fp32"][1][u] - out["bf16"][1][u]).max()))
        report("bf16_inference_agreement", utterances=n, class_agreement=round(agree / n, 4), vad_max_abs_diff=round(dmax, 4))
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
