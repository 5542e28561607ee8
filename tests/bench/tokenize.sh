#!/usr/bin/env bash
# xf-tokenize throughput on all of ../shared/data/text (decompressed first, so
# zstd is not timed) with the mBERT cased and uncased vocabularies, MLM
# grouping at --seq 512; output to /dev/null.  xf-tokenize is single-threaded,
# so MB/s is per core (target: >= 10 MB/s for WordPiece).  Prints wall time,
# MB/s and peak RSS (/usr/bin/time -v when present, else xf-tokenize -v).
set -euo pipefail
: "${XF_DATA:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
zstdcat "$XF_DATA"/text/*.txt.zst > "$W/text.txt"
bytes=$(stat -c %s "$W/text.txt")
echo "input: $(ls "$XF_DATA"/text/*.txt.zst | wc -l) files, $bytes bytes, $(wc -l < "$W/text.txt") lines"
for tk in mbert-cased mbert-uncased; do
  T=$XF_DATA/tokenizers/$tk
  # vocabulary loading alone, to separate it from the tokenizing rate
  : > "$W/empty.txt"
  s0=$(date +%s.%N); xf-tokenize -q -t "$T" --task mlm --lang xxx "$W/empty.txt" > /dev/null; s1=$(date +%s.%N)
  if [ -x /usr/bin/time ] && /usr/bin/time -v true 2>/dev/null; then
    s2=$(date +%s.%N)
    /usr/bin/time -v -o "$W/time" xf-tokenize -q -t "$T" --task mlm --lang xxx "$W/text.txt" > /dev/null
    s3=$(date +%s.%N)
    rss="$(awk -F': ' '/Maximum resident/ { printf "%.1f MB", $2 / 1024 }' "$W/time")"
  else
    s2=$(date +%s.%N)
    xf-tokenize -v -t "$T" --task mlm --lang xxx "$W/text.txt" 2> "$W/err" > /dev/null
    s3=$(date +%s.%N)
    rss="$(sed -n 's/.*peak RSS \(.*\)$/\1/p' "$W/err")"
  fi
  awk -v tk="$tk" -v b="$bytes" -v s0="$s0" -v s1="$s1" -v s2="$s2" -v s3="$s3" -v rss="$rss" 'BEGIN {
    load = s1 - s0; all = s3 - s2
    printf "%-14s wall %.2f s (vocab load %.2f s): %.1f MB/s overall, %.1f MB/s tokenizing, peak RSS %s\n",
      tk, all, load, b / 1e6 / all, b / 1e6 / (all - load), rss }'
done
