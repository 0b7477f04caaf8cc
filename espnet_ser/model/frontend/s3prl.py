"""Frozen s3prl upstream frontend (HuBERT and every other s3prl upstream).

``upstream`` is an s3prl name such as ``hubert_large_ll60k`` (downloaded by s3prl on a machine with
internet access), ``hubert_local`` with ``path_or_url`` pointing at an s3prl-format checkpoint, or
``hf_hubert_custom`` with ``path_or_url`` pointing at a local Hugging Face directory (it needs
``preprocessor_config.json`` and ``layerdrop=0`` there). The upstream is frozen (see ``frozen.py``);
``multilayer_feature: true`` learns a weighted sum of all its layers, otherwise ``layer`` picks one
(-1: the last).
"""

from typing import List, Optional, Tuple

import torch
from espnet2.asr.frontend.abs_frontend import AbsFrontend

from espnet_ser import safe_load
from espnet_ser.errors import InputError
from espnet_ser.model.frontend.frozen import ComputeDtype, LayerWeightedSum, download_error, freeze, select_layers


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

    def output_size(self) -> int:
        return self._size

    def train(self, mode: bool = True):
        super().train(mode)
        self.upstream.eval()
        return self

    def hidden_states(self, input: torch.Tensor, input_lengths: torch.Tensor) -> Tuple[List[torch.Tensor], torch.Tensor]:
        """Every layer's output (frozen, no grad) and the frame counts."""
        with torch.no_grad():
            hidden, hidden_lens = self.upstream(input.to(self.compute_dtype), input_lengths)
        return [h.detach().float() for h in hidden], hidden_lens[self.layer if self.weighted_sum is None else -1]

    def forward(self, input: torch.Tensor, input_lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        hidden, lengths = self.hidden_states(input, input_lengths)
        return select_layers(hidden, self.layer, self.weighted_sum), lengths


def _looks_like_download_failure(e: BaseException) -> bool:
    text = f"{type(e).__name__} {e}".lower()
    return any(k in text for k in ("connection", "resolve", "network", "urlopen", "download", "http", "offline"))
