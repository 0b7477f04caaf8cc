"""Frozen HuBERT frontend from a Hugging Face model directory (or hub name), via ``transformers``.

ESPnet's ``HuggingFaceFrontend`` returns sample counts as lengths; this frontend computes the frame
counts from the convolutional feature extractor, so that padded frames are known to the encoder and
the pooling layers. ``path_or_name`` is a local directory holding ``config.json`` and the weights
(``model.safetensors`` or ``pytorch_model.bin``), or a hub name that is downloaded on a machine with
internet access.
"""

from typing import List, Optional, Tuple

import torch
from espnet2.asr.frontend.abs_frontend import AbsFrontend

from espnet_ser.model.frontend.frozen import (
    ComputeDtype,
    LayerWeightedSum,
    download_error,
    frames_from_samples,
    freeze,
    select_layers,
)


class HFHubertFrontend(ComputeDtype, AbsFrontend):
    def __init__(
        self,
        path_or_name: str = "facebook/hubert-large-ll60k",
        fs: int = 16000,
        layer: int = -1,
        multilayer_feature: bool = False,
        normalize_waveform: Optional[bool] = None,
    ):
        super().__init__()
        from transformers import HubertConfig, HubertModel

        if fs != 16000:
            raise ValueError(f"HuBERT expects 16 kHz audio, got fs={fs}")
        try:
            config = HubertConfig.from_pretrained(path_or_name)
            config.layerdrop = 0.0
            self.upstream = HubertModel.from_pretrained(path_or_name, config=config)
        except OSError as e:
            raise download_error(
                path_or_name, e, "save the model with save_pretrained() and set frontend_conf.path_or_name to that directory"
            ) from e
        freeze(self.upstream)
        cfg = self.upstream.config
        # HuBERT-large (layer-norm feature extractor) expects zero-mean unit-variance waveforms
        self.normalize_waveform = (cfg.feat_extract_norm == "layer") if normalize_waveform is None else normalize_waveform
        self._convs = list(zip(cfg.conv_kernel, cfg.conv_stride))
        self.layer = layer
        num_layers = cfg.num_hidden_layers + 1  # the CNN/projection output plus every transformer layer
        self.weighted_sum = LayerWeightedSum(num_layers) if multilayer_feature else None
        self._size = cfg.hidden_size

    def output_size(self) -> int:
        return self._size

    def train(self, mode: bool = True):
        super().train(mode)
        self.upstream.eval()  # frozen: never dropout
        return self

    def hidden_states(self, input: torch.Tensor, input_lengths: torch.Tensor) -> Tuple[List[torch.Tensor], torch.Tensor]:
        """Every layer's output (frozen, no grad) and the frame counts."""
        mask = torch.arange(input.size(1), device=input.device).unsqueeze(0) < input_lengths.unsqueeze(1)
        wav = input.masked_fill(~mask, 0.0)
        if self.normalize_waveform:
            n = input_lengths.clamp(min=1).unsqueeze(1).to(wav.dtype)
            mean = wav.sum(1, keepdim=True) / n
            var = ((wav - mean).masked_fill(~mask, 0.0) ** 2).sum(1, keepdim=True) / n
            wav = ((wav - mean) / torch.sqrt(var + 1e-7)).masked_fill(~mask, 0.0)
        with torch.no_grad():
            out = self.upstream(wav.to(self.compute_dtype), attention_mask=mask.long(), output_hidden_states=True)
        hidden = [h.detach().float() for h in out.hidden_states]
        return hidden, frames_from_samples(input_lengths, self._convs).clamp(max=hidden[0].size(1))

    def forward(self, input: torch.Tensor, input_lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        hidden, lengths = self.hidden_states(input, input_lengths)
        return select_layers(hidden, self.layer, self.weighted_sum), lengths
