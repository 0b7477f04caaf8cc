"""Write randomly initialised HuBERT checkpoints in the formats the frontends load offline.

Used by the tests (tiny models) and by the benchmarks (HuBERT-large-sized models, real architecture,
random weights): no download is needed. Two formats:

* ``save_hf_hubert(dir)``: a Hugging Face directory (``config.json``, weights,
  ``preprocessor_config.json``) for the ``hf_hubert`` frontend and s3prl's ``hf_hubert_custom``;
* ``save_s3prl_hubert(path)``: an s3prl converted checkpoint (``task_cfg``, ``model_cfg``,
  ``model_weight``, ``dictionaries_symbols``) for s3prl's ``hubert_local``.

``size="large"`` gives HuBERT-large's dimensions (24 layers, 1024 dims, ~316M parameters).
"""

from pathlib import Path
from typing import Dict, Optional, Union

import torch

#: name -> (layers, hidden size, attention heads, feed-forward size, CNN channels)
SIZES: Dict[str, tuple] = {
    "tiny": (2, 32, 2, 64, 32),
    "base": (12, 768, 12, 3072, 512),
    "large": (24, 1024, 16, 4096, 512),
}
CONV_KERNEL = (10, 3, 3, 3, 3, 2, 2)
CONV_STRIDE = (5, 2, 2, 2, 2, 2, 2)


def save_hf_hubert(out_dir: Union[str, Path], size: str = "tiny", seed: int = 0, stable: Optional[bool] = None) -> Path:
    """``stable`` (default: only for ``large``): HuBERT-large's layout (layer-norm convolutions, pre-norm
    transformer layers, normalised waveform) at any size."""
    from transformers import HubertConfig, HubertModel, Wav2Vec2FeatureExtractor

    layers, dim, heads, ffn, conv = SIZES[size]
    large = size == "large" if stable is None else stable
    config = HubertConfig(
        hidden_size=dim,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=ffn,
        conv_dim=(conv,) * 7,
        conv_kernel=CONV_KERNEL,
        conv_stride=CONV_STRIDE,
        num_conv_pos_embeddings=16 if size == "tiny" else 128,
        num_conv_pos_embedding_groups=16,
        feat_extract_norm="layer" if large else "group",
        do_stable_layer_norm=large,
        layerdrop=0.0,
    )
    torch.manual_seed(seed)
    model = HubertModel(config)
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=large, return_attention_mask=large
    ).save_pretrained(out_dir)
    return out_dir


def save_s3prl_hubert(path: Union[str, Path], size: str = "tiny", seed: int = 0, stable: Optional[bool] = None) -> Path:
    """``stable`` (default: only for ``large``): HuBERT-large's layout (layer-norm convolutions, pre-norm
    transformer layers, normalised waveform) at any size."""
    from s3prl.upstream.hubert.hubert_model import HubertConfig, HubertModel, HubertPretrainingConfig
    from s3prl.upstream.utils import merge_with_parent

    layers, dim, heads, ffn, conv = SIZES[size]
    large = size == "large" if stable is None else stable
    conv_layers = "[" + ", ".join(f"({conv}, {k}, {s})" for k, s in zip(CONV_KERNEL, CONV_STRIDE)) + "]"
    model_cfg = dict(
        extractor_mode="layer_norm" if large else "default",
        encoder_layers=layers,
        encoder_embed_dim=dim,
        encoder_ffn_embed_dim=ffn,
        encoder_attention_heads=heads,
        conv_feature_layers=conv_layers,
        conv_pos=16 if size == "tiny" else 128,
        conv_pos_groups=16,
        layer_norm_first=large,
        final_dim=dim // 4 if size == "tiny" else 768,
        layerdrop=0.0,
        label_rate=50.0,
    )
    task_cfg = dict(label_rate=50.0, sample_rate=16000, normalize=large)
    symbols = [[str(i) for i in range(8)]]
    torch.manual_seed(seed)
    model = HubertModel(
        merge_with_parent(HubertConfig, model_cfg), merge_with_parent(HubertPretrainingConfig, task_cfg), symbols
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {"task_cfg": task_cfg, "model_cfg": model_cfg, "model_weight": model.state_dict(), "dictionaries_symbols": symbols},
        path,
    )
    return path

