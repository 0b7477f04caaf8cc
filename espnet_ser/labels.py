"""The label-file contract: Kaldi-style data directories, read and written here only.

A data directory holds ``wav.scp`` (``utt path``), ``utt2spk``, ``spk2utt`` and the label files
(``espnet_ser.spec.LABEL_TYPES``): ``emotion`` (``utt class``, ``nan`` when the utterance has no class)
and ``vad`` (``utt v a d`` on a 0-1 scale, ``nan`` for a missing dimension). Every file has one line
per utterance, sorted by id, so ESPnet's loaders never miss a key. Files of a label type that no
utterance carries are not written.

Beside them, where the corpus ships its evaluators' individual labels (``ANNOTATOR_FILES``):
``emotion_votes`` (``utt class:mass class:mass ...``, the evaluators' vote mass per class of the set,
``nan`` when no evaluator named one) and ``vad_raters`` (``utt mean_v mean_a mean_d std_v std_a std_d n``
on 0-1: the mean and population std of the evaluators' ratings, and how many rated; NaN and 0 when none).
They travel with the label type they refine: a stage that drops a label type drops its file too.

- one reader of ``key value`` files (:func:`read_table`) and of the label files (:func:`read_labels`);
- one writer (:func:`write_table`: whole files, swapped in atomically, so a file linked into a later
  stage's directory is replaced there, never written through) and :func:`link_table` for a stage that
  passes a file on unchanged;
- one V/A/D scaling rule between a corpus scale ``[lo, hi]`` and 0-1 (:func:`vad_to_unit`,
  :func:`vad_from_unit`, :func:`parse_scale`).
"""

import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from espnet_ser import MISSING, VAD_DIMS
from espnet_ser.errors import InputError, MissingInput

PathLike = Union[str, Path]
#: the label types of a data dir, each in the file of that name, in this order everywhere
LABEL_TYPES = ("emotion", "vad")
#: label type -> the file of its evaluators' individual labels (optional; see the module docstring)
ANNOTATOR_FILES = {"emotion": "emotion_votes", "vad": "vad_raters"}
#: every label file a stage passes on with an utterance, in this order
LABEL_FILES = LABEL_TYPES + tuple(ANNOTATOR_FILES.values())
#: per utterance, the index of its corpus in a multi-corpus training or dev set (``utt <index>``; written by
#: :mod:`espnet_ser.recipe.mixing`): the dev set's per-corpus scores choose the best epoch
CORPUS_FILE = "corpus"
#: every per-utterance file a stage passes on with an utterance: the label files and the corpus index
UTT_FILES = LABEL_FILES + (CORPUS_FILE,)
#: data name of the per-utterance speaker statistics a ``normalize: speaker_mvn`` model reads
#: (:mod:`espnet_ser.model.speaker_mvn`; written per experiment by the recipe's stats stage, not by prep)
SPEAKER_MVN = "speaker_mvn"
#: columns of a ``vad_raters`` line
RATER_COLUMNS = 7


def name_problem(name: str) -> Optional[str]:
    """Why ``name`` cannot be an utterance id, speaker or split name (None when it can). Ids become Kaldi
    fields and file names (``dump/.../audio/<id>.wav``, ``npy/<id>.npy``), split names directory names:
    no whitespace or control characters, no path separator, no leading '.' or '-'.

    >>> name_problem("Ses01F_impro01_F000"), name_problem("../x"), name_problem("a b")
    (None, 'contains a path separator', 'contains whitespace or a control character')
    """
    if not name:
        return "is empty"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in name):
        return "contains whitespace or a control character"
    if "/" in name or "\\" in name:
        return "contains a path separator"
    if name[0] in ".-":
        return f"starts with {name[0]!r}"
    return None


def check_name(name: str, what: str, where: str) -> str:
    """``name`` when it is a usable id (:func:`name_problem`); else an error naming ``where`` (file:line)."""
    problem = name_problem(name)
    if problem:
        raise InputError(f"{where}: {what} {name!r} {problem}; ids and split names become Kaldi fields and file "
                         "names (use letters, digits, '_', '-', '.')")
    return name


def safe_child(directory: PathLike, name: str, suffix: str = "") -> Path:
    """``directory/<name><suffix>`` for an id read from a data dir; an id that would leave ``directory``
    is an error, never a path outside it."""
    check_name(name, "utterance id", str(directory))
    return Path(directory) / f"{name}{suffix}"


@dataclass
class Utterance:
    utt_id: str
    path: str
    speaker: str
    emotion: Optional[str] = None
    #: (valence, arousal, dominance) on 0-1; None or NaN for a missing dimension
    vad: Optional[Tuple[Optional[float], Optional[float], Optional[float]]] = None
    #: anything else a corpus knows (session, split, gender, original label ...)
    extra: Dict[str, str] = field(default_factory=dict)
    #: the evaluators' vote mass per class of the set (None: the corpus has none for this utterance)
    votes: Optional[Dict[str, float]] = None
    #: the evaluators' V/A/D on 0-1: ((mean v, a, d), (std v, a, d), number of raters)
    vad_raters: Optional[Tuple[Tuple[float, ...], Tuple[float, ...], int]] = None

    def has_vad(self) -> bool:
        return self.vad is not None and any(_present(v) for v in self.vad)


def _present(v) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def format_vad(vad) -> str:
    if vad is None:
        return " ".join([MISSING] * len(VAD_DIMS))
    return " ".join(f"{v:.6f}" if _present(v) else MISSING for v in vad)


def format_votes(votes: Optional[Dict[str, float]]) -> str:
    """``{"angry": 2.0, "neutral": 0.5}`` -> ``"angry:2 neutral:0.5"`` (sorted by class); None -> ``nan``."""
    if not votes:
        return MISSING
    return " ".join(f"{c}:{m:g}" for c, m in sorted(votes.items()))


def format_raters(raters) -> str:
    if raters is None:
        return " ".join([MISSING] * (RATER_COLUMNS - 1) + ["0"])
    means, stds, n = raters
    return f"{format_vad(means)} {format_vad(stds)} {n}"


def spk2utt_lines(utt2spk: Iterable[Tuple[str, str]]) -> List[str]:
    """``spk2utt`` lines (``speaker utt utt ...``, speakers sorted, each one's ids sorted) of (utt, speaker) pairs.

    >>> spk2utt_lines([("b1", "s2"), ("a2", "s1"), ("a1", "s1")])
    ['s1 a1 a2', 's2 b1']
    """
    spk2utt: Dict[str, List[str]] = {}
    for utt, spk in sorted(utt2spk):
        spk2utt.setdefault(spk, []).append(utt)
    return [f"{s} {' '.join(us)}" for s, us in sorted(spk2utt.items())]


def write_data_dir(utts: Iterable[Utterance], out_dir: Union[str, Path]) -> Path:
    """Write wav.scp, utt2spk, spk2utt and the label files of ``utts`` (sorted by id) into ``out_dir``."""
    utts = sorted(utts, key=lambda u: u.utt_id)
    ids = [u.utt_id for u in utts]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise InputError(f"duplicate utterance ids for {out_dir}: {dup[:10]}")
    for u in utts:
        check_name(u.utt_id, "utterance id", str(out_dir))
        check_name(u.speaker, f"speaker of {u.utt_id}", str(out_dir))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_table(out / "wav.scp", [f"{u.utt_id} {u.path}" for u in utts])
    write_table(out / "utt2spk", [f"{u.utt_id} {u.speaker}" for u in utts])
    write_table(out / "spk2utt", spk2utt_lines((u.utt_id, u.speaker) for u in utts))
    for name, present, fmt in (
        ("emotion", lambda u: u.emotion is not None, lambda u: u.emotion if u.emotion is not None else MISSING),
        ("vad", Utterance.has_vad, lambda u: format_vad(u.vad)),
        ("emotion_votes", lambda u: u.votes is not None, lambda u: format_votes(u.votes)),
        ("vad_raters", lambda u: u.vad_raters is not None, lambda u: format_raters(u.vad_raters)),
    ):
        path = out / name
        if any(present(u) for u in utts):
            write_table(path, [f"{u.utt_id} {fmt(u)}" for u in utts])
        elif path.exists():
            path.unlink()
    return out


def read_data_dir(data_dir: PathLike) -> List[Utterance]:
    """Read a data directory back into utterances (labels optional)."""
    d = Path(data_dir)
    wav = read_table(d / "wav.scp")
    for uid in wav:  # ids become file names in later stages: one outside the rules is refused here
        check_name(uid, "utterance id", str(d / "wav.scp"))
    spk = read_table(d / "utt2spk")
    labels = read_labels(d)
    votes = read_table(d / "emotion_votes") if (d / "emotion_votes").exists() else None
    if votes is not None:
        same_ids(labels.ids, votes, d / "wav.scp", d / "emotion_votes")
    _, _, raters = read_annotations(d, None)
    utts = []
    for i, (uid, path) in enumerate(sorted(wav.items())):
        emotion = None if labels.emotion is None else labels.emotion[i]
        vad = None if labels.vad is None or np.isnan(labels.vad[i]).all() else tuple(float(v) for v in labels.vad[i])
        u = Utterance(uid, path, spk.get(uid, uid), emotion=emotion, vad=vad)
        if votes is not None:  # {} where the line says nan: the file is kept, the line stays nan
            u.votes = vote_pairs(votes[uid], f"{d / 'emotion_votes'}: utterance {uid}")
        if raters is not None:
            r = raters[i]
            u.vad_raters = (tuple(r[:3].tolist()), tuple(r[3:6].tolist()), int(r[6]))
        utts.append(u)
    return utts


@dataclass
class Labels:
    """The label files of a data dir, in ``wav.scp``'s (sorted) utterance order."""

    ids: List[str]
    emotion: Optional[List[Optional[str]]]  # None: no emotion file; an item is None where it says nan
    vad: Optional[np.ndarray]                 # None: no vad file; (N, 3) on 0-1, NaN where missing


def read_labels(data_dir: PathLike) -> Labels:
    """The ``emotion`` and ``vad`` files of a data dir; each must list exactly the utterances of
    ``wav.scp`` (``feats.scp`` in a feature-cache dir; an error names the file and the ids), ``vad``
    lines hold three numbers or ``nan``."""
    d = Path(data_dir)
    ids, listing = _utterances(d)
    emo = vad = None
    if (d / "emotion").exists():
        t = read_table(d / "emotion")
        same_ids(ids, t, listing, d / "emotion")
        emo = [None if t[u] == MISSING else t[u] for u in ids]
    if (d / "vad").exists():
        t = read_table(d / "vad")
        same_ids(ids, t, listing, d / "vad")
        vad = float_rows(t, ids, len(VAD_DIMS), d / "vad")
    return Labels(ids, emo, vad)


def _utterances(d: Path):
    """The sorted utterance ids of a data dir and the file listing them: ``wav.scp``, or ``feats.scp`` in
    a feature-cache dir."""
    listing = d / "wav.scp" if (d / "wav.scp").exists() or not (d / "feats.scp").exists() else d / "feats.scp"
    return sorted(read_table(listing)), listing


def vote_pairs(text: str, where: str) -> Dict[str, float]:
    """A line of ``emotion_votes`` -> ``{class: mass}`` (``{}`` for ``nan``); a word that is not
    ``class:mass`` with a non-negative mass, or a repeated class, is an error naming ``where``.

    >>> vote_pairs("angry:2 neutral:0.5", "x")
    {'angry': 2.0, 'neutral': 0.5}
    """
    out: Dict[str, float] = {}
    if text.strip() == MISSING:
        return out
    for item in text.split():
        name, sep, mass = item.rpartition(":")
        try:
            m = float(mass)
        except ValueError:
            m = -1.0
        if not sep or not m >= 0 or not math.isfinite(m):
            raise InputError(f"{where}: expected class:mass pairs (mass >= 0), got {item!r}")
        if name in out:
            raise InputError(f"{where}: class {name!r} appears twice")
        out[name] = m
    return out


def parse_votes(text: str, class_list: Sequence[str], where: str) -> np.ndarray:
    """A line of ``emotion_votes`` -> the vote mass per class of ``class_list`` (NaN row for ``nan``); a
    class outside the list is an error, and so is what :func:`vote_pairs` refuses.

    >>> parse_votes("angry:2 neutral:0.5", ["neutral", "angry", "sad"], "x").tolist()
    [0.5, 2.0, 0.0]
    """
    if text.strip() == MISSING:
        return np.full(len(class_list), np.nan)
    out = np.zeros(len(class_list))
    index = {c: i for i, c in enumerate(class_list)}
    for name, m in vote_pairs(text, where).items():
        if name not in index:
            raise InputError(f"{where}: class {name!r} is not in the class list {list(class_list)}")
        out[index[name]] = m
    return out


def vote_distribution(votes: np.ndarray) -> np.ndarray:
    """Vote mass rows -> distributions (each row divided by its sum); a row without mass stays NaN.

    >>> vote_distribution(np.array([[0.5, 2.0, 0.0], [0.0, 0.0, 0.0]])).tolist()
    [[0.2, 0.8, 0.0], [nan, nan, nan]]
    """
    votes = np.asarray(votes, dtype=np.float64)
    total = np.nansum(votes, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, votes / np.where(total > 0, total, 1.0), np.nan)


def read_annotations(data_dir: PathLike, class_list: Optional[Sequence[str]]):
    """``(ids, votes, raters)`` of a data dir: ``votes`` (N, C) vote mass in ``class_list`` order (NaN
    rows where none; None without an ``emotion_votes`` file or without ``class_list``), ``raters`` (N, 7) as ``vad_raters``
    (None without the file). Both must list exactly the utterances of ``wav.scp`` (or ``feats.scp``)."""
    d = Path(data_dir)
    ids, listing = _utterances(d)
    votes = raters = None
    if class_list is not None and (d / "emotion_votes").exists():
        t = read_table(d / "emotion_votes")
        same_ids(ids, t, listing, d / "emotion_votes")
        votes = np.stack([parse_votes(t[u], class_list, f"{d / 'emotion_votes'}: utterance {u}") for u in ids]) \
            if ids else np.zeros((0, len(class_list)))
    if (d / "vad_raters").exists():
        t = read_table(d / "vad_raters")
        same_ids(ids, t, listing, d / "vad_raters")
        raters = float_rows(t, ids, RATER_COLUMNS, d / "vad_raters")
    return ids, votes, raters


def float_rows(table: Dict[str, str], ids: Sequence[str], width: int, path: PathLike) -> np.ndarray:
    """(len(ids), width) numbers of a ``key v1 ... vW`` table (``nan`` allowed), in ``ids`` order; a line
    with another count or a word that is not a number is an error naming the file and the utterance."""
    arr = np.empty((len(ids), width))
    for i, u in enumerate(ids):
        parts = table[u].split()
        if len(parts) != width:
            raise InputError(f"{path}: utterance {u}: expected {width} values, got {len(parts)}: {table[u]!r}")
        try:
            arr[i] = [float(x) for x in parts]
        except ValueError:
            raise InputError(f"{path}: utterance {u}: not numbers: {table[u]!r}") from None
    return arr


def same_ids(want: Sequence[str], have, want_name, have_name) -> None:
    """An error listing the differences when ``have`` and ``want`` hold different utterance ids."""
    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want))
    if missing or extra:
        msg = [f"{have_name} and {want_name} list different utterances"]
        if missing:
            msg.append(f"{len(missing)} missing from {have_name}: {' '.join(missing[:20])}{' ...' if len(missing) > 20 else ''}")
        if extra:
            msg.append(f"{len(extra)} not in {want_name}: {' '.join(extra[:20])}{' ...' if len(extra) > 20 else ''}")
        raise InputError("; ".join(msg))


def read_table(path: Union[str, Path]) -> Dict[str, str]:
    """``key value...`` lines -> dict; a line without a value or a repeated key is an error naming the line."""
    table: Dict[str, str] = {}
    if not Path(path).is_file():
        raise MissingInput(f"{path}: file not found" if not Path(path).exists() else f"{path}: not a regular file")
    with open(path, encoding="utf-8-sig") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            parts = line.split(maxsplit=1)
            if len(parts) != 2:
                raise InputError(f"{path}:{n}: expected 'key value', got {line!r}")
            if parts[0] in table:
                raise InputError(f"{path}:{n}: key {parts[0]!r} appears twice")
            table[parts[0]] = parts[1]
    return table


def count_classes(utts: Iterable[Utterance]) -> Dict[str, int]:
    """Utterances per class, ``<none>`` for those without one, sorted by name."""
    counts: Dict[str, int] = {}
    for u in utts:
        key = u.emotion if u.emotion is not None else "<none>"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def write_table(path: PathLike, lines: Sequence[str]) -> Path:
    """A whole text file, one line each, written beside ``path`` and swapped in: a reader never sees
    half a file, and a link to the old file (another stage's copy) keeps the old content."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)  # never open an old name: it may be a link to another stage's file
    try:
        with open(tmp, "x", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in lines))
        os.replace(tmp, path)
    except BaseException:  # a full disk or a kill leaves no half-written .tmp beside the file
        tmp.unlink(missing_ok=True)
        raise
    return path


def link_table(src: PathLike, dst: PathLike) -> Path:
    """Pass a file on unchanged to another stage's directory: a hard link (a copy across file systems).
    Safe because every writer replaces files whole (:func:`write_table`). A ``dst`` that already is
    ``src`` (one inode) is left as it is: renaming a link onto another link of the same file does
    nothing (POSIX), which would leave the temporary link behind for a later writer to write through."""
    src, dst = Path(src), Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists() and os.path.samefile(src, dst):
        return dst
    tmp = dst.with_name(f".{dst.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copy(src, tmp)
    os.replace(tmp, dst)
    return dst


def vad_to_unit(raw: Sequence[float], lo: float, hi: float) -> Tuple[Optional[Tuple[float, ...]], int]:
    """Each present value mapped from the corpus scale ``[lo, hi]`` to 0-1: ``(v - lo) / (hi - lo)``.
    NaN stays missing; a value outside the scale becomes missing. Returns the values (None when none
    remains) and how many present values were out of range.

    >>> vad_to_unit([1.0, 3.0, float("nan")], 1, 5)
    ((0.0, 0.5, nan), 0)
    >>> vad_to_unit([0.0, 6.0, float("nan")], 1, 5)
    (None, 2)
    """
    out, bad = [], 0
    for v in raw:
        if math.isnan(v):
            out.append(math.nan)
        elif v < lo or v > hi:
            out.append(math.nan)
            bad += 1
        else:
            out.append((v - lo) / (hi - lo))
    return (None if all(math.isnan(v) for v in out) else tuple(out)), bad


def vad_from_unit(vad: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """The inverse of :func:`vad_to_unit`: 0-1 values on the corpus scale ``[lo, hi]``.

    >>> vad_from_unit(np.array([0.0, 0.5, 1.0]), 1, 7).tolist()
    [1.0, 4.0, 7.0]
    """
    return lo + np.asarray(vad) * (hi - lo)


def parse_scale(scale: Optional[str]) -> Optional[Tuple[float, float]]:
    """``"1-5"`` -> (1.0, 5.0); None/"none" -> None.

    >>> parse_scale("1-7"), parse_scale("none")
    ((1.0, 7.0), None)
    """
    if scale in (None, "", "none"):
        return None
    try:
        lo, hi = (float(x) for x in scale.split("-"))
    except ValueError:
        raise InputError(f"scale must look like 1-5 or 1-7, got {scale!r}") from None
    if not hi > lo:
        raise InputError(f"scale {scale!r}: the upper end must exceed the lower end")
    return lo, hi
