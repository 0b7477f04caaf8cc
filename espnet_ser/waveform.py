"""Waveforms to the model's form: one channel, the model's sample rate. One resampler for the whole
toolkit (torchaudio's band-limited sinc interpolation): the recipe's format stage (stage 2) and inference
use the same one, so training audio and inference audio are converted alike.

>>> import torch
>>> to_mono(torch.tensor([[1.0, 3.0], [2.0, 4.0]])).tolist()   # (samples, channels): mean over channels
[2.0, 3.0]
>>> resample(torch.zeros(44100), 44100, 16000).shape
torch.Size([16000])
"""

from typing import Union

import numpy as np
import torch

from espnet_ser.errors import InputError


def to_mono(waveform: Union[np.ndarray, torch.Tensor]) -> torch.Tensor:
    """A 1-D float32 waveform; a 2-D one is averaged over its channels. The layout is (samples,
    channels), soundfile's, unless the first axis is clearly the channel axis (at most 8 rows and more
    columns than rows)."""
    wav = torch.as_tensor(np.asarray(waveform) if not isinstance(waveform, torch.Tensor) else waveform)
    wav = wav.to(torch.float32)
    if wav.dim() == 1:
        return wav
    if wav.dim() != 2:
        raise InputError(f"expected a 1-D or 2-D waveform, got shape {tuple(wav.shape)}")
    channels_first = wav.size(0) <= 8 and wav.size(1) > wav.size(0)
    return wav.mean(dim=0) if channels_first else wav.mean(dim=1)


def resample(wav: torch.Tensor, fs: int, target_fs: int) -> torch.Tensor:
    """``wav`` (..., samples) from ``fs`` to ``target_fs`` Hz (unchanged when equal)."""
    if int(fs) == int(target_fs):
        return wav
    import torchaudio.functional

    return torchaudio.functional.resample(wav, int(fs), int(target_fs))
