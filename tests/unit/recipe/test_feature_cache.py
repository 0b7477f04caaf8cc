"""Frozen-feature cache: same training result as on the fly; keyed, resumable, stale caches rebuilt."""


import numpy as np
import torch

from espnet_ser.recipe.feature_cache import extract_features
from espnet_ser.inference.speech2emotion import Speech2Emotion
from espnet_ser.recipe.train_args import collect_stats, train
from espnet_ser.testing.hubert_checkpoints import save_hf_hubert

from helpers import ROOT
from cache_fixtures import EPOCHS, setup  # noqa: F401  (fixtures and helpers shared with another layer)


def test_cached_training_matches_on_the_fly(setup):
    root, cfg, tr, dv = setup
    st = collect_stats(cfg, tr, dv, root / "stats_fly")
    fly = train(cfg, tr, dv, st, root / "exp_fly")

    reps = [extract_features(d, root / f"feats_{d.parent.name}", cfg, dtype="float32", max_items=1, progress=False) for d in (tr, dv)]
    assert reps[0]["status"] == "new" and reps[0]["num_layers"] == 3 and reps[0]["feat_dim"] == 32  # all layers kept
    ctr, cdv = root / "feats_tr", root / "feats_dv"
    fargs = (ctr / "frontend_args").read_text().split()
    st2 = collect_stats(cfg, ctr, cdv, root / "stats_cached", fargs)
    cached = train(cfg, ctr, cdv, st2, root / "exp_cached", fargs)

    def valid(exp):
        ck = torch.load(exp / "checkpoint.pth", map_location="cpu", weights_only=False)
        return [ck["reporter"]["stats"][e]["valid"]["loss"] for e in range(1, EPOCHS + 1)]

    # Tolerance: the same arithmetic in another order (features computed in another batch) -> 1e-4 relative
    assert np.allclose(valid(fly), valid(cached), rtol=1e-4), (valid(fly), valid(cached))
    a = torch.load(fly / f"{EPOCHS}epoch.pth", map_location="cpu", weights_only=True)
    b = torch.load(cached / f"{EPOCHS}epoch.pth", map_location="cpu", weights_only=True)
    shared = [k for k in b if not k.startswith("frontend.")]
    assert shared and all(torch.allclose(a[k], b[k], atol=1e-4) for k in shared)
    assert torch.allclose(a["frontend.weighted_sum.weights"], b["frontend.weighted_sum.weights"], atol=1e-4)

    # the cached-feature model reads audio through its recorded source frontend
    wav = np.sin(2 * np.pi * 220 * np.arange(8000) / 16000).astype(np.float32)
    p_fly = Speech2Emotion(fly / "config.yaml", fly / f"{EPOCHS}epoch.pth")(wav, 16000)
    p_cached = Speech2Emotion(cached / "config.yaml", cached / f"{EPOCHS}epoch.pth")(wav, 16000)
    assert np.allclose(list(p_fly["probs"].values()), list(p_cached["probs"].values()), atol=1e-4)
    assert np.allclose(list(p_fly["vad"].values()), list(p_cached["vad"].values()), atol=1e-4)


def test_cache_is_reused_resumed_and_rebuilt(setup, tmp_path):
    root, cfg, tr, _ = setup
    out = tmp_path / "c"
    first = extract_features(tr, out, cfg, progress=False)
    assert first["status"] == "new" and first["extracted_now"] == 8 and first["dtype"] == "float16"
    assert np.load(sorted((out / "npy").glob("*.npy"))[0]).dtype == np.float16
    assert len((out / "feats.scp").read_text().splitlines()) == 8
    assert extract_features(tr, out, cfg, progress=False)["status"] == "reused"
    # interrupted: stamp gone, some utterances missing -> only those are extracted
    (out / ".done").unlink()
    for f in sorted((out / "npy").glob("*.npy"))[:3]:
        f.unlink()
    again = extract_features(tr, out, cfg, progress=False)
    assert again["status"] == "resumed" and again["extracted_now"] == 3
    # another checkpoint (same config, other weights): stale, rebuilt from scratch
    other = save_hf_hubert(tmp_path / "other_hubert", seed=1)
    rebuilt = extract_features(tr, out, cfg, [f"path_or_name={other}"], progress=False)
    assert rebuilt["status"] == "rebuilt" and rebuilt["extracted_now"] == 8
    # a cache keyed on the layers too
    assert extract_features(tr, out, cfg, [f"path_or_name={other}", "multilayer_feature=false"], progress=False)["num_layers"] == 1


def test_table2_shared_utterances_are_formatted_and_extracted_once(tmp_path, capsys):
    """Issue 29: Table 2's eight rows each have a dev dir holding MSP-Podcast's dev set (and share test
    sets); every distinct audio file is read at format and run through the frontend once, and the other
    dirs' caches hard-link those features."""
    import json as _json
    import os

    from espnet_ser.bin import extract_feats, recipe
    from espnet_ser.bin.prepare_data import main as prepare
    from espnet_ser.labels import read_table
    from espnet_ser.recipe.plan import data_dirs, read_splits

    prepare(["mini", str(tmp_path / "c")])
    prepare(["iemocap", str(tmp_path / "c/IEMOCAP"), str(tmp_path / "d/iemocap")])
    prepare(["msp_podcast", str(tmp_path / "c/MSP-Podcast"), str(tmp_path / "d/msp_podcast")])
    assert recipe.main(["splits", "--recipe", "iemocap_msp", "--data", str(tmp_path / "d"), "--folds", "5"]) == 0
    assert recipe.main(["format", "--src", str(tmp_path / "d"), "--dst", str(tmp_path / "dump")]) == 0
    dirs = data_dirs(read_splits(tmp_path / "dump" / "splits.tsv"))
    audio = {}  # every data dir's utterances by audio file
    for rel in dirs:
        for u, p in read_table(tmp_path / "dump" / rel / "wav.scp").items():
            audio.setdefault(os.path.realpath(p), []).append((rel, u))
    listed = sum(len(v) for v in audio.values())
    assert listed > 2 * len(audio)  # the rows really share utterances
    fmt = [_json.loads((tmp_path / "dump" / rel / "format_report.json").read_text()) for rel in dirs]
    assert sum(r["utterances"] - r["shared"] for r in fmt) == len(audio)  # each file's header read once
    capsys.readouterr()

    assert extract_feats.main(["--config", str(ROOT / "conf/tuning/train_ser_tiny_fbank.yaml"), "--src", str(tmp_path / "dump"),
                               "--dst", str(tmp_path / "feats"), "--no_progress", "--store_dtype", "float32"]) == 0
    reports = [_json.loads(line.split(": ", 1)[1]) for line in capsys.readouterr().out.splitlines() if " -> " in line]
    assert len(reports) == len(dirs)
    assert sum(r["extracted_now"] for r in reports) == len(audio)           # one frontend run per audio file
    assert sum(r["linked_now"] for r in reports) == listed - len(audio)
    for path, where in audio.items():
        inodes = {os.stat(tmp_path / "feats" / rel / "npy" / f"{u}.npy").st_ino for rel, u in where}
        assert len(inodes) == 1, (path, where)                              # the same stored features
    # MSP-Podcast's dev set is in the dev dir of each of the six rows that train on MSP-Podcast labels
    assert max(len(where) for where in audio.values()) == 6
    # a feature cache of one dir alone gives the same features as the shared one
    rel, u = next(w for w in audio.values() if len(w) > 1)[-1]
    alone = extract_features(tmp_path / "dump" / rel, tmp_path / "alone", ROOT / "conf/tuning/train_ser_tiny_fbank.yaml",
                             dtype="float32", progress=False)
    assert alone["extracted_now"] == alone["utterances"]
    assert np.allclose(np.load(tmp_path / "alone" / "npy" / f"{u}.npy"), np.load(tmp_path / "feats" / rel / "npy" / f"{u}.npy"), atol=1e-5)
