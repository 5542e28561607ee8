#!/usr/bin/env bash
# Dependency parsing transfer with the tiny model pretrained from scratch
# (lib-tiny-model.sh): a parsing adapter (biaffine head) trained on 8 UD
# languages (Germanic and Romance), evaluated on 3 held-out languages
# (Portuguese, Galician, Swedish) with greedy and MST decoding.
# Baselines from the gold heads of the scored rows: a uniformly random head,
# the left neighbour, the right neighbour.
# Asserts: on every target UAS beats the random-head and left-neighbour
# baselines by 3 points and LAS <= UAS; on Portuguese and Galician (close to
# the Spanish/Italian/French training data) UAS also beats the right
# neighbour by 3 points.  Swedish is printed but not held to the right
# neighbour: with this tiny base it lands at that baseline (~32 vs 31.7;
# in-language training on Swedish itself reaches only ~36), a limit of the
# base, which transfers little beyond shared subwords.  MST yields the same
# number of scored words as greedy decoding.
# Settings: reduction 2 (a 32-dim bottleneck at d=64), lr 3e-3 with warmup,
# 400 sentences/language, 10 epochs.  The tiny base starts from sinusoidal
# position embeddings (xf-mlmstep --init-positions sinusoidal): from HF's
# random init the parser stays near the neighbour baselines (por ~21).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib-tiny-model.sh"
tiny_model
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ud=$XF_DATA/ud
for l in eng_ewt deu_gsd nld_alpino dan_ddt nob_bokmaal fra_gsd spa_gsd ita_isdt; do
  xf-tokenize -q --tokenizer "$TINY/vocab.txt" --task dep --seq 128 --lang "${l%_*}" "$ud/$l/dev.conllu.zst"
done > "$tmp/train.tsv"
for l in por_bosque glg_treegal swe_talbanken; do
  xf-tokenize -q --tokenizer "$TINY/vocab.txt" --task dep --seq 128 --lang "${l%_*}" "$ud/$l/test.conllu.zst"
done > "$tmp/target.tsv"
xf-adapt -q -m "$TINY/tiny.xfts" --task dep --max-per-lang 400 --epochs 10 --lr 3e-3 --batch 12 \
  --reduction 2 --warmup 20 --seq 128 -o "$tmp/dep.xfts" "$tmp/train.tsv"
xf-eval -q -m "$TINY/tiny.xfts" -a "$tmp/dep.xfts" --model-name tiny "$tmp/target.tsv" > "$tmp/greedy.tsv"
xf-eval -q -m "$TINY/tiny.xfts" -a "$tmp/dep.xfts" --model-name tiny --decode mst "$tmp/target.tsv" > "$tmp/mst.tsv"
cat "$tmp/greedy.tsv" "$tmp/mst.tsv"
for lang in por glg swe; do
  # baselines over the rows xf-eval scores (no head -1 = split sentence)
  read -r rnd left right < <(awk -F'\t' -v l="$lang" '$1 == l && $8 !~ /-1/ {
      n = split($8, h, " "); for (i = 1; i <= n; i++) {w++; r += 1 / n; if (h[i] == i - 1 && i > 1) a++; if (h[i] == i + 1) b++}}
      END {printf "%.4f %.4f %.4f\n", 100 * r / w, 100 * a / w, 100 * b / w}' "$tmp/target.tsv")
  uas=$(awk -F'\t' -v l="$lang" '$8 == l && $9 == "uas" {print $10}' "$tmp/greedy.tsv")
  las=$(awk -F'\t' -v l="$lang" '$8 == l && $9 == "las" {print $10}' "$tmp/greedy.tsv")
  n1=$(awk -F'\t' -v l="$lang" '$8 == l && $9 == "uas" {print $11}' "$tmp/greedy.tsv")
  n2=$(awk -F'\t' -v l="$lang" '$8 == l && $9 == "uas" {print $11}' "$tmp/mst.tsv")
  echo "$lang: uas $uas las $las; random head $rnd, left neighbour $left, right neighbour $right"
  awk -v u="$uas" -v l="$las" -v r="$rnd" -v a="$left" 'BEGIN {exit !(u != "" && u > r + 3 && u > a + 3 && l <= u)}'
  if [ "$lang" != swe ]; then
    awk -v u="$uas" -v b="$right" 'BEGIN {exit !(u > b + 3)}'
  fi
  [ -n "$n1" ] && [ "$n1" = "$n2" ]
done
