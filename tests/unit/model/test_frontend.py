"""Tiny HuBERT checkpoints built here load offline; the upstream is frozen; downloads fail clearly."""

import numpy as np
import pytest
import torch

from espnet_ser.model.frontend.frozen import DownloadNeeded
from espnet_ser.model.frontend.hf_hubert import HFHubertFrontend
from espnet_ser.model.frontend.s3prl import S3prlFrozenFrontend
from espnet_ser.model.task import SERTask
from espnet_ser.testing.hubert_checkpoints import save_hf_hubert, save_s3prl_hubert


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    d = tmp_path_factory.mktemp("hubert")
    return {"hf": str(save_hf_hubert(d / "hf")), "s3prl": str(save_s3prl_hubert(d / "tiny.pt"))}


def frontends(ck):
    return {
        "hf_hubert": lambda **kw: HFHubertFrontend(ck["hf"], **kw),
        "s3prl_hubert_local": lambda **kw: S3prlFrozenFrontend("hubert_local", path_or_url=ck["s3prl"], **kw),
        "s3prl_hf_hubert_custom": lambda **kw: S3prlFrozenFrontend("hf_hubert_custom", path_or_url=ck["hf"], **kw),
    }


@pytest.mark.parametrize("kind", ["hf_hubert", "s3prl_hubert_local", "s3prl_hf_hubert_custom"])
@pytest.mark.parametrize("multilayer", [False, True])
def test_tiny_hubert_loads_offline_and_is_frozen(checkpoints, kind, multilayer):
    fe = frontends(checkpoints)[kind](multilayer_feature=multilayer)
    fe.train()
    assert not fe.upstream.training  # frozen upstream never runs dropout
    x, lens = torch.randn(2, 16000), torch.tensor([16000, 8000])
    feats, flens = fe(x, lens)
    assert feats.shape[0] == 2 and feats.shape[2] == fe.output_size() == 32
    assert flens[0] == feats.shape[1] and 0 < flens[1] < flens[0]
    # a 20 ms hop: about 50 frames a second
    assert abs(int(flens[0]) - 50) <= 1 and abs(int(flens[1]) - 25) <= 1
    trainable = [n for n, p in fe.named_parameters() if p.requires_grad]
    assert trainable == (["weighted_sum.weights"] if multilayer else [])


def test_frozen_frontend_gets_no_grad_and_no_optimizer_state(checkpoints, tmp_path):
    args = SERTask.get_parser().parse_args(
        ["--config", "conf/tuning/train_ser_tiny_hubert.yaml", "--frontend_conf", f"path_or_name={checkpoints['hf']}"]
    )
    model = SERTask.build_model(args)
    (opt,) = SERTask.build_optimizers(args, model)
    loss, _, _ = model(
        speech=torch.randn(3, 16000), speech_lengths=torch.tensor([16000, 12000, 9000]),
        emotion=torch.tensor([[0], [1], [-1]]), vad=torch.rand(3, 3),
    )
    loss.backward()
    opt.step()
    upstream = list(model.frontend.upstream.parameters())
    assert upstream and all(p.grad is None and not p.requires_grad for p in upstream)
    in_optimizer = {id(p) for g in opt.param_groups for p in g["params"]}
    assert not in_optimizer & {id(p) for p in upstream}
    assert not any(id(p) in opt.state for p in upstream)
    assert model.frontend.weighted_sum.weights.grad is not None  # the layer weights do learn


def test_named_s3prl_upstream_that_needs_a_download_fails_clearly(tmp_path):
    with pytest.raises(DownloadNeeded, match="hubert_large_ll60k.*path_or_url"):
        S3prlFrozenFrontend("hubert_large_ll60k", download_dir=str(tmp_path))


def test_named_hf_model_that_needs_a_download_fails_clearly(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DownloadNeeded, match="facebook/hubert-large-ll60k.*save_pretrained"):
        HFHubertFrontend("facebook/hubert-large-ll60k")


def test_unknown_s3prl_upstream_is_named():
    with pytest.raises(ValueError, match="no_such_model"):
        S3prlFrozenFrontend("no_such_model")


# ---------------------------------------------------------------- openSMILE (frontend: opensmile)
@pytest.fixture(scope="module")
def speechlike(tmp_path_factory):
    """Two seconds of a voiced-like signal: a 140 Hz pulse train through a resonance, with noise."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    t = np.arange(32000) / 16000
    x = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 12)) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    x = (0.1 * x + 0.01 * rng.normal(size=t.size)).astype(np.float32)
    path = tmp_path_factory.mktemp("os") / "speech.wav"
    sf.write(path, x, 16000, subtype="FLOAT")
    return path, x


@pytest.mark.parametrize("feature_set, level, dim", [("eGeMAPSv02", "functionals", 88), ("eGeMAPSv02", "lld", 25),
                                                     ("ComParE_2016", "lld", 65)])
def test_opensmile_frontend_equals_opensmiles_own_output(speechlike, feature_set, level, dim):
    """The frontend's features are openSMILE's for the same file (its own process_file), padded in a batch."""
    import opensmile

    from espnet_ser.model.frontend.opensmile_frontend import FEATURE_LEVELS, OpenSmileFrontend

    path, x = speechlike
    ref = opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, feature_set),
                          feature_level=getattr(opensmile.FeatureLevel, FEATURE_LEVELS[level])).process_file(str(path))
    ref = np.nan_to_num(ref.to_numpy(np.float32))
    fe = OpenSmileFrontend(feature_set, level)
    assert fe.output_size() == dim == ref.shape[1]
    batch = torch.zeros(2, x.size)
    batch[0], batch[1, : x.size // 2] = torch.from_numpy(x), torch.from_numpy(x[: x.size // 2])
    feats, lens = fe(batch, torch.tensor([x.size, x.size // 2]))
    assert int(lens[0]) == ref.shape[0] and np.allclose(feats[0, : ref.shape[0]].numpy(), ref, rtol=1e-5, atol=1e-5)
    assert int(lens[1]) <= int(lens[0]) and (feats[1, int(lens[1]):] == 0).all()


def test_opensmile_frontend_refuses_unknown_sets():
    from espnet_ser.errors import InputError
    from espnet_ser.model.frontend.opensmile_frontend import OpenSmileFrontend

    with pytest.raises(InputError, match="feature_set must be one of"):
        OpenSmileFrontend("eGeMAPS_v9")
    with pytest.raises(InputError, match="feature_level must be one of"):
        OpenSmileFrontend("eGeMAPSv02", "frames")
