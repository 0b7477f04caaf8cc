"""Mean pooling over the valid frames."""

import torch

from espnet_ser.model.pooling.abs_pooling import AbsPooling


class MeanPooling(AbsPooling):
    """The mean of each utterance's valid frames, summed over exactly those frames: the same bits whatever the
    padding of its batch (a sum over the padded length rounds differently as that length changes)."""

    def __init__(self, input_size: int):
        super().__init__()
        self._size = input_size

    def output_size(self) -> int:
        return self._size

    def forward(self, xs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        counts = lengths.clamp(min=0, max=xs.shape[1]).tolist()
        return torch.stack([x[: int(n)].sum(0) / max(int(n), 1) for x, n in zip(xs, counts)])  # no frame: zeros
