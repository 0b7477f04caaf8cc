#!/usr/bin/env bash
# emovo data prep: $EMOVO (db.sh) -> <datadir>/emovo/{all,fold1..N}/{train,dev,test}, one fold per speaker.
set -euo pipefail
datadir=data
emovo_opts=   # options of prepare_data emovo, e.g. "--dev_speakers 2" or "--no-drop_unlabelled"
help_message="Usage: $0 [--datadir $datadir] [--emovo_opts \"...\"]"
. utils/parse_options.sh
../../../local/prepare_corpus.sh emovo "$datadir/emovo" $emovo_opts
