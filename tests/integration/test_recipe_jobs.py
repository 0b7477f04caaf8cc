"""The stage engine's options and job backends: --help, db.sh, the local runner, Slurm (a faked sbatch), job stamps, locks of concurrent runs, the best-model criterion."""

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from espnet_ser.bin import run_jobs
from helpers import ROOT
from recipes import RECIPE, TINY, UTILS, env_with, py as _py, ser, tree as _tree, wait_for_lock as _wait_for_lock
from espnet_ser.corpora.mini import make_mini
from recipes import FAKE_SBATCH  # noqa: F401  (fixtures and helpers shared with another layer)


def test_help_lists_every_option():
    ser_sh = (ROOT / "egs2/TEMPLATE/ser1/ser.sh").read_text()
    options = re.findall(r"^([a-z_]+)=", ser_sh.split("help_message=")[0], flags=re.M)
    assert len(options) >= 20
    for cmd in (["./ser.sh", "--help"], ["./run.sh", "--help"]):
        for d in ("iemocap", "msp_podcast", "iemocap_msp"):
            out = subprocess.run(cmd, cwd=ROOT / "egs2" / d / "ser1", capture_output=True, text=True, env=env_with())
            assert out.returncode == 0, out.stderr
            missing = [o for o in options if f"--{o}" not in out.stdout]
            assert not missing, (cmd, d, missing)
    root_sh = (ROOT / "run.sh").read_text()
    out = subprocess.run(["./run.sh", "--help"], cwd=ROOT, capture_output=True, text=True, env=env_with()).stdout
    for o in re.findall(r"^([a-z_0-9]+)=", root_sh.split("help_message=")[0], flags=re.M):
        assert f"--{o}" in out, o


def test_bad_corpus_path_fails_at_once_naming_db_sh(tmp_path):
    p = ser(tmp_path, env=env_with(IEMOCAP="/no/such/IEMOCAP"), check=False)
    # at once: before any stage wrote anything (no data, dump or exp dir)
    assert p.returncode != 0 and not any((tmp_path / d).exists() for d in ("data", "dump", "exp"))
    assert "IEMOCAP=/no/such/IEMOCAP in db.sh does not exist" in p.stderr
    p = ser(tmp_path, env=env_with(IEMOCAP=""), check=False)
    assert p.returncode != 0 and "IEMOCAP is not set: edit db.sh" in p.stderr
    assert not (tmp_path / "exp").exists()


def test_unknown_option_is_an_error():
    p = subprocess.run(["./ser.sh", "--recipe", "iemocap", "--nj_typo", "3"], cwd=RECIPE, capture_output=True, text=True, env=env_with())
    assert p.returncode == 2 and "unknown option --nj_typo" in p.stderr


def test_local_runner_parallel_logs_and_failures(tmp_path):
    marker = tmp_path / "m"
    p = subprocess.run([UTILS / "run_local.sh", "--max_jobs_run", "2", "JOB=1:4", tmp_path / "log" / "x.JOB.log",
                        "bash", "-c", f"echo job JOB; touch {marker}.JOB; [ JOB -ne 3 ]"], capture_output=True, text=True)
    assert p.returncode == 1 and "1 of 4 jobs failed" in p.stderr and "x.3.log" in p.stderr
    for j in range(1, 5):
        assert f"job {j}" in (tmp_path / "log" / f"x.{j}.log").read_text() and Path(f"{marker}.{j}").exists()
    ok = subprocess.run([UTILS / "run_local.sh", "JOB=1:2", tmp_path / "ok.JOB.log", "true"])
    assert ok.returncode == 0


def test_slurm_backend_with_fake_sbatch(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sbatch").write_text(FAKE_SBATCH)
    (bin_dir / "sbatch").chmod(0o755)
    record = tmp_path / "record"
    conf = tmp_path / "slurm.conf"
    conf.write_text("partition=gpuq\ncpus_per_task=4\nmem=32G\n")
    env = env_with(SBATCH_RECORD=record)
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    p = subprocess.run([UTILS / "slurm.sh", "--config", conf, "--gpu", "2", "JOB=1:3", tmp_path / "logs" / "train.JOB.log",
                        "bash", "-c", "echo running JOB; [ JOB -ne 2 ]"], capture_output=True, text=True, env=env)
    calls = record.read_text().splitlines()
    assert len(calls) == 3
    for j in range(1, 4):
        call = next(c for c in calls if f"--output={tmp_path}/logs/train.{j}.log" in c)
        assert "--gres=gpu:2" in call and "--partition=gpuq" in call and "--mem=32G" in call and "--wait" in call
        assert f"running {j}" in (tmp_path / "logs" / f"train.{j}.log").read_text()
    assert p.returncode == 1 and "train.2.log" in p.stderr


def test_run_jobs_stamps_and_failures(tmp_path):
    good = {"module": "espnet_ser.bin.prepare_data", "args": ["mini", str(tmp_path / "c")], "log": str(tmp_path / "a.log"),
            "stamp": str(tmp_path / "a.done"), "on_change": "rerun"}
    bad = {"module": "espnet_ser.bin.ser_score", "args": ["--ref", "/nope", "--hyp", "/nope", "--out", str(tmp_path)],
           "log": str(tmp_path / "b.log"), "stamp": str(tmp_path / "b.done"), "on_change": "rerun"}
    jobs = tmp_path / "j.jobs"
    jobs.write_text(json.dumps(bad) + "\n" + json.dumps(good) + "\n")
    assert run_jobs.main([str(jobs)]) == 1                                    # one failure, the other job still ran
    assert (tmp_path / "a.done").exists() and not (tmp_path / "b.done").exists()
    assert "Traceback" in (tmp_path / "b.log").read_text()
    assert run_jobs.run_job(good) == "skipped"
    changed = dict(good, args=["mini", str(tmp_path / "c"), "--seed", "1"], on_change="error")
    with pytest.raises(RuntimeError, match="started with another command"):
        run_jobs.run_job(changed)


def test_best_model_criterion_follows_the_table_metric_and_the_rows_labels(tmp_path):
    from espnet_ser.recipe.plan import Split, plan_stage

    for d in ("tr", "dv"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "wav.scp").write_text("u a.wav\n")

    def crit(recipe, variant, row=None):
        split = Split("s", 5, row, "tr", "dv", {"iemocap": "te"})
        args = plan_stage("train", recipe, [split], tmp_path, tmp_path / "exp", [variant], TINY)[0]["args"]
        return args[args.index("--best_model_criterion") + 1]

    assert crit("iemocap", "baseline_c") == "valid,epoch_ccc_mean,max"
    assert crit("iemocap", "baseline_d") == "valid,epoch_ua,max"
    assert crit("iemocap", "hierarchical_cd") == "valid,epoch_ua_ccc,max"
    assert crit("msp_podcast", "baseline_d") == "valid,epoch_f1_macro,max"       # Table 3 reports F1
    assert crit("msp_podcast", "multitask") == "valid,epoch_f1_ccc,max"
    # Table 2: only the label types a row trains on count (row 1: MSP-Podcast continuous labels alone)
    assert crit("iemocap_msp", "hierarchical_dc", 1) == "valid,epoch_ccc_mean,max"
    assert crit("iemocap_msp", "hierarchical_dc", 3) == "valid,epoch_ua,max"
    assert crit("iemocap_msp", "hierarchical_dc", 7) == "valid,epoch_ua_ccc,max"


# ---------------------------------------------------------------- reliability: inference, concurrency, faults


def test_two_preps_into_one_dir_one_refuses_and_a_killed_one_blocks_nothing(tmp_path):
    make_mini(tmp_path / "c", utts_per_dialog=20)
    corpus = tmp_path / "c" / "IEMOCAP"
    solo = _py("espnet_ser.bin.prepare_data", "iemocap", corpus, tmp_path / "solo")
    assert solo.returncode == 0
    out = tmp_path / "d"
    cmd = [sys.executable, "-m", "espnet_ser.bin.prepare_data", "iemocap", str(corpus), str(out)]
    first = subprocess.Popen(cmd, env=env_with(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_lock(tmp_path / ".d.lock", first.pid)
    first.send_signal(signal.SIGSTOP)  # keep the first run in the middle of its work, lock held
    second = _py("espnet_ser.bin.prepare_data", "iemocap", corpus, out)
    first.send_signal(signal.SIGCONT)
    assert second.returncode == 2 and "is in use by another run" in second.stderr and f"pid {first.pid}" in second.stderr
    assert first.wait() == 0
    assert _tree(out) == _tree(tmp_path / "solo")
    # kill a run while it holds the lock: the next run is not blocked and gives the solo result
    third = subprocess.Popen(cmd, env=env_with(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_lock(tmp_path / ".d.lock", third.pid)
    third.send_signal(signal.SIGKILL)
    third.wait()
    again = _py("espnet_ser.bin.prepare_data", "iemocap", corpus, out)
    assert again.returncode == 0, again.stderr
    assert _tree(out) == _tree(tmp_path / "solo")


def test_two_recipe_runs_into_one_dir_one_refuses(tmp_path):
    make_mini(tmp_path / "corpus")
    first = ser(tmp_path, "--stop_stage", "5", "--folds", "1", "--feats_type", "raw", background=True,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    who = tmp_path / ".exp.runlock.who"
    deadline = time.time() + 60
    while time.time() < deadline and not who.exists():
        time.sleep(0.02)
    second = ser(tmp_path, "--stop_stage", "5", "--folds", "1", "--feats_type", "raw", check=False)
    assert second.returncode != 0 and "is in use by another run" in second.stderr
    assert who.read_text().split()[1] in second.stderr  # the holder's pid is named
    out, err = first.communicate()
    assert first.returncode == 0, err[-2000:]


