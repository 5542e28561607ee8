#!/usr/bin/env bash
# AdapterFusion evaluation throughput on the mBERT-base shape (12 layers, 768
# hidden, 12 heads, 3072 FFN, 119,547-piece vocabulary) with random weights,
# in one run: forward-only evaluation of 64 POS rows x 128 tokens with
# Stack(lang, task) (the plain adapter case, [1A]) and with
# Stack(Fuse(3 language adapters), task) ([3A]), each twice, alternating,
# best of BENCH_ROUNDS (3) interleaved rounds.  Prints the tokens/s xf-eval reports (model loading excluded),
# the ratio (target: fusion within 15 % of the plain adapter) and peak RSS.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
V=119547
cat > "$tmp/config.json" <<EOF
{"model_type": "bert", "vocab_size": $V, "hidden_size": 768, "num_hidden_layers": 12,
 "num_attention_heads": 12, "intermediate_size": 3072, "max_position_embeddings": 512,
 "type_vocab_size": 2, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1}
EOF
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
head -3 "$tmp/pos.tsv" | awk -F'\t' 'BEGIN {OFS = "\t"} NR > 1 {$3 = "mlm"; $6 = "-"; $7 = "-"} {print}' > "$tmp/mlm.tsv"
printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n' > "$tmp/vocab.txt"
awk -v V="$V" 'BEGIN {for (i = 5; i < V; i++) print "w" i}' >> "$tmp/vocab.txt"
xf-mlmstep -q --init "$tmp/config.json" --tokenizer "$tmp/vocab.txt" --steps 1 --batch 2 \
  --seq 128 -o "$tmp/base.xfts" "$tmp/mlm.tsv"
# a task adapter and three language adapters (one step each: their weights
# do not matter for the speed)
xf-adapt -q -m "$tmp/base.xfts" --task pos --batch 2 --max-steps 1 --seq 128 -o "$tmp/pos.xfts" "$tmp/pos.tsv"
for l in eng hin zho; do
  xf-adapt -q -m "$tmp/base.xfts" --task mlm --lang $l --tokenizer "$tmp/vocab.txt" --batch 2 \
    --max-steps 1 --seq 128 -o "$tmp/$l.xfts" "$tmp/mlm.tsv"
done
xf-fuse -o "$tmp/f3.xfts" "$tmp/eng.xfts" "$tmp/hin.xfts" "$tmp/zho.xfts"
run() {   # LOG RSS ARGS...
  local log=$1 rss=$2; shift 2
  /usr/bin/time -f '%M' -o "$rss" xf-eval -v -m "$tmp/base.xfts" -a "$tmp/pos.xfts" "$@" "$tmp/pos.tsv" \
    > /dev/null 2> "$log"
  sed -n 's/^xf-eval: eval: \([0-9.]*\) tokens\/s.*/\1/p' "$log"
}
# BENCH_ROUNDS (default 3) interleaved rounds, the best of each kind
plain=0 fused=0
for ((r = 1; r <= ${BENCH_ROUNDS:-3}; r++)); do
  p=$(run "$tmp/lp" "$tmp/rp" --lang-adapter "$tmp/eng.xfts")
  f=$(run "$tmp/lf" "$tmp/rf" --fusion "$tmp/f3.xfts")
  [ -n "$p" ] && [ -n "$f" ] || { cat "$tmp"/lp "$tmp"/lf; exit 1; }
  plain=$(awk -v a="$plain" -v b="$p" 'BEGIN {print (a > b ? a : b)}')
  fused=$(awk -v a="$fused" -v b="$f" 'BEGIN {print (a > b ? a : b)}')
done
echo "evaluation, Stack(lang, task) (64 rows x 128, forward only, $(nproc) cores): $plain tokens/s, peak RSS $(( $(cat "$tmp/rp") / 1024 )) MiB"
echo "evaluation, Stack(Fuse(3), task): $fused tokens/s, peak RSS $(( $(cat "$tmp/rf") / 1024 )) MiB"
awk -v p="$plain" -v f="$fused" 'BEGIN {
    printf "fusion / plain adapter: %.3f (target >= 0.85): %s\n", f / p, (f >= 0.85 * p) ? "MET" : "NOT MET" }'
