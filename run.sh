#!/usr/bin/env bash
# The one command. With no corpus paths in db.sh it runs the whole pipeline on the embedded mini
# corpus (the demo): all five variants on IEMOCAP-style 5-fold CV (Table 1), the MSP-style split
# (Table 3) and the paper's eight mismatched-label rows (Table 2), ending with RESULTS.md and plots.
# With IEMOCAP and MSP_PODCAST set in db.sh it runs the paper's recipes (egs2/*/ser1) instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
TOP=$PWD

corpus=all            # all (the paper's three recipes) or one recipe (python -m espnet_ser.bin.recipe fact recipes)
variants=             # default: each recipe's own (its egs2/<recipe>/ser1/run.sh)
folds=                # default: each recipe's own
stage=1
stop_stage=10
ngpu=0
demo=auto             # true: mini corpus; false: db.sh corpora; auto: demo when db.sh names no corpus
demo_epochs=14        # training epochs per model in the demo
table2_variant=       # the model of Table 2's eight rows (default: egs2/iemocap_msp/ser1/run.sh's)
workdir=              # where data, dump, exp and RESULTS.md go (default: demo/ or the recipe dirs)
parallel=auto         # run the recipes side by side (auto: in the demo, where each is small)
ser_args=             # extra ser_train arguments for every model, e.g. "--model_conf ce_reduction=sum"
help_message="Usage: $0 [options]    (Python environment first: ./setup.sh)
  --corpus ($corpus)          all, or one recipe (python -m espnet_ser.bin.recipe fact recipes)
  --variants \"$variants\"         (default: each recipe's)
  --folds \"$folds\"               (default: each recipe's)
  --stage ($stage) --stop_stage ($stop_stage)   ser.sh stages (egs2/TEMPLATE/ser1/ser.sh --help)
  --ngpu ($ngpu)              GPUs per training job
  --demo ($demo)            true | false | auto (demo when db.sh sets no corpus)
  --demo_epochs ($demo_epochs)
  --table2_variant (default: egs2/iemocap_msp/ser1/run.sh's)
  --workdir ($workdir)         default: demo/ for the demo; each recipe's own dir otherwise
  --parallel ($parallel)       true | false | auto: run the recipes side by side (auto: in the demo)
  --ser_args \"$ser_args\"        extra ser_train arguments for every model (e.g. \"--model_conf ce_reduction=sum\")"
. ./path.sh
. egs2/TEMPLATE/ser1/utils/parse_options.sh
. ./db.sh
fact() { python -m espnet_ser.bin.recipe fact "$@"; }
if [ "$demo" = auto ]; then
  if [ -z "$IEMOCAP" ] && [ -z "$MSP_PODCAST" ]; then demo=true; else demo=false; fi
fi
known=$(fact recipes)
case " all $known " in *" $corpus "*) ;; *) echo "$0: --corpus must be all (the paper's recipes) or one of: $known" >&2; exit 2 ;; esac
recipes=$(fact paper_recipes); [ "$corpus" = all ] || recipes=$corpus
declare -A table nfolds
for r in $recipes; do table[$r]=$(fact table --recipe "$r"); nfolds[$r]=$(fact folds --recipe "$r" | wc -w); done

common=(--ngpu "$ngpu")
if $demo; then
  workdir=${workdir:-$TOP/demo}
  echo "[run.sh] demo on the embedded mini corpus -> $workdir (db.sh sets no corpus; see README)"
  python -m espnet_ser.bin.prepare_data mini "$workdir/mini_corpus" > /dev/null
  export IEMOCAP=$workdir/mini_corpus/IEMOCAP MSP_PODCAST=$workdir/mini_corpus/MSP-Podcast
  # raw features in the demo: its fbank frontend costs less than the extra process a cache stage starts
  # (the recipes' default, --feats_type cached, pays off with HuBERT; the recipe tests exercise it)
  common+=(--ser_config conf/tuning/train_ser_tiny_fbank.yaml --ser_args "--max_epoch $demo_epochs $ser_args" --feats_type raw --nj "$(nproc)" --inference_nj "$(nproc)")
elif [ -n "$ser_args" ]; then
  common+=(--ser_args "$ser_args")
fi
start=$(date +%s)
report=()
# recipe ARGS...: run one recipe's ser.sh with the shared options
recipe() {
  local r=$1; shift
  local sel=()  # without options, each recipe runs its own variants and folds (the spec's)
  if [ "${table[$r]}" = table2 ]; then
    [ -n "$table2_variant" ] && sel+=(--variants "$table2_variant")
  else
    [ -n "$variants" ] && sel+=(--variants "$variants")
    [ -n "$folds" ] && sel+=(--folds "$folds")
  fi
  local dirs=() share=()
  [ -n "$workdir" ] && dirs=(--datadir "$workdir/$r/data" --dumpdir "$workdir/$r/dump" --expdir "$workdir/$r/exp" --results_dir "$workdir/$r")
  # side by side, the small recipes (one fold: 5 and 8 models) run one worker each and the CPUs go to the
  # cross-validated one (Table 1: 25 models): every worker process pays ESPnet's import (~7 CPU-seconds)
  if $parallel && [ "${nfolds[$r]}" -le 1 ]; then share=(--nj 1 --inference_nj 1); export SER_MAX_JOBS=1; fi
  "egs2/$r/ser1/run.sh" "${common[@]}" "${sel[@]}" "${dirs[@]}" "${share[@]}" "$@"
}
# run_all FROM TO: stages FROM..TO of every recipe; in parallel (one log per recipe) or one after another
run_all() {
  local from=$1 to=$2 r pids=() logs=() i
  for r in $recipes; do
    echo "[run.sh] === $r: stages $from-$to ==="
    if $parallel; then
      mkdir -p "$logdir"; logs+=("$logdir/$r.stages$from-$to.log")
      recipe "$r" --stage "$from" --stop_stage "$to" > "${logs[-1]}" 2>&1 & pids+=($!)
    else
      recipe "$r" --stage "$from" --stop_stage "$to"
    fi
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { tail -n 20 "${logs[$i]}" >&2; echo "[run.sh] ERROR: see ${logs[$i]}" >&2; exit 1; }
  done
}
[ "$parallel" = auto ] && parallel=$demo
logdir=${workdir:-$TOP/results}/logs
$parallel && echo "[run.sh] recipes run side by side; their logs: $logdir/"
[ "$stage" -le 8 ] && run_all "$stage" "$(( stop_stage < 8 ? stop_stage : 8 ))"
for r in $recipes; do
  exp=${workdir:+$workdir/$r/exp}; exp=${exp:-$TOP/egs2/$r/ser1/exp}
  report+=(--"${table[$r]}" "$exp")
done
out=${workdir:-$TOP/results}
if [ "$stop_stage" -ge 9 ] && [ "$stage" -le 9 ] && [ "${#report[@]}" -gt 0 ]; then
  echo "[run.sh] stage 9: all tables -> $out/RESULTS.md"
  python -m espnet_ser.bin.ser_report "${report[@]}" --out "$out" \
    --header "Run by ./run.sh ($( $demo && echo "demo on the mini corpus, $demo_epochs epochs per model" || echo "db.sh corpora")); stages 1-8 took $(( $(date +%s) - start )) s." > /dev/null
fi
if [ "$stop_stage" -ge 10 ]; then run_all 10 10; fi
echo "[run.sh] done in $(( $(date +%s) - start )) s${report:+: $out/RESULTS.md}"
