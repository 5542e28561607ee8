#!/usr/bin/env bash
# Pretraining from scratch works: a tiny BERT (L=2, d=64) with a WordPiece
# vocabulary learned from Hausa text (xf-tokenize --learn-vocab), trained for
# 250 steps with xf-mlmstep --init, lowers the held-out MLM loss (xf-mlmstep
# --eval, same masks before and after) by at least 0.75 nats.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
zstd -dc "$XF_DATA/text/hau.txt.zst" >all.txt
head -n 8000 all.txt >train.txt
tail -n 300 all.txt >held.txt          # lines 8205.. : disjoint from training
xf-tokenize --learn-vocab 1000 -o vocab.txt train.txt
xf-tokenize -q --tokenizer vocab.txt --task mlm --lang hau --seq 32 -o train.tsv train.txt
xf-tokenize -q --tokenizer vocab.txt --task mlm --lang hau --seq 32 -o held.tsv held.txt
V=$(wc -l <vocab.txt)
cat >config.json <<JSON
{"model_type": "bert", "vocab_size": $V, "hidden_size": 64, "num_hidden_layers": 2,
 "num_attention_heads": 2, "intermediate_size": 256, "max_position_embeddings": 64,
 "type_vocab_size": 2, "pad_token_id": 0, "layer_norm_eps": 1e-12,
 "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
 "initializer_range": 0.02, "hidden_act": "gelu"}
JSON
xf-mlmstep --eval --init config.json --tokenizer vocab.txt --batch 16 held.tsv >before.tsv
xf-mlmstep --init config.json --tokenizer vocab.txt --steps 250 --batch 16 --lr 2e-3 \
    --warmup 20 --threads 2 --log log.tsv -o model.xfts train.tsv
xf-mlmstep --eval --model model.xfts --batch 16 held.tsv >after.tsv
before=$(awk 'NR == 2 { print $1 }' before.tsv)
after=$(awk 'NR == 2 { print $1 }' after.tsv)
echo "held-out MLM loss: random init $before, after 250 steps $after"
# same masked tokens in both evaluations
test "$(cut -f2,3 before.tsv)" = "$(cut -f2,3 after.tsv)"
awk -v b="$before" -v a="$after" 'BEGIN { exit !(b > 6.0 && a < b - 0.75) }'
