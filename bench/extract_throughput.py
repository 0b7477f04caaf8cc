"""Benchmark 1: frozen-frontend extraction throughput (audio-seconds per wall-second) for a
HuBERT-large-sized model (real architecture, random weights; nothing downloaded).

    python bench/extract_throughput.py --device cpu --minutes 1 --modes bucketed --dtypes fp32 bf16
    python bench/extract_throughput.py --device cuda --minutes 60     # bf16 + length buckets vs naive fp32

Modes: ``bucketed`` (sorted by length, batches of <= --batch_seconds padded audio) and ``naive`` (file
order, fixed 8-utterance batches). ``--dtypes``: the float type of the frozen upstream
(``extract_feats --dtype``; weights cast). Default: bucketed bf16 vs naive fp32. Targets: >= 5,000x real
time on a GPU; >= 15x on 2 CPU cores with bf16 units.
"""

import argparse
import shutil
import tempfile
from pathlib import Path

from bench.common import iemocap_like_durations, median_time, report, synthetic_dir  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--minutes", type=float, default=1.0, help="minutes of synthetic audio (IEMOCAP-like durations)")
    p.add_argument("--batch_seconds", type=float, default=None, help="default: extract_features' (200 on CUDA, 10 on CPU)")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--warmup", type=int, default=1, help="untimed runs first (one-time kernel set-up, e.g. oneDNN bf16)")
    p.add_argument("--modes", nargs="+", default=["bucketed", "naive"])
    p.add_argument("--dtypes", nargs="+", default=None, choices=["fp32", "bf16"],
                   help="run every mode in each of these (default: bucketed in bf16, naive in fp32)")
    args = p.parse_args()

    import yaml

    from espnet_ser.recipe.feature_cache import build_frontend, extract_features
    from espnet_ser.testing.hubert_checkpoints import save_hf_hubert

    tmp = Path(tempfile.mkdtemp(prefix="bench_extract_"))
    try:
        hub = save_hf_hubert(tmp / "hubert_large", size="large")
        durs = iemocap_like_durations(10000)
        durs = durs[: max(1, int(args.minutes * 60 / durs.mean()))]
        data = synthetic_dir(tmp / "audio", durs)
        cfg = tmp / "conf.yaml"
        cfg.write_text(yaml.safe_dump({"frontend": "hf_hubert", "frontend_conf": {"path_or_name": str(hub)}}))
        runs = [(m, d) for m in args.modes for d in args.dtypes] if args.dtypes else \
            [(m, "bf16" if m == "bucketed" else "fp32") for m in args.modes]
        for mode, dtype in runs:
            bucketed = mode == "bucketed"
            frontend = build_frontend("hf_hubert", {"path_or_name": str(hub)}, args.device)  # built, not timed

            def run():
                shutil.rmtree(tmp / "feats", ignore_errors=True)
                extract_features(data, tmp / "feats", cfg, device=args.device, dtype="float16",
                                 batch_seconds=args.batch_seconds if bucketed else 1e9, sort_by_length=bucketed,
                                 max_items=64 if bucketed else 8, progress=False, frontend=frontend, compute=dtype)
            t = median_time(run, repeats=args.repeats, warmup=args.warmup)
            report("extract_throughput", mode=mode, dtype=dtype, device=args.device, audio_seconds=round(float(sum(durs)), 1),
                   utterances=len(durs), wall_seconds=round(t, 2), x_real_time=round(float(sum(durs)) / t, 1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
