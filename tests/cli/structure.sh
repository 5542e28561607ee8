#!/usr/bin/env bash
# Every call points down (issue 11, item 7): the helper objects of a layer
# reference no symbol defined by the files above them, checked on the built
# objects with nm(1).
#   lib/text: tokenizer.c > wordpiece.c unigram.c tok_json.c wordpiece_learn.c
#             > tok_common.c charsmap.c
#   lib/data: exwriter.c > the readers (mlm_text.c, read_*.c) > read_common.c
set -euo pipefail
obj=$(cd "$XF_BIN/../lib" && pwd)
fail() { echo "FAIL: $*"; exit 1; }
defs() { for o in "$@"; do nm --defined-only "$obj/$o.o" | awk '$2 ~ /^[TDBR]$/ {print $3}'; done | sort -u; }
# below LOWER... -- UPPER...: no undefined symbol of a LOWER object is defined by an UPPER one
below() {
  local lower=() upper=() seen=0 o
  for o in "$@"; do
    if [ "$o" = -- ]; then seen=1; elif [ $seen = 0 ]; then lower+=("$o"); else upper+=("$o"); fi
  done
  defs "${upper[@]}" > up.txt
  for o in "${lower[@]}"; do
    [ -f "$obj/$o.o" ] || fail "$obj/$o.o missing"
    nm -u "$obj/$o.o" | awk '{print $2}' | sort -u > need.txt
    if comm -12 need.txt up.txt | grep -q .; then
      fail "$o.c calls up into $(comm -12 need.txt up.txt | tr '\n' ' ')(defined by ${upper[*]})"
    fi
  done
}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
below text/tok_common text/charsmap -- text/tokenizer text/wordpiece text/unigram text/tok_json text/wordpiece_learn
below text/wordpiece text/unigram text/tok_json text/wordpiece_learn -- text/tokenizer
below data/read_common -- data/exwriter data/mlm_text data/read_conllu data/read_iob data/read_nli data/read_squad data/read_examples
below data/mlm_text data/read_conllu data/read_iob data/read_nli data/read_squad data/read_examples -- data/exwriter
echo ok
