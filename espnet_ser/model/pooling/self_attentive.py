"""Self-attentive pooling: a learned score per frame, softmax over the valid frames, weighted sum.

    e_t = w^T tanh(W h_t + b),   a = softmax(e) over t < length,   out = sum_t a_t h_t

Padded frames get a score of -inf before the softmax, so their weight is exactly 0 and their values
(even inf/NaN-free garbage) never reach the output.
"""

import torch

from espnet_ser.model.pooling.abs_pooling import AbsPooling, valid_mask


class SelfAttentivePooling(AbsPooling):
    def __init__(self, input_size: int, attention_size: int = 128):
        super().__init__()
        self._size = input_size
        self.proj = torch.nn.Linear(input_size, attention_size)
        self.score = torch.nn.Linear(attention_size, 1, bias=False)

    def output_size(self) -> int:
        return self._size

    def forward(self, xs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = valid_mask(xs, lengths)
        scores = self.score(torch.tanh(self.proj(xs))).squeeze(-1)
        scores = scores.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=1)
        # zero padded frames too, so that weight 0 times a non-finite padding value cannot give NaN
        return torch.einsum("bt,btd->bd", weights, xs.masked_fill(~mask.unsqueeze(-1), 0.0))
