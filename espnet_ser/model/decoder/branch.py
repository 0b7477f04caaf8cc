"""Building blocks shared by the decoder variants (paper section 2).

A *branch* is self-attentive (or other) pooling over the encoder output followed by an MLP
(encoder dim -> 64 -> 32 by default, LeakyReLU, dropout 0.2); its output is the task embedding
(E_D for the discrete task, E_C for the continuous one). Heads map an embedding (or a concatenation
of embeddings, for the hierarchical variants) to class logits or to V/A/D through a ReLU.
"""

from typing import Dict, Optional, Sequence, Tuple, Type

import torch

from espnet_ser.model.decoder.abs_decoder import AbsSERDecoder
from espnet_ser.model.pooling.abs_pooling import AbsPooling
from espnet_ser.model.pooling.self_attentive import SelfAttentivePooling


class EmbeddingBranch(torch.nn.Module):
    """pooling -> [Linear -> LeakyReLU -> Dropout] per hidden size; gives a task embedding."""

    def __init__(self, pooling: AbsPooling, hidden_sizes: Sequence[int], dropout: float, negative_slope: float):
        super().__init__()
        if not hidden_sizes:
            raise ValueError("hidden_sizes must name at least one layer size")
        self.pooling = pooling
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
    """A decoder wired from task embeddings to heads, as the paper's variants are.

    A subclass (made by ``espnet_ser.model.decoder.Variant.load``) names the embeddings each head
    reads: ``class_from`` and ``vad_from`` are tuples of ``"d"`` (E_D, the discrete branch) and ``"c"``
    (E_C, the continuous branch), concatenated in that order; an empty tuple means no such head. The
    branches used are built first (E_D before E_C), then the class head, then the V/A/D head.
    """

    class_from: Tuple[str, ...] = ()
    vad_from: Tuple[str, ...] = ()

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
        self.branches = [b for b in ("d", "c") if b in self.class_from + self.vad_from]
        for b in self.branches:
            pooling = pooling_class(encoder_output_size, **(pooling_conf or {}))
            setattr(self, f"branch_{b}", EmbeddingBranch(pooling, tuple(hidden_sizes), dropout, negative_slope))
        size = lambda names: sum(getattr(self, f"branch_{b}").output_size() for b in names)  # noqa: E731
        if self.class_from:
            self.num_classes = num_classes
            self.class_head = torch.nn.Linear(size(self.class_from), num_classes)
        if self.vad_from:
            self.num_dims = num_dims
            self.vad_head = VADHead(size(self.vad_from), num_dims)

    def forward(self, hs: torch.Tensor, hs_lengths: torch.Tensor) -> Dict[str, Optional[torch.Tensor]]:
        emb = {b: getattr(self, f"branch_{b}")(hs, hs_lengths) for b in self.branches}
        joined = lambda names: emb[names[0]] if len(names) == 1 else torch.cat([emb[b] for b in names], dim=-1)  # noqa: E731
        return {"logits": self.class_head(joined(self.class_from)) if self.class_from else None,
                "vad": self.vad_head(joined(self.vad_from)) if self.vad_from else None}
