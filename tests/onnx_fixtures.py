"""Models and audio shared by the ONNX tests (unit and integration)."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from helpers import tiny_hubert_config

from espnet_ser.inference.onnx import export_onnx
from espnet_ser.inference.speech2emotion import Speech2Emotion
from espnet_ser.model.task import SERTask

TOL = 1e-4  # onnxruntime vs torch, fp32 both: kernels differ in summation order only


def random_model(root: Path, config: Path, *overrides: str) -> Path:
    """An exp dir (ESPnet dry run) with seeded random weights saved as model.pth."""
    SERTask.main(cmd=["--config", str(config), "--dry_run", "true", "--output_dir", str(root / "exp"), *overrides])
    torch.manual_seed(0)
    model = Speech2Emotion(root / "exp" / "config.yaml", None, attach_source=False).model
    torch.save(model.state_dict(), root / "exp" / "model.pth")
    return root / "exp"


def speech_like(path: Path, seconds: float, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    t = np.arange(int(16000 * seconds)) / 16000
    x = 0.2 * np.sin(2 * np.pi * (140 + 40 * np.sin(3 * t)) * t) * (1 + 0.5 * np.sin(5 * t)) + 0.02 * rng.normal(size=t.size)
    sf.write(path, x.astype(np.float32), 16000)
    return path


@pytest.fixture(scope="module")
def hubert(tmp_path_factory):
    root = tmp_path_factory.mktemp("onnx_hubert")
    exp = random_model(root, tiny_hubert_config(root, num_workers=0))
    s2e = Speech2Emotion(exp / "config.yaml", exp / "model.pth")
    meta = export_onnx(s2e, root / "model.onnx")
    return root, s2e, meta
