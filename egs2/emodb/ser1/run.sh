#!/usr/bin/env bash
# EmoDB (German, acted, 10 speakers; outside the paper): leave-one-speaker-out folds, classes only.
# Thin: every option of ser.sh applies (./run.sh --help); the corpus path comes from db.sh (EMODB).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
./ser.sh --recipe emodb "$@"
