#!/usr/bin/env bash
# xf-score on an eval file of a header only (it used to pass NULL to qsort,
# which UBSan aborts on in the asan run, leaving its temp file behind): every
# command stops cleanly with the diagnosis of issue 15 ("the input has no
# eval rows"), exit 1, and leaves no file at all.
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
  case $c in
    compare) # compare works on eval rows directly: an empty table, exit 0
      [ "$rc" -eq 0 ] || { echo "FAIL: xf-score $c: exit $rc"; cat err; exit 1; }
      [ "$(wc -l < "$c/out.tsv")" -eq 1 ] || { echo "FAIL: xf-score $c: not a header only"; exit 1; }
      [ "$(ls -A "$c")" = out.tsv ] || { echo "FAIL: xf-score $c: left files:"; ls -A "$c"; exit 1; } ;;
    *)
      [ "$rc" -eq 1 ] || { echo "FAIL: xf-score $c on a header-only file: exit $rc"; cat err; exit 1; }
      grep -q 'no transfer scores: the input has no eval rows' err || { echo "FAIL: $c: message"; cat err; exit 1; }
      [ -z "$(ls -A "$c")" ] || { echo "FAIL: xf-score $c: left files:"; ls -A "$c"; exit 1; } ;;
  esac
done
xf-score compare --summary -o s.tsv h.tsv 2>/dev/null
[ "$(wc -l < s.tsv)" -eq 1 ]
echo ok
