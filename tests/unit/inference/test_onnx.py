"""ONNX export: onnxruntime and torch give the same outputs (tolerance 1e-4) at any input length, with
the same windowing of long files, for the HuBERT and the fbank frontends and a cached-feature model."""

import json

import numpy as np
import pytest
import torch
import yaml

from espnet_ser.errors import InputError
from espnet_ser.inference.speech2emotion import Speech2Emotion
from espnet_ser.inference.onnx import OnnxSpeech2Emotion, export_onnx
from helpers import tiny_hubert_config

from helpers import ROOT
from onnx_fixtures import TOL, hubert, random_model, speech_like  # noqa: F401  (fixtures and helpers shared with another layer)


def assert_same(a, b, tol=TOL):
    assert a["emotion"] == b["emotion"]
    assert max(abs(a["probs"][c] - b["probs"][c]) for c in a["probs"]) <= tol
    assert max(abs(a["vad"][k] - b["vad"][k]) for k in a["vad"]) <= tol


def test_hubert_export_agrees_with_torch_at_any_length(hubert, tmp_path):
    root, s2e, meta = hubert
    onnx = OnnxSpeech2Emotion(root / "model.onnx")
    assert onnx.class_list == s2e.class_list and onnx.fs == 16000 and onnx.outputs == ["probs", "vad"]
    assert json.loads(meta["export_check"])["max_abs_diff"] <= TOL
    # lengths other than the 2-s example the graph was traced with, incl. one odd sample count
    for i, seconds in enumerate((0.5, 1.3, 4.00006)):
        wav = speech_like(tmp_path / f"{i}.wav", seconds, i)
        assert_same(s2e.predict_file(wav), onnx.predict_file(wav))
    # a long file cut into windows: same windows, same aggregation
    long = speech_like(tmp_path / "long.wav", 5.0, 9)
    a, b = s2e.predict_file(long, window_s=1.2), onnx.predict_file(long, window_s=1.2)
    assert a["windows"] == b["windows"] == 4
    assert_same(a, b)
    # probabilities are a distribution; V/A/D passed the ReLU
    assert abs(sum(b["probs"].values()) - 1) < 1e-5 and min(b["vad"].values()) >= 0


def test_graph_refuses_inputs_beyond_its_positional_table(hubert):
    root, _, meta = hubert
    onnx = OnnxSpeech2Emotion(root / "model.onnx")
    # ESPnet's table: 5000 relative positions per side; HuBERT gives 50 frames per second -> 100 s
    assert 95 <= onnx.max_seconds <= 100 and json.loads(meta["max_seconds"]) == onnx.max_seconds
    with pytest.raises(InputError, match="exceeds the graph"):
        onnx.run(np.zeros(int(16000 * (onnx.max_seconds + 1)), dtype=np.float32))


def test_fbank_model_and_a_head_without_training_labels(tmp_path):
    exp = random_model(tmp_path, ROOT / "conf/tuning/train_ser_tiny_fbank.yaml", "--decoder", "hierarchical_cd")
    s2e = Speech2Emotion(exp / "config.yaml", exp / "model.pth")
    export_onnx(s2e, tmp_path / "both.onnx")
    wav = speech_like(tmp_path / "a.wav", 2.3, 1)
    assert_same(s2e.predict_file(wav), OnnxSpeech2Emotion(tmp_path / "both.onnx").predict_file(wav))
    s2e.untrained = ["vad"]  # as for a model whose training data carried classes only
    export_onnx(s2e, tmp_path / "classes.onnx")
    only = OnnxSpeech2Emotion(tmp_path / "classes.onnx")
    assert only.outputs == ["probs"]
    out = only.predict_file(wav)
    assert out["vad"] is None and out["emotion"] in s2e.class_list


def test_cached_feature_model_exports_with_its_source_frontend(tmp_path):
    root = tmp_path
    hub = yaml.safe_load(tiny_hubert_config(root / "src", num_workers=0).read_text())
    conf = dict(hub, frontend="cached",
                frontend_conf={"feat_dim": 32, "num_layers": 3, "source": "hf_hubert", **hub["frontend_conf"]})
    (root / "cached.yaml").write_text(yaml.safe_dump(conf))
    exp = random_model(root, root / "cached.yaml")
    s2e = Speech2Emotion(exp / "config.yaml", exp / "model.pth")
    export_onnx(s2e, root / "cached.onnx")
    wav = speech_like(root / "c.wav", 1.7, 3)
    assert_same(s2e.predict_file(wav), OnnxSpeech2Emotion(root / "cached.onnx").predict_file(wav))


# ---------------------------------------------------------------- s3prl HuBERT -> transformers (issue 28)
@pytest.mark.parametrize("stable", [False, True], ids=["base_layout", "large_layout"])
def test_s3prl_hubert_converts_to_transformers_with_the_same_hidden_states(tmp_path, stable):
    """Every layer's output of the converted model equals s3prl's own (the reference: s3prl running its
    checkpoint), frame counts included, for HuBERT-base's layout (group-norm convolutions, post-norm
    layers) and HuBERT-large's (layer-norm convolutions, pre-norm layers, normalised waveform)."""
    from espnet_ser.model.frontend.convert import hf_frontend_from_s3prl
    from espnet_ser.model.frontend.s3prl import S3prlFrozenFrontend
    from espnet_ser.testing.hubert_checkpoints import save_s3prl_hubert

    ckpt = save_s3prl_hubert(tmp_path / "s3prl.pt", stable=stable, seed=4)
    s3prl = S3prlFrozenFrontend("hubert_local", path_or_url=str(ckpt), multilayer_feature=True)
    hf = hf_frontend_from_s3prl(s3prl)
    assert type(hf.upstream).__module__.startswith("transformers.") and hf.upstream.config.do_stable_layer_norm == stable
    gen = torch.Generator().manual_seed(1)
    for samples in (800, 16000, 37123):
        x = 0.3 * torch.randn(1, samples, generator=gen) + 0.05
        a, la = s3prl.hidden_states(x, torch.tensor([samples]))
        b, lb = hf.hidden_states(x, torch.tensor([samples]))
        assert torch.equal(la, lb) and len(a) == len(b) == 3
        for layer, (p, q) in enumerate(zip(a, b)):
            assert p.shape == q.shape and float((p - q).abs().max()) <= 1e-5, (samples, layer)


def test_a_model_trained_with_the_s3prl_frontend_exports(tmp_path):
    """The paper's frontend (s3prl HuBERT) exports: onnxruntime on the converted graph vs torch on the
    s3prl model itself, within 1e-4, at several lengths."""
    from espnet_ser.testing.hubert_checkpoints import save_s3prl_hubert

    conf = yaml.safe_load(tiny_hubert_config(tmp_path, num_workers=0).read_text())
    conf["frontend"] = "s3prl"
    conf["frontend_conf"] = {"upstream": "hubert_local", "path_or_url": str(save_s3prl_hubert(tmp_path / "s3prl.pt")),
                             "multilayer_feature": True}
    (tmp_path / "s3prl.yaml").write_text(yaml.safe_dump(conf))
    exp = random_model(tmp_path, tmp_path / "s3prl.yaml")
    s2e = Speech2Emotion(exp / "config.yaml", exp / "model.pth")
    meta = export_onnx(s2e, tmp_path / "model.onnx")
    assert "s3prl" in json.loads(meta["converted"]) and json.loads(meta["export_check"])["max_abs_diff"] <= TOL
    assert type(s2e.model.frontend).__name__ == "S3prlFrozenFrontend"  # the torch model is left as it was
    onnx = OnnxSpeech2Emotion(tmp_path / "model.onnx")
    for i, seconds in enumerate((0.7, 2.0, 3.30007)):
        wav = speech_like(tmp_path / f"{i}.wav", seconds, i)
        assert_same(s2e.predict_file(wav), onnx.predict_file(wav))
