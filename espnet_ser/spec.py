"""The recipe spec: the facts that ser.sh, run.sh, the report, the benchmarks and the tests all read.

No torch or ESPnet import here: the shell reads the facts through ``python -m espnet_ser.bin.recipe
fact NAME [--recipe R]``. What a recipe runs (its configs, variants and folds) is written in its own
``egs2/<name>/ser1/run.sh``, not here.

- **Variants**: the decoder registry :data:`espnet_ser.model.decoder.VARIANTS` (name, title, outputs).
- **Test sets**: the corpora a recipe scores on, each with its table name and class metric (the paper
  reports unweighted accuracy on IEMOCAP and macro F1 on MSP-Podcast).
- **Recipes**: ``egs2/<name>/ser1``; each one's paper table, test sets and the folds it can run.
- **Label files**: the label types of a Kaldi data dir (``emotion``, ``vad``), each in a file of that
  name (format: :mod:`espnet_ser.labels`).
- **Table 2** of arXiv 2210.16642 trains one model per row on what each corpus contributes to training:
  nothing, its continuous labels (``vad``) or its discrete labels (``emotion``). Every row is scored on
  IEMOCAP Session 5 (the test set of fold 5) and MSP-Podcast Test1; a cell is ``-`` exactly where no
  training data of the row carried that cell's label type.
"""

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from espnet_ser.labels import LABEL_TYPES  # noqa: F401  (the label-file contract's; read here with the rest)
from espnet_ser.model.decoder import VARIANTS as _REGISTRY

LABEL_WORDS = {None: "-", "vad": "Cont.", "emotion": "Disc."}  # as Table 2 prints them

VARIANTS: Tuple[str, ...] = tuple(_REGISTRY)
VARIANT_TITLES: Dict[str, str] = {n: v.title for n, v in _REGISTRY.items()}
#: what each variant predicts
VARIANT_OUTPUTS: Dict[str, Tuple[str, ...]] = {n: v.outputs for n, v in _REGISTRY.items()}
#: systems a recipe may run beside the decoder variants (``--variants`` names them too), each from a config
#: of its own (``system: classical`` or ``system: fusion``): the scikit-learn classical system
#: (:mod:`espnet_ser.classical`) and the late fusion of the run's other systems (``ser_ensemble``)
SYSTEMS: Dict[str, str] = {"classical": "Classical (scikit-learn)", "fusion": "Fusion"}
#: every name ``--variants`` accepts, in the order tables list them
RUNNABLE: Tuple[str, ...] = VARIANTS + tuple(SYSTEMS)
TITLES: Dict[str, str] = {**VARIANT_TITLES, **SYSTEMS}


def title_of(key: str) -> str:
    """A table's name for a variant, a system or a system's member (``<system>/<member>``).

    >>> title_of("baseline_d"), title_of("classical/egemaps_svm")
    ('Baseline D', 'egemaps_svm (member of Classical (scikit-learn))')
    """
    system, _, member = key.partition("/")
    return f"{member} (member of {TITLES.get(system, system)})" if member else TITLES.get(key, key)


def row_order(keys) -> list:
    """Table rows in order: the decoder variants, then each system followed by its members (in the order
    given), fusion last."""
    rank = {k: i for i, k in enumerate(RUNNABLE)}
    return sorted(keys, key=lambda k: (rank.get(k.partition("/")[0], len(rank)), k.partition("/")[0], "/" in k))
#: the baseline of each label type: the variant that predicts it alone (Baseline C: vad, Baseline D: emotion)
BASELINES: Dict[str, str] = {t: next(n for n, out in VARIANT_OUTPUTS.items() if out == (t,)) for t in LABEL_TYPES}
CCC_METRICS = ("ccc_mean", "ccc_valence", "ccc_arousal", "ccc_dominance")


def metric_label_type(metric: str) -> str:
    """The label type a metric scores: CCCs score ``vad``, the class metrics ``emotion``."""
    return "vad" if metric.startswith("ccc_") else "emotion"


@dataclass(frozen=True)
class TestSet:
    title: str
    class_metric: str                          # the class metric of its table: "ua" or "f1_macro"
    labels: Tuple[str, ...] = LABEL_TYPES      # the label types the corpus carries
    more_metrics: Tuple[str, ...] = ()         # columns beyond the paper's (corpora outside the paper)

    @property
    def metrics(self) -> Tuple[str, ...]:
        return (*(CCC_METRICS if "vad" in self.labels else ()), self.class_metric, *self.more_metrics)


TEST_SETS: Dict[str, TestSet] = {
    "iemocap": TestSet("IEMOCAP", "ua"),
    "msp": TestSet("MSP-Podcast", "f1_macro"),
    "emovo": TestSet("EMOVO", "ua", ("emotion",), ("f1_macro", "wa")),
    "emodb": TestSet("EmoDB", "ua", ("emotion",), ("f1_macro", "wa")),
    "manifest": TestSet("your corpus", "ua", LABEL_TYPES, ("f1_macro", "wa")),
}
#: where the data stage (local/data.sh) puts each test set of TEST_SETS, relative to the data root
TEST_DIRS: Dict[str, str] = {"iemocap": "iemocap/fold{fold}/test", "msp": "msp_podcast/test1", "emovo": "emovo/fold{fold}/test",
                             "emodb": "emodb/fold{fold}/test", "manifest": "manifest/fold{fold}/test"}
ALL_FOLDS = (1, 2, 3, 4, 5)  # IEMOCAP's leave-one-session-out folds
TABLE2_FOLD = 5              # Table 2 tests IEMOCAP on Session 5


@dataclass(frozen=True)
class Recipe:
    name: str                   # egs2/<name>/ser1
    table: str                  # its table in RESULTS.md: the paper's table1 | table2 | table3, or its own
    title: str
    tests: Tuple[str, ...]      # TEST_SETS it scores on
    folds: Tuple[int, ...]      # the folds it can run (IEMOCAP: sessions; acted corpora: speakers); () for one split
                                # (which variants and folds a recipe runs: its egs2/<name>/ser1/run.sh)
    layout: str = "folds"       # its splits: "folds" (data/<name>/fold<k>), "split" (train/dev/test), "mismatched",
                                # "multi" (a declaration's experiments and test sets)
    paper: bool = True          # one of the paper's experiments (the root run.sh runs these)

    @property
    def labels(self) -> Tuple[str, ...]:
        """The label types its training data carries (those of its first test set's corpus)."""
        return TEST_SETS[self.tests[0]].labels

    @property
    def class_metric(self) -> str:
        """The metric that judges its classes (model selection): that of its first test set."""
        return TEST_SETS[self.tests[0]].class_metric

    @property
    def columns(self) -> Tuple[Tuple[str, str], ...]:
        """(test set, metric) of the table's metric columns, in the paper's order."""
        if len(self.tests) == 1:
            return tuple((self.tests[0], m) for m in TEST_SETS[self.tests[0]].metrics)
        return tuple((t, m) for t in self.tests for m in ("ccc_mean", TEST_SETS[t].class_metric))


#: the stages of egs2/TEMPLATE/ser1/ser.sh (1 data prep ... 10 packing)
LAST_STAGE = 10

RECIPES: Dict[str, Recipe] = {r.name: r for r in (
    Recipe("iemocap", "table1", "Table 1: IEMOCAP, leave-one-session-out cross-validation", ("iemocap",),
           ALL_FOLDS),
    Recipe("msp_podcast", "table3", "Table 3: MSP-Podcast Test1", ("msp",), (), layout="split"),
    Recipe("iemocap_msp", "table2", "Table 2: mismatched training (IEMOCAP Session 5, MSP-Podcast Test1)",
           ("iemocap", "msp"), (TABLE2_FOLD,), layout="mismatched"),
    # acted corpora outside the paper (classes only, labels in the file names), leave-one-speaker-out
    Recipe("emovo", "emovo", "EMOVO (Italian, 6 speakers), leave-one-speaker-out", ("emovo",), tuple(range(1, 7)),
           paper=False),
    Recipe("emodb", "emodb", "EmoDB (German, 10 speakers), leave-one-speaker-out", ("emodb",), tuple(range(1, 11)),
           paper=False),
    # a user's own corpus from a manifest CSV: speaker folds as prepared (folds () = every fold found)
    Recipe("manifest", "manifest", "Your corpus (manifest), speaker-independent folds", ("manifest",), (),
           paper=False),
    # several corpora, any label types, from a declaration (espnet_ser.recipe.mixing): its corpora are its
    # test sets, its folds the declaration's
    Recipe("multi", "multi", "Multi-corpus training and the cross-corpus matrix", ("manifest",), (),
           layout="multi", paper=False),
)}
TABLES: Dict[str, Recipe] = {r.table: r for r in RECIPES.values()}

TABLE2_CORPORA = ("iemocap", "msp")          # column order of the paper: IEMOCAP first
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


def recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; choose from {' '.join(RECIPES)}")
    return RECIPES[name]


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


def fact(name: str, recipe_name: Optional[str] = None) -> str:
    """One fact as the shell wants it (space-separated words).

    >>> fact("table", "iemocap"), fact("folds", "iemocap_msp"), fact("folds", "emovo")
    ('table1', '5', '1 2 3 4 5 6')
    """
    if name == "recipes":
        return " ".join(RECIPES)
    if name == "paper_recipes":
        return " ".join(n for n, r in RECIPES.items() if r.paper)
    if name == "variants" and recipe_name is None:
        return " ".join(VARIANTS)
    if recipe_name is None:
        raise ValueError(f"fact {name!r} needs --recipe")
    r = recipe(recipe_name)
    values = {"table": r.table, "folds": " ".join(map(str, r.folds)),
              "tests": " ".join(r.tests)}
    if name not in values:
        raise ValueError(f"unknown fact {name!r}; known: recipes paper_recipes variants {' '.join(values)}")
    return values[name]
