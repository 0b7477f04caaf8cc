"""The classical leave-one-speaker-out reference of a manifest, with and without speaker normalisation.

    python bench/classical_reference.py MANIFEST_CSV [--speaker_norm none|features|frames] [--folds DIR]

Features per utterance (the shared data's ``classical_baseline.py`` reference): 64-band log-mel
(n_fft 400, hop 160 at 16 kHz, ``librosa.power_to_db``) -> per-band mean, std, and std of the first time
difference (192 values); StandardScaler on the training speakers, LogisticRegression(C=0.1). Rows
without an emotion are not classified. ``--speaker_norm`` gives the reference what our small-corpus
config has, each speaker's own statistics, over that speaker's five-class utterances:

* ``features``: the 192 utterance features standardised per speaker;
* ``frames``: each log-mel band standardised per speaker over its frames before pooling (our
  ``normalize: speaker_mvn``).

``--folds DIR`` trains each fold on the speakers of a recipe's ``DIR/fold{k}/train`` (e.g. the
recipe's ``data/emovo``: without the fold's dev speaker), the data our models train on; the test
speaker of ``fold{k}`` is the k-th in sorted order, as in the recipes. Prints the pooled UA.
"""

import argparse
import csv
import os
import warnings

import numpy as np

from bench.common import fold_training_mask  # noqa: E402


def logmel(path: str) -> np.ndarray:
    import librosa
    import soundfile as sf

    y, sr = sf.read(path, dtype="float32")
    if sr != 16000 or y.ndim != 1:
        raise SystemExit(f"{path}: expected 16 kHz mono, got {sr} Hz, shape {y.shape}")
    return librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, n_fft=400, hop_length=160, n_mels=64))


def pooled(lm: np.ndarray) -> np.ndarray:
    return np.concatenate([lm.mean(1), lm.std(1), np.diff(lm, axis=1).std(1)])


def main(argv=None) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.preprocessing import StandardScaler

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("manifest")
    p.add_argument("--speaker_norm", default="none", choices=("none", "features", "frames"))
    p.add_argument("--folds", default=None, metavar="DIR", help="a recipe's prepared dir with fold{k}/train/utt2spk")
    a = p.parse_args(argv)
    warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
    root = os.path.dirname(os.path.abspath(a.manifest))
    with open(a.manifest, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["emotion"]]
    mels = [logmel(os.path.join(root, r["path"])) for r in rows]
    y = np.array([r["emotion"] for r in rows])
    spk = np.array([r["speaker"] for r in rows])
    ids = np.array([r["utt_id"] for r in rows])
    if a.speaker_norm == "frames":
        for s in set(spk):
            frames = np.concatenate([m for m, k in zip(mels, spk) if k == s], axis=1)
            mu, sd = frames.mean(1, keepdims=True), frames.std(1, keepdims=True)
            mels = [(m - mu) / sd if k == s else m for m, k in zip(mels, spk)]
    X = np.stack([pooled(m) for m in mels])
    if a.speaker_norm == "features":
        for s in set(spk):
            X[spk == s] = (X[spk == s] - X[spk == s].mean(0)) / (X[spk == s].std(0) + 1e-8)
    speakers = sorted(set(spk))
    pred = np.empty_like(y)
    for k, s in enumerate(speakers):
        train = fold_training_mask(a.folds, k + 1, ids, spk, s)  # the fold's utterances (ids as in the manifest)
        scaler = StandardScaler().fit(X[train])
        clf = LogisticRegression(C=0.1, max_iter=2000).fit(scaler.transform(X[train]), y[train])
        pred[spk == s] = clf.predict(scaler.transform(X[spk == s]))
    print(f"{a.manifest}: speaker_norm {a.speaker_norm}, folds {a.folds or 'all other speakers'}: pooled UA {balanced_accuracy_score(y, pred):.3f}")


if __name__ == "__main__":
    main()
