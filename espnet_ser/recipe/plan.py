"""What ``ser.sh`` runs, decided in Python: data splits, experiments, and the job files of each stage.

Splits (``splits.tsv`` under a data root; paths relative to it), one per line::

    name  fold  row  train_dir  dev_dir  test=dir[,test=dir...]

* ``iemocap``: ``fold<k>`` for each leave-one-session-out fold.
* ``msp_podcast``: one split ``msp`` (train / development).
* ``iemocap_msp``: the paper's Table 2, one split per row (``row<ID>_fold<k>``; the paper: fold 5) whose
  training and dev sets hold exactly the row's label types of each corpus (:mod:`espnet_ser.spec`):
  the declaration of mixed corpora :func:`espnet_ser.recipe.mixing.table2`, built from the IEMOCAP fold and a
  seeded random subset of MSP-Podcast train of the IEMOCAP fold's training-set size
  (``table2/fold<k>/msp_train/subset.json`` records it).

Each split is tested on its recipe's test sets (``espnet_ser.spec.RECIPES``), found at ``espnet_ser.spec.TEST_DIRS``
(IEMOCAP: fold k's test session).

An experiment is (variant, split) with tag ``<variant>_<split>``. A job file holds one JSON object per
line: ``module`` and ``args`` (run in-process by ``run_jobs``), ``log``, ``stamp`` (written on success
with a hash of the command; a later run with the same command is skipped) and ``on_change``
(``error`` for training: an exp dir trained with other settings is never resumed or overwritten).
"""

import datetime
import json
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from espnet_ser.errors import InputError, MissingInput
from espnet_ser.labels import CORPUS_FILE
from espnet_ser.inference.conformal import DEFAULT_COVERAGE
from espnet_ser.recipe import mixing
from espnet_ser.recipe.train_args import collect_stats_args, option, train_args
from espnet_ser.spec import (ALL_FOLDS, SYSTEMS, TABLE2_ROWS, TEST_DIRS, recipe as recipe_spec, selection_stat,
                              table2_trained_types)

PathLike = Union[str, Path]
STAGES = ("stats", "train", "inference", "fuse", "score", "pack")  # the stages whose work is a job file


@dataclass
class Split:
    name: str
    fold: Optional[int]
    row: Optional[int]  # Table 2 row ID (iemocap_msp), else None
    train: str
    dev: str
    tests: Dict[str, str]

    def line(self) -> str:
        tests = ",".join(f"{k}={v}" for k, v in self.tests.items())
        return "\t".join([self.name, str(self.fold or "-"), str(self.row or "-"), self.train, self.dev, tests])


def make_splits(recipe: str, data: PathLike, folds: Sequence[int] = ALL_FOLDS, seed: int = 0,
                declaration: Optional[PathLike] = None) -> List[Split]:
    """The splits of ``recipe`` over the prepared data under ``data`` (runs the Table-2 combinations, or
    a multi-corpus ``declaration``'s: one split per experiment and fold, tested on every corpus)."""
    data = Path(data)
    try:
        spec = recipe_spec(recipe)
    except ValueError as e:
        raise InputError(str(e)) from None
    if spec.layout == "multi":
        if declaration is None:
            raise InputError(f"recipe {recipe} needs a declaration (ser.sh --declaration FILE)")
        decl = mixing.load(declaration)
        splits = _declared_splits(decl, data, "multi", list(folds) or list(decl.folds) or [None])
    elif spec.layout == "mismatched":  # Table 2: one multi-corpus declaration, one experiment per row
        bad = [k for k in folds if k not in ALL_FOLDS]  # Table 2 may use any IEMOCAP fold
        if bad:
            raise InputError(f"{recipe}: folds must be among {ALL_FOLDS}, got {bad}")
        rows = {mixing.table2_experiment(r): r for r in TABLE2_ROWS}
        splits = _declared_splits(mixing.table2(seed), data, "table2", folds, rows.get)
    else:
        splits = _corpus_splits(spec, recipe, data, folds)
    for s in splits:
        for rel in [s.train, s.dev, *s.tests.values()]:
            if not (data / rel / "wav.scp").exists():
                raise MissingInput(f"{data / rel}/wav.scp missing: was the data stage (local/data.sh) run?")
    return splits


def _corpus_splits(spec, recipe: str, data: Path, folds: Sequence[int]) -> List[Split]:
    """One corpus's splits: its folds (``folds`` layout) or its one train/dev split (``split``)."""
    allowed = spec.folds
    if spec.layout == "folds" and not spec.folds:  # folds as prepared (a manifest's speaker folds)
        allowed = tuple(sorted(int(p.name[4:]) for p in (data / spec.name).glob("fold*") if p.name[4:].isdigit()))
        if not allowed:
            raise MissingInput(f"{data / spec.name}: no fold* data dirs: was the data stage (local/data.sh) run?")
        folds = folds or allowed
    bad = [k for k in folds if k not in allowed]
    if bad and spec.layout != "split":
        raise InputError(f"{recipe}: folds must be among {allowed}, got {bad}")
    test_dirs = lambda k: {t: TEST_DIRS[t].format(fold=k) for t in spec.tests}  # noqa: E731
    if spec.layout == "split":
        return [Split("msp", None, None, "msp_podcast/train", "msp_podcast/development", test_dirs(None))]
    return [Split(f"fold{k}", k, None, f"{spec.name}/fold{k}/train", f"{spec.name}/fold{k}/dev", test_dirs(k)) for k in folds]


def _declared_splits(decl: "mixing.Declaration", data: Path, out: str, folds: Sequence[Optional[int]],
                     row_of=lambda name: None) -> List[Split]:
    """A declaration's experiments, one split each per fold (``<experiment>_fold<k>``), built under
    ``data/out``, tested on every corpus of the declaration; ``row_of`` names Table 2's row of an experiment."""
    splits = []
    for k in folds:
        built = mixing.build(decl, data, data / out, k)
        for name, (train, dev) in built.experiments.items():
            splits.append(Split(name if k is None else f"{name}_fold{k}", k, row_of(name), train, dev, dict(built.tests)))
    return splits


def trained_types(data_dir: PathLike) -> Tuple[str, ...]:
    """The label types a (combined) training dir carries: those with at least one label."""
    from espnet_ser.labels import LABEL_TYPES, read_table

    have = []
    for t in LABEL_TYPES:
        f = Path(data_dir) / t
        if f.exists() and any(v.replace("nan", "").strip() for v in read_table(f).values()):
            have.append(t)
    return tuple(have)


def write_splits(splits: Sequence[Split], path: PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(s.line() + "\n" for s in splits))
    return path


def read_splits(path: PathLike) -> List[Split]:
    splits = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 6:
            raise InputError(f"{path}:{n}: expected 6 tab-separated fields, got {len(parts)}")
        name, fold, row, train, dev, tests = parts
        splits.append(Split(name, None if fold == "-" else int(fold), None if row == "-" else int(row), train, dev,
                            dict(t.split("=", 1) for t in tests.split(","))))
    return splits


def data_dirs(splits: Sequence[Split]) -> List[str]:
    """Every data dir the splits use (relative), each once, in a stable order."""
    seen: Dict[str, None] = {}
    for s in splits:
        for rel in [s.train, s.dev, *s.tests.values()]:
            seen.setdefault(rel, None)
    return list(seen)


def config_for(template: str, variant: str) -> List[str]:
    """``--config`` (and ``--decoder``) for a variant: ``{variant}`` in the template is filled in;
    a template without it is one config for all variants with the decoder overridden (a system of
    :data:`espnet_ser.spec.SYSTEMS` reads the config as it is)."""
    if "{variant}" in template:
        return ["--config", template.format(variant=variant)]
    if variant in SYSTEMS:
        return ["--config", template]
    return ["--config", template, "--decoder", variant]


def system_of(config: str) -> str:
    """What a config trains: ``espnet`` (a ``ser_train`` config), ``classical`` or ``fusion`` (its ``system`` key)."""
    from espnet_ser.errors import read_yaml_mapping

    return str(read_yaml_mapping(config, "config").get("system", "espnet"))


def configs_of(template: str, variants: Sequence[str]) -> Dict[str, str]:
    """Each variant's config, checked to be of its kind: a decoder variant's an ESPnet training config, a
    system's (``classical``, ``fusion``) a config with that ``system``; a fusion's ``systems`` among the run's."""
    from espnet_ser.errors import read_yaml_mapping

    out = {}
    for v in variants:
        config = config_for(template, v)[1]
        kind = system_of(config)
        if kind != (v if v in SYSTEMS else "espnet"):
            want = f"system: {v}" if v in SYSTEMS else "an ESPnet training config (no system key)"
            raise InputError(f"{config}: variant {v} needs {want}, the config has system: {kind} (a template with "
                             "{variant} gives each variant its own config)")
        if kind == "fusion":
            fused = read_yaml_mapping(config, "fusion config").get("systems")
            if not isinstance(fused, list) or len(fused) < 2 or not set(map(str, fused)) <= set(variants) - {v}:
                others = ' '.join(x for x in variants if x != v) or 'none'
                raise InputError(f"{config}: systems {fused!r}: a fusion fuses at least two of the run's other variants "
                                 f"(here: {others}); name them in --variants too")
        out[v] = config
    return out


def shared_frontend_config(template: str, variants: Sequence[str]) -> str:
    """The config whose frontend extracts features (stage 4) for all ``variants``: their configs must agree
    on the frontend (and the ESPnet configs on normalisation, whose statistics stage 5 collects once), or
    the one cache would be wrong for some of them (an error naming the two configs). A fusion reads no
    features."""
    from espnet_ser.errors import read_yaml_mapping

    configs = configs_of(template, variants)
    featured = [c for v, c in configs.items() if v != "fusion"]  # a fusion names at least two others (configs_of)

    def part(path: str):
        conf = read_yaml_mapping(path, "training config")
        keys = ("frontend", "frontend_conf") + (() if system_of(path) == "classical" else ("normalize", "normalize_conf"))
        return {k: conf.get(k) for k in keys}

    first = part(featured[0])
    for other in featured[1:]:
        theirs = part(other)
        if {k: v for k, v in theirs.items() if k in first} != {k: v for k, v in first.items() if k in theirs}:
            raise InputError(f"{featured[0]} and {other} differ in frontend or normalisation, but the recipe extracts "
                             "one feature cache and one set of statistics for all variants; run them as separate recipes "
                             "(--variants, other --dumpdir/--expdir) or align the configs")
    return featured[0]


def feats_type(template: str, variants: Sequence[str], asked: str) -> Tuple[str, str]:
    """(the feature type training reads, why): ``cached`` as asked, unless the variants' frontend has no
    frozen part to cache (``finetune: all`` trains the convolutional encoder too): then ``raw``."""
    from espnet_ser.errors import read_yaml_mapping
    from espnet_ser.model.frontend.finetune import reads_audio

    config = shared_frontend_config(template, variants)
    if asked != "cached":
        if "classical" in variants:
            raise InputError("--feats_type raw: the classical system reads the feature cache (--feats_type cached)")
        return asked, "as asked"
    if reads_audio(read_yaml_mapping(config, "training config").get("frontend_conf")):
        return "raw", f"{config} fine-tunes the whole upstream (finetune: all): nothing to cache, training reads audio"
    return "cached", "as asked"


def trains_on_dev(config: str, args: Sequence[str]) -> bool:
    """The config's (or the arguments') ``train_on_dev``: train on the train and dev sets together."""
    value = option(config, args, "train_on_dev", False)
    return value is True or str(value).lower() in ("true", "1", "yes")


def training_dir(data: Path, split: Split, on_dev: bool) -> Path:
    """The dir a split trains on: its train dir, or, with ``train_on_dev``, its train and dev dirs merged
    into ``<train>_with_dev`` (text files only: :func:`espnet_ser.recipe.combine.merge_dirs`)."""
    if not on_dev:
        return data / split.train
    from espnet_ser.recipe.combine import merge_dirs

    return merge_dirs([data / split.train, data / split.dev], data / f"{split.train}_with_dev")


#: where each experiment's dev-set predictions go (inference/<name>/, beside the test sets'); they
#: calibrate its conformal sets for conformal.DEFAULT_COVERAGE (docs/evaluation.md)
CONFORMAL_DEV = "dev"


def _job(module: str, args: Sequence[str], log: Path, stamp: Path, on_change: str = "rerun", **extra) -> Dict:
    return {"module": module, "args": [str(a) for a in args], "log": str(log), "stamp": str(stamp), "on_change": on_change, **extra}


def plan_stage(stage: str, recipe: str, splits: Sequence[Split], data_root: PathLike, expdir: PathLike,
               variants: Sequence[str], ser_config: str, ser_args: Sequence[str] = (),
               inference_args: Sequence[str] = (), ngpu: int = 0, eval_root: Optional[PathLike] = None,
               num_nodes: int = 1, model_card: str = "none", feats_root: Optional[PathLike] = None) -> List[Dict]:
    """The jobs of one stage (``stats``, ``train``, ``inference``, ``fuse``, ``score``, ``pack``).

    The systems of :data:`espnet_ser.spec.SYSTEMS` have jobs of their own (:func:`_system_jobs`); the
    decoder variants train with ``ser_train`` and predict with ``ser_inference``.

    Training on several GPUs goes through ESPnet's own launcher: ``--ngpu N`` (N > 1) adds
    ``--multiprocessing_distributed true`` (ESPnet spawns one process per GPU); ``num_nodes`` M > 1 runs
    each training job as one Slurm step over M nodes (``srun --nodes M --ntasks-per-node 1``, as ESPnet's
    ``slurm.pl`` launches), each node's process spawning its N GPU workers, with ``--dist_launcher slurm``
    (ranks from Slurm's variables) and a rendezvous file in the exp dir (removed before each launch).

    ``eval_root`` (default ``data_root``) holds the audio data dirs of the test sets that ``meta.json``
    names when training reads a feature cache under ``data_root``; ``feats_root`` the feature caches
    (stage 4) that the classical system reads.
    """
    data, exp = Path(data_root), Path(expdir)
    evald = Path(eval_root) if eval_root is not None else data
    configs = configs_of(ser_config, variants)
    jobs = []
    if stage == "stats":
        networks = [v for v in variants if v not in SYSTEMS]
        for s in splits if networks else []:
            out = exp / "stats" / s.name
            cfg = config_for(ser_config, networks[0])
            _check_cache(data / s.train, cfg[1])
            train_dir = training_dir(data, s, trains_on_dev(cfg[1], [*cfg[2:], *ser_args]))
            args = collect_stats_args(cfg[1], train_dir, data / s.dev, out, [*cfg[2:], *ser_args])
            jobs.append(_job("espnet_ser.bin.ser_train", args, out / "collect_stats.log", out / ".done"))
            if option(cfg[1], [*cfg[2:], *ser_args], "normalize") == "speaker_mvn":
                args = [cfg[1], out, train_dir, data / s.dev]
                jobs.append(_job("espnet_ser.bin.speaker_stats", args, out / "speaker" / "speaker_stats.log", out / "speaker" / ".done"))
        return jobs
    if num_nodes < 1 or ngpu < 0:
        raise InputError(f"--num_nodes must be at least 1 and --ngpu at least 0 (got {num_nodes} and {ngpu})")
    gpu = ["--ngpu", str(ngpu)] + (["--multiprocessing_distributed", "true"] if ngpu > 1 or num_nodes > 1 else [])
    for s in splits:
        for v in variants:
            tag = f"ser_{v}_{s.name}"
            e = exp / tag
            if v in SYSTEMS or stage == "fuse":
                card = ["--card", model_card] if model_card != "none" else []
                jobs += _system_jobs(stage, recipe, s, v, configs, data, exp, evald, feats_root, ser_args, card)
                continue
            cfg = config_for(ser_config, v)
            on_dev = trains_on_dev(cfg[1], [*cfg[2:], *ser_args])
            if stage == "train":
                _check_cache(data / s.train, cfg[1])
            if stage == "train":
                if s.row is not None:
                    trained = table2_trained_types(s.row)
                elif recipe_spec(recipe).layout == "multi":  # what the declaration's experiment trains on
                    trained = trained_types(data / s.train)
                else:
                    trained = recipe_spec(recipe).labels
                stat = selection_stat(v, recipe_spec(recipe).class_metric, trained)
                if (data / s.dev / CORPUS_FILE).exists():  # a multi-corpus dev set: each corpus's score, averaged
                    stat += "_corpus_mean"
                # trained on its dev set too: no held-out speaker can pick epochs, the last ones are kept
                best = ["--best_model_criterion", "valid,epoch,max" if on_dev else f"valid,{stat},max"]
                train_dir = training_dir(data, s, on_dev)
                nodes, launch = [], {}
                if num_nodes > 1:
                    init = Path(e).resolve() / ".dist_init"
                    nodes = ["--dist_launcher", "slurm", "--dist_init_method", f"file://{init}"]
                    launch = {"launcher": ["srun", f"--nodes={num_nodes}", "--ntasks-per-node=1", "--kill-on-bad-exit=1"],
                              "dist_init_file": str(init)}
                args = train_args(cfg[1], train_dir, data / s.dev, exp / "stats" / s.name, e,
                                  [*cfg[2:], *best, *gpu, *nodes, *ser_args])
                meta = {"tag": tag, "recipe": recipe, "variant": v, "split": s.name, "fold": s.fold, "row": s.row,
                        "trained": list(trained),
                        **({"experiment": s.name if s.fold is None else s.name[: -len(f"_fold{s.fold}")]}
                           if recipe_spec(recipe).layout == "multi" else {}),
                        "train": str(train_dir), "dev": str(data / s.dev),
                        "selection": "last epochs (trained on dev too)" if on_dev else f"best dev {stat}",
                        "tests": {k: str(evald / t) for k, t in s.tests.items()}}
                jobs.append(_job("espnet_ser.bin.ser_train", args, e / "train.log", e / ".done.train", "error", meta=meta, **launch))
            elif stage == "pack":
                card = ["--card", model_card] if model_card != "none" else []
                jobs.append(_job("espnet_ser.bin.pack_model", ["--exp", e, "--out", e / "packed" / "model.zip", *card],
                                 e / "packed" / "pack.log", e / "packed" / ".done"))
            else:
                # the dev set's predictions calibrate the conformal sets and intervals (espnet_ser.inference.conformal);
                # a model trained on its dev set has no held-out data to calibrate with: none is made
                dev_hyp = e / "inference" / CONFORMAL_DEV
                calibrate = ["--cal_ref", data / s.dev, "--cal_hyp", dev_hyp, "--coverage", str(DEFAULT_COVERAGE)]
                if stage == "inference" and not on_dev:
                    args = ["--model", e, "--wav_scp", data / s.dev / "wav.scp", "--out", dev_hyp, "--no_progress", *inference_args]
                    jobs.append(_job("espnet_ser.bin.ser_inference", args, dev_hyp / "inference.log", dev_hyp / ".done"))
                elif stage == "score" and not on_dev:  # the model's own calibration (packed with it), then each test set's coverage
                    args = [*calibrate, "--hyp", dev_hyp, "--out", e / "conformal"]
                    jobs.append(_job("espnet_ser.bin.ser_conformal", args, e / "conformal" / "conformal.log", e / "conformal" / ".done"))
                for name, rel in s.tests.items():
                    hyp = e / "inference" / name
                    if stage == "inference":
                        args = ["--model", e, "--wav_scp", data / rel / "wav.scp", "--out", hyp, "--no_progress", *inference_args]
                        jobs.append(_job("espnet_ser.bin.ser_inference", args, hyp / "inference.log", hyp / ".done"))
                    elif stage == "score":
                        args = ["--ref", data / rel, "--hyp", hyp, "--out", hyp / "score"]
                        jobs.append(_job("espnet_ser.bin.ser_score", args, hyp / "score" / "score.log", hyp / "score" / ".done"))
                        if on_dev:
                            continue
                        args = [*calibrate, "--ref", data / rel, "--hyp", hyp, "--out", hyp / "conformal",
                                "--group", f"speaker={data / rel / 'utt2spk'}"]
                        jobs.append(_job("espnet_ser.bin.ser_conformal", args, hyp / "conformal" / "conformal.log",
                                         hyp / "conformal" / ".done"))
                    else:
                        raise InputError(f"unknown stage {stage!r}")
    return jobs


def _check_cache(train_dir: Path, config: str) -> None:
    """A feature cache (``cache_key.json``) made by another frontend than ``config``'s is refused."""
    if (train_dir / "cache_key.json").is_file():
        from espnet_ser.recipe.feature_cache import check_cache_matches  # torch: only for a cached run

        check_cache_matches(train_dir, config)


def _system_jobs(stage: str, recipe: str, s: Split, v: str, configs: Dict[str, str], data: Path, exp: Path,
                 evald: Path, feats_root: Optional[PathLike], ser_args: Sequence[str], card: Sequence[str] = ()) -> List[Dict]:
    """The jobs of a system of :data:`espnet_ser.spec.SYSTEMS` for one split. Both fit on the split's train and
    dev sets (nothing is selected on dev: the classical system's grids are searched over the training
    speakers; the fusion only counts the training classes, its prior), so no dev predictions are made.

    * ``classical``: ``train`` fits it on the feature caches (``classical fit``), ``inference`` predicts each
      test set's cache (``classical predict``);
    * ``fusion``: ``train`` counts the classes (``ser_ensemble fit``), ``fuse`` (after every system's
      inference) fuses the predictions of its ``systems`` per test set (``ser_ensemble predict``).

    Scoring is every system's: ``ser_score`` on each test set's predictions; ``pack`` packs the classical
    system (``pack_model``); a fusion has no model of its own to pack."""
    e = exp / f"ser_{v}_{s.name}"
    tests = list(s.tests.items())
    if stage == "fuse":
        if v != "fusion":
            return []
        from espnet_ser.errors import read_yaml_mapping

        fused = [str(x) for x in read_yaml_mapping(configs[v], "fusion config")["systems"]]
        return [_job("espnet_ser.bin.ser_ensemble", ["predict", "--model", e, "--out", e / "inference" / name,
                                                     *[exp / f"ser_{x}_{s.name}" / "inference" / name for x in fused]],
                     e / "inference" / name / "fuse.log", e / "inference" / name / ".done") for name, _ in tests]
    if stage == "train":
        if feats_root is None and v == "classical":
            raise InputError("the classical system reads the feature cache: run with --feats_type cached (stage 4)")
        root = Path(feats_root) if v == "classical" else data
        seed = option(configs[v], list(ser_args), "seed", None)
        module = "espnet_ser.bin.classical" if v == "classical" else "espnet_ser.bin.ser_ensemble"
        args = ["fit", "--config", configs[v], "--train", root / s.train, "--train", root / s.dev, "--out", e,
                *(["--seed", str(seed)] if seed is not None and v == "classical" else [])]
        meta = {"tag": e.name, "recipe": recipe, "variant": v, "split": s.name, "fold": s.fold, "row": s.row,
                "trained": ["emotion"], "train": str(root / s.train), "dev": str(root / s.dev),
                "selection": "none: fitted on the train and dev sets",
                "tests": {k: str(evald / t) for k, t in tests}}
        return [_job(module, args, e / "train.log", e / ".done.train", "error", meta=meta)]
    if stage == "inference":
        if v != "classical":
            return []
        return [_job("espnet_ser.bin.classical", ["predict", "--model", e, "--feats", Path(feats_root) / rel,
                                                  "--out", e / "inference" / name],
                     e / "inference" / name / "inference.log", e / "inference" / name / ".done") for name, rel in tests]
    if stage == "score":
        return [_job("espnet_ser.bin.ser_score", ["--ref", data / rel, "--hyp", e / "inference" / name,
                                                  "--out", e / "inference" / name / "score"],
                     e / "inference" / name / "score" / "score.log", e / "inference" / name / "score" / ".done")
                for name, rel in tests]
    if stage == "pack":  # a fusion has no model of its own: it is its systems' packs and its fusion.json
        if v != "classical":
            return []
        return [_job("espnet_ser.bin.pack_model", ["--exp", e, "--out", e / "packed" / "model.zip", *card],
                     e / "packed" / "pack.log", e / "packed" / ".done")]
    raise InputError(f"unknown stage {stage!r}")


def provenance(config_args: Sequence[str]) -> Dict:
    """What an exp dir records about how it was made: command, seed, git commit, versions, host."""
    def git(*cmd):
        try:
            return subprocess.run(["git", *cmd], capture_output=True, text=True, cwd=Path(__file__).parent, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    from importlib import metadata

    versions = {}
    for pkg in ("espnet", "espnet-ser", "torch", "torchaudio", "espnet-s3prl", "transformers", "numpy"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    import espnet_ser

    versions["espnet_ser (source)"] = espnet_ser.__version__
    args = list(config_args)
    seed = option(args[args.index("--config") + 1] if "--config" in args else None, args, "seed", default=0)
    seed = None if seed is None else int(seed)
    return {"command": ["python", "-m", "espnet_ser.bin.ser_train", *args], "seed": seed,
            "git_commit": git("rev-parse", "HEAD"), "git_dirty": bool(git("status", "--porcelain")),
            "versions": versions, "python": platform.python_version(), "host": platform.node(),
            "started": datetime.datetime.now().isoformat(timespec="seconds")}


def write_jobs(jobs: Sequence[Dict], path: PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(j) + "\n" for j in jobs))
    return path
