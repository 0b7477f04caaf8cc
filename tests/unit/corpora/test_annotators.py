"""Annotator labels in prep: vote distributions and rating statistics against hand-computed values,
from fixtures in each corpus's own format (IEMOCAP EmoEvaluation lines, MSP-Podcast labels_detailed.csv
in both layouts); unmapped votes are counted; the files travel through combine and the dump stages."""

import csv
import json
import math

import numpy as np
import pytest
import soundfile as sf

from corpus_fixtures import tone, write_msp
from espnet_ser.bin.prepare_data import main as prepare
from espnet_ser.labels import read_annotations, read_table, vote_distribution

IEMOCAP_LINES = """% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]

[1.0000 - 2.0000]\tSes01F_impro01_F000\tang\t[1.5000, 4.5000, 4.5000]
C-E1:\tAnger;\t()
C-E2:\tAnger; Frustration;\t(annoyed)
C-E3:\tNeutral state;\t()
C-F1:\tAnger;\t()
A-E1:\tval 2; act 4; dom  4;\t()
A-E2:\tval 1; act 5; dom  5;\t(threatening)
A-F1:\tval 1; act 5; dom  5;\t()

[3.0000 - 4.0000]\tSes01F_impro01_M001\tsad\t[2.0000, 2.0000, 2.0000]
C-E1:\tSadness;\t()
C-E2:\tOther;\t(tired)
C-E3:\tSadness;\t()
A-E1:\tval 2; act 2;\t()

[5.0000 - 6.0000]\tSes01F_impro01_F002\tneu\t[3.0000, 3.0000, 3.0000]
A-E1:\tval 1.2.3; act 4;\t()
"""


@pytest.fixture
def iemocap(tmp_path):
    """Session 1 as above; sessions 2 and 3 (so that folds have training speakers) without annotator lines."""
    root = tmp_path / "IEMOCAP"
    for s in (1, 2, 3):
        d = root / f"Session{s}/dialog/EmoEvaluation"
        d.mkdir(parents=True)
        text = IEMOCAP_LINES.replace("Ses01", f"Ses0{s}") if s == 1 else IEMOCAP_LINES.split("\n\n")[0] + "\n\n" + \
            f"[1.0 - 2.0]\tSes0{s}F_impro01_F000\tneu\t[3.0, 3.0, 3.0]\n[3.0 - 4.0]\tSes0{s}F_impro01_M001\tsad\t[2.0, 2.0, 2.0]\n"
        (d / f"Ses0{s}F_impro01.txt").write_text(text)
        w = root / f"Session{s}/sentences/wav/Ses0{s}F_impro01"
        w.mkdir(parents=True)
        for u in (("F000", "M001", "F002") if s == 1 else ("F000", "M001")):
            sf.write(w / f"Ses0{s}F_impro01_{u}.wav", tone(), 16000)
    return root


def test_iemocap_votes_and_rater_statistics(iemocap, tmp_path, capsys):
    out = tmp_path / "data"
    assert prepare(["iemocap", str(iemocap), str(out)]) == 0
    votes = {u: v for u, v in read_table(out / "all/emotion_votes").items() if u.startswith("Ses01")}
    assert {v for u, v in read_table(out / "all/emotion_votes").items() if not u.startswith("Ses01")} == {"nan"}
    # F000: E1 anger 1; E2 anger 1/2 + frustration 1/2 (outside the set); E3 neutral 1; F1 is the actor's own
    assert votes == {"Ses01F_impro01_F000": "angry:1.5 neutral:1", "Ses01F_impro01_M001": "sad:2",
                     "Ses01F_impro01_F002": "nan"}
    _, mass, raters = read_annotations(out / "fold1/test", ["neutral", "angry", "happy", "sad", "disgust"])
    ids = sorted(votes)  # F000, F002, M001
    assert np.allclose(vote_distribution(mass)[0], [0.4, 0.6, 0, 0, 0])
    # F000 raters E1 (2, 4, 4) and E2 (1, 5, 5) on 1-5 -> 0-1: V (0.25, 0), A and D (0.75, 1)
    assert np.allclose(raters[0], [0.125, 0.875, 0.875, 0.125, 0.125, 0.125, 2])
    # F002: one rating line whose valence is unreadable (counted): arousal 4 -> 0.75 from one rater
    assert np.allclose(raters[1][[1, 4, 6]], [0.75, 0, 1]) and np.isnan(raters[1][[0, 2, 3, 5]]).all()
    assert np.allclose(raters[2][[0, 1, 3, 4, 6]], [0.25, 0.25, 0, 0, 1]) and np.isnan(raters[2][[2, 5]]).all()
    assert ids[0] == "Ses01F_impro01_F000"
    report = json.loads((out / "prep_report.json").read_text())["drops"]["annotator_items_left_out"]
    assert report == {"self_assessment_left_out": 2, "vote_unmapped:fru": 1, "vote_unmapped:oth": 1, "rating_unreadable": 1}
    assert "vote_unmapped:fru" in capsys.readouterr().out
    # the fold dirs carry the files too, one line per utterance
    assert set(read_table(out / "fold1/test/emotion_votes")) == set(read_table(out / "fold1/test/wav.scp"))


DETAIL_ROWS = [  # (utterance, worker, primary, secondary, A, V, D)
    ("MSP-PODCAST_0001_0001.wav", "WORKER00000001", "Angry", "Disgusted,Frustrated", 6, 2, 5),
    ("MSP-PODCAST_0001_0001.wav", "WORKER00000002", "Angry", "", 5, 1, 6),
    ("MSP-PODCAST_0001_0001.wav", "WORKER00000003", "Contempt", "", 4, 3, 4),
    ("MSP-PODCAST_0001_0001.wav", "WORKER00000004", "Other-Annoyed", "", 5, 2, 5),
    ("MSP-PODCAST_0001_0002.wav", "WORKER00000001", "Neutral", "", 4, 4, 4),
    ("MSP-PODCAST_0001_0002.wav", "WORKER00000005", "Sad", "", 2, 3, 3),
    ("MSP-PODCAST_0009_0009.wav", "WORKER00000005", "Sad", "", 2, 3, 3),   # not in the consensus file
]


def write_detailed(root, layout):
    with open(root / "Labels/labels_detailed.csv", "w", newline="") as f:
        w = csv.writer(f)
        if layout == "detail":
            w.writerow(["FileName", "EmoDetail"])
            w.writerows([(u, f"{wk}; {p}; {s}; A:{a:.6f}; V:{v:.6f}; D:{d:.6f};") for u, wk, p, s, a, v, d in DETAIL_ROWS])
        else:
            w.writerow(["FileName", "WorkerID", "EmoClass_Major", "EmoClass_Second", "EmoAct", "EmoVal", "EmoDom"])
            w.writerows([(u, wk, p, s, a, v, d) for u, wk, p, s, a, v, d in DETAIL_ROWS])


@pytest.mark.parametrize("layout", ["detail", "columns"])
def test_msp_votes_and_rater_statistics(tmp_path, layout):
    root = tmp_path / "MSP"
    write_msp(root, [["MSP-PODCAST_0001_0001.wav", "A", "5.0", "2.0", "5.0", "1", "Female", "Test1"],
                     ["MSP-PODCAST_0001_0002.wav", "N", "3.0", "3.5", "3.5", "1", "Female", "Test1"],
                     ["MSP-PODCAST_0001_0003.wav", "S", "2.0", "2.0", "3.0", "2", "Male", "Test1"]])
    write_detailed(root, layout)
    out = tmp_path / "data"
    assert prepare(["msp_podcast", str(root), str(out)]) == 0
    votes = read_table(out / "test1/emotion_votes")
    assert votes == {"MSP-PODCAST_0001_0001": "angry:2", "MSP-PODCAST_0001_0002": "neutral:1 sad:1",
                     "MSP-PODCAST_0001_0003": "nan"}
    _, _, raters = read_annotations(out / "test1", None)
    s = math.sqrt(1 / 72)  # four ratings at 0, 1/6, 1/6, 2/6 (and 3/6 4/6 4/6 5/6): std sqrt(2 / 36 / 4)
    assert np.allclose(raters[0], [1 / 6, 4 / 6, 4 / 6, s, s, s, 4])
    assert np.allclose(raters[1], [2.5 / 6, 2 / 6, 2.5 / 6, 0.5 / 6, 1 / 6, 0.5 / 6, 2])  # V (4, 3) A (4, 2) D (4, 3)
    assert np.isnan(raters[2][:6]).all() and raters[2][6] == 0
    left_out = json.loads((out / "prep_report.json").read_text())["drops"]["annotator_items_left_out"]
    assert left_out == {"vote_unmapped:contempt": 1, "vote_unmapped:other": 1, "detailed_row_of_unknown_utterance": 1}


def test_corpus_without_annotator_labels_writes_no_annotator_files(tmp_path):
    root = tmp_path / "MSP"
    write_msp(root, [["MSP-PODCAST_0001_0001.wav", "A", "5.0", "2.0", "5.0", "1", "Female", "Test1"]])
    assert prepare(["msp_podcast", str(root), str(tmp_path / "data")]) == 0
    assert not (tmp_path / "data/test1/emotion_votes").exists() and not (tmp_path / "data/test1/vad_raters").exists()


def test_a_bad_emotion_votes_line_names_the_file_and_utterance(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "wav.scp").write_text("u1 a.wav\nu2 b.wav\n")
    (d / "emotion_votes").write_text("u1 angry:2\nu2 angry:-1\n")
    with pytest.raises(Exception, match=r"emotion_votes: utterance u2: expected class:mass"):
        read_annotations(d, ["angry"])
    (d / "emotion_votes").write_text("u1 angry:2\nu2 joy:1\n")
    with pytest.raises(Exception, match=r"utterance u2: class 'joy' is not in the class list"):
        read_annotations(d, ["angry"])


def test_combine_keeps_votes_with_classes_and_raters_with_vad(iemocap, tmp_path):
    out = tmp_path / "data"
    prepare(["iemocap", str(iemocap), str(out)])
    assert prepare(["combine", "--source", f"iem:{out / 'all'}:emotion", str(tmp_path / "c")]) == 0
    assert (tmp_path / "c/emotion_votes").exists() and not (tmp_path / "c/vad_raters").exists()
    assert read_table(tmp_path / "c/emotion_votes")["iem-Ses01F_impro01_F000"] == "angry:1.5 neutral:1"


def test_mini_corpus_carries_disagreement_in_both_formats(tmp_path):
    """The demo corpus's evaluators disagree on a share of the utterances, in both corpora's formats."""
    prepare(["mini", str(tmp_path / "m")])
    for corpus, sub, raters in (("iemocap", "all", 4), ("msp_podcast", "train", 5)):
        src = tmp_path / "m" / ("IEMOCAP" if corpus == "iemocap" else "MSP-Podcast")
        assert prepare([corpus, str(src), str(tmp_path / corpus)]) == 0
        _, votes, rat = read_annotations(tmp_path / corpus / sub, ["neutral", "angry", "happy", "sad", "disgust"])
        split = ((votes > 0).sum(axis=1) > 1).mean()
        assert 0.1 < split < 0.7, (corpus, split)          # some, not all, utterances split the vote
        assert set(rat[:, 6]) == {raters}
        assert (rat[:, 3:6] > 0).any(axis=1).mean() > 0.3   # the raters' V/A/D scatter
