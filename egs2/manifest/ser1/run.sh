#!/usr/bin/env bash
# Your own corpus from a manifest CSV (MANIFEST in db.sh): speaker-independent folds, every stage, a results
# table with fold mean ± std and pooled. One command: MANIFEST=my.csv ./run.sh
# Thin: every option of ser.sh applies (./run.sh --help); the folds come from local/data.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
./ser.sh --recipe manifest "$@"
