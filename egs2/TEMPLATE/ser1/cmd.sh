# Job backends (sourced by ser.sh). SER_BACKEND=local (default) runs jobs on this machine through
# utils/run_local.sh; SER_BACKEND=slurm submits them with sbatch using conf/slurm.conf.
# SER_MAX_JOBS caps local parallel jobs (default: the number of CPUs).
case ${SER_BACKEND:-local} in
  local)
    train_cmd="utils/run_local.sh --max_jobs_run ${SER_MAX_JOBS:-$(nproc)}"
    cuda_cmd=$train_cmd
    decode_cmd=$train_cmd ;;
  slurm)
    train_cmd="utils/slurm.sh --config conf/slurm.conf"
    cuda_cmd=$train_cmd
    decode_cmd=$train_cmd ;;
  *) echo "cmd.sh: SER_BACKEND must be local or slurm, got '${SER_BACKEND}'" >&2; return 1 ;;
esac
