#!/usr/bin/env bash
# Mismatched training (Table 2): both corpora prepared; ser.sh's splits step combines their labels.
set -euo pipefail
datadir=data
iemocap_opts=
msp_opts=
help_message="Usage: $0 [--datadir $datadir] [--iemocap_opts \"...\"] [--msp_opts \"...\"]"
. utils/parse_options.sh
../../../local/check_db.sh IEMOCAP MSP_PODCAST
../../../local/prepare_corpus.sh iemocap "$datadir/iemocap" $iemocap_opts
../../../local/prepare_corpus.sh msp_podcast "$datadir/msp_podcast" $msp_opts
