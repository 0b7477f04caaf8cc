#!/usr/bin/env bash
# MSP-Podcast (paper Table 3): five variants on Train/Development, scored on Test1 (CCC, macro-F1).
# Thin: every option of ser.sh applies (./run.sh --help); corpus paths come from db.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
./ser.sh --recipe msp_podcast --inference_args "--vad_scale 1-7" "$@"
