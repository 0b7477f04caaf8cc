"""Speech2Emotion: a trained SER model applied to a waveform.

>>> s2e = Speech2Emotion("exp/ser_x/config.yaml", "exp/ser_x/valid.ccc_mean.best.pth")  # doctest: +SKIP
>>> s2e(waveform, fs=44100)  # doctest: +SKIP
{'emotion': 'angry', 'probs': {'neutral': 0.1, ...}, 'vad': {'valence': 0.3, 'arousal': 0.8, 'dominance': 0.6}}

Input audio may have any sample rate (it is resampled to the model's) and any number of channels
(averaged to mono). A 2-D array is read as (samples, channels), soundfile's layout, unless its first
axis is clearly the channel axis (at most 8 rows and more columns than rows).
"""

from pathlib import Path
from typing import Dict, Optional, Union

import numpy as np
import torch

from espnet_ser import VAD_DIMS
from espnet_ser.tasks.ser import SERTask


def to_mono(waveform: Union[np.ndarray, torch.Tensor]) -> torch.Tensor:
    wav = torch.as_tensor(np.asarray(waveform) if not isinstance(waveform, torch.Tensor) else waveform)
    wav = wav.to(torch.float32)
    if wav.dim() == 1:
        return wav
    if wav.dim() != 2:
        raise ValueError(f"expected a 1-D or 2-D waveform, got shape {tuple(wav.shape)}")
    channels_first = wav.size(0) <= 8 and wav.size(1) > wav.size(0)
    return wav.mean(dim=0) if channels_first else wav.mean(dim=1)


def resample(wav: torch.Tensor, fs: int, target_fs: int) -> torch.Tensor:
    if fs == target_fs:
        return wav
    import torchaudio.functional

    return torchaudio.functional.resample(wav, fs, target_fs)


class Speech2Emotion:
    def __init__(
        self,
        train_config: Union[str, Path],
        model_file: Optional[Union[str, Path]] = None,
        device: str = "cpu",
    ):
        model, args = SERTask.build_model_from_file(train_config, model_file, device)
        if model.frontend is None:
            raise ValueError(
                f"{train_config}: this model reads cached features (input_size={args.input_size}), not audio; "
                "extract features with the same frontend first"
            )
        self.model = model.eval()
        self.args = args
        self.device = device
        self.class_list = list(model.class_list)
        self.fs = int((args.frontend_conf or {}).get("fs", 16000))

    @torch.no_grad()
    def predict_batch(self, speech: torch.Tensor, lengths: torch.Tensor) -> Dict[str, Optional[torch.Tensor]]:
        """Raw model outputs for a padded batch of mono waveforms at the model's sample rate."""
        return self.model.predict(speech.to(self.device), lengths.to(self.device))

    @torch.no_grad()
    def __call__(self, waveform: Union[np.ndarray, torch.Tensor], fs: int = 16000) -> Dict:
        wav = resample(to_mono(waveform), int(fs), self.fs)
        if wav.numel() == 0:
            raise ValueError("empty waveform")
        out = self.predict_batch(wav.unsqueeze(0), torch.tensor([wav.numel()]))
        return self.format(out, 0)

    def format(self, out: Dict[str, Optional[torch.Tensor]], i: int) -> Dict:
        result: Dict = {"emotion": None, "probs": None, "vad": None}
        if out["probs"] is not None:
            p = out["probs"][i].float().cpu().tolist()
            result["probs"] = dict(zip(self.class_list, p))
            result["emotion"] = self.class_list[int(np.argmax(p))]
        if out["vad"] is not None:
            result["vad"] = dict(zip(VAD_DIMS, out["vad"][i].float().cpu().tolist()))
        return result
