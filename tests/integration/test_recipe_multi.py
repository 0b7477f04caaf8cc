"""The multi-corpus recipe (egs2/multi) running a declaration end to end on small fixtures."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from espnet_ser.labels import read_table

from helpers import ROOT
from mixing_fixtures import DECL, classes_only, corpus_dir, vad_1_to_5, corpora, write_declaration  # noqa: F401  (fixtures and helpers shared with another layer)


def test_the_multi_recipe_runs_a_declaration_end_to_end(corpora, tmp_path):
    """egs2/multi/ser1 over the fixture corpora (already prepared: no prep entries) with matrix: true:
    stages 1-9; the matrix's cells are the test sets' UA (sklearn's balanced accuracy of the predictions)
    and CCC, '–' where an experiment trained on no label of that kind; the heatmaps are drawn."""
    import os
    import subprocess
    import sys

    from sklearn.metrics import balanced_accuracy_score

    from helpers import literal_ccc, markdown_tables

    root, _, _ = corpora
    data = tmp_path / "data"
    for c in ("acted", "pod", "both"):
        shutil.copytree(root / c, data / c)
    body = json.loads(json.dumps(DECL))
    del body["experiments"]
    body["matrix"] = True
    for c, t in (("acted", ["emotion"]), ("pod", ["vad"]), ("both", "both")):
        body["corpora"][c]["contributes"] = t
    decl = write_declaration(tmp_path / "decl.yaml", body)
    cmd = ["./run.sh", "--declaration", decl, "--ser_config", ROOT / "conf/tuning/train_ser_tiny_fbank.yaml",
           "--ser_args", "--max_epoch 1 --num_workers 0", "--datadir", data, "--dumpdir", tmp_path / "dump",
           "--expdir", tmp_path / "exp", "--results_dir", tmp_path / "res", "--feats_type", "raw", "--stop_stage", "9",
           "--nj", "1", "--inference_nj", "1"]
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}", PYTHONPATH=str(ROOT))
    p = subprocess.run([str(c) for c in cmd], cwd=ROOT / "egs2/multi/ser1", env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    results = (tmp_path / "res" / "RESULTS.md").read_text()
    table = markdown_tables(results)[0]
    rows = {r[0]: r for r in table[2:]}
    head = table[0]
    assert set(rows) == {"union", "only_acted", "only_pod", "only_both"}
    exp = tmp_path / "exp"
    # the acted test set was mapped (fear dropped): its reference is the mapped copy the recipe scored
    ref = read_table(data / "multi/all/acted_test/emotion")
    hyp = read_table(exp / "ser_multitask_union/inference/acted/emotion")
    ids = sorted(ref)
    ua = balanced_accuracy_score([ref[u] for u in ids], [hyp[u] for u in ids])
    assert float(rows["union"][head.index("acted Acc (UA)")].split(" ")[0]) == pytest.approx(ua, abs=5e-4)
    vref = {u: [float(x) for x in v.split()] for u, v in read_table(data / "multi/all/pod_test/vad").items()}
    vhyp = {u: [float(x) for x in v.split()] for u, v in read_table(exp / "ser_multitask_only_pod/inference/pod/vad").items()}
    ccc = np.mean([literal_ccc([vref[u][d] for u in sorted(vref)], [vhyp[u][d] for u in sorted(vref)]) for d in range(3)])
    assert float(rows["only_pod"][head.index("pod CCC")].split(" ")[0]) == pytest.approx(ccc, abs=5e-4)
    assert rows["only_pod"][head.index("acted Acc (UA)")] == "–" and rows["only_acted"][head.index("pod CCC")] == "–"
    assert (tmp_path / "res/figures/multi_multitask_ua.png").stat().st_size > 1000
    meta = json.loads((exp / "ser_multitask_only_pod/meta.json").read_text())
    assert meta["experiment"] == "only_pod" and meta["trained"] == ["vad"]
    # the best epoch is chosen by the dev set's per-corpus scores, averaged over its corpora
    conf = yaml.safe_load((exp / "ser_multitask_union/config.yaml").read_text())
    assert conf["best_model_criterion"] == [["valid", "epoch_ua_ccc_corpus_mean", "max"]]
    assert re.search(r"epoch_ua_ccc_corpus_mean=\d", (exp / "ser_multitask_union/train.log").read_text())
    assert read_table(data / "multi/union_all/dev/corpus")["pod-dev000"] == "1"


