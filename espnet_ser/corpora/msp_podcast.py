"""MSP-Podcast: ``Labels/labels_consensus.csv`` + ``Audios/<FileName>`` -> one Kaldi data dir per split.

Columns ``FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set``; V/A/D on 1-7 (written as
V A D, i.e. EmoVal EmoAct EmoDom, on 0-1). Class codes A S H U F D C N O X; the default mapping keeps
N A H S D as neutral angry happy sad disgust. Other codes (U F C O X) keep their V/A/D and get no
class (``drop_unlabelled=True`` drops them). ``SpkrID`` ``Unknown`` is allowed: such an utterance is its
own speaker (as Kaldi does for unknown speakers).

Release layouts (``LABEL_FILES``, ``AUDIO_DIRS``, ``SPLIT_NAMES``; public code shows each): the consensus file is
``labels_consensus.csv`` (releases 1.10-1.12) or ``labels_concensus.csv`` (1.6, 1.8: the release's own
spelling); the audio folder is ``Audios/`` (``Audio/`` is read too). ``Split_Set`` values name the
splits: ``Train``, ``Development`` (``Validation`` in early releases), ``Test1``, ``Test2``, ``Test3``
(``Test`` in releases with one test set, read as test1); a release without Test2/Test3 simply has no
such dirs. Data dirs are named by ``SPLIT_NAMES`` (train, development, test1, test2, test3), whatever
the release calls them; the prep report records which file and spellings were read.

Annotator labels (``emotion_votes``, ``vad_raters``; ``espnet_ser.corpora.annotators``) come from
``Labels/labels_detailed.csv`` when the release has it (one row per evaluator and utterance), in either
layout: ``FileName,EmoDetail`` (v1.11: ``WORKER...; Angry; Disgusted,Frustrated; A:4.0; V:2.0; D:5.0;``)
or columns ``FileName,EmoClass_Major,EmoAct,EmoVal,EmoDom`` (other releases). The vote is the
evaluator's primary class (``VOTE_NAMES`` -> code -> the class map; secondary classes are not votes);
a name outside the class map is counted per name, a row of an utterance not in the consensus file is
counted and left out.

``subset_size`` adds ``train_subset``: a seeded random subset of train of that size (the paper matches
it to an IEMOCAP fold's training set, section 3.6).
"""

import csv
import json
import random
import re
from pathlib import Path
from typing import Dict, List, Optional

from espnet_ser.errors import InputError, MissingInput
from espnet_ser.corpora.annotators import Ratings
from espnet_ser.corpora.csv_labels import parse_float, read_csv_rows
from espnet_ser.corpora.drops import DropCounter
from espnet_ser.labels import Utterance, check_name, count_classes, write_data_dir

COLUMNS = ("FileName", "EmoClass", "EmoAct", "EmoVal", "EmoDom", "SpkrID", "Gender", "Split_Set")
CODES = {"A": "angry", "S": "sad", "H": "happy", "U": "surprise", "F": "fear", "D": "disgust",
         "C": "contempt", "N": "neutral", "O": "other", "X": "no_agreement"}
DEFAULT_MAP = {"N": "neutral", "A": "angry", "H": "happy", "S": "sad", "D": "disgust"}
#: ``Split_Set`` value (case-insensitive) -> data dir name, over the releases
SPLIT_NAMES = {"train": "train", "development": "development", "validation": "development",
               "test1": "test1", "test": "test1", "test2": "test2", "test3": "test3"}
#: the consensus label file's names over the releases (first found is read)
LABEL_FILES = ("labels_consensus.csv", "labels_concensus.csv")
AUDIO_DIRS = ("Audios", "Audio")
VAD_RANGE = (1.0, 7.0)
#: an evaluator's primary class name (lower case, before any '-' or ':') -> code
VOTE_NAMES = {"angry": "A", "anger": "A", "sad": "S", "sadness": "S", "happy": "H", "happiness": "H",
              "surprise": "U", "surprised": "U", "fear": "F", "disgust": "D", "disgusted": "D",
              "contempt": "C", "neutral": "N", "other": "O"}
DETAIL = re.compile(r"^\s*(?P<worker>[^;]*);\s*(?P<primary>[^;]*);\s*(?P<secondary>[^;]*);\s*A:\s*(?P<a>[^;]*);"
                    r"\s*V:\s*(?P<v>[^;]*);\s*D:\s*(?P<d>[^;]*);?\s*$")


def load_detailed(path: Path, class_map: Dict[str, str], known: Dict[str, int], counter: DropCounter) -> Dict[str, Ratings]:
    """Per utterance, the evaluators' primary-class votes and V/A/D ratings of ``labels_detailed.csv``
    (either layout; see the module docstring). ``known``: the consensus file's utterances."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f), [])
    layout = "detail" if "EmoDetail" in header else "columns"
    required = ("FileName", "EmoDetail") if layout == "detail" else ("FileName", "EmoClass_Major", "EmoAct", "EmoVal", "EmoDom")
    out: Dict[str, Ratings] = {}
    for n, row in read_csv_rows(path, required):
        where = f"{path.name}:{n}"
        uid = row["FileName"].strip().rsplit(".", 1)[0]
        if uid not in known:
            counter.note("detailed_row_of_unknown_utterance", where)
            continue
        if layout == "detail":
            m = DETAIL.match(row["EmoDetail"])
            if not m:
                raise InputError(f"{path}:{n}: EmoDetail is not 'worker; primary; secondary; A:x; V:x; D:x;': "
                                 f"{row['EmoDetail']!r}")
            primary, raw = m["primary"], [m["v"], m["a"], m["d"]]
        else:
            primary, raw = row["EmoClass_Major"], [row["EmoVal"], row["EmoAct"], row["EmoDom"]]
        r = out.setdefault(uid, Ratings())
        name = primary.strip()
        if name:
            code = VOTE_NAMES.get(re.split(r"[-:]", name, maxsplit=1)[0].strip().lower())
            r.vote([class_map.get(code) if code else None], [CODES.get(code, name.lower())], counter, where)
        r.rate([parse_float(x, f"{path}:{n}") for x in raw], *VAD_RANGE, counter, where)
    return out


def release_files(corpus: Path):
    """(consensus label file, audio dir) of a release, whichever of the known names it uses."""
    found = [corpus / "Labels" / name for name in LABEL_FILES if (corpus / "Labels" / name).is_file()]
    if not found:
        raise MissingInput(f"{corpus}/Labels: no consensus label file ({' or '.join(LABEL_FILES)}): "
                           "is this an MSP-Podcast release?")
    audio = next((corpus / d for d in AUDIO_DIRS if (corpus / d).is_dir()), corpus / AUDIO_DIRS[0])
    return found[0], audio


def load_msp_podcast(corpus_dir, class_map: Optional[Dict[str, str]] = None, drop_unlabelled: bool = False):
    corpus = Path(corpus_dir)
    if not corpus.is_dir() or not any(corpus.iterdir()):
        raise MissingInput(f"{corpus}: empty or missing MSP-Podcast directory")
    class_map = DEFAULT_MAP if class_map is None else class_map
    labels, audio_dir = release_files(corpus)
    counter = DropCounter("MSP-Podcast")
    seen: Dict[str, int] = {}
    listed = set()
    utts: List[Utterance] = []
    for n, row in read_csv_rows(labels, COLUMNS):
        where = f"{labels}:{n}"
        name = row["FileName"].strip()
        if not name:
            raise InputError(f"{where}: empty FileName")
        uid = check_name(name.rsplit(".", 1)[0], "FileName", where)
        if uid in seen:
            raise InputError(f"{where}: utterance {uid} already listed on line {seen[uid]}")
        seen[uid] = n
        listed.add(name)
        code = row["EmoClass"].strip()
        if code not in CODES:
            raise InputError(f"{where}: unknown EmoClass {code!r} (known: {' '.join(CODES)})")
        split = SPLIT_NAMES.get(row["Split_Set"].strip().lower())
        if split is None:
            raise InputError(f"{where}: unknown Split_Set {row['Split_Set'].strip()!r} "
                             f"(known, any case: {' '.join(SPLIT_NAMES)})")
        raw = [parse_float(row[c], f"{where} column {c}") for c in ("EmoVal", "EmoAct", "EmoDom")]
        emotion, vad, keep = counter.corpus_labels(uid, code, class_map, drop_unlabelled, raw, *VAD_RANGE)
        if not keep:
            continue
        wav = audio_dir / name
        if not counter.admit(uid, wav, emotion is not None or vad is not None):
            continue
        spk = row["SpkrID"].strip()
        speaker = f"msp{spk}" if spk and spk.lower() != "unknown" else f"mspunk_{uid}"
        utts.append(Utterance(uid, str(wav.resolve()), speaker, emotion, vad,
                              extra={"split": split, "code": code, "gender": row["Gender"].strip(),
                                     "split_set": row["Split_Set"].strip()}))
    detailed = corpus / "Labels" / "labels_detailed.csv"
    if detailed.is_file():
        ratings = load_detailed(detailed, class_map, seen, counter)
        for u in utts:
            u.votes, u.vad_raters = ratings.get(u.utt_id, Ratings()).summary(*VAD_RANGE)
    # every entry of the audio folder that no label line names (stray .mp3, a left-over copy ...) is counted
    audio_only = sorted(p.name for p in audio_dir.iterdir() if p.name not in listed) if audio_dir.is_dir() else []
    for uid in audio_only:
        counter.drop("audio_without_label", uid)
    counter.check_total(len(seen) + len(audio_only))
    release = {"label_file": labels.name, "audio_dir": audio_dir.name,
               "split_set_values": sorted({u.extra["split_set"] for u in utts})}
    return utts, counter, release


def prepare_msp_podcast(
    corpus_dir, out_dir, class_map: Optional[Dict[str, str]] = None, drop_unlabelled: bool = False,
    subset_size: Optional[int] = None, seed: int = 0,
) -> dict:
    utts, counter, release = load_msp_podcast(corpus_dir, class_map, drop_unlabelled)
    out = Path(out_dir)
    report = {"corpus": "msp_podcast", "drops": counter.as_dict(), "splits": {}, "classes": {}, "release": release}
    for split in sorted({u.extra["split"] for u in utts}):
        part = [u for u in utts if u.extra["split"] == split]
        write_data_dir(part, out / split)
        report["splits"][split] = len(part)
        report["classes"][split] = count_classes(part)
    if subset_size is not None:
        train = sorted((u for u in utts if u.extra["split"] == "train"), key=lambda u: u.utt_id)
        if subset_size > len(train):
            raise InputError(f"subset of {subset_size} asked, but train has only {len(train)} utterances")
        subset = random.Random(seed).sample(train, subset_size)
        write_data_dir(subset, out / "train_subset")
        report["splits"]["train_subset"] = len(subset)
    report["summary"] = counter.summary()
    (out / "prep_report.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    return report

