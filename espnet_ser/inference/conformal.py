"""Split conformal prediction: class prediction sets and V/A/D intervals with a stated coverage.

Calibrated on held-out predictions (the dev set's, by default) with ``crepes`` (Boström's conformal
library): for classes the non-conformity score of an utterance is ``1 - p(true class)`` (the LAC
score); for each V/A/D dimension it is the absolute error ``|v_hat - v|`` (standard conformal
regression). With ``n`` calibration scores and a target coverage ``1 - a``, an utterance's set holds
every class whose score is at most the ``ceil((n + 1)(1 - a))``-th smallest calibration score, and a
dimension's interval is ``v_hat -/+`` that quantile of the errors (clipped to the 0-1 scale). If the
calibration and test utterances are exchangeable, the probability that the truth is covered lies in
``[1 - a, 1 - a + 1 / (n + 1))`` (Vovk et al. 2005; Angelopoulos & Bates 2021, Thm. D.1, no ties).
A quantile index beyond ``n`` (too few calibration utterances for the target) gives every class and
the whole scale: covered, but uninformative, and said so (``too_few``).

The guarantee is marginal: over utterances, not per speaker, corpus or class; :func:`coverage_report`
shows how it holds per group. Calibration (``conformal.json``) is a list of scores, so it can be stored
with a model and applied later.
"""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from espnet_ser import VAD_DIMS
from espnet_ser.errors import InputError

PathLike = Union[str, Path]
_EPS = 1e-12
#: the coverage sets and intervals are calibrated for unless one is asked (the recipe's)
DEFAULT_COVERAGE = 0.9
#: a model's calibration: in an exp dir (the recipe's score stage writes it) and in a packed zip
CONFORMAL_IN_EXP = "conformal/conformal.json"
CONFORMAL_NAME = "conformal.json"


def load_conformal(path: PathLike) -> Optional["Conformal"]:
    """The calibration at ``path``, None if there is none."""
    return Conformal.load(path) if Path(path).is_file() else None


@dataclass
class Conformal:
    coverage: float
    class_list: Optional[List[str]]
    class_scores: Optional[np.ndarray] = None                      # (n,) 1 - p(true class) on calibration items
    vad_errors: Dict[str, np.ndarray] = field(default_factory=dict)  # dim -> (n_d,) |v_hat - v|

    def __post_init__(self):
        if not 0 < self.coverage < 1:
            raise InputError(f"coverage must lie strictly between 0 and 1, got {self.coverage}")

    # ------------------------------------------------------------------ classes
    def class_threshold(self) -> float:
        """The calibration quantile a class score must not exceed (inf: too few calibration items)."""
        return _quantile(self.class_scores, self.coverage)

    def prediction_sets(self, probs: np.ndarray) -> np.ndarray:
        """(N, C) booleans: class k is in utterance i's set. crepes' non-smoothed conformal classifier:
        k is in the set when its p-value ``(#{cal >= score} + 1) / (n + 1)`` exceeds ``1 - coverage``."""
        from crepes import ConformalClassifier

        if self.class_scores is None:
            raise InputError("this calibration has no class scores (the model or the calibration set has no classes)")
        cc = ConformalClassifier()
        cc.fit(np.asarray(self.class_scores, dtype=float))
        # crepes keeps a class when p > 1 - confidence, in floating point: 1 - 0.9 is 0.0999...98, so a
        # p-value of exactly 0.1 would pass. Nudged by _EPS, the set is the textbook one (score <= quantile).
        return cc.predict_set(1.0 - np.asarray(probs, dtype=float), confidence=self.coverage - _EPS,
                              smoothing=False).astype(bool)

    # ------------------------------------------------------------------ V/A/D
    def vad_intervals(self, vad: np.ndarray) -> np.ndarray:
        """(N, 3, 2) lower and upper bounds per dimension (crepes' conformal regressor, clipped to 0-1);
        NaN for a dimension without calibration errors."""
        from crepes import ConformalRegressor

        vad = np.asarray(vad, dtype=float)
        out = np.full(vad.shape + (2,), np.nan)
        for d, name in enumerate(VAD_DIMS):
            errors = self.vad_errors.get(name)
            if errors is None or not len(errors):
                continue
            if math.isinf(_quantile(errors, self.coverage)):  # crepes would give (-inf, inf): the scale
                out[:, d] = (0.0, 1.0)
                continue
            cr = ConformalRegressor()
            cr.fit(np.asarray(errors, dtype=float))
            # the same floating-point nudge as for the sets: int((1 - 0.9) * 20) would be 1, not 2
            out[:, d] = cr.predict_int(vad[:, d], confidence=self.coverage - _EPS, y_min=0.0, y_max=1.0)
        return out

    def write_for(self, pred, out_dir: PathLike) -> None:
        """The sets and intervals of predictions ``pred`` (:class:`~espnet_ser.inference.predictions.Predictions`)
        as ``pred_set`` / ``vad_interval`` files in ``out_dir`` (:func:`write_sets`), for what both sides have."""
        sets = self.prediction_sets(pred.probs) if pred.probs is not None and self.class_scores is not None else None
        ints = self.vad_intervals(pred.vad) if pred.vad is not None and self.vad_errors else None
        write_sets(pred.ids, pred.class_list or [], sets, ints, out_dir)

    # ------------------------------------------------------------------ storage
    def to_json(self) -> Dict:
        return {"coverage": self.coverage, "class_list": self.class_list, "method": "split conformal (crepes), LAC class "
                "score 1 - p(true class), absolute-error V/A/D intervals",
                "class_scores": None if self.class_scores is None else [float(x) for x in self.class_scores],
                "vad_errors": {k: [float(x) for x in v] for k, v in self.vad_errors.items()},
                "class_threshold": _finite_or_none(self.class_threshold()) if self.class_scores is not None else None,
                "vad_half_width": {k: _finite_or_none(_quantile(v, self.coverage)) for k, v in self.vad_errors.items()},
                "too_few": self.too_few()}

    def too_few(self) -> List[str]:
        """What the calibration set is too small for at this coverage (sets of every class, whole scale)."""
        out = [] if self.class_scores is None or not math.isinf(self.class_threshold()) else ["classes"]
        return out + [k for k, v in self.vad_errors.items() if math.isinf(_quantile(v, self.coverage))]

    def save(self, path: PathLike) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n")
        return path

    @classmethod
    def load(cls, path: PathLike) -> "Conformal":
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
            scores = d["class_scores"]
            return cls(float(d["coverage"]), d["class_list"], None if scores is None else np.asarray(scores, float),
                       {k: np.asarray(v, float) for k, v in d["vad_errors"].items()})
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise InputError(f"{path}: not a conformal calibration ({type(e).__name__}: {e})") from None


def _quantile(scores: Optional[np.ndarray], coverage: float) -> float:
    """The ``ceil((n + 1) coverage)``-th smallest score (inf when that exceeds n).

    >>> _quantile(np.arange(1.0, 20.0), 0.9)       # n = 19: ceil(20 * 0.9) = 18th smallest
    18.0
    >>> _quantile(np.arange(1.0, 5.0), 0.9)        # n = 4: ceil(4.5) = 5 > 4
    inf
    """
    if scores is None or not len(scores):
        return math.inf
    s = np.sort(np.asarray(scores, dtype=float))
    k = math.ceil((len(s) + 1) * coverage - 1e-12)
    return float(s[k - 1]) if k <= len(s) else math.inf


def _finite_or_none(x: float) -> Optional[float]:
    return None if math.isinf(x) else float(x)


def calibrate(paired, coverage: float = DEFAULT_COVERAGE) -> Conformal:
    """A :class:`Conformal` from held-out predictions paired with their references
    (:class:`espnet_ser.evaluation.scoring.Paired`: class probabilities and/or V/A/D)."""
    scores = None
    if paired.hyp_probs is not None and paired.ref_emotion is not None:
        classes = list(paired.class_list)
        rows = [(i, classes.index(e)) for i, e in enumerate(paired.ref_emotion) if e is not None and e in classes]
        if rows:
            idx, k = np.array(rows).T
            scores = 1.0 - np.asarray(paired.hyp_probs, dtype=float)[idx, k]
    errors = {}
    if paired.hyp_vad is not None and paired.ref_vad is not None:
        err = np.abs(np.asarray(paired.hyp_vad, float) - np.asarray(paired.ref_vad, float))
        for d, name in enumerate(VAD_DIMS):
            col = err[:, d]
            if np.isfinite(col).any():
                errors[name] = col[np.isfinite(col)]
    if scores is None and not errors:
        raise InputError("nothing to calibrate: the calibration set and the predictions share no label type")
    return Conformal(coverage, paired.class_list, scores, errors)


def coverage_report(paired, conformal: Conformal, groups: Optional[Dict[str, Dict[str, str]]] = None) -> Dict:
    """Empirical coverage and mean set size / interval width of ``conformal`` on a test set, overall
    and per value of each grouping (``{"speaker": {utt: spk}, ...}``; an utterance missing from a
    grouping is counted under ``"?"``)."""
    rows = {"all": np.ones(len(paired.ids), bool)}
    for gname, mapping in (groups or {}).items():
        values = np.array([mapping.get(u, "?") for u in paired.ids])
        for v in sorted(set(values)):
            rows[f"{gname}={v}"] = values == v
    sets = covered_cls = None
    if paired.hyp_probs is not None and conformal.class_scores is not None and paired.ref_emotion is not None:
        sets = conformal.prediction_sets(paired.hyp_probs)
        classes = list(paired.class_list)
        truth = np.array([classes.index(e) if e in classes else -1 for e in paired.ref_emotion])
        covered_cls = np.where(truth >= 0, sets[np.arange(len(truth)), np.maximum(truth, 0)], False)
        has_cls = truth >= 0
    ints = None
    if paired.hyp_vad is not None and paired.ref_vad is not None and conformal.vad_errors:
        ints = conformal.vad_intervals(paired.hyp_vad)
        ref = np.asarray(paired.ref_vad, float)
        inside = (ref >= ints[..., 0]) & (ref <= ints[..., 1])
    out = {"target_coverage": conformal.coverage, "groups": {}}
    for name, m in rows.items():
        g: Dict = {"n": int(m.sum())}
        if sets is not None:
            lab = m & has_cls
            g["class_n"] = int(lab.sum())
            g["class_coverage"] = float(covered_cls[lab].mean()) if lab.any() else float("nan")
            g["mean_set_size"] = float(sets[m].sum(axis=1).mean()) if m.any() else float("nan")
        if ints is not None:
            for d, dim in enumerate(VAD_DIMS):
                ok = m & np.isfinite(ref[:, d]) & np.isfinite(ints[:, d, 0])
                if ok.any():
                    g[f"{dim}_n"] = int(ok.sum())
                    g[f"{dim}_coverage"] = float(inside[ok, d].mean())
                    g[f"{dim}_mean_width"] = float((ints[ok, d, 1] - ints[ok, d, 0]).mean())
        out["groups"][name] = g
    return out


def write_sets(ids: Sequence[str], class_list: Sequence[str], sets: Optional[np.ndarray], intervals: Optional[np.ndarray],
               out_dir: PathLike) -> None:
    """``pred_set`` (utt and the classes of its set, most probable order not implied) and
    ``vad_interval`` (utt v_lo v_hi a_lo a_hi d_lo d_hi) in Kaldi-style text files."""
    from espnet_ser.labels import write_table

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if sets is not None:
        write_table(out / "pred_set", [" ".join([u, *[c for c, s in zip(class_list, row) if s]]) for u, row in zip(ids, sets)])
    if intervals is not None:
        write_table(out / "vad_interval", [" ".join([u, *(f"{x:.6f}" for x in row.reshape(-1))]) for u, row in zip(ids, intervals)])


def read_groups(specs: Sequence[str]) -> Dict[str, Dict[str, str]]:
    """``NAME=FILE`` options (a two-column file: utterance, group) -> {name: {utt: group}}."""
    from espnet_ser.labels import read_table

    groups = {}
    for g in specs:
        name, sep, path = g.partition("=")
        if not sep or not name:
            raise InputError(f"--group {g!r}: expected NAME=FILE (e.g. speaker=data/test/utt2spk)")
        groups[name] = read_table(path)
    return groups


def coverage_markdown(report: Dict) -> str:
    """The coverage report as a Markdown table (one row per group)."""
    keys = [k for k in next(iter(report["groups"].values())) if k.endswith(("coverage", "set_size", "width"))]
    lines = [f"Conformal coverage (target {report['target_coverage']:.2f})\n", "| group | n | " + " | ".join(keys) + " |",
             "|---|---:|" + "---:|" * len(keys)]
    for name, g in report["groups"].items():
        lines.append(f"| {name} | {g['n']} | " + " | ".join("-" if k not in g else f"{g[k]:.3f}" for k in keys) + " |")
    return "\n".join(lines) + "\n"
