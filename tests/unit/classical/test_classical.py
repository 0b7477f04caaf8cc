"""The classical system (espnet_ser.classical): each estimator against scikit-learn or its formula, the system
against scikit-learn run by hand on openSMILE's own features, classes it never saw, its config and its file."""

import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from helpers import cli, make_data_dir, one_line_error
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.preprocessing import StandardScaler

from espnet_ser.classical.estimators import KernelRidgeClassifier, ShrinkageLDA
from espnet_ser.classical.system import ClassicalSystem, Member
from espnet_ser.labels import read_table

CLASSES = ["neutral", "angry", "happy", "sad", "disgust"]


def blobs(n_per_class=12, d=6, classes=("a", "b", "c"), seed=0):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(k, 1.0, size=(n_per_class, d)) for k in range(len(classes))])
    y = np.repeat(np.array(classes), n_per_class)
    return x, y


def test_shrinkage_lda_scores_as_scikit_learns_lsqr_lda():
    """Woodbury in the row space: the same scores as scikit-learn's LDA (solver lsqr, fixed shrinkage), here with
    more features than rows (d > m, where the row-space solve is the point)."""
    x, y = blobs(n_per_class=5, d=40, seed=1)
    for s in (0.1, 0.5, 0.9):
        ref = LinearDiscriminantAnalysis(solver="lsqr", shrinkage=s).fit(x, y)
        ours = ShrinkageLDA(shrinkage=s, temperature=1.0).fit(x, y)
        q = np.random.default_rng(2).normal(1.0, 2.0, size=(7, 40))
        assert np.allclose(ours.decision_function(q), ref.decision_function(q), rtol=1e-6, atol=1e-6)
        assert (ours.predict(q) == ref.predict(q)).all()


def test_kernel_ridge_classifier_is_the_closed_form_of_its_doc():
    """scores = k(x, X) (K + alpha I)^-1 (Y - mean Y) + mean Y, k(a, b) = exp(-gamma |a - b|^2), gamma = scale / d;
    probabilities softmax(temperature * scores), written out with numpy."""
    x, y = blobs(n_per_class=6, d=4, seed=3)
    alpha, scale, temp = 0.5, 0.3, 4.0
    clf = KernelRidgeClassifier(alpha=alpha, gamma_scale=scale, temperature=temp).fit(x, y)
    q = np.random.default_rng(4).normal(1.0, 1.0, size=(5, 4))
    onehot = (y[:, None] == np.array(["a", "b", "c"])[None]).astype(float)
    k = lambda a, b: np.exp(-(scale / 4) * ((a[:, None] - b[None]) ** 2).sum(-1))  # noqa: E731
    scores = k(q, x) @ np.linalg.solve(k(x, x) + alpha * np.eye(len(x)), onehot - onehot.mean(0)) + onehot.mean(0)
    e = np.exp(temp * scores)
    assert np.allclose(clf.predict_proba(q), e / e.sum(1, keepdims=True), atol=1e-8)


def test_a_class_absent_from_training_gets_probability_zero_and_is_never_predicted():
    """Four of five classes in the training rows: every member and the fused system (with and without the prior
    correction, either rule) give the fifth exactly 0; the other classes' probabilities sum to 1."""
    x, y = blobs(n_per_class=10, d=5, classes=("neutral", "angry", "happy", "sad"), seed=5)
    feats = [row[None] for row in x]
    spk = [f"s{i % 3}" for i in range(len(x))]
    members = [Member("lr", "set", 0.0, "logistic_regression"), Member("ridge", "set", 0.0, "kernel_ridge"),
               Member("lda", "set", 0.0, "lda")]
    for rule in ("mean", "product"):
        for prior in (True, False):
            system = ClassicalSystem(members, [("set", 0.0, 0, 5)], CLASSES, rule, prior).fit(feats, list(y), spk)
            q = [r[None] for r in np.random.default_rng(6).normal(8.0, 1.0, size=(6, 5))]  # far from every class
            for name, p in system.member_probs(q, ["t"] * 6).items():
                assert (p[:, 4] == 0).all() and np.allclose(p.sum(1), 1), name
            p = system.predict_proba(q, ["t"] * 6)
            assert (p[:, 4] == 0).all() and np.allclose(p.sum(1), 1)
            assert "disgust" not in set(system.predict(q, ["t"] * 6))


@pytest.fixture(scope="module")
def compare_caches(tmp_path_factory):
    """ComParE_2016 functionals of a training set (3 speakers) and a test set, cached by stage 4's extractor."""
    from espnet_ser.bin.extract_feats import main as extract

    root = tmp_path_factory.mktemp("compare")
    conf = {"system": "classical", "frontend": "opensmile",
            "frontend_conf": {"feature_set": ["ComParE_2016"], "feature_level": "functionals", "fs": 16000},
            "class_list": CLASSES, "fusion": "product", "prior_correction": False,
            "members": [{"name": "compare_lr", "features": "ComParE_2016", "view": 0, "estimator": "logistic_regression",
                         "params": {"C": 0.5, "max_iter": 3000, "class_weight": "balanced"}}]}
    (root / "conf.yaml").write_text(yaml.safe_dump(conf))
    dirs = {}
    for name, n, seed in (("train", 30, 0), ("test", 15, 1)):
        data = make_data_dir(root / name, n=n, seed=seed, prefix=name[:2], dur=(1.0, 1.5))
        assert extract(["--config", str(root / "conf.yaml"), "--data_dir", str(data), "--out_dir", str(root / f"feats_{name}")]) == 0
        dirs[name] = (data, root / f"feats_{name}")
    return root, dirs


def speaker_z_by_hand(rows: dict, utt2spk: dict, ids) -> np.ndarray:
    """Each speaker's rows standardised with scikit-learn's StandardScaler fitted on that speaker's rows."""
    x = np.stack([rows[u] for u in ids])
    spk = np.array([utt2spk[u] for u in ids])
    out = np.empty_like(x)
    for s in set(spk):
        out[spk == s] = StandardScaler().fit_transform(x[spk == s])
    return out


def test_compare_logistic_regression_equals_scikit_learn_by_hand(compare_caches, capsys):
    """The acceptance: ``classical fit`` / ``predict`` with one member (ComParE_2016 whole-utterance functionals,
    logistic regression) predicts what scikit-learn does when run by hand on openSMILE's own functionals
    (``opensmile.Smile.process_file``), each speaker z-scored with StandardScaler on its own utterances."""
    import opensmile
    from sklearn.linear_model import LogisticRegression

    from espnet_ser.bin import classical
    from espnet_ser.inference.predictions import read_predictions

    root, dirs = compare_caches
    rc, out, err = cli(classical, capsys, "fit", "--config", root / "conf.yaml", "--train", dirs["train"][1], "--out", root / "exp")
    assert rc == 0, err
    rc, out, err = cli(classical, capsys, "predict", "--model", root / "exp", "--feats", dirs["test"][1], "--out", root / "hyp")
    assert rc == 0, err
    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.ComParE_2016, feature_level=opensmile.FeatureLevel.Functionals)
    by_hand = {}
    for name, (data, _) in dirs.items():
        wav = read_table(data / "wav.scp")
        rows = {u: np.nan_to_num(smile.process_file(p).to_numpy(np.float64)[0]) for u, p in wav.items()}
        ids = sorted(wav)
        by_hand[name] = (ids, speaker_z_by_hand(rows, read_table(data / "utt2spk"), ids),
                         [read_table(data / "emotion")[u] for u in ids])
    (_, x_tr, y_tr), (te_ids, x_te, _) = by_hand["train"], by_hand["test"]
    lr = LogisticRegression(C=0.5, max_iter=3000, class_weight="balanced").fit(x_tr, y_tr)
    hyp = read_predictions(root / "hyp")
    assert hyp.ids == te_ids
    assert hyp.emotion == list(lr.predict(x_te))
    # the distributions agree to a few thousandths (the cache stores float32 functionals; 6,373 of them move the
    # fitted weights a little)
    ref = lr.predict_proba(x_te)
    assert np.abs(hyp.probs[:, [CLASSES.index(c) for c in lr.classes_]] - ref).max() < 0.02
    # the member's own prediction dir holds the same distribution (one member: the fusion is that member)
    member = read_predictions(root / "hyp" / "members" / "compare_lr")
    assert np.allclose(member.probs, hyp.probs, atol=1e-6)


def test_classical_json_says_what_the_model_carries(compare_caches):
    import json

    root, dirs = compare_caches
    info = json.loads((root / "exp" / "classical.json").read_text())
    assert info["utterances"] == 30 and info["speakers"] == 3
    assert info["training_vectors"] == {"compare_lr": 30}  # one whole-utterance row per training utterance
    assert info["carried_vectors"] == {"compare_lr": 0}  # logistic regression keeps coefficients, no rows
    assert info["predictable_classes"] == CLASSES and info["class_counts"] == {c: 6 for c in CLASSES}


def test_a_crafted_model_file_is_refused_before_anything_in_it_is_built(tmp_path, capsys):
    """A skops file naming a type outside the classical system's own (here a function, ``os.system``, inside a
    scikit-learn transformer) is refused with one line naming the file: nothing in it is built or run."""
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    from espnet_ser.bin import classical

    exp = tmp_path / "exp"
    exp.mkdir()
    sio.dump(FunctionTransformer(func=os.system), exp / "model.skops")
    (exp / "config.yaml").write_text("system: classical\n")
    rc, _, err = cli(classical, capsys, "predict", "--model", exp, "--feats", tmp_path, "--out", tmp_path / "hyp")
    one_line_error(rc, err, str(exp / "model.skops"), "refused", "system")
    (exp / "model.skops").write_bytes(b"PK\x03\x04 not a zip")
    rc, _, err = cli(classical, capsys, "predict", "--model", exp, "--feats", tmp_path, "--out", tmp_path / "hyp")
    one_line_error(rc, err, str(exp / "model.skops"), "not a skops file")
    assert not (tmp_path / "hyp").exists()


BASE = {"system": "classical", "frontend": "opensmile",
        "frontend_conf": {"feature_set": ["eGeMAPSv02"], "feature_level": "functionals", "window": [0, 1.0]},
        "class_list": CLASSES, "members": [{"name": "m", "features": "eGeMAPSv02", "view": 0, "estimator": "svm"}]}


@pytest.mark.parametrize("change, fragments", [
    ({"members": [{"name": "m", "features": "eGeMAPSv02", "view": 0, "estimator": "random_forest"}]},
     ["members.0.estimator", "random_forest", "logistic_regression"]),
    ({"members": [{"name": "m", "features": "ComParE_2016", "view": 0, "estimator": "svm"}]},
     ["members.0.features/view", "ComParE_2016", "eGeMAPSv02 at view 1"]),
    ({"members": [{"name": "m", "features": "eGeMAPSv02", "view": 2.0, "estimator": "svm"}]},
     ["members.0.features/view", "view 2"]),
    ({"members": [{"name": "m", "features": "eGeMAPSv02", "view": 0, "estimator": "svm"}] * 2}, ["members", "named twice"]),
    ({"members": [{"name": "a/b", "features": "eGeMAPSv02", "view": 0, "estimator": "svm"}]}, ["members.0.name", "a/b"]),
    ({"fusion": "max"}, ["fusion", "max"]),
    ({"decoder": "baseline_d"}, ["decoder", "unknown key"]),
    ({"members": [{"name": "m", "features": "eGeMAPSv02", "view": 0, "estimator": "svm", "params": {"C": []}}]},
     ["members.0.params", "empty grid"]),
])
def test_a_wrong_config_is_one_line_naming_the_file_and_key(tmp_path, capsys, change, fragments):
    from espnet_ser.bin import classical

    (tmp_path / "c.yaml").write_text(yaml.safe_dump({**BASE, **change}))
    rc, _, err = cli(classical, capsys, "fit", "--config", tmp_path / "c.yaml", "--train", tmp_path, "--out", tmp_path / "exp")
    one_line_error(rc, err, str(tmp_path / "c.yaml"), *fragments)
    assert not (tmp_path / "exp").exists()


def test_a_cache_of_other_features_is_refused(compare_caches, tmp_path, capsys):
    from espnet_ser.bin import classical

    root, dirs = compare_caches
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(BASE))
    rc, _, err = cli(classical, capsys, "fit", "--config", tmp_path / "c.yaml", "--train", dirs["train"][1], "--out", tmp_path / "exp")
    one_line_error(rc, err, str(Path(dirs["train"][1]) / "cache_key.json"), "ComParE_2016")


def test_a_grid_is_searched_over_the_training_speakers():
    """A list in ``params`` is a grid: GridSearchCV with GroupKFold over the speakers picks from it (recorded in
    ``chosen_``) and the member is refitted on every row with that choice."""
    x, y = blobs(n_per_class=12, d=5, seed=7)
    feats = [r[None] for r in x]
    spk = [f"s{i % 4}" for i in range(len(x))]
    m = Member("lr", "set", 0.0, "logistic_regression", {"C": [1e-4, 1.0]})
    system = ClassicalSystem([m], [("set", 0.0, 0, 5)], ["a", "b", "c"], cv_folds=4).fit(feats, list(y), spk)
    assert system.chosen_["lr"]["C"] in (1e-4, 1.0)
    assert system.fitted_["lr"].get_params()["C"] == system.chosen_["lr"]["C"]
    with pytest.raises(ValueError, match="at least 2 training speakers"):
        ClassicalSystem([m], [("set", 0.0, 0, 5)], ["a", "b", "c"]).fit(feats, list(y), ["one"] * len(x))


def test_the_rows_a_member_carries_are_what_scikit_learn_keeps():
    """An SVM member carries its support vectors (those of scikit-learn's SVC fitted alone on the same rows with
    the same parameters), a kernel ridge member all its rows, logistic regression and LDA none."""
    from sklearn.svm import SVC

    x, y = blobs(n_per_class=15, d=4, seed=8)
    feats = [r[None] for r in x]
    members = [Member("svm", "set", 0.0, "svm"), Member("ridge", "set", 0.0, "kernel_ridge"),
               Member("lr", "set", 0.0, "logistic_regression"), Member("lda", "set", 0.0, "lda")]
    spk = [f"s{i % 3}" for i in range(len(x))]
    system = ClassicalSystem(members, [("set", 0.0, 0, 4)], ["a", "b", "c"]).fit(feats, list(y), spk)
    z = np.concatenate([StandardScaler().fit_transform(x[np.array(spk) == s]) for s in ("s0", "s1", "s2")])
    zy = np.concatenate([y[np.array(spk) == s] for s in ("s0", "s1", "s2")])
    svc = SVC(C=1.0, kernel="rbf", gamma="scale", class_weight="balanced").fit(z, zy)
    assert system.carried_rows_ == {"svm": len(svc.support_vectors_), "ridge": len(x), "lr": 0, "lda": 0}


def test_the_card_cannot_be_injected_through_names_and_paths():
    """An experiment tag or path with a newline, a heading or a script stays inside its line of MODEL_CARD.md."""
    from espnet_ser.evaluation.model_card import render_classical

    evil = "exp<script>alert(1)</script>\n# Injected heading"
    card = {"model": {"name": evil, "members": [{"name": "m", "features": "eGeMAPSv02", "view": 0, "estimator": "svm",
                                                 "chosen": None, "training_vectors": 3, "carried_vectors": 2}],
                      "fusion": "product", "prior_correction": True, "frontend": "opensmile {}", "class_list": ["a", "b"],
                      "predictable_classes": ["a", "b"], "carried_vectors": 2, "size_mb": 0.1,
                      "packed": {"created": "now", "source": "/x/`y`\n## Also injected"}},
            "training": {"recipe": "r", "fold": 1, "utterances": 3, "speakers": 2, "train": evil, "dev": "d",
                         "class_counts": {"a": 2, "b": 1}, "seed": 0, "git_commit": None}, "test": None}
    md = render_classical(card)
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert not [line for line in md.splitlines() if line.startswith("# Injected") or line.startswith("## Also")]
    assert md.startswith("# Model card: exp&lt;script&gt;alert(1)&lt;/script&gt; # Injected heading\n")
