# Sourced by the job runners (run_local.sh, slurm.sh): job_range USAGE "$@" checks the
# "JOB=first:last LOG CMD..." arguments and sets first, last and log (the caller then shifts 2).
job_range() {
  local usage=$1; shift
  if [[ $# -lt 3 || ! "$1" =~ ^JOB=([0-9]+):([0-9]+)$ ]]; then
    echo "usage: $usage" >&2; exit 2
  fi
  first=${BASH_REMATCH[1]}; last=${BASH_REMATCH[2]}; log=$2
}
