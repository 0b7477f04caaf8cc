"""ser_inference on a recipe's model, as a user runs it: any-rate stereo and long files in bounded memory, bad inputs listed, a killed run resumed."""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from recipes import env_with, py as _py
from espnet_ser.testing.synthetic_audio import write_tone


MEMORY_SCRIPT = """
import json, resource, sys
from espnet_ser.inference.speech2emotion import Speech2Emotion
s2e = Speech2Emotion.from_pretrained(sys.argv[1])
short = s2e.predict_file(sys.argv[2])
rss_short = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
long = s2e.predict_file(sys.argv[3])
rss_long = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"short": short, "long": long, "rss_short_kb": rss_short, "rss_long_kb": rss_long}))
"""


def test_inference_stereo_44k_and_long_file_bounded_memory(recipe_run, tmp_path):
    """A 10-minute 44.1 kHz stereo file (212 MB as float32 if read whole) adds < 100 MB to the peak RSS."""
    work, _ = recipe_run
    model = work / "exp" / "ser_hierarchical_dc_fold1" / "packed" / "model.zip"
    write_tone(tmp_path / "short.wav", 10, 44100, 2)
    write_tone(tmp_path / "long.wav", 600, 44100, 2)
    p = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, model, tmp_path / "short.wav", tmp_path / "long.wav"],
                       capture_output=True, text=True, env=env_with(), check=True)
    r = json.loads(p.stdout.strip().splitlines()[-1])
    assert r["short"]["windows"] == 1 and r["long"]["windows"] == 30
    for k in ("short", "long"):
        assert abs(sum(r[k]["probs"].values()) - 1) < 1e-5 and min(r[k]["vad"].values()) >= 0
    grew_mb = (r["rss_long_kb"] - r["rss_short_kb"]) / 1024
    assert grew_mb < 100, f"peak memory grew by {grew_mb:.0f} MB on the long file"
    # the CLI on audio files: 44.1 kHz stereo in, every output file written, V/A/D on a 1-7 scale
    out = tmp_path / "cli"
    subprocess.run([sys.executable, "-m", "espnet_ser.bin.ser_inference", "--model", model, "--out", out, "--vad_scale", "1-7",
                    tmp_path / "short.wav"], check=True, env=env_with(), capture_output=True)
    assert (out / "emotion").read_text().split()[0] == "short"
    rows = json.loads((out / "results.json").read_text())
    assert 1 <= rows[0]["valence_1-7"] <= 7 and rows[0]["valence_1-7"] == pytest.approx(1 + 6 * rows[0]["valence"], abs=1e-5)
    assert (out / "results.csv").read_text().startswith("utt_id,emotion,p_neutral")


# ---------------------------------------------------------------- reliability: inference, concurrency, faults


def test_inference_unique_ids_bad_inputs_listed_good_ones_scored(recipe_run, tmp_path):
    import soundfile as sf

    work, _ = recipe_run
    model = work / "exp" / "ser_hierarchical_dc_fold1" / "packed" / "model.zip"
    tone = (0.3 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000)).astype(np.float32)
    for ext in ("wav", "flac", "ogg"):
        sf.write(tmp_path / f"a.{ext}", tone, 16000)  # each format's default encoding
    sf.write(tmp_path / "empty.wav", np.zeros(0, np.float32), 16000)
    sf.write(tmp_path / "short.wav", np.zeros(16, np.float32), 16000)
    (tmp_path / "folder.wav").mkdir()
    (tmp_path / "garbage.wav").write_bytes(b"not audio at all")
    files = [tmp_path / f for f in ("a.wav", "a.flac", "a.ogg", "empty.wav", "short.wav", "folder.wav", "garbage.wav", "gone.wav")]
    p = _py("espnet_ser.bin.ser_inference", "--model", model, "--out", tmp_path / "out", "--no_progress", *files)
    assert p.returncode == 1, p.stderr[-2000:]
    assert "5 of 8 input(s) cannot be scored" in p.stderr and "Traceback" not in p.stderr
    emo = (tmp_path / "out" / "emotion").read_text().splitlines()
    ids = [line.split()[0] for line in emo]
    assert len(ids) == 3 == len(set(ids)) and all(i.endswith(("a.wav", "a.flac", "a.ogg")) for i in ids)
    errors = dict(line.split(" ", 1) for line in (tmp_path / "out" / "errors").read_text().splitlines())
    assert set(errors) == {"empty", "short", "folder", "garbage", "gone"}
    for uid, why in (("empty", "empty audio"), ("short", "too short"), ("folder", "a directory"),
                     ("garbage", "unreadable audio"), ("gone", "missing")):
        assert why in errors[uid], errors[uid]
    fast = _py("espnet_ser.bin.ser_inference", "--model", model, "--out", tmp_path / "o2", "--fail_fast", *files)
    assert fast.returncode == 2 and "empty audio" in fast.stderr and "Traceback" not in fast.stderr
    assert len(fast.stderr.strip().splitlines()) == 1
    twice = _py("espnet_ser.bin.ser_inference", "--model", model, "--out", tmp_path / "o3", files[0], files[0])
    assert twice.returncode == 2 and "given more than once" in twice.stderr


def test_inference_killed_then_rerun_equals_an_uninterrupted_run(recipe_run, tmp_path):
    work, _ = recipe_run
    model = work / "exp" / "ser_hierarchical_dc_fold1" / "packed" / "model.zip"
    files = [write_tone(tmp_path / f"f{i:02d}.wav", 3.0, 16000, 1) for i in range(30)]
    clean = _py("espnet_ser.bin.ser_inference", "--model", model, "--out", tmp_path / "clean", "--no_progress", *files)
    assert clean.returncode == 0, clean.stderr[-2000:]
    out = tmp_path / "out"
    write_tone(tmp_path / "old.wav", 1.0, 16000, 1)  # an earlier run's output in the same dir
    assert _py("espnet_ser.bin.ser_inference", "--model", model, "--out", out, tmp_path / "old.wav").returncode == 0
    cmd = [sys.executable, "-m", "espnet_ser.bin.ser_inference", "--model", str(model), "--out", str(out), *map(str, files)]
    p = subprocess.Popen(cmd, env=env_with(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    seen = ""
    while time.time() < deadline and "ser_inference:" not in seen:  # tqdm's bar: inference has started
        seen += p.stderr.read(1) or ""
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert (out / "emotion").read_text().split()[0] == "old"   # the killed run left the old output whole
    again = _py("espnet_ser.bin.ser_inference", "--model", model, "--out", out, "--no_progress", *files)
    assert again.returncode == 0
    for name in ("emotion", "probs", "vad", "class_list", "results.csv"):
        assert (out / name).read_text() == (tmp_path / "clean" / name).read_text(), name


