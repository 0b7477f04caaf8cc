"""Evaluation metrics of the paper, on whole test sets (numpy; one definition for scoring and reports).

Continuous dimensions — concordance correlation coefficient (Lin, 1989) on N pairs (x_i, y_i)::

    CCC = 2 * s_xy / (s_x^2 + s_y^2 + (m_x - m_y)^2)

with means m, population variances s^2 and covariance s_xy (divide by N). ``ccc_mean`` is the mean
over valence, arousal and dominance.

Discrete classes (scikit-learn does the counting)::

    ua       = (1/K) * sum_k recall_k          unweighted accuracy, the paper's IEMOCAP "accuracy";
                                               K = classes present in the reference
    wa       = (#correct) / N                  weighted (plain) accuracy
    f1_macro = (1/K') * sum_k F1_k             the paper's MSP-Podcast F1; K' = classes present in the
                                               reference or the predictions

Edge cases (the rules every table in this project follows):

* Missing references (``nan`` class, NaN dimension) are left out of that metric only.
* Fewer than 2 items: CCC is NaN (undefined). No labelled item: every class metric is NaN.
* Zero variance: CCC is still defined when the denominator is positive (a constant prediction against a
  varying reference gives 0; a constant prediction equal to a constant reference has denominator 0
  and gives NaN).
* A class absent from the reference does not enter UA (its recall is undefined); if it is predicted,
  it enters F1 with F1 = 0 (precision 0). A class present in the reference but never predicted has
  recall 0 and F1 0.
"""

import warnings
from typing import Dict, List, Optional, Sequence

import numpy as np
from sklearn.metrics import balanced_accuracy_score, confusion_matrix as _sk_confusion, f1_score

from espnet_ser import VAD_DIMS

CCC_NAMES = tuple(f"ccc_{d}" for d in VAD_DIMS)
CLASS_METRICS = ("ua", "wa", "f1_macro")


def ccc(pred: Sequence[float], ref: Sequence[float]) -> float:
    """CCC of two equal-length sequences; pairs with a NaN reference are ignored.

    >>> round(ccc([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 5.0]), 4)   # 2*1.625 / (1.25 + 2.1875 + 0.0625)
    0.9286
    >>> ccc([1.0], [2.0])
    nan
    """
    x = np.asarray(pred, dtype=np.float64)
    y = np.asarray(ref, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"expected two 1-D arrays of one shape, got {x.shape} and {y.shape}")
    keep = ~np.isnan(y)
    x, y = x[keep], y[keep]
    if x.size < 2:
        return float("nan")
    mx, my = x.mean(), y.mean()
    cov = ((x - mx) * (y - my)).mean()
    den = x.var() + y.var() + (mx - my) ** 2
    return float(2.0 * cov / den) if den > 0 else float("nan")


def ccc_scores(pred: np.ndarray, ref: np.ndarray) -> Dict[str, float]:
    """``ccc_valence``, ``ccc_arousal``, ``ccc_dominance`` and ``ccc_mean`` of (N, 3) arrays.

    ``ccc_mean`` averages the dimensions that could be scored (NaN when none could).
    """
    pred, ref = np.asarray(pred, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if pred.shape != ref.shape or pred.ndim != 2 or pred.shape[1] != len(VAD_DIMS):
        raise ValueError(f"expected two (N, {len(VAD_DIMS)}) arrays, got {pred.shape} and {ref.shape}")
    out = {name: ccc(pred[:, i], ref[:, i]) for i, name in enumerate(CCC_NAMES)}
    vals = [v for v in out.values() if not np.isnan(v)]
    out["ccc_mean"] = float(np.mean(vals)) if vals else float("nan")
    return out


def _labelled(pred: Sequence[str], ref: Sequence[Optional[str]]):
    if len(pred) != len(ref):
        raise ValueError(f"{len(pred)} predictions for {len(ref)} references")
    pairs = [(p, r) for p, r in zip(pred, ref) if r is not None]
    return [p for p, _ in pairs], [r for _, r in pairs]


def unweighted_accuracy(pred: Sequence[str], ref: Sequence[Optional[str]]) -> float:
    """Mean per-class recall over the classes present in the reference (``None`` references skipped).

    >>> unweighted_accuracy(["a", "a", "a", "b"], ["a", "a", "a", "a"])   # only class a is in the reference
    0.75
    """
    p, r = _labelled(pred, ref)
    if not r:
        return float("nan")
    with warnings.catch_warnings():  # "y_pred contains classes not in y_true": the documented rule above
        warnings.simplefilter("ignore", UserWarning)
        return float(balanced_accuracy_score(r, p))


def weighted_accuracy(pred: Sequence[str], ref: Sequence[Optional[str]]) -> float:
    """Fraction of labelled items predicted correctly."""
    p, r = _labelled(pred, ref)
    return float(np.mean([a == b for a, b in zip(p, r)])) if r else float("nan")


def macro_f1(pred: Sequence[str], ref: Sequence[Optional[str]]) -> float:
    """Mean F1 over the classes in the reference or the predictions (zero_division -> 0)."""
    p, r = _labelled(pred, ref)
    if not r:
        return float("nan")
    return float(f1_score(r, p, average="macro", labels=sorted(set(r) | set(p)), zero_division=0))


def confusion(pred: Sequence[str], ref: Sequence[Optional[str]], classes: Sequence[str]) -> np.ndarray:
    """(K, K) counts, rows = reference class, columns = predicted class, in ``classes`` order."""
    p, r = _labelled(pred, ref)
    unknown = sorted((set(p) | set(r)) - set(classes))
    if unknown:
        raise ValueError(f"classes {unknown} are not in the class list {list(classes)}")
    if not r:
        return np.zeros((len(classes), len(classes)), dtype=np.int64)
    return _sk_confusion(r, p, labels=list(classes))


def class_scores(pred: Sequence[str], ref: Sequence[Optional[str]]) -> Dict[str, float]:
    return {"ua": unweighted_accuracy(pred, ref), "wa": weighted_accuracy(pred, ref), "f1_macro": macro_f1(pred, ref)}


def metric_names(has_classes: bool, has_vad: bool) -> List[str]:
    return (list(CCC_NAMES) + ["ccc_mean"] if has_vad else []) + (list(CLASS_METRICS) if has_classes else [])


def selection_scores(pred_cls: Optional[np.ndarray], ref_cls: Optional[np.ndarray], pred_vad: Optional[np.ndarray],
                     ref_vad: Optional[np.ndarray]) -> Dict[str, float]:
    """Set-level scores that choose the best epoch: ``epoch_ua``, ``epoch_f1_macro``, ``epoch_ccc_mean``, and
    the joint ``epoch_ua_ccc`` = (UA + CCC) / 2 and ``epoch_f1_ccc`` = (F1 + CCC) / 2 (class indices; -1 = no
    class). A score whose labels are absent is left out.

    >>> s = selection_scores(np.array([0, 1, 1, 0]), np.array([0, 1, 0, -1]), None, None)
    >>> round(s["epoch_ua"], 3), round(s["epoch_f1_macro"], 3)     # recalls 1/2 and 1; F1 2/3 and 2/3
    (0.75, 0.667)
    """
    out: Dict[str, float] = {}
    if pred_cls is not None and ref_cls is not None and (ref_cls >= 0).any():
        ref = [None if r < 0 else int(r) for r in ref_cls]
        out["epoch_ua"] = unweighted_accuracy([int(p) for p in pred_cls], ref)
        out["epoch_f1_macro"] = macro_f1([int(p) for p in pred_cls], ref)
    if pred_vad is not None and ref_vad is not None:
        c = ccc_scores(pred_vad, ref_vad)["ccc_mean"]
        if not np.isnan(c):
            out["epoch_ccc_mean"] = c
    if "epoch_ua" in out and "epoch_ccc_mean" in out:
        out["epoch_ua_ccc"] = (out["epoch_ua"] + out["epoch_ccc_mean"]) / 2
        out["epoch_f1_ccc"] = (out["epoch_f1_macro"] + out["epoch_ccc_mean"]) / 2
    return out
