#!/usr/bin/env bash
# The annotator study (beyond the paper): one variant trained twice on IEMOCAP's folds, with hard class
# labels (the paper) and against the evaluators' vote distributions (model_conf class_targets: soft),
# inference with MC dropout, then COMPARE.md: accuracy, calibration, divergence from the votes, reject
# curves, uncertainty vs disagreement and classes read off V/A/D. With no IEMOCAP in db.sh it runs on the
# embedded mini corpus (whose evaluators disagree by design). Options go to both recipe runs' settings.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
TOP=$PWD
variant=hierarchical_cd   # it predicts classes and V/A/D
mc_dropout=10             # MC-dropout passes per utterance at inference
targets="hard soft"
ser_config=               # default: the demo's CPU config on the mini corpus, the recipe's own otherwise
epochs=30                 # epochs per model on the mini corpus (soft targets converge more slowly)
utts_per_dialog=30        # mini corpus size: IEMOCAP utterances per dialog (10 dialogs; the demo's is 10)
folds=
workdir=                  # default: demo_annotators/ (mini corpus) or egs2/iemocap/ser1/annotators/
help_message="Usage: $0 [--variant $variant] [--mc_dropout $mc_dropout] [--targets \"$targets\"] [--ser_config CONF]
       [--epochs $epochs] [--utts_per_dialog $utts_per_dialog] [--folds \"1 2 3 4 5\"] [--workdir DIR]"
. ./path.sh
. egs2/TEMPLATE/ser1/utils/parse_options.sh
. ./db.sh
extra=()
if [ -z "$IEMOCAP" ]; then
  workdir=${workdir:-$TOP/demo_annotators}
  echo "[run_annotators.sh] no IEMOCAP in db.sh: the embedded mini corpus -> $workdir"
  python -m espnet_ser.bin.prepare_data mini --utts_per_dialog "$utts_per_dialog" "$workdir/mini_corpus" > /dev/null
  export IEMOCAP=$workdir/mini_corpus/IEMOCAP
  ser_config=${ser_config:-conf/tuning/train_ser_tiny_fbank.yaml}
  extra+=(--feats_type raw --nj "$(nproc)" --inference_nj "$(nproc)")
  epoch_args="--max_epoch $epochs"
else
  workdir=${workdir:-$TOP/egs2/iemocap/ser1/annotators}
  epoch_args=
fi
[ -n "$ser_config" ] && extra+=(--ser_config "$ser_config")
[ -n "$folds" ] && extra+=(--folds "$folds")
start=$(date +%s)
runs=()
for t in $targets; do
  echo "[run_annotators.sh] === class targets: $t ==="
  egs2/iemocap/ser1/run.sh --variants "$variant" --stop_stage 8 "${extra[@]}" \
    --ser_args "$epoch_args --model_conf class_targets=$t" --inference_args "--mc_dropout $mc_dropout" \
    --datadir "$workdir/data" --dumpdir "$workdir/dump" --expdir "$workdir/exp_$t" --results_dir "$workdir"
  runs+=(--run "$t=$workdir/exp_$t")
done
python -m espnet_ser.bin.ser_compare --recipe iemocap "${runs[@]}" --out "$workdir" > /dev/null
echo "[run_annotators.sh] done in $(( $(date +%s) - start )) s: $workdir/COMPARE.md"
