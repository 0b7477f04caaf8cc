"""Generated audio and data directories for tests (no corpus needed)."""

from pathlib import Path

import numpy as np
import soundfile as sf

from espnet_ser.labels import Utterance, write_data_dir

ROOT = Path(__file__).resolve().parents[1]  # the project root

CLASSES = ["neutral", "angry", "happy", "sad", "disgust"]


def make_data_dir(root, n=12, seed=0, partial=False, dur=(0.4, 0.8), prefix="utt"):
    """n utterances whose pitch/loudness follow their class and V/A/D; ``partial`` drops some labels."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    (root / "wav").mkdir(parents=True, exist_ok=True)
    utts = []
    for i in range(n):
        c = i % len(CLASSES)
        vad = [float(np.clip(0.2 + 0.15 * c + rng.normal(0, 0.05), 0, 1)) for _ in range(3)]
        t = np.arange(int(16000 * rng.uniform(*dur))) / 16000
        wav = (0.1 + 0.3 * vad[1]) * np.sin(2 * np.pi * (120 + 60 * c) * t) + 0.01 * rng.normal(size=t.size)
        path = root / "wav" / f"{prefix}{i:03d}.wav"
        sf.write(path, wav.astype(np.float32), 16000, subtype="PCM_16")
        emotion = CLASSES[c]
        if partial and i % 3 == 1:
            emotion = None
        if partial and i % 3 == 2:
            vad = None
        if partial and i % 4 == 3 and vad is not None:
            vad[2] = float("nan")
        utts.append(Utterance(f"{prefix}{i:03d}", str(path), f"spk{i % 3}", emotion, None if vad is None else tuple(vad)))
    return write_data_dir(utts, root / "data")


def tiny_hubert_config(root, **overrides) -> Path:
    """``conf/tuning/train_ser_tiny_hubert.yaml`` pointed at a tiny random HuBERT saved under ``root``,
    with ``overrides`` applied; returns the written config's path."""
    import yaml

    from espnet_ser.testing.hubert_checkpoints import save_hf_hubert

    root = Path(root)
    conf = yaml.safe_load((ROOT / "conf/tuning/train_ser_tiny_hubert.yaml").read_text())
    conf["frontend_conf"]["path_or_name"] = str(save_hf_hubert(root / "hubert"))
    conf.update(use_matplotlib=False, use_tensorboard=False, **overrides)
    path = root / "conf.yaml"
    path.write_text(yaml.safe_dump(conf))
    return path


def literal_ccc(x, y):
    """CCC = 2 s_xy / (s_x^2 + s_y^2 + (m_x - m_y)^2), population statistics, written out by hand."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y)) / n
    sx2 = sum((a - mx) ** 2 for a in x) / n
    sy2 = sum((b - my) ** 2 for b in y) / n
    return 2 * sxy / (sx2 + sy2 + (mx - my) ** 2)


def paper_table(name: str) -> dict:
    """A table of ``tests/data/paper_tables.txt`` (the paper as printed): row name -> its words.
    Tables 1 and 3 are keyed by the model title (two words), Table 2 by the row ID."""
    name_words = 1 if name == "table2" else 2
    rows, inside = {}, False
    for line in (Path(__file__).parent / "data" / "paper_tables.txt").read_text().splitlines():
        if line.startswith("["):
            inside = line.startswith(f"[{name}]")
        elif inside and line.strip() and not line.startswith("#"):
            words = line.split()
            rows[" ".join(words[:name_words])] = words[name_words:]
    return rows


def markdown_tables(text: str) -> list:
    """Every Markdown table of a text as a list of rows of stripped cells; each must be well formed
    (a separator row, every row with the header's cell count)."""
    tables, cur = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            cur.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif cur:
            tables.append(cur)
            cur = []
    for t in tables:
        assert set(t[1]) == {"---"}, t[1]
        assert all(len(r) == len(t[0]) for r in t), t
    return tables


def cli(module, capsys, *args):
    """Run a CLI the way ``python -m`` does (through run_cli); (exit status, stdout, stderr)."""
    from espnet_ser.errors import run_cli

    rc = run_cli(module.main, [str(a) for a in args], prog=module.__name__.rsplit(".", 1)[-1])
    out, err = capsys.readouterr()
    return rc, out, err


def one_line_error(rc, err, *fragments):
    """A user mistake: exit 2, one line on stderr, no traceback, naming every fragment."""
    assert rc == 2, err
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    return lines[0]
