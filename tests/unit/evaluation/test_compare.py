"""ser_compare: two labelled experiment roots side by side, values checked by hand and against scipy."""

import json

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon

from espnet_ser.bin.ser_compare import main as compare
from espnet_ser.inference.predictions import Predictions, write_predictions
from espnet_ser.labels import Utterance, write_data_dir, write_table
from helpers import markdown_tables

CLS = ["neutral", "angry", "happy", "sad", "disgust"]


def make_run(root, probs_by_fold):
    """Two folds of one Hierarchical C-D run: refs neutral/angry alternating, votes 2:1 for the ref."""
    for fold, probs in probs_by_fold.items():
        data = root / "data" / f"fold{fold}"
        ids = [f"f{fold}u{i}" for i in range(len(probs))]
        refs = [CLS[i % 2] for i in range(len(ids))]
        utts = [Utterance(u, "x.wav", f"s{fold}", r, (0.2 + 0.5 * (r == "angry"),) * 3) for u, r in zip(ids, refs)]
        write_data_dir(utts, data / "test")
        write_data_dir(utts, data / "train")
        write_table(data / "test" / "emotion_votes", [f"{u} {r}:2 {CLS[2]}:1" for u, r in zip(ids, refs)])
        exp = root / "exp" / f"ser_hierarchical_cd_fold{fold}"
        write_predictions(Predictions(ids, CLS, np.array(probs), np.full((len(ids), 3), 0.4)), exp / "inference" / "iemocap")
        (exp / "meta.json").write_text(json.dumps({"recipe": "iemocap", "variant": "hierarchical_cd", "fold": fold,
                                                   "train": str(data / "train"), "tests": {"iemocap": str(data / "test")}}))
    return root / "exp"


def test_two_runs_side_by_side(tmp_path):
    sure = {1: [[0.9, 0.1, 0, 0, 0], [0.1, 0.9, 0, 0, 0]], 2: [[0.9, 0.1, 0, 0, 0], [0.9, 0.1, 0, 0, 0]]}
    soft = {1: [[0.6, 0.2, 0.2, 0, 0], [0.2, 0.6, 0.2, 0, 0]], 2: [[0.6, 0.2, 0.2, 0, 0], [0.2, 0.6, 0.2, 0, 0]]}
    a, b = make_run(tmp_path / "a", sure), make_run(tmp_path / "b", soft)
    assert compare(["--recipe", "iemocap", "--run", f"hard={a}", "--run", f"soft={b}", "--out", str(tmp_path / "out")]) == 0
    rows = json.loads((tmp_path / "out/compare.json").read_text())
    hard, sft = rows
    # hard: refs n a n a, predicted n a n n -> recalls 2/2 and 1/2 -> UA 0.75; soft: all right -> 1.0
    assert hard["ua"] == pytest.approx(0.75) and sft["ua"] == pytest.approx(1.0)
    q = np.array([[2, 0, 1, 0, 0], [0, 2, 1, 0, 0]] * 2) / 3
    p = np.array(soft[1] + soft[2])
    assert sft["jsd_votes"] == pytest.approx(np.mean([jensenshannon(x, y, base=2) ** 2 for x, y in zip(p, q)]))
    # ECE of the hard run: confidences 0.9 (bin 9) x4, right 3 of 4 -> |0.75 - 0.9| = 0.15
    assert hard["ece"] == pytest.approx(0.15)
    # ECE to the votes (2/3 for the ref): hard right 3x with share 2/3, wrong 1x with share 0 (angry ref, votes
    # angry 2 happy 1, predicted neutral) -> |(3 * 2/3 + 0) / 4 - 0.9| = 0.4; soft: confidence 0.6 (bin 5) with
    # share 2/3 everywhere -> 0.0667
    assert hard["ece_votes"] == pytest.approx(0.4) and sft["ece_votes"] == pytest.approx(2 / 3 - 0.6)
    # V/A/D 0.4 everywhere: nearest training centroid (neutral 0.2, angry 0.7) is neutral -> UA 0.5; agreement
    # with the class head: hard predicts neutral 3 of 4 -> 0.75
    assert hard["vad_to_class"]["ua"] == pytest.approx(0.5) and hard["vad_to_class"]["agreement"] == pytest.approx(0.75)
    md = (tmp_path / "out/COMPARE.md").read_text()
    table = markdown_tables(md)[0]
    assert [r[0] for r in table[2:]] == ["hard: Hierarchical C-D", "soft: Hierarchical C-D"]
    assert (tmp_path / "out/figures/iemocap_reject_curves.png").stat().st_size > 0
    assert (tmp_path / "out/figures/iemocap_reliability.png").stat().st_size > 0


def test_bad_run_argument(tmp_path):
    from espnet_ser.errors import InputError

    with pytest.raises(InputError, match="LABEL=EXP_ROOT"):
        compare(["--recipe", "iemocap", "--run", "nolabel", "--out", str(tmp_path)])
