"""Frontend over features that ``extract_feats`` stored once (the frozen upstream is not run in training).

The cache holds, per utterance, a (T, L * D) array: the L layers the source frontend needs, side by
side (L = 1 for a single layer or fbank; L = all layers when the source learns a weighted sum, so the
weights stay trainable — at L times the disk space). ``forward`` splits them and applies the same
softmax-weighted sum as the on-the-fly frontend (parameter ``weighted_sum.weights``, same name, so
checkpoints line up). A source frontend that fine-tunes its upstream (``finetune`` in its
configuration) caches the frozen states below its first trainable layer instead; this frontend then
holds the source's trainable top (``top``: pretrained weights, frozen bottom freed) and runs it.

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
        # a fine-tuned source: the cache holds the frozen states below its first trainable layer, and the
        # trainable top of the source (pretrained weights, its bottom freed) runs here
        self.top = None
        if source is not None and finetuned(source_conf):
            from espnet_ser.model.frontend import frontend_choices

            self.weighted_sum = None
            self.top = frontend_choices.get_class(source)(**self.source_conf).finetuned().keep_top()

    def output_size(self) -> int:
        return self.feat_dim

    def forward(self, input: torch.Tensor, input_lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        if input.size(-1) != self.feat_dim * self.num_layers:
            raise ValueError(f"cached features have {input.size(-1)} columns, expected {self.num_layers} x {self.feat_dim}")
        if self.top is not None:
            return self.top.from_cache(input, input_lengths)
        if self.weighted_sum is None:
            return input, input_lengths
        layers: List[torch.Tensor] = list(input.view(*input.shape[:2], self.num_layers, self.feat_dim).unbind(2))
        return self.weighted_sum(layers), input_lengths


def finetuned(frontend_conf: Dict) -> bool:
    """Whether a frontend configuration fine-tunes its upstream (``finetune`` with a mode other than none)."""
    from espnet_ser.model.frontend.finetune import finetune_mode

    return finetune_mode(frontend_conf) != "none"


def source_features(frontend: torch.nn.Module, speech: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, int]:
    """What a cache stores for a batch: (B, T, L * D) features, frame counts and L.

    An SSL frontend says itself (``cache_states``: the layer it selects, every layer when it learns a
    weighted sum, or, fine-tuned, the frozen states below its first trainable layer); any other frontend
    (fbank, openSMILE) gives its output.
    """
    if hasattr(frontend, "cache_states"):
        with torch.no_grad():
            return frontend.cache_states(speech, lengths)
    with torch.no_grad():
        feats, out_lens = frontend(speech, lengths)
    return feats, out_lens, 1
