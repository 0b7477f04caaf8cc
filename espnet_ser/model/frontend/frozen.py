"""Shared behaviour of the frozen self-supervised frontends.

The upstream model is frozen: its parameters have ``requires_grad=False`` (so the optimizer gets
none of them and keeps no state for them), it always runs in eval mode (no dropout) and under
``torch.no_grad()``. What stays trainable is the optional learned weighted sum of its layers.
"""

from typing import List, Optional, Tuple

import torch


class LayerWeightedSum(torch.nn.Module):
    """Softmax-normalised learned weights over L layers (all start equal): sum_l w_l * h_l."""

    def __init__(self, num_layers: int):
        super().__init__()
        self.weights = torch.nn.Parameter(torch.zeros(num_layers))

    def forward(self, layers: List[torch.Tensor]) -> torch.Tensor:
        if len(layers) != self.weights.numel():
            raise ValueError(f"expected {self.weights.numel()} layers, got {len(layers)}")
        w = torch.softmax(self.weights, dim=0)
        return torch.einsum("l,lbtd->btd", w.to(layers[0].dtype), torch.stack(layers, dim=0))


def select_layers(
    hidden: List[torch.Tensor], layer: int, weighted_sum: Optional[LayerWeightedSum]
) -> torch.Tensor:
    """One hidden layer (``layer``, python indexing) or their learned weighted sum."""
    if weighted_sum is not None:
        return weighted_sum(hidden)
    return hidden[layer]


def freeze(module: torch.nn.Module) -> None:
    for p in module.parameters():
        p.requires_grad_(False)
    module.eval()


def frozen_cache_states(frontend, speech: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, int]:
    """What a feature cache stores for a frozen SSL frontend: the layer it selects, or every layer when
    it learns a weighted sum, side by side: (B, T, L * D), frame counts, L."""
    hidden, out_lens = frontend.hidden_states(speech, lengths)
    layers = hidden if frontend.weighted_sum is not None else [hidden[frontend.layer]]
    return torch.cat(layers, dim=-1), out_lens, len(layers)


class DownloadNeeded(RuntimeError):
    """A pretrained upstream is not available locally and could not be downloaded."""


def download_error(name: str, exc: BaseException, hint: str) -> DownloadNeeded:
    reason = " ".join(str(exc).split())
    return DownloadNeeded(
        f"could not load the pretrained upstream {name!r}: it is not in the local cache and downloading it "
        f"failed ({type(exc).__name__}: {reason}). On a machine without internet access, {hint}"
    )


def frames_from_samples(lengths: torch.Tensor, convs: List[Tuple[int, int]]) -> torch.Tensor:
    """Frame counts after a stack of 1-D convolutions (kernel, stride), no padding (wav2vec2/HuBERT)."""
    out = lengths.clone()
    for kernel, stride in convs:
        out = torch.div(out - kernel, stride, rounding_mode="floor") + 1
    return out.clamp(min=0)


class ComputeDtype:
    """Mixin of the frozen frontends: run the upstream in another float type (``espnet_ser.compute_dtype``).

    ``set_compute_dtype(torch.bfloat16)`` casts the frozen weights once; ``_run`` casts the input in and
    the layer outputs back to float32, so everything after the upstream stays fp32.
    """

    compute_dtype = torch.float32

    def set_compute_dtype(self, dtype: torch.dtype) -> None:
        self.compute_dtype = dtype
        self.upstream.to(dtype)

