#!/usr/bin/env bash
# emodb data prep: $EMODB (db.sh) -> <datadir>/emodb/{all,fold1..N}/{train,dev,test}, one fold per speaker.
set -euo pipefail
datadir=data
emodb_opts=   # options of prepare_data emodb, e.g. "--dev_speakers 2" or "--no-drop_unlabelled"
help_message="Usage: $0 [--datadir $datadir] [--emodb_opts \"...\"]"
. utils/parse_options.sh
../../../local/prepare_corpus.sh emodb "$datadir/emodb" $emodb_opts
