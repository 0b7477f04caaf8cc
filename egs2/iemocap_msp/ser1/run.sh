#!/usr/bin/env bash
# Mismatched labels (paper Table 2): one model per row of the paper's table, each trained on what IEMOCAP
# (fold 5's training sessions) and a size-matched MSP-Podcast subset contribute (nothing, continuous or
# discrete labels), scored on IEMOCAP Session 5 and MSP-Podcast Test1.
# Thin: every option of ser.sh applies (./run.sh --help); corpus paths come from db.sh. The default
# variant and fold come from espnet_ser.spec; --variants / --folds given here override them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
. ./path.sh
fact() { python -m espnet_ser.bin.recipe fact "$1"; }
./ser.sh --recipe iemocap_msp --variants "$(fact table2_variant)" --folds "$(fact table2_fold)" "$@"
