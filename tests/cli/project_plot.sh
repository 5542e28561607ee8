#!/usr/bin/env bash
# xf-project --plot: the projection (Figure 4) and the summary bars
# (Figure 2) as SVG and PNG with their titles and language labels; the
# TSV is unchanged by --plot; a failing gnuplot leaves no file.
set -euo pipefail
G=$(cd "$(dirname "$0")/project" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
check_svg() {   # FILE TEXT...
  local f=$1; shift
  [ "$(stat -c %s "$f")" -gt 5000 ] || { echo "FAIL: $f too small"; exit 1; }
  case "$(head -c 200 "$f")" in *'<svg'*|'<?xml'*) ;; *) echo "FAIL: $f is not SVG"; exit 1;; esac
  case "$(tail -c 100 "$f")" in *'</svg>'*) ;; *) echo "FAIL: $f is truncated"; exit 1;; esac
  for s in "$@"; do grep -q -- "$s" "$f" || { echo "FAIL: $f lacks '$s'"; exit 1; }; done
  grep -q '<path\|<rect\|<circle' "$f" || { echo "FAIL: $f draws nothing"; exit 1; }
}
check_png() {
  [ "$(stat -c %s "$1")" -gt 5000 ] || { echo "FAIL: $1 too small"; exit 1; }
  [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || { echo "FAIL: $1 is not PNG"; exit 1; }
}
xf-project --plot proj.svg "$G/eval.tsv" > t.tsv
cmp t.tsv "$G/project.expected"
check_svg proj.svg 'Language interference projection' 'tiny pos (upos_acc): bilingual' \
  'tiny dep (las): trilingual' 'colour = sign of C' 'C gains (+C)' 'C loses (-C)' \
  'x: interference A receives' '>amh<' '>zho<' 'eng,hin'
xf-project --plot proj.png "$G/eval.tsv" > /dev/null
check_png proj.png
xf-project summary --plot sum.svg "$G/eval.tsv" > s.tsv
cmp s.tsv "$G/summary.expected"
check_svg sum.svg 'Mean improvement over the base' '\[1A\]' '\[3A\]' 'tiny/pos' 'tiny/dep'
xf-project summary --plot sum.png "$G/eval.tsv" > /dev/null
check_png sum.png
# only bilingual rows: the trilingual panel says so
xf-project --plot worked.svg "$G/worked.tsv" > /dev/null
check_svg worked.svg 'no trilingual points' '>ara<'
# gnuplot failing: an error, no figure, no table, no temp file
rc=0
XF_GNUPLOT=/bin/false xf-project --plot bad.svg -o bad.tsv "$G/eval.tsv" 2> err || rc=$?
[ "$rc" -eq 1 ]
grep -q 'bad.svg: gnuplot failed' err
[ -z "$(ls -A | grep bad)" ]
echo "project_plot: ok"
