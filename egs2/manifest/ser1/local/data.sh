#!/usr/bin/env bash
# Your corpus: $MANIFEST (db.sh) -> <datadir>/manifest/{all,fold1..K}/{train,dev,test}, speakers never shared.
set -euo pipefail
datadir=data
speaker_folds=loso   # loso (one fold per speaker) or a number of folds K (speakers dealt round-robin)
manifest_opts=       # options of prepare_data manifest, e.g. "--scale 1 7 --dev_speakers 2"
help_message="Usage: $0 [--datadir $datadir] [--speaker_folds loso|K] [--manifest_opts \"...\"]"
. utils/parse_options.sh
../../../local/prepare_corpus.sh manifest "$datadir/manifest" --speaker_folds "$speaker_folds" $manifest_opts
