"""Speaker-independent folds: a fold's test speakers never train it, and its dev speakers are held out
from its training speakers (never from its test speakers)."""

import random
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from espnet_ser.errors import InputError
from espnet_ser.labels import Utterance, write_data_dir

Fold = Tuple[List[Utterance], List[Utterance], List[Utterance]]  # train, dev, test


def hold_out_dev(k: int, test: Sequence[Utterance], rest: Sequence[Utterance], dev_speakers: int, seed: int) -> Fold:
    """(train, dev, test) of fold ``k``: ``dev_speakers`` speakers of ``rest`` drawn with a seed of (seed, k)."""
    speakers = sorted({u.speaker for u in rest})
    if len(speakers) <= dev_speakers:
        raise InputError(f"fold{k}: {len(speakers)} non-test speakers, cannot hold out {dev_speakers}")
    dev_spk = set(random.Random(seed * 1000 + k).sample(speakers, dev_speakers))
    return [u for u in rest if u.speaker not in dev_spk], [u for u in rest if u.speaker in dev_spk], list(test)


def speaker_folds(utts: Sequence[Utterance], dev_speakers: int = 1, seed: int = 0, k: Optional[int] = None) -> Dict[int, Fold]:
    """Leave-one-speaker-out (fold i tests the i-th speaker, sorted ids), or with ``k`` K folds whose test
    speakers are the sorted speakers dealt round-robin (speaker j to fold j mod K + 1)."""
    speakers = sorted({u.speaker for u in utts})
    if k is not None and k < 2:
        raise InputError(f"{k} speaker folds asked: give at least 2 (or leave-one-speaker-out)")
    if dev_speakers < 1:
        raise InputError(f"{dev_speakers} dev speakers asked: every fold needs at least 1 (--dev_speakers)")
    k = len(speakers) if k is None else k
    if not 2 <= k <= len(speakers) or len(speakers) - -(-len(speakers) // k) < dev_speakers + 1:
        raise InputError(f"{len(speakers)} speaker(s) cannot make {k} speaker folds with {dev_speakers} dev speaker(s) "
                         "and training speakers left")
    groups = {i: set(speakers[i - 1::k]) for i in range(1, k + 1)}
    return {i: hold_out_dev(i, [u for u in utts if u.speaker in g], [u for u in utts if u.speaker not in g], dev_speakers, seed)
            for i, g in groups.items()}


def write_folds(folds: Dict[int, Fold], out: Path) -> Dict[str, dict]:
    """``out/fold{k}/{train,dev,test}`` data dirs; returns their sizes and speakers (for prep_report.json)."""
    report = {}
    for k, (train, dev, test) in folds.items():
        for name, part in (("train", train), ("dev", dev), ("test", test)):
            write_data_dir(part, Path(out) / f"fold{k}" / name)
        report[f"fold{k}"] = {"train": len(train), "dev": len(dev), "test": len(test),
                              "dev_speakers": sorted({u.speaker for u in dev}),
                              "test_speakers": sorted({u.speaker for u in test})}
    return report
