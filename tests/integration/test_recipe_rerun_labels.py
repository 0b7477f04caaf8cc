"""A label corrected in the corpus reaches the dump when stages 1-3 are run again."""

import os
import subprocess
import sys
from pathlib import Path


from espnet_ser.labels import read_table

from helpers import ROOT
from manifest_fixtures import manifest_csv  # noqa: F401  (fixtures and helpers shared with another layer)


# ================================================================ 4. stage outputs follow their inputs
def test_corrected_label_reaches_the_dump_after_rerunning_stages_1_to_3(tmp_path):
    rows = [[f"u{i}", f"a/{i % 4}.wav", f"s{i % 3}", ["happy", "sad", "angry"][i % 3]] for i in range(9)]
    m = manifest_csv(tmp_path / "in", rows, header=("utt_id", "path", "speaker", "emotion"))
    env = {**os.environ, "MANIFEST": str(m), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "PYTHONPATH": f"{ROOT}:{os.environ.get('PYTHONPATH', '')}"}
    cmd = ["./run.sh", "--datadir", tmp_path / "data", "--dumpdir", tmp_path / "dump", "--expdir", tmp_path / "exp",
           "--stop_stage", "3", "--feats_type", "raw", "--min_dur", "0.1"]

    def stages_1_to_3():
        p = subprocess.run([str(c) for c in cmd], cwd=ROOT / "egs2/manifest/ser1", env=env, capture_output=True, text=True)
        assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
        return {f: read_table(f)["u4"] for f in (tmp_path / "dump/raw/manifest").rglob("emotion")
                if "u4" in read_table(f)}

    first = stages_1_to_3()
    assert first and set(first.values()) == {"sad"}
    rows[4][3] = "angry"  # the user corrects one label in the corpus
    manifest_csv(tmp_path / "in", rows, header=("utt_id", "path", "speaker", "emotion"))
    second = stages_1_to_3()
    assert set(second) == set(first) and set(second.values()) == {"angry"}


