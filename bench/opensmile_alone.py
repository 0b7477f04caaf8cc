"""What openSMILE alone needs to extract a config's feature sets and views for a set of files: the floor of the
CPU recipe's time (docs/benchmarks.md compares the recipe end to end with it, side by side on one machine).

    python bench/opensmile_alone.py --config conf/tuning/cpu_opensmile_classical.yaml --wav_scp data/emodb/all/wav.scp

For every file: read it (soundfile), then for every feature set of ``frontend_conf`` and every view (the whole
signal; each window of each window length, at its shift, the last window ending at the signal's end) one call of
audEERING's ``opensmile.Smile.process_signal``. No ESPnet, no cache, one process (stage 4 runs one too). Prints
one JSON line: files, audio seconds, calls, wall seconds.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import report  # noqa: E402


def starts(n: int, length: int, shift: int):
    """Window starts: every ``shift`` samples while a window fits, plus one ending at the signal's end."""
    if n <= length:
        return [0]
    out = list(range(0, n - length + 1, shift))
    return out if out[-1] == n - length else out + [n - length]


def main(argv=None) -> int:
    import opensmile

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path, required=True, help="a config whose frontend_conf names the sets and views")
    p.add_argument("--wav_scp", type=Path, required=True, help="'utt path' lines: the files")
    args = p.parse_args(argv)
    conf = yaml.safe_load(args.config.read_text())["frontend_conf"]
    fs = int(conf.get("fs", 16000))
    sets = conf["feature_set"] if isinstance(conf["feature_set"], list) else [conf["feature_set"]]
    windows = conf.get("window", 0)
    windows = windows if isinstance(windows, list) else [windows]
    shifts = conf.get("window_shift") or [None] * len(windows)
    shifts = shifts if isinstance(shifts, list) else [shifts]
    views = [(int(round(w * fs)), int(round((s if s else w / 2) * fs))) for w, s in zip(windows, shifts)]
    smiles = [opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, s), feature_level=opensmile.FeatureLevel.Functionals)
              for s in sets]
    paths = [line.split(maxsplit=1)[1] for line in args.wav_scp.read_text().splitlines() if line.strip()]
    t0, calls, seconds = time.perf_counter(), 0, 0.0
    for path in paths:
        x, rate = sf.read(path, dtype="float32")
        assert rate == fs, f"{path}: {rate} Hz, the config's fs is {fs}"
        seconds += len(x) / fs
        segments = {(0, len(x))}
        for length, shift in views:
            if length:
                segments |= {(s, min(s + length, len(x))) for s in starts(len(x), length, shift)}
        for a, b in sorted(segments):
            for m in smiles:
                np.asarray(m.process_signal(x[a:b], fs))
                calls += 1
    report("opensmile_alone", files=len(paths), audio_seconds=round(seconds, 1), calls=calls,
           wall_seconds=round(time.perf_counter() - t0, 1), sets=sets, views=[v / fs for v, _ in views])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
