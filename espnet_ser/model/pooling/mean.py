"""Mean pooling over the valid frames."""

import torch

from espnet_ser.model.pooling.abs_pooling import AbsPooling, valid_mask


class MeanPooling(AbsPooling):
    def __init__(self, input_size: int):
        super().__init__()
        self._size = input_size

    def output_size(self) -> int:
        return self._size

    def forward(self, xs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = valid_mask(xs, lengths).unsqueeze(-1).to(xs.dtype)
        return (xs * mask).sum(1) / mask.sum(1).clamp(min=1.0)
