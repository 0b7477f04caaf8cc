"""run_jobs over several job files (consecutive stages in one worker per part): each part runs its share of
a file, and no part starts the next file before every part has finished this one; a failed job or a dead
part stops them all before the next file."""

import json
import subprocess
import sys
from pathlib import Path

from recipes import env_with

#: a job module: ``main([name, out_dir, delay, needs])`` sleeps ``delay``, checks that every file named in
#: ``needs`` (comma-separated) exists (else exits 3), then writes ``out_dir/name``; ``name`` "die" ends
#: the process without a word, "fail" raises
JOB = """
import os, sys, time
from pathlib import Path
def main(argv):
    name, out, delay, needs = argv
    time.sleep(float(delay))
    missing = [n for n in needs.split(",") if n and not (Path(out) / n).exists()]
    if missing:
        return 3
    if name == "die":
        os._exit(9)
    if name == "fail":
        raise RuntimeError("this job fails")
    (Path(out) / name).write_text("done")
"""


def job_file(path: Path, tmp: Path, jobs) -> Path:
    out = tmp / "out"
    out.mkdir(exist_ok=True)
    lines = [json.dumps({"module": "barrier_job", "args": [name, str(out), str(delay), ",".join(needs)],
                         "stamp": str(tmp / "stamps" / path.stem / name / ".done"), "log": str(tmp / "logs" / f"{name}.log")})
             for name, delay, needs in jobs]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_parts(tmp: Path, files, nparts=2):
    (tmp / "barrier_job.py").write_text(JOB)
    env = env_with(PYTHONPATH=f"{tmp}:{env_with()['PYTHONPATH']}")
    procs = [subprocess.Popen([sys.executable, "-m", "espnet_ser.bin.run_jobs", *map(str, files), "--part", str(k),
                               "--nparts", str(nparts), "--sync", str(tmp / "sync")], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for k in range(1, nparts + 1)]
    return [(p.wait(timeout=120), p.stderr.read()) for p in procs]


def test_no_part_starts_the_next_stage_before_every_part_finished_this_one(tmp_path):
    # part 1 (lines 0, 2) is slow in the first file; part 2's job of the second file needs part 1's output
    a = job_file(tmp_path / "a.jobs", tmp_path, [("a1", 1.0, []), ("a2", 0, []), ("a3", 1.0, [])])
    b = job_file(tmp_path / "b.jobs", tmp_path, [("b1", 0, ["a1", "a2", "a3"]), ("b2", 0, ["a1", "a2", "a3"])])
    results = run_parts(tmp_path, [a, b])
    assert [rc for rc, _ in results] == [0, 0], results
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a1", "a2", "a3", "b1", "b2"]


def test_a_failed_job_in_one_part_stops_every_part_before_the_next_stage(tmp_path):
    a = job_file(tmp_path / "a.jobs", tmp_path, [("fail", 0.5, []), ("a2", 0, [])])
    b = job_file(tmp_path / "b.jobs", tmp_path, [("b1", 0, []), ("b2", 0, [])])
    (rc1, err1), (rc2, err2) = run_parts(tmp_path, [a, b])
    assert rc1 == 1 and "FAILED barrier_job" in err1
    assert rc2 == 1 and "a.jobs: part 1 failed; the next stages are not run" in err2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a2"]


def test_a_part_whose_process_died_stops_the_others(tmp_path):
    a = job_file(tmp_path / "a.jobs", tmp_path, [("die", 0.5, []), ("a2", 0, [])])
    b = job_file(tmp_path / "b.jobs", tmp_path, [("b1", 0, []), ("b2", 0, [])])
    (rc1, _), (rc2, err2) = run_parts(tmp_path, [a, b])
    assert rc1 == 9 and rc2 == 1 and "part 1 died" in err2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a2"]


def test_several_job_files_need_a_barrier_dir(tmp_path):
    p = subprocess.run([sys.executable, "-m", "espnet_ser.bin.run_jobs", "a.jobs", "b.jobs"], capture_output=True,
                       text=True, env=env_with(), cwd=tmp_path)
    assert p.returncode == 2 and "several job files need --sync DIR" in p.stderr
