"""Soft-target training end to end, MC-dropout and fold-ensemble uncertainty from ser_inference and
ser_ensemble, and ser_score's beyond-accuracy section on what they write."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from espnet_ser.bin.ser_ensemble import main as ensemble_main
from espnet_ser.bin.ser_inference import main as infer
from espnet_ser.bin.ser_score import main as score_main
from espnet_ser.inference.predictions import read_predictions
from espnet_ser.labels import read_table, write_table
from espnet_ser.recipe.train_args import collect_stats, train
from helpers import CLASSES, make_data_dir

from helpers import ROOT
CONF = ROOT / "conf/tuning/train_ser_tiny_fbank.yaml"


def add_votes(data_dir: Path, seed: int) -> None:
    """Evaluators' votes: the utterance's class plus a random second class, and V/A/D raters."""
    rng = np.random.default_rng(seed)
    emo = read_table(data_dir / "emotion")
    lines, raters = [], []
    for u in sorted(emo):
        other = CLASSES[int(rng.integers(len(CLASSES)))]
        lines.append(f"{u} nan" if emo[u] == "nan" else f"{u} {emo[u]}:2 {other}:1" if other != emo[u] else f"{u} {emo[u]}:3")
        raters.append(f"{u} 0.5 0.5 0.5 {rng.uniform(0, 0.3):.3f} {rng.uniform(0, 0.3):.3f} {rng.uniform(0, 0.3):.3f} 3")
    write_table(data_dir / "emotion_votes", lines)
    write_table(data_dir / "vad_raters", raters)


@pytest.fixture(scope="module")
def soft_exp(tmp_path_factory):
    root = tmp_path_factory.mktemp("soft")
    tr = make_data_dir(root / "train", n=20, seed=0, partial=True, prefix="tr")
    dv = make_data_dir(root / "valid", n=10, seed=1, prefix="dv")
    for d in (tr, dv):
        add_votes(d, 0)
    stats = collect_stats(CONF, tr, dv, root / "stats")
    exp = train(CONF, tr, dv, stats, root / "exp", ["--decoder", "hierarchical_cd", "--max_epoch", "2", "--batch_size", "8",
                                                   "--model_conf", "class_targets=soft", "--model_conf", "vad_agreement_tau=0.1"])
    return root, exp, dv


def test_soft_targets_train_and_record_their_data(soft_exp):
    _, exp, _ = soft_exp
    conf = (exp / "config.yaml").read_text()
    assert "class_targets: soft" in conf and "emotion_votes" in conf and "vad_raters" in conf
    assert (exp / "2epoch.pth").exists()


def test_mc_dropout_writes_entropy_and_std_and_score_reads_them(soft_exp, tmp_path):
    root, exp, dv = soft_exp
    assert infer(["--model", str(exp), "--model_file", "2epoch.pth", "--wav_scp", str(dv / "wav.scp"),
                  "--out", str(tmp_path / "det"), "--no_progress"]) == 0
    assert not (tmp_path / "det/class_entropy").exists() and not (tmp_path / "det/vad_std").exists()
    assert infer(["--model", str(exp), "--model_file", "2epoch.pth", "--wav_scp", str(dv / "wav.scp"),
                  "--out", str(tmp_path / "mc"), "--no_progress", "--mc_dropout", "6", "--seed", "3"]) == 0
    mc = read_predictions(tmp_path / "mc")
    assert mc.class_entropy.shape == (10,) and mc.vad_std.shape == (10, 3)
    assert (mc.class_entropy >= 0).all() and (mc.class_entropy <= math.log(len(CLASSES)) + 1e-6).all()
    assert (mc.vad_std > 0).any(), "dropout on: the passes differ"
    # the written entropy is the entropy of the written (mean) distribution
    p = mc.probs
    assert np.allclose(mc.class_entropy, -(p * np.log(p)).sum(1), atol=1e-5)
    # the same seed gives the same passes
    infer(["--model", str(exp), "--model_file", "2epoch.pth", "--wav_scp", str(dv / "wav.scp"),
           "--out", str(tmp_path / "mc2"), "--no_progress", "--mc_dropout", "6", "--seed", "3"])
    assert (tmp_path / "mc/probs").read_text() == (tmp_path / "mc2/probs").read_text()

    assert score_main(["--ref", str(dv), "--hyp", str(tmp_path / "mc"), "--out", str(tmp_path / "s")]) == 0
    b = json.loads((tmp_path / "s/scores.json").read_text())["beyond"]
    assert b["class_uncertainty"].startswith("class_entropy") and 0 <= b["ece"] <= 1 and 0 <= b["jsd_votes"] <= 1
    assert [c["fraction"] for c in b["reject_ua"]][-1] == 1.0 and len(b["reject_ccc"]) == 10
    assert -1 <= b["spearman_uncertainty_disagreement"] <= 1 and "vad_to_class" in b and "centroids" in b
    assert "Beyond accuracy" in (tmp_path / "s/scores.md").read_text()

    # a fold ensemble of the deterministic and the MC run: the mean of their probs, std of their V/A/D
    assert ensemble_main(["combine", str(tmp_path / "det"), str(tmp_path / "mc"), "--out", str(tmp_path / "ens")]) == 0
    det, ens = read_predictions(tmp_path / "det"), read_predictions(tmp_path / "ens")
    assert np.allclose(ens.probs, (det.probs + mc.probs) / 2, atol=2e-6)
    assert np.allclose(ens.vad_std, np.abs(det.vad - mc.vad) / 2, atol=2e-6)


def test_mc_dropout_errors(soft_exp, tmp_path):
    _, exp, dv = soft_exp
    from espnet_ser.errors import InputError

    with pytest.raises(InputError, match="at least 2 passes"):
        infer(["--model", str(exp), "--wav_scp", str(dv / "wav.scp"), "--out", str(tmp_path / "x"), "--mc_dropout", "1"])
    with pytest.raises(InputError, match="same utterances"):
        d1, d2 = tmp_path / "a", tmp_path / "b"
        for d, n in ((d1, 2), (d2, 3)):
            d.mkdir()
            write_table(d / "vad", [f"u{i} 0.1 0.2 0.3" for i in range(n)])
        ensemble_main(["combine", str(d1), str(d2), "--out", str(tmp_path / "e")])
