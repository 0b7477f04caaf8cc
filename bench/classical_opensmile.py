"""The field's classical references on a manifest: openSMILE functionals + scikit-learn, leave-one-speaker-out.

    python bench/classical_opensmile.py MANIFEST_CSV [--folds DIR] [--cache DIR] [--speaker_norm features|none] [--seed N]

Features per five-class utterance: openSMILE's eGeMAPSv02 (88), ComParE_2016 (6,373) and emobase (988)
functionals (the ``opensmile`` package, audEERING's). ``--speaker_norm features`` (default) z-scores every feature
per speaker over that speaker's five-class utterances, test speakers included and without their labels:
the transductive normalisation our ``normalize: speaker_mvn`` uses. Then, per test speaker:

* eGeMAPSv02 + SVM (RBF and linear kernels; as nkululeko runs it: StandardScaler, ``SVC``);
* ComParE_2016 + logistic regression;
* emobase + SVM (RBF kernel);
* ComParE_2016 + SVM (RBF kernel);
* late fusions: the tuned systems' class probabilities averaged (an SVM's from Platt scaling), the
  eGeMAPS SVM with the ComParE logistic regression, those two with the emobase SVM, and the three RBF SVMs;
  each fusion also with the balanced decision (its averaged probabilities divided by the fold's training class
  frequencies, the rule for unweighted accuracy that the CPU config's ``prior_correction`` uses);

each with C chosen by an inner leave-one-speaker-out search over the training speakers only
(``GridSearchCV`` with ``LeaveOneGroupOut``, balanced accuracy), the test speaker never seen. ``--folds
DIR`` trains each fold on a recipe's ``DIR/fold{k}/train`` (without the fold's dev speaker: the data our
models train on). Prints one JSON line per system with the pooled UA (balanced accuracy of all
folds' predictions pooled) and the fold mean.
"""

import argparse
import csv
import json
import os
import platform
import time
import warnings

import numpy as np

from bench.common import fold_training_mask  # noqa: E402


def functionals(paths, feature_set: str, cache: str) -> np.ndarray:
    """(N, D) openSMILE functionals of ``paths`` (cached in ``cache`` by feature set and path list)."""
    import hashlib

    import opensmile
    import soundfile as sf

    key = hashlib.sha256(("\n".join(paths) + feature_set + opensmile.__version__).encode()).hexdigest()[:16]
    path = os.path.join(cache, f"{feature_set}_{key}.npy")
    if os.path.exists(path):
        return np.load(path)
    smile = opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, feature_set),
                            feature_level=opensmile.FeatureLevel.Functionals)
    rows = []
    for p in paths:
        y, sr = sf.read(p, dtype="float32")
        rows.append(smile.process_signal(y, sr).to_numpy(np.float32)[0])
    X = np.nan_to_num(np.stack(rows))
    os.makedirs(cache, exist_ok=True)
    np.save(path, X)
    return X


def speaker_z(X: np.ndarray, spk: np.ndarray) -> np.ndarray:
    X = X.copy()
    for s in set(spk):
        m = spk == s
        X[m] = (X[m] - X[m].mean(0)) / (X[m].std(0) + 1e-8)
    return X


#: the classical late fusions: name -> the systems whose class probabilities it averages
FUSIONS = {
    "fusion: eGeMAPSv02 SVM (rbf) + ComParE_2016 LR, probabilities averaged":
        ("eGeMAPSv02 + SVM (rbf)", "ComParE_2016 + logistic regression"),
    "fusion: eGeMAPSv02 SVM (rbf) + ComParE_2016 LR + emobase SVM (rbf), probabilities averaged":
        ("eGeMAPSv02 + SVM (rbf)", "ComParE_2016 + logistic regression", "emobase + SVM (rbf)"),
    "fusion: eGeMAPSv02 + ComParE_2016 + emobase RBF SVMs, probabilities averaged":
        ("eGeMAPSv02 + SVM (rbf)", "ComParE_2016 + SVM (rbf)", "emobase + SVM (rbf)"),
}
FUSED = {n for members in FUSIONS.values() for n in members}


def systems(seed: int = 0):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    cs = [1e-3, 1e-2, 1e-1, 1, 10]
    return {
        # probability=True fits Platt scaling for the fusion; SVC.predict still uses the decision function
        "eGeMAPSv02 + SVM (rbf)": ("eGeMAPSv02", make_pipeline(StandardScaler(), SVC(kernel="rbf", probability=True, random_state=seed)),
                                   {"svc__C": cs[1:]}),
        "eGeMAPSv02 + SVM (linear)": ("eGeMAPSv02", make_pipeline(StandardScaler(), SVC(kernel="linear")), {"svc__C": cs}),
        "ComParE_2016 + logistic regression": ("ComParE_2016", make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)),
                                               {"logisticregression__C": cs}),
        "emobase + SVM (rbf)": ("emobase", make_pipeline(StandardScaler(), SVC(kernel="rbf", probability=True, random_state=seed)),
                                {"svc__C": cs[1:]}),
        # C up to 100: with a grid ending at 10 the search picked that top in every fold; it still picks 10
        "ComParE_2016 + SVM (rbf)": ("ComParE_2016", make_pipeline(StandardScaler(), SVC(kernel="rbf", probability=True, random_state=seed)),
                                     {"svc__C": cs[2:] + [100]}),
    }


def main(argv=None) -> None:
    from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("manifest")
    p.add_argument("--folds", default=None, metavar="DIR", help="a recipe's prepared dir with fold{k}/train/utt2spk")
    p.add_argument("--cache", default="/tmp/espnet_ser_opensmile_cache")
    p.add_argument("--speaker_norm", default="features", choices=("features", "none"))
    p.add_argument("--systems", nargs="*", default=None, help="names of the systems to run (default: all)")
    p.add_argument("--seed", type=int, default=0,
                   help="the SVMs' random_state: the seed of the internal cross-validation of their Platt scaling "
                        "(their probabilities, which the fusions average)")
    a = p.parse_args(argv)
    warnings.filterwarnings("ignore")
    root = os.path.dirname(os.path.abspath(a.manifest))
    with open(a.manifest, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["emotion"]]
    paths = [os.path.join(root, r["path"]) for r in rows]
    y = np.array([r["emotion"] for r in rows])
    spk = np.array([r["speaker"] for r in rows])
    ids = np.array([r["utt_id"] for r in rows])
    feats, probs = {}, {}
    for name, (fset, model, grid) in systems(a.seed).items():
        if a.systems and name not in a.systems and not any(f in a.systems and name in m for f, m in FUSIONS.items()):
            continue
        if fset not in feats:
            X = functionals(paths, fset, a.cache)
            feats[fset] = speaker_z(X, spk) if a.speaker_norm == "features" else X
        X = feats[fset]
        start = time.time()
        pred, prob, classes, priors = np.empty_like(y), {}, None, {}
        for k, s in enumerate(sorted(set(spk))):
            train = fold_training_mask(a.folds, k + 1, ids, spk, s)  # the fold's utterances (ids as in the manifest)
            search = GridSearchCV(model, grid, cv=LeaveOneGroupOut(), scoring="balanced_accuracy", n_jobs=1)
            search.fit(X[train], y[train], groups=spk[train])
            pred[spk == s] = search.predict(X[spk == s])
            if name in FUSED:
                prob[s], classes = search.predict_proba(X[spk == s]), list(search.classes_)
                priors[s] = np.array([np.mean(y[train] == c) for c in classes])
        probs[name] = (prob, classes, priors)
        report(a, name, y, spk, pred, start)
    for fusion, members in FUSIONS.items():
        if a.systems and fusion not in a.systems:
            continue
        # a classical late fusion: the systems' class probabilities averaged (each tuned as above)
        classes = probs[members[0]][1]
        assert all(probs[n][1] == classes for n in members)
        pred, balanced = np.empty_like(y), np.empty_like(y)
        for s in probs[members[0]][0]:
            mean = np.mean([probs[n][0][s] for n in members], 0)
            pred[spk == s] = np.array(classes)[mean.argmax(1)]
            balanced[spk == s] = np.array(classes)[(mean / probs[members[0]][2][s]).argmax(1)]
        report(a, fusion, y, spk, pred, time.time())
        report(a, fusion + ", balanced decision", y, spk, balanced, time.time())


def report(a, name, y, spk, pred, start) -> None:
    from sklearn.metrics import balanced_accuracy_score

    fold_ua = [balanced_accuracy_score(y[spk == s], pred[spk == s]) for s in sorted(set(spk))]
    print(json.dumps({"manifest": a.manifest, "system": name, "speaker_norm": a.speaker_norm,
                      "folds": a.folds or "all other speakers", "seed": a.seed, "pooled_ua": round(balanced_accuracy_score(y, pred), 3),
                      "fold_mean_ua": round(float(np.mean(fold_ua)), 3), "seconds": round(time.time() - start, 1),
                      "machine": platform.processor() or platform.machine(), "date": time.strftime("%Y-%m-%d")}),
          flush=True)


if __name__ == "__main__":
    main()
