#!/usr/bin/env bash
# ser.sh: the stage engine of the espnet-ser recipes (run from a recipe dir, egs2/<corpus>/ser1).
# The shell only sequences stages; every decision is made in Python (python -m espnet_ser.bin.recipe).
set -euo pipefail

log() { echo "$(date '+%F %T') [ser.sh] $*"; }
die() { echo "$(date '+%F %T') [ser.sh] ERROR: $*" >&2; exit 1; }

stage=1                  # first stage to run
stop_stage=10            # last stage to run
skip_data_prep=false     # skip stages 1-4 (data, format, filter, features)
skip_train=false         # skip stages 5-6 (stats, training)
skip_eval=false          # skip stages 7-9 (inference, scoring, report)
recipe=                  # a recipe of the spec: python -m espnet_ser.bin.recipe fact recipes
variants=                # decoder variants to train (required; each recipe's run.sh names its own)
folds=                   # folds to run (default: every fold the recipe has; fact folds --recipe R)
ser_config="conf/train_ser_{variant}.yaml"  # training YAML; {variant} -> the variant name
ser_args=                # extra ser_train arguments, e.g. "--max_epoch 30 --seed 1"
inference_args=          # extra ser_inference arguments, e.g. "--vad_scale 1-5"
ngpu=0                   # GPUs per training job (>1: ESPnet distributed training on one node)
num_nodes=1              # nodes per training job (>1: one srun step over them; SER_BACKEND=slurm)
nj=0                     # parallel jobs for stats/training (0: one per experiment; local, no GPU: at most one per CPU)
inference_nj=0           # parallel jobs for inference (0: one per experiment and test set; local, no GPU: at most one per CPU)
local_data_opts=         # options for local/data.sh
datadir=data             # prepared data dirs (local/data.sh)
dumpdir=dump             # 16 kHz mono copies (stage 2)
expdir=exp               # experiments: <expdir>/ser_<variant>_<split>/
feats_type=cached        # cached: stage 4 runs the frozen frontend (or a fine-tuned one's frozen layers) once,
                         # training reads it; raw: on the fly (always for finetune: all)
extract_args=            # extract_feats options, e.g. "--device cuda --dtype bf16 --store_dtype float16"
min_dur=0                # stage 3: drop train/dev utterances shorter than this (seconds)
max_dur=0                # stage 3: ... and longer than this (0: no limit)
results_dir=.            # stage 9 writes RESULTS.md and figures/ here
model_card=none          # stage 10: none | quick | full: MODEL_CARD.md per packed model (metrics, robustness, compute)
declaration=             # recipe multi: the multi-corpus declaration (corpora, label types, experiments)

help_message="Usage: $0 --recipe <recipe> [options]   (recipes: python -m espnet_ser.bin.recipe fact recipes)
Stages:  1 data prep (local/data.sh + splits)   2 format audio to 16 kHz mono (dump)
         3 duration filter   4 frozen-feature extraction (--feats_type cached)
         5 collect stats     6 train     7 inference     8 fusion and scoring
         9 fold aggregation, tables, plots -> RESULTS.md     10 pack models (zip)
Options (default):
  --stage ($stage) --stop_stage ($stop_stage)
  --skip_data_prep ($skip_data_prep) --skip_train ($skip_train) --skip_eval ($skip_eval)
  --recipe ($recipe)        each recipe's table, test sets and folds: espnet_ser/spec.py
  --variants \"$variants\"   (required; the recipe's run.sh names its own)
  --folds \"$folds\"         (default: every fold the recipe has)
  --ser_config ($ser_config)   {variant} is replaced; without it --decoder <variant> is added
  --ser_args \"$ser_args\"        extra ser_train arguments
  --inference_args \"$inference_args\"  extra ser_inference arguments
  --ngpu ($ngpu: per node)  --num_nodes ($num_nodes)  --nj ($nj: one job per experiment)  --inference_nj ($inference_nj)
  --local_data_opts \"$local_data_opts\"
  --datadir ($datadir) --dumpdir ($dumpdir) --expdir ($expdir) --results_dir ($results_dir)
  --min_dur ($min_dur) --max_dur ($max_dur: no limit)
  --model_card ($model_card)   none | quick | full: a model card beside each packed model (stage 10)
  --feats_type ($feats_type)   raw | cached (frozen frontend run once; training reads the cache)
  --extract_args \"$extract_args\"  extract_feats options
  --declaration ($declaration)   recipe multi: the multi-corpus declaration (conf/multi/*.yaml)
Job backends come from cmd.sh (train_cmd, cuda_cmd, decode_cmd): local or Slurm."

. ./path.sh
. ./cmd.sh
. utils/parse_options.sh
[ $# -eq 0 ] || die "unexpected arguments: $* (see --help)"
fact() { python -m espnet_ser.bin.recipe fact "$@"; }
table=$(fact table --recipe "$recipe" 2>&1) || die "--recipe: ${table#recipe: error: }"
[ -n "$variants" ] || { echo "ser.sh: error: --variants: name the variants to run (each recipe's run.sh names its own)" >&2; exit 2; }
[ -n "$folds" ] || folds=$(fact folds --recipe "$recipe")
# stage numbers and folds the recipe does not have are refused before anything runs
python -m espnet_ser.bin.recipe check --recipe "$recipe" --stage "$stage" --stop_stage "$stop_stage" --folds $folds || exit 2
[ -z "${ser_config##*\{variant\}*}" ] || [ -f "$ser_config" ] || die "--ser_config $ser_config not found"
[ "$num_nodes" -le 1 ] || [ "${SER_BACKEND:-local}" = slurm ] || die "--num_nodes $num_nodes: several nodes need SER_BACKEND=slurm (cmd.sh)"

dump=$dumpdir/raw

# One run at a time per data, dump and exp dir: a second run into the same dirs is refused at once.
# flock's lock goes with this process (and the jobs it starts): the kernel drops it however the run
# ends, so a killed run never blocks the next one (a few seconds' grace lets its last jobs exit).
hold_dir() {
  local d=$1 fd lock; lock="$(dirname "$d")/.$(basename "$d").runlock"
  mkdir -p "$(dirname "$d")"
  exec {fd}>>"$lock"
  flock -w 3 "$fd" || die "$d is in use by another run ($(cat "$lock.who" 2>/dev/null || echo 'holder unknown')); wait for it to end or choose other dirs"
  echo "pid $$ on $(hostname) since $(date '+%F %T'): $0 --recipe $recipe" > "$lock.who"
}
hold_dir "$datadir"; hold_dir "$dumpdir"; hold_dir "$expdir"
ncpu=${SER_MAX_JOBS:-$(nproc)}
want() { [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ]; }
if $skip_data_prep; then [ "$stage" -ge 5 ] || stage=5; fi

feats=$dumpdir/feats
case $feats_type in raw|cached) ;; *) die "--feats_type must be raw or cached" ;; esac
# a config that fine-tunes the whole upstream (finetune: all) has nothing frozen to cache: it reads audio
# shellcheck disable=SC2086
feats_type=$(python -m espnet_ser.bin.recipe feats_type --ser_config "$ser_config" --variants $variants --feats_type "$feats_type") \
  || die "the variants' configs must share one frontend (see above)"
case $feats_type in raw) train_root=$dump; feats_root= ;; cached) train_root=$feats; feats_root=$feats ;; esac

# plan_stage NAME NJ ROOT: write NAME's job file over data ROOT; sets jobs_file, parts and stage_line
plan_stage() {
  local name=$1 want_nj=$2 root=$3 n extra=$ser_args
  jobs_file=$expdir/jobs/$name.jobs
  if [ "$root" = "$feats" ]; then
    [ -f "$feats/frontend_args" ] || die "$feats/frontend_args missing: run stage 4 with --feats_type cached"
    extra="$(cat "$feats/frontend_args") $ser_args"
  fi
  n=$(python -m espnet_ser.bin.recipe jobs --stage "$name" --recipe "$recipe" --root "$root" --expdir "$expdir" \
        --variants $variants --folds $folds --ser_config "$ser_config" --ser_args "$extra" \
        --inference_args "$inference_args" --ngpu "$ngpu" --num_nodes "$num_nodes" --model_card "$model_card" --eval_root "$dump" \
        ${feats_root:+--feats_root "$feats_root"} --out "$jobs_file") \
    || exit $?  # (set -e does not reach here when the caller is an if's condition)
  # --nj 0: one part per job, but on this machine's CPUs (local backend, no GPU) at most one per CPU: each
  # part is a worker that imports its libraries once and runs its jobs in turn
  [ "$want_nj" = 0 ] && [ "${SER_BACKEND:-local}" = local ] && [ "$ngpu" = 0 ] && want_nj=$ncpu
  parts=$n; [ "$want_nj" -gt 0 ] && [ "$want_nj" -lt "$n" ] && parts=$want_nj
  stage_line="stage $name: $n jobs in $parts parallel job(s); logs $expdir/logs/$name.*.log"
}
# parallel jobs on one machine share its CPUs: oversubscribed OpenMP threads slow torch down many-fold
share_cpus() { [ "${SER_BACKEND:-local}" = local ] && export OMP_NUM_THREADS=$(( ncpu / (parts < ncpu ? parts : ncpu) )); return 0; }

# run_stage NAME NJ ROOT CMD [CMD OPTIONS]: write NAME's job file over data ROOT, run it through CMD.
run_stage() {
  local name=$1 want_nj=$2 root=$3; shift 3
  plan_stage "$name" "$want_nj" "$root"
  [ "$parts" -gt 0 ] || { log "stage $name: no jobs for these variants"; return 0; }
  log "$stage_line"
  share_cpus
  "$@" JOB=1:"$parts" "$expdir/logs/$name.JOB.log" \
      python -m espnet_ser.bin.run_jobs "$jobs_file" --part JOB --nparts "$parts" \
    || die "stage $name failed: see $expdir/logs/$name.*.log and the job logs they name"
}

# Stages 5-7 in one go on this machine (local backend, no GPU, one node) with as many parts each: every
# worker runs its share of the stats, training and inference jobs in turn, waiting for all parts between
# stages (run_jobs --sync), so that ESPnet is imported once per worker instead of once per stage. Same
# jobs, stamps and logs as stage by stage; otherwise the stages run one by one.
run_stats_train_inference() {
  $skip_train || $skip_eval && return 1
  want 5 && want 6 && want 7 || return 1
  [ "${SER_BACKEND:-local}" = local ] && [ "$ngpu" = 0 ] && [ "$num_nodes" = 1 ] || return 1
  local files=() counts=() lines=() sync
  plan_stage stats "$nj" "$train_root"; files+=("$jobs_file"); counts+=("$parts"); lines+=("$stage_line")
  plan_stage train "$nj" "$train_root"; files+=("$jobs_file"); counts+=("$parts"); lines+=("$stage_line")
  plan_stage inference "$inference_nj" "$dump"; files+=("$jobs_file"); counts+=("$parts"); lines+=("$stage_line")
  [ "${counts[0]}" = "${counts[1]}" ] && [ "${counts[1]}" = "${counts[2]}" ] || return 1
  for line in "${lines[@]}"; do log "$line"; done
  log "stages stats, train, inference: $parts worker(s), each running its share of the three in turn (one ESPnet import)"
  sync=$expdir/jobs/sync.$$; rm -rf "$sync"
  share_cpus
  ${train_cmd} JOB=1:"$parts" "$expdir/logs/stats_train_inference.JOB.log" \
      python -m espnet_ser.bin.run_jobs "${files[@]}" --part JOB --nparts "$parts" --sync "$sync" \
    || die "stages stats/train/inference failed: see $expdir/logs/stats_train_inference.*.log and the job logs they name"
  rm -rf "$sync"
}

if want 1; then
  log "stage 1: data preparation (local/data.sh $local_data_opts)"
  # shellcheck disable=SC2086
  local/data.sh --datadir "$datadir" ${declaration:+--declaration "$declaration"} $local_data_opts
  python -m espnet_ser.bin.recipe splits --recipe "$recipe" --data "$datadir" --folds $folds \
      ${declaration:+--declaration "$declaration"}
fi
if want 2; then
  log "stage 2: format audio (16 kHz mono) $datadir -> $dump"
  ${train_cmd} JOB=1:1 "$expdir/logs/format.log" python -m espnet_ser.bin.recipe format --src "$datadir" --dst "$dump" \
    || die "stage 2 failed: see $expdir/logs/format.log"
fi
if want 3; then
  log "stage 3: duration filter ($min_dur..$max_dur s) on training and dev sets"
  max_opt=(); [ "$max_dur" != 0 ] && max_opt=(--max_dur "$max_dur")
  python -m espnet_ser.bin.recipe filter --root "$dump" --min_dur "$min_dur" "${max_opt[@]}"
fi
if want 4 && [ "$feats_type" = cached ]; then
  # shellcheck disable=SC2086
  frontend_config=$(python -m espnet_ser.bin.recipe frontend_config --ser_config "$ser_config" --variants $variants) \
    || die "stage 4: the variants' configs must share one frontend (see above)"
  log "stage 4: frozen features of $frontend_config's frontend (shared by every variant), $dump -> $feats"
  # shellcheck disable=SC2086
  ${cuda_cmd} --gpu "$ngpu" JOB=1:1 "$expdir/logs/extract.log" python -m espnet_ser.bin.extract_feats \
      --config "$frontend_config" --src "$dump" --dst "$feats" --no_progress $extract_args \
    || die "stage 4 failed: see $expdir/logs/extract.log"
fi
merged=false
if run_stats_train_inference; then merged=true; fi
if ! $skip_train && ! $merged; then
  if want 5; then run_stage stats "$nj" "$train_root" ${train_cmd}; fi
  if want 6; then run_stage train "$nj" "$train_root" ${cuda_cmd} --gpu "$ngpu" --num_nodes "$num_nodes"; fi
fi
if ! $skip_eval; then
  if want 7 && ! $merged; then run_stage inference "$inference_nj" "$dump" ${decode_cmd}; fi  # audio in: any model reads it
  if want 8; then  # a fusion's predictions first (every system's inference is done), then every system's scores
    run_stage fuse "$inference_nj" "$dump" ${decode_cmd}
    run_stage score "$inference_nj" "$dump" ${decode_cmd}
  fi
  if want 9; then
    log "stage 9: fold aggregation, significance, tables and plots -> $results_dir/RESULTS.md"
    python -m espnet_ser.bin.ser_report --"$table" "$expdir" --out "$results_dir" > "$expdir/logs/report.log" \
      || die "stage 9 failed: see $expdir/logs/report.log"
  fi
fi
if want 10; then run_stage pack "$inference_nj" "$dump" ${decode_cmd}; fi
log "done (stages $stage-$stop_stage)"
