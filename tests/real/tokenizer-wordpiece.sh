#!/usr/bin/env bash
# tokenizer-wordpiece.sh — WordPiece on real data.
#  - Oracle: ids equal those of bert_ref.py (an independent Python model of
#    HF BertTokenizerFast) for mBERT cased and uncased on ~20k lines (300
#    per text file, 100 UD sentences per treebank) plus edge cases.
#  - Invariants on every text line and every UD "# text" sentence: no line
#    lost, and decode(encode(x)) equals the normalised text up to
#    whitespace for every line without [UNK]; with mBERT cased, uncased and
#    a vocabulary learned from $XF_DATA/text.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
data=${XF_DATA:-$root/../shared/data}
build=${BUILD:-$(dirname "${XF_BIN:-$root/build/bin}")}
lib=$build/libxf.a
[ -f "$build/cflags" ] || make --no-print-directory BUILD="$build" all >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc $(cat "$build/cflags") -o "$tmp/tok_ids" \
   tests/real/tok_ids.c "$lib" $(cat "$build/ldlibs")

for f in "$data"/text/*.txt.zst; do zstd -dc "$f" | awk 'NR <= 300'; done > "$tmp/text"
for f in "$data"/ud/*/test.conllu.zst; do
  zstd -dc "$f" | awk 'sub(/^# text = /, "")'
done > "$tmp/ud"
cat "$tmp/text" "$tmp/ud" > "$tmp/lines"
total=$(wc -l < "$tmp/lines")

# oracle subset + edge cases (controls, odd spaces, CJK, Greek, specials, long words)
{ cat "$tmp/text"
  for f in "$data"/ud/*/test.conllu.zst; do zstd -dc "$f" | awk 'sub(/^# text = /, "") && ++n <= 100'; done
  printf 'a\x01b a\xc2\xa0b a\xe2\x80\xa8b a\x0bb \xef\xbf\xbd x\xe2\x80\x8by\n'
  printf 'ΣΟΦΊΑ ΟΔΟΣ İstanbul ǅemal ﬁne Ⅻ 東京 \xf0\xab\xa0\xa0\xf0\xab\xa4\xa0 한국어\n'
  printf '[CLS]Hello[SEP] [MASK]! [mask] [UNK]x ¿Qué? «hola» 5€ $5 a\\b\n'
  printf '%0100d %0101d %0150d\n' 0 0 0
} > "$tmp/oracle"
for m in "mbert-cased" "mbert-uncased --lower"; do
  set -- $m
  /usr/bin/python3 tests/real/bert_ref.py ${2:-} "$data/tokenizers/$1/vocab.txt" < "$tmp/oracle" > "$tmp/want"
  "$tmp/tok_ids" ${2:-} "$data/tokenizers/$1/vocab.txt" < "$tmp/oracle" > "$tmp/got"
  paste -d '\n' "$tmp/want" "$tmp/got" | awk -v name="$1" '
    NR % 2 == 1 { want = $0; next }
    { n++ }
    want != $0 { bad++; if (bad <= 3) printf "%s line %d:\n  oracle: %s\n  xf:     %s\n", name, n, want, $0 }
    END { printf "%s: %d oracle lines, %d differ\n", name, n, bad; exit bad > 0 }'
done

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
