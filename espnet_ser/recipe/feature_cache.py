"""Run the frozen frontend once over a data dir and store its features (``extract_feats``).

Output: a data dir with ``feats.scp`` (``utt path.npy``; ESPnet type ``npy``), ``feats_shape``
(``utt T,C``), the label files and ``utt2spk``/``spk2utt`` of the source, ``frontend_args`` (the
``ser_train`` arguments that make a config read the cache: ``--frontend cached ...``) and
``cache_key.json``. Each utterance is one ``npy/<utt>.npy`` (float16 by default; T frames x L*D).

The cache key holds what produced the features: frontend name and configuration, a SHA-256 of every
local checkpoint file the configuration points at (or the hub name), the stored layers, sample rate,
storage dtype, compute dtype (fp32 or bf16: :mod:`espnet_ser.compute_dtype`) and the espnet_ser version. A cache whose key differs is wiped and rebuilt; a cache without its
``.done`` stamp is partial and extraction resumes (each utterance file is written atomically, so a
file that exists is complete). A finished cache with the same key is reused as it is.

Batches are formed by length (sorted, at most ``batch_seconds`` of padded audio each: 200 s on a GPU,
10 s on a CPU, where large padded batches run 2-3x slower) and run under ``no_grad``; with
``compute="bf16"`` the frozen upstream runs with bf16 weights (``autocast=True`` is the older,
slower alternative).
"""

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import soundfile as sf
import torch
import yaml
from tqdm import tqdm

import espnet_ser
from espnet_ser import compute_dtype
from espnet_ser.errors import InputError, read_yaml_mapping
from espnet_ser.labels import link_table, read_table, safe_child
from espnet_ser.model.frontend.cached import finetuned, source_features
from espnet_ser.model.frontend.finetune import finetune_layers, reads_audio
from espnet_ser.labels import UTT_FILES
from espnet_ser.recipe.dump import audio_key, inputs_digest

PathLike = Union[str, Path]
COPY_FILES = ("utt2spk", "spk2utt", *UTT_FILES, "utt2num_samples")
PATH_KEYS = ("path_or_url", "path_or_name", "stats_file")
CPU_BATCH_SECONDS = 10.0  # docs/benchmarks.md: HuBERT-large on 2 CPU cores, 200-s batches 4.1x real time, 5-15 s 11-12x


def _hash_path(p: Path) -> str:
    h = hashlib.sha256()
    files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    for f in files:
        h.update(str(f.relative_to(p) if p.is_dir() else f.name).encode())
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def frontend_spec(config: PathLike, overrides: Sequence[str] = ()) -> Tuple[str, Dict]:
    """(frontend name, frontend_conf) of a training config, with ``key=value`` overrides applied."""
    conf = read_yaml_mapping(config, "training config")
    name = conf.get("frontend", "s3prl")
    fconf = dict(conf.get("frontend_conf") or {})
    for item in overrides:
        k, _, v = item.partition("=")
        fconf[k] = yaml.safe_load(v)
    if name == "cached":
        raise InputError(f"{config}: frontend is already 'cached'; give the config of the source frontend")
    return name, fconf


#: frontends whose outputs are bounded activations, stored as float16 (half the disk) by default
HALF_PRECISION_FRONTENDS = ("s3prl", "hf_hubert")


def store_dtype(name: str) -> str:
    """The default storage type of a frontend's cached features (``extract_feats --store_dtype auto``)."""
    return "float16" if name in HALF_PRECISION_FRONTENDS else "float32"


def cache_key(name: str, fconf: Dict, dtype: str, compute: str = "fp32", digest: bool = True) -> Dict:
    """What produced a cache. A fine-tuning config (``finetune``) caches the frozen states below its
    first trainable layer: only the number of top layers that train decides those (not the mode, the
    learning rate or the adapters' settings), so ``layers`` records it and the rest of ``finetune`` is left out."""
    digests = {}
    for k in PATH_KEYS if digest else ():
        v = fconf.get(k)
        if isinstance(v, str) and Path(v).exists():
            digests[k] = _hash_path(Path(v))
    layers = "all" if fconf.get("multilayer_feature") else fconf.get("layer", -1)
    if finetuned(fconf):
        if reads_audio(fconf):
            raise InputError(f"{name} with finetune mode 'all' trains the convolutional encoder: no frozen part to cache; "
                             "train from audio (--feats_type raw)")
        layers = {"enters_top": finetune_layers(fconf) or "every layer",
                  "lower_layers_too": bool(fconf.get("multilayer_feature"))}
        fconf = {k: v for k, v in fconf.items() if k != "finetune"}
    return {"frontend": name, "frontend_conf": fconf, "checkpoint_sha256": digests or None, "layers": layers,
            "fs": int(fconf.get("fs", 16000)), "dtype": dtype, "compute_dtype": compute, "espnet_ser": espnet_ser.__version__}


#: what a cache's key must share with a config that trains on it (the storage and compute types may differ)
MATCHING_KEY_FIELDS = ("frontend", "frontend_conf", "layers", "fs")


def check_cache_matches(cache_dir: PathLike, config: PathLike) -> None:
    """Refuse, in one line, a feature cache made by another frontend than ``config``'s (e.g. a fine-tuning
    cache of ``layers: 1`` for a ``layers: 2`` config): its ``cache_key.json`` against :func:`cache_key`
    (without hashing checkpoints again)."""
    key_file = Path(cache_dir) / "cache_key.json"
    if not key_file.is_file():
        return
    have = json.loads(key_file.read_text(encoding="utf-8"))
    want = cache_key(*frontend_spec(config), "-", digest=False)
    for field in MATCHING_KEY_FIELDS:
        if have.get(field) != want[field]:
            raise InputError(f"{key_file}: the cache holds features of {field} {have.get(field)!r}, {config} asks for "
                             f"{want[field]!r}: extract its features again (stage 4) or train with the config that made the cache")


def build_frontend(name: str, fconf: Dict, device: str) -> torch.nn.Module:
    from espnet_ser.model.frontend import frontend_choices

    return frontend_choices.get_class(name)(**fconf).to(device).eval()


def _batches(lengths: Dict[str, int], batch_seconds: float, fs: int, sort: bool, max_items: int) -> List[List[str]]:
    ids = sorted(lengths, key=lambda u: (lengths[u], u)) if sort else sorted(lengths)
    batches, cur, longest = [], [], 0
    for u in ids:
        n = max(longest, lengths[u])
        if cur and (n * (len(cur) + 1) > batch_seconds * fs or len(cur) >= max_items):
            batches.append(cur)
            cur, n = [], lengths[u]
        cur.append(u)
        longest = n
    if cur:
        batches.append(cur)
    return batches


def extract_features(
    data_dir: PathLike, out_dir: PathLike, config: PathLike, overrides: Sequence[str] = (), device: str = "cpu",
    dtype: str = "auto", batch_seconds: Optional[float] = None, sort_by_length: bool = True, autocast: Optional[bool] = None,
    max_items: int = 64, progress: bool = True, frontend: Optional[torch.nn.Module] = None, compute: str = "fp32",
    shared: Optional[Dict] = None,
) -> Dict:
    """Extract (or resume, or reuse) the feature cache of ``data_dir`` into ``out_dir``; returns a report.

    ``dtype`` is how features are stored; ``compute`` (``fp32``, ``bf16`` or ``auto``:
    :mod:`espnet_ser.compute_dtype`) the float type the frozen upstream runs in. Both are part of the
    cache key: a cache computed in another type is rebuilt.

    ``shared`` (a dict the caller keeps over the data dirs of one run, with one key) maps each audio file
    (:func:`espnet_ser.recipe.dump.audio_key`) to the features already stored for it: an utterance that
    several data dirs list (Table 2's rows share MSP-Podcast's dev set) is extracted once and hard-linked
    into the other caches (``linked_now`` in the report).
    """
    src, out = Path(data_dir), Path(out_dir)
    name, fconf = frontend_spec(config, overrides)
    dtype = store_dtype(name) if dtype == "auto" else dtype
    compute, _ = compute_dtype.resolve(compute, device)
    if batch_seconds is None:  # big padded batches pay on a GPU; on a CPU they run 2-3x slower than short ones
        batch_seconds = 200.0 if str(device).startswith("cuda") else CPU_BATCH_SECONDS
    key = cache_key(name, fconf, dtype, compute)
    key_text = json.dumps(key, sort_keys=True)
    done, key_file, npy_dir = out / ".done", out / "cache_key.json", out / "npy"
    if key_file.exists() and key_file.read_text() != key_text:
        shutil.rmtree(out)  # stale: produced by another frontend/checkpoint/setting
        status = "rebuilt"
    elif done.exists() and done.read_text().strip() == _done_stamp(key_text, src):
        return {"status": "reused", **json.loads((out / "extract_report.json").read_text())}
    else:
        status = "resumed" if npy_dir.exists() else "new"
    npy_dir.mkdir(parents=True, exist_ok=True)
    key_file.write_text(key_text)
    wavs = read_table(src / "wav.scp")
    if (src / "utt2num_samples").exists():
        lengths = {u: int(n) for u, n in read_table(src / "utt2num_samples").items()}
    else:
        lengths = {u: sf.info(p).frames for u, p in wavs.items()}
    # ids name the cache's files: safe_child refuses one that would leave npy/ before anything is written
    todo = {u: n for u, n in lengths.items() if not safe_child(npy_dir, u, ".npy").exists()}
    shared = {} if shared is None else shared
    owner = {u: audio_key(p) for u, p in wavs.items()}
    linked = 0
    for u in list(todo):
        if (owner[u], key_text) in shared:  # the same audio, extracted for another dir with this key
            link_table(shared[owner[u], key_text], npy_dir / f"{u}.npy")
            del todo[u]
            linked += 1
    fs = key["fs"]
    use_autocast = bool(autocast)
    model = frontend if frontend is not None else (build_frontend(name, fconf, device) if todo else None)
    if model is not None and compute != "fp32":
        compute_dtype.apply(model, compute)
    num_layers = None
    audio_s = 0.0
    for batch in tqdm(_batches(todo, batch_seconds, fs, sort_by_length, max_items), desc=f"extract {src.name}",
                      unit="batch", disable=not progress):
        audio = [sf.read(wavs[u], dtype="float32")[0] for u in batch]
        for u, a in zip(batch, audio):
            if a.ndim != 1 or a.size != lengths[u]:
                raise InputError(f"{src}/wav.scp: {u}: expected mono audio of {lengths[u]} samples (run the format stage)")
        lens = torch.tensor([a.size for a in audio])
        pad = torch.zeros(len(audio), int(lens.max()))
        for i, a in enumerate(audio):
            pad[i, : a.size] = torch.from_numpy(a)
        with torch.no_grad(), torch.autocast(device_type="cuda" if device.startswith("cuda") else "cpu",
                                             dtype=torch.bfloat16, enabled=use_autocast):
            feats, flens, num_layers = source_features(model, pad.to(device), lens.to(device))
        feats = feats.float().cpu().numpy()
        if dtype == "float16" and np.abs(feats[np.isfinite(feats)]).max(initial=0.0) > np.finfo(np.float16).max:
            raise InputError(f"{src}: {name} features exceed float16's range ({np.finfo(np.float16).max:g}); "
                             "store them as float32 (extract_feats --store_dtype float32)")
        for i, u in enumerate(batch):
            tmp = npy_dir / f".{u}.tmp.npy"
            np.save(tmp, feats[i, : int(flens[i])].astype(dtype))
            os.replace(tmp, npy_dir / f"{u}.npy")  # atomic: a file that exists is complete
        audio_s += float(lens.sum()) / fs
    shapes = {}
    for u in sorted(wavs):
        arr = np.load(npy_dir / f"{u}.npy", mmap_mode="r")
        shapes[u] = arr.shape
    widths = {s[1] for s in shapes.values()}
    if len(widths) != 1:
        raise InputError(f"{out}: features of different widths {sorted(widths)}: wipe the cache and extract again")
    width = widths.pop()
    if num_layers is None:  # everything was already extracted: the layer count follows from the key
        num_layers = _layers_from_key(key, name, fconf, width)
    feat_dim = width // num_layers
    (out / "feats.scp").write_text("".join(f"{u} {(npy_dir / f'{u}.npy').resolve()}\n" for u in sorted(shapes)))
    (out / "feats_shape").write_text("".join(f"{u} {s[0]},{s[1]}\n" for u, s in sorted(shapes.items())))
    for f in COPY_FILES:  # passed on unchanged: linked, not rewritten
        if (src / f).exists():
            link_table(src / f, out / f)
    args = ["--frontend", "cached", "--frontend_conf", f"feat_dim={feat_dim}", "--frontend_conf", f"num_layers={num_layers}",
            "--frontend_conf", f"source={name}"]
    (out / "frontend_args").write_text(" ".join(args) + "\n")
    for u in shapes:
        shared.setdefault((owner[u], key_text), npy_dir / f"{u}.npy")
    report = {"utterances": len(shapes), "extracted_now": len(todo), "linked_now": linked, "audio_seconds_now": round(audio_s, 2),
              "feat_dim": feat_dim, "num_layers": num_layers, "dtype": dtype, "compute_dtype": compute}
    (out / "extract_report.json").write_text(json.dumps(report, indent=1) + "\n")
    done.write_text(_done_stamp(key_text, src) + "\n")
    return {"status": status, **report}


def _done_stamp(key_text: str, src: Path) -> str:
    """What a finished cache was made from: its key and the content of the source dir's listing and
    label files (the recipe's one input-freshness rule): a changed label or utterance list is passed on
    again (the features of unchanged utterances are kept)."""
    return inputs_digest(src, ("wav.scp", "utt2num_samples") + COPY_FILES, key_text)


def _layers_from_key(key: Dict, name: str, fconf: Dict, width: int) -> int:
    if key["layers"] != "all" and not (isinstance(key["layers"], dict) and key["layers"]["lower_layers_too"]):
        return 1
    # several layers of an SSL upstream: the hidden size is the width of one layer
    frontend = build_frontend(name, fconf, "cpu")
    return width // frontend.output_size()
