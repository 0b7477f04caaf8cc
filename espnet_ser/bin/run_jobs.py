"""Run a share of a stage's job file in this process (the worker behind ``$cmd JOB=1:N``).

    python -m espnet_ser.bin.run_jobs exp/jobs/train.jobs --part 2 --nparts 4
    python -m espnet_ser.bin.run_jobs exp/jobs/stats.jobs exp/jobs/train.jobs --part 2 --nparts 4 --sync DIR

Line i (0-based) belongs to part ``i % nparts + 1``. With several job files (consecutive stages, all
parts on one machine) the worker runs its share of each in turn and, before the next file, waits at a
barrier until every part has finished the file (``--sync DIR``: each part writes ``<file>.<part>``
there with its pid at the start and its outcome at the end); a failed job in any part, or a part whose
process ended without an outcome, stops every part there, as a failed stage stops ser.sh. ESPnet is then
imported once per worker for all the stages. Each job is ``python -m <module> <args>`` run
in-process (ESPnet is imported once per worker, not once per job), with its output in the job's log;
a job with a ``launcher`` (a multi-node training job: ``srun ...``) runs as that command's child instead.
A job whose stamp holds the hash of the same command is skipped (the stage is idempotent); a job that
succeeds writes the stamp. A failed job does not stop the others; the worker then exits 1 naming
every failed job's log. Training jobs (``on_change: error``) refuse to touch an exp dir that was
started with another command, and record ``meta.json`` and ``provenance.json`` there first.
"""

import argparse
import contextlib
import hashlib
import importlib
import json
import logging
import os
import subprocess
import sys
import time
import traceback
from espnet_ser.errors import run_cli
from espnet_ser.locks import hold
from pathlib import Path
from typing import Dict, List

LOG_FORMAT = "%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s"


def command_key(job: Dict) -> str:
    return hashlib.sha256(json.dumps([job["module"], job["args"]]).encode()).hexdigest()[:16]


def _read(p: Path) -> str:
    return p.read_text().strip() if p.exists() else ""


def run_job(job: Dict) -> str:
    """Run one job: returns ``done`` or ``skipped``; raises on failure (the log has the traceback).

    The job's output dir (the stamp's folder) is held for the job (``espnet_ser.locks.hold``): a second
    run reaching the same experiment is refused instead of writing into it.
    """
    key = command_key(job)
    stamp = Path(job["stamp"])
    if _read(stamp) == key:
        return "skipped"
    stamp.parent.mkdir(parents=True, exist_ok=True)
    with hold(stamp.parent):
        return _run_held(job, key)


def _run_held(job: Dict, key: str) -> str:
    stamp, log = Path(job["stamp"]), Path(job["log"])
    if _read(stamp) == key:
        return "skipped"
    started = stamp.with_name(stamp.name + ".cmd")
    previous = _read(stamp) or _read(started)
    if previous and previous != key and job.get("on_change") == "error":
        raise RuntimeError(
            f"{stamp.parent} was started with another command (stamp {previous}, now {key}); "
            f"remove {stamp.parent} or choose another --expdir to train with the new settings")
    stamp.parent.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    started.write_text(key + "\n")
    if "meta" in job:
        from espnet_ser.recipe.plan import provenance

        (stamp.parent / "meta.json").write_text(json.dumps(job["meta"], indent=1) + "\n")
        (stamp.parent / "provenance.json").write_text(json.dumps(provenance(job["args"]), indent=1) + "\n")
    with open(log, "a") as f, contextlib.redirect_stdout(f), contextlib.redirect_stderr(f):
        handler = logging.StreamHandler(f)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        print(f"# python -m {job['module']} " + " ".join(job["args"]), flush=True)
        print(f"# started {time.strftime('%Y-%m-%d %H:%M:%S')}", flush=True)
        try:
            if job.get("launcher"):  # e.g. srun over several nodes: a process per node, output to this log
                Path(job["dist_init_file"]).unlink(missing_ok=True)  # a stale rendezvous file would pair old ranks
                cmd = [*job["launcher"], sys.executable, "-m", job["module"], *job["args"]]
                print("# launched: " + " ".join(cmd), flush=True)
                rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT).returncode
            else:
                module = importlib.import_module(job["module"])
                try:
                    rc = module.main(job["args"])
                except SystemExit as e:
                    rc = e.code
            if rc not in (None, 0):
                raise RuntimeError(f"{job['module']} exited with status {rc}")
        except BaseException:
            traceback.print_exc(file=f)
            print(f"# failed {time.strftime('%Y-%m-%d %H:%M:%S')}", flush=True)
            raise
        finally:
            root.removeHandler(handler)
        print(f"# finished {time.strftime('%Y-%m-%d %H:%M:%S')}", flush=True)
    stamp.write_text(key + "\n")
    return "done"


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="run_jobs", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("jobs", type=Path, nargs="+", help="job files (one JSON object per line), written by espnet_ser.bin.recipe "
                   "jobs; several: consecutive stages, run in turn with a barrier between them (--sync)")
    p.add_argument("--part", type=int, default=1, help="which share to run, 1..nparts (the JOB of $cmd JOB=1:N)")
    p.add_argument("--nparts", type=int, default=1, help="number of shares")
    p.add_argument("--sync", type=Path, help="barrier dir of the parts (needed with several job files)")
    return p


def run_share(jobs: Path, part: int, nparts: int) -> List[str]:
    """Run this part's share of one job file; returns the logs of the jobs that failed."""
    lines = [line for line in jobs.read_text().splitlines() if line.strip()]
    mine = [json.loads(line) for i, line in enumerate(lines) if i % nparts == part - 1]
    failed: List[str] = []
    for job in mine:
        t0 = time.time()
        try:
            status = run_job(job)
        except KeyboardInterrupt:
            raise
        except BaseException as e:  # noqa: BLE001 - every failure is reported with its log
            failed.append(job["log"])
            print(f"[run_jobs] FAILED {job['module']} ({type(e).__name__}: {e}); log: {job['log']}", file=sys.stderr, flush=True)
            continue
        print(f"[run_jobs] {status} in {time.time() - t0:.1f}s: {job['log']}", flush=True)
    if failed:
        print(f"[run_jobs] {len(failed)} of {len(mine)} jobs of {jobs} failed; see " + " ".join(failed), file=sys.stderr)
    return failed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _state(mark: Path) -> str:
    """A part's state from its barrier mark: ``ok``/``failed`` (its outcome), ``running`` (its pid, alive),
    ``died`` (its pid, gone without an outcome) or ``waiting`` (no mark yet)."""
    words = _read(mark).split()
    if not words:
        return "waiting"
    if len(words) > 1:
        return words[1]
    return "running" if _alive(int(words[0])) else "died"


def barrier(sync: Path, jobs: Path, nparts: int, poll: float = 0.2) -> List[str]:
    """Wait until every part has finished ``jobs``; returns the parts that failed or died (empty: all ok)."""
    while True:
        states = {k: _state(sync / f"{jobs.name}.{k}") for k in range(1, nparts + 1)}
        bad = [f"part {k} {s}" for k, s in states.items() if s in ("failed", "died")]
        if bad or all(s == "ok" for s in states.values()):
            return bad
        time.sleep(poll)


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    if not 1 <= args.part <= args.nparts:
        get_parser().error(f"--part must be within 1..{args.nparts}")
    if len(args.jobs) > 1 and args.sync is None:
        get_parser().error("several job files need --sync DIR (the barrier between them)")
    for i, jobs in enumerate(args.jobs):
        mark = args.sync / f"{jobs.name}.{args.part}" if args.sync else None
        if mark:
            mark.parent.mkdir(parents=True, exist_ok=True)
            mark.write_text(f"{os.getpid()}\n")
        failed = ["(interrupted)"]
        try:
            failed = run_share(jobs, args.part, args.nparts)
        finally:
            if mark:
                mark.write_text(f"{os.getpid()} {'failed' if failed else 'ok'}\n")
        if failed:
            return 1
        if mark and i + 1 < len(args.jobs):
            bad = barrier(args.sync, jobs, args.nparts)
            if bad:
                print(f"[run_jobs] {jobs.name}: {', '.join(bad)}; the next stages are not run", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="run_jobs"))
