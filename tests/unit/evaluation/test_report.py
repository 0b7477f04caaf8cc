"""RESULTS.md: every number the paper prints in the right cell, Table 2's rows and dashes, significance legends."""

import json

import numpy as np
import pytest

from espnet_ser.inference.predictions import Predictions, write_predictions
from espnet_ser.evaluation.report import build_results
from espnet_ser.evaluation.tables import mark
from espnet_ser.spec import VARIANT_TITLES
from helpers import CLASSES, make_data_dir, markdown_tables, paper_table

VARIANTS = {title: name for name, title in VARIANT_TITLES.items()}  # the paper's row titles -> our names


def _exp(root, tag, meta, tests, seed):
    rng = np.random.default_rng(seed)
    e = root / tag
    e.mkdir(parents=True)
    (e / "meta.json").write_text(json.dumps({**meta, "tag": tag, "tests": {k: str(v) for k, v in tests.items()}}))
    for name, ref in tests.items():
        ids = sorted(line.split()[0] for line in (ref / "wav.scp").read_text().splitlines())
        classes = None if meta["variant"] == "baseline_c" else list(CLASSES)
        probs = None if classes is None else rng.dirichlet(np.ones(5), len(ids))
        vad = None if meta["variant"] == "baseline_d" else rng.uniform(0, 1, (len(ids), 3))
        write_predictions(Predictions(ids, classes, probs, vad), e / "inference" / name)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    ref = {c: make_data_dir(tmp / c, n=20, seed=i) for i, c in enumerate(("iemocap", "msp"))}
    seed = 0
    for v in VARIANTS.values():
        for k in (1, 2, 3):
            seed += 1
            _exp(tmp / "t1", f"ser_{v}_fold{k}", {"recipe": "iemocap", "variant": v, "fold": k}, {"iemocap": ref["iemocap"]}, seed)
        seed += 1
        _exp(tmp / "t3", f"ser_{v}_msp", {"recipe": "msp_podcast", "variant": v, "fold": None}, {"msp": ref["msp"]}, seed)
    for row in range(1, 9):
        seed += 1
        _exp(tmp / "t2", f"ser_hierarchical_dc_row{row}_fold5",
             {"recipe": "iemocap_msp", "variant": "hierarchical_dc", "fold": 5, "row": row}, ref, seed)
    path = build_results({"table1": tmp / "t1", "table2": tmp / "t2", "table3": tmp / "t3"}, tmp / "out")
    return path.read_text(), json.loads((tmp / "out" / "significance.json").read_text())


def _paper_cells(table):
    """{row name: [paper column values in order]} of a generated table."""
    header = table[0]
    cols = [i for i, c in enumerate(header) if c == "paper"]
    return header, {r[0] if header[1] != "ID" else r[1]: [r[i] for i in cols] for r in table[2:]}


def test_all_sixty_paper_values_are_in_the_right_cells(report):
    text, _ = report
    tables = markdown_tables(text)
    t1 = next(t for t in tables if t[0][:3] == ["Model", "n (folds/utts)", "CCC"])
    t2 = next(t for t in tables if t[0][1] == "ID")
    t3 = next(t for t in tables if t[0][:3] == ["Model", "n (runs/utts)", "CCC"])
    found = 0
    for table, paper, skip in ((t1, paper_table("table1"), 0), (t3, paper_table("table3"), 0),
                               (t2, paper_table("table2"), 2)):
        header, cells = _paper_cells(table)
        assert set(cells) == set(paper)
        for name, values in paper.items():
            assert cells[name] == values[skip:], (header, name)
            found += sum(v != "-" for v in values[skip:])
    assert found == 60


def test_table2_has_the_papers_eight_rows_and_dashes(report):
    text, _ = report
    t2 = next(t for t in markdown_tables(text) if t[0][1] == "ID")
    header = t2[0]
    assert header[2:4] == ["IEMOCAP train", "MSP-Podcast train"]
    assert [h for h in header if h not in ("paper", "Δ")][5:] == ["IEMOCAP CCC", "IEMOCAP Acc", "MSP-Podcast CCC", "MSP-Podcast F1"]
    ours = [i for i, h in enumerate(header) if h.startswith(("IEMOCAP C", "IEMOCAP A", "MSP-Podcast C", "MSP-Podcast F"))]
    paper = paper_table("table2")
    assert [r[1] for r in t2[2:]] == [str(i) for i in range(1, 9)]
    for r in t2[2:]:
        want = paper[r[1]]
        assert r[2:4] == want[:2]
        for col, p in zip(ours, want[2:]):
            assert (r[col] == "-") == (p == "-"), (r[1], header[col], r[col])


def test_legends_state_the_number_of_tests_and_the_correction(report):
    text, sig = report
    # Table 1: 3 folds; Baseline C / Baseline D are the baselines: 3 + 3 + 3 CCC-mean... cells tested
    t1_tests = [k for k, v in sig["table1"].items() if "bootstrap" in v]
    assert len(t1_tests) == 15  # 4 CCC cells x 3 joint models + 1 UA cell x 3 joint models
    assert "(15 tests in this table, Holm-adjusted p < 0.05)" in text
    for table in sig.values():
        for cell in table.values():
            for test in cell.values():
                if not np.isnan(test["p"]):
                    assert test["p_adj"] >= test["p"] and test["p"] > 0


def test_a_mark_the_correction_removes_is_not_shown():
    rows = [["A", "x", "y", "z", "w"]]
    places = [(0, i + 1, k) for i, k in enumerate("abcd")]
    details = {k: {"bootstrap": {"p": p}} for k, p in zip("abcd", (0.01, 0.04, 0.03, 0.005))}
    plain = [list(rows[0])]
    assert mark(plain, places, json.loads(json.dumps(details)), "none") == {"bootstrap": 4, "fold_ttest": 0}
    assert plain[0][1:] == ["x*", "y*", "z*", "w*"]
    holm = [list(rows[0])]
    mark(holm, places, details, "holm")
    assert holm[0][1:] == ["x*", "y", "z", "w*"]  # Holm-adjusted: 0.03, 0.06, 0.06, 0.02
    # the 95 % interval of the difference, on request
    ci = [list(rows[0])]
    with_ci = {"a": {"bootstrap": {"p": 0.01, "ci_low": 0.012, "ci_high": 0.2}}}
    mark(ci, [(0, 1, "a")], with_ci, "holm", show_ci=True)
    assert ci[0][1] == "x* [+0.012, +0.200]"


def test_per_class_recall_with_n_and_the_classes_a_fold_barely_tests():
    """Two folds, hand-counted: a 2/3 (n=3), b 3/4 (n=4), c 0/1 (n=1); every class has < 10 test
    utterances in a fold, so each is named with its per-fold counts."""
    from espnet_ser.evaluation.runs import aggregate
    from espnet_ser.evaluation.scoring import Paired
    from espnet_ser.evaluation.tables import per_class_recall

    def part(ref, hyp):
        return Paired([f"u{i}" for i in range(len(ref))], ref, hyp, None, None, ["a", "b", "c"])

    agg = aggregate([part(["a", "a", "b", "c"], ["a", "b", "b", "a"]), part(["a", "b", "b", "b"], ["a", "b", "a", "b"])])
    lines = per_class_recall({"Model X": agg})
    assert "| Model | a (n=3) | b (n=4) | c (n=1) |" in lines
    assert "| Model X | 0.667 | 0.750 | 0.000 |" in lines
    assert lines[-1].startswith("Classes with fewer than 10 test utterances in some fold: a (per fold: 2, 1); "
                                "b (per fold: 1, 3); c (per fold: 1, 0)")


def test_results_show_per_class_recall(report):
    text, _ = report
    assert text.count("Per-class recall (pooled folds") == 1 and "Per-class recall (pooled runs" in text
