"""The small model and the tones shared by the timeline tests (unit and integration)."""

import numpy as np
import pytest
from helpers import ROOT, make_data_dir

from espnet_ser.recipe.train_args import collect_stats, train

CONF = ROOT / "conf/tuning/train_ser_tiny_fbank.yaml"


FS = 16000


def tone(cls: int, seconds: float, seed: int) -> np.ndarray:
    """A class's signal as helpers.make_data_dir draws it (pitch 120 + 60 k Hz, a little noise)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(FS * seconds)) / FS
    return (0.25 * np.sin(2 * np.pi * (120 + 60 * cls) * t) + 0.01 * rng.normal(size=t.size)).astype(np.float32)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A tiny fbank class model trained on the generated classes (dev UA about 0.9)."""
    root = tmp_path_factory.mktemp("timeline")
    tr = make_data_dir(root / "tr", n=40, seed=0, prefix="tr", dur=(1.0, 1.6))
    dv = make_data_dir(root / "dv", n=10, seed=1, prefix="dv", dur=(1.0, 1.6))
    st = collect_stats(CONF, tr, dv, root / "stats")
    return train(CONF, tr, dv, st, root / "exp", ["--max_epoch", "40", "--batch_size", "8", "--decoder", "baseline_d",
                                                  "--best_model_criterion", "valid,epoch_ua,max"])
