"""The CPU recipe's systems through ser.sh on a corpus with four of the five classes: the classical system, a network
on the same openSMILE cache and their fusion train, predict and report only the classes the corpus has."""

import csv
import json
import subprocess

import numpy as np
import soundfile as sf
import yaml
from helpers import ROOT, markdown_tables
from recipes import env_with

FOUR = ["neutral", "angry", "happy", "sad"]
SETS = ["GeMAPSv01b", "eGeMAPSv02"]  # small sets: the shipped configs' model on 62 + 88 functionals
FRONTEND = {"feature_set": SETS, "feature_level": "functionals", "window": [0, 1.0], "window_shift": [None, 0.5], "fs": 16000}


def four_class_manifest(root):
    """4 speakers x 4 classes x 3 utterances (1.0-1.4 s tones whose pitch and loudness follow the class)."""
    rng = np.random.default_rng(0)
    (root / "audio").mkdir(parents=True)
    rows = []
    for s in range(4):
        for k, c in enumerate(FOUR):
            for i in range(3):
                t = np.arange(int(16000 * rng.uniform(1.0, 1.4))) / 16000
                wav = (0.1 + 0.1 * k) * np.sin(2 * np.pi * (110 + 10 * s + 50 * k) * t) + 0.01 * rng.normal(size=t.size)
                path = root / "audio" / f"s{s}_{c}_{i}.wav"
                sf.write(path, wav.astype(np.float32), 16000)
                rows.append([f"s{s}_{c}_{i}", path, f"spk{s}", c])
    with open(root / "m.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["utt_id", "path", "speaker", "emotion"])
        w.writerows(rows)
    return root / "m.csv"


def configs(root):
    """The shipped cpu_opensmile configs on the small sets (2 epochs for the network, three members)."""
    conf = root / "conf"
    conf.mkdir()
    net = yaml.safe_load((ROOT / "conf/tuning/cpu_opensmile_baseline_d.yaml").read_text())
    net.update(frontend_conf=FRONTEND, max_epoch=2, keep_nbest_models=1)
    (conf / "cpu_baseline_d.yaml").write_text(yaml.safe_dump(net))
    cls = yaml.safe_load((ROOT / "conf/tuning/cpu_opensmile_classical.yaml").read_text())
    cls.update(frontend_conf=FRONTEND, members=[
        {"name": "egemaps_lr", "features": "eGeMAPSv02", "view": 0, "estimator": "logistic_regression", "params": {"C": [0.1, 1.0]}},
        {"name": "gemaps_ridge_1s", "features": "GeMAPSv01b", "view": 1.0, "estimator": "kernel_ridge"},
        {"name": "egemaps_lda_1s", "features": "eGeMAPSv02", "view": 1.0, "estimator": "lda"}])
    (conf / "cpu_classical.yaml").write_text(yaml.safe_dump(cls))
    (conf / "cpu_fusion.yaml").write_text((ROOT / "conf/tuning/cpu_opensmile_fusion.yaml").read_text())
    return conf / "cpu_{variant}.yaml"


def test_a_four_class_corpus_trains_predicts_and_reports_only_its_classes(tmp_path):
    """Every system (the classical one, its members, Baseline D on the same cache, the fusion) gives ``disgust``,
    which no training utterance has, probability 0 in every fold, so it is never predicted; each model says which
    classes it can predict (classical.json, fusion.json, the network's config.yaml) and RESULTS.md lists the
    classical members, the network and the fusion side by side, each tested against the fusion, and names the
    class none of them can predict."""
    manifest = four_class_manifest(tmp_path / "corpus")
    cmd = ["./run.sh", "--datadir", tmp_path / "data", "--dumpdir", tmp_path / "dump", "--expdir", tmp_path / "exp",
           "--results_dir", tmp_path / "res", "--ser_config", configs(tmp_path), "--variants", "classical baseline_d fusion",
           "--folds", "1 2", "--stop_stage", "10", "--nj", "2", "--inference_nj", "2"]
    p = subprocess.run([str(c) for c in cmd], cwd=ROOT / "egs2" / "manifest" / "ser1", env=env_with(MANIFEST=manifest),
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    exp = tmp_path / "exp"
    for k in (1, 2):
        hyps = {v: exp / f"ser_{v}_fold{k}/inference/manifest" for v in ("classical", "baseline_d", "fusion")}
        hyps.update({f"classical/{m}": hyps["classical"] / "members" / m
                     for m in ("egemaps_lr", "gemaps_ridge_1s", "egemaps_lda_1s")})
        for name, d in hyps.items():
            classes = (d / "class_list").read_text().split()
            assert classes == FOUR + ["disgust"], name
            probs = np.array([line.split()[1:] for line in (d / "probs").read_text().splitlines()], dtype=float)
            assert len(probs) == 12 and (probs[:, 4] == 0).all() and np.allclose(probs.sum(1), 1, atol=1e-4), name
            assert "disgust" not in {line.split()[1] for line in (d / "emotion").read_text().splitlines()}, name
        info = json.loads((exp / f"ser_classical_fold{k}/classical.json").read_text())
        assert info["predictable_classes"] == FOUR and info["class_counts"]["disgust"] == 0
        assert info["chosen_params"]["egemaps_lr"]["C"] in (0.1, 1.0)  # the grid, searched over the training speakers
        assert json.loads((exp / f"ser_fusion_fold{k}/fusion.json").read_text())["predictable_classes"] == FOUR
        net = yaml.safe_load((exp / f"ser_baseline_d_fold{k}/config.yaml").read_text())
        assert net["model_conf"]["trained_classes"] == FOUR
    text = (tmp_path / "res" / "RESULTS.md").read_text()
    table = next(t for t in markdown_tables(text) if t[0][0] == "Model")
    classical = "Classical (scikit-learn)"
    assert [r[0] for r in table[2:]] == ["Baseline D", classical, f"egemaps_lr (member of {classical})",
                                         f"gemaps_ridge_1s (member of {classical})", f"egemaps_lda_1s (member of {classical})",
                                         "Fusion"]
    assert all(r[1] == "2/24" for r in table[2:])
    assert "every row against Fusion" in text
    line = next(x for x in text.splitlines() if x.startswith("Classes a model cannot predict"))
    for name in ("Baseline D: disgust", f"{classical}: disgust", "Fusion: disgust"):
        assert name in line, line
    # stage 10 packs the classical system (a fusion has no model of its own); its card says what it carries
    import zipfile

    from espnet_ser.bin import pack_model

    packed = exp / "ser_classical_fold1/packed/model.zip"
    assert {"model.skops", "config.yaml", "classical.json", "experiment.json", "meta.json"} <= set(zipfile.ZipFile(packed).namelist())
    assert not (exp / "ser_fusion_fold1/packed").exists()
    assert pack_model.main(["--exp", str(exp / "ser_classical_fold1"), "--out", str(tmp_path / "card/model.zip"), "--card", "quick"]) == 0
    card = json.loads((tmp_path / "card/model_card.json").read_text())
    info = json.loads((exp / "ser_classical_fold1/classical.json").read_text())
    vectors = info["carried_vectors"]
    # a kernel ridge member keeps every row it was fitted on (a window member a row per window), LDA and
    # logistic regression none
    assert vectors == {"egemaps_lr": 0, "gemaps_ridge_1s": info["training_vectors"]["gemaps_ridge_1s"], "egemaps_lda_1s": 0}
    assert card["model"]["carried_vectors"] == sum(vectors.values()) > 24
    assert card["model"]["predictable_classes"] == FOUR
    scores = json.loads((exp / "ser_classical_fold1/inference/manifest/score/scores.json").read_text())["metrics"]
    assert card["test"]["metrics"]["ua"] == scores["ua"]
    md = (tmp_path / "card/MODEL_CARD.md").read_text()
    assert f"carries {sum(vectors.values()):,} training vectors" in md and "MODEL_CARD.md" in zipfile.ZipFile(tmp_path / "card/model.zip").namelist()
