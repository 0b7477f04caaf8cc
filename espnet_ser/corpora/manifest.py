"""Any corpus from a CSV manifest: ``utt_id,path,speaker[,emotion][,valence][,arousal][,dominance][,split]``.

Every label column may be absent or empty per row (discrete-only corpora such as MELD, continuous-only
ones ...). V/A/D are mapped from ``scale=(lo, hi)`` to 0-1. Relative paths are relative to the CSV.
With a ``split`` column, one data dir per split; otherwise a single ``all`` dir. With ``speaker_folds``
(``"loso"`` or a number K), ``all`` and speaker-independent ``fold{k}/{train,dev,test}`` instead
(:func:`espnet_ser.corpora.folds.speaker_folds`; the split column is then ignored).
"""

import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from espnet_ser.errors import InputError
from espnet_ser.corpora.csv_labels import parse_float, read_csv_rows
from espnet_ser.corpora.drops import DropCounter
from espnet_ser.corpora.folds import speaker_folds as make_speaker_folds, write_folds
from espnet_ser.labels import Utterance, check_name, vad_to_unit, write_data_dir

REQUIRED = ("utt_id", "path", "speaker")


def speaker_overlap(utts: Sequence[Utterance]) -> Dict[str, List[str]]:
    """Speakers found in more than one split: ``{speaker: [splits]}``."""
    where: Dict[str, set] = {}
    for u in utts:
        where.setdefault(u.speaker, set()).add(u.extra["split"])
    return {s: sorted(sp) for s, sp in sorted(where.items()) if len(sp) > 1}


def prepare_manifest(csv_path, out_dir, scale: Tuple[float, float] = (1.0, 5.0),
                     classes: Optional[Sequence[str]] = None, allow_speaker_overlap: bool = False,
                     speaker_folds: Optional[str] = None, dev_speakers: int = 1, seed: int = 0) -> dict:
    csv_path = Path(csv_path)
    counter = DropCounter(f"manifest {csv_path.name}")
    seen, utts = {}, []
    for n, row in read_csv_rows(csv_path, REQUIRED):
        where = f"{csv_path}:{n}"
        uid = check_name((row["utt_id"] or "").strip(), "utt_id", where)
        if uid in seen:
            raise InputError(f"{where}: utterance {uid} already listed on line {seen[uid]}")
        seen[uid] = n
        emotion = (row.get("emotion") or "").strip() or None
        if emotion is not None and classes is not None and emotion not in classes:
            raise InputError(f"{where}: class {emotion!r} is not one of {list(classes)}")
        raw = [parse_float(row.get(c), f"{where} column {c}") for c in ("valence", "arousal", "dominance")]
        vad, bad = vad_to_unit(raw, *scale)
        if bad:
            counter.remove_label("vad_out_of_range")
        path = Path(row["path"].strip())
        path = path if path.is_absolute() else csv_path.parent / path
        if not counter.admit(uid, path, emotion is not None or vad is not None, "no_label"):
            continue
        split = check_name((row.get("split") or "").strip() or "all", "split", where)
        speaker = check_name(row["speaker"].strip() or uid, "speaker", where)
        utts.append(Utterance(uid, str(path.resolve()), speaker, emotion, vad, extra={"split": split}))
    counter.check_total(len(seen))
    overlap = speaker_overlap(utts)
    warnings = []
    if overlap:
        listed = "; ".join(f"{s} in {', '.join(sp)}" for s, sp in list(overlap.items())[:10])
        msg = f"{csv_path}: {len(overlap)} speaker(s) in more than one split ({listed}): speaker-dependent splits leak"
        if not allow_speaker_overlap:
            raise InputError(msg + " (fix the split column, or allow it with --allow_speaker_overlap)")
        warnings.append(msg + " (allowed by --allow_speaker_overlap)")
    out = Path(out_dir)
    report = {"corpus": "manifest", "drops": counter.as_dict(), "splits": {}, "warnings": warnings}
    if speaker_folds is not None:
        k = None if speaker_folds == "loso" else int(speaker_folds)
        write_data_dir(utts, out / "all")
        report["folds"] = write_folds(make_speaker_folds(utts, dev_speakers, seed, k), out)
    else:
        for split in sorted({u.extra["split"] for u in utts}):
            part = [u for u in utts if u.extra["split"] == split]
            write_data_dir(part, out / split)
            report["splits"][split] = len(part)
    report["summary"] = counter.summary()
    out.mkdir(parents=True, exist_ok=True)
    (out / "prep_report.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    return report


__all__ = ["prepare_manifest"]
