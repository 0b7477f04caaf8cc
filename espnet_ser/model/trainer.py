"""ESPnet's Trainer with crash-safe checkpoint files.

ESPnet writes ``checkpoint.pth`` (and the per-epoch model files) with ``torch.save`` straight to the
final name. A job killed during that write (a cluster pre-emption, a time limit) leaves a truncated
checkpoint, and the re-run stage then fails to resume (``EOFError``). While training runs, this
trainer makes every ``torch.save`` to a path write ``<name>.tmp`` and rename it onto ``<name>``
(atomic on POSIX): a checkpoint on disk is always a complete one, the previous epoch's or the new one.
Every checkpoint it reads back (resume, n-best averaging) is read weights-only (``espnet_ser.safe_load``).

It also reports set-level validation scores once per epoch (``epoch_ua``, ``epoch_f1_macro``,
``epoch_ccc_mean``, ``epoch_ua_ccc``, ``epoch_f1_ccc``: :func:`espnet_ser.metrics.selection_scores` over the
whole dev set), so that ``best_model_criterion`` can pick the epoch by the metric of the paper's table
instead of a mean of per-batch values (UA and CCC are not averages of per-batch UA and CCC), and
``epoch`` (the epoch's number: ``valid,epoch,max`` keeps the last epochs, the selection of a model
trained on its dev speakers too, ``--train_on_dev``).
"""

import contextlib
import os
from pathlib import Path

import numpy as np
import torch
from espnet2.train.trainer import Trainer

from espnet_ser.metrics import selection_scores
from espnet_ser.safe_load import safe_torch_load

_original_save = torch.save


def _atomic_save(obj, f, *args, **kwargs):
    if not isinstance(f, (str, os.PathLike)):
        return _original_save(obj, f, *args, **kwargs)
    path = Path(f)
    tmp = path.with_name(path.name + ".tmp")
    _original_save(obj, tmp, *args, **kwargs)
    os.replace(tmp, path)


@contextlib.contextmanager
def atomic_torch_save():
    torch.save = _atomic_save
    try:
        yield
    finally:
        torch.save = _original_save


class AtomicCheckpointTrainer(Trainer):
    @classmethod
    def run(cls, *args, **kwargs) -> None:
        with atomic_torch_save(), safe_torch_load():  # resume and n-best averaging read weights only
            return super().run(*args, **kwargs)

    @classmethod
    def validate_one_epoch(cls, model, iterator, reporter, options, distributed_option) -> None:
        core = model.module if hasattr(model, "module") else model
        core.epoch_outputs = []
        try:
            super().validate_one_epoch(model, iterator, reporter, options, distributed_option)
            outs = core.epoch_outputs
        finally:
            core.epoch_outputs = None
        if distributed_option.distributed:
            gathered = [None] * torch.distributed.get_world_size()
            torch.distributed.all_gather_object(gathered, outs)
            outs = [o for part in gathered for o in part]
        cols = {k: _cat(outs, k) for k in OUTPUT_KEYS}
        scores = selection_scores(*(cols[k] for k in OUTPUT_KEYS))
        corpus = _cat(outs, "corpus")
        if scores and corpus is not None:
            scores.update(corpus_mean_scores(cols, corpus))
        # the epoch itself, so that best_model_criterion valid,epoch,max keeps the last epochs (train_on_dev)
        scores["epoch"] = float(reporter.get_epoch())
        reporter.register(scores, 1)
        reporter.next()


#: a validation pass's outputs, in selection_scores' argument order
OUTPUT_KEYS = ("pred_cls", "ref_cls", "pred_vad", "ref_vad")


def corpus_mean_scores(cols: dict, corpus: np.ndarray) -> dict:
    """``<stat>_corpus_mean``: each set-level stat on every corpus of a multi-corpus dev set alone, then
    averaged over the corpora that have it (each corpus weighs the same, whatever its size); the joint
    stats are the mean of the class stat and the CCC of those means. ``cols``: the whole dev set's
    outputs by ``OUTPUT_KEYS`` (None where absent); ``corpus``: each item's corpus index."""
    per = {}
    for c in np.unique(corpus):
        sel = corpus == c
        for k, v in selection_scores(*(None if cols[key] is None else cols[key][sel] for key in OUTPUT_KEYS)).items():
            if np.isfinite(v):
                per.setdefault(k, []).append(v)
    out = {f"{k}_corpus_mean": float(np.mean(v)) for k, v in per.items() if not k.endswith(("_ua_ccc", "_f1_ccc"))}
    for short, cls in (("ua", "epoch_ua"), ("f1", "epoch_f1_macro")):
        if f"{cls}_corpus_mean" in out and "epoch_ccc_mean_corpus_mean" in out:
            out[f"epoch_{short}_ccc_corpus_mean"] = (out[f"{cls}_corpus_mean"] + out["epoch_ccc_mean_corpus_mean"]) / 2
    return out


def _cat(outs, key):
    parts = [o[key] for o in outs if o[key] is not None]
    return np.concatenate(parts) if parts and len(parts) == len(outs) else None
