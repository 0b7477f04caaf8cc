"""The arithmetic of the openSMILE frontend's feature sets and views, without torch (``frontend: opensmile``).

Used by the frontend (:mod:`espnet_ser.model.frontend.opensmile_frontend`, which computes the features) and by
the classical system (:mod:`espnet_ser.classical`, which reads them from the cache and needs only where each
set's columns lie in a frame: :func:`layout_of`). The frontend's module doc says what the views are.
"""

from typing import Dict, List, Optional, Sequence, Tuple, Union

from espnet_ser.errors import InputError

FEATURE_SETS = ("eGeMAPSv02", "ComParE_2016", "emobase", "GeMAPSv01b")
FEATURE_LEVELS = {"lld": "LowLevelDescriptors", "lld_deltas": "LowLevelDescriptors_Deltas", "functionals": "Functionals"}


def window_starts(n: int, length: int, shift: int) -> List[int]:
    """Start samples of the windows of ``length`` samples shifted by ``shift`` over ``n`` samples; a last window
    ends at ``n`` where the shifts leave its end uncovered; ``n <= length`` gives one window, from 0.

    >>> window_starts(32000, 16000, 8000), window_starts(36800, 16000, 8000), window_starts(9000, 16000, 8000)
    ([0, 8000, 16000], [0, 8000, 16000, 20800], [0])
    """
    starts = list(range(0, max(n - length, 0) + 1, shift))
    if n > length and starts[-1] + length < n:
        starts.append(n - length)
    return starts


def nearest_windows(n: int, views: Sequence[Tuple[int, int]]) -> List[List[int]]:
    """For an utterance of ``n`` samples and views ``(length, shift)`` in samples (length 0: the whole utterance),
    the index of each view's window (:func:`window_starts`) nearest each frame: the frames are the windows of
    the shortest nonzero length; a window's centre is its start plus half its length within the utterance, and
    on a tie the earlier window is taken. One list per view, one index per frame.

    >>> nearest_windows(48000, [(0, 0), (16000, 8000), (32000, 16000)])  # 3 s: 1 s windows from 0, 0.5, 1, 1.5, 2 s
    [[0, 0, 0, 0, 0], [0, 1, 2, 3, 4], [0, 0, 0, 1, 1]]
    """
    def centres(length: int, shift: int) -> List[float]:
        if not length:
            return [n / 2]
        return [s + min(length, n) / 2 for s in window_starts(n, length, shift)]

    grid = centres(*min((v for v in views if v[0]), default=(0, 0)))
    out = []
    for view in views:
        own = centres(*view)
        out.append([min(range(len(own)), key=lambda j: (abs(own[j] - c), j)) for c in grid])
    return out


def parse(feature_set: Union[str, Sequence[str]] = "eGeMAPSv02", feature_level: str = "lld", fs: int = 16000,
          window: Union[float, Sequence[float]] = 0.0,
          window_shift: Union[None, float, Sequence[Optional[float]]] = None) -> Tuple[List[str], List[Tuple[int, int]]]:
    """The frontend's arguments checked: (its sets, its views as (length, shift) in samples, (0, 0) for the whole
    utterance); a wrong value is one line naming the ``frontend_conf`` key.

    >>> parse(["ComParE_2016", "eGeMAPSv02"], "functionals", 16000, [0, 1.0], [None, 0.5])
    (['ComParE_2016', 'eGeMAPSv02'], [(0, 0), (16000, 8000)])
    """
    sets = [feature_set] if isinstance(feature_set, str) else list(feature_set)
    bad = [s for s in sets if s not in FEATURE_SETS]
    if not sets or bad:
        raise InputError(f"frontend_conf feature_set must be one of {FEATURE_SETS} or a list of them, got {feature_set!r}")
    if feature_level not in FEATURE_LEVELS:
        raise InputError(f"frontend_conf feature_level must be one of {tuple(FEATURE_LEVELS)}, got {feature_level!r}")
    if len(sets) > 1 and feature_level != "functionals":
        raise InputError(f"frontend_conf feature_set {sets}: several sets only with feature_level functionals "
                         "(the sets' low-level descriptor frames do not align)")
    if len(set(sets)) < len(sets):
        raise InputError(f"frontend_conf feature_set {sets} names a set twice")
    lengths = list(window) if isinstance(window, (list, tuple)) else [window]
    shifts = list(window_shift) if isinstance(window_shift, (list, tuple)) else [window_shift] * len(lengths)
    if not lengths or len(shifts) != len(lengths):
        raise InputError(f"frontend_conf window {window!r} and window_shift {window_shift!r}: one shift (or none) "
                         "per window length")
    views = [_view(w, s, int(fs), window, window_shift) for w, s in zip(lengths, shifts)]
    if any(length for length, _ in views) and feature_level != "functionals":
        raise InputError(f"frontend_conf window {window!r}: functionals of fixed windows need feature_level functionals")
    if len(set(views)) < len(views):
        raise InputError(f"frontend_conf window {window!r} and window_shift {window_shift!r} name a view twice")
    return sets, views


#: the shortest window and shift (seconds): openSMILE's functionals summarise 10 ms frames, and a shift of a
#: few samples would make a long file tens of thousands of windows
MIN_WINDOW, MIN_SHIFT = 0.1, 0.01


def _view(window, window_shift, fs: int, given, given_shift) -> Tuple[int, int]:
    """One view's (length, shift) in samples, (0, 0) for the whole utterance; refused in one line unless
    finite seconds, the length 0 or at least :data:`MIN_WINDOW`, the shift at least :data:`MIN_SHIFT`."""
    import math

    try:
        length = float(window)
        shift = length / 2 if window_shift is None else float(window_shift)
    except (TypeError, ValueError):
        length = shift = float("nan")
    if not (length == 0 or (math.isfinite(length) and math.isfinite(shift) and length >= MIN_WINDOW
                            and shift >= MIN_SHIFT)):
        raise InputError(f"frontend_conf window {given!r} and window_shift {given_shift!r}: seconds, the window 0 "
                         f"(the whole utterance) or at least {MIN_WINDOW} s, the shift at least {MIN_SHIFT} s")
    return (int(round(length * fs)), int(round(shift * fs))) if length else (0, 0)


def set_sizes(sets: Sequence[str], feature_level: str) -> List[int]:
    """Each set's number of features at ``feature_level``, as openSMILE names them."""
    import opensmile

    return [len(opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, s),
                                feature_level=getattr(opensmile.FeatureLevel, FEATURE_LEVELS[feature_level])).feature_names)
            for s in sets]


def columns(sets: Sequence[str], sizes: Sequence[int], views: Sequence[Tuple[int, int]], fs: int) -> Dict[Tuple[str, float], Tuple[int, int]]:
    """(feature set, view length in seconds, 0 the whole utterance) -> its (start, stop) columns in a frame: view
    by view, each view's sets in order.

    >>> columns(["a", "b"], [3, 2], [(0, 0), (16000, 8000)], 16000)
    {('a', 0.0): (0, 3), ('b', 0.0): (3, 5), ('a', 1.0): (5, 8), ('b', 1.0): (8, 10)}
    """
    out, start = {}, 0
    for length, _ in views:
        for name, size in zip(sets, sizes):
            out[name, length / fs] = (start, start + size)
            start += size
    return out


def layout_of(frontend_conf: Dict) -> Dict[Tuple[str, float], Tuple[int, int]]:
    """:func:`columns` of an openSMILE ``frontend_conf`` (checked by :func:`parse`)."""
    conf = dict(frontend_conf or {})
    try:
        sets, views = parse(**conf)
    except TypeError as e:  # an unknown key
        raise InputError(f"frontend_conf: {e}") from None
    fs = int(conf.get("fs", 16000))
    return columns(sets, set_sizes(sets, conf.get("feature_level", "lld")), views, fs)
