"""The annotator study (run_annotators.sh) end to end on the mini corpus."""

import json
import subprocess

import yaml

from helpers import ROOT
from recipes import env_with


# ---------------------------------------------------------------- reliability: inference, concurrency, faults


def test_annotator_study_runs_end_to_end_on_the_mini_corpus(tmp_path):
    """run_annotators.sh, reduced (one fold, 2 epochs, 3 MC passes): both runs scored side by side, with
    MC-dropout uncertainty in the predictions and the beyond-accuracy columns filled."""
    p = subprocess.run(["./run_annotators.sh", "--workdir", str(tmp_path), "--folds", "1", "--epochs", "2",
                        "--mc_dropout", "3", "--utts_per_dialog", "10"], cwd=ROOT, capture_output=True, text=True,
                       env=env_with(IEMOCAP=""))
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    rows = json.loads((tmp_path / "compare.json").read_text())
    assert [r["run"] for r in rows] == ["hard: Hierarchical C-D", "soft: Hierarchical C-D"]
    for r in rows:
        assert r["class_uncertainty"].startswith("class_entropy") and r["n_votes"] == r["n"] > 0
        assert 0 <= r["ece"] <= 1 and 0 <= r["jsd_votes"] <= 1 and -1 <= r["spearman_uncertainty_disagreement"] <= 1
    soft = yaml.safe_load((tmp_path / "exp_soft/ser_hierarchical_cd_fold1/config.yaml").read_text())
    assert soft["model_conf"]["class_targets"] == "soft" and soft["max_epoch"] == 2
    assert (tmp_path / "exp_soft/ser_hierarchical_cd_fold1/inference/iemocap/class_entropy").exists()
    assert "| soft: Hierarchical C-D |" in (tmp_path / "COMPARE.md").read_text()
