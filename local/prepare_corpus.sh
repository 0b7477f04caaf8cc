#!/usr/bin/env bash
# prepare_corpus.sh iemocap|msp_podcast OUT [prepare_data options]: the corpus named in db.sh
# (IEMOCAP or MSP_PODCAST) -> Kaldi data dirs under OUT. Fails at once if db.sh's path is wrong.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
corpus=$1 out=$2; shift 2
case $corpus in iemocap) var=IEMOCAP ;; msp_podcast) var=MSP_PODCAST ;; *) echo "$0: unknown corpus $corpus" >&2; exit 2 ;; esac
"$here/check_db.sh" "$var"
. "$here/../db.sh"
python -m espnet_ser.bin.prepare_data "$corpus" "${!var}" "$out" "$@"
