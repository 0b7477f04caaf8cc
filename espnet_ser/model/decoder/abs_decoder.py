"""Base class of the SER decoders.

A decoder maps encoder frames (B, T, D) with lengths to the model outputs:

* ``logits``: (B, num_classes) class scores, or None for a decoder without a discrete head;
* ``vad``: (B, 3) valence/arousal/dominance (>= 0 through ReLU), or None without a continuous head.
"""

from abc import ABC, abstractmethod
from typing import Dict, Optional

import torch


class AbsSERDecoder(torch.nn.Module, ABC):
    #: number of classes of the discrete head (0 when the decoder has none)
    num_classes: int = 0
    #: number of continuous outputs (0 when the decoder has none)
    num_dims: int = 0

    @abstractmethod
    def forward(self, hs: torch.Tensor, hs_lengths: torch.Tensor) -> Dict[str, Optional[torch.Tensor]]:
        raise NotImplementedError
