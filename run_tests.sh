#!/usr/bin/env bash
# Run the test suite in the project's environment (./setup.sh first). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
. ./path.sh
# two layers (tests/unit, tests/integration: marker "integration"), one pytest-xdist worker per core, a
# test file per worker (its module fixtures are built once); the ten slowest tests are listed at the end
exec python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile --durations=10 tests "$@"
