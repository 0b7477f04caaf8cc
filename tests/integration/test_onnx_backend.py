"""ser_inference --backend onnx gives the torch backend's outputs and files."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from espnet_ser.inference.speech2emotion import Speech2Emotion
from espnet_ser.inference.onnx import export_onnx
from espnet_ser.model.task import SERTask
from helpers import tiny_hubert_config

from helpers import ROOT  # noqa: E402  (the project root)
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


def test_ser_inference_onnx_backend(hubert, tmp_path):
    root, s2e, _ = hubert
    wavs = [speech_like(tmp_path / f"f{i}.wav", d, i) for i, d in enumerate((0.8, 3.1))]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "espnet_ser.bin.ser_inference", *map(str, args), "--no_progress"],
                              capture_output=True, text=True, env=env)

    r = run("--backend", "onnx", "--model", root / "model.onnx", "--out", tmp_path / "out", "--window", "1.5", *wavs)
    assert r.returncode == 0, r.stderr
    probs = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in (tmp_path / "out" / "probs").read_text().splitlines()}
    vad = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in (tmp_path / "out" / "vad").read_text().splitlines()}
    for w in wavs:
        ref = s2e.predict_file(w, window_s=1.5)
        assert np.allclose(probs[w.stem], [ref["probs"][c] for c in s2e.class_list], atol=TOL)
        assert np.allclose(vad[w.stem], list(ref["vad"].values()), atol=TOL)
    r = run("--backend", "onnx", "--model", root / "model.onnx", "--out", tmp_path / "o2", "--window", "80", *wavs)
    assert r.returncode == 2 and "longer than the graph" in r.stderr and "Traceback" not in r.stderr
    r = run("--model", root / "model.onnx", "--out", tmp_path / "o3", *wavs)
    assert r.returncode == 2 and "--backend onnx" in r.stderr


