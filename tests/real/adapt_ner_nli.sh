#!/usr/bin/env bash
# NER and NLI end to end with the tiny model pretrained from scratch
# (lib-tiny-model.sh).  NER: an adapter trained on WikiANN eng deu fra spa nld
# gets an entity F1 above 0 on three held-out languages (por, ita, afr).
# NLI: an adapter trained briefly on XNLI dev (eng, spa) is evaluated on two
# AmericasNLI test sets: one acc row per language, n = the number of pairs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib-tiny-model.sh"
tiny_model
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ner=$XF_DATA/ner
tok() { xf-tokenize -q --tokenizer "$TINY/vocab.txt" "$@"; }
for l in eng deu fra spa nld; do tok --task ner --seq 128 --lang "$l" "$ner/$l/train.iob.zst"; done > "$tmp/ner_train.tsv"
for l in por ita afr; do tok --task ner --seq 128 --lang "$l" "$ner/$l/dev.iob.zst"; done > "$tmp/ner_target.tsv"
xf-adapt -q -m "$TINY/tiny.xfts" --task ner --max-per-lang 200 --epochs 5 --lr 5e-3 --batch 16 \
  --seq 128 -o "$tmp/ner.xfts" "$tmp/ner_train.tsv"
xf-eval -m "$TINY/tiny.xfts" -a "$tmp/ner.xfts" --model-name tiny "$tmp/ner_target.tsv" > "$tmp/ner.tsv"
cat "$tmp/ner.tsv"
[ "$(awk -F'\t' '$9 == "ner_f1" && $10 > 0 && $11 > 0' "$tmp/ner.tsv" | wc -l)" -eq 3 ]

nli=$XF_DATA/nli
for l in eng spa; do tok --task nli --seq 128 --lang "$l" "$nli/xnli_dev/$l.tsv.zst"; done > "$tmp/nli_train.tsv"
xf-adapt -q -m "$TINY/tiny.xfts" --task nli --max-per-lang 300 --epochs 1 --batch 16 \
  -o "$tmp/nli.xfts" "$tmp/nli_train.tsv"
for l in aym quy; do tok --task nli --seq 128 --lang "$l" "$nli/americasnli/$l.tsv.zst" > "$tmp/$l.tsv"; done
xf-eval -m "$TINY/tiny.xfts" -a "$tmp/nli.xfts" --model-name tiny "$tmp/aym.tsv" "$tmp/quy.tsv" > "$tmp/nli.tsv"
cat "$tmp/nli.tsv"
for l in aym quy; do
  pairs=$(( $(zstd -dc "$nli/americasnli/$l.tsv.zst" | wc -l) - 1 ))
  awk -F'\t' -v l="$l" -v n="$pairs" '$8 == l && $9 == "acc" && $10 >= 0 && $10 <= 100 && $11 == n {ok = 1}
    END {exit !ok}' "$tmp/nli.tsv" || { echo "$l: no acc row over $pairs pairs"; exit 1; }
done
