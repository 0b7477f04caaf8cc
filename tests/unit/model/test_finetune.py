"""Fine-tuning the upstream (issue 26): the split forward is transformers' own, training from the cache
is the same step as from audio, only the named parameters train, and tuned models pack, load and export."""

import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from espnet_ser.errors import InputError
from espnet_ser.inference.onnx import OnnxSpeech2Emotion, export_onnx
from espnet_ser.inference.speech2emotion import Speech2Emotion
from espnet_ser.model.frontend.hf_hubert import HFHubertFrontend
from espnet_ser.model.task import SERTask
from espnet_ser.recipe.feature_cache import cache_key, extract_features
from espnet_ser.recipe.train_args import collect_stats, train
from espnet_ser.testing.hubert_checkpoints import save_hf_hubert, save_s3prl_hubert
from helpers import make_data_dir, tiny_hubert_config

from helpers import ROOT
TOP1 = {"mode": "top", "layers": 1}


def frontend_conf(kind: str, root: Path) -> dict:
    """A tiny HuBERT in HuBERT-large's layout (per-frame layer norms: padding changes no valid frame)."""
    if kind == "hf_hubert":
        return {"path_or_name": str(save_hf_hubert(root / "hf", stable=True))}
    return {"upstream": "hubert_local", "path_or_url": str(save_s3prl_hubert(root / "s3prl.pt", stable=True))}


def write_config(root: Path, kind: str, finetune, **over) -> Path:
    conf = yaml.safe_load(tiny_hubert_config(root, num_workers=0).read_text())
    conf["frontend"] = kind
    conf["frontend_conf"] = {**frontend_conf(kind, root), "multilayer_feature": True, "finetune": finetune}
    conf.update(over)
    path = root / f"{kind}.yaml"
    path.write_text(yaml.safe_dump(conf))
    return path


def build(config: Path, out: Path, *extra: str) -> torch.nn.Module:
    SERTask.main(cmd=["--config", str(config), "--dry_run", "true", "--output_dir", str(out), *extra])
    return Speech2Emotion(out / "config.yaml", None, attach_source=False).model


def test_split_forward_is_transformers_own_forward(tmp_path):
    """Every hidden state of the fine-tunable forward (bottom + top, and bottom -> cache -> top) equals
    transformers' ``HubertModel`` forward, in both layouts, on a padded batch."""
    wav, lens = torch.randn(2, 16000, generator=torch.Generator().manual_seed(0)), torch.tensor([16000, 11000])
    for stable in (False, True):
        d = save_hf_hubert(tmp_path / f"hf{stable}", stable=stable)
        from transformers import HubertModel

        ref = HubertModel.from_pretrained(d).eval()
        mask = (torch.arange(16000)[None] < lens[:, None]).long()
        x = wav.masked_fill(mask == 0, 0.0)
        if stable:  # the frontend normalises the waveform for the layer-norm layout, as transformers' extractor
            n = lens[:, None].float()
            mu = x.sum(1, keepdim=True) / n
            x = ((x - mu) / torch.sqrt((((x - mu) * mask) ** 2).sum(1, keepdim=True) / n + 1e-7)) * mask
        with torch.no_grad():
            expect = ref(x, attention_mask=mask, output_hidden_states=True).hidden_states
        f = HFHubertFrontend(str(d), multilayer_feature=True, finetune=TOP1).eval()
        got, frames = f.hidden_states(wav, lens)
        assert frames.tolist() == [49, 34]
        for e, g in zip(expect, got):
            for i, n in enumerate(frames.tolist()):
                assert torch.allclose(e[i, :n], g[i, :n], atol=1e-5)
        feats, cached_lens, n_states = f.cache_states(wav, lens)
        assert n_states == 2 and feats.shape == (2, 49, 64)  # states 0 and 1: the one entering layer 1, and below
        out, _ = f.from_cache(feats, cached_lens)
        direct, _ = f(wav, lens)
        for i, n in enumerate(frames.tolist()):
            assert torch.allclose(out[i, :n], direct[i, :n], atol=1e-6)


@pytest.mark.parametrize("kind", ["hf_hubert", "s3prl"])
def test_top_k_from_the_cache_is_the_same_step_as_from_audio(tmp_path, kind):
    """One loss and backward step of top-1 fine-tuning from audio and from cached states: the same loss
    and the same gradients of every trainable parameter; only the top layer (and the final layer norm it
    feeds), the layer weights and the model above get gradients."""
    config = write_config(tmp_path, kind, TOP1)
    audio_model = build(config, tmp_path / "audio").eval()
    src = yaml.safe_load(config.read_text())["frontend_conf"]
    cached_conf = dict(yaml.safe_load(config.read_text()), frontend="cached",
                       frontend_conf={"feat_dim": 32, "num_layers": 2, "source": kind, **src})
    (tmp_path / "cached.yaml").write_text(yaml.safe_dump(cached_conf))
    cached_model = build(tmp_path / "cached.yaml", tmp_path / "cachedexp").eval()

    prefix = "frontend.upstream." if kind == "hf_hubert" else "frontend.tuned.upstream."
    ws = "frontend.weighted_sum.weights" if kind == "hf_hubert" else "frontend.tuned.weighted_sum.weights"

    def audio_name(cached_name: str) -> str:
        if cached_name == "frontend.top.weighted_sum.weights":
            return ws
        return cached_name.replace("frontend.top.upstream.", prefix)

    a_state = audio_model.state_dict()
    cached_model.load_state_dict({k: a_state[audio_name(k)] for k in cached_model.state_dict()})

    rng = np.random.default_rng(0)
    lens = torch.tensor([16000, 9000, 12500])
    wav = torch.zeros(3, 16000)
    for i, n in enumerate(lens.tolist()):
        wav[i, :n] = torch.from_numpy(0.1 * rng.normal(size=n).astype(np.float32))
    labels = dict(emotion=torch.tensor([[0], [2], [4]]), emotion_lengths=torch.ones(3, dtype=torch.long),
                  vad=torch.tensor([[0.2, 0.5, 0.7], [0.6, 0.3, 0.4], [0.8, 0.9, 0.1]]), vad_lengths=torch.full((3,), 3))
    # the cache as stage 4 writes it: each utterance alone, its frames cut to its length, then padded by the batch
    per_utt = [audio_model.frontend.cache_states(wav[i:i + 1, :n], lens[i:i + 1]) for i, n in enumerate(lens.tolist())]
    frames = torch.tensor([int(p[1]) for p in per_utt])
    feats = torch.zeros(3, int(frames.max()), 64)
    for i, (f, n, _) in enumerate(per_utt):
        feats[i, : int(n)] = f[0, : int(n)]

    loss_a, stats_a, _ = audio_model(wav, lens, **labels)
    loss_a.backward()
    loss_c, stats_c, _ = cached_model(feats, frames, **labels)
    loss_c.backward()
    assert torch.isfinite(loss_a) and abs(loss_a.item() - loss_c.item()) <= 1e-5 * max(1.0, abs(loss_a.item()))

    grads_a = {k: p.grad for k, p in audio_model.named_parameters() if p.grad is not None}
    trained = {k for k, p in audio_model.named_parameters() if p.requires_grad}
    assert set(grads_a) == trained  # every trainable parameter gets a gradient, no frozen one does
    upstream_trained = {re.search(r"\.layers\.(\d+)\.", k).group(1) for k in trained if k.startswith(prefix) and ".layers." in k}
    assert upstream_trained == {"1"}  # the top layer only (tiny HuBERT: 2 layers)
    others = {k for k in trained if k.startswith(prefix) and ".layers." not in k}
    # the final layer norm trains where the last state passes it: s3prl's convention; transformers' last
    # hidden state comes before it, so it stays frozen there (it would get no gradient)
    assert others == ({prefix + "encoder.layer_norm.weight", prefix + "encoder.layer_norm.bias"} if kind == "s3prl" else set())
    assert {audio_name(k) for k, p in cached_model.named_parameters() if p.requires_grad} == trained
    for k, p in cached_model.named_parameters():
        if not p.requires_grad:
            assert p.grad is None
            continue
        assert p.grad is not None, k
        g = grads_a[audio_name(k)]
        assert torch.allclose(p.grad, g, atol=1e-6, rtol=1e-4), (k, float((p.grad - g).abs().max()))
    # the cached model holds no frozen bottom: its checkpoints hold what trains
    assert not any(".layers.0." in k or "feature_extractor" in k for k in cached_model.state_dict())


def test_optimizer_groups_follow_the_upstream_lr_and_layer_decay(tmp_path):
    """lr 1e-4, decay 0.5 over both layers of the tiny HuBERT: layer 1 (top) at 1e-4, layer 0 at 5e-5, the
    model above the upstream at the optimizer's 2e-3. LoRA rank 4 adds 4 x (32 + 32) parameters per
    adapted projection: 4 projections x 2 layers = 2,048, the only upstream parameters that train."""
    config = write_config(tmp_path, "hf_hubert", {"mode": "lora", "lora_rank": 4, "lr": 1e-4, "layer_decay": 0.5})
    model = build(config, tmp_path / "exp")
    args = yaml.safe_load((tmp_path / "exp" / "config.yaml").read_text())
    import argparse

    opt = SERTask.build_optimizers(argparse.Namespace(**args), model)[0]
    lrs = {g["name"]: g["lr"] for g in opt.param_groups}
    assert lrs == {"model": 0.002, "upstream_depth0": pytest.approx(1e-4), "upstream_depth1": pytest.approx(5e-5)}
    n_lora = sum(p.numel() for g in opt.param_groups if g["name"].startswith("upstream") for p in g["params"])
    assert n_lora == 2048
    assert all("lora_" in k for k, p in model.frontend.upstream.named_parameters() if p.requires_grad)


def test_cache_key_and_bad_configs(tmp_path):
    conf = {"path_or_name": "x", "multilayer_feature": False}
    k1 = cache_key("hf_hubert", {**conf, "finetune": {"mode": "top", "layers": 2, "lr": 1e-5}}, "float32")
    k2 = cache_key("hf_hubert", {**conf, "finetune": {"mode": "lora", "layers": 2, "lora_rank": 16}}, "float32")
    k3 = cache_key("hf_hubert", {**conf, "finetune": {"mode": "top", "layers": 3}}, "float32")
    assert k1 == k2 != k3  # the states entering the top 2 layers, whatever trains them
    with pytest.raises(InputError, match="finetune mode 'all'"):
        cache_key("hf_hubert", {**conf, "finetune": "all"}, "float32")
    d = save_hf_hubert(tmp_path / "hf")
    for bad, msg in (({"mode": "top"}, "needs layers"), ({"mode": "top", "layers": 3}, "1..2"),
                     ({"mode": "some"}, "must be one of"), ({"mode": "top", "layers": 1, "rate": 1}, "unknown entries")):
        with pytest.raises(ValueError, match=msg):
            HFHubertFrontend(str(d), finetune=bad)
    with pytest.raises(ValueError, match="last layer"):
        HFHubertFrontend(str(d), layer=0, finetune=TOP1)
    from transformers import Data2VecAudioConfig, Data2VecAudioModel

    Data2VecAudioModel(Data2VecAudioConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                                           conv_dim=(32,) * 7)).save_pretrained(tmp_path / "d2v")
    with pytest.raises(ValueError, match="data2vec-audio"):  # another layout: refused by name
        HFHubertFrontend(str(tmp_path / "d2v"), finetune=TOP1)


def _train_and_pack(root: Path, finetune, cached: bool):
    config = write_config(root, "hf_hubert", finetune, batch_type="unsorted", batch_size=2, max_epoch=2,
                          keep_nbest_models=1, fold_length=None)
    conf = yaml.safe_load(config.read_text())
    conf.pop("fold_length", None)
    config.write_text(yaml.safe_dump(conf))
    tr = make_data_dir(root / "tr", n=6, seed=0, prefix="tr")
    dv = make_data_dir(root / "dv", n=3, seed=1, prefix="dv")
    extra = []
    if cached:
        for d in (tr, dv):
            extract_features(d, root / f"feats_{d.parent.name}", config, dtype="float32", progress=False)
        tr, dv = root / "feats_tr", root / "feats_dv"
        extra = (tr / "frontend_args").read_text().split()
    st = collect_stats(config, tr, dv, root / "stats", extra)
    exp = train(config, tr, dv, st, root / "exp", extra)
    from espnet_ser.inference.pack import pack_model

    return config, exp, pack_model(exp, root / "model.zip", model_file="2epoch.pth")


@pytest.mark.parametrize("finetune,cached", [({"mode": "lora", "lora_rank": 4}, False), (TOP1, True)],
                         ids=["lora_from_audio", "top1_from_cache"])
def test_tuned_models_train_pack_load_and_export(tmp_path, finetune, cached):
    config, exp, packed = _train_and_pack(tmp_path, finetune, cached)
    from transformers import HubertModel

    pretrained = HubertModel.from_pretrained(yaml.safe_load(config.read_text())["frontend_conf"]["path_or_name"]).state_dict()
    state = torch.load(exp / "2epoch.pth", map_location="cpu", weights_only=True)
    prefix = "frontend.top.upstream." if cached else "frontend.upstream."
    changed, same = [], []
    for k, v in state.items():
        if not k.startswith(prefix):
            continue
        name = k[len(prefix):].replace(".base_layer.", ".")
        if name in pretrained:
            (same if torch.equal(v, pretrained[name]) else changed).append(name)
    if cached:  # the top layer trained; the final layer norm (unused by transformers' last state) stayed; nothing below is held
        assert changed and all(n.startswith("encoder.layers.1.") for n in changed)
        assert {"encoder.layer_norm.weight", "encoder.layer_norm.bias"} <= set(same)
        assert not any(n.startswith(("encoder.layers.0.", "feature_extractor")) for n in state)
    else:  # LoRA: every pretrained weight is unchanged, the adapters moved
        assert not changed and len(same) == len(pretrained) - ("masked_spec_embed" in pretrained and
                                                                "masked_spec_embed" not in [k[len(prefix):] for k in state])
        lora_b = [v for k, v in state.items() if "lora_B" in k]
        assert lora_b and any(float(v.abs().max()) > 0 for v in lora_b)  # B starts at zero: training moved it

    from espnet_ser.evaluation.model_card import _frontend

    assert _frontend(packed) == ("hf_hubert, upstream fine-tuned (top, top 1 layers) (features cached at training)" if cached
                                 else "hf_hubert, upstream fine-tuned (lora)")
    # pack -> load weights-only in a fresh Speech2Emotion -> the same predictions as the exp dir's model
    with zipfile.ZipFile(packed) as z:
        z.extractall(tmp_path / "unpacked")
    unpacked = next((tmp_path / "unpacked").rglob("config.yaml")).parent
    wav = (0.2 * np.sin(2 * np.pi * 180 * np.arange(20000) / 16000)).astype(np.float32)
    s2e = Speech2Emotion(exp / "config.yaml", exp / "2epoch.pth")
    model_file = next(p for p in unpacked.iterdir() if p.suffix == ".pth")
    again = Speech2Emotion(unpacked / "config.yaml", model_file)
    a, b = s2e(wav, 16000), again(wav, 16000)
    assert a["emotion"] == b["emotion"] and np.allclose(list(a["vad"].values()), list(b["vad"].values()), atol=1e-6)

    # --dtype bf16 runs the tuned upstream in bfloat16 (close to fp32, not equal)
    half = Speech2Emotion(exp / "config.yaml", exp / "2epoch.pth", dtype="bf16")(wav, 16000)
    assert np.allclose(list(half["vad"].values()), list(a["vad"].values()), atol=0.05)

    meta = export_onnx(s2e, tmp_path / "model.onnx")
    assert json.loads(meta["export_check"])["max_abs_diff"] <= 1e-4
    if not cached:
        assert "LoRA" in json.loads(meta["converted"])
    sf_path = tmp_path / "x.wav"
    import soundfile as sf

    sf.write(sf_path, wav, 16000)
    o, t = OnnxSpeech2Emotion(tmp_path / "model.onnx").predict_file(sf_path), s2e.predict_file(sf_path)
    assert max(abs(o["vad"][k] - t["vad"][k]) for k in t["vad"]) <= 1e-4
    assert max(abs(o["probs"][c] - t["probs"][c]) for c in t["probs"]) <= 1e-4


def test_the_recipe_config_builds_and_the_recipe_knows_what_to_cache(tmp_path):
    """conf/tuning/train_ser_finetune_top4.yaml (a tiny s3prl HuBERT in place of HuBERT-large, top 1 of
    its 2 layers in place of 4 of 24) builds; with finetune: all the recipe trains from audio."""
    from espnet_ser.recipe.plan import feats_type

    conf = yaml.safe_load((ROOT / "conf/tuning/train_ser_finetune_top4.yaml").read_text())
    assert conf["frontend_conf"]["finetune"]["mode"] == "top" and conf["frontend_conf"]["finetune"]["layers"] == 4
    conf["frontend_conf"].update(upstream="hubert_local", path_or_url=str(save_s3prl_hubert(tmp_path / "s.pt", stable=True)))
    conf["frontend_conf"]["finetune"]["layers"] = 1
    conf.update(num_workers=0)
    (tmp_path / "top.yaml").write_text(yaml.safe_dump(conf))
    model = build(tmp_path / "top.yaml", tmp_path / "exp")
    tuned = {re.search(r"\.layers\.(\d+)\.", k).group(1) for k, p in model.named_parameters() if p.requires_grad and ".layers." in k
             and k.startswith("frontend.")}
    assert tuned == {"1"}
    assert feats_type(str(tmp_path / "top.yaml"), ["hierarchical_dc"], "cached") == ("cached", "as asked")
    conf["frontend_conf"]["finetune"] = {"mode": "all"}
    (tmp_path / "all.yaml").write_text(yaml.safe_dump(conf))
    chosen, why = feats_type(str(tmp_path / "all.yaml"), ["hierarchical_dc"], "cached")
    assert chosen == "raw" and "finetune: all" in why
    model = build(tmp_path / "all.yaml", tmp_path / "exp_all")
    assert all(p.requires_grad for k, p in model.frontend.named_parameters() if "feature_extractor" in k)


def test_gradient_checkpointing_gives_the_same_gradients(tmp_path):
    d = save_hf_hubert(tmp_path / "hf", stable=True)
    wav, lens = torch.randn(2, 12000, generator=torch.Generator().manual_seed(1)), torch.tensor([12000, 9000])
    grads = []
    for gc in (False, True):
        f = HFHubertFrontend(str(d), finetune={"mode": "top", "layers": 2, "gradient_checkpointing": gc})
        f.train()
        for m in f.modules():  # dropout off (modules, and attention's probability): the runs must draw nothing
            if isinstance(m, torch.nn.Dropout):
                m.p = 0.0
            if isinstance(getattr(m, "dropout", None), float):
                m.dropout = 0.0
        out, n = f(wav, lens)
        (out[0, : int(n[0])].sum() + out[1, : int(n[1])].pow(2).sum()).backward()
        grads.append({k: p.grad.clone() for k, p in f.named_parameters() if p.grad is not None})
        assert f.upstream.encoder.layers[1].gradient_checkpointing is gc and not f.upstream.feature_extractor.training
    assert grads[0].keys() == grads[1].keys() and len(grads[0]) > 0
    assert all(torch.allclose(grads[0][k], grads[1][k], atol=1e-6) for k in grads[0])


@pytest.mark.parametrize("kind", ["wav2vec2", "wavlm"])
def test_wav2vec2_and_wavlm_fine_tune_the_same_way(tmp_path, kind):
    """A tiny wav2vec 2.0 and WavLM (transformers' own models) through the hf_hubert frontend: the split
    forward equals the model's own forward (every hidden state), and the cache path equals the audio path,
    also from a model whose frozen bottom was freed (WavLM's top rebuilds its position bias)."""
    import copy

    from transformers import Wav2Vec2Config, Wav2Vec2Model, WavLMConfig, WavLMModel

    small = dict(hidden_size=32, num_hidden_layers=3, num_attention_heads=2, intermediate_size=64, conv_dim=(32,) * 7,
                 num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=16, layerdrop=0.0,
                 feat_extract_norm="layer", do_stable_layer_norm=True)
    torch.manual_seed(0)
    model = Wav2Vec2Model(Wav2Vec2Config(**small)) if kind == "wav2vec2" else WavLMModel(WavLMConfig(**small))
    model.save_pretrained(tmp_path / kind)
    wav, lens = torch.randn(2, 12000, generator=torch.Generator().manual_seed(2)), torch.tensor([12000, 7000])
    frozen = HFHubertFrontend(str(tmp_path / kind), multilayer_feature=True).eval()  # transformers' own forward
    tuned = HFHubertFrontend(str(tmp_path / kind), multilayer_feature=True, finetune=TOP1).eval()
    (a, n), (b, m) = frozen.hidden_states(wav, lens), tuned.hidden_states(wav, lens)
    assert n.tolist() == m.tolist() and len(a) == len(b) == 4
    for x, y in zip(a, b):
        for i, k in enumerate(n.tolist()):
            assert torch.allclose(x[i, :k], y[i, :k], atol=1e-5)
    feats, fl, _ = tuned.cache_states(wav, lens)
    top = copy.deepcopy(tuned).keep_top()
    out, _ = top.from_cache(feats, fl)
    direct, _ = tuned(wav, lens)
    for i, k in enumerate(n.tolist()):
        assert torch.allclose(out[i, :k], direct[i, :k], atol=1e-6)
