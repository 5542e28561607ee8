#!/usr/bin/env bash
# The real-data invariants of tokenize.sh with the released mBERT cased
# vocabulary (119,547 pieces) instead of a learned one; with it [UNK] must be
# rare, so decode(encode(x)) = normalize(x) is checked on nearly every word.
set -euo pipefail
: "${XF_DATA:?}"
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
TOKENIZER="$XF_DATA/tokenizers/mbert-cased" bash "$here/tokenize.sh" | tee "$out"
# "ud: 99 files, S sentences, W words (nli: pairs), U [UNK]": under 1% [UNK] words
awk '$1 == "ud:" || $1 == "ner:" { w = $6; u = $10; if (u > 0.01 * w) { print "too many [UNK]: " $0; exit 1 } n++ }
     END { if (n != 2) { print "summary lines missing"; exit 1 } }' "$out"
