"""The ESPnet command lines of one experiment's two training steps: collect stats, then train.

``collect_stats_args`` and ``train_args`` give the ``ser_train`` arguments the recipe's job files hold
(stages 5 and 6, :mod:`espnet_ser.recipe.plan`); ``collect_stats`` and ``train`` run the same in-process
(the tests and benchmarks do). Importing this module does not import ESPnet.
"""

from pathlib import Path
from typing import List, Sequence, Union
from espnet_ser.errors import InputError, MissingInput
from espnet_ser.labels import CORPUS_FILE, SPEAKER_MVN, UTT_FILES


PathLike = Union[str, Path]
#: data file -> (data name, ESPnet loader type)
DATA_FILES = (("wav.scp", "speech", "sound"),
              *((t, t, {"emotion": "text", "vad": "text_float", "emotion_votes": "text", "vad_raters": "text_float",
                        CORPUS_FILE: "text_int"}[t])
                for t in UTT_FILES))


def speech_file(data_dir: PathLike) -> Path:
    """``feats.scp`` of a feature-cache dir (extract_feats), else ``wav.scp``."""
    d = Path(data_dir)
    for f in ("feats.scp", "wav.scp"):
        if (d / f).exists():
            return d / f
    raise MissingInput(f"{d}: neither wav.scp nor feats.scp: not a data directory")


def data_args(phase: str, data_dir: PathLike) -> List[str]:
    """``--{phase}_data_path_and_name_and_type`` arguments for the files present in ``data_dir``."""
    d = Path(data_dir)
    speech = speech_file(d)
    args = []
    if speech.name == "feats.scp":
        args += [f"--{phase}_data_path_and_name_and_type", f"{speech},speech,npy"]
    for fname, name, kind in DATA_FILES:
        if fname == "wav.scp" and speech.name == "feats.scp":
            continue
        if (d / fname).exists():
            args += [f"--{phase}_data_path_and_name_and_type", f"{d / fname},{name},{kind}"]
    return args


def collect_stats_args(config: PathLike, train_dir: PathLike, valid_dir: PathLike, stats_dir: PathLike,
                       extra: Sequence[str] = ()) -> List[str]:
    """``ser_train`` arguments of ESPnet's collect-stats pass. It computes the statistics ``global_mvn``
    reads, so a model normalised that way is built without its normalisation here."""
    no_mvn = ["--normalize", "none"] if option(config, extra, "normalize") == "global_mvn" else []
    return [
            "--config", str(config),
            "--collect_stats", "true",
            "--use_preprocessor", "true",
            "--output_dir", str(stats_dir),
            "--train_shape_file", str(speech_file(train_dir)),
            "--valid_shape_file", str(speech_file(valid_dir)),
            *data_args("train", train_dir),
            *data_args("valid", valid_dir),
            *extra,
            *no_mvn,
    ]


def collect_stats(config: PathLike, train_dir: PathLike, valid_dir: PathLike, stats_dir: PathLike, extra: Sequence[str] = ()) -> Path:
    """ESPnet's collect-stats pass: shape files (for the batch samplers) and feature statistics."""
    from espnet_ser.model.task import SERTask

    SERTask.main(cmd=collect_stats_args(config, train_dir, valid_dir, stats_dir, extra))
    if option(config, extra, "normalize") == "speaker_mvn":
        speaker_stats(config, train_dir, valid_dir, stats_dir)
    return Path(stats_dir)


def train_args(
    config: PathLike, train_dir: PathLike, valid_dir: PathLike, stats_dir: PathLike, exp_dir: PathLike, extra: Sequence[str] = ()
) -> List[str]:
    """``ser_train`` arguments of a training run (resumable: ``--resume true``). A model normalised with
    ``global_mvn`` gets the feature statistics of its own training set (``<stats_dir>/train/feats_stats.npz``,
    written by collect_stats) unless a ``stats_file`` is given."""
    stats_dir = Path(stats_dir)
    mvn = []
    normalize = option(config, extra, "normalize")
    if normalize == "global_mvn" and "stats_file" not in " ".join(map(str, extra)):
        mvn = ["--normalize_conf", f"stats_file={stats_dir / 'train' / 'feats_stats.npz'}"]
    elif normalize == "speaker_mvn":
        mvn = [a for phase, f in speaker_stats_files(stats_dir).items()
               for a in (f"--{phase}_data_path_and_name_and_type", f"{f},{SPEAKER_MVN},text_float")]
    return [
            "--config", str(config),
            "--output_dir", str(exp_dir),
            "--train_shape_file", str(stats_dir / "train" / "speech_shape"),
            "--valid_shape_file", str(stats_dir / "valid" / "speech_shape"),
            "--resume", "true",
            *data_args("train", train_dir),
            *data_args("valid", valid_dir),
            *mvn,
            *extra,
    ]


def speaker_stats_files(stats_dir: PathLike) -> dict:
    """Where the speaker statistics of a split's training and dev sets go (``normalize: speaker_mvn``)."""
    return {phase: Path(stats_dir) / "speaker" / phase / SPEAKER_MVN for phase in ("train", "valid")}


def data_dir_speaker_stats(config: PathLike, data_dir: PathLike) -> dict:
    """Speaker statistics of a data dir with the frontend of a training config: from its audio
    (``wav.scp``), or in a feature-cache dir (``feats.scp``) from the cached features themselves, which
    are that frontend's output (a cache of several layers feeds a trainable weighted sum: refused)."""
    import soundfile as sf
    import torch

    from espnet_ser.labels import read_table
    from espnet_ser.model.speaker_mvn import statistics
    from espnet_ser.recipe.feature_cache import build_frontend, frontend_spec

    from espnet_ser.model.frontend.cached import finetuned

    d = Path(data_dir)
    name, frontend_conf = frontend_spec(config)  # the config's frontend, as stage 4 builds it
    if finetuned(frontend_conf):
        raise InputError(f"{config}: normalize speaker_mvn needs a fixed frontend output, but this config fine-tunes the "
                         "upstream (frontend_conf.finetune), whose output changes as it trains; use utterance_mvn")
    if (d / "feats.scp").exists() and not (d / "wav.scp").exists():
        return cached_speaker_stats(d)
    for f in ("wav.scp", "utt2spk"):
        if not (d / f).is_file():
            raise MissingInput(f"{d / f}: not found (speaker statistics need the audio and each utterance's speaker)")
    frontend = build_frontend(name, frontend_conf, "cpu")
    fs = int(frontend_conf.get("fs", 16000))

    def read(path: str):
        wav, rate = sf.read(path, dtype="float32", always_2d=True)
        if rate != fs:
            raise InputError(f"{path}: {rate} Hz, but the model reads {fs} Hz audio (the recipe's stage 2 resamples)")
        yield torch.from_numpy(wav.mean(axis=1))

    return statistics(frontend, sorted(read_table(d / "wav.scp").items()), read_table(d / "utt2spk"), read)


def cached_speaker_stats(d: Path) -> dict:
    """utterance -> its speaker's ``[mu, sigma]`` over the cached features of the dir's utterances."""
    import numpy as np
    import torch

    from espnet_ser.labels import read_table
    from espnet_ser.model.speaker_mvn import SpeakerStats

    args = (d / "frontend_args").read_text() if (d / "frontend_args").is_file() else ""
    if "num_layers=1" not in args.split():
        raise InputError(f"{d}: normalize speaker_mvn needs the features of one layer (this cache feeds a trainable "
                         f"weighted sum of layers: {args.strip() or 'no frontend_args'}); use a single layer or global_mvn")
    feats, spk = read_table(d / "feats.scp"), read_table(d / "utt2spk")
    missing = [u for u in feats if u not in spk]
    if missing:
        raise InputError(f"{d}/utt2spk: {len(missing)} utterance(s) without a speaker, e.g. {missing[0]}")
    acc = SpeakerStats()
    for u, path in sorted(feats.items()):
        acc.add(spk[u], torch.from_numpy(np.load(path).astype(np.float32)))
    per_speaker = acc.result()
    return {u: per_speaker[spk[u]] for u in feats}


def speaker_stats(config: PathLike, train_dir: PathLike, valid_dir: PathLike, stats_dir: PathLike) -> dict:
    """Write the ``speaker_mvn`` files of a training and a dev set (:mod:`espnet_ser.model.speaker_mvn`)."""
    from espnet_ser.model.speaker_mvn import write

    files = speaker_stats_files(stats_dir)
    for phase, data_dir in (("train", train_dir), ("valid", valid_dir)):
        write(files[phase], data_dir_speaker_stats(config, data_dir))
    return files


def option(config: PathLike, args: Sequence[str], name: str, default=None):
    """A top-level option of a ser_train command: the last ``--name VALUE`` of ``args``, else the config
    file's value (``default`` when the config lacks it), else None (no config file)."""
    args = [str(a) for a in args]
    if f"--{name}" in args:
        return args[len(args) - 1 - args[::-1].index(f"--{name}") + 1]
    if not config or not Path(config).is_file():
        return None
    from espnet_ser.errors import read_yaml_mapping

    return read_yaml_mapping(config, "training config").get(name, default)


def train(
    config: PathLike, train_dir: PathLike, valid_dir: PathLike, stats_dir: PathLike, exp_dir: PathLike, extra: Sequence[str] = ()
) -> Path:
    """Train into ``exp_dir`` (ESPnet layout: config.yaml, checkpoint.pth, *.best.pth, RESULTS)."""
    from espnet_ser.model.task import SERTask

    SERTask.main(cmd=train_args(config, train_dir, valid_dir, stats_dir, exp_dir, extra))
    return Path(exp_dir)
