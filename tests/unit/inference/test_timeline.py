"""Emotion over time (ser_inference --timeline): windows follow the segments of a recording, silence is
gated out of the timeline and the file-level prediction, and memory stays flat on an hour of audio."""

import json

import numpy as np
import pytest
import soundfile as sf

from espnet_ser.bin import ser_inference
from espnet_ser.inference.timeline import EnergyGate, SileroGate, aggregate
from helpers import CLASSES

from timeline_fixtures import CONF, FS, model, tone  # noqa: F401  (fixtures and helpers shared with another layer)


def test_windows_follow_the_segments_and_silence_is_gated(model, tmp_path, capsys):
    # neutral 2.5 s | silence 1.5 s | disgust 2.5 s | silence 1.5 s | neutral 2.5 s
    segments = [(0, 2.5), (None, 1.5), (4, 2.5), (None, 1.5), (0, 2.5)]
    parts, spans, t = [], [], 0.0
    for k, (cls, dur) in enumerate(segments):
        parts.append(tone(cls, dur, k) if cls is not None else np.zeros(int(FS * dur), np.float32))
        spans.append((t, t + dur, cls))
        t += dur
    wav = tmp_path / "rec.wav"
    sf.write(wav, np.concatenate(parts), FS)
    out = tmp_path / "out"
    assert ser_inference.main(["--model", str(model), "--out", str(out), str(wav), "--timeline", "--timeline_window", "1.0",
                               "--timeline_hop", "0.5", "--gate", "energy", "--no_progress"]) == 0
    rows = json.loads((out / "timeline" / "rec.json").read_text())["windows"]
    assert len(rows) == int((t - 1.0) / 0.5) + 1 and rows[0]["start"] == 0 and rows[-1]["end"] == pytest.approx(t)
    inside = {}
    for r in rows:  # the segment a window lies in entirely, if any
        seg = next((s for s in spans if s[0] <= r["start"] and r["end"] <= s[1]), None)
        if seg is not None:
            inside.setdefault(seg[2], []).append(r)
    assert all(r["gated"] and r["speech"] == 0.0 for r in inside[None])      # silence: gated, no prediction
    assert all("probs" not in r for r in inside[None])
    for cls in (0, 4):
        hits = [r["emotion"] == CLASSES[cls] for r in inside[cls]]
        assert not any(r["gated"] for r in inside[cls]) and np.mean(hits) >= 0.8, (cls, [r["emotion"] for r in inside[cls]])
    # the file-level prediction is the kept windows' aggregate, as results.json and the emotion file say
    meta = json.loads((out / "timeline" / "rec.json").read_text())
    kept = [r for r in rows if not r["gated"]]
    assert meta["aggregate"]["kept"] == len(kept) and meta["aggregate_of"] == "kept windows only"
    w = np.array([r["end"] - r["start"] for r in kept])
    mean_p = (w[:, None] * np.array([[r["probs"][c] for c in CLASSES] for r in kept])).sum(0) / w.sum()
    probs = dict(zip(CLASSES, map(float, (out / "probs").read_text().split()[1:])))
    assert np.allclose([probs[c] for c in CLASSES], mean_p, atol=1e-5)
    csv = (out / "timeline" / "rec.csv").read_text().splitlines()
    assert csv[0].split(",")[:5] == ["start", "end", "speech", "gated", "emotion"] and len(csv) == len(rows) + 1
    assert (out / "timeline" / "rec.png").stat().st_size > 0


def test_speech2emotion_timeline_with_mc_dropout_uncertainty(model, tmp_path):
    from espnet_ser.inference.speech2emotion import Speech2Emotion

    wav = tmp_path / "two.wav"
    sf.write(wav, np.concatenate([tone(0, 2.0, 1), tone(4, 2.0, 2)]), FS)
    s2e = Speech2Emotion.from_exp_dir(model)
    s2e.mc_dropout = 4
    rows = s2e.timeline(wav, window_s=1.0, hop_s=1.0, gate="energy")
    assert [(r["start"], r["end"]) for r in rows] == [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, 4.0)]
    for r in rows:  # entropy of the mean class distribution over the passes: 0 to ln 5
        assert not r["gated"] and 0 <= r["class_entropy"] <= np.log(5) + 1e-6
        assert abs(sum(r["probs"].values()) - 1) < 1e-5


def test_gates_on_silence_and_tones():
    import torch

    silence = torch.zeros(FS)
    sine = torch.from_numpy(tone(2, 1.0, 0))
    energy = EnergyGate()
    assert energy.speech_fraction(silence, FS) == 0.0 and energy.speech_fraction(sine, FS) == 1.0
    half = torch.cat([silence[: FS // 2], sine[: FS // 2]])
    assert energy.speech_fraction(half, FS) == pytest.approx(0.5, abs=0.04)
    threads = torch.get_num_threads()
    silero = SileroGate()
    assert torch.get_num_threads() == threads                  # importing silero-vad sets 1 thread: restored
    # silero-vad tells speech from everything else: silence and a steady tone are not speech
    assert silero.speech_fraction(silence, FS) == 0.0 and silero.speech_fraction(sine, FS) == 0.0
    assert aggregate([{"start": 0, "end": 1, "gated": True, "speech": 0.0}])["emotion"] is None


