"""Corpora, declarations and their fixture shared by the multi-corpus tests (unit and integration)."""

from pathlib import Path

import pytest
import yaml
from helpers import make_data_dir

from espnet_ser.labels import read_data_dir, write_data_dir
from espnet_ser.recipe import mixing


def corpus_dir(root: Path, name: str, n: int, seed: int, edit) -> Path:
    """A fixture corpus (train, dev and test dirs, speakers spk0-2) with its labels edited by ``edit``."""
    out = {}
    for part, k, s in (("train", n, seed), ("dev", 4, seed + 10), ("test", 5, seed + 20)):
        src = make_data_dir(root / name / f"{part}_src", n=k, seed=s, prefix=f"{part}")
        utts = read_data_dir(src)
        for i, u in enumerate(utts):
            u.speaker = f"{part}spk{i % 3}"  # speaker-independent parts
            edit(i, u)
        out[part] = write_data_dir(utts, root / name / part)
    return root / name


def classes_only(i, u):
    u.vad = None
    if i % 5 == 4:
        u.emotion = "boredom" if i % 10 == 4 else "fear"  # boredom is mapped to neutral, fear is not a class


def vad_1_to_5(i, u):
    u.emotion = None
    u.vad = tuple(1 + 4 * v for v in u.vad)  # the corpus's own 1-5 scale


def write_declaration(path: Path, body: dict) -> Path:
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


DECL = {
    "classes": ["neutral", "angry", "happy", "sad", "disgust"],
    "corpora": {
        "acted": {"train": "acted/train", "dev": "acted/dev", "test": "acted/test", "class_map": {"boredom": "neutral"}},
        "pod": {"train": "pod/train", "dev": "pod/dev", "test": "pod/test", "vad_scale": [1, 5]},
        "both": {"train": "both/train", "dev": "both/dev", "test": "both/test", "train_size": {"n": 6, "seed": 1}},
    },
    "experiments": {"mixed": {"acted": ["emotion"], "pod": ["vad"], "both": "both"},
                    "acted_only": {"acted": ["emotion"]}},
}


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    root = tmp_path_factory.mktemp("multi")
    corpus_dir(root, "acted", 10, 0, classes_only)
    corpus_dir(root, "pod", 8, 1, vad_1_to_5)
    corpus_dir(root, "both", 9, 2, lambda i, u: None)
    decl = mixing.load(write_declaration(root / "decl.yaml", DECL))
    built = mixing.build(decl, root, root / "multi")
    return root, decl, built
