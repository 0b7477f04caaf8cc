"""SERTask.main trains each variant for 2 epochs on generated wavs; Speech2Emotion loads the result."""


import numpy as np
import pytest
import torch

from espnet_ser.inference.speech2emotion import Speech2Emotion
from espnet_ser.recipe.train_args import collect_stats, train
from espnet_ser.spec import VARIANTS
from helpers import make_data_dir

from helpers import ROOT
CONF = ROOT / "conf/tuning/train_ser_tiny_fbank.yaml"
STATS = ["loss", "loss_ce", "loss_ccc", "ccc_valence", "ccc_arousal", "ccc_dominance", "ccc_mean", "acc"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    tr = make_data_dir(root / "train", n=20, seed=0, partial=True, prefix="tr")
    dv = make_data_dir(root / "valid", n=10, seed=1, prefix="dv")
    stats = collect_stats(CONF, tr, dv, root / "stats")
    return tr, dv, stats


def test_collect_stats_writes_shape_files(data):
    _, _, stats = data
    shapes = (stats / "train" / "speech_shape").read_text().split("\n")
    assert len([s for s in shapes if s]) == 20
    assert (stats / "train" / "feats_stats.npz").exists()


@pytest.mark.parametrize("variant", VARIANTS)
def test_train_two_epochs_and_predict(data, variant, tmp_path):
    tr, dv, stats = data
    exp = train(CONF, tr, dv, stats, tmp_path / "exp", ["--decoder", variant, "--max_epoch", "2", "--batch_size", "8"])
    assert (exp / "config.yaml").exists() and (exp / "2epoch.pth").exists()
    ckpt = torch.load(exp / "checkpoint.pth", map_location="cpu", weights_only=False)
    valid = ckpt["reporter"]["stats"][2]["valid"]
    assert set(STATS) <= set(valid), sorted(valid)
    has_c, has_d = variant != "baseline_d", variant != "baseline_c"
    assert np.isfinite(valid["loss"])
    assert np.isfinite(valid["ccc_mean"]) == has_c and np.isfinite(valid["acc"]) == has_d
    assert ckpt["reporter"]["epoch"] == 2

    best = exp / "valid.loss.best.pth"
    assert best.exists()
    s2e = Speech2Emotion(exp / "config.yaml", best)
    t = np.arange(44100) / 44100
    stereo = np.stack([np.sin(2 * np.pi * 200 * t), 0.5 * np.sin(2 * np.pi * 300 * t)], axis=1).astype(np.float32)
    out = s2e(stereo, fs=44100)
    if has_d:
        assert set(out["probs"]) == {"neutral", "angry", "happy", "sad", "disgust"}
        assert sum(out["probs"].values()) == pytest.approx(1.0, abs=1e-5) and out["emotion"] in out["probs"]
    else:
        assert out["probs"] is None and out["emotion"] is None
    if has_c:
        assert set(out["vad"]) == {"valence", "arousal", "dominance"} and min(out["vad"].values()) >= 0
    else:
        assert out["vad"] is None
    # resampling and downmixing happen inside: the same audio at 16 kHz mono gives nearly the same answer
    import torchaudio.functional as AF

    mono16 = AF.resample(torch.tensor(stereo.mean(1)), 44100, 16000).numpy()
    ref = s2e(mono16, fs=16000)
    if has_c:
        assert np.allclose(list(out["vad"].values()), list(ref["vad"].values()), atol=1e-4)


def test_keep_nbest_models_decodes_with_the_average_of_the_n_best(data, tmp_path):
    """keep_nbest_models N > 1: the exp's model is ESPnet's average of the N best epochs (here all three),
    checked against the epochs' weights averaged by hand."""
    from espnet_ser.inference.pack import best_model_pth
    from espnet_ser.safe_load import load

    tr, dv, stats = data
    exp = train(CONF, tr, dv, stats, tmp_path / "exp", ["--max_epoch", "3", "--batch_size", "8", "--keep_nbest_models", "3",
                                                       "--best_model_criterion", "valid,epoch_ua,max"])
    name = best_model_pth(exp)
    assert name == "valid.epoch_ua.ave_3best.pth"
    epochs = [load(exp / f"{e}epoch.pth", map_location="cpu") for e in (1, 2, 3)]
    ave = load(exp / name, map_location="cpu")
    for k, v in ave.items():
        if v.is_floating_point():
            assert torch.allclose(v, sum(e[k] for e in epochs) / 3, atol=1e-6), k
