"""Fixtures of the integration layer (everything here carries the `integration` marker: tests/conftest.py)."""

import pytest

from espnet_ser.corpora.mini import make_mini
from recipes import ser


@pytest.fixture(scope="session")
def recipe_run(tmp_path_factory):
    """(Once per test process.) Stages 1-10 of the IEMOCAP recipe on the mini corpus: fold 1, two variants, 1 epoch."""
    work = tmp_path_factory.mktemp("recipe")
    make_mini(work / "corpus")
    p = ser(work, "--folds", "1", "--variants", "baseline_c hierarchical_dc", "--ser_args", "--max_epoch 1", "--nj", "2")
    return work, p
