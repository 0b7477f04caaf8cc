"""Metrics against hand-computed values, a literal CCC formula and audmetric (the code uses neither);
significance tests; scoring of prediction dirs."""

import audmetric
import numpy as np
import pytest

from espnet_ser.metrics import ccc, ccc_scores, confusion, macro_f1, unweighted_accuracy, weighted_accuracy
from espnet_ser.inference.predictions import Predictions, read_predictions, write_predictions
from espnet_ser.evaluation.significance import (_metric_rows, adjust, bootstrap_p, class_union, mark_family,
                                             paired_bootstrap, paired_fold_test)
from espnet_ser.evaluation.scoring import Paired, pair, score
from helpers import CLASSES, literal_ccc, make_data_dir


@pytest.mark.parametrize("seed", range(5))
def test_ccc_matches_literal_formula(seed):
    rng = np.random.default_rng(seed)
    y = rng.uniform(0, 1, 50)
    x = 0.6 * y + rng.normal(0.1, 0.2, 50)
    assert ccc(x, y) == pytest.approx(literal_ccc(list(x), list(y)), abs=1e-12)
    assert ccc(x, y) == pytest.approx(audmetric.concordance_cc(y, x), abs=1e-12)


def test_ccc_edge_cases():
    assert np.isnan(ccc([0.3], [0.2]))                    # fewer than 2 items
    assert np.isnan(ccc([0.5, 0.5], [0.5, 0.5]))          # zero denominator
    assert ccc([0.5, 0.5, 0.5], [0.1, 0.5, 0.9]) == 0.0   # constant prediction, varying reference
    # NaN references are left out
    assert ccc([0.1, 0.2, 0.9, 5.0], [0.1, 0.3, 0.8, np.nan]) == pytest.approx(literal_ccc([0.1, 0.2, 0.9], [0.1, 0.3, 0.8]))
    s = ccc_scores(np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.2, 0.1]]),
                   np.array([[0.1, 0.1, np.nan], [0.5, 0.6, np.nan], [0.8, 0.1, np.nan]]))
    assert np.isnan(s["ccc_dominance"]) and s["ccc_mean"] == pytest.approx((s["ccc_valence"] + s["ccc_arousal"]) / 2)


def test_class_metrics_hand_computed():
    # reference a a a b b c, prediction a a b b c c:
    #   recalls a 2/3, b 1/2, c 1/1 -> UA 13/18; accuracy 4/6
    #   F1 = 2 t / (r + c): a 2*2/(3+2) = 0.8, b 2*1/(2+2) = 0.5, c 2*1/(1+2) = 2/3 -> 59/90
    ref = ["a", "a", "a", "b", "b", "c"]
    hyp = ["a", "a", "b", "b", "c", "c"]
    assert unweighted_accuracy(hyp, ref) == pytest.approx(13 / 18)
    assert weighted_accuracy(hyp, ref) == pytest.approx(4 / 6)
    assert macro_f1(hyp, ref) == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert confusion(hyp, ref, ["a", "b", "c"]).tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]


@pytest.mark.parametrize("seed", range(5))
def test_class_metrics_match_audmetric(seed):
    rng = np.random.default_rng(seed)
    ref = [str(c) for c in rng.choice(CLASSES[:4], 80)]  # disgust never in the reference ...
    hyp = [r if rng.random() < 0.5 else str(rng.choice(CLASSES)) for r in ref]  # ... but sometimes predicted
    assert "disgust" in hyp
    # UA averages the recalls of the reference's classes only (audmetric's unweighted_average_recall would
    # also average the predicted-only class's recall as 0); F1 every class seen on either side
    def ua(r, h):
        recall = audmetric.recall_per_class(r, h)
        return np.mean([recall[c] for c in set(r)])

    assert unweighted_accuracy(hyp, ref) == pytest.approx(ua(ref, hyp))
    assert weighted_accuracy(hyp, ref) == pytest.approx(audmetric.accuracy(ref, hyp))
    assert macro_f1(hyp, ref) == pytest.approx(audmetric.unweighted_average_fscore(ref, hyp))
    # missing references are skipped
    ref_missing = [None if i % 7 == 0 else r for i, r in enumerate(ref)]
    keep = [i for i, r in enumerate(ref_missing) if r is not None]
    kr, kh = [ref[i] for i in keep], [hyp[i] for i in keep]
    assert unweighted_accuracy(hyp, ref_missing) == pytest.approx(ua(kr, kh))
    cm = confusion(hyp, ref, CLASSES)
    assert cm.tolist() == audmetric.confusion_matrix(ref, hyp, labels=CLASSES)


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


def test_bootstrap_metrics_from_counts_equal_the_scorers_on_the_repeated_items():
    # a resample is a count per item: the metric of the counts must equal the scorer on the items
    # listed that many times (the observed data is the row of ones)
    p = _paired(0, n=60)
    rng = np.random.default_rng(4)
    idx = rng.integers(0, 60, 60)
    counts = np.stack([np.ones(60, np.uint8), np.bincount(idx, minlength=60).astype(np.uint8)])
    scorers = {"ua": lambda i: unweighted_accuracy([p.hyp_emotion[j] for j in i], [p.ref_emotion[j] for j in i]),
               "f1_macro": lambda i: macro_f1([p.hyp_emotion[j] for j in i], [p.ref_emotion[j] for j in i]),
               "wa": lambda i: weighted_accuracy([p.hyp_emotion[j] for j in i], [p.ref_emotion[j] for j in i]),
               "ccc_mean": lambda i: audmetric.concordance_cc(p.ref_vad[i, 0], p.hyp_vad[i, 0]) / 3
               + audmetric.concordance_cc(p.ref_vad[i, 1], p.hyp_vad[i, 1]) / 3 + audmetric.concordance_cc(p.ref_vad[i, 2], p.hyp_vad[i, 2]) / 3}
    for metric, fn in scorers.items():
        got = _metric_rows(metric, class_union(p), p, counts)
        assert got[0] == pytest.approx(fn(np.arange(60)), abs=1e-12), metric
        assert got[1] == pytest.approx(fn(idx), abs=1e-12), metric
    # NaN references are left out of a CCC resample, as by the scorer
    q = Paired(p.ids, p.ref_emotion, p.hyp_emotion, np.where(np.arange(60)[:, None] % 4 == 0, np.nan, p.ref_vad), p.hyp_vad, p.class_list)
    keep = idx[idx % 4 != 0]
    got = _metric_rows("ccc_valence", class_union(q), q, counts)
    assert got[1] == pytest.approx(audmetric.concordance_cc(p.ref_vad[keep, 0], p.hyp_vad[keep, 0]), abs=1e-12)
    # one item drawn 60 times: constant sides, CCC 0 (different values) or undefined (equal values)
    one = np.zeros((1, 60), np.uint8)
    one[0, 7] = 60
    assert _metric_rows("ccc_valence", class_union(p), p, one)[0] == pytest.approx(ccc([p.hyp_vad[7, 0]] * 60, [p.ref_vad[7, 0]] * 60), abs=1e-12)
    same = Paired(p.ids, p.ref_emotion, p.hyp_emotion, p.ref_vad, p.ref_vad.copy(), p.class_list)
    assert np.isnan(_metric_rows("ccc_valence", class_union(same), same, one)[0])


@pytest.mark.parametrize("metric", ["ua", "f1_macro", "ccc_mean"])
def test_bootstrap_reproducible_detects_planted_difference_and_not_identity(metric):
    weak = _paired(1, acc=0.3, noise=0.35)
    strong = Paired(weak.ids, weak.ref_emotion, [r for r in weak.ref_emotion], weak.ref_vad,
                    np.clip(weak.ref_vad + np.random.default_rng(2).normal(0, 0.05, weak.ref_vad.shape), 0, 1), weak.class_list)
    a = paired_bootstrap(weak, strong, metric, n_boot=300, seed=7)
    assert a == paired_bootstrap(weak, strong, metric, n_boot=300, seed=7)
    assert a["delta"] > 0 and a["ci_low"] > 0 and a["p"] == pytest.approx(2 / 301)
    same = paired_bootstrap(weak, weak, metric, n_boot=300, seed=7)
    assert same["delta"] == 0 and same["p"] == 1.0


def test_fold_test():
    r = paired_fold_test([0.50, 0.60, 0.55, 0.52, 0.58], [0.61, 0.70, 0.67, 0.62, 0.70])
    # by hand: d = .11 .10 .12 .10 .12, mean .11, sd .01, t = .11 / (.01 / sqrt 5) = 24.6, 4 df -> p = 1.6e-5
    assert r["delta"] == pytest.approx(0.11) and r["p"] == pytest.approx(1.6e-5, rel=0.05)
    assert paired_fold_test([0.5, 0.6, 0.55], [0.52, 0.58, 0.56])["p"] > 0.05
    # undefined cases: no p, no mark, the reason said
    same = paired_fold_test([0.5, 0.6, 0.55], [0.5, 0.6, 0.55])
    shifted = paired_fold_test([0.5, 0.6, 0.55], [0.6, 0.7, 0.65])
    one = paired_fold_test([0.5], [0.7])
    for r, why in ((same, "zero variance"), (shifted, "zero variance"), (one, "fewer than 2")):
        assert np.isnan(r["p"]) and why in r["note"]
    assert mark_family([same, shifted, one]) == [False, False, False]


def test_bootstrap_p_hand_computed():
    # +1 correction: p = 2 * min(1 + #(d <= 0), 1 + #(d >= 0)) / (B + 1)
    assert bootstrap_p([0.1, 0.2, 0.3, 0.4]) == pytest.approx(2 * 1 / 5)            # all positive: the smallest p
    assert bootstrap_p([-0.1, 0.2, 0.3, 0.4, 0.1, 0.2, 0.05, 0.3, 0.2]) == pytest.approx(2 * 2 / 10)
    assert bootstrap_p([0.0, 0.1, -0.1]) == 1.0                                        # 2 * 3 / 4, capped
    assert bootstrap_p([0.0] * 7) == 1.0
    assert np.isnan(bootstrap_p([np.nan, np.nan]))


def test_bootstrap_all_resampled_differences_positive_gives_the_smallest_p():
    ref = ["neutral", "angry"] * 10
    wrong = Paired([f"u{i}" for i in range(20)], ref, ["angry", "neutral"] * 10, None, None, ["neutral", "angry"])
    right = Paired(wrong.ids, ref, list(ref), None, None, ["neutral", "angry"])
    r = paired_bootstrap(wrong, right, "ua", n_boot=999, seed=3)
    # UA(right) - UA(wrong) = 1 on every resample (a resample with one class still scores 1 - 0)
    assert r["delta"] == 1.0 and r["ci_low"] == 1.0 and r["p"] == pytest.approx(2 / 1000) and r["p"] > 0


def test_fold_stratified_bootstrap_equals_a_literal_loop_over_folds():
    folds_a = [_paired(10 + k, n=30 + 5 * k, acc=0.4, noise=0.3) for k in range(3)]
    folds_b = [Paired(p.ids, p.ref_emotion, [r if i % 3 else h for i, (r, h) in enumerate(zip(p.ref_emotion, p.hyp_emotion))],
                      p.ref_vad, np.clip(p.ref_vad + 0.15, 0, 1), p.class_list) for p in folds_a]
    for metric, fn in (("ua", lambda p, i: unweighted_accuracy([p.hyp_emotion[j] for j in i], [p.ref_emotion[j] for j in i])),
                       ("ccc_mean", lambda p, i: ccc_scores(p.hyp_vad[i], p.ref_vad[i])["ccc_mean"])):
        got = paired_bootstrap(folds_a, folds_b, metric, n_boot=60, seed=5)
        rng = np.random.default_rng(5)
        deltas = []
        for _ in range(60):
            idx = [rng.integers(0, len(p.ids), size=len(p.ids)) for p in folds_a]
            deltas.append(np.mean([fn(b, i) for b, i in zip(folds_b, idx)]) - np.mean([fn(a, i) for a, i in zip(folds_a, idx)]))
        full = [np.arange(len(p.ids)) for p in folds_a]
        observed = np.mean([fn(b, i) for b, i in zip(folds_b, full)]) - np.mean([fn(a, i) for a, i in zip(folds_a, full)])
        assert got["delta"] == pytest.approx(observed)
        assert got["ci_low"] == pytest.approx(np.percentile(deltas, 2.5)) and got["ci_high"] == pytest.approx(np.percentile(deltas, 97.5))
        n_le, n_ge = sum(d <= 0 for d in deltas), sum(d >= 0 for d in deltas)
        assert got["p"] == pytest.approx(min(1.0, 2 * min(1 + n_le, 1 + n_ge) / 61))


def test_paired_comparison_uses_the_union_of_class_lists():
    ids = ["u0", "u1", "u2", "u3"]
    a = Paired(ids, ["sad", "sad", "happy", "neutral"], ["neutral", "sad", "happy", "neutral"], None, None, ["neutral", "sad", "happy"])
    b = Paired(ids, a.ref_emotion, ["disgust", "sad", "happy", "neutral"], None, None, ["neutral", "sad", "happy", "disgust"])
    assert set(class_union(a, b)) == {"neutral", "sad", "happy", "disgust"}
    r = paired_bootstrap(a, b, "f1_macro", n_boot=20)
    # F1 by hand: a: neutral 2/3, sad 2/3, happy 1 -> 7/9; b: neutral 1, sad 2/3, happy 1, disgust 0 -> 2/3
    assert r["delta"] == pytest.approx(2 / 3 - 7 / 9)


def test_multiple_comparison_corrections_hand_computed():
    p = [0.01, 0.04, 0.03, 0.005, np.nan]
    # Holm: sorted .005 .01 .03 .04 times 4 3 2 1 = .02 .03 .06 .04, running max -> .02 .03 .06 .06
    assert np.allclose(adjust(p, "holm")[:4], [0.03, 0.06, 0.06, 0.02]) and np.isnan(adjust(p, "holm")[4])
    # BH: times 4/1 4/2 4/3 4/4 = .02 .02 .04 .04, running min from the top
    assert np.allclose(adjust(p, "bh")[:4], [0.02, 0.04, 0.04, 0.02])
    assert np.allclose(adjust(p, "none")[:4], p[:4])
    # a mark the correction removes is not shown: 0.04 and 0.03 pass alone, not under Holm
    results = [{"p": x} for x in p[:4]]
    assert mark_family(results, "none") == [True, True, True, True]
    assert mark_family(results, "holm") == [True, False, False, True]
    assert mark_family(results, "bh") == [True, True, True, True]
    with pytest.raises(ValueError, match="unknown correction"):
        adjust(p, "bonferonni")


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
    kr = [r for r in p.ref_emotion if r]
    recall = audmetric.recall_per_class(kr, [h for h, r in zip(p.hyp_emotion, p.ref_emotion) if r])
    assert m["ua"] == pytest.approx(np.mean([recall[c] for c in set(kr)]))
    assert m["n_emotion"] == sum(r is not None for r in p.ref_emotion) < 15
    # a V/A/D-only model: no class metrics, and the report says so
    write_predictions(Predictions(ids, None, None, pred.vad), tmp_path / "hyp_c")
    res_c = score(data, tmp_path / "hyp_c")
    assert "ua" not in res_c["metrics"] and res_c["not_scored"] == ["emotion"]
    # one utterance short: an error listing it
    write_predictions(Predictions(ids[1:], list(CLASSES), probs[1:], None), tmp_path / "short")
    with pytest.raises(ValueError, match=f"1 missing from the predictions.*{ids[0]}"):
        score(data, tmp_path / "short")
