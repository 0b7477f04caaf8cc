"""Frozen HuBERT frontend from a Hugging Face model directory (or hub name), via ``transformers``.

ESPnet's ``HuggingFaceFrontend`` returns sample counts as lengths; this frontend computes the frame
counts from the convolutional feature extractor, so that padded frames are known to the encoder and
the pooling layers. ``path_or_name`` is a local directory holding ``config.json`` and the weights
(``model.safetensors`` or ``pytorch_model.bin``), or a hub name that is downloaded on a machine with
internet access. Any transformers wav2vec 2.0-family model loads (``AutoModel``: HuBERT, wav2vec 2.0, WavLM).

``finetune`` (:mod:`espnet_ser.model.frontend.finetune`) trains part of the upstream instead of
freezing it (top layers, LoRA adapters or all of it); the frozen bottom still runs under no_grad, and
:meth:`HFHubertFrontend.cache_states` / :meth:`HFHubertFrontend.from_cache` split the forward at the
first trainable layer for the feature cache.
"""

import math
import copy
from typing import Dict, List, Optional, Tuple

import torch
from espnet2.asr.frontend.abs_frontend import AbsFrontend

from espnet_ser.model.frontend import finetune as ft
from espnet_ser.model.frontend.frozen import (
    ComputeDtype,
    LayerWeightedSum,
    download_error,
    frames_from_samples,
    freeze,
    frozen_cache_states,
    select_layers,
)


class HFHubertFrontend(ft.SplitForward, ComputeDtype, AbsFrontend):
    def __init__(
        self,
        path_or_name: str = "facebook/hubert-large-ll60k",
        fs: int = 16000,
        layer: int = -1,
        multilayer_feature: bool = False,
        normalize_waveform: Optional[bool] = None,
        finetune: Optional[Dict] = None,
    ):
        super().__init__()
        from transformers import AutoConfig, AutoModel

        if fs != 16000:
            raise ValueError(f"HuBERT expects 16 kHz audio, got fs={fs}")
        try:
            config = AutoConfig.from_pretrained(path_or_name)
            config.layerdrop = 0.0
            self.upstream = AutoModel.from_pretrained(path_or_name, config=config)
        except OSError as e:
            raise download_error(
                path_or_name, e, "save the model with save_pretrained() and set frontend_conf.path_or_name to that directory"
            ) from e
        self._setup(layer, LayerWeightedSum(self.upstream.config.num_hidden_layers + 1) if multilayer_feature else None,
                    normalize_waveform, 1e-7, finetune=finetune)

    @classmethod
    def from_model(cls, upstream: torch.nn.Module, layer: int = -1, weighted_sum: Optional[torch.nn.Module] = None,
                   normalize_waveform: Optional[bool] = None, normalize_eps: float = 1e-7,
                   s3prl_frames: bool = False, finetune: Optional[Dict] = None,
                   normed_last: Optional[bool] = None) -> "HFHubertFrontend":
        """The frontend around an in-memory ``HubertModel`` (e.g. one converted from s3prl:
        :mod:`espnet_ser.model.frontend.convert`), with a given layer-weight module. ``s3prl_frames``:
        frame counts as s3prl gives them (``ceil(samples / 320)``, the last frame repeated where the
        convolutions give fewer), so a model trained on s3prl features sees the same frames.
        ``normed_last`` (default: as ``s3prl_frames``): the last state is the encoder's output after the
        pre-norm layout's final layer norm, as s3prl gives it."""
        self = cls.__new__(cls)
        AbsFrontend.__init__(self)
        self.upstream = upstream
        self._setup(layer, weighted_sum, normalize_waveform, normalize_eps, s3prl_frames, finetune, normed_last)
        return self

    def _setup(self, layer, weighted_sum, normalize_waveform, normalize_eps, s3prl_frames: bool = False,
               finetune: Optional[Dict] = None, normed_last: Optional[bool] = None) -> None:
        freeze(self.upstream)
        cfg = self.upstream.config
        self.finetune = ft.Finetune.parse(finetune, cfg.num_hidden_layers)
        if self.finetune.active:
            ft.check_supported(self.upstream)
        # HuBERT-large (layer-norm feature extractor) expects zero-mean unit-variance waveforms
        self.normalize_waveform = (cfg.feat_extract_norm == "layer") if normalize_waveform is None else normalize_waveform
        self.normalize_eps = normalize_eps  # 1e-7 as transformers' feature extractor; s3prl's layer_norm: 1e-5
        self._convs = list(zip(cfg.conv_kernel, cfg.conv_stride))
        self.layer = layer
        self.weighted_sum = weighted_sum
        self._size = cfg.hidden_size
        self.s3prl_frames = s3prl_frames
        self._hop = math.prod(cfg.conv_stride)  # samples per frame
        self.normed_last = s3prl_frames if normed_last is None else normed_last
        if self.finetune.active:
            if s3prl_frames:
                raise ValueError("a fine-tuned upstream counts frames as transformers does (s3prl_frames: false)")
            if weighted_sum is None and layer not in (-1, cfg.num_hidden_layers):
                raise ValueError(f"fine-tuning trains the top layers: it needs the last layer (layer: -1) or "
                                 f"multilayer_feature: true, not layer {layer}")
            ft.make_trainable(self.upstream, self.finetune, final_norm_used=self.normed_last)
        self._first = self.finetune.first_trainable(cfg.num_hidden_layers)

    def output_size(self) -> int:
        return self._size

    def train(self, mode: bool = True):
        super().train(mode)
        ft.set_train_mode(self.upstream, self.finetune, mode)  # frozen parts: never dropout
        return self

    def _waveform(self, input: torch.Tensor, input_lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """The padded waveform zeroed past each length (and normalised where the upstream expects it), its mask."""
        mask = torch.arange(input.size(1), device=input.device).unsqueeze(0) < input_lengths.unsqueeze(1)
        wav = input.masked_fill(~mask, 0.0)
        if self.normalize_waveform:
            n = input_lengths.clamp(min=1).unsqueeze(1).to(wav.dtype)
            mean = wav.sum(1, keepdim=True) / n
            var = ((wav - mean).masked_fill(~mask, 0.0) ** 2).sum(1, keepdim=True) / n
            wav = ((wav - mean) / torch.sqrt(var + self.normalize_eps)).masked_fill(~mask, 0.0)
        return wav.to(self.compute_dtype), mask

    def _frame_counts(self, input_lengths: torch.Tensor, n_frames: int) -> torch.Tensor:
        """Valid frames per item: the convolutions' output count, at most the padded batch's ``n_frames``."""
        return frames_from_samples(input_lengths, self._convs).clamp(max=n_frames)

    def hidden_states(self, input: torch.Tensor, input_lengths: torch.Tensor) -> Tuple[List[torch.Tensor], torch.Tensor]:
        """Every layer's output and the frame counts: frozen ones under no_grad, trainable ones (``finetune``) with gradients."""
        wav, mask = self._waveform(input, input_lengths)
        if self.finetune.active:
            states, _ = self.split_states(wav, mask, self._first)
            if self.normed_last:
                states[-1] = self._final(states[-1])
            return [s.float() for s in states], self._frame_counts(input_lengths, states[0].size(1))
        with torch.no_grad():
            out = self.upstream(wav, attention_mask=mask.long(), output_hidden_states=True)
        hidden = [h.detach().float() for h in out.hidden_states]
        if self.s3prl_frames:  # s3prl's convention, in tensor arithmetic (traceable): one frame per started hop
            # s3prl's last layer is the encoder's output, after its final layer norm (pre-norm layouts);
            # transformers' hidden_states end before it
            hidden[-1] = out.last_hidden_state.detach().float()
            lengths = torch.div(input_lengths - 1, self._hop, rounding_mode="floor") + 1
            idx = torch.arange(lengths.max(), device=input.device).clamp(max=hidden[0].size(1) - 1)
            return [h.index_select(1, idx) for h in hidden], lengths
        return hidden, self._frame_counts(input_lengths, hidden[0].size(1))

    def forward(self, input: torch.Tensor, input_lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        hidden, lengths = self.hidden_states(input, input_lengths)
        return select_layers(hidden, self.layer, self.weighted_sum), lengths

    # -- the feature cache (recipe stage 4) and training from it
    def cache_states(self, input: torch.Tensor, input_lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, int]:
        """What the feature cache stores for a batch: (B, T, n * D) features, frame counts and n. Frozen:
        the selected layer (all of them for a learnt weighting). Fine-tuned: the frozen states up to the
        one entering the first trainable layer (only that one without a learnt weighting)."""
        if not self.finetune.active:
            return frozen_cache_states(self, input, input_lengths)
        if self._first is None:
            raise ValueError("finetune mode 'all' trains the convolutional encoder: nothing below it can be cached "
                             "(the recipe reads audio: --feats_type raw)")
        wav, mask = self._waveform(input, input_lengths)
        states, _ = self.bottom_states(wav, mask, self._first)
        keep = states if self.weighted_sum is not None else states[-1:]
        return torch.cat([s.float() for s in keep], dim=-1), self._frame_counts(input_lengths, states[0].size(1)), len(keep)

    def from_cache(self, feats: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """The frontend's output from cached states (:meth:`cache_states`): only the trainable top runs."""
        n = feats.size(-1) // self._size
        frozen = list(feats.view(*feats.shape[:2], n, self._size).unbind(2))
        frames = ft.frames_of(lengths, feats.size(1))
        states = self.top_states([s.to(self.compute_dtype) for s in frozen], frames, self._first)
        if self.normed_last:
            states[-1] = self._final(states[-1])
        return select_layers([s.float() for s in states], self.layer, self.weighted_sum), lengths

    def finetuned(self) -> "HFHubertFrontend":
        """The frontend that runs the fine-tuned upstream (this one)."""
        return self

    def keep_top(self) -> "HFHubertFrontend":
        """This frontend for training from the cache: the frozen bottom freed (checkpoints hold the top)."""
        ft.drop_bottom(self.upstream, self._first)
        return self

    def export_twin(self) -> Optional["HFHubertFrontend"]:
        """A copy with LoRA adapters merged into the weights (None: nothing to merge), for ONNX export."""
        if self.finetune.mode != "lora":
            return None
        twin = copy.deepcopy(self)
        ft.merge_adapters(twin.upstream)
        return twin
