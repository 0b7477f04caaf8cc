"""Annotator labels: each evaluator's class votes and V/A/D ratings, gathered per utterance.

A corpus parser adds one vote per evaluator (:meth:`Ratings.vote`: the evaluator's class names, already
mapped to project classes or ``None`` where the class set has no such class) and one rating per
evaluator (:meth:`Ratings.rate`: raw V, A, D on the corpus scale, NaN where missing). Then
:meth:`Ratings.summary` gives what the data dir holds (``espnet_ser.labels.ANNOTATOR_FILES``):

* ``emotion_votes``: the vote mass per project class. An evaluator who names k classes gives 1/k to
  each. Mass on a class outside the class set is not kept (it is counted, per original name, by the
  corpus's drop report); the model's soft target is the kept mass renormalised
  (:func:`espnet_ser.labels.vote_distribution`).
* ``vad_raters``: per dimension, the mean and the population std (divide by n) of the present ratings
  on the 0-1 scale, and the number of evaluators who rated at least one dimension.

A rating outside the corpus scale is left out and counted.
"""

import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from espnet_ser.corpora.drops import DropCounter


@dataclass
class Ratings:
    votes: Dict[str, float] = field(default_factory=dict)
    voters: int = 0
    vad: List[Tuple[float, float, float]] = field(default_factory=list)

    def vote(self, classes: Sequence[Optional[str]], names: Sequence[str], counter: DropCounter, where: str) -> None:
        """One evaluator's vote: ``classes[i]`` is the project class of original name ``names[i]``
        (None: outside the class set, counted as ``vote_unmapped:<name>``)."""
        if not classes:
            return
        self.voters += 1
        share = 1.0 / len(classes)
        for cls, name in zip(classes, names):
            if cls is None:
                counter.note(f"vote_unmapped:{name}", where)
            else:
                self.votes[cls] = self.votes.get(cls, 0.0) + share

    def rate(self, raw: Sequence[float], lo: float, hi: float, counter: DropCounter, where: str) -> None:
        """One evaluator's raw (V, A, D); NaN where not rated; outside ``[lo, hi]`` counted and left out."""
        vals = []
        for v in raw:
            if not math.isnan(v) and not lo <= v <= hi:
                counter.note("rating_out_of_range", where)
                v = math.nan
            vals.append(v)
        if any(not math.isnan(v) for v in vals):
            self.vad.append(tuple(vals))

    def summary(self, lo: float, hi: float):
        """``(votes or None, vad_raters or None)``: ``votes`` maps class -> mass (None when no evaluator
        named a class of the set); ``vad_raters`` is ``(means, stds, n)`` on 0-1 (None: no rating)."""
        votes = {c: round(m, 6) for c, m in sorted(self.votes.items())} or None
        if not self.vad:
            return votes, None
        means, stds = [], []
        for dim in zip(*self.vad):
            xs = [(v - lo) / (hi - lo) for v in dim if not math.isnan(v)]
            if not xs:
                means.append(math.nan)
                stds.append(math.nan)
                continue
            m = sum(xs) / len(xs)
            means.append(m)
            stds.append(math.sqrt(sum((x - m) ** 2 for x in xs) / len(xs)))
        return votes, (tuple(means), tuple(stds), len(self.vad))
