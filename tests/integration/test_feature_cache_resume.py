"""Feature extraction killed midway resumes to the uninterrupted result."""


import numpy as np

from espnet_ser.recipe.feature_cache import extract_features
from helpers import make_data_dir

from helpers import ROOT
from cache_fixtures import EPOCHS, setup  # noqa: F401  (fixtures and helpers shared with another layer)


def test_extraction_killed_midway_resumes_to_the_uninterrupted_result(setup, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    root, cfg, _, _ = setup
    data = make_data_dir(tmp_path / "many", n=60, seed=5, prefix="m", dur=(0.8, 1.2))
    clean = extract_features(data, tmp_path / "clean", cfg, dtype="float32", max_items=1, progress=False)
    cmd = [sys.executable, "-m", "espnet_ser.bin.extract_feats", "--config", str(cfg), "--data_dir", str(data),
           "--out_dir", str(tmp_path / "killed"), "--store_dtype", "float32", "--dtype", "fp32", "--max_items", "1",
           "--no_progress"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    npy = tmp_path / "killed" / "npy"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(npy.glob("*.npy"))) < 5:
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.wait()
    done_before = len(list(npy.glob("*.npy")))
    assert 5 <= done_before < 60 and not (tmp_path / "killed" / ".done").exists()  # killed mid-way
    again = subprocess.run(cmd, env=env, capture_output=True, text=True)  # the dead run's lock does not block
    assert again.returncode == 0, again.stderr
    for f in sorted((tmp_path / "clean" / "npy").glob("*.npy")):
        assert np.array_equal(np.load(f), np.load(npy / f.name)), f.name
    assert sorted(p.name for p in npy.iterdir()) == sorted(p.name for p in (tmp_path / "clean" / "npy").iterdir())
    assert (tmp_path / "killed" / "feats_shape").read_text() == (tmp_path / "clean" / "feats_shape").read_text()
    assert clean["utterances"] == 60


