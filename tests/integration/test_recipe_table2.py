"""The paper's Table 2 recipe (egs2/iemocap_msp) on the mini corpus: eight rows, '-' where the paper has it."""

import json
import subprocess


from helpers import ROOT, markdown_tables, paper_table
from recipes import TINY, env_with
from espnet_ser.corpora.mini import make_mini


def test_table2_recipe_trains_the_papers_eight_rows(tmp_path):
    """egs2/iemocap_msp: stages 1-9 on the mini corpus (1 epoch): eight rows, '-' exactly where the paper has it."""
    make_mini(tmp_path / "corpus")
    env = env_with(IEMOCAP=tmp_path / "corpus" / "IEMOCAP", MSP_PODCAST=tmp_path / "corpus" / "MSP-Podcast")
    cmd = ["./run.sh", "--datadir", tmp_path / "data", "--dumpdir", tmp_path / "dump", "--expdir", tmp_path / "exp",
           "--results_dir", tmp_path, "--ser_config", TINY, "--ser_args", "--max_epoch 1", "--feats_type", "raw",
           "--stop_stage", "9", "--nj", "2", "--inference_nj", "2"]
    p = subprocess.run([str(c) for c in cmd], cwd=ROOT / "egs2" / "iemocap_msp" / "ser1", env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    metas = [json.loads(m.read_text()) for m in (tmp_path / "exp").glob("*/meta.json")]
    assert sorted(m["row"] for m in metas) == list(range(1, 9)) and {m["variant"] for m in metas} == {"hierarchical_dc"}
    assert all(m["fold"] == 5 and m["tests"]["iemocap"].endswith("iemocap/fold5/test") for m in metas)
    t2 = next(t for t in markdown_tables((tmp_path / "RESULTS.md").read_text()) if t[0][1] == "ID")
    ours = [i for i, h in enumerate(t2[0]) if h in ("IEMOCAP CCC", "IEMOCAP Acc", "MSP-Podcast CCC", "MSP-Podcast F1")]
    paper = paper_table("table2")
    assert [r[1] for r in t2[2:]] == [str(i) for i in range(1, 9)]
    for r in t2[2:]:
        assert [r[i] == "-" for i in ours] == [v == "-" for v in paper[r[1]][2:]], r
    # a head that no training label reached writes nothing (row 1: MSP-Podcast V/A/D only; row 3: classes only)
    for row, absent, present in ((1, "probs", "vad"), (3, "vad", "probs")):
        hyp = tmp_path / "exp" / f"ser_hierarchical_dc_row{row}_fold5" / "inference" / "iemocap"
        assert not (hyp / absent).exists() and (hyp / present).exists(), row


# ---------------------------------------------------------------- reliability: inference, concurrency, faults


