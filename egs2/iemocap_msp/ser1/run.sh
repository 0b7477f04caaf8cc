#!/usr/bin/env bash
# Mismatched labels (paper Table 2): one model per row of the paper's table, each trained on what IEMOCAP
# (fold 5's training sessions) and a size-matched MSP-Podcast subset contribute (nothing, continuous or
# discrete labels), scored on IEMOCAP Session 5 and MSP-Podcast Test1.
# Thin: every option of ser.sh applies (./run.sh --help); corpus paths come from db.sh. The default
# variant and fold come from the recipe spec (espnet_ser/spec.py); --variants / --folds override them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
./ser.sh --recipe iemocap_msp "$@"
