"""Is system B different from system A? Two tests, both on the same utterances / folds.

Paired bootstrap (Koehn, 2004 style; per metric). Draw ``n_boot`` resamples of the N utterance
indices with replacement (seeded); on each, compute ``delta = metric(B) - metric(A)`` on the *same*
indices. Reported: the observed delta, the 95 % percentile interval of the resampled deltas, and the
two-sided p-value ``p = min(1, 2 * min(P(delta* <= 0), P(delta* >= 0)))``. Identical systems give
delta* = 0 on every draw, hence p = 1.

Paired test over folds: a two-sided paired t-test (``scipy.stats.ttest_rel``) on the per-fold metric
values of A and B. With zero variance of the differences it returns p = 1 when the folds agree
exactly, p = 0 otherwise.
"""

from typing import Callable, Dict, Sequence

import numpy as np
from scipy import stats

from espnet_ser.metrics import ccc_scores
from espnet_ser.scoring import Paired

ALPHA = 0.05
BOOTSTRAP_TEST = "paired bootstrap over utterances (1000 resamples, seed 0), two-sided, p < 0.05"
FOLD_TEST = "paired t-test over folds, two-sided"


def _codes(p: Paired):
    if not p.class_list:  # a model without a discrete head: only V/A/D metrics apply
        return None, None
    classes = {c: i for i, c in enumerate(p.class_list or [])}
    ref = None if p.ref_emotion is None else np.array([-1 if e is None else classes[e] for e in p.ref_emotion])
    hyp = None if p.hyp_emotion is None else np.array([classes[e] for e in p.hyp_emotion])
    return ref, hyp


def fast_metric(name: str, n_classes: int) -> Callable[..., float]:
    """``metric(ref_codes, hyp_codes, ref_vad, hyp_vad)`` on index arrays (-1: no class), for resampling.

    Same definitions as :mod:`espnet_ser.metrics` (tests compare the two), counted with ``bincount``
    so that a thousand resamples take well under a second.
    """
    k = n_classes

    def counts(r, h):
        m = r >= 0
        cm = np.bincount(r[m] * k + h[m], minlength=k * k).reshape(k, k)
        return cm, cm.sum(axis=1), cm.sum(axis=0), np.diag(cm)

    if name.startswith("ccc_"):
        return lambda r, h, rv, hv: ccc_scores(hv, rv)[name]
    if name == "ua":
        def ua(r, h, rv, hv):
            _, rows, _, tp = counts(r, h)
            present = rows > 0
            return float(np.mean(tp[present] / rows[present])) if present.any() else float("nan")
        return ua
    if name == "f1_macro":
        def f1(r, h, rv, hv):
            _, rows, cols, tp = counts(r, h)
            used = (rows > 0) | (cols > 0)
            if not (rows > 0).any():
                return float("nan")
            return float(np.mean(2 * tp[used] / (rows[used] + cols[used])))
        return f1
    raise ValueError(f"no significance test for metric {name!r}")


def _take(x, idx):
    return None if x is None else x[idx]


def _draws(n: int, n_boot: int, seed: int):
    """``n_boot`` resamples of ``range(n)`` with replacement (seeded), one at a time."""
    rng = np.random.default_rng(seed)
    for _ in range(n_boot):
        yield rng.integers(0, n, size=n)


def paired_bootstrap(a: Paired, b: Paired, metric: str, n_boot: int = 1000, seed: int = 0) -> Dict[str, float]:
    """Bootstrap the difference ``metric(b) - metric(a)`` over utterances (see the module docstring)."""
    if a.ids != b.ids:
        raise ValueError("paired bootstrap needs both systems scored on the same utterances in one order")
    fn = fast_metric(metric, len(a.class_list or b.class_list or []))
    (ra, ha), (rb, hb) = _codes(a), _codes(b)
    n = len(a.ids)

    def delta(idx):
        return (fn(_take(rb, idx), _take(hb, idx), _take(b.ref_vad, idx), _take(b.hyp_vad, idx))
                - fn(_take(ra, idx), _take(ha, idx), _take(a.ref_vad, idx), _take(a.hyp_vad, idx)))

    observed = delta(np.arange(n))
    deltas = np.array([delta(idx) for idx in _draws(n, n_boot, seed)])
    deltas = deltas[~np.isnan(deltas)]
    if deltas.size == 0 or np.isnan(observed):
        return {"delta": float(observed), "ci_low": float("nan"), "ci_high": float("nan"), "p": float("nan")}
    p = min(1.0, 2.0 * min(np.mean(deltas <= 0), np.mean(deltas >= 0)))
    lo, hi = np.percentile(deltas, [2.5, 97.5])
    return {"delta": float(observed), "ci_low": float(lo), "ci_high": float(hi), "p": float(p)}


def paired_fold_test(a: Sequence[float], b: Sequence[float]) -> Dict[str, float]:
    """Paired t-test on per-fold values (same folds, same order)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.size < 2:
        return {"delta": float(np.mean(b - a)) if a.shape == b.shape and a.size else float("nan"), "p": float("nan")}
    d = b - a
    if np.allclose(d, d[0]):
        return {"delta": float(d.mean()), "p": 1.0 if np.allclose(d, 0) else 0.0}
    return {"delta": float(d.mean()), "p": float(stats.ttest_rel(b, a).pvalue)}


def significant(result: Dict[str, float], alpha: float = ALPHA) -> bool:
    return bool(result.get("p") is not None and not np.isnan(result["p"]) and result["p"] < alpha)


def bootstrap_std(p: Paired, metric: str, n_boot: int = 200, seed: int = 0) -> float:
    """Standard deviation of ``metric`` over bootstrap resamples of the utterances (one-run error bar)."""
    fn = fast_metric(metric, len(p.class_list or []))
    r, h = _codes(p)
    vals = np.array([fn(_take(r, idx), _take(h, idx), _take(p.ref_vad, idx), _take(p.hyp_vad, idx))
                     for idx in _draws(len(p.ids), n_boot, seed)], dtype=float)
    vals = vals[~np.isnan(vals)]
    return float(vals.std(ddof=1)) if vals.size > 1 else float("nan")
