"""Bad input across preparation, combination and scoring: a one-line error naming file (and line), or a
counted drop with kept + dropped = total. Inference and concurrency cases are in tests/integration/test_recipe_inference.py and test_recipe_jobs.py."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from corpus_fixtures import write_iemocap, write_msp
from espnet_ser.bin import prepare_data, ser_score
from espnet_ser.inference.predictions import Predictions, write_predictions
from helpers import CLASSES, cli, make_data_dir, one_line_error

from helpers import ROOT


# ---------------------------------------------------------------- IEMOCAP
def small_iemocap(root):
    items = {s: [(f"{g}{i:03d}", ["neu", "ang", "hap", "sad"][i % 4], (2, 3, 4)) for i in range(6) for g in "FM"[i % 2]]
             for s in (1, 2, 3)}
    write_iemocap(root, items, bad=False)
    return root


def eval_file(root, s=1):
    return root / f"Session{s}/dialog/EmoEvaluation/Ses0{s}F_impro01.txt"


def prep_report(out):
    return json.loads((out / "prep_report.json").read_text())


def assert_accounted(report, total):
    d = report["drops"]
    assert d["total"] == total and d["kept"] + sum(d["dropped"].values()) == total


@pytest.mark.parametrize("edit, name", [
    (lambda t: t.replace("\n[1.0000", "\n   [1.0000"), "leading space"),
    (lambda t: "\ufeff" + t.replace("% [START", "[1.0000 - 1.5000]\tSes01F_impro01_F000\tneu\t[2.0000, 3.0000, 4.0000]\n% [START", 1)
     .replace("\n[1.0000 - 1.5000]\tSes01F_impro01_F000\tneu\t[2.0000, 3.0000, 4.0000]", "", 1), "header behind a BOM"),
    (lambda t: t.replace("\n", "\r\n"), "CRLF line ends"),
])
def test_iemocap_headers_in_other_forms_are_read(tmp_path, capsys, edit, name):
    corpus = small_iemocap(tmp_path / "IEMOCAP")
    f = eval_file(corpus)
    f.write_text(edit(f.read_text()), newline="")
    rc, out, err = cli(prepare_data, capsys, "iemocap", corpus, tmp_path / "d")
    assert rc == 0, err
    report = prep_report(tmp_path / "d")
    assert report["drops"]["kept"] == 18 and report["drops"]["dropped"] == {}, name
    assert_accounted(report, 18)


def test_iemocap_header_without_bracket_is_counted_not_lost(tmp_path, capsys):
    corpus = small_iemocap(tmp_path / "IEMOCAP")
    f = eval_file(corpus)
    f.write_text(f.read_text().replace("[1.0000 - 1.5000]", "1.0000 - 1.5000]", 1))
    rc, out, err = cli(prepare_data, capsys, "iemocap", corpus, tmp_path / "d")
    assert rc == 0, err
    report = prep_report(tmp_path / "d")
    assert report["drops"]["dropped"] == {"label_line_unparsed": 1} and report["drops"]["kept"] == 17
    assert_accounted(report, 18)
    assert "label_line_unparsed" in out and "Ses01F_impro01_F000" in out


def test_iemocap_audio_without_label_is_counted(tmp_path, capsys):
    corpus = small_iemocap(tmp_path / "IEMOCAP")
    wav_dir = corpus / "Session2/sentences/wav/Ses02F_impro01"
    (wav_dir / "Ses02F_impro01_F099.wav").write_bytes((wav_dir / "Ses02F_impro01_F000.wav").read_bytes())
    rc, out, err = cli(prepare_data, capsys, "iemocap", corpus, tmp_path / "d")
    assert rc == 0
    report = prep_report(tmp_path / "d")
    assert report["drops"]["dropped"] == {"audio_without_label": 1}
    assert_accounted(report, 19)


@pytest.mark.parametrize("edit, fragments", [
    (lambda t: t.replace("neu\t", "zzz\t", 1), ["Ses01F_impro01.txt:3", "unknown emotion code 'zzz'"]),
    (lambda t: t.replace("[2.0000, 3.0000, 4.0000]", "[2.0000, x, 4.0000]", 1), ["Ses01F_impro01.txt:3", "V/A/D is not three numbers"]),
    (lambda t: t.replace("[2.0000, 3.0000, 4.0000]", "[2.0000, 3.0000]", 1), ["Ses01F_impro01.txt:3", "not three numbers"]),
    (lambda t: t + "garbage that is no line of IEMOCAP\n", ["Ses01F_impro01.txt:", "malformed evaluation line"]),
    (lambda t: t + t.splitlines()[2] + "\n", ["already defined at", "Ses01F_impro01.txt:3"]),
])
def test_iemocap_malformed_lines_name_file_and_line(tmp_path, capsys, edit, fragments):
    corpus = small_iemocap(tmp_path / "IEMOCAP")
    f = eval_file(corpus)
    f.write_text(edit(f.read_text()))
    rc, out, err = cli(prepare_data, capsys, "iemocap", corpus, tmp_path / "d")
    one_line_error(rc, err, *fragments)
    assert not (tmp_path / "d").exists()  # nothing half-written


def test_iemocap_latin1_file_is_refused_with_file_and_line(tmp_path, capsys):
    corpus = small_iemocap(tmp_path / "IEMOCAP")
    f = eval_file(corpus, 2)
    f.write_bytes(f.read_bytes().replace(b"Neutral state", b"Neutral st\xe4te", 1))
    rc, out, err = cli(prepare_data, capsys, "iemocap", corpus, tmp_path / "d")
    one_line_error(rc, err, "Ses02F_impro01.txt:4", "not UTF-8", "iconv")


def test_iemocap_empty_dir_and_rerun_leaves_no_stale_fold(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    rc, out, err = cli(prepare_data, capsys, "iemocap", tmp_path / "empty", tmp_path / "o")
    one_line_error(rc, err, "not an IEMOCAP directory")
    corpus = small_iemocap(tmp_path / "IEMOCAP")
    assert cli(prepare_data, capsys, "iemocap", corpus, tmp_path / "d")[0] == 0
    assert (tmp_path / "d/fold3").exists()
    import shutil
    shutil.rmtree(corpus / "Session3")
    assert cli(prepare_data, capsys, "iemocap", corpus, tmp_path / "d")[0] == 0
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == [".espnet_ser_output", "all", "fold1", "fold2", "prep_report.json"]


# ---------------------------------------------------------------- MSP-Podcast
def msp(root, n=8):
    rows = [[f"MSP-PODCAST_0001_{i:04d}.wav", "NAHS"[i % 4], "4.0", "3.0", "5.0", str(100 + i % 3), "Female",
             ["Train", "Development", "Test1"][i % 3]] for i in range(n)]
    write_msp(root, rows)
    return root / "Labels/labels_consensus.csv"


@pytest.mark.parametrize("edit, fragments", [
    (lambda lines: lines[:2] + [",".join(lines[2].split(",")[:3])] + lines[3:], ["labels_consensus.csv:3", "3 fields where the header has 8"]),
    (lambda lines: lines[:2] + [lines[2] + ",extra"] + lines[3:], ["labels_consensus.csv:3", "9 fields where the header has 8"]),
    (lambda lines: [lines[0].replace("SpkrID", "Speaker")] + lines[1:], ["missing column(s) SpkrID"]),
    (lambda lines: lines[:2] + [lines[2].replace(",A,", ",Q,")] + lines[3:], ["labels_consensus.csv:3", "unknown EmoClass 'Q'"]),
    (lambda lines: lines[:2] + [lines[2].replace("Development", "Dev")] + lines[3:], ["labels_consensus.csv:3", "unknown Split_Set 'Dev'"]),
    (lambda lines: lines[:2] + [lines[2].replace(",3.0,", ",high,")] + lines[3:], ["labels_consensus.csv:3", "EmoVal", "not a number"]),
    (lambda lines: lines + [lines[1]], ["already listed on line 2"]),
])
def test_msp_malformed_rows_name_file_and_line(tmp_path, capsys, edit, fragments):
    csv_path = msp(tmp_path / "MSP")
    lines = csv_path.read_text().splitlines()
    csv_path.write_text("\n".join(edit(lines)) + "\n")
    rc, out, err = cli(prepare_data, capsys, "msp_podcast", tmp_path / "MSP", tmp_path / "d")
    one_line_error(rc, err, *fragments)


def test_msp_encodings_bom_crlf_read_latin1_refused(tmp_path, capsys):
    csv_path = msp(tmp_path / "MSP")
    csv_path.write_bytes(b"\xef\xbb\xbf" + csv_path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    rc, out, err = cli(prepare_data, capsys, "msp_podcast", tmp_path / "MSP", tmp_path / "d")
    assert rc == 0, err
    assert_accounted(prep_report(tmp_path / "d"), 8)
    csv_path.write_bytes(csv_path.read_bytes().replace(b"Female", b"F\xe9male", 1))
    rc, out, err = cli(prepare_data, capsys, "msp_podcast", tmp_path / "MSP", tmp_path / "d2")
    one_line_error(rc, err, "labels_consensus.csv:2", "not UTF-8")


def test_msp_audio_without_label_and_label_without_audio_are_counted(tmp_path, capsys):
    msp(tmp_path / "MSP")
    audios = tmp_path / "MSP/Audios"
    (audios / "MSP-PODCAST_9999_0000.wav").write_bytes((audios / "MSP-PODCAST_0001_0000.wav").read_bytes())
    (audios / "MSP-PODCAST_0001_0001.wav").unlink()
    rc, out, err = cli(prepare_data, capsys, "msp_podcast", tmp_path / "MSP", tmp_path / "d")
    assert rc == 0
    report = prep_report(tmp_path / "d")
    assert report["drops"]["dropped"] == {"audio_without_label": 1, "missing_audio": 1}
    assert_accounted(report, 9)


# ---------------------------------------------------------------- manifest and combine
def manifest(tmp_path, rows, header="utt_id,path,speaker,emotion,split"):
    make_data_dir(tmp_path / "audio", n=4)
    p = tmp_path / "m.csv"
    p.write_text(header + "\n" + "\n".join(rows) + "\n")
    return p


def test_manifest_speaker_leakage_is_an_error_unless_allowed(tmp_path, capsys):
    m = manifest(tmp_path, ["a,audio/wav/utt000.wav,s1,happy,train", "b,audio/wav/utt001.wav,s1,sad,test",
                            "c,audio/wav/utt002.wav,s2,sad,train"])
    rc, out, err = cli(prepare_data, capsys, "manifest", m, tmp_path / "d")
    one_line_error(rc, err, "m.csv", "s1 in test, train", "--allow_speaker_overlap")
    rc, out, err = cli(prepare_data, capsys, "manifest", m, tmp_path / "d", "--allow_speaker_overlap")
    assert rc == 0 and "speaker-dependent splits leak" in err
    assert_accounted(prep_report(tmp_path / "d"), 3)


@pytest.mark.parametrize("rows, header, extra, fragments", [
    (["a b,audio/wav/utt000.wav,s1,happy,train"], None, [], ["m.csv:2", "contains whitespace"]),
    (["a,audio/wav/utt000.wav,s1,happy,train"], "utt_id,speaker,emotion,split", [], ["missing column(s) path"]),
    (["a,audio/wav/utt000.wav,s1,joyful,train"], None, ["--classes", "happy", "sad"], ["m.csv:2", "'joyful'"]),
    (["a,audio/wav/utt000.wav,s1,happy,train", "a,audio/wav/utt001.wav,s1,sad,train"], None, [], ["m.csv:3", "already listed"]),
])
def test_manifest_bad_rows(tmp_path, capsys, rows, header, extra, fragments):
    m = manifest(tmp_path, rows, *( [header] if header else []))
    rc, out, err = cli(prepare_data, capsys, "manifest", m, tmp_path / "d", *extra)
    one_line_error(rc, err, *fragments)


def test_manifest_latin1_and_missing_audio_counted(tmp_path, capsys):
    m = manifest(tmp_path, ["a,audio/wav/utt000.wav,s1,happy,train", "b,audio/wav/none.wav,s2,sad,train"])
    rc, out, err = cli(prepare_data, capsys, "manifest", m, tmp_path / "d")
    assert rc == 0 and prep_report(tmp_path / "d")["drops"]["dropped"] == {"missing_audio": 1}
    assert_accounted(prep_report(tmp_path / "d"), 2)
    m.write_bytes(m.read_bytes().replace(b"happy", b"h\xe4ppy"))
    rc, out, err = cli(prepare_data, capsys, "manifest", m, tmp_path / "d2")
    one_line_error(rc, err, "m.csv:2", "not UTF-8")


def test_combine_bad_sources(tmp_path, capsys):
    d = make_data_dir(tmp_path / "x", n=3)
    rc, out, err = cli(prepare_data, capsys, "combine", tmp_path / "o", "--source", f"a:{d}")
    one_line_error(rc, err, "expected PREFIX:DIR:TYPES")
    rc, out, err = cli(prepare_data, capsys, "combine", tmp_path / "o", "--source", f"a:{d}:colour")
    one_line_error(rc, err, "label types for a must be among")
    rc, out, err = cli(prepare_data, capsys, "combine", tmp_path / "o", "--source", f"a:{tmp_path / 'nowhere'}:vad")
    one_line_error(rc, err, "nowhere/wav.scp: file not found")


# ---------------------------------------------------------------- scoring
@pytest.fixture
def scored(tmp_path):
    ref = make_data_dir(tmp_path / "d", n=10)
    ids = sorted(line.split()[0] for line in (ref / "wav.scp").read_text().splitlines())
    rng = np.random.default_rng(0)
    return ref, ids, rng.dirichlet(np.ones(5), len(ids)), rng.uniform(0, 1, (len(ids), 3))


def test_scoring_refuses_nan_predictions_or_excludes_them_counted(tmp_path, capsys, scored):
    ref, ids, probs, vad = scored
    probs[2] = np.nan
    write_predictions(Predictions(ids, list(CLASSES), probs, vad), tmp_path / "h")
    rc, out, err = cli(ser_score, capsys, "--ref", ref, "--hyp", tmp_path / "h", "--out", tmp_path / "s")
    one_line_error(rc, err, "1 utterance(s) with NaN or infinite predictions", ids[2], "--nonfinite exclude")
    rc, out, err = cli(ser_score, capsys, "--ref", ref, "--hyp", tmp_path / "h", "--out", tmp_path / "s", "--nonfinite", "exclude")
    assert rc == 0
    res = json.loads((tmp_path / "s/scores.json").read_text())
    assert res["excluded_nonfinite"] == {"count": 1, "utterances": [ids[2]]}
    assert res["n"]["ua"] == 9 and res["n"]["ccc_mean"] == 9 and res["metrics"]["n"] == 9


def test_scoring_one_nan_vad_is_an_error_not_a_two_dimension_mean(tmp_path, capsys, scored):
    ref, ids, probs, vad = scored
    vad[4, 1] = np.nan
    write_predictions(Predictions(ids, list(CLASSES), probs, vad), tmp_path / "h")
    rc, out, err = cli(ser_score, capsys, "--ref", ref, "--hyp", tmp_path / "h", "--out", tmp_path / "s")
    one_line_error(rc, err, ids[4])


def test_scoring_unknown_hypothesis_class_and_bad_numbers(tmp_path, capsys, scored):
    ref, ids, probs, vad = scored
    write_predictions(Predictions(ids, list(CLASSES), probs, vad), tmp_path / "h")
    emo = tmp_path / "h/emotion"
    emo.write_text(emo.read_text().replace(emo.read_text().split()[1], "ecstatic", 1))
    rc, out, err = cli(ser_score, capsys, "--ref", ref, "--hyp", tmp_path / "h", "--out", tmp_path / "s")
    one_line_error(rc, err, "emotion", "not in", "ecstatic")
    write_predictions(Predictions(ids, list(CLASSES), probs, vad), tmp_path / "h2")
    p = tmp_path / "h2/probs"
    p.write_text(p.read_text().replace(p.read_text().split()[1], "abc", 1))
    rc, out, err = cli(ser_score, capsys, "--ref", ref, "--hyp", tmp_path / "h2", "--out", tmp_path / "s")
    one_line_error(rc, err, "probs", "not numbers")


def test_scoring_missing_dirs_and_other_utterances(tmp_path, capsys, scored):
    ref, ids, probs, vad = scored
    rc, out, err = cli(ser_score, capsys, "--ref", tmp_path / "nope", "--hyp", tmp_path / "h", "--out", tmp_path / "s")
    one_line_error(rc, err, "nope/wav.scp: file not found")
    write_predictions(Predictions(ids[1:], list(CLASSES), probs[1:], vad[1:]), tmp_path / "h")
    rc, out, err = cli(ser_score, capsys, "--ref", ref, "--hyp", tmp_path / "h", "--out", tmp_path / "s")
    one_line_error(rc, err, "1 missing from the predictions", ids[0])
    rc, out, err = cli(ser_score, capsys, "--ref", ref, "--hyp", tmp_path / "empty", "--out", tmp_path / "s")
    one_line_error(rc, err, "not a prediction directory")


# ---------------------------------------------------------------- the real command line
def test_python_m_prints_one_line_and_debug_shows_the_traceback(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "espnet_ser.bin.ser_score", "--ref", str(tmp_path / "x"), "--hyp", str(tmp_path), "--out", str(tmp_path)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr
    assert p.stderr.startswith("ser_score: error: ") and "x/wav.scp: file not found" in p.stderr
    p = subprocess.run(cmd + ["--debug"], capture_output=True, text=True, env=env)
    assert p.returncode == 1 and "Traceback" in p.stderr and "MissingInput" in p.stderr


def test_ser_train_option_error_is_one_line(tmp_path, capsys):
    """A bad model option reaches the user as one line from ser_train too, not as a traceback."""
    from espnet_ser.bin import ser_train

    rc, out, err = cli(ser_train, capsys, "--config", ROOT / "conf/tuning/train_ser_tiny_fbank.yaml", "--output_dir",
                       tmp_path / "o", "--dry_run", "true", "--model_conf", "class_targets=bogus")
    assert "Traceback" not in err
    err = "\n".join(x for x in err.splitlines() if x.startswith("ser_train"))  # ESPnet logs its config first
    one_line_error(rc, err, "ser_train: error: model_conf class_targets must be one of", "'bogus'")
