#!/usr/bin/env bash
# The paper's figures without a table of their own, drawn from the hand-made
# tables of tests/cli/score (see its README): Figure 7 (variance --plot),
# Figures 3a/5 (targets --plot: the recipient map), Figure 8 (seen --plot,
# the heatmap), Figure 6 (corr --plot, commonality).  Each is a valid SVG and
# PNG with its title, axis labels and series (language) names; unseen
# languages (langs.tsv: bbb and yyy unseen by mBERT) carry the '*' mark;
# the tables are unchanged by --plot.
set -euo pipefail
G=$(cd "$(dirname "$0")/score" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
L="--languages $G/langs.tsv"

check_svg() {   # FILE TEXT...: valid, complete SVG that draws and names every TEXT
  local f=$1; shift
  [ "$(stat -c %s "$f")" -gt 3000 ] || { echo "FAIL: $f too small"; exit 1; }
  case "$(head -c 200 "$f")" in *'<svg'*|'<?xml'*) ;; *) echo "FAIL: $f is not SVG"; exit 1;; esac
  case "$(tail -c 100 "$f")" in *'</svg>'*) ;; *) echo "FAIL: $f is truncated"; exit 1;; esac
  python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$f" \
    || { echo "FAIL: $f is not well-formed XML"; exit 1; }
  grep -q '<path\|<rect\|<circle' "$f" || { echo "FAIL: $f draws nothing"; exit 1; }
  for t in "$@"; do
    grep -qF -- "$t" "$f" || { echo "FAIL: $f lacks '$t'"; exit 1; }
  done
}
check_png() {
  [ "$(stat -c %s "$1")" -gt 3000 ] || { echo "FAIL: $1 too small"; exit 1; }
  [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || { echo "FAIL: $1 is not PNG"; exit 1; }
}

# Figure 7: box plots per transfer language, sorted by variance (yyy 42.58
# before xxx 16.58 at k=10); yyy is unseen.
xf-score variance $L --steps 10 --plot var.svg "$G/eval.tsv" > var.tsv
cmp var.tsv <(xf-score variance --steps 10 "$G/eval.tsv")
check_svg var.svg 'sorted by variance' 'transfer language (by variance' 'ts (%)' 'yyy*' 'xxx' 'm, pos (upos_acc), 10 steps'
[ "$(grep -o 'yyy\*\|>xxx<' var.svg | head -1)" = 'yyy*' ] || { echo "FAIL: yyy (larger variance) is not first"; exit 1; }
xf-score variance $L --plot var.png "$G/eval.tsv" > /dev/null
check_png var.png

# Figures 3a/5: k=10: aaa 1 of 2 positive -> (40,50]; bbb none -> never;
# ccc both -> universal; bbb is unseen.
xf-score targets $L --steps 10 --plot map.svg "$G/eval.tsv" > map.tsv
cmp map.tsv <(xf-score targets --steps 10 "$G/eval.tsv")
check_svg map.svg 'Recipient transfer map' 'never (0%)' 'universal (100%)' '(40,50]' \
  '% of transfer languages with ts > 0' 'bbb*' 'aaa' 'ccc'
python3 - map.svg <<'PY'
import re, sys
svg = open(sys.argv[1]).read()
# Each target's label sits in the column of its bin: compare x positions.
def x_of(text):
    m = re.search(r'<g transform="translate\(([\d.]+),[\d.]+\)[^>]*>\s*<text[^>]*>(?:<tspan[^>]*>)?' + re.escape(text) + r'<', svg)
    assert m, text
    return float(m.group(1))
assert x_of('bbb*') < x_of('(40,50]') <= x_of('aaa') + 1 and x_of('aaa') < x_of('ccc'), 'bins out of order'
assert abs(x_of('bbb*') - x_of('never (0%)')) < 2 and abs(x_of('ccc') - x_of('universal (100%)')) < 2
PY
xf-score targets --plot map.png "$G/eval.tsv" > /dev/null
check_png map.png

# Figure 8: heatmap, seen before unseen on both axes (target bbb*, transfer yyy*).
xf-score seen $L --steps 10 --plot heat.svg "$G/eval.tsv" > heat.tsv
cmp heat.tsv <(xf-score seen $L --steps 10 "$G/eval.tsv")
check_svg heat.svg 'Transfer x target heatmap' 'target language' 'transfer language' 'ts (%)' 'bbb*' 'yyy*' 'aaa' 'xxx'
xf-score seen $L --by-family --plot heat.png "$G/eval.tsv" > /dev/null
check_png heat.png

# Figure 6: the top 2 of each task in corr_ts.tsv (three tasks).
xf-score corr --top 2 --plot common.svg "$G/corr_ts.tsv" > common.tsv
cmp common.tsv <(xf-score corr "$G/corr_ts.tsv")
check_svg common.svg 'Commonality of the top-2 transfer languages' 'small, 10 steps' '>dep<' '>ner<' '>pos<' 'transfer language'

# Usage: --by-family without seen --plot; ts has no figure.
rc=0; xf-score rank --by-family "$G/eval.tsv" > /dev/null 2>&1 || rc=$?; [ "$rc" -eq 2 ]
rc=0; xf-score ts --plot x.svg "$G/eval.tsv" > /dev/null 2>&1 || rc=$?; [ "$rc" -eq 2 ]
[ ! -e x.svg ]
echo "score_figs: ok"
