"""Prediction directories: what ``ser_inference`` writes and ``ser_score`` reads.

Kaldi-style text files, one line per utterance, sorted by id:

* ``emotion``      ``utt class``                       (models with a discrete head)
* ``probs``        ``utt p_1 ... p_K``                 class probabilities, order in ``class_list``
* ``class_list``   one class name per line
* ``vad``          ``utt v a d``                       on the model's 0-1 scale (continuous head)
* ``vad_<lo>-<hi>`` ``utt v a d``                      the same mapped onto a corpus scale (optional)
* ``class_entropy`` ``utt H``                          entropy (nats) of ``probs`` over stochastic passes
                                                     or an ensemble (``espnet_ser.inference.uncertainty``)
* ``vad_std``      ``utt s_v s_a s_d``                 std of the V/A/D over those passes (0-1 scale)

plus ``results.json`` and ``results.csv`` holding the same per-utterance content.

:func:`read_predictions` checks what it reads (:func:`check_predictions`): a class named twice in
``class_list``, a probability outside 0-1 or a row that does not sum to 1, an ``emotion`` line that is
not the most probable class of its ``probs`` row, a V/A/D value below 0 or above ``VAD_LIMIT`` (the
ReLU head gives values >= 0 and, trained on 0-1 targets, rarely much above 1; 2 and more is a corpus
scale such as 1-7 written into the 0-1 file) are errors naming the file and the utterances. NaN and
infinite values are left to the scorer's ``--nonfinite`` choice.
"""

import csv
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from espnet_ser.errors import InputError, MissingInput
from espnet_ser import VAD_DIMS
from espnet_ser.labels import float_rows, parse_scale, read_table, vad_from_unit, write_table

PathLike = Union[str, Path]


@dataclass
class Predictions:
    ids: List[str]
    class_list: Optional[List[str]] = None
    probs: Optional[np.ndarray] = None  # (N, K)
    vad: Optional[np.ndarray] = None  # (N, 3), 0-1
    labels: Optional[List[str]] = None  # the ``emotion`` file's classes when read from disk
    class_entropy: Optional[np.ndarray] = None  # (N,) over MC-dropout passes or an ensemble
    vad_std: Optional[np.ndarray] = None  # (N, 3)

    @property
    def emotion(self) -> Optional[List[str]]:
        if self.labels is not None:
            return self.labels
        if self.probs is None:
            return None
        return [self.class_list[i] for i in np.argmax(self.probs, axis=1)]

    def nonfinite(self) -> List[str]:
        """Utterances with a NaN or infinite probability or V/A/D value."""
        bad = np.zeros(len(self.ids), dtype=bool)
        for arr in (self.probs, self.vad):
            if arr is not None:
                bad |= ~np.isfinite(arr).all(axis=1)
        return [u for u, b in zip(self.ids, bad) if b]


#: the subdir of a prediction dir holding one prediction dir per member of a system (the classical system's)
MEMBERS_DIR = "members"
PREDICTION_FILES = ("emotion", "probs", "class_list", "vad", "class_entropy", "vad_std", "results.json", "results.csv",
                    "errors")


def write_predictions(pred: Predictions, out_dir: PathLike, scale: Optional[str] = None,
                      errors: Sequence[Tuple[str, str]] = ()) -> Path:
    """The prediction files of ``pred`` (and ``errors``: ``utt reason`` lines of inputs not scored).

    They are written next to ``out_dir`` and moved in when all are complete; prediction files of an
    earlier run that this one does not write (another ``vad_<scale>``, ``probs`` of a model that now
    has none) are removed, so a directory never mixes two runs.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    _write_files(pred, tmp, scale, errors)
    for old in [*(out / n for n in PREDICTION_FILES), *out.glob("vad_*")]:
        if old.is_file() and not (tmp / old.name).exists():
            old.unlink()
    for f in sorted(tmp.iterdir()):
        os.replace(f, out / f.name)
    tmp.rmdir()
    return out


def _write_files(pred: Predictions, out: Path, scale: Optional[str], errors: Sequence[Tuple[str, str]]) -> None:
    order = np.argsort(pred.ids, kind="stable")
    ids = [pred.ids[i] for i in order]
    rows: List[Dict] = [{"utt_id": u} for u in ids]
    rng = parse_scale(scale)
    if pred.probs is not None:
        probs = pred.probs[order]
        emo = [pred.class_list[i] for i in np.argmax(probs, axis=1)]
        write_table(out / "emotion", [f"{u} {e}" for u, e in zip(ids, emo)])
        write_table(out / "probs", [f"{u} " + " ".join(f"{p:.6f}" for p in row) for u, row in zip(ids, probs)])
        write_table(out / "class_list", list(pred.class_list))
        for r, e, row in zip(rows, emo, probs):
            r["emotion"] = e
            r.update({f"p_{c}": round(float(p), 6) for c, p in zip(pred.class_list, row)})
    if pred.vad is not None:
        vad = pred.vad[order]
        write_table(out / "vad", [f"{u} " + " ".join(f"{v:.6f}" for v in row) for u, row in zip(ids, vad)])
        scaled = None if rng is None else vad_from_unit(vad, *rng)
        if scaled is not None:
            write_table(out / f"vad_{scale}", [f"{u} " + " ".join(f"{v:.6f}" for v in row) for u, row in zip(ids, scaled)])
        for i, r in enumerate(rows):
            r.update({d: round(float(vad[i, j]), 6) for j, d in enumerate(VAD_DIMS)})
            if scaled is not None:
                r.update({f"{d}_{scale}": round(float(scaled[i, j]), 6) for j, d in enumerate(VAD_DIMS)})
    if pred.class_entropy is not None:
        ent = np.asarray(pred.class_entropy)[order]
        write_table(out / "class_entropy", [f"{u} {h:.6f}" for u, h in zip(ids, ent)])
        for r, h in zip(rows, ent):
            r["class_entropy"] = round(float(h), 6)
    if pred.vad_std is not None:
        std = np.asarray(pred.vad_std)[order]
        write_table(out / "vad_std", [f"{u} " + " ".join(f"{v:.6f}" for v in row) for u, row in zip(ids, std)])
        for r, row in zip(rows, std):
            r.update({f"{d}_std": round(float(row[j]), 6) for j, d in enumerate(VAD_DIMS)})
    (out / "results.json").write_text(json.dumps(rows, indent=1) + "\n")
    with open(out / "results.csv", "w", newline="") as f:
        fields = list(rows[0]) if rows else ["utt_id"]
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    if errors:
        write_table(out / "errors", [f"{u} {why}" for u, why in errors])


#: a ``vad`` value above this is not on the 0-1 scale (see the module docstring)
VAD_LIMIT = 2.0
#: tolerance of a probability row's sum (the files hold 6 decimals)
PROB_SUM_TOL = 1e-3


def _listed(d: Path, ids, bad, what: str) -> None:
    if bad.any():
        which = [u for u, b in zip(ids, bad) if b]
        raise InputError(f"{d}: {len(which)} utterance(s) with {what}: {' '.join(which[:10])}{' ...' if len(which) > 10 else ''}")


def check_predictions(pred: Predictions, d: Path) -> Predictions:
    """Refuse predictions no model writes (see the module docstring); returns ``pred``."""
    if pred.class_list is not None:
        twice = sorted({c for c in pred.class_list if pred.class_list.count(c) > 1})
        if twice:
            raise InputError(f"{d / 'class_list'}: classes listed twice: {' '.join(twice)}")
    if pred.probs is not None:
        p = pred.probs
        finite = np.isfinite(p).all(axis=1)
        _listed(d / "probs", pred.ids, finite & ((p < -1e-6) | (p > 1 + 1e-6)).any(axis=1), "a probability outside 0-1")
        _listed(d / "probs", pred.ids, finite & (np.abs(p.sum(axis=1) - 1) > PROB_SUM_TOL), "probabilities not summing to 1")
        if pred.labels is not None:
            idx = {c: i for i, c in enumerate(pred.class_list)}
            chosen = np.array([p[i, idx[c]] for i, c in enumerate(pred.labels)])
            _listed(d / "emotion", pred.ids, finite & (chosen < p.max(axis=1) - 1e-6),
                    "a class that is not the most probable one in probs")
    if pred.vad is not None:
        v = pred.vad
        finite = np.isfinite(v).all(axis=1)
        _listed(d / "vad", pred.ids, finite & ((v < 0) | (v > VAD_LIMIT)).any(axis=1),
                f"V/A/D outside 0-{VAD_LIMIT:g} (the vad file is on the 0-1 scale; a corpus scale goes to vad_<lo>-<hi>)")
    return pred


def read_predictions(hyp_dir: PathLike) -> Predictions:
    d = Path(hyp_dir)
    ids = None
    probs = vad = classes = None
    if (d / "probs").exists():
        if not (d / "class_list").is_file():
            raise MissingInput(f"{d}: probs without class_list")
        classes = [c for c in (d / "class_list").read_text(encoding="utf-8").split("\n") if c.strip()]
        table = read_table(d / "probs")
        ids = sorted(table)
        probs = float_rows(table, ids, len(classes), d / "probs")
    if (d / "vad").exists():
        table = read_table(d / "vad")
        if ids is not None and set(table) != set(ids):
            raise InputError(f"{d}: probs and vad list different utterances")
        ids = sorted(table) if ids is None else ids
        vad = float_rows(table, ids, len(VAD_DIMS), d / "vad")
    if ids is None:
        raise MissingInput(f"{d}: neither probs nor vad found: not a prediction directory")
    labels = None
    if (d / "emotion").exists() and classes is not None:
        table = read_table(d / "emotion")
        if set(table) != set(ids):
            raise InputError(f"{d}: emotion and probs list different utterances")
        unknown = sorted(u for u in ids if table[u] not in classes)
        if unknown:
            raise InputError(f"{d / 'emotion'}: {len(unknown)} utterance(s) with a class not in {d / 'class_list'} "
                             f"{classes}: " + ", ".join(f"{u} ({table[u]})" for u in unknown[:10]))
        labels = [table[u] for u in ids]
    extra = {}
    for name, width in (("class_entropy", 1), ("vad_std", len(VAD_DIMS))):
        if (d / name).exists():
            table = read_table(d / name)
            if set(table) != set(ids):
                raise InputError(f"{d}: {name} and the predictions list different utterances")
            rows = float_rows(table, ids, width, d / name)
            extra[name] = rows[:, 0] if width == 1 else rows
    return check_predictions(Predictions(ids, classes, probs, vad, labels, **extra), d)
