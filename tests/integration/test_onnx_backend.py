"""ser_inference --backend onnx gives the torch backend's outputs and files."""

import subprocess
import sys

import numpy as np


from helpers import ROOT
from onnx_fixtures import TOL, hubert, random_model, speech_like  # noqa: F401  (fixtures and helpers shared with another layer)


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


