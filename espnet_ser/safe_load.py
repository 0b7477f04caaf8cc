"""Loading checkpoints without running code from them.

``torch.load(weights_only=True)`` unpickles tensors, plain containers and numbers only; a crafted file
whose pickle would call a function is refused. ESPnet's checkpoints also hold a few harmless
non-tensor objects (the reporter's ``timedelta`` and numpy scalars), allowed here by name and nothing
else. :func:`load` is what the toolkit calls; :func:`safe_torch_load` makes ESPnet's own ``torch.load``
calls (resume, n-best averaging, ``weights_only=False`` in ESPnet 202511) go through it while
training runs.
"""

import contextlib
import datetime
import pickle
import re
from pathlib import Path
from typing import Union

import numpy as np
import torch

from espnet_ser.errors import InputError

SAFE_GLOBALS = [datetime.timedelta, np.dtype, np._core.multiarray.scalar,
                *{type(np.dtype(t)) for t in (np.float64, np.float32, np.int64, np.int32, np.bool_)}]
_original_load = torch.load


def load(path: Union[str, Path], map_location="cpu"):
    """Tensors and plain data from ``path``; anything else is an error naming the file."""
    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            return _original_load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        found = re.search(r"GLOBAL (\S+)", str(e))
        what = f"it would call {found.group(1)}" if found else "it holds objects other than tensors and plain data"
        raise InputError(f"{path}: refused to load: {what}; only tensors and plain data are read "
                         "(a checkpoint from an untrusted source?)") from None


def _load_anything(f, map_location=None, *args, weights_only=None, **kwargs):
    if not isinstance(f, (str, Path)):
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            return _original_load(f, map_location=map_location, *args, weights_only=True, **kwargs)
    return load(f, map_location)


@contextlib.contextmanager
def safe_torch_load():
    """Within the block every ``torch.load`` is a weights-only load (whatever ``weights_only`` it asks)."""
    torch.load = _load_anything
    try:
        yield
    finally:
        torch.load = _original_load
