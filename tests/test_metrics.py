"""Metrics against scikit-learn and a literal CCC formula; significance tests; scoring of prediction dirs."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

from espnet_ser.metrics import ccc, ccc_scores, confusion, macro_f1, unweighted_accuracy, weighted_accuracy
from espnet_ser.predictions import Predictions, read_predictions, write_predictions
from espnet_ser.report.significance import _codes, fast_metric, paired_bootstrap, paired_fold_test
from espnet_ser.scoring import Paired, pair, score
from helpers import CLASSES, make_data_dir
from test_loss import literal_ccc


@pytest.mark.parametrize("seed", range(5))
def test_ccc_matches_literal_formula(seed):
    rng = np.random.default_rng(seed)
    y = rng.uniform(0, 1, 50)
    x = 0.6 * y + rng.normal(0.1, 0.2, 50)
    assert ccc(x, y) == pytest.approx(literal_ccc(list(x), list(y)), abs=1e-12)


def test_ccc_edge_cases():
    assert np.isnan(ccc([0.3], [0.2]))                    # fewer than 2 items
    assert np.isnan(ccc([0.5, 0.5], [0.5, 0.5]))          # zero denominator
    assert ccc([0.5, 0.5, 0.5], [0.1, 0.5, 0.9]) == 0.0   # constant prediction, varying reference
    # NaN references are left out
    assert ccc([0.1, 0.2, 0.9, 5.0], [0.1, 0.3, 0.8, np.nan]) == pytest.approx(literal_ccc([0.1, 0.2, 0.9], [0.1, 0.3, 0.8]))
    s = ccc_scores(np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.2, 0.1]]),
                   np.array([[0.1, 0.1, np.nan], [0.5, 0.6, np.nan], [0.8, 0.1, np.nan]]))
    assert np.isnan(s["ccc_dominance"]) and s["ccc_mean"] == pytest.approx((s["ccc_valence"] + s["ccc_arousal"]) / 2)


@pytest.mark.parametrize("seed", range(5))
def test_class_metrics_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    ref = list(rng.choice(CLASSES[:4], 80))             # disgust never in the reference ...
    hyp = [r if rng.random() < 0.5 else str(rng.choice(CLASSES)) for r in ref]  # ... but sometimes predicted
    assert unweighted_accuracy(hyp, ref) == pytest.approx(balanced_accuracy_score(ref, hyp))
    assert weighted_accuracy(hyp, ref) == pytest.approx(accuracy_score(ref, hyp))
    assert macro_f1(hyp, ref) == pytest.approx(f1_score(ref, hyp, average="macro", zero_division=0))
    # missing references are skipped
    ref_missing = [None if i % 7 == 0 else r for i, r in enumerate(ref)]
    keep = [i for i, r in enumerate(ref_missing) if r is not None]
    assert unweighted_accuracy(hyp, ref_missing) == pytest.approx(balanced_accuracy_score([ref[i] for i in keep], [hyp[i] for i in keep]))
    cm = confusion(hyp, ref, CLASSES)
    assert cm.sum() == 80 and cm[4].sum() == 0 and np.trace(cm) == sum(a == b for a, b in zip(hyp, ref))


def test_class_metric_edge_cases():
    assert unweighted_accuracy(["a", "a", "a", "b"], ["a", "a", "a", "a"]) == 0.75  # only class a counts
    assert macro_f1(["a", "b"], ["a", "a"]) == pytest.approx(np.mean([2 / 3, 0.0]))  # predicted-only class b: F1 0
    assert np.isnan(unweighted_accuracy(["a"], [None])) and np.isnan(macro_f1(["a"], [None]))
    with pytest.raises(ValueError, match="not in the class list"):
        confusion(["zzz"], ["neutral"], CLASSES)


def _paired(seed, n=200, acc=0.6, noise=0.2):
    rng = np.random.default_rng(seed)
    ref = [str(c) for c in rng.choice(CLASSES, n)]
    hyp = [r if rng.random() < acc else str(rng.choice(CLASSES)) for r in ref]
    rv = rng.uniform(0, 1, (n, 3))
    hv = np.clip(rv + rng.normal(0, noise, (n, 3)), 0, 1)
    return Paired([f"u{i:04d}" for i in range(n)], ref, hyp, rv, hv, list(CLASSES))


def test_fast_bootstrap_metrics_equal_the_sklearn_ones():
    p = _paired(0)
    r, h = _codes(p)
    assert fast_metric("ua", 5)(r, h, None, None) == pytest.approx(unweighted_accuracy(p.hyp_emotion, p.ref_emotion))
    assert fast_metric("f1_macro", 5)(r, h, None, None) == pytest.approx(macro_f1(p.hyp_emotion, p.ref_emotion))
    assert fast_metric("ccc_mean", 5)(r, h, p.ref_vad, p.hyp_vad) == pytest.approx(ccc_scores(p.hyp_vad, p.ref_vad)["ccc_mean"])


@pytest.mark.parametrize("metric", ["ua", "f1_macro", "ccc_mean"])
def test_bootstrap_reproducible_detects_planted_difference_and_not_identity(metric):
    weak = _paired(1, acc=0.3, noise=0.35)
    strong = Paired(weak.ids, weak.ref_emotion, [r for r in weak.ref_emotion], weak.ref_vad,
                    np.clip(weak.ref_vad + np.random.default_rng(2).normal(0, 0.05, weak.ref_vad.shape), 0, 1), weak.class_list)
    a = paired_bootstrap(weak, strong, metric, n_boot=300, seed=7)
    assert a == paired_bootstrap(weak, strong, metric, n_boot=300, seed=7)
    assert a["delta"] > 0 and a["p"] < 0.05 and a["ci_low"] > 0
    same = paired_bootstrap(weak, weak, metric, n_boot=300, seed=7)
    assert same["delta"] == 0 and same["p"] == 1.0


def test_fold_test():
    assert paired_fold_test([0.5, 0.6, 0.55, 0.52, 0.58], [0.5, 0.6, 0.55, 0.52, 0.58])["p"] == 1.0
    r = paired_fold_test([0.50, 0.60, 0.55, 0.52, 0.58], [0.61, 0.70, 0.67, 0.62, 0.70])
    assert r["p"] < 0.05 and r["delta"] == pytest.approx(0.11, abs=0.01)
    assert paired_fold_test([0.5, 0.6, 0.55], [0.52, 0.58, 0.56])["p"] > 0.05


def test_score_dirs_and_mismatched_ids(tmp_path):
    data = make_data_dir(tmp_path / "d", n=15, partial=True)
    ids = sorted(line.split()[0] for line in (data / "wav.scp").read_text().splitlines())
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(5), len(ids))
    pred = Predictions(ids, list(CLASSES), probs, rng.uniform(0, 1, (len(ids), 3)))
    write_predictions(pred, tmp_path / "hyp", scale="1-5")
    back = read_predictions(tmp_path / "hyp")
    assert back.ids == ids and np.allclose(back.probs, probs, atol=1e-6)
    scaled = np.array([[float(x) for x in line.split()[1:]] for line in (tmp_path / "hyp" / "vad_1-5").read_text().splitlines()])
    assert np.allclose(scaled, 1 + 4 * back.vad, atol=1e-5)
    res = score(data, tmp_path / "hyp")
    p = pair(data, tmp_path / "hyp")
    m = res["metrics"]
    assert m["ua"] == pytest.approx(balanced_accuracy_score([r for r in p.ref_emotion if r], [h for h, r in zip(p.hyp_emotion, p.ref_emotion) if r]))
    assert m["n_emotion"] == sum(r is not None for r in p.ref_emotion) < 15
    # a V/A/D-only model: no class metrics, and the report says so
    write_predictions(Predictions(ids, None, None, pred.vad), tmp_path / "hyp_c")
    res_c = score(data, tmp_path / "hyp_c")
    assert "ua" not in res_c["metrics"] and res_c["not_scored"] == ["emotion"]
    # one utterance short: an error listing it
    write_predictions(Predictions(ids[1:], list(CLASSES), probs[1:], None), tmp_path / "short")
    with pytest.raises(ValueError, match=f"1 missing from the predictions.*{ids[0]}"):
        score(data, tmp_path / "short")
