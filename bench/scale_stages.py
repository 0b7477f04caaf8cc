"""The CPU stages at MSP-Podcast size: wall time and peak memory per stage at growing corpus sizes.

    python bench/scale_stages.py [--sizes 2000 20000 200000] [--work DIR] [--keep]

For each size N, a synthetic corpus in MSP-Podcast's on-disk layout (``Labels/labels_consensus.csv``,
``Labels/labels_detailed.csv`` with two evaluators per utterance, ``Audios/*.wav``: every file a hard
link to one 1-s tone, so the corpus costs no disk), 60/20/20 % Train/Development/Test1 by speaker, then
the recipe's CPU stages, each in its own process (its peak RSS from ``wait4``):

prep (``prepare_data msp_podcast``), splits, format (stage 2), filter (stage 3), score (``ser_score`` of
one system on Test1) and report (``ser_report --table3``: the five variants on Test1, with the paired
bootstraps). Prints one JSON line per stage and size, then a Markdown table; a regression in growth
(time or memory growing faster than N) shows between the columns.
"""

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from bench.common import ROOT, report  # noqa: E402

CLASSES = {"N": "neutral", "A": "angry", "H": "happy", "S": "sad", "D": "disgust"}


def make_corpus(root: Path, n: int, seed: int = 0) -> Path:
    """An MSP-Podcast-layout corpus of ``n`` utterances (hard-linked audio)."""
    rng = np.random.default_rng(seed)
    audio, labels = root / "Audios", root / "Labels"
    audio.mkdir(parents=True)
    labels.mkdir()
    wave = (0.2 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000)).astype(np.float32)
    speakers = max(10, n // 40)
    codes = list(CLASSES)
    with open(labels / "labels_consensus.csv", "w", newline="") as f, open(labels / "labels_detailed.csv", "w", newline="") as g:
        w, d = csv.writer(f), csv.writer(g)
        w.writerow(["FileName", "EmoClass", "EmoAct", "EmoVal", "EmoDom", "SpkrID", "Gender", "Split_Set"])
        d.writerow(["FileName", "EmoClass_Major", "EmoAct", "EmoVal", "EmoDom"])
        for i in range(n):
            name = f"MSP-PODCAST_{i // 100:04d}_{i % 100:04d}.wav"
            spk = int(rng.integers(0, speakers))
            split = "Train" if spk % 5 < 3 else ("Development" if spk % 5 == 3 else "Test1")
            c = codes[int(rng.integers(0, 5))]
            vad = rng.uniform(1, 7, 3).round(1)
            w.writerow([name, c, vad[1], vad[0], vad[2], spk, "Female" if spk % 2 else "Male", split])
            for _ in range(2):
                d.writerow([name, c, *rng.uniform(1, 7, 3).round(1)])
            if i % 50000 == 0:  # a file system allows some 65,000 links to one file: a new source now and then
                tone = root / f"tone{i // 50000}.wav"
                sf.write(tone, wave, 16000, subtype="PCM_16")
            os.link(tone, audio / name)
    return root


def timed(cmd, **kw):
    """Run ``cmd``: (wall seconds, peak RSS MB), measured by GNU time (``/usr/bin/time``) around a fresh
    process: a child forked from this one (which has numpy and torch loaded) would count the parent's
    pages in its own peak."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        full = ["/usr/bin/time", "-f", "%e %M", "-o", t.name, *map(str, cmd)]
        p = subprocess.run(full, capture_output=True, text=True, **kw)
        if p.returncode != 0:
            raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
        wall, kb = open(t.name).read().split()[-2:]
    return float(wall), int(kb) / 1024


def predictions(ref: Path, out: Path, variant_outputs, seed: int) -> None:
    from espnet_ser.inference.predictions import Predictions, write_predictions
    from espnet_ser.labels import read_labels

    refs = read_labels(ref)
    rng = np.random.default_rng(seed)
    names = list(CLASSES.values())
    cls = np.array([names.index(e) if e in names else 0 for e in refs.emotion])
    logits = rng.normal(0, 1, (len(cls), 5)) + (1.0 + 0.01 * seed) * np.eye(5)[cls]
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    vad = np.nan_to_num(np.asarray(refs.vad, float), nan=0.5)
    hyp = np.clip(vad + rng.normal(0, 0.4, vad.shape), 0, 1)
    write_predictions(Predictions(refs.ids, names if "emotion" in variant_outputs else None,
                                  probs if "emotion" in variant_outputs else None, hyp if "vad" in variant_outputs else None), out)


def run_size(work: Path, n: int):
    from espnet_ser.spec import VARIANT_OUTPUTS, VARIANTS

    py = [sys.executable, "-m"]
    corpus = make_corpus(work / "corpus", n)
    data, dump = work / "data", work / "dump"
    rows = {}
    rows["prep"] = timed([*py, "espnet_ser.bin.prepare_data", "msp_podcast", corpus, data / "msp_podcast"])
    rows["splits"] = timed([*py, "espnet_ser.bin.recipe", "splits", "--recipe", "msp_podcast", "--data", data])
    rows["format"] = timed([*py, "espnet_ser.bin.recipe", "format", "--src", data, "--dst", dump])
    rows["filter"] = timed([*py, "espnet_ser.bin.recipe", "filter", "--root", dump, "--min_dur", "0.5"])
    test = dump / "msp_podcast" / "test1"
    exp = work / "exp"
    for k, v in enumerate(VARIANTS):
        e = exp / f"ser_{v}"
        predictions(test, e / "inference" / "msp", VARIANT_OUTPUTS[v], k)
        (e / "meta.json").write_text(json.dumps({"recipe": "msp_podcast", "variant": v, "tag": e.name, "tests": {"msp": str(test)}}))
    rows["score"] = timed([*py, "espnet_ser.bin.ser_score", "--ref", test, "--hyp", exp / "ser_multitask" / "inference" / "msp",
                           "--out", work / "score"])
    rows["report"] = timed([*py, "espnet_ser.bin.ser_report", "--table3", exp, "--out", work / "results"])
    n_test = sum(1 for _ in open(test / "wav.scp"))
    return rows, n_test


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000, 200000])
    p.add_argument("--work", type=Path, default=None, help="scratch dir (default: a temporary one)")
    p.add_argument("--keep", action="store_true", help="keep the scratch dir")
    args = p.parse_args()
    base = Path(tempfile.mkdtemp(dir=args.work))
    env_root = str(ROOT)
    os.environ["PYTHONPATH"] = f"{env_root}:{os.environ.get('PYTHONPATH', '')}"
    table = {}
    try:
        for n in args.sizes:
            rows, n_test = run_size(base / str(n), n)
            table[n] = rows
            for stage, (wall, mb) in rows.items():
                report("scale_stages", utterances=n, test_utterances=n_test, stage=stage, wall_s=round(wall, 2), peak_rss_mb=round(mb))
            shutil.rmtree(base / str(n), ignore_errors=not args.keep) if not args.keep else None
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    stages = list(next(iter(table.values())))
    print("\n| stage | " + " | ".join(f"{n:,} utts: s / MB" for n in table) + " |")
    print("|---|" + "---|" * len(table))
    for s in stages:
        print(f"| {s} | " + " | ".join(f"{table[n][s][0]:.1f} / {table[n][s][1]:.0f}" for n in table) + " |")


if __name__ == "__main__":
    main()
