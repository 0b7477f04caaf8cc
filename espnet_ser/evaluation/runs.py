"""Collect finished experiments and aggregate their scores over folds.

An experiment dir ``exp/<tag>/`` holds ``meta.json`` (written by the recipe planner: recipe, variant,
split, fold, label sources, test sets and their reference dirs) and, per test set ``<name>``, the
predictions in ``inference/<name>/``.

Fold aggregation reports both views of a cross-validated system:

* ``mean`` and ``std`` of the per-fold metric (sample std, ddof=1; 0 for one fold), ``n`` = folds;
* ``pooled``: the metric on the predictions of all folds pooled (every utterance scored once),
  ``n_utts`` = pooled utterances.
"""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from espnet_ser.errors import InputError, MissingInput
from espnet_ser.evaluation.scoring import Paired, concat, pair, score_paired
from espnet_ser.inference.predictions import MEMBERS_DIR

PathLike = Union[str, Path]


@dataclass
class Run:
    exp_dir: Path
    meta: Dict
    paired: Dict[str, Paired] = field(default_factory=dict)  # test name -> predictions paired with refs
    members: Dict[str, Dict[str, Paired]] = field(default_factory=dict)  # test name -> a system's members' predictions

    @property
    def variant(self) -> str:
        return self.meta["variant"]


def load_runs(exp_root: PathLike, recipe: Optional[str] = None) -> List[Run]:
    """Every experiment under ``exp_root`` with ``meta.json`` (and ``recipe`` if given), scored tests loaded."""
    runs, where = [], {}
    for meta_file in sorted(Path(exp_root).glob("*/meta.json")):
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise InputError(f"{meta_file}: not a readable meta.json ({e}); re-run the training stage or remove the dir") from None
        if not isinstance(meta, dict) or not isinstance(meta.get("tests", {}), dict) or "variant" not in meta:
            raise InputError(f"{meta_file}: not an experiment's meta.json (a dict with variant and tests)")
        if recipe is not None and meta.get("recipe") != recipe:
            continue
        # one experiment per (variant, fold, row or multi-corpus experiment): a copied dir
        # (exp/x_fold1_backup) would count a fold twice
        key = (meta.get("variant"), meta.get("fold"), meta.get("row"), meta.get("experiment"))
        if key in where:
            raise InputError(f"{meta_file.parent} and {where[key]} are the same experiment (variant {key[0]}, fold "
                             f"{key[1]}{'' if key[2] is None else f', row {key[2]}'}{'' if key[3] is None else f', experiment {key[3]}'}): move the copy out of {exp_root}")
        where[key] = meta_file.parent
        run = Run(meta_file.parent, meta)
        for name, ref in meta.get("tests", {}).items():
            hyp = meta_file.parent / "inference" / name
            if not hyp.exists():
                raise MissingInput(f"{hyp}: no predictions for test set {name!r} of {meta_file.parent} (run inference)")
            run.paired[name] = pair(ref, hyp)
            # a system's members (the classical system writes one prediction dir per member)
            members = sorted(d.name for d in (hyp / MEMBERS_DIR).glob("*") if d.is_dir()) if (hyp / MEMBERS_DIR).is_dir() else []
            if members:
                declared = list(_system_info(run.exp_dir).get("training_vectors", {}))  # the config's order
                members.sort(key=lambda m: (declared.index(m) if m in declared else len(declared), m))
                run.members[name] = {m: pair(ref, hyp / MEMBERS_DIR / m) for m in members}
        runs.append(run)
    return runs


@dataclass
class Aggregate:
    metrics: Dict[str, Dict[str, float]]  # metric -> {mean, std, pooled, n, n_utts}
    per_fold: List[Dict[str, float]]
    pooled: Paired
    folds: List
    parts: List[Paired] = field(default_factory=list)  # the per-fold predictions, in fold order


def aggregate(paired_by_fold: Sequence[Paired], folds: Sequence = ()) -> Aggregate:
    per_fold = [score_paired(p) for p in paired_by_fold]
    pooled = concat(list(paired_by_fold))
    pooled_scores = score_paired(pooled)
    metrics = {}
    for name in pooled_scores:
        if name.startswith("n"):
            continue
        vals = np.array([s.get(name, float("nan")) for s in per_fold], dtype=float)
        vals = vals[~np.isnan(vals)]
        metrics[name] = {
            "mean": float(vals.mean()) if vals.size else float("nan"),
            "std": float(vals.std(ddof=1)) if vals.size > 1 else 0.0,
            "pooled": pooled_scores[name],
            "n": int(vals.size),
            "n_utts": len(pooled.ids),
        }
    return Aggregate(metrics, per_fold, pooled, list(folds), list(paired_by_fold))


def by_variant(runs: Sequence[Run], test: str, key=lambda r: r.variant) -> Dict[str, Aggregate]:
    """Group runs (by variant, or ``key``), order by fold, aggregate on test set ``test``."""
    groups: Dict[str, List[Run]] = {}
    for r in runs:
        if test in r.paired:
            groups.setdefault(key(r), []).append(r)
    out = {}
    for k, rs in groups.items():
        rs = sorted(rs, key=lambda r: (r.meta.get("fold") or 0))
        out[k] = aggregate([r.paired[test] for r in rs], [r.meta.get("fold") for r in rs])
    return out


#: the files in which a system's exp dir lists the classes it can predict (``predictable_classes``)
SYSTEM_INFO = ("classical.json", "fusion.json")


def _system_info(exp_dir: Path) -> Dict:
    """A system's ``classical.json`` / ``fusion.json`` ({} for a network's exp dir)."""
    for name in SYSTEM_INFO:
        f = exp_dir / name
        if f.is_file():
            try:
                return json.loads(f.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                raise InputError(f"{f}: not readable JSON ({e}); re-run the training stage") from None
    return {}


def predictable(run: Run) -> Optional[Dict[str, List[str]]]:
    """The classes ``run``'s model can predict (``classes``) and those of its class list it cannot
    (``missing``: its training data had none), from its exp dir: a system's ``classical.json`` /
    ``fusion.json``, a network's ``config.yaml`` (``model_conf.trained_classes``). None: not recorded."""
    info = _system_info(run.exp_dir)
    if info:
        classes = list(info.get("class_counts", {}))
        can = info.get("predictable_classes", classes)
        return {"classes": can, "missing": [c for c in classes if c not in can]}
    f = run.exp_dir / "config.yaml"
    if not f.is_file():
        return None
    import yaml

    conf = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
    classes = conf.get("class_list")
    can = (conf.get("model_conf") or {}).get("trained_classes")
    if not isinstance(classes, list) or not isinstance(can, list):
        return None
    return {"classes": can, "missing": [c for c in classes if c not in can]}


def predictable_by_variant(runs: Sequence[Run]) -> Dict[str, Dict[str, List[str]]]:
    """:func:`predictable` per variant, over its folds: the classes every fold's model can predict, and
    those some fold's model cannot."""
    out: Dict[str, Dict[str, List[str]]] = {}
    for r in runs:
        p = predictable(r)
        if p is None:
            continue
        have = out.setdefault(r.variant, {"classes": list(p["classes"]), "missing": []})
        have["classes"] = [c for c in have["classes"] if c in p["classes"]]
        have["missing"] += [c for c in p["missing"] if c not in have["missing"]]
    return out


def by_member(runs: Sequence[Run], test: str) -> Dict[str, Aggregate]:
    """The members of the systems that have them, aggregated like :func:`by_variant`, keyed
    ``<variant>/<member>`` (:func:`espnet_ser.spec.title_of` names them); only members every fold of
    the system has."""
    groups: Dict[str, List[Run]] = {}
    for r in runs:
        if test in r.paired:
            groups.setdefault(r.variant, []).append(r)
    out = {}
    for v, rs in groups.items():
        rs = sorted(rs, key=lambda r: (r.meta.get("fold") or 0))
        names = [m for m in rs[0].members.get(test, {}) if all(m in r.members.get(test, {}) for r in rs)]
        for m in names:
            out[f"{v}/{m}"] = aggregate([r.members[test][m] for r in rs], [r.meta.get("fold") for r in rs])
    return out


def is_missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))
