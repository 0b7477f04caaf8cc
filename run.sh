#!/usr/bin/env bash
# The one command. Without corpus paths it runs the demo on the embedded mini corpus:
# mini IEMOCAP/MSP-Podcast -> data prep -> train -> predict (python -m espnet_ser.demo --help).
# The staged paper recipes live in egs2/ (see README).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
. ./path.sh
exec python -m espnet_ser.demo "$@"
