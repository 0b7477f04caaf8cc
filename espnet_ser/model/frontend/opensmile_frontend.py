"""The SER field's standard hand-crafted features as a frozen frontend (``frontend: opensmile``).

audEERING's ``opensmile`` package computes them; this class only batches and pads:

* ``feature_set``: ``eGeMAPSv02`` (the extended Geneva minimalistic set), ``ComParE_2016`` (the
  Interspeech ComParE set), ``emobase`` (openSMILE's emotion set: 988 functionals) or ``GeMAPSv01b``;
* ``feature_level``: ``lld`` (low-level descriptors, one frame per 10 ms: 25 for eGeMAPS, 65 for
  ComParE, for the conformer/pooling path), ``lld_deltas`` (their deltas, ComParE) or ``functionals``
  (one vector per utterance: 88 for eGeMAPS, 6,373 for ComParE; a sequence of one frame, so any
  pooling passes it through: the pooling-free head of the classical systems).

``window`` (seconds, with ``functionals``; 0, the default, is the whole utterance) computes the functionals
of every window of that length instead, shifted by ``window_shift`` (default half the window): a sequence of
vectors, one per window (:func:`window_starts`), which the cache and ``speaker_mvn`` treat like frames (a
speaker's statistics over all its windows). An utterance no longer than the window is one window.

``feature_set`` may also be a list of sets with ``functionals``: their vectors side by side, in the
list's order (e.g. ``[ComParE_2016, eGeMAPSv02]``: 6,373 + 88; ``decoder_conf input_groups`` can give
each its own decoder). Low-level descriptors of several sets are refused: their frames do not align.

It has no trainable parameter and no state, so it goes through the feature cache (``extract_feats``)
and through ``normalize: speaker_mvn`` like the other frozen frontends: with functionals each speaker's
statistics are the mean and std of its utterances' vectors, the classical per-speaker z-scoring.
openSMILE runs on the CPU in its own C++ code, one utterance at a time; it cannot be traced, so such a
model does not export to ONNX. A value openSMILE leaves undefined (NaN) is written as 0.
"""

from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from espnet2.asr.frontend.abs_frontend import AbsFrontend

from espnet_ser.errors import InputError

FEATURE_SETS = ("eGeMAPSv02", "ComParE_2016", "emobase", "GeMAPSv01b")
FEATURE_LEVELS = {"lld": "LowLevelDescriptors", "lld_deltas": "LowLevelDescriptors_Deltas", "functionals": "Functionals"}


def window_starts(n: int, length: int, shift: int) -> List[int]:
    """Start samples of the windows of ``length`` samples shifted by ``shift`` over ``n`` samples; a last window
    ends at ``n`` where the shifts leave its end uncovered; ``n <= length`` gives one window, from 0.

    >>> window_starts(32000, 16000, 8000), window_starts(36800, 16000, 8000), window_starts(9000, 16000, 8000)
    ([0, 8000, 16000], [0, 8000, 16000, 20800], [0])
    """
    starts = list(range(0, max(n - length, 0) + 1, shift))
    if n > length and starts[-1] + length < n:
        starts.append(n - length)
    return starts


class OpenSmileFrontend(AbsFrontend):
    def __init__(self, feature_set: Union[str, Sequence[str]] = "eGeMAPSv02", feature_level: str = "lld", fs: int = 16000,
                 window: float = 0.0, window_shift: Optional[float] = None):
        super().__init__()
        import opensmile

        sets = [feature_set] if isinstance(feature_set, str) else list(feature_set)
        bad = [s for s in sets if s not in FEATURE_SETS]
        if not sets or bad:
            raise InputError(f"frontend_conf feature_set must be one of {FEATURE_SETS} or a list of them, got {feature_set!r}")
        if feature_level not in FEATURE_LEVELS:
            raise InputError(f"frontend_conf feature_level must be one of {tuple(FEATURE_LEVELS)}, got {feature_level!r}")
        if len(sets) > 1 and feature_level != "functionals":
            raise InputError(f"frontend_conf feature_set {sets}: several sets only with feature_level functionals "
                             "(the sets' low-level descriptor frames do not align)")
        if len(set(sets)) < len(sets):
            raise InputError(f"frontend_conf feature_set {sets} names a set twice")
        if window and feature_level != "functionals":
            raise InputError(f"frontend_conf window {window!r}: functionals of fixed windows need feature_level functionals")
        try:
            length = float(window)
            shift = length / 2 if window_shift is None else float(window_shift)
        except (TypeError, ValueError):
            length = shift = float("nan")
        self.feature_set, self.feature_level, self.fs = feature_set, feature_level, int(fs)
        self.window = int(round(length * self.fs)) if length > 0 else 0  # samples; 0: the whole utterance
        self.shift = int(round(shift * self.fs)) if shift > 0 else 0
        if not (length == 0 or (self.window >= 1 and self.shift >= 1)):
            raise InputError(f"frontend_conf window {window!r} and window_shift {window_shift!r}: seconds, the window 0 "
                             f"(the whole utterance) or at least one sample at fs {self.fs}, the shift at least one sample")
        self.smiles = [opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, s),
                                       feature_level=getattr(opensmile.FeatureLevel, FEATURE_LEVELS[feature_level]))
                       for s in sets]
        self.group_sizes = [len(m.feature_names) for m in self.smiles]
        self._size = sum(self.group_sizes)

    def output_size(self) -> int:
        return self._size

    def features(self, signal: np.ndarray) -> np.ndarray:
        """(T, D) float32 features of one mono signal at ``fs`` (T = 1 for functionals, the number of windows with
        ``window``; several sets side by side)."""
        if self.window:
            return np.concatenate([self.features_of(signal[s: s + self.window])
                                   for s in window_starts(len(signal), self.window, self.shift)])
        return self.features_of(signal)

    def features_of(self, signal: np.ndarray) -> np.ndarray:
        parts = [m.process_signal(signal, self.fs).to_numpy(np.float32) for m in self.smiles]
        return np.nan_to_num(np.concatenate([p.reshape(-1, n) for p, n in zip(parts, self.group_sizes)], axis=1))

    def forward(self, input: torch.Tensor, input_lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        arrays = [self.features(x[: int(n)].detach().float().cpu().numpy()) for x, n in zip(input, input_lengths)]
        lengths = torch.tensor([a.shape[0] for a in arrays], dtype=torch.long)
        out = torch.zeros(len(arrays), max(int(lengths.max()), 1), self._size)
        for i, a in enumerate(arrays):
            out[i, : a.shape[0]] = torch.from_numpy(a)
        return out.to(input.device), lengths.to(input.device)
