"""Emotion over time: a recording scored window by window, with an optional voice-activity gate.

:func:`timeline` reads one window at a time (``window_s`` long, every ``hop_s``; the last one ends at
the file's end), so memory does not grow with the recording. Each row: ``start``, ``end`` (seconds),
``speech`` (the gate's speech fraction of the window, None without a gate), ``gated`` (below
``min_speech``: left out), and for kept windows the class, its probabilities and V/A/D (with MC dropout
also ``class_entropy`` and ``vad_std``).
:func:`aggregate` is the file-level prediction from the kept windows only (duration-weighted means),
so silence and non-speech do not pull it toward the model's idea of silence.

Gates: ``silero`` (the ``silero-vad`` package's model, shipped with it: speech vs everything else,
for real recordings) and ``energy`` (30-ms frames above ``-40 dBFS``: silence only, for any audio,
synthetic included). Outputs (:func:`write_timeline`): ``<id>.csv``, ``<id>.json`` (the rows, the
settings and the aggregate) and ``<id>.png`` (class probabilities and V/A/D against time, gated
windows shaded).
"""

import json
import math
from pathlib import Path
from typing import Dict, Iterator, List, Sequence, Union

import numpy as np
import torch

from espnet_ser import VAD_DIMS
from espnet_ser.errors import InputError
from espnet_ser.waveform import resample

PathLike = Union[str, Path]
GATES = ("none", "energy", "silero")


class EnergyGate:
    """Speech fraction = the share of 30-ms frames whose RMS is above ``threshold_db`` dBFS."""

    name = "energy"

    def __init__(self, threshold_db: float = -40.0, frame_s: float = 0.03):
        self.threshold, self.frame_s = threshold_db, frame_s

    def speech_fraction(self, wav: torch.Tensor, fs: int) -> float:
        n = max(1, int(self.frame_s * fs))
        frames = wav[: wav.numel() // n * n].view(-1, n) if wav.numel() >= n else wav.view(1, -1)
        rms = frames.pow(2).mean(dim=1).sqrt().clamp(min=1e-10)
        return float((20 * torch.log10(rms) > self.threshold).float().mean())


class SileroGate:
    """Speech fraction = the share of the window that silero-vad's speech segments cover (its ONNX model,
    shipped with the package; 16 kHz)."""

    name = "silero"

    def __init__(self, threshold: float = 0.5):
        threads = torch.get_num_threads()
        try:
            import silero_vad  # its import sets torch to one thread: put the setting back
        except ImportError as e:
            raise InputError("--gate silero needs the silero-vad package (pip install silero-vad)") from e
        finally:
            torch.set_num_threads(threads)
        self._vad = silero_vad
        self.model = silero_vad.load_silero_vad(onnx=True)
        self.threshold = threshold

    def speech_fraction(self, wav: torch.Tensor, fs: int) -> float:
        x = resample(wav, fs, 16000) if fs != 16000 else wav
        self.model.reset_states()
        segments = self._vad.get_speech_timestamps(x.float(), self.model, threshold=self.threshold, sampling_rate=16000)
        return float(sum(s["end"] - s["start"] for s in segments)) / max(1, x.numel())


def make_gate(name: str):
    if name not in GATES:
        raise InputError(f"--gate {name!r}: choose one of {', '.join(GATES)}")
    return {"none": lambda: None, "energy": EnergyGate, "silero": SileroGate}[name]()


def timeline(predictor, path: PathLike, window_s: float = 2.0, hop_s: float = 1.0, gate=None,
             min_speech: float = 0.5, speaker_mvn=None) -> Iterator[Dict]:
    """Rows of ``predictor``'s outputs (a :class:`~espnet_ser.inference.speech2emotion.WindowedPredictor`)
    over ``path``, one window in memory at a time (``speaker_mvn``: the speaker's statistics, for a model
    that needs them)."""
    stats = predictor._stats(speaker_mvn)
    if not (window_s > 0 and hop_s > 0):
        raise InputError(f"timeline window and hop must be positive seconds, got {window_s} and {hop_s}")

    def spans(rate: int, total: int):
        win, hop = max(1, round(window_s * rate)), max(1, round(hop_s * rate))
        for a in range(0, max(1, total - win + hop), hop):
            b = min(total, a + win)
            if a > 0 and b - a < win // 2 and b == total:  # a short tail: covered by the previous window
                return
            yield a, b

    for wav, a, b, rate in predictor.read_spans(path, spans):
        row: Dict = {"start": a / rate, "end": b / rate, "speech": None, "gated": False}
        if gate is not None:
            row["speech"] = gate.speech_fraction(wav, predictor.fs)
            row["gated"] = row["speech"] < min_speech
        if not row["gated"]:
            with torch.no_grad():
                out = predictor.format(predictor.predict_batch(wav.unsqueeze(0), torch.tensor([wav.numel()]), stats), 0)
            row.update(emotion=out["emotion"], probs=out["probs"], vad=out["vad"])
            for k in ("class_entropy", "vad_std"):  # MC-dropout uncertainty, when the predictor runs passes
                if k in out:
                    row[k] = out[k]
        yield row


def aggregate(rows: Sequence[Dict]) -> Dict:
    """File-level prediction from the kept windows: duration-weighted means of probabilities and V/A/D
    (the class: the most probable); None values when every window was gated."""
    kept = [r for r in rows if not r["gated"]]
    out: Dict = {"windows": len(rows), "kept": len(kept), "emotion": None, "probs": None, "vad": None}
    if not kept:
        return out
    w = np.array([r["end"] - r["start"] for r in kept])
    w = w / w.sum()
    if kept[0].get("probs") is not None:
        classes = list(kept[0]["probs"])
        p = sum(wi * np.array([r["probs"][c] for c in classes]) for wi, r in zip(w, kept))
        out["probs"] = dict(zip(classes, p.tolist()))
        out["emotion"] = classes[int(np.argmax(p))]
    if kept[0].get("vad") is not None:
        v = sum(wi * np.array([r["vad"][d] for d in VAD_DIMS]) for wi, r in zip(w, kept))
        out["vad"] = dict(zip(VAD_DIMS, v.tolist()))
    return out


def write_timeline(uid: str, rows: List[Dict], out_dir: PathLike, settings: Dict, figure: bool = True) -> Dict:
    """``<uid>.csv``, ``<uid>.json`` and (``figure``) ``<uid>.png`` under ``out_dir``; returns the aggregate."""
    from espnet_ser.labels import safe_child

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    agg = aggregate(rows)
    classes = next((list(r["probs"]) for r in rows if r.get("probs")), [])
    dims = list(VAD_DIMS) if any(r.get("vad") for r in rows) else []
    entropy = any("class_entropy" in r for r in rows)
    spread = [f"{d}_std" for d in VAD_DIMS] if any("vad_std" in r for r in rows) else []
    header = ["start", "end", "speech", "gated", "emotion", *[f"p_{c}" for c in classes], *dims,
              *(["class_entropy"] if entropy else []), *spread]
    lines = [",".join(header)]
    for r in rows:
        cells = [f"{r['start']:.3f}", f"{r['end']:.3f}", "" if r["speech"] is None else f"{r['speech']:.3f}",
                 str(int(r["gated"])), r.get("emotion") or ""]
        cells += ["" if r["gated"] else f"{r['probs'][c]:.6f}" for c in classes]
        cells += ["" if r["gated"] else f"{r['vad'][d]:.6f}" for d in dims]
        cells += ["" if r["gated"] else f"{r['class_entropy']:.6f}"] if entropy else []
        cells += ["" if r["gated"] else f"{r['vad_std'][d]:.6f}" for d in VAD_DIMS] if spread else []
        lines.append(",".join(cells))
    safe_child(out, uid, ".csv").write_text("\n".join(lines) + "\n")
    safe_child(out, uid, ".json").write_text(json.dumps({"utterance": uid, **settings, "aggregate": agg,
                                                         "aggregate_of": "kept windows only" if settings.get("gate") != "none"
                                                         else "all windows", "windows": rows}, indent=1) + "\n")
    if figure:
        _plot(uid, rows, classes, dims, safe_child(out, uid, ".png"))
    return agg


def _plot(uid: str, rows: List[Dict], classes: List[str], dims: List[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mid = np.array([(r["start"] + r["end"]) / 2 for r in rows])
    panels = [p for p in (classes and "classes", dims and "vad") if p]
    fig, axes = plt.subplots(len(panels) or 1, 1, figsize=(10, 2.6 * max(1, len(panels))), sharex=True, squeeze=False)
    for ax, panel in zip(axes[:, 0], panels):
        keys = classes if panel == "classes" else dims
        for k in keys:
            y = [math.nan if r["gated"] else (r["probs"][k] if panel == "classes" else r["vad"][k]) for r in rows]
            ax.plot(mid, y, label=k, lw=1.2)
        for r in rows:
            if r["gated"]:
                ax.axvspan(r["start"], r["end"], color="0.85", lw=0)
        ax.set_ylim(0, 1)
        ax.set_ylabel("probability" if panel == "classes" else "V/A/D (0-1)")
        ax.legend(loc="upper right", fontsize=7, ncol=len(keys))
    axes[-1, 0].set_xlabel("time (s); grey: gated (no speech)")
    fig.suptitle(uid, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
