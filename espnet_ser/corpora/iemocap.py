"""IEMOCAP: read the release as it is on disk and write Kaldi data dirs with leave-one-session-out folds.

Layout: ``Session{1..5}/dialog/EmoEvaluation/<dialog>.txt`` and
``Session{N}/sentences/wav/<dialog>/<utt>.wav``. An evaluation file holds one header line per
utterance, ``[start - end]<TAB>utt_id<TAB>code<TAB>[V, A, D]`` (V/A/D on 1-5), followed by annotator
lines: ``C-E2:<TAB>Anger; Frustration;<TAB>(comment)`` (an evaluator's classes) and
``A-E3:<TAB>val 2; act 4; dom  4;<TAB>()`` (an evaluator's V/A/D, 1-5). The speaker is the session plus
the gender letter of the utterance's last part (``Ses01F_impro05_M003`` -> ``Ses01M``).

Annotator labels (``emotion_votes``, ``vad_raters``; ``espnet_ser.corpora.annotators``): the external
evaluators' lines (``E1``, ``E2``, ...). The actors' own assessments (``C-F1``, ``A-M1``: the evaluator
letter is the actor's gender) are left out and counted (``self_assessments=True`` keeps them). Class
names map to codes by ``VOTE_NAMES`` (``Neutral state`` -> neu ...), then through the class set; a name
outside the set (``Frustration``, or free text after ``Other``) is counted per name.

Class sets: ``paper5`` (default; neu ang hap sad dis -> neutral angry happy sad disgust) and
``4class`` (neu ang hap+exc sad). IEMOCAP has only 2 disgust utterances, so ``paper5``'s disgust class
is nearly empty. Utterances whose code is outside the set keep their V/A/D and get no class
(``drop_unlabelled=True`` drops them instead).

Folds: ``fold{k}`` tests on session k. Its dev set holds out whole speakers from the other sessions
(``dev_strategy="speaker"``, default: ``dev_speakers`` speakers chosen with ``seed``), or a whole session
(``"session"``: session k+1, wrapping). The dev set never shares a speaker with the test set.
"""

import json
import re
from pathlib import Path
from typing import Dict, List, Tuple

from espnet_ser.errors import InputError, MissingInput
from espnet_ser.corpora.annotators import Ratings
from espnet_ser.corpora.csv_labels import read_utf8
from espnet_ser.corpora.drops import DropCounter
from espnet_ser.corpora.folds import hold_out_dev, write_folds
from espnet_ser.labels import Utterance, check_name, count_classes, write_data_dir

CODES = ("neu", "ang", "hap", "sad", "exc", "fru", "sur", "fea", "dis", "oth", "xxx")
CLASS_SETS: Dict[str, Dict[str, str]] = {
    "paper5": {"neu": "neutral", "ang": "angry", "hap": "happy", "sad": "sad", "dis": "disgust"},
    "4class": {"neu": "neutral", "ang": "angry", "hap": "happy", "exc": "happy", "sad": "sad"},
}
#: per-code counts of the full release (10,039 utterances)
FULL_RELEASE = {"neu": 1708, "ang": 1103, "sad": 1084, "hap": 595, "exc": 1041, "fru": 1849, "sur": 107,
                "fea": 40, "dis": 2, "oth": 3, "xxx": 2507}
HEADER = re.compile(
    r"^\[(?P<start>[\d.]+) - (?P<end>[\d.]+)\]\t(?P<utt>\S+)\t(?P<code>\S+)\t\[(?P<vad>[^\]]*)\]\s*$"
)
VAD_RANGE = (1.0, 5.0)


ANNOTATOR = re.compile(r"^(?P<kind>[CA])-(?P<who>[A-Z]+)(?P<num>\d*):(?P<body>.*)$")  # C-E2: Anger; ...  A-F1: val 3; ...
RATING = re.compile(r"\b(val|act|dom)\s+(-?[\d.]+)")
#: an evaluator's class name (lower case) -> IEMOCAP code
VOTE_NAMES = {"neutral state": "neu", "neutral": "neu", "anger": "ang", "angry": "ang", "happiness": "hap",
              "happy": "hap", "excited": "exc", "excitement": "exc", "sadness": "sad", "sad": "sad",
              "frustration": "fru", "frustrated": "fru", "surprise": "sur", "surprised": "sur", "fear": "fea",
              "fearful": "fea", "disgust": "dis", "disgusted": "dis", "other": "oth"}
UTT_ID = re.compile(r"\b(Ses\d\d[FM]_\S+_[FM]\d+)\b")


def parse_evaluation(path: Path):
    """Header lines ``(line, utterance id, code, (v, a, d) raw)``, label lines that name an utterance
    but do not parse ``(line, utterance id)``, and the annotator lines under each header
    (``{utterance id: [(line, match of ANNOTATOR)]}``); errors name file:line.

    Every line is accounted for: blank lines and ``%`` comments are skipped, annotator lines belong to
    the header above them; a header may carry surrounding white space; any other line is an error.
    """
    entries, unparsed, annotations = [], [], {}
    current = None
    for n, raw in enumerate(read_utf8(path).splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("%"):
            continue
        a = ANNOTATOR.match(line)
        if a:
            if current is not None:
                annotations.setdefault(current, []).append((n, a))
            continue
        m = HEADER.match(line)
        if not m:
            named = UTT_ID.search(line)
            if named and not line.startswith("["):
                unparsed.append((n, named.group(1)))  # e.g. a header that lost its '[': counted as a drop
                current = None
                continue
            raise InputError(f"{path}:{n}: malformed evaluation line: {raw.rstrip()!r} (expected "
                             "'[start - end]<TAB>utterance<TAB>code<TAB>[V, A, D]', an annotator line or a % comment)")
        code = m["code"]
        if code not in CODES:
            raise InputError(f"{path}:{n}: unknown emotion code {code!r} (known: {' '.join(CODES)})")
        try:
            vad = tuple(float(x) for x in m["vad"].split(","))
        except ValueError:
            raise InputError(f"{path}:{n}: V/A/D is not three numbers: [{m['vad']}]") from None
        if len(vad) != 3:
            raise InputError(f"{path}:{n}: V/A/D is not three numbers: [{m['vad']}]")
        entries.append((n, m["utt"], code, vad))
        current = m["utt"]
    return entries, unparsed, annotations


def annotator_ratings(lines, mapping: Dict[str, str], counter: DropCounter, path: Path,
                      self_assessments: bool = False) -> Ratings:
    """The votes and V/A/D ratings of one utterance's annotator lines (see the module docstring)."""
    r = Ratings()
    for n, a in lines:
        where = f"{path.name}:{n}"
        if a["who"] != "E" and not self_assessments:
            counter.note("self_assessment_left_out", where)
            continue
        body = re.sub(r"\([^()]*\)\s*$", "", a["body"]).strip()  # the trailing (comment)
        if a["kind"] == "C":
            names = [x.strip() for x in body.split(";") if x.strip()]
            codes = [VOTE_NAMES.get(x.split(":")[0].strip().lower()) for x in names]
            r.vote([mapping.get(c) if c else None for c in codes],
                   [c or x.lower() for c, x in zip(codes, names)], counter, where)
            if not names:
                counter.note("annotator_line_unparsed", where)
        else:
            found, vals = RATING.findall(body), {}
            for k, v in found:
                try:
                    vals[k] = float(v)
                except ValueError:  # e.g. "val 1.2.3": that dimension is left out of this rating, and counted
                    counter.note("rating_unreadable", where)
            if not found:
                counter.note("annotator_line_unparsed", where)
            if not vals:
                continue
            r.rate([vals.get(k, float("nan")) for k in ("val", "act", "dom")], *VAD_RANGE, counter, where)
    return r


def speaker_of(utt_id: str) -> str:
    """``Ses01F_impro05_M003`` -> ``Ses01M``."""
    return utt_id[:5] + utt_id.split("_")[-1][0]


def load_iemocap(corpus_dir, class_set: str = "paper5", drop_unlabelled: bool = False,
                 self_assessments: bool = False) -> Tuple[List[Utterance], DropCounter, Dict[str, int]]:
    corpus = Path(corpus_dir)
    if class_set not in CLASS_SETS:
        raise InputError(f"unknown class set {class_set!r}; choose from {sorted(CLASS_SETS)}")
    mapping = CLASS_SETS[class_set]
    files = sorted(corpus.glob("Session[1-5]/dialog/EmoEvaluation/*.txt"))
    if not files:
        raise MissingInput(f"{corpus}: no Session[1-5]/dialog/EmoEvaluation/*.txt: not an IEMOCAP directory")
    counter, codes = DropCounter("IEMOCAP"), {c: 0 for c in CODES}
    seen: Dict[str, str] = {}
    utts = []
    for path in files:
        session = int(path.parts[-4][-1])
        entries, unparsed, annotations = parse_evaluation(path)
        for n, uid in unparsed:
            if uid in seen:
                raise InputError(f"{path}:{n}: utterance {uid} already defined at {seen[uid]}")
            seen[uid] = f"{path}:{n}"
            counter.drop("label_line_unparsed", f"{uid} ({path.name}:{n})")
        for n, uid, code, raw_vad in entries:
            check_name(uid, "utterance id", f"{path}:{n}")
            if uid in seen:
                raise InputError(f"{path}:{n}: utterance {uid} already defined at {seen[uid]}")
            seen[uid] = f"{path}:{n}"
            codes[code] += 1
            emotion, vad, keep = counter.corpus_labels(uid, code, mapping, drop_unlabelled, raw_vad, *VAD_RANGE)
            if not keep:
                continue
            dialog = uid.rsplit("_", 1)[0]
            wav = corpus / f"Session{session}" / "sentences" / "wav" / dialog / f"{uid}.wav"
            if not counter.admit(uid, wav, emotion is not None or vad is not None):
                continue
            votes, raters = annotator_ratings(annotations.get(uid, []), mapping, counter, path,
                                              self_assessments).summary(*VAD_RANGE)
            utts.append(Utterance(uid, str(wav.resolve()), speaker_of(uid), emotion, vad,
                                  extra={"session": str(session), "code": code}, votes=votes, vad_raters=raters))
    for wav in sorted(corpus.glob("Session[1-5]/sentences/wav/*/*.wav")):
        if wav.stem not in seen:
            counter.drop("audio_without_label", wav.stem)
    counter.check_total(len(seen) + counter.dropped["audio_without_label"])
    return utts, counter, codes


def make_folds(utts: List[Utterance], dev_strategy: str = "speaker", dev_speakers: int = 1, seed: int = 0):
    """fold k -> (train, dev, test) lists; test = session k, dev = held-out speakers (never test ones)."""
    folds = {}
    sessions = sorted({int(u.extra["session"]) for u in utts})
    for k in sessions:
        test = [u for u in utts if int(u.extra["session"]) == k]
        rest = [u for u in utts if int(u.extra["session"]) != k]
        if dev_strategy == "speaker":
            folds[k] = hold_out_dev(k, test, rest, dev_speakers, seed)
        elif dev_strategy == "session":
            others = [s for s in sessions if s != k]
            dev_session = next((s for s in sessions if s > k), others[0])
            dev_spk = {u.speaker for u in rest if int(u.extra["session"]) == dev_session}
            folds[k] = ([u for u in rest if u.speaker not in dev_spk], [u for u in rest if u.speaker in dev_spk], test)
        else:
            raise InputError(f"unknown dev strategy {dev_strategy!r} (speaker, session)")
    return folds


def prepare_iemocap(
    corpus_dir,
    out_dir,
    class_set: str = "paper5",
    drop_unlabelled: bool = False,
    dev_strategy: str = "speaker",
    dev_speakers: int = 1,
    seed: int = 0,
) -> dict:
    """Write ``out_dir/all`` and ``out_dir/fold{k}/{train,dev,test}``; return counts (also in prep_report.json)."""
    utts, counter, codes = load_iemocap(corpus_dir, class_set, drop_unlabelled)
    out = Path(out_dir)
    write_data_dir(utts, out / "all")
    report = {"corpus": "iemocap", "class_set": class_set, "codes": codes, "drops": counter.as_dict(),
              "classes": count_classes(utts), "folds": {}, "warnings": []}
    total = sum(codes.values())
    if total >= 0.9 * sum(FULL_RELEASE.values()) and codes != FULL_RELEASE:
        report["warnings"].append(f"parsed code counts differ from the full release: {codes} vs {FULL_RELEASE}")
    if class_set == "paper5":
        report["warnings"].append(
            f"IEMOCAP has only {FULL_RELEASE['dis']} disgust utterances (here: {codes['dis']}); the disgust class is nearly empty"
        )
    report["folds"] = write_folds(make_folds(utts, dev_strategy, dev_speakers, seed), out)
    report["summary"] = counter.summary()
    (out / "prep_report.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    return report

