#!/usr/bin/env bash
# The language-interaction grid end to end on real data (issue 12): the tiny
# model of lib-tiny-model.sh, 4 language adapters (xf-adapt --task mlm on
# each language's UD dev text), a POS task adapter (English UD dev), the
# full grid of examples/fusion-grid.mk on 200 UD test sentences per
# language: base and [A] for the 4 languages, the 6 pairs [AB] and the 4
# triples [ABC] (xf-fuse, xf-eval --fusion) evaluated on their own
# languages; then xf-project's table, its Figure 4 projection and the
# Figure 2 summary.  Checks: every row the grid promises is there, scores
# are above the majority tag, no combination is missing, the counts agree
# with the rows (recomputed here with awk), the figures are drawn.
# KEEP=DIR keeps the outputs (rows, tables, figures) in DIR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib-tiny-model.sh"
tiny_model
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
ud=$XF_DATA/ud
declare -A TB=([deu]=deu_gsd [eng]=eng_ewt [por]=por_bosque [swe]=swe_talbanken)
LANGS="deu eng por swe"
mkdir -p lang ev
for l in $LANGS; do
  xf-tokenize -q --tokenizer "$TINY/vocab.txt" --task mlm --seq 64 --text-from-conllu --lang $l \
    "$ud/${TB[$l]}/dev.conllu.zst" > mlm.$l.tsv
  xf-adapt -q -m "$TINY/tiny.xfts" --task mlm --lang $l --tokenizer "$TINY/vocab.txt" --seq 64 \
    --batch 16 --max-steps 40 --lr 2e-3 --seed 1 --threads 2 -o lang/$l.xfts mlm.$l.tsv
  zstd -dc "$ud/${TB[$l]}/test.conllu.zst" | awk 'BEGIN {RS = ""; ORS = "\n\n"} NR <= 200' > test.$l.conllu
  xf-tokenize -q --tokenizer "$TINY/vocab.txt" --task pos --seq 128 --lang $l test.$l.conllu > ev/$l.tsv
done
xf-tokenize -q --tokenizer "$TINY/vocab.txt" --task pos --seq 128 --lang eng "$ud/eng_ewt/dev.conllu.zst" > pos.train.tsv
xf-adapt -q -m "$TINY/tiny.xfts" --task pos --max-per-lang 300 --epochs 3 --lr 5e-3 --batch 16 \
  --seq 128 --seed 1 --threads 2 -o pos.xfts pos.train.tsv

start=$(date +%s)
make -s -f "$here/../../examples/fusion-grid.mk" -j2 FG_MODEL="$TINY/tiny.xfts" FG_TASK=pos.xfts \
  FG_LANGS="$LANGS" FG_ADAPTER_DIR=lang FG_EVAL_DIR=ev FG_MODEL_NAME=tiny FG_OUT=grid FG_EVAL_FLAGS="--threads 1" \
  fusion-grid fusion-grid-analysis
echo "grid + analysis: $(( $(date +%s) - start )) s"
rows=grid/rows.tsv
# 4 base + 4 [A] + 6 pairs x 2 + 4 triples x 3 = 32 upos_acc rows
[ "$(awk -F'\t' '$9 == "upos_acc"' $rows | wc -l)" -eq 32 ] || { echo "FAIL: rows"; cat $rows; exit 1; }
for c in deu eng por swe deu+eng deu+por deu+swe eng+por eng+swe por+swe deu+eng+por deu+eng+swe \
         deu+por+swe eng+por+swe; do
  for t in ${c//+/ }; do
    [ "$(awk -F'\t' -v c=$c -v t=$t '$3 == "lang" && $7 == c && $8 == t && $9 == "upos_acc"' $rows | wc -l)" -eq 1 ] \
      || { echo "FAIL: no row for [$c] on $t"; exit 1; }
  done
done
# every score above the test sets' majority tag
for l in $LANGS; do
  major=$(awk -F'\t' '!/^#/ && NF == 10 && $1 ~ /^[0-9]+$/ {c[$4]++; n++} END {for (k in c) if (c[k] > b) b = c[k]; printf "%.4f", 100 * b / n}' test.$l.conllu)
  awk -F'\t' -v l=$l -v m="$major" '$8 == l && $9 == "upos_acc" && $10 <= m + 5 {print "FAIL: " $0 " not above majority " m; bad = 1} END {exit bad}' $rows
done
cat grid/project.tsv grid/summary.tsv
# 2A and 3A rows for the 4 languages, nothing missing (ties are possible: scores are on 200 sentences)
[ "$(awk -F'\t' '$5 == "2A"' grid/project.tsv | wc -l)" -eq 4 ]
[ "$(awk -F'\t' '$5 == "3A"' grid/project.tsv | wc -l)" -eq 4 ]
awk -F'\t' 'NR > 1 && ($26 != 0 || ($5 == "2A" && $24 + $25 != 3) || ($5 == "3A" && $24 + $25 != 3)) {print "FAIL: " $0; bad = 1} END {exit bad}' grid/project.tsv
# the bilingual counts recomputed from the rows
awk -F'\t' '$9 != "upos_acc" || $3 != "lang" {next}
  $7 !~ /\+/ {base[$8] = $10; next}
  $7 ~ /^[a-z]+\+[a-z]+$/ {s[$7, $8] = $10; pair[$7] = 1}
  END {
    for (p in pair) {
      split(p, L, "+")
      for (i = 1; i <= 2; i++) {
        a = L[i]; b = L[3 - i]; da = s[p, a] - base[a]; db = s[p, b] - base[b]
        if (da == 0 || db == 0) { ties[a]++; continue }
        cnt[a, (da > 0 ? "p" : "m") (db > 0 ? "p" : "m")]++
      }
    }
    for (a in base) printf "%s %d %d %d %d %d\n", a, cnt[a, "mm"], cnt[a, "mp"], cnt[a, "pm"], cnt[a, "pp"], ties[a]
  }' $rows | sort > want
awk -F'\t' '$5 == "2A" {print $4, $6, $7, $8, $9, $25}' grid/project.tsv | sort > got
diff want got
# the summary: [1A] [2A] [3A] of 4 languages each
[ "$(awk -F'\t' 'NR > 1 {printf "%s:%s ", $4, $5}' grid/summary.tsv)" = "1A:4 2A:4 3A:4 " ]
for f in project summary; do
  [ "$(head -c 8 grid/$f.png | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || { echo "FAIL: $f.png"; exit 1; }
  [ "$(stat -c %s grid/$f.png)" -gt 10000 ]
done
xf-project --plot grid/project.svg $rows > /dev/null
grep -q 'tiny pos (upos_acc): trilingual' grid/project.svg
for l in $LANGS; do grep -q "[>,]$l[<,]" grid/project.svg || { echo "FAIL: $l not labelled"; exit 1; }; done
# a re-run has nothing to do
make -f "$here/../../examples/fusion-grid.mk" -q FG_MODEL="$TINY/tiny.xfts" FG_TASK=pos.xfts \
  FG_LANGS="$LANGS" FG_ADAPTER_DIR=lang FG_EVAL_DIR=ev FG_MODEL_NAME=tiny FG_OUT=grid fusion-grid
if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp grid/*.tsv grid/*.png grid/*.svg "$KEEP"/; fi
echo "fusion_grid: ok"
