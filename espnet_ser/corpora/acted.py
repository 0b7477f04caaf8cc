"""Acted corpora whose labels are in their file names: EMOVO (Italian) and EmoDB (German).

Every audio file (``.wav`` or ``.flac``, anywhere under the corpus dir; the original releases and
converted copies keep the base names) is one utterance:

* EMOVO ``<emotion>-<speaker>-<sentence>``, e.g. ``dis-f1-b1``: emotions ``neu rab gio tri dis pau sor``,
  speakers ``f1 f2 f3 m1 m2 m3``.
* EmoDB ``SSTTTEV``, e.g. ``03a01Fa``: speaker (2 digits), text (3), emotion letter (``N W F T E A L``),
  version (1).

The paper's five classes are mapped (``CLASS_MAPS``); the other emotions (fear, surprise, boredom) are
dropped and counted, or kept without a class with ``drop_unlabelled=False``. A file whose name does
not follow the corpus's scheme is dropped and counted (``name_not_<corpus>``), never guessed.
Utterance ids are ``<corpus>_<base name>``. Folds are leave-one-speaker-out
(:func:`espnet_ser.corpora.folds.speaker_folds`).

Every entry under the corpus dir whose name ends in an audio suffix (``AUDIO_SUFFIXES``) is counted,
whatever it is: a dangling or looping link (``missing_audio``), a directory or FIFO (``not_a_file``), a
container soundfile cannot read (``unreadable_audio``); audio in another readable container (.ogg, .mp3)
is kept and counted as converted.
"""

import json
import re
from pathlib import Path
from typing import Dict, List, Tuple

from espnet_ser.corpora.drops import DropCounter
from espnet_ser.corpora.folds import speaker_folds, write_folds
from espnet_ser.errors import InputError, MissingInput
from espnet_ser.labels import Utterance, count_classes, write_data_dir

NAME = {
    "emovo": re.compile(r"^(?P<emotion>neu|rab|gio|tri|dis|pau|sor)-(?P<speaker>[fm][1-3])-(?P<text>[a-z]\d)$"),
    "emodb": re.compile(r"^(?P<speaker>\d\d)(?P<text>[a-z]\d\d)(?P<emotion>[NWFTEAL])(?P<version>[a-z])$"),
}
#: names counted as the corpus's audio (any of them a directory, link or FIFO is counted and dropped)
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".opus", ".aiff", ".aif", ".au", ".m4a")
CLASS_MAPS: Dict[str, Dict[str, str]] = {
    "emovo": {"neu": "neutral", "rab": "angry", "gio": "happy", "tri": "sad", "dis": "disgust"},
    "emodb": {"N": "neutral", "W": "angry", "F": "happy", "T": "sad", "E": "disgust"},
}


def load_acted(corpus_dir, corpus: str, drop_unlabelled: bool = True) -> Tuple[List[Utterance], DropCounter]:
    if corpus not in NAME:
        raise InputError(f"unknown acted corpus {corpus!r}; known: {' '.join(NAME)}")
    root = Path(corpus_dir)
    if not root.is_dir():
        raise MissingInput(f"{root}: corpus directory not found")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
    if not files:
        raise MissingInput(f"{root}: no audio files ({' '.join(AUDIO_SUFFIXES)}; is this the {corpus} directory?)")
    counter, utts, seen = DropCounter(corpus), [], {}
    for path in files:
        m = NAME[corpus].match(path.stem)
        uid = f"{corpus}_{path.stem}"
        if m is None:
            counter.drop(f"name_not_{corpus}", str(path.relative_to(root)))
            continue
        if uid in seen:
            raise InputError(f"{path}: utterance {path.stem} also at {seen[uid]} (two copies of one recording?)")
        seen[uid] = path
        emotion, keep = counter.map_class(uid, m["emotion"], CLASS_MAPS[corpus], drop_unlabelled)
        if keep and counter.admit(uid, path, emotion is not None):
            utts.append(Utterance(uid, str(path.resolve()), f"{corpus}{m['speaker']}", emotion, None,
                                  extra={"code": m["emotion"], "text": m["text"]}))
    counter.check_total(len(files))
    return utts, counter


def prepare_acted(corpus_dir, out_dir, corpus: str, drop_unlabelled: bool = True, dev_speakers: int = 1,
                  seed: int = 0) -> dict:
    """``out_dir/all`` and ``out_dir/fold{k}/{train,dev,test}`` (fold k tests the k-th speaker)."""
    utts, counter = load_acted(corpus_dir, corpus, drop_unlabelled)
    out = Path(out_dir)
    write_data_dir(utts, out / "all")
    report = {"corpus": corpus, "drops": counter.as_dict(), "classes": count_classes(utts),
              "folds": write_folds(speaker_folds(utts, dev_speakers, seed), out), "warnings": []}
    report["summary"] = counter.summary()
    (out / "prep_report.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    return report
