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

``window`` may also be a list of lengths (``window_shift`` then one shift, None, or one per length): several
*views* of each utterance side by side in each frame, e.g. ``[0, 1.0, 2.0]``, the whole utterance, its 1 s and
its 2 s windows. The frames are the windows of the shortest nonzero length; each frame carries, for every
view in the list's order, the functionals of that view's window whose centre lies nearest the frame's
centre (the earlier one on a tie; the whole utterance for 0) (:func:`nearest_windows`). A frame is then
``len(window) * sum(set sizes)`` wide, view by view, each view's sets in ``feature_set``'s order (the
frontend's ``layout`` names each set's columns in each view: what the classical system's members read), and
``speaker_mvn`` keeps each view's statistics apart (per dimension, over the speaker's frames).

``feature_set`` may also be a list of sets with ``functionals``: their vectors side by side, in the
list's order (e.g. ``[ComParE_2016, eGeMAPSv02]``: 6,373 + 88). Low-level descriptors of several sets are refused: their frames do not align.

It has no trainable parameter and no state, so it goes through the feature cache (``extract_feats``)
and through ``normalize: speaker_mvn`` like the other frozen frontends: with functionals each speaker's
statistics are the mean and std of its utterances' vectors, the classical per-speaker z-scoring.
openSMILE runs on the CPU in its own C++ code, one utterance at a time; it cannot be traced, so such a
model does not export to ONNX. A value openSMILE leaves undefined (NaN) is written as 0.
"""

from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
from espnet2.asr.frontend.abs_frontend import AbsFrontend

from espnet_ser.opensmile_views import FEATURE_LEVELS, FEATURE_SETS, columns, nearest_windows, parse, window_starts

# re-exported: the views' arithmetic lives in espnet_ser.opensmile_views (no torch, for the classical system)
__all__ = ["FEATURE_LEVELS", "FEATURE_SETS", "OpenSmileFrontend", "nearest_windows", "window_starts"]


class OpenSmileFrontend(AbsFrontend):
    def __init__(self, feature_set: Union[str, Sequence[str]] = "eGeMAPSv02", feature_level: str = "lld", fs: int = 16000,
                 window: Union[float, Sequence[float]] = 0.0,
                 window_shift: Union[None, float, Sequence[Optional[float]]] = None):
        super().__init__()
        import opensmile

        sets, self.views = parse(feature_set, feature_level, fs, window, window_shift)
        self.feature_set, self.feature_level, self.fs = feature_set, feature_level, int(fs)
        self.smiles = [opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, s),
                                       feature_level=getattr(opensmile.FeatureLevel, FEATURE_LEVELS[feature_level]))
                       for s in sets]
        self.group_sizes = [len(m.feature_names) for m in self.smiles]
        self._size = sum(self.group_sizes) * len(self.views)
        #: (feature set, view length in seconds, 0 the whole utterance) -> its (start, stop) columns in a frame
        self.layout = columns(sets, self.group_sizes, self.views, self.fs)

    def output_size(self) -> int:
        return self._size

    def features(self, signal: np.ndarray) -> np.ndarray:
        """(T, D) float32 features of one mono signal at ``fs`` (T = 1 for functionals, the number of windows with
        ``window``, of the shortest nonzero one with several views; several sets side by side, view by view)."""
        n, done = len(signal), {}  # (start, end) -> its functionals: a slice two views share is computed once

        def of(start: int, end: int) -> np.ndarray:
            if (start, end) not in done:
                done[start, end] = self.features_of(signal[start:end])
            return done[start, end]

        # each view's windows, one row each (length 0, or a window as long as the signal: the whole signal)
        rows = [np.concatenate([of(s, min(s + length, n)) for s in window_starts(n, length, shift)]) if length
                else of(0, n) for length, shift in self.views]
        if len(rows) == 1:
            return rows[0]
        picks = nearest_windows(n, self.views)
        return np.concatenate([r[p] for r, p in zip(rows, picks)], axis=1)

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
