#!/usr/bin/env bash
# multi data prep: every corpus the declaration names by prep (db.sh: its variable) ->
# <datadir>/<corpus>/... (python -m espnet_ser.bin.prepare_data <corpus>); ser.sh then builds the
# declaration's experiments from them (recipe splits --declaration).
set -euo pipefail
datadir=data
declaration=
help_message="Usage: $0 --declaration FILE [--datadir $datadir]"
. utils/parse_options.sh
[ -n "$declaration" ] || { echo "$help_message" >&2; exit 1; }
for corpus in $(python -m espnet_ser.bin.recipe preps --declaration "$declaration"); do
  ../../../local/prepare_corpus.sh "$corpus" "$datadir/$corpus"
done
