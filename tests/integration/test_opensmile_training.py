"""Models trained on openSMILE features: speaker normalisation, packing, batches drawn anew each epoch, no ONNX."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from espnet_ser.labels import read_table
from espnet_ser.recipe.train_args import collect_stats, speaker_stats_files, train
from helpers import make_data_dir

from opensmile_fixtures import CONF, DIM, SETS, VIEWS, frames_of, reference_functionals, small  # noqa: F401  (fixtures and helpers shared with another layer)


@pytest.fixture(scope="module")
def trained(small):
    root, conf, tr, dv = small
    stats = collect_stats(conf, tr, dv, root / "stats")
    exp = train(conf, tr, dv, stats, root / "exp", ["--max_epoch", "3", "--batch_size", "4", "--keep_nbest_models", "1"])
    return root, conf, tr, dv, stats, exp


def speaker_frames(tr: Path) -> dict:
    """speaker -> the frames of its utterances (:func:`frames_of`), stacked."""
    import soundfile as sf

    frames = {u: frames_of(sf.read(p, dtype="float32")[0]) for u, p in read_table(tr / "wav.scp").items()}
    spk = read_table(tr / "utt2spk")
    return {s: np.concatenate([f for u, f in sorted(frames.items()) if spk[u] == s]) for s in set(spk.values())}


def test_speaker_mvn_z_scores_the_functionals_per_speaker(trained):
    """Each dimension z-scored over the speaker's frames: every view's statistics its own."""
    _, _, tr, _, stats, _ = trained
    mine, spk = speaker_frames(tr), read_table(tr / "utt2spk")
    written = {u: np.array(v.split(), dtype=float) for u, v in read_table(speaker_stats_files(stats)["train"]).items()}
    for u, v in written.items():
        assert np.allclose(v[:VIEWS * DIM], mine[spk[u]].mean(0), rtol=1e-3, atol=1e-3)
        assert np.allclose(v[VIEWS * DIM:], mine[spk[u]].std(0), rtol=1e-3, atol=1e-3)


def test_a_model_trained_on_opensmile_packs_loads_and_predicts(trained, tmp_path):
    from espnet_ser.bin.ser_inference import main as infer
    from espnet_ser.inference.pack import best_model_pth, pack_model
    from espnet_ser.inference.predictions import read_predictions
    from espnet_ser.inference.speech2emotion import Speech2Emotion

    root, _, tr, _, _, exp = trained
    assert yaml.safe_load((exp / "config.yaml").read_text())["frontend"] == "opensmile"
    z = pack_model(exp, tmp_path / "model.zip", best_model_pth(exp))
    s2e = Speech2Emotion.from_pretrained(z)
    # the encoder's input layer reads the frontend's width (3 views x 1,138 functionals), never typed in the config
    assert s2e.model.encoder.embed[0].in_features == VIEWS * DIM == s2e.model.frontend.output_size()
    te = make_data_dir(root / "test", n=4, seed=2, prefix="te", dur=(1.0, 1.5))
    stats = s2e.speaker_statistics(sorted(read_table(te / "wav.scp").items()), read_table(te / "utt2spk"))
    out = s2e.predict_file(read_table(te / "wav.scp")["te000"], speaker_mvn=stats["te000"])
    assert set(out["probs"]) == {"neutral", "angry", "happy", "sad", "disgust"}
    assert sum(out["probs"].values()) == pytest.approx(1.0, abs=1e-5)
    assert infer(["--model", str(z), "--wav_scp", str(te / "wav.scp"), "--out", str(tmp_path / "hyp"), "--no_progress"]) == 0
    hyp = read_predictions(tmp_path / "hyp")
    assert hyp.ids == sorted(read_table(te / "wav.scp")) and np.allclose(hyp.probs.sum(1), 1, atol=1e-4)
    i = hyp.ids.index("te000")
    assert np.allclose(hyp.probs[i], [out["probs"][c] for c in hyp.class_list], atol=1e-5)


def test_every_epoch_draws_new_batches_of_the_training_utterances(trained):
    """ESPnet's folded sampler makes its batches once, of neighbouring utterances in length then id order (cached
    functionals are all one frame long: consecutive ids, often one speaker or one class), and shuffles only their
    order; the config's ``shuffle_within_batch`` draws new batches every epoch. Checked on the iterator ESPnet builds
    from the trained experiment's own config.yaml: each epoch is a partition of the training utterances, and the
    partitions differ (and without the option they do not). ESPnet redraws batches of the size of the epoch's first
    batch, so an epoch that starts with the short last batch has smaller ones: at most 4 here."""
    import argparse

    from espnet2.train.distributed_utils import DistributedOption

    from espnet_ser.model.task import SERTask

    _, _, tr, _, _, exp = trained
    args = argparse.Namespace(**yaml.safe_load((exp / "config.yaml").read_text()))
    assert args.shuffle_within_batch is True
    ids = sorted(read_table(tr / "utt2spk"))

    def partitions(shuffle: bool) -> list:
        args.shuffle_within_batch = shuffle
        factory = SERTask.build_sequence_iter_factory(args, SERTask.build_iter_options(args, DistributedOption(), "train"), "train")
        epochs = [[list(b) for b in factory.build_iter(epoch).batch_sampler] for epoch in (1, 2, 3)]
        for batches in epochs:
            assert sorted(u for b in batches for u in b) == ids and max(map(len, batches)) <= 4  # --batch_size 4
        return [frozenset(frozenset(b) for b in batches) for batches in epochs]

    assert len(set(partitions(True))) == 3
    assert len(set(partitions(False))) == 1


def test_opensmile_models_are_not_exported_to_onnx(trained, tmp_path):
    from espnet_ser.errors import InputError
    from espnet_ser.inference.onnx import export_onnx
    from espnet_ser.inference.pack import best_model_pth
    from espnet_ser.inference.speech2emotion import Speech2Emotion

    exp = trained[5]
    s2e = Speech2Emotion.from_exp_dir(exp, best_model_pth(exp))
    with pytest.raises(InputError, match="opensmile|speaker_mvn"):
        export_onnx(s2e, tmp_path / "m.onnx")


