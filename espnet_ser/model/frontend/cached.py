"""Frontend over features that ``extract_feats`` stored once (the frozen upstream is not run in training).

The cache holds, per utterance, a (T, L * D) array: the L layers the source frontend needs, side by
side (L = 1 for a single layer or fbank; L = all layers when the source learns a weighted sum, so the
weights stay trainable — at L times the disk space). ``forward`` splits them and applies the same
softmax-weighted sum as the on-the-fly frontend (parameter ``weighted_sum.weights``, same name, so
checkpoints line up).

``source`` and the remaining keyword arguments record the source frontend and its configuration
(YAML ``frontend_conf`` entries of the original config merge in here);
``espnet_ser.model.frontend.source_frontend`` rebuilds that frontend so that a cached-feature model can
still be applied to audio (``Speech2Emotion`` does this).
"""

from typing import Dict, List, Optional, Tuple

import torch
from espnet2.asr.frontend.abs_frontend import AbsFrontend

from espnet_ser.model.frontend.frozen import LayerWeightedSum


class CachedFeatures(AbsFrontend):
    def __init__(self, feat_dim: int, num_layers: int = 1, source: Optional[str] = None, **source_conf):
        super().__init__()
        if feat_dim <= 0 or num_layers <= 0:
            raise ValueError(f"feat_dim and num_layers must be positive, got {feat_dim}, {num_layers}")
        self.feat_dim = int(feat_dim)
        self.num_layers = int(num_layers)
        self.weighted_sum = LayerWeightedSum(self.num_layers) if self.num_layers > 1 else None
        self.source = source
        self.source_conf: Dict = dict(source_conf)

    def output_size(self) -> int:
        return self.feat_dim

    def forward(self, input: torch.Tensor, input_lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        if input.size(-1) != self.feat_dim * self.num_layers:
            raise ValueError(f"cached features have {input.size(-1)} columns, expected {self.num_layers} x {self.feat_dim}")
        if self.weighted_sum is None:
            return input, input_lengths
        layers: List[torch.Tensor] = list(input.view(*input.shape[:2], self.num_layers, self.feat_dim).unbind(2))
        return self.weighted_sum(layers), input_lengths


def source_features(frontend: torch.nn.Module, speech: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, int]:
    """What a cache stores for a batch: (B, T, L * D) features, frame counts and L.

    A frozen SSL frontend (``hidden_states``) gives the layer it selects, or every layer when it
    learns a weighted sum; any other frontend (fbank) gives its output.
    """
    if hasattr(frontend, "hidden_states"):
        hidden, out_lens = frontend.hidden_states(speech, lengths)
        layers = hidden if frontend.weighted_sum is not None else [hidden[frontend.layer]]
        return torch.cat(layers, dim=-1), out_lens, len(layers)
    with torch.no_grad():
        feats, out_lens = frontend(speech, lengths)
    return feats, out_lens, 1
