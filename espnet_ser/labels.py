"""Kaldi-style data directories: the files every ESPnet recipe reads.

A data directory holds ``wav.scp`` (``utt path``), ``utt2spk``, ``spk2utt`` and the label files
``emotion`` (``utt class``, ``nan`` when the utterance has no class) and ``vad`` (``utt v a d`` on a
0-1 scale, ``nan`` for a missing dimension). Every file has one line per utterance, sorted by id,
so ESPnet's loaders never miss a key. Files of a label type that no utterance carries are not written.
"""

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

from espnet_ser.errors import InputError, MissingInput
from espnet_ser import MISSING, VAD_DIMS


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

    def has_vad(self) -> bool:
        return self.vad is not None and any(_present(v) for v in self.vad)


def _present(v) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def format_vad(vad) -> str:
    if vad is None:
        return " ".join([MISSING] * len(VAD_DIMS))
    return " ".join(f"{v:.6f}" if _present(v) else MISSING for v in vad)


def write_data_dir(utts: Iterable[Utterance], out_dir: Union[str, Path]) -> Path:
    """Write wav.scp, utt2spk, spk2utt and the label files of ``utts`` (sorted by id) into ``out_dir``."""
    utts = sorted(utts, key=lambda u: u.utt_id)
    ids = [u.utt_id for u in utts]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise InputError(f"duplicate utterance ids for {out_dir}: {dup[:10]}")
    for u in utts:
        if any(c.isspace() for c in u.utt_id) or any(c.isspace() for c in u.speaker):
            raise InputError(f"utterance id and speaker must not contain spaces: {u.utt_id!r} {u.speaker!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _write(out / "wav.scp", [f"{u.utt_id} {u.path}" for u in utts])
    _write(out / "utt2spk", [f"{u.utt_id} {u.speaker}" for u in utts])
    spk2utt: Dict[str, List[str]] = {}
    for u in utts:
        spk2utt.setdefault(u.speaker, []).append(u.utt_id)
    _write(out / "spk2utt", [f"{s} {' '.join(us)}" for s, us in sorted(spk2utt.items())])
    for name, present, fmt in (
        ("emotion", lambda u: u.emotion is not None, lambda u: u.emotion if u.emotion is not None else MISSING),
        ("vad", Utterance.has_vad, lambda u: format_vad(u.vad)),
    ):
        path = out / name
        if any(present(u) for u in utts):
            _write(path, [f"{u.utt_id} {fmt(u)}" for u in utts])
        elif path.exists():
            path.unlink()
    return out


def read_data_dir(data_dir: Union[str, Path]) -> List[Utterance]:
    """Read a data directory back into utterances (labels optional)."""
    d = Path(data_dir)
    wav = read_table(d / "wav.scp")
    spk = read_table(d / "utt2spk")
    emo = read_table(d / "emotion") if (d / "emotion").exists() else {}
    vad = read_table(d / "vad") if (d / "vad").exists() else {}
    utts = []
    for uid, path in wav.items():
        e = emo.get(uid)
        v = vad.get(uid)
        utts.append(
            Utterance(
                uid,
                path,
                spk.get(uid, uid),
                emotion=None if e in (None, MISSING) else e,
                vad=None if v is None else tuple(float(x) for x in v.split()),
            )
        )
    return utts


def read_table(path: Union[str, Path]) -> Dict[str, str]:
    """``key value...`` lines -> dict; a line without a value or a repeated key is an error naming the line."""
    table: Dict[str, str] = {}
    if not Path(path).is_file():
        raise MissingInput(f"{path}: file not found")
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


def _write(path: Path, lines: Sequence[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
