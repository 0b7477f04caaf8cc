#!/usr/bin/env bash
# prepare_iemocap.sh OUT [prepare_data options]: IEMOCAP ($IEMOCAP from db.sh) -> OUT/{all,fold1..5}.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$here/check_db.sh" IEMOCAP
. "$here/../db.sh"
out=$1; shift
python -m espnet_ser.bin.prepare_data iemocap "$IEMOCAP" "$out" "$@"
