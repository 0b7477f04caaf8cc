#!/usr/bin/env bash
# IEMOCAP data prep: $IEMOCAP (db.sh) -> <datadir>/iemocap/{all,fold1..5}/{train,dev,test}.
set -euo pipefail
datadir=data
iemocap_opts=   # options of prepare_data iemocap, e.g. "--class_set 4class --dev_strategy session"
help_message="Usage: $0 [--datadir $datadir] [--iemocap_opts \"...\"]"
. utils/parse_options.sh
../../../local/prepare_corpus.sh iemocap "$datadir/iemocap" $iemocap_opts
