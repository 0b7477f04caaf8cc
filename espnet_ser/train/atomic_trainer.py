"""ESPnet's Trainer with crash-safe checkpoint files.

ESPnet writes ``checkpoint.pth`` (and the per-epoch model files) with ``torch.save`` straight to the
final name. A job killed during that write (a cluster pre-emption, a time limit) leaves a truncated
checkpoint, and the re-run stage then fails to resume (``EOFError``). While training runs, this
trainer makes every ``torch.save`` to a path write ``<name>.tmp`` and rename it onto ``<name>``
(atomic on POSIX): a checkpoint on disk is always a complete one, the previous epoch's or the new one.
"""

import contextlib
import os
from pathlib import Path

import torch
from espnet2.train.trainer import Trainer

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
        with atomic_torch_save():
            return super().run(*args, **kwargs)
