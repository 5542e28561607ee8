#!/usr/bin/env bash
# POS transfer with a tiny model pretrained from scratch (lib-tiny-model.sh):
# a POS adapter trained on 6 UD languages, evaluated on 2 held-out languages,
# must beat the majority-tag baseline (the training data's most frequent tag,
# scored on the target) by a clear margin.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib-tiny-model.sh"
tiny_model
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ud=$XF_DATA/ud
for l in eng_ewt deu_gsd fra_gsd spa_gsd ita_isdt nld_alpino; do
  xf-tokenize -q --tokenizer "$TINY/vocab.txt" --task pos --seq 128 --lang "${l%_*}" "$ud/$l/dev.conllu.zst"
done > "$tmp/train.tsv"
for l in por_bosque swe_talbanken; do
  xf-tokenize -q --tokenizer "$TINY/vocab.txt" --task pos --seq 128 --lang "${l%_*}" "$ud/$l/test.conllu.zst"
done > "$tmp/target.tsv"
xf-adapt -q -m "$TINY/tiny.xfts" --task pos --max-per-lang 150 --epochs 4 --lr 5e-3 --batch 16 \
  --seq 128 --seed 1 -o "$tmp/pos.xfts" "$tmp/train.tsv"
xf-eval -m "$TINY/tiny.xfts" -a "$tmp/pos.xfts" --model-name tiny "$tmp/target.tsv" > "$tmp/rows.tsv"
cat "$tmp/rows.tsv"
# majority tag of the training data (labels column 7)
major=$(awk -F'\t' '$1 != "lang" {n = split($7, a, " "); for (i = 1; i <= n; i++) c[a[i]]++}
  END {for (k in c) if (c[k] > best) {best = c[k]; tag = k}; print tag}' "$tmp/train.tsv")
for lang in por swe; do
  base=$(awk -F'\t' -v l="$lang" -v t="$major" '$1 == l {n = split($7, a, " ");
    for (i = 1; i <= n; i++) {w++; if (a[i] == t) k++}} END {printf "%.4f", 100 * k / w}' "$tmp/target.tsv")
  acc=$(awk -F'\t' -v l="$lang" '$8 == l && $9 == "upos_acc" {print $10}' "$tmp/rows.tsv")
  echo "$lang: upos_acc $acc, majority ($major) $base"
  awk -v a="$acc" -v b="$base" 'BEGIN {exit !(a != "" && a > b + 5)}'
done
