"""The data and tiny HuBERT shared by the feature-cache tests (unit and integration)."""

import pytest
import yaml
from helpers import make_data_dir, tiny_hubert_config

EPOCHS = 2


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("cache")
    # batch size 1: the tiny HuBERT's group-norm feature extractor sees padding, so padded batches would
    # change its features (HuBERT-large normalises per frame and is not affected)
    cfg = tiny_hubert_config(root, batch_type="unsorted", batch_size=1, max_epoch=EPOCHS, keep_nbest_models=EPOCHS, seed=3)
    conf = yaml.safe_load(cfg.read_text())
    conf.pop("fold_length", None)
    cfg.write_text(yaml.safe_dump(conf))
    tr = make_data_dir(root / "tr", n=8, seed=0, partial=True, prefix="tr")
    dv = make_data_dir(root / "dv", n=4, seed=1, prefix="dv")
    return root, cfg, tr, dv
