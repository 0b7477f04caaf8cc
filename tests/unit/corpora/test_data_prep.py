"""Corpus preparation through the CLI: counts, folds, splits, bad input, combinations, the mini corpus."""

import json
import math
from pathlib import Path

import pytest

from corpus_fixtures import MSP_HEADER, write_iemocap, write_msp
from helpers import paper_table
from espnet_ser.bin.prepare_data import main as prepare
from espnet_ser.recipe.plan import make_splits
from espnet_ser.labels import read_data_dir, read_table
from espnet_ser.corpora.validate import validate_data_dir

CODES = ["neu", "ang", "hap", "sad", "exc", "fru", "dis", "xxx"]
PAPER5 = {"neu": "neutral", "ang": "angry", "hap": "happy", "sad": "sad", "dis": "disgust"}


def iemocap_items():
    """Session s: speakers F and M, 8 utterances each cycling the codes; V/A/D vary with the index."""
    out = {}
    for s in range(1, 6):
        items = []
        for i in range(16):
            spk = "FM"[i % 2]
            items.append((f"{spk}{i:03d}", CODES[(i + s) % len(CODES)], (1 + (i % 5), 2.5, 1 + (s % 5))))
        out[s] = items
    return out


@pytest.fixture
def iemocap(tmp_path):
    expected = write_iemocap(tmp_path / "IEMOCAP", iemocap_items())
    return tmp_path / "IEMOCAP", expected


def test_iemocap_counts_folds_and_drops(iemocap, tmp_path, capsys):
    corpus, expected = iemocap
    out = tmp_path / "data"
    assert prepare(["iemocap", str(corpus), str(out), "--no-drop_unlabelled"]) == 0
    printed = capsys.readouterr().out
    for reason in ("missing_audio", "unreadable_audio", "empty_audio"):
        assert f"dropped  {reason}" in printed
    assert "2 kept file(s) converted to 16 kHz mono" in printed
    report = json.loads((out / "prep_report.json").read_text())
    assert report["drops"]["dropped"] == {"missing_audio": 1, "unreadable_audio": 1, "empty_audio": 1}
    # the 8 kHz mono and the 44.1 kHz stereo file are kept for the format stage to convert, and counted
    assert report["drops"]["converted"] == 2
    assert report["drops"]["converted_by"] == {"sample_rate_8000": 1, "sample_rate_44100+channels_2": 1}
    assert report["drops"]["labels_removed"]["vad_nan_or_out_of_range"] == 1
    utts = {u.utt_id: u for u in read_data_dir(out / "all")}
    assert set(utts) == set(expected)
    # per class: what the fixture was built with; codes outside the set keep V/A/D without a class
    want = {}
    for uid, (s, code, vad) in expected.items():
        want[PAPER5.get(code, "<none>")] = want.get(PAPER5.get(code, "<none>"), 0) + 1
        u = utts[uid]
        assert u.emotion == PAPER5.get(code)
        if max(vad) <= 5:
            assert u.vad == pytest.approx(tuple((v - 1) / 4 for v in vad))
        else:  # out of range: that dimension is removed, the others stay
            assert [math.isnan(v) for v in u.vad] == [v > 5 for v in vad]
            assert [x for x, v in zip(u.vad, vad) if v <= 5] == pytest.approx([(v - 1) / 4 for v in vad if v <= 5])
    assert report["classes"] == dict(sorted(want.items()))
    assert "disgust" in " ".join(report["warnings"])
    for k in range(1, 6):
        train, dev, test = (read_data_dir(out / f"fold{k}" / p) for p in ("train", "dev", "test"))
        test_spk = {u.speaker for u in test}
        assert test_spk == {f"Ses0{k}F", f"Ses0{k}M"}
        assert not test_spk & {u.speaker for u in train + dev}
        assert not {u.speaker for u in dev} & {u.speaker for u in train}
        session_utts = sorted(uid for uid, (s, _, _) in expected.items() if s == k)
        assert sorted(u.utt_id for u in test) == session_utts  # every utterance once
        assert len(train) + len(dev) + len(test) == len(expected)
        assert report["folds"][f"fold{k}"]["test"] == len(session_utts)
        validate_data_dir(out / f"fold{k}" / "train")


def test_iemocap_speaker_and_4class_options(iemocap, tmp_path):
    corpus, expected = iemocap
    prepare(["iemocap", str(corpus), str(tmp_path / "a"), "--class_set", "4class", "--drop_unlabelled",
             "--dev_strategy", "session"])
    utts = read_data_dir(tmp_path / "a" / "all")
    assert {u.emotion for u in utts} == {"neutral", "angry", "happy", "sad"}
    n_exc = sum(code == "exc" for _, code, _ in expected.values())
    n_hap = sum(code == "hap" for _, code, _ in expected.values())
    assert sum(u.emotion == "happy" for u in utts) == n_exc + n_hap
    dev = read_data_dir(tmp_path / "a" / "fold1" / "dev")
    assert {u.speaker for u in dev} == {"Ses02F", "Ses02M"}
    assert read_table(tmp_path / "a/all/utt2spk")["Ses01F_impro01_M003"] == "Ses01M"
    # seeded: the same dev speakers twice, another seed may differ but never overlaps test
    prepare(["iemocap", str(corpus), str(tmp_path / "b"), "--seed", "3"])
    prepare(["iemocap", str(corpus), str(tmp_path / "c"), "--seed", "3"])
    assert (tmp_path / "b/fold2/dev/wav.scp").read_text() == (tmp_path / "c/fold2/dev/wav.scp").read_text()


@pytest.mark.parametrize("bad_line,match", [
    ("[1.0 - 2.0]\tSes01F_impro01_F050\tneu\t[2.0, 2.0]", "V/A/D is not three numbers"),
    ("[1.0 - 2.0]\tSes01F_impro01_F050\tneu", "malformed evaluation line"),
    ("[1.0 - 2.0]\tSes01F_impro01_F050\tzzz\t[2.0, 2.0, 2.0]", "unknown emotion code 'zzz'"),
    ("[1.0 - 2.0]\tSes01F_impro01_F000\tneu\t[2.0, 2.0, 2.0]", "already defined at"),
])
def test_iemocap_bad_label_lines_name_file_and_line(iemocap, tmp_path, bad_line, match):
    corpus, _ = iemocap
    f = corpus / "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt"
    n_lines = len(f.read_text().splitlines())
    f.write_text(f.read_text() + bad_line + "\n")
    with pytest.raises(ValueError, match=rf"Ses01F_impro01.txt:{n_lines + 1}: .*{match}"):
        prepare(["iemocap", str(corpus), str(tmp_path / "out")])


def test_empty_corpus_dirs_are_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="not an IEMOCAP directory"):
        prepare(["iemocap", str(tmp_path / "empty"), str(tmp_path / "o")])
    with pytest.raises(FileNotFoundError, match="empty or missing MSP-Podcast"):
        prepare(["msp_podcast", str(tmp_path / "empty"), str(tmp_path / "o")])


def msp_rows():
    rows = []
    codes = ["N", "A", "H", "S", "D", "X", "O", "C", "U", "F"]
    for i, split in enumerate(["Train"] * 20 + ["Development"] * 6 + ["Test1"] * 8 + ["Test2"] * 2):
        spk = "Unknown" if i % 7 == 0 else str(100 + i % 5)
        rows.append([f"MSP-PODCAST_0001_{i:04d}.wav", codes[i % 10], "4.0", f"{1 + i % 7}.0", "5.5", spk, "Female", split])
    return rows


def test_msp_counts_splits_subset_and_drops(tmp_path, capsys):
    rows = msp_rows()
    rows[3][3] = "9.0"  # out-of-range valence: kept, V/A/D value removed
    rows[4][2] = ""     # missing arousal (EmoAct)
    write_msp(tmp_path / "MSP", rows)
    (tmp_path / "MSP/Audios" / rows[5][0]).unlink()
    prepare(["msp_podcast", str(tmp_path / "MSP"), str(tmp_path / "data"), "--subset_size", "10", "--no-drop_unlabelled"])
    report = json.loads((tmp_path / "data/prep_report.json").read_text())
    assert report["drops"]["dropped"] == {"missing_audio": 1}
    assert report["splits"] == {"train": 19, "development": 6, "test1": 8, "test2": 2, "train_subset": 10}
    train = {u.utt_id: u for u in read_data_dir(tmp_path / "data/train")}
    mapped = {"N": "neutral", "A": "angry", "H": "happy", "S": "sad", "D": "disgust"}
    for r in rows[:20]:
        uid = r[0][:-4]
        if r is rows[5]:
            assert uid not in train
            continue
        assert train[uid].emotion == mapped.get(r[1])
    u3 = train[rows[3][0][:-4]]
    assert math.isnan(u3.vad[0]) and u3.vad[1] == pytest.approx(0.5)  # V A D order, 1-7 -> 0-1
    assert math.isnan(train[rows[4][0][:-4]].vad[1])
    assert read_table(tmp_path / "data/train/utt2spk")[rows[0][0][:-4]].startswith("mspunk_")
    subset = read_data_dir(tmp_path / "data/train_subset")
    assert {u.utt_id for u in subset} <= set(train)
    prepare(["msp_podcast", str(tmp_path / "MSP"), str(tmp_path / "data2"), "--subset_size", "10", "--no-drop_unlabelled"])
    assert (tmp_path / "data/train_subset/wav.scp").read_bytes() == (tmp_path / "data2/train_subset/wav.scp").read_bytes()


@pytest.mark.parametrize("mutate,match", [
    (lambda rows, header: (rows, [h for h in header if h != "EmoDom"]), "missing column.*EmoDom"),
    (lambda rows, header: (rows[:2] + [rows[1]], header), "already listed on line 3"),
    (lambda rows, header: ([rows[0][:1] + ["Q"] + rows[0][2:]], header), r":2: unknown EmoClass 'Q'"),
    (lambda rows, header: ([rows[0][:2] + ["abc"] + rows[0][3:]], header), r":2 column EmoAct: not a number"),
])
def test_msp_bad_csv_errors_name_the_file(tmp_path, mutate, match):
    rows, header = mutate(msp_rows(), list(MSP_HEADER))
    if len(header) != len(MSP_HEADER):
        rows = [r[:-1] for r in rows]
    write_msp(tmp_path / "MSP", rows, header)
    with pytest.raises(ValueError, match=f"labels_consensus.csv.*{match}"):
        prepare(["msp_podcast", str(tmp_path / "MSP"), str(tmp_path / "o")])


def test_manifest_partial_labels(tmp_path):
    import soundfile as sf
    from corpus_fixtures import tone

    (tmp_path / "a").mkdir()
    for i in range(4):
        sf.write(tmp_path / f"a/{i}.wav", tone(), 16000)
    (tmp_path / "m.csv").write_text(
        "utt_id,path,speaker,emotion,valence,arousal,split\n"
        "u0,a/0.wav,s1,happy,,,train\nu1,a/1.wav,s1,,3,5,train\nu2,a/2.wav,s2,sad,1,1,test\nu3,a/9.wav,s2,sad,,,test\n"
    )
    prepare(["manifest", str(tmp_path / "m.csv"), str(tmp_path / "out"), "--scale", "1", "5"])
    assert read_table(tmp_path / "out/train/emotion") == {"u0": "happy", "u1": "nan"}
    assert read_table(tmp_path / "out/train/vad") == {"u0": "nan nan nan", "u1": "0.500000 1.000000 nan"}
    assert list(read_table(tmp_path / "out/test/wav.scp")) == ["u2"]  # u3: missing audio, dropped
    (tmp_path / "bad.csv").write_text("utt_id,path\nx,a/0.wav\n")
    with pytest.raises(ValueError, match="bad.csv: missing column.*speaker"):
        prepare(["manifest", str(tmp_path / "bad.csv"), str(tmp_path / "o2")])


# The paper's Table 2 as printed (tests/data/paper_tables.txt): ID -> (IEMOCAP train, MSP-Podcast train)
PAPER_TABLE2 = {int(i): tuple(words[:2]) for i, words in paper_table("table2").items()}
WORD_TYPE = {"Cont.": "vad", "Disc.": "emotion"}


def test_table2_rows_train_on_exactly_the_papers_label_types(tmp_path):
    prepare(["mini", str(tmp_path / "c")])
    prepare(["iemocap", str(tmp_path / "c/IEMOCAP"), str(tmp_path / "d/iemocap")])
    prepare(["msp_podcast", str(tmp_path / "c/MSP-Podcast"), str(tmp_path / "d/msp_podcast")])
    splits = make_splits("iemocap_msp", tmp_path / "d", [5])
    assert sorted(s.row for s in splits) == list(PAPER_TABLE2)
    iem_train = read_table(tmp_path / "d/iemocap/fold5/train/wav.scp")
    msp_train = read_table(tmp_path / "d/msp_podcast/train/wav.scp")
    subset = read_table(tmp_path / "d/table2/fold5/msp_train/wav.scp")
    assert len(subset) == len(iem_train) < len(msp_train) and set(subset) <= set(msp_train)  # size-matched subset
    # IEMOCAP fold 5 tests on Session 5; MSP-Podcast on Test1
    assert {u[:5] for u in read_table(tmp_path / "d/iemocap/fold5/test/wav.scp")} == {"Ses05"}
    assert not {u[:5] for u in iem_train} & {"Ses05"}
    for s in splits:
        assert s.tests == {"iemocap": "iemocap/fold5/test", "msp": "msp_podcast/test1"}
        want = {corpus: WORD_TYPE.get(word) for corpus, word in zip(("iemocap", "msp"), PAPER_TABLE2[s.row])}
        for part, sources in (("train", {"iemocap": iem_train, "msp": subset}),
                              ("dev", {"iemocap": read_table(tmp_path / "d/iemocap/fold5/dev/wav.scp"),
                                       "msp": read_table(tmp_path / "d/msp_podcast/development/wav.scp")})):
            d = tmp_path / "d" / getattr(s, part)
            emo = read_table(d / "emotion") if (d / "emotion").exists() else {}
            vad = read_table(d / "vad") if (d / "vad").exists() else {}
            ids = read_table(d / "wav.scp")
            for corpus in ("iemocap", "msp"):
                mine = {u for u in ids if u.startswith(corpus + "-")}
                if want[corpus] is None:
                    assert not mine, (s.row, corpus)   # a corpus that contributes nothing has no utterance
                    continue
                assert {u.split("-", 1)[1] for u in mine} == set(sources[corpus]), (s.row, part, corpus)
                with_class = {u for u in mine if emo.get(u, "nan") != "nan"}
                with_vad = {u for u in mine if vad.get(u, "nan nan nan") != "nan nan nan"}
                assert with_class == (mine if want[corpus] == "emotion" else set()), (s.row, part, corpus)
                assert with_vad == (mine if want[corpus] == "vad" else set()), (s.row, part, corpus)
            validate_data_dir(d)


def test_mini_is_byte_identical_and_prepares_cleanly(tmp_path, capsys):
    for run in ("a", "b"):
        prepare(["mini", str(tmp_path / run)])
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) > 200
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files_a)
    prepare(["iemocap", str(tmp_path / "a/IEMOCAP"), str(tmp_path / "d/iemocap"), "--no-drop_unlabelled"])
    prepare(["msp_podcast", str(tmp_path / "a/MSP-Podcast"), str(tmp_path / "d/msp"), "--no-drop_unlabelled",
             "--subset_like", str(tmp_path / "d/iemocap/fold1/train")])
    for name in ("iemocap", "msp"):
        report = json.loads((tmp_path / f"d/{name}/prep_report.json").read_text())
        assert report["drops"]["dropped"] == {}
    assert sum(1 for _ in open(tmp_path / "d/msp/train_subset/wav.scp")) == sum(
        1 for _ in open(tmp_path / "d/iemocap/fold1/train/wav.scp"))


def test_both_corpora_count_a_dropped_class_and_a_removed_vad_in_one_order(tmp_path):
    """Class first, then V/A/D of the kept: an utterance dropped for its class (frustrated, outside the
    five) whose V/A/D is also out of range is counted once, as a class drop; a kept one with an
    out-of-range V/A/D counts one removed V/A/D label. Both corpora count alike."""
    sessions = {s: [("F000", "neu", (3, 3, 3)), ("M000", "sad", (2, 2, 2))] for s in range(1, 6)}  # folds need 5
    sessions[1] += [("F001", "fru", (9, 3, 3)), ("F002", "ang", (9, 3, 3))]
    write_iemocap(tmp_path / "IEMOCAP", sessions, bad=False)
    rows = [["MSP-PODCAST_0001_0000.wav", "N", "4.0", "4.0", "4.0", "100", "Female", "Train"],
            ["MSP-PODCAST_0001_0001.wav", "F", "4.0", "9.0", "4.0", "100", "Female", "Train"],
            ["MSP-PODCAST_0001_0002.wav", "A", "4.0", "9.0", "4.0", "100", "Female", "Train"]]
    write_msp(tmp_path / "MSP", rows)
    reports = {}
    for corpus, src in (("iemocap", "IEMOCAP"), ("msp_podcast", "MSP")):
        prepare([corpus, str(tmp_path / src), str(tmp_path / corpus), "--drop_unlabelled"])
        reports[corpus] = json.loads((tmp_path / corpus / "prep_report.json").read_text())["drops"]
    iem, msp = reports["iemocap"], reports["msp_podcast"]
    assert (iem["kept"], msp["kept"]) == (11, 2)
    assert iem["dropped"] == {"class_fru_not_in_set": 1} and msp["dropped"] == {"class_F_not_in_set": 1}
    assert iem["labels_removed"] == msp["labels_removed"] == {"vad_nan_or_out_of_range": 1}


def test_label_files_are_written_by_the_stages_that_change_them_and_linked_otherwise(tmp_path):
    from helpers import make_data_dir

    from espnet_ser.recipe.dump import filter_durations, format_data_dir

    src = make_data_dir(tmp_path / "src", n=9, seed=1, dur=(0.4, 1.2))  # 16 kHz mono: kept as they are
    before = {f: (src / f).read_bytes() for f in ("wav.scp", "utt2spk", "emotion", "vad")}
    dst = tmp_path / "dump"
    format_data_dir(src, dst)
    for f in before:  # format changes nothing here: every file is the source's own (one inode)
        assert (dst / f).stat().st_ino == (src / f).stat().st_ino
    report = filter_durations(dst, min_s=0.8)
    assert 0 < report["dropped"]["too_short"] < 9
    kept = read_table(dst / "wav.scp")
    for f in before:  # the filter rewrote its files whole: the source kept its content and its inode
        assert (src / f).read_bytes() == before[f]
        assert (dst / f).stat().st_ino != (src / f).stat().st_ino
        assert set(read_table(dst / f)) == set(kept)
        assert (dst / ".unfiltered" / f).stat().st_ino == (src / f).stat().st_ino


def test_refiltering_with_new_limits_never_writes_through_to_another_stages_files(tmp_path):
    # issue 29: a filter that drops nothing links the unfiltered files back; a later filter with new
    # limits wrote through the link left behind into stage 1's files and the .unfiltered backup
    from helpers import make_data_dir

    from espnet_ser.recipe.dump import filter_durations, format_data_dir

    src = make_data_dir(tmp_path / "src", n=12, seed=2, dur=(0.4, 1.2))
    files = ("wav.scp", "utt2spk", "spk2utt", "emotion", "vad")
    before = {f: (src / f).read_bytes() for f in files}
    dst = tmp_path / "dump"
    format_data_dir(src, dst)
    durations = {u: int(n) / 16000 for u, n in read_table(dst / "utt2num_samples").items()}
    for limits in ((0.0, None), (0.8, None), (0.0, None), (0.0, 1.0), (0.6, 0.9)):
        filter_durations(dst, *limits)
        for f in files:  # stage 1's files and the backup keep their bytes
            assert (src / f).read_bytes() == before[f], (limits, f)
            assert (dst / ".unfiltered" / f).read_bytes() == before[f], (limits, f)
        lo, hi = limits
        expect = sorted(u for u, d in durations.items() if d >= lo and (hi is None or d <= hi))
        assert sorted(read_table(dst / "wav.scp")) == expect, limits
        assert not list(dst.glob(".*.tmp")) and not list(src.glob(".*.tmp"))  # no link left to write through


@pytest.mark.parametrize("corpus", ["emovo", "emodb"])
def test_acted_corpora_read_their_own_file_names(tmp_path, corpus):
    import soundfile as sf

    from corpus_fixtures import tone, write_acted

    names = write_acted(tmp_path / "c", corpus, ["f1", "f2", "m1", "m2"] if corpus == "emovo" else ["03", "08", "10", "16"])
    odd = ["f1/README.wav", "f2/neu_f2_b1.wav"] if corpus == "emovo" else ["wav/3a01Fa.wav", "wav/03a01Xa.wav"]
    for rel in odd:  # names outside the corpus's scheme
        sf.write(tmp_path / "c" / rel, tone(), 16000)
    assert prepare([corpus, str(tmp_path / "c"), str(tmp_path / "d")]) == 0
    report = json.loads((tmp_path / "d/prep_report.json").read_text())["drops"]
    n_other = sum(cls is None for _, cls in names.values())
    assert report["kept"] == len(names) - n_other == 40
    assert report["dropped"][f"name_not_{corpus}"] == 2 and sum(report["dropped"].values()) == n_other + 2
    utts = {u.utt_id: u for u in read_data_dir(tmp_path / "d/all")}
    for rel, (spk, cls) in names.items():
        uid = f"{corpus}_{Path(rel).stem}"
        if cls is None:
            assert uid not in utts
        else:
            assert utts[uid].emotion == cls and utts[uid].speaker == f"{corpus}{spk}"
    # leave-one-speaker-out: four folds, each testing one speaker, dev and train speaker-disjoint from it
    for k in range(1, 5):
        parts = {p: {u.speaker for u in read_data_dir(tmp_path / f"d/fold{k}/{p}")} for p in ("train", "dev", "test")}
        assert len(parts["test"]) == 1 and len(parts["dev"]) == 1 and len(parts["train"]) == 2
        assert not (parts["test"] & parts["train"]) and not (parts["test"] & parts["dev"]) and not (parts["dev"] & parts["train"])


def test_other_rates_and_channels_pass_prep_and_stage2_as_16k_mono(iemocap, tmp_path):
    """The fixture's 8 kHz mono and 44.1 kHz stereo files (0.3 s of a 220 Hz tone) are kept at prep,
    counted as converted, and the format stage writes them as 16 kHz mono: 4800 samples, still 220 Hz."""
    import numpy as np
    import soundfile as sf
    from espnet_ser.recipe.dump import format_data_dir

    corpus, expected = iemocap
    prepare(["iemocap", str(corpus), str(tmp_path / "data"), "--no-drop_unlabelled"])
    report = format_data_dir(tmp_path / "data/all", tmp_path / "dump/all")
    assert report["converted"] == 2 and report["kept_as_is"] == len(expected) - 2
    scp = read_table(tmp_path / "dump/all/wav.scp")
    assert set(scp) == set(expected)
    for uid, path in scp.items():  # nothing downstream sees another rate or channel count
        info = sf.info(path)
        assert (info.samplerate, info.channels) == (16000, 1), uid
    n = read_table(tmp_path / "dump/all/utt2num_samples")
    for uid in ("Ses01F_impro01_M903", "Ses01F_impro01_F904"):  # 8 kHz mono, 44.1 kHz stereo
        assert Path(scp[uid]).parent == tmp_path / "dump/all/audio"
        x, fs = sf.read(scp[uid])
        assert fs == 16000 and x.ndim == 1 and len(x) == 4800 == int(n[uid])   # 0.3 s at 16 kHz
        spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
        assert abs(np.argmax(spectrum) * 16000 / len(x) - 220) < 4                # the tone is still 220 Hz
        assert np.max(np.abs(x[200:-200])) == pytest.approx(0.2, abs=0.01)        # channels averaged, not summed


@pytest.mark.parametrize("label_file,audio_dir,split_sets,want", [
    # releases 1.10-1.12: labels_consensus.csv, Development, Test1-Test3
    ("labels_consensus.csv", "Audios", ["Train"] * 5 + ["Development"] * 2 + ["Test1"] * 2 + ["Test2", "Test3"],
     {"train": 5, "development": 2, "test1": 2, "test2": 1, "test3": 1}),
    # releases 1.6 and 1.8: the release's own spelling labels_concensus.csv, Validation for the dev split
    ("labels_concensus.csv", "Audios", ["Train"] * 5 + ["Validation"] * 2 + ["Test1"] * 3 + ["Test2"],
     {"train": 5, "development": 2, "test1": 3, "test2": 1}),
    # a release without Test2/Test3
    ("labels_consensus.csv", "Audios", ["Train"] * 6 + ["Development"] * 2 + ["Test1"] * 3,
     {"train": 6, "development": 2, "test1": 3}),
    # one test set named Test, an Audio/ folder
    ("labels_concensus.csv", "Audio", ["Train"] * 6 + ["Validation"] * 2 + ["Test"] * 3,
     {"train": 6, "development": 2, "test1": 3}),
])
def test_msp_release_layouts(tmp_path, label_file, audio_dir, split_sets, want):
    rows = [[f"MSP-PODCAST_0002_{i:04d}.wav", "NAHSD"[i % 5], "4.0", "3.0", "5.0", str(200 + i % 3), "Male", split]
            for i, split in enumerate(split_sets)]
    write_msp(tmp_path / "MSP", rows, label_file=label_file, audio_dir=audio_dir)
    prepare(["msp_podcast", str(tmp_path / "MSP"), str(tmp_path / "data")])
    report = json.loads((tmp_path / "data/prep_report.json").read_text())
    assert report["splits"] == want
    assert report["release"] == {"label_file": label_file, "audio_dir": audio_dir,
                                 "split_set_values": sorted(set(split_sets))}
    for split, n in want.items():
        assert len(read_table(tmp_path / "data" / split / "wav.scp")) == n
    # the recipe reads development and test1 whatever the release calls them
    assert (tmp_path / "data/development/emotion").is_file() and (tmp_path / "data/test1/vad").is_file()


def test_msp_without_a_consensus_file_names_both_spellings(tmp_path):
    write_msp(tmp_path / "MSP", msp_rows())
    (tmp_path / "MSP/Labels/labels_consensus.csv").rename(tmp_path / "MSP/Labels/labels.csv")
    with pytest.raises(FileNotFoundError, match="labels_consensus.csv or labels_concensus.csv"):
        prepare(["msp_podcast", str(tmp_path / "MSP"), str(tmp_path / "o")])
