"""Merge data dirs of several corpora, keeping only chosen label types from each (mismatched training).

A source is ``(prefix, data_dir, label_types)`` with label types among ``emotion`` and ``vad``. Ids and
speakers get ``<prefix>-`` in front; labels of the types not kept are written as missing (``nan``).
An utterance left with no label is dropped and counted. The same corpus may appear twice with
different label types (it is then merged into one utterance carrying the union of kept types).

``TABLE2_ROWS`` lists the eight rows of the paper's Table 2 as (variant, discrete source, continuous
source): the two hierarchical models, each trained on the four pairings of where the discrete and
where the continuous labels come from.
"""

import json
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

from espnet_ser.data.drops import DropCounter
from espnet_ser.data.kaldi_dir import Utterance, read_data_dir, write_data_dir

LABEL_TYPES = ("emotion", "vad")
CORPORA = ("iemocap", "msp")
TABLE2_ROWS: List[Tuple[str, str, str]] = [
    (variant, d_src, c_src)
    for variant in ("hierarchical_dc", "hierarchical_cd")
    for d_src, c_src in (("iemocap", "iemocap"), ("msp", "msp"), ("iemocap", "msp"), ("msp", "iemocap"))
]


def table2_sources(d_src: str, c_src: str, dirs: Dict[str, Path]) -> List[Tuple[str, Path, Sequence[str]]]:
    """Sources for one Table-2 pairing: discrete labels from ``d_src``, continuous from ``c_src``."""
    for s in (d_src, c_src):
        if s not in dirs:
            raise ValueError(f"no data dir given for corpus {s!r} (have {sorted(dirs)})")
    if d_src == c_src:
        return [(d_src, dirs[d_src], LABEL_TYPES)]
    return [(d_src, dirs[d_src], ("emotion",)), (c_src, dirs[c_src], ("vad",))]


def combine(sources: Iterable[Tuple[str, Path, Sequence[str]]], out_dir) -> dict:
    merged: Dict[str, Utterance] = {}
    counter = DropCounter("combine")
    per_source = {}
    for prefix, data_dir, keep in sources:
        bad = [t for t in keep if t not in LABEL_TYPES]
        if bad or not keep:
            raise ValueError(f"label types for {prefix} must be among {LABEL_TYPES}, got {list(keep)}")
        if "-" in prefix or not prefix:
            raise ValueError(f"prefix must be non-empty without '-': {prefix!r}")
        n = 0
        for u in read_data_dir(data_dir):
            uid = f"{prefix}-{u.utt_id}"
            emotion = u.emotion if "emotion" in keep else None
            vad = u.vad if "vad" in keep else None
            if uid in merged:  # the same corpus listed again for other label types
                m = merged[uid]
                m.emotion = m.emotion if emotion is None else emotion
                m.vad = m.vad if vad is None else vad
                continue
            merged[uid] = Utterance(uid, u.path, f"{prefix}-{u.speaker}", emotion, vad)
            n += 1
        per_source[f"{prefix}:{data_dir}:{'+'.join(keep)}"] = n
    kept = []
    for uid, u in sorted(merged.items()):
        if u.emotion is None and not u.has_vad():
            counter.drop("no_kept_label", uid)
            continue
        kept.append(u)
    counter.kept = len(kept)
    out = write_data_dir(kept, out_dir)
    report = {"sources": per_source, "drops": counter.as_dict(),
              "with_emotion": sum(u.emotion is not None for u in kept), "with_vad": sum(u.has_vad() for u in kept)}
    (out / "combine_report.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    return report
