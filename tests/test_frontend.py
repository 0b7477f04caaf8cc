"""Tiny HuBERT checkpoints built here load offline; the upstream is frozen; downloads fail clearly."""

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
