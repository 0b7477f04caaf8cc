#!/usr/bin/env bash
# Several corpora, any label types, one model (outside the paper): a multi-corpus declaration says which
# corpora, what each trains on and which experiments run (union, one per corpus for the cross-corpus
# matrix, leave-one-corpus-out); every experiment is tested on every corpus. Thin: every option of
# ser.sh applies (./run.sh --help); corpus paths come from db.sh, the declaration from --declaration.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
./ser.sh --recipe multi --declaration conf/multi/acted_msp.yaml --ser_config conf/tuning/train_ser_cpu_small.yaml "$@"
