#!/usr/bin/env bash
# Several corpora, any label types, one model (outside the paper): a multi-corpus declaration says which
# corpora, what each trains on and which experiments run (union, one per corpus for the cross-corpus
# matrix, leave-one-corpus-out); every experiment is tested on every corpus.
# What it runs (any ser.sh option after these overrides them; ./run.sh --help lists them):
#   declaration  conf/multi/acted_msp.yaml: EMOVO and EmoDB train classes, MSP-Podcast V/A/D; matrix: true
#   config       conf/tuning/train_ser_cpu_small.yaml (log-mel statistics; runs on a CPU)
#   variants     Multi-task C,D (a class head and a V/A/D head)
#   folds        the declaration's
# Corpus paths come from db.sh (EMOVO, EMODB, MSP_PODCAST).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
declaration=conf/multi/acted_msp.yaml
ser_config=conf/tuning/train_ser_cpu_small.yaml
variants="multitask"
./ser.sh --recipe multi --declaration "$declaration" --ser_config "$ser_config" --variants "$variants" "$@"
