"""Base class of the utterance-level pooling layers: (B, T, D) frames + lengths -> (B, D)."""

from abc import ABC, abstractmethod

import torch


class AbsPooling(torch.nn.Module, ABC):
    @abstractmethod
    def output_size(self) -> int:
        raise NotImplementedError

    @abstractmethod
    def forward(self, xs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Pool ``xs`` (B, T, D) over its first ``lengths[b]`` frames; padding never counts."""
        raise NotImplementedError


def valid_mask(xs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """(B, T) bool mask, True on the frames inside each utterance."""
    t = torch.arange(xs.size(1), device=xs.device)
    return t.unsqueeze(0) < lengths.to(xs.device).unsqueeze(1)
