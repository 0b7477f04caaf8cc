"""Benchmark 3: the Table-1 grid (5 variants x 5 folds) on IEMOCAP-sized synthetic data, one GPU,
extraction included.

    python bench/table1_grid.py --device cuda --epochs 30 --parallel 5

10,039 synthetic utterances with IEMOCAP-like durations (mean about 4.5 s) from 10 speakers in 5
sessions; folds leave one session out (dev: the next session). The HuBERT-large-sized frontend runs
once (benchmark 1's bucketed bf16 path); then 25 trainings of the paper's model read the cache,
``--parallel`` of them at a time on the same GPU (small models leave most of an H100 idle).
Printed: extraction, training and total wall time. Target: <= 30 minutes on one H100.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, iemocap_like_durations, report, synthetic_dir  # noqa: E402
from bench.paper_model import paper_config  # noqa: E402

from espnet_ser.spec import VARIANTS  # noqa: E402


def split_dir(src: Path, out: Path, keep) -> Path:
    from espnet_ser.labels import read_data_dir, read_table, write_data_dir

    utts = [u for u in read_data_dir(src) if keep(u)]
    write_data_dir(utts, out)
    n = read_table(src / "utt2num_samples")
    (out / "utt2num_samples").write_text("".join(f"{u.utt_id} {n[u.utt_id]}\n" for u in utts))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda")
    p.add_argument("--utterances", type=int, default=10039)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--parallel", type=int, default=5, help="trainings sharing the GPU at a time")
    p.add_argument("--hubert_size", default="large", choices=["tiny", "base", "large"], help="large for the figure; tiny to smoke-test")
    p.add_argument("--workdir", type=Path, default=None, help="keep data and exps here (default: a temp dir)")
    args = p.parse_args()
    from espnet_ser.recipe.feature_cache import extract_features
    from espnet_ser.recipe.train_args import collect_stats_args, train_args
    from espnet_ser.testing.hubert_checkpoints import save_hf_hubert

    tmp = args.workdir or Path(tempfile.mkdtemp(prefix="bench_grid_"))
    t_all = time.time()
    try:
        hub = save_hf_hubert(tmp / "hubert", size=args.hubert_size)
        durs = iemocap_like_durations(args.utterances)
        data = synthetic_dir(tmp / "audio", durs)
        cfg = paper_config(tmp / "conf", hub, max_epoch=args.epochs)
        t0 = time.time()
        feats = tmp / "feats_all"
        extract_features(data, feats, cfg, device=args.device, progress=False)
        t_extract = time.time() - t0
        fargs = (feats / "frontend_args").read_text().split()
        session = lambda u: int(u.speaker[1:]) // 2 + 1  # noqa: E731  10 speakers -> 5 sessions
        jobs = []
        for k in range(1, 6):
            dev_s = k % 5 + 1
            d = tmp / f"fold{k}"
            tr = split_dir(data, d / "train", lambda u: session(u) not in (k, dev_s))
            dv = split_dir(data, d / "dev", lambda u: session(u) == dev_s)
            for f in ("feats.scp", "feats_shape"):
                for part in (tr, dv):
                    keep = set((part / "utt2spk").read_text().split()[::2])
                    lines = [line for line in (feats / f).read_text().splitlines() if line.split()[0] in keep]
                    (part / f).write_text("".join(line + "\n" for line in lines))
            for part in (tr, dv):
                (part / "wav.scp").unlink()
            st = d / "stats"
            subprocess.run([sys.executable, "-m", "espnet_ser.bin.ser_train", *collect_stats_args(cfg, tr, dv, st, fargs)],
                           check=True, cwd=ROOT, capture_output=True)
            for v in VARIANTS:
                jobs.append((f"{v}_fold{k}", [sys.executable, "-m", "espnet_ser.bin.ser_train",
                             *train_args(cfg, tr, dv, st, tmp / "exp" / f"{v}_fold{k}", [*fargs, "--decoder", v, *(["--ngpu", "1"] if args.device.startswith("cuda") else [])])]))
        t0 = time.time()
        running = []
        (tmp / "logs").mkdir(exist_ok=True)
        for name, cmd in jobs:
            while len(running) >= args.parallel:
                running = [p for p in running if p.poll() is None]
                time.sleep(1)
            log = open(tmp / "logs" / f"{name}.log", "w")
            running.append(subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT))
        failed = [p_.args for p_ in running if p_.wait() != 0]
        if failed or len(list((tmp / "exp").glob("*/valid.*.best.pth"))) < len(jobs):
            raise RuntimeError(f"some trainings failed (logs in {tmp}/logs/; rerun with --workdir to keep them)")
        t_train = time.time() - t0
        report("table1_grid", device=args.device, utterances=len(durs), audio_hours=round(float(sum(durs)) / 3600, 2),
               epochs=args.epochs, parallel=args.parallel, extract_min=round(t_extract / 60, 2),
               train_min=round(t_train / 60, 2), total_min=round((time.time() - t_all) / 60, 2))
    finally:
        if args.workdir is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
