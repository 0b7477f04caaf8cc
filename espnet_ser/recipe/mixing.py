"""Multi-corpus experiments from one declaration (issue 27, part 1): which corpora, which of their label
types train, how their classes and V/A/D scales map onto the shared ones, and what each experiment
trains on. The paper's Table 2 is one such declaration (:func:`table2`).

A declaration (YAML; paths relative to the recipe's data root; ``{fold}`` is filled in per fold)::

    classes: [neutral, angry, happy, sad, disgust]   # the shared class set (default: this one)
    folds: [1]                                       # folds to build ({fold} in the dirs); default: none
    selection: corpus_mean                           # best epoch: the mean over corpora of each one's dev score
                                                     #   (default), or pooled: the score of the union dev set
    matrix: true                                     # also one experiment per contributing corpus (only_<c>)
    loco: false                                      # also leave-one-corpus-out experiments (without_<c>)
    corpora:
      emodb:                                         # the corpus name prefixes its ids and speakers
        prep: emodb                                  # prepare_data corpus that stage 1 runs (db.sh: EMODB)
        contributes: [emotion]                       # label types it trains on: emotion, vad, both, none
        train: emodb/fold{fold}/train
        dev: emodb/fold{fold}/dev
        test: emodb/fold{fold}/test                  # scored as test set "emodb" (espnet_ser.spec.TEST_SETS)
        class_map: {boredom: neutral}                # its class -> a shared class; other names outside
                                                     #   the shared set are dropped, counted per name
      msp:
        train: msp_podcast/train
        dev: msp_podcast/development
        test: msp_podcast/test1
        vad_scale: [0, 1]                            # its V/A/D range, mapped onto 0-1 (default [0, 1])
        train_size: {like: emodb, seed: 0}           # a seeded subset of its training set (or a number)
        contributes: [vad]
    experiments:                                     # optional: name -> {corpus: label types it trains on}
      emodb_classes: {emodb: [emotion]}

Without ``experiments``, one experiment ``union`` trains on every corpus's ``contributes``; ``matrix``
adds ``only_<corpus>`` (the in-corpus model each cross-corpus cell is tested against) and ``loco``
adds ``without_<corpus>``. A corpus that no experiment trains on is a test set only. Every experiment is tested on every corpus
that has a ``test`` dir, and its dev set holds each contributing corpus's dev set with the same label
types (so model selection sees what training sees). Ids and speakers are corpus-qualified
(``<corpus>-<id>``): two corpora with a speaker of the same name stay two speakers.

Output under ``out_root`` (per fold ``k``): ``fold<k>/<corpus>_{train,dev,test}`` where a corpus's
classes or scale are mapped (``map_report.json`` counts what was dropped, by name), ``fold<k>/<corpus>_train``
for a subset (``subset.json``), and ``<experiment>_fold<k>/{train,dev}`` (``combine_report.json``; with
``selection: corpus_mean`` also ``corpus``: each utterance's corpus index, so that the dev set's per-corpus
scores choose the best epoch).
"""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple, Union

from espnet_ser import DEFAULT_CLASSES
from espnet_ser.corpora.drops import DropCounter
from espnet_ser.errors import InputError, read_yaml_mapping
from espnet_ser.labels import CORPUS_FILE, LABEL_TYPES, check_name, read_data_dir, read_table, write_data_dir, write_table
from espnet_ser.recipe.combine import combine, size_matched_subset, subset

PathLike = Union[str, Path]
PARTS = ("train", "dev", "test")
#: the prepare_data corpora a declaration's ``prep`` may name (each read from db.sh's variable of that name)
PREP_CORPORA = ("iemocap", "msp_podcast", "emovo", "emodb", "manifest")
#: how the best epoch is chosen from a multi-corpus dev set: each corpus's score averaged over the corpora
#: (a ``corpus`` file in the dev dir; ``<stat>_corpus_mean``), or the union's score as one set
SELECTIONS = ("corpus_mean", "pooled")


@dataclass(frozen=True)
class Corpus:
    """One corpus of a declaration: its data dirs (``{fold}`` filled in per fold) and label mapping."""

    name: str
    train: Optional[str] = None
    dev: Optional[str] = None
    test: Optional[str] = None
    class_map: Dict[str, str] = field(default_factory=dict)
    vad_scale: Tuple[float, float] = (0.0, 1.0)
    train_size: Optional[Dict] = None   # {"like": corpus} or {"n": N}, with "seed"
    prep: Optional[str] = None          # the prepare_data corpus stage 1 runs into <data>/<prep>
    contributes: Tuple[str, ...] = ()   # label types it trains on by default (() = test only)

    @property
    def maps(self) -> bool:
        return bool(self.class_map) or self.vad_scale != (0.0, 1.0)


@dataclass(frozen=True)
class Declaration:
    classes: Tuple[str, ...]
    corpora: Dict[str, Corpus]
    experiments: Dict[str, Dict[str, Tuple[str, ...]]]
    folds: Tuple[int, ...] = ()
    source: str = "<declaration>"
    selection: str = "corpus_mean"

    def tests(self) -> Dict[str, str]:
        """Test set name -> its dir template, for every corpus with a test dir."""
        return {c.name: c.test for c in self.corpora.values() if c.test}


def _fail(source: str, where: str, what: str) -> InputError:
    return InputError(f"{source}: {where}: {what}")


def parse(data: Dict, source: str = "<declaration>") -> Declaration:
    """A declaration from its mapping (a YAML file's content); a wrong entry is one error naming the
    file and the entry."""
    known = {"classes", "folds", "corpora", "experiments", "matrix", "loco", "selection"}
    for k in data:
        if k not in known:
            raise _fail(source, k, f"unknown entry; known: {sorted(known)}")
    classes = tuple(data.get("classes") or DEFAULT_CLASSES)
    folds = tuple(int(f) for f in (data.get("folds") or ()))
    raw = data.get("corpora")
    if not isinstance(raw, dict) or not raw:
        raise _fail(source, "corpora", "a mapping of corpus name -> its dirs is needed")
    corpora = {}
    for name, conf in raw.items():
        where = f"corpora.{name}"
        try:
            check_name(str(name), "corpus name", source)
        except InputError as e:
            raise _fail(source, where, str(e)) from None
        if "-" in str(name):
            raise _fail(source, where, "a corpus name prefixes ids as '<name>-<id>': it may not contain '-'")
        if not isinstance(conf, dict):
            raise _fail(source, where, "a mapping (train/dev/test dirs, class_map, vad_scale, train_size) is needed")
        bad = set(conf) - {"train", "dev", "test", "class_map", "vad_scale", "train_size", "prep", "contributes"}
        if bad:
            raise _fail(source, f"{where}.{sorted(bad)[0]}", "unknown entry")
        cmap = {str(k): str(v) for k, v in (conf.get("class_map") or {}).items()}
        for k, v in cmap.items():
            if v not in classes:
                raise _fail(source, f"{where}.class_map.{k}", f"maps to {v!r}, which is not among the classes {list(classes)}")
        scale = tuple(float(x) for x in conf.get("vad_scale", (0.0, 1.0)))
        if len(scale) != 2 or not scale[1] > scale[0]:
            raise _fail(source, f"{where}.vad_scale", f"give [low, high] with high > low, got {conf.get('vad_scale')}")
        size = conf.get("train_size")
        if size is not None:
            size = {"n": size} if isinstance(size, int) else dict(size)
            if set(size) - {"like", "n", "seed"} or ("like" in size) == ("n" in size):
                raise _fail(source, f"{where}.train_size", "give a number, or {like: <corpus>} or {n: N}, with an optional seed")
        contributes = _types(source, f"{where}.contributes", conf.get("contributes", "none"), allow_none=True)
        prep = conf.get("prep")
        if prep is not None and prep not in PREP_CORPORA:
            raise _fail(source, f"{where}.prep", f"one of {PREP_CORPORA} (prepare_data's corpora), got {prep!r}")
        corpora[str(name)] = Corpus(str(name), conf.get("train"), conf.get("dev"), conf.get("test"), cmap, scale, size,
                                    prep, contributes)
    for c in corpora.values():
        like = (c.train_size or {}).get("like")
        if like is not None and (like not in corpora or not corpora[like].train):
            raise _fail(source, f"corpora.{c.name}.train_size.like", f"{like!r} is not a corpus with a training set")
    declared = data.get("experiments") or {}
    experiments = {}
    for ename, contrib in declared.items():
        where = f"experiments.{ename}"
        if not isinstance(contrib, dict) or not contrib:
            raise _fail(source, where, "a mapping of corpus -> the label types it trains on is needed")
        exp = {}
        for cname, types in contrib.items():
            if cname not in corpora:
                raise _fail(source, f"{where}.{cname}", f"not a declared corpus ({' '.join(corpora)})")
            exp[cname] = _types(source, f"{where}.{cname}", types)
        experiments[str(ename)] = exp
    givers = {c.name: c.contributes for c in corpora.values() if c.contributes}
    if not declared:
        if not givers:
            raise _fail(source, "corpora", "no corpus contributes a label type to training (contributes:) and no experiments are declared")
        experiments["union"] = dict(givers)
    if data.get("matrix"):
        experiments.update({only(c): {c: t} for c, t in givers.items()})
    if data.get("loco"):
        experiments.update({without(c): {o: t for o, t in givers.items() if o != c} for c in givers if len(givers) > 1})
    for ename, exp in experiments.items():
        for cname in exp:
            for part in ("train", "dev"):
                if not getattr(corpora[cname], part):
                    raise _fail(source, f"experiments.{ename}.{cname}", f"corpus {cname} has no {part} dir to train on")
    selection = str(data.get("selection", "corpus_mean"))
    if selection not in SELECTIONS:
        raise _fail(source, "selection", f"one of {SELECTIONS}, got {selection!r}")
    return Declaration(classes, corpora, experiments, folds, source, selection)


def _types(source: str, where: str, types, allow_none: bool = False) -> Tuple[str, ...]:
    """Label types as written (a list, one name, ``both``, or ``none`` where allowed), in LABEL_TYPES order."""
    types = (types,) if isinstance(types, str) else tuple(types or ())
    if types == ("both",):
        types = LABEL_TYPES
    if allow_none and types in (("none",), ()):
        return ()
    bad = [t for t in types if t not in LABEL_TYPES]
    if bad or not types:
        raise _fail(source, where, f"label types must be among {LABEL_TYPES} (or both{', none' if allow_none else ''}), got {list(types)}")
    return tuple(t for t in LABEL_TYPES if t in types)


def only(corpus: str) -> str:
    """The experiment that trains on ``corpus`` alone (``matrix: true``): the in-corpus reference of the
    cross-corpus cells of its test set."""
    return f"only_{corpus}"


LEAVE_OUT_PREFIX = "without_"


def without(corpus: str) -> str:
    """The experiment that trains on every contributing corpus but ``corpus`` (``loco: true``)."""
    return f"{LEAVE_OUT_PREFIX}{corpus}"


def load(path: PathLike) -> Declaration:
    return parse(read_yaml_mapping(path, "multi-corpus declaration"), str(path))


def table2_experiment(row: int) -> str:
    """The experiment of :func:`table2` that is the paper's row ``row``."""
    return f"row{row}"


def table2(seed: int = 0) -> Declaration:
    """The paper's Table 2 as a declaration: IEMOCAP's fold and MSP-Podcast (its training set a seeded
    subset of the IEMOCAP fold's training-set size), one experiment per row (``espnet_ser.spec``)."""
    from espnet_ser.spec import TABLE2_FOLD, TABLE2_ROWS, TEST_DIRS, table2_sources

    corpora = {
        "iemocap": Corpus("iemocap", "iemocap/fold{fold}/train", "iemocap/fold{fold}/dev", TEST_DIRS["iemocap"]),
        "msp": Corpus("msp", "msp_podcast/train", "msp_podcast/development", TEST_DIRS["msp"],
                      train_size={"like": "iemocap", "seed": seed}),
    }
    experiments = {table2_experiment(r): dict(table2_sources(r)) for r in TABLE2_ROWS}
    # the paper names no dev set; our reading (docs/reproduction.md): one per row, the union of what it trains on, pooled
    return Declaration(tuple(DEFAULT_CLASSES), corpora, experiments, (TABLE2_FOLD,), "espnet_ser.spec Table 2", "pooled")


def map_labels(corpus: Corpus, src: PathLike, out: PathLike, classes: Sequence[str]) -> dict:
    """``src`` with ``corpus``'s classes mapped onto ``classes`` (names outside both dropped, counted per
    name) and its V/A/D rescaled onto 0-1; an utterance left without a label is dropped and counted."""
    counter = DropCounter(corpus.name)
    lo, hi = corpus.vad_scale
    kept, unmapped = [], {}

    def cls(name):
        if name is None:
            return None
        new = corpus.class_map.get(name, name)
        return new if new in classes else None

    for u in read_data_dir(src):
        emotion = cls(u.emotion)
        if u.emotion is not None and emotion is None:
            unmapped[u.emotion] = unmapped.get(u.emotion, 0) + 1
        vad = None if u.vad is None else tuple(None if v is None or (isinstance(v, float) and math.isnan(v))
                                              else (v - lo) / (hi - lo) for v in u.vad)
        votes = None
        if u.votes is not None:
            votes = {}
            for k, m in u.votes.items():
                if cls(k) is not None:
                    votes[cls(k)] = votes.get(cls(k), 0.0) + m
            votes = votes or None
        raters = u.vad_raters
        if raters is not None:
            mean, std, n = raters
            raters = (tuple((v - lo) / (hi - lo) for v in mean), tuple(s / (hi - lo) for s in std), n)
        u.emotion, u.vad, u.votes, u.vad_raters = emotion, vad, votes, raters
        if u.emotion is None and not u.has_vad():
            counter.drop("no_label_after_mapping", u.utt_id)
            continue
        kept.append(u)
    counter.kept = len(kept)
    out = write_data_dir(kept, out)
    report = {"source": str(src), "class_map": corpus.class_map, "vad_scale": list(corpus.vad_scale),
              "unmapped_classes": dict(sorted(unmapped.items())), "drops": counter.as_dict()}
    (out / "map_report.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    return report


@dataclass
class Built:
    """What :func:`build` wrote for one fold: per experiment its train and dev dirs; the test dirs."""

    fold: Optional[int]
    experiments: Dict[str, Tuple[str, str]]
    tests: Dict[str, str]


def build(decl: Declaration, data: PathLike, out_root: PathLike, fold: Optional[int] = None) -> Built:
    """Write the data dirs of every experiment of ``decl`` for one fold (paths relative to ``data``)."""
    data, out = Path(data), Path(out_root)
    tag = f"fold{fold}" if fold is not None else "all"

    def at(template: Optional[str]) -> Optional[str]:
        if template is None:
            return None
        if "{fold}" in template and fold is None:
            raise InputError(f"{decl.source}: {template} has {{fold}} but no folds are declared")
        return template.format(fold=fold)

    def rel(p: Path) -> str:
        return str(p.relative_to(data)) if p.is_relative_to(data) else str(p)

    dirs: Dict[str, Dict[str, Optional[str]]] = {}
    for c in decl.corpora.values():
        dirs[c.name] = {}
        for part in PARTS:
            d = at(getattr(c, part))
            if d is not None and c.maps:
                mapped = out / tag / f"{c.name}_{part}"
                map_labels(c, data / d, mapped, decl.classes)
                d = rel(mapped)
            dirs[c.name][part] = d
    for c in decl.corpora.values():  # within a corpus no speaker may cross from training or dev into test
        if dirs[c.name]["test"] is None:
            continue
        tested = set(read_table(data / dirs[c.name]["test"] / "utt2spk").values())
        for part in ("train", "dev"):
            if dirs[c.name][part] is not None:
                both = sorted(tested & set(read_table(data / dirs[c.name][part] / "utt2spk").values()))
                if both:
                    raise InputError(f"{decl.source}: corpora.{c.name}: speaker(s) {', '.join(both[:5])} in both its {part} "
                                     f"and its test set ({data / dirs[c.name][part]}, {data / dirs[c.name]['test']}); "
                                     "use its speaker-independent folds")
    for c in decl.corpora.values():  # subsets after mapping: they draw from what training could use
        if c.train_size is None or dirs[c.name]["train"] is None:
            continue
        sub = out / tag / f"{c.name}_train"
        like = c.train_size.get("like")
        if like is not None:
            size_matched_subset(data / dirs[c.name]["train"], data / dirs[like]["train"], sub, int(c.train_size.get("seed", 0)))
        else:
            subset(data / dirs[c.name]["train"], int(c.train_size["n"]), sub, int(c.train_size.get("seed", 0)))
        dirs[c.name]["train"] = rel(sub)
    experiments = {}
    for ename, contrib in decl.experiments.items():
        name = f"{ename}_{tag}"
        for part in ("train", "dev"):
            combine([(c, data / dirs[c][part], types) for c, types in contrib.items()], out / name / part)
            if decl.selection == "corpus_mean":
                index = {c: i for i, c in enumerate(contrib)}
                ids = read_table(out / name / part / "wav.scp")
                write_table(out / name / part / CORPUS_FILE, [f"{u} {index[u.split('-', 1)[0]]}" for u in sorted(ids)])
        experiments[ename] = (rel(out / name / "train"), rel(out / name / "dev"))
    tests = {c: dirs[c]["test"] for c in decl.corpora if dirs[c]["test"] is not None}
    return Built(fold, experiments, tests)

