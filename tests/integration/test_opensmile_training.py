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
    dec = s2e.model.decoder
    # the whole utterance's networks (groups 0-2), its kernel members (rbf, then landmarks), then kernel ridge on
    # every group of the three views, then LDA on the windows' groups (3-8)
    assert dec.member_groups == [0, 1, 2, 1, 1, 2] + list(range(9)) + list(range(3, 9))
    assert sum(p.numel() for m in dec.members[6:] for p in m.parameters()) == 0  # the closed-form members train nothing
    # the eGeMAPS landmark member stored every training utterance's eGeMAPS vector, z-scored over its speaker's frames
    ref, spk, frames = reference_functionals(tr), read_table(tr / "utt2spk"), speaker_frames(tr)
    lo, hi = 62, 62 + 88

    def z_scored(u):
        mine = frames[spk[u]][:, lo:hi]
        return (ref[u][lo:hi] - mine.mean(0)) / mine.std(0)

    # the dimensions that vary within every speaker (a constant one is divided by a floor: compared apart)
    varies = np.all([f[:, lo:hi].std(0) > 1e-3 for f in frames.values()], 0)

    kernel = dec.members[4].branch_d.mlp[0]
    n = int(kernel.filled.sum())
    assert n == len(ref) and np.allclose(kernel.filled[n:].numpy(), 0)
    stored = kernel.landmarks[:n].double().numpy()
    for u in ref:
        assert np.abs(stored[:, varies] - z_scored(u)[varies]).max(1).min() < 1e-2, u
    assert varies.sum() > 40
    # the eGeMAPS kernel ridge member stored the same vectors, each with its utterance's class
    ridge, classes = dec.members[7].ridge, read_table(tr / "emotion")
    assert int(ridge.filled.sum()) == len(ref)
    for u in ref:
        row = np.abs(ridge.landmarks[:n].double().numpy()[:, varies] - z_scored(u)[varies]).max(1).argmin()
        assert ridge.targets[row].tolist() == [float(c == classes[u]) for c in s2e.class_list], u
    # prior_correction: the counted classes are in the training classes' proportions (the average of epochs keeps them)
    counts, want = dec.class_counts.double().numpy(), np.array([sum(classes[u] == c for u in ref) for c in s2e.class_list])
    assert counts.sum() > 0 and np.allclose(counts / counts.sum(), want / want.sum(), atol=1e-6)
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


