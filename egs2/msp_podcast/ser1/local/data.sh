#!/usr/bin/env bash
# MSP-Podcast data prep: $MSP_PODCAST (db.sh) -> <datadir>/msp_podcast/{train,development,test1,...}.
set -euo pipefail
datadir=data
msp_opts=   # options of prepare_data msp_podcast, e.g. "--subset_size 10000"
help_message="Usage: $0 [--datadir $datadir] [--msp_opts \"...\"]"
. utils/parse_options.sh
../../../local/prepare_corpus.sh msp_podcast "$datadir/msp_podcast" $msp_opts
