"""Hostile and careless input, by kind: code named by a model's files, writes outside the output,
deleting a user's files, stale stage outputs, garbage scored, unsafe names, hangs and silent no-ops,
uncounted files, tracebacks for user mistakes. Each case asserts the one-line message (exit 2, no
traceback) or the count, and for the unsafe kinds that nothing outside the output changed and no code
ran (a marker file is never created)."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from corpus_fixtures import tone, write_acted, write_iemocap, write_msp
from espnet_ser.bin import export_onnx, prepare_data, recipe, ser_ensemble, ser_inference, ser_report, ser_score, ser_train
from espnet_ser.errors import InputError, MissingInput
from espnet_ser.inference.predictions import Predictions, write_predictions
from espnet_ser.labels import read_table, write_table
from helpers import CLASSES, cli, make_data_dir, one_line_error

from helpers import ROOT
from manifest_fixtures import manifest_csv  # noqa: F401  (fixtures and helpers shared with another layer)
TINY = ROOT / "conf/tuning/train_ser_tiny_fbank.yaml"


def tree(d: Path):
    """Every file under ``d`` with its bytes (links and FIFOs by their kind): a snapshot to compare. The
    lock a run takes beside its output (``.<out>.lock``, :mod:`espnet_ser.locks`) is left out."""
    out = {}
    for p in sorted(Path(d).rglob("*")):
        key = str(p.relative_to(d))
        if p.name.endswith(".lock"):
            continue
        if p.is_symlink() or not p.is_file():
            out[key] = "dir" if p.is_dir() else "other"
        else:
            out[key] = p.read_bytes()
    return out


class Evil:
    """A pickle that creates ``marker`` when it is unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


GOOD_ROWS = [["u0", "a/0.wav", "s1", "happy", "train"], ["u1", "a/1.wav", "s2", "sad", "test"]]


@pytest.fixture(scope="module")
def exp(tmp_path_factory):
    """An exp dir of the tiny fbank model (ESPnet dry run; random weights as its best model) and its zip."""
    from espnet_ser.inference.pack import pack_model
    from espnet_ser.inference.speech2emotion import build_model
    from espnet_ser.model.task import SERTask

    tmp = tmp_path_factory.mktemp("exp")
    SERTask.main(cmd=["--config", str(TINY), "--dry_run", "true", "--output_dir", str(tmp / "exp")])
    model, _ = build_model(tmp / "exp/config.yaml", None)
    torch.save(model.state_dict(), tmp / "exp/valid.loss.best.pth")
    return tmp / "exp", pack_model(tmp / "exp", tmp / "model.zip")


# ================================================================ 1. code from a model's files
def test_s3prl_checkpoint_with_code_is_refused_and_runs_nothing(tmp_path):
    from espnet_ser.model.frontend.s3prl import S3prlFrozenFrontend

    marker = tmp_path / "MARKER"
    torch.save({"model_weight": Evil(marker)}, tmp_path / "evil.pt")
    with pytest.raises(InputError, match="refused to load: it would call"):
        S3prlFrozenFrontend(upstream="hubert_local", path_or_url=str(tmp_path / "evil.pt"))
    assert not marker.exists()


def test_model_config_naming_a_pickle_checkpoint_runs_nothing(exp, tmp_path, capsys):
    """A model (exp dir) whose config.yaml points its s3prl frontend at a crafted local checkpoint."""
    marker = tmp_path / "MARKER"
    torch.save({"model_weight": Evil(marker)}, tmp_path / "evil.pt")
    bad = tmp_path / "bad_exp"
    shutil.copytree(exp[0], bad)
    conf = yaml.safe_load((bad / "config.yaml").read_text())
    conf["frontend"], conf["frontend_conf"] = "s3prl", {"upstream": "hubert_local", "path_or_url": str(tmp_path / "evil.pt")}
    (bad / "config.yaml").write_text(yaml.safe_dump(conf))
    sf.write(tmp_path / "x.wav", tone(1.0), 16000)
    rc, _, err = cli(ser_inference, capsys, "--model", bad, "--out", tmp_path / "out", tmp_path / "x.wav")
    one_line_error(rc, err, "evil.pt", "refused to load")
    assert not marker.exists()


# ================================================================ 2. writes outside the output
@pytest.mark.parametrize("split, problem", [("../../X", "path separator"), ("/tmp/escape_abs", "path separator"),
                                            ("a/b", "path separator"), (".hidden", "starts with '.'")])
def test_manifest_split_names_cannot_leave_the_output(tmp_path, capsys, split, problem):
    m = manifest_csv(tmp_path / "in", [["u0", "a/0.wav", "s1", "happy", split]])
    before = tree(tmp_path)
    rc, _, err = cli(prepare_data, capsys, "manifest", m, tmp_path / "work/out")
    one_line_error(rc, err, "m.csv:2", "split", problem)
    assert tree(tmp_path) == {**before, "work": "dir"} and not Path("/tmp/escape_abs").exists()


@pytest.mark.parametrize("uid, problem", [("../evil", "path separator"), ("..", "starts with '.'"),
                                          ("a\\b", "path separator"), ("-rf", "starts with '-'")])
def test_manifest_utterance_ids_cannot_name_paths(tmp_path, capsys, uid, problem):
    m = manifest_csv(tmp_path / "in", [[uid, "a/0.wav", "s1", "happy", "train"]])
    rc, _, err = cli(prepare_data, capsys, "manifest", m, tmp_path / "out")
    one_line_error(rc, err, "m.csv:2", "utt_id", problem)
    assert not (tmp_path / "out").exists()


def test_format_stage_refuses_an_edited_id_that_would_write_outside_the_dump(tmp_path):
    from espnet_ser.recipe.dump import format_data_dir

    d = make_data_dir(tmp_path / "src", n=3)
    scp = read_table(d / "wav.scp")
    first = sorted(scp)[0]
    lines = [f"{'../../outside' if u == first else u} {p}" for u, p in sorted(scp.items())]
    write_table(d / "wav.scp", sorted(lines))
    before = tree(tmp_path)
    with pytest.raises(InputError, match="path separator"):
        format_data_dir(d, tmp_path / "dump/x")
    assert not (tmp_path / "outside.wav").exists() and {k for k in tree(tmp_path) if not k.startswith("dump")} == set(before)


def test_feature_cache_refuses_an_id_that_would_write_outside_npy(tmp_path):
    from espnet_ser.recipe.feature_cache import extract_features

    d = make_data_dir(tmp_path / "src", n=2)
    write_table(d / "wav.scp", ["../x " + str(tmp_path / "src/wav/utt000.wav")])
    with pytest.raises(InputError, match="utterance id '../x' contains a path separator"):
        extract_features(d, tmp_path / "feats", TINY, progress=False)
    assert not (tmp_path / "feats/x.npy").exists()


def test_msp_file_name_with_a_path_is_refused(tmp_path, capsys):
    write_msp(tmp_path / "MSP", [["MSP-PODCAST_0001_0001.wav", "N", "4", "4", "4", "1", "Male", "Train"]])
    lines = (tmp_path / "MSP/Labels/labels_consensus.csv").read_text().splitlines()
    lines.append("../../up.wav,A,4,4,4,2,Male,Train")
    (tmp_path / "MSP/Labels/labels_consensus.csv").write_text("\n".join(lines) + "\n")
    rc, _, err = cli(prepare_data, capsys, "msp_podcast", tmp_path / "MSP", tmp_path / "out")
    one_line_error(rc, err, "labels_consensus.csv:3", "FileName", "path separator")


def test_combine_prefix_with_a_path_is_refused(tmp_path, capsys):
    d = make_data_dir(tmp_path / "a", n=3)
    rc, _, err = cli(prepare_data, capsys, "combine", tmp_path / "out", "--source", f"x/y:{d}:emotion")
    one_line_error(rc, err, "prefix", "path separator")


# ================================================================ 3. never delete a user's files
def test_prep_output_that_holds_the_manifest_is_refused_and_nothing_is_deleted(tmp_path, capsys):
    m = manifest_csv(tmp_path, GOOD_ROWS)
    (tmp_path / "notes.txt").write_text("my unrelated file\n")
    before = tree(tmp_path)
    rc, _, err = cli(prepare_data, capsys, "manifest", m, tmp_path)
    one_line_error(rc, err, "holds the input")
    assert tree(tmp_path) == before


def test_mini_into_a_dir_with_user_files_is_refused(tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine/thesis.tex").write_text("years of work\n")
    rc, _, err = cli(prepare_data, capsys, "mini", tmp_path / "mine")
    one_line_error(rc, err, "not empty and not written by espnet-ser")
    assert (tmp_path / "mine/thesis.tex").read_text() == "years of work\n" and len(list((tmp_path / "mine").iterdir())) == 1


def test_corpus_dir_as_its_own_output_is_refused(tmp_path, capsys):
    write_iemocap(tmp_path / "IEMOCAP", {1: [("F000", "neu", (2, 3, 4))], 2: [("M000", "ang", (2, 3, 4))]}, bad=False)
    before = tree(tmp_path)
    rc, _, err = cli(prepare_data, capsys, "iemocap", tmp_path / "IEMOCAP", tmp_path / "IEMOCAP")
    one_line_error(rc, err, "holds the input")
    assert tree(tmp_path) == before


@pytest.mark.parametrize("kind", ["file", "symlink"])
def test_output_that_is_a_file_or_link_is_refused(tmp_path, capsys, kind):
    m = manifest_csv(tmp_path / "in", GOOD_ROWS)
    target = tmp_path / "target"
    target.mkdir()
    (target / "keep.txt").write_text("x")
    out = tmp_path / "out"
    out.write_text("a file\n") if kind == "file" else out.symlink_to(target)
    rc, _, err = cli(prepare_data, capsys, "manifest", m, out)
    one_line_error(rc, err, "not a directory")
    assert (target / "keep.txt").read_text() == "x" and (out.is_symlink() or out.read_text() == "a file\n")


def test_rerun_into_its_own_output_is_allowed(tmp_path, capsys):
    m = manifest_csv(tmp_path / "in", GOOD_ROWS)
    assert cli(prepare_data, capsys, "manifest", m, tmp_path / "out")[0] == 0
    assert (tmp_path / "out/.espnet_ser_output").is_file()
    assert cli(prepare_data, capsys, "manifest", m, tmp_path / "out")[0] == 0


def test_a_failing_prep_leaves_the_earlier_output_byte_identical(tmp_path, capsys):
    m = manifest_csv(tmp_path / "in", GOOD_ROWS)
    assert cli(prepare_data, capsys, "manifest", m, tmp_path / "out")[0] == 0
    before = tree(tmp_path / "out")
    for i in range(4):  # every audio file gone: nothing would be kept
        (tmp_path / f"in/a/{i}.wav").unlink()
    rc, _, err = cli(prepare_data, capsys, "manifest", m, tmp_path / "out")
    one_line_error(rc, err, "no utterance kept of 2", "missing_audio 2")
    assert tree(tmp_path / "out") == before
    assert not list(tmp_path.glob(".out.partial")) and not list(tmp_path.glob(".out.old"))  # no half-built sibling


def test_a_prep_whose_output_fails_validation_keeps_the_earlier_output(tmp_path, capsys, monkeypatch):
    m = manifest_csv(tmp_path / "in", GOOD_ROWS)
    assert cli(prepare_data, capsys, "manifest", m, tmp_path / "out")[0] == 0
    before = tree(tmp_path / "out")

    def broken(*a, **k):
        raise InputError("validation found a problem")
    monkeypatch.setattr(prepare_data, "validate_all", broken)
    rc, _, err = cli(prepare_data, capsys, "manifest", m, tmp_path / "out")
    one_line_error(rc, err, "validation found a problem")
    assert tree(tmp_path / "out") == before


def test_feature_cache_passes_a_corrected_label_on(tmp_path):
    from espnet_ser.recipe.feature_cache import extract_features

    d = make_data_dir(tmp_path / "src", n=3)
    first = extract_features(d, tmp_path / "feats", TINY, progress=False)
    assert first["extracted_now"] == 3
    emo = read_table(d / "emotion")
    emo["utt000"] = "sad" if emo["utt000"] != "sad" else "happy"
    write_table(d / "emotion", [f"{u} {c}" for u, c in sorted(emo.items())])
    again = extract_features(d, tmp_path / "feats", TINY, progress=False)
    assert again["status"] != "reused" and again["extracted_now"] == 0  # features kept, labels passed on
    assert read_table(tmp_path / "feats/emotion")["utt000"] == emo["utt000"]


# ================================================================ 5. garbage is never scored
@pytest.fixture
def refs(tmp_path):
    return make_data_dir(tmp_path / "ref", n=6)


def _hyp(tmp_path, refs, edit):
    ids = sorted(read_table(refs / "wav.scp"))
    rng = np.random.default_rng(0)
    write_predictions(Predictions(ids, list(CLASSES), rng.dirichlet(np.ones(5), len(ids)), rng.uniform(0, 1, (len(ids), 3))),
                      tmp_path / "hyp")
    edit(tmp_path / "hyp", ids)
    return tmp_path / "hyp"


def _set_row(path, uid, values):
    t = read_table(path)
    t[uid] = " ".join(values)
    write_table(path, [f"{u} {v}" for u, v in sorted(t.items())])


@pytest.mark.parametrize("edit, fragments", [
    (lambda d, ids: _set_row(d / "probs", ids[0], ["-0.2", "0.6", "0.2", "0.2", "0.2"]), ["probs", "outside 0-1", "utt000"]),
    (lambda d, ids: _set_row(d / "probs", ids[1], ["0.5", "0.5", "0.5", "0.0", "0.0"]), ["probs", "not summing to 1", "utt001"]),
    (lambda d, ids: (d / "class_list").write_text("neutral\nangry\nhappy\nhappy\ndisgust\n"), ["class_list", "listed twice: happy"]),
    (lambda d, ids: _set_row(d / "vad", ids[2], ["4.0", "6.0", "5.0"]), ["vad", "outside 0-2", "utt002"]),
    (lambda d, ids: _set_row(d / "vad", ids[3], ["-0.1", "0.5", "0.5"]), ["vad", "outside 0-2", "utt003"]),
    (lambda d, ids: _set_row(d / "probs", ids[0], ["0.9", "0.1", "0.0", "0.0", "0.0"]) or
     _set_row(d / "emotion", ids[0], ["sad"]), ["emotion", "not the most probable", "utt000"]),
])
def test_scoring_refuses_predictions_no_model_writes(tmp_path, capsys, refs, edit, fragments):
    hyp = _hyp(tmp_path, refs, edit)
    rc, _, err = cli(ser_score, capsys, "--ref", refs, "--hyp", hyp, "--out", tmp_path / "score")
    one_line_error(rc, err, *fragments)
    assert not (tmp_path / "score/scores.json").exists()


def test_scoring_accepts_the_models_own_predictions(tmp_path, capsys, refs):
    hyp = _hyp(tmp_path, refs, lambda d, ids: None)
    assert cli(ser_score, capsys, "--ref", refs, "--hyp", hyp, "--out", tmp_path / "score")[0] == 0


def test_ensemble_of_a_dir_with_nan_is_refused(tmp_path, capsys, refs):
    a = _hyp(tmp_path / "a", refs, lambda d, ids: None)
    b = _hyp(tmp_path / "b", refs, lambda d, ids: _set_row(d / "vad", ids[0], ["nan", "0.5", "0.5"]))
    rc, _, err = cli(ser_ensemble, capsys, "combine", a, b, "--out", tmp_path / "ens")
    one_line_error(rc, err, "NaN or infinite", "utt000")


def _exp_dir(root: Path, tag: str, meta: dict, ref: Path):
    e = root / tag
    ids = sorted(read_table(ref / "wav.scp"))
    rng = np.random.default_rng(len(tag))
    write_predictions(Predictions(ids, list(CLASSES), rng.dirichlet(np.ones(5), len(ids)), rng.uniform(0, 1, (len(ids), 3))),
                      e / "inference/iemocap")
    (e / "meta.json").write_text(json.dumps({**meta, "tag": tag, "tests": {"iemocap": str(ref)}}))
    return e


def test_report_refuses_a_copied_fold(tmp_path, capsys, refs):
    meta = {"recipe": "iemocap", "variant": "multitask", "fold": 1}
    e = _exp_dir(tmp_path / "exp", "ser_multitask_fold1", meta, refs)
    shutil.copytree(e, tmp_path / "exp/ser_multitask_fold1_backup")
    rc, _, err = cli(ser_report, capsys, "--table1", tmp_path / "exp", "--out", tmp_path / "res")
    one_line_error(rc, err, "ser_multitask_fold1_backup", "same experiment")


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", "\xff\xfe"])
def test_report_refuses_a_corrupt_meta_json(tmp_path, capsys, refs, text):
    e = _exp_dir(tmp_path / "exp", "ser_multitask_fold1", {"recipe": "iemocap", "variant": "multitask", "fold": 1}, refs)
    (e / "meta.json").write_bytes(text.encode("latin-1"))
    rc, _, err = cli(ser_report, capsys, "--table1", tmp_path / "exp", "--out", tmp_path / "res")
    one_line_error(rc, err, "meta.json")


def test_combine_one_prefix_on_two_corpora_is_refused(tmp_path, capsys):
    a = make_data_dir(tmp_path / "a", n=3)
    b = make_data_dir(tmp_path / "b", n=3, seed=1)
    rc, _, err = cli(prepare_data, capsys, "combine", tmp_path / "out", "--source", f"x:{a}:emotion", "--source", f"x:{b}:vad")
    one_line_error(rc, err, "prefix 'x' is given to two data dirs")
    # the same corpus twice with other label types stays allowed
    assert cli(prepare_data, capsys, "combine", tmp_path / "ok", "--source", f"x:{a}:emotion", "--source", f"x:{a}:vad")[0] == 0


def test_nan_audio_in_training_stops_naming_the_utterance():
    from espnet_ser.model.preprocessor import SERPreprocessor

    pre = SERPreprocessor(CLASSES, train=True)
    speech = np.zeros(1600, dtype=np.float32)
    speech[100] = np.nan
    with pytest.raises(InputError, match="utterance bad_utt: NaN or infinite samples"):
        pre("bad_utt", {"speech": speech, "emotion": "happy"})
    assert pre("ok", {"speech": np.zeros(1600, dtype=np.float32), "emotion": "happy"})["emotion"].tolist() == [2]


@pytest.mark.parametrize("poison", [np.nan, np.inf])
def test_inference_lists_audio_with_nan_or_inf_samples_as_errors(exp, tmp_path, capsys, poison):
    good, bad = tmp_path / "good.wav", tmp_path / "bad.wav"
    sf.write(good, tone(1.0), 16000)
    x = tone(1.0).astype(np.float32)
    x[2000] = poison
    sf.write(bad, x, 16000, subtype="FLOAT")
    rc, _, err = cli(ser_inference, capsys, "--model", exp[0], "--out", tmp_path / "out", good, bad, "--no_progress")
    assert rc == 1 and "Traceback" not in err
    errors = read_table(tmp_path / "out/errors")
    assert list(errors) == ["bad"] and "NaN or infinite sample" in errors["bad"]
    probs = read_table(tmp_path / "out/probs")
    assert list(probs) == ["good"] and np.isfinite([float(v) for v in probs["good"].split()]).all()


@pytest.mark.parametrize("waveform, match", [
    (np.full(16000, np.nan, dtype=np.float32), "NaN or infinite"),
    (np.zeros(10, dtype=np.float32), "10 samples, too short"),
    ("speech.wav", "expected a waveform"),
    (np.zeros((2, 3, 4), dtype=np.float32), "1-D or 2-D"),
])
def test_python_api_refuses_what_is_not_a_waveform(exp, waveform, match):
    from espnet_ser.inference.speech2emotion import Speech2Emotion

    s2e = Speech2Emotion.from_pretrained(exp[1])
    with pytest.raises(InputError, match=match):
        s2e(waveform, 16000)


@pytest.mark.parametrize("make, error", [
    (lambda p: p.mkdir(), MissingInput),                       # an empty directory
    (lambda p: None, MissingInput),                            # nothing there
    (lambda p: p.write_text("not a zip"), InputError),
])
def test_python_api_refuses_what_is_not_a_model(tmp_path, make, error):
    from espnet_ser.inference.speech2emotion import Speech2Emotion

    make(tmp_path / "m")
    with pytest.raises(error):
        Speech2Emotion.from_pretrained(tmp_path / "m")


# ================================================================ 6. names that break Kaldi lines
@pytest.mark.parametrize("field, value", [("utt_id", "a\tb"), ("utt_id", "a\nb"), ("speaker", "sp 1"), ("split", "tr ain")])
def test_whitespace_in_names_is_refused_with_the_line(tmp_path, capsys, field, value):
    row = {"utt_id": "u0", "path": "a/0.wav", "speaker": "s1", "emotion": "happy", "split": "train", field: value}
    m = manifest_csv(tmp_path / "in", [list(row.values())])
    rc, _, err = cli(prepare_data, capsys, "manifest", m, tmp_path / "out")
    one_line_error(rc, err, "m.csv:", field, "whitespace")  # the row's line (a quoted newline: where it ends)


def test_acted_file_names_with_spaces_are_counted_not_written(tmp_path, capsys):
    names = write_acted(tmp_path / "EMOVO", "emovo", ["f1", "f2", "m1"])
    shutil.copy(tmp_path / "EMOVO" / next(iter(names)), tmp_path / "EMOVO/f1/neu-f1-b1 copy.wav")
    assert cli(prepare_data, capsys, "emovo", tmp_path / "EMOVO", tmp_path / "out")[0] == 0
    report = json.loads((tmp_path / "out/prep_report.json").read_text())
    assert report["drops"]["dropped"]["name_not_emovo"] == 1 and report["drops"]["total"] == len(names) + 1


# ================================================================ 7. hangs and silent no-ops
def test_fifo_as_inference_input_is_listed_not_read(exp, tmp_path, capsys):
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    sf.write(tmp_path / "ok.wav", tone(1.0), 16000)
    rc, _, err = cli(ser_inference, capsys, "--model", exp[0], "--out", tmp_path / "out", tmp_path / "ok.wav", fifo,
                     "--no_progress")
    assert rc == 1
    assert "not a regular file" in read_table(tmp_path / "out/errors")["pipe"]


@pytest.mark.parametrize("args, fragments", [
    (["--stage", "11", "--stop_stage", "11"], ["--stage '11'", "from 1 to 10"]),
    (["--stage", "abc", "--stop_stage", "10"], ["--stage 'abc'"]),
    (["--stage", "1", "--stop_stage", "0"], ["--stop_stage '0'"]),
    (["--stage", "6", "--stop_stage", "3"], ["comes after"]),
    (["--stage", "1", "--stop_stage", "10", "--folds", "7"], ["--folds '7'", "has folds 1 2 3 4 5"]),
    (["--stage", "1", "--stop_stage", "10", "--folds", "one"], ["--folds 'one'"]),
])
def test_recipe_check_refuses_stages_and_folds_that_do_not_exist(capsys, args, fragments):
    rc, _, err = cli(recipe, capsys, "check", "--recipe", "iemocap", *args)
    one_line_error(rc, err, *fragments)


def test_recipe_check_refuses_folds_for_a_recipe_without_folds(capsys):
    rc, _, err = cli(recipe, capsys, "check", "--recipe", "msp_podcast", "--stage", "1", "--stop_stage", "10", "--folds", "1")
    one_line_error(rc, err, "no folds")


def test_ser_sh_stage_11_fails_instead_of_saying_done(tmp_path):
    p = subprocess.run(["./run.sh", "--stage", "11", "--datadir", str(tmp_path / "d"), "--dumpdir", str(tmp_path / "u"),
                        "--expdir", str(tmp_path / "e")], cwd=ROOT / "egs2/iemocap/ser1", capture_output=True, text=True,
                       env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
    assert p.returncode == 2 and "from 1 to 10" in p.stderr and "done" not in p.stdout + p.stderr


def test_jobs_for_a_fold_the_splits_do_not_have_are_refused(tmp_path, capsys):
    from espnet_ser.recipe.plan import Split, write_splits

    write_splits([Split("fold1", 1, None, "a/fold1/train", "a/fold1/dev", {"iemocap": "a/fold1/test"})], tmp_path / "splits.tsv")
    rc, _, err = cli(recipe, capsys, "jobs", "--stage", "train", "--recipe", "manifest", "--root", tmp_path, "--expdir",
                     tmp_path / "exp", "--folds", "7", "--ser_config", TINY, "--out", tmp_path / "j")
    one_line_error(rc, err, "--folds 7", "has folds 1")


@pytest.mark.parametrize("extra, fragments", [
    (["--speaker_folds", "0"], ["--speaker_folds '0'"]),
    (["--speaker_folds", "1"], ["--speaker_folds '1'"]),
    (["--speaker_folds", "-3"], ["--speaker_folds '-3'"]),
    (["--speaker_folds", "loso", "--dev_speakers", "0"], ["--dev_speakers 0"]),
    (["--scale", "5", "1"], ["--scale 5 1"]),
])
def test_manifest_sizes_that_mean_nothing_are_refused(tmp_path, capsys, extra, fragments):
    m = manifest_csv(tmp_path / "in", GOOD_ROWS)
    rc, _, err = cli(prepare_data, capsys, "manifest", m, tmp_path / "out", *extra)
    one_line_error(rc, err, *fragments)


@pytest.mark.parametrize("cmd, fragments", [
    (["msp_podcast", "MSP", "out", "--subset_size", "-3"], ["--subset_size -3"]),
    (["mini", "out", "--utts_per_dialog", "0"], ["--utts_per_dialog 0"]),
])
def test_prep_negative_sizes_are_refused(tmp_path, capsys, cmd, fragments):
    rc, _, err = cli(prepare_data, capsys, *[str(tmp_path / c) if c in ("MSP", "out") else c for c in cmd])
    one_line_error(rc, err, *fragments)


@pytest.mark.parametrize("opt", [["--window", "-5"], ["--window", "0"], ["--window", "1e9"], ["--min_seconds", "-1"]])
def test_inference_windows_and_lengths_must_be_positive(tmp_path, capsys, opt):
    sf.write(tmp_path / "x.wav", tone(1.0), 16000)
    rc, _, err = cli(ser_inference, capsys, "--model", tmp_path / "nomodel", "--out", tmp_path / "o", tmp_path / "x.wav", *opt)
    one_line_error(rc, err, opt[0])


# ================================================================ 8. every file counted
def _acted_with(tmp_path, make):
    """The fixture corpus plus what ``make`` adds to speaker m1's folder; returns the number of entries."""
    names = write_acted(tmp_path / "EMOVO", "emovo", ["f1", "f2", "m1"])
    before = set(os.listdir(tmp_path / "EMOVO/m1"))
    make(tmp_path / "EMOVO" / "m1")
    return len(names) + len(set(os.listdir(tmp_path / "EMOVO/m1")) - before)


@pytest.mark.parametrize("make, reason", [
    (lambda d: (d / "rab-m1-z9.wav").symlink_to(d / "nowhere.wav"), "missing_audio"),          # dangling link
    (lambda d: ((d / "tri-m1-z8.wav").symlink_to(d / "tri-m1-z7.wav"),
                (d / "tri-m1-z7.wav").symlink_to(d / "tri-m1-z8.wav")) and None, "missing_audio"),  # a loop of two
    (lambda d: os.mkfifo(d / "gio-m1-z7.wav"), "not_a_file"),                                  # a FIFO: never opened
    (lambda d: (d / "dis-m1-z6.wav").mkdir(), "not_a_file"),                                   # a directory
    (lambda d: (d / "neu-m1-z5.m4a").write_bytes(b"\x00\x00\x00\x18ftypM4A "), "unreadable_audio"),
])
def test_acted_corpus_entries_of_every_kind_are_counted(tmp_path, capsys, make, reason):
    total = _acted_with(tmp_path, make)
    assert cli(prepare_data, capsys, "emovo", tmp_path / "EMOVO", tmp_path / "out")[0] == 0
    d = json.loads((tmp_path / "out/prep_report.json").read_text())["drops"]
    assert d["total"] == total and d["kept"] + sum(d["dropped"].values()) == total and d["dropped"].get(reason, 0) >= 1


def test_acted_audio_in_another_container_is_kept_and_converted(tmp_path, capsys):
    total = _acted_with(tmp_path, lambda d: sf.write(d / "gio-m1-z4.ogg", tone(0.5), 16000, format="OGG"))
    assert cli(prepare_data, capsys, "emovo", tmp_path / "EMOVO", tmp_path / "out")[0] == 0
    d = json.loads((tmp_path / "out/prep_report.json").read_text())["drops"]
    assert d["total"] == total and d["converted_by"] == {"format_OGG": 1}
    assert "emovo_gio-m1-z4" in read_table(tmp_path / "out/all/wav.scp")


def test_msp_stray_files_in_the_audio_folder_are_counted(tmp_path, capsys):
    rows = [[f"MSP-PODCAST_0001_{i:04d}.wav", "NAHSD"[i % 5], "4", "4", "4", str(i % 3), "Male", "Train"] for i in range(6)]
    write_msp(tmp_path / "MSP", rows)
    sf.write(tmp_path / "MSP/Audios/MSP-PODCAST_0001_0000.mp3", tone(), 16000, format="MP3")
    (tmp_path / "MSP/Audios/notes.txt").write_text("x")
    assert cli(prepare_data, capsys, "msp_podcast", tmp_path / "MSP", tmp_path / "out")[0] == 0
    d = json.loads((tmp_path / "out/prep_report.json").read_text())["drops"]
    assert d["dropped"] == {"audio_without_label": 2} and d["total"] == 8 and d["kept"] == 6


# ================================================================ 9. one line, not a traceback
def test_label_file_that_is_a_directory(tmp_path, capsys):
    (tmp_path / "m.csv").mkdir()
    rc, _, err = cli(prepare_data, capsys, "manifest", tmp_path / "m.csv", tmp_path / "out")
    one_line_error(rc, err, "m.csv")


@pytest.mark.parametrize("data, fragments", [
    ("% header\n[1.0 - 2.0]\tSes01F_impro01_F000\tneu\t[2.0, 2.0, 2.0]\n".encode("utf-16"), ["Ses01F_impro01.txt", "not UTF-8"]),
    (bytes(range(256)) * 4, ["Ses01F_impro01.txt"]),
])
def test_binary_or_utf16_evaluation_files(tmp_path, capsys, data, fragments):
    write_iemocap(tmp_path / "IEMOCAP", {1: [("F000", "neu", (2, 3, 4))], 2: [("M000", "ang", (2, 3, 4))]}, bad=False)
    (tmp_path / "IEMOCAP/Session1/dialog/EmoEvaluation/Ses01F_impro01.txt").write_bytes(data)
    rc, _, err = cli(prepare_data, capsys, "iemocap", tmp_path / "IEMOCAP", tmp_path / "out")
    one_line_error(rc, err, *fragments)


def test_output_under_a_file_is_one_line(tmp_path, capsys):
    m = manifest_csv(tmp_path / "in", GOOD_ROWS)
    (tmp_path / "plain").write_text("x")
    rc, _, err = cli(prepare_data, capsys, "manifest", m, tmp_path / "plain/out")
    one_line_error(rc, err, "plain")


def test_full_disk_leaves_no_tmp_file(tmp_path, monkeypatch):
    import errno

    from espnet_ser import labels

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(labels.os, "replace", full)
    with pytest.raises(OSError):
        write_table(tmp_path / "wav.scp", ["a b"])
    assert list(tmp_path.iterdir()) == []


def test_os_errors_are_one_line_in_every_cli(tmp_path, capsys, monkeypatch):
    import errno

    from espnet_ser import labels

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out/x"))
    m = manifest_csv(tmp_path / "in", GOOD_ROWS)
    monkeypatch.setattr(labels.os, "replace", full)
    rc, _, err = cli(prepare_data, capsys, "manifest", m, tmp_path / "out")
    one_line_error(rc, err, "No space left on device")
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.partial"))


@pytest.mark.parametrize("text, fragments", [
    ("encoder: conformer\nencoder_conf:\n    output_sise: 4\n", ["encoder_conf", "output_sise"]),
    ("encoder: [conformer\n", ["config.yaml:", "not valid YAML"]),
    ("frontend: !!python/object/apply:os.system ['touch MARKER']\n", ["config.yaml:1", "not valid YAML"]),
    ("- a\n- b\n", ["must be a YAML mapping"]),
    ("encoder_conf: 5\n", ["encoder_conf must be a mapping"]),
])
def test_ser_train_config_mistakes_are_one_line(tmp_path, capsys, text, fragments):
    base = yaml.safe_load(TINY.read_text())
    conf = tmp_path / "config.yaml"
    try:
        extra = yaml.safe_load(text)
    except yaml.YAMLError:
        extra = None
    if isinstance(extra, dict):
        conf.write_text(yaml.safe_dump({**base, **extra}))
    else:
        conf.write_text(text)
    rc, _, err = cli(ser_train, capsys, "--config", conf, "--dry_run", "true", "--output_dir", tmp_path / "exp")
    assert "Traceback" not in err
    err = "\n".join(x for x in err.splitlines() if x.startswith("ser_train"))  # ESPnet logs its command line first
    one_line_error(rc, err, *fragments)
    assert not (tmp_path / "MARKER").exists() and not Path("MARKER").exists()


def _crafted_zip(src: Path, out: Path, config):
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(out, "w") as w:
        for name in z.namelist():
            if name != "config.yaml":
                w.writestr(name, z.read(name))
        if config is not None:
            w.writestr("config.yaml", config)
    return out


@pytest.mark.parametrize("config, fragments", [
    (None, ["config.yaml", "not found"]),
    ("", ["must be a YAML mapping"]),
    ("- neutral\n- angry\n", ["must be a YAML mapping"]),
    ("class_list: [a, b]\n", ["not a trained model's config"]),
    ("SHRINK", ["model.pth", "do not fit the model's config"]),
])
def test_crafted_zips_are_one_line(exp, tmp_path, capsys, config, fragments):
    if config == "SHRINK":  # the class list of another model: three classes for five-class weights
        conf = yaml.safe_load(zipfile.ZipFile(exp[1]).read("config.yaml"))
        conf["class_list"] = ["neutral", "angry", "happy"]
        config = yaml.safe_dump(conf)
    z = _crafted_zip(exp[1], tmp_path / "crafted.zip", config)
    sf.write(tmp_path / "x.wav", tone(1.0), 16000)
    rc, _, err = cli(ser_inference, capsys, "--model", z, "--out", tmp_path / "o", tmp_path / "x.wav")
    one_line_error(rc, err, *fragments)


def test_export_onnx_opset_5_is_one_line(exp, tmp_path, capsys):
    rc, _, err = cli(export_onnx, capsys, "--model", exp[1], "--out", tmp_path / "m.onnx", "--opset", "5")
    one_line_error(rc, err, "--opset 5")


def test_os_error_message_names_the_file():
    from espnet_ser.errors import describe

    e = PermissionError(13, "Permission denied", "/data/x.wav")
    assert describe(e) == "/data/x.wav: Permission denied"


@pytest.mark.parametrize("names, problem", [(["neutral", "sa\nd"], "whitespace"), (["neutral", "dis gust"], "whitespace"),
                                            (["neutral", "../x"], "path separator")])
def test_class_names_that_would_split_label_lines_are_refused(tmp_path, names, problem):
    """A class name is a field of emotion and probs lines: a newline or space would make a 6-line class_list
    of 5 classes or split lines; refused in one line, from a YAML list or a file."""
    from espnet_ser.class_list import load_class_list
    from espnet_ser.errors import InputError

    with pytest.raises(InputError, match=f"class_list: class .* {problem}"):
        load_class_list(names)
    (tmp_path / "classes.txt").write_text("neutral\nbad/name\n")
    with pytest.raises(InputError, match=f"{tmp_path / 'classes.txt'}: class 'bad/name' contains a path separator"):
        load_class_list(str(tmp_path / "classes.txt"))


def test_an_output_that_is_a_device_or_an_input_is_refused(tmp_path, capsys):
    """pack_model and export_onnx write through a temp file renamed over the output: /dev/null, a FIFO or their
    own input would be replaced. Refused in one line before any work."""
    import os

    from espnet_ser.bin import pack_model

    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "config.yaml").write_text("x: 1\n")
    os.mkfifo(tmp_path / "fifo")
    for out, fragment in (("/dev/null", "not a regular file"), (tmp_path / "fifo", "not a regular file"),
                          (exp / "config.yaml", "is an input of this command"), (tmp_path, "a directory")):
        rc, _, err = cli(pack_model, capsys, "--exp", exp, "--out", out)
        one_line_error(rc, err, fragment)
    rc, _, err = cli(export_onnx, capsys, "--model", exp / "config.yaml", "--out", exp / "config.yaml")
    one_line_error(rc, err, "is an input of this command")
    assert (exp / "config.yaml").read_text() == "x: 1\n" and os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


@pytest.mark.parametrize("uid, problem", [("../../evil", "path separator"), ("-x", "starts with '-'")])
def test_inference_ids_from_a_wav_scp_are_names_not_paths(tmp_path, capsys, uid, problem):
    (tmp_path / "wav.scp").write_text(f"{uid} {tmp_path / 'a.wav'}\n")
    rc, _, err = cli(ser_inference, capsys, "--model", tmp_path / "none.zip", "--wav_scp", tmp_path / "wav.scp",
                     "--out", tmp_path / "hyp")
    one_line_error(rc, err, str(tmp_path / "wav.scp"), problem)


def test_a_zip_bomb_or_a_nested_zip_is_refused_before_extraction(tmp_path, capsys):
    """A packed model unpacks to about its own size; a small zip of zeros that would unpack to 70 MiB, a member
    with a directory part, or a packed classical system is refused in one line, nothing extracted."""
    import zipfile

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("config.yaml", "class_list: [a, b]\n")
        z.writestr("model.pth", b"\0" * (70 * 2 ** 20))
    assert bomb.stat().st_size < 2 ** 20
    nested = tmp_path / "nested.zip"
    with zipfile.ZipFile(nested, "w") as z:
        z.writestr("../evil/config.yaml", "x: 1\n")
    classical = tmp_path / "classical.zip"
    with zipfile.ZipFile(classical, "w") as z:
        z.writestr("model.skops", b"PK")
    import numpy as np
    import soundfile as sf

    sf.write(tmp_path / "a.wav", (0.1 * np.sin(np.arange(16000) / 10)).astype("float32"), 16000)
    for model, fragment in ((bomb, "would unpack to 70 MiB"), (nested, "directory part"), (classical, "classical predict")):
        rc, _, err = cli(ser_inference, capsys, "--model", model, "--out", tmp_path / "hyp", tmp_path / "a.wav")
        one_line_error(rc, err, str(model), fragment)
    assert not (tmp_path / "evil").exists()
