#!/usr/bin/env bash
# A tiny BERT pretrained from scratch on UD text (8 languages), shared by the
# tests/real/adapt_*.sh tests: built once per build directory into
# $XF_BIN/../cache/tiny-KEY (vocab.txt, config.json, tiny.xfts; KEY from
# this file's contents, so a changed recipe is rebuilt) and reused.
# Sourced: defines tiny_model (sets TINY to the cache folder).  Run: builds
# it and checks that pretraining lowered the MLM loss below the uniform
# ln(V).  Steps: xf-tokenize --learn-vocab, xf-tokenize --task mlm,
# xf-mlmstep --init CONFIG --init-positions sinusoidal (L=2, d=64; see
# adapt_dep.sh for why sinusoidal).
TINY_LANGS="eng_ewt deu_gsd fra_gsd spa_gsd ita_isdt nld_alpino por_bosque swe_talbanken"

tiny_model() {
  local data=${XF_DATA:?XF_DATA not set} cache
  # keyed by this file's contents: a changed recipe builds a new model
  local key
  key=$(sha1sum "${BASH_SOURCE[0]}" | cut -c1-12)
  cache="$(cd "${XF_BIN:?XF_BIN not set}/.." && pwd)/cache/tiny-$key"
  TINY=$cache
  [ -f "$cache/tiny.xfts" ] && return 0
  local work
  mkdir -p "${cache%/*}"
  work=$(mktemp -d "${cache%/*}/.tinyXXXXXX")
  local l
  for l in $TINY_LANGS; do
    zstd -dc "$data/ud/$l/dev.conllu.zst" | sed -n 's/^# text = //p'
  done > "$work/text.txt"
  xf-tokenize -q --learn-vocab 3000 -o "$work/vocab.txt" "$work/text.txt"
  local V
  V=$(wc -l < "$work/vocab.txt")
  for l in $TINY_LANGS; do
    xf-tokenize -q --tokenizer "$work/vocab.txt" --task mlm --seq 64 --text-from-conllu \
      --lang "${l%_*}" "$data/ud/$l/dev.conllu.zst"
  done > "$work/mlm.tsv"
  cat > "$work/config.json" <<EOF
{"model_type": "bert", "vocab_size": $V, "hidden_size": 64, "num_hidden_layers": 2,
 "num_attention_heads": 2, "intermediate_size": 256, "max_position_embeddings": 256,
 "type_vocab_size": 2, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1}
EOF
  xf-mlmstep -q --init "$work/config.json" --init-positions sinusoidal --tokenizer "$work/vocab.txt" --steps 150 \
    --batch 16 --seq 64 --lr 2e-3 --seed 1 -o "$work/tiny.xfts" "$work/mlm.tsv"
  rm -f "$work/text.txt"
  rm -rf "$cache"
  mv "$work" "$cache"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  tiny_model
  V=$(wc -l < "$TINY/vocab.txt")
  loss=$(xf-mlmstep -q --model "$TINY/tiny.xfts" --tokenizer "$TINY/vocab.txt" --eval "$TINY/mlm.tsv" | awk 'NR == 2 {print $1}')
  echo "tiny model: MLM loss $loss, uniform $(awk -v v="$V" 'BEGIN {print log(v)}')"
  awk -v l="$loss" -v v="$V" 'BEGIN {exit !(l < log(v) - 0.5)}'
fi
