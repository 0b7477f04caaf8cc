"""A manifest CSV corpus shared by the hostile-input tests (unit and integration)."""

import csv
from pathlib import Path

import soundfile as sf
from corpus_fixtures import tone


def manifest_csv(root: Path, rows, header=("utt_id", "path", "speaker", "emotion", "split")) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "a").mkdir(exist_ok=True)
    for i in range(4):
        sf.write(root / f"a/{i}.wav", tone(), 16000)
    with open(root / "m.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return root / "m.csv"
