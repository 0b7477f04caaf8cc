"""Predictive uncertainty from several stochastic predictions of the same utterances.

The S predictions are MC-dropout passes of one model (``ser_inference --mc_dropout S``: the features
once, then S runs of the trained part with its dropout on); ``ser_ensemble`` writes the same files for
several systems or folds' models. :func:`summarize` turns them into what the prediction dir holds:

* ``probs``: the mean of the S class distributions (the predictive distribution);
* ``class_entropy``: its entropy in nats, ``H = -sum_k p_k ln p_k`` (0 ln 0 = 0; at most ln K);
* ``vad``: the mean of the S V/A/D predictions; ``vad_std``: their population std per dimension.
"""

from typing import Dict, List, Optional

import numpy as np
import torch

from espnet_ser.errors import InputError
from espnet_ser.metrics import entropy


def summarize(probs: Optional[np.ndarray], vad: Optional[np.ndarray]) -> Dict[str, Optional[np.ndarray]]:
    """``probs`` (S, N, K) and ``vad`` (S, N, 3) of S predictions -> mean probs, their entropy, mean
    V/A/D and its population std (each None where the input is None).

    >>> out = summarize(np.array([[[1.0, 0.0]], [[0.0, 1.0]]]), np.array([[[0.2, 0.4, 0.6]], [[0.4, 0.4, 0.8]]]))
    >>> out["probs"].tolist(), out["class_entropy"].round(4).tolist(), out["vad_std"].round(4).tolist()
    ([[0.5, 0.5]], [0.6931], [[0.1, 0.0, 0.1]])
    """
    out: Dict[str, Optional[np.ndarray]] = {"probs": None, "class_entropy": None, "vad": None, "vad_std": None}
    if probs is not None:
        out["probs"] = np.asarray(probs, dtype=np.float64).mean(axis=0)
        out["class_entropy"] = entropy(out["probs"])
    if vad is not None:
        v = np.asarray(vad, dtype=np.float64)
        out["vad"], out["vad_std"] = v.mean(axis=0), v.std(axis=0)
    return out


def dropout_modules(model: torch.nn.Module) -> List[torch.nn.Module]:
    """The dropout layers of the trained part (encoder and decoder): MC dropout switches these on.
    The frozen upstream and the normalisation keep their inference behaviour."""
    parts = [model.encoder, model.decoder]
    return [m for p in parts for m in p.modules() if isinstance(m, torch.nn.modules.dropout._DropoutNd)]


@torch.no_grad()
def mc_dropout_passes(model, speech: torch.Tensor, lengths: torch.Tensor, passes: int,
                      speaker_mvn: Optional[torch.Tensor] = None) -> Dict[str, Optional[torch.Tensor]]:
    """``passes`` stochastic predictions of a padded batch: ``{"probs": (S, B, K) or None, "vad": (S, B, 3)
    or None}``. The features are computed once; a model without dropout layers is an error (its passes
    would all be equal)."""
    drops = dropout_modules(model)
    if not any(m.p > 0 for m in drops):
        raise InputError("MC dropout needs dropout: this model's encoder and decoder have no dropout layer with p > 0")
    feats, feats_lengths = model.features(speech, lengths, speaker_mvn)
    probs, vad = [], []
    try:
        for m in drops:
            m.train()
        for _ in range(passes):
            hs, hs_lengths, _ = model.encoder(feats, feats_lengths)
            out = model.decoder(hs, hs_lengths)
            if out["logits"] is not None:
                probs.append(torch.softmax(out["logits"].float(), dim=-1))
            if out["vad"] is not None:
                vad.append(out["vad"].float())
    finally:
        for m in drops:
            m.eval()
    return {"probs": torch.stack(probs) if probs else None, "vad": torch.stack(vad) if vad else None}
