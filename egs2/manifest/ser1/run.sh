#!/usr/bin/env bash
# Your own corpus from a manifest CSV (MANIFEST in db.sh): speaker-independent folds, every stage, a
# results table with fold mean ± std and pooled. One command: MANIFEST=my.csv ./run.sh
# What it runs (any ser.sh option after these overrides them; ./run.sh --help lists them):
#   config    conf/train_ser_{variant}.yaml: the paper's configs (HuBERT-large: a GPU is expected).
#             Without a GPU: --ser_config conf/tuning/cpu_opensmile_classical.yaml --variants classical
#                            (docs/benchmarks.md; docs/models.md for a network beside it and their fusion)
#   variants  Baseline D (classes); a corpus with V/A/D labels: --variants "hierarchical_dc" or others
#   folds     every fold local/data.sh prepared (leave-one-speaker-out; --local_data_opts "--speaker_folds K")
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ser_config="conf/train_ser_{variant}.yaml"
variants="baseline_d"
./ser.sh --recipe manifest --ser_config "$ser_config" --variants "$variants" "$@"
