#!/usr/bin/env bash
# xf-score on an eval file of a header only: every command writes its header
# and exits 0 (it used to pass NULL to qsort, which UBSan aborts on in the
# asan run, leaving its temp file behind).
set -euo pipefail
G=$(cd "$(dirname "$0")/score" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
head -n 1 "$G/eval.tsv" > h.tsv
for c in ts rank variance targets seen corr progress compare; do
  mkdir "$c"
  rc=0
  xf-score "$c" --languages "$G/langs.tsv" -o "$c/out.tsv" h.tsv 2> err || rc=$?
  [ "$rc" -eq 0 ] || { echo "FAIL: xf-score $c on a header-only file: exit $rc"; cat err; exit 1; }
  [ "$(wc -l < "$c/out.tsv")" -eq 1 ] || { echo "FAIL: xf-score $c: not a header only"; cat "$c/out.tsv"; exit 1; }
  [ "$(ls -A "$c")" = out.tsv ] || { echo "FAIL: xf-score $c: left files:"; ls -A "$c"; exit 1; }
done
# the same with the compare summary and a plot of no data
xf-score compare --summary -o s.tsv h.tsv 2>/dev/null
[ "$(wc -l < s.tsv)" -eq 1 ]
echo ok
