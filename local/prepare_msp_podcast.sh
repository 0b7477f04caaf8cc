#!/usr/bin/env bash
# prepare_msp_podcast.sh OUT [prepare_data options]: MSP-Podcast ($MSP_PODCAST from db.sh) -> OUT/<split>.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$here/check_db.sh" MSP_PODCAST
. "$here/../db.sh"
out=$1; shift
python -m espnet_ser.bin.prepare_data msp_podcast "$MSP_PODCAST" "$out" "$@"
