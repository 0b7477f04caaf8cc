"""The recipes outside the paper on fixtures in their corpora's formats: an acted corpus (speaker folds) and a user's manifest."""

import json
import subprocess

import yaml

from helpers import ROOT, markdown_tables
from recipes import TINY, env_with, py as _py
from espnet_ser.corpora.mini import make_mini


# ---------------------------------------------------------------- reliability: inference, concurrency, faults


def test_acted_corpus_recipe_runs_speaker_independent_folds(tmp_path):
    """egs2/emodb: EmoDB-named files -> one fold per speaker (test speaker never in train or dev) ->
    training (global MVN: each fold's own statistics), scoring and a results table of its own (no paper
    columns); the untrained V/A/D head of a joint variant writes nothing."""
    from corpus_fixtures import write_acted

    write_acted(tmp_path / "corpus", "emodb", ["03", "08", "10"])
    cmd = ["./run.sh", "--datadir", tmp_path / "data", "--dumpdir", tmp_path / "dump", "--expdir", tmp_path / "exp",
           "--results_dir", tmp_path, "--ser_config", TINY, "--ser_args", "--max_epoch 1 --normalize global_mvn",
           "--feats_type", "raw", "--folds", "1 2 3", "--variants", "baseline_d hierarchical_cd", "--stop_stage", "9", "--nj", "2", "--inference_nj", "2"]
    p = subprocess.run([str(c) for c in cmd], cwd=ROOT / "egs2" / "emodb" / "ser1", env=env_with(EMODB=tmp_path / "corpus"),
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    # stages 5-7 ran in one worker per part (2 parts each): ESPnet imported once per worker
    assert "stages stats, train, inference: 2 worker(s)" in p.stdout
    for k in (1, 2, 3):
        spk = {part: {line.split()[1] for line in (tmp_path / f"data/emodb/fold{k}/{part}/utt2spk").read_text().splitlines()}
               for part in ("train", "dev", "test")}
        assert len(spk["test"]) == 1 and not spk["test"] & (spk["train"] | spk["dev"]) and not spk["train"] & spk["dev"]
        conf = yaml.safe_load((tmp_path / f"exp/ser_baseline_d_fold{k}/config.yaml").read_text())
        assert conf["normalize"] == "global_mvn"
        assert conf["normalize_conf"]["stats_file"] == str(tmp_path / f"exp/stats/fold{k}/train/feats_stats.npz")
        meta = json.loads((tmp_path / f"exp/ser_baseline_d_fold{k}/meta.json").read_text())
        assert meta["tests"]["emodb"].endswith(f"emodb/fold{k}/test")
        hyp = tmp_path / f"exp/ser_hierarchical_cd_fold{k}/inference/emodb"
        assert (hyp / "probs").exists() and not (hyp / "vad").exists()  # no V/A/D label reached that head
    table = next(t for t in markdown_tables((tmp_path / "RESULTS.md").read_text()) if t[0][0] == "Model")
    assert table[0] == ["Model", "n (folds/utts)", "Acc (UA)", "F1 (macro)", "WA"]
    assert [r[0] for r in table[2:]] == ["Baseline D", "Hierarchical C-D"] and all(r[1] == "3/30" for r in table[2:])


def test_manifest_recipe_runs_a_users_corpus_from_one_csv(tmp_path):
    """egs2/manifest: the mini corpus written as a user's manifest CSV (classes and V/A/D on 1-5) -> one
    command -> leave-one-speaker-out folds (asserted disjoint) -> training, scoring, RESULTS.md. With the
    small-corpus CPU config: speaker statistics written in the stats stage and computed at inference."""
    import csv

    import soundfile as sf
    from scipy.signal import resample_poly

    from espnet_ser.labels import read_data_dir

    make_mini(tmp_path / "corpus")
    assert _py("espnet_ser.bin.prepare_data", "iemocap", tmp_path / "corpus" / "IEMOCAP", tmp_path / "iem").returncode == 0
    utts = read_data_dir(tmp_path / "iem" / "all")
    (tmp_path / "audio24k").mkdir()
    with open(tmp_path / "my.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["utt_id", "path", "speaker", "emotion", "valence", "arousal", "dominance"])
        for u in utts:  # the data dir's 0-1 V/A/D back on the manifest's 1-5 scale; the audio at 24 kHz
            wav, fs = sf.read(u.path, dtype="float32")
            path = tmp_path / "audio24k" / f"{u.utt_id}.wav"
            sf.write(path, resample_poly(wav, 3, 2).astype("float32"), 24000)
            w.writerow([u.utt_id, path, u.speaker, u.emotion or ""] + ["" if v != v else f"{1 + 4 * v:.4f}" for v in u.vad])
    cmd = ["./run.sh", "--datadir", tmp_path / "data", "--dumpdir", tmp_path / "dump", "--expdir", tmp_path / "exp",
           "--results_dir", tmp_path, "--ser_config", ROOT / "conf/tuning/train_ser_cpu_small.yaml",
           "--ser_args", "--max_epoch 2", "--feats_type", "raw", "--folds", "1 2", "--stop_stage", "9", "--nj", "2",
           "--inference_nj", "2"]
    p = subprocess.run([str(c) for c in cmd], cwd=ROOT / "egs2" / "manifest" / "ser1", env=env_with(MANIFEST=tmp_path / "my.csv"),
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    # any-rate audio over several folds: converted once, a later fold's dirs point at those conversions
    reports = {d.parent.name + "/" + d.name: json.loads((d / "format_report.json").read_text())
               for d in (tmp_path / "dump" / "raw" / "manifest").glob("fold[12]/*")}
    assert reports["fold2/test"]["converted"] == reports["fold2/test"]["shared"] == reports["fold2/test"]["utterances"] > 0
    speakers = sorted({u.speaker for u in utts})
    folds = sorted((tmp_path / "data" / "manifest").glob("fold*"))
    assert len(folds) == len(speakers) == 10  # one fold per speaker
    for k, fold in enumerate(sorted(folds, key=lambda d: int(d.name[4:])), 1):
        spk = {part: {line.split()[1] for line in (fold / part / "utt2spk").read_text().splitlines()} for part in ("train", "dev", "test")}
        assert spk["test"] == {speakers[k - 1]} and not spk["test"] & (spk["train"] | spk["dev"]) and not spk["train"] & spk["dev"]
    assert sorted(d.name for d in (tmp_path / "exp").glob("ser_*")) == ["ser_baseline_d_fold1", "ser_baseline_d_fold2"]
    for k in (1, 2):  # normalize: speaker_mvn: every training and dev utterance has its speaker's statistics
        for phase, part in (("train", "train"), ("valid", "dev")):
            stats = (tmp_path / f"exp/stats/fold{k}/speaker/{phase}/speaker_mvn").read_text().splitlines()
            assert len(stats) == len((folds[0].parent / f"fold{k}" / part / "utt2spk").read_text().splitlines())
        log = (tmp_path / f"exp/ser_baseline_d_fold{k}/inference/manifest/inference.log").read_text()
        assert "speaker statistics of 1 speaker(s)" in log
    table = next(t for t in markdown_tables((tmp_path / "RESULTS.md").read_text()) if t[0][0] == "Model")
    assert table[0][1] == "n (folds/utts)" and table[2][0] == "Baseline D" and table[2][1].startswith("2/")


