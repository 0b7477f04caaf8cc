"""Counts of what preparation kept and dropped, by reason, with a printable summary."""

import math
from collections import Counter
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from espnet_ser.corpora.audio import inspect_audio
from espnet_ser.errors import InputError
from espnet_ser.labels import vad_to_unit


class DropCounter:
    def __init__(self, corpus: str):
        self.corpus = corpus
        self.kept = 0
        self.dropped: Counter = Counter()
        #: labels removed from utterances that were kept (e.g. a class outside the class set)
        self.labels_removed: Counter = Counter()
        self.examples: Dict[str, List[str]] = {}
        #: annotator-level items left out of the vote distributions and rating statistics (by reason)
        self.annotations: Counter = Counter()
        self.annotation_examples: Dict[str, List[str]] = {}
        #: kept utterances whose audio the format stage (stage 2) converts to 16 kHz mono, by what changes
        self.converted: Counter = Counter()

    def drop(self, reason: str, utt_id: str) -> None:
        self.dropped[reason] += 1
        self.examples.setdefault(reason, [])
        if len(self.examples[reason]) < 5:
            self.examples[reason].append(utt_id)

    def admit(self, utt_id: str, wav: Path, has_label: bool, no_label_reason: str = "no_usable_label") -> bool:
        """Keep an utterance whose audio is usable and that still carries a label; else count the drop.
        Audio that the format stage converts (another rate, channels or container) is kept and counted
        in :attr:`converted`."""
        problem, conversion = inspect_audio(wav)
        if problem:
            self.drop(problem, utt_id)
            return False
        if not has_label:
            self.drop(no_label_reason, utt_id)
            return False
        self.kept += 1
        if conversion:
            self.converted[conversion] += 1
        return True

    def map_class(self, utt_id: str, code: str, mapping: Mapping[str, str], drop_unlabelled: bool) -> Tuple[Optional[str], bool]:
        """(class name or None, keep?) for a corpus code; a code outside ``mapping`` loses its class
        (counted) or, with ``drop_unlabelled``, drops the utterance (counted)."""
        emotion = mapping.get(code)
        if emotion is None:
            if drop_unlabelled:
                self.drop(f"class_{code}_not_in_set", utt_id)
                return None, False
            self.remove_label(f"class_{code}_not_in_set")
        return emotion, True

    def corpus_labels(self, utt_id: str, code: str, mapping: Mapping[str, str], drop_unlabelled: bool,
                      raw_vad: Sequence[float], lo: float, hi: float) -> Tuple[Optional[str], Optional[Tuple[float, ...]], bool]:
        """(class, V/A/D on 0-1, keep?) of a corpus label line, counted in one order for every corpus: the
        class first (:meth:`map_class`: an utterance dropped for its class is counted there only), then
        the V/A/D of the utterances kept (:meth:`corpus_vad`)."""
        emotion, keep = self.map_class(utt_id, code, mapping, drop_unlabelled)
        if not keep:
            return None, None, False
        return emotion, self.corpus_vad(raw_vad, lo, hi), True

    def corpus_vad(self, raw: Sequence[float], lo: float, hi: float) -> Optional[Tuple[float, ...]]:
        """V/A/D from a corpus scale to 0-1 (``vad_to_unit``); NaN or out-of-range values are counted."""
        vad, bad = vad_to_unit(raw, lo, hi)
        if bad or any(math.isnan(v) for v in raw):
            self.remove_label("vad_nan_or_out_of_range")
        return vad

    def note(self, reason: str, where: str) -> None:
        """Count one annotator vote or rating that is left out (``where``: file:line or utterance)."""
        self.annotations[reason] += 1
        ex = self.annotation_examples.setdefault(reason, [])
        if len(ex) < 3:
            ex.append(where)

    def remove_label(self, reason: str) -> None:
        self.labels_removed[reason] += 1

    def check_total(self, total: int) -> None:
        """Every utterance (label line or audio file) ends kept or dropped with a reason: kept + dropped = total."""
        self.total = total
        accounted = self.kept + sum(self.dropped.values())
        if accounted != total:
            raise RuntimeError(f"{self.corpus}: {total} utterances seen, but kept {self.kept} + dropped "
                               f"{sum(self.dropped.values())} = {accounted}: an utterance was lost uncounted")
        if total and not self.kept:
            reasons = ", ".join(f"{r} {n}" for r, n in sorted(self.dropped.items()))
            raise InputError(f"{self.corpus}: no utterance kept of {total} (dropped: {reasons}); "
                             f"e.g. {' '.join(next(iter(self.examples.values()), []))}")

    def summary(self) -> str:
        total = f" of {self.total}" if getattr(self, "total", None) is not None else ""
        conv = sum(self.converted.values())
        lines = [f"{self.corpus}: kept {self.kept}{total}, dropped {sum(self.dropped.values())}"
                 + (f"; {conv} kept file(s) converted to 16 kHz mono by the format stage" if conv else "")]
        for what, n in sorted(self.converted.items()):
            lines.append(f"  converted  {what:<26} {n:>7}")
        for reason, n in sorted(self.dropped.items()):
            lines.append(f"  dropped  {reason:<28} {n:>7}   e.g. {' '.join(self.examples[reason])}")
        for reason, n in sorted(self.labels_removed.items()):
            lines.append(f"  label removed  {reason:<22} {n:>7}")
        for reason, n in sorted(self.annotations.items()):
            lines.append(f"  annotator item left out  {reason:<30} {n:>7}   e.g. {' '.join(self.annotation_examples[reason])}")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {"total": getattr(self, "total", None), "kept": self.kept, "dropped": dict(self.dropped),
                "converted": sum(self.converted.values()), "converted_by": dict(self.converted),
                "labels_removed": dict(self.labels_removed), "annotator_items_left_out": dict(self.annotations)}
