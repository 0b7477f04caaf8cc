"""Conformal prediction sets and V/A/D intervals: hand-checked quantiles, the finite-sample coverage
guarantee on synthetic scores of known distribution, per-group coverage, and the CLI."""

import json

import numpy as np
import pytest

from espnet_ser.bin import ser_conformal
from espnet_ser.evaluation.scoring import Paired
from espnet_ser.inference.conformal import Conformal, calibrate, coverage_report
from espnet_ser.inference.predictions import Predictions, write_predictions
from helpers import CLASSES, make_data_dir

C5 = list(CLASSES)


def test_sets_and_intervals_hand_checked():
    # 19 calibration scores 0.05 .. 0.95; coverage 0.9 -> the ceil(20 * 0.9) = 18th smallest, 0.90
    conf = Conformal(0.9, C5, np.arange(1, 20) / 20, {"valence": np.arange(1, 20) / 100})
    assert conf.class_threshold() == pytest.approx(0.90)
    # class scores 1 - p = .5 .7 .88 .92 1.0: the first three are <= .90
    sets = conformal_sets = conf.prediction_sets(np.array([[0.5, 0.3, 0.12, 0.08, 0.0]]))
    assert conformal_sets.tolist() == [[True, True, True, False, False]] and sets.dtype == bool
    # errors .01 .. .19 -> the 18th smallest, .18: v -/+ .18, clipped to the 0-1 scale
    ints = conf.vad_intervals(np.array([[0.5, 0.5, 0.5], [0.1, 0.5, 0.5]]))
    assert ints[0, 0] == pytest.approx([0.32, 0.68]) and ints[1, 0] == pytest.approx([0.0, 0.28])
    assert np.isnan(ints[:, 1:]).all()  # no arousal/dominance calibration: no interval
    # too few calibration items for the target: every class, the whole scale, and said so
    few = Conformal(0.9, C5, np.array([0.1, 0.2, 0.3]), {"arousal": np.array([0.1, 0.2])})
    assert few.prediction_sets(np.full((1, 5), 0.2)).all() and few.too_few() == ["classes", "arousal"]
    assert few.vad_intervals(np.full((1, 3), 0.4))[0, 1].tolist() == [0.0, 1.0]


@pytest.mark.parametrize("coverage", [0.9, 0.8])
def test_coverage_within_the_finite_sample_bound(coverage):
    """A calibrated model (true classes drawn from its own probabilities) and Gaussian V/A/D errors:
    calibration and test items exchangeable. With n = 99 calibration items and (n + 1)(1 - a) an
    integer, the coverage of one calibration is Beta(k, n + 1 - k), k = (n + 1) coverage: mean exactly
    the target, never below it in expectation and below target + 1 / (n + 1)."""
    rng = np.random.default_rng(0)
    n_cal, n_test, reps = 99, 200, 300
    cls_cov, vad_cov, sizes = [], [], []
    for _ in range(reps):
        def draw(n):
            probs = rng.dirichlet(np.full(5, 0.7), n)
            truth = np.array([rng.choice(5, p=p) for p in probs])
            ref_vad = rng.uniform(0.2, 0.8, (n, 3))
            hyp_vad = ref_vad + rng.normal(0, 0.1, (n, 3))
            ids = [f"u{i}" for i in range(n)]
            return Paired(ids, [C5[t] for t in truth], [C5[int(np.argmax(p))] for p in probs], ref_vad, hyp_vad, C5,
                          hyp_probs=probs)
        conf = calibrate(draw(n_cal), coverage)
        test = draw(n_test)
        g = coverage_report(test, conf)["groups"]["all"]
        cls_cov.append(g["class_coverage"])
        vad_cov.append(g["valence_coverage"])
        sizes.append(g["mean_set_size"])
    k = round((n_cal + 1) * coverage)
    sd = np.sqrt(k * (n_cal + 1 - k) / ((n_cal + 1) ** 2 * (n_cal + 2)))  # Beta(k, n + 1 - k)'s sd
    se = np.sqrt(sd ** 2 + coverage * (1 - coverage) / n_test) / np.sqrt(reps)
    for got in (np.mean(cls_cov), np.mean(vad_cov)):
        assert coverage - 4 * se <= got <= coverage + 1 / (n_cal + 1) + 4 * se, (got, se)
    # the sets are informative: fewer classes than all five on average, more than one at 90 %
    assert 1 < np.mean(sizes) < 5
    # the spread of one calibration's coverage is the Beta's
    assert np.std(cls_cov) == pytest.approx(np.sqrt(sd ** 2 + coverage * (1 - coverage) / n_test), rel=0.25)


def test_coverage_per_group_hand_checked():
    conf = Conformal(0.9, C5, np.arange(1, 20) / 20, {"valence": np.arange(1, 20) / 100})  # thresholds .90 / .18
    probs = np.array([[0.9, 0.1, 0, 0, 0],      # set {neutral, angry}: truth neutral, covered
                      [0.9, 0.1, 0, 0, 0],      # truth happy (score 1.0): not covered
                      [0.2, 0.2, 0.2, 0.2, 0.2],  # scores .8: all five in the set: covered
                      [0.05, 0.95, 0, 0, 0]])   # set {angry}: truth angry, covered
    ref_vad = np.array([[0.5, np.nan, np.nan], [0.9, np.nan, np.nan], [0.5, np.nan, np.nan], [np.nan] * 3])
    hyp_vad = np.full((4, 3), 0.5)
    p = Paired(["a", "b", "c", "d"], ["neutral", "happy", "sad", "angry"], None, ref_vad, hyp_vad, C5, hyp_probs=probs)
    r = coverage_report(p, conf, {"speaker": {"a": "s1", "b": "s1", "c": "s2", "d": "s2"}})["groups"]
    assert r["all"]["class_coverage"] == 0.75 and r["all"]["mean_set_size"] == pytest.approx((2 + 2 + 5 + 1) / 4)
    assert r["speaker=s1"]["class_coverage"] == 0.5 and r["speaker=s2"]["class_coverage"] == 1.0
    # valence: intervals .32-.68; truths .5 (in), .9 (out), .5 (in); d has none
    assert r["all"]["valence_n"] == 3 and r["all"]["valence_coverage"] == pytest.approx(2 / 3)
    assert r["speaker=s1"]["valence_coverage"] == 0.5 and r["all"]["valence_mean_width"] == pytest.approx(0.36)


def test_cli_calibrates_on_dev_writes_sets_and_reports_groups(tmp_path, capsys):
    def preds(data, seed):
        ids = sorted(line.split()[0] for line in (data / "wav.scp").read_text().splitlines())
        emo = dict(line.split() for line in (data / "emotion").read_text().splitlines())
        rng = np.random.default_rng(seed)
        logits = rng.normal(0, 1, (len(ids), 5)) + 2 * np.eye(5)[[C5.index(emo[u]) for u in ids]]
        probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        write_predictions(Predictions(ids, C5, probs, rng.uniform(0, 1, (len(ids), 3))), tmp_path / f"hyp{seed}")
        return tmp_path / f"hyp{seed}"

    dev = make_data_dir(tmp_path / "dev", n=40, seed=1, prefix="dv")
    test = make_data_dir(tmp_path / "test", n=15, seed=2, prefix="te")
    out = tmp_path / "conf"
    assert ser_conformal.main(["--cal_ref", str(dev), "--cal_hyp", str(preds(dev, 1)), "--ref", str(test), "--hyp",
                               str(preds(test, 2)), "--out", str(out), "--coverage", "0.8",
                               "--group", f"speaker={test / 'utt2spk'}"]) == 0
    report = json.loads((out / "coverage.json").read_text())
    assert report["target_coverage"] == 0.8 and {"all", "speaker=spk0", "speaker=spk1", "speaker=spk2"} == set(report["groups"])
    assert sum(report["groups"][f"speaker=spk{i}"]["n"] for i in range(3)) == report["groups"]["all"]["n"] == 15
    sets = [line.split() for line in (out / "pred_set").read_text().splitlines()]
    assert len(sets) == 15 and all(set(s[1:]) <= set(C5) for s in sets)
    assert all(len(line.split()) == 7 for line in (out / "vad_interval").read_text().splitlines())
    # the stored calibration applied again gives the same sets
    again = tmp_path / "again"
    assert ser_conformal.main(["--calibration", str(out / "conformal.json"), "--hyp", str(tmp_path / "hyp2"), "--out", str(again)]) == 0
    assert (again / "pred_set").read_text() == (out / "pred_set").read_text()
    assert "Conformal coverage (target 0.80)" in capsys.readouterr().out


def test_ser_score_reports_the_coverage_of_a_calibration(tmp_path, capsys):
    from espnet_ser.bin import ser_score

    test = make_data_dir(tmp_path / "test", n=10, seed=2, prefix="te")
    ids = sorted(line.split()[0] for line in (test / "wav.scp").read_text().splitlines())
    probs = np.tile([[0.9, 0.1, 0.0, 0.0, 0.0]], (len(ids), 1))  # every set {neutral, angry} under the calibration below
    write_predictions(Predictions(ids, C5, probs, np.full((len(ids), 3), 0.5)), tmp_path / "hyp")
    Conformal(0.9, C5, np.arange(1, 20) / 20, {}).save(tmp_path / "cal.json")
    assert ser_score.main(["--ref", str(test), "--hyp", str(tmp_path / "hyp"), "--out", str(tmp_path / "s"),
                           "--conformal", str(tmp_path / "cal.json"), "--group", f"speaker={test / 'utt2spk'}"]) == 0
    got = json.loads((tmp_path / "s" / "scores.json").read_text())["conformal"]["groups"]
    emo = dict(line.split() for line in (test / "emotion").read_text().splitlines())
    want = np.mean([emo[u] in ("neutral", "angry") for u in ids])          # covered: truth in {neutral, angry}
    assert got["all"]["class_coverage"] == pytest.approx(want) and got["all"]["mean_set_size"] == 2.0
    assert "Conformal coverage (target 0.90)" in (tmp_path / "s" / "scores.md").read_text()
