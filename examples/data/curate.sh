#!/usr/bin/env bash
# Rebuilds the embedded demo data (examples/data) from the shared benchmark
# subset: per language the first 300 sentences of the UD training file (dev
# where the snapshot has no train) as ud/ISO.train.conllu.zst, the first 200
# test sentences as ud/ISO.test.conllu.zst, and the `# text =` lines of the
# training file's sentences 301..1000 (disjoint from both) as raw text
# text/ISO.txt.zst.  Only CC BY-SA 4.0 treebanks (checked in MANIFEST.tsv);
# ATTRIBUTION.tsv names each file's dataset, licence and source commit.
# Usage: bash examples/data/curate.sh [SHARED_DATA]   (default ../shared/data)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${1:-$here/../../../shared/data}
TREEBANKS="eng_ewt deu_gsd fra_gsd rus_gsd fas_seraji kor_gsd wol_wtb kir_ktmu"
mkdir -p "$here/ud" "$here/text"
# first N sentences of a CoNLL-U stream
head_sents() { awk -v n="$1" 'BEGIN { RS = ""; ORS = "\n\n" } NR <= n'; }
printf 'file\tdataset\tlicense\tsource\n' > "$here/ATTRIBUTION.tsv.tmp"
for tb in $TREEBANKS; do
  iso=${tb%%_*}
  train=train; [ -f "$src/ud/$tb/train.conllu.zst" ] || train=dev
  for split in $train test; do
    lic=$(awk -F'\t' -v p="ud/$tb/$split.conllu.zst" '$1 == p { print $7 }' "$src/MANIFEST.tsv")
    [ "$lic" = "CC BY-SA 4.0" ] || { echo "curate: ud/$tb/$split: licence '$lic' is not CC BY-SA 4.0" >&2; exit 1; }
    awk -F'\t' -v p="ud/$tb/$split.conllu.zst" -v f="ud/$iso.${split/dev/train}.conllu.zst" \
      '$1 == p { print f "\t" $5 " (" $4 ")\t" $7 "\thttps://github.com/" $5 " " $6 }' \
      "$src/MANIFEST.tsv" >> "$here/ATTRIBUTION.tsv.tmp"
  done
  zstd -dc "$src/ud/$tb/$train.conllu.zst" | head_sents 300 | zstd -q -19 -f -o "$here/ud/$iso.train.conllu.zst"
  zstd -dc "$src/ud/$tb/test.conllu.zst" | head_sents 200 | zstd -q -19 -f -o "$here/ud/$iso.test.conllu.zst"
  zstd -dc "$src/ud/$tb/$train.conllu.zst" | head_sents 1000 \
    | awk 'BEGIN { RS = ""; FS = "\n" } NR > 300 { for (i = 1; i <= NF; i++) if ($i ~ /^# text = /) { sub(/^# text = /, "", $i); print $i } }' \
    | zstd -q -19 -f -o "$here/text/$iso.txt.zst"
  awk -F'\t' -v p="ud/$tb/$train.conllu.zst" -v f="text/$iso.txt.zst" \
    '$1 == p { print f "\t" $5 " (" $4 "), # text of sentences 301-1000\t" $7 "\thttps://github.com/" $5 " " $6 }' \
    "$src/MANIFEST.tsv" >> "$here/ATTRIBUTION.tsv.tmp"
done
mv "$here/ATTRIBUTION.tsv.tmp" "$here/ATTRIBUTION.tsv"
