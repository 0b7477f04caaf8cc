"""Losses of the method, with partial-label masking.

Concordance correlation coefficient (Lin, 1989), on N paired values x (prediction), y (target)::

    CCC = 2 * s_xy / (s_x^2 + s_y^2 + (m_x - m_y)^2)

with means m, *population* variances s^2 (divide by N) and covariance s_xy. The CCC loss of the paper
(eq. 2) is ``L_ccc = sum_d (1 - CCC_d)`` summed over the dimensions d in (valence, arousal, dominance);
the cross-entropy loss ``L_ce`` is computed on the discrete classes, and the total loss is
``alpha * L_ccc + beta * L_ce``.

Partial labels (mismatched training). A missing class is the index ``IGNORE_INDEX`` (-1); a missing
dimension is NaN. Rules:

* CE uses only the items that carry a class. With none in the batch it is exactly 0.
* CCC for a dimension uses only the items labelled in that dimension. A dimension with fewer than
  ``MIN_CCC_ITEMS`` (2) labelled items in the batch is *skipped*: it adds nothing to ``L_ccc``
  (the CCC of fewer than two points is undefined) and its statistic is reported as missing.
  With no dimension usable, ``L_ccc`` is exactly 0.

Annotator targets (model options, off by default; the paper's configs use neither):

* ``soft_cross_entropy``: CE against the evaluators' vote distribution q (``emotion_votes``
  renormalised), ``-sum_k q_k log p_k``; an item without votes falls back to its hard class (one-hot q),
  an item with neither is left out. With one-hot targets it equals :func:`masked_cross_entropy`.
* ``ccc_loss(..., weights=w)``: each item's CCC statistics weighted (weighted means, variances and
  covariance); the model sets ``w = tau / (tau + std)`` from the evaluators' std of that dimension, so
  utterances on which the raters agree count more. All weights equal give the plain CCC.

Both losses keep a graph to the predictions even when they are zero, so ``backward()`` is always legal
and gives zero gradients.
"""

from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F

IGNORE_INDEX = -1
MIN_CCC_ITEMS = 2
#: Added to the CCC denominator. It only matters when both series are constant and equal.
CCC_EPS = 1e-8


def concordance_cc(pred: torch.Tensor, target: torch.Tensor, eps: float = CCC_EPS,
                   weights: Optional[torch.Tensor] = None) -> torch.Tensor:
    """CCC of two 1-D tensors (population statistics, optionally weighted per item), differentiable.

    >>> x = torch.tensor([1.0, 2.0, 3.0, 4.0]); y = torch.tensor([1.0, 2.0, 3.0, 5.0])
    >>> round(concordance_cc(x, x).item(), 6)
    1.0
    >>> round(concordance_cc(x, y).item(), 4)   # 2*1.625 / (1.25 + 2.1875 + 0.0625)
    0.9286
    """
    if pred.shape != target.shape or pred.dim() != 1:
        raise ValueError(f"expected two 1-D tensors of one shape, got {tuple(pred.shape)} and {tuple(target.shape)}")
    if weights is None:
        mean = torch.mean
    else:
        w = weights / weights.sum()
        mean = lambda x: (w * x).sum()  # noqa: E731
    pm, tm = mean(pred), mean(target)
    pc, tc = pred - pm, target - tm
    cov = mean(pc * tc)
    return 2.0 * cov / (mean(pc.pow(2)) + mean(tc.pow(2)) + (pm - tm).pow(2) + eps)


def ccc_loss(
    pred: torch.Tensor, target: torch.Tensor, min_items: int = MIN_CCC_ITEMS, weights: Optional[torch.Tensor] = None,
) -> Tuple[torch.Tensor, List[Optional[torch.Tensor]]]:
    """``sum_d (1 - CCC_d)`` over the columns of (B, D) tensors; NaN targets are ignored. ``weights``
    (B, D), positive: per-item weights of each dimension's CCC.

    Returns the loss and, per dimension, the CCC (detached) or None where the dimension was skipped
    (fewer than ``min_items`` labelled items).
    """
    if pred.shape != target.shape or pred.dim() != 2:
        raise ValueError(f"expected (B, D) tensors of one shape, got {tuple(pred.shape)} and {tuple(target.shape)}")
    loss = pred.sum() * 0.0
    cccs: List[Optional[torch.Tensor]] = []
    for d in range(pred.size(1)):
        mask = ~torch.isnan(target[:, d])
        if int(mask.sum()) < min_items:
            cccs.append(None)
            continue
        ccc = concordance_cc(pred[mask, d], target[mask, d], weights=None if weights is None else weights[mask, d])
        loss = loss + (1.0 - ccc)
        cccs.append(ccc.detach())
    return loss, cccs


#: how CE combines the labelled items of a batch: their mean (ESPnet's convention) or their sum (the
#: paper's eq. 1); the CCC loss is one value per dimension and batch either way (docs/reproduction.md)
CE_REDUCTIONS = ("mean", "sum")


def masked_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, reduction: str = "mean",
                         label_smoothing: float = 0.0) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """CE over the items whose label is not ``IGNORE_INDEX`` (their mean, or with ``reduction="sum"``
    their sum); exactly 0 when there are none. ``label_smoothing`` e (``model_conf lsm_weight``, as in
    ESPnet's cls task): the target is ``(1 - e) * one_hot + e / K`` over the K classes.

    Returns the loss and the accuracy on the labelled items (None when there are none).

    >>> logits = torch.zeros(3, 2); labels = torch.tensor([0, 1, -1])   # -log(1/2) per labelled item
    >>> round(masked_cross_entropy(logits, labels)[0].item(), 4), round(masked_cross_entropy(logits, labels, "sum")[0].item(), 4)
    (0.6931, 1.3863)
    >>> # K=5, e=0.1: target (0.92, 0.02, 0.02, 0.02, 0.02); p = (e^2, 1, 1, 1, 1) / (e^2 + 4)
    >>> # -(0.92 log p_0 + 0.08 log p_1) = 0.92 * 0.43265 + 0.08 * 2.43265
    >>> round(masked_cross_entropy(torch.tensor([[2.0, 0, 0, 0, 0]]), torch.tensor([0]), label_smoothing=0.1)[0].item(), 4)
    0.5927
    """
    if reduction not in CE_REDUCTIONS:
        raise ValueError(f"reduction must be one of {CE_REDUCTIONS}, got {reduction!r}")
    mask = labels != IGNORE_INDEX
    if not bool(mask.any()):
        return logits.sum() * 0.0, None
    loss = F.cross_entropy(logits[mask], labels[mask], reduction=reduction, label_smoothing=label_smoothing)
    acc = (logits[mask].argmax(-1) == labels[mask]).float().mean().detach()
    return loss, acc


def soft_cross_entropy(logits: torch.Tensor, votes: torch.Tensor, labels: torch.Tensor, reduction: str = "mean",
                       label_smoothing: float = 0.0) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """Mean (or with ``reduction="sum"`` sum) of ``-sum_k q_k log softmax(logits)_k`` with q the vote distribution of each row of ``votes``
    (B, C) (NaN or all-zero rows: the one-hot of ``labels``; neither: left out); exactly 0 with none.
    ``label_smoothing`` e mixes q with the uniform distribution: ``(1 - e) * q + e / C``.

    Returns the loss and the accuracy against the hard labels (None where no item has one).
    """
    votes = votes.to(logits.dtype)
    total = torch.nan_to_num(votes, nan=0.0).sum(-1, keepdim=True)
    has_votes = total.squeeze(-1) > 0
    has_label = labels != IGNORE_INDEX
    onehot = F.one_hot(labels.clamp(min=0), logits.size(-1)).to(logits.dtype)
    q = torch.where(has_votes.unsqueeze(-1), torch.nan_to_num(votes, nan=0.0) / total.clamp(min=1e-12), onehot)
    q = (1.0 - label_smoothing) * q + label_smoothing / logits.size(-1)
    mask = has_votes | has_label
    acc = (logits[has_label].argmax(-1) == labels[has_label]).float().mean().detach() if bool(has_label.any()) else None
    if not bool(mask.any()):
        return logits.sum() * 0.0, acc
    per_item = -(q[mask] * F.log_softmax(logits[mask], dim=-1)).sum(-1)
    if reduction not in CE_REDUCTIONS:
        raise ValueError(f"reduction must be one of {CE_REDUCTIONS}, got {reduction!r}")
    return (per_item.sum() if reduction == "sum" else per_item.mean()), acc


def agreement_weights(rater_std: torch.Tensor, tau: float) -> torch.Tensor:
    """``tau / (tau + std)`` per item and dimension (1 where no rater std is known).

    >>> agreement_weights(torch.tensor([[0.0, 0.1, float("nan")]]), 0.1).tolist()
    [[1.0, 0.5, 1.0]]
    """
    return torch.where(torch.isnan(rater_std), torch.ones_like(rater_std), tau / (tau + rater_std.clamp(min=0.0)))
