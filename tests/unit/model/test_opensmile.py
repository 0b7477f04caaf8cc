"""``frontend: opensmile`` through the toolkit: the feature cache stores openSMILE's own functionals,
``speaker_mvn`` z-scores them per speaker (against numpy), and a model trained on them packs, loads
weights-only and runs inference (the recipe's small-corpus openSMILE config, shrunk from ComParE +
eGeMAPS + emobase to GeMAPS + eGeMAPS + emobase: three feature sets side by side in each of three views,
the whole utterance, its 1 s and its 2 s windows)."""


import numpy as np
import pytest
import torch

from espnet_ser.labels import read_table

from opensmile_fixtures import CONF, DIM, SETS, VIEWS, frames_of, reference_functionals, small  # noqa: F401  (fixtures and helpers shared with another layer)


def test_the_cache_stores_opensmiles_functionals_of_each_view(small):
    import soundfile as sf

    from espnet_ser.recipe.feature_cache import extract_features

    root, conf, tr, _ = small
    report = extract_features(tr, root / "feats", conf, progress=False)
    assert report["feat_dim"] == VIEWS * DIM and report["num_layers"] == 1
    wavs = read_table(tr / "wav.scp")
    ref = reference_functionals(tr)
    for u, path in read_table(root / "feats/feats.scp").items():
        got = np.load(path)
        assert got.dtype == np.float32  # openSMILE's values exceed float16's range: stored as float32 by default
        want = frames_of(sf.read(wavs[u], dtype="float32")[0])
        assert got.shape == want.shape == (2, VIEWS * DIM), u  # every utterance is 1.0-1.5 s: two 1 s windows
        assert np.allclose(got, want, rtol=1e-5, atol=1e-5), u
        assert np.allclose(got[0, :DIM], ref[u], rtol=1e-5, atol=1e-5), u  # the whole view: process_file's functionals
    assert "--frontend_conf source=opensmile" in (root / "feats/frontend_args").read_text()


def test_the_cache_stores_the_functionals_of_each_window(small, tmp_path):
    """``window=0.5 window_shift=0.25``: one cached row per window of each utterance, ceil((n - 8000) / 4000) + 1
    of them, row k openSMILE's functionals of samples 4000 k to 4000 k + 8000, the last one's ending at n."""
    import math

    import opensmile
    import soundfile as sf

    from espnet_ser.recipe.feature_cache import extract_features

    root, conf, tr, _ = small
    extract_features(tr, tmp_path / "feats", conf, overrides=["window=0.5", "window_shift=0.25"], progress=False)
    smiles = [opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, s), feature_level=opensmile.FeatureLevel.Functionals)
              for s in SETS]
    wavs = read_table(tr / "wav.scp")
    for u, path in read_table(tmp_path / "feats/feats.scp").items():
        x, fs = sf.read(wavs[u], dtype="float32")
        got, n = np.load(path), len(x)
        assert fs == 16000 and n > 8000 and got.shape == (math.ceil((n - 8000) / 4000) + 1, DIM), u
        for k, row in enumerate(got):
            start = n - 8000 if k == len(got) - 1 else 4000 * k
            ref = np.nan_to_num(np.concatenate([m.process_signal(x[start:start + 8000], fs).to_numpy(np.float32)[0]
                                                for m in smiles]))
            assert np.allclose(row, ref, rtol=1e-5, atol=1e-5), (u, k)


def test_features_beyond_float16_are_refused_as_float16(small, tmp_path):
    """ComParE's functionals hold values above 65,504 (float16's largest): asked to store them as float16,
    the cache refuses instead of writing inf."""
    from espnet_ser.errors import InputError
    from espnet_ser.recipe.feature_cache import extract_features

    root, _, tr, _ = small
    with pytest.raises(InputError, match="exceed float16's range"):
        extract_features(tr, tmp_path / "f16", CONF, dtype="float16", progress=False)


def test_a_signal_gives_what_opensmile_gives_for_it():
    import opensmile

    from espnet_ser.model.frontend.opensmile_frontend import OpenSmileFrontend

    x = (0.1 * np.sin(2 * np.pi * 200 * np.arange(16000) / 16000)).astype(np.float32)
    ref = {s: np.nan_to_num(opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, s),
                                            feature_level=opensmile.FeatureLevel.Functionals).process_signal(x, 16000)
                            .to_numpy(np.float32)[0]) for s in ("ComParE_2016", "eGeMAPSv02", "emobase")}
    assert np.allclose(OpenSmileFrontend("eGeMAPSv02", "functionals").features(x)[0], ref["eGeMAPSv02"], atol=1e-5)
    both = OpenSmileFrontend(["ComParE_2016", "eGeMAPSv02"], "functionals")
    assert both.output_size() == 6373 + 88 and both.group_sizes == [6373, 88]
    got = both.features(x)
    assert got.shape == (1, 6461)
    assert np.allclose(got[0, :6373], ref["ComParE_2016"], rtol=1e-5, atol=1e-5)
    assert np.allclose(got[0, 6373:], ref["eGeMAPSv02"], atol=1e-5)
    three = OpenSmileFrontend(["ComParE_2016", "eGeMAPSv02", "emobase"], "functionals")
    assert three.group_sizes == [6373, 88, 988]
    got = three.features(x)[0]
    assert np.allclose(got[6373 + 88:], ref["emobase"], rtol=1e-5, atol=1e-5)


def test_windows_give_what_opensmile_gives_for_each_window():
    """``window``: one row per window, each openSMILE's own functionals of that slice of the signal; the window
    starts computed by hand (2.3 s, 1 s windows shifted by 0.5 s: 0, 0.5, 1.0 and, for the end, 1.3 s)."""
    import opensmile

    from espnet_ser.model.frontend.opensmile_frontend import OpenSmileFrontend

    t = np.arange(36800) / 16000
    x = (0.1 * np.sin(2 * np.pi * (150 + 60 * t) * t) * (1 + t)).astype(np.float32)
    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02, feature_level=opensmile.FeatureLevel.Functionals)
    ref = lambda y: np.nan_to_num(smile.process_signal(y, 16000).to_numpy(np.float32)[0])  # noqa: E731
    got = OpenSmileFrontend("eGeMAPSv02", "functionals", window=1.0, window_shift=0.5).features(x)
    assert got.shape == (4, 88)
    for row, start in zip(got, (0, 8000, 16000, 20800)):
        assert np.allclose(row, ref(x[start:start + 16000]), rtol=1e-5, atol=1e-5), start
    assert not np.allclose(got[0], got[1])
    short = OpenSmileFrontend("eGeMAPSv02", "functionals", window=2.0).features(x[:9600])  # 0.6 s: one window
    assert short.shape == (1, 88) and np.allclose(short[0], ref(x[:9600]), rtol=1e-5, atol=1e-5)


def test_views_give_each_frame_the_nearest_window_of_every_view():
    """``window: [0, 1.0, 2.0]``: the frames are the 1 s windows of a 3.2 s signal (starts 0, 0.5, 1, 1.5, 2 and,
    for the end, 2.2 s; centres 0.5 ... 2.5, 2.7 s); its 2 s windows start at 0, 1 and 1.2 s (centres 1, 2, 2.2 s),
    so the frames take 2 s windows 0, 0, 0 (1.5 s: a tie, the earlier), 1, 2, 2; each frame is [whole, 1 s, 2 s],
    each part openSMILE's own functionals of that slice (worked out by hand)."""
    import opensmile

    from espnet_ser.model.frontend.opensmile_frontend import OpenSmileFrontend

    t = np.arange(51200) / 16000
    x = (0.1 * np.sin(2 * np.pi * (150 + 60 * t) * t) * (1 + np.sin(3 * t))).astype(np.float32)
    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02, feature_level=opensmile.FeatureLevel.Functionals)
    ref = lambda y: np.nan_to_num(smile.process_signal(y, 16000).to_numpy(np.float32)[0])  # noqa: E731
    frontend = OpenSmileFrontend("eGeMAPSv02", "functionals", window=[0, 1.0, 2.0], window_shift=[None, 0.5, 1.0])
    assert frontend.output_size() == 3 * 88
    got = frontend.features(x)
    assert got.shape == (6, 3 * 88)
    one = [0, 8000, 16000, 24000, 32000, 35200]
    two = [0, 0, 0, 16000, 19200, 19200]
    for row, a, b in zip(got, one, two):
        assert np.allclose(row[:88], ref(x), rtol=1e-5, atol=1e-5)
        assert np.allclose(row[88:176], ref(x[a:a + 16000]), rtol=1e-5, atol=1e-5), a
        assert np.allclose(row[176:], ref(x[b:b + 32000]), rtol=1e-5, atol=1e-5), b
    # through forward: a batch pads the shorter signal's frames with zeros and gives each its count
    feats, lengths = frontend(torch.from_numpy(np.stack([x, np.pad(x[:20000], (0, 31200))])), torch.tensor([51200, 20000]))
    assert lengths.tolist() == [6, 2] and feats.shape == (2, 6, 3 * 88)
    assert np.allclose(feats[1, 1].numpy(), np.concatenate([ref(x[:20000]), ref(x[4000:20000]), ref(x[:20000])]),
                       rtol=1e-5, atol=1e-5)
    assert not feats[1, 2:].any()


@pytest.mark.parametrize("conf, match", [
    (dict(feature_level="functionals", window=[0, 1.0, 1.0]), "name a view twice"),
    (dict(feature_level="functionals", window=[0, 1.0], window_shift=[0.5]), "one shift"),
    (dict(feature_level="functionals", window=[]), "one shift"),
    (dict(feature_level="lld", window=[0, 1.0]), "need feature_level functionals"),
    (dict(feature_level="functionals", window=[0, -1.0]), "at least 0.1 s"),
    (dict(feature_level="lld", window=1.0), "need feature_level functionals"),
    (dict(feature_level="functionals", window=-1.0), "at least 0.1 s"),
    (dict(feature_level="functionals", window="long"), "at least 0.1 s"),
    (dict(feature_level="functionals", window=float("inf")), "at least 0.1 s"),
    (dict(feature_level="functionals", window=0.01), "at least 0.1 s"),
    (dict(feature_level="functionals", window=1.0, window_shift=0.0), "window_shift"),
    (dict(feature_level="functionals", window=1.0, window_shift=1e-6), "the shift at least 0.01 s"),
    (dict(feature_level="functionals", window=1.0, window_shift=0.0001), "the shift at least 0.01 s"),  # was 32,001 windows a minute
    (dict(feature_level="functionals", window=1.0, window_shift=float("nan")), "the shift at least 0.01 s")])
def test_bad_windows_are_refused(conf, match):
    from espnet_ser.errors import InputError
    from espnet_ser.model.frontend.opensmile_frontend import OpenSmileFrontend

    with pytest.raises(InputError, match=match):
        OpenSmileFrontend("eGeMAPSv02", **conf)


@pytest.mark.parametrize("sets, level, match", [
    (["eGeMAPSv02", "ComParE_2016"], "lld", "only with feature_level functionals"),
    (["eGeMAPSv02", "eGeMAPSv02"], "functionals", "names a set twice"),
    (["eGeMAPSv02", "MFCC"], "functionals", "must be one of"),
    ([], "functionals", "must be one of")])
def test_bad_feature_set_lists_are_refused(sets, level, match):
    from espnet_ser.errors import InputError
    from espnet_ser.model.frontend.opensmile_frontend import OpenSmileFrontend

    with pytest.raises(InputError, match=match):
        OpenSmileFrontend(sets, level)


def test_speaker_statistics_from_the_cache_equal_those_from_audio(small, tmp_path):
    """The recipe's stats stage on a feature cache (--feats_type cached) reads the cached features: the
    same statistics as the frontend computes from the audio."""
    from espnet_ser.recipe.feature_cache import extract_features
    from espnet_ser.recipe.train_args import data_dir_speaker_stats

    root, conf, tr, _ = small
    extract_features(tr, tmp_path / "feats", conf, progress=False)
    from_cache = data_dir_speaker_stats(conf, tmp_path / "feats")
    from_audio = data_dir_speaker_stats(conf, tr)
    assert sorted(from_cache) == sorted(from_audio) == sorted(read_table(tr / "wav.scp"))
    for u in from_audio:
        assert np.allclose(from_cache[u], from_audio[u], rtol=1e-5, atol=1e-6), u
