"""Running the recipes in tests: the IEMOCAP recipe's environment and command, CLI subprocesses, file trees."""

import os
import subprocess
import sys
import time
from pathlib import Path

from helpers import ROOT

RECIPE = ROOT / "egs2" / "iemocap" / "ser1"
UTILS = ROOT / "egs2" / "TEMPLATE" / "ser1" / "utils"
TINY = "conf/tuning/train_ser_tiny_fbank.yaml"


def env_with(**extra):
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    env["PYTHONPATH"] = f"{ROOT}:{env.get('PYTHONPATH', '')}"
    env.update({k: str(v) for k, v in extra.items()})
    return env


def ser(work: Path, *args, env=None, check=True, **popen):
    cmd = ["./run.sh", "--datadir", work / "data", "--dumpdir", work / "dump", "--expdir", work / "exp",
           "--results_dir", work, "--ser_config", TINY, *args]
    run = subprocess.Popen if popen.pop("background", False) else subprocess.run
    kw = dict(cwd=RECIPE, env=env or env_with(IEMOCAP=work / "corpus" / "IEMOCAP"), **popen)
    if run is subprocess.run:
        kw.update(capture_output=True, text=True)
    p = run([str(c) for c in cmd], **kw)
    if check and run is subprocess.run and p.returncode != 0:
        raise AssertionError(f"ser.sh failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p


def py(*args, **kw):
    return subprocess.run([sys.executable, "-m", *map(str, args)], capture_output=True, text=True, env=env_with(), **kw)


def tree(d: Path):
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def wait_for_lock(lock: Path, pid: int, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if lock.exists() and f"pid {pid} " in lock.read_text():
            return
        time.sleep(0.02)
    raise AssertionError(f"{lock} never named pid {pid}")


FAKE_SBATCH = """#!/usr/bin/env bash
# fake sbatch: record the arguments, run the batch script locally with its --output
echo "$@" >> "$SBATCH_RECORD"
out=/dev/null
for a in "$@"; do case $a in --output=*) out=${a#--output=} ;; esac; done
script=${@: -1}
bash "$script" > "$out" 2>&1
"""
