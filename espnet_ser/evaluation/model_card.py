"""A model card for a packed model: ``pack_model --card full|quick`` writes ``MODEL_CARD.md`` and
``model_card.json`` beside the zip (and into it).

Sections (``SECTIONS``): the model; its training data and protocol (the experiment's ``meta.json`` and
``provenance.json``, packed with it); test metrics with 95 % bootstrap intervals on the experiment's
first test set; calibration (ECE) and conformal coverage (the model's own calibration, if packed);
robustness, the same metrics on the same utterances under degraded audio (``CONDITIONS``: white noise
at 20/10/0 dB SNR, a telephone band (8 kHz round trip, 300 Hz high-pass), an MP3 round trip through
libsndfile, reverberation of a simulated 6 x 5 x 3 m room with RT60 0.6 s by ``pyroomacoustics``);
compute, the CPU real-time factor and peak memory (VmHWM of a fresh process) of each backend the model
supports (torch; ONNX when it exports), with the machine named. The Markdown opens with YAML front
matter that the Hugging Face hub reads (``huggingface_hub.ModelCardData``: library, tags, eval results),
written offline.

``quick``: the first ``QUICK_UTTERANCES`` test utterances, 200 bootstrap draws and 2-s timing inputs: every
section, in seconds (CI checks the card of a demo model this way); the full card uses the whole test set.
"""

import datetime
import functools
import json
import math
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Dict, List, Optional, Union

import numpy as np
import soundfile as sf
import torch

from espnet_ser import VAD_DIMS
from espnet_ser.errors import InputError, MissingInput

PathLike = Union[str, Path]
FS = 16000
RT60 = 0.6
CONDITIONS = ("clean", "noise_20db", "noise_10db", "noise_0db", "telephone_8k", "codec_mp3", f"reverb_rt60_{RT60}")
SECTIONS = ("Model", "Training data and protocol", "Test metrics", "Calibration and conformal coverage", "Robustness",
            "Compute", "Limitations")
QUICK_UTTERANCES = 12
ROOM = (6.0, 5.0, 3.0)  # metres; source and microphone 2.5 m apart


# ---------------------------------------------------------------------------------------------- degradations
def perturb(wav: np.ndarray, condition: str, seed: int = 0) -> np.ndarray:
    """``wav`` (float32, 16 kHz mono) under ``condition`` (one of ``CONDITIONS``), same length."""
    wav = np.asarray(wav, dtype=np.float32)
    if condition == "clean":
        return wav
    if condition.startswith("noise_"):
        snr = float(condition[len("noise_"):-len("db")])
        return add_noise(wav, snr, np.random.default_rng(seed))
    if condition == "telephone_8k":
        return telephone(wav)
    if condition == "codec_mp3":
        return mp3_round_trip(wav)
    if condition.startswith("reverb_"):
        return reverberate(wav, RT60)
    raise InputError(f"unknown condition {condition!r}; choose among {', '.join(CONDITIONS)}")


def add_noise(wav: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """White Gaussian noise at ``snr_db`` dB below the signal's mean power."""
    power = max(float(np.mean(wav.astype(np.float64) ** 2)), 1e-10)
    noise = rng.normal(0.0, math.sqrt(power / 10 ** (snr_db / 10)), wav.size)
    return (wav + noise).astype(np.float32)


def telephone(wav: np.ndarray) -> np.ndarray:
    """Narrow band: down to 8 kHz and back (nothing above 4 kHz), then a 300 Hz high-pass."""
    import torchaudio.functional as AF

    x = torch.from_numpy(wav)
    x = AF.resample(AF.resample(x, FS, 8000), 8000, FS)[: wav.size]
    x = torch.nn.functional.pad(x, (0, wav.size - x.numel()))
    return AF.highpass_biquad(x, FS, 300.0).numpy().astype(np.float32)


def mp3_round_trip(wav: np.ndarray) -> np.ndarray:
    """Encoded as MP3 (MPEG layer III, libsndfile's default quality) and decoded, trimmed or padded back
    to the input's length."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.mp3"
        sf.write(path, np.clip(wav, -1, 1), FS, format="MP3", subtype="MPEG_LAYER_III")
        y, rate = sf.read(path, dtype="float32")
    if y.ndim == 2:
        y = y.mean(axis=1)
    if rate != FS:
        raise RuntimeError(f"MP3 round trip came back at {rate} Hz")
    return np.pad(y[: wav.size], (0, max(0, wav.size - y.size))).astype(np.float32)


@functools.lru_cache(maxsize=4)
def room_impulse_response(rt60: float = RT60) -> np.ndarray:
    """The impulse response of a shoebox room (``ROOM``) with reverberation time ``rt60`` (image source
    method, ``pyroomacoustics``; absorption by the inverse Sabine formula); computed once per ``rt60``."""
    import pyroomacoustics as pra

    absorption, max_order = pra.inverse_sabine(rt60, ROOM)
    room = pra.ShoeBox(ROOM, fs=FS, materials=pra.Material(absorption), max_order=max_order)
    room.add_source([1.5, 3.5, 1.6])
    room.add_microphone([4.0, 2.0, 1.2])
    room.compute_rir()
    rir = np.asarray(room.rir[0][0], dtype=np.float64)
    rir.setflags(write=False)
    return rir


def measured_t30(rt60: float = RT60) -> float:
    """The room's reverberation time as measured on its impulse response (Schroeder decay, 5-35 dB, x2)."""
    import pyroomacoustics as pra

    return float(pra.experimental.measure_rt60(room_impulse_response(rt60), fs=FS, decay_db=30))


def reverberate(wav: np.ndarray, rt60: float = RT60) -> np.ndarray:
    """``wav`` as heard in the room, same length and RMS."""
    from scipy.signal import fftconvolve

    y = fftconvolve(wav.astype(np.float64), room_impulse_response(rt60))[: wav.size]
    rms_in, rms_out = np.sqrt(np.mean(wav.astype(np.float64) ** 2)), np.sqrt(np.mean(y ** 2))
    return (y * (rms_in / rms_out if rms_out > 0 else 1.0)).astype(np.float32)


# ---------------------------------------------------------------------------------------------- evaluation
def _audio(path: str) -> np.ndarray:
    from espnet_ser.waveform import resample, to_mono

    x, rate = sf.read(path, dtype="float32", always_2d=True)
    return resample(to_mono(x), rate, FS).numpy()


def evaluate(s2e, ref_dir: PathLike, condition: str, ids: List[str]):
    """The model's outputs on ``ids`` of ``ref_dir`` under ``condition``, paired with the references. The
    degraded audio is written to a scratch dir and scored file by file like ``ser_inference`` does; a
    model normalised per speaker gets each speaker's statistics from that speaker's degraded recordings."""
    from espnet_ser.evaluation.scoring import Paired
    from espnet_ser.labels import read_labels, read_table

    refs = read_labels(ref_dir)
    wavs = read_table(Path(ref_dir) / "wav.scp")
    where = {u: i for i, u in enumerate(refs.ids)}
    probs, vad = [], []
    with tempfile.TemporaryDirectory(prefix="espnet_ser_card_") as tmp:
        items = []
        for k, u in enumerate(ids):
            path = Path(tmp) / f"{k:06d}.wav"
            sf.write(path, perturb(_audio(wavs[u]), condition, seed=k), FS, subtype="FLOAT")
            items.append((u, str(path)))
        stats = {}
        if s2e.needs_speaker_stats:
            utt2spk = read_table(Path(ref_dir) / "utt2spk")
            stats = s2e.speaker_statistics(items, utt2spk)
        for u, path in items:
            out = s2e.predict_file(path, speaker_mvn=stats.get(u))
            if out["probs"] is not None:
                probs.append([out["probs"][c] for c in s2e.class_list])
            if out["vad"] is not None:
                vad.append([out["vad"][d] for d in VAD_DIMS])
    idx = [where[u] for u in ids]
    probs_a = np.array(probs) if probs else None
    ref_emo = None if refs.emotion is None or probs_a is None else [refs.emotion[i] for i in idx]
    ref_vad = None if refs.vad is None or not vad else np.asarray(refs.vad, float)[idx]
    hyp_emo = None if probs_a is None else [s2e.class_list[int(j)] for j in probs_a.argmax(axis=1)]
    return Paired(list(ids), ref_emo, hyp_emo, ref_vad, np.array(vad) if vad and ref_vad is not None else None,
                  list(s2e.class_list), hyp_probs=probs_a)


def _metrics(p) -> Dict[str, float]:
    from espnet_ser.evaluation.scoring import score_paired

    m = score_paired(p)
    return {k: float(v) for k, v in m.items() if k in ("ua", "wa", "f1_macro", "ccc_mean", *(f"ccc_{d}" for d in VAD_DIMS))}


# ---------------------------------------------------------------------------------------------- compute
_TIMING = r"""
import json, sys, time
import numpy as np
backend, model, seconds, repeats = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
if backend == "onnx":
    from espnet_ser.inference.onnx import OnnxSpeech2Emotion
    s2e = OnnxSpeech2Emotion(model)
else:
    from espnet_ser.inference.speech2emotion import Speech2Emotion
    s2e = Speech2Emotion.from_pretrained(model, dtype="fp32")
rng = np.random.default_rng(0)
t = np.arange(int(16000 * seconds)) / 16000
x = (0.2 * np.sin(2 * np.pi * 150 * t) + 0.02 * rng.normal(size=t.size)).astype(np.float32)
stats = None
if s2e.needs_speaker_stats:  # a per-speaker normalised model: the input's own statistics
    import tempfile, soundfile as sf
    path = tempfile.mkstemp(suffix=".wav")[1]
    sf.write(path, x, 16000)
    stats = s2e.speaker_statistics([("x", path)], {"x": "s"})["x"]
s2e(x, fs=16000, speaker_mvn=stats)
times = []
for _ in range(repeats):
    t0 = time.perf_counter(); s2e(x, fs=16000, speaker_mvn=stats); times.append(time.perf_counter() - t0)
peak = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")][0]
print(json.dumps({"rtf": float(np.median(times)) / seconds, "peak_rss_mb": peak / 1024}))
"""


def machine() -> str:
    from espnet_ser.compute_dtype import cpu_name

    return f"{cpu_name()}, {os.cpu_count()} CPUs, torch {torch.__version__}"


def compute(zip_path: Path, s2e, seconds: float, repeats: int) -> Dict:
    """RTF (median of ``repeats`` after a warm-up, one ``seconds``-long input) and peak memory per backend."""
    rows = {}
    env = dict(os.environ, PYTHONPATH=f"{Path(__file__).resolve().parents[2]}:{os.environ.get('PYTHONPATH', '')}")
    with tempfile.TemporaryDirectory() as tmp:
        backends = {"torch": str(zip_path)}
        try:
            from espnet_ser.inference.onnx import export_onnx

            export_onnx(s2e, Path(tmp) / "model.onnx")
            backends["onnx"] = str(Path(tmp) / "model.onnx")
        except InputError as e:  # the model does not export: say why
            rows["onnx"] = {"note": str(e)}
        for name, model in backends.items():
            p = subprocess.run([sys.executable, "-c", _TIMING, name, model, str(seconds), str(repeats)],
                               capture_output=True, text=True, env=env)
            if p.returncode != 0:
                rows[name] = {"note": f"failed: {p.stderr.strip().splitlines()[-1] if p.stderr.strip() else p.returncode}"}
            else:
                rows[name] = json.loads(p.stdout.strip().splitlines()[-1])
    return {"machine": machine(), "input_seconds": seconds, "repeats": repeats, "backends": rows}


# ---------------------------------------------------------------------------------------------- the card
def _zip_json(zip_path: Path, name: str) -> Optional[Dict]:
    with zipfile.ZipFile(zip_path) as z:
        return json.loads(z.read(name)) if name in z.namelist() else None


def build_card(zip_path: PathLike, test_ref: Optional[PathLike] = None, quick: bool = False) -> Dict:
    """The card's content (a dict; :func:`write_card` renders it)."""
    from espnet_ser.evaluation.beyond import beyond_scores
    from espnet_ser.evaluation.significance import bootstrap_interval
    from espnet_ser.inference.conformal import coverage_report
    from espnet_ser.inference.speech2emotion import Speech2Emotion
    from espnet_ser.labels import read_table

    zip_path = Path(zip_path)
    s2e = Speech2Emotion.from_pretrained(zip_path, dtype="fp32")
    packed = _zip_json(zip_path, "meta.json") or {}
    experiment = _zip_json(zip_path, "experiment.json") or {}
    provenance = _zip_json(zip_path, "provenance.json") or {}
    tests = experiment.get("tests") or {}
    if test_ref is None:
        if not tests:
            raise MissingInput(f"{zip_path}: no test set recorded with the model; give the card a test data dir")
        test_name, test_ref = next(iter(tests.items()))
    else:
        test_name = Path(test_ref).name
    test_ref = Path(test_ref)
    if not (test_ref / "wav.scp").is_file():
        raise MissingInput(f"{test_ref}: the test data dir is not here (wav.scp); give the card one that is")
    ids = sorted(read_table(test_ref / "wav.scp"))
    ids = ids[:QUICK_UTTERANCES] if quick else ids
    n_boot = 200 if quick else 1000

    results, clean = {}, None
    for condition in CONDITIONS:
        p = evaluate(s2e, test_ref, condition, ids)
        results[condition] = _metrics(p)
        if condition == "clean":
            clean = p
    intervals = {m: bootstrap_interval(clean, m, n_boot) for m in results["clean"]}
    beyond = beyond_scores(clean, fit_vad_classes=False) if clean.hyp_probs is not None and clean.ref_emotion is not None else {}
    conformal = coverage_report(clean, s2e.conformal)["groups"]["all"] if s2e.conformal is not None else None
    too_few = s2e.conformal.too_few() if s2e.conformal is not None else []
    return {
        "model": {"name": experiment.get("tag") or zip_path.stem, "variant": experiment.get("variant"),
                  "class_list": list(s2e.class_list),
                  "outputs": ["classes"] * (clean.hyp_probs is not None) + ["V/A/D"] * (clean.hyp_vad is not None),
                  "untrained_heads": list(getattr(s2e, "untrained", [])), "packed": packed,
                  "frontend": _frontend(zip_path)},
        "training": {"recipe": experiment.get("recipe"), "fold": experiment.get("fold"), "row": experiment.get("row"),
                     "train": experiment.get("train"), "dev": experiment.get("dev"), "tests": tests,
                     "seed": provenance.get("seed"), "git_commit": provenance.get("git_commit"),
                     "versions": provenance.get("versions"), "command": provenance.get("command")},
        "test": {"name": test_name, "data": str(test_ref), "utterances": len(ids), "quick": quick, "bootstrap_draws": n_boot,
                 "metrics": results["clean"], "intervals_95": intervals},
        "calibration": {"ece": beyond.get("ece"), "conformal": conformal,
                        "conformal_target": None if s2e.conformal is None else s2e.conformal.coverage,
                        "conformal_too_few": too_few},
        "robustness": results,
        "room": {"dimensions_m": ROOM, "rt60_design_s": RT60, "t30_measured_s": measured_t30()},
        "compute": compute(zip_path, s2e, 2.0 if quick else 10.0, 2 if quick else 3),
        "created": datetime.datetime.now().isoformat(timespec="seconds"),
    }


def _frontend(zip_path: Path) -> Optional[str]:
    import yaml

    with zipfile.ZipFile(zip_path) as z:
        conf = yaml.safe_load(z.read("config.yaml")) or {}
    from espnet_ser.model.frontend.finetune import finetune_layers, finetune_mode

    name = conf.get("frontend")
    fconf = conf.get("frontend_conf") or {}
    source = fconf.get("source") if name == "cached" else None
    mode = finetune_mode(fconf)
    tuned = ""
    if mode != "none":
        layers = finetune_layers(fconf)
        tuned = f", upstream fine-tuned ({mode}{f', top {layers} layers' if layers else ''})"
    if source:
        return f"{source}{tuned} (features cached at training)"
    return f"{name}{tuned}"


def _num(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def inline_text(card):
    """Every string of ``card`` made safe inside one Markdown line: whitespace runs (newlines too) as one space,
    ``<``, ``>`` and ``&`` as HTML entities, backticks as quotes; names and paths come from files a user edits,
    so a heading or a script cannot be injected into the card.

    >>> inline_text({"tag": "x<script>\\n# Injected", "n": [1, "a`b"]})
    {'tag': 'x&lt;script&gt; # Injected', 'n': [1, "a'b"]}
    """
    import html

    if isinstance(card, str):
        return html.escape(" ".join(card.split()), quote=False).replace("`", "'")
    if isinstance(card, dict):
        return {k: inline_text(v) for k, v in card.items()}
    if isinstance(card, (list, tuple)):
        return [inline_text(v) for v in card]
    return card


def render(card: Dict) -> str:
    """Markdown with Hugging Face front matter (the card's strings through :func:`inline_text`)."""
    card = inline_text(card)
    from huggingface_hub import EvalResult, ModelCardData

    m, t = card["model"], card["test"]
    evals = [EvalResult(task_type="audio-classification", dataset_type=str(card["training"].get("recipe") or "custom"),
                        dataset_name=t["name"], metric_type=k, metric_value=round(v, 4))
             for k, v in t["metrics"].items() if v is not None and not math.isnan(v)]
    data = ModelCardData(library_name="espnet", pipeline_tag="audio-classification", model_name=m["name"],
                         tags=["speech-emotion-recognition", "espnet-ser", f"frontend-{m['frontend'].split()[0].rstrip(',')}"],
                         eval_results=evals or None)
    lines = ["---", data.to_yaml(), "---", "", f"# Model card: {m['name']}", ""]
    lines += ["## Model", "", f"- variant: {m['variant']}; frontend: {m['frontend']}; outputs: {', '.join(m['outputs'])}",
              f"- classes: {', '.join(m['class_list'])}" + (f"; heads no training label reached: {', '.join(m['untrained_heads'])}"
                                                           if m["untrained_heads"] else ""),
              f"- packed: {m['packed'].get('created')} from `{m['packed'].get('source')}` ({m['packed'].get('model_file')}), "
              f"espnet_ser {m['packed'].get('espnet_ser')}, torch {m['packed'].get('torch')}", ""]
    tr = card["training"]
    lines += ["## Training data and protocol", "", f"- recipe: {tr['recipe']}; fold: {tr['fold']}" + (f"; Table-2 row {tr['row']}" if tr["row"] else ""),
              f"- training data: `{tr['train']}`; dev (model selection): `{tr['dev']}`",
              "- test sets: " + ", ".join(f"{k} `{v}`" for k, v in (tr["tests"] or {}).items()),
              f"- seed {tr['seed']}; git commit {tr['git_commit'] or 'unknown'}; command: `{' '.join(tr['command'] or [])}`", ""]
    lines += ["## Test metrics", "", f"{t['name']} (`{t['data']}`), {t['utterances']} utterances" +
              (" (quick card: the first ones only)" if t["quick"] else "") + f"; 95 % percentile bootstrap intervals "
              f"({t['bootstrap_draws']} draws).", "", "| metric | value | 95 % interval |", "|---|---|---|"]
    lines += [f"| {k} | {_num(v)} | {_num(t['intervals_95'][k][0])}-{_num(t['intervals_95'][k][1])} |" for k, v in t["metrics"].items()]
    c = card["calibration"]
    lines += ["", "## Calibration and conformal coverage", "", f"- ECE of the top-class probability: {_num(c['ece'])}"]
    if c["conformal"]:
        g = c["conformal"]
        lines += [f"- conformal sets and intervals (calibrated on the dev set, target {c['conformal_target']:.2f}): class "
                  f"coverage {_num(g.get('class_coverage'))}, mean set size {_num(g.get('mean_set_size'))}" +
                  "".join(f"; {d} coverage {_num(g.get(f'{d}_coverage'))}, width {_num(g.get(f'{d}_mean_width'))}"
                          for d in VAD_DIMS if f"{d}_coverage" in g)]
        if c.get("conformal_too_few"):
            lines += [f"- the dev set was too small for the target ({', '.join(c['conformal_too_few'])}): those sets hold "
                      "every class and those intervals the whole scale (covered, but uninformative)"]
    else:
        lines += ["- no conformal calibration packed with this model"]
    r = card["robustness"]
    keys = list(r["clean"])
    lines += ["", "## Robustness", "", "The test metrics on the same utterances under degraded audio (Δ: minus clean): white "
              "noise at 20/10/0 dB SNR; telephone band (8 kHz round trip, 300 Hz high-pass); MP3 round trip; "
              f"reverberation of a simulated {ROOM[0]:g} x {ROOM[1]:g} x {ROOM[2]:g} m room designed for RT60 {RT60} s "
              f"(pyroomacoustics; its impulse response measures T30 = {card['room']['t30_measured_s']:.2f} s).", "",
              "| condition | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    for cond, vals in r.items():
        cells = [_num(vals.get(k)) + ("" if cond == "clean" or vals.get(k) is None else f" ({vals[k] - r['clean'][k]:+.3f})")
                 for k in keys]
        lines.append(f"| {cond} | " + " | ".join(cells) + " |")
    cp = card["compute"]
    lines += ["", "## Compute", "", f"Machine: {cp['machine']}; one {cp['input_seconds']:g}-s input, median of "
              f"{cp['repeats']} runs after a warm-up; peak memory: VmHWM of a fresh process.", "",
              "| backend | real-time factor | peak memory (MB) | note |", "|---|---|---|---|"]
    for b, v in cp["backends"].items():
        peak = v.get("peak_rss_mb")
        lines.append(f"| {b} | {_num(v.get('rtf'))} | {'–' if peak is None else f'{peak:.0f}'} | {v.get('note', '')} |")
    lines += ["", "## Limitations", "", "- Scores hold for the test set above; speech from other corpora, languages, "
              "microphones or speakers can score very differently (see Robustness for some degradations).",
              "- Conformal coverage is marginal over utterances like the dev set's, not per speaker or class.",
              "- Emotion labels are annotators' perceptions, not a speaker's felt emotion.", ""]
    return "\n".join(lines)


def write_card(card: Dict, out_dir: PathLike, render_md=None) -> List[Path]:
    """``MODEL_CARD.md`` (``render_md``, default :func:`render`) and ``model_card.json`` in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md, js = out / "MODEL_CARD.md", out / "model_card.json"
    md.write_text((render_md or render)(card))
    js.write_text(json.dumps(card, indent=1, default=float) + "\n")
    return [md, js]


def build_classical_card(zip_path: PathLike, test_ref: Optional[PathLike] = None, quick: bool = False) -> Dict:
    """The card of a packed classical system: its members (features, view, estimator, chosen parameters, training
    vectors), the classes it can predict, and its test metrics with bootstrap intervals from the predictions its
    exp dir made of the recipe's test set (it predicts from a feature cache: no audio robustness or compute
    sections)."""
    from espnet_ser.evaluation.scoring import pair, score_paired
    from espnet_ser.evaluation.significance import bootstrap_interval

    zip_path = Path(zip_path)
    info = _zip_json(zip_path, "classical.json") or {}
    packed = _zip_json(zip_path, "meta.json") or {}
    experiment = _zip_json(zip_path, "experiment.json") or {}
    provenance = _zip_json(zip_path, "provenance.json") or {}
    with zipfile.ZipFile(zip_path) as z:
        import yaml

        conf = yaml.safe_load(z.read("config.yaml")) or {}
    tests = experiment.get("tests") or {}
    test = None
    if tests or test_ref is not None:
        name, ref = (Path(test_ref).name, Path(test_ref)) if test_ref is not None else next(iter(tests.items()))
        hyp = Path(packed.get("source", "")) / "inference" / name
        if (hyp / "probs").is_file() and (Path(ref) / "emotion").is_file():
            p = pair(ref, hyp)
            metrics = {k: v for k, v in score_paired(p).items() if k in ("ua", "wa", "f1_macro")}
            n_boot = 200 if quick else 1000
            test = {"name": name, "data": str(ref), "utterances": len(p.ids), "bootstrap_draws": n_boot, "metrics": metrics,
                    "intervals_95": {m: bootstrap_interval(p, m, n_boot) for m in metrics}}
    members = [{**m, "chosen": info.get("chosen_params", {}).get(m["name"]),
                "training_vectors": info.get("training_vectors", {}).get(m["name"]),
                "carried_vectors": info.get("carried_vectors", {}).get(m["name"])} for m in conf.get("members", [])]
    return {"kind": "classical",
            "model": {"name": experiment.get("tag") or zip_path.stem, "system": "classical", "packed": packed,
                      "frontend": f"{conf.get('frontend')} {conf.get('frontend_conf')}", "fusion": conf.get("fusion"),
                      "prior_correction": conf.get("prior_correction"), "class_list": conf.get("class_list"),
                      "predictable_classes": info.get("predictable_classes"), "members": members,
                      "carried_vectors": sum(v or 0 for v in info.get("carried_vectors", {}).values()),
                      "size_mb": round(zip_path.stat().st_size / 1e6, 2)},
            "training": {"recipe": experiment.get("recipe"), "fold": experiment.get("fold"), "train": experiment.get("train"),
                         "dev": experiment.get("dev"), "utterances": info.get("utterances"), "speakers": info.get("speakers"),
                         "class_counts": info.get("class_counts"), "seed": provenance.get("seed", info.get("seed")),
                         "git_commit": provenance.get("git_commit")},
            "test": test, "created": datetime.datetime.now().isoformat(timespec="seconds")}


def render_classical(card: Dict) -> str:
    """Markdown of a classical system's card (its strings through :func:`inline_text`)."""
    card = inline_text(card)
    m, tr, t = card["model"], card["training"], card["test"]
    lines = [f"# Model card: {m['name']}", "", "## Model", "",
             f"- the classical system (scikit-learn, espnet_ser.classical): {len(m['members'])} members fused by "
             f"{m['fusion']}{', prior-corrected' if m['prior_correction'] else ''}; features: {m['frontend']}",
             f"- classes it can predict: {', '.join(m['predictable_classes'] or [])} (of {', '.join(m['class_list'] or [])}: "
             "a class without training utterances gets probability 0)",
             f"- it carries {m['carried_vectors']:,} training vectors (feature rows of training utterances: the kernel "
             f"ridge members keep all of theirs, the SVMs their support vectors); packed size {m['size_mb']} MB; packed "
             f"{m['packed'].get('created')} from `{m['packed'].get('source')}`", "",
             "| member | features | view (s; 0 = utterance) | estimator | chosen | training rows | carried |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {x['name']} | {x['features']} | {x['view']} | {x['estimator']} | {x['chosen'] or '–'} | "
              f"{x['training_vectors']} | {x['carried_vectors']} |" for x in m["members"]]
    lines += ["", "## Training data", "", f"- recipe: {tr['recipe']}; fold: {tr['fold']}; {tr['utterances']} utterances of "
              f"{tr['speakers']} speakers from `{tr['train']}` and `{tr['dev']}`; classes {tr['class_counts']}",
              f"- seed {tr['seed']}; git commit {tr['git_commit'] or 'unknown'}", "", "## Test metrics", ""]
    if t:
        lines += [f"{t['name']} (`{t['data']}`), {t['utterances']} utterances; 95 % percentile bootstrap intervals "
                  f"({t['bootstrap_draws']} draws).", "", "| metric | value | 95 % interval |", "|---|---|---|"]
        lines += [f"| {k} | {_num(v)} | {_num(t['intervals_95'][k][0])}-{_num(t['intervals_95'][k][1])} |" for k, v in t["metrics"].items()]
    else:
        lines += ["- no scored test predictions beside the packed exp dir"]
    lines += ["", "## Limitations", "", "- It predicts from a feature cache (stage 4) with each speaker's features "
              "z-scored over that speaker's utterances: give it several utterances per speaker.",
              "- Emotion labels are annotators' perceptions, not a speaker's felt emotion.", ""]
    return "\n".join(lines)


def add_card(out_zip: PathLike, quick: bool = False, test_ref: Optional[PathLike] = None) -> List[Path]:
    """Write the model card of a packed model beside the zip and into it."""
    out = Path(out_zip)
    with zipfile.ZipFile(out) as z:
        classical = "model.skops" in z.namelist()
    if classical:
        files = write_card(build_classical_card(out, test_ref, quick), out.parent, render_classical)
    else:
        files = write_card(build_card(out, test_ref, quick), out.parent)
    with zipfile.ZipFile(out, "a") as z:
        for f in files:
            if f.name not in z.namelist():
                z.write(f, f.name)
    return files
