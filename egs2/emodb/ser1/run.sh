#!/usr/bin/env bash
# EmoDB (German, acted, 10 speakers; outside the paper): leave-one-speaker-out folds, classes only.
# What it runs (any ser.sh option after these overrides them; ./run.sh --help lists them):
#   config    conf/train_ser_{variant}.yaml: the paper's configs (HuBERT-large: a GPU is expected).
#             Without a GPU: --ser_config conf/tuning/cpu_opensmile_classical.yaml --variants classical
#                            (docs/benchmarks.md; docs/models.md for a network beside it and their fusion)
#   variants  Baseline D (the corpus has no V/A/D labels)
#   folds     1-10, one per test speaker
# The corpus path comes from db.sh (EMODB).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ser_config="conf/train_ser_{variant}.yaml"
variants="baseline_d"
folds="1 2 3 4 5 6 7 8 9 10"
./ser.sh --recipe emodb --ser_config "$ser_config" --variants "$variants" --folds "$folds" "$@"
