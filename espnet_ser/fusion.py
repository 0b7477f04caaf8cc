"""Late fusion of class distributions: the one place where systems' (or members') predictions are combined.

Used by the classical system for its members (:mod:`espnet_ser.classical`) and by ``ser_ensemble`` for any
prediction dirs (classical systems, networks, folds' models). Two rules (Kittler et al., 1998):

* ``mean``: the mean of the S distributions, ``p_k = (1/S) sum_s p_sk``;
* ``product``: their normalised geometric mean, ``p_k ∝ exp((1/S) sum_s ln p_sk)``: a member giving a class
  little probability vetoes it.

:func:`prior_corrected` divides a distribution by the training classes' frequencies and renormalises: the
decision that maximises the expected unweighted accuracy (the mean of per-class recalls). A class that no
training utterance had gets probability 0 there (never predicted), whatever the inputs say.
"""

from typing import Sequence

import numpy as np

RULES = ("mean", "product")


def fuse(probs: Sequence[np.ndarray], rule: str = "mean") -> np.ndarray:
    """(N, K) fused distribution of S (N, K) distributions.

    >>> a, b = np.array([[0.5, 0.5]]), np.array([[0.9, 0.1]])
    >>> fuse([a, b]).round(4).tolist(), fuse([a, b], "product").round(4).tolist()   # sqrt(.45) : sqrt(.05) = 3 : 1
    ([[0.7, 0.3]], [[0.75, 0.25]])
    >>> fuse([np.array([[0.5, 0.5, 0.0]]), np.array([[0.2, 0.2, 0.6]])], "product").round(4).tolist()  # a veto
    [[0.5, 0.5, 0.0]]
    >>> fuse([np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])], "product").tolist()  # all vetoed: the mean
    [[0.5, 0.5]]
    """
    if rule not in RULES:
        raise ValueError(f"fusion rule {rule!r}: one of {', '.join(RULES)}")
    p = np.stack([np.asarray(x, dtype=np.float64) for x in probs])
    if rule == "mean":
        return p.mean(0)
    with np.errstate(divide="ignore"):
        logp = np.log(p).mean(0)
    vetoed = ~np.isfinite(logp).any(-1)  # every class vetoed by some member: the mean rule for that row
    return np.where(vetoed[:, None], p.mean(0), _normalised_exp(np.where(vetoed[:, None], 0.0, logp)))


def prior_corrected(probs: np.ndarray, class_counts: Sequence[float], divide: bool = True) -> np.ndarray:
    """``p_k / pi_k`` renormalised, ``pi = counts / sum(counts)``; a class counted 0 times gets 0. With
    ``divide`` false only that: the classes counted 0 times get 0, the others keep their ratios.

    >>> prior_corrected(np.array([[0.6, 0.4]]), [3, 1]).round(4).tolist()   # 0.6 / 0.75 : 0.4 / 0.25 = 1 : 2
    [[0.3333, 0.6667]]
    >>> prior_corrected(np.array([[0.01, 0.49, 0.5]]), [0, 5, 5]).round(4).tolist()   # class 0 never seen
    [[0.0, 0.4949, 0.5051]]
    >>> prior_corrected(np.array([[0.2, 0.2, 0.6]]), [0, 5, 1], divide=False).round(4).tolist()
    [[0.0, 0.25, 0.75]]
    """
    counts = np.asarray(class_counts, dtype=np.float64)
    p = np.asarray(probs, dtype=np.float64)
    if counts.shape != p.shape[-1:] or not counts.sum() > 0 or (counts < 0).any():
        raise ValueError(f"class counts {counts.tolist()}: one count (>= 0) per class of the {p.shape[-1]}, some > 0")
    seen = counts > 0
    out = np.zeros_like(p)
    out[:, seen] = p[:, seen] / (counts[seen] / counts.sum()) if divide else p[:, seen]
    total = out.sum(1, keepdims=True)
    # a row whose mass lies only on unseen classes: uniform over the seen ones
    return np.where(total > 0, out / np.where(total > 0, total, 1.0), seen / seen.sum())


def _normalised_exp(logp: np.ndarray) -> np.ndarray:
    """softmax over the last axis of log-probabilities that may hold -inf (a class with probability 0)."""
    top = np.max(logp, axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.exp(logp - top)
    return e / e.sum(-1, keepdims=True)
