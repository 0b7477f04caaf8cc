"""Facts of the paper's protocol that several parts of the toolkit read (no ESPnet import here).

Table 2 of arXiv 2210.16642 trains one model per row on what each corpus contributes to training:
nothing, its continuous labels (``vad``) or its discrete labels (``emotion``). Every row is scored on
IEMOCAP Session 5 (the test set of fold 5) and MSP-Podcast Test1; a cell is ``-`` exactly where no
training data of the row carried that cell's label type.
"""

from typing import Dict, Optional, Tuple

LABEL_TYPES = ("emotion", "vad")
#: what each decoder variant predicts
VARIANT_OUTPUTS: Dict[str, Tuple[str, ...]] = {
    "baseline_c": ("vad",), "baseline_d": ("emotion",), "multitask": LABEL_TYPES,
    "hierarchical_dc": LABEL_TYPES, "hierarchical_cd": LABEL_TYPES,
}
#: the class metric of each recipe's table (IEMOCAP: unweighted accuracy; MSP-Podcast: macro F1)
RECIPE_CLASS_METRIC = {"iemocap": "ua", "msp_podcast": "f1_macro", "iemocap_msp": "ua"}
TABLE2_CORPORA = ("iemocap", "msp")          # column order of the paper: IEMOCAP first
TABLE2_FOLD = 5                               # IEMOCAP tested on Session 5
TABLE2_VARIANT = "hierarchical_dc"            # default model of the rows (docs/reproduction.md)
TABLE2_ROWS: Dict[int, Tuple[Optional[str], Optional[str]]] = {  # ID -> (IEMOCAP, MSP-Podcast) contribution
    1: (None, "vad"),
    2: ("vad", None),
    3: (None, "emotion"),
    4: ("emotion", None),
    5: ("vad", "vad"),
    6: ("emotion", "emotion"),
    7: ("vad", "emotion"),
    8: ("emotion", "vad"),
}
LABEL_WORDS = {None: "-", "vad": "Cont.", "emotion": "Disc."}


def table2_sources(row: int) -> Dict[str, Tuple[str, ...]]:
    """``{corpus: (label type,)}`` of what a row trains on (corpora contributing nothing left out)."""
    if row not in TABLE2_ROWS:
        raise ValueError(f"Table 2 has rows {sorted(TABLE2_ROWS)}, not {row!r}")
    return {c: (t,) for c, t in zip(TABLE2_CORPORA, TABLE2_ROWS[row]) if t is not None}


def table2_trained_types(row: int) -> Tuple[str, ...]:
    """The label types that any training data of the row carries, in ``LABEL_TYPES`` order."""
    have = {t for ts in table2_sources(row).values() for t in ts}
    return tuple(t for t in LABEL_TYPES if t in have)


def table2_baseline_row(corpus: str, label_type: str) -> int:
    """The row that trains on ``corpus``'s ``label_type`` alone: the reference its cells are tested against."""
    want = tuple(label_type if c == corpus else None for c in TABLE2_CORPORA)
    return next(r for r, contrib in TABLE2_ROWS.items() if contrib == want)


def selection_stat(variant: str, class_metric: str = "ua", trained: Tuple[str, ...] = LABEL_TYPES) -> str:
    """The validation stat (``espnet_ser.metrics.selection_scores``) whose maximum picks the best epoch.

    A model is judged by what it predicts *and* was trained on: the class metric of the table for
    classes, CCC for V/A/D, their mean for both.

    >>> selection_stat("baseline_c"), selection_stat("hierarchical_dc", "f1_macro"), selection_stat("multitask", "ua", ("vad",))
    ('epoch_ccc_mean', 'epoch_f1_ccc', 'epoch_ccc_mean')
    """
    types = [t for t in VARIANT_OUTPUTS[variant] if t in trained]
    short = {"ua": "ua", "f1_macro": "f1"}[class_metric]
    if types == ["emotion", "vad"]:
        return f"epoch_{short}_ccc"
    if types == ["emotion"]:
        return f"epoch_{class_metric}"
    return "epoch_ccc_mean"
