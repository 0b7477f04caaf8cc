"""An s3prl HuBERT upstream as Hugging Face's ``HubertModel`` with the same weights (issue 28).

The paper's configs read HuBERT through s3prl (``hubert_large_ll60k``, ``hubert_local``), whose
fairseq-style model cannot be traced for ONNX. The same network exists in ``transformers``
(``HubertModel``), which traces. :func:`hf_hubert_from_s3prl` builds that model from the s3prl module
itself: its configuration read off the module's structure (convolution stack and its normalisation,
widths, heads, feed-forward size, positional convolution, pre- or post-layer-norm), its weights copied
under transformers' names (the table ``_RENAME``; the pretraining heads ``final_proj`` and
``label_embs_concat`` are left out: no frontend uses them). :func:`hf_frontend_from_s3prl` wraps it as
the ``hf_hubert`` frontend with the s3prl frontend's layer choice, layer weights and waveform
normalisation, so that ``export_onnx`` can export a model trained with the s3prl frontend.

Hidden states line up one to one: s3prl hooks the input of every transformer layer and the encoder's
output; transformers returns the same L + 1 tensors (tested equal within 1e-5 on tiny checkpoints of
both layouts, ``tests/unit/inference/test_onnx.py``). Other s3prl upstreams (WavLM, wav2vec 2.0) are refused by name.
"""

import re
from typing import Dict, Tuple

import torch

from espnet_ser.errors import InputError

#: fairseq (s3prl) parameter name patterns -> transformers' HubertModel names
_RENAME = (
    (r"^feature_extractor\.conv_layers\.(\d+)\.0\.", r"feature_extractor.conv_layers.\1.conv."),
    (r"^feature_extractor\.conv_layers\.(\d+)\.2\.1\.", r"feature_extractor.conv_layers.\1.layer_norm."),  # layer norm
    (r"^feature_extractor\.conv_layers\.0\.2\.", r"feature_extractor.conv_layers.0.layer_norm."),      # group norm
    (r"^layer_norm\.", "feature_projection.layer_norm."),
    (r"^post_extract_proj\.", "feature_projection.projection."),
    (r"^encoder\.pos_conv\.0\.weight_g$", "encoder.pos_conv_embed.conv.parametrizations.weight.original0"),
    (r"^encoder\.pos_conv\.0\.weight_v$", "encoder.pos_conv_embed.conv.parametrizations.weight.original1"),
    (r"^encoder\.pos_conv\.0\.bias$", "encoder.pos_conv_embed.conv.bias"),
    (r"^encoder\.layers\.(\d+)\.self_attn\.", r"encoder.layers.\1.attention."),
    (r"^encoder\.layers\.(\d+)\.self_attn_layer_norm\.", r"encoder.layers.\1.layer_norm."),
    (r"^encoder\.layers\.(\d+)\.fc1\.", r"encoder.layers.\1.feed_forward.intermediate_dense."),
    (r"^encoder\.layers\.(\d+)\.fc2\.", r"encoder.layers.\1.feed_forward.output_dense."),
    (r"^mask_emb$", "masked_spec_embed"),
)
_PRETRAINING_ONLY = ("final_proj.", "label_embs_concat")


def _s3prl_hubert(frontend) -> torch.nn.Module:
    """The fairseq-style ``HubertModel`` inside an s3prl frontend, or a one-line refusal."""
    from s3prl.upstream.hubert.hubert_model import HubertModel as S3prlHubert

    model = getattr(getattr(frontend.upstream, "upstream", None), "model", None)
    if not isinstance(model, S3prlHubert):
        raise InputError(f"only s3prl's HuBERT upstreams convert to transformers' HubertModel, not "
                         f"{type(model).__name__} (upstream {getattr(frontend.upstream, 'name', '?')})")
    if getattr(frontend.upstream, "normalize", False):
        raise InputError("an s3prl frontend with normalize: true (layer norm on every hidden state) has no "
                         "transformers counterpart; export a model trained without it")
    return model


def hf_config_of(model: torch.nn.Module):
    """transformers' ``HubertConfig`` of an s3prl ``HubertModel``, read off its modules (s3prl keeps no config)."""
    from transformers import HubertConfig

    convs = [layer[0] for layer in model.feature_extractor.conv_layers]
    layer_norm_mode = len(model.feature_extractor.conv_layers[-1]) == 4 and isinstance(model.feature_extractor.conv_layers[-1][2], torch.nn.Sequential)
    enc = model.encoder
    first = enc.layers[0]
    pos = enc.pos_conv[0]
    dim = enc.embedding_dim
    return HubertConfig(
        hidden_size=dim,
        num_hidden_layers=len(enc.layers),
        num_attention_heads=first.self_attn.num_heads,
        intermediate_size=first.fc1.out_features,
        hidden_act="gelu",
        conv_dim=tuple(c.out_channels for c in convs),
        conv_kernel=tuple(c.kernel_size[0] for c in convs),
        conv_stride=tuple(c.stride[0] for c in convs),
        conv_bias=convs[0].bias is not None,
        feat_extract_norm="layer" if layer_norm_mode else "group",
        feat_proj_layer_norm=True,
        num_conv_pos_embeddings=pos.kernel_size[0],
        num_conv_pos_embedding_groups=pos.groups,
        do_stable_layer_norm=bool(enc.layer_norm_first),
        layer_norm_eps=enc.layer_norm.eps,
        hidden_dropout=0.0, activation_dropout=0.0, attention_dropout=0.0, feat_proj_dropout=0.0, layerdrop=0.0,
    )


def hf_state_of(model: torch.nn.Module, config) -> Dict[str, torch.Tensor]:
    """The s3prl model's weights under transformers' names (pretraining heads left out)."""
    out = {}
    for name, value in model.state_dict().items():
        if name.startswith(_PRETRAINING_ONLY):
            continue
        new = name
        for pattern, repl in _RENAME:
            new, n = re.subn(pattern, repl, new)
            if n:
                break
        out[new] = value.detach().clone()
    if "feature_projection.projection.weight" not in out:  # fairseq has no projection when the widths agree
        out["feature_projection.projection.weight"] = torch.eye(config.hidden_size)
        out["feature_projection.projection.bias"] = torch.zeros(config.hidden_size)
    return out


def hf_hubert_from_s3prl(frontend) -> Tuple[torch.nn.Module, bool]:
    """(transformers ``HubertModel`` with the weights of ``frontend``'s s3prl HuBERT, whether s3prl
    normalises the waveform first). Every weight must find its place: a name left over is an error."""
    from transformers import HubertModel

    model = _s3prl_hubert(frontend)
    config = hf_config_of(model)
    hf = HubertModel(config)
    state = hf_state_of(model, config)
    missing, unexpected = hf.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise InputError(f"s3prl HuBERT -> transformers: weights without a place (missing {missing[:5]}, "
                         f"unexpected {unexpected[:5]})")
    return hf.eval(), bool(frontend.upstream.upstream.task_cfg.normalize)


def hf_frontend_from_s3prl(frontend, finetune=None):
    """The ``hf_hubert`` frontend equivalent to an s3prl HuBERT frontend: same weights, same layer
    choice (the learnt layer weights are the same module), same waveform normalisation (s3prl's
    ``layer_norm`` of the whole waveform: epsilon 1e-5) and s3prl's frame counts. With ``finetune``
    (:mod:`espnet_ser.model.frontend.finetune`): that part trains, and frames are counted as
    transformers does (the last state stays s3prl's, after the final layer norm)."""
    from espnet_ser.model.frontend.hf_hubert import HFHubertFrontend

    hf, normalize = hf_hubert_from_s3prl(frontend)
    tuned = finetune is not None
    return HFHubertFrontend.from_model(hf, layer=frontend.layer, weighted_sum=frontend.weighted_sum,
                                       normalize_waveform=normalize, normalize_eps=1e-5, s3prl_frames=not tuned,
                                       finetune=finetune, normed_last=True)
