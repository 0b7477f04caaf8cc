#!/usr/bin/env bash
# run.pl-style local job runner:  run_local.sh [--max_jobs_run N] [--gpu N] JOB=1:N LOG CMD...
# Runs CMD once per JOB index (JOB in LOG and CMD replaced by the index), at most N at a time
# (default: the number of CPUs), each writing stdout+stderr to its LOG. Exits 1 if any job fails,
# naming the failed jobs' logs. --gpu is accepted for compatibility with the cluster backend.
set -uo pipefail
max_jobs=$(nproc 2>/dev/null || echo 1)
while [[ $# -gt 0 && "$1" == --* ]]; do
  case $1 in
    --max_jobs_run) max_jobs=$2; shift 2 ;;
    --gpu|--mem|--time|--config) shift 2 ;;
    --num_nodes) [ "$2" -le 1 ] || { echo "$0: --num_nodes $2: several nodes need a cluster backend (SER_BACKEND=slurm)" >&2; exit 2; }; shift 2 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "$0: unknown option $1" >&2; exit 2 ;;
  esac
done
. "$(dirname "${BASH_SOURCE[0]}")/job_range.sh"
job_range "$0 [--max_jobs_run N] JOB=1:N LOG CMD..." "$@"; shift 2
declare -A pids=()
failed=()
wait_one() {  # wait for any job, record failures
  local done_pid
  wait -n -p done_pid; local rc=$?
  [ "$rc" -ne 0 ] && failed+=("${pids[$done_pid]}")
  unset "pids[$done_pid]"
}
for ((j = first; j <= last; j++)); do
  jlog=${log//JOB/$j}
  mkdir -p "$(dirname "$jlog")"
  cmd=()
  for a in "$@"; do cmd+=("${a//JOB/$j}"); done
  ( echo "# ${cmd[*]}"; echo "# started $(date '+%F %T')"; "${cmd[@]}"; rc=$?
    echo "# ended $(date '+%F %T') with status $rc"; exit $rc ) > "$jlog" 2>&1 &
  pids[$!]=$jlog
  while [ "${#pids[@]}" -ge "$max_jobs" ]; do wait_one; done
done
while [ "${#pids[@]}" -gt 0 ]; do wait_one; done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "$0: ${#failed[@]} of $((last - first + 1)) jobs failed; see ${failed[*]}" >&2
  exit 1
fi
