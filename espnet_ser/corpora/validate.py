"""Check a data dir the way ESPnet will read it, and summarise what preparation kept and dropped."""

from pathlib import Path
from typing import Dict, List

import numpy as np
import soundfile as sf

from espnet_ser.errors import InputError
from espnet_ser.labels import read_labels, read_table

FILES = ("wav.scp", "utt2spk", "spk2utt", "emotion", "vad")


def validate_data_dir(data_dir, check_audio: bool = True, classes=None) -> Dict[str, int]:
    """Raise ValueError naming the file (and line) on the first problem; return counts when all is well."""
    d = Path(data_dir)
    if not (d / "wav.scp").is_file() or not (d / "utt2spk").is_file():
        raise InputError(f"{d}: needs wav.scp and utt2spk")
    tables = {f: read_table(d / f) for f in FILES if (d / f).is_file()}
    keys = list(tables["wav.scp"])
    if not keys:
        raise InputError(f"{d}/wav.scp: no utterances")
    for f, t in tables.items():
        if f == "spk2utt":
            continue
        if list(t) != sorted(t):
            raise InputError(f"{d}/{f}: not sorted by utterance id")
        if set(t) != set(keys):
            missing = sorted(set(keys) - set(t))[:5]
            extra = sorted(set(t) - set(keys))[:5]
            raise InputError(f"{d}/{f}: keys differ from wav.scp (missing {missing}, extra {extra})")
    spk_utts = sorted(u for us in tables["spk2utt"].values() for u in us.split()) if "spk2utt" in tables else None
    if spk_utts is not None and spk_utts != sorted(keys):
        raise InputError(f"{d}/spk2utt: does not list every utterance of utt2spk exactly once")
    labels = read_labels(d)  # the one label reader: ids as in wav.scp, three numbers (or nan) per vad line
    counts = {"utterances": len(keys), "with_emotion": 0, "with_vad": 0}
    for uid, value in zip(labels.ids, labels.emotion or []):
        if value is not None:
            counts["with_emotion"] += 1
            if classes is not None and value not in classes:
                raise InputError(f"{d}/emotion: {uid}: class {value!r} not in {list(classes)}")
    for uid, row in zip(labels.ids, labels.vad if labels.vad is not None else []):
        if ((row < 0) | (row > 1)).any():
            raise InputError(f"{d}/vad: {uid}: values must lie on 0-1: {tables['vad'][uid]!r}")
        counts["with_vad"] += bool(np.isfinite(row).any())
    if check_audio:
        for uid, path in tables["wav.scp"].items():
            try:
                info = sf.info(path)
            except Exception as e:
                raise InputError(f"{d}/wav.scp: {uid}: unreadable audio {path}: {e}") from None
            if info.frames == 0:
                raise InputError(f"{d}/wav.scp: {uid}: empty audio {path}")
    return counts


def summary_table(rows: List[Dict]) -> str:
    """Markdown table of per-dir counts: rows are dicts with dir, utterances, with_emotion, with_vad."""
    out = ["| data dir | utterances | with class | with V/A/D |", "|---|---:|---:|---:|"]
    out += [f"| {r['dir']} | {r['utterances']} | {r['with_emotion']} | {r['with_vad']} |" for r in rows]
    return "\n".join(out)
