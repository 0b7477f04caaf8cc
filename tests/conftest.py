import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))  # helpers.py, corpus_fixtures.py: shared by both layers

os.environ["HF_HUB_OFFLINE"] = "1"  # never wait on hub retries (path.sh exports 0 for users)
# one thread per pytest-xdist worker (run_tests.sh runs one worker per core); two alone
os.environ.setdefault("OMP_NUM_THREADS", "1" if os.environ.get("PYTEST_XDIST_WORKER") else "2")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items):
    """Everything under tests/integration/ is marked `integration`. For pytest-xdist (run_tests.sh:
    ``-n 2 --dist loadgroup``) each test file is one group, so its module fixtures are built once, and
    every test that uses the recipe run of tests/integration/conftest.py joins one group, so that run is
    made once."""
    integration = TESTS / "integration"
    for item in items:
        path = Path(str(item.fspath)).resolve()
        if integration in path.parents:
            item.add_marker(pytest.mark.integration)
        group = "recipe_run" if "recipe_run" in getattr(item, "fixturenames", ()) else str(path.relative_to(TESTS))
        item.add_marker(pytest.mark.xdist_group(group))
