"""The classical system: scikit-learn members on openSMILE functionals, fused (``python -m espnet_ser.bin.classical``).

A config (YAML) names the frontend whose cached features it reads, the classes, and its members as records::

    system: classical
    frontend: opensmile
    frontend_conf: {feature_set: [ComParE_2016, eGeMAPSv02], feature_level: functionals, window: [0, 1.0]}
    class_list: [neutral, angry, happy, sad, disgust]
    fusion: product            # mean | product (espnet_ser.fusion)
    prior_correction: true     # decisions as if the training classes were equally frequent
    members:
      - {name: compare_lr, features: ComParE_2016, view: 0, estimator: logistic_regression, params: {C: [0.001, 0.01]}}
      - {name: egemaps_ridge_1s, features: eGeMAPSv02, view: 1.0, estimator: kernel_ridge}

A member reads one feature set of one view from each utterance's cached frames (``view`` 0: the whole
utterance, one row; a window length: that view's windows, one row each, every one labelled with its
utterance's class). Each speaker's rows are z-scored with that speaker's own mean and standard deviation (a
test speaker's from its own test rows, no label read), the classical references' per-speaker
normalisation. The member's estimator (:data:`espnet_ser.classical.estimators.ESTIMATORS`) is fitted on the
rows; a ``params`` value that is a list is a grid, chosen by ``GridSearchCV`` with ``GroupKFold`` over the
training speakers (scored by unweighted accuracy). An utterance's distribution under a member is the
normalised mean of its rows' log-probabilities; the members' distributions are fused
(:func:`espnet_ser.fusion.fuse`) and, with ``prior_correction``, divided by the training classes'
frequencies. Classes no training utterance has get probability 0: a model never predicts them.
"""

import logging
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GridSearchCV, GroupKFold

from espnet_ser.classical.estimators import ESTIMATORS, carried_rows
from espnet_ser.fusion import fuse, prior_corrected

#: the variance floor of the per-speaker z-scores (a feature constant over a speaker's rows becomes 0)
EPS = 1e-12


@dataclass(frozen=True)
class Member:
    name: str
    features: str          # a feature set of the frontend
    view: float            # 0: the whole utterance; else a window length (s) of the frontend's views
    estimator: str         # a name of ESTIMATORS
    params: Dict = field(default_factory=dict)   # a list value: a grid searched over the training speakers
    max_rows: int = 0      # at most this many training rows (a seeded random subset); 0: all

    def grid(self) -> Dict[str, list]:
        return {k: v for k, v in self.params.items() if isinstance(v, list)}

    def fixed(self) -> Dict:
        return {k: v for k, v in self.params.items() if not isinstance(v, list)}


def view_rows(frames: np.ndarray, start: int, stop: int, view: float, shortest: float) -> np.ndarray:
    """One view's rows of one utterance's cached frames (T x D), columns ``start:stop``: the whole utterance's
    one row (view 0, repeated in every frame), every frame (the shortest window view, whose windows the frames
    are), or a longer view's distinct windows (a window nearest several frames is repeated in consecutive ones).

    >>> f = np.array([[9, 1, 5], [9, 2, 5], [9, 3, 6]], dtype=float)   # columns: whole | 1 s | 2 s
    >>> view_rows(f, 0, 1, 0, 1.0).tolist(), view_rows(f, 1, 2, 1.0, 1.0).tolist(), view_rows(f, 2, 3, 2.0, 1.0).tolist()
    ([[9.0]], [[1.0], [2.0], [3.0]], [[5.0], [6.0]])
    """
    x = np.asarray(frames[:, start:stop], dtype=np.float64)
    if not view:
        return x[:1]
    if view == shortest or len(x) < 2:
        return x
    keep = np.r_[True, np.any(x[1:] != x[:-1], axis=1)]
    return x[keep]


def speaker_z(rows: np.ndarray, speakers: Sequence[str]) -> Tuple[np.ndarray, List[str]]:
    """Each speaker's rows z-scored with that speaker's mean and population std (floored at sqrt(EPS)); also
    the speakers with a single row (their z-scores are all 0: nothing is left to classify).

    >>> z, single = speaker_z(np.array([[1.0], [3.0], [7.0]]), ["a", "a", "b"])
    >>> z.ravel().round(6).tolist(), single
    ([-1.0, 1.0, 0.0], ['b'])
    """
    out = np.empty_like(rows, dtype=np.float64)
    spk = np.asarray(speakers)
    single = []
    for s in dict.fromkeys(speakers):
        sel = spk == s
        x = rows[sel]
        if len(x) == 1:
            single.append(str(s))
        out[sel] = (x - x.mean(0)) / np.sqrt(x.var(0) + EPS)
    return out, single


def layout_of(frontend_conf: Dict) -> List[Tuple[str, float, int, int]]:
    """The (feature set, view, start, stop) columns of each set and view in a cached frame of ``frontend_conf``'s
    openSMILE frontend (:func:`espnet_ser.opensmile_views.layout_of`, what the frontend's ``layout`` is)."""
    from espnet_ser.opensmile_views import layout_of as columns_of

    return [(name, view, start, stop) for (name, view), (start, stop) in columns_of(frontend_conf).items()]


class ClassicalSystem(ClassifierMixin, BaseEstimator):
    """Members (:class:`Member`) over a frontend's column ``layout`` (``[(feature set, view, start, stop), ...]``:
    :func:`layout_of`),
    fused with ``fusion``; ``prior_correction`` as in the module doc; ``cv_folds`` speaker folds for the grids;
    ``seed`` for row subsets and the estimators' own randomness."""

    def __init__(self, members: Sequence[Member] = (), layout: Sequence[Tuple[str, float, int, int]] = (), class_list: Sequence[str] = (),
                 fusion: str = "product", prior_correction: bool = True, cv_folds: int = 3, seed: int = 0):
        self.members, self.layout, self.class_list = members, layout, class_list
        self.fusion, self.prior_correction, self.cv_folds, self.seed = fusion, prior_correction, cv_folds, seed

    # ------------------------------------------------------------------ rows
    def _rows(self, member: Member, feats: Sequence[np.ndarray], speakers: Sequence[str]):
        """(z-scored rows, their utterance indices, their speakers) of ``member`` over the utterances."""
        cols = {(name, float(view)): (start, stop) for name, view, start, stop in self.layout}
        start, stop = cols[(member.features, float(member.view))]
        shortest = min((float(v) for _, v, _, _ in self.layout if v), default=0.0)
        parts = [view_rows(f, start, stop, float(member.view), shortest) for f in feats]
        owner = np.concatenate([np.full(len(p), i) for i, p in enumerate(parts)])
        rows_spk = [speakers[i] for i in owner]
        z, single = speaker_z(np.concatenate(parts), rows_spk)
        if single:
            logging.warning(f"classical member {member.name}: speaker(s) {', '.join(single[:10])} have one row each: "
                            "their per-speaker z-scores are all 0 (give each speaker several utterances)")
        return z, owner, rows_spk

    # ------------------------------------------------------------------ fit / predict
    def fit(self, feats: Sequence[np.ndarray], y: Sequence[str], speakers: Sequence[str]) -> "ClassicalSystem":
        """Fit every member on the utterances' cached frames ``feats`` with classes ``y`` and ``speakers``."""
        classes = list(self.class_list)
        unknown = sorted(set(y) - set(classes))
        if unknown:
            raise ValueError(f"training classes {unknown} are not in class_list {classes}")
        y = np.asarray(y)
        self.class_counts_ = np.array([(y == c).sum() for c in classes], dtype=np.float64)
        self.fitted_: Dict[str, BaseEstimator] = {}
        self.chosen_: Dict[str, Dict] = {}
        self.training_rows_: Dict[str, int] = {}
        self.carried_rows_: Dict[str, int] = {}
        rng = np.random.default_rng(self.seed)
        for m in self.members:
            x, owner, spk = self._rows(m, feats, speakers)
            target, groups = y[owner], np.asarray(spk)
            if m.max_rows and len(x) > m.max_rows:
                keep = np.sort(rng.choice(len(x), m.max_rows, replace=False))
                x, target, groups = x[keep], target[keep], groups[keep]
            est = ESTIMATORS[m.estimator](**m.fixed())
            if "random_state" in est.get_params():
                est.set_params(random_state=self.seed)
            grid = m.grid()
            if grid:
                folds = min(self.cv_folds, len(set(groups)))
                if folds < 2:
                    raise ValueError(f"member {m.name}: a grid needs at least 2 training speakers, got {len(set(groups))}")
                search = GridSearchCV(est, grid, scoring="balanced_accuracy", cv=GroupKFold(folds), refit=True)
                with warnings.catch_warnings():  # a speaker fold lacking a class the member predicts
                    warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
                    est = search.fit(x, target, groups=groups).best_estimator_
                self.chosen_[m.name] = {k: est.get_params()[k] for k in grid}
            else:
                est.fit(x, target)
            self.fitted_[m.name] = est
            self.training_rows_[m.name] = int(len(x))
            self.carried_rows_[m.name] = carried_rows(est)
        self.classes_ = np.asarray(classes)
        return self

    def member_probs(self, feats: Sequence[np.ndarray], speakers: Sequence[str]) -> Dict[str, np.ndarray]:
        """Each member's (N, K) class distributions (K = ``class_list``; classes it never saw: 0)."""
        out = {}
        n, classes = len(feats), list(self.class_list)
        for m in self.members:
            est = self.fitted_[m.name]
            x, owner, _ = self._rows(m, feats, speakers)
            cols = [classes.index(c) for c in est.classes_]
            with np.errstate(divide="ignore"):
                logp = np.full((len(x), len(classes)), -np.inf)
                logp[:, cols] = np.log(np.clip(est.predict_proba(x), 1e-300, None))
            mean = np.zeros((n, len(classes)))
            np.add.at(mean, owner, np.where(np.isfinite(logp), logp, 0.0))
            mean = mean / np.bincount(owner, minlength=n)[:, None]
            mean[:, [k for k in range(len(classes)) if k not in cols]] = -np.inf
            e = np.exp(mean - mean.max(1, keepdims=True))
            out[m.name] = e / e.sum(1, keepdims=True)
        return out

    def fused(self, member_probs: Dict[str, np.ndarray]) -> np.ndarray:
        """The system's (N, K) distributions from its members' (:meth:`member_probs`): fused, prior-corrected."""
        p = fuse(list(member_probs.values()), self.fusion)
        return prior_corrected(p, self.class_counts_, divide=self.prior_correction)

    def predict_proba(self, feats: Sequence[np.ndarray], speakers: Sequence[str]) -> np.ndarray:
        return self.fused(self.member_probs(feats, speakers))

    def predict(self, feats: Sequence[np.ndarray], speakers: Sequence[str]) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(feats, speakers), 1)]
