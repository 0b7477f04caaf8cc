"""Fine-tuning the upstream (``frontend_conf.finetune``; issue 26): what trains, and the split forward.

The paper freezes HuBERT; a ``finetune`` entry in the ``hf_hubert`` or ``s3prl`` frontend's
configuration trains part of it instead::

    frontend_conf:
      finetune:
        mode: top            # none (the paper's) | top | lora | all
        layers: 4            # top: the top K transformer layers train; lora: adapters on the top K (default: all)
        lr: 5.0e-5           # the upstream's own learning rate (default: the optimizer's)
        layer_decay: 0.9     # layer k from the top learns at lr * layer_decay**k (default 1: no decay)
        gradient_checkpointing: false
        lora_rank: 8         # lora only: rank, alpha, dropout and the attention projections adapted
        lora_alpha: 16
        lora_dropout: 0.0
        lora_targets: [q_proj, k_proj, v_proj, out_proj]

``top`` trains the top K layers (and, in the pre-norm layout of HuBERT-large, the encoder's final layer
norm above them); ``lora`` adds low-rank adapters (``peft``) to the attention projections of the top K
layers (all layers by default) and trains only them; ``all`` trains everything, the convolutional
feature encoder included. Frozen parts keep ``requires_grad=False``, stay in eval mode and run under
``no_grad``; the pretraining-only ``masked_spec_embed`` never trains.

**The split forward.** The upstream runs as two parts: the frozen *bottom* (CNN, projection,
positional convolution and the layers below the first trainable one, ``first``) and the trainable *top*
(layers ``first`` .. L-1). The hidden state that enters layer ``first`` does not change during
training, so the feature cache stores it (:meth:`FinetunedUpstream.cache_states`; with a learnt layer
weighting, the frozen layers below it too) and training runs only the top
(:meth:`FinetunedUpstream.from_cache`): the same numbers as from audio (``tests/unit/model/test_finetune.py``).
``all`` has no frozen bottom: it reads audio.

Hidden states follow transformers' convention: state ``i`` is the input of layer ``i``, state L the
output of the last layer (before the pre-norm layout's final layer norm; the s3prl frame convention
takes the normalised one, as s3prl does). Supported layouts: HuBERT, wav2vec 2.0 and WavLM
(transformers' ``HubertModel``, ``Wav2Vec2Model``, ``WavLMModel``; s3prl's HuBERT through its
transformers twin). WavLM's layers pass a relative position bias from one to the next, made by layer
0 from the sequence length alone: the top recomputes it with layer 0's (frozen) bias table, which a
WavLM model trained from the cache therefore keeps.
"""

import re
from dataclasses import dataclass, field, fields
from typing import Dict, List, Optional, Sequence, Tuple

import torch

MODES = ("none", "top", "lora", "all")
SUPPORTED_MODELS = ("hubert", "wav2vec2", "wavlm")
_LAYER = re.compile(r"(?:^|\.)encoder\.layers\.(\d+)\.")


def finetune_entry(frontend_conf: Optional[Dict]) -> Dict:
    """A frontend configuration's ``finetune`` entry as a mapping (a bare mode name is ``{mode: name}``;
    none: ``{}``), unchecked (:meth:`Finetune.parse` checks it)."""
    conf = (frontend_conf or {}).get("finetune")
    if conf is None:
        return {}
    return {"mode": conf} if isinstance(conf, str) else conf


def finetune_mode(frontend_conf: Optional[Dict]) -> str:
    """The mode a frontend configuration's ``finetune`` entry asks for (``none`` when there is none)."""
    conf = finetune_entry(frontend_conf)
    return str(conf.get("mode", "none") if isinstance(conf, dict) else conf)


def finetune_layers(frontend_conf: Optional[Dict]) -> Optional[int]:
    """How many top layers a frontend configuration's ``finetune`` entry names (None: not given)."""
    conf = finetune_entry(frontend_conf)
    return conf.get("layers") if isinstance(conf, dict) else None


def reads_audio(frontend_conf: Optional[Dict]) -> bool:
    """Whether training must read audio: nothing below the trainable part is frozen (``all``)."""
    return finetune_mode(frontend_conf) == "all"


@dataclass(frozen=True)
class Finetune:
    """What of the upstream trains (see the module docstring for each field)."""

    mode: str = "none"
    layers: Optional[int] = None
    lr: Optional[float] = None
    layer_decay: float = 1.0
    gradient_checkpointing: bool = False
    lora_rank: int = 8
    lora_alpha: float = 16.0
    lora_dropout: float = 0.0
    lora_targets: Tuple[str, ...] = field(default=("q_proj", "k_proj", "v_proj", "out_proj"))

    @classmethod
    def parse(cls, conf: Optional[Dict], num_layers: int) -> "Finetune":
        """``frontend_conf.finetune`` (a mapping, or a mode name) checked against an upstream of
        ``num_layers`` layers; a wrong entry is a ``ValueError`` naming it."""
        conf = finetune_entry({"finetune": conf})
        if not isinstance(conf, dict):
            raise ValueError(f"frontend_conf.finetune must be a mapping or one of {MODES}, got {conf!r}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(conf) - known)
        if unknown:
            raise ValueError(f"frontend_conf.finetune: unknown entries {unknown}; known: {sorted(known)}")
        conf = dict(conf)
        if "lora_targets" in conf:
            conf["lora_targets"] = tuple(conf["lora_targets"])
        spec = cls(**conf)
        if spec.mode not in MODES:
            raise ValueError(f"frontend_conf.finetune.mode must be one of {MODES}, got {spec.mode!r}")
        if spec.mode == "top" and spec.layers is None:
            raise ValueError("frontend_conf.finetune: mode top needs layers (how many of the top layers train)")
        if spec.layers is not None and not 1 <= int(spec.layers) <= num_layers:
            raise ValueError(f"frontend_conf.finetune.layers must be 1..{num_layers} (the upstream's layers), got {spec.layers}")
        if spec.mode == "all" and spec.layers is not None:
            raise ValueError("frontend_conf.finetune: mode all trains every layer; leave layers out")
        if not 0 < spec.layer_decay <= 1:
            raise ValueError(f"frontend_conf.finetune.layer_decay must be in (0, 1], got {spec.layer_decay}")
        if spec.lr is not None and not spec.lr > 0:
            raise ValueError(f"frontend_conf.finetune.lr must be positive, got {spec.lr}")
        return spec

    @property
    def active(self) -> bool:
        return self.mode != "none"

    def first_trainable(self, num_layers: int) -> Optional[int]:
        """Index of the lowest trainable transformer layer: the cache stores the state entering it.
        None: nothing below the layers is frozen (``all``) or nothing trains (``none``)."""
        if self.mode in ("none", "all"):
            return None
        return num_layers - int(self.layers if self.layers is not None else num_layers)


def _model_type(model: torch.nn.Module) -> str:
    return getattr(getattr(model, "config", None), "model_type", type(model).__name__)


def check_supported(model: torch.nn.Module) -> None:
    kind = _model_type(model)
    if kind not in SUPPORTED_MODELS:
        raise ValueError(f"fine-tuning supports the {SUPPORTED_MODELS} layouts, not {kind!r} (freeze it: finetune: none)")


def make_trainable(model: torch.nn.Module, spec: Finetune, final_norm_used: bool = True) -> torch.nn.Module:
    """Unfreeze what ``spec`` trains in a frozen transformers upstream (LoRA: adapters added, with
    ``peft``); returns the model (the same object). ``final_norm_used``: the frontend's last state passes
    the pre-norm layout's final layer norm (else it stays frozen: it would get no gradient)."""
    if not spec.active:
        return model
    check_supported(model)
    num_layers = model.config.num_hidden_layers
    first = spec.first_trainable(num_layers)
    if spec.mode == "all":
        for p in model.parameters():
            p.requires_grad_(True)
        if model.config.do_stable_layer_norm and not final_norm_used:
            model.encoder.layer_norm.requires_grad_(False)
    elif spec.mode == "top":
        for layer in model.encoder.layers[first:]:
            layer.requires_grad_(True)
        if model.config.do_stable_layer_norm and final_norm_used:  # pre-norm: the final layer norm sits above the top layers
            model.encoder.layer_norm.requires_grad_(True)
    elif spec.mode == "lora":
        from peft import LoraConfig, inject_adapter_in_model

        names = "|".join(re.escape(t) for t in spec.lora_targets)
        layers = "|".join(str(i) for i in range(first, num_layers))
        config = LoraConfig(r=int(spec.lora_rank), lora_alpha=spec.lora_alpha, lora_dropout=spec.lora_dropout,
                            target_modules=rf".*encoder\.layers\.({layers})\.attention\.({names})$")
        inject_adapter_in_model(config, model)
        for name, p in model.named_parameters():
            p.requires_grad_("lora_" in name)
    if getattr(model, "masked_spec_embed", None) is not None:
        model.masked_spec_embed.requires_grad_(False)  # pretraining's mask token: unused here
    if spec.gradient_checkpointing:
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    return model


def merge_adapters(model: torch.nn.Module) -> int:
    """Fold every LoRA adapter of ``model`` into its base weights and put the plain layer back (for
    export: the merged model computes the same function without ``peft``); returns how many."""
    from peft.tuners.lora import LoraLayer

    merged = 0
    for name, module in list(model.named_modules()):
        if isinstance(module, LoraLayer):
            module.merge()
            parent_name, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent_name) if parent_name else model, child, module.get_base_layer())
            merged += 1
    return merged


def set_train_mode(model: torch.nn.Module, spec: Finetune, mode: bool) -> None:
    """Frozen parts always in eval mode (no dropout); trainable layers follow ``mode``."""
    model.eval()
    if not mode or not spec.active:
        return
    if spec.mode == "all":
        model.train(True)
        return
    for layer in model.encoder.layers[spec.first_trainable(model.config.num_hidden_layers):]:
        layer.train(True)


def layer_depth(name: str, num_layers: int) -> int:
    """How far below the top a parameter of the upstream sits: 0 for the top layer (and the final
    layer norm above it), L for everything below layer 0 (CNN, projection, positional convolution)."""
    m = _LAYER.search(name)
    if m is not None:
        return num_layers - 1 - int(m.group(1))
    if re.search(r"(?:^|\.)encoder\.layer_norm\.", name):
        return 0
    return num_layers


def param_groups(named: Sequence[Tuple[str, torch.nn.Parameter]], spec: Finetune, num_layers: int,
                 base_lr: float) -> List[Dict]:
    """Optimizer groups of the upstream's trainable parameters: lr = (spec.lr or base_lr) * decay**depth,
    one group per depth (ESPnet's schedulers scale every group's initial lr alike)."""
    lr = spec.lr if spec.lr is not None else base_lr
    groups: Dict[int, List[torch.nn.Parameter]] = {}
    for name, p in named:
        if p.requires_grad:
            groups.setdefault(layer_depth(name, num_layers), []).append(p)
    return [{"params": ps, "lr": lr * spec.layer_decay ** d, "name": f"upstream_depth{d}"} for d, ps in sorted(groups.items())]


class SplitForward:
    """The transformers upstream run as bottom + top (a mixin over an object with ``upstream``)."""

    upstream: torch.nn.Module

    def _frame_mask(self, n_frames: int, mask: torch.Tensor) -> torch.Tensor:
        return self.upstream._get_feature_vector_attention_mask(n_frames, mask.long())

    def _encoder_input(self, wav: torch.Tensor, mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """State 0 (the input of layer 0) and the frame mask, as transformers' forward computes them."""
        m = self.upstream
        feats = m.feature_extractor(wav).transpose(1, 2)
        proj = m.feature_projection(feats)
        h = proj[0] if isinstance(proj, tuple) else proj  # wav2vec 2.0 also returns the normalised input
        frames = self._frame_mask(h.size(1), mask)
        h = h.masked_fill(~frames.unsqueeze(-1), 0.0)
        enc = m.encoder
        h = h + enc.pos_conv_embed(h)
        if not m.config.do_stable_layer_norm:
            h = enc.layer_norm(h)
        return enc.dropout(h), frames

    @property
    def _wavlm(self) -> bool:
        return _model_type(self.upstream) == "wavlm"

    def _attention_mask(self, h: torch.Tensor, frames: torch.Tensor):
        if self._wavlm:  # WavLM's layers take the frame mask itself
            return frames
        from transformers.masking_utils import create_bidirectional_mask

        return create_bidirectional_mask(config=self.upstream.encoder.config, inputs_embeds=h, attention_mask=frames)

    def _run_layers(self, h: torch.Tensor, frames: torch.Tensor, start: int, stop: int) -> List[torch.Tensor]:
        """Outputs of layers start .. stop-1 (each the state entering the next)."""
        mask = self._attention_mask(h, frames)
        layers = self.upstream.encoder.layers
        out = []
        if self._wavlm:
            bias = None
            if start > 0:  # the bias layer 0 would have passed up: from its table and the length alone
                attn = layers[0].attention
                with torch.no_grad():
                    bias = attn.compute_bias(h.size(1), h.size(1))
                bias = bias.unsqueeze(0).repeat(h.size(0), 1, 1, 1).view(h.size(0) * attn.num_heads, h.size(1), h.size(1))
            for i in range(start, stop):
                h, bias = layers[i](h, attention_mask=mask, position_bias=bias, index=i)
                out.append(h)
            return out
        for layer in layers[start:stop]:
            h = layer(h, attention_mask=mask)
            h = h[0] if isinstance(h, tuple) else h
            out.append(h)
        return out

    def _final(self, last: torch.Tensor) -> torch.Tensor:
        """The encoder's output: the pre-norm layout's final layer norm on the last layer's output."""
        enc = self.upstream.encoder
        return enc.layer_norm(last) if self.upstream.config.do_stable_layer_norm else last

    def bottom_states(self, wav: torch.Tensor, mask: torch.Tensor, first: int) -> Tuple[List[torch.Tensor], torch.Tensor]:
        """The frozen bottom's states 0..``first`` (the last enters layer ``first``), under no_grad, and the
        frame mask: what the feature cache stores."""
        with torch.no_grad():
            h0, frames = self._encoder_input(wav, mask)
            return [h0] + self._run_layers(h0, frames, 0, first), frames

    def split_states(self, wav: torch.Tensor, mask: torch.Tensor, first: Optional[int]) -> Tuple[List[torch.Tensor], torch.Tensor]:
        """States 0..L from audio: those up to ``first`` (the frozen bottom) under no_grad, the rest with
        gradients. ``first`` None: everything with gradients."""
        if first is None:
            h0, frames = self._encoder_input(wav, mask)
            return [h0] + self._run_layers(h0, frames, 0, self.upstream.config.num_hidden_layers), frames
        frozen, frames = self.bottom_states(wav, mask, first)
        return self.top_states(frozen, frames, first), frames

    def top_states(self, frozen: List[torch.Tensor], frames: torch.Tensor, first: int) -> List[torch.Tensor]:
        """States 0..L from the cached frozen states (the last of them enters layer ``first``)."""
        num_layers = self.upstream.config.num_hidden_layers
        return list(frozen) + self._run_layers(frozen[-1], frames, first, num_layers)


def drop_bottom(model: torch.nn.Module, first: int) -> None:
    """Free the frozen bottom of ``model`` (a model that only ever runs from cached states): the CNN,
    projection, positional convolution and layers below ``first`` become empty modules, so that
    checkpoints hold only what trains (and the layer norm that follows it)."""
    m = model
    m.feature_extractor = torch.nn.Identity()
    m.feature_projection = torch.nn.Identity()
    m.encoder.pos_conv_embed = torch.nn.Identity()
    if not m.config.do_stable_layer_norm:
        m.encoder.layer_norm = torch.nn.Identity()  # post-norm: applied below layer 0
    for i in range(first):
        if i == 0 and _model_type(m) == "wavlm":
            continue  # its relative position table makes every layer's bias
        m.encoder.layers[i] = torch.nn.Identity()
    if getattr(m, "masked_spec_embed", None) is not None:
        del m.masked_spec_embed
        m.masked_spec_embed = None


def frames_of(lengths: torch.Tensor, max_frames: int) -> torch.Tensor:
    """A (B, T) boolean frame mask from frame counts."""
    return torch.arange(max_frames, device=lengths.device).unsqueeze(0) < lengths.unsqueeze(1)
