"""Benchmark 2: one training epoch from cached features vs on the fly, HuBERT-large-sized frontend.

    python bench/train_epoch.py --device cpu --utterances 24
    python bench/train_epoch.py --device cuda --utterances 1000

Both runs train the paper's Hierarchical D-C model for one epoch on the same synthetic data with the
same seed; the epoch time is ESPnet's own (reporter ``time``), extraction excluded from the cached run
(it is paid once for all variants, folds and epochs; benchmark 1 measures it). Target: >= 20x.
"""

import argparse
import shutil
import tempfile
from pathlib import Path

from bench.common import iemocap_like_durations, report, synthetic_dir  # noqa: E402
from bench.paper_model import paper_config  # noqa: E402


def epoch_seconds(exp: Path) -> float:
    from espnet_ser import safe_load

    ck = safe_load.load(exp / "checkpoint.pth", map_location="cpu")
    return ck["reporter"]["stats"][1]["train"]["time"].total_seconds()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--utterances", type=int, default=24)
    p.add_argument("--batch_size", type=int, default=8)
    args = p.parse_args()
    from espnet_ser.recipe.feature_cache import extract_features
    from espnet_ser.recipe.train_args import collect_stats, train
    from espnet_ser.testing.hubert_checkpoints import save_hf_hubert

    ngpu = ["--ngpu", "1"] if args.device.startswith("cuda") else []
    tmp = Path(tempfile.mkdtemp(prefix="bench_epoch_"))
    try:
        hub = save_hf_hubert(tmp / "hubert_large", size="large")
        durs = iemocap_like_durations(args.utterances)
        tr = synthetic_dir(tmp / "tr", durs, seed=0)
        dv = synthetic_dir(tmp / "dv", durs[: max(2, len(durs) // 8)], seed=1)
        cfg = paper_config(tmp / "conf", hub, batch_type="unsorted", batch_size=args.batch_size, max_epoch=1)
        st = collect_stats(cfg, tr, dv, tmp / "st_fly", ngpu)
        fly = epoch_seconds(train(cfg, tr, dv, st, tmp / "exp_fly", ngpu))
        for d in (tr, dv):
            extract_features(d, tmp / f"feats_{d.parent.name}", cfg, device=args.device, progress=False)
        fargs = (tmp / "feats_tr" / "frontend_args").read_text().split()
        st2 = collect_stats(cfg, tmp / "feats_tr", tmp / "feats_dv", tmp / "st_cached", fargs + ngpu)
        cached = epoch_seconds(train(cfg, tmp / "feats_tr", tmp / "feats_dv", st2, tmp / "exp_cached", fargs + ngpu))
        report("train_epoch", device=args.device, utterances=len(durs), audio_seconds=round(float(sum(durs)), 1),
               on_the_fly_s=round(fly, 2), cached_s=round(cached, 2), speedup=round(fly / cached, 1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
