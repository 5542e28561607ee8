#!/usr/bin/env bash
# A short tour of the separate tools on bundled inputs (make tour): learn a WordPiece vocabulary,
# tokenize a CoNLL-U file for POS tagging, look at the example stream, pretrain
# a tiny encoder for a few masked-LM steps, and score a small eval table.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export PATH="${XF_BIN:-$here/../build/bin}:$PATH"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

say() { printf '\n== %s\n' "$*"; }

say "learn a 200-piece WordPiece vocabulary from examples/sample.txt"
xf-tokenize --learn-vocab 200 -o "$work/vocab.txt" "$here/sample.txt"
echo "$(wc -l < "$work/vocab.txt") pieces; a few: $(sed -n '120,128p' "$work/vocab.txt" | tr '\n' ' ')"

say "tokenize examples/sample.conllu for POS tagging (example stream, xf-tsv(5))"
xf-tokenize --tokenizer "$work/vocab.txt" --task pos --lang eng -o "$work/pos.tsv.zst" "$here/sample.conllu"
zstdcat "$work/pos.tsv.zst" | cut -f1-5,7 | column -t -s $'\t' | cut -c1-150

say "decode it back into readable subwords"
xf-tokenize --decode --tokenizer "$work/vocab.txt" "$work/pos.tsv.zst" | column -t -s $'\t' | cut -c1-150

say "pretrain a tiny encoder from scratch for 60 masked-LM steps (xf-mlmstep --init)"
cat > "$work/config.json" <<JSON
{"model_type": "bert", "vocab_size": $(wc -l < "$work/vocab.txt"), "hidden_size": 32,
 "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
 "max_position_embeddings": 64, "type_vocab_size": 2, "pad_token_id": 0,
 "layer_norm_eps": 1e-12, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
 "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02}
JSON
xf-tokenize --tokenizer "$work/vocab.txt" --task mlm --lang eng --seq 32 -o "$work/mlm.tsv" "$here/sample.txt"
xf-mlmstep --init "$work/config.json" --tokenizer "$work/vocab.txt" --steps 60 --batch 4 --lr 3e-3 --seed 1 \
  --log "$work/log.tsv" -o "$work/tiny.xfts" "$work/mlm.tsv"
awk -F'\t' 'NR > 1 && (NR == 2 || (NR - 1) % 10 == 0) { printf "step %s  lr %s  loss %s\n", $1, $2, $3 }' "$work/log.tsv"

say "transfer scores and the ranking of transfer languages from a small eval table"
xf-score ts --boot 0 "$here/eval-sample.tsv" | column -t -s $'\t'
xf-score rank "$here/eval-sample.tsv" | column -t -s $'\t'
echo
echo "done: see man -l man/xf.7 for the whole pipeline"
