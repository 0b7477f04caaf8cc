"""Speaker-level normalisation (``normalize: speaker_mvn``): the statistics against numpy, the layer
against the literal formula, the recipe's statistics files, training, and ser_inference computing each
test speaker's statistics from that speaker's recordings."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml
from espnet2.asr.frontend.default import DefaultFrontend

from espnet_ser.bin.ser_inference import main as infer
from espnet_ser.errors import InputError
from espnet_ser.inference.predictions import read_predictions
from espnet_ser.labels import read_table
from espnet_ser.model.speaker_mvn import SpeakerMVN, SpeakerStats
from espnet_ser.recipe.plan import Split, plan_stage
from espnet_ser.recipe.train_args import collect_stats, speaker_stats_files, train, train_args
from helpers import make_data_dir

from helpers import ROOT
CONF = ROOT / "conf/tuning/train_ser_cpu_small.yaml"


def numpy_speaker_stats(data_dir: Path) -> dict:
    """speaker -> (mean, population std) of the config's fbank frames over that speaker's utterances."""
    conf = yaml.safe_load(CONF.read_text())
    fe = DefaultFrontend(**conf["frontend_conf"])
    frames = {}
    wavs, spk = read_table(data_dir / "wav.scp"), read_table(data_dir / "utt2spk")
    for u, path in wavs.items():
        x = torch.from_numpy(sf.read(path, dtype="float32")[0])[None]
        with torch.no_grad():
            f, n = fe(x, torch.tensor([x.shape[1]]))
        frames.setdefault(spk[u], []).append(f[0, : int(n[0])].double().numpy())
    return {s: (np.concatenate(v).mean(0), np.concatenate(v).std(0)) for s, v in frames.items()}


def test_speaker_stats_are_the_mean_and_std_of_all_the_speakers_frames():
    rng = np.random.default_rng(0)
    parts = {"a": [rng.normal(2, 3, (7, 4)), rng.normal(-1, 1, (3, 4))], "b": [rng.normal(0, 0.5, (5, 4))]}
    acc = SpeakerStats()
    for spk, chunks in parts.items():
        for c in chunks:
            acc.add(spk, torch.from_numpy(c))
    out = acc.result()
    for spk, chunks in parts.items():
        allf = np.concatenate(chunks)
        assert np.allclose(out[spk][:4], allf.mean(0), atol=1e-5)
        assert np.allclose(out[spk][4:], allf.std(0), atol=1e-5)


def test_the_layer_applies_the_formula_and_leaves_padding_at_zero():
    x = torch.tensor([[[1.0, 2.0], [3.0, 6.0], [9.0, 9.0]], [[4.0, 4.0], [0.0, 8.0], [7.0, 7.0]]])
    stats = torch.tensor([[2.0, 4.0, 1.0, 2.0], [0.0, 0.0, 2.0, 4.0]])
    y, lens = SpeakerMVN()(x, torch.tensor([3, 2]), stats)
    expected = torch.tensor([[[-1.0, -1.0], [1.0, 1.0], [7.0, 2.5]], [[2.0, 1.0], [0.0, 2.0], [0.0, 0.0]]])
    assert torch.equal(y, expected) and lens.tolist() == [3, 2]
    with pytest.raises(InputError, match="speaker statistics"):
        SpeakerMVN()(x, torch.tensor([3, 2]))
    with pytest.raises(InputError, match="expected 4 values"):
        SpeakerMVN()(x, torch.tensor([3, 2]), stats[:, :3])


@pytest.fixture(scope="module")
def spk_exp(tmp_path_factory):
    root = tmp_path_factory.mktemp("spkmvn")
    tr = make_data_dir(root / "train", n=15, seed=0, prefix="tr")
    dv = make_data_dir(root / "valid", n=6, seed=1, prefix="dv")
    stats = collect_stats(CONF, tr, dv, root / "stats")
    exp = train(CONF, tr, dv, stats, root / "exp", ["--max_epoch", "2", "--batch_size", "4"])
    return root, tr, dv, stats, exp


def test_the_stats_stage_writes_each_utterance_its_speakers_statistics(spk_exp):
    _, tr, dv, stats, _ = spk_exp
    files = speaker_stats_files(stats)
    for phase, data_dir in (("train", tr), ("valid", dv)):
        written = {u: np.array(v.split(), dtype=float) for u, v in read_table(files[phase]).items()}
        spk = read_table(data_dir / "utt2spk")
        ref = numpy_speaker_stats(data_dir)
        assert sorted(written) == sorted(spk) and len(ref) == 3
        for u, v in written.items():
            mean, std = ref[spk[u]]
            assert np.allclose(v[:40], mean, rtol=1e-4, atol=1e-4) and np.allclose(v[40:], std, rtol=1e-4, atol=1e-4)


def test_training_reads_the_statistics_and_the_plan_writes_them(spk_exp, tmp_path):
    root, tr, dv, stats, exp = spk_exp
    conf = yaml.safe_load((exp / "config.yaml").read_text())
    assert conf["normalize"] == "speaker_mvn" and (exp / "2epoch.pth").exists()
    assert [str(speaker_stats_files(stats)["train"]), "speaker_mvn", "text_float"] in conf["train_data_path_and_name_and_type"]
    # the recipe: one speaker-statistics job per split beside collect-stats, read by the training job
    split = Split("fold1", 1, None, str(tr.relative_to(root)), str(dv.relative_to(root)), {"test": "test"})
    jobs = plan_stage("stats", "emovo", [split], root, tmp_path / "exp", ["baseline_d"], str(CONF))
    assert [j["module"] for j in jobs] == ["espnet_ser.bin.ser_train", "espnet_ser.bin.speaker_stats"]
    args = train_args(CONF, tr, dv, tmp_path / "exp/stats/fold1", exp, [])
    assert f"{tmp_path / 'exp/stats/fold1/speaker/valid/speaker_mvn'},speaker_mvn,text_float" in args


def test_inference_normalises_each_speaker_with_its_own_recordings(spk_exp, tmp_path):
    root, _, _, _, exp = spk_exp
    te = make_data_dir(root / "test", n=6, seed=2, prefix="te")
    assert infer(["--model", str(exp), "--model_file", "2epoch.pth", "--wav_scp", str(te / "wav.scp"),
                  "--out", str(tmp_path / "hyp"), "--no_progress"]) == 0
    got = read_predictions(tmp_path / "hyp")
    # the reference: the model applied to each utterance with numpy statistics of its speaker's frames
    from espnet_ser.inference.speech2emotion import build_model

    model, _ = build_model(exp / "config.yaml", exp / "2epoch.pth")
    model.eval()
    ref = numpy_speaker_stats(te)
    spk, wavs = read_table(te / "utt2spk"), read_table(te / "wav.scp")
    for i, u in enumerate(got.ids):
        x = torch.from_numpy(sf.read(wavs[u], dtype="float32")[0])[None]
        s = torch.from_numpy(np.concatenate(ref[spk[u]])).float()[None]
        with torch.no_grad():
            p = model.predict(x, torch.tensor([x.shape[1]]), s)["probs"][0].numpy()
        assert np.allclose(got.probs[i], p, atol=1e-4)
    # audio files without a speaker map: a clear error, not a guess
    with pytest.raises(InputError, match="--utt2spk"):
        infer(["--model", str(exp), "--model_file", "2epoch.pth", "--out", str(tmp_path / "x"), "--no_progress",
               *[wavs[u] for u in sorted(wavs)[:2]]])


def test_a_speaker_mvn_model_is_not_exported_to_onnx(spk_exp, tmp_path):
    from espnet_ser.inference.onnx import export_onnx
    from espnet_ser.inference.speech2emotion import Speech2Emotion

    s2e = Speech2Emotion.from_exp_dir(spk_exp[4], "2epoch.pth")
    with pytest.raises(InputError, match="speaker_mvn"):
        export_onnx(s2e, tmp_path / "m.onnx")


def test_statistics_need_only_the_frontend_of_the_config(spk_exp, tmp_path):
    """Any model part may follow the frontend (here mean pooling without a pooling_conf, which a model built
    from the YAML with ESPnet's defaults would reject); a trainable frontend is refused."""
    from espnet_ser.recipe.train_args import data_dir_speaker_stats

    _, tr, _, stats, _ = spk_exp
    conf = yaml.safe_load(CONF.read_text())
    conf.pop("pooling_conf")
    conf.update(pooling="mean", encoder="conformer", encoder_conf={"output_size": 16, "num_blocks": 1})
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(conf))
    assert data_dir_speaker_stats(tmp_path / "c.yaml", tr).keys() == read_table(tr / "wav.scp").keys()
    fe = DefaultFrontend(fs=16000, n_mels=8)
    torch.nn.Module.register_parameter(fe, "trainable", torch.nn.Parameter(torch.zeros(1)))
    from espnet_ser.model.speaker_mvn import statistics

    with pytest.raises(InputError, match="without trainable parameters"):
        statistics(fe, [("a", "x.wav")], {"a": "s"}, lambda p: iter(()))


def test_a_speaker_with_one_frame_is_reported_by_name(caplog):
    """One utterance of functionals (one frame) per speaker: every normalised feature is 0 (a tone and silence
    look alike); the statistics say which speakers, in the log."""
    import logging

    import torch

    from espnet_ser.model.speaker_mvn import SpeakerStats

    acc = SpeakerStats()
    acc.add("alone", torch.tensor([[1.0, 2.0]]))
    acc.add("many", torch.tensor([[1.0, 2.0], [3.0, 5.0]]))
    with caplog.at_level(logging.WARNING):
        stats = acc.result()
    assert acc.single == ["alone"]
    assert "1 speaker(s) with a single feature frame (alone)" in caplog.text
    assert stats["many"][2:].tolist() == [1.0, 1.5]  # population std of (1, 3) and (2, 5)
