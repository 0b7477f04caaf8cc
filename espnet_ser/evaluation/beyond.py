"""Evaluation beyond accuracy (``ser_score``'s ``beyond`` section; formulas in :mod:`espnet_ser.metrics`).

Calibration and the evaluators (models with a class head):

* ``ece``: expected calibration error of the top-class probability (10 bins); ``ece_votes``: the same
  against the evaluators' vote shares (an item's accuracy is the share of votes for the predicted class).
* ``jsd_votes``: mean Jensen-Shannon divergence (bits) between the predicted distribution and the
  evaluators' vote distribution, over the utterances with votes (``emotion_votes``).
* ``spearman_uncertainty_disagreement``: rank correlation between the class uncertainty (the
  ``class_entropy`` of MC dropout or an ensemble where present, else the entropy of ``probs``) and the
  evaluators' disagreement (entropy of their vote distribution). Positive: the model is less sure where
  people disagree.
* ``reject_ua``: UA on the fraction of utterances with the lowest class uncertainty, for each fraction.

V/A/D (models with a V/A/D head): ``reject_ccc`` and ``reject_vad_mae`` (mean CCC and mean absolute
error vs the fraction kept, by the mean of ``vad_std``, when present; the CCC of a subset also shrinks
with the spread of its references, so read it beside the error) and ``spearman_vad_std_rater_std``
(the model's std vs the raters' std).

Classes and dimensions in one view (models with a V/A/D head, references with classes and V/A/D):

* ``centroids``: per reference class, the mean reference and the mean predicted V/A/D.
* ``vad_to_class``: the nearest-centroid classifier on V/A/D, its centroids fitted on the training
  data's reference labels (``train_ref``; else the test references', marked as such), applied to the
  predicted V/A/D: its UA, and (models with a class head too) ``agreement``, the fraction of utterances
  where the class head and the V/A/D head's nearest class agree.

Mismatched training (Table 2: V/A/D learnt from one corpus, scored on another), ``calibrate=(A, B)``
with the training data dirs of the two corpora:

* ``centroid_shift``: per class, corpus B's V/A/D centroid minus corpus A's (the paper's 3.6: anger
  sits elsewhere in the two corpora);
* ``calibrated``: the CCCs after a per-dimension affine map ``v' = a v + b`` fitted by least squares
  from A's class centroids to B's (:func:`affine_calibration`), applied to the predictions.
"""

from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from espnet_ser.labels import read_labels, vote_distribution
from espnet_ser.metrics import ccc_scores, class_codes, confusion_of_codes, ece, entropy, jsd, reject_curve, spearman, spearman_p, ua_of

FRACTIONS = tuple(round(0.1 * i, 1) for i in range(1, 11))


def class_centroids(emotion: Sequence[Optional[str]], vad: np.ndarray, classes: Sequence[str]) -> Dict[str, List[float]]:
    """Mean V/A/D (0-1) of each class over the utterances with that class and all three dimensions.

    >>> class_centroids(["a", "a", "b", None], np.array([[0.2, 0.4, 0.6], [0.4, 0.4, 0.8], [1.0, 1.0, 1.0], [0, 0, 0]]), ["a", "b", "c"])
    {'a': [0.3, 0.4, 0.7], 'b': [1.0, 1.0, 1.0]}
    """
    out = {}
    vad = np.asarray(vad, dtype=np.float64)
    full = ~np.isnan(vad).any(axis=1)
    for c in classes:
        m = np.array([e == c for e in emotion]) & full
        if m.any():
            out[c] = [round(float(x), 6) for x in vad[m].mean(axis=0)]
    return out


def nearest_centroid(vad: np.ndarray, centroids: Dict[str, Sequence[float]]) -> List[str]:
    """The class whose centroid is nearest (Euclidean) to each V/A/D row.

    >>> nearest_centroid(np.array([[0.1, 0.1, 0.1], [0.9, 0.8, 0.9]]), {"low": [0, 0, 0], "high": [1, 1, 1]})
    ['low', 'high']
    """
    names = list(centroids)
    c = np.array([centroids[n] for n in names], dtype=np.float64)
    d = ((np.asarray(vad, dtype=np.float64)[:, None, :] - c[None]) ** 2).sum(-1)
    return [names[i] for i in d.argmin(axis=1)]


def affine_calibration(src: Dict[str, Sequence[float]], dst: Dict[str, Sequence[float]]):
    """Per dimension, ``(a, b)`` minimising ``sum_c (a src_c + b - dst_c)^2`` over the classes in both
    (at least 2; a dimension whose source centroids are all equal gets a = 1, b = the mean shift).

    >>> a, b = affine_calibration({"x": [0.2, 0.5, 0.1], "y": [0.6, 0.5, 0.3]}, {"x": [0.5, 0.7, 0.1], "y": [1.3, 0.7, 0.3]})
    >>> (a.round(6) + 0.0).tolist(), (b.round(6) + 0.0).tolist()    # V: 2x + 0.1; A: constant, shifted 0.2; D: x
    ([2.0, 1.0, 1.0], [0.1, 0.2, 0.0])
    """
    shared = [c for c in src if c in dst]
    if len(shared) < 2:
        raise ValueError(f"an affine map needs at least 2 shared classes, got {shared}")
    x = np.array([src[c] for c in shared], dtype=np.float64)
    y = np.array([dst[c] for c in shared], dtype=np.float64)
    a, b = np.ones(x.shape[1]), np.zeros(x.shape[1])
    for d in range(x.shape[1]):
        if np.ptp(x[:, d]) == 0:
            b[d] = float((y[:, d] - x[:, d]).mean())
        else:
            a[d], b[d] = np.polyfit(x[:, d], y[:, d], 1)
    return a, b


def calibration_view(p, source_dir: Path, target_dir: Path) -> Dict:
    """``centroid_shift`` between two training dirs' class centroids and the CCCs of ``p``'s predicted
    V/A/D before and after the affine map from the first corpus's centroids to the second's."""
    classes = p.class_list or sorted({e for e in p.ref_emotion if e is not None})
    a_lab, b_lab = read_labels(source_dir), read_labels(target_dir)
    if any(x.emotion is None or x.vad is None for x in (a_lab, b_lab)):
        return {}
    ca, cb = class_centroids(a_lab.emotion, a_lab.vad, classes), class_centroids(b_lab.emotion, b_lab.vad, classes)
    shift = {c: [round(y - x, 6) for x, y in zip(ca[c], cb[c])] for c in ca if c in cb}
    if len(shift) < 2:
        return {"centroid_shift": shift}
    a, b = affine_calibration(ca, cb)
    calibrated = np.clip(p.hyp_vad * a + b, 0.0, 1.0)
    return {"centroid_shift": shift, "calibration": {"from": str(source_dir), "to": str(target_dir),
                                                     "a": a.tolist(), "b": b.tolist()},
            "uncalibrated": ccc_scores(p.hyp_vad, p.ref_vad), "calibrated": ccc_scores(calibrated, p.ref_vad)}


#: the reject curves of the ``beyond`` section, in display order, with what each measures
REJECT_CURVES = {"reject_ua": "UA", "reject_ccc": "CCC mean", "reject_vad_mae": "V/A/D mean absolute error"}


def reject_curves(b: Dict) -> Dict:
    """The reject curves present in a ``beyond`` section (:data:`REJECT_CURVES`)."""
    return {k: b[k] for k in REJECT_CURVES if k in b}


def beyond_scores(p, train_ref: Optional[Path] = None, calibrate=None, fit_vad_classes: bool = True) -> Dict:
    """The ``beyond`` section of ``ser_score`` for a :class:`espnet_ser.evaluation.scoring.Paired`
    (``calibrate``: the training data dirs (A, B) of a mismatched model, see the module docstring;
    ``fit_vad_classes=False``: no classes from V/A/D, for a caller that fits their centroids per fold)."""
    out: Dict = {}
    ref_codes = None
    if p.hyp_probs is not None and p.ref_emotion is not None:
        ref_codes = class_codes(p.ref_emotion, p.class_list)
        out["ece"] = ece(p.hyp_probs, ref_codes)
        hyp_codes = p.hyp_probs.argmax(axis=1)
        if p.hyp_class_entropy is not None:
            unc, out["class_uncertainty"] = p.hyp_class_entropy, "class_entropy (MC dropout or ensemble)"
        else:
            unc, out["class_uncertainty"] = entropy(p.hyp_probs), "entropy of probs"
        labelled = np.flatnonzero(ref_codes >= 0)
        if labelled.size:
            k = len(p.class_list)
            curve = reject_curve(unc[labelled], lambda i: ua_of(confusion_of_codes(ref_codes[labelled][i], hyp_codes[labelled][i], k)), FRACTIONS)
            out["reject_ua"] = curve
        if p.ref_votes is not None:
            q = vote_distribution(p.ref_votes)
            has = ~np.isnan(q).any(axis=1)
            out["n_votes"] = int(has.sum())
            if has.any():
                out["jsd_votes"] = float(jsd(p.hyp_probs[has], q[has]).mean())
                out["ece_votes"] = ece(p.hyp_probs[has], q[has])
                out["spearman_uncertainty_disagreement"] = rho = spearman(unc[has], entropy(q[has]))
                out["spearman_uncertainty_disagreement_p"] = spearman_p(rho, int(has.sum()))
    if p.hyp_vad is not None and p.ref_vad is not None:
        if p.hyp_vad_std is not None:
            u = p.hyp_vad_std.mean(axis=1)
            out["reject_ccc"] = reject_curve(u, lambda i: ccc_scores(p.hyp_vad[i], p.ref_vad[i])["ccc_mean"], FRACTIONS)
            out["reject_vad_mae"] = reject_curve(u, lambda i: float(np.nanmean(np.abs(p.hyp_vad[i] - p.ref_vad[i]))), FRACTIONS)
            if p.ref_raters is not None:
                rs = np.nanmean(p.ref_raters[:, 3:6], axis=1) if np.isfinite(p.ref_raters[:, 3:6]).any() else None
                if rs is not None:
                    ok = np.isfinite(rs)
                    out["spearman_vad_std_rater_std"] = rho = spearman(u[ok], rs[ok])
                    out["spearman_vad_std_rater_std_p"] = spearman_p(rho, int(ok.sum()))
        if p.ref_emotion is not None and p.class_list is not None:
            out.update(class_dimension_view(p, train_ref, fit_vad_classes))
        if calibrate is not None and p.ref_emotion is not None:
            out.update(calibration_view(p, Path(calibrate[0]), Path(calibrate[1])))
    return out


def vad_class_view(parts, classes: Sequence[str]) -> Dict:
    """Classes read off each part's predicted V/A/D by the nearest of that part's class centroids
    (``parts``: ``(Paired, centroids)``, e.g. one per fold), pooled over the parts: their UA against the
    reference classes and, for models with a class head, how often they agree with it."""
    ref, from_vad, head = [], [], []
    for p, centroids in parts:
        ref += p.ref_emotion
        from_vad += nearest_centroid(p.hyp_vad, centroids)
        if p.hyp_probs is not None:
            head += [p.class_list[i] for i in p.hyp_probs.argmax(axis=1)]
    out = {"ua": ua_of(confusion_of_codes(class_codes(ref, classes), class_codes(from_vad, classes), len(classes)))}
    if head:
        out["agreement"] = float(np.mean([a == b for a, b in zip(head, from_vad)]))
    return out


def class_dimension_view(p, train_ref: Optional[Path], fit: bool = True) -> Dict:
    classes = p.class_list
    predicted = class_centroids(p.ref_emotion, p.hyp_vad, classes)
    out: Dict = {"centroids": {c: {"reference": r, "predicted": predicted.get(c)}
                               for c, r in class_centroids(p.ref_emotion, p.ref_vad, classes).items()}}
    if not fit:
        return out
    if train_ref is not None:
        t = read_labels(train_ref)
        fitted = class_centroids(t.emotion, t.vad, classes) if t.emotion is not None and t.vad is not None else {}
        source = str(train_ref)
    else:
        fitted, source = {}, None
    if not fitted:
        fitted, source = class_centroids(p.ref_emotion, p.ref_vad, classes), "the test references (no training labels given)"
    if len(fitted) < 2:
        return out
    out["vad_to_class"] = {"centroids_from": source, "centroids": fitted, **vad_class_view([(p, fitted)], classes)}
    return out


def beyond_markdown(b: Dict) -> List[str]:
    """Lines of the ``beyond`` section for scores.md."""
    if not b:
        return []
    lines = ["", "Beyond accuracy (espnet_ser.evaluation.beyond)", ""]
    for k in ("ece", "ece_votes", "jsd_votes", "spearman_uncertainty_disagreement", "spearman_vad_std_rater_std"):
        if k in b:
            lines.append(f"- {k}: {b[k]:.3f}" + (f" (p {b[k + '_p']:.3g})" if k + "_p" in b else ""))
    if "class_uncertainty" in b:
        lines.append(f"- class uncertainty: {b['class_uncertainty']}")
    for k, name in REJECT_CURVES.items():
        if k in b:
            lines.append(f"- {name} vs fraction kept (most certain first): " +
                         ", ".join(f"{c['fraction']:.1f}: {c['value']:.3f}" for c in b[k]))
    if "centroids" in b:
        lines += ["", "| class | reference V/A/D | predicted V/A/D |", "|---|---|---|"]
        fmt = lambda v: "–" if v is None else " / ".join(f"{x:.2f}" for x in v)  # noqa: E731
        lines += [f"| {c} | {fmt(v['reference'])} | {fmt(v['predicted'])} |" for c, v in b["centroids"].items()]
    if "calibrated" in b:
        lines.append("")
        lines.append("- class centroid shift (target - source corpus, V/A/D): " + "; ".join(
            f"{c} {' / '.join(f'{x:+.2f}' for x in v)}" for c, v in b["centroid_shift"].items()))
        lines.append(f"- CCC mean before / after the affine V/A/D calibration: {b['uncalibrated']['ccc_mean']:.3f} / "
                     f"{b['calibrated']['ccc_mean']:.3f}")
    if "vad_to_class" in b:
        v = b["vad_to_class"]
        lines.append("")
        lines.append(f"- classes from the predicted V/A/D (nearest centroid, centroids from {v['centroids_from']}): "
                     f"UA {v['ua']:.3f}" + (f"; agreement with the class head {v['agreement']:.3f}" if "agreement" in v else ""))
    return lines

