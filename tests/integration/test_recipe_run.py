"""One run of the IEMOCAP recipe (stages 1-10, mini corpus) and what is done with it: outputs, reruns, a killed training, packing, conformal sets, model cards, RESULTS.md, crafted checkpoints, Slurm and several nodes, and ser_inference as a user runs it (any-rate stereo and long files in bounded memory, bad inputs listed, a killed run resumed)."""

import json
from unittest import mock
import os
import re
import signal
import subprocess
import sys
import time
import zipfile

import espnet
import numpy as np
import pytest
import yaml

from helpers import markdown_tables
from recipes import TINY, env_with, py as _py, ser
from espnet_ser.corpora.mini import make_mini
from espnet_ser.testing.synthetic_audio import write_tone
from recipes import FAKE_SBATCH  # noqa: F401  (fixtures and helpers shared with another layer)


@pytest.fixture(scope="module")
def recipe_run(tmp_path_factory):
    """Stages 1-10 of the IEMOCAP recipe on the mini corpus: fold 1, two variants, 1 epoch."""
    work = tmp_path_factory.mktemp("recipe")
    make_mini(work / "corpus")
    p = ser(work, "--folds", "1", "--variants", "baseline_c hierarchical_dc", "--ser_args", "--max_epoch 1", "--nj", "2")
    return work, p


def test_recipe_end_to_end(recipe_run):
    work, p = recipe_run
    exp = work / "exp"
    for tag in ("ser_baseline_c_fold1", "ser_hierarchical_dc_fold1"):
        e = exp / tag
        assert (e / "config.yaml").exists() and (e / "1epoch.pth").exists()
        meta = json.loads((e / "meta.json").read_text())
        prov = json.loads((e / "provenance.json").read_text())
        assert meta["fold"] == 1 and meta["tests"]["iemocap"].endswith("iemocap/fold1/test")
        assert prov["seed"] == 0 and prov["versions"]["espnet"] == espnet.__version__ and prov["command"][:3] == ["python", "-m", "espnet_ser.bin.ser_train"]
        assert len(prov["git_commit"]) in (0, 40)
        scores = json.loads((e / "inference" / "iemocap" / "score" / "scores.json").read_text())
        n_test = len((work / "dump" / "raw" / "iemocap" / "fold1" / "test" / "wav.scp").read_text().splitlines())
        assert scores["metrics"]["n"] == n_test and np.isfinite(scores["metrics"]["ccc_mean"])
        assert zipfile.is_zipfile(e / "packed" / "model.zip")
        assert "frontend: cached" in (e / "config.yaml").read_text()          # the default path: a feature cache
        # the best model is chosen by the table's metric on the whole dev set
        stat = {"ser_baseline_c_fold1": "epoch_ccc_mean", "ser_hierarchical_dc_fold1": "epoch_ua_ccc"}[tag]
        assert yaml.safe_load((e / "config.yaml").read_text())["best_model_criterion"] == [["valid", stat, "max"]]
        assert (e / f"valid.{stat}.best.pth").exists()
        assert re.search(rf"\[valid\].* {stat}=\d", (e / "train.log").read_text())
    assert (work / "dump" / "feats" / "iemocap" / "fold1" / "train" / "feats.scp").exists()
    assert "ua" not in json.loads((exp / "ser_baseline_c_fold1/inference/iemocap/score/scores.json").read_text())["metrics"]
    results = (work / "RESULTS.md").read_text()
    # the table shows our score (one fold: the fold's own), then the paper's 0.667
    row = next(line for line in results.splitlines() if line.startswith("| Hierarchical D-C | 1/"))
    ours, paper = row.split("|")[3], row.split("|")[4]
    dc = json.loads((exp / "ser_hierarchical_dc_fold1/inference/iemocap/score/scores.json").read_text())["metrics"]
    assert float(ours.split("±")[0]) == pytest.approx(dc["ccc_mean"], abs=5e-4) and paper.strip() == "0.667"
    for png in re.findall(r"\]\((figures/[^)]+\.png)\)", results):
        assert (work / png).stat().st_size > 1000


def test_rerun_is_a_no_op(recipe_run):
    work, _ = recipe_run
    before = {f: f.stat().st_mtime for f in (work / "exp").rglob("*.pth")}
    ser(work, "--folds", "1", "--variants", "baseline_c hierarchical_dc", "--ser_args", "--max_epoch 1", "--nj", "2",
            "--stage", "2", "--stop_stage", "8")
    assert {f: f.stat().st_mtime for f in (work / "exp").rglob("*.pth")} == before
    logs = "".join(f.read_text() for f in (work / "exp" / "logs").glob("train.*.log"))
    assert "skipped" in logs and "done in" not in logs.split("skipped")[-1]
    # other settings for a finished exp dir: refused, naming the exp dir and the log
    bad = ser(work, "--folds", "1", "--variants", "baseline_c", "--ser_args", "--max_epoch 2", "--stage", "6", "--stop_stage", "6", check=False)
    assert bad.returncode != 0 and "stage train failed" in bad.stderr
    worker_log = (work / "exp" / "logs" / "train.1.log").read_text()
    assert "started with another command" in worker_log and "ser_baseline_c_fold1" in worker_log


def test_killed_training_resumes(recipe_run):
    work, _ = recipe_run
    args = ["--folds", "1", "--variants", "multitask", "--ser_args", "--max_epoch 6", "--stage", "6", "--stop_stage", "6"]
    log = work / "exp" / "ser_multitask_fold1" / "train.log"
    p = ser(work, *args, background=True, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline:
        # ESPnet logs an epoch's results before it writes checkpoint.pth; the next epoch's start comes after
        if log.exists() and "3/6epoch started" in log.read_text():
            break
        time.sleep(0.2)
    else:
        p.kill()
        raise AssertionError("training did not reach epoch 2 in time")
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    import torch

    # the last epoch whose checkpoint landed (written atomically: never a torn file). ESPnet logs an
    # epoch's results just before it saves, so a kill in between leaves one logged epoch to redo.
    saved = torch.load(log.parent / "checkpoint.pth", map_location="cpu", weights_only=False)["reporter"]["epoch"]
    first = [int(e) for e in re.findall(r"(\d+)epoch results", log.read_text())]
    assert 2 <= saved < 6 and first[:saved] == list(range(1, saved + 1)) and len(first) - saved in (0, 1), (saved, first)
    assert not (log.parent / ".done.train").exists()
    ser(work, *args)
    text = log.read_text()
    second = text.split("# started")[-1]
    # the resumed run starts after the saved epoch and repeats none of the saved ones
    assert [int(e) for e in re.findall(r"(\d+)epoch results", second)] == list(range(saved + 1, 7)), second[-2000:]
    assert re.findall(r"(\d+)/6epoch started", second)[0] == str(saved + 1)
    ckpt = torch.load(log.parent / "checkpoint.pth", map_location="cpu", weights_only=False)
    assert ckpt["reporter"]["epoch"] == 6


def test_packed_model_same_predictions_in_fresh_process(recipe_run, tmp_path):
    work, _ = recipe_run
    e = work / "exp" / "ser_hierarchical_dc_fold1"
    out = tmp_path / "pred"
    subprocess.run([sys.executable, "-m", "espnet_ser.bin.ser_inference", "--model", e / "packed" / "model.zip",
                    "--wav_scp", work / "dump/raw/iemocap/fold1/test/wav.scp", "--out", out, "--no_progress"],
                   check=True, env=env_with(), capture_output=True)
    for f in ("probs", "vad", "emotion"):
        assert (out / f).read_text() == (e / "inference" / "iemocap" / f).read_text()


def test_conformal_sets_calibrated_on_dev_reach_results_the_packed_model_and_inference(recipe_run, tmp_path):
    """Stage 7 predicts each exp's dev set, stage 8 calibrates conformal sets on it (the exp's own
    calibration, and each test set's coverage per speaker), RESULTS.md shows the coverage, stage 10
    packs the calibration, and inference with the packed model writes the same sets."""
    work, _ = recipe_run
    e = work / "exp" / "ser_hierarchical_dc_fold1"
    dev = work / "dump" / "raw" / "iemocap" / "fold1" / "dev"
    labelled = [line.split()[0] for line in (dev / "emotion").read_text().splitlines() if line.split()[1:]]
    cal = json.loads((e / "conformal" / "conformal.json").read_text())
    assert cal["coverage"] == 0.9 and len(cal["class_scores"]) == len(labelled) > 0 and set(cal["vad_errors"]) == {"valence", "arousal", "dominance"}
    test = work / "dump" / "raw" / "iemocap" / "fold1" / "test"
    cov = json.loads((e / "inference" / "iemocap" / "conformal" / "coverage.json").read_text())
    n_test = len((test / "wav.scp").read_text().splitlines())
    speakers = set((test / "utt2spk").read_text().split()[1::2])
    assert cov["groups"]["all"]["n"] == n_test and {f"speaker={s}" for s in speakers} <= set(cov["groups"])
    assert 0 <= cov["groups"]["all"]["class_coverage"] <= 1 and 1 <= cov["groups"]["all"]["mean_set_size"] <= 5
    results = (work / "RESULTS.md").read_text()
    table = next(t for t in markdown_tables(results) if t[0][2:4] == ["class coverage", "mean set size"])
    rows = {r[0]: r for r in table[2:]}
    assert set(rows) == {"Baseline C", "Hierarchical D-C"} and rows["Baseline C"][2] == "–"  # no class head
    with zipfile.ZipFile(e / "packed" / "model.zip") as z:
        assert json.loads(z.read("conformal.json")) == cal
    out = tmp_path / "pred"
    subprocess.run([sys.executable, "-m", "espnet_ser.bin.ser_inference", "--model", e / "packed" / "model.zip",
                    "--wav_scp", test / "wav.scp", "--out", out, "--no_progress"], check=True, env=env_with(), capture_output=True)
    for f in ("pred_set", "vad_interval"):
        assert (out / "conformal" / f).read_text() == (e / "inference" / "iemocap" / "conformal" / f).read_text()


def test_model_card_of_a_demo_model_quick(recipe_run):
    """Stage 10 with --model_card quick: a card beside the packed model (and in it) with every section,
    every degradation, both backends' compute, and Hugging Face front matter the hub's library reads."""
    from huggingface_hub import ModelCard

    from espnet_ser.evaluation.model_card import CONDITIONS, SECTIONS

    work, _ = recipe_run
    ser(work, "--folds", "1", "--variants", "hierarchical_dc", "--stage", "10", "--stop_stage", "10", "--model_card", "quick")
    packed = work / "exp" / "ser_hierarchical_dc_fold1" / "packed"
    text = (packed / "MODEL_CARD.md").read_text()
    for section in SECTIONS:
        assert f"\n## {section}\n" in text, section
    card = json.loads((packed / "model_card.json").read_text())
    assert card["test"]["utterances"] == 12 and card["test"]["quick"] and card["training"]["recipe"] == "iemocap"
    assert set(card["robustness"]) == set(CONDITIONS)
    for cond, m in card["robustness"].items():
        assert 0 <= m["ua"] <= 1 and -1 <= m["ccc_mean"] <= 1, cond
        assert f"| {cond} |" in text
    lo, hi = card["test"]["intervals_95"]["ua"]
    assert lo <= card["test"]["metrics"]["ua"] <= hi
    assert card["calibration"]["ece"] is not None and card["calibration"]["conformal"]["n"] == 12
    for backend in ("torch", "onnx"):
        b = card["compute"]["backends"][backend]
        assert b["rtf"] > 0 and b["peak_rss_mb"] > 0, backend
    hub = ModelCard.load(packed / "MODEL_CARD.md")
    assert hub.data.library_name == "espnet" and {r.metric_type for r in hub.data.eval_results} >= {"ua", "ccc_mean"}
    with zipfile.ZipFile(packed / "model.zip") as z:
        assert {"MODEL_CARD.md", "model_card.json", "experiment.json", "provenance.json"} <= set(z.namelist())


def test_ser_sh_stage_through_slurm(recipe_run, tmp_path):
    work, _ = recipe_run
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sbatch").write_text(FAKE_SBATCH)
    (bin_dir / "sbatch").chmod(0o755)
    record = tmp_path / "record"
    env = env_with(IEMOCAP=work / "corpus" / "IEMOCAP", SER_BACKEND="slurm", SBATCH_RECORD=record)
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    ser(work, "--folds", "1", "--variants", "baseline_c hierarchical_dc", "--stage", "8", "--stop_stage", "8", env=env)
    calls = record.read_text().splitlines()
    # one sbatch job per job of the stage: per variant, ser_score and the test set's conformal coverage, and
    # the model's own conformal calibration
    n = len((work / "exp" / "jobs" / "score.jobs").read_text().splitlines())
    assert n == 2 * 3 and len(calls) == n and all("--partition=gpu" in c for c in calls)  # the repository's conf/slurm.conf
    assert {re.search(r"--output=(\S+)", c).group(1) for c in calls} == {f"{work}/exp/logs/score.{j}.log" for j in range(1, n + 1)}


FAKE_SRUN = """#!/usr/bin/env bash
# fake srun: record the step's arguments (no GPUs here: the step itself is not run)
echo "$@" >> "$SRUN_RECORD"
"""


def test_multi_gpu_multi_node_training_reaches_espnets_launcher_through_slurm(recipe_run, tmp_path):
    from espnet2.train.distributed_utils import get_node_rank, get_num_nodes, resolve_distributed_mode

    from espnet_ser.model.task import SERTask

    work, _ = recipe_run
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("sbatch", FAKE_SBATCH), ("srun", FAKE_SRUN)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    env = env_with(IEMOCAP=work / "corpus" / "IEMOCAP", SER_BACKEND="slurm", SBATCH_RECORD=tmp_path / "sbatch", SRUN_RECORD=tmp_path / "srun")
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    exp = tmp_path / "exp"
    ser(work, "--folds", "1", "--variants", "baseline_c", "--ngpu", "2", "--num_nodes", "2", "--stage", "5", "--stop_stage", "6",
        "--expdir", exp, env=env)
    calls = {re.search(r"--output=\S+/logs/(\w+)\.\d+\.log", c).group(1): c for c in (tmp_path / "sbatch").read_text().splitlines()}
    assert "--nodes" not in calls["stats"]                          # only training asks for several nodes
    assert all(o in calls["train"].split() for o in ("--nodes=2", "--ntasks-per-node=1", "--gres=gpu:2")), calls["train"]
    steps = (tmp_path / "srun").read_text().splitlines()
    assert len(steps) == 1
    words = steps[0].split()
    assert words[:3] == ["--nodes=2", "--ntasks-per-node=1", "--kill-on-bad-exit=1"] and words[4:6] == ["-m", "espnet_ser.bin.ser_train"]
    # what ESPnet makes of that command on node 2 of the step: 2 nodes x 2 GPUs, ranks 2 and 3 spawned here
    args = SERTask.get_parser().parse_args(words[6:])
    assert (args.ngpu, args.multiprocessing_distributed, args.dist_launcher) == (2, True, "slurm")
    assert args.dist_init_method == f"file://{(exp / 'ser_baseline_c_fold1').resolve()}/.dist_init"
    slurm = {"SLURM_PROCID": "1", "SLURM_NODEID": "1", "SLURM_NTASKS": "2", "SLURM_STEP_NUM_NODES": "2",
             "SLURM_STEP_NODELIST": "gpu[1-2]"}
    with mock.patch.dict(os.environ, slurm):
        resolve_distributed_mode(args)
        assert args.distributed and args.multiprocessing_distributed
        assert get_num_nodes(args.dist_world_size, args.dist_launcher) == 2 and get_node_rank(args.dist_rank, args.dist_launcher) == 1
    # one node, several GPUs (either backend): ESPnet spawns a process per GPU itself; no srun step
    one = subprocess.run([sys.executable, "-m", "espnet_ser.bin.recipe", "jobs", "--stage", "train", "--recipe", "iemocap",
                          "--root", work / "dump" / "feats", "--expdir", tmp_path / "exp3", "--variants", "baseline_c", "--folds", "1",
                          "--ser_config", TINY, "--ngpu", "2", "--eval_root", work / "dump" / "raw", "--out", tmp_path / "one.jobs"],
                         capture_output=True, text=True, env=env_with(), check=True)
    job = json.loads((tmp_path / "one.jobs").read_text().splitlines()[0])
    assert one.stdout.strip() == "1" and "launcher" not in job
    local = SERTask.get_parser().parse_args(job["args"])
    assert (local.ngpu, local.multiprocessing_distributed, local.dist_launcher) == (2, True, None)
    # several nodes without a cluster backend: refused before anything runs
    bad = ser(work, "--folds", "1", "--variants", "baseline_c", "--num_nodes", "2", "--stage", "6", "--stop_stage", "6",
              "--expdir", tmp_path / "exp2", check=False)
    assert bad.returncode != 0 and "need SER_BACKEND=slurm" in bad.stderr and not (tmp_path / "exp2" / "jobs").exists()


def test_results_tables_parse_and_hold_numbers(recipe_run):
    work, _ = recipe_run
    tables = markdown_tables((work / "RESULTS.md").read_text())
    main = tables[0]
    assert main[0][:3] == ["Model", "n (folds/utts)", "CCC"]
    rows = {r[0]: r for r in main[2:]}
    assert set(rows) == {"Baseline C", "Hierarchical D-C"}
    assert re.fullmatch(r"-?\d\.\d{3} ± \d\.\d{3}[*†]*", rows["Hierarchical D-C"][2])
    assert rows["Baseline C"][main[0].index("Acc (UA)")] == "–"      # Baseline C has no class output


MEMORY_SCRIPT = """
import json, resource, sys
from espnet_ser.inference.speech2emotion import Speech2Emotion
s2e = Speech2Emotion.from_pretrained(sys.argv[1])
short = s2e.predict_file(sys.argv[2])
rss_short = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
long = s2e.predict_file(sys.argv[3])
rss_long = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"short": short, "long": long, "rss_short_kb": rss_short, "rss_long_kb": rss_long}))
"""


def test_inference_stereo_44k_and_long_file_bounded_memory(recipe_run, tmp_path):
    """A 10-minute 44.1 kHz stereo file (212 MB as float32 if read whole) adds < 100 MB to the peak RSS."""
    work, _ = recipe_run
    model = work / "exp" / "ser_hierarchical_dc_fold1" / "packed" / "model.zip"
    write_tone(tmp_path / "short.wav", 10, 44100, 2)
    write_tone(tmp_path / "long.wav", 600, 44100, 2)
    p = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, model, tmp_path / "short.wav", tmp_path / "long.wav"],
                       capture_output=True, text=True, env=env_with(), check=True)
    r = json.loads(p.stdout.strip().splitlines()[-1])
    assert r["short"]["windows"] == 1 and r["long"]["windows"] == 30
    for k in ("short", "long"):
        assert abs(sum(r[k]["probs"].values()) - 1) < 1e-5 and min(r[k]["vad"].values()) >= 0
    grew_mb = (r["rss_long_kb"] - r["rss_short_kb"]) / 1024
    assert grew_mb < 100, f"peak memory grew by {grew_mb:.0f} MB on the long file"
    # the CLI on audio files: 44.1 kHz stereo in, every output file written, V/A/D on a 1-7 scale
    out = tmp_path / "cli"
    subprocess.run([sys.executable, "-m", "espnet_ser.bin.ser_inference", "--model", model, "--out", out, "--vad_scale", "1-7",
                    tmp_path / "short.wav"], check=True, env=env_with(), capture_output=True)
    assert (out / "emotion").read_text().split()[0] == "short"
    rows = json.loads((out / "results.json").read_text())
    assert 1 <= rows[0]["valence_1-7"] <= 7 and rows[0]["valence_1-7"] == pytest.approx(1 + 6 * rows[0]["valence"], abs=1e-5)
    assert (out / "results.csv").read_text().startswith("utt_id,emotion,p_neutral")


# ---------------------------------------------------------------- reliability: inference, concurrency, faults


def test_inference_unique_ids_bad_inputs_listed_good_ones_scored(recipe_run, tmp_path):
    import soundfile as sf

    work, _ = recipe_run
    model = work / "exp" / "ser_hierarchical_dc_fold1" / "packed" / "model.zip"
    tone = (0.3 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000)).astype(np.float32)
    for ext in ("wav", "flac", "ogg"):
        sf.write(tmp_path / f"a.{ext}", tone, 16000)  # each format's default encoding
    sf.write(tmp_path / "empty.wav", np.zeros(0, np.float32), 16000)
    sf.write(tmp_path / "short.wav", np.zeros(16, np.float32), 16000)
    (tmp_path / "folder.wav").mkdir()
    (tmp_path / "garbage.wav").write_bytes(b"not audio at all")
    files = [tmp_path / f for f in ("a.wav", "a.flac", "a.ogg", "empty.wav", "short.wav", "folder.wav", "garbage.wav", "gone.wav")]
    p = _py("espnet_ser.bin.ser_inference", "--model", model, "--out", tmp_path / "out", "--no_progress", *files)
    assert p.returncode == 1, p.stderr[-2000:]
    assert "5 of 8 input(s) cannot be scored" in p.stderr and "Traceback" not in p.stderr
    emo = (tmp_path / "out" / "emotion").read_text().splitlines()
    ids = [line.split()[0] for line in emo]
    assert len(ids) == 3 == len(set(ids)) and all(i.endswith(("a.wav", "a.flac", "a.ogg")) for i in ids)
    errors = dict(line.split(" ", 1) for line in (tmp_path / "out" / "errors").read_text().splitlines())
    assert set(errors) == {"empty", "short", "folder", "garbage", "gone"}
    for uid, why in (("empty", "empty audio"), ("short", "too short"), ("folder", "a directory"),
                     ("garbage", "unreadable audio"), ("gone", "missing")):
        assert why in errors[uid], errors[uid]
    fast = _py("espnet_ser.bin.ser_inference", "--model", model, "--out", tmp_path / "o2", "--fail_fast", *files)
    assert fast.returncode == 2 and "empty audio" in fast.stderr and "Traceback" not in fast.stderr
    assert len(fast.stderr.strip().splitlines()) == 1
    twice = _py("espnet_ser.bin.ser_inference", "--model", model, "--out", tmp_path / "o3", files[0], files[0])
    assert twice.returncode == 2 and "given more than once" in twice.stderr


def test_crafted_checkpoint_in_an_exp_dir_runs_nothing(recipe_run, tmp_path):
    import shutil

    work, _ = recipe_run
    exp = tmp_path / "exp"
    shutil.copytree(work / "exp" / "ser_baseline_c_fold1", exp, symlinks=False)
    marker = tmp_path / "PWNED"
    (tmp_path / "evil.py").write_text(
        "import os, torch\n"
        "class Evil:\n"
        f"    def __reduce__(self):\n        return (os.system, ('touch {marker}',))\n"
        f"torch.save({{'x': Evil()}}, '{exp / 'evil.pth'}')\n")
    subprocess.run([sys.executable, str(tmp_path / "evil.py")], check=True)
    for name in [p.name for p in exp.glob("*.best.pth")]:
        (exp / name).unlink()
        shutil.copy(exp / "evil.pth", exp / name)
    write_tone(tmp_path / "x.wav", 1.0, 16000, 1)
    p = _py("espnet_ser.bin.ser_inference", "--model", exp, "--out", tmp_path / "o", tmp_path / "x.wav")
    assert p.returncode == 2 and "refused to load" in p.stderr and "posix.system" in p.stderr, p.stderr[-2000:]
    assert not marker.exists()
    # resuming training reads checkpoint.pth weights-only as well
    shutil.copy(exp / "evil.pth", exp / "checkpoint.pth")
    from espnet_ser import safe_load

    with safe_load.safe_torch_load():
        import torch

        with pytest.raises(Exception, match="refused to load"):
            torch.load(exp / "checkpoint.pth", weights_only=False)  # what ESPnet's resume asks for
    assert not marker.exists()


def test_inference_killed_then_rerun_equals_an_uninterrupted_run(recipe_run, tmp_path):
    work, _ = recipe_run
    model = work / "exp" / "ser_hierarchical_dc_fold1" / "packed" / "model.zip"
    files = [write_tone(tmp_path / f"f{i:02d}.wav", 3.0, 16000, 1) for i in range(30)]
    clean = _py("espnet_ser.bin.ser_inference", "--model", model, "--out", tmp_path / "clean", "--no_progress", *files)
    assert clean.returncode == 0, clean.stderr[-2000:]
    out = tmp_path / "out"
    write_tone(tmp_path / "old.wav", 1.0, 16000, 1)  # an earlier run's output in the same dir
    assert _py("espnet_ser.bin.ser_inference", "--model", model, "--out", out, tmp_path / "old.wav").returncode == 0
    cmd = [sys.executable, "-m", "espnet_ser.bin.ser_inference", "--model", str(model), "--out", str(out), *map(str, files)]
    p = subprocess.Popen(cmd, env=env_with(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    seen = ""
    while time.time() < deadline and "ser_inference:" not in seen:  # tqdm's bar: inference has started
        seen += p.stderr.read(1) or ""
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert (out / "emotion").read_text().split()[0] == "old"   # the killed run left the old output whole
    again = _py("espnet_ser.bin.ser_inference", "--model", model, "--out", out, "--no_progress", *files)
    assert again.returncode == 0
    for name in ("emotion", "probs", "vad", "class_list", "results.csv"):
        assert (out / name).read_text() == (tmp_path / "clean" / name).read_text(), name


