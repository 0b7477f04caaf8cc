"""Beyond accuracy: calibration, divergence from the votes, reject curves, rank correlation, the soft
and agreement-weighted losses, MC dropout and fold ensembles, against hand-computed values and scipy."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.spatial.distance import jensenshannon
from scipy.stats import spearmanr

from espnet_ser.evaluation.beyond import class_centroids, nearest_centroid
from espnet_ser.metrics import ece, entropy, jsd, reject_curve, spearman
from espnet_ser.model.loss import ccc_loss, soft_cross_entropy
from helpers import literal_ccc


def test_ece_by_hand():
    probs = np.array([[0.95, 0.05], [0.55, 0.45], [0.52, 0.48], [0.3, 0.7]])
    # labelled: 0.95 right (bin 10), 0.55 wrong and 0.52 right (bin 6: acc 1/2, conf 0.535); the 4th has no class
    assert ece(probs, np.array([0, 1, 0, -1])) == pytest.approx((0.05 + 2 * 0.035) / 3)
    assert math.isnan(ece(probs, np.array([-1, -1, -1, -1])))
    assert ece(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1])) == 0.0  # sure and right: calibrated


def test_jsd_matches_scipy_and_bounds():
    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(5), 20), rng.dirichlet(np.ones(5), 20)
    ref = np.array([jensenshannon(a, b, base=2) ** 2 for a, b in zip(p, q)])
    assert np.allclose(jsd(p, q), ref)
    assert jsd(p[:1], p[:1])[0] == pytest.approx(0.0) and jsd(np.eye(2)[:1], np.eye(2)[1:])[0] == pytest.approx(1.0)


def test_spearman_matches_scipy_with_ties():
    x = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]
    y = [2, 7, 1, 8, 2, 8, 1, 8, 2, 8]
    assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic)
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3])) and math.isnan(spearman([1], [2]))


def test_reject_curve_by_hand():
    unc = np.array([0.4, 0.1, 0.4, 0.2, 0.9])
    right = np.array([1, 1, 0, 1, 0])
    curve = reject_curve(unc, lambda i: right[i].mean(), (0.2, 0.4, 0.6, 1.0))
    # order by uncertainty, ties by position: 1, 3, 0, 2, 4 -> kept 1 / 2 / 3 / 5 items
    assert [c["n"] for c in curve] == [1, 2, 3, 5]
    assert [c["value"] for c in curve] == [1.0, 1.0, 1.0, 0.6]


def test_entropy_by_hand():
    assert entropy(np.array([[0.25, 0.25, 0.25, 0.25]]))[0] == pytest.approx(math.log(4))


def test_soft_cross_entropy_literal_and_fallbacks():
    torch.manual_seed(0)
    logits = torch.randn(4, 3)
    votes = torch.tensor([[2.0, 1.0, 1.0], [float("nan")] * 3, [0.0, 0.0, 0.0], [0.0, 3.0, 0.0]])
    labels = torch.tensor([0, 2, -1, 1])
    loss, acc = soft_cross_entropy(logits, votes, labels)
    logp = torch.log_softmax(logits, -1)
    # row 0: q = (1/2, 1/4, 1/4); row 1: no votes -> its hard class 2; row 2: neither -> left out; row 3: one-hot
    want = -(0.5 * logp[0, 0] + 0.25 * logp[0, 1] + 0.25 * logp[0, 2]) - logp[1, 2] - logp[3, 1]
    assert loss.item() == pytest.approx(want.item() / 3, rel=1e-6)
    # one-hot votes give the hard CE
    onehot = F.one_hot(torch.tensor([0, 2, 1, 1]), 3).float()
    assert soft_cross_entropy(logits, onehot, torch.full((4,), -1))[0].item() == pytest.approx(
        F.cross_entropy(logits, torch.tensor([0, 2, 1, 1])).item(), rel=1e-6)
    zero, none = soft_cross_entropy(logits, torch.full((4, 3), float("nan")), torch.full((4,), -1))
    assert zero.item() == 0.0 and none is None


def test_weighted_ccc_equals_the_ccc_of_repeated_items():
    rng = np.random.default_rng(1)
    x, y = rng.random(6), rng.random(6)
    w = np.array([1, 2, 1, 3, 1, 1])
    rep_x, rep_y = np.repeat(x, w), np.repeat(y, w)
    pred = torch.tensor(np.stack([x] * 3, 1)); target = torch.tensor(np.stack([y] * 3, 1))
    loss, cccs = ccc_loss(pred, target, weights=torch.tensor(np.stack([w] * 3, 1), dtype=torch.float64))
    assert cccs[0].item() == pytest.approx(literal_ccc(rep_x, rep_y), abs=1e-6)
    unweighted, _ = ccc_loss(pred, target)
    assert unweighted.item() == pytest.approx(3 * (1 - literal_ccc(x, y)), abs=1e-6)


def test_centroids_and_nearest_centroid_by_hand():
    vad = np.array([[0.1, 0.2, 0.3], [0.3, 0.2, 0.1], [0.9, 0.9, 0.9], [float("nan"), 0.5, 0.5]])
    cen = class_centroids(["sad", "sad", "angry", "angry"], vad, ["angry", "sad", "happy"])
    assert cen == {"angry": [0.9, 0.9, 0.9], "sad": [0.2, 0.2, 0.2]}   # the NaN row is left out
    assert nearest_centroid(np.array([[0.3, 0.3, 0.3], [0.6, 0.6, 0.6]]), cen) == ["sad", "angry"]


def test_centroid_shift_and_affine_calibration_by_hand(tmp_path):
    """Corpus B places every class at 0.5 * (A's place) + 0.2: the shift is that per class, and the
    calibrated predictions of an A-style model on B match B's references exactly."""
    from espnet_ser.evaluation.beyond import calibration_view
    from espnet_ser.evaluation.scoring import Paired
    from espnet_ser.labels import Utterance, write_data_dir

    places = {"angry": (0.2, 0.9, 0.8), "sad": (0.2, 0.1, 0.2), "happy": (0.9, 0.7, 0.6)}
    to_b = lambda v: tuple(0.5 * x + 0.2 for x in v)  # noqa: E731
    for name, f in (("a", lambda v: v), ("b", to_b)):
        write_data_dir([Utterance(f"{name}{c}{i}", "x.wav", "s", c, f(v)) for i, (c, v) in
                        enumerate(list(places.items()) * 2)], tmp_path / name)
    cls = ["angry", "sad", "happy"]
    hyp = np.array([places[c] for c in cls * 2]) + np.array([[0.02, -0.01, 0.0]] * 6)  # A-style predictions
    ref = np.array([to_b(places[c]) for c in cls * 2])
    p = Paired([f"u{i}" for i in range(6)], cls * 2, None, ref, hyp, cls)
    view = calibration_view(p, tmp_path / "a", tmp_path / "b")
    assert view["centroid_shift"]["angry"] == pytest.approx([0.5 * 0.2 + 0.2 - 0.2, 0.65 - 0.9, 0.6 - 0.8])
    assert view["calibration"]["a"] == pytest.approx([0.5] * 3) and view["calibration"]["b"] == pytest.approx([0.2] * 3)
    want = literal_ccc(np.clip(hyp[:, 0] * 0.5 + 0.2, 0, 1), ref[:, 0])
    assert view["calibrated"]["ccc_valence"] == pytest.approx(want)
    assert view["calibrated"]["ccc_mean"] > view["uncalibrated"]["ccc_mean"]
