"""Building blocks shared by the decoder variants (paper section 2).

A *branch* is self-attentive (or other) pooling over the encoder output followed by an MLP
(encoder dim -> 64 -> 32 by default, LeakyReLU, dropout 0.2); its output is the task embedding
(E_D for the discrete task, E_C for the continuous one). Heads map an embedding (or a concatenation
of embeddings, for the hierarchical variants) to class logits or to V/A/D through a ReLU.
"""

from typing import Optional, Sequence, Type

import torch

from espnet_ser.model.decoder.abs_decoder import AbsSERDecoder
from espnet_ser.model.pooling.abs_pooling import AbsPooling
from espnet_ser.model.pooling.self_attentive import SelfAttentivePooling


class EmbeddingBranch(torch.nn.Module):
    """pooling -> [Linear -> LeakyReLU -> Dropout] per hidden size; gives a task embedding."""

    def __init__(
        self,
        input_size: int,
        pooling_class: Type[AbsPooling] = SelfAttentivePooling,
        pooling_conf: Optional[dict] = None,
        hidden_sizes: Sequence[int] = (64, 32),
        dropout: float = 0.2,
        negative_slope: float = 0.01,
    ):
        super().__init__()
        if not hidden_sizes:
            raise ValueError("hidden_sizes must name at least one layer size")
        self.pooling = pooling_class(input_size, **(pooling_conf or {}))
        layers, size = [], self.pooling.output_size()
        for h in hidden_sizes:
            layers += [torch.nn.Linear(size, h), torch.nn.LeakyReLU(negative_slope), torch.nn.Dropout(dropout)]
            size = h
        self.mlp = torch.nn.Sequential(*layers)
        self._size = size

    def output_size(self) -> int:
        return self._size

    def forward(self, hs: torch.Tensor, hs_lengths: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.pooling(hs, hs_lengths))


class VADHead(torch.nn.Module):
    """Linear -> ReLU: continuous outputs are kept non-negative (targets lie on a 0-1 scale).

    The bias starts at 0.5, the middle of the target range, so every output starts in the ReLU's active
    region: an output whose pre-activations all start negative would get no gradient and stay at 0.
    """

    INIT_BIAS = 0.5

    def __init__(self, input_size: int, num_dims: int = 3):
        super().__init__()
        self.linear = torch.nn.Linear(input_size, num_dims)
        torch.nn.init.constant_(self.linear.bias, self.INIT_BIAS)

    def forward(self, emb: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.linear(emb))


class BranchedDecoder(AbsSERDecoder):
    """Holds the constructor arguments every variant shares and builds branches and heads from them."""

    def __init__(
        self,
        encoder_output_size: int,
        num_classes: int,
        pooling_class: Type[AbsPooling] = SelfAttentivePooling,
        pooling_conf: Optional[dict] = None,
        hidden_sizes: Sequence[int] = (64, 32),
        dropout: float = 0.2,
        negative_slope: float = 0.01,
        num_dims: int = 3,
    ):
        super().__init__()
        self._branch_args = dict(
            input_size=encoder_output_size,
            pooling_class=pooling_class,
            pooling_conf=pooling_conf,
            hidden_sizes=tuple(hidden_sizes),
            dropout=dropout,
            negative_slope=negative_slope,
        )
        self._num_classes_total = num_classes
        self._num_dims_total = num_dims

    def make_branch(self) -> EmbeddingBranch:
        return EmbeddingBranch(**self._branch_args)

    def make_class_head(self, input_size: int) -> torch.nn.Linear:
        self.num_classes = self._num_classes_total
        return torch.nn.Linear(input_size, self.num_classes)

    def make_vad_head(self, input_size: int) -> VADHead:
        self.num_dims = self._num_dims_total
        return VADHead(input_size, self.num_dims)
