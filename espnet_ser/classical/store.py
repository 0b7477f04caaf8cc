"""A classical system on disk, and the feature caches it reads.

A fitted system is saved with skops (``model.skops``): a file of the types' names and their states, never a
pickle. Loading accepts only the types listed in :data:`TRUSTED` (beside skops's own trusted scikit-learn and
numpy types): a file naming any other type is refused before anything in it is built, so a crafted file runs
no code. Beside it the exp dir holds the config (``config.yaml``) and ``classical.json`` (what the fit chose
and how many training vectors each member carries).

A feature cache dir (stage 4, ``extract_feats``) holds ``feats.scp`` (``utt path.npy``), ``utt2spk``, the label
files and ``cache_key.json``; :func:`read_cache` reads it after checking that its key's frontend is the
config's (a cache of other features is refused, naming both).
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Union

import numpy as np
import skops.io as sio

from espnet_ser.errors import InputError, MissingInput
from espnet_ser.labels import read_table

PathLike = Union[str, Path]
MODEL_NAME = "model.skops"
#: the types of our own a saved classical system may hold (with skops's default trusted types)
TRUSTED = (
    "espnet_ser.classical.system.ClassicalSystem",
    "espnet_ser.classical.system.Member",
    "espnet_ser.classical.estimators.KernelRidgeClassifier",
    "espnet_ser.classical.estimators.ShrinkageLDA",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
)


def save(system, path: PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    sio.dump(system, tmp)
    tmp.replace(path)
    return path


def load(path: PathLike):
    """The system saved at ``path``; a file naming a type outside :data:`TRUSTED` is refused unbuilt."""
    path = Path(path)
    if not path.is_file():
        raise MissingInput(f"{path}: no saved classical system")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as e:  # not a skops zip, or a damaged one
        raise InputError(f"{path}: not a skops file of a classical system ({type(e).__name__}: {e})") from None
    refused = sorted(set(untrusted) - set(TRUSTED))
    if refused:
        raise InputError(f"{path}: refused: it names types outside the classical system's own "
                         f"({', '.join(refused[:5])}); only a file written by 'classical fit' loads")
    return sio.load(path, trusted=list(untrusted))


#: what a packed classical system holds beside ``model.skops``: its exp dir's files, under these names
PACKED = (("config.yaml", "config.yaml"), ("classical.json", "classical.json"), ("meta.json", "experiment.json"),
          ("provenance.json", "provenance.json"))


def pack(exp_dir: PathLike, out_zip: PathLike) -> Path:
    """Pack a fitted classical system's exp dir into one zip: ``model.skops`` (checked to load), its config,
    ``classical.json`` (members, training vectors, predictable classes), how it was made (``experiment.json``,
    ``provenance.json``) and ``meta.json`` (source, versions)."""
    import datetime
    import zipfile

    import sklearn

    import espnet_ser

    exp = Path(exp_dir)
    system = load(exp / MODEL_NAME)  # a file that would not load is not packed
    out = Path(out_zip)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(exp / MODEL_NAME, MODEL_NAME)
        for name, packed in PACKED:
            if (exp / name).is_file():
                z.write(exp / name, packed)
        meta = {"espnet_ser": espnet_ser.__version__, "scikit-learn": sklearn.__version__, "skops": _skops_version(),
                "source": str(exp.resolve()), "model_file": MODEL_NAME, "classes": list(system.class_list),
                "created": datetime.datetime.now().isoformat(timespec="seconds")}
        z.writestr("meta.json", json.dumps(meta, indent=1) + "\n")
    tmp.replace(out)
    return out


def _skops_version() -> str:
    import skops

    return skops.__version__


@dataclass
class Cached:
    ids: List[str]
    feats: List[np.ndarray]
    speakers: List[str]
    emotion: Dict[str, str]


def cache_frontend(feats_dir: PathLike) -> Dict:
    key = Path(feats_dir) / "cache_key.json"
    if not key.is_file():
        raise MissingInput(f"{key} missing: {feats_dir} is not a feature cache (stage 4, extract_feats)")
    k = json.loads(key.read_text(encoding="utf-8"))
    return {"frontend": k.get("frontend"), "frontend_conf": k.get("frontend_conf")}


def read_cache(feats_dir: PathLike, frontend: Optional[Dict] = None) -> Cached:
    """The utterances of a feature cache dir, their frames, speakers and classes (``emotion``, if any).
    ``frontend`` ({frontend, frontend_conf} of the config): refused unless the cache was made by it."""
    d = Path(feats_dir)
    if frontend is not None:
        have = cache_frontend(d)
        if have != frontend:
            raise InputError(f"{d}/cache_key.json: the cache holds features of {have}, the config asks for {frontend}: "
                             "extract the config's features (stage 4) or use its cache")
    scp, u2s = read_table(d / "feats.scp"), read_table(d / "utt2spk")
    emotion = read_table(d / "emotion") if (d / "emotion").is_file() else {}
    ids = sorted(scp)
    missing = [u for u in ids if u not in u2s]
    if missing:
        raise InputError(f"{d}/utt2spk: no speaker for {len(missing)} utterance(s) of feats.scp: {' '.join(missing[:5])}")
    feats = []
    for u in ids:
        p = Path(scp[u])
        try:
            a = np.load(p, allow_pickle=False)  # a relative path: from the working dir, as ESPnet reads scp files
        except (OSError, ValueError) as e:
            raise InputError(f"{d}/feats.scp: {u}: {p} is not a readable .npy ({e})") from None
        if a.ndim != 2 or not np.isfinite(a).all():
            raise InputError(f"{d}/feats.scp: {u}: {p} must be a finite (frames, features) array, got shape {a.shape}")
        feats.append(a)
    return Cached(ids, feats, [u2s[u] for u in ids], {u: v.strip() for u, v in emotion.items()})
