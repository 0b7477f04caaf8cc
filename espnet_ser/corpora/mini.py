"""A small synthetic corpus in the exact IEMOCAP and MSP-Podcast layouts (the embedded demo data).

``make_mini(out_dir)`` writes ``out_dir/IEMOCAP`` (``Session{1..5}/dialog/EmoEvaluation/*.txt`` with
header and annotator lines, ``Session{N}/sentences/wav/<dialog>/<utt>.wav``) and
``out_dir/MSP-Podcast`` (``Labels/labels_consensus.csv``, ``Audios/*.wav``), so that the preparation
code for the real corpora reads it unchanged. Everything is drawn from one seeded generator, so two
runs give byte-identical files.

The audio is a harmonic tone whose acoustics follow the labels, so models can learn: pitch rises with
arousal, loudness with dominance, brightness (number of harmonics) with valence, and each class has
its own amplitude-modulation rate. Classes map to V/A/D differently in the two corpora (different
class centroids), as the paper observed for IEMOCAP and MSP-Podcast.

Annotator disagreement is designed in. About 40 % of the utterances are ambiguous: with weight
``w = lam / 2`` (``lam`` 0.3-0.9) their audio moves towards a fixed confusable class (its modulation
rate blended in, the pitch and loudness cues moved towards that class's V/A/D centroid), and each
evaluator names that class instead of the true one with the same probability ``w``; the evaluators'
V/A/D ratings scatter more (std 0.3 + lam). IEMOCAP gets four external evaluators (``C-E1..4``,
``A-E1..4``; some add ``Frustration``, outside the class set, and on ambiguous utterances some name both
classes) and the actor's own assessment (``C-F1``/``C-M1``); MSP-Podcast gets
``Labels/labels_detailed.csv`` (v1.11 layout, five workers). The ambiguity and the votes come from a
second generator, so the labels, the durations and the audio of the clear utterances are those of the
corpus without annotators.
"""

import csv
from pathlib import Path
from typing import Dict, Tuple

import numpy as np
import soundfile as sf

FS = 16000
#: IEMOCAP code -> V, A, D centroid on 1-5
IEMOCAP_CENTROIDS: Dict[str, Tuple[float, float, float]] = {
    "neu": (3.0, 2.3, 2.8), "ang": (1.8, 4.0, 4.1), "hap": (4.1, 3.3, 3.1), "sad": (1.9, 1.9, 2.2),
    "exc": (4.0, 3.9, 3.4), "fru": (2.0, 3.3, 3.4), "dis": (1.7, 3.2, 3.6), "xxx": (2.8, 3.0, 3.0),
}
IEMOCAP_MIX = ["neu", "ang", "hap", "sad", "neu", "ang", "hap", "sad", "exc", "fru", "xxx", "dis"]
#: MSP-Podcast code -> V, A, D centroid on 1-7 (angry less dominant, neutral more positive than IEMOCAP's)
MSP_CENTROIDS: Dict[str, Tuple[float, float, float]] = {
    "N": (4.4, 3.8, 4.2), "A": (2.4, 5.6, 4.6), "H": (5.6, 4.9, 4.9), "S": (2.6, 2.9, 3.2),
    "D": (2.8, 4.4, 4.0), "C": (3.0, 4.2, 4.5), "U": (4.5, 5.2, 4.2), "O": (4.0, 4.0, 4.0), "X": (4.0, 4.1, 4.0),
}
MSP_MIX = ["N", "A", "H", "S", "N", "A", "H", "S", "D", "X", "O", "C"]
CLASS_RATE = {"neu": 2.0, "N": 2.0, "ang": 7.0, "A": 7.0, "hap": 4.5, "H": 4.5, "exc": 5.0, "sad": 1.0, "S": 1.0,
              "dis": 3.5, "D": 3.5, "fru": 6.0, "xxx": 3.0, "C": 3.0, "U": 5.5, "O": 3.0, "X": 3.0}
#: each class's confusable class (its evaluators' other answer; its audio's blended modulation rate)
#: (within the five classes for the five, so that a split vote stays inside the class set)
CONFUSER = {"neu": "sad", "ang": "dis", "hap": "neu", "sad": "neu", "exc": "hap", "fru": "ang", "dis": "ang",
            "xxx": "neu", "N": "S", "A": "D", "H": "N", "S": "N", "D": "A", "C": "A", "U": "H", "O": "N", "X": "N"}
MSP_NAMES = {"N": "Neutral", "A": "Angry", "H": "Happy", "S": "Sad", "D": "Disgust", "C": "Contempt", "U": "Surprise",
             "O": "Other-Concerned", "X": "Other-Unsure"}
EMO_NAMES = {"neu": "Neutral state", "ang": "Anger", "hap": "Happiness", "sad": "Sadness", "exc": "Excited",
             "fru": "Frustration", "dis": "Disgust", "xxx": "Other"}


def synth(rng: np.random.Generator, code: str, vad01: Tuple[float, float, float], seconds: float,
          lam: float = 0.0, toward: Tuple[float, float, float] = None) -> np.ndarray:
    """The tone of one utterance; with ``lam`` > 0 its cues move by ``lam / 2`` towards the confusable
    class (its modulation rate, and the pitch and loudness of the V/A/D ``toward``; the brightness, whose
    number of harmonics sets how many random phases are drawn, stays the utterance's own)."""
    n_harm = 1 + int(round(6 * vad01[0]))  # from the utterance's own valence: the draws below stay in step
    if lam > 0 and toward is not None:
        vad01 = tuple((1 - lam / 2) * x + lam / 2 * y for x, y in zip(vad01, toward))
    v, a, d = vad01
    t = np.arange(int(FS * seconds)) / FS
    f0 = 90.0 + 180.0 * a + rng.normal(0, 5)
    tone = sum(np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 2 * np.pi)) / k for k in range(1, n_harm + 1))
    am = 0.6 + 0.4 * np.sin(2 * np.pi * CLASS_RATE[code] * t)
    if lam > 0:
        am = (1 - lam / 2) * am + lam / 2 * (0.6 + 0.4 * np.sin(2 * np.pi * CLASS_RATE[CONFUSER[code]] * t))
    wav = (0.05 + 0.25 * d) * am * tone / 2.0 + 0.01 * rng.normal(size=t.size)
    return np.clip(wav, -0.99, 0.99).astype(np.float32)


def _unit(centroid, lo, hi) -> Tuple[float, float, float]:
    return tuple((x - lo) / (hi - lo) for x in centroid)


def _draw_vad(rng, centroid, lo, hi):
    raw = np.clip(np.array(centroid) + rng.normal(0, 0.35, 3), lo, hi)
    raw = np.round(raw * 2) / 2 if hi == 5 else np.round(raw, 1)  # IEMOCAP uses half steps, MSP averages
    return raw, tuple(float(x) for x in (raw - lo) / (hi - lo))


def ambiguity(ann: np.random.Generator) -> float:
    """0 for a clear utterance (60 %), else uniform on 0.3-0.9."""
    clear, lam = ann.random() < 0.6, float(ann.uniform(0.3, 0.9))
    return 0.0 if clear else lam


def evaluator_classes(ann: np.random.Generator, code: str, lam: float) -> Tuple[str, ...]:
    """One evaluator's answer: the true class, or its confuser with probability lam / 2."""
    return (CONFUSER[code],) if ann.random() < lam / 2 else (code,)


def make_iemocap(out: Path, rng: np.random.Generator, utts_per_dialog: int, ann: np.random.Generator) -> int:
    n = 0
    for s in range(1, 6):
        for dialog, who in ((f"Ses0{s}F_impro01", "F"), (f"Ses0{s}M_script01", "M")):
            lines = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
            start = 2.0
            wav_dir = out / f"Session{s}" / "sentences" / "wav" / dialog
            wav_dir.mkdir(parents=True, exist_ok=True)
            for i in range(utts_per_dialog):
                spk = "FM"[(i + (who == "M")) % 2]
                code = IEMOCAP_MIX[int(rng.integers(len(IEMOCAP_MIX)))]
                raw, vad01 = _draw_vad(rng, IEMOCAP_CENTROIDS[code], 1, 5)
                dur = float(rng.uniform(0.8, 1.5))
                uid = f"{dialog}_{spk}{i:03d}"
                lam = ambiguity(ann)
                toward = _unit(IEMOCAP_CENTROIDS[CONFUSER[code]], 1, 5)
                sf.write(wav_dir / f"{uid}.wav", synth(rng, code, vad01, dur, lam, toward), FS, subtype="PCM_16")
                lines.append(f"[{start:.4f} - {start + dur:.4f}]\t{uid}\t{code}\t[{raw[0]:.4f}, {raw[1]:.4f}, {raw[2]:.4f}]")
                for e in (1, 2, 3, 4):
                    names = [EMO_NAMES[c] for c in evaluator_classes(ann, code, lam)]
                    extra = ann.random()
                    if extra < 0.1:
                        names.append("Frustration")
                    elif extra < 0.2 and lam > 0:
                        names.append(EMO_NAMES[CONFUSER[code]])
                    lines.append(f"C-E{e}:\t{'; '.join(dict.fromkeys(names))};\t()")
                lines.append(f"C-{spk}1:\t{EMO_NAMES[code]};\t(self)")
                for e in (1, 2, 3, 4):
                    r = np.clip(np.round(raw + ann.normal(0, 0.3 + lam, 3)), 1, 5).astype(int)
                    lines.append(f"A-E{e}:\tval {r[0]}; act {r[1]}; dom  {r[2]};\t()")
                lines.append("")
                start += dur + 0.5
                n += 1
            eval_dir = out / f"Session{s}" / "dialog" / "EmoEvaluation"
            eval_dir.mkdir(parents=True, exist_ok=True)
            (eval_dir / f"{dialog}.txt").write_text("\n".join(lines) + "\n")
    return n


def make_msp(out: Path, rng: np.random.Generator, sizes: Dict[str, int], ann: np.random.Generator) -> int:
    (out / "Audios").mkdir(parents=True, exist_ok=True)
    (out / "Labels").mkdir(parents=True, exist_ok=True)
    rows, detailed, k = [], [], 0
    speakers = {"Train": range(1, 9), "Development": range(9, 11), "Test1": range(11, 14)}
    for split, count in sizes.items():
        for i in range(count):
            k += 1
            code = MSP_MIX[int(rng.integers(len(MSP_MIX)))]
            raw, vad01 = _draw_vad(rng, MSP_CENTROIDS[code], 1, 7)
            spk = int(rng.choice(list(speakers[split])))
            name = f"MSP-PODCAST_{k:04d}_{i:04d}.wav"
            lam = ambiguity(ann)
            toward = _unit(MSP_CENTROIDS[CONFUSER[code]], 1, 7)
            sf.write(out / "Audios" / name, synth(rng, code, vad01, float(rng.uniform(0.8, 1.5)), lam, toward), FS,
                     subtype="PCM_16")
            for w in range(5):
                primary = MSP_NAMES[evaluator_classes(ann, code, lam)[0]]
                r = np.clip(np.round(raw + ann.normal(0, 0.3 + lam, 3)), 1, 7)
                worker = f"WORKER{1000 + 37 * w + k % 11:08d}"
                detailed.append([name, f"{worker}; {primary}; ; A:{r[1]:.6f}; V:{r[0]:.6f}; D:{r[2]:.6f};"])
            spk_id = "Unknown" if i % 10 == 9 else str(spk)
            rows.append([name, code, f"{raw[1]:.1f}", f"{raw[0]:.1f}", f"{raw[2]:.1f}", spk_id,
                         "Unknown" if spk_id == "Unknown" else ("Female" if spk % 2 else "Male"), split])
    with open(out / "Labels" / "labels_consensus.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["FileName", "EmoClass", "EmoAct", "EmoVal", "EmoDom", "SpkrID", "Gender", "Split_Set"])
        w.writerows(rows)
    with open(out / "Labels" / "labels_detailed.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["FileName", "EmoDetail"])
        w.writerows(detailed)
    return len(rows)


def make_mini(out_dir, seed: int = 0, utts_per_dialog: int = 10, msp_sizes: Dict[str, int] = None) -> Dict[str, Path]:
    """Write the mini IEMOCAP (5 sessions x 2 dialogs x ``utts_per_dialog``) and MSP-Podcast corpora."""
    out = Path(out_dir)
    rng = np.random.default_rng(seed)
    ann = np.random.default_rng([seed, 1])  # ambiguity and annotators: a second stream (see the docstring)
    make_iemocap(out / "IEMOCAP", rng, utts_per_dialog, ann)
    make_msp(out / "MSP-Podcast", rng, msp_sizes or {"Train": 80, "Development": 20, "Test1": 30}, ann)
    return {"iemocap": out / "IEMOCAP", "msp_podcast": out / "MSP-Podcast"}
