"""Frozen HuBERT frontend from a Hugging Face model directory (or hub name), via ``transformers``.

ESPnet's ``HuggingFaceFrontend`` returns sample counts as lengths; this frontend computes the frame
counts from the convolutional feature extractor, so that padded frames are known to the encoder and
the pooling layers. ``path_or_name`` is a local directory holding ``config.json`` and the weights
(``model.safetensors`` or ``pytorch_model.bin``), or a hub name that is downloaded on a machine with
internet access.
"""

import math
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
        self._setup(layer, LayerWeightedSum(self.upstream.config.num_hidden_layers + 1) if multilayer_feature else None,
                    normalize_waveform, 1e-7)

    @classmethod
    def from_model(cls, upstream: torch.nn.Module, layer: int = -1, weighted_sum: Optional[torch.nn.Module] = None,
                   normalize_waveform: Optional[bool] = None, normalize_eps: float = 1e-7,
                   s3prl_frames: bool = False) -> "HFHubertFrontend":
        """The frontend around an in-memory ``HubertModel`` (e.g. one converted from s3prl:
        :mod:`espnet_ser.model.frontend.convert`), with a given layer-weight module. ``s3prl_frames``:
        frame counts as s3prl gives them (``ceil(samples / 320)``, the last frame repeated where the
        convolutions give fewer), so a model trained on s3prl features sees the same frames."""
        self = cls.__new__(cls)
        AbsFrontend.__init__(self)
        self.upstream = upstream
        self._setup(layer, weighted_sum, normalize_waveform, normalize_eps, s3prl_frames)
        return self

    def _setup(self, layer, weighted_sum, normalize_waveform, normalize_eps, s3prl_frames: bool = False) -> None:
        freeze(self.upstream)
        cfg = self.upstream.config
        # HuBERT-large (layer-norm feature extractor) expects zero-mean unit-variance waveforms
        self.normalize_waveform = (cfg.feat_extract_norm == "layer") if normalize_waveform is None else normalize_waveform
        self.normalize_eps = normalize_eps  # 1e-7 as transformers' feature extractor; s3prl's layer_norm: 1e-5
        self._convs = list(zip(cfg.conv_kernel, cfg.conv_stride))
        self.layer = layer
        self.weighted_sum = weighted_sum
        self._size = cfg.hidden_size
        self.s3prl_frames = s3prl_frames
        self._hop = math.prod(cfg.conv_stride)  # samples per frame
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
            wav = ((wav - mean) / torch.sqrt(var + self.normalize_eps)).masked_fill(~mask, 0.0)
        with torch.no_grad():
            out = self.upstream(wav.to(self.compute_dtype), attention_mask=mask.long(), output_hidden_states=True)
        hidden = [h.detach().float() for h in out.hidden_states]
        if self.s3prl_frames:  # s3prl's convention, in tensor arithmetic (traceable): one frame per started hop
            # s3prl's last layer is the encoder's output, after its final layer norm (pre-norm layouts);
            # transformers' hidden_states end before it
            hidden[-1] = out.last_hidden_state.detach().float()
            lengths = torch.div(input_lengths - 1, self._hop, rounding_mode="floor") + 1
            idx = torch.arange(lengths.max(), device=input.device).clamp(max=hidden[0].size(1) - 1)
            return [h.index_select(1, idx) for h in hidden], lengths
        return hidden, frames_from_samples(input_lengths, self._convs).clamp(max=hidden[0].size(1))

    def forward(self, input: torch.Tensor, input_lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        hidden, lengths = self.hidden_states(input, input_lengths)
        return select_layers(hidden, self.layer, self.weighted_sum), lengths
