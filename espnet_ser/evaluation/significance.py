"""Is system B different from system A? Two paired tests, and a correction for testing many cells.

**Paired bootstrap** (per metric; the statistic is exactly the one shown in the table cell).
A cell that shows the *mean over folds* is tested with a fold-stratified bootstrap: each of ``n_boot``
draws resamples the utterances of every fold with replacement, inside that fold (seeded), and the
statistic is the mean over folds of the per-fold metric. A cell of one run (or a pooled row) is the
same with one stratum. On each draw ``d* = stat(B) - stat(A)`` on the *same* indices. Reported: the
observed difference ``delta`` (= the difference of the two cells), the 95 % percentile interval of d*,
and the two-sided p-value with the +1 correction (Davison & Hinkley 1997, eq. 4.11)::

    p = min(1, 2 * min((1 + #{d* <= 0}) / (B + 1), (1 + #{d* >= 0}) / (B + 1)))

with ``B`` the number of draws on which the statistic is defined. p is never 0: its smallest value is
``2 / (B + 1)`` (0.002 for B = 1000), reached when every d* has one sign. Identical systems give
d* = 0 on every draw, hence p = 1.

**Paired t-test over folds**: two-sided, on the per-fold values of A and B (``scipy.stats.ttest_rel``).
It is *undefined* (p = NaN, no mark, the reason recorded) with fewer than 2 folds or when the fold
differences have zero variance (t = ±inf or 0/0).

**Multiple comparisons**: the tests of one kind in one table form a family; their p-values are
adjusted by Holm's step-down method (default; controls the family-wise error rate), by
Benjamini-Hochberg (``bh``; controls the false discovery rate) or not at all (``none``). A cell is
marked when its adjusted p < ``ALPHA``. Undefined tests are not counted in the family.
"""

import functools
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from scipy import stats

from espnet_ser import VAD_DIMS
from espnet_ser.metrics import class_codes, f1_of, ua_of, wa_of
from espnet_ser.evaluation.scoring import Paired

ALPHA = 0.05
N_BOOT = 1000
CORRECTIONS = ("holm", "bh", "none")
CORRECTION_NAMES = {"holm": "Holm", "bh": "Benjamini-Hochberg", "none": "no correction"}
BOOTSTRAP_TEST = f"paired bootstrap of the cell's statistic ({N_BOOT} resamples within folds, seed 0, +1 corrected), two-sided"
FOLD_TEST = "paired t-test over folds, two-sided"

Systems = Union[Paired, Sequence[Paired]]


def class_union(*systems: Paired) -> List[str]:
    """Every class known to any of the systems or found in their references, in first-seen order."""
    seen = dict.fromkeys(c for p in systems for c in [*(p.class_list or []), *(p.hyp_emotion or []), *(p.ref_emotion or [])])
    return [c for c in seen if c is not None]


def _codes(p: Paired, classes: Optional[Sequence[str]] = None):
    """Reference and hypothesis classes as indices into ``classes`` (default: ``p``'s own; -1 = no class)."""
    classes = class_union(p) if classes is None else list(classes)
    return tuple(None if x is None else class_codes(x, classes) for x in (p.ref_emotion, p.hyp_emotion))


def resample_counts(sizes: Tuple[int, ...], n_boot: int, seed: int) -> List[np.ndarray]:
    """How often each utterance is drawn: per stratum ``k`` a ``(1 + n_boot, n_k)`` count matrix whose
    row 0 is all ones (the observed data) and row ``r`` counts draw ``r``'s indices.

    The draws are those of a literal loop (``rng = default_rng(seed)``; for each draw, for each stratum
    in order, ``rng.integers(0, n_k, n_k)``); a metric is then a function of the weighted counts, so a
    draw costs one matrix product instead of a pass over resampled copies. Cached (the last few
    requests): every cell of a table with the same strata reuses one set of draws. The matrices are
    ``uint8`` (a count above 255 switches to ``uint16``): 44 MB for 1,000 draws of 44,395 utterances.

    >>> c = resample_counts((3,), 2, 0)[0]
    >>> c.shape, c[0].tolist(), c.sum(axis=1).tolist()
    ((3, 3), [1, 1, 1], [3, 3, 3])
    """
    return [c for c in _resample_counts(tuple(int(n) for n in sizes), int(n_boot), int(seed))]


@functools.lru_cache(maxsize=4)
def _resample_counts(sizes: Tuple[int, ...], n_boot: int, seed: int) -> Tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    out = [np.empty((1 + n_boot, n), dtype=np.uint16) for n in sizes]
    for c in out:
        c[0] = 1
    for r in range(1, 1 + n_boot):
        for n, c in zip(sizes, out):
            c[r] = np.bincount(rng.integers(0, n, size=n), minlength=n)
    out = [c.astype(np.uint8) if c.max() <= 255 else c for c in out]  # uint8 unless a count exceeds 255
    for c in out:
        c.setflags(write=False)
    return tuple(out)


def bootstrap_p(deltas: Sequence[float]) -> float:
    """Two-sided bootstrap p-value of resampled differences, +1 corrected (module docstring).

    >>> bootstrap_p([0.1, 0.2, 0.3, 0.4])            # all positive: the smallest p with B = 4, 2/5
    0.4
    >>> bootstrap_p([-0.1, 0.2, 0.3, 0.4, 0.1, 0.2, 0.05, 0.3, 0.2])   # 2 * (1 + 1) / 10
    0.4
    """
    d = np.asarray(deltas, dtype=float)
    d = d[~np.isnan(d)]
    if d.size == 0:
        return float("nan")
    b = d.size
    return float(min(1.0, 2.0 * min((1 + np.sum(d <= 0)) / (b + 1), (1 + np.sum(d >= 0)) / (b + 1))))


def _folds(x: Systems) -> List[Paired]:
    return [x] if isinstance(x, Paired) else list(x)


def paired_bootstrap(a: Systems, b: Systems, metric: str, n_boot: int = N_BOOT, seed: int = 0) -> Dict[str, float]:
    """Bootstrap ``stat(b) - stat(a)``; ``a``/``b`` are one Paired (pooled) or one per fold (fold mean).

    Each draw resamples every fold in turn (fold order, then ``rng.integers(0, n_k, n_k)``), so a
    literal loop over folds with the same generator reproduces it (a test does); the metric is then
    computed for all draws at once.
    """
    fa, fb = _folds(a), _folds(b)
    if len(fa) != len(fb) or any(x.ids != y.ids for x, y in zip(fa, fb)):
        raise ValueError("paired bootstrap needs both systems scored on the same utterances, fold by fold, in one order")
    classes = class_union(*fa, *fb)
    counts = resample_counts(tuple(len(p.ids) for p in fa), n_boot, seed)

    def stat(folds):  # (1 + B,) fold means of the metric; row 0: the observed data
        return _row_mean([_metric_rows(metric, classes, p, c) for p, c in zip(folds, counts)])

    both = stat(fb) - stat(fa)
    observed, deltas = float(both[0]), both[1:]
    deltas = deltas[~np.isnan(deltas)]
    if deltas.size == 0 or np.isnan(observed):
        return {"delta": float(observed), "ci_low": float("nan"), "ci_high": float("nan"), "p": float("nan"),
                "n_boot": 0, "strata": len(fa), "note": "metric undefined on the data"}
    lo, hi = np.percentile(deltas, [2.5, 97.5])
    return {"delta": float(observed), "ci_low": float(lo), "ci_high": float(hi), "p": bootstrap_p(deltas),
            "n_boot": int(deltas.size), "strata": len(fa)}


def _row_mean(columns) -> np.ndarray:
    """Per row, the mean of the columns' defined (non-NaN) values; NaN where none is defined."""
    a = np.stack(list(columns), axis=1)
    ok = ~np.isnan(a)
    with np.errstate(invalid="ignore"):
        return np.where(ok.any(axis=1), np.nansum(a, axis=1) / ok.sum(axis=1), np.nan)


_CHUNK = 2_000_000  # count-matrix entries converted to floats at a time: bounded memory on large test sets


def _weighted_sums(counts: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``counts @ columns`` (R, n) x (n, c) in row chunks, float64: per draw, each column's sum over the
    resampled utterances."""
    step = max(1, _CHUNK // max(1, counts.shape[1]))
    return np.concatenate([counts[i:i + step].astype(np.float64) @ columns for i in range(0, len(counts), step)])


def _ccc_rows(pred: np.ndarray, ref: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """CCC per dimension on every resample (rows of ``counts``): (R, 3), NaN where undefined.

    The formula of :func:`espnet_ser.metrics.ccc` (population statistics, NaN references left out, NaN
    with fewer than 2 items or a zero denominator) from weighted moments: with w the draw counts of the
    scored items, mean = sum(w x) / sum(w), var = sum(w x^2) / sum(w) - mean^2 and so on, on values
    shifted by the reference's overall mean first (no cancellation at the scale of a metric).
    """
    m = ~np.isnan(ref)
    mf = m.astype(np.float64)
    n = np.maximum(mf.sum(axis=0), 1)
    shift = np.where(m, ref, 0).sum(axis=0) / n  # one shift for both sides: (mean_x - mean_y) unchanged
    x, y = np.where(m, pred - shift, 0.0), np.where(m, ref - shift, 0.0)
    s = _weighted_sums(counts, np.concatenate([mf, x, y, x * x, y * y, x * y], axis=1)).reshape(len(counts), 6, -1)
    cnt, sx, sy, sxx, syy, sxy = s.transpose(1, 0, 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my = sx / cnt, sy / cnt
        vx, vy, cov = sxx / cnt - mx * mx, syy / cnt - my * my, sxy / cnt - mx * my
        den = vx + vy + (mx - my) ** 2
        out = 2 * cov / den
    return np.where((cnt >= 2) & (den > 1e-12 * (1 + np.abs(vx) + np.abs(vy))), out, np.nan)


def _metric_rows(metric: str, classes: Sequence[str], p: Paired, counts: np.ndarray) -> np.ndarray:
    """``metric`` on ``p`` resampled by each row of ``counts`` (R, n): an (R,) array."""
    if metric.startswith("ccc_"):
        cccs = _ccc_rows(np.asarray(p.hyp_vad, float), np.asarray(p.ref_vad, float), counts)
        if metric != "ccc_mean":
            return cccs[:, [f"ccc_{d}" for d in VAD_DIMS].index(metric)]
        return _row_mean(cccs.T)  # the mean of the dimensions that could be scored, as ccc_scores
    of = {"ua": ua_of, "wa": wa_of, "f1_macro": f1_of}.get(metric)
    if of is None:
        raise ValueError(f"no significance test for metric {metric!r}")
    k = len(classes)
    r, h = _codes(p, classes)
    scored = np.flatnonzero(r >= 0)  # a reference of -1 (no class) is left out, as confusion_of_codes
    cells = np.zeros((len(r), k * k))
    cells[scored, r[scored] * k + h[scored]] = 1.0
    cms = np.rint(_weighted_sums(counts, cells)).astype(np.int64).reshape(-1, k, k)  # one confusion matrix per draw
    return np.array([of(cm) for cm in cms])


def paired_fold_test(a: Sequence[float], b: Sequence[float]) -> Dict[str, float]:
    """Paired t-test on per-fold values (same folds, same order); undefined cases carry a ``note``."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired fold test needs the same folds on both sides, got {a.size} and {b.size}")
    d = b - a
    delta = float(d.mean()) if d.size else float("nan")
    if d.size < 2 or np.isnan(d).any():
        return {"delta": delta, "p": float("nan"), "n": int(d.size), "note": "fewer than 2 folds with a value: t-test undefined"}
    if np.ptp(d) == 0:
        return {"delta": delta, "p": float("nan"), "n": int(d.size), "note": "fold differences have zero variance: t-test undefined"}
    return {"delta": delta, "p": float(stats.ttest_rel(b, a).pvalue), "n": int(d.size)}


def adjust(p: Sequence[float], method: str = "holm") -> np.ndarray:
    """Adjusted p-values of one family (NaN entries are not tests: they stay NaN and are not counted).

    >>> [round(float(x), 3) for x in adjust([0.01, 0.04, 0.03, 0.005], "holm")]
    [0.03, 0.06, 0.06, 0.02]
    >>> [round(float(x), 3) for x in adjust([0.01, 0.04, 0.03, 0.005], "bh")]
    [0.02, 0.04, 0.04, 0.02]
    """
    if method not in CORRECTIONS:
        raise ValueError(f"unknown correction {method!r}; choose one of {', '.join(CORRECTIONS)}")
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if m == 0:
        return out
    vals = p[ok]
    if method == "none":
        out[ok] = vals
        return out
    order = np.argsort(vals, kind="stable")
    ranked = vals[order]
    if method == "holm":  # p_(i) * (m - i + 1), made non-decreasing
        adj = np.maximum.accumulate(ranked * (m - np.arange(m)))
    else:  # BH: p_(i) * m / i, made non-increasing from the largest
        adj = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def mark_family(results: Sequence[Optional[Dict[str, float]]], method: str = "holm", alpha: float = ALPHA) -> List[bool]:
    """Adjust one family's p-values in place (``p_adj``) and say which results are significant."""
    present = [r for r in results if r is not None]
    adj = adjust([r.get("p", float("nan")) for r in present], method)
    for r, q in zip(present, adj):
        r["p_adj"] = float(q)
    return [r is not None and not np.isnan(r["p_adj"]) and r["p_adj"] < alpha for r in results]


def family_size(results: Sequence[Optional[Dict[str, float]]]) -> int:
    """How many defined tests a family holds (the m of the correction)."""
    return sum(1 for r in results if r is not None and not np.isnan(r.get("p", float("nan"))))


def _resampled(p: Paired, metric: str, n_boot: int, seed: int) -> np.ndarray:
    """``metric`` on each of ``n_boot`` resamples of ``p``'s utterances, the undefined ones left out."""
    vals = _metric_rows(metric, class_union(p), p, resample_counts((len(p.ids),), n_boot, seed)[0])[1:]
    return vals[~np.isnan(vals)]


def bootstrap_std(p: Paired, metric: str, n_boot: int = 200, seed: int = 0) -> float:
    """Standard deviation of ``metric`` over bootstrap resamples of the utterances (one-run error bar)."""
    vals = _resampled(p, metric, n_boot, seed)
    return float(vals.std(ddof=1)) if vals.size > 1 else float("nan")


def bootstrap_interval(p: Paired, metric: str, n_boot: int = 1000, seed: int = 0, level: float = 0.95):
    """Percentile bootstrap interval of ``metric`` over resamples of the utterances (NaN, NaN where undefined)."""
    vals = _resampled(p, metric, n_boot, seed)
    if not vals.size:
        return float("nan"), float("nan")
    lo, hi = np.percentile(vals, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return float(lo), float(hi)
