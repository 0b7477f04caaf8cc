"""Statistics pooling: per-dimension mean and standard deviation over the valid frames (x-vector style).

The output is ``[mean, std]`` (2 D). The std is the population std (divide by the number of valid
frames), floored at ``sqrt(eps)`` so its gradient stays finite on a one-frame utterance.
"""

import torch

from espnet_ser.model.pooling.abs_pooling import AbsPooling, valid_mask


class StatsPooling(AbsPooling):
    def __init__(self, input_size: int, eps: float = 1e-5):
        super().__init__()
        self._size = input_size
        self.eps = eps

    def output_size(self) -> int:
        return 2 * self._size

    def forward(self, xs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = valid_mask(xs, lengths).unsqueeze(-1).to(xs.dtype)
        n = mask.sum(1).clamp(min=1.0)
        mean = (xs * mask).sum(1) / n
        var = (((xs - mean.unsqueeze(1)) ** 2) * mask).sum(1) / n
        return torch.cat([mean, var.clamp(min=self.eps).sqrt()], dim=-1)
