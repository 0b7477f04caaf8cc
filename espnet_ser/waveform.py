"""Waveforms to the model's form: one channel, the model's sample rate. One resampler for the whole
toolkit (torchaudio's band-limited sinc interpolation): the recipe's format stage (stage 2) and inference
use the same one, so training audio and inference audio are converted alike.

>>> import torch
>>> to_mono(torch.tensor([[1.0, 3.0], [2.0, 4.0]])).tolist()   # (samples, channels): mean over channels
[2.0, 3.0]
>>> resample(torch.zeros(44100), 44100, 16000).shape
torch.Size([16000])
"""

from pathlib import Path
from typing import Union

import numpy as np
import torch

from espnet_ser.errors import InputError


#: the shortest input a model is given (25 ms at 16 kHz: one analysis window of fbank and HuBERT)
MIN_SAMPLES = 400


def to_mono(waveform: Union[np.ndarray, torch.Tensor]) -> torch.Tensor:
    """A 1-D float32 waveform; a 2-D one is averaged over its channels. The layout is (samples,
    channels), soundfile's, unless the first axis is clearly the channel axis (at most 8 rows and more
    columns than rows). Anything that is not an array of numbers is an error."""
    if isinstance(waveform, (str, bytes, Path)):
        raise InputError(f"expected a waveform (an array of samples), got {type(waveform).__name__} {str(waveform)[:80]!r}; "
                         "for a file use predict_file(path)")
    try:
        wav = torch.as_tensor(np.asarray(waveform) if not isinstance(waveform, torch.Tensor) else waveform)
        wav = wav.to(torch.float32)
    except (TypeError, ValueError, RuntimeError) as e:
        raise InputError(f"expected a waveform (an array of samples): {e}") from None
    if wav.dim() == 1:
        return wav
    if wav.dim() != 2:
        raise InputError(f"expected a 1-D or 2-D waveform, got shape {tuple(wav.shape)}")
    channels_first = wav.size(0) <= 8 and wav.size(1) > wav.size(0)
    return wav.mean(dim=0) if channels_first else wav.mean(dim=1)


def check_waveform(wav: torch.Tensor, where: str, min_samples: int = MIN_SAMPLES) -> torch.Tensor:
    """``wav`` when a model can score it: finite samples, at least ``min_samples``; else an error naming
    ``where`` (a NaN or infinite sample would turn every output into NaN)."""
    if wav.numel() < min_samples:
        raise InputError(f"{where}: {wav.numel()} samples, too short to score (at least {min_samples})")
    if not bool(torch.isfinite(wav).all()):
        bad = int((~torch.isfinite(wav)).sum())
        raise InputError(f"{where}: {bad} NaN or infinite sample(s): not audio that can be scored")
    return wav


def resample(wav: torch.Tensor, fs: int, target_fs: int) -> torch.Tensor:
    """``wav`` (..., samples) from ``fs`` to ``target_fs`` Hz (unchanged when equal)."""
    if not int(fs) > 0:
        raise InputError(f"sample rate must be positive, got {fs}")
    if int(fs) == int(target_fs):
        return wav
    import torchaudio.functional

    return torchaudio.functional.resample(wav, int(fs), int(target_fs))
