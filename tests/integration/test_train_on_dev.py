"""``train_on_dev``: the recipe trains a split on its train and dev sets together (a merged dir of text
files), keeps the last epochs (``valid,epoch,max``) and calibrates nothing on the dev set it trained on."""


import pytest
import torch
import yaml

from espnet_ser.errors import InputError
from espnet_ser.labels import read_table
from espnet_ser.recipe.combine import merge_dirs
from espnet_ser.recipe.plan import Split, plan_stage
from espnet_ser.recipe.train_args import collect_stats, train
from helpers import make_data_dir

from helpers import ROOT
TINY = ROOT / "conf/tuning/train_ser_tiny_fbank.yaml"


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("tod")
    tr = make_data_dir(root / "tr", n=9, seed=0, prefix="tr")
    dv = make_data_dir(root / "dv", n=4, seed=1, prefix="dv")
    te = make_data_dir(root / "te", n=3, seed=2, prefix="te")
    return root, tr, dv, te


def test_merged_dir_holds_both_sets(dirs, tmp_path):
    _, tr, dv, _ = dirs
    out = merge_dirs([tr, dv], tmp_path / "m")
    wav = read_table(out / "wav.scp")
    assert sorted(wav) == [f"dv{i:03d}" for i in range(4)] + [f"tr{i:03d}" for i in range(9)]
    assert wav["dv002"] == read_table(dv / "wav.scp")["dv002"]  # the source's audio, not a copy
    for f in ("utt2spk", "emotion", "vad"):
        assert read_table(out / f) == {**read_table(tr / f), **read_table(dv / f)}, f
    # spk2utt rebuilt: speaker spk0 has utterances 0, 3, 6 of tr and 0, 3 of dv (make_data_dir: i % 3)
    assert read_table(out / "spk2utt")["spk0"].split() == ["dv000", "dv003", "tr000", "tr003", "tr006"]
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    merge_dirs([tr, dv], out)  # repeated by a later run: nothing rewritten
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_merging_refuses_a_shared_utterance_or_a_file_one_dir_lacks(dirs, tmp_path):
    _, tr, dv, _ = dirs
    with pytest.raises(InputError, match="tr000 is also in another"):
        merge_dirs([tr, tr], tmp_path / "twice")
    lacking = tmp_path / "lacking"
    lacking.mkdir()
    for f in ("wav.scp", "utt2spk", "emotion"):
        (lacking / f).write_text((dv / f).read_text())
    with pytest.raises(InputError, match=r"per-utterance files differ \(\['vad'\]\)"):
        merge_dirs([tr, lacking], tmp_path / "m")


def _split(root, tr, dv, te):
    return Split("fold1", 1, None, str(tr.relative_to(root)), str(dv.relative_to(root)), {"test": str(te.relative_to(root))})


def test_the_plan_trains_on_train_and_dev_and_calibrates_nothing(dirs, tmp_path):
    root, tr, dv, te = dirs
    conf = yaml.safe_load(TINY.read_text())
    conf["train_on_dev"] = True
    (tmp_path / "tod.yaml").write_text(yaml.safe_dump(conf))
    split = _split(root, tr, dv, te)
    runs = {}
    for name, config in (("default", str(TINY)), ("on_dev", str(tmp_path / "tod.yaml"))):
        exp = tmp_path / name
        stats = plan_stage("stats", "emovo", [split], root, exp, ["baseline_d"], config)
        job = plan_stage("train", "emovo", [split], root, exp, ["baseline_d"], config)[0]
        infer = plan_stage("inference", "emovo", [split], root, exp, ["baseline_d"], config)
        score = plan_stage("score", "emovo", [split], root, exp, ["baseline_d"], config)
        runs[name] = stats, job, infer, score
    stats, job, infer, score = runs["on_dev"]
    merged = root / f"{split.train}_with_dev"
    a = job["args"]
    assert a[a.index("--best_model_criterion") + 1] == "valid,epoch,max"
    assert f"{merged / 'wav.scp'},speech,sound" in a and f"{dv / 'wav.scp'},speech,sound" in a
    assert len(read_table(merged / "wav.scp")) == 9 + 4
    assert f"{merged / 'wav.scp'}" in stats[0]["args"]
    assert job["meta"]["train"] == str(merged) and job["meta"]["selection"].startswith("last epochs")
    assert [j["args"][j["args"].index("--wav_scp") + 1] for j in infer] == [str(te / "wav.scp")]  # no dev inference
    assert [j["module"] for j in score] == ["espnet_ser.bin.ser_score"]  # no conformal calibration
    stats, job, infer, score = runs["default"]  # the paper's way: unchanged
    a = job["args"]
    assert a[a.index("--best_model_criterion") + 1] == "valid,epoch_ua,max" and f"{tr / 'wav.scp'},speech,sound" in a
    assert len(infer) == 2 and "espnet_ser.bin.ser_conformal" in [j["module"] for j in score]


def test_the_kept_model_is_the_average_of_the_last_epochs(dirs, tmp_path):
    """valid,epoch,max with keep_nbest_models 2 over 3 epochs: ESPnet keeps epochs 2 and 3 and decodes
    with their average (the reference: the two epoch files averaged here)."""
    from espnet_ser.inference.pack import best_model_pth

    _, tr, dv, _ = dirs
    stats = collect_stats(TINY, tr, dv, tmp_path / "stats")
    exp = train(TINY, tr, dv, stats, tmp_path / "exp",
                ["--decoder", "baseline_d", "--max_epoch", "3", "--batch_size", "4", "--keep_nbest_models", "2",
                 "--best_model_criterion", "valid,epoch,max"])
    assert sorted(p.name for p in exp.glob("*epoch.pth")) == ["2epoch.pth", "3epoch.pth"]
    assert best_model_pth(exp) == "valid.epoch.ave_2best.pth"
    ave = torch.load(exp / "valid.epoch.ave_2best.pth", weights_only=True)
    two, three = (torch.load(exp / f"{n}epoch.pth", weights_only=True) for n in (2, 3))
    for k, v in ave.items():
        if v.is_floating_point():
            assert torch.allclose(v, (two[k] + three[k]) / 2, atol=1e-6), k
