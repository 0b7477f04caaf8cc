#!/usr/bin/env bash
# Run the test suite in the project's environment (./setup.sh first). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
. ./path.sh
exec python -m pytest -q -p no:cacheprovider tests "$@"
