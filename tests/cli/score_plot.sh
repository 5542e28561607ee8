#!/usr/bin/env bash
# xf-score --plot: rank, targets, progress and compare draw non-trivial SVG
# and PNG files with their titles; the TSV is unchanged by --plot; a failing
# gnuplot leaves no file.
set -euo pipefail
G=$(cd "$(dirname "$0")/score" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"

check_svg() {   # FILE TITLE-TEXT
  [ "$(stat -c %s "$1")" -gt 5000 ] || { echo "FAIL: $1 too small"; exit 1; }
  case "$(head -c 200 "$1")" in *'<svg'*|'<?xml'*) ;; *) echo "FAIL: $1 is not SVG"; exit 1;; esac
  case "$(tail -c 100 "$1")" in *'</svg>'*) ;; *) echo "FAIL: $1 is truncated"; exit 1;; esac
  grep -q "$2" "$1" || { echo "FAIL: $1 lacks title '$2'"; exit 1; }
  grep -q '<path\|<rect\|<circle' "$1" || { echo "FAIL: $1 draws nothing"; exit 1; }
}
check_png() {
  [ "$(stat -c %s "$1")" -gt 5000 ] || { echo "FAIL: $1 too small"; exit 1; }
  [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || { echo "FAIL: $1 is not PNG"; exit 1; }
}

for cmd in rank targets progress; do
  xf-score $cmd --plot $cmd.svg "$G/eval.tsv" > $cmd.tsv
  cmp $cmd.tsv "$G/$cmd.expected"
  xf-score $cmd --plot $cmd.png "$G/eval.tsv" > /dev/null
  check_png $cmd.png
done
check_svg rank.svg 'ranked by aggregated transfer'
check_svg targets.svg 'Recipient transfer map'
check_svg progress.svg 'Aggregated transfer through MLM steps'
grep -q 'xxx: m pos' progress.svg   # one panel per transfer language
xf-score compare --summary --plot compare.svg "$G/compare.tsv" > out
cmp out "$G/compare-summary.expected"
check_svg compare.svg 'Languages improved over the base model'
xf-score compare --plot compare.png "$G/compare.tsv" > /dev/null
check_png compare.png

# gnuplot failing: an error, no figure and no temp file left.
rc=0
XF_GNUPLOT=/bin/false xf-score rank --plot bad.svg -o bad.tsv "$G/eval.tsv" 2> err || rc=$?
[ "$rc" -eq 1 ]
grep -q 'bad.svg: gnuplot failed' err
[ -z "$(ls -A | grep bad)" ]
echo "score_plot: ok"
