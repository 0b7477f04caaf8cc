#!/usr/bin/env bash
# Slurm job runner, same interface as run_local.sh:
#   slurm.sh [--config conf/slurm.conf] [--gpu N] [--num_nodes M] [--mem 16G] [--time 24:00:00] JOB=1:N LOG CMD...
# Submits one sbatch job per JOB index (sbatch --wait, so this returns when all have ended), with the
# partition, CPUs, memory and time limit of the config (key=value lines: partition, cpus_per_task,
# mem, time, extra) and --gres=gpu:N when --gpu N > 0 (per node; --num_nodes M > 1 asks for M nodes,
# one task each, for a command that starts its own srun step). Each job's output goes to its LOG; the batch
# scripts are kept under LOG's directory in q/. Exits 1 if any job fails, naming the logs.
set -uo pipefail
config=""; gpu=0; nodes=1; mem=""; time_limit=""
while [[ $# -gt 0 && "$1" == --* ]]; do
  case $1 in
    --config) config=$2; shift 2 ;;
    --gpu) gpu=$2; shift 2 ;;
    --num_nodes) nodes=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --time) time_limit=$2; shift 2 ;;
    --max_jobs_run) shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "$0: unknown option $1" >&2; exit 2 ;;
  esac
done
. "$(dirname "${BASH_SOURCE[0]}")/job_range.sh"
job_range "$0 [--config FILE] [--gpu N] JOB=1:N LOG CMD..." "$@"; shift 2
partition=""; cpus_per_task=""; extra=""; conf_mem=""; conf_time=""
if [ -n "$config" ]; then
  [ -f "$config" ] || { echo "$0: config $config not found" >&2; exit 2; }
  while IFS='=' read -r k v; do
    case $k in
      partition) partition=$v ;; cpus_per_task) cpus_per_task=$v ;; mem) conf_mem=$v ;;
      time) conf_time=$v ;; extra) extra=$v ;; ''|\#*) ;;
      *) echo "$0: $config: unknown key $k" >&2; exit 2 ;;
    esac
  done < "$config"
fi
mem=${mem:-$conf_mem}; time_limit=${time_limit:-$conf_time}
opts=()
[ -n "$partition" ] && opts+=(--partition="$partition")
[ -n "$cpus_per_task" ] && opts+=(--cpus-per-task="$cpus_per_task")
[ -n "$mem" ] && opts+=(--mem="$mem")
[ -n "$time_limit" ] && opts+=(--time="$time_limit")
[ "$gpu" -gt 0 ] && opts+=(--gres="gpu:$gpu")
[ "$nodes" -gt 1 ] && opts+=(--nodes="$nodes" --ntasks-per-node=1)
# shellcheck disable=SC2206
[ -n "$extra" ] && opts+=($extra)
qdir=$(dirname "$log")/q
mkdir -p "$qdir"
declare -A pids=()
for ((j = first; j <= last; j++)); do
  jlog=${log//JOB/$j}
  mkdir -p "$(dirname "$jlog")"
  script=$qdir/$(basename "${log//JOB/$j}" .log).sh
  { echo "#!/usr/bin/env bash"; echo "cd $(printf %q "$PWD")"
    printf '%q ' "${@//JOB/$j}"; echo; } > "$script"
  chmod +x "$script"
  sbatch --wait --parsable --job-name="$(basename "$jlog" .log)" --output="$jlog" "${opts[@]}" "$script" >/dev/null &
  pids[$!]=$jlog
done
failed=()
for p in "${!pids[@]}"; do wait "$p" || failed+=("${pids[$p]}"); done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "$0: ${#failed[@]} of $((last - first + 1)) jobs failed; see ${failed[*]}" >&2
  exit 1
fi
