#!/usr/bin/env bash
# Benchmark 5: wall time of the root ./run.sh demo (fresh demo dir). Prints one JSON line.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf demo
start=$(date +%s)
./run.sh > /tmp/demo_time.log 2>&1
end=$(date +%s)
. ./path.sh
python -c "import json; from bench.common import machine; print(json.dumps({'benchmark': 'demo_time', 'seconds': $((end - start)), 'command': 'bash bench/demo_time.sh', 'machine': machine(), 'date': '$(date -Is)'}))"
