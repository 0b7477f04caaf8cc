"""Frontends (audio -> frames) and their registry (``--frontend``).

Frozen self-supervised upstreams (``s3prl``, ``hf_hubert``), ESPnet's log-mel ``fbank``, openSMILE's
eGeMAPS and ComParE sets (``opensmile``: frame-level descriptors or utterance functionals), and ``cached``:
features a frozen frontend computed once (``espnet_ser.recipe.feature_cache``), which a model trained
on them reads instead of audio; :func:`source_frontend` and :class:`AudioThroughCache` put the source
frontend back in front of such a model for inference on audio.
"""

from typing import Tuple

import torch
from espnet2.asr.frontend.abs_frontend import AbsFrontend
from espnet2.asr.frontend.default import DefaultFrontend
from espnet2.train.class_choices import ClassChoices

from espnet_ser.model.frontend.cached import CachedFeatures, source_features
from espnet_ser.model.frontend.hf_hubert import HFHubertFrontend
from espnet_ser.model.frontend.opensmile_frontend import OpenSmileFrontend
from espnet_ser.model.frontend.s3prl import S3prlFrozenFrontend

frontend_choices = ClassChoices(
    name="frontend",
    classes=dict(s3prl=S3prlFrozenFrontend, hf_hubert=HFHubertFrontend, fbank=DefaultFrontend, opensmile=OpenSmileFrontend,
                 cached=CachedFeatures),
    type_check=AbsFrontend,
    default="s3prl",
)


def source_frontend(cached: CachedFeatures) -> AbsFrontend:
    """The frontend a cache's features came from, rebuilt from the configuration it recorded."""
    if cached.source is None:
        raise ValueError("this cached-feature model does not record its source frontend")
    conf = dict(cached.source_conf)
    if cached.num_layers > 1:
        conf["multilayer_feature"] = True
    return frontend_choices.get_class(cached.source)(**conf)


class AudioThroughCache(torch.nn.Module):
    """Audio -> source frontend -> cached-feature frontend: a cached-feature model applied to audio."""

    def __init__(self, source: AbsFrontend, cached: CachedFeatures):
        super().__init__()
        self.source = source.eval()
        self.cached = cached

    def output_size(self) -> int:
        return self.cached.output_size()

    def forward(self, input: torch.Tensor, input_lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        feats, lens, _ = source_features(self.source, input, input_lengths)
        return self.cached(feats, lens)
