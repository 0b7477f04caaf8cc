"""Format-exact IEMOCAP and MSP-Podcast fixtures with known contents and planted bad input."""

import csv
from pathlib import Path

import numpy as np
import soundfile as sf


def tone(seconds=0.3, fs=16000, channels=1):
    t = np.arange(int(fs * seconds)) / fs
    x = (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    return x if channels == 1 else np.stack([x] * channels, axis=1)


def write_iemocap(root: Path, codes_per_session, bad=True):
    """codes_per_session: {session: [(utt_suffix, code, (v, a, d))...]}; returns the expected kept utterances.

    With ``bad``, Session1 also gets: a missing wav, a corrupt wav, an empty wav (dropped), an 8 kHz mono
    wav and a 44.1 kHz stereo wav (kept: the format stage converts them) and one utterance with
    out-of-range V/A/D (kept, V/A/D removed).
    """
    expected = {}
    for s, items in codes_per_session.items():
        dialog = f"Ses0{s}F_impro01"
        lines = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
        wav_dir = root / f"Session{s}/sentences/wav/{dialog}"
        wav_dir.mkdir(parents=True, exist_ok=True)
        extra = []
        if bad and s == 1:
            extra = [("F900", "neu", (3, 3, 3), "missing"), ("F901", "ang", (2, 4, 4), "corrupt"),
                     ("M902", "sad", (2, 2, 2), "empty"), ("M903", "hap", (4, 3, 3), "8k"),
                     ("F904", "neu", (3, 3, 3), "stereo"), ("M905", "ang", (6.5, 3, 3), "ok")]
        for j, (suffix, code, vad, *kind) in enumerate([(*x, "ok") for x in items] + extra):
            kind = kind[0]
            uid = f"{dialog}_{suffix}"
            lines.append(f"[{j + 1.0:.4f} - {j + 1.5:.4f}]\t{uid}\t{code}\t[{vad[0]:.4f}, {vad[1]:.4f}, {vad[2]:.4f}]")
            lines += ["C-E2:\tNeutral state;\t()", "A-F1:\tval 3; act 2; dom  3;\t()", ""]
            wav = wav_dir / f"{uid}.wav"
            if kind == "ok":
                sf.write(wav, tone(), 16000)
                expected[uid] = (s, code, vad)
            elif kind == "corrupt":
                wav.write_bytes(b"RIFF\x00\x00garbage-not-a-wave-file")
            elif kind == "empty":
                sf.write(wav, np.zeros(0, np.float32), 16000)
            elif kind == "8k":
                sf.write(wav, tone(fs=8000), 8000)
                expected[uid] = (s, code, vad)
            elif kind == "stereo":
                expected[uid] = (s, code, vad)
                sf.write(wav, tone(fs=44100, channels=2), 44100)
        d = root / f"Session{s}/dialog/EmoEvaluation"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{dialog}.txt").write_text("\n".join(lines) + "\n")
    return expected


MSP_HEADER = ["FileName", "EmoClass", "EmoAct", "EmoVal", "EmoDom", "SpkrID", "Gender", "Split_Set"]


def write_msp(root: Path, rows, header=MSP_HEADER, audio=True, label_file="labels_consensus.csv", audio_dir="Audios"):
    """rows: [FileName, EmoClass, EmoAct, EmoVal, EmoDom, SpkrID, Gender, Split_Set]; audio written for each.
    ``label_file``/``audio_dir``: the release's names (``labels_concensus.csv`` in releases 1.6 and 1.8)."""
    (root / audio_dir).mkdir(parents=True, exist_ok=True)
    (root / "Labels").mkdir(parents=True, exist_ok=True)
    with open(root / "Labels" / label_file, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    if audio:
        for r in rows:
            sf.write(root / audio_dir / r[0], tone(), 16000)


ACTED_CODES = {  # the corpus's own emotion codes -> the project's class (None: outside the five)
    "emovo": {"neu": "neutral", "rab": "angry", "gio": "happy", "tri": "sad", "dis": "disgust", "pau": None, "sor": None},
    "emodb": {"N": "neutral", "W": "angry", "F": "happy", "T": "sad", "E": "disgust", "A": None, "L": None},
}


def write_acted(root: Path, corpus: str, speakers, seconds=0.3):
    """EMOVO (``<emo>-<spk>-<sentence>.wav`` in one folder per speaker) or EmoDB (``SSTTTEV`` in ``wav/``,
    the first speaker's files as FLAC) files, two sentences per speaker and emotion, pitch by class.
    Returns {relative path: (speaker, class or None)}."""
    names = {}
    for i, spk in enumerate(speakers):
        for j, (code, cls) in enumerate(ACTED_CODES[corpus].items()):
            for text, version in (("b1", "a"), ("n5", "c")) if corpus == "emovo" else (("a01", "a"), ("b10", "c")):
                if corpus == "emovo":
                    rel = f"{spk}/{code}-{spk}-{text}.wav"
                else:
                    rel = f"wav/{spk}{text}{code}{version}.{'flac' if i == 0 else 'wav'}"
                t = np.arange(int(16000 * seconds)) / 16000
                x = (0.2 * np.sin(2 * np.pi * (110 + 45 * j) * t)).astype(np.float32)
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                sf.write(root / rel, x, 16000)
                names[rel] = (spk, cls)
    return names
