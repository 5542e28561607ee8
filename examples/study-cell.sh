#!/usr/bin/env bash
# One cell of the transfer grid: for transfer language ALPHA and run R, and
# each K of STEPS, finetune the base model once with masked LM (xf-mlmstep
# --steps K --seed SEED) and stream the finetuned model into one xf-eval per
# task (tee into FIFOs: xf-eval takes one task adapter per call), so the model
# never touches the disk unless KEEP=1.  The rows of all tasks for (ALPHA, K,
# R) go to OUT/rows/mlm/ALPHA.kK.rR.tsv, written atomically (temp + rename);
# a file that exists is finished and is skipped.  Called by examples/study.mk
# (one K) and by the lines of jobs.txt (all K), so both give the same bytes.
#
# Usage: study-cell.sh OUT ALPHA R SEED "K..." TASKSPEC...
#   TASKSPEC = TASK:ADAPTER:TARGETSTREAM[,TARGETSTREAM...]
# Environment: XF_MODEL (base model), XF_MODEL_NAME (model column),
#   XF_TOKENIZER, XF_MLM (α's mlm example stream), XF_THREADS,
#   XF_MLM_FLAGS (extra xf-mlmstep options), KEEP (1: also write the model
#   to OUT/models/ALPHA.kK.rR.xfts), XF_BIN (tools; default: on PATH).
set -euo pipefail
[ $# -ge 6 ] || { echo "usage: study-cell.sh OUT ALPHA R SEED 'K...' TASKSPEC..." >&2; exit 2; }
out=$1 alpha=$2 run=$3 seed=$4 steps=$5; shift 5
[ -n "${XF_BIN:-}" ] && export PATH="$XF_BIN:$PATH"
: "${XF_MODEL:?}" "${XF_MODEL_NAME:?}" "${XF_MLM:?}"
threads=${XF_THREADS:-1}
mkdir -p "$out/rows/mlm"
tmp=$(mktemp -d "$out/rows/mlm/.cell-$alpha-r$run-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for k in $steps; do
  dst=$out/rows/mlm/$alpha.k$k.r$run.tsv
  [ -f "$dst" ] && continue
  pids=() fifos=() parts=()
  i=0
  for spec in "$@"; do
    task=${spec%%:*} rest=${spec#*:}
    adapter=${rest%%:*} targets=${rest#*:}
    mkfifo "$tmp/m$i"
    IFS=, read -r -a tl <<< "$targets"
    xf-eval -q --threads "$threads" -m - -a "$adapter" --model-name "$XF_MODEL_NAME" \
      --setting mlm --transfer "$alpha" --steps "$k" --run "$run" \
      -o "$tmp/$task.tsv" "${tl[@]}" < "$tmp/m$i" &
    pids+=($!) fifos+=("$tmp/m$i") parts+=("$tmp/$task.tsv")
    i=$((i + 1))
  done
  keep=/dev/null
  if [ "${KEEP:-0}" = 1 ]; then mkdir -p "$out/models"; keep=$tmp/model.xfts; fi
  tok=(); [ -n "${XF_TOKENIZER:-}" ] && tok=(--tokenizer "$XF_TOKENIZER")
  # shellcheck disable=SC2086
  xf-mlmstep -q --threads "$threads" -m "$XF_MODEL" "${tok[@]}" --steps "$k" --seed "$seed" \
    ${XF_MLM_FLAGS:-} "$XF_MLM" | tee "${fifos[@]}" > "$keep" || { wait; exit 1; }
  for p in "${pids[@]}"; do wait "$p"; done
  { head -n1 "${parts[0]}"; for p in "${parts[@]}"; do tail -n +2 "$p"; done; } > "$tmp/rows.tsv"
  [ "${KEEP:-0}" = 1 ] && mv "$tmp/model.xfts" "$out/models/$alpha.k$k.r$run.xfts"
  mv "$tmp/rows.tsv" "$dst"
  rm -f "$tmp"/*
done
