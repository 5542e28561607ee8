#!/usr/bin/env bash
# tokenize-lib.sh — WordPiece (mBERT cased and uncased) and Unigram (t5)
# encoding throughput of the library, one core, on all of $XF_DATA/text
# (lines already in memory; MB/s of input text).  Timings on a shared
# machine are noisy.
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
zstd -dcq "$data"/text/*.txt.zst > "$tmp/text"
tk=$data/tokenizers
run() {  # run NAME ARGS...
  local name=$1; shift
  /usr/bin/time -f "%M" -o "$tmp/rss" "$tmp/tok_ids" --bench "$@" < "$tmp/text" > "$tmp/out"
  read -r _ bytes secs toks < "$tmp/out"
  awk -v n="$name" -v b="$bytes" -v s="$secs" -v t="$toks" -v r="$(cat "$tmp/rss")" \
    'BEGIN { printf "%-14s %6.2f MB in %6.3f s: %6.2f MB/s, %d tokens, peak RSS %d KiB\n", n, b/1e6, s, b/1e6/s, t, r }'
}
run mbert-cased "$tk/mbert-cased/vocab.txt"
run mbert-uncased --lower "$tk/mbert-uncased/vocab.txt"
run t5-unigram "$tk/t5-small/tokenizer.json"
