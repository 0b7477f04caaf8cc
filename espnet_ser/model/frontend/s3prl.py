"""Frozen s3prl upstream frontend (HuBERT and every other s3prl upstream).

``upstream`` is an s3prl name such as ``hubert_large_ll60k`` (downloaded by s3prl on a machine with
internet access), ``hubert_local`` with ``path_or_url`` pointing at an s3prl-format checkpoint, or
``hf_hubert_custom`` with ``path_or_url`` pointing at a local Hugging Face directory (it needs
``preprocessor_config.json`` and ``layerdrop=0`` there). The upstream is frozen (see ``frozen.py``);
``multilayer_feature: true`` learns a weighted sum of all its layers, otherwise ``layer`` picks one
(-1: the last).

``finetune`` (:mod:`espnet_ser.model.frontend.finetune`) trains part of a HuBERT upstream: the s3prl
model is then converted to its transformers twin (:mod:`espnet_ser.model.frontend.convert`, same
weights) once at construction, and the twin (``tuned``) does all the work, s3prl's copy is dropped.
The twin counts frames as transformers does (s3prl repeats the last frame 1-2 times more) and keeps
s3prl's last state (after the final layer norm) and waveform normalisation.
"""

from typing import Dict, List, Optional, Tuple

import torch
from espnet2.asr.frontend.abs_frontend import AbsFrontend

from espnet_ser import safe_load
from espnet_ser.errors import InputError
from espnet_ser.model.frontend.finetune import finetune_mode
from espnet_ser.model.frontend.frozen import (
    ComputeDtype,
    LayerWeightedSum,
    download_error,
    freeze,
    frozen_cache_states,
    select_layers,
)


class S3prlFrozenFrontend(ComputeDtype, AbsFrontend):
    def __init__(
        self,
        upstream: str = "hubert_large_ll60k",
        path_or_url: Optional[str] = None,
        fs: int = 16000,
        layer: int = -1,
        multilayer_feature: bool = False,
        normalize: bool = False,
        download_dir: Optional[str] = None,
        finetune: Optional[Dict] = None,
    ):
        super().__init__()
        import s3prl.util.download
        from s3prl.nn import S3PRLUpstream

        if fs != 16000:
            raise ValueError(f"s3prl upstreams expect 16 kHz audio, got fs={fs}")
        if upstream not in S3PRLUpstream.available_names():
            raise ValueError(f"unknown s3prl upstream {upstream!r}; see s3prl.nn.S3PRLUpstream.available_names()")
        if download_dir is not None:
            s3prl.util.download.set_dir(download_dir)
        try:
            # s3prl unpickles checkpoints with weights_only=False: a checkpoint named by a config (a packed
            # model's too) would run its code. Every torch.load in here is weights-only instead.
            with safe_load.safe_torch_load():
                self.upstream = S3PRLUpstream(upstream, path_or_url=path_or_url, normalize=normalize)
        except InputError:
            raise
        except (OSError, ConnectionError, RuntimeError, ValueError) as e:
            if path_or_url is not None and not _looks_like_download_failure(e):
                raise
            raise download_error(
                upstream if path_or_url is None else f"{upstream}:{path_or_url}",
                e,
                "copy the checkpoint there and set frontend_conf.path_or_url (e.g. upstream: hubert_local with an "
                "s3prl checkpoint, or upstream: hf_hubert_custom with a Hugging Face directory).",
            ) from e
        freeze(self.upstream)
        self.layer = layer
        self.weighted_sum = LayerWeightedSum(self.upstream.num_layers) if multilayer_feature else None
        sizes = set(self.upstream.hidden_sizes)
        if self.weighted_sum is not None and len(sizes) != 1:
            raise ValueError(f"multilayer_feature needs layers of one size, got {sorted(sizes)}")
        self._size = self.upstream.hidden_sizes[layer] if self.weighted_sum is None else sizes.pop()
        self.tuned = None
        if finetune_mode({"finetune": finetune}) != "none":
            from espnet_ser.model.frontend.convert import hf_frontend_from_s3prl

            self.tuned = hf_frontend_from_s3prl(self, finetune=finetune)
            del self.upstream  # the twin holds the same weights
            self.weighted_sum = None  # the twin's (the same module)

    def finetuned(self):
        """The transformers twin that runs the fine-tuned upstream."""
        return self.tuned

    def output_size(self) -> int:
        return self._size

    def train(self, mode: bool = True):
        super().train(mode)
        if self.tuned is None:
            self.upstream.eval()
        return self

    def set_compute_dtype(self, dtype: torch.dtype) -> None:
        if self.tuned is not None:
            self.tuned.set_compute_dtype(dtype)
        else:
            super().set_compute_dtype(dtype)

    def hidden_states(self, input: torch.Tensor, input_lengths: torch.Tensor) -> Tuple[List[torch.Tensor], torch.Tensor]:
        """Every layer's output (frozen, no grad) and the frame counts."""
        if self.tuned is not None:
            return self.tuned.hidden_states(input, input_lengths)
        with torch.no_grad():
            hidden, hidden_lens = self.upstream(input.to(self.compute_dtype), input_lengths)
        return [h.detach().float() for h in hidden], hidden_lens[self.layer if self.weighted_sum is None else -1]

    def forward(self, input: torch.Tensor, input_lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        if self.tuned is not None:
            return self.tuned(input, input_lengths)
        hidden, lengths = self.hidden_states(input, input_lengths)
        return select_layers(hidden, self.layer, self.weighted_sum), lengths

    def cache_states(self, input: torch.Tensor, input_lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, int]:
        """What the feature cache stores (see ``HFHubertFrontend.cache_states``)."""
        if self.tuned is not None:
            return self.tuned.cache_states(input, input_lengths)
        return frozen_cache_states(self, input, input_lengths)

    def export_twin(self):
        """The transformers twin ONNX export traces (s3prl's own model pads frames in Python)."""
        if self.tuned is not None:
            return self.tuned.export_twin() or self.tuned
        from espnet_ser.model.frontend.convert import hf_frontend_from_s3prl

        return hf_frontend_from_s3prl(self)


def _looks_like_download_failure(e: BaseException) -> bool:
    text = f"{type(e).__name__} {e}".lower()
    return any(k in text for k in ("connection", "resolve", "network", "urlopen", "download", "http", "offline"))
