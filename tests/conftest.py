import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))  # helpers.py, corpus_fixtures.py: shared by both layers

os.environ["HF_HUB_OFFLINE"] = "1"  # never wait on hub retries (path.sh exports 0 for users)
# one thread per pytest-xdist worker (run_tests.sh runs one worker per core); two alone
os.environ.setdefault("OMP_NUM_THREADS", "1" if os.environ.get("PYTEST_XDIST_WORKER") else "2")


#: the longest test file (one recipe run, then everything done with it): collected first, so that with
#: pytest-xdist's --dist loadfile it starts first and the two workers finish together
LONGEST = TESTS / "integration" / "test_recipe_run.py"


def pytest_collection_modifyitems(items):
    """Everything under tests/integration/ is marked `integration`; LONGEST's tests come first."""
    integration = TESTS / "integration"
    for item in items:
        if integration in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.integration)
    items.sort(key=lambda item: Path(str(item.fspath)).resolve() != LONGEST)
