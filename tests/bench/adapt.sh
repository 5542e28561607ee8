#!/usr/bin/env bash
# Adapter training and evaluation throughput on the mBERT-base shape (12
# layers, 768 hidden, 12 heads, 3072 FFN, 119,547-piece vocabulary) with
# random weights: a POS task adapter (reduction 16) + tagging head, frozen
# base, 2 steps of batch 8 x 128 tokens (BENCH_BATCH, BENCH_STEPS); then
# forward-only evaluation of 64 rows.  Prints the tokens/s the tools report
# (model loading excluded) and the peak RSS.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
V=119547
cat > "$tmp/config.json" <<EOF
{"model_type": "bert", "vocab_size": $V, "hidden_size": 768, "num_hidden_layers": 12,
 "num_attention_heads": 12, "intermediate_size": 3072, "max_position_embeddings": 512,
 "type_vocab_size": 2, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1}
EOF
# random example rows: [CLS] 126 word pieces [SEP], one word per piece
awk -v V="$V" 'BEGIN {
  srand(1); print "lang\tid\ttask\tids\ttypes\twords\tlabels\theads\trels\toffsets\textra"
  split("ADJ ADP ADV AUX CCONJ DET INTJ NOUN NUM PART PRON PROPN PUNCT SCONJ SYM VERB X", tag, " ")
  for (r = 0; r < 64; r++) {
    ids = "2"; words = ""; labels = ""
    for (t = 1; t <= 126; t++) {
      ids = ids " " (1000 + int(rand() * (V - 1000)))
      words = words (t > 1 ? " " : "") t ":" (t + 1)
      labels = labels (t > 1 ? " " : "") tag[1 + int(rand() * 17)]
    }
    printf "eng\tb%d\tpos\t%s 3\t-\t%s\t%s\t-\t-\t-\t-\n", r, ids, words, labels
  }}' > "$tmp/pos.tsv"
# the base: random weights, written once (1 step of the MLM trainer would
# cost more than the whole benchmark; --init + 0 steps is not offered, so
# take 1 step on 2 rows)
head -3 "$tmp/pos.tsv" | awk -F'\t' 'BEGIN {OFS = "\t"} NR > 1 {$3 = "mlm"; $6 = "-"; $7 = "-"} {print}' > "$tmp/mlm.tsv"
printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n' > "$tmp/vocab.txt"
awk -v V="$V" 'BEGIN {for (i = 5; i < V; i++) print "w" i}' >> "$tmp/vocab.txt"
xf-mlmstep -q --init "$tmp/config.json" --tokenizer "$tmp/vocab.txt" --steps 1 --batch 2 \
  --seq 128 -o "$tmp/base.xfts" "$tmp/mlm.tsv"
steps=${BENCH_STEPS:-2}
batch=${BENCH_BATCH:-8}
/usr/bin/time -f '%M' -o "$tmp/rss1" xf-adapt -m "$tmp/base.xfts" --task pos --batch "$batch" \
  --max-steps "$steps" --seq 128 -o "$tmp/pos.xfts" "$tmp/pos.tsv" 2> "$tmp/log1"
/usr/bin/time -f '%M' -o "$tmp/rss2" xf-eval -v -m "$tmp/base.xfts" -a "$tmp/pos.xfts" "$tmp/pos.tsv" \
  > /dev/null 2> "$tmp/log2"
train=$(sed -n 's/.* \([0-9.]*\) tokens\/s.*/\1/p' "$tmp/log1")
eval=$(sed -n 's/^xf-eval: eval: \([0-9.]*\) tokens\/s.*/\1/p' "$tmp/log2")
[ -n "$train" ] && [ -n "$eval" ] || { cat "$tmp/log1" "$tmp/log2"; exit 1; }
echo "adapter training (mBERT-base shape, POS, $steps steps of $batch x 128, $(nproc) cores): $train tokens/s, peak RSS $(( $(cat "$tmp/rss1") / 1024 )) MiB"
echo "evaluation (64 rows x 128, forward only): $eval tokens/s, peak RSS $(( $(cat "$tmp/rss2") / 1024 )) MiB"
