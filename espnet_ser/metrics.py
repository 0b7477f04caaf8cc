"""Evaluation metrics of the paper, on whole test sets (numpy; one definition for scoring and reports).

Continuous dimensions — concordance correlation coefficient (Lin, 1989) on N pairs (x_i, y_i)::

    CCC = 2 * s_xy / (s_x^2 + s_y^2 + (m_x - m_y)^2)

with means m, population variances s^2 and covariance s_xy (divide by N). ``ccc_mean`` is the mean
over valence, arousal and dominance.

Discrete classes, from the confusion matrix C (rows: reference class, columns: predicted class;
r_k = row sums, c_k = column sums, t_k = C[k, k])::

    ua       = (1/K) * sum_k t_k / r_k         unweighted accuracy (mean recall), the paper's IEMOCAP
                                               "accuracy"; K = classes present in the reference (r_k > 0)
    wa       = sum_k t_k / sum_k r_k           weighted (plain) accuracy
    f1_macro = (1/K') * sum_k 2 t_k / (r_k + c_k)   the paper's MSP-Podcast F1; K' = classes present in
                                               the reference or the predictions (r_k + c_k > 0)

Beyond accuracy (class probabilities p (N, K), the evaluators' vote distributions q, uncertainties u)::

    entropy  H(p)   = -sum_k p_k ln p_k                    nats, 0 ln 0 = 0
    ece             = sum_b (n_b / N) |acc_b - conf_b|      confidence = max_k p_k, B equal-width bins on
                                                           (0, 1] (bin b = ((b-1)/B, b/B]); acc_b, conf_b:
                                                           accuracy and mean confidence in bin b
    jsd(p, q)       = (KL(p || m) + KL(q || m)) / 2,  m = (p + q) / 2, in bits (0 to 1)
    reject curve    the metric on the fraction f of items with the lowest u, for each f
    spearman        Pearson correlation of the ranks (ties get their mean rank)

These are the only definitions: the scorer, model selection and the significance bootstrap (on
resampled confusion matrices) all call :func:`ua_of`, :func:`wa_of`, :func:`f1_of` and
:func:`confusion_of_codes`.

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

from typing import Dict, List, Optional, Sequence

import numpy as np

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


def confusion_of_codes(ref: np.ndarray, hyp: np.ndarray, k: int) -> np.ndarray:
    """(k, k) counts of class indices (rows: reference, columns: prediction); a reference of -1 (no
    class) is left out.

    >>> confusion_of_codes(np.array([0, 0, 1, -1]), np.array([0, 1, 1, 0]), 2).tolist()
    [[1, 1], [0, 1]]
    """
    m = ref >= 0
    return np.bincount(ref[m] * k + hyp[m], minlength=k * k).reshape(k, k)


def ua_of(cm: np.ndarray) -> float:
    """Mean recall t_k / r_k over the classes present in the reference; NaN when none is.

    >>> ua_of(np.array([[3, 1], [0, 0]]))        # class 1 never in the reference: (3/4) / 1
    0.75
    """
    rows = cm.sum(axis=1)
    present = rows > 0
    return float(np.mean(np.diag(cm)[present] / rows[present])) if present.any() else float("nan")


def recall_of(cm: np.ndarray) -> np.ndarray:
    """Per-class recall t_k / r_k (rows: reference); NaN for a class absent from the reference. UA is
    the mean of the defined values; a class with r_k of 1 or 2 moves it in steps of 1/(r_k * K).

    >>> recall_of(np.array([[3, 1], [0, 0]])).tolist()
    [0.75, nan]
    """
    rows = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rows > 0, np.diag(cm) / np.where(rows > 0, rows, 1), np.nan)


def wa_of(cm: np.ndarray) -> float:
    """Fraction correct, sum_k t_k / sum_k r_k; NaN without any reference.

    >>> wa_of(np.array([[3, 1], [0, 0]]))
    0.75
    """
    return float(np.trace(cm) / cm.sum()) if cm.sum() else float("nan")


def f1_of(cm: np.ndarray) -> float:
    """Mean of 2 t_k / (r_k + c_k) over the classes in the reference or the predictions; NaN without
    any reference.

    >>> round(f1_of(np.array([[1, 1], [0, 0]])), 4)  # class 0: 2/(2+1); class 1 (predicted only): 0
    0.3333
    """
    rows, cols = cm.sum(axis=1), cm.sum(axis=0)
    if not (rows > 0).any():
        return float("nan")
    used = (rows > 0) | (cols > 0)
    return float(np.mean(2 * np.diag(cm)[used] / (rows[used] + cols[used])))


def _labelled(pred: Sequence[str], ref: Sequence[Optional[str]]):
    if len(pred) != len(ref):
        raise ValueError(f"{len(pred)} predictions for {len(ref)} references")
    pairs = [(p, r) for p, r in zip(pred, ref) if r is not None]
    return [p for p, _ in pairs], [r for _, r in pairs]


def _confusion(pred: Sequence, ref: Sequence[Optional[object]], classes: Sequence) -> np.ndarray:
    p, r = _labelled(pred, ref)
    unknown = sorted(map(str, (set(p) | set(r)) - set(classes)))
    if unknown:
        raise ValueError(f"classes {unknown} are not in the class list {list(classes)}")
    return confusion_of_codes(class_codes(r, classes), class_codes(p, classes), len(classes))


def class_codes(labels: Sequence[Optional[object]], classes: Sequence) -> np.ndarray:
    """Class names as indices into ``classes``; ``None`` (no class) is -1, as :func:`confusion_of_codes` reads.

    >>> class_codes(["b", None, "a"], ["a", "b"]).tolist()
    [1, -1, 0]
    """
    index = {c: i for i, c in enumerate(classes)}
    return np.array([-1 if x is None else index[x] for x in labels], dtype=np.int64)


def _seen(pred: Sequence, ref: Sequence[Optional[object]]) -> List:
    return sorted(set(pred) | {r for r in ref if r is not None}, key=str)


def unweighted_accuracy(pred: Sequence[str], ref: Sequence[Optional[str]]) -> float:
    """Mean per-class recall over the classes present in the reference (``None`` references skipped).

    >>> unweighted_accuracy(["a", "a", "a", "b"], ["a", "a", "a", "a"])   # only class a is in the reference
    0.75
    """
    return ua_of(_confusion(pred, ref, _seen(pred, ref)))


def weighted_accuracy(pred: Sequence[str], ref: Sequence[Optional[str]]) -> float:
    """Fraction of labelled items predicted correctly.

    >>> weighted_accuracy(["a", "b", "b"], ["a", "a", None])
    0.5
    """
    return wa_of(_confusion(pred, ref, _seen(pred, ref)))


def macro_f1(pred: Sequence[str], ref: Sequence[Optional[str]]) -> float:
    """Mean F1 over the classes in the reference or the predictions (a predicted-only class: F1 0).

    >>> round(macro_f1(["a", "b"], ["a", "a"]), 4)   # a: 2*1/(2+1); b: 0
    0.3333
    """
    return f1_of(_confusion(pred, ref, _seen(pred, ref)))


def confusion(pred: Sequence[str], ref: Sequence[Optional[str]], classes: Sequence[str]) -> np.ndarray:
    """(K, K) counts, rows = reference class, columns = predicted class, in ``classes`` order."""
    return _confusion(pred, ref, classes)


def class_scores(pred: Sequence[str], ref: Sequence[Optional[str]]) -> Dict[str, float]:
    return {"ua": unweighted_accuracy(pred, ref), "wa": weighted_accuracy(pred, ref), "f1_macro": macro_f1(pred, ref)}


def metric_names(has_classes: bool, has_vad: bool) -> List[str]:
    return (list(CCC_NAMES) + ["ccc_mean"] if has_vad else []) + (list(CLASS_METRICS) if has_classes else [])


def entropy(probs: np.ndarray) -> np.ndarray:
    """Entropy in nats of each row of ``probs`` (N, K).

    >>> entropy(np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])).round(4).tolist()   # ln 2, 0
    [0.6931, 0.0]
    """
    p = np.asarray(probs, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return terms.sum(axis=-1)


def confidence_bins(conf: np.ndarray, n_bins: int = 10) -> np.ndarray:
    """The bin of each confidence among ``n_bins`` equal-width bins on (0, 1]: bin b holds ((b-1)/B, b/B]
    (numbered from 0; a confidence of 0 goes to the first).

    >>> confidence_bins(np.array([0.0, 0.05, 0.1, 0.55, 1.0]), 10).tolist()
    [0, 0, 0, 5, 9]
    """
    return np.clip(np.ceil(np.asarray(conf) * n_bins).astype(int) - 1, 0, n_bins - 1)


def ece(probs: np.ndarray, ref: np.ndarray, n_bins: int = 10) -> float:
    """Expected calibration error of the top-class confidence; NaN if no item has a reference.

    ``ref``: class codes (N,), -1 where an item has no class (left out); or reference distributions
    (N, K), e.g. the evaluators' vote shares, NaN rows left out. An item's accuracy is then the share of
    the reference on the predicted class (1 or 0 for a one-hot reference, so the two forms agree there):
    a model that says 0.6 where 60 % of the evaluators agree with it is calibrated to the votes.

    >>> probs = np.array([[0.85, 0.15], [0.65, 0.35], [0.25, 0.75]])
    >>> round(ece(probs, np.array([0, 1, 1])), 4)   # (|1 - 0.85| + |0 - 0.65| + |1 - 0.75|) / 3
    0.35
    >>> round(ece(probs, np.array([[0.8, 0.2], [0.5, 0.5], [0.0, 1.0]])), 4)  # (0.05 + 0.15 + 0.25) / 3
    0.15
    """
    probs, ref = np.asarray(probs, dtype=np.float64), np.asarray(ref)
    hyp = probs.argmax(axis=1)
    if ref.ndim == 2:
        keep = ~np.isnan(ref).any(axis=1)
        correct = ref[np.arange(len(ref)), hyp].astype(np.float64)
    else:
        keep = ref >= 0
        correct = (hyp == ref).astype(np.float64)
    if not keep.any():
        return float("nan")
    conf, correct = probs[keep].max(axis=1), correct[keep]
    bins = confidence_bins(conf, n_bins)
    total = 0.0
    for b in np.unique(bins):
        m = bins == b
        total += m.sum() * abs(correct[m].mean() - conf[m].mean())
    return float(total / len(conf))


def jsd(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon divergence in bits between the rows of ``p`` and ``q`` (N, K); 0 to 1.

    >>> jsd(np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([[0.0, 1.0], [0.5, 0.5]])).round(4).tolist()
    [1.0, 0.3113]
    """
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    m = (p + q) / 2

    def kl(a):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(a > 0, a * np.log2(np.where(a > 0, a, 1.0) / np.where(m > 0, m, 1.0)), 0.0).sum(axis=-1)

    return (kl(p) + kl(q)) / 2


def reject_curve(uncertainty: np.ndarray, metric, fractions: Sequence[float] = (0.25, 0.5, 0.75, 1.0)) -> List[Dict]:
    """``metric(indices)`` on the ``ceil(f * N)`` items of lowest ``uncertainty`` (ties: the earlier
    item first), for each fraction f; each point ``{"fraction", "n", "value"}``.

    >>> u = np.array([0.9, 0.1, 0.5, 0.3]); correct = np.array([0, 1, 0, 1])
    >>> [(c["n"], c["value"]) for c in reject_curve(u, lambda i: correct[i].mean(), (0.5, 1.0))]
    [(2, 1.0), (4, 0.5)]
    """
    u = np.asarray(uncertainty, dtype=np.float64)
    order = np.argsort(u, kind="stable")
    out = []
    for f in fractions:
        n = int(np.ceil(f * len(u) - 1e-9))
        idx = np.sort(order[:n])
        out.append({"fraction": float(f), "n": n, "value": float(metric(idx)) if n else float("nan")})
    return out


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Rank correlation (ties get their mean rank); NaN with fewer than 2 pairs or a constant side.

    >>> round(spearman([1, 2, 3, 4], [10, 30, 20, 40]), 6)    # ranks 1 2 3 4 vs 1 3 2 4: 1 - 6*2/(4*15)
    0.8
    """
    from scipy.stats import rankdata

    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.size < 2:
        return float("nan")
    rx, ry = rankdata(x), rankdata(y)  # scipy's ranks (ties: mean rank), O(N log N)
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def spearman_p(rho: float, n: int) -> float:
    """Two-sided p of a rank correlation ``rho`` of ``n`` pairs under no association (t with n - 2 degrees
    of freedom, ``t = rho sqrt((n - 2) / (1 - rho^2))``); NaN when undefined.

    >>> round(spearman_p(0.5, 30), 4)
    0.0049
    """
    from scipy.stats import t as student_t

    if n < 3 or not np.isfinite(rho):
        return float("nan")
    if abs(rho) >= 1:
        return 0.0
    stat = rho * np.sqrt((n - 2) / (1 - rho ** 2))
    return float(2 * student_t.sf(abs(stat), n - 2))


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
