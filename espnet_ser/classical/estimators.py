"""The estimators a classical member may name (``estimator:`` in a classical config), one registry.

Each is a scikit-learn classifier with ``predict_proba``; its defaults live here, and a member's
``params`` override them (a list value is a grid: :mod:`espnet_ser.classical.system` chooses by
``GridSearchCV`` over the training speakers). Two are small estimators of our own, in scikit-learn's
API, because scikit-learn's versions solve in the feature space, which is slow for 6,373 functionals:

* :class:`KernelRidgeClassifier`: scikit-learn's ``KernelRidge`` on the one-hot classes (a least-squares
  SVM), its scores times ``temperature`` through a softmax;
* :class:`ShrinkageLDA`: the same scores as ``LinearDiscriminantAnalysis(solver="lsqr", shrinkage=s)``,
  with the shrunk covariance's inverse applied through the Woodbury identity (an m x m solve for m
  training rows, not a d x d one), times ``temperature`` through a softmax.
"""

from typing import Callable, Dict

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC
from sklearn.utils.multiclass import unique_labels


def _softmax(scores: np.ndarray) -> np.ndarray:
    e = np.exp(scores - scores.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


class KernelRidgeClassifier(ClassifierMixin, BaseEstimator):
    """Kernel ridge regression of the centred one-hot classes with an RBF kernel, ``gamma = gamma_scale / d``
    (d the number of features); probabilities ``softmax(temperature * (k(x) A + y_mean))``. It keeps its training
    rows (as float32) to compute ``k(x)``: a model's size grows with them.

    >>> clf = KernelRidgeClassifier(alpha=1.0, gamma_scale=1.0, temperature=1.0).fit([[0.0], [5.0]], ["a", "b"])
    >>> clf.predict([[0.2], [4.0]]).tolist(), clf.classes_.tolist()
    (['a', 'b'], ['a', 'b'])
    """

    def __init__(self, alpha: float = 0.03, gamma_scale: float = 0.25, temperature: float = 10.0):
        self.alpha, self.gamma_scale, self.temperature = alpha, gamma_scale, temperature

    def fit(self, X, y):
        X = np.asarray(X, dtype=np.float64)
        self.classes_ = unique_labels(y)
        onehot = (np.asarray(y)[:, None] == self.classes_[None]).astype(np.float64)
        self.offset_ = onehot.mean(0)
        self.ridge_ = KernelRidge(alpha=self.alpha, kernel="rbf", gamma=self.gamma_scale / X.shape[1])
        self.ridge_.fit(X, onehot - self.offset_)
        # the training rows it keeps for predicting, as float32 (half the model; the kernel is still computed in
        # float64: scikit-learn upcasts them against a float64 input)
        self.ridge_.X_fit_ = self.ridge_.X_fit_.astype(np.float32)
        return self

    def decision_function(self, X) -> np.ndarray:
        return self.ridge_.predict(np.asarray(X, dtype=np.float64)) + self.offset_

    def predict_proba(self, X) -> np.ndarray:
        return _softmax(self.temperature * self.decision_function(X))

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.decision_function(X), 1)]


class ShrinkageLDA(ClassifierMixin, BaseEstimator):
    """Linear discriminant analysis with the pooled within-class covariance ``S`` shrunk towards a multiple of
    the identity, ``C = (1 - shrinkage) S + shrinkage tr(S) / d I`` (scikit-learn's ``shrunk_covariance``);
    scores ``x C^-1 M^T - diag(M C^-1 M^T) / 2 + log prior``, as ``LinearDiscriminantAnalysis(solver="lsqr",
    shrinkage=shrinkage)`` gives them (a test compares the two); probabilities ``softmax(temperature * scores)``.

    >>> lda = ShrinkageLDA(shrinkage=0.5, temperature=1.0).fit([[0, 0], [2, 0], [0, 4], [2, 4]], [0, 0, 1, 1])
    >>> (lda.decision_function([[1.0, 1.0]]) - np.log(0.5)).round(4).tolist()   # S = diag(1, 0): C = diag(.75, .25)
    [[0.6667, -15.3333]]
    """

    def __init__(self, shrinkage: float = 0.9, temperature: float = 0.1):
        self.shrinkage, self.temperature = shrinkage, temperature

    def fit(self, X, y):
        x = np.asarray(X, dtype=np.float64)
        self.classes_ = unique_labels(y)
        onehot = (np.asarray(y)[:, None] == self.classes_[None]).astype(np.float64)
        m, d = x.shape
        counts = onehot.sum(0)
        means = onehot.T @ x / counts[:, None]
        centred = x - onehot @ means
        scale = (1 - self.shrinkage) / m
        diagonal = self.shrinkage * (centred * centred).sum() / m / d  # C = scale centred^T centred + diagonal I
        if not diagonal > 0:  # no spread (one row per class): the nearest class mean
            diagonal = 1.0
        gram = np.eye(m) / scale + centred @ centred.T / diagonal
        self.coef_ = (means.T - centred.T @ np.linalg.solve(gram, centred @ means.T) / diagonal) / diagonal  # C^-1 M^T
        self.intercept_ = -0.5 * (means * self.coef_.T).sum(1) + np.log(counts / m)
        return self

    def decision_function(self, X) -> np.ndarray:
        return np.asarray(X, dtype=np.float64) @ self.coef_ + self.intercept_

    def predict_proba(self, X) -> np.ndarray:
        return _softmax(self.temperature * self.decision_function(X))

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.decision_function(X), 1)]


#: estimator name -> (factory, its defaults); ``class_weight="balanced"`` where scikit-learn has it: each
#: class weighs the same in the fit, as unweighted accuracy scores them
ESTIMATORS: Dict[str, Callable[..., BaseEstimator]] = {
    "logistic_regression": lambda **p: LogisticRegression(**{"C": 1.0, "max_iter": 2000, "class_weight": "balanced", **p}),
    # an RBF SVM whose scores are calibrated to probabilities (Platt's sigmoid, cross-validated)
    "svm": lambda **p: CalibratedClassifierCV(SVC(**{"C": 1.0, "kernel": "rbf", "gamma": "scale",
                                                     "class_weight": "balanced", **p}), ensemble=False),
    "kernel_ridge": lambda **p: KernelRidgeClassifier(**p),
    "lda": lambda **p: ShrinkageLDA(**p),
}


def carried_rows(estimator: BaseEstimator) -> int:
    """How many training rows a fitted member keeps to predict: a kernel ridge member all of its rows, an SVM its
    support vectors; logistic regression and LDA keep coefficients only (0).

    >>> carried_rows(KernelRidgeClassifier().fit([[0.0], [1.0], [2.0]], ["a", "b", "a"]))
    3
    """
    if isinstance(estimator, KernelRidgeClassifier):
        return int(len(estimator.ridge_.X_fit_))
    inner = getattr(estimator, "calibrated_classifiers_", None)
    if inner:
        return int(sum(len(getattr(c.estimator, "support_vectors_", ())) for c in inner))
    return int(len(getattr(estimator, "support_vectors_", ())))

