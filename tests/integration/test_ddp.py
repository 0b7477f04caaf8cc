"""Distributed training on CPU: two processes of ``ser_train`` under torchrun with the ``gloo`` backend.

What a cluster user relies on (issue 29): the set-level dev scores that choose the best epoch are
those of the whole dev set (every rank's outputs gathered), the model on disk is the one chosen from
them, and a killed distributed run resumes where it stopped.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import audmetric
import numpy as np
import pytest
import soundfile as sf
import torch
from espnet2.train.distributed_utils import free_port
from sklearn.metrics import balanced_accuracy_score

from espnet_ser.inference.speech2emotion import Speech2Emotion
from espnet_ser.labels import read_labels, read_table
from espnet_ser.recipe.train_args import collect_stats, train_args
from helpers import make_data_dir

from helpers import ROOT
CONF = ROOT / "conf/tuning/train_ser_tiny_fbank.yaml"


def _torchrun(args, log: Path, **popen):
    """``ser_train`` in 2 CPU processes (torchrun sets RANK/WORLD_SIZE; ESPnet's own options pick gloo)."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(free_port()), "-m", "espnet_ser.bin.ser_train", *map(str, args),
           "--ngpu", "0", "--dist_backend", "gloo", "--multiprocessing_distributed", "false"]
    env = dict(os.environ, PYTHONPATH=f"{ROOT}:{os.environ.get('PYTHONPATH', '')}", OMP_NUM_THREADS="1")
    return subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT, env=env, cwd=ROOT, **popen)


def _kill_tree(pid: int) -> None:
    """SIGKILL a process and all its descendants at once, as a node failure would (torchrun starts its
    workers in sessions of their own: killing the launcher's group alone would leave them running)."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop())
        todo.extend(children.get(tree[-1], []))
    for q in tree:
        try:
            os.kill(q, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    tr = make_data_dir(root / "train", n=20, seed=0, partial=True, prefix="tr")   # some items lack a label type
    dv = make_data_dir(root / "valid", n=10, seed=1, prefix="dv")
    return root, tr, dv, collect_stats(CONF, tr, dv, root / "stats")


def _args(data, exp, epochs):
    _, tr, dv, stats = data
    # dev batches of 2: one utterance per rank, so no padding; the per-utterance reference below is exact
    return train_args(CONF, tr, dv, stats, exp, ["--max_epoch", str(epochs), "--batch_size", "8", "--valid_batch_size", "2",
                                                 "--best_model_criterion", "valid,epoch_ua,max", "--keep_nbest_models", str(epochs)])


def test_two_cpu_processes_gather_the_whole_dev_set_and_keep_rank0s_choice(data, tmp_path):
    root, _, dv, _ = data
    exp = tmp_path / "exp"
    p = _torchrun(_args(data, exp, 3), tmp_path / "train.log")
    assert p.wait(timeout=300) == 0, (tmp_path / "train.log").read_text()[-3000:]
    log = (tmp_path / "train.log").read_text()
    assert "[vm:0/2]" in log or re.search(r":0/2\]", log), "not a 2-process run"
    ckpt = torch.load(exp / "checkpoint.pth", map_location="cpu", weights_only=False)
    stats = ckpt["reporter"]["stats"]
    assert ckpt["reporter"]["epoch"] == 3

    # the reference: each epoch's saved model, one process, every dev utterance, independent scorers
    refs = read_labels(dv)
    wavs = read_table(dv / "wav.scp")
    ua, ccc = {}, {}
    for e in (1, 2, 3):
        s2e = Speech2Emotion(exp / "config.yaml", exp / f"{e}epoch.pth")
        outs = [s2e(sf.read(wavs[u], dtype="float32")[0], fs=16000) for u in refs.ids]
        pred_cls = [o["emotion"] for o in outs]
        pred_vad = np.array([[o["vad"][k] for k in ("valence", "arousal", "dominance")] for o in outs])
        ref_vad = np.array(refs.vad, dtype=float)
        ua[e] = balanced_accuracy_score(refs.emotion, pred_cls)
        ccc[e] = np.mean([audmetric.concordance_cc(ref_vad[:, d], pred_vad[:, d]) for d in range(3)])
        valid = stats[e]["valid"]
        assert valid["epoch_ua"] == pytest.approx(ua[e], abs=1e-9), e
        assert valid["epoch_ccc_mean"] == pytest.approx(ccc[e], abs=1e-4), e

    # rank 0's choice: the best-model file is the epoch with the highest gathered UA, and only one copy
    # of each file exists (no rank wrote its own)
    best = max(ua.values())
    chosen = torch.load(exp / "valid.epoch_ua.best.pth", map_location="cpu", weights_only=True)
    matches = [e for e in ua if ua[e] == best and all(
        torch.equal(v, w) for v, w in zip(chosen.values(), torch.load(exp / f"{e}epoch.pth", map_location="cpu", weights_only=True).values()))]
    assert matches, (ua, "valid.epoch_ua.best.pth is none of the best epochs")
    final = torch.load(exp / "3epoch.pth", map_location="cpu", weights_only=True)
    assert all(torch.equal(v, ckpt["model"][k]) for k, v in final.items())
    assert sorted(f.name for f in exp.glob("*epoch.pth")) == ["1epoch.pth", "2epoch.pth", "3epoch.pth"]


def test_a_killed_distributed_run_resumes(data, tmp_path):
    exp = tmp_path / "exp"
    epochs = 12
    args = _args(data, exp, epochs)
    first = tmp_path / "first.log"
    p = _torchrun(args, first)
    deadline = time.time() + 240
    while time.time() < deadline and p.poll() is None:
        if f"3/{epochs}epoch started" in first.read_text():  # epoch 2's checkpoint is on disk
            break
        time.sleep(0.1)
    else:
        _kill_tree(p.pid)
        raise AssertionError("the distributed run did not reach epoch 3 in time:\n" + first.read_text()[-2000:])
    _kill_tree(p.pid)
    p.wait()
    time.sleep(0.5)
    killed = torch.load(exp / "checkpoint.pth", map_location="cpu", weights_only=False)["reporter"]["epoch"]
    assert 2 <= killed < epochs
    second = tmp_path / "second.log"
    q = _torchrun(args, second)
    assert q.wait(timeout=300) == 0, second.read_text()[-3000:]
    text = second.read_text()
    started = [int(e) for e in re.findall(rf"(\d+)/{epochs}epoch started", text)]
    assert started == list(range(killed + 1, epochs + 1)), (started, killed, text[-3000:])   # no epoch done twice
    ckpt = torch.load(exp / "checkpoint.pth", map_location="cpu", weights_only=False)
    assert ckpt["reporter"]["epoch"] == epochs and set(range(1, epochs + 1)) <= set(ckpt["reporter"]["stats"])
