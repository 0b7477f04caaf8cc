#!/usr/bin/env bash
# prepare_corpus.sh CORPUS OUT [prepare_data options]: the corpus named in db.sh by CORPUS in capitals
# (iemocap: IEMOCAP, msp_podcast: MSP_PODCAST, emovo: EMOVO, emodb: EMODB) -> Kaldi data dirs under
# OUT (python -m espnet_ser.bin.prepare_data CORPUS). Fails at once if db.sh's path is wrong.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
corpus=$1 out=$2; shift 2
var=${corpus^^}
"$here/check_db.sh" "$var"
. "$here/../db.sh"
python -m espnet_ser.bin.prepare_data "$corpus" "${!var}" "$out" "$@"
