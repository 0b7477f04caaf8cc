#!/usr/bin/env bash
# Mismatched labels (paper Table 2): hierarchical D-C and C-D trained on discrete labels of one corpus and continuous labels of the other (4 pairings), scored on IEMOCAP and MSP-Podcast Test1.
# Thin: every option of ser.sh applies (./run.sh --help); corpus paths come from db.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
./ser.sh --recipe iemocap_msp --variants "hierarchical_dc hierarchical_cd" "$@"
