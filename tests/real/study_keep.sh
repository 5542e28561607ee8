#!/usr/bin/env bash
# A finetuned model touches the disk only with KEEP=1: a cell re-made
# without KEEP leaves no model file; with KEEP=1 it writes
# OUT/models/α.kK.rR.xfts (a model xf-eval reads: the same rows again), and
# the cell's rows are byte-identical either way.
set -euo pipefail
. "$(dirname "$0")/lib-study.bash"
export PATH="$XF_BIN:$PATH"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
STUDY_CONF=$T/tiny.study
study_conf "$STUDY_CONF"
study_ref
out=$T/out
cp -a "$REF" "$out"
cell=rows/mlm/wol.k3.r2.tsv
rm "$out/$cell"
study_make "$out" "$out/$cell" > "$T/log" 2>&1 || { cat "$T/log"; exit 1; }
[ ! -e "$out/models" ] || { echo "FAIL: a model was written without KEEP=1"; ls -R "$out/models"; exit 1; }
cmp "$REF/$cell" "$out/$cell"
rm "$out/$cell"
study_make "$out" KEEP=1 "$out/$cell" > "$T/log" 2>&1 || { cat "$T/log"; exit 1; }
cmp "$REF/$cell" "$out/$cell"
m=$out/models/wol.k3.r2.xfts
[ -s "$m" ] || { echo "FAIL: KEEP=1 kept no model"; exit 1; }
[ "$(ls -A "$out/models")" = wol.k3.r2.xfts ] || { echo "FAIL: models/ holds $(ls -A "$out/models")"; exit 1; }
# the kept model is the one that was evaluated
xf-eval -q -m "$m" -a "$out/adapters/pos.xfts" --model-name tiny --setting mlm --transfer wol --steps 3 --run 2 \
  "$out/data/pos.eng.test.tsv.zst" "$out/data/pos.wol.test.tsv.zst" | tail -n +2 > "$T/again"
grep -P '^tiny\tpos\t' "$REF/$cell" | cmp - "$T/again" || { echo "FAIL: the kept model gives other rows"; exit 1; }
echo "KEEP: no model on disk by default; KEEP=1 keeps the evaluated model"
