#!/usr/bin/env bash
# MSP-Podcast, the paper's Table 3: the five variants trained on Train (model selection on Development),
# scored on Test1 (CCC, macro-F1).
# What it runs (any ser.sh option after these overrides them; ./run.sh --help lists them):
#   config    conf/train_ser_{variant}.yaml: the paper's configs (links to the shared conf/), one per variant
#   variants  all five of the paper
#   folds     none: the release's one split
# Corpus paths come from db.sh (MSP_PODCAST); predictions are also written on MSP-Podcast's 1-7 scale.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ser_config="conf/train_ser_{variant}.yaml"
variants="baseline_c baseline_d multitask hierarchical_dc hierarchical_cd"
./ser.sh --recipe msp_podcast --ser_config "$ser_config" --variants "$variants" \
  --inference_args "--vad_scale 1-7" "$@"
