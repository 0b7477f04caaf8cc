"""openSMILE features of a small generated data dir, and openSMILE's own functionals as the reference."""

from pathlib import Path

import numpy as np
import pytest
import yaml
from helpers import ROOT, make_data_dir

from espnet_ser.labels import read_table

CONF = ROOT / "conf/tuning/cpu_opensmile_baseline_d.yaml"


SETS = ("GeMAPSv01b", "eGeMAPSv02", "emobase")


DIM = 62 + 88 + 988  # their functionals


VIEWS = 3  # the config's window: [0, 1.0, 2.0]


def reference_functionals(data_dir: Path) -> dict:
    """utterance -> GeMAPSv01b, eGeMAPSv02 then emobase functionals from openSMILE itself (process_file), the
    independent reference."""
    import opensmile

    smiles = [opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, s), feature_level=opensmile.FeatureLevel.Functionals)
              for s in SETS]
    return {u: np.nan_to_num(np.concatenate([m.process_file(p).to_numpy(np.float64)[0] for m in smiles]))
            for u, p in read_table(data_dir / "wav.scp").items()}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The shipped openSMILE network config with GeMAPS (62) instead of ComParE (6,373): the same model, smaller."""
    root = tmp_path_factory.mktemp("os")
    conf = yaml.safe_load(CONF.read_text())
    assert conf["frontend_conf"]["feature_set"] == ["ComParE_2016", "eGeMAPSv02", "emobase"]
    assert conf["frontend_conf"]["window"] == [0, 1.0, 2.0] and conf["frontend_conf"]["window_shift"] == [None, 0.5, 1.0]
    conf["frontend_conf"]["feature_set"] = list(SETS)
    (root / "conf.yaml").write_text(yaml.safe_dump(conf))
    tr = make_data_dir(root / "train", n=15, seed=0, prefix="tr", dur=(1.0, 1.5))
    dv = make_data_dir(root / "valid", n=6, seed=1, prefix="dv", dur=(1.0, 1.5))
    return root, root / "conf.yaml", tr, dv


def frames_of(x: np.ndarray, fs: int = 16000) -> np.ndarray:
    """The config's frames of a 1.0-1.5 s signal from openSMILE itself, worked out by hand: the 1 s windows (one
    from 0 and, for a signal over 1 s, one ending at its end), each beside the whole signal's functionals (the
    whole view) and those of its one 2 s window (the whole signal too)."""
    import opensmile

    smiles = [opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, s), feature_level=opensmile.FeatureLevel.Functionals)
              for s in SETS]
    ref = lambda y: np.nan_to_num(np.concatenate([m.process_signal(y, fs).to_numpy(np.float64)[0] for m in smiles]))  # noqa: E731
    n = len(x)
    assert 16000 <= n <= 24000
    starts = [0] if n == 16000 else [0, n - 16000]
    return np.stack([np.concatenate([ref(x), ref(x[s:s + 16000]), ref(x)]) for s in starts])
