"""The recipe's audio stages: format every data dir to 16 kHz mono, then filter by duration.

``format_data_dir(src, dst)`` copies a data dir, keeping audio that already is 16 kHz mono WAV/FLAC
where it lies and writing everything else (other rates, several channels, other containers) as
16 kHz mono 16-bit WAV under ``dst/audio/`` (channels averaged, then resampled with the toolkit's one
resampler, :func:`espnet_ser.waveform.resample`, which inference uses too). It writes ``utt2num_samples`` and ``format_report.json``.
``filter_durations(dir, min_s, max_s)`` drops utterances outside the limits, counted by reason.

Both are idempotent: a ``.done`` stamp records what was produced from which input (the hash of the
input files' content); re-running with the same input and settings does nothing, other input or
settings redo the work. Redoing the format stage also discards the duration filter's state
(``.unfiltered/``, ``.filtered``), so the filter always works on the current formatted files: a label
corrected in the corpus reaches the dump.
"""

import hashlib
import json
import shutil
from pathlib import Path
from typing import Dict, Optional, Union

import numpy as np
import soundfile as sf
import torch

from espnet_ser.errors import InputError
from espnet_ser.corpora.drops import DropCounter
from espnet_ser.labels import link_table, read_data_dir, read_table, safe_child, write_data_dir, write_table
from espnet_ser.labels import CORPUS_FILE, UTT_FILES
from espnet_ser.waveform import resample

PathLike = Union[str, Path]
FS = 16000


def _digest(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def inputs_digest(directory: Path, names, *settings) -> str:
    """The one input-freshness rule of the recipe's stages: the hash of the named files' content (a
    missing file counts as absent) and of the settings. A stage redoes its work when this changes."""
    return _digest(*(((directory / f).read_bytes() if (directory / f).is_file() else b"-") for f in names), *settings)


def _stamp_ok(stamp: Path, key: str) -> bool:
    return stamp.exists() and stamp.read_text().strip() == key


def to_16k_mono(wav: np.ndarray, fs: int) -> np.ndarray:
    """(samples, channels) float audio -> mono at 16 kHz: the channels' mean, resampled."""
    mono = wav.mean(axis=1) if wav.ndim == 2 else wav
    out = resample(torch.from_numpy(np.ascontiguousarray(mono, dtype=np.float32)), fs, FS).numpy()
    # 16-bit output: keep a loud input's resampling overshoot from wrapping around
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def audio_key(path: PathLike):
    """What identifies an audio file's content between data dirs of one run: its resolved path, size and
    modification time (a file rewritten in between is another file)."""
    st = Path(path).stat()
    return str(Path(path).resolve()), st.st_size, st.st_mtime_ns


def format_data_dir(src: PathLike, dst: PathLike, shared: Optional[Dict] = None) -> Dict:
    """Format ``src`` into ``dst`` (module docstring). ``shared`` (a dict kept by the caller over the data
    dirs of one run) remembers each audio file already handled: an utterance that several data dirs
    list (Table 2's rows share MSP-Podcast's dev set) is read and converted once, and later dirs point
    at the first conversion."""
    src, dst = Path(src), Path(dst)
    shared = {} if shared is None else shared
    key = inputs_digest(src, ("wav.scp", "utt2spk", "spk2utt") + UTT_FILES)
    stamp = dst / ".done"
    if _stamp_ok(stamp, key):
        return json.loads((dst / "format_report.json").read_text())
    utts = read_data_dir(src)
    # made here, not by a conversion: every utterance of this dir may have been converted for an earlier one
    dst.mkdir(parents=True, exist_ok=True)
    # the filter's state belongs to the previous formatted files: gone with them
    shutil.rmtree(dst / ".unfiltered", ignore_errors=True)
    for f in (".filtered", ".done"):
        (dst / f).unlink(missing_ok=True)
    audio_dir = dst / "audio"
    counts = {"kept_as_is": 0, "converted": 0, "shared": 0}
    num_samples = []
    for u in utts:
        if not Path(u.path).is_file():  # missing, or a FIFO/device whose read would block
            raise InputError(f"{src}/wav.scp: utterance {u.utt_id}: {u.path} is not a regular file")
        file_key = audio_key(u.path)
        if file_key in shared:  # handled for an earlier data dir of this run
            path, frames, how = shared[file_key]
            counts[how] += 1
            counts["shared"] += 1
            u.path = path
            num_samples.append((u.utt_id, frames))
            continue
        try:
            info = sf.info(u.path)
        except (RuntimeError, sf.LibsndfileError) as e:
            raise InputError(f"{src}/wav.scp: utterance {u.utt_id}: cannot read {u.path}: {e}") from None
        if info.samplerate == FS and info.channels == 1 and info.format in ("WAV", "FLAC"):
            counts["kept_as_is"] += 1
            num_samples.append((u.utt_id, info.frames))
            shared[file_key] = (u.path, info.frames, "kept_as_is")
            continue
        wav, fs = sf.read(u.path, dtype="float32", always_2d=True)
        out = safe_child(audio_dir, u.utt_id, ".wav")
        out.parent.mkdir(parents=True, exist_ok=True)
        mono = to_16k_mono(wav, fs)
        sf.write(out, mono, FS, subtype="PCM_16")
        u.path = str(out.resolve())
        counts["converted"] += 1
        num_samples.append((u.utt_id, mono.size))
        shared[file_key] = (u.path, mono.size, "converted")
    # only wav.scp changes (paths of converted audio); the other files are passed on unchanged (linked)
    if counts["converted"]:
        write_table(dst / "wav.scp", [f"{u.utt_id} {u.path}" for u in utts])
    else:
        link_table(src / "wav.scp", dst / "wav.scp")
    for f in ("utt2spk", "spk2utt") + UTT_FILES:
        if (src / f).exists():
            link_table(src / f, dst / f)
        elif (dst / f).exists():
            (dst / f).unlink()
    write_table(dst / "utt2num_samples", [f"{u} {n}" for u, n in sorted(num_samples)])
    report = {"src": str(src), "utterances": len(utts), **counts}
    (dst / "format_report.json").write_text(json.dumps(report, indent=1) + "\n")
    stamp.write_text(key + "\n")
    return report


def filter_durations(data_dir: PathLike, min_s: float = 0.0, max_s: Optional[float] = None) -> Dict:
    """Drop utterances shorter than ``min_s`` or longer than ``max_s`` seconds (in place, counted).

    The unfiltered lists are kept in ``.unfiltered/`` so that other limits can be applied later.
    """
    d = Path(data_dir)
    keep_dir = d / ".unfiltered"
    if not (d / ".done").exists():
        raise InputError(f"{d}: not a formatted data dir (no .done): run the format stage (stage 2) first")
    key = _digest((d / ".done").read_text(), min_s, max_s)
    stamp = d / ".filtered"
    if _stamp_ok(stamp, key):
        return json.loads((d / "filter_report.json").read_text())
    if not keep_dir.exists():
        keep_dir.mkdir()
        for f in ("wav.scp", "utt2spk", "spk2utt", "utt2num_samples") + UTT_FILES:
            if (d / f).exists():
                link_table(d / f, keep_dir / f)
    utts = read_data_dir(keep_dir)
    samples = {k: int(v) for k, v in read_table(keep_dir / "utt2num_samples").items()}
    counter = DropCounter(f"duration filter {d}")
    kept = []
    for u in utts:
        dur = samples[u.utt_id] / FS
        if dur < min_s:
            counter.drop("too_short", u.utt_id)
        elif max_s is not None and dur > max_s:
            counter.drop("too_long", u.utt_id)
        else:
            kept.append(u)
    counter.kept = len(kept)
    if not kept:
        raise InputError(f"{d}: the duration filter ({min_s}..{max_s} s) dropped every utterance")
    if len(kept) == len(utts):  # nothing dropped: the unfiltered files are the filtered ones
        for f in keep_dir.iterdir():
            link_table(f, d / f.name)
    else:
        write_data_dir(kept, d)
        ids = {u.utt_id for u in kept}
        write_table(d / "utt2num_samples", [f"{u} {n}" for u, n in sorted(samples.items()) if u in ids])
        if (keep_dir / CORPUS_FILE).exists():  # not an Utterance field: filtered as a table
            write_table(d / CORPUS_FILE, [f"{u} {c}" for u, c in sorted(read_table(keep_dir / CORPUS_FILE).items()) if u in ids])
    report = {"min_s": min_s, "max_s": max_s, **counter.as_dict()}
    (d / "filter_report.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    stamp.write_text(key + "\n")
    return report
