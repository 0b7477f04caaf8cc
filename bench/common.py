"""Shared by the benchmarks: machine description, timing, and one result line per figure."""

import datetime
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def machine() -> str:
    from espnet_ser.compute_dtype import cpu_name

    cpu = cpu_name()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{cpu}, {os.cpu_count()} CPUs, {gpu}, torch {torch.__version__}, threads {torch.get_num_threads()}"


def median_time(fn, repeats: int = 3, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def report(name: str, **figures) -> None:
    """Print one JSON line: the figures, the command, the machine and the date."""
    line = {"benchmark": name, **figures, "command": "python " + " ".join(sys.argv), "machine": machine(),
            "date": datetime.datetime.now().isoformat(timespec="seconds")}
    print(json.dumps(line), flush=True)


def synthetic_dir(root: Path, durations, seed: int = 0, classes=("neutral", "angry", "happy", "sad", "disgust")):
    """A data dir of noisy tones with the given durations (seconds), labels on every utterance."""
    import numpy as np
    import soundfile as sf

    from espnet_ser.labels import Utterance, write_data_dir

    rng = np.random.default_rng(seed)
    (root / "wav").mkdir(parents=True, exist_ok=True)
    utts = []
    for i, d in enumerate(durations):
        t = np.arange(int(16000 * d)) / 16000
        c = i % len(classes)
        x = 0.2 * np.sin(2 * np.pi * (120 + 40 * c) * t) + 0.02 * rng.normal(size=t.size)
        p = root / "wav" / f"u{i:05d}.wav"
        sf.write(p, x.astype(np.float32), 16000, subtype="PCM_16")
        vad = tuple(float(v) for v in np.clip(rng.uniform(0.2, 0.8, 3), 0, 1))
        utts.append(Utterance(f"u{i:05d}", str(p), f"s{i % 10}", classes[c], vad))
    write_data_dir(utts, root / "data")
    (root / "data" / "utt2num_samples").write_text("".join(f"u{i:05d} {int(16000 * d)}\n" for i, d in enumerate(durations)))
    return root / "data"


def iemocap_like_durations(n: int, seed: int = 0):
    """Durations like IEMOCAP's utterances: gamma-distributed, mean about 4.5 s, clipped to 0.6-30 s."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return np.clip(rng.gamma(2.0, 2.25, n), 0.6, 30.0)


def fold_training_mask(folds_dir, k: int, ids, spk, speaker):
    """The utterances (a boolean mask over ``ids``) that fold ``k`` of a recipe's prepared dir trains on
    (``fold{k}/train/utt2spk``: all but the test and the dev speakers), after checking that its test
    part holds exactly ``speaker``'s utterances; without ``folds_dir`` every other speaker's."""
    import numpy as np

    train = spk != speaker
    if folds_dir is None:
        return train
    fold = os.path.join(folds_dir, f"fold{k}")
    utts = {part: [line.split()[0] for line in open(os.path.join(fold, part, "utt2spk")) if line.strip()]
            for part in ("train", "test")}
    if set(utts["test"]) != set(ids[spk == speaker]):
        raise SystemExit(f"{fold}/test: not the utterances of speaker {speaker}")
    return train & np.isin(ids, utts["train"])
