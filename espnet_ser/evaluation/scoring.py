"""Score a prediction directory against a data directory's references (``ser_score``).

Only label types present on both sides are scored: a data dir without ``vad`` gets no CCC, a model
without a discrete head (Baseline C) gets no class metrics. The two sides must list exactly the same
utterances; otherwise the error lists the missing ids (never a silent intersection).
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from espnet_ser.errors import InputError
from espnet_ser import VAD_DIMS
from espnet_ser.labels import read_annotations, read_labels, same_ids
from espnet_ser.metrics import ccc_scores, class_scores, confusion, metric_names, recall_of
from espnet_ser.inference.predictions import Predictions, read_predictions
from espnet_ser.evaluation.beyond import beyond_markdown, beyond_scores

PathLike = Union[str, Path]


@dataclass
class Paired:
    """References and predictions of the same utterances, in one order."""

    ids: List[str]
    ref_emotion: Optional[List[Optional[str]]]  # None: no reference classes; items None where missing
    hyp_emotion: Optional[List[str]]
    ref_vad: Optional[np.ndarray]  # (N, 3), NaN where missing
    hyp_vad: Optional[np.ndarray]
    class_list: Optional[List[str]] = None
    excluded: List[str] = field(default_factory=list)  # utterances left out for non-finite predictions
    # beyond accuracy (espnet_ser.evaluation.beyond); None where absent
    hyp_probs: Optional[np.ndarray] = None        # (N, K) in class_list order
    hyp_class_entropy: Optional[np.ndarray] = None  # (N,) from MC dropout or an ensemble
    hyp_vad_std: Optional[np.ndarray] = None      # (N, 3)
    ref_votes: Optional[np.ndarray] = None        # (N, K) evaluators' vote mass, NaN rows where none
    ref_raters: Optional[np.ndarray] = None       # (N, 7) as vad_raters

    @property
    def has_classes(self) -> bool:
        return self.ref_emotion is not None and self.hyp_emotion is not None

    @property
    def has_vad(self) -> bool:
        return self.ref_vad is not None and self.hyp_vad is not None

    def subset(self, idx: np.ndarray) -> "Paired":
        pick = lambda xs: None if xs is None else [xs[i] for i in idx]  # noqa: E731
        arr = lambda a: None if a is None else a[idx]  # noqa: E731
        return Paired(pick(self.ids), pick(self.ref_emotion), pick(self.hyp_emotion), arr(self.ref_vad),
                      arr(self.hyp_vad), self.class_list, [], *(arr(getattr(self, f)) for f in EXTRA_ARRAYS))


#: the optional per-utterance arrays of a Paired, after its first seven fields
EXTRA_ARRAYS = ("hyp_probs", "hyp_class_entropy", "hyp_vad_std", "ref_votes", "ref_raters")


def concat(parts: Sequence[Paired]) -> Paired:
    """Pool several paired sets (folds) into one."""
    def cat_list(name):
        vals = [getattr(p, name) for p in parts]
        return None if any(v is None for v in vals) else [x for v in vals for x in v]

    def cat_arr(name):
        vals = [getattr(p, name) for p in parts]
        return None if any(v is None for v in vals) else np.concatenate(vals)

    return Paired(cat_list("ids"), cat_list("ref_emotion"), cat_list("hyp_emotion"), cat_arr("ref_vad"),
                  cat_arr("hyp_vad"), parts[0].class_list if parts else None, [],
                  *(cat_arr(f) for f in EXTRA_ARRAYS))


NONFINITE = ("error", "exclude")


def pair(ref_dir: PathLike, hyp: Union[PathLike, Predictions], nonfinite: str = "error") -> Paired:
    """References and predictions in one order. A NaN or infinite prediction is an error naming the
    utterances, or with ``nonfinite="exclude"`` those utterances are left out (``Paired.excluded``)."""
    refs = read_labels(ref_dir)
    ids, ref_emo, ref_vad = refs.ids, refs.emotion, refs.vad
    pred = hyp if isinstance(hyp, Predictions) else read_predictions(hyp)
    same_ids(ids, pred.ids, f"the references in {ref_dir}", f"the predictions in {hyp if not isinstance(hyp, Predictions) else 'memory'}")
    bad = pred.nonfinite()
    if bad and nonfinite != "exclude":
        raise InputError(f"{hyp if not isinstance(hyp, Predictions) else 'predictions'}: {len(bad)} utterance(s) with NaN or "
                         f"infinite predictions: {' '.join(bad[:10])}{' ...' if len(bad) > 10 else ''} "
                         "(score the rest with --nonfinite exclude)")
    pos = {u: i for i, u in enumerate(pred.ids)}
    order = np.array([pos[u] for u in ids], dtype=np.int64)
    hyp_emo = None if pred.emotion is None else [pred.emotion[i] for i in order]
    hyp_vad = None if pred.vad is None else pred.vad[order]
    if ref_emo is not None and pred.class_list is not None:
        unknown = sorted({e for e in ref_emo if e is not None} - set(pred.class_list))
        if unknown:
            raise InputError(f"{ref_dir}/emotion has classes {unknown} that the model does not know {pred.class_list}")
    take = lambda a: None if a is None else np.asarray(a)[order]  # noqa: E731
    _, votes, raters = read_annotations(ref_dir, pred.class_list)
    paired = Paired(ids, ref_emo, hyp_emo, ref_vad, hyp_vad, pred.class_list, [], take(pred.probs),
                    take(pred.class_entropy), take(pred.vad_std), votes, raters)
    if bad:
        dropped = set(bad)
        paired = paired.subset(np.array([i for i, u in enumerate(ids) if u not in dropped], dtype=np.int64))
        paired.excluded = sorted(dropped)
    return paired


def score_paired(p: Paired) -> Dict[str, float]:
    out: Dict[str, float] = {"n": len(p.ids)}
    if p.has_vad:
        out["n_vad"] = int((~np.isnan(p.ref_vad)).any(axis=1).sum())
        out.update(ccc_scores(p.hyp_vad, p.ref_vad))
    if p.has_classes:
        out["n_emotion"] = sum(e is not None for e in p.ref_emotion)
        out.update(class_scores(p.hyp_emotion, p.ref_emotion))
    return out


def metric_counts(p: Paired) -> Dict[str, int]:
    """The number of utterances behind each metric (its n)."""
    n: Dict[str, int] = {}
    if p.has_vad:
        for i, d in enumerate(VAD_DIMS):
            n[f"ccc_{d}"] = int((~np.isnan(p.ref_vad[:, i])).sum())
        n["ccc_mean"] = int((~np.isnan(p.ref_vad)).any(axis=1).sum())
    if p.has_classes:
        for m in ("ua", "wa", "f1_macro"):
            n[m] = sum(e is not None for e in p.ref_emotion)
    return n


def score(ref_dir: PathLike, hyp_dir: PathLike, nonfinite: str = "error", train_ref: Optional[PathLike] = None,
          calibrate: Optional[Sequence[PathLike]] = None) -> Dict:
    """Metrics, counts, confusion and the ``beyond`` section (:mod:`espnet_ser.evaluation.beyond`;
    ``train_ref``: the training data dir whose class centroids map V/A/D to classes; ``calibrate``: two
    training data dirs (source corpus, target corpus) for the affine V/A/D calibration)."""
    p = pair(ref_dir, hyp_dir, nonfinite)
    result: Dict = {"ref": str(ref_dir), "hyp": str(hyp_dir), "metrics": score_paired(p), "n": metric_counts(p)}
    if p.excluded:
        result["excluded_nonfinite"] = {"count": len(p.excluded), "utterances": p.excluded}
    result["scored"] = metric_names(p.has_classes, p.has_vad)
    result["not_scored"] = [t for t, ok_ref, ok_hyp in (
        ("emotion", p.ref_emotion is not None, p.hyp_emotion is not None),
        ("vad", p.ref_vad is not None, p.hyp_vad is not None)) if ok_ref != ok_hyp]
    if p.has_classes:
        result["class_list"] = p.class_list
        result["confusion"] = confusion(p.hyp_emotion, p.ref_emotion, p.class_list).tolist()
    result["beyond"] = beyond_scores(p, None if train_ref is None else Path(train_ref), calibrate)
    return result


def scores_markdown(result: Dict) -> str:
    m = result["metrics"]
    names = ["n"] + [k for k in ("n_vad", "n_emotion") if k in m] + result["scored"]
    lines = [f"# Scores: {result['hyp']}", "", f"Reference: `{result['ref']}`", "",
             "| " + " | ".join(names) + " |", "|" + "---|" * len(names),
             "| " + " | ".join(_fmt(m[k]) for k in names) + " |"]
    if result.get("n"):
        lines += ["", "n per metric: " + ", ".join(f"{k} {v}" for k, v in result["n"].items())]
    if result.get("excluded_nonfinite"):
        ex = result["excluded_nonfinite"]
        lines += ["", f"Excluded for NaN/infinite predictions: {ex['count']} ({' '.join(ex['utterances'][:10])})"]
    if result["not_scored"]:
        lines += ["", "Not scored (present on one side only): " + ", ".join(result["not_scored"])]
    if "confusion" in result:
        cl = result["class_list"]
        lines += ["", "Confusion (rows: reference, columns: predicted)", "",
                  "| ref \\ hyp | " + " | ".join(cl) + " |", "|" + "---|" * (len(cl) + 1)]
        lines += [f"| {c} | " + " | ".join(str(v) for v in row) + " |" for c, row in zip(cl, result["confusion"])]
        cm = np.array(result["confusion"])
        lines += ["", "Per-class recall (n reference utterances): " + ", ".join(
            f"{c} {_fmt(r) if n else '–'} (n={n})" for c, r, n in zip(cl, recall_of(cm), cm.sum(axis=1)))]
    lines += beyond_markdown(result.get("beyond") or {})
    return "\n".join(lines) + "\n"


def _fmt(v) -> str:
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return "nan" if v is None or np.isnan(v) else f"{v:.3f}"


def write_scores(result: Dict, out_dir: PathLike, markdown: Optional[str] = None) -> Path:
    """``scores.json`` and ``scores.md`` (``markdown``, default :func:`scores_markdown` of ``result``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "scores.json").write_text(json.dumps(result, indent=1) + "\n")
    (out / "scores.md").write_text(scores_markdown(result) if markdown is None else markdown)
    return out
