"""Benchmark: one training epoch of top-K fine-tuning from the cache vs from audio, vs the frozen paper model.

    python bench/finetune_epoch.py --device cpu --utterances 16            # this machine (CPU)
    python bench/finetune_epoch.py --device cuda --utterances 1000 --batch_size 8   # GPU (pending)

The paper's Hierarchical D-C model over a HuBERT-large-sized upstream (24 layers, 1024 dims, random
weights in HuBERT-large's layout), one epoch on the same synthetic IEMOCAP-like data with the same seed,
four ways, each in its own process one after the other (side by side in one run):

- ``frozen_cached``: the paper's setup (frozen upstream, last layer cached by stage 4);
- ``top4_cached``: the top 4 layers fine-tuned, the states entering layer 21 cached (issue 26);
- ``top4_audio``: the same fine-tuning reading audio (the CNN and 20 frozen layers run every step);
- ``lora_audio``: LoRA adapters (rank 8, attention projections, all 24 layers) reading audio.

Figures: ESPnet's own epoch time (reporter ``time``: training steps only; extraction is paid once, for
all epochs, and reported apart) and the process's peak resident memory (model building included).
"""

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import iemocap_like_durations, report, synthetic_dir  # noqa: E402
from bench.paper_model import paper_config  # noqa: E402

CASES = {
    "frozen_cached": (None, True),
    "top4_cached": ({"mode": "top", "layers": 4}, True),
    "top4_audio": ({"mode": "top", "layers": 4}, False),
    "lora_audio": ({"mode": "lora", "lora_rank": 8}, False),
}


def epoch_seconds(exp: Path) -> float:
    from espnet_ser import safe_load

    ck = safe_load.load(exp / "checkpoint.pth", map_location="cpu")
    return ck["reporter"]["stats"][1]["train"]["time"].total_seconds()


def config_for(tmp: Path, case: str, batch_size: int) -> Path:
    import yaml

    finetune, _ = CASES[case]
    cfg = paper_config(tmp / f"conf_{case}", tmp / "hubert_large", batch_type="unsorted", batch_size=batch_size, max_epoch=1)
    conf = yaml.safe_load(cfg.read_text())
    if finetune is not None:
        conf["frontend_conf"]["finetune"] = dict(finetune, lr=5e-5)
    cfg.write_text(yaml.safe_dump(conf))
    return cfg


def run_case(tmp: Path, case: str, device: str, batch_size: int) -> dict:
    """One case in this process: its cache (if any, timed apart), then one epoch."""
    from espnet_ser.recipe.feature_cache import extract_features
    from espnet_ser.recipe.train_args import collect_stats, train

    ngpu = ["--ngpu", "1"] if device.startswith("cuda") else []
    cfg = config_for(tmp, case, batch_size)
    tr, dv, extra, extract_s = tmp / "tr" / "data", tmp / "dv" / "data", [], 0.0
    if CASES[case][1]:
        t0 = time.perf_counter()
        for d in (tr, dv):
            extract_features(d, tmp / f"feats_{case}_{d.parent.name}", cfg, device=device, progress=False)
        extract_s = time.perf_counter() - t0
        tr, dv = tmp / f"feats_{case}_tr", tmp / f"feats_{case}_dv"
        extra = (tr / "frontend_args").read_text().split()
    st = collect_stats(cfg, tr, dv, tmp / f"st_{case}", extra + ngpu)
    seconds = epoch_seconds(train(cfg, tr, dv, st, tmp / f"exp_{case}", extra + ngpu))
    import torch

    peak_gpu = torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else None
    return {"case": case, "epoch_s": round(seconds, 2), "extract_s": round(extract_s, 1),
            "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
            "peak_gpu_gib": None if peak_gpu is None else round(peak_gpu, 2)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--utterances", type=int, default=16)
    p.add_argument("--batch_size", type=int, default=4)
    p.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    p.add_argument("--_one", help=argparse.SUPPRESS)  # internal: run one case in this process
    p.add_argument("--_tmp", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args._one:
        print("RESULT " + json.dumps(run_case(Path(args._tmp), args._one, args.device, args.batch_size)), flush=True)
        return
    from espnet_ser.testing.hubert_checkpoints import save_hf_hubert

    tmp = Path(tempfile.mkdtemp(prefix="bench_finetune_"))
    try:
        save_hf_hubert(tmp / "hubert_large", size="large")
        durs = iemocap_like_durations(args.utterances)
        synthetic_dir(tmp / "tr", durs, seed=0)
        synthetic_dir(tmp / "dv", durs[: max(2, len(durs) // 8)], seed=1)
        rows = {}
        for case in args.cases:
            out = subprocess.run([sys.executable, __file__, "--device", args.device, "--batch_size", str(args.batch_size),
                                  "--_one", case, "--_tmp", str(tmp)], capture_output=True, text=True)
            line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
            if line is None:
                raise SystemExit(f"{case} failed:\n{out.stderr[-3000:]}")
            rows[case] = json.loads(line[len("RESULT "):])
        base = rows.get("top4_audio")
        for r in rows.values():
            if base:
                r["epoch_vs_top4_audio"] = round(r["epoch_s"] / base["epoch_s"], 3)
                r["rss_vs_top4_audio"] = round(r["peak_rss_gib"] / base["peak_rss_gib"], 3)
        report("finetune_epoch", device=args.device, utterances=len(durs), audio_seconds=round(float(sum(durs)), 1),
               batch_size=args.batch_size, rows=list(rows.values()))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
