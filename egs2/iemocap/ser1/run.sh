#!/usr/bin/env bash
# IEMOCAP (paper Table 1): five variants x five leave-one-session-out folds, CCC and UA.
# Thin: every option of ser.sh applies (./run.sh --help); corpus paths come from db.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
./ser.sh --recipe iemocap --inference_args "--vad_scale 1-5" "$@"
