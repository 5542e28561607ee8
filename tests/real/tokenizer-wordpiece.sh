#!/usr/bin/env bash
# tokenizer-wordpiece.sh — WordPiece invariants on real data: every line of
# the text files and every UD "# text" sentence encodes (no line lost), and
# decode(encode(x)) equals the normalised text up to whitespace for every
# line without [UNK]; with mBERT cased, mBERT uncased (lowercased) and a
# vocabulary learned from $XF_DATA/text.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
data=${XF_DATA:-$root/../shared/data}
build=${BUILD:-$(dirname "${XF_BIN:-$root/build/bin}")}
lib=$build/libxf.a
[ -f "$lib" ] || make --no-print-directory BUILD="$build" "$lib" >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -std=gnu11 -O2 -Ilib -I/usr/include/x86_64-linux-gnu -fopenmp -o "$tmp/tok_ids" \
   tests/real/tok_ids.c "$lib" -lblis -lcsv -lzstd -ljansson -lutf8proc -lm -lpthread

for f in "$data"/text/*.txt.zst; do zstd -dc "$f" | awk 'NR <= 300'; done > "$tmp/text"
for f in "$data"/ud/*/test.conllu.zst; do
  zstd -dc "$f" | awk 'sub(/^# text = /, "")'
done > "$tmp/ud"
cat "$tmp/text" "$tmp/ud" > "$tmp/lines"
total=$(wc -l < "$tmp/lines")

"$tmp/tok_ids" --learn 8000 < "$tmp/text" > "$tmp/learned.txt"
[ "$(wc -l < "$tmp/learned.txt")" -eq 8000 ]
[ "$(head -n 5 "$tmp/learned.txt" | tr '\n' ' ')" = "[PAD] [UNK] [CLS] [SEP] [MASK] " ]
[ "$(sort "$tmp/learned.txt" | uniq -d | wc -l)" -eq 0 ]

check() {  # check NAME ARGS...: no line lost, round trip exact where no [UNK]
  local name=$1; shift
  "$tmp/tok_ids" "$@" < "$tmp/lines" > "$tmp/ids"
  [ "$(wc -l < "$tmp/ids")" -eq "$total" ] || { echo "$name: lines lost"; exit 1; }
  # a non-empty line never encodes to nothing unless it is all whitespace/control
  paste "$tmp/lines" "$tmp/ids" | awk -F '\t' -v name="$name" '
    $1 ~ /[[:alnum:]]/ && $NF == "" { print name ": empty encoding: " $1; bad++ }
    END { exit bad > 0 }'
  read -r _ lines checked failed < <("$tmp/tok_ids" --roundtrip "$@" < "$tmp/lines")
  echo "$name: $lines lines, $checked without [UNK] round-tripped, $failed failed"
  [ "$failed" -eq 0 ] && [ "$checked" -gt $((lines / 2)) ]
}
check mbert-cased "$data/tokenizers/mbert-cased/vocab.txt"
check mbert-uncased --lower "$data/tokenizers/mbert-uncased/vocab.txt"
check learned "$tmp/learned.txt"
