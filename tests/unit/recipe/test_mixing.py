"""Multi-corpus declarations (issue 27, part 1): Table 2 declared gives today's training sets file by
file; a declaration mixing class-only, V/A/D-only and both-label corpora (a class map, a 1-5 scale)
carries exactly the declared label types, trains, and every corpus's test set is scored."""

import json
import shutil

import numpy as np
import pytest
import yaml

from espnet_ser.errors import InputError
from espnet_ser.labels import read_data_dir, read_table, write_data_dir
from espnet_ser.recipe import mixing
from espnet_ser.recipe.combine import combine, size_matched_subset
from espnet_ser.recipe.plan import make_splits
from espnet_ser.spec import TABLE2_ROWS

from helpers import ROOT
from mixing_fixtures import DECL, classes_only, corpus_dir, vad_1_to_5, corpora, write_declaration  # noqa: F401  (fixtures and helpers shared with another layer)


def test_table2_declared_gives_the_same_training_sets_as_before(tmp_path):
    """The reference: Table 2's sets written as the recipe wrote them before the declaration (a size-matched
    MSP-Podcast subset, then one combine per row and part), compared file by file with make_splits'."""
    from espnet_ser.bin.prepare_data import main as prepare

    prepare(["mini", str(tmp_path / "c")])
    prepare(["iemocap", str(tmp_path / "c/IEMOCAP"), str(tmp_path / "d/iemocap")])
    prepare(["msp_podcast", str(tmp_path / "c/MSP-Podcast"), str(tmp_path / "d/msp_podcast")])
    d = tmp_path / "d"
    ref = d / "table2_ref"
    iem = d / "iemocap/fold5"
    size_matched_subset(d / "msp_podcast/train", iem / "train", ref / "fold5" / "msp_train", 0)
    sources = {1: {"msp": ("vad",)}, 2: {"iemocap": ("vad",)}, 3: {"msp": ("emotion",)}, 4: {"iemocap": ("emotion",)},
               5: {"iemocap": ("vad",), "msp": ("vad",)}, 6: {"iemocap": ("emotion",), "msp": ("emotion",)},
               7: {"iemocap": ("vad",), "msp": ("emotion",)}, 8: {"iemocap": ("emotion",), "msp": ("vad",)}}
    for row, contrib in sources.items():
        for part, dirs in (("train", {"iemocap": iem / "train", "msp": ref / "fold5" / "msp_train"}),
                           ("dev", {"iemocap": iem / "dev", "msp": d / "msp_podcast/development"})):
            combine([(c, dirs[c], t) for c, t in contrib.items()], ref / f"row{row}_fold5" / part)

    splits = make_splits("iemocap_msp", d, [5])
    assert [s.name for s in splits] == [f"row{r}_fold5" for r in TABLE2_ROWS]
    assert all(s.train == f"table2/row{s.row}_fold5/train" and s.dev == f"table2/row{s.row}_fold5/dev" for s in splits)
    new = d / "table2"
    ref_files = sorted(p.relative_to(ref) for p in ref.rglob("*") if p.is_file())
    new_files = sorted(p.relative_to(new) for p in new.rglob("*") if p.is_file())
    assert ref_files == new_files and len(ref_files) > 8 * 2 * 4
    for f in ref_files:
        a = (ref / f).read_text().replace(str(ref), str(new))
        assert a == (new / f).read_text(), f


def test_the_union_carries_exactly_the_declared_label_types(corpora):
    root, decl, built = corpora
    train = root / built.experiments["mixed"][0]
    ids = read_table(train / "wav.scp")
    emo, vad, spk = read_table(train / "emotion"), read_table(train / "vad"), read_table(train / "utt2spk")
    acted = [u for u in ids if u.startswith("acted-")]
    pod = [u for u in ids if u.startswith("pod-")]
    both = [u for u in ids if u.startswith("both-")]
    # acted: 10 utterances, i = 4 boredom -> neutral, i = 9 fear -> dropped (no label left): 9, classes only
    assert len(acted) == 9 and emo["acted-train004"] == "neutral" and "acted-train009" not in ids
    assert all(vad[u] == "nan nan nan" for u in acted) and all(emo[u] != "nan" for u in acted)
    # pod: all 8, V/A/D only, rescaled from 1-5: (x - 1) / 4 gives back the generated 0-1 values
    assert len(pod) == 8 and all(emo[u] == "nan" for u in pod)
    orig = {u.utt_id: u.vad for u in read_data_dir(root / "pod" / "train_src" / "data")}
    for u in pod:
        got = [float(x) for x in vad[u].split()]
        assert np.allclose(got, orig[u.split("-", 1)[1]], atol=1e-6)
    # both: a seeded subset of 6 of its 9, both label types
    assert len(both) == 6 and all(emo[u] != "nan" and vad[u] != "nan nan nan" for u in both)
    # speakers are corpus-qualified: spk0 of acted and spk0 of pod are two speakers
    assert spk["acted-train000"] == "acted-trainspk0" and spk["pod-train000"] == "pod-trainspk0"
    report = json.loads((root / "multi" / "all" / "acted_train" / "map_report.json").read_text())
    assert report["unmapped_classes"] == {"fear": 1} and report["drops"]["dropped"] == {"no_label_after_mapping": 1}
    # the dev set mixes the same way; every corpus's test set is there, mapped
    dev = root / built.experiments["mixed"][1]
    assert {u.split("-")[0] for u in read_table(dev / "wav.scp")} == {"acted", "pod", "both"}
    assert set(built.tests) == {"acted", "pod", "both"}
    assert built.tests["pod"] == "multi/all/pod_test" and built.tests["both"] == "both/test"
    only = read_table(root / built.experiments["acted_only"][0] / "wav.scp")
    assert {u.split("-")[0] for u in only} == {"acted"}


def test_a_union_trains_and_every_test_set_is_scored(corpora, tmp_path):
    from espnet_ser.bin.ser_inference import main as infer
    from espnet_ser.bin.ser_score import main as score
    from espnet_ser.recipe.train_args import collect_stats, train

    root, decl, built = corpora
    conf = yaml.safe_load((ROOT / "conf/tuning/train_ser_tiny_fbank.yaml").read_text())
    conf.update(max_epoch=1, num_workers=0, use_matplotlib=False, use_tensorboard=False, decoder="multitask")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(conf))
    tr, dv = (root / p for p in built.experiments["mixed"])
    exp = train(cfg, tr, dv, collect_stats(cfg, tr, dv, tmp_path / "st"), tmp_path / "exp")
    for name, rel in built.tests.items():
        out = tmp_path / "inf" / name
        assert infer(["--model", str(exp), "--wav_scp", str(root / rel / "wav.scp"), "--out", str(out)]) == 0
        assert score(["--ref", str(root / rel), "--hyp", str(out), "--out", str(out / "score")]) == 0
        metrics = json.loads((out / "score" / "scores.json").read_text())["metrics"]
        assert metrics["n"] == len(read_table(root / rel / "wav.scp"))
        if name != "pod":
            assert "ua" in metrics
        if name != "acted":
            assert np.isfinite(metrics["ccc_mean"])


def test_bad_declarations_name_the_file_and_the_entry(tmp_path):
    cases = [
        ({**DECL, "experiments": {"x": {"nope": ["emotion"]}}}, "experiments.x.nope"),
        ({**DECL, "experiments": {"x": {"acted": ["arousal"]}}}, "experiments.x.acted"),
        ({**DECL, "corpora": {**DECL["corpora"], "acted": {**DECL["corpora"]["acted"], "class_map": {"boredom": "bored"}}}},
         "corpora.acted.class_map.boredom"),
        ({**DECL, "corpora": {**DECL["corpora"], "pod": {**DECL["corpora"]["pod"], "vad_scale": [5, 1]}}}, "corpora.pod.vad_scale"),
        ({**DECL, "corpora": {**DECL["corpora"], "both": {**DECL["corpora"]["both"], "train_size": {"like": "zzz"}}}},
         "corpora.both.train_size.like"),
        ({**DECL, "corpora": {"a-b": {"test": "x"}}}, "corpora.a-b"),
        ({**DECL, "extra": 1}, "extra"),
    ]
    for body, where in cases:
        path = write_declaration(tmp_path / "bad.yaml", body)
        with pytest.raises(InputError) as e:
            mixing.load(path)
        assert str(e.value).startswith(f"{path}: {where}:"), str(e.value)
    shutil.rmtree(tmp_path)


def test_corpus_mean_scores_weigh_every_corpus_alike():
    """Two corpora in one dev set: corpus 0 (4 items) all right, UA 1; corpus 1 (2 items, classes 0 and 1)
    one right, UA 0.5; the mean over corpora is 0.75, whatever their sizes (pooled: recalls 3/4 and 2/2 -> 0.875).
    V/A/D only in corpus 1: its CCC is the mean's only term."""
    from espnet_ser.model.trainer import corpus_mean_scores
    from espnet_ser.metrics import selection_scores

    pred = np.array([0, 0, 0, 1, 1, 1])
    ref = np.array([0, 0, 0, 1, 0, 1])
    corpus = np.array([0, 0, 0, 0, 1, 1])
    vad_ref = np.full((6, 3), np.nan)
    vad_ref[4:] = [[0.2, 0.3, 0.4], [0.6, 0.7, 0.8]]
    vad_pred = np.tile([[0.5, 0.5, 0.5]], (6, 1))
    vad_pred[4:] = vad_ref[4:]
    got = corpus_mean_scores({"pred_cls": pred, "ref_cls": ref, "pred_vad": vad_pred, "ref_vad": vad_ref}, corpus)
    assert got["epoch_ua_corpus_mean"] == pytest.approx(0.75)
    assert selection_scores(pred, ref, None, None)["epoch_ua"] == pytest.approx(0.875)
    assert got["epoch_ccc_mean_corpus_mean"] == pytest.approx(1.0)
    assert got["epoch_ua_ccc_corpus_mean"] == pytest.approx((0.75 + 1.0) / 2)


def test_generated_experiments_union_matrix_and_leave_one_corpus_out(tmp_path):
    body = json.loads(json.dumps(DECL))
    del body["experiments"]
    body.update(matrix=True, loco=True, selection="pooled")
    body["corpora"]["acted"]["contributes"] = ["emotion"]
    body["corpora"]["pod"]["contributes"] = "vad"
    body["corpora"]["both"]["contributes"] = "both"
    decl = mixing.load(write_declaration(tmp_path / "d.yaml", body))
    assert decl.experiments == {
        "union": {"acted": ("emotion",), "pod": ("vad",), "both": ("emotion", "vad")},
        "only_acted": {"acted": ("emotion",)}, "only_pod": {"pod": ("vad",)}, "only_both": {"both": ("emotion", "vad")},
        "without_acted": {"pod": ("vad",), "both": ("emotion", "vad")},
        "without_pod": {"acted": ("emotion",), "both": ("emotion", "vad")},
        "without_both": {"acted": ("emotion",), "pod": ("vad",)},
    }
    assert decl.selection == "pooled" and mixing.only("pod") == "only_pod" and mixing.without("pod") == "without_pod"
    body["corpora"]["pod"]["contributes"] = "none"  # a test-only corpus: in no experiment
    decl = mixing.load(write_declaration(tmp_path / "d.yaml", body))
    assert "pod" not in decl.experiments["union"] and "only_pod" not in decl.experiments and "without_pod" not in decl.experiments
    assert decl.tests()["pod"] == "pod/test"


def test_a_speaker_in_a_corpus_s_training_and_test_sets_is_refused(corpora, tmp_path):
    root, _, _ = corpora
    leak = tmp_path / "leak"
    shutil.copytree(root / "acted", leak / "acted")
    utts = read_data_dir(leak / "acted" / "test")
    utts[0].speaker = "trainspk1"  # a training speaker in the test set
    write_data_dir(utts, leak / "acted" / "test")
    body = {"corpora": {"acted": {k: DECL["corpora"]["acted"][k] for k in ("train", "dev", "test")} | {"contributes": "emotion"}}}
    decl = mixing.load(write_declaration(tmp_path / "d.yaml", body))
    with pytest.raises(InputError, match=r"corpora.acted: speaker\(s\) trainspk1 in both its train and its test set"):
        mixing.build(decl, leak, leak / "multi")
