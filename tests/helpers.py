"""Generated audio and data directories for tests (no corpus needed)."""

from pathlib import Path

import numpy as np
import soundfile as sf

from espnet_ser.labels import Utterance, write_data_dir

CLASSES = ["neutral", "angry", "happy", "sad", "disgust"]


def make_data_dir(root, n=12, seed=0, partial=False, dur=(0.4, 0.8), prefix="utt"):
    """n utterances whose pitch/loudness follow their class and V/A/D; ``partial`` drops some labels."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    (root / "wav").mkdir(parents=True, exist_ok=True)
    utts = []
    for i in range(n):
        c = i % len(CLASSES)
        vad = [float(np.clip(0.2 + 0.15 * c + rng.normal(0, 0.05), 0, 1)) for _ in range(3)]
        t = np.arange(int(16000 * rng.uniform(*dur))) / 16000
        wav = (0.1 + 0.3 * vad[1]) * np.sin(2 * np.pi * (120 + 60 * c) * t) + 0.01 * rng.normal(size=t.size)
        path = root / "wav" / f"{prefix}{i:03d}.wav"
        sf.write(path, wav.astype(np.float32), 16000, subtype="PCM_16")
        emotion = CLASSES[c]
        if partial and i % 3 == 1:
            emotion = None
        if partial and i % 3 == 2:
            vad = None
        if partial and i % 4 == 3 and vad is not None:
            vad[2] = float("nan")
        utts.append(Utterance(f"{prefix}{i:03d}", str(path), f"spk{i % 3}", emotion, None if vad is None else tuple(vad)))
    return write_data_dir(utts, root / "data")


def tiny_hubert_config(root, **overrides) -> Path:
    """``conf/tuning/train_ser_tiny_hubert.yaml`` pointed at a tiny random HuBERT saved under ``root``,
    with ``overrides`` applied; returns the written config's path."""
    import yaml

    from espnet_ser.testing.hubert_checkpoints import save_hf_hubert

    root = Path(root)
    conf = yaml.safe_load((Path(__file__).resolve().parents[1] / "conf/tuning/train_ser_tiny_hubert.yaml").read_text())
    conf["frontend_conf"]["path_or_name"] = str(save_hf_hubert(root / "hubert"))
    conf.update(use_matplotlib=False, use_tensorboard=False, **overrides)
    path = root / "conf.yaml"
    path.write_text(yaml.safe_dump(conf))
    return path
