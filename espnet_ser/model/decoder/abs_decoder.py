"""Base class of the SER decoders.

A decoder maps encoder frames (B, T, D) with lengths to the model outputs:

* ``logits``: (B, num_classes) class scores, or None for a decoder without a discrete head;
* ``vad``: (B, 3) valence/arousal/dominance (>= 0 through ReLU), or None without a continuous head;
* ``members`` (a decoder with ``input_groups`` only): each member's own outputs (one decoder per group with a network,
  then a kernel member per group with ``rbf_features``, then one per group with ``kernel_landmarks``, then a
  kernel ridge member per group with ``kernel_ridge``, then an LDA member per group with ``lda``), whose losses the
  model averages (``logits`` are then the log of the members' fused class distribution).

``forward`` may take ``labels`` (B,), a training batch's classes (-1 where unknown): the model passes them
to decoders that store labelled training inputs (kernel ridge members); at inference there are none.
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
    def forward(self, hs: torch.Tensor, hs_lengths: torch.Tensor,
                labels: Optional[torch.Tensor] = None) -> Dict[str, Optional[torch.Tensor]]:
        raise NotImplementedError
