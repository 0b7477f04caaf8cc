#!/usr/bin/env bash
# IEMOCAP, the paper's Table 1: the five variants on five leave-one-session-out folds, CCC and UA.
# What it runs (any ser.sh option after these overrides them; ./run.sh --help lists them):
#   config    conf/train_ser_{variant}.yaml: the paper's configs (links to the shared conf/), one per variant
#   variants  all five of the paper
#   folds     1-5 (test session = fold)
# Corpus paths come from db.sh (IEMOCAP); predictions are also written on IEMOCAP's 1-5 scale.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ser_config="conf/train_ser_{variant}.yaml"
variants="baseline_c baseline_d multitask hierarchical_dc hierarchical_cd"
folds="1 2 3 4 5"
./ser.sh --recipe iemocap --ser_config "$ser_config" --variants "$variants" --folds "$folds" \
  --inference_args "--vad_scale 1-5" "$@"
